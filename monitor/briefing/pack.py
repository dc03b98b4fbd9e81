"""The deck in order. The default pack is exception first, what a delivery unit's stocktake puts on
the table: cover; status summary with the changes since last month; one slide per target needing
attention (off track, overdue, at risk, or worse than last month; worst first) with its chart,
reason, explanation and open actions; the reporting gaps (the app's 催报 list for the month); an
appendix table of every selected target. The full deck (``BriefingData.full``) keeps the old order:
cover, summary, one slide per target in policy order, the gaps.

The PDF (monitor.briefing.pdf) follows the same order: both ask BriefingData.slide_rows().
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pptx import Presentation
from pptx.util import Emu, Inches

from monitor.briefing.deck import _INK, _MUTED, _cover, _footer, _summary, _table, _target_slide, _textbox, _title
from monitor.briefing.layout import (
    APPENDIX_MIN_ROW_IN,
    APPENDIX_PT,
    APPENDIX_TOP_IN,
    APPENDIX_WIDTHS,
    SLIDE_H_IN,
    SLIDE_W_IN,
    fitted_pt,
)
from monitor.briefing.model import BriefingData, ChartFile

GAP_WIDTHS = (2.6, 1.7, 1.5, 1.5, 5.0)  # bureau, state, due, first received, KPIs not reported


def gaps_slide(prs: Any, data: BriefingData, page: int) -> None:
    """责任单位缺报情况: the month's missing and late reports, as the data-quality page lists them."""
    from monitor import reminders  # the reminders module imports the warehouse layer

    slide = prs.slides.add_slide(prs.slide_layouts[5])
    _title(slide, data.t("brief_missing_title"))
    month = data.month(data.as_of)
    rows = data.gap_rows()
    if not rows:
        _textbox(slide, 0.5, 1.3, 12.3, 0.6, [(data.t("reminders_none", month=month), 18, False, _INK)])
    else:
        due = data.gaps[0].due_date
        intro = data.t("reminders_title", month=month, due=reminders.day(due, data.lang))
        _textbox(slide, 0.5, 1.15, 12.3, 0.45, [(intro, 15, False, _INK)])
        dense = len(rows) > 8
        header = [data.t("f_bureau"), *(data.t(k) for k in (
            "reminder_col_state", "reminder_col_due", "reminder_col_submitted", "reminder_col_kpis"))]  # fmt: skip
        row_height = 0.3 if dense else 0.4
        size = fitted_pt(header, rows, GAP_WIDTHS, 9 if dense else 11, 1.7, row_height)
        _table(slide, 0.5, 1.7, GAP_WIDTHS, header, rows, size=size, row_height=row_height)
    _footer(slide, data, page)


def appendix_slides(prs: Any, data: BriefingData, first_page: int) -> None:
    """附表: every selected target in policy order, as many slides as needed (BriefingData.appendix_pages:
    at most APPENDIX_ROWS a slide, fewer when names wrap), 11 pt."""
    pages = data.appendix_pages()
    header = data.appendix_header()
    for i, rows in enumerate(pages):
        slide = prs.slides.add_slide(prs.slide_layouts[5])
        part = f" ({i + 1}/{len(pages)})" if len(pages) > 1 else ""
        _title(slide, data.t("pack_appendix_title") + part)
        _table(
            slide, 0.5, APPENDIX_TOP_IN, APPENDIX_WIDTHS, header, rows, size=APPENDIX_PT, row_height=APPENDIX_MIN_ROW_IN
        )
        _footer(slide, data, first_page + i)
    if not pages:
        return
    # a note under the last table: what the marks after a status mean (only when there are changes)
    if data.changes is not None:
        last = prs.slides[len(prs.slides) - 1]
        _textbox(last, 0.5, 6.7, 12.3, 0.3, [(data.t("pack_marks_note"), 10, False, _MUTED)])


def write_deck(data: BriefingData, charts_by_key: dict[str, ChartFile], path: Path) -> Path:
    """The deck in the order of the module docstring (16:9); a target slide for each slide_rows() row."""
    prs = Presentation()
    prs.slide_width, prs.slide_height = Emu(int(Inches(SLIDE_W_IN))), Emu(int(Inches(SLIDE_H_IN)))
    core = prs.core_properties
    core.title = f"{data.t('brief_title')} {data.month(data.as_of)}"
    core.subject = data.as_of_label
    core.author = "0477 monitor"
    _cover(prs, data)
    _summary(prs, data, charts_by_key["summary"], 2)
    rows = data.slide_rows().to_dict("records")
    for page, row in enumerate(rows, start=3):
        _target_slide(prs, data, row, charts_by_key[str(row["target_id"])], page)
    gaps_slide(prs, data, len(rows) + 3)
    if not data.full:
        appendix_slides(prs, data, len(rows) + 4)
    prs.save(str(path))
    return path
