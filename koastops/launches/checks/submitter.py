"""Whose permissions the run acts on: the submitter must still be allowed to submit."""

from __future__ import annotations

from koastops.accounts import policies
from koastops.launches.checks.registry import CheckContext, Outcome, check
from koastops.launches.models import Severity


@check(
    "submitter.allowed",
    "The submitter may still submit this launch",
    severity=Severity.BLOCKING,
    description=(
        "Asked at run time, as the submitter: a role or an ad account removed after the "
        "launch was submitted fails the run. Fix: an admin restores the role or the ad "
        "account, or someone who may submit the launch submits it again."
    ),
)
def submitter_allowed(ctx: CheckContext) -> Outcome:
    launch, user = ctx.launch, ctx.run_as
    if user is None:
        return Outcome.warn(
            "The user who submitted this launch no longer exists, so this run could not check "
            "anyone's permissions. Nothing to do once it is launched; before that, have a "
            "media buyer of the brand submit it again.",
            submitter=None,
        )
    name = str(user)
    details = {"submitter": name, "ad_account": launch.ad_account.name}
    if not getattr(user, "is_active", False):
        return Outcome.fail(
            f"{name}'s account is deactivated, so the launch has no valid submitter: have "
            "another media buyer of the brand submit it again.",
            **details,
        )
    if not policies.can_on_launch(user, "launch.submit", launch):
        return Outcome.fail(
            f"{name} may no longer submit this launch (their role on {launch.brand.name} or "
            f"their access to the ad account {launch.ad_account.name} was removed): ask an "
            "admin to restore it, or have someone who may submit it submit it again.",
            **details,
        )
    return Outcome.passed(f"{name} may submit this launch.", **details)
