"""The activity feed in a real browser: the "what" filter swaps the feed and puts the
shared filter names in the address bar, details open by keyboard, no sideways scroll."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.activity.test_views import add_entry
from tests.factories import DEFAULT_PASSWORD, AdminFactory, BrandFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EMAIL = "feed-admin@example.com"
FEED = "/brands/nordwind-outdoor/activity/"


@pytest.fixture
def log():
    admin = AdminFactory(email=EMAIL, full_name="Feed Admin")
    brand = BrandFactory(name="Nordwind Outdoor", slug="nordwind-outdoor")
    add_entry(
        brand,
        verb="ad_account.created",
        actor_id=admin.pk,
        actor_label=EMAIL,
        target_type="catalog.adaccount",
        target_label="Main DE (act_1)",
        after={"name": "Main DE", "currency": "EUR"},
    )
    add_entry(
        brand,
        verb="brand.updated",
        actor_id=admin.pk,
        actor_label=EMAIL,
        target_id=str(brand.pk),
        target_label="Nordwind Outdoor",
        before={"description": "old text"},
        after={"description": "new text"},
    )
    return brand


def sign_in(page) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Email address").fill(EMAIL)
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"//[^/]+/$"))  # signed in: the start page


def test_the_what_filter_swaps_the_feed_and_the_url_uses_the_shared_names(
    browser_page, log, console_errors
):
    page = browser_page
    sign_in(page)
    page.goto(FEED)
    feed = page.locator("#activity-table")
    expect(feed).to_contain_text("Feed Admin")
    expect(feed).to_contain_text("edited the brand")

    page.get_by_label("What").select_option(label="Ad account added")

    expect(page).to_have_url(re.compile(r"verb=ad_account\.created"))
    expect(page).to_have_url(re.compile(r"target_type=&date_from=&date_to="))
    expect(feed).not_to_contain_text("edited the brand")
    expect(feed).to_contain_text("added the ad account")
    export = feed.get_by_role("link", name="Export these entries as CSV")
    expect(export).to_have_attribute("href", re.compile(r"verb=ad_account\.created"))
    assert console_errors == []


def test_details_open_by_keyboard_and_show_the_values_set(browser_page, log):
    page = browser_page
    sign_in(page)
    page.goto(FEED + "?verb=ad_account.created")
    summary = page.locator(".feed-details > summary").first
    expect(summary).to_have_text(re.compile("2 values set"))
    summary.focus()
    page.keyboard.press("Enter")
    table = page.locator(".feed-changes").first
    expect(table).to_be_visible()
    expect(table).to_contain_text("Currency")
    expect(table).to_contain_text("EUR")
    expect(table).not_to_contain_text("—")


@pytest.mark.parametrize(("width", "height"), [(390, 844), (1280, 800)])
def test_the_feed_never_scrolls_sideways(browser_page, log, width, height):
    page = browser_page
    page.set_viewport_size({"width": width, "height": height})
    sign_in(page)
    page.goto(FEED)
    for summary in page.locator(".feed-details > summary").all():
        summary.click()
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow == 0
