"""Invitation and password-reset emails leave the request: the page commits and answers,
a task (ids only, enqueued on commit) builds the email from SITE_URL and sends it once,
retrying connection and SMTP errors with back-off."""

from __future__ import annotations

import re
import smtplib
import socket

import pytest
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from django.test import Client
from django.urls import reverse

from koastops.accounts import policies, tasks
from koastops.accounts.models import Role, User
from koastops.activity.models import ActivityEntry
from koastops.system.models import SentEmail, TaskDelivery
from tests.factories import UserFactory

FLAKY_BACKEND = "tests.accounts.test_email_tasks.FlakySmtpBackend"


class FlakySmtpBackend(LocmemBackend):
    """Fails like an SMTP server that is briefly unavailable, then delivers (to locmem)."""

    failures_left = 0
    attempts = 0

    def send_messages(self, messages):
        type(self).attempts += 1
        if type(self).failures_left > 0:
            type(self).failures_left -= 1
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        return super().send_messages(messages)


@pytest.fixture
def ops_lead(brand):
    user = UserFactory(email="lead@example.com", full_name="Lena Lead")
    policies.grant_role(user, brand, Role.OPS_LEAD)
    return user


@pytest.fixture
def lead_client(ops_lead) -> Client:
    client = Client()
    client.force_login(ops_lead)
    return client


def invite_url(brand) -> str:
    return reverse("members:invite", args=[brand.slug])


