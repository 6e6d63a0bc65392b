"""The events API: reads for every role (filters, pagination, ETag, constant queries),
writes for ops leads through the same services as the pages (If-Match: 428 without, 409
stale), 422 naming the content path, and refused writes changing nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest

from koastops.activity.models import ActivityEntry
from koastops.taxonomy import selectors, services
from koastops.taxonomy.models import EventDefinition, EventRevision
from tests.api.conftest import API, ApiClient, token_for
from tests.factories import EventDefinitionFactory

pytestmark = pytest.mark.django_db

PURCHASE: dict[str, Any] = {
    "name": "Purchase",
    "display_name": "Purchase",
    "description": "An order paid in full.",
    "trigger": "Order confirmation page loads.",
    "owner": "Web team",
    "status": "active",
    "sources": "both",
    "event_id_required": True,
    "parameters": [
        {"name": "value", "type": "number", "required": True},
        {"name": "currency", "type": "currency", "required": True},
    ],
    "mappings": [{"platform": "meta", "target": "Purchase", "parameters": ["value", "currency"]}],
}


class Client_(ApiClient):
    def send(self, method: str, path: str, body: Any = None, *, if_match: Any = None) -> Any:
        headers = self._headers()
        if if_match is not None:
            headers["HTTP_IF_MATCH"] = str(if_match)
        return self.client.generic(
            method,
            API + path,
            json.dumps(body) if body is not None else "",
            content_type="application/json",
            **headers,
        )


def client_for(user, activity=None) -> Client_:
    client = Client_(token_for(user))
    if activity is not None:
        activity.mark()
    return client


def locs(response) -> list[list[Any]]:
    return [error["loc"] for error in response.json()["detail"]]


def _state(brand) -> tuple:
    return (
        sorted(EventDefinition.objects.filter(brand=brand).values_list("name", "version", "owner")),
        EventRevision.objects.filter(event__brand=brand).count(),
        selectors.plan_version(brand),
        ActivityEntry.objects.filter(brand=brand).count(),  # (tokens are logged brand-less)
    )


# --- reads -------------------------------------------------------------------------------------


def test_every_role_lists_the_plan_with_content_version_and_updated_at(
    analyst, legal_reviewer, brand, foreign_brand
):
    EventDefinitionFactory(brand=brand, name="Purchase", content=PURCHASE)
    EventDefinitionFactory(brand=foreign_brand, name="ForeignSecret")
    for user in (analyst, legal_reviewer):
        response = client_for(user).get("/brands/own-brand/events")
        assert response.status_code == 200, response.content
        body = response.json()
        assert (body["count"], body["page"]) == (1, 1)
        [item] = body["items"]
        event = EventDefinition.objects.get(name="Purchase")
        assert {k: v for k, v in item.items() if k not in ("version", "updated_at")} == (
            event.content
        )
        assert item["version"] == 1 and item["updated_at"].startswith(str(event.updated_at.year))
        assert "ForeignSecret" not in response.content.decode()
    assert client_for(analyst).get("/brands/foreign-brand/events").status_code == 404


def test_filters_narrow_the_list(analyst, brand):
    EventDefinitionFactory(brand=brand, name="Purchase", content=PURCHASE)
    EventDefinitionFactory(
        brand=brand,
        name="Lead",
        content={"status": "draft", "mappings": [{"platform": "google", "target": "Lead form"}]},
    )
    EventDefinitionFactory(brand=brand, name="PageView", content={"display_name": "Seite"})
    client = client_for(analyst)

    def names(**params) -> list[str]:
        response = client.get("/brands/own-brand/events", params)
        assert response.status_code == 200, response.content
        return [item["name"] for item in response.json()["items"]]

    assert names() == ["Lead", "PageView", "Purchase"]
    assert names(status="draft") == ["Lead"]
    assert names(status="active") == ["PageView", "Purchase"]
    assert names(source="both") == ["Purchase"]
    # As on the page: a side lists the events it sends, those sent from both included.
    assert names(source="server") == ["Purchase"]
    assert names(source="browser") == ["Lead", "PageView", "Purchase"]
    assert names(platform="none") == ["PageView"]
    assert names(platform="google") == ["Lead"]
    assert names(platform="meta") == ["Purchase"]
    assert names(q="seit") == ["PageView"]
    assert names(q="LEA") == ["Lead"]
    assert names(status="", source="", platform="", q="") == ["Lead", "PageView", "Purchase"]
    assert names(page_size=2, page=2) == ["Purchase"]
    assert names(page=9) == []


@pytest.mark.parametrize(
    "params",
    [
        {"status": "archived"},
        {"source": "fax"},
        {"platform": "tiktok"},
        {"q": "a\x00b"},
        {"q": "x" * 101},
        {"page": 0},
        {"page_size": 1000},
    ],
)
def test_junk_filters_are_422_naming_the_parameter(analyst, brand, params):
    response = client_for(analyst).get("/brands/own-brand/events", params)
    assert response.status_code == 422
    assert locs(response)[0][:2] == ["query", next(iter(params))]


def test_list_query_count_is_constant(analyst, brand):
    client = client_for(analyst)
    EventDefinitionFactory(brand=brand, content=PURCHASE | {"name": "E000"})
    client.count_queries("/brands/own-brand/events")  # the token's first use is recorded
    one = client.count_queries("/brands/own-brand/events")
    for n in range(1, 50):
        EventDefinitionFactory(brand=brand, content=PURCHASE | {"name": f"E{n:03d}"})
    assert client.count_queries("/brands/own-brand/events", {"page_size": 100}) == one
    assert client.count_queries("/brands/own-brand/events", {"platform": "meta"}) == one


def test_one_event_with_etag_by_name_in_any_case(analyst, brand, foreign_brand):
    event = EventDefinitionFactory(brand=brand, name="Purchase", content=PURCHASE)
    EventDefinition.objects.filter(pk=event.pk).update(version=4)
    EventDefinitionFactory(brand=foreign_brand, name="ForeignOnly")
    client = client_for(analyst)
    response = client.get("/brands/own-brand/events/purchase")
    assert response.status_code == 200
    assert (response["ETag"], response.json()["version"], response.json()["name"]) == (
        '"4"',
        4,
        "Purchase",
    )
    for name in ("Nope", "ForeignOnly", "a%00b", "x" * 60, "1abc"):
        assert client.get(f"/brands/own-brand/events/{name}").status_code == 404
    assert client.get("/brands/foreign-brand/events/ForeignOnly").status_code == 404


def test_plan_export_over_the_api_is_the_page_download(analyst, brand):
    EventDefinitionFactory(brand=brand, name="Purchase", content=PURCHASE)
    response = client_for(analyst).get("/brands/own-brand/plan/export")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert response.content == selectors.plan_document(brand)
    assert response.json()["events"][0]["json_schema"]["required"] == ["value", "currency"]


# --- create ------------------------------------------------------------------------------------


def test_ops_lead_creates_an_event(ops_lead, brand, activity):
    client = client_for(ops_lead, activity)
    response = client.send("POST", "/brands/own-brand/events", PURCHASE)
    assert response.status_code == 201, response.content
    assert response["ETag"] == '"1"'
    body = response.json()
    assert body["name"] == "Purchase" and body["version"] == 1
    assert body["parameters"][0] == {
        "name": "value",
        "type": "number",
        "required": True,
        "allowed_values": [],
        "pattern": "",
        "description": "",
    }
    entry = activity.one("event.created", actor=ops_lead, brand=brand)
    assert entry.target_label == "Purchase"
    # The same name in another case is taken.
    response = client.send("POST", "/brands/own-brand/events", PURCHASE | {"name": "PURCHASE"})
    assert response.status_code == 422 and locs(response) == [["body", "name"]]
    activity.none()


def test_other_roles_and_outsiders_cannot_write(
    media_buyer, analyst, plain_user, brand, foreign_brand
):
    event = EventDefinitionFactory(brand=brand, name="Purchase", content=PURCHASE)
    before = _state(brand)
    for user in (media_buyer, analyst):
        client = client_for(user)
        assert client.send("POST", "/brands/own-brand/events", PURCHASE).status_code == 403
        response = client.send(
            "PUT", "/brands/own-brand/events/Purchase", PURCHASE, if_match=event.version
        )
        assert response.status_code == 403
        response = client.send(
            "POST",
            "/brands/own-brand/events/Purchase/status",
            {"status": "deprecated"},
            if_match=event.version,
        )
        assert response.status_code == 403
    outsider = client_for(plain_user)
    assert outsider.send("POST", "/brands/own-brand/events", PURCHASE).status_code == 404
    assert (
        client_for(media_buyer).send("POST", "/brands/foreign-brand/events", PURCHASE).status_code
        == 404
    )
    assert _state(brand) == before


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        (
            PURCHASE | {"parameters": [{"name": "value", "type": "money"}]},
            ["body", "parameters", 0, "type"],
        ),
        (PURCHASE | {"name": "9lives"}, ["body", "name"]),
        (PURCHASE | {"colour": "red"}, ["body", "colour"]),
        (PURCHASE | {"event_id_required": "true"}, ["body", "event_id_required"]),
        (PURCHASE | {"owner": "a\x00b"}, ["body", "owner"]),
        (PURCHASE | {"owner": "x" * 200}, ["body", "owner"]),
        (
            PURCHASE | {"parameters": [{"name": "Bad Name"}], "mappings": []},
            ["body", "parameters", 0, "name"],
        ),
        (
            PURCHASE | {"mappings": [{"platform": "meta", "target": "Buy", "parameters": []}]},
            ["body", "mappings", 0, "target"],
        ),
        (
            PURCHASE
            | {"mappings": [{"platform": "meta", "target": "Purchase", "parameters": ["nope"]}]},
            ["body", "mappings", 0, "parameters", 0],
        ),
        (PURCHASE | {"sources": "browser"}, ["body", "event_id_required"]),
        ({"display_name": "no name"}, ["body", "name"]),
    ],
)
def test_bad_content_is_422_naming_the_path_and_writes_nothing(ops_lead, brand, body, loc):
    client = client_for(ops_lead)
    before = _state(brand)
    response = client.send("POST", "/brands/own-brand/events", body)
    assert response.status_code == 422, response.content
    assert loc in locs(response), response.json()
    assert _state(brand) == before


def test_bodies_that_are_not_objects_never_500(ops_lead, brand):
    client = client_for(ops_lead)
    for body in ([], "x", 3, None, {"parameters": {"a": 1}}, {"name": ["x"]}):
        response = client.send("POST", "/brands/own-brand/events", body)
        assert response.status_code in (400, 422), (body, response.status_code)
    response = client.client.post(
        API + "/brands/own-brand/events",
        b"{not json",
        content_type="application/json",
        **client._headers(),
    )
    assert response.status_code == 400


# --- replace and status -----------------------------------------------------------------------


def test_put_replaces_the_content_with_if_match(ops_lead, brand, activity):
    client = client_for(ops_lead)
    client.send("POST", "/brands/own-brand/events", PURCHASE)
    activity.mark()
    path = "/brands/own-brand/events/purchase"
    changed = PURCHASE | {"owner": "Data team"}

    before = _state(brand)
    response = client.send("PUT", path, changed)
    assert response.status_code == 428
    assert response.json()["field"] == "If-Match" and response.json()["version"] is None
    response = client.send("PUT", path, changed, if_match="*")
    assert response.status_code == 422 and locs(response) == [["header", "If-Match"]]
    response = client.send("PUT", path, changed, if_match='"7"')
    assert response.status_code == 409
    assert response.json()["field"] == "If-Match" and response.json()["version"] == 1
    assert "ops-lead@example.com" in response.json()["detail"]
    response = client.send("PUT", path, changed | {"status": "retired"}, if_match='"1"')
    assert response.status_code == 422 and ["body", "status"] in locs(response)
    assert _state(brand) == before
    activity.none()

    response = client.send("PUT", path, changed, if_match='"1"')
    assert response.status_code == 200, response.content
    assert (response["ETag"], response.json()["owner"]) == ('"2"', "Data team")
    entry = activity.one("event.updated", actor=ops_lead, brand=brand)
    assert entry.after["Owner"] == "Data team"
    # The same content again: nothing to write, the version stays.
    response = client.send("PUT", path, changed, if_match='W/"2"')
    assert (response.status_code, response["ETag"]) == (200, '"2"')
    activity.none()
    # The body's name renames the event.
    response = client.send("PUT", path, changed | {"name": "Order"}, if_match="2")
    assert response.status_code == 200 and response.json()["name"] == "Order"
    assert client.get("/brands/own-brand/events/Order").status_code == 200


def test_status_changes_with_if_match(ops_lead, brand, activity):
    client = client_for(ops_lead)
    client.send("POST", "/brands/own-brand/events", PURCHASE)
    activity.mark()
    path = "/brands/own-brand/events/Purchase/status"
    assert client.send("POST", path, {"status": "deprecated"}).status_code == 428
    assert client.send("POST", path, {"status": "deprecated"}, if_match=5).status_code == 409
    response = client.send("POST", path, {"status": "gone"}, if_match=1)
    assert response.status_code == 422 and locs(response) == [["body", "status"]]
    activity.none()
    response = client.send("POST", path, {"status": "deprecated"}, if_match=1)
    assert response.status_code == 200, response.content
    assert (response.json()["status"], response["ETag"]) == ("deprecated", '"2"')
    activity.one("event.deprecated", actor=ops_lead, brand=brand)
    response = client.send("POST", path, {"status": "deprecated"}, if_match=2)
    assert response.status_code == 409
    assert response.json()["field"] == "status" and response.json()["version"] == 2
    activity.none()


def test_writes_to_events_that_do_not_exist_are_404(ops_lead, brand):
    client = client_for(ops_lead)
    assert (
        client.send("PUT", "/brands/own-brand/events/Nope", PURCHASE, if_match=1).status_code == 404
    )
    response = client.send(
        "POST", "/brands/own-brand/events/Nope/status", {"status": "active"}, if_match=1
    )
    assert response.status_code == 404


def test_api_writes_land_in_the_plan_version(ops_lead, brand):
    version = selectors.plan_version(brand)
    client_for(ops_lead).send("POST", "/brands/own-brand/events", PURCHASE)
    assert selectors.plan_version(brand) == version + 1
    assert services.starter_events()  # the import path shares these services
