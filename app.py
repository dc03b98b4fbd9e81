"""The frame: page config, sign-in, language, the as-of month and navigation. Pages do the drawing."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import streamlit as st

from dashboard import data, links, open_items, page_table, pending, session, ui
from monitor import fmt
from monitor.fmt import plain
from monitor.i18n import t

st.set_page_config(
    page_title="暖城新市民0477监测", page_icon=str(Path(__file__).with_name("assets") / "favicon.png"), layout="wide"
)

data.new_run()  # the data version is read once per run (dashboard/data.py)
ui.stylesheet()  # dashboard/style.css on every page: the overview's tiles and phone list, browser print
with st.sidebar:
    links.language()  # ?lang=zh|en
lang = ui.lang()
user = session.current_user()  # from this connection's sign-in, or restored from the session cookie
with st.sidebar:
    session.sync_cookie()

if user is None:
    # Every page is declared (hidden), so a shared link such as /detail?target=… is a known page and
    # Streamlit shows no "Page not found": the link is remembered and the sign-in page shown; after
    # sign-in, links.resume opens it with its parameters.
    page = page_table.SIGN_IN
    sign_in = st.Page(page.file, title=t(page.title_key, lang), icon=page.icon, url_path=page.key, default=True)
    hidden = [
        st.Page(p.file, title=t(p.title_key, lang), icon=p.icon, url_path=p.key, visibility="hidden")
        for p in page_table.PAGES
    ]
    requested = st.navigation([sign_in, *hidden], position="hidden")
    signed_out_now = st.session_state.pop("_signed_out", False)  # the page one left is no request
    if requested is not sign_in:
        if not signed_out_now:
            links.remember_request(requested.url_path)
        st.switch_page(sign_in, query_params=links.requested_language())
    if set(st.query_params) - {links.LANG_PARAM}:  # /?status=… : the landing page, filtered
        links.remember_request(page_table.DEFAULT)
    sign_in.run()
    st.stop()


def as_of_select(months: list[dt.date]) -> dt.date:
    """The as-of month: by default the newest month whose reports are due (data.default_month); a
    later month with figures can be chosen, labelled 未截止 with the share of bureaus that have reported
    for it, and a caption under the select says what that means. The choice survives the language
    toggle (ui.kept_selectbox keeps the date, not its label) and is the URL's ?month=YYYY-MM."""
    due = data.due_month()
    shares = data.month_shares()

    def label(month: dt.date) -> str:
        if month <= due or month not in shares.index:
            return ui.month(month)
        return t("month_incomplete", ui.lang(), month=ui.month(month), share=fmt.percent(shares.at[month, "share"]))

    default = data.default_month()
    chosen = links.selectbox(
        t("as_of", lang), months, "as_of_choice", "month", index=months.index(default) if default in months else 0,
        format_func=label, to_text=lambda month: f"{month:%Y-%m}",  # the link's ?month=2026-10
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
        st.session_state["_signed_out"] = True
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
links.preload(current_page.url_path or page_table.DEFAULT)  # a link's filters, before the page counts them
if current_page.url_path == "":  # the landing page (page_table.DEFAULT): a bureau's open items come first
    open_items.show(user)
current_page.run()
