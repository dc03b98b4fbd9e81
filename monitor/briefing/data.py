"""Reading what a briefing shows: the selected targets, their district rows and the reporting
summary per bureau (rates from monitor.reporting, the bureaus page's definition)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

import duckdb
import pandas as pd

from monitor import explanations, fmt, progress, queries, reminders, reporting, review
from monitor.actions import open_actions
from monitor.briefing.model import BriefingData, BriefingError
from monitor.commitments import commitment_states
from monitor.i18n import Lang
from monitor.progress.changes import changes as target_changes
from monitor.progress.changes import totals as change_totals
from monitor.targets import TargetsConfig

REPORTING_COLUMNS = [
    "bureau_id", "bureau", "expected", "received", "on_time", "completeness", "timeliness",
    "missing_count", "missing_months", "missing_periods",
]  # fmt: skip


def _as_list(values: Iterable[str] | str | None) -> list[str] | None:
    if values is None:
        return None
    if isinstance(values, str):
        values = [values]
    out = [v.strip() for v in values if v and v.strip()]
    return out or None


def select_targets(
    card: pd.DataFrame,
    *,
    sections: Iterable[str] | str | None = None,
    bureaus: Iterable[str] | str | None = None,
    targets: Iterable[str] | str | None = None,
) -> pd.DataFrame:
    """The scorecard rows matching every given filter (each a list; None or empty = no filter).

    Unknown values are an error rather than an empty briefing: a typo in a section or an id on the
    command line should say so, not print a deck without the target someone asked for."""
    out = card
    for column, wanted in (("section", sections), ("lead_bureau", bureaus), ("target_id", targets)):
        values = _as_list(wanted)
        if values is None:
            continue
        unknown = sorted(set(values) - set(card[column]))
        if unknown:
            options = list(dict.fromkeys(card[column]))
            known = "、".join(options[:12]) + (f"…（{len(options)}）" if len(options) > 12 else "")
            raise BriefingError(f"未知的{column} / unknown {column}: {', '.join(unknown)}；可选 / known: {known}")
        out = out[out[column].isin(values)]
    if out.empty:
        raise BriefingError("没有符合筛选条件的目标 / no target matches the filters")
    return out


def _month_ranges(periods: Sequence[dt.date], lang: Lang) -> str:
    """[2025-03, 2025-04, 2025-05, 2025-09] -> 2025年3月–2025年5月、2025年9月 (a long list of months
    would not fit a slide cell; consecutive runs are what a reader wants anyway)."""
    months = sorted({p.year * 12 + p.month - 1 for p in periods})
    runs: list[tuple[int, int]] = []
    for m in months:
        if runs and m == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], m)
        else:
            runs.append((m, m))
    parts = []
    for first, last in runs:
        first_label = fmt.month(dt.date(first // 12, first % 12 + 1, 1), lang)
        last_label = fmt.month(dt.date(last // 12, last % 12 + 1, 1), lang)
        parts.append(first_label if first == last else f"{first_label}–{last_label}")
    return ("、" if lang == "zh" else ", ").join(parts)


def reporting_summary(status: pd.DataFrame, bureau_names: dict[str, str], lang: Lang) -> pd.DataFrame:
    """queries.reporting_status (one row per bureau and month) to one row per bureau: the counts and
    rates of monitor.reporting.by_bureau (what the bureaus page shows), the bureau's name and the
    months not received."""
    if status.empty:
        return pd.DataFrame(columns=REPORTING_COLUMNS)
    rates = reporting.by_bureau(status)
    rows = []
    for bureau_id, part in status.groupby("bureau_id", sort=True):
        missing = [pd.Timestamp(p).date() for p in part.loc[~part["received"].astype(bool), "period"]]
        rate = rates.loc[bureau_id]
        rows.append(
            {
                "bureau_id": bureau_id,
                "bureau": bureau_names.get(str(bureau_id), str(bureau_id)),
                "expected": int(rate["expected"]),
                "received": int(rate["received"]),
                "on_time": int(rate["on_time"]),
                "completeness": float(rate["completeness"]),
                "timeliness": float(rate["timeliness"]),
                "missing_count": len(missing),
                "missing_months": _month_ranges(missing, lang),
                "missing_periods": missing,
            }
        )
    return pd.DataFrame(rows, columns=REPORTING_COLUMNS)


def collect(
    con: duckdb.DuckDBPyConnection,
    cfg: TargetsConfig,
    as_of: dt.date | str,
    *,
    sections: Iterable[str] | str | None = None,
    bureaus: Iterable[str] | str | None = None,
    targets: Iterable[str] | str | None = None,
    lang: Lang = "zh",
    full: bool = False,
) -> BriefingData:
    """Read what the briefing shows. Without filters the reporting sheet covers every bureau; with
    filters, the bureaus leading the selected targets (those whose reports the meeting discusses).
    The gaps slide is always the app's whole 催报 list for the month (``gaps``)."""
    as_of = progress.month_start(as_of)
    card = progress.scorecard(con, as_of, cfg=cfg)
    chosen = select_targets(card, sections=sections, bureaus=bureaus, targets=targets).reset_index(drop=True)
    ids = list(chosen["target_id"])
    units = progress.scorecard(con, as_of, cfg=cfg, all_units=True)
    units = units[units["target_id"].isin(ids) & ~units["is_aggregate"].astype(bool)].reset_index(drop=True)
    chosen = _with_explanations(con, chosen, as_of)
    chosen, units = _with_notes(con, chosen, as_of, "city"), _with_notes(con, units, as_of, None)
    bureau_ref = queries.reference(con, "bureaus")
    district_ref = queries.reference(con, "districts")
    bureau_names = dict(zip(bureau_ref["bureau_id"], bureau_ref[f"name_{lang}"], strict=True))
    district_names = dict(zip(district_ref["district_id"], district_ref[f"name_{lang}"], strict=True))
    status = queries.reporting_status(con, cfg.policy.start, as_of, cfg.reporting.due_day)
    if any(_as_list(f) for f in (sections, bureaus, targets)):
        status = status[status["bureau_id"].isin(set(chosen["lead_bureau"]))]
    changed = month_changes(con, cfg, as_of, ids)
    return BriefingData(
        as_of=as_of,
        lang=lang,
        card=chosen,
        units=units,
        reporting=reporting_summary(status, bureau_names, lang),
        bureau_names=bureau_names,
        district_names=district_names,
        demo=queries.is_demo(con),
        pending=review.including_pending(con),
        generated_at=dt.datetime.now().replace(microsecond=0),
        targets={t.id: t for t in cfg.targets if t.id in set(ids)},
        commitments=_commitments(
            con, cfg, as_of, chosen, bureaus, filtered=any(_as_list(f) for f in (sections, bureaus, targets))
        ),
        full=full,
        changes=changed,
        change_totals=change_totals(con, as_of, cfg, changed),
        actions=open_actions(con, ids),
        gaps=gaps(con, cfg, as_of),
    )


