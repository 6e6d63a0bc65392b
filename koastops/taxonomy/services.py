"""Tracking-plan and naming-rule writes. One function per intent; each checks the policy,
validates the whole content (``content.parse_event`` / the naming engine's
``parse_spec``), locks what it changes, compares the version the caller's edit was based
on (``StaleVersion`` when it moved on) and writes its activity row in the same
transaction, so a refused change writes nothing and every change that lands is logged.

Every event write also locks the brand's ``TrackingPlan`` row and bumps its version: an
import confirmed against one state of the plan is refused if any event changed since.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from koastops.accounts import policies
from koastops.accounts.models import User
from koastops.activity.services import activity_record
from koastops.catalog.models import Brand
from koastops.core.exceptions import StaleVersion
from koastops.taxonomy.catalogue import META_STANDARD_EVENTS, NAMING_LEVELS
from koastops.taxonomy.content import (
    ContentError,
    EventContent,
    Mapping_,
    Parameter,
    diff_events,
    parse_event,
)
from koastops.taxonomy.models import (
    EventDefinition,
    EventMapping,
    EventRevision,
    EventStatus,
    NamingRule,
    TrackingPlan,
)


class AlreadyInState(Exception):
    """A status change to the status the event already has: nothing to do."""

    def __init__(self, status: str) -> None:
        self.status = status
        super().__init__(f"The event is already {status}.")


def content_errors(exc: ContentError) -> ValidationError:
    """A ``ContentError`` as a Django ``ValidationError`` keyed by path (forms show each
    message by its field; the API names the field)."""
    return ValidationError(exc.by_path())


# --- the plan ---------------------------------------------------------------------------


def plan_lock(brand: Brand, expected_version: int | None = None) -> TrackingPlan:
    """The brand's plan row, created on first use and locked until the transaction ends;
    ``StaleVersion`` when it is no longer ``expected_version``."""
    TrackingPlan.objects.get_or_create(brand=brand)
    plan = TrackingPlan.objects.select_for_update().get(brand=brand)
    if expected_version is not None and plan.version != expected_version:
        raise StaleVersion(expected_version=expected_version, current_version=plan.version)
    return plan


def _bump(plan: TrackingPlan) -> None:
    plan.version += 1
    plan.save(update_fields=["version", "updated_at"])


def _write_rows(event: EventDefinition, content: EventContent) -> None:
    """Copy the content's filterable parts into the columns and mapping rows."""
    event.name = content.name
    event.display_name = content.display_name
    event.owner = content.owner
    event.status = content.status
    event.sources = content.sources
    event.content = content.to_dict()


def _save_mappings(event: EventDefinition, content: EventContent) -> None:
    EventMapping.objects.filter(event=event).delete()
    EventMapping.objects.bulk_create(
        EventMapping(
            event=event,
            brand_id=event.brand_id,
            platform=m.platform,
            target=m.target,
            custom=m.custom,
        )
        for m in content.mappings
    )


def _name_taken(brand: Brand, name: str, exclude_pk: int | None) -> bool:
    taken = EventDefinition.objects.filter(brand=brand, name__iexact=name)
    if exclude_pk:
        taken = taken.exclude(pk=exclude_pk)
    return taken.exists()


def _refuse_taken(brand: Brand, name: str, exclude_pk: int | None = None) -> None:
    if _name_taken(brand, name, exclude_pk):
        raise ValidationError({"name": f"The tracking plan already has an event called {name}."})


def _revision(event: EventDefinition, user: User | None, note: str) -> None:
    EventRevision.objects.create(
        event=event,
        version=event.version,
        content=event.content,
        actor=user if user is not None and user.is_authenticated else None,
        actor_label=(user.email if user is not None and user.is_authenticated else "system"),
        note=note,
    )


def _parsed(content: EventContent | Mapping[str, Any]) -> EventContent:
    if isinstance(content, EventContent):
        content = content.to_dict()
    try:
        return parse_event(content)
    except ContentError as exc:
        raise content_errors(exc) from exc


