"""Alert evaluation: each rule kind opens once, stays open (no second alert, no second
notification), resolves when its condition clears; races open one alert."""

from __future__ import annotations

import functools
from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.core import mail
from django.utils import timezone

from koastops.accounts import policies
from koastops.accounts.models import Role
from koastops.activity.models import ActivityEntry
from koastops.notifications.models import Notification
from koastops.quality import alerting, tasks_alerts
from koastops.quality.models import Alert, AlertRule, HourlyStat, PixelConnection
from tests.catalog.test_races import postgresql_only, race  # noqa: F401 (fixture)
from tests.factories import (
    AlertRuleFactory,
    BrandFactory,
    EventDefinitionFactory,
    EventMappingFactory,
    EventQualityFactory,
    PixelConnectionFactory,
    PixelFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def plan(brand):
    """The brand's key event: an active plan event mapped to Meta's Purchase."""
    event = EventDefinitionFactory(brand=brand, name="purchase_done", status="active")
    if not event.mappings.filter(platform="meta").exists():
        EventMappingFactory(event=event, target="Purchase")
    return event


@pytest.fixture
def people(brand):
    ops, analyst, buyer = (
        UserFactory(email="ops@example.com"),
        UserFactory(email="analyst@example.com"),
        UserFactory(email="buyer@example.com"),
    )
    policies.grant_role(ops, brand, Role.OPS_LEAD)
    policies.grant_role(analyst, brand, Role.ANALYST)
    policies.grant_role(buyer, brand, Role.MEDIA_BUYER)
    return SimpleNamespace(ops=ops, analyst=analyst, buyer=buyer)


def _connection(pixel, **fields):
    now = timezone.now()
    defaults = {"status": "ok", "counts_pulled_at": now, "counts_through": now}
    PixelConnectionFactory(pixel=pixel)
    PixelConnection.objects.filter(pixel=pixel).update(**(defaults | fields))
    return PixelConnection.objects.get(pixel=pixel)


def _evaluate(brand, enqueued, capture):
    with capture(execute=True):
        result = alerting.evaluate_brand(brand.pk)
    return result


def _run_all(enqueued, capture):
    while enqueued.calls:
        with capture(execute=True):
            enqueued.run()


def test_key_events_are_the_meta_targets_of_active_plan_events(brand, plan):
    EventDefinitionFactory(brand=brand, name="old_signup", status="deprecated")
    assert alerting.key_events(brand.pk) == ["Purchase"]


def test_silent_opens_once_notifies_once_and_resolves(
    brand, pixel, people, enqueued, django_capture_on_commit_callbacks, activity
):
    capture = django_capture_on_commit_callbacks
    rule = AlertRuleFactory(brand=brand, kind="silent", threshold=Decimal("6"))
    _connection(pixel, last_fired_at=timezone.now() - timedelta(hours=9))

    result = _evaluate(brand, enqueued, capture)
    [alert] = Alert.objects.all()
    assert result.opened == [alert.pk]
    assert (alert.status, alert.subject_key, alert.pixel_id) == (
        "open",
        f"pixel:{pixel.pk}",
        pixel.pk,
    )
    assert "Shop pixel has not fired for 9 hours" in alert.message
    assert [e.verb for e in activity.new()] == ["alert.opened"]
    assert enqueued.names == ["koastops.quality.alert_notify"]
    _run_all(enqueued, capture)
    notified = set(Notification.objects.values_list("user__email", flat=True))
    assert notified == {"ops@example.com", "analyst@example.com"}
    assert sorted(m.to[0] for m in mail.outbox) == ["analyst@example.com", "ops@example.com"]
    assert "Shop pixel" in mail.outbox[0].body

    # Still silent: the same alert, seen again; nothing new sent.
    first_seen = Alert.objects.get().last_seen_at
    result = _evaluate(brand, enqueued, capture)
    assert result.opened == [] and result.updated == [alert.pk]
    assert Alert.objects.count() == 1
    assert Alert.objects.get().last_seen_at > first_seen
    assert enqueued.calls == []
    activity.none()
    tasks_alerts.alert_notify.apply(args=(alert.pk,))  # a redelivery: nobody twice
    _run_all(enqueued, capture)
    assert Notification.objects.count() == 2 and len(mail.outbox) == 2

    # It fires again: resolved.
    PixelConnection.objects.filter(pixel=pixel).update(last_fired_at=timezone.now())
    result = _evaluate(brand, enqueued, capture)
    alert.refresh_from_db()
    assert result.resolved == [alert.pk]
    assert alert.status == "resolved" and alert.resolved_at is not None
    [entry] = activity.new()
    assert entry.verb == "alert.resolved" and entry.actor_id is None
    assert enqueued.calls == []  # no webhook on this rule
    # And it opens anew (a new row) when silent again.
    PixelConnection.objects.filter(pixel=pixel).update(
        last_fired_at=timezone.now() - timedelta(hours=7)
    )
    _evaluate(brand, enqueued, capture)
    assert Alert.objects.filter(rule=rule, status="open").count() == 1
    assert Alert.objects.count() == 2


def test_never_pulled_pixels_are_not_silent(
    brand, pixel, enqueued, django_capture_on_commit_callbacks
):
    AlertRuleFactory(brand=brand, kind="silent", threshold=Decimal("6"))
    PixelConnectionFactory(pixel=pixel)
    _evaluate(brand, enqueued, django_capture_on_commit_callbacks)
    assert not Alert.objects.exists()


def test_connection_broken_opens_and_resolves(
    brand, pixel, enqueued, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    AlertRuleFactory(brand=brand, kind="connection_broken", threshold=None)
    _connection(pixel, status="broken", message="The token expired (code 190).")
    _evaluate(brand, enqueued, capture)
    alert = Alert.objects.get()
    assert (
        alert.message
        == "The connection of pixel Shop pixel is broken: The token expired (code 190)."
    )
    _evaluate(brand, enqueued, capture)
    assert Alert.objects.count() == 1
    PixelConnection.objects.filter(pixel=pixel).update(status="ok")
    _evaluate(brand, enqueued, capture)
    assert Alert.objects.get().status == "resolved"


def _volume(pixel, *, daily: int, last_day: int, end):
    """Seven days of ``daily`` per day, then ``last_day`` in the last 24 hours."""
    rows = []
    for hours_back in range(1, 24 * 8 + 1):
        hour = end - timedelta(hours=hours_back)
        count = last_day // 24 if hours_back <= 24 else daily // 24
        rows.append(
            HourlyStat(
                pixel=pixel,
                event="Purchase",
                source="total",
                hour=hour,
                count=count,
                pulled_at=end,
            )
        )
    HourlyStat.objects.bulk_create(rows)


def test_volume_drop_opens_below_the_share_of_the_7_day_average_and_resolves(
    brand, pixel, plan, enqueued, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    end = timezone.now().replace(minute=0, second=0, microsecond=0)
    _connection(pixel, counts_through=end)
    AlertRuleFactory(brand=brand, kind="volume_drop", threshold=Decimal("50"))  # every key event
    _volume(pixel, daily=2400, last_day=480, end=end)
    _evaluate(brand, enqueued, capture)
    alert = Alert.objects.get()
    assert (alert.subject_key, alert.event, alert.value) == (
        f"pixel:{pixel.pk}:Purchase",
        "Purchase",
        Decimal("20.00"),
    )
    assert "480 in the last 24 hours, 20.00% of its 7-day daily average (2,400" in alert.message
    _evaluate(brand, enqueued, capture)
    assert Alert.objects.count() == 1
    HourlyStat.objects.filter(hour__gte=end - timedelta(hours=24)).update(count=90)  # 2160/day
    _evaluate(brand, enqueued, capture)
    assert Alert.objects.get().status == "resolved"


def test_volume_drop_reads_only_through_the_pulled_hour(
    brand, pixel, plan, enqueued, django_capture_on_commit_callbacks
):
    """Hours after ``counts_through`` are not pulled yet: not a drop."""
    end = timezone.now().replace(minute=0, second=0, microsecond=0) - timedelta(hours=30)
    _connection(pixel, counts_through=end)
    AlertRuleFactory(brand=brand, kind="volume_drop", threshold=Decimal("50"), event="Purchase")
    _volume(pixel, daily=2400, last_day=2400, end=end)
    _evaluate(brand, enqueued, django_capture_on_commit_callbacks)
    assert not Alert.objects.exists()


def test_emq_below_reads_the_latest_pull_of_each_event(
    brand, pixel, plan, enqueued, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    now = timezone.now()
    AlertRuleFactory(brand=brand, kind="emq_below", threshold=Decimal("6"))
    EventQualityFactory(
        pixel=pixel, event="Purchase", pulled_at=now - timedelta(hours=6), emq=Decimal("8")
    )
    EventQualityFactory(pixel=pixel, event="Purchase", pulled_at=now, emq=Decimal("4.5"))
    _evaluate(brand, enqueued, capture)
    alert = Alert.objects.get()
    assert alert.value == Decimal("4.50") and alert.threshold == Decimal("6.00")
    assert "Event Match Quality of Purchase on pixel Shop pixel is 4.5" in alert.message
    _evaluate(brand, enqueued, capture)
    assert Alert.objects.count() == 1
    EventQualityFactory(
        pixel=pixel, event="Purchase", pulled_at=now + timedelta(minutes=1), emq=Decimal("6.5")
    )
    _evaluate(brand, enqueued, capture)
    assert Alert.objects.get().status == "resolved"


def test_dedup_below_opens_and_resolves(
    brand, pixel, plan, enqueued, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    now = timezone.now()
    AlertRuleFactory(
        brand=brand, kind="dedup_below", threshold=Decimal("75"), event="Purchase", pixel=pixel
    )
    EventQualityFactory(pixel=pixel, event="Purchase", pulled_at=now, dedup_coverage=Decimal("41"))
    _evaluate(brand, enqueued, capture)
    assert Alert.objects.get().value == Decimal("41.00")
    _evaluate(brand, enqueued, capture)
    assert Alert.objects.count() == 1
    EventQualityFactory(
        pixel=pixel,
        event="Purchase",
        pulled_at=now + timedelta(minutes=1),
        dedup_coverage=Decimal("90"),
    )
    _evaluate(brand, enqueued, capture)
    assert Alert.objects.get().status == "resolved"


def _recon_row(event, day, platform, crm, flagged):
    diff = platform - crm
    pct = Decimal(diff * 100) / crm if crm else None
    return SimpleNamespace(
        event=event,
        day=day,
        platform=platform,
        crm=crm,
        diff=diff,
        pct=pct,
        flagged=flagged,
        causes=["server events missing"] if flagged else [],
    )


def test_discrepancy_uses_reconcile_rows(
    brand, pixel, plan, enqueued, django_capture_on_commit_callbacks, monkeypatch
):
    """``reconcile`` belongs to the crm part: faked here with its documented row shape
    (ReconRow(event, day, platform, crm, diff, pct, flagged, causes))."""
    import sys

    capture = django_capture_on_commit_callbacks
    calls = []
    rows = [_recon_row("Purchase", timezone.localdate() - timedelta(days=2), 60, 100, True)]

    def reconcile(brand_, *, ad_account, start, end, pixels):
        calls.append((brand_.pk, ad_account, start, end, [p.pk for p in pixels]))
        return list(rows)

    monkeypatch.setitem(
        sys.modules, "koastops.quality.reconciliation", SimpleNamespace(reconcile=reconcile)
    )
    AlertRuleFactory(brand=brand, kind="discrepancy", threshold=None)
    _evaluate(brand, enqueued, capture)
    alert = Alert.objects.get()
    assert alert.subject_key == "event:Purchase" and alert.value == Decimal("-40.00")
    assert "platform 60, CRM 100 (-40.0%)" in alert.message
    assert "Likely: server events missing." in alert.message
    assert calls[0][1] is None and calls[0][4] == [pixel.pk]
    assert calls[0][3] - calls[0][2] == timedelta(days=6)
    _evaluate(brand, enqueued, capture)
    assert Alert.objects.count() == 1
    rows[:] = [_recon_row("Purchase", timezone.localdate() - timedelta(days=2), 98, 100, False)]
    _evaluate(brand, enqueued, capture)
    assert Alert.objects.get().status == "resolved"


def test_after_pull_evaluates_only_that_pixel_and_never_raises(
    brand, pixel, enqueued, django_capture_on_commit_callbacks, monkeypatch
):
    other = PixelFactory(brand=brand, name="Other pixel")
    AlertRuleFactory(brand=brand, kind="silent", threshold=Decimal("6"))
    old = timezone.now() - timedelta(hours=10)
    _connection(pixel, last_fired_at=old)
    _connection(other, last_fired_at=old)
    with django_capture_on_commit_callbacks(execute=True):
        alerting.evaluate_after_pull(pixel.pk)
    assert list(Alert.objects.values_list("pixel_id", flat=True)) == [pixel.pk]
    # The other pixel's alert is not resolved by an evaluation of this one.
    with django_capture_on_commit_callbacks(execute=True):
        alerting.evaluate_after_pull(other.pk)
    assert Alert.objects.filter(status="open").count() == 2

    def boom(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(alerting, "evaluate_rule", boom)
    alerting.evaluate_after_pull(pixel.pk)  # logged, not raised
    alerting.evaluate_after_pull(999_999)


def test_disabled_rules_resolve_their_alerts_and_foreign_brands_stay_apart(
    brand, pixel, enqueued, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    rule = AlertRuleFactory(brand=brand, kind="silent", threshold=Decimal("6"))
    _connection(pixel, last_fired_at=timezone.now() - timedelta(hours=10))
    foreign = BrandFactory()
    foreign_pixel = PixelFactory(brand=foreign)
    _connection(foreign_pixel, last_fired_at=timezone.now() - timedelta(hours=10))
    _evaluate(brand, enqueued, capture)
    assert list(Alert.objects.values_list("brand_id", flat=True)) == [brand.pk]
    AlertRule.objects.filter(pk=rule.pk).update(enabled=False)
    _evaluate(brand, enqueued, capture)
    assert Alert.objects.get().status == "resolved"


def test_beat_task_evaluates_every_brand_with_rules(
    brand, pixel, enqueued, django_capture_on_commit_callbacks
):
    from django.conf import settings

    assert (
        settings.CELERY_BEAT_SCHEDULE["quality-evaluate-alerts"]["task"]
        == tasks_alerts.evaluate_alerts.name
    )
    AlertRuleFactory(brand=brand, kind="silent", threshold=Decimal("6"))
    _connection(pixel, last_fired_at=timezone.now() - timedelta(hours=10))
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks_alerts.evaluate_alerts.apply().result == 1
    assert Alert.objects.filter(status="open").count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_evaluations_at_once_open_one_alert(postgresql_only, monkeypatch):  # noqa: F811
    from koastops.celery import KoastopsTask

    monkeypatch.setattr(KoastopsTask, "apply_async", lambda *a, **k: None)
    brand = BrandFactory()
    pixel = PixelFactory(brand=brand)
    AlertRuleFactory(brand=brand, kind="silent", threshold=Decimal("6"))
    _connection(pixel, last_fired_at=timezone.now() - timedelta(hours=10))
    for round_ in range(5):
        results = race(*(functools.partial(alerting.evaluate_brand, brand.pk) for _ in range(2)))
        assert all(isinstance(r, alerting.EvaluationResult) for r in results), results
        assert sum(len(r.opened) for r in results) == (1 if round_ == 0 else 0)
        assert Alert.objects.filter(status="open").count() == 1
    assert ActivityEntry.objects.filter(verb="alert.opened").count() == 1


def test_evaluation_queries_do_not_grow_with_pixels(brand, plan, enqueued):
    """Healthy pixels: the same number of queries for 1 and 20 pixels."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for kind, threshold in [("silent", "6"), ("volume_drop", "50"), ("emq_below", "6")]:
        AlertRuleFactory(brand=brand, kind=kind, threshold=Decimal(threshold))

    def add_pixels(count):
        end = timezone.now().replace(minute=0, second=0, microsecond=0)
        for _ in range(count):
            pixel = PixelFactory(brand=brand)
            _connection(pixel, last_fired_at=timezone.now(), counts_through=end)
            _volume(pixel, daily=2400, last_day=2400, end=end)
            EventQualityFactory(pixel=pixel, event="Purchase", emq=Decimal("8"))

    add_pixels(1)
    with CaptureQueriesContext(connection) as one:
        alerting.evaluate_brand(brand.pk)
    add_pixels(19)
    with CaptureQueriesContext(connection) as many:
        result = alerting.evaluate_brand(brand.pk)
    assert result.opened == []
    assert len(many.captured_queries) == len(one.captured_queries)


def test_demo_provider_numbers_say_demo_data(
    brand, pixel, enqueued, django_capture_on_commit_callbacks
):
    AlertRuleFactory(brand=brand, kind="silent", threshold=Decimal("6"))
    _connection(pixel, provider="demo", last_fired_at=timezone.now() - timedelta(hours=8))
    _evaluate(brand, enqueued, django_capture_on_commit_callbacks)
    assert Alert.objects.get().message.endswith("UTC). (demo data)")


def test_a_narrowed_rule_resolves_alerts_outside_its_scope(
    brand, pixel, enqueued, django_capture_on_commit_callbacks
):
    other = PixelFactory(brand=brand, name="Other pixel")
    rule = AlertRuleFactory(brand=brand, kind="silent", threshold=Decimal("6"))
    for each in (pixel, other):
        _connection(each, last_fired_at=timezone.now() - timedelta(hours=10))
    _evaluate(brand, enqueued, django_capture_on_commit_callbacks)
    assert Alert.objects.filter(status="open").count() == 2
    AlertRule.objects.filter(pk=rule.pk).update(pixel=pixel)
    assert tasks_alerts.evaluate_alert_rule.apply(args=(rule.pk,)).result == 0
    assert list(Alert.objects.filter(status="open").values_list("pixel_id", flat=True)) == [
        pixel.pk
    ]


def test_notify_task_skips_resolved_or_missing_alerts(brand, pixel, people, enqueued):
    from tests.factories import AlertFactory

    alert = AlertFactory(rule=AlertRuleFactory(brand=brand), pixel=pixel, status="resolved")
    assert tasks_alerts.alert_notify.apply(args=(alert.pk,)).result == 0
    assert tasks_alerts.alert_notify.apply(args=(999_999,)).result == 0
    assert not Notification.objects.exists()


def test_discrepancy_rule_on_a_meta_event_matches_its_plan_event_rows(
    brand, pixel, plan, enqueued, django_capture_on_commit_callbacks, monkeypatch
):
    """Reconciliation rows name plan events (what the CRM reports); a rule on the Meta event
    Purchase covers rows of purchase_done, the plan event mapped to it."""
    import sys

    day = timezone.localdate() - timedelta(days=1)
    rows = [
        _recon_row("purchase_done", day, 50, 0, True),  # no CRM rows at all: pct None
        _recon_row("newsletter", day, 10, 100, True),  # another event: not this rule's
    ]
    rows[0].pct = None
    monkeypatch.setitem(
        sys.modules,
        "koastops.quality.reconciliation",
        SimpleNamespace(reconcile=lambda brand_, **kwargs: list(rows)),
    )
    AlertRuleFactory(brand=brand, kind="discrepancy", threshold=None, event="Purchase")
    _evaluate(brand, enqueued, django_capture_on_commit_callbacks)
    alert = Alert.objects.get()
    assert (alert.subject_key, alert.value) == ("event:purchase_done", None)
    assert "platform 50, CRM 0 (no CRM conversions)" in alert.message


def test_discrepancy_rules_accept_plan_event_names(brand, plan):
    from koastops.accounts.models import User
    from koastops.quality import alert_services

    admin = User.objects.create_superuser("root@example.com", "x")
    rule = alert_services.alert_rule_create(
        actor=admin, brand=brand, kind="discrepancy", event="purchase_done"
    )
    assert rule.event == "purchase_done"
