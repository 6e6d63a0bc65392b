"""The System page's worker ping, end to end in a browser: htmx posts, then polls until a
real Celery worker has answered, without a page reload."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.factories import DEFAULT_PASSWORD, AdminFactory
from tests.system.test_worker import WORKER_WAIT_SECONDS, running_worker

pytestmark = [
    pytest.mark.browser,
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def celery_worker():
    with running_worker() as worker:
        yield worker


def test_admin_pings_the_worker_and_sees_the_answer(browser_page, celery_worker, console_errors):
    AdminFactory(email="ops-admin@example.com")
    page = browser_page
    page.goto("/system/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    page.get_by_label("Email address").fill("ops-admin@example.com")
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/system/$"))
    expect(page.get_by_role("heading", name="System", level=1)).to_be_visible()
    # Mark the document: a full reload would lose this.
    page.evaluate("document.documentElement.dataset.sameDocument = 'yes'")

    page.get_by_role("button", name="Ping the worker").click()

    status = page.locator("#ping-status")
    expect(status).to_contain_text("Waiting for a worker", timeout=5_000)
    expect(status).to_contain_text("answered", timeout=WORKER_WAIT_SECONDS * 1000)
    expect(status).to_contain_text(re.compile(r"answered in \d+\.\d\d s"))
    expect(page).to_have_url(re.compile(r"/system/$"))
    assert page.evaluate("document.documentElement.dataset.sameDocument") == "yes"
    # The final fragment carries no trigger, so polling has stopped.
    assert status.get_attribute("hx-trigger") is None
    # The recent pings table refreshed itself with the answered ping.
    expect(page.locator("#recent-pings")).to_contain_text("Completed by a worker")

    assert console_errors == []
