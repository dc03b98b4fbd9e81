"""The frame: page config, sign-in, language, the as-of month and navigation. Pages do the drawing."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import streamlit as st

from dashboard import data, open_items, page_table, pending, session, ui
from monitor import fmt
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


def as_of_select(months: list[dt.date]) -> dt.date:
    """The as-of month: by default the newest month whose reports are due (data.default_month); a
    later month with figures can be chosen, labelled 未截止 with the share of bureaus that have reported
    for it, and a caption under the select says what that means. The choice survives the language
    toggle (ui.kept_selectbox keeps the date, not its label)."""
    due = data.due_month()
    shares = data.month_shares()

    def label(month: dt.date) -> str:
        if month <= due or month not in shares.index:
            return ui.month(month)
        return t("month_incomplete", ui.lang(), month=ui.month(month), share=fmt.percent(shares.at[month, "share"]))

    default = data.default_month()
    chosen = ui.kept_selectbox(
        t("as_of", lang), months, "as_of_choice", index=months.index(default) if default in months else 0,
        format_func=label,
    )  # fmt: skip
    if chosen > due and chosen in shares.index:
        closed = default if default is not None and default <= due else due
        st.caption(incomplete_note(chosen, shares.loc[chosen], closed))
    return chosen


def incomplete_note(month: dt.date, counts: pd.Series, closed: dt.date) -> str:
    """Why a month not yet due reads incomplete: its due day, how many bureaus have reported."""
    due_on = dt.date(month.year + month.month // 12, month.month % 12 + 1, data.config().reporting.due_day)
    return t(
        "month_incomplete_note", lang, month=ui.month(month), closed=ui.month(closed),
        due=fmt.date_zh(due_on) if lang == "zh" else f"{due_on.day} {due_on:%b %Y}",
        received=int(counts["received"]), expected=int(counts["expected"]), share=fmt.percent(counts["share"]),
    )  # fmt: skip


months = data.months()
with st.sidebar:
    st.caption(f"{plain(user.display_name)} · {t('role_' + user.role, lang)}")  # a name as typed: text only
    if st.button(t("sign_out", lang), key="sign_out"):
        session.sign_out()
        st.rerun()
    pending.sidebar(user)  # approved figures, or pending ones too (leaders, admins): labelled
    if months:
        st.session_state["as_of"] = as_of_select(months)
    else:
        st.session_state["as_of"] = None

if months and data.holds_demo_data():
    st.warning(t("demo_banner", lang), icon=":material/science:")
pending.banner()

# every page the role may open, grouped as the page table says (a group without a page is left out)
nav: dict[str, list] = {}  # group title -> its st.Page entries
for page in page_table.allowed(user.role):
    nav.setdefault(t(page.group, lang), []).append(
        st.Page(page.file, title=t(page.title_key, lang), icon=page.icon, url_path=page.key,
                default=page.key == page_table.DEFAULT)
    )  # fmt: skip
current_page = st.navigation(nav)
if current_page.url_path == "":  # the landing page (page_table.DEFAULT): a bureau's open items come first
    open_items.show(user)
current_page.run()
