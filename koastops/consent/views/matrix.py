"""The consent matrix (every market of the brand by status), the brand's sign-off validity
setting and the evidence export for auditors.

The matrix is two queries whatever the number of markets (``selectors.matrix_rows``: the
configs with their status computed in SQL, and the brand's markets); search, the status
filter, the counts and the page are worked out from those rows in Python (a brand runs in
at most the ~250 markets there are).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import UTC
from types import SimpleNamespace
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse, StreamingHttpResponse
from django.urls import path
from django.utils import timezone
from django.utils.safestring import SafeString
from django.views.decorators.http import require_GET, require_POST

from koastops.accounts import policies
from koastops.accounts.http import AuthenticatedRequest
from koastops.accounts.models import Role
from koastops.catalog.models import Brand, Market
from koastops.consent import selectors, services
from koastops.consent.content import (
    NEEDS_REVIEW,
    PLATFORMS,
    STATUSES,
    Decision,
    is_valid,
    review_status,
)
from koastops.consent.forms import MatrixFilterForm, PolicyForm
from koastops.consent.models import REJECTION_REASONS, ConsentSignOff
from koastops.core import csvexport
from koastops.core.exceptions import StaleVersion
from koastops.core.forms import add_service_error
from koastops.core.htmx import reload_with_message, render_page, saved_response
from koastops.core.links import fast_reverse
from koastops.core.templatetags import ui

# Status -> badge tone (colour + icon + text; never colour alone).
STATUS_TONES = {
    "signed": "ok",
    "expiring": "warning",
    "changed": "failing",
    "expired": "failing",
    "rejected": "failing",
    "never_reviewed": "warning",
    "not_configured": "unknown",
}
REGIMES = dict(Market.PrivacyRegime.choices)


def status_badge(status: str) -> SafeString:
    return ui.status_badge(
        tone=STATUS_TONES.get(status, "unknown"), label=STATUSES.get(status, status)
    )


def platform_label(platform: str, platform_name: str = "") -> str:
    if platform == "custom" and platform_name:
        return platform_name
    return PLATFORMS.get(platform, platform)


# --- the matrix ------------------------------------------------------------------------------


def _count_chips(
    request: AuthenticatedRequest, base: str, counts: dict[str, int], current: str
) -> list[dict[str, Any]]:
    """One chip per status with its count: a link that filters by it (or, for the status
    in effect, removes the filter)."""
    chips = []
    for status, label in STATUSES.items():
        params = request.GET.copy()
        params.pop("page", None)
        if status == current:
            params.pop("status", None)
        else:
            params["status"] = status
        query = params.urlencode()
        chips.append(
            {
                "status": status,
                "label": label,
                "count": counts.get(status, 0),
                "active": status == current,
                "url": f"{base}?{query}" if query else base,
                "tone": STATUS_TONES[status],
            }
        )
    return chips


def _matrix_context(
    request: AuthenticatedRequest,
    brand: Brand,
    role: Role | None,
    *,
    policy_form: PolicyForm | None = None,
) -> dict[str, Any]:
    search, status = MatrixFilterForm(request.GET).values()
    can = policies.capabilities_on(request, brand)
    everything = selectors.matrix_rows(brand)
    counts = selectors.status_counts(everything)
    shown = selectors.matrix_filter(everything, search=search, status=status)
    page = Paginator(shown, settings.KOASTOPS_PAGE_SIZE).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    page.querystring = params.urlencode()  # type: ignore[attr-defined]
    slug = brand.slug
    list_url = fast_reverse("consent:matrix", (slug,))
    rows = []
    for row in page.object_list:
        code = row.code.lower()
        rows.append(
            {
                "row": row,
                "regime": REGIMES.get(row.regime, row.regime),
                "platform": platform_label(row.platform, row.platform_name),
                "badge": status_badge(row.status),
                "detail_url": fast_reverse("consent:detail", (slug, code)),
                "edit_url": fast_reverse("consent:edit", (slug, code)),
                "review_url": fast_reverse("consent:review", (slug, code)),
                "needs_review": row.status in NEEDS_REVIEW,
            }
        )
    page.object_list = rows  # type: ignore[assignment]
    policy = services.policy_for(brand)
    if policy_form is None:
        policy_form = PolicyForm(
            initial={
                "signoff_validity_months": policy.signoff_validity_months,
                "version": policy.version,
            }
        )
    return {
        "brand": brand,
        "tab": "consent",
        "page": page,
        "q": search,
        "status": status,
        "status_filters": [("", "Any status"), *STATUSES.items()],
        "count_chips": _count_chips(request, list_url, counts, status),
        # the pagination links go to the matrix, also when the settings POST re-renders it
        "list_request": SimpleNamespace(path=list_url),
        "total": len(everything),
        "filtered": bool(search or status),
        "status_label": STATUSES.get(status, ""),
        "policy": policy,
        "policy_form": policy_form,
        "can_manage": can["consent_manage"],
        "can_sign_off": can["consent_sign_off"],
        "can_export": can["consent_export"],
        "can_edit_brand": can["brand_edit"],
    }


@require_GET
@policies.brand_capability("consent.view")
def matrix(request: AuthenticatedRequest, *, brand: Brand, role: Role | None) -> HttpResponse:
    context = _matrix_context(request, brand, role)
    return render_page(request, "consent/matrix.html", context, partial="consent-table")


@require_POST
@policies.brand_capability("consent.manage")
def settings_save(
    request: AuthenticatedRequest, *, brand: Brand, role: Role | None
) -> HttpResponse:
    url = fast_reverse("consent:matrix", (brand.slug,))
    form = PolicyForm(request.POST)
    if form.is_valid():
        version = form.cleaned_data.get("version")
        try:
            policy = services.consent_policy_save(
                user=request.user,
                brand=brand,
                signoff_validity_months=form.cleaned_data["signoff_validity_months"],
                expected_version=version if version is not None else -1,
            )
        except StaleVersion:
            current = services.policy_for(brand)
            who = current.updated_by.email if current.updated_by else "Someone"
            return reload_with_message(
                request,
                url,
                f"Not saved: {who} changed the sign-off validity meanwhile (it is now"
                f" {current.signoff_validity_months} months). Check it and save again.",
                level=messages.ERROR,
            )
        except ValidationError as exc:
            add_service_error(form, exc)
        else:
            months = policy.signoff_validity_months
            noun = "month" if months == 1 else "months"
            return saved_response(
                request, url, f"Sign-offs of {brand.name} now stay valid for {months} {noun}."
            )
    context = _matrix_context(request, brand, role, policy_form=form)
    return render_page(
        request,
        "consent/matrix.html",
        context,
        partial="consent-settings",
        status=422 if request.htmx else 200,
    )


# --- the evidence export --------------------------------------------------------------------

EVIDENCE_COLUMNS = [
    "market",
    "market_name",
    "decision",
    "reviewer",
    "decided_at",
    "expires_at",
    "config_version",
    "content_hash",
    "reasons",
    "comment",
    "valid_now",
    "content",
]


def _iso(moment: Any) -> str | None:
    if moment is None:
        return None
    return str(moment.astimezone(UTC).isoformat())


def _evidence_record(signoff: ConsentSignOff, now: Any) -> dict[str, Any]:
    config = signoff.config
    # Valid now: it is the config's current decision and the validity rule says so.
    decision = Decision(signoff.decision, signoff.content_hash, signoff.expires_at)
    valid = config.last_signoff_id == signoff.pk and is_valid(
        review_status(config.content_hash, decision, now)
    )
    return {
        "market": signoff.market.code,
        "market_name": signoff.market.name,
        "decision": signoff.decision,
        "reviewer": signoff.reviewer_label,
        "decided_at": _iso(signoff.decided_at),
        "expires_at": _iso(signoff.expires_at),
        "config_version": signoff.config_version,
        "content_hash": signoff.content_hash,
        "reasons": [REJECTION_REASONS.get(reason, reason) for reason in signoff.reasons or []],
        "comment": signoff.comment,
        "valid_now": valid,
        "content": signoff.content,
    }


def _csv_cells(signoff: ConsentSignOff, now: Any) -> list[str]:
    record = _evidence_record(signoff, now)
    record["reasons"] = "; ".join(record["reasons"])
    record["valid_now"] = "yes" if record["valid_now"] else "no"
    record["content"] = json.dumps(record["content"], sort_keys=True, ensure_ascii=False)
    return ["" if record[column] is None else str(record[column]) for column in EVIDENCE_COLUMNS]


def _json_chunks(brand: Brand, signoffs: Iterable[ConsentSignOff], now: Any) -> Iterator[str]:
    head = {"brand": brand.slug, "exported_at": _iso(now)}
    yield json.dumps(head, ensure_ascii=False)[:-1] + ', "signoffs": ['
    for index, signoff in enumerate(signoffs):
        record = json.dumps(_evidence_record(signoff, now), ensure_ascii=False, sort_keys=True)
        yield ("," if index else "") + "\n" + record
    yield "\n]}\n"


@require_GET
@policies.brand_capability("consent.export")
def evidence(request: AuthenticatedRequest, *, brand: Brand, role: Role | None) -> HttpResponse:
    """Every sign-off of the brand, newest first, with the exact signed content: CSV (the
    default; any other format than ``json`` falls back to it) or JSON. Streamed."""
    wanted = request.GET.get("format")
    kind = "json" if wanted == "json" else "csv"
    now = timezone.now()
    signoffs = selectors.evidence_signoffs(brand).iterator(chunk_size=500)
    filename = f"consent-evidence-{brand.slug}-{now:%Y-%m-%d}.{kind}"
    if kind == "json":
        response = StreamingHttpResponse(
            _json_chunks(brand, signoffs, now), content_type="application/json; charset=utf-8"
        )
    else:
        response = StreamingHttpResponse(
            csvexport.csv_lines(EVIDENCE_COLUMNS, (_csv_cells(row, now) for row in signoffs)),
            content_type="text/csv; charset=utf-8",
        )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response  # type: ignore[return-value]


urlpatterns = [
    path("consent/", matrix, name="matrix"),
    path("consent/settings/", settings_save, name="settings"),
    path("consent/evidence/", evidence, name="evidence"),
]
