"""The overview's scorecard grids: which columns a reader sees at 1366 px, how tall a grid is, the
row that opens a target's detail, and the one-column list that replaces the grids on a phone.

A grid holds every column of the scorecard (the column menu of its toolbar can show any of them),
but shows only what a leader reads first: the move since last month, the status, the target,
actual against target, progress and the reason, with the bureau's explanation and the open 督办
actions where a group has any. Those fit the 904 px a 1366 px screen leaves beside the sidebar, so
nothing hides off to the right; the reason wraps over three lines (a row taller than 4rem wraps
text in Streamlit's grid), and the full reason is on the target's detail page.

Known limit of Streamlit's grid (1.67): it guesses how much of a line to measure from the mean width
of the characters it has measured in the browser tab, and stops updating that mean after 20,000
characters. After a Chinese page, that mean is a Chinese character's, and an English line whose
first guess fits is drawn unwrapped (cut at the cell's edge) until the tab is reloaded. Newlines
cannot help: the grid shows them as spaces. The full text is one click away (the row opens the
detail).
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from dashboard import sections, ui
from dashboard.ui import T
from monitor import actions, fmt
from monitor.explanations import FIELDS, short
from monitor.style import STATUS_COLORS, STATUS_ORDER

DETAIL_PAGE = "pages/target_detail.py"
TARGET_PARAM = "target"  # the detail page's query parameter: the target id
# three lines of Chinese, four of English (longer words, longer names); Streamlit's grid wraps text
# only in rows taller than 4rem (64 px)
ROW_HEIGHT = {"zh": 70, "en": 80}
# the widths (px) of the shown columns: 862, 894 with the selection's row marker (32 px), under the
# 904 px of a 1366 px screen with the sidebar open. Wider screens stretch them.
WIDTHS: dict[str, int] = {
    "change_col": 44,
    "col_status": 98,
    "col_target": 160,
    "col_actual_goal": 100,
    "col_progress": 84,
    "col_reason": 210,
    "col_explanation": 96,
    "change_col_actions": 70,
}
# shown only in a group where some target has one (an empty column is noise at this width)
OPTIONAL = ("col_explanation", "change_col_actions")


def table(frame: pd.DataFrame, as_of: dt.date, notes: pd.DataFrame, *, with_actions: bool) -> pd.DataFrame:
    """Every scorecard column of the rows of frame, labelled in the session's language; the shown
    ones are chosen by shown_columns. notes: the page's one read of actions and explanations
    (dashboard.workflow.follow_up)."""
    lang = ui.lang()
    unit_zh, unit_en = frame["unit_zh"], frame["unit_en"]
    actual = [ui.number(a, uz, ue) for a, uz, ue in zip(frame["actual"], unit_zh, unit_en, strict=True)]
    goal = [ui.number(g, uz, ue) for g, uz, ue in zip(frame["target_value"], unit_zh, unit_en, strict=True)]
    columns = pd.DataFrame(
        {
            # the move since last month (↑ ↓ ★), then the status: what leadership reads first
            T("change_col"): [fmt.direction_mark(d) for d in frame["change"]],
            T("col_status"): [ui.status_text(s) for s in frame["status"]],
            # the lead bureau's explanation in force beside the status (进展情况, cut to a line)
            T("col_explanation"): explanation_texts(frame["target_id"], notes, as_of),
            T("col_section"): [sections.label(c) for c in frame["section"]],
            T("col_target"): frame[f"name_{lang}"],
            # every English name starts "Municipal": the narrow column shows the part that tells them apart
            T("col_bureau"): frame["bureau"].str.removeprefix("Municipal ") if lang == "en" else frame["bureau"],
            T("col_actual_goal"): [f"{a} / {g}" for a, g in zip(actual, goal, strict=True)],
            T("col_actual"): actual,
            T("col_goal"): goal,
            T("col_deadline"): [ui.month(d) for d in frame["deadline"]],
            T("col_progress"): (frame["progress"] * 100).clip(0, 150).round(0),
            T("col_elapsed"): (frame["time_elapsed"] * 100).clip(0, 100).round(0),
            T("col_forecast"): [
                ui.number(f, uz, ue) for f, uz, ue in zip(frame["forecast"], unit_zh, unit_en, strict=True)
            ],
            T("col_reason"): frame[f"reason_{lang}"],
        }
    ).reset_index(drop=True)
    if with_actions:  # open actions beside the lead bureau that acts on them
        place = columns.columns.get_loc(T("col_bureau")) + 1
        columns.insert(place, T("change_col_actions"), action_texts(frame["target_id"], notes))
    return columns


def explanation_texts(target_ids: pd.Series, notes: pd.DataFrame, as_of: dt.date) -> list[str]:
    """Per target, the explanation in force for the month cut to a line (进展情况, or the first text
    written): one from an earlier month names its month; "" where the target has none. The same text
    cut to a line as the detail page shows it, from the page's one read instead of a query per grid."""
    found = notes.reindex(list(target_ids))  # one lookup for the grid: a row at a time is slow on str ids
    out = []
    for period, *fields in zip(found["period"], *(found[f] for f in FIELDS), strict=True):
        if pd.isna(period):
            out.append("")
            continue
        text = next((t for t in map(_text, fields) if t.strip()), "")
        when = pd.Timestamp(period).date()
        out.append(short(text) if when == as_of else f"{ui.month(when)}：{short(text)}")
    return out


