"""The figures query: the reported observations reduced to the few figures per judged unit that the
rules need, and the one rule that turns them into the judged figure (``judged_figure``).

DuckDB reduces the observations to a few figures per unit and month bucket in one pass; everything
after that is numpy, column-wise. The chart lines (``series``) read one unit's figures month by month
(``monthly_figures``) and pass them through the same ``judged_figure`` as the scorecard.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from contextlib import ExitStack
from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd

from monitor import db
from monitor.progress.months import month_date
from monitor.progress.units import Units
from monitor.targets import CITY

# One pass over the observations into a temporary table of figures per judged unit and month bucket.
# Rows are summed per district and bucket (single months inside the trend window, whole years before
# it, cut again at the targets' baseline months), then per judged unit (one district, or the districts
# summed into an aggregate), from the figures leadership may see (visible_observations: approved
# submissions). The result equals reading the current_observations view (the latest revision of each
# kpi/district/month), but ranking every row of a province-scale table takes seconds while corrections
# are few: the later revisions are read first (a small filtered scan), and the one pass over the first
# figures leaves out the figures they replace, so the table is read once whatever the backend.
#
# Three kinds of rows make the district buckets ({current} is that revision rule over one range of
# months, see _CURRENT_SQL), because grouping millions of rows into a million buckets is most of the cost:
#   - before the horizon (no unit's judged year, no yearly unit's first year, not the window): one row
#     per district and stretch between baseline months, in the bucket of its last month. Only sums over
#     them and the levels of the last bucket before the horizon are ever read, and those come out the
#     same: a district's last figure before the horizon is its last in that bucket (reduce_figures);
#   - from the horizon to the window: the buckets themselves (years, cut at baseline months);
#   - the window's months: one figure per district and month already, passed through without grouping.
# KPIs of ``aggregation: all`` keep their buckets everywhere: their sum over buckets counts buckets.
_UNIT_BUCKETS_SQL = """
create temp table {unit_buckets} as
with {sources}
district_buckets as materialized (
    select o.kpi_id, o.district_id, {bucket_last} as bucket,
        sum(o.value) as summed, arg_max(o.value, o.period) as level, max(o.period) as last_period
    from ({current_old}) as o
    group by o.kpi_id, o.district_id{stretch}
    union all
    select o.kpi_id, o.district_id, {bucket_o} as bucket,
        sum(o.value) as summed, arg_max(o.value, o.period) as level, max(o.period) as last_period
    from ({current_mid}) as o
    group by o.kpi_id, o.district_id, bucket
    union all
    select o.kpi_id, o.district_id, year(o.period) * 12 + month(o.period) - 1 as bucket,
        o.value as summed, o.value as level, o.period as last_period
    from ({current_window}) as o
),
every_member_buckets as (
    -- aggregation all: each member's figures beside the last month any member reported in the bucket
    select m.unit, b.bucket, b.level, b.last_period, m.n_members,
        max(b.last_period) over (partition by m.unit, b.bucket) as bucket_last
    from district_buckets as b
    join {members} as m on m.kpi_id = b.kpi_id and m.district_id = b.district_id
    where m.every_member and b.bucket >= m.first_month
)
-- per unit and bucket: the sum, the last level (summed over districts), the last month, how many districts
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
-- aggregation all: 1 only when every member reported 1 for the bucket's last month (one silent is 0)
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

# DuckDB file: the later revisions (a small filtered scan); each range of months is then read on its own
# (_CURRENT_SQL), which the file's zone maps make cheap.
_REVISED_SQL = """
revised as (
    -- the latest of the later revisions of every corrected figure
    select o.kpi_id, o.district_id, o.period, arg_max(o.value, o.revision) as value
    from visible_observations as o
    where o.revision > ? and o.period <= ?{filters}
    group by o.kpi_id, o.district_id, o.period
),"""

