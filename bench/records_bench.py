"""Province-scale benchmark of the records reads: the review queue and the pages around it.

    bash bench/run.sh                  # 1,000,000 people in a scratch database kjzx_bench
    bash bench/run.sh --people 200000  # smaller, for a quick look

It fills a scratch PostgreSQL database with a province (users, archives, one collection each,
changes for one person in ten, open work spread over every region), then times the same selector
code the pages and the API run. Every figure is reported as a ratio to a baseline measured in the
same run (a primary-key lookup of one archive), so the numbers compare across machines. It also
EXPLAINs the queue query and fails if PostgreSQL plans a sequential scan of a big table.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kjzx.settings_test")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/kjzx_bench")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

FILL_SQL = """
CREATE TEMP TABLE bench_region AS
  SELECT code, (row_number() OVER (ORDER BY code)) - 1 AS i FROM accounts_region;
INSERT INTO accounts_user (password, is_superuser, username, role, name, id_type, id_number, sex, birth_date,
                           mobile, email, organisation, is_active, is_staff, date_joined)
  SELECT '!', false, 'P' || lpad(g::text, 17, '0'), 'accountant', '测试' || g, 'passport',
         'P' || lpad(g::text, 17, '0'), CASE WHEN g % 2 = 0 THEN 'F' ELSE 'M' END,
         date '1965-01-01' + (g % 14000), '', '', '', true, false, now()
  FROM generate_series(1, %(people)s) AS g;
INSERT INTO records_archive (status, name, id_type, id_number, sex, birth_date, ethnicity, mobile, email, address,
                             employer_name, employer_credit_code, employer_unit_type, began_accounting_on,
                             pledge_accepted_at, collected_at, created_at, updated_at, jurisdiction_id, person_id)
  SELECT CASE WHEN u.id % 50 = 0 THEN 'collecting' ELSE 'active' END, u.name, u.id_type, u.id_number, u.sex,
         u.birth_date, '汉族', '', '', '山西省', '某单位', '', 'enterprise', date '2010-07-01', now(),
         CASE WHEN u.id % 50 = 0 THEN NULL ELSE now() END, now(), now(), r.code, u.id
  FROM accounts_user u JOIN bench_region r ON r.i = u.id % (SELECT count(*) FROM bench_region)
  WHERE u.username LIKE 'P%';
INSERT INTO records_collectionapplication (status, applicant_id, jurisdiction_id, submitted_at, due_date, decided_at,
                                           reason, created_at, updated_at, archive_id)
  SELECT CASE WHEN a.status = 'active' THEN 'approved'
              WHEN a.id % 3 = 0 THEN 'submitted' WHEN a.id % 3 = 1 THEN 'first_reviewed' ELSE 'returned' END,
         a.person_id, a.jurisdiction_id,
         CASE WHEN a.status = 'active' THEN now() - (a.id % 330 + 14) * interval '1 day'
              ELSE now() - (a.id % 43200) * interval '1 minute' END,
         CASE WHEN a.status = 'collecting' AND a.id % 3 < 2
              THEN (now() - (a.id % 43200) * interval '1 minute')::date + 7 END,
         CASE WHEN a.status = 'active' THEN now() - (a.id % 330 + 14) * interval '1 day'
                                            + (a.id % 7 + a.id % 11) * interval '1 day' END,
         '', now() - interval '60 days', now(), a.id
  FROM records_archive a;
INSERT INTO records_changerequest (status, applicant_id, jurisdiction_id, submitted_at, due_date, decided_at, reason,
                                   created_at, updated_at, archive_id, items, new_values, old_values)
  SELECT CASE WHEN a.id % 200 = 1 THEN 'submitted' ELSE 'approved' END, a.person_id, a.jurisdiction_id,
         now() - (a.id % 30000) * interval '1 minute',
         CASE WHEN a.id % 200 = 1 THEN (now() - (a.id % 30000) * interval '1 minute')::date + 14 END,
         CASE WHEN a.id % 200 = 1 THEN NULL ELSE now() END,
         '', now() - interval '30 days', now(), a.id, '["contact"]',
         '{"contact": {"mobile": "13900000000", "email": "", "address": "新地址"}}', '{}'
  FROM records_archive a WHERE a.status = 'active' AND a.id % 10 = 1;
