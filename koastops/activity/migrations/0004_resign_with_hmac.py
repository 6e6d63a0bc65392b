"""Re-sign the activity log: plain SHA-256 links become HMAC-SHA256 under the first key of
ACTIVITY_LOG_KEYS, row by row in id order, each row recording its key id.

The old chain is verified first: re-signing a chain that is already broken would launder
the tampering, so the migration refuses and names the row instead. On PostgreSQL the
append-only trigger is switched off for the rewrite (migrations run as the table owner)
and on again, all inside the migration's transaction."""

import hashlib
import json

from django.db import migrations

from koastops.activity.services import GENESIS_HASH, canonical, hmac_hex, signing_key

TABLE = "activity_activityentry"
BATCH = 1000


def _legacy_hash(entry) -> str:
    """The hash of a row as 0001/0002 computed it (SHA-256, no key id)."""
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
    data = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(data.encode()).hexdigest()


def _rechain(apps, schema_editor, *, check, sign) -> None:
    ActivityEntry = apps.get_model("activity", "ActivityEntry")
    if not ActivityEntry.objects.exists():
        return
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE {TABLE} DISABLE TRIGGER USER")
    old_previous = new_previous = GENESIS_HASH
    batch = []
    for entry in ActivityEntry.objects.order_by("id").iterator(chunk_size=BATCH):
        if entry.prev_hash != old_previous or check(entry) != entry.hash:
            raise RuntimeError(
                f"activity log row {entry.pk} does not verify before re-signing; refusing to "
                "re-sign a broken chain (that would hide the tampering). Investigate first."
            )
        old_previous = entry.hash
        entry.prev_hash = new_previous
        sign(entry)
        new_previous = entry.hash
        batch.append(entry)
        if len(batch) >= BATCH:
            ActivityEntry.objects.bulk_update(batch, ["prev_hash", "hash", "key_id"])
            batch = []
    if batch:
        ActivityEntry.objects.bulk_update(batch, ["prev_hash", "hash", "key_id"])
    if vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE {TABLE} ENABLE TRIGGER USER")


def forward(apps, schema_editor):
    key_id, key = None, None

    def sign(entry) -> None:
        nonlocal key_id, key
        if key is None:
            key_id, key = signing_key()  # only needed (and required) when rows exist
        entry.key_id = key_id
        entry.hash = hmac_hex(key, canonical(entry))

    _rechain(apps, schema_editor, check=_legacy_hash, sign=sign)


def backward(apps, schema_editor):
    from koastops.activity.services import activity_keys

    keys = activity_keys()

    def check(entry) -> str:
        return hmac_hex(keys[entry.key_id], canonical(entry)) if entry.key_id in keys else ""

    def sign(entry) -> None:
        entry.key_id = ""
        entry.hash = _legacy_hash(entry)

    _rechain(apps, schema_editor, check=check, sign=sign)


class Migration(migrations.Migration):
    dependencies = [("activity", "0003_activityentry_key_id")]

    operations = [migrations.RunPython(forward, backward)]
