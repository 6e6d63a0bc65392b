"""Naming-rule pages: the brand's rules (``naming.view``), the rule editor with its live
tester, reset to the install default (``naming.manage``), the tester, the builder and the
bulk check (``naming.view``), and the install-wide defaults (admins, ``naming.defaults``,
mounted at ``/naming-defaults/`` by ``default_urlpatterns``).

Views parse, authorise (``policies``), call ``rules`` / the engine / the services and
render. The editor and the defaults editor share ``_editor`` and one template of fields
(``taxonomy/naming_editor.html``); the tester fragments come from
``taxonomy/naming_results.html``.
"""

from __future__ import annotations

import csv
import io
import secrets
from typing import Any

from django.contrib import messages
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from koastops.accounts import policies
from koastops.accounts.http import AuthenticatedRequest
from koastops.accounts.models import Role
from koastops.catalog.models import Brand
from koastops.core.csvexport import neutralise_cell
from koastops.core.exceptions import StaleVersion
from koastops.core.htmx import (
    HTMX_VARY,
    render_page,
    saved_response,
    wants_fragment,
)
from koastops.core.links import fast_reverse
from koastops.taxonomy import naming_forms, rules, services
from koastops.taxonomy.catalogue import NAMING_LEVELS
from koastops.taxonomy.naming import BuildError, CompiledRule, Result, SpecError

EDITOR = "taxonomy/naming_editor.html"
RESULTS = "taxonomy/naming_results.html"
BULK_SHOWN = 500  # rows shown on the page; the CSV has them all
BULK_CACHE_SECONDS = 30 * 60


def _level(level: str) -> str:
    if level not in NAMING_LEVELS:
        raise Http404("No such naming level.")
    return level


def _render(
    request: AuthenticatedRequest,
    page: str,
    context: dict[str, Any],
    *,
    fragment: str | None = None,
    status: int = 200,
) -> HttpResponse:
    """The page, or (htmx swapping one region) only ``fragment`` — a ``template#partial``
    that may live in an included template."""
    name = fragment if fragment and wants_fragment(request) else page
    response = render(request, name, context, status=status)
    patch_vary_headers(response, HTMX_VARY)
    return response


# --- result rows (tester, bulk) --------------------------------------------------------------


def result_rows(rule: CompiledRule, result: Result) -> list[dict[str, Any]]:
    """One row per token in template order (ok with its value, or each of its errors),
    then whole-name problems: what the tester's table shows."""
    by_token: dict[str, list[Any]] = {}
    for error in result.errors:
        by_token.setdefault(error.token, []).append(error)
    rows: list[dict[str, Any]] = [
        {"token": error.token, "ok": False, "error": error, "value": error.value}
        for error in by_token.pop("(name)", []) + by_token.pop("(structure)", [])
    ]
    for info in rule.describe():
        errors = by_token.pop(info.token, [])
        if errors:
            rows.extend(
                {"token": info.token, "ok": False, "error": e, "value": e.value} for e in errors
            )
        elif info.token in result.tokens:
            rows.append(
                {
                    "token": info.token,
                    "ok": True,
                    "value": result.tokens[info.token],
                    "expected": info.expected,
                }
            )
    for errors in by_token.values():
        rows.extend({"token": e.token, "ok": False, "error": e, "value": e.value} for e in errors)
    return rows


def _tested(rule: CompiledRule | None, name: str) -> dict[str, Any] | None:
    if rule is None or not name:
        return None
    result = rule.validate(name)
    return {"result": result, "rows": result_rows(rule, result)}


# --- the rules page --------------------------------------------------------------------------


@require_GET
@policies.brand_capability("naming.view")
def naming(request: AuthenticatedRequest, *, brand: Brand, role: Role | None) -> HttpResponse:
    can_manage = policies.can(request.user, "naming.manage", brand, role=role)
    levels = [
        {
            "item": item,
            "tokens": rules.token_rows(item.compiled) if item.compiled else [],
            "edit_url": fast_reverse("taxonomy:naming_edit", (brand.slug, item.level)),
            "reset_url": fast_reverse("taxonomy:naming_reset", (brand.slug, item.level)),
        }
        for item in rules.level_rules(brand)
    ]
    context = {
        "brand": brand,
        "levels": levels,
        "can_manage": can_manage,
        "can_edit_defaults": policies.can(request.user, "naming.defaults"),
        "tab": "naming",
    }
    return render_page(request, "taxonomy/naming_rules.html", context)


