"""Brands, ad accounts and pixels over the API: scoping, fields, filters, pagination and
a constant number of queries per page."""

from __future__ import annotations

import pytest

from koastops.accounts import policies
from koastops.accounts.models import Role
from koastops.catalog.models import CatalogStatus
from tests.api.conftest import ApiClient, token_for
from tests.factories import (
    AdAccountFactory,
    BrandFactory,
    PixelFactory,
    UserFactory,
    market,
)

pytestmark = pytest.mark.django_db

BRAND_ENDPOINTS = [
    ("get", "/brands/{slug}"),
    ("get", "/brands/{slug}/ad-accounts"),
    ("get", "/brands/{slug}/pixels"),
    ("get", "/brands/{slug}/members"),
    ("post", "/brands/{slug}/members"),
    ("delete", "/brands/{slug}/members/{user_id}"),
    ("get", "/brands/{slug}/activity"),
]


def slugs(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["slug"] for row in response.json()["items"]]


# --- which brands ------------------------------------------------------------------------


def test_token_owner_sees_exactly_the_brands_they_hold_a_role_on(analyst, brand, foreign_brand):
    second = BrandFactory(name="Second Brand", slug="second-brand")
    policies.grant_role(analyst, second, Role.MEDIA_BUYER)
    BrandFactory(name="Third Brand", slug="third-brand")
    response = ApiClient(token_for(analyst)).get("/brands")
    assert slugs(response) == ["own-brand", "second-brand"]
    assert response.json()["count"] == 2


def test_user_without_roles_sees_no_brands(plain_user, brand):
    response = ApiClient(token_for(plain_user)).get("/brands")
    assert response.json() == {"items": [], "count": 0, "page": 1, "page_size": 25}


def test_admin_token_sees_every_brand(admin_user, brand, foreign_brand):
    assert slugs(ApiClient(token_for(admin_user)).get("/brands")) == [
        "foreign-brand",
        "own-brand",
    ]


def test_brand_fields(analyst, brand, ad_account, pixel):
    brand.markets.set([market("DE"), market("AT")])
    response = ApiClient(token_for(analyst)).get("/brands/own-brand")
    assert response.status_code == 200
    body = response.json()
    assert {k: body[k] for k in ("id", "slug", "name", "status", "archived_at")} == {
        "id": brand.pk,
        "slug": "own-brand",
        "name": "Own Brand",
        "status": "active",
        "archived_at": None,
    }
    assert body["markets"] == ["AT", "DE"]
    assert (body["ad_account_count"], body["pixel_count"]) == (1, 1)
    assert set(body) >= {"description", "created_at", "updated_at"}


def test_brand_list_search_and_status(admin_user):
    BrandFactory(name="Alpine Shoes", slug="alpine-shoes")
    BrandFactory(name="Baltic Tea", slug="baltic-tea")
    BrandFactory(name="Alpine Tea", slug="alpine-tea", status=CatalogStatus.ARCHIVED)
    client = ApiClient(token_for(admin_user))
    assert slugs(client.get("/brands", {"q": "alpine"})) == ["alpine-shoes"]
    assert slugs(client.get("/brands", {"q": "alpine", "status": "all"})) == [
        "alpine-shoes",
        "alpine-tea",
    ]
    assert slugs(client.get("/brands", {"status": "archived"})) == ["alpine-tea"]
    assert slugs(client.get("/brands", {"q": "TEA"})) == ["baltic-tea"]


def test_archived_brand_detail_is_readable(analyst, brand):
    brand.status = CatalogStatus.ARCHIVED
    brand.save()
    response = ApiClient(token_for(analyst)).get("/brands/own-brand")
    assert response.json()["status"] == "archived"


def test_bad_status_filter_names_the_field(analyst):
    response = ApiClient(token_for(analyst)).get("/brands", {"status": "deleted"})
    assert response.status_code == 422
    assert [error["loc"] for error in response.json()["detail"]] == [["query", "status"]]


