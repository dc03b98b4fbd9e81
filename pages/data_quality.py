"""数据质量 Data quality: missing and late reports, outlier warnings, rejected rows, the audit log."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from monitor import session, ui, ui_data
from monitor.ui import T

session.require("quality")
as_of = ui.require_data()
lang = ui.lang()
v = ui_data.version()
names = ui_data.reference(v, "bureaus").set_index("bureau_id")[f"name_{lang}"]
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
with tabs[0]:
    if missing.empty:
        st.write(T("nothing"))
    else:
        st.dataframe(
            pd.DataFrame(
                {T("f_bureau"): missing["bureau_id"].map(names), T("month"): [ui.month(p) for p in missing["period"]]}
            ),
            hide_index=True,
            width="stretch",
        )
with tabs[1]:
    if late.empty:
        st.write(T("nothing"))
    else:
        st.dataframe(
            pd.DataFrame(
                {
                    T("f_bureau"): late["bureau_id"].map(names),
                    T("month"): [ui.month(p) for p in late["period"]],
                    "due": late["due_date"],
                    "submitted_at": late["first_submitted_at"],
                }
            ),
            hide_index=True,
            width="stretch",
        )
with tabs[2]:
    st.dataframe(
        warnings.drop(columns=["message_en" if lang == "zh" else "message_zh"]), hide_index=True, width="stretch"
    )
with tabs[3]:
    st.dataframe(
        rejected.drop(columns=["reason_en" if lang == "zh" else "reason_zh"]), hide_index=True, width="stretch"
    )
with tabs[4]:
    st.dataframe(ui_data.audit_log(v), hide_index=True, width="stretch")
