#!/usr/bin/env bash
# Quick start: run the portal on this machine, with demo data, a Celery worker and Celery beat.
#
#   bash scripts/run.sh                  # then open http://127.0.0.1:8000/
#   PORT=8080 bash scripts/run.sh
#
# Needs only python3 (3.11+): setup.sh makes .venv/ and installs everything. Development mode
# (DEBUG=1). With no DATABASE_URL / REDIS_URL in the environment the data lives in SQLite under
# var/ and Celery uses kombu's filesystem broker under var/celery/; export DATABASE_URL=postgres://…
# and REDIS_URL=redis://… first to run on PostgreSQL and Redis instead.
# Worker and beat log to var/log/; Ctrl-C stops the server and both of them.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/setup.sh

export DEBUG=1
port="${PORT:-8000}"
var_dir="${KJZX_VAR_DIR:-var}"
py=.venv/bin/python
mkdir -p "$var_dir/log" "$var_dir/celery/queue" "$var_dir/celery/processed"

mask() { sed -E 's#(://[^:/@]*):[^@/]*@#\1:***@#'; }  # never print a password
echo "run: database ${DATABASE_URL:-SQLite in $var_dir/}, broker ${CELERY_BROKER_URL:-${REDIS_URL:-filesystem under $var_dir/celery/}}" | mask
"$py" manage.py migrate --noinput
"$py" manage.py collectstatic --noinput --verbosity 0
"$py" manage.py load_demo  # safe to run again

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
echo "run: serving http://127.0.0.1:$port/ (Ctrl-C to stop)"
# runserver runs in the background and we wait for it: a trapped signal interrupts `wait` at
# once, where it would wait for a foreground command to end first.
if command -v setsid >/dev/null 2>&1; then
  setsid "$py" manage.py runserver "127.0.0.1:$port" </dev/null &
else
  "$py" manage.py runserver "127.0.0.1:$port" </dev/null &
fi
pids+=($!)
server=$!
wait "$server"
