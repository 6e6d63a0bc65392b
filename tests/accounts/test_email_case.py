"""An email address is one person whatever its case: sign-in (the page and the admin's),
the lockout count and password reset all match it case-insensitively, and the database
holds at most one user per lower-cased address."""

from __future__ import annotations

import re

import pytest
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse

from koastops.accounts.models import User
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

EMAIL = "analyst.verde@koastops.example"
MIXED = "Analyst.Verde@KoastOps.Example"
NEW_PASSWORD = "an-entirely-new-password-77"


@pytest.fixture
def user(db) -> User:
    return UserFactory(email=EMAIL)


def sign_in(client: Client, email: str, password: str, *, ip: str = "192.0.2.20"):
    return client.post(reverse("login"), {"username": email, "password": password}, REMOTE_ADDR=ip)


def test_sign_in_with_a_mixed_case_email_and_the_right_password_works(user, password):
    client = Client()
    response = sign_in(client, f"  {MIXED} ", password)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


def test_sign_in_with_a_mixed_case_email_and_a_wrong_password_fails(user):
    client = Client()
    response = sign_in(client, MIXED, "wrong-password")
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_the_admin_login_also_ignores_case(password):
    admin = UserFactory(email="boss@koastops.example", is_staff=True, is_superuser=True)
    client = Client()
    response = client.post(
        reverse("admin:login"),
        {"username": "BOSS@koastops.example", "password": password},
        REMOTE_ADDR="192.0.2.21",
    )
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(admin.pk)


def test_changing_the_case_does_not_buy_more_attempts_before_the_lockout(user, password):
    """Axes keys the lockout on the normalised email: five wrong passwords under five
    spellings lock the address (from that IP), the right password included."""
    client = Client()
    spellings = [EMAIL, MIXED, EMAIL.upper(), "Analyst.verde@koastops.example", EMAIL.title()]
    statuses = [sign_in(client, email, "wrong-password").status_code for email in spellings]
    assert statuses == [200, 200, 200, 200, 429]
    assert sign_in(client, EMAIL, password).status_code == 429
    assert sign_in(client, MIXED, password).status_code == 429
    assert "_auth_user_id" not in client.session


def test_password_reset_by_a_mixed_case_email_reaches_the_user(
    user, mailoutbox, enqueued, django_capture_on_commit_callbacks
):
    client = Client()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("password_reset"), {"email": MIXED})
    assert response.status_code == 302
    assert enqueued.names == ["koastops.accounts.send_password_reset"]
    enqueued.run()
    [mail] = mailoutbox
    assert mail.to == [EMAIL]
    link = re.search(r"/accounts/reset/\S+/\S+/", mail.body).group(0)
    form_url = client.get(link)["Location"]
    response = client.post(form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert sign_in(Client(), MIXED, NEW_PASSWORD).status_code == 302


def test_one_user_per_email_whatever_its_case(user):
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(email=MIXED)


def test_emails_are_stored_lower_cased_by_forms_and_the_manager():
    assert User.objects.create_user(MIXED).email == EMAIL
    other = User(email="  Someone@Example.COM ")
    other.clean()
    assert other.email == "someone@example.com"
