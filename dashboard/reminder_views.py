"""催报 on the pages: the list of the current reporting month's missing and late reports (data quality,
bureaus) and the administrator's notice and push (admin page). The words and the push are
monitor.reminders'; this module draws them and reads the webhook URL from st.secrets.

Notices are shown with st.code (plain text with a copy button, never Markdown); a push message may
quote what the endpoint answered, so it is shown through fmt.plain.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
import streamlit as st
from streamlit.errors import StreamlitSecretNotFoundError

from dashboard import data, ui
from dashboard.ui import T
from monitor import fmt, reminders
from monitor.auth import User

ALL = "__all__"  # the picker's entry for one notice naming every bureau behind


def webhook_url() -> str | None:
    """[reminders] webhook_url of .streamlit/secrets.toml, or None: nothing is pushed unless configured."""
    try:
        section = st.secrets.get("reminders")
    except StreamlitSecretNotFoundError:  # no secrets.toml at all
        return None
    url = section.get("webhook_url") if isinstance(section, Mapping) else None
    return str(url).strip() or None if url else None


def table(items: list[reminders.OpenReport]) -> pd.DataFrame:
    """One row per bureau behind: bureau, month, due date, state, first received, KPIs not reported."""
    lang = ui.lang()
    return pd.DataFrame(
        {
            T("f_bureau"): [item.name(lang) for item in items],
            T("reminder_col_month"): [fmt.month(item.period, lang) for item in items],
            T("reminder_col_due"): [reminders.full_date(item.due_date, lang) for item in items],
            T("reminder_col_state"): [reminders.state(item, lang) for item in items],
            T("reminder_col_submitted"): [
                reminders.full_date(item.first_submitted_at.date(), lang) if item.first_submitted_at else ""
                for item in items
            ],
            T("reminder_col_kpis"): [reminders.kpi_list(item, lang) for item in items],
        }
    )


def overdue_section() -> None:
    """The top of the data-quality and bureaus pages: who is behind with the current reporting month
    (whatever as-of month the sidebar shows: this is the month bureaus are held to today)."""
    lang = ui.lang()
    month = data.due_month()
    due = reminders.due_date(month, data.config())
    st.subheader(T("reminders_title", month=fmt.month(month, lang), due=reminders.day(due, lang)))
    items = data.open_reports()
    if not items:
        st.success(T("reminders_none", month=fmt.month(month, lang)))
        return
    st.dataframe(table(items), hide_index=True, width="stretch", key="reminders_table")


def admin_section(user: User) -> None:
    """Pick one bureau behind or all of them, read the notice, push it when a webhook is configured.
    Administrators only: the admin page checks the role before drawing this, and this checks it again."""
    if user.role != "admin":
        st.error(T("reminder_not_allowed"))
        return
    lang = ui.lang()
    behind = [item for item in data.open_reports() if item.needs_reminder]
    if not behind:
        st.success(T("reminder_nobody"))
        return
    by_id = {item.bureau_id: item for item in behind}
    choice = st.selectbox(
        T("reminder_pick"), [ALL, *by_id], key="rem_pick",
        format_func=lambda b: T("reminder_all", n=len(behind)) if b == ALL else by_id[b].name(ui.lang()),
    )  # fmt: skip
    chosen = behind if choice == ALL else [by_id[choice]]
    text = reminders.notice_all(chosen, lang) if choice == ALL else reminders.notice(chosen[0], lang)
    st.caption(T("reminder_notice_label"))
    st.code(text, language=None, wrap_lines=True)
    url = webhook_url()
    if url is None:
        st.caption(T("reminder_no_webhook"))
        return
    st.caption(fmt.plain(T("reminder_push_target", host=reminders.host(url))))
    if st.button(T("reminder_push"), key="rem_push"):
        result = reminders.send(
            data.con(), user, url, text, [item.bureau_id for item in chosen], chosen[0].period
        )  # one attempt per click: no retry
        # the catalogue's words with numbers only (status, error code, seconds): nothing typed or received
        (st.success if result.ok else st.error)(result.text(lang))
