"""审核 in the app (AppTest, a copy of the demo warehouse up to 2026-10): the housing approver approves
or returns the demo's pending submission, the reporter sees the comment, the leader sees the pending
count and includes the figures with the sidebar toggle, the admin switches approval off for a bureau.

The demo's housing reporter has, for 2026-10, one pending submission (36 and 18 rental units more in
东胜区 and 康巴什区 than the approved report) and one returned with a comment (etl.demo._demo_review).
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pytest

from etl.demo import PENDING_EXTRA, RETURN_COMMENT
from monitor import briefing, db, fmt, progress
from monitor.targets import load_targets
from tests.test_app_pages import (  # noqa: F401  (_harness: the autouse AppTest harness of the page tests)
    AS_OF,
    KNOWN_TARGET,
    _harness,
    assert_clean,
    button,
    frames,
    open_page,
    start,
    titles,
)

APPROVER = "housing_approver"
PENDING_FILE = "housing_202610_补报.csv"
RETURNED_FILE = "housing_202610_更正.csv"
ADDED = sum(PENDING_EXTRA.values())  # 54 rental units wait for approval


def query(path: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = db.connect(path)  # the same configuration as the app's connection (DuckDB requires it)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def pending_sid(path: Path) -> int:
    [(sid,)] = query(path, "select submission_id from submissions where file_name = ?", [PENDING_FILE])
    return int(sid)


def rental_actual(path: Path, include_pending: bool) -> float:
    con = db.connect(path)
    try:
        cursor = db.cursor(con)
        if include_pending:
            cursor.execute("set variable include_pending = true")
        card = progress.scorecard(cursor, AS_OF, cfg=load_targets())
        return float(card.set_index("target_id").loc[KNOWN_TARGET, "actual"])
    finally:
        con.close()


def texts(elements: object) -> list[str]:
    return [e.value for e in elements]  # type: ignore[attr-defined]


def test_the_demo_has_one_pending_and_one_returned_housing_submission(app_db: Path) -> None:
    rows = query(
        app_db,
        "select file_name, user_name, review_status, reviewed_by, review_comment from submissions "
        "where review_status <> 'approved' order by submission_id",
    )
    assert rows == [
        (PENDING_FILE, "housing", "pending", None, None),
        (RETURNED_FILE, "housing", "returned", APPROVER, RETURN_COMMENT),
    ]


def test_the_approver_sees_the_pending_submission_and_approves_it(app_db: Path) -> None:
    sid = pending_sid(app_db)
    before = rental_actual(app_db, include_pending=False)
    at = start(APPROVER)
    assert "1项待审核" in texts(at.warning)  # the open item on the landing page
    at.switch_page("pages/review.py").run()
    assert_clean(at)
    assert titles(at) == ["数据审核"]
    assert texts(at.subheader)[0] == "待审核的报送（1）"
    line = next(m for m in texts(at.markdown) if f"第{sid}号报送" in m)
    assert fmt.plain(PENDING_FILE) in line and "· housing ·" in line and "2行" in line
    shown = frames(at)[0]
    assert list(shown.columns) == ["指标", "旗区", "月份", "数值", "现行数值（已审核）", "备注"]
    approved = dict(
        query(
            app_db,
            "select district_id, value from current_observations where kpi_id = 'rental_housing_units' and period = ?",
            [AS_OF],
        )
    )
    expected = [
        ["保障性租赁住房筹建套数", name, "2026年10月", fmt.number_zh(approved[unit] + extra, "套"),
         fmt.number_zh(approved[unit], "套"), "补录当月新开工项目"]
        for unit, name, extra in (("dongsheng", "东胜区", 36), ("kangbashi", "康巴什区", 18))
    ]  # fmt: skip
    assert shown.values.tolist() == expected
    # the returned one is listed below with its comment
    returned = frames(at)[-1]
    assert list(returned["退回意见"]) == [RETURN_COMMENT] and list(returned["审核人员"]) == [APPROVER]

    button(at, "审核通过").click().run()
    assert_clean(at)
    assert texts(at.success) == [f"第{sid}号报送已审核通过，数据已计入。"]
    assert texts(at.subheader)[0] == "待审核的报送（0）"
    assert "目前没有待审核的报送。" in texts(at.info)
    assert query(app_db, "select review_status, reviewed_by from submissions where submission_id = ?", [sid]) == [
        ("approved", APPROVER)
    ]
    assert rental_actual(app_db, include_pending=False) == before + ADDED  # leadership counts it now


def test_a_return_needs_a_comment_and_the_reporter_then_sees_it(app_db: Path) -> None:
    sid = pending_sid(app_db)
    at = open_page(APPROVER, "review")
    button(at, "退回").click().run()
    assert texts(at.error) == ["退回时请填写意见"]
    assert query(app_db, "select review_status from submissions where submission_id = ?", [sid]) == [("pending",)]
    comment = "康巴什区新开工项目未附立项文件，请补充后重新报送。"
    at.text_area(key=f"rv_comment_{sid}").input(comment)
    button(at, "退回").click().run()
    assert_clean(at)
    assert texts(at.success) == [f"第{sid}号报送已退回。"]
    assert list(frames(at)[-1]["退回意见"]) == [comment, RETURN_COMMENT]  # newest first

    reporter = start("housing")
    assert "2项被退回" in texts(reporter.warning)  # both returned since the bureau's last approved report
    reporter.switch_page("pages/upload.py").run()
    assert_clean(reporter)
    [box] = [w for w in texts(reporter.warning) if "被退回的报送" in w]
    assert fmt.plain(f"（2026年10月）· 审核人员 {APPROVER} · ") in box
    assert fmt.plain(comment) in box and fmt.plain(RETURN_COMMENT) in box
    assert not [i for i in texts(reporter.info) if i.startswith("待审核：")]  # nothing pending any more


def test_the_reporter_sees_what_is_pending_before_review(app_db: Path) -> None:
    at = open_page("housing", "upload")
    assert_clean(at)
    [pending] = [i for i in texts(at.info) if i.startswith("待审核：")]
    assert pending.startswith(fmt.plain(f"待审核：{PENDING_FILE}（2026年10月）· 提交于 2026-"))
    assert "1项被退回" in texts(start("housing").warning)


def test_the_leader_sees_the_pending_count_and_may_include_the_figures(app_db: Path) -> None:
    approved, included = rental_actual(app_db, False), rental_actual(app_db, True)
    assert included == approved + ADDED
    at = open_page("leader", "overview")
    assert "另有2项数据待审核，未计入" in texts(at.caption)
    assert not [w for w in texts(at.warning) if w.startswith("含待审核数据")]

    def shown_actual() -> str:
        table = pd.concat(frames(at), ignore_index=True)
        row = table[table["目标"] == "三年内筹建保障性租赁住房1.5万套以上"]
        return str(row["最新实际"].iloc[0])

    assert shown_actual() == fmt.number_zh(approved, "套")
    at.toggle(key="include_pending").set_value(True).run()
    assert_clean(at)
    assert "已包含2项待审核数据" in texts(at.caption)
    assert "含待审核数据：本页包含2项尚未审核通过的数据（侧栏可关闭）。" in texts(at.warning)
    assert shown_actual() == fmt.number_zh(included, "套")
    at.switch_page("pages/target_detail.py").run()  # every page carries the label
    assert "含待审核数据：本页包含2项尚未审核通过的数据（侧栏可关闭）。" in texts(at.warning)
    at.toggle(key="include_pending").set_value(False).run()
    assert not [w for w in texts(at.warning) if w.startswith("含待审核数据")]


def test_reporters_and_approvers_have_no_pending_toggle(app_db: Path) -> None:
    for user in ("housing", APPROVER):
        at = start(user)
        assert not [t for t in at.toggle if t.key == "include_pending"], user
        assert not [c for c in texts(at.caption) if "待审核" in c], user


def test_the_briefing_says_when_it_counts_pending_figures(demo_db: Path) -> None:
    con = duckdb.connect(str(demo_db), read_only=True)
    try:
        cfg = load_targets()
        plain = briefing.data.collect(db.cursor(con), cfg, AS_OF, targets=[KNOWN_TARGET])
        cursor = db.cursor(con)
        cursor.execute("set variable include_pending = true")
        with_pending = briefing.data.collect(cursor, cfg, AS_OF, targets=[KNOWN_TARGET])
    finally:
        con.close()
    assert "含待审核数据" not in plain.note
    assert with_pending.note.startswith("数据来源：") and " · 含待审核数据 · " in with_pending.note
    assert with_pending.card.iloc[0]["actual"] == plain.card.iloc[0]["actual"] + ADDED


def test_the_admin_switches_approval_off_for_a_bureau(app_db: Path) -> None:
    at = open_page("admin", "admin")
    box = at.checkbox(key="adm_review_housing")
    assert box.value is True and box.label == "市住房和城乡建设局 · 需要审核"
    box.uncheck().run()
    assert_clean(at)
    assert "市住房和城乡建设局：无需审核（提交即计入）" in texts(at.success)
    assert at.checkbox(key="adm_review_housing").value is False
    assert at.checkbox(key="adm_review_transport").value is True
    assert query(app_db, "select bureau_id, approval_required, set_by from bureau_review") == [
        ("housing", False, "admin")
    ]
    [(detail,)] = query(app_db, "select detail from audit_log where action = 'approval_setting'")
    assert detail == '{"bureau": "housing", "required": false}'


def test_the_admin_sees_the_queue_but_no_buttons(app_db: Path) -> None:
    at = open_page("admin", "review")
    assert_clean(at)
    at.selectbox(key="rv_bureau_zh").select("housing").run()
    assert texts(at.subheader)[0] == "待审核的报送（1）"
    assert len(frames(at)[0]) == 2
    assert not [b for b in at.button if b.label in ("审核通过", "退回")]


@pytest.mark.parametrize(
    ("user", "allowed", "refused"),
    [
        (APPROVER, ("review", "overview", "data_quality", "briefing"), ("upload", "admin")),
        ("housing", ("upload",), ("review",)),
        ("leader", ("overview",), ("review",)),
    ],
)
def test_who_reaches_the_review_page(app_db: Path, user: str, allowed: tuple, refused: tuple) -> None:
    at = start(user)
    for page in allowed:
        at.switch_page(f"pages/{page}.py").run()
        assert_clean(at)
    for page in refused:
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            at.switch_page(f"pages/{page}.py")


def test_an_approver_sees_only_its_own_bureau_s_history_on_data_quality(app_db: Path) -> None:
    at = open_page(APPROVER, "data_quality")
    assert_clean(at)
    assert [t.label for t in at.tabs][-1] == "本单位报送记录"
    own = {r[0] for r in query(app_db, "select submission_id from submissions where bureau_id = 'housing'")}
    assert set(frames(at)[-1]["报送编号"]) == own


def test_an_approver_is_a_demo_account_listed_on_the_sign_in_page(app_db: Path) -> None:
    at = start(None)
    listed = frames(at)[0]
    row = listed[listed["账号"] == APPROVER].iloc[0]
    assert (row["密码"], row["角色"], row["责任单位"]) == ("housing_approver-0477", "审核人员", "市住房和城乡建设局")


def test_the_review_page_and_the_leader_s_count_in_english(app_db: Path) -> None:
    at = open_page(APPROVER, "review", "en")
    assert_clean(at)
    assert titles(at) == ["Review"]
    assert texts(at.subheader) == ["Pending submissions (1)", "Returned submissions"]
    assert list(frames(at)[0].columns) == ["KPI", "District", "Month", "Value", "Approved figure now", "Note"]
    assert [b.label for b in at.button if b.key and b.key.startswith("rv_")] == ["Approve", "Return"]
    leader = start("leader", "en")
    assert "2 figure(s) pending review, not counted" in texts(leader.caption)
