"""Drift computation (``koastops.taxonomy.drift``) and its "needs attention" provider
(``koastops.taxonomy.attention``): each kind is found, and is gone once fixed; the
brand's own event-name rule wins over the install default; constant queries."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, reverse

from koastops.accounts import policies
from koastops.accounts.models import Role
from koastops.dashboard import attention
from koastops.taxonomy import drift, services
from koastops.taxonomy.attention import clash_counts, drift_items
from koastops.taxonomy.models import EventDefinition
from tests.factories import BrandFactory, EventDefinitionFactory, NamingRuleFactory, UserFactory

pytestmark = pytest.mark.django_db


def meta(target: str, *params: str, custom: bool = False) -> dict[str, Any]:
    return {"platform": "meta", "target": target, "custom": custom, "parameters": list(params)}


def event(brand, name: str, *mappings: dict[str, Any], **content: Any) -> EventDefinition:
    return EventDefinitionFactory(
        brand=brand, name=name, content={"mappings": list(mappings), **content}
    )


VALUE_CURRENCY = [
    {"name": "value", "type": "number", "required": True},
    {"name": "currency", "type": "currency", "required": True},
]


def free_rule(*, charset: str = "alnum", max_length: int = 40) -> dict[str, Any]:
    return {
        "template": "{event}",
        "case": "any",
        "max_length": 50,
        "tokens": {
            "event": {
                "kind": "free",
                "min_length": 3,
                "max_length": max_length,
                "charset": charset,
            }
        },
    }


def kinds(brand) -> list[str]:
    return [item.kind for item in drift.drift_for(brand)]


@pytest.fixture
def lead(brand):
    user = UserFactory(email="drift.lead@example.com")
    policies.grant_role(user, brand, Role.OPS_LEAD)
    return user


# --- clashes ------------------------------------------------------------------------------


def test_two_events_sent_as_the_same_meta_event_clash(brand):
    lead_event = event(brand, "Lead", meta("Lead"))
    form = event(brand, "FormComplete", meta("Lead"))
    event(brand, "Purchase", meta("Purchase", "value", "currency"), parameters=VALUE_CURRENCY)

    [item] = drift.drift_for(brand)

    assert item.kind == "clash"
    assert item.tone == "failing"
    assert item.title == "Lead and FormComplete are both sent as Meta Lead"
    assert {e.pk for e in item.events} == {lead_event.pk, form.pk}
    assert item.action == "Map FormComplete to a custom event or merge it into Lead."


def test_a_clash_ignores_case_and_counts_custom_and_google_targets(brand):
    event(brand, "Signup", meta("Newsletter", custom=True))
    event(brand, "NewsletterSignup", meta("newsletter", custom=True))
    event(brand, "Order", {"platform": "google", "target": "Purchase"})
    event(brand, "Checkout", {"platform": "google", "target": "purchase"})
    event(brand, "Other", {"platform": "google", "target": "Lead"})

    items = drift.drift_for(brand)

    assert sorted(tuple(sorted(e.name for e in item.events)) for item in items) == [
        ("Checkout", "Order"),
        ("NewsletterSignup", "Signup"),
    ]
    google = next(item for item in items if "Google" in item.title)
    # No event is named like the conversion action: the oldest is the one to keep.
    assert google.action == (
        "Map Checkout to another Google conversion action or merge it into Order."
    )
    assert google.title == "Order and Checkout are both sent as Google Ads Purchase"


def test_three_events_on_one_platform_event_are_one_clash(brand):
    event(brand, "Signup", meta("CompleteRegistration"))
    event(brand, "CompleteRegistration", meta("CompleteRegistration"))
    event(brand, "AccountCreated", meta("CompleteRegistration"))

    [item] = drift.drift_for(brand)

    assert item.title == (
        "CompleteRegistration, AccountCreated and Signup are all sent as Meta CompleteRegistration"
    )
    assert item.action == (
        "Map AccountCreated and Signup to a custom event or merge them into CompleteRegistration."
    )
    assert [e.name for e in item.events] == ["CompleteRegistration", "AccountCreated", "Signup"]


def test_a_clash_is_gone_once_one_event_is_remapped(brand, lead):
    event(brand, "Lead", meta("Lead"))
    form = event(brand, "FormComplete", meta("Lead"))
    assert kinds(brand) == ["clash"]

    services.event_update(
        user=lead,
        event=form,
        content={**form.content, "mappings": [meta("FormComplete", custom=True)]},
        expected_version=form.version,
    )

    assert kinds(brand) == []


def test_a_deprecated_event_does_not_clash(brand, lead):
    event(brand, "Lead", meta("Lead"))
    form = event(brand, "FormComplete", meta("Lead"))

    services.event_set_status(
        user=lead, event=form, status="deprecated", expected_version=form.version
    )

    assert kinds(brand) == []


def test_another_brands_mappings_never_clash_with_this_brand(brand, foreign_brand):
    event(brand, "Lead", meta("Lead"))
    event(foreign_brand, "FormComplete", meta("Lead"))

    assert kinds(brand) == []
    assert kinds(foreign_brand) == []


# --- missing required Meta parameters -----------------------------------------------------


def test_purchase_without_currency_sent_is_missing_a_parameter(brand):
    event(brand, "Purchase", meta("Purchase", "value"), parameters=VALUE_CURRENCY)

    [item] = drift.drift_for(brand)

    assert item.kind == "missing_params"
    assert item.detail == "Meta requires currency and value with Purchase: currency is not sent."
    assert item.action == "On Purchase: send currency with the Meta mapping."


def test_purchase_with_optional_or_undefined_parameters_says_what_to_add(brand):
    event(
        brand,
        "Order",
        meta("Purchase", "value"),
        parameters=[{"name": "value", "type": "number", "required": False}],
    )

    [item] = drift.drift_for(brand)

    assert item.kind == "missing_params"
    assert "currency is not sent" in item.detail
    assert "value is defined as optional" in item.detail
    assert item.action == (
        "On Order: add currency (ISO 4217 currency) to the event, mark value as required "
        "and send currency with the Meta mapping."
    )


def test_missing_parameters_are_gone_once_fixed(brand, lead):
    purchase = event(brand, "Purchase", meta("Purchase"), parameters=VALUE_CURRENCY)
    assert kinds(brand) == ["missing_params"]

    services.event_update(
        user=lead,
        event=purchase,
        content={**purchase.content, "mappings": [meta("Purchase", "value", "currency")]},
        expected_version=purchase.version,
    )

    assert kinds(brand) == []


def test_events_without_required_meta_parameters_and_custom_events_are_fine(brand):
    event(brand, "Lead", meta("Lead"))
    event(brand, "Newsletter", meta("Newsletter", custom=True))
    event(brand, "Order", {"platform": "google", "target": "Purchase"})

    assert kinds(brand) == []


# --- the event-name rule ------------------------------------------------------------------


def test_a_name_the_default_rule_refuses_is_drift_with_the_engines_message(brand):
    NamingRuleFactory(brand=None, level="event_name", spec=free_rule())
    event(brand, "Form_Complete")
    event(brand, "FormComplete2")

    [item] = drift.drift_for(brand)

    assert item.kind == "name_rule"
    assert item.tone == "warning"
    assert [e.name for e in item.events] == ["Form_Complete"]
    assert (
        item.detail == "event: `Form_Complete` contains `_`; expected 3\u201340 letters or digits."
    )
    assert (
        item.action
        == "Rename Form_Complete to a name the rule accepts (3\u201340 letters or digits)."
    )


def test_the_brands_own_rule_wins_over_the_install_default(brand, foreign_brand):
    NamingRuleFactory(brand=None, level="event_name", spec=free_rule())
    NamingRuleFactory(brand=brand, level="event_name", spec=free_rule(charset="letters"))
    event(brand, "Purchase2")
    event(foreign_brand, "Purchase2")

    assert kinds(brand) == ["name_rule"]
    assert kinds(foreign_brand) == []  # the default allows digits


def test_a_suggestion_from_the_vocabulary_becomes_the_rename(brand):
    spec = {
        "template": "{event}",
        "case": "any",
        "max_length": 50,
        "tokens": {
            "event": {"kind": "vocabulary", "values": [{"value": "Purchase"}, {"value": "Lead"}]}
        },
    }
    NamingRuleFactory(brand=brand, level="event_name", spec=spec)
    event(brand, "Purchse")

    [item] = drift.drift_for(brand)

    assert "did you mean `Purchase`?" in item.detail
    assert item.action == "Rename Purchse to Purchase."


def test_a_suggestion_without_a_corrected_name_says_what_to_change(brand):
    spec = {
        "template": "{area}_{action}",
        "case": "any",
        "max_length": 50,
        "tokens": {
            "area": {"kind": "vocabulary", "values": [{"value": "web"}, {"value": "app"}]},
            "action": {"kind": "free", "min_length": 3, "max_length": 20, "charset": "letters"},
        },
    }
    NamingRuleFactory(brand=brand, level="event_name", spec=spec)
    event(brand, "wab_x1")

    [item] = drift.drift_for(brand)

    assert item.detail == "area: `wab` is not allowed; did you mean `web`? (and 1 more problem)"
    assert item.action == "Rename wab_x1: use web where it has wab."


def test_a_renamed_event_no_longer_breaks_the_rule(brand, lead):
    NamingRuleFactory(brand=brand, level="event_name", spec=free_rule())
    bad = event(brand, "Form_Complete")
    assert kinds(brand) == ["name_rule"]

    services.event_update(
        user=lead,
        event=bad,
        content={**bad.content, "name": "FormComplete"},
        expected_version=bad.version,
    )

    assert kinds(brand) == []


def test_without_an_event_name_rule_names_are_not_checked(brand):
    NamingRuleFactory(brand=brand, level="campaign")
    event(brand, "x_y")

    report = drift.drift_report(brand)

    assert report.items == []
    assert report.has_event_rule is False


def test_a_rule_the_engine_cannot_compile_is_skipped_not_raised(brand):
    NamingRuleFactory(brand=brand, level="event_name", spec={"template": 42})
    event(brand, "x_y")

    assert kinds(brand) == []


# --- deprecated events still referenced ---------------------------------------------------


@pytest.fixture
def reference_source(monkeypatch):
    uses: dict[str, int] = {}

    def launches(brand):
        return uses

    launches.noun = "launch"  # type: ignore[attr-defined]
    monkeypatch.setattr(drift, "REFERENCE_SOURCES", [launches])
    return uses


def test_nothing_references_events_while_no_source_is_registered(brand):
    event(brand, "OldLead", status="deprecated")

    assert drift.REFERENCE_SOURCES == []
    assert kinds(brand) == []
    assert "deprecated_referenced" not in [g.kind.key for g in drift.drift_groups([])]


def test_a_deprecated_event_a_source_still_uses_is_drift(brand, reference_source):
    old = event(brand, "OldLead", status="deprecated")
    event(brand, "Lead", status="active")
    reference_source.update({"oldlead": 3, "Lead": 2})

    [item] = drift.drift_for(brand)

    assert item.kind == "deprecated_referenced"
    assert [e.pk for e in item.events] == [old.pk]
    assert item.detail == "Still referenced by 3 launches."
    assert "deprecated_referenced" in [g.kind.key for g in drift.drift_groups([item])]


def test_a_deprecated_event_nothing_uses_any_more_is_fine(brand, reference_source):
    event(brand, "OldLead", status="deprecated")
    reference_source.update({"OldLead": 0, "Other": 4})

    assert kinds(brand) == []


# --- the answer as a whole ----------------------------------------------------------------


def test_items_come_in_kind_order_with_links_to_the_event_pages(brand):
    NamingRuleFactory(brand=brand, level="event_name", spec=free_rule())
    bad = event(brand, "bad_name")
    event(brand, "Purchase", meta("Purchase"), parameters=VALUE_CURRENCY)
    event(brand, "Lead", meta("Lead"))
    event(brand, "FormComplete", meta("Lead"))

    items = drift.drift_for(brand)

    assert [item.kind for item in items] == ["clash", "missing_params", "name_rule"]
    [ref] = items[-1].events
    try:
        expected = reverse("taxonomy:event_detail", kwargs={"slug": brand.slug, "pk": bad.pk})
    except NoReverseMatch:  # the event pages are another part of the feature
        expected = None
    assert ref.url == expected


def test_drift_reads_two_queries_for_1_or_50_events(brand):
    NamingRuleFactory(brand=None, level="event_name", spec=free_rule())

    def count() -> int:
        with CaptureQueriesContext(connection) as captured:
            drift.drift_for(brand)
        return len(captured)

    event(brand, "Lead", meta("Lead"))
    one = count()
    for n in range(49):
        event(brand, f"Event_{n}", meta("Lead"), parameters=VALUE_CURRENCY)

    assert one == count() == 2
    assert len(drift.drift_for(brand)) == 1 + 49  # one clash, 49 bad names


# --- needs attention ----------------------------------------------------------------------


def test_attention_counts_clashes_per_brand_in_one_query():
    brands = BrandFactory.create_batch(5)
    for brand in brands[:3]:
        event(brand, "Lead", meta("Lead"))
        event(brand, "FormComplete", meta("Lead"))
    event(brands[0], "Order", {"platform": "google", "target": "Sale"})
    event(brands[0], "Purchase", {"platform": "google", "target": "sale"})
    event(brands[0], "Old", meta("Lead"), status="deprecated")
    event(brands[3], "Lead", meta("Lead"))  # alone: no clash

    with CaptureQueriesContext(connection) as captured:
        items = list(drift_items(user=None, brands=brands, roles={}))

    assert len(captured) == 1
    assert {item.brand.pk: item.count for item in items} == {
        brands[0].pk: 2,
        brands[1].pk: 1,
        brands[2].pk: 1,
    }
    item = next(item for item in items if item.brand == brands[1])
    assert item.key == "taxonomy.drift_clashes"
    assert item.tone == "failing"
    assert item.href == reverse("taxonomy:drift", args=[brands[1].slug]) + "#clash"
    assert item.title == "1 platform event receives two tracking-plan events"


def test_attention_speaks_only_of_the_brands_it_is_given(brand, foreign_brand):
    for b in (brand, foreign_brand):
        event(b, "Lead", meta("Lead"))
        event(b, "FormComplete", meta("Lead"))

    items = list(drift_items(user=None, brands=[brand], roles={}))

    assert [item.brand for item in items] == [brand]
    assert clash_counts([]) == {}


def test_the_provider_is_registered_and_collected_for_a_role_user(brand):
    user = UserFactory()
    policies.grant_role(user, brand, Role.ANALYST)
    event(brand, "Lead", meta("Lead"))
    event(brand, "FormComplete", meta("Lead"))

    assert "taxonomy.drift" in attention.providers()
    items = attention.collect(user=user, brands=[brand], roles={brand.pk: Role.ANALYST})

    assert [item.key for item in items if item.key.startswith("taxonomy.")] == [
        "taxonomy.drift_clashes"
    ]


@pytest.mark.parametrize(
    "content",
    [
        {},
        {"mappings": "Lead"},
        {"mappings": [None, 3, {"platform": ["meta"], "target": {"x": 1}}]},
        {"mappings": [{"platform": "meta", "target": ["Purchase"], "parameters": 7}]},
        {
            "mappings": [{"platform": "meta", "target": "Purchase", "parameters": 7}],
            "parameters": 5,
        },
        {
            "parameters": [None, {"name": None}],
            "mappings": [{"platform": "meta", "target": "Lead"}],
        },
    ],
)
def test_content_written_around_the_services_never_breaks_drift(brand, content):
    """Rows are written by the services only; a hand-written one must not break the page."""
    NamingRuleFactory(brand=brand, level="event_name", spec=free_rule())
    EventDefinition.objects.create(brand=brand, name="Broken_Row", content=content)
    event(brand, "Lead", meta("Lead"))

    items = drift.drift_for(brand)

    assert "name_rule" in [item.kind for item in items]


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the statement is cached on PostgreSQL only"
)
def test_on_postgresql_the_clash_statement_is_compiled_once_and_answers_as_the_orm():
    from koastops.taxonomy import attention as taxonomy_attention

    brands = BrandFactory.create_batch(3)
    for brand in brands[:2]:
        event(brand, "Lead", meta("Lead"))
        event(brand, "FormComplete", meta("Lead"))
    ids = [brand.pk for brand in brands]

    first = clash_counts(ids)
    assert "default" in taxonomy_attention._COMPILED
    with CaptureQueriesContext(connection) as captured:
        again = clash_counts(ids[:1])

    assert first == {brands[0].pk: 1, brands[1].pk: 1}
    assert again == {brands[0].pk: 1}
    assert len(captured) == 1
    assert sorted(taxonomy_attention._clash_groups(ids)) == sorted(first)