# --- the editor (a brand's rule, or an install default) -------------------------------------


def _editor_urls(brand: Brand | None, level: str) -> dict[str, str]:
    if brand is None:
        return {
            "edit_url": reverse("taxonomy_defaults:edit", args=[level]),
            "test_url": reverse("taxonomy_defaults:test", args=[level]),
            "back_url": reverse("taxonomy_defaults:list"),
        }
    return {
        "edit_url": reverse("taxonomy:naming_edit", args=[brand.slug, level]),
        "test_url": reverse("taxonomy:naming_edit_test", args=[brand.slug, level]),
        "back_url": reverse("taxonomy:naming", args=[brand.slug]),
    }


def _editor_initial(item: rules.LevelRule, brand: Brand | None) -> dict[str, Any]:
    """The form starts from the rule that applies now (the default, when overriding it;
    a starter rule with the brand's markets when there is none); its version is the own
    rule's (the brand's, or the default's on the defaults page; None: the save creates it)."""
    spec = item.rule.spec if item.rule is not None else rules.starter_spec(brand)
    own = item.own if brand is not None else item.default
    return naming_forms.spec_initial(spec) | {"version": own.version if own is not None else None}


def _wire(form: naming_forms.RuleForm, urls: dict[str, str]) -> None:
    """htmx on the editor: the template and each kind re-read the token rows on change
    (nothing saved), the "Try a name" input is tested as one types (debounced)."""
    refresh = {
        "hx-post": urls["edit_url"],
        "hx-trigger": "change",
        "hx-vals": '{"action": "refresh"}',
        "hx-target": "#token-rows",
        "hx-select": "#token-rows",
        "hx-swap": "outerHTML",
    }
    form.fields["template"].widget.attrs.update(refresh)
    for name in form.tokens:
        form.fields[f"tok-{name}-kind"].widget.attrs.update(refresh)
    form.fields["try_name"].widget.attrs.update(
        {
            "hx-post": urls["test_url"],
            # As one types the name, and again when any field of the rule changes.
            "hx-trigger": (
                "input changed delay:300ms, change from:closest form delay:100ms,"
                " naming-rule-refreshed from:body"
            ),
            "hx-target": "#tester-results",
            "hx-swap": "innerHTML",
            # The newest check runs after the one in flight (no abort: the last answer
            # shown is always for the form as it is now).
            "hx-sync": "this:queue last",
        }
    )


def _editor_context(
    brand: Brand | None, item: rules.LevelRule, form: naming_forms.RuleForm, **extra: Any
) -> dict[str, Any]:
    urls = _editor_urls(brand, item.level)
    _wire(form, urls)
    return {
        "brand": brand,
        "item": item,
        "level": item.level,
        "level_label": item.label,
        "form": form,
        "groups": form.token_groups(),
        "kind_labels": naming_forms.KIND_LABELS,
        "tab": "naming",
        **urls,
        **extra,
    }


def _stale_notice(item: rules.LevelRule, brand: Brand | None) -> dict[str, Any]:
    rule = item.own if brand is not None else item.default
    if rule is None:
        return {"actor": "someone", "at": None, "removed": True}
    actor = rule.updated_by.email if rule.updated_by is not None else "someone"
    return {"actor": actor, "at": rule.updated_at, "removed": False}


