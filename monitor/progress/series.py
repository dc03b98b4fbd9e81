"""The chart lines of one target: its judged figure month by month, its plan and its forecast band.

Everything comes from the scorecard's own evaluation of that unit (``Evaluation.basis``): the same
member districts, the same plan, the same trend, and the judged figure through the same
``figures.judged_figure``, so a chart can never show a figure the scorecard does not judge.
"""

from __future__ import annotations

import datetime as dt
import math

import duckdb
import numpy as np
import pandas as pd

from monitor.progress.evaluate import evaluate
from monitor.progress.figures import judged_figure, monthly_figures
from monitor.progress.months import month_date, month_index, month_start
from monitor.progress.plan import Plan, expected, year_offset
from monitor.targets import TargetsConfig

_COLUMNS = ["period", "actual", "expected", "forecast", "forecast_low", "forecast_high"]


def _judged_by_month(plan: Plan, months: np.ndarray, values: np.ndarray) -> np.ndarray:
    """The judged figure as of each reported month: running totals, this year's part, or the level."""
    years = months // 12
    by_year = pd.Series(values).groupby(years)
    closing = by_year.last()  # each year's closing figure: its successor's prior level
    every = plan.repeat(0, len(values))
    return judged_figure(
        every.mode,
        every.increments,
        every.baseline,
        total=np.cumsum(values),
        level=values,
        year_total=by_year.cumsum().to_numpy(),
        year_level=values,
        prior_level=closing.shift(1).reindex(years).fillna(0.0).to_numpy(),
    )


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
    as_of = month_start(as_of)
    as_of_month = month_index(as_of)
    evaluation = evaluate(con, as_of, cfg=cfg, district=district, all_units=False, target_ids=[target_id])
    if evaluation is None:
        raise KeyError(f"unknown target {target_id!r} (or not reported for district {district!r})")
    basis = evaluation.basis(0)
    plan = basis.plan
    reported, values = monthly_figures(con, basis.kpi_id, basis.districts, as_of)
    counted = reported >= int(plan.first_month[0])
    reported, values = reported[counted], values[counted]
    judged = _judged_by_month(plan, reported, values)

    start = math.floor(float(plan.baseline_pos[0]))
    end = max(int(plan.deadline_month[0]), basis.horizon_end, as_of_month)
    if len(reported):
        start = min(start, int(reported[0]))
    months = np.arange(start, end + 1, dtype=np.int64)
    years = months // 12
    months_in = np.where(
        years > int(plan.deadline_year[0]), 12, np.where(years < int(plan.start_year[0]), 0, months % 12 + 1)
    )
    every = plan.repeat(0, len(months))
    planned = expected(every, months_in, months + 1.0, year_offset(every, years))
    out = pd.DataFrame({"month": months, "expected": planned})
    out = out.merge(pd.DataFrame({"month": reported, "actual": judged}), on="month", how="left")
    if basis.line is not None:
        steps, (forecast, low, high) = basis.line.points(as_of_month)
        line = pd.DataFrame({"month": steps, "forecast": forecast, "forecast_low": low, "forecast_high": high})
        out = out.merge(line, on="month", how="left")
    else:
        out = out.assign(forecast=np.nan, forecast_low=np.nan, forecast_high=np.nan)
    out["period"] = [month_date(int(m)) for m in out["month"]]
    return out[_COLUMNS]
