"""审核 rules (monitor.review) on a small warehouse: who may approve or return what, with the exact
message each refusal gives; what leadership counts before and after a review (progress.scorecard on a
plain cursor, and on one that includes pending figures); the admin's switch; the audit trail; rebuild.

Hand-computed: rental_15k counts the monthly increments of rental_housing_units (sum over districts).
100 units approved for 2025-03 and 50 pending for 2025-04 read 100 as of 2025-04 for leadership,
150 with pending figures included, and 150 for everyone once approved.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import duckdb
import pandas as pd
import pytest

from etl.load import LoadResult, load_bytes
from etl.rebuild import rebuild_warehouse
from monitor import auth, db, progress, review
from monitor.auth import User
from monitor.review import ReviewError
from monitor.targets import TargetsConfig
from tests.conftest import TODAY, Warehouse

RENTAL = "rental_housing_units"
APRIL = dt.date(2025, 4, 1)


def csv(rows: list[tuple[str, str, str, object]], notes: list[str] | None = None) -> bytes:
    if notes is None:
        return ("指标编码,旗区,报送期,数值\n" + "".join(f"{k},{d},{p},{v}\n" for k, d, p, v in rows)).encode()
    lines = [f"{k},{d},{p},{v},{n}\n" for (k, d, p, v), n in zip(rows, notes, strict=True)]
    return ("指标编码,旗区,报送期,数值,备注\n" + "".join(lines)).encode()


@pytest.fixture
def people(warehouse: Warehouse) -> dict[str, User]:
    """A housing reporter and approver, a transport approver, an admin and a leader."""
    con = warehouse.con
    made = {
        "reporter": auth.add_user(con, "zhangsan", "zhang-secret-1", "reporter", bureau_id="housing"),
        "approver": auth.add_user(con, "wangwu", "wang-secret-1", "approver", bureau_id="housing"),
        "other_approver": auth.add_user(con, "lisi", "lisi-secret-1", "approver", bureau_id="transport"),
        "admin": auth.add_user(con, "boss", "boss-secret-1", "admin"),
        "leader": auth.add_user(con, "leader_li", "li-secret-01", "leader"),
    }
    return made


def submit(w: Warehouse, cfg: TargetsConfig, user: User, name: str, data: bytes, **kw: Any) -> LoadResult:
    """A load as the upload page makes it: the review status the user and bureau call for."""
    status = review.status_on_submit(w.con, user, "housing")
    result = load_bytes(
        name, data, cfg, "housing", user.user_name, w.con, archive=w.archive, today=TODAY, review_status=status, **kw
    )
    assert result.ok, result.problems
    return result


def actual(con: duckdb.DuckDBPyConnection, cfg: TargetsConfig, as_of: dt.date = APRIL) -> float:
    card = progress.scorecard(con, as_of, cfg=cfg).set_index("target_id")
    return float(card.loc["rental_15k", "actual"])


def including(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """A cursor that shows pending figures, as dashboard.data.con() hands a leader who chose them."""
    cursor = db.cursor(con)
    cursor.execute("set variable include_pending = true")
    return cursor


@pytest.fixture
def month(warehouse: Warehouse, cfg: TargetsConfig, people: dict[str, User]) -> int:
    """March approved (admin's load), April pending (the reporter's): the pending submission's number."""
    submit(warehouse, cfg, people["admin"], "march.csv", csv([(RENTAL, "东胜区", "2025-03", 100)]))
    pending = submit(warehouse, cfg, people["reporter"], "april.csv", csv([(RENTAL, "东胜区", "2025-04", 50)]))
    assert pending.submission_id is not None
    return pending.submission_id


def status_of(con: duckdb.DuckDBPyConnection, sid: int) -> tuple:
    return db.one(
        con, "select review_status, reviewed_by, review_comment from submissions where submission_id = ?", [sid]
    )  # type: ignore[return-value]


# -- who may review --------------------------------------------------------------------------------------


def test_a_reporter_s_submission_waits_and_an_admin_s_is_approved(warehouse: Warehouse, month: int) -> None:
    assert status_of(warehouse.con, month) == ("pending", None, None)
    assert db.scalar(warehouse.con, "select review_status from submissions where file_name = 'march.csv'") == "approved"


