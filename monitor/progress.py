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
from monitor.i18n import STATUS_LABELS  # noqa: F401 - re-exported: progress.STATUS_LABELS
from monitor.style import STATUS_ORDER
from monitor.targets import CITY, TargetsConfig, Thresholds

# One definition of the statuses for the engine, the app and the exports: worst first (style), words (i18n).
STATUSES: tuple[str, ...] = STATUS_ORDER

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


def _dates(mi: np.ndarray) -> np.ndarray:
    """Month indexes to first-of-month dates (None where negative), without a loop."""
    out = np.full(len(mi), None, dtype=object)
    ok = mi >= 0
    out[ok] = (mi[ok] - 1970 * 12).astype("datetime64[M]").astype("datetime64[D]").astype(object)
    return out


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
    """``frame``: one row per judged unit (g, the target's row ti, unit_id, is_aggregate, share of the
    target); ``members``: the (kpi, district) figures summed into each unit."""

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
            # a unit fed by one district needs no summing: most units of a heat map
            "single": np.bincount(mg, minlength=len(frame))[mg] == 1,
        }
    )
    return _Units(frame, members)


# ---------------------------------------------------------------------------------------------- SQL

# One pass over the observations into a temporary table of figures per judged unit and month bucket.
# Rows are summed per district and bucket (single months inside the trend window, whole years before
# it, cut again at the targets' baseline months), then per judged unit (one district, or the districts
# summed into an aggregate). The result equals reading the current_observations view (the latest
# revision of each kpi/district/month), but ranking every row of a province-scale table takes seconds
# while corrections are few: the first figures are aggregated straight from the table and the
# corrections are applied to the few buckets they touch, as differences.
_UNIT_BUCKETS_SQL = """
create temp table {unit_buckets} as
with first_figures as (
    select o.kpi_id, o.district_id, {bucket_o} as bucket,
        sum(o.value) as s, arg_max(o.value, o.period) as lv, max(o.period) as last_period
    from observations as o
    where o.revision = ? and o.period <= ?{filters}
    group by o.kpi_id, o.district_id, bucket
),
revised as (
    select distinct o.kpi_id, o.district_id, o.period
    from observations as o
    where o.revision > ? and o.period <= ?
),
corrected as (
    select o.kpi_id, o.district_id, o.period,
        arg_max(o.value, o.revision) as value,
        sum(o.value) filter (where o.revision = ?) as first_value
    from observations as o
    semi join revised using (kpi_id, district_id, period)
    group by o.kpi_id, o.district_id, o.period
),
corrections as (
    select c.kpi_id, c.district_id, {bucket_c} as bucket,
        sum(c.value - coalesce(c.first_value, 0)) as ds,
        max(c.period) as last_period,
        arg_max(c.value, c.period) as lv
    from corrected as c
    group by c.kpi_id, c.district_id, bucket
),
district_buckets as materialized (
    select kpi_id, district_id, bucket,
        coalesce(f.s, 0) + coalesce(x.ds, 0) as s,
        case when x.last_period >= coalesce(f.last_period, x.last_period) then x.lv else f.lv end as lv,
        greatest(f.last_period, x.last_period) as last_period
    from first_figures as f
    full join corrections as x using (kpi_id, district_id, bucket)
)
-- per unit and bucket: s sum, lv last level (summed over districts), lp last month, n districts
select
    m.g, b.bucket, b.s, b.lv, year(b.last_period) * 12 + month(b.last_period) - 1 as lp, 1::bigint as n
from district_buckets as b
join {members} as m on m.kpi_id = b.kpi_id and m.district_id = b.district_id
where m.single and b.bucket >= m.fp
union all
select
    m.g, b.bucket, sum(b.s), sum(b.lv),
    year(max(b.last_period)) * 12 + month(max(b.last_period)) - 1, count(*)::bigint
from district_buckets as b
join {members} as m on m.kpi_id = b.kpi_id and m.district_id = b.district_id
where not m.single and b.bucket >= m.fp
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
    if values.nunique() > limit:
        return "", []
    wanted = sorted(str(v) for v in values.unique())
    return f" and o.{column} in ({', '.join('?' for _ in wanted)})", wanted


def _figures(
    con: duckdb.DuckDBPyConnection,
    units: _Units,
    y: np.ndarray,
    yearly: np.ndarray,
    cuts: Iterable[int],
    M: int,
    W: int,
) -> _Figures:
    """Reduce the observations to the few figures per unit the rules need (DuckDB does the heavy part)."""
    G = len(units.frame)
    none = _Figures(
        {c: np.full(G, np.nan) for c in _SUMMARY_COLUMNS},
        np.full((G, W), np.nan),
        pd.DataFrame({"g": [], "yr": [], "s": [], "lv": []}),
    )
    as_of = _month(M)
    first, r0 = con.execute(
        "select min(period), min(revision) from observations where period <= ?", [as_of]
    ).fetchall()[0]
    if first is None or units.members.empty:
        return none
    # Buckets: single months from the trend window on, calendar years before it, cut again at the
    # targets' baseline months (increments count from there).
    w0 = M - W + 1
    inner_cuts = sorted({int(c) for c in cuts if c % 12 and c < w0}, reverse=True)

    def bucket(alias: str) -> tuple[str, list[object]]:
        period, params = f"{alias}.period", [_month(w0)]
        cases = [f"when {period} >= ? then year({period}) * 12 + month({period}) - 1"]
        for c in inner_cuts:
            cases.append(f"when {period} >= ? then greatest(year({period}) * 12, ?)")
            params += [_month(c), c]
        return f"case {' '.join(cases)} else year({period}) * 12 end", params

    bucket_o, params_o = bucket("o")
    bucket_c, params_c = bucket("c")
    tag = uuid.uuid4().hex[:12]
    names = {
        "members": f"progress_members_{tag}",
        "units": f"progress_units_{tag}",
        "unit_buckets": f"progress_buckets_{tag}",
    }
    frames = {
        names["members"]: units.members,
        names["units"]: pd.DataFrame({"g": np.arange(G, dtype=np.int64), "y": y.astype(np.int64), "yearly": yearly}),
    }
    kpi_filter, kpis = _selective(units.members["kpi_id"], "kpi_id")
    district_filter, districts = _selective(units.members["district_id"], "district_id")
    for name, frame in frames.items():
        con.register(name, frame)
    try:
        con.execute(
            _UNIT_BUCKETS_SQL.format(
                filters=kpi_filter + district_filter, bucket_o=bucket_o, bucket_c=bucket_c, **names
            ),
            [*params_o, r0, as_of, *kpis, *districts, r0, as_of, r0, *params_c],
        )
        window = "".join(f",\n    sum(b.s) filter (where b.bucket = ?) as w{k}" for k in range(W))
        summary = con.execute(_SUMMARY_SQL.format(window=window, **names), [M - W + 1 + k for k in range(W)]).df()
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
    if district is not None:
        district = resolve_district(con, district, cfg)
        if district == CITY:
            district = None
    tg = _load_targets(con, target_ids)
    if tg.empty:
        return pd.DataFrame(columns=list(SCORECARD_COLUMNS))
    reporting = [
        r[0]
        for r in con.execute("select district_id from districts where kind <> 'city' order by sort_order").fetchall()
    ]
    units = _units(tg, reporting, district, all_units)
    u = units.frame
    if u.empty:
        return pd.DataFrame(columns=list(SCORECARD_COLUMNS))
    G = len(u)
    P = tg.iloc[u["ti"].to_numpy(dtype=np.int64)].reset_index(drop=True)  # target parameters per unit

    def col(name: str, dtype: type = float) -> np.ndarray:
        return P[name].to_numpy(dtype=dtype)

    kind, mode, comp = col("kind", object), col("mode", object), col("comparator", object)
    inc, yearly, flag = col("inc", bool), col("yearly", bool), mode == "flag"
    share = u["share"].to_numpy(dtype=float)
    t = col("target_value") * share
    tol = np.nan_to_num(col("tolerance")) * share
    b = np.where(yearly, 0.0, col("b_raw") * share)  # annual targets and flow caps start from 0 each year
    b_pos, d_pos, dm = col("b_pos"), col("d_pos"), col("dm", np.int64)
    ms = P["ms"].tolist()
    if any(ms):
        ms = [[(p, v * f) for p, v in m] for m, f in zip(ms, share, strict=True)]
    # the judged calendar year of annual targets and flow caps: as_of's, kept within start..deadline;
    # months_in = its months gone (0 before the first year, 12 once the last one is over)
    Y = np.clip(as_of.year, col("start_year", np.int64), col("deadline_year", np.int64))
    months_in = np.where(as_of.year > Y, 12, np.where(as_of.year < Y, 0, as_of.month))

    # --- the figures
    fig = _figures(con, units, Y, yearly, set(tg["fp"].tolist()), M, W)
    sm = fig.summary
    has = ~np.isnan(sm["latest"])
    latest = np.where(has, sm["latest"], -1).astype(np.int64)
    total = np.nan_to_num(sm["total"])
    latest_lv = sm["latest_lv"]
    n_reports = np.where(sm["latest_bucket"] == sm["latest"], sm["latest_n"], np.nan)
    actual = np.select(
        [mode == "total", mode == "ytd"],
        [
            np.where(inc, total, latest_lv),
            np.where(inc, np.nan_to_num(sm["ytd_s"]), sm["end_lv"] - np.nan_to_num(sm["prev_lv"])),
        ],
        np.where(inc, b + total, latest_lv),
    )
    actual = np.where(has, actual, np.nan)

    # --- the judged series over the trend window (G x W, NaN = no figure that month) and its trend
    monthly = fig.window
    seen = ~np.isnan(monthly)
    S = np.nan_to_num(monthly)
    running = (total - S.sum(axis=1))[:, None] + np.cumsum(S, axis=1)  # running total at each month
    running = running + np.where(mode == "total", 0.0, b)[:, None]
    judged = np.where(seen, np.where(inc[:, None], running, monthly), np.nan)
    slope, slope_lo, slope_hi, intercept = theil_sen(judged)
    n_trend = W - np.where(seen.any(axis=1), seen.argmax(axis=1), W)
    # flows: what is done is done, only the future rate is estimated; levels: the fitted line at as_of
    anchor = np.where(mode == "level", intercept + slope * (W - 1), actual)
    horizon_end = np.where(yearly, Y * 12 + 11, dm)
    h = np.where(yearly, 12 - months_in, np.maximum(dm - M, 0))
    ceiling = np.where(np.isin(P["unit_zh"].to_numpy(dtype=object), _PCT_UNITS), 100.0, np.inf)
    forecast, f_lo, f_hi = (
        np.where(flag, np.nan, np.clip(anchor + sl * h, 0.0, ceiling)) for sl in (slope, slope_lo, slope_hi)
    )

    # --- plan, progress, time
    expected = _expected(kind, mode, t, b, b_pos, d_pos, dm, months_in, ms, np.full(G, M + 1.0))
    with np.errstate(invalid="ignore", divide="ignore"):
        span = np.where(t != b, t - b, np.nan)
        progress = np.where(flag, actual, (actual - b) / span)
        p_f = (forecast - b) / span
        e_span = expected - b
        p_e = np.where(e_span != 0, (actual - b) / np.where(e_span != 0, e_span, 1.0), 1.0)
        linear_elapsed = np.clip((M + 1 - b_pos) / (d_pos - b_pos), 0.0, 1.0)
    time_elapsed = np.where(yearly, months_in / 12.0, linear_elapsed)

    # --- status, first matching rule wins (docs/progress.md)
    thr = float(th.at_risk)
    past = dm < M
    stale = has & (np.minimum(M, dm) - latest >= th.stale_months)
    le, approx = comp == "<=", comp == "~"
    with np.errstate(invalid="ignore"):
        met = np.select([approx, le], [np.abs(actual - t) <= tol, actual <= t], actual >= t)
        on_f = np.select([approx, le], [np.abs(forecast - t) <= tol, forecast <= t], forecast >= t)
        risk_f = np.where(approx, (p_f >= thr) & (p_f <= 2 - thr), p_f >= thr)
        on_e = np.where(approx, np.abs(actual - expected) <= tol, p_e >= 1.0)
        risk_e = np.where(approx, (p_e >= thr) & (p_e <= 2 - thr), p_e >= thr)
        has_f = ~np.isnan(forecast)
        sticky = (kind == "cumulative") | flag  # cannot be undone: stays achieved when reporting stops
        warn = dm - (_MILESTONE_WARNING_MONTHS - 1) <= M
        status_goal = np.select(
            [
                ~has, met & sticky, stale, met, past, flag & warn, flag,
                has_f & on_f, has_f & risk_f, has_f, on_e, risk_e,
            ],
            [
                "no_data", "achieved", "no_data", "achieved", "overdue", "at_risk", "on_track",
                "on_track", "at_risk", "off_track", "on_track", "at_risk",
            ],
            "off_track",
        )  # fmt: skip
        exceeded = actual > t
        period_done = np.where(mode == "ytd", months_in == 12, dm <= M)
        status_cap = np.select(
            [
                ~has, stale, exceeded & past, exceeded, past | period_done,
                has_f & (forecast <= t), has_f & (forecast < t / thr), has_f,
                actual <= expected, actual < expected / thr,
            ],
            [
                "no_data", "no_data", "overdue", "off_track", "achieved",
                "on_track", "at_risk", "off_track", "on_track", "at_risk",
            ],
            "off_track",
        )  # fmt: skip
        is_cap = kind == "cap"
        status = np.where(is_cap, status_cap, status_goal)
        progress = np.where(is_cap, actual / np.where(t != 0, t, np.nan), progress)

    years = _past_years(fig.years, G, P, t, inc, mode, yearly, as_of)
    n_scope = np.where(share < 1, np.round(1 / share), 1).astype(np.int64)
    trend_months = np.where(np.isnan(slope), np.nan, n_trend)
    reason_zh, reason_en = _reasons(
        {
            "status": status, "kind": kind, "mode": mode, "comparator": comp, "actual": actual,
            "expected": expected, "forecast": forecast, "target": t, "tolerance": tol,
            "unit_zh": P["unit_zh"].to_numpy(dtype=object), "unit_en": P["unit_en"].to_numpy(dtype=object),
            "value_type": P["value_type"].to_numpy(dtype=object), "dm": dm, "latest": latest,
            "trend_months": trend_months, "year": Y, "months_in": months_in,
            "is_aggregate": u["is_aggregate"].to_numpy(dtype=bool), "n_scope": n_scope, "years": years,
            "ti": u["ti"].to_numpy(dtype=np.int64),
        },
        M,
    )  # fmt: skip

    out = P[["target_id", "kpi_id", "section", "name_zh", "name_en", "unit_zh", "unit_en", "kind", "comparator"]]
    computed = pd.DataFrame(
        {
            "deadline": P["deadline"].to_numpy(dtype=object),
            "target_value": t,
            "tolerance": np.where(approx, tol, np.nan),
            "baseline_value": b,
            "actual": actual,
            "as_of": np.full(G, as_of, dtype=object),
            "latest_period": _dates(latest),
            "expected": expected,
            "progress": progress,
            "time_elapsed": time_elapsed,
            "forecast": forecast,
            "forecast_low": f_lo,
            "forecast_high": f_hi,
            "status": status,
            "reason_zh": reason_zh,
            "reason_en": reason_en,
            "lead_bureau": P["lead_bureau"].to_numpy(dtype=object),
            "co_bureaus": P["co_bureaus"].to_numpy(dtype=object),
            "district_id": u["unit_id"].to_numpy(dtype=object),
            "is_aggregate": u["is_aggregate"].to_numpy(dtype=bool),
            "target_share": share,
            "n_reports": n_reports,
            "trend_months": trend_months,
            "years": years,
            "_mode": mode,
            "_slope": slope,
            "_slope_low": slope_lo,
            "_slope_high": slope_hi,
            "_anchor": anchor,
            "_horizon_end": horizon_end,
            "_fp": col("fp", np.int64),
            "_inc": inc,
            "_b_pos": b_pos,
            "_d_pos": d_pos,
            "_dm": dm,
            "_ms": ms,
            "_year": Y,
            "_start_year": col("start_year", np.int64),
        }
    )
    return pd.concat([out, computed], axis=1)


def _past_years(
    years: pd.DataFrame, G: int, P: pd.DataFrame, t: np.ndarray, inc: np.ndarray, mode: np.ndarray,
    yearly: np.ndarray, as_of: dt.date,
) -> list[list[dict[str, object]] | None]:  # fmt: skip
    """For annual targets and flow caps: every complete calendar year from the target's start to its
    deadline, with what was achieved and whether it met the year's target (or stayed under the cap)."""
    out: list[list[dict[str, object]] | None] = [[] if y else None for y in yearly]
    if years.empty:
        return out
    g = years["g"].to_numpy(dtype=np.int64)
    yr = years["yr"].to_numpy(dtype=np.int64)
    s = years["s"].to_numpy(dtype=float)
    lv = years["lv"].to_numpy(dtype=float)
    same = np.r_[False, g[1:] == g[:-1]]
    prev_lv = np.where(same, np.r_[0.0, lv[:-1]], 0.0)  # closing level of the year before (rows by g, yr)
    value = np.where(mode[g] == "ytd", np.where(inc[g], s, lv - prev_lv), lv)
    start_year = P["start_year"].to_numpy(dtype=np.int64)
    last_year = np.minimum(as_of.year - 1, P["deadline_year"].to_numpy(dtype=np.int64))
    keep = (yr >= start_year[g]) & (yr <= last_year[g])
    is_cap = P["kind"].to_numpy(dtype=object)[g] == "cap"
    met = np.where(is_cap, value <= t[g], value >= t[g])
    gk = g[keep]
    if len(gk) == 0:
        return out
    records = [
        {"year": y, "actual": v, "target": target, "met": ok}
        for y, v, target, ok in zip(
            yr[keep].tolist(), value[keep].tolist(), t[gk].tolist(), met[keep].tolist(), strict=True
        )
    ]
    bounds = np.flatnonzero(gk[1:] != gk[:-1]) + 1
    for gi, lo, hi in zip(
        gk[np.r_[0, bounds]].tolist(), np.r_[0, bounds].tolist(), np.r_[bounds, len(gk)].tolist(), strict=True
    ):
        out[gi] = records[lo:hi]
    return out


