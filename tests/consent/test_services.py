"""Consent services: config edits (versions, brand checks, no-op, errors by path), the
sign-off voided by any change of the signed content and kept by a notes edit, who may
decide (legal reviewers of the brand only, never on their own edits), the decision's
rules and expiry, refusals (``ContentChanged``, ``AlreadyDecided``) and the brand's
policy. Every change writes exactly one activity row; a refused one writes none."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from koastops.accounts import policies
from koastops.accounts.models import Role
from koastops.consent import content as cc
from koastops.consent import services
from koastops.consent.models import ConsentConfig, ConsentPolicy, ConsentSignOff
from koastops.consent.selectors import with_status
from koastops.core.exceptions import StaleVersion
from tests.consent.test_content import SIGNED_FIELD_EDITS, valid
from tests.factories import (
    AdminFactory,
    BrandFactory,
    ConsentConfigFactory,
    ConsentSignOffFactory,
    EventDefinitionFactory,
    PixelFactory,
    UserFactory,
    _market,
)

PIXELS = ["111222333444", "555666777888", "999"]
EVENTS = ["Lead", "Purchase", "Signup"]


@pytest.fixture
def world(db) -> SimpleNamespace:
    brand = BrandFactory(name="Own Brand", slug="own-brand")
    foreign = BrandFactory(name="Foreign Brand", slug="foreign-brand")
    market = _market("DE", "gdpr")
    brand.markets.add(market)
    foreign.markets.add(market)
    for external_id in PIXELS:
        PixelFactory(brand=brand, external_id=external_id)
    PixelFactory(brand=foreign, external_id="424242")
    for name in EVENTS:
        EventDefinitionFactory(brand=brand, name=name)
    EventDefinitionFactory(brand=foreign, name="ForeignOnly")

    def member(role: Role, on: Any = brand, **kwargs: Any) -> Any:
        user = (AdminFactory if kwargs.pop("admin", False) else UserFactory)(**kwargs)
        if role is not None:
            policies.grant_role(user, on, role)
        return user

    return SimpleNamespace(
        brand=brand,
        foreign=foreign,
        market=market,
        ops=member(Role.OPS_LEAD, email="ops@example.com"),
        legal=member(Role.LEGAL_REVIEWER, email="legal@example.com"),
        legal2=member(Role.LEGAL_REVIEWER, email="legal2@example.com"),
        buyer=member(Role.MEDIA_BUYER, email="buyer@example.com"),
        analyst=member(Role.ANALYST, email="analyst@example.com"),
        admin=member(None, admin=True, email="admin@example.com"),
        admin_legal=member(Role.LEGAL_REVIEWER, admin=True, email="admin-legal@example.com"),
        foreign_legal=member(Role.LEGAL_REVIEWER, on=foreign, email="foreign-legal@example.com"),
        foreign_ops=member(Role.OPS_LEAD, on=foreign, email="foreign-ops@example.com"),
    )


def base() -> dict[str, Any]:
    """The content every test starts from: the brand's first two pixels and events."""
    return valid()


def create(w: SimpleNamespace, content: dict[str, Any] | None = None, **kwargs: Any):
    return services.config_save(
        user=kwargs.pop("user", w.ops),
        brand=w.brand,
        market=w.market,
        content=base() if content is None else content,
        expected_version=0,
        **kwargs,
    )


def edit(w: SimpleNamespace, config: ConsentConfig, content: dict[str, Any], **kwargs: Any):
    return services.config_save(
        user=kwargs.pop("user", w.ops),
        brand=w.brand,
        market=w.market,
        content=content,
        internal_notes=kwargs.pop("internal_notes", config.internal_notes),
        expected_version=kwargs.pop("expected_version", config.version),
        **kwargs,
    )


def decide(user: Any, config: ConsentConfig, decision: str = "approved", **kwargs: Any):
    kwargs.setdefault("expected_hash", config.content_hash)
    return services.consent_decide(user=user, config=config, decision=decision, **kwargs)


