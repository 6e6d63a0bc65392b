"""Pixel pages of a brand: list, detail, create, edit, access token, archive / restore."""

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
from koastops.activity.models import ActivityEntry
from koastops.catalog import services
from koastops.catalog.models import CatalogStatus, Pixel
from tests.factories import AdAccountFactory, PixelFactory, UserFactory

pytestmark = pytest.mark.django_db

LOGIN_URL = "/accounts/login/"
TOKEN = "EAAB-super-secret-token-42"


def field_html(response, name: str) -> str:
    match = re.search(
        rf'id="id_{name}_field">(.*?)</div>', response.content.decode(), flags=re.DOTALL
    )
    assert match, f"field {name} not rendered"
    return match.group(1)


def assert_error_by_field(response, name: str, message: str) -> None:
    assert response.status_code == 422
    assert any(message in error for error in response.context["form"].errors[name])
    html = field_html(response, name)
    assert message in html
    assert f'id="id_{name}_error"' in html
    assert 'aria-invalid="true"' in html


def table_html(response) -> str:
    return response.content.decode().split('id="pixel-table"', 1)[1]


def url(name: str, pixel) -> str:
    return reverse(f"catalog:{name}", args=[pixel.brand.slug, pixel.pk])


def list_url(brand) -> str:
    return reverse("catalog:pixel_list", args=[brand.slug])


def create_url(brand) -> str:
    return reverse("catalog:pixel_create", args=[brand.slug])


def assert_row_holds_no_secret(entry: ActivityEntry, *secrets: str) -> None:
    """No column of the stored activity row contains the token or its ciphertext."""
    stored = json.dumps(ActivityEntry.objects.filter(pk=entry.pk).values().get(), default=str)
    for secret in secrets:
        assert secret not in stored


def valid_data(**overrides) -> dict:
    # ``version`` is the hidden field of the edit form (the create form has none).
    data = {"name": "Web pixel", "platform": "meta", "external_id": "987654321012", "version": 1}
    data.update(overrides)
    return data


# --- list ------------------------------------------------------------------------------


def test_admin_sees_pixels_with_their_details(admin_client, brand, pixel):
    PixelFactory(brand=brand, name="Server dataset", capi_enabled=True)
    response = admin_client.get(list_url(brand))
    assert response.status_code == 200
    html = table_html(response)
    assert "Shop pixel" in html and "111222333444" in html
    assert '<span class="badge badge-ok">' in html and "Set</span>" in html
    assert '<span class="badge badge-warning">' in html and "Not set</span>" in html
    assert "<td>Yes</td>" in html and "<td>No</td>" in html
    assert "Main DE" in html  # its ad account
    assert "Never" in html  # last fired
    assert 'aria-current="page">Pixels</a>' in response.content.decode()


def test_ops_lead_acts_on_a_pixel_from_its_row_menu(brand, pixel):
    lead = UserFactory()
    policies.grant_role(lead, brand, Role.OPS_LEAD)
    client = Client()
    client.force_login(lead)
    html = table_html(client.get(list_url(brand)))
    assert f'aria-label="Actions for {pixel.name}"' in html
    assert url("pixel_edit", pixel) in html and url("pixel_token", pixel) in html
    assert f'action="{url("pixel_archive", pixel)}"' in html
    assert "koastops stops reading its statistics. You can restore it later." in html
    assert "You can read this list" not in client.get(list_url(brand)).content.decode()


def test_analyst_reads_the_pixel_list_and_is_told_so(brand, pixel):
    analyst = UserFactory()
    policies.grant_role(analyst, brand, Role.ANALYST)
    client = Client()
    client.force_login(analyst)
    response = client.get(list_url(brand))
    assert pixel.name in table_html(response)
    assert "row-menu" not in table_html(response) and "data-confirm" not in table_html(response)
    assert "You can read this list; ops leads add pixels" in response.content.decode()
    assert "You can read this pixel" in client.get(url("pixel_detail", pixel)).content.decode()


def test_pixel_list_htmx_renders_only_the_table(admin_client, brand, pixel, htmx_headers):
    response = admin_client.get(
        list_url(brand), {"q": "shop"}, HTTP_HX_TARGET="pixel-table", **htmx_headers
    )
    assert response.content.decode().lstrip().startswith('<div id="pixel-table">')


