"""The progress engine: for every target, as of a month, what was done, what was planned, where the
recent trend leads, hence a status, and one sentence saying why (docs/progress.md has the rules).

It never imports streamlit: the dashboard, the command line, the briefing and the benchmark share it.
All targets (and, on request, every reporting unit) are judged at once, because the overview, the
heat map and the briefing all need the whole picture and a per-target query would not scale to a
province: DuckDB reduces the observations to a few figures per unit and month bucket in one pass,
numpy does the rest column-wise (Theil–Sen included), and only the one-sentence reasons are built row
by row (formatting text is not vectorisable, and each number is formatted once).

Month arithmetic uses a month index ``year * 12 + month - 1``; a month's figure describes the state at
the end of that month, so "as of 2025-09" means "after September's figures".
"""

from __future__ import annotations

import calendar
import datetime as dt
import json
import math
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd

from monitor import fmt
from monitor.targets import CITY, TargetsConfig, Thresholds

# Worst first, so sorting by STATUSES.index puts what needs attention on top.
STATUSES: tuple[str, ...] = ("off_track", "overdue", "at_risk", "no_data", "on_track", "achieved")
STATUS_LABELS: dict[str, tuple[str, str]] = {
    "achieved": ("已完成", "Achieved"),
    "on_track": ("正常推进", "On track"),
    "at_risk": ("需关注", "At risk"),
    "off_track": ("明显滞后", "Off track"),
    "overdue": ("逾期未完成", "Overdue"),
    "no_data": ("数据缺失", "No data"),
}

# district_id of the aggregate of a target scoped to a list of districts (a city-scoped target's
# aggregate is CITY). Such a row is the sum over the listed districts, not the city figure.
SCOPE = "scope"

SCORECARD_COLUMNS: tuple[str, ...] = (
    "target_id", "kpi_id", "section", "name_zh", "name_en", "unit_zh", "unit_en", "kind", "comparator",
    "deadline", "target_value", "tolerance", "baseline_value", "actual", "as_of", "latest_period",
    "expected", "progress", "time_elapsed", "forecast", "forecast_low", "forecast_high", "status",
    "reason_zh", "reason_en", "lead_bureau", "co_bureaus", "district_id", "is_aggregate", "target_share",
    "n_reports", "trend_months", "years",
)  # fmt: skip

# How the judged figure is built from the reports (see docs/progress.md):
#   total - cumulative targets: running total since the baseline (or the reported cumulative)
#   level - stock, ratio and level-reported annual/cap targets: the latest level
#   ytd   - annual and cap targets on flows: the calendar year's total so far
#   flag  - milestones: the latest 0/1
_MODES = ("total", "level", "ytd", "flag")
_PCT_UNITS = ("%",)
_BAND = (0.10, 0.90)  # forecast band: 10th-90th percentile of the pairwise slopes
_MILESTONE_WARNING_MONTHS = 3  # a milestone not done in its last 3 months is at risk


# ---------------------------------------------------------------------------------------------- months


def _mi(d: dt.date) -> int:
    """Month index of a date (its month)."""
    return d.year * 12 + d.month - 1