def test_a_reporter_cannot_approve(warehouse: Warehouse, people: dict[str, User], month: int) -> None:
    with pytest.raises(ReviewError) as caught:
        review.approve(warehouse.con, people["reporter"], month)
    assert caught.value.text("zh") == "只有本单位的审核人员可以审核"
    assert caught.value.text("en") == "Only the bureau's approver may review"
    assert status_of(warehouse.con, month) == ("pending", None, None)


@pytest.mark.parametrize("who", ["other_approver", "admin", "leader"])
def test_only_an_approver_of_the_submission_s_bureau_may_review(
    warehouse: Warehouse, people: dict[str, User], month: int, who: str
) -> None:
    with pytest.raises(ReviewError, match="只有本单位的审核人员可以审核"):
        review.approve(warehouse.con, people[who], month)
    with pytest.raises(ReviewError, match="只有本单位的审核人员可以审核"):
        review.return_submission(warehouse.con, people[who], month, "请核实")
    assert status_of(warehouse.con, month) == ("pending", None, None)


def test_a_disabled_approver_cannot_review(warehouse: Warehouse, people: dict[str, User], month: int) -> None:
    auth.set_active(warehouse.con, "wangwu", False)
    disabled = auth.get_user(warehouse.con, "wangwu")
    assert disabled is not None
    with pytest.raises(ReviewError, match="只有本单位的审核人员可以审核"):
        review.approve(warehouse.con, disabled, month)


def test_nobody_reviews_their_own_submission(warehouse: Warehouse, cfg: TargetsConfig, people: dict[str, User]) -> None:
    """A reporter later made approver (the same account name) still cannot sign off what they sent."""
    own = load_bytes(
        "mine.csv", csv([(RENTAL, "东胜区", "2025-05", 7)]), cfg, "housing", "wangwu", warehouse.con,
        archive=warehouse.archive, today=TODAY, review_status="pending",
    )  # fmt: skip
    assert own.submission_id is not None
    with pytest.raises(ReviewError) as caught:
        review.approve(warehouse.con, people["approver"], own.submission_id)
    assert caught.value.text("zh") == "不能审核自己提交的报送"
    with pytest.raises(ReviewError, match="不能审核自己提交的报送"):
        review.return_submission(warehouse.con, people["approver"], own.submission_id, "自查退回")
    assert status_of(warehouse.con, own.submission_id) == ("pending", None, None)


def test_a_return_needs_a_comment_of_at_most_500_characters(
    warehouse: Warehouse, people: dict[str, User], month: int
) -> None:
    approver = people["approver"]
    for blank in ("", "   \n "):
        with pytest.raises(ReviewError) as caught:
            review.return_submission(warehouse.con, approver, month, blank)
        assert caught.value.text("zh") == "退回时请填写意见"
    with pytest.raises(ReviewError) as caught:
        review.return_submission(warehouse.con, approver, month, "数" * 501)
    assert caught.value.text("zh") == "意见最多500个字，现为501个字"
    assert status_of(warehouse.con, month) == ("pending", None, None)
    review.return_submission(warehouse.con, approver, month, " " + "数" * 500 + " ")  # trimmed: exactly 500
    assert status_of(warehouse.con, month) == ("returned", "wangwu", "数" * 500)


def test_a_reviewed_submission_is_not_reviewed_again(warehouse: Warehouse, people: dict[str, User], month: int) -> None:
    review.approve(warehouse.con, people["approver"], month)
    with pytest.raises(ReviewError) as caught:
        review.return_submission(warehouse.con, people["approver"], month, "晚了")
    assert caught.value.text("zh") == f"第{month}号报送已审核，无需再审核"
    with pytest.raises(ReviewError, match="未找到第999号报送"):
        review.approve(warehouse.con, people["approver"], 999)


# -- what leadership counts ------------------------------------------------------------------------------


def test_pending_figures_count_only_on_a_cursor_that_includes_them(
    warehouse: Warehouse, cfg: TargetsConfig, month: int
) -> None:
    con = warehouse.con
    assert actual(con, cfg) == 100  # leadership: March only
    assert actual(including(con), cfg) == 150  # the leader's labelled choice: March + April
    assert review.including_pending(con) is False and review.including_pending(including(con)) is True
    assert review.pending_figures(con) == 1


