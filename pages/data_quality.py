"""数据质量 Data quality: missing and late reports, outlier warnings, rejected rows, the audit log."""

from __future__ import annotations

import streamlit as st

from monitor import session, ui, ui_data
from monitor.ui import T

session.require("quality")
as_of = ui.require_data()
lang = ui.lang()
v = ui_data.version()
rates = ui_data.reporting_status(v, as_of)

st.title(T("nav_quality"))
missing = rates[~rates["received"]]
late = rates[rates["received"] & ~rates["on_time"]]
warnings = ui_data.load_warnings(v)
rejected = ui_data.rejected_rows(v)
c1, c2, c3, c4 = st.columns(4)
c1.metric(T("missing_reports"), len(missing))
c2.metric(T("late_list"), len(late))
c3.metric(T("outliers"), len(warnings))
c4.metric(T("rejected"), len(rejected))

tabs = st.tabs([T("missing_reports"), T("late_list"), T("outliers"), T("rejected"), T("audit")])
shown = (
    missing[["bureau_id", "period"]],
    late[["bureau_id", "period", "due_date", "first_submitted_at"]],
    warnings,
    rejected,
    ui_data.audit_log(v),
)
for tab, frame in zip(tabs, shown, strict=True):
    with tab:
        if frame.empty:
            st.write(T("nothing"))
        else:
            st.dataframe(ui_data.records(frame, lang), hide_index=True, width="stretch")
