"""The trend: a Theil–Sen fit over the last months of each unit, and the forecast it gives.

Theil–Sen (the median of the pairwise slopes) shrugs off one odd month, and the 10th–90th
percentiles of the same slopes give the forecast band. Vectorised over units: the pairs are a fixed
set of column pairs of the units x months window.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from monitor.progress.plan import Plan

BAND = (0.10, 0.90)  # forecast band: 10th-90th percentile of the pairwise slopes
PERCENT_UNITS = ("%",)  # forecasts of a percentage stop at 100


def _quantiles(ordered: np.ndarray, qs: Sequence[float]) -> list[np.ndarray]:
    """Quantiles of each column of ``ordered`` (values x rows, each column sorted, NaN last) ignoring
    NaN, by linear interpolation as numpy's default, without nanquantile's per-row Python loop:
    index by each column's count of figures."""
    n_values, n_rows = ordered.shape
    if n_values == 0:
        return [np.full(n_rows, np.nan) for _ in qs]
    count = np.count_nonzero(~np.isnan(ordered), axis=0)
    last = np.maximum(count - 1, 0)
    rows = np.arange(n_rows)
    out = []
    for q in qs:
        pos = q * last
        lo = np.floor(pos).astype(np.int64)
        hi = np.minimum(lo + 1, last)
        below = ordered[lo, rows]
        value = below + (ordered[hi, rows] - below) * (pos - lo)
        out.append(np.where(count > 0, value, np.nan))
    return out


def _sorted_columns(values: np.ndarray) -> np.ndarray:
    """``values`` sorted along axis 0 (NaN last), sorted in place: a column-wise sort of a values x rows
    array is several times faster than a row-wise sort of its rows x values transpose."""
    values.sort(axis=0)
    return values


