"""The optimization event in the tracking plan: active, and mapped on the launch's
platform with its required parameters.

"Mapped with its required parameters" means: the event's content has a mapping for the
launch's ad account platform (and the ``EventMapping`` row the services write from it
exists), and every parameter the content declares ``required`` is among the parameters
that mapping sends to the platform (``mappings[].parameters``). A required parameter the
mapping does not send would reach the platform without it.
"""

from __future__ import annotations

from typing import Any

from koastops.catalog.models import Platform
from koastops.launches.checks.registry import CheckContext, Outcome, check
from koastops.launches.models import Severity
from koastops.taxonomy.content import ContentError, parse_event
from koastops.taxonomy.models import EventMapping, EventStatus


def event_mappings(ctx: CheckContext) -> dict[str, EventMapping]:
    """The optimization event's mapping rows by platform (one query, once per run)."""
    event_id = ctx.launch.optimization_event_id
    return ctx.memo(
        "tracking.mappings",
        lambda: {m.platform: m for m in EventMapping.objects.filter(event_id=event_id)},
    )


@check(
    "tracking.event",
    "The optimization event is active and mapped on the platform",
    severity=Severity.BLOCKING,
    description=(
        "The launch's optimization event is active in the brand's tracking plan (not a draft, "
        "not deprecated), has a mapping for the ad account's platform, and that mapping "
        "sends every parameter the event declares required. Fix: pick another event, or ask "
        "an ops lead to activate the event or complete its mapping in the tracking plan."
    ),
)
def tracking_event(ctx: CheckContext) -> Outcome:
    launch = ctx.launch
    event = launch.optimization_event
    platform = launch.ad_account.platform
    platform_label = Platform(platform).label if platform in Platform.values else platform
    details: dict[str, Any] = {"event": event.name, "status": event.status, "platform": platform}
    if event.brand_id != launch.brand_id:
        return Outcome.fail(
            f"The event {event.name} is not in this brand's tracking plan: pick one of the "
            "brand's events.",
            **details,
        )
    if event.status == EventStatus.DEPRECATED:
        return Outcome.fail(
            f"The event {event.name} is deprecated in the tracking plan: pick an active "
            "event as the optimization event.",
            **details,
        )
    if event.status != EventStatus.ACTIVE:
        return Outcome.fail(
            f"The event {event.name} is still a draft in the tracking plan: ask an ops lead "
            "to activate it, or pick an active event.",
            **details,
        )
    try:
        content = parse_event(event.content)
    except ContentError as exc:
        return Outcome.error(
            f"The tracking plan's definition of {event.name} cannot be read: ask an ops lead "
            "to open the event in the tracking plan and save it again.",
            problems=[f"{path}: {message}" for path, message in exc.errors][:20],
            **details,
        )
    mapping = content.mapping(platform)
    row = event_mappings(ctx).get(platform)
    if mapping is None or row is None:
        return Outcome.fail(
            f"The event {event.name} is not mapped on {platform_label}: ask an ops lead to "
            f"add a {platform_label} mapping to it in the tracking plan.",
            **details,
        )
    required = [p.name for p in content.parameters if p.required]
    missing = [name for name in required if name not in mapping.parameters]
    details |= {
        "target": mapping.target,
        "custom": mapping.custom,
        "required_parameters": required,
        "sent_parameters": list(mapping.parameters),
        "missing_parameters": missing,
    }
    if missing:
        listed = ", ".join(missing)
        return Outcome.fail(
            f"The {platform_label} mapping of {event.name} (→ {mapping.target}) does not send "
            f"the required parameter{'s' if len(missing) > 1 else ''} {listed}: ask an ops "
            "lead to add them to the mapping in the tracking plan.",
            **details,
        )
    return Outcome.passed(
        f"{event.name} is active and mapped on {platform_label} as {mapping.target}"
        + (f" with its required parameters ({', '.join(required)})." if required else "."),
        **details,
    )
