#!/usr/bin/env bash
# Province-scale benchmarks (bench/README.md): a thin wrapper of `python -m bench`, in scratch databases
# ($KJZX_BENCH_DB, default kjzx_bench), never the portal's own:
#   bash bench/run.sh [--people N] [--reuse] [--only GROUP …] [--skip GROUP …]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python -m bench "$@"
