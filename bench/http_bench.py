"""Pages under load: the production server (gunicorn, sync workers) on loopback against PostgreSQL and Redis,
the demo loaded in a scratch database, a bounded load with ``wrk``.

    .venv/bin/python -m bench.http_bench                 # 10 s a case; fills kjzx_bench_http on first use
    .venv/bin/python -m bench.http_bench --seconds 3     # a quick look
    .venv/bin/python -m bench.http_bench --fresh         # drop the scratch database and load the demo again

Cases, each at 16 connections (two wrk threads) for ``seconds``: the accountant's home page ``/me/`` and
``/api/v1/me/cpe/<year>/`` as 杨丽, the county reviewer's queue ``/workbench/`` as chengqu1 and the province's
dashboard ``/dashboard/`` as sheng — requests/s, p50 and p99, each beside a bare Django view served by the same
gunicorn in the same run (``bench.http_urls``: a view returning a constant, through the whole middleware
stack) and a 20-row template in the portal's layout. Then the knee: ``/me/`` at 1, 2, 4, 8 and 16
connections; the knee is the load of the most "power" (requests/s ÷ p50), and its p99 is the latency a
user sees when the server is busy but not overloaded (beyond it, requests only queue).

Staff log in with a second factor: the sessions are made the way the test client's ``force_login`` makes
them, the device marked verified as the code step does (``--sessions``, run in a child process with the
server's settings), then sent by wrk as the session cookie.

Targets (docs/scaling.md has the figures): the accountant's home page at least half the 20-row template's
requests/s; its p99 under 100 ms at the knee's load. ``rows()`` returns them for ``python -m bench``; run
alone, the module prints the table and exits non-zero if a target is missed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv" / "bin" / "python").exists() else sys.executable
DEFAULT_DB = os.environ.get("KJZX_BENCH_HTTP_DB", "kjzx_bench_http")
PG_URL = os.environ.get("KJZX_BENCH_PG", "postgres://postgres@127.0.0.1:5432").rstrip("/")
# Its own Redis database: the test suite flushes database 15 before every test.
REDIS_URL = os.environ.get("KJZX_BENCH_REDIS", "redis://127.0.0.1:6379/13")
WORKERS = int(os.environ.get("KJZX_BENCH_WORKERS", "2"))  # 2 sync workers on 2 cores (docker-compose: -w 3)
# "gthread:4" runs each worker with 4 threads instead (keep-alive, a thread per connection) for comparison.
WORKER_CLASS = os.environ.get("KJZX_BENCH_WORKER_CLASS", "sync")
CONNECTIONS = 16
KNEE_CONNECTIONS = (1, 2, 4, 8, 16)
VAR = ROOT / "var" / "bench" / "http"

ACCOUNTANT = "杨丽"  # collected, this year's CE complete (cpe/ledger/demo.py)
COUNTY = "chengqu1"  # 城区, first review
PROVINCE = "sheng"  # 省财政厅

HOME_TARGET = 0.5  # × the 20-row template's requests/s
P99_TARGET_MS = 100.0

WRK_SCRIPT = r"""
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "WRKJSON {\"requests\": %d, \"duration_us\": %d, \"p50_us\": %d, \"p90_us\": %d, \"p99_us\": %d, " ..
    "\"max_us\": %d, \"status_errors\": %d, \"socket_errors\": %d}\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, e.status, e.connect + e.read + e.write + e.timeout))
end
"""


# --- the scratch database, the static files, the sessions -------------------------------------------------

def _env(db: str, *, development: bool = False) -> dict:
    """The server's environment: production settings (DEBUG off) on the scratch database and Redis."""
    env = {
        **os.environ,
        "DATABASE_URL": f"{PG_URL}/{db}",
        "REDIS_URL": REDIS_URL,
        "CELERY_BROKER_URL": "memory://",  # nothing a GET does is queued; the demo's notifications stay here
        "SECRET_KEY": "bench-http-only-not-a-secret-" + "x" * 32,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "0",  # loopback without the HTTPS proxy in front
        "DJANGO_SETTINGS_MODULE": "bench.http_settings",
        "STATIC_ROOT": str(VAR / "static"),
        "MEDIA_ROOT": str(VAR / "media"),
        "KJZX_BENCH_HTTP": "1",
        "PYTHONPATH": str(ROOT),
        "DEBUG": "1" if development else "0",
        # ID and mobile numbers are sealed at rest (kjzx.crypto): the demo and the server use the same keys.
        "KJZX_DATA_KEYS": "bench:YmVuY2gtaHR0cC1rZXkxNg==",
        "KJZX_HASH_KEY": "YmVuY2gtaHR0cC1oYXNoLWtleS0zMi1ieXRlcy0hISE=",
    }
    if development:  # the demo loads as scripts/manage.sh loads it (console e-mail, logged SMS)
        env["DJANGO_SETTINGS_MODULE"] = "kjzx.settings"
    return env


