"""督办 in the app (issue 15), with AppTest against a copy of the demo warehouse (today pinned to
2026-11-26 by test_app_pages' harness): a leader opens an action on an off-track transport target on its
detail page; the transport reporter sees it first on sign-in, records progress and asks to close; the
leader closes it, then reopens it; an action past its due date is flagged on the detail, the bureau
page and in the open-items box; a reporter sees no form to open one. Expected values are read from the
warehouse, not from the page.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pytest

from monitor import actions, auth, db, i18n, progress
from monitor.targets import load_targets
from tests.test_app_pages import (  # noqa: F401  (_harness: the AppTest fixture, autouse here too)
    AS_OF,
    _harness,
    assert_clean,
    open_page,
    start,
)

USER = i18n.t("user_name")
ASKED = "请说明进度滞后原因，**12月底前**报送追赶计划"  # Markdown characters: shown as typed


@contextmanager
def warehouse(path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """The test's copy of the demo warehouse (the app in this process shares the database)."""
    con = db.connect(path)
    try:
        yield con
    finally:
        con.close()


@pytest.fixture
def off_track(app_db: Path) -> str:
    """A target led by transport that is off track as of the demo's last month (the demo's housing
    targets are all on track; transport's bus mode share is off track)."""
    with warehouse(app_db) as con:
        card = progress.scorecard(con, AS_OF, cfg=load_targets())
    found = card[(card["lead_bureau"] == "transport") & (card["status"] == "off_track")]
    assert not found.empty, card[card["lead_bureau"] == "transport"][["target_id", "status"]]
    return str(found["target_id"].iloc[0])


# the tables of dashboard.action_views by their columns (AppTest does not expose a dataframe's key)
ACTIONS = ["编号", "责任单位", "督办要求", "办理时限", "状态", "逾期", "最新进展", "交办人"]
COLUMNS = {
    "fa_table": ACTIONS,
    "fa_mine": ["编号", "指标", *ACTIONS[2:]],  # the reader's own bureau: no bureau column
    "fa_bureau_table": ["编号", "指标", *ACTIONS[1:]],
    "fa_history": ["时间", "环节", i18n.t("user_name"), "内容"],
    "fa_per_bureau": ["责任单位", "状态"],
}


def table(at, name: str) -> list[dict]:
    """The one table on the page with the columns of ``name``."""
    found = [d.value for d in at.dataframe if list(d.value.columns) == COLUMNS[name]]
    assert len(found) == 1, (name, [list(d.value.columns) for d in at.dataframe])
    return found[0].to_dict("records")


def no_table(at, name: str) -> bool:
    return not [d for d in at.dataframe if list(d.value.columns) == COLUMNS[name]]


def warnings(at) -> list[str]:
    return [w.value for w in at.warning]


def test_an_action_goes_round_leader_bureau_leader(app_db: Path, off_track: str) -> None:
    # the leader opens it on the off-track target's detail
    at = open_page("leader", "target_detail", target=off_track)
    assert_clean(at)
    assert "暂无督办事项。" in [c.value for c in at.caption]
    assert at.selectbox(key="fa_open_bureau").value == "transport"  # the lead bureau first
    at.text_area(key="fa_open_asked").input(ASKED)
    at.date_input(key="fa_open_due").set_value(dt.date(2026, 12, 31))
    at.button(key="fa_open_submit").click().run()
    assert_clean(at)
    assert [s.value for s in at.success] == ["已交办第1号督办事项。"]
    rows = table(at, "fa_table")
    assert [(r["编号"], r["督办要求"], r["办理时限"], r["状态"], r["逾期"], r["交办人"]) for r in rows] == [
        (1, ASKED, "2026-12-31", "办理中", "", "leader")
    ]
    with warehouse(app_db) as con:
        stored = actions.open_actions(con, today=dt.date(2026, 11, 26))
    assert stored[["target_id", "bureau_id", "asked", "state"]].values.tolist() == [
        [off_track, "transport", ASKED, "open"]
    ]

    # the transport reporter sees it first on sign-in
    home = start("transport")
    assert_clean(home)
    assert "1项督办事项待办" in warnings(home)
    mine = table(home, "fa_mine")
    assert [(r["编号"], r["督办要求"], r["状态"]) for r in mine] == [(1, ASKED, "办理中")]

    # … records progress, then asks to close
    bureau = open_page("transport", "target_detail", target=off_track)
    assert_clean(bureau)
    assert not [b for b in bureau.button if b.key in ("fa_open_submit", "fa_close_1")]
    bureau.text_area(key="fa_note_1").input("已新开通公交线路3条")
    bureau.button(key="fa_respond_1").click().run()
    assert_clean(bureau)
    assert [s.value for s in bureau.success] == ["已记录进展。"]
    bureau.text_area(key="fa_note_1").input("追赶计划已报送")
    bureau.button(key="fa_request_1").click().run()
    assert_clean(bureau)
    assert [s.value for s in bureau.success] == ["已申请办结，待领导审定。"]
    row = table(bureau, "fa_table")[0]
    assert (row["状态"], row["最新进展"]) == ("申请办结", "追赶计划已报送")
    after = start("transport")  # nothing left for the bureau to answer: no line, no list
    assert "督办事项" not in " ".join(warnings(after))
    assert no_table(after, "fa_mine")

    # the leader is told, closes it, then reopens it with a comment
    lead_home = start("leader")
    assert "1项督办事项申请办结，待审定" in warnings(lead_home)
    leader = open_page("leader", "target_detail", target=off_track)
    leader.button(key="fa_close_1").click().run()
    assert [e.value for e in leader.error] == ["请填写意见。"]  # refused on the server, nothing written
    leader.text_area(key="fa_comment_1").input("同意办结")
    leader.button(key="fa_close_1").click().run()
    assert_clean(leader)
    assert [s.value for s in leader.success] == ["已办结。"]
    assert table(leader, "fa_table")[0]["状态"] == "已办结"
    leader.text_area(key="fa_comment_1").input("11月数据仍未达到序时进度")
    leader.button(key="fa_reopen_1").click().run()
    assert_clean(leader)
    assert [s.value for s in leader.success] == ["已重新打开。"]
    assert table(leader, "fa_table")[0]["状态"] == "办理中"
    steps = table(leader, "fa_history")
    assert [(s["环节"], s[USER], s["内容"]) for s in steps] == [
        ("交办", "leader", ASKED),
        ("反馈进展", "transport", "已新开通公交线路3条"),
        ("申请办结", "transport", "追赶计划已报送"),
        ("办结", "leader", "同意办结"),
        ("重新打开", "leader", "11月数据仍未达到序时进度"),
    ]
    assert "1项督办事项待办" in warnings(start("transport"))  # back on the bureau's list


