"""The admin page as an administrator meets it (issue 16): after adding or disabling a user the list
and the audit log show the change at once, the log's 详情 reads as a sentence in the admin's
language, a refused account keeps the form's input, and every message says what happened.

AppTest as admin on a copy of the demo warehouse, through the helpers and the `_harness` fixture of
tests/test_app_pages.py; monitor.audit_text is also tested on its own (an unknown event stays text).
"""

from __future__ import annotations

from pathlib import Path

from monitor import audit_text, auth, db, fmt
from tests.test_app_pages import (  # noqa: F401  (_harness: the autouse AppTest fixture)
    _harness,
    assert_clean,
    button,
    frames,
    open_page,
)

HOUSING_ZH = "市住房和城乡建设局"
HOUSING_EN = "Municipal Housing and Urban-Rural Development Bureau"


def _accounts(at, lang: str = "zh"):
    return frames(at)[0].set_index("账号" if lang == "zh" else "User name")


def _audit(at):
    return frames(at)[-1]


def _fill_add(at, name: str, password: str, role: str, bureau: str = ""):
    at.text_input(key="adm_add_name").input(name)
    at.selectbox(key="adm_add_role").set_value(role)
    at.selectbox(key="adm_add_bureau").set_value(bureau)
    at.text_input(key="adm_add_password").input(password)
    return at


def test_adding_a_user_shows_it_in_the_list_and_its_event_in_the_log_as_a_sentence(app_db: Path) -> None:
    at = open_page("admin", "admin")
    assert "wang" not in _accounts(at).index
    _fill_add(at, "wang", "wang-secret-1", "reporter", "housing")
    button(at, "新增账号").click().run()
    assert_clean(at)
    assert [s.value for s in at.success] == [f"已新增用户 wang（填报人员，{HOUSING_ZH}）"]
    row = _accounts(at).loc["wang"]
    assert (row["角色"], row["责任单位"], row["状态"], row["连续失败次数"]) == ("填报人员", HOUSING_ZH, "启用", 0)
    newest = _audit(at).iloc[0]
    assert (newest["账号"], newest["操作"], newest["详情"]) == (
        "admin",
        "新增账号",
        f"新增用户 wang（填报人员，{HOUSING_ZH}）",
    )
    assert at.text_input(key="adm_add_name").value == ""  # drawn empty after a success
    assert at.text_input(key="adm_add_password").value == ""

    # wang signs in elsewhere: the next run of the admin's page has the sign-in in its log
    other = db.connect(app_db)
    try:
        auth.sign_in(other, "wang", "wang-secret-1")
    finally:
        other.close()
    at.run()
    newest = _audit(at).iloc[0]
    assert (newest["账号"], newest["操作"], newest["详情"]) == ("wang", "登录", "登录")


def test_a_weak_password_keeps_the_form_and_says_so_in_chinese_only(app_db: Path) -> None:
    at = open_page("admin", "admin")
    before = len(_accounts(at))
    _fill_add(at, "wang", "short", "reporter", "housing")
    button(at, "新增账号").click().run()
    assert [e.value for e in at.error] == ["密码至少8位。"]  # Chinese only: no " / password…"
    assert not at.success
    assert at.text_input(key="adm_add_name").value == "wang"
    assert at.selectbox(key="adm_add_role").value == "reporter"
    assert at.selectbox(key="adm_add_bureau").value == "housing"
    assert at.text_input(key="adm_add_password").value == "short"
    assert len(_accounts(at)) == before

    # corrected password, same form: the account is added with what was kept
    at.text_input(key="adm_add_password").input("long-enough-1")
    button(at, "新增账号").click().run()
    assert [s.value for s in at.success] == [f"已新增用户 wang（填报人员，{HOUSING_ZH}）"]
    assert len(_accounts(at)) == before + 1


def test_disabling_a_user_shows_the_state_the_message_and_the_event(app_db: Path) -> None:
    at = open_page("admin", "admin")
    assert _accounts(at).loc["housing"]["状态"] == "启用"
    at.selectbox(key="adm_change_target").set_value("housing")
    button(at, "停用").click().run()
    assert_clean(at)
    assert [s.value for s in at.success] == ["已停用用户 housing，其登录会话已结束"]
    assert _accounts(at).loc["housing"]["状态"] == "已停用"
    newest = _audit(at).iloc[0]
    assert (newest["账号"], newest["操作"], newest["详情"]) == ("admin", "停用账号", "停用用户 housing")
    at.run()
    assert not at.success  # said once


def test_an_english_admin_reads_messages_and_the_log_in_english(app_db: Path) -> None:
    at = open_page("admin", "admin", "en")
    _fill_add(at, "wang", "short", "reporter", "housing")
    button(at, "Add account").click().run()
    assert [e.value for e in at.error] == [fmt.plain("A password needs at least 8 characters.")]
    at.text_input(key="adm_add_password").input("long-enough-1")
    button(at, "Add account").click().run()
    assert [s.value for s in at.success] == [fmt.plain(f"User wang added (Bureau reporter, {HOUSING_EN})")]
    newest = _audit(at).iloc[0]
    assert (newest["Action"], newest["Detail"]) == (
        "Account added",
        f"Added user wang (Bureau reporter, {HOUSING_EN})",
    )


# -- the sentences on their own ------------------------------------------------------------------------------

NAMES_ZH = audit_text.Names("zh", {"housing": HOUSING_ZH}, {"rental_15k": "三年内筹建保障性租赁住房1.5万套以上"})


def test_each_event_type_reads_as_a_sentence() -> None:
    cases = [
        ("user_add", '{"user": "wang", "role": "reporter", "bureau": "housing"}',
         f"新增用户 wang（填报人员，{HOUSING_ZH}）"),
        ("user_add", '{"user": "li", "role": "leader", "bureau": "housing"}', "新增用户 li（领导）"),
        ("user_disable", '{"user": "wang"}', "停用用户 wang"),
        ("sign_in", "{}", "登录"),
        ("sign_in", '{"via": "cookie"}', "恢复登录（刷新或新标签页，会话未过期）"),
        ("sign_in_failed", '{"reason": "wrong_password", "failures": 5, "locked": true}',
         "登录失败：密码错误（连续第5次），账号已锁定"),
        ("sign_in_failed", '{"reason": "unknown_user"}', "登录失败：账号不存在"),
        ("sign_in_refused", '{"reason": "disabled"}', "拒绝登录：账号已停用"),
        ("revision", '{"submission_id": 473, "bureau": "housing", "file": "x.csv", "rows": 1, "loaded": 1, '
         '"revised": 1, "reason": "补录漏报项目", "review": "pending"}',
         f"{HOUSING_ZH}更正数据：修订1条，原因：补录漏报项目（待审核）"),
        ("explanation_save", '{"explanation_id": 1, "target": "rental_15k", "bureau": "housing", '
         '"period": "2026-10-01"}', f"保存情况说明：三年内筹建保障性租赁住房1.5万套以上（{HOUSING_ZH}，2026年10月）"),
    ]  # fmt: skip
    assert [audit_text.sentence(action, detail, NAMES_ZH) for action, detail, _ in cases] == [s for *_, s in cases]


def test_an_unknown_event_is_still_readable_text_not_json() -> None:
    text = audit_text.sentence("new_kind", '{"files": 3, "bureaus": ["a", "b"], "empty": null}', NAMES_ZH)
    assert text == "files：3；bureaus：a、b"
    assert audit_text.sentence("user_add", "not json", NAMES_ZH) == "not json"
