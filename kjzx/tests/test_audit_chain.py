"""The audit history proves itself (decision "Audit that proves itself"; security promises 57–59).

Each row carries the keyed hash (HMAC-SM3) of the row before it; the table refuses UPDATE and DELETE
(a trigger, like the ledger's) and so does the ORM; ``manage.py audit_verify`` walks the chain and
names the first broken link — an altered row, a deleted one — and exits non-zero; concurrent writers
keep one linear chain; the retention cannot be set below six months.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import threading
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, connections, transaction
from django.test import override_settings

from kjzx import audit_chain
from kjzx.audit import events_shift, record_event
from kjzx.audit_chain import GENESIS, AppendOnlyError
from kjzx.models import AuditEvent

ROOT = Path(__file__).resolve().parents[2]


def make_events(n: int, **kwargs) -> list[AuditEvent]:
    return [record_event(None, "test.event", extra={"n": index, **kwargs}) for index in range(n)]


def verify_output(*args) -> str:
    out = StringIO()
    call_command("audit_verify", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def verify_failure(*args) -> tuple[str, str]:
    """audit_verify's error (the first broken link) and what it printed on stderr."""
    err = StringIO()
    with pytest.raises(CommandError) as failed:
        call_command("audit_verify", *args, stdout=StringIO(), stderr=err)
    return str(failed.value), err.getvalue()


def tamper(sql: str, params=()) -> None:
    """What someone with the database's superuser could do: switch the trigger off, write, switch it on."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no pending FK checks: ALTER TABLE may run
        cursor.execute(f"ALTER TABLE kjzx_auditevent DISABLE TRIGGER {audit_chain.TRIGGER}")
        cursor.execute(sql, params)
        cursor.execute(f"ALTER TABLE kjzx_auditevent ENABLE TRIGGER {audit_chain.TRIGGER}")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")


# --- the chain ------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_each_row_carries_the_keyed_hash_of_the_one_before(accountant):
    """prev_hash is the previous row's row_hash; row_hash is HMAC-SM3 over the row's fields (promise 58)."""
    before = AuditEvent.objects.order_by("-id").values_list("row_hash", flat=True).first() or GENESIS
    events = [*make_events(3), record_event(accountant, "account.login", by=accountant, ip="10.1.2.3",
                                            reason="因为", extra={"f": 1e20, "x": 0.1, "n": [1, True, None]})]
    assert [event.prev_hash for event in events] == [before] + [event.row_hash for event in events[:-1]]
    key = audit_chain.keys()[audit_chain.current_key_id()]
    for event in AuditEvent.objects.filter(pk__in=[event.pk for event in events]):  # as the database gives them
        assert event.key_id == "1"
        assert len(event.row_hash) == 64
        assert audit_chain.digest(event.prev_hash, audit_chain.row_of(event), key) == event.row_hash
    assert [event.id for event in events] == sorted(event.id for event in events)


def test_the_hash_is_hmac_sm3():
    """The national hash (GB/T 32905), keyed: a known HMAC-SM3 value, and another key gives another hash."""
    from cryptography.hazmat.primitives import hashes, hmac

    mac = hmac.HMAC(b"key", hashes.SM3())
    mac.update(b"0" * 64 + b"\n" + audit_chain.canonical({"id": 1, "at": dt.datetime(2026, 1, 1, tzinfo=dt.UTC)}))
    row = {"id": 1, "at": dt.datetime(2026, 1, 1, tzinfo=dt.UTC)}
    assert audit_chain.digest(GENESIS, row, b"key") == mac.finalize().hex()
    assert audit_chain.digest(GENESIS, row, b"another key") != audit_chain.digest(GENESIS, row, b"key")


# --- append-only --------------------------------------------------------------------------------

@pytest.mark.django_db
def test_the_database_refuses_update_and_delete():
    """The trigger refuses UPDATE and DELETE for everyone going through the table, raw SQL too (promise 58)."""
    event = make_events(1)[0]
    for sql in ("UPDATE kjzx_auditevent SET reason = 'x' WHERE id = %s", "DELETE FROM kjzx_auditevent WHERE id = %s"):
        with pytest.raises(DatabaseError, match="审计记录只可追加"), transaction.atomic(), connection.cursor() as cur:
            cur.execute(sql, [event.pk])
    assert AuditEvent.objects.get(pk=event.pk).reason == ""


@pytest.mark.django_db
def test_the_orm_refuses_to_change_or_delete_a_row():
    """save() on an existing row, delete() and the queryset's update()/delete() raise (STYLE §3)."""
    event = make_events(1)[0]
    event.reason = "改过"
    for attempt in (event.save, event.delete, AuditEvent.objects.filter(pk=event.pk).delete,
                    lambda: AuditEvent.objects.filter(pk=event.pk).update(reason="改过")):
        with pytest.raises(AppendOnlyError, match="只可追加"):
            attempt()
    assert AuditEvent.objects.get(pk=event.pk).reason == ""


