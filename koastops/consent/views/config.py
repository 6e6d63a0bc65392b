"""A market's consent config: the page (readable tables, status, current sign-off, the
warnings, the diff since the sign-off and the snippet for the web team) and the editor.

``<market>`` is the market's lower-case ISO code; a market the brand neither runs in nor
has a config for is a 404 (an upper-case code redirects to the lower-case page). Without
JavaScript the editor is POST → redirect → GET; with htmx it swaps itself (422 with
errors, 409 when stale) and a save navigates with ``HX-Location`` and a toast.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, HttpResponsePermanentRedirect
from django.urls import path
from django.utils.text import capfirst
from django.views.decorators.http import require_GET, require_http_methods

from koastops.accounts import policies
from koastops.accounts.http import AuthenticatedRequest
from koastops.accounts.models import Role
from koastops.catalog.models import Brand, Market
from koastops.consent import content as consent_content
from koastops.consent import selectors, services
from koastops.consent.content import CATEGORIES, LDU_COUNTRIES, LDU_STATES, MODES, SIGNALS
from koastops.consent.forms import ConfigForm, Row
from koastops.consent.models import REJECTION_REASONS, ConsentConfig
from koastops.consent.templatetags.consent_review import readable
from koastops.consent.views.matrix import REGIMES, platform_label, status_badge
from koastops.core.exceptions import StaleVersion
from koastops.core.forms import parse_version
from koastops.core.htmx import render_page, saved_response
from koastops.core.links import fast_reverse


def _resolve(brand: Brand, market: str) -> tuple[Market, ConsentConfig | None, bool]:
    """The market of ``<market>`` (any case), its config and whether the brand still runs
    in it; 404 for anything else."""
    code = market.upper()
    if len(code) != 2 or not code.isascii() or not code.isalpha():
        raise Http404("No such market.")
    found = selectors.market_and_config(brand, code)
    if found is None:
        raise Http404("Not a market of this brand.")
    return found


def _canonical(request: AuthenticatedRequest, market: str) -> HttpResponse | None:
    """An upper-case code (``/consent/DE/``) redirects to the lower-case page."""
    if market != market.lower() and len(market) == 2 and market.isascii() and market.isalpha():
        return HttpResponsePermanentRedirect(
            request.path.replace(f"/{market}/", f"/{market.lower()}/", 1)
        )
    return None


def _value(value: Any) -> str:
    """A value as the review page's ``readable`` filter shows it, capitalised for a cell."""
    return capfirst(readable(value))


def content_sections(
    content: dict[str, Any], names: dict[str, str], event_labels: dict[str, str] | None = None
) -> dict[str, Any]:
    """The content as the tables of ``consent/_content.html`` (``names``: pixel names by
    external id)."""
    defaults = content.get("defaults") or {}
    meta = content.get("meta") or {}
    ldu = content.get("ldu") or {}
    return {
        "platform": platform_label(
            content.get("platform") or "", content.get("platform_name") or ""
        ),
        "platform_custom": content.get("platform") == "custom",
        "signals": [
            {
                "signal": signal,
                "label": label,
                "value": defaults.get(signal),
                "value_label": consent_content.STATES.get(defaults.get(signal) or "", "Not set"),
            }
            for signal, label in SIGNALS.items()
        ],
        "mode": content.get("mode"),
        "mode_label": MODES.get(content.get("mode") or "", content.get("mode") or ""),
        "wait_for_update": content.get("wait_for_update") or 0,
        "regions": content.get("regions") or [],
        "pixels": [
            {
                "id": pixel["id"],
                "name": names.get(pixel["id"], ""),
                "category": CATEGORIES.get(pixel["category"], pixel["category"]),
            }
            for pixel in content.get("pixels") or []
        ],
        "events": [
            {
                "name": event["name"],
                "category": CATEGORIES.get(event["category"], event["category"]),
            }
            for event in content.get("events") or []
        ],
        "meta_revoke": bool(meta.get("revoke_before_init")),
        "meta_grant_on": CATEGORIES.get(meta.get("grant_on") or "", meta.get("grant_on") or ""),
        "ldu_enabled": bool(ldu.get("enabled")),
        "ldu_country": LDU_COUNTRIES.get(ldu.get("country", 0), str(ldu.get("country"))),
        "ldu_state": LDU_STATES.get(ldu.get("state", 0), str(ldu.get("state"))),
    }


