"""总览 Overview: what changed since last month (本月变化), status tiles with their arrows and the
scorecard of every target, grouped by what is due next or by the policy's own sections (with the
activity indicators each section collects)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import change_views, data, links, overview_grid, sections, session, ui, workflow
from dashboard.ui import T
from monitor.fmt import ATTENTION_RANK
from monitor.style import STATUS_ORDER

session.require("overview")
as_of = ui.require_data()
lang = ui.lang()
card = data.scorecard(as_of)
moved = data.changes(as_of)  # the engine run for this month and the previous one
# names from targets.yaml (the bureaus table holds the same, db.sync_reference): no query on a rerun
bureaus = {b.id: getattr(b, f"name_{lang}") for b in data.config().bureaus}

st.title(T("nav_overview"))
st.caption(f"{T('app_subtitle')} · {T('as_of')} {ui.month(as_of)} · {T('targets_count', n=len(card))}")
change_views.section(as_of, card, moved)
with st.expander(T("structure_title")):
    st.markdown(T("structure_body"))

counts = card["status"].value_counts()
arrows = change_views.tile_changes(moved)
with st.container(key="ov_tiles"):  # style.css: two rows of three compact tiles on a phone
    for col, status in zip(st.columns(len(STATUS_ORDER)), STATUS_ORDER, strict=True):
        with col:
            ui.status_tile(status, counts.get(status, 0), arrows[status])

card = card.assign(
    group=card["kind"]
    .eq("annual")
    .map({True: "annual", False: ""})
    .where(card["kind"].eq("annual"), pd.to_datetime(card["deadline"]).dt.year.astype(str)),
    bureau=card["lead_bureau"].map(bureaus).fillna(card["lead_bureau"]),
    rank=card["status"].map(ATTENTION_RANK),
    gap=card["progress"].fillna(0) - card["time_elapsed"].fillna(0),
    change=card["target_id"].map(dict(zip(moved["target_id"], moved["direction"], strict=True))).fillna("same"),
)
with_actions = change_views.has_actions()  # the 督办 column of dashboard/action_views.py, when installed
notes = workflow.follow_up(as_of)  # every grid's 督办 counts and explanations: one read for the page

active = sum(bool(ui.kept_value(k)) for k in ("ov_section", "ov_bureau", "ov_status", "ov_year"))
# filters in force are never hidden: a scorecard that shows fewer targets says why
with st.expander(T("filters_active", n=active) if active else T("filters"), expanded=bool(active)):
    c1, c2, c3, c4 = st.columns(4)
    # options are ids, names only their labels: a filter survives the language toggle
    with c1:
        # every section of the policy in its order, those without targets too (they list indicators)
        chosen_sections = links.multiselect(  # ?section=…
            T("f_section"), sections.codes(), "ov_section", "section", format_func=sections.label
        )
    with c2:
        lead = sorted(card["lead_bureau"].unique(), key=lambda b: str(bureaus.get(b, b)))
        chosen_bureaus = links.multiselect(  # ?bureau=…
            T("f_bureau"), lead, "ov_bureau", "bureau", format_func=lambda b: str(bureaus.get(b, b))
        )
    with c3:
        statuses = links.multiselect(  # ?status=off_track,at_risk
            T("f_status"), list(STATUS_ORDER), "ov_status", "status", format_func=ui.status_text
        )
    with c4:
        groups = sorted(card["group"].unique(), key=lambda g: (g == "annual", g))
        years = links.multiselect(  # ?year=2026,annual
            T("f_deadline"), groups, "ov_year", "year", format_func=lambda g: T("group_annual") if g == "annual" else g
        )

# the grouping is a view, not a filter: options are ids, the choice survives the language toggle
grouping_options = ["deadline", "section"]
kept_grouping = st.session_state.get("ov_group", "deadline")
grouping = st.radio(
    T("group_by"),
    grouping_options,
    index=grouping_options.index(kept_grouping) if kept_grouping in grouping_options else 0,
    format_func=lambda g: T(f"group_by_{g}"),
    horizontal=True,
    key=f"ov_group_{lang}",
)
st.session_state["ov_group"] = grouping
st.caption(T("ov_open_hint"))

shown = card
if chosen_sections:
    shown = shown[shown["section"].isin(chosen_sections)]
if chosen_bureaus:
    shown = shown[shown["lead_bureau"].isin(chosen_bureaus)]
if statuses:
    shown = shown[shown["status"].isin(statuses)]
if years:
    shown = shown[shown["group"].isin(years)]
target_filters = bool(chosen_bureaus or statuses or years)
if grouping == "section":
    # without a bureau, status or year filter every chosen section is listed, targets or not
    listed = [c for c in (chosen_sections or sections.codes()) if not target_filters or c in set(shown["section"])]
else:
    listed = []
if shown.empty and not listed:
    st.info(T("no_match"))
    st.stop()


if grouping == "section":
    # read once for every section (each read asks the warehouse its data version)
    pledges, activity_rows = data.commitment_states(as_of), data.activity_figures(as_of)
    for code in listed:
        part = shown[shown["section"] == code].sort_values(["rank", "gap"])
        st.subheader(T("with_count", title=sections.label(code), n=len(part)) if len(part) else sections.label(code))
        if part.empty:
            st.caption(T("section_no_targets"))
        else:
            overview_grid.grid(
                part, as_of, notes, f"ov_section_{code}", with_actions=with_actions, drop=("col_section",)
            )
        pledged = sections.commitments(as_of, code, pledges)  # no deadline, no status: not under a target filter
        if not target_filters and not pledged.empty:
            st.caption(T("commitments_title"))
            st.dataframe(pledged, hide_index=True, width="stretch", key=f"ov_commitments_{code}")
        indicators = sections.activity(as_of, code, activity_rows)
        if not target_filters and not indicators.empty:
            st.caption(T("activity_title"))
            st.dataframe(indicators, hide_index=True, width="stretch", key=f"ov_activity_{code}")
    st.stop()

for group in sorted(shown["group"].unique(), key=lambda g: (g == "annual", g)):
    part = shown[shown["group"] == group].sort_values(["rank", "gap"])
    title = T("group_annual") if group == "annual" else T("due_by", year=group)
    st.subheader(T("with_count", title=title, n=len(part)))
    overview_grid.grid(part, as_of, notes, f"ov_table_{group}", with_actions=with_actions)
