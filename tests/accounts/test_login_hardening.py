"""Login hardening: lockout after repeated wrong passwords (django-axes, by email + IP),
session key rotation at sign-in, idle and absolute session timeouts."""

from __future__ import annotations

import time

import pytest
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.test import Client
from django.urls import reverse

from koastops.core.session import SIGNED_IN_AT
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

EMAIL = "lock@example.com"
HOME = "/brands/"


@pytest.fixture
def user(db):
    return UserFactory(email=EMAIL)


def sign_in(client: Client, password: str, *, email: str = EMAIL, ip: str = "192.0.2.10"):
    return client.post(reverse("login"), {"username": email, "password": password}, REMOTE_ADDR=ip)


def signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


# --- lockout --------------------------------------------------------------------------------


def test_lockout_settings():
    assert settings.AUTHENTICATION_BACKENDS[0] == "axes.backends.AxesStandaloneBackend"
    assert settings.MIDDLEWARE[-1] == "axes.middleware.AxesMiddleware"
    assert settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]
    assert settings.AXES_FAILURE_LIMIT == 5
    assert settings.AXES_COOLOFF_TIME.total_seconds() == 30 * 60


def test_five_wrong_passwords_lock_the_email_from_that_ip_even_for_the_right_one(user, password):
    client = Client()
    for _ in range(4):
        response = sign_in(client, "wrong-password")
        assert response.status_code == 200
        assert response.context["form"].errors

    fifth = sign_in(client, "wrong-password")
    assert fifth.status_code == 429
    assert "Too many sign-in attempts" in fifth.content.decode()

    right = sign_in(client, password)
    assert right.status_code == 429
    assert "Please wait 30 minutes" in right.content.decode()
    assert not signed_in(client)


def test_the_same_email_from_another_ip_is_not_locked(user, password):
    attacker = Client()
    for _ in range(5):
        sign_in(attacker, "wrong-password", ip="192.0.2.10")
    assert sign_in(attacker, password, ip="192.0.2.10").status_code == 429

    owner = Client()
    response = sign_in(owner, password, ip="198.51.100.7")
    assert response.status_code == 302
    assert signed_in(owner)


def test_another_email_from_the_locked_ip_is_not_locked(user, password):
    client = Client()
    for _ in range(5):
        sign_in(client, "wrong-password")
    other = UserFactory(email="other@example.com")

    response = sign_in(client, password, email=other.email)

    assert response.status_code == 302


def test_a_successful_sign_in_resets_the_failure_count(user, password):
    client = Client()
    for _ in range(4):
        sign_in(client, "wrong-password")
    assert sign_in(client, password).status_code == 302
    client.post(reverse("logout"))

    for _ in range(4):
        assert sign_in(client, "wrong-password").status_code == 200
    assert sign_in(client, password).status_code == 302


# --- sessions -----------------------------------------------------------------------------------


def test_sign_in_rotates_the_session_key(user, password):
    client = Client()
    before = client.session.session_key  # an anonymous session, as a fixation attacker would plant
    assert before

    assert sign_in(client, password).status_code == 302

    after = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert after != before
    assert not SessionStore().exists(before)
    assert signed_in(client)


def test_sign_in_stamps_the_session(user, password):
    client = Client()
    sign_in(client, password)

    assert abs(client.session[SIGNED_IN_AT] - time.time()) < 60


def test_idle_timeout_slides_with_every_request():
    assert settings.SESSION_COOKIE_AGE == 120 * 60
    assert settings.SESSION_SAVE_EVERY_REQUEST is True


def _age_sign_in(client: Client, seconds: float) -> None:
    session = client.session
    session[SIGNED_IN_AT] = int(time.time() - seconds)
    session.save()


def test_a_session_within_the_absolute_timeout_keeps_working(user, password):
    client = Client()
    sign_in(client, password)
    _age_sign_in(client, settings.SESSION_ABSOLUTE_TIMEOUT.total_seconds() - 60)

    assert client.get(HOME).status_code == 200


def test_the_absolute_timeout_signs_out_with_a_message(user, password):
    client = Client()
    sign_in(client, password)
    _age_sign_in(client, settings.SESSION_ABSOLUTE_TIMEOUT.total_seconds() + 1)

    response = client.get(HOME)

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={HOME}"
    assert not signed_in(client)
    page = client.get(response["Location"])
    assert "Your session has expired. Please sign in again." in page.content.decode()
    # Signing in again starts a new clock.
    sign_in(client, password)
    assert client.get(HOME).status_code == 200


def test_the_absolute_timeout_answers_htmx_with_a_client_redirect(user, password):
    client = Client()
    sign_in(client, password)
    _age_sign_in(client, settings.SESSION_ABSOLUTE_TIMEOUT.total_seconds() + 1)

    response = client.get(HOME, HTTP_HX_REQUEST="true")

    # The URL of the GET is where sign-in comes back to (HX-Current-URL when sent: tests/core).
    assert response["HX-Redirect"] == f"{reverse('login')}?next={HOME}"
    assert not signed_in(client)


def test_a_session_without_a_stamp_is_stamped_on_its_first_request(user):
    client = Client()
    client.force_login(user)
    session = client.session
    session.pop(SIGNED_IN_AT, None)
    session.save()

    assert client.get(HOME).status_code == 200

    assert abs(client.session[SIGNED_IN_AT] - time.time()) < 60