def _editor(
    request: AuthenticatedRequest, brand: Brand | None, level: str, page: str
) -> HttpResponse:
    item = rules.level_rule(brand, level)
    data = request.POST if request.method == "POST" else None
    action = request.POST.get("action", "save") if data is not None else None
    if data is None or action == "refresh":
        form = naming_forms.rule_form(data, initial=_editor_initial(item, brand), refresh=True)
        response = _render(
            request,
            page,
            _editor_context(brand, item, form),
            fragment=f"{EDITOR}#rule-form",
        )
        if data is not None and request.htmx:
            # New token rows are in: the live tester checks the name against them.
            response["HX-Trigger-After-Settle"] = "naming-rule-refreshed"
        return response
    # The name being tried is no part of the rule: whatever it holds never blocks a save.
    posted = data.copy()
    posted.pop("try_name", None)
    form = naming_forms.rule_form(posted, initial={})
    status = 422
    extra: dict[str, Any] = {}
    valid = form.is_valid()
    spec = form.spec()
    if not valid or form.errors:
        # Say everything at once: the engine's findings on what could be read, too.
        try:
            rules.compile_document(spec)
        except SpecError as exc:
            form.add_spec_errors(ValidationError(_grouped(exc)), only_new=True)
    else:
        try:
            services.naming_rule_save(
                user=request.user,
                brand=brand,
                level=level,
                spec=spec,
                expected_version=form.cleaned_data.get("version"),
            )
        except ValidationError as exc:
            form.add_spec_errors(exc)
        except StaleVersion:
            item = rules.level_rule(brand, level)
            extra["stale"] = _stale_notice(item, brand)
            form = naming_forms.rule_form(None, initial=_editor_initial(item, brand))
            status = 409 if request.htmx else 200
        else:
            where = "install default" if brand is None else "naming rule"
            return saved_response(
                request, _editor_urls(brand, level)["back_url"], f"{item.label} {where} saved."
            )
    return _render(
        request,
        page,
        _editor_context(brand, item, form, **extra),
        fragment=f"{EDITOR}#rule-form",
        status=status,
    )


def _editor_test(
    request: AuthenticatedRequest, brand: Brand | None, level: str, page: str
) -> HttpResponse:
    """The live tester: the name in ``try_name`` against the rule as the form holds it."""
    item = rules.level_rule(brand, level)
    form = naming_forms.rule_form(request.POST, initial={})
    problems: list[str] = []
    rule: CompiledRule | None = None
    valid = form.is_valid()
    spec = form.spec()
    try:
        compiled_rule = rules.compile_document(spec)
    except SpecError as exc:
        form.add_spec_errors(ValidationError(_grouped(exc)), only_new=True)
    else:
        rule = compiled_rule if valid and not form.errors else None
    if rule is None:
        problems = [
            f"{form[name].label if name in form.fields else 'Rule'}: {message}"
            for name, errors in form.errors.items()
            for message in errors
        ]
    name = form.cleaned_data.get("try_name", "") if hasattr(form, "cleaned_data") else ""
    context = _editor_context(
        brand,
        item,
        form,
        tested=_tested(rule, name),
        problems=problems,
        try_name=name,
    )
    return _render(request, page, context, fragment=f"{RESULTS}#results")


def _grouped(exc: SpecError) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for path_, message in exc.errors:
        grouped.setdefault(f"spec.{path_}" if path_ else "spec", []).append(message)
    return grouped


@require_http_methods(["GET", "POST"])
@policies.brand_capability("naming.manage")
def naming_edit(
    request: AuthenticatedRequest, level: str, *, brand: Brand, role: Role | None
) -> HttpResponse:
    return _editor(request, brand, _level(level), "taxonomy/naming_edit.html")


@require_POST
@policies.brand_capability("naming.manage")
def naming_edit_test(
    request: AuthenticatedRequest, level: str, *, brand: Brand, role: Role | None
) -> HttpResponse:
    return _editor_test(request, brand, _level(level), "taxonomy/naming_edit.html")


