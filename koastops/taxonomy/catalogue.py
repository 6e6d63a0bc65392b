"""Reference data of the tracking plan, shipped with the app (no Django): the parameter
types, the Meta standard events with the parameters Meta documents for each
(../shared/platform-apis.md §2.5; Meta's pixel reference), and the naming-rule levels."""

from __future__ import annotations

from dataclasses import dataclass

# Parameter types: key -> label.
PARAM_TYPES: dict[str, str] = {
    "string": "Text",
    "number": "Number",
    "integer": "Integer",
    "boolean": "True / false",
    "currency": "ISO 4217 currency",
    "timestamp": "Timestamp",
    "list": "List",
}

STATUSES: dict[str, str] = {"draft": "Draft", "active": "Active", "deprecated": "Deprecated"}
SOURCES: dict[str, str] = {"browser": "Browser", "server": "Server", "both": "Browser and server"}
# Platforms an event maps to, in the order they are shown (keys = catalog.Platform values).
MAPPING_PLATFORMS: dict[str, str] = {
    "meta": "Meta",
    "google": "Google Ads",
    "linkedin": "LinkedIn",
}
# What a mapping's target is called on each platform.
MAPPING_TARGET_LABELS: dict[str, str] = {
    "meta": "Meta event",
    "google": "Google conversion action",
    "linkedin": "LinkedIn conversion rule",
}

# Naming-rule levels: key -> label, in the order they are shown.
NAMING_LEVELS: dict[str, str] = {
    "campaign": "Campaign",
    "adset": "Ad set",
    "ad": "Ad",
    "utm_campaign": "UTM campaign",
    "event_name": "Event name",
}


@dataclass(frozen=True)
class StandardParam:
    name: str
    type: str
    required: bool = False
    allowed_values: tuple[str, ...] = ()
    description: str = ""


_VALUE = StandardParam("value", "number", description="Monetary value of the event")
_CURRENCY = StandardParam("currency", "currency", description="ISO 4217 code of value")
_CONTENT_IDS = StandardParam("content_ids", "list", description="Product ids (SKUs)")
_CONTENT_TYPE = StandardParam(
    "content_type",
    "string",
    allowed_values=("product", "product_group"),
    description="What content_ids refer to",
)
_CONTENTS = StandardParam("contents", "list", description="Products with id and quantity")
_NUM_ITEMS = StandardParam("num_items", "integer", description="Number of items")
_LTV = StandardParam("predicted_ltv", "number", description="Predicted lifetime value")

# Meta's standard events and the parameters Meta documents for each. Purchase is the one
# Meta refuses without value and currency.
META_STANDARD_EVENTS: dict[str, tuple[StandardParam, ...]] = {
    "AddPaymentInfo": (_CONTENT_IDS, _CONTENTS, _CURRENCY, _VALUE),
    "AddToCart": (_CONTENT_IDS, _CONTENT_TYPE, _CONTENTS, _CURRENCY, _VALUE),
    "AddToWishlist": (_CONTENT_IDS, _CONTENTS, _CURRENCY, _VALUE),
    "CompleteRegistration": (
        _CURRENCY,
        _VALUE,
        StandardParam("status", "boolean", description="Registration completed"),
    ),
    "Contact": (),
    "CustomizeProduct": (),
    "Donate": (),
    "FindLocation": (),
    "InitiateCheckout": (_CONTENT_IDS, _CONTENTS, _CURRENCY, _NUM_ITEMS, _VALUE),
    "Lead": (_CURRENCY, _VALUE),
    "PageView": (),
    "Purchase": (
        _CONTENT_IDS,
        _CONTENT_TYPE,
        _CONTENTS,
        StandardParam("currency", "currency", required=True, description=_CURRENCY.description),
        _NUM_ITEMS,
        StandardParam("value", "number", required=True, description=_VALUE.description),
    ),
    "Schedule": (),
    "Search": (
        _CONTENT_IDS,
        _CONTENT_TYPE,
        _CONTENTS,
        _CURRENCY,
        StandardParam("search_string", "string", description="What was searched for"),
        _VALUE,
    ),
    "StartTrial": (_CURRENCY, _LTV, _VALUE),
    "SubmitApplication": (),
    "Subscribe": (_CURRENCY, _LTV, _VALUE),
    "ViewContent": (_CONTENT_IDS, _CONTENT_TYPE, _CONTENTS, _CURRENCY, _VALUE),
}


def meta_required_params(event: str) -> tuple[str, ...]:
    """The parameters Meta requires for a standard event (empty for custom events)."""
    return tuple(p.name for p in META_STANDARD_EVENTS.get(event, ()) if p.required)
