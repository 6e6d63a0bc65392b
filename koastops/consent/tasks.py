"""Reminders to the brand's legal reviewers (in-app and email), from Celery beat.

``consent_reminders`` (beat, hourly) finds the configs that need a review (changed since
their sign-off, never reviewed, expired) or whose sign-off expires within 30 days and that
were not reminded for that yet, and enqueues ``consent_remind`` per config id. The
reminder for one config, version and threshold is sent once: ``ConsentReminder`` keeps
the key (unique), and ``notify`` is idempotent by key per reviewer.

Documented in docs/consent.md, "Notifications".
"""

from __future__ import annotations

from celery import shared_task

from koastops.celery import KoastopsTask


@shared_task(name="koastops.consent.remind", bind=True, base=KoastopsTask)
def consent_remind(self, config_id: int) -> int:
    """Remind the brand's legal reviewers about one config, if it needs it; the number of
    notifications created (0 when already reminded for this version and threshold)."""
    from koastops.consent import reminders

    return reminders.remind(config_id)


@shared_task(name="koastops.consent.reminders", bind=True, base=KoastopsTask)
def consent_reminders(self) -> int:
    """Beat: enqueue ``consent_remind`` for every config due a reminder; how many."""
    from koastops.consent import reminders

    due = reminders.due_config_ids()
    for config_id in due:
        consent_remind.delay(config_id)
    return len(due)
