#!/usr/bin/env bash
# The README's first command, checked: scripts/run.sh on a fresh embedded default (SQLite, the
# filesystem broker, no DATABASE_URL / REDIS_URL) with the demo, then scripts/smoke_pages.py crawls it
# as seven personas (accountant, county, other county, city, province, institution, employer):
# any 5xx fails. The tests run on PostgreSQL only; this is what keeps the embedded default working.
#
#   bash scripts/smoke_embedded.sh            # a fresh var/ under a temporary folder, a free port
#
# Exit status: the crawl's (0: no server error). The server, worker and beat are stopped either way.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

var_dir=$(mktemp -d /tmp/kjzx-embedded.XXXXXX)
port=$(.venv/bin/python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
log="$var_dir/run.log"
run_pid=""

finish() {
  local rc=$?
  if [ -n "$run_pid" ]; then
    kill -TERM "$run_pid" 2>/dev/null || true  # run.sh stops its server, worker and beat
    for _ in $(seq 30); do kill -0 "$run_pid" 2>/dev/null || break; sleep 1; done
    kill -KILL -- "-$run_pid" 2>/dev/null || true
  fi
  if [ $rc -ne 0 ]; then
    echo "smoke_embedded: FAILED; the server's log ($log), last lines:" >&2
    tail -40 "$log" >&2 || true
  fi
  exit $rc
}
trap finish EXIT

echo "smoke_embedded: scripts/run.sh on SQLite in $var_dir, port $port"
env -u DATABASE_URL -u REDIS_URL -u CELERY_BROKER_URL KJZX_VAR_DIR="$var_dir" PORT="$port" \
  setsid bash scripts/run.sh >"$log" 2>&1 </dev/null &
run_pid=$!
for _ in $(seq 600); do
  if curl -fsS -o /dev/null "http://127.0.0.1:$port/healthz" 2>/dev/null; then
    break
  fi
  kill -0 "$run_pid" 2>/dev/null || { echo "smoke_embedded: scripts/run.sh exited before serving" >&2; exit 1; }
  sleep 1
done
curl -fsS -o /dev/null "http://127.0.0.1:$port/healthz" || { echo "smoke_embedded: no answer in 10 min" >&2; exit 1; }
echo "smoke_embedded: serving after ${SECONDS}s; crawling"
env -u DATABASE_URL -u REDIS_URL KJZX_VAR_DIR="$var_dir" .venv/bin/python scripts/smoke_pages.py \
  --base "http://127.0.0.1:$port"