def status(config: ConsentConfig, now: datetime | None = None) -> str:
    return with_status(ConsentConfig.objects.filter(pk=config.pk), now).get().status


def python_status(config: ConsentConfig) -> str:
    """The same status from the Python rule, read from the sign-off row itself."""
    config = ConsentConfig.objects.select_related("last_signoff").get(pk=config.pk)
    last = config.last_signoff
    latest = cc.Decision(last.decision, last.content_hash, last.expires_at) if last else None
    from django.utils import timezone

    return cc.review_status(config.content_hash, latest, timezone.now())


def errors(exc: pytest.ExceptionInfo[ValidationError]) -> dict[str, list[str]]:
    return exc.value.message_dict


# --- config_save ------------------------------------------------------------------------


def test_create_stores_the_canonical_content_and_its_hash(world, activity):
    content = base()
    content["pixels"].reverse()
    config = create(world, content, internal_notes="  Agreed with DPO  ")
    assert config.version == 1
    assert config.content == cc.parse_content(base())
    assert config.content_hash == cc.content_hash("DE", cc.parse_content(base()))
    assert config.internal_notes == "Agreed with DPO"
    assert config.content_changed_by == world.ops
    entry = activity.one("consent_config.created", actor=world.ops, brand=world.brand)
    assert entry.after["content_hash"] == config.content_hash
    assert status(config) == "never_reviewed"


def test_edit_bumps_the_version_and_logs_the_diff(world, activity):
    config = create(world)
    activity.mark()
    changed = base() | {"mode": "advanced"}
    config = edit(world, config, changed)
    assert config.version == 2
    assert config.content["mode"] == "advanced"
    entry = activity.one("consent_config.updated", actor=world.ops, brand=world.brand)
    assert (entry.before["mode"], entry.after["mode"]) == ("basic", "advanced")
    assert (entry.before["version"], entry.after["version"]) == (1, 2)
    assert ConsentConfig.objects.get(pk=config.pk).version == 2


def test_an_edit_that_changes_nothing_writes_nothing(world, activity):
    config = create(world, internal_notes="note")
    activity.mark()
    same = base()
    same["pixels"].reverse()  # a reorder is the same canonical content
    same["platform_name"] = "  Acme   CMP "
    again = edit(world, config, same, internal_notes="note  ")
    assert again.version == 1
    assert ConsentConfig.objects.get(pk=config.pk).version == 1
    activity.none()


def test_a_stale_edit_is_refused_and_writes_nothing(world, activity):
    config = create(world)
    edit(world, config, base() | {"mode": "advanced"})
    activity.mark()
    with pytest.raises(StaleVersion) as caught:
        edit(world, config, base() | {"wait_for_update": 900}, expected_version=1)
    assert (caught.value.expected_version, caught.value.current_version) == (1, 2)
    assert ConsentConfig.objects.get(pk=config.pk).content["wait_for_update"] == 500
    activity.none()


def test_create_is_stale_when_the_config_exists_and_edit_when_it_does_not(world, activity):
    with pytest.raises(StaleVersion):
        services.config_save(
            user=world.ops,
            brand=world.brand,
            market=world.market,
            content=base(),
            expected_version=3,
        )
    assert not ConsentConfig.objects.exists()
    create(world)
    activity.mark()
    with pytest.raises(StaleVersion) as caught:
        create(world, base() | {"mode": "advanced"})
    assert (caught.value.expected_version, caught.value.current_version) == (0, 1)
    assert ConsentConfig.objects.count() == 1
    activity.none()


def test_a_market_the_brand_does_not_run_in_is_refused(world, activity):
    with pytest.raises(ValidationError) as caught:
        services.config_save(
            user=world.ops,
            brand=world.brand,
            market=_market("BR", "lgpd"),
            content=base(),
            expected_version=0,
        )
    assert list(errors(caught)) == ["market"]
    assert not ConsentConfig.objects.exists()
    activity.none()


