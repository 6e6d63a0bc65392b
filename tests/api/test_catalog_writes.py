"""Catalog writes over the API: the same services as the pages, with ETag / If-Match.

Each write: the happy path with exactly one activity row, 404 on a foreign brand, 403 for
roles without the capability, 428 without If-Match, 409 with a stale one (nothing written),
4xx naming the field for bad input."""

from __future__ import annotations

import json
from typing import Any

import pytest

from koastops.activity.models import ActivityEntry
from koastops.catalog import services
from koastops.catalog.models import AdAccount, Brand, CatalogStatus, Pixel
from tests.api.conftest import API, ApiClient, token_for
from tests.factories import AdAccountFactory, PixelFactory, market

pytestmark = pytest.mark.django_db

TOKEN = "EAAB-api-secret-token-99"


class Writer(ApiClient):
    """An API client for writes, with optional ``If-Match``."""

    def send(self, method: str, path: str, body: Any = None, *, if_match: Any = None) -> Any:
        headers = self._headers()
        if if_match is not None:
            headers["HTTP_IF_MATCH"] = str(if_match)
        return self.client.generic(
            method,
            API + path,
            json.dumps(body) if body is not None else "",
            content_type="application/json",
            **headers,
        )


def writer(user, activity=None) -> Writer:
    """A client with a new token; creating it is logged, so the activity log looks on from
    after it."""
    client = Writer(token_for(user))
    if activity is not None:
        activity.mark()
    return client


def ad_account_body(**overrides) -> dict[str, Any]:
    body = {
        "platform": "meta",
        "external_id": "act_987654321",
        "name": "Acme DE",
        "currency": "eur",
        "time_zone": "Europe/Berlin",
        "markets": ["DE", "at"],
    }
    return body | overrides


def loc_fields(response) -> set[str]:
    return {str(error["loc"][-1]) for error in response.json()["detail"]}


# --- ETag on GET -------------------------------------------------------------------------


def test_gets_of_one_object_carry_the_version_as_etag(analyst, brand, ad_account, pixel):
    AdAccount.objects.filter(pk=ad_account.pk).update(version=5)
    client = writer(analyst)
    response = client.get("/brands/own-brand")
    assert (response.status_code, response["ETag"]) == (200, '"1"')
    response = client.get(f"/brands/own-brand/ad-accounts/{ad_account.pk}")
    assert (response.status_code, response["ETag"]) == (200, '"5"')
    assert response.json()["version"] == 5 and response.json()["pixel_count"] == 1
    response = client.get(f"/brands/own-brand/pixels/{pixel.pk}")
    assert (response.status_code, response["ETag"]) == (200, '"1"')
    body = response.json()
    assert body["has_access_token"] is True and body["ad_account_ids"] == [ad_account.pk]
    assert not [
        key
        for key in body
        if "token" in key and "access_token_" not in key and key != "has_access_token"
    ]


def test_one_object_gets_are_scoped(analyst, media_buyer, brand, foreign_brand, ad_account):
    from koastops.accounts import policies

    foreign = AdAccountFactory(brand=foreign_brand)
    assert writer(analyst).get(f"/brands/foreign-brand/ad-accounts/{foreign.pk}").status_code == 404
    # Another brand's account under the own brand's slug is not found either.
    assert writer(analyst).get(f"/brands/own-brand/ad-accounts/{foreign.pk}").status_code == 404
    other = AdAccountFactory(brand=brand)
    policies.set_ad_account_narrowing(media_buyer, brand, [ad_account])
    assert writer(media_buyer).get(f"/brands/own-brand/ad-accounts/{other.pk}").status_code == 404
    assert (
        writer(media_buyer).get(f"/brands/own-brand/ad-accounts/{ad_account.pk}").status_code == 200
    )


# --- ad accounts ---------------------------------------------------------------------------


