"""The Excel workbook: the scorecard, the per-district figures, the reporting completeness and the
commitments without a milestone.

The workbook may carry text that came from uploads (reasons quote figures, names come from the
reference tables). Every text cell goes through ``safe_cell`` and ``write_string``, so no cell can
ever become a formula (CSV/Excel formula injection). Numbers stay numbers, formatted, so they sum and
sort in Excel.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd
import xlsxwriter

from monitor import fmt, i18n
from monitor.briefing.model import CJK_FONT, safe_cell
from monitor.commitments import evidence_text
from monitor.i18n import Lang
from monitor.style import STATUS_COLORS


def _text_width(text: str) -> float:
    """Column width in Excel units: a CJK character is about two Latin ones."""
    return sum(2.0 if ord(ch) > 0x2E80 else 1.0 for ch in text)


def _commitments_sheet(
    sheet: Any, text: Any, f_wrap: Any, frame: pd.DataFrame, lang: Lang, bureau_names: dict[str, str]
) -> None:
    """承诺事项: one row per commitment without a milestone, its state (已落实 / 推进中 / 未报送, not a
    target status: it has no deadline), its lead bureau and the figures showing it, each with its month."""
    header = [
        i18n.t(key, lang)
        for key in (
            "col_section", "col_commitment", "col_bureau", "col_commitment_state", "col_evidence", "col_source",
            "col_commitment_id",
        )
    ]  # fmt: skip
    ws = sheet(i18n.t("sheet_commitments", lang), header, [8, 40, 24, 10, 70, 60, 28])
    for r, row in enumerate(frame.to_dict("records"), start=1):
        text(ws, r, 0, row["section"])
        text(ws, r, 1, row[f"name_{lang}"], f_wrap)
        text(ws, r, 2, bureau_names.get(str(row["lead"]), row["lead"]))
        text(ws, r, 3, fmt.commitment_state(str(row["state"]), lang))
        text(ws, r, 4, evidence_text(row["evidence"], lang), f_wrap)
        text(ws, r, 5, row["source"], f_wrap)
        text(ws, r, 6, row["commitment_id"])
    ws.autofilter(0, 0, max(len(frame), 1), len(header) - 1)


def _explanations_sheet(
    sheet: Any, text: Any, f_wrap: Any, card: pd.DataFrame, lang: Lang, bureau_names: dict[str, str]
) -> None:
    """情况说明: one row per selected target with an explanation, the one in force for the month (or the
    newest before it, its month says which), in full: the three texts, the lead bureau, who and when."""
    keys = (
        "col_target", "month", "expl_progress", "expl_problems", "expl_next_steps", "col_bureau", "expl_by", "expl_at",
        "col_target_id",
    )  # fmt: skip
    ws = sheet(
        i18n.t("sheet_explanations", lang), [i18n.t(k, lang) for k in keys], [40, 12, 50, 50, 50, 24, 12, 18, 28]
    )
    explained = card[card["expl_period"].notna()]
    for r, row in enumerate(explained.to_dict("records"), start=1):
        text(ws, r, 0, row[f"name_{lang}"], f_wrap)
        text(ws, r, 1, fmt.month(row["expl_period"], lang))
        for c, field in enumerate(("expl_progress", "expl_problems", "expl_next_steps"), start=2):
            text(ws, r, c, row[field] or "", f_wrap)
        text(ws, r, 5, bureau_names.get(str(row["expl_bureau"]), row["expl_bureau"]))
        text(ws, r, 6, row["expl_by"])
        text(ws, r, 7, pd.Timestamp(row["expl_at"]).strftime("%Y-%m-%d %H:%M"))
        text(ws, r, 8, row["target_id"])
    ws.autofilter(0, 0, max(len(explained), 1), len(keys) - 1)


def _actions_sheet(
    sheet: Any,
    text: Any,
    f_wrap: Any,
    f_date: Any,
    actions: pd.DataFrame,
    names: dict[str, str],
    lang: Lang,
    bureau_names: dict[str, str],
) -> None:
    """督办事项: every follow-up action not closed (monitor.actions.open_actions, overdue first), with
    what is asked, the bureau, the due date, its state and the bureau's latest note."""
    keys = (
        "fa_col_id", "fa_col_target", "fa_col_bureau", "fa_col_asked", "fa_col_due", "fa_col_state",
        "fa_col_overdue", "fa_col_latest", "fa_col_opened_by", "col_target_id",
    )  # fmt: skip
    ws = sheet(i18n.t("fa_section", lang), [i18n.t(k, lang) for k in keys], [8, 40, 24, 50, 12, 12, 8, 50, 12, 28])
    for r, row in enumerate(actions.to_dict("records"), start=1):
        ws.write_number(r, 0, int(row["action_id"]))
        text(ws, r, 1, names.get(str(row["target_id"]), row["target_id"]), f_wrap)
        text(ws, r, 2, bureau_names.get(str(row["bureau_id"]), row["bureau_id"]))
        text(ws, r, 3, row["asked"], f_wrap)
        ws.write_datetime(r, 4, pd.Timestamp(row["due_date"]).to_pydatetime(), f_date)
        text(ws, r, 5, i18n.t(f"fa_state_{row['state']}", lang))
        text(ws, r, 6, i18n.t("fa_overdue_flag", lang) if row["overdue"] else "")
        text(ws, r, 7, row["latest_note"] or "", f_wrap)
        text(ws, r, 8, row["opened_by"])
        text(ws, r, 9, row["target_id"])
    ws.autofilter(0, 0, max(len(actions), 1), len(keys) - 1)


