"""Local accounts: argon2 password hashes, roles, lock-out after repeated failures.

Passwords are never stored, shown or logged in clear: only argon2id hashes reach the warehouse,
and the audit log records who signed in, never with what.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Literal

import duckdb
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from monitor import db

Role = Literal["leader", "reporter", "admin"]
ROLES: tuple[Role, ...] = ("leader", "reporter", "admin")
MAX_FAILURES = 5
LOCK_MINUTES = 15
SESSION_IDLE_MINUTES = 30
SESSION_MAX_HOURS = 8
MIN_PASSWORD = 8

_hasher = PasswordHasher()


class AuthError(ValueError):
    """A refused sign-in or account change; the message is safe to show to the user."""


@dataclass(frozen=True)
class User:
    user_name: str
    display_name: str
    role: Role
    bureau_id: str | None
    active: bool


def _row_to_user(row: tuple) -> User:
    return User(row[0], row[1], row[2], row[3], bool(row[4]))


def get_user(con: duckdb.DuckDBPyConnection, user_name: str) -> User | None:
    row = db.one(
        con, "select user_name, display_name, role, bureau_id, active from users where user_name = ?", [user_name]
    )
    return _row_to_user(row) if row else None


def list_users(con: duckdb.DuckDBPyConnection) -> list[User]:
    rows = con.execute(
        "select user_name, display_name, role, bureau_id, active from users order by role, user_name"
    ).fetchall()
    return [_row_to_user(r) for r in rows]


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AuthError(f"密码至少{MIN_PASSWORD}位 / password must have at least {MIN_PASSWORD} characters")


def add_user(
    con: duckdb.DuckDBPyConnection,
    user_name: str,
    password: str,
    role: Role,
    *,
    bureau_id: str | None = None,
    display_name: str | None = None,
    by: str = "system",
) -> User:
    if role not in ROLES:
        raise AuthError(f"未知角色 / unknown role: {role}")
    if role == "reporter" and not bureau_id:
        raise AuthError("填报人员必须属于一个责任单位 / a reporter needs a bureau")
    if bureau_id and db.scalar(con, "select count(*) from bureaus where bureau_id = ?", [bureau_id]) == 0:
        raise AuthError(f"未知责任单位 / unknown bureau: {bureau_id}")
    if get_user(con, user_name):
        raise AuthError(f"账号已存在 / user exists: {user_name}")
    _check_password(password)
    with db.transaction(con):
        con.execute(
            "insert into users values (?, ?, ?, ?, ?, true, 0, null, now(), now())",
            [user_name, display_name or user_name, role, bureau_id if role == "reporter" else None,
             _hasher.hash(password)],
        )  # fmt: skip
        db.audit(con, by, "user_add", {"user": user_name, "role": role, "bureau": bureau_id})
    user = get_user(con, user_name)
    assert user is not None
    return user


def set_active(con: duckdb.DuckDBPyConnection, user_name: str, active: bool, *, by: str = "system") -> None:
    if not get_user(con, user_name):
        raise AuthError(f"账号不存在 / no such user: {user_name}")
    with db.transaction(con):
        con.execute("update users set active = ?, updated_at = now() where user_name = ?", [active, user_name])
        db.audit(con, by, "user_enable" if active else "user_disable", {"user": user_name})


def reset_password(con: duckdb.DuckDBPyConnection, user_name: str, password: str, *, by: str = "system") -> None:
    if not get_user(con, user_name):
        raise AuthError(f"账号不存在 / no such user: {user_name}")
    _check_password(password)
    with db.transaction(con):
        con.execute(
            """
            update users set password_hash = ?, failed_count = 0, locked_until = null, updated_at = now()
            where user_name = ?
            """,
            [_hasher.hash(password), user_name],
        )
        db.audit(con, by, "user_reset_password", {"user": user_name})


def generate_password() -> str:
    return secrets.token_urlsafe(9)


def sign_in(con: duckdb.DuckDBPyConnection, user_name: str, password: str, *, now: dt.datetime | None = None) -> User:
    """Verify a password; count failures and lock the account after MAX_FAILURES in a row."""
    now = now or dt.datetime.now()
    row = db.one(
        con, "select password_hash, active, failed_count, locked_until from users where user_name = ?", [user_name]
    )
    generic = "账号或密码错误 / wrong user name or password"
    if row is None:
        _hasher.hash(password)  # same cost as a real check: no timing hint that the account is unknown
        db.audit(con, user_name, "sign_in_failed", {"reason": "unknown_user"})
        raise AuthError(generic)
    password_hash, active, failures, locked_until = row
    if locked_until is not None and locked_until > now:
        db.audit(con, user_name, "sign_in_refused", {"reason": "locked"})
        raise AuthError(
            f"连续{MAX_FAILURES}次密码错误，账号已锁定，请{LOCK_MINUTES}分钟后再试或联系管理员 / account locked"
        )
    if not active:
        db.audit(con, user_name, "sign_in_refused", {"reason": "disabled"})
        raise AuthError("账号已停用，请联系管理员 / account disabled")
    try:
        _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        failures = int(failures or 0) + 1
        lock = now + dt.timedelta(minutes=LOCK_MINUTES) if failures >= MAX_FAILURES else None
        with db.transaction(con):
            con.execute(
                "update users set failed_count = ?, locked_until = ? where user_name = ?",
                [0 if lock else failures, lock, user_name],
            )
            db.audit(con, user_name, "sign_in_failed", {"failures": failures, "locked": lock is not None})
        if lock:
            raise AuthError(
                f"连续{MAX_FAILURES}次密码错误，账号已锁定，请{LOCK_MINUTES}分钟后再试或联系管理员 / account locked"
            ) from None
        raise AuthError(generic) from None
    with db.transaction(con):
        con.execute("update users set failed_count = 0, locked_until = null where user_name = ?", [user_name])
        if _hasher.check_needs_rehash(password_hash):
            con.execute("update users set password_hash = ? where user_name = ?", [_hasher.hash(password), user_name])
        db.audit(con, user_name, "sign_in", {})
    user = get_user(con, user_name)
    assert user is not None
    return user


def can_submit(user: User, kpi_lead: str) -> bool:
    """Reporters submit only their own bureau's KPIs; admins may load for any bureau."""
    return user.role == "admin" or (user.role == "reporter" and user.bureau_id == kpi_lead)
