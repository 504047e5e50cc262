# ruff: noqa: S608  (SQL is built from the models' table and column names only; values are parameters)
"""Sealing whole columns in place: the data migrations and ``manage.py rotate_data_keys``.

One routine, :func:`reseal_table`, walks a table by primary key in batches (keyset paging, so memory
stays one batch whatever the table's size) with plain SQL — the models' own fields would try to open
values that are still plain — and for each row:

- a plain value (never sealed: what the migrations find) is sealed under the current key (``adopt``);
- a sealed value under another key id is opened and sealed again under the current key (rotation);
- with ``rehash``, every blind index is computed again from the plain value (after ``KJZX_HASH_KEY``
  changed, or when the migration fills the new hash columns);
- with ``open_all`` (a reverse migration), every value is opened and written back in clear.

Only rows that change are written, one UPDATE per row, in the caller's transaction per batch.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from kjzx import crypto

BATCH = 1000


@dataclass
class SealedTable:
    """What is sealed in one table: column → kind ("text" or "json"), hash column → (source, purpose)."""

    table: str
    sealed: dict[str, str]
    hashes: dict[str, tuple[str, str]] = field(default_factory=dict)
    pk: str = "id"


@dataclass
class ResealCount:
    rows: int = 0
    changed: int = 0


def _plain(raw, context: str, *, adopt: bool):
    if raw is None or raw == "":
        return raw, False
    if crypto.SEALED.match(raw):
        return crypto.unseal(raw, context=context), True
    if not adopt:
        raise crypto.SealError(f"{context}: 发现未加密的值（请先执行数据迁移）")
    return raw, False


def reseal_table(connection, spec: SealedTable, *, adopt: bool = False, rehash: bool = False,
                 open_all: bool = False, batch: int = BATCH,
                 progress: Callable[[ResealCount], None] | None = None) -> ResealCount:
    """Bring every value of ``spec`` to the current key (and hashes, see the module); the counts."""
    ring = crypto.keyring()
    columns = list(spec.sealed)
    hash_columns = list(spec.hashes)
    select = ", ".join(f'"{c}"' for c in [spec.pk, *columns, *hash_columns])
    assign = ", ".join(f'"{c}" = %s' for c in [*columns, *hash_columns])
    update = f'UPDATE "{spec.table}" SET {assign} WHERE "{spec.pk}" = %s'
    count = ResealCount()
    last = None
    while True:
        with connection.cursor() as cursor:
            where = f'WHERE "{spec.pk}" > %s ' if last is not None else ""
            cursor.execute(f'SELECT {select} FROM "{spec.table}" {where}ORDER BY "{spec.pk}" LIMIT %s',
                           [last, batch] if last is not None else [batch])
            rows = cursor.fetchall()
        if not rows:
            return count
        writes = []
        for row in rows:
            pk, raws, old_hashes = row[0], row[1:1 + len(columns)], row[1 + len(columns):]
            plains, new_values = {}, []
            for column, raw in zip(columns, raws, strict=True):
                context = f"{spec.table}.{column}"
                plain, was_sealed = _plain(raw, context, adopt=adopt)
                plains[column] = plain
                if open_all or plain in (None, ""):
                    new_values.append(plain)
                elif not was_sealed or crypto.key_id_of(raw) != ring.current:
                    new_values.append(crypto.seal(plain, context=context))
                else:
                    new_values.append(raw)
            new_hashes = list(old_hashes)
            if rehash or adopt:
                new_hashes = [crypto.HASHERS[purpose](plains[source] or "")
                              for source, purpose in spec.hashes.values()]
            if list(raws) != new_values or list(old_hashes) != new_hashes:
                writes.append([*new_values, *new_hashes, pk])
        if writes:
            with connection.cursor() as cursor:
                cursor.executemany(update, writes)
        count.rows += len(rows)
        count.changed += len(writes)
        last = rows[-1][0]
        if progress:
            progress(count)


def sealed_tables() -> list[SealedTable]:
    """Every table of the installed models with an encrypted column, from the fields themselves."""
    from django.apps import apps

    from kjzx.fields import EncryptedJSONField, EncryptedTextField, KeyedHashField

    found = []
    for model in apps.get_models():
        if model._meta.proxy or not model._meta.managed:
            continue
        sealed, hashes = {}, {}
        for f in model._meta.concrete_fields:
            if isinstance(f, EncryptedJSONField):
                sealed[f.column] = "json"
            elif isinstance(f, EncryptedTextField):
                sealed[f.column] = "text"
            elif isinstance(f, KeyedHashField):
                hashes[f.column] = (model._meta.get_field(f.source).column, f.purpose)
        if sealed:
            found.append(SealedTable(model._meta.db_table, sealed, hashes, model._meta.pk.column))
    return found


# --- the migrations that seal a model's columns -----------------------------------------------------

def seal_existing_rows(*specs: SealedTable, after: Callable | None = None):
    """A ``RunPython`` sealing the plain values of ``specs`` and filling their hashes (reverse: opening
    them again). ``after(apps, connection, forward)`` runs last each way (the accountants' user names)."""
    from django.db import migrations

    def forward(apps, schema_editor):
        for spec in specs:
            reseal_table(schema_editor.connection, spec, adopt=True, rehash=True)
        if after is not None:
            after(apps, schema_editor.connection, True)

    def backward(apps, schema_editor):
        for spec in specs:
            reseal_table(schema_editor.connection, spec, open_all=True)
        if after is not None:
            after(apps, schema_editor.connection, False)

    return migrations.RunPython(forward, backward)


def sealed_checks(*specs: SealedTable):
    """A ``RunPython`` adding, on PostgreSQL, the CHECK of every sealed column (``sealed_check_sql``)."""
    from django.db import migrations

    from kjzx.fields import sealed_check_sql

    def run(schema_editor, index: int):
        if schema_editor.connection.vendor != "postgresql":
            return
        for spec in specs:
            for column in spec.sealed:
                schema_editor.execute(sealed_check_sql(spec.table, column)[index])

    return migrations.RunPython(lambda apps, editor: run(editor, 0), lambda apps, editor: run(editor, 1))


def accountant_usernames_rehash(connection) -> int:
    """An accountant's user name is the blind index of the ID number: after a new ``KJZX_HASH_KEY``
    it follows the rehashed ``id_number_hash``. Returns the rows changed."""
    with connection.cursor() as cursor:
        cursor.execute("UPDATE accounts_user SET username = id_number_hash "
                       "WHERE role = 'accountant' AND id_number_hash <> '' AND username <> id_number_hash")
        return cursor.rowcount


def rotate_all(connection, *, rehash: bool = False, batch: int = BATCH,
               progress: Callable[[str, ResealCount], None] | None = None) -> dict[str, ResealCount]:
    """Every sealed column of every table under the current key (and, with ``rehash``, every blind
    index under the current hash key); one transaction per table. The counts by table."""
    from django.db import transaction

    counts = {}
    for spec in sealed_tables():
        with transaction.atomic(using=connection.alias):
            counts[spec.table] = reseal_table(connection, spec, rehash=rehash, batch=batch,
                                              progress=(lambda c, t=spec.table: progress(t, c)) if progress else None)
            if rehash and spec.table == "accounts_user":
                accountant_usernames_rehash(connection)
    return counts
