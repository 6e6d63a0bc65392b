"""The brand overview points at work: its attention panel, its empty states, and the
role fast path that keeps it cheap."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from koastops.accounts import policies
from koastops.accounts.models import Role
from tests.factories import AdAccountFactory, BrandFactory, PixelFactory, UserFactory

pytestmark = pytest.mark.django_db


def _client_with_role(brand, role) -> Client:
    user = UserFactory()
    policies.grant_role(user, brand, role)
    client = Client()
    client.force_login(user)
    return client


def test_the_overview_shows_this_brands_items_linking_to_the_filtered_lists(
    admin_client, brand, foreign_brand
):
    brand.markets.clear()  # markets without a consent config would add consent items
    PixelFactory.create_batch(2, brand=brand)
    PixelFactory.create_batch(5, brand=foreign_brand)
    response = admin_client.get(reverse("catalog:brand_detail", args=[brand.slug]))
    html = response.content.decode()
    [group] = response.context["attention"]["groups"]
    assert group.brand == brand
    # Failing before warning, then the larger count.
    assert [item.key for item in group.items] == [
        "catalog.pixels_without_token",
        "accounts.no_ops_lead",
        "catalog.pixels_never_fired",
        "catalog.pixels_without_capi",
    ]
    assert "2 pixels have no access token" in html
    assert "5 pixels" not in html
    url = reverse("catalog:pixel_list", args=[brand.slug])
    assert f'href="{url}?token=missing"' in html


def test_an_ops_lead_is_not_shown_the_admin_only_item(brand):
    PixelFactory(brand=brand)
    client = _client_with_role(brand, Role.OPS_LEAD)
    html = client.get(reverse("catalog:brand_detail", args=[brand.slug])).content.decode()
    assert "1 pixel has no access token" in html
    assert "No active ops lead" not in html


def test_a_brand_with_nothing_says_what_to_do_and_who_can_do_it(brand):
    brand.markets.clear()  # markets without a consent config would add consent items
    policies.grant_role(UserFactory(), brand, Role.OPS_LEAD)
    lead = _client_with_role(brand, Role.OPS_LEAD)
    html = lead.get(reverse("catalog:brand_detail", args=[brand.slug])).content.decode()
    assert "Nothing to watch yet" in html
    assert reverse("catalog:pixel_create", args=[brand.slug]) in html
    buyer = _client_with_role(brand, Role.MEDIA_BUYER)
    html = buyer.get(reverse("catalog:brand_detail", args=[brand.slug])).content.decode()
    assert "Ask an ops lead of the brand (or an admin) to add them." in html
    assert reverse("catalog:pixel_create", args=[brand.slug]) not in html


def test_a_brand_with_everything_in_order_says_so(brand):
    brand.markets.clear()  # markets without a consent config would add consent items
    from django.utils import timezone

    PixelFactory(brand=brand, with_token=True, capi_enabled=True, last_fired_at=timezone.now())
    client = _client_with_role(brand, Role.OPS_LEAD)
    html = client.get(reverse("catalog:brand_detail", args=[brand.slug])).content.decode()
    assert "Nothing needs attention on this brand right now." in html


@pytest.mark.parametrize("role", [Role.OPS_LEAD, Role.MEDIA_BUYER])
def test_the_overview_answers_in_constant_queries(brand, role):
    client = _client_with_role(brand, role)
    url = reverse("catalog:brand_detail", args=[brand.slug])

    def count() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    empty = count()
    accounts = AdAccountFactory.create_batch(20, brand=brand)
    for pixel in PixelFactory.create_batch(30, brand=brand):
        pixel.ad_accounts.set(accounts[:2])
    BrandFactory.create_batch(5)
    assert count() == empty


def test_the_ops_lead_overview_skips_the_narrowing_subqueries(brand):
    PixelFactory(brand=brand)
    client = _client_with_role(brand, Role.OPS_LEAD)
    with CaptureQueriesContext(connection) as captured:
        client.get(reverse("catalog:brand_detail", args=[brand.slug]))
    pixel_queries = [q["sql"] for q in captured if "catalog_pixel" in q["sql"]]
    assert pixel_queries
    assert not any(
        "guardian" in sql or "adaccountuserobjectpermission" in sql.lower() for sql in pixel_queries
    )
