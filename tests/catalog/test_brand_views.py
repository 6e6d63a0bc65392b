"""Brand pages: list, create, edit, overview, archive / restore, and the sign-in pages."""

from __future__ import annotations

import json
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from koastops.accounts import policies
from koastops.accounts.models import Role
from koastops.catalog.models import Brand, CatalogStatus
from tests.factories import AdAccountFactory, BrandFactory, PixelFactory, UserFactory, market

pytestmark = pytest.mark.django_db

LOGIN_URL = "/accounts/login/"


def field_html(response, name: str) -> str:
    """The rendered container of one form field (label, input, help, errors)."""
    match = re.search(
        rf'id="id_{name}_field">(.*?)</div>', response.content.decode(), flags=re.DOTALL
    )
    assert match, f"field {name} not rendered"
    return match.group(1)


def assert_error_by_field(response, name: str, message: str) -> None:
    assert response.status_code == 422
    assert any(message in error for error in response.context["form"].errors[name])
    html = field_html(response, name)
    assert f'id="id_{name}_error"' in html
    assert message in html.replace("&quot;", '"').replace("&#x27;", "'")
    assert 'aria-invalid="true"' in html
    assert re.search(rf'aria-describedby="[^"]*id_{name}_error', html)


def table_html(response, region: str = "brand-table") -> str:
    """The list region only (the nav's brand switcher names brands too)."""
    return response.content.decode().split(f'id="{region}"', 1)[1]


def count_queries(client: Client, url: str) -> int:
    client.get(url)  # warm process-wide caches (content types, …) so only the page counts
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


# --- brand list ------------------------------------------------------------------------


def test_admin_sees_brand_list_with_counts_and_market_codes(admin_client, brand, pixel):
    brand.markets.set([market("DE"), market("AT")])
    response = admin_client.get(reverse("catalog:brand_list"))
    assert response.status_code == 200
    content = response.content.decode()
    assert "Own Brand" in content
    assert ">AT</abbr>, <abbr" in content and ">DE</abbr>" in content
    row = response.context["page"].object_list[0]
    assert (row.ad_account_count, row.pixel_count) == (1, 1)
    assert "New brand" in content
    assert '<th scope="col">' in content and 'class="visually-hidden"' in content


def test_brand_list_htmx_renders_only_the_table(admin_client, brand, htmx_headers):
    response = admin_client.get(
        reverse("catalog:brand_list"), {"q": "own"}, HTTP_HX_TARGET="brand-table", **htmx_headers
    )
    content = response.content.decode()
    assert response.status_code == 200
    assert content.lstrip().startswith('<div id="brand-table">')
    assert "<html" not in content
    assert "Own Brand" in content


def test_brand_list_htmx_navigation_into_main_gets_whole_page(admin_client, brand, htmx_headers):
    response = admin_client.get(
        reverse("catalog:brand_list"), HTTP_HX_TARGET="main", **htmx_headers
    )
    assert "<html" in response.content.decode()


def test_outsider_sees_empty_brand_list_without_other_brands(outsider_client, brand):
    response = outsider_client.get(reverse("catalog:brand_list"))
    assert response.status_code == 200
    content = response.content.decode()
    assert "Own Brand" not in content
    assert "New brand" not in content
    assert "Ask an admin to give you a role" in content


