"""A brand's activity page: filters, pagination, access, queries, escaping."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from koastops.accounts import policies
from koastops.accounts.models import Role
from koastops.activity.models import ActivityEntry
from koastops.activity.services import GENESIS_HASH, activity_sign
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LOGIN_URL = "/accounts/login/"
UTC = dt.UTC


# --- helpers (also used by test_export) ------------------------------------------------------


def add_entry(
    brand,
    *,
    verb: str = "brand.updated",
    actor_label: str = "ann@example.com",
    target_type: str = "catalog.brand",
    target_id: str = "1",
    target_label: str = "Own Brand",
    before: dict | None = None,
    after: dict | None = None,
    created_at: dt.datetime | None = None,
    ip: str | None = "203.0.113.5",
) -> ActivityEntry:
    """Append a chained entry with chosen content (``activity_record`` always stamps "now"
    and the request's actor; these tests need other days and odd labels)."""
    last = ActivityEntry.objects.order_by("-id").values_list("hash", flat=True).first()
    entry = ActivityEntry(
        created_at=created_at or timezone.now().replace(microsecond=0),
        actor_label=actor_label,
        verb=verb,
        brand_id=getattr(brand, "pk", brand),
        target_type=target_type,
        target_id=target_id,
        target_label=target_label,
        before=before or {},
        after=after or {},
        ip=ip,
        request_id="",
        prev_hash=last or GENESIS_HASH,
    )
    activity_sign(entry)
    entry.save(force_insert=True)
    return entry


def client_with_role(brand, role: Role) -> Client:
    user = UserFactory()
    policies.grant_role(user, brand, role)
    client = Client()
    client.force_login(user)
    return client


def list_url(brand) -> str:
    return reverse("activity:list", args=[brand.slug])


def export_url(brand) -> str:
    return reverse("activity:export", args=[brand.slug])


def shown(response) -> list[int]:
    return [row.entry.pk for row in response.context["rows"]]


# --- the page ------------------------------------------------------------------------------


def test_lists_the_brands_entries_newest_first(admin_client, brand, foreign_brand):
    old = add_entry(brand, verb="brand.created", created_at=dt.datetime(2026, 1, 5, 9, tzinfo=UTC))
    new = add_entry(
        brand,
        verb="ad_account.updated",
        target_type="catalog.adaccount",
        target_label="Main DE",
        before={"name": "Main", "currency": "EUR"},
        after={"name": "Main DE", "currency": "EUR"},
    )
    add_entry(foreign_brand, target_label="Foreign only")

    response = admin_client.get(list_url(brand))

    assert response.status_code == 200
    assert shown(response) == [new.pk, old.pk]
    html = response.content.decode()
    assert "Foreign only" not in html
    assert "edited the ad account" in html
    assert 'Main DE <span class="muted">(Ad account)</span>' in html
    assert "<strong>name</strong>: Main → Main DE" in html
    assert "<strong>currency</strong>" not in html  # unchanged fields are left out
    assert '<time datetime="2026-01-05T09:00:00+00:00">2026-01-05 09:00:00</time>' in html
    assert "<code>203.0.113.5</code>" in html


def test_empty_state(admin_client, brand):
    response = admin_client.get(list_url(brand))

    assert response.status_code == 200
    assert "Nothing has happened on Own Brand yet." in response.content.decode()


def test_filter_by_actor_picked_or_typed(admin_client, brand):
    ann = add_entry(brand, actor_label="ann@example.com")
    joann = add_entry(brand, actor_label="joann@example.com")
    add_entry(brand, actor_label="bob@example.com")

    picked = admin_client.get(list_url(brand), {"actor": "ann@example.com"})
    typed = admin_client.get(list_url(brand), {"actor": "ANN@"})

    assert shown(picked) == [ann.pk]  # a label from the list means exactly that actor
    assert shown(typed) == [joann.pk, ann.pk]  # free text searches
    assert "bob@example.com" in picked.content.decode()  # still offered in the list


def test_filter_by_verb(admin_client, brand):
    created = add_entry(brand, verb="pixel.created")
    add_entry(brand, verb="pixel.archived")

    response = admin_client.get(list_url(brand), {"verb": "pixel.created"})

    assert shown(response) == [created.pk]


def test_filter_by_object_type(admin_client, brand):
    pixel = add_entry(brand, target_type="catalog.pixel")
    add_entry(brand, target_type="catalog.brand")

    response = admin_client.get(list_url(brand), {"type": "catalog.pixel"})

    assert shown(response) == [pixel.pk]
    assert '<option value="catalog.pixel" selected>Pixel</option>' in response.content.decode()


def test_filter_by_date_range_is_inclusive_in_utc(admin_client, brand):
    def at(day: int, hour: int = 12, minute: int = 0) -> dt.datetime:
        return dt.datetime(2026, 3, day, hour, minute, tzinfo=UTC)

    add_entry(brand, created_at=at(9, 23, 59))
    first = add_entry(brand, created_at=at(10, 0, 0))
    last = add_entry(brand, created_at=at(12, 23, 59))
    add_entry(brand, created_at=at(13, 0, 0))

    response = admin_client.get(list_url(brand), {"from": "2026-03-10", "to": "2026-03-12"})
    only_from = admin_client.get(list_url(brand), {"from": "2026-03-13"})

    assert shown(response) == [last.pk, first.pk]
    assert len(shown(only_from)) == 1


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"verb": "member.teleported"}, "verb"),
        ({"type": "catalog.nothing"}, "type"),
        ({"from": "yesterday"}, "from"),
        ({"from": "2026-03-12", "to": "2026-03-10"}, "to"),
    ],
)
def test_invalid_filters_are_422_with_the_error_and_no_rows(admin_client, brand, params, field):
    add_entry(brand)

    response = admin_client.get(list_url(brand), params)

    assert response.status_code == 422
    assert field in response.context["form"].errors
    assert response.context["rows"] is None
    assert "These filters cannot be applied" in response.content.decode()