def _create(
    *, user: User, brand: Brand, content: EventContent, note: str, verb: str = "event.created"
) -> EventDefinition:
    _refuse_taken(brand, content.name)
    event = EventDefinition(brand=brand, updated_by=user)
    _write_rows(event, content)
    try:
        with transaction.atomic():
            event.save()
    except IntegrityError:
        _refuse_taken(brand, content.name)  # a concurrent create took the name
        raise
    _save_mappings(event, content)
    _revision(event, user, note)
    activity_record(
        verb=verb,
        actor=user,
        target=event,
        brand=brand,
        after={"name": content.name, "status": content.status, "version": event.version},
    )
    return event


def _update(
    *, user: User, event: EventDefinition, content: EventContent, note: str, verb: str
) -> bool:
    """Apply ``content`` to the locked ``event``; False (and nothing written) when it
    changes nothing."""
    before = event.content
    after = content.to_dict()
    if before == after:
        return False
    if content.name.lower() != event.name.lower():
        _refuse_taken(event.brand, content.name, event.pk)
    _write_rows(event, content)
    event.version += 1
    event.updated_by = user
    try:
        with transaction.atomic():
            event.save()
    except IntegrityError:
        _refuse_taken(event.brand, content.name, event.pk)
        raise
    _save_mappings(event, content)
    _revision(event, user, note)
    changes = diff_events(before, after)
    activity_record(
        verb=verb,
        actor=user,
        target=event,
        brand=event.brand,
        before={"version": event.version - 1, **{c.where: c.before for c in changes[:20]}},
        after={"version": event.version, **{c.where: c.after for c in changes[:20]}},
    )
    return True


def _lock_event(event: EventDefinition, expected_version: int | None) -> EventDefinition:
    locked = EventDefinition.objects.select_for_update().get(pk=event.pk)
    locked.brand = event.brand
    if expected_version is not None and locked.version != expected_version:
        raise StaleVersion(expected_version=expected_version, current_version=locked.version)
    return locked


def _require_manage(user: User, brand: Brand) -> None:
    policies.require(
        policies.can(user, "taxonomy.manage", brand), "You may not edit the tracking plan."
    )


@transaction.atomic
def event_create(
    *, user: User, brand: Brand, content: EventContent | Mapping[str, Any]
) -> EventDefinition:
    """Add an event definition to the brand's tracking plan (version 1)."""
    _require_manage(user, brand)
    parsed = _parsed(content)
    plan = plan_lock(brand)
    event = _create(user=user, brand=brand, content=parsed, note="created")
    _bump(plan)
    return event


@transaction.atomic
def event_update(
    *,
    user: User,
    event: EventDefinition,
    content: EventContent | Mapping[str, Any],
    expected_version: int,
) -> EventDefinition:
    """Replace the event's content; refused with ``StaleVersion`` when the event moved on
    from ``expected_version``. An edit that changes nothing writes nothing."""
    _require_manage(user, event.brand)
    parsed = _parsed(content)
    plan = plan_lock(event.brand)
    locked = _lock_event(event, expected_version)
    if _update(user=user, event=locked, content=parsed, note="edited", verb="event.updated"):
        _bump(plan)
    return locked


@transaction.atomic
def event_set_status(
    *, user: User, event: EventDefinition, status: str, expected_version: int
) -> EventDefinition:
    """Activate, deprecate or return an event to draft."""
    _require_manage(user, event.brand)
    if status not in EventStatus.values:
        raise ValidationError({"status": f"Expected one of {', '.join(EventStatus.values)}."})
    plan = plan_lock(event.brand)
    locked = _lock_event(event, expected_version)
    if locked.status == status:
        raise AlreadyInState(EventStatus(status).label.lower())
    content = parse_event({**locked.content, "status": status})
    verb = {"active": "event.activated", "deprecated": "event.deprecated"}.get(
        status, "event.updated"
    )
    _update(user=user, event=locked, content=content, note=f"status: {status}", verb=verb)
    _bump(plan)
    return locked


