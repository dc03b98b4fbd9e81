"""The PowerPoint deck's slides (16:9): cover, summary, a target's slide (its chart, reason,
explanation and open actions) and the drawing primitives; monitor.briefing.pack puts them in order
(exception-first pack or full deck) and adds the gaps and appendix slides. Every run names Noto Sans
CJK SC as latin and east-asian font, so Chinese text looks the same on every machine that opens the deck."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lxml import etree
from pptx.dml.color import RGBColor
from pptx.enum.shapes import MSO_SHAPE
from pptx.enum.text import MSO_ANCHOR, MSO_AUTO_SIZE, PP_ALIGN
from pptx.oxml.ns import qn
from pptx.slide import Slide
from pptx.text.text import TextFrame, _Paragraph
from pptx.util import Inches, Pt

from monitor import explanations, fmt
from monitor.briefing.layout import (
    CELL_INSET_IN,
    CELL_PAD_IN,
    SLIDE_W_IN,
    TITLE_INSET_IN,
    TITLE_SIDE_INSET_IN,
    fitted_pt,
    row_height_in,
    slide_title,
    title_height_in,
)
from monitor.briefing.model import CJK_FONT, BriefingData, ChartFile
from monitor.style import STATUS_COLORS, STATUS_ORDER

_INK = "1F2A37"
_MUTED = "5B6573"
_HEADER_FILL = "2E3B4E"
_ROW_FILL = ("FFFFFF", "F3F5F8")
_ASSUMED = "D55E00"  # the assumed note: the vermilion of the demo warning, readable for colour-blind readers
SLIDE_LINE_CHARS = 56  # an explanation line under the chart: 8.7 in at 9 pt holds about 66 CJK characters


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


def _fit_title(shape: Any, text: str, size: float, *, left: float, top: float, width: float, height: float) -> None:
    """Write a bold title into a title placeholder that holds all its lines: the size and line count of
    layout.slide_title, a frame at least layout.title_height_in tall (grown upwards, so what sits under
    it stays clear), 100% line spacing, and no shrink-on-overflow (the template's normAutofit would
    squeeze the spacing of an English two-line title until g, p and y lose their descenders)."""
    size, lines = slide_title(text, size, width)
    bottom = top + height
    height = max(height, title_height_in(lines, size))
    shape.left, shape.top = Inches(left), Inches(bottom - height)
    shape.width, shape.height = Inches(width), Inches(height)
    tf = shape.text_frame
    tf.clear()
    tf.word_wrap = True
    tf.auto_size = MSO_AUTO_SIZE.NONE
    tf.margin_top = tf.margin_bottom = Inches(TITLE_INSET_IN)
    tf.margin_left = tf.margin_right = Inches(TITLE_SIDE_INSET_IN)
    tf.vertical_anchor = MSO_ANCHOR.MIDDLE
    paragraph = _paragraph(tf, text, size=size, bold=True, first=True, align=PP_ALIGN.LEFT)
    paragraph.line_spacing = 1.0


def _title(slide: Slide, text: str, *, top: float = 0.3, height: float = 0.8, size: float = 26) -> None:
    """Fill the layout's title placeholder (kept as the title, so outline view and screen readers
    see it) and move it into place: python-pptx's default template is laid out for 4:3."""
    _fit_title(slide.shapes.title, text, size, left=0.5, top=top, width=SLIDE_W_IN - 1.0, height=height)


def _footer(slide: Slide, data: BriefingData, page: int) -> None:
    _textbox(slide, 0.5, 7.05, 10.5, 0.35, [(data.note, 10, False, _MUTED)])
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
    # every row as tall as its wrapped lines need (layout.row_height_in), never less than row_height
    heights = [row_height_in(list(header), list(widths), size, bold=True, minimum=row_height)]
    heights += [row_height_in([str(v) for v in r], list(widths), size, minimum=row_height) for r in rows]
    shape = slide.shapes.add_table(
        len(rows) + 1, len(widths), Inches(left), Inches(top), Inches(sum(widths)), Inches(sum(heights))
    )
    table = shape.table
    for j, w in enumerate(widths):
        table.columns[j].width = Inches(w)
    for i, height in enumerate(heights):
        table.rows[i].height = Inches(height)
    fills = fills or {}
    for i, values in enumerate([list(header), *[list(r) for r in rows]]):
        for j, value in enumerate(values):
            cell = table.cell(i, j)
            cell.margin_left = cell.margin_right = Inches(CELL_INSET_IN)
            cell.margin_top = cell.margin_bottom = Inches(CELL_PAD_IN)
            cell.vertical_anchor = MSO_ANCHOR.MIDDLE
            colour = _HEADER_FILL if i == 0 else fills.get((i - 1, j), _ROW_FILL[(i - 1) % 2])
            cell.fill.solid()
            cell.fill.fore_color.rgb = RGBColor.from_string(colour.lstrip("#"))
            white = i == 0 or (i - 1, j) in fills
            tf = cell.text_frame
            tf.word_wrap = True
            _paragraph(tf, str(value), size=size, bold=i == 0, color="FFFFFF" if white else _INK, first=True)


