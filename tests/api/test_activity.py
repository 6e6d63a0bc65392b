"""A brand's activity over the API: every role may read it, newest first, with filters
that name the field when they are wrong."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from koastops.accounts import policies
from koastops.accounts.models import Role
from koastops.activity.services import activity_record
from tests.activity.test_views import add_entry
from tests.api.conftest import ApiClient, token_for
from tests.factories import BrandFactory, PixelFactory, UserFactory

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
        ({"q": "ANALYST"}, [2, 1]),  # on what (the analyst) or who
        ({"q": "ops-lead"}, [2, 1]),
        ({"q": "own brand"}, [3, 0]),
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
        ({"date_from": "2026-3-1"}, "date_from"),
        ({"actor": "0"}, "actor"),
        ({"q": "x" * 101}, "q"),
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


def test_default_page_size_is_the_servers(ops_lead, log, settings):
    settings.KOASTOPS_PAGE_SIZE = 3
    client = ApiClient(token_for(ops_lead))
    page = client.get(ACTIVITY).json()
    assert [row["id"] for row in page["items"]] == [log[3].pk, log[2].pk, log[1].pk]
    assert (page["page_size"], page["count"]) == (3, 4)
    assert client.get(ACTIVITY, {"page_size": 4}).json()["page_size"] == 4
    settings.KOASTOPS_PAGE_SIZE = 1000  # never more than the API's maximum
    assert client.get(ACTIVITY).json()["page_size"] == 100


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


# --- one set of filter names for the page, its exports and the API ----------------------


@pytest.fixture
def mixed_log(brand, ops_lead, analyst, admin_user):
    """Entries by two actors, on three kinds of object, over four UTC days."""
    pixel = PixelFactory(brand=brand, name="Checkout pixel")
    now = timezone.now().replace(microsecond=0)

    def add(verb, actor, target, days_ago, after=None):
        return add_entry(
            brand,
            verb=verb,
            actor_id=actor.pk,
            actor_label=actor.email,
            target_type=target._meta.label_lower,
            target_id=str(target.pk),
            target_label=str(target),
            after=after,
            created_at=now - dt.timedelta(days=days_ago),
        )

    return [
        add("brand.updated", admin_user, brand, 3, after={"n": 1}),
        add("pixel.created", ops_lead, pixel, 2, after={"name": "x"}),
        add("pixel.archived", ops_lead, pixel, 2),
        add("member.role_granted", ops_lead, analyst, 1, after={"role": "analyst"}),
        add("brand.archived", admin_user, brand, 0),
    ]


def _day(days_ago: int) -> str:
    return (timezone.now().astimezone(dt.UTC) - dt.timedelta(days=days_ago)).date().isoformat()


QUERIES = [
    {},
    {"verb": "pixel.archived"},
    {"target_type": "catalog.pixel"},
    {"target_type": "catalog.brand", "verb": "brand.archived"},
    {"actor": "ops-lead@example.com"},
    {"actor": "ADMIN@example.com"},
    {"q": "checkout"},
    {"q": "analyst", "target_type": "accounts.user"},
    {"date_from": 2, "date_to": 1},
    {"date_to": 2},
    {"date_from": 1, "verb": "brand.archived"},
    # As the page's form sends it: every filter named, the unused ones empty.
    {
        "actor": "",
        "verb": "pixel.created",
        "target_type": "",
        "date_from": "",
        "date_to": "",
        "q": "",
    },
    {"actor": " ops-lead@example.com ", "target_type": "Catalog.Pixel "},
]


@pytest.mark.parametrize("query", QUERIES, ids=[str(sorted(q)) for q in QUERIES])
def test_page_export_and_api_give_the_same_rows_for_the_same_query(ops_lead, mixed_log, query):
    params = {
        name: _day(value) if name.startswith("date_") and value != "" else value
        for name, value in query.items()
    }
    web = Client()
    web.force_login(ops_lead)
    page = web.get(reverse("activity:list", args=["own-brand"]), {**params, "page": 1})
    exported = web.get(reverse("activity:export", args=["own-brand"]), {**params, "format": "json"})
    api = ApiClient(token_for(ops_lead)).get(ACTIVITY, {**params, "page_size": 100})

    assert page.status_code == 200, page.context["form"].errors
    from_page = [row.entry.pk for row in page.context["rows"] or []]
    from_export = [item["id"] for item in json.loads(b"".join(exported.streaming_content))]
    assert from_page == from_export == ids(api)
    assert from_page  # each query finds something…
    assert len(from_page) < len(mixed_log) or not query  # …and each filter narrows


def test_actor_by_user_id_agrees_too(ops_lead, mixed_log):
    params = {"actor": str(ops_lead.pk)}
    web = Client()
    web.force_login(ops_lead)
    page = web.get(reverse("activity:list", args=["own-brand"]), params)
    api = ApiClient(token_for(ops_lead)).get(ACTIVITY, params)
    assert [row.entry.pk for row in page.context["rows"]] == ids(api)
    assert ids(api) == [mixed_log[3].pk, mixed_log[2].pk, mixed_log[1].pk]


def test_the_page_and_the_api_document_name_the_same_filters(client):
    """The OpenAPI document's activity query parameters are the page's filter names (plus
    the API's paging), so a query string can move between the two."""
    from koastops.activity.views import FILTER_NAMES, ActivityFilterForm

    document = client.get("/api/v1/openapi.json").json()
    operation = document["paths"]["/api/v1/brands/{slug}/activity"]["get"]
    api_names = {p["name"] for p in operation["parameters"] if p["in"] == "query"}
    assert api_names == {*FILTER_NAMES, "page", "page_size"}
    assert set(ActivityFilterForm.base_fields) == set(FILTER_NAMES)
