"""Leadership sees approved figures; a leader (or admin) may include those pending review, labelled.

`sidebar` draws the choice and the count under it ("另有3项数据待审核，未计入"); `banner` puts a warning at the
top of every page while pending figures are in. The choice lives in st.session_state["include_pending"],
which dashboard.data.con() reads: every cached query is keyed by it, so nothing mixes the two views.
"""

from __future__ import annotations

import streamlit as st

from dashboard import data
from dashboard.ui import T
from monitor.auth import User

KEY = "include_pending"
CHOOSERS = ("leader", "admin")  # the roles that may include pending figures


def sidebar(user: User) -> None:
    """The toggle and the count for leaders and admins; everyone else always sees approved figures."""
    if user.role not in CHOOSERS:
        st.session_state[KEY] = False  # a reporter or approver reads what leadership reads by default
        return
    st.toggle(T("pending_toggle"), key=KEY)
    waiting = data.pending_figures()
    if waiting:
        st.caption(T("pending_included" if data.including_pending() else "pending_excluded", n=waiting))


def banner() -> None:
    """A labelled warning at the top of the page while pending figures are counted (none when none wait)."""
    if data.including_pending():
        waiting = data.pending_figures()
        if waiting:
            st.warning(T("pending_banner", n=waiting), icon=":material/pending_actions:")