def _month(mi: int) -> dt.date:
    return dt.date(mi // 12, mi % 12 + 1, 1)


def _position(d: dt.date) -> float:
    """A date as a point on the month axis: the first of a month is that month's start ("from
    2024-07-01"), any other day is the end of that day ("by 2027-07-31" = the start of August)."""
    if d.day == 1:
        return float(_mi(d))
    return _mi(d) + d.day / calendar.monthrange(d.year, d.month)[1]


def _month_start(value: dt.date | pd.Timestamp | str) -> dt.date:
    """as_of may come as a date, a Timestamp or 'YYYY-MM'; it always means the whole month."""
    if isinstance(value, str):
        value = dt.date.fromisoformat(value + "-01" if len(value) == 7 else value)
    if isinstance(value, pd.Timestamp):
        value = value.date()
    return dt.date(value.year, value.month, 1)


# ---------------------------------------------------------------------------------------------- targets


@dataclass(frozen=True)
class _Units:
    """One row per judged unit (target x aggregate or district), with the target's parameters
    already scaled by the unit's share; ``members`` are the (kpi, district) rows summed into it."""

    frame: pd.DataFrame
    members: pd.DataFrame


def _load_targets(con: duckdb.DuckDBPyConnection, target_ids: Sequence[str] | None) -> pd.DataFrame:
    where, params = "", []
    if target_ids is not None:
        where, params = "where t.target_id in (select unnest(?::varchar[]))", [list(target_ids)]
    rows = con.execute(
        f"""
        select
            t.target_id, t.kpi_id, t.section, t.name_zh, t.name_en, t.kind, t.comparator, t.target_value,
            t.tolerance, t.deadline, t.start_date, t.baseline_value, t.baseline_date, t.scope,
            t.milestones_json, t.sort_order, k.unit_zh, k.unit_en, k.value_type, k.reporting,
            k.aggregation, k.lead_bureau, k.co_bureaus
        from targets as t
        join kpis as k using (kpi_id)
        {where}
        order by t.sort_order
        """,
        params,
    ).fetchall()
    cols = [
        "target_id", "kpi_id", "section", "name_zh", "name_en", "kind", "comparator", "target_value",
        "tolerance", "deadline", "start_date", "baseline_value", "baseline_date", "scope", "milestones_json",
        "sort_order", "unit_zh", "unit_en", "value_type", "reporting", "aggregation", "lead_bureau", "co_bureaus",
    ]  # fmt: skip
    tg = pd.DataFrame(rows, columns=cols)
    if tg.empty:
        return tg
    # Derived parameters, one loop over targets (a few hundred at most).
    derived = [_derive(r) for r in tg.itertuples(index=False)]
    return pd.concat([tg, pd.DataFrame(derived)], axis=1)


def _derive(t: object) -> dict[str, object]:
    kind, reporting = t.kind, t.reporting  # type: ignore[attr-defined]
    inc = reporting == "increment"
    if kind == "cumulative":
        mode = "total"
    elif kind == "milestone":
        mode = "flag"
    elif kind in ("annual", "cap") and reporting != "level":
        mode = "ytd"
    else:
        mode = "level"
    base_date = t.baseline_date or t.start_date  # type: ignore[attr-defined]
    b_pos = _position(base_date)
    d_pos = _position(t.deadline)  # type: ignore[attr-defined]
    milestones = json.loads(t.milestones_json or "[]")  # type: ignore[attr-defined]
    ms = sorted((_position(dt.date.fromisoformat(m["date"])), float(m["value"])) for m in milestones)
    return {
        "mode": mode,
        "inc": inc,
        "yearly": kind == "annual" or mode == "ytd",
        "b_raw": 0.0 if t.baseline_value is None or math.isnan(t.baseline_value) else float(t.baseline_value),  # type: ignore[attr-defined]
        "b_pos": b_pos,
        "d_pos": max(d_pos, b_pos + 1e-9),
        "dm": math.ceil(d_pos) - 1,  # last month whose figures count for the deadline
        # increments count from the baseline month on; flows judged per year and levels need no cut
        "fp": math.ceil(b_pos) if inc and mode in ("total", "level", "flag") else 0,
        "start_year": t.start_date.year,  # type: ignore[attr-defined]
        "deadline_year": t.deadline.year,  # type: ignore[attr-defined]
        "ms": ms,
    }


def _units(tg: pd.DataFrame, reporting: list[str], district: str | None, all_units: bool) -> _Units:
    """Which units each target is judged for, and the (kpi, district) rows that feed each unit.

    A district's share of a count or amount target is an equal split over the districts in scope:
    targets.yaml carries no district quotas, and an equal split is the assumption that is easiest to
    see through (it is named in the reason). Ratios and flags are standards every district must meet."""
    known = set(reporting)
    scope = [reporting if list(s) == [CITY] else [d for d in s if d in known] for s in tg["scope"]]
    n_scope = np.array([len(s) for s in scope], dtype=np.int64)
    n_t = len(tg)
    t_all = np.arange(n_t, dtype=np.int64)
    ti_parts: list[np.ndarray] = []
    unit_parts: list[np.ndarray] = []
    order_parts: list[np.ndarray] = []
    member_g: list[np.ndarray] = []
    member_d: list[np.ndarray] = []
    if district is None:  # the aggregates, g = 0 .. n_t - 1 for now
        ti_parts.append(t_all)
        unit_parts.append(np.array([CITY if list(s) == [CITY] else SCOPE for s in tg["scope"]], dtype=object))
        order_parts.append(np.full(n_t, -1, dtype=np.int64))
        members = [[CITY] if a == "city" else sc for a, sc in zip(tg["aggregation"], scope, strict=True)]
        member_g.append(np.repeat(t_all, [len(m) for m in members]))
        member_d.append(np.array([d for m in members for d in m], dtype=object))
    if district is not None or all_units:
        per_target = np.where(tg["aggregation"].to_numpy() == "sum", n_scope, 0)
        ti = np.repeat(t_all, per_target)
        ids = np.array([d for s, n in zip(scope, per_target, strict=True) if n for d in s], dtype=object)
        position = {d: i for i, d in enumerate(reporting)}
        order = np.array([position[d] for d in ids], dtype=np.int64)
        if district is not None:
            keep = ids == district
            ti, ids, order = ti[keep], ids[keep], order[keep]
        offset = sum(len(x) for x in ti_parts)
        ti_parts.append(ti)
        unit_parts.append(ids)
        order_parts.append(order)
        member_g.append(np.arange(offset, offset + len(ti), dtype=np.int64))
        member_d.append(ids)
    ti = np.concatenate(ti_parts) if ti_parts else np.array([], dtype=np.int64)
    unit_id = np.concatenate(unit_parts) if unit_parts else np.array([], dtype=object)
    order = np.concatenate(order_parts) if order_parts else np.array([], dtype=np.int64)
    is_aggregate = order < 0
    split = tg["value_type"].isin(["count", "amount"]).to_numpy()[ti] & ~is_aggregate
    share = np.where(split, 1.0 / np.maximum(n_scope[ti], 1), 1.0)
    # rows in display order (target, then aggregate first and districts in their order); g follows it
    sort = np.lexsort((order, ti))
    rank = np.empty_like(sort)
    rank[sort] = np.arange(len(sort))
    frame = pd.DataFrame(
        {
            "g": np.arange(len(sort), dtype=np.int64),
            "ti": ti[sort],
            "unit_id": unit_id[sort],
            "is_aggregate": is_aggregate[sort],
            "share": share[sort],
        }
    )
    mg = rank[np.concatenate(member_g)] if member_g else np.array([], dtype=np.int64)
    mt = frame["ti"].to_numpy()[mg]
    members = pd.DataFrame(
        {
            "g": mg,
            "kpi_id": tg["kpi_id"].to_numpy(dtype=object)[mt],
            "district_id": np.concatenate(member_d) if member_d else np.array([], dtype=object),
            "fp": tg["fp"].to_numpy(dtype=np.int64)[mt],
        }
    )
    return _Units(frame, members)


# ---------------------------------------------------------------------------------------------- SQL

# One pass over the observations into a temporary table of figures per judged unit and month bucket.
# current_rows equals the current_observations view (the latest revision of each kpi/district/month)
# but picks a latest revision only where a correction exists: ranking every row of a province-scale
# table takes seconds, and corrections are few. Rows are summed per district and bucket (single
# months inside the trend window, whole years before it, cut again at the targets' baseline months)
# and then per judged unit (one district, or the districts summed into an aggregate).
_UNIT_BUCKETS_SQL = """
create temp table {unit_buckets} as
with first_revision as (
    select min(revision) as r0 from observations
),
revised as (
    select distinct o.kpi_id, o.district_id, o.period
    from observations as o
    where o.revision > (select r0 from first_revision) and o.period <= ?
),
first_rows as (
    select o.kpi_id, o.district_id, o.period, o.value
    from observations as o
    anti join revised using (kpi_id, district_id, period)
    where o.revision = (select r0 from first_revision) and o.period <= ?{filters}
),
revised_rows as (
    select o.kpi_id, o.district_id, o.period, arg_max(o.value, o.revision) as value
    from observations as o
    semi join revised using (kpi_id, district_id, period)
    group by o.kpi_id, o.district_id, o.period
),
current_rows as (
    select * from first_rows
    union all
    select * from revised_rows
),
district_buckets as (
    select
        c.kpi_id, c.district_id, mm.bucket,
        sum(c.value) as s, arg_max(c.value, c.period) as lv, max(mm.mi) as lp, count(*) as n
    from current_rows as c
    join {month_map} as mm on mm.mi = year(c.period) * 12 + month(c.period) - 1
    group by c.kpi_id, c.district_id, mm.bucket
)
select m.g, b.bucket, sum(b.s) as s, sum(b.lv) as lv, max(b.lp) as lp, sum(b.n)::bigint as n
from district_buckets as b
join {members} as m on m.kpi_id = b.kpi_id and m.district_id = b.district_id
where b.bucket >= m.fp
group by m.g, b.bucket
"""

# One row per unit: the figures every rule needs (y = the judged calendar year) and the trend window.
_SUMMARY_SQL = """
select
    b.g,
    sum(b.s) as total,
    max(b.lp)::double as latest,
    arg_max(b.lv, b.lp) as latest_lv,
    arg_max(b.n, b.lp)::double as latest_n,
    arg_max(b.bucket, b.lp)::double as latest_bucket,
    sum(b.s) filter (where b.bucket // 12 = u.y) as ytd_s,
    arg_max(b.lv, b.lp) filter (where b.bucket // 12 <= u.y) as end_lv,
    arg_max(b.lv, b.lp) filter (where b.bucket // 12 < u.y) as prev_lv{window}
from {unit_buckets} as b
join {units} as u using (g)
group by b.g
order by b.g
"""

# Annual targets and flow caps: each calendar year's sum and closing level.
_YEARS_SQL = """
select b.g, b.bucket // 12 as yr, sum(b.s) as s, arg_max(b.lv, b.lp) as lv
from {unit_buckets} as b
where b.g in (select g from {units} where yearly)
group by b.g, yr
order by b.g, yr
"""

_SUMMARY_COLUMNS = ("total", "latest", "latest_lv", "latest_n", "latest_bucket", "ytd_s", "end_lv", "prev_lv")


@dataclass(frozen=True)
class _Figures:
    summary: dict[str, np.ndarray]  # one array of length G per _SUMMARY_COLUMNS entry, NaN = none
    window: np.ndarray  # G x W sums of each month of the trend window, NaN = no figure
    years: pd.DataFrame  # g, yr, s, lv for annual targets and flow caps


def _selective(values: pd.Series, column: str, limit: int = 64) -> tuple[str, list[str]]:
    """A filter on the observations when only a few KPIs or districts are wanted (a district page, a
    chart). For the whole scorecard the filter would cost more than it saves."""
    wanted = sorted(set(values))
    if len(wanted) > limit:
        return "", []
    return f" and o.{column} in ({', '.join('?' for _ in wanted)})", wanted


def _figures(
    con: duckdb.DuckDBPyConnection, units: _Units, y: np.ndarray, yearly: np.ndarray, cuts: Iterable[int], M: int, W: int
) -> _Figures:
    """Reduce the observations to the few figures per unit the rules need (DuckDB does the heavy part)."""
    G = len(units.frame)
    none = _Figures(
        {c: np.full(G, np.nan) for c in _SUMMARY_COLUMNS},
        np.full((G, W), np.nan),
        pd.DataFrame({"g": [], "yr": [], "s": [], "lv": []}),
    )
    as_of = _month(M)
    first = con.execute("select min(period) from observations where period <= ?", [as_of]).fetchall()[0][0]
    if first is None or units.members.empty:
        return none
    lo = _mi(first)
    months = np.arange(lo, M + 1, dtype=np.int64)
    starts = np.unique(np.concatenate([(months // 12) * 12, [c for c in cuts if lo <= c <= M], [lo]]))
    bucket = starts[np.searchsorted(starts, months, side="right") - 1]
    bucket = np.where(months >= M - W + 1, months, bucket)
    tag = uuid.uuid4().hex[:12]
    names = {
        "members": f"progress_members_{tag}",
        "month_map": f"progress_months_{tag}",
        "units": f"progress_units_{tag}",
        "unit_buckets": f"progress_buckets_{tag}",
    }
    frames = {
        names["members"]: units.members,
        names["month_map"]: pd.DataFrame({"mi": months, "bucket": bucket}),
        names["units"]: pd.DataFrame({"g": np.arange(G, dtype=np.int64), "y": y.astype(np.int64), "yearly": yearly}),
    }
    kpi_filter, kpis = _selective(units.members["kpi_id"], "kpi_id")
    district_filter, districts = _selective(units.members["district_id"], "district_id")
    for name, frame in frames.items():
        con.register(name, frame)
    try:
        con.execute(
            _UNIT_BUCKETS_SQL.format(filters=kpi_filter + district_filter, **names),
            [as_of, as_of, *kpis, *districts],
        )
        window = "".join(f",\n    sum(b.s) filter (where b.bucket = ?) as w{k}" for k in range(W))
        summary = con.execute(
            _SUMMARY_SQL.format(window=window, **names), [M - W + 1 + k for k in range(W)]
        ).df()
        years = con.execute(_YEARS_SQL.format(**names)).df()
    finally:
        con.execute(f"drop table if exists {names['unit_buckets']}")
        for name in frames:
            con.unregister(name)
    g = summary["g"].to_numpy(dtype=np.int64)
    out = {}
    for c in _SUMMARY_COLUMNS:
        col = np.full(G, np.nan)
        col[g] = summary[c].to_numpy(dtype=float, na_value=np.nan)
        out[c] = col
    win = np.full((G, W), np.nan)
    win[g] = summary[[f"w{k}" for k in range(W)]].to_numpy(dtype=float, na_value=np.nan)
    return _Figures(out, win, years)


# ---------------------------------------------------------------------------------------------- numpy


def _last_per_group(g: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """Row positions of the last row of each group (rows sorted by group, then month)."""
    idx = np.flatnonzero(mask) if mask is not None else np.arange(len(g))
    if len(idx) == 0:
        return idx
    gi = g[idx]
    return idx[np.r_[gi[1:] != gi[:-1], True]]


def _quantiles(values: np.ndarray, qs: Sequence[float]) -> list[np.ndarray]:
    """Row-wise quantiles (linear interpolation, as numpy's default) ignoring NaN, without
    numpy's per-row Python loop in nanquantile: sort once (NaN go last), index by the valid count."""
    s = np.sort(values, axis=1)
    n = np.sum(~np.isnan(values), axis=1)
    out = []
    rows = np.arange(len(s))
    for q in qs:
        pos = q * np.maximum(n - 1, 0)
        lo = np.floor(pos).astype(np.int64)
        hi = np.minimum(lo + 1, np.maximum(n - 1, 0))
        frac = pos - lo
        if s.shape[1] == 0:
            out.append(np.full(len(s), np.nan))
            continue
        v = s[rows, lo] + (s[rows, hi] - s[rows, lo]) * frac
        out.append(np.where(n > 0, v, np.nan))
    return out


def theil_sen(y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Theil–Sen fit of each row of y (x = column index, NaN = no figure that month).

    Returns (slope, slope_low, slope_high, intercept): the median of the pairwise slopes, their 10th
    and 90th percentiles (the band) and the median of y - slope * x. Rows with fewer than two
    figures get NaN. Vectorised over rows: the pairs are a fixed set of column pairs."""
    n_cols = y.shape[1]
    i, j = np.triu_indices(n_cols, k=1)
    with np.errstate(invalid="ignore"):
        slopes = (y[:, j] - y[:, i]) / (j - i).astype(float)
    slope, low, high = _quantiles(slopes, (0.5, *_BAND))
    with np.errstate(invalid="ignore"):
        (intercept,) = _quantiles(y - slope[:, None] * np.arange(n_cols), (0.5,))
    return slope, low, high, intercept


def _expected(
    kind: np.ndarray, mode: np.ndarray, t: np.ndarray, b: np.ndarray, b_pos: np.ndarray, d_pos: np.ndarray,
    dm: np.ndarray, months_in: np.ndarray, ms: Sequence[list[tuple[float, float]]], x: np.ndarray,
) -> np.ndarray:  # fmt: skip
    """Planned value at month position x (the end of the as-of month): the straight line from the
    baseline to the target (through milestones when given), pro-rata within the year for annual
    targets and flow caps, the cap itself for level caps, 0/1 for milestones."""
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.clip((x - b_pos) / (d_pos - b_pos), 0.0, 1.0)
    out = b + (t - b) * share
    for r in np.flatnonzero([bool(m) for m in ms]):
        xs = [b_pos[r], *(p for p, _ in ms[r]), d_pos[r]]
        ys = [b[r], *(v for _, v in ms[r]), t[r]]
        out[r] = np.interp(x[r], xs, ys)
    yearly = mode == "ytd"
    out = np.where(yearly | (kind == "annual"), t * months_in / 12.0, out)
    out = np.where((kind == "cap") & ~yearly, t, out)
    out = np.where(mode == "flag", np.where(x - 1 >= dm, t, 0.0), out)
    return out


# ---------------------------------------------------------------------------------------------- engine


def _evaluate(
    con: duckdb.DuckDBPyConnection,
    as_of: dt.date,
    *,
    cfg: TargetsConfig | None,
    district: str | None,
    all_units: bool,
    target_ids: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Everything scorecard() returns plus the private fit columns series() needs (prefixed _)."""
    th = cfg.thresholds if cfg is not None else Thresholds()
    as_of = _month_start(as_of)
    M, W = _mi(as_of), max(int(th.trend_months), 2)
    tg = _load_targets(con, target_ids)
    reporting = [
        r[0]
        for r in con.execute("select district_id from districts where kind <> 'city' order by sort_order").fetchall()
    ]
    if district is not None:
        district = resolve_district(con, district, cfg)
        if district == CITY:
            district = None
    if tg.empty:
        return pd.DataFrame(columns=list(SCORECARD_COLUMNS))
    units = _units(tg, reporting, district, all_units)
    u = units.frame
    if u.empty:
        return pd.DataFrame(columns=list(SCORECARD_COLUMNS))
    G = len(u)
    ti = u["ti"].to_numpy(dtype=np.int64)
    P = tg.iloc[ti].reset_index(drop=True)  # target parameters aligned with units

    def col(name: str, dtype: type = float) -> np.ndarray:
        return P[name].to_numpy(dtype=dtype)

    kind, mode, comp = col("kind", object), col("mode", object), col("comparator", object)
    inc = col("inc", bool)
    share = u["share"].to_numpy(dtype=float)
    t = col("target_value") * share
    tol = np.nan_to_num(col("tolerance")) * share
    yearly = col("yearly", bool)
    b = np.where(yearly, 0.0, col("b_raw") * share)  # annual targets and flow caps start from 0 each year
    b_pos, d_pos = col("b_pos"), col("d_pos")
    dm = col("dm", np.int64)
    ms = [[(p, v * s) for p, v in m] for m, s in zip(P["ms"], share, strict=True)]
    Y = np.minimum(as_of.year, col("deadline_year", np.int64))  # judged calendar year
    months_in = np.where(as_of.year > Y, 12, as_of.month)

    # --- figures from the warehouse
    bk = _buckets(con, units.members, set(tg["fp"].tolist()), M, W)
    g = bk["g"].to_numpy(dtype=np.int64)
    s = bk["s"].to_numpy(dtype=float)
    lv = bk["lv"].to_numpy(dtype=float)
    lp = bk["lp"].to_numpy(dtype=np.int64)
    nrep = bk["n"].to_numpy(dtype=np.int64)
    bucket = bk["bucket"].to_numpy(dtype=np.int64)
    yr = bucket // 12

    has = np.bincount(g, minlength=G) > 0
    total = np.bincount(g, weights=s, minlength=G)
    last = _last_per_group(g)
    latest = np.full(G, -1, dtype=np.int64)
    latest[g[last]] = lp[last]
    latest_lv = np.full(G, np.nan)
    latest_lv[g[last]] = lv[last]
    n_reports = np.full(G, np.nan)
    n_reports[g[last]] = np.where(bucket[last] == lp[last], nrep[last], np.nan)
    ytd_s = np.bincount(g, weights=s * (yr == Y[g]), minlength=G)
    end_lv = np.full(G, np.nan)  # level at the end of the judged year (or earlier)
    r = _last_per_group(g, yr <= Y[g])
    end_lv[g[r]] = lv[r]
    prev_lv = np.zeros(G)  # level at the end of the year before the judged year
    r = _last_per_group(g, yr < Y[g])
    prev_lv[g[r]] = lv[r]

    actual = np.select(
        [mode == "total", mode == "ytd"],
        [
            np.where(inc, total, latest_lv),
            np.where(inc, ytd_s, end_lv - prev_lv),
        ],
        np.where(inc, b + total, latest_lv),
    )
    actual = np.where(has, actual, np.nan)

    # --- the judged series over the trend window (G x W, NaN = no figure that month)
    w0 = M - W + 1
    inwin = bucket >= w0
    S = np.zeros((G, W))
    L = np.full((G, W), np.nan)
    S[g[inwin], bucket[inwin] - w0] = s[inwin]
    L[g[inwin], bucket[inwin] - w0] = lv[inwin]
    seen = ~np.isnan(L)
    running = (total - S.sum(axis=1))[:, None] + np.cumsum(S, axis=1)
    running = running + np.where(mode == "level", b, 0.0)[:, None]
    series = np.where(inc[:, None], running, L)
    series = np.where(seen, series, np.nan)
    slope, slope_lo, slope_hi, intercept = theil_sen(series)
    first_k = np.where(seen.any(axis=1), seen.argmax(axis=1), W)
    n_trend = W - first_k
    anchor = np.where(np.isin(mode, ["level"]), intercept + slope * (W - 1), actual)
    horizon_end = np.where(yearly, Y * 12 + 11, dm)
    h = np.maximum(horizon_end - M, 0)
    forecast = anchor + slope * h
    f_lo = anchor + slope_lo * h
    f_hi = anchor + slope_hi * h
    flag = mode == "flag"
    floor_ = 0.0
    ceil_ = np.where(np.isin(P["unit_zh"].to_numpy(), _PCT_UNITS), 100.0, np.inf)
    forecast, f_lo, f_hi = (np.where(flag, np.nan, np.clip(v, floor_, ceil_)) for v in (forecast, f_lo, f_hi))

    # --- plan, progress, time
    x = np.full(G, M + 1.0)
    expected = _expected(kind, mode, t, b, b_pos, d_pos, dm, months_in, ms, x)
    with np.errstate(invalid="ignore", divide="ignore"):
        span = np.where(t != b, t - b, np.nan)
        progress = np.where(flag, actual, (actual - b) / span)
        p_f = (forecast - b) / span
        linear_elapsed = np.clip((M + 1 - b_pos) / (d_pos - b_pos), 0.0, 1.0)
    time_elapsed = np.where(yearly, months_in / 12.0, linear_elapsed)

    # --- status
    thr = float(th.at_risk)
    past = dm < M
    stale = has & (np.minimum(M, dm) - latest >= th.stale_months)
    no_any = ~has
    is_cap = kind == "cap"
    _ge, le, approx = comp == ">=", comp == "<=", comp == "~"
    with np.errstate(invalid="ignore"):
        met = np.select([approx, le], [np.abs(actual - t) <= tol, actual <= t], actual >= t)
        on_f = np.select([approx, le], [np.abs(forecast - t) <= tol, forecast <= t], forecast >= t)
        risk_f = np.where(approx, (p_f >= thr) & (p_f <= 2 - thr), p_f >= thr)
        e_span = expected - b
        p_e = np.where(e_span != 0, (actual - b) / np.where(e_span != 0, e_span, 1.0), 1.0)
        on_e = np.where(approx, np.abs(actual - expected) <= tol, p_e >= 1.0)
        risk_e = np.where(approx, (p_e >= thr) & (p_e <= 2 - thr), p_e >= thr)
        has_f = ~np.isnan(forecast)
        sticky = (kind == "cumulative") | flag
        period_done = np.where(mode == "ytd", months_in == 12, dm <= M)
        status_goal = np.select(
            [
                no_any, met & sticky, stale, met, past,
                flag & (dm - (_MILESTONE_WARNING_MONTHS - 1) <= M), flag,
                has_f & on_f, has_f & risk_f, has_f, on_e, risk_e,
            ],
            [
                "no_data", "achieved", "no_data", "achieved", "overdue",
                "at_risk", "on_track",
                "on_track", "at_risk", "off_track", "on_track", "at_risk",
            ],
            "off_track",
        )  # fmt: skip
        exceeded = actual > t
        status_cap = np.select(
            [
                no_any, stale, exceeded & past, exceeded, past | period_done,
                has_f & (forecast <= t), has_f & (forecast < t / thr), has_f,
                actual <= expected, actual < expected / thr,
            ],
            [
                "no_data", "no_data", "overdue", "off_track", "achieved",
                "on_track", "at_risk", "off_track", "on_track", "at_risk",
            ],
            "off_track",
        )  # fmt: skip
    status = np.where(is_cap, status_cap, status_goal)
    progress = np.where(is_cap, actual / np.where(t != 0, t, np.nan), progress)

    # --- past years of annual targets and flow caps
    years = _past_years(bk, g, yr, lv, s, P, u, t, inc, as_of, yearly)

    out = pd.DataFrame(
        {
            "target_id": P["target_id"].to_numpy(),
            "kpi_id": P["kpi_id"].to_numpy(),
            "section": P["section"].to_numpy(),
            "name_zh": P["name_zh"].to_numpy(),
            "name_en": P["name_en"].to_numpy(),
            "unit_zh": P["unit_zh"].to_numpy(),
            "unit_en": P["unit_en"].to_numpy(),
            "kind": kind,
            "comparator": comp,
            "deadline": [d if isinstance(d, dt.date) else pd.Timestamp(d).date() for d in P["deadline"]],
            "target_value": t,
            "tolerance": np.where(approx, tol, np.nan),
            "baseline_value": b,
            "actual": actual,
            "as_of": as_of,
            "latest_period": [_month(int(m)) if m >= 0 else None for m in latest],
            "expected": expected,
            "progress": progress,
            "time_elapsed": time_elapsed,
            "forecast": forecast,
            "forecast_low": f_lo,
            "forecast_high": f_hi,
            "status": status,
            "reason_zh": "",
            "reason_en": "",
            "lead_bureau": P["lead_bureau"].to_numpy(),
            "co_bureaus": P["co_bureaus"].to_numpy(),
            "district_id": u["unit_id"].to_numpy(),
            "is_aggregate": u["is_aggregate"].to_numpy(dtype=bool),
            "target_share": share,
            "n_reports": n_reports,
            "trend_months": np.where(np.isnan(slope), np.nan, n_trend),
            "years": years,
            "_mode": mode,
            "_slope": slope,
            "_slope_low": slope_lo,
            "_slope_high": slope_hi,
            "_anchor": anchor,
            "_horizon_end": horizon_end,
            "_year": Y,
            "_fp": col("fp", np.int64),
            "_inc": inc,
            "_b_pos": b_pos,
            "_d_pos": d_pos,
            "_dm": dm,
            "_ms": ms,
            "_value_type": P["value_type"].to_numpy(),
            "_n_scope": np.where(share < 1, np.round(1 / share), 1).astype(np.int64),
            "_latest": latest,
            "_months_in": months_in,
        }
    )
    out["reason_zh"], out["reason_en"] = _reasons(out, M, th.stale_months)
    return out


def _past_years(
    bk: pd.DataFrame, g: np.ndarray, yr: np.ndarray, lv: np.ndarray, s: np.ndarray, P: pd.DataFrame,
    u: pd.DataFrame, t: np.ndarray, inc: np.ndarray, as_of: dt.date, yearly: np.ndarray,
) -> list[list[dict[str, object]] | None]:  # fmt: skip
    """For annual targets and flow caps: every complete calendar year from the target's start to its
    deadline, with what was achieved and whether it met the year's target (or stayed under the cap)."""
    out: list[list[dict[str, object]] | None] = [None] * len(u)
    if not yearly.any():
        return out
    start_year = P["start_year"].to_numpy(dtype=np.int64)
    last_year = np.minimum(as_of.year - 1, P["deadline_year"].to_numpy(dtype=np.int64))
    for i in np.flatnonzero(yearly):
        out[i] = []
    keep = yearly[g]
    if not keep.any():
        return out
    frame = pd.DataFrame({"g": g[keep], "yr": yr[keep], "s": s[keep], "lv": lv[keep]})
    per_year = frame.groupby(["g", "yr"], sort=True).agg(s=("s", "sum"), lv=("lv", "last")).reset_index()
    prev = per_year.groupby("g")["lv"].shift(1).fillna(0.0)
    mode = P["mode"].to_numpy()
    gg = per_year["g"].to_numpy(dtype=np.int64)
    value = np.where(
        mode[gg] == "ytd",
        np.where(inc[gg], per_year["s"].to_numpy(), per_year["lv"].to_numpy() - prev.to_numpy()),
        per_year["lv"].to_numpy(),
    )
    yy = per_year["yr"].to_numpy(dtype=np.int64)
    wanted = (yy >= start_year[gg]) & (yy <= last_year[gg])
    kind = P["kind"].to_numpy()
    for gi, y, v in zip(gg[wanted], yy[wanted], value[wanted], strict=True):
        target = float(t[gi])
        met = v <= target if kind[gi] == "cap" else v >= target
        out[gi].append({"year": int(y), "actual": float(v), "target": target, "met": bool(met)})  # type: ignore[union-attr]
    return out


# ---------------------------------------------------------------------------------------------- reasons


class _Fmt:
    """fmt.number_zh / number_en with each (value, unit) formatted once: a province-scale heat map
    repeats the same targets and plans thousands of times."""

    def __init__(self) -> None:
        self._zh: dict[tuple[float, str], str] = {}
        self._en: dict[tuple[float, str], str] = {}

    def zh(self, value: float, unit: str) -> str:
        key = (value, unit)
        text = self._zh.get(key)
        if text is None:
            text = self._zh[key] = fmt.number_zh(value, unit)
        return text

    def en(self, value: float, unit: str) -> str:
        key = (value, unit)
        text = self._en.get(key)
        if text is None:
            text = self._en[key] = fmt.number_en(value, unit)
        return text


def _shown(value: float, value_type: str) -> float:
    """Counts and amounts are shown whole (a plan of 6,081.08 套 reads as 6,081套)."""
    if value is None or math.isnan(value):
        return float("nan")
    if value_type in ("count", "amount"):
        return float(round(value))
    return round(float(value), 1)


def _reasons(out: pd.DataFrame, M: int, stale_months: int) -> tuple[list[str], list[str]]:
    """One sentence per row in each language, with the figures behind the status."""
    f = _Fmt()
    month_zh = {m: fmt.month_zh(_month(m)) for m in range(M - 240, M + 1)}
    month_en = {m: fmt.month_en(_month(m)) for m in range(M - 240, M + 1)}
    as_zh, as_en = month_zh[M], month_en[M]
    cache_zh: dict[int, str] = {}
    cache_en: dict[int, str] = {}

    def mzh(m: int) -> str:
        return month_zh.get(m) or cache_zh.setdefault(m, fmt.month_zh(_month(m)))

    def men(m: int) -> str:
        return month_en.get(m) or cache_en.setdefault(m, fmt.month_en(_month(m)))

    zh_out: list[str] = []
    en_out: list[str] = []
    cols = [
        "status", "kind", "_mode", "comparator", "actual", "expected", "forecast", "target_value", "tolerance",
        "unit_zh", "unit_en", "_value_type", "_dm", "_latest", "trend_months", "_year", "_months_in",
        "is_aggregate", "target_share", "_n_scope", "years",
    ]  # fmt: skip
    for (
        status, kind, mode, comp, a, e, fc, t, tol, uz, ue, vt, dm, latest, n_trend, year, mon, agg, sh, n_scope, yrs,
    ) in zip(*(out[c].to_numpy() for c in cols), strict=True):  # fmt: skip
        a_, e_, f_, t_ = (_shown(v, vt) for v in (a, e, fc, t))
        dl_zh, dl_en = mzh(int(dm)), men(int(dm))
        tz, te = f.zh(t_, uz), f.en(t_, ue)
        if comp == "~":
            tol_ = _shown(tol, vt)
            goal_zh, goal_en = f"目标{tz}左右（±{f.zh(tol_, uz)}）", f"target about {te} ± {f.en(tol_, ue)}"
        elif kind == "cap":
            goal_zh = f"年度上限{tz}" if mode == "ytd" else f"上限{tz}"
            goal_en = f"annual cap {te}" if mode == "ytd" else f"cap {te}"
        elif kind == "annual":
            goal_zh, goal_en = f"年度目标{tz}", f"annual target {te}"
        else:
            goal_zh, goal_en = f"目标{tz}", f"target {te}"

        if status == "no_data":
            if latest < 0:
                zh, en = f"截至{as_zh}无数据（{goal_zh}）", f"No figures reported up to {as_en} ({goal_en})"
            else:
                gap = M - int(latest)
                zh = f"最近数据为{mzh(int(latest))}，截至{as_zh}已连续{gap}个月未报送（{goal_zh}）"
                en = f"Last figure {men(int(latest))}; nothing reported for {gap} months up to {as_en} ({goal_en})"
            zh_out.append(zh)
            en_out.append(en)
            continue

        az, ae = f.zh(a_, uz), f.en(a_, ue)
        if mode == "flag":
            if status == "achieved":
                zh, en = f"截至{as_zh}已完成（截止{dl_zh}）", f"As of {as_en}: done (due {dl_en})"
            elif status == "overdue":
                zh, en = f"截至{as_zh}仍未完成，已过截止时间{dl_zh}", f"As of {as_en}: still not done, due {dl_en}"
            else:
                zh, en = f"截至{as_zh}尚未完成，截止时间{dl_zh}", f"As of {as_en}: not yet done, due {dl_en}"
            zh_out.append(zh)
            en_out.append(en)
            continue

        if mode == "ytd":
            span_zh = f"{year}年1月" if mon == 1 else f"{year}年1—{mon}月"
            span_en = f"Jan {year}" if mon == 1 else f"Jan–{calendar.month_abbr[int(mon)]} {year}"
            head_zh, head_en = f"{span_zh}累计{az}", f"{span_en}: {ae}"
        elif mode == "total":
            head_zh, head_en = f"截至{as_zh}累计完成{az}", f"As of {as_en}: {ae} to date"
        else:
            head_zh, head_en = f"截至{as_zh}为{az}", f"As of {as_en}: {ae}"

        if status == "achieved":
            if kind == "cap":
                tail_zh, tail_en = f"，未超过{goal_zh}", f", within the {goal_en}"
            elif comp == "~":
                tail_zh, tail_en = f"，在{goal_zh}范围内", f", within the {goal_en}"
            else:
                tail_zh, tail_en = f"，已达到{goal_zh}", f", {goal_en} reached"
        elif status == "overdue":
            if kind == "cap":
                tail_zh, tail_en = f"，超过{goal_zh}", f", above the {goal_en}"
            else:
                tail_zh, tail_en = f"，截止{dl_zh}未完成{goal_zh}", f", {goal_en} missed at {dl_en}"
        elif kind == "cap" and status == "off_track" and a > t:
            tail_zh, tail_en = f"，已超过{goal_zh}", f", already above the {goal_en}"
        else:
            ez, ee = f.zh(e_, uz), f.en(e_, ue)
            if kind == "cap":
                plan_zh, plan_en = f"，按限额进度为{ez}", f" against a pro-rata allowance of {ee}"
            elif mode == "ytd" or kind == "annual":
                plan_zh, plan_en = f"，按进度应达{ez}", f" against {ee} planned"
            else:
                plan_zh, plan_en = f"，按计划应达{ez}", f" against {ee} planned"
            if math.isnan(fc):
                trend_zh, trend_en = (
                    f"；近期数据不足，无法测算趋势（{goal_zh}）",
                    f"; too few recent figures for a trend ({goal_en})",
                )
            else:
                fz, fe = f.zh(f_, uz), f.en(f_, ue)
                n = int(n_trend)
                if mode == "ytd" or kind == "annual":
                    trend_zh = f"；按近{n}个月趋势预计全年{fz}（{goal_zh}）"
                    trend_en = f"; the {n}-month trend projects {fe} for the year ({goal_en})"
                else:
                    trend_zh = f"；按近{n}个月趋势预计{dl_zh}达{fz}（{goal_zh}）"
                    trend_en = f"; the {n}-month trend projects {fe} by {dl_en} ({goal_en})"
            tail_zh, tail_en = plan_zh + trend_zh, plan_en + trend_en

        zh, en = head_zh + tail_zh, head_en + tail_en
        if yrs:
            last_year = yrs[-1]
            lz, le = f.zh(_shown(last_year["actual"], vt), uz), f.en(_shown(last_year["actual"], vt), ue)
            zh += f"；{last_year['year']}年{lz}（{'达标' if last_year['met'] else '未达标'}）"
            en += f"; {last_year['year']}: {le} ({'met' if last_year['met'] else 'missed'})"
        if not agg and sh < 1:
            zh += f"（旗区目标按全市目标在{n_scope}个旗区间均分）"
            en += f" (district target: an equal 1/{n_scope} share of the whole target)"
        zh_out.append(zh)
        en_out.append(en)
    return zh_out, en_out


# ---------------------------------------------------------------------------------------------- public


def resolve_district(con: duckdb.DuckDBPyConnection, name: str, cfg: TargetsConfig | None = None) -> str:
    """A district id from its id, Chinese or English name (or an alias in targets.yaml)."""
    rows = con.execute("select district_id, name_zh, name_en from districts").fetchall()
    wanted = name.strip()
    for district_id, name_zh, name_en in rows:
        if wanted in (district_id, name_zh, name_en):
            return str(district_id)
    if cfg is not None:
        for d in cfg.districts:
            if wanted in d.aliases:
                return d.id
    known = "、".join(f"{r[1]}({r[0]})" for r in rows)
    raise ValueError(f"未知旗区 / unknown district {name!r}；可选：{known}")


def scorecard(
    con: duckdb.DuckDBPyConnection,
    as_of: dt.date,
    *,
    district: str | None = None,
    cfg: TargetsConfig | None = None,
    all_units: bool = False,
) -> pd.DataFrame:
    """One row per target, judged as of the month of ``as_of`` (its figures included).

    Without ``district`` the row is the target's aggregate (the city figure, or the sum over the
    districts of its scope). With ``district`` (id or name) the rows are that district's share of
    the targets whose scope includes it (KPIs reported only for the whole city are left out). With
    ``all_units`` there is also one row per reporting unit in scope (``district_id``), for heat maps.
    Thresholds come from ``cfg.thresholds`` (targets.yaml), defaults otherwise."""
    out = _evaluate(con, as_of, cfg=cfg, district=district, all_units=all_units)
    return out[[c for c in out.columns if not c.startswith("_")]].reset_index(drop=True)


def series(
    con: duckdb.DuckDBPyConnection,
    target_id: str,
    as_of: dt.date,
    *,
    district: str | None = None,
    cfg: TargetsConfig | None = None,
) -> pd.DataFrame:
    """Monthly lines for a target's chart: ``actual`` (the judged figure of each reported month, the
    same figure the scorecard judges), ``expected`` (the planned trajectory up to the deadline) and
    ``forecast`` with ``forecast_low``/``forecast_high`` (the trend band from as_of to the deadline;
    to December for annual targets). One row per month, NaN where a line has no point."""
    as_of = _month_start(as_of)
    M = _mi(as_of)
    ev = _evaluate(con, as_of, cfg=cfg, district=district, all_units=False, target_ids=[target_id])
    columns = ["period", "actual", "expected", "forecast", "forecast_low", "forecast_high"]
    if ev.empty:
        raise KeyError(f"unknown target {target_id!r} (or not reported for district {district!r})")
    row = ev.iloc[0]
    unit = str(row["district_id"])
    kpi_id = str(row["kpi_id"])
    if row["is_aggregate"]:
        scope = con.execute("select scope from targets where target_id = ?", [target_id]).fetchall()[0][0]
        aggregation = con.execute("select aggregation from kpis where kpi_id = ?", [kpi_id]).fetchall()[0][0]
        if aggregation == "city":
            members = [CITY]
        elif list(scope) == [CITY]:
            members = [r[0] for r in con.execute("select district_id from districts where kind <> 'city'").fetchall()]
        else:
            members = list(scope)
    else:
        members = [unit]
    monthly = con.execute(
        """
        with cur as (
            select period, value
            from current_observations
            where kpi_id = ? and district_id in (select unnest(?::varchar[])) and period <= ?
        )
        select year(period) * 12 + month(period) - 1 as mi, sum(value) as value
        from cur
        group by period
        order by mi
        """,
        [kpi_id, members, as_of],
    ).df()
    mi = monthly["mi"].to_numpy(dtype=np.int64)
    v = monthly["value"].to_numpy(dtype=float)
    mode, inc, fp = row["_mode"], bool(row["_inc"]), int(row["_fp"])
    keep = mi >= fp
    mi, v = mi[keep], v[keep]
    b = float(row["baseline_value"])
    if mode == "ytd":
        years_ = mi // 12
        if inc:
            judged = pd.Series(v).groupby(years_).cumsum().to_numpy()
        else:  # reported running totals: this year's part is the total minus last year's closing one
            closing = pd.Series(v).groupby(years_).last()
            judged = v - closing.shift(1).reindex(years_).fillna(0.0).to_numpy()
    elif mode == "total":
        judged = np.cumsum(v) if inc else v
    else:
        judged = b + np.cumsum(v) if inc else v

    start = math.floor(float(row["_b_pos"]))
    end = max(int(row["_dm"]), int(row["_horizon_end"]), M)
    if len(mi):
        start = min(start, int(mi[0]))
    months = np.arange(start, end + 1, dtype=np.int64)
    n = len(months)
    kind = np.full(n, row["kind"], dtype=object)
    yrs = months // 12
    dyear = int(pd.Timestamp(row["deadline"]).year)
    months_in = np.where(yrs > dyear, 12, months % 12 + 1)
    expected = _expected(
        kind,
        np.full(n, mode, dtype=object),
        np.full(n, float(row["target_value"])),
        np.full(n, b),
        np.full(n, float(row["_b_pos"])),
        np.full(n, float(row["_d_pos"])),
        np.full(n, int(row["_dm"])),
        months_in,
        [row["_ms"]] * n,
        months + 1.0,
    )
    out = pd.DataFrame({"mi": months, "expected": expected})
    out = out.merge(pd.DataFrame({"mi": mi, "actual": judged}), on="mi", how="left")
    h_end = int(row["_horizon_end"])
    if not math.isnan(row["_slope"]) and row["_mode"] != "flag":
        steps = np.arange(M, max(h_end, M) + 1, dtype=np.int64)
        k = (steps - M).astype(float)
        lo, hi = 0.0, (100.0 if row["unit_zh"] in _PCT_UNITS else np.inf)
        line = pd.DataFrame(
            {
                "mi": steps,
                "forecast": np.clip(row["_anchor"] + row["_slope"] * k, lo, hi),
                "forecast_low": np.clip(row["_anchor"] + row["_slope_low"] * k, lo, hi),
                "forecast_high": np.clip(row["_anchor"] + row["_slope_high"] * k, lo, hi),
            }
        )
        out = out.merge(line, on="mi", how="left")
    else:
        out = out.assign(forecast=np.nan, forecast_low=np.nan, forecast_high=np.nan)
    out["period"] = [_month(int(m)) for m in out["mi"]]
    return out[columns]
