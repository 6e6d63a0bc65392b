"""Concurrent member writes on PostgreSQL: threads released together by a barrier, each on
its own connection, repeated. The user-row lock serialises writes about one user, the
membership's unique key allows one role per brand, and the ops-lead rows locked by the
services keep the last ops lead from being removed by two people at once."""

from __future__ import annotations

import itertools
import queue
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections

from koastops.accounts import policies, services
from koastops.accounts.models import BrandUserObjectPermission, Membership, Role, User
from koastops.activity.models import ActivityEntry
from tests.factories import BrandFactory, UserFactory

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="SQLite has no row locks and serialises every write: nothing to race.",
    ),
]

ROUNDS = 200
GRANTED = [Role.MEDIA_BUYER, Role.ANALYST, Role.LEGAL_REVIEWER, Role.OPS_LEAD]


class Racers:
    """Worker threads, each with its own database connection kept across rounds (a new
    connection per thread and round would make the test measure connection set-up).
    ``race`` hands each worker one call, releases all of them at once with a barrier and
    returns each call's result, or the exception it raised."""

    def __init__(self, count: int) -> None:
        self.barrier = threading.Barrier(count)
        self.inboxes: list[queue.Queue[Callable[[], Any] | None]] = [
            queue.Queue() for _ in range(count)
        ]
        self.outbox: queue.Queue[tuple[int, Any]] = queue.Queue()
        self.threads = [
            threading.Thread(target=self._work, args=(index,), daemon=True)
            for index in range(count)
        ]
        for thread in self.threads:
            thread.start()

    def _work(self, index: int) -> None:
        try:
            while (call := self.inboxes[index].get()) is not None:
                try:
                    self.barrier.wait(timeout=30)
                    result = call()
                except Exception as exc:  # handed to the test to assert on
                    result = exc
                self.outbox.put((index, result))
        finally:
            connections.close_all()

    def race(self, calls: list[Callable[[], Any]]) -> list[Any]:
        assert len(calls) == len(self.inboxes)
        for inbox, call in zip(self.inboxes, calls, strict=True):
            inbox.put(call)
        results: list[Any] = [None] * len(calls)
        for _ in calls:
            index, result = self.outbox.get(timeout=60)  # queue.Empty: a hung worker
            results[index] = result
        return results

    def stop(self) -> None:
        for inbox in self.inboxes:
            inbox.put(None)
        for thread in self.threads:
            thread.join(timeout=30)


@pytest.fixture
def racers() -> Iterator[Callable[[int], Racers]]:
    started: list[Racers] = []

    def start(count: int) -> Racers:
        started.append(Racers(count))
        return started[-1]

    yield start
    for pool in started:
        pool.stop()


def test_concurrent_grants_of_different_roles_end_with_exactly_one_role(racers):
    pool = racers(len(GRANTED))
    brand = BrandFactory()
    lead = UserFactory(email="race-lead@example.com")
    policies.grant_role(lead, brand, Role.OPS_LEAD)
    members = User.objects.bulk_create(
        User(email=f"race-{number}@example.com", password="!") for number in range(ROUNDS)
    )
    for member in members:
        results = pool.race(
            [
                lambda role=role, member=member: services.member_grant_role(
                    actor=lead, brand=brand, user=member, role=role
                )
                for role in GRANTED
            ]
        )
        assert results == [None] * len(GRANTED), results

    # Checked once for every round (a few queries, not a few per round).
    member_ids = {member.pk for member in members}
    memberships = dict(
        Membership.objects.filter(user_id__in=member_ids).values_list("user_id", "role")
    )
    assert len(memberships) == ROUNDS  # and the unique key: at most one per member
    grants: dict[int, list[str]] = {}
    for user_id, codename in BrandUserObjectPermission.objects.filter(
        user_id__in=member_ids, permission__codename__startswith="role_"
    ).values_list("user_id", "permission__codename"):
        grants.setdefault(user_id, []).append(codename)
    assert grants == {user_id: [f"role_{role}"] for user_id, role in memberships.items()}
    rows_by_member: dict[str, list[tuple[str, dict, dict]]] = {}
    for target_id, verb, before, after in (
        ActivityEntry.objects.filter(target_id__in=[str(pk) for pk in member_ids])
        .order_by("id")
        .values_list("target_id", "verb", "before", "after")
    ):
        rows_by_member.setdefault(target_id, []).append((verb, before, after))
    for user_id, role in memberships.items():
        rows = rows_by_member[str(user_id)]
        # One row per change, each starting where the previous one ended, the last one
        # naming the role that stayed.
        assert [verb for verb, _, _ in rows] == ["member.role_granted"] + [
            "member.role_changed"
        ] * (len(GRANTED) - 1)
        assert rows[0][1] == {"role": None}
        for (_, _, previous_after), (_, before, _) in itertools.pairwise(rows):
            assert before == previous_after
        assert rows[-1][2] == {"role": role}
        assert sorted(after["role"] for _, _, after in rows) == sorted(GRANTED)


