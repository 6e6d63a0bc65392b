"""The session ends while a page is open: the next htmx search takes the browser to the
sign-in page (the sign-in form is never swapped into the table) and signing in brings the
user back to the page they were on."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.sessions.models import Session
from django.urls import reverse
from playwright.sync_api import expect

from koastops.accounts import policies
from koastops.accounts.models import Role
from tests.factories import DEFAULT_PASSWORD, BrandFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EMAIL = "lena.lead@example.com"


@pytest.fixture
def lead():
    brand = BrandFactory(name="Nordwind Outdoor", slug="nordwind-outdoor")
    BrandFactory(name="Lumen Skincare", slug="lumen-skincare")
    user = UserFactory(email=EMAIL, full_name="Lena Lead")
    policies.grant_role(user, brand, Role.OPS_LEAD)
    return {"user": user, "brand": brand}


def sign_in_here(page) -> None:
    page.get_by_label("Email address").fill(EMAIL)
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Sign in").click()


@pytest.mark.parametrize(
    ("url_name", "search_label", "args"),
    [
        ("members:list", "Search members", ["nordwind-outdoor"]),
        ("catalog:brand_list", "Search brands", []),
    ],
)
def test_search_after_the_session_ended_signs_in_and_comes_back(
    browser_page, lead, console_errors, url_name, search_label, args
):
    page = browser_page
    url = reverse(url_name, args=args)
    page.goto(url)
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    sign_in_here(page)
    expect(page).to_have_url(re.compile(re.escape(url) + "$"))

    page.wait_for_load_state("load")  # htmx has wired the search box (deferred scripts ran)
    # ... and the header's notification count, loaded after the page, has answered: a
    # session deleted while that request runs would make it fail (400), not the search.
    page.wait_for_load_state("networkidle")
    Session.objects.all().delete()  # the session ends on the server (expiry, sign-out elsewhere)
    page.get_by_role("searchbox", name=re.compile(search_label)).first.fill("lena")

    # The browser itself goes to the sign-in page; nothing is swapped into the table.
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next="))
    assert parse_qs(urlsplit(page.url).query)["next"] == [url]
    expect(page.get_by_role("button", name="Sign in")).to_have_count(1)
    expect(page.locator("#brand-table, #member-table, .toolbar")).to_have_count(0)
    sign_in_here(page)

    expect(page).to_have_url(re.compile(re.escape(url)))
    assert urlsplit(page.url).path == url
    assert console_errors == []


def test_a_refused_csrf_check_on_htmx_shows_one_clear_toast(browser_page, lead, console_errors):
    page = browser_page
    url = reverse("catalog:brand_list")
    page.goto(url)
    sign_in_here(page)
    expect(page).to_have_url(re.compile(re.escape(url) + "$"))

    # The token the page holds no longer matches (here: the CSRF cookie is gone).
    cookies = [c for c in page.context.cookies() if c["name"] != "csrftoken"]
    page.context.clear_cookies()
    page.context.add_cookies(cookies)
    page.evaluate(
        "url => htmx.ajax('POST', url, {source: document.body, swap: 'none'})",
        reverse("catalog:brand_create"),
    )

    toasts = page.locator("#toasts .toast")
    expect(toasts).to_have_text(["Your session changed — reload the page to continue."])
    page.wait_for_timeout(300)  # a second, generic toast would have arrived by now
    expect(toasts).to_have_count(1)
    expect(page).to_have_url(re.compile(re.escape(url) + "$"))  # nothing was swapped
    # Chromium reports the 403 itself as a console error; nothing else may be there.
    assert [e for e in console_errors if "403" not in e] == []
