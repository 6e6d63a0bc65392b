"""The log cannot be quietly rewritten: HMAC links under a key outside the database, signed
checkpoints outside it, key rotation. Tampering needs the append-only trigger switched off,
which these tests do as the PostgreSQL superuser (the owner can; the app role cannot, see
test_app_role.py)."""

from __future__ import annotations

import hashlib
import hmac
import importlib
import json
from collections.abc import Callable

import pytest
from django.apps import apps
from django.core.checks import run_checks
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction

from koastops.activity import tasks
from koastops.activity.models import ActivityEntry
from koastops.activity.services import (
    GENESIS_HASH,
    activity_checkpoint_write,
    activity_record,
    activity_verify,
    canonical,
)

pytestmark = pytest.mark.django_db

TABLE = "activity_activityentry"
KEY = b"test-only-activity-log-key-not-for-production-42"  # pyproject.toml's test1 key


def _record(user, brand, n: int = 0) -> ActivityEntry:
    with transaction.atomic():
        return activity_record(
            verb="brand.updated", actor=user, target=brand, brand=brand, after={"n": n}
        )


def _rows(admin_user, brand, count: int) -> list[ActivityEntry]:
    return [_record(admin_user, brand, n) for n in range(count)]


def _as_owner(statements: Callable[[], None]) -> None:
    """Run ``statements`` with the append-only trigger off, as only the owner can."""
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"ALTER TABLE {TABLE} DISABLE TRIGGER USER")
        statements()
        if connection.vendor == "postgresql":
            cursor.execute(f"ALTER TABLE {TABLE} ENABLE TRIGGER USER")


def _rechain(sign: Callable[[ActivityEntry], str], *, first_change: Callable | None = None):
    """What an attacker with the owner's rights does: rewrite, then recompute every link."""

    def rewrite() -> None:
        previous = GENESIS_HASH
        for entry in ActivityEntry.objects.order_by("id"):
            if first_change is not None:
                first_change(entry)
            entry.prev_hash = previous
            entry.hash = sign(entry)
            previous = entry.hash
            entry.save(update_fields=["target_label", "after", "prev_hash", "hash"])

    _as_owner(rewrite)


def _sha256(entry: ActivityEntry) -> str:
    return hashlib.sha256(canonical(entry)).hexdigest()


def _hmac_with(key: bytes) -> Callable[[ActivityEntry], str]:
    return lambda entry: hmac.new(key, canonical(entry), hashlib.sha256).hexdigest()


def _rewrite_second(entry: ActivityEntry) -> None:
    if entry.after == {"n": 1}:
        entry.target_label = "rewritten"


def test_intact_log_verifies_with_its_checkpoints(admin_user, brand, capsys):
    _rows(admin_user, brand, 2)
    assert activity_checkpoint_write() is not None
    _record(admin_user, brand, 2)
    result = activity_verify()
    assert (result.ok, result.checked, result.checkpoints) == (True, 3, 1)
    call_command("verify_activity_log")
    assert "3 rows verified; 1 checkpoints in" in capsys.readouterr().out


@pytest.mark.parametrize(
    "sign", [_sha256, _hmac_with(b"a-guessed-key")], ids=["plain-sha256", "wrong-key"]
)
def test_a_chain_recomputed_without_the_key_is_found(admin_user, brand, sign):
    rows = _rows(admin_user, brand, 3)
    _rechain(sign, first_change=_rewrite_second)
    result = activity_verify()
    # Every row was re-linked, so the very first one already fails its HMAC.
    assert result.broken is not None and result.broken.pk == rows[0].pk
    assert "does not match its HMAC" in result.problem
    with pytest.raises(CommandError, match=f"broken at row {rows[0].pk} .*HMAC"):
        call_command("verify_activity_log")


def test_a_history_rechained_with_the_key_is_found_by_the_checkpoint(admin_user, brand):
    """Even someone holding the key cannot rewrite what a checkpoint already recorded."""
    rows = _rows(admin_user, brand, 3)
    path = activity_checkpoint_write()
    _rechain(_hmac_with(KEY), first_change=_rewrite_second)
    result = activity_verify()
    assert result.broken is not None and result.broken.pk == rows[2].pk
    assert f"differs from the one checkpoint {path.name} recorded" in result.problem


