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
from monitor.i18n import Lang
from monitor.style import STATUS_ORDER

if TYPE_CHECKING:
    from monitor.targets import Target

ProgressCallback = Callable[[int, int, str], None]

CJK_FONT = "Noto Sans CJK SC"  # set on every PowerPoint run (latin and east-asian) and workbook cell
WORST_N = 10  # rows of the "needs attention" table on the summary slide and page

# the one rule for every exported file (monitor.export_safe): text starting = + - @ gets a quote
safe_cell = export_safe.safe_cell


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

    def worst(self, n: int = WORST_N) -> pd.DataFrame:
        """The n targets that need attention most: status order (fmt.ATTENTION_RANK, worst first),
        then the largest gap between progress and time elapsed, then policy order."""
        rank = self.card["status"].map(fmt.ATTENTION_RANK)
        gap = self.card["progress"].fillna(0) - self.card["time_elapsed"].fillna(0)
        ordered = self.card.assign(_rank=rank, _gap=gap, _pos=range(len(self.card)))
        return ordered.sort_values(["_rank", "_gap", "_pos"], kind="stable").head(n)

    def missing(self) -> pd.DataFrame:
        """Bureaus with at least one month not received up to as_of, most months first."""
        rep = self.reporting
        return rep[rep["missing_count"] > 0].sort_values(["missing_count", "bureau"], ascending=[False, True])