# ---------------------------------------------------------------------------------------------- reasons


_WHOLE = ("count", "amount")
_MONTH_ABBR = ("", "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _shown(values: np.ndarray, value_type: np.ndarray) -> np.ndarray:
    """Counts and amounts are shown whole (a plan of 6,081.08 套 reads as 6,081套), others to 0.1."""
    whole = np.isin(value_type, _WHOLE)
    return np.where(whole, np.round(values), np.round(values, 1))


def _texts(values: np.ndarray, units: np.ndarray, formatter: Callable[[float, str], str]) -> list[str]:
    """formatter(value, unit) for every row, called once per distinct (value, unit)."""
    out = np.empty(len(values), dtype=object)
    for unit in set(units.tolist()):
        idx = np.flatnonzero(units == unit)
        distinct, inverse = np.unique(values[idx], return_inverse=True)
        out[idx] = np.array([formatter(v, unit) for v in distinct.tolist()], dtype=object)[inverse]
    return out.tolist()


def _goal(kind: str, mode: str, comp: str, tz: str, tolz: str, te: str, tole: str) -> tuple[str, str]:
    """How the target itself is named in a reason: 目标1.5万套, 年度上限5,000张, 目标30%左右（±2%）."""
    if comp == "~":
        return f"目标{tz}左右（±{tolz}）", f"target about {te} ± {tole}"
    if kind == "cap":
        return (f"年度上限{tz}", f"annual cap {te}") if mode == "ytd" else (f"上限{tz}", f"cap {te}")
    if kind == "annual":
        return f"年度目标{tz}", f"annual target {te}"
    return f"目标{tz}", f"target {te}"


def _per_row(keys: np.ndarray, make: Callable[[object], str]) -> list[str]:
    """make(key) for every row, called once per distinct key (months, spans, counts)."""
    distinct, inverse = np.unique(keys, return_inverse=True)
    return np.array([make(k) for k in distinct.tolist()], dtype=object)[inverse].tolist()


def _reasons(r: dict[str, np.ndarray | list], M: int) -> tuple[list[str], list[str]]:
    """One sentence per row in each language, with the figures behind the status.

    Text cannot be vectorised, so this is the one loop per row; every number, month and target name
    is formatted beforehand, once per distinct value (a province-scale heat map repeats the same
    targets, plans and months thousands of times), and the loop only picks and joins the pieces."""
    G = len(r["status"])
    vt = np.asarray(r["value_type"], dtype=object)
    uz, ue = np.asarray(r["unit_zh"], dtype=object), np.asarray(r["unit_en"], dtype=object)
    kind, mode = np.asarray(r["kind"], dtype=object), np.asarray(r["mode"], dtype=object)
    comp = np.asarray(r["comparator"], dtype=object)
    a, e, f, t, tol = (
        _shown(np.asarray(r[k], dtype=float), vt) for k in ("actual", "expected", "forecast", "target", "tolerance")
    )
    az, ae = _texts(a, uz, fmt.number_zh), _texts(a, ue, fmt.number_en)
    ez, ee = _texts(e, uz, fmt.number_zh), _texts(e, ue, fmt.number_en)
    fz, fe = _texts(f, uz, fmt.number_zh), _texts(f, ue, fmt.number_en)
    dm, latest = np.asarray(r["dm"], dtype=np.int64), np.asarray(r["latest"], dtype=np.int64)
    dz, de = _per_row(dm, lambda m: fmt.month_zh(_month(m))), _per_row(dm, lambda m: fmt.month_en(_month(m)))
    lz, le = (
        _per_row(latest, lambda m: fmt.month_zh(_month(m)) if m >= 0 else ""),
        _per_row(latest, lambda m: fmt.month_en(_month(m)) if m >= 0 else ""),
    )
    as_zh, as_en = fmt.month_zh(_month(M)), fmt.month_en(_month(M))
    # how the target is named: once per target and share (aggregate, district)
    key = np.asarray(r["ti"], dtype=np.int64) * 2 + (~np.asarray(r["is_aggregate"], dtype=bool))
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    goals = [
        _goal(
            kind[i],
            mode[i],
            comp[i],
            *(fmt.number_zh(v, uz[i]) for v in (t[i], tol[i])),
            *(fmt.number_en(v, ue[i]) for v in (t[i], tol[i])),
        )
        for i in first.tolist()
    ]
    gz = [goals[c][0] for c in inverse.tolist()]
    ge = [goals[c][1] for c in inverse.tolist()]
    span = np.asarray(r["year"], dtype=np.int64) * 100 + np.asarray(r["months_in"], dtype=np.int64)
    sz = _per_row(
        span, lambda s: "" if s % 100 == 0 else f"{s // 100}年1月" if s % 100 == 1 else f"{s // 100}年1—{s % 100}月"
    )
    se = _per_row(
        span,
        lambda s: (
            "" if s % 100 == 0 else f"Jan {s // 100}" if s % 100 == 1 else f"Jan–{_MONTH_ABBR[s % 100]} {s // 100}"
        ),
    )
    trend = np.nan_to_num(np.asarray(r["trend_months"], dtype=float)).astype(np.int64)
    gap = (M - latest).tolist()
    # what follows the sentence: last year's result (annual targets), the district's share
    suffix_zh, suffix_en = [""] * G, [""] * G
    agg, n_scope = np.asarray(r["is_aggregate"], dtype=bool), np.asarray(r["n_scope"], dtype=np.int64)
    for i, yrs in enumerate(r["years"]):
        if yrs:
            last = yrs[-1]
            shown = round(last["actual"]) if vt[i] in _WHOLE else round(last["actual"], 1)
            met_zh, met_en = ("达标", "met") if last["met"] else ("未达标", "missed")
            suffix_zh[i] = f"；{last['year']}年{fmt.number_zh(shown, uz[i])}（{met_zh}）"
            suffix_en[i] = f"; {last['year']}: {fmt.number_en(shown, ue[i])} ({met_en})"
    for i in np.flatnonzero(~agg & (n_scope > 1)).tolist():
        suffix_zh[i] += f"（旗区目标按全市目标在{n_scope[i]}个旗区间均分）"
        suffix_en[i] += f" (district target: an equal 1/{n_scope[i]} share of the whole target)"
    flow = ((mode == "ytd") | (kind == "annual")).tolist()
    level_cap = ((kind == "cap") & (mode != "ytd")).tolist()
    above_cap = ((kind == "cap") & (a > t)).tolist()
    no_trend = np.isnan(f).tolist()

    zh_out: list[str] = []
    en_out: list[str] = []
    rows = zip(
        np.asarray(r["status"], dtype=object).tolist(), kind.tolist(), mode.tolist(), comp.tolist(),
        az, ae, ez, ee, fz, fe, gz, ge, dz, de, lz, le, sz, se, np.asarray(r["year"]).tolist(), trend.tolist(), gap,
        latest.tolist(),
        suffix_zh, suffix_en, flow, level_cap, above_cap, no_trend,
        strict=True,
    )  # fmt: skip
    for (
        status, kd, md, cp, az_, ae_, ez_, ee_, fz_, fe_, gz_, ge_, dz_, de_, lz_, le_, sz_, se_, year, n, gap_, last_,
        sfx_zh, sfx_en, flow_, level_cap_, above_, no_trend_,
    ) in rows:  # fmt: skip
        if md == "flag":
            gz_, ge_ = f"截止时间{dz_}", f"due {de_}"
        if status == "no_data":
            if last_ < 0:
                zh_out.append(f"截至{as_zh}无数据（{gz_}）")
                en_out.append(f"No figures reported up to {as_en} ({ge_})")
            else:
                zh_out.append(f"最近数据为{lz_}，截至{as_zh}已连续{gap_}个月未报送（{gz_}）")
                en_out.append(f"Last figure {le_}; nothing reported for {gap_} months up to {as_en} ({ge_})")
            continue
        if md == "flag":
            if status == "achieved":
                zh_out.append(f"截至{as_zh}已完成（截止{dz_}）")
                en_out.append(f"As of {as_en}: done (due {de_})")
            elif status == "overdue":
                zh_out.append(f"截至{as_zh}仍未完成，已过截止时间{dz_}")
                en_out.append(f"As of {as_en}: still not done, due {de_}")
            else:
                zh_out.append(f"截至{as_zh}尚未完成，截止时间{dz_}")
                en_out.append(f"As of {as_en}: not yet done, due {de_}")
            continue
        if md == "ytd" and sz_ == "":  # the first judged year has not begun
            zh, en = f"{year}年起按年考核，尚未开始", f"Judged by calendar year from {year}, not started yet"
        elif md == "ytd":
            zh, en = f"{sz_}累计{az_}", f"{se_}: {ae_}"
        elif md == "total":
            zh, en = f"截至{as_zh}累计完成{az_}", f"As of {as_en}: {ae_} to date"
        else:
            zh, en = f"截至{as_zh}为{az_}", f"As of {as_en}: {ae_}"
        if status == "achieved":
            if kd == "cap":
                zh, en = f"{zh}，未超过{gz_}", f"{en}, within the {ge_}"
            elif cp == "~":
                zh, en = f"{zh}，在{gz_}范围内", f"{en}, within the {ge_}"
            else:
                zh, en = f"{zh}，已达到{gz_}", f"{en}, {ge_} reached"
        elif status == "overdue":
            if kd == "cap":
                zh, en = f"{zh}，超过{gz_}", f"{en}, above the {ge_}"
            else:
                zh, en = f"{zh}，截止{dz_}未完成{gz_}", f"{en}, {ge_} missed at {de_}"
        elif above_:
            zh, en = f"{zh}，已超过{gz_}", f"{en}, already above the {ge_}"
        else:
            if level_cap_ or sz_ == "":
                pass  # a level cap has no plan but the cap itself; a year not begun has none yet
            elif kd == "cap":
                zh, en = f"{zh}，按限额进度为{ez_}", f"{en} against a pro-rata allowance of {ee_}"
            elif flow_:
                zh, en = f"{zh}，按进度应达{ez_}", f"{en} against {ee_} planned"
            else:
                zh, en = f"{zh}，按计划应达{ez_}", f"{en} against {ee_} planned"
            if no_trend_:  # fewer than two figures in the trend window
                zh, en = (
                    f"{zh}；近期数据不足，无法测算趋势（{gz_}）",
                    f"{en}; too few recent figures for a trend ({ge_})",
                )
            elif flow_:
                zh = f"{zh}；按近{n}个月趋势预计全年{fz_}（{gz_}）"
                en = f"{en}; the {n}-month trend projects {fe_} for the year ({ge_})"
            else:
                zh = f"{zh}；按近{n}个月趋势预计{dz_}达{fz_}（{gz_}）"
                en = f"{en}; the {n}-month trend projects {fe_} by {de_} ({ge_})"
        zh_out.append(zh + sfx_zh)
        en_out.append(en + sfx_en)
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
    Thresholds come from ``cfg.thresholds`` (targets.yaml), defaults otherwise.

    Columns: SCORECARD_COLUMNS, in that order. ``status`` is one of STATUSES; ``years`` lists the
    complete calendar years of annual targets and flow caps ({year, actual, target, met}), else None.
    Rows follow targets.yaml, each target's aggregate first, then its districts in targets.yaml order."""
    out = _evaluate(con, as_of, cfg=cfg, district=district, all_units=all_units)
    return out[list(SCORECARD_COLUMNS)].reset_index(drop=True)


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
    months_in = np.where(yrs > dyear, 12, np.where(yrs < int(row["_start_year"]), 0, months % 12 + 1))
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
        first = M
        if (mode == "ytd" or row["kind"] == "annual") and int(row["_year"]) * 12 > M:
            first = int(row["_year"]) * 12 - 1  # the judged year has not begun: its line starts at 0
        steps = np.arange(max(first, M), max(h_end, M) + 1, dtype=np.int64)
        k = (steps - first).astype(float)
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
