"""Launches in review, built through the services (submit, the run's end), for the review
part's tests."""

from __future__ import annotations

from typing import Any

from koastops.accounts import policies
from koastops.accounts.models import Role
from koastops.launches import services
from koastops.launches.models import CheckResult, Launch
from tests.factories import LaunchFactory


def finish(run: Any, *, fail: bool = False) -> Launch | None:
    """End a run: every result passes, or the first blocking one fails."""
    CheckResult.objects.filter(run=run).update(status="pass", message="Fine.")
    if fail:
        first = CheckResult.objects.filter(run=run, severity="blocking").order_by("position")[0]
        CheckResult.objects.filter(pk=first.pk).update(
            status="fail", message="Sign the consent for DE first."
        )
    return services.run_finished(run_id=run.pk)


def draft(**kwargs: Any) -> Launch:
    """``LaunchFactory``, reusing the brand's "Purchase" event (one per brand and name)."""
    from koastops.taxonomy.models import EventDefinition

    brand = kwargs.get("brand")
    if brand is not None and "optimization_event" not in kwargs:
        event = EventDefinition.objects.filter(brand=brand, name="Purchase").first()
        if event is not None:
            kwargs["optimization_event"] = event
    return LaunchFactory(**kwargs)


def in_review(*, fail: bool = False, submitter: Any = None, **kwargs: Any) -> Launch:
    """A launch drafted and submitted by a media buyer of its brand, checks ended, in review."""
    launch = draft(**kwargs)
    buyer = submitter or launch.created_by
    if not policies.is_admin(buyer) and policies.role_for(buyer, launch.brand) is None:
        policies.grant_role(buyer, launch.brand, Role.MEDIA_BUYER)
    run = services.launch_submit(user=buyer, launch=launch, expected_version=launch.version)
    finish(run, fail=fail)
    launch.refresh_from_db()
    assert launch.state == "in_review"
    return launch
