"""Concurrent writers and checkpoints on PostgreSQL: the advisory lock keeps one linear
chain, and every checkpoint taken meanwhile describes a prefix that verifies."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction

from koastops.activity.models import ActivityEntry
from koastops.activity.services import activity_checkpoint_write, activity_record, activity_verify

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="concurrent writers need PostgreSQL"
)

WRITERS = 4
ROWS_EACH = 10


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_and_checkpoints_keep_one_verifiable_chain(
    admin_user, brand, checkpoint_dir
):
    start = threading.Barrier(WRITERS + 1)
    errors: list[BaseException] = []

    def run(work) -> None:
        try:
            start.wait(timeout=10)
            work()
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    def write(n: int) -> None:
        for i in range(ROWS_EACH):
            with transaction.atomic():
                activity_record(
                    verb="brand.updated",
                    actor=admin_user,
                    target=brand,
                    brand=brand,
                    after={"writer": n, "i": i},
                )

    def checkpoint() -> None:
        for _ in range(ROWS_EACH * 2):
            activity_checkpoint_write()

    threads = [threading.Thread(target=run, args=(lambda n=n: write(n),)) for n in range(WRITERS)]
    threads.append(threading.Thread(target=run, args=(checkpoint,)))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    activity_checkpoint_write()  # the final head, too

    assert ActivityEntry.objects.count() == WRITERS * ROWS_EACH
    prev_hashes = list(ActivityEntry.objects.values_list("prev_hash", flat=True))
    assert len(set(prev_hashes)) == len(prev_hashes), "two rows chained onto the same row"
    result = activity_verify()
    assert (result.ok, result.checked) == (True, WRITERS * ROWS_EACH), result.problem
    assert result.checkpoints == len(list(checkpoint_dir.iterdir())) >= 1
