#!/usr/bin/env bash
# Prove the surface and write the figures to docs/reliability.md, in one command:
#
#   bash scripts/reliability.sh          # the small budgets (what CI runs inside the normal suite), ~2 min
#   bash scripts/reliability.sh --big    # every matrix cell, 25 generated cases per API operation and mode,
#                                        # 100 state-machine runs per kind, 200 concurrent rounds (~30 min)
#
# One pytest session (scripts/test.sh: the real PostgreSQL and Redis): the access matrix, schemathesis,
# the state machines and the concurrent rounds (tests/surface/, tests/reliability/), the hostile-input
# corpus and the killed-worker tests. The tests write their counts to var/reliability/*.json, pytest its
# report to var/reliability/junit.xml; tests/reliability/report.py renders them. KJZX_RELIABILITY_SEED
# changes the seed (default 20261205). The exit status is the tests'; the figures are written either way.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

args=()
if [ "${1:-}" = "--big" ]; then
  export KJZX_RELIABILITY=big
  args+=(--timeout=0)
fi
rm -rf var/reliability
mkdir -p var/reliability

bash scripts/test.sh tests/surface tests/reliability tests/hostile cpe/lists/tests/test_hostile_files.py \
  kjzx/tests/test_notifications_worker.py -q -p no:randomly --junitxml=var/reliability/junit.xml "${args[@]}"
status=$?
.venv/bin/python -m tests.reliability.report || status=1
exit $status
