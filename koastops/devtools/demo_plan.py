"""The tracking plans and naming rules of the demo data (``seed_demo``).

Each demo brand gets the events a shop or lead-generation site really tracks — PageView,
ViewContent, AddToCart, InitiateCheckout, Purchase, Lead, CompleteRegistration and one
custom event — with owners, meanings, triggers, parameters and mappings (Meta; Google
conversion actions for Purchase and Lead). Nordwind also carries a ``FormComplete`` event
that its French team sends as Meta ``Lead`` next to ``Lead``: the drift page's clash.

The install gets a default naming rule per level; Lumen overrides the campaign rule with
its product lines. Everything goes through the taxonomy services (revisions and activity
rows as in the app) and only what is missing is created: a re-run changes nothing.
"""

from __future__ import annotations

from typing import Any

from koastops.accounts.models import User
from koastops.catalog.models import Brand
from koastops.taxonomy import services
from koastops.taxonomy.models import EventDefinition, NamingRule

# --- naming rules ---------------------------------------------------------------------------


def _vocabulary(*values: tuple[str, str, tuple[str, ...]]) -> dict[str, Any]:
    return {
        "kind": "vocabulary",
        "values": [
            {"value": value, "label": label, "aliases": list(aliases)}
            for value, label, aliases in values
        ],
    }


_BRANDS = _vocabulary(
    ("nordwind", "Nordwind Outdoor", ("nw", "nordw")),
    ("lumen", "Lumen Skincare", ("lum",)),
    ("verde", "Verde Café", ("vc", "verdecafe")),
)
_MARKETS = _vocabulary(
    ("de", "Germany", ("ger",)),
    ("fr", "France", ("fra",)),
    ("gb", "United Kingdom", ("uk",)),
    ("us", "United States", ("usa",)),
    ("br", "Brazil", ("bra",)),
)
_OBJECTIVES = _vocabulary(
    ("conv", "Conversions", ("conversions", "sales")),
    ("lead", "Lead generation", ("leads", "leadgen")),
    ("traffic", "Traffic", ("clicks",)),
    ("awareness", "Awareness", ("aw", "reach")),
    ("app", "App installs", ("installs",)),
)
_MONTH = {"kind": "date", "format": "YYYYMM"}
_FREE = {"kind": "free", "min_length": 1, "max_length": 30, "charset": "alnum_dash"}

DEFAULT_RULES: dict[str, dict[str, Any]] = {
    "campaign": {
        "template": "{brand}_{market}_{objective}_{yyyymm}_{free}",
        "case": "lower",
        "max_length": 120,
        "tokens": {
            "brand": _BRANDS,
            "market": _MARKETS,
            "objective": _OBJECTIVES,
            "yyyymm": _MONTH,
            "free": _FREE,
        },
    },
    "adset": {
        "template": "{market}_{audience}_{placement}_{free}",
        "case": "lower",
        "max_length": 120,
        "tokens": {
            "market": _MARKETS,
            "audience": _vocabulary(
                ("prospecting", "Prospecting", ("prosp", "cold")),
                ("retargeting", "Retargeting", ("rt", "remarketing")),
                ("lookalike", "Lookalike", ("lal",)),
                ("broad", "Broad", ()),
            ),
            "placement": _vocabulary(
                ("auto", "Advantage+ placements", ("advantage",)),
                ("feed", "Feeds", ()),
                ("stories", "Stories", ()),
                ("reels", "Reels", ()),
            ),
            "free": _FREE,
        },
    },
    "ad": {
        "template": "{format}_{seq}_{free}",
        "case": "lower",
        "max_length": 100,
        "tokens": {
            "format": _vocabulary(
                ("img", "Single image", ("image",)),
                ("vid", "Video", ("video",)),
                ("car", "Carousel", ("carousel",)),
                ("col", "Collection", ("collection",)),
            ),
            "seq": {"kind": "number", "min_digits": 2, "max_digits": 3, "min": 1, "max": 999},
            "free": _FREE,
        },
    },
    "utm_campaign": {
        "template": "{brand}-{market}-{objective}-{yyyymm}",
        "case": "lower",
        "max_length": 80,
        "tokens": {
            "brand": _BRANDS,
            "market": _MARKETS,
            "objective": _OBJECTIVES,
            "yyyymm": _MONTH,
        },
    },
    "event_name": {
        "template": "{event}",
        "case": "any",
        "max_length": 40,
        "tokens": {
            "event": {"kind": "free", "min_length": 3, "max_length": 40, "charset": "alnum"},
        },
    },
}

