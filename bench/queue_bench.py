"""The review queue at index speed (R-COL-4, R-ACL-1): each page beside raw SQL of the same rows, same run.

Called by ``python -m bench`` on its filled province (a million people, 200,000 applications waiting for
review). :func:`rows` times, for a county (城区 140502), a city (晋城 140500) and the province, what the
workbench view does for one page — :func:`workbench.selectors.queue_page` (the count, exact up to a bound and
otherwise PostgreSQL's estimate; the page: one UNION ALL with ORDER BY/LIMIT inside each kind's branch,
filtered by the list of the scope's jurisdiction codes) and :func:`~workbench.selectors.queue_page_rows` (one
load per kind) — against its baseline: the same twenty rows by hand-written SQL on the same partial indexes
(``(submitted_at, id)`` and ``(jurisdiction, submitted_at, id)`` on open rows), then the same rows loaded with
their archive and region, one statement per kind. Page 50 is the page the pager's "下一页" link reaches
(keyset: after the last row of page 49). Targets (bench/README.md): within 3× the raw SQL and under 20 ms;
page 50 no slower than page 1. Every portal page is checked to hold the same rows as its raw SQL.

It also measures the database settings the portal's connections use (kjzx/settings.py, DATABASES OPTIONS:
no JIT, no parallel plans) against PostgreSQL's defaults on a small web query: the count of overdue
collections and changes.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

from django.db import connection
from django.test.utils import CaptureQueriesContext

from bench.table import Row, ratio_row

PAGE = 20
TARGET_RATIO, TARGET_MS = 3.0, 20.0


def _pair(func: Callable, baseline: Callable, repeat: int) -> tuple[float, float]:
    """Median ms of ``func`` and of ``baseline``, run in turns (a busy machine slows both alike)."""
    func(), baseline()  # the plans and the cache warm
    samples: tuple[list[float], list[float]] = ([], [])
    for _ in range(repeat):
        for index, run in enumerate((func, baseline)):
            started = time.perf_counter()
            run()
            samples[index].append((time.perf_counter() - started) * 1000)
    return statistics.median(samples[0]), statistics.median(samples[1])


def _staff(username: str, role: str, region: str):
    from accounts.models import User

    user, _ = User.objects.get_or_create(username=username, defaults={"role": role, "region_id": region,
                                                                     "name": username})
    return user


def _branch(kind: str, model, codes: list[str] | None, after) -> tuple[str, list]:
    """One kind's open rows in queue order, limited: the SQL an index-aware person writes by hand."""
    params: list = [kind, list(model.REVIEW_STATES)]
    where = "status = ANY(%s)"
    if kind == "transfer":  # an accepted outbound transfer waits for the platform (Transfer.review_q)
        where += " AND NOT (type = 'outbound' AND status = 'accepted')"
    if codes is not None:
        where += " AND jurisdiction_id = ANY(%s)"
        params.append(codes)
    if after is not None:  # after (submitted_at, kind, id) of the cursor, in queue order
        if kind == after.kind:
            where += " AND (submitted_at, id) > (%s, %s)"
            params += [after.submitted_at, after.pk]
        else:
            where += " AND submitted_at >= %s" if kind > after.kind else " AND submitted_at > %s"
            params.append(after.submitted_at)
    return (f"(SELECT %s AS kind, id, submitted_at FROM {model._meta.db_table} WHERE {where} "  # noqa: S608
            f"ORDER BY submitted_at, id LIMIT {PAGE})"), params


def raw_page(codes: list[str] | None, after=None) -> Callable[[], list[tuple]]:
    """The page's (kind, id, submitted_at) by one hand-written UNION ALL, then each kind's rows with the archive
    and the region the page shows: the baseline."""
    from workbench.selectors import QUEUE_MODELS

    branches, params = [], []
    for kind, model in QUEUE_MODELS.items():
        sql, branch_params = _branch(kind, model, codes, after)
        branches.append(sql)
        params += branch_params
    page_sql = " UNION ALL ".join(branches) + f" ORDER BY submitted_at, kind, id LIMIT {PAGE}"
    loads = {}
    for kind, model in QUEUE_MODELS.items():
        table = model._meta.db_table
        person = ("LEFT JOIN records_archive a ON a.id = t.archive_id"
                  if "archive" in {field.name for field in model._meta.fields}
                  else "LEFT JOIN (SELECT NULL AS name, NULL AS id_number) a ON false")
        loads[kind] = (f"SELECT t.*, a.name, a.id_number, r.name, p.name FROM {table} t {person} "  # noqa: S608
                       "LEFT JOIN accounts_region r ON r.code = t.jurisdiction_id "
                       "LEFT JOIN accounts_region p ON p.code = r.parent_id WHERE t.id = ANY(%s)")

    def run() -> list[tuple]:
        with connection.cursor() as cursor:
            cursor.execute(page_sql, params)
            found = cursor.fetchall()
            by_kind: dict[str, list[int]] = {}
            for kind, pk, _at in found:
                by_kind.setdefault(kind, []).append(pk)
            for kind, pks in by_kind.items():
                cursor.execute(loads[kind], [pks])
                cursor.fetchall()
        return found

    return run


def portal_page(user, after: str | None = None) -> Callable[[], list[tuple]]:
    """What the workbench view runs for one page, minus the template."""
    from workbench.selectors import QueueFilters, queue_page, queue_page_rows

    def run() -> list[tuple]:
        page = queue_page(user, QueueFilters(), after=after)
        queue_page_rows(page.rows)
        return [(row["kind"], row["pk"], row["submitted_at"]) for row in page.rows]

    return run


