"""数据质量 Data quality: first who is behind with the current reporting month (催报 list,
dashboard.reminder_views), then missing and late reports, outlier warnings, rejected rows, and a history
tab that depends on the role (checked here, on the server, on every run):

* admin: the full audit log (also on the admin page: both are where an administrator reviews data);
* reporter and approver: the own bureau's submissions only, never the audit log (it holds failed sign-ins, whose
  typed names may be passwords, and other bureaus' activity);
* leader: no history tab.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import data, reminder_views, session, ui
from dashboard.ui import T
from monitor import reminders
from monitor.auth import BUREAU_ROLES

user = session.require("quality")
as_of = ui.require_data()
lang = ui.lang()
rates = data.reporting_status(as_of)

st.title(T("nav_quality"))
reminder_views.overdue_section()  # the current reporting month first, whatever the as-of month
missing = reminders.missing_rows(rates)
late = reminders.late_rows(rates)
warnings = data.load_warnings()
# a reporter or approver sees only its own bureau's rejected rows: values typed into other bureaus' files are theirs
rejected = data.rejected_rows(user.bureau_id if user.role in BUREAU_ROLES else None)
c1, c2, c3, c4 = st.columns(4)
c1.metric(T("missing_reports"), len(missing))
c2.metric(T("late_list"), len(late))
c3.metric(T("outliers"), len(warnings))
c4.metric(T("rejected"), len(rejected))

shown: dict[str, pd.DataFrame] = {
    T("missing_reports"): missing[["bureau_id", "period"]],
    T("late_list"): late[["bureau_id", "period", "due_date", "first_submitted_at"]],
    T("outliers"): warnings,
    T("rejected"): rejected,
}
shown = {title: data.records(frame, lang) for title, frame in shown.items()}
if user.role == "admin":
    shown[T("audit")] = data.audit_entries(lang)  # 详情 as sentences (monitor.audit_text), not JSON
elif user.role in BUREAU_ROLES and user.bureau_id:
    shown[T("dq_own_history")] = data.records(data.submissions(user.bureau_id).drop(columns="bureau_id"), lang)
for tab, frame in zip(st.tabs(list(shown)), shown.values(), strict=True):
    with tab:
        if frame.empty:
            st.write(T("nothing"))
        else:
            st.dataframe(frame, hide_index=True, width="stretch")
