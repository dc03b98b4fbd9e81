"""数据上报 Reporting: template, upload with preview and review, corrections with a reason, history."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from monitor import i18n, session, ui, ui_data
from monitor.ui import T

user = session.require("upload")
lang = ui.lang()
v = ui_data.version()
cfg = ui_data.config()
names = {b.id: (b.name_zh if lang == "zh" else b.name_en) for b in cfg.bureaus}
reporters = sorted({k.lead for k in cfg.kpis})

st.title(T("nav_upload"))
if user.role == "admin":
    bureau = ui.kept_selectbox(T("f_bureau"), reporters, "up_bureau", format_func=lambda b: names[b])
else:
    bureau = user.bureau_id or ""
    st.caption(f"{T('f_bureau')}{'：' if lang == 'zh' else ': '}{names.get(bureau, bureau)}")

today = dt.date.today()
periods = [p.date() for p in pd.date_range(cfg.policy.start, today, freq="MS")][::-1]

tab_template, tab_upload, tab_fix, tab_history = st.tabs(
    [T("up_template"), T("up_upload"), T("up_correct"), T("up_history")]
)

with tab_template:
    # default: last month, the one being reported now (due by the 10th)
    period = ui.month_select(T("month"), periods, key="up_template_period", index=min(1, len(periods) - 1))
    template, n = ui_data.template(v, bureau, period)
    st.download_button(
        T("up_download_template", n=n),
        template,
        file_name=f"{bureau}_{period:%Y-%m}.xlsx",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        key="up_template_download",
    )

with tab_upload:
    st.caption(T("up_rules", mb=cfg.reporting.max_upload_mb))
    upload = st.file_uploader(T("up_choose"), type=["xlsx", "csv"], key="up_file")
    if upload is not None:
        data = upload.getvalue()
        with st.spinner(T("up_checking")):
            preview = ui_data.check_upload(ui_data.version(), upload.name, data, bureau)
        if preview.problems:
            # a bad file is recorded as a rejected submission (audit), the data is untouched
            result = ui_data.submit(upload.name, data, bureau, user.user_name, key=f"rej:{preview.sha256}")
            st.error(T("up_rejected", n=len(result.problems)))
            problems = pd.DataFrame(
                {
                    T("up_row"): [p.row for p in result.problems],
                    T("up_column"): [p.column for p in result.problems],
                    T("value"): [p.value for p in result.problems],
                    T("up_reason"): [p.reason_zh if lang == "zh" else p.reason_en for p in result.problems],
                }
            )
            st.dataframe(problems, hide_index=True, width="stretch", key="up_problems")
            st.download_button(
                T("up_download_problems"),
                problems.to_csv(index=False).encode("utf-8-sig"),
                file_name=f"rejected_{upload.name}.csv",
                mime="text/csv",
                key="up_problems_download",
            )
        elif preview.outcome == "duplicate":  # the same file again, and nothing changed since: no button
            st.info(preview.summary_zh() if lang == "zh" else preview.summary_en())
        else:
            st.success(preview.summary_zh() if lang == "zh" else preview.summary_en())
            for w in preview.warnings:
                st.warning(w.zh() if lang == "zh" else w.en())
            st.dataframe(
                ui_data.records(preview.typed_rows, lang),
                hide_index=True,
                width="stretch",
            )
            if st.button(T("up_commit"), type="primary", key="up_commit"):
                with st.spinner(T("up_loading")):
                    result = ui_data.submit(upload.name, data, bureau, user.user_name, key=f"ok:{preview.sha256}")
                if result.outcome == "accepted":
                    st.success(result.summary_zh() if lang == "zh" else result.summary_en())
                elif result.outcome == "duplicate":
                    st.info(result.summary_zh() if lang == "zh" else result.summary_en())
                else:
                    st.error(result.summary_zh() if lang == "zh" else result.summary_en())

with tab_fix:
    kpis = [k.id for k in cfg.kpis_of_bureau(bureau)]
    # the KPI sits outside the form: the districts offered depend on it (city-only KPIs: 全市)
    kpi = ui.kept_selectbox(T("tc_kpi"), kpis, "up_fix_kpi", format_func=lambda i: i18n.name(cfg.kpi_by_id[i], lang))
    city_only = cfg.kpi_by_id[kpi].aggregation == "city"
    units = [d.id for d in cfg.districts if (d.id == "city") == city_only]
    with st.form("up_fix_form"):
        district = ui.kept_selectbox(
            T("col_district"), units, "up_fix_district", format_func=lambda d: i18n.name(cfg.district_by_id[d], lang)
        )
        period = ui.month_select(T("month"), periods, key="up_fix_period")
        value = st.number_input(T("value"), min_value=0.0, step=1.0, key="up_fix_value")
        reason = st.text_area(T("up_fix_reason"), key="up_fix_reason")
        sent = st.form_submit_button(T("up_fix_submit"))
    if sent:
        if not reason.strip():
            st.error(T("up_fix_reason_required"))
        else:
            with st.spinner(T("up_loading")):
                result = ui_data.correct(bureau, user.user_name, kpi, district, period, value, reason.strip())
            if result.outcome == "accepted":
                st.success(result.summary_zh() if lang == "zh" else result.summary_en())
            else:
                st.error("\n".join(p.zh() if lang == "zh" else p.en() for p in result.problems))

with tab_history:
    st.subheader(T("up_status"))
    rates = ui_data.reporting_status(ui_data.version(), periods[0])
    mine = rates[rates["bureau_id"] == bureau].iloc[::-1]
    shown = mine[["period", "received", "on_time", "due_date", "first_submitted_at"]]
    st.dataframe(ui_data.records(shown, lang), hide_index=True, width="stretch")
    st.subheader(T("up_history"))
    st.dataframe(
        ui_data.records(ui_data.submissions(ui_data.version(), bureau).drop(columns="bureau_id"), lang),
        hide_index=True,
        width="stretch",
    )
