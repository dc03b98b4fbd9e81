"""系统管理 Administration: accounts, reloading targets.yaml, 催报 reminders (the notice to paste, and a push
when a webhook is configured: dashboard.reminder_views), the audit log (read-only, admins only).

An account change runs first and the page is then drawn again (st.rerun) with the message kept in
st.session_state, so the list always shows the state after the change; the audit log is keyed by the
newest event (dashboard.data.audit_entries), so the change's event is in it too, as a sentence
(monitor.audit_text). The add form keeps what was typed when the account is refused, and is drawn
empty after a success: its widgets are given empty values (popping their keys left the browser's
values in place).
"""

from __future__ import annotations

import datetime as dt

import streamlit as st

from dashboard import data, reminder_views, review_views, session, ui
from dashboard.ui import T
from monitor import auth, fmt, i18n
from monitor.targets import TargetsError

user = session.require("admin")  # before anything is read: the role check is on the server, per request
lang = ui.lang()
cfg = data.config()
bureau_names = {b.id: i18n.name(b, lang) for b in cfg.bureaus}
EMPTY = {"adm_add_name": "", "adm_add_role": auth.ROLES[0], "adm_add_bureau": "", "adm_add_password": "",
         "adm_new_password": ""}  # fmt: skip
ADD_KEYS = ("adm_add_name", "adm_add_role", "adm_add_bureau", "adm_add_password")
CHANGE_KEYS = ("adm_new_password",)
for key in st.session_state.pop("_adm_clear", ()):
    st.session_state[key] = EMPTY[key]  # widgets not drawn yet in this run: they are drawn empty


def done(message: str, clear: tuple[str, ...]) -> None:
    """Draw the page again, so the list shows the change, with the message and the used form emptied."""
    st.session_state["_adm_message"] = message
    st.session_state["_adm_clear"] = clear
    st.rerun()


def refused(exc: auth.AuthError) -> None:
    st.error(fmt.plain(exc.text(lang)))  # may quote a typed user name: shown as text


def state(account: auth.User, now: dt.datetime) -> str:
    if not account.active:
        return T("adm_state_disabled")
    return T("adm_state_locked") if account.locked(now) else T("adm_state_active")


st.title(T("nav_admin"))
tab_users, tab_targets, tab_reminders, tab_audit = st.tabs(
    [T("adm_users"), T("adm_targets"), T("reminders_tab"), T("audit")]
)
with tab_users:
    message = st.session_state.pop("_adm_message", None)
    if message:
        st.success(message)
    accounts = auth.list_users(data.con())
    now = dt.datetime.now()
    st.dataframe(
        [
            {T("user_name"): a.user_name, T("adm_display_name"): a.display_name, T("role"): T(f"role_{a.role}"),
             T("f_bureau"): bureau_names.get(a.bureau_id, a.bureau_id) if a.bureau_id else "",
             T("adm_state"): state(a, now),
             T("adm_locked_until"): f"{a.locked_until:%Y-%m-%d %H:%M}" if a.locked(now) else "",
             T("adm_failed_count"): a.failed_count}
            for a in accounts
        ],
        hide_index=True,
        width="stretch",
    )  # fmt: skip
    with st.form("adm_add_user", clear_on_submit=False):
        c1, c2, c3 = st.columns(3)
        name = c1.text_input(T("user_name"), key="adm_add_name")
        role = c2.selectbox(T("role"), list(auth.ROLES), format_func=lambda r: T(f"role_{r}"), key="adm_add_role")
        bureau = c3.selectbox(
            T("f_bureau"), [""] + [b.id for b in cfg.bureaus], format_func=lambda b: bureau_names[b] if b else "—",
            key="adm_add_bureau",
        )  # fmt: skip
        password = st.text_input(T("password"), type="password", key="adm_add_password")
        add = st.form_submit_button(T("adm_add"))
    if add:
        try:
            added = auth.add_user(data.con(), name, password, role, bureau_id=bureau or None, by=user.user_name)
        except auth.AuthError as exc:
            refused(exc)
        else:
            role_name = T(f"role_{added.role}")
            who = (
                T("aud_who", role=role_name, bureau=bureau_names.get(added.bureau_id, added.bureau_id))
                if added.bureau_id
                else role_name
            )
            done(fmt.plain(T("adm_added_user", user=added.user_name, who=who)), ADD_KEYS)
    with st.form("adm_change_user"):
        target = st.selectbox(T("user_name"), [a.user_name for a in accounts], key="adm_change_target")
        new_password = st.text_input(T("adm_new_password"), type="password", key="adm_new_password")
        c1, c2, c3 = st.columns(3)
        disable = c1.form_submit_button(T("adm_disable"))
        enable = c2.form_submit_button(T("adm_enable"))
        reset = c3.form_submit_button(T("adm_reset"))
    if (disable or enable or reset) and target:
        shown = fmt.plain(target)
        try:
            if disable and target == user.user_name:
                st.error(T("adm_not_self"))
            elif disable or enable:
                auth.set_active(data.con(), target, bool(enable), by=user.user_name)
                done(T("adm_enabled_user" if enable else "adm_disabled_user", user=shown), ())
            else:
                auth.reset_password(data.con(), target, new_password, by=user.user_name)
                if target == user.user_name:  # one's own new password: this session goes on
                    fresh = auth.get_user(data.con(), target)
                    if fresh is not None:
                        session.start(fresh)
                done(T("adm_reset_user", user=shown), CHANGE_KEYS)
        except auth.AuthError as exc:
            refused(exc)
    review_views.approval_settings(user)  # 审核 on or off per bureau (monitor.review)

with tab_targets:
    st.write(T("adm_targets_help", kpis=len(cfg.kpis), targets=len(cfg.targets)))
    if st.button(T("adm_reload"), key="adm_reload"):
        try:
            changed = data.reload_targets(user.user_name)
        except (TargetsError, UnicodeDecodeError) as exc:  # an invalid file (or not UTF-8): nothing changed
            st.error(str(exc))
        else:
            st.success(T("adm_reloaded") if changed else T("adm_unchanged"))

with tab_reminders:
    reminder_views.admin_section(user)

with tab_audit:
    st.caption(T("adm_audit_note"))
    # keyed by the newest event: fresh after every sign-in and account change; 详情 as sentences
    st.dataframe(data.audit_entries(lang), hide_index=True, width="stretch")
