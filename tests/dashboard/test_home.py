"""The start page at ``/``: what needs attention across the user's brands, their brands
at a glance, or who can give them access."""

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


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_home_needs_sign_in():
    response = Client().get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_a_user_without_a_role_is_told_who_can_give_access(outsider_client, brand):
    response = outsider_client.get(reverse("home"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Ask an ops lead or an admin to add you to a brand" in html
    assert brand.name not in html
    assert "Needs attention" not in html


def test_an_admin_without_brands_is_offered_to_create_one(admin_client):
    html = admin_client.get(reverse("home")).content.decode()
    assert "No brands yet" in html
    assert f'href="{reverse("catalog:brand_create")}"' in html


def test_the_panel_groups_items_by_brand_most_urgent_first_with_links(brand, foreign_brand):
    brand.markets.clear()  # markets without a consent config would add their own item
    calm = BrandFactory(name="Calm Brand", slug="calm")
    PixelFactory(brand=brand, with_token=True)  # Conversions API off, never fired: warnings
    PixelFactory.create_batch(2, brand=calm, with_token=True)
    PixelFactory(brand=foreign_brand)  # failing (no token), but not the user's brand
    lead = UserFactory()
    for held in (brand, calm):
        policies.grant_role(lead, held, Role.OPS_LEAD)
    quiet = BrandFactory(name="Quiet Brand", slug="quiet")
    policies.grant_role(lead, quiet, Role.ANALYST)
    response = _client(lead).get(reverse("home"))
    assert response.status_code == 200
    groups = response.context["panel"]["groups"]
    assert [group.brand.slug for group in groups] == ["calm", "own-brand"]
    html = response.content.decode()
    assert "Foreign Brand" not in html
    assert reverse("catalog:pixel_list", args=["calm"]) + "?capi=off" in html
    assert "2 pixels without Conversions API" in html
    assert "No active ops lead" not in html  # admins only
    rows = {row["brand"].slug: row for row in response.context["rows"]}
    assert set(rows) == {"own-brand", "calm", "quiet"}
    assert (rows["calm"]["role"], rows["calm"]["pixels"], rows["calm"]["attention"]) == (
        Role.OPS_LEAD,
        2,
        2,
    )
    assert rows["quiet"]["role"] == Role.ANALYST
    assert "Analyst" in html
    assert f'href="{reverse("catalog:brand_list")}"' in html


def test_an_admin_sees_every_brand_and_brands_without_an_ops_lead(admin_client, brand):
    other = BrandFactory(name="Other Brand", slug="other")
    policies.grant_role(UserFactory(), other, Role.OPS_LEAD)
    BrandFactory(name="Gone Brand", slug="gone", status="archived")
    response = admin_client.get(reverse("home"))
    html = response.content.decode()
    assert {row["brand"].slug for row in response.context["rows"]} == {"own-brand", "other"}
    assert [group.brand.slug for group in response.context["panel"]["groups"]] == ["own-brand"]
    assert "No active ops lead" in html
    assert reverse("members:list", args=["own-brand"]) in html


def test_a_narrowed_buyers_counts_exclude_pixels_they_cannot_see(brand):
    chosen, hidden = AdAccountFactory.create_batch(2, brand=brand)
    PixelFactory(brand=brand, name="zz-visible").ad_accounts.set([chosen])
    PixelFactory(brand=brand, name="zz-hidden").ad_accounts.set([hidden])
    buyer = UserFactory()
    policies.grant_role(buyer, brand, Role.MEDIA_BUYER)
    policies.set_ad_account_narrowing(buyer, brand, [chosen])
    response = _client(buyer).get(reverse("home"))
    [row] = response.context["rows"]
    assert (row["ad_accounts"], row["pixels"]) == (1, 1)
    html = response.content.decode()
    assert "1 pixel has no access token" in html
    assert "zz-hidden" not in html


def _brands_with_pixels(n: int, user=None, role=None) -> None:
    for brand in BrandFactory.create_batch(n):
        account = AdAccountFactory(brand=brand)
        PixelFactory(brand=brand).ad_accounts.set([account])
        PixelFactory(brand=brand, with_token=True, capi_enabled=True)
        if user is not None:
            policies.grant_role(user, brand, role)
            if role == Role.MEDIA_BUYER:
                policies.set_ad_account_narrowing(user, brand, [account])


@pytest.mark.parametrize("who", ["admin", Role.OPS_LEAD, Role.MEDIA_BUYER])
def test_the_start_page_answers_in_the_same_queries_for_1_and_50_brands(admin_user, who):
    user = admin_user if who == "admin" else UserFactory()
    role = None if who == "admin" else who
    client = _client(user)

    def count() -> int:
        with CaptureQueriesContext(connection) as captured:
            response = client.get(reverse("home"))
        assert response.status_code == 200
        return len(captured)

    _brands_with_pixels(1, None if who == "admin" else user, role)
    one = count()
    _brands_with_pixels(49, None if who == "admin" else user, role)
    assert count() == one


@pytest.mark.parametrize("who", ["admin", Role.OPS_LEAD, Role.MEDIA_BUYER])
def test_the_brand_table_and_the_pixel_items_come_from_one_query(admin_user, who):
    user = admin_user if who == "admin" else UserFactory()
    _brands_with_pixels(3, None if who == "admin" else user, None if who == "admin" else who)
    with CaptureQueriesContext(connection) as captured:
        response = _client(user).get(reverse("home"))
    # (the quality providers' problem counts and open alerts are their own queries:
    # tests/quality)
    counting = [
        q["sql"]
        for q in captured
        if "catalog_pixel" in q["sql"]
        and "quality_pixelconnection" not in q["sql"]
        and '"quality_alert"' not in q["sql"]
    ]
    assert len(counting) == 1
    assert "catalog_adaccount" in counting[0]
    rows = response.context["rows"]
    visible_accounts = 1  # each brand has one ad account; a narrowed buyer sees it too
    assert {(row["ad_accounts"], row["pixels"]) for row in rows} == {(visible_accounts, 2)}


def test_the_brand_switcher_is_read_with_the_pages_brands_in_one_query(brand):
    lead = UserFactory()
    archived = BrandFactory(name="Zz Archived", slug="zz-archived", status="archived")
    for each in (brand, archived):
        policies.grant_role(lead, each, Role.OPS_LEAD)
    with CaptureQueriesContext(connection) as captured:
        response = _client(lead).get(reverse("home"))
    html = response.content.decode()
    # The switcher names every brand the user may see (archived ones too), the page's
    # table the active ones only.
    switcher = html.split('class="dropdown brand-switcher"', 1)[1].split("</details>", 1)[0]
    assert reverse("catalog:brand_detail", args=[brand.slug]) in switcher
    assert reverse("catalog:brand_detail", args=["zz-archived"]) in switcher
    assert [row["brand"].slug for row in response.context["rows"]] == [brand.slug]
    brand_reads = [
        q["sql"] for q in captured if q["sql"].lstrip().startswith('SELECT "catalog_brand"."id"')
    ]
    assert len(brand_reads) == 1
