"""Each principal sees exactly what it may, on every list and detail page, every export
and every API list — checked by content, not by status code.

One data set for the whole module: two brands, and on the own brand two ad accounts (a
narrowed media buyer may use only the first), three pixels (linked to both accounts, to
the hidden one only, to none), a member, and activity rows about each of them. Every
object carries a unique marker (``zq-…``) in its name; each response body (HTML, CSV,
JSON) must contain the markers its principal may see and none of the others.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from koastops.accounts import policies
from koastops.accounts.models import Role, User
from koastops.accounts.tokens import api_token_create
from koastops.activity.services import activity_record, snapshot
from koastops.catalog.models import AdAccount, Brand, Pixel
from tests.factories import (
    AdAccountFactory,
    AdminFactory,
    BrandFactory,
    PixelFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

API = "/api/v1"
PIXEL_FIELDS = ("platform", "external_id", "name", "capi_enabled", "status", "ad_accounts")

# --- markers -------------------------------------------------------------------------------

BRAND_OWN = "zq-brand-own"
BRAND_FOREIGN = "zq-brand-foreign"
ACCT_ALLOWED = "zq-acct-allowed"  # the narrowed buyer's account
ACCT_HIDDEN = "zq-acct-hidden"
ACCT_FOREIGN = "zq-acct-foreign"
PIX_SHARED = "zq-pix-shared"  # linked to the allowed and the hidden account
PIX_HIDDEN_ONLY = "zq-pix-hiddenonly"  # linked to the hidden account only
PIX_UNLINKED = "zq-pix-unlinked"  # linked to no account
PIX_FOREIGN = "zq-pix-foreign"
MEMBER_OWN = "zq-mem-own"  # a member of the own brand: the target of member rows
MEMBER_FOREIGN = "zq-mem-foreign"
ACTOR_HIDDEN = "zq-actor-hidden"  # acted only on the hidden account
ACTOR_MEMBERS = "zq-actor-members"  # acted only on members

OWN_CATALOG = {BRAND_OWN, ACCT_ALLOWED, ACCT_HIDDEN, PIX_SHARED, PIX_HIDDEN_ONLY, PIX_UNLINKED}
OWN_ACTIVITY_ONLY = {ACTOR_HIDDEN}
OWN_MEMBERS = {MEMBER_OWN, ACTOR_MEMBERS}
FOREIGN_CATALOG = {BRAND_FOREIGN, ACCT_FOREIGN, PIX_FOREIGN}
FOREIGN_MEMBERS = {MEMBER_FOREIGN}
ALL_MARKERS = OWN_CATALOG | OWN_ACTIVITY_ONLY | OWN_MEMBERS | FOREIGN_CATALOG | FOREIGN_MEMBERS
NARROWED_VISIBLE = {BRAND_OWN, ACCT_ALLOWED, PIX_SHARED, PIX_UNLINKED}

ACCOUNTS = {ACCT_ALLOWED, ACCT_HIDDEN, ACCT_FOREIGN}
PIXELS = {PIX_SHARED, PIX_HIDDEN_ONLY, PIX_UNLINKED, PIX_FOREIGN}
BRANDS = {BRAND_OWN, BRAND_FOREIGN}


@dataclass(frozen=True)
class Principal:
    """Who signs in, on which brand they work, and which markers they may see."""

    name: str
    role: Role | None  # None: admin (install-wide) or outsider
    brand: str | None  # "own", "foreign" or None
    visible: frozenset[str]
    narrowed: bool = False

    @property
    def members_view(self) -> bool:
        return self.name == "admin" or self.role == Role.OPS_LEAD

    @property
    def exports(self) -> bool:
        return self.name == "admin" or (self.role is not None and self.role != Role.MEDIA_BUYER)


PRINCIPALS = [
    Principal("admin", None, None, frozenset(ALL_MARKERS)),
    Principal(
        "ops_lead", Role.OPS_LEAD, "own", frozenset(OWN_CATALOG | OWN_ACTIVITY_ONLY | OWN_MEMBERS)
    ),
    Principal("media_buyer", Role.MEDIA_BUYER, "own", frozenset(OWN_CATALOG | OWN_ACTIVITY_ONLY)),
    Principal(
        "narrowed_buyer", Role.MEDIA_BUYER, "own", frozenset(NARROWED_VISIBLE), narrowed=True
    ),
    Principal(
        "legal_reviewer", Role.LEGAL_REVIEWER, "own", frozenset(OWN_CATALOG | OWN_ACTIVITY_ONLY)
    ),
    Principal("analyst", Role.ANALYST, "own", frozenset(OWN_CATALOG | OWN_ACTIVITY_ONLY)),
    Principal("outsider", None, None, frozenset()),
    Principal(
        "foreign_ops_lead", Role.OPS_LEAD, "foreign", frozenset(FOREIGN_CATALOG | FOREIGN_MEMBERS)
    ),
    Principal("foreign_media_buyer", Role.MEDIA_BUYER, "foreign", frozenset(FOREIGN_CATALOG)),
    Principal("foreign_legal_reviewer", Role.LEGAL_REVIEWER, "foreign", frozenset(FOREIGN_CATALOG)),
    Principal("foreign_analyst", Role.ANALYST, "foreign", frozenset(FOREIGN_CATALOG)),
]
BY_NAME = {principal.name: principal for principal in PRINCIPALS}


@dataclass
class World:
    brands: dict[str, Brand]
    accounts: dict[str, AdAccount]
    pixels: dict[str, Pixel]
    users: dict[str, User] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)


def _record(verb: str, *, actor: User, target: Any, brand: Brand, **changes: Any) -> None:
    activity_record(verb=verb, actor=actor, target=target, brand=brand, **changes)


def _build() -> World:
    own = BrandFactory(name=BRAND_OWN, slug="own")
    foreign = BrandFactory(name=BRAND_FOREIGN, slug="foreign")
    allowed = AdAccountFactory(brand=own, name=ACCT_ALLOWED)
    hidden = AdAccountFactory(brand=own, name=ACCT_HIDDEN)
    foreign_account = AdAccountFactory(brand=foreign, name=ACCT_FOREIGN)
    shared = PixelFactory(brand=own, name=PIX_SHARED)
    shared.ad_accounts.set([allowed, hidden])
    hidden_only = PixelFactory(brand=own, name=PIX_HIDDEN_ONLY)
    hidden_only.ad_accounts.set([hidden])
    unlinked = PixelFactory(brand=own, name=PIX_UNLINKED)
    foreign_pixel = PixelFactory(brand=foreign, name=PIX_FOREIGN)
    foreign_pixel.ad_accounts.set([foreign_account])
    world = World(
        brands={"own": own, "foreign": foreign},
        accounts={ACCT_ALLOWED: allowed, ACCT_HIDDEN: hidden, ACCT_FOREIGN: foreign_account},
        pixels={
            PIX_SHARED: shared,
            PIX_HIDDEN_ONLY: hidden_only,
            PIX_UNLINKED: unlinked,
            PIX_FOREIGN: foreign_pixel,
        },
    )
    for principal in PRINCIPALS:
        if principal.name == "admin":
            user = AdminFactory(email="admin@example.com")
        else:
            user = UserFactory(email=f"{principal.name}@example.com", full_name=principal.name)
        if principal.role is not None:
            brand = world.brands[principal.brand]
            policies.grant_role(user, brand, principal.role)
            if principal.narrowed:
                policies.set_ad_account_narrowing(user, brand, [allowed])
        world.users[principal.name] = user
        _, world.tokens[principal.name] = api_token_create(user=user, name="visibility")

    lead, foreign_lead = world.users["ops_lead"], world.users["foreign_ops_lead"]
    member = UserFactory(email=f"{MEMBER_OWN}@example.com", full_name=MEMBER_OWN)
    policies.grant_role(member, own, Role.ANALYST)
    foreign_member = UserFactory(email=f"{MEMBER_FOREIGN}@example.com", full_name=MEMBER_FOREIGN)
    policies.grant_role(foreign_member, foreign, Role.ANALYST)
    actor_hidden = UserFactory(email=f"{ACTOR_HIDDEN}@example.com", full_name="Hidden editor")
    policies.grant_role(actor_hidden, own, Role.OPS_LEAD)
    actor_members = AdminFactory(email=f"{ACTOR_MEMBERS}@example.com", full_name="Members admin")

    # The activity rows, as the services write them (labels, snapshots of linked accounts).
    _record("brand.updated", actor=lead, target=own, brand=own, after={"description": "x"})
    for account in (allowed, hidden):
        _record("ad_account.created", actor=lead, target=account, brand=own)
    _record(
        "ad_account.updated",
        actor=actor_hidden,
        target=hidden,
        brand=own,
        before={"currency": "USD"},
        after={"currency": "EUR"},
    )
    for pixel in (shared, hidden_only, unlinked):
        _record(
            "pixel.created",
            actor=lead,
            target=pixel,
            brand=own,
            after=snapshot(pixel, PIXEL_FIELDS),
        )
    _record(
        "pixel.updated",
        actor=lead,
        target=shared,
        brand=own,
        before={"ad_accounts": [str(allowed)]},
        after={"ad_accounts": sorted([str(allowed), str(hidden)])},
    )
    _record("member.invited", actor=actor_members, target=member, brand=own)
    _record(
        "member.role_granted",
        actor=actor_members,
        target=member,
        brand=own,
        after={"role": "analyst"},
    )
    _record("brand.updated", actor=foreign_lead, target=foreign, brand=foreign, after={"x": 1})
    _record("member.invited", actor=foreign_lead, target=foreign_member, brand=foreign)
    _record("ad_account.created", actor=foreign_lead, target=foreign_account, brand=foreign)
    _record(
        "pixel.created",
        actor=foreign_lead,
        target=foreign_pixel,
        brand=foreign,
        after=snapshot(foreign_pixel, PIXEL_FIELDS),
    )
    return world


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker) -> Iterator[World]:
    """Built once in a transaction that is rolled back after the module (each test runs
    in a savepoint inside it)."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield _build()
        transaction.set_rollback(True)


