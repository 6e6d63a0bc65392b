"""Activity log reads for a brand's activity page and its exports. Rows are shown with the
labels stored on them (``actor_label``, ``target_label``), never by following the actor
or brand references, so the page costs the same few queries for any number of rows and
still reads correctly after a user or an object is gone."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import Q, QuerySet

from koastops.accounts import policies
from koastops.accounts.models import Role, User
from koastops.activity.models import ActivityEntry
from koastops.catalog.models import Brand

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


def _actors_from(triples: Iterable[tuple[Any, Any, Any]]) -> list[Actor]:
    actors: dict[str, Actor] = {}
    for actor_id, label, full_name in triples:
        value = str(actor_id) if actor_id is not None else label
        if value not in actors:  # a user whose email changed: listed once
            actors[value] = Actor(value=value, label=label, name=full_name or label)
    return list(actors.values())


def _kinds_from(pairs: Iterable[tuple[Any, Any]]) -> ActivityKinds:
    pairs = list(pairs)
    types = sorted({target_type for _, target_type in pairs})
    return ActivityKinds(verbs=frozenset(verb for verb, _ in pairs), target_types=types)


@dataclass(frozen=True)
class ActivityKinds:
    """What occurs in the rows the user may see: the verbs and the kinds of object."""

    verbs: frozenset[str]
    target_types: list[str]


def _actor_pairs(visible: QuerySet[Any]) -> QuerySet[Any]:
    return (
        visible.order_by("actor_label", "actor_id")
        .values_list("actor_id", "actor_label")
        .distinct()[:CHOICES_MAX]
    )


def _kind_pairs(visible: QuerySet[Any]) -> QuerySet[Any]:
    return (
        visible.order_by("target_type", "verb")
        .values_list("verb", "target_type")
        .distinct()[:CHOICES_MAX]
    )


def activity_actors(*, user: Any, brand: Brand, role: Role | None = None) -> list[Actor]:
    """Who acted in the rows the user may see (never an actor known only from others):
    ``activity_choices``' actors."""
    return activity_choices(user=user, brand=brand, role=role)[0]


def activity_kinds(*, user: Any, brand: Brand, role: Role | None = None) -> ActivityKinds:
    """The verbs and object types of the rows the user may see: ``activity_choices``'
    kinds."""
    return activity_choices(user=user, brand=brand, role=role)[1]


# A brand id no brand has: where the brand's id goes in the compiled choices statement.
_BRAND_MARKER = -7_100_000_001
_CHOICES_SQL: dict[str, tuple[str, str, list[Any]]] = {}


def _choices_statement(
    user: Any, brand: Brand, role: Role | None, brand_id: int
) -> tuple[str, str, list[Any]]:
    visible = _visible_by_id(user, brand, role)(brand_id)
    db = visible.db
    actors_sql, actors_params = _actor_pairs(visible).query.get_compiler(using=db).as_sql()
    kinds_sql, kinds_params = _kind_pairs(visible).query.get_compiler(using=db).as_sql()
    quote = connections[db].ops.quote_name
    pk_column = User._meta.pk.column if User._meta.pk is not None else "id"
    users, user_pk = quote(User._meta.db_table), quote(pk_column or "id")
    full_name = quote(User._meta.get_field("full_name").column or "full_name")
    # The distinct actors first, then their current names (a join on the few distinct
    # rows, not on every entry), and the distinct (verb, object type) pairs, in one
    # statement; each part keeps its own order and limit.
    # Only compiled ORM statements and quoted names go into the text; values are params.
    sql = (
        f"WITH actors (actor_id, actor_label) AS ({actors_sql}), "  # noqa: S608
        f"kinds (verb, target_type) AS ({kinds_sql}) "
        f"SELECT 1 AS part, actors.actor_id, actors.actor_label, users.{full_name} "
        f"FROM actors LEFT OUTER JOIN {users} users ON users.{user_pk} = actors.actor_id "
        "UNION ALL SELECT 2 AS part, NULL, kinds.verb, kinds.target_type FROM kinds "
        "ORDER BY 1, 3, 2"
    )
    return db, sql, [*actors_params, *kinds_params]


def activity_choices(
    *, user: Any, brand: Brand, role: Role | None = None
) -> tuple[list[Actor], ActivityKinds]:
    """What the filters offer, from the rows the user may see (so they name nothing
    hidden), in one query: who acted (the distinct actors of those rows, with the current
    name of those who are users) and what occurs (the distinct verbs and object types:
    a verb nearly always goes with one kind of object), at most ``CHOICES_MAX`` of each.
    The statement is compiled once per shape of ``policies.activity_for``."""
    shape = visibility_shape(user=user, brand=brand, role=role)
    if shape is None:
        try:
            db, sql, params = _choices_statement(user, brand, role, brand.pk)
        except EmptyResultSet:  # no rows the user may see (``activity_for(...).none()``)
            return [], ActivityKinds(verbs=frozenset(), target_types=[])
    else:
        if shape not in _CHOICES_SQL:
            _CHOICES_SQL[shape] = _choices_statement(user, brand, role, _BRAND_MARKER)
        db, sql, params = _CHOICES_SQL[shape]
        params = [brand.pk if param == _BRAND_MARKER else param for param in params]
    with connections[db].cursor() as cursor:
        cursor.execute(sql, params)
        found = cursor.fetchall()
    actors = _actors_from((row[1], row[2], row[3]) for row in found if row[0] == 1)
    kinds = _kinds_from((row[2], row[3]) for row in found if row[0] == 2)
    return actors, kinds


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
