"""Helpers for the checklist tests: run one check through the registry on a launch loaded
as the runner loads it, count its queries, and grow a launch to many ads."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from koastops.launches import selectors
from koastops.launches.checks import registry
from koastops.launches.models import Ad, AdSet, Launch


def load(launch: Launch) -> Launch:
    return selectors.with_structure(Launch.objects.filter(pk=launch.pk)).get()


def context(launch: Launch, *, run_as: Any = "creator", now: dt.datetime | None = None):
    loaded = load(launch)
    user = loaded.created_by if run_as == "creator" else run_as
    return registry.CheckContext(launch=loaded, run_as=user, now=now or timezone.now())


def run(key: str, launch: Launch, **kwargs: Any) -> registry.Outcome:
    return registry.evaluate(registry.get(key), context(launch, **kwargs))


def queries(key: str, launch: Launch, **kwargs: Any) -> tuple[int, registry.Outcome]:
    """How many queries the check itself makes (the launch is loaded before counting)."""
    ctx = context(launch, **kwargs)
    with CaptureQueriesContext(connection) as captured:
        outcome = registry.evaluate(registry.get(key), ctx)
    return len(captured.captured_queries), outcome


def grow(launch: Launch, ads: int, **ad_fields: Any) -> Launch:
    """Give the launch ``ads`` ads in all, over ad sets of 10 (the first ad set reused)."""
    first = AdSet.objects.filter(launch=launch).order_by("position").first()
    have = Ad.objects.filter(launch=launch).count()
    sets = [first] if first is not None else []
    template = Ad.objects.filter(launch=launch).first()
    defaults = {
        "landing_url": template.landing_url if template else "https://shop.example/landing",
        "utm_source": "facebook",
        "utm_medium": "paid_social",
        "utm_campaign": template.utm_campaign if template else launch.campaign_name,
    }
    defaults |= ad_fields
    rows = []
    for index in range(have, ads):
        set_index = index // 10
        while len(sets) <= set_index:
            sets.append(
                AdSet.objects.create(
                    launch=launch,
                    position=len(sets),
                    name=f"Ad set {len(sets)}",
                    market=sets[0].market if sets else launch.markets.first(),
                )
            )
        rows.append(
            Ad(
                ad_set=sets[set_index],
                launch=launch,
                position=index % 10 + (1 if set_index == 0 and first is not None else 0),
                name=f"Ad {index + 1}",
                **defaults,
            )
        )
    Ad.objects.bulk_create(rows)
    return launch
