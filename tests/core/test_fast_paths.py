"""The per-page fast paths give what the slow paths gave: ``{% href %}`` / ``fast_reverse``
the URLs of ``{% url %}`` / ``reverse()``, ``sqlcache`` the rows of the ORM, the one-query
pagination the page and total of ``Paginator``, and capability tables the answers of
``can()`` — each without the work it replaces."""

from __future__ import annotations

import pytest
from django.db import connection
from django.template import Context, Template
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, reverse, set_script_prefix

from koastops.accounts import policies
from koastops.accounts.models import Role
from koastops.catalog.models import Brand
from koastops.core import links, sqlcache
from koastops.core.pagination import paginate
from tests.factories import BrandFactory, UserFactory


def render(source: str, **context: object) -> str:
    return Template("{% load ui %}" + source).render(Context(context))


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("home", []),
        ("catalog:brand_list", []),
        ("catalog:brand_detail", ["nordwind-outdoor"]),
        ("catalog:pixel_edit", ["nordwind", 42]),
        ("members:list", ["a_b-9"]),
    ],
)
def test_fast_reverse_and_href_give_the_urls_of_reverse_and_url(name, args):
    expected = reverse(name, args=args)
    assert links.fast_reverse(name, args) == expected
    assert links.fast_reverse(name, args) == expected  # from the cache
    source = "{% href '" + name + "'" + "".join(f" a{i}" for i in range(len(args)))
    context = {f"a{i}": arg for i, arg in enumerate(args)}
    assert render(source + " %}", **context) == expected
    assert render(source + " as link %}[{{ link }}]", **context) == f"[{expected}]"


def test_fast_reverse_falls_back_to_reverse_for_anything_but_slugs_and_ids():
    # reverse() refuses what its converter refuses; the fast path must not invent a URL.
    with pytest.raises(NoReverseMatch):
        links.fast_reverse("catalog:brand_detail", ["a b"])
    with pytest.raises(NoReverseMatch):
        links.fast_reverse("catalog:nope", ["x"])
    with pytest.raises(NoReverseMatch):
        render("{% href 'catalog:brand_detail' slug %}", slug="x&y")
    # As {% url … as var %}: a name that does not reverse leaves the variable empty.
    assert render("{% href 'catalog:nope' as link %}[{{ link }}]") == "[]"


def test_fast_reverse_keeps_the_script_prefix():
    set_script_prefix("/ops/")
    try:
        assert links.fast_reverse("catalog:brand_detail", ["x"]) == "/ops/brands/x/"
        assert links.url_pattern("catalog:brand_detail").format("y") == "/ops/brands/y/"
    finally:
        set_script_prefix("/")
    assert links.fast_reverse("catalog:brand_detail", ["x"]) == "/brands/x/"


def test_literal_icons_and_badges_also_work_with_as():
    icon = render('{% icon "check" %}')
    assert render('{% icon "check" as mark %}<b>{{ mark }}</b>') == f"<b>{icon}</b>"
    badge = render('{% status_badge tone="ok" label="Set" %}')
    assert render('{% status_badge tone="ok" label="Set" as b %}{{ b }}') == badge
    assert render("{% status_badge tone=t label=l %}", t="ok", l="Set") == badge


@pytest.mark.django_db
def test_sqlcache_gives_the_orm_rows_and_builds_the_query_once():
    brands = [BrandFactory(name=name) for name in ("Beta", "Alpha", "Gamma")]
    built = []

    def build(min_pk: int, name: str):
        built.append((min_pk, name))
        return Brand.objects.filter(pk__gte=min_pk).exclude(name=name).values_list("pk", "name")

    first, second = brands[0].pk, brands[1].pk
    for min_pk, name in ((first, "Gamma"), (second, "Alpha"), (first, "Nobody")):
        expected = list(
            Brand.objects.filter(pk__gte=min_pk).exclude(name=name).values_list("pk", "name")
        )
        with CaptureQueriesContext(connection) as queries:
            assert sqlcache.rows("test:brands", build, min_pk, name) == expected
        assert len(queries) == 1
    assert len(built) == 1  # compiled once, with markers, then only run


