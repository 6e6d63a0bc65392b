"""The tracking plan's and the naming rules' part of ``manage.py bench``.

- ``seed_bench_drift``: on the measured brand, the rules and events that give the drift
  page something to show (a clash, a Purchase without currency, a name the event-name
  rule refuses), topped up to ``BENCH_PLAN_EVENTS`` events so the page is measured with a
  plan of realistic size; written straight to the tables like the rest of the dataset.
- ``measure_naming``: the naming engine's throughput (names per second of one core,
  ``koastops.taxonomy.naming.bench.throughput``; target ``ENGINE_TARGET``) and the time of
  ``POST /api/v1/brands/{slug}/naming/validate`` with 10,000 names end to end through the
  test client with an API token (median of ``runs``; target ``API_TARGET_MS``).
- ``naming_markdown``: their section of docs/benchmarks.md, each number beside its target.
"""

from __future__ import annotations

import json
import statistics
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.test import Client, override_settings
from django.urls import Resolver404, resolve

from koastops.catalog.models import Brand

BENCH_PLAN_EVENTS = 50
BENCH_VALIDATE_NAMES = 10_000
ENGINE_TARGET = 50_000  # names/s, one core
API_TARGET_MS = 1000.0  # 10,000 names, end to end

EVENT_NAME_RULE: dict[str, Any] = {
    "template": "{event}",
    "case": "any",
    "max_length": 40,
    "tokens": {"event": {"kind": "free", "min_length": 3, "max_length": 40, "charset": "alnum"}},
}


def _meta(target: str, *params: str, custom: bool = False) -> dict[str, Any]:
    return {"platform": "meta", "target": target, "custom": custom, "parameters": list(params)}


_VALUE_CURRENCY = [
    {"name": "value", "type": "number", "required": True},
    {"name": "currency", "type": "currency", "required": True},
]
# The events that drift, whatever else the brand's plan holds.
DRIFT_EVENTS: list[dict[str, Any]] = [
    {"name": "BenchLead", "status": "active", "mappings": [_meta("Lead")]},
    {"name": "BenchFormComplete", "status": "active", "mappings": [_meta("Lead")]},
    {
        "name": "BenchPurchase",
        "status": "active",
        "parameters": _VALUE_CURRENCY,
        "mappings": [_meta("Purchase", "value")],
    },
    {"name": "bench_bad_name", "status": "draft"},
]


def _filler(n: int) -> dict[str, Any]:
    return {
        "name": f"BenchPlan{n:03d}",
        "display_name": f"Bench plan event {n:03d}",
        "owner": "Bench team",
        "status": "active",
        "parameters": _VALUE_CURRENCY,
        "mappings": [_meta(f"BenchPlan{n:03d}", "value", "currency", custom=True)],
    }


def write_bench_events(brand: Brand, contents: list[Any]) -> None:
    """Write event definitions straight to the tables (row, mapping rows, first revision),
    as the rest of the bench dataset is: the bench times reads, not the services. Events
    the brand already has (by name) are left alone."""
    from koastops.taxonomy.models import EventDefinition, EventMapping, EventRevision

    EventDefinition.objects.bulk_create(
        [
            EventDefinition(
                brand=brand,
                name=c.name,
                display_name=c.display_name,
                owner=c.owner,
                status=c.status,
                sources=c.sources,
                content=c.to_dict(),
            )
            for c in contents
        ],
        ignore_conflicts=True,
    )
    ids = dict(
        EventDefinition.objects.filter(
            brand=brand, name__in=[c.name for c in contents]
        ).values_list("name", "pk")
    )
    EventMapping.objects.bulk_create(
        [
            EventMapping(
                event_id=ids[c.name],
                brand=brand,
                platform=m.platform,
                target=m.target,
                custom=m.custom,
            )
            for c in contents
            for m in c.mappings
        ],
        ignore_conflicts=True,
    )
    EventRevision.objects.bulk_create(
        [
            EventRevision(
                event_id=ids[c.name],
                version=1,
                content=c.to_dict(),
                actor_label="bench",
                note="created",
            )
            for c in contents
        ],
        ignore_conflicts=True,
    )


