"""API: CRM conversions (``POST /api/v1/brands/{slug}/conversions``).

A batch of up to 10,000 conversions, validated like a CSV row
(``koastops.quality.conversions.validate``) and written synchronously, idempotent by
(brand, source, external id). All or nothing unless ``"partial": true``; an invalid
item answers 422 with ``loc: ["body", "conversions", <index>, <field>]``. Needs
``conversions.upload`` (analysts; admins). Documented in docs/api.md, "CRM conversions".
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest, JsonResponse
from ninja import Field, Router, Schema

from koastops.accounts.http import ApiRequest
from koastops.api.common import brand_with_capability, responses
from koastops.quality import conversion_services as services

router = Router(tags=["conversions"])


class ConversionIn(Schema):
    # Strings (not datetime / Decimal): the service checks them as it checks CSV cells,
    # so a naive time or a bad currency gets the same message in both.
    event: str | None = Field(None, description="A tracking-plan event (active or deprecated).")
    occurred_at: str | None = Field(None, description="ISO 8601 with an offset or Z.")
    external_id: str | None = Field(None, description="The CRM's id (≤ 200 characters).")
    value: str | int | float | None = Field(None, description="≥ 0, at most 2 decimals.")
    currency: str | None = Field(None, description="ISO 4217; required with a value.")
    ad_account: str | None = Field(None, description="External id of a brand ad account.")
    campaign: str | None = Field(None, description="Campaign name (text, ≤ 200).")


class ConversionBatchIn(Schema):
    source: str = Field("crm", description="Which system sends them; ids are per source.")
    partial: bool = Field(False, description="true: write the valid items, report the rest.")
    conversions: list[ConversionIn] = Field(..., max_length=services.API_MAX_ITEMS)


class ItemErrorOut(Schema):
    index: int
    field: str
    message: str


class ConversionBatchOut(Schema):
    import_id: int | None = Field(description="The import record (the page lists it).")
    received: int
    created: int
    updated: int
    unchanged: int
    errors: list[ItemErrorOut] = Field(description="With partial: the items not written.")


@router.post(
    "/brands/{slug}/conversions",
    response=responses({200: ConversionBatchOut}),
    url_name="conversions_ingest",
)
def conversions_ingest(request: ApiRequest, slug: str, payload: ConversionBatchIn) -> Any:
    """Write a batch of CRM conversions; the counts created / updated / unchanged."""
    brand, _ = brand_with_capability(request, slug, "conversions.upload")
    items = [item.dict() for item in payload.conversions]
    try:
        result = services.conversions_api_ingest(
            actor=request.auth,
            brand=brand,
            source=payload.source,
            items=items,
            partial=payload.partial,
        )
    except services.IngestRejected as exc:
        return _item_errors(request, exc.errors)
    except ValidationError:
        raise  # field errors of the batch itself (source): the API's 422 handler
    return {
        "import_id": result.conversion_import.pk if result.conversion_import else None,
        "received": len(items),
        "created": result.created,
        "updated": result.updated,
        "unchanged": result.unchanged,
        "errors": result.errors,
    }


def _item_errors(request: HttpRequest, errors: list[dict[str, Any]]) -> JsonResponse:
    detail = [
        {
            "loc": ["body", "conversions", error["index"], error["field"] or "conversions"],
            "msg": error["message"],
            "type": "value_error",
        }
        for error in errors[:1000]
    ]
    return JsonResponse({"detail": detail}, status=422)
