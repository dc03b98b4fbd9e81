#!/usr/bin/env bash
# Set up, load the synthetic demo dataset when the warehouse is empty, and start the app.
# MONITOR_DB (or the first argument) chooses the warehouse; default data/warehouse.duckdb.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
[ $# -ge 1 ] && export MONITOR_DB="$1"
# --if-empty: the demo goes only into an empty warehouse; one with real accounts or data is left as is
# (exit 0, the app starts). Exit 2 (and no app) if another program holds the warehouse: see README.
.venv/bin/python -m etl demo --if-empty
exec .venv/bin/streamlit run app.py --server.port "${PORT:-8501}" --server.headless true