def test_pixel_list_search_and_status_filter(admin_client, brand, pixel):
    PixelFactory(brand=brand, name="Old pixel", external_id="5556667778", status="archived")
    assert "Shop pixel" in table_html(admin_client.get(list_url(brand), {"q": "333444"}))
    assert "Old pixel" not in table_html(admin_client.get(list_url(brand), {"q": "pixel"}))
    archived = table_html(admin_client.get(list_url(brand), {"status": "archived"}))
    assert "Old pixel" in archived and "Shop pixel" not in archived
    missing = table_html(admin_client.get(list_url(brand), {"q": "foo"}))
    assert "No pixels match “foo”" in missing


def test_empty_pixel_list_says_what_to_do(admin_client, brand):
    html = table_html(admin_client.get(list_url(brand)))
    assert "No pixels yet" in html and create_url(brand) in html
    assert "As an ops lead of this brand you can add them." in html


def test_pixel_list_paginates_and_keeps_search(admin_client, brand):
    PixelFactory.create_batch(30, brand=brand)
    response = admin_client.get(list_url(brand), {"q": "pixel", "status": "all"})
    assert "q=pixel&amp;status=all&amp;page=2" in table_html(response)
    page_two = admin_client.get(list_url(brand), {"q": "pixel", "status": "all", "page": 2})
    assert len(page_two.context["page"].object_list) == 5


def test_pixel_list_query_count_does_not_grow_with_rows(
    admin_client, brand, django_assert_num_queries
):
    accounts = AdAccountFactory.create_batch(3, brand=brand)
    PixelFactory(brand=brand, with_token=True).ad_accounts.set(accounts)

    def count() -> int:
        admin_client.get(list_url(brand))  # warm process-wide caches (content types, …)
        with CaptureQueriesContext(connection) as queries:
            assert admin_client.get(list_url(brand)).status_code == 200
        return len(queries)

    one = count()
    for pixel in PixelFactory.create_batch(49, brand=brand, with_token=True):
        pixel.ad_accounts.set(accounts)
    with django_assert_num_queries(one):
        admin_client.get(list_url(brand))


# --- detail ----------------------------------------------------------------------------


def test_pixel_detail_shows_facts_and_token_state_only(admin_client, brand, pixel):
    response = admin_client.get(url("pixel_detail", pixel))
    assert response.status_code == 200
    content = response.content.decode()
    assert "Set — last changed" in content
    assert "Main DE" in content
    assert "EAAB-test-token" not in content
    assert pixel.access_token_encrypted not in content


def test_pixel_without_token_says_not_set(admin_client, brand):
    pixel = PixelFactory(brand=brand)
    assert "Not set" in admin_client.get(url("pixel_detail", pixel)).content.decode()


def test_outsider_gets_404_on_pixel_pages(outsider_client, brand, pixel, activity):
    for name in ("pixel_detail", "pixel_edit", "pixel_token"):
        assert outsider_client.get(url(name, pixel)).status_code == 404
    for name in ("pixel_edit", "pixel_token", "pixel_archive", "pixel_restore"):
        response = outsider_client.post(url(name, pixel), {"name": "x", "access_token": "y"})
        assert response.status_code == 404
    assert outsider_client.get(list_url(brand)).status_code == 404
    assert outsider_client.post(create_url(brand), valid_data()).status_code == 404
    pixel.refresh_from_db()
    assert pixel.name == "Shop pixel" and pixel.status == CatalogStatus.ACTIVE
    assert services.pixel_access_token(pixel=pixel) == "EAAB-test-token"
    assert Pixel.objects.count() == 1
    activity.none()


def test_anonymous_is_sent_to_login(client, brand, pixel):
    for target in (list_url(brand), create_url(brand), url("pixel_detail", pixel)):
        response = client.get(target)
        assert response.status_code == 302
        assert response["Location"].startswith(LOGIN_URL)


