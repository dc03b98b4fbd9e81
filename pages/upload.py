"""数据上报 Reporting: template, upload with preview and review, corrections with a reason, history."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from dashboard import data, entry_form, explanation_form, review_views, session, ui
from dashboard.ui import T
from etl.archive import safe_name
from etl.correct import CorrectionRefused, checked_value, exact_figure
from etl.load import MAX_STORED_PROBLEMS
from monitor import export_safe, fmt, i18n, review, tables

user = session.require("upload")
lang = ui.lang()
cfg = data.config()
names = {b.id: i18n.name(b, lang) for b in cfg.bureaus}
reporters = sorted({k.lead for k in cfg.kpis})

st.title(T("nav_upload"))
if user.role == "admin":
    bureau = ui.kept_selectbox(T("f_bureau"), reporters, "up_bureau", format_func=lambda b: names[b])
else:
    bureau = user.bureau_id or ""
    st.caption(T("labelled", label=T("f_bureau"), value=names.get(bureau, bureau)))

# a month can be reported from the 1st of the following month on: the newest month offered is last month
last_month = (dt.date.today().replace(day=1) - dt.timedelta(days=1)).replace(day=1)
periods = [p.date() for p in pd.date_range(cfg.policy.start, last_month, freq="MS")][::-1]
review_views.reporter_section(bureau)  # 审核: returned submissions with the approver's comment, pending ones

# Tabs are told apart by a stable id, not by their label: the labels follow the language, and a tab
# whose label changed is a new tab to Streamlit (the language toggle went back to the first one).
TABS = {"entry": "entry_tab", "template": "up_template", "upload": "up_upload", "fix": "up_correct",
        "history": "up_history", "explain": "expl_tab"}  # fmt: skip
chosen = st.session_state.get("up_tab", "entry")
tab_labels = {tab_id: T(key) for tab_id, key in TABS.items()}
tabs_key = f"up_tabs_{lang}"
# The widget of this language starts on the tab chosen in the other one (its own state, a label, is
# dropped by Streamlit while the other language's widget is drawn). Not through `default`: a default
# that changes between reruns made the widget a new one each time and undid the user's click.
if st.session_state.get(tabs_key) not in tab_labels.values():
    st.session_state[tabs_key] = tab_labels.get(chosen, tab_labels["entry"])
tabs = st.tabs(list(tab_labels.values()), key=tabs_key, on_change="rerun")
st.session_state["up_tab"] = next((tab_id for tab_id, tab in zip(TABS, tabs, strict=True) if tab.open), chosen)
tab_entry, tab_template, tab_upload, tab_fix, tab_history, tab_explain = tabs

with tab_entry:  # 在线填报: the month as an editable grid (dashboard/entry_form.py)
    entry_form.render(bureau, user, periods)

with tab_template:
    # default: last month, the one being reported now (due by the 10th)
    period = ui.month_select(T("month"), periods, key="up_template_period")
    template, n = data.template(bureau, period)
    st.download_button(
        T("up_download_template", n=n),
        template,
        file_name=f"{bureau}_{period:%Y-%m}.xlsx",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        key="up_template_download",
    )

with tab_upload:
    st.caption(T("up_rules_office", mb=cfg.reporting.max_upload_mb))
    st.caption(T("up_drop_help_office", mb=cfg.reporting.max_upload_mb))  # Streamlit's own words stay English
    # issue 18: xls, WPS's .et and ods are read too (by content, whatever the extension says)
    upload = st.file_uploader(T("up_choose"), type=["xlsx", "xls", "et", "xlsb", "ods", "csv"], key="up_file")
    if upload is not None:
        file_bytes = upload.getvalue()
        with st.spinner(T("up_checking")):
            preview = data.check_upload(upload.name, file_bytes, bureau)
        if preview.problems:
            # a bad file is recorded as a rejected submission (audit), the data is untouched
            result = data.submit(upload.name, file_bytes, bureau, user, key=f"rej:{preview.sha256}")
            # the same first problems as stored with the rejected submission, and the true total
            shown = result.problems[:MAX_STORED_PROBLEMS]
            total = max(result.problems_total, len(result.problems))
            if total > len(shown):
                st.error(T("up_rejected_many", n=total, shown=len(shown)))
            else:
                st.error(T("up_rejected", n=total))
            problems = pd.DataFrame(
                {
                    # a problem of a whole column, sheet or file has no column or value: blank, not "None"
                    T("up_row"): pd.array([p.row for p in shown], dtype="Int64"),
                    T("up_column"): [p.column or "" for p in shown],
                    T("value"): ["" if p.value is None else p.value for p in shown],
                    T("up_reason"): [i18n.name(p, lang, "reason") for p in shown],
                }
            )
            st.dataframe(problems, hide_index=True, width="stretch", key="up_problems")
            st.download_button(
                T("up_download_problems"),
                export_safe.safe_csv(problems),  # a value typed as =HYPERLINK(…) stays text in Excel
                file_name=f"rejected_{safe_name(upload.name)}.csv",
                mime="text/csv",
                key="up_problems_download",
            )
        elif preview.outcome == "duplicate":  # the same file again, and nothing changed since: no button
            st.info(ui.summary(preview))
        else:
            st.success(ui.summary(preview))
            for w in preview.warnings:
                st.warning(ui.problem(w))
            # a re-upload that revises reported figures says which, and needs a reason like a correction
            changes = preview.changes if preview.changes is not None else pd.DataFrame()
            reason = ""
            if len(changes):
                st.warning(T("up_changes", n=len(changes)))
                shown_changes = tables.changes(changes, cfg.kpi_by_id, cfg.district_by_id, lang)
                st.dataframe(shown_changes, hide_index=True, width="stretch", key="up_changes")
                reason = st.text_area(T("up_change_reason"), key=f"up_change_reason_{preview.sha256[:16]}")
            typed = preview.typed_rows if preview.typed_rows is not None else pd.DataFrame()
            # the 备注 column only when a figure has one ("note" is the record tables' reason column)
            typed_shown = data.records(typed.drop(columns="note", errors="ignore"), lang)
            if "note" in typed and (typed["note"].fillna("") != "").any():
                typed_shown[T("col_note")] = typed["note"].fillna("").to_numpy()
            st.dataframe(typed_shown, hide_index=True, width="stretch")
            # the file's newest month may not be submitted while an explanation it requires is missing
            report_month = pd.Timestamp(typed["period"].max()).date() if len(typed) else None
            if st.button(T("up_commit"), type="primary", key="up_commit"):
                missing = explanation_form.missing_messages(bureau, report_month) if report_month else []
                if len(changes) and not reason.strip():
                    st.error(T("up_change_reason_required"))
                elif missing:
                    for message in missing:
                        st.error(message)
                else:
                    with st.spinner(T("up_loading")):
                        result = data.submit(
                            upload.name, file_bytes, bureau, user, key=f"ok:{preview.sha256}",
                            reason=reason.strip() or None,
                        )  # fmt: skip
                    if result.outcome == "accepted":
                        st.success(ui.summary(result))
                        if review.status_of(data.con(), result.submission_id) == review.PENDING:
                            st.info(T("entry_pending"))  # counted once the bureau's approver approves it
                    elif result.outcome == "duplicate":
                        st.info(ui.summary(result))
                    elif result.outcome == "needs_reason":  # figures changed since the preview
                        st.error(T("up_change_reason_required"))
                    else:
                        st.error(ui.summary(result))

with tab_fix:  # fields and figures: the one-row file behind a correction is etl.correct's business
    fix_message = st.session_state.pop("_up_fix_message", None)
    if fix_message:  # a correction went in: its form is drawn empty (its widgets are not drawn yet)
        st.session_state["up_fix_value"] = None
        st.session_state["up_fix_reason"] = ""
        st.success(fix_message)
        if st.session_state.pop("_up_fix_pending", False):
            st.info(T("entry_pending"))  # counted once the bureau's approver approves it
    kpis = [k.id for k in cfg.kpis_of_bureau(bureau)]
    # outside a form: the districts offered and the figures shown follow the KPI, unit and month
    kpi = ui.kept_selectbox(T("tc_kpi"), kpis, "up_fix_kpi", format_func=lambda i: i18n.name(cfg.kpi_by_id[i], lang))
    chosen_kpi = cfg.kpi_by_id[kpi]
    # city-only KPIs: 全市; summed KPIs: the districts; every-centre KPIs (aggregation all): both
    aggregation = chosen_kpi.aggregation
    units = [d.id for d in cfg.districts if aggregation == "all" or (d.id == "city") == (aggregation == "city")]
    district = ui.kept_selectbox(
        T("col_district"), units, "up_fix_district", format_func=lambda d: i18n.name(cfg.district_by_id[d], lang)
    )
    closed = data.due_month()  # the last closed month: the one most corrections are about
    period = ui.month_select(
        T("month"), periods, key="up_fix_period", index=periods.index(closed) if closed in periods else 0
    )
    history = data.figure_history(kpi, district, period)
    current = float(history["value"].iloc[-1]) if len(history) else None
    # a figure awaiting the bureau's approver is the one a correction is compared with, marked as such
    marks = [T("aud_pending") if status == review.PENDING else "" for status in history["review_status"]]
    if current is None:
        st.caption(T("fix_current_none"))
    else:
        held = exact_figure(current, chosen_kpi, lang) + marks[-1]
        st.markdown(f"**{fmt.plain(T('fix_current', value=held))}**")
        st.caption(T("fix_history"))
        st.dataframe(
            pd.DataFrame({
                T("fix_col_version"): history["revision"].astype(int),
                T("fix_col_value"): [
                    exact_figure(v, chosen_kpi, lang) + mark for v, mark in zip(history["value"], marks, strict=True)
                ],
                T("fix_col_when"): [f"{t:%Y-%m-%d %H:%M}" for t in history["submitted_at"]],
                T("fix_col_by"): history["user_name"],
                T("fix_col_reason"): history["reason"].fillna(""),
            }),
            hide_index=True, width="stretch", key="up_fix_history",
        )  # fmt: skip
    with st.form("up_fix_form", clear_on_submit=False):
        unit = chosen_kpi.unit_zh if lang == "zh" else chosen_kpi.unit_en
        value = st.number_input(
            T("value"), min_value=0.0, value=None, step=1.0 if chosen_kpi.value_type in ("count", "flag") else 0.01,
            format="%g", placeholder=T("labelled", label=T("unit"), value=unit), key="up_fix_value",
        )  # fmt: skip
        reason = st.text_area(T("up_fix_reason"), key="up_fix_reason")
        sent = st.form_submit_button(T("up_fix_submit"))
    if sent:
        refusals = []
        try:
            figure = checked_value(chosen_kpi, value)
        except CorrectionRefused as exc:
            refusals.append(exc.text(lang))
        if not reason.strip():
            refusals.append(T("up_fix_reason_required"))
        if refusals:
            for refusal in refusals:
                st.error(refusal)
        elif current is not None and figure == current:
            st.info(T("fix_same"))
        else:
            with st.spinner(T("up_loading")):
                result = data.correct(bureau, user, kpi, district, period, figure, reason.strip())
            if result.outcome == "accepted":
                where = {"kpi": i18n.name(chosen_kpi, lang), "district": i18n.name(cfg.district_by_id[district], lang),
                         "month": ui.month(period), "new": exact_figure(figure, chosen_kpi, lang)}  # fmt: skip
                said = (
                    T("fix_done_first", **where)
                    if current is None
                    else T("fix_done", old=exact_figure(current, chosen_kpi, lang), **where)
                )
                st.session_state["_up_fix_message"] = fmt.plain(said)
                pending = review.status_of(data.con(), result.submission_id) == review.PENDING
                st.session_state["_up_fix_pending"] = pending
                st.rerun()  # the figure and its history above show the correction
            elif result.outcome == "duplicate":
                st.info(T("fix_same"))
            else:  # the row's reason only: the file and cell it names are the form's fields
                for found in result.problems:
                    st.error(T("fix_refused", problem=fmt.plain(i18n.name(found, lang, "reason"))))

with tab_history:
    st.subheader(T("up_status"))
    rates = data.reporting_status(periods[0])
    mine = rates[rates["bureau_id"] == bureau].iloc[::-1]
    shown = mine[["period", "received", "on_time", "due_date", "first_submitted_at"]]
    st.dataframe(data.records(shown, lang), hide_index=True, width="stretch")
    st.subheader(T("up_history"))
    st.dataframe(
        data.records(data.submissions(bureau).drop(columns="bureau_id"), lang),
        hide_index=True,
        width="stretch",
    )

with tab_explain:
    explanation_form.render(user, bureau, periods)
