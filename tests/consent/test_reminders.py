"""Reminders to legal reviewers: which configs are due (one query), sent once per key,
only to the brand's legal reviewers, emailed once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from koastops.accounts import policies
from koastops.accounts.models import Role
from koastops.accounts.services import user_deactivate
from koastops.catalog.models import CatalogStatus
from koastops.consent import reminders, services, tasks
from koastops.consent.content import defaults_for
from koastops.consent.models import ConsentConfig, ConsentReminder
from koastops.notifications.models import Notification
from tests.factories import (
    AdminFactory,
    BrandFactory,
    ConsentConfigFactory,
    ConsentReminderFactory,
    ConsentSignOffFactory,
    UserFactory,
    _market,
)


@pytest.fixture
def legal(brand):
    user = UserFactory(email="legal@example.com")
    policies.grant_role(user, brand, Role.LEGAL_REVIEWER)
    return user


@pytest.fixture
def ops(brand):
    user = UserFactory(email="ops@example.com")
    policies.grant_role(user, brand, Role.OPS_LEAD)
    return user


def _config(brand, code="DE", **kwargs):
    return ConsentConfigFactory(brand=brand, market=_market(code), **kwargs)


def _signed(config, *, days_left=200, decision="approved"):
    now = timezone.now()
    if decision == "approved":
        ConsentSignOffFactory(config=config, expires_at=now + timedelta(days=days_left))
    else:
        ConsentSignOffFactory(config=config, decision=decision)
    config.refresh_from_db()
    return config


def _change(config):
    ConsentConfig.objects.filter(pk=config.pk).update(content_hash="0" * 64, version=2)
    config.refresh_from_db()
    return config


# --- the key ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "key"),
    [
        ("never_reviewed", "review:v3"),
        ("changed", "review:v3"),
        ("expired", "expired:s7"),
        ("expiring", "expiry30:s7"),
        ("signed", None),
        ("rejected", None),
        ("not_configured", None),
    ],
)
def test_reminder_key_per_status(status, key):
    assert reminders.reminder_key(status, 3, 7) == key


# --- due_config_ids ---------------------------------------------------------------------------


def test_due_configs_are_those_needing_review_or_expiring(brand, legal):
    never = _config(brand, "DE")
    changed = _change(_signed(_config(brand, "AT")))
    expiring = _signed(_config(brand, "FR"), days_left=10)
    expired = _signed(_config(brand, "IT"), days_left=-1)
    _signed(_config(brand, "ES"))  # signed: nothing to do
    _signed(_config(brand, "NL"), decision="rejected")  # waits for the ops lead

    assert set(reminders.due_config_ids()) == {never.pk, changed.pk, expiring.pk, expired.pk}
    keys = dict(reminders.due_configs().values_list("pk", "reminder_key"))
    assert keys == {
        never.pk: "review:v1",
        changed.pk: "review:v2",
        expiring.pk: f"expiry30:s{expiring.last_signoff_id}",
        expired.pk: f"expired:s{expired.last_signoff_id}",
    }


def test_already_reminded_configs_are_not_due(brand, legal):
    never = _config(brand, "DE")
    expiring = _signed(_config(brand, "FR"), days_left=10)
    ConsentReminderFactory(config=never, key="review:v1")
    ConsentReminderFactory(config=expiring, key=f"expiry30:s{expiring.last_signoff_id}")
    assert reminders.due_config_ids() == []


def test_a_reminder_for_another_version_or_threshold_does_not_count(brand, legal):
    never = _config(brand, "DE")
    expired = _signed(_config(brand, "FR"), days_left=-1)
    earlier = timezone.now() - timedelta(days=1)
    old = ConsentReminderFactory(config=never, key="review:v0")  # before the content changed
    ConsentReminder.objects.filter(pk=old.pk).update(sent_at=earlier)
    # reminded 30 days before, now expired: a new reminder
    ConsentReminderFactory(config=expired, key=f"expiry30:s{expired.last_signoff_id}")
    assert set(reminders.due_config_ids()) == {never.pk, expired.pk}


def test_archived_brands_are_not_reminded(brand, legal):
    _config(brand, "DE")
    brand.status = CatalogStatus.ARCHIVED
    brand.save()
    assert reminders.due_config_ids() == []


def test_due_is_measured_at_now(brand, legal):
    config = _signed(_config(brand, "DE"), days_left=40)
    assert reminders.due_config_ids() == []
    assert reminders.due_config_ids(timezone.now() + timedelta(days=15)) == [config.pk]


@pytest.mark.parametrize("count", [1, 20])
def test_due_config_ids_is_one_query(brand, legal, count, django_assert_num_queries):
    brands = [BrandFactory() for _ in range(count)]
    for index, other in enumerate(brands):
        config = ConsentConfigFactory(brand=other, market=_market("DE"))
        if index % 2:
            ConsentReminderFactory(config=config, key="review:v1")
    with django_assert_num_queries(1):
        due = reminders.due_config_ids()
    assert len(due) == (count + 1) // 2


# --- remind --------------------------------------------------------------------------------


def test_remind_notifies_the_legal_reviewers_once(brand, legal, ops):
    config = _config(brand, "DE", content_changed_by=ops)
    assert reminders.remind(config.pk) == 1
    [note] = Notification.objects.all()
    assert note.user == legal
    assert note.brand == brand
    assert note.kind == "consent.review"
    assert note.key == f"consent:{config.pk}:review:v1"
    assert note.title == "Consent for Germany (DE) on Own Brand needs your review"
    assert "ops@example.com" in note.body
    assert note.url == reverse("consent:review", kwargs={"slug": "own-brand", "market": "de"})
    assert list(ConsentReminder.objects.values_list("key", flat=True)) == ["review:v1"]

    assert reminders.remind(config.pk) == 0
    assert Notification.objects.count() == 1
    assert reminders.due_config_ids() == []


def test_a_new_version_reminds_again(brand, legal, ops):
    market = _market("DE")
    content = defaults_for(market.privacy_regime, "DE")
    config = services.config_save(
        user=ops, brand=brand, market=market, content=content, expected_version=0
    )
    assert reminders.remind(config.pk) == 1
    content["wait_for_update"] = 900
    services.config_save(user=ops, brand=brand, market=market, content=content, expected_version=1)
    assert reminders.due_config_ids() == [config.pk]
    assert reminders.remind(config.pk) == 1
    assert sorted(ConsentReminder.objects.values_list("key", flat=True)) == [
        "review:v1",
        "review:v2",
    ]
    assert Notification.objects.filter(user=legal).count() == 2


def test_a_notes_only_edit_does_not_remind_again(brand, legal, ops):
    market = _market("DE")
    content = defaults_for(market.privacy_regime, "DE")
    config = services.config_save(
        user=ops, brand=brand, market=market, content=content, expected_version=0
    )
    assert reminders.remind(config.pk) == 1
    config = services.config_save(
        user=ops,
        brand=brand,
        market=market,
        content=content,
        internal_notes="typo fixed",
        expected_version=1,
    )
    assert config.version == 2
    assert reminders.due_config_ids() == []
    assert reminders.remind(config.pk) == 0
    assert Notification.objects.count() == 1


def test_expiring_and_expired_reminders(brand, legal):
    config = _signed(_config(brand, "DE"), days_left=10)
    assert reminders.remind(config.pk) == 1
    note = Notification.objects.get()
    assert note.kind == "consent.expiring"
    expiry = timezone.localtime(config.expires_at)
    assert note.title.endswith(f"expires on {expiry.day} {expiry:%b %Y}")
    later = timezone.now() + timedelta(days=11)
    assert reminders.due_config_ids(later) == [config.pk]
    assert reminders.remind(config.pk, later) == 1
    assert Notification.objects.filter(kind="consent.expired").count() == 1
    assert reminders.remind(config.pk, later) == 0


def test_signed_and_rejected_configs_get_no_reminder(brand, legal):
    signed = _signed(_config(brand, "DE"))
    rejected = _signed(_config(brand, "FR"), decision="rejected")
    assert reminders.remind(signed.pk) == 0
    assert reminders.remind(rejected.pk) == 0
    assert reminders.remind(999_999) == 0
    assert not ConsentReminder.objects.exists()
    assert not Notification.objects.exists()


def test_only_the_brands_active_legal_reviewers_are_notified(brand, legal, ops, foreign_brand):
    second = UserFactory(email="legal2@example.com")
    policies.grant_role(second, brand, Role.LEGAL_REVIEWER)
    gone = UserFactory(email="gone@example.com")
    policies.grant_role(gone, brand, Role.LEGAL_REVIEWER)
    user_deactivate(actor=AdminFactory(), user=gone)
    AdminFactory(email="admin@example.com")
    other_legal = UserFactory(email="other-legal@example.com")
    policies.grant_role(other_legal, foreign_brand, Role.LEGAL_REVIEWER)
    config = _config(brand, "DE")

    assert reminders.remind(config.pk) == 2
    assert set(Notification.objects.values_list("user__email", flat=True)) == {
        "legal@example.com",
        "legal2@example.com",
    }


def test_a_brand_without_legal_reviewer_records_the_reminder_and_logs(brand, ops, caplog):
    config = _config(brand, "DE")
    assert reminders.remind(config.pk) == 0
    assert ConsentReminder.objects.filter(config=config, key="review:v1").exists()
    assert "no legal reviewer" in caplog.text
    assert reminders.due_config_ids() == []


def test_hostile_names_are_kept_as_text(legal):
    hostile = '<script>alert(1)</script> "quoted"\nnew line'
    brand = BrandFactory(name=hostile)
    policies.grant_role(legal, brand, Role.LEGAL_REVIEWER)
    config = ConsentConfigFactory(brand=brand, market=_market("DE"))
    assert reminders.remind(config.pk) == 1
    assert hostile in Notification.objects.get().title


# --- the tasks and the email -----------------------------------------------------------------


def test_beat_runs_the_reminders_hourly():
    entry = settings.CELERY_BEAT_SCHEDULE["consent-reminders"]
    assert entry == {"task": "koastops.consent.reminders", "schedule": 3600.0}
    assert tasks.consent_reminders.name == entry["task"]


def test_beat_task_enqueues_one_remind_per_due_config_and_emails_once(
    brand, legal, enqueued, django_capture_on_commit_callbacks
):
    config = _config(brand, "DE")
    _signed(_config(brand, "FR"))
    assert tasks.consent_reminders.apply().result == 1
    assert enqueued.names == ["koastops.consent.remind"]
    assert enqueued.calls[0][1] == (config.pk,)

    with django_capture_on_commit_callbacks(execute=True):
        assert enqueued.run() == [1]
    assert enqueued.names == ["koastops.notifications.email"]
    enqueued.run()
    [email] = mail.outbox
    assert email.to == ["legal@example.com"]
    assert email.subject == "Consent for Germany (DE) on Own Brand needs your review"
    assert "/brands/own-brand/consent/de/review/" in email.body
    note = Notification.objects.get()
    assert note.emailed_at is not None

    # Beat again, and the email task redelivered: nothing more.
    assert tasks.consent_reminders.apply().result == 0
    assert tasks.consent_remind.apply(args=(config.pk,)).result == 0
    from koastops.notifications.tasks import notification_email

    notification_email.apply(args=(note.pk,))
    enqueued.run()
    assert len(mail.outbox) == 1


def test_an_edit_reminds_after_commit(
    brand, legal, ops, enqueued, django_capture_on_commit_callbacks
):
    market = _market("DE")
    with django_capture_on_commit_callbacks(execute=True):
        config = services.config_save(
            user=ops,
            brand=brand,
            market=market,
            content=defaults_for(market.privacy_regime, "DE"),
            expected_version=0,
        )
    assert enqueued.names == ["koastops.consent.remind"]
    with django_capture_on_commit_callbacks(execute=True):
        assert enqueued.run() == [1]
    assert Notification.objects.get(user=legal).key == f"consent:{config.pk}:review:v1"
