"""Concurrent consent decisions on PostgreSQL (threads released together by a barrier,
one connection each, repeated): two legal reviewers deciding on the same state of a
config record exactly one decision and the other gets "already decided"; an ops lead's
edit racing a sign-off never leaves a valid sign-off on content nobody reviewed.

SQLite serialises whole-database writes and ignores ``select_for_update``, so these races
cannot be staged there."""

from __future__ import annotations

import functools
import itertools
import string
from collections import Counter

import pytest

from koastops.accounts import policies
from koastops.accounts.models import Role
from koastops.activity.models import ActivityEntry
from koastops.catalog.models import Market
from koastops.consent import services
from koastops.consent.content import defaults_for, is_valid
from koastops.consent.models import ConsentConfig, ConsentSignOff
from koastops.consent.selectors import with_status
from koastops.core.exceptions import StaleVersion
from tests.catalog.test_races import ROUNDS, postgresql_only, race  # noqa: F401
from tests.factories import BrandFactory, ConsentConfigFactory, UserFactory, _market


def _status(config_id: int) -> str:
    return with_status(ConsentConfig.objects.filter(pk=config_id)).get().status


@pytest.fixture
def people():
    brand = BrandFactory()
    ops, legal_a, legal_b = UserFactory(), UserFactory(), UserFactory()
    policies.grant_role(ops, brand, Role.OPS_LEAD)
    policies.grant_role(legal_a, brand, Role.LEGAL_REVIEWER)
    policies.grant_role(legal_b, brand, Role.LEGAL_REVIEWER)
    return brand, ops, legal_a, legal_b


@pytest.mark.django_db(transaction=True)
def test_two_reviewers_deciding_at_once_record_exactly_one_decision(
    postgresql_only,  # noqa: F811
    people,
    enqueued,
):
    brand, ops, legal_a, legal_b = people
    market = _market("DE", "gdpr")
    brand.markets.add(market)
    content = defaults_for("gdpr", "DE")
    config = services.config_save(
        user=ops, brand=brand, market=market, content=content, expected_version=0
    )
    outcomes: Counter[str] = Counter()
    for round_ in range(ROUNDS):
        # Each round starts from a state that needs a decision: never reviewed (round 0),
        # then changed since the last decision (the ops lead's edit below).
        seen = ConsentConfig.objects.get(pk=config.pk)
        last_id = seen.last_signoff_id or 0
        # Half the rounds name the sign-off the page saw, half rely on the status alone.
        expected_last = last_id if round_ % 2 else None
        results = race(
            functools.partial(
                services.consent_decide,
                user=legal_a,
                config=ConsentConfig.objects.get(pk=config.pk),
                expected_hash=seen.content_hash,
                decision="approved",
                expected_last_signoff_id=expected_last,
            ),
            functools.partial(
                services.consent_decide,
                user=legal_b,
                config=ConsentConfig.objects.get(pk=config.pk),
                expected_hash=seen.content_hash,
                decision="rejected" if round_ % 3 else "approved",
                reasons=["gating"],
                expected_last_signoff_id=expected_last,
            ),
        )
        recorded = [r for r in results if isinstance(r, ConsentSignOff)]
        refused = [r for r in results if isinstance(r, services.AlreadyDecided)]
        assert (len(recorded), len(refused)) == (1, 1), results
        signoff = recorded[0]
        outcomes["a won" if signoff.reviewer_id == legal_a.pk else "b won"] += 1
        # The loser is told who decided (read after the lock, not from before the wait).
        assert refused[0].signoff == signoff, (refused[0].signoff, signoff)
        assert ConsentSignOff.objects.filter(config=config).count() == round_ + 1
        assert (signoff.sequence, signoff.content_hash) == (round_ + 1, seen.content_hash)
        current = ConsentConfig.objects.get(pk=config.pk)
        assert current.last_signoff_id == signoff.pk
        assert _status(config.pk) == ("signed" if signoff.decision == "approved" else "rejected")
        assert (
            ActivityEntry.objects.filter(verb__in=["consent.approved", "consent.rejected"]).count()
            == round_ + 1
        )
        # The next round's state: a content change (wait_for_update differs each round).
        content = {**content, "wait_for_update": round_ + 1}
        services.config_save(
            user=ops,
            brand=brand,
            market=market,
            content=content,
            expected_version=current.version,
        )
    print(f"\ntwo decisions at once, {ROUNDS} rounds: {dict(outcomes)}")
    assert outcomes["a won"] + outcomes["b won"] == ROUNDS


