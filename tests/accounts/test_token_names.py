"""API token names are how a person tells their tokens apart (to revoke the right one):
among their tokens that are not revoked, a name is used once, whatever its case. A new
token is shown once, selected on display, with a Copy button."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.test import Client
from django.utils import timezone

from koastops.accounts import tokens
from koastops.accounts.models import ApiToken
from koastops.accounts.tokens import api_token_create, api_token_revoke, token_status
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PROFILE = "/me/"
CREATE = "/me/tokens/"
DUPLICATE = "You already have a token named"


@pytest.fixture
def user():
    return UserFactory(email="tokens@example.com")


@pytest.fixture
def user_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


# --- the rule, in the service ----------------------------------------------------------------


@pytest.mark.parametrize("second", ["Looker export", "looker EXPORT", "  Looker export  "])
def test_a_second_active_token_with_the_same_name_is_refused_whatever_its_case(
    user, activity, second
):
    api_token_create(user=user, name="Looker export")
    activity.mark()
    with pytest.raises(ValidationError) as refused:
        api_token_create(user=user, name=second)
    [message] = refused.value.message_dict["name"]
    assert DUPLICATE in message and "names are compared without case" in message
    assert ApiToken.objects.filter(user=user).count() == 1
    activity.none()


def test_a_revoked_token_frees_its_name(user):
    token, _ = api_token_create(user=user, name="Looker")
    api_token_revoke(user=user, token=token)
    new, _ = api_token_create(user=user, name="looker")
    assert new.name == "looker"


def test_an_expired_namesake_is_retired_and_the_name_reused(user):
    old, _ = api_token_create(user=user, name="Nightly")
    ApiToken.objects.filter(pk=old.pk).update(expires_at=timezone.now() - dt.timedelta(days=1))
    new, _ = api_token_create(user=user, name="Nightly")
    old.refresh_from_db()
    assert old.revoked_at is not None
    # It ended by expiring: it is still listed as expired, not as revoked.
    assert token_status(old, timezone.now()) == "expired"
    assert token_status(new, timezone.now()) == "active"


def test_a_token_revoked_before_it_expired_is_revoked(user):
    token, _ = api_token_create(user=user, name="Gone")
    api_token_revoke(user=user, token=token)
    token.refresh_from_db()
    assert token_status(token, timezone.now()) == "revoked"


def test_other_people_may_use_the_same_name(user):
    api_token_create(user=user, name="Looker")
    other, _ = api_token_create(user=UserFactory(), name="Looker")
    assert other.name == "Looker"


def test_the_database_refuses_two_unrevoked_namesakes(user):
    api_token_create(user=user, name="Looker")
    with pytest.raises(IntegrityError), transaction.atomic():
        ApiToken.objects.create(
            user=user,
            name="LOOKER",
            prefix="kst_x",
            token_hash="0" * 64,
            expires_at=timezone.now() + dt.timedelta(days=1),
        )


def test_a_namesake_committed_in_between_is_refused_by_the_field(user, monkeypatch):
    """Two requests with the same name at once: both pass the check, the constraint
    stops the second, and the service answers the same field error (not a 500)."""
    api_token_create(user=user, name="Racer")
    real_exists = QuerySet.exists

    def exists(self):  # the check runs before the other request committed
        return False if self.model is ApiToken else real_exists(self)

    monkeypatch.setattr(QuerySet, "exists", exists)
    with pytest.raises(ValidationError) as refused:
        tokens.api_token_create(user=user, name="racer")
    assert DUPLICATE in refused.value.message_dict["name"][0]
    assert ApiToken.objects.filter(user=user).count() == 1


# --- the page ------------------------------------------------------------------------------


def test_duplicate_name_on_the_page_is_422_by_the_name_field(user, user_client, htmx_headers):
    api_token_create(user=user, name="Looker export")
    for headers in ({}, htmx_headers):
        response = user_client.post(
            CREATE, {"name": "LOOKER export", "expires_in_days": 30}, **headers
        )
        assert response.status_code == 422
        assert DUPLICATE in response.context["form"].errors["name"][0]
        html = response.content.decode().replace("&#x27;", "'")
        error = re.search(r'<ul class="errorlist" id="id_name_error">(.*?)</ul>', html, re.DOTALL)
        assert error and DUPLICATE in error.group(1)
        # The error summary (focused by app.js) names it too, linking to the field.
        assert "data-error-summary" in html and 'href="#id_name"' in html
        assert 'value="LOOKER export"' in html  # what was typed stays
    assert ApiToken.objects.filter(user=user).count() == 1


def test_new_token_is_selected_on_display_with_a_copy_button(user_client):
    response = user_client.post(CREATE, {"name": "BI", "expires_in_days": 30})
    assert response.status_code == 200
    html = response.content.decode()
    [raw] = set(re.findall(r"kst_[A-Za-z0-9_-]{20,}", html))
    field = re.search(r'<input id="new-token"[^>]*>', html).group(0)
    assert f'value="{raw}"' in field
    assert "readonly" in field and "data-select-on-display" in field and "autofocus" in field
    button = re.search(r'<button type="button"[^>]*data-copy-target="new-token"[^>]*>', html)
    assert button
    # "Copied" is announced: a live region next to the button.
    assert re.search(r'<span class="visually-hidden" aria-live="polite" data-copy-status>', html)
    assert re.search(r'<script src="/static/js/copy\.js[^"]*" defer', html)
    assert raw not in user_client.get(PROFILE).content.decode()  # shown once


def test_copy_script_is_a_static_file_without_inline_code(user_client):
    html = user_client.get(PROFILE).content.decode()
    assert re.search(r'<script src="/static/js/copy\.js[^"]*" defer', html)
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)  # no inline script
    assert " onclick=" not in html