def test_ops_lead_creates_edits_archives_and_restores_an_ad_account(ops_lead, brand, activity):
    client = writer(ops_lead, activity)
    response = client.send("POST", "/brands/own-brand/ad-accounts", ad_account_body())
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["currency"], body["markets"], body["version"]) == ("EUR", ["AT", "DE"], 1)
    assert response["ETag"] == '"1"'
    activity.one("ad_account.created", actor=ops_lead, brand=brand)
    path = f"/brands/own-brand/ad-accounts/{body['id']}"

    response = client.send("PATCH", path, {"name": "Acme DACH"}, if_match='"1"')
    assert response.status_code == 200, response.content
    assert (response.json()["name"], response["ETag"]) == ("Acme DACH", '"2"')
    assert response.json()["markets"] == ["AT", "DE"]  # not sent: unchanged
    entry = activity.one("ad_account.updated", actor=ops_lead, brand=brand)
    assert (entry.before, entry.after) == ({"name": "Acme DE"}, {"name": "Acme DACH"})

    response = client.send("POST", f"{path}/archive", if_match='W/"2"')
    assert (response.status_code, response.json()["status"], response["ETag"]) == (
        200,
        "archived",
        '"3"',
    )
    activity.one("ad_account.archived", actor=ops_lead, brand=brand)
    response = client.send("POST", f"{path}/restore", if_match="3")
    assert (response.status_code, response.json()["status"]) == (200, "active")
    activity.one("ad_account.restored", actor=ops_lead, brand=brand)


def test_write_without_if_match_is_428_and_writes_nothing(ops_lead, ad_account, activity):
    client = writer(ops_lead, activity)
    path = f"/brands/own-brand/ad-accounts/{ad_account.pk}"
    for method, suffix, body in [
        ("PATCH", "", {"name": "No precondition"}),
        ("POST", "/archive", None),
        ("POST", "/restore", None),
    ]:
        response = client.send(method, path + suffix, body)
        assert response.status_code == 428, (suffix, response.content)
        assert response.json()["field"] == "If-Match"
        assert "If-Match" in response.json()["detail"]
    assert AdAccount.objects.get(pk=ad_account.pk).name == "Main DE"
    activity.none()


def test_stale_if_match_is_409_naming_the_version_and_writes_nothing(
    ops_lead, admin_user, ad_account, activity
):
    services.ad_account_update(
        user=admin_user, ad_account=ad_account, expected_version=1, name="Changed meanwhile"
    )
    activity.new()
    client = writer(ops_lead, activity)
    path = f"/brands/own-brand/ad-accounts/{ad_account.pk}"
    response = client.send("PATCH", path, {"name": "Mine"}, if_match='"1"')
    assert response.status_code == 409
    body = response.json()
    assert (body["field"], body["version"]) == ("If-Match", 2)
    assert "admin@example.com" in body["detail"] and "version" in body["detail"]
    response = client.send("POST", f"{path}/archive", if_match='"1"')
    assert response.status_code == 409 and response.json()["field"] == "If-Match"
    current = AdAccount.objects.get(pk=ad_account.pk)
    assert (current.name, current.status) == ("Changed meanwhile", CatalogStatus.ACTIVE)
    activity.none()


@pytest.mark.parametrize("value", ["*", '"1", "2"', "abc", "1" * 20, "²"])
def test_malformed_if_match_is_422_naming_it(ops_lead, ad_account, activity, value):
    response = writer(ops_lead, activity).send(
        "PATCH", f"/brands/own-brand/ad-accounts/{ad_account.pk}", {"name": "x"}, if_match=value
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["header", "If-Match"]
    activity.none()


def test_archiving_an_archived_ad_account_is_409_already_archived(ops_lead, ad_account, activity):
    client = writer(ops_lead, activity)
    path = f"/brands/own-brand/ad-accounts/{ad_account.pk}"
    assert client.send("POST", f"{path}/archive", if_match=1).status_code == 200
    activity.new()
    response = client.send("POST", f"{path}/archive", if_match=2)
    assert response.status_code == 409
    assert response.json() == {"detail": "Already archived.", "field": "status", "version": 2}
    response = client.send("POST", f"{path}/restore", if_match=2)
    assert response.status_code == 200
    response = client.send("POST", f"{path}/restore", if_match=3)
    assert response.json() == {"detail": "Already active.", "field": "status", "version": 3}
    assert [e.verb for e in activity.new()] == ["ad_account.restored"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (ad_account_body(external_id="123"), "external_id"),
        (ad_account_body(currency="EURO"), "currency"),
        (ad_account_body(currency="XXQ"), "currency"),
        (ad_account_body(time_zone="Mars/Olympus"), "time_zone"),
        (ad_account_body(markets=["ZZ"]), "markets"),
        (ad_account_body(markets=["US"]), "markets"),  # not one of the brand's markets
        (ad_account_body(platform="myspace"), "platform"),
        (ad_account_body(name=""), "name"),
        (ad_account_body(name="x" * 121), "name"),
        (ad_account_body(external_id="act_5550001"), "external_id"),  # taken
        ({k: v for k, v in ad_account_body().items() if k != "currency"}, "currency"),
    ],
)
def test_bad_ad_account_input_is_422_naming_the_field(ops_lead, ad_account, activity, body, field):
    activity.new()
    response = writer(ops_lead, activity).send("POST", "/brands/own-brand/ad-accounts", body)
    assert response.status_code == 422, response.content
    assert field in loc_fields(response)
    assert AdAccount.objects.count() == 1
    activity.none()


