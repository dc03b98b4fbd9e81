"""督办 rules (monitor.actions) on a small warehouse: who may open, answer, close and reopen an action,
with the exact message each refusal gives; the state after each step; overdue on a pinned day; the
counts the overview shows; the audit trail; rebuild keeps every action and step.

The test config's rental_15k is led by housing with no co-bureau; here finance is made co-responsible
for bus_coverage_100 (led by transport) for the co-bureau rule.
"""

from __future__ import annotations

import copy
import datetime as dt
import json

import duckdb
import pytest

from etl.rebuild import rebuild_warehouse
from monitor import actions, auth, db, i18n
from monitor.actions import ActionError
from monitor.auth import User
from monitor.targets import TargetsConfig, parse_targets
from tests.conftest import TARGETS_DICT, Warehouse

TODAY = dt.date(2026, 11, 26)
DUE = dt.date(2026, 12, 31)


@pytest.fixture
def cfg() -> TargetsConfig:
    """The shared test config, with finance co-responsible for bus coverage (led by transport)."""
    raw = copy.deepcopy(TARGETS_DICT)
    next(k for k in raw["kpis"] if k["id"] == "bus_coverage")["co"] = ["finance"]
    return parse_targets(raw)


@pytest.fixture
def people(warehouse: Warehouse) -> dict[str, User]:
    con = warehouse.con
    return {
        "leader": auth.add_user(con, "leader_li", "li-secret-01", "leader"),
        "admin": auth.add_user(con, "boss", "boss-secret-1", "admin"),
        "reporter": auth.add_user(con, "zhangsan", "zhang-secret-1", "reporter", bureau_id="housing"),
        "approver": auth.add_user(con, "wangwu", "wang-secret-1", "approver", bureau_id="housing"),
        "transport": auth.add_user(con, "lisi", "lisi-secret-1", "reporter", bureau_id="transport"),
    }


def opened(w: Warehouse, cfg: TargetsConfig, people: dict[str, User], due: dt.date = DUE) -> int:
    return actions.open_action(
        w.con, cfg, people["leader"], "rental_15k", "housing", "请说明进度滞后原因并提出追赶措施", due, today=TODAY
    )


def state(con: duckdb.DuckDBPyConnection, action_id: int) -> str:
    found = actions.actions(con, today=TODAY).set_index("action_id")
    return str(found.at[action_id, "state"])


def refused(call: object, *args: object, **kwargs: object) -> str:
    with pytest.raises(ActionError) as caught:
        call(*args, **kwargs)  # type: ignore[operator]
    return caught.value.text("zh")


# -- opening ------------------------------------------------------------------------------------------


def test_a_leader_opens_an_action_and_it_is_open_with_its_text(
    warehouse: Warehouse, cfg: TargetsConfig, people: dict[str, User]
) -> None:
    action_id = opened(warehouse, cfg, people)
    found = actions.open_actions(warehouse.con, today=TODAY)
    assert list(found.columns) == [
        "action_id", "target_id", "bureau_id", "asked", "due_date", "state", "overdue", "latest_note",
        "opened_by", "opened_at",
    ]  # fmt: skip
    row = found.iloc[0].to_dict()
    assert (row["action_id"], row["target_id"], row["bureau_id"]) == (action_id, "rental_15k", "housing")
    assert (row["asked"], row["due_date"], row["state"]) == ("请说明进度滞后原因并提出追赶措施", DUE, "open")
    assert (row["overdue"], row["latest_note"], row["opened_by"]) == (False, None, "leader_li")


def test_an_admin_may_open_an_action_for_a_co_responsible_bureau(
    warehouse: Warehouse, cfg: TargetsConfig, people: dict[str, User]
) -> None:
    assert actions.responsible_bureaus(cfg, "bus_coverage_100") == ["transport", "finance"]
    action_id = actions.open_action(
        warehouse.con, cfg, people["admin"], "bus_coverage_100", "finance", "请落实站点建设资金", DUE, today=TODAY
    )
    assert state(warehouse.con, action_id) == "open"


@pytest.mark.parametrize("role", ["reporter", "approver"])
def test_bureau_accounts_cannot_open_an_action(
    warehouse: Warehouse, cfg: TargetsConfig, people: dict[str, User], role: str
) -> None:
    message = refused(
        actions.open_action, warehouse.con, cfg, people[role], "rental_15k", "housing", "自己交办", DUE, today=TODAY
    )
    assert message == "只有领导或管理员可以交办、办结或重新打开督办事项。"
    assert actions.actions(warehouse.con, today=TODAY).empty


