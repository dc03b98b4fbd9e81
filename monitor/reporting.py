"""Reporting rates: how completely and how punctually each bureau reports. One definition, used by
the bureaus page and the briefing, so the two can never show different rates for the same months.

    completeness = received / expected      (months a report came in, of the months one was due)
    timeliness   = on time / received       (of the reports that came in, those in by the due day)

A rate whose denominator is 0 (no month due, or nothing received) reads 0 in a table.
Pure pandas, no streamlit: the page, the briefing and the tests call the same function.
"""

from __future__ import annotations

import pandas as pd

COLUMNS = ["expected", "received", "on_time", "completeness", "timeliness"]


def share(part: pd.Series, whole: pd.Series) -> pd.Series:
    """part / whole, 0 where whole is 0 (a bureau with nothing due or nothing received)."""
    return (part / whole.where(whole > 0)).fillna(0.0)


def by_bureau(status: pd.DataFrame) -> pd.DataFrame:
    """queries.reporting_status (one row per bureau and month: period, received, on_time) to one row
    per bureau, indexed by bureau_id in id order: expected, received, on_time (counts) and
    completeness, timeliness (shares 0..1)."""
    counts = status.groupby("bureau_id", sort=True).agg(
        expected=("period", "count"), received=("received", "sum"), on_time=("on_time", "sum")
    )
    counts = counts.astype(int)
    return counts.assign(
        completeness=share(counts["received"], counts["expected"]),
        timeliness=share(counts["on_time"], counts["received"]),
    )[COLUMNS]


def rolling(months: pd.DataFrame, window: int = 12) -> pd.DataFrame:
    """One bureau's months (sorted by period), with the same two rates over the last ``window`` months
    ending at each month (a month counts 0 or 1). Timeliness is NaN where nothing was received in the
    window: a chart leaves a gap there rather than drawing a 0 that no report earned."""
    last = months[["received", "on_time"]].astype(float).rolling(window, min_periods=1).sum()
    return months.assign(
        completeness=last["received"] / months["received"].rolling(window, min_periods=1).count(),
        timeliness=last["on_time"] / last["received"].where(last["received"] > 0),
    )
