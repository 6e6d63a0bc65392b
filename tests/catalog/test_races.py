"""Concurrent writes on PostgreSQL: threads released together by a barrier, each on its own
database connection, repeated. Two edits based on the same version end with exactly one
saved and one refused as stale, and exactly one activity row.

SQLite serialises whole-database writes and ignores ``select_for_update``, so the race
this guards against cannot be staged there."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections

from koastops.activity.models import ActivityEntry
from koastops.catalog import services
from koastops.catalog.models import AdAccount, CatalogStatus
from koastops.core.exceptions import StaleVersion
from tests.factories import AdAccountFactory, AdminFactory, BrandFactory

ROUNDS = 200


@pytest.fixture
def postgresql_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("Row locks and concurrent transactions need PostgreSQL (SQLite serialises).")


def race(*calls: Callable[[], Any]) -> list[Any]:
    """Run the calls at once, one thread and one connection each; their results (or the
    exceptions they raised), in call order."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(index: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout=10)
            results[index] = call()
        except Exception as exc:  # the outcome under test
            results[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=item) for item in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


@pytest.mark.django_db(transaction=True)
def test_concurrent_edits_of_one_version_save_one_and_refuse_the_other(postgresql_only):
    admin = AdminFactory()
    ad_account = AdAccountFactory(brand=BrandFactory(), name="Start")
    for round_ in range(ROUNDS):
        version = round_ + 1
        # Each editor holds its own copy, read at the same version (as two open forms do).
        copies = [AdAccount.objects.get(pk=ad_account.pk) for _ in range(2)]
        results = race(
            *(
                functools.partial(
                    services.ad_account_update,
                    user=admin,
                    ad_account=copy,
                    expected_version=version,
                    name=f"Round {round_} by {side}",
                )
                for copy, side in zip(copies, "ab", strict=True)
            )
        )
        saved = [r for r in results if isinstance(r, AdAccount)]
        stale = [r for r in results if isinstance(r, StaleVersion)]
        assert (len(saved), len(stale)) == (1, 1), results
        assert (stale[0].expected_version, stale[0].current_version) == (version, version + 1)
        current = AdAccount.objects.get(pk=ad_account.pk)
        assert (current.name, current.version) == (saved[0].name, version + 1)
        assert ActivityEntry.objects.filter(verb="ad_account.updated").count() == version
    entries = ActivityEntry.objects.filter(verb="ad_account.updated").order_by("id")
    # Each row's "before" is the previous round's winner: read under the lock.
    names = ["Start", *(entry.after["name"] for entry in entries)]
    assert [entry.before["name"] for entry in entries] == names[:-1]


@pytest.mark.django_db(transaction=True)
def test_concurrent_archives_archive_once(postgresql_only):
    admin = AdminFactory()
    ad_account = AdAccountFactory(brand=BrandFactory())
    for round_ in range(ROUNDS // 8):
        copies = [AdAccount.objects.get(pk=ad_account.pk) for _ in range(2)]
        results = race(
            *(
                functools.partial(services.ad_account_archive, user=admin, ad_account=copy)
                for copy in copies
            )
        )
        assert sorted(type(r).__name__ for r in results) == ["AlreadyInState", "NoneType"]
        assert AdAccount.objects.get(pk=ad_account.pk).status == CatalogStatus.ARCHIVED
        services.ad_account_restore(user=admin, ad_account=ad_account)
        assert ActivityEntry.objects.filter(verb="ad_account.archived").count() == round_ + 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_creates_of_one_external_id_refuse_one_by_the_field(postgresql_only):
    admin = AdminFactory()
    brand = BrandFactory()
    for round_ in range(ROUNDS // 8):
        create = functools.partial(
            services.ad_account_create,
            user=admin,
            brand=brand,
            platform="meta",
            external_id=f"act_{1000 + round_}",
            name=f"Round {round_}",
            currency="EUR",
            time_zone="Europe/Berlin",
        )
        results = race(create, create)
        refused = [r for r in results if isinstance(r, ValidationError)]
        assert len(refused) == 1 and not [
            r for r in results if isinstance(r, Exception) and r not in refused
        ], results
        assert list(refused[0].message_dict) == ["external_id"]
        assert ActivityEntry.objects.filter(verb="ad_account.created").count() == round_ + 1
