"""The export download and the two-step import page: who may use them, what the preview
shows (escaped), that a refused, stale, expired or hostile import changes nothing, and
that an applied one lands once."""

from __future__ import annotations

import json
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from koastops.accounts import policies
from koastops.accounts.models import Role
from koastops.activity.models import ActivityEntry
from koastops.taxonomy import selectors, services, transfer
from koastops.taxonomy.models import EventDefinition, EventRevision
from koastops.taxonomy.views.transfer import plan_url
from tests.factories import EventDefinitionFactory, UserFactory

pytestmark = pytest.mark.django_db

SCRIPT = "<script>alert('x')</script>"


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _member(brand, role: Role, email: str):
    user = UserFactory(email=email)
    policies.grant_role(user, brand, role)
    return user


@pytest.fixture
def lead(brand):
    return _member(brand, Role.OPS_LEAD, "lead@example.com")


@pytest.fixture
def analyst(brand):
    return _member(brand, Role.ANALYST, "analyst@example.com")


def _url(name: str, brand) -> str:
    return reverse(f"taxonomy:{name}", args=[brand.slug])


def _document(*events: dict) -> bytes:
    return json.dumps({"format": transfer.FORMAT, "events": list(events)}).encode()


def _upload(raw: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile("plan.json", raw, content_type="application/json")


def _state(brand) -> tuple:
    return (
        sorted(EventDefinition.objects.filter(brand=brand).values_list("name", "version")),
        EventRevision.objects.filter(event__brand=brand).count(),
        selectors.plan_version(brand),
        ActivityEntry.objects.count(),
    )


def _preview(client, brand, raw: bytes, **extra):
    return client.post(
        _url("plan_import", brand), {"file": _upload(raw), "action": "preview"}, **extra
    )


def _apply_fields(response) -> dict[str, str]:
    html = response.content.decode()
    fields = dict(re.findall(r'name="(token|plan_version)" value="([^"]*)"', html))
    return {"action": "apply", **fields}


# --- export --------------------------------------------------------------------------------


def test_every_role_downloads_the_plan_document(brand, analyst, foreign_brand):
    EventDefinitionFactory(brand=brand, name="Lead", content={"display_name": SCRIPT})
    EventDefinitionFactory(brand=foreign_brand, name="ForeignSecretEvent")
    response = _client(analyst).get(_url("plan_export", brand))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="tracking-plan-own-brand.json"'
    assert "no-store" in response["Cache-Control"]
    assert response.content == selectors.plan_document(brand)
    document = json.loads(response.content)
    assert [event["name"] for event in document["events"]] == ["Lead"]
    assert document["events"][0]["display_name"] == SCRIPT
    assert b"ForeignSecretEvent" not in response.content
    assert _client(analyst).get(_url("plan_export", foreign_brand)).status_code == 404
    assert _client(analyst).post(_url("plan_export", brand)).status_code == 405


def test_export_query_count_is_constant(brand, analyst, django_assert_max_num_queries):
    client = _client(analyst)
    EventDefinitionFactory(brand=brand)
    with django_assert_max_num_queries(8) as one:
        client.get(_url("plan_export", brand))
    for _ in range(49):
        EventDefinitionFactory(brand=brand)
    with django_assert_max_num_queries(len(one.captured_queries)):
        response = client.get(_url("plan_export", brand))
    assert len(json.loads(response.content)["events"]) == 50


# --- the import page: who ------------------------------------------------------------------------


def test_only_managers_open_the_import_page(brand, lead, analyst, foreign_brand):
    response = _client(lead).get(_url("plan_import", brand))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'enctype="multipart/form-data"' in html and 'name="file"' in html
    assert f'href="{plan_url(brand)}"' in html
    assert _client(analyst).get(_url("plan_import", brand)).status_code == 403
    buyer = _member(brand, Role.MEDIA_BUYER, "buyer@example.com")
    before = _state(brand)
    response = _preview(_client(buyer), brand, _document({"name": "Lead"}))
    assert response.status_code == 403
    assert _state(brand) == before
    assert _client(lead).get(_url("plan_import", foreign_brand)).status_code == 404
    assert _client(lead).put(_url("plan_import", brand)).status_code == 405


def test_the_import_form_needs_its_csrf_token(brand, lead):
    client = Client(enforce_csrf_checks=True)
    client.force_login(lead)
    before = _state(brand)
    response = _preview(client, brand, _document({"name": "Lead"}))
    assert response.status_code == 403
    page = client.get(_url("plan_import", brand))
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())[1]
    response = client.post(
        _url("plan_import", brand),
        {"csrfmiddlewaretoken": token, "file": _upload(_document({"name": "Lead"}))},
    )
    assert response.status_code == 200 and "To add" in response.content.decode()
    assert _state(brand) == before


