"""Who is signed in, for how long, and whether the role may open a page (re-checked on every page,
against the one page table, dashboard.page_table).

A sign-in lives in st.session_state (one browser tab's connection) and in a session cookie, so a
reload or a link opened in a new tab stays signed in: monitor/sessions.py checks the cookie's token
on the server (idle and absolute expiry, sign-out, a disabled account or a reset password end it).
Streamlit can only read cookies (st.context.cookies, as sent when the connection opened); the cookie
is written by a small st.components.v2 script in the page, which is why it cannot be HttpOnly."""

from __future__ import annotations

import datetime as dt

import streamlit as st
from streamlit.errors import StreamlitSecretNotFoundError

from dashboard import data, page_table, ui
from monitor import auth, db, i18n, sessions
from monitor.auth import User

_COOKIE_JS = """
export default function(component) {
    const { data } = component;
    if (!data || !data.name) return;
    const secure = window.location.protocol === "https:" ? "; Secure" : "";
    const value = data.value ? data.value : "";
    const age = data.value ? data.max_age : 0;
    document.cookie = `${data.name}=${value}; Path=/; Max-Age=${age}; SameSite=Strict${secure}`;
}
"""
# registered once per process; mounted by sync_cookie() in the sidebar of every run
_cookie_writer = st.components.v2.component("ordos0477_session_cookie", js=_COOKIE_JS)


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


def _restore() -> User | None:
    """A new connection (reload, new tab, a link) with a session cookie: sign its user in again if the
    server still holds the session. Tried once per token and connection; a restore is audited as a
    sign-in "via cookie" (once per connection, not per rerun)."""
    token = st.context.cookies.get(sessions.COOKIE, "")
    # a str from a browser; AppTest's stand-in client answers with something else
    if not isinstance(token, str) or not token or st.session_state.get("_cookie_tried") == token:
        return None
    st.session_state["_cookie_tried"] = token
    result = sessions.check(data.con(), token)
    if result.user is None:
        st.session_state["_cookie_clear"] = True
        if result.reason in ("idle", "absolute"):
            st.session_state["session_expired"] = True
        elif result.reason == "account":
            st.session_state["session_ended"] = True
        return None
    start(result.user, token=token, started=sessions.started_at(data.con(), token))
    db.audit(data.con(), result.user.user_name, "sign_in", {"via": "cookie"})
    return result.user


def current_user() -> User | None:
    """The signed-in user, re-read from the warehouse on every request: a disabled account, or one
    whose password was reset since this session signed in (its session epoch moved on), is signed
    out here, with a message on the sign-in page. A session with a cookie token is also checked on
    the server (monitor/sessions.py): signing out in another tab ends it here too."""
    name = st.session_state.get("user_name")
    if not name:
        return _restore() or _sso_user()
    now = dt.datetime.now()
    token = st.session_state.get("session_token")
    if token:  # the server's record decides (idle, absolute, signed out elsewhere, account changed)
        result = sessions.check(data.con(), token, now=now)
        if result.user is None:
            sign_out(reason="expired" if result.reason in ("idle", "absolute") else "ended")
            return None
    else:  # a session without a server record (set up directly, as the page tests do): the same limits
        started = st.session_state.get("signed_in_at", now)
        seen = st.session_state.get("last_seen", now)
        if now - seen > sessions.idle_limit() or now - started > sessions.absolute_limit():
            sign_out(reason="expired")
            return None
    user = auth.get_user(data.con(), name)
    # a session from before epochs were stored holds none: 0, the epoch every account starts with
    if user is None or not user.active or user.session_epoch != st.session_state.get("session_epoch", 0):
        sign_out(reason="ended")
        return None
    st.session_state["last_seen"] = now
    return user


def start(user: User, *, token: str | None = None, started: dt.datetime | None = None) -> None:
    """Remember who signed in, when, and the account's session epoch (see current_user). A sign-in
    gets a new server session (its token goes into the cookie); a restored one keeps its token and
    its sign-in time, so the absolute expiry counts from the password, not from the reload."""
    now = dt.datetime.now()
    if token is None:
        token = sessions.issue(data.con(), user, now=now)
    st.session_state.update(
        user_name=user.user_name, signed_in_at=started or now, last_seen=now, session_epoch=user.session_epoch,
        session_token=token,
    )  # fmt: skip
    st.session_state.pop("_cookie_clear", None)


def sign_out(reason: str = "sign_out") -> None:
    name = st.session_state.pop("user_name", None)
    token = st.session_state.pop("session_token", None)
    for key in ("signed_in_at", "last_seen", "session_epoch"):
        st.session_state.pop(key, None)
    if token:
        if reason == "sign_out":  # expiry and account changes were recorded by sessions.check
            sessions.end(data.con(), token, "sign_out")
        st.session_state["_cookie_clear"] = True
    if name and reason == "sign_out":
        db.audit(data.con(), name, "sign_out", {})
    if sso_configured() and st.user.is_logged_in:
        st.logout()
    if reason == "expired":
        st.session_state["session_expired"] = True
    elif reason == "ended":
        st.session_state["session_ended"] = True


def sync_cookie() -> None:
    """Write the session cookie for a signed-in connection, or delete it after a sign-out or a refused
    restore. Called on every run (the sidebar), so the script is in the page whatever page runs; the
    cookie expires with the session's absolute limit (the server refuses it earlier when idle)."""
    token = st.session_state.get("session_token")
    if token and st.session_state.get("user_name"):
        started = st.session_state.get("signed_in_at", dt.datetime.now())
        left = sessions.expires_at(started) - dt.datetime.now()
        payload = {"name": sessions.COOKIE, "value": token, "max_age": max(int(left.total_seconds()), 0)}
    elif st.session_state.get("_cookie_clear"):
        payload = {"name": sessions.COOKIE, "value": "", "max_age": 0}
    else:
        return
    _cookie_writer(data=payload, key="session_cookie")


def require(page: str) -> User:
    """Stop the page unless the signed-in user's role may see it (pages reached by URL included)."""
    user = current_user()
    if user is None or not page_table.may_open(user.role, page):
        st.error(i18n.t("no_access", ui.lang()))  # in the reader's language only
        st.stop()
    return user