def test_filtered_empty_state_offers_to_clear(admin_client, brand):
    add_entry(brand, verb="brand.created")

    response = admin_client.get(list_url(brand), {"verb": "pixel.created"})

    assert "Nothing on Own Brand matches these filters." in response.content.decode()


def test_paginates_by_25_keeping_the_filters(admin_client, brand):
    entries = [add_entry(brand, verb="brand.updated") for _ in range(30)]
    add_entry(brand, verb="brand.created")

    first = admin_client.get(list_url(brand), {"verb": "brand.updated"})
    second = admin_client.get(list_url(brand), {"verb": "brand.updated", "page": 2})

    assert len(shown(first)) == 25
    assert shown(second) == [entry.pk for entry in reversed(entries[:5])]
    assert "verb=brand.updated&amp;page=2" in first.content.decode()


def test_htmx_filtering_renders_only_the_table(admin_client, brand, htmx_headers):
    add_entry(brand, verb="brand.created")

    response = admin_client.get(list_url(brand), {"verb": "brand.created"}, **htmx_headers)

    html = response.content.decode()
    assert html.lstrip().startswith('<div id="activity-table">')
    assert "<html" not in html
    assert "created the brand" in html
    # The export links follow the filters.
    assert "export/?verb=brand.created&amp;format=csv" in html


def test_query_count_does_not_grow_with_rows(admin_client, brand):
    add_entry(brand)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert admin_client.get(list_url(brand)).status_code == 200
        return len(queries)

    one = count()
    for index in range(49):
        add_entry(
            brand,
            actor_label=f"user{index}@example.com",
            target_type="catalog.pixel" if index % 2 else "catalog.adaccount",
            before={"name": f"old {index}"},
            after={"name": f"new {index}"},
        )
    assert count() == one


def test_user_text_is_escaped(admin_client, brand):
    add_entry(
        brand,
        actor_label="<b>actor</b>",
        target_label="<script>alert(1)</script>",
        before={"name": "<img src=x>"},
        after={"name": "ok"},
    )

    html = admin_client.get(list_url(brand)).content.decode()

    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img src=x>" not in html
    assert "&lt;img src=x&gt;" in html
    assert "<b>actor</b>" not in html


# --- who may see ---------------------------------------------------------------------------


@pytest.mark.parametrize("role", list(Role))
def test_every_role_on_the_brand_may_view(brand, role):
    add_entry(brand)
    client = client_with_role(brand, role)

    response = client.get(list_url(brand))

    assert response.status_code == 200
    # Export links only for those who may export.
    can_export = role != Role.MEDIA_BUYER
    assert ("Export these entries as CSV" in response.content.decode()) is can_export


def test_outsider_and_foreign_ops_lead_get_404(outsider_client, brand, foreign_brand):
    foreign_lead = client_with_role(foreign_brand, Role.OPS_LEAD)

    for client in (outsider_client, foreign_lead):
        assert client.get(list_url(brand)).status_code == 404
        assert client.get(export_url(brand)).status_code == 404


def test_anonymous_is_sent_to_login(client, brand):
    for url in (list_url(brand), export_url(brand)):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(LOGIN_URL)


def test_wrong_method_is_405(admin_client, brand):
    assert admin_client.post(list_url(brand)).status_code == 405
    assert admin_client.post(export_url(brand)).status_code == 405
