"""Post-launch regressions: a check that passed (or warned) on the run the launch was
approved on and fails (or errors) in a daily post-launch run.

``evaluate`` is called by ``services.run_finished`` for a post-launch run, inside its
transaction with the launch row locked. Each such check opens a ``Regression`` (at most
one open per launch and check: the partial unique index ``launches_regression_open_once``;
a concurrent opener's IntegrityError updates the open one instead), writes
``launch.regressed`` (no actor: the system found it) and notifies the submitter and the
brand's ops leads (one notification per regression; emails after commit). A later run in
which the check passes (or warns) again resolves it (``launch.regression_resolved``).

A run that ended in error (a worker stopped: the reaper) says nothing about the campaign:
it opens and resolves nothing. Checks about the launch before it goes live
(``NOT_MONITORED``: the schedule check fails on every live launch, its start has passed)
are not compared.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from koastops.accounts import policies
from koastops.activity.services import activity_record
from koastops.launches.models import (
    CheckResult,
    CheckRun,
    CheckStatus,
    Launch,
    Regression,
    RegressionStatus,
    Review,
    ReviewDecision,
    RunState,
)

FINE = (CheckStatus.PASS, CheckStatus.WARN)
FAILING = (CheckStatus.FAIL, CheckStatus.ERROR)
# Checks whose failure after the launch is expected, not a regression.
NOT_MONITORED = frozenset({"schedule.valid"})


def baseline(launch: Launch) -> dict[str, str]:
    """Check key → status on the run of the launch's latest approval ({} without one)."""
    run_id = (
        Review.objects.filter(launch=launch, decision=ReviewDecision.APPROVED)
        .order_by("-created_at", "-pk")
        .values_list("run_id", flat=True)
        .first()
    )
    if run_id is None:
        return {}
    return dict(CheckResult.objects.filter(run_id=run_id).values_list("key", "status"))


def evaluate(*, run: CheckRun, launch: Launch) -> dict[str, list[str]]:
    """Open, update and resolve the launch's regressions from the post-launch ``run``;
    the keys opened, still open (updated) and resolved."""
    changes: dict[str, list[str]] = {"opened": [], "updated": [], "resolved": []}
    if run.state != RunState.DONE:
        return changes
    before = baseline(launch)
    results = list(CheckResult.objects.filter(run=run).order_by("position", "pk"))
    open_now = {
        r.check_key: r
        for r in Regression.objects.filter(launch=launch, status=RegressionStatus.OPEN)
    }
    now = timezone.now()
    for result in results:
        if result.key in NOT_MONITORED:
            continue
        if result.status in FAILING and before.get(result.key) in FINE:
            if result.key in open_now:
                _update(open_now[result.key], result, run, now)
                changes["updated"].append(result.key)
            elif _open(launch, result, run, now):
                changes["opened"].append(result.key)
            else:
                changes["updated"].append(result.key)
        elif result.status in FINE and result.key in open_now:
            _resolve(open_now[result.key], launch, result, run, now)
            changes["resolved"].append(result.key)
    return changes


def _update(regression: Regression, result: CheckResult, run: CheckRun, now: Any) -> None:
    Regression.objects.filter(pk=regression.pk, status=RegressionStatus.OPEN).update(
        message=result.message, run=run, last_seen_at=now
    )


def _open(launch: Launch, result: CheckResult, run: CheckRun, now: Any) -> bool:
    """Open the regression; False when another transaction opened it first (updated)."""
    try:
        with transaction.atomic():
            regression = Regression.objects.create(
                launch=launch,
                brand_id=launch.brand_id,
                check_key=result.key,
                title=result.title,
                message=result.message,
                run=run,
                opened_at=now,
                last_seen_at=now,
            )
    except IntegrityError:  # the partial unique index: it is open already
        Regression.objects.filter(
            launch=launch, check_key=result.key, status=RegressionStatus.OPEN
        ).update(message=result.message, run=run, last_seen_at=now)
        return False
    activity_record(
        verb="launch.regressed",
        actor=None,
        target=launch,
        brand=launch.brand_id,
        target_label=launch.label,
        after={
            "check": result.key,
            "title": result.title,
            "status": result.status,
            "message": result.message[:500],
            "run": run.pk,
        },
    )
    _notify(launch, regression)
    return True


def _resolve(
    regression: Regression, launch: Launch, result: CheckResult, run: CheckRun, now: Any
) -> None:
    resolved = Regression.objects.filter(pk=regression.pk, status=RegressionStatus.OPEN).update(
        status=RegressionStatus.RESOLVED, resolved_at=now, last_seen_at=now, run=run
    )
    if not resolved:
        return
    activity_record(
        verb="launch.regression_resolved",
        actor=None,
        target=launch,
        brand=launch.brand_id,
        target_label=launch.label,
        before={"check": result.key, "status": "open"},
        after={"check": result.key, "status": result.status, "run": run.pk},
    )


def _notify(launch: Launch, regression: Regression) -> None:
    from django.urls import reverse

    from koastops.notifications.services import notify

    recipients = {user.pk: user for user in policies.holders_of(launch.brand_id, "launch.approve")}
    owner = launch.submitted_by or launch.created_by
    if owner is not None:
        recipients.setdefault(owner.pk, owner)
    notify(
        users=recipients.values(),
        brand=launch.brand,
        kind="launch.regressed",
        key=f"launch:{launch.pk}:regression:{regression.pk}",
        title=f"Live launch {launch.campaign_name}: “{regression.title}” now fails",
        body=(
            f"It passed when the launch was approved. {regression.message} "
            "Fix it in Ads Manager or on the landing page; the next daily run shows "
            "whether it passes again."
        ),
        url=reverse("launches:detail", kwargs={"slug": launch.brand.slug, "pk": launch.pk}),
    )