@pytest.mark.django_db
def test_bulk_create_chains_every_row():
    """record_events (one INSERT for many targets) chains each row like record_event does."""
    rows = AuditEvent.objects.bulk_create([AuditEvent(event_type="test.bulk", extra={"n": n}) for n in range(5)])
    assert [row.prev_hash for row in rows[1:]] == [row.row_hash for row in rows[:-1]]
    assert "审计链完整" in verify_output()


# --- audit_verify -------------------------------------------------------------------------------

@pytest.mark.django_db
def test_audit_verify_passes_an_intact_chain_and_prints_its_head():
    events = make_events(5)
    out = verify_output()
    assert "审计链完整" in out and f"末条 id={events[-1].pk}，哈希 {events[-1].row_hash}" in out
    assert "审计链完整" in verify_output("--expect", f"{events[-1].pk}:{events[-1].row_hash}")


@pytest.mark.django_db
def test_audit_verify_names_an_altered_row():
    """An altered row (trigger bypassed as superuser) is named: its id, its time, expected vs found."""
    events = make_events(10)
    victim = events[4]
    tamper("UPDATE kjzx_auditevent SET reason = '已篡改' WHERE id = %s", [victim.pk])
    message, printed = verify_failure()
    assert f"id={victim.pk}（" in message and "被修改" in message
    assert f"实为 {victim.row_hash}" in message  # found: the stored hash; expected: the recomputed one
    assert victim.at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S") in message
    assert printed.count("断裂") == 1


@pytest.mark.django_db
def test_audit_verify_names_a_deleted_row():
    """A row deleted in the middle: the next row's link to its predecessor is broken, and named."""
    events = make_events(10)
    tamper("DELETE FROM kjzx_auditevent WHERE id = %s", [events[5].pk])
    message, _ = verify_failure()
    assert f"id={events[6].pk}（" in message and "前一条哈希不符" in message
    assert f"应为 {events[4].row_hash}，实为 {events[5].row_hash}" in message


@pytest.mark.django_db
def test_every_field_is_covered_by_the_hash():
    """Altering any one field of a row — each of the 15 stored columns in turn — is detected (R11: n/n)."""
    events = make_events(3)
    victim = events[1]
    changes = {
        "at": "at + interval '1 second'", "actor_role": "'province_staff'", "event_type": "'account.login'",
        "target_type_id": "(SELECT min(id) FROM django_content_type)", "target_id": "'999'",
        "from_state": "'draft'", "to_state": "'approved'", "reason": "'x'", "ip_address": "'10.9.9.9'",
        "user_agent": "'curl'", "extra": "'{\"n\": 2}'::jsonb", "key_id": "'2'", "prev_hash": f"'{'1' * 64}'",
        "row_hash": f"'{'2' * 64}'", "actor_id": "(SELECT min(id) FROM accounts_user)",
    }
    from tests.factories import make_accountant

    make_accountant()  # someone for actor_id
    detected = 0
    for column, value in changes.items():
        original = AuditEvent.objects.filter(pk=victim.pk).values_list(column, flat=True).get()
        tamper(f"UPDATE kjzx_auditevent SET {column} = {value} WHERE id = %s", [victim.pk])  # noqa: S608
        message, _ = verify_failure()
        detected += f"id={victim.pk}（" in message or f"id={events[2].pk}（" in message
        with transaction.atomic(), connection.cursor() as cursor:  # put it back for the next column
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f"ALTER TABLE kjzx_auditevent DISABLE TRIGGER {audit_chain.TRIGGER}")
            AuditEvent._base_manager.filter(pk=victim.pk).update(**{column: original})
            cursor.execute(f"ALTER TABLE kjzx_auditevent ENABLE TRIGGER {audit_chain.TRIGGER}")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        assert "审计链完整" in verify_output(), column
    assert detected == len(changes) == 15


