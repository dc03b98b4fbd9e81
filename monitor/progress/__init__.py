"""The progress engine: for every target, as of a month, what was done, what was planned, where the
recent trend leads, hence a status, and one sentence saying why (docs/progress.md has the rules).

It never imports streamlit: the dashboard, the command line, the briefing and the benchmark share it.
One concern a module:

    months     month arithmetic (a month index year * 12 + month - 1; dates as points on that axis)
    units      which targets are judged for which units, scope and aggregation, district names
    figures    the figures query (DuckDB) and the one rule for the judged figure
    plan       the typed plan of every unit, the planned trajectory, time elapsed, past years
    trend      Theil–Sen fit and forecast band
    status     the status rules and progress
    reasons    the one-sentence reason in Chinese and English
    numbers    fmt's figure texts for a whole column at once (the reasons' numbers)
    evaluate   the engine that runs them all at once, column-wise
    scorecard  scorecard(): one row per target (and district)
    series     series(): a target's chart lines, from the same evaluation
"""

from __future__ import annotations

from monitor.i18n import STATUS_LABELS
from monitor.progress.evaluate import SCORECARD_COLUMNS
from monitor.progress.months import month_start
from monitor.progress.scorecard import scorecard
from monitor.progress.series import series
from monitor.progress.status import STATUSES
from monitor.progress.trend import theil_sen
from monitor.progress.units import SCOPE, resolve_district

__all__ = [
    "SCOPE",
    "SCORECARD_COLUMNS",
    "STATUSES",
    "STATUS_LABELS",
    "month_start",
    "resolve_district",
    "scorecard",
    "series",
    "theil_sen",
]
