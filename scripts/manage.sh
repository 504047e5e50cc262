#!/usr/bin/env bash
# Operations on the portal that scripts/run.sh serves: any manage.py command, with .venv/ and the same
# environment as run.sh (development mode, DEBUG=1, so no SECRET_KEY is needed).
#
#   bash scripts/manage.sh create_staff --role county_reviewer --region 140521 --username qs01 --password '…'
#   bash scripts/manage.sh axes_reset_username chengqu1      # lift a login lockout
#   bash scripts/manage.sh load_demo --logins                # the demo logins again
#   bash scripts/manage.sh help                              # every command
#
# The data is the one run.sh uses: SQLite under var/, or DATABASE_URL / REDIS_URL when exported (export
# them the same way for both). Production runs manage.py inside its container instead, with the real
# SECRET_KEY and settings: `docker compose run --rm web python manage.py …` (docs/deployment.md).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# run.sh has just run setup.sh itself; anyone else gets .venv/ made or brought up to date first.
[ "${KJZX_SETUP_DONE:-0}" = "1" ] || bash scripts/setup.sh

export DEBUG=1
exec .venv/bin/python manage.py "$@"