def test_a_pixel_of_another_brand_is_refused_by_its_path(world, activity):
    content = base() | {"pixels": [{"id": "424242", "category": "marketing"}]}
    with pytest.raises(ValidationError) as caught:
        create(world, content)
    assert list(errors(caught)) == ["pixels.0.id"]
    assert "424242" in errors(caught)["pixels.0.id"][0]
    content["pixels"].insert(0, {"id": "111222333444", "category": "marketing"})
    with pytest.raises(ValidationError) as caught:
        create(world, content)
    # The path is the pixel's place in the canonical (sorted) list.
    assert list(errors(caught)) == ["pixels.1.id"]
    assert not ConsentConfig.objects.exists()
    activity.none()


def test_an_event_not_in_the_brand_plan_is_refused_by_its_path(world, activity):
    for name in ("NotPlanned", "ForeignOnly"):
        content = base() | {"events": [{"name": name, "category": "marketing"}]}
        with pytest.raises(ValidationError) as caught:
            create(world, content)
        assert list(errors(caught)) == ["events.0.name"]
    # The plan's names match without regard to case.
    config = create(world, base() | {"events": [{"name": "lead", "category": "marketing"}]})
    assert config.content["events"] == [{"name": "lead", "category": "marketing"}]


def test_notes_too_long_are_refused(world, activity):
    with pytest.raises(ValidationError) as caught:
        create(world, internal_notes="x" * (services.NOTES_MAX + 1))
    assert list(errors(caught)) == ["internal_notes"]
    assert not ConsentConfig.objects.exists()
    activity.none()
    assert create(world, internal_notes="x" * services.NOTES_MAX).version == 1


def test_content_errors_come_back_by_path(world, activity):
    content = base()
    content["defaults"]["ad_storage"] = "yes"
    content["pixels"][1]["category"] = "ads"
    content["colour"] = "red"
    with pytest.raises(ValidationError) as caught:
        create(world, content)
    assert set(errors(caught)) == {"defaults.ad_storage", "pixels.1.category", "colour"}
    assert not ConsentConfig.objects.exists()
    activity.none()


@pytest.mark.parametrize("who", ["legal", "buyer", "analyst", "foreign_ops"])
def test_only_ops_leads_and_admins_edit_configs(world, activity, who):
    with pytest.raises(PermissionDenied):
        create(world, user=getattr(world, who))
    assert not ConsentConfig.objects.exists()
    activity.none()
    assert create(world, user=world.admin).version == 1


# --- any change to the signed content voids the sign-off ---------------------------------


@pytest.mark.parametrize(
    ("name", "change"), SIGNED_FIELD_EDITS, ids=[n for n, _ in SIGNED_FIELD_EDITS]
)
def test_editing_any_signed_field_voids_the_sign_off(world, activity, name, change):
    config = create(world)
    signoff = decide(world.legal, config)
    assert status(config) == "signed"
    activity.mark()

    content = copy.deepcopy(config.content)
    change(content)
    config = edit(world, config, content)

    assert config.content_hash != signoff.content_hash
    assert status(config) == "changed"
    assert python_status(config) == "changed"
    assert not cc.is_valid(status(config))
    entry = activity.one("consent_config.updated", actor=world.ops, brand=world.brand)
    assert entry.after["signoff"] == "void: the signed content changed"
    # The diff against the signed version names the change.
    assert cc.diff(signoff.content, config.content)

    # Editing back to exactly the signed content is the signed content again.
    config = edit(world, config, copy.deepcopy(signoff.content))
    assert config.content_hash == signoff.content_hash
    assert status(config) == "signed"