# --- preview -------------------------------------------------------------------------------------


def test_preview_shows_the_diff_escaped_and_writes_nothing(brand, lead):
    services.event_create(user=lead, brand=brand, content={"name": "Lead", "owner": "Web"})
    services.event_create(user=lead, brand=brand, content={"name": "Contact"})
    services.event_create(user=lead, brand=brand, content={"name": "KeptEvent"})
    before = _state(brand)
    raw = _document(
        {"name": "lead", "owner": "CRM", "display_name": SCRIPT},
        {"name": "Contact"},
        {"name": "Signup", "display_name": SCRIPT},
    )
    response = _preview(_client(lead), brand, raw)
    assert response.status_code == 200
    html = response.content.decode()
    assert SCRIPT not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html
    assert "To add" in html and "<code>Signup</code>" in html
    assert "To change" in html and "Owner" in html and "CRM" in html
    assert "Unchanged (1)" in html
    assert "Not in the file — kept as they are" in html and "<code>KeptEvent</code>" in html
    assert 'id="import-apply"' in html
    assert _state(brand) == before


def test_pasted_json_previews_too_and_htmx_gets_the_fragment(brand, lead, htmx_headers):
    response = _client(lead).post(
        _url("plan_import", brand),
        {"document": _document({"name": "Lead"}).decode(), "action": "preview"},
        **htmx_headers,
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="import-step">') and "<html" not in html


def test_neither_or_both_inputs_is_a_form_error(brand, lead):
    client = _client(lead)
    response = client.post(_url("plan_import", brand), {"action": "preview"})
    assert response.status_code == 422
    assert "Choose a plan file, or paste the plan&#x27;s JSON." in response.content.decode()
    response = client.post(
        _url("plan_import", brand),
        {"file": _upload(_document()), "document": "{}", "action": "preview"},
    )
    assert response.status_code == 422 and "not both" in response.content.decode()


HOSTILE = {
    "not JSON": (b"{'format': nope", "(file)"),
    "wrong types": (
        _document({"name": "Lead", "parameters": [{"name": "v", "type": 7}]}),
        "events[0].parameters[0].type",
    ),
    "unknown keys": (_document({"name": "Lead", "colour": "red"}), "events[0].colour"),
    "duplicate names": (_document({"name": "Lead"}, {"name": "LEAD"}), "events[1].name"),
    "json bomb": (b'{"format": "koastops-tracking-plan/1", "events": ' + b"[" * 100_000, "(file)"),
    "too many events": (_document(*({"name": f"E{n}"} for n in range(501))), "events"),
    "wrong format": (json.dumps({"format": "x/2", "events": []}).encode(), "format"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_files_are_refused_with_located_errors(brand, lead, case):
    EventDefinitionFactory(brand=brand, name="Lead")
    raw, path = HOSTILE[case]
    before = _state(brand)
    response = _preview(_client(lead), brand, raw)
    assert response.status_code == 422
    html = response.content.decode()
    assert "The plan was not imported: nothing was changed." in html
    assert f"<code>{path}</code>:" in html
    assert 'id="import-apply"' not in html
    assert _state(brand) == before


def test_a_ten_megabyte_upload_is_refused_clearly(brand, lead, htmx_headers):
    before = _state(brand)
    raw = _document({"name": "Big", "description": "x" * (10 * 1024 * 1024)})
    for extra, status in (({}, 413), (htmx_headers, 422)):  # htmx swaps a 422, not a 413
        response = _preview(_client(lead), brand, raw, **extra)
        assert response.status_code == status
        assert (
            "The file is too big: a plan file may have at most 8 MB." in response.content.decode()
        )
    # Pasted instead of uploaded: past Django's DATA_UPLOAD_MAX_MEMORY_SIZE, same answer.
    response = _client(lead).post(
        _url("plan_import", brand), {"document": raw.decode(), "action": "preview"}
    )
    assert response.status_code == 413
    assert "The file is too big" in response.content.decode()
    assert _state(brand) == before


# --- apply ---------------------------------------------------------------------------------------


def test_apply_imports_once_and_goes_to_the_plan(brand, lead, activity):
    services.event_create(user=lead, brand=brand, content={"name": "Lead"})
    client = _client(lead)
    preview = _preview(client, brand, _document({"name": "Lead", "owner": "CRM"}, {"name": "New"}))
    fields = _apply_fields(preview)
    activity.mark()
    response = client.post(_url("plan_import", brand), fields)
    assert response.status_code == 302 and response["Location"] == plan_url(brand)
    assert [row.verb for row in activity.new()] == [
        "event.imported",
        "event.created",
        "plan.imported",
    ]
    page = client.get(response["Location"])
    assert "Plan imported: 1 added, 1 changed, 0 unchanged." in page.content.decode()
    # The same preview cannot be applied twice.
    before = _state(brand)
    again = client.post(_url("plan_import", brand), fields)
    assert again.status_code == 200
    assert "This preview has expired or was already applied" in again.content.decode()
    assert _state(brand) == before


def test_apply_with_htmx_navigates_with_a_toast(brand, lead, htmx_headers):
    client = _client(lead)
    fields = _apply_fields(_preview(client, brand, _document({"name": "New"})))
    response = client.post(_url("plan_import", brand), fields, **htmx_headers)
    assert response.status_code == 200
    assert json.loads(response["HX-Location"])["path"] == plan_url(brand)
    assert "Plan imported: 1 added" in response["HX-Trigger"]


def test_a_stale_apply_is_refused_and_previewed_again(brand, lead, htmx_headers):
    client = _client(lead)
    fields = _apply_fields(_preview(client, brand, _document({"name": "Lead", "owner": "CRM"})))
    services.event_create(user=lead, brand=brand, content={"name": "Lead", "owner": "Web"})
    before = _state(brand)
    response = client.post(_url("plan_import", brand), fields, **htmx_headers)
    assert response.status_code == 409
    html = response.content.decode()
    assert "The plan changed since you previewed; nothing was imported." in html
    assert "To change" in html and "Web" in html  # the diff against the current plan
    assert _state(brand) == before
    response = client.post(_url("plan_import", brand), _apply_fields(response))
    assert response.status_code == 302
    assert EventDefinition.objects.get(brand=brand, name="Lead").owner == "CRM"


def test_a_preview_is_only_the_previewing_users(brand, lead):
    fields = _apply_fields(_preview(_client(lead), brand, _document({"name": "New"})))
    other = _member(brand, Role.OPS_LEAD, "other.lead@example.com")
    before = _state(brand)
    response = _client(other).post(_url("plan_import", brand), fields)
    assert "This preview has expired or was already applied" in response.content.decode()
    for junk in ({"token": "x" * 500}, {"plan_version": "1e9"}, {"plan_version": "\x00"}):
        response = _client(lead).post(_url("plan_import", brand), fields | junk)
        assert response.status_code == 200
    assert _state(brand) == before


def test_nothing_to_import_offers_no_apply(brand, lead):
    EventDefinitionFactory(brand=brand, name="Lead")
    raw = selectors.plan_document(brand)
    response = _preview(_client(lead), brand, raw)
    html = response.content.decode()
    assert "Nothing to import" in html and 'id="import-apply"' not in html


def test_the_actions_fragment_offers_import_only_to_managers(brand, lead, analyst, rf):
    from django.template.loader import render_to_string

    def render(user) -> str:
        request = rf.get("/")
        request.user = user
        return render_to_string("taxonomy/_transfer_actions.html", {"brand": brand}, request)

    export, import_ = _url("plan_export", brand), _url("plan_import", brand)
    assert f'href="{export}"' in render(lead) and f'href="{import_}"' in render(lead)
    assert f'href="{export}"' in render(analyst) and import_ not in render(analyst)


def test_preview_query_count_is_constant(brand, lead, django_assert_max_num_queries):
    client = _client(lead)
    EventDefinitionFactory(brand=brand, name="E0")
    with django_assert_max_num_queries(12) as one:
        assert _preview(client, brand, _document({"name": "E0", "owner": "x"})).status_code == 200
    for n in range(1, 50):
        EventDefinitionFactory(brand=brand, name=f"E{n}")
    raw = _document(*({"name": f"E{n}", "owner": "x"} for n in range(50)))
    with django_assert_max_num_queries(len(one.captured_queries)):
        response = _preview(client, brand, raw)
    assert "Events to change" in response.content.decode()