def test_pixel_of_another_brand_is_404_under_this_brand(admin_client, brand, foreign_brand):
    foreign = PixelFactory(brand=foreign_brand)
    for name in ("pixel_detail", "pixel_edit", "pixel_token"):
        target = reverse(f"catalog:{name}", args=[brand.slug, foreign.pk])
        assert admin_client.get(target).status_code == 404
    archive = reverse("catalog:pixel_archive", args=[brand.slug, foreign.pk])
    assert admin_client.post(archive).status_code == 404
    foreign.refresh_from_db()
    assert foreign.status == CatalogStatus.ACTIVE


def test_wrong_methods_are_405(admin_client, brand, pixel):
    assert admin_client.post(list_url(brand)).status_code == 405
    assert admin_client.post(url("pixel_detail", pixel)).status_code == 405
    assert admin_client.put(create_url(brand)).status_code == 405
    assert admin_client.put(url("pixel_edit", pixel)).status_code == 405
    assert admin_client.delete(url("pixel_token", pixel)).status_code == 405
    assert admin_client.get(url("pixel_archive", pixel)).status_code == 405
    assert admin_client.get(url("pixel_restore", pixel)).status_code == 405


# --- create / edit ---------------------------------------------------------------------


def test_create_form_offers_only_this_brands_active_ad_accounts(
    admin_client, brand, ad_account, foreign_brand
):
    AdAccountFactory(brand=brand, name="Archived account", status=CatalogStatus.ARCHIVED)
    AdAccountFactory(brand=foreign_brand, name="Foreign account")
    response = admin_client.get(create_url(brand))
    assert response.status_code == 200
    options = field_html(response, "ad_accounts")
    assert "Main DE" in options
    assert "Archived account" not in options and "Foreign account" not in options
    token_field = field_html(response, "access_token")
    assert 'type="password"' in token_field


def test_admin_creates_pixel_with_token_without_js(
    admin_client, admin_user, brand, ad_account, activity
):
    data = valid_data(ad_accounts=[ad_account.pk], capi_enabled="on", access_token=TOKEN)
    response = admin_client.post(create_url(brand), data, follow=True)
    pixel = Pixel.objects.get(external_id="987654321012")
    assert pixel.capi_enabled
    assert list(pixel.ad_accounts.all()) == [ad_account]
    assert pixel.access_token_encrypted and TOKEN not in pixel.access_token_encrypted
    assert services.pixel_access_token(pixel=pixel) == TOKEN
    assert response.redirect_chain[-1][0] == url("pixel_detail", pixel)
    content = response.content.decode()
    assert "Pixel “Web pixel” added." in content
    assert TOKEN not in content and pixel.access_token_encrypted not in content
    # The token set with the pixel is logged like a later change: its own row, no secret.
    created, token_set = activity.new()
    assert (created.verb, token_set.verb) == ("pixel.created", "pixel.token_changed")
    for entry in (created, token_set):
        assert (entry.target_type, entry.target_id) == ("catalog.pixel", str(pixel.pk))
        assert (entry.actor_id, entry.brand_id) == (admin_user.pk, brand.pk)
        assert_row_holds_no_secret(entry, TOKEN, pixel.access_token_encrypted)
    assert created.after["ad_accounts"] == [str(ad_account)] and created.after["capi_enabled"]
    assert "access_token" not in created.after
    assert (token_set.before, token_set.after) == ({}, {"access_token": "set"})


def test_admin_creates_pixel_with_htmx(admin_client, admin_user, brand, htmx_headers, activity):
    response = admin_client.post(create_url(brand), valid_data(), **htmx_headers)
    pixel = Pixel.objects.get(external_id="987654321012")
    assert json.loads(response["HX-Location"])["path"] == url("pixel_detail", pixel)
    assert "toast" in json.loads(response["HX-Trigger"])
    assert not pixel.has_access_token
    activity.one("pixel.created", actor=admin_user, brand=brand)


@pytest.mark.parametrize(
    ("platform", "external_id", "message"),
    [
        ("meta", "act_123456", "A Meta pixel (dataset) id is digits only"),
        ("google", "123456789", "A Google tag id looks like AW-123456789 or G-ABC123XYZ."),
        ("linkedin", "li-1", "A LinkedIn Insight Tag partner id is digits only."),
    ],
)
def test_malformed_pixel_id_is_an_error_by_the_field(
    admin_client, brand, ad_account, platform, external_id, message, activity
):
    data = valid_data(
        platform=platform, external_id=external_id, ad_accounts=[ad_account.pk], access_token=TOKEN
    )
    response = admin_client.post(create_url(brand), data)
    assert_error_by_field(response, "external_id", message)
    assert Pixel.objects.count() == 0
    assert TOKEN not in response.content.decode()  # never echoed back, not even on errors
    activity.none()


