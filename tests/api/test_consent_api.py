"""The consent API: the per-market list (configs, hashes, statuses, current sign-off,
warnings, markets without a config), the sign-offs of one config (newest first, paginated,
the exact signed content, which one is valid now), every role reads, foreign brands and
bad markets are 404 JSON, and both answer in a constant number of queries."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from koastops.catalog.models import Market
from koastops.consent import content as consent_content
from koastops.consent.models import ConsentConfig
from tests.api.conftest import ApiClient, token_for
from tests.factories import ConsentConfigFactory, ConsentSignOffFactory, _market

pytestmark = pytest.mark.django_db

HOSTILE = '<script>alert(1)</script> "quoted" </script>\nnext line'


def client_for(user) -> ApiClient:
    return ApiClient(token_for(user))


def _items(response) -> dict[str, dict]:
    assert response.status_code == 200, response.content
    return {item["market"]["code"]: item for item in response.json()["items"]}


def _changed(config: ConsentConfig) -> ConsentConfig:
    """The signed content edited (as config_save would: new content, new hash)."""
    content = dict(config.content, wait_for_update=900)
    config.content = content
    config.content_hash = consent_content.content_hash(config.market.code, content)
    config.version += 1
    config.save()
    return config


def test_urls_are_the_named_ones():
    assert reverse("api-v1:consent_list", args=["own-brand"]) == "/api/v1/brands/own-brand/consent"
    assert (
        reverse("api-v1:consent_signoffs", args=["own-brand", "de"])
        == "/api/v1/brands/own-brand/consent/de/sign-offs"
    )


def test_lists_every_market_with_its_config_status_and_current_signoff(
    analyst, legal_reviewer, brand, foreign_brand
):
    de = ConsentConfigFactory(brand=brand, market=_market("DE"), internal_notes=HOSTILE)
    signoff = ConsentSignOffFactory(config=de, reviewer=legal_reviewer, comment=HOSTILE)
    fr = ConsentConfigFactory(brand=brand, market=_market("FR"))
    ConsentSignOffFactory(
        config=fr, decision="rejected", reasons=["defaults", "gating"], reviewer=legal_reviewer
    )
    ConsentConfigFactory(brand=foreign_brand, market=_market("DE"), internal_notes="ForeignSecret")

    for user in (analyst, legal_reviewer):
        response = client_for(user).get("/brands/own-brand/consent")
        items = _items(response)
        assert list(items) == ["AT", "DE", "FR"]  # by code: every market of the brand
        assert "ForeignSecret" not in response.content.decode()

        at = items["AT"]
        assert at["configured"] is False
        assert at["status"] == "not_configured"
        assert at["status_label"] == "Not configured"
        assert at["valid"] is False
        assert at["version"] == 0
        assert at["content"] is None and at["content_hash"] is None
        assert at["current_signoff"] is None
        assert at["market"] == {"code": "AT", "name": "Austria", "privacy_regime": "gdpr"}

        item = items["DE"]
        assert item["configured"] is True and item["brand_market"] is True
        assert item["status"] == "signed" and item["valid"] is True
        assert item["status_label"] == "Signed"
        assert item["content"] == de.content
        assert item["content_hash"] == de.content_hash
        assert item["version"] == de.version
        assert item["internal_notes"] == HOSTILE  # JSON: the client escapes what it shows
        assert item["warnings"] == []
        current = item["current_signoff"]
        assert current["id"] == signoff.pk
        assert current["decision"] == "approved"
        assert current["reviewer"] == legal_reviewer.email
        assert current["signed_hash"] == de.content_hash
        assert current["config_version"] == de.version
        assert current["comment"] == HOSTILE
        assert current["expires_at"] is not None
        assert current["reasons"] == []

        rejected = items["FR"]
        assert rejected["status"] == "rejected" and rejected["valid"] is False
        assert rejected["current_signoff"]["reasons"] == ["defaults", "gating"]
        assert rejected["current_signoff"]["expires_at"] is None


def test_statuses_changed_expiring_expired_never_reviewed(brand, analyst):
    brand.markets.add(*(_market(code) for code in ("BE", "NL", "ES", "IT")))
    ConsentConfigFactory(brand=brand, market=_market("DE"))  # never reviewed
    changed = ConsentConfigFactory(brand=brand, market=_market("FR"))
    ConsentSignOffFactory(config=changed)
    _changed(changed)
    now = timezone.now()
    expiring = ConsentConfigFactory(brand=brand, market=_market("BE"))
    ConsentSignOffFactory(config=expiring, expires_at=now + timedelta(days=20))
    expired = ConsentConfigFactory(brand=brand, market=_market("NL"))
    ConsentSignOffFactory(config=expired, expires_at=now - timedelta(days=1))

    items = _items(client_for(analyst).get("/brands/own-brand/consent"))

    assert {code: item["status"] for code, item in items.items()} == {
        "AT": "not_configured",
        "BE": "expiring",
        "DE": "never_reviewed",
        "ES": "not_configured",
        "FR": "changed",
        "IT": "not_configured",
        "NL": "expired",
    }
    assert [code for code, item in items.items() if item["valid"]] == ["BE"]
    fr = items["FR"]
    assert fr["current_signoff"]["signed_hash"] != fr["content_hash"]
    assert fr["current_signoff"]["config_version"] == fr["version"] - 1


def test_warnings_name_the_content_path(brand, analyst):
    content = consent_content.defaults_for("gdpr", "DE")
    content["defaults"]["ad_storage"] = "granted"
    ConsentConfigFactory(brand=brand, market=_market("DE"), content=content)

    item = _items(client_for(analyst).get("/brands/own-brand/consent"))["DE"]

    assert [w["path"] for w in item["warnings"]] == ["defaults.ad_storage"]
    assert "granted by default" in item["warnings"][0]["message"]


def test_a_config_of_a_market_the_brand_left_is_still_listed(brand, analyst):
    config = ConsentConfigFactory(brand=brand, market=_market("GB", "uk_gdpr"))
    brand.markets.remove(config.market)

    items = _items(client_for(analyst).get("/brands/own-brand/consent"))

    assert list(items) == ["AT", "DE", "FR", "GB"]
    assert items["GB"]["brand_market"] is False
    assert items["GB"]["configured"] is True


def test_list_queries_are_constant_for_1_and_30_markets(brand, analyst):
    ConsentSignOffFactory(config=ConsentConfigFactory(brand=brand, market=_market("DE")))
    client = client_for(analyst)
    client.count_queries("/brands/own-brand/consent")  # the token's first use is recorded
    few = client.count_queries("/brands/own-brand/consent")

    codes = list(Market.objects.exclude(code__in=["DE", "AT", "FR"]).values_list("code", flat=True))
    for code in codes[:27]:
        config = ConsentConfigFactory(brand=brand, market=_market(code))
        ConsentSignOffFactory(config=config)
    assert brand.markets.count() == 30
    response = client.get("/brands/own-brand/consent")
    assert len(response.json()["items"]) == 30

    assert client.count_queries("/brands/own-brand/consent") == few


def test_foreign_brand_and_outsider_get_404_json(analyst, foreign_brand):
    ConsentConfigFactory(brand=foreign_brand, market=_market("DE"))
    client = client_for(analyst)

    for path in ("/brands/foreign-brand/consent", "/brands/foreign-brand/consent/de/sign-offs"):
        response = client.get(path)
        assert response.status_code == 404
        assert response.json() == {"detail": "Not found."}


def test_without_a_token_is_401(brand):
    response = ApiClient(None).get("/brands/own-brand/consent")
    assert response.status_code == 401


# --- sign-offs ------------------------------------------------------------------------------


def test_signoffs_newest_first_with_the_exact_content_and_which_is_valid_now(
    brand, analyst, legal_reviewer
):
    config = ConsentConfigFactory(brand=brand, market=_market("DE"))
    now = timezone.now()
    first = ConsentSignOffFactory(
        config=config, reviewer=legal_reviewer, decided_at=now - timedelta(days=3)
    )
    signed_content = dict(config.content)
    _changed(config)
    second = ConsentSignOffFactory(
        config=config,
        decision="rejected",
        reasons=["gating"],
        comment=HOSTILE,
        reviewer=legal_reviewer,
        decided_at=now - timedelta(days=2),
    )
    config.refresh_from_db()
    _changed(config)
    third = ConsentSignOffFactory(config=config, reviewer=legal_reviewer, decided_at=now)

    response = client_for(analyst).get("/brands/own-brand/consent/DE/sign-offs")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["count"] == 3 and body["page"] == 1 and body["page_size"] == 25
    assert [item["id"] for item in body["items"]] == [third.pk, second.pk, first.pk]
    assert [item["sequence"] for item in body["items"]] == [3, 2, 1]
    assert [item["valid_now"] for item in body["items"]] == [True, False, False]
    oldest = body["items"][2]
    assert oldest["content"] == signed_content
    assert oldest["content_hash"] == first.content_hash
    assert oldest["reviewer"] == legal_reviewer.email
    assert oldest["decision"] == "approved" and oldest["expires_at"] is not None
    middle = body["items"][1]
    assert middle["decision"] == "rejected"
    assert middle["reasons"] == ["gating"]
    assert middle["comment"] == HOSTILE
    assert middle["config_version"] == second.config_version
    assert set(oldest) == {
        "id",
        "sequence",
        "decision",
        "reviewer",
        "decided_at",
        "expires_at",
        "config_version",
        "content_hash",
        "content",
        "reasons",
        "comment",
        "valid_now",
    }


def test_the_current_approval_is_not_valid_once_the_content_changed(brand, analyst):
    config = ConsentConfigFactory(brand=brand, market=_market("DE"))
    ConsentSignOffFactory(config=config)
    _changed(config)

    body = client_for(analyst).get("/brands/own-brand/consent/de/sign-offs").json()

    assert [item["valid_now"] for item in body["items"]] == [False]


def test_signoffs_paginate(brand, analyst):
    config = ConsentConfigFactory(brand=brand, market=_market("DE"))
    now = timezone.now()
    for n in range(3):
        ConsentSignOffFactory(config=config, decided_at=now - timedelta(days=10 - n))
        config.refresh_from_db()
        _changed(config)
    client = client_for(analyst)

    page2 = client.get("/brands/own-brand/consent/de/sign-offs", {"page": 2, "page_size": 2})

    assert page2.status_code == 200
    body = page2.json()
    assert (body["count"], body["page"], body["page_size"]) == (3, 2, 2)
    assert [item["sequence"] for item in body["items"]] == [1]
    past = client.get("/brands/own-brand/consent/de/sign-offs", {"page": 9}).json()
    assert past["items"] == [] and past["count"] == 3
    assert client.get("/brands/own-brand/consent/de/sign-offs", {"page_size": 0}).status_code == 422


def test_a_market_of_the_brand_without_config_has_no_signoffs(brand, analyst):
    response = client_for(analyst).get("/brands/own-brand/consent/at/sign-offs")

    assert response.status_code == 200
    assert response.json() == {"items": [], "count": 0, "page": 1, "page_size": 25}


@pytest.mark.parametrize(
    "market",
    ["us", "zz", "ÿÿ", "d", "deu", "x" * 500, "d%00", "%00%00", "de%20", "..", "1a"],
)
def test_unknown_or_bad_markets_are_404_json(brand, analyst, market):
    ConsentConfigFactory(brand=brand, market=_market("DE"))

    response = client_for(analyst).get(f"/brands/own-brand/consent/{market}/sign-offs")

    assert response.status_code in (404, 422), response.content
    assert "detail" in response.json()


def test_signoffs_queries_are_constant_for_1_and_many(brand, analyst):
    config = ConsentConfigFactory(brand=brand, market=_market("DE"))
    ConsentSignOffFactory(config=config)
    client = client_for(analyst)
    client.count_queries("/brands/own-brand/consent/de/sign-offs")  # the token's first use
    few = client.count_queries("/brands/own-brand/consent/de/sign-offs")
    for _ in range(20):
        config.refresh_from_db()
        _changed(config)
        ConsentSignOffFactory(config=config)

    assert client.count_queries("/brands/own-brand/consent/de/sign-offs") == few


def test_both_are_in_the_openapi_document(brand, analyst):
    response = ApiClient(None).client.get("/api/v1/openapi.json")
    paths = response.json()["paths"]
    assert "/api/v1/brands/{slug}/consent" in paths
    assert "/api/v1/brands/{slug}/consent/{market}/sign-offs" in paths
    listed = paths["/api/v1/brands/{slug}/consent"]["get"]["responses"]
    assert {"200", "401", "403", "404"} <= {str(code) for code in listed}
