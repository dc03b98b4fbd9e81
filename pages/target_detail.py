"""指标详情 Target detail: trajectory, forecast, districts, source sentence, bureaus, the activity
indicators of the target's policy section, explanations, follow-up actions (督办), submissions."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import action_views, data, decisions, explanation_form, links, sections, session, ui, workflow
from dashboard.ui import T
from monitor import charts, fmt
from monitor.fmt import ATTENTION_RANK

user = session.require("detail")
as_of = ui.require_data()
lang = ui.lang()
card = data.scorecard(as_of)
targets = data.reference("targets").set_index("target_id")
bureaus = data.reference("bureaus").set_index("bureau_id")[f"name_{lang}"]
districts = data.reference("districts").set_index("district_id")[f"name_{lang}"]

st.title(T("nav_detail"))
ids = list(card.assign(rank=card["status"].map(ATTENTION_RANK)).sort_values("rank", kind="stable")["target_id"])
names = dict(zip(card["target_id"], card[f"name_{lang}"], strict=True))
# ?target=<id>: a link opens this target (an unknown id: the first one, no error)
target_id = links.selectbox(
    T("pick_target"), ids, "detail_target", "target", format_func=lambda i: f"{targets.at[i, 'section']} · {names[i]}"
)
row = card.set_index("target_id").loc[target_id].to_dict() | {"target_id": target_id}
meta = targets.loc[target_id]
st.caption(T("labelled", label=T("policy_section"), value=sections.label(meta["section"])))

unit_zh, unit_en = row["unit_zh"], row["unit_en"]
c1, c2, c3, c4 = st.columns(4)
c1.metric(T("col_actual"), ui.number(row["actual"], unit_zh, unit_en))
# the targets with what the lead bureau confirmed or corrected (baseline, deadline) in force
target = next((t for t in workflow.targets_in_force().targets if t.id == target_id), None)
assumed = target.assumed if target is not None else []
confirmed = target.confirmed if target is not None else []
deadline = fmt.marked(ui.month(row["deadline"]), "deadline", assumed, lang, confirmed)
c2.metric(T("col_goal"), ui.number(row["target_value"], unit_zh, unit_en), help=deadline)
c3.metric(T("col_forecast"), ui.number(row["forecast"], unit_zh, unit_en))
c4.metric(T("col_status"), ui.status_text(row["status"]))
st.info(row[f"reason_{lang}"])
# baseline, deadline, 左右 range and milestones as targets.yaml reads them; assumed ones are marked
if target is not None:
    terms = fmt.target_terms(target, unit_zh, unit_en, lang)
    for label, text in terms:
        st.write(T("labelled", label=label, value=text))
    if assumed:
        st.caption(fmt.assumed_caption(assumed, lang))
    decisions.history(target_id, unit_zh, unit_en)

series = data.series(target_id, as_of)
fig = charts.trajectory(series, row, lang, as_of_label=f"{T('as_of')} {ui.month(as_of)}")
st.plotly_chart(fig, width="stretch", key="detail_chart")

years = row.get("years")
if isinstance(years, list) and years:
    st.subheader(T("previous_years"))
    st.dataframe(
        pd.DataFrame(
            {
                T("f_deadline"): [y["year"] for y in years],
                T("col_actual"): [ui.number(y["actual"], unit_zh, unit_en) for y in years],
                T("col_goal"): [ui.number(y["target"], unit_zh, unit_en) for y in years],
                T("col_status"): [T("met") if y["met"] else T("missed") for y in years],
            }
        ),
        hide_index=True,
    )

by_unit = data.target_units(as_of, target_id)
if target is not None:
    decisions.decide(user, target, by_unit, unit_zh, unit_en)

st.subheader(T("by_district"))
if by_unit.empty:
    st.caption(T("city_only_target"))
else:
    bars = data.unit_bars(row["kpi_id"], as_of, tuple(by_unit["district_id"]), lang)  # cached figure
    st.plotly_chart(bars, width="stretch", key="detail_units")
    st.dataframe(
        pd.DataFrame(
            {
                T("col_district"): by_unit["district_id"].map(districts),
                T("col_actual"): [ui.number(a, unit_zh, unit_en) for a in by_unit["actual"]],
                T("col_progress"): by_unit["progress"] * 100,
                T("col_status"): [ui.status_text(s) for s in by_unit["status"]],
            }
        ),
        column_config={T("col_progress"): ui.percent_column(T("col_progress"))},
        hide_index=True,
    )

left, right = st.columns(2)
with left:
    st.subheader(T("source_sentence"))
    st.markdown(f"> {meta['source']}")
with right:
    st.subheader(T("responsible"))
    lead = row["lead_bureau"]
    co = [b for b in (row.get("co_bureaus") or [])]
    st.write(T("labelled", label=T("lead"), value=bureaus.get(lead, lead)))
    if co:
        st.write(T("labelled", label=T("co"), value=T("list_sep").join(bureaus.get(b, b) for b in co)))

# what the same section of the policy pays out or serves each month: the context of this target
indicators = sections.activity(as_of, meta["section"])
if not indicators.empty:
    st.subheader(T("section_activity"))
    st.dataframe(indicators, hide_index=True, width="stretch", key="detail_activity")

# 情况说明: the lead bureau's explanations by month and the notes of this month's figures (text only)
explanation_form.detail_section(target_id, row["kpi_id"], as_of)

# 督办: the follow-up actions on this target; leaders open and decide, the bureau answers (text only)
action_views.detail_section(user, target_id)

st.subheader(T("submissions_behind"))
subs = data.kpi_submissions(row["kpi_id"])
st.dataframe(data.records(subs.drop(columns=["sha256"]), lang), hide_index=True, width="stretch")
revs = data.kpi_revisions(row["kpi_id"])
if not revs.empty:
    st.caption(T("revisions_caption"))
    st.dataframe(data.records(revs, lang), hide_index=True, width="stretch")
