"""在线填报, the tab of the upload page: the bureau's month as an editable grid (etl.entry).

The grid is never checked here: 检查 turns it into the report etl.entry.to_report writes and runs the
upload's dry run on it (data.check_upload), so the rules and the Chinese messages are the ETL's; each
problem is shown on its grid row (a 问题 column in the grid and a table below it). 提交 sends that
report through data.submit like an uploaded file: archived, pending approval where the bureau
requires it, and a report that changes figures already submitted needs a reason, as an upload does.

State kept in the session, per bureau and month: the editor's key (a new key starts the editor
afresh after 按上月数值填充, 保存草稿 or 提交), cells filled from last month not yet saved, and whether
the check results are shown. The draft itself is in the warehouse (etl.entry.save_draft).
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from dashboard import data, explanation_form, ui
from dashboard.ui import T
from etl import entry
from etl.load import LoadResult
from monitor import fmt, i18n, review, tables
from monitor.auth import User

# the grid's columns as the editor shows them; only VALUE and NOTE are editable
ROW, KPI, DISTRICT, UNIT, BASIS, LAST, VALUE, NOTE, PROBLEM = (
    "row", "kpi", "district", "unit", "basis", "last_month", "value", "note", "problem",
)  # fmt: skip
READ_ONLY = [ROW, KPI, DISTRICT, UNIT, BASIS, LAST, PROBLEM]


def before_submit(bureau_id: str, period: dt.date) -> list[str]:
    """Messages that stop the month from being submitted, shown as they are: catalogue text with any
    user-typed part already passed through fmt.plain (as explanation_form.missing_messages words them);
    [] lets it go.

    The hook of the explanations feature (issue 14): 进展情况 / 存在问题 / 下步措施 must be written before
    submitting when a target of the bureau is at risk, off track or overdue (dashboard/explanation_form.py)."""
    return explanation_form.missing_messages(bureau_id, period)


def _state(bureau_id: str, period: dt.date, name: str) -> str:
    return f"entry_{name}_{bureau_id}_{period:%Y%m}"


def editor_key(bureau_id: str, period: dt.date) -> str:
    """The data editor's key for the bureau and month; its version moves on when the grid starts afresh."""
    version = st.session_state.setdefault(_state(bureau_id, period, "version"), 0)
    return f"entry_editor_{bureau_id}_{period:%Y%m}_{version}"


def _next_editor(bureau_id: str, period: dt.date) -> None:
    """The editor starts afresh on the next run (a new key: no edits), showing the grid's base."""
    version = _state(bureau_id, period, "version")
    st.session_state[version] = st.session_state.get(version, 0) + 1


def _start_afresh(bureau_id: str, period: dt.date) -> None:
    """Drop the editor's edits and the unsaved cells filled from last month (after a save or a submit)."""
    _next_editor(bureau_id, period)
    st.session_state.pop(_state(bureau_id, period, "filled"), None)


def _flash(kind: str, text: str) -> None:
    """A message for the next run (the grid is redrawn from the warehouse after a save or a submit)."""
    st.session_state["entry_flash"] = (kind, text)


def _show_flash() -> None:
    kind, text = st.session_state.pop("entry_flash", (None, ""))
    if kind == "success":
        st.success(text)
    elif kind == "info":
        st.info(text)
    elif kind == "error":
        st.error(text)


def _base(bureau_id: str, period: dt.date) -> tuple[pd.DataFrame, entry.Draft | None]:
    """The grid before this session's edits: submitted figures, the saved draft over them, and cells
    filled from last month (not saved yet) over that."""
    frame = entry.grid(data.con(), data.config(), bureau_id, period)
    draft = entry.load_draft(data.con(), bureau_id, period)
    if draft is not None:
        frame = draft.apply(frame)
    filled = st.session_state.get(_state(bureau_id, period, "filled"))
    if filled is not None:
        frame = entry.with_cells(frame, filled)
    return frame, draft


def _with_edits(base: pd.DataFrame, editing: object) -> pd.DataFrame:
    """The grid with the editor's edits ({"edited_rows": {position: {column: text}}}), read before the
    editor is drawn so the 问题 column can show this content's problems."""
    out = base.copy()
    edited = editing.get("edited_rows", {}) if isinstance(editing, dict) else {}
    values, notes = list(out[entry.VALUE]), list(out[entry.NOTE])
    for position, cells in edited.items():
        if 0 <= int(position) < len(out):
            if VALUE in cells:
                values[int(position)] = cells[VALUE]
            if NOTE in cells:
                notes[int(position)] = cells[NOTE]
    out[entry.VALUE] = pd.array([entry.cell(v) or None for v in values], dtype="string")
    out[entry.NOTE] = pd.array([entry.cell(n) or None for n in notes], dtype="string")
    return out


