"""旗区对比 Districts: progress heat map by target and district, and a league table."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import data, session, ui, workflow
from dashboard.ui import T
from monitor import charts, fmt

session.require("districts")
as_of = ui.require_data()
lang = ui.lang()
units = data.scorecard(as_of, all_units=True)
districts = data.reference("districts").set_index("district_id")[f"name_{lang}"]

st.title(T("nav_districts"))
# Flows split meaningfully over districts; stock and ratio targets carry a city baseline that an
# equal split would distort, so the comparison keeps cumulative and annual targets only.
per_unit = units[(units["district_id"] != "city") & units["kind"].isin(["cumulative", "annual"])].copy()
if per_unit.empty:
    st.info(T("no_match"))
    st.stop()
per_unit["district"] = per_unit["district_id"].map(districts)
per_unit["target"] = per_unit[f"name_{lang}"]
st.caption(T("heatmap_note"))
# which district targets are quotas the lead bureau set (the rest: the policy's part or an equal split)
names = dict(zip(per_unit["target_id"], per_unit[f"name_{lang}"], strict=False))
with_quotas = T("list_sep").join(names[t] for t in workflow.quota_targets() if t in names)
st.caption(fmt.plain(T("quota_targets", names=with_quotas)) if with_quotas else T("no_quota_targets"))
st.plotly_chart(
    charts.heatmap(per_unit, lang, f"{T('heatmap_title')} · {T('as_of')} {ui.month(as_of)}"),
    width="stretch",
    key="district_heatmap",
)

st.subheader(T("league_title"))
league = (
    per_unit.assign(good=per_unit["status"].isin(["achieved", "on_track"]))
    .groupby("district", as_index=False)
    .agg(score=("progress", "mean"), good=("good", "sum"), n=("target_id", "count"))
    .sort_values("score", ascending=False)
)
st.dataframe(
    pd.DataFrame(
        {
            T("col_district"): league["district"],
            T("league_score"): league["score"].clip(0, 1.5) * 100,
            T("league_on_track"): [f"{g}/{n}" for g, n in zip(league["good"], league["n"], strict=True)],
        }
    ),
    column_config={T("league_score"): ui.percent_column(T("league_score"))},
    hide_index=True,
    width="stretch",
)
