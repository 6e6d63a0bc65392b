"""A brand's activity over the API: every role may read it, newest first, with filters
that name the field when they are wrong."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction
from django.utils import timezone

from koastops.accounts import policies
from koastops.accounts.models import Role
from koastops.activity.services import activity_record
from tests.api.conftest import ApiClient, token_for
from tests.factories import BrandFactory, UserFactory

pytestmark = pytest.mark.django_db

ACTIVITY = "/brands/own-brand/activity"


def record(verb, *, actor, target, brand, after=None):
    with transaction.atomic():
        return activity_record(verb=verb, actor=actor, target=target, brand=brand, after=after)


@pytest.fixture
def log(brand, foreign_brand, ops_lead, analyst, admin_user):
    """Four entries on the own brand (oldest first) and one on the foreign brand."""
    return [
        record("brand.updated", actor=admin_user, target=brand, brand=brand, after={"name": "x"}),
        record("member.role_granted", actor=ops_lead, target=analyst, brand=brand),
        record("member.role_changed", actor=ops_lead, target=analyst, brand=brand),
        record("brand.archived", actor=admin_user, target=brand, brand=brand),
        record("brand.updated", actor=admin_user, target=foreign_brand, brand=foreign_brand),
    ]


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["items"]]


@pytest.mark.parametrize("member", ["ops_lead", "media_buyer", "legal_reviewer", "analyst"])
def test_every_role_reads_the_brands_activity_newest_first(request, log, member):
    """Rows about members only for those who may see the members (ops leads)."""
    user = request.getfixturevalue(member)
    response = ApiClient(token_for(user)).get(ACTIVITY)
    expected = [3, 2, 1, 0] if member == "ops_lead" else [3, 0]
    assert ids(response) == [log[i].pk for i in expected]
    assert response.json()["count"] == len(expected)


@pytest.mark.parametrize("member", ["media_buyer", "legal_reviewer", "analyst"])
def test_member_rows_are_hidden_without_members_view(request, log, member):
    client = ApiClient(token_for(request.getfixturevalue(member)))
    assert ids(client.get(ACTIVITY, {"target_type": "accounts.user"})) == []
    assert ids(client.get(ACTIVITY, {"verb": "member.role_granted"})) == []


def test_activity_fields(analyst, log, admin_user, brand):
    newest_first = ApiClient(token_for(analyst)).get(ACTIVITY).json()["items"]
    row = newest_first[-1]
    assert row | {"created_at": None} == {
        "id": log[0].pk,
        "created_at": None,
        "actor_id": admin_user.pk,
        "actor_label": "admin@example.com",
        "verb": "brand.updated",
        "verb_text": "edited the brand",
        "target_type": "catalog.brand",
        "target_id": str(brand.pk),
        "target_label": "Own Brand",
        "before": {},
        "after": {"name": "x"},
        "hash": log[0].hash,
    }


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"verb": "member.role_granted"}, [1]),
        ({"verb": "brand.updated"}, [0]),
        ({"target_type": "accounts.user"}, [2, 1]),
        ({"target_type": "catalog.brand", "verb": "brand.archived"}, [3]),
        ({"actor": "ops-lead@example.com"}, [2, 1]),
        ({"actor": "OPS-LEAD@example.com"}, [2, 1]),
        ({"actor": "nobody@example.com"}, []),
    ],
)
def test_activity_filters(ops_lead, log, params, expected):
    response = ApiClient(token_for(ops_lead)).get(ACTIVITY, params)
    assert ids(response) == [log[i].pk for i in expected]


def test_actor_filter_by_user_id(ops_lead, log):
    response = ApiClient(token_for(ops_lead)).get(ACTIVITY, {"actor": str(ops_lead.pk)})
    assert ids(response) == [log[2].pk, log[1].pk]


def test_date_filters_take_whole_utc_days(ops_lead, log):
    client = ApiClient(token_for(ops_lead))
    today = timezone.now().astimezone(dt.UTC).date()
    day = dt.timedelta(days=1)
    assert len(ids(client.get(ACTIVITY, {"date_from": today, "date_to": today}))) == 4
    assert ids(client.get(ACTIVITY, {"date_from": today + day})) == []
    assert ids(client.get(ACTIVITY, {"date_to": today - day})) == []
    assert len(ids(client.get(ACTIVITY, {"date_from": today - day}))) == 4


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"verb": "brand.exploded"}, "verb"),
        ({"date_from": "yesterday"}, "date_from"),
        ({"date_from": "2026-03-02", "date_to": "2026-03-01"}, "date_to"),
        ({"page_size": 500}, "page_size"),
    ],
)
def test_bad_filters_name_the_field(analyst, log, params, field):
    response = ApiClient(token_for(analyst)).get(ACTIVITY, params)
    assert response.status_code == 422
    assert [error["loc"] for error in response.json()["detail"]] == [["query", field]]


def test_activity_pagination(ops_lead, log):
    client = ApiClient(token_for(ops_lead))
    first = client.get(ACTIVITY, {"page_size": 3}).json()
    second = client.get(ACTIVITY, {"page_size": 3, "page": 2}).json()
    assert [row["id"] for row in first["items"]] == [log[3].pk, log[2].pk, log[1].pk]
    assert [row["id"] for row in second["items"]] == [log[0].pk]
    assert first["count"] == second["count"] == 4


def test_foreign_brand_activity_is_404(analyst, log):
    response = ApiClient(token_for(analyst)).get("/brands/foreign-brand/activity")
    assert response.status_code == 404


def test_activity_queries_do_not_grow_with_rows(django_assert_num_queries):
    small, large = BrandFactory(slug="small"), BrandFactory(slug="large")
    user = UserFactory()
    for brand, rows in ((small, 1), (large, 50)):
        policies.grant_role(user, brand, Role.ANALYST)
        for n in range(rows):
            record("brand.updated", actor=user, target=brand, brand=brand, after={"n": n})
    client = ApiClient(token_for(user))
    client.get("/brands")
    expected = client.count_queries("/brands/small/activity", {"page_size": 100})
    with django_assert_num_queries(expected):
        response = client.get("/brands/large/activity", {"page_size": 100})
    assert response.json()["count"] == 50
