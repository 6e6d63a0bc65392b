"""Ad account pages of a brand: list, create, edit, archive / restore."""

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
from koastops.catalog.models import AdAccount, CatalogStatus, Platform
from tests.factories import AdAccountFactory, PixelFactory, UserFactory, market

pytestmark = pytest.mark.django_db

LOGIN_URL = "/accounts/login/"


def field_html(response, name: str) -> str:
    match = re.search(
        rf'id="id_{name}_field">(.*?)</div>', response.content.decode(), flags=re.DOTALL
    )
    assert match, f"field {name} not rendered"
    return match.group(1)


def assert_error_by_field(response, name: str, message: str) -> None:
    """The message is in the form's errors for that field and rendered inside its container,
    with the input marked invalid and described by the error list."""
    assert response.status_code == 422
    assert any(message in error for error in response.context["form"].errors[name])
    html = field_html(response, name)
    assert message in html
    assert f'id="id_{name}_error"' in html
    assert 'aria-invalid="true"' in html


def table_html(response) -> str:
    return response.content.decode().split('id="ad-account-table"', 1)[1]


def valid_data(**overrides) -> dict:
    data = {
        "name": "Acme DE",
        "platform": "meta",
        "external_id": "act_987654321",
        "currency": "eur",
        "time_zone": "Europe/Berlin",
        "markets": [market("DE").pk, market("AT").pk],
        "version": 1,  # the edit form's hidden field (the create form has none)
    }
    data.update(overrides)
    return data


def list_url(brand) -> str:
    return reverse("catalog:ad_account_list", args=[brand.slug])


def create_url(brand) -> str:
    return reverse("catalog:ad_account_create", args=[brand.slug])


def edit_url(ad_account) -> str:
    return reverse("catalog:ad_account_edit", args=[ad_account.brand.slug, ad_account.pk])


# --- list ------------------------------------------------------------------------------


def test_admin_sees_ad_accounts_with_their_details(admin_client, brand, ad_account, pixel):
    ad_account.markets.set([market("DE"), market("AT")])
    response = admin_client.get(list_url(brand))
    assert response.status_code == 200
    html = table_html(response)
    for text in ("Main DE", "Meta", "act_5550001", "EUR", "Europe/Berlin", ">AT</abbr>"):
        assert text in html
    assert response.context["page"].object_list[0].pixel_count == 1
    assert 'class="badge badge-active"' in html
    assert 'aria-current="page">Ad accounts</a>' in response.content.decode()
    assert 'data-confirm="Archive the ad account' in html


def test_ad_account_list_htmx_renders_only_the_table(admin_client, brand, ad_account, htmx_headers):
    response = admin_client.get(
        list_url(brand), {"q": "main"}, HTTP_HX_TARGET="ad-account-table", **htmx_headers
    )
    assert response.content.decode().lstrip().startswith('<div id="ad-account-table">')
    assert "Main DE" in response.content.decode()


def test_ad_account_list_search_matches_name_and_external_id(admin_client, brand, ad_account):
    AdAccountFactory(brand=brand, name="Google FR", platform="google", external_id="123-456-7890")
    by_id = table_html(admin_client.get(list_url(brand), {"q": "456-78"}))
    assert "Google FR" in by_id and "Main DE" not in by_id
    by_name = table_html(admin_client.get(list_url(brand), {"q": "main"}))
    assert "Main DE" in by_name and "Google FR" not in by_name


def test_empty_ad_account_list_says_what_to_do(admin_client, brand):
    html = table_html(admin_client.get(list_url(brand)))
    assert "No ad accounts yet" in html
    assert "Add the brand's first ad account to start tracking spend." in html
    assert "As an ops lead of this brand you can add them." in html  # who can act
    assert create_url(brand) in html


def test_search_without_match_offers_to_clear(admin_client, brand, ad_account):
    html = table_html(admin_client.get(list_url(brand), {"q": "foo"}))
    assert "No ad accounts match “foo”" in html
    assert "Clear the search" in html


def test_archived_ad_accounts_hidden_unless_asked(admin_client, brand, ad_account):
    AdAccountFactory(brand=brand, name="Old account", status=CatalogStatus.ARCHIVED)
    assert "Old account" not in table_html(admin_client.get(list_url(brand)))
    archived = table_html(admin_client.get(list_url(brand), {"status": "archived"}))
    assert "Old account" in archived and "Main DE" not in archived
    assert 'class="badge badge-archived"' in archived


def test_ad_account_list_paginates_and_keeps_search(admin_client, brand):
    AdAccountFactory.create_batch(30, brand=brand)
    AdAccountFactory(brand=brand, name="Zed")
    response = admin_client.get(list_url(brand), {"q": "ad account"})
    assert response.context["page"].paginator.num_pages == 2
    assert "q=ad+account&amp;page=2" in table_html(response)
    page_two = admin_client.get(list_url(brand), {"q": "ad account", "page": 2})
    assert len(page_two.context["page"].object_list) == 5
    assert "Zed" not in table_html(page_two)


