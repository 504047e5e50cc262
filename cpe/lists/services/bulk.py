# ruff: noqa: S608  (SQL is built from the models' table and column names only; values are parameters)
"""What both list kinds do with their rows, set-based: stage and check them, check waiting rows again,
and mark them after the ledger registered a batch (R-CE-9, R-CE-10, R-CE-12).

- :func:`list_file_check`: the stored file of an uploaded list read again and checked into its rows,
  the list marked ``checked`` with one audit row — the shell both list kinds' Celery check runs in.
- :func:`rows_check_into`: the rows of an open list file (:func:`cpe.lists.spreadsheets.open_table`)
  read by the one row checker (:func:`cpe.lists.rows.row_read`) as they stream, staged with COPY
  (:class:`cpe.lists.staging.Stage`), then checked and written into the list's row table by ONE
  ``INSERT … SELECT`` (:func:`cpe.lists.rows.checked_rows_sql`): the preview.
- :func:`rows_match_again`: rows waiting for their person (``pending``) checked again by one
  ``UPDATE … FROM`` (:func:`cpe.lists.rows.match_sql`).
- :func:`rows_mark_registered`: after :func:`cpe.ledger.services.credits_register` registered a
  batch of valid rows, the refused ones get their state and words, the rest ``registered`` (and, for a
  face-to-face list, the link to their entry) — one ``UPDATE`` per outcome.

Row tables are named by their model (``ExamRow`` with ``import_file``, ``AttendanceRow`` with
``list``); ``where`` clauses are written with ``{t}`` for the table, e.g. ``"{t}.state = %s"``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from django.core.files.base import ContentFile
from django.db import connection, transaction

from cpe.lists.rows import Quantity, checked_rows_sql, match_sql, row_read
from cpe.lists.spreadsheets import OpenTable, open_table
from cpe.lists.staging import Stage, without_jit
from cpe.models import CreditEntry, RowState
from kjzx import crypto
from kjzx.api import DomainError
from kjzx.audit import record_event

NO_ROWS = "名单中没有数据行。"
IN_CHUNK = 5000


def _column(model, name: str) -> str:
    return model._meta.get_field(name).column


def list_file_check(listing, *, row_model, parent: str, columns, limits, counts: Callable[[object], dict],
                    event: str, event_extra: dict | None = None, **check) -> dict[str, int]:
    """Check the stored file of ``listing`` (an ``ExamImport`` or an ``AttendanceList`` in ``checking``)
    into its ``row_model`` rows and mark it ``checked``; returns ``counts(listing)``.

    Rows left by an interrupted run are deleted first, so a re-run starts again. The file is read by
    the one reader (``columns``, ``limits``), progress is written as rows stream, and the rows, the
    status and the audit row (``event``: the rows and each non-zero state) commit together. A
    :class:`DomainError` (a bound, no rows) leaves no row; the caller marks the list failed with its
    words. ``check``: the rest of :func:`rows_check_into`'s arguments (quantity, source, extra columns).
    """
    model = type(listing)
    this = model.objects.filter(pk=listing.pk)
    with listing.file.open("rb") as handle:
        upload = ContentFile(handle.read(), name=listing.file_name)
    row_model.objects.filter(**{f"{parent}_id": listing.pk}).delete()
    with open_table(upload, required=columns, limits=limits) as table:
        this.update(total_rows=table.estimated_rows, done_rows=0)
        with transaction.atomic():
            count = rows_check_into(table, model=row_model, parent=parent, parent_id=listing.pk,
                                    progress=lambda done: this.update(done_rows=done), **check)
            this.filter(status=model.Status.CHECKING).update(status=model.Status.CHECKED, total_rows=count,
                                                            done_rows=count)
            found = counts(listing)
            record_event(listing, event, extra={**(event_extra or {}), "rows": count,
                                                **{state: n for state, n in found.items() if n and state != "total"}})
    return found


def rows_check_into(table: OpenTable, *, model, parent: str, parent_id: int, quantity: Quantity,
                    quantity_type: str, source: dict, extra: Sequence[tuple[str, str]] = (),
                    extra_values: Callable[[tuple], tuple] | None = None,
                    progress: Callable[[int], None] | None = None) -> int:
    """Every data row of ``table`` checked into ``model``'s rows of ``parent_id``; returns how many.

    ``quantity``: the list's own column (its model field is ``quantity.key``, its SQL type
    ``quantity_type``); ``extra``: more ``(field, SQL type)`` columns whose values ``extra_values``
    computes from a read row; ``source``: the ledger source the rows would register as
    (``year``, ``source_type``, ``source_id``, ``waits_for_collection``).
    """
    columns = [("row_no", "integer"), ("id_number", "text"), ("id_hash", "text"), ("name", "text"),
               ("quantity", quantity_type), ("own_problem", "text"), *extra]
    read = (row_read(raw, quantity) for raw in table.rows)
    if extra_values is not None:
        read = (row + extra_values(row) for row in read)
    read = map(_sealer(model), read)
    with Stage(columns) as stage:
        count = stage.write(read, progress=progress)
        if not count:
            raise DomainError({"file": [NO_ROWS]})
        carry = ("row_no", "id_number", "id_hash", "name", "quantity", *(name for name, _kind in extra))
        sql, params = checked_rows_sql(stage.name, quantity.label, carry, **source)
        targets = [_column(model, name) for name in (parent, "row_no", "id_number", "id_number_hash", "name",
                                                       quantity.key,
                                                       *(name for name, _kind in extra), "archive", "state", "problem")]
        values = ", ".join(f"c.{name}" for name in (*carry, "archive_id", "state", "problem"))
        stage.insert(f"INSERT INTO {model._meta.db_table} ({', '.join(targets)}) SELECT %s, {values} FROM ({sql}) c",
                     [parent_id, *params])
    _analyze(model)
    return count


def _analyze(model) -> None:
    """The row table's statistics after a list's rows went in: without them the planner guesses one row for
    "this list's waiting rows" and checks them again by a nested loop (5,000 waiting rows of a 100,000-row
    list: 11.4 s, measured; 0.1 s with a hash join). Autovacuum would not run for one list among many."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {model._meta.db_table}")


