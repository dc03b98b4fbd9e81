"""The figures query (monitor/progress/figures.py) against a plain reference, on randomised warehouses.

The engine takes shortcuts for speed: corrections are applied by an anti join instead of ranking every
row, the months before the horizon are reduced to one row per district and stretch between baseline
months, the window's months are passed through without grouping. The reference here takes none of
them: it groups the current_observations view (the latest revision of every figure) into every month
bucket, the way the figures query worked before those shortcuts. Every scorecard column (statuses,
figures, reasons in both languages, the years) must come out the same for random figures with gaps,
districts that stop reporting years before the as-of month, several revisions, a month first
reported as a revision, an ``aggregation: all`` KPI, annual targets on increments and on cumulative
figures, a flow cap and baselines before and after the horizon. Runs on PostgreSQL too
(MONITOR_TEST_PG, tests/conftest.py).
"""

from __future__ import annotations

import copy
import datetime as dt
import math
import random
import uuid
from collections.abc import Iterable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pytest

from bench.bench_scorecard import FLOOR_SQL, current_floor_frame
from monitor import db
from monitor.progress import evaluate, figures, members, scorecard
from monitor.progress.months import month_date
from monitor.progress.units import Units
from monitor.targets import TargetsConfig, parse_targets
from tests.test_progress import BASE, CONFIG, _kpi, _target

DISTRICTS = ["city", "dongsheng", "kangbashi", "dalad"]

# The bucket reduction as it was before the shortcuts, straight from the current_observations view.
_REFERENCE_BUCKETS_SQL = """
create temp table {unit_buckets} as
with district_buckets as materialized (
    select o.kpi_id, o.district_id, {bucket} as bucket,
        sum(o.value) as summed, arg_max(o.value, o.period) as level, max(o.period) as last_period
    from current_observations as o
    where o.period <= ?
    group by o.kpi_id, o.district_id, bucket
),
every_member_buckets as (
    select m.unit, b.bucket, b.level, b.last_period, m.n_members,
        max(b.last_period) over (partition by m.unit, b.bucket) as bucket_last
    from district_buckets as b
    join {members} as m on m.kpi_id = b.kpi_id and m.district_id = b.district_id
    where m.every_member and b.bucket >= m.first_month
)
select
    m.unit, b.bucket, b.summed, b.level,
    year(b.last_period) * 12 + month(b.last_period) - 1 as last_month, 1::bigint as n_districts
from district_buckets as b
join {members} as m on m.kpi_id = b.kpi_id and m.district_id = b.district_id
where m.single and b.bucket >= m.first_month
union all
select
    m.unit, b.bucket, sum(b.summed), sum(b.level),
    year(max(b.last_period)) * 12 + month(max(b.last_period)) - 1, count(*)::bigint
from district_buckets as b
join {members} as m on m.kpi_id = b.kpi_id and m.district_id = b.district_id
where not m.single and not m.every_member and b.bucket >= m.first_month
group by m.unit, b.bucket
union all
select unit, bucket, done, done, year(last_period) * 12 + month(last_period) - 1, n_districts
from (
    select unit, bucket,
        case when count(*) filter (where last_period = bucket_last) = any_value(n_members)
            then min(level) filter (where last_period = bucket_last) else 0 end as done,
        max(bucket_last) as last_period,
        count(*) filter (where last_period = bucket_last) as n_districts
    from every_member_buckets
    group by unit, bucket
)
"""


