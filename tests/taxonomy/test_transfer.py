"""The plan document (export, JSON Schema, import parsing and diff) and ``plan_import``:
export → import → export is byte-identical; every hostile document is refused with
located errors; an import applies all or nothing, once per previewed plan version."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from koastops.accounts import policies
from koastops.accounts.models import Role
from koastops.activity.models import ActivityEntry
from koastops.core.exceptions import StaleVersion
from koastops.taxonomy import selectors, services, transfer
from koastops.taxonomy.content import parse_event
from koastops.taxonomy.models import EventDefinition, EventMapping, EventRevision, TrackingPlan
from tests.factories import BrandFactory, EventDefinitionFactory, UserFactory

# Every field set, unicode and HTML in the text.
CUSTOM = {
    "name": "NewsletterSignup",
    "display_name": "Newsletter-Anmeldung <script>alert(1)</script> ✉️",
    "description": "Zählt, wenn jemand den Newsletter bestätigt — „double opt-in“ 日本語.",
    "trigger": 'Fires on <b>confirm</b> & "thanks" page',
    "owner": "Équipe CRM",
    "status": "active",
    "sources": "both",
    "event_id_required": True,
    "parameters": [
        {
            "name": "list_id",
            "type": "string",
            "required": True,
            "allowed_values": ["weekly", "monthly"],
            "pattern": "",
            "description": "Which list",
        },
        {
            "name": "source_code",
            "type": "string",
            "required": False,
            "allowed_values": [],
            "pattern": "^[a-z]{2}-[0-9]+$",
            "description": "",
        },
        {"name": "value", "type": "number", "required": False, "allowed_values": ["0", "1.5"]},
        {"name": "seats", "type": "integer", "required": False, "allowed_values": ["1", "2"]},
        {"name": "currency", "type": "currency", "required": True},
        {"name": "opted_in", "type": "boolean", "required": True},
        {"name": "confirmed_at", "type": "timestamp"},
        {"name": "topics", "type": "list", "allowed_values": ["news", "deals"], "pattern": ""},
        {"name": "codes", "type": "list", "pattern": "^[A-Z]+$"},
    ],
    "mappings": [
        {"platform": "linkedin", "target": "Signup rule", "parameters": ["value"]},
        {
            "platform": "meta",
            "target": "NewsletterSignup",
            "custom": True,
            "parameters": ["value", "currency"],
        },
        {"platform": "google", "target": "Newsletter — signup", "parameters": []},
    ],
}


def _document(*events: dict) -> str:
    return json.dumps({"format": transfer.FORMAT, "events": list(events)})


def _errors(raw: bytes | str) -> list[tuple[str, str]]:
    with pytest.raises(transfer.DocumentError) as caught:
        transfer.read_document(raw)
    return caught.value.errors


def _paths(raw: bytes | str) -> set[str]:
    return {path for path, _ in _errors(raw)}


# --- JSON Schema -----------------------------------------------------------------------------


def test_json_schema_maps_every_parameter_type():
    schema = transfer.event_json_schema(parse_event(CUSTOM).to_dict())
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert (schema["title"], schema["type"], schema["additionalProperties"]) == (
        "NewsletterSignup",
        "object",
        True,
    )
    assert schema["description"].startswith("Zählt")
    assert schema["required"] == ["list_id", "currency", "opted_in"]
    assert schema["properties"] == {
        "list_id": {"type": "string", "enum": ["weekly", "monthly"], "description": "Which list"},
        "source_code": {"type": "string", "pattern": "^[a-z]{2}-[0-9]+$"},
        "value": {"type": "number", "enum": [0, 1.5]},
        "seats": {"type": "integer", "enum": [1, 2]},
        "currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
        "opted_in": {"type": "boolean"},
        "confirmed_at": {"type": "string", "format": "date-time"},
        "topics": {"type": "array", "items": {"enum": ["news", "deals"]}},
        "codes": {"type": "array", "items": {"type": "string", "pattern": "^[A-Z]+$"}},
    }


def test_json_schema_of_an_event_without_parameters_and_odd_numeric_values():
    empty = transfer.event_json_schema(parse_event({"name": "PageView"}).to_dict())
    assert empty == {
        "$schema": transfer.JSON_SCHEMA_DIALECT,
        "title": "PageView",
        "type": "object",
        "properties": {},
        "required": [],
        "additionalProperties": True,
    }
    odd = parse_event(
        {
            "name": "Odd",
            "parameters": [
                {"name": "n", "type": "integer", "allowed_values": ["1.5", "x", "3", "1e999"]},
                {"name": "m", "type": "number", "allowed_values": ["x", "true"]},
                {"name": "c", "type": "currency", "allowed_values": ["EUR", "USD"]},
            ],
        }
    ).to_dict()
    properties = transfer.event_json_schema(odd)["properties"]
    # Values that are no number of the type cannot be met: left out of the enum.
    assert properties["n"] == {"type": "integer", "enum": [3]}
    assert properties["m"] == {"type": "number"}
    assert properties["c"] == {"type": "string", "pattern": "^[A-Z]{3}$", "enum": ["EUR", "USD"]}


def test_export_document_is_sorted_by_name_and_holds_no_volatile_data():
    contents = [parse_event({"name": name}) for name in ("beta", "Alpha", "gamma")]
    document = transfer.export_document(contents)
    assert list(document) == ["format", "events"]
    assert [event["name"] for event in document["events"]] == ["Alpha", "beta", "gamma"]
    assert list(document["events"][0]) == [*parse_event({"name": "x"}).to_dict(), "json_schema"]
    raw = transfer.dump_document(document)
    assert raw.endswith(b"}\n") and b'\n  "events": [\n' in raw
    for word in (b"version", b"updated_at", b"created_at", b'"id"', b"brand"):
        assert word not in raw


# --- round trip --------------------------------------------------------------------------------


@pytest.fixture
def lead(brand):
    user = UserFactory(email="lead@example.com")
    policies.grant_role(user, brand, Role.OPS_LEAD)
    return user


@pytest.mark.django_db
def test_export_import_export_is_byte_identical(brand, lead):
    services.plan_apply_template(user=lead, brand=brand)
    services.event_create(user=lead, brand=brand, content=CUSTOM)
    first = selectors.plan_document(brand)
    assert b"Newsletter-Anmeldung <script>" in first  # raw text, no escaping in JSON
    assert "日本語".encode() in first

    # Into an empty brand: everything created; its export is the same bytes.
    other = BrandFactory(slug="other-brand")
    policies.grant_role(lead, other, Role.OPS_LEAD)
    contents = transfer.read_document(first)
    outcome = services.plan_import(
        user=lead, brand=other, contents=contents, expected_plan_version=1
    )
    assert len(outcome.created) == len(contents) == len(services.starter_events()) + 1
    assert selectors.plan_document(other) == first

    # Into the same brand: nothing changes, nothing is written.
    marker = ActivityEntry.objects.count()
    outcome = services.plan_import(
        user=lead,
        brand=brand,
        contents=transfer.read_document(first),
        expected_plan_version=selectors.plan_version(brand),
    )
    assert (outcome.created, outcome.updated, outcome.changed) == ([], [], 0)
    assert ActivityEntry.objects.count() == marker
    assert selectors.plan_document(brand) == first
    # And once more through text (a pasted document), with a BOM.
    again = transfer.read_document("\ufeff" + first.decode())
    assert transfer.dump_document(transfer.export_document(again)) == first


# --- hostile documents ---------------------------------------------------------------------------


def test_not_json_and_not_text_are_refused_with_a_located_error():
    assert _errors(b"{not json")[0][0] == "(file)"
    assert "line 1" in _errors(b"{not json")[0][1]
    assert _errors(b"\xff\xfe\x00garbage")[0] == (
        "(file)",
        "Not UTF-8 text (a byte that is not UTF-8 at offset 0).",
    )
    assert _errors(b"   ")[0][1] == "The file is empty."
    assert _paths(b'{"format": "koastops-tracking-plan/1", "events": [NaN]}') == {"(file)"}
    huge_number = b'{"format": "koastops-tracking-plan/1", "events": [' + b"9" * 5000 + b"]}"
    assert _paths(huge_number) == {"(file)"}
    assert _paths(b"[]") == {"(document)"}


def test_wrong_types_and_unknown_keys_are_located():
    document = _document(
        {"name": "Ok"},
        {"name": "Lead", "colour": "red", "parameters": "value"},
        {"name": "Purchase", "parameters": [{"name": "value", "type": "money"}]},
        {"name": "Buy", "status": 3, "event_id_required": "yes"},
        "Signup",
    )
    errors = dict(_errors(document))
    assert errors["events[1].colour"] == "Unknown key 'colour'."
    assert errors["events[1].parameters"] == "Expected a list."
    assert errors["events[2].parameters[0].type"].startswith("Expected one of string, number")
    assert "events[3].status" in errors and "events[3].event_id_required" in errors
    assert errors["events[4]"] == "Expected an object."
    assert "events[0]" not in str(errors)
    top = dict(_errors(json.dumps({"format": "other", "events": {}, "extra": 1})))
    assert set(top) == {"format", "events", "extra"}


def test_json_schema_key_is_accepted_and_ignored():
    content = parse_event(CUSTOM).to_dict()
    [event] = transfer.read_document(
        _document({**content, "json_schema": {"type": "nonsense", "deep": [[[[1]]]]}})
    )
    assert event.to_dict() == content


def test_a_ten_megabyte_document_is_refused_before_it_is_parsed():
    raw = _document({"name": "Big", "description": "x" * (10 * 1024 * 1024)}).encode()
    [(path, message)] = _errors(raw)
    assert path == "(file)" and message.startswith("The file is too big: 10.0 MB")
    [(path, _)] = _errors(raw.decode())
    assert path == "(file)"


def test_duplicate_names_ignoring_case_are_refused():
    errors = _errors(_document({"name": "Lead"}, {"name": "Purchase"}, {"name": "lead"}))
    assert errors == [
        ("events[2].name", "'lead' is also the name of events[0] (event names ignore case).")
    ]


def test_deep_nesting_is_refused_without_a_crash():
    bomb = b'{"format": "koastops-tracking-plan/1", "events": ' + b"[" * 100_000 + b"]" * 100_000
    assert _errors(bomb + b"}") == [("(file)", "The JSON is nested too deeply.")]
    # Deep but within what json reads (say 200 levels, inside the ignored json_schema).
    nested: object = 1
    for _ in range(200):
        nested = [nested]
    errors = _errors(_document({"name": "Deep", "json_schema": nested}))
    assert errors[0][1] == "Nested too deeply."
    assert errors[0][0].startswith("events[0].json_schema[0][0]")


def test_more_than_500_events_are_refused():
    events = [{"name": f"Event{n}"} for n in range(501)]
    assert _errors(_document(*events)) == [("events", "At most 500 events (this has 501).")]
    assert len(transfer.read_document(_document(*events[:500]))) == 500


def test_text_that_cannot_be_stored_is_refused_by_its_path():
    raw = '{"format": "koastops-tracking-plan/1", "events": [{"name": "A", "owner": "\\ud800"}]}'
    assert _paths(raw) == {"events[0].owner"}
    nul = _document({"name": "A", "owner": "a\x00b"})
    assert _errors(nul) == [("events[0].owner", "Text may not contain NUL characters.")]


def test_html_in_text_is_kept_as_text():
    [event] = transfer.read_document(_document({"name": "X", "display_name": "<b>bold</b>"}))
    assert event.display_name == "<b>bold</b>"


def test_errors_are_capped():
    events = [{"name": f"E{n}", "colour": 1, "size": 2} for n in range(150)]
    with pytest.raises(transfer.DocumentError) as caught:
        transfer.read_document(_document(*events))
    assert len(caught.value.errors) == transfer.MAX_ERRORS and caught.value.truncated


# --- the diff ------------------------------------------------------------------------------------


def test_plan_diff_says_added_changed_unchanged_and_kept():
    lead = parse_event({"name": "Lead", "owner": "Web"}).to_dict()
    page = parse_event({"name": "PageView"}).to_dict()
    kept = parse_event({"name": "Contact"}).to_dict()
    current = [("Lead", lead), ("PageView", page), ("Contact", kept)]
    contents = [
        parse_event({"name": "lead", "owner": "CRM"}),
        parse_event({"name": "PageView"}),
        parse_event({"name": "Purchase"}),
    ]
    diff = transfer.plan_diff(contents, current)
    assert [(e.name, e.kind) for e in diff.events] == [
        ("lead", "changed"),
        ("PageView", "unchanged"),
        ("Purchase", "added"),
    ]
    assert [(c.where, c.before, c.after) for c in diff.changed[0].changes] == [
        ("Name", "Lead", "lead"),
        ("Owner", "Web", "CRM"),
    ]
    assert diff.kept == ("Contact",) and diff.writes
    assert not transfer.plan_diff([parse_event({"name": "PageView"})], current).writes


# --- plan_import -------------------------------------------------------------------------------


def _state(brand) -> tuple:
    return (
        sorted(EventDefinition.objects.filter(brand=brand).values_list("name", "version")),
        EventRevision.objects.filter(event__brand=brand).count(),
        EventMapping.objects.filter(brand=brand).count(),
        selectors.plan_version(brand),
        ActivityEntry.objects.count(),
    )


@pytest.mark.django_db
def test_import_creates_and_updates_with_revisions_and_activity(brand, lead, activity):
    lead_event = services.event_create(user=lead, brand=brand, content={"name": "Lead"})
    services.event_create(user=lead, brand=brand, content={"name": "Contact"})
    version = selectors.plan_version(brand)
    activity.mark()
    outcome = services.plan_import(
        user=lead,
        brand=brand,
        contents=[
            {"name": "lead", "owner": "CRM team"},
            {"name": "Contact"},
            parse_event(CUSTOM),
        ],
        expected_plan_version=version,
    )
    assert (outcome.created, outcome.updated, outcome.unchanged) == (
        ["NewsletterSignup"],
        ["lead"],
        ["Contact"],
    )
    rows = activity.new()
    assert [row.verb for row in rows] == ["event.imported", "event.created", "plan.imported"]
    assert all(row.actor_id == lead.pk and row.brand_id == brand.pk for row in rows)
    plan_row = rows[-1]
    assert plan_row.target_label == f"Tracking plan of {brand.name}"
    assert plan_row.target_type == "taxonomy.trackingplan"
    assert plan_row.after == {"created": 1, "updated": 1, "unchanged": 1}
    lead_event.refresh_from_db()
    assert (lead_event.name, lead_event.owner, lead_event.version) == ("lead", "CRM team", 2)
    notes = EventRevision.objects.filter(event__brand=brand, note="imported")
    assert notes.count() == 2
    assert selectors.plan_version(brand) == version + 1
    assert EventMapping.objects.filter(brand=brand, event__name="NewsletterSignup").count() == 3


@pytest.mark.django_db
def test_a_stale_import_is_refused_and_changes_nothing(brand, lead):
    services.event_create(user=lead, brand=brand, content={"name": "Lead"})
    previewed = selectors.plan_version(brand)
    services.event_create(user=lead, brand=brand, content={"name": "Contact"})
    before = _state(brand)
    with pytest.raises(StaleVersion):
        services.plan_import(
            user=lead,
            brand=brand,
            contents=[{"name": "Lead", "owner": "x"}, {"name": "New"}],
            expected_plan_version=previewed,
        )
    assert _state(brand) == before


@pytest.mark.django_db
def test_a_failure_midway_rolls_everything_back(brand, lead, monkeypatch):
    services.event_create(user=lead, brand=brand, content={"name": "Lead"})
    before = _state(brand)
    original = services._create
    calls = []

    def failing_create(**kwargs):
        calls.append(kwargs["content"].name)
        if len(calls) == 3:  # the third new event: a name clash, as a concurrent create
            raise ValidationError({"name": "The tracking plan already has an event called X."})
        return original(**kwargs)

    monkeypatch.setattr(services, "_create", failing_create)
    with pytest.raises(ValidationError) as caught:
        services.plan_import(
            user=lead,
            brand=brand,
            contents=[
                {"name": "Lead", "owner": "changed"},
                {"name": "A"},
                {"name": "B"},
                {"name": "C"},
            ],
            expected_plan_version=selectors.plan_version(brand),
        )
    assert calls == ["A", "B", "C"]
    assert "events[3].name" in caught.value.message_dict
    assert _state(brand) == before
    assert EventDefinition.objects.get(brand=brand, name="Lead").owner == ""


@pytest.mark.django_db
def test_invalid_or_refused_imports_change_nothing(brand, lead):
    version = selectors.plan_version(brand)
    before = _state(brand)
    with pytest.raises(ValidationError) as caught:
        services.plan_import(
            user=lead,
            brand=brand,
            contents=[{"name": "Ok"}, {"name": "ok"}, {"name": "Bad", "parameters": [{"type": 1}]}],
            expected_plan_version=version,
        )
    assert set(caught.value.message_dict) == {
        "events[1].name",
        "events[2].parameters[0].name",
        "events[2].parameters[0].type",
    }
    buyer = UserFactory()
    policies.grant_role(buyer, brand, Role.MEDIA_BUYER)
    with pytest.raises(PermissionDenied):
        services.plan_import(
            user=buyer, brand=brand, contents=[{"name": "Ok"}], expected_plan_version=version
        )
    with pytest.raises(ValidationError):
        services.plan_import(
            user=lead,
            brand=brand,
            contents=[{"name": f"E{n}"} for n in range(501)],
            expected_plan_version=version,
        )
    assert _state(brand) == before
    assert not TrackingPlan.objects.filter(brand=brand, version__gt=version).exists()


@pytest.mark.django_db
def test_an_import_that_changes_nothing_writes_nothing(brand, lead, activity):
    EventDefinitionFactory(brand=brand, name="Lead", content={"owner": "Web"})
    content = EventDefinition.objects.get(brand=brand).content
    before = _state(brand)
    outcome = services.plan_import(
        user=lead, brand=brand, contents=[content], expected_plan_version=before[3]
    )
    assert outcome.unchanged == ["Lead"] and outcome.changed == 0
    assert _state(brand) == before
