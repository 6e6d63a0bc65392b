"""The reminder path through a real broker and worker (no eager mode): an ops lead's edit
commits, ``consent_remind`` runs on the worker, the legal reviewer's notification appears
and its email task runs there too; beat's task on the worker finds nothing more to send."""

from __future__ import annotations

import pytest

from koastops.accounts import policies
from koastops.accounts.models import Role
from koastops.consent import services, tasks
from koastops.consent.content import defaults_for
from koastops.consent.models import ConsentReminder
from koastops.notifications.models import Notification
from koastops.system.models import SentEmail, WorkerPing
from koastops.system.tasks import worker_ping
from tests.factories import BrandFactory, UserFactory, WorkerPingFactory, _market
from tests.system.test_worker import running_worker, wait_for


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_an_edit_reminds_the_legal_reviewer_through_a_real_worker(settings, tmp_path):
    from koastops.devtools.mail import outbox_list

    settings.MAILERS = {"default": {"BACKEND": "koastops.devtools.mail.OutboxEmailBackend"}}
    settings.EMAIL_OUTBOX_DIR = tmp_path / "outbox"
    brand, market = BrandFactory(name="Worker Brand"), _market("DE")
    brand.markets.add(market)
    ops, legal = UserFactory(email="ops@example.com"), UserFactory(email="legal@example.com")
    policies.grant_role(ops, brand, Role.OPS_LEAD)
    policies.grant_role(legal, brand, Role.LEGAL_REVIEWER)

    with running_worker():
        config = services.config_save(
            user=ops,
            brand=brand,
            market=market,
            content=defaults_for(market.privacy_regime, market.code),
            expected_version=0,
        )
        assert wait_for(lambda: Notification.objects.filter(user=legal).exists()), (
            "the worker sent no reminder"
        )
        assert wait_for(lambda: len(outbox_list()) == 1), "the worker sent no email"
        # Beat's hourly task and a redelivered reminder: both find it sent already. A ping
        # queued after them (the solo worker runs messages in order) shows they ran.
        tasks.consent_reminders.delay()
        tasks.consent_remind.delay(config.pk)
        marker = WorkerPingFactory(requested_by=ops)
        worker_ping.delay(marker.pk)

        def marker_done() -> bool:
            marker.refresh_from_db()
            return marker.status == WorkerPing.Status.DONE

        assert wait_for(marker_done), "the worker stopped consuming"

    note = Notification.objects.get(user=legal)
    assert note.key == f"consent:{config.pk}:review:v1"
    # A transactional test flushes the shipped markets: the factory's DE may be "Market DE".
    assert note.title == f"Consent for {config.market.name} (DE) on Worker Brand needs your review"
    assert list(ConsentReminder.objects.values_list("key", flat=True)) == ["review:v1"]
    [email] = outbox_list()
    assert email.to == "legal@example.com"
    assert SentEmail.objects.filter(task_name="koastops.notifications.email").count() == 1
    assert Notification.objects.count() == 1
