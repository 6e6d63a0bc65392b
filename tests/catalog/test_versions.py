"""Versions of brands, ad accounts and pixels: every write bumps it, edit forms carry it,
a stale edit is refused (the page says who changed the object meanwhile and shows the
current values), and archiving / restoring what is already so writes nothing."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from koastops.accounts import policies
from koastops.accounts.models import Role
from koastops.catalog import services
from koastops.catalog.models import AdAccount, Brand, CatalogStatus, Pixel
from koastops.core.exceptions import StaleVersion
from tests.factories import AdAccountFactory, UserFactory, market

pytestmark = pytest.mark.django_db


@pytest.fixture
def other_lead(brand):
    user = UserFactory(email="other.lead@example.com")
    policies.grant_role(user, brand, Role.OPS_LEAD)
    return user


def ad_account_data(**overrides) -> dict:
    data = {
        "name": "Main DE",
        "platform": "meta",
        "external_id": "act_5550001",
        "currency": "EUR",
        "time_zone": "Europe/Berlin",
        "markets": [market("DE").pk],
        "version": 1,
    }
    return data | overrides


# --- services ------------------------------------------------------------------------------


def test_every_kind_of_write_bumps_the_version(admin_user, brand, ad_account, pixel):
    ad_account = services.ad_account_update(
        user=admin_user, ad_account=ad_account, expected_version=1, name="Renamed"
    )
    assert ad_account.version == 2
    services.ad_account_archive(user=admin_user, ad_account=ad_account)
    services.ad_account_restore(user=admin_user, ad_account=ad_account)
    assert ad_account.version == 4
    assert AdAccount.objects.get(pk=ad_account.pk).version == 4

    services.pixel_set_access_token(user=admin_user, pixel=pixel, access_token="EAAB-new")
    services.pixel_set_access_token(user=admin_user, pixel=pixel, access_token="")
    assert Pixel.objects.get(pk=pixel.pk).version == pixel.version == 3

    services.brand_archive(user=admin_user, brand=brand, expected_version=1)
    assert Brand.objects.get(pk=brand.pk).version == 2


def test_edit_that_changes_nothing_keeps_the_version(admin_user, ad_account, activity):
    saved = services.ad_account_update(
        user=admin_user, ad_account=ad_account, expected_version=1, name="Main DE"
    )
    assert saved.version == AdAccount.objects.get(pk=ad_account.pk).version == 1
    activity.none()


def test_stale_edit_is_refused_and_writes_nothing(admin_user, brand, ad_account, activity):
    services.ad_account_update(
        user=admin_user, ad_account=ad_account, expected_version=1, name="First"
    )
    activity.new()
    # ``ad_account`` is the instance read before the first edit: version 1.
    with pytest.raises(StaleVersion) as refused:
        services.ad_account_update(
            user=admin_user, ad_account=ad_account, expected_version=1, name="Second"
        )
    assert (refused.value.expected_version, refused.value.current_version) == (1, 2)
    assert AdAccount.objects.get(pk=ad_account.pk).name == "First"
    with pytest.raises(StaleVersion):
        services.ad_account_archive(user=admin_user, ad_account=ad_account, expected_version=1)
    assert AdAccount.objects.get(pk=ad_account.pk).status == CatalogStatus.ACTIVE
    activity.none()


def test_before_is_read_under_the_lock_not_from_the_callers_instance(
    admin_user, brand, ad_account, activity
):
    stale_copy = AdAccount.objects.get(pk=ad_account.pk)
    services.ad_account_update(
        user=admin_user, ad_account=ad_account, expected_version=1, currency="USD"
    )
    activity.new()
    services.ad_account_update(
        user=admin_user, ad_account=stale_copy, expected_version=2, name="Renamed"
    )
    entry = activity.one("ad_account.updated", actor=admin_user, brand=brand)
    # The caller's copy still says EUR; the row and the log know better.
    assert (entry.before, entry.after) == ({"name": "Main DE"}, {"name": "Renamed"})
    assert AdAccount.objects.get(pk=ad_account.pk).currency == "USD"


def test_update_services_take_no_status(admin_user, brand, ad_account, pixel):
    for call in (
        lambda: services.brand_update(
            user=admin_user, brand=brand, expected_version=1, status="archived"
        ),
        lambda: services.ad_account_update(
            user=admin_user, ad_account=ad_account, expected_version=1, status="archived"
        ),
        lambda: services.pixel_update(
            user=admin_user, pixel=pixel, expected_version=1, status="archived"
        ),
    ):
        with pytest.raises(TypeError, match="status"):
            call()
    assert {AdAccount.objects.get().status, Pixel.objects.get().status} == {"active"}


def test_already_archived_or_active_is_refused_and_writes_nothing(admin_user, ad_account, activity):
    with pytest.raises(services.AlreadyInState, match=r"Already active\."):
        services.ad_account_restore(user=admin_user, ad_account=ad_account)
    services.ad_account_archive(user=admin_user, ad_account=ad_account)
    activity.new()
    with pytest.raises(services.AlreadyInState, match=r"Already archived\."):
        services.ad_account_archive(user=admin_user, ad_account=ad_account)
    assert AdAccount.objects.get(pk=ad_account.pk).version == 2
    activity.none()


def test_service_refuses_a_duplicate_external_id_by_the_field(admin_user, brand, activity):
    AdAccountFactory(brand=brand, external_id="act_777")
    with pytest.raises(Exception, match="Another Meta ad account already uses act_777") as exc:
        services.ad_account_create(
            user=admin_user,
            brand=brand,
            platform="meta",
            external_id="act_777",
            name="Copy",
            currency="EUR",
            time_zone="Europe/Berlin",
        )
    assert list(exc.value.message_dict) == ["external_id"]
    activity.none()


def test_pixel_created_with_a_token_logs_created_then_token_changed(admin_user, brand, activity):
    pixel = services.pixel_create(
        user=admin_user,
        brand=brand,
        platform="meta",
        external_id="987654321012",
        name="Web pixel",
        access_token="EAAB-secret-at-creation",
    )
    rows = activity.new()
    assert [row.verb for row in rows] == ["pixel.created", "pixel.token_changed"]
    assert rows[1].after == {"access_token": "set"}
    assert all("EAAB-secret-at-creation" not in str(row.after) for row in rows)
    assert pixel.version == 1


# --- pages -----------------------------------------------------------------------------------


def edit_url(ad_account) -> str:
    return reverse("catalog:ad_account_edit", args=[ad_account.brand.slug, ad_account.pk])


def test_edit_form_carries_the_version(admin_client, ad_account):
    AdAccount.objects.filter(pk=ad_account.pk).update(version=7)
    html = admin_client.get(edit_url(ad_account)).content.decode()
    assert '<input type="hidden" name="version" value="7"' in html


@pytest.mark.parametrize("htmx", [False, True])
def test_stale_page_edit_shows_who_changed_it_and_the_current_values(
    client, admin_user, other_lead, brand, ad_account, activity, htmx
):
    # Someone else saves first, from the same version the admin's form was opened at.
    services.ad_account_update(
        user=other_lead, ad_account=ad_account, expected_version=1, name="Changed by lead"
    )
    activity.new()
    client.force_login(admin_user)
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    response = client.post(edit_url(ad_account), ad_account_data(name="Mine"), **headers)
    assert response.status_code == (409 if htmx else 200)
    html = response.content.decode()
    assert "changed by other.lead@example.com at" in html
    assert "meanwhile" in html
    assert 'value="Changed by lead"' in html and 'value="Mine"' not in html
    assert '<input type="hidden" name="version" value="2"' in html
    assert AdAccount.objects.get(pk=ad_account.pk).name == "Changed by lead"
    activity.none()
    # Saving again from the current values (and version) works.
    response = client.post(edit_url(ad_account), ad_account_data(name="Mine", version=2))
    assert response.status_code == 302
    assert AdAccount.objects.get(pk=ad_account.pk).name == "Mine"
    activity.one("ad_account.updated", actor=admin_user, brand=brand)


def test_stale_brand_and_pixel_edits_are_refused_on_the_page(
    admin_client, admin_user, brand, pixel, ad_account, activity
):
    services.brand_archive(user=admin_user, brand=brand)
    services.brand_restore(user=admin_user, brand=brand)
    services.pixel_set_access_token(user=admin_user, pixel=pixel, access_token="")
    activity.new()
    response = admin_client.post(
        reverse("catalog:brand_edit", args=[brand.slug]),
        {"name": "Stale", "slug": brand.slug, "version": 1},
    )
    assert response.status_code == 200
    assert "meanwhile" in response.content.decode()
    response = admin_client.post(
        reverse("catalog:pixel_edit", args=[brand.slug, pixel.pk]),
        {"name": "Stale", "platform": "meta", "external_id": pixel.external_id, "version": 1},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 409
    assert "changed by admin@example.com at" in response.content.decode()
    assert (Brand.objects.get().name, Pixel.objects.get().name) == ("Own Brand", "Shop pixel")
    activity.none()


@pytest.mark.parametrize("version", [None, "", "abc", "²", "9" * 30])
def test_edit_without_a_valid_version_is_refused_at_the_top_of_the_form(
    admin_client, ad_account, activity, version
):
    data = ad_account_data(name="Renamed")
    if version is None:
        del data["version"]
    else:
        data["version"] = version
    response = admin_client.post(edit_url(ad_account), data)
    assert response.status_code == 422
    assert "reload the page" in response.content.decode()
    assert AdAccount.objects.get(pk=ad_account.pk).name == "Main DE"
    activity.none()


def test_archiving_what_is_archived_says_so_and_writes_nothing(
    admin_client, brand, ad_account, pixel, activity
):
    pages = [
        ("catalog:brand_archive", [brand.slug], "Brand “Own Brand” is already archived."),
        (
            "catalog:ad_account_archive",
            [brand.slug, ad_account.pk],
            "Ad account “Main DE” is already archived.",
        ),
        (
            "catalog:pixel_archive",
            [brand.slug, pixel.pk],
            "Pixel “Shop pixel” is already archived.",
        ),
    ]
    for name, args, _ in pages:
        assert admin_client.post(reverse(name, args=args)).status_code == 302
    activity.new()
    for name, args, message in pages:
        response = admin_client.post(reverse(name, args=args), follow=True)
        assert message in response.content.decode()
    activity.none()


def test_restoring_what_is_active_says_so_and_writes_nothing(
    admin_client, brand, pixel, activity, htmx_headers
):
    response = admin_client.post(
        reverse("catalog:pixel_restore", args=[brand.slug, pixel.pk]), **htmx_headers
    )
    toast = json.loads(response["HX-Trigger"])["toast"]
    assert toast == {"message": "Pixel “Shop pixel” is already active.", "level": "info"}
    response = admin_client.post(reverse("catalog:brand_restore", args=[brand.slug]), follow=True)
    assert "Brand “Own Brand” is already active." in response.content.decode()
    activity.none()