@require_POST
@policies.brand_capability("naming.manage")
def naming_reset(
    request: AuthenticatedRequest, level: str, *, brand: Brand, role: Role | None
) -> HttpResponse:
    level = _level(level)
    url = reverse("taxonomy:naming", args=[brand.slug])
    label = NAMING_LEVELS[level]
    version = request.POST.get("version", "")
    if not (version.isascii() and version.isdigit() and len(version) <= 9):
        messages.error(
            request, f"Nothing was reset: the {label.lower()} rule's version is missing."
        )
        return redirect(url)
    try:
        services.naming_rule_reset(
            user=request.user, brand=brand, level=level, expected_version=int(version)
        )
    except StaleVersion:
        messages.warning(
            request,
            f"Nothing was reset: the {label.lower()} rule changed meanwhile. "
            "Check it below and try again.",
        )
        return redirect(url)
    item = rules.level_rule(brand, level)
    fallback = "the install default applies again" if item.default else "the level has no rule now"
    return saved_response(request, url, f"{label} naming rule reset: {fallback}.")


# --- tester, builder, bulk ---------------------------------------------------------------------


def _usable(brand: Brand) -> dict[str, CompiledRule]:
    """The levels names can be checked at (a rule that compiles), with their rule."""
    return {
        item.level: item.compiled for item in rules.level_rules(brand) if item.compiled is not None
    }


def _pick_level(usable: dict[str, CompiledRule], wanted: str | None) -> str | None:
    if wanted in usable:
        return wanted
    return next(iter(usable), None)


@require_GET
@policies.brand_capability("naming.view")
def naming_test(request: AuthenticatedRequest, *, brand: Brand, role: Role | None) -> HttpResponse:
    usable = _usable(brand)
    bound = "name" in request.GET or "level" in request.GET
    form = naming_forms.TesterForm(request.GET if bound else None, levels=usable)
    tested = None
    if bound and form.is_valid():
        level = form.cleaned_data["level"]
        tested = _tested(usable[level], form.cleaned_data["name"])
    context = {
        "brand": brand,
        "form": form,
        "usable": usable,
        "tested": tested,
        "try_name": form.cleaned_data.get("name", "") if bound and form.is_valid() else "",
        "tab": "naming",
    }
    return _render(request, "taxonomy/naming_test.html", context, fragment=f"{RESULTS}#results")


@require_GET
@policies.brand_capability("naming.view")
def naming_build(request: AuthenticatedRequest, *, brand: Brand, role: Role | None) -> HttpResponse:
    usable = _usable(brand)
    level = _pick_level(usable, request.GET.get("level"))
    rule = usable[level] if level else None
    building = "build" in request.GET and level is not None
    data = request.GET if building else None
    form = naming_forms.BuilderForm(data, initial={"level": level}, levels=usable, rule=rule)
    built = None
    status = 200
    if building and form.is_valid() and rule is not None:
        try:
            built = rule.build(form.values())
        except BuildError as exc:
            status = 422
            for error in exc.errors:
                key = f"tok-{error.token}"
                form.add_error(key if key in form.fields else None, error.message)
    context = {
        "brand": brand,
        "form": form,
        "usable": usable,
        "level": level,
        "built": built,
        "tab": "naming",
    }
    return _render(
        request,
        "taxonomy/naming_build.html",
        context,
        fragment="taxonomy/naming_build.html#builder",
        status=status,
    )


def _bulk_key(request: AuthenticatedRequest, brand: Brand, token: str) -> str:
    return f"naming-bulk:{request.user.pk}:{brand.pk}:{token}"


def _bulk_csv(rule: CompiledRule, rows: list[tuple[int, str]], level: str) -> HttpResponse:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["row", "name", "valid", "errors", "suggestions", "corrected"])
    results = rule.validate_many(name for _, name in rows)
    for (number, _), result in zip(rows, results, strict=True):
        cells = [
            str(number),
            result.name,
            "yes" if result.valid else "no",
            "; ".join(e.message for e in result.errors),
            "; ".join(f"{e.token}: {e.suggestion}" for e in result.errors if e.suggestion),
            result.corrected or "",
        ]
        writer.writerow([neutralise_cell(cell) for cell in cells])
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="naming-check-{level}.csv"'
    return response


