# ruff: noqa: S608, S611  (SQL is built from the models' table and column names only; values are parameters)
"""The CE figures kept in step with the ledger (学分汇总); R-CE-1, R-CE-3, R-CE-13.

The dashboards cannot add up ten million ledger entries while a person waits, so the tables of
:mod:`cpe.models.summaries` hold the sums, and every write that changes them updates them **in the same
transaction**, set-based (a fixed number of statements whatever the batch):

- :func:`credit_summaries_add` — credits registered or reversed. It takes the entries as SQL (a SELECT of
  ``archive_id, year_id, subject_kind, form, credits``: the new ledger rows, or a staged set), sums them
  per person and year into a temporary table, and upserts the person rows (``INSERT … ON CONFLICT DO
  UPDATE``). :func:`cpe.ledger.services.credits_register` and ``credit_reverse`` call it with
  :func:`ledger_rows_between`.
- :func:`archive_obligations_refresh` — an archive's region, status or obligation start changed (a
  collection approved, a change approved, a transfer in, out or within Shanxi): its obligation row and
  its person rows of every year move, the region totals with them. ``workflow_transition`` calls
  :func:`after_transition` on every decision (``kjzx.workflow.TRANSITION_HOOKS``).
- :func:`credit_summaries_freeze` — a year closes (R-CE-13): its person rows become the
  credit-information file's (``IntegrityRecord``) and no longer change, except the region a person
  moves to.
- :func:`credit_summaries_recount` — a year's required credits changed: who has completed it.

Every change follows one pattern: take the touched person rows' contribution out of the region totals,
change the rows, put their contribution back. Region totals are therefore exactly the sums of the
person rows, and the person rows the sums of the ledger; :func:`credit_summaries_rebuild` recomputes all of
it from the ledger, the archives and the credit-information file (``manage.py stats_verify`` compares).

The SQL is plain enough for both PostgreSQL and SQLite (the development database); the few
vendor-specific expressions (years of dates, JSON keys) are built with the ORM.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from django.db import connection, transaction
from django.db.models import Case, DecimalField, F, IntegerField, Max, Min, Q, Sum, Value, When
from django.db.models.expressions import RawSQL
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, Coalesce, ExtractMonth, ExtractYear, Least
from django.utils import timezone

from cpe.models import (
    FORM_COLUMNS,
    ArchiveObligation,
    CEYear,
    CreditEntry,
    CreditSummary,
    IntegrityRecord,
    RegionCompletionMonth,
    RegionCreditSummary,
    RegionObligation,
    SubjectKind,
)
from records.models import Archive

PERSON = CreditSummary._meta.db_table
OBLIGATION = ArchiveObligation._meta.db_table
REGION_OBLIGATION = RegionObligation._meta.db_table
REGION = RegionCreditSummary._meta.db_table
MONTH = RegionCompletionMonth._meta.db_table
YEAR = CEYear._meta.db_table
DELTA = "cpe_summary_delta"  # temporary: one batch's credits per person and year
ARCHIVES = "cpe_summary_archives"  # temporary: the archives whose obligation is refreshed
CREDITS = ("total", "professional", "general", *FORM_COLUMNS)


def this_month(today: dt.date | None = None) -> int:
    today = today or timezone.localdate()
    return today.year * 100 + today.month


def _sql(queryset) -> tuple[str, tuple]:
    sql, params = queryset.query.sql_with_params()
    return sql, tuple(params)


def _temporary(cursor, name: str, select: str, params: Sequence = ()) -> None:
    """(Re)make the temporary table ``name`` from ``select`` (it lives as long as the connection)."""
    cursor.execute(f"DROP TABLE IF EXISTS {name}")
    cursor.execute(f"CREATE TEMPORARY TABLE {name} AS {select}", params)


def _add(table: str, columns: Iterable[str]) -> str:
    return ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in columns)


# --- the region totals of a set of person rows -------------------------------------------------

def _contribute(cursor, sign: int, where: str, params: Sequence = ()) -> None:
    """Add (``sign`` 1) or take out (-1) the person rows ``p`` matching ``where`` from the region totals."""
    sums = ", ".join(f"{sign} * SUM(p.{c})" for c in CREDITS)
    cursor.execute(
        f"INSERT INTO {REGION} (region_id, year_id, people, obliged, completed, {', '.join(CREDITS)}) "
        f"SELECT p.region_id, p.year_id, {sign} * COUNT(*), {sign} * SUM(CASE WHEN p.obliged THEN 1 ELSE 0 END), "
        f"{sign} * SUM(CASE WHEN p.obliged AND p.completed THEN 1 ELSE 0 END), {sums} "
        f"FROM {PERSON} p WHERE p.region_id IS NOT NULL AND ({where}) GROUP BY p.region_id, p.year_id "
        f"ON CONFLICT (region_id, year_id) DO UPDATE SET {_add(REGION, ('people', 'obliged', 'completed', *CREDITS))}",
        params)
    cursor.execute(
        f"INSERT INTO {MONTH} (region_id, year_id, month, completed) "
        f"SELECT p.region_id, p.year_id, p.completed_month, {sign} * COUNT(*) FROM {PERSON} p "
        f"WHERE p.region_id IS NOT NULL AND p.obliged AND p.completed AND p.completed_month IS NOT NULL "
        f"AND ({where}) GROUP BY p.region_id, p.year_id, p.completed_month "
        f"ON CONFLICT (region_id, year_id, month) DO UPDATE SET {_add(MONTH, ('completed',))}", params)


def _derive_select(rows: str, *, kept: bool) -> tuple[str, str]:
    """Region, obliged, completed and completed month (this month, the one parameter ``%s``, when newly
    complete) of person rows: ``rows`` is a FROM item aliased ``p`` with ``archive_id``, ``year_id``, ``total``
    and ``professional``; ``kept``: a frozen year keeps p's obliged, completed and month (else false, NULL:
    a new row). Returns (the four columns, the FROM clause)."""
    frozen = "y.frozen_at IS NOT NULL"
    complete = "p.total >= y.required_total AND p.professional >= y.required_professional"
    obliged = "COALESCE(o.active AND o.start_year <= p.year_id, false)"
    keep = ({"obliged": "p.obliged", "completed": "p.completed", "month": "p.completed_month",
             "new_month": "COALESCE(p.completed_month, %s)"} if kept else
            {"obliged": "false", "completed": "false", "month": "NULL", "new_month": "%s"})
    return (f"o.region_id AS region_id, CASE WHEN {frozen} THEN {keep['obliged']} ELSE {obliged} END AS obliged, "
            f"CASE WHEN {frozen} THEN {keep['completed']} WHEN {complete} THEN true ELSE false END AS completed, "
            f"CASE WHEN {frozen} THEN {keep['month']} WHEN {complete} THEN {keep['new_month']} ELSE NULL END "
            f"AS completed_month",
            f"FROM {rows} JOIN {YEAR} y ON y.year = p.year_id LEFT JOIN {OBLIGATION} o ON o.archive_id = p.archive_id")


def _derive(cursor, where: str, params: Sequence, month: int) -> None:
    """Set the person rows' region, obliged and completed from their archive's obligation row and the
    year's policy (R-CE-1, R-CE-3). A frozen year keeps what the credit-information file says (R-CE-13).

    One join of the rows with their obligation and year, not a look-up per row and column, and only the rows
    whose figures change are written (a new row is inserted right: :func:`credit_summaries_add`)."""
    columns, joined = _derive_select(f"{PERSON} p", kept=True)
    cursor.execute(
        f"UPDATE {PERSON} AS t SET region_id = x.region_id, obliged = x.obliged, completed = x.completed, "
        f"completed_month = x.completed_month "
        f"FROM (SELECT p.id AS id, {columns} {joined} WHERE {where}) x "
        f"WHERE t.id = x.id AND (t.region_id IS DISTINCT FROM x.region_id OR t.obliged <> x.obliged "
        f"OR t.completed <> x.completed OR t.completed_month IS DISTINCT FROM x.completed_month)", (month, *params))


# --- credits registered or reversed --------------------------------------------------------------

def ledger_rows_between(year: int, first_id: int, last_id: int) -> tuple[str, tuple]:
    """The ledger rows of one batch as :func:`credit_summaries_add` takes them: a year's entries with ids in
    ``[first_id, last_id]`` (a batch holds its year's lock, so no other batch's rows of that year lie between)."""
    return (f"SELECT archive_id, year_id, subject_kind, form, credits FROM {CreditEntry._meta.db_table} "
            f"WHERE year_id = %s AND id BETWEEN %s AND %s", (year, first_id, last_id))


def credit_summaries_add(rows_sql: str, params: Sequence = (), *, today: dt.date | None = None) -> None:
    """Add credits to the person rows and the region totals, in the caller's transaction.

    ``rows_sql`` selects ``archive_id, year_id, subject_kind, form, credits`` — ledger entries (a
    reversal's credits are negative) or a staged set of them; several rows of one person and year are
    summed first. Persons seen for the first time get a row; archives without an obligation row get one.
    """
    professional = f"s.subject_kind = '{SubjectKind.PROFESSIONAL}'"
    by_kind = (f"SUM(CASE WHEN {professional} THEN s.credits ELSE 0 END) AS professional, "
               f"SUM(CASE WHEN {professional} THEN 0 ELSE s.credits END) AS general")
    by_form = ", ".join(f"SUM(CASE WHEN s.form = '{form}' THEN s.credits ELSE 0 END) AS {form}"
                        for form in FORM_COLUMNS)
    touched = f"EXISTS (SELECT 1 FROM {DELTA} d WHERE d.archive_id = p.archive_id AND d.year_id = p.year_id)"
    with connection.cursor() as cursor:
        _temporary(cursor, DELTA, f"SELECT s.archive_id AS archive_id, s.year_id AS year_id, SUM(s.credits) AS total, "
                                  f"{by_kind}, {by_form} FROM ({rows_sql}) s GROUP BY s.archive_id, s.year_id", params)
        # archives never seen by the obligation hook (made active around the workflow: a restore, a bulk
        # load): their obligation row now, and their place in the region's obliged count
        staged = RawSQL(f"SELECT d.archive_id FROM {DELTA} d", ())
        select, select_params = _obligation_select(Archive.objects.filter(pk__in=staged))
        insert = (f"INSERT INTO {OBLIGATION} (archive_id, region_id, active, start_year) {select} "
                  f"ON CONFLICT (archive_id) DO NOTHING")
        if connection.vendor == "postgresql":  # the rows it inserted counted in the same statement
            cursor.execute(
                f"WITH new AS ({insert} RETURNING region_id, active, start_year) "
                f"INSERT INTO {REGION_OBLIGATION} (region_id, start_year, people) "
                f"SELECT n.region_id, n.start_year, COUNT(*) FROM new n WHERE n.active AND n.region_id IS NOT NULL "
                f"AND n.start_year IS NOT NULL GROUP BY n.region_id, n.start_year "
                f"ON CONFLICT (region_id, start_year) DO UPDATE SET {_add(REGION_OBLIGATION, ('people',))}",
                select_params)
        else:  # SQLite (the development database) has no INSERT inside WITH
            cursor.execute(f"{insert} RETURNING archive_id", select_params)
            if new := [row[0] for row in cursor.fetchall()]:
                _obligation_contribute(cursor, 1, f"SELECT a.id FROM {Archive._meta.db_table} a WHERE a.id IN "
                                                  f"({', '.join(['%s'] * len(new))})", new)
        _contribute(cursor, -1, touched)
        # a person's first row of the year is written with its figures; a row there already adds the credits
        # and :func:`_derive` rewrites what changed
        columns, joined = _derive_select(f"{DELTA} p", kept=False)
        cursor.execute(
            f"INSERT INTO {PERSON} (archive_id, year_id, region_id, obliged, completed, completed_month, "
            f"{', '.join(CREDITS)}) SELECT p.archive_id, p.year_id, {columns}, "
            f"{', '.join('p.' + c for c in CREDITS)} {joined} WHERE true "
            f"ON CONFLICT (archive_id, year_id) DO UPDATE SET {_add(PERSON, CREDITS)}", (this_month(today),))
        _derive(cursor, touched, (), this_month(today))
        _contribute(cursor, 1, touched)  # the temporary table goes with the next batch or the connection


# --- an archive's region or obligation changed ---------------------------------------------------

def _obligation_select(archives) -> tuple[str, tuple]:
    """One row per archive: (archive_id, region_id, active, start_year), R-CE-1 as
    :func:`cpe.ledger.selectors.obligation_start_year` computes it, set-based."""
    queryset = (archives.annotate(first_qualification=Min(ExtractYear("qualifications__obtained_on")),
                                  began=ExtractYear("began_accounting_on"))
                .annotate(o_archive=F("pk"), o_region=F("jurisdiction_id"),
                          o_active=Case(When(status=Archive.Status.ACTIVE, then=Value(1)), default=Value(0),
                                        output_field=IntegerField()),
                          o_start=Least(Coalesce("began", "first_qualification"),
                                        Coalesce("first_qualification", "began")) + 1)
                .values_list("o_archive", "o_region", "o_active", "o_start"))
    sql, params = _sql(queryset)
    return (f"SELECT s.o_archive, s.o_region, s.o_active = 1, s.o_start FROM ({sql}) s WHERE true", params)


def _obligation_contribute(cursor, sign: int, archive_ids_sql: str = f"SELECT archive_id FROM {ARCHIVES}",
                           params: Sequence = ()) -> None:
    """Add (1) or take out (-1) these archives' obligation rows from the regions' obliged counts."""
    cursor.execute(
        f"INSERT INTO {REGION_OBLIGATION} (region_id, start_year, people) "
        f"SELECT o.region_id, o.start_year, {sign} * COUNT(*) FROM {OBLIGATION} o "
        f"WHERE o.archive_id IN ({archive_ids_sql}) AND o.active AND o.region_id IS NOT NULL "
        f"AND o.start_year IS NOT NULL GROUP BY o.region_id, o.start_year "
        f"ON CONFLICT (region_id, start_year) DO UPDATE SET {_add(REGION_OBLIGATION, ('people',))}", params)


def _obligations_refresh(cursor, archive_ids_sql: str, params: Sequence, *, today: dt.date | None,
                         persons: bool = True) -> None:
    _temporary(cursor, ARCHIVES, f"SELECT a.archive_id AS archive_id FROM ({archive_ids_sql}) a", params)
    cursor.execute(f"SELECT 1 FROM {ARCHIVES} LIMIT 1")
    if cursor.fetchone() is None:
        return
    touched = f"p.archive_id IN (SELECT archive_id FROM {ARCHIVES})"
    _obligation_contribute(cursor, -1)
    staged = RawSQL(f"SELECT archive_id FROM {ARCHIVES}", ())
    select, select_params = _obligation_select(Archive.objects.filter(pk__in=staged))
    cursor.execute(
        f"INSERT INTO {OBLIGATION} (archive_id, region_id, active, start_year) {select} "
        f"ON CONFLICT (archive_id) DO UPDATE SET region_id = excluded.region_id, active = excluded.active, "
        f"start_year = excluded.start_year", select_params)
    _obligation_contribute(cursor, 1)
    if persons:
        _contribute(cursor, -1, touched)
        _derive(cursor, touched, (), this_month(today))
        _contribute(cursor, 1, touched)


def archive_obligations_refresh(archive_ids: Iterable[int], *, today: dt.date | None = None) -> None:
    """The archives' region, status or qualifications changed: move their obligation and their credits in
    the region totals, every year (a person moving county moves their totals), in the caller's transaction."""
    ids = sorted({int(pk) for pk in archive_ids})
    if not ids:
        return
    with connection.cursor() as cursor:
        _obligations_refresh(cursor, f"SELECT id AS archive_id FROM {Archive._meta.db_table} WHERE id IN "
                                     f"({', '.join(['%s'] * len(ids))})", ids, today=today)
        cursor.execute(f"DROP TABLE IF EXISTS {ARCHIVES}")


def after_transition(obj, before) -> None:
    """``kjzx.workflow.TRANSITION_HOOKS``: a decision on an application about an archive (a collection
    approved, a change applied, a transfer done) may change its region or obligation."""
    archive_id = getattr(obj, "archive_id", None)
    if archive_id and before.is_open and not obj.is_open:
        archive_obligations_refresh([archive_id])


# --- a year closes, or its required credits change ------------------------------------------------

def _year_totals_rebuild(cursor, year: int) -> None:
    """The region totals of one year from its person rows (a close, a policy change)."""
    cursor.execute(f"DELETE FROM {REGION} WHERE year_id = %s", (year,))
    cursor.execute(f"DELETE FROM {MONTH} WHERE year_id = %s", (year,))
    _contribute(cursor, 1, "p.year_id = %s", (year,))


def _integrity_select(records, month: int) -> tuple[str, tuple]:
    """Person rows of frozen years from the credit-information file: (archive, year, completed, month, credits…)."""
    decimal = DecimalField(max_digits=12, decimal_places=1)
    forms = {f"r_{form}": Coalesce(Cast(KT(f"by_form__{form}"), decimal), Value(0), output_field=decimal)
             for form in FORM_COLUMNS}
    queryset = records.annotate(
        r_archive=F("archive_id"), r_year=F("year_id"),
        r_completed=Case(When(completed=True, then=Value(1)), default=Value(0), output_field=IntegerField()),
        r_total=F("total"), r_professional=F("professional"), r_general=F("general"), **forms,
    ).values_list("r_archive", "r_year", "r_completed", "r_total", "r_professional", "r_general", *forms)
    sql, params = _sql(queryset)
    credits = ", ".join(f"s.r_{c}" for c in CREDITS)
    return (f"SELECT s.r_archive, s.r_year, o.region_id, true, s.r_completed = 1, "
            f"CASE WHEN s.r_completed = 1 THEN %s ELSE NULL END, {credits} FROM ({sql}) s "
            f"LEFT JOIN {OBLIGATION} o ON o.archive_id = s.r_archive WHERE true", (month, *params))


def credit_summaries_freeze(policy: CEYear, *, today: dt.date | None = None) -> None:
    """R-CE-13: the year's person rows become its credit-information file's, then its region totals are
    recounted. Called by :func:`cpe.ledger.services.ce_year_close` in the close's transaction."""
    month = this_month(today)
    columns = f"archive_id, year_id, region_id, obliged, completed, completed_month, {', '.join(CREDITS)}"
    with connection.cursor() as cursor:
        _obligations_refresh(cursor, f"SELECT DISTINCT r.archive_id FROM {IntegrityRecord._meta.db_table} r "
                                     f"WHERE r.year_id = %s AND NOT EXISTS (SELECT 1 FROM {OBLIGATION} o "
                                     f"WHERE o.archive_id = r.archive_id)", (policy.year,), today=today,
                             persons=False)
        select, params = _integrity_select(IntegrityRecord.objects.filter(year=policy), month)
        replace = ", ".join(f"{c} = excluded.{c}" for c in ("region_id", "obliged", "completed", *CREDITS))
        cursor.execute(
            f"INSERT INTO {PERSON} ({columns}) {select} ON CONFLICT (archive_id, year_id) DO UPDATE SET {replace}, "
            f"completed_month = CASE WHEN excluded.completed THEN COALESCE({PERSON}.completed_month, "
            f"excluded.completed_month) ELSE NULL END", params)
        _year_totals_rebuild(cursor, policy.year)
        cursor.execute(f"DROP TABLE IF EXISTS {ARCHIVES}")


def credit_summaries_recount(policy: CEYear, *, today: dt.date | None = None) -> None:
    """The year's required credits may have changed (R-CE-3): who has completed it, and the region totals."""
    if policy.is_frozen:
        return
    with connection.cursor() as cursor:
        _derive(cursor, "p.year_id = %s", (policy.year,), this_month(today))
        _year_totals_rebuild(cursor, policy.year)


# --- everything again, from the ledger ----------------------------------------------------------

def _ledger_select(entries) -> tuple[str, tuple]:
    """Person rows of open years from the ledger: (archive, year, month of the last entry, credits…)."""
    decimal = DecimalField(max_digits=12, decimal_places=1)

    def summed(condition: Q):
        return Coalesce(Sum("credits", filter=condition), Value(0), output_field=decimal)

    sums = {"l_total": summed(Q()),
            "l_professional": summed(Q(subject_kind=SubjectKind.PROFESSIONAL)),
            "l_general": summed(~Q(subject_kind=SubjectKind.PROFESSIONAL)),
            **{f"l_{form}": summed(Q(form=form)) for form in FORM_COLUMNS}}
    queryset = (entries.values("archive_id", "year_id")
                .annotate(l_archive=F("archive_id"), l_year=F("year_id"), l_last=Max("registered_at"), **sums)
                .annotate(l_month=ExtractYear("l_last") * 100 + ExtractMonth("l_last"))
                .values_list("l_archive", "l_year", "l_month", *sums))
    sql, params = _sql(queryset)
    credits = ", ".join(f"s.l_{c}" for c in CREDITS)
    return f"SELECT s.l_archive, s.l_year, s.l_month, {credits} FROM ({sql}) s WHERE true", params


def credit_summaries_rebuild(*, today: dt.date | None = None, keep_months: str | None = None) -> None:
    """Recompute every summary from the archives, the ledger (open years) and the credit-information file
    (frozen years), in the caller's transaction. ``keep_months`` names a table of (archive_id, year_id,
    completed_month) whose months a still-completed person keeps; others get the month of their last entry."""
    month = this_month(today)
    with connection.cursor() as cursor:
        for table in (MONTH, REGION, PERSON, REGION_OBLIGATION, OBLIGATION):
            cursor.execute(f"DELETE FROM {table}")
        select, params = _obligation_select(Archive.objects.all())
        cursor.execute(f"INSERT INTO {OBLIGATION} (archive_id, region_id, active, start_year) {select}", params)
        cursor.execute(
            f"INSERT INTO {REGION_OBLIGATION} (region_id, start_year, people) SELECT o.region_id, o.start_year, "
            f"COUNT(*) FROM {OBLIGATION} o WHERE o.active AND o.region_id IS NOT NULL AND o.start_year IS NOT NULL "
            f"GROUP BY o.region_id, o.start_year")
        select, params = _ledger_select(CreditEntry.objects.filter(year__frozen_at__isnull=True))
        cursor.execute(f"INSERT INTO {PERSON} (archive_id, year_id, completed_month, {', '.join(CREDITS)}, obliged, "
                       f"completed) SELECT s.*, false, false FROM ({select}) s", params)
        select, params = _integrity_select(IntegrityRecord.objects.all(), month)
        cursor.execute(f"INSERT INTO {PERSON} (archive_id, year_id, region_id, obliged, completed, completed_month, "
                       f"{', '.join(CREDITS)}) {select}", params)
        if keep_months:
            cursor.execute(f"UPDATE {PERSON} AS p SET completed_month = (SELECT k.completed_month FROM {keep_months} k "
                           f"WHERE k.archive_id = p.archive_id AND k.year_id = p.year_id) WHERE EXISTS (SELECT 1 "
                           f"FROM {keep_months} k WHERE k.archive_id = p.archive_id AND k.year_id = p.year_id "
                           f"AND k.completed_month IS NOT NULL)")
        _derive(cursor, "true", (), month)
        _contribute(cursor, 1, "true")


SUMMARY_TABLES = {  # table → the columns that must agree with a recomputation (and rows that count)
    OBLIGATION: ("archive_id, region_id, active, start_year", "true"),
    REGION_OBLIGATION: ("region_id, start_year, people", "people <> 0"),
    PERSON: (f"archive_id, year_id, region_id, obliged, completed, {', '.join(CREDITS)}", "true"),
    REGION: (f"region_id, year_id, people, obliged, completed, {', '.join(CREDITS)}",
             " OR ".join(f"{c} <> 0" for c in ("people", "obliged", "completed", *CREDITS))),
    MONTH: ("region_id, year_id, month, completed", "completed <> 0"),
}


def credit_summaries_differences(*, fix: bool = False, samples: int = 3) -> list[str]:
    """Recompute every summary (:func:`credit_summaries_rebuild`) and compare with what is stored: one line per
    table that differs, with a few of its rows. ``fix`` keeps the recomputation; otherwise nothing changes.

    The recomputation runs in a savepoint of the caller's transaction; completion months are kept from
    the stored rows (they are history the ledger cannot tell), so only a month table that no longer adds
    up to its person rows differs there.
    """
    found: list[str] = []
    with transaction.atomic():
        with connection.cursor() as cursor:
            for table in SUMMARY_TABLES:
                _temporary(cursor, f"old_{table}", f"SELECT * FROM {table}")
        credit_summaries_rebuild(keep_months=f"old_{PERSON}")
        with connection.cursor() as cursor:
            for table, (columns, counted) in SUMMARY_TABLES.items():
                for what, first, second in (("应有而缺少或不同", table, f"old_{table}"),
                                            ("多余或不同", f"old_{table}", table)):
                    cursor.execute(f"SELECT {columns} FROM {first} WHERE {counted} EXCEPT "
                                   f"SELECT {columns} FROM {second} WHERE {counted}")
                    rows = cursor.fetchall()
                    if rows:
                        shown = "; ".join(str(tuple(row)) for row in rows[:samples])
                        found.append(f"{table}: {len(rows)} 行{what}（{columns}）：{shown}")
            for table in SUMMARY_TABLES:
                cursor.execute(f"DROP TABLE IF EXISTS old_{table}")
        if not fix:  # only looked: the stored rows stay as they were
            transaction.set_rollback(True)
    return found