def test_ad_account_list_shows_only_this_brands_accounts(admin_client, brand, foreign_brand):
    AdAccountFactory(brand=foreign_brand, name="Foreign account")
    assert "Foreign account" not in admin_client.get(list_url(brand)).content.decode()


def test_ad_account_list_query_count_does_not_grow_with_rows(
    admin_client, brand, django_assert_num_queries
):
    def add_account():
        account = AdAccountFactory(brand=brand)
        account.markets.set([market("DE"), market("FR")])
        PixelFactory(brand=brand).ad_accounts.add(account)

    add_account()

    def count() -> int:
        admin_client.get(list_url(brand))  # warm process-wide caches (content types, …)
        with CaptureQueriesContext(connection) as queries:
            assert admin_client.get(list_url(brand)).status_code == 200
        return len(queries)

    one = count()
    for _ in range(49):
        add_account()
    with django_assert_num_queries(one):
        admin_client.get(list_url(brand))


def test_outsider_gets_404_on_ad_account_pages(outsider_client, brand, ad_account, activity):
    assert outsider_client.get(list_url(brand)).status_code == 404
    assert outsider_client.get(create_url(brand)).status_code == 404
    assert outsider_client.post(create_url(brand), valid_data()).status_code == 404
    assert outsider_client.get(edit_url(ad_account)).status_code == 404
    assert outsider_client.post(edit_url(ad_account), valid_data()).status_code == 404
    for name in ("catalog:ad_account_archive", "catalog:ad_account_restore"):
        url = reverse(name, args=[brand.slug, ad_account.pk])
        assert outsider_client.post(url).status_code == 404
    ad_account.refresh_from_db()
    assert (ad_account.name, ad_account.status) == ("Main DE", CatalogStatus.ACTIVE)
    assert AdAccount.objects.count() == 1
    activity.none()


def test_anonymous_is_sent_to_login(client, brand, ad_account):
    for url in (list_url(brand), create_url(brand), edit_url(ad_account)):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(LOGIN_URL)


def test_ad_account_of_another_brand_is_404_under_this_brand(admin_client, brand, foreign_brand):
    foreign = AdAccountFactory(brand=foreign_brand)
    for name in ("catalog:ad_account_edit",):
        assert admin_client.get(reverse(name, args=[brand.slug, foreign.pk])).status_code == 404
    for name in ("catalog:ad_account_archive", "catalog:ad_account_restore"):
        assert admin_client.post(reverse(name, args=[brand.slug, foreign.pk])).status_code == 404
    foreign.refresh_from_db()
    assert foreign.status == CatalogStatus.ACTIVE


def test_wrong_methods_are_405(admin_client, brand, ad_account):
    assert admin_client.post(list_url(brand)).status_code == 405
    assert admin_client.put(create_url(brand)).status_code == 405
    assert admin_client.patch(edit_url(ad_account)).status_code == 405
    archive = reverse("catalog:ad_account_archive", args=[brand.slug, ad_account.pk])
    assert admin_client.get(archive).status_code == 405


# --- create / edit ---------------------------------------------------------------------


def test_create_form_renders_labels_help_and_time_zone_list(admin_client, brand):
    response = admin_client.get(create_url(brand))
    assert response.status_code == 200
    content = response.content.decode()
    for name in ("name", "platform", "external_id", "currency", "time_zone", "markets"):
        assert f'<label for="id_{name}">' in content
    assert "act_1234567890" in field_html(response, "external_id")  # the id format per platform
    assert "123-456-7890" in field_html(response, "external_id")
    assert '<datalist id="time-zone-options">' in content
    assert '<option value="Europe/Berlin">' in content
    assert '<select name="markets"' in content and "multiple" in field_html(response, "markets")


def test_admin_creates_ad_account_without_js(admin_client, admin_user, brand, activity):
    response = admin_client.post(create_url(brand), valid_data(), follow=True)
    account = AdAccount.objects.get(external_id="act_987654321")
    assert account.brand == brand
    assert account.currency == "EUR"  # uppercased before validation
    assert sorted(account.markets.values_list("code", flat=True)) == ["AT", "DE"]
    assert response.redirect_chain[-1][0] == list_url(brand)
    entry = activity.one("ad_account.created", actor=admin_user, brand=brand)
    assert (entry.target_type, entry.target_id) == ("catalog.adaccount", str(account.pk))
    assert entry.after["external_id"] == "act_987654321" and entry.after["currency"] == "EUR"
    assert "Ad account “Acme DE” added." in response.content.decode()