@require_http_methods(["GET", "POST"])
@policies.brand_capability("naming.view")
def naming_bulk(request: AuthenticatedRequest, *, brand: Brand, role: Role | None) -> HttpResponse:
    usable = _usable(brand)
    context: dict[str, Any] = {"brand": brand, "usable": usable, "tab": "naming"}
    status = 200
    if request.method == "POST" and request.POST.get("download"):
        stored = cache.get(_bulk_key(request, brand, request.POST["download"][:64]))
        rule = usable.get(stored["level"]) if isinstance(stored, dict) else None
        if stored and rule is not None:
            return _bulk_csv(rule, stored["rows"], stored["level"])
        context["expired"] = True
        form = naming_forms.BulkForm(levels=usable)
    elif request.method == "POST":
        form = naming_forms.BulkForm(request.POST, request.FILES, levels=usable)
        if form.is_valid():
            level = form.cleaned_data["level"]
            rule = usable[level]
            results = rule.validate_many(name for _, name in form.rows)
            valid = sum(1 for r in results if r.valid)
            only_invalid = form.cleaned_data["only_invalid"]
            shown = [
                {"number": number, "result": result}
                for (number, _), result in zip(form.rows, results, strict=True)
                if not (only_invalid and result.valid)
            ]
            token = secrets.token_urlsafe(16)
            cache.set(
                _bulk_key(request, brand, token),
                {"level": level, "rows": form.rows},
                BULK_CACHE_SECONDS,
            )
            context |= {
                "checked": {
                    "level": level,
                    "label": NAMING_LEVELS[level],
                    "total": len(results),
                    "valid": valid,
                    "invalid": len(results) - valid,
                    "rows": shown[:BULK_SHOWN],
                    "matching": len(shown),
                    "capped": len(shown) > BULK_SHOWN,
                    "only_invalid": only_invalid,
                    "download": token,
                }
            }
        else:
            status = 422
    else:
        form = naming_forms.BulkForm(levels=usable)
    context["form"] = form
    context["shown_limit"] = BULK_SHOWN
    return render_page(request, "taxonomy/naming_bulk.html", context, status=status)


# --- install-wide defaults (admins) ----------------------------------------------------------


@policies.admin_required
@require_GET
def defaults_list(request: AuthenticatedRequest) -> HttpResponse:
    policies.require(policies.can(request.user, "naming.defaults"))
    levels = [
        {
            "item": item,
            "tokens": rules.token_rows(item.compiled) if item.compiled else [],
            "edit_url": reverse("taxonomy_defaults:edit", args=[item.level]),
        }
        for item in rules.default_level_rules()
    ]
    return render(request, "taxonomy/naming_defaults.html", {"levels": levels})


@policies.admin_required
@require_http_methods(["GET", "POST"])
def defaults_edit(request: AuthenticatedRequest, level: str) -> HttpResponse:
    policies.require(policies.can(request.user, "naming.defaults"))
    return _editor(request, None, _level(level), "taxonomy/naming_default_edit.html")


@policies.admin_required
@require_POST
def defaults_test(request: AuthenticatedRequest, level: str) -> HttpResponse:
    policies.require(policies.can(request.user, "naming.defaults"))
    return _editor_test(request, None, _level(level), "taxonomy/naming_default_edit.html")


urlpatterns: list[URLPattern] = [
    path("naming/", naming, name="naming"),
    path("naming/test/", naming_test, name="naming_test"),
    path("naming/build/", naming_build, name="naming_build"),
    path("naming/bulk/", naming_bulk, name="naming_bulk"),
    path("naming/<slug:level>/edit/", naming_edit, name="naming_edit"),
    path("naming/<slug:level>/test/", naming_edit_test, name="naming_edit_test"),
    path("naming/<slug:level>/reset/", naming_reset, name="naming_reset"),
]

# Mounted by koastops/urls.py at naming-defaults/ (namespace taxonomy_defaults).
default_urlpatterns: list[URLPattern] = [
    path("", defaults_list, name="list"),
    path("<slug:level>/edit/", defaults_edit, name="edit"),
    path("<slug:level>/test/", defaults_test, name="test"),
]
