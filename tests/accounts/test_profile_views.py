"""The user's own page (/me/): roles per brand and personal API tokens — a new token is
shown once, only its hash is stored, and a revoked token stops working on the API."""

from __future__ import annotations

import datetime as dt
import hashlib
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from koastops.accounts import policies
from koastops.accounts.models import ApiToken, Role
from koastops.accounts.tokens import api_token_create, api_token_revoke
from koastops.activity.models import ActivityEntry
from tests.factories import BrandFactory, UserFactory

pytestmark = pytest.mark.django_db

PROFILE = "/me/"
CREATE = "/me/tokens/"
TOKEN_RE = re.compile(r"kst_[A-Za-z0-9_-]{20,}")


@pytest.fixture
def member(brand):
    user = UserFactory(email="member@example.com")
    policies.grant_role(user, brand, Role.MEDIA_BUYER)
    return user


@pytest.fixture
def member_client(member) -> Client:
    client = Client()
    client.force_login(member)
    return client


def api_status(raw: str) -> int:
    return Client().get("/api/v1/brands", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code


def test_urls():
    assert reverse("profile:detail") == PROFILE
    assert reverse("profile:token_create") == CREATE
    assert reverse("profile:token_revoke", args=[7]) == "/me/tokens/7/revoke/"


# --- the page ------------------------------------------------------------------------------


def test_anonymous_is_sent_to_sign_in(brand, activity):
    for response in (Client().get(PROFILE), Client().post(CREATE, {"name": "x"})):
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/?next=")
    assert not ApiToken.objects.exists()
    activity.none()


def test_page_shows_roles_per_brand_and_password_change(member_client, member, brand):
    second = BrandFactory(name="Second Brand", slug="second-brand")
    policies.grant_role(member, second, Role.ANALYST)
    BrandFactory(name="Not Mine", slug="not-mine")
    response = member_client.get(PROFILE)
    assert response.status_code == 200
    assert [(b.slug, role) for b, role in response.context["roles"]] == [
        ("own-brand", Role.MEDIA_BUYER),
        ("second-brand", Role.ANALYST),
    ]
    section = response.content.decode().split('id="roles-heading"', 1)[1].split("</section>")[0]
    assert "Own Brand" in section and "Media buyer" in section
    assert "Second Brand" in section and "Analyst" in section
    assert "Not Mine" not in section
    assert f'href="{reverse("password_change")}"' in response.content.decode()
    assert "You have no API tokens yet." in response.content.decode()


def test_page_without_roles_says_so(outsider_client):
    assert "You have no role on any brand yet" in outsider_client.get(PROFILE).content.decode()


def test_admin_page_says_admin(admin_client):
    assert "admin</strong>" in admin_client.get(PROFILE).content.decode()


def test_token_list_shows_status_and_prefix_never_the_token(member_client, member):
    active, active_raw = api_token_create(user=member, name="Active one")
    expired, _ = api_token_create(user=member, name="Expired one")
    ApiToken.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - dt.timedelta(days=1))
    revoked, _ = api_token_create(user=member, name="Revoked one")
    api_token_revoke(user=member, token=revoked)
    api_token_create(user=UserFactory(), name="Someone else's")
    response = member_client.get(PROFILE)
    content = response.content.decode()
    rows = {token.name: token.status for token in response.context["api_tokens"]}
    assert rows == {"Active one": "active", "Expired one": "expired", "Revoked one": "revoked"}
    assert f"{active.prefix}…" in content
    assert active_raw not in content and not TOKEN_RE.search(content)
    row = content.split(f'id="token-{active.pk}"', 1)[1].split("</tr>")[0]
    assert "Revoke" in row and "data-confirm=" in row
    assert (
        "Revoke</button>" not in content.split(f'id="token-{revoked.pk}"', 1)[1].split("</tr>")[0]
    )


def test_htmx_get_of_the_token_region(member_client, htmx_headers):
    response = member_client.get(PROFILE, HTTP_HX_TARGET="api-tokens", **htmx_headers)
    assert response.content.decode().lstrip().startswith('<section id="api-tokens"')


# --- create --------------------------------------------------------------------------------


def test_created_token_is_shown_once_and_only_its_hash_is_stored(member_client, member, activity):
    activity.mark()
    response = member_client.post(CREATE, {"name": "Looker export", "expires_in_days": "30"})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    content = response.content.decode()
    assert "Copy it now — it will not be shown again" in content
    [raw] = set(TOKEN_RE.findall(content))
    token = ApiToken.objects.get(user=member)
    assert token.name == "Looker export"
    assert token.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert raw.startswith(token.prefix)
    stored = [str(value) for value in ApiToken.objects.filter(pk=token.pk).values().get().values()]
    assert raw not in stored
    assert (token.expires_at - timezone.now()).days in (29, 30)
    entry = activity.one("api_token.created", actor=member, brand=None)
    assert (entry.target_type, entry.target_id) == ("accounts.apitoken", str(token.pk))
    assert entry.after["name"] == "Looker export"
    stored_entry = str(ActivityEntry.objects.filter(pk=entry.pk).values().get())
    assert raw not in stored_entry and token.token_hash not in stored_entry
    # Never again: the page afterwards shows the prefix only.
    later = member_client.get(PROFILE).content.decode()
    assert raw not in later and "Copy it now" not in later
    assert f"{token.prefix}…" in later
    assert api_status(raw) == 200


