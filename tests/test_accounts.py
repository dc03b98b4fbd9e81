"""Accounts under attack and in the admin's hands: parallel wrong passwords lock at exactly five, the
sign-in form never tells one refusal from another, a disabled or reset account's sessions end, user
names cannot impersonate one another, and the audit log is for administrators only.

The app tests drive the real app with AppTest on a copy of the demo warehouse, through the helpers
and the `_harness` fixture of tests/test_app_pages.py.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from pathlib import Path

import pytest

from monitor import auth, db, fmt, tables
from tests.test_app_pages import (  # noqa: F401  (_harness: the autouse AppTest fixture)
    T,
    _harness,
    assert_clean,
    button,
    frames,
    open_page,
    start,
)

REFUSED_ZH = "账号或密码错误，或账号暂不可用。连续5次失败将锁定15分钟；如无法登录，请联系管理员。"
REFUSED_EN = (
    "Wrong user name or password, or the account is not available. 5 failures in a row lock it for "
    "15 minutes; if you cannot sign in, contact your administrator."
)
NOW = dt.datetime(2026, 11, 26, 9, 0)


def _events(con, action: str | None = None) -> list[tuple[str, str, dict]]:
    rows = con.execute("select user_name, action, detail from audit_log order by event_id").fetchall()
    return [(u, a, json.loads(d)) for u, a, d in rows if action is None or a == action]


def _users(con) -> list[tuple]:
    return con.execute("select * exclude (created_at, updated_at) from users order by user_name").fetchall()


# -- atomic failure counting ------------------------------------------------------------------------------


def test_parallel_wrong_passwords_lock_at_exactly_five_and_raise_only_auth_error(warehouse) -> None:
    auth.add_user(warehouse.con, "zhangsan", "right-password", "leader")
    sessions, tries = 8, 4  # 32 wrong passwords at once, as from 8 browser tabs
    gate = threading.Barrier(sessions)
    refusals: list[auth.AuthError] = []
    other: list[BaseException] = []

    def session() -> None:
        cursor = db.cursor(warehouse.con)  # as the app: one cursor of the shared connection per session
        gate.wait()
        for attempt in range(tries):
            try:
                auth.sign_in(cursor, "zhangsan", f"wrong-{attempt}", now=NOW)
            except auth.AuthError as exc:
                refusals.append(exc)
            except BaseException as exc:  # noqa: BLE001  anything but AuthError is the failure under test
                other.append(exc)

    threads = [threading.Thread(target=session) for _ in range(sessions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert other == []
    assert len(refusals) == sessions * tries
    assert {(e.text("zh"), e.text("en")) for e in refusals} == {(REFUSED_ZH, REFUSED_EN)}
    failed = _events(warehouse.con, "sign_in_failed")
    assert [d["failures"] for _, _, d in failed] == [1, 2, 3, 4, 5]
    assert [d["locked"] for _, _, d in failed] == [False, False, False, False, True]
    refused = _events(warehouse.con, "sign_in_refused")
    assert len(refused) == sessions * tries - auth.MAX_FAILURES
    assert {(u, d["reason"]) for u, _, d in refused} == {("zhangsan", "locked")}
    user = auth.get_user(warehouse.con, "zhangsan")
    assert user is not None
    assert (user.failed_count, user.locked_until) == (5, NOW + dt.timedelta(minutes=15))
    with pytest.raises(auth.AuthError):  # the right password too, while the lock lasts
        auth.sign_in(warehouse.con, "zhangsan", "right-password", now=NOW + dt.timedelta(minutes=14))
    assert auth.sign_in(warehouse.con, "zhangsan", "right-password", now=NOW + dt.timedelta(minutes=16)).active


def test_a_lock_that_ran_out_counts_failures_from_one_again(warehouse) -> None:
    auth.add_user(warehouse.con, "lisi", "right-password", "leader")
    for _ in range(auth.MAX_FAILURES):
        with pytest.raises(auth.AuthError):
            auth.sign_in(warehouse.con, "lisi", "bad-password", now=NOW)
    later = NOW + dt.timedelta(minutes=16)
    with pytest.raises(auth.AuthError):
        auth.sign_in(warehouse.con, "lisi", "bad-password", now=later)
    user = auth.get_user(warehouse.con, "lisi")
    assert user is not None
    assert (user.failed_count, user.locked_until) == (1, None)


def test_a_write_conflict_is_retried_then_refused_politely(warehouse, monkeypatch) -> None:
    """A conflict with a writer outside this process's lock is retried; if it persists the user is
    told to try again (an AuthError), never shown duckdb's exception."""
    import duckdb

    auth.add_user(warehouse.con, "wangwu", "right-password", "leader")
    calls = []

    def conflicting(*args: object, **kwargs: object) -> None:
        calls.append(1)
        raise duckdb.TransactionException("TransactionContext Error: Conflict on update!")

    monkeypatch.setattr(auth, "_count_failure", conflicting)
    monkeypatch.setattr(auth.time, "sleep", lambda seconds: None)
    with pytest.raises(auth.AuthError) as refused:
        auth.sign_in(warehouse.con, "wangwu", "bad-password")
    assert refused.value.text("zh") == "系统繁忙，请稍后再试。"
    assert len(calls) == auth.WRITE_ATTEMPTS