def test_an_action_goes_only_to_the_lead_or_a_co_bureau_of_the_target(
    warehouse: Warehouse, cfg: TargetsConfig, people: dict[str, User]
) -> None:
    leader = people["leader"]
    message = refused(
        actions.open_action, warehouse.con, cfg, leader, "rental_15k", "transport", "请推进", DUE, today=TODAY
    )
    assert message == "单位transport不是指标rental_15k的牵头或配合单位，不能交办。"
    message = refused(actions.open_action, warehouse.con, cfg, leader, "no_such", "housing", "请推进", DUE, today=TODAY)
    assert message == "指标no_such不存在。"


def test_what_is_asked_is_required_and_at_most_500_characters(
    warehouse: Warehouse, cfg: TargetsConfig, people: dict[str, User]
) -> None:
    leader = people["leader"]
    args = (warehouse.con, cfg, leader, "rental_15k", "housing")
    assert refused(actions.open_action, *args, "   ", DUE, today=TODAY) == "请填写督办要求。"
    assert refused(actions.open_action, *args, "办" * 501, DUE, today=TODAY) == "内容最多500字（现501字）。"
    assert actions.open_action(*args, "办" * 500, DUE, today=TODAY) == 1


def test_the_due_date_may_be_today_but_not_in_the_past(
    warehouse: Warehouse, cfg: TargetsConfig, people: dict[str, User]
) -> None:
    args = (warehouse.con, cfg, people["leader"], "rental_15k", "housing", "请推进")
    message = refused(actions.open_action, *args, dt.date(2026, 11, 25), today=TODAY)
    assert message == "办理时限2026-11-25早于今天（2026-11-26）。"
    action_id = actions.open_action(*args, TODAY, today=TODAY)
    assert actions.open_actions(warehouse.con, today=TODAY)["overdue"].tolist() == [False]  # due today: not late
    assert state(warehouse.con, action_id) == "open"


# -- the bureau answers, the leader decides ---------------------------------------------------------


def test_the_full_cycle_open_respond_ask_close_reopen(
    warehouse: Warehouse, cfg: TargetsConfig, people: dict[str, User]
) -> None:
    con = warehouse.con
    action_id = opened(warehouse, cfg, people)
    actions.respond(con, people["reporter"], action_id, "已开工3个项目，12月底前新增800套")
    assert state(con, action_id) == "open"
    assert actions.open_actions(con, today=TODAY)["latest_note"].tolist() == ["已开工3个项目，12月底前新增800套"]
    actions.request_close(con, people["approver"], action_id, "追赶措施已落实")
    assert state(con, action_id) == "close_requested"
    actions.respond(con, people["reporter"], action_id, "补充：项目清单已报送")  # a note does not withdraw it
    assert state(con, action_id) == "close_requested"
    actions.close(con, people["leader"], action_id, "同意办结")
    assert state(con, action_id) == "closed"
    assert actions.open_actions(con, today=TODAY).empty
    actions.reopen(con, people["admin"], action_id, "12月数据仍未达到序时进度")
    assert state(con, action_id) == "open"
    steps = actions.history(con, action_id)
    assert [(s.kind, s.user_name, s.note) for s in steps.itertuples()] == [
        ("open", "leader_li", "请说明进度滞后原因并提出追赶措施"),
        ("respond", "zhangsan", "已开工3个项目，12月底前新增800套"),
        ("request_close", "wangwu", "追赶措施已落实"),
        ("respond", "zhangsan", "补充：项目清单已报送"),
        ("close", "leader_li", "同意办结"),
        ("reopen", "boss", "12月数据仍未达到序时进度"),
    ]


def test_only_the_actions_bureau_answers_it(warehouse: Warehouse, cfg: TargetsConfig, people: dict[str, User]) -> None:
    con = warehouse.con
    action_id = opened(warehouse, cfg, people)
    expected = "只有责任单位的填报或审核人员可以反馈进展或申请办结。"
    assert refused(actions.respond, con, people["transport"], action_id, "代为反馈") == expected
    assert refused(actions.respond, con, people["leader"], action_id, "领导代答") == expected
    assert refused(actions.request_close, con, people["transport"], action_id, "代为申请") == expected
    assert actions.history(con, action_id)["kind"].tolist() == ["open"]


