"""Month arithmetic of the progress engine.

Months are counted by a month index ``year * 12 + month - 1`` so that plans, trends and deadlines are
plain arithmetic; a month's figure describes the state at the end of that month, so "as of 2025-09"
means "after September's figures". Dates in targets.yaml become points on this axis (``position``).
"""

from __future__ import annotations

import calendar
import datetime as dt

import numpy as np
import pandas as pd


def month_index(day: dt.date) -> int:
    """Month index of a date (its month)."""
    return day.year * 12 + day.month - 1


def month_date(index: int) -> dt.date:
    """The first day of the month with this index."""
    return dt.date(index // 12, index % 12 + 1, 1)


def position(day: dt.date) -> float:
    """A date as a point on the month axis: the first of a month is that month's start ("from
    2024-07-01"), any other day is the end of that day ("by 2027-07-31" = the start of August)."""
    if day.day == 1:
        return float(month_index(day))
    return month_index(day) + day.day / calendar.monthrange(day.year, day.month)[1]


def month_dates(indexes: np.ndarray) -> np.ndarray:
    """Month indexes to first-of-month dates (None where negative), without a loop."""
    out = np.full(len(indexes), None, dtype=object)
    known = indexes >= 0
    out[known] = (indexes[known] - 1970 * 12).astype("datetime64[M]").astype("datetime64[D]").astype(object)
    return out


def month_start(value: dt.date | pd.Timestamp | str) -> dt.date:
    """as_of may come as a date, a Timestamp or 'YYYY-MM'; it always means the whole month."""
    if isinstance(value, str):
        value = dt.date.fromisoformat(value + "-01" if len(value) == 7 else value)
    if isinstance(value, pd.Timestamp):
        value = value.date()
    return dt.date(value.year, value.month, 1)
