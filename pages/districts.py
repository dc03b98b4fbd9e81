"""旗区对比 Districts: progress heat map by target and district, and the districts ranked by progress
(the league table: the view a phone reads, where the heat map does not fit; style.css hides the map
under 640 px and shows a note in its place)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import data, links, overview_grid, session, ui, workflow
from dashboard.ui import T
from monitor import charts, fmt
from monitor.targets import DISTRICT_ORDER, district_position

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
with st.container(key="district_phone_note"):  # shown on a phone only (style.css)
    st.info(T("heatmap_phone"))
st.plotly_chart(
    charts.heatmap(per_unit, lang, f"{T('heatmap_title')} · {T('as_of')} {ui.month(as_of)}"),
    width="stretch",
    key="district_heatmap",
)

st.subheader(T("league_title"))
st.caption(T("league_ranked"))
# the ten districts only (a scoped target's "scope" total is no district)
ranked = per_unit[per_unit["district_id"].isin(districts.index)]
league = (
    ranked.assign(good=ranked["status"].isin(["achieved", "on_track"]))
    .groupby("district_id", as_index=False)
    .agg(score=("progress", "mean"), good=("good", "sum"), n=("target_id", "count"))
)
# highest mean progress first; equal means in the official district order
league = league.assign(official=league["district_id"].map(district_position)).sort_values(
    ["score", "official"], ascending=[False, True], kind="stable"
)
st.dataframe(
    pd.DataFrame(
        {
            T("league_rank"): league["score"].rank(method="min", ascending=False).astype(int),
            T("col_district"): league["district_id"].map(districts),
            T("league_score"): league["score"].clip(0, 1.5) * 100,
            T("league_on_track"): [f"{g}/{n}" for g, n in zip(league["good"], league["n"], strict=True)],
        }
    ),
    # narrow enough for a 390 px phone (358 px of content); wider screens stretch the columns
    column_config={
        T("league_rank"): st.column_config.NumberColumn(T("league_rank"), width=40, alignment="center"),
        T("col_district"): st.column_config.TextColumn(T("col_district"), width=124),
        T("league_score"): st.column_config.ProgressColumn(
            T("league_score"), min_value=0, max_value=100, format="%.0f%%", width=100
        ),
        T("league_on_track"): st.column_config.TextColumn(T("league_on_track"), width=90, help=T("league_on_track")),
    },
    hide_index=True,
    width="stretch",
    height="content",
    key="district_league",
)

# one district's targets (the view a district's leader asks for): its own figures against its share,
# progress and the reason, in policy order; the district is the URL's ?district=
st.subheader(T("district_view_title"))
picked = links.selectbox(
    T("col_district"), [d for d in DISTRICT_ORDER if d in districts.index], "district_pick", "district",
    format_func=lambda d: str(districts.get(d, d)),
)  # fmt: skip
own = per_unit[per_unit["district_id"] == picked]
st.dataframe(
    pd.DataFrame(
        {
            T("col_status"): [fmt.status(s, lang) for s in own["status"]],
            T("col_target"): own["target"],
            T("col_actual_goal"): [
                f"{fmt.figure(r['actual'], r['unit_zh'], r['unit_en'], lang)} / "
                f"{fmt.figure(r['target_value'], r['unit_zh'], r['unit_en'], lang)}"
                for r in own.to_dict("records")
            ],
            T("col_progress"): own["progress"] * 100,
            T("col_reason"): own[f"reason_{lang}"],
        }
    ),
    column_config={
        T("col_status"): st.column_config.TextColumn(T("col_status"), width=90),
        T("col_target"): st.column_config.TextColumn(T("col_target"), width=220),
        T("col_actual_goal"): st.column_config.TextColumn(T("col_actual_goal"), width=140),
        T("col_progress"): st.column_config.ProgressColumn(
            T("col_progress"), min_value=0, max_value=100, format="%.0f%%", width=100
        ),
        T("col_reason"): st.column_config.TextColumn(T("col_reason"), width=340),  # 890 px in all: 1366 px screens
    },
    hide_index=True,
    width="stretch",
    height="content",
    row_height=overview_grid.ROW_HEIGHT[lang],  # tall enough for the name and the reason to wrap
    key="district_own",
)