def test_default_expiry_is_90_days(member_client, member):
    form = member_client.get(PROFILE).context["form"]
    assert form["expires_in_days"].value() == 90
    member_client.post(CREATE, {"name": "Default", "expires_in_days": "90"})
    token = ApiToken.objects.get(user=member)
    assert (token.expires_at - token.created_at).days in (89, 90)


def test_htmx_create_renders_the_token_region_once(member_client, member, htmx_headers, activity):
    activity.mark()
    response = member_client.post(
        CREATE,
        {"name": "CI", "expires_in_days": "7"},
        HTTP_HX_TARGET="api-tokens",
        **htmx_headers,
    )
    assert response.status_code == 200
    content = response.content.decode()
    assert content.lstrip().startswith('<section id="api-tokens"')
    assert "<html" not in content
    assert len(set(TOKEN_RE.findall(content))) == 1
    assert "no-store" in response["Cache-Control"]
    assert "toast" in response["HX-Trigger"]
    activity.one("api_token.created", actor=member, brand=None)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": "", "expires_in_days": "30"}, "name"),
        ({"name": "x" * 101, "expires_in_days": "30"}, "name"),
        ({"name": "ok", "expires_in_days": "0"}, "expires_in_days"),
        ({"name": "ok", "expires_in_days": "366"}, "expires_in_days"),
        ({"name": "ok", "expires_in_days": "soon"}, "expires_in_days"),
    ],
)
def test_invalid_token_form_shows_errors_by_the_field(member_client, data, field, activity):
    activity.mark()
    response = member_client.post(CREATE, data)
    assert response.status_code == 422
    assert field in response.context["form"].errors
    assert f'id="id_{field}_error"' in response.content.decode()
    assert not ApiToken.objects.exists()
    assert not TOKEN_RE.search(response.content.decode())
    activity.none()


def test_invalid_token_form_with_htmx_swaps_the_region(member_client, htmx_headers):
    response = member_client.post(
        CREATE, {"name": "", "expires_in_days": "30"}, HTTP_HX_TARGET="api-tokens", **htmx_headers
    )
    assert response.status_code == 422
    assert response.content.decode().lstrip().startswith('<section id="api-tokens"')


def test_create_is_post_only(member_client):
    assert member_client.get(CREATE).status_code == 405


# --- revoke --------------------------------------------------------------------------------


def test_revoke_redirects_and_the_token_stops_working(member_client, member, activity):
    token, raw = api_token_create(user=member, name="Old")
    activity.mark()
    assert api_status(raw) == 200
    response = member_client.post(reverse("profile:token_revoke", args=[token.pk]))
    assert response.status_code == 302
    assert response["Location"] == PROFILE
    token.refresh_from_db()
    assert token.revoked_at is not None
    entry = activity.one("api_token.revoked", actor=member, brand=None)
    assert entry.target_id == str(token.pk)
    assert api_status(raw) == 401
    page = member_client.get(PROFILE)
    assert "revoked" in page.content.decode()


def test_htmx_revoke_swaps_the_token_region_with_a_toast(
    member_client, member, htmx_headers, activity
):
    token, _ = api_token_create(user=member, name="Old")
    activity.mark()
    response = member_client.post(
        reverse("profile:token_revoke", args=[token.pk]),
        HTTP_HX_TARGET="api-tokens",
        **htmx_headers,
    )
    assert response.status_code == 200
    assert response.content.decode().lstrip().startswith('<section id="api-tokens"')
    assert "revoked" in response["HX-Trigger"]
    assert ApiToken.objects.get(pk=token.pk).revoked_at is not None
    activity.one("api_token.revoked", actor=member, brand=None)


def test_revoking_twice_is_harmless(member_client, member, activity):
    token, _ = api_token_create(user=member, name="Old")
    url = reverse("profile:token_revoke", args=[token.pk])
    activity.mark()
    member_client.post(url)
    activity.one("api_token.revoked", actor=member, brand=None)
    first = ApiToken.objects.get(pk=token.pk).revoked_at
    assert member_client.post(url).status_code == 302
    assert ApiToken.objects.get(pk=token.pk).revoked_at == first
    activity.none()  # nothing changed the second time


def test_another_users_token_is_404_and_stays_usable(member_client, activity):
    other = UserFactory(email="other@example.com")
    policies.grant_role(other, BrandFactory(), Role.ANALYST)
    token, raw = api_token_create(user=other, name="Theirs")
    activity.mark()
    response = member_client.post(reverse("profile:token_revoke", args=[token.pk]))
    assert response.status_code == 404
    assert ApiToken.objects.get(pk=token.pk).revoked_at is None
    activity.none()
    assert api_status(raw) == 200


def test_revoke_is_post_only(member_client, member, activity):
    token, _ = api_token_create(user=member, name="Old")
    activity.mark()
    assert member_client.get(reverse("profile:token_revoke", args=[token.pk])).status_code == 405
    activity.none()
