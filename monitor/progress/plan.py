"""The plan: what each judged unit's target asks for, and what should have been done by a month.

``Plan`` is the typed record of a unit's target parameters (already scaled to a district's share);
``expected`` is the planned trajectory: the straight line from the baseline to the target (through
milestones when given), pro-rata within the year for annual targets and flow caps, the cap itself for
level caps and floors, 0/1 for milestones.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

Milestones = list[tuple[float, float]]  # (month position, planned value), in order


@dataclass(frozen=True)
class Plan:
    """A target's parameters for every judged unit (one entry per unit).

    ``mode``: how the judged figure is built (units.py); ``increments``: reported as monthly
    increments; ``yearly``: judged per calendar year (annual targets, flow caps); ``target``,
    ``tolerance``, ``baseline``: the unit's share (the baseline of a yearly target is 0 each year);
    ``baseline_pos``/``deadline_pos``: points on the month axis; ``deadline_month``: the last month
    whose figures count; ``start_offset``: months of the first calendar year before a yearly flow
    target starts (6 for July 2024: that year's target is prorated to the 6 months in force);
    ``milestones``: intermediate (position, value) points of the line."""

    kind: np.ndarray
    mode: np.ndarray
    comparator: np.ndarray
    increments: np.ndarray
    yearly: np.ndarray
    target: np.ndarray
    tolerance: np.ndarray
    baseline: np.ndarray
    baseline_pos: np.ndarray
    deadline_pos: np.ndarray
    deadline_month: np.ndarray
    start_year: np.ndarray
    start_offset: np.ndarray
    deadline_year: np.ndarray
    first_month: np.ndarray
    milestones: list[Milestones]

    @classmethod
    def for_units(cls, params: pd.DataFrame, share: np.ndarray) -> Plan:
        """The plan of every unit from its target's row (``params``) and its share of the target."""

        def column(name: str, dtype: type = float) -> np.ndarray:
            return params[name].to_numpy(dtype=dtype)

        yearly = column("yearly", bool)
        milestones = params["milestones"].tolist()
        if any(milestones):
            milestones = [[(at, value * part) for at, value in m] for m, part in zip(milestones, share, strict=True)]
        return cls(
            kind=column("kind", object),
            mode=column("mode", object),
            comparator=column("comparator", object),
            increments=column("increments", bool),
            yearly=yearly,
            target=column("target_value") * share,
            tolerance=np.nan_to_num(column("tolerance")) * share,
            baseline=np.where(yearly, 0.0, column("baseline_raw") * share),  # yearly targets start from 0
            baseline_pos=column("baseline_pos"),
            deadline_pos=column("deadline_pos"),
            deadline_month=column("deadline_month", np.int64),
            start_year=column("start_year", np.int64),
            start_offset=column("start_offset", np.int64),
            deadline_year=column("deadline_year", np.int64),
            first_month=column("first_month", np.int64),
            milestones=milestones,
        )

    def repeat(self, unit: int, times: int) -> Plan:
        """One unit's plan repeated ``times`` times: the same plan at many months (a chart line)."""
        fields = {}
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if isinstance(value, np.ndarray):
                fields[field.name] = np.repeat(value[unit : unit + 1], times)
            else:
                fields[field.name] = [value[unit]] * times
        return Plan(**fields)


def judged_year(as_of: dt.date, plan: Plan) -> tuple[np.ndarray, np.ndarray]:
    """(year, months gone) of the judged calendar year of annual targets and flow caps: as_of's year,
    kept within the target's start..deadline; 0 months before the first year, 12 once the last is over."""
    year = np.clip(as_of.year, plan.start_year, plan.deadline_year)
    months_in = np.where(as_of.year > year, 12, np.where(as_of.year < year, 0, as_of.month))
    return year, months_in


def year_offset(plan: Plan, year: np.ndarray) -> np.ndarray:
    """Months of the judged year before the target started: its start offset in its first year, else 0."""
    return np.where(year == plan.start_year, plan.start_offset, 0)


def for_year(plan: Plan, offset: np.ndarray) -> Plan:
    """The plan with the judged year's target: a yearly flow target or cap prorated to the months in
    force in its first year (2万 a year from July 2024 asks 1万 for 2024)."""
    return dataclasses.replace(plan, target=plan.target * (12 - offset) / 12.0)


def expected(plan: Plan, months_in: np.ndarray, at: np.ndarray, offset: np.ndarray | None = None) -> np.ndarray:
    """Planned value at month position ``at`` (the end of the month judged) for every entry of the
    plan, ``months_in`` the months gone of the judged year (annual targets and flow caps) and
    ``offset`` its months before the target started (year_offset; none by default)."""
    in_force = months_in if offset is None else np.clip(months_in - offset, 0, None)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.clip((at - plan.baseline_pos) / (plan.deadline_pos - plan.baseline_pos), 0.0, 1.0)
    out = plan.baseline + (plan.target - plan.baseline) * share
    for row in np.flatnonzero([bool(m) for m in plan.milestones]):
        xs = [plan.baseline_pos[row], *(p for p, _ in plan.milestones[row]), plan.deadline_pos[row]]
        ys = [plan.baseline[row], *(v for _, v in plan.milestones[row]), plan.target[row]]
        out[row] = np.interp(at[row], xs, ys)
    ytd = plan.mode == "ytd"
    out = np.where(ytd | (plan.kind == "annual"), plan.target * in_force / 12.0, out)
    out = np.where(((plan.kind == "cap") & ~ytd) | (plan.kind == "floor"), plan.target, out)  # bounds: no line
    out = np.where(plan.mode == "flag", np.where(at - 1 >= plan.deadline_month, plan.target, 0.0), out)
    return out


def time_elapsed(plan: Plan, months_in: np.ndarray, as_of_month: int, offset: np.ndarray) -> np.ndarray:
    """Share of the target's time gone by the end of the as-of month (of the months in force of the
    year, for yearly ones)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        linear = np.clip((as_of_month + 1 - plan.baseline_pos) / (plan.deadline_pos - plan.baseline_pos), 0.0, 1.0)
    return np.where(plan.yearly, np.clip(months_in - offset, 0, None) / (12.0 - offset), linear)


@dataclass(frozen=True)
class YearFigures:
    """Every reported calendar year of the yearly units (annual targets, flow caps, floors) within
    their start..deadline years, one entry per (unit, year) in unit order: the year's judged figure
    (``value``: its sum or closing level), its target (the first year prorated to its months in force)
    and whether it was met (a cap: stayed under). Computed once; the reasons, ``years`` and
    ``calendar_years`` all read it."""

    unit: np.ndarray
    year: np.ndarray
    value: np.ndarray
    target: np.ndarray
    met: np.ndarray


def _year_target(plan: Plan, unit: np.ndarray, year: np.ndarray) -> np.ndarray:
    """Each year's target of a yearly unit: the first year prorated to its months in force."""
    first = year == plan.start_year[unit]
    return plan.target[unit] * (12 - np.where(first, plan.start_offset[unit], 0)) / 12.0


def year_figures(years: pd.DataFrame, plan: Plan) -> YearFigures:
    """The reported years (``years``: Figures.years, one row per unit and calendar year) as judged figures."""
    unit = years["unit"].to_numpy(dtype=np.int64)
    year = years["cal_year"].to_numpy(dtype=np.int64)
    summed = years["summed"].to_numpy(dtype=float)
    level = years["level"].to_numpy(dtype=float)
    same = np.r_[False, unit[1:] == unit[:-1]]
    prior_level = np.where(same, np.r_[0.0, level[:-1]], 0.0)  # closing level of the year before
    value = np.where(plan.mode[unit] == "ytd", np.where(plan.increments[unit], summed, level - prior_level), level)
    keep = (year >= plan.start_year[unit]) & (year <= plan.deadline_year[unit])
    unit, year, value = unit[keep], year[keep], value[keep]
    target = _year_target(plan, unit, year)
    met = np.where(plan.kind[unit] == "cap", value <= target, value >= target)
    return YearFigures(unit, year, value, target, met)


def _per_unit(
    n_units: int, units: np.ndarray, starts: np.ndarray, ends: np.ndarray, records: list[dict[str, object]]
) -> list[list[dict[str, object]] | None]:
    """``records[starts[k]:ends[k]]`` for each of ``units`` (the yearly ones), None for every other unit:
    one slice per yearly unit rather than a list per unit of a province (most are not yearly)."""
    out: list[list[dict[str, object]] | None] = [None] * n_units
    for unit, lo, hi in zip(units.tolist(), starts.tolist(), ends.tolist(), strict=True):
        out[unit] = records[lo:hi]
    return out


def _complete(figures: YearFigures, plan: Plan, as_of: dt.date) -> np.ndarray:
    """The reported years of yearly units that are over by as_of and not after the deadline."""
    return (figures.year <= np.minimum(as_of.year - 1, plan.deadline_year[figures.unit])) & plan.yearly[figures.unit]


def past_years(figures: YearFigures, plan: Plan, as_of: dt.date) -> list[list[dict[str, object]] | None]:
    """For annual targets and flow caps: every complete calendar year from the target's start to its
    deadline that has figures, with what was achieved and whether it met the year's target (or stayed
    under the cap): {year, actual, target, met}; None for targets not judged by year."""
    done = _complete(figures, plan, as_of)
    records: list[dict[str, object]] = [
        {"year": y, "actual": v, "target": t, "met": ok}
        for y, v, t, ok in zip(
            figures.year[done].tolist(), figures.value[done].tolist(), figures.target[done].tolist(),
            figures.met[done].tolist(), strict=True,
        )
    ]  # fmt: skip
    # the figures come in unit order: each yearly unit's records are the run after the units before it
    counts = np.bincount(figures.unit[done], minlength=len(plan.yearly))
    yearly = np.flatnonzero(plan.yearly)
    ends = np.cumsum(counts)[yearly]
    return _per_unit(len(plan.yearly), yearly, ends - counts[yearly], ends, records)


def calendar_years(
    figures: YearFigures, plan: Plan, as_of: dt.date, actual: np.ndarray, status: np.ndarray
) -> list[list[dict[str, object]] | None]:
    """For annual targets, flow caps and floors: every calendar year from the target's start to its
    deadline, also those without figures, as {year, target, actual, status}. A complete year is
    achieved or overdue by its own figure; the year under way carries the unit's judged figure and
    status (``actual``, ``status``); a year without figures, or not begun, has actual and status None.
    None for targets not judged by year."""
    yearly = np.flatnonzero(plan.yearly)
    n_years = (plan.deadline_year[yearly] - plan.start_year[yearly] + 1).clip(min=0)
    ends = np.cumsum(n_years)
    starts = ends - n_years
    unit = np.repeat(yearly, n_years)
    year = plan.start_year[unit] + (np.arange(len(unit)) - np.repeat(starts, n_years))
    target = _year_target(plan, unit, year)
    value = np.full(len(unit), np.nan)
    verdict = np.full(len(unit), None, dtype=object)
    # a complete reported year's row: its unit's first row plus the years since the target's start
    first_row = np.zeros(len(plan.yearly), dtype=np.int64)
    first_row[yearly] = starts
    complete = _complete(figures, plan, as_of) & (figures.year >= plan.start_year[figures.unit])
    done_unit = figures.unit[complete]
    row = first_row[done_unit] + (figures.year[complete] - plan.start_year[done_unit])
    value[row] = figures.value[complete]
    verdict[row] = np.where(figures.met[complete], "achieved", "overdue")
    unit_actual = actual[unit]
    current = (year == as_of.year) & ~np.isnan(unit_actual)
    value[current] = unit_actual[current]
    verdict[current] = status[unit[current]]
    shown = value.astype(object)  # Python floats; None where nothing is known
    shown[np.isnan(value)] = None
    records: list[dict[str, object]] = [
        {"year": y, "target": t, "actual": v, "status": s}
        for y, t, v, s in zip(year.tolist(), target.tolist(), shown.tolist(), verdict.tolist(), strict=True)
    ]
    return _per_unit(len(plan.yearly), yearly, starts, ends, records)
