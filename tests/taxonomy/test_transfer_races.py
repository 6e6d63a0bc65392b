"""Concurrent imports on PostgreSQL (threads released by a barrier, each on its own
connection, repeated): two imports previewed against the same plan version, or an import
and an edit of one of its events, end with exactly one winner; the loser is refused as
stale and writes nothing."""

from __future__ import annotations

from collections import Counter

import pytest
from django.db import connection

from koastops.accounts import policies
from koastops.accounts.models import Role
from koastops.activity.models import ActivityEntry
from koastops.core.exceptions import StaleVersion
from koastops.taxonomy import selectors, services
from koastops.taxonomy.models import EventDefinition, EventRevision
from tests.accounts.test_member_races import racers  # noqa: F401 - the fixture
from tests.factories import BrandFactory, UserFactory

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="SQLite has no row locks and serialises every write: nothing to race.",
    ),
]

ROUNDS = 20


@pytest.fixture
def lead_and_brand():
    brand = BrandFactory()
    lead = UserFactory(email="race-lead@example.com")
    policies.grant_role(lead, brand, Role.OPS_LEAD)
    return lead, brand


def test_two_imports_of_one_preview_version_have_one_winner(racers, lead_and_brand):  # noqa: F811
    lead, brand = lead_and_brand
    pool = racers(2)
    for round_ in range(ROUNDS):
        version = selectors.plan_version(brand)
        results = pool.race(
            [
                lambda side=side, n=round_, plan=version: services.plan_import(
                    user=lead,
                    brand=brand,
                    contents=[
                        {"name": "Lead", "owner": f"{side}-{n}"},
                        {"name": f"E{side}{n}"},
                    ],
                    expected_plan_version=plan,
                )
                for side in ("a", "b")
            ]
        )
        kinds = Counter(type(result).__name__ for result in results)
        assert kinds == {"ImportOutcome": 1, "StaleVersion": 1}, results
        winner = "a" if isinstance(results[1], StaleVersion) else "b"
        loser = "b" if winner == "a" else "a"
        assert EventDefinition.objects.get(brand=brand, name="Lead").owner == f"{winner}-{round_}"
        assert EventDefinition.objects.filter(brand=brand, name=f"E{loser}{round_}").count() == 0
    assert ActivityEntry.objects.filter(verb="plan.imported", brand=brand).count() == ROUNDS
    lead_event = EventDefinition.objects.get(brand=brand, name="Lead")
    assert EventRevision.objects.filter(event=lead_event).count() == ROUNDS


def test_an_import_and_an_edit_of_its_event_have_one_winner(racers, lead_and_brand):  # noqa: F811
    lead, brand = lead_and_brand
    pool = racers(2)
    event = services.event_create(user=lead, brand=brand, content={"name": "Lead"})
    for round_ in range(ROUNDS):
        version = selectors.plan_version(brand)
        event.refresh_from_db()
        results = pool.race(
            [
                lambda n=round_, plan=version: services.plan_import(
                    user=lead,
                    brand=brand,
                    contents=[{"name": "Lead", "owner": f"import-{n}"}],
                    expected_plan_version=plan,
                ),
                lambda n=round_, current=event.version: services.event_update(
                    user=lead,
                    event=event,
                    content={"name": "Lead", "owner": f"edit-{n}"},
                    expected_version=current,
                ),
            ]
        )
        # The edit carries the event's version, the import the plan's: whichever locks the
        # plan second sees it moved on (the edit bumps the plan, the import the event).
        stale = [result for result in results if isinstance(result, StaleVersion)]
        assert len(stale) == 1, results
        owner = EventDefinition.objects.get(pk=event.pk).owner
        assert owner == (f"edit-{round_}" if stale[0] is results[0] else f"import-{round_}")
    revisions = EventRevision.objects.filter(event=event).count()
    assert revisions == ROUNDS + 1
