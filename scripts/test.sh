#!/usr/bin/env bash
# Set up and run every test: unit, ETL, AppTest pages and the real-browser test.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/python -m pytest -q "$@"
