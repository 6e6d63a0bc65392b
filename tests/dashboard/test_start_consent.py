"""The legal reviewer's start page: a "Consent reviews" section with, per brand they
review, the configs per status linked to the filtered matrix and what needs them now;
nobody else sees it; no query more than without it, for 1 or 20 brands."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from koastops.accounts import policies
from koastops.accounts.models import Role
from koastops.consent import content as consent_content
from koastops.dashboard import views
from tests.factories import (
    AdminFactory,
    BrandFactory,
    ConsentConfigFactory,
    ConsentSignOffFactory,
    UserFactory,
    _market,
)

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _change(config) -> None:
    content = dict(config.content, wait_for_update=900)
    config.content = content
    config.content_hash = consent_content.content_hash(config.market.code, content)
    config.version += 1
    config.save()


def reviewed_brand(name: str, slug: str):
    """DE changed since sign-off, FR expiring, AT never reviewed, NL rejected, BE signed,
    IT expired."""
    brand = BrandFactory(name=name, slug=slug)
    now = timezone.now()
    changed = ConsentConfigFactory(brand=brand, market=_market("DE"))
    ConsentSignOffFactory(config=changed)
    _change(changed)
    ConsentSignOffFactory(
        config=ConsentConfigFactory(brand=brand, market=_market("FR")),
        expires_at=now + timedelta(days=20),
    )
    ConsentConfigFactory(brand=brand, market=_market("AT"))
    ConsentSignOffFactory(
        config=ConsentConfigFactory(brand=brand, market=_market("NL")), decision="rejected"
    )
    ConsentSignOffFactory(config=ConsentConfigFactory(brand=brand, market=_market("BE")))
    ConsentSignOffFactory(
        config=ConsentConfigFactory(brand=brand, market=_market("IT")),
        expires_at=now - timedelta(days=2),
    )
    return brand


def section(html: str) -> str:
    match = re.search(
        r'<section aria-labelledby="consent-reviews-heading".*?</section>', html, re.S
    )
    assert match, "no Consent reviews section"
    return match.group(0)


def test_a_legal_reviewer_sees_counts_per_status_linked_to_the_filtered_matrix():
    brand = reviewed_brand("Nordic <b>Bold</b>", "nordic")
    legal = UserFactory()
    policies.grant_role(legal, brand, Role.LEGAL_REVIEWER)

    response = _client(legal).get(reverse("home"))

    html = response.content.decode()
    part = section(html)
    assert "Consent reviews" in part
    assert "4 need you now" in part  # changed, expired, never reviewed, expiring
    assert "Nordic &lt;b&gt;Bold&lt;/b&gt;" in part and "<b>Bold</b>" not in html
    matrix = reverse("consent:matrix", args=["nordic"])
    for status in ("changed", "expired", "never_reviewed", "expiring", "rejected", "signed"):
        assert f'href="{matrix}?status={status}"' in part, status
        assert consent_content.STATUSES[status] in part
    [row] = response.context["consent_reviews"]["rows"]
    assert {cell["status"]: cell["count"] for cell in row["cells"]} == {
        "changed": 1,
        "expired": 1,
        "never_reviewed": 1,
        "expiring": 1,
        "rejected": 1,
        "signed": 1,
    }
    # The section comes before the brand table.
    assert html.index("consent-reviews-heading") < html.index("brands-heading")


def test_one_brand_needs_nothing_and_says_so():
    brand = BrandFactory(name="Calm", slug="calm")
    ConsentSignOffFactory(config=ConsentConfigFactory(brand=brand, market=_market("DE")))
    legal = UserFactory()
    policies.grant_role(legal, brand, Role.LEGAL_REVIEWER)

    part = section(_client(legal).get(reverse("home")).content.decode())

    assert "Nothing needs your review right now." in part
    assert f'href="{reverse("consent:matrix", args=["calm"])}?status=signed"' in part


def test_only_the_brands_they_review_and_never_a_foreign_brand():
    mine = reviewed_brand("Mine Reviewed", "mine")
    led = reviewed_brand("Led Only", "led")
    reviewed_brand("Foreign Secret", "foreign-secret")
    legal = UserFactory()
    policies.grant_role(legal, mine, Role.LEGAL_REVIEWER)
    policies.grant_role(legal, led, Role.ANALYST)

    html = _client(legal).get(reverse("home")).content.decode()

    part = section(html)
    assert "Mine Reviewed" in part
    assert "Led Only" not in part  # an analyst there: the brand table shows it, not this
    assert "Foreign Secret" not in html
    assert "foreign-secret" not in html


@pytest.mark.parametrize("role", [Role.OPS_LEAD, Role.MEDIA_BUYER, Role.ANALYST])
def test_other_roles_see_no_section(role):
    brand = reviewed_brand("Brand", "brand")
    user = UserFactory()
    policies.grant_role(user, brand, role)

    response = _client(user).get(reverse("home"))

    assert response.context["consent_reviews"] is None
    assert "consent-reviews-heading" not in response.content.decode()


def test_an_admin_sees_no_section():
    reviewed_brand("Brand", "brand")

    response = _client(AdminFactory()).get(reverse("home"))

    assert "consent-reviews-heading" not in response.content.decode()


def test_most_needing_brands_first_and_and_n_more(monkeypatch):
    monkeypatch.setattr(views, "REVIEW_ROWS", 2)
    legal = UserFactory()
    calm = BrandFactory(name="Aaa Calm", slug="aaa-calm")
    ConsentSignOffFactory(config=ConsentConfigFactory(brand=calm, market=_market("DE")))
    busy = reviewed_brand("Zzz Busy", "zzz-busy")
    some = BrandFactory(name="Mmm Some", slug="mmm-some")
    ConsentConfigFactory(brand=some, market=_market("DE"))
    for brand in (calm, busy, some):
        policies.grant_role(legal, brand, Role.LEGAL_REVIEWER)

    response = _client(legal).get(reverse("home"))

    reviews = response.context["consent_reviews"]
    assert [row["brand"].name for row in reviews["rows"]] == ["Zzz Busy", "Mmm Some"]
    assert reviews["more"] == 1
    assert reviews["total"] == 5
    part = section(response.content.decode())
    assert "And 1 more brand you review" in part
    assert "5 need you now" in part


def _count(client) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("home"))
    assert response.status_code == 200
    return len(captured)


def test_the_section_costs_no_query_and_stays_constant_for_1_and_20_brands():
    legal = UserFactory()
    analyst = UserFactory()

    def add(n: int, start: int) -> None:
        for index in range(start, start + n):
            brand = BrandFactory(name=f"Brand {index:02d}", slug=f"brand-{index:02d}")
            brand.markets.add(_market("FR"))
            ConsentConfigFactory(brand=brand, market=_market("DE"))
            policies.grant_role(legal, brand, Role.LEGAL_REVIEWER)
            policies.grant_role(analyst, brand, Role.ANALYST)

    add(1, 0)
    legal_client, analyst_client = _client(legal), _client(analyst)
    _count(legal_client)  # the session's first use
    _count(analyst_client)
    legal_one, analyst_one = _count(legal_client), _count(analyst_client)
    add(19, 1)
    legal_many = _count(legal_client)
    assert legal_many == legal_one
    # The same queries as a role without the section: the counts are the provider's.
    assert legal_many == _count(analyst_client) == analyst_one
    response = legal_client.get(reverse("home"))
    assert len(response.context["consent_reviews"]["rows"]) == 20
    assert "20 need you now" in section(response.content.decode())