def closed_port() -> int:
    """A local port nothing listens on: connecting to it is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_smtp_down_after_the_invite_keeps_the_invite_and_the_page_says_so(
    lead_client, brand, settings, mailoutbox, enqueued, django_capture_on_commit_callbacks
):
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": closed_port(), "timeout": 2},
        }
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = lead_client.post(
            invite_url(brand), {"email": "new@example.com", "role": "analyst"}, follow=True
        )

    assert response.status_code == 200
    assert "new@example.com is now Analyst on Own Brand." in response.content.decode()
    user = User.objects.get(email="new@example.com")
    assert policies.role_for(user, brand) == Role.ANALYST
    assert enqueued.names == ["koastops.accounts.send_invitation"]
    # The worker's attempts fail (each retried with back-off on a real worker) ...
    with pytest.raises(ConnectionRefusedError):
        enqueued.run()
    # ... and the committed invite stays; nothing is marked as sent.
    assert policies.role_for(user, brand) == Role.ANALYST
    verbs = list(ActivityEntry.objects.order_by("id").values_list("verb", flat=True))
    assert verbs == ["member.invited", "member.role_granted"]
    assert not SentEmail.objects.exists()
    assert mailoutbox == []


def test_a_transient_smtp_error_is_retried_and_the_email_sent_once(
    ops_lead, brand, settings, mailoutbox
):
    settings.MAILERS = {"default": {"BACKEND": FLAKY_BACKEND}}
    FlakySmtpBackend.failures_left, FlakySmtpBackend.attempts = 2, 0
    user = UserFactory(email="invitee@example.com")

    result = tasks.send_invitation.apply(
        kwargs={"user_id": user.pk, "brand_id": brand.pk, "inviter_id": ops_lead.pk}
    )

    assert result.successful()
    assert FlakySmtpBackend.attempts == 3
    assert len(mailoutbox) == 1
    assert SentEmail.objects.count() == 1
    assert not TaskDelivery.objects.exists()  # every run returned


@pytest.mark.parametrize("task", [tasks.send_invitation, tasks.send_password_reset])
def test_email_tasks_declare_their_retry_policy_and_time_limits(task):
    assert task.name.startswith("koastops.accounts.")
    assert OSError in task.autoretry_for  # SMTPException, ConnectionError, timeouts
    assert task.retry_backoff and task.retry_jitter
    assert task.max_retries == 8
    assert 0 < task.soft_time_limit < task.time_limit


def test_a_redelivered_invitation_is_not_sent_twice(ops_lead, brand, mailoutbox):
    user = UserFactory(email="invitee@example.com")
    kwargs = {"user_id": user.pk, "brand_id": brand.pk, "inviter_id": ops_lead.pk}

    first = tasks.send_invitation.apply(kwargs=kwargs, task_id="invite-run-1")
    again = tasks.send_invitation.apply(kwargs=kwargs, task_id="invite-run-1")
    other_run = tasks.send_invitation.apply(kwargs=kwargs, task_id="invite-run-2")

    assert (first.result, again.result, other_run.result) == (True, False, True)
    assert len(mailoutbox) == 2
    assert "Lena Lead invited you to work on Own Brand" in mailoutbox[0].body


def test_no_email_for_a_user_deactivated_before_the_worker_ran(ops_lead, brand, mailoutbox):
    user = UserFactory(email="gone@example.com", is_active=False)
    result = tasks.send_invitation.apply(
        kwargs={"user_id": user.pk, "brand_id": brand.pk, "inviter_id": ops_lead.pk}
    )
    assert result.result is False
    assert tasks.send_password_reset.apply(kwargs={"user_id": user.pk}).result is False
    assert tasks.send_password_reset.apply(kwargs={"user_id": 999_999}).result is False
    assert mailoutbox == []


def test_a_forged_host_header_never_reaches_the_invitation(
    lead_client, brand, settings, mailoutbox, enqueued, django_capture_on_commit_callbacks
):
    settings.ALLOWED_HOSTS = ["testserver", "evil.example"]
    settings.SITE_URL = "https://koastops.example.com"
    with django_capture_on_commit_callbacks(execute=True):
        response = lead_client.post(
            invite_url(brand),
            {"email": "new@example.com", "role": "analyst"},
            HTTP_HOST="evil.example",
        )
    assert response.status_code == 302
    enqueued.run()

    [message] = mailoutbox
    assert "evil.example" not in message.body
    links = re.findall(r"https?://\S+", message.body)
    assert links
    assert all(link.startswith("https://koastops.example.com/accounts/reset/") for link in links)


def test_a_forged_host_header_never_reaches_the_password_reset(
    db, settings, mailoutbox, enqueued, django_capture_on_commit_callbacks
):
    settings.ALLOWED_HOSTS = ["testserver", "evil.example"]
    settings.SITE_URL = "https://koastops.example.com/"
    user = UserFactory(email="forgetful@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        response = Client().post(
            reverse("password_reset"), {"email": "Forgetful@Example.com"}, HTTP_HOST="evil.example"
        )
    assert response.status_code == 302
    assert [kwargs for _, _, kwargs in enqueued.calls] == [{"user_id": user.pk}]
    enqueued.run()

    [message] = mailoutbox
    assert message.to == ["forgetful@example.com"]
    assert "evil.example" not in message.body
    links = re.findall(r"https?://\S+", message.body)
    assert links
    assert all(link.startswith("https://koastops.example.com/accounts/reset/") for link in links)


def test_password_reset_for_an_unknown_address_answers_the_same_and_enqueues_nothing(
    db, enqueued, django_capture_on_commit_callbacks
):
    UserFactory(email="known@example.com")
    client = Client()
    with django_capture_on_commit_callbacks(execute=True):
        unknown = client.post(reverse("password_reset"), {"email": "nobody@example.com"})
    assert enqueued.calls == []
    with django_capture_on_commit_callbacks(execute=True):
        known = client.post(reverse("password_reset"), {"email": "known@example.com"})
    assert enqueued.names == ["koastops.accounts.send_password_reset"]
    assert (unknown.status_code, unknown["Location"]) == (known.status_code, known["Location"])


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_sends_the_invitation_into_the_dev_outbox(settings, tmp_path, brand):
    """Web → broker → worker → the development outbox (files, so a worker in another
    process would do the same), with the link from SITE_URL."""
    from koastops.devtools.mail import outbox_list
    from tests.system.test_worker import running_worker, wait_for

    settings.MAILERS = {"default": {"BACKEND": "koastops.devtools.mail.OutboxEmailBackend"}}
    settings.EMAIL_OUTBOX_DIR = tmp_path / "outbox"
    settings.SITE_URL = "https://koastops.example.com"
    lead = UserFactory(email="lead@example.com", full_name="Lena Lead")
    policies.grant_role(lead, brand, Role.OPS_LEAD)
    client = Client()
    client.force_login(lead)

    with running_worker():
        response = client.post(invite_url(brand), {"email": "new@example.com", "role": "analyst"})
        assert response.status_code == 302
        assert wait_for(lambda: len(outbox_list()) == 1), "the worker sent no email"

    [email] = outbox_list()
    assert email.to == "new@example.com"
    assert "https://koastops.example.com/accounts/reset/" in email.body
    assert SentEmail.objects.filter(task_name="koastops.accounts.send_invitation").count() == 1
    assert not TaskDelivery.objects.exists()


def test_a_broker_that_is_down_does_not_turn_the_committed_invite_into_a_500(
    lead_client, brand, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    from kombu.exceptions import OperationalError

    from koastops.celery import KoastopsTask

    def broker_down(self, *args, **kwargs):
        raise OperationalError("Error 111 connecting to redis:6379. Connection refused.")

    monkeypatch.setattr(KoastopsTask, "apply_async", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        response = lead_client.post(
            invite_url(brand), {"email": "new@example.com", "role": "analyst"}
        )

    assert response.status_code == 302
    user = User.objects.get(email="new@example.com")
    assert policies.role_for(user, brand) == Role.ANALYST
    assert "Connection refused" in caplog.text  # logged for the operator