def month_changes(con: duckdb.DuckDBPyConnection, cfg: TargetsConfig, as_of: dt.date, ids: list[str]) -> pd.DataFrame:
    """monitor.progress.changes for the selected targets."""
    frame = target_changes(con, as_of, cfg)
    return frame[frame["target_id"].isin(ids)].reset_index(drop=True)


def gaps(con: duckdb.DuckDBPyConnection, cfg: TargetsConfig, as_of: dt.date) -> list[reminders.OpenReport]:
    """The reporting gaps of ``as_of``'s month: monitor.reminders.open_reports, the function behind the
    data-quality and bureaus pages' 催报 list, asked on the day after the month's due day (the first
    day on which ``as_of`` is the reporting month), so deck and app list the same bureaus."""
    return reminders.open_reports(con, cfg, reminders.due_date(as_of, cfg) + dt.timedelta(days=1))


def _commitments(
    con: duckdb.DuckDBPyConnection,
    cfg: TargetsConfig,
    as_of: dt.date,
    chosen: pd.DataFrame,
    bureaus: Iterable[str] | str | None,
    *,
    filtered: bool,
) -> pd.DataFrame:
    """Every commitment without filters; with filters, those of the selected targets' sections (led
    by the chosen bureaus when a bureau filter is given): the meeting discusses those sections."""
    frame = commitment_states(con, cfg, as_of)
    if not filtered:
        return frame
    keep = frame["section"].isin(set(chosen["section"]))
    chosen_bureaus = _as_list(bureaus)
    if chosen_bureaus is not None:
        keep &= frame["lead"].isin(chosen_bureaus)
    return frame[keep].reset_index(drop=True)


# the explanation columns a briefing's card carries (None / NaT where a target has no explanation)
EXPLANATION_COLUMNS = {
    "period": "expl_period", "progress": "expl_progress", "problems": "expl_problems",
    "next_steps": "expl_next_steps", "bureau_id": "expl_bureau", "user_name": "expl_by", "saved_at": "expl_at",
}  # fmt: skip


def _with_explanations(con: duckdb.DuckDBPyConnection, card: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    """The card with each target's explanation in force for the month (or the newest before it;
    ``expl_period`` says which): the slide's text box and the workbook's 情况说明 sheet."""
    latest = explanations.latest(con, list(card["target_id"]), as_of)
    picked = latest[["target_id", *EXPLANATION_COLUMNS]].rename(columns=EXPLANATION_COLUMNS)
    return card.merge(picked, on="target_id", how="left")


def _with_notes(
    con: duckdb.DuckDBPyConnection, frame: pd.DataFrame, as_of: dt.date, district: str | None
) -> pd.DataFrame:
    """The rows with ``note``: the 备注 of their KPI's figure for the month ("" when none). A district
    row takes its district's note; a target row (``district`` "city") the note of the city figure."""
    notes = explanations.figure_notes(con, list(frame["kpi_id"]), as_of)
    keys = frame["district_id"] if district is None else pd.Series(district, index=frame.index)
    by_figure = dict(zip(zip(notes["kpi_id"], notes["district_id"], strict=True), notes["note"], strict=True))
    return frame.assign(note=[by_figure.get((k, d), "") for k, d in zip(frame["kpi_id"], keys, strict=True)])
