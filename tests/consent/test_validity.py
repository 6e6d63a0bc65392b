"""The validity rule, exhaustively: every combination of the config's hash, the latest
decision (approved / rejected, on this hash or another) and its expiry, around every
boundary (expired at ``now`` exactly, expiring up to 30 days exactly). The expected
status comes from the table below, written out by hand, not from the code under test.
``selectors.with_status`` (the SQL rule every list uses) must give the same answers on
real rows."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from koastops.consent.content import Decision, is_valid, review_status
from koastops.consent.models import ConsentConfig
from koastops.consent.selectors import with_status
from tests.factories import BrandFactory, ConsentConfigFactory, ConsentSignOffFactory, _market

H1 = "1" * 64
H2 = "2" * 64

HASHES = {"none": None, "empty": "", "h1": H1}
LATEST = {
    "no decision": None,
    "approved h1": ("approved", H1),
    "approved h2": ("approved", H2),
    "rejected h1": ("rejected", H1),
    "rejected h2": ("rejected", H2),
}
EXPIRIES = {
    "no expiry": None,
    "past": -timedelta(days=1),
    "now exactly": timedelta(0),
    "now + 1s": timedelta(seconds=1),
    "now + 29d": timedelta(days=29),
    "now + 30d exactly": timedelta(days=30),
    "now + 31d": timedelta(days=31),
    "far": timedelta(days=3650),
}

# An approval of the current content, by its expiry: expired at or before now, expiring
# while within 30 days (30 days exactly included), signed after that.
APPROVED_CURRENT = {
    "no expiry": "expired",
    "past": "expired",
    "now exactly": "expired",
    "now + 1s": "expiring",
    "now + 29d": "expiring",
    "now + 30d exactly": "expiring",
    "now + 31d": "signed",
    "far": "signed",
}
# Everything else does not depend on the expiry.
BY_HASH_AND_LATEST = {
    ("none", "no decision"): "not_configured",
    ("none", "approved h1"): "not_configured",
    ("none", "approved h2"): "not_configured",
    ("none", "rejected h1"): "not_configured",
    ("none", "rejected h2"): "not_configured",
    ("empty", "no decision"): "not_configured",
    ("empty", "approved h1"): "not_configured",
    ("empty", "approved h2"): "not_configured",
    ("empty", "rejected h1"): "not_configured",
    ("empty", "rejected h2"): "not_configured",
    ("h1", "no decision"): "never_reviewed",
    ("h1", "approved h2"): "changed",
    ("h1", "rejected h1"): "rejected",
    ("h1", "rejected h2"): "changed",
}

CASES = list(itertools.product(HASHES, LATEST, EXPIRIES))

# Two instants: one with microseconds, one on a whole second (SQLite stores the two
# differently as text, so the comparisons at "now exactly" are checked for both).
NOWS = [
    datetime(2026, 12, 1, 14, 25, 6, 123456, tzinfo=UTC),
    datetime(2026, 12, 1, 14, 25, 6, tzinfo=UTC),
]


def expected(hash_key: str, latest_key: str, expiry_key: str) -> str:
    if (hash_key, latest_key) == ("h1", "approved h1"):
        return APPROVED_CURRENT[expiry_key]
    return BY_HASH_AND_LATEST[(hash_key, latest_key)]


def test_the_table_covers_every_case():
    assert len(CASES) == 3 * 5 * 8
    assert {expected(*case) for case in CASES} == {
        "not_configured",
        "never_reviewed",
        "changed",
        "rejected",
        "expired",
        "expiring",
        "signed",
    }


@pytest.mark.parametrize("now", NOWS, ids=["microseconds", "whole-second"])
@pytest.mark.parametrize(("hash_key", "latest_key", "expiry_key"), CASES)
def test_review_status(hash_key, latest_key, expiry_key, now):
    offset = EXPIRIES[expiry_key]
    latest = LATEST[latest_key]
    decision = (
        None
        if latest is None
        else Decision(latest[0], latest[1], None if offset is None else now + offset)
    )
    status = review_status(HASHES[hash_key], decision, now)
    assert status == expected(hash_key, latest_key, expiry_key)
    assert is_valid(status) == (status in ("signed", "expiring"))


def test_only_signed_and_expiring_are_valid():
    assert [s for s in ("signed", "expiring") if is_valid(s)] == ["signed", "expiring"]
    for status in ("changed", "expired", "rejected", "never_reviewed", "not_configured"):
        assert not is_valid(status)


@pytest.mark.parametrize("now", NOWS, ids=["microseconds", "whole-second"])
def test_the_sql_rule_agrees_with_review_status_on_real_rows(db, now):
    market = _market("DE", "gdpr")
    rows: dict[int, tuple[str, str, str]] = {}
    for hash_key, latest_key, expiry_key in CASES:
        if hash_key == "none":
            continue  # the column is NOT NULL: no hash is the empty string in the database
        offset = EXPIRIES[expiry_key]
        expires_at = None if offset is None else now + offset
        config = ConsentConfigFactory(
            brand=BrandFactory(), market=market, content_hash=HASHES[hash_key]
        )
        latest = LATEST[latest_key]
        if latest is None:
            # Noise on the copied columns: without a sign-off they must not matter.
            ConsentConfig.objects.filter(pk=config.pk).update(expires_at=expires_at)
        else:
            ConsentSignOffFactory(
                config=config,
                decision=latest[0],
                content_hash=latest[1],
                decided_at=now - timedelta(days=400),
                expires_at=expires_at,
            )
        rows[config.pk] = (hash_key, latest_key, expiry_key)

    assert len(rows) == 2 * 5 * 8
    statuses = dict(
        with_status(ConsentConfig.objects.filter(pk__in=rows), now).values_list("pk", "status")
    )
    mismatches = {
        rows[pk]: (statuses[pk], expected(*rows[pk]))
        for pk in rows
        if statuses[pk] != expected(*rows[pk])
    }
    assert mismatches == {}

    # And review_status, fed from the same rows, agrees too.
    for config in ConsentConfig.objects.filter(pk__in=rows).select_related("last_signoff"):
        last = config.last_signoff
        decision = Decision(last.decision, last.content_hash, last.expires_at) if last else None
        assert review_status(config.content_hash, decision, now) == statuses[config.pk]


def test_with_status_defaults_to_the_current_time(db):
    config = ConsentConfigFactory()
    ConsentSignOffFactory(config=config)  # approved, expiring in 365 days
    assert with_status(ConsentConfig.objects.filter(pk=config.pk)).get().status == "signed"