def _codes(user) -> list[str] | None:
    from accounts.models import Region
    from accounts.scoping import region_scope, regions_visible_to

    scope = region_scope(user)
    if scope.level == Region.Level.PROVINCE:
        return None
    return list(regions_visible_to(user).values_list("pk", flat=True))


def _queries(func: Callable) -> int:
    with CaptureQueriesContext(connection) as queries:
        func()
    return len(queries)


def queue_rows_(repeat: int) -> list[Row]:
    from workbench.selectors import QueueCursor, queue_rows

    county = _staff("bench_county", "county_reviewer", "140502")
    city = _staff("bench_city", "city_reviewer", "140500")
    province = _staff("bench_province", "province_staff", "140000")
    result, firsts = [], {}
    for label, user in (("county (城区)", county), ("city (晋城)", city), ("province", province)):
        portal, raw = portal_page(user), raw_page(_codes(user))
        assert portal() == raw(), f"the {label} page and its raw SQL disagree"
        ms, baseline = _pair(portal, raw, repeat)
        firsts[label] = ms
        result.append(ratio_row("queues", f"queue page 1, {label}", ms, baseline, most=TARGET_RATIO,
                                under=TARGET_MS, note=f"{_queries(portal)} queries"))
    before = queue_rows(province, limit=49 * PAGE)
    if len(before) == 49 * PAGE:
        cursor = QueueCursor.of(before[-1])
        portal, raw = portal_page(province, after=cursor.token), raw_page(None, after=cursor)
        assert portal() == raw(), "page 50 and its raw SQL disagree"
        ms, baseline = _pair(portal, raw, repeat)
        result += [ratio_row("queues", "queue page 50 (下一页, keyset), province", ms, baseline, most=TARGET_RATIO,
                             under=TARGET_MS, note=f"{_queries(portal)} queries"),
                   ratio_row("queues", "queue page 50 vs page 1, province", ms, firsts["province"], most=1.2,
                             note="baseline: page 1 of the same run")]
    return result


# --- database settings ---------------------------------------------------------------------------

OVERDUE_SQL = ("SELECT (SELECT count(*) FROM records_collectionapplication WHERE status IN ('submitted', "
               "'first_reviewed') AND due_date < current_date) + (SELECT count(*) FROM records_changerequest "
               "WHERE status = 'submitted' AND due_date < current_date)")
DEFAULTS = ("RESET jit", "RESET max_parallel_workers_per_gather")


def _with(statements: tuple[str, ...], sql: str) -> Callable:
    def run():
        with connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)
            cursor.execute(sql)
            return cursor.fetchall()
    return run


def settings_rows(repeat: int) -> list[Row]:
    """The overdue count under the portal's connection settings against PostgreSQL's defaults, same run."""
    from django.conf import settings

    options = settings.DATABASES["default"].get("OPTIONS", {}).get("options", "")
    portal = tuple(f"SET {part.strip().replace('=', ' = ', 1)}" for part in options.split("-c") if part.strip())
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {OVERDUE_SQL}")
        for statement in DEFAULTS:
            cursor.execute(statement)
        cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {OVERDUE_SQL}")
        plan = str(cursor.fetchone()[0])
    parallel, jit = "Gather" in plan, '"JIT"' in plan or "'JIT'" in plan
    with_portal, with_defaults = _pair(_with(portal or ("SELECT 1",), OVERDUE_SQL), _with(DEFAULTS, OVERDUE_SQL),
                                       repeat)
    # what the same count costs when PostgreSQL does pick a parallel plan or JIT (stale statistics, a bigger
    # table): forced here by making them look free
    forced_parallel = ("SET max_parallel_workers_per_gather = 2", "SET parallel_setup_cost = 0",
                       "SET parallel_tuple_cost = 0", "SET min_parallel_index_scan_size = 0",
                       "SET min_parallel_table_scan_size = 0", "SET jit = off")
    forced_jit = ("SET max_parallel_workers_per_gather = 0", "SET jit = on", "SET jit_above_cost = 0",
                  "SET jit_inline_above_cost = 0", "SET jit_optimize_above_cost = 0")
    parallel_ms, plain_ms = _pair(_with(forced_parallel, OVERDUE_SQL), _with(portal or ("SELECT 1",), OVERDUE_SQL),
                                  repeat)
    jit_ms, plain_jit_ms = _pair(_with(forced_jit, OVERDUE_SQL), _with(portal or ("SELECT 1",), OVERDUE_SQL),
                                 repeat)
    with connection.cursor() as cursor:  # as the connection was
        for setting in ("parallel_setup_cost", "parallel_tuple_cost", "min_parallel_index_scan_size",
                        "min_parallel_table_scan_size", "jit_above_cost", "jit_inline_above_cost",
                        "jit_optimize_above_cost"):
            cursor.execute(f"RESET {setting}")
        for statement in portal:
            cursor.execute(statement)
    return [ratio_row("database settings", f"overdue count, portal connection ({options.strip() or 'no options'})",
                      with_portal, with_defaults,
                      note=f"reported, no target; baseline: PostgreSQL's defaults (parallel plan: "
                           f"{'yes' if parallel else 'no'}, JIT: {'yes' if jit else 'no'})"),
            ratio_row("database settings", "overdue count with a parallel plan (2 workers, forced)", parallel_ms,
                      plain_ms, note="baseline: the portal's connection; reported, no target"),
            ratio_row("database settings", "overdue count with JIT (forced)", jit_ms, plain_jit_ms,
                      note="baseline: the portal's connection; reported, no target")]


def rows(repeat: int = 15) -> list[Row]:
    return queue_rows_(repeat) + settings_rows(repeat)
