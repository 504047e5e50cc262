"""Render docs/reliability.md from the figures of one run (``bash scripts/reliability.sh [--big]``).

Reads ``var/reliability/*.json`` (written by the tests through :func:`tests.reliability.figures.record`)
and ``var/reliability/junit.xml`` (pytest's report of the same run, for the hostile-input corpus and the
killed-worker tests, which count by test case), and writes the table with the run's budget, seed,
versions and commit.

    .venv/bin/python -m tests.reliability.report [--out docs/reliability.md]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import xml.etree.ElementTree as ET
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
KINDS = ("collection", "change", "transfer", "claim", "filing")


def load(folder: Path) -> dict[str, dict]:
    return {path.stem: json.loads(path.read_text(encoding="utf-8")) for path in sorted(folder.glob("*.json"))}


def junit_cases(path: Path) -> list[dict]:
    if not path.exists():
        return []
    cases = []
    for case in ET.parse(path).getroot().iter("testcase"):  # noqa: S314 (pytest's own report of this run)
        failed = any(child.tag in ("failure", "error") for child in case)
        skipped = any(child.tag == "skipped" for child in case)
        cases.append({"class": case.get("classname", ""), "name": case.get("name", ""),
                      "seconds": float(case.get("time", 0)), "failed": failed, "skipped": skipped})
    return cases


def _group(cases: list[dict], *prefixes: str) -> dict:
    chosen = [c for c in cases if c["class"].startswith(prefixes)]
    return {"cases": len(chosen), "failed": sum(c["failed"] for c in chosen),
            "skipped": sum(c["skipped"] for c in chosen), "seconds": round(sum(c["seconds"] for c in chosen), 1)}


def _outcome(failed: int) -> str:
    return "**pass**" if failed == 0 else f"**{failed} FAILED**"


def versions() -> dict[str, str]:
    found = {"Python": platform.python_version()}
    for package in ("Django", "djangorestframework", "django-fsm-2", "schemathesis", "hypothesis", "pytest",
                    "celery", "psycopg"):
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            pass
    url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    try:
        found["PostgreSQL"] = subprocess.run(["psql", url, "-Atc", "show server_version"],  # noqa: S603, S607
                                             capture_output=True, text=True, timeout=10).stdout.strip() or "?"
    except (OSError, subprocess.SubprocessError):
        found["PostgreSQL"] = "?"
    return found


def commit() -> str:
    def git(*args):
        return subprocess.run(["git", *args], cwd=ROOT,  # noqa: S603, S607
                               capture_output=True, text=True, timeout=10).stdout.strip()

    head = git("rev-parse", "--short=12", "HEAD") or "?"
    dirty = git("status", "--porcelain", "--untracked-files=no")
    return f"{head}{' + uncommitted changes' if dirty else ''}"


def rows(figures: dict[str, dict], cases: list[dict]) -> list[tuple[str, str, str, str, str]]:
    """(what, figure with its denominator, result, seed and budget, seconds)."""
    out = []
    m = figures.get("access_matrix")
    if m:
        out.append(("Access matrix (tests/surface/test_matrix.py)",
                    f"{m['requests']:,} requests of {m['cells_total']:,} cells ({m['routes']} routes × methods × "
                    f"{m['actors']} actors × objects); wrong answers {m['wrong']}, foreign markers in a body "
                    f"{m['leaks']}; objects {_statuses(m.get('objects', {}))}; statuses {_statuses(m['statuses'])}",
                    _outcome(m["wrong"] + m["leaks"]), f"{m['seed']}, {m['budget']}", f"{m['seconds']:.0f}"))
    f = figures.get("schemathesis")
    if f:
        out.append(("Schemathesis on /api/schema/ (tests/surface/test_fuzz.py)",
                    f"{f['cases']:,} generated cases × {len(f['callers'])} callers = {f['requests']:,} requests over "
                    f"{f['operations']} operations ({', '.join(f['modes'])}; {f['examples_per_operation_and_mode']} "
                    f"examples per operation and mode); failures {f['failures']} "
                    f"(checks: {', '.join(f['checks'])}); statuses {_statuses(f['statuses'])}",
                    _outcome(f["failures"]), f"{f['seed']}, {f['budget']}", f"{f['seconds']:.0f}"))
    g = figures.get("schemathesis_stateful")
    if g:
        links, taken = g["links"], sum(g.get("workflow_transitions_taken", {}).values())
        out.append(("Schemathesis stateful phase on /api/schema/ (tests/surface/test_fuzz_stateful.py)",
                    f"{g['runs']:,} state-machine scenarios ({g['runs_per_caller']} Hypothesis examples per caller, ≤ "
                    f"{g['max_steps_per_run']} steps each) as {len(g['callers'])} callers = {g['requests']:,} "
                    f"requests over {g['operations_reached']} operations ({', '.join(g.get('modes', []))}); "
                    f"{links['total']} links "
                    f"({links['inferred']} inferred by schemathesis, {links['explicit']} added by the test, "
                    f"{links['declared_by_the_schema']} in the schema), {g['links_followed']:,} steps followed one "
                    f"({g['distinct_links_followed']} distinct), {taken} workflow transitions taken; failures "
                    f"{g['failures']} (checks: {', '.join(g['checks'])}; foreign markers in a body "
                    f"{g.get('foreign_markers', 0)}); statuses {_statuses(g['statuses'])}",
                    _outcome(g["failures"]), f"{g['seed']}, {g['budget']}", f"{g['seconds']:.0f}"))
    for kind in KINDS:
        s = figures.get(f"state_machine_{kind}")
        if s:
            out.append((f"State machine: {kind} (tests/reliability/test_workflow_machines.py)",
                        f"{s['examples']} examples, {s['steps']} steps (≤ {s['max_steps_per_example']} each): "
                        f"{s['taken']} transitions taken, {s['refused']} refused as the table says; every "
                        "invariant after every step", _state_result(cases, kind, s), f"{s['seed']}, {s['budget']}",
                        f"{s['seconds']:.0f}"))
    c = figures.get("concurrency")
    if c:
        out.append(("Concurrent identical actions (tests/reliability/test_concurrency.py)",
                    f"{c['rounds_with_one_winner']} of {c['rounds']} rounds with exactly one winner, one audit row and "
                    f"one notification ({c['threads']} threads, {c['action']})",
                    _outcome(c["rounds"] - c["rounds_with_one_winner"]), f"—, {c['budget']}", f"{c['seconds']:.0f}"))
    h = _group(cases, "tests.hostile", "cpe.lists.tests.test_hostile_files")
    if h["cases"]:
        out.append(("Hostile input corpus (tests/hostile/, cpe/lists/tests/test_hostile_files.py)",
                    f"{h['cases']} test cases (each corpus file through the service, the API and the page; hostile "
                    f"spreadsheets; formula cells in exports): {h['failed']} failed, {h['skipped']} skipped",
                    _outcome(h["failed"]), "—", f"{h['seconds']:.0f}"))
    w = _group(cases, "kjzx.tests.test_notifications_worker")
    if w["cases"]:
        out.append(("Killed Celery worker (kjzx/tests/test_notifications_worker.py)",
                    f"{w['cases']} test cases (a real worker killed in a notification batch and in a deadline "
                    f"sweep, restarted, every item counted): {w['failed']} failed, {w['skipped']} skipped",
                    _outcome(w["failed"]), "—", f"{w['seconds']:.0f}"))
    return out


def _state_result(cases: list[dict], kind: str, figure: dict) -> str:
    """From pytest's report when there is one; else from the figure, which a machine that failed never writes."""
    found = [c for c in cases if c["name"].endswith(f"[{kind}]") and "test_workflow_machines" in c["class"]]
    if found:
        return _outcome(sum(c["failed"] for c in found))
    return _outcome(0 if figure["taken"] else 1)


