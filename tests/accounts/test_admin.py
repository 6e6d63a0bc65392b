from django.apps import apps
from django.contrib import admin
from django.test import Client
from django.urls import reverse

from koastops.accounts.models import User
from koastops.accounts.tokens import api_token_authenticate
from koastops.activity.models import ActivityEntry
from tests.factories import ApiTokenFactory, UserFactory


def test_every_project_model_is_in_the_admin():
    ours = [m for m in apps.get_models() if m.__module__.startswith("koastops.")]
    assert [m.__name__ for m in ours if m not in admin.site._registry] == []


def test_domain_models_are_view_only_in_the_admin(admin_client, brand, pixel):
    change = reverse("admin:catalog_brand_change", args=[brand.pk])
    assert admin_client.get(change).status_code == 200  # looking is fine
    response = admin_client.post(change, {"name": "Renamed behind the log's back"})
    assert response.status_code == 403
    brand.refresh_from_db()
    assert brand.name == "Own Brand"
    for name in ("catalog_pixel_delete", "accounts_apitoken_delete"):
        obj = pixel if "pixel" in name else ApiTokenFactory()
        assert admin_client.post(reverse(f"admin:{name}", args=[obj.pk])).status_code == 403
    assert admin_client.get(reverse("admin:catalog_brand_add")).status_code == 403


def _user_form(user: User, **changes) -> dict:
    data = {
        "email": user.email,
        "full_name": user.full_name,
        "is_active": "on",
        "last_login_0": "",
        "last_login_1": "",
        "date_joined_0": user.date_joined.strftime("%Y-%m-%d"),
        "date_joined_1": user.date_joined.strftime("%H:%M:%S"),
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def test_deactivating_in_the_admin_is_logged_and_ends_sessions_and_tokens(
    admin_client, admin_user, password
):
    member = UserFactory(email="member@example.com")
    token = ApiTokenFactory(user=member)
    member_client = Client()
    member_client.force_login(member)
    assert member_client.get(reverse("profile:detail")).status_code == 200

    response = admin_client.post(
        reverse("admin:accounts_user_change", args=[member.pk]),
        _user_form(member, is_active=None),
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    member.refresh_from_db()
    assert not member.is_active
    entry = ActivityEntry.objects.get(verb="user.updated")
    assert entry.actor_id == admin_user.pk
    assert entry.before == {"is_active": True}
    assert entry.after == {"is_active": False}
    assert api_token_authenticate(token.raw) is None
    response = member_client.get(reverse("profile:detail"))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_creating_a_user_in_the_admin_is_logged(admin_client, admin_user):
    response = admin_client.post(
        reverse("admin:accounts_user_add"),
        {
            "email": "created@example.com",
            "password1": "a-long-enough-password-1",
            "password2": "a-long-enough-password-1",
            "usable_password": "true",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    created = User.objects.get(email="created@example.com")
    entry = ActivityEntry.objects.get(verb="user.created")
    assert entry.target_id == str(created.pk)
    assert entry.actor_id == admin_user.pk
