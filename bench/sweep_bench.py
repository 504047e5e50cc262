"""The deadline sweeps (R-DL-2, R-DL-3) with the same work due among few or many open applications.

    KJZX_BENCH_DB=kjzx_bench_sweeps .venv/bin/python bench/sweep_bench.py --open 1000000   # 1,000 due in each

``python -m bench`` runs it in its own scratch database (a copy of the migrated empty template), so that
nothing else is due there. Two daily beat tasks sweep every workflow kind — :func:`kjzx.deadlines.due_steps_remind`
(待办提醒) and :func:`kjzx.deadlines.overdue_steps_escalate` (逾期报上级) — claiming rows with
``select_for_update(skip_locked=True)`` in batches on the partial ``due_date`` indexes of open rows. The data:
``--small`` collections waiting for review (10,000), ``--due`` of them due (1,000: half past their due date, half
due today), the rest due in 30–60 days; reviewers for every jurisdiction. Each sweep is timed (median of
``--repeat`` runs; between runs the stamps are cleared and the notifications removed, the audit rows stay), then
the table grows to ``--open`` open collections (1,000,000) with the same due ones, VACUUM ANALYZE, and the
sweeps are timed again. Target: the large table within 1.5× the small one (the work is the due rows; the open
ones that are not due must cost nothing).

The people and archives here are fixtures for the sweeps, made in SQL (one sealed ID number shared by all, a
distinct hash each): the sweeps read neither. ``--json`` prints the rows as one JSON line last (for the harness).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kjzx.settings_test")
DB = os.environ.get("KJZX_BENCH_DB", "kjzx_bench_sweeps")
os.environ.setdefault("DATABASE_URL", f"postgres://postgres@127.0.0.1:5432/{DB}")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402

TARGET = 1.5

# People first…last (ids from 1,001: the reviewers come first): a user, an archive (collecting) and a
# collection waiting for review. The first %(due)s are due: half yesterday or earlier (escalated), half
# today (reminded); the rest in 30–60 days.
FILL_SQL = """
INSERT INTO accounts_user (id, password, is_superuser, username, role, name, id_type, id_number, id_number_hash,
                           sex, mobile, mobile_hash, email, organisation, is_active, is_staff, date_joined)
  SELECT g, '!', false, 'S' || g, 'accountant', '测试' || g, '', '', '', 'M', '', '', '', '', true, false, now()
  FROM generate_series(%(first)s + 1000, %(last)s + 1000) AS g;
INSERT INTO records_archive (id, person_id, status, name, id_type, id_number, id_number_hash, id_last4_hash, sex,
                             birth_date, ethnicity, mobile, mobile_hash, email, address, employer_name,
                             employer_credit_code, employer_unit_type, created_at, updated_at, jurisdiction_id)
  SELECT g, g, 'collecting', '测试' || g, 'passport', %(sealed)s, md5(g::text) || md5((-g)::text), '', 'M',
         date '1980-01-01', '汉族', '', '', '', '', '某单位', '', 'enterprise', now(), now(), r.code
  FROM generate_series(%(first)s + 1000, %(last)s + 1000) AS g
  JOIN (SELECT code, row_number() OVER (ORDER BY code) - 1 AS i, count(*) OVER () AS n FROM accounts_region) r
    ON r.i = g %% r.n;
INSERT INTO records_collectionapplication (status, applicant_id, jurisdiction_id, submitted_at, due_date,
                                           step_started_on, step_days, reason, created_at, updated_at, archive_id)
  SELECT 'submitted', a.person_id, a.jurisdiction_id, now() - interval '3 days',
         CASE WHEN a.id - 1000 <= %(due)s / 2 THEN %(today)s::date - 1 - (a.id %% 5)::int
              WHEN a.id - 1000 <= %(due)s THEN %(today)s::date ELSE %(today)s::date + 30 + (a.id %% 30)::int END,
         %(today)s::date - 3, 5, '', now(), now(), a.id
  FROM records_archive a WHERE a.id BETWEEN %(first)s + 1000 AND %(last)s + 1000;
