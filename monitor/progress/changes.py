"""Changes since last month: every target judged by the engine for the chosen month and the month
before, and the figures that came in for the chosen month (docs/progress.md, "Changes since last
month", has the rules).

Both months are judged by scorecard() from the warehouse, never from what a page showed, so the
overview, the print view and the deck read the same transitions. Figures count only when leadership
sees them (approved submissions: the visible_observations / current_observations views).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb
import pandas as pd

from monitor.fmt import ATTENTION_RANK
from monitor.progress.months import month_start
from monitor.progress.scorecard import scorecard
from monitor.targets import CITY, TargetsConfig

DIRECTIONS: tuple[str, ...] = ("worse", "better", "achieved", "new", "same")
COLUMNS: tuple[str, ...] = (
    "target_id", "status_prev", "status_now", "direction", "new_figures", "revisions", "progress_prev",
    "progress_now",
)  # fmt: skip


def shift_month(month: dt.date, months: int) -> dt.date:
    """The first day of the month ``months`` after ``month`` (negative: before)."""
    index = month.year * 12 + month.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def reporting_window(as_of: dt.date) -> tuple[dt.date, dt.date]:
    """[start, end) of the submissions that belong to as_of's month: the calendar month after it,
    when its report is due (on the due day) and its corrections of earlier months come with it."""
    month = month_start(as_of)
    return shift_month(month, 1), shift_month(month, 2)


def direction(status_prev: str | None, status_now: str) -> str:
    """How a target moved: 'achieved' when it became achieved, 'new' when it is judged on figures for
    the first time (nothing judged, or no_data, last month), 'worse' when its figures stopped (no_data
    now), else 'worse' / 'better' / 'same' by ATTENTION_RANK (worst first: a lower rank now is worse)."""
    if status_prev == status_now:
        return "same"
    if status_now == "achieved":
        return "achieved"
    if status_prev is None or status_prev == "no_data":
        return "new"
    if status_now == "no_data":
        return "worse"  # figures stopped: never "better", even from overdue or off track
    return "worse" if ATTENTION_RANK[status_now] < ATTENTION_RANK[status_prev] else "better"


@dataclass(frozen=True)
class _Figures:
    """The figures of one month (kpi_id, district_id): reported for it, and earlier months revised
    by submissions in its reporting window (kpi_id, district_id, period)."""

    new: pd.DataFrame
    revised: pd.DataFrame


def _figures(con: duckdb.DuckDBPyConnection, month: dt.date) -> _Figures:
    start, end = reporting_window(month)
    new = con.execute("select distinct kpi_id, district_id from current_observations where period = ?", [month]).df()
    # an observation without a submission row (tests, benches) is dated by when it was loaded
    revised = con.execute(
        """
        select distinct o.kpi_id, o.district_id, o.period
        from visible_observations as o
        left join submissions as s using (submission_id)
        where o.revision > 1
          and o.period < ?
          and coalesce(s.submitted_at, o.loaded_at) >= ?
          and coalesce(s.submitted_at, o.loaded_at) < ?
        """,
        [month, start, end],
    ).df()
    return _Figures(new, revised)


def _in_scope(frame: pd.DataFrame, kpi_id: str, scope: list[str]) -> pd.DataFrame:
    """The rows of one target: its KPI, in its scope (a city-wide target: every reporting unit)."""
    rows = frame[frame["kpi_id"] == kpi_id]
    return rows if scope == [CITY] else rows[rows["district_id"].isin(scope)]


def _scope(scope: object) -> list[str]:
    return [str(scope)] if isinstance(scope, str) else [str(s) for s in scope]  # type: ignore[union-attr]


def changes(con: duckdb.DuckDBPyConnection, as_of: dt.date, cfg: TargetsConfig) -> pd.DataFrame:
    """One row per target (its city aggregate), in targets.yaml order, columns COLUMNS: the status and
    progress last month and now, the direction, the figures first reported for as_of's month and the
    figures of earlier months revised in its reporting window (both counted in the target's scope).

    status_prev is None when the previous month judges nothing (the engine returns no row)."""
    month = month_start(as_of)
    now = scorecard(con, month, cfg=cfg)
    if now.empty:
        return pd.DataFrame(columns=list(COLUMNS))
    before = scorecard(con, shift_month(month, -1), cfg=cfg).set_index("target_id")
    figures = _figures(con, month)
    scopes = {t.id: (t.kpi, _scope(t.scope)) for t in cfg.targets}
    rows = []
    for target_id, status_now, progress_now in zip(now["target_id"], now["status"], now["progress"], strict=True):
        known = target_id in before.index
        status_prev = str(before.at[target_id, "status"]) if known else None
        kpi_id, scope = scopes[target_id]
        rows.append(
            {
                "target_id": target_id,
                "status_prev": status_prev,
                "status_now": status_now,
                "direction": direction(status_prev, status_now),
                "new_figures": len(_in_scope(figures.new, kpi_id, scope)),
                "revisions": len(_in_scope(figures.revised, kpi_id, scope)),
                "progress_prev": before.at[target_id, "progress"] if known else None,
                "progress_now": progress_now,
            }
        )
    return pd.DataFrame(rows, columns=list(COLUMNS))


def totals(con: duckdb.DuckDBPyConnection, as_of: dt.date, cfg: TargetsConfig, frame: pd.DataFrame) -> dict[str, int]:
    """The counts a change panel opens with: targets worse, better, newly achieved, and the figures
    first reported and revised, each figure counted once even when it serves two targets (the
    annual and the three-year target of one KPI). ``frame`` is changes() of the same month."""
    figures = _figures(con, month_start(as_of))
    scopes = [(t.kpi, _scope(t.scope)) for t in cfg.targets if t.id in set(frame["target_id"])]
    new = pd.concat([_in_scope(figures.new, k, s) for k, s in scopes] or [figures.new.head(0)])
    revised = pd.concat([_in_scope(figures.revised, k, s) for k, s in scopes] or [figures.revised.head(0)])
    moved = frame["direction"].value_counts()
    return {
        "worse": int(moved.get("worse", 0)),
        "better": int(moved.get("better", 0)),
        "achieved": int(moved.get("achieved", 0)),
        "new_figures": len(new.drop_duplicates()),
        "revisions": len(revised.drop_duplicates()),
    }
