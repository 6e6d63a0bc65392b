"""Post-launch regressions (``koastops.launches.regressions``): a check that passed at
approval and fails in a daily post-launch run opens one regression (at most one open per
launch and check, also when two evaluations race on PostgreSQL), writes
``launch.regressed`` and notifies the submitter and the brand's ops leads; passing again
resolves it."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection, connections, transaction
from django.utils import timezone

from koastops.accounts import policies
from koastops.accounts.models import Role
from koastops.activity.models import ActivityEntry
from koastops.launches import regressions, runner, services
from koastops.launches.checks import registry
from koastops.launches.checks.registry import Outcome
from koastops.launches.models import CheckResult, CheckRun, Regression
from koastops.notifications.models import Notification
from tests.factories import (
    CheckResultFactory,
    CheckRunFactory,
    LaunchFactory,
    ReviewFactory,
    UserFactory,
    _market,
)
from tests.launches.slow_check_worker import extra_checks

STATUS = {"test.pixel": "pass", "test.landing": "pass"}


def configurable(key):
    def check(ctx):
        status = STATUS[key]
        if status == "raise":
            raise RuntimeError("unreadable")
        return Outcome(status, f"{key} is {status}.", {"key": key})

    return check


@pytest.fixture
def checks(enqueued):  # messages recorded, never sent to the broker
    STATUS.update({"test.pixel": "pass", "test.landing": "pass"})
    with extra_checks({key: configurable(key) for key in STATUS}):
        yield STATUS


def live_launch(*, at_approval=None):
    """A launched launch whose approval was made on a run with ``at_approval`` statuses
    (every registered check passed by default), a submitter and an ops lead."""
    now = timezone.now()
    _market("DE")  # reference data: gone after an earlier transactional test's flush
    submitter, lead = UserFactory(), UserFactory()
    launch = LaunchFactory(
        state="launched",
        submitted_by=submitter,
        launched_at=now - dt.timedelta(days=1),
        monitor_until=now + dt.timedelta(days=13),
        start_at=now - dt.timedelta(days=1),
    )
    policies.grant_role(launch.created_by, launch.brand, Role.MEDIA_BUYER)
    policies.grant_role(submitter, launch.brand, Role.MEDIA_BUYER)
    policies.grant_role(lead, launch.brand, Role.OPS_LEAD)
    statuses = {c.key: "pass" for c in registry.all_checks()} | (at_approval or {})
    run = CheckRunFactory(launch=launch, state="done")
    for key, status in statuses.items():
        CheckResultFactory(run=run, key=key, status=status)
    ReviewFactory(launch=launch, run=run, reviewer=lead)
    return launch, submitter, lead


def post_launch(launch, django_capture_on_commit_callbacks):
    """One post-launch run executed check by check as the workers would."""
    with django_capture_on_commit_callbacks(execute=False):
        run = services.post_launch_run(launch_id=launch.pk)
    assert run is not None
    with django_capture_on_commit_callbacks(execute=True):  # emails are sent after commit
        for result in CheckResult.objects.filter(run=run):
            runner.execute_check(run.pk, result.key)
    run.refresh_from_db()
    assert run.state == "done"
    return run


def verbs(launch):
    return list(
        ActivityEntry.objects.filter(target_id=str(launch.pk), verb__startswith="launch.regress")
        .order_by("id")
        .values_list("verb", "actor_id")
    )


@pytest.mark.django_db
def test_a_check_that_passed_at_approval_and_fails_now_opens_then_resolves(
    checks, django_capture_on_commit_callbacks, enqueued
):
    launch, submitter, lead = live_launch()
    outsider = UserFactory()  # no role on the brand: not told
    checks["test.pixel"] = "fail"

    run = post_launch(launch, django_capture_on_commit_callbacks)
    assert enqueued.names.count("koastops.notifications.email") == 2  # after commit

    regression = Regression.objects.get()
    assert (regression.launch_id, regression.brand_id) == (launch.pk, launch.brand_id)
    assert (regression.check_key, regression.status, regression.run_id) == (
        "test.pixel",
        "open",
        run.pk,
    )
    assert regression.message == "test.pixel is fail."
    assert verbs(launch) == [("launch.regressed", None)]
    told = set(Notification.objects.filter(kind="launch.regressed").values_list("user", flat=True))
    assert told == {submitter.pk, lead.pk} and outsider.pk not in told
    note = Notification.objects.filter(user=lead).get()
    assert note.key == f"launch:{launch.pk}:regression:{regression.pk}"
    assert launch.campaign_name in note.title and str(launch.pk) in note.url
    # The schedule check fails on every live launch (its start has passed): not compared.
    assert CheckResult.objects.get(run=run, key="schedule.valid").status == "fail"

    # Still failing (now an error) the next day: the same regression, no second alert.
    checks["test.pixel"] = "raise"
    run2 = post_launch(launch, django_capture_on_commit_callbacks)
    regression.refresh_from_db()
    assert Regression.objects.count() == 1
    assert regression.run_id == run2.pk and regression.status == "open"
    assert "could not run" in regression.message
    assert Notification.objects.filter(kind="launch.regressed").count() == 2
    assert verbs(launch) == [("launch.regressed", None)]

    # Passing again resolves it.
    checks["test.pixel"] = "warn"
    post_launch(launch, django_capture_on_commit_callbacks)
    regression.refresh_from_db()
    assert regression.status == "resolved" and regression.resolved_at
    assert verbs(launch) == [("launch.regressed", None), ("launch.regression_resolved", None)]

    # Failing once more opens a new one (the old stays resolved).
    checks["test.pixel"] = "fail"
    post_launch(launch, django_capture_on_commit_callbacks)
    assert list(Regression.objects.order_by("pk").values_list("status", flat=True)) == [
        "resolved",
        "open",
    ]
    assert Notification.objects.filter(kind="launch.regressed").count() == 4


@pytest.mark.django_db
def test_a_check_already_failing_at_approval_is_no_regression(
    checks, django_capture_on_commit_callbacks
):
    launch, _, _ = live_launch(at_approval={"test.landing": "fail"})  # overridden then
    checks["test.landing"] = "fail"
    post_launch(launch, django_capture_on_commit_callbacks)
    assert not Regression.objects.exists()
    assert verbs(launch) == []


@pytest.mark.django_db
def test_the_latest_approval_is_the_baseline(checks, django_capture_on_commit_callbacks):
    launch, _, lead = live_launch(at_approval={"test.pixel": "fail"})
    newer = CheckRunFactory(launch=launch, state="done")
    CheckResultFactory(run=newer, key="test.pixel", status="pass")
    ReviewFactory(launch=launch, run=newer, reviewer=lead)
    checks["test.pixel"] = "fail"
    post_launch(launch, django_capture_on_commit_callbacks)
    assert list(Regression.objects.values_list("check_key", flat=True)) == ["test.pixel"]


@pytest.mark.django_db
def test_a_run_that_errored_opens_nothing(checks, django_capture_on_commit_callbacks):
    launch, _, _ = live_launch()
    run = services.post_launch_run(launch_id=launch.pk)
    services.run_errored(run_id=run.pk, message=runner.REAPED_MESSAGE)  # worker lost
    assert CheckRun.objects.get(pk=run.pk).state == "error"
    assert not Regression.objects.exists()


@pytest.mark.django_db
def test_without_an_approval_nothing_is_compared(checks, django_capture_on_commit_callbacks):
    launch = LaunchFactory(state="launched", monitor_until=timezone.now() + dt.timedelta(days=3))
    checks["test.pixel"] = "fail"
    post_launch(launch, django_capture_on_commit_callbacks)
    assert not Regression.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_two_evaluations_racing_open_the_regression_once(enqueued):
    if connection.vendor != "postgresql":
        pytest.skip("the race needs PostgreSQL's concurrent transactions")
    with extra_checks({key: configurable(key) for key in STATUS}):
        STATUS.update({"test.pixel": "pass", "test.landing": "pass"})
        launch, _, _ = live_launch()
        rounds = 20
        for i in range(rounds):
            Regression.objects.filter(launch=launch).update(
                status="resolved", resolved_at=timezone.now()
            )
            run = CheckRunFactory(launch=launch, state="done", trigger="post_launch")
            CheckResultFactory(run=run, key="test.pixel", status="fail", message=f"round {i}")
            barrier = threading.Barrier(2)
            errors: list[BaseException] = []

            def evaluate(run=run, barrier=barrier, errors=errors):
                try:
                    with transaction.atomic():
                        fresh = type(launch).objects.select_related("brand").get(pk=launch.pk)
                        barrier.wait(10)
                        regressions.evaluate(run=CheckRun.objects.get(pk=run.pk), launch=fresh)
                except BaseException as exc:  # reported below
                    errors.append(exc)
                finally:
                    connections.close_all()

            threads = [threading.Thread(target=evaluate) for _ in range(2)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(30)
            assert errors == []
            assert Regression.objects.filter(launch=launch, status="open").count() == 1
        opened = ActivityEntry.objects.filter(verb="launch.regressed").count()
        assert opened == rounds  # one per round, never two