def test_a_note_is_required_and_an_unknown_action_is_refused(
    warehouse: Warehouse, cfg: TargetsConfig, people: dict[str, User]
) -> None:
    con = warehouse.con
    action_id = opened(warehouse, cfg, people)
    assert refused(actions.respond, con, people["reporter"], action_id, " ") == "请填写落实措施与进展。"
    assert refused(actions.request_close, con, people["reporter"], action_id, "") == "请填写落实措施与进展。"
    assert refused(actions.respond, con, people["reporter"], 99, "进展") == "第99号督办事项不存在。"


def test_closing_twice_asking_twice_and_reopening_an_open_action_are_refused(
    warehouse: Warehouse, cfg: TargetsConfig, people: dict[str, User]
) -> None:
    con = warehouse.con
    action_id = opened(warehouse, cfg, people)
    assert refused(actions.reopen, con, people["leader"], action_id, "重开") == "第1号督办事项未办结，无需重新打开。"
    actions.request_close(con, people["reporter"], action_id, "已完成")
    message = refused(actions.request_close, con, people["reporter"], action_id, "再次申请")
    assert message == "第1号督办事项已申请办结，待领导审定。"
    actions.close(con, people["leader"], action_id, "同意")
    assert refused(actions.close, con, people["leader"], action_id, "再办结") == "第1号督办事项已办结。"
    assert refused(actions.respond, con, people["reporter"], action_id, "补充") == "第1号督办事项已办结。"


def test_closing_and_reopening_need_a_leader_and_a_comment(
    warehouse: Warehouse, cfg: TargetsConfig, people: dict[str, User]
) -> None:
    con = warehouse.con
    action_id = opened(warehouse, cfg, people)
    assert refused(actions.close, con, people["leader"], action_id, "  ") == "请填写意见。"
    message = refused(actions.close, con, people["approver"], action_id, "自行办结")
    assert message == "只有领导或管理员可以交办、办结或重新打开督办事项。"
    actions.close(con, people["leader"], action_id, "同意")
    assert refused(actions.reopen, con, people["leader"], action_id, "") == "请填写意见。"
    assert refused(actions.reopen, con, people["reporter"], action_id, "重开") == (
        "只有领导或管理员可以交办、办结或重新打开督办事项。"
    )
    assert state(con, action_id) == "closed"


def test_a_disabled_leader_is_refused(warehouse: Warehouse, cfg: TargetsConfig, people: dict[str, User]) -> None:
    gone = User("old_leader", "old", "leader", None, active=False)
    message = refused(
        actions.open_action, warehouse.con, cfg, gone, "rental_15k", "housing", "请推进", DUE, today=TODAY
    )
    assert message == "只有领导或管理员可以交办、办结或重新打开督办事项。"


# -- overdue and counts -------------------------------------------------------------------------------


def test_an_action_past_its_due_date_is_overdue_until_closed(
    warehouse: Warehouse, cfg: TargetsConfig, people: dict[str, User]
) -> None:
    con = warehouse.con
    early = opened(warehouse, cfg, people, due=dt.date(2026, 12, 1))
    late = opened(warehouse, cfg, people, due=dt.date(2026, 12, 20))
    on_due_day = actions.open_actions(con, today=dt.date(2026, 12, 1))
    assert on_due_day["overdue"].tolist() == [False, False]
    day_after = actions.open_actions(con, today=dt.date(2026, 12, 2))
    assert list(zip(day_after["action_id"], day_after["overdue"], strict=True)) == [(early, True), (late, False)]
    actions.request_close(con, people["reporter"], early, "已完成")  # asked to close: still overdue
    assert actions.open_actions(con, today=dt.date(2026, 12, 2))["overdue"].tolist() == [True, False]
    actions.close(con, people["leader"], early, "同意")
    closed = actions.actions(con, today=dt.date(2026, 12, 2)).set_index("action_id")
    assert bool(closed.at[early, "overdue"]) is False


