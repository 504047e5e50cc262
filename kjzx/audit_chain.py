"""The audit history's hash chain: each row carries the keyed hash of the one before.

"Audit that proves itself" (security promise 58; 等保 8.1.4.3 c, GB/T 39786 §8.4 g): every row of
``kjzx_auditevent`` stores ``prev_hash`` (the previous row's ``row_hash``; 64 zeros for the first) and
``row_hash`` = HMAC-SM3(key, prev_hash + canonical serialisation of the row's fields, its id included).

- **Keyed.** HMAC-SM3 (the national hash, from ``cryptography``) under ``AUDIT_CHAIN_KEY``: someone
  who can write to the database but does not hold the key cannot alter a row and re-chain the rest.
  Each row names its key (``key_id``), so a key can be rotated: new rows take the new key, and the
  old one stays listed in ``AUDIT_CHAIN_OLD_KEYS`` for the verification.
- **Linear under concurrency.** An append takes a PostgreSQL advisory transaction lock, then reads
  the last row and draws the id (one call of ``kjzx_audit_next``, then the INSERT: two queries) — so
  ids, chain order and commit order agree, whatever the number of processes. The lock is held until
  the writer's transaction ends (its row must be visible to the next writer): an audit row written
  early in a long transaction holds up the other writers.
- **Append-only.** A trigger refuses UPDATE and DELETE on the table (migration
  ``kjzx.0008_audit_chain``); ``AuditEvent.save()`` and ``delete()`` and the queryset refuse too.
  The one exception is :func:`rewriting`, for the demo loader's back-dating, which needs the table
  owner's rights and re-chains what it touched.
- ``manage.py audit_verify`` walks the chain (:func:`verify`).
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import functools
import hashlib
import ipaddress
import json
from collections.abc import Iterator
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as crypto_hmac
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connections, transaction

GENESIS = "0" * 64
TABLE = "kjzx_auditevent"
TRIGGER = "kjzx_auditevent_append_only"
# pg_advisory_xact_lock key: "kjzxaudi" as a big-endian 64-bit integer (unique to this chain).
LOCK_KEY = int.from_bytes(b"kjzxaudi", "big")
# The fields a row's hash covers, in this order (the id too: a row moved to another place breaks it).
FIELDS = ("id", "at", "actor_id", "actor_role", "event_type", "target_type_id", "target_id", "from_state",
          "to_state", "reason", "ip_address", "user_agent", "extra", "key_id")
BATCH = 2000

TRIGGER_SQL = f"""
CREATE OR REPLACE FUNCTION {TRIGGER}() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION '审计记录只可追加，不可修改或删除（audit events are append-only）';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER {TRIGGER} BEFORE UPDATE OR DELETE ON {TABLE}
  FOR EACH ROW EXECUTE FUNCTION {TRIGGER}();
"""
DROP_TRIGGER_SQL = f"DROP TRIGGER IF EXISTS {TRIGGER} ON {TABLE}; DROP FUNCTION IF EXISTS {TRIGGER}();"
# One round trip before the INSERT: wait for the chain, then (a fresh snapshot: a VOLATILE function's
# every query takes one, in READ COMMITTED) read the last row's hash and draw ``n`` ids.
NEXT_FUNCTION = "kjzx_audit_next"
NEXT_SQL = f"""
CREATE OR REPLACE FUNCTION {NEXT_FUNCTION}(n integer) RETURNS TABLE(new_id bigint, head varchar) AS $$
DECLARE
  last_hash varchar;
BEGIN
  PERFORM pg_advisory_xact_lock({LOCK_KEY});
  SELECT a.row_hash INTO last_hash FROM {TABLE} a ORDER BY a.id DESC LIMIT 1;
  RETURN QUERY SELECT nextval(pg_get_serial_sequence('{TABLE}', 'id')), last_hash FROM generate_series(1, n);