def _display(frame: pd.DataFrame, marks: list[str], lang: i18n.Lang) -> pd.DataFrame:
    """The grid as the editor shows it, in the session's language. The column types never change
    (the editor keeps its edits while the schema stays the same)."""
    cfg = data.config()
    kpis = [cfg.kpi_by_id[k] for k in frame["kpi_id"]]
    return pd.DataFrame(
        {
            ROW: range(1, len(frame) + 1),
            KPI: pd.array([i18n.name(k, lang) for k in kpis], dtype="string"),
            DISTRICT: pd.array([i18n.name(cfg.district_by_id[d], lang) for d in frame["district_id"]], dtype="string"),
            UNIT: pd.array([k.unit_zh if lang == "zh" else k.unit_en for k in kpis], dtype="string"),
            BASIS: pd.array([T(f"entry_rule_{r}") for r in frame["rule"]], dtype="string"),
            LAST: frame[entry.LAST].astype("float64").to_numpy(),
            VALUE: frame[entry.VALUE].astype("string").to_numpy(),
            NOTE: frame[entry.NOTE].astype("string").to_numpy(),
            PROBLEM: pd.array(marks, dtype="string"),
        }
    )


def _column_config() -> dict[str, object]:
    return {
        ROW: st.column_config.NumberColumn(T("up_row"), format="%d", width="small"),
        KPI: st.column_config.TextColumn(T("tc_kpi")),
        DISTRICT: st.column_config.TextColumn(T("col_district")),
        UNIT: st.column_config.TextColumn(T("unit"), width="small"),
        BASIS: st.column_config.TextColumn(T("entry_basis")),
        LAST: st.column_config.NumberColumn(T("entry_last_month")),
        VALUE: st.column_config.TextColumn(T("entry_value")),
        NOTE: st.column_config.TextColumn(T("col_note")),
        PROBLEM: st.column_config.TextColumn(T("up_reason")),
    }


def _reason(found: object, lang: i18n.Lang) -> str:
    return i18n.name(found, lang, "reason")


def _marks(preview: LoadResult | None, frame: pd.DataFrame, lang: i18n.Lang) -> list[str]:
    """The 问题 column: the ETL's messages of each grid row at fault, "" for the others."""
    marks = [""] * len(frame)
    if preview is None:
        return marks
    for position, found in entry.problems_by_row(preview, frame).items():
        if position is not None:
            marks[position] = "；".join(_reason(p, lang) for p in found)
    return marks


def _problem_table(preview: LoadResult, frame: pd.DataFrame, lang: i18n.Lang) -> pd.DataFrame:
    """Row → KPI, district → the ETL's message, grid rows first; problems of no row (the report as a
    whole) last, without a row."""
    cfg = data.config()
    rows = []
    by_row = entry.problems_by_row(preview, frame)
    for position in sorted(p for p in by_row if p is not None) + ([None] if None in by_row else []):
        for found in by_row[position]:
            kpi = district = ""
            if position is not None:
                kpi = i18n.name(cfg.kpi_by_id[frame["kpi_id"].iat[position]], lang)
                district = i18n.name(cfg.district_by_id[frame["district_id"].iat[position]], lang)
            rows.append([None if position is None else position + 1, kpi, district, found.value, _reason(found, lang)])
    headers = [T("up_row"), T("tc_kpi"), T("col_district"), T("value"), T("up_reason")]
    table = pd.DataFrame(rows, columns=headers)
    table[T("up_row")] = table[T("up_row")].astype("Int64")
    return table


def _show_check(preview: LoadResult, frame: pd.DataFrame, lang: i18n.Lang) -> None:
    if preview.problems:
        st.error(T("entry_problems", n=max(preview.problems_total, len(preview.problems))))
        st.dataframe(_problem_table(preview, frame, lang), hide_index=True, width="stretch", key="entry_problems")
        return
    if preview.outcome == "duplicate":
        st.info(ui.summary(preview))
        return
    st.success(T("entry_check_ok", filled=preview.rows_total - preview.rows_skipped, empty=preview.rows_skipped))
    cfg = data.config()
    for position, found in entry.problems_by_row(preview, frame, warnings=True).items():
        for warning in found:
            if position is None:
                st.warning(ui.problem(warning))
                continue
            kpi = i18n.name(cfg.kpi_by_id[frame["kpi_id"].iat[position]], lang)
            district = i18n.name(cfg.district_by_id[frame["district_id"].iat[position]], lang)
            text = fmt.plain(_reason(warning, lang))
            st.warning(T("entry_row_warning", row=position + 1, kpi=kpi, district=district, text=text))