def test_bad_edit_input_is_422_naming_the_field(ops_lead, ad_account, activity):
    AdAccountFactory(brand=ad_account.brand, external_id="act_777")
    activity.new()
    response = writer(ops_lead, activity).send(
        "PATCH",
        f"/brands/own-brand/ad-accounts/{ad_account.pk}",
        {"external_id": "act_777"},
        if_match=1,
    )
    assert response.status_code == 422
    assert loc_fields(response) == {"external_id"}
    assert AdAccount.objects.get(pk=ad_account.pk).version == 1
    activity.none()


@pytest.mark.parametrize(
    "path", ["/brands/foreign-brand/ad-accounts/{pk}", "/brands/own-brand/ad-accounts/{pk}"]
)
def test_foreign_ad_account_is_404(ops_lead, foreign_brand, activity, path):
    foreign = AdAccountFactory(brand=foreign_brand)
    activity.new()
    client = writer(ops_lead, activity)
    path = path.format(pk=foreign.pk)
    assert client.send("PATCH", path, {"name": "x"}, if_match=1).status_code == 404
    assert client.send("POST", f"{path}/archive", if_match=1).status_code == 404
    assert (
        client.send("POST", "/brands/foreign-brand/ad-accounts", ad_account_body()).status_code
        == 404
    )
    assert AdAccount.objects.get(pk=foreign.pk).version == 1
    activity.none()


@pytest.mark.parametrize("role", ["analyst", "media_buyer", "legal_reviewer"])
def test_roles_without_catalog_manage_get_403(request, role, ad_account, pixel, activity):
    user = request.getfixturevalue(role)
    activity.new()
    client = writer(user, activity)
    path = f"/brands/own-brand/ad-accounts/{ad_account.pk}"
    pixel_path = f"/brands/own-brand/pixels/{pixel.pk}"
    calls = [
        ("POST", "/brands/own-brand/ad-accounts", ad_account_body()),
        ("PATCH", path, {"name": "x"}),
        ("POST", f"{path}/archive", None),
        (
            "POST",
            "/brands/own-brand/pixels",
            {"platform": "meta", "external_id": "987654321012", "name": "P"},
        ),
        ("PATCH", pixel_path, {"name": "x"}),
        ("PUT", f"{pixel_path}/token", {"access_token": TOKEN}),
        ("DELETE", f"{pixel_path}/token", None),
        ("PATCH", "/brands/own-brand", {"name": "x"}),
        ("POST", "/brands", {"name": "New brand"}),
    ]
    for method, call_path, body in calls:
        response = client.send(method, call_path, body, if_match=1)
        assert response.status_code == 403, (method, call_path, response.content)
    activity.none()


# --- pixels --------------------------------------------------------------------------------


def test_pixel_create_with_token_never_returns_it(ops_lead, brand, ad_account, activity):
    response = writer(ops_lead, activity).send(
        "POST",
        "/brands/own-brand/pixels",
        {
            "platform": "meta",
            "external_id": "987654321012",
            "name": "Web pixel",
            "capi_enabled": True,
            "ad_account_ids": [ad_account.pk],
            "access_token": TOKEN,
        },
    )
    assert response.status_code == 201, response.content
    assert TOKEN not in response.content.decode()
    body = response.json()
    assert (body["has_access_token"], body["ad_account_ids"]) == (True, [ad_account.pk])
    pixel = Pixel.objects.get(pk=body["id"])
    assert services.pixel_access_token(pixel=pixel) == TOKEN
    created, token_set = activity.new()
    assert (created.verb, token_set.verb) == ("pixel.created", "pixel.token_changed")
    stored = json.dumps(list(ActivityEntry.objects.values()), default=str)
    assert TOKEN not in stored and pixel.access_token_encrypted not in stored


