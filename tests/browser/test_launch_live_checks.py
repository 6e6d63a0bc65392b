"""A launch's page follows its check run live: the checklist fragment polls every second,
shows each result as the test writes it to the database, and stops polling when the run
ends — the state badge and the action bar then change without a reload."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from playwright.sync_api import expect

from koastops.accounts import policies
from koastops.accounts.models import Role
from koastops.catalog.models import Market
from koastops.launches import services
from koastops.launches.models import CheckResult, Launch
from tests.browser.conftest import DEFAULT_TIMEOUT_MS
from tests.factories import CheckResultFactory, LaunchFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _signed_in(chromium_browser, live_server, user):
    context = chromium_browser.new_context(base_url=live_server.url)
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": live_server.url}])
    return context


def test_launch_page_shows_progress_live_and_stops_polling(
    chromium_browser, live_server, console_errors
):
    # A transactional test may run after a flush of the shipped markets.
    Market.objects.get_or_create(code="DE", defaults={"name": "Germany", "privacy_regime": "gdpr"})
    launch = LaunchFactory(campaign_name="DE_conv_202612_LiveChecks")
    buyer = launch.created_by
    policies.grant_role(buyer, launch.brand, Role.MEDIA_BUYER)
    # Submitted: the run is queued (no worker here: the test writes the results itself).
    run = services.launch_submit(user=buyer, launch=launch, expected_version=1)
    for position in (10, 11):
        CheckResultFactory(run=run, position=position, status="pending", message="")
    total = CheckResult.objects.filter(run=run).count()
    poll_url = reverse(
        "launches:run_status", kwargs={"slug": launch.brand.slug, "pk": launch.pk, "run_pk": run.pk}
    )

    context = _signed_in(chromium_browser, live_server, buyer)
    page = context.new_page()
    page.on("console", lambda m: m.type == "error" and console_errors.append(m.text))
    polls: list[int] = []
    page.on(
        "response",
        lambda response: polls.append(response.status) if poll_url in response.url else None,
    )
    try:
        page.goto(reverse("launches:detail", kwargs={"slug": launch.brand.slug, "pk": launch.pk}))
        progress = page.locator("#run-progress")
        expect(progress).to_have_attribute("aria-live", "polite")
        expect(progress).to_contain_text(f"0 of {total} checks done")
        expect(page.locator("#launch-state")).to_contain_text("Checking")
        expect(page.get_by_role("button", name="Submit for approval")).to_have_count(0)

        # Results written one by one while the page is open.
        ordered = list(CheckResult.objects.filter(run=run).order_by("position"))
        CheckResult.objects.filter(pk=ordered[0].pk).update(status="pass", message="Fine.")
        expect(progress).to_contain_text(f"1 of {total} checks done")
        expect(page.locator(f'tr[data-check="{ordered[0].key}"]')).to_contain_text("Passed")
        CheckResult.objects.filter(pk=ordered[1].pk).update(
            status="fail", message="FailMarker: fix the landing page."
        )
        expect(progress).to_contain_text(f"2 of {total} checks done")
        row = page.locator(f'tr[data-check="{ordered[1].key}"]')
        expect(row).to_contain_text("Failed")
        expect(row).to_contain_text("FailMarker")

        # The run ends: the last result, then the service that moves the launch on.
        CheckResult.objects.filter(run=run, status="pending").update(status="pass", message="Fine.")
        services.run_finished(run_id=run.pk)
        assert Launch.objects.get(pk=launch.pk).state == "in_review"
        expect(progress).to_contain_text("blocking check failed")
        expect(page.locator("#launch-state")).to_contain_text("In review")
        expect(page.get_by_role("button", name="Re-run checks")).to_be_visible()
        assert 286 in polls
        ended = len(polls)
        page.wait_for_timeout(2500)  # more than two polling intervals
        assert len(polls) == ended, "polling went on after the run ended"
        expect(page.locator("#run-status")).not_to_have_attribute("hx-trigger", re.compile("."))
    finally:
        context.close()
    assert console_errors == []


LONG = "NW_DE_conv_202612_always-on-prospecting-advantage-plus-shopping-winter-sale-long-name"


def test_launch_page_with_data_everywhere_fits_and_passes_axe(chromium_browser, live_server):
    """The page with a long name, many ads, results with details, an override, reviews, a
    regression and activity fits 1280 and 390 px and passes axe, for the media buyer who
    drafted it, an ops lead who may review it and the one who submitted it; the mark
    launched form too."""
    from tests.browser.test_layout_a11y import Visit, check_pages
    from tests.factories import (
        AdFactory,
        CheckOverrideFactory,
        RegressionFactory,
        ReviewFactory,
        UserFactory,
    )

    Market.objects.get_or_create(code="DE", defaults={"name": "Germany", "privacy_regime": "gdpr"})
    launch = LaunchFactory(campaign_name=LONG)
    buyer = launch.created_by
    lead, other_lead = UserFactory(), UserFactory()
    policies.grant_role(buyer, launch.brand, Role.MEDIA_BUYER)
    policies.grant_role(lead, launch.brand, Role.OPS_LEAD)
    policies.grant_role(other_lead, launch.brand, Role.OPS_LEAD)
    ad_set = launch.ad_sets.get()
    for position in range(1, 8):
        AdFactory(
            ad_set=ad_set,
            position=position,
            name=f"{LONG}_ad_{position}",
            landing_url=f"https://shop.nordwind-outdoor.example/winter/{LONG}?variant={position}",
            utm_source="facebook",
            utm_medium="paid_social",
            utm_campaign=LONG,
        )
    run = services.launch_submit(user=buyer, launch=launch, expected_version=1)
    CheckResult.objects.filter(run=run).update(
        status="fail",
        message="The start time has passed: move the start to a time in the future.",
        details={"start_at": "2026-12-01T10:00:00+00:00", "markets": ["DE", "AT", "CH"]},
    )
    for position in (10, 11):
        CheckResultFactory(
            run=run,
            position=position,
            status="warn",
            severity="advisory",
            message="EMQ 5.9 is below the brand's threshold 6.0 for Purchase on " + LONG,
            details={"event": "Purchase", "emq": "5.9", "threshold": "6.0", "url": LONG * 2},
        )
    services.run_finished(run_id=run.pk)
    launch.refresh_from_db()
    CheckOverrideFactory(
        launch=launch, check_key="schedule.valid", overridden_by=lead, reason="Moved by hand."
    )
    ReviewFactory(
        launch=launch, decision="changes_requested", reviewer=lead, comment="Fix it. " * 40
    )
    RegressionFactory(launch=launch, title="The pixel is healthy", message="Silent 30 h.")
    detail = reverse("launches:detail", kwargs={"slug": launch.brand.slug, "pk": launch.pk})
    findings = []
    for who, user in (("media buyer", buyer), ("ops lead", other_lead), ("submitter", None)):
        if user is None:  # an ops lead who submitted it: "another ops lead must review it"
            Launch.objects.filter(pk=launch.pk).update(submitted_by=lead)
            user = lead
        findings += check_pages(chromium_browser, live_server, user, who, [Visit(who, detail)])
    Launch.objects.filter(pk=launch.pk).update(state="approved", approved_hash=launch.content_hash)
    mark = reverse("launches:mark_launched", kwargs={"slug": launch.brand.slug, "pk": launch.pk})
    findings += check_pages(
        chromium_browser, live_server, buyer, "media buyer", [Visit("mark", mark)]
    )
    assert not findings, "\n".join(findings)