def test_editing_internal_notes_keeps_the_sign_off(world, activity):
    config = create(world)
    signoff = decide(world.legal, config)
    activity.mark()
    config = edit(world, config, base(), internal_notes="Checked with the DPO <b>today</b>")
    assert config.version == 2
    assert config.content_hash == signoff.content_hash
    assert config.content_changed_by == world.ops  # the notes edit is not a content change
    assert status(config) == "signed"
    assert python_status(config) == "signed"
    entry = activity.one("consent_config.notes_updated", actor=world.ops, brand=world.brand)
    assert "signoff" not in entry.after


# --- who decides ----------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["ops", "buyer", "analyst", "admin", "foreign_legal"])
def test_only_legal_reviewers_of_the_brand_decide(world, activity, who):
    config = create(world)
    activity.mark()
    for decision, reasons in (("approved", []), ("rejected", ["defaults"])):
        with pytest.raises(PermissionDenied):
            decide(getattr(world, who), config, decision, reasons=reasons)
    assert not ConsentSignOff.objects.exists()
    assert status(config) == "never_reviewed"
    activity.none()


def test_an_admin_holding_the_legal_reviewer_role_decides(world, activity):
    config = create(world)
    activity.mark()
    signoff = decide(world.admin_legal, config)
    assert signoff.reviewer == world.admin_legal
    assert signoff.reviewer_label == "admin-legal@example.com"
    assert status(config) == "signed"
    activity.one("consent.approved", actor=world.admin_legal, brand=world.brand)


def test_nobody_decides_on_content_they_changed(world, activity):
    config = create(world, user=world.admin_legal)
    activity.mark()
    with pytest.raises(PermissionDenied):
        decide(world.admin_legal, config)
    activity.none()
    # Another legal reviewer may; and a notes edit by the admin does not make it theirs.
    decide(world.legal, config)
    config = edit(world, config, base() | {"mode": "advanced"})  # by the ops lead now
    config = edit(world, config, config.content, user=world.admin_legal, internal_notes="n")
    assert config.content_changed_by == world.ops
    activity.mark()
    decide(world.admin_legal, config)
    activity.one("consent.approved", actor=world.admin_legal, brand=world.brand)


# --- the decision ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("decision", "kwargs", "path"),
    [
        ("maybe", {}, "decision"),
        ("", {}, "decision"),
        ("rejected", {}, "reasons"),
        ("rejected", {"reasons": ["tone"]}, "reasons"),
        ("rejected", {"reasons": ["other"]}, "comment"),
        ("rejected", {"reasons": ["other"], "comment": "   "}, "comment"),
        ("approved", {"comment": "x" * (services.COMMENT_MAX + 1)}, "comment"),
        ("approved", {"expires_on": date(2020, 1, 1)}, "expires_on"),
        (
            "approved",
            {"expires_on": datetime.now(tz=UTC).date() + timedelta(days=800)},
            "expires_on",
        ),
    ],
)
def test_a_bad_decision_is_refused_by_its_field(world, activity, decision, kwargs, path):
    config = create(world)
    activity.mark()
    with pytest.raises(ValidationError) as caught:
        decide(world.legal, config, decision, **kwargs)
    assert path in errors(caught)
    assert not ConsentSignOff.objects.exists()
    activity.none()


def test_a_rejection_records_its_reasons_and_comment(world, activity):
    config = create(world)
    activity.mark()
    signoff = decide(
        world.legal,
        config,
        "rejected",
        reasons=["meta", "defaults", "other", "meta"],
        comment="  The banner is not </script> ok  ",
    )
    assert signoff.reasons == ["defaults", "meta", "other"]
    assert signoff.comment == "The banner is not </script> ok"
    assert signoff.expires_at is None
    assert signoff.content == config.content
    assert (signoff.sequence, signoff.config_version) == (1, 1)
    assert status(config) == "rejected"
    entry = activity.one("consent.rejected", actor=world.legal, brand=world.brand)
    assert entry.after["reasons"] == ["defaults", "meta", "other"]