def test_approving_makes_the_figures_count(
    warehouse: Warehouse, cfg: TargetsConfig, people: dict[str, User], month: int
) -> None:
    review.approve(warehouse.con, people["approver"], month)
    assert status_of(warehouse.con, month) == ("approved", "wangwu", None)
    assert actual(warehouse.con, cfg) == 150
    assert review.pending_figures(warehouse.con) == 0


def test_returned_figures_never_count(
    warehouse: Warehouse, cfg: TargetsConfig, people: dict[str, User], month: int
) -> None:
    review.return_submission(warehouse.con, people["approver"], month, "东胜区数据与台账不符，请核实")
    assert actual(warehouse.con, cfg) == 100
    assert actual(including(warehouse.con), cfg) == 100
    assert review.pending_figures(warehouse.con) == 0
    assert review.returned_open(warehouse.con, "housing") == 1
    # the reporter sends the month again: pending, and only its figure counts once included
    submit(warehouse, cfg, people["reporter"], "april2.csv", csv([(RENTAL, "东胜区", "2025-04", 40)]))
    assert review.returned_open(warehouse.con, "housing") == 0  # answered by the new submission
    assert actual(including(warehouse.con), cfg) == 140


def test_the_approver_sees_each_figure_beside_the_approved_one_with_the_note(
    warehouse: Warehouse, cfg: TargetsConfig, people: dict[str, User], month: int
) -> None:
    revised = submit(
        warehouse, cfg, people["reporter"], "fix.csv",
        csv([(RENTAL, "东胜区", "2025-03", 112), (RENTAL, "康巴什区", "2025-03", 9)], ["补录漏报项目", ""]),
        reason="补录漏报项目",
    )  # fmt: skip
    assert revised.submission_id is not None
    shown = review.figures(warehouse.con, revised.submission_id)
    rows = [
        (r.kpi_id, r.district_id, r.period.date(), r.value, None if pd.isna(r.approved_value) else r.approved_value)
        for r in shown.itertuples()
    ]
    assert rows == [
        (RENTAL, "dongsheng", dt.date(2025, 3, 1), 112.0, 100.0),  # the approved March figure in force
        (RENTAL, "kangbashi", dt.date(2025, 3, 1), 9.0, None),  # new: nothing approved yet
    ]
    assert list(shown["note"].fillna("")) == ["补录漏报项目", ""]
    # on a cursor with pending figures the comparison is still with the approved figure, not itself
    assert list(review.figures(including(warehouse.con), revised.submission_id)["approved_value"].fillna(-1)) == [
        100.0,
        -1,
    ]


# -- approval switched off -------------------------------------------------------------------------------


def test_with_approval_off_a_reporter_s_submission_is_approved_on_submit(
    warehouse: Warehouse, cfg: TargetsConfig, people: dict[str, User]
) -> None:
    con = warehouse.con
    assert review.approval_required(con, "housing") is True  # on unless switched off
    with pytest.raises(ReviewError) as caught:
        review.set_approval_required(con, people["approver"], "housing", False)
    assert caught.value.text("zh") == "只有系统管理员可以设置审核流程"
    with pytest.raises(ReviewError, match="未知责任单位：nowhere"):
        review.set_approval_required(con, people["admin"], "nowhere", False)
    review.set_approval_required(con, people["admin"], "housing", False)
    assert review.approval_required(con, "housing") is False
    assert review.approval_required(con, "transport") is True
    result = submit(warehouse, cfg, people["reporter"], "may.csv", csv([(RENTAL, "东胜区", "2025-04", 30)]))
    assert status_of(con, result.submission_id) == ("approved", None, None)  # type: ignore[arg-type]
    assert actual(con, cfg) == 30
    review.set_approval_required(con, people["admin"], "housing", True)
    assert review.status_on_submit(con, people["reporter"], "housing") == "pending"


# -- audit and rebuild -----------------------------------------------------------------------------------


def events(con: duckdb.DuckDBPyConnection, *actions: str) -> list[tuple[str, str, dict]]:
    found = con.execute(
        "select user_name, action, detail from audit_log where list_contains(?, action) order by event_id",
        [list(actions)],
    ).fetchall()
    return [(user, action, json.loads(detail)) for user, action, detail in found]


