#!/usr/bin/env bash
# Quick start: run the test suite against the real PostgreSQL and Redis, as production uses them.
#
#   bash scripts/test.sh                 # everything pyproject.toml's [tool.pytest] collects
#   bash scripts/test.sh -k transfer -x  # any pytest arguments
#
# Reads the same defaults as kjzx.settings_test: DATABASE_URL=postgres://postgres@127.0.0.1:5432/kjzx
# and REDIS_URL=redis://127.0.0.1:6379/15; export either to point elsewhere. When a local server
# does not answer and we are root, it is started; if it still does not answer we stop here. The
# tests never fall back to SQLite.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/setup.sh

export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/kjzx}"
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379/15}"
# One test database per run (kjzx/settings_test.py reads it): two runs on one machine, a developer's
# and CI's or two in parallel, must not drop each other's. pytest-django drops it at the end.
export KJZX_TEST_DB="${KJZX_TEST_DB:-test_kjzx_$$}"
py=.venv/bin/python

fail() {
  {
    echo
    echo "######################################################################"
    echo "test: CANNOT RUN THE TESTS: $*"
    echo "######################################################################"
    echo
  } >&2
  exit 1
}

# Each check prints nothing and exits 0 when the server answers, else prints why on stderr.
postgres_ok() {
  "$py" - <<'EOF'
import os, sys
import dj_database_url, psycopg
url = os.environ["DATABASE_URL"]
db = dj_database_url.parse(url)
if "postgresql" not in db["ENGINE"]:
    sys.exit(f"DATABASE_URL={url} is not PostgreSQL; the tests run on PostgreSQL only")
try:
    # The maintenance database: the one pytest-django connects to when it creates test_<name>.
    psycopg.connect(
        dbname="postgres", user=db["USER"] or None, password=db["PASSWORD"] or None,
        host=db["HOST"] or None, port=db["PORT"] or None, connect_timeout=3,
    ).close()
except psycopg.Error as exc:
    sys.exit(f"PostgreSQL at {db['HOST'] or 'localhost'}:{db['PORT'] or 5432}: {exc}".strip())
EOF
}

redis_ok() {
  "$py" - <<'EOF'
import os, sys, urllib.parse
import redis
url = os.environ["REDIS_URL"]
try:
    redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3).ping()
except redis.RedisError as exc:
    where = urllib.parse.urlsplit(url)
    sys.exit(f"Redis at {where.hostname}:{where.port or 6379}{where.path}: {exc}")
EOF
}

is_local_default() {  # is_local_default URL PORT: does the URL name this machine's server on PORT?
  local hostport=${1#*://}
  hostport=${hostport%%/*}
  hostport=${hostport##*@}
  case "$hostport" in
    "" | 127.0.0.1 | localhost | "127.0.0.1:$2" | "localhost:$2") return 0 ;;
    *) return 1 ;;
  esac
}

start_postgres() {
  command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ] || return 0
  local dir
  for dir in /etc/postgresql/*/main; do
    [ -d "$dir" ] || continue
    dir=${dir%/main}
    echo "test: starting PostgreSQL ${dir##*/}"
    pg_ctlcluster --skip-systemctl-redirect "${dir##*/}" main start || true
  done
}

start_redis() {
  command -v redis-server >/dev/null 2>&1 || return 0
  echo "test: starting Redis"
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log || true
}

# check NAME URL PORT CHECK START: on failure, start this machine's server (as root) and wait up to 20 s.
check() {
  local name=$1 url=$2 port=$3 ok=$4 starter=$5 why
  why=$("$ok" 2>&1) && return 0
  if [ "$(id -u)" = "0" ] && is_local_default "$url" "$port"; then
    echo "test: $name is not answering ($why)"
    "$starter"
    for _ in $(seq 20); do
      why=$("$ok" 2>&1) && return 0
      sleep 1
    done
  fi
  fail "$name is unreachable.
test:   $why
test:   Start it, or export ${name^^}_URL to a reachable server; the tests never fall back to SQLite."
}

case "$DATABASE_URL" in
  postgres* | pgsql* | postgis*) ;;
  *) fail "DATABASE_URL=${DATABASE_URL%%:*}:… is not PostgreSQL; the tests run on PostgreSQL only, never SQLite." ;;
esac
check database "$DATABASE_URL" 5432 postgres_ok start_postgres
check redis "$REDIS_URL" 6379 redis_ok start_redis

exec .venv/bin/pytest "$@"