def test_an_approval_drops_reasons_and_expires_after_twelve_months(world, activity):
    config = create(world)
    signoff = decide(world.legal, config, reasons=["defaults"], comment="Fine.")
    assert signoff.reasons == []
    assert signoff.expires_at == services.add_months(signoff.decided_at, 12)
    config.refresh_from_db()
    assert (config.last_signoff_id, config.signed_hash) == (signoff.pk, config.content_hash)
    assert (config.decision, config.expires_at) == ("approved", signoff.expires_at)


def test_the_brand_policy_sets_the_validity(world, activity):
    services.consent_policy_save(
        user=world.ops, brand=world.brand, signoff_validity_months=6, expected_version=1
    )
    config = create(world)
    signoff = decide(world.legal, config)
    assert signoff.expires_at == services.add_months(signoff.decided_at, 6)
    # Another brand keeps the default.
    assert services.validity_months(world.foreign) == 12


@pytest.mark.parametrize(
    ("start", "months", "end"),
    [
        (datetime(2026, 8, 31, 10, 0, tzinfo=UTC), 6, datetime(2027, 2, 28, 10, 0, tzinfo=UTC)),
        (datetime(2027, 8, 31, 10, 0, tzinfo=UTC), 6, datetime(2028, 2, 29, 10, 0, tzinfo=UTC)),
        (datetime(2026, 1, 31, tzinfo=UTC), 1, datetime(2026, 2, 28, tzinfo=UTC)),
        (datetime(2026, 12, 31, tzinfo=UTC), 2, datetime(2027, 2, 28, tzinfo=UTC)),
        (datetime(2028, 2, 29, tzinfo=UTC), 12, datetime(2029, 2, 28, tzinfo=UTC)),
        (datetime(2026, 3, 15, 8, 30, tzinfo=UTC), 36, datetime(2029, 3, 15, 8, 30, tzinfo=UTC)),
        (datetime(2026, 10, 31, tzinfo=UTC), 1, datetime(2026, 11, 30, tzinfo=UTC)),
    ],
)
def test_add_months_clamps_to_the_month_end(start, months, end):
    assert services.add_months(start, months) == end


@pytest.fixture
def frozen(monkeypatch):
    """Pin the services' clock (only theirs) to a moment a test chooses."""

    def at(moment: datetime) -> None:
        monkeypatch.setattr(services, "timezone", SimpleNamespace(now=lambda: moment))

    return at


def test_an_approval_on_august_31_expires_on_the_last_day_of_february(world, frozen):
    services.consent_policy_save(
        user=world.ops, brand=world.brand, signoff_validity_months=6, expected_version=1
    )
    config = create(world)
    frozen(datetime(2026, 8, 31, 10, 0, tzinfo=UTC))
    signoff = decide(world.legal, config)
    assert signoff.decided_at == datetime(2026, 8, 31, 10, 0, tzinfo=UTC)
    assert signoff.expires_at == datetime(2027, 2, 28, 10, 0, tzinfo=UTC)


def test_a_chosen_expiry_within_the_policy_is_kept(world, frozen):
    config = create(world)
    frozen(datetime(2026, 8, 31, 10, 0, tzinfo=UTC))
    signoff = decide(world.legal, config, expires_on=date(2026, 12, 1))
    assert signoff.expires_at == datetime(2026, 12, 1, 23, 59, 59, tzinfo=UTC)


