"""The figures query: the reported observations reduced to the few figures per judged unit that the
rules need, and the one rule that turns them into the judged figure (``judged_figure``).

DuckDB reduces the observations to a few figures per unit and month bucket: the few later revisions
first, then one pass over the figures (on PostgreSQL one scan of the table); everything after that is
numpy, column-wise. The chart lines (``series``) read one unit's figures month by month
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

from monitor import backend, db
from monitor.progress.members import every_member_kpis, with_every_member
from monitor.progress.months import month_date
from monitor.progress.units import Units

# The observations reduced to figures per judged unit and month bucket, in a temporary table. Rows are
# summed per district and bucket (single months inside the trend window, whole years before it, cut again
# at the targets' baseline months), then per judged unit (one district, or the districts summed into an
# aggregate), from the figures leadership may see (visible_observations: approved submissions). The result
# equals reading the current_observations view (the latest revision of each kpi/district/month), but
# ranking every row of a province-scale table takes seconds while corrections are few: the later
# revisions are read first into their own small table ({revised}, _REVISED_SQL), and the one pass over the
# first figures leaves out the figures they replace.
#
# The one pass groups each district's figures by a key, because grouping millions of rows into a million
# buckets is most of the cost:
#   - before the horizon (no unit's judged year, no yearly unit's first year, not the window): one group
#     per district and stretch between baseline months (a negative key), placed afterwards in the bucket of
#     its last month. Only sums over them and the levels of the last bucket before the horizon are ever
#     read, and those come out the same: a district's last figure before the horizon is its last in that
#     bucket (reduce_figures);
#   - from the horizon on: the buckets themselves (years cut at baseline months, single months in the
#     window: one current figure per district and month there).
# KPIs of ``aggregation: all`` keep their buckets everywhere: their sum over buckets counts buckets.
# On PostgreSQL the one pass is one scan of the table through the scanner (the filters on revision and
# period run on the server); three scans of ranges of months, or the rows held in DuckDB first, cost more.
_UNIT_BUCKETS_SQL = """
create temp table {unit_buckets} as
with keyed as (
    {keyed}
),
district_buckets as materialized (
    select kpi_id, district_id, case when key < 0 then {bucket_last} else key end as bucket,
        summed, level, last_period
    from keyed
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

# The later revisions: every visible figure whose revision is not the first (1, etl/load.py counts from
# there), reduced to its latest. A small filtered scan on both backends. ``lowest`` guards the rule: were
# any revision below 1 ever stored, the first revision is taken from the table instead (reduce_figures).
_REVISED_SQL = """
create temp table {revised} as
select o.kpi_id, o.district_id, o.period, arg_max(o.value, o.revision) as value, min(o.revision) as lowest
from visible_observations as o
where o.revision {compare} ? and o.period <= ?{filters}
group by o.kpi_id, o.district_id, o.period
"""

# One range of months (on the file each range is a scan its zone maps keep short; on PostgreSQL one range
# holds every month, as each range would be a scan of the whole table on the server): the current
# figures, the first ones no later revision replaces and the revised ones, grouped by district and key.
_RANGE_SQL = """
    select o.kpi_id, o.district_id, {key} as key,
        sum(o.value) as summed, arg_max(o.value, o.period) as level, max(o.period) as last_period
    from ({current}) as o
    group by all"""

# The window's months on the file: one current figure per district and month already, passed through.
_WINDOW_SQL = """
    select o.kpi_id, o.district_id, {key} as key, o.value as summed, o.value as level, o.period as last_period
    from ({current}) as o"""

_CURRENT_SQL = """
        select o.kpi_id, o.district_id, o.period, o.value
        from visible_observations as o
        anti join {revised} as r using (kpi_id, district_id, period)
        where o.revision = ? and o.period <= ?{months}{filters}
        union all
        select o.kpi_id, o.district_id, o.period, o.value
        from {revised} as o
        where true{months}
    """

# PostgreSQL: the same rows, found by PostgreSQL through its partial index on revision <> 1 (migration 8)
# instead of a scan of the whole table through the scanner; then the same visibility rule.
_REVISED_PG_SQL = """
create temp table {revised} as
select o.kpi_id, o.district_id, o.period, arg_max(o.value, o.revision) as value, min(o.revision) as lowest
from {later_revisions} as o
anti join hidden_submissions as hidden using (submission_id)
where o.period <= ?{filters}
group by o.kpi_id, o.district_id, o.period
"""

# Run inside PostgreSQL (its partial index has the same condition; 1 is FIRST_REVISION).
_LATER_REVISIONS_PG = (
    "select kpi_id, district_id, period, value, revision, submission_id from observations where revision <> 1"
)

# Revisions count from 1 (etl/load.py: one more than the figure's last, 0 when it has none).
FIRST_REVISION = 1

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


def _bucket(period: str, window_start: int, inner_cuts: list[int]) -> Sql:
    """The bucket (a month index) of ``period``, an SQL expression: its own month inside the trend
    window, else its calendar year, cut again at the targets' baseline months inside a year."""
    params: list[object] = [month_date(window_start)]
    cases = [f"when {period} >= ? then year({period}) * 12 + month({period}) - 1"]
    for cut in inner_cuts:
        cases.append(f"when {period} >= ? then greatest(year({period}) * 12, ?)")
        params += [month_date(cut), cut]
    return Sql(f"case {' '.join(cases)} else year({period}) * 12 end", params)


def _stretch_key(horizon: int, stretches: list[int], every_member: list[str], bucket: Sql) -> Sql:
    """The group key of a figure before the horizon: -1 minus the number of its stretch, except for
    ``every_member`` KPIs, which keep their ``bucket``."""
    cases = " ".join(f"when o.period >= ? then {k}" for k in range(len(stretches), 0, -1))
    stretch = f"-1 - case {cases} else 0 end" if stretches else "-1"
    stretch_params: list[object] = [month_date(c) for c in stretches]
    if not every_member:
        return Sql(stretch, stretch_params)
    listed = ", ".join("?" for _ in every_member)
    return Sql(
        f"case when o.kpi_id in ({listed}) then {bucket.sql} else {stretch} end",
        [*every_member, *bucket.params, *stretch_params],
    )


def _ranges(on_postgres: bool, horizon: int, window_start: int, stretch_key: Sql, bucket: Sql) -> list[Range]:
    """The ranges of months the one pass reads, each with its group key. The file: before the horizon,
    from it to the window, the window (each a scan its zone maps keep short). PostgreSQL: every month in
    one range, as each range would be a scan of the whole table on the server."""
    if on_postgres:
        key = Sql(
            f"case when o.period < ? then {stretch_key.sql} else {bucket.sql} end",
            [month_date(horizon), *stretch_key.params, *bucket.params],
        )
        return [Range(None, None, key, grouped=True)]
    month = Sql("year(o.period) * 12 + month(o.period) - 1", [])
    return [
        Range(None, horizon, stretch_key, grouped=True),
        Range(horizon, window_start, bucket, grouped=True),
        Range(window_start, None, month, grouped=False),
    ]


@dataclass(frozen=True)
class Sql:
    """An SQL expression and the values bound to its ``?``, in order."""

    sql: str
    params: list[object]


@dataclass(frozen=True)
class Range:
    """A range of months [low, high) (None = open) read by the one pass, and its group key; the
    window's months are passed through ungrouped (one figure per district and month already)."""

    low: int | None
    high: int | None
    key: Sql
    grouped: bool

    def sql(self, revised: str, first: int, as_of: dt.date, filters: Sql) -> Sql:
        """This range's current figures (_CURRENT_SQL: revision ``first`` unless ``revised`` replaces
        them, up to ``as_of``), grouped by district and key (_RANGE_SQL) or passed through (_WINDOW_SQL)."""
        months = (" and o.period >= ?" if self.low is not None else "") + (
            " and o.period < ?" if self.high is not None else ""
        )
        bounds = [month_date(m) for m in (self.low, self.high) if m is not None]
        current = _CURRENT_SQL.format(revised=revised, months=months, filters=filters.sql)
        template = _RANGE_SQL if self.grouped else _WINDOW_SQL
        params = [*self.key.params, first, as_of, *bounds, *filters.params, *bounds]
        return Sql(template.format(key=self.key.sql, current=current), params)


def _revised(
    con: duckdb.DuckDBPyConnection, name: str, as_of: dt.date, filters: str, filter_params: list[object]
) -> int:
    """Fill the temporary table ``name`` with the later revisions (_REVISED_SQL) and return the first
    revision: FIRST_REVISION, or the lowest stored when a lower one exists (then the table is filled
    again with every revision above that one)."""
    if db.is_postgres(con):
        sql = _REVISED_PG_SQL.format(revised=name, later_revisions=backend.pg_relation(), filters=filters)
        con.execute(sql, [_LATER_REVISIONS_PG, as_of, *filter_params])
    else:
        sql = _REVISED_SQL.format(revised=name, compare="<>", filters=filters)
        con.execute(sql, [FIRST_REVISION, as_of, *filter_params])
    lowest = con.execute(f"select min(lowest) from {name}").fetchone()
    if lowest is None or lowest[0] is None or int(lowest[0]) >= FIRST_REVISION:
        return FIRST_REVISION
    first = int(lowest[0])
    con.execute(f"drop table {name}")
    con.execute(_REVISED_SQL.format(revised=name, compare=">", filters=filters), [first, as_of, *filter_params])
    return first


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
    if units.members.empty:
        return Figures.empty(n_units, window_months)
    as_of = month_date(as_of_month)
    # Buckets: single months from the trend window on, calendar years before it, cut again at the
    # targets' baseline months (increments count from there).
    window_start = as_of_month - window_months + 1
    inner_cuts = sorted({int(c) for c in cuts if c % 12 and c < window_start}, reverse=True)
    horizon = _horizon(window_start, judged_year, yearly, start_year)
    members = with_every_member(con, units.members)
    # before the horizon: one stretch between each two baseline months (every cut, year-aligned ones too)
    stretches = sorted({int(c) for c in cuts if 0 < c < horizon}, reverse=True)
    every_member = sorted({str(k) for k in members.loc[members["every_member"], "kpi_id"]})
    bucket_last = _bucket("last_period", window_start, inner_cuts)
    bucket = _bucket("o.period", window_start, inner_cuts)
    stretch_key = _stretch_key(horizon, stretches, every_member, bucket)
    ranges = _ranges(db.is_postgres(con), horizon, window_start, stretch_key, bucket)
    tag = uuid.uuid4().hex[:12]
    names = {
        "members": f"progress_members_{tag}",
        "units": f"progress_units_{tag}",
        "unit_buckets": f"progress_buckets_{tag}",
        "revised": f"progress_revised_{tag}",
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
    filters, filter_params = kpi_filter + district_filter, [*kpis, *districts]
    with ExitStack() as registered:
        for name, frame in frames.items():
            registered.enter_context(db.registered(con, name, frame))
        try:
            first = _revised(con, names["revised"], as_of, filters, filter_params)
            parts = [r.sql(names["revised"], first, as_of, Sql(filters, filter_params)) for r in ranges]
            keyed = "\n    union all".join(part.sql for part in parts)
            sql = _UNIT_BUCKETS_SQL.format(keyed=keyed, bucket_last=bucket_last.sql, **names)
            con.execute(sql, [*(p for part in parts for p in part.params), *bucket_last.params])
            window = "".join(f",\n    sum(b.summed) filter (where b.bucket = ?) as w{k}" for k in range(window_months))
            summary = con.execute(
                _SUMMARY_SQL.format(window=window, **names), [window_start + k for k in range(window_months)]
            ).df()
            years = con.execute(_YEARS_SQL.format(**names)).df()
        finally:
            con.execute(f"drop table if exists {names['unit_buckets']}")
            con.execute(f"drop table if exists {names['revised']}")
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
