"""A consent configuration's content: what legal signs off, as one canonical document.

Pure (no Django, no app): a dict in, a canonical dict, a hash, warnings, a diff or a
snippet out. ``parse_content`` accepts anything JSON-shaped and either returns the
canonical form or raises ``ContentError`` with every problem by its path
(``defaults.ad_storage``, ``pixels.2.category``); the forms show each message by its
field and the API names the field.

The hash (``content_hash``) covers the canonical content and the market it is for, and
nothing else: internal notes, who edited and when are outside it. A sign-off records the
hash it was given for; it is valid only while the config's hash is still that one
(``review_status``).

Shapes and values follow ../shared/platform-apis.md §4: Google Consent Mode v2's four
signals (``granted`` / ``denied``, or not set), basic or advanced mode,
``wait_for_update`` in milliseconds and the ISO 3166-2 ``region`` list; Meta's
``fbq('consent', 'revoke')`` before ``init`` and ``grant`` on consent; Meta Limited Data
Use (``data_processing_options``, country 1 = US / 0 = geolocate, state 1000 =
California / 0 = geolocate) for US state privacy laws.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

SCHEMA = 1

PLATFORMS: dict[str, str] = {
    "onetrust": "OneTrust",
    "cookiebot": "Cookiebot",
    "usercentrics": "Usercentrics",
    "didomi": "Didomi",
    "custom": "Custom / in-house",
}
SIGNALS: dict[str, str] = {
    "ad_storage": "Ad storage (ad cookies)",
    "analytics_storage": "Analytics storage (analytics cookies)",
    "ad_user_data": "Ad user data (send user data to Google for ads)",
    "ad_personalization": "Ad personalization (remarketing)",
}
STATES: dict[str, str] = {"denied": "Denied", "granted": "Granted"}
MODES: dict[str, str] = {
    "basic": "Basic — Google tags wait for the banner",
    "advanced": "Advanced — tags load with denied defaults and send cookieless pings",
}
CATEGORIES: dict[str, str] = {
    "marketing": "Marketing",
    "analytics": "Analytics",
    "none": "Not gated (fires without consent)",
}
LDU_COUNTRIES: dict[int, str] = {0: "Let Meta geolocate", 1: "United States"}
LDU_STATES: dict[int, str] = {0: "Let Meta geolocate", 1000: "California"}

# Regimes where tags must wait for consent: the EEA, the UK and Brazil. Their defaults
# start with every signal denied and every pixel gated on marketing consent.
CONSENT_REQUIRED = frozenset({"gdpr", "uk_gdpr", "lgpd"})
US_STATE = "us_state"

WAIT_MAX_MS = 10_000
PLATFORM_NAME_MAX = 100
MAX_PIXELS = 100
MAX_EVENTS = 300
MAX_REGIONS = 60
_REGION = re.compile(r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$")
_PIXEL_ID = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
_EVENT_NAME = re.compile(r"^[A-Za-z0-9_ .:-]{1,50}$")
_DIGITS = re.compile(r"[0-9]{1,9}\Z")


class ContentError(ValueError):
    """Every problem of one document, by path (``{"defaults.ad_storage": [message]}``)."""

    def __init__(self, errors: Mapping[str, Sequence[str]]) -> None:
        self.errors = {path: list(messages) for path, messages in errors.items()}
        super().__init__("; ".join(f"{p}: {' '.join(m)}" for p, m in self.errors.items()))

    def by_path(self) -> dict[str, list[str]]:
        return dict(self.errors)


@dataclass(frozen=True, slots=True)
class Finding:
    """A known mistake in an otherwise valid config: shown by its field, never refused."""

    path: str
    message: str


@dataclass(frozen=True, slots=True)
class Change:
    path: str
    label: str
    before: Any
    after: Any


# --- defaults ---------------------------------------------------------------------------


def defaults_for(
    regime: str, market: str, *, pixels: Iterable[str] = (), events: Iterable[str] = ()
) -> dict[str, Any]:
    """The starting content for a market, following its privacy regime: where consent is
    required every signal starts denied, every pixel and event waits for marketing
    consent and Meta is revoked before ``init``; US markets apply Limited Data Use (let
    Meta geolocate the state); elsewhere everything is granted and nothing is gated."""
    required = regime in CONSENT_REQUIRED
    state = "denied" if required else "granted"
    category = "marketing" if required else "none"
    return parse_content(
        {
            "platform": "onetrust",
            "platform_name": "",
            "defaults": dict.fromkeys(SIGNALS, state),
            "mode": "basic" if required else "advanced",
            "wait_for_update": 500 if required else 0,
            "regions": [market.upper()],
            "pixels": [{"id": pixel, "category": category} for pixel in pixels],
            "events": [{"name": event, "category": category} for event in events],
            "meta": {"revoke_before_init": required, "grant_on": "marketing"},
            "ldu": {"enabled": regime == US_STATE, "country": 0, "state": 0},
        }
    )


# --- parsing ----------------------------------------------------------------------------


def _choice(errors: dict[str, list[str]], path: str, value: Any, allowed: Mapping[Any, str]) -> Any:
    # The type first: a list or a dict is unhashable (``in`` would raise TypeError) and
    # True == 1 would pass for an int key.
    if (isinstance(value, str) or type(value) is int) and value in allowed:
        return value
    errors.setdefault(path, []).append(
        "Choose one of: " + ", ".join(str(key) for key in allowed) + "."
    )
    return None


def _object(errors: dict[str, list[str]], path: str, value: Any) -> Mapping[str, Any]:
    if isinstance(value, Mapping):
        return value
    if value is not None:
        errors.setdefault(path, []).append("Expected an object.")
    return {}


def _unknown(
    errors: dict[str, list[str]], path: str, value: Mapping[str, Any], known: Iterable[str]
) -> None:
    """Refuse keys nobody reads: dropping them silently would lose what the editor meant."""
    for key in sorted(set(value) - set(known), key=str):
        errors.setdefault(f"{path}.{str(key)[:40]}", []).append("Unknown field.")


def _list(errors: dict[str, list[str]], path: str, value: Any, limit: int) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        errors.setdefault(path, []).append("Expected a list.")
        return []
    if len(value) > limit:
        errors.setdefault(path, []).append(f"At most {limit} entries.")
        return []
    return value


def _bool(errors: dict[str, list[str]], path: str, value: Any, default: bool) -> bool:
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    errors.setdefault(path, []).append("Expected true or false.")
    return default


def _gated(
    errors: dict[str, list[str]],
    path: str,
    value: Any,
    *,
    key: str,
    pattern: re.Pattern[str],
    limit: int,
    what: str,
) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    seen: set[str] = set()
    for index, item in enumerate(_list(errors, path, value, limit)):
        where = f"{path}.{index}"
        if not isinstance(item, Mapping):
            errors.setdefault(where, []).append("Expected an object.")
            continue
        _unknown(errors, where, item, (key, "category"))
        name = item.get(key)
        if not isinstance(name, str) or not pattern.match(name.strip()):
            errors.setdefault(f"{where}.{key}", []).append(f"Enter a valid {what}.")
            continue
        name = name.strip()
        if name.lower() in seen:
            errors.setdefault(f"{where}.{key}", []).append(f"{name} is listed twice.")
            continue
        seen.add(name.lower())
        category = _choice(errors, f"{where}.category", item.get("category"), CATEGORIES)
        if category is not None:
            rows.append({key: name, "category": category})
    return sorted(rows, key=lambda row: row[key].lower())


def parse_content(data: Any) -> dict[str, Any]:
    """The canonical form of ``data``, or ``ContentError`` naming every bad path."""
    errors: dict[str, list[str]] = {}
    top = _object(errors, "content", data)
    if data is None:
        errors.setdefault("content", []).append("Expected an object.")
    unknown = sorted(set(top) - set(_EMPTY), key=str)  # keys need not be text
    for key in unknown:
        errors.setdefault(str(key)[:60], []).append("Unknown field.")

    platform = _choice(errors, "platform", top.get("platform"), PLATFORMS)
    platform_name = top.get("platform_name") or ""
    if not isinstance(platform_name, str):
        errors.setdefault("platform_name", []).append("Expected text.")
        platform_name = ""
    platform_name = " ".join(platform_name.split())
    if any(unicodedata.category(char) in ("Cc", "Cs") for char in platform_name):
        # NUL is refused by PostgreSQL's jsonb, a lone surrogate cannot be encoded (hash).
        errors.setdefault("platform_name", []).append("Remove the control characters.")
        platform_name = ""
    if len(platform_name) > PLATFORM_NAME_MAX:
        errors.setdefault("platform_name", []).append(f"At most {PLATFORM_NAME_MAX} characters.")
    if platform == "custom" and not platform_name:
        errors.setdefault("platform_name", []).append("Name the consent platform in use.")
    if platform != "custom":
        platform_name = ""

    raw_defaults = _object(errors, "defaults", top.get("defaults"))
    defaults: dict[str, str | None] = {}
    for signal in SIGNALS:
        value = raw_defaults.get(signal)
        defaults[signal] = (
            None if value in (None, "") else _choice(errors, f"defaults.{signal}", value, STATES)
        )
    for key in sorted(set(raw_defaults) - set(SIGNALS), key=str):
        errors.setdefault(f"defaults.{str(key)[:40]}", []).append("Unknown signal.")

    mode = _choice(errors, "mode", top.get("mode"), MODES)
    wait = top.get("wait_for_update", 0)
    if wait in (None, ""):
        wait = 0
    wait = _int(wait)
    if type(wait) is not int or not 0 <= wait <= WAIT_MAX_MS:
        errors.setdefault("wait_for_update", []).append(
            f"Enter a whole number of milliseconds from 0 to {WAIT_MAX_MS:,}."
        )
        wait = 0

    regions: list[str] = []
    for index, region in enumerate(_list(errors, "regions", top.get("regions"), MAX_REGIONS)):
        code = region.strip().upper() if isinstance(region, str) else ""
        if not _REGION.match(code):
            errors.setdefault(f"regions.{index}", []).append(
                "Enter an ISO 3166 code such as DE or US-CA."
            )
        elif code not in regions:
            regions.append(code)
    if not regions and not any(p == "regions" or p.startswith("regions.") for p in errors):
        errors.setdefault("regions", []).append("Name at least one region (the market's code).")

    pixels = _gated(
        errors,
        "pixels",
        top.get("pixels"),
        key="id",
        pattern=_PIXEL_ID,
        limit=MAX_PIXELS,
        what="pixel id",
    )
    events = _gated(
        errors,
        "events",
        top.get("events"),
        key="name",
        pattern=_EVENT_NAME,
        limit=MAX_EVENTS,
        what="event name",
    )

    raw_meta = _object(errors, "meta", top.get("meta"))
    _unknown(errors, "meta", raw_meta, ("revoke_before_init", "grant_on"))
    meta = {
        "revoke_before_init": _bool(
            errors, "meta.revoke_before_init", raw_meta.get("revoke_before_init"), False
        ),
        "grant_on": _choice(
            errors,
            "meta.grant_on",
            raw_meta.get("grant_on") or "marketing",
            {k: v for k, v in CATEGORIES.items() if k != "none"},
        ),
    }
    raw_ldu = _object(errors, "ldu", top.get("ldu"))
    _unknown(errors, "ldu", raw_ldu, ("enabled", "country", "state"))
    ldu = {
        "enabled": _bool(errors, "ldu.enabled", raw_ldu.get("enabled"), False),
        "country": _choice(errors, "ldu.country", _int(raw_ldu.get("country", 0)), LDU_COUNTRIES),
        "state": _choice(errors, "ldu.state", _int(raw_ldu.get("state", 0)), LDU_STATES),
    }
    if errors:
        raise ContentError(errors)
    return {
        "platform": platform,
        "platform_name": platform_name,
        "defaults": defaults,
        "mode": mode,
        "wait_for_update": wait,
        "regions": regions,
        "pixels": pixels,
        "events": events,
        "meta": meta,
        "ldu": ldu,
    }


def _int(value: Any) -> Any:
    """A string of ASCII digits as its int (form input); anything else as it is. Not
    ``str.isdigit``: it accepts "²", which ``int`` refuses."""
    if isinstance(value, str) and _DIGITS.match(value.strip()):
        return int(value.strip())
    return value


_EMPTY: dict[str, Any] = {
    "platform": None,
    "platform_name": "",
    "defaults": {},
    "mode": None,
    "wait_for_update": 0,
    "regions": [],
    "pixels": [],
    "events": [],
    "meta": {},
    "ldu": {},
}


# --- the hash ---------------------------------------------------------------------------


def canonical_bytes(market: str, content: Mapping[str, Any]) -> bytes:
    """What the hash covers: the schema, the market and the canonical content."""
    document = {"schema": SCHEMA, "market": market.upper(), "content": content}
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def content_hash(market: str, content: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of ``canonical_bytes``: equal exactly when the signed content is."""
    return hashlib.sha256(canonical_bytes(market, content)).hexdigest()