@transaction.atomic
def seed_bench_drift(*, slug: str, events: int = BENCH_PLAN_EVENTS) -> dict[str, int]:
    """The measured brand's event-name and campaign rules and its drifting events, then
    filler events until the plan has ``events``. Idempotent; returns what is present."""
    from koastops.taxonomy.content import parse_event
    from koastops.taxonomy.models import EventDefinition, NamingRule
    from koastops.taxonomy.naming.bench import RULE

    brand = Brand.objects.get(slug=slug)
    for level, spec in (("event_name", EVENT_NAME_RULE), ("campaign", RULE)):
        NamingRule.objects.get_or_create(brand=brand, level=level, defaults={"spec": spec})
    have = {
        n.lower()
        for n in EventDefinition.objects.filter(brand=brand).values_list("name", flat=True)
    }
    wanted = [content for content in DRIFT_EVENTS if content["name"].lower() not in have]
    n = 0
    while len(have) + len(wanted) < events:
        if f"benchplan{n:03d}" not in have:
            wanted.append(_filler(n))
        n += 1
    write_bench_events(brand, [parse_event(data) for data in wanted])
    return {
        f"events ({slug})": EventDefinition.objects.filter(brand=brand).count(),
        f"naming rules ({slug})": NamingRule.objects.filter(brand=brand).count(),
    }


# --- the naming measurements ------------------------------------------------------------------


@dataclass(frozen=True)
class NamingResult:
    label: str
    value: float | None  # None: not measured (``note`` says why)
    unit: str
    target: str
    met: bool | None
    note: str = ""
    status: int = 200


def validate_path(slug: str) -> str:
    return f"/api/v1/brands/{slug}/naming/validate"


def validate_installed(slug: str) -> bool:
    """Whether the validate endpoint exists (the API answers any unknown path with its
    catch-all ``not-found`` view)."""
    try:
        match = resolve(validate_path(slug))
    except Resolver404:
        return False
    return match.url_name != "not-found"


def measure_naming(
    *, slug: str, api_token: str, runs: int = 5, engine_names: int = 100_000
) -> list[NamingResult]:
    """The engine's throughput and the validate endpoint's time for 10,000 names."""
    from koastops.taxonomy.naming import bench as engine_bench

    rate = engine_bench.throughput(engine_names)
    results = [
        NamingResult(
            "naming engine throughput (one core)",
            rate,
            "names/s",
            f"≥ {ENGINE_TARGET:,}",
            rate >= ENGINE_TARGET,
        )
    ]
    label = f"API: validate {BENCH_VALIDATE_NAMES:,} names, end to end"
    path = validate_path(slug)
    if not validate_installed(slug):
        results.append(
            NamingResult(
                label,
                None,
                "ms",
                f"< {API_TARGET_MS:,.0f} ms",
                None,
                note="not measured: the validate endpoint is not installed in this build",
                status=404,
            )
        )
        return results
    names = engine_bench.sample_names(BENCH_VALIDATE_NAMES)
    body = json.dumps({"level": "campaign", "names": names})
    client = Client(raise_request_exception=False)
    auth: dict[str, Any] = {"HTTP_AUTHORIZATION": f"Bearer {api_token}"}

    def post() -> Any:
        # As the page runs do: production settings know no "testserver" host.
        with override_settings(ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, "testserver"]):
            return client.post(path, body, content_type="application/json", secure=True, **auth)

    response = post()  # warm-up: the rule compiles once per process
    timings = []
    for _ in range(max(runs, 1)):
        started = time.perf_counter()
        response = post()
        timings.append((time.perf_counter() - started) * 1000)
    median = statistics.median(timings)
    ok = response.status_code == 200
    if ok:
        count = len(json.loads(response.content)["results"])
        ok = count == BENCH_VALIDATE_NAMES
    results.append(
        NamingResult(
            label,
            median,
            "ms",
            f"< {API_TARGET_MS:,.0f} ms",
            ok and median < API_TARGET_MS,
            note=f"median of {len(timings)} requests",
            status=response.status_code,
        )
    )
    return results


def naming_problems(results: list[NamingResult]) -> list[NamingResult]:
    """Measurements that answered with an error (a missing endpoint is reported, not one)."""
    return [r for r in results if r.value is not None and r.status != 200]


def naming_markdown(results: list[NamingResult]) -> list[str]:
    lines = [
        "## Naming rules",
        "",
        "The naming engine validates a deterministic mix of names (about 80 % valid) against",
        "a five-token campaign rule, timed in this process's CPU time (one core). The API row",
        "posts 10,000 names of the same mix to the validate endpoint through the test client",
        "with an API token, as a bulk sheet would (request parsing, the engine, the JSON",
        "answer); the measured brand holds that rule as its campaign rule.",
        "",
        "| measure | result | target | met | note |",
        "|---|---:|---:|---|---|",
    ]
    for r in results:
        if r.value is None:
            shown = "—"
        elif r.unit == "names/s":
            shown = f"{r.value:,.0f} names/s"
        else:
            shown = f"{r.value:,.1f} ms"
        if r.status != 200 and r.value is not None:
            shown += f" (**{r.status}**)"
        met = "—" if r.met is None else ("yes" if r.met else "**no**")
        lines.append(f"| {r.label} | {shown} | {r.target} | {met} | {r.note} |")
    return lines
