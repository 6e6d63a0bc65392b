"""Schedule checks: the launch starts in the future and ends after it starts."""

from __future__ import annotations

from koastops.launches.checks.registry import CheckContext, Outcome, check
from koastops.launches.models import Severity


@check(
    "schedule.valid",
    "The schedule starts in the future and ends after it starts",
    severity=Severity.BLOCKING,
    description="Ads Manager refuses a start in the past; an end before the start never runs.",
)
def schedule_valid(ctx: CheckContext) -> Outcome:
    launch = ctx.launch
    details = {
        "start_at": launch.start_at.isoformat(),
        "end_at": launch.end_at.isoformat() if launch.end_at else None,
    }
    if launch.start_at <= ctx.now:
        return Outcome.fail(
            "The start time has passed: move the start to a time in the future.", **details
        )
    if launch.end_at is not None and launch.end_at <= launch.start_at:
        return Outcome.fail("The end is before the start: move the end later.", **details)
    return Outcome.passed("The schedule is valid.", **details)
