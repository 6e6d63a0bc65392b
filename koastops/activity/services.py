"""The activity recorder: every state change calls ``activity_record`` inside the same
transaction as the change, so if the row cannot be written the change fails too."""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import json
import uuid
from collections.abc import Iterable
from typing import Any

from django.db import connection, models, transaction
from django.utils import timezone

from koastops.activity.models import ActivityEntry
from koastops.activity.verbs import check_verb
from koastops.core.middleware import client_ip_var, request_id_var

GENESIS_HASH = "0" * 64
# Any constant: serialises inserts so two transactions never chain onto the same row.
_ADVISORY_LOCK_KEY = 0x6B6F6173  # "koas"


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, models.Model):
        return str(value.pk)
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, Iterable):
        return [_jsonable(v) for v in value]
    return str(value)


def snapshot(obj: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    """The named fields of ``obj`` as JSON-ready values (foreign keys by id)."""
    data: dict[str, Any] = {}
    for name in fields:
        field = obj._meta.get_field(name)
        if field.many_to_many:
            # Labels, not ids: the log is read by people, and outlives the rows it names.
            data[name] = sorted(str(related) for related in getattr(obj, name).all())
        elif field.is_relation:
            data[name] = _jsonable(getattr(obj, field.attname))
        else:
            data[name] = _jsonable(getattr(obj, name))
    return data


def diff(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Only the fields that changed, on both sides."""
    changed = [k for k in after if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in changed}, {k: after[k] for k in changed}


def canonical(entry: ActivityEntry) -> bytes:
    payload = {
        "created_at": entry.created_at.isoformat(),
        "actor_id": entry.actor_id,
        "actor_label": entry.actor_label,
        "verb": entry.verb,
        "brand_id": entry.brand_id,
        "target_type": entry.target_type,
        "target_id": entry.target_id,
        "target_label": entry.target_label,
        "before": entry.before,
        "after": entry.after,
        "ip": entry.ip,
        "request_id": entry.request_id,
        "prev_hash": entry.prev_hash,
    }
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def compute_hash(entry: ActivityEntry) -> str:
    return hashlib.sha256(canonical(entry)).hexdigest()


def activity_record(
    *,
    verb: str,
    actor: Any,
    target: models.Model,
    brand: Any = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    target_label: str | None = None,
) -> ActivityEntry:
    """Append one row to the chain. Must run inside the caller's transaction."""
    check_verb(verb)
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("activity_record must run inside the transaction of the change.")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_ADVISORY_LOCK_KEY])
    last = ActivityEntry.objects.order_by("-id").values_list("hash", flat=True).first()
    is_user = actor is not None and getattr(actor, "is_authenticated", False)
    entry = ActivityEntry(
        # Microseconds dropped so the ISO form is identical before and after a DB round trip.
        created_at=timezone.now().replace(microsecond=0),
        actor_id=actor.pk if is_user else None,
        actor_label=(actor.email if is_user else str(actor or "system"))[:255],
        verb=verb,
        brand_id=getattr(brand, "pk", brand),
        target_type=target._meta.label_lower,
        target_id=str(target.pk),
        target_label=(target_label or str(target))[:255],
        before=_jsonable(before or {}),
        after=_jsonable(after or {}),
        ip=client_ip_var.get() or None,
        request_id=request_id_var.get(),
        prev_hash=last or GENESIS_HASH,
    )
    entry.hash = compute_hash(entry)
    entry.save(force_insert=True)
    return entry


def activity_verify() -> tuple[int, ActivityEntry | None, str]:
    """Recompute the chain. Returns (rows checked, first broken row or None, reason)."""
    previous = GENESIS_HASH
    checked = 0
    for entry in ActivityEntry.objects.order_by("id").iterator(chunk_size=2000):
        if entry.prev_hash != previous:
            return checked, entry, "its prev_hash does not match the previous row's hash"
        if compute_hash(entry) != entry.hash:
            return checked, entry, "its content does not match its hash"
        previous = entry.hash
        checked += 1
    return checked, None, ""