# -- one message for every refusal, the real reason in the audit log ----------------------------------------


def test_unknown_wrong_disabled_and_locked_get_one_message_and_the_audit_log_the_reason(warehouse) -> None:
    con = warehouse.con
    auth.add_user(con, "wrongpw", "right-password", "leader")
    auth.add_user(con, "disabled", "right-password", "leader")
    auth.add_user(con, "locked", "right-password", "leader")
    auth.set_active(con, "disabled", False)
    for _ in range(auth.MAX_FAILURES):
        with pytest.raises(auth.AuthError):
            auth.sign_in(con, "locked", "bad-password", now=NOW)
    start = len(_events(con))
    texts = set()
    for name, password in (
        ("nobody", "whatever-1"),
        ("wrongpw", "bad-password"),
        ("disabled", "right-password"),
        ("locked", "right-password"),
    ):
        with pytest.raises(auth.AuthError) as refused:
            auth.sign_in(con, name, password, now=NOW + dt.timedelta(minutes=1))
        texts.add((refused.value.text("zh"), refused.value.text("en"), str(refused.value)))
    assert texts == {(REFUSED_ZH, REFUSED_EN, REFUSED_ZH)}  # str(): the command line's Chinese only
    assert [(u, a, d.get("reason")) for u, a, d in _events(con)[start:]] == [
        ("unknown account", "sign_in_failed", "unknown_user"),
        ("wrongpw", "sign_in_failed", "wrong_password"),
        ("disabled", "sign_in_refused", "disabled"),
        ("locked", "sign_in_refused", "locked"),
    ]


def test_a_password_typed_as_user_name_is_never_recorded(warehouse) -> None:
    with pytest.raises(auth.AuthError):
        auth.sign_in(warehouse.con, "Hunter2-secret!", "Hunter2-secret!")
    assert _events(warehouse.con)[-1] == ("unknown account", "sign_in_failed", {"reason": "unknown_user"})
    dump = str(warehouse.con.execute("select * from audit_log").fetchall())
    assert "Hunter2" not in dump


def test_the_audit_table_names_the_unknown_account_in_the_reader_s_language() -> None:
    import pandas as pd

    frame = pd.DataFrame({"user_name": ["unknown account", "zhangsan"], "action": ["sign_in_failed", "sign_in"]})
    assert list(tables.localise(frame, "zh", {})["账号"]) == ["（不存在的账号）", "zhangsan"]
    assert list(tables.localise(frame, "en", {})["User name"]) == ["(unknown account)", "zhangsan"]


