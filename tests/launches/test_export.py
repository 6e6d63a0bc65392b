"""Launch exports: the Ads Manager sheet (headers exactly, one row per ad, formula cells
neutralised, UTM parameters encoded, times in the account's zone, budget by its type) and
the JSON document; refused (409) before approval, 404 for a narrowed media buyer and
another brand, 403 for roles without launch.export; constant queries."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from koastops.accounts import policies
from koastops.accounts.models import Role
from koastops.launches import export, selectors
from koastops.launches.models import Ad, AdSet, Launch
from tests.factories import (
    AdAccountFactory,
    BrandFactory,
    LaunchFactory,
    UserFactory,
    market,
)

pytestmark = pytest.mark.django_db

# Copied from shared/platform-apis.md §6, not from the module under test.
HEADERS = [
    "Campaign ID",
    "Campaign Name",
    "Campaign Status",
    "Campaign Objective",
    "Buying Type",
    "Special Ad Categories",
    "Campaign Daily Budget",
    "Campaign Lifetime Budget",
    "Campaign Bid Strategy",
    "Campaign Start Time",
    "Campaign Stop Time",
    "New Objective",
    "Ad Set ID",
    "Ad Set Run Status",
    "Ad Set Name",
    "Ad Set Time Start",
    "Ad Set Time Stop",
    "Ad Set Daily Budget",
    "Ad Set Lifetime Budget",
    "Optimized Conversion Tracking Pixels",
    "Optimized Event",
    "Optimization Goal",
    "Billing Event",
    "Attribution Spec",
    "Ad ID",
    "Ad Status",
    "Ad Name",
    "Title",
    "Body",
    "Link",
    "URL Tags",
    "Conversion Tracking Pixels",
    "Creative Type",
    "Call to Action",
    "Ad Start Time",
    "Ad Stop Time",
]


def _approved(**kwargs) -> Launch:
    launch = LaunchFactory(state="approved", **kwargs)
    Launch.objects.filter(pk=launch.pk).update(
        approved_hash=launch.content_hash, approved_at=timezone.now()
    )
    launch.refresh_from_db()
    return launch


def _add_sets(launch: Launch, sets: int, ads_per_set: int) -> None:
    """Ad sets 1..sets (position 0 is the factory's) with ``ads_per_set`` ads each."""
    de = market("DE")
    for i in range(1, sets + 1):
        ad_set = AdSet.objects.create(launch=launch, position=i, name=f"Set {i}", market=de)
        Ad.objects.bulk_create(
            Ad(
                ad_set=ad_set,
                launch=launch,
                position=j,
                name=f"Ad {i}.{j}",
                landing_url=f"https://shop.example.com/{i}/{j}",
            )
            for j in range(ads_per_set)
        )


def _client(launch: Launch, role: Role = Role.MEDIA_BUYER, user=None) -> Client:
    user = user or launch.created_by
    policies.grant_role(user, launch.brand, role)
    client = Client()
    client.force_login(user)
    return client


def _csv_url(launch: Launch) -> str:
    return reverse("launches:export_csv", kwargs={"slug": launch.brand.slug, "pk": launch.pk})


def _json_url(launch: Launch) -> str:
    return reverse("launches:export_json", kwargs={"slug": launch.brand.slug, "pk": launch.pk})


def _rows(response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.content
    text = b"".join(response.streaming_content).decode()
    reader = csv.reader(io.StringIO(text))
    header = next(reader)
    assert header == HEADERS
    return [dict(zip(header, row, strict=True)) for row in reader]


def test_sheet_has_the_exact_headers_and_one_row_per_ad_of_three_ad_sets():
    launch = _approved()
    _add_sets(launch, 2, 3)  # with the factory's set: 3 ad sets, 1 + 3 + 3 ads
    response = _client(launch).get(_csv_url(launch))
    assert response["Content-Type"].startswith("text/csv")
    rows = _rows(response)
    assert [row["Ad Name"] for row in rows] == [
        "Ad 1",
        "Ad 1.0",
        "Ad 1.1",
        "Ad 1.2",
        "Ad 2.0",
        "Ad 2.1",
        "Ad 2.2",
    ]
    assert [row["Ad Set Name"] for row in rows] == ["Ad set DE"] + ["Set 1"] * 3 + ["Set 2"] * 3
    assert {row["Campaign Name"] for row in rows} == {launch.campaign_name}
    first = rows[0]
    assert first["Campaign Status"] == first["Ad Set Run Status"] == first["Ad Status"] == "PAUSED"
    assert first["Campaign Objective"] == "OUTCOME_SALES"
    assert first["Buying Type"] == "AUCTION"
    assert first["Campaign Daily Budget"] == "250.00" and first["Campaign Lifetime Budget"] == ""
    pixel = f"tp:{launch.pixel.external_id}"
    assert first["Optimized Conversion Tracking Pixels"] == first["Conversion Tracking Pixels"]
    assert first["Conversion Tracking Pixels"] == pixel
    assert first["Optimized Event"] == "Purchase"
    assert first["Link"] == "https://shop.example/landing"
    assert first["Campaign ID"] == first["Ad Set ID"] == first["Ad ID"] == ""
    assert rows[1]["URL Tags"] == ""  # no UTM parameters: no tags
    slug = launch.campaign_name.lower().replace(" ", "-")
    assert response["Content-Disposition"] == f'attachment; filename="{slug}-ads-manager.csv"'


def test_formula_looking_cells_are_neutralised():
    launch = _approved(campaign_name='=HYPERLINK("https://evil.example","x")')
    Ad.objects.filter(launch=launch).update(name="+cmd|' /C calc'!A0", utm_content="-1")
    rows = _rows(_client(launch).get(_csv_url(launch)))
    assert rows[0]["Campaign Name"] == '\'=HYPERLINK("https://evil.example","x")'
    assert rows[0]["Ad Name"] == "'+cmd|' /C calc'!A0"
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row.values())


def test_utm_parameters_are_an_encoded_query_string():
    launch = _approved()
    Ad.objects.filter(launch=launch).update(
        utm_source="facebook",
        utm_medium="paid social",
        utm_campaign="spring & more/ü",
        utm_content="",
        utm_term="a=b",
    )
    rows = _rows(_client(launch).get(_csv_url(launch)))
    assert rows[0]["URL Tags"] == (
        "utm_source=facebook&utm_medium=paid+social&utm_campaign=spring+%26+more%2F%C3%BC"
        "&utm_term=a%3Db"
    )


def test_times_are_in_the_ad_accounts_time_zone_and_lifetime_budget_has_its_column():
    brand = BrandFactory()
    brand.markets.add(market("DE"))
    account = AdAccountFactory(brand=brand, time_zone="America/New_York")
    launch = _approved(
        brand=brand,
        ad_account=account,
        budget_type="lifetime",
        budget_amount=Decimal("12000.50"),
        start_at=dt.datetime(2027, 3, 1, 14, 0, tzinfo=dt.UTC),
        end_at=dt.datetime(2027, 7, 1, 3, 30, tzinfo=dt.UTC),
    )
    row = _rows(_client(launch).get(_csv_url(launch)))[0]
    assert row["Campaign Start Time"] == row["Ad Set Time Start"] == "2027-03-01 09:00:00"  # EST
    assert row["Campaign Stop Time"] == row["Ad Set Time Stop"] == "2027-06-30 23:30:00"  # EDT
    assert row["Campaign Lifetime Budget"] == "12000.50" and row["Campaign Daily Budget"] == ""


def test_no_end_leaves_the_stop_times_empty():
    launch = _approved(end_at=None)
    row = _rows(_client(launch).get(_csv_url(launch)))[0]
    assert row["Campaign Stop Time"] == row["Ad Set Time Stop"] == ""


@pytest.mark.parametrize("state", ["draft", "ready", "in_review", "rejected", "cancelled"])
def test_refused_before_approval_with_a_clear_409(state):
    launch = LaunchFactory(state=state)
    client = _client(launch)
    page = client.get(_csv_url(launch))
    assert page.status_code == 409
    assert "Only an approved or launched launch can be exported" in page.content.decode()
    assert "<h1>Export not available</h1>" in page.content.decode()
    document = client.get(_json_url(launch))
    assert document.status_code == 409
    assert document.json()["field"] == "state" and document.json()["state"] == state


def test_launched_launch_exports_and_json_has_ids_state_approval_and_campaign_id():
    launch = _approved()
    lead = UserFactory(email="lead@example.com")
    Launch.objects.filter(pk=launch.pk).update(
        state="launched", platform_campaign_id="120210000000000001", approved_by=lead
    )
    client = _client(launch)
    assert client.get(_csv_url(launch)).status_code == 200
    response = client.get(_json_url(launch))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment; filename=")
    body = response.json()
    fresh = selectors.with_structure(Launch.objects.filter(pk=launch.pk)).get()
    assert body["id"] == launch.pk and body["state"] == "launched"
    assert body["ids"] == {
        "ad_account": launch.ad_account_id,
        "pixel": launch.pixel_id,
        "optimization_event": launch.optimization_event_id,
    }
    assert body["approval"]["approved_by"] == {"id": lead.pk, "email": "lead@example.com"}
    assert body["approval"]["content_hash"] == launch.content_hash
    assert body["approval"]["current"] is True
    assert body["platform_campaign_id"] == "120210000000000001"
    from koastops.launches import content

    assert body["content"] == content.snapshot(fresh)
    assert content.content_hash(body["content"]) == body["content_hash"]


def test_narrowed_media_buyer_and_other_brands_get_404():
    launch = _approved()
    buyer = UserFactory()
    policies.grant_role(buyer, launch.brand, Role.MEDIA_BUYER)
    other_account = AdAccountFactory(brand=launch.brand)
    policies.set_ad_account_narrowing(buyer, launch.brand, [other_account])
    client = Client()
    client.force_login(buyer)
    assert client.get(_csv_url(launch)).status_code == 404
    assert client.get(_json_url(launch)).status_code == 404
    stranger = UserFactory()
    policies.grant_role(stranger, BrandFactory(), Role.OPS_LEAD)
    client.force_login(stranger)
    assert client.get(_csv_url(launch)).status_code == 404


@pytest.mark.parametrize("role", [Role.ANALYST, Role.LEGAL_REVIEWER])
def test_roles_without_export_are_refused(role):
    launch = _approved()
    client = _client(launch, role, user=UserFactory())
    assert client.get(_csv_url(launch)).status_code == 403
    assert client.get(_json_url(launch)).status_code == 403


def test_an_ops_lead_exports_a_launch_someone_else_drafted():
    launch = _approved()
    client = _client(launch, Role.OPS_LEAD, user=UserFactory())
    assert len(_rows(client.get(_csv_url(launch)))) == 1


def test_wrong_method_is_405():
    launch = _approved()
    assert _client(launch).post(_csv_url(launch)).status_code == 405


def test_query_count_is_constant_however_many_ads(django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    small, large = _approved(), _approved()
    _add_sets(large, 10, 10)
    counts = []
    clients = {launch.pk: _client(launch) for launch in (small, large)}
    for launch in (small, large):
        with CaptureQueriesContext(connection) as queries:
            rows = _rows(clients[launch.pk].get(_csv_url(launch)))
        counts.append(len(queries))
        assert len(rows) == (1 if launch is small else 101)
    assert counts[0] == counts[1]
    with django_assert_max_num_queries(counts[0]):
        assert clients[large.pk].get(_json_url(large)).status_code == 200


def test_builders_are_pure_over_a_prefetched_launch(django_assert_num_queries):
    launch = _approved()
    _add_sets(launch, 2, 2)
    loaded = (
        selectors.with_structure(Launch.objects.filter(pk=launch.pk))
        .select_related("approved_by")
        .prefetch_related(*export.EXPORT_PREFETCH)
        .get()
    )
    with django_assert_num_queries(0):
        lines = list(export.sheet_lines(loaded))
        export.document(loaded)
    assert len(lines) == 1 + 5
