"""Province-scale fill, and the records reads on their own: the review queue and the pages around it.

    .venv/bin/python -m bench                                # everything, one table (bench/README.md)
    .venv/bin/python bench/records_bench.py --people 200000  # these reads alone, on kjzx_bench (refilled)

:func:`fill` is the province every bench uses (``python -m bench``, ``bench/dashboard_bench.py``): people and
archives streamed with COPY (as the models save them: numbers sealed and hashed), a collection each,
changes; ``backlog="busy"`` leaves 20% of the people waiting for review (200,000 at a million). Run alone,
this script times the same selector code the pages and the API run, each figure also a ratio to a
baseline of the same run (a primary-key lookup of one archive), and EXPLAINs the queue's first page:
it fails if PostgreSQL plans a sequential scan of a table with rows.
"""

from __future__ import annotations

import argparse
import datetime as dt
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

from bench.province_sql import applications_sql  # noqa: E402


def people_rows(people: int, regions: list[str]):
    """Users and their archives, ``({column values of the user}, {of the archive})`` for person 1…``people``:
    the same every time (the portal's sealing and hashing are applied by :func:`copy_rows`)."""
    from django.utils import timezone

    from accounts import models as accounts

    username = getattr(accounts, "accountant_username", lambda number: number)
    now = timezone.now()
    for g in range(1, people + 1):
        number = f"P{g:017d}"
        born = dt.date(1965, 1, 1) + dt.timedelta(days=g % 14000)
        sex = "F" if g % 2 == 0 else "M"
        collecting = g % 50 == 0
        user = {"id": g, "password": "!", "username": username(number), "role": "accountant", "name": f"测试{g}",
                "id_type": "passport", "id_number": number, "sex": sex, "birth_date": born, "date_joined": now}
        archive = {"id": g, "person_id": g, "status": "collecting" if collecting else "active", "name": user["name"],
                   "id_type": "passport", "id_number": number, "sex": sex, "birth_date": born, "ethnicity": "汉族",
                   "address": "山西省", "employer_name": "某单位", "employer_unit_type": "enterprise",
                   "began_accounting_on": dt.date(2010, 7, 1), "pledge_accepted_at": now,
                   "collected_at": None if collecting else now, "created_at": now, "updated_at": now,
                   "jurisdiction_id": regions[g % len(regions)]}
        yield user, archive


def copy_rows(model, rows) -> int:
    """COPY rows of ``model`` (dicts of attribute → value; a missing one takes the field's default) into its
    table as ``save()`` would write them — sealed numbers sealed, keyed hashes computed by their fields — then
    move its id sequence past them; returns the rows."""
    from types import SimpleNamespace

    fields = list(model._meta.concrete_fields)
    defaults = {field.attname: field.get_default() for field in fields}
    sealed = {field.attname for field in fields if hasattr(field, "sealing_context")}
    hashed = {field.attname for field in fields if hasattr(field, "purpose") and hasattr(field, "source")}
    table = model._meta.db_table
    names = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    count = 0
    with connection.cursor() as cursor:
        with cursor.connection.cursor().copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for row in rows:
                values = {**defaults, **row}
                obj = SimpleNamespace(**values)
                copy.write_row([field.pre_save(obj, True) if field.attname in hashed
                                else field.get_prep_value(values[field.attname]) if field.attname in sealed
                                else values[field.attname] for field in fields])
                count += 1
        cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")  # noqa: S608
    return count


def fill(people: int, *, backlog: str = "quiet") -> float:
    """The province's people and archives (built as the models save them — the numbers sealed and hashed — and
    streamed with COPY), a collection each and the changes (server-side INSERT … SELECT); a pure function of
    ``people`` and ``backlog``: the same rows every time. Then VACUUM ANALYZE; returns the seconds."""
    from accounts.models import Region, User
    from records.models import Archive, ChangeRequest

    started = time.perf_counter()
    regions = list(Region.objects.order_by("code").values_list("code", flat=True))  # before COPY holds the line
    copy_rows(User, (user for user, _archive in people_rows(people, regions)))  # first: the archives' key
    copy_rows(Archive, (archive for _user, archive in people_rows(people, regions)))
    sealed = {name: ChangeRequest._meta.get_field(name).get_prep_value(value) for name, value in (
        ("new_values", {"contact": {"mobile": "13900000000", "email": "", "address": "新地址"}}),
        ("old_values", {}))}
    with connection.cursor() as cursor:
        cursor.execute(applications_sql(backlog, **sealed))
    vacuum_analyze()
    seconds = time.perf_counter() - started
    print(f"filled {people:,} people in {seconds:.1f} s")
    return seconds


def vacuum_analyze() -> None:
    """VACUUM ANALYZE the whole database: autovacuum is off on these machines, and a freshly filled table
    has neither statistics nor a visibility map (index-only scans then visit the heap)."""
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


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
    from workbench.selectors import QueueFilters, queue_page, queue_page_rows

    def run():
        return queue_page_rows(queue_page(user, QueueFilters(**filters), page=page).rows)

    return run


def explain_queue(user) -> str:
    """The plan of the province's first page (the UNION ALL of each kind's ordered, limited branch)."""
    from workbench.selectors import QueueFilters, _ordered, _parts

    parts = _parts(user, QueueFilters())
    branches = [qs.order_by("submitted_at", "pk")[:21] for _kind, qs in parts]
    _ordered(parts, 21)  # the same query the page runs
    return branches[0].union(*branches[1:], all=True).order_by("submitted_at", "kind", "pk")[:21].explain()


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

    if not args.reuse:  # a fresh scratch database, migrated (before this process connects to it)
        from bench.__main__ import migrate, recreate

        name = connection.settings_dict["NAME"]
        if not name.startswith("kjzx_bench"):
            raise SystemExit(f"records_bench: refusing to recreate {name!r} (scratch databases are kjzx_bench*)")
        recreate(name)
        migrate(name)
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
    with connection.cursor() as cursor:  # a sequential scan of a table with (almost) no rows is the right plan
        cursor.execute("SELECT relname FROM pg_class WHERE relkind = 'r' AND reltuples > 1000")
        big = {name for (name,) in cursor.fetchall()}
    big_seq = [line for line in plan.splitlines() if "Seq Scan on" in line
               and line.split("Seq Scan on", 1)[1].split()[0] in big]
    print("\nqueue plan (province staff, page 1):\n" + plan)
    if big_seq:
        print("\nFAIL: sequential scan of a big table in the queue plan")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