# PostgreSQL: every filtered scan is a scan of the whole table on the server, so the figures are read
# once into DuckDB and every step reads that copy; the first revision comes from it too (any revision
# no later than the lowest read gives the same current figures).
_PG_SOURCES_SQL = """
visible as materialized (
    select o.kpi_id, o.district_id, o.period, o.value, o.revision
    from visible_observations as o
    where o.period <= ?{filters}
),
revised as (
    select o.kpi_id, o.district_id, o.period, arg_max(o.value, o.revision) as value
    from visible as o
    where o.revision > (select min(revision) from visible)
    group by o.kpi_id, o.district_id, o.period
),
current_figures as materialized (
    select o.kpi_id, o.district_id, o.period, o.value
    from visible as o
    anti join revised as r using (kpi_id, district_id, period)
    where o.revision = (select min(revision) from visible)
    union all
    select kpi_id, district_id, period, value
    from revised
),"""

# The current figures (revision rule above) of one range of months: the first figures no later
# revision replaces, and the revised ones.
_CURRENT_SQL = """
    select o.kpi_id, o.district_id, o.period, o.value
    from visible_observations as o
    anti join revised as r using (kpi_id, district_id, period)
    where o.revision = ?{months}{filters}
    union all
    select o.kpi_id, o.district_id, o.period, o.value
    from revised as o
    where true{months}
"""

# One row per unit: the figures every rule needs (judged_year = the judged calendar year) and the
# trend window.
_SUMMARY_SQL = """
select
    b.unit,
    sum(b.summed) as total,
    max(b.last_month)::double as latest,
    arg_max(b.level, b.last_month) as latest_level,
    arg_max(b.n_districts, b.last_month)::double as latest_districts,
    arg_max(b.bucket, b.last_month)::double as latest_bucket,
    sum(b.summed) filter (where b.bucket // 12 = u.judged_year) as year_total,
    arg_max(b.level, b.last_month) filter (where b.bucket // 12 <= u.judged_year) as year_level,
    arg_max(b.level, b.last_month) filter (where b.bucket // 12 < u.judged_year) as prior_level{window}
from {unit_buckets} as b
join {units} as u using (unit)
group by b.unit
order by b.unit
"""

# Annual targets and flow caps: each calendar year's sum and closing level.
_YEARS_SQL = """
select b.unit, b.bucket // 12 as cal_year, sum(b.summed) as summed, arg_max(b.level, b.last_month) as level
from {unit_buckets} as b
where b.unit in (select unit from {units} where yearly)
group by b.unit, cal_year
order by b.unit, cal_year
"""

_SUMMARY_COLUMNS = (
    "total", "latest", "latest_level", "latest_districts", "latest_bucket", "year_total", "year_level",
    "prior_level",
)  # fmt: skip


@dataclass(frozen=True)
class Figures:
    """The reported figures of every unit (one entry per unit, NaN = none), as of a month.

    ``total``: sum of all counted figures; ``latest``: month index of the last figure; ``latest_level``:
    that figure (summed over the unit's districts); ``latest_districts``: how many districts it sums;
    ``latest_bucket``: the bucket of the last figure (a single month inside the trend window);
    ``year_total``: the judged calendar year's sum; ``year_level``: the last level up to the end of
    the judged year; ``prior_level``: the last level before the judged year; ``window``: units x
    window months, each month's sum; ``years``: unit, cal_year, summed, level of annual targets and
    flow caps."""

    total: np.ndarray
    latest: np.ndarray
    latest_level: np.ndarray
    latest_districts: np.ndarray
    latest_bucket: np.ndarray
    year_total: np.ndarray
    year_level: np.ndarray
    prior_level: np.ndarray
    window: np.ndarray
    years: pd.DataFrame

    @classmethod
    def empty(cls, n_units: int, window_months: int) -> Figures:
        """No figure for any unit."""
        none = {c: np.full(n_units, np.nan) for c in _SUMMARY_COLUMNS}
        years = pd.DataFrame({"unit": [], "cal_year": [], "summed": [], "level": []})
        return cls(**none, window=np.full((n_units, window_months), np.nan), years=years)


