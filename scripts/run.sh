#!/usr/bin/env bash
# Quick start: run the portal on this machine, with demo data, a Celery worker and Celery beat.
#
#   bash scripts/run.sh                  # then open http://127.0.0.1:8000/
#   PORT=8080 bash scripts/run.sh
#
# Needs only python3 (3.11+): setup.sh makes .venv/ and installs everything (as root it also installs
# a few Debian packages). Development mode (DEBUG=1). With no DATABASE_URL / REDIS_URL in the
# environment the data lives in SQLite under var/ and Celery uses kombu's filesystem broker under
# var/celery/; export DATABASE_URL=postgres://… and REDIS_URL=redis://… first to run on PostgreSQL and
# Redis instead. Every manage.py command goes through scripts/manage.sh, the one way operators run
# them too. The demo's full printout goes to var/log/load_demo.log; the demo logins are printed last,
# just before serving. Worker and beat log to var/log/; the server logs here, development SMS codes
# included. Ctrl-C stops the server and both of them.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/setup.sh
export KJZX_SETUP_DONE=1  # scripts/manage.sh need not check again

export DEBUG=1  # as scripts/manage.sh: the worker and beat run in the same development mode
export PYTHONUNBUFFERED=1  # log lines (and development SMS codes) appear at once, even when piped
port="${PORT:-8000}"
var_dir="${KJZX_VAR_DIR:-var}"
manage=(bash scripts/manage.sh)
mkdir -p "$var_dir/log" "$var_dir/celery/queue" "$var_dir/celery/processed"

mask() { sed -E 's#(://[^:/@]*):[^@/]*@#\1:***@#'; }  # never print a password
echo "run: database ${DATABASE_URL:-SQLite in $var_dir/}, broker ${CELERY_BROKER_URL:-${REDIS_URL:-filesystem under $var_dir/celery/}}" | mask
"${manage[@]}" migrate --noinput
"${manage[@]}" collectstatic --noinput --verbosity 0
echo "run: loading the demo data (safe to run again; what each demo login can try: $var_dir/log/load_demo.log)"
"${manage[@]}" load_demo >"$var_dir/log/load_demo.log"

# Each background process leads its own process group: SIGTERM goes to its leader (Celery's warm
# shutdown stops its own pool; runserver's autoreloader stops its child), and SIGKILL to the
# whole group for anything still there after 10 s.
pids=()
start() {  # start NAME LOGFILE COMMAND...
  local name=$1 log=$2
  shift 2
  if command -v setsid >/dev/null 2>&1; then
    setsid "$@" >"$log" 2>&1 </dev/null &
  else
    "$@" >"$log" 2>&1 </dev/null &
  fi
  pids+=($!)
  echo "run: $name started (pid $!, log $log)"
}

stopping=0
stop() {
  [ "$stopping" = 1 ] && return
  stopping=1
  trap - INT TERM
  local pid
  for pid in "${pids[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for _ in $(seq 50); do
    local alive=0
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && break
    sleep 0.2
  done
  for pid in "${pids[@]}"; do
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
  done
  echo "run: server, worker and beat stopped"
}
trap stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

start "celery worker" "$var_dir/log/celery-worker.log" .venv/bin/celery -A kjzx worker -l info
start "celery beat" "$var_dir/log/celery-beat.log" .venv/bin/celery -A kjzx beat -l info

# Last, where a newcomer looks: the logins, then the address.
echo
"${manage[@]}" load_demo --logins
echo
echo "run: serving http://127.0.0.1:$port/ (PORT=… picks another port; Ctrl-C stops)"
echo "run: operations: bash scripts/manage.sh <command>; SMS codes (password reset) are printed below"
# runserver runs in the background and we wait for it: a trapped signal interrupts `wait` at
# once, where it would wait for a foreground command to end first.
if command -v setsid >/dev/null 2>&1; then
  setsid "${manage[@]}" runserver "127.0.0.1:$port" </dev/null &
else
  "${manage[@]}" runserver "127.0.0.1:$port" </dev/null &
fi
pids+=($!)
server=$!
wait "$server"
