"""Benchmark: a full rerun of each page with a warm cache (AppTest), and the first page from a cold start.

    .venv/bin/python bench/bench_pages.py [--db PATH]

Without --db a city-scale warehouse (real targets.yaml, demo data 2024-07..2026-10) is built in a temp
dir first. Prints key=value lines: page_<name>_warm_ms (median of 5 reruns) and first_page_cold_s
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

PAGES = {
    "overview": ("pages/overview.py", "leader"),
    "detail": ("pages/target_detail.py", "leader"),
    "districts": ("pages/districts.py", "leader"),
    "bureaus": ("pages/bureaus.py", "leader"),
    "quality": ("pages/data_quality.py", "leader"),
    "upload": ("pages/upload.py", "housing"),
    "admin": ("pages/admin.py", "admin"),
}


def build(path: Path) -> None:
    from etl.__main__ import main

    main(["--db", str(path), "demo", "--until", "2026-10"])


def _app(user: str):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    now = dt.datetime.now()
    at.session_state["user_name"] = user
    at.session_state["signed_in_at"] = now
    at.session_state["last_seen"] = now
    return at


def first_page() -> None:
    """Run in a fresh interpreter: everything from imports to the rendered overview."""
    start = time.perf_counter()
    at = _app("leader")
    at.run()
    assert not at.exception, at.exception
    print(f"first_page_cold_s={time.perf_counter() - start:.2f}")


def warm_pages() -> None:
    for name, (page, user) in PAGES.items():
        at = _app(user)
        at.run()
        at.switch_page(page)
        at.run()  # warms the caches
        assert not at.exception, (name, at.exception)
        times = []
        for _ in range(5):
            t0 = time.perf_counter()
            at.run()
            times.append((time.perf_counter() - t0) * 1000)
        print(f"page_{name}_warm_ms={statistics.median(times):.0f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", type=Path, default=None)
    parser.add_argument("--mode", choices=["all", "first", "warm"], default="all")
    args = parser.parse_args()
    if args.mode == "first":
        first_page()
        return
    if args.mode == "warm":
        warm_pages()
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = args.db or Path(tmp) / "w.duckdb"
        if args.db is None:
            t0 = time.perf_counter()
            build(path)
            print(f"demo_build_s={time.perf_counter() - t0:.1f}")
        env = {**os.environ, "MONITOR_DB": str(path)}
        for mode in ("first", "warm"):
            out = subprocess.run(
                [sys.executable, __file__, "--mode", mode], env=env, capture_output=True, text=True, check=True
            )
            sys.stdout.write("".join(line + "\n" for line in out.stdout.splitlines() if "=" in line))


if __name__ == "__main__":
    main()
