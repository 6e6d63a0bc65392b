"""Which consent configs are due a reminder to their brand's legal reviewers, and sending
one (the tasks in ``tasks`` call these; beat runs ``due_config_ids`` hourly, and every
content change enqueues ``remind`` for its config after commit).

A reminder is sent once per config and *key*: the reason it is sent, named so that the
same reason never reminds twice and a new one always does:

- ``review:v<version>``: the content needs a review (never reviewed, or changed since the
  latest decision); an edit of the content makes a new version, hence a new reminder (an
  edit of the internal notes only does not: no review reminder was sent since the
  content last changed is part of being due);
- ``expired:s<sign-off id>``: the latest sign-off expired;
- ``expiry30:s<sign-off id>``: the latest sign-off expires within 30 days.

A rejected config waits for its ops lead, not for legal: no reminder. ``ConsentReminder``
keeps the keys sent (unique per config); the row and the notifications are written in one
transaction, so a reminder is either wholly sent or not at all, and a concurrent second
``remind`` of the same reason waits for the first and then finds the key taken.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import Case, CharField, Exists, OuterRef, Q, QuerySet, Value, When
from django.db.models.functions import Cast, Concat
from django.urls import reverse
from django.utils import timezone
from django.utils.dateformat import format as date_format

from koastops.accounts import policies
from koastops.catalog.models import CatalogStatus
from koastops.consent import selectors
from koastops.consent.models import ConsentConfig, ConsentReminder

logger = logging.getLogger(__name__)

REVIEW_STATUSES = ("changed", "never_reviewed")
REVIEW_PREFIX = "review:"
# The notification kind per status that reminds.
KINDS = {
    "changed": "consent.review",
    "never_reviewed": "consent.review",
    "expired": "consent.expired",
    "expiring": "consent.expiring",
}


def reminder_key(status: str, version: int, last_signoff_id: int | None) -> str | None:
    """The key of the reminder a config in ``status`` is due (None: it needs none)."""
    if status in REVIEW_STATUSES:
        return f"{REVIEW_PREFIX}v{version}"
    if status == "expired" and last_signoff_id is not None:
        return f"expired:s{last_signoff_id}"
    if status == "expiring" and last_signoff_id is not None:
        return f"expiry30:s{last_signoff_id}"
    return None


def _key_expression() -> Case:
    """``reminder_key`` in SQL, on a queryset annotated with ``status``."""
    version = Cast("version", output_field=CharField())
    signoff = Cast("last_signoff_id", output_field=CharField())
    return Case(
        When(status__in=REVIEW_STATUSES, then=Concat(Value(f"{REVIEW_PREFIX}v"), version)),
        When(
            Q(status="expired", last_signoff__isnull=False),
            then=Concat(Value("expired:s"), signoff),
        ),
        When(
            Q(status="expiring", last_signoff__isnull=False),
            then=Concat(Value("expiry30:s"), signoff),
        ),
        default=Value(None),
        output_field=CharField(),
    )


def due_configs(now: datetime | None = None) -> QuerySet[ConsentConfig]:
    """The configs of active brands due a reminder they were not sent yet, annotated with
    ``status`` and ``reminder_key`` (one query however many)."""
    configs = selectors.with_status(
        ConsentConfig.objects.filter(brand__status=CatalogStatus.ACTIVE), now
    ).annotate(reminder_key=_key_expression())
    sent = ConsentReminder.objects.filter(config=OuterRef("pk"), key=OuterRef("reminder_key"))
    # A notes-only edit makes a new version with the same content: asked already.
    review_sent = ConsentReminder.objects.filter(
        config=OuterRef("pk"),
        key__startswith=REVIEW_PREFIX,
        sent_at__gte=OuterRef("content_changed_at"),
    )
    return (
        configs.filter(reminder_key__isnull=False)
        .filter(~Exists(sent))
        .exclude(Q(status__in=REVIEW_STATUSES) & Exists(review_sent))
    )


def due_config_ids(now: datetime | None = None) -> list[int]:
    """The ids of the configs due a reminder (see ``due_configs``), in id order."""
    return list(due_configs(now).order_by("pk").values_list("pk", flat=True))


def _when(moment: datetime | None) -> str:
    return date_format(timezone.localtime(moment), "j M Y, H:i T") if moment else "an unknown time"


def _day(moment: datetime | None) -> str:
    return date_format(timezone.localtime(moment), "j M Y") if moment else "an unknown day"


def _message(config: ConsentConfig, status: str) -> tuple[str, str]:
    """The notification's title and body for a config in ``status``."""
    market = config.market
    where = f"Consent for {market.name} ({market.code}) on {config.brand.name}"
    who = config.content_changed_by.email if config.content_changed_by else "someone"
    changed = f"{who} on {_when(config.content_changed_at)}"
    if status == "changed":
        return (
            f"{where} needs your review",
            f"The consent config changed since its latest sign-off: changed by {changed} "
            f"(version {config.version}). The sign-off no longer applies until a legal "
            "reviewer decides on the new content.",
        )
    if status == "never_reviewed":
        return (
            f"{where} needs your review",
            f"This consent config was never reviewed: last changed by {changed} "
            f"(version {config.version}). Approve or reject it.",
        )
    if status == "expired":
        return (
            f"{where}: the sign-off expired on {_day(config.expires_at)}",
            f"The sign-off expired on {_day(config.expires_at)}: the config has no valid "
            "sign-off until a legal reviewer approves it again.",
        )
    return (
        f"{where}: the sign-off expires on {_day(config.expires_at)}",
        f"The sign-off expires on {_day(config.expires_at)}. Review the config again before "
        "then so it keeps a valid sign-off.",
    )