def _text(value: object) -> str:
    """A stored text, "" for a missing one (None, NaN or NA, as the frame's dtype holds it)."""
    return "" if pd.isna(value) else str(value)  # type: ignore[arg-type]


def action_texts(target_ids: pd.Series, notes: pd.DataFrame) -> list[str]:
    """Per target, its 督办 actions not closed: "2项（1项逾期）", or "" when there is none."""
    lang = ui.lang()
    found = notes.reindex(list(target_ids))[["open_actions", "overdue_actions"]].fillna(0).astype(int)
    return [
        actions.count_text(open_count, overdue, lang)
        for open_count, overdue in zip(found["open_actions"], found["overdue_actions"], strict=True)
    ]


def shown_columns(columns: pd.DataFrame) -> list[str]:
    """The labels the grid shows, in order: change, status, target, actual / target, progress,
    reason, then the explanation and the 督办 count where any row of the group has one."""
    shown = []
    for key in WIDTHS:
        label = T(key)
        if label not in columns.columns:
            continue
        if key in OPTIONAL and not columns[label].astype(str).str.strip().any():
            continue
        shown.append(label)
    return shown


def column_config() -> dict[str, object]:
    """Widths of the shown columns, the status in its colour, progress as a bar; the other columns
    keep their labels."""
    config: dict[str, object] = {
        T(key): st.column_config.TextColumn(T(key), width=width) for key, width in WIDTHS.items()
    }
    # the status word on its status colour, drawn by the grid itself: a pandas Styler (the cell
    # painted whole) cost 10-30 ms a grid to marshal on every rerun at city scale. The cells hold the
    # status text (one option each, no comma), so the grid's data and its csv download stay plain text.
    config[T("col_status")] = st.column_config.MultiselectColumn(
        T("col_status"),
        width=WIDTHS["col_status"],
        options=[ui.status_text(status) for status in STATUS_ORDER],
        color=[STATUS_COLORS[status] for status in STATUS_ORDER],
    )
    config[T("col_progress")] = st.column_config.ProgressColumn(
        T("col_progress"), min_value=0, max_value=100, format="%.0f%%", width=WIDTHS["col_progress"]
    )
    config[T("col_elapsed")] = ui.percent_column(T("col_elapsed"))
    return config


def grid(
    part: pd.DataFrame,
    as_of: dt.date,
    notes: pd.DataFrame,
    key: str,
    *,
    with_actions: bool,
    drop: tuple[str, ...] = (),
) -> None:
    """One group's grid, every row shown (the page scrolls, never the grid), and under it the same
    targets as a one-column list for a phone (style.css shows one or the other). Choosing a row
    opens that target's detail in the same session. notes: dashboard.workflow.follow_up, read once a page."""
    columns = table(part, as_of, notes, with_actions=with_actions).drop(columns=[T(c) for c in drop])
    with st.container(key=f"ov_grid_{key}"):
        event = st.dataframe(
            columns,
            column_config=column_config(),
            column_order=shown_columns(columns),
            hide_index=True,
            width="stretch",
            height="content",
            row_height=ROW_HEIGHT[ui.lang()],
            on_select="rerun",
            selection_mode="single-row",
            key=key,
        )
    with st.container(key=f"ov_list_{key}"):
        st.html(phone_list(part))
    rows = event.selection.rows
    if rows:
        open_detail(str(part["target_id"].iloc[rows[0]]))


def open_detail(target_id: str) -> None:
    """The target's detail page in the same session (a link would start a new one)."""
    st.switch_page(DETAIL_PAGE, query_params={TARGET_PARAM: target_id})


def phone_list(part: pd.DataFrame) -> str:
    """The targets of a group as one column (status, name, actual / target, reason), each name a
    link to its detail; autoescaped HTML, so names and reasons stay text."""
    lang = ui.lang()
    label = T("col_actual_goal")
    rows = zip(  # columns, not iterrows: a Series a row costs more than the list itself
        part["status"], part["change"], part[f"name_{lang}"], part[f"reason_{lang}"], part["target_id"],
        part["actual"], part["target_value"], part["unit_zh"], part["unit_en"],
        strict=True,
    )  # fmt: skip
    items = [
        {
            "colour": STATUS_COLORS[str(status)],
            "status": ui.status_text(str(status)),
            "change": fmt.direction_mark(str(change)),
            "name": str(name),
            "figures": T("labelled", label=label, value=figures(actual, goal, unit_zh, unit_en)),
            "reason": str(reason),
            "href": f"detail?{TARGET_PARAM}={target_id}",
        }
        for status, change, name, reason, target_id, actual, goal, unit_zh, unit_en in rows
    ]
    return ui.template("target_list.html.j2").render(items=items)


def figures(actual: float | None, goal: float | None, unit_zh: str, unit_en: str) -> str:
    """Actual against target, each with its unit: "66人 / 100人"."""
    return f"{ui.number(actual, unit_zh, unit_en)} / {ui.number(goal, unit_zh, unit_en)}"