def reference_figures(
    con: duckdb.DuckDBPyConnection,
    units: Units,
    judged_year: np.ndarray,
    yearly: np.ndarray,
    cuts: Iterable[int],
    as_of_month: int,
    window_months: int,
    start_year: np.ndarray,
) -> figures.Figures:
    """figures.reduce_figures without its shortcuts: every bucket grouped from current_observations."""
    n_units = len(units.frame)
    window_start = as_of_month - window_months + 1
    inner_cuts = sorted({int(c) for c in cuts if c % 12 and c < window_start}, reverse=True)
    params: list[object] = [month_date(window_start)]
    cases = ["when o.period >= ? then year(o.period) * 12 + month(o.period) - 1"]
    for cut in inner_cuts:
        cases.append("when o.period >= ? then greatest(year(o.period) * 12, ?)")
        params += [month_date(cut), cut]
    bucket = f"case {' '.join(cases)} else year(o.period) * 12 end"
    tag = uuid.uuid4().hex[:12]
    names = {"members": f"ref_members_{tag}", "units": f"ref_units_{tag}", "unit_buckets": f"ref_buckets_{tag}"}
    frames = {
        names["members"]: members.with_every_member(con, units.members),
        names["units"]: pd.DataFrame(
            {"unit": np.arange(n_units, dtype=np.int64), "judged_year": judged_year.astype(np.int64), "yearly": yearly}
        ),
    }
    with ExitStack() as registered:
        for name, frame in frames.items():
            registered.enter_context(db.registered(con, name, frame))
        try:
            con.execute(_REFERENCE_BUCKETS_SQL.format(bucket=bucket, **names), [*params, month_date(as_of_month)])
            window = "".join(f",\n    sum(b.summed) filter (where b.bucket = ?) as w{k}" for k in range(window_months))
            summary = con.execute(
                figures._SUMMARY_SQL.format(window=window, **names), [window_start + k for k in range(window_months)]
            ).df()
            years = con.execute(figures._YEARS_SQL.format(**names)).df()
        finally:
            con.execute(f"drop table if exists {names['unit_buckets']}")
    if summary.empty:
        return figures.Figures.empty(n_units, window_months)
    found = summary["unit"].to_numpy(dtype=np.int64)
    columns = {}
    for c in figures._SUMMARY_COLUMNS:
        column = np.full(n_units, np.nan)
        column[found] = summary[c].to_numpy(dtype=float, na_value=np.nan)
        columns[c] = column
    window_sums = np.full((n_units, window_months), np.nan)
    window_sums[found] = summary[[f"w{k}" for k in range(window_months)]].to_numpy(dtype=float, na_value=np.nan)
    return figures.Figures(**columns, window=window_sums, years=years)


def _config() -> dict[str, Any]:
    """The hand-computed cases' targets, plus a centre open in every unit (aggregation all), a second
    baseline on rental_units before the policy (a cut before the horizon), an annual target on
    cumulative figures and a floor."""
    raw = copy.deepcopy(CONFIG)
    raw["kpis"].append(_kpi("centres_open", "是否完成", "done", "flag", "level", "all", "hrss"))
    raw["targets"] += [
        _target("centres_done", "centres_open", "milestone", ">=", 1, dt.date(2025, 12, 31), baseline=BASE),
        _target(
            "rental_since_2022",
            "rental_units",
            "cumulative",
            ">=",
            9000,
            dt.date(2026, 12, 31),
            baseline={"value": 100, "date": dt.date(2022, 5, 1)},
        ),
        _target(
            "apartments_yearly", "apartments", "annual", ">=", 150, dt.date(2026, 12, 31), start=dt.date(2025, 1, 1)
        ),
        _target("retail_floor", "retail_firms", "floor", ">=", 150, dt.date(2026, 12, 31), start=dt.date(2024, 1, 1)),
    ]
    return raw


@pytest.fixture
def ecfg() -> TargetsConfig:
    return parse_targets(_config())


@pytest.fixture
def econ(tmp_path: Path, ecfg: TargetsConfig) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = db.connect(tmp_path / "warehouse.duckdb")
    db.load_reference(connection, ecfg)
    try:
        yield connection
    finally:
        connection.close()