def _sealer(model) -> Callable[[tuple], tuple]:
    """A read row ``(row_no, number, name, …)`` as staged: the number sealed for ``model``'s column (the
    rows are written by SQL, not by the field) and its keyed hash beside it, for every comparison."""
    context = model._meta.get_field("id_number").sealing_context()

    def sealed(row: tuple) -> tuple:
        row_no, number, *rest = row
        return (row_no, crypto.seal(number, context=context), crypto.id_number_hash(number), *rest)

    return sealed


def rows_match_again(model, *, where: str, params: Sequence, source: dict) -> int:
    """The rows of ``model`` that ``where`` selects checked again against the archives and the ledger."""
    table = model._meta.db_table
    number, name = _column(model, "id_number_hash"), _column(model, "name")
    rows_sql = (f"SELECT r.id AS key, r.{number} AS id_hash, r.{name} AS name, '' AS problem "
                f"FROM {table} r WHERE {where.format(t='r')}")
    numbers_sql = f"SELECT r.{number} FROM {table} r WHERE {where.format(t='r')}"
    sql, sql_params = match_sql(rows_sql, params, numbers_sql=numbers_sql, numbers_params=params, **source)
    with transaction.atomic(), connection.cursor() as cursor:
        without_jit(cursor)
        archive, state, problem = (_column(model, field) for field in ("archive", "state", "problem"))
        cursor.execute(f"UPDATE {table} SET {archive} = m.archive_id, {state} = m.state, {problem} = m.problem "
                       f"FROM ({sql}) m WHERE {table}.id = m.key", sql_params)
        return cursor.rowcount


def _chunks(items: list, size: int):
    for start in range(0, len(items), size):
        yield items[start:start + size]


def rows_mark_registered(model, *, where: str, params: Sequence,
                         refused: dict[tuple[str, str], Iterable[int]], link: dict | None = None) -> None:
    """After a ledger batch of the rows ``where`` selects: each archive id in ``refused`` gets its
    ``(state, problem)``, every other row ``registered`` — with ``entry`` set from the ledger's unique
    source when ``link`` gives it (``year``, ``source_type``, ``source_id``)."""
    table = model._meta.db_table
    state, problem, archive = (_column(model, name) for name in ("state", "problem", "archive"))
    with connection.cursor() as cursor:
        for (new_state, words), archive_ids in refused.items():
            for chunk in _chunks(sorted(set(archive_ids)), IN_CHUNK):
                marks = ", ".join(["%s"] * len(chunk))
                cursor.execute(f"UPDATE {table} SET {state} = %s, {problem} = %s WHERE {where.format(t=table)} "
                               f"AND {table}.{archive} IN ({marks})", [new_state, words, *params, *chunk])
        entry_sql, entry_params = "", []
        if link is not None:
            entries = CreditEntry._meta
            key = {name: entries.get_field(name).column for name in ("archive", "year", "source_type", "source_id")}
            entry_sql = (f", {_column(model, 'entry')} = (SELECT e.id FROM {entries.db_table} e "
                         f"WHERE e.{key['archive']} = {table}.{archive} AND e.{key['year']} = %s "
                         f"AND e.{key['source_type']} = %s AND e.{key['source_id']} = %s)")
            entry_params = [link["year"], link["source_type"], link["source_id"]]
        cursor.execute(f"UPDATE {table} SET {state} = %s, {problem} = ''{entry_sql} WHERE {where.format(t=table)}",
                       [RowState.REGISTERED, *entry_params, *params])
