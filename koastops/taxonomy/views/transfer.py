"""Tracking-plan export and import pages (see koastops/taxonomy/urls.py).

Export is a download of the plan document (``koastops.taxonomy.transfer``). Import is two
POSTs: the first reads the uploaded (or pasted) document and shows what it would change,
writing nothing; the second applies that same document, kept server-side in the cache for
the user and brand under a random key, against the plan version the preview was made on.

Upload size is capped before the upload is read: ``_CappedUpload`` counts the bytes as
they arrive and stops the upload past ``transfer.MAX_BYTES`` (the rest of the request is
read and dropped, never stored), and a pasted document larger than Django's
``DATA_UPLOAD_MAX_MEMORY_SIZE`` is answered with the same message instead of a 400 page.
For that the view is CSRF-exempt on the outside and CSRF-protected on the inside: the
upload handler must be in place before anything reads the request body, and the CSRF
middleware reads it to find the form's token (Django's documented pattern).
"""

from __future__ import annotations

import json
import re
import secrets
from typing import Any

from django import forms
from django.contrib import messages
from django.core.cache import cache
from django.core.exceptions import RequestDataTooBig, ValidationError
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import NoReverseMatch, URLPattern, path, reverse
from django.utils.cache import patch_cache_control
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods
from django_htmx.http import HttpResponseLocation

from koastops.accounts import policies
from koastops.accounts.http import AuthenticatedRequest
from koastops.accounts.models import Role
from koastops.catalog.models import Brand
from koastops.core.exceptions import StaleVersion
from koastops.core.htmx import add_toast, render_page
from koastops.core.templatetags import ui
from koastops.taxonomy import selectors, services, transfer
from koastops.taxonomy.catalogue import MAPPING_PLATFORMS, SOURCES, STATUSES

PREVIEW_SECONDS = 3600
_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")
TEMPLATE = "taxonomy/import_plan.html"


def plan_url(brand: Brand) -> str:
    """The plan page; the brand's overview until the plan pages exist."""
    try:
        return reverse("taxonomy:plan", args=[brand.slug])
    except NoReverseMatch:
        return reverse("catalog:brand_detail", args=[brand.slug])


# --- export -------------------------------------------------------------------------------


