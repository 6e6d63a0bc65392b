"""The drift page (``taxonomy:drift``): every role of the brand reads it, a foreign brand
is 404 and its event names never show, items are grouped by kind with what to do next,
an empty plan says "No drift", and the page costs the same queries for 1 or 50 events."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from koastops.accounts import policies
from koastops.accounts.models import Role
from tests.factories import EventDefinitionFactory, NamingRuleFactory, UserFactory

pytestmark = pytest.mark.django_db


def meta(target: str, *params: str, custom: bool = False) -> dict[str, Any]:
    return {"platform": "meta", "target": target, "custom": custom, "parameters": list(params)}


def event(brand, name: str, *mappings: dict[str, Any], **content: Any):
    return EventDefinitionFactory(
        brand=brand, name=name, content={"mappings": list(mappings), **content}
    )


def client_for(brand, role: Role) -> Client:
    user = UserFactory(email=f"{role.value}.drift@example.com")
    policies.grant_role(user, brand, role)
    client = Client()
    client.force_login(user)
    return client


def url(brand) -> str:
    return reverse("taxonomy:drift", args=[brand.slug])


@pytest.fixture
def clash(brand):
    event(brand, "Lead", meta("Lead"))
    event(brand, "FormComplete", meta("Lead"))


@pytest.mark.parametrize("role", list(Role))
def test_every_role_reads_the_drift_page(brand, clash, role):
    response = client_for(brand, role).get(url(brand))

    assert response.status_code == 200
    html = response.content.decode()
    assert "Mapping clashes" in html
    assert "Lead and FormComplete are both sent as Meta Lead" in html
    assert "Map FormComplete to a custom event or merge it into Lead." in html
    assert 'id="clash"' in html
    # Readers are told who fixes it; ops leads are not.
    assert ("ops leads fix drift" in html) is (role != Role.OPS_LEAD)


def test_a_foreign_brand_is_404_and_its_names_never_show(brand, foreign_brand):
    event(foreign_brand, "ZqForeignLead", meta("Lead"))
    event(foreign_brand, "ZqForeignForm", meta("Lead"))
    event(brand, "Lead", meta("Lead"))
    event(brand, "FormComplete", meta("Lead"))
    client = client_for(brand, Role.OPS_LEAD)

    assert client.get(url(foreign_brand)).status_code == 404
    html = client.get(url(brand)).content.decode()
    assert "FormComplete" in html
    assert "ZqForeign" not in html


def test_outsider_gets_404_and_anonymous_is_sent_to_sign_in(brand, clash, outsider_client):
    assert outsider_client.get(url(brand)).status_code == 404
    response = Client().get(url(brand))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_admin_reads_any_brand(brand, clash, admin_client):
    assert admin_client.get(url(brand)).status_code == 200


def test_wrong_method_is_refused(brand, clash):
    assert client_for(brand, Role.OPS_LEAD).post(url(brand)).status_code == 405


def test_a_plan_without_events_says_so(brand):
    html = client_for(brand, Role.ANALYST).get(url(brand)).content.decode()

    assert "No events yet" in html
    assert "No drift" not in html


def test_a_plan_without_drift_says_no_drift(brand):
    event(brand, "Lead", meta("Lead"))

    html = client_for(brand, Role.ANALYST).get(url(brand)).content.decode()

    assert "No drift" in html
    assert "No event-name rule applies" in html
    assert 'id="clash"' not in html


def test_kinds_are_grouped_with_counts_and_stat_cards(brand, clash):
    NamingRuleFactory(
        brand=brand,
        level="event_name",
        spec={
            "template": "{event}",
            "case": "any",
            "max_length": 50,
            "tokens": {
                "event": {"kind": "free", "min_length": 3, "max_length": 40, "charset": "alnum"}
            },
        },
    )
    event(brand, "bad_name")
    event(
        brand,
        "Purchase",
        meta("Purchase", "value"),
        parameters=[
            {"name": "value", "type": "number", "required": True},
            {"name": "currency", "type": "currency", "required": True},
        ],
    )

    html = client_for(brand, Role.MEDIA_BUYER).get(url(brand)).content.decode()

    for heading in ("Mapping clashes", "Missing required parameters", "Names that break"):
        assert heading in html
    assert (
        html.index('id="clash"') < html.index('id="missing_params"') < html.index('id="name_rule"')
    )
    assert 'href="#clash"' in html
    assert "currency is not sent" in html
    assert "bad_name breaks the event-name rule" in html
    assert "No event-name rule applies" not in html
    # No source can reference events yet: that kind is not shown at all.
    assert "Deprecated events still in use" not in html


def test_htmx_gets_the_list_fragment(brand, clash, htmx_headers):
    response = client_for(brand, Role.ANALYST).get(url(brand), **htmx_headers)

    html = response.content.decode()
    assert html.lstrip().startswith('<div id="drift-list">')
    assert "<html" not in html


def test_junk_in_the_query_string_is_ignored(brand, clash):
    client = client_for(brand, Role.ANALYST)

    response = client.get(url(brand) + "?kind=%00&page=-1&q=" + "x" * 5000)

    assert response.status_code == 200
    assert "FormComplete" in response.content.decode()


def test_query_count_is_the_same_for_1_and_50_events(brand, django_assert_max_num_queries):
    client = client_for(brand, Role.OPS_LEAD)
    event(brand, "Lead", meta("Lead"))
    event(brand, "FormComplete", meta("Lead"))
    client.get(url(brand))  # warm-up: per-process caches

    with CaptureQueriesContext(connection) as one:
        assert client.get(url(brand)).status_code == 200
    for n in range(48):
        event(brand, f"Event{n}", meta("Lead"), parameters=[{"name": "value", "type": "number"}])

    with django_assert_max_num_queries(len(one)):
        response = client.get(url(brand))
    assert response.status_code == 200
    assert response.content.decode().count("Event4") >= 1


def test_the_start_page_and_overview_show_own_clashes_only(brand, foreign_brand):
    for b in (brand, foreign_brand):
        event(b, "Lead", meta("Lead"))
        event(b, "FormComplete", meta("Lead"))
    client = client_for(brand, Role.ANALYST)
    drift_url = url(brand) + "#clash"

    for page in (reverse("home"), reverse("catalog:brand_detail", args=[brand.slug])):
        html = client.get(page).content.decode()
        assert 'data-attention="taxonomy.drift_clashes"' in html, page
        assert f'href="{drift_url}"' in html, page
        assert url(foreign_brand) not in html, page