def _links(brand: Brand, code: str) -> dict[str, str]:
    slug, lower = brand.slug, code.lower()
    return {
        "detail_url": fast_reverse("consent:detail", (slug, lower)),
        "edit_url": fast_reverse("consent:edit", (slug, lower)),
        "review_url": fast_reverse("consent:review", (slug, lower)),
        "history_url": fast_reverse("consent:history", (slug, lower)),
        "matrix_url": fast_reverse("consent:matrix", (slug,)),
    }


# --- the page ------------------------------------------------------------------------------


@require_GET
@policies.brand_capability("consent.view")
def detail(
    request: AuthenticatedRequest, market: str, *, brand: Brand, role: Role | None
) -> HttpResponse:
    redirect = _canonical(request, market)
    if redirect is not None:
        return redirect
    market_obj, config, in_brand = _resolve(brand, market)
    can = policies.capabilities_on(request, brand)
    regime = market_obj.privacy_regime
    if config is not None:
        content = config.content
        status = getattr(config, "status", "never_reviewed")
        version, hash_ = config.version, config.content_hash
    else:
        content = consent_content.defaults_for(
            regime, market_obj.code, pixels=selectors.active_meta_pixel_ids(brand)
        )
        status = "not_configured"
        version, hash_ = 0, consent_content.content_hash(market_obj.code, content)
    names = selectors.pixel_names(brand.pk, [p["id"] for p in content.get("pixels") or []])
    signoff = config.last_signoff if config is not None else None
    changes = None
    if config is not None and status == "changed" and signoff is not None:
        changes = [
            {
                "label": change.label,
                "before": _value(change.before),
                "after": _value(change.after),
            }
            for change in consent_content.diff(signoff.content, config.content)
        ]
    findings = consent_content.warnings(content, regime=regime)
    snippet = consent_content.snippet(content, market=market_obj.code, version=version, hash_=hash_)
    context = {
        "brand": brand,
        "tab": "consent",
        "market": market_obj,
        "regime_label": REGIMES.get(regime, regime),
        "config": config,
        "in_brand": in_brand,
        "status": status,
        "status_label": consent_content.STATUSES.get(status, status),
        "badge": status_badge(status),
        "sections": content_sections(content, names),
        "signoff": signoff,
        "signoff_reasons": [REJECTION_REASONS.get(r, r) for r in (signoff.reasons or [])]
        if signoff is not None
        else [],
        "changes": changes,
        "findings": findings,
        "snippet": snippet,
        "hash": hash_,
        "version": version,
        "needs_review": status in consent_content.NEEDS_REVIEW,
        "can_manage": can["consent_manage"],
        "can_sign_off": can["consent_sign_off"],
        **_links(brand, market_obj.code),
    }
    return render_page(request, "consent/detail.html", context)


# --- the editor -------------------------------------------------------------------------------


def _rows(brand: Brand, content: dict[str, Any]) -> tuple[list[Row], list[Row], list[str]]:
    """The editor's pixel rows (the brand's active Meta pixels, plus any pixel the content
    lists), event rows (the tracking plan's active events, plus any the content lists) and
    what the content lists that the brand no longer has (saving drops those)."""
    listed_pixels = {p["id"] for p in content.get("pixels") or []}
    pixels = selectors.editor_pixels(brand, listed_pixels)
    pixel_rows = [
        Row(
            field=f"pixel_{pixel.pk}",
            key=pixel.external_id,
            name=pixel.name,
            note="" if pixel.status == "active" else pixel.get_status_display().lower(),
        )
        for pixel in pixels
    ]
    events = selectors.editor_events(brand, [e["name"] for e in content.get("events") or []])
    event_rows = [
        Row(
            field=f"event_{event.pk}",
            key=event.name,
            name=event.display_name,
            note="" if event.status == "active" else event.get_status_display().lower(),
        )
        for event in events
    ]
    known_pixels = {row.key for row in pixel_rows}
    known_events = {row.key.lower() for row in event_rows}
    dropped = [p for p in sorted(listed_pixels) if p not in known_pixels]
    dropped += [
        e["name"] for e in content.get("events") or [] if e["name"].lower() not in known_events
    ]
    return pixel_rows, event_rows, dropped


def _stale(config: ConsentConfig) -> dict[str, Any]:
    last = selectors.config_last_change(config)
    return {
        "actor": (last.actor_label if last else "")
        or (config.updated_by.email if config.updated_by else "someone"),
        "at": last.created_at if last else config.updated_at,
    }


