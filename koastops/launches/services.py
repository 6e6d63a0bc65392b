"""Launch writes. One function per intent, keyword-only. Each asks the policy module,
locks the launch row (``select_for_update``), compares what the caller saw (``state``
through ``states``, and ``expected_version``) and writes its activity row in the same
transaction; side effects (the check run's tasks, notifications' emails) are queued after
commit. Two concurrent intents on one launch happen one after the other: the second
sees the first's version and is refused with ``StaleVersion`` or ``WrongState``.

Segregation of duties: nobody approves, rejects or requests changes on a launch they
created or submitted — admins included (``policies.may_review``).

An approval is bound to the launch's ``content_hash``: ``launch_update`` that changes the
content of an in-review or approved launch voids it (``approved_hash`` cleared) and
returns the launch to draft; ``launch_approve`` refuses when the latest check run was not
made on the current content."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from koastops.accounts import policies
from koastops.accounts.models import User
from koastops.activity.services import activity_record
from koastops.catalog.models import AdAccount, Brand
from koastops.core.exceptions import StaleVersion
from koastops.launches import content, inputs, selectors, states
from koastops.launches.models import (
    ACTIVE_RUN_STATES,
    Ad,
    AdSet,
    BudgetLimit,
    CheckOverride,
    CheckResult,
    CheckRun,
    Launch,
    LaunchState,
    Review,
    ReviewDecision,
    RunState,
    RunTrigger,
)

COMMENT_MAX = 5000
REASON_MAX = 2000
MONITOR_DAYS = 14


class WrongState(Exception):
    """The launch is not in a state the intent starts from: nothing was written."""

    def __init__(self, launch: Launch, intent: str) -> None:
        self.launch = launch
        self.intent = intent
        why = states.WHY_NOT.get(launch.state, "")
        super().__init__(
            f"You cannot {intent} this launch now: it is {launch.get_state_display().lower()}."
            + (f" {why}" if why else "")
        )


class OwnWork(PermissionDenied):
    """Four eyes: the reviewer created or submitted the launch."""

    def __init__(self) -> None:
        super().__init__("You created or submitted this launch: another ops lead has to review it.")


# --- helpers ------------------------------------------------------------------------------


def _lock(launch: Launch | int) -> Launch:
    """The launch row locked for this transaction, with its structure (fresh)."""
    pk = launch if isinstance(launch, int) else launch.pk
    Launch.objects.select_for_update().filter(pk=pk).values_list("pk").first()
    found = selectors.with_structure(Launch.objects.filter(pk=pk)).first()
    if found is None:
        raise Launch.DoesNotExist(f"No launch {pk}.")
    return found


def _check_version(launch: Launch, expected_version: int) -> None:
    if launch.version != expected_version:
        raise StaleVersion(expected_version=expected_version, current_version=launch.version)


def _require(user: Any, capability: str, launch: Launch, message: str) -> None:
    policies.require(policies.can_on_launch(user, capability, launch), message)


def _set_state(launch: Launch, state: str, now: Any) -> None:
    launch.state = state
    launch.state_changed_at = now
    launch.version += 1


def _record(verb: str, actor: Any, launch: Launch, **extra: Any) -> None:
    activity_record(
        verb=verb,
        actor=actor,
        target=launch,
        brand=launch.brand,
        target_label=launch.label,
        before=extra.pop("before", None),
        after=extra.pop("after", None) or None,
    )


def _write_structure(launch: Launch, data: inputs.LaunchData) -> None:
    launch.ad_account = data.ad_account
    launch.pixel = data.pixel
    launch.objective = data.objective
    launch.optimization_event = data.optimization_event
    launch.budget_type = data.budget_type
    launch.budget_amount = data.budget_amount
    launch.start_at = data.start_at
    launch.end_at = data.end_at
    launch.campaign_name = data.campaign_name
    launch.save()
    launch.markets.set(data.markets)
    AdSet.objects.filter(launch=launch).delete()
    sets = AdSet.objects.bulk_create(
        [
            AdSet(
                launch=launch,
                position=i,
                name=s.name,
                market=s.market,
                audience_note=s.audience_note,
            )
            for i, s in enumerate(data.ad_sets)
        ]
    )
    Ad.objects.bulk_create(
        [
            Ad(
                ad_set=ad_set,
                launch=launch,
                position=j,
                name=ad.name,
                landing_url=ad.landing_url,
                **ad.utm,
            )
            for ad_set, s in zip(sets, data.ad_sets, strict=True)
            for j, ad in enumerate(s.ads)
        ]
    )


def _notify(users: Any, launch: Launch, *, kind: str, key: str, title: str, body: str) -> None:
    from django.urls import reverse

    from koastops.notifications.services import notify

    notify(
        users=users,
        brand=launch.brand,
        kind=kind,
        key=key,
        title=title,
        body=body,
        url=reverse("launches:detail", kwargs={"slug": launch.brand.slug, "pk": launch.pk}),
    )


def _clean_comment(comment: str, *, required: bool, field: str = "comment") -> str:
    comment = (comment or "").strip()
    if len(comment) > COMMENT_MAX:
        raise ValidationError({field: [f"At most {COMMENT_MAX:,} characters."]})
    if required and not comment:
        raise ValidationError({field: ["Write a comment: the media buyer reads it."]})
    return comment


# --- drafts -------------------------------------------------------------------------------


@transaction.atomic
def launch_create(
    *, user: User, brand: Brand, data: Mapping[str, Any], duplicated_from: Launch | None = None
) -> Launch:
    """A new draft from ``data`` (see ``inputs.parse``); ``ValidationError`` by path."""
    policies.require(policies.can(user, "launch.create", brand), "You may not draft launches.")
    parsed = inputs.parse(user=user, brand=brand, data=data)
    now = timezone.now()
    launch = Launch(
        brand=brand,
        state=LaunchState.DRAFT,
        state_changed_at=now,
        created_by=user,
        duplicated_from=duplicated_from,
    )
    launch.content_hash = content.content_hash(inputs.snapshot(parsed))
    _write_structure(launch, parsed)
    after: dict[str, Any] = {"state": LaunchState.DRAFT, "campaign_name": launch.campaign_name}
    if duplicated_from is not None:
        after["duplicated_from"] = duplicated_from.pk
    _record("launch.duplicated" if duplicated_from else "launch.created", user, launch, after=after)
    return launch


@transaction.atomic
def launch_update(
    *, user: User, launch: Launch, data: Mapping[str, Any], expected_version: int
) -> Launch:
    """Replace the launch's content. A change to an in-review or approved launch voids the
    review / approval and returns it to draft (so do ready and needs changes: their checks
    were for other content). An edit that changes nothing writes nothing."""
    locked = _lock(launch)
    _require(user, "launch.edit", locked, "You may not edit this launch.")
    if locked.state not in states.EDITABLE:
        raise WrongState(locked, "edit")
    _check_version(locked, expected_version)
    parsed = inputs.parse(user=user, brand=locked.brand, data=data)
    before_doc, after_doc = content.snapshot(locked), inputs.snapshot(parsed)
    new_hash = content.content_hash(after_doc)
    if new_hash == locked.content_hash:
        return locked
    before_state = locked.state
    locked.content_hash = new_hash
    _write_structure(locked, parsed)
    changes = content.diff(before_doc, after_doc)
    after: dict[str, Any] = {"version": locked.version + 1, "state": LaunchState.DRAFT}
    before: dict[str, Any] = {"version": locked.version, "state": before_state}
    for change in changes[:30]:
        before[change.path], after[change.path] = change.before, change.after
    if before_state in (LaunchState.IN_REVIEW, LaunchState.APPROVED):
        after["approval"] = "void: the content changed"
    now = timezone.now()
    launch_state = LaunchState.DRAFT if before_state != LaunchState.DRAFT else before_state
    Launch.objects.filter(pk=locked.pk).update(
        state=launch_state,
        state_changed_at=now if launch_state != before_state else locked.state_changed_at,
        version=locked.version + 1,
        approved_hash="",
        approved_by=None,
        approved_at=None,
        review_requested=False,
    )
    _record("launch.updated", user, locked, before=before, after=after)
    locked.refresh_from_db()
    return locked


@transaction.atomic
def launch_duplicate(*, user: User, launch: Launch) -> Launch:
    """A new draft with the same content (the copy's name gets " (copy)" when it fits)."""
    source = selectors.with_structure(Launch.objects.filter(pk=launch.pk)).get()
    policies.require(
        policies.can_on_launch(user, "launch.view", source)
        and policies.can(user, "launch.create", source.brand),
        "You may not duplicate this launch.",
    )
    data = inputs.as_data(source)
    return launch_create(user=user, brand=source.brand, data=data, duplicated_from=source)


@transaction.atomic
def launch_cancel(*, user: User, launch: Launch, expected_version: int, reason: str = "") -> Launch:
    locked = _lock(launch)
    _require(user, "launch.cancel", locked, "You may not cancel this launch.")
    if locked.state not in states.CANCELLABLE:
        raise WrongState(locked, "cancel")
    _check_version(locked, expected_version)
    reason = _clean_comment(reason, required=False, field="reason")
    before_state = locked.state
    now = timezone.now()
    CheckRun.objects.filter(launch=locked, state__in=ACTIVE_RUN_STATES).update(
        state=RunState.CANCELLED, finished_at=now, message="The launch was cancelled."
    )
    _set_state(locked, LaunchState.CANCELLED, now)
    locked.review_requested = False
    locked.save()
    _record(
        "launch.cancelled",
        user,
        locked,
        before={"state": before_state},
        after={"state": LaunchState.CANCELLED, **({"reason": reason} if reason else {})},
    )
    return locked


# --- checks -------------------------------------------------------------------------------


def _start_run(
    locked: Launch, *, user: User | None, run_as: User | None, trigger: str, review: bool
) -> CheckRun:
    from koastops.launches import tasks
    from koastops.launches.checks import registry

    checks = registry.all_checks()
    try:
        with transaction.atomic():
            run = CheckRun.objects.create(
                launch=locked,
                content_hash=locked.content_hash,
                trigger=trigger,
                review_requested=review,
                run_as=run_as,
                requested_by=user,
                total=len(checks),
            )
    except IntegrityError as exc:  # another active run of this launch (post-launch)
        raise WrongState(locked, "re-run the checks of") from exc
    CheckResult.objects.bulk_create(
        [
            CheckResult(
                run=run, key=check.key, title=check.title, severity=check.severity, position=i
            )
            for i, check in enumerate(checks)
        ]
    )
    tasks.run_checks.delay_on_commit(run.pk)
    return run


@transaction.atomic
def launch_submit(*, user: User, launch: Launch, expected_version: int) -> CheckRun:
    """Run the checklist and, when it ends, put the launch in review."""
    locked = _lock(launch)
    _require(user, "launch.submit", locked, "You may not submit this launch.")
    if locked.state not in states.SUBMITTABLE:
        raise WrongState(locked, "submit")
    _check_version(locked, expected_version)
    now = timezone.now()
    run = _start_run(locked, user=user, run_as=user, trigger=RunTrigger.SUBMIT, review=True)
    before_state = locked.state
    _set_state(locked, LaunchState.CHECKING, now)
    locked.submitted_by, locked.submitted_at = user, now
    locked.review_requested = True
    locked.current_run = run
    locked.save()
    _record(
        "launch.submitted",
        user,
        locked,
        before={"state": before_state},
        after={"state": LaunchState.CHECKING, "run": run.pk},
    )
    return run


@transaction.atomic
def launch_rerun_checks(*, user: User, launch: Launch, expected_version: int) -> CheckRun:
    """Run the checklist again (e.g. after a consent sign-off). From in review, the
    launch returns to review when the run ends; an ops lead reviewing it may re-run too."""
    locked = _lock(launch)
    allowed = policies.can_on_launch(user, "launch.submit", locked) or (
        locked.state == LaunchState.IN_REVIEW
        and policies.can_on_launch(user, "launch.approve", locked)
    )
    policies.require(allowed, "You may not run this launch's checks.")
    if locked.state not in states.RERUNNABLE:
        raise WrongState(locked, "re-run the checks of")
    _check_version(locked, expected_version)
    review = locked.state == LaunchState.IN_REVIEW
    run_as = locked.submitted_by if review and locked.submitted_by else user
    run = _start_run(locked, user=user, run_as=run_as, trigger=RunTrigger.RERUN, review=review)
    before_state = locked.state
    _set_state(locked, LaunchState.CHECKING, timezone.now())
    locked.review_requested = review
    locked.current_run = run
    locked.save()
    _record(
        "launch.checks_requested",
        user,
        locked,
        before={"state": before_state},
        after={"state": LaunchState.CHECKING, "run": run.pk},
    )
    return run


@transaction.atomic
def post_launch_run(*, launch_id: int) -> CheckRun | None:
    """The daily re-run of a launched launch (beat, for ``MONITOR_DAYS``); None when one is
    still active or monitoring ended. No state change; its end looks for regressions."""
    locked = _lock(launch_id)
    if locked.state != LaunchState.LAUNCHED or (
        locked.monitor_until is None or locked.monitor_until < timezone.now()
    ):
        return None
    if CheckRun.objects.filter(launch=locked, state__in=ACTIVE_RUN_STATES).exists():
        return None
    return _start_run(
        locked, user=None, run_as=locked.submitted_by, trigger=RunTrigger.POST_LAUNCH, review=False
    )


@transaction.atomic
def run_finished(*, run_id: int) -> Launch | None:
    """The worker's last step: every result is final (or the run errored). Moves a
    checking launch on — to in review when review was asked for, else to ready or needs
    changes — and tells whom it concerns. A run that is no longer the launch's current one
    (an edit, a cancel, a newer run) changes nothing. Idempotent: a second call is a no-op."""
    # Locks in one order everywhere: the launch, then its run (then results): a cancel
    # (launch, then its runs) and the worker's end of the run never wait on each other.
    launch_id = CheckRun.objects.filter(pk=run_id).values_list("launch_id", flat=True).first()
    if launch_id is None:
        return None
    locked = _lock(launch_id)
    run = CheckRun.objects.select_for_update().get(pk=run_id)
    results = list(CheckResult.objects.filter(run=run))
    pending = [r for r in results if not r.is_final]
    now = timezone.now()
    if run.state in ACTIVE_RUN_STATES:
        if pending:
            return None  # not finished yet
        run.state = RunState.DONE
        run.finished_at = now
    run.completed = sum(1 for r in results if r.is_final)
    run.blocking_failed = sum(1 for r in results if r.blocks)
    run.warned = sum(1 for r in results if r.is_final and r.status != "pass" and not r.blocks)
    run.save()
    if run.trigger == RunTrigger.POST_LAUNCH:
        from koastops.launches import regressions

        regressions.evaluate(run=run, launch=locked)
        return locked
    if (
        locked.state != LaunchState.CHECKING
        or locked.current_run_id != run.pk
        or run.content_hash != locked.content_hash
    ):
        return locked
    if run.state in (RunState.ERROR, RunState.CANCELLED) and not run.review_requested:
        target = LaunchState.NEEDS_CHANGES
    elif run.review_requested:
        target = LaunchState.IN_REVIEW
    elif run.blocking_failed:
        target = LaunchState.NEEDS_CHANGES
    else:
        target = LaunchState.READY
    _set_state(locked, target, now)
    locked.save()
    _record(
        "launch.checked",
        None,
        locked,
        before={"state": LaunchState.CHECKING},
        after={
            "state": target,
            "run": run.pk,
            "blocking_failed": run.blocking_failed,
            "warned": run.warned,
            **({"run_error": run.message} if run.state == RunState.ERROR else {}),
        },
    )
    who = (
        f"{run.blocking_failed} blocking check(s) failed"
        if run.blocking_failed
        else "checks passed"
    )
    if target == LaunchState.IN_REVIEW:
        reviewers = policies.holders_of(locked.brand_id, "launch.approve").exclude(
            pk__in=[pk for pk in (locked.created_by_id, locked.submitted_by_id) if pk]
        )
        _notify(
            reviewers,
            locked,
            kind="launch.review",
            key=f"launch:{locked.pk}:review:{run.pk}",
            title=f"Launch {locked.campaign_name} awaits your review",
            body=f"Submitted by {locked.submitted_by or 'a media buyer'}; {who}.",
        )
    elif locked.submitted_by is not None or locked.created_by is not None:
        owner = locked.submitted_by or locked.created_by
        _notify(
            [owner],
            locked,
            kind="launch.checked",
            key=f"launch:{locked.pk}:checked:{run.pk}",
            title=f"Checks of {locked.campaign_name}: {target.label.lower()}",
            body=f"The checklist ended: {who}.",
        )
    return locked


@transaction.atomic
def run_errored(*, run_id: int, message: str) -> Launch | None:
    """End a run in error (the reaper, or a worker that cannot go on): its unfinished
    results become "error" with ``message``, then ``run_finished``."""
    launch_id = CheckRun.objects.filter(pk=run_id).values_list("launch_id", flat=True).first()
    if launch_id is None:
        return None
    Launch.objects.select_for_update().filter(pk=launch_id).values_list("pk").first()
    run = CheckRun.objects.select_for_update().filter(pk=run_id).first()
    if run is None or run.state not in ACTIVE_RUN_STATES:
        return None
    now = timezone.now()
    CheckResult.objects.filter(run=run, status__in=["pending", "running"]).update(
        status="error", message=message, finished_at=now
    )
    run.state = RunState.ERROR
    run.message = message
    run.finished_at = now
    run.save()
    return run_finished(run_id=run_id)


# --- review -------------------------------------------------------------------------------


def _reviewable(user: User, launch: Launch, expected_version: int, intent: str) -> None:
    _require(user, "launch.approve", launch, "You may not review this launch.")
    if not policies.may_review(user, launch):
        raise OwnWork()
    if launch.state not in states.REVIEWABLE:
        raise WrongState(launch, intent)
    _check_version(launch, expected_version)


def _decide(
    user: User, locked: Launch, decision: str, comment: str, target: str, run: CheckRun | None
) -> Review:
    now = timezone.now()
    review = Review.objects.create(
        launch=locked,
        decision=decision,
        comment=comment,
        reviewer=user,
        content_hash=locked.content_hash,
        snapshot=content.snapshot(locked),
        run=run,
    )
    before_state = locked.state
    _set_state(locked, target, now)
    locked.review_requested = False
    if decision == ReviewDecision.APPROVED:
        locked.approved_hash = locked.content_hash
        locked.approved_by, locked.approved_at = user, now
    locked.save()
    verb = {
        ReviewDecision.APPROVED: "launch.approved",
        ReviewDecision.REJECTED: "launch.rejected",
        ReviewDecision.CHANGES_REQUESTED: "launch.changes_requested",
    }[ReviewDecision(decision)]
    _record(
        verb,
        user,
        locked,
        before={"state": before_state},
        after={
            "state": target,
            "content_hash": locked.content_hash,
            **({"comment": comment[:500]} if comment else {}),
        },
    )
    owner = locked.submitted_by or locked.created_by
    if owner is not None:
        _notify(
            [owner],
            locked,
            kind="launch.decided",
            key=f"launch:{locked.pk}:decided:{review.pk}",
            title=f"{locked.campaign_name}: {ReviewDecision(decision).label.lower()}",
            body=f"{user} {ReviewDecision(decision).label.lower()} it."
            + (f" “{comment[:300]}”" if comment else ""),
        )
    return review


@transaction.atomic
def launch_approve(
    *,
    user: User,
    launch: Launch,
    expected_version: int,
    comment: str = "",
    overrides: Mapping[str, str] | None = None,
) -> Review:
    """Approve the content the latest check run was made on. Each blocking check that
    failed or errored needs an override with a written reason (``overrides``: check key
    → reason, each logged); ``ValidationError`` on ``overrides.<key>`` otherwise."""
    locked = _lock(launch)
    _reviewable(user, locked, expected_version, "approve")
    comment = _clean_comment(comment, required=False)
    run = locked.current_run
    if (
        run is None
        or run.content_hash != locked.content_hash
        or run.state
        not in (
            RunState.DONE,
            RunState.ERROR,
        )
    ):
        raise ValidationError(
            {"__all__": ["The checks were not run on this content: re-run them first."]}
        )
    blocking = [r for r in CheckResult.objects.filter(run=run) if r.blocks]
    given = {str(k): (v or "").strip() for k, v in (overrides or {}).items()}
    errors: dict[str, list[str]] = {}
    for key, reason in given.items():
        if len(reason) > REASON_MAX:
            errors[f"overrides.{key}"] = [f"At most {REASON_MAX:,} characters."]
    existing = set(
        CheckOverride.objects.filter(launch=locked, content_hash=locked.content_hash).values_list(
            "check_key", flat=True
        )
    )
    for result in blocking:
        if result.key not in existing and not given.get(result.key):
            errors[f"overrides.{result.key}"] = [
                f"“{result.title}” failed and blocks approval: fix it and re-run the checks, "
                "or override it with a written reason."
            ]
    if errors:
        raise ValidationError(errors)
    blocking_keys = {r.key: r for r in blocking}
    for key, reason in given.items():
        if key in blocking_keys and key not in existing and reason:
            CheckOverride.objects.create(
                launch=locked,
                check_key=key,
                content_hash=locked.content_hash,
                run=run,
                reason=reason,
                overridden_by=user,
            )
            _record(
                "launch.check_overridden",
                user,
                locked,
                after={"check": key, "title": blocking_keys[key].title, "reason": reason[:500]},
            )
    return _decide(user, locked, ReviewDecision.APPROVED, comment, LaunchState.APPROVED, run)


@transaction.atomic
def launch_reject(*, user: User, launch: Launch, expected_version: int, comment: str) -> Review:
    locked = _lock(launch)
    _reviewable(user, locked, expected_version, "reject")
    comment = _clean_comment(comment, required=True)
    return _decide(
        user, locked, ReviewDecision.REJECTED, comment, LaunchState.REJECTED, locked.current_run
    )


@transaction.atomic
def launch_request_changes(
    *, user: User, launch: Launch, expected_version: int, comment: str
) -> Review:
    locked = _lock(launch)
    _reviewable(user, locked, expected_version, "request changes on")
    comment = _clean_comment(comment, required=True)
    return _decide(
        user,
        locked,
        ReviewDecision.CHANGES_REQUESTED,
        comment,
        LaunchState.NEEDS_CHANGES,
        locked.current_run,
    )


# --- after approval -----------------------------------------------------------------------


def platform_campaign_id_errors(value: str) -> list[str]:
    if not value:
        return ["Enter the campaign id Ads Manager gave the campaign."]
    if not value.isascii() or not value.isdigit() or not 5 <= len(value) <= 30:
        return ["A Meta campaign id is 5 to 30 digits, e.g. 120210000000000001."]
    return []


@transaction.atomic
def launch_mark_launched(
    *, user: User, launch: Launch, expected_version: int, platform_campaign_id: str
) -> Launch:
    """The approved launch is live: record its platform campaign id; the checklist re-runs
    daily for ``MONITOR_DAYS`` days."""
    locked = _lock(launch)
    _require(user, "launch.export", locked, "You may not mark this launch launched.")
    if locked.state != LaunchState.APPROVED:
        raise WrongState(locked, "mark launched")
    _check_version(locked, expected_version)
    value = (platform_campaign_id or "").strip()
    if problems := platform_campaign_id_errors(value):
        raise ValidationError({"platform_campaign_id": problems})
    if locked.approved_hash != locked.content_hash:  # cannot happen through the services
        raise WrongState(locked, "mark launched")
    now = timezone.now()
    _set_state(locked, LaunchState.LAUNCHED, now)
    locked.platform_campaign_id = value
    locked.launched_at = now
    locked.monitor_until = now + dt.timedelta(days=MONITOR_DAYS)
    locked.save()
    _record(
        "launch.launched",
        user,
        locked,
        before={"state": LaunchState.APPROVED},
        after={"state": LaunchState.LAUNCHED, "platform_campaign_id": value},
    )
    return locked


# --- budget limits ------------------------------------------------------------------------


@transaction.atomic
def budget_limit_save(
    *,
    user: User,
    ad_account: AdAccount,
    daily_min: Any,
    daily_max: Any,
    lifetime_max: Any,
    expected_version: int,
) -> BudgetLimit:
    """Set an ad account's budget limits (blank: no bound); create with version 0."""
    from decimal import Decimal, InvalidOperation

    brand = ad_account.brand
    policies.require(policies.can(user, "launch.limits", brand), "You may not set budget limits.")
    values: dict[str, Decimal | None] = {}
    errors: dict[str, list[str]] = {}
    for name, raw in (
        ("daily_min", daily_min),
        ("daily_max", daily_max),
        ("lifetime_max", lifetime_max),
    ):
        if raw in (None, ""):
            values[name] = None
            continue
        try:
            number = Decimal(str(raw).strip())
            if not number.is_finite() or number < 0 or number >= inputs.BUDGET_MAX:
                raise InvalidOperation
            if number != number.quantize(Decimal("0.01")):
                errors[name] = ["At most two decimals."]
                continue
            values[name] = number
        except (InvalidOperation, ValueError):
            errors[name] = ["Enter an amount, e.g. 500.00, or leave it blank."]
    low, high = values.get("daily_min"), values.get("daily_max")
    if low is not None and high is not None and low > high and "daily_max" not in errors:
        errors["daily_max"] = ["The daily maximum must be at least the daily minimum."]
    if errors:
        raise ValidationError(errors)
    limit = BudgetLimit.objects.select_for_update().filter(ad_account=ad_account).first()
    current = limit.version if limit else 0
    if current != expected_version:
        raise StaleVersion(expected_version=expected_version, current_version=current)
    before = (
        {k: (str(getattr(limit, k)) if getattr(limit, k) is not None else None) for k in values}
        if limit
        else {}
    )
    if limit is None:
        limit = BudgetLimit(ad_account=ad_account, brand=brand, version=0)
    for name, value in values.items():
        setattr(limit, name, value)
    limit.version += 1
    limit.updated_by = user
    try:
        with transaction.atomic():
            limit.save()
    except IntegrityError as exc:  # a concurrent first save
        raise StaleVersion(expected_version=0, current_version=1) from exc
    activity_record(
        verb="budget_limit.updated",
        actor=user,
        target=limit,
        brand=brand,
        target_label=f"budget limits of {ad_account}",
        before=before or None,
        after={k: (str(v) if v is not None else None) for k, v in values.items()},
    )
    return limit
