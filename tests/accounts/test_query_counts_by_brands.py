"""A page costs the same number of queries whether the signed-in user holds a role on one
brand or on fifty: nothing may look up roles (or anything else) once per brand.

The user is an ops lead, so every page below is allowed. Each page is counted for a user
with a role on the first brand only, then again after the same role is granted on 49
more brands; a warm-up request comes first each time, because some caches (content
types, the session, a token's last use) fill on the first request."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from koastops.accounts import policies
from koastops.accounts.models import Role, User
from koastops.accounts.tokens import api_token_create
from koastops.activity.services import activity_record
from koastops.catalog.models import Brand, Pixel
from tests.factories import AdAccountFactory, BrandFactory, PixelFactory, UserFactory, market

pytestmark = pytest.mark.django_db

MORE_BRANDS = 49
ROLE = Role.OPS_LEAD


@dataclass
class World:
    user: User
    brand: Brand
    pixel: Pixel
    client: Client
    token: str


@pytest.fixture
def world() -> World:
    brand = BrandFactory(name="First Brand", slug="first-brand")
    brand.markets.set([market("DE"), market("AT")])
    ad_account = AdAccountFactory(brand=brand)
    ad_account.markets.set([market("DE")])
    pixel = PixelFactory(brand=brand, with_token=True)
    pixel.ad_accounts.add(ad_account)
    user = UserFactory(email="ops-lead@example.com")
    policies.grant_role(user, brand, ROLE)
    colleague = UserFactory(email="analyst@example.com")
    policies.grant_role(colleague, brand, Role.ANALYST)
    activity_record(
        verb="brand.updated",
        actor=user,
        target=brand,
        brand=brand,
        before={"description": ""},
        after={"description": "A brand made by a test."},
    )
    activity_record(verb="pixel.token_changed", actor=user, target=pixel, brand=brand)
    _, token = api_token_create(user=user, name="query counts")
    client = Client()
    client.force_login(user)
    return World(user=user, brand=brand, pixel=pixel, client=client, token=token)


def _page(name: str, *args: Callable[[World], object]) -> Callable[[World], str]:
    return lambda w: reverse(name, args=[arg(w) for arg in args])


def _slug(w: World) -> str:
    return w.brand.slug


def _pixel_pk(w: World) -> int:
    return w.pixel.pk


PAGES: dict[str, Callable[[World], str]] = {
    "start page": _page("home"),
    "brand list": _page("catalog:brand_list"),
    "pixel list, filtered": lambda w: (
        reverse("catalog:pixel_list", args=[w.brand.slug]) + "?token=missing&capi=off&fired=never"
    ),
    "brand overview": _page("catalog:brand_detail", _slug),
    "ad account list": _page("catalog:ad_account_list", _slug),
    "pixel list": _page("catalog:pixel_list", _slug),
    "pixel detail": _page("catalog:pixel_detail", _slug, _pixel_pk),
    "members list": _page("members:list", _slug),
    "activity list": _page("activity:list", _slug),
    "profile": lambda w: "/me/",
}

API_PAGES: dict[str, Callable[[World], str]] = {
    "api brands": lambda w: "/api/v1/brands",
    "api ad accounts": lambda w: f"/api/v1/brands/{w.brand.slug}/ad-accounts",
    "api pixels": lambda w: f"/api/v1/brands/{w.brand.slug}/pixels",
    "api members": lambda w: f"/api/v1/brands/{w.brand.slug}/members",
    "api activity": lambda w: f"/api/v1/brands/{w.brand.slug}/activity",
}


def _count(get: Callable[[], object]) -> int:
    get()  # warm-up: caches that fill on the first request
    with CaptureQueriesContext(connection) as queries:
        response = get()
    assert response.status_code == 200, response.content[:500]
    return len(queries)


def _grant_on_more_brands(user: User) -> None:
    for other in BrandFactory.create_batch(MORE_BRANDS):
        policies.grant_role(user, other, ROLE)


def _assert_same_count(world: World, get: Callable[[], object]) -> None:
    one = _count(get)
    _grant_on_more_brands(world.user)
    assert policies.role_for(world.user, world.brand) == ROLE
    many = _count(get)
    assert many == one, f"{one} queries with a role on 1 brand, {many} on {1 + MORE_BRANDS}"


@pytest.mark.parametrize("page", PAGES)
def test_page_query_count_does_not_grow_with_the_users_brands(world, page):
    url = PAGES[page](world)
    _assert_same_count(world, lambda: world.client.get(url))


@pytest.mark.parametrize("page", API_PAGES)
def test_api_list_query_count_does_not_grow_with_the_users_brands(world, page):
    url = API_PAGES[page](world)
    api = Client()
    _assert_same_count(world, lambda: api.get(url, HTTP_AUTHORIZATION=f"Bearer {world.token}"))
