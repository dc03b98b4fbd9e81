"""The 审核 pieces other pages draw: a submission's figures as the approver reads them, the reporter's
returned and pending submissions (upload page), the admin's approval switch per bureau (admin page) and
the open items of approvers and reporters (dashboard.open_items).

Every rule is monitor.review's; these functions only draw. Whatever a user typed (file names, user
names, comments, notes) is shown as text (fmt.plain) or inside a dataframe, never as Markdown.
"""

from __future__ import annotations

import datetime as dt
import re

import pandas as pd
import streamlit as st

from dashboard import data, ui, workflow
from dashboard.ui import T
from monitor import fmt, i18n, review
from monitor.auth import User


def when(value: object) -> str:
    """Minutes are enough: 2026-11-05 14:30 (— when not set)."""
    if value is None or pd.isna(value):
        return "—"
    return pd.Timestamp(value).strftime("%Y-%m-%d %H:%M")


def file_label(file_name: str) -> str:
    """What a clerk recognises a submission by: the uploaded file's own name, but for the files the app
    writes itself (etl.correct.correction_report, etl.entry.file_name) the fields and the month they
    carry ("更正：保障性租赁住房筹建套数，东胜区，2026年10月", "在线填报：2026年10月"), never the
    internal name. A name that only looks generated is shown as it is."""
    stem, _, suffix = file_name.rpartition(".")
    parts = stem.split("_")
    if suffix != "csv" or len(parts) < 3 or not re.fullmatch(r"\d{6}", parts[-1]):
        return file_name
    month = dt.date(int(parts[-1][:4]), int(parts[-1][4:]), 1) if 1 <= int(parts[-1][4:]) <= 12 else None
    if month is None:
        return file_name
    cfg = data.config()
    if parts[0] == "在线填报" and len(parts) == 3:
        return T("rv_file_entry", month=ui.month(month))
    if parts[0] != "更正":
        return file_name
    rest = "_".join(parts[1:-1])  # <kpi id>_<district id>; both may hold underscores
    for district_id, district in cfg.district_by_id.items():
        kpi = cfg.kpi_by_id.get(rest.removesuffix("_" + district_id)) if rest.endswith("_" + district_id) else None
        if kpi is not None:
            lang = ui.lang()
            return T(
                "rv_file_correction",
                kpi=i18n.name(kpi, lang),
                district=i18n.name(district, lang),
                month=ui.month(month),
            )
    return file_name


def submission_line(row: pd.Series) -> str:
    """第12号报送 · housing_2026-10.xlsx · housing · 2026-11-05 14:30 · 30行, as text."""
    return fmt.plain(
        T("rv_line", sid=int(row["submission_id"]), file=file_label(str(row["file_name"])), user=row["user_name"],
          when=when(row["submitted_at"]), rows=int(row["rows_loaded"]))
    )  # fmt: skip


def figures_table(frame: pd.DataFrame) -> pd.DataFrame:
    """review.figures as the approver reads it: KPI and district names, the month, the figure and the
    approved figure in force with units (— when the figure is new), the bureau's note."""
    cfg = data.config()
    lang = ui.lang()
    rows = []
    for r in frame.itertuples(index=False):
        kpi = cfg.kpi_by_id.get(r.kpi_id)
        district = cfg.district_by_id.get(r.district_id)
        unit_zh, unit_en = (kpi.unit_zh, kpi.unit_en) if kpi else ("", "")
        rows.append(
            {
                T("tc_kpi"): i18n.name(kpi, lang) if kpi else r.kpi_id,
                T("col_district"): i18n.name(district, lang) if district else r.district_id,
                T("month"): ui.month(r.period),
                T("value"): fmt.figure(r.value, unit_zh, unit_en, lang),
                T("rv_approved_value"): fmt.figure(r.approved_value, unit_zh, unit_en, lang),
                T("rv_note"): "" if r.note is None or pd.isna(r.note) else str(r.note),
            }
        )
    columns = [T(k) for k in ("tc_kpi", "col_district", "month", "value", "rv_approved_value", "rv_note")]
    return pd.DataFrame(rows, columns=columns)


