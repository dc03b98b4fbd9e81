"""Benchmark: a full rerun of each page with a warm cache (AppTest), and the first page from a cold start.

    .venv/bin/python bench/bench_pages.py [--scale city|province|both] [--db PATH|URL] [--province-dir DIR]
        [--pg-admin postgresql://…/postgres]

With --pg-admin the city warehouse is also copied into a scratch PostgreSQL database (bench/_pg.py)
and measured there: the same figures with the prefix pg_ (aim: < 300 ms a page warm).

city: without --db a city-scale warehouse (real targets.yaml, demo data 2024-07..2026-10) is built
in a temp dir first. province: a synthetic targets.yaml (500 targets on 250 KPIs plus 20 activity
KPIs, 20 bureaus, 110 reporting units and the city; bench/_province.py) is written to a temp dir (or
--province-dir, kept and reused) and MONITOR_TARGETS points at it; the warehouse holds 120 months of
figures for it (about 2.5 million, as bench_scorecard.py builds them), its reference tables loaded
with db.sync_reference (the app does not reload them) and leader/admin/reporter accounts.

Prints key=value lines, with the prefix "province_" for the province scale: page_<name>_warm_ms
(median of 5 reruns of app.py and the page, as a widget change reruns them; detail_units is the
detail page of a target judged for every reporting unit, UNIT_TARGET) and first_page_cold_s
(a fresh interpreter: imports, connection, first scorecard and the overview page). Aims: < 300 ms a
page warm, < 3 s for the first page.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# page -> (script, role of the user who opens it)
PAGES = {
    "overview": ("pages/overview.py", "leader"),
    "detail": ("pages/target_detail.py", "leader"),
    "detail_units": ("pages/target_detail.py", "leader"),  # ?target=UNIT_TARGET: bars of every unit
    "districts": ("pages/districts.py", "leader"),
    "bureaus": ("pages/bureaus.py", "leader"),
    "quality": ("pages/data_quality.py", "leader"),
    "upload": ("pages/upload.py", "reporter"),
    "admin": ("pages/admin.py", "admin"),
}
# scale -> role -> account (city: the demo accounts; province: made by build_province)
USERS = {
    "city": {"leader": "leader", "reporter": "housing", "admin": "admin"},
    "province": {"leader": "leader", "reporter": "reporter", "admin": "admin"},
}
PREFIX = {"city": "", "province": "province_"}
# detail_units opens a target judged for every reporting unit (detail opens the first target shown,
# at province scale a city-wide one): its page adds a bar chart of each unit's months and their table
UNIT_TARGET = {"city": "rental_housing_15k", "province": "t006"}
PROVINCE = {"targets": 500, "units": 110, "kpis": 250, "bureaus": 20, "activity": 20, "months": 120}
PROVINCE_REPORTER_BUREAU = "b01"


def build(path: Path) -> None:
    from etl.__main__ import main

    main(["--db", str(path), "demo", "--until", "2026-10"])


def build_province(directory: Path) -> tuple[Path, Path]:
    """(warehouse, targets.yaml) of the synthetic province in ``directory``; built unless both exist."""
    from bench import _province
    from monitor import auth, db
    from monitor.targets import load_targets

    path, yaml_path = directory / "province.duckdb", directory / "targets.yaml"
    if path.exists() and yaml_path.exists():
        return path, yaml_path
    scale = {k: v for k, v in PROVINCE.items() if k != "months"}
    _province.write_yaml(_province.programme(**scale, city_kpis=True), yaml_path)
    cfg = load_targets(yaml_path)  # validated exactly as the app will read it
    _province.build(path, cfg, PROVINCE["months"])
    con = db.connect(path)
    try:
        for user, role, bureau in (
            ("leader", "leader", None),
            ("admin", "admin", None),
            ("reporter", "reporter", PROVINCE_REPORTER_BUREAU),
        ):
            auth.add_user(con, user, f"{user}-bench-0477", role, bureau_id=bureau, by="bench")  # type: ignore[arg-type]
        assert not db.sync_reference(con, cfg), "reference tables out of step with targets.yaml"
    finally:
        con.close()
    return path, yaml_path


def _keep_navigation() -> None:
    """Run every page through app.py and its st.navigation, as the live server does.

    AppTest resets Streamlit's "pages/ directory" flag before each run; as this app keeps its page
    scripts in pages/, switch_page() would then run the page file alone (Streamlit's old directory
    mode), without app.py. Same adaptation as tests/test_app_pages.py's `_harness`."""
    import streamlit.testing.v1.app_test as app_test_module
    from streamlit.runtime.pages_manager import PagesManager

    class _NavigationPagesManager(PagesManager):
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, **kwargs)  # type: ignore[arg-type]
            PagesManager.uses_pages_directory = False

    app_test_module.PagesManager = _NavigationPagesManager  # type: ignore[misc]


