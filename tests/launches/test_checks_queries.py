"""The whole checklist on a launch prepared to pass every check: the registry's keys and
order, every check passing, and each check's query count the same for 1 and 50 ads."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.utils import timezone

from koastops.accounts import policies
from koastops.accounts.models import Role
from koastops.launches.checks import registry
from koastops.launches.models import Ad, AdSet, Launch
from koastops.quality.models import PixelConnection
from koastops.taxonomy import rules as taxonomy_rules
from tests.factories import (
    BudgetLimitFactory,
    ConsentConfigFactory,
    ConsentSignOffFactory,
    EventDefinitionFactory,
    EventQualityFactory,
    HourlyStatFactory,
    LaunchFactory,
    NamingRuleFactory,
    PixelConnectionFactory,
    _hour,
    market,
)
from tests.launches.checks_support import grow, queries

pytestmark = pytest.mark.django_db

KEYS = [
    "submitter.allowed",
    "naming.campaign",
    "naming.ad_sets",
    "naming.ads",
    "naming.utm_campaign",
    "tracking.event",
    "pixel.linked",
    "pixel.healthy",
    "quality.received",
    "quality.emq",
    "quality.dedup",
    "consent.signed_off",
    "landing.reachable",
    "budget.within_limits",
    "schedule.valid",
]
GOOD = "de_conv_202612_spring"


@pytest.fixture(autouse=True)
def _setup(settings):
    settings.LAUNCH_DEMO_LANDING_PAGES = True
    taxonomy_rules.cache_clear()


def _ready(ads: int) -> Launch:
    launch = LaunchFactory(campaign_name=GOOD)
    policies.grant_role(launch.created_by, launch.brand, Role.MEDIA_BUYER)
    event = EventDefinitionFactory(
        brand=launch.brand,
        name="OrderPlaced",
        sources="both",
        content={
            "parameters": [{"name": "value", "type": "number", "required": True}],
            "mappings": [{"platform": "meta", "target": "Purchase", "parameters": ["value"]}],
        },
    )
    Launch.objects.filter(pk=launch.pk).update(optimization_event=event)
    for level in ("campaign", "adset", "ad", "utm_campaign"):
        NamingRuleFactory(brand=launch.brand, level=level)
    grow(launch, ads)
    AdSet.objects.filter(launch=launch).update(name=GOOD)
    for index, ad in enumerate(Ad.objects.filter(launch=launch).order_by("pk")):
        Ad.objects.filter(pk=ad.pk).update(
            name=f"de_conv_202612_ad{index}",
            utm_campaign=GOOD,
            landing_url=f"https://shop.example/p/{index % 12}",
        )
    connection = PixelConnectionFactory(pixel=launch.pixel)
    PixelConnection.objects.filter(pk=connection.pk).update(
        status="ok", last_fired_at=timezone.now()
    )
    HourlyStatFactory(pixel=launch.pixel, event="Purchase", count=500, hour=_hour(2))
    EventQualityFactory(pixel=launch.pixel, event="Purchase", emq=Decimal("8"))
    ConsentSignOffFactory(config=ConsentConfigFactory(brand=launch.brand, market=market("DE")))
    BudgetLimitFactory(ad_account=launch.ad_account)
    return launch


def test_registry_holds_every_check_in_checklist_order() -> None:
    checks = registry.all_checks()
    assert [entry.key for entry in checks] == KEYS
    assert all(entry.severity == "blocking" for entry in checks)
    assert all(entry.title and entry.description for entry in checks)


def test_a_prepared_launch_passes_every_check() -> None:
    launch = _ready(3)
    for key in KEYS:
        _count, outcome = queries(key, launch)
        assert outcome.status == "pass", (key, outcome.message)
        json.dumps(outcome.details)  # stored in a JSONField: plain JSON only


def test_a_bare_launch_gets_an_actionable_answer_from_every_check(settings) -> None:
    """The factory's launch with nothing set up around it: no check crashes, every
    details document is plain JSON, and the failures are the expected ones."""
    settings.LAUNCH_DEMO_LANDING_PAGES = False
    launch = LaunchFactory()
    Ad.objects.filter(launch=launch).update(landing_url="https://shop.example/landing")
    statuses = {}
    for key in KEYS:
        _count, outcome = queries(key, launch)
        json.dumps(outcome.details)
        assert outcome.message
        statuses[key] = outcome.status
    assert statuses == {
        "submitter.allowed": "fail",  # the creator holds no role on the brand
        "naming.campaign": "pass",  # no rules
        "naming.ad_sets": "pass",
        "naming.ads": "pass",
        "naming.utm_campaign": "pass",
        "tracking.event": "fail",  # not mapped on Meta
        "pixel.linked": "pass",
        "pixel.healthy": "fail",  # not connected
        "quality.received": "fail",
        "quality.emq": "fail",
        "quality.dedup": "pass",  # browser only
        "consent.signed_off": "fail",  # DE not configured
        "landing.reachable": "fail",  # .example does not resolve with demo pages off
        "budget.within_limits": "pass",
        "schedule.valid": "pass",
    }


@pytest.mark.parametrize("key", KEYS)
def test_query_count_does_not_grow_with_the_ads(key: str) -> None:
    one = _ready(1)
    many = _ready(50)
    assert Ad.objects.filter(launch=many).count() == 50
    count_one, outcome_one = queries(key, one)
    count_many, outcome_many = queries(key, many)
    assert outcome_one.status == outcome_many.status == "pass", outcome_many.message
    assert count_one == count_many, (count_one, count_many)
    assert count_many <= 5


def test_submit_and_run_inline_store_every_result_on_a_50_ad_launch() -> None:
    """Through the services and the inline runner: every result row written, passing, with
    its details stored as JSON; the launch moves on to review."""
    from koastops.launches import runner, services
    from koastops.launches.models import CheckResult

    launch = _ready(50)
    run_ = services.launch_submit(user=launch.created_by, launch=launch, expected_version=1)
    runner.run_inline(run_.pk)
    results = list(CheckResult.objects.filter(run=run_).order_by("position"))
    assert [r.key for r in results] == KEYS
    assert {r.key: r.status for r in results} == dict.fromkeys(KEYS, "pass")
    landing_row = next(r for r in results if r.key == "landing.reachable")
    assert len(landing_row.details["urls"]) == 12 and landing_row.details["urls"][0]["demo"]
    launch.refresh_from_db()
    assert launch.state == "in_review"
