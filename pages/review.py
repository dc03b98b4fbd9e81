"""数据审核 Review: a bureau's approver approves or returns its reporters' pending submissions.

UI only: monitor.review checks every rule on the server (only an approver of the bureau, never their
own submission, a comment to return) and audits each step. Admins see any bureau's queue read-only.
A decision runs, then the page is drawn again (st.rerun) with the message kept in session state, so the
queue shows the state after it.
"""

from __future__ import annotations

import streamlit as st

from dashboard import data, review_views, session, ui, workflow
from dashboard.ui import T
from monitor import fmt, i18n, review

user = session.require("review")
lang = ui.lang()
cfg = data.config()
names = {b.id: i18n.name(b, lang) for b in cfg.bureaus}
MESSAGE = "_rv_message"

st.title(T("nav_review"))
if user.role == "admin":
    st.caption(T("rv_admin_note"))
    bureaus = sorted({k.lead for k in cfg.kpis})
    bureau = ui.kept_selectbox(T("f_bureau"), bureaus, "rv_bureau", format_func=lambda b: names.get(b, b))
else:
    bureau = user.bureau_id or ""
    st.caption(T("labelled", label=T("f_bureau"), value=names.get(bureau, bureau)))
    st.caption(T("rv_intro"))

message = st.session_state.pop(MESSAGE, None)
if message:
    st.success(message)

queue = workflow.review_queue(bureau, review.PENDING)
st.subheader(T("rv_pending_title", n=len(queue)))
if queue.empty:
    st.info(T("rv_none_pending"))
for _, row in queue.iterrows():
    sid = int(row["submission_id"])
    with st.container(border=True):
        st.markdown(f"**{review_views.submission_line(row)}**")
        if isinstance(row["reason"], str) and row["reason"]:  # a revision's reason as typed
            st.caption(fmt.plain(T("rv_reason", reason=row["reason"])))
        st.dataframe(
            review_views.figures_table(workflow.review_figures(sid)),
            hide_index=True,
            width="stretch",
            key=f"rv_fig_{sid}",
        )
        if user.role != "approver":
            continue  # admins look; review.approve would refuse them anyway
        comment = st.text_area(T("rv_comment"), max_chars=review.MAX_COMMENT, key=f"rv_comment_{sid}")
        left, right = st.columns(2)
        approve = left.button(T("rv_approve"), type="primary", key=f"rv_approve_{sid}")
        send_back = right.button(T("rv_return"), key=f"rv_return_{sid}")
        if approve or send_back:
            try:
                if approve:
                    workflow.approve(user, sid)
                else:
                    workflow.return_submission(user, sid, comment)
            except review.ReviewError as exc:
                st.error(fmt.plain(exc.text(lang)))
            else:
                st.session_state[MESSAGE] = T("rv_approved_done" if approve else "rv_returned_done", sid=sid)
                st.rerun()

returned = workflow.review_queue(bureau, review.RETURNED)
st.subheader(T("rv_returned_title"))
if returned.empty:
    st.write(T("nothing"))
else:
    st.dataframe(review_views.returned_table(returned), hide_index=True, width="stretch", key="rv_returned")
