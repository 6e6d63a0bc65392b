"""The needs-attention registry and the providers for what exists today."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from koastops.accounts import policies
from koastops.accounts.models import Role
from koastops.dashboard import attention
from tests.factories import AdAccountFactory, AdminFactory, BrandFactory, PixelFactory, UserFactory

pytestmark = pytest.mark.django_db


def _keys(items) -> dict[tuple[str, str], int]:
    return {(item.brand.slug, item.key): item.count for item in items}


def test_the_present_providers_are_registered():
    assert {"catalog.pixels", "accounts.no_ops_lead"} <= set(attention.providers())


def test_collect_orders_failing_first_then_by_count_and_drops_empty_items(monkeypatch):
    brand_a, brand_b = BrandFactory.build(pk=1, name="A"), BrandFactory.build(pk=2, name="B")

    def make(brand, tone, count, key):
        return attention.AttentionItem(
            brand=brand, tone=tone, title=key, detail="", href="/", count=count, key=key
        )

    def provider(*, user, brands, roles):
        return [
            make(brand_a, "warning", 9, "a-warn"),
            make(brand_b, "warning", 2, "b-warn"),
            make(brand_b, "failing", 1, "b-fail"),
            make(brand_a, "failing", 0, "a-nothing"),
        ]

    monkeypatch.setattr(attention, "_PROVIDERS", {"test": provider})
    items = attention.collect(user=None, brands=[brand_a, brand_b], roles={})
    assert [item.key for item in items] == ["b-fail", "a-warn", "b-warn"]
    groups = attention.by_brand(items)
    # B has a failing item: most urgent brand first, its items in order of urgency.
    assert [(g.brand.name, g.tone, [i.key for i in g.items]) for g in groups] == [
        ("B", "failing", ["b-fail", "b-warn"]),
        ("A", "warning", ["a-warn"]),
    ]
    assert attention.collect(user=None, brands=[], roles={}) == []


def test_register_replaces_a_provider_of_the_same_name(monkeypatch):
    monkeypatch.setattr(attention, "_PROVIDERS", {})
    attention.register("x.y")(lambda **kwargs: [])
    second = attention.register("x.y")(lambda **kwargs: [])
    assert attention.providers() == {"x.y": second}
    attention.unregister("x.y")
    assert attention.providers() == {}


def test_pixel_items_count_active_pixels_and_link_to_the_filtered_lists(admin_user):
    brand = BrandFactory(slug="b1")
    PixelFactory.create_batch(3, brand=brand)  # no token, never fired, Conversions API off
    PixelFactory(brand=brand, with_token=True, capi_enabled=True, last_fired_at=timezone.now())
    PixelFactory(brand=brand, status="archived")  # not counted
    policies.grant_role(UserFactory(), brand, Role.OPS_LEAD)
    items = attention.collect(user=admin_user, brands=[brand], roles={})
    assert _keys(items) == {
        ("b1", "catalog.pixels_without_token"): 3,
        ("b1", "catalog.pixels_never_fired"): 3,
        ("b1", "catalog.pixels_without_capi"): 3,
    }
    by_key = {item.key: item for item in items}
    token = by_key["catalog.pixels_without_token"]
    assert (token.tone, token.title) == ("failing", "3 pixels have no access token")
    assert token.detail == "Their event statistics cannot be read."
    url = reverse("catalog:pixel_list", args=["b1"])
    assert token.href == f"{url}?token=missing"
    assert by_key["catalog.pixels_never_fired"].href == f"{url}?fired=never"
    assert by_key["catalog.pixels_without_capi"].href == f"{url}?capi=off"
    assert items[0].key == "catalog.pixels_without_token"  # failing first


def test_a_narrowed_buyer_counts_only_the_pixels_they_may_see():
    brand = BrandFactory(slug="b1")
    chosen, hidden = AdAccountFactory.create_batch(2, brand=brand)
    PixelFactory(brand=brand).ad_accounts.set([chosen])
    PixelFactory(brand=brand).ad_accounts.set([hidden])  # hidden from the buyer
    PixelFactory(brand=brand)  # unlinked: visible
    buyer = UserFactory()
    policies.grant_role(buyer, brand, Role.MEDIA_BUYER)
    policies.set_ad_account_narrowing(buyer, brand, [chosen])
    items = attention.collect(user=buyer, brands=[brand], roles={brand.pk: Role.MEDIA_BUYER})
    assert _keys(items)[("b1", "catalog.pixels_without_token")] == 2
    # Without the role map the policy narrows the same way.
    assert _keys(attention.collect(user=buyer, brands=[brand], roles={})) == _keys(items)
    analyst = UserFactory()
    policies.grant_role(analyst, brand, Role.ANALYST)
    items = attention.collect(user=analyst, brands=[brand], roles={brand.pk: Role.ANALYST})
    assert _keys(items)[("b1", "catalog.pixels_without_token")] == 3


def test_brands_without_an_active_ops_lead_are_shown_to_admins_only(admin_user):
    led, unled, lead_left = (
        BrandFactory(slug="led"),
        BrandFactory(slug="unled"),
        BrandFactory(slug="left"),
    )
    policies.grant_role(UserFactory(), led, Role.OPS_LEAD)
    policies.grant_role(UserFactory(), unled, Role.ANALYST)
    policies.grant_role(UserFactory(is_active=False), lead_left, Role.OPS_LEAD)
    brands = [led, unled, lead_left]
    items = attention.collect(user=admin_user, brands=brands, roles={})
    no_lead = {i.brand.slug: i for i in items if i.key == "accounts.no_ops_lead"}
    assert set(no_lead) == {"unled", "left"}
    assert no_lead["unled"].href == reverse("members:list", args=["unled"])
    assert no_lead["unled"].tone == "failing"
    assert "Only admins see this" in no_lead["unled"].who
    analyst = UserFactory()
    for brand in brands:
        policies.grant_role(analyst, brand, Role.ANALYST)
    roles = {brand.pk: Role.ANALYST for brand in brands}
    assert not [
        i
        for i in attention.collect(user=analyst, brands=brands, roles=roles)
        if i.key == "accounts.no_ops_lead"
    ]


@pytest.mark.parametrize("who", ["admin", "buyer"])
def test_the_providers_run_in_constant_queries_for_any_number_of_brands(who):
    user = AdminFactory() if who == "admin" else UserFactory()

    def brands(n):
        made = BrandFactory.create_batch(n)
        for brand in made:
            account = AdAccountFactory(brand=brand)
            PixelFactory(brand=brand).ad_accounts.set([account])
            PixelFactory(brand=brand)
            if who == "buyer":
                policies.grant_role(user, brand, Role.MEDIA_BUYER)
                policies.set_ad_account_narrowing(user, brand, [account])
        return made

    def count(made):
        roles = {} if who == "admin" else {b.pk: Role.MEDIA_BUYER for b in made}
        with CaptureQueriesContext(connection) as captured:
            items = attention.collect(user=user, brands=made, roles=roles)
        return len(captured), items

    one, items_one = count(brands(1))
    fifty, items_fifty = count(brands(50))
    assert one == fifty
    assert len(items_fifty) > len(items_one)


def _without_taxonomy(captured: CaptureQueriesContext) -> list[dict]:
    """The queries but the tracking plan provider's own one (its clash counts, one query
    for any number of brands: tests/taxonomy/test_drift.py) and the consent provider's
    (its status counts, one query too: tests/consent/test_attention.py) and the quality
    provider's (its problem counts, one query: tests/quality/test_pages_attention.py) and the
    open alerts' (one query: tests/quality/test_alerts_pages.py) and the launches' (one
    query within ``sharing()``: tests/launches/test_attention.py)."""
    return [
        q
        for q in captured.captured_queries
        if "taxonomy_eventmapping" not in q["sql"]
        and "consent_consentconfig" not in q["sql"]
        and "quality_pixelconnection" not in q["sql"]
        and '"quality_alert"' not in q["sql"]
        and '"launches_launch"' not in q["sql"]
    ]


def test_for_a_non_admin_the_admin_only_provider_costs_no_query(brand):
    lead = UserFactory()
    policies.grant_role(lead, brand, Role.OPS_LEAD)
    PixelFactory(brand=brand)
    with CaptureQueriesContext(connection) as captured:
        attention.collect(user=lead, brands=[brand], roles={brand.pk: Role.OPS_LEAD})
    [pixel_counts] = _without_taxonomy(captured)  # the pixel counts
    assert "accounts_membership" not in pixel_counts["sql"]


def test_slug_url_builds_the_same_url_as_reverse():
    pixels = attention.slug_url("catalog:pixel_list")
    assert pixels("acme-de") == reverse("catalog:pixel_list", args=["acme-de"])


def test_shared_reads_once_within_sharing_and_every_time_outside():
    reads = []

    def read():
        reads.append(1)
        return len(reads)

    assert attention.shared("k", read) == 1
    assert attention.shared("k", read) == 2  # no block: nothing is kept
    with attention.sharing():
        assert attention.shared("k", read) == 3
        assert attention.shared("k", read) == 3
        assert attention.shared("other", read) == 4
        assert attention.shared("k", read, reuse=lambda value: value > 3) == 5  # refused
        assert attention.shared("k", read) == 5
    assert attention.shared("k", read) == 6  # the block's values are gone


def test_the_catalog_provider_reuses_the_counts_a_page_read_first(brand):
    from koastops.catalog.attention import brand_counts

    lead = UserFactory()
    policies.grant_role(lead, brand, Role.OPS_LEAD)
    AdAccountFactory.create_batch(2, brand=brand)
    PixelFactory.create_batch(3, brand=brand)
    roles = {brand.pk: Role.OPS_LEAD}
    with CaptureQueriesContext(connection) as captured, attention.sharing():
        counts = brand_counts(user=lead, brands=[brand], roles=roles, ad_accounts_of=[brand.pk])
        items = attention.collect(user=lead, brands=[brand], roles=roles)
    assert len(_without_taxonomy(captured)) == 1
    assert counts[brand.pk]["active_ad_accounts"] == 2
    assert counts[brand.pk]["active"] == 3
    assert _keys(items)[(brand.slug, "catalog.pixels_without_token")] == 3
    # Read after the provider (without the ad accounts), the page reads again: never a
    # value that lacks what it asked for.
    with attention.sharing():
        attention.collect(user=lead, brands=[brand], roles=roles)
        again = brand_counts(user=lead, brands=[brand], roles=roles, ad_accounts_of=[brand.pk])
    assert again[brand.pk]["active_ad_accounts"] == 2


def test_start_page_brands_behave_as_loaded_brands(django_assert_num_queries):
    """The start page's light Brand rows equal the real rows, and any field they were not
    read with loads on access (as a deferred field does)."""
    from koastops.dashboard.selectors import start_brands

    user = UserFactory()
    brand = BrandFactory(name="Light Brand", description="told on demand")
    policies.grant_role(user, brand, Role.ANALYST)
    found = start_brands(user=user)
    (light,) = found.brands
    assert light == brand and light.pk == brand.pk and light.slug == brand.slug
    assert found.roles == {brand.pk: Role.ANALYST}
    with django_assert_num_queries(1):
        assert light.description == "told on demand"