"""


def fill(first: int, last: int, due: int, today: dt.date) -> float:
    from records.models import Archive

    sealed = Archive._meta.get_field("id_number").get_prep_value("P00000000000000001")
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(FILL_SQL, {"first": first, "last": last, "due": due, "today": today, "sealed": sealed})
        for table in ("accounts_user", "records_archive"):
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")  # noqa: S608
        cursor.execute("VACUUM ANALYZE")
    return time.perf_counter() - started


def reviewers() -> None:
    """A county, city or provincial reviewer for every jurisdiction: each due item has someone to tell."""
    from accounts.models import Region, User

    role = {Region.Level.PROVINCE: "province_staff", Region.Level.CITY: "city_reviewer"}
    User.objects.bulk_create([User(username=f"bench_reviewer_{region.code}", name=f"审核{region.code}",
                                   role=role.get(region.level, "county_reviewer"), region_id=region.code)
                              for region in Region.objects.all()])


def sweep(today: dt.date, repeat: int) -> dict[str, float]:
    """Median ms of each sweep over ``repeat`` runs, each on the same due rows (stamps cleared between runs)."""
    from kjzx.deadlines import due_steps_remind, overdue_steps_escalate
    from kjzx.models import Notification

    samples: dict[str, list[float]] = {"remind": [], "escalate": []}
    handled = {}
    for _ in range(repeat):
        for name, task in (("remind", due_steps_remind), ("escalate", overdue_steps_escalate)):
            started = time.perf_counter()
            handled[name] = task(today)
            samples[name].append((time.perf_counter() - started) * 1000)
        with connection.cursor() as cursor:
            cursor.execute("UPDATE records_collectionapplication SET reminded_for = NULL, escalated_for = NULL "
                           "WHERE due_date <= %s AND status IN ('submitted', 'first_reviewed')", [today])
        Notification.objects.all().delete()
    print(f"sweep_bench: handled {handled}", file=sys.stderr)
    return {name: statistics.median(values) for name, values in samples.items()} | {
        f"{name} items": float(count) for name, count in handled.items()}


def rows(open_count: int, small: int, due: int, repeat: int) -> list[dict]:
    from django.utils import timezone

    today = timezone.localdate()
    reviewers()
    seconds = fill(1, small, due, today)
    print(f"sweep_bench: {small:,} open in {seconds:.1f} s", file=sys.stderr)
    few = sweep(today, repeat)
    seconds = fill(small + 1, open_count, 0, today)
    print(f"sweep_bench: {open_count:,} open in {seconds:.1f} s", file=sys.stderr)
    many = sweep(today, repeat)
    assert few["remind items"] == many["remind items"] and few["escalate items"] == many["escalate items"]
    result = []
    for name, label in (("remind", "待办提醒 due_steps_remind"), ("escalate", "逾期报上级 overdue_steps_escalate")):
        ratio = many[name] / few[name]
        result.append({"case": f"sweep {label}: {int(many[name + ' items']):,} due among {open_count:,} open "
                               f"(baseline: among {small:,})", "figure": round(many[name], 1),
                       "baseline": round(few[name], 1), "ratio": round(ratio, 2), "target": f"≤ {TARGET:g}×",
                       "met": ratio <= TARGET})
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--open", type=int, default=1_000_000, help="open collections in the large table")
    parser.add_argument("--small", type=int, default=10_000, help="open collections in the small table")
    parser.add_argument("--due", type=int, default=1_000, help="of them due: half overdue, half due today")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="print the rows as one JSON line last")
    args = parser.parse_args()
    from accounts.models import User

    if User.objects.exists():
        print(f"sweep_bench: {connection.settings_dict['NAME']} is not empty; it needs a freshly migrated database",
              file=sys.stderr)
        return 2
    found = rows(args.open, args.small, args.due, args.repeat)
    for row in found:
        print(f"{row['case']}: {row['figure']} ms vs {row['baseline']} ms = {row['ratio']}× "
              f"({row['target']}: {'met' if row['met'] else 'NOT met'})", file=sys.stderr)
    if args.json:
        print(json.dumps(found, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
