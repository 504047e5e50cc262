"""The dashboards (统计看板) at a million people: figures, baselines and ratios as rows.

    .venv/bin/python bench/dashboard_bench.py                    # 1,000,000 people in kjzx_bench_dash
    .venv/bin/python bench/dashboard_bench.py --people 100000    # a quick look
    .venv/bin/python bench/dashboard_bench.py --reuse            # time again without refilling
    KJZX_BENCH_DB=other .venv/bin/python bench/dashboard_bench.py

It fills its own scratch PostgreSQL database (``$KJZX_BENCH_DB``, default ``kjzx_bench_dash``; never the
portal's own), then times each dashboard read at province, city and county scope beside a baseline of the
same run. For the bench harness, :func:`rows` does all of that and returns one dict per case:
``{"case", "figure_ms", "baseline_ms", "ratio", "target", "met"}``.

- :func:`fill_province` — the province of ``bench/records_bench.py`` in SQL alone (placeholder seals: the
  dashboards read no personal data): a million people over the 129 jurisdictions, one collection each
  (decided over the last eleven months, or open with due dates from three weeks ago to next week), changes;
  ``--backlog busy`` (the default, as ``python -m bench``): 20% of the people waiting for review, ``quiet``:
  about 2%;
- :func:`fill_credits` — ten credit entries this year for each collected person (~10 million), then the kept
  figures built from scratch (:func:`cpe.ledger.summaries.credit_summaries_rebuild`,
  :func:`workbench.tallies.decision_tallies_rebuild`: what ``stats_verify --fix`` does);
- then ``VACUUM ANALYZE`` of the whole database (visibility maps for index-only scans, fresh statistics;
  autovacuum would do it later, the bench cannot wait);
- :func:`dashboard_cases` — each dashboard read the page makes, timed beside its baseline: the raw SQL read
  of the same kept rows and live open counts (what the figures cannot beat), and once each, the GROUP BY
  over the ledger and the sort of the year's decisions that the kept figures replace.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

TARGET_MS = 200.0
DEFAULT_DB = "kjzx_bench_dash"
PG = "postgres://postgres@127.0.0.1:5432/"
FORMS = ("online", "online", "online", "face_to_face", "exam", "conference", "online", "face_to_face", "paper", "other")

# The credits of person a, entry n: 3–15 each, so that about half the province completes its 90.
CREDITS_SQL = """
INSERT INTO cpe_creditentry (archive_id, year_id, subject_kind, form, credits, source_type, source_id, source_label,
                             reason, registered_at)
  SELECT a.id, %(year)s, CASE WHEN n %% 3 = 2 THEN 'general' ELSE 'professional' END,
         (%(forms)s)[n %% %(nforms)s + 1], 3 + (a.id * 7 + n * 5) %% 13, 'province', 'bench-' || a.id || '-' || n,
         '演示登记', '', now()
  FROM records_archive a CROSS JOIN generate_series(0, %(per_person)s - 1) AS n
  WHERE a.status = 'active' AND a.collected_at IS NOT NULL
  ORDER BY a.id, n
"""


def _ms(func: Callable, repeat: int) -> float:
    func()  # warm the plan and the cache
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        func()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def _bulk_session(cursor) -> None:
    """Session settings for the fill: memory to sort in, no wait for the disk, no per-row foreign-key triggers
    (the rows are consistent by construction; the postgres superuser runs the bench)."""
    cursor.execute("SET work_mem = '256MB'")
    cursor.execute("SET maintenance_work_mem = '1GB'")
    cursor.execute("SET synchronous_commit = off")
    cursor.execute("SET session_replication_role = replica")


def _normal_session(cursor) -> None:
    for name in ("work_mem", "maintenance_work_mem", "synchronous_commit", "session_replication_role"):
        cursor.execute(f"RESET {name}")


# The people and archives of bench/records_bench.py over every jurisdiction (their applications: bench/province_sql.py),
# written in SQL alone: the dashboards read no personal data, so every sealed ID number is one sealed
# placeholder and the blind indexes are unique stand-ins (md5), which makes a million people a minute's work
# instead of sealing and hashing each of them in Python.
PEOPLE_SQL = """
CREATE TEMP TABLE bench_region AS
  SELECT code, (row_number() OVER (ORDER BY code)) - 1 AS i FROM accounts_region;
