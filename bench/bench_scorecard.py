"""Benchmark of the progress engine at province scale: is a full scorecard fast enough to compute on
every page view, for every target and every reporting unit?

A synthetic warehouse (default 500 targets on 500 KPIs, 110 reporting units, 120 months: 6.6 million
observations plus 1% revisions; bench/_province.py, shared with bench_pages.py --scale province) is
generated with DuckDB's range()/random() in a temporary file, in a child process so that the peak
memory printed is the scorecard's alone. Then, in this process:

    scorecard_all_units_s   scorecard(all_units=True): every target x unit in scope, plus aggregates
    scorecard_floor_s       the floor: one DuckDB pass over the same observations grouped by KPI and
                            district (FLOOR_SQL, result fetched as a DataFrame), on the same connection
    scorecard_vs_floor_x    scorecard_all_units_s / scorecard_floor_s (aim: at most 3)
    current_floor_s         the same pass over the figures leadership sees: approved submissions only, each
                            figure's latest revision (CURRENT_FLOOR_SQL), the least any scorecard reads
    current_floor_vs_floor_x  current_floor_s / scorecard_floor_s: how much of the 3x the rule takes alone
    scorecard_figures_s     of the best of --repeat further runs: the figures query (reduce_figures, DuckDB)
    scorecard_rest_s        and the rest (Python: judged figures, trend, status, sentences, yearly lists)
    scorecard_city_s        scorecard(): one row per target
    peak_rss_mb             peak resident memory of this process (DuckDB included)
    peak_python_mb          peak of Python allocations (tracemalloc, pandas/numpy included)

Timings are the best of --repeat runs on a warm connection (the first, cold run is printed too).
Usage: PYTHONPATH=. .venv/bin/python bench/bench_scorecard.py [--targets 500 --units 110 --months 120]
       [--db FILE|postgresql://…] [--pg-admin postgresql://…/postgres]
With --pg-admin the same warehouse is also copied into a scratch PostgreSQL database (bench/_pg.py) and
measured there; those figures carry the prefix pg_ (aim: pg_scorecard_all_units_s < 3 s).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script (bench/run.py does) without PYTHONPATH
    sys.path.insert(0, str(ROOT))

from bench import _pg, _province  # noqa: E402
from monitor import db, progress  # noqa: E402
from monitor.progress import evaluate, figures  # noqa: E402

AS_OF_START = dt.date(2016, 1, 1)
# What the scorecard is measured against: one pass over every observation, grouped by KPI and district.
FLOOR_SQL = "select kpi_id, district_id, count(*), max(period), sum(value) from observations group by all"
# The same pass over the current figures: visible (approved) submissions only, a corrected figure's latest
# revision instead of its first. No scorecard can read less; written the cheapest way measured (the few
# later revisions first, then the first ones they do not replace: monitor/progress/figures.py). Both ? are
# the first revision (figures.FIRST_REVISION).
CURRENT_FLOOR_SQL = """
with revised as (
    select kpi_id, district_id, period, arg_max(value, revision) as value
    from visible_observations
    where revision <> ?
    group by all
),
current as (
    select o.kpi_id, o.district_id, o.period, o.value
    from visible_observations as o
    anti join revised using (kpi_id, district_id, period)
    where o.revision = ?
    union all
    select kpi_id, district_id, period, value
    from revised
)
select kpi_id, district_id, count(*), max(period), sum(value)
from current
group by all
"""


def build(path: Path, targets: int, units: int, months: int) -> None:
    """Write the synthetic warehouse (runs in a child process): bench/_province.py with one KPI per
    target, one bureau and every KPI summed over the units (see its docstring for the figures)."""
    _province.build(path, _province.programme(targets, units), months)


def _timed(fn: Callable[[], object], repeat: int) -> tuple[float, float, float, object]:
    """(first run, best run, CPU seconds of the best run, result of the last run).

    CPU time (all threads of the process) is printed beside the wall time because a shared machine
    makes wall times noisy; on an idle machine with n cores wall is roughly CPU / n for the SQL part."""
    runs, result = [], None
    for _ in range(repeat):
        start, cpu = time.perf_counter(), time.process_time()
        result = fn()
        runs.append((time.perf_counter() - start, time.process_time() - cpu))
    best = min(runs)
    return runs[0][0], best[0], best[1], result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--targets", type=int, default=500)
    parser.add_argument("--units", type=int, default=110)
    parser.add_argument("--months", type=int, default=120)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--db",
        default=None,
        help="reuse (or keep) this warehouse file, or measure a PostgreSQL warehouse (postgresql://…)",
    )
    parser.add_argument(
        "--pg-admin",
        default=None,
        help="also measure on PostgreSQL: a perf_ database is created through this URL, filled and dropped",
    )
    parser.add_argument(
        "--pg-prefix", default=_pg.PREFIX, help="name prefix of the scratch PostgreSQL database (default perf_)"
    )
    parser.add_argument("--build-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.build_only:
        build(Path(args.db), args.targets, args.units, args.months)
        return 0

    tmp = tempfile.TemporaryDirectory(prefix="bench_scorecard_")
    path: db.Location = db.db_path(args.db) if args.db else Path(tmp.name) / "bench.duckdb"
    if isinstance(path, Path) and not path.exists():
        start = time.perf_counter()
        scale = ["--targets", str(args.targets), "--units", str(args.units), "--months", str(args.months)]
        subprocess.run([sys.executable, __file__, "--build-only", "--db", str(path), *scale], check=True)
        print(f"build_s={time.perf_counter() - start:.2f}")
    print(f"cpu_count={os.cpu_count()}")
    measure(path, args.repeat)
    if args.pg_admin and isinstance(path, Path):
        with _pg.scratch_database(args.pg_admin, path, "scorecard", args.pg_prefix) as url:
            measure(db.db_path(url), args.repeat)
    tmp.cleanup()
    return 0


def current_floor_frame(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """CURRENT_FLOOR_SQL's result: per KPI and district, the count, last month and sum of current figures."""
    first = figures.FIRST_REVISION
    return db.cursor(con).execute(CURRENT_FLOOR_SQL, [first, first]).df()