def judged_figure(
    mode: np.ndarray,
    increments: np.ndarray,
    baseline: np.ndarray,
    *,
    total: np.ndarray,
    level: np.ndarray,
    year_total: np.ndarray,
    year_level: np.ndarray,
    prior_level: np.ndarray,
) -> np.ndarray:
    """The figure a target is judged on (docs/progress.md, "What is judged"), from what was reported
    up to a month: ``total`` the sum of the counted increments, ``level`` the last reported figure,
    ``year_total`` the judged year's increments, ``year_level`` the last figure of the judged year,
    ``prior_level`` the closing figure of the year before (0 if none).

    The scorecard calls it once for every unit as of one month, ``series`` once for every month of
    one unit: the one definition of the judged figure."""
    return np.select(
        [mode == "total", mode == "ytd"],
        [
            np.where(increments, total, level),
            np.where(increments, year_total, year_level - prior_level),
        ],
        np.where(increments, baseline + total, level),
    )


def _selective(values: pd.Series, column: str, limit: int = 64) -> tuple[str, list[str]]:
    """A filter on the observations when only a few KPIs or districts are wanted (a district page, a
    chart). For the whole scorecard the filter would cost more than it saves."""
    if values.nunique() > limit:
        return "", []
    wanted = sorted(str(v) for v in values.unique())
    return f" and o.{column} in ({', '.join('?' for _ in wanted)})", wanted


def every_member_kpis(con: duckdb.DuckDBPyConnection) -> set[str]:
    """The KPIs of ``aggregation: all``: a unit fed by several members is done only when all are."""
    return {str(r[0]) for r in con.execute("select kpi_id from kpis where aggregation = 'all'").fetchall()}


def _with_every_member(con: duckdb.DuckDBPyConnection, members: pd.DataFrame) -> pd.DataFrame:
    """The members with ``every_member`` (an aggregate of an ``all`` KPI: reduced by the minimum, not
    summed) and ``n_members`` (how many must report)."""
    unit = members["unit"].to_numpy(dtype=np.int64)
    n_members = np.bincount(unit, minlength=int(unit.max()) + 1 if len(unit) else 0)[unit]
    every_member = members["kpi_id"].isin(every_member_kpis(con)).to_numpy() & (n_members > 1)
    return members.assign(every_member=every_member, n_members=n_members.astype(np.int64))


def _first_revision(con: duckdb.DuckDBPyConnection) -> int | None:
    """The lowest revision in the table (None when it is empty): every row's revision is at least
    this, which is all the one-pass query needs (a figure with a higher revision is a correction).
    DuckDB file only: on PostgreSQL the figures query finds it in the rows it reads (_PG_SOURCES_SQL)."""
    found = db.scalar(con, "select min(revision) from observations")
    return None if found is None else int(found)  # type: ignore[call-overload]


def _horizon(window_start: int, judged_year: np.ndarray, yearly: np.ndarray, start_year: np.ndarray) -> int:
    """The first month whose buckets are read one by one (a month index): none before it is in the
    window, in a unit's judged year or in a yearly unit's years (from its first year on). Before it
    only sums and the last bucket's levels are read: per unit, total (a sum), and the levels of the
    last bucket with figures (latest, year_level, prior_level, the closing level of the year before a
    yearly unit's first year). Both come out of one row per district and stretch between baseline
    months placed in the bucket of its last month: the unit's last bucket is the one of its latest
    month, and a district has figures in that bucket exactly when its last figure is there."""
    horizon = window_start
    if len(judged_year):
        horizon = min(horizon, int(judged_year.min()) * 12)
    if yearly.any():
        horizon = min(horizon, int(start_year[yearly].min()) * 12)
    return horizon


