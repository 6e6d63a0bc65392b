"""Activity log reads for a brand's activity page and its exports. Rows are shown with the
labels stored on them (``actor_label``, ``target_label``), never by following the actor
or brand references, so the page costs the same few queries for any number of rows and
still reads correctly after a user or an object is gone."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.db.models import QuerySet

from koastops.accounts import policies
from koastops.accounts.models import Role
from koastops.activity.models import ActivityEntry
from koastops.activity.verbs import VERBS
from koastops.catalog.models import Brand

# Longer values are cut in the page's before → after column (the export has them whole).
CHANGE_VALUE_MAX = 80
# The filter selects list at most this many actors / object types.
CHOICES_MAX = 200
# Fields of before / after that list ad accounts by label.
AD_ACCOUNT_FIELDS = frozenset({"ad_accounts"})


@dataclass(frozen=True)
class Change:
    field: str
    before: str
    after: str


@dataclass(frozen=True)
class ActivityRow:
    entry: ActivityEntry
    description: str
    target_type_label: str
    changes: list[Change]


def activity_list(
    *,
    user: Any,
    brand: Brand,
    role: Role | None = None,
    actor: str = "",
    actor_exact: bool = False,
    verb: str = "",
    target_type: str = "",
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> QuerySet[ActivityEntry]:
    """The brand's entries the user may see (``policies.activity_for``), newest first.
    Dates are whole UTC days, both ends included."""
    queryset = policies.activity_for(user, brand, role=role)
    if actor:
        lookup = "actor_label__iexact" if actor_exact else "actor_label__icontains"
        queryset = queryset.filter(**{lookup: actor})
    if verb:
        queryset = queryset.filter(verb=verb)
    if target_type:
        queryset = queryset.filter(target_type=target_type)
    if date_from:
        queryset = queryset.filter(created_at__gte=_start_of_day(date_from))
    # The last representable day has no next day to stop before: no upper bound then.
    if date_to and date_to < dt.date.max:
        queryset = queryset.filter(created_at__lt=_start_of_day(date_to + dt.timedelta(days=1)))
    return queryset.order_by("-id")


def _start_of_day(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC)


def activity_actor_labels(*, user: Any, brand: Brand, role: Role | None = None) -> list[str]:
    """Who acted in the rows the user may see (never an actor known only from others)."""
    return list(
        policies.activity_for(user, brand, role=role)
        .order_by("actor_label")
        .values_list("actor_label", flat=True)
        .distinct()[:CHOICES_MAX]
    )


def activity_target_types(*, user: Any, brand: Brand, role: Role | None = None) -> list[str]:
    """The kinds of object in the rows the user may see."""
    return list(
        policies.activity_for(user, brand, role=role)
        .order_by("target_type")
        .values_list("target_type", flat=True)
        .distinct()[:CHOICES_MAX]
    )


def target_type_label(target_type: str) -> str:
    """``catalog.adaccount`` → "Ad account" (the model's name; the raw value if it is gone)."""
    try:
        model = apps.get_model(target_type)
    except (LookupError, ValueError):
        return target_type
    return str(model._meta.verbose_name).capitalize()


def _display(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        text = value
    elif isinstance(value, list) and all(isinstance(item, str | int) for item in value):
        text = ", ".join(str(item) for item in value) or "none"
    else:
        text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= CHANGE_VALUE_MAX else text[: CHANGE_VALUE_MAX - 1] + "…"


def changes_of(entry: ActivityEntry) -> list[Change]:
    """The fields whose value differs between ``before`` and ``after``, in a stable order."""
    before = entry.before if isinstance(entry.before, dict) else {}
    after = entry.after if isinstance(entry.after, dict) else {}
    fields = list(before) + [name for name in after if name not in before]
    return [
        Change(field=name, before=_display(before.get(name)), after=_display(after.get(name)))
        for name in fields
        if before.get(name) != after.get(name)
    ]


def activity_redactor(*, user: Any, brand: Brand) -> Callable[[ActivityEntry], ActivityEntry]:
    """What shows a row to the user: rows name linked ad accounts by label in their
    before / after (a pixel's ``ad_accounts``); for a narrowed media buyer, the labels of
    accounts they may not see are left out (the row in memory only, never saved). One
    query, none for admins."""
    labels = policies.visible_ad_account_labels(user, brand)
    if labels is None:
        return _unchanged

    def redact(entry: ActivityEntry) -> ActivityEntry:
        for side in (entry.before, entry.after):
            if isinstance(side, dict):
                for name, value in side.items():
                    if name in AD_ACCOUNT_FIELDS and isinstance(value, list):
                        side[name] = [item for item in value if item in labels]
        return entry

    return redact


def _unchanged(entry: ActivityEntry) -> ActivityEntry:
    return entry


def activity_rows(entries: list[ActivityEntry]) -> list[ActivityRow]:
    labels: dict[str, str] = {}
    rows = []
    for entry in entries:
        if entry.target_type not in labels:
            labels[entry.target_type] = target_type_label(entry.target_type)
        rows.append(
            ActivityRow(
                entry=entry,
                description=VERBS.get(entry.verb, entry.verb),
                target_type_label=labels[entry.target_type],
                changes=changes_of(entry),
            )
        )
    return rows
