import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client

from koastops.accounts import policies, services
from koastops.accounts.models import Role, User
from koastops.accounts.tokens import api_token_authenticate
from koastops.activity.models import ActivityEntry
from tests.factories import AdAccountFactory, ApiTokenFactory, UserFactory


@pytest.fixture
def ops_lead(brand):
    user = UserFactory(email="lead@example.com")
    policies.grant_role(user, brand, Role.OPS_LEAD)
    return user


def test_invite_creates_user_grants_role_and_emails_a_link(
    ops_lead, brand, mailoutbox, django_capture_on_commit_callbacks, enqueued, settings
):
    settings.SITE_URL = "https://koastops.example.com"
    with django_capture_on_commit_callbacks(execute=True):
        user = services.member_invite(
            actor=ops_lead,
            brand=brand,
            email="New.Buyer@Example.com",
            role=Role.MEDIA_BUYER,
        )
    assert user.email == "new.buyer@example.com"
    assert not user.has_usable_password()
    assert policies.role_for(user, brand) == Role.MEDIA_BUYER
    verbs = list(ActivityEntry.objects.order_by("id").values_list("verb", flat=True))
    assert verbs == ["member.invited", "member.role_granted"]
    # The email leaves the request: one message with ids only, sent by the worker.
    assert mailoutbox == []
    assert [(task.name, kwargs) for task, _, kwargs in enqueued.calls] == [
        (
            "koastops.accounts.send_invitation",
            {"user_id": user.pk, "brand_id": brand.pk, "inviter_id": ops_lead.pk},
        )
    ]
    assert enqueued.run() == [True]
    assert len(mailoutbox) == 1
    assert "https://koastops.example.com/accounts/reset/" in mailoutbox[0].body


def test_only_ops_leads_of_the_brand_invite(brand, foreign_brand, ops_lead):
    with pytest.raises(PermissionDenied):
        services.member_invite(
            actor=ops_lead,
            brand=foreign_brand,
            email="x@example.com",
            role=Role.ANALYST,
        )
    assert not User.objects.filter(email="x@example.com").exists()
    assert ActivityEntry.objects.count() == 0


def test_changing_and_revoking_a_role_log_one_row_each(ops_lead, brand):
    member = UserFactory()
    services.member_grant_role(actor=ops_lead, brand=brand, user=member, role=Role.ANALYST)
    services.member_grant_role(actor=ops_lead, brand=brand, user=member, role=Role.ANALYST)
    services.member_grant_role(actor=ops_lead, brand=brand, user=member, role=Role.MEDIA_BUYER)
    assert services.member_revoke_role(actor=ops_lead, brand=brand, user=member)
    assert not services.member_revoke_role(actor=ops_lead, brand=brand, user=member)
    verbs = list(ActivityEntry.objects.order_by("id").values_list("verb", flat=True))
    assert verbs == ["member.role_granted", "member.role_changed", "member.role_revoked"]


def test_narrowing_needs_a_media_buyer_and_own_ad_accounts(ops_lead, brand, foreign_brand):
    member = UserFactory()
    services.member_grant_role(actor=ops_lead, brand=brand, user=member, role=Role.ANALYST)
    own = AdAccountFactory(brand=brand)
    with pytest.raises(ValidationError):
        services.member_narrow_ad_accounts(
            actor=ops_lead, brand=brand, user=member, ad_accounts=[own]
        )
    services.member_grant_role(actor=ops_lead, brand=brand, user=member, role=Role.MEDIA_BUYER)
    with pytest.raises(ValidationError):
        services.member_narrow_ad_accounts(
            actor=ops_lead,
            brand=brand,
            user=member,
            ad_accounts=[AdAccountFactory(brand=foreign_brand)],
        )
    services.member_narrow_ad_accounts(actor=ops_lead, brand=brand, user=member, ad_accounts=[own])
    assert list(policies.ad_accounts_for(member, brand)) == [own]


def test_deactivation_ends_sessions_and_tokens_on_the_next_request(ops_lead, brand, password):
    member = UserFactory()
    services.member_grant_role(actor=ops_lead, brand=brand, user=member, role=Role.ANALYST)
    client = Client()
    # force_login: with axes first in AUTHENTICATION_BACKENDS, client.login() (which calls
    # authenticate() without a request) is refused by AxesStandaloneBackend.
    client.force_login(member)
    raw = ApiTokenFactory(user=member).raw
    assert api_token_authenticate(raw) == member
    assert client.get(f"/brands/{brand.slug}/").status_code != 302

    assert services.user_deactivate(actor=ops_lead, user=member, brand=brand)
    response = client.get(f"/brands/{brand.slug}/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
    assert api_token_authenticate(raw) is None
    assert ActivityEntry.objects.filter(verb="member.deactivated").count() == 1


def test_ops_lead_cannot_deactivate_someone_with_roles_elsewhere(ops_lead, brand, foreign_brand):
    member = UserFactory()
    policies.grant_role(member, brand, Role.ANALYST)
    policies.grant_role(member, foreign_brand, Role.ANALYST)
    with pytest.raises(PermissionDenied):
        services.user_deactivate(actor=ops_lead, user=member)
    assert User.objects.get(pk=member.pk).is_active