INSERT INTO accounts_user (password, is_superuser, username, role, name, id_type, id_number, id_number_hash, sex,
                           birth_date, mobile, mobile_hash, email, organisation, is_active, is_staff, date_joined)
  SELECT '!', false, 'P' || lpad(g::text, 17, '0'), 'accountant', '测试' || g, 'passport', %(user_id_number)s,
         md5('user' || g), CASE WHEN g % 2 = 0 THEN 'F' ELSE 'M' END, date '1965-01-01' + (g % 14000), '', '', '',
         '', true, false, now()
  FROM generate_series(1, %(people)s) AS g;
INSERT INTO records_archive (status, name, id_type, id_number, id_number_hash, id_last4_hash, sex, birth_date,
                             ethnicity, mobile, mobile_hash, email, address, employer_name, employer_credit_code,
                             employer_unit_type, began_accounting_on, pledge_accepted_at, collected_at, created_at,
                             updated_at, jurisdiction_id, person_id)
  SELECT CASE WHEN u.id % 50 = 0 THEN 'collecting' ELSE 'active' END, u.name, u.id_type, %(archive_id_number)s,
         md5('archive' || u.id), md5('last4' || u.id % 10000), u.sex, u.birth_date, '汉族', '', '', '', '山西省',
         '某单位', '', 'enterprise', date '2010-07-01', now(), CASE WHEN u.id % 50 = 0 THEN NULL ELSE now() END,
         now(), now(), r.code, u.id
  FROM accounts_user u JOIN bench_region r ON r.i = u.id % (SELECT count(*) FROM bench_region)
  WHERE u.username LIKE 'P%';