# -- user names ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "账号长度应为2至64个字符，现为0个。"),
        ("   ", "账号长度应为2至64个字符，现为0个。"),
        ("z", "账号长度应为2至64个字符，现为1个。"),
        ("z" * 65, "账号长度应为2至64个字符，现为65个。"),
        ("z" * 5000, "账号长度应为2至64个字符，现为5000个。"),
        ("ad\u200bmin", "账号含有不可见字符（控制、零宽或文字方向字符 U+200B），请重新输入。"),
        ("ad\u200dmin", "账号含有不可见字符（控制、零宽或文字方向字符 U+200D），请重新输入。"),
        ("ad\u2060min", "账号含有不可见字符（控制、零宽或文字方向字符 U+2060），请重新输入。"),
        ("\ufeffadmin", "账号含有不可见字符（控制、零宽或文字方向字符 U+FEFF），请重新输入。"),
        ("ad\u202emin", "账号含有不可见字符（控制、零宽或文字方向字符 U+202E），请重新输入。"),
        ("ad\u2067min", "账号含有不可见字符（控制、零宽或文字方向字符 U+2067），请重新输入。"),
        ("ad\x07min", "账号含有不可见字符（控制、零宽或文字方向字符 U+0007），请重新输入。"),
        ("\u0430dmin", "账号中英文字母混有形近的西里尔或希腊字母（U+0430），请只用英文字母。"),
        ("adm\u03b9n", "账号中英文字母混有形近的西里尔或希腊字母（U+03B9），请只用英文字母。"),
        ("админ", "账号只能包含英文字母、数字、汉字和 . _ - @ ·，不能包含“а”（U+0430）。"),
        ("zhang san", "账号只能包含英文字母、数字、汉字和 . _ - @ ·，不能包含“ ”（U+0020）。"),
        ("[x](http:evil)", "账号只能包含英文字母、数字、汉字和 . _ - @ ·，不能包含“[”（U+005B）。"),
        ("josé", "账号只能包含英文字母、数字、汉字和 . _ - @ ·，不能包含“é”（U+00E9）。"),
    ],
)
def test_bad_user_names_are_refused_with_what_is_wrong(warehouse, typed: str, message: str) -> None:
    before = _users(warehouse.con)
    with pytest.raises(auth.AuthError) as refused:
        auth.add_user(warehouse.con, typed, "long-enough", "leader")
    assert refused.value.text("zh") == message
    assert refused.value.text("en") != message and refused.value.text("en")
    assert _users(warehouse.con) == before
    assert _events(warehouse.con, "user_add") == []


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("zhangsan", "zhangsan"),
        ("张三", "张三"),
        ("乌力吉·巴图", "乌力吉·巴图"),
        ("li.si@ordos.gov.cn", "li.si@ordos.gov.cn"),
        ("zhao_liu-2", "zhao_liu-2"),
        ("ｗａｎｇ５", "wang5"),  # full-width letters and digits: NFKC
        ("  zhou  ", "zhou"),
        ("z" * 64, "z" * 64),
    ],
)
def test_good_user_names_are_stored_normalised(warehouse, typed: str, stored: str) -> None:
    assert auth.add_user(warehouse.con, typed, "long-enough", "leader").user_name == stored
    assert [r[0] for r in _users(warehouse.con)] == [stored]


def test_a_name_that_differs_only_in_case_or_width_is_the_same_account(warehouse) -> None:
    auth.add_user(warehouse.con, "admin", "long-enough", "admin")
    for typed in ("Admin", "ａｄｍｉｎ", "ADMIN"):
        with pytest.raises(auth.AuthError) as refused:
            auth.add_user(warehouse.con, typed, "long-enough", "leader")
        assert refused.value.text("zh") == "账号已存在：admin"
    assert [r[0] for r in _users(warehouse.con)] == ["admin"]


def test_sign_in_normalises_the_typed_name_the_same_way(warehouse) -> None:
    auth.add_user(warehouse.con, "zhang5", "right-password", "leader")
    assert auth.sign_in(warehouse.con, " ｚｈａｎｇ５ ", "right-password").user_name == "zhang5"
    assert _events(warehouse.con)[-1][:2] == ("zhang5", "sign_in")