def reduce_figures(
    con: duckdb.DuckDBPyConnection,
    units: Units,
    judged_year: np.ndarray,
    yearly: np.ndarray,
    cuts: Iterable[int],
    as_of_month: int,
    window_months: int,
    start_year: np.ndarray,
) -> Figures:
    """Reduce the observations to the few figures per unit the rules need (DuckDB does the heavy part).

    ``cuts`` are the targets' first counted months; ``window_months`` the length of the trend window
    that ends with ``as_of_month``; ``start_year`` each unit's first calendar year (yearly units'
    years are read from its January on)."""
    n_units = len(units.frame)
    as_of = month_date(as_of_month)
    on_postgres = db.is_postgres(con)
    first_revision = None if on_postgres else _first_revision(con)
    if (first_revision is None and not on_postgres) or units.members.empty:
        return Figures.empty(n_units, window_months)
    # Buckets: single months from the trend window on, calendar years before it, cut again at the
    # targets' baseline months (increments count from there).
    window_start = as_of_month - window_months + 1
    inner_cuts = sorted({int(c) for c in cuts if c % 12 and c < window_start}, reverse=True)
    horizon = _horizon(window_start, judged_year, yearly, start_year)
    members = _with_every_member(con, units.members)

    def bucket(period: str) -> tuple[str, list[object]]:
        params: list[object] = [month_date(window_start)]
        cases = [f"when {period} >= ? then year({period}) * 12 + month({period}) - 1"]
        for cut in inner_cuts:
            cases.append(f"when {period} >= ? then greatest(year({period}) * 12, ?)")
            params += [month_date(cut), cut]
        return f"case {' '.join(cases)} else year({period}) * 12 end", params

    # before the horizon: one stretch between each two baseline months (every cut, year-aligned ones too)
    stretches = sorted({int(c) for c in cuts if 0 < c < horizon}, reverse=True)
    cases = " ".join(f"when o.period >= ? then {k}" for k in range(len(stretches), 0, -1))
    stretch = f", case {cases} else 0 end" if stretches else ""
    stretch_params: list[object] = [month_date(c) for c in stretches]
    every_member = sorted({str(k) for k in members.loc[members["every_member"], "kpi_id"]})
    listed = ", ".join("?" for _ in every_member)
    old_months, mid_months = " and o.period < ?", " and o.period >= ? and o.period < ?"
    old_params: list[object] = [month_date(horizon)]
    mid_params: list[object] = [month_date(horizon), month_date(window_start)]
    if every_member:  # their buckets are kept before the horizon too
        old_months += f" and o.kpi_id not in ({listed})"
        old_params += every_member
        mid_months = f" and (o.period >= ? or o.kpi_id in ({listed})) and o.period < ?"
        mid_params = [month_date(horizon), *every_member, month_date(window_start)]
    window_months_sql = " and o.period >= ? and o.period <= ?"
    window_params: list[object] = [month_date(window_start), as_of]
    bucket_last, params_last = bucket("max(o.period)")
    bucket_o, params_o = bucket("o.period")
    tag = uuid.uuid4().hex[:12]
    names = {
        "members": f"progress_members_{tag}",
        "units": f"progress_units_{tag}",
        "unit_buckets": f"progress_buckets_{tag}",
    }
    frames = {
        names["members"]: members,
        names["units"]: pd.DataFrame(
            {
                "unit": np.arange(n_units, dtype=np.int64),
                "judged_year": judged_year.astype(np.int64),
                "yearly": yearly,
            }
        ),
    }
    kpi_filter, kpis = _selective(units.members["kpi_id"], "kpi_id")
    district_filter, districts = _selective(units.members["district_id"], "district_id")
    filters = kpi_filter + district_filter

    if on_postgres:
        sources, sources_params = _PG_SOURCES_SQL.format(filters=filters), [as_of, *kpis, *districts]
    else:
        sources, sources_params = _REVISED_SQL.format(filters=filters), [first_revision, as_of, *kpis, *districts]

    def current(months: str, months_params: list[object]) -> tuple[str, list[object]]:
        if on_postgres:
            return f"select * from current_figures as o where true{months}", months_params
        sql = _CURRENT_SQL.format(months=months, filters=filters)
        return sql, [first_revision, *months_params, *kpis, *districts, *months_params]

    current_old, params_old = current(old_months, old_params)
    current_mid, params_mid = current(mid_months, mid_params)
    current_window, params_window = current(window_months_sql, window_params)
    sql = _UNIT_BUCKETS_SQL.format(
        sources=sources, bucket_last=bucket_last, stretch=stretch, bucket_o=bucket_o, current_old=current_old,
        current_mid=current_mid, current_window=current_window, **names,
    )  # fmt: skip
    params = [
        *sources_params,
        *params_last, *params_old, *stretch_params,
        *params_o, *params_mid,
        *params_window,
    ]  # fmt: skip
    with ExitStack() as registered:
        for name, frame in frames.items():
            registered.enter_context(db.registered(con, name, frame))
        try:
            con.execute(sql, params)
            window = "".join(f",\n    sum(b.summed) filter (where b.bucket = ?) as w{k}" for k in range(window_months))
            summary = con.execute(
                _SUMMARY_SQL.format(window=window, **names), [window_start + k for k in range(window_months)]
            ).df()
            years = con.execute(_YEARS_SQL.format(**names)).df()
        finally:
            con.execute(f"drop table if exists {names['unit_buckets']}")
    if summary.empty:  # nothing reported up to as_of (or not for these units)
        return Figures.empty(n_units, window_months)
    found = summary["unit"].to_numpy(dtype=np.int64)
    columns = {}
    for c in _SUMMARY_COLUMNS:
        column = np.full(n_units, np.nan)
        column[found] = summary[c].to_numpy(dtype=float, na_value=np.nan)
        columns[c] = column
    window_sums = np.full((n_units, window_months), np.nan)
    window_sums[found] = summary[[f"w{k}" for k in range(window_months)]].to_numpy(dtype=float, na_value=np.nan)
    return Figures(**columns, window=window_sums, years=years)


