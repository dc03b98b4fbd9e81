"""Local accounts: argon2 password hashes, roles, lock-out after repeated failures.

Passwords are never stored, shown or logged in clear: only argon2id hashes reach the warehouse,
and the audit log records who signed in, never with what.

The sign-in form gives one message for an unknown name, a wrong password, a disabled and a locked
account, so it does not tell a stranger which names exist or what state they are in; the real
reason goes to the audit log and the admin page shows every account's state.

Every account write, sign-in counters and their audit entries included, runs in its own transaction
under the warehouse's one writer (db.writing(): the app's sessions share one connection, each on its
own cursor), and a write that still meets a conflict (a writer outside it) is retried: parallel
wrong passwords lock an account after exactly MAX_FAILURES, never a traceback.
"""

from __future__ import annotations

import datetime as dt
import secrets
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, TypeVar

import duckdb
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from monitor import db, i18n

# approver: reviews (审核) its bureau's submissions before leadership sees them (monitor.review)
Role = Literal["leader", "reporter", "approver", "admin"]
ROLES: tuple[Role, ...] = ("leader", "reporter", "approver", "admin")
BUREAU_ROLES: tuple[Role, ...] = ("reporter", "approver")  # accounts that belong to one bureau
MAX_FAILURES = 5
LOCK_MINUTES = 15
SESSION_IDLE_MINUTES = 30
SESSION_MAX_HOURS = 8
MIN_PASSWORD = 8
NAME_MIN, NAME_MAX = 2, 64
# What the audit log records for a sign-in with a name that has no account: never the typed text
# (people type their password into the name field). The space keeps it apart from every valid name.
UNKNOWN_ACCOUNT = "unknown account"
WRITE_ATTEMPTS = 5

_hasher = PasswordHasher()
_Result = TypeVar("_Result")

_COLUMNS = "user_name, display_name, role, bureau_id, active, failed_count, locked_until, session_epoch"


class AuthError(ValueError):
    """A refused sign-in or account change. The text lives in the i18n catalogue (key and params), so
    a page shows it in the user's language (`text(lang)`), one language per message; str() is the
    Chinese text, as the command line (monitor.users_cli) prints it."""

    def __init__(self, key: str, **params: object) -> None:
        self.key = key
        self.params = params
        super().__init__(self.text("zh"))

    def text(self, lang: i18n.Lang) -> str:
        return i18n.t(self.key, lang, **self.params)


def _refused() -> AuthError:
    """The one sign-in refusal, whatever the reason (unknown, wrong password, disabled, locked)."""
    return AuthError("auth_refused", max=MAX_FAILURES, minutes=LOCK_MINUTES)


@dataclass(frozen=True)
class User:
    user_name: str
    display_name: str
    role: Role
    bureau_id: str | None
    active: bool
    failed_count: int = 0
    locked_until: dt.datetime | None = None
    session_epoch: int = 0

    def locked(self, now: dt.datetime | None = None) -> bool:
        return self.locked_until is not None and self.locked_until > (now or dt.datetime.now())


def _row_to_user(row: tuple) -> User:
    return User(row[0], row[1], row[2], row[3], bool(row[4]), int(row[5] or 0), row[6], int(row[7] or 0))


# -- user names --------------------------------------------------------------------------------------


def normalise_user_name(text: str) -> str:
    """NFKC (full-width ａｄｍｉｎ is admin) without surrounding spaces: how a name is stored and looked up."""
    return unicodedata.normalize("NFKC", text).strip()


def _code(char: str) -> str:
    return f"U+{ord(char):04X}"


def _script(char: str) -> str:
    """latin, han, cyrillic, greek or other, for the characters a user name may mix."""
    if char.isascii():
        return "latin" if char.isalpha() else "other"
    name = unicodedata.name(char, "")
    for script, prefix in (("han", "CJK UNIFIED IDEOGRAPH"), ("cyrillic", "CYRILLIC"), ("greek", "GREEK")):
        if name.startswith(prefix):
            return script
    return "other"


_NAME_PUNCTUATION = frozenset("._-@·")  # · between the parts of a transliterated name: 乌力吉·巴图


