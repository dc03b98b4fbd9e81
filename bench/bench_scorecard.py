"""Benchmark of the progress engine at province scale: is a full scorecard fast enough to compute on
every page view, for every target and every reporting unit?

A synthetic warehouse (default 500 targets on 500 KPIs, 110 reporting units, 120 months: 6.6 million
observations plus 1% revisions) is generated with DuckDB's range()/random() in a temporary file, in a
child process so that the peak memory printed is the scorecard's alone. Then, in this process:

    scorecard_all_units_s   scorecard(all_units=True): every target x unit in scope, plus aggregates
    scorecard_city_s        scorecard(): one row per target
    peak_rss_mb             peak resident memory of this process (DuckDB included)
    peak_python_mb          peak of Python allocations (tracemalloc, pandas/numpy included)

Timings are the best of --repeat runs on a warm connection (the first, cold run is printed too).
Usage: PYTHONPATH=. .venv/bin/python bench/bench_scorecard.py [--targets 500 --units 110 --months 120]
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

from monitor import db, progress

AS_OF_START = dt.date(2016, 1, 1)

# Kinds cycle over the targets; the KPI of target i is k{i}, reported the way its kind needs. Monthly
# figures start in 2016-01, the targets in 2023-01 (month 84), deadlines fall between 2024 and 2030;
# target values are set around where the synthetic trend leads, so every status occurs. KPIs with
# i % 25 = 0 stop reporting three months before the end (no_data); two units never report the KPIs
# with i % 7 = 0 (no_data in the heat map).
_BUILD_SQL = """
insert into bureaus values ('bench', '基准测试局', 'Benchmark bureau');
insert into districts values ('city', '全市', 'Whole city', 'city', 0);
insert into districts
select printf('u%03d', i), printf('单位%03d', i), printf('Unit %03d', i), 'district', i + 1 from range($units) t(i);
create temp table plan as
select
    i,
    printf('k%03d', i) as kpi_id,
    ['cumulative', 'stock', 'annual', 'ratio', 'cap', 'milestone'][i % 6 + 1] as kind,
    (i % 5 = 4) as scoped,
    100 + 13 * (i % 7) as m_deadline,
    case when i % 5 = 4 then 5 else $units end as n,
    0.8 + 0.5 * random() as factor
from range($targets) t(i);
insert into kpis
select
    kpi_id, '基准', kpi_id, kpi_id,
    case kind when 'ratio' then '分' when 'milestone' then '是否完成' else '个' end,
    case kind when 'ratio' then 'points' when 'milestone' then 'done' else 'items' end,
    case kind when 'ratio' then 'ratio' when 'milestone' then 'flag' else 'count' end,
    case when kind in ('stock', 'ratio', 'milestone') then 'level' else 'increment' end,
    'sum', 'bench', []::varchar[], false, 'bench', i
from plan;
insert into targets
select
    printf('t%03d', i), kpi_id, '基准', printf('目标%03d', i), printf('Target %03d', i), kind,
    case kind when 'cap' then '<=' when 'ratio' then '~' else '>=' end,
    case kind when 'milestone' then 1 else n * case kind
        when 'cumulative' then 50 * (m_deadline - 84) * factor
        when 'stock' then (1010 + 8 * m_deadline) * (0.94 + 0.1 * factor)
        when 'annual' then 600 * factor
        when 'ratio' then least(100, 42.5 + 0.4 * m_deadline) * (0.9 + 0.1 * factor)
        else 600 * (0.15 + factor)
    end end,
    case kind when 'ratio' then n * 2 end,
    (date '2015-12-31' + to_months(m_deadline::integer))::date,
    date '2023-01-01',
    n * case kind when 'stock' then 1010 + 8 * 84 when 'ratio' then 76 else 0 end,
    date '2023-01-01',
    case when scoped then ['u000', 'u001', 'u002', 'u003', 'u004'] else ['city'] end,
    '[]', 'bench', null, i
from plan;
insert into observations
select
    p.kpi_id,
    printf('u%03d', d),
    (date '2016-01-01' + to_months(m::integer))::date,
    case p.kind
        when 'stock' then 1000 + 8 * m + 20 * random()
        when 'ratio' then least(100, 40 + 0.4 * m + 5 * random())
        when 'milestone' then (m > 100 + d % 30)::integer
        else 100 * random()
    end,
    1, 1, 0, now()
from plan as p, range($units) u(d), range($months) t(m)
where not (p.i % 25 = 0 and m >= $months - 3)
  and not (p.i % 7 = 0 and d % 37 = 36);
insert into observations
select kpi_id, district_id, period, value * 0.9, 2, 2, 0, now()
from observations using sample 1 percent (bernoulli, 7);
"""


def build(path: Path, targets: int, units: int, months: int) -> None:
    """Write the synthetic warehouse (runs in a child process)."""
    con = db.connect(path)
    con.execute("select setseed(0.477)")
    sql = _BUILD_SQL.replace("$units", str(units)).replace("$targets", str(targets)).replace("$months", str(months))
    con.execute(sql)
    con.execute("checkpoint")
    con.close()


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
    parser.add_argument("--db", type=Path, default=None, help="reuse (or keep) this warehouse file")
    parser.add_argument("--build-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.build_only:
        build(args.db, args.targets, args.units, args.months)
        return 0

    tmp = tempfile.TemporaryDirectory(prefix="bench_scorecard_")
    path = args.db or Path(tmp.name) / "bench.duckdb"
    if not path.exists():
        start = time.perf_counter()
        scale = ["--targets", str(args.targets), "--units", str(args.units), "--months", str(args.months)]
        subprocess.run([sys.executable, __file__, "--build-only", "--db", str(path), *scale], check=True)
        print(f"build_s={time.perf_counter() - start:.2f}")

    con = db.connect(path, read_only=True)
    n_obs = db.scalar(con, "select count(*) from observations")
    last = db.scalar(con, "select max(period) from observations")
    as_of = last if isinstance(last, dt.date) else AS_OF_START
    print(f"observations={n_obs}")
    print(f"targets={db.scalar(con, 'select count(*) from targets')}")
    n_units = db.scalar(con, "select count(*) from districts where kind <> 'city'")
    print(f"units={n_units}")
    print(f"as_of={as_of:%Y-%m}")

    print(f"cpu_count={os.cpu_count()}")
    cold, best, cpu, card = _timed(lambda: progress.scorecard(con, as_of, all_units=True), args.repeat)
    print(f"scorecard_all_units_rows={len(card)}")  # type: ignore[arg-type]
    print(f"scorecard_all_units_cold_s={cold:.3f}")
    print(f"scorecard_all_units_s={best:.3f}")
    print(f"scorecard_all_units_cpu_s={cpu:.3f}")
    cold, best, cpu, card = _timed(lambda: progress.scorecard(con, as_of), args.repeat)
    print(f"scorecard_city_rows={len(card)}")  # type: ignore[arg-type]
    print(f"scorecard_city_s={best:.3f}")
    print(f"scorecard_city_cpu_s={cpu:.3f}")
    counts = card["status"].value_counts().to_dict()  # type: ignore[index]
    print("statuses=" + ",".join(f"{s}:{counts.get(s, 0)}" for s in progress.STATUSES))
    print(f"peak_rss_mb={resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f}")

    tracemalloc.start()
    progress.scorecard(con, as_of, all_units=True)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"peak_python_mb={peak / 2**20:.0f}")
    con.close()
    tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
