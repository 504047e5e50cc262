#!/usr/bin/env bash
# Province-scale benchmarks (bench/README.md). A scratch database, never the portal's own:
#   bash bench/run.sh [--people N] [--repeat N] [--reuse]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export KJZX_BENCH_DB="${KJZX_BENCH_DB:-kjzx_bench}"
export DATABASE_URL="postgres://postgres@127.0.0.1:5432/$KJZX_BENCH_DB"
export DJANGO_SETTINGS_MODULE=kjzx.settings_test
if [[ " $* " != *" --reuse "* ]]; then
  psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $KJZX_BENCH_DB" -c "CREATE DATABASE $KJZX_BENCH_DB"
  .venv/bin/python manage.py migrate -v0
fi
exec .venv/bin/python bench/records_bench.py "$@"
