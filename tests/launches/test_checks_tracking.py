"""The tracking-plan and event-quality checks: the optimization event active and mapped
with its required parameters; received, EMQ and dedup on the pixel."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import timezone

from koastops.launches.models import Launch
from koastops.quality import selectors as quality_selectors
from koastops.taxonomy.models import EventDefinition, EventMapping
from tests.factories import (
    EventDefinitionFactory,
    EventQualityFactory,
    HourlyStatFactory,
    LaunchFactory,
    QualitySettingsFactory,
    _hour,
)
from tests.launches.checks_support import run

pytestmark = pytest.mark.django_db

CONTENT = {
    "parameters": [
        {"name": "value", "type": "number", "required": True},
        {"name": "currency", "type": "currency", "required": True},
        {"name": "content_ids", "type": "list"},
    ],
    "mappings": [
        {"platform": "meta", "target": "Purchase", "parameters": ["value", "currency"]},
    ],
}


def _launch(*, sources: str = "browser", status: str = "active", content=None) -> Launch:
    launch = LaunchFactory()
    event = EventDefinitionFactory(
        brand=launch.brand,
        name="OrderPlaced",
        status=status,
        sources=sources,
        content=content if content is not None else CONTENT,
    )
    Launch.objects.filter(pk=launch.pk).update(optimization_event=event)
    launch.optimization_event = event
    return launch


# --- tracking.event ------------------------------------------------------------------------


def test_active_event_mapped_with_its_required_parameters_passes() -> None:
    outcome = run("tracking.event", _launch())
    assert outcome.status == "pass"
    assert outcome.message == (
        "OrderPlaced is active and mapped on Meta as Purchase with its required parameters "
        "(value, currency)."
    )
    assert outcome.details["missing_parameters"] == []


def test_a_required_parameter_the_mapping_does_not_send_fails() -> None:
    content = CONTENT | {
        "mappings": [{"platform": "meta", "target": "Purchase", "parameters": ["value"]}]
    }
    outcome = run("tracking.event", _launch(content=content))
    assert outcome.status == "fail"
    assert outcome.message == (
        "The Meta mapping of OrderPlaced (→ Purchase) does not send the required parameter "
        "currency: ask an ops lead to add them to the mapping in the tracking plan."
    )
    assert outcome.details["missing_parameters"] == ["currency"]


def test_event_not_mapped_on_the_launch_platform_fails() -> None:
    content = CONTENT | {"mappings": [{"platform": "google", "target": "purchase_conv"}]}
    outcome = run("tracking.event", _launch(content=content))
    assert outcome.status == "fail"
    assert outcome.message.startswith("The event OrderPlaced is not mapped on Meta")


@pytest.mark.parametrize(("status", "words"), [("deprecated", "deprecated"), ("draft", "draft")])
def test_deprecated_or_draft_event_fails(status: str, words: str) -> None:
    outcome = run("tracking.event", _launch(status=status))
    assert outcome.status == "fail"
    assert f"The event OrderPlaced is {'still a ' if status == 'draft' else ''}{words}" in (
        outcome.message
    )


def test_unreadable_event_content_is_an_error() -> None:
    launch = _launch()
    EventDefinition.objects.filter(pk=launch.optimization_event_id).update(
        content={"name": "OrderPlaced", "parameters": "nope"}
    )
    outcome = run("tracking.event", launch)
    assert outcome.status == "error"
    assert "cannot be read" in outcome.message and outcome.details["problems"]


# --- quality.received ----------------------------------------------------------------------


def test_event_received_in_the_last_7_days_passes_and_none_fails() -> None:
    launch = _launch()
    outcome = run("quality.received", launch)
    assert outcome.status == "fail"
    assert outcome.message.startswith(
        f"The pixel {launch.pixel.name} received no Purchase events in the last 7 days"
    )
    old = timezone.now() - timezone.timedelta(days=8)
    HourlyStatFactory(pixel=launch.pixel, event="Purchase", hour=old, count=99)
    HourlyStatFactory(pixel=launch.pixel, event="Lead", count=99, hour=_hour(2))  # another event
    HourlyStatFactory(
        pixel=launch.pixel, event="Purchase", source="browser", count=99, hour=_hour(2)
    )
    assert run("quality.received", launch).status == "fail"
    HourlyStatFactory(pixel=launch.pixel, event="Purchase", count=1200, hour=_hour(3))
    HourlyStatFactory(pixel=launch.pixel, event="Purchase", count=34, hour=_hour(4))
    outcome = run("quality.received", launch)
    assert outcome.status == "pass"
    assert outcome.details["received_7d"] == 1234
    assert "received 1,234 Purchase events" in outcome.message


def test_event_without_a_meta_mapping_cannot_be_looked_up() -> None:
    launch = _launch()
    EventMapping.objects.filter(event_id=launch.optimization_event_id).delete()
    for key in ("quality.received", "quality.emq"):
        outcome = run(key, launch)
        assert outcome.status == "fail"
        assert "has no Meta mapping" in outcome.message


def test_quality_received_error_when_stats_cannot_be_read(monkeypatch) -> None:
    from koastops.quality.models import HourlyStat

    launch = _launch()

    def broken(*args, **kwargs):
        raise RuntimeError("partition missing")

    monkeypatch.setattr(HourlyStat.objects, "filter", broken)
    outcome = run("quality.received", launch)
    assert outcome.status == "error" and "could not run" in outcome.message


# --- quality.emq ---------------------------------------------------------------------------


def test_emq_at_or_above_the_brand_threshold_passes() -> None:
    launch = _launch()
    QualitySettingsFactory(brand=launch.brand, emq_threshold=Decimal("7.0"))
    EventQualityFactory(pixel=launch.pixel, event="Purchase", emq=Decimal("7.0"))
    outcome = run("quality.emq", launch)
    assert outcome.status == "pass"
    assert outcome.message == "The match quality of Purchase is 7 (threshold 7)."


def test_latest_emq_below_the_threshold_fails() -> None:
    launch = _launch()
    now = timezone.now()
    EventQualityFactory(
        pixel=launch.pixel,
        event="Purchase",
        emq=Decimal("8.1"),
        pulled_at=now - timezone.timedelta(days=1),
    )
    EventQualityFactory(pixel=launch.pixel, event="Purchase", emq=Decimal("4.5"), pulled_at=now)
    outcome = run("quality.emq", launch)
    assert outcome.status == "fail"
    assert outcome.message.startswith(
        f"The match quality of Purchase on the pixel {launch.pixel.name} is 4.5, below the "
        "brand's threshold of 6"
    )
    assert outcome.details["emq"] == "4.5" and outcome.details["threshold"] == "6"


def test_no_quality_report_fails_saying_to_pull_stats() -> None:
    launch = _launch()
    outcome = run("quality.emq", launch)
    assert outcome.status == "fail"
    assert "no quality report for Purchase" in outcome.message
    assert "“Refresh now” on the pixel's quality page" in outcome.message


def test_emq_error_when_the_settings_cannot_be_read(monkeypatch) -> None:
    launch = _launch()

    def broken(*args, **kwargs):
        raise RuntimeError("db gone")

    monkeypatch.setattr(quality_selectors, "settings_for", broken)
    outcome = run("quality.emq", launch)
    assert outcome.status == "error" and "could not run" in outcome.message


# --- quality.dedup -------------------------------------------------------------------------


def test_browser_only_event_is_not_applicable() -> None:
    outcome = run("quality.dedup", _launch(sources="browser"))
    assert outcome.status == "pass"
    assert outcome.message == "Not applicable: OrderPlaced is sent from the browser only."


@pytest.mark.parametrize("sources", ["server", "both"])
def test_server_event_dedup_against_the_threshold(sources: str) -> None:
    launch = _launch(sources=sources)
    QualitySettingsFactory(brand=launch.brand, dedup_threshold=Decimal("80"))
    EventQualityFactory(pixel=launch.pixel, event="Purchase", dedup_coverage=Decimal("62.5"))
    outcome = run("quality.dedup", launch)
    assert outcome.status == "fail"
    assert outcome.message.startswith(
        f"Only 62.5% of Purchase events on the pixel {launch.pixel.name} are deduplicated, "
        "below the brand's threshold of 80%"
    )
    EventQualityFactory(
        pixel=launch.pixel,
        event="Purchase",
        dedup_coverage=Decimal("91"),
        pulled_at=timezone.now() + timezone.timedelta(minutes=1),
    )
    outcome = run("quality.dedup", launch)
    assert outcome.status == "pass"
    assert outcome.message == "91% of Purchase events are deduplicated (threshold 80%)."


def test_server_event_without_report_or_coverage_fails() -> None:
    launch = _launch(sources="both")
    outcome = run("quality.dedup", launch)
    assert outcome.status == "fail" and "no quality report" in outcome.message
    EventQualityFactory(pixel=launch.pixel, event="Purchase", dedup_coverage=None)
    outcome = run("quality.dedup", launch)
    assert outcome.status == "fail"
    assert "no deduplication coverage" in outcome.message and "event_id" in outcome.message


def test_dedup_error_when_reports_cannot_be_read(monkeypatch) -> None:
    from koastops.quality.models import EventQuality

    launch = _launch(sources="server")

    def broken(*args, **kwargs):
        raise RuntimeError("db gone")

    monkeypatch.setattr(EventQuality.objects, "filter", broken)
    outcome = run("quality.dedup", launch)
    assert outcome.status == "error" and "could not run" in outcome.message
