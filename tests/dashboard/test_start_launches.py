"""The start page's "What needs me now": launches awaiting my review, my launches needing
changes (and ready), consent reviews due, open alerts and pixel problems on my brands,
each with its count and links; nothing for what the user may not see; the same queries
for 1 and 50 brands."""

from __future__ import annotations

import itertools
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from koastops.accounts import policies
from koastops.accounts.models import Role
from tests.factories import (
    AlertFactory,
    BrandFactory,
    ConsentConfigFactory,
    LaunchFactory,
    UserFactory,
    _market,
)

pytestmark = pytest.mark.django_db
_events = itertools.count()


def _launch(brand, **kwargs):
    """A launch of ``brand`` with an event of its own (one brand, several launches)."""
    return LaunchFactory(brand=brand, optimization_event__name=f"Event{next(_events)}", **kwargs)


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def section(html: str) -> str:
    match = re.search(r'<section aria-labelledby="needs-me-heading".*?</section>', html, re.S)
    assert match, "no What needs me now section"
    return match.group(0)


def _line(part: str, key: str) -> str:
    match = re.search(
        rf'<li class="needs-me-item[^"]*" data-needs-me="{re.escape(key)}">(.*?)</li>', part, re.S
    )
    assert match, key
    return match.group(1)


def test_an_ops_lead_sees_what_awaits_their_review_with_links_per_brand():
    north = BrandFactory(name="North <i>Star</i>", slug="north")
    south = BrandFactory(name="South", slug="south")
    lead, buyer = UserFactory(), UserFactory()
    for brand in (north, south):
        policies.grant_role(lead, brand, Role.OPS_LEAD)
        policies.grant_role(buyer, brand, Role.MEDIA_BUYER)
    _launch(north, state="in_review", created_by=buyer, submitted_by=buyer)
    _launch(south, state="in_review", created_by=buyer, submitted_by=buyer)
    _launch(south, state="in_review", created_by=buyer, submitted_by=buyer)
    _launch(south, state="in_review", created_by=lead, submitted_by=lead)  # own
    _launch(south, state="needs_changes", created_by=lead)

    response = _client(lead).get(reverse("home"))

    html = response.content.decode()
    part = section(html)
    queue = reverse("launches_global:queue")
    review = _line(part, "launches.awaiting_review")
    assert '<strong class="needs-me-count">3</strong>' in review
    assert f'href="{queue}"' in review  # every brand at once
    assert f'href="{queue}?brand=south"' in review and "South (2)" in review
    assert f'href="{queue}?brand=north"' in review
    assert "North &lt;i&gt;Star&lt;/i&gt; (1)" in review and "<i>Star</i>" not in html
    changes = _line(part, "launches.needs_changes")
    assert (
        f'href="{reverse("launches:list", args=["south"])}?state=needs_changes&amp;mine=1"'
        in changes
    )
    # Most needed first, and above the per-brand panel.
    assert part.index("launches.awaiting_review") < part.index("launches.needs_changes")
    assert html.index("needs-me-heading") < html.index("attention-heading")


def test_a_media_buyer_sees_their_own_launches_not_reviews():
    brand = BrandFactory(slug="shop")
    buyer, other = UserFactory(), UserFactory()
    for user in (buyer, other):
        policies.grant_role(user, brand, Role.MEDIA_BUYER)
    _launch(brand, state="in_review", created_by=other, submitted_by=other)
    _launch(brand, state="needs_changes", created_by=other)
    _launch(brand, state="ready", created_by=buyer)

    part = section(_client(buyer).get(reverse("home")).content.decode())

    assert 'data-needs-me="launches.awaiting_review"' not in part
    assert 'data-needs-me="launches.needs_changes"' not in part
    ready = _line(part, "launches.ready")
    assert '<strong class="needs-me-count">1</strong>' in ready
    assert f"{reverse('launches:list', args=['shop'])}?state=ready&amp;mine=1" in ready


def test_consent_reviews_and_open_alerts_show_with_their_counts_and_links():
    brand = BrandFactory(slug="calm")
    brand.markets.add(_market("DE"), _market("FR"))
    ConsentConfigFactory(brand=brand, market=_market("DE"))  # never reviewed
    ConsentConfigFactory(brand=brand, market=_market("FR"))
    legal = UserFactory()
    policies.grant_role(legal, brand, Role.LEGAL_REVIEWER)
    AlertFactory(rule__brand=brand)

    part = section(_client(legal).get(reverse("home")).content.decode())

    consent = _line(part, "consent.needs_review")
    assert '<strong class="needs-me-count">2</strong>' in consent
    assert reverse("consent:matrix", args=["calm"]) in consent
    alerts = _line(part, "quality.open_alerts")
    assert f"{reverse('quality:alerts', args=['calm'])}?status=open" in alerts
    assert "needs-me-failing" in part  # a silent pixel's alert is failing


def test_nothing_to_do_says_so():
    brand = BrandFactory()
    user = UserFactory()
    policies.grant_role(user, brand, Role.ANALYST)
    part = section(_client(user).get(reverse("home")).content.decode())
    assert "Nothing needs you right now" in part


def test_a_foreign_brands_launches_never_show():
    mine, foreign = BrandFactory(slug="mine"), BrandFactory(name="Foreign Secret", slug="secret")
    lead, stranger = UserFactory(), UserFactory()
    policies.grant_role(lead, mine, Role.OPS_LEAD)
    policies.grant_role(stranger, foreign, Role.MEDIA_BUYER)
    _launch(foreign, state="in_review", created_by=stranger, submitted_by=stranger)
    html = _client(lead).get(reverse("home")).content.decode()
    assert "Foreign Secret" not in html and "brand=secret" not in html
    assert "Nothing needs you right now" in section(html)


def _brands(n: int, user, role) -> None:
    for _ in range(n):
        launch = LaunchFactory(state="in_review", submitted_by=None)
        LaunchFactory(
            brand=launch.brand,
            ad_account=launch.ad_account,
            pixel=launch.pixel,
            optimization_event=launch.optimization_event,
            state="needs_changes",
            created_by=user,
        )
        policies.grant_role(user, launch.brand, role)
        policies.grant_role(launch.created_by, launch.brand, Role.MEDIA_BUYER)


@pytest.mark.parametrize("role", [Role.OPS_LEAD, Role.MEDIA_BUYER])
def test_the_same_queries_for_1_and_50_brands(role):
    user = UserFactory()
    client = _client(user)

    def count() -> tuple[int, str]:
        with CaptureQueriesContext(connection) as captured:
            response = client.get(reverse("home"))
        assert response.status_code == 200
        return len(captured), section(response.content.decode())

    _brands(1, user, role)
    one, _part_one = count()
    _brands(49, user, role)
    fifty, part = count()
    assert fifty == one
    assert '<strong class="needs-me-count">50</strong>' in _line(part, "launches.needs_changes")
    if role == Role.OPS_LEAD:
        assert '<strong class="needs-me-count">50</strong>' in _line(
            part, "launches.awaiting_review"
        )
        assert "and 45 more brands" in _line(part, "launches.awaiting_review")
    else:
        assert "launches.awaiting_review" not in part
