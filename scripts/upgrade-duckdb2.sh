#!/usr/bin/env bash
# One-off: convert a warehouse file written by DuckDB 2.x (every installation before the pin moved to
# DuckDB 1.4 LTS) into one this version opens. The original is kept as FILE.duckdb2-backup.
#
#   scripts/upgrade-duckdb2.sh data/warehouse.duckdb
#
# 1. checks FILE (exit 2 and a message, nothing changed, when it is missing, in use, already readable
#    or the backup name is taken);
# 2. installs duckdb==2.0.1 into a throw-away venv (needs the package registry; removed on exit) and
#    exports FILE, opened read-only, to parquet;
# 3. with the project's venv imports that into FILE.upgrading, checks every table against the export,
#    opens it as the app does, and swaps it into place (etl/upgrade_duckdb2.py does 1 and 3).
# Exit: 0 converted, 2 refused (nothing changed), 3 duckdb 2.0.1 could not be installed, 1 otherwise.
set -euo pipefail

if [ $# -ne 1 ] || [ -z "$1" ]; then
  echo "用法 / usage: scripts/upgrade-duckdb2.sh <数据库文件 / warehouse file>" >&2
  exit 2
fi
file=$1
root=$(cd "$(dirname "$0")/.." && pwd)
py="$root/.venv/bin/python"
if [ ! -x "$py" ]; then
  echo "找不到 $root/.venv：请先运行 scripts/setup.sh / no .venv: run scripts/setup.sh first" >&2
  exit 2
fi
step() { PYTHONPATH="$root${PYTHONPATH:+:$PYTHONPATH}" "$py" -m etl.upgrade_duckdb2 "$@"; }

step check "$file"
echo "将转换数据库文件：$file（原文件保留为 $file.duckdb2-backup）"

umask 077 # the export holds the accounts' password hashes: owner-only, and deleted on exit
work=$(mktemp -d "${TMPDIR:-/tmp}/upgrade-duckdb2.XXXXXX")
trap 'rm -rf -- "$work"' EXIT

echo "[1/3] 在临时环境中安装 DuckDB 2.0.1（仅用于读取旧文件，结束后删除）…"
"$py" -m venv "$work/venv"
if ! "$work/venv/bin/python" -m pip install -q --disable-pip-version-check --retries 2 --timeout 30 duckdb==2.0.1 >"$work/pip.log" 2>&1; then
  cat "$work/pip.log" >&2
  echo "无法安装 duckdb==2.0.1（需要能访问 Python 软件包源）：原文件未改动。" >&2
  echo "Could not install duckdb==2.0.1 (the package registry must be reachable); nothing changed." >&2
  exit 3
fi

echo "[2/3] 用 DuckDB 2.0.1 只读打开原文件并导出…"
# -I: only the standard library and that venv's duckdb, not the project's modules
"$work/venv/bin/python" -I "$root/etl/upgrade_duckdb2.py" export "$file" "$work"

echo "[3/3] 用本系统的 DuckDB 1.4 导入、逐表核对并替换…"
step install "$file" "$work"
echo "转换完成。原文件仅作备份：确认应用运行正常后可删除 $file.duckdb2-backup（及同名 .wal，如有）。"
