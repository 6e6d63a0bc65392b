"""The UI kit in a real browser: row menus, the confirm dialog (keyboard and pointer),
focus after a failed save and after paging, and no sideways scrolling on a phone."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from koastops.catalog.models import AdAccount, CatalogStatus
from tests.factories import DEFAULT_PASSWORD, AdAccountFactory, AdminFactory, BrandFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EMAIL = "kit-admin@example.com"
LIST = "/brands/nordwind-outdoor/ad-accounts/"


@pytest.fixture
def accounts(settings):
    settings.KOASTOPS_PAGE_SIZE = 25
    AdminFactory(email=EMAIL, full_name="Kit Admin")
    brand = BrandFactory(name="Nordwind Outdoor", slug="nordwind-outdoor")
    return [
        AdAccountFactory(brand=brand, name=f"Account {n:02d}", external_id=f"act_{7000 + n}")
        for n in range(30)
    ]


def sign_in(page) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Email address").fill(EMAIL)
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/brands/$"))


def page_overflow(page) -> int:
    return page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )


def test_archive_from_the_row_menu_asks_first_and_escape_cancels(
    browser_page, accounts, console_errors
):
    page = browser_page
    sign_in(page)
    page.goto(LIST)
    menu_button = page.get_by_label("Actions for Account 00")
    menu_button.click()
    page.get_by_role("button", name="Archive Account 00").click()

    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Archive the ad account “Account 00”?")
    expect(dialog.get_by_role("button", name="Cancel")).to_be_focused()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(page.get_by_role("button", name="Archive Account 00")).to_be_focused()
    assert AdAccount.objects.get(name="Account 00").status == CatalogStatus.ACTIVE

    page.keyboard.press("Escape")  # closes the row menu, focus back on its button
    expect(menu_button).to_be_focused()
    expect(page.locator("details.row-menu[open]")).to_have_count(0)

    menu_button.click()
    page.get_by_role("button", name="Archive Account 00").click()
    dialog.get_by_role("button", name="Archive").click()
    expect(page.locator("#ad-account-table")).not_to_contain_text("Account 00")
    assert AdAccount.objects.get(name="Account 00").status == CatalogStatus.ARCHIVED

    expect(page.locator(".messages")).to_contain_text("Ad account “Account 00” archived.")

    # A save answers with a toast (htmx): it has an icon and a close button.
    page.get_by_label("Actions for Account 01").click()
    page.get_by_role("link", name="Edit Account 01").click()
    page.get_by_role("button", name="Save ad account").click()
    toast = page.locator("#toasts .toast")
    expect(toast).to_contain_text("Account 01")
    expect(toast.locator("svg.icon").first).to_be_attached()
    toast.get_by_role("button", name="Dismiss").click()
    expect(toast).to_have_count(0)
    assert console_errors == []


def test_only_one_row_menu_is_open_and_a_click_outside_closes_it(browser_page, accounts):
    page = browser_page
    sign_in(page)
    page.goto(LIST)
    page.get_by_label("Actions for Account 01").click()
    page.get_by_label("Actions for Account 06").click()  # below the first menu
    expect(page.locator("details.row-menu[open]")).to_have_count(1)
    page.get_by_role("heading", name="Ad accounts", level=1).click()
    expect(page.locator("details.row-menu[open]")).to_have_count(0)


def test_paging_moves_focus_to_the_table(browser_page, accounts):
    page = browser_page
    sign_in(page)
    page.goto(LIST)
    page.get_by_role("link", name="Next page").click()
    expect(page).to_have_url(re.compile(r"page=2"))
    expect(page.locator("#ad-account-table")).to_be_focused()
    expect(page.locator("#ad-account-table")).to_contain_text("Account 29")


def test_a_failed_save_focuses_the_error_summary(browser_page, accounts):
    page = browser_page
    sign_in(page)
    page.goto(LIST + "new/")
    page.get_by_label("Name").fill("Account 01")
    page.get_by_label("Platform").select_option(label="Meta")
    page.get_by_label("External id").fill("not-an-id")  # refused by the server (htmx, 422)
    page.get_by_label("Currency").fill("EUR")
    page.get_by_label("Time zone").fill("Europe/Berlin")
    page.get_by_role("button", name="Add ad account").click()
    summary = page.locator("[data-error-summary]")
    expect(summary).to_be_focused()
    summary.get_by_role("link").first.click()
    expect(page.locator("#id_external_id")).to_be_focused()


@pytest.mark.parametrize(("width", "height"), [(390, 844), (1280, 800)])
def test_pages_never_scroll_sideways(browser_page, accounts, width, height):
    page = browser_page
    page.set_viewport_size({"width": width, "height": height})
    sign_in(page)
    for url in ("/brands/", "/brands/nordwind-outdoor/", LIST, "/brands/nordwind-outdoor/pixels/"):
        page.goto(url)
        assert page_overflow(page) == 0, url
    if width == 1280:  # the ad-account table fits: its row menus are reachable
        wrap = page.locator("#ad-account-table .table-wrap")
        page.goto(LIST)
        assert wrap.evaluate("e => e.scrollWidth - e.clientWidth") == 0