def starter_events() -> list[EventContent]:
    """The starter template: every Meta standard event with the parameters Meta documents
    (Purchase requires value and currency), mapped to itself on Meta, as drafts."""
    events = []
    for name, params in META_STANDARD_EVENTS.items():
        events.append(
            EventContent(
                name=name,
                display_name=" ".join(_split_camel(name)),
                description="",
                trigger="",
                owner="",
                status="draft",
                sources="browser",
                event_id_required=False,
                parameters=tuple(
                    Parameter(p.name, p.type, p.required, p.allowed_values, "", p.description)
                    for p in params
                ),
                mappings=(Mapping_("meta", name, False, tuple(p.name for p in params)),),
            )
        )
    return events


def _split_camel(name: str) -> list[str]:
    words: list[str] = []
    for char in name:
        if char.isupper() and words:
            words.append(char)
        elif words:
            words[-1] += char
        else:
            words.append(char)
    return words


@transaction.atomic
def plan_apply_template(*, user: User, brand: Brand) -> list[str]:
    """Add the starter template's events the plan does not have yet (by name, ignoring
    case); events already there are left as they are. Returns the names added."""
    _require_manage(user, brand)
    plan = plan_lock(brand)
    existing = {
        name.lower()
        for name in EventDefinition.objects.filter(brand=brand).values_list("name", flat=True)
    }
    added = []
    for content in starter_events():
        if content.name.lower() in existing:
            continue
        _create(
            user=user,
            brand=brand,
            content=content,
            note="starter template",
            verb="event.created",
        )
        added.append(content.name)
    if added:
        _bump(plan)
        activity_record(
            verb="plan.template_applied",
            actor=user,
            target=plan,
            brand=brand,
            target_label=f"Tracking plan of {brand.name}",
            after={"added": added},
        )
    return added


# --- naming rules -------------------------------------------------------------------------


def _check_spec(spec: Any) -> dict[str, Any]:
    """The spec as the engine accepts it, or a ValidationError keyed by its paths."""
    from koastops.taxonomy.naming import SpecError, compile_rule, parse_spec

    try:
        parsed = parse_spec(spec)
        compile_rule(parsed)
    except SpecError as exc:
        grouped: dict[str, list[str]] = {}
        for path, message in exc.errors:
            grouped.setdefault(f"spec.{path}" if path else "spec", []).append(message)
        raise ValidationError(grouped) from exc
    return dict(cast(Mapping[str, Any], spec))


def _naming_level(level: str) -> None:
    if level not in NAMING_LEVELS:
        raise ValidationError({"level": f"Expected one of {', '.join(NAMING_LEVELS)}."})


@transaction.atomic
def naming_rule_save(
    *,
    user: User,
    brand: Brand | None,
    level: str,
    spec: Mapping[str, Any],
    expected_version: int | None,
) -> NamingRule:
    """Set the brand's rule for ``level`` (``brand=None``: the install-wide default,
    admins only). ``expected_version`` is the version the edit was based on, or None when
    the caller saw no rule of its own yet (a concurrent first save is then refused)."""
    if brand is None:
        policies.require(
            policies.can(user, "naming.defaults"), "Only admins edit the install-wide rules."
        )
    else:
        policies.require(
            policies.can(user, "naming.manage", brand), "You may not edit the naming rules."
        )
    _naming_level(level)
    checked = _check_spec(spec)
    rule = NamingRule.objects.select_for_update().filter(brand=brand, level=level).first()
    if rule is None:
        if expected_version is not None:
            raise StaleVersion(expected_version=expected_version, current_version=0)
        rule = NamingRule(brand=brand, level=level, spec=checked, updated_by=user)
        try:
            with transaction.atomic():
                rule.save()
        except IntegrityError as exc:  # a concurrent first save won
            raise StaleVersion(expected_version=0, current_version=1) from exc
        before: dict[str, Any] = {}
    else:
        if expected_version is None or rule.version != expected_version:
            raise StaleVersion(expected_version=expected_version or 0, current_version=rule.version)
        if rule.spec == checked:
            return rule
        before = {"spec": rule.spec, "version": rule.version}
        rule.spec = checked
        rule.version += 1
        rule.updated_by = user
        rule.save()
    activity_record(
        verb="naming_rule.saved" if brand is not None else "naming_rule.default_saved",
        actor=user,
        target=rule,
        brand=brand,
        target_label=f"{NAMING_LEVELS[level]} naming rule",
        before=before,
        after={"spec": checked, "version": rule.version},
    )
    return rule


