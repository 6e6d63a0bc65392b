"""Consent sign-off in a real browser: a legal reviewer opens their start page, follows
the "changed since sign-off" count of their brand, opens the config's review page, sees
what changed since the signed version, signs it, and the matrix shows it signed. No
console error (a CSP violation would be one)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from koastops.accounts import policies
from koastops.accounts.models import Role
from koastops.consent import services
from koastops.consent.content import defaults_for
from koastops.consent.models import ConsentConfig
from koastops.consent.selectors import with_status
from tests.browser.test_walkthrough import sign_in
from tests.factories import DEFAULT_PASSWORD, BrandFactory, UserFactory, _market

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def changed_config():
    brand = BrandFactory(name="Nordwind Outdoor", slug="nordwind-outdoor")
    germany = _market("DE", "gdpr")
    brand.markets.add(germany)
    ops = UserFactory(email="ops@example.com")
    legal = UserFactory(email="legal@example.com")
    other_legal = UserFactory(email="legal.two@example.com")
    policies.grant_role(ops, brand, Role.OPS_LEAD)
    policies.grant_role(legal, brand, Role.LEGAL_REVIEWER)
    policies.grant_role(other_legal, brand, Role.LEGAL_REVIEWER)
    content = defaults_for("gdpr", "DE")
    config = services.config_save(
        user=ops, brand=brand, market=germany, content=content, expected_version=0
    )
    services.consent_decide(
        user=other_legal, config=config, expected_hash=config.content_hash, decision="approved"
    )
    content["wait_for_update"] = 900  # the ops lead changes the signed content
    return services.config_save(
        user=ops, brand=brand, market=germany, content=content, expected_version=1
    )


def test_legal_reviewer_signs_a_changed_config_from_the_start_page(
    browser_page, changed_config, console_errors
):
    page = browser_page
    sign_in(page, email="legal@example.com", password=DEFAULT_PASSWORD)
    expect(page).to_have_url(re.compile(r"//[^/]+/$"))

    reviews = page.locator("section", has=page.get_by_role("heading", name="Consent reviews"))
    expect(reviews).to_contain_text("1 needs you now")
    reviews.get_by_role(
        "link", name=re.compile(r"1 changed since sign-off on Nordwind Outdoor", re.I)
    ).click()

    expect(page).to_have_url(re.compile(r"/brands/nordwind-outdoor/consent/\?status=changed"))
    # Rows by the market's code: a transactional test may have flushed the shipped markets,
    # so the factory's DE can be "Market DE" rather than "Germany".
    row = page.get_by_role("row", name=re.compile(r"\bDE\b"))
    expect(row).to_contain_text("Changed since sign-off")
    row.get_by_role("link", name=re.compile("Review")).click()

    expect(page).to_have_url(re.compile(r"/consent/de/review/$"))
    diff = page.locator("table.consent-diff")
    expect(diff).to_contain_text("wait_for_update (ms)")
    expect(diff.locator("del")).to_contain_text("500")
    expect(diff.locator("ins")).to_contain_text("900")

    page.get_by_role("radio", name="Approve").check()
    page.get_by_role("button", name="Record decision").click()

    expect(page).to_have_url(re.compile(r"/brands/nordwind-outdoor/consent/"))
    expect(page.get_by_text(re.compile(r"\(DE\): signed off until"))).to_be_visible()
    expect(page.get_by_role("row", name=re.compile(r"\bDE\b"))).to_contain_text("Signed")
    config = with_status(ConsentConfig.objects.filter(pk=changed_config.pk)).get()
    assert config.status == "signed"
    assert config.last_signoff.reviewer.email == "legal@example.com"
    assert console_errors == []