# --- warnings ---------------------------------------------------------------------------


def warnings(content: Mapping[str, Any], *, regime: str) -> list[Finding]:
    """Known mistakes, by the field they concern (the config stays savable)."""
    found: list[Finding] = []
    defaults = content.get("defaults") or {}
    required = regime in CONSENT_REQUIRED
    if required:
        found.extend(
            Finding(
                f"defaults.{signal}",
                f"{signal} is granted by default in a market where consent is required: "
                "it must start denied and be granted only when the visitor agrees.",
            )
            for signal in SIGNALS
            if defaults.get(signal) == "granted"
        )
    found.extend(
        Finding(
            f"defaults.{signal}",
            f"{signal} is not set: Consent Mode v2 needs it, or Google treats the traffic "
            "as without consent for ads (EEA, since March 2024).",
        )
        for signal in ("ad_user_data", "ad_personalization")
        if defaults.get(signal) is None
    )
    if required:
        found.extend(
            Finding(
                f"pixels.{index}.category",
                f"Pixel {pixel.get('id')} fires without consent in a market where consent "
                "is required: gate it on marketing consent.",
            )
            for index, pixel in enumerate(content.get("pixels") or [])
            if pixel.get("category") == "none"
        )
        if not (content.get("meta") or {}).get("revoke_before_init"):
            found.append(
                Finding(
                    "meta.revoke_before_init",
                    "Meta is not revoked before init: the pixel sends events before the "
                    "visitor chooses. Call fbq('consent', 'revoke') before fbq('init').",
                )
            )
    if (content.get("ldu") or {}).get("enabled") and regime != US_STATE:
        found.append(
            Finding(
                "ldu.enabled",
                "Limited Data Use is for US state privacy laws: it does not replace "
                "consent outside the US. Turn it off for this market.",
            )
        )
    return found