def test_pixel_linked_to_another_brands_ad_account_is_refused(
    admin_client, brand, foreign_brand, activity
):
    foreign_account = AdAccountFactory(brand=foreign_brand)
    response = admin_client.post(create_url(brand), valid_data(ad_accounts=[foreign_account.pk]))
    assert_error_by_field(response, "ad_accounts", "Select a valid choice.")
    assert Pixel.objects.count() == 0
    activity.none()


def test_editing_pixel_to_another_brands_ad_account_changes_nothing(
    admin_client, brand, pixel, ad_account, foreign_brand, activity
):
    foreign_account = AdAccountFactory(brand=foreign_brand)
    data = valid_data(
        name="Renamed", external_id=pixel.external_id, ad_accounts=[foreign_account.pk]
    )
    response = admin_client.post(url("pixel_edit", pixel), data)
    assert_error_by_field(response, "ad_accounts", "Select a valid choice.")
    pixel.refresh_from_db()
    assert pixel.name == "Shop pixel"
    assert list(pixel.ad_accounts.all()) == [ad_account]
    activity.none()


def test_duplicate_pixel_id_on_same_platform_is_an_error_by_the_field(
    admin_client, brand, pixel, activity
):
    response = admin_client.post(create_url(brand), valid_data(external_id="111222333444"))
    assert_error_by_field(response, "external_id", "Another Meta pixel already uses 111222333444.")
    assert Pixel.objects.count() == 1
    activity.none()


def test_same_pixel_id_on_another_platform_is_allowed(admin_client, brand, pixel):
    response = admin_client.post(
        create_url(brand), valid_data(platform="linkedin", external_id="111222333444")
    )
    assert response.status_code == 302
    assert Pixel.objects.filter(external_id="111222333444").count() == 2


def test_admin_edits_pixel(admin_client, admin_user, brand, pixel, ad_account, activity):
    other = AdAccountFactory(brand=brand, name="Second account")
    response = admin_client.get(url("pixel_edit", pixel))
    content = response.content.decode()
    assert 'value="Shop pixel"' in content
    assert 'name="access_token"' not in content  # credentials have their own page
    assert "Set — last changed" in content
    assert pixel.access_token_encrypted not in content and "EAAB-test-token" not in content
    data = valid_data(name="Shop pixel v2", external_id=pixel.external_id, ad_accounts=[other.pk])
    response = admin_client.post(url("pixel_edit", pixel), data, HTTP_HX_REQUEST="true")
    assert json.loads(response["HX-Location"])["path"] == url("pixel_detail", pixel)
    pixel.refresh_from_db()
    assert pixel.name == "Shop pixel v2"
    assert list(pixel.ad_accounts.all()) == [other]
    assert services.pixel_access_token(pixel=pixel) == "EAAB-test-token"  # untouched
    entry = activity.one("pixel.updated", actor=admin_user, brand=brand)
    assert entry.before == {"name": "Shop pixel", "ad_accounts": [str(ad_account)]}
    assert entry.after == {"name": "Shop pixel v2", "ad_accounts": [str(other)]}


def test_pixel_edit_that_changes_nothing_writes_no_activity(
    admin_client, brand, pixel, ad_account, activity
):
    data = valid_data(name="Shop pixel", external_id=pixel.external_id, ad_accounts=[ad_account.pk])
    assert admin_client.post(url("pixel_edit", pixel), data).status_code == 302
    activity.none()


def test_edit_keeps_link_to_an_archived_ad_account_available(admin_client, brand, pixel):
    archived = AdAccountFactory(brand=brand, name="Retired", status=CatalogStatus.ARCHIVED)
    pixel.ad_accounts.add(archived)
    assert "Retired" in field_html(admin_client.get(url("pixel_edit", pixel)), "ad_accounts")


# --- token -----------------------------------------------------------------------------