# --- another brand -------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "template"), BRAND_ENDPOINTS)
@pytest.mark.parametrize("slug", ["foreign-brand", "no-such-brand"])
def test_foreign_or_missing_brand_is_404_on_every_endpoint(
    ops_lead, foreign_brand, method, template, slug
):
    outsider_member = UserFactory(email="foreign-member@example.com")
    policies.grant_role(outsider_member, foreign_brand, Role.ANALYST)
    client = ApiClient(token_for(ops_lead))
    path = template.format(slug=slug, user_id=outsider_member.pk)
    if method == "post":
        response = client.post(path, {"email": outsider_member.email, "role": "ops_lead"})
    else:
        response = getattr(client, method)(path)
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}
    assert policies.role_for(outsider_member, foreign_brand) == Role.ANALYST


# --- ad accounts and pixels ----------------------------------------------------------------


def test_ad_account_fields(analyst, brand, ad_account, pixel):
    ad_account.markets.set([market("DE")])
    response = ApiClient(token_for(analyst)).get("/brands/own-brand/ad-accounts")
    assert response.status_code == 200
    [row] = response.json()["items"]
    assert row | {"created_at": None, "updated_at": None} == {
        "id": ad_account.pk,
        "platform": "meta",
        "external_id": "act_5550001",
        "name": "Main DE",
        "currency": "EUR",
        "time_zone": "Europe/Berlin",
        "markets": ["DE"],
        "status": "active",
        "archived_at": None,
        "pixel_count": 1,
        "created_at": None,
        "updated_at": None,
        "version": 1,
    }


def test_media_buyer_narrowed_to_some_ad_accounts_sees_only_those(media_buyer, brand):
    chosen = AdAccountFactory(brand=brand, name="A chosen")
    AdAccountFactory(brand=brand, name="B other")
    client = ApiClient(token_for(media_buyer))
    names = [r["name"] for r in client.get("/brands/own-brand/ad-accounts").json()["items"]]
    assert names == ["A chosen", "B other"]
    policies.set_ad_account_narrowing(media_buyer, brand, [chosen])
    response = client.get("/brands/own-brand/ad-accounts")
    assert [row["id"] for row in response.json()["items"]] == [chosen.pk]
    assert response.json()["count"] == 1


def test_ad_accounts_status_filter_and_search(analyst, brand):
    AdAccountFactory(brand=brand, name="Live DE", external_id="act_100")
    AdAccountFactory(brand=brand, name="Old DE", external_id="act_200", status="archived")
    client = ApiClient(token_for(analyst))

    def names(params):
        return [
            row["name"]
            for row in client.get("/brands/own-brand/ad-accounts", params).json()["items"]
        ]

    assert names({}) == ["Live DE"]
    assert names({"status": "all"}) == ["Live DE", "Old DE"]
    assert names({"status": "all", "q": "act_2"}) == ["Old DE"]


def test_pixels_never_expose_the_access_token(analyst, brand, pixel, ad_account):
    response = ApiClient(token_for(analyst)).get("/brands/own-brand/pixels")
    assert response.status_code == 200
    [row] = response.json()["items"]
    assert row["has_access_token"] is True
    assert row["access_token_changed_at"] is not None
    assert row["ad_account_ids"] == [ad_account.pk]
    assert row["external_id"] == "111222333444"
    assert not any(
        "token" in key and key not in ("has_access_token", "access_token_changed_at") for key in row
    )
    content = response.content.decode()
    assert "EAAB-test-token" not in content
    assert pixel.access_token_encrypted not in content


def test_pixel_without_token(analyst, brand):
    PixelFactory(brand=brand)
    [row] = ApiClient(token_for(analyst)).get("/brands/own-brand/pixels").json()["items"]
    assert (row["has_access_token"], row["access_token_changed_at"]) == (False, None)


# --- pagination ----------------------------------------------------------------------------


def test_pagination_pages_through_every_row_once(admin_user):
    for n in range(7):
        BrandFactory(name=f"Paged {n}", slug=f"paged-{n}")
    client = ApiClient(token_for(admin_user))
    pages = [client.get("/brands", {"page": p, "page_size": 3}).json() for p in (1, 2, 3, 4)]
    assert [page["count"] for page in pages] == [7, 7, 7, 7]
    assert [[row["slug"] for row in page["items"]] for page in pages] == [
        ["paged-0", "paged-1", "paged-2"],
        ["paged-3", "paged-4", "paged-5"],
        ["paged-6"],
        [],
    ]
    assert [(page["page"], page["page_size"]) for page in pages] == [(p, 3) for p in (1, 2, 3, 4)]


