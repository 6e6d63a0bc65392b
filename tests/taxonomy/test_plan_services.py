"""Tracking-plan services: every write checks the policy, validates the whole content,
refuses a stale version, keeps a revision and writes one activity row; a refused write
changes nothing."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from koastops.accounts import policies
from koastops.accounts.models import Role
from koastops.core.exceptions import StaleVersion
from koastops.taxonomy import selectors, services
from koastops.taxonomy.content import ContentError, diff_events, parse_event
from koastops.taxonomy.models import EventDefinition, EventMapping, EventRevision
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PURCHASE = {
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


@pytest.fixture
def lead(brand):
    user = UserFactory(email="lead@example.com")
    policies.grant_role(user, brand, Role.OPS_LEAD)
    return user


def test_create_keeps_revision_mapping_and_one_activity_row(brand, lead, activity):
    activity.mark()
    event = services.event_create(user=lead, brand=brand, content=PURCHASE)
    assert event.version == 1
    assert event.content == parse_event(PURCHASE).to_dict()
    assert list(EventMapping.objects.filter(event=event).values_list("platform", "target")) == [
        ("meta", "Purchase")
    ]
    assert EventRevision.objects.get(event=event).version == 1
    entry = activity.one("event.created", actor=lead, brand=brand)
    assert entry.target_label == "Purchase"
    assert selectors.plan_version(brand) == 2


def test_update_refuses_a_stale_version_and_writes_nothing(brand, lead, activity):
    event = services.event_create(user=lead, brand=brand, content=PURCHASE)
    services.event_update(
        user=lead, event=event, content={**PURCHASE, "owner": "Data team"}, expected_version=1
    )
    activity.mark()
    with pytest.raises(StaleVersion):
        services.event_update(
            user=lead, event=event, content={**PURCHASE, "owner": "Someone"}, expected_version=1
        )
    activity.none()
    event.refresh_from_db()
    assert event.owner == "Data team"
    assert event.version == 2
    assert EventRevision.objects.filter(event=event).count() == 2


def test_an_edit_that_changes_nothing_writes_nothing(brand, lead, activity):
    event = services.event_create(user=lead, brand=brand, content=PURCHASE)
    activity.mark()
    services.event_update(user=lead, event=event, content=PURCHASE, expected_version=1)
    activity.none()
    assert EventDefinition.objects.get(pk=event.pk).version == 1


def test_invalid_content_is_refused_with_located_errors(brand, lead):
    bad = {**PURCHASE, "parameters": [{"name": "Value!", "type": "money"}]}
    with pytest.raises(ValidationError) as caught:
        services.event_create(user=lead, brand=brand, content=bad)
    assert set(caught.value.message_dict) >= {"parameters[0].name", "parameters[0].type"}
    assert not EventDefinition.objects.exists()


def test_duplicate_name_ignoring_case_is_refused_by_the_field(brand, lead):
    services.event_create(user=lead, brand=brand, content=PURCHASE)
    with pytest.raises(ValidationError) as caught:
        services.event_create(user=lead, brand=brand, content={**PURCHASE, "name": "purchase"})
    assert "name" in caught.value.message_dict


def test_media_buyer_may_not_edit(brand):
    buyer = UserFactory()
    policies.grant_role(buyer, brand, Role.MEDIA_BUYER)
    with pytest.raises(PermissionDenied):
        services.event_create(user=buyer, brand=brand, content=PURCHASE)


def test_status_change_and_already_in_state(brand, lead, activity):
    event = services.event_create(user=lead, brand=brand, content=PURCHASE)
    activity.mark()
    services.event_set_status(user=lead, event=event, status="deprecated", expected_version=1)
    activity.one("event.deprecated", actor=lead, brand=brand)
    with pytest.raises(services.AlreadyInState):
        services.event_set_status(user=lead, event=event, status="deprecated", expected_version=2)


def test_starter_template_adds_meta_standard_events_once(brand, lead, activity):
    added = services.plan_apply_template(user=lead, brand=brand)
    assert "Purchase" in added and "PageView" in added
    purchase = selectors.event_by_name(brand, "purchase")
    required = {p["name"] for p in purchase.content["parameters"] if p["required"]}
    assert required == {"value", "currency"}
    activity.mark()
    assert services.plan_apply_template(user=lead, brand=brand) == []
    activity.none()


def test_diff_is_readable():
    before = parse_event(PURCHASE).to_dict()
    after = parse_event(
        {**PURCHASE, "owner": "Data", "parameters": [*PURCHASE["parameters"][:1]], "mappings": []}
    ).to_dict()
    lines = {(c.where, c.kind) for c in diff_events(before, after)}
    assert ("Owner", "changed") in lines
    assert ("Parameter currency", "removed") in lines
    assert ("Meta mapping", "removed") in lines


@pytest.mark.parametrize(
    "data",
    [None, [], "x", {"name": 3}, {"name": "A", "parameters": "no"}, {"name": "A", "zzz": 1}],
)
def test_parse_event_refuses_junk_with_paths(data):
    with pytest.raises(ContentError) as caught:
        parse_event(data)
    assert caught.value.errors
