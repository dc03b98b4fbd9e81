"""Reporting rates (monitor/reporting.py): the one definition the bureaus page and the briefing's
reporting sheet both show, pinned on hand-made months so every number is known."""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd

from monitor import briefing, reporting


def months(bureau: str, received: list[bool], on_time: list[bool]) -> pd.DataFrame:
    """One bureau's months from 2025-01, as queries.reporting_status returns them."""
    periods = [dt.date(2025, m, 1) for m in range(1, len(received) + 1)]
    return pd.DataFrame({"bureau_id": bureau, "period": periods, "received": received, "on_time": on_time})


STATUS = pd.concat(
    [
        # 4 months due, 3 received, 2 of them on time
        months("housing", [True, True, False, True], [True, False, False, True]),
        # 2 months due, nothing received: no report, so no timeliness either
        months("education", [False, False], [False, False]),
    ],
    ignore_index=True,
)


def test_completeness_is_received_over_expected_and_timeliness_on_time_over_received() -> None:
    rates = reporting.by_bureau(STATUS)
    assert list(rates.index) == ["education", "housing"]  # id order: the bureau picker's order
    housing = rates.loc["housing"]
    assert (housing["expected"], housing["received"], housing["on_time"]) == (4, 3, 2)
    assert housing["completeness"] == 0.75
    assert housing["timeliness"] == 2 / 3


def test_a_bureau_that_sent_nothing_reads_zero_percent_in_a_table() -> None:
    education = reporting.by_bureau(STATUS).loc["education"]
    assert (education["expected"], education["received"], education["completeness"], education["timeliness"]) == (
        2, 0, 0.0, 0.0,
    )  # fmt: skip


def test_the_rolling_chart_leaves_a_gap_where_nothing_was_received() -> None:
    education = reporting.rolling(STATUS[STATUS["bureau_id"] == "education"], 12)
    assert list(education["completeness"]) == [0.0, 0.0]
    assert all(math.isnan(x) for x in education["timeliness"])  # a gap, not a 0 no report earned
    housing = reporting.rolling(STATUS[STATUS["bureau_id"] == "housing"], 2)  # window of two months
    assert list(housing["completeness"]) == [1.0, 1.0, 0.5, 0.5]
    assert list(housing["timeliness"]) == [1.0, 0.5, 0.0, 1.0]


def test_briefing_reporting_sheet_shows_the_bureaus_page_rates() -> None:
    sheet = briefing.reporting_summary(STATUS, {"housing": "市住房和城乡建设局"}, "zh").set_index("bureau_id")
    rates = reporting.by_bureau(STATUS)
    for column in reporting.COLUMNS:
        assert list(sheet[column]) == list(rates[column]), column
    assert sheet.at["housing", "bureau"] == "市住房和城乡建设局"
    assert sheet.at["housing", "missing_months"] == "2025年3月"
    assert sheet.at["education", "missing_months"] == "2025年1月–2025年2月"