# Lumen plans its campaigns per product line.
BRAND_RULES: dict[str, dict[str, dict[str, Any]]] = {
    "lumen-skincare": {
        "campaign": {
            "template": "{brand}_{market}_{objective}_{line}_{yyyymm}",
            "case": "lower",
            "max_length": 120,
            "tokens": {
                "brand": _BRANDS,
                "market": _MARKETS,
                "objective": _OBJECTIVES,
                "line": _vocabulary(
                    ("serum", "Serums", ("serums",)),
                    ("spf", "Sun care", ("sun", "suncare")),
                    ("cleanser", "Cleansers", ("clean", "cleansers")),
                ),
                "yyyymm": _MONTH,
            },
        }
    }
}


def seed_naming_rules(*, admin: User, brands: list[Brand]) -> tuple[int, int]:
    """The install defaults and the brand overrides that are missing; (created, existing)."""
    created = existing = 0
    defaults = set(NamingRule.objects.filter(brand__isnull=True).values_list("level", flat=True))
    for level, spec in DEFAULT_RULES.items():
        if level in defaults:
            existing += 1
            continue
        services.naming_rule_save(
            user=admin, brand=None, level=level, spec=spec, expected_version=None
        )
        created += 1
    for brand in brands:
        own = set(brand.naming_rules.values_list("level", flat=True))
        for level, spec in BRAND_RULES.get(brand.slug, {}).items():
            if level in own:
                existing += 1
                continue
            services.naming_rule_save(
                user=admin, brand=brand, level=level, spec=spec, expected_version=None
            )
            created += 1
    return created, existing


# --- tracking plans ---------------------------------------------------------------------------


def _param(name: str, type_: str, *, required: bool = False, **extra: Any) -> dict[str, Any]:
    return {"name": name, "type": type_, "required": required, **extra}


_VALUE = _param("value", "number", description="Monetary value, tax included")
_CURRENCY = _param("currency", "currency", description="ISO 4217 code of value")
_CONTENT_IDS = _param("content_ids", "list", description="SKUs of the products shown")
_CONTENT_TYPE = _param("content_type", "string", allowed_values=["product", "product_group"])


def _meta(target: str, *params: str, custom: bool = False) -> dict[str, Any]:
    return {"platform": "meta", "target": target, "custom": custom, "parameters": list(params)}


def _google(target: str, *params: str) -> dict[str, Any]:
    return {"platform": "google", "target": target, "custom": False, "parameters": list(params)}


def _linkedin(target: str) -> dict[str, Any]:
    return {"platform": "linkedin", "target": target, "custom": False, "parameters": []}


def _custom_event(short: str) -> dict[str, Any]:
    """Each brand's one custom event (sent to Meta as a custom event)."""
    if short == "lumen":
        return {
            "name": "SampleRequest",
            "display_name": "Sample request",
            "description": "A visitor asks for a free sample kit; counted once per address.",
            "trigger": "The sample form's thank-you step is shown.",
            "owner": "CRM team",
            "sources": "both",
            "event_id_required": True,
            "parameters": [_param("product_line", "string", required=True)],
            "mappings": [_meta("SampleRequest", "product_line", custom=True)],
        }
    if short == "verde":
        return {
            "name": "SubscriptionStart",
            "display_name": "Coffee subscription started",
            "description": "A first subscription order is paid (not the renewals).",
            "trigger": "The payment provider confirms the first charge (server).",
            "owner": "Subscriptions team",
            "sources": "server",
            "parameters": [
                {**_VALUE, "required": True},
                {**_CURRENCY, "required": True},
                _param("plan", "string", allowed_values=["monthly", "biweekly", "weekly"]),
            ],
            "mappings": [_meta("SubscriptionStart", "value", "currency", "plan", custom=True)],
        }
    return {
        "name": "NewsletterSignup",
        "display_name": "Newsletter sign-up",
        "description": "A visitor confirms the newsletter double opt-in.",
        "trigger": "The opt-in confirmation page loads.",
        "owner": "CRM team",
        "sources": "browser",
        "parameters": [_param("list_id", "string", description="Newsletter list")],
        "mappings": [_meta("NewsletterSignup", "list_id", custom=True)],
    }