@pytest.mark.django_db
def test_all_names_exactly_the_tampered_places():
    """--all: 3 tampers among 30 rows (two altered, one deleted) → exactly 3 places named (promise 58)."""
    events = make_events(30)
    tamper("UPDATE kjzx_auditevent SET extra = '{\"n\": 99}'::jsonb WHERE id = %s", [events[3].pk])
    tamper("UPDATE kjzx_auditevent SET at = at - interval '1 day' WHERE id = %s", [events[17].pk])
    tamper("DELETE FROM kjzx_auditevent WHERE id = %s", [events[24].pk])
    message, printed = verify_failure("--all")
    named = [line.split("id=")[1].split("（")[0] for line in printed.splitlines() if line.startswith("断裂")]
    assert named == [str(events[3].pk), str(events[17].pk), str(events[25].pk)]
    assert "共 3 处" in message


@pytest.mark.django_db
def test_re_chaining_without_the_key_is_found():
    """Someone who can write to the table but lacks the key alters a row and recomputes every later hash
    with a key of their own (or plain SM3): the altered row no longer matches (promise 58, keyed HMAC)."""
    events = make_events(5)
    forged_key = b"guessed"
    rows = list(AuditEvent.objects.filter(pk__gte=events[2].pk).order_by("id"))
    prev = rows[0].prev_hash
    rows[0].reason = "伪造"
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f"ALTER TABLE kjzx_auditevent DISABLE TRIGGER {audit_chain.TRIGGER}")
        for row in rows:
            row.prev_hash = prev
            row.row_hash = prev = audit_chain.digest(prev, audit_chain.row_of(row), forged_key)
            AuditEvent._base_manager.filter(pk=row.pk).update(reason=row.reason, prev_hash=row.prev_hash,
                                                              row_hash=row.row_hash)
        cursor.execute(f"ALTER TABLE kjzx_auditevent ENABLE TRIGGER {audit_chain.TRIGGER}")
    message, _ = verify_failure()
    assert f"id={events[2].pk}（" in message and "被修改" in message


@pytest.mark.django_db
def test_an_anchor_taken_before_finds_the_newest_rows_removed():
    """Removing the newest rows leaves a valid chain; the head printed by an earlier run does not match."""
    events = make_events(4)
    anchor = f"{events[-1].pk}:{events[-1].row_hash}"
    tamper("DELETE FROM kjzx_auditevent WHERE id = %s", [events[-1].pk])
    message, _ = verify_failure("--expect", anchor)
    assert "锚点不符" in message and "该记录不存在" in message


@pytest.mark.django_db
def test_a_rotated_key_still_verifies_old_rows_and_an_unknown_key_is_named():
    """Rows name their key; after a rotation the old key, kept in AUDIT_CHAIN_OLD_KEYS, verifies them."""
    with override_settings(AUDIT_CHAIN_KEY="old-key-" + "o" * 32, AUDIT_CHAIN_KEY_ID="2026a"):
        old = make_events(2)
    with override_settings(AUDIT_CHAIN_KEY="new-key-" + "n" * 32, AUDIT_CHAIN_KEY_ID="2026b",
                           AUDIT_CHAIN_OLD_KEYS="2026a:old-key-" + "o" * 32):
        new = make_events(2)
        assert [e.key_id for e in old + new] == ["2026a", "2026a", "2026b", "2026b"]
        assert new[0].prev_hash == old[-1].row_hash
        assert "审计链完整" in verify_output()
    with override_settings(AUDIT_CHAIN_KEY="new-key-" + "n" * 32, AUDIT_CHAIN_KEY_ID="2026b"):
        message, _ = verify_failure()
    assert "未知的密钥编号" in message and "实为 2026a" in message


