"""Naming rules in a real browser: an ops lead changes a rule's vocabulary and the live
tester flags a bad name with its suggestion as they type (the rule as edited, before it is
saved), then saves it; a media buyer reads the rule but has no edit control, and the edit
address answers 403. No console error (a CSP violation would be one)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from koastops.accounts import policies
from koastops.accounts.models import Role
from koastops.taxonomy.models import NamingRule
from tests.browser.test_walkthrough import sign_in
from tests.factories import DEFAULT_PASSWORD, BrandFactory, NamingRuleFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SPEC = {
    "template": "{market}_{objective}_{yyyymm}_{free}",
    "case": "lower",
    "max_length": 120,
    "tokens": {
        "market": {"kind": "vocabulary", "values": [{"value": "de", "label": "Germany"}]},
        "objective": {
            "kind": "vocabulary",
            "values": [
                {"value": "lead", "label": "Lead generation", "aliases": ["leads"]},
                {"value": "conv", "label": "Conversions"},
            ],
        },
        "yyyymm": {"kind": "date", "format": "YYYYMM"},
        "free": {"kind": "free", "min_length": 1, "max_length": 30, "charset": "alnum_dash"},
    },
}


@pytest.fixture
def brand():
    brand = BrandFactory(name="Nordwind Outdoor", slug="nordwind-outdoor")
    NamingRuleFactory(brand=brand, level="campaign", spec=SPEC)
    for email, role in (
        ("ops@example.com", Role.OPS_LEAD),
        ("buyer@example.com", Role.MEDIA_BUYER),
    ):
        policies.grant_role(UserFactory(email=email), brand, role)
    return brand


def test_ops_lead_edits_a_rule_and_the_live_tester_follows(browser_page, brand, console_errors):
    page = browser_page
    sign_in(page, email="ops@example.com", password=DEFAULT_PASSWORD)
    expect(page).to_have_url(re.compile(r"//[^/]+/$"))
    page.goto("/brands/nordwind-outdoor/naming/")
    page.get_by_role("link", name="Edit the campaign rule").click()
    expect(page.get_by_role("heading", name="Edit the campaign rule", level=1)).to_be_visible()

    tester = page.get_by_label("Try a name")
    results = page.locator("#tester-results")
    expect(results).to_have_attribute("aria-live", "polite")
    # "trafic" is nowhere near a value of the saved rule: an error, but no suggestion.
    tester.press_sequentially("de_trafic_202605_spring", delay=20)
    expect(results).to_contain_text("Not valid")
    expect(results).not_to_contain_text("did you mean")

    # Add "traffic" to the objectives (not saved yet): the tester now suggests it.
    values = page.get_by_label("Values of {objective}")
    values.fill("lead | Lead generation | leads\nconv | Conversions\ntraffic | Traffic")
    values.press("Tab")  # the change re-tests the name as typed, without retyping it
    expect(results.locator(".naming-suggestion")).to_have_text("traffic")
    expect(results).to_contain_text("did you mean traffic?")
    expect(page.locator("#corrected-name")).to_have_value("de_traffic_202605_spring")
    assert NamingRule.objects.get(brand=brand).version == 1  # testing saved nothing

    # Drop the "leads" alias: the alias no longer maps, but edit distance still suggests.
    values.fill("lead | Lead generation\nconv | Conversions\ntraffic | Traffic")
    tester.fill("")
    tester.press_sequentially("de_leads_202605_spring", delay=20)
    expect(results).to_contain_text("did you mean lead?")

    # A new token in the template gets its row when the field changes (no save, no reload).
    template = page.get_by_label("Template")
    template.fill("{market}_{objective}_{yyyymm}_{free}_{seq}")
    template.press("Tab")
    expect(page.locator("#token-seq")).to_be_visible()
    expect(page.get_by_label("Kind of {seq}")).to_have_value("number")
    expect(page.get_by_label("Values of {objective}")).to_have_value(re.compile("traffic"))
    # ... and the tester checks the name against the new rows (a {seq} is now missing).
    expect(results).not_to_contain_text("cannot check names yet")
    expect(results).to_contain_text("structure")

    page.wait_for_load_state("networkidle")  # the tester's last check is in
    page.get_by_role("button", name="Save rule").click()
    expect(page.get_by_role("heading", name="Naming rules", level=1)).to_be_visible()
    expect(page.locator("#level-campaign")).to_contain_text("Traffic")
    rule = NamingRule.objects.get(brand=brand)
    assert rule.version == 2
    assert rule.spec["template"].endswith("_{seq}")
    assert [v["value"] for v in rule.spec["tokens"]["objective"]["values"]] == [
        "lead",
        "conv",
        "traffic",
    ]
    assert console_errors == []


def test_media_buyer_reads_the_rule_but_cannot_edit_it(browser_page, brand, console_errors):
    page = browser_page
    sign_in(page, email="buyer@example.com", password=DEFAULT_PASSWORD)
    expect(page).to_have_url(re.compile(r"//[^/]+/$"))
    page.goto("/brands/nordwind-outdoor/")
    page.get_by_role("link", name="Naming rules").click()
    expect(page.get_by_role("heading", name="Naming rules", level=1)).to_be_visible()
    campaign = page.locator("#level-campaign")
    expect(campaign).to_contain_text("{market}_{objective}_{yyyymm}_{free}")
    expect(campaign).to_contain_text("Lead generation")
    expect(page.get_by_role("link", name=re.compile("Edit|Override"))).to_have_count(0)
    expect(page.get_by_role("button", name=re.compile("Reset"))).to_have_count(0)

    response = page.goto("/brands/nordwind-outdoor/naming/campaign/edit/")
    assert response is not None and response.status == 403

    # The tester is for every role: a bad name gets its suggestion as one types.
    page.goto("/brands/nordwind-outdoor/naming/test/")
    page.get_by_role("textbox", name="Name").press_sequentially("de_laed_202605_x", delay=20)
    expect(page.locator("#tester-results")).to_contain_text("did you mean lead?")
    assert [e for e in console_errors if "403" not in e] == []