"""


def fill_province(people: int, backlog: str = "busy") -> float:
    """People, archives, collections and changes of ``people`` people over every jurisdiction; seconds."""
    from django.db import connection

    from accounts.models import User
    from bench.province_sql import applications_sql
    from records.models import Archive, ChangeRequest

    def sealed(model, name, value) -> str:  # base64 and a key id: safe as a literal
        return "'" + str(model._meta.get_field(name).get_prep_value(value)) + "'"

    values = {"people": str(int(people)), "user_id_number": sealed(User, "id_number", "P00000000000000000"),
              "archive_id_number": sealed(Archive, "id_number", "P00000000000000000")}
    sql = PEOPLE_SQL
    for name, value in values.items():
        sql = sql.replace(f"%({name})s", value)
    change = {name: ChangeRequest._meta.get_field(name).get_prep_value(value) for name, value in (
        ("new_values", {"contact": {"mobile": "13900000000", "email": "", "address": "新地址"}}),
        ("old_values", {}))}
    sql += applications_sql(backlog, **change)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        _bulk_session(cursor)
        try:
            cursor.execute(sql)
        finally:
            _normal_session(cursor)
    return time.perf_counter() - started


def fill_credits(per_person: int = 10, year: int | None = None) -> dict[str, float]:
    """``per_person`` entries this year for each collected archive, then the kept figures built; seconds each."""
    from django.db import connection, transaction
    from django.utils import timezone

    from cpe.ledger.summaries import credit_summaries_rebuild
    from workbench.selectors import QUEUE_MODELS
    from workbench.tallies import decision_tallies_expected, decision_tallies_rebuild

    year = year or timezone.localdate().year
    forms = "ARRAY[" + ", ".join(f"'{form}'" for form in FORMS) + "]"
    timings = {}
    started = time.perf_counter()
    with connection.cursor() as cursor:
        _bulk_session(cursor)
        try:
            cursor.execute(CREDITS_SQL % {"year": int(year), "forms": forms, "nforms": len(FORMS),
                                          "per_person": int(per_person)})
        finally:
            _normal_session(cursor)
    timings["insert credit entries"] = time.perf_counter() - started
    started = time.perf_counter()
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL work_mem = '256MB'")
        credit_summaries_rebuild()
    timings["build CE summaries"] = time.perf_counter() - started
    started = time.perf_counter()
    with transaction.atomic():
        decision_tallies_rebuild(decision_tallies_expected(QUEUE_MODELS.values()))
    timings["build decision tallies"] = time.perf_counter() - started
    return timings


def vacuum_analyze() -> float:
    """VACUUM ANALYZE the whole database (outside any transaction): visibility maps and statistics; seconds."""
    from django.db import connection

    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    return time.perf_counter() - started


def _raw(sql: str, params=()) -> Callable:
    from django.db import connection

    def run():
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()
    return run


def _page(client, url: str) -> Callable:
    def run():
        response = client.get(url)
        assert response.status_code == 200, response.status_code
    return run


def dashboard_cases(*, province, city, county=None, year: int, repeat: int = 7,
                    ledger_baseline: bool = True) -> list[tuple]:
    """(case, figure ms, baseline ms, ratio, target ms, met) for each dashboard read at province, city and
    county scope, and the HTTP pages; with ``ledger_baseline``, once each, what the kept figures replace."""
    from django.test import Client
    from django.utils import timezone

    from cpe.models import CEYear
    from tests.factories import login_staff
    from workbench.stats import WINDOW_MONTHS, _months_back, cpe_figures, review_figures, work_counts
    from workbench.tallies import month_of

    policy = CEYear.objects.get(pk=year)
    window_from = _months_back(month_of(timezone.localdate()), WINDOW_MONTHS - 1)
    # The baselines: the same kept rows and live counts read by hand-written SQL, nothing around them.
    raw_review = _raw("SELECT region_id, kind, days, sum(count) FROM workbench_decisiontally WHERE month >= %s "
                      "GROUP BY 1, 2, 3", (window_from,))
    open_sql = ("SELECT jurisdiction_id, count(*), count(*) FILTER (WHERE due_date = current_date), "
                "count(*) FILTER (WHERE due_date < current_date) FROM {table} WHERE status IN ({states}) GROUP BY 1")
    raw_open = [_raw(open_sql.format(table="records_collectionapplication", states="'submitted', 'first_reviewed'")),
                _raw(open_sql.format(table="records_changerequest", states="'submitted'"))]
    raw_counts = [_raw("SELECT count(*) FROM records_collectionapplication WHERE status IN ('submitted', "
                       "'first_reviewed')"),
                  _raw("SELECT count(*) FROM records_changerequest WHERE status = 'submitted'")]
    raw_cpe = _raw("SELECT region_id, sum(obliged), sum(completed), sum(total) FROM cpe_regioncreditsummary "
                   "WHERE year_id = %s GROUP BY 1", (year,))
    clients = {}
    for name, user in (("province", province), ("city", city), ("county", county)):
        if user is not None:
            clients[name] = Client()
            login_staff(clients[name], user)
    baseline_review = _ms(lambda: (raw_review(), *(run() for run in raw_open)), repeat)
    baseline_cpe = _ms(raw_cpe, repeat)
    baseline_counts = _ms(lambda: [run() for run in raw_counts], repeat)
    scopes = [("province", province), ("city", city)] + ([("county", county)] if county is not None else [])
    cases = []
    for scope, user in scopes:
        cases.append((f"review figures, {scope}", lambda user=user: review_figures(user), baseline_review))
    for scope, user in scopes:
        cases.append((f"CE figures this year, {scope}", lambda user=user: cpe_figures(user, policy), baseline_cpe))
    for scope, _user in scopes:
        cases.append((f"/dashboard/ page, {scope} (HTTP)", _page(clients[scope], "/dashboard/"),
                      baseline_review + baseline_cpe))
    for scope, user in scopes:
        cases.append((f"workbench counts (landing), {scope}", lambda user=user: work_counts(user), baseline_counts))
    cases.append(("GET /api/v1/stats/reviews/, province", _page(clients["province"], "/api/v1/stats/reviews/"),
                  baseline_review))
    cases.append((f"GET /api/v1/stats/cpe/{year}/, province", _page(clients["province"], f"/api/v1/stats/cpe/{year}/"),
                  baseline_cpe))
    timed = [(name, _ms(func, repeat), baseline) for name, func, baseline in cases]
    result = [(name, round(ms, 1), round(baseline, 2), round(ms / baseline, 1), TARGET_MS, ms < TARGET_MS)
              for name, ms, baseline in timed]
    if ledger_baseline:  # what the kept figures replace, once each: seconds at a million
        ledger = _raw(
            "SELECT substr(r.path, 8, 6), e.form, sum(e.credits), count(DISTINCT e.archive_id) FROM cpe_creditentry e "
            "JOIN records_archive a ON a.id = e.archive_id JOIN accounts_region r ON r.code = a.jurisdiction_id "
            "WHERE e.year_id = %s GROUP BY 1, 2", (year,))
        decisions = _raw(
            "SELECT substr(r.path, 8, 6), percentile_disc(0.9) WITHIN GROUP (ORDER BY c.decided_at - c.submitted_at) "
            "FROM records_collectionapplication c JOIN accounts_region r ON r.code = c.jurisdiction_id "
            "WHERE c.decided_at >= now() - interval '365 days' GROUP BY 1")
        for name, func, baseline in (("replaced: GROUP BY over the year's ledger, province", ledger, baseline_cpe),
                                     ("replaced: p90 sorting the year's decisions, province", decisions,
                                      baseline_review)):
            started = time.perf_counter()
            func()
            ms = (time.perf_counter() - started) * 1000
            result.append((name, round(ms, 1), round(baseline, 2), round(ms / baseline, 1), None, None))
    return result


def print_rows(rows: list[tuple]) -> None:
    print(f"\n{'case':52} {'ms':>9} {'baseline':>9} {'ratio':>8} {'target':>7} {'met':>4}")
    for name, ms, baseline, ratio, target, met in rows:
        print(f"{name:52} {ms:9.1f} {baseline:9.2f} {ratio:8.1f} {target or '':>7} "
              f"{'' if met is None else ('yes' if met else 'NO'):>4}")


# --- the scratch database and the whole run ------------------------------------------------------

def _setup(db: str) -> None:
    """Django on database ``db``: configured here if nothing configured it, else the default connection moved."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kjzx.settings_test")
    from django.conf import settings

    if not settings.configured:
        os.environ["DATABASE_URL"] = PG + db
    import django

    django.setup()
    from django.db import connection

    if connection.settings_dict["NAME"] != db:
        connection.close()
        connection.settings_dict["NAME"] = db