def warnings_by_path(findings: Iterable[Finding]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for finding in findings:
        grouped.setdefault(finding.path, []).append(finding.message)
    return grouped


# --- diff -------------------------------------------------------------------------------

_LABELS = {
    "platform": "Consent platform",
    "platform_name": "Platform name",
    "mode": "Consent Mode",
    "wait_for_update": "wait_for_update (ms)",
    "regions": "Regions",
    "meta.revoke_before_init": "Meta: revoke before init",
    "meta.grant_on": "Meta: grant on",
    "ldu.enabled": "Limited Data Use",
    "ldu.country": "LDU country",
    "ldu.state": "LDU state",
}


def _flatten(content: Mapping[str, Any]) -> dict[str, tuple[str, Any]]:
    flat: dict[str, tuple[str, Any]] = {}
    for key in ("platform", "platform_name", "mode", "wait_for_update"):
        flat[key] = (_LABELS[key], content.get(key))
    regions = content.get("regions")
    flat["regions"] = (_LABELS["regions"], ", ".join(regions) if regions else None)
    for signal in SIGNALS:
        flat[f"defaults.{signal}"] = (signal, (content.get("defaults") or {}).get(signal))
    for pixel in content.get("pixels") or []:
        flat[f"pixels.{pixel['id']}"] = (f"Pixel {pixel['id']}", pixel["category"])
    for event in content.get("events") or []:
        flat[f"events.{event['name']}"] = (f"Event {event['name']}", event["category"])
    for group in ("meta", "ldu"):
        for key, value in (content.get(group) or {}).items():
            path = f"{group}.{key}"
            flat[path] = (_LABELS.get(path, path), value)
    return flat


def diff(before: Mapping[str, Any] | None, after: Mapping[str, Any]) -> list[Change]:
    """What changed from ``before`` (the signed content) to ``after``, field by field:
    pixels and events by their id / name, so a reorder is no change."""
    old = _flatten(before or {})
    new = _flatten(after)
    changes = []
    for path in [*new, *(p for p in old if p not in new)]:
        label = (new.get(path) or old[path])[0]
        was = old.get(path, (label, None))[1]
        now = new.get(path, (label, None))[1]
        if was != now:
            changes.append(Change(path, label, was, now))
    return changes


# --- the validity rule ------------------------------------------------------------------

STATUSES: dict[str, str] = {
    "signed": "Signed",
    "expiring": "Expiring within 30 days",
    "changed": "Changed since sign-off",
    "expired": "Sign-off expired",
    "rejected": "Rejected",
    "never_reviewed": "Never reviewed",
    "not_configured": "Not configured",
}
VALID_STATUSES = frozenset({"signed", "expiring"})
# What a legal reviewer is asked to act on, most urgent first.
NEEDS_REVIEW = ("changed", "expired", "never_reviewed", "expiring")
EXPIRING_WITHIN = timedelta(days=30)


@dataclass(frozen=True, slots=True)
class Decision:
    """The latest decision on a config: approved / rejected, the hash it was given for
    and (approved) when it expires."""

    decision: str
    content_hash: str
    expires_at: datetime | None


def review_status(
    current_hash: str | None,
    latest: Decision | None,
    now: datetime,
    *,
    expiring_within: timedelta = EXPIRING_WITHIN,
) -> str:
    """The status of a config: not configured (no hash), never reviewed, changed since
    the latest decision (hash differs: a sign-off is void the moment the content
    changes), rejected, expired, expiring within 30 days, or signed.
    ``selectors.with_status`` computes the same in SQL; the tests check both agree."""
    if not current_hash:
        return "not_configured"
    if latest is None:
        return "never_reviewed"
    if latest.content_hash != current_hash:
        return "changed"
    if latest.decision != "approved":
        return "rejected"
    if latest.expires_at is None or latest.expires_at <= now:
        return "expired"
    if latest.expires_at <= now + expiring_within:
        return "expiring"
    return "signed"


def is_valid(status: str) -> bool:
    return status in VALID_STATUSES


# --- the snippet ------------------------------------------------------------------------


def js_value(value: Any) -> str:
    """``value`` as a JavaScript literal that is safe inside a ``<script>`` element: JSON
    with ``<``, ``>``, ``&`` and the two line separators JSON allows but older
    JavaScript does not written as escapes."""
    text = json.dumps(value, ensure_ascii=False, sort_keys=False)
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def snippet(content: Mapping[str, Any], *, market: str, version: int, hash_: str) -> dict[str, str]:
    """What the web team puts on the market's pages, before any tag loads: ``google``
    (the ``gtag('consent', 'default', …)`` call with its region) and ``meta`` (the
    ``fbq`` consent calls). Every value is JSON-encoded (``js_value``); no user text
    is pasted raw, comments hold fixed text only."""
    defaults = content.get("defaults") or {}
    call: dict[str, Any] = {k: v for k, v in defaults.items() if v is not None}
    if content.get("wait_for_update"):
        call["wait_for_update"] = content["wait_for_update"]
    call["region"] = list(content.get("regions") or [market.upper()])
    platform = content.get("platform_name") or PLATFORMS.get(content.get("platform") or "", "")
    marker = {"market": market.upper(), "version": version, "hash": hash_, "platform": platform}
    google = "\n".join(
        [
            "<script>",
            "  // koastops consent config: which signed version this page implements.",
            f"  window.koastopsConsent = {js_value(marker)};",
            "  window.dataLayer = window.dataLayer || [];",
            "  function gtag(){dataLayer.push(arguments);}",
            "  // Before any Google tag loads:",
            f"  gtag('consent', 'default', {js_value(call)});",
            "</script>",
        ]
    )
    meta = content.get("meta") or {}
    ldu = content.get("ldu") or {}
    lines = ["<script>"]
    if meta.get("revoke_before_init"):
        lines += [
            "  // Before fbq('init', …): pause the Meta pixel until the visitor consents.",
            "  fbq('consent', 'revoke');",
        ]
    if ldu.get("enabled"):
        lines += [
            "  // US state privacy laws: Limited Data Use.",
            "  fbq('dataProcessingOptions', ['LDU'], "
            f"{js_value(ldu.get('country', 0))}, {js_value(ldu.get('state', 0))});",
        ]
    pixels = [p["id"] for p in content.get("pixels") or []]
    for pixel in pixels:
        lines.append(f"  fbq('init', {js_value(pixel)});")
    if meta.get("revoke_before_init"):
        category = meta.get("grant_on") or "marketing"
        lines += [
            f"  // When the consent platform reports the {category} category granted:",
            f"  window.koastopsGrantMeta = function (category) {{ if (category === "
            f"{js_value(category)}) {{ fbq('consent', 'grant'); }} }};",
        ]
    lines.append("</script>")
    return {"google": google, "meta": "\n".join(lines)}
