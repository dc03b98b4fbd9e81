"""A bureau's open items, shown first to its accounts on the page they land on: the current reporting
month's report still missing ("2026年10月月报未报送，截止11月10日"), and nothing when all is in.

Each source of open items is one function of the signed-in user returning lines of text; `show` draws
them in one box. The approval work of issue 14 adds its own source (e.g. "2项待审核") to SOURCES.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from dashboard import action_views, data, review_views, ui
from monitor import i18n, reminders
from monitor.auth import User


def reports_due(user: User, lang: i18n.Lang) -> list[str]:
    """The bureau's report for the current reporting month, if KPIs are still missing: for every account
    of the bureau (reporter or approver); leaders and administrators belong to no bureau."""
    if not user.bureau_id:
        return []
    return [
        reminders.open_item(item, lang)
        for item in data.open_reports()
        if item.bureau_id == user.bureau_id and item.needs_reminder
    ]


# 审核 (dashboard.review_views): an approver's "2项待审核", a reporter's "1项被退回"
# 督办 (dashboard.action_views): a bureau's "2项督办事项待办（1项逾期）", a leader's requests to close
SOURCES: tuple[Callable[[User, i18n.Lang], list[str]], ...] = (
    reports_due,
    review_views.pending_items,
    review_views.returned_items,
    action_views.open_items,
)


def lines(user: User, lang: i18n.Lang) -> list[str]:
    """Every open item of the user's bureau, in the order of SOURCES."""
    return [line for source in SOURCES for line in source(user, lang)]


def show(user: User) -> None:
    """One warning box with a line per open item; nothing at all when there is none. The lines are the
    catalogue's words with months, days and counts only, so they are safe as Markdown."""
    found = lines(user, ui.lang())
    if found:
        st.warning("\n\n".join(found), icon=":material/assignment_late:")
    action_views.my_actions(user)  # the bureau's actions waiting for it, listed under the box
