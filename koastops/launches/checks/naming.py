"""Naming: every campaign, ad set, ad and UTM campaign name matches the brand's effective
naming rule of its level (``koastops.taxonomy.rules.level_rules``, read once per run)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from koastops.launches.checks.registry import CheckContext, Outcome, check
from koastops.launches.models import Launch, Severity
from koastops.taxonomy import rules as taxonomy_rules

MAX_LISTED = 100  # failing names listed in the details (the count says how many more)

LEVEL_NOUNS = {
    "campaign": ("campaign name", "campaign names"),
    "adset": ("ad set name", "ad set names"),
    "ad": ("ad name", "ad names"),
    "utm_campaign": ("UTM campaign", "UTM campaigns"),
}


def _rules(ctx: CheckContext) -> dict[str, taxonomy_rules.LevelRule]:
    return ctx.memo(
        "naming.level_rules",
        lambda: {item.level: item for item in taxonomy_rules.level_rules(ctx.launch.brand)},
    )


def _campaign(launch: Launch) -> Iterator[tuple[str, str]]:
    yield "campaign_name", launch.campaign_name


def _ad_sets(launch: Launch) -> Iterator[tuple[str, str]]:
    for i, ad_set in enumerate(launch.ad_sets.all()):
        yield f"ad_sets.{i}.name", ad_set.name


def _ads(launch: Launch) -> Iterator[tuple[str, str]]:
    for i, ad_set in enumerate(launch.ad_sets.all()):
        for j, ad in enumerate(ad_set.ads.all()):
            yield f"ad_sets.{i}.ads.{j}.name", ad.name


def _utm_campaigns(launch: Launch) -> Iterator[tuple[str, str]]:
    for i, ad_set in enumerate(launch.ad_sets.all()):
        for j, ad in enumerate(ad_set.ads.all()):
            yield f"ad_sets.{i}.ads.{j}.utm_campaign", ad.utm_campaign


def _check_level(
    ctx: CheckContext, level: str, names: Callable[[Launch], Iterator[tuple[str, str]]]
) -> Outcome:
    singular, plural = LEVEL_NOUNS[level]
    entries = list(names(ctx.launch))
    level_rule = _rules(ctx).get(level)
    details: dict[str, Any] = {"level": level, "checked": len(entries)}
    if level_rule is None or level_rule.rule is None:
        return Outcome.passed(
            f"The brand has no naming rule for {plural}: nothing to check.",
            rule_source="none",
            **details,
        )
    details |= {"rule_source": level_rule.source, "rule_version": level_rule.version}
    if level_rule.compiled is None:
        return Outcome.error(
            f"The naming rule for {plural} is broken, so names could not be checked: ask an "
            "ops lead to fix it on the naming rules page.",
            problems=list(level_rule.problems),
            **details,
        )
    compiled = level_rule.compiled
    verdicts: dict[str, Any] = {}  # one validation per distinct name
    failing: list[dict[str, Any]] = []
    for path, name in entries:
        if not name.strip():
            failing.append(
                {
                    "path": path,
                    "name": name,
                    "errors": [f"The {singular} is empty."],
                    "suggestion": None,
                }
            )
            continue
        if name not in verdicts:
            verdicts[name] = compiled.validate(name)
        result = verdicts[name]
        if not result.valid:
            failing.append(
                {
                    "path": path,
                    "name": name,
                    "errors": [error.message for error in result.errors]
                    or ["Does not match the rule."],
                    "suggestion": result.corrected,
                }
            )
    if not failing:
        if not entries:
            message = f"There are no {plural} to check yet."
        elif len(entries) == 1:
            message = f"The {singular} matches the naming rule."
        else:
            message = f"All {len(entries)} {plural} match the naming rule."
        return Outcome.passed(message, failing=[], **details)
    first = failing[0]
    shown = f"“{first['name']}”" if first["name"].strip() else f"an empty {singular}"
    hint = f" (try “{first['suggestion']}”)" if first["suggestion"] else ""
    why = first["errors"][0].rstrip(".")
    if len(failing) == 1:
        message = f"The {singular} {shown} does not match the naming rule: {why}{hint}. Rename it."
    else:
        message = (
            f"{len(failing)} {plural} do not match the naming rule, first {shown}: "
            f"{why}{hint}. Rename them (each is listed with what is wrong)."
        )
    return Outcome.fail(
        message,
        failing=failing[:MAX_LISTED],
        more=max(0, len(failing) - MAX_LISTED),
        **details,
    )


@check(
    "naming.campaign",
    "The campaign name matches the naming rule",
    severity=Severity.BLOCKING,
    description=(
        "The campaign name against the brand's naming rule for campaigns (its own, or the "
        "install default). Fix: rename the campaign; the suggestion shows a corrected name."
    ),
)
def naming_campaign(ctx: CheckContext) -> Outcome:
    return _check_level(ctx, "campaign", _campaign)


@check(
    "naming.ad_sets",
    "Every ad set name matches the naming rule",
    severity=Severity.BLOCKING,
    description=(
        "Each ad set's name against the brand's naming rule for ad sets. Fix: rename the "
        "ad sets listed."
    ),
)
def naming_ad_sets(ctx: CheckContext) -> Outcome:
    return _check_level(ctx, "adset", _ad_sets)


@check(
    "naming.ads",
    "Every ad name matches the naming rule",
    severity=Severity.BLOCKING,
    description=(
        "Each ad's name against the brand's naming rule for ads. Fix: rename the ads listed."
    ),
)
def naming_ads(ctx: CheckContext) -> Outcome:
    return _check_level(ctx, "ad", _ads)


@check(
    "naming.utm_campaign",
    "Every ad's UTM campaign matches the naming rule",
    severity=Severity.BLOCKING,
    description=(
        "Each ad's utm_campaign against the brand's naming rule for UTM campaigns; an empty "
        "one fails when a rule applies. Fix: fill in or correct the UTM campaign of the "
        "ads listed."
    ),
)
def naming_utm_campaign(ctx: CheckContext) -> Outcome:
    return _check_level(ctx, "utm_campaign", _utm_campaigns)