def test_users_cli_applies_the_same_name_rules(warehouse, capsys) -> None:
    from monitor.__main__ import main as monitor_main

    path = str(warehouse.path)
    warehouse.con.close()
    code = monitor_main(["users", "--db", path, "add", "\u0430dmin", "--role", "admin", "--password", "pass-word-1"])
    assert code == 1
    assert capsys.readouterr().out.strip() == "账号中英文字母混有形近的西里尔或希腊字母（U+0430），请只用英文字母。"
    assert (
        monitor_main(["users", "--db", path, "add", "ｗａｎｇ", "--role", "leader", "--password", "pass-word-1"]) == 0
    )
    con = db.connect(path)
    try:
        assert con.execute("select user_name from users").fetchall() == [("wang",)]
    finally:
        con.close()


# -- sessions end when an account is disabled or its password reset -------------------------------------------------


def test_disabling_and_resetting_move_the_session_epoch_on(warehouse) -> None:
    con = warehouse.con
    auth.add_user(con, "zhangsan", "right-password", "leader")

    def epoch() -> int:
        user = auth.get_user(con, "zhangsan")
        assert user is not None
        return user.session_epoch

    assert epoch() == 0
    auth.set_active(con, "zhangsan", False)
    assert epoch() == 1
    auth.set_active(con, "zhangsan", True)  # enabling does not bring old sessions back
    assert epoch() == 1
    auth.reset_password(con, "zhangsan", "new-password-1")
    assert epoch() == 2
    assert auth.sign_in(con, "zhangsan", "new-password-1").session_epoch == 2


def test_enabling_an_account_lifts_its_lock(warehouse) -> None:
    auth.add_user(warehouse.con, "lisi", "right-password", "leader")
    for _ in range(auth.MAX_FAILURES):
        with pytest.raises(auth.AuthError):
            auth.sign_in(warehouse.con, "lisi", "bad-password")
    auth.set_active(warehouse.con, "lisi", True, by="root")
    assert auth.sign_in(warehouse.con, "lisi", "right-password").failed_count == 0


def _sign_in(at, user: str, password: str):
    at.text_input(key="sign_in_user").input(user)
    at.text_input(key="sign_in_password").input(password)
    return button(at, "登录" if at.session_state["lang"] == "zh" else "Sign in").click().run()


@pytest.mark.parametrize("change", ["disable", "reset"])
def test_a_disabled_or_reset_account_is_signed_out_at_its_next_request(app_db: Path, change: str) -> None:
    at = start(None)
    _sign_in(at, "leader", "leader-0477")
    assert at.session_state["user_name"] == "leader"
    other = db.connect(app_db)  # the admin, elsewhere
    try:
        if change == "disable":
            auth.set_active(other, "leader", False, by="admin")
        else:
            auth.reset_password(other, "leader", "new-password-1", by="admin")
    finally:
        other.close()
    at.run()
    assert not at.exception
    assert "user_name" not in at.session_state
    assert [t.value for t in at.title] == [T("app_title", "zh")]
    assert [w.value for w in at.warning] == [T("session_ended", "zh")]
    at.run()  # said once
    assert T("session_ended", "zh") not in [w.value for w in at.warning]


def test_an_unchanged_account_stays_signed_in(app_db: Path) -> None:
    at = start(None)
    _sign_in(at, "leader", "leader-0477")
    other = db.connect(app_db)
    try:
        auth.set_active(other, "admin", False, by="root")  # another account changes
    finally:
        other.close()
    at.run()
    assert at.session_state["user_name"] == "leader"


@pytest.mark.parametrize(("lang", "message"), [("zh", REFUSED_ZH), ("en", REFUSED_EN)])
def test_the_sign_in_form_shows_one_message_in_the_user_s_language(app_db: Path, lang: str, message: str) -> None:
    other = db.connect(app_db)
    try:
        auth.set_active(other, "housing", False, by="root")
    finally:
        other.close()
    at = start(None, lang)
    for name, password in (("nobody", "x-0477-x"), ("leader", "wrong-0477"), ("housing", "housing-0477")):
        _sign_in(at, name, password)
        assert [e.value for e in at.error] == [message], name
        assert "user_name" not in at.session_state


