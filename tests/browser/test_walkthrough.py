"""A first visit in a real browser: sign in, find a brand, its ad accounts and pixels."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.factories import (
    DEFAULT_PASSWORD,
    AdAccountFactory,
    AdminFactory,
    BrandFactory,
    PixelFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ADMIN_EMAIL = "walkthrough-admin@example.com"
TOKEN = "EAAB-test-token"  # what PixelFactory(with_token=True) stores, encrypted


@pytest.fixture
def catalog():
    admin = AdminFactory(email=ADMIN_EMAIL, full_name="Ada Admin")
    brand = BrandFactory(name="Nordwind Outdoor", slug="nordwind-outdoor")
    BrandFactory(name="Lumen Skincare", slug="lumen-skincare")
    ad_account = AdAccountFactory(brand=brand, name="Nordwind DE", external_id="act_4100000001")
    pixel = PixelFactory(
        brand=brand, name="Nordwind web pixel", external_id="410000000000101", with_token=True
    )
    pixel.ad_accounts.add(ad_account)
    return {"admin": admin, "brand": brand, "ad_account": ad_account, "pixel": pixel}


def sign_in(page, *, email: str, password: str) -> None:
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_admin_signs_in_and_walks_from_brand_to_pixel(browser_page, catalog, console_errors):
    page = browser_page

    sign_in(page, email=ADMIN_EMAIL, password=DEFAULT_PASSWORD)

    # Signing in lands on the start page, which lists the user's brands.
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.get_by_role("heading", name="Start", level=1)).to_be_visible()
    brands = page.get_by_role("region", name="Your brands")
    brands.get_by_role("link", name="Nordwind Outdoor", exact=True).click()

    expect(page).to_have_url(re.compile(r"/brands/nordwind-outdoor/$"))
    expect(page.get_by_role("heading", name="Nordwind Outdoor", level=1)).to_be_visible()
    tabs = page.get_by_role("navigation", name="Brand sections")
    tabs.get_by_role("link", name="Ad accounts").click()

    expect(page).to_have_url(re.compile(r"/brands/nordwind-outdoor/ad-accounts/$"))
    expect(page.get_by_text("Nordwind DE").first).to_be_visible()
    expect(page.get_by_text("act_4100000001").first).to_be_visible()
    tabs.get_by_role("link", name="Pixels").click()

    expect(page).to_have_url(re.compile(r"/brands/nordwind-outdoor/pixels/$"))
    page.get_by_role("link", name="Nordwind web pixel").first.click()

    pixel = catalog["pixel"]
    expect(page).to_have_url(re.compile(rf"/brands/nordwind-outdoor/pixels/{pixel.pk}/$"))
    token_state = page.locator("dt", has_text="Access token").locator(
        "xpath=following-sibling::dd[1]"
    )
    expect(token_state).to_contain_text("Set")
    assert TOKEN not in page.content()
    assert pixel.access_token_encrypted not in page.content()

    assert console_errors == []


def test_brand_search_filters_the_list_as_you_type(browser_page, catalog, console_errors):
    page = browser_page
    sign_in(page, email=ADMIN_EMAIL, password=DEFAULT_PASSWORD)
    page.get_by_role("link", name="All brands", exact=True).first.click()
    expect(page).to_have_url(re.compile(r"/brands/$"))
    table = page.locator("#brand-table")
    expect(table.get_by_role("link", name="Nordwind Outdoor")).to_be_visible()
    expect(table.get_by_role("link", name="Lumen Skincare")).to_be_visible()

    page.get_by_role("searchbox", name="Search brands").press_sequentially("lumen", delay=30)

    # htmx swaps only the table: the search box keeps what was typed, the URL follows.
    expect(table.get_by_role("link", name="Nordwind Outdoor")).to_have_count(0)
    expect(table.get_by_role("link", name="Lumen Skincare")).to_be_visible()
    expect(page).to_have_url(re.compile(r"[?&]q=lumen"))
    expect(page.get_by_role("searchbox", name="Search brands")).to_have_value("lumen")

    assert console_errors == []


def test_console_recorder_catches_csp_violations(browser_page, console_errors):
    """Guards the guard: an inline script is blocked by the CSP and shows up as an error."""
    page = browser_page
    page.goto("/accounts/login/")
    page.evaluate(
        """() => {
            const script = document.createElement("script");
            script.textContent = "window.inlineRan = true";
            document.body.appendChild(script);
        }"""
    )

    expect(page.get_by_role("heading", name="Sign in to koastops")).to_be_visible()
    assert page.evaluate("window.inlineRan") is None
    page.wait_for_timeout(200)
    assert any("Content Security Policy" in error for error in console_errors), console_errors
    console_errors.clear()
