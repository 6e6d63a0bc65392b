"""The activity recorder: every state change calls ``activity_record`` inside the same
transaction as the change, so if the row cannot be written the change fails too.

Rows form a chain: each stores the previous row's hash, and its own hash is an
HMAC-SHA256 of its content under a key from ``ACTIVITY_LOG_KEYS`` (outside the database,
so whoever owns the tables cannot recompute a rewritten chain). Each row names its key, so
keys rotate: the first listed key signs, every listed key verifies."""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import hmac
import json
import os
import re
import tempfile
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, models, transaction
from django.db.models.fields.reverse_related import ForeignObjectRel
from django.utils import timezone

from koastops.activity.models import ActivityEntry
from koastops.activity.verbs import check_verb
from koastops.core.middleware import client_ip_var, request_id_var

GENESIS_HASH = "0" * 64
# Any constant: serialises inserts so two transactions never chain onto the same row.
_ADVISORY_LOCK_KEY = 0x6B6F6173  # "koas"
_KEY_ID = re.compile(r"^[A-Za-z0-9_.-]{1,32}$")


def activity_keys() -> dict[str, bytes]:
    """``ACTIVITY_LOG_KEYS`` parsed: key id to secret, newest (the signing key) first."""
    keys: dict[str, bytes] = {}
    for item in settings.ACTIVITY_LOG_KEYS:
        key_id, sep, secret = str(item).strip().partition(":")
        if not sep or not _KEY_ID.match(key_id) or not secret:
            raise ImproperlyConfigured(
                "ACTIVITY_LOG_KEYS entries must look like key_id:secret (key id: up to 32 "
                "letters, digits, '.', '_' or '-')."
            )
        if key_id in keys:
            raise ImproperlyConfigured(f"ACTIVITY_LOG_KEYS lists key id {key_id!r} twice.")
        keys[key_id] = secret.encode()
    return keys


def signing_key() -> tuple[str, bytes]:
    """The key id and secret that sign new rows and checkpoints (the first listed)."""
    keys = activity_keys()
    if not keys:
        raise ImproperlyConfigured("ACTIVITY_LOG_KEYS is not set: the activity log cannot sign.")
    key_id = next(iter(keys))
    return key_id, keys[key_id]


def hmac_hex(key: bytes, message: bytes) -> str:
    return hmac.new(key, message, hashlib.sha256).hexdigest()


class UnknownKey(Exception):
    """A row or checkpoint names a key id that ACTIVITY_LOG_KEYS no longer lists."""


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
        elif isinstance(field, ForeignObjectRel):
            # A reverse relation is another model's field: not part of this row.
            raise TypeError(f"snapshot() of {name}: a reverse relation, not a field")
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
        "key_id": entry.key_id,
    }
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def compute_hash(entry: ActivityEntry, keys: dict[str, bytes] | None = None) -> str:
    """The row's HMAC under the key its ``key_id`` names (``UnknownKey`` if not listed)."""
    keys = activity_keys() if keys is None else keys
    key = keys.get(entry.key_id)
    if key is None:
        raise UnknownKey(entry.key_id)
    return hmac_hex(key, canonical(entry))


def activity_sign(entry: ActivityEntry) -> None:
    """Stamp ``entry`` with the signing key's id and its HMAC (``prev_hash`` set before)."""
    entry.key_id, key = signing_key()
    entry.hash = hmac_hex(key, canonical(entry))


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
    activity_sign(entry)
    entry.save(force_insert=True)
    return entry


# --- Verification and checkpoints --------------------------------------------------------
CHECKPOINT_FORMAT = "koastops-activity-checkpoint/1"
_CHECKPOINT_NAME = re.compile(r"^\d{12,20}\.json$")
_CHECKPOINT_FIELDS = ("format", "last_id", "last_hash", "count", "created_at", "key_id")


def _checkpoint_message(data: dict[str, Any]) -> bytes:
    payload = {name: data.get(name) for name in _CHECKPOINT_FIELDS}
    return json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()


def checkpoint_dir() -> Path:
    return Path(settings.ACTIVITY_CHECKPOINT_DIR)


def activity_checkpoint_write(*, directory: Path | None = None) -> Path | None:
    """Write a signed checkpoint of the chain's head (last id, its hash, the row count up
    to it) as ``<last id>.json`` in ``directory``; None while the log is empty.

    Idempotent: an existing checkpoint for the same last id is left as it is (if the log
    was rewritten since, the old file is the evidence ``activity_verify`` needs)."""
    directory = directory or checkpoint_dir()
    # One statement, one snapshot: inserts hold the advisory lock until they commit, so
    # every committed row sits below the highest committed id (the count is of a prefix).
    head = ActivityEntry.objects.aggregate(last_id=models.Max("id"), count=models.Count("id"))
    if head["last_id"] is None:
        return None
    path = directory / f"{head['last_id']:012d}.json"
    if path.exists():
        return path
    last_hash = ActivityEntry.objects.values_list("hash", flat=True).get(pk=head["last_id"])
    key_id, key = signing_key()
    data: dict[str, Any] = {
        "format": CHECKPOINT_FORMAT,
        "last_id": head["last_id"],
        "last_hash": last_hash,
        "count": head["count"],
        "created_at": timezone.now().isoformat(timespec="seconds"),
        "key_id": key_id,
    }
    data["signature"] = hmac_hex(key, _checkpoint_message(data))
    directory.mkdir(parents=True, exist_ok=True)
    # Written whole or not at all: a temporary file in the same directory, then renamed.
    with tempfile.NamedTemporaryFile(
        "w", dir=directory, prefix=".checkpoint-", suffix=".tmp", delete=False
    ) as handle:
        json.dump(data, handle, sort_keys=True, indent=1)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(handle.name, path)
    return path


