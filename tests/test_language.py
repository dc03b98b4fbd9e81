"""One language per message, following the user's choice (issue 16): account refusals are said in
Chinese or in English, never "密码至少8位 / password…" in one string; the command line speaks
Chinese; switching language keeps the upload page's tab.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor import auth
from tests.test_app_pages import (  # noqa: F401  (_harness: the autouse AppTest fixture)
    _harness,
    assert_clean,
    button,
    open_page,
    start,
)

# (key, params, zh, en) of refusals an admin or a user meets
REFUSALS = [
    ("auth_password_short", {"n": 8}, "密码至少8位。", "A password needs at least 8 characters."),
    ("auth_reporter_bureau", {}, "填报人员和审核人员必须属于一个责任单位。", "A reporter or approver needs a bureau."),
    ("auth_user_exists", {"user": "wang"}, "账号已存在：wang", "The account already exists: wang"),
    ("auth_no_such_user", {"user": "li"}, "账号不存在：li", "No such account: li"),
    (
        "auth_refused",
        {"max": 5, "minutes": 15},
        "账号或密码错误，或账号暂不可用。连续5次失败将锁定15分钟；如无法登录，请联系管理员。",
        "Wrong user name or password, or the account is not available. 5 failures in a row lock it for "
        "15 minutes; if you cannot sign in, contact your administrator.",
    ),
]


@pytest.mark.parametrize(("key", "params", "zh", "en"), REFUSALS, ids=[r[0] for r in REFUSALS])
def test_an_account_refusal_is_said_in_one_language_at_a_time(key: str, params: dict, zh: str, en: str) -> None:
    refusal = auth.AuthError(key, **params)
    assert refusal.text("zh") == zh
    assert refusal.text("en") == en
    assert str(refusal) == zh  # the command line's language; no " / English" tail


def test_a_weak_password_from_the_warehouse_is_refused_in_chinese_only(warehouse) -> None:
    with pytest.raises(auth.AuthError) as refused:
        auth.add_user(warehouse.con, "wang", "short", "leader")
    assert str(refused.value) == "密码至少8位。"
    assert refused.value.text("en") == "A password needs at least 8 characters."


def test_the_command_line_says_what_happened_in_chinese(warehouse, capsys: pytest.CaptureFixture[str]) -> None:
    from monitor.__main__ import main as monitor_main

    path = str(warehouse.path)
    warehouse.con.close()
    add = ["users", "--db", path, "add", "wang", "--role", "reporter", "--bureau", "housing", "--password"]
    assert monitor_main([*add, "wang-secret-1"]) == 0
    assert capsys.readouterr().out.strip() == "已新增用户 wang（填报人员，市住房和城乡建设局）"
    assert monitor_main(["users", "--db", path, "disable", "wang"]) == 0
    assert capsys.readouterr().out.strip() == "已停用用户 wang，其登录会话已结束"
    assert monitor_main(["users", "--db", path, "reset-password", "wang", "--password", "short"]) == 1
    assert capsys.readouterr().out.strip() == "密码至少8位。"


def test_the_sign_in_refusal_follows_the_chosen_language(app_db: Path) -> None:
    at = start(None, "en")
    at.text_input(key="sign_in_user").input("leader")
    at.text_input(key="sign_in_password").input("wrong-password")
    button(at, "Sign in").click().run()
    assert [e.value for e in at.error] == [REFUSALS[-1][3]]


def test_switching_language_keeps_the_upload_page_s_tab(app_db: Path) -> None:
    """The tabs' labels change with the language; the chosen tab is kept by its id ("fix")."""
    at = open_page("housing", "upload")
    assert at.session_state["up_tab"] == "entry"  # the first tab when nothing was chosen
    at.session_state["up_tabs_zh"] = "更正历史数据"  # the clerk opens 更正历史数据
    at.run()
    assert at.session_state["up_tab"] == "fix"
    at.segmented_control(key="lang_choice").set_value("English").run()
    assert_clean(at)
    assert at.session_state["up_tab"] == "fix"
    assert at.session_state["up_tabs_en"] == "Correct a month"  # the open tab after the toggle
    at.segmented_control(key="lang_choice").set_value("中文").run()
    assert at.session_state["up_tabs_zh"] == "更正历史数据"


def test_the_uploader_s_english_words_are_explained_in_chinese(app_db: Path) -> None:
    """Streamlit 1.67 has no setting for the uploader's own words (its button "Upload", "20MB per
    file • XLSX, CSV", "Drag and drop a file here" while dragging): a caption above it says them."""
    at = open_page("housing", "upload")
    assert (
        "点击下方“Upload”按钮选择文件，或将文件拖到框内；框内“20MB per file • XLSX, XLS, ET, XLSB, ODS, CSV”"
        "意为单个文件不超过20MB，格式为 XLSX、XLS、ET、XLSB、ODS 或 CSV。"
    ) in [c.value for c in at.caption]
