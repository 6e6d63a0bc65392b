"""Brand members over the API: who may list and change them, what each change writes to
the activity log, and how bad input is answered."""

from __future__ import annotations

import pytest

from koastops.accounts import policies
from koastops.accounts.models import Role
from koastops.activity.models import ActivityEntry
from koastops.catalog.models import CatalogStatus
from tests.api.conftest import ApiClient, token_for
from tests.factories import AdAccountFactory, BrandFactory, UserFactory

pytestmark = pytest.mark.django_db

MEMBERS = "/brands/own-brand/members"


@pytest.fixture
def ops(ops_lead) -> ApiClient:
    return ApiClient(token_for(ops_lead))


@pytest.fixture
def newcomer():
    return UserFactory(email="newcomer@example.com", full_name="New Comer")


def entries(brand) -> list[tuple[str, dict, dict]]:
    return list(
        ActivityEntry.objects.filter(brand_id=brand.pk)
        .order_by("id")
        .values_list("verb", "before", "after")
    )


def error_locs(response) -> list[list]:
    assert response.status_code == 422, response.content
    return [error["loc"] for error in response.json()["detail"]]


# --- list ----------------------------------------------------------------------------------


def test_ops_lead_lists_members_with_roles_and_narrowing(
    ops, ops_lead, media_buyer, analyst, brand, foreign_brand
):
    account = AdAccountFactory(brand=brand)
    policies.set_ad_account_narrowing(media_buyer, brand, [account])
    policies.grant_role(UserFactory(email="elsewhere@example.com"), foreign_brand, Role.ANALYST)
    response = ops.get(MEMBERS)
    assert response.status_code == 200
    assert response.json() == {
        "count": 3,
        "page": 1,
        "page_size": 25,
        "items": [
            {
                "id": analyst.pk,
                "email": "analyst@example.com",
                "full_name": "Analyst",
                "role": "analyst",
                "ad_account_ids": None,
                "is_active": True,
            },
            {
                "id": media_buyer.pk,
                "email": "media-buyer@example.com",
                "full_name": "Media Buyer",
                "role": "media_buyer",
                "ad_account_ids": [account.pk],
                "is_active": True,
            },
            {
                "id": ops_lead.pk,
                "email": "ops-lead@example.com",
                "full_name": "Ops Lead",
                "role": "ops_lead",
                "ad_account_ids": None,
                "is_active": True,
            },
        ],
    }


def test_member_list_search(ops, analyst, media_buyer):
    response = ops.get(MEMBERS, {"q": "analyst"})
    assert [row["email"] for row in response.json()["items"]] == ["analyst@example.com"]


def test_admin_lists_members(admin_user, analyst):
    response = ApiClient(token_for(admin_user)).get(MEMBERS)
    assert [row["email"] for row in response.json()["items"]] == ["analyst@example.com"]


@pytest.mark.parametrize("member", ["analyst", "media_buyer", "legal_reviewer"])
def test_roles_without_members_view_get_403_on_the_list(request, member):
    user = request.getfixturevalue(member)
    response = ApiClient(token_for(user)).get(MEMBERS)
    assert response.status_code == 403
    assert response.json() == {
        "detail": "Your role on this brand does not allow this (members.view)."
    }


def test_member_list_queries_do_not_grow_with_members(django_assert_num_queries):
    small, large = BrandFactory(slug="small"), BrandFactory(slug="large")
    lead = UserFactory()
    for brand, size in ((small, 1), (large, 50)):
        policies.grant_role(lead, brand, Role.OPS_LEAD)
        accounts = [AdAccountFactory(brand=brand) for _ in range(2)]
        for n in range(size):
            user = UserFactory()
            role = [Role.MEDIA_BUYER, Role.ANALYST, Role.LEGAL_REVIEWER][n % 3]
            policies.grant_role(user, brand, role)
            if role == Role.MEDIA_BUYER:
                policies.set_ad_account_narrowing(user, brand, accounts)
    client = ApiClient(token_for(lead))
    client.get("/brands")
    expected = client.count_queries("/brands/small/members", {"page_size": 100})
    with django_assert_num_queries(expected):
        response = client.get("/brands/large/members", {"page_size": 100})
    assert response.json()["count"] == 51
    narrowed = [row for row in response.json()["items"] if row["role"] == "media_buyer"]
    assert narrowed and all(len(row["ad_account_ids"]) == 2 for row in narrowed)


# --- grant ---------------------------------------------------------------------------------


