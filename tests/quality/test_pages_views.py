"""The quality pages: the brand's pixel table, the cross-brand table, a pixel's detail —
by principal (own, narrowed media buyer, foreign), sorting and filters, empty states,
definitions, the demo label, bad input and query counts."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from koastops.accounts.models import Role
from tests.factories import (
    BrandFactory,
    DailyStatFactory,
    EventQualityFactory,
    HourlyStatFactory,
    PixelConnectionFactory,
    PixelFactory,
    PullRunFactory,
)
from tests.quality.pages_support import client_for, member, narrowed_buyer, pixel_with_summary

pytestmark = pytest.mark.django_db

HOSTILE = '<script>alert("x")</script>'


def table_url(brand, **query) -> str:
    url = reverse("quality:pixels", args=[brand.slug])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def detail_url(pixel, **query) -> str:
    url = reverse("quality:pixel", args=[pixel.brand.slug, pixel.pk])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def all_url(**query) -> str:
    url = reverse("quality_all:pixels")
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


# --- the brand's table ---------------------------------------------------------------------


@pytest.mark.parametrize("role", list(Role))
def test_every_role_reads_the_table_with_definitions(brand, role):
    pixel_with_summary(brand, "MarkerAlpha")
    response = client_for(member(brand, role)).get(table_url(brand))
    assert response.status_code == 200
    body = response.content.decode()
    assert "MarkerAlpha" in body
    assert "What the figures mean" in body and "UTC" in body and "last 7 full UTC days" in body
    assert "1,200" in body and "45.5 %" in body and "Purchase 7.4" in body
    assert "Connected" in body


def test_foreign_brand_is_404_and_its_pixels_never_show(brand, foreign_brand):
    pixel_with_summary(foreign_brand, "MarkerForeign")
    client = client_for(member(brand, Role.ANALYST))
    assert client.get(table_url(foreign_brand)).status_code == 404
    assert "MarkerForeign" not in client.get(table_url(brand)).content.decode()


def test_narrowed_media_buyer_sees_only_their_pixels(brand):
    visible = pixel_with_summary(brand, "MarkerVisible")
    hidden = pixel_with_summary(brand, "MarkerHidden", problems=[{"key": "silent", "message": "x"}])
    buyer = narrowed_buyer(brand, visible, hidden)
    client = client_for(buyer)
    body = client.get(table_url(brand)).content.decode()
    assert "MarkerVisible" in body and "MarkerHidden" not in body
    problems = client.get(table_url(brand, show="problems")).content.decode()
    assert "MarkerHidden" not in problems
    assert client.get(detail_url(hidden)).status_code == 404
    assert client.get(detail_url(visible)).status_code == 200
    everything = client.get(all_url()).content.decode()
    assert "MarkerVisible" in everything and "MarkerHidden" not in everything


def test_sorting_by_a_whitelisted_column_and_ignoring_others(brand):
    pixel_with_summary(brand, "Aaa", events_per_day=10)
    pixel_with_summary(brand, "Bbb", events_per_day=500)
    pixel_with_summary(brand, "Ccc", events_per_day=None, counts_pulled_at=None)
    client = client_for(member(brand, Role.OPS_LEAD))
    body = client.get(table_url(brand, sort="-events")).content.decode()
    assert body.index("Bbb") < body.index("Aaa") < body.index("Ccc")  # empty figures last
    body = client.get(table_url(brand, sort="events")).content.decode()
    assert body.index("Aaa") < body.index("Bbb") < body.index("Ccc")
    assert 'aria-sort="ascending"' in body
    for bad in ("pk;drop", "-", "connection__message", "%00", "x" * 500):
        response = client.get(table_url(brand, sort=bad, show=bad, q=bad, page=bad))
        assert response.status_code == 200


def test_status_chips_filter_and_count(brand):
    pixel_with_summary(brand, "HealthyOne")
    pixel_with_summary(
        brand,
        "BrokenOne",
        status="broken",
        message="Token expired",
        problems=[{"key": "connection_broken", "message": "Connection broken"}],
    )
    pixel_with_summary(
        brand, "LowEmqOne", problems=[{"key": "low_emq", "message": "Purchase EMQ 4.1 below 6"}]
    )
    PixelFactory(brand=brand, name="NeverPulled")
    client = client_for(member(brand, Role.ANALYST))
    body = client.get(table_url(brand, show="broken")).content.decode()
    assert "BrokenOne" in body and "HealthyOne" not in body and "LowEmqOne" not in body
    body = client.get(table_url(brand, show="problems")).content.decode()
    assert "BrokenOne" in body and "LowEmqOne" in body and "HealthyOne" not in body
    assert "Purchase EMQ 4.1 below 6" in body
    body = client.get(table_url(brand, show="not_pulled")).content.decode()
    assert "NeverPulled" in body and "HealthyOne" not in body
    body = client.get(table_url(brand, show="ok")).content.decode()
    assert "HealthyOne" in body and "BrokenOne" not in body and "NeverPulled" not in body
    assert 'With problems <span class="num">(2)</span>' in body


def test_search_and_htmx_swap_only_the_table(brand, htmx_headers):
    pixel_with_summary(brand, "FindMe")
    pixel_with_summary(brand, "Other")
    client = client_for(member(brand, Role.ANALYST))
    response = client.get(table_url(brand, q="findm"), **htmx_headers)
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="quality-table">')
    assert "FindMe" in body and "Other" not in body


def test_demo_rows_are_labelled(brand):
    pixel_with_summary(brand, "DemoPixel", provider="demo")
    body = client_for(member(brand, Role.ANALYST)).get(table_url(brand)).content.decode()
    assert "demo data" in body


def test_user_text_is_escaped(brand):
    pixel_with_summary(
        brand, HOSTILE, problems=[{"key": "x", "message": HOSTILE}], key_emq={HOSTILE: "3.0"}
    )
    body = client_for(member(brand, Role.ANALYST)).get(table_url(brand)).content.decode()
    assert HOSTILE not in body
    assert "&lt;script&gt;" in body


def test_empty_states(brand):
    lead = client_for(member(brand, Role.OPS_LEAD))
    body = lead.get(table_url(brand)).content.decode()
    assert "No pixels yet" in body and reverse("catalog:pixel_create", args=[brand.slug]) in body
    analyst = client_for(member(brand, Role.ANALYST))
    body = analyst.get(table_url(brand)).content.decode()
    assert "No pixels yet" in body
    assert reverse("catalog:pixel_create", args=[brand.slug]) not in body
    PixelFactory(brand=brand, name="Fresh")
    body = analyst.get(table_url(brand)).content.decode()
    assert "Fresh" in body and "not been pulled yet" in body
    body = analyst.get(table_url(brand, q="nothing-like-it")).content.decode()
    assert "No pixels match these filters" in body


@pytest.mark.parametrize("n", [1, 100])
def test_table_queries_are_constant(brand, n, django_assert_max_num_queries):
    for index in range(n):
        pixel_with_summary(brand, f"P{index:03}")
    client = client_for(member(brand, Role.MEDIA_BUYER))
    client.get(table_url(brand))  # warm the per-process caches
    # session, user, brand and role, rows, chip counts, thresholds, switcher, session save
    with django_assert_max_num_queries(10):
        response = client.get(table_url(brand, sort="-emq"))
    assert response.status_code == 200


# --- the cross-brand table -----------------------------------------------------------------


def test_cross_brand_table_lists_only_brands_with_a_role(brand, foreign_brand):
    other = BrandFactory(name="Second Brand", slug="second-brand")
    pixel_with_summary(brand, "MarkerOwn")
    pixel_with_summary(other, "MarkerSecond")
    pixel_with_summary(foreign_brand, "MarkerForeign")
    user = member(brand, Role.ANALYST)
    from koastops.accounts import policies

    policies.grant_role(user, other, Role.OPS_LEAD)
    client = client_for(user)
    body = client.get(all_url()).content.decode()
    assert "MarkerOwn" in body and "MarkerSecond" in body
    assert "MarkerForeign" not in body and "Foreign Brand" not in body
    body = client.get(all_url(brand="second-brand")).content.decode()
    assert "MarkerSecond" in body and "MarkerOwn" not in body
    body = client.get(all_url(brand="foreign-brand")).content.decode()
    assert "MarkerForeign" not in body and "No pixels match" in body
    assert client.get(all_url(brand="<bad>", sort="zzz", show="%00")).status_code == 200


def test_cross_brand_table_for_a_user_without_brands(plain_user, client):
    client.force_login(plain_user)
    response = client.get(all_url())
    assert response.status_code == 200
    assert "No pixels to show" in response.content.decode()


@pytest.mark.parametrize("n", [1, 40])
def test_cross_brand_queries_are_constant(n, django_assert_max_num_queries):
    user = None
    from koastops.accounts import policies
    from tests.factories import UserFactory

    user = UserFactory()
    for index in range(n):
        brand = BrandFactory(slug=f"b-{index}")
        policies.grant_role(user, brand, Role.MEDIA_BUYER if index % 2 else Role.ANALYST)
        pixel_with_summary(brand, f"Pixel {index}")
    client = client_for(user)
    client.get(all_url())
    with django_assert_max_num_queries(10):
        assert client.get(all_url(sort="-dedup")).status_code == 200


# --- the detail ----------------------------------------------------------------------------


def _quality_history(pixel):
    now = timezone.now()
    for hours in (30, 18, 6):
        EventQualityFactory(
            pixel=pixel,
            event="Purchase",
            pulled_at=now - dt.timedelta(hours=hours),
            emq=Decimal("7.0") + Decimal(hours) / 10,
            dedup_coverage=Decimal("80"),
            diagnostics=[
                {
                    "name": "Missing email",
                    "description": "Few Purchase events send em",
                    "solution": "Send hashed email with server events",
                    "percentage": 40,
                    "affected_event_count": 120,
                    "total_event_count": 300,
                }
            ],
        )
        EventQualityFactory(
            pixel=pixel, event="Lead", pulled_at=now - dt.timedelta(hours=hours), emq=Decimal("4.5")
        )


def test_detail_shows_charts_tables_and_diagnostics(brand):
    pixel = pixel_with_summary(brand, "DetailPixel")
    hour = timezone.now().replace(minute=0, second=0, microsecond=0) - dt.timedelta(hours=3)
    HourlyStatFactory(pixel=pixel, hour=hour, source="browser", count=70)
    HourlyStatFactory(pixel=pixel, hour=hour, source="server", count=40)
    HourlyStatFactory(pixel=pixel, hour=hour, source="total", count=90)
    _quality_history(pixel)
    PullRunFactory(pixel=pixel)
    body = client_for(member(brand, Role.ANALYST)).get(detail_url(pixel)).content.decode()
    assert body.count('<svg class="chart"') == 3
    assert "<title id=" in body and "<desc id=" in body
    assert 'stroke-dasharray="6 3"' in body  # the second series is dashed
    assert "The numbers as a table" in body
    assert "Send hashed email with server events" in body and "120 of 300 events affected" in body
    assert "email" in body  # match-key feedback
    assert "Below the threshold" in body  # Lead at 4.5 < 6.0
    assert "Last 7 days, hourly" in body
    # the hour's row of the table under the chart: browser, server, total
    assert '<td class="num">70</td><td class="num">40</td><td class="num">90</td>' in body


def test_detail_daily_ranges_read_the_rollup(brand):
    pixel = pixel_with_summary(brand, "DailyPixel")
    day = (timezone.now() - dt.timedelta(days=3)).date()
    DailyStatFactory(pixel=pixel, day=day, source="browser", count=12345)
    client = client_for(member(brand, Role.ANALYST))
    body = client.get(detail_url(pixel, range="30d")).content.decode()
    assert "12345" in body and "per UTC day" in body
    assert client.get(detail_url(pixel, range="nonsense")).status_code == 200


def test_broken_connection_says_what_to_do(brand):
    pixel = pixel_with_summary(
        brand, "BrokenPixel", status="broken", message="Error validating access token"
    )
    token_url = reverse("catalog:pixel_token", args=[brand.slug, pixel.pk])
    lead_body = client_for(member(brand, Role.OPS_LEAD)).get(detail_url(pixel)).content.decode()
    assert "Error validating access token" in lead_body
    assert token_url in lead_body and "Set a new access token" in lead_body
    analyst_body = client_for(member(brand, Role.ANALYST)).get(detail_url(pixel)).content.decode()
    assert token_url not in analyst_body and "An ops lead of the brand" in analyst_body


def test_detail_of_a_pixel_never_pulled_and_demo_label(brand):
    pixel = PixelFactory(brand=brand, name="Unpulled")
    body = client_for(member(brand, Role.ANALYST)).get(detail_url(pixel)).content.decode()
    assert "Not pulled yet" in body and "No events in this range" in body
    PixelConnectionFactory(pixel=pixel, provider="demo")
    body = (
        client_for(member(brand, Role.ANALYST, "a2@example.com"))
        .get(detail_url(pixel))
        .content.decode()
    )
    assert "demo data" in body


def test_detail_of_another_brands_pixel_is_404(brand, foreign_brand):
    foreign_pixel = pixel_with_summary(foreign_brand, "Elsewhere")
    client = client_for(member(brand, Role.OPS_LEAD))
    url = reverse("quality:pixel", args=[brand.slug, foreign_pixel.pk])
    assert client.get(url).status_code == 404
    assert client.get(reverse("quality:pixel", args=[brand.slug, 2**40])).status_code == 404
    huge = f"/brands/{brand.slug}/quality/pixels/{10**30}/"
    assert client.get(huge).status_code == 404
    assert client.post(f"/brands/{brand.slug}/quality/pixels/{10**30}/connection/").status_code in (
        403,
        404,
    )


@pytest.mark.parametrize("events", [1, 12])
def test_detail_queries_are_constant(brand, events, django_assert_max_num_queries):
    pixel = pixel_with_summary(brand, "Counted")
    now = timezone.now()
    for index in range(events):
        for hours in (2, 8):
            EventQualityFactory(
                pixel=pixel, event=f"Event{index}", pulled_at=now - dt.timedelta(hours=hours)
            )
    client = client_for(member(brand, Role.MEDIA_BUYER))
    client.get(detail_url(pixel))
    with django_assert_max_num_queries(13):
        assert client.get(detail_url(pixel)).status_code == 200


def test_sidebar_links_the_quality_pages(brand):
    body = client_for(member(brand, Role.ANALYST)).get(table_url(brand)).content.decode()
    assert reverse("quality:settings", args=[brand.slug]) in body
    assert reverse("quality_all:pixels") in body


@pytest.mark.parametrize("role", [Role.ANALYST, Role.MEDIA_BUYER])
def test_search_wildcards_are_literal_and_each_brand_gets_its_own_rows(brand, role):
    # The analyst's statement is compiled once per process (shared by every brand), the
    # media buyer's is not: both must escape LIKE wildcards and keep to the brand.
    other = BrandFactory(slug="other-brand")
    pixel_with_summary(brand, "Plain name")
    pixel_with_summary(brand, "100% pixel")
    pixel_with_summary(other, "Other 100% pixel")
    client = client_for(member(brand, role))
    body = client.get(table_url(brand, q="%25")).content.decode()
    assert "100% pixel" in body and "Plain name" not in body and "Other 100%" not in body
    body = client.get(table_url(brand, q="_")).content.decode()
    assert "No pixels match these filters" in body
    other_client = client_for(member(other, role, f"other-{role.value}@example.com"))
    body = other_client.get(table_url(other, q="%25")).content.decode()
    assert "Other 100% pixel" in body and ">100% pixel<" not in body