def _editor_page(
    request: AuthenticatedRequest,
    brand: Brand,
    market: Market,
    config: ConsentConfig | None,
    form: ConfigForm,
    *,
    dropped: list[str],
    status: int = 200,
    stale: dict[str, Any] | None = None,
) -> HttpResponse:
    signed = config is not None and consent_content.is_valid(getattr(config, "status", ""))
    context = {
        "brand": brand,
        "tab": "consent",
        "market": market,
        "regime_label": REGIMES.get(market.privacy_regime, market.privacy_regime),
        "config": config,
        "form": form,
        "version": config.version if config is not None else 0,
        "signed": signed,
        "dropped": dropped,
        "stale": stale,
        "warnings": form.warnings,
        "signal_fields": [(form[signal], form.warnings.get(signal)) for signal in SIGNALS],
        "pixel_fields": [
            (row, form[row.field], form.warnings.get(row.field)) for row in form.pixel_rows
        ],
        "event_fields": [
            (row, form[row.field], form.warnings.get(row.field)) for row in form.event_rows
        ],
        **_links(brand, market.code),
    }
    return render_page(request, "consent/edit.html", context, partial="config-form", status=status)


@require_http_methods(["GET", "POST"])
@policies.brand_capability("consent.manage")
def edit(
    request: AuthenticatedRequest, market: str, *, brand: Brand, role: Role | None
) -> HttpResponse:
    redirect = _canonical(request, market)
    if redirect is not None:
        return redirect
    market_obj, config, in_brand = _resolve(brand, market)
    if not in_brand:
        raise Http404("No longer a market of this brand: its config can no longer be edited.")
    regime = market_obj.privacy_regime
    if config is not None:
        current = config.content
        notes = config.internal_notes
    else:
        current = consent_content.defaults_for(
            regime, market_obj.code, pixels=selectors.active_meta_pixel_ids(brand), events=[]
        )
        notes = ""
    pixel_rows, event_rows, dropped = _rows(brand, current)

    if request.method != "POST":
        form = ConfigForm.for_content(current, notes=notes, pixels=pixel_rows, events=event_rows)
        form.set_warnings(current, regime=regime)
        return _editor_page(request, brand, market_obj, config, form, dropped=dropped)

    form = ConfigForm(request.POST, pixels=pixel_rows, events=event_rows)
    version = parse_version(request.POST.get("version"))
    if version is None:
        form.add_error(
            None,
            "This form is out of date or incomplete: reload the page and make your changes again.",
        )
    if form.is_valid():
        submitted = form.content()
        try:
            saved = services.config_save(
                user=request.user,
                brand=brand,
                market=market_obj,
                content=submitted,
                internal_notes=form.notes,
                expected_version=version if version is not None else -1,
            )
        except ValidationError as exc:
            form.add_service_error(exc)
            _typed_warnings(form, submitted, regime)
        except StaleVersion:
            _, fresh, _ = _resolve(brand, market)
            if fresh is None:  # configs are never deleted (PROTECT); say so if one were
                raise Http404("This config no longer exists.") from None
            pixel_rows, event_rows, dropped = _rows(brand, fresh.content)
            form = ConfigForm.for_content(
                fresh.content, notes=fresh.internal_notes, pixels=pixel_rows, events=event_rows
            )
            form.set_warnings(fresh.content, regime=regime)
            return _editor_page(
                request,
                brand,
                market_obj,
                fresh,
                form,
                dropped=dropped,
                status=409 if request.htmx else 200,
                stale=_stale(fresh),
            )
        else:
            message = f"Consent config for {market_obj.name} saved."
            was_valid = config is not None and consent_content.is_valid(
                getattr(config, "status", "")
            )
            if config is not None and was_valid and saved.content_hash != config.content_hash:
                message += " The sign-off is void: the signed content changed."
            url = fast_reverse("consent:detail", (brand.slug, market_obj.code.lower()))
            return saved_response(request, url, message)
    return _editor_page(
        request,
        brand,
        market_obj,
        config,
        form,
        dropped=dropped,
        status=422 if request.htmx else 200,
    )


def _typed_warnings(form: ConfigForm, submitted: dict[str, Any], regime: str) -> None:
    """The warnings of what was typed, when it parses (a refused save shows them too)."""
    try:
        typed = consent_content.parse_content(submitted)
    except consent_content.ContentError:
        return
    form.set_warnings(typed, regime=regime)


urlpatterns = [
    path("consent/<str:market>/", detail, name="detail"),
    path("consent/<str:market>/edit/", edit, name="edit"),
]