@pytest.mark.django_db
def test_sqlcache_takes_id_lists_and_datetimes():
    """An ``any_of`` id list and aware datetimes as values: the ORM's rows every time; on
    PostgreSQL (one array parameter, datetimes bound as such) built once, elsewhere not
    cached but still right."""
    from django.utils import timezone

    from koastops.core.lookups import any_of

    brands = [BrandFactory(name=name) for name in ("Beta", "Alpha", "Gamma")]
    built = []

    def build(ids: list[int], since):
        built.append(1)
        return (
            Brand.objects.filter(any_of("pk", ids), created_at__gte=since)
            .order_by("name")
            .values_list("name")
        )

    now = timezone.now()
    cases = [([b.pk for b in brands[:2]], now - timezone.timedelta(days=1)), ([brands[2].pk], now)]
    cases.append(([b.pk for b in brands], now + timezone.timedelta(days=1)))
    for ids, since in cases:
        expected = list(
            Brand.objects.filter(pk__in=ids, created_at__gte=since)
            .order_by("name")
            .values_list("name")
        )
        assert sqlcache.rows("test:ids-since", build, ids, since) == expected
    # Made before ``now``: none left with the same SQL and other values.
    assert sqlcache.rows("test:ids-since", build, [b.pk for b in brands], now) == []
    if connection.vendor == "postgresql":
        assert len(built) == 1
    else:
        assert len(built) == len(cases) + 2  # not cacheable there: built on every call


@pytest.mark.django_db
def test_the_policy_lookups_agree_with_the_orm():
    lead, admin = UserFactory(), UserFactory(is_superuser=True)
    own, other = BrandFactory(name="Own"), BrandFactory(name="Other")
    policies.grant_role(lead, own, Role.ANALYST)
    brand, role = policies.brand_and_role_for_view(lead, own.slug)
    assert (brand.pk, brand.name, brand.created_at, role) == (
        own.pk,
        "Own",
        own.created_at,
        Role.ANALYST,
    )
    assert policies.brand_and_role_for_view(admin, other.slug)[1] is None
    with pytest.raises(Exception, match="No such brand"):
        policies.brand_and_role_for_view(lead, other.slug)
    assert policies.switcher_brands(lead) == [(own.pk, "Own", own.slug)]
    assert [name for _, name, _ in policies.switcher_brands(admin)] == ["Other", "Own"]


@pytest.mark.django_db
def test_capabilities_are_computed_once_per_request_and_agree_with_can():
    lead = UserFactory()
    brand = BrandFactory()
    policies.grant_role(lead, brand, Role.MEDIA_BUYER)
    request = RequestFactory().get("/")
    request.user = lead
    with CaptureQueriesContext(connection) as queries:
        table = policies.capabilities_on(request, brand)
        assert policies.capabilities_on(request, brand) is table
    assert len(queries) == 1  # the role, once (a brand page passes it on: none)
    for capability in policies.CAPABILITIES:
        assert table[capability.replace(".", "_")] == policies.can(lead, capability, brand)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "number", ["", "1", "2", "3", "99", "x", "-1", "0", "2.0", "9223372036854775807"]
)
def test_one_query_pagination_matches_the_paginator(settings, number):
    settings.KOASTOPS_PAGE_SIZE = 2
    for index in range(5):
        BrandFactory(name=f"Brand {index}")
    request = RequestFactory().get("/", {"page": number, "q": "x"} if number else {"q": "x"})
    queryset = Brand.objects.order_by("name")
    slow = paginate(request, queryset)
    with CaptureQueriesContext(connection) as queries:
        fast = paginate(request, queryset.values("pk", "name"), one_query=True)
    # Past the end: the empty window query, then get_page()'s count (its rows come later).
    assert len(queries) == (2 if number == "99" else 1)
    # (A page number too large for an OFFSET is not sent: get_page() counts, once.)
    assert (fast.number, fast.paginator.count, fast.paginator.num_pages) == (
        slow.number,
        slow.paginator.count,
        slow.paginator.num_pages,
    )
    assert [row["pk"] for row in fast.object_list] == [brand.pk for brand in slow.object_list]
    assert fast.querystring == slow.querystring == "q=x"


@pytest.mark.django_db
@pytest.mark.parametrize("term", ["50%", "a_b", "back\\slash", "ALPHA", "nothing"])
def test_sqlcache_contains_values_are_escaped_as_the_orm_escapes_them(term):
    for name in ("Alpha 50% off", "a_b brand", "axb brand", "back\\slash", "Other"):
        BrandFactory(name=name)

    def build(value: str):
        return Brand.objects.filter(name__icontains=value).order_by("name").values("pk", "name")

    expected = list(build(term))
    assert sqlcache.dict_rows("test:contains", build, term) == expected
    assert sqlcache._COMPILED[("test:contains", "s")] is not None  # the cached path ran


def test_the_brand_list_reads_through_one_cached_statement(
    admin_client, brand, django_assert_num_queries
):
    admin_client.get(reverse("catalog:brand_list"))
    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get(reverse("catalog:brand_list"), {"q": brand.name[:3]})
    assert brand.name in response.content.decode()
    assert sum("catalog_brand" in q["sql"] and "OVER" in q["sql"] for q in queries) == 1