def test_admin_creates_ad_account_with_htmx(
    admin_client, admin_user, brand, htmx_headers, activity
):
    response = admin_client.post(create_url(brand), valid_data(), **htmx_headers)
    assert response.status_code == 200
    assert json.loads(response["HX-Location"])["path"] == list_url(brand)
    assert "Acme DE" in json.loads(response["HX-Trigger"])["toast"]["message"]
    assert AdAccount.objects.filter(external_id="act_987654321").exists()
    activity.one("ad_account.created", actor=admin_user, brand=brand)


@pytest.mark.parametrize(
    ("platform", "external_id", "message"),
    [
        ("meta", "1234567", "A Meta ad account id is act_ followed by digits"),
        ("meta", "act_12ab", "A Meta ad account id is act_ followed by digits"),
        ("google", "1234567890", "A Google Ads customer id looks like 123-456-7890."),
        ("linkedin", "li-5081", "A LinkedIn ad account id is digits only"),
    ],
)
def test_malformed_external_id_is_an_error_by_the_field(
    admin_client, brand, platform, external_id, message, activity
):
    response = admin_client.post(
        create_url(brand), valid_data(platform=platform, external_id=external_id)
    )
    assert_error_by_field(response, "external_id", message)
    assert AdAccount.objects.count() == 0
    activity.none()


def test_unknown_currency_is_an_error_by_the_field(admin_client, brand):
    response = admin_client.post(create_url(brand), valid_data(currency="XYZ"))
    assert_error_by_field(response, "currency", "XYZ is not an ISO 4217 currency code")
    assert AdAccount.objects.count() == 0


def test_unknown_time_zone_is_an_error_by_the_field(admin_client, brand):
    response = admin_client.post(create_url(brand), valid_data(time_zone="Mars/Olympus"))
    assert_error_by_field(response, "time_zone", "Mars/Olympus is not an IANA time zone")
    assert AdAccount.objects.count() == 0


def test_invalid_form_keeps_what_was_typed_and_via_htmx_swaps_the_form(
    admin_client, brand, htmx_headers, activity
):
    response = admin_client.post(
        create_url(brand),
        valid_data(currency="XYZ"),
        HTTP_HX_TARGET="ad-account-form",
        **htmx_headers,
    )
    assert response.status_code == 422
    content = response.content.decode()
    assert content.lstrip().startswith('<form id="ad-account-form"')
    assert 'value="Acme DE"' in content
    assert "HX-Location" not in response
    activity.none()


def test_duplicate_external_id_on_same_platform_is_an_error_by_the_field(
    admin_client, brand, foreign_brand
):
    AdAccountFactory(brand=foreign_brand, platform="meta", external_id="act_123")
    response = admin_client.post(create_url(brand), valid_data(external_id="act_123"))
    assert_error_by_field(response, "external_id", "Another Meta ad account already uses act_123.")
    assert AdAccount.objects.filter(brand=brand).count() == 0


def test_same_external_id_on_another_platform_is_allowed(admin_client, brand):
    # The id formats of ad accounts do not overlap across platforms, so the other platform's
    # row is written directly: uniqueness is per (platform, external id), not per id.
    AdAccountFactory(brand=brand, platform=Platform.GOOGLE, external_id="5081234")
    response = admin_client.post(
        create_url(brand), valid_data(platform="linkedin", external_id="5081234")
    )
    assert response.status_code == 302
    assert AdAccount.objects.filter(external_id="5081234").count() == 2


def test_admin_edits_ad_account(admin_client, admin_user, brand, ad_account, activity):
    response = admin_client.get(edit_url(ad_account))
    assert 'value="act_5550001"' in response.content.decode()
    data = valid_data(name="Main DE renamed", external_id="act_5550001", markets=[])
    response = admin_client.post(edit_url(ad_account), data)
    assert response.status_code == 302
    ad_account.refresh_from_db()
    assert ad_account.name == "Main DE renamed"
    assert ad_account.markets.count() == 0
    entry = activity.one("ad_account.updated", actor=admin_user, brand=brand)
    assert (entry.before, entry.after) == ({"name": "Main DE"}, {"name": "Main DE renamed"})


def test_ad_account_edit_that_changes_nothing_writes_no_activity(
    admin_client, brand, ad_account, activity
):
    ad_account.markets.set([market("DE")])
    data = valid_data(name="Main DE", external_id="act_5550001", markets=[market("DE").pk])
    assert admin_client.post(edit_url(ad_account), data).status_code == 302
    activity.none()


def test_editing_keeps_own_external_id_but_not_anothers(admin_client, brand, ad_account, activity):
    AdAccountFactory(brand=brand, external_id="act_777")
    ad_account.markets.set([market("DE")])
    response = admin_client.post(
        edit_url(ad_account),
        valid_data(external_id="act_777", markets=[market("FR").pk]),
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="ad-account-form",
    )
    assert_error_by_field(response, "external_id", "Another Meta ad account already uses act_777.")
    ad_account.refresh_from_db()
    assert ad_account.external_id == "act_5550001"
    assert list(ad_account.markets.values_list("code", flat=True)) == ["DE"]
    activity.none()