# -- the audit log is for administrators ---------------------------------------------------------------------------


def _typed_password_as_name(app_db: Path) -> None:
    other = db.connect(app_db)
    try:
        with pytest.raises(auth.AuthError):
            auth.sign_in(other, "Tr0ub4dor&3-secret", "Tr0ub4dor&3-secret")
    finally:
        other.close()


def _page_text(at) -> str:
    parts = [frame.to_csv() for frame in frames(at)]
    parts += [e.value for kind in ("markdown", "caption", "text") for e in at.get(kind)]
    return "\n".join(parts)


def test_a_reporter_sees_only_its_own_bureau_s_history_and_no_audit_log(app_db: Path, monkeypatch) -> None:
    from dashboard import data

    _typed_password_as_name(app_db)
    calls = []
    audit_log = data.audit_log
    monkeypatch.setattr(data, "audit_log", lambda *a: calls.append(a) or audit_log(*a))
    at = open_page("housing", "data_quality")
    assert_clean(at)
    assert [t.label for t in at.tabs] == ["缺报", "迟报", "异常值提示", "被拒绝的行", "本单位报送记录"]
    history = frames(at)[-1]
    assert "操作" not in history.columns and "责任单位" not in history.columns
    con = db.connect(app_db)  # the same configuration as the app's connection (DuckDB requires it)
    try:
        own = {
            r[0] for r in con.execute("select submission_id from submissions where bureau_id = 'housing'").fetchall()
        }
        everyone = con.execute("select count(*) from submissions").fetchone()[0]
    finally:
        con.close()
    assert set(history["报送编号"]) == own
    assert len(history) == len(own) < everyone
    assert "Tr0ub4dor" not in _page_text(at)
    assert calls == []  # the audit query never ran for a reporter


def test_a_leader_sees_no_history_tab(app_db: Path, monkeypatch) -> None:
    from dashboard import data

    calls = []
    monkeypatch.setattr(data, "audit_log", lambda *a: calls.append(a))
    at = open_page("leader", "data_quality")
    assert_clean(at)
    assert [t.label for t in at.tabs] == ["缺报", "迟报", "异常值提示", "被拒绝的行"]
    assert calls == []


def test_an_admin_sees_the_full_audit_log_including_the_newest_events(app_db: Path) -> None:
    at = open_page("admin", "data_quality")
    _typed_password_as_name(app_db)  # after the first run: the cached log must not hide it
    at.run()
    assert_clean(at)
    assert [t.label for t in at.tabs][-1] == "操作日志"
    log = frames(at)[-1]
    newest = log.iloc[0]
    assert (newest["账号"], newest["操作"], newest["详情"]) == (
        "（不存在的账号）",
        "登录失败",
        "登录失败：账号不存在",  # a sentence (monitor.audit_text), as on the admin page
    )
    assert "Tr0ub4dor" not in _page_text(at)
    admin_page = open_page("admin", "admin")
    assert frames(admin_page)[-1].iloc[0]["账号"] == "（不存在的账号）"


# -- the admin page ----------------------------------------------------------------------------------------------------


def _accounts(at):
    return frames(at)[0].set_index("账号")


def _add(at, name: str, password: str, role: str = "leader"):
    at.text_input(key="adm_add_name").input(name)
    at.selectbox(key="adm_add_role").set_value(role)
    at.text_input(key="adm_add_password").input(password)
    return button(at, "新增账号").click().run()


