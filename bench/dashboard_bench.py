"""The dashboards (统计看板) at a million people, issue 13: figures, baselines and ratios as rows.

Called by ``bench/records_bench.py`` after it fills the province (or by a later ``python -m bench``):

- :func:`fill_credits` — ten credit entries for each collected person this year (~10 million at a
  million people), streamed with PostgreSQL's COPY; then the kept figures are built from scratch
  (:func:`cpe.ledger.summaries.credit_summaries_rebuild`, :func:`workbench.tallies.decision_tallies_rebuild`)
  and the tables VACUUM ANALYZEd (autovacuum is off on these machines).
- :func:`dashboard_cases` — each dashboard read the page makes, timed beside its baseline in the same
  run: the raw SQL read of the same kept rows (what the figures cannot beat), and once, the GROUP BY
  over the ledger and the decisions they replace. Rows of (case, figure ms, baseline ms, ratio, target
  ms, met).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

from django.db import connection, transaction

TARGET_MS = 200.0
FORMS = ("online", "online", "online", "face_to_face", "exam", "conference", "online", "face_to_face", "paper", "other")


def _ms(func: Callable, repeat: int) -> float:
    func()  # warm the plan and the cache
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        func()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def fill_credits(per_person: int = 10, year: int | None = None) -> dict[str, float]:
    """COPY ``per_person`` entries this year for each collected archive, then build the kept figures; seconds each."""
    from django.utils import timezone

    from cpe.ledger.summaries import credit_summaries_rebuild
    from workbench.selectors import QUEUE_MODELS
    from workbench.tallies import decision_tallies_expected, decision_tallies_rebuild

    year = year or timezone.localdate().year
    timings = {}
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM records_archive WHERE status = 'active' AND collected_at IS NOT NULL "
                       "ORDER BY id")
        ids = [row[0] for row in cursor.fetchall()]
        copy_sql = ("COPY cpe_creditentry (archive_id, year_id, subject_kind, form, credits, source_type, source_id, "
                    "source_label, reason, registered_at) FROM STDIN")
        now = timezone.now().isoformat()
        with cursor.connection.cursor().copy(copy_sql) as copy:
            chunk = []
            for archive_id in ids:
                for n in range(per_person):
                    kind = "general" if n % 3 == 2 else "professional"
                    credits = 3 + (archive_id * 7 + n * 5) % 13  # 3–15: about half the province completes
                    chunk.append(f"{archive_id}\t{year}\t{kind}\t{FORMS[n % len(FORMS)]}\t{credits}\tprovince\t"
                                 f"bench-{archive_id}-{n}\t演示登记\t\t{now}\n")
                if len(chunk) >= 50_000:
                    copy.write("".join(chunk))
                    chunk = []
            copy.write("".join(chunk))
    timings["COPY credit entries"] = time.perf_counter() - started
    started = time.perf_counter()
    with transaction.atomic():
        credit_summaries_rebuild()
    timings["build CE summaries"] = time.perf_counter() - started
    started = time.perf_counter()
    with transaction.atomic():
        decision_tallies_rebuild(decision_tallies_expected(QUEUE_MODELS.values()))
    timings["build decision tallies"] = time.perf_counter() - started
    with connection.cursor() as cursor:
        for table in ("cpe_creditentry", "cpe_creditsummary", "cpe_archiveobligation", "cpe_regionobligation",
                      "cpe_regioncreditsummary", "cpe_regioncompletionmonth", "workbench_decisiontally"):
            cursor.execute(f"VACUUM ANALYZE {table}")
    return timings


def _raw(sql: str, params=()) -> Callable:
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


def dashboard_cases(*, province, city, year: int, repeat: int = 7, ledger_baseline: bool = True) -> list[tuple]:
    """(case, figure ms, baseline ms, ratio, target ms, met) for each dashboard read at province and city scope."""
    from django.test import Client
    from django.utils import timezone

    from cpe.models import CEYear
    from tests.factories import login_staff
    from workbench.stats import WINDOW_MONTHS, _months_back, cpe_figures, review_figures
    from workbench.tallies import month_of

    policy = CEYear.objects.get(pk=year)
    window_from = _months_back(month_of(timezone.localdate()), WINDOW_MONTHS - 1)
    raw_review = _raw(
        "SELECT substr(r.path, 8, 6), t.kind, t.days, sum(t.count) FROM workbench_decisiontally t "
        "JOIN accounts_region r ON r.code = t.region_id WHERE t.month >= %s GROUP BY 1, 2, 3", (window_from,))
    raw_open = _raw(
        "SELECT jurisdiction_id, count(*), count(*) FILTER (WHERE due_date = current_date), "
        "count(*) FILTER (WHERE due_date < current_date) FROM records_collectionapplication "
        "WHERE status IN ('submitted', 'first_reviewed') GROUP BY 1")
    raw_cpe = _raw(
        "SELECT substr(r.path, 8, 6), sum(s.obliged), sum(s.completed), sum(s.total) FROM cpe_regioncreditsummary s "
        "JOIN accounts_region r ON r.code = s.region_id WHERE s.year_id = %s GROUP BY 1", (year,))
    client = Client()
    login_staff(client, province)
    city_client = Client()
    login_staff(city_client, city)
    baseline_review = _ms(lambda: (raw_review(), raw_open()), repeat)
    baseline_cpe = _ms(raw_cpe, repeat)
    cases = [
        ("dashboard: review figures, province", lambda: review_figures(province), baseline_review),
        ("dashboard: review figures, city", lambda: review_figures(city), baseline_review),
        ("dashboard: CE figures this year, province", lambda: cpe_figures(province, policy), baseline_cpe),
        ("dashboard: CE figures this year, city", lambda: cpe_figures(city, policy), baseline_cpe),
        ("dashboard page /dashboard/, province (HTTP)", _page(client, "/dashboard/"), baseline_review + baseline_cpe),
        ("dashboard page /dashboard/, city (HTTP)", _page(city_client, "/dashboard/"), baseline_review + baseline_cpe),
        ("API /api/v1/stats/cpe/{year}/, province", _page(client, f"/api/v1/stats/cpe/{year}/"), baseline_cpe),
    ]
    rows = [(name, _ms(func, repeat), baseline) for name, func, baseline in cases]
    result = [(name, round(ms, 1), round(baseline, 2), round(ms / baseline, 1), TARGET_MS, ms < TARGET_MS)
              for name, ms, baseline in rows]
    if ledger_baseline:  # what the kept figures replace, once each: seconds at a million
        ledger = _raw(
            "SELECT substr(r.path, 8, 6), e.form, sum(e.credits), count(DISTINCT e.archive_id) FROM cpe_creditentry e "
            "JOIN records_archive a ON a.id = e.archive_id JOIN accounts_region r ON r.code = a.jurisdiction_id "
            "WHERE e.year_id = %s GROUP BY 1, 2", (year,))
        decisions = _raw(
            "SELECT substr(r.path, 8, 6), percentile_disc(0.9) WITHIN GROUP (ORDER BY c.decided_at - c.submitted_at) "
            "FROM records_collectionapplication c JOIN accounts_region r ON r.code = c.jurisdiction_id "
            "WHERE c.decided_at >= now() - interval '365 days' GROUP BY 1")
        for name, func in (("replaced: GROUP BY over the year's ledger, province", ledger),
                           ("replaced: p90 sorting the year's decisions, province", decisions)):
            started = time.perf_counter()
            func()
            ms = (time.perf_counter() - started) * 1000
            result.append((name, round(ms, 1), round(baseline_cpe, 2), round(ms / baseline_cpe, 1), None, None))
    return result


def print_rows(rows: list[tuple]) -> None:
    print(f"\n{'case':52} {'ms':>9} {'baseline':>9} {'ratio':>8} {'target':>7} {'met':>4}")
    for name, ms, baseline, ratio, target, met in rows:
        print(f"{name:52} {ms:9.1f} {baseline:9.2f} {ratio:8.1f} {target or '':>7} "
              f"{'' if met is None else ('yes' if met else 'NO'):>4}")