def _split(con: duckdb.DuckDBPyConnection, as_of: dt.date, repeat: int) -> tuple[float, float]:
    """(figures query, rest) of the fastest of ``repeat`` all-units scorecards: where the time goes."""
    inner = evaluate.reduce_figures
    spent: list[float] = []

    def clocked(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return inner(*args, **kwargs)
        finally:
            spent.append(time.perf_counter() - start)

    runs = []
    evaluate.reduce_figures = clocked  # type: ignore[assignment]
    try:
        for _ in range(repeat):
            start = time.perf_counter()
            progress.scorecard(con, as_of, all_units=True)
            runs.append((time.perf_counter() - start, spent[-1]))
    finally:
        evaluate.reduce_figures = inner  # type: ignore[assignment]
    total, reduce_s = min(runs)
    return reduce_s, total - reduce_s


def measure(location: db.Location, repeat: int) -> None:
    """Print the figures of one warehouse; a PostgreSQL one's carry the prefix pg_."""
    prefix = "pg_" if isinstance(location, db.PostgresUrl) else ""
    con = db.connect(location, read_only=True)
    n_obs = db.scalar(con, "select count(*) from observations")
    last = db.scalar(con, "select max(period) from observations")
    as_of = last if isinstance(last, dt.date) else AS_OF_START
    print(f"{prefix}observations={n_obs}")
    print(f"{prefix}targets={db.scalar(con, 'select count(*) from targets')}")
    n_units = db.scalar(con, "select count(*) from districts where kind <> 'city'")
    print(f"{prefix}units={n_units}")
    print(f"{prefix}as_of={as_of:%Y-%m}")

    cold, best, cpu, card = _timed(lambda: progress.scorecard(con, as_of, all_units=True), repeat)
    # the floor is timed right after, on the same warm connection: a busy machine slows both alike.
    # It is short, so it gets more runs: one unlucky floor would flatter the ratio.
    _, floor, _, _ = _timed(lambda: db.cursor(con).execute(FLOOR_SQL).df(), 3 * repeat)
    print(f"{prefix}scorecard_all_units_rows={len(card)}")  # type: ignore[arg-type]
    print(f"{prefix}scorecard_all_units_cold_s={cold:.3f}")
    print(f"{prefix}scorecard_all_units_s={best:.3f}")
    print(f"{prefix}scorecard_all_units_cpu_s={cpu:.3f}")
    print(f"{prefix}scorecard_floor_s={floor:.3f}")
    print(f"{prefix}scorecard_vs_floor_x={best / floor:.2f}")
    _, current_floor, _, _ = _timed(lambda: current_floor_frame(con), 3 * repeat)
    print(f"{prefix}current_floor_s={current_floor:.3f}")
    print(f"{prefix}current_floor_vs_floor_x={current_floor / floor:.2f}")
    reduce_s, rest = _split(con, as_of, repeat)
    print(f"{prefix}scorecard_figures_s={reduce_s:.3f}")
    print(f"{prefix}scorecard_rest_s={rest:.3f}")
    cold, best, cpu, card = _timed(lambda: progress.scorecard(con, as_of), repeat)
    print(f"{prefix}scorecard_city_rows={len(card)}")  # type: ignore[arg-type]
    print(f"{prefix}scorecard_city_s={best:.3f}")
    print(f"{prefix}scorecard_city_cpu_s={cpu:.3f}")
    counts = card["status"].value_counts().to_dict()  # type: ignore[index]
    print(f"{prefix}statuses=" + ",".join(f"{s}:{counts.get(s, 0)}" for s in progress.STATUSES))
    if not prefix:  # memory of the embedded engine (on PostgreSQL the server holds the table)
        print(f"peak_rss_mb={resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f}")
        tracemalloc.start()
        progress.scorecard(con, as_of, all_units=True)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(f"peak_python_mb={peak / 2**20:.0f}")
    con.close()


if __name__ == "__main__":
    sys.exit(main())
