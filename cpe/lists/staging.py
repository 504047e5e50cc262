# ruff: noqa: S608  (SQL is built from the models' table and column names only; values are parameters)
"""A list's rows into the database at COPY speed: a temporary staging table, filled as the file streams.

::

    with Stage([("row_no", "integer"), ("id_number", "text"), …]) as stage:
        stage.write(rows, progress=lambda done: …)   # tuples in the columns' order; returns how many
        stage.execute("INSERT INTO … SELECT … FROM " + stage.name + " …", params)

On PostgreSQL the rows go in with psycopg's ``COPY … FROM STDIN`` in chunks (between chunks the
``progress`` callback runs, so a page can show how far the reading got), and the table is analysed
before the checks so the planner knows its size. Elsewhere (the SQLite demo) the same rows go in with
``executemany``. The table is dropped when the block ends, whatever happened.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable, Iterable, Sequence

from django.db import connection, transaction

CHUNK = 20_000  # rows per COPY statement (a progress update between two)


def without_jit(cursor) -> None:
    """For the rest of the transaction, no JIT compilation on PostgreSQL: the checks are one large
    statement whose estimated cost passes ``jit_above_cost``, and compiling its expressions cost 7.7 s
    of a 9.7 s statement over 20,000 rows (measured); run without, the statement takes a fraction of a second."""
    if connection.vendor == "postgresql":
        cursor.execute("SET LOCAL jit = off")


def _chunks(rows: Iterable[tuple], size: int):
    iterator = iter(rows)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


class Stage:
    """A temporary table ``name`` of the given ``(column, SQL type)`` pairs (see the module doc)."""

    def __init__(self, columns: Sequence[tuple[str, str]], prefix: str = "list_stage"):
        self.columns = list(columns)
        self.name = f"{prefix}_{uuid.uuid4().hex[:12]}"

    def __enter__(self) -> Stage:
        definition = ", ".join(f"{column} {kind}" for column, kind in self.columns)
        self.execute(f"CREATE TEMPORARY TABLE {self.name} ({definition})")
        return self

    def __exit__(self, *exc) -> None:
        self.execute(f"DROP TABLE IF EXISTS {self.name}")

    def execute(self, sql: str, params: Sequence = ()) -> int:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.rowcount

    def write(self, rows: Iterable[tuple], *, progress: Callable[[int], None] | None = None,
              chunk: int = CHUNK) -> int:
        """Every row of ``rows`` into the table; returns how many. ``progress(done)`` after each chunk."""
        names = ", ".join(column for column, _kind in self.columns)
        done = 0
        postgresql = connection.vendor == "postgresql"
        for batch in _chunks(rows, chunk):
            if postgresql:
                connection.ensure_connection()
                with connection.connection.cursor() as cursor, \
                        cursor.copy(f"COPY {self.name} ({names}) FROM STDIN") as copy:
                    for row in batch:
                        copy.write_row(row)
            else:
                marks = ", ".join(["%s"] * len(self.columns))
                with connection.cursor() as cursor:
                    cursor.executemany(f"INSERT INTO {self.name} ({names}) VALUES ({marks})", batch)
            done += len(batch)
            if progress is not None:
                progress(done)
        if postgresql:
            self.execute(f"ANALYZE {self.name}")
        return done

    def insert(self, sql: str, params: Sequence = ()) -> int:
        """One statement over the staged rows (an ``INSERT … SELECT``), in a transaction, without JIT."""
        with transaction.atomic(), connection.cursor() as cursor:
            without_jit(cursor)
            cursor.execute(sql, params)
            return cursor.rowcount