def test_pixel_edit_token_set_and_remove(ops_lead, brand, pixel, ad_account, activity):
    client = writer(ops_lead, activity)
    path = f"/brands/own-brand/pixels/{pixel.pk}"
    other = AdAccountFactory(brand=brand)
    response = client.send("PATCH", path, {"ad_account_ids": [other.pk]}, if_match=1)
    assert (response.status_code, response.json()["ad_account_ids"]) == (200, [other.pk])
    activity.one("pixel.updated", actor=ops_lead, brand=brand)

    response = client.send("PUT", f"{path}/token", {"access_token": TOKEN}, if_match=2)
    assert response.status_code == 200 and TOKEN not in response.content.decode()
    assert response["ETag"] == '"3"'
    assert services.pixel_access_token(pixel=Pixel.objects.get(pk=pixel.pk)) == TOKEN
    activity.one("pixel.token_changed", actor=ops_lead, brand=brand)

    response = client.send("DELETE", f"{path}/token", if_match=3)
    assert (response.status_code, response.json()["has_access_token"]) == (200, False)
    activity.one("pixel.token_removed", actor=ops_lead, brand=brand)
    response = client.send("DELETE", f"{path}/token", if_match=4)
    assert (response.status_code, response.json()["field"]) == (409, "access_token")
    activity.none()


def test_token_writes_need_if_match_and_a_token(ops_lead, pixel, activity):
    client = writer(ops_lead, activity)
    path = f"/brands/own-brand/pixels/{pixel.pk}/token"
    assert client.send("PUT", path, {"access_token": TOKEN}).status_code == 428
    assert client.send("DELETE", path).status_code == 428
    for body in ({}, {"access_token": ""}, {"access_token": "   "}, {"access_token": "x" * 2001}):
        response = client.send("PUT", path, body, if_match=1)
        assert response.status_code == 422, body
        assert "access_token" in loc_fields(response)
    assert services.pixel_access_token(pixel=Pixel.objects.get(pk=pixel.pk)) == "EAAB-test-token"
    activity.none()


def test_pixel_refuses_foreign_or_archived_ad_accounts_naming_the_field(
    ops_lead, brand, foreign_brand, pixel, activity
):
    client = writer(ops_lead, activity)
    foreign = AdAccountFactory(brand=foreign_brand)
    archived = AdAccountFactory(brand=brand, status=CatalogStatus.ARCHIVED, name="Retired")
    for ids in ([foreign.pk], [archived.pk], [2**62]):
        response = client.send(
            "PATCH", f"/brands/own-brand/pixels/{pixel.pk}", {"ad_account_ids": ids}, if_match=1
        )
        assert response.status_code == 422, response.content
        assert loc_fields(response) == {"ad_account_ids"}
    response = client.send(
        "PATCH", f"/brands/own-brand/pixels/{pixel.pk}", {"ad_account_ids": [2**64]}, if_match=1
    )
    assert response.status_code == 422
    activity.none()


def test_pixel_archive_and_restore(ops_lead, brand, pixel, activity):
    client = writer(ops_lead, activity)
    path = f"/brands/own-brand/pixels/{pixel.pk}"
    assert client.send("POST", f"{path}/restore", if_match=1).json()["detail"] == "Already active."
    response = client.send("POST", f"{path}/archive", if_match=1)
    assert (response.status_code, response.json()["status"]) == (200, "archived")
    activity.one("pixel.archived", actor=ops_lead, brand=brand)


# --- brands (admins) -----------------------------------------------------------------------


def test_admin_creates_edits_archives_and_restores_a_brand(admin_user, activity):
    client = writer(admin_user, activity)
    response = client.send("POST", "/brands", {"name": "Nordwind Outdoor", "markets": ["DE"]})
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["slug"], body["markets"], body["version"]) == ("nordwind-outdoor", ["DE"], 1)
    brand = Brand.objects.get(slug="nordwind-outdoor")
    activity.one("brand.created", actor=admin_user, brand=brand)

    response = client.send(
        "PATCH", "/brands/nordwind-outdoor", {"slug": "nordwind", "markets": []}, if_match=1
    )
    assert (response.status_code, response.json()["slug"], response.json()["markets"]) == (
        200,
        "nordwind",
        [],
    )
    entry = activity.one("brand.updated", actor=admin_user, brand=brand)
    assert entry.after == {"slug": "nordwind", "markets": []}
    assert client.send("POST", "/brands/nordwind/archive", if_match=2).status_code == 200
    activity.one("brand.archived", actor=admin_user, brand=brand)
    response = client.send("POST", "/brands/nordwind/archive", if_match=3)
    assert response.json()["detail"] == "Already archived."
    assert client.send("POST", "/brands/nordwind/restore", if_match=3).status_code == 200
    activity.one("brand.restored", actor=admin_user, brand=brand)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "Own brand"}, "name"),  # taken, case-insensitively
        ({"name": "New", "slug": "own-brand"}, "slug"),  # taken
        ({"name": "New", "slug": "not a slug!"}, "slug"),
        ({"name": "!!!"}, "slug"),  # nothing to derive a slug from
        ({"name": "New", "markets": ["XX"]}, "markets"),
        ({"slug": "new"}, "name"),
    ],
)
def test_bad_brand_input_is_422_naming_the_field(admin_user, brand, activity, body, field):
    response = writer(admin_user, activity).send("POST", "/brands", body)
    assert response.status_code == 422, response.content
    assert field in loc_fields(response)
    assert Brand.objects.count() == 1
    activity.none()