def _recreate(db: str) -> None:
    import psycopg

    with psycopg.connect(PG + "postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{db}"')
        conn.execute(f'CREATE DATABASE "{db}"')


def _staff(username: str, role: str, region: str):
    from accounts.models import User

    user, _ = User.objects.get_or_create(username=username, defaults={"role": role, "region_id": region,
                                                                     "name": username})
    return user


def _exists(db: str) -> bool:
    import psycopg

    with psycopg.connect(PG + "postgres", autocommit=True) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (db,)).fetchone() is not None


def rows(people: int = 1_000_000, db: str | None = None, *, repeat: int = 9, fresh: bool = False,
         backlog: str = "busy", ledger_baseline: bool = True, log=print) -> list[dict]:
    """Time every dashboard case on ``db`` and return ``[{"case", "figure_ms", "baseline_ms", "ratio", "target",
    "met"}, ...]`` (target and met None for the once-only "replaced" rows). A database that already holds a
    province (the harness's) is timed as it is; a missing or empty one (or any, with ``fresh``) is created,
    migrated and filled with ``people`` people first."""
    db = db or os.environ.get("KJZX_BENCH_DB") or DEFAULT_DB
    created = fresh or not _exists(db)
    if created:
        _recreate(db)
    _setup(db)
    from django.core.management import call_command
    from django.utils import timezone

    from cpe.models import CreditEntry
    from records.models import Archive

    if created:
        call_command("migrate", verbosity=0)
    year = timezone.localdate().year
    if not Archive.objects.exists():
        log(f"filled {people:,} people in {fill_province(people, backlog):.1f} s")
        for step, seconds in fill_credits(year=year).items():
            log(f"{step}: {seconds:.1f} s")
        log(f"VACUUM ANALYZE: {vacuum_analyze():.1f} s")
    province = _staff("bench_province", "province_staff", "140000")
    city = _staff("bench_city", "city_reviewer", "140500")
    county = _staff("bench_county", "county_reviewer", "140502")
    log(f"{Archive.objects.count():,} archives, {CreditEntry.objects.filter(year_id=year).count():,} credit "
        f"entries this year; target {TARGET_MS:.0f} ms each")
    found = dashboard_cases(province=province, city=city, county=county, year=year, repeat=repeat,
                            ledger_baseline=ledger_baseline)
    return [{"case": f"dashboard: {name}", "figure_ms": ms, "baseline_ms": baseline, "ratio": ratio,
             "target": target, "met": met} for name, ms, baseline, ratio, target, met in found]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--reuse", action="store_true", help="keep the data of the last run")
    parser.add_argument("--backlog", choices=("busy", "quiet"), default="busy",
                        help="open applications: 20%% of the people (busy, as python -m bench) or about 2%%")
    parser.add_argument("--json", action="store_true", help="print the rows as one JSON line last")
    parser.add_argument("--no-ledger-baseline", action="store_true",
                        help="skip the once-only GROUP BY over the ledger and the sort of the decisions")
    args = parser.parse_args()
    found = rows(args.people, repeat=args.repeat, fresh=not args.reuse, backlog=args.backlog,
                 ledger_baseline=not args.no_ledger_baseline, log=lambda line: print(line, flush=True))
    print_rows([(r["case"], r["figure_ms"], r["baseline_ms"], r["ratio"], r["target"], r["met"]) for r in found])
    if args.json:
        print(json.dumps(found, ensure_ascii=False))
    return 0 if all(r["met"] is not False for r in found) else 1


if __name__ == "__main__":
    raise SystemExit(main())
