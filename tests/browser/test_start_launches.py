"""In the browser: the start page's "What needs me now" with launches, consent and alerts
on several brands of long names fits the viewport and passes axe, and its lines read as
a list of counts with links."""

from __future__ import annotations

import itertools
import re

import pytest
from playwright.sync_api import expect

from koastops.accounts import policies
from koastops.accounts.models import Role
from tests.browser.test_layout_a11y import Visit, check_pages
from tests.browser.test_walkthrough import sign_in
from tests.factories import (
    DEFAULT_PASSWORD,
    AlertFactory,
    BrandFactory,
    LaunchFactory,
    UserFactory,
    _market,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
_events = itertools.count()


def _world():
    _market("DE")  # reference data a transactional test before this one may have flushed
    lead, buyer = UserFactory(email="start-lead@example.com"), UserFactory()
    for i in range(7):
        brand = BrandFactory(
            name=f"Nordwind Outdoor Germany Austria Switzerland Always-on {i}", slug=f"nw-{i}"
        )
        policies.grant_role(lead, brand, Role.OPS_LEAD)
        policies.grant_role(buyer, brand, Role.MEDIA_BUYER)
        for state, author in (("in_review", buyer), ("needs_changes", lead), ("ready", lead)):
            LaunchFactory(
                brand=brand,
                state=state,
                created_by=author,
                submitted_by=author,
                optimization_event__name=f"Event{next(_events)}",
            )
        AlertFactory(rule__brand=brand)
    return lead


def test_what_needs_me_now_fits_and_passes_axe(chromium_browser, live_server):
    lead = _world()
    findings = check_pages(chromium_browser, live_server, lead, "ops_lead", [Visit("home", "/")])
    assert not findings, "\n".join(findings)


def test_what_needs_me_now_reads_as_counts_with_links(browser_page):
    _world()
    page = browser_page
    sign_in(page, email="start-lead@example.com", password=DEFAULT_PASSWORD)
    section = page.get_by_role("region", name="What needs me now")
    review = section.locator('[data-needs-me="launches.awaiting_review"]')
    expect(review).to_contain_text("7")
    expect(
        review.get_by_role("link", name="Launches awaiting your review", exact=True)
    ).to_have_attribute("href", "/launches/review/")
    expect(review.get_by_role("link", name=re.compile(r"Always-on 0 \(1\)"))).to_have_attribute(
        "href", "/launches/review/?brand=nw-0"
    )
    expect(review).to_contain_text("and 2 more brands")
    changes = section.locator('[data-needs-me="launches.needs_changes"]')
    expect(changes.get_by_role("link", name=re.compile(r"Always-on 3 \(1\)"))).to_have_attribute(
        "href", "/brands/nw-3/launches/?state=needs_changes&mine=1"
    )
    expect(section.locator('[data-needs-me="quality.open_alerts"]')).to_contain_text("7")
