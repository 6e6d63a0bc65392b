"""POST /api/v1/brands/{slug}/conversions."""

from __future__ import annotations

import pytest

from koastops.accounts import policies
from koastops.accounts.models import Role
from koastops.quality.models import Conversion, ConversionImport
from tests.api.conftest import ApiClient, _member, token_for
from tests.factories import AdAccountFactory, EventDefinitionFactory


def client_for(user) -> ApiClient:
    return ApiClient(token_for(user))


@pytest.fixture
def analyst(brand):
    return _member(brand, "analyst@example.com", Role.ANALYST)


@pytest.fixture(autouse=True)
def plan(brand):
    EventDefinitionFactory(brand=brand, name="Purchase", status="active")


def item(n: int, **extra):
    return {
        "event": "Purchase",
        "occurred_at": "2026-11-30T10:00:00+01:00",
        "external_id": f"o-{n}",
        "value": 49.9,
        "currency": "EUR",
    } | extra


def path(brand) -> str:
    return f"/brands/{brand.slug}/conversions"


@pytest.mark.django_db
def test_a_batch_is_written_idempotently_with_counts(brand, analyst, activity):
    api = client_for(analyst)
    body = {"source": "crm", "conversions": [item(i) for i in range(3)]}
    response = api.post(path(brand), body)
    assert response.status_code == 200, response.content
    data = response.json()
    assert (data["received"], data["created"], data["updated"], data["unchanged"]) == (3, 3, 0, 0)
    assert data["errors"] == []
    record = ConversionImport.objects.get(pk=data["import_id"])
    assert record.channel == "api" and record.created_rows == 3
    activity.mark()
    again = api.post(path(brand), body).json()
    assert (again["created"], again["unchanged"]) == (0, 3)
    activity.one("conversion_import.finished", actor=analyst, brand=brand)
    changed = api.post(path(brand), {"conversions": [item(0, value="50.00")]}).json()
    assert changed["updated"] == 1
    assert Conversion.objects.get(external_id="o-0").value == 50


@pytest.mark.django_db
def test_an_invalid_item_rejects_the_batch_naming_index_and_field(brand, analyst):
    api = client_for(analyst)
    body = {
        "conversions": [
            item(0),
            item(1, occurred_at="2026-11-30T10:00:00"),
            item(2, currency=None),
            item(0),
        ]
    }
    response = api.post(path(brand), body)
    assert response.status_code == 422
    locs = [(e["loc"], e["msg"]) for e in response.json()["detail"]]
    assert locs[0][0] == ["body", "conversions", 1, "occurred_at"] and "time zone" in locs[0][1]
    assert locs[1][0] == ["body", "conversions", 2, "currency"]
    assert locs[2][0] == ["body", "conversions", 3, "external_id"]
    assert Conversion.objects.count() == 0 and ConversionImport.objects.count() == 0


@pytest.mark.django_db
def test_partial_writes_the_valid_items_and_reports_the_rest(brand, analyst):
    api = client_for(analyst)
    body = {"partial": True, "conversions": [item(0), item(1, event="Nope")]}
    data = api.post(path(brand), body).json()
    assert data["created"] == 1
    assert data["errors"] == [
        {
            "index": 1,
            "field": "event",
            "message": "“Nope” is not an active or deprecated event of the tracking plan.",
        }
    ]


@pytest.mark.django_db
def test_more_than_10000_items_is_422_before_anything_is_read(brand, analyst, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 50 * 2**20
    api = client_for(analyst)
    response = api.post(path(brand), {"conversions": [{"event": "x"}] * 10_001})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][:2] == ["body", "conversions"]


@pytest.mark.django_db
def test_bad_shapes_are_422_not_500(brand, analyst):
    api = client_for(analyst)
    for body in (
        {},
        {"conversions": "x"},
        {"conversions": [{"value": [1]}]},
        {"source": "<b>", "conversions": [item(0)]},
        {"conversions": [item(0, value="1e400")]},
    ):
        response = api.post(path(brand), body)
        assert response.status_code == 422, (body, response.content)


@pytest.mark.django_db
def test_who_may_post(brand, foreign_brand, analyst):
    ops = _member(brand, "ops@example.com", Role.OPS_LEAD)
    assert client_for(ops).post(path(brand), {"conversions": []}).status_code == 403
    assert client_for(analyst).post(path(foreign_brand), {"conversions": []}).status_code == 404
    assert ApiClient(None).post(path(brand), {"conversions": []}).status_code == 401


@pytest.mark.django_db
def test_an_ad_account_outside_the_principals_scope_is_refused(brand, analyst):
    # Only media buyers are narrowed, and they may not upload: an admin-granted
    # analyst sees every account; another brand's account is "not an ad account".
    other = AdAccountFactory()
    mine = AdAccountFactory(brand=brand)
    buyer = _member(brand, "buyer@example.com", Role.MEDIA_BUYER)
    policies.set_ad_account_narrowing(buyer, brand, [mine])
    assert client_for(buyer).post(path(brand), {"conversions": [item(0)]}).status_code == 403
    response = client_for(analyst).post(
        path(brand), {"conversions": [item(0, ad_account=other.external_id)]}
    )
    assert response.json()["detail"][0]["loc"] == ["body", "conversions", 0, "ad_account"]
    ok = client_for(analyst).post(
        path(brand), {"conversions": [item(0, ad_account=mine.external_id)]}
    )
    assert ok.status_code == 200
