"""Run every benchmark and print one table: figure, value, aim, met or not.

    .venv/bin/python bench/run.py [--only load,scorecard,pages,briefing] [--pg-admin postgresql://…/postgres]

Each benchmark is its own script printing key=value lines; this runner only collects them, so a
benchmark can still be run alone while profiling.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

# figure -> (aim, direction, unit): "<" means the value must stay below the aim, "<=" at most the aim;
# "ref" marks a baseline that a ratio is measured against (printed, no aim of its own).
AIMS: dict[str, tuple[float, str, str]] = {
    "load_csv_1m_rows_s": (5.0, "<", "s"),
    # issue 17: the csv load within 3x of DuckDB's read_csv of the same file into a table (same run)
    "load_csv_floor_s": (0.29, "ref", "s"),
    "load_csv_vs_read_csv_x": (3.0, "<=", "x"),
    # issue 17: the province scorecard within 3x of one DuckDB pass grouped by KPI and district (same run)
    "scorecard_floor_s": (0.105, "ref", "s"),
    "scorecard_vs_floor_x": (3.0, "<=", "x"),
    "load_xlsx_100k_rows_s": (5.0, "<", "s"),
    "scorecard_all_units_s": (1.0, "<", "s"),
    "scorecard_city_s": (1.0, "<", "s"),
    "first_page_cold_s": (3.0, "<", "s"),
    "page_overview_warm_ms": (300, "<", "ms"),
    "page_detail_warm_ms": (300, "<", "ms"),
    "page_districts_warm_ms": (300, "<", "ms"),
    "page_bureaus_warm_ms": (300, "<", "ms"),
    "page_quality_warm_ms": (300, "<", "ms"),
    "page_upload_warm_ms": (300, "<", "ms"),
    "page_admin_warm_ms": (300, "<", "ms"),
    "page_detail_units_warm_ms": (300, "<", "ms"),
    # bench_pages.py --scale province: 500 targets, 110 reporting units, 20 bureaus (bench/_province.py)
    "province_first_page_cold_s": (3.0, "<", "s"),
    "province_page_overview_warm_ms": (300, "<", "ms"),
    "province_page_detail_warm_ms": (300, "<", "ms"),
    "province_page_detail_units_warm_ms": (300, "<", "ms"),
    "province_page_districts_warm_ms": (300, "<", "ms"),
    "province_page_bureaus_warm_ms": (300, "<", "ms"),
    "province_page_quality_warm_ms": (300, "<", "ms"),
    "province_page_upload_warm_ms": (300, "<", "ms"),
    "province_page_admin_warm_ms": (300, "<", "ms"),
    # issue 17, on PostgreSQL (--pg-admin): city pages warm and the province scorecard
    "pg_scorecard_all_units_s": (3.0, "<", "s"),
    "pg_page_overview_warm_ms": (300, "<", "ms"),
    "pg_page_detail_warm_ms": (300, "<", "ms"),
    "pg_page_districts_warm_ms": (300, "<", "ms"),
    "pg_page_bureaus_warm_ms": (300, "<", "ms"),
    "pg_page_quality_warm_ms": (300, "<", "ms"),
    "pg_page_upload_warm_ms": (300, "<", "ms"),
    "pg_page_admin_warm_ms": (300, "<", "ms"),
    "pg_page_detail_units_warm_ms": (300, "<", "ms"),
    "briefing_20_targets_s": (10.0, "<", "s"),
    # issue 15: the full deck of every target (64 then, 66 now) and its chart zip
    "full_deck_all_mb": (5.0, "<", "MB"),
    "full_charts_zip_all_mb": (8.0, "<", "MB"),
}
SCRIPTS = {
    "load": "bench_load.py",
    "scorecard": "bench_scorecard.py",
    "pages": "bench_pages.py",
    "briefing": "bench_briefing.py",
}


# scripts that also measure on PostgreSQL when given --pg-admin (their figures then include pg_…)
PG_SCRIPTS = {"scorecard", "pages"}


def run(name: str, pg_admin: str | None = None) -> dict[str, str]:
    script = HERE / SCRIPTS[name]
    if not script.exists():
        return {}
    start = time.perf_counter()
    extra = ["--pg-admin", pg_admin] if pg_admin and name in PG_SCRIPTS else []
    out = subprocess.run([sys.executable, str(script), *extra], capture_output=True, text=True, check=False)
    figures = {}
    for line in out.stdout.splitlines():
        key, sep, value = line.partition("=")
        if sep and " " not in key.strip():
            figures[key.strip()] = value.strip()
    figures[f"{name}_bench_wall_s"] = f"{time.perf_counter() - start:.1f}"
    if out.returncode != 0:
        figures[f"{name}_error"] = (out.stderr.strip().splitlines() or ["failed"])[-1][:80]
    return figures


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", default=",".join(SCRIPTS))
    parser.add_argument(
        "--pg-admin",
        default=None,
        help="also measure on PostgreSQL: scratch perf_ databases are created through this URL and dropped",
    )
    args = parser.parse_args()
    rows = []
    for name in args.only.split(","):
        for key, value in run(name, args.pg_admin).items():
            aim = AIMS.get(key)
            if aim is None:
                rows.append((key, value, "", ""))
                continue
            limit, op, unit = aim
            if op == "ref":
                rows.append((key, value, f"was {limit:g} {unit}", "baseline"))
                continue
            try:
                number = float(value)
                met = {"<": number < limit, "<=": number <= limit, ">": number > limit}[op]
            except ValueError:
                met = False
            rows.append((key, value, f"{op} {limit:g} {unit}", "met" if met else "NOT MET"))
    width = max(len(r[0]) for r in rows) if rows else 10
    print(f"{'figure':<{width}}  {'value':>12}  {'aim':>12}  status")
    for key, value, aim, status in rows:
        print(f"{key:<{width}}  {value:>12}  {aim:>12}  {status}")
    return 0 if all(r[3] != "NOT MET" for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