# --- helpers -----------------------------------------------------------------------------


def _client(world: World, name: str) -> Client:
    client = Client()
    client.force_login(world.users[name])
    return client


def _api(world: World, name: str, path: str, params: dict[str, Any] | None = None) -> Any:
    return Client().get(API + path, params or {}, HTTP_AUTHORIZATION=f"Bearer {world.tokens[name]}")


def _body(response: Any) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode()
    return response.content.decode()


def _assert_shows(principal: Principal, body: str, expected: set[str]) -> None:
    """``body`` names every marker of ``expected`` the principal may see, and no marker
    the principal may not see."""
    leaked = sorted(marker for marker in ALL_MARKERS - principal.visible if marker in body)
    assert not leaked, f"{principal.name} is shown {leaked}"
    missing = sorted(marker for marker in expected & principal.visible if marker not in body)
    assert not missing, f"{principal.name} is not shown {missing}"


def _marker(label: str) -> str:
    """``zq-acct-allowed (act_1000001)`` → ``zq-acct-allowed``."""
    return label.split(" (")[0]


def _brand_of(principal: Principal) -> str:
    """The brand the principal's pages are about: their own (the admin: the own brand)."""
    return principal.brand or "own"


def _may_open(principal: Principal, brand: str) -> bool:
    return principal.name == "admin" or principal.brand == brand