@require_GET
@policies.brand_capability("taxonomy.view")
def plan_export(request: AuthenticatedRequest, *, brand: Brand, role: Role | None) -> HttpResponse:
    response = HttpResponse(
        selectors.plan_document(brand), content_type="application/json; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="tracking-plan-{brand.slug}.json"'
    patch_cache_control(response, private=True, no_store=True)
    return response


# --- import -------------------------------------------------------------------------------


class _CappedUpload(FileUploadHandler):
    """Passes uploaded bytes on to Django's handlers, and stops the upload once more than
    ``transfer.MAX_BYTES`` arrived (``too_big`` says so)."""

    def __init__(self, request: HttpRequest | None = None) -> None:
        super().__init__(request)
        self.received = 0
        self.too_big = False

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.received += len(raw_data)
        if self.received > transfer.MAX_BYTES:
            self.too_big = True
            raise StopUpload(connection_reset=False)
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None  # the next handler's file


class PlanImportForm(forms.Form):
    file = forms.FileField(
        required=False,
        label="Plan file",
        help_text="A tracking-plan JSON file, as koastops exports it (at most 8 MB).",
        widget=forms.ClearableFileInput(attrs={"accept": "application/json,.json"}),
    )
    document = forms.CharField(
        required=False,
        strip=False,
        label="Or paste the plan's JSON",
        widget=forms.Textarea(attrs={"rows": 6, "spellcheck": "false", "class": "mono"}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        has_file, has_text = bool(data.get("file")), bool((data.get("document") or "").strip())
        if has_file and has_text:
            raise ValidationError("Choose a file or paste the JSON, not both.")
        if not has_file and not has_text and not self.errors:
            raise ValidationError("Choose a plan file, or paste the plan's JSON.")
        return data


def _cache_key(request: AuthenticatedRequest, brand: Brand, token: str) -> str:
    return f"taxonomy:plan-import:{request.user.pk}:{brand.pk}:{token}"


def _page(
    request: AuthenticatedRequest,
    brand: Brand,
    *,
    form: PlanImportForm | None = None,
    errors: transfer.DocumentError | None = None,
    preview: dict[str, Any] | None = None,
    notice: str = "",
    status: int = 200,
) -> HttpResponse:
    context = {
        "brand": brand,
        "tab": "plan",
        "plan_url": plan_url(brand),
        "form": form or PlanImportForm(),
        "errors": errors,
        "preview": preview,
        "notice": notice,
        "max_events": transfer.MAX_EVENTS,
    }
    return render_page(request, TEMPLATE, context, partial="import-step", status=status)


def _too_big(request: AuthenticatedRequest, brand: Brand) -> HttpResponse:
    message = (
        f"The file is too big: a plan file may have at most {transfer.MAX_BYTES // 2**20} MB."
        " Nothing was imported."
    )
    # 413 says what it is; htmx swaps only 2xx, 409 and 422 (base.html), so it gets 422.
    status = 422 if request.htmx else 413
    return _page(
        request, brand, errors=transfer.DocumentError([("(file)", message)]), status=status
    )


def _preview_context(brand: Brand, contents: list[Any], token: str) -> dict[str, Any]:
    # The version first: contents read after it are at least as new, so an apply based on
    # this preview is refused if anything changed since (never applied to unseen changes).
    version = selectors.plan_version(brand)
    diff = transfer.plan_diff(contents, selectors.plan_contents(brand))
    return {
        "diff": diff,
        "added": [_added_row(event.content) for event in diff.added],
        "token": token,
        "plan_version": version,
    }


def _added_row(content: dict[str, Any]) -> dict[str, Any]:
    """An event to add, as the preview's table prints it."""
    return {
        "name": content["name"],
        "display_name": content["display_name"],
        "badge": ui.badge_for(content["status"], STATUSES.get(content["status"], "")),
        "sources": SOURCES.get(content["sources"], content["sources"]),
        "parameters": len(content["parameters"]),
        "maps_to": ", ".join(
            f"{MAPPING_PLATFORMS.get(m['platform'], m['platform'])}: {m['target']}"
            for m in content["mappings"]
        ),
    }


@csrf_exempt
@require_http_methods(["GET", "POST"])
@policies.brand_capability("taxonomy.manage")
def plan_import(request: AuthenticatedRequest, *, brand: Brand, role: Role | None) -> HttpResponse:
    capped = _CappedUpload(request)
    request.upload_handlers.insert(0, capped)
    try:
        return _plan_import(request, brand=brand, capped=capped)
    except RequestDataTooBig:
        return _too_big(request, brand)


@csrf_protect
def _plan_import(
    request: AuthenticatedRequest, *, brand: Brand, capped: _CappedUpload
) -> HttpResponse:
    if request.method == "GET":
        return _page(request, brand)
    action = request.POST.get("action")  # reads the body (the CSRF check may not have)
    if capped.too_big:
        return _too_big(request, brand)
    if action == "apply":
        return _apply(request, brand)
    return _preview(request, brand)


def _preview(request: AuthenticatedRequest, brand: Brand) -> HttpResponse:
    form = PlanImportForm(request.POST, request.FILES)
    if not form.is_valid():
        return _page(request, brand, form=form, status=422)
    upload = form.cleaned_data["file"]
    if upload is not None and upload.size > transfer.MAX_BYTES:
        return _too_big(request, brand)
    raw: bytes | str = upload.read() if upload is not None else form.cleaned_data["document"]
    try:
        contents = transfer.read_document(raw)
    except transfer.DocumentError as exc:
        return _page(request, brand, form=form, errors=exc, status=422)
    token = secrets.token_urlsafe(24)
    document = json.dumps([content.to_dict() for content in contents], ensure_ascii=False)
    cache.set(_cache_key(request, brand, token), document, PREVIEW_SECONDS)
    return _page(request, brand, preview=_preview_context(brand, contents, token))


def _apply(request: AuthenticatedRequest, brand: Brand) -> HttpResponse:
    token = request.POST.get("token", "")
    version = request.POST.get("plan_version", "")
    cached = None
    if _TOKEN.fullmatch(token) and version.isascii() and version.isdigit() and len(version) < 10:
        cached = cache.get(_cache_key(request, brand, token))
    if cached is None:
        return _page(
            request,
            brand,
            notice="This preview has expired or was already applied. Choose the file again.",
            status=409 if request.htmx else 200,
        )
    contents = json.loads(cached)
    try:
        outcome = services.plan_import(
            user=request.user, brand=brand, contents=contents, expected_plan_version=int(version)
        )
    except StaleVersion:
        parsed, _ = transfer.parse_events(contents)
        return _page(
            request,
            brand,
            preview=_preview_context(brand, parsed, token),
            notice="The plan changed since you previewed; nothing was imported. Here is the"
            " preview again against the current plan: check it and apply again.",
            status=409 if request.htmx else 200,
        )
    except ValidationError as exc:
        located = [(path, m) for path, msgs in exc.message_dict.items() for m in msgs]
        return _page(request, brand, errors=transfer.DocumentError(located), status=422)
    cache.delete(_cache_key(request, brand, token))
    if outcome.changed:
        message = (
            f"Plan imported: {len(outcome.created)} added, {len(outcome.updated)} changed,"
            f" {len(outcome.unchanged)} unchanged."
        )
    else:
        message = "Nothing imported: every event in the file is already in the plan as it is."
    url = plan_url(brand)
    if request.htmx:
        response = HttpResponseLocation(url, target="#main", select="#main", swap="outerHTML")
        return add_toast(response, message)
    messages.success(request, message)
    return redirect(url)


urlpatterns: list[URLPattern] = [
    path("plan/export.json", plan_export, name="plan_export"),
    path("plan/import/", plan_import, name="plan_import"),
]
