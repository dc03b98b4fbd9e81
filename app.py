"""The frame: page config, sign-in, language, the as-of month and navigation. Pages do the drawing."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from dashboard import data, page_table, session, ui
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
    page = page_table.SIGN_IN
    st.navigation([st.Page(page.file, title=t(page.title_key, lang), icon=page.icon, url_path=page.key)]).run()
    st.stop()

months = data.months()
with st.sidebar:
    st.caption(f"{plain(user.display_name)} · {t('role_' + user.role, lang)}")  # a name as typed: text only
    if st.button(t("sign_out", lang), key="sign_out"):
        session.sign_out()
        st.rerun()
    if months:
        st.session_state["as_of"] = ui.month_select(t("as_of", lang), months, key="as_of_choice")
    else:
        st.session_state["as_of"] = None

if months and data.holds_demo_data():
    st.warning(t("demo_banner", lang), icon=":material/science:")

# every page the role may open, grouped as the page table says (a group without a page is left out)
nav: dict[str, list] = {}  # group title -> its st.Page entries
for page in page_table.allowed(user.role):
    nav.setdefault(t(page.group, lang), []).append(
        st.Page(page.file, title=t(page.title_key, lang), icon=page.icon, url_path=page.key,
                default=page.key == page_table.DEFAULT)
    )  # fmt: skip
st.navigation(nav).run()
