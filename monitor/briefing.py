"""Briefing exports: what leadership takes into a meeting, as of one month.

One call writes, for the selected targets, the charts (PNG for slides, SVG for print), a 16:9
PowerPoint deck, a PDF of the same pages, an Excel workbook and a zip of the charts:

    result = build_briefing(con, cfg, "2026-10", "out/", sections=["三(二)"], progress=print)

Why it is built this way:

* The charts are the app's own figures (``monitor.charts.trajectory`` and ``status_bar``) with a
  print layer on top (size, font size, status badge and legend, data source line), so a number on
  paper is the number on screen.
* Every chart of a run goes through ONE kaleido session, i.e. one headless Chromium: starting a
  browser costs a second or two, rendering a chart a fraction of that. Kaleido renders each chart
  as SVG; the PNG is drawn from that SVG on a canvas in a second tab of the same browser (what
  plotly's own PNG export does), and kaleido's reload after every figure is thinned out (see
  ``_kaleido_class``): together a 20-target run takes about a third of the naive time. The PDF is
  printed by the same browser (Page.printToPDF on an HTML page embedding the SVG charts as data
  URIs), so Chinese text is laid out by the same engine and fonts (Noto Sans CJK, installed
  system-wide) as the charts. The browser is the system Chromium: nothing is ever downloaded (the
  intranet has no internet), and MathJax is switched off for the same reason.
* The workbook may carry text that came from uploads (reasons quote figures, names come from the
  reference tables). Every text cell goes through ``safe_cell`` and ``write_string``, so no cell can
  ever become a formula (CSV/Excel formula injection).
* No streamlit import: the page, the command line (``python -m monitor briefing``) and the
  benchmark share this module.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime as dt
import html
import json
import logging
import math
import os
import re
import shutil
import tempfile
import threading
import time
import zipfile
from collections.abc import Callable, Coroutine, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import pandas as pd
import plotly.graph_objects as go
import xlsxwriter
from lxml import etree
from pptx import Presentation
from pptx.dml.color import RGBColor
from pptx.enum.shapes import MSO_SHAPE
from pptx.enum.text import MSO_ANCHOR, PP_ALIGN
from pptx.oxml.ns import qn
from pptx.slide import Slide
from pptx.text.text import TextFrame, _Paragraph
from pptx.util import Emu, Inches, Pt

from monitor import charts, export_safe, fmt, i18n, progress, queries
from monitor.i18n import Lang
from monitor.style import FONT_FAMILY, STATUS_COLORS, STATUS_ICONS, STATUS_ORDER
from monitor.targets import TargetsConfig

ProgressCallback = Callable[[int, int, str], None]
T = TypeVar("T")
_log = logging.getLogger(__name__)

CJK_FONT = "Noto Sans CJK SC"  # set on every PowerPoint run, as latin and east-asian font
FLAG_UNIT = "是否完成"  # milestones are reported 1 = done, 0 = not yet (as in monitor.ui)

# Target charts: 1280 x 720 CSS px at scale 2.5 = 3200 x 1800 px, about 360 dpi at the 8.8 in they
# take on a slide or page; 20 px text there prints at about 10 pt. The summary chart is square.
CHART_SIZE = (1280, 720)
CHART_SCALE = 2.5
SUMMARY_SIZE = (760, 760)
SUMMARY_SCALE = 3.0
PRINT_FONT_PX = 20
WORST_N = 10
RENDER_TABS = 1  # kaleido render tabs: one, plus the rasterising tab, is fastest on two cores (bench)
RENDER_TIMEOUT_S = 90.0
RELOAD_EVERY = 16  # kaleido page reloads: one per this many figures instead of one per figure
PDF_TIMEOUT_S = 60.0

SLIDE_W_IN, SLIDE_H_IN = 13.333, 7.5
_INK = "1F2A37"
_MUTED = "5B6573"
_HEADER_FILL = "2E3B4E"
_ROW_FILL = ("FFFFFF", "F3F5F8")

# one lock per process: two exports at once would start two browsers on a two-core machine
_BROWSER_LOCK = threading.Lock()


class BriefingError(RuntimeError):
    """A briefing could not be built (no browser, nothing selected, a render failed)."""


# ---------------------------------------------------------------------------------------------- result


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


# ---------------------------------------------------------------------------------------------- cells


# the one rule for every exported file (monitor.export_safe): text starting = + - @ gets a quote
safe_cell = export_safe.safe_cell


# ---------------------------------------------------------------------------------------------- data


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

    def t(self, key: str, **kwargs: object) -> str:
        return i18n.t(key, self.lang, **kwargs)

    def month(self, value: object) -> str:
        return fmt.month_zh(value) if self.lang == "zh" else fmt.month_en(value)  # type: ignore[arg-type]

    @property
    def as_of_label(self) -> str:
        return f"{self.t('as_of')} {self.month(self.as_of)}"

    def bureau(self, bureau_id: str) -> str:
        return self.bureau_names.get(bureau_id, bureau_id)

    def status_text(self, status: str) -> str:
        return f"{STATUS_ICONS[status]} {i18n.status_label(status, self.lang)}"

    def number(self, value: object, row: dict[str, Any]) -> str:
        """A figure in the row's unit the way monitor.ui shows it (1.5万套, 已完成 for milestones)."""
        if value is None or pd.isna(value):  # type: ignore[arg-type]
            return "—"
        x = float(value)  # type: ignore[arg-type]
        if row.get("unit_zh") == FLAG_UNIT:
            done = x >= 1
            return ("已完成" if done else "未完成") if self.lang == "zh" else ("done" if done else "not done")
        if self.lang == "zh":
            return fmt.number_zh(x, str(row.get("unit_zh", "")))
        return fmt.number_en(x, str(row.get("unit_en", "")))

    def counts(self) -> dict[str, int]:
        vc = self.card["status"].value_counts()
        return {s: int(vc.get(s, 0)) for s in STATUS_ORDER}

    def worst(self, n: int = WORST_N) -> pd.DataFrame:
        """The n targets that need attention most: status order (worst first), then the largest gap
        between progress and time elapsed, then policy order."""
        rank = self.card["status"].map({s: i for i, s in enumerate(STATUS_ORDER)})
        gap = self.card["progress"].fillna(0) - self.card["time_elapsed"].fillna(0)
        ordered = self.card.assign(_rank=rank, _gap=gap, _pos=range(len(self.card)))
        return ordered.sort_values(["_rank", "_gap", "_pos"], kind="stable").head(n)

    def missing(self) -> pd.DataFrame:
        """Bureaus with at least one month not received up to as_of, most months first."""
        rep = self.reporting
        return rep[rep["missing_count"] > 0].sort_values(["missing_count", "bureau"], ascending=[False, True])


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
    label = fmt.month_zh if lang == "zh" else fmt.month_en
    mis = sorted({p.year * 12 + p.month - 1 for p in periods})
    runs: list[tuple[int, int]] = []
    for m in mis:
        if runs and m == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], m)
        else:
            runs.append((m, m))
    parts = []
    for a, b in runs:
        da, db_ = dt.date(a // 12, a % 12 + 1, 1), dt.date(b // 12, b % 12 + 1, 1)
        parts.append(label(da) if a == b else f"{label(da)}–{label(db_)}")
    return ("、" if lang == "zh" else ", ").join(parts)


def reporting_summary(status: pd.DataFrame, bureau_names: dict[str, str], lang: Lang) -> pd.DataFrame:
    """queries.reporting_status (one row per bureau and month) to one row per bureau, with the same
    rates as the bureaus page: completeness = received / expected, timeliness = on time / received."""
    columns = [
        "bureau_id", "bureau", "expected", "received", "on_time", "completeness", "timeliness",
        "missing_count", "missing_months", "missing_periods",
    ]  # fmt: skip
    if status.empty:
        return pd.DataFrame(columns=columns)
    rows = []
    for bureau_id, part in status.groupby("bureau_id", sort=True):
        expected = len(part)
        received = int(part["received"].sum())
        on_time = int(part["on_time"].sum())
        missing = [pd.Timestamp(p).date() for p in part.loc[~part["received"].astype(bool), "period"]]
        rows.append(
            {
                "bureau_id": bureau_id,
                "bureau": bureau_names.get(str(bureau_id), str(bureau_id)),
                "expected": expected,
                "received": received,
                "on_time": on_time,
                "completeness": received / expected if expected else 0.0,
                "timeliness": on_time / received if received else 0.0,
                "missing_count": len(missing),
                "missing_months": _month_ranges(missing, lang),
                "missing_periods": missing,
            }
        )
    return pd.DataFrame(rows, columns=columns)


def collect(
    con: duckdb.DuckDBPyConnection,
    cfg: TargetsConfig,
    as_of: dt.date | str,
    *,
    sections: Iterable[str] | str | None = None,
    bureaus: Iterable[str] | str | None = None,
    targets: Iterable[str] | str | None = None,
    lang: Lang = "zh",
) -> BriefingData:
    """Read what the briefing shows. Without filters the reporting sheet covers every bureau; with
    filters, the bureaus leading the selected targets (those whose reports the meeting discusses)."""
    as_of = progress._month_start(as_of)
    card = progress.scorecard(con, as_of, cfg=cfg)
    chosen = select_targets(card, sections=sections, bureaus=bureaus, targets=targets).reset_index(drop=True)
    ids = list(chosen["target_id"])
    units = progress.scorecard(con, as_of, cfg=cfg, all_units=True)
    units = units[units["target_id"].isin(ids) & ~units["is_aggregate"].astype(bool)].reset_index(drop=True)
    bureau_ref = queries.reference(con, "bureaus")
    district_ref = queries.reference(con, "districts")
    bureau_names = dict(zip(bureau_ref["bureau_id"], bureau_ref[f"name_{lang}"], strict=True))
    district_names = dict(zip(district_ref["district_id"], district_ref[f"name_{lang}"], strict=True))
    status = queries.reporting_status(con, cfg.policy.start, as_of, cfg.reporting.due_day)
    if any(_as_list(f) for f in (sections, bureaus, targets)):
        status = status[status["bureau_id"].isin(set(chosen["lead_bureau"]))]
    return BriefingData(
        as_of=as_of,
        lang=lang,
        card=chosen,
        units=units,
        reporting=reporting_summary(status, bureau_names, lang),
        bureau_names=bureau_names,
        district_names=district_names,
        demo=queries.is_demo(con),
        generated_at=dt.datetime.now().replace(microsecond=0),
    )


# ---------------------------------------------------------------------------------------------- charts


def status_legend(lang: Lang, current: str | None = None, *, rows: int = 1) -> str:
    """Plotly rich text: a coloured square and the word for each status (the current one in bold), so
    a chart printed in black and white or read by a colour-blind reader still says what colour means."""
    parts = []
    for s in STATUS_ORDER:
        word = f"{STATUS_ICONS[s]} {i18n.status_label(s, lang)}"
        word = f"<b>{word}</b>" if s == current else word
        parts.append(f"<span style='color:{STATUS_COLORS[s]}'>■</span> {word}")
    per_row = math.ceil(len(parts) / rows)
    gap = "　" if lang == "zh" else "   "
    lines = [gap.join(parts[i : i + per_row]) for i in range(0, len(parts), per_row)]
    head = f"{i18n.t('brief_legend', lang)}{'：' if lang == 'zh' else ': '}"
    return head + "<br>".join(lines)


def _em(ch: str) -> float:
    """Rough advance width of a character in em: CJK and full-width forms are square, Latin narrow."""
    if ord(ch) >= 0x2E80 or ch in "“”‘’":
        return 1.0
    return 0.62 if ch.isupper() or ch in "%@#&" else 0.52


def wrap_title(text: str, max_em: float, max_lines: int = 2) -> list[str]:
    """Break a chart title into at most ``max_lines`` lines of about ``max_em`` em (plotly never wraps
    a title; long English target names would run under the status badge and off the chart). Breaks
    at spaces in Latin text and between any two characters in Chinese; the last line takes the rest."""
    lines: list[str] = []
    rest = text.strip()
    while rest and len(lines) < max_lines - 1 and sum(_em(c) for c in rest) > max_em:
        width, cut, space = 0.0, len(rest), -1
        for i, ch in enumerate(rest):
            width += _em(ch)
            if ch == " ":
                space = i
            if width > max_em:
                cut = space if space > 0 and not any(ord(c) >= 0x2E80 for c in rest[space:i]) else i
                break
        lines.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    return [*lines, rest] if rest or not lines else lines


def print_layout(
    fig: go.Figure,
    lang: Lang,
    *,
    width: int,
    height: int,
    status: str | None = None,
    font_px: int = PRINT_FONT_PX,
    legend_rows: int = 1,
    copy: bool = True,
) -> go.Figure:
    """The app's figure, made for paper: fixed size, larger type, and the footer every exported chart
    carries (status legend and data source); a coloured status badge for a target's chart.

    A copy, unless ``copy=False`` (a figure made for the export: copying costs as much as building)."""
    out = go.Figure(fig) if copy else fig
    has_legend = sum(1 for trace in out.data if trace.showlegend is not False) > 1
    footer = (95 if has_legend else 45) + 34 * legend_rows + 40
    title_px = round(font_px * 1.45)
    name, _, sub = (out.layout.title.text or "").partition("<br>")
    badge_px = 300 if status else 0
    lines = wrap_title(name, (width - 60 - badge_px) / title_px)
    top, bottom = 125 + round(title_px * 1.25) * (len(lines) - 1), footer + 10
    plot_h = max(height - top - bottom, 100)
    title_text = "<br>".join(lines) + (f"<br>{sub}" if sub else "")
    out.update_layout(
        width=width,
        height=height,
        font={"family": FONT_FAMILY, "size": font_px},
        title={"text": title_text, "font": {"size": title_px}, "x": 0.01, "y": 1 - 48 / height, "yanchor": "top"},
        margin={"l": 95, "r": 45, "t": top, "b": bottom},
        legend={"orientation": "h", "x": 0, "xanchor": "left", "y": -50 / plot_h, "yanchor": "top"},
    )
    common = {"xref": "paper", "yref": "paper", "x": 0, "xanchor": "left", "showarrow": False, "align": "left"}
    strip = (95 if has_legend else 45) + 3
    out.add_annotation(
        text=status_legend(lang, status, rows=legend_rows), y=0, yanchor="top", yshift=-strip,
        font={"size": font_px - 2}, **common,
    )  # fmt: skip
    source_font = {"size": font_px - 3, "color": "#5B6573"}
    out.add_annotation(
        text=i18n.t("data_source", lang), y=0, yanchor="top", yshift=-(strip + 34 * legend_rows + 4), font=source_font,
        **common,
    )  # fmt: skip
    if status:
        out.add_annotation(
            text=f"<b>{STATUS_ICONS[status]} {i18n.status_label(status, lang)}</b>",
            xref="paper", yref="paper", x=1, y=1, xanchor="right", yanchor="bottom", yshift=top - 72,
            showarrow=False, bgcolor=STATUS_COLORS[status], borderpad=8,
            font={"size": font_px + 4, "color": "white"},
        )  # fmt: skip
    return out


def target_figure(data: BriefingData, row: dict[str, Any], series: pd.DataFrame) -> go.Figure:
    """The target detail page's chart (same call on progress.series), for print."""
    fig = charts.trajectory(series, row, data.lang, as_of_label=data.as_of_label)
    w, h = CHART_SIZE
    return print_layout(fig, data.lang, width=w, height=h, status=row.get("status"), copy=False)


def summary_figure(data: BriefingData) -> go.Figure:
    """charts.status_bar over the selected targets, titled with the as-of month and the unit."""
    title = data.t("brief_status_chart")
    fig = charts.status_bar(data.counts(), data.lang, title)
    unit = data.t("brief_items")
    sep = "：" if data.lang == "zh" else ": "
    sub = f"{data.as_of_label} · {data.t('unit')}{sep}{unit}"
    fig.update_layout(title_text=f"{title}<br><sup>{sub}</sup>")
    fig.update_traces(cliponaxis=False)
    fig.update_xaxes(rangemode="tozero", showticklabels=False, showgrid=False)
    return print_layout(
        fig, data.lang, width=SUMMARY_SIZE[0], height=SUMMARY_SIZE[1], font_px=PRINT_FONT_PX + 2, legend_rows=2,
        copy=False,
    )  # fmt: skip


@dataclass(frozen=True)
class _ChartJob:
    key: str
    title: str
    fig: go.Figure
    width: int
    height: int
    scale: float
    png: Path
    svg: Path


def _safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_") or "chart"


def _summary_job(data: BriefingData, chart_dir: Path) -> _ChartJob:
    png, svg = chart_dir / "00_summary.png", chart_dir / "00_summary.svg"
    fig = summary_figure(data)
    return _ChartJob("summary", data.t("brief_status_chart"), fig, *SUMMARY_SIZE, SUMMARY_SCALE, png, svg)


def _target_job(
    con: duckdb.DuckDBPyConnection, cfg: TargetsConfig, data: BriefingData, i: int, row: dict[str, Any], chart_dir: Path
) -> _ChartJob:
    series = progress.series(con, str(row["target_id"]), data.as_of, cfg=cfg)
    stem = f"{i:02d}_{_safe_name(str(row['target_id']))}"
    return _ChartJob(
        str(row["target_id"]), str(row[f"name_{data.lang}"]), target_figure(data, row, series), *CHART_SIZE,
        CHART_SCALE, chart_dir / f"{stem}.png", chart_dir / f"{stem}.svg",
    )  # fmt: skip


def browser_path() -> str:
    """The Chromium kaleido drives: $BROWSER_PATH when set (and then it must be right), else the
    system Chromium on PATH. choreographer would prefer a copy it downloaded itself; resolving the
    path here means no downloaded copy is ever used (nothing is downloaded on the intranet) and a
    missing browser fails with a clear message instead of a download hint."""
    explicit = os.environ.get("BROWSER_PATH")
    if explicit:
        if Path(explicit).is_file() and os.access(explicit, os.X_OK):
            return explicit
        raise BriefingError(f"BROWSER_PATH={explicit!r} 不是可执行文件 / is not an executable")
    for candidate in (
        shutil.which("chromium"),
        shutil.which("chromium-browser"),
        shutil.which("google-chrome"),
        "/usr/bin/chromium",
    ):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    raise BriefingError("未找到 Chromium（apt install chromium，或设置 BROWSER_PATH） / Chromium not found")


async def _wait_loaded(tab: Any, url: str, timeout: float) -> None:
    """Wait until ``url`` (not the tab's first about:blank) is loaded and its fonts are ready."""
    expression = """
        new Promise((resolve) => {
            const ready = () => document.fonts.ready.then(() => resolve(window.location.href));
            if (document.readyState === 'complete') { ready(); } else { window.addEventListener('load', ready); }
        })
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = await tab.send_command(
            "Runtime.evaluate", params={"expression": expression, "awaitPromise": True, "returnByValue": True}
        )
        if response.get("result", {}).get("result", {}).get("value") == url:
            return
        await asyncio.sleep(0.05)  # still the blank page, or the context changed under us: ask again
    raise BriefingError(f"PDF page did not load within {timeout:.0f} s")


async def _print_pdf(browser: Any, html_file: Path) -> bytes:
    """Print an HTML file to PDF in a tab of the running browser (no second Chromium)."""
    url = html_file.resolve().as_uri()
    tab = await browser.create_tab(url)  # a plain choreographer tab, not one of kaleido's render tabs
    try:
        await _wait_loaded(tab, url, PDF_TIMEOUT_S)
        response = await tab.send_command(
            "Page.printToPDF",
            params={
                "printBackground": True,
                "preferCSSPageSize": True,
                "paperWidth": SLIDE_W_IN,
                "paperHeight": SLIDE_H_IN,
                "marginTop": 0,
                "marginBottom": 0,
                "marginLeft": 0,
                "marginRight": 0,
            },
        )
        if "error" in response:
            raise BriefingError(f"printToPDF: {response['error']}")
        return base64.b64decode(response["result"]["data"])
    finally:
        await browser.close_tab(tab)


# Rasterise an SVG at a scale on a canvas and return the PNG as base64: what Plotly.toImage does for
# format="png" (SVG -> image -> canvas), done in one long-lived tab instead of a fresh render.
_RASTERISE_JS = """
(async (svg, width, height, scale) => {
    const img = new Image();
    img.src = 'data:image/svg+xml;base64,' + svg;
    await img.decode();
    const canvas = document.createElement('canvas');
    canvas.width = Math.round(width * scale);
    canvas.height = Math.round(height * scale);
    const ctx = canvas.getContext('2d');
    ctx.fillStyle = '#ffffff';
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.drawImage(img, 0, 0, canvas.width, canvas.height);
    return canvas.toDataURL('image/png').slice('data:image/png;base64,'.length);
})(SVG, WIDTH, HEIGHT, SCALE)
"""


async def _rasterise(tab: Any, svg: bytes, job: _ChartJob) -> bytes:
    """The PNG of a chart from kaleido's SVG of it, in the same browser.

    Kaleido reloads plotly.js in its tab after every figure (about 0.15 s); asking it for an SVG and
    a PNG of each chart doubles that. The PNG is instead drawn from the SVG in one tab that is never
    reloaded: the same pixels plotly would produce (its PNG export draws its SVG on a canvas too)."""
    expression = (
        _RASTERISE_JS.replace("SVG", json.dumps(base64.b64encode(svg).decode("ascii")))
        .replace("WIDTH", str(job.width))
        .replace("HEIGHT", str(job.height))
        .replace("SCALE", repr(float(job.scale)))
    )
    response = await tab.send_command(
        "Runtime.evaluate", params={"expression": expression, "awaitPromise": True, "returnByValue": True}
    )
    result = response.get("result", {})
    if "error" in response or "exceptionDetails" in result:
        raise BriefingError(f"PNG of {job.key}: {response.get('error') or result['exceptionDetails']}")
    return base64.b64decode(result["result"]["value"])


class _QuietBye(logging.Filter):
    """choreographer closes its pipe by writing a "{bye}" sentinel into it; when that arrives glued to
    the browser's last message it logs a JSON error with a traceback and ignores it. Harmless at
    close, so it is kept out of the logs while the browser closes (and only then)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "JSONError decoding message" not in record.getMessage()


def _kaleido_class() -> type:
    """kaleido.Kaleido, minus most of its reloads.

    Kaleido 1.5 reloads its page (and so re-parses the 3.5 MB plotly.js) in a tab after every figure,
    which is about two thirds of the time per chart here. Its render script purges the plot after
    each figure, and the SVGs come out identical with or without the reload (checked on the demo
    charts), so this subclass reloads only every RELOAD_EVERY figures, to bound whatever a long run
    leaves behind. It overrides a private method of the pinned kaleido version only; with any other
    version (or if the method is gone) the stock class is used: slower, never wrong."""
    from importlib.metadata import version

    import kaleido

    if version("kaleido") != "1.5.0" or not hasattr(kaleido.Kaleido, "_return_kaleido_tab"):
        return kaleido.Kaleido

    class _Kaleido(kaleido.Kaleido):
        _renders = 0

        async def _return_kaleido_tab(self, tab: Any) -> None:
            self._renders += 1
            if self._renders % RELOAD_EVERY == 0:
                await super()._return_kaleido_tab(tab)
            else:
                await self.tabs_ready.put(tab)

    return _Kaleido


async def _build(
    con: duckdb.DuckDBPyConnection,
    cfg: TargetsConfig,
    as_of: dt.date | str,
    out: Path,
    filters: dict[str, Iterable[str] | str | None],
    lang: Lang,
    progress_cb: ProgressCallback | None,
) -> BriefingResult:
    """The whole run in one browser session, overlapping what can overlap on two cores: the browser
    starts while the data is read; each chart is built (in a worker thread) while the previous ones
    render; the PDF prints while the deck and the workbook are written."""
    started = time.perf_counter()
    timings: dict[str, float] = {}
    chart_dir = out / "charts"
    chart_dir.mkdir(parents=True, exist_ok=True)
    browser = _kaleido_class()(n=RENDER_TABS, path=browser_path(), mathjax=False, timeout=RENDER_TIMEOUT_S)
    opening = asyncio.create_task(browser.open())
    tasks: list[asyncio.Task[tuple[_ChartJob, bytes]]] = []
    try:
        data = await asyncio.to_thread(collect, con, cfg, as_of, lang=lang, **filters)  # type: ignore[arg-type]
        timings["collect_s"] = time.perf_counter() - started
        total, done = len(data.card) + 1 + 3, 0  # the charts, then the PDF, the deck and the workbook (with the zip)

        def step(label: str) -> None:
            nonlocal done
            done += 1
            if progress_cb is not None:
                progress_cb(done, total, label)

        if progress_cb is not None:
            progress_cb(0, total, data.t("brief_started"))
        work_tab: asyncio.Task[Any] | None = None

        async def render(job: _ChartJob) -> tuple[_ChartJob, bytes]:
            nonlocal work_tab
            await opening
            if work_tab is None:  # one plain tab (not a kaleido render tab) rasterises every PNG
                work_tab = asyncio.create_task(browser.create_tab("about:blank"))
            svg = await browser.calc_fig(job.fig, opts={"format": "svg", "width": job.width, "height": job.height})
            png = await asyncio.wait_for(_rasterise(await work_tab, svg, job), RENDER_TIMEOUT_S)
            job.svg.write_bytes(svg)
            job.png.write_bytes(png)
            return job, svg

        def make_summary() -> _ChartJob:
            return _summary_job(data, chart_dir)

        jobs = [await asyncio.to_thread(make_summary)]
        tasks.append(asyncio.create_task(render(jobs[0])))
        for i, row in enumerate(data.card.to_dict("records"), start=1):
            # built one at a time in a worker thread (the connection is never used by two threads at once)
            job = await asyncio.to_thread(_target_job, con, cfg, data, i, row, chart_dir)
            jobs.append(job)
            tasks.append(asyncio.create_task(render(job)))
        timings["figures_built_at_s"] = time.perf_counter() - started
        await opening
        timings["browser_ready_at_s"] = time.perf_counter() - started
        svgs: dict[str, bytes] = {}
        for finished in asyncio.as_completed(tasks):
            job, svg = await finished
            svgs[job.key] = svg
            step(job.title)
        if work_tab is not None:
            await browser.close_tab(await work_tab)
        timings["charts_s"] = time.perf_counter() - started - timings["browser_ready_at_s"]

        t = time.perf_counter()
        stem = f"briefing_{data.as_of:%Y-%m}" + ("" if lang == "zh" else "_en")
        deck, pdf, workbook, zipped = (out / f"{stem}{ext}" for ext in (".pptx", ".pdf", ".xlsx", "_charts.zip"))
        chart_files = [ChartFile(j.key, j.title, j.png, j.svg) for j in jobs]

        async def print_pdf() -> None:
            with tempfile.TemporaryDirectory(prefix="briefing-") as tmp:
                page = Path(tmp) / "briefing.html"
                page.write_text(briefing_html(data, svgs), encoding="utf-8")
                pdf.write_bytes(await asyncio.wait_for(_print_pdf(browser, page), 2 * PDF_TIMEOUT_S))
            timings["pdf_s"] = time.perf_counter() - t
            step("PDF")

        async def make_deck() -> None:
            await asyncio.to_thread(write_deck, data, {c.key: c for c in chart_files}, deck)
            timings["deck_s"] = time.perf_counter() - t
            step("PowerPoint")

        async def make_workbook() -> None:
            def write() -> None:
                write_workbook(
                    workbook, data.card, data.units, data.reporting, lang=lang, bureau_names=data.bureau_names,
                    district_names=data.district_names, as_of=data.as_of,
                )  # fmt: skip
                _zip_charts(chart_files, zipped)

            await asyncio.to_thread(write)
            timings["workbook_s"] = time.perf_counter() - t
            step("Excel")

        await asyncio.gather(print_pdf(), make_deck(), make_workbook())
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(opening, *tasks, return_exceptions=True)
        quiet = _QuietBye()
        logging.getLogger("choreographer.channels.pipe").addFilter(quiet)
        try:
            with contextlib.suppress(Exception):  # closing is best effort: the run's own error matters more
                await browser.close()
        finally:
            logging.getLogger("choreographer.channels.pipe").removeFilter(quiet)
    timings["total_s"] = time.perf_counter() - started
    return BriefingResult(
        out_dir=out, as_of=data.as_of, lang=lang, target_ids=list(data.card["target_id"]), charts=chart_files,
        deck=deck, pdf=pdf, workbook=workbook, charts_zip=zipped, timings=timings,
    )  # fmt: skip


def _run(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine from sync code: asyncio.run, or a helper thread when a loop is already running
    in this thread (a notebook, an async caller)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = asyncio.run(coro)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            box["error"] = exc

    thread = threading.Thread(target=target, name="briefing-render")
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box["value"]


# ---------------------------------------------------------------------------------------------- deck


def _set_font(run: Any, *, size: float, bold: bool = False, color: str = _INK) -> None:
    """Font of one run: Noto Sans CJK SC as latin, east-asian (a:ea) and complex-script font.

    PowerPoint picks the a:ea typeface for Chinese characters; a:latin alone would leave them to the
    theme's East Asian font, which differs between machines."""
    font = run.font
    font.size = Pt(size)
    font.bold = bold
    font.color.rgb = RGBColor.from_string(color)
    font.name = CJK_FONT  # a:latin
    rpr = run._r.get_or_add_rPr()
    latin = rpr.find(qn("a:latin"))
    anchor = latin
    for tag in ("a:ea", "a:cs"):
        el = rpr.find(qn(tag))
        if el is None:
            el = etree.SubElement(rpr, qn(tag))
            anchor.addnext(el)
        el.set("typeface", CJK_FONT)
        anchor = el


def _paragraph(
    tf: TextFrame | Any,
    text: str,
    *,
    size: float,
    bold: bool = False,
    color: str = _INK,
    align: Any = None,
    first: bool = False,
) -> _Paragraph:
    p = tf.paragraphs[0] if first else tf.add_paragraph()
    if align is not None:
        p.alignment = align
    run = p.add_run()
    run.text = text
    _set_font(run, size=size, bold=bold, color=color)
    return p


def _textbox(
    slide: Slide,
    left: float,
    top: float,
    width: float,
    height: float,
    lines: Sequence[tuple[str, float, bool, str]],
    *,
    align: Any = None,
    anchor: Any = MSO_ANCHOR.TOP,
) -> Any:
    """A text box at inches with (text, size, bold, colour) lines."""
    box = slide.shapes.add_textbox(Inches(left), Inches(top), Inches(width), Inches(height))
    tf = box.text_frame
    tf.word_wrap = True
    tf.vertical_anchor = anchor
    for i, (text, size, bold, color) in enumerate(lines):
        _paragraph(tf, text, size=size, bold=bold, color=color, align=align, first=i == 0)
    return box


def title_pt(text: str, base: float, width_in: float = SLIDE_W_IN - 1.0) -> float:
    """Font size for a slide title: ``base`` when it fits one line, else a size that fits two lines
    (long English target names), never below 16 pt. The deck and the PDF use the same rule."""
    em = sum(_em(c) for c in text) * 1.05  # bold runs a little wider
    width_pt = width_in * 72
    if em * base <= width_pt:
        return base
    return max(16.0, min(base * 0.8, math.floor(2 * width_pt / em)))


def _title(slide: Slide, text: str, *, top: float = 0.3, height: float = 0.8, size: float = 26) -> None:
    """Fill the layout's title placeholder (kept as the title, so outline view and screen readers
    see it) and move it into place: python-pptx's default template is laid out for 4:3."""
    size = title_pt(text, size)
    shape = slide.shapes.title
    shape.left, shape.top = Inches(0.5), Inches(top)
    shape.width, shape.height = Inches(SLIDE_W_IN - 1.0), Inches(height)
    tf = shape.text_frame
    tf.clear()
    tf.word_wrap = True
    tf.vertical_anchor = MSO_ANCHOR.MIDDLE
    _paragraph(tf, text, size=size, bold=True, first=True, align=PP_ALIGN.LEFT)


def _footer(slide: Slide, data: BriefingData, page: int) -> None:
    note = f"{data.t('data_source')} · {data.as_of_label}"
    if data.demo:
        note += f" · {data.t('brief_demo')}"
    _textbox(slide, 0.5, 7.05, 10.5, 0.35, [(note, 10, False, _MUTED)])
    _textbox(slide, 11.3, 7.05, 1.55, 0.35, [(str(page), 10, False, _MUTED)], align=PP_ALIGN.RIGHT)


def _fill(shape: Any, color: str) -> None:
    shape.fill.solid()
    shape.fill.fore_color.rgb = RGBColor.from_string(color.lstrip("#"))
    shape.line.fill.background()


def _badge(slide: Slide, data: BriefingData, status: str, left: float, top: float, width: float, height: float) -> None:
    box = slide.shapes.add_shape(MSO_SHAPE.ROUNDED_RECTANGLE, Inches(left), Inches(top), Inches(width), Inches(height))
    _fill(box, STATUS_COLORS[status])
    tf = box.text_frame
    tf.vertical_anchor = MSO_ANCHOR.MIDDLE
    _paragraph(tf, data.status_text(status), size=18, bold=True, color="FFFFFF", align=PP_ALIGN.CENTER, first=True)


def _table(
    slide: Slide,
    left: float,
    top: float,
    widths: Sequence[float],
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    size: float = 11,
    row_height: float = 0.36,
    fills: dict[tuple[int, int], str] | None = None,
) -> None:
    """A plain table (header row dark, rows banded); ``fills`` colours single cells (status cells),
    whose text is then white."""
    shape = slide.shapes.add_table(
        len(rows) + 1, len(widths), Inches(left), Inches(top), Inches(sum(widths)), Inches(row_height * (len(rows) + 1))
    )
    table = shape.table
    for j, w in enumerate(widths):
        table.columns[j].width = Inches(w)
    for i in range(len(rows) + 1):
        table.rows[i].height = Inches(row_height)
    fills = fills or {}
    for i, values in enumerate([list(header), *[list(r) for r in rows]]):
        for j, value in enumerate(values):
            cell = table.cell(i, j)
            cell.margin_left = cell.margin_right = Inches(0.06)
            cell.margin_top = cell.margin_bottom = Inches(0.03)
            cell.vertical_anchor = MSO_ANCHOR.MIDDLE
            colour = _HEADER_FILL if i == 0 else fills.get((i - 1, j), _ROW_FILL[(i - 1) % 2])
            cell.fill.solid()
            cell.fill.fore_color.rgb = RGBColor.from_string(colour.lstrip("#"))
            white = i == 0 or (i - 1, j) in fills
            tf = cell.text_frame
            tf.word_wrap = True
            _paragraph(tf, str(value), size=size, bold=i == 0, color="FFFFFF" if white else _INK, first=True)


def _pct(value: object) -> str:
    if value is None or pd.isna(value):  # type: ignore[arg-type]
        return "—"
    return f"{float(value) * 100:.0f}%"  # type: ignore[arg-type]


def _figures(data: BriefingData, row: dict) -> list[tuple[str, str]]:
    """The figures beside a target's chart, the same on its slide and its PDF page."""
    return [
        (data.t("col_actual"), data.number(row["actual"], row)),
        (data.t("col_goal"), data.number(row["target_value"], row)),
        (data.t("col_progress"), _pct(row["progress"])),
        (data.t("col_elapsed"), _pct(row["time_elapsed"])),
        (data.t("col_forecast"), data.number(row["forecast"], row)),
    ]


def _cover(prs: Any, data: BriefingData) -> None:
    slide = prs.slides.add_slide(prs.slide_layouts[0])  # Title Slide: title + subtitle placeholders
    band = slide.shapes.add_shape(MSO_SHAPE.RECTANGLE, 0, 0, prs.slide_width, Inches(0.35))
    _fill(band, "#0072B2")
    title = slide.shapes.title
    title.left, title.top, title.width, title.height = Inches(0.8), Inches(2.1), Inches(11.7), Inches(1.7)
    tf = title.text_frame
    tf.clear()
    tf.word_wrap = True
    _paragraph(tf, data.t("brief_title"), size=36, bold=True, first=True, align=PP_ALIGN.LEFT)
    sub = slide.placeholders[1]
    sub.left, sub.top, sub.width, sub.height = Inches(0.8), Inches(4.0), Inches(11.7), Inches(1.6)
    tf = sub.text_frame
    tf.clear()
    _paragraph(tf, data.as_of_label.replace(" ", "") if data.lang == "zh" else data.as_of_label, size=24, first=True)
    _paragraph(tf, data.t("targets_count", n=len(data.card)), size=16, color=_MUTED)
    _paragraph(tf, f"{data.t('brief_generated')} {data.generated_at:%Y-%m-%d %H:%M}", size=12, color=_MUTED)
    if data.demo:
        _paragraph(tf, data.t("brief_demo"), size=14, bold=True, color="D55E00")
    for p in tf.paragraphs:
        p.alignment = PP_ALIGN.LEFT
    _textbox(slide, 0.8, 6.7, 11.7, 0.4, [(data.t("data_source"), 12, False, _MUTED)])


def _summary(prs: Any, data: BriefingData, chart: ChartFile, page: int) -> None:
    slide = prs.slides.add_slide(prs.slide_layouts[5])  # Title Only
    _title(slide, data.t("brief_summary"))
    counts = data.counts()
    width, gap, left = 1.95, 0.12, 0.5
    for i, s in enumerate(STATUS_ORDER):
        x = left + i * (width + gap)
        tile = slide.shapes.add_shape(MSO_SHAPE.RECTANGLE, Inches(x), Inches(1.2), Inches(width), Inches(0.85))
        _fill(tile, STATUS_COLORS[s])
        tf = tile.text_frame
        tf.vertical_anchor = MSO_ANCHOR.MIDDLE
        _paragraph(tf, data.status_text(s), size=13, bold=True, color="FFFFFF", first=True, align=PP_ALIGN.CENTER)
        _paragraph(tf, str(counts[s]), size=22, bold=True, color="FFFFFF", align=PP_ALIGN.CENTER)
    worst = data.worst()
    _textbox(slide, 0.5, 2.2, 7.9, 0.4, [(data.t("brief_worst", n=len(worst)), 15, True, _INK)])
    rows, fills = [], {}
    for i, r in enumerate(worst.to_dict("records")):
        rows.append(
            [str(i + 1), r["section"], r[f"name_{data.lang}"], data.bureau(r["lead_bureau"]), _pct(r["progress"]),
             data.status_text(r["status"])]
        )  # fmt: skip
        fills[(i, 5)] = STATUS_COLORS[r["status"]]
    header = ["#", data.t("col_section"), data.t("col_target"), data.t("col_bureau"), data.t("col_progress"),
              data.t("col_status")]  # fmt: skip
    _table(slide, 0.5, 2.6, [0.3, 0.6, 3.75, 1.6, 0.65, 1.1], header, rows, size=9, row_height=0.34, fills=fills)
    slide.shapes.add_picture(str(chart.png), Inches(8.6), Inches(2.2), width=Inches(4.45))
    _footer(slide, data, page)


def _target_slide(prs: Any, data: BriefingData, row: dict[str, Any], chart: ChartFile, page: int) -> None:
    slide = prs.slides.add_slide(prs.slide_layouts[5])
    _title(slide, str(row[f"name_{data.lang}"]), size=24)
    deadline = data.month(row["deadline"])
    sep = "：" if data.lang == "zh" else ": "
    bureau = data.bureau(row["lead_bureau"])
    meta = f"{row['section']} · {data.t('col_bureau')}{sep}{bureau} · {data.t('col_deadline')}{sep}{deadline}"
    _textbox(slide, 0.5, 1.0, 12.3, 0.4, [(meta, 13, False, _MUTED)])
    slide.shapes.add_picture(str(chart.png), Inches(0.4), Inches(1.38), width=Inches(8.8))  # 8.8 x 4.95 in
    _badge(slide, data, row["status"], 9.45, 1.5, 3.4, 0.6)
    figures = _figures(data, row)
    lines: list[tuple[str, float, bool, str]] = []
    for label, value in figures:
        lines += [(label, 11, False, _MUTED), (value, 18, True, _INK)]
    _textbox(slide, 9.45, 2.2, 3.4, 4.1, lines)
    reason = slide.shapes.add_shape(MSO_SHAPE.RECTANGLE, Inches(0.5), Inches(6.38), Inches(12.35), Inches(0.6))
    _fill(reason, "#F3F5F8")
    accent = slide.shapes.add_shape(MSO_SHAPE.RECTANGLE, Inches(0.5), Inches(6.38), Inches(0.08), Inches(0.6))
    _fill(accent, STATUS_COLORS[row["status"]])
    tf = reason.text_frame
    tf.word_wrap = True
    tf.vertical_anchor = MSO_ANCHOR.MIDDLE
    tf.margin_left = Inches(0.2)
    _paragraph(tf, str(row[f"reason_{data.lang}"]), size=13, first=True, align=PP_ALIGN.LEFT)
    _footer(slide, data, page)


def _closing(prs: Any, data: BriefingData, page: int) -> None:
    slide = prs.slides.add_slide(prs.slide_layouts[5])
    _title(slide, data.t("brief_missing_title"))
    missing = data.missing()
    month = data.month(data.as_of)
    if missing.empty:
        _textbox(slide, 0.5, 1.3, 12.3, 0.6, [(data.t("brief_missing_none", month=month), 18, False, _INK)])
    else:
        _textbox(slide, 0.5, 1.15, 12.3, 0.45, [(data.t("brief_missing_intro", month=month), 15, False, _INK)])
        rows = [[r["bureau"], str(r["missing_count"]), r["missing_months"]] for r in missing.to_dict("records")]
        dense = len(rows) > 12
        _table(
            slide, 0.5, 1.7, [3.6, 1.3, 7.4],
            [data.t("col_bureau"), data.t("brief_missing_count"), data.t("brief_missing_months")], rows,
            size=9 if dense else 12, row_height=0.22 if dense else 0.4,
        )  # fmt: skip
    _footer(slide, data, page)


def write_deck(data: BriefingData, charts_by_key: dict[str, ChartFile], path: Path) -> Path:
    """Cover, summary, one slide per target (its chart and reason), missing reports: 16:9."""
    prs = Presentation()
    prs.slide_width, prs.slide_height = Emu(int(Inches(SLIDE_W_IN))), Emu(int(Inches(SLIDE_H_IN)))
    core = prs.core_properties
    core.title = f"{data.t('brief_title')} {data.month(data.as_of)}"
    core.subject = data.as_of_label
    core.author = "0477 monitor"
    _cover(prs, data)
    _summary(prs, data, charts_by_key["summary"], 2)
    for i, row in enumerate(data.card.to_dict("records"), start=3):
        _target_slide(prs, data, row, charts_by_key[str(row["target_id"])], i)
    _closing(prs, data, len(data.card) + 3)
    prs.save(str(path))
    return path


# ---------------------------------------------------------------------------------------------- PDF

_CSS = """
@page { size: 13.333in 7.5in; margin: 0; }
* { box-sizing: border-box; }
html, body { margin: 0; padding: 0; }
body { font-family: FONT; color: #1F2A37; -webkit-print-color-adjust: exact; print-color-adjust: exact; }
.slide { width: 13.333in; height: 7.5in; position: relative; overflow: hidden; padding: 0.3in 0.5in 0; }
.slide + .slide { break-before: page; }
h1 { font-size: 24pt; margin: 0.05in 0 0.1in; line-height: 1.2; max-height: 0.8in; overflow: hidden; }
.meta { color: #5B6573; font-size: 13pt; margin-bottom: 0.1in; }
.footer { position: absolute; left: 0.5in; right: 0.5in; bottom: 0.12in; color: #5B6573; font-size: 10pt;
          display: flex; justify-content: space-between; }
.cover { padding-top: 2.1in; }
.cover .band { position: absolute; left: 0; top: 0; width: 100%; height: 0.35in; background: #0072B2; }
.cover h1 { font-size: 36pt; }
.cover .asof { font-size: 24pt; margin-top: 0.35in; }
.cover .small { font-size: 14pt; color: #5B6573; margin-top: 0.08in; }
.cover .demo { font-size: 14pt; color: #D55E00; font-weight: 700; margin-top: 0.08in; }
.tiles { display: flex; gap: 0.12in; margin: 0.1in 0 0.15in; }
.tile { flex: 1; color: white; text-align: center; padding: 0.08in 0; font-weight: 700; }
.tile .n { font-size: 22pt; }
.cols { display: flex; gap: 0.25in; }
table { border-collapse: collapse; font-size: 10pt; line-height: 1.2; }
table.worst { font-size: 9pt; line-height: 1.15; }
th { background: #2E3B4E; color: white; text-align: left; padding: 0.04in 0.06in; }
td { padding: 0.03in 0.06in; vertical-align: middle; }
tr:nth-child(even) td { background: #F3F5F8; }
td.status { color: white; font-weight: 700; white-space: nowrap; }
h2 { font-size: 15pt; margin: 0 0 0.08in; }
.chart { width: 8.8in; display: block; }
.side { width: 3.4in; padding-top: 0.1in; }
.badge { color: white; font-weight: 700; font-size: 18pt; text-align: center; padding: 0.1in; border-radius: 0.08in; }
.label { color: #5B6573; font-size: 11pt; margin-top: 0.12in; }
.value { font-size: 18pt; font-weight: 700; }
.reason { position: absolute; left: 0.5in; right: 0.5in; top: 6.38in; height: 0.6in; background: #F3F5F8;
          border-left: 0.08in solid; padding: 0 0.2in; font-size: 13pt; display: flex; align-items: center; }
"""


def _e(value: object) -> str:
    """HTML-escape: names and reasons are data, never markup (the page is opened by a browser)."""
    return html.escape("" if value is None else str(value), quote=True)


def _svg_img(svg: bytes, alt: str, *, css_class: str = "", style: str = "") -> str:
    uri = "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")
    return f'<img class="{css_class}" style="{style}" src="{uri}" alt="{_e(alt)}">'


def briefing_html(data: BriefingData, svgs: dict[str, bytes]) -> str:
    """The printable pages, one per slide, self-contained (charts as data URIs, no URL is fetched)."""
    note = f"{data.t('data_source')} · {data.as_of_label}" + (f" · {data.t('brief_demo')}" if data.demo else "")

    def footer(page: int) -> str:
        return f'<div class="footer"><span>{_e(note)}</span><span>{page}</span></div>'

    pages = [
        '<section class="slide cover"><div class="band"></div>'
        f"<h1>{_e(data.t('brief_title'))}</h1>"
        f'<div class="asof">{_e(data.as_of_label.replace(" ", "") if data.lang == "zh" else data.as_of_label)}</div>'
        f'<div class="small">{_e(data.t("targets_count", n=len(data.card)))}</div>'
        f'<div class="small">{_e(data.t("brief_generated"))} {data.generated_at:%Y-%m-%d %H:%M}</div>'
        + (f'<div class="demo">{_e(data.t("brief_demo"))}</div>' if data.demo else "")
        + f'<div class="footer"><span>{_e(data.t("data_source"))}</span><span></span></div></section>'
    ]
    counts = data.counts()
    tiles = "".join(
        f'<div class="tile" style="background:{STATUS_COLORS[s]}"><div>{_e(data.status_text(s))}</div>'
        f'<div class="n">{counts[s]}</div></div>'
        for s in STATUS_ORDER
    )
    worst = data.worst()
    body = "".join(
        f"<tr><td>{i}</td><td>{_e(r['section'])}</td><td>{_e(r[f'name_{data.lang}'])}</td>"
        f"<td>{_e(data.bureau(r['lead_bureau']))}</td><td>{_pct(r['progress'])}</td>"
        f'<td class="status" style="background:{STATUS_COLORS[r["status"]]}">'
        f"{_e(data.status_text(r['status']))}</td></tr>"
        for i, r in enumerate(worst.to_dict("records"), start=1)
    )
    head = "".join(
        f"<th>{_e(h)}</th>"
        for h in ("#", data.t("col_section"), data.t("col_target"), data.t("col_bureau"), data.t("col_progress"),
                  data.t("col_status"))
    )  # fmt: skip
    pages.append(
        f'<section class="slide"><h1>{_e(data.t("brief_summary"))}</h1><div class="tiles">{tiles}</div>'
        f'<div class="cols"><div style="width:7.7in"><h2>{_e(data.t("brief_worst", n=len(worst)))}</h2>'
        f'<table class="worst" style="width:7.7in"><tr>{head}</tr>{body}</table></div>'
        f"<div>{_svg_img(svgs['summary'], data.t('brief_status_chart'), style='width:4.45in')}</div>"
        f"</div>{footer(2)}</section>"
    )
    for page, row in enumerate(data.card.to_dict("records"), start=3):
        figures = _figures(data, row)
        side = "".join(f'<div class="label">{_e(k)}</div><div class="value">{_e(v)}</div>' for k, v in figures)
        colour = STATUS_COLORS[row["status"]]
        chart = _svg_img(svgs[str(row["target_id"])], row[f"name_{data.lang}"], css_class="chart")
        sep = "：" if data.lang == "zh" else ": "
        meta = (
            f"{row['section']} · {data.t('col_bureau')}{sep}{data.bureau(row['lead_bureau'])} · "
            f"{data.t('col_deadline')}{sep}{data.month(row['deadline'])}"
        )
        pages.append(
            f'<section class="slide"><h1 style="font-size:{title_pt(row[f"name_{data.lang}"], 24)}pt">'
            f'{_e(row[f"name_{data.lang}"])}</h1><div class="meta">{_e(meta)}</div>'
            f'<div class="cols"><div>{chart}</div>'
            f'<div class="side"><div class="badge" style="background:{colour}">{_e(data.status_text(row["status"]))}'
            f"</div>{side}</div></div>"
            f'<div class="reason" style="border-color:{colour}">{_e(row[f"reason_{data.lang}"])}</div>'
            f"{footer(page)}</section>"
        )
    missing = data.missing()
    month = data.month(data.as_of)
    if missing.empty:
        content = f'<p style="font-size:18pt">{_e(data.t("brief_missing_none", month=month))}</p>'
    else:
        size = "9pt" if len(missing) > 12 else "12pt"
        rows = "".join(
            f"<tr><td>{_e(r['bureau'])}</td><td>{r['missing_count']}</td><td>{_e(r['missing_months'])}</td></tr>"
            for r in missing.to_dict("records")
        )
        content = (
            f'<p style="font-size:15pt;margin:0 0 0.1in">{_e(data.t("brief_missing_intro", month=month))}</p>'
            f'<table style="width:12.3in;font-size:{size}"><tr><th>{_e(data.t("col_bureau"))}</th>'
            f"<th>{_e(data.t('brief_missing_count'))}</th><th>{_e(data.t('brief_missing_months'))}</th></tr>"
            f"{rows}</table>"
        )
    pages.append(
        f'<section class="slide"><h1>{_e(data.t("brief_missing_title"))}</h1>{content}'
        f"{footer(len(data.card) + 3)}</section>"
    )
    lang_attr = "zh-CN" if data.lang == "zh" else "en"
    css = _CSS.replace("FONT", FONT_FAMILY)
    return (
        f'<!DOCTYPE html><html lang="{lang_attr}"><head><meta charset="utf-8">'
        f"<title>{_e(data.t('brief_title'))}</title><style>{css}</style></head>"
        f"<body>{''.join(pages)}</body></html>"
    )


# ---------------------------------------------------------------------------------------------- workbook


def _text_width(text: str) -> float:
    """Column width in Excel units: a CJK character is about two Latin ones."""
    return sum(2.0 if ord(ch) > 0x2E80 else 1.0 for ch in text)


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
) -> Path:
    """Three sheets: the scorecard, the per-district figures and the reporting completeness.

    Numbers stay numbers (formatted, so they sum and sort in Excel); every text cell goes through
    ``safe_cell`` and ``write_string``, so text from uploads can never become a formula."""
    path = Path(path)
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
        t("col_target_id"),
    ]  # fmt: skip
    ws = sheet(t("sheet_scorecard"), header, [8, 44, 24, 8, 12, 12, 12, 10, 10, 12, 12, 90, 30])
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
    ws.autofilter(0, 0, max(len(card), 1), len(header) - 1)

    # 分旗区
    names = dict(zip(card["target_id"], card[f"name_{lang}"], strict=True))
    sections = dict(zip(card["target_id"], card["section"], strict=True))
    header = [
        t("col_section"), t("col_target"), t("col_district"), t("unit"), t("col_actual"), t("col_district_goal"),
        t("col_progress"), t("col_status"), t("col_reason"), t("col_target_id"), t("col_district_id"),
    ]  # fmt: skip
    ws = sheet(t("sheet_districts"), header, [8, 44, 16, 8, 12, 12, 10, 12, 90, 30, 14])
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
    wb.close()
    return path


