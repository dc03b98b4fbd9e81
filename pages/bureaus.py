"""责任单位 Bureaus: each bureau's targets and status mix; reporting completeness and timeliness."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import action_views, data, links, reminder_views, session, ui
from dashboard.ui import T
from monitor import charts, reporting
from monitor.style import STATUS_ORDER

session.require("bureaus")
as_of = ui.require_data()
lang = ui.lang()
cfg = data.config()
card = data.scorecard(as_of)
names = data.reference("bureaus").set_index("bureau_id")[f"name_{lang}"]

st.title(T("nav_bureaus"))
st.caption(T("due_rule", day=cfg.reporting.due_day))
reminder_views.overdue_section()  # who is behind with the current reporting month

mix = card.pivot_table(index="lead_bureau", columns="status", values="target_id", aggfunc="count", fill_value=0)
mix = mix.reindex(columns=[s for s in STATUS_ORDER], fill_value=0)
rates = data.reporting_status(as_of)
# counts and rates per bureau, as the briefing's reporting sheet; a month not yet due is not yet owed
per_bureau = reporting.by_bureau(rates, today=data.today())
summary = per_bureau.join(mix, how="outer").fillna(0)
table = pd.DataFrame(
    {
        T("f_bureau"): summary.index.map(lambda b: names.get(b, b)),
        **{ui.status_text(s): summary[s].astype(int) for s in STATUS_ORDER},
        T("expected_reports"): summary["expected"].astype(int),
        T("received_reports"): summary["received"].astype(int),
        T("completeness_12"): summary["completeness_12"] * 100,
        T("completeness_3"): summary["completeness_3"] * 100,
        T("timeliness"): summary["timeliness"] * 100,
    }
).sort_values([T("completeness_3"), T("completeness_12")], kind="stable")  # the silent bureaus first
st.subheader(T("bureau_targets"))
st.dataframe(
    table,
    # fixed widths that add up to the page's ~890 px at 1366 px: a long English bureau name is cut
    # rather than pushing the rate columns off-screen; a cut header reads in full on hover (help)
    column_config={
        T("f_bureau"): st.column_config.TextColumn(T("f_bureau"), width=190),
        **{ui.status_text(s): st.column_config.NumberColumn(width=50, help=ui.status_text(s)) for s in STATUS_ORDER},
        T("expected_reports"): st.column_config.NumberColumn(width=50, help=T("expected_reports")),
        T("received_reports"): st.column_config.NumberColumn(width=50, help=T("received_reports")),
        **{
            T(rate): st.column_config.ProgressColumn(
                T(rate), min_value=0, max_value=100, format="%.0f%%", width=100, help=T(rate)
            )
            for rate in ("completeness_12", "completeness_3", "timeliness")
        },
    },
    hide_index=True,
    width="stretch",
)
st.caption(T("rates_basis", start=ui.month(cfg.policy.start), month=ui.month(as_of)))

bureau = links.selectbox(  # ?bureau=<id>
    T("f_bureau"), list(per_bureau.index), "bureau_pick", "bureau", format_func=lambda b: names.get(b, b)
)
mine = rates[rates["bureau_id"] == bureau].sort_values("period")
# the chart shows the same rates as the table, over the last 12 months
monthly = reporting.rolling(mine, 12)
st.plotly_chart(
    charts.rate_chart(
        monthly, lang, f"{names.get(bureau, bureau)} · {T('completeness')} / {T('timeliness')}{T('rolling_12')}"
    ),
    width="stretch",
    key="bureau_rates",
)
shown = mine[["period", "received", "on_time", "due_date", "first_submitted_at"]].iloc[::-1]
st.dataframe(data.records(shown, lang), hide_index=True, width="stretch")

action_views.bureau_section(bureau)  # 督办: actions not closed per bureau, then the picked bureau's
