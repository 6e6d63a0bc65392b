"""Launches: a campaign a media buyer (or an ops lead) wants live, its structure (ad
sets and ads), the checklist runs and their results, reviews, overrides and the
post-launch regressions.

- ``Launch``: brand, ad account, pixel, objective, optimization event, markets, budget,
  schedule and campaign name; ``state`` moves only through ``koastops.launches.services``
  (compare-and-set on ``state`` and ``version``). ``content_hash`` is the hash of
  ``content.snapshot(launch)``; an approval is bound to it (``approved_hash``).
- ``AdSet`` / ``Ad``: the structure, ordered by ``position``; rewritten as a whole by
  every edit (``services.launch_update``).
- ``BudgetLimit``: an ad account's budget limits, set by ops leads.
- ``CheckRun`` / ``CheckResult``: one run of the checklist on one content hash; one
  result row per check of the registry, written as each completes. At most one active
  (queued / running) run per launch: a partial unique index.
- ``Review``: an ops lead's decision (approved, rejected, changes requested) with the
  content snapshot it was made on, so the next review shows the diff.
- ``CheckOverride``: an ops lead's written reason to approve despite a blocking failure,
  bound to the content hash it was given on.
- ``Regression``: a check that passed at approval and fails in a post-launch run; open at
  most once per launch and check (a partial unique index), resolved when it passes again.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from koastops.catalog.models import AdAccount, Brand, Market, Pixel
from koastops.taxonomy.models import EventDefinition


class LaunchState(models.TextChoices):
    DRAFT = "draft", "Draft"
    CHECKING = "checking", "Checking"
    READY = "ready", "Ready"
    NEEDS_CHANGES = "needs_changes", "Needs changes"
    IN_REVIEW = "in_review", "In review"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    LAUNCHED = "launched", "Launched"
    CANCELLED = "cancelled", "Cancelled"


class Objective(models.TextChoices):
    SALES = "OUTCOME_SALES", "Sales"
    LEADS = "OUTCOME_LEADS", "Leads"
    TRAFFIC = "OUTCOME_TRAFFIC", "Traffic"
    ENGAGEMENT = "OUTCOME_ENGAGEMENT", "Engagement"
    AWARENESS = "OUTCOME_AWARENESS", "Awareness"
    APP_PROMOTION = "OUTCOME_APP_PROMOTION", "App promotion"


class BudgetType(models.TextChoices):
    DAILY = "daily", "Daily"
    LIFETIME = "lifetime", "Lifetime"


class Launch(models.Model):
    brand = models.ForeignKey(Brand, on_delete=models.PROTECT, related_name="launches")
    ad_account = models.ForeignKey(AdAccount, on_delete=models.PROTECT, related_name="launches")
    pixel = models.ForeignKey(Pixel, on_delete=models.PROTECT, related_name="launches")
    objective = models.CharField(max_length=32, choices=Objective.choices)
    optimization_event = models.ForeignKey(
        EventDefinition, on_delete=models.PROTECT, related_name="launches"
    )
    markets = models.ManyToManyField(Market, related_name="launches")
    budget_type = models.CharField(max_length=16, choices=BudgetType.choices)
    budget_amount = models.DecimalField(max_digits=14, decimal_places=2)  # account currency
    start_at = models.DateTimeField()
    end_at = models.DateTimeField(null=True, blank=True)
    campaign_name = models.CharField(max_length=200)

    state = models.CharField(max_length=16, choices=LaunchState.choices, default="draft")
    state_changed_at = models.DateTimeField()  # the queue's "waiting since"
    version = models.PositiveIntegerField(default=1, editable=False)
    content_hash = models.CharField(max_length=64, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    # Set by submit (and a re-run while in review): the run's end moves the launch to
    # "in review" rather than "ready" / "needs changes".
    review_requested = models.BooleanField(default=False)
    current_run = models.ForeignKey(
        "CheckRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_hash = models.CharField(max_length=64, blank=True, editable=False)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    platform_campaign_id = models.CharField(max_length=40, blank=True)
    launched_at = models.DateTimeField(null=True, blank=True)
    monitor_until = models.DateTimeField(null=True, blank=True)  # post-launch re-runs
    duplicated_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at", "-pk"]
        indexes = [
            models.Index(fields=["brand", "state", "-state_changed_at"]),
            models.Index(fields=["state", "state_changed_at"]),
            models.Index(fields=["created_by", "state"]),
        ]

    def __str__(self) -> str:
        return self.campaign_name or f"Launch {self.pk}"

    @property
    def label(self) -> str:
        return f"launch {self.campaign_name}"


class AdSet(models.Model):
    launch = models.ForeignKey(Launch, on_delete=models.CASCADE, related_name="ad_sets")
    position = models.PositiveSmallIntegerField()
    name = models.CharField(max_length=200)
    market = models.ForeignKey(Market, on_delete=models.PROTECT, related_name="+")
    audience_note = models.TextField(blank=True)

    class Meta:
        ordering = ["launch", "position"]
        constraints = [
            models.UniqueConstraint(fields=["launch", "position"], name="launches_adset_position")
        ]

    def __str__(self) -> str:
        return self.name


class Ad(models.Model):
    ad_set = models.ForeignKey(AdSet, on_delete=models.CASCADE, related_name="ads")
    launch = models.ForeignKey(Launch, on_delete=models.CASCADE, related_name="ads")
    position = models.PositiveSmallIntegerField()
    name = models.CharField(max_length=200)
    landing_url = models.URLField(max_length=2000)
    utm_source = models.CharField(max_length=200, blank=True)
    utm_medium = models.CharField(max_length=200, blank=True)
    utm_campaign = models.CharField(max_length=200, blank=True)
    utm_content = models.CharField(max_length=200, blank=True)
    utm_term = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["ad_set", "position"]
        constraints = [
            models.UniqueConstraint(fields=["ad_set", "position"], name="launches_ad_position")
        ]

    def __str__(self) -> str:
        return self.name


class BudgetLimit(models.Model):
    """An ad account's budget limits (account currency); a blank bound does not apply."""

    ad_account = models.OneToOneField(
        AdAccount, on_delete=models.CASCADE, related_name="budget_limit"
    )
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="+")
    daily_min = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    daily_max = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    lifetime_max = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"budget limits of {self.ad_account}"