# ---------------------------------------------------------------------------------------------- run


def _zip_charts(chart_files: list[ChartFile], path: Path) -> Path:
    """PNG (slides) and SVG (print shops, vector) of every chart; PNGs are stored, not deflated again."""
    with zipfile.ZipFile(path, "w") as zf:
        for c in chart_files:
            zf.write(c.png, f"charts/{c.png.name}", compress_type=zipfile.ZIP_STORED)
            zf.write(c.svg, f"charts/{c.svg.name}", compress_type=zipfile.ZIP_DEFLATED)
    return path


def build_briefing(
    con: duckdb.DuckDBPyConnection,
    cfg: TargetsConfig,
    as_of: dt.date | str,
    out_dir: Path | str,
    *,
    sections: Iterable[str] | str | None = None,
    bureaus: Iterable[str] | str | None = None,
    targets: Iterable[str] | str | None = None,
    lang: Lang = "zh",
    progress: ProgressCallback | None = None,
) -> BriefingResult:
    """Write the briefing for the targets matching every filter (all targets without filters).

    ``sections`` are policy sections ("三(二)"), ``bureaus`` lead bureau ids, ``targets`` target ids.
    ``progress(i, n, label)`` is called with i = 0 once the data is read, then after each chart and
    each file (i = 1..n), from the calling thread (unless an event loop already runs there).
    Any failure is raised as BriefingError (the cause chained); the browser is always closed. Files
    go into ``out_dir`` (created): briefing_<YYYY-MM>[_en].pptx/.pdf/.xlsx,
    briefing_<YYYY-MM>[_en]_charts.zip and charts/."""
    if lang not in ("zh", "en"):
        raise BriefingError(f"lang must be zh or en, not {lang!r}")
    filters = {"sections": sections, "bureaus": bureaus, "targets": targets}
    with _BROWSER_LOCK:
        try:
            return _run(_build(con, cfg, as_of, Path(out_dir), filters, lang, progress))
        except BriefingError:
            raise
        except Exception as exc:
            # a browser that would not start or a render that failed: one error type for the page and
            # the command line to report; the cause stays chained (and logged) for whoever debugs it
            _log.exception("briefing failed")
            raise BriefingError(f"{type(exc).__name__}: {exc}") from exc
