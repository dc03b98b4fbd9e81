"""The frame: page config, sign-in, language, the as-of month and navigation. Pages do the drawing."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from monitor import session, ui, ui_data
from monitor.fmt import plain
from monitor.i18n import t

st.set_page_config(
    page_title="暖城新市民0477监测", page_icon=str(Path(__file__).with_name("assets") / "favicon.png"), layout="wide"
)

with st.sidebar:
    choice = st.segmented_control("语言 / Language", ["中文", "English"], default="中文", key="lang_choice")
    st.session_state["lang"] = "en" if choice == "English" else "zh"
lang = ui.lang()
user = session.current_user()

if user is None:
    sign_in = st.Page("pages/sign_in.py", title=t("sign_in", lang), icon=":material/login:", url_path="sign_in")
    st.navigation([sign_in]).run()
    st.stop()

v = ui_data.version()
months = ui_data.months(v)
with st.sidebar:
    st.caption(f"{plain(user.display_name)} · {t('role_' + user.role, lang)}")  # a name as typed: text only
    if st.button(t("sign_out", lang), key="sign_out"):
        session.sign_out()
        st.rerun()
    if months:
        st.session_state["as_of"] = ui.month_select(t("as_of", lang), months, key="as_of_choice")
    else:
        st.session_state["as_of"] = None

if months and ui_data.holds_demo_data(v):
    st.warning(t("demo_banner", lang), icon=":material/science:")

PAGES = {
    "overview": ("pages/overview.py", "nav_overview", ":material/dashboard:"),
    "detail": ("pages/target_detail.py", "nav_detail", ":material/target:"),
    "districts": ("pages/districts.py", "nav_districts", ":material/map:"),
    "bureaus": ("pages/bureaus.py", "nav_bureaus", ":material/account_balance:"),
    "quality": ("pages/data_quality.py", "nav_quality", ":material/fact_check:"),
    "upload": ("pages/upload.py", "nav_upload", ":material/upload_file:"),
    "briefing": ("pages/briefing.py", "nav_briefing", ":material/slideshow:"),
    "admin": ("pages/admin.py", "nav_admin", ":material/settings:"),
}
allowed = session.PAGES_BY_ROLE[user.role]
monitor_pages = [
    st.Page(PAGES[p][0], title=t(PAGES[p][1], lang), icon=PAGES[p][2], url_path=p, default=p == "overview")
    for p in ("overview", "detail", "districts", "bureaus", "quality")
    if p in allowed
]
work_pages = [
    st.Page(PAGES[p][0], title=t(PAGES[p][1], lang), icon=PAGES[p][2], url_path=p)
    for p in ("upload", "briefing", "admin")
    if p in allowed
]
nav = {t("nav_group_monitor", lang): monitor_pages}
if work_pages:
    nav[t("nav_group_work", lang)] = work_pages
st.navigation(nav).run()