@pytest.mark.django_db(transaction=True)
def test_an_edit_racing_a_sign_off_never_leaves_unreviewed_content_valid(
    postgresql_only,  # noqa: F811
    people,
    enqueued,
):
    brand, ops, legal, _ = people
    # A fresh, never reviewed config per round: one brand, a market per round (test-only
    # codes; the brand runs in all of them).
    taken = set(Market.objects.values_list("code", flat=True))
    codes = [a + b for a, b in itertools.product(string.ascii_uppercase, repeat=2)]
    markets = Market.objects.bulk_create(
        Market(code=code, name=f"Race market {code}", privacy_regime="gdpr")
        for code in [code for code in codes if code not in taken][:ROUNDS]
    )
    brand.markets.add(*markets)
    outcomes: Counter[str] = Counter()
    for round_, market in enumerate(markets):
        config = ConsentConfigFactory(brand=brand, market=market)
        seen_hash = config.content_hash
        edited = {**config.content, "mode": "advanced", "wait_for_update": round_ + 1}
        results = race(
            functools.partial(
                services.consent_decide,
                user=legal,
                config=ConsentConfig.objects.get(pk=config.pk),
                expected_hash=seen_hash,
                decision="approved",
            ),
            functools.partial(
                services.config_save,
                user=ops,
                brand=brand,
                market=market,
                content=edited,
                expected_version=1,
            ),
        )
        decision, saved = results
        # The edit is never refused: a decision does not move the version.
        assert isinstance(saved, ConsentConfig), results
        current = ConsentConfig.objects.get(pk=config.pk)
        status = _status(config.pk)
        assert current.content_hash == saved.content_hash != seen_hash
        if isinstance(decision, ConsentSignOff):
            # The sign-off landed first, on the hash the reviewer saw: void at once.
            assert decision.content_hash == seen_hash == current.signed_hash
            assert status == "changed", (status, results)
            outcomes["signed the old hash, now changed"] += 1
        else:
            # The edit landed first: the decision on the hash that is gone is refused.
            assert isinstance(decision, services.ContentChanged), results
            assert status == "never_reviewed", (status, results)
            assert not ConsentSignOff.objects.filter(config=config).exists()
            outcomes["refused as content changed, never reviewed"] += 1
        assert not is_valid(status)
        # Never a valid sign-off on content nobody reviewed.
        assert not (current.signed_hash == current.content_hash and is_valid(status))
    print(f"\nedit vs sign-off, {ROUNDS} rounds: {dict(outcomes)}")
    assert len(markets) == sum(outcomes.values()) == ROUNDS


@pytest.mark.django_db(transaction=True)
def test_two_first_saves_of_one_market_create_one_config(
    postgresql_only,  # noqa: F811
    people,
    enqueued,
):
    brand, ops, _, _ = people
    other_ops = UserFactory()
    policies.grant_role(other_ops, brand, Role.OPS_LEAD)
    taken = set(Market.objects.values_list("code", flat=True))
    codes = [a + b for a, b in itertools.product(string.ascii_uppercase, repeat=2)]
    markets = Market.objects.bulk_create(
        Market(code=code, name=f"Race market {code}", privacy_regime="gdpr")
        for code in [code for code in codes if code not in taken][: ROUNDS // 4]
    )
    brand.markets.add(*markets)
    for round_, market in enumerate(markets):
        content = defaults_for("gdpr", market.code)
        results = race(
            *(
                functools.partial(
                    services.config_save,
                    user=user,
                    brand=brand,
                    market=market,
                    content={**content, "wait_for_update": wait},
                    expected_version=0,
                )
                for user, wait in ((ops, 100), (other_ops, 200))
            )
        )
        saved = [r for r in results if isinstance(r, ConsentConfig)]
        stale = [r for r in results if isinstance(r, StaleVersion)]
        assert (len(saved), len(stale)) == (1, 1), results
        assert ConsentConfig.objects.filter(brand=brand, market=market).count() == 1
        stored = ConsentConfig.objects.get(brand=brand, market=market)
        assert stored.content_hash == saved[0].content_hash
        assert ActivityEntry.objects.filter(verb="consent_config.created").count() == round_ + 1


@pytest.mark.django_db(transaction=True)
def test_two_edits_of_one_version_save_one_and_refuse_the_other(
    postgresql_only,  # noqa: F811
    people,
    enqueued,
):
    brand, ops, _, _ = people
    other_ops = UserFactory()
    policies.grant_role(other_ops, brand, Role.OPS_LEAD)
    market = _market("DE", "gdpr")
    brand.markets.add(market)
    content = defaults_for("gdpr", "DE")
    config = services.config_save(
        user=ops, brand=brand, market=market, content=content, expected_version=0
    )
    for round_ in range(ROUNDS // 4):
        version = round_ + 1
        results = race(
            *(
                functools.partial(
                    services.config_save,
                    user=user,
                    brand=brand,
                    market=market,
                    content={**content, "wait_for_update": 2 * round_ + offset},
                    expected_version=version,
                )
                for user, offset in ((ops, 1), (other_ops, 2))
            )
        )
        saved = [r for r in results if isinstance(r, ConsentConfig)]
        stale = [r for r in results if isinstance(r, StaleVersion)]
        assert (len(saved), len(stale)) == (1, 1), results
        current = ConsentConfig.objects.get(pk=config.pk)
        assert (current.version, current.content_hash) == (version + 1, saved[0].content_hash)
        assert ActivityEntry.objects.filter(verb="consent_config.updated").count() == version
