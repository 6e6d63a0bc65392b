"""The budget against the ad account's limits, set by ops leads."""

from __future__ import annotations

from decimal import Decimal

from koastops.launches.checks.registry import CheckContext, Outcome, check
from koastops.launches.models import BudgetLimit, BudgetType, Severity


def _money(value: Decimal, currency: str) -> str:
    return f"{value:,.2f} {currency}"


@check(
    "budget.within_limits",
    "The budget is within the ad account's limits",
    severity=Severity.BLOCKING,
    description=(
        "A daily budget between the account's daily minimum and maximum, a lifetime budget "
        "at most its lifetime maximum (limits an ops lead sets per ad account; a blank limit "
        "does not apply). Fix: change the budget, or ask an ops lead to change the limits."
    ),
)
def budget_within_limits(ctx: CheckContext) -> Outcome:
    launch = ctx.launch
    account = launch.ad_account
    currency = account.currency
    amount = launch.budget_amount
    limit = BudgetLimit.objects.filter(ad_account_id=launch.ad_account_id).first()
    details: dict[str, object] = {
        "budget_type": launch.budget_type,
        "budget": str(amount),
        "currency": currency,
        "ad_account": account.name,
    }
    if limit is None:
        return Outcome.passed(
            f"No budget limits are set for the ad account {account.name}.", **details
        )
    details |= {
        "daily_min": None if limit.daily_min is None else str(limit.daily_min),
        "daily_max": None if limit.daily_max is None else str(limit.daily_max),
        "lifetime_max": None if limit.lifetime_max is None else str(limit.lifetime_max),
    }
    shown = _money(amount, currency)
    if launch.budget_type == BudgetType.DAILY:
        if limit.daily_min is None and limit.daily_max is None:
            return Outcome.passed(
                f"No daily budget limits are set for the ad account {account.name}.", **details
            )
        if limit.daily_min is not None and amount < limit.daily_min:
            return Outcome.fail(
                f"The daily budget {shown} is below the ad account {account.name}'s minimum of "
                f"{_money(limit.daily_min, currency)}: raise it, or ask an ops lead to change "
                "the limits.",
                **details,
            )
        if limit.daily_max is not None and amount > limit.daily_max:
            return Outcome.fail(
                f"The daily budget {shown} is above the ad account {account.name}'s maximum of "
                f"{_money(limit.daily_max, currency)}: lower it, or ask an ops lead to change "
                "the limits.",
                **details,
            )
        return Outcome.passed(f"The daily budget {shown} is within the limits.", **details)
    if limit.lifetime_max is None:
        return Outcome.passed(
            f"No lifetime budget limit is set for the ad account {account.name}.", **details
        )
    if amount > limit.lifetime_max:
        return Outcome.fail(
            f"The lifetime budget {shown} is above the ad account {account.name}'s maximum of "
            f"{_money(limit.lifetime_max, currency)}: lower it, or ask an ops lead to change "
            "the limits.",
            **details,
        )
    return Outcome.passed(f"The lifetime budget {shown} is within the limits.", **details)
