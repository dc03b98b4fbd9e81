"""情况说明: what the lead bureau says about a target for a month (进展情况 / 存在问题 / 下步措施), and
the 备注 the bureaus wrote beside their figures.

A status says *that* a target is behind; the explanation says why and what the bureau will do, the
PMDU-style narrative leadership reads beside it. Rules, all checked here on the server (the page only
hides what a user may not do):

- only the lead bureau's reporters (``cfg.kpi_by_id[target.kpi].lead``) and admins write for a target;
- each text is at most MAX_TEXT characters, and an explanation with all three empty is refused;
- explanations are append-only: every save is a new row (its ``explanation_id`` is its version), the
  newest of a target and month is the one in force, the earlier ones stay; every save is audited;
- an explanation is *required* for a month when the target's status as of that month is at risk, off
  track or overdue (REQUIRED_STATUSES). That status is judged on the figures in the warehouse when the
  report is submitted, i.e. before the new report's figures: the month's status as leadership sees it
  while the bureau writes, not the one the new figures may bring.

Texts are plain text: stored as typed (ends trimmed) and shown by every view as text, never Markdown.
No streamlit here: the pages, the briefing and the tests share it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import duckdb
import pandas as pd

from monitor import db, fmt, i18n, progress
from monitor.auth import User
from monitor.targets import Target, TargetsConfig

MAX_TEXT = 500
FIELDS: tuple[str, ...] = ("progress", "problems", "next_steps")  # the columns, in the order shown
REQUIRED_STATUSES: tuple[str, ...] = ("at_risk", "off_track", "overdue")
SHORT_TEXT = 60  # characters of 进展情况 beside a status (overview) or on a slide line

COLUMNS = [
    "explanation_id", "bureau_id", "target_id", "period", "progress", "problems", "next_steps", "user_name",
    "saved_at",
]  # fmt: skip


class ExplanationError(i18n.CatalogueError):
    """A refused explanation; the text is in the i18n catalogue (key and params)."""


@dataclass(frozen=True)
class Required:
    """A target of the bureau that needs an explanation for the month, and why (its status then)."""

    target_id: str
    name_zh: str
    name_en: str
    status: str


def _target(cfg: TargetsConfig, target_id: str) -> Target:
    found = next((t for t in cfg.targets if t.id == target_id), None)
    if found is None:
        raise ExplanationError("expl_unknown_target", target=target_id)
    return found


def lead_of(cfg: TargetsConfig, target_id: str) -> str:
    """The bureau that writes a target's explanations: the lead bureau of its KPI."""
    return cfg.kpi_by_id[_target(cfg, target_id).kpi].lead


def may_write(user: User, cfg: TargetsConfig, target_id: str) -> bool:
    """The lead bureau's reporters and the admins (active accounts only)."""
    return user.active and (
        user.role == "admin" or (user.role == "reporter" and user.bureau_id == lead_of(cfg, target_id))
    )


def save(
    con: duckdb.DuckDBPyConnection,
    cfg: TargetsConfig,
    user: User,
    target_id: str,
    period: dt.date | pd.Timestamp | str,
    progress_text: str,
    problems: str,
    next_steps: str,
) -> int:
    """Append an explanation of ``target_id`` for the month of ``period``; returns its id (the version).

    Refused (ExplanationError) for an unknown target, a user outside the lead bureau (admins excepted),
    a text over MAX_TEXT characters, all three texts empty, and a month before the policy or not yet
    begun. The newest explanation of a target and month is the one in force; earlier ones stay."""
    lead = lead_of(cfg, target_id)
    if not may_write(user, cfg, target_id):
        bureau = cfg.bureau_by_id[lead]
        raise ExplanationError("expl_not_allowed", bureau_zh=bureau.name_zh, bureau_en=bureau.name_en)
    month = progress.month_start(period)
    first = progress.month_start(cfg.policy.start)
    if month < first or month > dt.date.today().replace(day=1):
        raise ExplanationError("expl_bad_month", month_zh=fmt.month(month, "zh"), month_en=fmt.month(month, "en"))
    texts = [str(text or "").strip() for text in (progress_text, problems, next_steps)]
    for field, text in zip(FIELDS, texts, strict=True):
        if len(text) > MAX_TEXT:
            raise ExplanationError(
                "expl_too_long",
                field_zh=i18n.t(f"expl_{field}", "zh"),
                field_en=i18n.t(f"expl_{field}", "en"),
                max=MAX_TEXT,
                length=len(text),
            )
    if not any(texts):
        raise ExplanationError("expl_empty")
    with db.transaction(con):
        explanation_id = db.next_id(con, "explanation_seq")
        con.execute(
            "insert into explanations values (?, ?, ?, ?, ?, ?, ?, ?, now())",
            [explanation_id, lead, target_id, month, *texts, user.user_name],
        )
        db.audit(
            con,
            user.user_name,
            "explanation_save",
            {"explanation_id": explanation_id, "target": target_id, "bureau": lead, "period": month.isoformat()},
        )
    return explanation_id