@dataclass(frozen=True)
class MemberCount:
    """An ``all`` aggregate not judged done, in its last reported month: ``done`` of its ``total``
    members reported 1; ``missing_zh``/``missing_en`` name the others (silent or 0), city first."""

    done: int
    total: int
    missing_zh: tuple[str, ...]
    missing_en: tuple[str, ...]


# The city's own member of an ``all`` aggregate (its centre, body or office), beside the districts.
CITY_MEMBER = ("市本级", "city level")


def member_counts(con: duckdb.DuckDBPyConnection, units: Units, latest: np.ndarray) -> dict[int, MemberCount]:
    """For every aggregate of an ``all`` KPI with a figure (``latest`` >= 0, its last month), how many
    members reported 1 that month and which did not: the reason names them. Few units have one (one
    query each); every other unit is left out."""
    members = _with_every_member(con, units.members)
    unit = members["unit"].to_numpy(dtype=np.int64)
    wanted = members[members["every_member"].to_numpy(dtype=bool) & (latest[unit] >= 0)]
    if wanted.empty:
        return {}
    rows = con.execute("select district_id, name_zh, name_en from districts").fetchall()
    names = {str(d): (str(zh), str(en)) for d, zh, en in rows}
    names[CITY] = CITY_MEMBER
    counts: dict[int, MemberCount] = {}
    for unit_no, group in wanted.groupby("unit", sort=True):
        districts = [str(d) for d in group["district_id"]]
        done = {
            str(d)
            for (d,) in con.execute(
                """
                select district_id from current_observations
                where kpi_id = ? and period = ? and value = 1 and district_id in (select unnest(?::varchar[]))
                """,
                [str(group["kpi_id"].iloc[0]), month_date(int(latest[int(unit_no)])), districts],
            ).fetchall()
        }
        missing = [d for d in districts if d not in done]
        counts[int(unit_no)] = MemberCount(
            done=len(districts) - len(missing),
            total=len(districts),
            missing_zh=tuple(names.get(d, (d, d))[0] for d in missing),
            missing_en=tuple(names.get(d, (d, d))[1] for d in missing),
        )
    return counts


def monthly_figures(
    con: duckdb.DuckDBPyConnection, kpi_id: str, districts: list[str], as_of: dt.date
) -> tuple[np.ndarray, np.ndarray]:
    """(month indexes, figures) of one KPI summed over ``districts``, every reported month up to as_of
    (the current revision): the points of a chart. An ``all`` KPI takes the minimum instead, 0 in a
    month not every one of ``districts`` reported, as the scorecard does."""
    every_member = kpi_id in every_member_kpis(con)
    monthly = con.execute(
        """
        with cur as (
            select period, value
            from current_observations
            where kpi_id = ? and district_id in (select unnest(?::varchar[])) and period <= ?
        )
        select year(period) * 12 + month(period) - 1 as month_index,
            case when not ? then sum(value) when count(*) = ? then min(value) else 0 end as value
        from cur
        group by period
        order by month_index
        """,
        [kpi_id, districts, as_of, every_member, len(set(districts))],
    ).df()
    return monthly["month_index"].to_numpy(dtype=np.int64), monthly["value"].to_numpy(dtype=float)
