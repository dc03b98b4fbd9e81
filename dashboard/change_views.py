"""本月变化 on the pages: the overview's change panel, the tiles' arrows, the grid's 变化 and 督办 columns,
and the one printable page (A4 landscape).

Every transition is monitor.progress.changes' (the engine run for both months, dashboard.data.changes);
these functions only arrange and draw it. Tables that must print whole are plain HTML from an
autoescaped template (dashboard/templates/print_view.html.j2), never a scrolling grid.
"""

from __future__ import annotations

import datetime as dt
import importlib.util

import pandas as pd
import streamlit as st

from dashboard import data, ui
from dashboard.ui import T
from monitor import fmt
from monitor.fmt import ATTENTION_RANK
from monitor.progress.changes import DIRECTIONS, shift_month
from monitor.style import STATUS_COLORS, STATUS_ORDER

# what the print view lists: behind or late, and whatever got worse since last month
ATTENTION_STATUSES: tuple[str, ...] = ("off_track", "overdue", "at_risk")
# the changed targets' order in the panel: worse first, then better, achieved, first judged
_DIRECTION_ORDER = {d: i for i, d in enumerate(DIRECTIONS)}


def has_actions() -> bool:
    """Whether the 督办 module of this round is installed (dashboard/action_views.py)."""
    return importlib.util.find_spec("dashboard.action_views") is not None


def action_counts(target_ids: list[str]) -> list[str]:
    """Per target, its open actions as text ("2项（1项逾期）"), or "" for each when 督办 is absent."""
    if not has_actions():
        return [""] * len(target_ids)
    from dashboard import action_views

    return action_views.count_column(target_ids)


def bureau_names() -> dict[str, str]:
    return dict(data.reference("bureaus").set_index("bureau_id")[f"name_{ui.lang()}"])


def tile_changes(moved: pd.DataFrame) -> dict[str, str]:
    """Per status, how its tile moved: last month's count and the marks of the targets that came into
    it (↓ by getting worse, ↑ better or achieved, ★ judged for the first time): "上月 5 · ↓2 ↑1"."""
    before = moved["status_prev"].value_counts()
    texts = {}
    for status in STATUS_ORDER:
        arrived = moved[(moved["status_now"] == status) & (moved["direction"] != "same")]
        marks: dict[str, int] = {}
        for direction in arrived["direction"]:
            mark = fmt.direction_mark(direction)
            marks[mark] = marks.get(mark, 0) + 1
        text = T("change_tile", prev=int(before.get(status, 0)))
        if marks:
            text += " · " + " ".join(f"{mark}{n}" for mark, n in marks.items())
        texts[status] = text
    return texts


def changed(moved: pd.DataFrame, card: pd.DataFrame) -> pd.DataFrame:
    """The targets whose status changed, worst move first, with their scorecard row (name, reason, bureau)."""
    rows = moved[moved["direction"] != "same"].merge(card, on="target_id", how="left")
    rows = rows.assign(order=rows["direction"].map(_DIRECTION_ORDER), rank=rows["status_now"].map(ATTENTION_RANK))
    return rows.sort_values(["order", "rank"], kind="stable").reset_index(drop=True)


def change_table(rows: pd.DataFrame) -> pd.DataFrame:
    """The panel's list as text (st.table renders Markdown: every cell goes through fmt.plain)."""
    lang, bureaus = ui.lang(), bureau_names()

    def prev_text(status: object) -> str:
        return ui.status_text(str(status)) if isinstance(status, str) else "—"

    columns = {
        T("change_col"): [fmt.direction_text(d, lang) for d in rows["direction"]],
        T("col_target"): rows[f"name_{lang}"],
        T("change_col_prev"): [prev_text(s) for s in rows["status_prev"]],
        T("change_col_now"): [ui.status_text(s) for s in rows["status_now"]],
        T("col_reason"): rows[f"reason_{lang}"],
        T("col_bureau"): [bureaus.get(b, b) for b in rows["lead_bureau"]],
    }
    return pd.DataFrame({k: [fmt.plain(v) for v in values] for k, values in columns.items()})


def section(as_of: dt.date, card: pd.DataFrame, moved: pd.DataFrame) -> None:
    """The 本月变化 panel that opens the overview: the counts, then every target whose status moved."""
    counts = data.change_totals(as_of)
    with st.container(border=True, key="ov_changes"):  # style.css: fewer columns on a phone
        st.markdown(f"#### {T('change_title')}")  # not a subheader: those head the scorecard's groups
        st.caption(T("change_vs", now=ui.month(as_of), prev=ui.month(shift_month(as_of, -1))))
        st.markdown(f"**{T('change_counts', **counts)}**")
        rows = changed(moved, card)
        if rows.empty:
            st.caption(T("change_none"))
        else:
            st.table(change_table(rows), hide_index=True)  # type: ignore[call-arg]


def attention(card: pd.DataFrame, moved: pd.DataFrame) -> pd.DataFrame:
    """The targets a leader must look at: behind, late or at risk, or worse than last month; worst first."""
    rows = card.merge(moved[["target_id", "status_prev", "direction"]], on="target_id", how="left")
    needs = rows["status"].isin(ATTENTION_STATUSES) | rows["direction"].eq("worse")
    rows = rows[needs].assign(rank=rows["status"].map(ATTENTION_RANK), steady=rows["direction"].ne("worse"))
    return rows.sort_values(["rank", "steady"], kind="stable").reset_index(drop=True)


def print_html(as_of: dt.date, card: pd.DataFrame, moved: pd.DataFrame) -> str:
    """The one printable page as HTML: the status counts with their changes, the change counts and
    the targets needing attention (status, change, reason, lead bureau, open actions)."""
    lang, bureaus = ui.lang(), bureau_names()
    counts = card["status"].value_counts()
    arrows = tile_changes(moved)
    tiles = [
        {"colour": STATUS_COLORS[s], "label": ui.status_text(s), "count": int(counts.get(s, 0)), "change": arrows[s]}
        for s in STATUS_ORDER
    ]
    rows = attention(card, moved)
    targets = [
        {
            "colour": STATUS_COLORS[str(r["status"])],
            "status": ui.status_text(str(r["status"])),
            "change": fmt.direction_text(str(r["direction"]), lang) if isinstance(r["direction"], str) else "",
            "name": str(r[f"name_{lang}"]),
            "reason": str(r[f"reason_{lang}"]),
            "bureau": bureaus.get(str(r["lead_bureau"]), str(r["lead_bureau"])),
            "actions": actions,
        }
        for (_, r), actions in zip(rows.iterrows(), action_counts(list(rows["target_id"])), strict=True)
    ]
    return ui.template("print_view.html.j2").render(
        hint=T("print_hint"),
        title=T("print_title", month=ui.month(as_of)),
        subtitle=f"{T('app_subtitle')} · {T('change_vs', now=ui.month(as_of), prev=ui.month(shift_month(as_of, -1)))}",
        change_counts=T("change_counts", **data.change_totals(as_of)),
        tiles=tiles,
        attention_title=T("print_attention", n=len(targets)),
        none_text=T("print_attention_none"),
        targets=targets,
        with_actions=has_actions(),
        heads={
            "status": T("col_status"),
            "change": T("change_col"),
            "target": T("col_target"),
            "reason": T("col_reason"),
            "bureau": T("col_bureau"),
            "actions": T("change_col_actions"),
        },
    )
