"""在线填报 on the upload page, as the housing reporter sees it (AppTest on a copy of the demo warehouse).

AppTest cannot type into st.data_editor: the grid is driven by a draft seeded in the warehouse, or by
the editor's edit state set on at.session_state before a run (what the browser sends after typing),
and by pressing the buttons. The month is 2026-10, the demo's last month, which housing has reported.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from dashboard import entry_form
from etl import entry
from etl.template import rule_zh
from monitor import db, i18n, review
from monitor.targets import TargetsConfig, load_targets
from tests.test_app_pages import _harness, button, open_page  # noqa: F401  (_harness: autouse here too)

OCTOBER, SEPTEMBER = dt.date(2026, 10, 1), dt.date(2026, 9, 1)
RENTAL = "rental_housing_units"
NOT_A_NUMBER = "不是有效数字（可填 1234、1,234、1.5万 或 30%）"
CHANGE_REQUIRED = "本文件修改了已报送的数值，请先填写修改原因。"


def connect(app_db: Path) -> db.duckdb.DuckDBPyConnection:
    return db.connect(app_db)


def grid_of(app_db: Path) -> pd.DataFrame:
    con = connect(app_db)
    try:
        return entry.grid(con, load_targets(), "housing", OCTOBER)
    finally:
        con.close()


def reported(app_db: Path, kpi: str, district: str, period: dt.date) -> float | None:
    """A figure as the bureau submitted it, read without etl.entry."""
    con = connect(app_db)
    try:
        return db.scalar(
            con,
            "select value from current_reported_observations where kpi_id = ? and district_id = ? and period = ?",
            [kpi, district, period],
        )  # type: ignore[return-value]
    finally:
        con.close()


def seed_draft(app_db: Path, cells: dict[tuple[str, str], tuple[str, str]]) -> None:
    """A draft of the housing grid of October: the submitted cells with `cells` typed over them."""
    con = connect(app_db)
    try:
        frame = entry.grid(con, load_targets(), "housing", OCTOBER)
        entry.save_draft(con, "housing", OCTOBER, "housing", entry.with_cells(frame, cells))
    finally:
        con.close()


def draft_of(app_db: Path) -> entry.Draft | None:
    con = connect(app_db)
    try:
        return entry.load_draft(con, "housing", OCTOBER)
    finally:
        con.close()


def open_entry() -> AppTest:
    at = open_page("housing", "upload")
    at.selectbox(key="up_entry_period_zh").select(OCTOBER).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def editor(at: AppTest) -> pd.DataFrame:
    found = list(at.data_editor)
    assert len(found) == 1
    return found[0].value


PROBLEM_COLUMNS = ["行", "指标", "旗区", "数值", "问题"]
CHANGE_COLUMNS = ["指标", "旗区", "月份", "原数值", "新数值"]


def table(at: AppTest, columns: list[str]) -> pd.DataFrame:
    """The one read-only table with these headers (the problem table, the changes table)."""
    found = [d.value for d in at.dataframe if d.editing_mode == "read_only" and list(d.value.columns) == columns]
    assert len(found) == 1, columns
    return found[0]


def errors(at: AppTest) -> list[str]:
    return [e.value for e in at.error]


def position(app_db: Path, kpi: str, district: str) -> int:
    frame = grid_of(app_db)
    return int(frame.index[(frame["kpi_id"] == kpi) & (frame["district_id"] == district)][0])


def submissions(app_db: Path) -> list[tuple]:
    con = connect(app_db)
    try:
        return con.execute(
            "select submission_id, file_name, user_name, reason, review_status from submissions order by submission_id"
        ).fetchall()
    finally:
        con.close()


def test_the_entry_rules_are_worded_as_in_the_template() -> None:
    for rule, (value_type, reporting) in {
        "increment": ("count", "increment"),
        "cumulative": ("count", "cumulative"),
        "level": ("count", "level"),
        "ratio": ("ratio", "level"),
        "flag": ("flag", "level"),
    }.items():
        assert i18n.t(f"entry_rule_{rule}", "zh") == rule_zh(value_type, reporting)
        assert i18n.t(f"entry_rule_{rule}", "en")


def test_the_entry_tab_comes_first_and_shows_the_months_grid_with_only_value_and_note_editable(
    app_db: Path,
) -> None:
    cfg: TargetsConfig = load_targets()
    at = open_entry()
    assert [t.label for t in at.tabs][:2] == ["在线填报", "下载模板"]
    shown = editor(at)
    frame = grid_of(app_db)
    assert len(shown) == len(frame) > 10
    assert list(shown["kpi"]) == [cfg.kpi_by_id[k].name_zh for k in frame["kpi_id"]]
    assert list(shown["district"]) == [cfg.district_by_id[d].name_zh for d in frame["district_id"]]
    assert list(shown["district"][:3]) == ["东胜区", "康巴什区", "达拉特旗"]
    assert (shown["kpi"][0], shown["unit"][0], shown["basis"][0]) == (
        "保障性租赁住房筹建套数",
        "套",
        "填本月新增数（不是累计数）",
    )
    # this month as submitted, last month for reference: read from the warehouse without etl.entry
    assert shown["value"][2] == entry.figure_text(reported(app_db, RENTAL, "dalad", OCTOBER))
    assert shown["last_month"][2] == reported(app_db, RENTAL, "dalad", SEPTEMBER)
    assert set(shown["problem"]) == {""}
    config = json.loads(at.data_editor[0].proto.columns)
    editable = sorted(c for c in shown.columns if not config.get(c, {}).get("disabled"))
    assert editable == ["note", "value"]


def test_a_valid_grid_is_checked_then_submitted_with_a_reason_pending_approval_and_its_draft_dropped(
    app_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # explanations a target may require before submitting are another feature's (entry_form.before_submit)
    monkeypatch.setattr(entry_form, "before_submit", lambda bureau_id, period: [])
    at_dalad = position(app_db, RENTAL, "dalad")
    before = reported(app_db, RENTAL, "dalad", OCTOBER)
    seed_draft(app_db, {(RENTAL, "dalad"): ("40", "补报1个项目")})
    draft = draft_of(app_db)
    assert draft is not None and before != 40.0
    at = open_entry()
    assert f"草稿已于 {draft.saved_at:%Y-%m-%d %H:%M} 由 housing 保存。" in [c.value for c in at.caption]
    assert editor(at)["value"][at_dalad] == "40"

    button(at, "检查").click().run()
    frame = grid_of(app_db)
    filled = int((frame[entry.VALUE].fillna("") != "").sum())
    assert f"检查通过：{filled}行已填写，{len(frame) - filled}行为空（视为本月未报送）。" in [
        s.value for s in at.success
    ]
    assert "本文件将修改1个已报送的数值（见下表），导入前请填写修改原因。" in [w.value for w in at.warning]
    change = table(at, CHANGE_COLUMNS).iloc[0].tolist()
    assert change == ["保障性租赁住房筹建套数", "达拉特旗", "2026年10月", f"{before:g}套", "40套"]

    count = len(submissions(app_db))
    button(at, "提交").click().run()
    assert CHANGE_REQUIRED in errors(at)
    assert len(submissions(app_db)) == count  # nothing sent without the reason

    at.text_area(key="entry_reason_housing_202610_0").input("补报漏报项目")
    button(at, "提交").click().run()

    assert not at.exception
    newest = submissions(app_db)[-1]
    assert newest[1:] == ("在线填报_housing_202610.csv", "housing", "补报漏报项目", "pending")
    success = [s.value for s in at.success]
    assert len(success) == 1 and f"已导入（报送编号{newest[0]}）" in success[0]
    assert success[0].endswith("已提交，待本单位审核人员审核后生效。")
    assert reported(app_db, RENTAL, "dalad", OCTOBER) == 40.0
    con = connect(app_db)
    try:
        assert review.approval_required(con, "housing")
        notes = con.execute(
            "select kpi_id, district_id, note from observation_notes where submission_id = ?", [newest[0]]
        )
        assert (RENTAL, "dalad", "补报1个项目") in notes.fetchall()
    finally:
        con.close()
    assert draft_of(app_db) is None
    assert not any(c.value.startswith("草稿已于") for c in at.caption)
    assert editor(at)["value"][at_dalad] == "40"  # the grid now holds the figure as submitted


def test_text_in_a_number_cell_is_the_etls_message_on_its_row_and_nothing_is_submitted(app_db: Path) -> None:
    at_dalad = position(app_db, RENTAL, "dalad")
    seed_draft(app_db, {(RENTAL, "dalad"): ("十二", "")})
    count = len(submissions(app_db))
    at = open_entry()

    button(at, "检查").click().run()

    assert "发现1个问题，未提交，数据未做任何更改。请按下表（及表格“问题”列）修改后再检查。" in errors(at)
    marks = editor(at)["problem"]
    assert marks[at_dalad] == NOT_A_NUMBER
    assert set(marks.drop(index=at_dalad)) == {""}
    problems = table(at, PROBLEM_COLUMNS)
    assert problems.values.tolist() == [[at_dalad + 1, "保障性租赁住房筹建套数", "达拉特旗", "十二", NOT_A_NUMBER]]

    button(at, "提交").click().run()

    assert not at.exception
    assert len(submissions(app_db)) == count
    assert editor(at)["problem"][at_dalad] == NOT_A_NUMBER
    draft = draft_of(app_db)
    assert draft is not None and draft.cells[(RENTAL, "dalad")] == ("十二", "")


def test_a_draft_saved_from_the_grid_is_there_in_a_new_session(app_db: Path) -> None:
    at_dalad = position(app_db, RENTAL, "dalad")
    at = open_entry()
    # what the browser sends after a clerk typed 38 and a note into the 达拉特旗 row
    at.session_state["entry_editor_housing_202610_0"] = {
        "edited_rows": {at_dalad: {"value": "38", "note": "核实后"}},
        "added_rows": [],
        "deleted_rows": [],
    }

    button(at, "保存草稿").click().run()

    draft = draft_of(app_db)
    assert draft is not None and draft.user_name == "housing"
    assert draft.cells[(RENTAL, "dalad")] == ("38", "核实后")
    assert f"草稿已于 {draft.saved_at:%Y-%m-%d %H:%M} 由 housing 保存。" in [c.value for c in at.caption]

    again = open_entry()  # a new session: signed in afresh
    shown = editor(again)
    assert (shown["value"][at_dalad], shown["note"][at_dalad]) == ("38", "核实后")
    assert f"草稿已于 {draft.saved_at:%Y-%m-%d %H:%M} 由 housing 保存。" in [c.value for c in again.caption]


def test_fill_from_last_month_copies_last_months_figures_into_the_empty_cells_only(app_db: Path) -> None:
    frame = grid_of(app_db)
    emptied = {key: ("", note) for key, (_, note) in entry.cells_of(frame).items()}
    emptied[(RENTAL, "dongsheng")] = ("5", "")
    seed_draft(app_db, emptied)
    at = open_entry()
    assert set(editor(at)["value"].fillna("")) == {"", "5"}

    button(at, "按上月数值填充").click().run()

    shown = editor(at)
    assert shown["value"][0] == "5"  # typed: kept
    at_dalad = position(app_db, RENTAL, "dalad")
    assert shown["value"][at_dalad] == entry.figure_text(reported(app_db, RENTAL, "dalad", SEPTEMBER))
    last = shown["last_month"]
    assert list(shown["value"][1:].isna()) == list(last[1:].isna())  # no figure last month: still empty
    draft = draft_of(app_db)
    assert draft is not None and draft.cells[(RENTAL, "dalad")][0] == ""  # filled, not saved


def test_a_message_of_the_before_submit_hook_stops_the_submission(
    app_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[tuple[str, dt.date]] = []

    def blocking(bureau_id: str, period: dt.date) -> list[str]:
        asked.append((bureau_id, period))
        return ["2026年10月“保障性租赁住房”的情况说明未填写"]

    monkeypatch.setattr(entry_form, "before_submit", blocking)
    seed_draft(app_db, {(RENTAL, "dalad"): ("40", "")})
    count = len(submissions(app_db))
    at = open_entry()

    button(at, "提交").click().run()

    assert asked == [("housing", OCTOBER)]
    assert "2026年10月“保障性租赁住房”的情况说明未填写" in errors(at)
    assert len(submissions(app_db)) == count
    assert draft_of(app_db) is not None


def test_the_grid_speaks_english_after_the_toggle(app_db: Path) -> None:
    at = open_page("housing", "upload", "en")
    at.selectbox(key="up_entry_period_en").select(OCTOBER).run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.tabs[0].label == "Online entry"
    shown = editor(at)
    assert (shown["district"][0], shown["basis"][0]) == ("Dongsheng", "New this month (not cumulative)")
    assert [b.label for b in at.button if b.label.startswith(("Fill", "Check", "Save", "Submit"))][:4] == [
        "Fill empty cells with last month", "Check", "Save draft", "Submit",
    ]  # fmt: skip