params = pytest.mark.parametrize("principal", PRINCIPALS, ids=lambda p: p.name)


# --- brands ------------------------------------------------------------------------------


@params
def test_brand_list_page_and_api(world, principal):
    page = _client(world, principal.name).get(reverse("catalog:brand_list"))
    api = _api(world, principal.name, "/brands")

    assert page.status_code == 200
    _assert_shows(principal, _body(page), BRANDS)
    assert api.status_code == 200
    _assert_shows(principal, _body(api), BRANDS)
    assert {item["name"] for item in api.json()["items"]} == BRANDS & principal.visible


@params
def test_brand_counts_are_what_the_principal_sees(world, principal):
    """The brand list and the overview count only the visible ad accounts and pixels."""
    items = {item["name"]: item for item in _api(world, principal.name, "/brands").json()["items"]}
    for slug, name in (("own", BRAND_OWN), ("foreign", BRAND_FOREIGN)):
        if name not in principal.visible:
            assert name not in items
            continue
        visible_accounts = ACCOUNTS & principal.visible
        visible_pixels = PIXELS & principal.visible
        accounts = {a for a in visible_accounts if world.accounts[a].brand.slug == slug}
        pixels = {p for p in visible_pixels if world.pixels[p].brand.slug == slug}
        assert items[name]["ad_account_count"] == len(accounts)
        assert items[name]["pixel_count"] == len(pixels)
        detail = _api(world, principal.name, f"/brands/{slug}").json()
        assert (detail["ad_account_count"], detail["pixel_count"]) == (len(accounts), len(pixels))
        overview = _client(world, principal.name).get(reverse("catalog:brand_detail", args=[slug]))
        stats = overview.context["stats"]
        assert (stats["active_ad_accounts"], stats["active_pixels"]) == (len(accounts), len(pixels))
        _assert_shows(principal, _body(overview), {name})


