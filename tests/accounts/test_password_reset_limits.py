"""Password-reset requests are rate limited per email address and per client IP; the
answer over a limit is friendly and the same whether or not the address has a user."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

WAIT = "Too many reset requests"


@pytest.fixture(autouse=True)
def _limits(settings):
    settings.PASSWORD_RESET_LIMIT_PER_EMAIL = 2
    settings.PASSWORD_RESET_LIMIT_PER_IP = 5
    settings.PASSWORD_RESET_WINDOW_MINUTES = 60


def ask(email: str, ip: str = "203.0.113.7"):
    return Client(REMOTE_ADDR=ip).post(reverse("password_reset"), {"email": email})


RESET_TASK = "koastops.accounts.send_password_reset"


def test_requests_within_the_limit_send_the_link(enqueued, django_capture_on_commit_callbacks):
    UserFactory(email="forgetful@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        assert [ask("forgetful@example.com").status_code for _ in range(2)] == [302, 302]
    assert enqueued.names == [RESET_TASK, RESET_TASK]


def test_past_the_email_limit_nothing_is_sent_and_the_form_says_to_wait(
    enqueued, django_capture_on_commit_callbacks
):
    UserFactory(email="forgetful@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(2):
            ask("forgetful@example.com")
        response = ask("FORGETFUL@example.com ", ip="198.51.100.1")  # other IP, same address
    assert response.status_code == 429
    assert WAIT in response.content.decode()
    assert enqueued.names == [RESET_TASK, RESET_TASK]


def test_the_answer_does_not_tell_whether_the_address_exists(mailoutbox):
    UserFactory(email="known@example.com")
    answers = {}
    for email in ("known@example.com", "unknown@example.com"):
        statuses = [ask(email, ip=f"198.51.100.{n}").status_code for n in range(3)]
        answers[email] = (statuses, WAIT in ask(email, ip="198.51.100.9").content.decode())
    assert answers["known@example.com"] == answers["unknown@example.com"]
    assert answers["known@example.com"] == ([302, 302, 429], True)


def test_past_the_ip_limit_other_addresses_wait_too(mailoutbox):
    for n in range(5):
        assert ask(f"someone-{n}@example.com").status_code == 302
    response = ask("someone-else@example.com")
    assert response.status_code == 429
    assert WAIT in response.content.decode()
    assert ask("someone-else@example.com", ip="198.51.100.1").status_code == 302


def test_a_zero_limit_switches_it_off(settings, enqueued, django_capture_on_commit_callbacks):
    settings.PASSWORD_RESET_LIMIT_PER_EMAIL = 0
    settings.PASSWORD_RESET_LIMIT_PER_IP = 0
    UserFactory(email="forgetful@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        assert {ask("forgetful@example.com").status_code for _ in range(4)} == {302}
    assert enqueued.names == [RESET_TASK] * 4


def test_an_invalid_email_is_a_form_error_not_a_count():
    for _ in range(3):
        response = ask("not an email")
        assert response.status_code == 200
        assert "email" in response.context["form"].errors
