"""Reporting rates: how completely and how punctually each bureau reports, and which month is the
latest whose reports are due. One definition, used by the bureaus page, the as-of month select and
the briefing, so they can never show different rates for the same months.

    completeness = received / expected      (months a report came in, of the months one was due)
    timeliness   = on time / received       (of the reports that came in, those in by the due day)

Completeness is also given over each bureau's last 12 and last 3 months (completeness_12,
completeness_3): a bureau that fell silent three months ago still reads about 90% since the policy
start, and 0% over the last three months says plainly what happened.

A month's report is due on `due_day` of the next month; a month is *due* once that day is over (on
2026-11-10 October is not yet due, on 2026-11-11 it is). A rate whose denominator is 0 (no month due,
or nothing received) reads 0 in a table. Pure pandas, no streamlit: the page, the briefing and the
tests call the same functions.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

COLUMNS = ["expected", "received", "on_time", "completeness", "timeliness"]
WINDOWS = (12, 3)  # months of the recent-completeness columns, completeness_12 and completeness_3
WINDOW_COLUMNS = [f"completeness_{months}" for months in WINDOWS]


def latest_due_month(today: dt.date, due_day: int) -> dt.date:
    """The newest month whose report is due: the first of the month before last if today is on or
    before the due day (its report may still come in on time), else the first of last month.

    2026-11-28 -> 2026-10-01; 2026-11-09 and 2026-11-10 -> 2026-09-01 (October is due by the 10th)."""
    back = 1 if today.day > due_day else 2
    index = today.year * 12 + today.month - 1 - back
    return dt.date(index // 12, index % 12 + 1, 1)


def default_month(months: list[dt.date], due: dt.date) -> dt.date | None:
    """The month the app judges by default: the newest of `months` (those with figures) at or before
    `due` (latest_due_month). A later month with figures is not over for every bureau, so one early
    report must not move everyone's view. When every month with figures is later (a warehouse that
    only holds early reports), the oldest of them; None when there are none."""
    if not months:
        return None
    closed = [m for m in months if m <= due]
    return max(closed) if closed else min(months)


def share(part: pd.Series, whole: pd.Series) -> pd.Series:
    """part / whole, 0 where whole is 0 (a bureau with nothing due or nothing received)."""
    return (part / whole.where(whole > 0)).fillna(0.0)


def owed(status: pd.DataFrame, today: dt.date | None) -> pd.DataFrame:
    """The rows a bureau can be held to on `today`: a month whose due day is not over and whose
    report has not come yet is not missing, it is not yet due. None keeps every row."""
    if today is None or status.empty:
        return status
    not_yet_due = pd.to_datetime(status["due_date"]).dt.date >= today
    return status[~(not_yet_due & ~status["received"].astype(bool))]


def by_bureau(status: pd.DataFrame, *, today: dt.date | None = None) -> pd.DataFrame:
    """queries.reporting_status (one row per bureau and month: period, received, on_time) to one row
    per bureau, indexed by bureau_id in id order: expected, received, on_time (counts), completeness,
    timeliness (shares 0..1 over every month given), completeness_12 and completeness_3 (the share
    received of the last 12 and 3 months given, i.e. ending at the as-of month).

    With `today`, a month not yet due and not yet received is left out of every count (owed)."""
    status = owed(status, today)
    counts = status.groupby("bureau_id", sort=True).agg(
        expected=("period", "count"), received=("received", "sum"), on_time=("on_time", "sum")
    )
    counts = counts.astype(int)
    rates = counts.assign(
        completeness=share(counts["received"], counts["expected"]),
        timeliness=share(counts["on_time"], counts["received"]),
    )[COLUMNS]
    periods = sorted(pd.to_datetime(status["period"]).unique())
    for months, column in zip(WINDOWS, WINDOW_COLUMNS, strict=True):
        recent = status[pd.to_datetime(status["period"]).isin(periods[-months:])]
        window = recent.groupby("bureau_id", sort=True)["received"].agg(["count", "sum"])
        window = window.reindex(rates.index, fill_value=0)
        rates[column] = share(window["sum"].astype(float), window["count"].astype(float))
    return rates


def by_month(status: pd.DataFrame) -> pd.DataFrame:
    """One row per month, indexed by period (first of the month, a date): expected (bureaus owing a
    report for it), received (bureaus that have sent one) and share (received / expected). The share
    of a month not yet due is how far its figures can be trusted (the as-of select shows it)."""
    counts = status.groupby("period", sort=True).agg(expected=("bureau_id", "count"), received=("received", "sum"))
    counts = counts.astype(int)
    counts.index = [pd.Timestamp(p).date() for p in counts.index]
    return counts.assign(share=share(counts["received"], counts["expected"]))


def rolling(months: pd.DataFrame, window: int = 12) -> pd.DataFrame:
    """One bureau's months (sorted by period), with the same two rates over the last ``window`` months
    ending at each month (a month counts 0 or 1). Timeliness is NaN where nothing was received in the
    window: a chart leaves a gap there rather than drawing a 0 that no report earned."""
    last = months[["received", "on_time"]].astype(float).rolling(window, min_periods=1).sum()
    return months.assign(
        completeness=last["received"] / months["received"].rolling(window, min_periods=1).count(),
        timeliness=last["on_time"] / last["received"].where(last["received"] > 0),
    )