def _statuses(statuses: dict) -> str:
    return ", ".join(f"{code}: {count:,}" for code, count in statuses.items())


def render(folder: Path, also: list[Path] = ()) -> str:
    figures = load(folder)
    cases = junit_cases(folder / "junit.xml")
    budget = next((f["budget"] for f in figures.values() if "budget" in f), "small")
    found = rows(figures, cases)
    for extra in also:  # a figure measured alone at another budget, e.g. the whole matrix
        found += [(f"{what} — {extra.name}, run alone", *rest) for what, *rest in rows(load(extra), [])]
    table = "\n".join(f"| {what} | {figure} | {result} | {seed} | {seconds} |"
                      for what, figure, result, seed, seconds in found)
    total = _group(cases, "")
    vs = ", ".join(f"{name} {version}" for name, version in versions().items())
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"""# Reliability: the figures

Produced by `bash scripts/reliability.sh{' --big' if budget == 'big' else ''}` on {now} — commit {commit()};
{os.cpu_count()} cores; {vs}. Budget **{budget}** (`bash scripts/reliability.sh` runs the small budgets CI runs
as part of the normal suite; `bash scripts/reliability.sh --big` the large ones). The seed is
`KJZX_RELIABILITY_SEED` (default 20261205): the same seed replays the same sample of cells, the same generated
requests and the same state-machine runs.

| what | figure (with its denominator) | result | seed, budget | seconds |
|---|---|---|---|---|
{table}

The run: {total['cases']} test cases, {total['failed']} failed, {total['skipped']} skipped.{_alone(also)}

## What each figure proves

- **Access matrix.** Every route of every `urls.py` (pages, API, downloads, exports, the admin's index and
  model lists, the exchange) is classified in `tests/surface/doors.py` (`test_inventory` fails on a new
  route that is not). The matrix sends each route's methods (and GET and POST where it declares neither)
  as each of 16 actors — anonymous, accountants A (城区) and B (沁水), the county reviewers of 城区 (inside)
  and 沁水 (outside), the city reviewers of 晋城 (inside) and 太原 (outside), provincial staff, institutions A
  and B, an employer, the national platform's token, the three administrators and a reviewer's session with a
  password but no second factor (which must reach nothing but the code step) — on every object of the
  kind the path names: one's own, one's county's, another county's, another city's (`tests/surface/world.py`
  builds them through the real services). Each answer must be of the class the table gives: served, the
  login (anonymous), 403 (a door one's role may not pass), the same 404 as a missing object (outside one's
  region or ownership, R-ACL-1/2), or 405; never a 5xx. And no body — page, JSON or the cells of a
  spreadsheet — may hold the name, ID number (full or masked), mobile, street or certificate number of a
  person the actor may not see. CI sends a seeded sample of the cells; `--big` all of them.
- **Schemathesis.** Every operation of `/api/schema/`, with generated path values, query strings and bodies
  (valid in CI; valid and invalid with `--big`), sent as accountant A and as the reviewers of 城区 and 沁水;
  checks: no server error, a documented status code, a documented content type, a body that conforms to the
  documented schema, and `ignored_auth` (a 2xx answer of an operation that declares security is sent again
  without credentials and with made-up ones, which must be refused). Each request runs in a savepoint rolled
  back after it.
- **Schemathesis, stateful.** Schemathesis' state machine (`as_state_machine()`) chains requests over the
  schema's links: drf-spectacular declares none, schemathesis infers them (an object's id from the answer that
  created or listed it), and the test adds the workflow links it cannot infer (a queue row → the object and its
  transition door; an object's `available_transitions` → that transition). One machine per caller (the
  reviewers of 城区 and 沁水, then accountant A), starting from operations that need no id; valid requests, one
  step in ten invalid (schemathesis' default); the objects a run creates stay for its later steps (the test's
  transaction; a savepoint per request, rolled back on a 5xx or a logout). Checks: the four above,
  `ignored_auth`, `use_after_free` and `ensure_resource_availability` (an object just created can be read),
  and the matrix's marker scan: no body holds anything of a person the caller may not see.
- **State machines.** One Hypothesis `RuleBasedStateMachine` per workflow kind
  (`tests/reliability/machines.py`), its transition table written from docs/workflows/, drives random
  transitions by random actors (the applicant, another accountant, reviewers inside and outside the region)
  through `workflow_transition`. After every step: the row is in the table's state (reached only by its
  transitions), the history holds exactly one audit row per transition taken and none for a refusal,
  初审 and 复审 are two people (R-COL-4), and an archive has at most one open change or transfer — opening
  another while one is open is refused (R-CHG-4).
- **Concurrency.** Each round, eight threads on eight PostgreSQL connections, released by one barrier, send the
  same 初审通过: one wins, seven get the 409, one audit row, one notification.
- **Hostile input** and **killed workers** are the existing tests, run in the same session and counted here.

## Found while measuring

- Schemathesis found answers the published schema did not describe (the behaviour was right, the schema
  wrong): every paginated list (`list_schema`, the notifications, the public institution list, the archive
  history) answers 404 for a page past the last one, undocumented — now `ERROR_PAGE_404`; the 400 of
  registration and of the token required a key literally named `field` — now any field → messages; the 404
  of marking a notification read was undocumented. After these, 0 failures at both budgets above.
- The stateful phase found a 500: a reviewer's `POST /api/v1/collections/{{id}}/reveal-id/` (and `changes/`) with a NUL
  character in `reason` (PostgreSQL stores no U+0000). The per-operation phases could not reach it (a random
  id is a 404 first); a chain from the reviewer's queue could. Now a 400 on `reason`
  (`records.privacy.clean_reveal_reason`, for the API and the workbench page), kept by
  `test_reveal_reason_with_a_nul_character_is_a_400`. Its big run found another: `POST /api/v1/cpe/claims/`
  with `form` (or a choice in `details`) sent as a list or an object (`unhashable type`); now a 400 naming the
  field (`cpe.claims.services`), kept by `test_claim_with_a_list_or_object_where_a_choice_belongs_is_a_400`.
  And an undocumented 415: a transition door answers 415 to a body of a Content-Type it does not read, as
  does every operation that reads a body; 15 of the 27 did not say so. The next big run found an undocumented
  406 (`accept: c[` on `GET /api/v1/changes/`: DRF's content negotiation, on any operation). A schema hook now
  documents both on every operation they apply to (`kjzx.workflow_api.document_content_negotiation`), kept by
  `test_every_operation_documents_the_answers_of_content_negotiation`.
- The access matrix found no wrong answer and no foreign marker in any body; what it corrected was its own
  table (the exchange monitor is provincial staff's alone; an institution reads its own filing and
  attendance list through the API).

## Limits

- The seconds are wall-clock on a 2-core machine shared with other work (load average 8–10 during these
  runs). The CI part — tests/surface and tests/reliability, 12 test cases, the small province built once —
  took 55 s in one session on an existing test database at load average 8.
- The per-operation schemathesis run fills path parameters with generated values, so most object requests
  answer 404; object access with real identifiers is the matrix's job, and the stateful phase's, which reaches
  real objects only through its links (the small budget follows a few dozen; few objects of the small province
  have a transition open to these three callers, so few transitions are taken).
- The matrix sends empty bodies to the doors that write: it proves who reaches a door and what the answer
  shows, not each form's validation (the apps' own tests do).
"""


def _alone(also) -> str:
    if not also:
        return ""
    return ("\n\nRows marked “run alone” come from one test run by itself at a larger budget, the same working tree, "
            "between the same\nother helpers' load: `KJZX_RELIABILITY=big [KJZX_RELIABILITY_SCALE=0.2 or 0.5] bash "
            "scripts/test.sh <test file> --timeout=0`,\nrendered with `python -m tests.reliability.report --also "
            "<its figures folder>`.")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--figures", default=str(ROOT / "var" / "reliability"))
    parser.add_argument("--out", default=str(ROOT / "docs" / "reliability.md"))
    parser.add_argument("--also", action="append", default=[],
                        help="another run's figures folder (one test at a larger budget), added as rows")
    args = parser.parse_args(argv)
    text = render(Path(args.figures), [Path(path) for path in args.also])
    Path(args.out).write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