def test_counts_per_target_and_the_overview_text(
    warehouse: Warehouse, cfg: TargetsConfig, people: dict[str, User]
) -> None:
    con = warehouse.con
    opened(warehouse, cfg, people, due=dt.date(2026, 12, 1))
    opened(warehouse, cfg, people, due=dt.date(2027, 1, 31))
    actions.open_action(con, cfg, people["leader"], "bus_coverage_100", "transport", "请推进", DUE, today=TODAY)
    day = dt.date(2026, 12, 10)
    assert actions.counts(con, today=day) == {"rental_15k": (2, 1), "bus_coverage_100": (1, 0)}
    assert actions.counts(con, ["bus_coverage_100"], today=day) == {"bus_coverage_100": (1, 0)}
    assert actions.count_text(2, 1, "zh") == "2项（1项逾期）"
    assert actions.count_text(1, 0, "zh") == "1项"
    assert actions.count_text(0, 0, "zh") == ""
    assert actions.count_text(2, 1, "en") == "2 (1 overdue)"


def test_open_actions_filters_by_target(warehouse: Warehouse, cfg: TargetsConfig, people: dict[str, User]) -> None:
    con = warehouse.con
    opened(warehouse, cfg, people)
    actions.open_action(con, cfg, people["leader"], "bus_coverage_100", "transport", "请推进", DUE, today=TODAY)
    assert actions.open_actions(con, ["bus_coverage_100"], today=TODAY)["target_id"].tolist() == ["bus_coverage_100"]
    assert actions.open_actions(con, [], today=TODAY).empty


# -- audit and rebuild ------------------------------------------------------------------------------


def events(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, dict]]:
    found = con.execute(
        "select user_name, action, detail from audit_log where action like 'action_%' order by event_id"
    ).fetchall()
    return [(user, action, json.loads(detail)) for user, action, detail in found]


def test_every_step_is_audited_and_a_refused_step_logs_nothing(
    warehouse: Warehouse, cfg: TargetsConfig, people: dict[str, User]
) -> None:
    con = warehouse.con
    action_id = opened(warehouse, cfg, people)
    actions.respond(con, people["reporter"], action_id, "进展")
    actions.request_close(con, people["reporter"], action_id, "已完成")
    actions.close(con, people["leader"], action_id, "同意")
    actions.reopen(con, people["leader"], action_id, "未达标")
    before = db.scalar(con, "select count(*) from audit_log")
    with pytest.raises(ActionError):
        actions.respond(con, people["transport"], action_id, "代答")
    assert db.scalar(con, "select count(*) from audit_log") == before
    assert events(con) == [
        (
            "leader_li",
            "action_open",
            {
                "action_id": action_id, "target": "rental_15k", "bureau": "housing",
                "asked": "请说明进度滞后原因并提出追赶措施", "due": "2026-12-31",
            },
        ),
        ("zhangsan", "action_respond", {"action_id": action_id, "note": "进展"}),
        ("zhangsan", "action_request_close", {"action_id": action_id, "note": "已完成"}),
        ("leader_li", "action_close", {"action_id": action_id, "note": "同意"}),
        ("leader_li", "action_reopen", {"action_id": action_id, "note": "未达标"}),
    ]  # fmt: skip
    # the audit page reads each step as words: 交办督办事项, 反馈督办进展, …
    assert [i18n.t(f"act_{action}") for _, action, _ in events(con)] == [
        "交办督办事项", "反馈督办进展", "申请督办办结", "督办办结", "重新打开督办",
    ]  # fmt: skip


@pytest.mark.duckdb_file
def test_rebuild_keeps_actions_their_steps_and_numbering(
    warehouse: Warehouse, cfg: TargetsConfig, people: dict[str, User]
) -> None:
    con = warehouse.con
    first = opened(warehouse, cfg, people)
    actions.request_close(con, people["reporter"], first, "已完成")
    actions.close(con, people["leader"], first, "同意")
    opened(warehouse, cfg, people, due=dt.date(2026, 12, 1))
    everything = actions.actions(con, today=TODAY).drop(columns=["opened_at"])
    steps = con.execute("select * from action_steps order by step_id").fetchall()
    con.close()

    rebuild_warehouse(warehouse.path, cfg)

    con = db.connect(warehouse.path)
    try:
        assert actions.actions(con, today=TODAY).drop(columns=["opened_at"]).equals(everything)
        assert con.execute("select * from action_steps order by step_id").fetchall() == steps
        leader = auth.get_user(con, "leader_li")
        assert leader is not None
        # the sequences carried over: a new action and step do not reuse a number
        assert actions.open_action(con, cfg, leader, "rental_15k", "housing", "新要求", DUE, today=TODAY) == 3
        assert actions.history(con, 3)["step_id"].tolist() == [len(steps) + 1]
    finally:
        con.close()
