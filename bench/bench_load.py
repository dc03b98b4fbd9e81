"""Benchmark: load a 1,000,000-row csv and a 100,000-row xlsx through etl.load.load_bytes.

    .venv/bin/python bench/bench_load.py                 # both cases, one fresh subprocess each
    .venv/bin/python bench/bench_load.py --profile csv   # cProfile of one case (top 30 by cumulative time)

A synthetic config gives one bureau 3,500 KPIs x 10 districts x 29 months (2024-07..2026-11), so
1,015,000 distinct (kpi, district, month) keys exist and every row of the files is a distinct, valid
figure. Each case runs in its own subprocess so its peak RSS (resource.getrusage) is its own.
Prints key=value lines, e.g. load_csv_1m_rows_s=3.2. Not a timed test: the goal is < 5 s per case.
The csv load is also measured against its floor, DuckDB reading the same file into a table of a
fresh warehouse file (FLOOR_SQL), in the same subprocess: load_csv_floor_s and load_csv_vs_read_csv_x
(aim: at most 3). Both are the best of --repeat runs (a shared machine makes single runs noisy).
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import io
import pstats
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import xlsxwriter

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from etl.load import load_bytes  # noqa: E402
from monitor import db  # noqa: E402
from monitor.targets import TargetsConfig, parse_targets  # noqa: E402

# What the csv load is measured against: DuckDB's own reader, the same file into a table.
FLOOR_SQL = "create table t as select * from read_csv(?)"
TODAY = dt.date(2026, 12, 1)  # every month of the data (to 2026-11) has ended
N_KPIS = 3_500
CSV_ROWS = 1_000_000
XLSX_ROWS = 100_000
BUREAU = "bench"
DISTRICTS: list[dict[str, Any]] = [
    {"id": "city", "name_zh": "全市", "name_en": "Whole city", "kind": "city"},
    {"id": "dongsheng", "name_zh": "东胜区", "name_en": "Dongsheng", "kind": "district"},
    {"id": "kangbashi", "name_zh": "康巴什区", "name_en": "Kangbashi", "kind": "district"},
    {"id": "dalad", "name_zh": "达拉特旗", "name_en": "Dalad Banner", "kind": "banner"},
    {"id": "jungar", "name_zh": "准格尔旗", "name_en": "Jungar Banner", "kind": "banner"},
    {"id": "otog_front", "name_zh": "鄂托克前旗", "name_en": "Otog Front Banner", "kind": "banner"},
    {"id": "otog", "name_zh": "鄂托克旗", "name_en": "Otog Banner", "kind": "banner"},
    {"id": "hanggin", "name_zh": "杭锦旗", "name_en": "Hanggin Banner", "kind": "banner"},
    {"id": "uxin", "name_zh": "乌审旗", "name_en": "Uxin Banner", "kind": "banner"},
    {"id": "ejin_horo", "name_zh": "伊金霍洛旗", "name_en": "Ejin Horo Banner", "kind": "banner"},
    {"id": "gaoxin", "name_zh": "高新区", "name_en": "Ordos High-tech Zone", "kind": "zone"},
]


def bench_config() -> TargetsConfig:
    kpis = [
        {
            "id": f"bench_kpi_{i:04d}",
            "section": "bench",
            "name_zh": f"基准指标{i:04d}",
            "name_en": f"Benchmark KPI {i:04d}",
            "unit_zh": "人",
            "unit_en": "people",
            "value_type": "count",
            "reporting": "increment",
            "aggregation": "sum",
            "lead": BUREAU,
            "source": "benchmark",
        }
        for i in range(N_KPIS)
    ]
    return parse_targets(
        {
            "version": 1,
            "policy": {"title": "bench", "issued": dt.date(2024, 7, 15), "start": dt.date(2024, 7, 1)},
            "bureaus": [{"id": BUREAU, "name_zh": "基准局", "name_en": "Benchmark bureau"}],
            "districts": DISTRICTS,
            "kpis": kpis,
            # one target: monitor.db.load_reference cannot take an empty list (executemany of nothing)
            "targets": [
                {
                    "id": "bench_target",
                    "kpi": "bench_kpi_0000",
                    "section": "bench",
                    "name_zh": "基准目标",
                    "name_en": "Benchmark target",
                    "kind": "cumulative",
                    "comparator": ">=",
                    "value": 1000,
                    "deadline": dt.date(2027, 7, 31),
                    "source": "benchmark",
                }
            ],
        }
    )


def report_frame(n_rows: int) -> pd.DataFrame:
    """n_rows distinct (kpi, district, month) rows in the template's column order, as bureaus type them."""
    cfg_units = [d["name_zh"] for d in DISTRICTS if d["kind"] != "city"]
    months = pd.date_range("2024-07-01", "2026-11-01", freq="MS").strftime("%Y-%m").to_numpy()
    idx = np.arange(n_rows)
    unit = idx % len(cfg_units)
    month = (idx // len(cfg_units)) % len(months)
    kpi = idx // (len(cfg_units) * len(months))
    assert kpi.max() < N_KPIS, "not enough distinct keys"
    rng = np.random.default_rng(477)
    return pd.DataFrame(
        {
            "指标编码": np.char.add("bench_kpi_", np.char.zfill(kpi.astype(str), 4)),
            "旗区": np.asarray(cfg_units, dtype=object)[unit],
            "报送期": months[month],
            "数值": rng.integers(0, 5_000, n_rows),
            "备注": "",
        }
    )


def write_csv(path: Path, n_rows: int) -> None:
    report_frame(n_rows).to_csv(path, index=False, encoding="utf-8")


def write_xlsx(path: Path, n_rows: int) -> None:
    frame = report_frame(n_rows)
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    ws = book.add_worksheet("报送数据")
    ws.write_row(0, 0, list(frame.columns))
    cols = [frame[c].tolist() for c in frame.columns]
    for i, row in enumerate(zip(*cols, strict=True), start=1):
        ws.write_string(i, 0, row[0])
        ws.write_string(i, 1, row[1])
        ws.write_string(i, 2, row[2])
        ws.write_number(i, 3, row[3])
    book.close()


def _fresh(path: Path) -> Path:
    for p in (path, path.with_name(path.name + ".wal")):
        p.unlink(missing_ok=True)
    return path


def floor_case(src: Path, workdir: Path) -> float:
    """Seconds DuckDB takes to read ``src`` into a table of a fresh warehouse file."""
    path = _fresh(workdir / "bench_floor.duckdb")
    con = duckdb.connect(str(path))
    t0 = time.perf_counter()
    con.execute(FLOOR_SQL, [str(src)])
    con.execute("checkpoint")
    seconds = time.perf_counter() - t0
    con.close()
    _fresh(path)
    return seconds


def run_case(kind: str, workdir: Path, profile: bool = False) -> dict[str, float]:
    """Load one file into a fresh warehouse; runs inside the subprocess for that case."""
    cfg = bench_config()
    src = workdir / ("report_1m.csv" if kind == "csv" else "report_100k.xlsx")
    data = src.read_bytes()
    path = _fresh(workdir / f"bench_{kind}.duckdb")
    con = db.connect(path)
    db.load_reference(con, cfg)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    prof = cProfile.Profile() if profile else None
    t0 = time.perf_counter()
    if prof:
        prof.enable()
    res = load_bytes(src.name, data, cfg, BUREAU, "bench", con, archive=workdir / "archive", today=TODAY, max_mb=10_000)
    if prof:
        prof.disable()
    seconds = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if res.outcome != "accepted":
        raise SystemExit(f"{kind}: {res.outcome}: " + "; ".join(p.zh() for p in res.problems[:5]))
    stored = int(db.scalar(con, "select count(*) from observations") or 0)
    con.close()
    _fresh(path)
    if prof:
        out = io.StringIO()
        pstats.Stats(prof, stream=out).sort_stats("cumulative").print_stats(30)
        print(out.getvalue(), file=sys.stderr)
    return {
        "rows": res.rows_total,
        "stored": stored,
        "s": seconds,
        "rows_per_s": res.rows_total / seconds,
        "peak_rss_mb": peak,
        "rss_before_mb": rss_before,
        "file_mb": len(data) / 1048576,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", choices=["csv", "xlsx"], help=argparse.SUPPRESS)
    parser.add_argument("--dir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--profile", choices=["csv", "xlsx"], help="cProfile one case in this process")
    parser.add_argument("--keep", type=Path, help="write the files here (reused if present) instead of a temp dir")
    parser.add_argument("--repeat", type=int, default=3, help="csv: runs of the load and of its floor (best taken)")
    parser.add_argument("--cases", default="csv,xlsx", help="which cases to run (comma list)")
    args = parser.parse_args(argv)

    if args.case:  # child process: one case (best of --repeat), one line of results
        runs = [run_case(args.case, args.dir) for _ in range(args.repeat)]
        r = min(runs, key=lambda run: run["s"])
        r["peak_rss_mb"] = max(run["peak_rss_mb"] for run in runs)
        if args.case == "csv":
            # the floor is short: more runs of it, so that one unlucky run does not flatter the ratio
            r["floor_s"] = min(floor_case(args.dir / "report_1m.csv", args.dir) for _ in range(3 * args.repeat))
        print(" ".join(f"{k}={v}" for k, v in r.items()))
        return 0

    with tempfile.TemporaryDirectory(prefix="bench_load_") as tmp:
        workdir = args.keep or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        if not (workdir / "report_1m.csv").exists():
            write_csv(workdir / "report_1m.csv", CSV_ROWS)
        if not (workdir / "report_100k.xlsx").exists():
            write_xlsx(workdir / "report_100k.xlsx", XLSX_ROWS)
        print(f"# files written in {time.perf_counter() - t0:.1f} s to {workdir}", file=sys.stderr)
        if args.profile:
            r = run_case(args.profile, workdir, profile=True)
            print(f"# {args.profile}: {r}", file=sys.stderr)
            return 0
        for kind, label in (("csv", "1m"), ("xlsx", "100k")):
            if kind not in args.cases.split(","):
                continue
            repeat = args.repeat if kind == "csv" else 1  # the xlsx case has no floor to keep pace with
            out = subprocess.run(
                [sys.executable, __file__, "--case", kind, "--dir", str(workdir), "--repeat", str(repeat)],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            r = dict(item.split("=", 1) for item in out.split())
            print(f"load_{kind}_{label}_rows_s={float(r['s']):.2f}")
            print(f"load_{kind}_rows_per_s={float(r['rows_per_s']):.0f}")
            print(f"load_{kind}_peak_rss_mb={float(r['peak_rss_mb']):.0f}")
            print(f"load_{kind}_file_mb={float(r['file_mb']):.1f}")
            print(f"load_{kind}_rows_stored={int(float(r['stored']))}")
            if "floor_s" in r:
                print(f"load_{kind}_floor_s={float(r['floor_s']):.2f}")
                print(f"load_{kind}_vs_read_csv_x={float(r['s']) / float(r['floor_s']):.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