def check_user_name(text: str) -> str:
    """The normalised name, or AuthError saying what is wrong with it.

    Allowed: Latin letters and digits, . _ - @ (e-mail names for single sign-on), Chinese characters
    and ·. Refused: invisible characters (control, zero-width, text-direction), which make two names
    look the same, and Latin letters mixed with look-alike Cyrillic or Greek ones ("аdmin")."""
    name = normalise_user_name(text)
    for char in name:
        if unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp"):
            raise AuthError("name_invisible", code=_code(char))
    if not NAME_MIN <= len(name) <= NAME_MAX:
        raise AuthError("name_length", min=NAME_MIN, max=NAME_MAX, n=len(name))
    scripts = {_script(c) for c in name}
    lookalike = next((c for c in name if _script(c) in ("cyrillic", "greek")), None)
    if lookalike is not None and "latin" in scripts:
        raise AuthError("name_mixed_script", code=_code(lookalike))
    for char in name:
        if not ((char.isascii() and char.isalnum()) or char in _NAME_PUNCTUATION or _script(char) == "han"):
            shown = char if char.isprintable() and not char.isspace() else " "
            raise AuthError("name_chars", char=shown, code=_code(char))
    return name


# -- reads ---------------------------------------------------------------------------------------------


def get_user(con: duckdb.DuckDBPyConnection, user_name: str) -> User | None:
    row = db.one(con, f"select {_COLUMNS} from users where user_name = ?", [normalise_user_name(user_name)])
    return _row_to_user(row) if row else None


def list_users(con: duckdb.DuckDBPyConnection) -> list[User]:
    rows = con.execute(f"select {_COLUMNS} from users order by role, user_name").fetchall()
    return [_row_to_user(r) for r in rows]


# -- writes ---------------------------------------------------------------------------------------------


def _write(con: duckdb.DuckDBPyConnection, work: Callable[[], _Result]) -> _Result:
    """Run `work` as one transaction, serialised with every other write of this process (db.writing()).

    A conflict with a writer outside it is retried; if it persists the user is asked to try
    again (AuthError), never shown duckdb's TransactionException."""
    with db.writing():
        for attempt in range(WRITE_ATTEMPTS):
            try:
                with db.transaction(con):
                    return work()
            except duckdb.TransactionException:
                time.sleep(0.02 * (attempt + 1))
    raise AuthError("auth_busy")


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AuthError("auth_password_short", n=MIN_PASSWORD)


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
    name = check_user_name(user_name)
    if role not in ROLES:
        raise AuthError("auth_unknown_role", role=role)
    if role in BUREAU_ROLES and not bureau_id:
        raise AuthError("auth_reporter_bureau")
    if bureau_id and db.scalar(con, "select count(*) from bureaus where bureau_id = ?", [bureau_id]) == 0:
        raise AuthError("auth_unknown_bureau", bureau=bureau_id)
    _check_password(password)
    password_hash = _hasher.hash(password)

    def insert() -> None:
        # Admin and ADMIN would be two accounts that read alike: one of them is enough.
        taken = db.scalar(con, "select user_name from users where lower(user_name) = lower(?)", [name])
        if taken is not None:
            raise AuthError("auth_user_exists", user=taken)
        con.execute(
            "insert into users values (?, ?, ?, ?, ?, true, 0, null, now(), now(), 0)",
            [name, display_name or name, role, bureau_id if role in BUREAU_ROLES else None, password_hash],
        )
        db.audit(con, by, "user_add", {"user": name, "role": role, "bureau": bureau_id})

    _write(con, insert)
    user = get_user(con, name)
    assert user is not None
    return user


def _existing(con: duckdb.DuckDBPyConnection, user_name: str) -> str:
    user = get_user(con, user_name)
    if user is None:
        raise AuthError("auth_no_such_user", user=normalise_user_name(user_name))
    return user.user_name


def set_active(con: duckdb.DuckDBPyConnection, user_name: str, active: bool, *, by: str = "system") -> None:
    """Disable (its open sessions end at their next request) or enable an account. Enabling also lifts
    a lock-out: it is how an administrator lets a locked-out colleague back in before 15 minutes."""
    name = _existing(con, user_name)

    def change() -> None:
        if active:
            con.execute(
                "update users set active = true, failed_count = 0, locked_until = null, updated_at = now() "
                "where user_name = ?",
                [name],
            )
        else:
            con.execute(
                "update users set active = false, session_epoch = session_epoch + 1, updated_at = now() "
                "where user_name = ?",
                [name],
            )
        db.audit(con, by, "user_enable" if active else "user_disable", {"user": name})

    _write(con, change)


