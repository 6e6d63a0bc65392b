"""Currency, time zone and markets are picked from lists; the server still validates them
(form, model and API) and an edit keeps a stored value the lists no longer offer."""

from __future__ import annotations

import re
import zoneinfo

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from koastops.accounts.forms import MemberInviteForm
from koastops.catalog import validators
from koastops.catalog.forms import AdAccountForm, BrandForm
from koastops.catalog.models import AdAccount
from tests.factories import AdAccountFactory

pytestmark = pytest.mark.django_db


def form_data(**overrides) -> dict:
    return {
        "name": "Acme DE",
        "platform": "meta",
        "external_id": "act_987654321",
        "currency": "EUR",
        "time_zone": "Europe/Berlin",
        "version": "1",
    } | overrides


def test_currency_choices_are_every_iso_4217_code_with_its_name():
    choices = dict(validators.currency_choices())
    assert set(choices) == validators.currency_codes()
    assert choices["EUR"] == "EUR — Euro" and choices["USD"] == "USD — US Dollar"
    codes = [code for code, _ in validators.currency_choices()]
    assert codes == sorted(codes)


def test_time_zone_choices_are_every_iana_zone_once_grouped_by_region():
    groups = dict(validators.time_zone_choices())
    names = [name for zones in groups.values() for name, _ in zones]
    assert sorted(names) == sorted(zoneinfo.available_timezones())
    assert ("Europe/Berlin", "Europe/Berlin") in groups["Europe"]
    assert ("UTC", "UTC") in groups["Other"]
    assert list(groups)[-1] == "Other"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("currency", "XYZ", "XYZ is not an ISO 4217 currency code (e.g. EUR, USD, GBP)."),
        ("currency", "EURO", "Ensure this value has at most 3 characters"),
        ("time_zone", "Mars/Olympus", "Mars/Olympus is not an IANA time zone"),
        ("currency", "", "This field is required."),
        ("time_zone", "", "This field is required."),
    ],
)
def test_form_refuses_a_value_outside_the_lists_by_the_field(brand, field, value, message):
    form = AdAccountForm(data=form_data(**{field: value}), brand=brand)
    assert not form.is_valid()
    assert any(message in error for error in form.errors[field]), form.errors


def test_currency_and_time_zone_render_as_plain_selects(brand):
    form = AdAccountForm(brand=brand)
    for name in ("currency", "time_zone"):
        html = str(form[name])
        assert html.startswith(f'<select name="{name}"') and " required" in html
        assert "maxlength" not in html  # the model's CharField length means nothing here
        assert html.count(" selected") == 0


def test_form_accepts_a_lowercase_currency_posted_by_hand(brand):
    form = AdAccountForm(data=form_data(currency=" usd "), brand=brand)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["currency"] == "USD"


def test_the_model_refuses_them_too(brand):
    """The service runs full_clean(): the rule holds for any writer, not only the form."""
    account = AdAccountFactory.build(brand=brand, currency="XYZ", time_zone="Mars/Olympus")
    with pytest.raises(ValidationError) as error:
        account.full_clean()
    assert {"currency", "time_zone"} <= set(error.value.message_dict)


def test_edit_shows_a_stored_value_no_longer_offered_and_keeps_it(admin_client, brand):
    account = AdAccountFactory(brand=brand)
    AdAccount.objects.filter(pk=account.pk).update(currency="DEM", time_zone="Mars/Olympus")
    url = reverse("catalog:ad_account_edit", args=[brand.slug, account.pk])
    html = admin_client.get(url).content.decode()
    assert '<option value="DEM" selected>DEM (no longer offered)</option>' in html
    assert '<option value="Mars/Olympus" selected>Mars/Olympus (no longer offered)</option>' in html
    # Saving it unchanged is refused by the field, and the stored value is untouched.
    response = admin_client.post(
        url,
        form_data(
            name=account.name,
            external_id=account.external_id,
            currency="DEM",
            time_zone="Mars/Olympus",
        ),
    )
    assert response.status_code == 422
    assert "DEM is not an ISO 4217 currency code" in str(response.context["form"].errors)
    account.refresh_from_db()
    assert (account.currency, account.time_zone) == ("DEM", "Mars/Olympus")


def test_market_pickers_read_code_and_name_in_one_query(brand, django_assert_num_queries):
    with django_assert_num_queries(1):
        html = str(BrandForm()["markets"])
    assert 'data-picker="multiple"' in html and ">DE — Germany</option>" in html
    assert html.count("<option") >= 240  # every market
    form = AdAccountForm(brand=brand)
    with django_assert_num_queries(1):
        html = str(form["markets"])
    # Only the brand's markets, by name.
    assert re.findall(r">([A-Z]{2}) — ", html) == ["AT", "FR", "DE"]
    assert "Hold Ctrl" not in form.fields["markets"].help_text


def test_member_narrowing_is_a_multi_picker(ad_account):
    form = MemberInviteForm(ad_accounts=[ad_account])
    html = str(form["ad_accounts"])
    assert (
        'data-picker="multiple"' in html
        and f'<option value="{ad_account.pk}">Main DE</option>' in html
    )