def _months(first: dt.date, count: int) -> list[dt.date]:
    return [dt.date(first.year + (first.month - 1 + k) // 12, (first.month - 1 + k) % 12 + 1, 1) for k in range(count)]


def _random_figures(seed: int) -> pd.DataFrame:
    """Observations 2021-01..2026-06 with gaps, districts that stop early or start late, and revisions
    (2 and 3, some months first reported as a revision)."""
    rng = random.Random(seed)
    rows: list[tuple[object, ...]] = []
    submission = iter(range(1, 10**6))
    every_month = _months(dt.date(2021, 1, 1), 66)
    kpis = {
        "rental_units": ("sum", lambda: rng.randint(0, 90)),
        "apartments": ("sum", lambda: rng.randint(0, 400)),
        "retail_firms": ("sum", lambda: rng.randint(100, 300)),
        "bus_coverage": ("city", lambda: rng.uniform(60, 100)),
        "jobs_new": ("sum", lambda: rng.randint(0, 200)),
        "bus_cards": ("sum", lambda: rng.randint(0, 150)),
        "rent_share": ("city", lambda: rng.uniform(50, 80)),
        "retention": ("city", lambda: rng.uniform(20, 35)),
        "portal_online": ("city", lambda: rng.choice([0, 1])),
        "centres_open": ("all", lambda: rng.choice([0, 1, 1, 1])),
    }
    for kpi, (aggregation, draw) in kpis.items():
        districts = ["city"] if aggregation == "city" else DISTRICTS if aggregation == "all" else DISTRICTS[1:]
        silent_since = rng.choice([None, None, rng.randint(6, 40)])  # every unit stops (2021-07..2024-05)
        for district in districts:
            first, last = sorted(rng.sample(range(len(every_month) + 1), 2))
            if rng.random() < 0.5:
                first = 0
            if rng.random() < 0.5:
                last = len(every_month)
            if silent_since is not None:
                first, last = min(first, silent_since - 1), min(last, silent_since - rng.randint(0, 5))
            sub = next(submission)
            picked = [p for p in every_month[first:last] if rng.random() < 0.85]
            rows += [(kpi, district, p, float(draw()), 1, sub, i + 2) for i, p in enumerate(picked)]
            for revision in (2, 3):
                sub = next(submission)
                fixed = rng.sample(every_month[first:last], min(3, max(last - first, 0)))
                rows += [(kpi, district, p, float(draw()), revision, sub, i + 2) for i, p in enumerate(fixed)]
    frame = pd.DataFrame(
        rows, columns=["kpi_id", "district_id", "period", "value", "revision", "submission_id", "source_row"]
    )
    # one row per kpi, district, month and revision (a revision drawn twice for a month keeps its first)
    frame = frame.drop_duplicates(["kpi_id", "district_id", "period", "revision"]).reset_index(drop=True)
    return frame.assign(loaded_at=pd.Timestamp("2026-07-01"))


def _load(con: duckdb.DuckDBPyConnection, frame: pd.DataFrame) -> None:
    with db.registered(con, "random_figures", frame):
        con.execute(
            """
            insert into observations
            select kpi_id, district_id, period, value, revision, submission_id, source_row, loaded_at
            from random_figures
            """
        )


def _same(left: object, right: object) -> bool:
    """Equal, floats to 1e-9 relative (sums in another order), NaN and None alike, lists and dicts deep."""
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(_same(a, b) for a, b in zip(left, right, strict=True))
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(_same(left[k], right[k]) for k in left)
    missing_left = left is None or (isinstance(left, float) and math.isnan(left))
    missing_right = right is None or (isinstance(right, float) and math.isnan(right))
    if missing_left or missing_right:
        return missing_left and missing_right
    if isinstance(left, float) and isinstance(right, float):
        return math.isclose(left, right, rel_tol=1e-9, abs_tol=1e-9)
    return left == right


def _differences(expected: pd.DataFrame, got: pd.DataFrame) -> list[str]:
    assert list(expected.columns) == list(got.columns)
    assert len(expected) == len(got)
    found = []
    for column in expected.columns:
        for i, (want, have) in enumerate(zip(expected[column].tolist(), got[column].tolist(), strict=True)):
            if not _same(want, have):
                where = f"{expected['target_id'].iloc[i]}/{expected['district_id'].iloc[i]}"
                found.append(f"{column} {where}: {want!r} != {have!r}")
    return found


_EXACT = (
    "total",
    "latest",
    "latest_level",
    "latest_districts",
    "latest_bucket",
    "year_total",
    "year_level",
    "prior_level",
)


def _checked(*args: Any) -> figures.Figures:
    """The engine's figures, after checking every per-unit figure against the reference's."""
    got, expected = figures.reduce_figures(*args), reference_figures(*args)
    for name in _EXACT:
        np.testing.assert_allclose(getattr(got, name), getattr(expected, name), rtol=1e-9, err_msg=name)
    np.testing.assert_allclose(got.window, expected.window, rtol=1e-9, err_msg="window")
    return got


AS_OF = [dt.date(2022, 3, 1), dt.date(2024, 2, 1), dt.date(2025, 1, 1), dt.date(2025, 9, 1), dt.date(2026, 6, 1)]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_scorecard_equals_the_reference_reduction_of_current_observations(
    econ: duckdb.DuckDBPyConnection, ecfg: TargetsConfig, seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    _load(econ, _random_figures(seed))
    checked = 0
    for as_of in AS_OF:
        for all_units in (True, False):
            monkeypatch.setattr(evaluate, "reduce_figures", _checked)
            got = scorecard(econ, as_of, cfg=ecfg, all_units=all_units)
            monkeypatch.setattr(evaluate, "reduce_figures", reference_figures)
            expected = scorecard(econ, as_of, cfg=ecfg, all_units=all_units)
            assert _differences(expected, got) == [], (as_of, all_units)
            checked += len(got)
    # the cases that make the shortcuts matter are there: a revision, an `all` aggregate, a yearly unit
    assert checked == 260
    assert db.scalar(econ, "select count(*) from observations where revision > 1") > 0


def test_reference_sees_what_the_engine_must_reproduce(
    econ: duckdb.DuckDBPyConnection, ecfg: TargetsConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The comparison can fail: a figure changed behind the engine's back changes the engine's answer
    and the reference's alike, and the centres' aggregate is judged on every member (hand-computed)."""
    periods = _months(dt.date(2025, 1, 1), 6)
    frame = pd.DataFrame(
        [("centres_open", d, p, 1.0, 1, 1, 2) for d in DISTRICTS for p in periods]
        + [("centres_open", "dalad", periods[-1], 0.0, 2, 2, 2)],  # dalad's June corrected to not done
        columns=["kpi_id", "district_id", "period", "value", "revision", "submission_id", "source_row"],
    ).assign(loaded_at=pd.Timestamp("2026-07-01"))
    _load(econ, frame)
    got = scorecard(econ, dt.date(2025, 6, 1), cfg=ecfg)
    monkeypatch.setattr(evaluate, "reduce_figures", reference_figures)
    expected = scorecard(econ, dt.date(2025, 6, 1), cfg=ecfg)
    centres = got[got["target_id"] == "centres_done"].iloc[0]
    assert centres["actual"] == 0.0
    assert centres["status"] == "on_track"  # six months before its deadline
    assert "4个单位中3个已报完成（达拉特旗未报完成）" in centres["reason_zh"]
    assert _differences(expected, got) == []


def test_revisions_stored_below_the_first_are_still_ranked_latest_first(
    econ: duckdb.DuckDBPyConnection, ecfg: TargetsConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The load counts revisions from 1, and the engine reads figures of revision 1 as first figures.
    Were a warehouse ever to hold lower ones (revisions 0, 1 and 2 here), its first figures are those of
    the lowest revision and the scorecard is still the reference's, figure for figure."""
    frame = _random_figures(2)
    _load(econ, frame.assign(revision=frame["revision"] - 1))
    assert db.scalar(econ, "select min(revision) from observations") == 0
    for as_of in AS_OF[1:4]:
        monkeypatch.setattr(evaluate, "reduce_figures", _checked)
        got = scorecard(econ, as_of, cfg=ecfg, all_units=True)
        monkeypatch.setattr(evaluate, "reduce_figures", reference_figures)
        expected = scorecard(econ, as_of, cfg=ecfg, all_units=True)
        assert _differences(expected, got) == [], as_of


def _review(con: duckdb.DuckDBPyConnection, submission_id: int, status: str) -> None:
    """A submissions row for ``submission_id`` (the random figures have none) with that review status."""
    con.execute(
        """
        insert into submissions (submission_id, bureau_id, user_name, submitted_at, file_name, sha256,
            file_bytes, rows_total, rows_loaded, rows_unchanged, rows_rejected, outcome, review_status)
        values (?, 'housing', 'tester', now(), 'f.csv', ?, 1, 1, 1, 0, 0, 'loaded', ?)
        """,
        [submission_id, f"{submission_id:064d}", status],
    )


def test_bench_current_floor_reads_exactly_the_figures_leadership_sees(econ: duckdb.DuckDBPyConnection) -> None:
    """bench/bench_scorecard.py measures what the revision rule costs with CURRENT_FLOOR_SQL. It must read
    what current_observations holds (approved submissions, each figure's latest revision), or the
    figure it prints would flatter or slander the rule: with a returned correction and a pending one
    it equals that view grouped by KPI and district, and differs from the floor, which counts them all."""
    frame = _random_figures(1)
    _load(econ, frame)
    later = frame[frame["revision"] == 3]
    _review(econ, int(later["submission_id"].iloc[0]), "returned")
    _review(econ, int(frame.loc[frame["revision"] == 2, "submission_id"].iloc[0]), "pending")
    columns = ["kpi_id", "district_id", "n", "last", "summed"]

    def grouped(result: pd.DataFrame) -> pd.DataFrame:
        result.columns = columns
        return result.sort_values(columns[:2]).reset_index(drop=True)

    got = grouped(current_floor_frame(econ))
    expected = grouped(
        econ.execute(
            "select kpi_id, district_id, count(*), max(period), sum(value) from current_observations group by all"
        ).df()
    )
    pd.testing.assert_frame_equal(got, expected, check_dtype=False, rtol=1e-12)
    everything = grouped(econ.execute(FLOOR_SQL).df())
    assert (everything["n"] > got["n"]).sum() > 0  # the floor counts the revisions the rule leaves out
