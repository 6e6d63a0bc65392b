"""A new API token in a real browser: shown once, selected on display (so Ctrl+C copies
it at once), and the Copy button puts it on the clipboard and says "Copied" for a moment.
A duplicate name is refused by the field, with the focus on the error summary."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_walkthrough import sign_in
from tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TOKEN_RE = re.compile(r"^kst_[A-Za-z0-9_-]{20,}$")


@pytest.fixture
def clipboard_page(chromium_browser, live_server, console_errors):
    context = chromium_browser.new_context(base_url=live_server.url)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    context.set_default_timeout(10_000)
    page = context.new_page()

    def on_console(message) -> None:
        # The refused duplicate answers 422 on purpose; anything else counts.
        if message.type == "error" and "status of 422" not in message.text:
            console_errors.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda error: console_errors.append(str(error)))
    yield page
    context.close()


def test_new_token_is_selected_and_copied(clipboard_page, console_errors):
    page = clipboard_page
    UserFactory(email="tokens@example.com")
    sign_in(page, email="tokens@example.com", password=DEFAULT_PASSWORD)
    page.goto("/me/")
    form = page.locator("#token-form")
    form.get_by_label("Token name").fill("Looker export")
    form.get_by_role("button", name="Create token").click()

    field = page.locator("#new-token")
    expect(field).to_be_focused()
    raw = field.input_value()
    assert TOKEN_RE.match(raw)
    selected = page.evaluate(
        "() => { const f = document.getElementById('new-token');"
        " return f.value.substring(f.selectionStart, f.selectionEnd); }"
    )
    assert selected == raw  # the whole token is selected on display

    button = page.locator('[data-copy-target="new-token"]')
    button.click()
    expect(button).to_have_text("Copied")
    expect(page.locator("[data-copy-status]")).to_have_text("Copied to the clipboard.")
    assert page.evaluate("() => navigator.clipboard.readText()") == raw
    expect(button).to_have_text("Copy", timeout=4_000)  # back after 2 s

    # The same name again (another case) is refused by the field; focus on the summary.
    form = page.locator("#token-form")
    form.get_by_label("Token name").fill("looker EXPORT")
    form.get_by_role("button", name="Create token").click()
    summary = page.locator("[data-error-summary]")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("You already have a token named")
    expect(page.locator("#id_name_error")).to_contain_text("You already have a token named")
    assert console_errors == []