@params
def test_start_page_names_only_the_principals_brands_and_counts_what_they_see(world, principal):
    """The start page never names a brand the principal holds no role on, and its counts
    (the brands table and the attention panel) cover only the pixels they may see."""
    page = _client(world, principal.name).get(reverse("home"))
    assert page.status_code == 200
    _assert_shows(principal, _body(page), BRANDS)
    rows = {row["brand"].name: row for row in page.context["rows"]}
    assert set(rows) == BRANDS & principal.visible
    without_token = {
        (item.brand.name, item.count)
        for group in page.context["panel"]["groups"]
        for item in group.items
        if item.key == "catalog.pixels_without_token"
    }
    expected = set()
    for name, row in rows.items():
        pixels = {p for p in PIXELS & principal.visible if world.pixels[p].brand.name == name}
        accounts = {a for a in ACCOUNTS & principal.visible if world.accounts[a].brand.name == name}
        assert (row["pixels"], row["ad_accounts"]) == (len(pixels), len(accounts)), name
        expected.add((name, len(pixels)))  # none of the pixels has an access token
    assert without_token == expected


@params
def test_brand_pages_of_a_brand_not_held_are_404(world, principal):
    for slug in ("own", "foreign"):
        if _may_open(principal, slug):
            continue
        client = _client(world, principal.name)
        for url in (
            reverse("catalog:brand_detail", args=[slug]),
            reverse("catalog:ad_account_list", args=[slug]),
            reverse("catalog:pixel_list", args=[slug]),
            reverse("activity:list", args=[slug]),
            reverse("activity:export", args=[slug]),
            reverse("members:list", args=[slug]),
        ):
            response = client.get(url)
            assert response.status_code == 404, url
            _assert_shows(principal, _body(response), set())
        for path in ("", "/ad-accounts", "/pixels", "/activity", "/members"):
            response = _api(world, principal.name, f"/brands/{slug}{path}")
            assert response.status_code == 404, path
            _assert_shows(principal, _body(response), set())


# --- ad accounts and pixels ----------------------------------------------------------------


@params
def test_ad_account_list_page_and_api(world, principal):
    slug = _brand_of(principal)
    if not _may_open(principal, slug):
        return  # 404: test_brand_pages_of_a_brand_not_held_are_404
    page = _client(world, principal.name).get(reverse("catalog:ad_account_list", args=[slug]))
    api = _api(world, principal.name, f"/brands/{slug}/ad-accounts")

    brand_accounts = {name for name, a in world.accounts.items() if a.brand.slug == slug}
    _assert_shows(principal, _body(page), brand_accounts)
    assert {item["name"] for item in api.json()["items"]} == brand_accounts & principal.visible
    _assert_shows(principal, _body(api), brand_accounts)


