"""In the browser: the start page points at work, and its link opens exactly the pixels
it counts, with the filter shown as a chip that removes it."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_walkthrough import sign_in
from tests.factories import DEFAULT_PASSWORD, AdminFactory, BrandFactory, PixelFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_from_the_start_page_to_the_pixels_without_a_token_and_back(browser_page, console_errors):
    page = browser_page
    AdminFactory(email="start-admin@example.com")
    brand = BrandFactory(name="Nordwind Outdoor", slug="nordwind-outdoor")
    PixelFactory(brand=brand, name="Shop pixel")  # no token
    PixelFactory(brand=brand, name="Blog pixel")  # no token
    PixelFactory(brand=brand, name="App pixel", with_token=True)

    sign_in(page, email="start-admin@example.com", password=DEFAULT_PASSWORD)
    expect(page).to_have_url(re.compile(r"/$"))
    panel = page.get_by_role("region", name="Needs attention")
    panel.get_by_role("link", name="2 pixels have no access token").click()

    expect(page).to_have_url(re.compile(r"/brands/nordwind-outdoor/pixels/\?token=missing$"))
    table = page.locator("#pixel-table")
    expect(table.get_by_role("link", name="Shop pixel")).to_be_visible()
    expect(table.get_by_role("link", name="Blog pixel")).to_be_visible()
    expect(table.get_by_role("link", name="App pixel")).to_have_count(0)

    # Searching keeps the filter; removing the chip shows every pixel again.
    page.get_by_role("searchbox", name="Search pixels").press_sequentially("shop", delay=30)
    expect(table.get_by_role("link", name="Blog pixel")).to_have_count(0)
    expect(page).to_have_url(re.compile(r"token=missing"))
    page.get_by_role("link", name="Remove the filter Without access token").click()
    expect(page).not_to_have_url(re.compile(r"token="))
    expect(table.get_by_role("link", name="App pixel")).to_be_visible()
    assert console_errors == []