def _cover(prs: Any, data: BriefingData) -> None:
    slide = prs.slides.add_slide(prs.slide_layouts[0])  # Title Slide: title + subtitle placeholders
    band = slide.shapes.add_shape(MSO_SHAPE.RECTANGLE, 0, 0, prs.slide_width, Inches(0.35))
    _fill(band, "#0072B2")
    _fit_title(slide.shapes.title, data.t("brief_title"), 36, left=0.8, top=2.1, width=11.7, height=1.7)
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
    changes = data.changes_line()
    shift = 0.4 if changes else 0.0  # the 本月变化 line under the tiles pushes the table down
    if changes:
        _textbox(slide, 0.5, 2.12, 12.3, 0.4, [(changes, 14, True, _INK)])
    worst = data.worst()
    _textbox(slide, 0.5, 2.2 + shift, 7.9, 0.4, [(data.t("brief_worst", n=len(worst)), 15, True, _INK)])
    rows, fills = [], {}
    for i, r in enumerate(worst.to_dict("records")):
        rows.append(
            [str(i + 1), r["section"], r[f"name_{data.lang}"], data.bureau(r["lead_bureau"]),
             fmt.percent(r["progress"]), data.status_text(r["status"])]
        )  # fmt: skip
        fills[(i, 5)] = STATUS_COLORS[r["status"]]
    header = ["#", data.t("col_section"), data.t("col_target"), data.t("col_bureau"), data.t("col_progress"),
              data.t("col_status")]  # fmt: skip
    row_height = 0.34 if not shift else 0.31
    widths = [0.3, 0.6, 3.65, 1.6, 0.75, 1.1]
    size = fitted_pt(header, rows, widths, 9, 2.6 + shift, row_height)  # long English names wrap
    _table(slide, 0.5, 2.6 + shift, widths, header, rows, size=size, row_height=row_height, fills=fills)
    slide.shapes.add_picture(str(chart.png), Inches(8.6), Inches(2.2 + shift), width=Inches(4.45 - shift))
    _footer(slide, data, page)


def _target_slide(prs: Any, data: BriefingData, row: dict[str, Any], chart: ChartFile, page: int) -> None:
    slide = prs.slides.add_slide(prs.slide_layouts[5])
    _title(slide, str(row[f"name_{data.lang}"]), size=24)
    _textbox(slide, 0.5, 1.0, 12.3, 0.4, [(data.meta(row), 13, False, _MUTED)])
    lines_below = below_chart(data, row)
    # text under the chart takes its lower part: 7.5 x 4.22 in with an explanation or actions, 6.3 x
    # 3.54 in with both, 8.8 x 4.95 in with neither
    chart_width = CHART_WIDTHS[min(len(lines_below), 2)]
    slide.shapes.add_picture(str(chart.png), Inches(0.4), Inches(1.38), width=Inches(chart_width))
    text_lines = [(line, 10 if first else 9, first, _INK) for block in lines_below for first, line in _headed(block)]
    if text_lines:
        top = 1.38 + chart_width * 9 / 16 + 0.04
        _textbox(slide, 0.5, top, 8.7, 6.36 - top, text_lines)
    _badge(slide, data, row["status"], 9.45, 1.5, 3.4, 0.6)
    terms = data.terms(row)
    note = data.assumed_note(row)
    value_pt = 16 if terms or note else 18  # room below the figures for the terms and the assumed note
    lines: list[tuple[str, float, bool, str]] = []
    for label, value in data.figures(row):
        lines += [(label, 11, False, _MUTED), (value, value_pt, True, _INK)]
    lines += [(f"{label}{data.sep}{text}", 10, False, _INK) for label, text in terms]
    if note:
        lines.append((note, 10, True, _ASSUMED))
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


CHART_WIDTHS = (8.8, 7.5, 6.3)  # a target chart's width (in) with 0, 1 or 2 text blocks under it
ACTIONS_SHOWN = 3  # open actions listed under a chart; more are counted ("另有2项")


def below_chart(data: BriefingData, row: dict[str, Any]) -> list[list[str]]:
    """The text blocks under a target's chart, each a heading then lines: the lead bureau's latest
    explanation (explanations.briefing_lines) and the target's open follow-up actions; a block is []
    when there is nothing to say. The slide and the PDF page show the same blocks."""
    bureau = data.bureau(str(row.get("expl_bureau")))
    explained = explanations.briefing_lines(row, data.lang, bureau, SLIDE_LINE_CHARS)
    actions = data.open_actions(str(row["target_id"]))
    acted: list[str] = []
    if actions:
        acted = [data.t("pack_actions_heading", n=len(actions))]
        acted += [data.action_line(a) for a in actions[:ACTIONS_SHOWN]]
        if len(actions) > ACTIONS_SHOWN:
            acted.append(data.t("pack_actions_more", n=len(actions) - ACTIONS_SHOWN))
    return [block for block in (explained, acted) if block]


def _headed(block: list[str]) -> list[tuple[bool, str]]:
    return [(i == 0, line) for i, line in enumerate(block)]