def test_a_deleted_tail_is_found_via_the_checkpoint(admin_user, brand):
    rows = _rows(admin_user, brand, 4)
    path = activity_checkpoint_write()
    _as_owner(lambda: ActivityEntry.objects.filter(pk__gte=rows[2].pk).delete())
    # What is left is a perfectly valid chain; only the checkpoint knows it was longer.
    result = activity_verify()
    assert not result.ok and result.broken is None
    assert f"row {rows[3].pk}, the last row of checkpoint {path.name}" in result.problem
    assert "truncated or rows were deleted" in result.problem
    with pytest.raises(CommandError, match="truncated or rows were deleted"):
        call_command("verify_activity_log")


def test_a_deleted_tail_is_found_even_after_new_rows_chain_onto_the_rest(admin_user, brand):
    rows = _rows(admin_user, brand, 3)
    activity_checkpoint_write()
    _as_owner(lambda: ActivityEntry.objects.filter(pk=rows[2].pk).delete())
    later = _record(admin_user, brand, 9)  # links to rows[1]: the chain alone looks fine
    result = activity_verify()
    assert f"row {rows[2].pk}, the last row of checkpoint" in result.problem
    assert result.checked == 2 and later.prev_hash == rows[1].hash


def test_rechaining_changes_the_checkpointed_hash_even_when_a_middle_row_goes(admin_user, brand):
    rows = _rows(admin_user, brand, 3)
    activity_checkpoint_write()
    # The key holder deletes a middle row and re-signs: the head's hash cannot stay the same.
    _as_owner(lambda: ActivityEntry.objects.filter(pk=rows[0].pk).delete())
    _rechain(_hmac_with(KEY))
    result = activity_verify()
    assert result.broken.pk == rows[2].pk and "the history up to it was rewritten" in result.problem


def test_a_row_count_that_differs_from_the_checkpoint_is_found(admin_user, brand):
    rows = _rows(admin_user, brand, 3)
    path = activity_checkpoint_write()
    data = json.loads(path.read_text())
    data["count"] = 4  # validly signed, but counting a row that is no longer there
    signed = {k: v for k, v in data.items() if k != "signature"}
    message = json.dumps(signed, sort_keys=True, separators=(",", ":")).encode()
    data["signature"] = hmac.new(KEY, message, hashlib.sha256).hexdigest()
    path.write_text(json.dumps(data))
    result = activity_verify()
    assert result.broken.pk == rows[2].pk
    assert f"3 rows lead up to it, but checkpoint {path.name} counted 4" in result.problem


def test_a_forged_checkpoint_is_refused(admin_user, brand, checkpoint_dir):
    _rows(admin_user, brand, 2)
    path = activity_checkpoint_write()
    data = json.loads(path.read_text())
    data["count"] = 1
    path.write_text(json.dumps(data))
    result = activity_verify()
    assert result.problem == (
        f"checkpoint {path.name} has an invalid signature (forged or altered; it does not "
        "prove anything about the log)"
    )
    with pytest.raises(CommandError, match="invalid signature"):
        call_command("verify_activity_log", checkpoints=checkpoint_dir)


def test_rotation_old_rows_verify_while_their_key_is_listed(admin_user, brand, settings):
    old_rows = _rows(admin_user, brand, 2)
    activity_checkpoint_write()
    settings.ACTIVITY_LOG_KEYS = ["2027a:a-new-key-for-the-next-year", *settings.ACTIVITY_LOG_KEYS]
    new_row = _record(admin_user, brand, 2)
    assert [r.key_id for r in old_rows] == ["test1", "test1"]
    assert new_row.key_id == "2027a"
    result = activity_verify()
    assert (result.ok, result.checked, result.checkpoints) == (True, 3, 1)

    settings.ACTIVITY_LOG_KEYS = ["2027a:a-new-key-for-the-next-year"]
    result = activity_verify()
    # The checkpoint was signed with the old key too; it is named first.
    assert "signed with key 'test1', which ACTIVITY_LOG_KEYS no longer lists" in result.problem