def demo_events(short: str, brand_name: str) -> list[dict[str, Any]]:
    """The event contents of one demo brand's tracking plan (all active)."""
    events: list[dict[str, Any]] = [
        {
            "name": "PageView",
            "display_name": "Page view",
            "description": "Any page of the site is shown.",
            "trigger": "Every page load, after the consent banner allows it.",
            "owner": "Web team",
            "sources": "browser",
            "mappings": [_meta("PageView")],
        },
        {
            "name": "ViewContent",
            "display_name": "Product viewed",
            "description": "A product detail page is shown.",
            "trigger": "A product page loads (not quick views).",
            "owner": "Web team",
            "sources": "browser",
            "parameters": [_CONTENT_IDS, _CONTENT_TYPE, _VALUE, _CURRENCY],
            "mappings": [_meta("ViewContent", "content_ids", "content_type", "value", "currency")],
        },
        {
            "name": "AddToCart",
            "display_name": "Added to cart",
            "description": "A product goes into the cart.",
            "trigger": "The cart API confirms the addition.",
            "owner": "Web team",
            "sources": "browser",
            "parameters": [_CONTENT_IDS, _CONTENT_TYPE, _VALUE, _CURRENCY],
            "mappings": [_meta("AddToCart", "content_ids", "content_type", "value", "currency")],
        },
        {
            "name": "InitiateCheckout",
            "display_name": "Checkout started",
            "description": "The first checkout step is reached.",
            "trigger": "The checkout's address step loads.",
            "owner": "Web team",
            "sources": "browser",
            "parameters": [_CONTENT_IDS, _VALUE, _CURRENCY, _param("num_items", "integer")],
            "mappings": [
                _meta("InitiateCheckout", "content_ids", "value", "currency", "num_items")
            ],
        },
        {
            "name": "Purchase",
            "display_name": "Purchase",
            "description": "An order is paid in full; cancelled orders are not retracted.",
            "trigger": "The order confirmation page loads, and the shop's server sends it.",
            "owner": "E-commerce team",
            "sources": "both",
            "event_id_required": True,
            "parameters": [
                {**_VALUE, "required": True},
                {**_CURRENCY, "required": True},
                _CONTENT_IDS,
                _param("num_items", "integer"),
                _param("order_id", "string", required=True, pattern="^[A-Z0-9-]{6,20}$"),
            ],
            "mappings": [
                _meta("Purchase", "value", "currency", "content_ids", "num_items", "order_id"),
                _google(f"{brand_name} - Purchase", "value", "currency", "order_id"),
            ],
        },
        {
            "name": "Lead",
            "display_name": "Lead",
            "description": "A contact request with a reachable email or phone number.",
            "trigger": "The contact form is accepted by the CRM.",
            "owner": "CRM team",
            "sources": "both",
            "event_id_required": True,
            "parameters": [
                _param("lead_type", "string", allowed_values=["contact", "quote", "callback"]),
                _VALUE,
                _CURRENCY,
            ],
            "mappings": [
                _meta("Lead", "lead_type", "value", "currency"),
                _google(f"{brand_name} - Lead form", "value", "currency"),
                *([_linkedin(f"{brand_name} B2B lead")] if short == "lumen" else []),
            ],
        },
        {
            "name": "CompleteRegistration",
            "display_name": "Account created",
            "description": "A customer account is created and its email confirmed.",
            "trigger": "The email confirmation link is opened.",
            "owner": "CRM team",
            "sources": "server",
            "parameters": [
                _param("status", "boolean", description="Registration completed"),
                _param("method", "string", allowed_values=["email", "google", "apple"]),
            ],
            "mappings": [_meta("CompleteRegistration", "status")],
        },
        _custom_event(short),
    ]
    if short == "nordwind":
        # The drift the demo shows: the French team's form event, sent as Meta Lead too.
        events.append(
            {
                "name": "FormComplete",
                "display_name": "Store-finder form completed (FR)",
                "description": "The store-finder contact form is sent (added by the FR team).",
                "trigger": "The store-finder form's submit handler succeeds.",
                "owner": "FR market team",
                "sources": "browser",
                "parameters": [_param("store_id", "string")],
                "mappings": [_meta("Lead", "store_id")],
            }
        )
    for content in events:
        content.setdefault("status", "active")
    return events


def seed_plan(*, user: User, brand: Brand, short: str) -> tuple[int, int]:
    """The brand's demo events that are missing (by name, ignoring case), created by
    ``user`` (its ops lead); (created, existing)."""
    names = {
        n.lower()
        for n in EventDefinition.objects.filter(brand=brand).values_list("name", flat=True)
    }
    created = existing = 0
    for content in demo_events(short, brand.name):
        if content["name"].lower() in names:
            existing += 1
            continue
        services.event_create(user=user, brand=brand, content=content)
        created += 1
    return created, existing