def test_ops_lead_may_not_create_or_edit_brands(ops_lead, brand, activity):
    client = writer(ops_lead, activity)
    assert client.send("POST", "/brands", {"name": "Mine"}).status_code == 403
    assert client.send("PATCH", "/brands/own-brand", {"name": "x"}, if_match=1).status_code == 403
    assert client.send("POST", "/brands/own-brand/archive", if_match=1).status_code == 403
    activity.none()


def test_stale_brand_edit_is_409(admin_user, brand, activity):
    client = writer(admin_user, activity)
    assert (
        client.send("PATCH", "/brands/own-brand", {"description": "a"}, if_match=1).status_code
        == 200
    )
    response = client.send("PATCH", "/brands/own-brand", {"description": "b"}, if_match=1)
    assert (response.status_code, response.json()["version"]) == (409, 2)
    assert Brand.objects.get().description == "a"
    assert [e.verb for e in activity.new()] == ["brand.updated"]


def test_markets_of_the_brand_field_is_named_markets(ops_lead, brand, ad_account):
    # markets outside the brand's: named by the field, on create and edit alike
    response = writer(ops_lead).send(
        "PATCH", f"/brands/own-brand/ad-accounts/{ad_account.pk}", {"markets": ["US"]}, if_match=1
    )
    assert (response.status_code, loc_fields(response)) == (422, {"markets"})
    assert market("US") not in AdAccount.objects.get(pk=ad_account.pk).markets.all()


def test_unauthenticated_write_is_401(brand, ad_account):
    response = Writer(None).send(
        "PATCH", f"/brands/own-brand/ad-accounts/{ad_account.pk}", {}, if_match=1
    )
    assert response.status_code == 401


def test_pixel_factory_pixels_of_another_brand_are_404(ops_lead, foreign_brand):
    foreign_pixel = PixelFactory(brand=foreign_brand)
    client = writer(ops_lead)
    assert client.get(f"/brands/own-brand/pixels/{foreign_pixel.pk}").status_code == 404
    assert (
        client.send(
            "DELETE", f"/brands/own-brand/pixels/{foreign_pixel.pk}/token", if_match=1
        ).status_code
        == 404
    )


# --- one write path: the page and the API refuse the same input ----------------------------


def test_page_and_api_refuse_the_same_ad_account_input(ops_lead, brand, ad_account, activity):
    from django.test import Client
    from django.urls import reverse

    AdAccountFactory(brand=brand, external_id="act_777")
    page = Client()
    page.force_login(ops_lead)
    client = writer(ops_lead, activity)
    cases = [
        ({"external_id": "act_777"}, "external_id", "Another Meta ad account already uses act_777"),
        ({"time_zone": "Mars/Olympus"}, "time_zone", "Mars/Olympus"),
    ]
    for change, field, message in cases:
        data = {
            "name": "Main DE",
            "platform": "meta",
            "external_id": "act_5550001",
            "currency": "EUR",
            "time_zone": "Europe/Berlin",
            "version": 1,
        } | change
        response = page.post(
            reverse("catalog:ad_account_edit", args=[brand.slug, ad_account.pk]), data
        )
        assert response.status_code == 422
        assert any(message in error for error in response.context["form"].errors[field])
        response = client.send(
            "PATCH", f"/brands/own-brand/ad-accounts/{ad_account.pk}", change, if_match=1
        )
        assert response.status_code == 422
        assert [e for e in response.json()["detail"] if e["loc"][-1] == field]
    assert AdAccount.objects.get(pk=ad_account.pk).version == 1
    activity.none()


@pytest.mark.parametrize("bad", ["Nul\x00name", "Lone \ud800 surrogate"])
def test_text_the_database_cannot_store_is_422_naming_the_field(ops_lead, activity, bad):
    # json.dumps escapes both (\u0000, \ud800), as a client would send them.
    response = writer(ops_lead, activity).send(
        "POST", "/brands/own-brand/ad-accounts", ad_account_body(name=bad)
    )
    assert response.status_code == 422, response.content
    assert "name" in loc_fields(response)
    activity.none()
