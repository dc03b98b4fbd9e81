"""The status of every unit and its progress: the rules of docs/progress.md, first matching rule wins.

Goals (at least, at most, about) and caps have their own rule lists; both read a ``Standing`` (what
was done, what was planned, where the trend leads) against the unit's ``Plan``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from monitor.progress.plan import Plan
from monitor.style import STATUS_ORDER
from monitor.targets import Thresholds

# One definition of the statuses for the engine, the app and the exports: worst first (style), words (i18n).
STATUSES: tuple[str, ...] = STATUS_ORDER

MILESTONE_WARNING_MONTHS = 3  # a milestone not done in its last 3 months is at risk


@dataclass(frozen=True)
class Standing:
    """Where every unit stands as of the month judged (one entry per unit).

    ``reported``: any figure at all; ``latest``: month index of the last figure (-1 = none);
    ``actual``: the judged figure; ``expected``: the plan; ``forecast``: the trend at the horizon;
    ``months_in``: months gone of the judged year (yearly targets)."""

    reported: np.ndarray
    latest: np.ndarray
    actual: np.ndarray
    expected: np.ndarray
    forecast: np.ndarray
    months_in: np.ndarray


def _goal_status(
    plan: Plan, standing: Standing, met: np.ndarray, stale: np.ndarray, past: np.ndarray, thresholds: Thresholds,
    as_of_month: int,
) -> np.ndarray:  # fmt: skip
    """Targets to reach (or stay about): achieved, overdue, then the trend, then the plan."""
    at_risk = float(thresholds.at_risk)
    target, tolerance = plan.target, plan.tolerance
    actual, expected, forecast, baseline = standing.actual, standing.expected, standing.forecast, plan.baseline
    at_most, about = plan.comparator == "<=", plan.comparator == "~"
    flag = plan.mode == "flag"
    with np.errstate(invalid="ignore", divide="ignore"):
        span = np.where(target != baseline, target - baseline, np.nan)
        forecast_share = (forecast - baseline) / span
        plan_span = expected - baseline
        plan_share = np.where(plan_span != 0, (actual - baseline) / np.where(plan_span != 0, plan_span, 1.0), 1.0)
        # 左右: only falling short of the range can lag; at or above its lower end is on course
        on_forecast = np.select(
            [about, at_most], [forecast >= target - tolerance, forecast <= target], forecast >= target
        )
        risk_forecast = forecast_share >= at_risk
        on_plan = np.where(about, actual >= expected - tolerance, plan_share >= 1.0)
        risk_plan = plan_share >= at_risk
        has_forecast = ~np.isnan(forecast)
        sticky = (plan.kind == "cumulative") | flag  # cannot be undone: stays achieved when reporting stops
        warn = plan.deadline_month - (MILESTONE_WARNING_MONTHS - 1) <= as_of_month
        reported = standing.reported
        return np.select(
            [
                ~reported, met & sticky, stale, met, past, flag & warn, flag,
                has_forecast & on_forecast, has_forecast & risk_forecast, has_forecast, on_plan, risk_plan,
            ],
            [
                "no_data", "achieved", "no_data", "achieved", "overdue", "at_risk", "on_track",
                "on_track", "at_risk", "off_track", "on_track", "at_risk",
            ],
            "off_track",
        )  # fmt: skip


def _cap_status(
    plan: Plan, standing: Standing, stale: np.ndarray, past: np.ndarray, thresholds: Thresholds, as_of_month: int
) -> np.ndarray:
    """Caps: above the cap is off track (overdue once the period is over), within it at the end achieved."""
    at_risk = float(thresholds.at_risk)
    target, actual, expected, forecast = plan.target, standing.actual, standing.expected, standing.forecast
    with np.errstate(invalid="ignore", divide="ignore"):
        exceeded = actual > target
        period_done = np.where(plan.mode == "ytd", standing.months_in == 12, plan.deadline_month <= as_of_month)
        has_forecast = ~np.isnan(forecast)
        return np.select(
            [
                ~standing.reported, stale, exceeded & past, exceeded, past | period_done,
                has_forecast & (forecast <= target), has_forecast & (forecast < target / at_risk), has_forecast,
                actual <= expected, actual < expected / at_risk,
            ],
            [
                "no_data", "no_data", "overdue", "off_track", "achieved",
                "on_track", "at_risk", "off_track", "on_track", "at_risk",
            ],
            "off_track",
        )  # fmt: skip


def _floor_status(plan: Plan, standing: Standing, stale: np.ndarray, past: np.ndarray, as_of_month: int) -> np.ndarray:
    """Floors (a minimum every judged year, 不低于): below it is off track (overdue once the deadline
    has passed); at or above it, achieved at the deadline, at risk when the trend falls below it by
    the end of the year, on track otherwise."""
    target, actual, forecast = plan.target, standing.actual, standing.forecast
    with np.errstate(invalid="ignore"):
        below = actual < target
        falling = ~np.isnan(forecast) & (forecast < target)
        return np.select(
            [~standing.reported, stale, below & past, below, plan.deadline_month <= as_of_month, falling],
            ["no_data", "no_data", "overdue", "off_track", "achieved", "at_risk"],
            "on_track",
        )


def judge(plan: Plan, standing: Standing, thresholds: Thresholds, as_of_month: int) -> tuple[np.ndarray, np.ndarray]:
    """(status, progress) of every unit. Progress is the share of the way from baseline to target
    (milestones: 0/1; caps: the share of the cap used)."""
    target, actual, baseline = plan.target, standing.actual, plan.baseline
    past = plan.deadline_month < as_of_month
    # Stale: nothing reported in the last stale_months months up to the as-of month. Only a yearly
    # target past its deadline year is judged on a closed year (figures after it do not count), so its
    # window ends at the deadline; everything else (a milestone above all) is judged on its latest
    # figure now, and an old "not done" says nothing about today.
    window_end = np.where(plan.yearly, np.minimum(as_of_month, plan.deadline_month), as_of_month)
    stale = standing.reported & (window_end - standing.latest >= thresholds.stale_months)
    with np.errstate(invalid="ignore", divide="ignore"):
        met = np.select(
            [plan.comparator == "~", plan.comparator == "<="],
            [actual >= target - plan.tolerance, actual <= target],  # 左右: in the range or above it
            actual >= target,
        )
        span = np.where(target != baseline, target - baseline, np.nan)
        progress = np.where(plan.mode == "flag", actual, (actual - baseline) / span)
        is_cap = plan.kind == "cap"
        status = np.select(
            [is_cap, plan.kind == "floor"],
            [
                _cap_status(plan, standing, stale, past, thresholds, as_of_month),
                _floor_status(plan, standing, stale, past, as_of_month),
            ],
            _goal_status(plan, standing, met, stale, past, thresholds, as_of_month),
        )
        progress = np.where(is_cap, actual / np.where(target != 0, target, np.nan), progress)
    return status, progress
