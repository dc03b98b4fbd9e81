"""The engine: every target (and, on request, every reporting unit) judged at once as of a month.

All units are judged together because the overview, the heat map and the briefing all need the whole
picture and a per-target query would not scale to a province: the figures query reduces the
observations in one pass (figures.py), numpy does the rest column-wise (plan, trend, status), and
only the one-sentence reasons are built row by row (reasons.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd

from monitor.progress.figures import Figures, judged_figure, reduce_figures
from monitor.progress.members import member_counts
from monitor.progress.months import month_dates, month_index, month_start
from monitor.progress.plan import (
    Plan,
    calendar_years,
    expected,
    for_year,
    judged_year,
    past_years,
    time_elapsed,
    year_figures,
    year_offset,
)
from monitor.progress.reasons import ReasonInputs, reasons
from monitor.progress.status import Standing, judge
from monitor.progress.trend import Trend, TrendLine, fit_trend, trend_line
from monitor.progress.units import Units, judged_units, load_targets, reporting_districts, resolve_district
from monitor.targets import CITY, TargetsConfig, Thresholds

SCORECARD_COLUMNS: tuple[str, ...] = (
    "target_id", "kpi_id", "section", "name_zh", "name_en", "unit_zh", "unit_en", "kind", "comparator",
    "deadline", "target_value", "tolerance", "baseline_value", "actual", "as_of", "latest_period",
    "expected", "progress", "time_elapsed", "forecast", "forecast_low", "forecast_high", "status",
    "reason_zh", "reason_en", "lead_bureau", "co_bureaus", "district_id", "is_aggregate", "target_share",
    "n_reports", "trend_months", "years", "calendar_years",
)  # fmt: skip

_TARGET_FIELDS = ["target_id", "kpi_id", "section", "name_zh", "name_en", "unit_zh", "unit_en", "kind", "comparator"]


@dataclass(frozen=True)
class UnitBasis:
    """What a chart of one judged unit needs beyond its scorecard row: the KPI and districts whose
    figures it sums, its plan, the month its forecast is for and its trend line (None = no trend)."""

    kpi_id: str
    districts: list[str]
    plan: Plan  # this unit's plan alone
    horizon_end: int
    line: TrendLine | None


@dataclass(frozen=True)
class Evaluation:
    """The scorecard rows (``frame``, SCORECARD_COLUMNS, at least one) and the typed per-unit figures
    behind them: the units and their members, the plan, the judged year and the trend."""

    frame: pd.DataFrame
    units: Units
    plan: Plan
    year: np.ndarray
    trend: Trend
    as_of_month: int

    def basis(self, unit: int) -> UnitBasis:
        """The chart basis of one unit (a row of ``frame``)."""
        return UnitBasis(
            kpi_id=str(self.frame["kpi_id"].iloc[unit]),
            districts=self.units.districts(unit),
            plan=self.plan.repeat(unit, 1),
            horizon_end=int(self.trend.horizon_end[unit]),
            line=trend_line(self.trend, self.plan, self.year, unit, self.as_of_month),
        )


def empty_scorecard() -> pd.DataFrame:
    """The scorecard when no target (or none for the district asked for) is judged."""
    return pd.DataFrame(columns=list(SCORECARD_COLUMNS))


@dataclass(frozen=True)
class _Reported:
    """What was reported up to the as-of month, per unit: any figure, the last month (-1 = none),
    the judged figure (NaN = none) and how many districts the last figure sums (NaN unless it is a
    single month inside the trend window)."""

    reported: np.ndarray
    latest: np.ndarray
    actual: np.ndarray
    n_reports: np.ndarray


def _reported(figures: Figures, plan: Plan) -> _Reported:
    reported = ~np.isnan(figures.latest)
    actual = judged_figure(
        plan.mode,
        plan.increments,
        plan.baseline,
        total=np.nan_to_num(figures.total),
        level=figures.latest_level,
        year_total=np.nan_to_num(figures.year_total),
        year_level=figures.year_level,
        prior_level=np.nan_to_num(figures.prior_level),
    )
    return _Reported(
        reported=reported,
        latest=np.where(reported, figures.latest, -1).astype(np.int64),
        actual=np.where(reported, actual, np.nan),
        n_reports=np.where(figures.latest_bucket == figures.latest, figures.latest_districts, np.nan),
    )


def evaluate(
    con: duckdb.DuckDBPyConnection,
    as_of: dt.date,
    *,
    cfg: TargetsConfig | None,
    district: str | None,
    all_units: bool,
    target_ids: Sequence[str] | None = None,
) -> Evaluation | None:
    """Everything scorecard() returns, plus the typed per-unit figures series() needs; None when no
    target is judged (unknown ids, or none in scope of the district)."""
    thresholds = cfg.thresholds if cfg is not None else Thresholds()
    as_of = month_start(as_of)
    as_of_month, window_months = month_index(as_of), max(int(thresholds.trend_months), 2)
    if district is not None:
        district = resolve_district(con, district, cfg)
        if district == CITY:
            district = None
    targets = load_targets(con, target_ids)
    if targets.empty:
        return None
    units = judged_units(targets, reporting_districts(con), district, all_units)
    if units.frame.empty:
        return None
    n_units = len(units.frame)
    params = targets.iloc[units.frame["target_row"].to_numpy(dtype=np.int64)].reset_index(drop=True)
    share = units.frame["share"].to_numpy(dtype=float)
    is_aggregate = units.frame["is_aggregate"].to_numpy(dtype=bool)
    plan = Plan.for_units(params, share)
    year, months_in = judged_year(as_of, plan)
    offset = year_offset(plan, year)
    this_year = for_year(plan, offset)  # the judged year's target (prorated in a yearly target's first year)
    unit_zh = params["unit_zh"].to_numpy(dtype=object)

    figures = reduce_figures(
        con,
        units,
        year,
        plan.yearly,
        set(targets["first_month"].tolist()),
        as_of_month,
        window_months,
        plan.start_year,
    )
    now = _reported(figures, plan)
    trend = fit_trend(
        figures.window, np.nan_to_num(figures.total), now.actual, plan, year, months_in, unit_zh, as_of_month
    )
    planned = expected(plan, months_in, np.full(n_units, as_of_month + 1.0), offset)
    standing = Standing(now.reported, now.latest, now.actual, planned, trend.forecast, months_in)
    status, progress = judge(this_year, standing, thresholds, as_of_month)
    by_year = year_figures(figures.years, plan)
    years = past_years(by_year, plan, as_of)
    trend_months = np.where(np.isnan(trend.slope), np.nan, trend.months)
    reason_zh, reason_en = reasons(
        ReasonInputs(
            status=status,
            plan=this_year,
            actual=now.actual,
            expected=planned,
            forecast=trend.forecast,
            unit_zh=unit_zh,
            unit_en=params["unit_en"].to_numpy(dtype=object),
            value_type=params["value_type"].to_numpy(dtype=object),
            latest=now.latest,
            trend_months=trend_months,
            year=year,
            months_in=months_in,
            year_offset=offset,
            is_aggregate=is_aggregate,
            share_note_zh=units.frame["share_note_zh"].to_numpy(dtype=object),
            share_note_en=units.frame["share_note_en"].to_numpy(dtype=object),
            years=years,
            target_row=units.frame["target_row"].to_numpy(dtype=np.int64),
            every_member=member_counts(con, units, now.latest),
        ),
        as_of_month,
    )

    computed = pd.DataFrame(
        {
            "deadline": params["deadline"].to_numpy(dtype=object),
            "target_value": this_year.target,
            "tolerance": np.where(plan.comparator == "~", plan.tolerance, np.nan),
            "baseline_value": plan.baseline,
            "actual": now.actual,
            "as_of": np.full(n_units, as_of, dtype=object),
            "latest_period": month_dates(now.latest),
            "expected": planned,
            "progress": progress,
            "time_elapsed": time_elapsed(plan, months_in, as_of_month, offset),
            "forecast": trend.forecast,
            "forecast_low": trend.forecast_low,
            "forecast_high": trend.forecast_high,
            "status": status,
            "reason_zh": reason_zh,
            "reason_en": reason_en,
            "lead_bureau": params["lead_bureau"].to_numpy(dtype=object),
            "co_bureaus": params["co_bureaus"].to_numpy(dtype=object),
            "district_id": units.frame["unit_id"].to_numpy(dtype=object),
            "is_aggregate": is_aggregate,
            "target_share": share,
            "n_reports": now.n_reports,
            "trend_months": trend_months,
            "years": years,
            "calendar_years": calendar_years(by_year, plan, as_of, now.actual, status),
        }
    )
    frame = pd.concat([params[_TARGET_FIELDS], computed], axis=1)
    return Evaluation(frame, units, plan, year, trend, as_of_month)
