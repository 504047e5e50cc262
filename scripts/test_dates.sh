#!/usr/bin/env bash
# The date-sensitive tests (pytest -m date_sensitive: the demo, and tests written relative to today)
# at fixed dates, so that a test or a demo story that only holds on some days fails on any day:
#
#   bash scripts/test_dates.sh                 # the dates below
#   bash scripts/test_dates.sh 2027-01-01      # these dates instead (YYYY-MM-DD or YYYY-MM-DDTHH:MM)
#
# One pytest session (scripts/test.sh) with KJZX_DATES set: every date-sensitive test runs once per
# date, the clock moved there (tests/conftest_dates.py); the database is migrated once and the demo
# loaded once per date. .ci/run runs this before the full suite. To run one date again, the whole
# session as if it were that day: KJZX_TODAY=2026-12-05 bash scripts/test.sh -m date_sensitive
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

dates=(
  2026-12-05  # a Saturday: nothing is due today; "due soon" means Monday
  2026-09-30  # the eve of Golden Week (国庆, 1–7 October): the next working day is a week away
  2026-12-31  # 31 December: tomorrow is in a year the working-day calendar may not know yet
  2026-09-20  # a 调休 working Sunday (chinese_calendar.is_workday is True)
  2027-01-04  # the first working day of a year the test database was not created in
  2027-07-01  # mid-year after the last year's registration closed (31 March): 2026 is frozen
)
[ $# -eq 0 ] || dates=("$@")

KJZX_DATES="${dates[*]}" exec bash scripts/test.sh -m date_sensitive -q