def theil_sen(y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Theil–Sen fit of each row of y (x = column index, NaN = no figure that month).

    Returns (slope, slope_low, slope_high, intercept): the median of the pairwise slopes, their 10th
    and 90th percentiles (the band) and the median of y - slope * x. Rows with fewer than two
    figures get NaN. Vectorised over rows: the slopes of all pairs ``gap`` months apart are one
    array operation, laid out pairs x rows (the order of the pairs does not matter to quantiles)."""
    months = np.ascontiguousarray(np.asarray(y, dtype=float).T)  # months x rows
    n_cols, n_rows = months.shape
    slopes = np.empty((n_cols * (n_cols - 1) // 2, n_rows))
    first = 0
    with np.errstate(invalid="ignore"):
        for gap in range(1, n_cols):
            pairs = slopes[first : first + n_cols - gap]
            np.subtract(months[gap:], months[:-gap], out=pairs)
            pairs /= float(gap)
            first += n_cols - gap
    slope, low, high = _quantiles(_sorted_columns(slopes), (0.5, *BAND))
    with np.errstate(invalid="ignore"):
        residual = months - np.arange(n_cols, dtype=float)[:, None] * slope
    (intercept,) = _quantiles(_sorted_columns(residual), (0.5,))
    return slope, low, high, intercept


@dataclass(frozen=True)
class Trend:
    """The trend of every unit (one entry per unit, NaN = too few figures).

    ``slope``/``slope_low``/``slope_high``: per month, the band's edges; ``anchor``: where the line
    starts at as_of (flows: the judged figure, what is done is done; levels: the fitted line);
    ``months``: months from the first figure of the window to as_of; ``horizon_end``: the month the
    forecast is for (the deadline, December for yearly targets); ``forecast``/``forecast_low``/
    ``forecast_high``: the line at the horizon; ``ceiling``: 100 for percentages."""

    slope: np.ndarray
    slope_low: np.ndarray
    slope_high: np.ndarray
    anchor: np.ndarray
    months: np.ndarray
    horizon_end: np.ndarray
    forecast: np.ndarray
    forecast_low: np.ndarray
    forecast_high: np.ndarray
    ceiling: np.ndarray


def fit_trend(
    window: np.ndarray,
    total: np.ndarray,
    actual: np.ndarray,
    plan: Plan,
    year: np.ndarray,
    months_in: np.ndarray,
    unit_zh: np.ndarray,
    as_of_month: int,
) -> Trend:
    """Fit every unit's trend over the window (units x months, each month's reported sum, NaN = no
    figure) and project it to the horizon.

    The series fitted is continuous across years: increments become running totals (``total`` is
    the sum of every counted figure, the window included), levels stay the reported figures."""
    window_months = window.shape[1]
    seen = ~np.isnan(window)
    sums = np.nan_to_num(window)
    running = (total - sums.sum(axis=1))[:, None] + np.cumsum(sums, axis=1)  # running total at each month
    running = running + np.where(plan.mode == "total", 0.0, plan.baseline)[:, None]
    series = np.where(seen, np.where(plan.increments[:, None], running, window), np.nan)
    slope, slope_low, slope_high, intercept = theil_sen(series)
    months = window_months - np.where(seen.any(axis=1), seen.argmax(axis=1), window_months)
    # flows: what is done is done, only the future rate is estimated; levels: the fitted line at as_of
    anchor = np.where(plan.mode == "level", intercept + slope * (window_months - 1), actual)
    horizon_end = np.where(plan.yearly, year * 12 + 11, plan.deadline_month)
    ahead = np.where(plan.yearly, 12 - months_in, np.maximum(plan.deadline_month - as_of_month, 0))
    ceiling = np.where(np.isin(unit_zh, PERCENT_UNITS), 100.0, np.inf)
    forecast, forecast_low, forecast_high = (
        np.where(plan.mode == "flag", np.nan, np.clip(anchor + rate * ahead, 0.0, ceiling))
        for rate in (slope, slope_low, slope_high)
    )
    return Trend(
        slope=slope,
        slope_low=slope_low,
        slope_high=slope_high,
        anchor=anchor,
        months=months,
        horizon_end=horizon_end,
        forecast=forecast,
        forecast_low=forecast_low,
        forecast_high=forecast_high,
        ceiling=ceiling,
    )


@dataclass(frozen=True)
class TrendLine:
    """One unit's trend, as its chart draws it: from ``start`` (the month the line is at ``anchor``)
    to ``horizon_end``."""

    slope: float
    slope_low: float
    slope_high: float
    anchor: float
    start: int
    horizon_end: int
    ceiling: float

    def points(self, as_of_month: int) -> tuple[np.ndarray, list[np.ndarray]]:
        """(months from as_of to the horizon, [forecast, low, high] at each of them)."""
        steps = np.arange(max(self.start, as_of_month), max(self.horizon_end, as_of_month) + 1, dtype=np.int64)
        ahead = (steps - self.start).astype(float)
        return steps, [
            np.clip(self.anchor + rate * ahead, 0.0, self.ceiling)
            for rate in (self.slope, self.slope_low, self.slope_high)
        ]


def trend_line(trend: Trend, plan: Plan, year: np.ndarray, unit: int, as_of_month: int) -> TrendLine | None:
    """One unit's trend line for a chart, None when it has no trend or is a milestone."""
    if np.isnan(trend.slope[unit]) or plan.mode[unit] == "flag":
        return None
    start = as_of_month
    if (plan.mode[unit] == "ytd" or plan.kind[unit] == "annual") and int(year[unit]) * 12 > as_of_month:
        start = int(year[unit]) * 12 - 1  # the judged year has not begun: its line starts at 0
    return TrendLine(
        slope=trend.slope[unit],
        slope_low=trend.slope_low[unit],
        slope_high=trend.slope_high[unit],
        anchor=trend.anchor[unit],
        start=start,
        horizon_end=int(trend.horizon_end[unit]),
        ceiling=trend.ceiling[unit],
    )
