"""The launch form in a real browser: a media buyer adds an ad set and an ad with the
keyboard (focus lands in the new row), types a bad campaign name and sees the live naming
message, removes a row (announced), and submits with an error that shows by its field.
No console error (a CSP violation would be one)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from koastops.accounts import policies
from koastops.accounts.models import Role
from koastops.launches.models import Launch
from tests.browser.test_naming_rules import SPEC
from tests.browser.test_walkthrough import sign_in
from tests.factories import (
    DEFAULT_PASSWORD,
    AdAccountFactory,
    BrandFactory,
    EventDefinitionFactory,
    NamingRuleFactory,
    PixelFactory,
    UserFactory,
    _market,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def brand():
    brand = BrandFactory(name="Nordwind Outdoor", slug="nordwind-outdoor")
    # Markets by factory: a transactional test may have flushed the shipped ones.
    brand.markets.set([_market("DE"), _market("AT")])
    account = AdAccountFactory(brand=brand, name="Nordwind DE", time_zone="Europe/Berlin")
    pixel = PixelFactory(brand=brand, name="Shop pixel")
    pixel.ad_accounts.add(account)
    EventDefinitionFactory(brand=brand, name="Purchase")
    NamingRuleFactory(brand=brand, level="campaign", spec=SPEC)
    policies.grant_role(UserFactory(email="buyer@example.com"), brand, Role.MEDIA_BUYER)
    return brand


def test_buyer_builds_the_structure_with_the_keyboard(browser_page, brand, console_errors):
    page = browser_page
    sign_in(page, email="buyer@example.com", password=DEFAULT_PASSWORD)
    expect(page).to_have_url(re.compile(r"//[^/]+/$"))
    page.goto("/brands/nordwind-outdoor/launches/new/")
    expect(page.get_by_role("heading", name="Draft a launch", level=1)).to_be_visible()

    page.get_by_label("Ad account", exact=True).select_option(
        label="Nordwind DE (EUR, Europe/Berlin)"
    )
    page.get_by_label("Pixel", exact=True).select_option(label="Shop pixel — linked to Nordwind DE")
    page.get_by_label("Objective", exact=True).select_option("OUTCOME_SALES")
    page.get_by_label("Optimization event", exact=True).select_option(label="Purchase")
    page.get_by_label(re.compile(r"\(DE\)")).check()  # after a flush: "Market DE"
    page.get_by_label(re.compile(r"^Budget amount")).fill("250")
    page.get_by_label(re.compile(r"^Start \(in the ad account's time zone")).fill(
        "2027-03-01T09:00"
    )

    # The live name check, while typing.
    campaign = page.get_by_label("Campaign name", exact=True)
    campaign.press_sequentially("DE-conv-spring")
    check = page.locator("#id_campaign_name_check")
    expect(check).to_contain_text("Does not match the campaign naming rule")
    expect(check).to_have_attribute("aria-live", "polite")
    campaign.fill("")
    campaign.press_sequentially("de_conv_202703_spring")
    expect(check).to_contain_text("Matches the campaign naming rule.")

    # The first ad set, typed.
    page.locator("#id_ad_sets-0-name").fill("Prospecting DE")
    page.locator("#id_ad_sets-0-market").select_option("DE")
    page.locator("#id_ad_sets-0-ads-0-name").fill("Video 1")
    page.locator("#id_ad_sets-0-ads-0-landing_url").fill("https://shop.example.com/spring")

    # "Add ad set" with the keyboard: the focus lands in the new row's first input.
    add_set = page.get_by_role("button", name="Add ad set")
    add_set.focus()
    page.keyboard.press("Enter")
    new_set_name = page.locator("#id_ad_sets-1-name")
    expect(new_set_name).to_be_focused()
    page.keyboard.type("Retargeting AT")
    expect(page.locator("#structure-status")).to_have_text("Ad set 2 added.")

    # "Add ad" in the first ad set, with the keyboard.
    page.locator("#ad-set-0").get_by_role("button", name="Add ad").focus()
    page.keyboard.press("Enter")
    second_ad = page.locator("#id_ad_sets-0-ads-1-name")
    expect(second_ad).to_be_focused()
    page.keyboard.type("Video 2")
    page.locator("#id_ad_sets-0-ads-1-landing_url").fill("not a url")

    # Remove the second ad set: it leaves the page and the removal is announced.
    page.locator("#ad-set-1").get_by_role("button", name="Remove this ad set").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#ad-set-1")).to_have_count(0)
    expect(page.locator("#structure-status")).to_have_text("Ad set 2 removed.")

    # Submit: the bad landing URL is shown by its field, and nothing typed is lost.
    page.get_by_role("button", name="Save draft").click()
    bad_url = page.locator("#id_ad_sets-0-ads-1-landing_url")
    expect(bad_url).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#id_ad_sets-0-ads-1-landing_url_error")).to_contain_text(
        "Enter a valid URL"
    )
    expect(bad_url).to_have_value("not a url")
    expect(page.locator("#id_ad_sets-0-ads-1-name")).to_have_value("Video 2")
    summary = page.locator("[data-error-summary]")
    expect(summary).to_contain_text("Ad set 1, ad 2, Landing URL")
    assert Launch.objects.count() == 0

    # Fixed, the draft saves (the detail page is another part's: only the URL is checked).
    bad_url.fill("https://shop.example.com/spring-2")
    with page.expect_response(lambda response: response.request.method == "POST") as saved:
        page.get_by_role("button", name="Save draft").click()
    launch = Launch.objects.get()
    assert f"/brands/nordwind-outdoor/launches/{launch.pk}/" in saved.value.headers["hx-location"]
    assert launch.campaign_name == "de_conv_202703_spring"
    assert [ad.name for ad in launch.ads.order_by("position")] == ["Video 1", "Video 2"]
    assert launch.ad_sets.count() == 1
    # The refused save answers 422 on purpose (Chromium logs it); nothing else may show.
    assert [e for e in console_errors if "status of 422" not in e] == []
