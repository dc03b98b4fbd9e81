"""Who is signed in, for how long, and whether the role may open a page (re-checked on every page,
against the one page table, dashboard.page_table)."""

from __future__ import annotations

import datetime as dt

import streamlit as st
from streamlit.errors import StreamlitSecretNotFoundError

from dashboard import data, page_table
from monitor import auth, db
from monitor.auth import User


def sso_configured() -> bool:
    """Single sign-on (st.login, OIDC) is on when .streamlit/secrets.toml has an [auth] section."""
    try:
        return "auth" in st.secrets
    except StreamlitSecretNotFoundError:
        return False


def _sso_user() -> User | None:
    """An OIDC identity maps to a local account of the same e-mail: roles stay managed here."""
    if not sso_configured() or not st.user.is_logged_in:
        return None
    user = auth.get_user(data.con(), str(st.user.get("email", "")))
    if user and user.active:
        start(user)
        db.audit(data.con(), user.user_name, "sign_in", {"via": "oidc"})
        return user
    return None


def current_user() -> User | None:
    """The signed-in user, re-read from the warehouse on every request: a disabled account, or one
    whose password was reset since this session signed in (its session epoch moved on), is signed
    out here, with a message on the sign-in page."""
    name = st.session_state.get("user_name")
    if not name:
        return _sso_user()
    now = dt.datetime.now()
    started = st.session_state.get("signed_in_at", now)
    seen = st.session_state.get("last_seen", now)
    if now - seen > dt.timedelta(minutes=auth.SESSION_IDLE_MINUTES) or now - started > dt.timedelta(
        hours=auth.SESSION_MAX_HOURS
    ):
        sign_out(reason="expired")
        return None
    user = auth.get_user(data.con(), name)
    # a session from before epochs were stored holds none: 0, the epoch every account starts with
    if user is None or not user.active or user.session_epoch != st.session_state.get("session_epoch", 0):
        sign_out(reason="ended")
        return None
    st.session_state["last_seen"] = now
    return user


def start(user: User) -> None:
    """Remember who signed in, when, and the account's session epoch (see current_user)."""
    now = dt.datetime.now()
    st.session_state.update(user_name=user.user_name, signed_in_at=now, last_seen=now, session_epoch=user.session_epoch)


def sign_out(reason: str = "sign_out") -> None:
    name = st.session_state.pop("user_name", None)
    for key in ("signed_in_at", "last_seen", "session_epoch"):
        st.session_state.pop(key, None)
    if name and reason == "sign_out":
        db.audit(data.con(), name, "sign_out", {})
    if sso_configured() and st.user.is_logged_in:
        st.logout()
    if reason == "expired":
        st.session_state["session_expired"] = True
    elif reason == "ended":
        st.session_state["session_ended"] = True


def require(page: str) -> User:
    """Stop the page unless the signed-in user's role may see it (pages reached by URL included)."""
    user = current_user()
    if user is None or not page_table.may_open(user.role, page):
        st.error("无权访问此页面 / You are not allowed to open this page.")
        st.stop()
    return user