class RunTrigger(models.TextChoices):
    SUBMIT = "submit", "Submitted"
    RERUN = "rerun", "Re-run"
    POST_LAUNCH = "post_launch", "Post-launch re-run"


class RunState(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    ERROR = "error", "Error"
    CANCELLED = "cancelled", "Cancelled"


ACTIVE_RUN_STATES = (RunState.QUEUED, RunState.RUNNING)


class CheckRun(models.Model):
    launch = models.ForeignKey(Launch, on_delete=models.CASCADE, related_name="check_runs")
    content_hash = models.CharField(max_length=64)
    trigger = models.CharField(max_length=16, choices=RunTrigger.choices)
    review_requested = models.BooleanField(default=False)
    state = models.CharField(max_length=16, choices=RunState.choices, default=RunState.QUEUED)
    # Whose permissions the checks ask at run time (the submitter; for a post-launch run
    # the one who submitted the launch).
    run_as = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    total = models.PositiveSmallIntegerField(default=0)
    completed = models.PositiveSmallIntegerField(default=0)
    blocking_failed = models.PositiveSmallIntegerField(default=0)  # fail or error, blocking
    warned = models.PositiveSmallIntegerField(default=0)  # warn, or an advisory failure
    message = models.TextField(blank=True)  # why the run ended in error
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["launch"],
                condition=Q(state__in=["queued", "running"]),
                name="launches_checkrun_one_active",
            )
        ]
        indexes = [models.Index(fields=["state", "heartbeat_at"])]

    def __str__(self) -> str:
        return f"check run {self.pk} of launch {self.launch_id} ({self.state})"

    @property
    def is_active(self) -> bool:
        return self.state in ACTIVE_RUN_STATES


class Severity(models.TextChoices):
    BLOCKING = "blocking", "Blocking"
    ADVISORY = "advisory", "Advisory"


class CheckStatus(models.TextChoices):
    PENDING = "pending", "Waiting"
    RUNNING = "running", "Running"
    PASS = "pass", "Passed"
    WARN = "warn", "Warning"
    FAIL = "fail", "Failed"
    ERROR = "error", "Error"


FINAL_CHECK_STATUSES = (CheckStatus.PASS, CheckStatus.WARN, CheckStatus.FAIL, CheckStatus.ERROR)


class CheckResult(models.Model):
    run = models.ForeignKey(CheckRun, on_delete=models.CASCADE, related_name="results")
    key = models.CharField(max_length=60)
    title = models.CharField(max_length=200)
    severity = models.CharField(max_length=16, choices=Severity.choices)
    position = models.PositiveSmallIntegerField(default=0)  # the registry's order
    status = models.CharField(max_length=16, choices=CheckStatus.choices, default="pending")
    message = models.TextField(blank=True)
    details = models.JSONField(default=dict, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["run", "position"]
        constraints = [
            models.UniqueConstraint(fields=["run", "key"], name="launches_checkresult_run_key")
        ]

    def __str__(self) -> str:
        return f"{self.key}: {self.status}"

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_CHECK_STATUSES

    @property
    def blocks(self) -> bool:
        return self.severity == Severity.BLOCKING and self.status in (
            CheckStatus.FAIL,
            CheckStatus.ERROR,
        )


class ReviewDecision(models.TextChoices):
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    CHANGES_REQUESTED = "changes_requested", "Changes requested"


class Review(models.Model):
    launch = models.ForeignKey(Launch, on_delete=models.CASCADE, related_name="reviews")
    decision = models.CharField(max_length=20, choices=ReviewDecision.choices)
    comment = models.TextField(blank=True)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    content_hash = models.CharField(max_length=64)
    snapshot = models.JSONField()  # content.snapshot(launch) at the decision
    run = models.ForeignKey(
        CheckRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_decision_display()} launch {self.launch_id}"


class CheckOverride(models.Model):
    launch = models.ForeignKey(Launch, on_delete=models.CASCADE, related_name="overrides")
    check_key = models.CharField(max_length=60)
    content_hash = models.CharField(max_length=64)
    run = models.ForeignKey(CheckRun, null=True, on_delete=models.SET_NULL, related_name="+")
    reason = models.TextField()
    overridden_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"override of {self.check_key} on launch {self.launch_id}"


class RegressionStatus(models.TextChoices):
    OPEN = "open", "Open"
    RESOLVED = "resolved", "Resolved"


class Regression(models.Model):
    launch = models.ForeignKey(Launch, on_delete=models.CASCADE, related_name="regressions")
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="+")
    check_key = models.CharField(max_length=60)
    title = models.CharField(max_length=200)
    status = models.CharField(
        max_length=16, choices=RegressionStatus.choices, default=RegressionStatus.OPEN
    )
    message = models.TextField()
    run = models.ForeignKey(CheckRun, null=True, on_delete=models.SET_NULL, related_name="+")
    opened_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-opened_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["launch", "check_key"],
                condition=Q(status="open"),
                name="launches_regression_open_once",
            )
        ]
        indexes = [models.Index(fields=["brand", "status"])]

    def __str__(self) -> str:
        return f"{self.check_key} regressed on launch {self.launch_id} ({self.status})"
