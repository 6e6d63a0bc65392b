"""The searchable pickers used by keyboard only: an ops lead adds an ad account without
touching the mouse, picking its currency, time zone and markets by typing, and the values
saved are the ones picked. No console error (a CSP violation would be one)."""

from __future__ import annotations

import importlib
import re

import pytest
from django.apps import apps
from playwright.sync_api import expect

from koastops.catalog.models import AdAccount
from tests.browser.test_walkthrough import sign_in
from tests.factories import DEFAULT_PASSWORD, AdminFactory, BrandFactory, market

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EMAIL = "picker-admin@example.com"


def ensure_markets() -> None:
    """Markets are reference data a migration ships; a transactional test before this one
    flushed them, so load them the way the migration does."""
    importlib.import_module("koastops.catalog.migrations.0002_markets").load_markets(apps, None)


@pytest.fixture
def brand():
    ensure_markets()
    AdminFactory(email=EMAIL)
    brand = BrandFactory(name="Nordwind Outdoor", slug="nordwind-outdoor")
    # Germany, and three countries with "ger" inside a word: Germany must still come first.
    brand.markets.set([market(code) for code in ("DE", "AT", "FR", "NE", "NG", "DZ")])
    return brand


def tab_to(page, target, *, limit: int = 40) -> None:
    """Press Tab until ``target`` has the focus (keyboard only: no click, no .focus())."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if target.evaluate("el => el === document.activeElement"):
            return
    raise AssertionError("Tab never reached the control")


def expect_active_option(page, combobox, text: str | re.Pattern[str]) -> None:
    """The option the combobox points at (aria-activedescendant) reads ``text``."""
    expect(combobox).to_have_attribute("aria-activedescendant", re.compile(".+"))
    listbox = combobox.get_attribute("aria-controls")
    expect(page.locator(f"#{listbox} .option.active")).to_have_text(text)
    option_id = combobox.get_attribute("aria-activedescendant")
    expect(page.locator(f"#{listbox} .option.active")).to_have_id(option_id)


def test_ad_account_form_by_keyboard_only(browser_page, brand, console_errors):
    page = browser_page
    sign_in(page, email=EMAIL, password=DEFAULT_PASSWORD)
    expect(page).to_have_url(re.compile(r"//[^/]+/$"))  # signed in: the start page
    page.goto("/brands/nordwind-outdoor/ad-accounts/new/")

    # The label points at the input one types in (Tom Select's combobox), so each picker is
    # found by its label with the combobox role, and the help text still describes it.
    markets = page.get_by_role("combobox", name="Markets")
    currency = page.get_by_role("combobox", name="Currency")
    time_zone = page.get_by_role("combobox", name="Time zone")
    for picker, help_id in (
        (markets, "id_markets_helptext"),
        (currency, "id_currency_helptext"),
        (time_zone, "id_time_zone_helptext"),
    ):
        expect(picker).to_be_visible()
        expect(picker).to_have_attribute("aria-describedby", re.compile(rf"-ts-selected {help_id}"))
    # The native selects are still there (they are what the form submits), out of the
    # accessibility tree: no second, unlabelled control.
    for name in ("markets", "currency", "time_zone"):
        expect(page.locator(f"select#id_{name}")).to_have_attribute("aria-hidden", "true")

    tab_to(page, page.get_by_label("Name"))
    page.keyboard.type("Nordwind DE")
    page.keyboard.press("Tab")
    page.keyboard.press("m")  # the platform select: typing a letter picks Meta
    expect(page.get_by_label("Platform")).to_have_value("meta")
    page.keyboard.press("Tab")
    page.keyboard.type("act_4100000077")

    tab_to(page, currency)
    page.keyboard.type("eur")
    expect_active_option(page, currency, "EUR — Euro")
    page.keyboard.press("Enter")
    expect(page.locator("#id_currency")).to_have_value("EUR")
    # The combobox's input is empty once a value is picked: its description says the value.
    expect(currency).to_have_accessible_description(re.compile(r"^Selected: EUR — Euro\."))

    tab_to(page, time_zone)
    page.keyboard.type("berlin")
    expect(page.get_by_role("option", name="Europe/Berlin")).to_be_visible()
    page.keyboard.press("Enter")
    expect(page.locator("#id_time_zone")).to_have_value("Europe/Berlin")

    tab_to(page, markets)
    chips = page.locator("#id_markets_field .ts-control .item")
    page.keyboard.type("ger")
    expect_active_option(page, markets, "DE — Germany")  # a word start beats "Niger"
    page.keyboard.press("ArrowDown")  # the next match; ArrowUp comes back to Germany
    expect_active_option(page, markets, re.compile("Niger|Algeria"))
    page.keyboard.press("ArrowUp")
    expect_active_option(page, markets, "DE — Germany")
    page.keyboard.press("Enter")
    expect(chips).to_have_text([re.compile(r"^DE — Germany\W$")])  # and its remove button
    expect(page.get_by_role("button", name="Remove DE — Germany")).to_have_count(1)
    expect(page.get_by_role("status").filter(has_text="DE — Germany added")).to_have_count(1)

    page.keyboard.press("Backspace")  # the search is empty: removes the last chip
    expect(chips).to_have_count(0)
    expect(page.locator("#id_markets option:checked")).to_have_count(0)

    page.keyboard.type("ger")
    page.keyboard.press("Enter")
    page.keyboard.type("austria")
    page.keyboard.press("Enter")
    expect(chips).to_have_count(2)
    expect(markets).to_have_accessible_description(
        re.compile(r"^Selected: DE — Germany, AT — Austria\.")
    )
    expect(page.locator("#id_markets option:checked")).to_have_text(
        ["DE — Germany", "AT — Austria"]
    )

    page.keyboard.press("Escape")  # close the list; then submit from the keyboard
    tab_to(page, page.get_by_role("button", name="Add ad account"))
    page.keyboard.press("Enter")

    expect(page).to_have_url(re.compile(r"/brands/nordwind-outdoor/ad-accounts/$"))
    account = AdAccount.objects.get(external_id="act_4100000077")
    assert (account.name, account.currency, account.time_zone) == (
        "Nordwind DE",
        "EUR",
        "Europe/Berlin",
    )
    assert sorted(account.markets.values_list("code", flat=True)) == ["AT", "DE"]
    assert console_errors == []


def test_edit_keeps_a_stored_value_no_longer_offered(browser_page, brand, console_errors):
    """An account whose stored time zone the list does not offer shows it selected (the
    server then says why it cannot be saved) instead of silently showing another one."""
    from tests.factories import AdAccountFactory

    account = AdAccountFactory(brand=brand, currency="EUR", time_zone="Europe/Berlin")
    AdAccount.objects.filter(pk=account.pk).update(time_zone="Mars/Olympus")
    page = browser_page
    sign_in(page, email=EMAIL, password=DEFAULT_PASSWORD)
    expect(page).to_have_url(re.compile(r"//[^/]+/$"))  # signed in: the start page
    page.goto(f"/brands/nordwind-outdoor/ad-accounts/{account.pk}/edit/")
    field = page.locator("#id_time_zone_field")
    expect(field.locator(".ts-control .item")).to_have_text("Mars/Olympus (no longer offered)")
    page.get_by_role("button", name="Save ad account").click()
    expect(field).to_contain_text("Mars/Olympus is not an IANA time zone")
    # After the htmx swap of the form the picker is enhanced again, still showing the value.
    expect(page.get_by_role("combobox", name="Time zone")).to_be_visible()
    expect(field.locator(".ts-control .item")).to_have_text("Mars/Olympus (no longer offered)")
    combobox = page.get_by_role("combobox", name="Time zone")
    expect(combobox).to_have_attribute("aria-invalid", "true")
    # The error summary links to the field's id (the hidden select): the focus goes on to
    # the combobox, where the keyboard can change the value.
    page.locator("[data-error-summary] a[href='#id_time_zone']").click()
    expect(combobox).to_be_focused()
    # The refused save answers 422 on purpose (Chromium logs it); nothing else may show.
    assert [e for e in console_errors if "status of 422" not in e] == []
