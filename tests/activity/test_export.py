"""Activity exports: CSV (formula cells neutralised) and JSON (with the hash chain), streamed,
filtered like the page, for the roles that may export."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest
from django.http import StreamingHttpResponse
from django.utils import timezone

from koastops.accounts.models import Role
from koastops.activity.export import CSV_COLUMNS
from koastops.activity.models import ActivityEntry
from koastops.core.csvexport import neutralise_cell
from tests.activity.test_views import add_entry, client_with_role, export_url

pytestmark = pytest.mark.django_db


def body(response) -> str:
    assert isinstance(response, StreamingHttpResponse)
    return b"".join(response.streaming_content).decode()


def csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body(response))))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=cmd()", "'=cmd()"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@x", "'@x"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("plain", "plain"),
        ("a=b", "a=b"),
        ("", ""),
    ],
)
def test_neutralise_cell(value, expected):
    assert neutralise_cell(value) == expected


def test_csv_export_neutralises_formula_cells(admin_client, brand):
    labels = ["=cmd()", "+1", "-1", "@x", "\tx", "\rx"]
    for label in labels:
        add_entry(brand, target_label=label, actor_label=label)

    response = admin_client.get(export_url(brand), {"format": "csv"})

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = csv_rows(response)
    assert rows[0] == CSV_COLUMNS
    target = CSV_COLUMNS.index("target")
    actor = CSV_COLUMNS.index("actor")
    # Newest first, so the labels come back in reverse order.
    expected = ["'" + label for label in reversed(labels)]
    assert [row[target] for row in rows[1:]] == expected
    assert [row[actor] for row in rows[1:]] == expected


def test_csv_export_has_a_dated_attachment_name(admin_client, brand):
    add_entry(brand)

    response = admin_client.get(export_url(brand), {"format": "csv"})

    today = timezone.now().astimezone(dt.UTC).date().isoformat()
    assert response["Content-Disposition"] == (
        f'attachment; filename="own-brand-activity-{today}.csv"'
    )


def test_json_export_has_every_entry_with_its_hashes(admin_client, brand):
    first = add_entry(brand, before={"name": "a"}, after={"name": "b"})
    second = add_entry(brand, verb="brand.archived")

    response = admin_client.get(export_url(brand), {"format": "json"})

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"].endswith('.json"')
    data = json.loads(body(response))
    assert [item["id"] for item in data] == [second.pk, first.pk]
    assert data[0]["hash"] == second.hash
    assert data[0]["prev_hash"] == first.hash
    assert data[0]["key_id"] == second.key_id == "test1"  # which key's HMAC to check it with
    assert data[1]["before"] == {"name": "a"}
    assert data[1]["after"] == {"name": "b"}
    assert data[0]["description"] == "archived the brand"


def test_export_applies_the_page_filters(admin_client, brand, foreign_brand):
    wanted = add_entry(
        brand, verb="pixel.created", created_at=dt.datetime(2026, 2, 1, tzinfo=dt.UTC)
    )
    add_entry(brand, verb="pixel.created", created_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    add_entry(brand, verb="brand.updated", created_at=dt.datetime(2026, 2, 1, tzinfo=dt.UTC))
    add_entry(foreign_brand, verb="pixel.created")

    response = admin_client.get(
        export_url(brand), {"format": "json", "verb": "pixel.created", "date_from": "2026-01-15"}
    )

    assert [item["id"] for item in json.loads(body(response))] == [wanted.pk]


def test_empty_export_still_has_the_header_row(admin_client, brand):
    assert csv_rows(admin_client.get(export_url(brand), {"format": "csv"})) == [CSV_COLUMNS]
    assert json.loads(body(admin_client.get(export_url(brand), {"format": "json"}))) == []


@pytest.mark.parametrize(
    "params",
    [
        {"format": "xlsx"},
        {"format": "csv", "date_from": "soon"},
        {"format": "csv", "from": "soon"},  # the old name, still read
        {"format": "csv", "date_from": "2026-02-02", "date_to": "2026-02-01"},
    ],
)
def test_bad_format_or_filters_are_422(admin_client, brand, params):
    response = admin_client.get(export_url(brand), params)

    assert response.status_code == 422
    assert not response.streaming


@pytest.mark.parametrize("role", [Role.OPS_LEAD, Role.ANALYST, Role.LEGAL_REVIEWER])
def test_roles_that_may_export(brand, role):
    add_entry(brand)
    client = client_with_role(brand, role)

    assert client.get(export_url(brand), {"format": "csv"}).status_code == 200


def test_media_buyer_may_view_but_not_export(brand):
    add_entry(brand)
    client = client_with_role(brand, Role.MEDIA_BUYER)

    assert client.get(export_url(brand), {"format": "csv"}).status_code == 403
    assert client.get(export_url(brand), {"format": "json"}).status_code == 403


def test_export_writes_nothing_to_the_log(admin_client, brand):
    add_entry(brand)
    before = ActivityEntry.objects.count()

    body(admin_client.get(export_url(brand), {"format": "csv"}))

    assert ActivityEntry.objects.count() == before