def _change_reason(preview: LoadResult | None, bureau_id: str, period: dt.date, lang: i18n.Lang) -> str:
    """Figures the grid would change against those already submitted, and the reason text area (as on
    the upload tab); "" when nothing changes."""
    changes = preview.changes if preview is not None and preview.changes is not None else pd.DataFrame()
    if preview is None or preview.problems or not len(changes):
        return ""
    cfg = data.config()
    st.warning(T("up_changes", n=len(changes)))
    shown = tables.changes(changes, cfg.kpi_by_id, cfg.district_by_id, lang)
    st.dataframe(shown, hide_index=True, width="stretch", key="entry_changes")
    # keyed by the editor's version: a submitted grid starts with an empty reason
    return st.text_area(T("up_change_reason"), key=editor_key(bureau_id, period).replace("editor", "reason"))


def render(bureau_id: str, user: User, periods: list[dt.date]) -> None:
    """The tab: month, draft notice, grid, check results, and the four buttons."""
    lang = ui.lang()
    st.caption(T("entry_help"))
    period = ui.month_select(T("month"), periods, key="up_entry_period")
    _show_flash()
    base, draft = _base(bureau_id, period)
    if base.empty:
        return
    if draft is not None:
        st.caption(T("entry_draft_saved", time=f"{draft.saved_at:%Y-%m-%d %H:%M}", user=fmt.plain(draft.user_name)))
    key = editor_key(bureau_id, period)
    working = _with_edits(base, st.session_state.get(key))
    name, report = entry.to_report(working, bureau_id, period)
    checking = bool(st.session_state.get(_state(bureau_id, period, "checking")))
    preview = data.check_upload(name, report, bureau_id) if checking else None
    edited = st.data_editor(
        _display(base, _marks(preview, working, lang), lang),
        key=key,
        hide_index=True,
        num_rows="fixed",
        width="stretch",
        disabled=READ_ONLY,
        column_config=_column_config(),
        placeholder="",  # an empty cell is "not reported", shown empty rather than "None"
    )
    working = _from_editor(base, edited)
    if preview is not None:
        _show_check(preview, working, lang)
    reason = _change_reason(preview, bureau_id, period, lang)
    fill_col, check_col, save_col, submit_col = st.columns(4)
    if fill_col.button(T("entry_fill"), key="entry_fill"):
        st.session_state[_state(bureau_id, period, "filled")] = entry.cells_of(entry.fill_from_last_month(working))
        _next_editor(bureau_id, period)
        st.rerun()
    if check_col.button(T("entry_check"), key="entry_check"):
        st.session_state[_state(bureau_id, period, "checking")] = True
        st.rerun()
    if save_col.button(T("entry_save"), key="entry_save"):
        entry.save_draft(data.con(), bureau_id, period, user.user_name, working)
        _start_afresh(bureau_id, period)
        st.rerun()
    if submit_col.button(T("entry_submit"), type="primary", key="entry_submit"):
        _submit(bureau_id, user, period, working, reason)


def _from_editor(base: pd.DataFrame, edited: pd.DataFrame) -> pd.DataFrame:
    """The grid with the value and note cells of the table the editor returned (same rows, same order)."""
    out = base.copy()
    out[entry.VALUE] = pd.array([entry.cell(v) or None for v in edited[VALUE]], dtype="string")
    out[entry.NOTE] = pd.array([entry.cell(n) or None for n in edited[NOTE]], dtype="string")
    return out


def _submit(bureau_id: str, user: User, period: dt.date, working: pd.DataFrame, reason: str) -> None:
    """提交: the grid's report through the upload's path. A report with problems, or one that changes
    figures without a reason, is not sent: the check results (and the reason box) show instead."""
    blocking = before_submit(bureau_id, period)
    if blocking:
        for message in blocking:
            st.error(message)
        return
    name, report = entry.to_report(working, bureau_id, period)
    preview = data.check_upload(name, report, bureau_id)
    changes = preview.changes if preview.changes is not None else pd.DataFrame()
    if preview.problems or (len(changes) and not reason.strip()):
        st.session_state[_state(bureau_id, period, "checking")] = True
        if not preview.problems:
            _flash("error", T("up_change_reason_required"))
        st.rerun()
    if preview.outcome != "duplicate":
        result = data.submit(
            name, report, bureau_id, user, key=f"entry:{preview.sha256}:{reason.strip()}", reason=reason.strip() or None
        )
    else:
        result = preview
    if result.outcome in ("accepted", "duplicate"):
        entry.drop_draft(data.con(), bureau_id, period)
        _start_afresh(bureau_id, period)
        st.session_state.pop(_state(bureau_id, period, "checking"), None)
        text = ui.summary(result)
        if review.status_of(data.con(), result.submission_id) == review.PENDING:
            text += "\n\n" + T("entry_pending")
        _flash("success" if result.outcome == "accepted" else "info", text)
        st.rerun()
    st.session_state[_state(bureau_id, period, "checking")] = True
    if result.outcome == "needs_reason":  # figures changed since the check
        _flash("error", T("up_change_reason_required"))
    else:
        _flash("error", ui.summary(result))
    st.rerun()
