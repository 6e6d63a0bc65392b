"""The budget limit pages: the list of the accounts the user may use, the ops lead's form
(create, update, clear a bound, errors by field, compare-and-set), one activity row each."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from koastops.accounts import policies
from koastops.accounts.models import Role
from koastops.launches.models import BudgetLimit
from tests.factories import AdAccountFactory, BrandFactory, BudgetLimitFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup():
    brand = BrandFactory()
    account = AdAccountFactory(brand=brand, name="Main account", currency="SEK")
    lead, buyer = UserFactory(), UserFactory()
    policies.grant_role(lead, brand, Role.OPS_LEAD)
    policies.grant_role(buyer, brand, Role.MEDIA_BUYER)
    return brand, account, lead, buyer


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _edit_url(account) -> str:
    return reverse(
        "launches:limit_edit", kwargs={"slug": account.brand.slug, "account_pk": account.pk}
    )


def test_lead_creates_updates_and_clears_limits(setup, activity):
    brand, account, lead, _ = setup
    client = _client(lead)
    page = client.get(_edit_url(account))
    assert page.status_code == 200 and "Daily minimum (SEK)" in page.text
    assert 'name="version" value="0"' in page.text
    response = client.post(
        _edit_url(account),
        {"version": "0", "daily_min": "10", "daily_max": "500.50", "lifetime_max": ""},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("launches:limits", kwargs={"slug": brand.slug})
    limit = BudgetLimit.objects.get(ad_account=account)
    assert (limit.daily_min, limit.daily_max, limit.lifetime_max, limit.version) == (
        Decimal("10.00"),
        Decimal("500.50"),
        None,
        1,
    )
    row = activity.one("budget_limit.updated", actor=lead, brand=brand)
    assert row.after["daily_max"] == "500.50"
    client.post(
        _edit_url(account),
        {"version": "1", "daily_min": "", "daily_max": "600", "lifetime_max": "9000"},
    )
    limit.refresh_from_db()
    assert limit.daily_min is None and limit.lifetime_max == Decimal("9000") and limit.version == 2
    listing = client.get(reverse("launches:limits", kwargs={"slug": brand.slug}))
    assert "600.00" in listing.text and "9000.00" in listing.text and "Edit" in listing.text


def test_errors_by_field_and_nothing_saved(setup, activity):
    _, account, lead, _ = setup
    response = _client(lead).post(
        _edit_url(account),
        {"version": "0", "daily_min": "50", "daily_max": "10", "lifetime_max": "1.234"},
    )
    assert response.status_code == 422
    assert (
        'id="id_daily_max_error"' in response.text and 'id="id_lifetime_max_error"' in response.text
    )
    assert "at least the daily minimum" in response.text
    assert not BudgetLimit.objects.exists()
    activity.none()


def test_stale_version_is_refused_and_shows_the_current_values(setup, activity):
    _, account, lead, _ = setup
    BudgetLimitFactory(ad_account=account, daily_max=Decimal("777.00"), version=3)
    response = _client(lead).post(
        _edit_url(account), {"version": "2", "daily_min": "", "daily_max": "1", "lifetime_max": ""}
    )
    assert response.status_code == 200 and "someone changed these limits" in response.text
    assert 'value="777.00"' in response.text and 'name="version" value="3"' in response.text
    assert BudgetLimit.objects.get().daily_max == Decimal("777.00")
    activity.none()
    htmx = _client(lead).post(
        _edit_url(account),
        {"version": "abc", "daily_max": "1"},
        HTTP_HX_REQUEST="true",
    )
    assert htmx.status_code == 409


def test_buyer_reads_but_cannot_edit_and_narrowing_hides_accounts(setup):
    brand, account, _, buyer = setup
    hidden = AdAccountFactory(brand=brand, name="Hidden ZZZ account")
    BudgetLimitFactory(ad_account=hidden)
    policies.set_ad_account_narrowing(buyer, brand, [account])
    client = _client(buyer)
    listing = client.get(reverse("launches:limits", kwargs={"slug": brand.slug}))
    assert listing.status_code == 200
    assert "Main account" in listing.text and "Hidden ZZZ account" not in listing.text
    assert _edit_url(account) not in listing.text
    assert client.get(_edit_url(account)).status_code == 403


def test_another_brands_account_is_404(setup):
    brand, _, lead, _ = setup
    other = AdAccountFactory()
    url = reverse("launches:limit_edit", kwargs={"slug": brand.slug, "account_pk": other.pk})
    assert _client(lead).get(url).status_code == 404


def test_limit_list_in_constant_queries(setup, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    brand, account, lead, _ = setup
    BudgetLimitFactory(ad_account=account, updated_by=lead)
    client = _client(lead)
    url = reverse("launches:limits", kwargs={"slug": brand.slug})
    client.get(url)
    with CaptureQueriesContext(connection) as one:
        client.get(url)
    for _ in range(20):
        BudgetLimitFactory(ad_account=AdAccountFactory(brand=brand), updated_by=UserFactory())
    with django_assert_max_num_queries(len(one)):
        response = client.get(url)
    assert response.text.count("Edit the budget limits of") == 21
