"""Briefing exports: what leadership takes into a meeting, as of one month.

One call writes, for the selected targets, the charts (PNG for slides, SVG for print), a 16:9
PowerPoint deck, a PDF of the same pages, an Excel workbook and a zip of the charts:

    result = build_briefing(con, cfg, "2026-10", "out/", sections=["三(二)"], progress=print)

By default the deck is exception first (monitor.briefing.pack: only the targets needing attention
get a slide and a chart, every target is in the appendix); ``full=True`` gives every target a slide.

One concern a module:

    model.py      BriefingData (what every output shows, in the fmt vocabulary), BriefingResult, errors
    data.py       collect: the selected targets, their district rows, the reporting summary per bureau
    figures.py    the app's charts (monitor.charts) with a print layer: size, badge, legend, source
    layout.py     slide geometry and title measuring shared by charts, deck and PDF
    browser.py    the one headless Chromium (kaleido): SVG render, PNG rasterising, printing to PDF
    deck.py       the PowerPoint slides (cover, summary, a target's slide) and drawing primitives
    pack.py       the deck in order: the exception-first pack (default) or the full deck; gaps, appendix
    pdf.py        the PDF's HTML, rendered from templates/briefing.html.j2 (Jinja2, autoescaped)
    workbook.py   the Excel workbook (every text cell formula-safe)
    build.py      build_briefing: one run, overlapping what can overlap on two cores

No streamlit import: the page, the command line (``python -m monitor briefing``) and the benchmark
share this package.
"""

from __future__ import annotations

from monitor.briefing.build import build_briefing
from monitor.briefing.data import _month_ranges, collect, reporting_summary, select_targets
from monitor.briefing.model import (
    APPENDIX_ROWS,
    ATTENTION_STATUSES,
    BriefingData,
    BriefingError,
    BriefingResult,
    ChartFile,
    ProgressCallback,
    appendix_page_count,
    safe_cell,
)
from monitor.briefing.pack import write_deck
from monitor.briefing.pdf import briefing_html
from monitor.briefing.workbook import write_workbook

__all__ = [
    "APPENDIX_ROWS",
    "ATTENTION_STATUSES",
    "BriefingData",
    "BriefingError",
    "BriefingResult",
    "ChartFile",
    "ProgressCallback",
    "_month_ranges",
    "appendix_page_count",
    "briefing_html",
    "build_briefing",
    "collect",
    "reporting_summary",
    "safe_cell",
    "select_targets",
    "write_deck",
    "write_workbook",
]
