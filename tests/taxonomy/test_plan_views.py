"""Tracking-plan pages: the plan list, event detail, version diff, the editor and the
status actions — by role (ops lead edits; media buyer, analyst and legal reviewer read),
foreign brands (404, their event names never shown), bad input (never 500, nothing
written) and query counts that do not grow with the rows."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from koastops.accounts import policies
from koastops.accounts.models import Role
from koastops.taxonomy import services
from koastops.taxonomy.catalogue import META_STANDARD_EVENTS
from koastops.taxonomy.models import EventDefinition, EventRevision
from tests.factories import EventDefinitionFactory, UserFactory

pytestmark = pytest.mark.django_db

PURCHASE: dict[str, Any] = {
    "name": "Purchase",
    "display_name": "Order paid",
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
    "mappings": [
        {"platform": "meta", "target": "Purchase", "parameters": ["value", "currency"]},
        {"platform": "google", "target": "purchase_web", "parameters": ["value"]},
    ],
}
FOREIGN_MARKER = "ZqForeignPlanMarker"
READERS = [Role.MEDIA_BUYER, Role.ANALYST, Role.LEGAL_REVIEWER]


# --- helpers -------------------------------------------------------------------------------


def plan_url(brand, **query: str) -> str:
    url = reverse("taxonomy:plan", args=[brand.slug])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def detail_url(event) -> str:
    return reverse("taxonomy:event_detail", args=[event.brand.slug, event.pk])


def edit_url(event) -> str:
    return reverse("taxonomy:event_edit", args=[event.brand.slug, event.pk])


def status_url(event) -> str:
    return reverse("taxonomy:event_status", args=[event.brand.slug, event.pk])


def diff_url(event) -> str:
    return reverse("taxonomy:event_diff", args=[event.brand.slug, event.pk])


def create_url(brand) -> str:
    return reverse("taxonomy:event_create", args=[brand.slug])


def template_url(brand) -> str:
    return reverse("taxonomy:plan_apply_template", args=[brand.slug])


def member(brand, role: Role, email: str | None = None):
    user = UserFactory(email=email or f"{role.value}@example.com")
    policies.grant_role(user, brand, role)
    return user


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def form_data(**overrides: Any) -> dict[str, Any]:
    """What the editor posts for a Purchase with two parameters and a Meta mapping."""
    data: dict[str, Any] = {
        "name": "Purchase",
        "display_name": "Order paid",
        "description": "An order paid in full.",
        "trigger": "Order confirmation page loads.",
        "owner": "Web team",
        "status": "active",
        "sources": "both",
        "event_id_required": "on",
        "param-rows": "2",
        "param-0-name": "value",
        "param-0-type": "number",
        "param-0-required": "on",
        "param-1-name": "currency",
        "param-1-type": "currency",
        "param-1-required": "on",
        "map-meta-target": "Purchase",
        "map-meta-parameters": "value, currency",
        "map-google-target": "",
        "map-google-parameters": "",
        "map-linkedin-target": "",
        "map-linkedin-parameters": "",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def edit_data(event, **overrides: Any) -> dict[str, Any]:
    data = form_data(version=str(event.version), **overrides)
    data.pop("status", None)
    return data


@pytest.fixture
def lead(brand):
    return member(brand, Role.OPS_LEAD, "lead@example.com")


@pytest.fixture
def lead_client(lead) -> Client:
    return client_for(lead)


@pytest.fixture
def purchase(brand, lead):
    return services.event_create(user=lead, brand=brand, content=PURCHASE)


@pytest.fixture
def foreign_event(foreign_brand):
    return EventDefinitionFactory(
        brand=foreign_brand,
        name=FOREIGN_MARKER,
        content={"display_name": f"{FOREIGN_MARKER} display"},
    )


# --- the plan list -------------------------------------------------------------------------


def test_ops_lead_sees_the_plan_with_its_edit_controls(lead_client, brand, purchase):
    response = lead_client.get(plan_url(brand))

    assert response.status_code == 200
    html = response.text
    assert f'href="{detail_url(purchase)}"' in html
    assert "Order paid" in html
    assert "Meta: <code>Purchase</code>; Google Ads: <code>purchase_web</code>" in html
    assert "Browser and server" in html
    assert f'href="{create_url(brand)}"' in html
    assert f'action="{template_url(brand)}"' in html
    assert 'aria-current="page">Tracking plan</a>' in html  # the sidebar link, current


@pytest.mark.parametrize("role", READERS)
def test_readers_see_the_plan_without_edit_controls(brand, purchase, role):
    client = client_for(member(brand, role))

    html = client.get(plan_url(brand)).text

    assert f'href="{detail_url(purchase)}"' in html
    assert create_url(brand) not in html
    assert template_url(brand) not in html
    assert "ops leads add and edit events" in html
    assert ">Tracking plan</a>" in html  # every role has the sidebar link


def test_empty_plan_offers_the_template_to_managers_and_names_who_can_to_others(brand, lead):
    html = client_for(lead).get(plan_url(brand)).text
    assert "No events yet" in html
    assert "Apply the Meta starter template" in html
    assert "Add an event" in html

    html = client_for(member(brand, Role.ANALYST)).get(plan_url(brand)).text
    assert "No events yet" in html
    assert "Ops leads of this brand edit the tracking plan" in html
    assert "Apply the Meta starter template" not in html
    assert template_url(brand) not in html


def test_htmx_request_gets_only_the_table(lead_client, brand, purchase, htmx_headers):
    response = lead_client.get(plan_url(brand, q="purch"), **htmx_headers)

    assert response.status_code == 200
    assert response.text.lstrip().startswith('<div id="plan-table">')
    assert "Purchase" in response.text
    assert "<nav" not in response.text.split("</table>")[0]


def _names_listed(client, url: str) -> set[str]:
    html = client.get(url).text
    return {
        name for name in ("Purchase", "Lead", "PageView", "Signup", "Refund") if f">{name}<" in html
    }


@pytest.fixture
def mixed_plan(brand):
    EventDefinitionFactory(
        brand=brand,
        name="Purchase",
        status="active",
        sources="both",
        content={"mappings": [{"platform": "meta", "target": "Purchase"}]},
    )
    EventDefinitionFactory(
        brand=brand,
        name="Lead",
        status="active",
        sources="server",
        content={
            "display_name": "Form sent",
            "mappings": [
                {"platform": "meta", "target": "Lead"},
                {"platform": "linkedin", "target": "lead_form"},
            ],
        },
    )
    EventDefinitionFactory(brand=brand, name="PageView", status="draft", sources="browser")
    EventDefinitionFactory(
        brand=brand,
        name="Signup",
        status="deprecated",
        sources="browser",
        content={"mappings": [{"platform": "google", "target": "signup"}]},
    )


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, {"Purchase", "Lead", "PageView", "Signup"}),
        ({"status": "active"}, {"Purchase", "Lead"}),
        ({"status": "deprecated"}, {"Signup"}),
        ({"source": "browser"}, {"Purchase", "PageView", "Signup"}),  # "both" sends from it
        ({"source": "server"}, {"Purchase", "Lead"}),
        ({"source": "both"}, {"Purchase"}),
        ({"platform": "meta"}, {"Purchase", "Lead"}),
        ({"platform": "linkedin"}, {"Lead"}),
        ({"platform": "google"}, {"Signup"}),
        ({"platform": "none"}, {"PageView"}),
        ({"q": "form"}, {"Lead"}),  # the display name
        ({"q": "PURCH"}, {"Purchase"}),
        ({"status": "active", "platform": "linkedin"}, {"Lead"}),
        ({"status": "draft", "platform": "meta"}, set()),
    ],
)
def test_filters_narrow_the_list(lead_client, brand, mixed_plan, query, expected):
    url = plan_url(brand, **query)
    assert _names_listed(lead_client, url) == expected


def test_a_filter_in_effect_shows_a_chip_that_removes_it(lead_client, brand, mixed_plan):
    html = lead_client.get(plan_url(brand, status="active", platform="meta")).text

    assert "Remove the filter Mapped to Meta" in html
    assert f'href="{plan_url(brand, status="active")}"' in html


@pytest.mark.parametrize(
    "query",
    [
        {"status": "bogus"},
        {"source": "\x00"},
        {"platform": "myspace"},
        {"q": "x" * 5000},
        {"q": "a\x00b"},
        {"page": "-1"},
        {"page": "99999999999999999999"},
        {"page": "abc"},
        {"status": ["active", "draft"]},
    ],
)
def test_junk_filters_are_ignored_never_a_500(lead_client, brand, mixed_plan, query):
    response = lead_client.get(plan_url(brand), query)

    assert response.status_code == 200
    assert _names_listed(lead_client, response.request["PATH_INFO"]) == {
        "Purchase",
        "Lead",
        "PageView",
        "Signup",
    }


def test_pagination_keeps_the_filters(lead_client, brand, settings):
    settings.KOASTOPS_PAGE_SIZE = 2
    for n in range(5):
        EventDefinitionFactory(brand=brand, name=f"Ev{n}", status="active")

    html = lead_client.get(plan_url(brand, status="active")).text

    assert "Page 1 of 3 (5 in all)" in html
    assert "status=active&amp;page=2" in html


# --- foreign brands and denied principals ---------------------------------------------------


def test_another_brands_plan_and_events_are_404(lead_client, foreign_brand, foreign_event):
    for url in (
        plan_url(foreign_brand),
        detail_url(foreign_event),
        edit_url(foreign_event),
        diff_url(foreign_event),
        create_url(foreign_brand),
    ):
        assert lead_client.get(url).status_code == 404, url
    assert lead_client.post(status_url(foreign_event), {"status": "draft"}).status_code == 404
    assert lead_client.post(template_url(foreign_brand)).status_code == 404


def test_another_brands_event_under_the_own_slug_is_404(lead_client, brand, foreign_event):
    for name in ("taxonomy:event_detail", "taxonomy:event_edit", "taxonomy:event_diff"):
        url = reverse(name, args=[brand.slug, foreign_event.pk])
        assert lead_client.get(url).status_code == 404, name
    url = reverse("taxonomy:event_status", args=[brand.slug, foreign_event.pk])
    assert lead_client.post(url, {"status": "draft", "version": "1"}).status_code == 404
    foreign_event.refresh_from_db()
    assert foreign_event.status == "active"


def test_a_foreign_brands_event_name_never_appears(lead_client, brand, purchase, foreign_event):
    pages = [
        plan_url(brand),
        plan_url(brand, q="ForeignPlan"),  # a part of it: the search box echoes the query
        plan_url(brand, status="active"),
        detail_url(purchase),
        diff_url(purchase),
        edit_url(purchase),
        create_url(brand),
    ]
    for url in pages:
        response = lead_client.get(url)
        assert response.status_code == 200, url
        assert FOREIGN_MARKER not in response.text, url


@pytest.mark.parametrize("role", READERS)
def test_readers_see_the_detail_without_controls_and_get_403_on_writes(
    brand, purchase, role, activity
):
    client = client_for(member(brand, role))
    html = client.get(detail_url(purchase)).text
    assert "Order paid" in html
    assert edit_url(purchase) not in html
    assert status_url(purchase) not in html
    assert "ops leads edit it and change its status" in html

    activity.mark()
    assert client.get(edit_url(purchase)).status_code == 403
    assert client.get(create_url(brand)).status_code == 403
    assert client.post(edit_url(purchase), edit_data(purchase, owner="Hacked")).status_code == 403
    assert client.post(create_url(brand), form_data(name="Other")).status_code == 403
    assert (
        client.post(status_url(purchase), {"status": "deprecated", "version": "1"}).status_code
        == 403
    )
    assert client.post(template_url(brand)).status_code == 403
    purchase.refresh_from_db()
    assert (purchase.version, purchase.status, purchase.owner) == (1, "active", "Web team")
    assert EventDefinition.objects.filter(brand=brand).count() == 1
    activity.none()


def test_wrong_methods_are_405(lead_client, brand, purchase):
    assert lead_client.get(status_url(purchase)).status_code == 405
    assert lead_client.get(template_url(brand)).status_code == 405
    assert lead_client.post(plan_url(brand)).status_code == 405
    assert lead_client.post(detail_url(purchase)).status_code == 405
    assert lead_client.post(diff_url(purchase)).status_code == 405


def test_signed_out_users_go_to_sign_in(client, brand, purchase):
    response = client.get(plan_url(brand))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


# --- event detail --------------------------------------------------------------------------


def test_detail_shows_the_definition_parameters_and_mappings(lead_client, purchase):
    html = lead_client.get(detail_url(purchase)).text

    assert "An order paid in full." in html
    assert "Order confirmation page loads." in html
    assert "Web team" in html
    assert "Browser and server" in html
    assert "browser and server events are deduplicated by event_id" in html
    assert "<code>value</code></th>" in html
    assert "ISO 4217 currency" in html
    assert "Required" in html
    assert "<code>purchase_web</code>" in html
    assert "Not mapped" in html  # LinkedIn
    assert "Meta requires" not in html  # value and currency are both sent and required


def test_detail_marks_the_parameters_meta_requires_that_are_missing(lead_client, brand):
    event = EventDefinitionFactory(
        brand=brand,
        name="Checkout",
        content={
            "parameters": [{"name": "value", "type": "number"}],
            "mappings": [{"platform": "meta", "target": "Purchase", "parameters": ["value"]}],
        },
    )

    html = lead_client.get(detail_url(event)).text

    assert "Meta requires <code>currency</code> for Purchase; it is not sent." in html
    assert "Meta requires <code>value</code>, which this event marks optional." in html


def test_detail_shows_status_actions_and_the_history(lead_client, lead, purchase):
    services.event_update(
        user=lead,
        event=purchase,
        content={**PURCHASE, "owner": "Checkout squad"},
        expected_version=1,
    )

    html = lead_client.get(detail_url(purchase)).text

    assert f'action="{status_url(purchase)}"' in html
    assert 'name="status" value="deprecated"' in html
    assert 'name="status" value="draft"' in html
    assert 'name="status" value="active"' not in html  # already active
    assert 'data-confirm="Deprecate the event' in html
    assert f'href="{edit_url(purchase)}"' in html
    assert "lead@example.com" in html
    assert "edited" in html and "created" in html
    assert f"{diff_url(purchase)}?from=1&amp;to=2" in html
    assert 'name="from"' in html and 'name="to"' in html


# --- the diff page ------------------------------------------------------------------------


@pytest.fixture
def three_versions(lead, purchase):
    services.event_update(
        user=lead, event=purchase, content={**PURCHASE, "owner": "Squad A"}, expected_version=1
    )
    changed = {
        **PURCHASE,
        "owner": "Squad B",
        "parameters": [*PURCHASE["parameters"], {"name": "order_id", "type": "string"}],
    }
    services.event_update(user=lead, event=purchase, content=changed, expected_version=2)
    purchase.refresh_from_db()
    return purchase


def test_diff_defaults_to_the_previous_version_against_the_current(lead_client, three_versions):
    response = lead_client.get(diff_url(three_versions))

    assert response.status_code == 200
    html = response.text
    assert "Version 2 against version 3." in html
    assert "Parameter order_id" in html
    assert "Added" in html
    assert '<del><span class="visually-hidden">was: </span>Squad A</del>' in html
    assert '<ins><span class="visually-hidden">now: </span>Squad B</ins>' in html


def test_diff_compares_any_two_versions_either_way(lead_client, three_versions):
    html = lead_client.get(diff_url(three_versions), {"from": "3", "to": "1"}).text

    assert "Version 3 against version 1." in html
    assert "Parameter order_id" in html
    assert "Removed" in html
    assert "Squad B" in html and "Web team" in html


def test_diff_of_one_version_with_itself_says_so(lead_client, three_versions):
    html = lead_client.get(diff_url(three_versions), {"from": "2", "to": "2"}).text

    assert "have the same content" in html


def test_diff_of_the_first_version_shows_it_as_created(lead_client, purchase):
    for query in ({}, {"from": "created", "to": "1"}):
        html = lead_client.get(diff_url(purchase), query).text
        assert "Version 1, as created." in html
        assert "Added" in html


@pytest.mark.parametrize(
    "query",
    [
        {"from": "7", "to": "2"},
        {"from": "1", "to": "0"},
        {"from": "abc", "to": "2"},
        {"from": "1", "to": "-3"},
        {"from": "1", "to": "9" * 40},
        {"from": "1\x00", "to": "2"},
        {"to": "٣"},  # an Arabic-Indic digit: not an ASCII version number
    ],
)
def test_bad_versions_get_a_message_never_a_500(lead_client, three_versions, query):
    response = lead_client.get(diff_url(three_versions), query)

    assert response.status_code == 200
    assert "does not exist; pick one below" in response.text
    assert "<table" not in response.text


# --- the editor: create ------------------------------------------------------------------


def test_ops_lead_creates_an_event(lead_client, lead, brand, activity):
    activity.mark()
    response = lead_client.post(create_url(brand), form_data())

    event = EventDefinition.objects.get(brand=brand)
    assert response.status_code == 302
    assert response["Location"] == detail_url(event)
    assert event.content == {
        **PURCHASE,
        "parameters": [
            {**p, "allowed_values": [], "pattern": "", "description": ""}
            for p in PURCHASE["parameters"]
        ],
        "mappings": [
            {
                "platform": "meta",
                "target": "Purchase",
                "custom": False,
                "parameters": ["value", "currency"],
            }
        ],
    }
    activity.one("event.created", actor=lead, brand=brand)


def test_create_with_htmx_navigates_with_a_toast(lead_client, brand, htmx_headers):
    response = lead_client.post(create_url(brand), form_data(), **htmx_headers)

    event = EventDefinition.objects.get(brand=brand)
    assert response.status_code == 200
    assert json.loads(response["HX-Location"])["path"] == detail_url(event)
    assert "Purchase" in json.loads(response["HX-Trigger"])["toast"]["message"]


def test_blank_parameter_and_mapping_rows_are_left_out(lead_client, brand):
    data = form_data(**{"param-rows": "3", "param-2-name": "", "param-2-type": "string"})
    lead_client.post(create_url(brand), data)

    event = EventDefinition.objects.get(brand=brand)
    assert [p["name"] for p in event.content["parameters"]] == ["value", "currency"]
    assert [m["platform"] for m in event.content["mappings"]] == ["meta"]


def test_invalid_rows_show_each_error_by_its_field_and_save_nothing(lead_client, brand, activity):
    activity.mark()
    data = form_data(
        **{
            "param-rows": "3",
            "param-1-name": "",  # a blank row: skipped, so the next row is parameters[1]
            "param-1-type": "string",
            "param-1-required": None,
            "param-2-name": "Amount",
            "param-2-type": "money",
            "map-meta-target": "Purchases",
            "map-meta-parameters": "value, currency",
        }
    )

    response = lead_client.post(create_url(brand), data)

    assert response.status_code == 422
    html = response.text
    # parameters[1] of the content is the third row of the form (param-2).
    assert_error_at(html, "id_param-2-name", "Use lower-case letters")
    assert_error_at(html, "id_param-2-type", "Expected one of string, number")
    assert_error_at(html, "id_map-meta-target", "Purchases is not a Meta standard event")
    # currency is not defined any more (its row was emptied): the mapping says so.
    assert_error_at(html, "id_map-meta-parameters", "&#x27;currency&#x27; is not one of this event")
    assert 'href="#id_param-2-type"' in html  # the summary links to the field
    assert "Parameter 3 — Type: Expected one of" in html
    assert 'value="Amount"' in html  # what was typed is shown again
    assert not EventDefinition.objects.filter(brand=brand).exists()
    activity.none()


def assert_error_at(html: str, field_id: str, message: str) -> None:
    """The message is in the error list of the field (``<id>_error``, next to it)."""
    marker = f'id="{field_id}_error"'
    assert marker in html, f"no errors on {field_id}"
    errors = html.split(marker, 1)[1].split("</ul>", 1)[0]
    assert message in errors, errors


def test_event_level_errors_go_to_their_fields(lead_client, brand):
    data = form_data(name="Bad name!", sources="browser", display_name="x" * 200)

    html = lead_client.post(create_url(brand), data).text

    assert_error_at(html, "id_name", "Use letters, digits and _")
    assert_error_at(html, "id_display_name", "At most 120 characters")
    assert_error_at(html, "id_event_id_required", "only applies when the server sends")


def test_a_missing_name_is_refused_by_the_field(lead_client, brand):
    response = lead_client.post(create_url(brand), form_data(name=""))

    assert response.status_code == 422
    assert_error_at(response.text, "id_name", "An event needs a name.")
    assert not EventDefinition.objects.exists()


def test_a_name_already_in_the_plan_is_an_error_on_the_name(lead_client, brand, purchase):
    response = lead_client.post(create_url(brand), form_data(name="PURCHASE"))

    assert response.status_code == 422
    assert_error_at(response.text, "id_name", "already has an event called PURCHASE")
    assert EventDefinition.objects.filter(brand=brand).count() == 1


def test_invalid_form_with_htmx_swaps_itself_with_422(lead_client, brand, htmx_headers):
    response = lead_client.post(create_url(brand), form_data(name=""), **htmx_headers)

    assert response.status_code == 422
    assert response.text.lstrip().startswith('<form id="event-form"')


@pytest.mark.parametrize(
    "junk",
    [
        {"name": "Pur\x00chase"},
        {"param-0-type": "\x00"},
        {"param-rows": "99999999999"},
        {"param-rows": "-1"},
        {"param-rows": "x"},
        {"param-0-required": "maybe"},
        {"map-meta-custom": "\x00"},
        {"sources": "everywhere"},
        {"status": ""},
        {"description": "x" * 100_000},
        {"param-0-pattern": "(unclosed"},
        {"remove_param": "99999"},
        {"remove_param": "abc"},
    ],
)
def test_junk_bodies_never_500_and_save_nothing_bad(lead_client, brand, junk, activity):
    activity.mark()
    response = lead_client.post(create_url(brand), form_data(**junk))

    assert response.status_code in (200, 302, 422)
    if response.status_code != 302:
        assert not EventDefinition.objects.filter(brand=brand).exists()
        activity.none()


def test_add_parameter_row_without_javascript(lead_client, brand, activity):
    activity.mark()
    response = lead_client.post(create_url(brand), form_data(add_param="1", owner="Kept"))

    assert response.status_code == 200
    html = response.text
    assert 'name="param-2-name"' in html
    assert 'name="param-rows" value="3"' in html
    assert 'value="currency"' in html and 'value="Kept"' in html  # nothing typed is lost
    assert "error-summary" not in html  # nothing was checked
    assert not EventDefinition.objects.exists()
    activity.none()


def test_remove_parameter_row_without_javascript(lead_client, brand):
    response = lead_client.post(create_url(brand), form_data(remove_param="0"))

    html = response.text
    assert response.status_code == 200
    assert 'name="param-rows" value="1"' in html
    assert 'name="param-0-name" value="currency"' in html  # the second row moved up
    assert 'name="param-1-name"' not in html
    assert not EventDefinition.objects.exists()


def test_new_event_form_starts_with_one_blank_parameter_row(lead_client, brand):
    html = lead_client.get(create_url(brand)).text

    assert 'name="param-rows" value="1"' in html
    assert 'name="param-0-name"' in html
    assert 'name="map-meta-custom"' in html
    assert 'name="map-google-custom"' not in html  # only Meta has custom events
    assert 'name="add_param"' in html


# --- the editor: edit ------------------------------------------------------------------------


def test_edit_form_shows_the_current_content_and_version(lead_client, purchase):
    html = lead_client.get(edit_url(purchase)).text

    assert 'name="version" value="1"' in html
    assert 'name="param-0-name" value="value"' in html
    assert 'name="map-meta-parameters" value="value, currency"' in html
    assert 'name="map-google-target" value="purchase_web"' in html
    assert 'name="status"' not in html.split('name="version"')[1]  # status: the detail's actions


def test_ops_lead_edits_an_event(lead_client, lead, brand, purchase, activity):
    activity.mark()
    data = edit_data(purchase, owner="Checkout squad", **{"map-google-target": "purchase_all"})

    response = lead_client.post(edit_url(purchase), data)

    assert response.status_code == 302
    purchase.refresh_from_db()
    assert purchase.version == 2
    assert purchase.owner == "Checkout squad"
    assert purchase.status == "active"  # kept: not part of the form
    assert purchase.content["mappings"][1] == {
        "platform": "google",
        "target": "purchase_all",
        "custom": False,
        "parameters": [],
    }
    activity.one("event.updated", actor=lead, brand=brand)


def test_stale_edit_is_refused_and_shows_who_changed_it(brand, lead, purchase, activity):
    other = member(brand, Role.OPS_LEAD, "other.lead@example.com")
    client = client_for(lead)
    data = edit_data(purchase, owner="Mine")  # based on version 1
    services.event_update(
        user=other, event=purchase, content={**PURCHASE, "owner": "Theirs"}, expected_version=1
    )
    activity.mark()

    response = client.post(edit_url(purchase), data)

    assert response.status_code == 200
    html = response.text
    assert "changed by other.lead@example.com" in html
    assert 'name="version" value="2"' in html
    assert 'value="Theirs"' in html
    purchase.refresh_from_db()
    assert (purchase.version, purchase.owner) == (2, "Theirs")
    activity.none()


def test_stale_edit_with_htmx_answers_409(brand, lead, purchase, htmx_headers):
    services.event_update(
        user=lead, event=purchase, content={**PURCHASE, "owner": "Theirs"}, expected_version=1
    )
    response = client_for(lead).post(
        edit_url(purchase), {**edit_data(purchase, owner="Mine"), "version": "1"}, **htmx_headers
    )

    assert response.status_code == 409
    assert "stale-notice" in response.text


@pytest.mark.parametrize("version", [None, "", "abc", "1" * 20, "\x00"])
def test_edit_without_a_usable_version_saves_nothing(lead_client, purchase, version, activity):
    activity.mark()
    data = edit_data(purchase, owner="Changed")
    if version is None:
        del data["version"]
    else:
        data["version"] = version

    response = lead_client.post(edit_url(purchase), data)

    assert response.status_code == 422
    assert "This form is out of date" in response.text
    purchase.refresh_from_db()
    assert purchase.owner == "Web team"
    activity.none()


def test_edit_that_changes_nothing_writes_nothing(lead_client, purchase, activity):
    activity.mark()
    response = lead_client.post(
        edit_url(purchase),
        edit_data(
            purchase, **{"map-google-target": "purchase_web", "map-google-parameters": "value"}
        ),
    )

    assert response.status_code == 302
    purchase.refresh_from_db()
    assert purchase.version == 1
    activity.none()


def test_invalid_edit_keeps_the_version_it_was_based_on(lead_client, purchase):
    response = lead_client.post(edit_url(purchase), edit_data(purchase, name="no spaces allowed"))

    assert response.status_code == 422
    assert 'name="version" value="1"' in response.text


# --- status actions ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "verb"),
    [("deprecated", "event.deprecated"), ("draft", "event.updated")],
)
def test_ops_lead_changes_the_status(lead_client, lead, brand, purchase, status, verb, activity):
    activity.mark()
    response = lead_client.post(status_url(purchase), {"status": status, "version": "1"})

    assert response.status_code == 302
    assert response["Location"] == detail_url(purchase)
    purchase.refresh_from_db()
    assert (purchase.status, purchase.version) == (status, 2)
    activity.one(verb, actor=lead, brand=brand)


def test_activate_a_draft(lead_client, lead, brand, activity):
    event = services.event_create(user=lead, brand=brand, content={**PURCHASE, "status": "draft"})
    activity.mark()

    lead_client.post(status_url(event), {"status": "active", "version": "1"})

    event.refresh_from_db()
    assert event.status == "active"
    activity.one("event.activated", actor=lead, brand=brand)


def test_status_change_on_a_stale_version_is_refused(lead_client, lead, purchase, activity):
    services.event_update(
        user=lead, event=purchase, content={**PURCHASE, "owner": "Other"}, expected_version=1
    )
    activity.mark()

    response = lead_client.post(
        status_url(purchase), {"status": "deprecated", "version": "1"}, follow=True
    )

    assert "changed Purchase meanwhile" in response.text
    purchase.refresh_from_db()
    assert (purchase.status, purchase.version) == ("active", 2)
    activity.none()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"status": "active", "version": "1"}, "Purchase is already active."),
        ({"status": "archived", "version": "1"}, "Choose a status to set."),
        ({"status": "", "version": "1"}, "Choose a status to set."),
        ({"status": "deprecated"}, "This page was out of date"),
        ({"status": "deprecated", "version": "x\x00"}, "This page was out of date"),
    ],
)
def test_status_change_that_cannot_apply_says_why(lead_client, purchase, data, message, activity):
    activity.mark()
    response = lead_client.post(status_url(purchase), data, follow=True)

    assert response.status_code == 200
    assert message in response.text
    purchase.refresh_from_db()
    assert (purchase.status, purchase.version) == ("active", 1)
    activity.none()


def test_status_change_with_htmx_reloads_with_a_toast(lead_client, purchase, htmx_headers):
    response = lead_client.post(
        status_url(purchase), {"status": "deprecated", "version": "1"}, **htmx_headers
    )

    assert response["HX-Redirect"] == detail_url(purchase)
    assert json.loads(response["HX-Trigger"])["toast"]["message"] == "Purchase deprecated."


# --- the starter template ------------------------------------------------------------------


def test_apply_the_starter_template_then_again(lead_client, lead, brand, activity):
    activity.mark()
    response = lead_client.post(template_url(brand), follow=True)

    count = len(META_STANDARD_EVENTS)
    assert f"Added {count} events from the Meta starter template, as drafts." in response.text
    assert EventDefinition.objects.filter(brand=brand, status="draft").count() == count
    rows = activity.new()
    assert [row.verb for row in rows].count("event.created") == count
    assert rows[-1].verb == "plan.template_applied"

    response = lead_client.post(template_url(brand), follow=True)

    assert "already has every event of the Meta starter template" in response.text
    assert EventDefinition.objects.filter(brand=brand).count() == count
    activity.none()


def test_apply_the_template_with_htmx(lead_client, brand, htmx_headers):
    EventDefinitionFactory(brand=brand, name="purchase")  # already there, by name
    response = lead_client.post(template_url(brand), **htmx_headers)

    assert response["HX-Redirect"] == plan_url(brand)
    message = json.loads(response["HX-Trigger"])["toast"]["message"]
    assert (
        message
        == f"Added {len(META_STANDARD_EVENTS) - 1} events from the Meta starter template, as drafts."
    )


# --- query counts ---------------------------------------------------------------------------


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def _event(brand, n: int):
    return EventDefinitionFactory(
        brand=brand,
        name=f"Event{n:03d}",
        content={
            "parameters": [{"name": "value", "type": "number"}],
            "mappings": [
                {"platform": "meta", "target": f"Custom{n:03d}", "custom": True},
                {"platform": "google", "target": f"conv_{n}"},
            ],
        },
    )


def test_plan_list_queries_do_not_grow_with_events(
    lead_client, brand, settings, django_assert_max_num_queries
):
    settings.KOASTOPS_PAGE_SIZE = 50
    _event(brand, 0)
    one = _queries(lead_client, plan_url(brand))
    filtered = _queries(lead_client, plan_url(brand, status="active", platform="meta", q="Event"))
    for n in range(1, 50):
        _event(brand, n)

    with django_assert_max_num_queries(one):
        html = lead_client.get(plan_url(brand)).text
    assert html.count("<tr>") == 51  # header + 50 rows
    with django_assert_max_num_queries(filtered):
        lead_client.get(plan_url(brand, status="active", platform="meta", q="Event"))


def test_event_detail_and_diff_queries_do_not_grow_with_revisions_or_events(
    lead_client, lead, brand, django_assert_max_num_queries
):
    event = services.event_create(user=lead, brand=brand, content=PURCHASE)
    one_detail = _queries(lead_client, detail_url(event))
    one_diff = _queries(lead_client, diff_url(event))
    for n in range(29):
        services.event_update(
            user=lead,
            event=event,
            content={**PURCHASE, "owner": f"Team {n}"},
            expected_version=n + 1,
        )
    for n in range(49):
        _event(brand, n)
    assert EventRevision.objects.filter(event=event).count() == 30

    with django_assert_max_num_queries(one_detail):
        html = lead_client.get(detail_url(event)).text
    assert "Compare with version 29" in html
    with django_assert_max_num_queries(one_diff):
        lead_client.get(diff_url(event))
    with django_assert_max_num_queries(one_diff):
        lead_client.get(diff_url(event), {"from": "3", "to": "27"})


# --- the activity feed -----------------------------------------------------------------------


def test_activity_rows_about_an_event_link_to_its_page(lead_client, brand, purchase):
    html = lead_client.get(reverse("activity:list", args=[brand.slug])).text

    assert f'<a href="{detail_url(purchase)}"><strong>Purchase</strong></a>' in html


# --- who sees which event names -------------------------------------------------------------

OWN_MARKER = "ZqOwnPlanMarker"


@pytest.mark.parametrize(
    ("principal", "sees_own", "sees_foreign"),
    [
        ("admin", True, True),
        ("ops_lead", True, False),
        ("media_buyer", True, False),
        ("analyst", True, False),
        ("legal_reviewer", True, False),
        ("foreign_ops_lead", False, True),
        ("outsider", False, False),
    ],
)
def test_each_principal_sees_exactly_the_event_names_it_may(
    brand, foreign_brand, foreign_event, principal, sees_own, sees_foreign
):
    from tests.factories import AdminFactory

    own_event = EventDefinitionFactory(brand=brand, name=OWN_MARKER)
    if principal == "admin":
        user = AdminFactory()
    elif principal == "outsider":
        user = UserFactory(email="nobody@example.com")
    elif principal == "foreign_ops_lead":
        user = member(foreign_brand, Role.OPS_LEAD, "foreign.lead@example.com")
    else:
        user = member(brand, Role(principal))
    client = client_for(user)
    seen: set[str] = set()
    for event in (own_event, foreign_event):
        for url in (plan_url(event.brand), detail_url(event), diff_url(event)):
            response = client.get(url)
            assert response.status_code in (200, 404), url
            seen |= {m for m in (OWN_MARKER, FOREIGN_MARKER) if m in response.text}
        # The other brand's pages under this brand's slug never name it either.
        other = foreign_brand if event.brand == brand else brand
        response = client.get(reverse("taxonomy:event_detail", args=[other.slug, event.pk]))
        assert response.status_code == 404
    assert seen == {
        m for m, shown in ((OWN_MARKER, sees_own), (FOREIGN_MARKER, sees_foreign)) if shown
    }