def test_token_page_sets_replaces_and_removes_the_token(
    admin_client, admin_user, brand, pixel, activity
):
    token_url = url("pixel_token", pixel)
    page = admin_client.get(token_url)
    assert page.status_code == 200
    assert 'type="password"' in field_html(page, "access_token")
    assert 'data-confirm="Remove the access token' in page.content.decode()

    response = admin_client.post(token_url, {"action": "set", "access_token": TOKEN})
    assert response.status_code == 302
    pixel.refresh_from_db()
    assert pixel.access_token_encrypted and TOKEN not in pixel.access_token_encrypted
    assert services.pixel_access_token(pixel=pixel) == TOKEN
    entry = activity.one("pixel.token_changed", actor=admin_user, brand=brand)
    assert (entry.before, entry.after) == ({}, {"access_token": "set"})
    assert_row_holds_no_secret(entry, TOKEN, pixel.access_token_encrypted)

    response = admin_client.post(token_url, {"action": "remove"}, HTTP_HX_REQUEST="true")
    assert json.loads(response["HX-Location"])["path"] == url("pixel_detail", pixel)
    pixel.refresh_from_db()
    assert not pixel.has_access_token
    assert "Not set" in admin_client.get(url("pixel_detail", pixel)).content.decode()
    entry = activity.one("pixel.token_removed", actor=admin_user, brand=brand)
    assert (entry.before, entry.after) == ({}, {"access_token": "not set"})


def test_empty_token_is_an_error_by_the_field(admin_client, brand, pixel, activity):
    response = admin_client.post(url("pixel_token", pixel), {"action": "set", "access_token": ""})
    assert_error_by_field(response, "access_token", "This field is required.")
    pixel.refresh_from_db()
    assert services.pixel_access_token(pixel=pixel) == "EAAB-test-token"
    activity.none()


def test_no_page_ever_shows_the_token_or_its_ciphertext(admin_client, brand, ad_account):
    pixel = PixelFactory(brand=brand)
    admin_client.post(url("pixel_token", pixel), {"action": "set", "access_token": TOKEN})
    pixel.refresh_from_db()
    ciphertext = pixel.access_token_encrypted
    assert ciphertext
    pages = [
        admin_client.get(url("pixel_detail", pixel)),
        admin_client.get(list_url(brand)),
        admin_client.get(list_url(brand), HTTP_HX_REQUEST="true", HTTP_HX_TARGET="pixel-table"),
        admin_client.get(url("pixel_edit", pixel)),
        admin_client.get(url("pixel_token", pixel)),
        admin_client.get(reverse("catalog:brand_detail", args=[brand.slug])),
        admin_client.post(url("pixel_edit", pixel), {"name": ""}),  # invalid: re-rendered
        admin_client.post(url("pixel_token", pixel), {"action": "set", "access_token": ""}),
    ]
    for response in pages:
        content = response.content.decode()
        assert TOKEN not in content
        assert ciphertext not in content
        assert ciphertext[:24] not in content


# --- archive / restore -----------------------------------------------------------------


def test_archive_and_restore_pixel(admin_client, admin_user, brand, pixel, activity):
    detail = admin_client.get(url("pixel_detail", pixel)).content.decode()
    assert 'data-confirm="Archive the pixel' in detail

    response = admin_client.post(url("pixel_archive", pixel), follow=True)
    pixel.refresh_from_db()
    assert pixel.status == CatalogStatus.ARCHIVED and pixel.archived_at is not None
    content = response.content.decode()
    assert "This pixel is archived" in content and "Restore pixel" in content
    entry = activity.one("pixel.archived", actor=admin_user, brand=brand)
    assert (entry.before, entry.after) == ({"status": "active"}, {"status": "archived"})
    assert "Shop pixel" not in table_html(admin_client.get(list_url(brand)))
    assert "Shop pixel" in table_html(admin_client.get(list_url(brand), {"status": "archived"}))

    response = admin_client.post(url("pixel_restore", pixel), HTTP_HX_REQUEST="true")
    assert response["HX-Redirect"] == url("pixel_detail", pixel)
    pixel.refresh_from_db()
    assert pixel.status == CatalogStatus.ACTIVE and pixel.archived_at is None
    entry = activity.one("pixel.restored", actor=admin_user, brand=brand)
    assert (entry.before, entry.after) == ({"status": "archived"}, {"status": "active"})