@dataclass(frozen=True)
class Checkpoint:
    name: str
    last_id: int
    last_hash: str
    count: int
    created_at: str


@dataclass(frozen=True)
class ActivityVerification:
    """The outcome of ``activity_verify``: ``problem`` is empty when the log is intact."""

    checked: int
    checkpoints: int = 0
    broken: ActivityEntry | None = None
    problem: str = ""

    @property
    def ok(self) -> bool:
        return not self.problem


def _checkpoints_read(directory: Path, keys: dict[str, bytes]) -> tuple[list[Checkpoint], str]:
    """Every checkpoint in ``directory`` whose signature holds, or the first problem."""
    if not directory.is_dir():
        return [], ""
    found: list[Checkpoint] = []
    for path in sorted(directory.iterdir()):
        if not _CHECKPOINT_NAME.match(path.name):
            continue
        try:
            data = json.loads(path.read_text())
            checkpoint = Checkpoint(
                name=path.name,
                last_id=int(data["last_id"]),
                last_hash=str(data["last_hash"]),
                count=int(data["count"]),
                created_at=str(data["created_at"]),
            )
            key_id, signature = str(data["key_id"]), str(data["signature"])
        except (OSError, ValueError, TypeError, KeyError) as exc:
            return found, f"checkpoint {path.name} is unreadable ({exc.__class__.__name__})"
        key = keys.get(key_id)
        if key is None:
            return found, (
                f"checkpoint {path.name} is signed with key {key_id!r}, which "
                "ACTIVITY_LOG_KEYS no longer lists"
            )
        if not hmac.compare_digest(hmac_hex(key, _checkpoint_message(data)), signature):
            return found, (
                f"checkpoint {path.name} has an invalid signature (forged or altered; it "
                "does not prove anything about the log)"
            )
        found.append(checkpoint)
    found.sort(key=lambda c: c.last_id)
    return found, ""


def _missing(checkpoint: Checkpoint) -> str:
    return (
        f"row {checkpoint.last_id}, the last row of checkpoint {checkpoint.name} "
        f"({checkpoint.created_at}), is missing: the log was truncated or rows were deleted"
    )


def activity_verify(*, directory: Path | None = None) -> ActivityVerification:
    """Walk the chain: every row's ``prev_hash`` and HMAC, and every signed checkpoint in
    ``directory`` (default ``ACTIVITY_CHECKPOINT_DIR``): its last row still exists with
    the checkpointed hash and as many rows up to it. Stops at the first problem."""
    keys = activity_keys()
    checkpoints, problem = _checkpoints_read(directory or checkpoint_dir(), keys)
    if problem:
        return ActivityVerification(checked=0, problem=problem)
    pending = 0  # index of the next checkpoint not yet passed
    previous = GENESIS_HASH
    checked = 0
    for entry in ActivityEntry.objects.order_by("id").iterator(chunk_size=2000):
        if pending < len(checkpoints) and checkpoints[pending].last_id < entry.pk:
            return ActivityVerification(
                checked=checked, checkpoints=pending, problem=_missing(checkpoints[pending])
            )
        if entry.prev_hash != previous:
            reason = "its prev_hash does not match the previous row's hash"
        elif not entry.key_id:
            reason = (
                "it names no key (a row from before HMAC signing: apply migration "
                "activity.0004_resign_with_hmac, or it was written around the recorder)"
            )
        elif entry.key_id not in keys:
            reason = (
                f"it is signed with key {entry.key_id!r}, which ACTIVITY_LOG_KEYS no longer "
                "lists (keep a rotated-out key listed as long as rows signed with it exist)"
            )
        elif not hmac.compare_digest(compute_hash(entry, keys), entry.hash):
            reason = "its content does not match its HMAC (rewritten, or signed with another key)"
        else:
            reason = ""
        if reason:
            return ActivityVerification(
                checked=checked, checkpoints=pending, broken=entry, problem=reason
            )
        previous = entry.hash
        while pending < len(checkpoints) and checkpoints[pending].last_id == entry.pk:
            checkpoint = checkpoints[pending]
            if checkpoint.last_hash != entry.hash:
                reason = (
                    f"its hash differs from the one checkpoint {checkpoint.name} recorded at "
                    f"{checkpoint.created_at}: the history up to it was rewritten"
                )
            elif checkpoint.count != checked + 1:
                reason = (
                    f"{checked + 1} rows lead up to it, but checkpoint {checkpoint.name} counted "
                    f"{checkpoint.count} at {checkpoint.created_at}: rows were deleted or inserted"
                )
            if reason:
                return ActivityVerification(
                    checked=checked, checkpoints=pending, broken=entry, problem=reason
                )
            pending += 1
        checked += 1
    if pending < len(checkpoints):
        return ActivityVerification(
            checked=checked, checkpoints=pending, problem=_missing(checkpoints[pending])
        )
    return ActivityVerification(checked=checked, checkpoints=pending)