def newest_returned(frame: pd.DataFrame) -> pd.DataFrame:
    """Returned submissions, the most recently returned first (not by submission number)."""
    return frame.sort_values("reviewed_at", ascending=False, kind="stable")


def returned_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Returned submissions with who returned them, when, and the comment; the latest return first."""
    frame = newest_returned(frame)
    return pd.DataFrame(
        {
            T("tc_submission_id"): frame["submission_id"].astype(int),
            T("tc_file_name"): [file_label(str(name)) for name in frame["file_name"]],
            T("user_name"): frame["user_name"],
            T("tc_submitted_at"): [when(v) for v in frame["submitted_at"]],
            T("rv_reviewed_by"): frame["reviewed_by"].fillna(""),
            T("rv_reviewed_at"): [when(v) for v in frame["reviewed_at"]],
            T("rv_comment_col"): frame["review_comment"].fillna(""),
        }
    )


def _months(submission_id: int) -> str:
    return T("list_sep").join(ui.month(m) for m in workflow.submission_months(submission_id))


SHOWN_RETURNED = 5  # the newest returned submissions listed to the reporter (all are on the review page)


def reporter_section(bureau_id: str) -> None:
    """On the upload page, before the tabs: the bureau's newest returned submissions with the approver's
    comment, and those still pending (待审核); nothing at all when there is neither."""
    if not bureau_id:
        return
    returned = newest_returned(workflow.review_queue(bureau_id, review.RETURNED)).head(SHOWN_RETURNED)
    waiting = workflow.review_queue(bureau_id, review.PENDING)
    if not returned.empty:
        lines = [
            fmt.plain(
                T(
                    "rv_returned_line",
                    file=file_label(str(r["file_name"])),
                    months=_months(int(r["submission_id"])),
                    approver=r["reviewed_by"] or "—",
                    when=when(r["reviewed_at"]),
                    comment=r["review_comment"] or "",
                )
            )
            for _, r in returned.iterrows()
        ]
        st.warning(f"**{T('rv_returned_title')}**\n\n" + "\n\n".join(lines), icon=":material/undo:")
    if not waiting.empty:
        lines = [
            fmt.plain(
                T(
                    "rv_pending_line",
                    file=file_label(str(r["file_name"])),
                    months=_months(int(r["submission_id"])),
                    when=when(r["submitted_at"]),
                )
            )
            for _, r in waiting.iterrows()
        ]
        st.info("\n\n".join(lines), icon=":material/pending_actions:")


def approval_settings(user: User) -> None:
    """The admin's switch per bureau: 需要审核 on (the default) or off (submissions count on submit)."""
    st.subheader(T("adm_review_title"))
    st.caption(T("adm_review_help"))
    lang = ui.lang()
    for bureau in data.config().bureaus:
        required = workflow.approval_required(bureau.id)
        wanted = st.checkbox(
            f"{i18n.name(bureau, lang)} · {T('adm_review_required')}", value=required, key=f"adm_review_{bureau.id}"
        )
        if wanted != required:
            try:
                workflow.set_approval_required(user, bureau.id, wanted)
            except review.ReviewError as exc:
                st.error(fmt.plain(exc.text(lang)))
            else:
                state = T("adm_review_on" if wanted else "adm_review_off")
                st.success(T("adm_review_saved", bureau=i18n.name(bureau, lang), state=state))


# -- open items (dashboard.open_items.SOURCES)


def pending_items(user: User, lang: i18n.Lang) -> list[str]:
    """An approver's bureau's submissions waiting for review: "2项待审核"."""
    if user.role != "approver" or not user.bureau_id:
        return []
    waiting = len(workflow.review_queue(user.bureau_id, review.PENDING))
    return [i18n.t("rv_open_pending", lang, n=waiting)] if waiting else []


def returned_items(user: User, lang: i18n.Lang) -> list[str]:
    """A reporter's submissions returned since the bureau last submitted: "1项被退回"."""
    if user.role != "reporter" or not user.bureau_id:
        return []
    returned = workflow.returned_open(user.bureau_id)
    return [i18n.t("rv_open_returned", lang, n=returned)] if returned else []