def test_two_ops_leads_stepping_down_at_once_leave_the_brand_with_one(racers):
    pool = racers(2)
    first = UserFactory(email="lead-a@example.com")
    second = UserFactory(email="lead-b@example.com")
    brands = []
    for _ in range(ROUNDS):
        brand = BrandFactory()
        brands.append(brand)
        policies.grant_role(first, brand, Role.OPS_LEAD)
        policies.grant_role(second, brand, Role.OPS_LEAD)
        results = pool.race(
            [
                lambda brand=brand: services.member_revoke_role(
                    actor=first, brand=brand, user=first
                ),
                lambda brand=brand: services.member_grant_role(
                    actor=second, brand=brand, user=second, role=Role.ANALYST
                ),
            ]
        )
        refused = [result for result in results if isinstance(result, ValidationError)]
        assert len(refused) == 1, results
        assert set(refused[0].message_dict) <= {"user", "role"}

    brand_ids = [brand.pk for brand in brands]
    leads = list(
        Membership.objects.filter(brand_id__in=brand_ids, role=Role.OPS_LEAD).values_list(
            "brand_id", flat=True
        )
    )
    assert sorted(leads) == sorted(brand_ids)  # exactly one ops lead left on each
    verbs: dict[int, list[str]] = {}
    for brand_id, verb in ActivityEntry.objects.filter(brand_id__in=brand_ids).values_list(
        "brand_id", "verb"
    ):
        verbs.setdefault(brand_id, []).append(verb)
    assert sorted(verbs) == sorted(brand_ids)
    for brand_verbs in verbs.values():
        assert brand_verbs in (["member.role_revoked"], ["member.role_changed"])


def test_two_ops_leads_inviting_the_same_new_address_at_once_make_one_user(racers):
    """The second insert of the same email waits for the first transaction and then hits
    the unique key: the loser takes the winner's user and only grants its role."""
    pool = racers(2)
    brand = BrandFactory()
    first = UserFactory(email="inviter-a@example.com")
    second = UserFactory(email="inviter-b@example.com")
    policies.grant_role(first, brand, Role.OPS_LEAD)
    policies.grant_role(second, brand, Role.OPS_LEAD)
    rounds = 50
    for number in range(rounds):
        email = f"new-{number}@example.com"
        results = pool.race(
            [
                lambda email=email, actor=actor, role=role: services.member_invite(
                    actor=actor, brand=brand, email=email, role=role
                )
                for actor, role in ((first, Role.ANALYST), (second, Role.MEDIA_BUYER))
            ]
        )
        assert all(isinstance(result, User) for result in results), results
        assert results[0].pk == results[1].pk

    invited = User.objects.filter(email__startswith="new-")
    assert invited.count() == rounds
    assert Membership.objects.filter(user__in=invited, brand=brand).count() == rounds
    assert (
        ActivityEntry.objects.filter(verb="member.invited", brand=brand).count() == rounds
    )  # one invitation (and one email) per address, by whoever committed first
