"""The pixel: linked to the launch's ad account, its connection healthy, firing."""

from __future__ import annotations

import datetime as dt
from typing import Any

from koastops.launches.checks.registry import CheckContext, Outcome, check
from koastops.launches.models import Severity
from koastops.quality.models import ConnectionStatus, PixelConnection

SILENT_AFTER = dt.timedelta(hours=24)


@check(
    "pixel.linked",
    "The pixel is linked to the ad account",
    severity=Severity.BLOCKING,
    description=(
        "The launch's pixel is one of the pixels linked to its ad account in the catalogue "
        "(and not archived). Fix: pick a pixel linked to the account, or ask an ops lead to "
        "link it on the pixel's catalogue page."
    ),
)
def pixel_linked(ctx: CheckContext) -> Outcome:
    launch = ctx.launch
    pixel, account = launch.pixel, launch.ad_account
    details = {"pixel": pixel.name, "pixel_id": pixel.external_id, "ad_account": account.name}
    if pixel.status == "archived":
        return Outcome.fail(f"The pixel {pixel.name} is archived: pick an active pixel.", **details)
    if not pixel.ad_accounts.filter(pk=account.pk).exists():
        return Outcome.fail(
            f"The pixel {pixel.name} is not linked to the ad account {account.name}: pick a "
            "pixel linked to the account, or ask an ops lead to link it in the catalogue.",
            **details,
        )
    return Outcome.passed(
        f"The pixel {pixel.name} is linked to the ad account {account.name}.", **details
    )


def _hours(delta: dt.timedelta) -> str:
    hours = int(delta.total_seconds() // 3600)
    if hours >= 48:
        return f"{hours // 24} days"
    return "1 hour" if hours == 1 else f"{hours} hours"


@check(
    "pixel.healthy",
    "The pixel's connection is healthy and it fired within 24 h",
    severity=Severity.BLOCKING,
    description=(
        "The pixel's connection to the platform is working (last pull succeeded) and the "
        "pixel fired in the last 24 hours. Fix: reconnect the pixel (a new access token) "
        "from its quality page, or check the tag on the site if it stopped firing."
    ),
)
def pixel_healthy(ctx: CheckContext) -> Outcome:
    pixel = ctx.launch.pixel
    connection = PixelConnection.objects.filter(pixel_id=pixel.pk).first()
    details: dict[str, Any] = {"pixel": pixel.name, "pixel_id": pixel.external_id}
    if connection is None:
        return Outcome.fail(
            f"The pixel {pixel.name} is not connected yet: add its access token and pull its "
            "stats (“Refresh now” on the pixel's quality page).",
            status=None,
            **details,
        )
    fired = connection.last_fired_at or pixel.last_fired_at
    details |= {
        "status": connection.status,
        "status_label": connection.get_status_display(),
        "connection_message": connection.message,
        "last_fired_at": fired.isoformat() if fired else None,
    }
    if connection.status == ConnectionStatus.BROKEN:
        why = f" ({connection.message})" if connection.message else ""
        return Outcome.fail(
            f"The pixel {pixel.name}'s connection is broken{why}: reconnect it with a new "
            "access token on the pixel's page.",
            **details,
        )
    if connection.status == ConnectionStatus.ERROR:
        why = f" ({connection.message})" if connection.message else ""
        return Outcome.fail(
            f"The last stats pull of the pixel {pixel.name} failed{why}: fix the connection "
            "and press “Refresh now” on the pixel's page.",
            **details,
        )
    if connection.status == ConnectionStatus.UNKNOWN:
        return Outcome.fail(
            f"The pixel {pixel.name}'s stats were never pulled: press “Refresh now” on the "
            "pixel's page.",
            **details,
        )
    if fired is None:
        return Outcome.fail(
            f"The pixel {pixel.name} has never fired: install it on the site (check the tag "
            "on the landing pages).",
            **details,
        )
    silent = ctx.now - fired
    if silent > SILENT_AFTER:
        return Outcome.fail(
            f"The pixel {pixel.name} has not fired for {_hours(silent)}: check the tag on the "
            "site and the pixel's recent events.",
            **details,
        )
    if connection.status == ConnectionStatus.RATE_LIMITED:
        return Outcome.warn(
            f"The pixel {pixel.name} fired recently, but the platform is rate-limiting its "
            "stats pulls: the figures may be a little old.",
            **details,
        )
    return Outcome.passed(
        f"The pixel {pixel.name}'s connection is healthy and it fired {_ago(silent)} ago.",
        **details,
    )


def _ago(delta: dt.timedelta) -> str:
    minutes = max(0, int(delta.total_seconds() // 60))
    if minutes < 60:
        return f"{minutes} min"
    return _hours(delta)