def test_an_overdue_action_is_flagged_on_every_page(app_db: Path, off_track: str) -> None:
    with warehouse(app_db) as con:
        leader = auth.get_user(con, "leader")
        assert leader is not None
        # opened on 1 November, due 20 November: overdue on the pinned day, 26 November
        actions.open_action(
            con, load_targets(), leader, off_track, "transport", "请报送整改方案", dt.date(2026, 11, 20),
            today=dt.date(2026, 11, 1),
        )  # fmt: skip
    detail = open_page("leader", "target_detail", target=off_track)
    assert_clean(detail)
    row = table(detail, "fa_table")[0]
    assert (row["办理时限"], row["逾期"]) == ("2026-11-20", "已逾期")

    bureaus = open_page("leader", "bureaus")
    assert_clean(bureaus)
    transport = load_targets().bureau_by_id["transport"].name_zh
    assert {"责任单位": transport, "状态": "1项（1项逾期）"} in table(bureaus, "fa_per_bureau")
    bureaus.selectbox(key="bureau_pick_zh").select("transport").run()
    assert [(r["督办要求"], r["逾期"]) for r in table(bureaus, "fa_bureau_table")] == [("请报送整改方案", "已逾期")]

    home = start("transport")
    assert "1项督办事项待办（1项逾期）" in warnings(home)


def test_a_reporter_sees_no_form_to_open_an_action_and_others_no_steps(app_db: Path, off_track: str) -> None:
    at = open_page("transport", "target_detail", target=off_track)
    assert_clean(at)
    assert not [t for t in at.text_area if t.key == "fa_open_asked"]
    assert not [b for b in at.button if b.key == "fa_open_submit"]
    with warehouse(app_db) as con:
        leader = auth.get_user(con, "leader")
        assert leader is not None
        actions.open_action(
            con,
            load_targets(),
            leader,
            off_track,
            "transport",
            "请推进",
            dt.date(2026, 12, 31),
            today=dt.date(2026, 11, 26),
        )
    other = open_page("housing", "target_detail", target=off_track)
    assert_clean(other)
    assert table(other, "fa_table")[0]["督办要求"] == "请推进"  # everyone may read the list
    assert not [b for b in other.button if (b.key or "").startswith("fa_")]  # another bureau cannot answer it
    assert not [w for w in warnings(start("housing")) if "督办" in w]


def test_the_section_and_the_open_item_read_in_english(app_db: Path, off_track: str) -> None:
    with warehouse(app_db) as con:
        leader = auth.get_user(con, "leader")
        assert leader is not None
        actions.open_action(
            con, load_targets(), leader, off_track, "transport", "Catch-up plan", dt.date(2026, 11, 20),
            today=dt.date(2026, 11, 1),
        )  # fmt: skip
    detail = open_page("leader", "target_detail", "en", target=off_track)
    assert_clean(detail)
    assert "Follow-up actions" in [h.value for h in detail.subheader]
    rows = [d.value for d in detail.dataframe if "Asked" in d.value.columns]
    assert [(r["Asked"], r["Due"], r["State"], r["Overdue"]) for r in rows[0].to_dict("records")] == [
        ("Catch-up plan", "2026-11-20", "Open", "Overdue")
    ]
    assert "1 follow-up action(s) to answer (1 overdue)" in warnings(start("transport", "en"))