def _content_reminded_already(config: ConsentConfig, status: str) -> bool:
    """A review reminder was sent since the content last changed (a notes-only edit made
    the version new, not the content): reviewers were asked about this content already."""
    if status not in REVIEW_STATUSES or config.content_changed_at is None:
        return False
    return ConsentReminder.objects.filter(
        config=config, key__startswith=REVIEW_PREFIX, sent_at__gte=config.content_changed_at
    ).exists()


def remind(config_id: int, now: datetime | None = None) -> int:
    """Remind the brand's legal reviewers about the config if it is due a reminder it was
    not sent yet; the number of notifications created (0 when already sent, not due, or
    nobody to remind: the reminder is recorded anyway, so it is not retried hourly)."""
    from koastops.notifications import services as notifications

    config = (
        selectors.with_status(
            ConsentConfig.objects.filter(pk=config_id, brand__status=CatalogStatus.ACTIVE), now
        )
        .select_related("brand", "market", "content_changed_by")
        .first()
    )
    if config is None:
        return 0
    status: str = config.status  # type: ignore[attr-defined]
    key = reminder_key(status, config.version, config.last_signoff_id)
    if key is None or _content_reminded_already(config, status):
        return 0
    with transaction.atomic():
        try:
            with transaction.atomic():
                ConsentReminder.objects.create(config=config, key=key)
        except IntegrityError:
            return 0  # sent already (or being sent by a concurrent run)
        reviewers = list(policies.holders_of(config.brand_id, "consent.sign_off"))
        if not reviewers:
            logger.warning(
                "Consent config %s (%s, %s) is due a reminder (%s) but brand %s has no "
                "legal reviewer to notify.",
                config.pk,
                config.market.code,
                status,
                key,
                config.brand.slug,
            )
            return 0
        title, body = _message(config, status)
        url = reverse(
            "consent:review",
            kwargs={"slug": config.brand.slug, "market": config.market.code.lower()},
        )
        created = notifications.notify(
            users=reviewers,
            brand=config.brand,
            kind=KINDS[status],
            key=f"consent:{config.pk}:{key}",
            title=title,
            body=body,
            url=url,
        )
    logger.info(
        "Consent config %s: reminded %d legal reviewer(s) (%s).", config.pk, len(created), key
    )
    return len(created)
