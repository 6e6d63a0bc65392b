"""Density (issue #7): at 1440x900 a list shows at least 18 whole rows without scrolling,
and at 1280 px its table fits its box (row actions reachable without scrolling sideways)."""

from __future__ import annotations

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

EMAIL = "density-admin@example.com"

# Rows of the table wholly inside the viewport, as the page first shows it.
VISIBLE_ROWS = """(selector) => {
  const rows = [...document.querySelectorAll(selector + ' tbody tr')];
  return rows.filter((row) => {
    const r = row.getBoundingClientRect();
    return r.height > 0 && r.top >= 0 && r.bottom <= window.innerHeight;
  }).length;
}"""


@pytest.fixture
def long_lists(settings):
    settings.KOASTOPS_PAGE_SIZE = 25
    AdminFactory(email=EMAIL, full_name="Density Admin")
    brand = BrandFactory(name="Nordwind Outdoor", slug="nordwind-outdoor")
    for n in range(30):
        AdAccountFactory(brand=brand, name=f"Account {n:02d}", external_id=f"act_{9100 + n}")
        PixelFactory(brand=brand, name=f"Pixel {n:02d}", external_id=f"{91000000 + n}")
    return brand


def sign_in(page) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Email address").fill(EMAIL)
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()


@pytest.mark.parametrize(
    ("path", "table"),
    [("ad-accounts/", "#ad-account-table"), ("pixels/", "#pixel-table")],
)
def test_a_list_shows_at_least_18_rows_at_1440x900(
    browser_page, long_lists, console_errors, path, table
):
    page = browser_page
    page.set_viewport_size({"width": 1440, "height": 900})
    sign_in(page)
    page.goto(f"/brands/{long_lists.slug}/{path}")
    expect(page.locator(f"{table} tbody tr").first).to_be_visible()
    assert page.evaluate(VISIBLE_ROWS, table) >= 18

    # At 1280 px the table fits: its last column (the row actions) is inside the viewport.
    page.set_viewport_size({"width": 1280, "height": 800})
    menu = page.locator(f"{table} tbody tr").first.locator("details.row-menu summary")
    box = menu.bounding_box()
    assert box is not None and box["x"] + box["width"] <= 1280
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
    assert console_errors == []
