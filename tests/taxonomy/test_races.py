"""Concurrent tracking-plan and naming-rule writes on PostgreSQL (threads released together,
one connection each, repeated): two edits based on one version save one and refuse the
other as stale; two creates of one name save one and refuse the other by the field; two
first saves of a brand's rule save one. Exactly one activity row per saved change."""

from __future__ import annotations

import functools

import pytest
from django.core.exceptions import ValidationError

from koastops.activity.models import ActivityEntry
from koastops.core.exceptions import StaleVersion
from koastops.taxonomy import services
from koastops.taxonomy.models import EventDefinition, EventRevision, NamingRule, TrackingPlan
from tests.catalog.test_races import ROUNDS, postgresql_only, race  # noqa: F401
from tests.factories import AdminFactory, BrandFactory, NamingRuleFactory

BASE = {"name": "Lead", "status": "active", "sources": "browser"}


@pytest.mark.django_db(transaction=True)
def test_concurrent_edits_of_one_event_version_save_one(postgresql_only):  # noqa: F811
    admin = AdminFactory()
    brand = BrandFactory()
    event = services.event_create(user=admin, brand=brand, content=BASE)
    for round_ in range(ROUNDS // 2):
        version = round_ + 1
        copies = [EventDefinition.objects.get(pk=event.pk) for _ in range(2)]
        results = race(
            *(
                functools.partial(
                    services.event_update,
                    user=admin,
                    event=copy,
                    content={**BASE, "owner": f"Round {round_} by {side}"},
                    expected_version=version,
                )
                for copy, side in zip(copies, "ab", strict=True)
            )
        )
        saved = [r for r in results if isinstance(r, EventDefinition)]
        stale = [r for r in results if isinstance(r, StaleVersion)]
        assert (len(saved), len(stale)) == (1, 1), results
        current = EventDefinition.objects.get(pk=event.pk)
        assert (current.owner, current.version) == (saved[0].owner, version + 1)
        assert ActivityEntry.objects.filter(verb="event.updated").count() == version
        assert EventRevision.objects.filter(event=event).count() == version + 1
    assert TrackingPlan.objects.get(brand=brand).version == ROUNDS // 2 + 2


@pytest.mark.django_db(transaction=True)
def test_concurrent_creates_of_one_name_refuse_one_by_the_field(postgresql_only):  # noqa: F811
    admin = AdminFactory()
    for round_ in range(ROUNDS // 8):
        brand = BrandFactory()  # a fresh plan too: its row is created by the race
        create = functools.partial(
            services.event_create, user=admin, brand=brand, content={**BASE, "name": "Lead"}
        )
        results = race(create, create)
        refused = [r for r in results if isinstance(r, ValidationError)]
        assert len(refused) == 1 and isinstance(
            next(r for r in results if r not in refused), EventDefinition
        ), results
        assert list(refused[0].message_dict) == ["name"]
        assert EventDefinition.objects.filter(brand=brand).count() == 1
        assert ActivityEntry.objects.filter(verb="event.created").count() == round_ + 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_first_saves_of_a_brand_rule_save_one(postgresql_only):  # noqa: F811
    admin = AdminFactory()
    spec = NamingRuleFactory.build().spec
    for round_ in range(ROUNDS // 8):
        brand = BrandFactory()
        save = functools.partial(
            services.naming_rule_save,
            user=admin,
            brand=brand,
            level="campaign",
            spec=spec,
            expected_version=None,
        )
        results = race(save, save)
        assert sorted(type(r).__name__ for r in results) == ["NamingRule", "StaleVersion"], results
        assert NamingRule.objects.filter(brand=brand).count() == 1
        assert ActivityEntry.objects.filter(verb="naming_rule.saved").count() == round_ + 1
