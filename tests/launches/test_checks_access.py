"""The checks on who submits, the pixel's link and health, the budget and the schedule:
pass, fail and error, with their messages."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import timezone

from koastops.accounts import policies
from koastops.accounts.models import Role, User
from koastops.catalog.models import Pixel
from koastops.launches.models import Launch
from koastops.quality.models import PixelConnection
from tests.factories import (
    AdAccountFactory,
    BudgetLimitFactory,
    LaunchFactory,
    PixelConnectionFactory,
)
from tests.launches.checks_support import run

pytestmark = pytest.mark.django_db

GENERIC_ERROR = "This check could not run. Re-run the checks; if it fails again, tell an admin."


# --- submitter.allowed ---------------------------------------------------------------------


def test_submitter_who_may_submit_passes() -> None:
    launch = LaunchFactory()
    policies.grant_role(launch.created_by, launch.brand, Role.MEDIA_BUYER)
    outcome = run("submitter.allowed", launch)
    assert outcome.status == "pass"
    assert outcome.message == f"{launch.created_by} may submit this launch."


def test_submitter_whose_role_was_revoked_fails() -> None:
    launch = LaunchFactory()
    policies.grant_role(launch.created_by, launch.brand, Role.MEDIA_BUYER)
    policies.grant_role(launch.created_by, launch.brand, Role.ANALYST)  # revoked to analyst
    outcome = run("submitter.allowed", launch)
    assert outcome.status == "fail"
    assert "may no longer submit this launch" in outcome.message
    assert launch.ad_account.name in outcome.message
    assert outcome.details["submitter"] == str(launch.created_by)


def test_narrowed_buyer_who_lost_the_ad_account_fails() -> None:
    launch = LaunchFactory()
    buyer = launch.created_by
    policies.grant_role(buyer, launch.brand, Role.MEDIA_BUYER)
    other = AdAccountFactory(brand=launch.brand)
    policies.set_ad_account_narrowing(buyer, launch.brand, [other])
    assert run("submitter.allowed", launch).status == "fail"


def test_deactivated_submitter_fails() -> None:
    launch = LaunchFactory()
    policies.grant_role(launch.created_by, launch.brand, Role.MEDIA_BUYER)
    User.objects.filter(pk=launch.created_by_id).update(is_active=False)
    outcome = run("submitter.allowed", launch, run_as=User.objects.get(pk=launch.created_by_id))
    assert outcome.status == "fail"
    assert "deactivated" in outcome.message


def test_no_submitter_warns() -> None:
    outcome = run("submitter.allowed", LaunchFactory(), run_as=None)
    assert outcome.status == "warn"
    assert "no longer exists" in outcome.message


def test_submitter_policy_failure_is_an_error(monkeypatch) -> None:
    launch = LaunchFactory()

    def broken(*args, **kwargs):
        raise RuntimeError("policy backend down")

    monkeypatch.setattr(policies, "can_on_launch", broken)
    outcome = run("submitter.allowed", launch)
    assert outcome.status == "error"
    assert outcome.message == GENERIC_ERROR


# --- pixel.linked --------------------------------------------------------------------------


def test_pixel_linked_passes_and_unlinked_fails() -> None:
    launch = LaunchFactory()
    outcome = run("pixel.linked", launch)
    assert outcome.status == "pass"
    assert launch.pixel.name in outcome.message and launch.ad_account.name in outcome.message
    launch.pixel.ad_accounts.clear()
    outcome = run("pixel.linked", launch)
    assert outcome.status == "fail"
    assert outcome.message.startswith(
        f"The pixel {launch.pixel.name} is not linked to the ad account {launch.ad_account.name}"
    )


def test_archived_pixel_fails() -> None:
    launch = LaunchFactory()
    Pixel.objects.filter(pk=launch.pixel_id).update(status="archived")
    outcome = run("pixel.linked", launch)
    assert outcome.status == "fail" and "archived" in outcome.message


def test_pixel_linked_error_when_the_link_cannot_be_read(monkeypatch) -> None:
    launch = LaunchFactory()
    from django.db.models import QuerySet

    def broken(self):
        raise RuntimeError("db gone")

    monkeypatch.setattr(QuerySet, "exists", broken)
    outcome = run("pixel.linked", launch)
    assert outcome.status == "error" and outcome.message == GENERIC_ERROR


# --- pixel.healthy -------------------------------------------------------------------------


def _connection(launch: Launch, **fields) -> PixelConnection:
    connection = PixelConnectionFactory(pixel=launch.pixel)
    PixelConnection.objects.filter(pk=connection.pk).update(**fields)
    return connection


def test_healthy_pixel_passes() -> None:
    launch = LaunchFactory()
    _connection(launch, status="ok", last_fired_at=timezone.now() - timezone.timedelta(hours=2))
    outcome = run("pixel.healthy", launch)
    assert outcome.status == "pass"
    assert outcome.message == (
        f"The pixel {launch.pixel.name}'s connection is healthy and it fired 2 hours ago."
    )


def test_broken_connection_fails_naming_its_message() -> None:
    launch = LaunchFactory()
    _connection(
        launch,
        status="broken",
        message="The access token expired.",
        last_fired_at=timezone.now(),
    )
    outcome = run("pixel.healthy", launch)
    assert outcome.status == "fail"
    assert "connection is broken (The access token expired.)" in outcome.message
    assert outcome.details["connection_message"] == "The access token expired."


def test_silent_pixel_fails() -> None:
    launch = LaunchFactory()
    _connection(launch, status="ok", last_fired_at=timezone.now() - timezone.timedelta(hours=30))
    outcome = run("pixel.healthy", launch)
    assert outcome.status == "fail"
    assert "has not fired for 30 hours" in outcome.message


def test_pixel_without_connection_or_pull_fails() -> None:
    launch = LaunchFactory()
    outcome = run("pixel.healthy", launch)
    assert outcome.status == "fail" and "not connected yet" in outcome.message
    _connection(launch, status="unknown")
    outcome = run("pixel.healthy", launch)
    assert outcome.status == "fail" and "never pulled" in outcome.message


def test_rate_limited_pixel_warns() -> None:
    launch = LaunchFactory()
    _connection(launch, status="rate_limited", last_fired_at=timezone.now())
    assert run("pixel.healthy", launch).status == "warn"


def test_pixel_healthy_error_when_connections_cannot_be_read(monkeypatch) -> None:
    launch = LaunchFactory()

    def broken(*args, **kwargs):
        raise RuntimeError("db gone")

    monkeypatch.setattr(PixelConnection.objects, "filter", broken)
    outcome = run("pixel.healthy", launch)
    assert outcome.status == "error" and outcome.message == GENERIC_ERROR


# --- budget.within_limits ------------------------------------------------------------------


def test_budget_without_limits_passes() -> None:
    launch = LaunchFactory()
    outcome = run("budget.within_limits", launch)
    assert outcome.status == "pass"
    assert (
        outcome.message == f"No budget limits are set for the ad account {launch.ad_account.name}."
    )


def test_daily_budget_within_and_outside_the_limits() -> None:
    launch = LaunchFactory(budget_amount=Decimal("250.00"))
    BudgetLimitFactory(
        ad_account=launch.ad_account, daily_min=Decimal("10"), daily_max=Decimal("200")
    )
    outcome = run("budget.within_limits", launch)
    assert outcome.status == "fail"
    assert outcome.message.startswith(
        f"The daily budget 250.00 EUR is above the ad account {launch.ad_account.name}'s "
        "maximum of 200.00 EUR"
    )
    assert outcome.details["daily_max"] == "200.00"
    Launch.objects.filter(pk=launch.pk).update(budget_amount=Decimal("5"))
    outcome = run("budget.within_limits", launch)
    assert outcome.status == "fail" and "below" in outcome.message
    Launch.objects.filter(pk=launch.pk).update(budget_amount=Decimal("150"))
    outcome = run("budget.within_limits", launch)
    assert outcome.status == "pass"
    assert outcome.message == "The daily budget 150.00 EUR is within the limits."


def test_lifetime_budget_against_the_lifetime_maximum() -> None:
    launch = LaunchFactory(budget_type="lifetime", budget_amount=Decimal("120000"))
    BudgetLimitFactory(ad_account=launch.ad_account, lifetime_max=Decimal("100000"))
    outcome = run("budget.within_limits", launch)
    assert outcome.status == "fail"
    assert "lifetime budget 120,000.00 EUR is above" in outcome.message
    Launch.objects.filter(pk=launch.pk).update(budget_amount=Decimal("90000"))
    assert run("budget.within_limits", launch).status == "pass"


def test_budget_error_when_limits_cannot_be_read(monkeypatch) -> None:
    from koastops.launches.models import BudgetLimit

    launch = LaunchFactory()

    def broken(*args, **kwargs):
        raise RuntimeError("db gone")

    monkeypatch.setattr(BudgetLimit.objects, "filter", broken)
    outcome = run("budget.within_limits", launch)
    assert outcome.status == "error" and outcome.message == GENERIC_ERROR


# --- schedule.valid ------------------------------------------------------------------------


def test_schedule_pass_and_fail() -> None:
    launch = LaunchFactory()
    assert run("schedule.valid", launch).status == "pass"
    Launch.objects.filter(pk=launch.pk).update(
        start_at=timezone.now() - timezone.timedelta(hours=1)
    )
    outcome = run("schedule.valid", launch)
    assert outcome.status == "fail" and "start time has passed" in outcome.message
