"""Activity log reads for a brand's activity page and its exports. Rows are shown with the
labels stored on them (``actor_label``, ``target_label``), never by following the actor
or brand references, so the page costs the same few queries for any number of rows and
still reads correctly after a user or an object is gone."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.db.models import Q, QuerySet

from koastops.accounts import policies
from koastops.accounts.models import Role
from koastops.activity.models import ActivityEntry
from koastops.catalog.models import Brand
from koastops.core import sqlcache

# The filter selects list at most this many actors / (verb, object type) pairs.
CHOICES_MAX = 200
# Fields of before / after that list ad accounts by label.
AD_ACCOUNT_FIELDS = frozenset({"ad_accounts"})


def is_user_id(value: str) -> bool:
    """ASCII digits only (``str.isdigit`` also takes "²" and other digits ``int`` refuses)."""
    return value.isascii() and value.isdigit()


def activity_list(
    *,
    user: Any,
    brand: Brand,
    role: Role | None = None,
    actor: str = "",
    verb: str = "",
    target_type: str = "",
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    q: str = "",
) -> QuerySet[ActivityEntry]:
    """The brand's entries the user may see (``policies.activity_for``), newest first, with
    the filters the activity page, its exports and the API share: ``actor`` is a user id
    (ASCII digits) or an actor's label (an email address, or "system"; exact, any case);
    ``q`` searches the actor's and the target's labels. Dates are whole UTC days, both
    ends included."""
    queryset = policies.activity_for(user, brand, role=role)
    if actor:
        if is_user_id(actor):
            queryset = queryset.filter(actor_id=int(actor))
        else:
            queryset = queryset.filter(actor_label__iexact=actor)
    if verb:
        queryset = queryset.filter(verb=verb)
    if target_type:
        queryset = queryset.filter(target_type=target_type)
    if q:
        queryset = queryset.filter(Q(actor_label__icontains=q) | Q(target_label__icontains=q))
    if date_from:
        queryset = queryset.filter(created_at__gte=_start_of_day(date_from))
    # The last representable day has no next day to stop before: no upper bound then.
    if date_to and date_to < dt.date.max:
        queryset = queryset.filter(created_at__lt=_start_of_day(date_to + dt.timedelta(days=1)))
    return queryset.order_by("-id")


# What the activity page shows of a row (the exports and the API read whole rows).
PAGE_FIELDS = (
    "id",
    "created_at",
    "actor_id",
    "actor_label",
    "verb",
    "target_type",
    "target_id",
    "target_label",
    "before",
    "after",
    "ip",
    "request_id",
)


def visibility_shape(*, user: Any, brand: Brand, role: Role | None) -> str | None:
    """A name for the shape of ``policies.activity_for``'s statement for this user, when
    it depends on the brand's id alone (an admin; a role that is not narrowable and may
    view the log): then it can be compiled once (``koastops.core.sqlcache``). None for a
    media buyer (the narrowing subqueries) or someone who may not view the log."""
    if policies.is_admin(user):
        return "admin"
    if role is None or role == Role.MEDIA_BUYER:
        return None
    if not policies.can(user, "activity.view", brand, role=role):
        return None
    members = policies.can(user, "members.view", brand, role=role)
    return f"{role.value}:{'members' if members else 'nomembers'}"


def _visible_by_id(user: Any, brand: Brand, role: Role | None) -> Callable[[Any], QuerySet[Any]]:
    """``activity_for`` for a brand given by its id (a sqlcache marker): the role is known,
    so the brand is only used for its id."""

    def visible(brand_id: Any) -> QuerySet[Any]:
        target = brand if brand_id == brand.pk else Brand(pk=brand_id, slug=brand.slug)
        return policies.activity_for(user, target, role=role)

    return visible


def activity_page_source(
    *,
    user: Any,
    brand: Brand,
    role: Role | None = None,
    actor: str = "",
    verb: str = "",
    target_type: str = "",
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    q: str = "",
) -> tuple[str, Callable[..., QuerySet[Any]], tuple[int | str, ...]] | None:
    """The activity page's rows (``activity_list`` with the same filters, as ``values()``
    of ``PAGE_FIELDS``) as ``(key, build, values)`` for ``paginate_cached``, or None when
    the statement's shape is not fixed by the key (a media buyer; a date filter)."""
    shape = visibility_shape(user=user, brand=brand, role=role)
    if shape is None or date_from or date_to:
        return None
    visible = _visible_by_id(user, brand, role)
    by_id = bool(actor) and is_user_id(actor)
    values: list[int | str] = [brand.pk]
    if actor:
        values.append(int(actor) if by_id else actor)
    values.extend(value for value in (verb, target_type, q) if value)

    def build(*markers: Any) -> QuerySet[Any]:
        queryset = visible(markers[0])
        rest = list(markers[1:])
        if actor:
            value = rest.pop(0)
            if by_id:
                queryset = queryset.filter(actor_id=value)
            else:
                queryset = queryset.filter(actor_label__iexact=value)
        if verb:
            queryset = queryset.filter(verb=rest.pop(0))
        if target_type:
            queryset = queryset.filter(target_type=rest.pop(0))
        if q:
            term = rest.pop(0)
            queryset = queryset.filter(
                Q(actor_label__icontains=term) | Q(target_label__icontains=term)
            )
        return queryset.order_by("-id").values(*PAGE_FIELDS)

    flags = f"{'id' if by_id else 'label' if actor else '-'}:{int(bool(verb))}"
    flags += f":{int(bool(target_type))}:{int(bool(q))}"
    return f"activity_page:{shape}:{flags}", build, tuple(values)


