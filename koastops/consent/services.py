"""Consent writes. One function per intent; each checks the policy, validates the whole
content (``content.parse_content`` plus what only the database knows: the brand's pixels
and tracking-plan events), locks the config row, compares what the caller saw (the
version for an edit, the content hash for a decision) and writes its activity row in the
same transaction, so a refused change writes nothing and every change is logged.

A decision and an edit of the same config both lock its row, so they happen one after
the other: either the decision lands first (and the edit, if it changes the signed
content, voids it at once: its hash no longer matches) or the edit lands first (and the
decision, made on a hash that is gone, is refused with ``ContentChanged``). Two
decisions on one state are refused the same way: the second gets ``AlreadyDecided``,
backed by the unique ``(config, sequence)`` of the sign-offs.

Segregation of duties: only a legal reviewer of the brand may decide (admin status alone
does not pass ``consent.sign_off``, see ``policies.ROLE_BOUND``), and nobody decides on
content they changed themselves.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping, Sequence
from datetime import date, datetime, time
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from koastops.accounts import policies
from koastops.accounts.models import User
from koastops.activity.services import activity_record
from koastops.catalog.models import Brand, Market
from koastops.consent import content as consent_content
from koastops.consent.models import (
    REJECTION_REASONS,
    ConsentConfig,
    ConsentPolicy,
    ConsentSignOff,
    Decision,
)
from koastops.core.exceptions import StaleVersion

COMMENT_MAX = 5000
NOTES_MAX = 10_000
VALIDITY_MONTHS_MAX = 36


class ContentChanged(Exception):
    """The config's content is no longer the one the reviewer saw: nothing was recorded."""

    def __init__(self, *, expected_hash: str, config: ConsentConfig) -> None:
        self.expected_hash = expected_hash
        self.config = config
        super().__init__(
            "This consent config changed after you opened it; review the current version."
        )


class AlreadyDecided(Exception):
    """Someone decided on this state of the config already: nothing was recorded."""

    def __init__(self, signoff: ConsentSignOff | None) -> None:
        self.signoff = signoff
        who = signoff.reviewer_label if signoff else "another reviewer"
        what = signoff.get_decision_display().lower() if signoff else "decided on"
        super().__init__(f"Already decided: {who} {what} this version.")


# --- helpers ------------------------------------------------------------------------------


def add_months(moment: datetime, months: int) -> datetime:
    """``moment`` plus whole calendar months (the 31st becomes the month's last day)."""
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def policy_for(brand: Brand) -> ConsentPolicy:
    """The brand's consent policy (the defaults when it has none saved yet; not saved)."""
    return ConsentPolicy.objects.filter(brand=brand).first() or ConsentPolicy(brand=brand)


def validity_months(brand: Brand) -> int:
    return policy_for(brand).signoff_validity_months


def _content_context_errors(brand: Brand, parsed: Mapping[str, Any]) -> dict[str, list[str]]:
    """Pixels must be the brand's, events must be in its tracking plan."""
    from koastops.taxonomy.models import EventDefinition

    errors: dict[str, list[str]] = {}
    pixel_ids = {p["id"] for p in parsed["pixels"]}
    if pixel_ids:
        known = set(
            brand.pixels.filter(external_id__in=pixel_ids).values_list("external_id", flat=True)
        )
        for index, pixel in enumerate(parsed["pixels"]):
            if pixel["id"] not in known:
                errors[f"pixels.{index}.id"] = [f"{pixel['id']} is not a pixel of this brand."]
    names = {e["name"] for e in parsed["events"]}
    if names:
        plan = {
            name.lower()
            for name in EventDefinition.objects.filter(brand=brand).values_list("name", flat=True)
        }
        for index, event in enumerate(parsed["events"]):
            if event["name"].lower() not in plan:
                errors[f"events.{index}.name"] = [
                    f"{event['name']} is not an event of this brand's tracking plan."
                ]
    return errors


def parse_for_brand(brand: Brand, data: Any) -> dict[str, Any]:
    """``content.parse_content`` plus the brand checks, as one ``ValidationError`` keyed by
    path (forms show each message by its field, the API names the field)."""
    try:
        parsed = consent_content.parse_content(data)
    except consent_content.ContentError as exc:
        raise ValidationError(exc.by_path()) from exc
    errors = _content_context_errors(brand, parsed)
    if errors:
        raise ValidationError(errors)
    return parsed


def _market_of_brand(brand: Brand, market: Market) -> None:
    if not brand.markets.filter(pk=market.pk).exists():
        raise ValidationError({"market": f"{brand.name} does not run in {market.name}."})


def _notes(notes: str) -> str:
    if len(notes) > NOTES_MAX:
        raise ValidationError({"internal_notes": f"At most {NOTES_MAX:,} characters."})
    return notes.strip()


def _queue_review_reminder(config: ConsentConfig) -> None:
    from koastops.consent import tasks

    tasks.consent_remind.delay_on_commit(config.pk)


