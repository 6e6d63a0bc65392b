"""Back and forward on a list page: after each step the search box, the status filter and
the rows of the table all match the URL (htmx pushes a URL per search; a restored page
that showed the rows of one URL with the search box of another would mislead)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from koastops.catalog.models import CatalogStatus
from tests.browser.test_walkthrough import sign_in
from tests.factories import DEFAULT_PASSWORD, AdminFactory, BrandFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EMAIL = "history-admin@example.com"
BRANDS = ("Nordwind Outdoor", "Lumen Skincare", "Lumen Legacy")


@pytest.fixture
def brands():
    AdminFactory(email=EMAIL)
    BrandFactory(name="Nordwind Outdoor", slug="nordwind-outdoor")
    BrandFactory(name="Lumen Skincare", slug="lumen-skincare")
    BrandFactory(name="Lumen Legacy", slug="lumen-legacy", status=CatalogStatus.ARCHIVED)


def expect_list(page, *, url: str, q: str, status: str, rows: set[str]) -> None:
    """The URL, the filter form and the table agree."""
    expect(page).to_have_url(re.compile(re.escape(url) + "$"))
    expect(page.get_by_role("searchbox", name="Search brands")).to_have_value(q)
    expect(page.get_by_label("Status")).to_have_value(status)
    table = page.locator("#brand-table")
    for name in BRANDS:
        link = table.get_by_role("link", name=name, exact=True)
        if name in rows:
            expect(link).to_be_visible()
        else:
            expect(link).to_have_count(0)


def test_back_and_forward_keep_the_filter_form_and_the_table_in_step(
    browser_page, live_server, brands, console_errors
):
    page = browser_page
    sign_in(page, email=EMAIL, password=DEFAULT_PASSWORD)
    expect(page).to_have_url(re.compile(r"//[^/]+/$"))  # signed in: the start page
    page.goto("/brands/")
    everything = {"url": "/brands/", "q": "", "status": "active"}
    expect_list(page, **everything, rows={"Nordwind Outdoor", "Lumen Skincare"})

    # Type a search: htmx swaps the table and pushes ?q=.
    page.get_by_role("searchbox", name="Search brands").fill("lumen")
    searched = {"url": "/brands/?q=lumen&status=active", "q": "lumen", "status": "active"}
    expect_list(page, **searched, rows={"Lumen Skincare"})

    # Change the status: another swap, another URL.
    page.get_by_label("Status").select_option("archived")
    archived = {"url": "/brands/?q=lumen&status=archived", "q": "lumen", "status": "archived"}
    expect_list(page, **archived, rows={"Lumen Legacy"})

    page.go_back()
    expect_list(page, **searched, rows={"Lumen Skincare"})

    page.go_back()
    expect_list(page, **everything, rows={"Nordwind Outdoor", "Lumen Skincare"})

    page.go_forward()
    expect_list(page, **searched, rows={"Lumen Skincare"})

    page.go_forward()
    expect_list(page, **archived, rows={"Lumen Legacy"})

    # The restored page still works: a new search swaps the table again.
    page.get_by_role("searchbox", name="Search brands").fill("legacy")
    expect(page).to_have_url(re.compile(r"[?&]q=legacy"))
    expect(page.locator("#brand-table").get_by_role("link", name="Lumen Legacy")).to_be_visible()

    # No page content is kept in sessionStorage for the history (htmx's snapshot cache).
    assert page.evaluate("sessionStorage.getItem('htmx-history-cache')") is None
    assert console_errors == []


@pytest.mark.parametrize(
    "restore",
    [
        "document.body.dispatchEvent(new CustomEvent('htmx:historyRestore', {bubbles: true}))",
        "window.dispatchEvent(new PageTransitionEvent('pageshow', {persisted: true}))",
    ],
    ids=["htmx-history-restore", "bfcache-pageshow"],
)
def test_a_restored_page_takes_its_filter_values_from_the_url(
    browser_page, live_server, brands, console_errors, restore
):
    """Whatever the browser put back into the fields (its form restore, a bfcache page whose
    search was typed after its last pushed URL), the form is set from the URL again."""
    page = browser_page
    sign_in(page, email=EMAIL, password=DEFAULT_PASSWORD)
    expect(page).to_have_url(re.compile(r"//[^/]+/$"))  # signed in: the start page
    page.goto("/brands/?q=lumen&status=archived")
    search = page.get_by_role("searchbox", name="Search brands")
    status = page.get_by_label("Status")
    # Values that disagree with the URL, set without events (no request, no push).
    search.evaluate("el => { el.value = 'typed later'; }")
    status.evaluate("el => { el.value = 'all'; }")
    page.evaluate(restore)
    expect_list(
        page,
        url="/brands/?q=lumen&status=archived",
        q="lumen",
        status="archived",
        rows={"Lumen Legacy"},
    )
    assert console_errors == []
