"""The legal reviewer's pages: the review of one market's config (the content, its
warnings, the diff since the last decision, approve / reject) and the history of every
decision on it (see koastops/consent/urls.py).

Views parse, ask ``policies`` (``brand_capability``: 404 for a brand the user holds no
role on, 403 without the capability; ``consent.sign_off`` is role-bound, so an admin who
is not a legal reviewer of the brand gets 403), call ``services.consent_decide`` and
render. The decision form carries the content hash and the latest decision the page was
rendered for: a decision on content that changed meanwhile, or after someone else
decided, records nothing and the page says why, with the current content.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.urls import URLPattern, path
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from koastops.accounts import policies
from koastops.accounts.http import AuthenticatedRequest
from koastops.accounts.models import Role
from koastops.catalog.models import Brand
from koastops.consent import content as consent_content
from koastops.consent import selectors, services
from koastops.consent.models import REJECTION_REASONS, ConsentConfig, ConsentSignOff
from koastops.consent.review_forms import DecisionForm, read_guard
from koastops.consent.views.config import content_sections
from koastops.consent.views.matrix import STATUS_TONES
from koastops.core.htmx import render_page, saved_response
from koastops.core.links import fast_reverse
from koastops.core.pagination import paginate

DECISION_TONES = {"approved": "ok", "rejected": "failing"}
HISTORY_PAGE_SIZE = 20


def _config(brand: Brand, market: str) -> ConsentConfig:
    config = selectors.config_of_market(brand.pk, market)
    if config is None:
        raise Http404("This brand has no consent config for that market.")
    config.brand = brand
    return config


def _when(moment: Any) -> str:
    local = timezone.localtime(moment)
    return f"{local.day} {local:%b %Y %H:%M}"


def _day(moment: Any) -> str:
    return f"{moment.day} {moment:%b %Y}"


def _market_label(config: ConsentConfig) -> str:
    return f"{config.market.name} ({config.market.code})"


def _person(user: Any, fallback: str = "someone") -> str:
    return (user.get_full_name() if user is not None else "") or fallback


def _default_expiry(months: int) -> str:
    return services.add_months(timezone.now(), months).date().isoformat()


def _review_page(
    request: AuthenticatedRequest,
    brand: Brand,
    config: ConsentConfig,
    *,
    form: DecisionForm | None = None,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    """The review page for ``config`` as it is now (the hidden inputs name its current hash
    and latest decision, whatever was posted)."""
    content = config.content
    last = config.last_signoff
    state: str = getattr(config, "status", "never_reviewed")
    changes = []
    if last is not None and last.content_hash != config.content_hash:
        changes = consent_content.diff(last.content, content)
    own_edit = config.content_changed_by_id is not None and (
        config.content_changed_by_id == request.user.pk
    )
    decided = last if state in ("signed", "rejected") else None
    months = services.validity_months(brand)
    if form is None:
        form = DecisionForm(initial={"expires_on": _default_expiry(months)})
    form.fields["expires_on"].help_text = (
        f"Only for an approval. At most {months} months from today (the brand's validity); "
        f"left empty, the full {months} months."
    )
    context = {
        "brand": brand,
        "tab": "consent",
        "config": config,
        "market_label": _market_label(config),
        "status": state,
        "status_label": consent_content.STATUSES.get(state, state),
        "status_tone": STATUS_TONES.get(state, "unknown"),
        "content": content,
        "sections": content_sections(
            content, selectors.pixel_names(brand.pk, [p["id"] for p in content["pixels"]])
        ),
        "findings": consent_content.warnings(content, regime=config.market.privacy_regime),
        "last": last,
        "last_reasons": [REJECTION_REASONS.get(r, r) for r in (last.reasons if last else [])],
        "changes": changes,
        "decided": decided,
        "own_edit": own_edit,
        "show_form": decided is None and not own_edit,
        "form": form,
        "form_hash": config.content_hash,
        "form_last_signoff": last.pk if last else 0,
        "error": error,
        "changed_by": _person(config.content_changed_by),
    }
    return render_page(request, "consent/review.html", context, status=status)


@require_GET
@policies.brand_capability("consent.sign_off")
def review(
    request: AuthenticatedRequest, market: str, *, brand: Brand, role: Role | None
) -> HttpResponse:
    return _review_page(request, brand, _config(brand, market))


def _changed_message(config: ConsentConfig) -> str:
    who = _person(config.content_changed_by)
    at = _when(config.content_changed_at or config.updated_at)
    return (
        f"This config changed after you opened it (now version {config.version}, changed by "
        f"{who} at {at}). Nothing was recorded. Review the current version below."
    )


def _already_message(signoff: ConsentSignOff | None, config: ConsentConfig) -> str:
    if signoff is None:
        return "Already decided: another reviewer decided on this version. Nothing was recorded."
    verb = "approved" if signoff.decision == "approved" else "rejected"
    which = (
        "this version"
        if signoff.content_hash == config.content_hash
        else f"version {signoff.config_version}"
    )
    return (
        f"Already decided: {signoff.reviewer_label} {verb} {which} at "
        f"{_when(signoff.decided_at)}. Nothing was recorded."
    )


@require_POST
@policies.brand_capability("consent.sign_off")
def decide(
    request: AuthenticatedRequest, market: str, *, brand: Brand, role: Role | None
) -> HttpResponse:
    config = _config(brand, market)
    form = DecisionForm(data=request.POST)
    guard = read_guard(request.POST)
    if guard is None:
        return _review_page(
            request,
            brand,
            config,
            form=form,
            error="This form was incomplete or out of date. Nothing was recorded. "
            "Review the current version below.",
            status=409,
        )
    expected_hash, expected_last = guard
    # Checked before the fields too: an error page must never carry a newer hash silently.
    if expected_hash != config.content_hash:
        return _review_page(
            request, brand, config, form=form, error=_changed_message(config), status=409
        )
    if expected_last != (config.last_signoff_id or 0):
        return _review_page(
            request,
            brand,
            config,
            form=form,
            error=_already_message(config.last_signoff, config),
            status=409,
        )
    if not form.is_valid():
        return _review_page(request, brand, config, form=form, status=422)
    try:
        signoff = services.consent_decide(
            user=request.user,
            config=config,
            expected_hash=expected_hash,
            expected_last_signoff_id=expected_last,
            **form.decision_args(),
        )
    except ValidationError as exc:
        form.add_service_error(exc)
        return _review_page(request, brand, config, form=form, status=422)
    except services.ContentChanged:
        current = _config(brand, market)
        return _review_page(
            request, brand, current, form=form, error=_changed_message(current), status=409
        )
    except services.AlreadyDecided as exc:
        current = _config(brand, market)
        return _review_page(
            request,
            brand,
            current,
            form=form,
            error=_already_message(exc.signoff or current.last_signoff, current),
            status=409,
        )
    except PermissionDenied as exc:
        return _review_page(request, brand, config, form=form, error=str(exc), status=403)
    url = fast_reverse("consent:matrix", (brand.slug,))
    if signoff.decision == "approved" and signoff.expires_at is not None:
        message = f"{_market_label(config)}: signed off until {_day(signoff.expires_at)}."
    else:
        message = f"{_market_label(config)}: rejected."
    return saved_response(request, url, message)


# --- history ---------------------------------------------------------------------------------


@require_GET
@policies.brand_capability("consent.view")
def history(
    request: AuthenticatedRequest, market: str, *, brand: Brand, role: Role | None
) -> HttpResponse:
    config = _config(brand, market)
    page = paginate(request, selectors.signoffs_of(config), per_page=HISTORY_PAGE_SIZE)
    signoffs: list[ConsentSignOff] = list(page.object_list)
    on_page = {s.sequence for s in signoffs}
    missing = [s.sequence for s in signoffs if s.sequence - 1 not in on_page]
    # The content of the decision before each one (the one before the page's oldest: asked).
    before = {s.sequence + 1: s.content for s in signoffs}
    before.update(selectors.previous_contents(config, missing))
    state: str = getattr(config, "status", "never_reviewed")
    ids = {p["id"] for s in signoffs for p in s.content.get("pixels") or []}
    names = selectors.pixel_names(brand.pk, ids)
    rows = []
    for signoff in signoffs:
        is_current = signoff.pk == config.last_signoff_id
        earlier = before.get(signoff.sequence)
        rows.append(
            {
                "signoff": signoff,
                "tone": DECISION_TONES.get(signoff.decision, "unknown"),
                "reason_labels": [REJECTION_REASONS.get(r, r) for r in signoff.reasons or []],
                "is_current": is_current,
                "is_valid": is_current
                and signoff.decision == "approved"
                and consent_content.is_valid(state),
                "has_previous": earlier is not None,
                "changes": consent_content.diff(earlier, signoff.content) if earlier else [],
                "sections": content_sections(signoff.content, names),
            }
        )
    can_sign = policies.capabilities_on(request, brand).get("consent_sign_off", False)
    context = {
        "brand": brand,
        "tab": "consent",
        "config": config,
        "market_label": _market_label(config),
        "status_label": consent_content.STATUSES.get(state, state),
        "status_tone": STATUS_TONES.get(state, "unknown"),
        "page": page,
        "rows": rows,
        "can_sign": can_sign,
    }
    return render_page(request, "consent/history.html", context, partial="history-table")


urlpatterns: list[URLPattern] = [
    path("consent/<str:market>/review/", review, name="review"),
    path("consent/<str:market>/review/decide/", decide, name="review_decide"),
    path("consent/<str:market>/history/", history, name="history"),
]