# --- configs ------------------------------------------------------------------------------


@transaction.atomic
def config_save(
    *,
    user: User,
    brand: Brand,
    market: Market,
    content: Mapping[str, Any],
    internal_notes: str = "",
    expected_version: int,
) -> ConsentConfig:
    """Create (``expected_version=0``) or edit the brand's config for ``market``; refused
    with ``StaleVersion`` when the config moved on from ``expected_version``. An edit that
    changes nothing writes nothing; one that changes the signed content voids the current
    sign-off (its hash no longer matches) and asks the brand's legal reviewers to review."""
    policies.require(
        policies.can(user, "consent.manage", brand), "You may not edit consent configs."
    )
    _market_of_brand(brand, market)
    parsed = parse_for_brand(brand, content)
    notes = _notes(internal_notes)
    new_hash = consent_content.content_hash(market.code, parsed)
    config = ConsentConfig.objects.select_for_update().filter(brand=brand, market=market).first()
    now = timezone.now()
    if config is None:
        if expected_version != 0:
            raise StaleVersion(expected_version=expected_version, current_version=0)
        config = ConsentConfig(
            brand=brand,
            market=market,
            content=parsed,
            content_hash=new_hash,
            internal_notes=notes,
            content_changed_by=user,
            content_changed_at=now,
            updated_by=user,
        )
        try:
            with transaction.atomic():
                config.save()
        except IntegrityError as exc:  # a concurrent create of the same market
            raise StaleVersion(expected_version=0, current_version=1) from exc
        activity_record(
            verb="consent_config.created",
            actor=user,
            target=config,
            brand=brand,
            target_label=f"consent config {market.code}",
            after={"market": market.code, "version": 1, "content_hash": new_hash},
        )
        _queue_review_reminder(config)
        return config
    if config.version != expected_version:
        raise StaleVersion(expected_version=expected_version, current_version=config.version)
    content_changed = new_hash != config.content_hash
    if not content_changed and notes == config.internal_notes:
        return config
    changes = consent_content.diff(config.content, parsed)
    before: dict[str, Any] = {"version": config.version}
    after: dict[str, Any] = {"version": config.version + 1}
    if content_changed:
        before["content_hash"], after["content_hash"] = config.content_hash, new_hash
        for change in changes[:30]:
            before[change.path], after[change.path] = change.before, change.after
        config.content_changed_by = user
        config.content_changed_at = now
    if notes != config.internal_notes:
        before["internal_notes"], after["internal_notes"] = config.internal_notes, notes
    was_valid = config.last_signoff_id is not None and config.signed_hash == config.content_hash
    config.content = parsed
    config.content_hash = new_hash
    config.internal_notes = notes
    config.version += 1
    config.updated_by = user
    config.save()
    if content_changed and was_valid and config.decision == Decision.APPROVED:
        after["signoff"] = "void: the signed content changed"
    activity_record(
        verb="consent_config.updated" if content_changed else "consent_config.notes_updated",
        actor=user,
        target=config,
        brand=brand,
        target_label=f"consent config {market.code}",
        before=before,
        after=after,
    )
    if content_changed:
        _queue_review_reminder(config)
    return config


# --- decisions ------------------------------------------------------------------------------


def _check_decision(
    decision: str, reasons: Sequence[str], comment: str
) -> tuple[Decision, list[str], str]:
    errors: dict[str, list[str]] = {}
    if decision not in Decision.values:
        errors["decision"] = ["Choose approve or reject."]
    cleaned = sorted({str(reason) for reason in reasons})
    unknown = [reason for reason in cleaned if reason not in REJECTION_REASONS]
    if unknown:
        errors["reasons"] = ["Choose reasons from the list."]
    comment = comment.strip()
    if len(comment) > COMMENT_MAX:
        errors["comment"] = [f"At most {COMMENT_MAX:,} characters."]
    if decision == Decision.REJECTED:
        if not cleaned and "reasons" not in errors:
            errors["reasons"] = ["A rejection needs at least one reason."]
        if "other" in cleaned and not comment and "comment" not in errors:
            errors["comment"] = ["Explain the “other” reason in the comment."]
    elif decision == Decision.APPROVED:
        cleaned = []
    if errors:
        raise ValidationError(errors)
    return Decision(decision), cleaned, comment


def _expiry(brand: Brand, decided_at: datetime, expires_on: date | None) -> datetime:
    latest = add_months(decided_at, validity_months(brand))
    if expires_on is None:
        return latest
    chosen = datetime.combine(expires_on, time(23, 59, 59), tzinfo=decided_at.tzinfo)
    if chosen <= decided_at:
        raise ValidationError({"expires_on": "Choose a date in the future."})
    if chosen.date() > latest.date():
        raise ValidationError(
            {"expires_on": f"At most {validity_months(brand)} months: {latest.date():%d %b %Y}."}
        )
    # The last allowed day ends at the policy's limit, not at 23:59:59 after it.
    return min(chosen, latest)