def reset_password(con: duckdb.DuckDBPyConnection, user_name: str, password: str, *, by: str = "system") -> None:
    """A new password ends the account's open sessions (whoever knew the old one is out) and its lock."""
    name = _existing(con, user_name)
    _check_password(password)
    password_hash = _hasher.hash(password)

    def change() -> None:
        con.execute(
            """
            update users set password_hash = ?, failed_count = 0, locked_until = null,
                session_epoch = session_epoch + 1, updated_at = now()
            where user_name = ?
            """,
            [password_hash, name],
        )
        db.audit(con, by, "user_reset_password", {"user": name})

    _write(con, change)


def generate_password() -> str:
    return secrets.token_urlsafe(9)


# -- sign-in --------------------------------------------------------------------------------------------


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _count_failure(con: duckdb.DuckDBPyConnection, name: str, now: dt.datetime) -> None:
    """One wrong password: the MAX_FAILURES-th in a row locks the account.

    A lock that has run out starts the count again. An account locked meanwhile by a parallel
    attempt is not counted: that attempt is a refusal. The check and the update run in the caller's
    transaction, which holds the writer (across processes on PostgreSQL), so nothing slips between
    them (DuckDB cannot UPDATE … RETURNING on PostgreSQL tables, hence two statements)."""
    unlocked = db.one(
        con, "select 1 from users where user_name = ? and (locked_until is null or locked_until <= ?)", [name, now]
    )
    row = None
    if unlocked is not None:
        con.execute(
            """
            update users set
                failed_count = (case when locked_until is null then failed_count else 0 end) + 1,
                locked_until = case
                    when (case when locked_until is null then failed_count else 0 end) + 1 >= ? then ?
                    else null end
            where user_name = ?
            """,
            [MAX_FAILURES, now + dt.timedelta(minutes=LOCK_MINUTES), name],
        )
        row = db.one(con, "select failed_count, locked_until from users where user_name = ?", [name])
    if row is None:
        db.audit(con, name, "sign_in_refused", {"reason": "locked"})
        return
    failures, lock = row
    db.audit(
        con, name, "sign_in_failed", {"reason": "wrong_password", "failures": int(failures), "locked": lock is not None}
    )


def _record_success(
    con: duckdb.DuckDBPyConnection, name: str, password_hash: str, password: str, now: dt.datetime
) -> bool:
    """Clear the failure count, unless the account was locked, disabled or given a new password
    between the read and now (then False: the sign-in is refused)."""
    row = db.one(
        con,
        """
        select user_name from users
        where user_name = ? and active and password_hash = ? and (locked_until is null or locked_until <= ?)
        """,
        [name, password_hash, now],
    )
    if row is not None:  # the caller's transaction holds the writer: nothing changes between the two
        con.execute("update users set failed_count = 0, locked_until = null where user_name = ?", [name])
    if row is None:
        db.audit(con, name, "sign_in_refused", {"reason": "changed_meanwhile"})
        return False
    if _hasher.check_needs_rehash(password_hash):
        con.execute("update users set password_hash = ? where user_name = ?", [_hasher.hash(password), name])
    db.audit(con, name, "sign_in", {})
    return True


def sign_in(con: duckdb.DuckDBPyConnection, user_name: str, password: str, *, now: dt.datetime | None = None) -> User:
    """Verify a password; count failures and lock the account after MAX_FAILURES in a row.

    Every refusal raises the same AuthError; the password is checked in every case, so the time
    taken does not tell an unknown, disabled or locked account from a wrong password either."""
    now = now or dt.datetime.now()
    name = normalise_user_name(user_name)
    row = db.one(con, "select password_hash, active, locked_until from users where user_name = ?", [name])
    if row is None:
        _hasher.hash(password)
        _write(con, lambda: db.audit(con, UNKNOWN_ACCOUNT, "sign_in_failed", {"reason": "unknown_user"}))
        raise _refused()
    password_hash, active, locked_until = row
    matches = _verify(password_hash, password)
    if locked_until is not None and locked_until > now:
        _write(con, lambda: db.audit(con, name, "sign_in_refused", {"reason": "locked"}))
        raise _refused()
    if not active:
        _write(con, lambda: db.audit(con, name, "sign_in_refused", {"reason": "disabled"}))
        raise _refused()
    if not matches:
        _write(con, lambda: _count_failure(con, name, now))
        raise _refused()
    if not _write(con, lambda: _record_success(con, name, password_hash, password, now)):
        raise _refused()
    user = get_user(con, name)
    assert user is not None
    return user


def can_submit(user: User, kpi_lead: str) -> bool:
    """Reporters submit only their own bureau's KPIs; admins may load for any bureau."""
    return user.role == "admin" or (user.role == "reporter" and user.bureau_id == kpi_lead)