def test_ops_lead_grants_a_role_and_one_activity_row_is_written(ops, ops_lead, brand, newcomer):
    response = ops.post(MEMBERS, {"email": "NewComer@example.com", "role": "analyst"})
    assert response.status_code == 200
    assert response.json() == {
        "id": newcomer.pk,
        "email": "newcomer@example.com",
        "full_name": "New Comer",
        "role": "analyst",
        "ad_account_ids": None,
        "is_active": True,
    }
    assert policies.role_for(newcomer, brand) == Role.ANALYST
    assert entries(brand) == [("member.role_granted", {"role": None}, {"role": "analyst"})]
    entry = ActivityEntry.objects.get(brand_id=brand.pk)
    assert (entry.actor_id, entry.target_id) == (ops_lead.pk, str(newcomer.pk))


def test_changing_a_role_writes_one_row_and_granting_it_again_none(ops, brand, analyst):
    assert ops.post(MEMBERS, {"email": analyst.email, "role": "legal_reviewer"}).status_code == 200
    assert ops.post(MEMBERS, {"email": analyst.email, "role": "legal_reviewer"}).status_code == 200
    assert policies.role_for(analyst, brand) == Role.LEGAL_REVIEWER
    assert entries(brand) == [
        ("member.role_changed", {"role": "analyst"}, {"role": "legal_reviewer"})
    ]


def test_grant_media_buyer_narrowed_to_ad_accounts(ops, brand, newcomer):
    first, second = AdAccountFactory(brand=brand), AdAccountFactory(brand=brand)
    AdAccountFactory(brand=brand)
    response = ops.post(
        MEMBERS,
        {"email": newcomer.email, "role": "media_buyer", "ad_account_ids": [second.pk, first.pk]},
    )
    assert response.status_code == 200
    assert response.json()["ad_account_ids"] == sorted([first.pk, second.pk])
    assert policies.narrowed_ad_account_ids(brand, [newcomer]) == {
        newcomer.pk: {first.pk, second.pk}
    }
    assert [verb for verb, _, _ in entries(brand)] == [
        "member.role_granted",
        "member.ad_accounts_narrowed",
    ]


def test_admin_grants_a_role(admin_user, brand, newcomer):
    response = ApiClient(token_for(admin_user)).post(
        MEMBERS, {"email": newcomer.email, "role": "ops_lead"}
    )
    assert response.status_code == 200
    assert policies.role_for(newcomer, brand) == Role.OPS_LEAD


@pytest.mark.parametrize("member", ["media_buyer", "analyst", "legal_reviewer"])
def test_roles_without_members_manage_get_403_on_grant(request, brand, newcomer, member):
    user = request.getfixturevalue(member)
    response = ApiClient(token_for(user)).post(
        MEMBERS, {"email": newcomer.email, "role": "ops_lead"}
    )
    assert response.status_code == 403
    assert policies.role_for(newcomer, brand) is None
    assert entries(brand) == []


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"email": "newcomer@example.com", "role": "admin"}, ["body", "role"]),
        ({"email": "newcomer@example.com"}, ["body", "role"]),
        ({"role": "analyst"}, ["body", "email"]),
        ({"email": "nobody@example.com", "role": "analyst"}, ["body", "email"]),
        (
            {"email": "newcomer@example.com", "role": "media_buyer", "ad_account_ids": ["x"]},
            ["body", "ad_account_ids", 0],
        ),
    ],
)
def test_bad_grant_input_names_the_field_and_changes_nothing(ops, brand, newcomer, body, loc):
    response = ops.post(MEMBERS, body)
    assert error_locs(response) == [loc]
    assert all(error["msg"] for error in response.json()["detail"])
    assert policies.role_for(newcomer, brand) is None
    assert entries(brand) == []


def test_unknown_email_says_so(ops):
    response = ops.post(MEMBERS, {"email": "nobody@example.com", "role": "analyst"})
    assert response.json()["detail"][0]["msg"].startswith("No user has this email address")


def test_foreign_ad_account_is_refused_by_field(ops, brand, foreign_brand, newcomer):
    own = AdAccountFactory(brand=brand)
    foreign = AdAccountFactory(brand=foreign_brand)
    response = ops.post(
        MEMBERS,
        {"email": newcomer.email, "role": "media_buyer", "ad_account_ids": [own.pk, foreign.pk]},
    )
    assert error_locs(response) == [["body", "ad_account_ids"]]
    assert policies.role_for(newcomer, brand) is None
    assert policies.narrowed_ad_account_ids(brand, [newcomer]) == {}
    assert entries(brand) == []


