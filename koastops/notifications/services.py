"""Notify people: an in-app notification per user, and the same by email from a worker.

``notify`` is idempotent by ``key`` per user (a unique constraint): the same reason never
notifies anyone twice, whichever task or retry asks again. Emails are sent after commit,
one task per notification id; the task sends only while ``emailed_at`` is empty.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from koastops.accounts import policies
from koastops.accounts.models import User
from koastops.catalog.models import Brand
from koastops.notifications.models import Notification


def notify(
    *,
    users: Iterable[User],
    brand: Brand | None,
    kind: str,
    key: str,
    title: str,
    body: str = "",
    url: str = "",
    email: bool = True,
) -> list[int]:
    """Notify each user once per ``key``; the ids of the notifications created now (the
    users already notified for this key are left alone)."""
    from koastops.notifications import tasks

    recipients = {user.pk: user for user in users if user.is_active}
    if not recipients:
        return []
    with transaction.atomic():
        Notification.objects.bulk_create(
            [
                Notification(
                    user_id=pk,
                    brand=brand,
                    kind=kind,
                    key=key[:200],
                    title=title[:200],
                    body=body,
                    url=url[:500],
                )
                for pk in recipients
            ],
            ignore_conflicts=True,
        )
        created = list(
            Notification.objects.filter(
                user_id__in=recipients, key=key[:200], emailed_at__isnull=True, read_at__isnull=True
            ).values_list("pk", flat=True)
        )
        if email:
            for pk in created:
                tasks.notification_email.delay_on_commit(pk)
    return created


def visible_to(user: User) -> QuerySet[Notification]:
    """The user's own notifications about brands they still hold a role on (or about no
    brand): one who lost the role no longer reads what was said about the brand (a
    subquery of ``policies.brands_for``, no extra query)."""
    return Notification.objects.filter(user=user).filter(
        Q(brand__isnull=True) | Q(brand__in=policies.brands_for(user))
    )


def mark_read(*, user: User, ids: Iterable[int] | None = None) -> int:
    """Mark the user's notifications read (all unread ones without ``ids``)."""
    unread = visible_to(user).filter(read_at__isnull=True)
    if ids is not None:
        unread = unread.filter(pk__in=list(ids))
    return unread.update(read_at=timezone.now())


def unread_count(user: User) -> int:
    return visible_to(user).filter(read_at__isnull=True).count()


def notification_list(user: User, *, unread_only: bool = False) -> QuerySet[Notification]:
    """The user's own notifications, newest first, with their brand (for the list page)."""
    rows = visible_to(user).select_related("brand")
    if unread_only:
        rows = rows.filter(read_at__isnull=True)
    return rows.order_by("-created_at", "-pk")


def notification_open(*, user: User, pk: int) -> Notification:
    """The user's notification ``pk``, marked read now if it was unread (compare-and-set:
    the first read time is kept). ``Notification.DoesNotExist`` for another user's."""
    notification = visible_to(user).get(pk=pk)
    if notification.read_at is None:
        now = timezone.now()
        if Notification.objects.filter(pk=pk, read_at__isnull=True).update(read_at=now):
            notification.read_at = now
    return notification