def test_rotation_removing_the_old_key_names_the_first_row_it_signed(admin_user, brand, settings):
    old_row = _record(admin_user, brand)
    settings.ACTIVITY_LOG_KEYS = ["2027a:a-new-key-for-the-next-year"]
    _record(admin_user, brand, 1)
    result = activity_verify()
    assert result.broken.pk == old_row.pk
    assert "signed with key 'test1', which ACTIVITY_LOG_KEYS no longer lists" in result.problem
    with pytest.raises(CommandError, match=f"broken at row {old_row.pk} .*'test1'"):
        call_command("verify_activity_log")


def test_recording_without_a_key_fails_and_writes_nothing(admin_user, brand, settings):
    settings.ACTIVITY_LOG_KEYS = []
    with pytest.raises(Exception, match="ACTIVITY_LOG_KEYS is not set"):
        _record(admin_user, brand)
    assert ActivityEntry.objects.count() == 0


def test_deploy_check_requires_activity_log_keys(settings):
    settings.ACTIVITY_LOG_KEYS = []
    settings.ACTIVITY_CHECKPOINT_WEBHOOK_URL = "http://receiver.example.com/hook"
    ids = {error.id for error in run_checks(include_deployment_checks=True)}
    assert {"koastops.E101", "koastops.E103"} <= ids
    for bad in (["nocolon"], ["key id with spaces:secret"], ["k1:"]):
        settings.ACTIVITY_LOG_KEYS = bad
        ids = {error.id for error in run_checks(include_deployment_checks=True)}
        assert "koastops.E102" in ids, bad
    settings.ACTIVITY_LOG_KEYS = ["2026a:a-secret", "2025b:another"]
    settings.ACTIVITY_CHECKPOINT_WEBHOOK_URL = "https://receiver.example.com/hook"
    ids = {error.id for error in run_checks(include_deployment_checks=True)}
    assert not ids & {"koastops.E101", "koastops.E102", "koastops.E103"}


class _SchemaEditor:
    """The two things the data migration uses (SQLite's real editor refuses to open
    inside the test's transaction)."""

    connection = connection

    def execute(self, sql: str) -> None:
        with connection.cursor() as cursor:
            cursor.execute(sql)


def test_migration_re_signs_a_legacy_sha256_chain(admin_user, brand):
    """0004: rows chained with plain SHA-256 (no key id) become an HMAC chain."""
    migration = importlib.import_module("koastops.activity.migrations.0004_resign_with_hmac")
    rows = _rows(admin_user, brand, 3)

    def to_legacy() -> None:
        previous = GENESIS_HASH
        for entry in ActivityEntry.objects.order_by("id"):
            entry.key_id, entry.prev_hash = "", previous
            entry.hash = migration._legacy_hash(entry)
            previous = entry.hash
            entry.save(update_fields=["key_id", "prev_hash", "hash"])

    _as_owner(to_legacy)
    assert "it names no key (a row from before HMAC signing" in activity_verify().problem
    with transaction.atomic():
        migration.forward(apps, _SchemaEditor())
    result = activity_verify()
    assert (result.ok, result.checked) == (True, 3)
    assert set(ActivityEntry.objects.values_list("key_id", flat=True)) == {"test1"}
    assert ActivityEntry.objects.get(pk=rows[1].pk).prev_hash != GENESIS_HASH


def test_migration_refuses_to_re_sign_a_broken_legacy_chain(admin_user, brand):
    migration = importlib.import_module("koastops.activity.migrations.0004_resign_with_hmac")
    rows = _rows(admin_user, brand, 2)  # HMAC rows: not a valid legacy chain
    with (
        pytest.raises(RuntimeError, match=f"row {rows[0].pk} does not verify"),
        transaction.atomic(),
    ):
        migration.forward(apps, _SchemaEditor())


# --- The checkpoint tasks ------------------------------------------------------------------