def test_every_review_step_is_audited(
    warehouse: Warehouse, cfg: TargetsConfig, people: dict[str, User], month: int
) -> None:
    con = warehouse.con
    second = submit(warehouse, cfg, people["reporter"], "may.csv", csv([(RENTAL, "东胜区", "2025-05", 20)]))
    review.approve(con, people["approver"], month)
    review.return_submission(con, people["approver"], second.submission_id, "请附项目清单")  # type: ignore[arg-type]
    review.set_approval_required(con, people["admin"], "housing", False)
    uploads = events(con, "upload_accepted")
    assert [(u, d["file"], d["review"]) for u, _, d in uploads] == [
        ("boss", "march.csv", "approved"),
        ("zhangsan", "april.csv", "pending"),
        ("zhangsan", "may.csv", "pending"),
    ]
    assert events(con, "review_approve", "review_return", "approval_setting") == [
        ("wangwu", "review_approve", {"submission_id": month, "bureau": "housing", "by": "zhangsan"}),
        (
            "wangwu",
            "review_return",
            {"submission_id": second.submission_id, "bureau": "housing", "by": "zhangsan", "comment": "请附项目清单"},
        ),
        ("boss", "approval_setting", {"bureau": "housing", "required": False}),
    ]


def test_a_refused_step_changes_nothing_and_logs_nothing(
    warehouse: Warehouse, people: dict[str, User], month: int
) -> None:
    before = db.scalar(warehouse.con, "select count(*) from audit_log")
    with pytest.raises(ReviewError):
        review.approve(warehouse.con, people["reporter"], month)
    assert db.scalar(warehouse.con, "select count(*) from audit_log") == before


@pytest.mark.duckdb_file
def test_rebuild_keeps_review_states_and_the_approval_switch(
    warehouse: Warehouse, cfg: TargetsConfig, people: dict[str, User], month: int
) -> None:
    con = warehouse.con
    returned = submit(warehouse, cfg, people["reporter"], "may.csv", csv([(RENTAL, "东胜区", "2025-05", 20)]))
    waiting = submit(warehouse, cfg, people["reporter"], "june.csv", csv([(RENTAL, "东胜区", "2025-06", 5)]))
    review.approve(con, people["approver"], month)
    review.return_submission(con, people["approver"], returned.submission_id, "请附项目清单")  # type: ignore[arg-type]
    review.set_approval_required(con, people["admin"], "transport", False)
    reviews = (
        "select submission_id, review_status, reviewed_by, reviewed_at, review_comment from submissions order by 1"
    )
    before = con.execute(reviews).fetchall()
    current = con.execute("select * exclude (loaded_at) from current_observations order by all").fetchall()
    con.close()

    rebuild_warehouse(warehouse.path, cfg)

    con = db.connect(warehouse.path)
    try:
        assert con.execute(reviews).fetchall() == before
        assert [row[1] for row in before] == ["approved", "approved", "returned", "pending"]
        assert before[3][0] == waiting.submission_id
        assert con.execute("select * exclude (loaded_at) from current_observations order by all").fetchall() == current
        assert review.approval_required(con, "transport") is False
        assert review.pending_figures(con) == 1
        assert actual(con, cfg, dt.date(2025, 6, 1)) == 150
    finally:
        con.close()


# -- accounts --------------------------------------------------------------------------------------------


def test_users_add_creates_an_approver_of_a_bureau(warehouse: Warehouse, capsys: pytest.CaptureFixture[str]) -> None:
    from monitor.__main__ import main as monitor_main

    path = str(warehouse.path)
    warehouse.con.close()
    args = ["users", "--db", path, "add", "zhao_shenhe", "--role", "approver", "--password", "zhao-secret-1"]
    assert monitor_main([*args, "--bureau", "housing"]) == 0
    assert capsys.readouterr().out.strip() == "已新增用户 zhao_shenhe（审核人员，市住房和城乡建设局）"
    assert (
        monitor_main(["users", "--db", path, "add", "qian", "--role", "approver", "--password", "qian-secret-1"]) == 1
    )
    assert capsys.readouterr().out.strip() == "填报人员和审核人员必须属于一个责任单位。"
    con = db.connect(path)
    try:
        made = auth.get_user(con, "zhao_shenhe")
        assert made is not None and (made.role, made.bureau_id, made.active) == ("approver", "housing", True)
        assert auth.get_user(con, "qian") is None
    finally:
        con.close()