@params
def test_pixel_list_page_and_api_name_only_visible_ad_accounts(world, principal):
    slug = _brand_of(principal)
    if not _may_open(principal, slug):
        return
    page = _client(world, principal.name).get(reverse("catalog:pixel_list", args=[slug]))
    api = _api(world, principal.name, f"/brands/{slug}/pixels")

    brand_pixels = {name for name, p in world.pixels.items() if p.brand.slug == slug}
    brand_accounts = {name for name, a in world.accounts.items() if a.brand.slug == slug}
    _assert_shows(principal, _body(page), brand_pixels | brand_accounts)
    items = {item["name"]: item for item in api.json()["items"]}
    assert set(items) == brand_pixels & principal.visible
    for name, item in items.items():
        linked = {a.name for a in world.pixels[name].ad_accounts.all()} & principal.visible
        assert set(item["ad_account_ids"]) == {world.accounts[a].pk for a in linked}
    _assert_shows(principal, _body(api), brand_pixels)


@params
def test_pixel_detail_pages(world, principal):
    client = _client(world, principal.name)
    for name, pixel in world.pixels.items():
        response = client.get(reverse("catalog:pixel_detail", args=[pixel.brand.slug, pixel.pk]))
        if name not in principal.visible:
            assert response.status_code == 404, name
            _assert_shows(principal, _body(response), set())
            continue
        assert response.status_code == 200, name
        linked = {a.name for a in pixel.ad_accounts.all()}
        _assert_shows(principal, _body(response), {name} | linked)


def test_narrowed_buyer_sees_the_shared_pixel_with_only_their_account(world):
    principal = BY_NAME["narrowed_buyer"]
    shared = world.pixels[PIX_SHARED]
    response = _client(world, principal.name).get(
        reverse("catalog:pixel_detail", args=["own", shared.pk])
    )
    assert [a.name for a in response.context["ad_accounts"]] == [ACCT_ALLOWED]
    [item] = [
        item
        for item in _api(world, principal.name, "/brands/own/pixels").json()["items"]
        if item["name"] == PIX_SHARED
    ]
    assert item["ad_account_ids"] == [world.accounts[ACCT_ALLOWED].pk]


# --- activity ----------------------------------------------------------------------------


def _activity_expected(principal: Principal, slug: str) -> set[str]:
    """Every marker the brand's activity names (targets and actors)."""
    if slug == "own":
        return OWN_CATALOG | OWN_ACTIVITY_ONLY | OWN_MEMBERS
    return FOREIGN_CATALOG | FOREIGN_MEMBERS


@params
def test_activity_page(world, principal):
    slug = _brand_of(principal)
    if not _may_open(principal, slug):
        return
    response = _client(world, principal.name).get(reverse("activity:list", args=[slug]))

    assert response.status_code == 200
    _assert_shows(principal, _body(response), _activity_expected(principal, slug))


@params
def test_activity_member_rows_only_with_members_view(world, principal):
    slug = _brand_of(principal)
    if not _may_open(principal, slug):
        return
    page = _client(world, principal.name).get(
        reverse("activity:list", args=[slug]), {"target_type": "accounts.user"}
    )
    api = _api(world, principal.name, f"/brands/{slug}/activity", {"target_type": "accounts.user"})
    type_choices = [value for value, _ in page.context["form"].fields["target_type"].choices]

    if principal.members_view:
        assert page.status_code == 200
        assert "accounts.user" in type_choices
        assert api.json()["count"] == (2 if slug == "own" else 1)
    else:
        # Not a choice they have: refused like any unknown type, and nothing is shown.
        assert page.status_code == 422
        assert "accounts.user" not in type_choices
        assert api.status_code == 200
        assert api.json()["count"] == 0
    _assert_shows(principal, _body(page), set())
    _assert_shows(principal, _body(api), set())


@params
def test_activity_filter_choices_name_nothing_hidden(world, principal):
    slug = _brand_of(principal)
    if not _may_open(principal, slug):
        return
    form = _client(world, principal.name).get(reverse("activity:list", args=[slug])).context["form"]
    choices = (
        " ".join(label for _, label in form.fields["actor"].choices)
        + " "
        + " ".join(value for value, _ in form.fields["target_type"].choices)
    )
    _assert_shows(principal, choices, set())
    if slug == "own":
        assert (ACTOR_HIDDEN in choices) is (ACTOR_HIDDEN in principal.visible)
        assert (ACTOR_MEMBERS in choices) is principal.members_view