def _app(user: str):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    now = dt.datetime.now()
    at.session_state["user_name"] = user
    at.session_state["signed_in_at"] = now
    at.session_state["last_seen"] = now
    return at


def first_page(scale: str) -> None:
    """Run in a fresh interpreter: everything from imports to the rendered overview."""
    start = time.perf_counter()
    at = _app(USERS[scale]["leader"])
    at.run()
    assert not at.exception, at.exception
    print(f"{PREFIX[scale]}first_page_cold_s={time.perf_counter() - start:.2f}")


def warm_pages(scale: str, only: list[str] | None = None) -> None:
    _keep_navigation()
    for name, (page, role) in PAGES.items():
        if only and name not in only:
            continue
        at = _app(USERS[scale][role])
        at.run()
        if name == "detail_units":
            at.query_params["target"] = UNIT_TARGET[scale]
        at.switch_page(page)
        at.run()  # warms the caches
        assert not at.exception, (name, at.exception)
        assert at.sidebar.button, (name, "the page ran without app.py")
        if name == "detail_units":
            assert len(at.get("plotly_chart")) == 2, (name, "no bars by unit")
        times = []
        for _ in range(5):
            t0 = time.perf_counter()
            at.run()
            times.append((time.perf_counter() - t0) * 1000)
        assert not at.exception, (name, at.exception)
        print(f"{PREFIX[scale]}page_{name}_warm_ms={statistics.median(times):.0f}")


def _measure(scale: str, env: dict[str, str], prefix: str = "") -> None:
    """Run the cold and warm measurements in fresh interpreters; ``prefix`` (pg_) marks each figure."""
    for mode in ("first", "warm"):
        out = subprocess.run(
            [sys.executable, __file__, "--mode", mode, "--scale", scale],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if out.returncode != 0:
            sys.stderr.write(out.stderr)
            raise SystemExit(f"{scale} {mode}: failed ({out.returncode})")
        sys.stdout.write("".join(prefix + line + "\n" for line in out.stdout.splitlines() if "=" in line))
        sys.stdout.flush()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", choices=["city", "province", "both"], default="both")
    parser.add_argument(
        "--db", default=None, help="reuse this city warehouse: a DuckDB file or a PostgreSQL URL (postgresql://…)"
    )
    parser.add_argument("--province-dir", type=Path, default=None, help="build (or reuse) the province here")
    parser.add_argument(
        "--pg-admin",
        default=None,
        help="city: also measure on PostgreSQL, in a perf_ database created through this URL, filled and dropped",
    )
    parser.add_argument("--mode", choices=["all", "first", "warm"], default="all")
    parser.add_argument("--pages", default="", help=argparse.SUPPRESS)  # warm mode: a comma list (profiling)
    args = parser.parse_args()
    if args.mode == "first":
        first_page(args.scale)
        return
    if args.mode == "warm":
        warm_pages(args.scale, [p for p in args.pages.split(",") if p])
        return
    scales = ["city", "province"] if args.scale == "both" else [args.scale]
    with tempfile.TemporaryDirectory() as tmp:
        if "city" in scales:
            path = args.db or Path(tmp) / "w.duckdb"  # a URL is measured as it is (built elsewhere)
            if args.db is None:
                t0 = time.perf_counter()
                build(path)
                print(f"demo_build_s={time.perf_counter() - t0:.1f}")
            env = {k: v for k, v in os.environ.items() if k != "MONITOR_TARGETS"}
            _measure("city", {**env, "MONITOR_DB": str(path)})
            if args.pg_admin and isinstance(path, Path):
                from bench import _pg

                with _pg.scratch_database(args.pg_admin, path, "pages") as url:
                    _measure("city", {**env, "MONITOR_DB": url}, prefix="pg_")
        if "province" in scales:
            directory = args.province_dir or Path(tmp) / "province"
            directory.mkdir(parents=True, exist_ok=True)
            t0 = time.perf_counter()
            path, yaml_path = build_province(directory)
            print(f"province_build_s={time.perf_counter() - t0:.1f}")
            _measure("province", {**os.environ, "MONITOR_DB": str(path), "MONITOR_TARGETS": str(yaml_path)})


if __name__ == "__main__":
    main()