def test_admin_adds_and_disables_and_the_list_shows_the_new_state(app_db: Path) -> None:
    at = open_page("admin", "admin")
    assert "zhao_liu" not in _accounts(at).index
    _add(at, "zhao_liu", "long-enough-1")
    assert_clean(at)
    assert [s.value for s in at.success] == [f"已新增用户 {fmt.plain('zhao_liu')}（领导）"]
    row = _accounts(at).loc["zhao_liu"]
    assert (row["角色"], row["状态"], row["锁定至"], row["连续失败次数"]) == ("领导", "启用", "", 0)
    assert at.text_input(key="adm_add_name").value == ""  # drawn empty after a success
    assert "zhao_liu" in at.selectbox(key="adm_change_target").options

    at.selectbox(key="adm_change_target").set_value("zhao_liu")
    button(at, "停用").click().run()
    assert_clean(at)
    assert [s.value for s in at.success] == [f"已停用用户 {fmt.plain('zhao_liu')}，其登录会话已结束"]
    assert _accounts(at).loc["zhao_liu"]["状态"] == "已停用"
    at.run()  # the message is said once
    assert not at.success


def test_the_add_form_keeps_its_fields_after_a_refusal(app_db: Path) -> None:
    at = open_page("admin", "admin")
    before = len(_accounts(at))
    _add(at, "\u0430dmin2", "long-enough-1", role="admin")
    assert [e.value for e in at.error] == [
        fmt.plain("账号中英文字母混有形近的西里尔或希腊字母（U+0430），请只用英文字母。")
    ]
    assert not at.success
    assert at.text_input(key="adm_add_name").value == "\u0430dmin2"
    assert at.selectbox(key="adm_add_role").value == "admin"
    assert len(_accounts(at)) == before


def test_the_admin_page_shows_a_locked_account_as_locked(app_db: Path) -> None:
    other = db.connect(app_db)
    try:
        for _ in range(auth.MAX_FAILURES):
            with pytest.raises(auth.AuthError):
                auth.sign_in(other, "leader", "wrong-0477")
        auth.set_active(other, "housing", False, by="root")
    finally:
        other.close()
    at = open_page("admin", "admin")
    accounts = _accounts(at)
    assert accounts.loc["leader"]["状态"] == "已锁定"
    assert accounts.loc["leader"]["连续失败次数"] == 5
    assert accounts.loc["leader"]["锁定至"] != ""
    assert accounts.loc["housing"]["状态"] == "已停用"
    at.selectbox(key="adm_change_target").set_value("leader")
    button(at, "启用").click().run()
    assert [s.value for s in at.success] == [f"已启用用户 {fmt.plain('leader')}，可重新登录（如有锁定已解除）"]
    assert (_accounts(at).loc["leader"]["状态"], _accounts(at).loc["leader"]["连续失败次数"]) == ("启用", 0)


def _reject(app_db: Path, bureau_id: str, typed: str) -> None:
    """A rejected upload of `bureau_id` whose value cell holds `typed` (recorded in rejected_rows)."""
    from etl.load import load_bytes
    from monitor.targets import load_targets

    cfg = load_targets()
    kpi = cfg.kpis_of_bureau(bureau_id)[0]
    unit = "city" if kpi.aggregation == "city" else "dongsheng"
    data = f"指标编码,旗区,报送期,数值\n{kpi.id},{unit},2025-03,{typed}\n".encode()
    other = db.connect(app_db)
    try:
        res = load_bytes(f"{bureau_id}.csv", data, cfg, bureau_id, bureau_id, other, archive=None)
    finally:
        other.close()
    assert res.outcome == "rejected"


def test_a_reporter_sees_only_its_own_bureau_s_rejected_rows(app_db: Path) -> None:
    _reject(app_db, "transport", "交通局内部数字")
    _reject(app_db, "housing", "住建局写错的数")
    at = open_page("housing", "data_quality")
    assert_clean(at)
    # the rejected-rows tab: the table with the typed value (the 催报 list and other tabs come first)
    rejected = next(f for f in frames(at) if "数值" in f.columns and "住建局写错的数" in set(f["数值"].astype(str)))
    assert "住建局写错的数" in set(rejected["数值"])
    assert "交通局内部数字" not in _page_text(at)
    assert set(rejected["责任单位"]) == {"市住房和城乡建设局"}
    leader = open_page("leader", "data_quality")
    typed = set().union(*(set(f["数值"].astype(str)) for f in frames(leader) if "数值" in f.columns))
    assert {"住建局写错的数", "交通局内部数字"} <= typed