def test_default_page_size_is_25(admin_user):
    for n in range(30):
        BrandFactory(name=f"Paged {n:02d}", slug=f"paged-{n:02d}")
    body = ApiClient(token_for(admin_user)).get("/brands").json()
    assert (len(body["items"]), body["count"], body["page_size"]) == (25, 30, 25)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"page_size": 101}, "page_size"),
        ({"page_size": 0}, "page_size"),
        ({"page": 0}, "page"),
        ({"page": "two"}, "page"),
    ],
)
def test_bad_pagination_parameters_name_the_field(admin_user, params, field):
    response = ApiClient(token_for(admin_user)).get("/brands", params)
    assert response.status_code == 422
    assert [error["loc"] for error in response.json()["detail"]] == [["query", field]]


def test_page_size_100_is_allowed(admin_user, brand):
    assert ApiClient(token_for(admin_user)).get("/brands", {"page_size": 100}).status_code == 200


# --- query counts --------------------------------------------------------------------------


def _brand_with_catalog(n: int):
    brand = BrandFactory(name=f"Counted {n:03d}", slug=f"counted-{n:03d}")
    brand.markets.set([market("DE"), market("FR")])
    account = AdAccountFactory(brand=brand)
    account.markets.set([market("DE")])
    PixelFactory(brand=brand, with_token=True).ad_accounts.add(account)
    return brand


@pytest.mark.parametrize("role", [Role.ANALYST, Role.MEDIA_BUYER, Role.OPS_LEAD])
def test_brand_list_queries_do_not_grow_with_brands(django_assert_num_queries, role):
    one, many = UserFactory(), UserFactory()
    policies.grant_role(one, _brand_with_catalog(0), role)
    for n in range(1, 51):
        policies.grant_role(many, _brand_with_catalog(n), role)
    small, large = ApiClient(token_for(one)), ApiClient(token_for(many))
    for client in (small, large):  # the first call records last_used_at: warm up
        client.get("/brands")
    expected = small.count_queries("/brands", {"page_size": 100})
    with django_assert_num_queries(expected):
        response = large.get("/brands", {"page_size": 100})
    assert response.json()["count"] == 50
    assert all(row["markets"] == ["DE", "FR"] for row in response.json()["items"])


@pytest.mark.parametrize("endpoint", ["ad-accounts", "pixels"])
@pytest.mark.parametrize("role", [Role.ANALYST, Role.MEDIA_BUYER])
def test_catalog_lists_queries_do_not_grow_with_rows(django_assert_num_queries, endpoint, role):
    small_brand = BrandFactory(slug="small")
    large_brand = BrandFactory(slug="large")
    user = UserFactory()
    for brand, rows in ((small_brand, 1), (large_brand, 50)):
        policies.grant_role(user, brand, role)
        for _ in range(rows):
            account = AdAccountFactory(brand=brand)
            account.markets.set([market("DE"), market("AT")])
            PixelFactory(brand=brand).ad_accounts.add(account)
    if role == Role.MEDIA_BUYER:  # narrowed: the narrowing subqueries join in
        for brand in (small_brand, large_brand):
            policies.set_ad_account_narrowing(user, brand, brand.ad_accounts.all())
    client = ApiClient(token_for(user))
    client.get("/brands")
    expected = client.count_queries(f"/brands/small/{endpoint}", {"page_size": 100})
    with django_assert_num_queries(expected):
        response = client.get(f"/brands/large/{endpoint}", {"page_size": 100})
    assert response.json()["count"] == 50


def test_a_page_reads_its_total_with_its_rows(admin_user):
    """The total comes with the page's rows (a window count), not from a COUNT query."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for n in range(4):
        BrandFactory(name=f"Counted {n}", slug=f"counted-{n}")
    client = ApiClient(token_for(admin_user))
    with CaptureQueriesContext(connection) as queries:
        body = client.get("/brands", {"page_size": 3}).json()
    assert body["count"] == 4 and len(body["items"]) == 3
    statements = [q["sql"].upper() for q in queries.captured_queries]
    assert not any(sql.startswith("SELECT COUNT(") for sql in statements)
    assert any("OVER ()" in sql for sql in statements)
