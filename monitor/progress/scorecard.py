"""The scorecard: one row per target (and, on request, per district), judged as of a month."""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd

from monitor.progress.evaluate import SCORECARD_COLUMNS, empty_scorecard, evaluate
from monitor.targets import TargetsConfig


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
    complete calendar years with figures of annual targets, flow caps and floors ({year, actual, target,
    met}), else None; ``calendar_years`` every calendar year of those targets from their start to their
    deadline, also those without figures ({year, target, actual, status}, None where nothing is known).
    Rows follow targets.yaml, each target's aggregate first, then its districts in targets.yaml order."""
    evaluation = evaluate(con, as_of, cfg=cfg, district=district, all_units=all_units)
    if evaluation is None:
        return empty_scorecard()
    return evaluation.frame[list(SCORECARD_COLUMNS)].reset_index(drop=True)