@transaction.atomic
def naming_rule_reset(*, user: User, brand: Brand, level: str, expected_version: int) -> None:
    """Drop the brand's own rule for ``level``: the install-wide default applies again."""
    policies.require(
        policies.can(user, "naming.manage", brand), "You may not edit the naming rules."
    )
    _naming_level(level)
    rule = NamingRule.objects.select_for_update().filter(brand=brand, level=level).first()
    if rule is None:
        raise StaleVersion(expected_version=expected_version, current_version=0)
    if rule.version != expected_version:
        raise StaleVersion(expected_version=expected_version, current_version=rule.version)
    activity_record(
        verb="naming_rule.reset",
        actor=user,
        target=rule,
        brand=brand,
        target_label=f"{NAMING_LEVELS[level]} naming rule",
        before={"spec": rule.spec, "version": rule.version},
    )
    rule.delete()


# --- plan import ----------------------------------------------------------------------------


class ImportOutcome:
    """What ``plan_import`` did: the names it created, updated and left as they were."""

    def __init__(self) -> None:
        self.created: list[str] = []
        self.updated: list[str] = []
        self.unchanged: list[str] = []

    @property
    def changed(self) -> int:
        return len(self.created) + len(self.updated)


def _located(prefix: str, exc: ValidationError) -> ValidationError:
    if not hasattr(exc, "error_dict"):
        return ValidationError({prefix: exc.messages})
    return ValidationError(
        {
            f"{prefix}.{key}": [m for e in errors for m in e.messages]
            for key, errors in exc.error_dict.items()
        }
    )


@transaction.atomic
def plan_import(
    *,
    user: User,
    brand: Brand,
    contents: list[EventContent] | list[Mapping[str, Any]],
    expected_plan_version: int,
) -> ImportOutcome:
    """Create or update the brand's events from an imported plan, all or nothing: the
    events are matched by name (ignoring case); those the file does not name are kept.
    Refused with ``StaleVersion`` when the plan moved on from the version the import was
    previewed against. One revision (note "imported") and one activity row per event that
    changes (``event.created`` / ``event.imported``), and one ``plan.imported`` on the
    plan; an import that changes nothing writes nothing."""
    from koastops.taxonomy.transfer import MAX_EVENTS, parse_events

    _require_manage(user, brand)
    if len(contents) > MAX_EVENTS:
        raise ValidationError(
            {"events": f"At most {MAX_EVENTS} events (this has {len(contents)})."}
        )
    parsed, errors = parse_events([_as_dict(content) for content in contents])
    if errors:
        grouped: dict[str, list[str]] = {}
        for path, message in errors:
            grouped.setdefault(path, []).append(message)
        raise ValidationError(grouped)
    plan = plan_lock(brand, expected_plan_version)
    existing = {
        event.name.lower(): event
        for event in EventDefinition.objects.select_for_update().filter(brand=brand)
    }
    outcome = ImportOutcome()
    for index, content in enumerate(parsed):
        event = existing.get(content.name.lower())
        try:
            if event is None:
                _create(user=user, brand=brand, content=content, note="imported")
                outcome.created.append(content.name)
                continue
            event.brand = brand
            if _update(
                user=user, event=event, content=content, note="imported", verb="event.imported"
            ):
                outcome.updated.append(content.name)
            else:
                outcome.unchanged.append(content.name)
        except ValidationError as exc:
            raise _located(f"events[{index}]", exc) from exc
    if outcome.changed:
        _bump(plan)
        activity_record(
            verb="plan.imported",
            actor=user,
            target=plan,
            brand=brand,
            target_label=f"Tracking plan of {brand.name}",
            after={
                "created": len(outcome.created),
                "updated": len(outcome.updated),
                "unchanged": len(outcome.unchanged),
            },
        )
    return outcome


def _as_dict(content: EventContent | Mapping[str, Any]) -> Any:
    return content.to_dict() if isinstance(content, EventContent) else content