def write_workbook(
    path: Path | str,
    card: pd.DataFrame,
    units: pd.DataFrame,
    reporting: pd.DataFrame,
    *,
    lang: Lang = "zh",
    bureau_names: dict[str, str] | None = None,
    district_names: dict[str, str] | None = None,
    as_of: dt.date | None = None,
    assumed: dict[str, list[str]] | None = None,
    commitments: pd.DataFrame | None = None,
    actions: pd.DataFrame | None = None,
) -> Path:
    """Three sheets: the scorecard, the per-district figures and the reporting completeness; a fourth,
    承诺事项 / Commitments, when ``commitments`` (monitor.commitments.commitment_states) is given; 情况说明
    when the card carries explanations; 督办事项 when ``actions`` (monitor.actions.open_actions) is given.

    Numbers stay numbers (formatted, so they sum and sort in Excel); every text cell goes through
    ``safe_cell`` and ``write_string``, so text from uploads can never become a formula. ``assumed``
    (target id -> Target.assumed) fills the scorecard's 假设，待确认 column: what targets.yaml assumes
    for the target (基线、期限), empty when nothing is."""
    path = Path(path)
    assumed = assumed or {}
    bureau_names = bureau_names or {}
    district_names = district_names or {}

    def t(key: str) -> str:
        return i18n.t(key, lang)

    wb = xlsxwriter.Workbook(str(path), {"nan_inf_to_errors": True})
    wb.set_properties(
        {"title": i18n.t("brief_title", lang), "subject": "" if as_of is None else as_of.strftime("%Y-%m"),
         "author": "0477 monitor"}
    )  # fmt: skip
    base = {"font_name": CJK_FONT, "font_size": 10, "valign": "vcenter"}
    f_head = wb.add_format(
        {**base, "bold": True, "font_color": "#FFFFFF", "bg_color": "#2E3B4E", "text_wrap": True, "border": 1}
    )
    f_text = wb.add_format(base)
    f_wrap = wb.add_format({**base, "text_wrap": True})
    f_int = wb.add_format({**base, "num_format": "#,##0"})
    f_dec = wb.add_format({**base, "num_format": "#,##0.00"})
    f_pct = wb.add_format({**base, "num_format": "0%"})
    f_date = wb.add_format({**base, "num_format": "yyyy-mm-dd"})
    f_status = {
        s: wb.add_format({**base, "bold": True, "font_color": "#FFFFFF", "bg_color": c})
        for s, c in STATUS_COLORS.items()
    }

    def number(ws: Any, r: int, c: int, value: object) -> None:
        if value is None or pd.isna(value):  # type: ignore[arg-type]
            ws.write_blank(r, c, None, f_text)
            return
        x = float(value)  # type: ignore[arg-type]
        ws.write_number(r, c, x, f_int if x.is_integer() else f_dec)

    def text(ws: Any, r: int, c: int, value: object, fmt_: Any = None) -> None:
        ws.write_string(r, c, safe_cell(value), fmt_ or f_text)

    def sheet(name: str, header: list[str], widths: list[float]) -> Any:
        ws = wb.add_worksheet(name[:31])  # catalogue constants (an apostrophe may not start a sheet name)
        for c, h in enumerate(header):
            ws.write_string(0, c, safe_cell(h), f_head)
            ws.set_column(c, c, max(widths[c], min(_text_width(h) + 2, 40)))
        ws.set_row(0, 30)
        ws.freeze_panes(1, 0)
        return ws

    def status_cell(ws: Any, r: int, c: int, status: object) -> None:
        s = str(status)
        text(ws, r, c, i18n.status_label(s, lang) if s in STATUS_COLORS else s, f_status.get(s))

    # 计分卡
    header = [
        t("col_section"), t("col_target"), t("col_bureau"), t("unit"), t("col_actual"), t("col_goal"),
        t("col_deadline"), t("col_progress"), t("col_elapsed"), t("col_forecast"), t("col_status"), t("col_reason"),
        t("col_target_id"), t("col_assumed"), t("col_note"),
    ]  # fmt: skip
    ws = sheet(t("sheet_scorecard"), header, [8, 44, 24, 8, 12, 12, 12, 10, 10, 12, 12, 90, 30, 24, 40])
    for r, row in enumerate(card.to_dict("records"), start=1):
        text(ws, r, 0, row["section"])
        text(ws, r, 1, row[f"name_{lang}"], f_wrap)
        text(ws, r, 2, bureau_names.get(str(row["lead_bureau"]), row["lead_bureau"]))
        text(ws, r, 3, row[f"unit_{lang}"])
        number(ws, r, 4, row["actual"])
        number(ws, r, 5, row["target_value"])
        ws.write_datetime(r, 6, pd.Timestamp(row["deadline"]).to_pydatetime(), f_date)
        for c, key in ((7, "progress"), (8, "time_elapsed")):
            value = row[key]
            if value is None or pd.isna(value):
                ws.write_blank(r, c, None, f_text)
            else:
                ws.write_number(r, c, float(value), f_pct)
        number(ws, r, 9, row["forecast"])
        status_cell(ws, r, 10, row["status"])
        text(ws, r, 11, row[f"reason_{lang}"], f_wrap)
        text(ws, r, 12, row["target_id"])
        items = fmt.assumed_items(assumed.get(str(row["target_id"]), []), lang)
        if items:
            text(ws, r, 13, items)
        else:
            ws.write_blank(r, 13, None, f_text)
        text(ws, r, 14, row.get("note") or "", f_wrap)  # the 备注 of the city figure (etl.notes)
    ws.autofilter(0, 0, max(len(card), 1), len(header) - 1)

    # 分旗区
    names = dict(zip(card["target_id"], card[f"name_{lang}"], strict=True))
    sections = dict(zip(card["target_id"], card["section"], strict=True))
    header = [
        t("col_section"), t("col_target"), t("col_district"), t("unit"), t("col_actual"), t("col_district_goal"),
        t("col_progress"), t("col_status"), t("col_reason"), t("col_target_id"), t("col_district_id"), t("col_note"),
    ]  # fmt: skip
    ws = sheet(t("sheet_districts"), header, [8, 44, 16, 8, 12, 12, 10, 12, 90, 30, 14, 40])
    for r, row in enumerate(units.to_dict("records"), start=1):
        tid = row["target_id"]
        text(ws, r, 0, sections.get(tid, row.get("section", "")))
        text(ws, r, 1, names.get(tid, row.get(f"name_{lang}", tid)), f_wrap)
        text(ws, r, 2, district_names.get(str(row["district_id"]), row["district_id"]))
        text(ws, r, 3, row[f"unit_{lang}"])
        number(ws, r, 4, row["actual"])
        number(ws, r, 5, row["target_value"])  # a district row's target is already its share (progress.scorecard)
        value = row["progress"]
        if value is None or pd.isna(value):
            ws.write_blank(r, 6, None, f_text)
        else:
            ws.write_number(r, 6, float(value), f_pct)
        status_cell(ws, r, 7, row["status"])
        text(ws, r, 8, row[f"reason_{lang}"], f_wrap)
        text(ws, r, 9, tid)
        text(ws, r, 10, row["district_id"])
        text(ws, r, 11, row.get("note") or "", f_wrap)  # the 备注 of the district's figure
    ws.autofilter(0, 0, max(len(units), 1), len(header) - 1)

    # 报送情况
    header = [
        t("col_bureau"), t("expected_reports"), t("received_reports"), t("on_time_reports"), t("completeness"),
        t("timeliness"), t("brief_missing_count"), t("brief_missing_months"),
    ]  # fmt: skip
    ws = sheet(t("sheet_reporting"), header, [28, 8, 8, 8, 12, 12, 10, 60])
    for r, row in enumerate(reporting.to_dict("records"), start=1):
        text(ws, r, 0, row["bureau"])
        for c, key in ((1, "expected"), (2, "received"), (3, "on_time"), (6, "missing_count")):
            ws.write_number(r, c, int(row[key]), f_int)
        ws.write_number(r, 4, float(row["completeness"]), f_pct)
        ws.write_number(r, 5, float(row["timeliness"]), f_pct)
        text(ws, r, 7, row["missing_months"], f_wrap)
    ws.autofilter(0, 0, max(len(reporting), 1), len(header) - 1)

    if commitments is not None:
        _commitments_sheet(sheet, text, f_wrap, commitments, lang, bureau_names)
    if "expl_period" in card.columns:  # the card of monitor.briefing.data.collect
        _explanations_sheet(sheet, text, f_wrap, card, lang, bureau_names)
    if actions is not None:
        _actions_sheet(sheet, text, f_wrap, f_date, actions, names, lang, bureau_names)
    wb.close()
    return path
