"""notify once per key and user, mark read only one's own, open marks read once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from koastops.accounts.services import user_deactivate
from koastops.notifications import services
from koastops.notifications.models import Notification
from tests.factories import AdminFactory, NotificationFactory, UserFactory


def test_notify_is_idempotent_per_key_and_emails_each_once(
    brand, enqueued, django_capture_on_commit_callbacks
):
    first, second = UserFactory(email="a@example.com"), UserFactory(email="b@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        created = services.notify(
            users=[first, second], brand=brand, kind="consent.review", key="k1", title="Review"
        )
    assert len(created) == 2
    with django_capture_on_commit_callbacks(execute=True):
        enqueued.run()
    assert sorted(email.to[0] for email in mail.outbox) == ["a@example.com", "b@example.com"]

    with django_capture_on_commit_callbacks(execute=True):
        again = services.notify(
            users=[first, second], brand=brand, kind="consent.review", key="k1", title="Review"
        )
    assert again == []  # emailed already: nothing new to send
    with django_capture_on_commit_callbacks(execute=True):
        enqueued.run()
    assert Notification.objects.count() == 2
    assert len(mail.outbox) == 2


def test_notify_skips_deactivated_users(brand):
    user = UserFactory()
    user_deactivate(actor=AdminFactory(), user=user)
    assert services.notify(users=[user], brand=brand, kind="x", key="k", title="t") == []
    assert not Notification.objects.exists()


def test_mark_read_touches_only_the_users_own_rows(db):
    mine, other = NotificationFactory(), NotificationFactory()
    assert services.mark_read(user=mine.user, ids=[mine.pk, other.pk]) == 1
    other.refresh_from_db()
    assert other.read_at is None
    assert services.unread_count(mine.user) == 0
    assert services.unread_count(other.user) == 1


def test_mark_read_without_ids_marks_all_unread(db):
    user = UserFactory()
    NotificationFactory.create_batch(3, user=user)
    earlier = timezone.now() - timedelta(days=2)
    NotificationFactory(user=user, read_at=earlier)
    assert services.mark_read(user=user) == 3
    assert Notification.objects.filter(user=user, read_at=earlier).count() == 1


def test_notification_list_is_own_newest_first_and_filters_unread(db):
    user = UserFactory()
    old = NotificationFactory(user=user, read_at=timezone.now())
    new = NotificationFactory(user=user)
    NotificationFactory()
    assert list(services.notification_list(user)) == [new, old]
    assert list(services.notification_list(user, unread_only=True)) == [new]


def test_open_marks_read_once_and_refuses_another_users(db):
    note = NotificationFactory()
    opened = services.notification_open(user=note.user, pk=note.pk)
    assert opened.read_at is not None
    first = opened.read_at
    assert services.notification_open(user=note.user, pk=note.pk).read_at == first
    with pytest.raises(Notification.DoesNotExist):
        services.notification_open(user=UserFactory(), pk=note.pk)
