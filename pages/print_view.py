"""打印版 Print view: the overview on one A4 landscape page for the monthly meeting: status counts with
their changes since last month, and the targets needing attention with reason, lead bureau and open
actions. Plain HTML (dashboard/templates/print_view.html.j2), so the browser prints every column."""

from __future__ import annotations

import streamlit as st

from dashboard import change_views, data, session, ui

session.require("print")
as_of = ui.require_data()
st.html(change_views.print_html(as_of, data.scorecard(as_of), data.changes(as_of)))