# --- archive / restore -----------------------------------------------------------------


def test_archive_and_restore_ad_account(admin_client, admin_user, brand, ad_account, activity):
    archive = reverse("catalog:ad_account_archive", args=[brand.slug, ad_account.pk])
    response = admin_client.post(archive, follow=True)
    ad_account.refresh_from_db()
    assert ad_account.status == CatalogStatus.ARCHIVED and ad_account.archived_at
    assert "Main DE" not in table_html(response)
    assert "Ad account “Main DE” archived." in response.content.decode()
    entry = activity.one("ad_account.archived", actor=admin_user, brand=brand)
    assert (entry.before, entry.after) == ({"status": "active"}, {"status": "archived"})
    assert entry.target_id == str(ad_account.pk)

    restore = reverse("catalog:ad_account_restore", args=[brand.slug, ad_account.pk])
    response = admin_client.post(restore, HTTP_HX_REQUEST="true")
    assert response["HX-Redirect"] == list_url(brand)
    ad_account.refresh_from_db()
    assert ad_account.status == CatalogStatus.ACTIVE and ad_account.archived_at is None
    entry = activity.one("ad_account.restored", actor=admin_user, brand=brand)
    assert (entry.before, entry.after) == ({"status": "archived"}, {"status": "active"})


# --- roles -----------------------------------------------------------------------------


def client_with_role(brand, role: Role) -> Client:
    user = UserFactory()
    policies.grant_role(user, brand, role)
    client = Client()
    client.force_login(user)
    return client


def test_analyst_sees_ad_accounts_but_cannot_change_them(brand, ad_account, activity):
    analyst = client_with_role(brand, Role.ANALYST)
    activity.mark()
    response = analyst.get(list_url(brand))
    assert response.status_code == 200
    assert "Main DE" in table_html(response)
    assert "Add ad account" not in response.content.decode()
    assert "data-confirm" not in table_html(response)
    assert "row-menu" not in table_html(response)
    assert "You can read this list; ops leads add, edit and archive ad accounts." in (
        response.content.decode()
    )
    assert analyst.get(create_url(brand)).status_code == 403
    assert analyst.post(create_url(brand), valid_data()).status_code == 403
    assert analyst.post(edit_url(ad_account), valid_data(name="Changed")).status_code == 403
    archive = reverse("catalog:ad_account_archive", args=[brand.slug, ad_account.pk])
    assert analyst.post(archive).status_code == 403
    ad_account.refresh_from_db()
    assert (ad_account.name, ad_account.status) == ("Main DE", CatalogStatus.ACTIVE)
    assert AdAccount.objects.count() == 1
    activity.none()


def test_ops_lead_manages_ad_accounts_of_their_brand_only(brand, foreign_brand):
    ops_lead = client_with_role(brand, Role.OPS_LEAD)
    assert ops_lead.post(create_url(brand), valid_data()).status_code == 302
    assert AdAccount.objects.filter(brand=brand).count() == 1
    response = ops_lead.post(create_url(foreign_brand), valid_data(external_id="act_1"))
    assert response.status_code == 404
    assert not AdAccount.objects.filter(brand=foreign_brand).exists()


def test_ad_account_markets_are_limited_to_the_brands_markets(admin_client, brand, activity):
    """An ad account serves some of its brand's markets; another market is refused by the
    field and nothing is saved."""
    url = reverse("catalog:ad_account_create", args=[brand.slug])
    page = admin_client.get(url).content.decode()
    assert "Germany (DE)" in page
    assert "Brazil (BR)" not in page
    response = admin_client.post(
        url,
        {
            "name": "Brazil account",
            "platform": "meta",
            "external_id": "act_8080808",
            "currency": "BRL",
            "time_zone": "America/Sao_Paulo",
            "markets": [market("BR").pk],
        },
    )
    assert response.status_code == 422
    assert "markets" in response.context["form"].errors
    assert not AdAccount.objects.filter(external_id="act_8080808").exists()
    activity.none()


def test_ad_account_markets_service_refuses_a_market_outside_the_brand(admin_user, brand):
    from django.core.exceptions import ValidationError

    from koastops.catalog import services

    with pytest.raises(ValidationError) as excinfo:
        services.ad_account_create(
            user=admin_user,
            brand=brand,
            platform="meta",
            external_id="act_8080809",
            name="Brazil",
            currency="BRL",
            time_zone="America/Sao_Paulo",
            markets=[market("BR")],
        )
    assert "BR is not one of Own Brand's markets" in str(excinfo.value.message_dict["markets"])
