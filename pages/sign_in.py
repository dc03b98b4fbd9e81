"""登录 Sign-in. In demo mode the demo accounts are listed (never in production).

Every refusal shows the same message in the user's language (auth.AuthError.text): the form never
says whether a name exists, is disabled or locked. The audit log and the admin page know.

A link opened signed out (/detail?target=…) shows this page; after sign-in it opens (links.resume)."""

from __future__ import annotations

import streamlit as st

from dashboard import data, links, session, ui
from dashboard.ui import T
from monitor import auth

st.title(T("app_title"))
st.caption(T("app_subtitle"))
if st.session_state.pop("session_expired", False):
    st.warning(T("session_expired"))
if st.session_state.pop("session_ended", False):
    st.warning(T("session_ended"))

with st.form("sign_in", clear_on_submit=False):
    user_name = st.text_input(T("user_name"), key="sign_in_user")
    password = st.text_input(T("password"), type="password", key="sign_in_password")
    submitted = st.form_submit_button(T("sign_in"), type="primary")
if submitted:
    try:
        user = auth.sign_in(data.con(), user_name, password)  # the name is normalised as stored
    except auth.AuthError as exc:
        st.error(exc.text(ui.lang()))  # a catalogue text: nothing the user typed
    else:
        session.start(user)
        links.resume(user.role)  # the page a shared link asked for, with its parameters, or the landing page

if session.sso_configured():
    st.button(T("sso_sign_in"), on_click=st.login, key="sso_sign_in")

if data.is_demo():
    from etl.demo import demo_accounts

    with st.expander(T("demo_accounts"), expanded=False):
        st.caption(T("demo_accounts_note"))
        bureaus = data.reference("bureaus").set_index("bureau_id")[f"name_{ui.lang()}"]
        st.dataframe(
            [
                {T("user_name"): u, T("password"): p, T("role"): T(f"role_{r}"), T("f_bureau"): bureaus.get(b, "")}
                for u, p, r, b in demo_accounts(data.config())
            ],
            hide_index=True,
        )