# --- concurrency -------------------------------------------------------------------------------

@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_writers_keep_one_linear_chain():
    """8 threads with their own connections append 25 events each (some two per transaction, some rolled
    back): the chain stays linear — ids in chain order, every link intact."""
    writers, each = 8, 25
    start = threading.Barrier(writers)
    errors: list[BaseException] = []

    def write(worker: int) -> None:
        try:
            start.wait()
            for n in range(each):
                if n % 5 == 4:  # a transaction that writes and rolls back: its id is skipped, not its link
                    try:
                        with transaction.atomic():
                            record_event(None, "test.rolled_back", extra={"w": worker})
                            raise RuntimeError
                    except RuntimeError:
                        pass
                with transaction.atomic():
                    record_event(None, "test.concurrent", extra={"w": worker, "n": n})
                    if n % 3 == 0:
                        record_event(None, "test.concurrent", extra={"w": worker, "n": n, "second": True})
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write, args=(worker,)) for worker in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors
    written = AuditEvent.objects.filter(event_type="test.concurrent")
    assert written.count() == writers * (each + 9)  # 25 + the 9 second rows (n = 0, 3, …, 24)
    assert not AuditEvent.objects.filter(event_type="test.rolled_back").exists()
    rows = list(AuditEvent.objects.order_by("id").values_list("prev_hash", "row_hash"))
    assert rows[0][0] == GENESIS
    assert all(rows[i][0] == rows[i - 1][1] for i in range(1, len(rows)))
    assert "审计链完整" in verify_output()


# --- the demo's past -------------------------------------------------------------------------------

@pytest.mark.django_db
def test_moving_demo_events_back_keeps_the_chain_and_the_trigger():
    """The demo loader back-dates events (records.demo): times move, the chain is re-computed, and the
    trigger is on again afterwards."""
    events = make_events(6)
    moved = events_shift(AuditEvent.objects.filter(pk__in=[events[1].pk, events[3].pk]), -dt.timedelta(days=3))
    assert moved == 2
    assert AuditEvent.objects.get(pk=events[1].pk).at == events[1].at - dt.timedelta(days=3)
    assert "审计链完整" in verify_output()
    with pytest.raises(DatabaseError, match="审计记录只可追加"), transaction.atomic(), connection.cursor() as cur:
        cur.execute("UPDATE kjzx_auditevent SET reason = 'x' WHERE id = %s", [events[0].pk])


def test_the_demo_leaves_an_intact_chain(demo):
    """load_demo, twice, back-dating its stories' events: audit_verify finds the chain intact."""
    out = verify_output()
    assert "审计链完整" in out
    assert AuditEvent.objects.count() > 100


# --- retention ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("days", "refused"), [("183", True), ("184", False), ("400", False)])
def test_retention_shorter_than_six_months_is_refused(days, refused):
    """AUDIT_RETENTION_DAYS below 184 stops the portal at start (promise 59: ≥ 184 days)."""
    env = {**os.environ, "AUDIT_RETENTION_DAYS": days, "DJANGO_SETTINGS_MODULE": "kjzx.settings",
           "SECRET_KEY": "s" * 60}
    env.pop("DEBUG", None)
    result = subprocess.run([sys.executable, "-c", "import django; django.setup()"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert (result.returncode != 0) is refused, result.stderr
    assert ("AUDIT_RETENTION_DAYS must be at least 184" in result.stderr) is refused