END;
$$ LANGUAGE plpgsql VOLATILE;
"""  # noqa: S608 (constants only)
DROP_NEXT_SQL = f"DROP FUNCTION IF EXISTS {NEXT_FUNCTION}(integer);"


class AppendOnlyError(RuntimeError):
    """An attempt to change or delete an audit row (the application never does)."""

    def __init__(self, what: str = ""):
        super().__init__(f"审计记录只可追加，不可修改或删除{('：' + what) if what else ''}。")


# --- keys -------------------------------------------------------------------------------------------

def keys() -> dict[str, bytes]:
    """Key id → key: the current one and those listed in AUDIT_CHAIN_OLD_KEYS (``id:key,id:key``)."""
    return _keys(settings.AUDIT_CHAIN_KEY, current_key_id(), settings.AUDIT_CHAIN_OLD_KEYS or "",
                 settings.SECRET_KEY)


@functools.lru_cache(maxsize=8)
def _keys(key: str, key_id: str, old_keys: str, secret_key: str) -> dict[str, bytes]:
    found: dict[str, bytes] = {}
    for item in old_keys.split(","):
        old_id, sep, secret = item.strip().partition(":")
        if item.strip() and (not sep or not old_id or not secret):
            raise ImproperlyConfigured("AUDIT_CHAIN_OLD_KEYS 的格式应为 编号:密钥,编号:密钥。")
        if sep:
            found[old_id] = secret.encode()
    # Without AUDIT_CHAIN_KEY: one derived from SECRET_KEY (development; set a key of its own in production).
    found[key_id] = key.encode() if key else hashlib.sha256(b"kjzx.audit.chain\x00" + secret_key.encode()).digest()
    return found


def current_key_id() -> str:
    return settings.AUDIT_CHAIN_KEY_ID


# --- the canonical form and the hash ----------------------------------------------------------------

def _normal(value):
    """``extra`` as jsonb gives it back: a whole float (1.0, 1e20) comes back as the integer it is."""
    if isinstance(value, float):
        return int(value) if value.is_integer() else value
    if isinstance(value, dict):
        return {str(key): _normal(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_normal(item) for item in value]
    return value


def _ip(value) -> str:
    if not value:
        return ""
    text = str(value)
    if ":" not in text:
        return text
    try:
        return ipaddress.ip_address(text).compressed  # IPv6 as PostgreSQL's inet may spell it otherwise
    except ValueError:
        return text


def canonical(row: dict) -> bytes:
    """The bytes a row's hash covers: its FIELDS as one JSON object, sorted keys, no whitespace, the time
    in UTC to the microsecond, the address normalised, numbers in ``extra`` as jsonb returns them."""
    values = {name: row.get(name) for name in FIELDS}
    values["at"] = values["at"].astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    values["ip_address"] = _ip(values["ip_address"])
    values["extra"] = _normal(values["extra"] or {})
    return json.dumps(values, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def digest(prev_hash: str, row: dict, key: bytes) -> str:
    """HMAC-SM3 of the previous hash and the row, as 64 hex digits."""
    mac = crypto_hmac.HMAC(key, hashes.SM3())
    mac.update(prev_hash.encode() + b"\n" + canonical(row))
    return mac.finalize().hex()


# --- appending --------------------------------------------------------------------------------------

_REWRITING: contextvars.ContextVar[bool] = contextvars.ContextVar("kjzx_audit_rewriting", default=False)


def rewriting_allowed() -> bool:
    return _REWRITING.get()


def append(event, using: str, insert) -> None:
    """Insert ``event`` (a new AuditEvent) at the end of the chain, in the caller's transaction.

    ``insert()`` is the model's own INSERT (``Model.save(force_insert=True)``), called with the id and
    hashes set.
    """
    append_many([event], using, insert)


def append_many(events: list, using: str, insert) -> None:
    """Like :func:`append` for several new rows at once: one lock, one draw of ids, one ``insert()``."""
    connection = connections[using]
    with transaction.atomic(using=using, savepoint=False), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Wait for the previous writer's transaction to end, then read its row (NEXT_SQL).
            cursor.execute(f"SELECT new_id, head FROM {NEXT_FUNCTION}(%s)", [len(events)])  # noqa: S608
            rows = cursor.fetchall()
            ids, head = sorted(row[0] for row in rows), rows[0][1]
        else:  # SQLite (development): one writer at a time already (transaction_mode IMMEDIATE)
            cursor.execute(f"SELECT id, row_hash FROM {TABLE} ORDER BY id DESC LIMIT 1")  # noqa: S608
            last = cursor.fetchone()
            start, head = (last[0] + 1, last[1]) if last else (1, None)
            ids = list(range(start, start + len(events)))
        key_id = current_key_id()
        key, prev = keys()[key_id], head or GENESIS
        for event, new_id in zip(events, ids, strict=True):
            event.id, event.key_id, event.prev_hash = new_id, key_id, prev
            event.row_hash = prev = digest(prev, row_of(event), key)
        insert()


def row_of(event) -> dict:
    return {name: getattr(event, name) for name in FIELDS}


# --- the demo's back-dating ---------------------------------------------------------------------------

@contextlib.contextmanager
def rewriting(using: str = "default"):
    """Inside one transaction: updates to audit rows allowed, the trigger off (table owner only).

    Only for the demo loader, which builds a past (``kjzx.audit.events_shift``); whoever calls it
    re-chains what it changed (:func:`rechain`) before leaving. The trigger is back on when the block
    ends, and since ALTER TABLE is transactional, a rollback restores it as well.
    """
    connection = connections[using]
    with transaction.atomic(using=using):
        postgres = connection.vendor == "postgresql"
        if postgres:
            _switch_trigger(connection, "DISABLE")
        token = _REWRITING.set(True)
        try:
            yield
        finally:
            _REWRITING.reset(token)
        if postgres:
            _switch_trigger(connection, "ENABLE")


def _switch_trigger(connection, action: str) -> None:
    """ALTER TABLE … DISABLE/ENABLE TRIGGER inside the current transaction.

    PostgreSQL refuses ALTER TABLE on a table with pending trigger events — the deferred foreign-key
    checks of rows inserted earlier in the transaction — so those checks run now (SET CONSTRAINTS …
    IMMEDIATE) and the constraints are deferred again afterwards, as Django declares them.
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'f' "
                       "AND condeferrable AND condeferred", [TABLE])
        names = ", ".join(connection.ops.quote_name(row[0]) for row in cursor.fetchall())
        if names:
            cursor.execute(f"SET CONSTRAINTS {names} IMMEDIATE")
        cursor.execute(f"ALTER TABLE {TABLE} {action} TRIGGER {TRIGGER}")
        if names:
            cursor.execute(f"SET CONSTRAINTS {names} DEFERRED")


