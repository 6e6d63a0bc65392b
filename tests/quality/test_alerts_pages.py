"""The alerts page and the alerts API: content per principal (a narrowed media buyer never
sees a hidden pixel's name), open first, filters, htmx fragment, constant queries."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from koastops.accounts import policies
from koastops.accounts.models import Role
from koastops.accounts.tokens import api_token_create
from koastops.quality.models import Alert
from tests.factories import (
    AdAccountFactory,
    AlertFactory,
    AlertRuleFactory,
    PixelFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def seen(brand, foreign_brand, pixel):
    """Alerts with markers: on the visible pixel, on a pixel hidden from the narrowed buyer,
    on no pixel, resolved, and on a foreign brand."""
    hidden_account = AdAccountFactory(brand=brand, name="Hidden account")
    hidden = PixelFactory(brand=brand, name="HiddenPixelMarker")
    hidden.ad_accounts.add(hidden_account)
    now = timezone.now()
    rule = AlertRuleFactory(brand=brand, kind="silent", threshold=Decimal("6"))
    AlertFactory(rule=rule, pixel=pixel, message="VisibleMarker silent", value=Decimal("9"))
    AlertFactory(rule=rule, pixel=hidden, message="HiddenMessageMarker silent")
    broad = AlertRuleFactory(brand=brand, kind="discrepancy", threshold=None)
    AlertFactory(
        rule=broad,
        pixel=None,
        event="Purchase",
        subject_key="event:Purchase",
        message="BrandWideMarker gap",
        opened_at=now - timedelta(days=1),
    )
    AlertFactory(
        rule=rule,
        pixel=pixel,
        subject_key=f"pixel:{pixel.pk}:old",
        status="resolved",
        message="ResolvedMarker",
        opened_at=now + timedelta(hours=1),  # newer, but resolved: after the open ones
        resolved_at=now + timedelta(hours=2),
    )
    foreign_rule = AlertRuleFactory(brand=foreign_brand)
    AlertFactory(rule=foreign_rule, message="ForeignMarker")
    buyer = UserFactory(email="narrowed@example.com")
    policies.grant_role(buyer, brand, Role.MEDIA_BUYER)
    policies.set_ad_account_narrowing(buyer, brand, list(pixel.ad_accounts.all()))
    analyst = UserFactory(email="analyst@example.com")
    policies.grant_role(analyst, brand, Role.ANALYST)
    return {"buyer": buyer, "analyst": analyst, "hidden": hidden}


MARKERS = [
    "VisibleMarker",
    "HiddenPixelMarker",
    "HiddenMessageMarker",
    "BrandWideMarker",
    "ResolvedMarker",
    "ForeignMarker",
]


def _markers(text: str) -> set[str]:
    return {marker for marker in MARKERS if marker in text}


def test_analyst_sees_every_alert_of_the_brand_open_first(client, brand, seen):
    client.force_login(seen["analyst"])
    page = client.get(reverse("quality:alerts", args=[brand.slug])).content.decode()
    assert _markers(page) == set(MARKERS) - {"ForeignMarker"}
    assert (
        page.index("VisibleMarker") < page.index("BrandWideMarker") < page.index("ResolvedMarker")
    )
    assert "Purchase (brand)" in page and "9 h" in page


def test_narrowed_buyer_never_sees_a_hidden_pixel(client, brand, seen):
    client.force_login(seen["buyer"])
    for query in ["", "?status=open", "?q=Hidden", "?kind=silent", "?status=resolved"]:
        page = client.get(reverse("quality:alerts", args=[brand.slug]) + query).content.decode()
        assert not _markers(page) & {"HiddenPixelMarker", "HiddenMessageMarker", "ForeignMarker"}
    page = client.get(reverse("quality:alerts", args=[brand.slug])).content.decode()
    assert _markers(page) == {"VisibleMarker", "BrandWideMarker", "ResolvedMarker"}


def test_filters_and_htmx_fragment(client, brand, seen, htmx_headers):
    client.force_login(seen["analyst"])
    url = reverse("quality:alerts", args=[brand.slug])
    page = client.get(url, {"status": "resolved"}).content.decode()
    assert _markers(page) == {"ResolvedMarker"}
    page = client.get(url, {"kind": "discrepancy"}).content.decode()
    assert _markers(page) == {"BrandWideMarker"}
    page = client.get(url, {"q": "visible"}).content.decode()
    assert _markers(page) == {"VisibleMarker"}
    response = client.get(url, {"q": "nothing-like-it"}, **htmx_headers)
    text = response.content.decode()
    assert text.lstrip().startswith('<div id="alert-table">')
    assert "No alerts match these filters" in text
    assert f'href="{url}"' in text  # "Show every alert" works in the fragment too
    # Unknown filter values fall back to the defaults.
    page = client.get(url, {"status": "bogus", "kind": "<b>", "page": "x"}).content.decode()
    assert "VisibleMarker" in page


def test_messages_are_escaped(client, brand, pixel, seen):
    AlertFactory(
        rule=AlertRuleFactory(brand=brand),
        pixel=pixel,
        subject_key="pixel:x",
        message="<script>alert(1)</script>",
    )
    client.force_login(seen["analyst"])
    page = client.get(reverse("quality:alerts", args=[brand.slug])).content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def _many(brand, pixel, count):
    rule = AlertRuleFactory(brand=brand, kind="silent", threshold=Decimal("6"))
    now = timezone.now()
    Alert.objects.bulk_create(
        Alert(
            brand=brand,
            rule=rule,
            kind="silent",
            pixel=pixel,
            subject_key=f"pixel:{pixel.pk}:{index}",
            message=f"Alert {index}",
            opened_at=now,
            last_seen_at=now,
            status="open" if index % 2 else "resolved",
        )
        for index in range(count)
    )


@pytest.mark.parametrize("principal", ["analyst", "buyer"])
def test_alerts_page_queries_do_not_grow_with_rows(
    client, brand, pixel, seen, principal, django_assert_max_num_queries
):
    client.force_login(seen[principal])
    url = reverse("quality:alerts", args=[brand.slug])
    _many(brand, pixel, 1)
    client.get(url)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as one:
        assert client.get(url).status_code == 200
    _many(brand, pixel, 100)
    with django_assert_max_num_queries(len(one.captured_queries)):
        assert client.get(url).status_code == 200
    with django_assert_max_num_queries(len(one.captured_queries)):
        assert client.get(reverse("quality:alert_rules", args=[brand.slug])).status_code == 200


# --- API --------------------------------------------------------------------------------------


_TOKENS = iter(range(1_000_000))


def _api(client, user, url, **params):
    _, raw = api_token_create(user=user, name=f"test {next(_TOKENS)}")
    return client.get(url, params, HTTP_AUTHORIZATION=f"Bearer {raw}")


def test_api_lists_alerts_scoped_and_paginated(client, brand, seen):
    url = f"/api/v1/brands/{brand.slug}/alerts"
    body = _api(client, seen["analyst"], url).json()
    assert body["count"] == 4 and body["page"] == 1
    assert [item["status"] for item in body["items"]] == ["open", "open", "open", "resolved"]
    [first] = [item for item in body["items"] if item["message"] == "VisibleMarker silent"]
    assert first["pixel"]["name"] == "Shop pixel" and first["kind"] == "silent"
    assert first["value"] in ("9.00", 9.0, "9")
    body = _api(client, seen["buyer"], url, status="open").json()
    assert {item["message"] for item in body["items"]} == {
        "VisibleMarker silent",
        "BrandWideMarker gap",
    }
    assert "Hidden" not in str(body)
    body = _api(client, seen["analyst"], url, page_size=1, page=2).json()
    assert body["count"] == 4 and len(body["items"]) == 1


def test_api_errors_name_the_field(client, brand, foreign_brand, seen):
    url = f"/api/v1/brands/{brand.slug}/alerts"
    response = _api(client, seen["analyst"], url, status="bogus")
    assert response.status_code == 422 and "status" in response.content.decode()
    response = _api(client, seen["analyst"], url, kind="nope")
    assert response.status_code == 422 and "kind" in response.content.decode()
    response = _api(client, seen["analyst"], f"/api/v1/brands/{foreign_brand.slug}/alerts")
    assert response.status_code == 404


def test_api_queries_do_not_grow_with_rows(
    client, brand, pixel, seen, django_assert_max_num_queries
):
    url = f"/api/v1/brands/{brand.slug}/alerts"
    _, raw = api_token_create(user=seen["buyer"], name="test")
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as one:
        client.get(url, HTTP_AUTHORIZATION=f"Bearer {raw}")
    _many(brand, pixel, 100)
    with django_assert_max_num_queries(len(one.captured_queries)):
        assert client.get(url, HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 200


# --- needs attention ----------------------------------------------------------------------------


def test_attention_counts_open_alerts_as_the_page_shows_them(brand, foreign_brand, seen):
    from koastops.quality import attention_alerts

    analyst_items = list(
        attention_alerts.open_alerts(
            user=seen["analyst"], brands=[brand], roles={brand.pk: Role.ANALYST}
        )
    )
    [item] = analyst_items
    assert (item.count, item.tone, item.key) == (3, "failing", "quality.open_alerts")
    assert item.href.endswith(f"/brands/{brand.slug}/quality/alerts/?status=open")
    buyer = {brand.pk: Role.MEDIA_BUYER}
    [item] = attention_alerts.open_alerts(user=seen["buyer"], brands=[brand], roles=buyer)
    assert item.count == 2  # not the alert on the hidden pixel
    assert list(attention_alerts.open_alerts(user=seen["buyer"], brands=[], roles={})) == []


def test_attention_is_constant_queries_for_many_brands(brand, seen, django_assert_num_queries):
    from koastops.quality import attention_alerts
    from tests.factories import BrandFactory

    brands = [brand, *(BrandFactory() for _ in range(20))]
    analyst = {b.pk: Role.ANALYST for b in brands}
    with django_assert_num_queries(1):  # the grouped counts (only a media buyer is narrowed)
        list(attention_alerts.open_alerts(user=seen["analyst"], brands=brands, roles=analyst))
    buyer = {b.pk: Role.MEDIA_BUYER for b in brands}
    with django_assert_num_queries(2):  # "narrowed anywhere?" and the grouped counts
        list(attention_alerts.open_alerts(user=seen["buyer"], brands=brands, roles=buyer))
