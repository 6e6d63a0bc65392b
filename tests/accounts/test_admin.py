from django.apps import apps
from django.contrib import admin
from django.test import Client
from django.urls import reverse

from koastops.accounts import policies
from koastops.accounts.models import Role, User
from koastops.accounts.tokens import api_token_authenticate
from koastops.activity.models import ActivityEntry
from tests.factories import ApiTokenFactory, UserFactory


def test_every_project_model_is_in_the_admin():
    """Except the models with a composite primary key (the quality stat tables), which
    Django's admin refuses to register."""
    ours = [m for m in apps.get_models() if m.__module__.startswith("koastops.")]
    composite = {m.__name__ for m in ours if m._meta.pk.__class__.__name__ == "CompositePrimaryKey"}
    assert composite == {"HourlyStat", "DailyStat"}
    missing = [m.__name__ for m in ours if m not in admin.site._registry]
    assert sorted(missing) == sorted(composite)


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


def test_deactivating_in_the_admin_goes_through_the_service_and_ends_sessions_and_tokens(
    admin_client, admin_user, password, activity
):
    member = UserFactory(email="member@example.com")
    token = ApiTokenFactory(user=member)
    member_client = Client()
    member_client.force_login(member)
    assert member_client.get(reverse("profile:detail")).status_code == 200
    activity.mark()

    response = admin_client.post(
        reverse("admin:accounts_user_change", args=[member.pk]),
        _user_form(member, is_active=None),
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    member.refresh_from_db()
    assert not member.is_active
    assert member.session_version == 1
    # The members page's service and verb: one row, nothing else.
    entry = activity.one("member.deactivated", actor=admin_user)
    assert entry.target_id == str(member.pk)
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


def test_admin_deactivating_the_last_ops_lead_of_a_brand_is_allowed(
    admin_client, admin_user, brand, activity
):
    lead = UserFactory(email="only-lead@example.com")
    policies.grant_role(lead, brand, Role.OPS_LEAD)
    activity.mark()
    response = admin_client.post(
        reverse("admin:accounts_user_change", args=[lead.pk]), _user_form(lead, is_active=None)
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    activity.one("member.deactivated", actor=admin_user)


def test_an_admin_cannot_deactivate_themselves_in_the_admin(admin_client, admin_user, activity):
    response = admin_client.post(
        reverse("admin:accounts_user_change", args=[admin_user.pk]),
        _user_form(admin_user, is_active=None, is_staff="on", is_superuser="on"),
    )
    assert response.status_code == 200
    assert "You cannot deactivate yourself" in response.content.decode()
    admin_user.refresh_from_db()
    assert admin_user.is_active
    activity.none()


def test_changing_a_profile_field_in_the_admin_writes_one_row(admin_client, admin_user, activity):
    member = UserFactory(email="member@example.com", full_name="Old Name")
    activity.mark()
    response = admin_client.post(
        reverse("admin:accounts_user_change", args=[member.pk]),
        _user_form(member, full_name="New Name"),
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    entry = activity.one("user.updated", actor=admin_user)
    assert entry.before == {"full_name": "Old Name"}
    assert entry.after == {"full_name": "New Name"}


def test_setting_a_password_in_the_admin_is_logged(admin_client, admin_user, activity):
    member = UserFactory(email="member@example.com")
    activity.mark()
    response = admin_client.post(
        reverse("admin:auth_user_password_change", args=[member.pk]),
        {
            "password1": "a-new-long-password-7",
            "password2": "a-new-long-password-7",
            "usable_password": "true",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    member.refresh_from_db()
    assert member.check_password("a-new-long-password-7")
    entry = activity.one("user.password_set", actor=admin_user)
    assert entry.target_id == str(member.pk)
    assert entry.after == {"usable_password": True}
    assert "a-new-long-password-7" not in str(entry.before) + str(entry.after)


def test_a_refused_password_in_the_admin_writes_nothing(admin_client, activity):
    member = UserFactory(email="member@example.com")
    activity.mark()
    response = admin_client.post(
        reverse("admin:auth_user_password_change", args=[member.pk]),
        {"password1": "short", "password2": "different", "usable_password": "true"},
    )
    assert response.status_code == 200
    activity.none()


def test_users_cannot_be_deleted_in_the_admin(admin_client, activity):
    member = UserFactory(email="member@example.com")
    activity.mark()
    delete = reverse("admin:accounts_user_delete", args=[member.pk])
    assert admin_client.get(delete).status_code == 403
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    changelist = reverse("admin:accounts_user_changelist")
    response = admin_client.get(changelist)
    assert response.status_code == 200
    assert "delete_selected" not in response.content.decode()
    response = admin_client.post(
        changelist, {"action": "delete_selected", "_selected_action": [member.pk], "post": "yes"}
    )
    assert User.objects.filter(pk=member.pk).exists()
    activity.none()
