"""Launches' "needs attention" items: awaiting my review (four eyes), my launches needing
changes and ready to submit; only what the user may see; one grouped query for 1 and 50
brands."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from koastops.accounts import policies
from koastops.accounts.models import Role
from koastops.dashboard import attention
from koastops.dashboard.selectors import brands_with_roles
from tests.factories import (
    AdAccountFactory,
    AdminFactory,
    BrandFactory,
    EventDefinitionFactory,
    LaunchFactory,
    PixelFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

KEYS = (
    "launches.awaiting_review",
    "launches.needs_changes",
    "launches.ready",
    "launches.regressed",
)


class Shop:
    """A brand with two ad accounts (each with a pixel) and one event, so launches reuse them."""

    def __init__(self, name: str = "Shop", slug: str = "shop", **brand) -> None:
        self.brand = BrandFactory(**({"name": name, "slug": slug} if name else {}), **brand)
        self.accounts = [AdAccountFactory(brand=self.brand) for _ in range(2)]
        self.pixels = [PixelFactory(brand=self.brand) for _ in self.accounts]
        self.event = EventDefinitionFactory(brand=self.brand, name="Purchase")

    def launch(self, state: str, *, by, submitted_by=None, account: int = 0, name: str = ""):
        return LaunchFactory(
            brand=self.brand,
            ad_account=self.accounts[account],
            pixel=self.pixels[account],
            optimization_event=self.event,
            state=state,
            created_by=by,
            submitted_by=submitted_by,
            **({"campaign_name": name} if name else {}),
        )


def _items(user):
    brands, roles = brands_with_roles(user=user)
    with attention.sharing():
        items = attention.collect(user=user, brands=brands, roles=roles)
    return {(item.brand.slug, item.key): item for item in items if item.key in KEYS}


def _people(shop: Shop):
    buyer, lead, other_lead = UserFactory(), UserFactory(), UserFactory()
    policies.grant_role(buyer, shop.brand, Role.MEDIA_BUYER)
    policies.grant_role(lead, shop.brand, Role.OPS_LEAD)
    policies.grant_role(other_lead, shop.brand, Role.OPS_LEAD)
    return buyer, lead, other_lead


def test_the_providers_are_registered_under_their_keys():
    assert {"launches.awaiting_review", "launches.needs_changes"} <= set(attention.providers())


def test_an_ops_lead_is_asked_to_review_others_launches_never_their_own():
    shop = Shop()
    buyer, lead, other_lead = _people(shop)
    shop.launch("in_review", by=buyer, submitted_by=buyer)
    shop.launch("in_review", by=buyer, submitted_by=buyer)
    shop.launch("in_review", by=lead, submitted_by=lead)  # lead's own: the other lead's
    shop.launch("in_review", by=buyer, submitted_by=lead)  # lead submitted it
    shop.launch("approved", by=buyer, submitted_by=buyer)  # decided: nobody's
    shop.launch("checking", by=buyer, submitted_by=buyer)  # not yet

    mine = _items(lead)[("shop", "launches.awaiting_review")]
    assert mine.count == 2
    assert mine.title == "2 launches await your review"
    assert mine.href == f"{reverse('launches_global:queue')}?brand=shop"
    assert _items(other_lead)[("shop", "launches.awaiting_review")].count == 4
    # A media buyer holds no launch.approve: never asked to review.
    assert ("shop", "launches.awaiting_review") not in _items(buyer)


def test_an_admin_reviews_on_every_brand_but_not_what_they_submitted():
    shop = Shop()
    buyer, _lead, _other = _people(shop)
    admin = AdminFactory()
    shop.launch("in_review", by=buyer, submitted_by=buyer)
    shop.launch("in_review", by=buyer, submitted_by=admin)
    assert _items(admin)[("shop", "launches.awaiting_review")].count == 1


def test_live_launches_with_an_open_regression_fail_for_everyone_who_sees_them():
    from tests.factories import RegressionFactory

    shop = Shop()
    buyer, lead, _other = _people(shop)
    narrowed = UserFactory()
    policies.grant_role(narrowed, shop.brand, Role.MEDIA_BUYER)
    policies.set_ad_account_narrowing(narrowed, shop.brand, [shop.accounts[1]])
    live = shop.launch("launched", by=buyer, submitted_by=buyer)
    RegressionFactory(launch=live, brand=shop.brand)
    resolved = shop.launch("launched", by=buyer, submitted_by=buyer)
    RegressionFactory(
        launch=resolved, brand=shop.brand, status="resolved", resolved_at=live.created_at
    )
    for who in (lead, buyer):
        item = _items(who)[("shop", "launches.regressed")]
        assert item.count == 1 and item.tone == "failing"
        assert item.title == "1 launch live with a check that now fails"
    # The launch is on an account the narrowed buyer may not use: not counted for them.
    assert ("shop", "launches.regressed") not in _items(narrowed)


def test_my_launches_needing_changes_and_ready_are_mine_only():
    shop = Shop()
    buyer, lead, _other = _people(shop)
    other_buyer = UserFactory()
    policies.grant_role(other_buyer, shop.brand, Role.MEDIA_BUYER)
    shop.launch("needs_changes", by=buyer)
    shop.launch("needs_changes", by=other_buyer, submitted_by=buyer)  # I submitted it
    shop.launch("needs_changes", by=other_buyer)  # someone else's
    shop.launch("ready", by=buyer)
    shop.launch("draft", by=buyer)
    shop.launch("rejected", by=buyer, submitted_by=buyer)

    items = _items(buyer)
    changes = items[("shop", "launches.needs_changes")]
    assert changes.count == 2
    assert changes.title == "2 launches of yours need changes"
    list_url = reverse("launches:list", args=["shop"])
    assert changes.href == f"{list_url}?state=needs_changes&mine=1"
    ready = items[("shop", "launches.ready")]
    assert (ready.count, ready.href) == (1, f"{list_url}?state=ready&mine=1")
    assert ready.title == "1 launch of yours is ready to submit"
    assert _items(other_buyer)[("shop", "launches.needs_changes")].count == 2  # created both
    assert not {key for (_slug, key) in _items(lead)} & {"launches.needs_changes"}


def test_a_narrowed_buyer_counts_only_launches_on_their_accounts():
    shop = Shop()
    buyer, lead, _other = _people(shop)
    shop.launch("needs_changes", by=buyer, account=0)
    shop.launch("needs_changes", by=buyer, account=1)
    shop.launch("ready", by=buyer, account=1)
    policies.set_ad_account_narrowing(buyer, shop.brand, [shop.accounts[0]])

    items = _items(buyer)
    assert items[("shop", "launches.needs_changes")].count == 1
    assert ("shop", "launches.ready") not in items
    # An ops lead is never narrowed: they see every launch awaiting review.
    shop.launch("in_review", by=buyer, submitted_by=buyer, account=1)
    assert _items(lead)[("shop", "launches.awaiting_review")].count == 1


def test_another_brands_launches_are_never_counted():
    mine, foreign = Shop("Mine", "mine"), Shop("Foreign", "foreign")
    buyer, lead, _other = _people(mine)
    stranger = UserFactory()
    policies.grant_role(stranger, foreign.brand, Role.MEDIA_BUYER)
    foreign.launch("in_review", by=stranger, submitted_by=stranger)
    # Even a launch of theirs on a brand where they lost their role.
    foreign.launch("needs_changes", by=buyer)

    assert {slug for slug, _key in _items(lead)} <= {"mine"}
    assert {slug for slug, _key in _items(buyer)} <= {"mine"}


def test_a_user_without_a_role_costs_no_query():
    user = UserFactory()
    from koastops.launches.attention import launch_counts

    with CaptureQueriesContext(connection) as captured:
        assert launch_counts(user=user, brands=[BrandFactory.build(pk=1)], roles={}) == {}
    assert len(captured) == 0


def _brands(n: int, user, role) -> None:
    for _ in range(n):
        shop = Shop(name="")
        if role is not None:
            policies.grant_role(user, shop.brand, role)
        author = UserFactory()
        policies.grant_role(author, shop.brand, Role.MEDIA_BUYER)
        shop.launch("in_review", by=author, submitted_by=author)
        shop.launch("needs_changes", by=user)
        shop.launch("ready", by=user, account=1)
        if role == Role.MEDIA_BUYER:
            policies.set_ad_account_narrowing(user, shop.brand, [shop.accounts[0]])


@pytest.mark.parametrize("who", ["admin", Role.OPS_LEAD, Role.MEDIA_BUYER])
def test_one_grouped_query_for_1_and_50_brands(who):
    user = AdminFactory() if who == "admin" else UserFactory()
    role = None if who == "admin" else who

    def launch_queries() -> tuple[int, dict]:
        brands, roles = brands_with_roles(user=user)
        with CaptureQueriesContext(connection) as captured, attention.sharing():
            items = attention.collect(user=user, brands=brands, roles=roles)
        reads = [q for q in captured.captured_queries if '"launches_launch"' in q["sql"]]
        found: dict[str, int] = {}
        for item in items:
            if item.key in KEYS:
                found[item.key] = found.get(item.key, 0) + item.count
        return len(reads), found

    _brands(1, user, role)
    one, found_one = launch_queries()
    _brands(49, user, role)
    fifty, found_fifty = launch_queries()
    assert one == fifty == 1
    if who == Role.MEDIA_BUYER:  # no approve; the ready launch is on a hidden account
        assert found_fifty == {"launches.needs_changes": 50}
    else:
        assert found_fifty["launches.awaiting_review"] == 50
        assert found_fifty["launches.needs_changes"] == 50
        assert found_fifty["launches.ready"] == 50
    assert sum(found_one.values()) * 50 == sum(found_fifty.values())