def test_ad_accounts_only_for_media_buyers(ops, brand, newcomer):
    account = AdAccountFactory(brand=brand)
    response = ops.post(
        MEMBERS, {"email": newcomer.email, "role": "analyst", "ad_account_ids": [account.pk]}
    )
    assert error_locs(response) == [["body", "ad_account_ids"]]
    assert policies.role_for(newcomer, brand) is None


@pytest.mark.parametrize("bad_id", [0, -1, 10**24])
def test_out_of_range_ad_account_ids_are_refused_by_field(ops, brand, newcomer, bad_id):
    response = ops.post(
        MEMBERS, {"email": newcomer.email, "role": "media_buyer", "ad_account_ids": [bad_id]}
    )
    # The schema refuses an id outside 1..2^63-1 before any lookup, naming the list item.
    assert error_locs(response) == [["body", "ad_account_ids", 0]]
    assert entries(brand) == []


def test_archived_ad_account_is_refused_by_field(ops, brand, media_buyer):
    archived = AdAccountFactory(brand=brand, name="Closed", status=CatalogStatus.ARCHIVED)
    response = ops.post(
        MEMBERS,
        {"email": media_buyer.email, "role": "media_buyer", "ad_account_ids": [archived.pk]},
    )
    assert error_locs(response) == [["body", "ad_account_ids"]]
    assert response.json()["detail"][0]["msg"] == "Archived ad accounts cannot be chosen: Closed."
    assert policies.narrowed_ad_account_ids(brand, [media_buyer]) == {}
    assert entries(brand) == []


def test_deactivated_user_cannot_be_granted_a_role(ops, brand, newcomer):
    type(newcomer).objects.filter(pk=newcomer.pk).update(is_active=False)
    response = ops.post(MEMBERS, {"email": newcomer.email, "role": "analyst"})
    assert error_locs(response) == [["body", "email"]]
    assert entries(brand) == []


def test_malformed_json_is_a_client_error(ops):
    response = ops.client.post(
        "/api/v1" + MEMBERS,
        "{not json",
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {ops.token}",
    )
    assert 400 <= response.status_code < 500


# --- revoke --------------------------------------------------------------------------------


def test_ops_lead_revokes_a_role_and_one_activity_row_is_written(ops, brand, media_buyer):
    account = AdAccountFactory(brand=brand)
    policies.set_ad_account_narrowing(media_buyer, brand, [account])
    response = ops.delete(f"{MEMBERS}/{media_buyer.pk}")
    assert response.status_code == 204
    assert response.content == b""
    assert policies.role_for(media_buyer, brand) is None
    assert policies.narrowed_ad_account_ids(brand, [media_buyer]) == {}
    assert entries(brand) == [("member.role_revoked", {"role": "media_buyer"}, {"role": None})]
    assert ops.delete(f"{MEMBERS}/{media_buyer.pk}").status_code == 404
    assert len(entries(brand)) == 1


def test_revoking_a_non_member_is_404(ops, brand, foreign_brand, newcomer):
    policies.grant_role(newcomer, foreign_brand, Role.ANALYST)
    assert ops.delete(f"{MEMBERS}/{newcomer.pk}").status_code == 404
    assert ops.delete(f"{MEMBERS}/999999").status_code == 404
    assert policies.role_for(newcomer, foreign_brand) == Role.ANALYST


@pytest.mark.parametrize("member", ["media_buyer", "analyst", "legal_reviewer"])
def test_roles_without_members_manage_get_403_on_revoke(request, brand, ops_lead, member):
    user = request.getfixturevalue(member)
    response = ApiClient(token_for(user)).delete(f"{MEMBERS}/{ops_lead.pk}")
    assert response.status_code == 403
    assert policies.role_for(ops_lead, brand) == Role.OPS_LEAD


def test_revoking_an_out_of_range_user_id_is_refused_by_path_field(ops):
    for bad in (10**24, 2**63, 0):
        response = ops.delete(f"{MEMBERS}/{bad}")
        assert response.status_code == 422
        assert error_locs(response) == [["path", "user_id"]]
    assert ops.delete(f"{MEMBERS}/{2**63 - 1}").status_code == 404


def test_an_ops_lead_cannot_revoke_their_own_role_as_the_last_one(ops, ops_lead, brand):
    response = ops.delete(f"{MEMBERS}/{ops_lead.pk}")
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["path", "user_id"]
    assert "last ops lead" in error["msg"]
    assert policies.role_for(ops_lead, brand) == Role.OPS_LEAD
    assert entries(brand) == []