@params
def test_activity_exports(world, principal):
    slug = _brand_of(principal)
    if not _may_open(principal, slug):
        return
    client = _client(world, principal.name)
    url = reverse("activity:export", args=[slug])
    for chosen in ("csv", "json"):
        response = client.get(url, {"format": chosen})
        if not principal.exports:
            assert response.status_code == 403
            continue
        assert response.status_code == 200
        body = _body(response)
        if chosen == "json":
            json.loads(body)
        _assert_shows(principal, body, _activity_expected(principal, slug))


@params
def test_activity_api(world, principal):
    slug = _brand_of(principal)
    if not _may_open(principal, slug):
        return
    response = _api(world, principal.name, f"/brands/{slug}/activity", {"page_size": 100})

    assert response.status_code == 200
    items = response.json()["items"]
    assert response.json()["count"] == len(items)
    _assert_shows(principal, _body(response), _activity_expected(principal, slug))
    # Each row is about something the principal may see.
    for item in items:
        if item["target_type"] == "accounts.user":
            assert principal.members_view
        elif item["target_type"] != "catalog.brand":
            assert _marker(item["target_label"]) in principal.visible


def test_narrowed_buyer_activity_rows_drop_hidden_accounts_from_changes(world):
    items = _api(world, "narrowed_buyer", "/brands/own/activity", {"page_size": 100}).json()[
        "items"
    ]
    [updated] = [item for item in items if item["verb"] == "pixel.updated"]
    [allowed] = [str(world.accounts[ACCT_ALLOWED])]
    assert updated["before"] == {"ad_accounts": [allowed]}
    assert updated["after"] == {"ad_accounts": [allowed]}
    assert {_marker(item["target_label"]) for item in items} == {
        BRAND_OWN,
        ACCT_ALLOWED,
        PIX_SHARED,
        PIX_UNLINKED,
    }


# --- members -------------------------------------------------------------------------------


@params
def test_members_page_and_api(world, principal):
    slug = _brand_of(principal)
    if not _may_open(principal, slug):
        return
    page = _client(world, principal.name).get(reverse("members:list", args=[slug]))
    api = _api(world, principal.name, f"/brands/{slug}/members")

    if principal.members_view:
        assert (page.status_code, api.status_code) == (200, 200)
        expected = {MEMBER_OWN} if slug == "own" else {MEMBER_FOREIGN}
    else:
        assert (page.status_code, api.status_code) == (403, 403)
        expected = set()
    _assert_shows(principal, _body(page), expected)
    _assert_shows(principal, _body(api), expected)


# --- query counts for a narrowed buyer ---------------------------------------------------


@pytest.fixture
def narrowed(brand) -> tuple[Client, User, AdAccount]:
    allowed = AdAccountFactory(brand=brand)
    AdAccountFactory(brand=brand)
    user = UserFactory()
    policies.grant_role(user, brand, Role.MEDIA_BUYER)
    policies.set_ad_account_narrowing(user, brand, [allowed])
    client = Client()
    client.force_login(user)
    return client, user, allowed


def _count(client: Client, url: str) -> int:
    client.get(url)  # warm-up
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_narrowed_buyer_pixel_list_query_count_does_not_grow(brand, narrowed):
    client, _, allowed = narrowed
    hidden = AdAccountFactory(brand=brand)
    pixel = PixelFactory(brand=brand)
    pixel.ad_accounts.set([allowed, hidden])
    url = reverse("catalog:pixel_list", args=[brand.slug])
    one = _count(client, url)
    for _ in range(20):
        more = PixelFactory(brand=brand)
        more.ad_accounts.set([allowed, hidden])
    assert _count(client, url) == one


def test_narrowed_buyer_activity_page_query_count_does_not_grow(brand, narrowed, admin_user):
    client, _, allowed = narrowed
    pixel = PixelFactory(brand=brand)
    pixel.ad_accounts.set([allowed])
    url = reverse("activity:list", args=[brand.slug])

    def add(count: int) -> None:
        with transaction.atomic():
            for index in range(count):
                target = (brand, allowed, pixel)[index % 3]
                activity_record(verb="brand.updated", actor=admin_user, target=target, brand=brand)

    add(1)
    one = _count(client, url)
    add(30)
    assert _count(client, url) == one
