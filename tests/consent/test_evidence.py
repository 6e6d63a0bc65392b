"""The evidence export: every sign-off of the brand, newest first, with the exact signed
content (CSV and JSON), spreadsheet formulas neutralised, only the brand's own rows, and
any format but ``json`` falling back to CSV."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from koastops.accounts import policies
from koastops.accounts.models import Role
from koastops.activity.models import ActivityEntry
from koastops.catalog.models import Market
from koastops.consent import content as consent_content
from tests.factories import ConsentConfigFactory, ConsentSignOffFactory, UserFactory

pytestmark = pytest.mark.django_db


def member(brand, role: Role):
    user = UserFactory(email=f"{role.value}-{brand.slug}@example.com")
    policies.grant_role(user, brand, role)
    return user


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def evidence_url(brand, **query: str) -> str:
    url = reverse("consent:evidence", args=[brand.slug])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def body(response) -> str:
    assert response.streaming
    return b"".join(response.streaming_content).decode()


@pytest.fixture
def lead_client(brand) -> Client:
    return client_for(member(brand, Role.OPS_LEAD))


@pytest.fixture
def history(brand, foreign_brand):
    """DE: rejected (old), then approved (current, valid). AT: approved, then changed.
    A foreign brand's sign-off that must never appear."""
    now = timezone.now()
    de = ConsentConfigFactory(brand=brand, market=Market.objects.get(code="DE"))
    reviewer = UserFactory(email="=cmd|' /C calc'!A0@example.com")
    rejected = ConsentSignOffFactory(
        config=de,
        decision="rejected",
        reasons=["gating", "other"],
        comment='=HYPERLINK("http://evil")\nsecond line',
        expires_at=None,
        decided_at=now - timedelta(days=3),
    )
    approved = ConsentSignOffFactory(
        config=de,
        reviewer=reviewer,
        decided_at=now - timedelta(days=1),
        expires_at=now + timedelta(days=300),
    )
    at = ConsentConfigFactory(brand=brand, market=Market.objects.get(code="AT"))
    void = ConsentSignOffFactory(
        config=at, decided_at=now - timedelta(days=2), expires_at=now + timedelta(days=300)
    )
    changed = {**at.content, "wait_for_update": 999}
    at.content = changed
    at.content_hash = consent_content.content_hash("AT", changed)
    at.save()
    foreign_brand.markets.set([Market.objects.get(code="JP")])
    foreign = ConsentConfigFactory(brand=foreign_brand, market=Market.objects.get(code="JP"))
    ConsentSignOffFactory(config=foreign, comment="ZqForeignEvidence")
    return {"rejected": rejected, "approved": approved, "void": void, "de": de}


def test_csv_has_every_signoff_newest_first(brand, lead_client, history):
    response = lead_client.get(evidence_url(brand, format="csv"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    today = timezone.now().date().isoformat()
    assert response["Content-Disposition"] == (
        f'attachment; filename="consent-evidence-{brand.slug}-{today}.csv"'
    )
    rows = list(csv.DictReader(io.StringIO(body(response))))
    assert [(row["market"], row["decision"]) for row in rows] == [
        ("DE", "approved"),
        ("AT", "approved"),
        ("DE", "rejected"),
    ]
    approved, void, rejected = rows
    assert approved["valid_now"] == "yes"
    assert void["valid_now"] == "no"  # the content changed since
    assert rejected["valid_now"] == "no"
    assert approved["content_hash"] == history["approved"].content_hash
    assert json.loads(approved["content"]) == history["approved"].content
    assert approved["decided_at"] == history["approved"].decided_at.isoformat()
    assert approved["decided_at"].endswith("+00:00")
    assert rejected["reasons"] == (
        "Pixels or events fire before consent; Other (explain in the comment)"
    )
    assert rejected["expires_at"] == ""
    assert approved["config_version"] == "1"


def test_csv_neutralises_formula_cells(brand, lead_client, history):
    rows = list(csv.DictReader(io.StringIO(body(lead_client.get(evidence_url(brand))))))
    approved, _, rejected = rows
    assert approved["reviewer"].startswith("'=cmd")
    assert rejected["comment"].startswith("'=HYPERLINK")
    assert "second line" in rejected["comment"]


def test_json_has_the_signed_content_as_an_object(brand, lead_client, history):
    response = lead_client.get(evidence_url(brand, format="json"))
    assert response["Content-Type"].startswith("application/json")
    assert response["Content-Disposition"].endswith('.json"')
    document = json.loads(body(response))
    assert document["brand"] == brand.slug
    signoffs = document["signoffs"]
    assert [s["market"] for s in signoffs] == ["DE", "AT", "DE"]
    assert signoffs[0]["content"] == history["approved"].content
    assert signoffs[0]["valid_now"] is True
    assert signoffs[1]["valid_now"] is False
    assert signoffs[0]["reviewer"] == "=cmd|' /C calc'!A0@example.com"  # JSON keeps it as is
    assert signoffs[2]["reasons"] == [
        "Pixels or events fire before consent",
        "Other (explain in the comment)",
    ]


def test_only_the_brands_signoffs(brand, lead_client, history):
    assert "ZqForeignEvidence" not in body(lead_client.get(evidence_url(brand)))
    assert "ZqForeignEvidence" not in body(lead_client.get(evidence_url(brand, format="json")))
    assert "JP" not in body(lead_client.get(evidence_url(brand, format="json")))


@pytest.mark.parametrize("value", ["", "xml", "CSV", "json%00", "a" * 300])
def test_other_formats_fall_back_to_csv(brand, lead_client, history, value):
    response = lead_client.get(evidence_url(brand, format=value))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert body(response).startswith("market,market_name,decision")


def test_no_signoffs_gives_the_header_only(brand, lead_client):
    text = body(lead_client.get(evidence_url(brand)))
    assert text.strip() == ",".join(
        [
            "market",
            "market_name",
            "decision",
            "reviewer",
            "decided_at",
            "expires_at",
            "config_version",
            "content_hash",
            "reasons",
            "comment",
            "valid_now",
            "content",
        ]
    )
    assert json.loads(body(lead_client.get(evidence_url(brand, format="json"))))["signoffs"] == []


def test_export_writes_no_activity(brand, lead_client, history):
    before = ActivityEntry.objects.count()
    body(lead_client.get(evidence_url(brand)))
    assert ActivityEntry.objects.count() == before


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        (Role.OPS_LEAD, True),
        (Role.LEGAL_REVIEWER, True),
        (Role.MEDIA_BUYER, False),
        (Role.ANALYST, False),
    ],
)
def test_who_may_export(brand, role, allowed, history):
    response = client_for(member(brand, role)).get(evidence_url(brand))
    assert response.status_code == (200 if allowed else 403)


def test_foreign_brand_is_404(foreign_brand, lead_client):
    assert lead_client.get(evidence_url(foreign_brand)).status_code == 404


def test_export_queries_do_not_grow(brand, lead_client, history, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        body(lead_client.get(evidence_url(brand)))
    for _ in range(10):
        ConsentSignOffFactory(config=history["de"], decision="rejected", expires_at=None)
    with django_assert_max_num_queries(len(few)):
        text = body(lead_client.get(evidence_url(brand)))
    assert text.count("\r\n") == 1 + 3 + 10
