"""The server side of the session cookie (monitor/sessions.py), with a clock the tests move.

A token stands for its user until: SESSION_IDLE_MINUTES pass without a request, SESSION_MAX_HOURS pass
since its sign-in (however busy), the user signs out, or the account is disabled or its password reset.
The limits are auth's: 30 minutes idle, 8 hours in all."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from monitor import auth, db, sessions

T0 = dt.datetime(2026, 11, 2, 9, 0, 0)  # a Monday morning sign-in


def minutes(n: float) -> dt.timedelta:
    return dt.timedelta(minutes=n)


@pytest.fixture
def con(warehouse) -> duckdb.DuckDBPyConnection:
    auth.add_user(warehouse.con, "zhangsan", "right-password", "leader")
    return warehouse.con


def signed_in(con: duckdb.DuckDBPyConnection, at: dt.datetime = T0) -> str:
    return sessions.issue(con, auth.sign_in(con, "zhangsan", "right-password"), now=at)


def row(con: duckdb.DuckDBPyConnection) -> tuple:
    """The one session row: (user, epoch, created, last seen, ended, reason)."""
    rows = con.execute(
        "select user_name, session_epoch, created_at, last_seen_at, ended_at, end_reason from sessions"
    ).fetchall()
    assert len(rows) == 1, rows
    return rows[0]


def test_a_new_token_stands_for_its_user_and_only_its_hash_is_stored(con) -> None:
    token = signed_in(con)
    assert len(token) == 43  # 32 random bytes, URL-safe base64: cookie-safe characters only
    check = sessions.check(con, token, now=T0 + minutes(5))
    assert (check.reason, check.user.user_name if check.user else None) == ("ok", "zhangsan")
    assert row(con) == ("zhangsan", 0, T0, T0 + minutes(5), None, None)
    assert db.scalar(con, "select count(*) from sessions where token_hash = ?", [token]) == 0  # not in clear
    assert sessions.started_at(con, token) == T0


def test_unknown_empty_and_altered_tokens_stand_for_nobody(con) -> None:
    token = signed_in(con)
    for forged in ("", "abc", token[:-1] + ("A" if token[-1] != "A" else "B")):
        assert sessions.check(con, forged, now=T0) == sessions.Check(None, "unknown")
    assert row(con)[4] is None  # a wrong guess does not end the real session


def test_idle_expiry_after_30_minutes_without_a_request(con) -> None:
    token = signed_in(con)
    assert sessions.check(con, token, now=T0 + minutes(30)).reason == "ok"  # exactly 30: still valid
    # each request moves the idle limit on: 29 minutes after the last one is fine
    assert sessions.check(con, token, now=T0 + minutes(59)).reason == "ok"
    assert row(con)[3] == T0 + minutes(59)
    assert sessions.check(con, token, now=T0 + minutes(89) + dt.timedelta(seconds=1)) == sessions.Check(None, "idle")
    assert row(con)[4:] == (T0 + minutes(89) + dt.timedelta(seconds=1), "idle")
    # and it stays ended, even if the clock were turned back
    assert sessions.check(con, token, now=T0 + minutes(60)) == sessions.Check(None, "ended")


def test_seen_is_written_at_most_once_a_minute(con) -> None:
    token = signed_in(con)
    sessions.check(con, token, now=T0 + dt.timedelta(seconds=59))
    assert row(con)[3] == T0  # not yet: one write a minute, not one per rerun
    sessions.check(con, token, now=T0 + dt.timedelta(seconds=60))
    assert row(con)[3] == T0 + minutes(1)


def test_absolute_expiry_after_8_hours_however_busy(con) -> None:
    token = signed_in(con)
    at = T0
    while at < T0 + dt.timedelta(hours=8):  # a request every 20 minutes all day
        at += minutes(20)
        expected = "ok" if at - T0 <= dt.timedelta(hours=8) else "absolute"
        assert sessions.check(con, token, now=at).reason == expected, at
    assert at == T0 + dt.timedelta(hours=8)
    assert sessions.check(con, token, now=at + dt.timedelta(seconds=1)) == sessions.Check(None, "absolute")
    assert row(con)[5] == "absolute"
    assert sessions.expires_at(T0) == dt.datetime(2026, 11, 2, 17, 0, 0)  # the cookie's own end


def test_sign_out_ends_the_token_and_a_new_sign_in_gets_another(con) -> None:
    token = signed_in(con)
    sessions.end(con, token, "sign_out", now=T0 + minutes(3))
    assert sessions.check(con, token, now=T0 + minutes(4)) == sessions.Check(None, "ended")
    sessions.end(con, token, "idle", now=T0 + minutes(5))  # the first reason stays
    assert row(con)[4:] == (T0 + minutes(3), "sign_out")
    again = signed_in(con, T0 + minutes(6))
    assert again != token
    assert sessions.check(con, again, now=T0 + minutes(7)).reason == "ok"


def test_disabling_the_account_ends_its_sessions_and_enabling_does_not_revive_them(con) -> None:
    token = signed_in(con)
    auth.set_active(con, "zhangsan", False, by="admin")
    assert sessions.check(con, token, now=T0 + minutes(1)) == sessions.Check(None, "account")
    auth.set_active(con, "zhangsan", True, by="admin")
    assert sessions.check(con, token, now=T0 + minutes(2)) == sessions.Check(None, "ended")
    assert row(con)[5] == "account"


def test_a_password_reset_ends_sessions_signed_in_with_the_old_password(con) -> None:
    old = signed_in(con)
    auth.reset_password(con, "zhangsan", "new-password-1", by="admin")
    assert sessions.check(con, old, now=T0 + minutes(1)) == sessions.Check(None, "account")
    fresh = sessions.issue(con, auth.sign_in(con, "zhangsan", "new-password-1"), now=T0 + minutes(2))
    check = sessions.check(con, fresh, now=T0 + minutes(3))
    assert check.reason == "ok" and check.user is not None and check.user.session_epoch == 1


def test_the_sessions_table_comes_with_migration_7(tmp_path) -> None:
    con = db.connect(tmp_path / "w.duckdb")
    try:
        assert db.scalar(con, "select count(*) from schema_version where version = 7") == 1
        columns = [r[0] for r in con.execute("describe sessions").fetchall()]
        assert columns == [
            "token_hash", "user_name", "session_epoch", "created_at", "last_seen_at", "ended_at", "end_reason",
        ]  # fmt: skip
    finally:
        con.close()


def test_a_sign_in_deletes_session_rows_older_than_90_days_and_keeps_newer_ones(con) -> None:
    old = signed_in(con, at=T0)
    recent = signed_in(con, at=T0 + dt.timedelta(days=60))
    assert db.scalar(con, "select count(*) from sessions") == 2
    signed_in(con, at=T0 + dt.timedelta(days=90, minutes=1))  # the first row is now 90 days and a minute old
    assert sessions.check(con, old, now=T0 + dt.timedelta(days=90, minutes=2)) == sessions.Check(None, "unknown")
    assert db.scalar(con, "select count(*) from sessions") == 2
    assert sessions.started_at(con, recent) == T0 + dt.timedelta(days=60)