def latest(
    con: duckdb.DuckDBPyConnection, target_ids: Sequence[str], period: dt.date | pd.Timestamp | str
) -> pd.DataFrame:
    """Per target, the explanation in force for the month of ``period`` or, without one, the newest of
    an earlier month (its ``period`` says which): COLUMNS, one row per target that has any."""
    ids = list(dict.fromkeys(target_ids))
    if not ids:
        return pd.DataFrame(columns=COLUMNS)
    month = progress.month_start(period)
    columns = ", ".join(COLUMNS)  # constants
    return con.execute(
        f"""
        select {columns}
        from explanations
        where target_id in (select unnest(?::varchar[])) and period <= ?
        qualify row_number() over (partition by target_id order by period desc, explanation_id desc) = 1
        order by target_id
        """,
        [ids, month],
    ).df()[COLUMNS]


def history(con: duckdb.DuckDBPyConnection, target_id: str) -> pd.DataFrame:
    """A target's explanations by month, newest month first: the one in force for each month, with
    ``versions``, how many were saved for that month (the earlier ones stay in the table)."""
    columns = ", ".join(COLUMNS)  # constants
    return con.execute(
        f"""
        select {columns}, count(*) over (partition by period) as versions
        from explanations
        where target_id = ?
        qualify row_number() over (partition by period order by explanation_id desc) = 1
        order by period desc
        """,
        [target_id],
    ).df()[[*COLUMNS, "versions"]]


def required(
    con: duckdb.DuckDBPyConnection,
    cfg: TargetsConfig,
    bureau_id: str,
    period: dt.date | pd.Timestamp | str,
    scorecard: pd.DataFrame | None = None,
) -> list[Required]:
    """The bureau's targets that need an explanation for the month of ``period`` and have none saved
    for that very month: those whose status as of the month is in REQUIRED_STATUSES.

    The status is monitor.progress.scorecard as of the month on the figures in the warehouse now, i.e.
    before the report being submitted; ``scorecard`` may pass that frame (the pages' cached one)."""
    month = progress.month_start(period)
    card = progress.scorecard(con, month, cfg=cfg) if scorecard is None else scorecard
    mine = {t.id for t in cfg.targets if cfg.kpi_by_id[t.kpi].lead == bureau_id}
    behind = card[card["target_id"].isin(mine) & card["status"].isin(REQUIRED_STATUSES)]
    if behind.empty:
        return []
    written = {
        str(row[0])
        for row in con.execute(
            "select distinct target_id from explanations"
            " where period = ? and target_id in (select unnest(?::varchar[]))",
            [month, list(behind["target_id"])],
        ).fetchall()
    }
    return [
        Required(str(r["target_id"]), str(r["name_zh"]), str(r["name_en"]), str(r["status"]))
        for r in behind.to_dict("records")
        if r["target_id"] not in written
    ]


def short(text: object, limit: int = SHORT_TEXT) -> str:
    """A text cut to ``limit`` characters ("…" marks the cut), on one line: beside a status or on a slide."""
    flat = " ".join(str(text or "").split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def lines(row: Mapping[str, object], lang: i18n.Lang, limit: int = SHORT_TEXT) -> list[tuple[str, str]]:
    """(label, text) of an explanation's non-empty texts, each cut to ``limit``: the slide's three lines."""
    return [
        (i18n.t(f"expl_{field}", lang), short(row.get(field), limit))
        for field in FIELDS
        if str(row.get(field) or "").strip()
    ]


def briefing_lines(row: Mapping[str, object], lang: i18n.Lang, bureau: str, limit: int = SHORT_TEXT) -> list[str]:
    """A target's explanation on its slide and PDF page, from the briefing card's ``expl_*`` columns
    (monitor.briefing.data): a heading naming the month and the bureau, then 进展情况 / 存在问题 /
    下步措施, one short line each; [] when the target has no explanation."""
    period = row.get("expl_period")
    if period is None or pd.isna(period):  # type: ignore[arg-type]
        return []
    labelled = lines({field: row.get(f"expl_{field}") for field in FIELDS}, lang, limit)
    if not labelled:
        return []
    sep = "：" if lang == "zh" else ": "
    heading = f"{i18n.t('expl_of_month', lang, month=fmt.month(period, lang))} · {bureau}"
    return [heading, *(f"{label}{sep}{text}" for label, text in labelled)]


def figure_notes(
    con: duckdb.DuckDBPyConnection, kpi_ids: Sequence[str], period: dt.date | pd.Timestamp | str
) -> pd.DataFrame:
    """The 备注 of the KPIs' current figures for the month: kpi_id, district_id, period, note,
    submission_id, one per figure. A note belongs to the figure in force when it came with the
    submission that set it or a later one that sent it again (a note of a replaced figure is not
    shown), from submissions leadership may see (approved; pending ones only on a cursor that includes
    them, as the views do; never returned ones); the newest such note wins."""
    ids = list(dict.fromkeys(kpi_ids))
    columns = ["kpi_id", "district_id", "period", "note", "submission_id"]
    if not ids:
        return pd.DataFrame(columns=columns)
    return con.execute(
        """
        select n.kpi_id, n.district_id, n.period, n.note, n.submission_id
        from observation_notes as n
        join submissions as s using (submission_id)
        join current_observations as c
          on c.kpi_id = n.kpi_id and c.district_id = n.district_id and c.period = n.period
         and n.submission_id >= c.submission_id
        where n.kpi_id in (select unnest(?::varchar[])) and n.period = ?
          and (s.review_status = 'approved'
               or (s.review_status = 'pending' and coalesce(getvariable('include_pending'), false)))
        qualify row_number() over (partition by n.kpi_id, n.district_id order by n.submission_id desc) = 1
        order by n.kpi_id, n.district_id
        """,
        [ids, progress.month_start(period)],
    ).df()[columns]
