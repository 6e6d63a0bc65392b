"""The API docs page renders in a real browser under the strict CSP, from local files."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_swagger_ui_renders_the_operations(browser_page, console_errors):
    page = browser_page
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))

    page.goto("/api/v1/docs")

    expect(page.get_by_text("koastops API").first).to_be_visible()
    expect(page.get_by_text("/api/v1/brands", exact=True).first).to_be_visible()
    base = page.url.split("/api/v1/docs")[0]
    assert [url for url in requested if not url.startswith(base)] == []  # no CDN
    assert console_errors == []