@transaction.atomic
def consent_decide(
    *,
    user: User,
    config: ConsentConfig,
    expected_hash: str,
    decision: str,
    reasons: Sequence[str] = (),
    comment: str = "",
    expires_on: date | None = None,
    expected_last_signoff_id: int | None = None,
) -> ConsentSignOff:
    """Record a legal reviewer's decision on the config's content as they saw it
    (``expected_hash``). Refused with ``ContentChanged`` when the content moved on, with
    ``AlreadyDecided`` when this content is already signed or rejected (or someone
    decided since the page was rendered: ``expected_last_signoff_id``, 0 for none)."""
    brand = config.brand
    policies.require(
        policies.can(user, "consent.sign_off", brand),
        "Only a legal reviewer of this brand can sign off consent configs.",
    )
    verdict, cleaned_reasons, cleaned_comment = _check_decision(decision, reasons, comment)
    locked = (
        ConsentConfig.objects.select_for_update(of=("self",))
        .select_related("market")
        .get(pk=config.pk)
    )
    locked.brand = brand
    if locked.content_hash != expected_hash:
        raise ContentChanged(expected_hash=expected_hash, config=locked)
    # Read after the lock, not joined to it: after waiting for the lock PostgreSQL re-reads
    # the locked row but not the rows joined to it, so a joined sign-off would be the one
    # from before the wait (the unique sequence would still refuse a second decision, but
    # without naming who made the first).
    last = (
        ConsentSignOff.objects.filter(pk=locked.last_signoff_id).first()
        if locked.last_signoff_id
        else None
    )
    if (
        expected_last_signoff_id is not None
        and (last.pk if last else 0) != expected_last_signoff_id
    ):
        raise AlreadyDecided(last)
    now = timezone.now()
    status = consent_content.review_status(
        locked.content_hash,
        consent_content.Decision(last.decision, last.content_hash, last.expires_at)
        if last
        else None,
        now,
    )
    if status in ("signed", "rejected"):
        raise AlreadyDecided(last)
    if locked.content_changed_by_id == user.pk:
        raise PermissionDenied(
            "You changed this consent config: another legal reviewer must decide on it."
        )
    expires_at = _expiry(brand, now, expires_on) if verdict == Decision.APPROVED else None
    signoff = ConsentSignOff(
        config=locked,
        brand=brand,
        market=locked.market,
        sequence=(last.sequence if last else 0) + 1,
        config_version=locked.version,
        content_hash=locked.content_hash,
        content=locked.content,
        decision=verdict,
        reasons=cleaned_reasons,
        comment=cleaned_comment,
        reviewer=user,
        reviewer_label=user.email,
        decided_at=now,
        expires_at=expires_at,
    )
    try:
        with transaction.atomic():
            signoff.save()
    except IntegrityError as exc:
        raise AlreadyDecided(None) from exc
    locked.last_signoff = signoff
    locked.signed_hash = signoff.content_hash
    locked.decision = verdict
    locked.expires_at = expires_at
    locked.save(update_fields=["last_signoff", "signed_hash", "decision", "expires_at"])
    activity_record(
        verb="consent.approved" if verdict == Decision.APPROVED else "consent.rejected",
        actor=user,
        target=locked,
        brand=brand,
        target_label=f"consent config {locked.market.code}",
        after={
            "version": locked.version,
            "content_hash": signoff.content_hash,
            "expires_at": expires_at,
            "reasons": cleaned_reasons,
            "comment": cleaned_comment[:500],
        },
    )
    return signoff


# --- the brand's policy ---------------------------------------------------------------------


@transaction.atomic
def consent_policy_save(
    *, user: User, brand: Brand, signoff_validity_months: int, expected_version: int
) -> ConsentPolicy:
    """Set how long a sign-off stays valid (1 to 36 months; existing sign-offs keep their
    expiry). ``expected_version`` 1 for a brand that never saved one."""
    policies.require(
        policies.can(user, "consent.manage", brand), "You may not change consent settings."
    )
    if not 1 <= signoff_validity_months <= VALIDITY_MONTHS_MAX:
        raise ValidationError(
            {"signoff_validity_months": f"Choose 1 to {VALIDITY_MONTHS_MAX} months."}
        )
    ConsentPolicy.objects.get_or_create(brand=brand)
    policy = ConsentPolicy.objects.select_for_update().get(brand=brand)
    if policy.version != expected_version:
        raise StaleVersion(expected_version=expected_version, current_version=policy.version)
    if policy.signoff_validity_months == signoff_validity_months:
        return policy
    before = {"signoff_validity_months": policy.signoff_validity_months, "version": policy.version}
    policy.signoff_validity_months = signoff_validity_months
    policy.version += 1
    policy.updated_by = user
    policy.save()
    activity_record(
        verb="consent_policy.updated",
        actor=user,
        target=policy,
        brand=brand,
        target_label="consent settings",
        before=before,
        after={"signoff_validity_months": signoff_validity_months, "version": policy.version},
    )
    return policy
