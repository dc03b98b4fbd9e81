"""The correction form (更正历史数据 on the upload page, issue 16) as a bureau's clerk meets it: it shows
the figure held and its history, defaults to the last closed month, takes whole numbers for counts,
and speaks in fields and figures, never in file names or spreadsheet cells.

AppTest as the housing reporter on a copy of the demo warehouse (helpers and `_harness` of
tests/test_app_pages.py). Expected figures are read from the warehouse, not from the page.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from etl.correct import CorrectionRefused, checked_value, exact_figure
from monitor import db, fmt
from monitor.targets import load_targets
from tests.test_app_pages import (  # noqa: F401  (_harness: the autouse AppTest fixture)
    _harness,
    assert_clean,
    button,
    frames,
    open_page,
)

KPI = "rental_housing_units"  # a count, in 套
SEPTEMBER = dt.date(2026, 9, 1)


def _figures(path: Path, kpi: str, district: str, period: dt.date) -> list[tuple[int, float, str | None]]:
    """(revision, value, reason) of every figure held, oldest first."""
    con = db.connect(path)
    try:
        return con.execute(
            """
            select o.revision, o.value, s.reason from observations o join submissions s using (submission_id)
            where o.kpi_id = ? and o.district_id = ? and o.period = ? order by o.revision
            """,
            [kpi, district, period],
        ).fetchall()
    finally:
        con.close()


def _choose(at, kpi: str, district: str, period: dt.date):
    at.selectbox(key="up_fix_kpi_zh").select(kpi).run()  # the districts offered follow the KPI
    at.selectbox(key="up_fix_district_zh").select(district).run()
    at.selectbox(key="up_fix_period_zh").select(period).run()
    return at


def _send(at, value: float, reason: str = "按项目台账核实更正"):
    at.number_input(key="up_fix_value").set_value(value)
    at.text_area(key="up_fix_reason").input(reason)
    return button(at, "提交更正").click().run()


def test_the_form_shows_the_figure_held_and_its_history(app_db: Path) -> None:
    [(revision, held, _)] = _figures(app_db, KPI, "kangbashi", SEPTEMBER)
    assert revision == 1 and float(held).is_integer()
    at = _choose(open_page("housing", "upload"), KPI, "kangbashi", SEPTEMBER)
    assert f"**现有数值：{int(held):,}套**" in [m.value for m in at.markdown]
    table = next(f for f in frames(at) if "版本" in f.columns)
    assert list(table["版本"]) == [1]
    assert list(table["数值"]) == [f"{int(held):,}套"]

    _send(at, held + 7, "补录漏报项目")
    assert_clean(at)
    # after the correction: the new figure is the one held (awaiting the housing approver: the demo's
    # bureaus require approval), the old one stays in the history
    assert f"**现有数值：{int(held) + 7:,}套（待审核）**" in [m.value for m in at.markdown]
    table = next(f for f in frames(at) if "版本" in f.columns)
    assert list(zip(table["版本"], table["数值"], table["更正原因"], strict=True)) == [
        (1, f"{int(held):,}套", ""),
        (2, f"{int(held) + 7:,}套（待审核）", "补录漏报项目"),
    ]


def test_a_decimal_for_a_count_is_refused_naming_the_field_and_nothing_changes(app_db: Path) -> None:
    before = _figures(app_db, KPI, "kangbashi", SEPTEMBER)
    at = _choose(open_page("housing", "upload"), KPI, "kangbashi", SEPTEMBER)
    _send(at, 120.5)
    assert [e.value for e in at.error] == ["“数值”须为整数（单位：套）"]
    assert not at.success
    assert _figures(app_db, KPI, "kangbashi", SEPTEMBER) == before


def test_the_form_opens_on_the_last_closed_month(app_db: Path) -> None:
    """On 2026-11-26 (the harness's day) October's reports were due on 10 November: 2026年10月,
    not November, whose reports are not due yet."""
    at = open_page("housing", "upload")
    assert at.selectbox(key="up_fix_period_zh").value == dt.date(2026, 10, 1)


def test_a_correction_says_what_changed_without_a_file_name(app_db: Path) -> None:
    [(_, held, _)] = _figures(app_db, KPI, "dongsheng", SEPTEMBER)
    at = _choose(open_page("housing", "upload"), KPI, "dongsheng", SEPTEMBER)
    _send(at, held + 3)
    assert_clean(at)
    said = [s.value for s in at.success]
    expected = f"已更正：保障性租赁住房筹建套数，东胜区，2026年9月：{int(held):,}套 → {int(held) + 3:,}套"
    assert said == [fmt.plain(expected)]
    assert not any(".csv" in s or "更正_" in s for s in said)
    assert _figures(app_db, KPI, "dongsheng", SEPTEMBER)[-1][1] == held + 3
    assert at.number_input(key="up_fix_value").value is None  # the form is drawn empty after a success
    assert at.text_area(key="up_fix_reason").value == ""


def test_sending_the_figure_already_held_says_it_changes_nothing(app_db: Path) -> None:
    before = _figures(app_db, KPI, "kangbashi", SEPTEMBER)
    held = before[-1][1]
    at = _choose(open_page("housing", "upload"), KPI, "kangbashi", SEPTEMBER)
    notes = [i.value for i in at.info]  # the page's own notes (submissions awaiting approval)
    _send(at, held)
    assert [i.value for i in at.info] == [*notes, "该数值与现有数值相同，未作更改"]
    assert not at.error
    assert not at.success
    assert _figures(app_db, KPI, "kangbashi", SEPTEMBER) == before


def test_whole_numbers_for_counts_decimals_for_amounts() -> None:
    cfg = load_targets()
    count, amount = cfg.kpi_by_id[KPI], cfg.kpi_by_id["rental_allowance_amount"]
    assert checked_value(count, 127.0) == 127.0
    assert checked_value(amount, 1_234_567.5) == 1_234_567.5
    for value, key in ((127.5, "fix_integer"), (None, "fix_value_required")):
        with pytest.raises(CorrectionRefused) as refused:
            checked_value(count, value)
        assert refused.value.key == key
    assert CorrectionRefused("fix_integer", count).text("en") == "“Value” must be a whole number (unit: units)"
    assert exact_figure(1_234_567.5, amount, "zh") == "1,234,567.5元"
    assert exact_figure(15_000, count, "zh") == "15,000套"