def rechain(model, from_id: int, using: str = "default") -> int:
    """Recompute prev_hash/row_hash (current key) of every row from ``from_id`` on; returns the count.

    ``model`` is AuditEvent or, in a migration, its historical version. Needs :func:`rewriting` (or no
    trigger yet: the migration that introduces the chain).
    """
    prev = (model._base_manager.using(using).filter(id__lt=from_id).order_by("-id")
            .values_list("row_hash", flat=True).first()) or GENESIS
    key_id, key = current_key_id(), keys()[current_key_id()]
    done, last_id = 0, from_id - 1
    sql = f"UPDATE {TABLE} SET key_id = %s, prev_hash = %s, row_hash = %s WHERE id = %s"  # noqa: S608
    while True:
        rows = list(model._base_manager.using(using).filter(id__gt=last_id).order_by("id").values(*FIELDS)[:BATCH])
        if not rows:
            return done
        changes = []
        for row in rows:
            row["key_id"] = key_id
            changes.append((key_id, prev, digest(prev, row, key), row["id"]))
            prev = changes[-1][2]
        with connections[using].cursor() as cursor:
            cursor.executemany(sql, changes)
        done += len(rows)
        last_id = rows[-1]["id"]


# --- verification -------------------------------------------------------------------------------------

@dataclass
class Break:
    """One broken link: which row, when, and what was expected against what was found."""

    id: int
    at: dt.datetime
    problem: str
    expected: str
    found: str

    def __str__(self):
        return (f"id={self.id}（{self.at.astimezone(dt.UTC):%Y-%m-%d %H:%M:%S} UTC）{self.problem}："
                f"应为 {self.expected}，实为 {self.found}")


@dataclass
class Summary:
    rows: int = 0
    first_id: int | None = None
    last_id: int | None = None
    first_at: dt.datetime | None = None
    head: str = GENESIS


def verify(model, *, using: str = "default", batch: int = BATCH) -> Iterator[Break | Summary]:
    """Walk the chain in id order, ``batch`` rows at a time (keyset pages: constant memory).

    Yields each :class:`Break` as found — a row whose hash does not match its fields (altered), or
    whose ``prev_hash`` is not the previous row's hash (a row deleted, inserted or moved before it) —
    and a :class:`Summary` last. After a break the walk goes on from the row as stored, so every
    tampered place is named once.
    """
    known = keys()
    summary = Summary()
    expected_prev, last_id = GENESIS, 0
    names = (*FIELDS, "prev_hash", "row_hash")
    while True:
        rows = list(model._base_manager.using(using).filter(id__gt=last_id).order_by("id")
                    .values(*names)[:batch])
        if not rows:
            break
        for row in rows:
            if summary.first_id is None:
                summary.first_id, summary.first_at = row["id"], row["at"]
            key = known.get(row["key_id"])
            if key is None:
                yield Break(row["id"], row["at"], "使用了未知的密钥编号", "、".join(sorted(known)),
                            row["key_id"] or "（空）")
            else:
                computed = digest(row["prev_hash"], row, key)
                if computed != row["row_hash"]:
                    yield Break(row["id"], row["at"], "记录内容与其哈希不符（被修改）", computed, row["row_hash"])
            if row["prev_hash"] != expected_prev:
                yield Break(row["id"], row["at"], "前一条哈希不符（其前有记录被删除、插入或调换）",
                            expected_prev, row["prev_hash"])
            expected_prev = row["row_hash"]
            summary.rows += 1
        last_id = summary.last_id = rows[-1]["id"]
    summary.head = expected_prev
    yield summary
