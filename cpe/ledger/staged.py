# ruff: noqa: S608  (SQL is built from the models' table and column names only; values are parameters)
"""A batch the caller staged in the database, for :func:`cpe.ledger.services.credits_register` (R-CE-12, STYLE §3).

A name list of 100,000 people is already in a table (its checked rows): handing it to the ledger as
100,000 Python objects and a ``bulk_create`` is the slow way. Instead the caller passes
:class:`StagedCredits` — a SELECT of ``n`` (the rows' order), ``archive_id`` and ``credits`` — and
``credits_register`` calls :func:`staged_register` under the year's lock it took, which does the same
as the row-by-row batch, set-based:

- one statement classifies every row into a temporary table: ``not_collected`` when the archive's
  collection is not approved (R-CE-12: :data:`cpe.ledger.rules.COLLECTION_APPROVED`, compiled by the
  ORM), ``duplicate`` when this source is in the ledger for the person and year already or an earlier
  row of the batch is the same person (the one-per-source rule; ``credit_entry_unique_source`` behind
  it), ``new`` otherwise — in the batch's order, as ``_sort_rows`` sorts a list;
- credits must be above 0 for every row (else the whole batch is refused before anything is written, as
  for a list);
- ONE ``INSERT … SELECT … RETURNING`` writes the new entries and gives their ids (for the audit row and
  the dashboards' sums, which ``credits_register`` then writes as for any batch); the refused rows are
  read from the temporary table.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import NamedTuple

from django.db import connection
from django.utils import timezone

from cpe.ledger.rules import COLLECTION_APPROVED
from cpe.models import CEYear, CreditEntry, SubjectKind
from kjzx.api import DomainError
from records.models import Archive

NEW, DUPLICATE, NOT_COLLECTED, BAD = "new", "duplicate", "not_collected", "bad_credits"


class StagedCredits(NamedTuple):
    """A batch staged in the database: ``sql`` selects ``n``, ``archive_id``, ``credits`` (see the module doc)."""

    sql: str
    params: tuple = ()


class StagedEntry(NamedTuple):
    """A new entry as the staged path reports it (the fields a Registration's readers use)."""

    pk: int
    archive_id: int
    credits: Decimal
    source_id: str
    subject_kind: str
    source_label: str


def _approved_sql() -> tuple[str, list]:
    """R-CE-12 as a condition on the archive table (its own name), compiled from the one predicate."""
    query = Archive.objects.filter(COLLECTION_APPROVED).query
    sql, params = query.where.as_sql(query.get_compiler(connection=connection), connection)
    return sql, list(params)


def staged_register(staged: StagedCredits, *, policy: CEYear, form: str, source_type: str, source_id: str,
                    subject_kind: str, source_label: str, by=None, evidence=None
                    ) -> tuple[list, list[tuple], list[tuple]]:
    """(new entries, duplicate rows, rows not collected) — rows as ``(archive_id, credits, source_id,
    subject_kind, source_label)`` — for a staged batch, inside the caller's transaction and year lock."""
    if not source_id or subject_kind not in SubjectKind.values:
        raise DomainError({"form": ["科目类别或来源不正确。"]})
    label = source_label[:200]
    meta = CreditEntry._meta
    column = {field.name: field.column for field in meta.concrete_fields}
    archives = Archive._meta.db_table
    approved, approved_params = _approved_sql()
    batch = f"ledger_batch_{uuid.uuid4().hex[:12]}"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL jit = off")  # one large statement: compiling it costs more than it saves
        cursor.execute(
            f"CREATE TEMPORARY TABLE {batch} AS SELECT s.n AS n, s.archive_id AS archive_id, s.credits AS credits, "
            f"CASE WHEN s.credits IS NULL OR s.credits <= 0 THEN '{BAD}' "
            f"WHEN {archives}.id IS NULL OR NOT ({approved}) THEN '{NOT_COLLECTED}' "
            f"WHEN EXISTS (SELECT 1 FROM {meta.db_table} e WHERE e.{column['archive']} = s.archive_id "
            f"AND e.{column['year']} = %s AND e.{column['source_type']} = %s AND e.{column['source_id']} = %s) "
            f"OR row_number() OVER (PARTITION BY s.archive_id ORDER BY s.n) > 1 "
            f"THEN '{DUPLICATE}' ELSE '{NEW}' END AS outcome "
            f"FROM ({staged.sql}) s LEFT JOIN {archives} ON {archives}.id = s.archive_id",
            [*approved_params, policy.year, source_type, source_id, *staged.params])
        cursor.execute(f"SELECT archive_id, credits, outcome FROM {batch} WHERE outcome <> '{NEW}' ORDER BY n")
        refused = cursor.fetchall()
        if any(outcome == BAD for _archive, _credits, outcome in refused):
            raise DomainError({"credits": ["学分应大于0。"]})  # the whole batch, as for a list of rows
        given = {"archive": "b.archive_id", "credits": "b.credits"}
        values = {"year": policy.year, "subject_kind": subject_kind, "form": form, "source_type": source_type,
                  "source_id": source_id, "source_label": label, "evidence": getattr(evidence, "pk", None),
                  "registered_by": by.pk if getattr(by, "pk", None) else None, "registered_at": timezone.now()}
        fields = [field for field in meta.concrete_fields if not field.primary_key]
        sql_values, params = [], []
        for field in fields:
            if field.name in given:
                sql_values.append(given[field.name])
            else:
                sql_values.append("%s")
                params.append(values[field.name] if field.name in values else field.get_default())
        cursor.execute(f"INSERT INTO {meta.db_table} ({', '.join(field.column for field in fields)}) "
                       f"SELECT {', '.join(sql_values)} FROM {batch} b WHERE b.outcome = '{NEW}' ORDER BY b.n "
                       f"RETURNING {column['archive']}, id", params)
        ids = dict(cursor.fetchall())
        cursor.execute(f"SELECT archive_id, credits FROM {batch} WHERE outcome = '{NEW}' ORDER BY n")
        entries = [StagedEntry(ids[archive_id], archive_id, Decimal(credits), source_id, subject_kind, label)
                   for archive_id, credits in cursor.fetchall()]
        cursor.execute(f"DROP TABLE {batch}")  # on an error the caller's transaction rolls it back
    if len(entries) == 1:  # the audit row may be written on the entry itself
        entries = [CreditEntry.objects.get(pk=entries[0].pk)]
    rows = {outcome: [(archive_id, Decimal(credits), source_id, subject_kind, label)
                      for archive_id, credits, kind in refused if kind == outcome]
            for outcome in (DUPLICATE, NOT_COLLECTED)}
    return entries, rows[DUPLICATE], rows[NOT_COLLECTED]
