"""consent.signed_off: every market of the launch has a valid consent sign-off."""

from __future__ import annotations

import pytest
from django.utils import timezone

from koastops.consent import selectors as consent_selectors
from koastops.launches.models import Launch
from tests.factories import ConsentConfigFactory, ConsentSignOffFactory, LaunchFactory, market
from tests.launches.checks_support import run

pytestmark = pytest.mark.django_db


def _launch_in(*codes: str) -> Launch:
    launch = LaunchFactory()
    for code in codes:
        launch.markets.add(market(code))
    return launch


def test_every_market_signed_off_passes() -> None:
    launch = _launch_in("FR")
    for code in ("DE", "FR"):
        ConsentSignOffFactory(config=ConsentConfigFactory(brand=launch.brand, market=market(code)))
    outcome = run("consent.signed_off", launch)
    assert outcome.status == "pass"
    assert outcome.message == "Every market (DE, FR) has a valid consent sign-off."
    assert [row["status"] for row in outcome.details["markets"]] == ["signed", "signed"]


def test_missing_and_unreviewed_markets_fail_with_what_to_do() -> None:
    launch = _launch_in("FR", "AT")
    ConsentSignOffFactory(config=ConsentConfigFactory(brand=launch.brand, market=market("DE")))
    ConsentConfigFactory(brand=launch.brand, market=market("FR"))  # never reviewed
    outcome = run("consent.signed_off", launch)
    assert outcome.status == "fail"
    assert outcome.message == (
        "2 markets have no valid consent sign-off: AT (not configured), FR (never reviewed). "
        "Ask a legal reviewer of the brand to sign them off."
    )
    rows = {row["market"]: row for row in outcome.details["markets"]}
    assert rows["DE"]["valid"] is True
    assert rows["AT"]["status"] == "not_configured"
    assert "set up the market's consent config" in rows["AT"]["action"]
    assert rows["FR"]["action"] == "Ask a legal reviewer to sign off the market's consent config."


def test_expired_rejected_and_changed_sign_offs_are_not_valid() -> None:
    launch = _launch_in("FR", "AT")
    past = timezone.now() - timezone.timedelta(days=400)
    ConsentSignOffFactory(
        config=ConsentConfigFactory(brand=launch.brand, market=market("DE")), decided_at=past
    )
    ConsentSignOffFactory(
        config=ConsentConfigFactory(brand=launch.brand, market=market("FR")), decision="rejected"
    )
    changed = ConsentConfigFactory(brand=launch.brand, market=market("AT"))
    ConsentSignOffFactory(config=changed)
    type(changed).objects.filter(pk=changed.pk).update(content_hash="f" * 64)
    outcome = run("consent.signed_off", launch)
    assert outcome.status == "fail"
    statuses = {row["market"]: row["status"] for row in outcome.details["markets"]}
    assert statuses == {"AT": "changed", "DE": "expired", "FR": "rejected"}
    assert outcome.message.startswith("3 markets have no valid consent sign-off")


def test_a_sign_off_expiring_soon_is_valid_and_said() -> None:
    launch = _launch_in()
    ConsentSignOffFactory(
        config=ConsentConfigFactory(brand=launch.brand, market=market("DE")),
        decided_at=timezone.now() - timezone.timedelta(days=350),
    )
    outcome = run("consent.signed_off", launch)
    assert outcome.status == "pass"
    assert "DE expires within 30 days" in outcome.message


def test_another_brands_sign_off_does_not_count() -> None:
    launch = _launch_in()
    ConsentSignOffFactory(config=ConsentConfigFactory(market=market("DE")))  # another brand
    outcome = run("consent.signed_off", launch)
    assert outcome.status == "fail" and "DE (not configured)" in outcome.message


def test_ad_set_markets_count_too() -> None:
    launch = _launch_in()
    ConsentSignOffFactory(config=ConsentConfigFactory(brand=launch.brand, market=market("DE")))
    launch.ad_sets.update(market=market("FR"))
    outcome = run("consent.signed_off", launch)
    assert outcome.status == "fail" and "FR (not configured)" in outcome.message


def test_consent_status_unreadable_is_an_error(monkeypatch) -> None:
    launch = _launch_in()

    def broken(*args, **kwargs):
        raise RuntimeError("db gone")

    monkeypatch.setattr(consent_selectors, "with_status", broken)
    outcome = run("consent.signed_off", launch)
    assert outcome.status == "error" and "could not run" in outcome.message
