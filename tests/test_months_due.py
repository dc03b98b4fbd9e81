"""Which month the app judges by default, how a month not yet due is labelled, and reporting
completeness over the last 12 and the last 3 months (issue 13).

Pure functions of monitor.reporting on hand-made months, then the app itself (AppTest on a copy of
the demo warehouse, the harness of tests/test_app_pages.py) with `today` pinned through
dashboard.data.today. The demo (up to 2026-10) has 17 bureaus leading a KPI; 农牧局 and 市场监管局
sent nothing for 2026-08..10, and 教体局, 卫健委 and 民政局 had not yet sent 2026-10.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from dashboard import data
from monitor import reporting
from tests.test_app_pages import _harness, assert_clean, frames, open_page, start  # noqa: F401  (_harness: autouse)

# -- the latest month whose reports are due -------------------------------------------------------------


@pytest.mark.parametrize(
    ("today", "due"),
    [
        (dt.date(2026, 11, 28), dt.date(2026, 10, 1)),  # October's reports were due on 11-10
        (dt.date(2026, 11, 11), dt.date(2026, 10, 1)),  # the due day is over
        (dt.date(2026, 11, 10), dt.date(2026, 9, 1)),  # the due day itself: October may still come on time
        (dt.date(2026, 11, 9), dt.date(2026, 9, 1)),
        (dt.date(2027, 1, 5), dt.date(2026, 11, 1)),  # across the new year
        (dt.date(2027, 1, 11), dt.date(2026, 12, 1)),
    ],
)
def test_latest_due_month_is_the_month_whose_due_day_is_over(today: dt.date, due: dt.date) -> None:
    assert reporting.latest_due_month(today, 10) == due


MONTHS = [dt.date(2026, 11, 1), dt.date(2026, 10, 1), dt.date(2026, 9, 1)]  # newest first, as data.months()


def test_default_month_skips_months_not_yet_due_even_when_they_have_figures() -> None:
    assert reporting.default_month(MONTHS, dt.date(2026, 10, 1)) == dt.date(2026, 10, 1)
    assert reporting.default_month(MONTHS, dt.date(2026, 9, 1)) == dt.date(2026, 9, 1)
    assert reporting.default_month(MONTHS, dt.date(2026, 12, 1)) == dt.date(2026, 11, 1)


def test_default_month_of_a_warehouse_holding_only_early_reports_is_its_oldest_month() -> None:
    assert reporting.default_month(MONTHS, dt.date(2026, 8, 1)) == dt.date(2026, 9, 1)
    assert reporting.default_month([], dt.date(2026, 8, 1)) is None


# -- completeness over the last 12 and the last 3 months ------------------------------------------------


def status_frame(bureau: str, received: list[bool]) -> pd.DataFrame:
    """One bureau's months from 2024-07, as queries.reporting_status returns them (on time = received)."""
    periods = [dt.date(2024 + (6 + i) // 12, (6 + i) % 12 + 1, 1) for i in range(len(received))]
    due = [dt.date(p.year + p.month // 12, p.month % 12 + 1, 10) for p in periods]
    return pd.DataFrame(
        {"bureau_id": bureau, "period": periods, "due_date": due, "received": received, "on_time": received}
    )


# 2024-07..2026-10 is 28 months; agriculture sent the first 25 and nothing for 2026-08, 09 and 10
STOPPED = status_frame("agriculture", [True] * 25 + [False] * 3)
STEADY = status_frame("housing", [True] * 28)
STATUS = pd.concat([STOPPED, STEADY], ignore_index=True)


def test_a_bureau_silent_for_three_months_reads_0_percent_over_the_last_3() -> None:
    rates = reporting.by_bureau(STATUS)
    agriculture = rates.loc["agriculture"]
    assert (agriculture["expected"], agriculture["received"]) == (28, 25)
    assert agriculture["completeness"] == 25 / 28  # 89% since the policy start hides the silence
    assert agriculture["completeness_12"] == 0.75  # 9 of the 12 months 2025-11..2026-10
    assert agriculture["completeness_3"] == 0.0  # none of 2026-08..10
    assert (rates.loc["housing", "completeness_12"], rates.loc["housing", "completeness_3"]) == (1.0, 1.0)


def test_a_month_not_yet_due_and_not_yet_reported_is_not_owed() -> None:
    # on 2026-11-09 October's report (due 11-10) may still come: it is not missing yet
    rates = reporting.by_bureau(STATUS, today=dt.date(2026, 11, 9))
    agriculture = rates.loc["agriculture"]
    assert (agriculture["expected"], agriculture["received"]) == (27, 25)
    assert agriculture["completeness_3"] == 0.0  # 2026-08 and 09 are owed and missing
    assert rates.loc["housing", "expected"] == 28  # a month already reported counts, due or not
    on_the_11th = reporting.by_bureau(STATUS, today=dt.date(2026, 11, 11)).loc["agriculture"]
    assert on_the_11th["expected"] == 28


def test_share_of_a_month_is_bureaus_reported_over_bureaus_expected() -> None:
    shares = reporting.by_month(STATUS)
    assert shares.loc[dt.date(2026, 10, 1)].to_dict() == {"expected": 2, "received": 1, "share": 0.5}
    assert shares.loc[dt.date(2026, 7, 1)].to_dict() == {"expected": 2, "received": 2, "share": 1.0}


# -- the app on the demo warehouse ----------------------------------------------------------------------


def pin_today(monkeypatch: pytest.MonkeyPatch, today: dt.date) -> None:
    monkeypatch.setattr(data, "today", lambda: today)


def test_app_opens_on_the_latest_month_whose_reports_are_due(app_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pin_today(monkeypatch, dt.date(2026, 11, 28))
    at = start("leader")
    assert at.session_state["as_of"] == dt.date(2026, 10, 1)
    assert at.selectbox(key="as_of_choice_zh").value == dt.date(2026, 10, 1)
    assert at.selectbox(key="as_of_choice_zh").options[:2] == ["2026年10月", "2026年9月"]  # all due: no label


def test_a_month_with_figures_but_not_yet_due_is_not_the_default_and_reads_incomplete(
    app_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # on 2026-11-09 October is not due, though 12 of the 17 bureaus have sent it
    pin_today(monkeypatch, dt.date(2026, 11, 9))
    at = start("leader")
    assert_clean(at)
    assert at.session_state["as_of"] == dt.date(2026, 9, 1)
    box = at.selectbox(key="as_of_choice_zh")
    assert box.options[:2] == ["2026年10月（未截止，已报送71%）", "2026年9月"]
    note = "2026年10月的报送截止日为2026年11月10日，目前12/17个责任单位已报送（71%）"
    assert not [c for c in at.caption if note in c.value]  # only when the month is chosen

    box.select(dt.date(2026, 10, 1)).run()
    assert_clean(at)
    assert at.session_state["as_of"] == dt.date(2026, 10, 1)
    assert [c.value for c in at.caption if note in c.value] == [
        note + "，结果不完整；默认查看已截止的最近月份2026年9月。"
    ]

    # the choice and its label survive the language toggle
    at.segmented_control(key="lang_choice").set_value("English").run()
    assert_clean(at)
    english = at.selectbox(key="as_of_choice_en")
    assert english.value == dt.date(2026, 10, 1)
    assert english.options[0] == "Oct 2026 (not yet due, 71% reported)"
    assert any("Reports for Oct 2026 are due on 10 Nov 2026; 12 of 17 bureaus" in c.value for c in at.caption)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_bureaus_page_shows_completeness_over_the_last_12_and_last_3_months(
    app_db: Path, monkeypatch: pytest.MonkeyPatch, lang: str
) -> None:
    pin_today(monkeypatch, dt.date(2026, 11, 28))
    at = open_page("leader", "bureaus", lang)
    assert_clean(at)
    columns = {
        "zh": ("责任单位", "报送完整率（近12个月）", "报送完整率（近3个月）"),
        "en": ("Bureau", "Completeness (last 12 months)", "Completeness (last 3 months)"),
    }[lang]
    table = next(f for f in frames(at) if columns[1] in f.columns).set_index(columns[0])  # after the 催报 list
    agriculture = {"zh": "市农牧局", "en": "Municipal Agriculture and Animal Husbandry Bureau"}[lang]
    housing = {"zh": "市住房和城乡建设局", "en": "Municipal Housing and Urban-Rural Development Bureau"}[lang]
    # 农牧局 sent 2024-07..2026-07 and nothing since: 9 of the last 12 months, none of the last 3
    assert table.loc[agriculture, list(columns[1:])].tolist() == [75.0, 0.0]
    assert table.loc[housing, list(columns[1:])].tolist() == [100.0, 100.0]
    # the silent bureaus first
    assert table[columns[2]].iloc[:2].tolist() == [0.0, 0.0]