def _manage(db: str, *args: str, development: bool = False) -> None:
    subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=_env(db, development=development),  # noqa: S603
                   check=True, stdout=subprocess.DEVNULL)


def _psql(sql: str, dbname: str = "postgres") -> list[tuple]:
    import psycopg

    with psycopg.connect(f"{PG_URL}/{dbname}", autocommit=True) as connection:
        cursor = connection.execute(sql)
        return cursor.fetchall() if cursor.description else []


def _has_demo(db: str) -> bool:
    if not _psql(f"SELECT 1 FROM pg_database WHERE datname = '{db}'"):  # noqa: S608 (our own name)
        return False
    try:
        return bool(_psql(f"SELECT 1 FROM accounts_user WHERE username = '{COUNTY}'", db))  # noqa: S608
    except Exception:  # a half-made database: made again
        return False


def prepare(db: str, *, fresh: bool = False, say=print) -> None:
    """The scratch database with the demo (kept between runs unless ``fresh``), migrated, and the static files."""
    if not db.replace("_", "").isalnum() or not db.startswith("kjzx_bench"):
        raise SystemExit(f"http_bench: refusing database name {db!r} (scratch databases are kjzx_bench*)")
    VAR.mkdir(parents=True, exist_ok=True)
    if fresh or not _has_demo(db):
        say(f"http_bench: making {db} with the demo (a minute or two)")
        _psql(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        _psql(f'CREATE DATABASE "{db}"')
        _manage(db, "migrate", "--noinput", development=True)
        _manage(db, "load_demo", development=True)
        _psql("VACUUM ANALYZE", db)
    else:
        _manage(db, "migrate", "--noinput", development=True)
    manifest = VAR / "static" / "staticfiles.json"
    newest = max((path.stat().st_mtime for path in (ROOT / "static").rglob("*") if path.is_file()), default=0)
    if not manifest.exists() or manifest.stat().st_mtime < newest:
        say("http_bench: collecting the static files (again only when static/ changes)")
        _manage(db, "collectstatic", "--noinput", "--verbosity", "0")


def make_sessions() -> dict[str, str]:
    """Session cookies of the three personas, made in this process's database (run with the server's env)."""
    import django

    django.setup()
    from django.conf import settings
    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY

    from accounts.models import AuthenticatorDevice, User
    from accounts.otp import otp_required

    cookies = {}
    for key, user in (("accountant", User.objects.get(role="accountant", name=ACCOUNTANT)),
                      ("county", User.objects.get(username=COUNTY)), ("province", User.objects.get(username=PROVINCE))):
        client = Client()
        client.force_login(user)  # a real login: new session, the 12 hours start (kjzx.middleware.session_start)
        if otp_required(user):
            device = AuthenticatorDevice.objects.filter(user=user, confirmed=True).order_by("-pk").first()
            session = client.session
            session[DEVICE_ID_SESSION_KEY] = device.persistent_id  # what the code step leaves (accounts.views_otp)
            session.save()
        cookies[key] = client.cookies[settings.SESSION_COOKIE_NAME].value
    return cookies


# --- the server and the load --------------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _get(url: str, cookie: str | None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers={"Cookie": f"sessionid={cookie}"} if cookie else {})  # noqa: S310
    try:
        with urllib.request.build_opener(_NoRedirect).open(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


class Server:
    """gunicorn as docker-compose starts it (sync workers), on a free loopback port, stopped on exit."""

    def __init__(self, db: str, workers: int = WORKERS):
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = open(VAR / "gunicorn.log", "w")  # closed in stop()
        kind, _, threads = WORKER_CLASS.partition(":")
        extra = ["-k", kind, "--threads", threads or "4"] if kind == "gthread" else []
        self.process = subprocess.Popen(  # noqa: S603
            [PYTHON, "-m", "gunicorn", "kjzx.wsgi", "-b", f"127.0.0.1:{self.port}", "-w", str(workers), *extra,
             "--chdir", str(ROOT)], cwd=ROOT, env=_env(db), stdout=self.log, stderr=subprocess.STDOUT,
            start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited: see {VAR / 'gunicorn.log'}")
            try:
                if _get(self.base + "/healthz", None)[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.3)
        self.stop()
        raise RuntimeError("gunicorn did not answer /healthz within 60 s")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.log.close()


def wrk(url: str, cookie: str | None, *, seconds: int, connections: int = CONNECTIONS) -> dict:
    """One bounded wrk run: requests/s, p50/p90/p99 in ms; every answer must be 2xx/3xx and no socket error."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT)
    try:
        # Sync workers close the connection after each answer; saying so up front keeps wrk from waiting on a
        # closed keep-alive connection (at one connection that stalled every other request for a second).
        close = ["-H", "Connection: close"] if WORKER_CLASS == "sync" else []
        command = ["wrk", "-t", str(min(2, connections)), "-c", str(connections), "-d", f"{seconds}s",
                   "--timeout", "10s", *close, "-s", script.name, url]
        if cookie:
            command[1:1] = ["-H", f"Cookie: sessionid={cookie}"]
        output = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60, check=True).stdout  # noqa: S603
    finally:
        os.unlink(script.name)
    found = json.loads(next(line for line in output.splitlines() if line.startswith("WRKJSON "))[8:])
    if found["status_errors"] or found["socket_errors"]:
        raise RuntimeError(f"wrk {url}: {found['status_errors']} error answers, {found['socket_errors']} socket errors")
    if not found["requests"]:  # every request took longer than the run: no latency to report
        return {"rps": 0.0, "p50": None, "p90": None, "p99": None, "requests": 0, "connections": connections}
    return {"rps": found["requests"] / (found["duration_us"] / 1e6), "p50": found["p50_us"] / 1000,
            "p90": found["p90_us"] / 1000, "p99": found["p99_us"] / 1000, "requests": found["requests"],
            "connections": connections}


def _line(found: dict) -> str:
    p50, p99 = ("—" if found[key] is None else f"{found[key]:.1f} ms" for key in ("p50", "p99"))
    return f"{found['rps']:8.1f} req/s  p50 {p50:>10}  p99 {p99:>10}"


def measure(db: str = DEFAULT_DB, seconds: int = 10, *, fresh: bool = False, say=print) -> dict:
    """Every case of one run: {name: wrk figures}, plus the knee sweep of the home page."""
    if shutil.which("wrk") is None:
        raise RuntimeError("wrk is not installed (Debian package wrk; scripts/setup.sh installs it as root)")
    prepare(db, fresh=fresh, say=say)
    made = subprocess.run([PYTHON, "-m", "bench.http_bench", "--sessions"], cwd=ROOT, env=_env(db),  # noqa: S603
                          capture_output=True, text=True, check=True)
    cookies = json.loads(made.stdout.strip().splitlines()[-1])
    year = dt.date.today().year
    cases = {  # name: (path, persona, a text the right page holds)
        "bare": ("/bench/bare/", None, "ok"),
        "bare, logged in": ("/bench/bare/", "accountant", "ok"),
        "rows20": ("/bench/rows20/", None, "基准：20行表格"),
        "rows20, logged in": ("/bench/rows20/", "accountant", "基准：20行表格"),
        "home": ("/me/", "accountant", "个人中心"),
        "cpe api": (f"/api/v1/me/cpe/{year}/", "accountant", '"year"'),
        "queue": ("/workbench/", "county", "审核工作台"),
        "dashboard": ("/dashboard/", "province", "统计看板"),
    }
    server = Server(db)
    try:
        for path, persona, text in cases.values():  # each page answers itself, then warms every worker
            status, body = _get(server.base + path, cookies.get(persona))
            if status != 200 or text not in body.decode("utf-8", "replace"):
                raise RuntimeError(f"http_bench: {path} as {persona or 'anonymous'} answered {status}, not the page")
            for _ in range(2 * WORKERS):
                _get(server.base + path, cookies.get(persona))
        results = {}
        for name, (path, persona, _text) in cases.items():
            results[name] = wrk(server.base + path, cookies.get(persona), seconds=seconds)
            say(f"http_bench: {name:16} {_line(results[name])}")
        knee = []
        for connections in KNEE_CONNECTIONS:
            found = results["home"] if connections == CONNECTIONS else wrk(
                server.base + cases["home"][0], cookies["accountant"], seconds=max(2, seconds // 2),
                connections=connections)
            knee.append(found)
            say(f"http_bench: /me/ at {connections:2} connections {_line(found)}")
        status, _body = _get(server.base + "/me/", cookies["accountant"])  # the session held through the load
        if status != 200:
            raise RuntimeError(f"http_bench: after the load /me/ answered {status}")
    finally:
        server.stop()
    # The knee: the most power, req/s ÷ p50 (Kleinrock; R. Jain, "The Art of Computer Systems Performance
    # Analysis", §3.3: the knee capacity): past it, more connections buy little throughput and much latency.
    results["knee"] = max(knee, key=lambda found: found["rps"] / found["p50"] if found["p50"] else 0.0)
    results["sweep"] = knee
    return results


def rows(db: str | None = None, seconds: int = 10) -> list[dict]:
    """The table's rows (case, figure, baseline, ratio, target, met, unit, note) for ``python -m bench``."""
    if shutil.which("wrk") is None:
        return [{"case": "HTTP pages under load", "figure": None, "baseline": None, "ratio": None, "target": "",
                 "met": None, "note": "not run: wrk is not installed"}]
    return table(measure(db or DEFAULT_DB, seconds, say=lambda text: print(text, file=sys.stderr)))


def table(results: dict) -> list[dict]:
    bare, rows20 = results["bare"], results["rows20"]
    out = []

    def row(case, figure, baseline, unit, target="", met=None, note=""):
        if figure is None:
            figure, met, note = None, (False if target else None), "no request finished within the run"
        out.append({"case": case, "figure": None if figure is None else round(figure, 2),
                    "baseline": None if baseline is None else round(baseline, 2),
                    "ratio": round(figure / baseline, 3) if figure is not None and baseline else None,
                    "target": target, "met": met, "unit": unit, "note": note})

    row("bare Django view (baseline), req/s", bare["rps"], bare["rps"], "req/s", note=f"p50 {bare['p50']:.1f} ms, "
        f"p99 {bare['p99']:.1f} ms")
    row("bare view with a session, req/s", results["bare, logged in"]["rps"], bare["rps"], "req/s")
    row("20-row template (baseline), req/s", rows20["rps"], bare["rps"], "req/s")
    if "rows20, logged in" in results:  # the layout as a logged-in accountant sees it: session, user, badge
        row("20-row template with the accountant's session, req/s (vs the template)",
            results["rows20, logged in"]["rps"], rows20["rps"], "req/s")
    names = {"home": "accountant home /me/", "cpe api": "/api/v1/me/cpe/<year>/", "queue": "reviewer queue (城区)",
             "dashboard": "dashboard (province)"}
    for key, label in names.items():
        found = results[key]
        if key == "home":
            need = HOME_TARGET * rows20["rps"]
            row(f"{label}, req/s", found["rps"], bare["rps"], "req/s", f"≥ ½ of the 20-row template ({need:.0f})",
                found["rps"] >= need)
        else:
            row(f"{label}, req/s", found["rps"], bare["rps"], "req/s")
        row(f"{label}, p50 at {CONNECTIONS} connections", found["p50"], bare["p50"], "ms")
        row(f"{label}, p99 at {CONNECTIONS} connections", found["p99"], bare["p99"], "ms")
    knee = results["knee"]
    row(f"accountant home /me/, p99 at the knee ({knee['connections']} connections, {knee['rps']:.0f} req/s)",
        knee["p99"], bare["p99"], "ms", f"< {P99_TARGET_MS:g} ms", (knee["p99"] or math.inf) < P99_TARGET_MS)
    return out


def _print(found: list[dict]) -> None:
    print(f"{'case':<72} {'figure':>10} {'baseline':>10} {'ratio':>7}  target")
    for row in found:
        met = "" if row["met"] is None else ("met" if row["met"] else "NOT MET")
        figure, baseline, ratio = (("—" if row[key] is None else f"{row[key]:,.{3 if key == 'ratio' else 1}f}")
                                   for key in ("figure", "baseline", "ratio"))
        print(f"{row['case']:<72} {figure:>10} {baseline:>10} {ratio:>7}  {row['target']} {met} {row['note']}".rstrip())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default=DEFAULT_DB)
    parser.add_argument("--seconds", type=int, default=10, help="each wrk run (the knee's shorter runs: half)")
    parser.add_argument("--fresh", action="store_true", help="drop the scratch database and load the demo again")
    parser.add_argument("--json", action="store_true", help="print the raw figures as JSON too")
    parser.add_argument("--sessions", action="store_true", help=argparse.SUPPRESS)  # the child process
    args = parser.parse_args(argv)
    if args.sessions:
        print(json.dumps(make_sessions()))
        return 0
    results = measure(args.db, args.seconds, fresh=args.fresh)
    found = table(results)
    print()
    _print(found)
    if args.json:
        print(json.dumps(results, indent=1))
    return 0 if all(row["met"] is not False for row in found) else 1


if __name__ == "__main__":
    sys.exit(main())