def test_a_chosen_expiry_on_the_last_allowed_day_does_not_exceed_the_policy(world, frozen):
    config = create(world)
    frozen(datetime(2026, 8, 31, 10, 0, tzinfo=UTC))
    signoff = decide(world.legal, config, expires_on=date(2027, 8, 31))
    assert signoff.expires_at == datetime(2027, 8, 31, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize("expires_on", [date(2027, 9, 1), date(2026, 8, 30)])
def test_a_chosen_expiry_after_the_policy_or_in_the_past_is_refused(world, frozen, expires_on):
    config = create(world)
    frozen(datetime(2026, 8, 31, 10, 0, tzinfo=UTC))
    with pytest.raises(ValidationError) as caught:
        decide(world.legal, config, expires_on=expires_on)
    assert list(errors(caught)) == ["expires_on"]
    assert not ConsentSignOff.objects.exists()


# --- refusals -------------------------------------------------------------------------------


def test_a_decision_on_a_hash_that_is_gone_is_refused(world, activity):
    config = create(world)
    seen = config.content_hash
    edit(world, config, base() | {"mode": "advanced"})
    activity.mark()
    with pytest.raises(services.ContentChanged) as caught:
        decide(world.legal, config, expected_hash=seen)
    assert caught.value.expected_hash == seen
    assert caught.value.config.content["mode"] == "advanced"
    assert not ConsentSignOff.objects.exists()
    assert status(config) == "never_reviewed"
    activity.none()


@pytest.mark.parametrize("first", ["approved", "rejected"])
def test_a_second_decision_on_the_same_content_is_already_decided(world, activity, first):
    config = create(world)
    signoff = decide(world.legal, config, first, reasons=["defaults"])
    activity.mark()
    for decision in ("approved", "rejected"):
        with pytest.raises(services.AlreadyDecided) as caught:
            decide(world.legal2, config, decision, reasons=["gating"])
        assert caught.value.signoff == signoff
        assert "legal@example.com" in str(caught.value)
    assert ConsentSignOff.objects.count() == 1
    activity.none()


def test_a_decision_from_a_page_rendered_before_another_decision_is_already_decided(
    world, activity
):
    config = create(world)
    with pytest.raises(services.AlreadyDecided):
        decide(world.legal, config, expected_last_signoff_id=12345)
    first = decide(world.legal, config, expected_last_signoff_id=0)
    config = edit(world, config, base() | {"mode": "advanced"})  # changed: needs review
    activity.mark()
    # legal2's page was rendered before the first decision: it saw no sign-off.
    with pytest.raises(services.AlreadyDecided):
        decide(world.legal2, config, expected_last_signoff_id=0)
    activity.none()
    second = decide(world.legal2, config, expected_last_signoff_id=first.pk)
    assert second.sequence == 2
    activity.one("consent.approved", actor=world.legal2, brand=world.brand)


@pytest.mark.parametrize(
    ("expires_in", "before"),
    [(timedelta(days=10), "expiring"), (-timedelta(days=1), "expired")],
)
def test_a_sign_off_that_is_expiring_or_expired_can_be_renewed(world, activity, expires_in, before):
    config = create(world)
    from django.utils import timezone

    old = ConsentSignOffFactory(config=config, expires_at=timezone.now() + expires_in)
    assert status(config) == before
    activity.mark()
    renewed = decide(world.legal, config, expected_last_signoff_id=old.pk)
    assert renewed.sequence == 2
    assert status(config) == "signed"
    assert ConsentConfig.objects.get(pk=config.pk).last_signoff_id == renewed.pk
    activity.one("consent.approved", actor=world.legal, brand=world.brand)


def test_a_rejected_config_changed_since_can_be_approved(world, activity):
    config = create(world)
    decide(world.legal, config, "rejected", reasons=["meta"])
    config = edit(world, config, base() | {"meta": {"revoke_before_init": True}})
    config = edit(world, config, base() | {"mode": "advanced"})
    assert status(config) == "changed"
    activity.mark()
    decide(world.legal, config)
    assert status(config) == "signed"
    activity.one("consent.approved", actor=world.legal, brand=world.brand)


def test_each_change_and_decision_writes_exactly_one_activity_row(world, activity):
    config = create(world)
    activity.one("consent_config.created", actor=world.ops, brand=world.brand)
    decide(world.legal, config, "rejected", reasons=["defaults"])
    activity.one("consent.rejected", actor=world.legal, brand=world.brand)
    config = edit(world, config, base() | {"wait_for_update": 700})
    activity.one("consent_config.updated", actor=world.ops, brand=world.brand)
    config = edit(world, config, config.content, internal_notes="ok now")
    activity.one("consent_config.notes_updated", actor=world.ops, brand=world.brand)
    decide(world.legal2, config)
    activity.one("consent.approved", actor=world.legal2, brand=world.brand)
    services.consent_policy_save(
        user=world.ops, brand=world.brand, signoff_validity_months=3, expected_version=1
    )
    activity.one("consent_policy.updated", actor=world.ops, brand=world.brand)


def test_signoffs_of_factories_and_services_agree(world):
    """The factory copies the decision onto the config the way the service does."""
    config = ConsentConfigFactory(brand=world.brand, market=_market("AT", "gdpr"))
    signoff = ConsentSignOffFactory(config=config)
    config.refresh_from_db()
    assert (config.last_signoff_id, config.signed_hash) == (signoff.pk, config.content_hash)
    assert status(config) == "signed"


# --- the brand's policy ---------------------------------------------------------------------


def test_policy_save_bumps_the_version_and_logs_once(world, activity):
    assert services.policy_for(world.brand).pk is None  # defaults, not saved
    policy = services.consent_policy_save(
        user=world.ops, brand=world.brand, signoff_validity_months=6, expected_version=1
    )
    assert (policy.signoff_validity_months, policy.version) == (6, 2)
    entry = activity.one("consent_policy.updated", actor=world.ops, brand=world.brand)
    assert (entry.before["signoff_validity_months"], entry.after["signoff_validity_months"]) == (
        12,
        6,
    )
    same = services.consent_policy_save(
        user=world.ops, brand=world.brand, signoff_validity_months=6, expected_version=2
    )
    assert same.version == 2
    activity.none()


def test_policy_save_refuses_a_stale_version(world, activity):
    services.consent_policy_save(
        user=world.ops, brand=world.brand, signoff_validity_months=6, expected_version=1
    )
    activity.mark()
    with pytest.raises(StaleVersion) as caught:
        services.consent_policy_save(
            user=world.ops, brand=world.brand, signoff_validity_months=9, expected_version=1
        )
    assert (caught.value.expected_version, caught.value.current_version) == (1, 2)
    assert ConsentPolicy.objects.get(brand=world.brand).signoff_validity_months == 6
    activity.none()


@pytest.mark.parametrize("months", [0, -1, services.VALIDITY_MONTHS_MAX + 1])
def test_policy_save_refuses_a_validity_out_of_range(world, activity, months):
    with pytest.raises(ValidationError) as caught:
        services.consent_policy_save(
            user=world.ops, brand=world.brand, signoff_validity_months=months, expected_version=1
        )
    assert list(errors(caught)) == ["signoff_validity_months"]
    assert services.validity_months(world.brand) == 12
    activity.none()


@pytest.mark.parametrize("months", [1, services.VALIDITY_MONTHS_MAX])
def test_policy_save_accepts_the_range_ends(world, months):
    services.consent_policy_save(
        user=world.ops, brand=world.brand, signoff_validity_months=months, expected_version=1
    )
    assert services.validity_months(world.brand) == months


@pytest.mark.parametrize("who", ["legal", "buyer", "analyst", "foreign_ops"])
def test_only_ops_leads_and_admins_change_the_policy(world, activity, who):
    with pytest.raises(PermissionDenied):
        services.consent_policy_save(
            user=getattr(world, who),
            brand=world.brand,
            signoff_validity_months=6,
            expected_version=1,
        )
    activity.none()


def test_a_policy_change_keeps_existing_expiries(world):
    config = create(world)
    signoff = decide(world.legal, config)
    services.consent_policy_save(
        user=world.ops, brand=world.brand, signoff_validity_months=1, expected_version=1
    )
    config.refresh_from_db()
    assert config.expires_at == signoff.expires_at == services.add_months(signoff.decided_at, 12)
    assert status(config) == "signed"
