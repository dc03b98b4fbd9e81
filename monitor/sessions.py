"""Browser sessions that survive a reload: a random token in a cookie, its SHA-256 in the warehouse.

Streamlit keeps st.session_state per websocket connection, so a reload (F5) or a link opened in a new
tab starts from nothing. The browser keeps a cookie instead (set by dashboard/session.py), and the
server checks its token here on every new connection:

* the token is 32 random bytes (secrets.token_urlsafe); the warehouse stores only its SHA-256, so
  neither a copy of the warehouse nor a backup can be replayed as a cookie, and no signing secret has
  to be generated, stored or rotated: an unguessable id that the server looks up is the signature;
* a session ends after SESSION_IDLE_MINUTES without a request (idle), SESSION_MAX_HOURS after its
  sign-in whatever the activity (absolute), at sign-out, and as soon as the account's session_epoch
  moves on (auth.set_active(False), auth.reset_password): the row records when and why;
* every write runs under the warehouse's one writer (db.writing() / db.transaction()), like the
  account writes in monitor/auth.py.

`now` is a parameter everywhere so the tests can move a clock; the app passes dt.datetime.now().
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from typing import Literal

import duckdb

from monitor import auth, db

COOKIE = "ordos0477_session"
TOKEN_BYTES = 32
# last_seen_at is written at most once per this interval (not on every rerun): idle expiry is exact
# to within it.
TOUCH_EVERY = dt.timedelta(minutes=1)
# A session row (who signed in, when and why it ended) is kept this long after its sign-in, then deleted
# at the next sign-in: long enough to answer "who was signed in last quarter", short enough that the
# table does not grow with every sign-in for years. Sign-ins themselves stay in the audit log.
KEEP_ROWS = dt.timedelta(days=90)

EndReason = Literal["sign_out", "idle", "absolute", "account"]


@dataclass(frozen=True)
class Check:
    """The outcome of checking a token: the user, or None and why not.

    reason: "ok"; "unknown" (no such token, or an empty cookie); "ended" (signed out earlier);
    "idle" / "absolute" (expired now); "account" (disabled, password reset, or deleted)."""

    user: auth.User | None
    reason: str


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def idle_limit() -> dt.timedelta:
    return dt.timedelta(minutes=auth.SESSION_IDLE_MINUTES)


def absolute_limit() -> dt.timedelta:
    return dt.timedelta(hours=auth.SESSION_MAX_HOURS)


def issue(con: duckdb.DuckDBPyConnection, user: auth.User, *, now: dt.datetime | None = None) -> str:
    """A new session for a user who has just signed in; returns the token for the cookie. Rows of
    sessions signed in more than KEEP_ROWS ago go in the same transaction (all of them have ended)."""
    now = now or dt.datetime.now()
    token = secrets.token_urlsafe(TOKEN_BYTES)
    with db.transaction(con):
        con.execute("delete from sessions where created_at < ?", [now - KEEP_ROWS])
        con.execute(
            "insert into sessions values (?, ?, ?, ?, ?, null, null)",
            [_hash(token), user.user_name, user.session_epoch, now, now],
        )
    return token


def end(con: duckdb.DuckDBPyConnection, token: str, reason: EndReason, *, now: dt.datetime | None = None) -> None:
    """End a session (nothing happens for an unknown or already ended one: the first reason stays)."""
    with db.transaction(con):
        con.execute(
            "update sessions set ended_at = ?, end_reason = ? where token_hash = ? and ended_at is null",
            [now or dt.datetime.now(), reason, _hash(token)],
        )


def expires_at(created_at: dt.datetime) -> dt.datetime:
    """When a session started at created_at ends at the latest (the cookie's own expiry)."""
    return created_at + absolute_limit()


def check(con: duckdb.DuckDBPyConnection, token: str, *, now: dt.datetime | None = None) -> Check:
    """Whether the token still stands for a signed-in user, ending the session if it has just expired
    or its account changed; a valid one is marked seen (at most once per TOUCH_EVERY)."""
    now = now or dt.datetime.now()
    if not token:
        return Check(None, "unknown")
    token_hash = _hash(token)
    row = db.one(
        con,
        "select user_name, session_epoch, created_at, last_seen_at, ended_at from sessions where token_hash = ?",
        [token_hash],
    )
    if row is None:
        return Check(None, "unknown")
    user_name, epoch, created_at, last_seen_at, ended_at = row
    if ended_at is not None:
        return Check(None, "ended")
    reason: EndReason | None = None
    if now - created_at > absolute_limit():
        reason = "absolute"
    elif now - last_seen_at > idle_limit():
        reason = "idle"
    user = auth.get_user(con, user_name)
    if reason is None and (user is None or not user.active or user.session_epoch != epoch):
        reason = "account"
    if reason is not None:
        end(con, token, reason, now=now)
        return Check(None, reason)
    if now - last_seen_at >= TOUCH_EVERY:
        with db.transaction(con):
            con.execute("update sessions set last_seen_at = ? where token_hash = ?", [now, token_hash])
    return Check(user, "ok")


def started_at(con: duckdb.DuckDBPyConnection, token: str) -> dt.datetime | None:
    """When the session of a token was issued (its sign-in), for the absolute expiry of a restored one."""
    value = db.scalar(con, "select created_at from sessions where token_hash = ?", [_hash(token)])
    return value if isinstance(value, dt.datetime) else None
