"""责任单位 Bureaus: each bureau's targets and status mix; reporting completeness and timeliness."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from monitor import charts, session, ui, ui_data
from monitor.style import STATUS_ORDER
from monitor.ui import T

session.require("bureaus")
as_of = ui.require_data()
lang = ui.lang()
v = ui_data.version()
cfg = ui_data.config()
card = ui_data.scorecard(v, as_of)
names = ui_data.reference(v, "bureaus").set_index("bureau_id")[f"name_{lang}"]

st.title(T("nav_bureaus"))
st.caption(T("due_rule", day=cfg.reporting.due_day))

mix = card.pivot_table(index="lead_bureau", columns="status", values="target_id", aggfunc="count", fill_value=0)
mix = mix.reindex(columns=[s for s in STATUS_ORDER], fill_value=0)
rates = ui_data.reporting_status(v, as_of)
per_bureau = rates.groupby("bureau_id").agg(
    expected=("period", "count"), received=("received", "sum"), on_time=("on_time", "sum")
)
summary = per_bureau.join(mix, how="outer").fillna(0)
table = pd.DataFrame(
    {
        T("f_bureau"): summary.index.map(lambda b: names.get(b, b)),
        **{ui.status_text(s): summary[s].astype(int) for s in STATUS_ORDER},
        T("expected_reports"): summary["expected"].astype(int),
        T("received_reports"): summary["received"].astype(int),
        T("completeness"): (summary["received"] / summary["expected"].where(summary["expected"] > 0)).fillna(0) * 100,
        T("timeliness"): (summary["on_time"] / summary["received"].where(summary["received"] > 0)).fillna(0) * 100,
    }
).sort_values(T("completeness"))
st.subheader(T("bureau_targets"))
st.dataframe(
    table,
    column_config={
        T("completeness"): ui.percent_column(T("completeness")),
        T("timeliness"): ui.percent_column(T("timeliness")),
    },
    hide_index=True,
    width="stretch",
)

bureau = ui.kept_selectbox(T("f_bureau"), list(per_bureau.index), "bureau_pick", format_func=lambda b: names.get(b, b))
mine = rates[rates["bureau_id"] == bureau].sort_values("period")
# one month is 0 or 1: the chart shows the rates over the last 12 months, defined as in the table
# above (completeness = received / expected, timeliness = on time / received)
last12 = mine[["received", "on_time"]].astype(float).rolling(12, min_periods=1).sum()
monthly = mine.assign(
    completeness=last12["received"] / mine["received"].rolling(12, min_periods=1).count(),
    timeliness=last12["on_time"] / last12["received"].where(last12["received"] > 0),
)
st.plotly_chart(
    charts.rate_chart(
        monthly, lang, f"{names.get(bureau, bureau)} · {T('completeness')} / {T('timeliness')}{T('rolling_12')}"
    ),
    width="stretch",
    key="bureau_rates",
)
shown = mine[["period", "received", "on_time", "due_date", "first_submitted_at"]].iloc[::-1]
st.dataframe(ui_data.records(shown, lang), hide_index=True, width="stretch")
