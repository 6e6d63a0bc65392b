"""Consent's needs-attention items: exact counts per role (legal reviewer, ops lead and
admin, media buyer and analyst), links to the filtered matrix, one query for any number of
brands, and never a word about a brand the user does not hold."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from koastops.accounts import policies
from koastops.accounts.models import Role
from koastops.consent import attention as consent_attention
from koastops.consent import content as consent_content
from koastops.dashboard import attention
from koastops.dashboard.selectors import start_brands
from tests.factories import (
    AdminFactory,
    BrandFactory,
    ConsentConfigFactory,
    ConsentSignOffFactory,
    UserFactory,
    _market,
)

pytestmark = pytest.mark.django_db


def _change(config) -> None:
    content = dict(config.content, wait_for_update=900)
    config.content = content
    config.content_hash = consent_content.content_hash(config.market.code, content)
    config.version += 1
    config.save()


def mixed_brand(name: str = "Mixed", slug: str = "mixed"):
    """Eight markets: signed, changed, expired, expiring, never reviewed, rejected, and two
    without a config; plus a config of a market the brand left (not counted)."""
    brand = BrandFactory(name=name, slug=slug)
    now = timezone.now()
    codes = ["DE", "FR", "NL", "BE", "AT", "IT", "ES", "PT"]
    brand.markets.set([_market(code) for code in codes])
    ConsentSignOffFactory(config=ConsentConfigFactory(brand=brand, market=_market("DE")))
    changed = ConsentConfigFactory(brand=brand, market=_market("FR"))
    ConsentSignOffFactory(config=changed)
    _change(changed)
    ConsentSignOffFactory(
        config=ConsentConfigFactory(brand=brand, market=_market("NL")),
        expires_at=now - timedelta(days=1),
    )
    ConsentSignOffFactory(
        config=ConsentConfigFactory(brand=brand, market=_market("BE")),
        expires_at=now + timedelta(days=10),
    )
    ConsentConfigFactory(brand=brand, market=_market("AT"))
    ConsentSignOffFactory(
        config=ConsentConfigFactory(brand=brand, market=_market("IT")), decision="rejected"
    )
    left = ConsentConfigFactory(brand=brand, market=_market("GB", "uk_gdpr"))
    brand.markets.remove(left.market)
    return brand


def items_for(user):
    found = start_brands(user=user)
    return attention.collect(user=user, brands=found.brands, roles=found.roles)


def consent_items(user):
    return {
        (item.brand.slug, item.key): item
        for item in items_for(user)
        if item.key.startswith("consent.")
    }


def test_the_provider_is_registered():
    assert "consent" in attention.providers()


def test_counts_per_status_and_brand():
    brand = mixed_brand()

    counts = consent_attention.status_counts([brand])

    assert counts == {
        brand.pk: {
            "signed": 1,
            "changed": 1,
            "expired": 1,
            "expiring": 1,
            "never_reviewed": 1,
            "rejected": 1,
            "not_configured": 2,
        }
    }


def test_a_legal_reviewer_is_asked_to_review_changed_expired_never_reviewed_and_expiring():
    brand = mixed_brand()
    legal = UserFactory()
    policies.grant_role(legal, brand, Role.LEGAL_REVIEWER)

    found = consent_items(legal)

    assert set(found) == {("mixed", "consent.needs_review")}
    item = found[("mixed", "consent.needs_review")]
    assert item.count == 4
    assert item.title == "4 consent configs need your review"
    assert item.tone == "failing"  # changed and expired: no valid sign-off now
    assert item.href == reverse("consent:matrix", args=["mixed"])  # mixed groups: no filter


def test_one_group_links_the_matrix_filtered_by_it_and_is_a_warning():
    brand = BrandFactory(slug="calm")
    ConsentConfigFactory(brand=brand, market=_market("DE"))
    legal = UserFactory()
    policies.grant_role(legal, brand, Role.LEGAL_REVIEWER)

    [item] = consent_items(legal).values()

    assert item.title == "1 consent config needs your review"
    assert item.tone == "warning"
    assert item.href == reverse("consent:matrix", args=["calm"]) + "?status=never_reviewed"


def test_a_reviewer_with_nothing_to_review_gets_no_item():
    brand = BrandFactory()
    ConsentSignOffFactory(config=ConsentConfigFactory(brand=brand, market=_market("DE")))
    legal = UserFactory()
    policies.grant_role(legal, brand, Role.LEGAL_REVIEWER)

    assert consent_items(legal) == {}


def test_ops_leads_and_admins_see_missing_configs_and_rejections():
    mixed_brand()
    lead = UserFactory()
    policies.grant_role(lead, mixed_brand("Other", "other"), Role.OPS_LEAD)
    admin = AdminFactory()

    led = consent_items(lead)
    assert set(led) == {("other", "consent.setup"), ("other", "consent.setup_rejected")}
    assert led[("other", "consent.setup")].count == 2
    assert led[("other", "consent.setup")].title == "2 markets have no consent config"
    assert led[("other", "consent.setup")].href.endswith("/other/consent/?status=not_configured")
    rejected = led[("other", "consent.setup_rejected")]
    assert rejected.count == 1
    assert rejected.title == "1 consent config was rejected and needs changes"
    assert rejected.href.endswith("?status=rejected")
    assert {item.tone for item in led.values()} == {"warning"}

    by_admin = consent_items(admin)
    assert set(by_admin) == {
        ("mixed", "consent.setup"),
        ("mixed", "consent.setup_rejected"),
        ("other", "consent.setup"),
        ("other", "consent.setup_rejected"),
    }  # admins hold no role: never the reviewer's item


def test_an_admin_holding_the_reviewer_role_still_gets_the_setup_items_only():
    brand = mixed_brand()
    admin = AdminFactory()
    policies.grant_role(admin, brand, Role.LEGAL_REVIEWER)

    assert set(consent_items(admin)) == {
        ("mixed", "consent.setup"),
        ("mixed", "consent.setup_rejected"),
    }


@pytest.mark.parametrize("role", [Role.MEDIA_BUYER, Role.ANALYST])
def test_buyers_and_analysts_see_markets_without_a_valid_signoff(role):
    brand = mixed_brand()
    user = UserFactory()
    policies.grant_role(user, brand, role)

    [item] = consent_items(user).values()

    assert item.key == "consent.unsigned"
    # changed, expired, never reviewed, rejected and two without config; signed and
    # expiring are valid; the config of the market the brand left is not counted.
    assert item.count == 6
    assert item.title == "6 markets without a valid consent sign-off"
    assert item.tone == "warning"
    assert item.href == reverse("consent:matrix", args=["mixed"])


@pytest.mark.parametrize("role", [Role.MEDIA_BUYER, Role.ANALYST, Role.OPS_LEAD])
def test_all_valid_means_no_item(role):
    brand = BrandFactory()
    ConsentSignOffFactory(config=ConsentConfigFactory(brand=brand, market=_market("DE")))
    user = UserFactory()
    policies.grant_role(user, brand, role)

    assert consent_items(user) == {}


def test_a_user_without_a_role_gets_nothing_and_no_query():
    mixed_brand()
    outsider = UserFactory()

    with CaptureQueriesContext(connection) as captured:
        found = list(
            attention.providers()["consent"](user=outsider, brands=[], roles={})  # type: ignore[call-arg]
        )
    assert found == []
    assert not captured


def test_foreign_brands_never_appear():
    mixed_brand("Foreign Secret", "foreign-secret")
    own = mixed_brand("Own", "own")
    for role in Role:
        user = UserFactory()
        policies.grant_role(user, own, role)
        items = items_for(user)
        assert all(item.brand.slug != "foreign-secret" for item in items), role
        assert "Foreign Secret" not in " ".join(item.title + item.href for item in items)


@pytest.mark.parametrize("role", [Role.LEGAL_REVIEWER, Role.OPS_LEAD, Role.ANALYST, "admin"])
def test_one_query_for_1_and_20_brands(role):
    user = AdminFactory() if role == "admin" else UserFactory()

    def add(n: int) -> None:
        for index in range(n):
            brand = BrandFactory()
            brand.markets.set([_market("DE"), _market("FR")])
            config = ConsentConfigFactory(brand=brand, market=_market("DE"))
            if index % 2:
                ConsentSignOffFactory(config=config, decision="rejected")
            if role != "admin":
                policies.grant_role(user, brand, role)

    def count() -> tuple[int, int]:
        found = start_brands(user=user)
        with CaptureQueriesContext(connection) as captured:
            items = list(
                attention.providers()["consent"](user=user, brands=found.brands, roles=found.roles)
            )
        return len(captured), len(items)

    add(1)
    one, items_one = count()
    add(19)
    many, items_many = count()
    assert one == many == 1
    assert items_many > items_one > 0
