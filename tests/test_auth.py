"""Accounts: argon2 hashes only, lock-out, disabled accounts, the audit trail, the users CLI."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from monitor import auth, db


def _audit(con) -> list[tuple[str, str]]:
    return [(u, a) for u, a in con.execute("select user_name, action from audit_log order by event_id").fetchall()]


def test_password_is_stored_only_as_argon2_hash(warehouse) -> None:
    auth.add_user(warehouse.con, "zhang", "s3cret-pass", "reporter", bureau_id="housing")
    stored = db.scalar(warehouse.con, "select password_hash from users where user_name = 'zhang'")
    assert str(stored).startswith("$argon2id$")
    assert "s3cret-pass" not in str(stored)
    details = " ".join(str(r[0]) for r in warehouse.con.execute("select detail from audit_log").fetchall())
    assert "s3cret-pass" not in details


def test_sign_in_success_and_failure_are_audited(warehouse) -> None:
    auth.add_user(warehouse.con, "zhang", "s3cret-pass", "reporter", bureau_id="housing")
    user = auth.sign_in(warehouse.con, "zhang", "s3cret-pass")
    assert (user.role, user.bureau_id) == ("reporter", "housing")
    with pytest.raises(auth.AuthError, match="账号或密码错误"):
        auth.sign_in(warehouse.con, "zhang", "wrong-pass")
    with pytest.raises(auth.AuthError, match="账号或密码错误"):
        auth.sign_in(warehouse.con, "nobody", "whatever1")
    assert _audit(warehouse.con)[-3:] == [
        ("zhang", "sign_in"),
        ("zhang", "sign_in_failed"),
        ("unknown account", "sign_in_failed"),  # never the typed name: it may be a password
    ]


def test_five_failures_lock_the_account_for_fifteen_minutes(warehouse) -> None:
    auth.add_user(warehouse.con, "li", "right-password", "leader")
    now = dt.datetime(2026, 11, 26, 9, 0)
    for _ in range(4):
        with pytest.raises(auth.AuthError, match="账号或密码错误"):
            auth.sign_in(warehouse.con, "li", "bad-password", now=now)
    with pytest.raises(auth.AuthError, match="账号或密码错误"):  # the form never says "locked"
        auth.sign_in(warehouse.con, "li", "bad-password", now=now)
    assert auth.get_user(warehouse.con, "li").locked_until == now + dt.timedelta(minutes=15)
    # even the right password is refused while locked
    with pytest.raises(auth.AuthError, match="账号或密码错误"):
        auth.sign_in(warehouse.con, "li", "right-password", now=now + dt.timedelta(minutes=14))
    assert auth.sign_in(warehouse.con, "li", "right-password", now=now + dt.timedelta(minutes=16)).user_name == "li"


def test_disabled_account_cannot_sign_in(warehouse) -> None:
    auth.add_user(warehouse.con, "wang", "right-password", "admin")
    auth.set_active(warehouse.con, "wang", False, by="root")
    with pytest.raises(auth.AuthError, match="账号或密码错误"):  # the form never says "disabled"
        auth.sign_in(warehouse.con, "wang", "right-password")
    assert ("root", "user_disable") in _audit(warehouse.con)
    assert _audit(warehouse.con)[-1] == ("wang", "sign_in_refused")


def test_reporter_needs_a_known_bureau_and_short_passwords_are_refused(warehouse) -> None:
    with pytest.raises(auth.AuthError, match="填报人员和审核人员必须属于一个责任单位"):
        auth.add_user(warehouse.con, "zhao", "long-enough", "reporter")
    with pytest.raises(auth.AuthError, match="未知责任单位"):
        auth.add_user(warehouse.con, "zhao", "long-enough", "reporter", bureau_id="mars")
    with pytest.raises(auth.AuthError, match="密码至少8位"):
        auth.add_user(warehouse.con, "zhao", "short", "leader")
    assert auth.list_users(warehouse.con) == []


def test_reporter_may_submit_only_its_bureau(warehouse) -> None:
    user = auth.add_user(warehouse.con, "zhang", "s3cret-pass", "reporter", bureau_id="housing")
    assert auth.can_submit(user, "housing")
    assert not auth.can_submit(user, "transport")


def test_users_cli_add_list_disable_reset(warehouse, capsys) -> None:
    from monitor.__main__ import main as monitor_main

    path = str(warehouse.path)
    warehouse.con.close()
    assert monitor_main(["users", "--db", path, "add", "zhao", "--role", "leader", "--password", "pass-word-1"]) == 0
    assert monitor_main(["users", "--db", path, "disable", "zhao"]) == 0
    assert monitor_main(["users", "--db", path, "list"]) == 0
    out = capsys.readouterr().out
    assert "zhao" in out and "leader" in out and "disabled" in out
    assert monitor_main(["users", "--db", path, "reset-password", "zhao", "--password", "x"]) == 1
    assert "密码至少8位" in capsys.readouterr().out
    con = db.connect(path)
    actions = [json.loads(d)["user"] for (d,) in con.execute(
        "select detail from audit_log where action like 'user_%' order by event_id").fetchall()]  # fmt: skip
    assert actions == ["zhao", "zhao"]