def test_anonymous_is_sent_to_login(client, brand):
    for url in (
        reverse("catalog:brand_list"),
        reverse("catalog:brand_create"),
        reverse("catalog:brand_detail", args=[brand.slug]),
        reverse("catalog:brand_edit", args=[brand.slug]),
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(LOGIN_URL)
    response = client.post(reverse("catalog:brand_archive", args=[brand.slug]))
    assert response["Location"].startswith(LOGIN_URL)
    assert Brand.objects.get(pk=brand.pk).status == CatalogStatus.ACTIVE


def test_brand_list_search_filters_rows(admin_client, brand):
    BrandFactory(name="Zebra Shoes", slug="zebra-shoes")
    response = admin_client.get(reverse("catalog:brand_list"), {"q": "zebra"})
    content = table_html(response)
    assert "Zebra Shoes" in content
    assert "Own Brand" not in content


def test_brand_list_search_without_match_offers_to_clear(admin_client, brand):
    response = admin_client.get(reverse("catalog:brand_list"), {"q": "foo"})
    assert "No brands match “foo”" in response.content.decode()
    assert "Clear the search" in response.content.decode()


def test_brand_list_hides_archived_unless_asked(admin_client, brand):
    BrandFactory(name="Old Brand", slug="old-brand", status=CatalogStatus.ARCHIVED)
    default = table_html(admin_client.get(reverse("catalog:brand_list")))
    assert "Own Brand" in default and "Old Brand" not in default
    archived = table_html(admin_client.get(reverse("catalog:brand_list"), {"status": "archived"}))
    assert "Old Brand" in archived and "Own Brand" not in archived
    everything = table_html(admin_client.get(reverse("catalog:brand_list"), {"status": "all"}))
    assert "Old Brand" in everything and "Own Brand" in everything


def test_brand_list_paginates_and_keeps_search(admin_client):
    BrandFactory.create_batch(30, description="x")
    for n in range(3):
        BrandFactory(name=f"Other {n}", slug=f"other-{n}")
    page_one = admin_client.get(reverse("catalog:brand_list"), {"q": "brand"})
    assert len(page_one.context["page"].object_list) == 25
    assert "q=brand&amp;page=2" in page_one.content.decode()
    page_two = admin_client.get(reverse("catalog:brand_list"), {"q": "brand", "page": 2})
    assert page_two.status_code == 200
    assert len(page_two.context["page"].object_list) == 5
    assert "Other" not in table_html(page_two)


def test_brand_list_query_count_does_not_grow_with_rows(admin_client, django_assert_num_queries):
    def add_brand():
        new = BrandFactory()
        new.markets.set([market("DE"), market("FR")])
        AdAccountFactory(brand=new)
        PixelFactory(brand=new)

    add_brand()
    url = reverse("catalog:brand_list")
    one = count_queries(admin_client, url)
    for _ in range(49):
        add_brand()
    with django_assert_num_queries(one):
        admin_client.get(url)


def test_brand_list_wrong_method_is_405(admin_client):
    assert admin_client.post(reverse("catalog:brand_list")).status_code == 405


# --- create ----------------------------------------------------------------------------


def test_admin_creates_brand_without_js(admin_client, admin_user, activity):
    response = admin_client.get(reverse("catalog:brand_create"))
    assert response.status_code == 200
    assert '<label for="id_name">' in response.content.decode()
    response = admin_client.post(
        reverse("catalog:brand_create"),
        {"name": "Acme Europe", "slug": "", "description": "", "markets": [market("DE").pk]},
        follow=True,
    )
    brand = Brand.objects.get(name="Acme Europe")
    assert brand.slug == "acme-europe"  # suggested from the name
    entry = activity.one("brand.created", actor=admin_user, brand=brand)
    assert (entry.target_type, entry.target_id) == ("catalog.brand", str(brand.pk))
    assert entry.after["name"] == "Acme Europe" and entry.after["slug"] == "acme-europe"
    assert entry.after["markets"] == ["Germany (DE)"]
    assert list(brand.markets.values_list("code", flat=True)) == ["DE"]
    assert response.redirect_chain[-1][0] == reverse("catalog:brand_detail", args=["acme-europe"])
    assert "Brand “Acme Europe” created." in response.content.decode()


def test_admin_creates_brand_with_htmx(admin_client, admin_user, activity, htmx_headers):
    response = admin_client.post(
        reverse("catalog:brand_create"), {"name": "Acme", "slug": "acme-x"}, **htmx_headers
    )
    assert response.status_code == 200
    location = json.loads(response["HX-Location"])
    assert location["path"] == reverse("catalog:brand_detail", args=["acme-x"])
    assert json.loads(response["HX-Trigger"])["toast"]["message"] == "Brand “Acme” created."
    activity.one("brand.created", actor=admin_user, brand=Brand.objects.get(slug="acme-x"))


def test_duplicate_brand_slug_is_an_error_by_the_slug(admin_client, brand, activity):
    before = Brand.objects.count()
    response = admin_client.post(
        reverse("catalog:brand_create"),
        {"name": "Another one", "slug": "own-brand", "markets": [market("DE").pk]},
    )
    assert_error_by_field(response, "slug", "Another brand already uses the slug own-brand.")
    assert Brand.objects.count() == before
    activity.none()


def test_duplicate_brand_name_ignoring_case_is_an_error_by_the_name(admin_client, brand):
    response = admin_client.post(reverse("catalog:brand_create"), {"name": "own brand"})
    assert_error_by_field(response, "name", "Another brand is already called own brand.")
    assert not Brand.objects.filter(slug="own-brand-2").exists()


def test_invalid_brand_form_via_htmx_returns_the_form_fragment_with_422(
    admin_client, brand, htmx_headers, activity
):
    response = admin_client.post(
        reverse("catalog:brand_create"),
        {"name": "", "slug": "bad slug!"},
        HTTP_HX_TARGET="brand-form",
        **htmx_headers,
    )
    assert response.status_code == 422
    content = response.content.decode()
    assert content.lstrip().startswith('<form id="brand-form"')
    assert response.context["form"].errors["slug"]
    assert "This field is required." in field_html(response, "name")
    activity.none()


def test_outsider_cannot_create_brands(outsider_client, activity):
    assert outsider_client.get(reverse("catalog:brand_create")).status_code == 403
    response = outsider_client.post(reverse("catalog:brand_create"), {"name": "Sneaky"})
    assert response.status_code == 403
    assert not Brand.objects.filter(name="Sneaky").exists()
    activity.none()


def test_brand_create_wrong_method_is_405(admin_client):
    assert admin_client.put(reverse("catalog:brand_create")).status_code == 405


# --- overview --------------------------------------------------------------------------


def test_brand_overview_shows_facts_markets_stats_and_tabs(admin_client, brand, pixel):
    brand.markets.set([market("DE")])
    PixelFactory(brand=brand, capi_enabled=True)  # no token
    PixelFactory(brand=brand, status=CatalogStatus.ARCHIVED)  # not counted
    AdAccountFactory(brand=brand, status=CatalogStatus.ARCHIVED)
    response = admin_client.get(reverse("catalog:brand_detail", args=[brand.slug]))
    assert response.status_code == 200
    assert response.context["stats"] == {
        "active_ad_accounts": 1,
        "active_pixels": 2,
        "pixels_with_capi": 1,
        "pixels_without_token": 1,
    }
    content = response.content.decode()
    assert "Germany" in content
    assert 'aria-current="page">Overview</a>' in content
    assert reverse("catalog:pixel_list", args=[brand.slug]) in content
    assert response.context["brand"] == brand  # the nav brand switcher shows it


def test_brand_overview_query_count_is_constant(admin_client, brand, django_assert_num_queries):
    url = reverse("catalog:brand_detail", args=[brand.slug])
    brand.markets.set([market("DE")])
    AdAccountFactory(brand=brand)
    PixelFactory(brand=brand)
    one = count_queries(admin_client, url)
    brand.markets.set([market(code) for code in ("DE", "AT", "CH", "FR", "IT")])
    accounts = AdAccountFactory.create_batch(50, brand=brand)
    for pixel in PixelFactory.create_batch(50, brand=brand, with_token=True):
        pixel.ad_accounts.set(accounts[:3])
    with django_assert_num_queries(one):
        admin_client.get(url)


def test_outsider_gets_404_on_brand_pages(outsider_client, brand, activity):
    for name in ("catalog:brand_detail", "catalog:brand_edit"):
        assert outsider_client.get(reverse(name, args=[brand.slug])).status_code == 404
    for name in ("catalog:brand_edit", "catalog:brand_archive", "catalog:brand_restore"):
        response = outsider_client.post(reverse(name, args=[brand.slug]), {"name": "Hacked"})
        assert response.status_code == 404
    brand.refresh_from_db()
    assert (brand.name, brand.status) == ("Own Brand", CatalogStatus.ACTIVE)
    activity.none()


def test_unknown_brand_is_404(admin_client):
    assert admin_client.get(reverse("catalog:brand_detail", args=["nope"])).status_code == 404


def test_brand_overview_wrong_method_is_405(admin_client, brand):
    response = admin_client.post(reverse("catalog:brand_detail", args=[brand.slug]))
    assert response.status_code == 405


# --- edit ------------------------------------------------------------------------------


def test_admin_edits_brand(admin_client, admin_user, brand, activity):
    url = reverse("catalog:brand_edit", args=[brand.slug])
    response = admin_client.get(url)
    assert response.status_code == 200
    assert 'value="Own Brand"' in response.content.decode()
    response = admin_client.post(
        url,
        {
            "name": "Own Brand DACH",
            "slug": "own-brand",
            "description": "A brand made by a test.",
            "markets": [market("AT").pk],
            "version": 1,
        },
    )
    assert response.status_code == 302
    brand.refresh_from_db()
    assert brand.name == "Own Brand DACH"
    assert list(brand.markets.values_list("code", flat=True)) == ["AT"]
    entry = activity.one("brand.updated", actor=admin_user, brand=brand)
    # Many-to-many changes are logged as labels people can read.
    assert entry.before == {
        "name": "Own Brand",
        "markets": ["Austria (AT)", "France (FR)", "Germany (DE)"],
    }
    assert entry.after == {"name": "Own Brand DACH", "markets": ["Austria (AT)"]}


def test_brand_edit_that_changes_nothing_writes_no_activity(admin_client, brand, activity):
    brand.markets.set([market("DE")])
    response = admin_client.post(
        reverse("catalog:brand_edit", args=[brand.slug]),
        {
            "name": "Own Brand",
            "slug": "own-brand",
            "description": "A brand made by a test.",
            "markets": [market("DE").pk],
            "version": 1,
        },
    )
    assert response.status_code == 302
    activity.none()


def test_admin_edits_brand_with_htmx(admin_client, admin_user, brand, htmx_headers, activity):
    kept_markets = list(brand.markets.values_list("pk", flat=True))
    response = admin_client.post(
        reverse("catalog:brand_edit", args=[brand.slug]),
        {"name": "Own Brand", "slug": "own-brand-new", "markets": kept_markets, "version": 1},
        **htmx_headers,
    )
    assert json.loads(response["HX-Location"])["path"] == "/brands/own-brand-new/"
    assert "HX-Trigger" in response
    entry = activity.one("brand.updated", actor=admin_user, brand=brand)
    assert entry.before == {"slug": "own-brand", "description": "A brand made by a test."}
    assert entry.after == {"slug": "own-brand-new", "description": ""}


def test_brand_edit_to_taken_slug_changes_nothing(admin_client, brand, foreign_brand, activity):
    brand.markets.set([market("DE")])
    response = admin_client.post(
        reverse("catalog:brand_edit", args=[brand.slug]),
        {"name": "Renamed", "slug": "foreign-brand", "markets": [market("FR").pk], "version": 1},
    )
    assert_error_by_field(response, "slug", "Another brand already uses the slug foreign-brand.")
    assert "<h1>Edit Own Brand</h1>" in response.content.decode()
    brand.refresh_from_db()
    assert (brand.name, brand.slug) == ("Own Brand", "own-brand")
    assert list(brand.markets.values_list("code", flat=True)) == ["DE"]
    activity.none()


def test_brand_edit_wrong_method_is_405(admin_client, brand):
    response = admin_client.delete(reverse("catalog:brand_edit", args=[brand.slug]))
    assert response.status_code == 405


# --- archive / restore -----------------------------------------------------------------


def test_archive_and_restore_brand(admin_client, admin_user, brand, activity):
    overview = admin_client.get(reverse("catalog:brand_detail", args=[brand.slug]))
    assert 'data-confirm="Archive the brand' in overview.content.decode()

    response = admin_client.post(reverse("catalog:brand_archive", args=[brand.slug]), follow=True)
    brand.refresh_from_db()
    assert brand.status == CatalogStatus.ARCHIVED and brand.archived_at is not None
    content = response.content.decode()
    assert "This brand is archived" in content
    assert "Restore brand" in content
    assert "Brand “Own Brand” archived." in content
    entry = activity.one("brand.archived", actor=admin_user, brand=brand)
    assert (entry.before, entry.after) == ({"status": "active"}, {"status": "archived"})

    response = admin_client.post(reverse("catalog:brand_restore", args=[brand.slug]))
    assert response.status_code == 302
    brand.refresh_from_db()
    assert brand.status == CatalogStatus.ACTIVE and brand.archived_at is None
    entry = activity.one("brand.restored", actor=admin_user, brand=brand)
    assert (entry.before, entry.after) == ({"status": "archived"}, {"status": "active"})
    # Restoring what is already active changes nothing, so it writes nothing.
    admin_client.post(reverse("catalog:brand_restore", args=[brand.slug]))
    activity.none()


def test_archive_brand_with_htmx_redirects_the_client(admin_client, brand, htmx_headers):
    response = admin_client.post(
        reverse("catalog:brand_archive", args=[brand.slug]), **htmx_headers
    )
    assert response["HX-Redirect"] == reverse("catalog:brand_detail", args=[brand.slug])
    brand.refresh_from_db()
    assert brand.is_archived


def test_archive_and_restore_need_post(admin_client, brand):
    assert admin_client.get(reverse("catalog:brand_archive", args=[brand.slug])).status_code == 405
    assert admin_client.get(reverse("catalog:brand_restore", args=[brand.slug])).status_code == 405
    brand.refresh_from_db()
    assert brand.status == CatalogStatus.ACTIVE


# --- roles -----------------------------------------------------------------------------


def test_ops_lead_sees_own_brand_only_and_cannot_edit_or_create_brands(
    brand, foreign_brand, activity
):
    user = UserFactory()
    policies.grant_role(user, brand, Role.OPS_LEAD)
    client = Client()
    client.force_login(user)
    listing = client.get(reverse("catalog:brand_list"))
    assert "Own Brand" in table_html(listing)
    assert "Foreign Brand" not in listing.content.decode()
    assert "New brand" not in listing.content.decode()
    overview = client.get(reverse("catalog:brand_detail", args=[brand.slug]))
    assert overview.status_code == 200
    assert "Edit brand" not in overview.content.decode()
    assert client.get(reverse("catalog:brand_edit", args=[brand.slug])).status_code == 403
    assert client.post(reverse("catalog:brand_archive", args=[brand.slug])).status_code == 403
    assert client.get(reverse("catalog:brand_create")).status_code == 403
    assert client.get(reverse("catalog:brand_detail", args=[foreign_brand.slug])).status_code == 404
    brand.refresh_from_db()
    assert brand.status == CatalogStatus.ACTIVE
    activity.none()


# --- sign-in pages ---------------------------------------------------------------------


def test_login_page_renders_email_field(client):
    response = client.get(LOGIN_URL)
    assert response.status_code == 200
    content = response.content.decode()
    assert '<label for="id_username">Email address</label>' in content
    assert 'type="password"' in content


def test_user_logs_in_with_email_and_password(client, admin_user, password):
    response = client.post(LOGIN_URL, {"username": "admin@example.com", "password": password})
    assert response.status_code == 302
    assert client.get(reverse("catalog:brand_list")).status_code == 200


def test_wrong_password_shows_an_error(client, admin_user):
    response = client.post(LOGIN_URL, {"username": "admin@example.com", "password": "nope"})
    assert response.status_code == 200
    assert "correct email address and password" in response.content.decode()


def test_password_reset_sends_an_email(
    client, admin_user, mailoutbox, enqueued, django_capture_on_commit_callbacks
):
    assert client.get(reverse("password_reset")).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("password_reset"), {"email": "admin@example.com"})
    assert response.status_code == 302
    assert client.get(response["Location"]).status_code == 200
    assert enqueued.names == ["koastops.accounts.send_password_reset"]
    enqueued.run()
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["admin@example.com"]
    link = re.search(r"https?://\S+/reset/\S+/", mailoutbox[0].body).group(0)
    confirm = client.get(link, follow=True)
    assert "Choose a new password" in confirm.content.decode()


def test_password_change_and_logout_pages_render(admin_client):
    assert "Change your password" in admin_client.get(reverse("password_change")).content.decode()
    assert admin_client.get(reverse("password_change_done")).status_code == 200
    response = admin_client.post(reverse("logout"))
    assert response.status_code == 302
