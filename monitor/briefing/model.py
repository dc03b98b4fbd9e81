"""What a briefing is made of: the data read once from the warehouse, and the files a run wrote.

``BriefingData`` carries the selected targets and speaks the monitor's one vocabulary (monitor.fmt):
the deck, the PDF and the workbook format months, figures, percentages and statuses through it, so a
number reads the same on every output and on screen.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from monitor import export_safe, fmt, i18n
from monitor.briefing.layout import paginate
from monitor.i18n import Lang
from monitor.style import STATUS_ORDER

if TYPE_CHECKING:
    from monitor.reminders import OpenReport
    from monitor.targets import Target

ProgressCallback = Callable[[int, int, str], None]

CJK_FONT = "Noto Sans CJK SC"  # set on every PowerPoint run (latin and east-asian) and workbook cell
WORST_N = 10  # rows of the "needs attention" table on the summary slide and page
# the statuses that put a target in the default pack (with any target worse than last month)
ATTENTION_STATUSES = ("off_track", "overdue", "at_risk")
GAP_KPI_CHARS = 60  # the KPIs a bureau has not reported, on the gaps slide: about 3 lines of the column
APPENDIX_ROWS = 15  # appendix rows per slide / page at most (one-line rows at 11 pt); fewer when names wrap

# the one rule for every exported file (monitor.export_safe): text starting = + - @ gets a quote
safe_cell = export_safe.safe_cell


def direction_mark(direction: str | None) -> str:
    """fmt.direction_mark (the overview's marks: ↑ better or achieved, ↓ worse); "" without a change."""
    return "" if direction is None else fmt.direction_mark(direction)


APPENDIX_KEYS = ("col_section", "col_target", "col_status", "col_actual", "col_goal", "col_bureau")


def appendix_page_count(card: pd.DataFrame, lang: Lang, bureau_names: dict[str, str]) -> int:
    """How many appendix slides a pack of ``card``'s targets gets, before it is built (the briefing
    page's slide count): the names and the bureaus are what wrap; status and figures fit one line."""
    header = [i18n.t(k, lang) for k in APPENDIX_KEYS]
    rows = [
        [str(r["section"]), str(r[f"name_{lang}"]), "", "", "", str(bureau_names.get(r["lead_bureau"], ""))]
        for r in card.to_dict("records")
    ]
    return len(paginate(header, rows, APPENDIX_ROWS)) if rows else 0


class BriefingError(RuntimeError):
    """A briefing could not be built (no browser, nothing selected, a render failed)."""


@dataclass(frozen=True)
class ChartFile:
    """One rendered chart: ``key`` is the target id, or "summary" for the status chart."""

    key: str
    title: str
    png: Path
    svg: Path


@dataclass
class BriefingResult:
    """The files one run wrote (all inside ``out_dir``) and how long the steps took: ``timings`` has
    collect_s, figures_built_at_s and browser_ready_at_s (from the start: they overlap), charts_s
    (browser ready to last chart), pdf_s, deck_s and workbook_s (concurrent) and total_s."""

    out_dir: Path
    as_of: dt.date
    lang: Lang
    target_ids: list[str]
    charts: list[ChartFile]
    deck: Path
    pdf: Path
    workbook: Path
    charts_zip: Path
    timings: dict[str, float] = field(default_factory=dict)
    full: bool = False  # the full deck (one slide per target) rather than the exception-first pack

    @property
    def paths(self) -> list[Path]:
        """Every file written: the deck, the PDF, the workbook, the zip, then each chart's PNG and SVG."""
        files = [self.deck, self.pdf, self.workbook, self.charts_zip]
        for c in self.charts:
            files += [c.png, c.svg]
        return files


@dataclass(frozen=True)
class BriefingData:
    """Everything the outputs show, read once from the warehouse.

    ``card``: the selected targets' scorecard rows, in policy order; ``units``: their rows per
    reporting district; ``reporting``: one row per bureau (expected, received, on time, rates and the
    months missing). Each target's chart lines (progress.series) are read as its chart is built."""

    as_of: dt.date
    lang: Lang
    card: pd.DataFrame
    units: pd.DataFrame
    reporting: pd.DataFrame
    bureau_names: dict[str, str]
    district_names: dict[str, str]
    demo: bool
    generated_at: dt.datetime
    # the selected targets as targets.yaml reads them (baseline, 左右 range, milestones, what is assumed)
    targets: dict[str, Target] = field(default_factory=dict)
    # the commitments without a milestone of the selected sections (monitor.commitments.commitment_states)
    commitments: pd.DataFrame = field(default_factory=pd.DataFrame)
    # figures pending review are counted (the leader's labelled choice, monitor.review.including_pending)
    pending: bool = False
    # True: one slide per selected target in policy order (the full deck); False: the exception-first
    # pack (only the targets needing attention get a slide, then the gaps and the appendix)
    full: bool = False
    # monitor.progress.changes.changes for the card's targets; None in data built by hand (tests)
    changes: pd.DataFrame | None = None
    # monitor.progress.changes.totals of those rows: the counts the overview's 本月变化 panel opens with
    change_totals: dict[str, int] | None = None
    # monitor.actions.open_actions for the card's targets; None in data built by hand (tests)
    actions: pd.DataFrame | None = None
    # the reporting month's missing and late reports: monitor.reminders.open_reports, the app's 催报 list
    gaps: list[OpenReport] = field(default_factory=list)

    def t(self, key: str, **kwargs: object) -> str:
        return i18n.t(key, self.lang, **kwargs)

    def month(self, value: object) -> str:
        return fmt.month(value, self.lang)

    @property
    def as_of_label(self) -> str:
        return f"{self.t('as_of')} {self.month(self.as_of)}"

    @property
    def sep(self) -> str:
        """The label separator: full-width colon in Chinese."""
        return "：" if self.lang == "zh" else ": "

    @property
    def note(self) -> str:
        """The footer of every slide and page after the cover: source, month, the demo warning, and
        含待审核数据 when figures not yet approved are counted."""
        pending = f" · {self.t('brief_pending')}" if self.pending else ""
        demo = f" · {self.t('brief_demo')}" if self.demo else ""
        return f"{self.t('data_source')} · {self.as_of_label}{pending}{demo}"

    def bureau(self, bureau_id: str) -> str:
        return self.bureau_names.get(bureau_id, bureau_id)

    def status_text(self, status: str) -> str:
        return fmt.status(status, self.lang)

    def number(self, value: object, row: dict[str, Any]) -> str:
        """A figure in the row's unit the way every view shows it (1.5万套, 已完成 for milestones)."""
        return fmt.figure(value, str(row.get("unit_zh", "")), str(row.get("unit_en", "")), self.lang)

    def figures(self, row: dict[str, Any]) -> list[tuple[str, str]]:
        """The figures beside a target's chart, the same on its slide and its PDF page."""
        return [
            (self.t("col_actual"), self.number(row["actual"], row)),
            (self.t("col_goal"), self.number(row["target_value"], row)),
            (self.t("col_progress"), fmt.percent(row["progress"])),
            (self.t("col_elapsed"), fmt.percent(row["time_elapsed"])),
            (self.t("col_forecast"), self.number(row["forecast"], row)),
        ]

    def assumed(self, row: dict[str, Any]) -> list[str]:
        """What targets.yaml assumes for this target (Target.assumed): [] when nothing or not known."""
        target = self.targets.get(str(row["target_id"]))
        return list(target.assumed) if target is not None else []

    def meta(self, row: dict[str, Any]) -> str:
        """The line under a target's title: section, lead bureau and deadline (marked when assumed)."""
        target = self.targets.get(str(row["target_id"]))
        confirmed = target.confirmed if target is not None else []
        deadline = fmt.marked(self.month(row["deadline"]), "deadline", self.assumed(row), self.lang, confirmed)
        return (
            f"{row['section']} · {self.t('col_bureau')}{self.sep}{self.bureau(row['lead_bureau'])} · "
            f"{self.t('col_deadline')}{self.sep}{deadline}"
        )

    def terms(self, row: dict[str, Any]) -> list[tuple[str, str]]:
        """Baseline, 左右 range and milestones beside a target's chart (fmt.target_terms), marked where
        assumed; the deadline is in ``meta`` already, so it is left out here."""
        target = self.targets.get(str(row["target_id"]))
        if target is None:
            return []
        unit_zh, unit_en = str(row.get("unit_zh", "")), str(row.get("unit_en", ""))
        deadline_label = self.t("col_deadline")
        return [term for term in fmt.target_terms(target, unit_zh, unit_en, self.lang) if term[0] != deadline_label]

    def assumed_note(self, row: dict[str, Any]) -> str:
        """本目标的基线、期限为假设值，待责任单位确认 ("" when nothing is assumed)."""
        return fmt.assumed_caption(self.assumed(row), self.lang)

    def counts(self) -> dict[str, int]:
        vc = self.card["status"].value_counts()
        return {s: int(vc.get(s, 0)) for s in STATUS_ORDER}

    def _by_attention(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Rows in attention order: status (fmt.ATTENTION_RANK, worst first), then the largest gap
        between progress and time elapsed, then policy order."""
        rank = frame["status"].map(fmt.ATTENTION_RANK)
        gap = frame["progress"].fillna(0) - frame["time_elapsed"].fillna(0)
        ordered = frame.assign(_rank=rank, _gap=gap, _pos=range(len(frame)))
        return ordered.sort_values(["_rank", "_gap", "_pos"], kind="stable").drop(columns=["_rank", "_gap", "_pos"])

    def worst(self, n: int = WORST_N) -> pd.DataFrame:
        """The n targets that need attention most (attention order)."""
        return self._by_attention(self.card).head(n)

    def direction(self, target_id: str) -> str | None:
        """The target's change since last month (worse / better / achieved / same / new), None unknown."""
        if self.changes is None or self.changes.empty:
            return None
        found = self.changes.loc[self.changes["target_id"] == target_id, "direction"]
        return None if found.empty else str(found.iloc[0])

    def attention(self) -> pd.DataFrame:
        """The targets the pack gives a slide: off track, overdue or at risk, or worse than last
        month (whatever the status now), in attention order."""
        worse = {tid for tid in self.card["target_id"] if self.direction(str(tid)) == "worse"}
        keep = self.card["status"].isin(ATTENTION_STATUSES) | self.card["target_id"].isin(worse)
        return self._by_attention(self.card[keep]).reset_index(drop=True)

    def slide_rows(self) -> pd.DataFrame:
        """The targets with a slide (and a chart): all in policy order in the full deck, else attention()."""
        return self.card if self.full else self.attention()

    def change_counts(self) -> dict[str, int] | None:
        """worse / better / achieved targets, new figures and revisions this month, counted as the
        overview's 本月变化 panel counts them (monitor.progress.changes.totals); None without changes."""
        return self.change_totals

    def changes_line(self) -> str:
        """本月变化：▼ 3项变差 · ▲ 2项好转 · ▲ 1项新完成 · 新报数据 40条 · 修订 2条 ("" without changes)."""
        counts = self.change_counts()
        if counts is None:
            return ""
        return self.t("pack_changes_line", **counts)

    def open_actions(self, target_id: str) -> list[dict[str, Any]]:
        """The target's open follow-up actions (督办), overdue first, then by due date (the order of
        monitor.actions.open_actions); [] without any, or without the actions module."""
        if self.actions is None or self.actions.empty:
            return []
        mine = self.actions[self.actions["target_id"] == target_id]
        order = ["overdue", "due_date", "action_id"]
        return mine.sort_values(order, ascending=[False, True, True], kind="stable").to_dict("records")

    def action_line(self, action: dict[str, Any]) -> str:
        """督办：<asked>（<bureau>，截止2026年12月15日） with 逾期 when overdue (the due day words are
        monitor.reminders.full_date's, as on the 催报 list)."""
        from monitor import reminders  # the reminders module imports the warehouse layer: only when drawn

        due = action.get("due_date")
        due_text = "" if due is None or pd.isna(due) else reminders.full_date(pd.Timestamp(due).date(), self.lang)
        key = "pack_action_overdue" if bool(action.get("overdue")) else "pack_action"
        bureau = self.bureau(str(action.get("bureau_id", "")))
        return self.t(key, asked=str(action.get("asked", "")), bureau=bureau, due=due_text)

    def appendix_rows(self) -> list[list[str]]:
        """Every selected target, policy order: section, target, status (with the change mark), figure,
        target value, lead bureau."""
        rows = []
        for r in self.card.to_dict("records"):
            direction = self.direction(str(r["target_id"]))
            mark = direction_mark(direction)
            status = self.status_text(r["status"]) + (f" {mark}" if mark else "")
            rows.append(
                [str(r["section"]), str(r[f"name_{self.lang}"]), status, self.number(r["actual"], r),
                 self.number(r["target_value"], r), self.bureau(str(r["lead_bureau"]))]
            )  # fmt: skip
        return rows

    def appendix_header(self) -> list[str]:
        return [self.t(k) for k in APPENDIX_KEYS]

    def appendix_pages(self, per_page: int = APPENDIX_ROWS) -> list[list[list[str]]]:
        """appendix_rows() split into slides of at most ``per_page`` rows, fewer where long (English)
        names wrap: layout.paginate, so that every slide's table ends above the footer."""
        return paginate(self.appendix_header(), self.appendix_rows(), per_page)

    def gap_rows(self, kpi_chars: int = GAP_KPI_CHARS) -> list[list[str]]:
        """The gaps slide's rows, the columns of the app's 催报 table (dashboard.reminder_views.table)
        but the month (the slide's heading names it). A KPI list longer than ``kpi_chars`` is cut
        there and counted (…（共22项）): a bureau missing every KPI would fill the slide."""
        from monitor import reminders  # the reminders module imports the warehouse layer: only when drawn

        rows = []
        for item in self.gaps:
            kpis = reminders.kpi_list(item, self.lang)
            if len(kpis) > kpi_chars:
                kpis = self.t("pack_kpis_cut", text=kpis[:kpi_chars].rstrip("、, "), n=len(item.missing_kpis))
            submitted = item.first_submitted_at
            rows.append(
                [item.name(self.lang), reminders.state(item, self.lang), reminders.full_date(item.due_date, self.lang),
                 reminders.full_date(submitted.date(), self.lang) if submitted else "", kpis]
            )  # fmt: skip
        return rows

    def page_count(self) -> int:
        """Slides (= PDF pages): cover, summary, one per slide row, the gaps, then the appendix (pack only)."""
        appendix = 0 if self.full else len(self.appendix_pages())
        return 2 + len(self.slide_rows()) + 1 + appendix

    def missing(self) -> pd.DataFrame:
        """Bureaus with at least one month not received up to as_of, most months first."""
        rep = self.reporting
        return rep[rep["missing_count"] > 0].sort_values(["missing_count", "bureau"], ascending=[False, True])
