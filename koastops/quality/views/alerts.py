"""Alert pages under ``brands/<slug>/quality/``: the alerts (open first, then history),
the rules, and the rule form (ops leads). Thin: parse, authorise through the policies,
call a selector or service, render. Pixels are named only when the user may see them
(``alert_selectors`` scopes both lists through ``policies.pixels_for``)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.urls import path, reverse
from django.utils.safestring import SafeString
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from koastops.accounts import policies
from koastops.accounts.http import AuthenticatedRequest
from koastops.accounts.models import Role
from koastops.catalog.models import Brand
from koastops.core.exceptions import StaleVersion
from koastops.core.forms import add_service_error
from koastops.core.htmx import reload_with_message, render_page, saved_response
from koastops.core.pagination import paginate
from koastops.core.templatetags import ui
from koastops.quality import alert_selectors, alert_services, alerting
from koastops.quality.alert_forms import KIND_FILTERS, AlertFilterForm, AlertRuleForm
from koastops.quality.models import Alert, AlertKind, AlertRule, AlertStatus

KIND_LABELS: dict[str, str] = dict(AlertKind.choices)
KIND_TONES: dict[str, str] = {
    AlertKind.SILENT: "failing",
    AlertKind.CONNECTION_BROKEN: "failing",
    AlertKind.VOLUME_DROP: "warning",
    AlertKind.EMQ_BELOW: "warning",
    AlertKind.DEDUP_BELOW: "warning",
    AlertKind.DISCREPANCY: "warning",
}
UNITS: dict[str, str] = {
    AlertKind.SILENT: " h",
    AlertKind.VOLUME_DROP: "%",
    AlertKind.DEDUP_BELOW: "%",
    AlertKind.DISCREPANCY: "%",
    AlertKind.EMQ_BELOW: "",
}


def _kind_badge(kind: str) -> SafeString:
    return ui.status_badge(tone=KIND_TONES.get(kind, "unknown"), label=KIND_LABELS.get(kind, kind))


def _number(value: Any, kind: str) -> str:
    if value is None:
        return ""
    return f"{value.normalize():f}{UNITS.get(kind, '')}"


def _subject(pixel_name: str | None, event: str) -> str:
    if pixel_name and event:
        return f"{event} on {pixel_name}"
    return pixel_name or (f"{event} (brand)" if event else "The brand")


# --- alerts ---------------------------------------------------------------------------------


def _alert_row(alert: Alert) -> dict[str, Any]:
    return {
        "badge": _kind_badge(alert.kind),
        "subject": _subject(alert.pixel.name if alert.pixel else None, alert.event),
        "message": alert.message,
        "value": _number(alert.value, alert.kind),
        "threshold": _number(alert.threshold, alert.kind),
        "is_open": alert.status == AlertStatus.OPEN,
        "state": ui.status_badge(
            tone="failing" if alert.status == AlertStatus.OPEN else "ok",
            label=alert.get_status_display(),
        ),
        "opened_at": alert.opened_at,
        "last_seen_at": alert.last_seen_at,
        "resolved_at": alert.resolved_at,
        "webhook_status": alert.webhook_status,
    }


@require_GET
@policies.brand_capability("quality.view")
def alert_list(request: AuthenticatedRequest, *, brand: Brand, role: Role | None) -> HttpResponse:
    search, status, kind = AlertFilterForm(request.GET).values()
    alerts = alert_selectors.alert_list(
        user=request.user, brand=brand, role=role, status=status, kind=kind, search=search
    )
    page = paginate(request, alerts)
    rows = [_alert_row(alert) for alert in page]
    context = {
        "brand": brand,
        "tab": "quality",
        "page": page,
        "rows": rows,
        "q": search,
        "status": status,
        "kind": kind,
        "status_filters": alert_selectors.STATUS_FILTERS,
        "kind_filters": KIND_FILTERS,
        "can_manage": policies.can(request.user, "quality.manage", brand, role=role),
    }
    return render_page(request, "quality/alerts.html", context, partial="alert-table")


# --- rules ----------------------------------------------------------------------------------


def _rule_row(brand: Brand, rule: AlertRule, can_manage: bool) -> dict[str, Any]:
    host = urlsplit(rule.webhook_url).hostname if rule.webhook_url else ""
    return {
        "pk": rule.pk,
        "badge": _kind_badge(rule.kind),
        "kind_label": KIND_LABELS.get(rule.kind, rule.kind),
        "threshold": _number(rule.threshold, rule.kind)
        or ("the brand's tolerance band" if rule.kind == AlertKind.DISCREPANCY else "—"),
        "event": rule.event or "Every key event",
        "uses_event": rule.kind in alert_services.EVENT_KINDS,
        "pixel": rule.pixel.name if rule.pixel else "Every pixel",
        "enabled": ui.status_badge(
            tone="ok" if rule.enabled else "archived", label="On" if rule.enabled else "Off"
        ),
        "notify_email": rule.notify_email,
        "webhook_host": host,
        "version": rule.version,
        "edit_url": reverse("quality:alert_rule_edit", args=[brand.slug, rule.pk])
        if can_manage
        else "",
        "delete_url": reverse("quality:alert_rule_delete", args=[brand.slug, rule.pk])
        if can_manage
        else "",
    }


@require_GET
@policies.brand_capability("quality.view")
def alert_rules(request: AuthenticatedRequest, *, brand: Brand, role: Role | None) -> HttpResponse:
    can_manage = policies.can(request.user, "quality.manage", brand, role=role)
    rules = alert_selectors.rule_list(user=request.user, brand=brand, role=role)
    rows = [_rule_row(brand, rule, can_manage) for rule in rules]
    return render_page(
        request,
        "quality/alert_rules.html",
        {"brand": brand, "tab": "quality", "rows": rows, "can_manage": can_manage},
    )


def _form(
    request: AuthenticatedRequest, brand: Brand, role: Role | None, **kwargs: Any
) -> AlertRuleForm:
    pixels = list(
        policies.pixels_for(request.user, brand, role=role).filter(status="active").order_by("name")
    )
    return AlertRuleForm(
        request.POST if request.method == "POST" else None,
        events=alerting.key_events(brand.pk),
        pixels=pixels,
        **kwargs,
    )


def _form_page(
    request: AuthenticatedRequest,
    brand: Brand,
    form: AlertRuleForm,
    rule: AlertRule | None = None,
    *,
    stale: bool = False,
) -> HttpResponse:
    status = 200
    if stale and request.htmx:
        status = 409  # htmx swaps it (see base.html's htmx config)
    elif not stale and request.method == "POST":
        status = 422
    return render_page(
        request,
        "quality/alert_rule_form.html",
        {"brand": brand, "tab": "quality", "form": form, "rule": rule, "stale": stale},
        partial="alert-rule-form",
        status=status,
    )


def _fields(form: AlertRuleForm) -> dict[str, Any]:
    data = form.cleaned_data
    return {
        "threshold": data.get("threshold") or None,
        "event": data.get("event") or "",
        "pixel": data.get("pixel") or None,
        "enabled": bool(data.get("enabled")),
        "notify_email": bool(data.get("notify_email")),
        "webhook_url": data.get("webhook_url") or "",
    }


@require_http_methods(["GET", "POST"])
@policies.brand_capability("quality.manage")
def alert_rule_new(
    request: AuthenticatedRequest, *, brand: Brand, role: Role | None
) -> HttpResponse:
    form = _form(request, brand, role)
    if request.method == "POST" and form.is_valid():
        try:
            alert_services.alert_rule_create(
                actor=request.user, brand=brand, kind=form.cleaned_data["kind"], **_fields(form)
            )
        except ValidationError as exc:
            add_service_error(form, exc)
        else:
            url = reverse("quality:alert_rules", args=[brand.slug])
            return saved_response(request, url, "Alert rule added.")
    return _form_page(request, brand, form)


def _rule_or_404(
    request: AuthenticatedRequest, brand: Brand, role: Role | None, pk: int
) -> AlertRule:
    try:
        return alert_selectors.rule_for_view(user=request.user, brand=brand, role=role, pk=pk)
    except AlertRule.DoesNotExist as exc:
        raise Http404("No such alert rule.") from exc


def _initial(rule: AlertRule) -> dict[str, Any]:
    return {
        "kind": rule.kind,
        "threshold": "" if rule.threshold is None else f"{rule.threshold.normalize():f}",
        "event": rule.event,
        "pixel": str(rule.pixel_id or ""),
        "enabled": rule.enabled,
        "notify_email": rule.notify_email,
        "webhook_url": rule.webhook_url,
        "version": rule.version,
    }


@require_http_methods(["GET", "POST"])
@policies.brand_capability("quality.manage")
def alert_rule_edit(
    request: AuthenticatedRequest, pk: int, *, brand: Brand, role: Role | None
) -> HttpResponse:
    rule = _rule_or_404(request, brand, role, pk)
    form = _form(request, brand, role, editing=True, initial=_initial(rule))
    if request.method == "POST" and form.is_valid():
        try:
            alert_services.alert_rule_update(
                actor=request.user,
                rule=rule,
                version=form.cleaned_data.get("version") or 0,
                **_fields(form),
            )
        except ValidationError as exc:
            add_service_error(form, exc)
        except StaleVersion:
            current = _rule_or_404(request, brand, role, pk)
            request.method = "GET"  # an unbound form with the current values
            form = _form(request, brand, role, editing=True, initial=_initial(current))
            return _form_page(request, brand, form, current, stale=True)
        else:
            url = reverse("quality:alert_rules", args=[brand.slug])
            return saved_response(request, url, "Alert rule saved.")
    return _form_page(request, brand, form, rule)


@require_POST
@policies.brand_capability("quality.manage")
def alert_rule_delete(
    request: AuthenticatedRequest, pk: int, *, brand: Brand, role: Role | None
) -> HttpResponse:
    rule = _rule_or_404(request, brand, role, pk)
    url = reverse("quality:alert_rules", args=[brand.slug])
    from django.contrib import messages

    try:
        version = int(request.POST.get("version") or rule.version)
        alert_services.alert_rule_delete(actor=request.user, rule=rule, version=version)
    except (TypeError, ValueError):
        return reload_with_message(request, url, "Not deleted: bad form.", level=messages.ERROR)
    except StaleVersion:
        return reload_with_message(
            request,
            url,
            "Not deleted: someone changed the rule meanwhile. Check it and try again.",
            level=messages.ERROR,
        )
    return reload_with_message(request, url, "Alert rule deleted; its open alerts resolved.")


urlpatterns = [
    path("alerts/", alert_list, name="alerts"),
    path("alerts/rules/", alert_rules, name="alert_rules"),
    path("alerts/rules/new/", alert_rule_new, name="alert_rule_new"),
    path("alerts/rules/<int:pk>/", alert_rule_edit, name="alert_rule_edit"),
    path("alerts/rules/<int:pk>/delete/", alert_rule_delete, name="alert_rule_delete"),
]
