"""The upload page's 情况说明 tab, and the check that blocks a month's report while an explanation the
month requires is missing (monitor.explanations has every rule; this module only draws and asks).

Texts a user typed are shown as text: the prefilled text areas hold them as values, messages quote
target names through fmt.plain.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from dashboard import data, ui, workflow
from dashboard.ui import T
from monitor import fmt, i18n
from monitor.auth import User
from monitor.explanations import FIELDS, MAX_TEXT, REQUIRED_STATUSES, ExplanationError


def missing_messages(bureau_id: str, period: dt.date) -> list[str]:
    """One message per target of the bureau whose explanation for the month is required and missing
    (status as of the month on the figures in the warehouse now, before the report being submitted);
    [] when the month's report may be submitted."""
    lang = ui.lang()
    return [
        T(
            "expl_missing",
            month=ui.month(period),
            target=fmt.plain(getattr(found, f"name_{lang}")),
            status=i18n.status_label(found.status, lang),
        )
        for found in workflow.required_explanations(bureau_id, period)
    ]


def _prefill(latest: pd.DataFrame, target_id: str) -> dict[str, object]:
    """The newest explanation of the target up to the month ({} when it has none)."""
    rows = latest[latest["target_id"] == target_id]
    return {} if rows.empty else rows.iloc[0].to_dict()


def _target_form(user: User, row: dict[str, object], period: dt.date, latest: pd.DataFrame) -> None:
    """One target: its status (marked 必填 when an explanation is required), the three texts prefilled
    with its newest explanation, and a save button showing the version saved."""
    lang = ui.lang()
    target_id = str(row["target_id"])
    status = str(row["status"])
    st.subheader(fmt.plain(row[f"name_{lang}"]))
    if status in REQUIRED_STATUSES:
        st.warning(T("expl_required", status=i18n.status_label(status, lang)))
    else:
        st.caption(T("expl_optional", status=i18n.status_label(status, lang)))
    before = _prefill(latest, target_id)
    if before and pd.Timestamp(before["period"]).date() != period:
        st.caption(T("expl_prefilled", month=ui.month(before["period"])))
    stem = f"expl_{target_id}_{period:%Y-%m}"
    with st.form(f"{stem}_form"):
        texts = [
            st.text_area(
                T(f"expl_{field}"), value=str(before.get(field) or ""), max_chars=MAX_TEXT, key=f"{stem}_{field}"
            )
            for field in FIELDS
        ]
        sent = st.form_submit_button(T("expl_save"), key=f"{stem}_save")
    if sent:
        try:
            version = workflow.save_explanation(user, target_id, period, *texts)
        except ExplanationError as refused:
            st.error(refused.text(lang))
        else:
            st.success(T("expl_saved", version=version))


def render(user: User, bureau_id: str, periods: list[dt.date]) -> None:
    """The tab: a month, then every target the bureau leads with its status as of that month."""
    st.caption(T("expl_intro", max=MAX_TEXT))
    period = ui.month_select(T("month"), periods, key="expl_period")
    card = data.scorecard(period)
    mine = card[card["lead_bureau"] == bureau_id]  # the KPI's lead in targets.yaml
    if mine.empty:
        st.info(T("expl_no_targets"))
        return
    latest = workflow.latest_explanations(tuple(mine["target_id"]), period)
    for row in mine.to_dict("records"):
        with st.container(border=True):
            _target_form(user, row, period, latest)


def detail_section(target_id: str, kpi_id: str, as_of: dt.date) -> None:
    """The target detail's 情况说明: the explanation in force for each month (newest first), then the
    备注 of the KPI's figures for the as-of month. Text only (st.dataframe cells), never Markdown."""
    lang = ui.lang()
    st.subheader(T("expl_tab"))
    explained = workflow.explanation_history(target_id)
    if explained.empty:
        st.caption(T("expl_none"))
    else:
        st.dataframe(
            pd.DataFrame(
                {
                    T("month"): [ui.month(p) for p in explained["period"]],
                    T("expl_progress"): explained["progress"],
                    T("expl_problems"): explained["problems"],
                    T("expl_next_steps"): explained["next_steps"],
                    T("expl_by"): explained["user_name"],
                    T("expl_at"): [pd.Timestamp(s).strftime("%Y-%m-%d %H:%M") for s in explained["saved_at"]],
                }
            ),
            hide_index=True,
            width="stretch",
            key="detail_explanations",
        )
    st.caption(T("expl_notes_title", month=ui.month(as_of)))
    notes = workflow.figure_notes(kpi_id, as_of)
    if notes.empty:
        st.caption(T("expl_no_notes"))
        return
    names = data.reference("districts").set_index("district_id")[f"name_{lang}"]
    st.dataframe(
        pd.DataFrame(
            {
                T("col_district"): [names.get(d, d) for d in notes["district_id"]],
                T("month"): [ui.month(p) for p in notes["period"]],
                T("col_note"): notes["note"],
            }
        ),
        hide_index=True,
        width="stretch",
        key="detail_notes",
    )
