#!/usr/bin/env bash
# Set up and run every test: unit, ETL, AppTest pages and the real-browser test (arguments go to this run).
# Then the warehouse, ETL, progress, auth and AppTest suites once more against PostgreSQL: a throw-away
# server (scripts/pg.sh, installed from the Debian package when missing) on 127.0.0.1:$MONITOR_TEST_PG_PORT
# (default 55499), stopped and deleted on exit. MONITOR_SKIP_PG=1 skips that second pass.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
.venv/bin/ruff check .
.venv/bin/ruff format --check .
env -u MONITOR_TEST_PG .venv/bin/python -m pytest -q "$@"  # the DuckDB file, whatever the shell has set

[ "${MONITOR_SKIP_PG:-0}" = 1 ] && exit 0

# The suites that open a warehouse; in PostgreSQL mode (tests/conftest.py) each test's DuckDB file is a
# fresh PostgreSQL database, and the tests about the DuckDB file itself (marker duckdb_file) are skipped.
# The last three need PostgreSQL (skipped in the first pass): the backend, `etl migrate` / rebuild into a
# database, and two app processes with a CLI load at once.
PG_SUITES=(
  tests/test_warehouse_ops.py tests/test_etl.py tests/test_progress.py tests/test_auth.py
  tests/test_accounts.py tests/test_audit.py tests/test_writer.py tests/test_review.py
  tests/test_app_pages.py tests/test_concurrency.py tests/test_actions.py tests/test_explanations.py
  tests/test_backend.py tests/test_migrate.py tests/test_postgres_processes.py
)
pgdir=$(mktemp -d "${TMPDIR:-/tmp}/monitor-test-pg.XXXXXX")
trap 'scripts/pg.sh stop "$pgdir"' EXIT
trap 'exit 130' INT TERM  # so that the EXIT trap stops the server on Ctrl-C and kill too
url=$(scripts/pg.sh start "$pgdir" "${MONITOR_TEST_PG_PORT:-55499}")
echo "[test] the warehouse suites again, against PostgreSQL ($url)"
MONITOR_TEST_PG="$url" .venv/bin/python -m pytest -q -m "not duckdb_file" "${PG_SUITES[@]}"
