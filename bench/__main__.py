"""The portal's performance contract: every case at province scale, each figure beside a baseline of the same run.

    .venv/bin/python -m bench                      # 1,000,000 people, ~10 million credit entries (tens of minutes)
    .venv/bin/python -m bench --people 10000       # the CI smoke size (under a minute)
    .venv/bin/python -m bench --reuse              # time again on the data of the last run
    .venv/bin/python -m bench --fill-only          # fill now, time later with --reuse

It works in scratch PostgreSQL databases named after ``$KJZX_BENCH_DB`` (default ``kjzx_bench``; never the
portal's own): ``<db>_template`` migrated and empty, from which ``<db>`` (the province), ``<db>_lists``
(the exam pass list) and ``<db>_sweeps`` (the deadline sweeps) are copied; ``<db>_web`` holds the demo
for the HTTP load (kept between runs). ``--drop`` removes them all at the end. The province is filled by
``bench/records_bench.py`` (people, archives, a collection each, changes: 20% of the people with an
application waiting for review — 200,000 at a million) and ``bench/dashboard_bench.py`` (ten credit
entries this year for each collected person, COPY), both pure functions of ``--people``, then VACUUM
ANALYZEd (autovacuum is off on these machines). Then every case, in this order:

1. **lists** — ``bench/exam_bench.py``: a pass list of ``people / 10`` rows (100,000 at a million) end to
   end against the plain calamine + look-up + COPY pipeline of the same run; registering against COPY;
2. **queues** — ``bench/queue_bench.py``: first page for a county, a city and the province, and page 50,
   each against raw SQL of the same 20 rows on the same partial indexes; and the database settings
   (parallel plans, JIT) on an overdue count;
3. **dashboards** — ``bench/dashboard_bench.py``;
4. **sweeps** — ``bench/sweep_bench.py``: the deadline sweeps with 1,000 due among ``people`` open
   against 1,000 due among ``people / 100`` open;
5. **certificate** — ``bench/certificate_bench.py``: ms per PDF, first and warm, unsigned and signed;
6. **HTTP** — ``bench/http_bench.py`` when it is there (a "not run" row otherwise).

It prints one table (case, figure, baseline, ratio, target, met) and writes it with the machine, the date,
the versions and the commit to ``var/bench/latest.md`` (``--out``). It exits non-zero only if a case could
not run; a missed target is a "no" in the table, not a failure.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
GROUPS = ("lists", "queues", "dashboards", "sweeps", "certificate", "http")
PROVINCE_GROUPS = {"queues", "dashboards", "certificate"}  # the cases that read the filled province


def url(db: str) -> str:
    return f"postgres://postgres@127.0.0.1:5432/{db}"


def admin(*statements: str) -> None:
    import psycopg

    with psycopg.connect(ADMIN_URL, autocommit=True) as connection:
        for statement in statements:
            connection.execute(statement)


def recreate(db: str, template: str | None = None) -> None:
    admin(f'DROP DATABASE IF EXISTS "{db}"',
          f'CREATE DATABASE "{db}"' + (f' TEMPLATE "{template}"' if template else ""))


def migrate(db: str) -> None:
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, check=True,
                   env={**os.environ, "DATABASE_URL": url(db)})


def python(module_args: list[str], db: str) -> list[dict]:
    """Run a bench script in its own process on database ``db``; its last stdout line is its rows as JSON."""
    out = subprocess.run([sys.executable, *module_args, "--json"], cwd=ROOT, capture_output=True,  # noqa: S603
                         text=True, env={**os.environ, "KJZX_BENCH_DB": db, "DATABASE_URL": url(db)})
    sys.stderr.write(out.stderr[-3000:])
    last = (out.stdout.strip().splitlines() or [""])[-1]
    if not last.startswith("["):  # a missed target exits 1 with its rows; anything else is a failure
        raise RuntimeError(f"{module_args[0]} exited {out.returncode} without its rows: {out.stderr[-500:]}")
    return json.loads(last)


# --- the run ---------------------------------------------------------------------------------------

class Run:
    def __init__(self, args: argparse.Namespace, db: str):
        self.args, self.db, self.people = args, db, args.people
        self.small = args.people < 100_000

    def fill(self) -> dict[str, float]:
        from django.utils import timezone

        from bench.dashboard_bench import fill_credits
        from bench.records_bench import fill, vacuum_analyze

        timings = {"people, archives, applications (INSERT … SELECT)": fill(self.people, backlog="busy")}
        timings.update(fill_credits(year=timezone.localdate().year))
        started = time.perf_counter()
        vacuum_analyze()
        timings["VACUUM ANALYZE"] = time.perf_counter() - started
        return timings

    def lists(self):
        from bench.table import ratio_row

        db = f"{self.db}_lists"
        recreate(db, f"{self.db}_template")
        count = max(1000, self.people // 10)
        found = python(["bench/exam_bench.py", "--reuse", "--rows", str(count), "--rss-rows", str(self.people)], db)
        return [ratio_row("lists", row["case"], row["figure"], row["baseline"],
                          unit="MB" if row["case"].startswith("memory") else "s", most=row["target"])
                for row in found]

    def queues(self):
        from bench.queue_bench import rows

        return rows(repeat=self.args.repeat)

    def dashboards(self):
        from bench import dashboard_bench
        from bench.table import Row, row_of

        if hasattr(dashboard_bench, "rows"):
            found = dashboard_bench.rows(people=self.people, db=self.db)
            return [row_of("dashboards", row) for row in found]
        from django.utils import timezone

        from bench.records_bench import staff

        found = dashboard_bench.dashboard_cases(
            province=staff("bench_province", "province_staff", "140000"),
            city=staff("bench_city", "city_reviewer", "140500"), year=timezone.localdate().year,
            repeat=max(3, self.args.repeat // 2), ledger_baseline=not self.small)
        return [Row("dashboards", "dashboard_bench.rows() is not there yet: dashboard_cases() instead", None, None,
                    note="the dashboards helper's function")] + [row_of("dashboards", row) for row in found]

    def sweeps(self):
        from bench.table import row_of

        db = f"{self.db}_sweeps"
        recreate(db, f"{self.db}_template")
        small = max(self.people // 100, 100)
        due = min(1000, small // 10)
        found = python(["bench/sweep_bench.py", "--open", str(self.people), "--small", str(small), "--due",
                        str(due), "--repeat", str(3 if self.small else 5)], db)
        return [row_of("sweeps", row) for row in found]

    def certificate(self):
        from bench.certificate_bench import rows
        from bench.table import row_of

        runs, processes = (2, 0) if self.small else (30, 5)  # the smoke size: warm renders only (seconds each)
        return [row_of("certificate", row) for row in rows(runs, processes)]

    def http(self):
        from bench.table import not_run, row_of

        if not (ROOT / "bench" / "http_bench.py").exists():
            return [not_run("HTTP", "pages under load (gunicorn, wrk)", "bench/http_bench.py is not there")]
        from bench import http_bench

        found = http_bench.rows(db=f"{self.db}_web", seconds=2 if self.small else 10)
        return [row_of("HTTP", row) for row in found]


def machine(people: int, db: str) -> str:
    import django
    from django.db import connection

    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    memory = next(int(line.split()[1]) // 1024 // 1024 for line in Path("/proc/meminfo").read_text().splitlines()
                  if line.startswith("MemTotal"))
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        postgres = cursor.fetchone()[0].split()[0]
    git = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)  # noqa: S607
    dirty = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True)  # noqa: S607
    commit = (git.stdout.strip() or "unknown") + (" with uncommitted changes" if dirty.stdout.strip() else "")
    return (f"{people:,} people; {os.cpu_count()} cores ({cpu}), {memory} GB; PostgreSQL {postgres}, "
            f"Python {platform.python_version()}, Django {django.get_version()}; commit {commit}; database {db}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--reuse", action="store_true", help="keep the province of the last run (no fill)")
    parser.add_argument("--fill-only", action="store_true", help="fill the province and stop")
    parser.add_argument("--repeat", type=int, default=15, help="runs of each timed read (the median counts)")
    parser.add_argument("--only", nargs="+", choices=GROUPS, help="run only these cases")
    parser.add_argument("--skip", nargs="+", choices=GROUPS, default=[], help="leave these cases out")
    parser.add_argument("--drop", action="store_true", help="drop the scratch databases at the end (CI)")
    parser.add_argument("--out", default=str(ROOT / "var" / "bench" / "latest.md"), help="the markdown table")
    args = parser.parse_args(argv)
    db = os.environ.get("KJZX_BENCH_DB", "kjzx_bench")
    if not db.startswith("kjzx_bench") or not db.replace("_", "").isalnum():
        parser.error(f"KJZX_BENCH_DB={db!r}: scratch databases are named kjzx_bench…, never the portal's own")
    os.environ.update({"KJZX_BENCH_DB": db, "DATABASE_URL": url(db)})
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kjzx.settings_test")
    sys.path.insert(0, str(ROOT))
    started = time.perf_counter()
    when = dt.datetime.now(dt.UTC)
    load_before = os.getloadavg()

    template = f"{db}_template"
    recreate(template)
    migrate(template)  # a migrated empty database: every scratch database below is a copy of it
    if args.reuse:
        migrate(db)  # migrations added since the fill
    else:
        recreate(db, template)

    import django

    django.setup()
    from bench.table import Row, markdown, not_run

    run = Run(args, db)
    # lists, sweeps and HTTP make their own databases: a run of only those needs no province
    selected = set(args.only or GROUPS) - set(args.skip)
    if not args.reuse and (args.fill_only or selected & PROVINCE_GROUPS):
        for step, seconds in run.fill().items():
            print(f"fill: {step}: {seconds:,.1f} s", file=sys.stderr)
        if args.fill_only:
            admin(f'DROP DATABASE IF EXISTS "{template}"')
            return 0
    rows: list[Row] = []
    failed = []
    for group in args.only or GROUPS:
        if group in args.skip:
            rows.append(not_run(group, group, "--skip"))
            continue
        print(f"bench: {group} …", file=sys.stderr)
        begun = time.perf_counter()
        try:
            rows += getattr(run, group)()
            print(f"bench: {group}: {time.perf_counter() - begun:.0f} s", file=sys.stderr)
        except Exception as error:  # one case failing must not hide the others
            traceback.print_exc()
            failed.append(group)
            rows.append(not_run(group, group, f"{type(error).__name__}: {error}"[:200]))
    from django.db import connections

    head_machine = machine(args.people, db)
    connections.close_all()
    admin(f'DROP DATABASE IF EXISTS "{template}"')
    if args.drop:
        admin(*(f'DROP DATABASE IF EXISTS "{db}{suffix}"' for suffix in ("", "_lists", "_sweeps", "_web")))
    # every case that ran gave at least one ratio (what the CI smoke run checks)
    failed += [group for group in args.only or GROUPS if group not in args.skip and group not in failed
               and not any(row.ratio is not None for row in rows if row.group.lower() == group.lower())]
    table = markdown(rows)
    load = " / ".join(f"{a:.1f}–{b:.1f}" for a, b in zip(load_before, os.getloadavg(), strict=True))
    head = (f"`python -m bench --people {args.people}`{' --reuse' if args.reuse else ''}, {when:%Y-%m-%d %H:%M} UTC, "
            f"{(time.perf_counter() - started) / 60:.0f} min; {head_machine}; load average "
            f"(1 / 5 / 15 min, start–end) {load}")
    print(f"\n{head}\n\n{table}")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(f"{head}\n\n{table}\n", encoding="utf-8")
    (out.with_suffix(".json")).write_text(json.dumps([row.as_dict() for row in rows], ensure_ascii=False, indent=1),
                                          encoding="utf-8")
    if failed:
        print(f"\nbench: FAILED (did not run, or gave no ratio): {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