def test_checkpoint_task_writes_a_valid_signed_file(admin_user, brand, checkpoint_dir):
    rows = _rows(admin_user, brand, 3)
    tasks.checkpoint_write()
    [path] = checkpoint_dir.iterdir()
    data = json.loads(path.read_text())
    assert path.name == f"{rows[-1].pk:012d}.json"
    assert {k: data[k] for k in ("last_id", "last_hash", "count", "key_id")} == {
        "last_id": rows[-1].pk,
        "last_hash": rows[-1].hash,
        "count": 3,
        "key_id": "test1",
    }
    signed = {k: v for k, v in data.items() if k != "signature"}
    message = json.dumps(signed, sort_keys=True, separators=(",", ":")).encode()
    assert data["signature"] == hmac.new(KEY, message, hashlib.sha256).hexdigest()
    # Idempotent: nothing new, nothing rewritten.
    before = path.read_bytes()
    tasks.checkpoint_write()
    assert list(checkpoint_dir.iterdir()) == [path] and path.read_bytes() == before
    assert activity_verify().checkpoints == 1


def test_checkpoint_task_writes_nothing_for_an_empty_log(db, checkpoint_dir):
    tasks.checkpoint_write()
    assert not checkpoint_dir.exists() or not list(checkpoint_dir.iterdir())


def test_checkpoint_task_hands_the_file_to_the_webhook_task(
    admin_user, brand, settings, monkeypatch
):
    settings.ACTIVITY_CHECKPOINT_WEBHOOK_URL = "https://receiver.example.com/hook"
    sent: list[str] = []
    monkeypatch.setattr(tasks.checkpoint_post, "delay", sent.append)
    row = _record(admin_user, brand)
    tasks.checkpoint_write()
    assert sent == [f"{row.pk:012d}.json"]


def test_webhook_task_retries_unavailable_then_delivers(admin_user, brand, settings, monkeypatch):
    settings.ACTIVITY_CHECKPOINT_WEBHOOK_URL = "https://receiver.example.com/hook"
    path = (_record(admin_user, brand), activity_checkpoint_write())[1]
    answers = [503, 429, 200]
    calls: list[tuple[str, bytes]] = []

    def post(url: str, body: bytes) -> int:
        calls.append((url, body))
        status = answers.pop(0)
        if status >= 400:
            raise tasks.urllib.error.HTTPError(url, status, "unavailable", {}, None)
        return status

    monkeypatch.setattr(tasks, "_post", post)
    result = tasks.checkpoint_post.apply(args=[path.name])  # retries run in place here
    assert result.successful()
    assert len(calls) == 3
    assert calls[-1] == ("https://receiver.example.com/hook", path.read_bytes())


def test_webhook_task_gives_up_on_a_client_error(admin_user, brand, settings, monkeypatch):
    settings.ACTIVITY_CHECKPOINT_WEBHOOK_URL = "https://receiver.example.com/hook"
    path = (_record(admin_user, brand), activity_checkpoint_write())[1]
    calls: list[str] = []

    def post(url: str, body: bytes) -> int:
        calls.append(url)
        raise tasks.urllib.error.HTTPError(url, 404, "not found", {}, None)

    monkeypatch.setattr(tasks, "_post", post)
    assert tasks.checkpoint_post.apply(args=[path.name]).successful()
    assert calls == ["https://receiver.example.com/hook"]


def test_webhook_task_sends_nothing_over_plain_http(admin_user, brand, settings, monkeypatch):
    settings.ACTIVITY_CHECKPOINT_WEBHOOK_URL = "http://receiver.example.com/hook"
    path = (_record(admin_user, brand), activity_checkpoint_write())[1]
    calls: list[str] = []
    monkeypatch.setattr(tasks, "_post", lambda url, body: calls.append(url))
    tasks.checkpoint_post.apply(args=[path.name])
    assert calls == []


def test_beat_schedules_the_checkpoint(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["activity-checkpoint"]
    assert entry["task"] == tasks.checkpoint_write.name == "koastops.activity.checkpoint_write"
    assert entry["schedule"] == 600
