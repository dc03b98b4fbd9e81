"""The briefing's charts as plotly figures: the app's own figures (monitor.charts.trajectory and
status_bar) with a print layer on top (size, font size, status badge and legend, data source line),
so a number on paper is the number on screen. Rendering them is monitor.briefing.browser's job."""

from __future__ import annotations

import io
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import plotly.graph_objects as go
from PIL import Image

from monitor import charts, fmt, i18n, progress
from monitor.briefing.layout import wrap_title
from monitor.briefing.model import BriefingData
from monitor.i18n import Lang
from monitor.style import FONT_FAMILY, STATUS_COLORS, STATUS_ORDER
from monitor.targets import TargetsConfig

# Target charts: laid out at 1280 x 720 CSS px (20 px text prints at about 10 pt on the 8.8 in a chart
# takes on a slide), rasterised at scale 1.375 = 1760 x 990 px: 200 dpi at 8.8 in, the slide's own
# pixel size for a projector (1920 px across 13.3 in is 144 dpi), 235 dpi at the 7.5 in of a chart
# with text under it. The summary chart is square: 760 px at 1.2 = 912 px, 205 dpi at its 4.45 in.
# The PDF and the print shop use the SVG, so nothing printed loses sharpness.
CHART_SIZE = (1280, 720)
CHART_SCALE = 1.375
SUMMARY_SIZE = (760, 760)
SUMMARY_SCALE = 1.2
PRINT_FONT_PX = 20
PNG_COLOURS = 256  # a palette PNG: a chart has a few flat colours plus anti-aliased edges
WHITE_FROM = 250  # palette entries with every channel at least this are the background: pure white


def compact_png(png: bytes) -> bytes:
    """The browser's RGB PNG as a 256-colour palette PNG, optimised: a fifth of the bytes (about 50 KB
    for a target chart instead of 250 KB) and, at the slide's pixel size, no visible difference: a
    chart is a few flat colours, and 256 levels keep the anti-aliased edges of text and lines."""
    with Image.open(io.BytesIO(png)) as img:
        palette = img.convert("RGB").quantize(colors=PNG_COLOURS, method=Image.Quantize.FASTOCTREE)
    # the octree averages each colour's bucket: the page's white would come out (254, 254, 254), a
    # visible edge on a white slide; entries that close to white are set back to white
    entries = palette.getpalette() or []
    for i in range(0, len(entries) - 2, 3):
        if min(entries[i : i + 3]) >= WHITE_FROM:
            entries[i : i + 3] = [255, 255, 255]
    palette.putpalette(entries)
    out = io.BytesIO()
    palette.save(out, "PNG", optimize=True)
    return out.getvalue()


def status_legend(lang: Lang, current: str | None = None, *, rows: int = 1) -> str:
    """Plotly rich text: a coloured square and the word for each status (the current one in bold), so
    a chart printed in black and white or read by a colour-blind reader still says what colour means."""
    parts = []
    for s in STATUS_ORDER:
        word = fmt.status(s, lang)
        word = f"<b>{word}</b>" if s == current else word
        parts.append(f"<span style='color:{STATUS_COLORS[s]}'>■</span> {word}")
    per_row = math.ceil(len(parts) / rows)
    gap = "　" if lang == "zh" else "   "
    lines = [gap.join(parts[i : i + per_row]) for i in range(0, len(parts), per_row)]
    head = f"{i18n.t('brief_legend', lang)}{'：' if lang == 'zh' else ': '}"
    return head + "<br>".join(lines)


def print_layout(
    fig: go.Figure,
    lang: Lang,
    *,
    width: int,
    height: int,
    status: str | None = None,
    font_px: int = PRINT_FONT_PX,
    legend_rows: int = 1,
    left: int = 95,
    copy: bool = True,
) -> go.Figure:
    """The app's figure, made for paper: fixed size, larger type, and the footer every exported chart
    carries (status legend and data source); a coloured status badge for a target's chart.

    ``left``: the left margin (px), wider for a bar chart's category labels (charts.label_margin).
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
        margin={"l": left, "r": 45, "t": top, "b": bottom},
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
            text=f"<b>{fmt.status(status, lang)}</b>",
            xref="paper", yref="paper", x=1, y=1, xanchor="right", yanchor="bottom", yshift=top - 72,
            showarrow=False, bgcolor=STATUS_COLORS[status], borderpad=8,
            font={"size": font_px + 4, "color": "white"},
        )  # fmt: skip
    return out


def target_figure(data: BriefingData, row: dict[str, Any], series: pd.DataFrame) -> go.Figure:
    """The target detail page's chart (same call on progress.series), for print."""
    fig = charts.trajectory(series, row, data.lang, as_of_label=data.as_of_label)
    width, height = CHART_SIZE
    return print_layout(fig, data.lang, width=width, height=height, status=row.get("status"), copy=False)


def summary_figure(data: BriefingData) -> go.Figure:
    """charts.status_bar over the selected targets, titled with the as-of month and the unit."""
    title = data.t("brief_status_chart")
    fig = charts.status_bar(data.counts(), data.lang, title)
    sub = f"{data.as_of_label} · {data.t('unit')}{data.sep}{data.t('brief_items')}"
    fig.update_layout(title_text=f"{title}<br><sup>{sub}</sup>")
    fig.update_xaxes(showticklabels=False, showgrid=False)  # the range (room for the counts) is status_bar's
    font_px = PRINT_FONT_PX + 2
    left = charts.label_margin(list(fig.data[0].y), font_px)  # the longest status word at the print size
    return print_layout(
        fig, data.lang, width=SUMMARY_SIZE[0], height=SUMMARY_SIZE[1], font_px=font_px, legend_rows=2, left=left,
        copy=False,
    )  # fmt: skip


@dataclass(frozen=True)
class ChartJob:
    """A figure ready to render, with its size and the files its SVG and PNG go to."""

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


def summary_job(data: BriefingData, chart_dir: Path) -> ChartJob:
    png, svg = chart_dir / "00_summary.png", chart_dir / "00_summary.svg"
    fig = summary_figure(data)
    return ChartJob("summary", data.t("brief_status_chart"), fig, *SUMMARY_SIZE, SUMMARY_SCALE, png, svg)


def target_job(
    con: duckdb.DuckDBPyConnection,
    cfg: TargetsConfig,
    data: BriefingData,
    position: int,
    row: dict[str, Any],
    chart_dir: Path,
) -> ChartJob:
    """The chart of the target at ``position`` (1-based, policy order: the file names sort as the deck)."""
    series = progress.series(con, str(row["target_id"]), data.as_of, cfg=cfg)
    stem = f"{position:02d}_{_safe_name(str(row['target_id']))}"
    return ChartJob(
        str(row["target_id"]), str(row[f"name_{data.lang}"]), target_figure(data, row, series), *CHART_SIZE,
        CHART_SCALE, chart_dir / f"{stem}.png", chart_dir / f"{stem}.svg",
    )  # fmt: skip