def entries_of(rows: list[dict[str, Any]]) -> list[ActivityEntry]:
    """Rows of ``activity_page_source`` as (unsaved-looking, read-only) entries."""
    entries = []
    for row in rows:
        entry = ActivityEntry.from_db(None, PAGE_FIELDS, [row[name] for name in PAGE_FIELDS])
        entries.append(entry)
    return entries


def _start_of_day(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC)


@dataclass(frozen=True)
class Actor:
    """Someone who acted in the rows the user may see. ``value`` is what the actor filter
    takes (the user id, or the label for entries without a user); ``name`` the user's
    current name when they have one (else their label, the email address they had)."""

    value: str
    label: str
    name: str

    @property
    def choice_label(self) -> str:
        return self.label if self.name == self.label else f"{self.name} ({self.label})"


def activity_actors(*, user: Any, brand: Brand, role: Role | None = None) -> list[Actor]:
    """Who acted in the rows the user may see (never an actor known only from others), in
    one query: the distinct actors of those rows, with the current name of those who are
    users (a join: the name follows from the id, so it adds no rows)."""
    shape = visibility_shape(user=user, brand=brand, role=role)
    visible = _visible_by_id(user, brand, role)

    def build(brand_id: Any) -> QuerySet[Any]:
        return (
            visible(brand_id)
            .order_by("actor_label", "actor_id")
            .values_list("actor_id", "actor_label", "actor__full_name")
            .distinct()[:CHOICES_MAX]
        )

    triples = (
        sqlcache.rows(f"activity_actors:{shape}", build, brand.pk)
        if shape
        else list(build(brand.pk))
    )
    actors: dict[str, Actor] = {}
    for actor_id, label, full_name in triples:
        value = str(actor_id) if actor_id is not None else label
        if value not in actors:  # a user whose email changed: listed once
            actors[value] = Actor(value=value, label=label, name=full_name or label)
    return list(actors.values())


@dataclass(frozen=True)
class ActivityKinds:
    """What occurs in the rows the user may see: the verbs and the kinds of object."""

    verbs: frozenset[str]
    target_types: list[str]


def activity_kinds(*, user: Any, brand: Brand, role: Role | None = None) -> ActivityKinds:
    """The verbs and object types of the rows the user may see, in one query (DISTINCT
    over the pairs: a verb nearly always goes with one kind of object)."""
    shape = visibility_shape(user=user, brand=brand, role=role)
    visible = _visible_by_id(user, brand, role)

    def build(brand_id: Any) -> QuerySet[Any]:
        return (
            visible(brand_id)
            .order_by("target_type", "verb")
            .values_list("verb", "target_type")
            .distinct()[:CHOICES_MAX]
        )

    pairs = (
        sqlcache.rows(f"activity_kinds:{shape}", build, brand.pk)
        if shape
        else list(build(brand.pk))
    )
    types = sorted({target_type for _, target_type in pairs})
    return ActivityKinds(verbs=frozenset(verb for verb, _ in pairs), target_types=types)


def target_type_label(target_type: str) -> str:
    """``catalog.adaccount`` → "Ad account" (the model's name; the raw value if it is gone)."""
    try:
        model = apps.get_model(target_type)
    except (LookupError, ValueError):
        return target_type
    return str(model._meta.verbose_name).capitalize()


def activity_redactor(*, user: Any, brand: Brand) -> Callable[[ActivityEntry], ActivityEntry]:
    """What shows a row to the user: rows name linked ad accounts by label in their
    before / after (a pixel's ``ad_accounts``); for a narrowed media buyer, the labels of
    accounts they may not see are left out (the row in memory only, never saved). At most
    one query, asked at the first row that names ad accounts; none for admins."""
    if policies.is_admin(user):
        return _unchanged
    found: list[frozenset[str] | None] = []

    def redact(entry: ActivityEntry) -> ActivityEntry:
        for side in (entry.before, entry.after):
            if isinstance(side, dict):
                for name, value in side.items():
                    if name in AD_ACCOUNT_FIELDS and isinstance(value, list):
                        if not found:
                            found.append(policies.visible_ad_account_labels(user, brand))
                        labels = found[0]
                        if labels is not None:
                            side[name] = [item for item in value if item in labels]
        return entry

    return redact


def _unchanged(entry: ActivityEntry) -> ActivityEntry:
    return entry
