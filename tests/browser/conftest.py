"""Headless Chromium through Playwright (sync API) against pytest-django's live server.

Uses the system Chromium at /usr/bin/chromium; browsers are never downloaded. Without it
the browser tests skip locally and fail in CI (``CI`` set), so CI cannot pass silently.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from koastops.devtools.serve import CHROMIUM_ARGS, CHROMIUM_PATH

# Playwright's sync API runs an event loop in the main thread; Django would otherwise
# refuse database access from the test body ("You cannot call this from an async context").
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

# One list of launch flags for the tests and `make screenshots` / `make lighthouse`.
CHROMIUM = Path(CHROMIUM_PATH)
DEFAULT_TIMEOUT_MS = 10_000


@pytest.fixture(scope="session")
def chromium_browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing; install the distribution's chromium package."
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()
    finally:
        playwright.stop()


@pytest.fixture
def console_errors() -> list[str]:
    """Console errors, uncaught exceptions and CSP violations seen by the page."""
    return []


@pytest.fixture
def browser_page(chromium_browser, live_server, console_errors) -> Iterator[object]:
    context = chromium_browser.new_context(base_url=live_server.url)
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    page = context.new_page()

    def on_console(message) -> None:
        # A CSP block (inline script, style or handler) is reported as a console error.
        if message.type != "error":
            return
        url = (message.location or {}).get("url", "")
        console_errors.append(f"console: {message.text} ({url})")

    page.on("console", on_console)
    page.on("pageerror", lambda error: console_errors.append(f"page error: {error}"))
    try:
        yield page
    finally:
        context.close()