ANALYZE;
"""


def fill(people: int) -> None:
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(FILL_SQL.replace("%(people)s", str(people)))
    print(f"filled {people:,} people in {time.perf_counter() - started:.1f} s")


def staff(username, role, region):
    from accounts.models import User

    user, _ = User.objects.get_or_create(username=username, defaults={"role": role, "region_id": region,
                                                                     "name": username})
    return user


def timed(func, repeat: int) -> tuple[float, int]:
    """Median milliseconds of ``func`` over ``repeat`` runs, and its query count."""
    func()  # warm the cache and the plan
    samples = []
    with CaptureQueriesContext(connection) as queries:
        func()
    for _ in range(repeat):
        started = time.perf_counter()
        func()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples), len(queries)


def queue_page(user, page=1, **filters):
    from django.core.paginator import Paginator

    from workbench.selectors import QueueFilters, queue_page_objects, review_queue

    def run():
        paginator = Paginator(review_queue(user, QueueFilters(**filters)), 20)
        return queue_page_objects(list(paginator.get_page(page).object_list))

    return run


def explain_queue(user) -> str:
    from workbench.selectors import QueueFilters, review_queue

    qs = review_queue(user, QueueFilters())[:20]
    return qs.explain()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--reuse", action="store_true", help="keep the data of the last run")
    args = parser.parse_args()

    from bench.dashboard_bench import dashboard_cases, fill_credits, print_rows
    from cpe.ledger.selectors import year_status
    from cpe.models import CEYear
    from records.models import Archive, ChangeRequest, CollectionApplication
    from records.selectors import application_get

    filled = not args.reuse or not Archive.objects.exists()
    if filled:
        fill(args.people)
    county = staff("bench_county", "county_reviewer", "140502")
    city = staff("bench_city", "city_reviewer", "140500")
    province = staff("bench_province", "province_staff", "140000")
    some = Archive.objects.order_by("pk").values_list("pk", flat=True)[args.people // 2]
    some_id_number = Archive.objects.get(pk=some).id_number
    open_collection = CollectionApplication.objects.filter(status="submitted", jurisdiction_id="140502").first()

    from django.utils import timezone

    this_year = CEYear.objects.get(pk=timezone.localdate().year)
    if filled:
        for step, seconds in fill_credits(year=this_year.year).items():
            print(f"{step}: {seconds:.1f} s")
    baseline, _ = timed(lambda: Archive.objects.filter(pk=some).values_list("pk", flat=True).first(), args.repeat)
    cases = {
        "queue page 1, county reviewer": queue_page(county),
        "queue page 1, city reviewer": queue_page(city),
        "queue page 1, province staff": queue_page(province),
        "queue page 50, province staff": queue_page(province, page=50),
        "queue, overdue only, city": queue_page(city, overdue=True),
        "queue, changes only, province": queue_page(province, kind="change"),
        "queue, search by ID number, province": queue_page(province, q=some_id_number),
        "application detail, county reviewer": lambda: application_get(CollectionApplication, county,
                                                                        open_collection.pk),
        "archive by ID number": lambda: Archive.objects.filter(id_type="passport", id_number=some_id_number).first(),
        "personal CE status (year_status)": lambda: year_status(Archive.objects.get(pk=some), this_year),
    }
    print(f"\n{Archive.objects.count():,} archives, {CollectionApplication.objects.count():,} collections, "
          f"{ChangeRequest.objects.count():,} changes; open in review: "
          f"{CollectionApplication.objects.filter(status__in=CollectionApplication.REVIEW_STATES).count():,} "
          f"collections, {ChangeRequest.objects.filter(status='submitted').count():,} changes\n")
    print(f"{'case':44} {'median ms':>10} {'× baseline':>11} {'queries':>8}")
    print(f"{'baseline: archive by primary key':44} {baseline:10.2f} {1:11.1f} {1:8}")
    for name, func in cases.items():
        ms, queries = timed(func, args.repeat)
        print(f"{name:44} {ms:10.2f} {ms / baseline:11.1f} {queries:8}")
    from cpe.models import CreditEntry

    print(f"\ndashboards (统计看板): {CreditEntry.objects.filter(year=this_year).count():,} credit entries this year, "
          f"target {200} ms each")
    print_rows(dashboard_cases(province=province, city=city, year=this_year.year, repeat=args.repeat))
    plan = explain_queue(province)
    big_seq = [line for line in plan.splitlines() if "Seq Scan" in line and "region" not in line]
    print("\nqueue plan (province staff, page 1):\n" + plan)
    if big_seq:
        print("\nFAIL: sequential scan of a big table in the queue plan")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
