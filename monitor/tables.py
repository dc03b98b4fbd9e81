"""Record tables (submissions, warnings, rejected rows, the audit log) as users read them.

The queries return warehouse columns (bureau_id, submitted_at, reason_zh, …); a civil servant should
see 责任单位 with the bureau's name, 2026年10月 rather than 2026-10-01, 已导入 rather than accepted. One
pure function does that for every page, so the same column reads the same everywhere. No streamlit.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from monitor import fmt, i18n

# warehouse column -> catalogue key of its header (columns keep the order the query gives them)
COLUMN_KEYS: dict[str, str] = {
    "submission_id": "tc_submission_id",
    "event_id": "tc_event_id",
    "submitted_at": "tc_submitted_at",
    "logged_at": "tc_logged_at",
    "bureau_id": "f_bureau",
    "user_name": "user_name",
    "action": "tc_action",
    "file_name": "tc_file_name",
    "row": "up_row",
    "row_number": "up_row",
    "column_name": "up_column",
    "kpi_id": "tc_kpi",
    "district_id": "col_district",
    "period": "month",
    "value": "value",
    "rows_total": "tc_rows_total",
    "rows_loaded": "tc_rows_loaded",
    "rows_unchanged": "tc_rows_unchanged",
    "rows_rejected": "tc_rows_rejected",
    "outcome": "tc_outcome",
    "reason": "col_reason",  # a correction's reason as typed
    "note": "col_reason",  # a correction's reason, or why a file was rejected
    "revision": "tc_revision",
    "figures": "tc_figures",
    "revisions": "tc_revisions",
    "first_period": "tc_first_period",
    "last_period": "tc_last_period",
    "message": "tc_message",
    "reason_text": "up_reason",
    "received": "received_reports",
    "on_time": "on_time_reports",
    "due_date": "tc_due_date",
    "first_submitted_at": "tc_first_submitted_at",
    "detail": "tc_detail",
}

# columns held in both languages: the one of the user's language is kept, under the shared name
BILINGUAL = {"message": "message", "reason": "reason_text", "note": "note"}

IDS = ("bureau_id", "district_id", "kpi_id")
TIMESTAMPS = ("submitted_at", "logged_at", "first_submitted_at")
CODED = {"outcome": "outcome_", "action": "act_"}


def _timestamp(value: object) -> str:
    """Minutes are enough for an audit trail read by people: 2026-11-05 14:30."""
    if value is None or pd.isna(value):
        return "—"
    return pd.Timestamp(value).strftime("%Y-%m-%d %H:%M")


def _date(value: object, lang: i18n.Lang) -> str:
    if value is None or pd.isna(value):
        return "—"
    return fmt.date_zh(value) if lang == "zh" else pd.Timestamp(value).strftime("%d %b %Y")


def _coded(value: object, prefix: str, lang: i18n.Lang) -> object:
    key = f"{prefix}{value}"
    return i18n.t(key, lang) if key in i18n.CATALOGUE else value


def localise(frame: pd.DataFrame, lang: i18n.Lang, names: Mapping[str, Mapping[str, str]]) -> pd.DataFrame:
    """The frame with names for ids, months and minutes for dates, words for codes, and headers in lang.

    `names` maps an id column (bureau_id, district_id, kpi_id) to {id: name in lang}; an id without a
    name (a bureau since removed from targets.yaml) is shown as it is, never dropped. Columns this
    module does not know keep their name, so a new query column shows up rather than vanishing.
    """
    out = frame.copy()
    for base, shown in BILINGUAL.items():
        zh, en = f"{base}_zh", f"{base}_en"
        if zh in out.columns and en in out.columns:
            out[shown] = out[zh if lang == "zh" else en]
            out = out.drop(columns=[zh, en])
    for column in IDS:
        if column in out.columns:
            lookup = names.get(column, {})
            out[column] = [lookup.get(v, v) if isinstance(v, str) else "—" for v in out[column]]
    for column in ("period", "first_period", "last_period"):
        if column in out.columns:
            out[column] = [fmt.month(v, lang) if not pd.isna(v) else "—" for v in out[column]]
    for column in ("received", "on_time"):
        if column in out.columns:
            out[column] = out[column].map({True: "✔", False: "✘"})
    if "due_date" in out.columns:
        out["due_date"] = [_date(v, lang) for v in out["due_date"]]
    for column in TIMESTAMPS:
        if column in out.columns:
            out[column] = [_timestamp(v) for v in out[column]]
    for column, prefix in CODED.items():
        if column in out.columns:
            out[column] = [_coded(v, prefix, lang) for v in out[column]]
    for column in ("reason", "reason_text", "note", "column_name", "user_name", "detail"):
        if column in out.columns:
            out[column] = out[column].fillna("")
    if "detail" in out.columns:
        out["detail"] = out["detail"].replace("{}", "")  # an event with nothing more to say
    if "user_name" in out.columns:  # a failed sign-in with a name that has no account (monitor.auth)
        out["user_name"] = out["user_name"].replace("unknown account", i18n.t("user_unknown_account", lang))
    return out.rename(columns={c: i18n.t(k, lang) for c, k in COLUMN_KEYS.items() if c in out.columns})


def figure(value: float, unit_zh: str, unit_en: str, lang: i18n.Lang) -> str:
    """One reported figure as the pages show it: 1.5万套, 30%, 已完成 (fmt.figure)."""
    return fmt.figure(value, unit_zh, unit_en, lang)


def changes(
    frame: pd.DataFrame, kpis: Mapping[str, object], districts: Mapping[str, object], lang: i18n.Lang
) -> pd.DataFrame:
    """LoadResult.changes (kpi_id, district_id, period, old_value, new_value) as the clerk reads them:
    KPI and district names, 2026年10月, each figure with its unit. `kpis` / `districts` map ids to the
    config records (name_zh, name_en, unit_zh, unit_en); an unknown id is shown as it is."""
    rows = []
    for r in frame.itertuples(index=False):
        kpi = kpis.get(r.kpi_id)
        district = districts.get(r.district_id)
        unit_zh, unit_en = (getattr(kpi, "unit_zh", ""), getattr(kpi, "unit_en", "")) if kpi else ("", "")
        rows.append(
            [
                getattr(kpi, f"name_{lang}") if kpi else r.kpi_id,
                getattr(district, f"name_{lang}") if district else r.district_id,
                fmt.month(r.period, lang),
                figure(float(r.old_value), unit_zh, unit_en, lang),
                figure(float(r.new_value), unit_zh, unit_en, lang),
            ]
        )
    headers = [i18n.t(k, lang) for k in ("tc_kpi", "col_district", "month", "tc_old_value", "tc_new_value")]
    return pd.DataFrame(rows, columns=headers)


def change_lines(frame: pd.DataFrame, kpis: Mapping[str, object], districts: Mapping[str, object]) -> list[str]:
    """The same changes as lines for the command line: 指标 · 旗区 · 2026年10月：120套 → 135套."""
    shown = changes(frame, kpis, districts, "zh")
    return [
        f"{kpi} · {district} · {month}：{old} → {new}"
        for kpi, district, month, old, new in shown.itertuples(index=False)
    ]
