"""系统管理 Administration: accounts, reloading targets.yaml, the audit log (read-only)."""

from __future__ import annotations

import streamlit as st

from monitor import auth, session, ui, ui_data
from monitor.ui import T

user = session.require("admin")
lang = ui.lang()
cfg = ui_data.config()
bureau_names = {b.id: (b.name_zh if lang == "zh" else b.name_en) for b in cfg.bureaus}
st.title(T("nav_admin"))

tab_users, tab_targets, tab_audit = st.tabs([T("adm_users"), T("adm_targets"), T("audit")])
with tab_users:
    st.dataframe(
        [
            {T("user_name"): u.user_name, T("role"): T(f"role_{u.role}"),
             T("f_bureau"): bureau_names.get(u.bureau_id, u.bureau_id) if u.bureau_id else "",
             T("adm_active"): "✔" if u.active else "✘"}
            for u in auth.list_users(ui_data.con())
        ],
        hide_index=True,
        width="stretch",
    )  # fmt: skip
    with st.form("adm_add_user", clear_on_submit=True):
        c1, c2, c3 = st.columns(3)
        name = c1.text_input(T("user_name"))
        role = c2.selectbox(T("role"), list(auth.ROLES), format_func=lambda r: T(f"role_{r}"))
        bureau = c3.selectbox(
            T("f_bureau"), [""] + [b.id for b in cfg.bureaus], format_func=lambda b: bureau_names[b] if b else "—"
        )
        password = st.text_input(T("password"), type="password")
        if st.form_submit_button(T("adm_add")):
            try:
                with ui_data.writing():
                    auth.add_user(
                        ui_data.con(), name.strip(), password, role, bureau_id=bureau or None, by=user.user_name
                    )
                st.success(T("adm_done"))
            except auth.AuthError as exc:
                st.error(str(exc))
    with st.form("adm_change_user"):
        names = [u.user_name for u in auth.list_users(ui_data.con())]
        target = st.selectbox(T("user_name"), names)
        new_password = st.text_input(T("adm_new_password"), type="password")
        c1, c2, c3 = st.columns(3)
        disable = c1.form_submit_button(T("adm_disable"))
        enable = c2.form_submit_button(T("adm_enable"))
        reset = c3.form_submit_button(T("adm_reset"))
    try:
        if disable or enable:
            if target == user.user_name:
                st.error(T("adm_not_self"))
            else:
                with ui_data.writing():
                    auth.set_active(ui_data.con(), target, bool(enable), by=user.user_name)
                st.success(T("adm_done"))
        if reset:
            with ui_data.writing():
                auth.reset_password(ui_data.con(), target, new_password, by=user.user_name)
            st.success(T("adm_done"))
    except auth.AuthError as exc:
        st.error(str(exc))

with tab_targets:
    st.write(T("adm_targets_help", kpis=len(cfg.kpis), targets=len(cfg.targets)))
    if st.button(T("adm_reload"), key="adm_reload"):
        try:
            changed = ui_data.reload_targets(user.user_name)
        except ValueError as exc:  # TargetsError: the file is invalid, nothing changed
            st.error(str(exc))
        else:
            st.success(T("adm_reloaded") if changed else T("adm_unchanged"))

with tab_audit:
    st.caption(T("adm_audit_note"))
    st.dataframe(ui_data.records(ui_data.audit_log(ui_data.version()), lang), hide_index=True, width="stretch")
