"""Benchmark of the briefing export: how long does leadership wait for a 20-target deck?

One run of monitor.briefing.build_briefing for the first --targets targets (policy order) of the demo
warehouse as the full deck (one slide per target, the most charts a run can have: the default pack
charts only the targets needing attention): the browser start, 21 charts (PNG + SVG), the PDF, the
deck, the workbook and the zip. Then one full deck of every target, for the file sizes (issue 15:
a 64-target deck under 5 MB, its chart zip under 8 MB).

    briefing_20_targets_s   wall time of build_briefing, best of --repeat runs (aim: under 10 s)
    charts_per_s            charts (PNG + SVG each) per second, from browser ready to the last chart
    <phase>_s               the phases of the best run (see BriefingResult.timings; they overlap:
                            the browser starts while the data is read and the charts are built; the
                            PDF prints while the deck and the workbook are written)
    full_deck_all_mb        the full deck of every target (pptx), MB (aim: under 5)
    full_charts_zip_all_mb  its chart zip (PNG + SVG of every chart), MB (aim: under 8)
    pack_deck_all_mb        the default exception-first pack of every target, MB
    load_avg_1m             the machine's load when the run ended (other work slows every figure)

Usage: PYTHONPATH=. .venv/bin/python bench/bench_briefing.py [--db PATH] [--targets 20] [--repeat 2]
Without a warehouse holding data, the demo dataset (up to 2026-10) is built in a temporary file first.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from monitor import briefing, db, progress, queries  # noqa: E402
from monitor.targets import load_targets  # noqa: E402

AS_OF = "2026-10"


def _warehouse(path: str | None, tmp: Path) -> Path:
    p = db.db_path(path)
    if p.exists():
        con = db.connect(p, read_only=True)
        try:
            if queries.months_with_data(con):
                return p
        finally:
            con.close()
    from etl.__main__ import main as etl_main

    built = tmp / "demo.duckdb"
    print(f"# building the demo warehouse in {built} (about 35 s)", file=sys.stderr)
    if etl_main(["--db", str(built), "demo", "--until", AS_OF]) != 0:
        raise SystemExit("demo build failed")
    return built


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default=None)
    parser.add_argument("--targets", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args(argv)
    cfg = load_targets()
    with tempfile.TemporaryDirectory(prefix="bench-briefing-") as tmp:
        path = _warehouse(args.db, Path(tmp))
        con = db.connect(path, read_only=True)
        try:
            every = list(progress.scorecard(con, AS_OF, cfg=cfg)["target_id"])
            ids = every[: args.targets]
            best: briefing.BriefingResult | None = None
            best_s = float("inf")
            for i in range(args.repeat):
                out = Path(tmp) / f"run{i}"
                started = time.perf_counter()
                result = briefing.build_briefing(con, cfg, AS_OF, out, targets=ids, full=True)
                wall = time.perf_counter() - started
                print(f"# run {i + 1}: {wall:.2f} s", file=sys.stderr)
                if wall < best_s:
                    best, best_s = result, wall
            full_all = briefing.build_briefing(con, cfg, AS_OF, Path(tmp) / "full_all", full=True)
            pack_all = briefing.build_briefing(con, cfg, AS_OF, Path(tmp) / "pack_all")
        finally:
            con.close()
        assert best is not None
        n_charts = len(best.charts)
        print(f"briefing_{len(ids)}_targets_s={best_s:.2f}")
        print(f"charts_per_s={n_charts / best.timings['charts_s']:.2f}")
        for key in ("collect_s", "browser_ready_at_s", "charts_s", "pdf_s", "deck_s", "workbook_s"):
            print(f"{key}={best.timings[key]:.2f}")
        sizes = {"deck": best.deck, "pdf": best.pdf, "workbook": best.workbook, "charts_zip": best.charts_zip}
        for name, p in sizes.items():
            print(f"{name}_mb={p.stat().st_size / 1e6:.2f}")
        print(f"# every target: {len(every)}", file=sys.stderr)
        print(f"full_deck_all_mb={full_all.deck.stat().st_size / 1e6:.2f}")
        print(f"full_charts_zip_all_mb={full_all.charts_zip.stat().st_size / 1e6:.2f}")
        print(f"pack_deck_all_mb={pack_all.deck.stat().st_size / 1e6:.2f}")
        print(f"load_avg_1m={os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
