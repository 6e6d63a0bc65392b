"""Concurrent review decisions on PostgreSQL: threads released together by a barrier, each
on its own connection, repeated (``ROUNDS``) on one launch reset between rounds.

- approve vs reject of the same launch at the same version: exactly one decision (one
  Review row, one activity row, the state matches it); the loser is refused with
  ``StaleVersion`` or ``WrongState`` and wrote nothing.
- edit vs approve: never an approved launch whose ``approved_hash`` differs from its
  ``content_hash``, and an approval only of the content the reviewer's page showed."""

from __future__ import annotations

import functools
from decimal import Decimal

import pytest
from django.db.models import F

from koastops.accounts import policies
from koastops.accounts.models import Role
from koastops.activity.models import ActivityEntry
from koastops.core.exceptions import StaleVersion
from koastops.launches import inputs, services
from koastops.launches.models import CheckRun, Launch, Review
from tests.catalog.test_races import postgresql_only, race  # noqa: F401  (a fixture)
from tests.factories import UserFactory
from tests.launches.review_support import in_review

ROUNDS = 200

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _markets() -> None:
    """A transactional test's flush empties the migration's reference markets: the
    launches need DE back."""
    from koastops.catalog.models import Market

    Market.objects.get_or_create(code="DE", defaults={"name": "Germany", "privacy_regime": "gdpr"})


def _lead(brand):
    lead = UserFactory()
    policies.grant_role(lead, brand, Role.OPS_LEAD)
    return lead


def _reset_to_review(launch_id: int) -> Launch:
    """Back in review on its current content (a new version, no approval), its run made
    on that content: the next round starts where a fresh submission would."""
    launch = Launch.objects.get(pk=launch_id)
    Launch.objects.filter(pk=launch_id).update(
        state="in_review",
        version=F("version") + 1,
        approved_hash="",
        approved_by=None,
        approved_at=None,
        review_requested=False,
    )
    CheckRun.objects.filter(pk=launch.current_run_id).update(content_hash=launch.content_hash)
    return Launch.objects.get(pk=launch_id)


def test_approve_vs_reject_makes_exactly_one_decision(postgresql_only):  # noqa: F811
    launch = in_review()
    first, second = _lead(launch.brand), _lead(launch.brand)
    outcomes = {"approved": 0, "rejected": 0}
    for _ in range(ROUNDS):
        current = _reset_to_review(launch.pk)
        version = current.version
        reviews_before = Review.objects.filter(launch=launch).count()
        decided_before = ActivityEntry.objects.filter(
            verb__in=["launch.approved", "launch.rejected"]
        ).count()
        results = race(
            functools.partial(
                services.launch_approve,
                user=first,
                launch=Launch.objects.get(pk=launch.pk),
                expected_version=version,
            ),
            functools.partial(
                services.launch_reject,
                user=second,
                launch=Launch.objects.get(pk=launch.pk),
                expected_version=version,
                comment="Not this week.",
            ),
        )
        won = [r for r in results if isinstance(r, Review)]
        lost = [r for r in results if isinstance(r, StaleVersion | services.WrongState)]
        assert (len(won), len(lost)) == (1, 1), results
        after = Launch.objects.get(pk=launch.pk)
        assert Review.objects.filter(launch=launch).count() == reviews_before + 1
        assert (
            ActivityEntry.objects.filter(verb__in=["launch.approved", "launch.rejected"]).count()
            == decided_before + 1
        )
        decision = won[0].decision
        assert after.state == decision
        assert after.version == version + 1
        assert (after.approved_hash == after.content_hash) == (decision == "approved")
        outcomes[decision] += 1
    print(f"approve vs reject over {ROUNDS} rounds: {outcomes}")


def test_edit_vs_approve_never_approves_content_nobody_reviewed(postgresql_only):  # noqa: F811
    launch = in_review()
    buyer, lead = launch.created_by, _lead(launch.brand)
    outcomes = {"approved": 0, "edited": 0}
    base = inputs.as_data(Launch.objects.get(pk=launch.pk))  # only the budget changes
    for round_ in range(ROUNDS):
        current = _reset_to_review(launch.pk)
        # What the reviewer's page was rendered on.
        seen_version, seen_hash = current.version, current.content_hash
        data = {**base, "budget_amount": f"{Decimal(100 + round_):.2f}"}
        results = race(
            functools.partial(
                services.launch_update,
                user=buyer,
                launch=Launch.objects.get(pk=launch.pk),
                data=data,
                expected_version=seen_version,
            ),
            functools.partial(
                services.launch_approve,
                user=lead,
                launch=Launch.objects.get(pk=launch.pk),
                expected_version=seen_version,
            ),
        )
        edit, approval = results
        after = Launch.objects.get(pk=launch.pk)
        if isinstance(approval, Review):
            assert isinstance(edit, StaleVersion), results
            assert after.state == "approved"
            assert after.approved_hash == after.content_hash == seen_hash == approval.content_hash
            outcomes["approved"] += 1
        else:
            assert isinstance(approval, StaleVersion | services.WrongState), results
            assert isinstance(edit, Launch), results
            assert after.state == "draft" and after.approved_hash == ""
            assert after.content_hash != seen_hash
            outcomes["edited"] += 1
        assert after.state != "approved" or after.approved_hash == after.content_hash
    print(f"edit vs approve over {ROUNDS} rounds: {outcomes}")
