"""Exported charts and slides print every text whole, in both languages (issue 16):

- the status chart leaves room for its longest status word and for the count after each bar;
- a slide title's frame holds all its lines with their descenders (g, p, y), without PowerPoint's
  shrink-on-overflow, and the PDF's title box does not clip them;
- no axis title is printed rotated (a rotated 个 reads like ←): the unit is in the subtitle;
- one rounding rule (monitor.fmt): counts and amounts whole, rates to one decimal, half up; the card
  beside a sentence shows the sentence's figure.

Text widths are measured with the real font (Noto Sans CJK, which the charts, the deck and the PDF
name) through Pillow, not with the estimate the code uses, so an estimate that runs short fails here.
"""

from __future__ import annotations

import datetime as dt
import re
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
from PIL import ImageFont
from pptx import Presentation
from pptx.enum.text import MSO_AUTO_SIZE
from pptx.util import Emu, Inches

from monitor import briefing, charts, db, fmt, i18n, progress
from monitor.briefing import deck
from monitor.briefing.figures import SUMMARY_SIZE, print_layout, summary_figure
from monitor.briefing.layout import LINE_EM
from monitor.progress import reason_pieces
from monitor.style import STATUS_ORDER
from monitor.targets import load_targets

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "monitor" / "briefing" / "templates" / "briefing.html.j2"
AS_OF = dt.date(2026, 10, 1)
LANGS = ("zh", "en")


@cache
def font(bold: bool = False) -> ImageFont.FreeTypeFont:
    """Noto Sans CJK SC at 1000 px (widths in em = length / 1000), as fontconfig finds it."""
    name = "Noto Sans CJK SC:bold" if bold else "Noto Sans CJK SC"
    path = subprocess.run(["fc-match", "-f", "%{file}", name], capture_output=True, text=True, check=True).stdout
    for index in range(10):
        face = ImageFont.truetype(path, 1000, index=index)
        if face.getname()[0] == "Noto Sans CJK SC":
            return face
    raise AssertionError(f"Noto Sans CJK SC not in {path}: the exports need it installed")


def width_px(text: str, size_px: float, bold: bool = False) -> float:
    return font(bold).getlength(text) * size_px / 1000


# -- one rounding rule ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "unit_zh", "unit_en", "zh", "en"),
    [
        (5564.7, "张", "cards", "5,565张", "5,565 cards"),
        (1427.6, "人", "people", "1,428人", "1,428 people"),
        (0.5, "人", "people", "1人", "1 person"),  # half up, not Python's half to even (0)
        (2.5, "个", "projects", "3个", "3 projects"),  # half to even would give 2
        (1234.5, "元", "yuan", "1,235元", "1,235 yuan"),  # an amount is whole too
        (15000.4, "套", "units", "1.5万套", "15,000 units"),
        (31.25, "%", "%", "31.3%", "31.3%"),  # a rate: one decimal, half up (31.2 half to even)
        (3.25, "个/千人", "places per 1,000 people", "3.3个/千人", "3.3 places per 1,000 people"),  # a ratio
    ],
)
def test_figures_round_counts_whole_and_rates_to_one_decimal_half_up(
    value: float, unit_zh: str, unit_en: str, zh: str, en: str
) -> None:
    assert fmt.figure(value, unit_zh, unit_en, "zh") == zh
    assert fmt.figure(value, unit_zh, unit_en, "en") == en


def test_progress_percentages_round_half_up() -> None:
    assert [fmt.percent(share) for share in (0.125, 0.7583, 0.0049)] == ["13%", "76%", "0%"]


def test_sentences_round_with_the_same_rule() -> None:
    shown = reason_pieces.shown_values(
        np.array([0.5, 2.5, 5564.7, 31.25]), np.array(["count", "count", "count", "ratio"])
    )
    assert shown.tolist() == [1.0, 3.0, 5565.0, 31.3]


def test_every_count_unit_of_targets_yaml_is_shown_whole() -> None:
    """fmt decides by the unit; targets.yaml's value_type is the truth: they must agree for every KPI."""
    cfg = load_targets()
    disagree = [
        (k.id, k.unit_zh, k.value_type)
        for k in cfg.kpis
        if k.value_type != "flag" and fmt.is_whole_unit(k.unit_zh) != (k.value_type in fmt.WHOLE_VALUE_TYPES)
    ]
    assert disagree == []


SENTENCE = {
    "zh": re.compile(r"按计划应达([^；，]+)；按近\d+个月趋势预计\d{4}年\d{1,2}月达([^（]+)（目标([^）]+)）"),
    "en": re.compile(r"against (.+?) planned; the \d+-month trend projects (.+?) by \w{3} \d{4} \(target (.+?)\)"),
}


def _sentence_figures(row: dict[str, Any], lang: str) -> tuple[str, str, str] | None:
    """(planned, forecast, target) as the row's reason writes them; None for another kind of sentence."""
    found = SENTENCE[lang].search(str(row[f"reason_{lang}"]))
    return found.groups() if found else None  # type: ignore[return-value]


def test_card_and_sentence_of_every_unit_show_the_same_figures(demo_db: Path) -> None:
    """The target detail's cards (ui.number), the deck's and the PDF's figures (BriefingData.figures)
    and the workbook's text go through fmt.figure; the reason is the sentence beside them. Every
    district share and plan of the demo (5,833.3人 of a 10-way split, 916.7套 of a quota) reads the
    same in both."""
    cfg = load_targets()
    con = db.connect(demo_db, read_only=True)
    try:
        units = progress.scorecard(con, AS_OF, cfg=cfg, all_units=True)
    finally:
        con.close()
    compared, fractional = 0, 0
    for row in units.to_dict("records"):
        for lang in LANGS:
            said = _sentence_figures(row, lang)
            if said is None:
                continue
            card = [fmt.figure(row[c], row["unit_zh"], row["unit_en"], lang) for c in ("expected", "forecast")]
            assert list(said[:2]) == card, (row["target_id"], row["district_id"], lang)
            if "左右" not in said[2] and "about" not in said[2]:
                assert said[2] == fmt.figure(row["target_value"], row["unit_zh"], row["unit_en"], lang)
            compared += 1
            whole = fmt.is_whole_unit(str(row["unit_zh"]))
            fractional += whole and any(abs(row[c] % 1) > 1e-9 for c in ("expected", "forecast", "target_value"))
    assert compared > 200 and fractional > 100  # the rule was exercised on figures that are not whole


FORECAST = {
    "zh": re.compile(r"趋势预计(?:\d{4}年\d{1,2}月达|全年)([^（；]+)（"),
    "en": re.compile(r"trend projects (.+?) (?:by \w{3} \d{4}|for the year) \("),
}


@pytest.mark.parametrize("lang", LANGS)
def test_deck_cards_show_their_sentence_forecast(demo_db: Path, lang: str) -> None:
    """Each slide's 预测 figure (BriefingData.figures, also the PDF's) is the forecast its reason states:
    the demo's bus cards project 5,564.7张 for the year, and card and sentence both say 5,565张."""
    con = db.connect(demo_db, read_only=True)
    try:
        data = briefing.collect(con, load_targets(), "2026-10", lang=lang, full=True)  # type: ignore[arg-type]
    finally:
        con.close()
    label = i18n.t("col_forecast", lang)  # type: ignore[arg-type]
    compared, fractional = 0, 0
    for row in data.card.to_dict("records"):
        said = FORECAST[lang].search(str(row[f"reason_{lang}"]))
        if said is None:
            continue
        assert dict(data.figures(row))[label] == said.group(1), row["target_id"]
        compared += 1
        fractional += fmt.is_whole_unit(str(row["unit_zh"])) and abs(row["forecast"] % 1) > 1e-9
    assert compared >= 10 and fractional >= 3


# -- the status chart --------------------------------------------------------------------------------


COUNTS = {"off_track": 14, "overdue": 4, "at_risk": 6, "no_data": 2, "on_track": 14, "achieved": 126}


@pytest.mark.parametrize("lang", LANGS)
def test_status_chart_margin_holds_its_longest_label(lang: str) -> None:
    fig = charts.status_bar(COUNTS, lang, "目标状态分布")  # type: ignore[arg-type]
    size = fig.layout.font.size
    labels = [fmt.status(s, lang) for s in STATUS_ORDER]  # type: ignore[arg-type]
    longest = max(width_px(label, size) for label in labels)
    assert list(fig.data[0].y) == labels
    assert fig.layout.yaxis.ticklabelstandoff >= 8  # the label does not touch its bar
    assert fig.layout.margin.l >= longest + fig.layout.yaxis.ticklabelstandoff


@pytest.mark.parametrize("lang", LANGS)
def test_printed_status_chart_holds_its_labels_and_counts(demo_db: Path, lang: str) -> None:
    """The briefing's summary chart at its print size (760 px, 22 px text): the margin holds ◆ 逾期未完成
    / ◆ Overdue, and the largest count printed after its bar ends inside the plot."""
    con = db.connect(demo_db, read_only=True)
    try:
        data = briefing.collect(con, load_targets(), "2026-10", lang=lang)
    finally:
        con.close()
    fig = summary_figure(data)
    size = fig.layout.font.size
    standoff = fig.layout.yaxis.ticklabelstandoff
    longest = max(width_px(str(label), size) for label in fig.data[0].y)
    assert fig.layout.margin.l >= longest + standoff
    plot_w = SUMMARY_SIZE[0] - fig.layout.margin.l - fig.layout.margin.r
    top = max(fig.data[0].x)
    low, high = fig.layout.xaxis.range
    bar_end = (top - low) / (high - low) * plot_w
    assert bar_end + 3 + width_px(str(top), size) <= plot_w  # 3: plotly's text pad


# -- axis titles -------------------------------------------------------------------------------------


def _series() -> pd.DataFrame:
    periods = pd.date_range("2025-01-01", periods=6, freq="MS")
    return pd.DataFrame(
        {"period": periods, "actual": [0, 0, 1, 1, 1, 2], "expected": [0.5, 1, 1.5, 2, 2.5, 3],
         "forecast": np.nan, "forecast_low": np.nan, "forecast_high": np.nan}
    )  # fmt: skip


ROW = {
    "name_zh": "3年内建设3个硕士点", "name_en": "Establish three master's programmes", "unit_zh": "个",
    "unit_en": "programmes", "status": "off_track", "target_value": 3, "deadline": dt.date(2027, 7, 1),
}  # fmt: skip


@pytest.mark.parametrize(("lang", "unit_text"), [("zh", "单位：个"), ("en", "unit: programmes")])
def test_target_chart_states_its_unit_horizontally(lang: str, unit_text: str) -> None:
    fig = charts.trajectory(_series(), ROW, lang, as_of_label="2026年10月")  # type: ignore[arg-type]
    printed = print_layout(fig, lang, width=1280, height=720, status="off_track")  # type: ignore[arg-type]
    for figure in (fig, printed):
        assert not figure.layout.yaxis.title.text  # no rotated 个 beside the axis
        assert unit_text in figure.layout.title.text
        assert all(a.textangle in (None, 0) for a in figure.layout.annotations)
    ticks = list(fig.layout.yaxis.tickvals)
    assert all(float(t).is_integer() for t in ticks)  # a count's axis never reads 0.4个


def test_value_axis_title_moves_into_the_subtitle() -> None:
    """A figure that arrives with a value axis title (plotly express's label, the detail page's district
    bars): base_layout prints it horizontally in the subtitle instead."""
    fig = go.Figure(go.Bar(x=["2025年1月"], y=[3]))
    fig.update_yaxes(title_text="数值")
    charts.base_layout(fig, "各旗区月度数据")
    assert not fig.layout.yaxis.title.text
    assert fig.layout.title.text == "各旗区月度数据<br><sup>数值</sup>"


# -- slide titles ------------------------------------------------------------------------------------


def _lines(text: str, size_pt: float, width_pt: float, bold: bool = True) -> int:
    """Lines a text (bold by default) takes in ``width_pt``, broken as PowerPoint breaks: at spaces in
    Latin text, between any two characters in Chinese; widths from the real font."""
    tokens = re.findall(r"[\u2E80-\uFFFF]|[^\s\u2E80-\uFFFF]+\s*", text)
    lines, current = 1, ""
    for token in tokens:
        trial = current + token
        if current and width_px(trial.rstrip(), size_pt, bold=bold) > width_pt:
            lines, current = lines + 1, token
        else:
            current = trial
    return lines


LONG_EN = "Raise the share of young people staying in Ordos after graduating from programmes supported by the policy"


def _titles() -> list[str]:
    cfg = load_targets()
    return [LONG_EN, *(t.name_en for t in cfg.targets), *(t.name_zh for t in cfg.targets)]


def test_slide_title_frames_hold_every_line_with_its_descenders() -> None:
    """Each target's title on its slide (24 pt, two lines at most): the frame, less its insets, is at
    least the lines times the font's line height (ascent + descent = 1.448 em, read from the font:
    PowerPoint's 100% spacing), so the last line's g, p, y stay inside; PowerPoint may not shrink the
    text or its spacing (no autofit), and the frame ends where it always did (1.1 in), above the
    line under it."""
    ascent, descent = font(bold=True).getmetrics()
    line_em = (ascent + descent) / 1000
    assert line_em == pytest.approx(LINE_EM, abs=0.001)
    prs = Presentation()
    two_lines = 0
    for text in _titles():
        slide = prs.slides.add_slide(prs.slide_layouts[5])
        deck._title(slide, text, size=24)
        shape = slide.shapes.title
        frame = shape.text_frame
        paragraph = frame.paragraphs[0]
        size = paragraph.runs[0].font.size.pt
        assert frame.auto_size == MSO_AUTO_SIZE.NONE
        assert paragraph.line_spacing == 1.0
        inner_w = Emu(shape.width - frame.margin_left - frame.margin_right).pt
        inner_h = Emu(shape.height - frame.margin_top - frame.margin_bottom).pt
        lines = _lines(text, size, inner_w)
        assert lines <= 2, text
        assert inner_h >= lines * size * line_em, (text, size, lines, inner_h)
        assert shape.top + shape.height == pytest.approx(Inches(1.1), abs=Emu(Inches(0.01)))
        two_lines += lines == 2
    assert two_lines >= 1  # the long English title wraps: the two-line case was checked


def test_pdf_title_box_does_not_clip_descenders() -> None:
    """The PDF's h1 clips what leaves its box (overflow hidden, two lines at most); at line-height 1.2
    Noto Sans CJK's glyphs reach (1.448 - 1.2) / 2 = 0.124 em beyond each line box, so the box is
    padded by at least that much above and below."""
    css = TEMPLATE.read_text(encoding="utf-8")
    rule = re.search(r"^h1 \{([^}]*)\}", css, re.M)
    assert rule is not None
    body = " ".join(rule.group(1).split())
    line_height = float(re.search(r"line-height: ([\d.]+);", body).group(1))  # type: ignore[union-attr]
    padding = float(re.search(r"padding: ([\d.]+)em 0;", body).group(1))  # type: ignore[union-attr]
    assert "overflow: hidden" in body
    assert padding >= (LINE_EM - line_height) / 2


# -- slide tables ------------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_every_table_row_holds_its_wrapped_lines_and_every_table_ends_above_the_footer(
    demo_db: Path, tmp_path: Path, lang: str
) -> None:
    """The pack of every target (summary, gaps, appendix): each row is at least as tall as the lines
    its cells wrap into (real font widths, LINE_EM a line, the cell margins), so neither PowerPoint
    (which would grow the row past the slide) nor LibreOffice (which cuts the last line) changes it;
    and each table ends above the footer (7.05 in). English names wrap where Chinese ones do not:
    its appendix needs more slides."""
    con = db.connect(demo_db, read_only=True)
    try:
        data = briefing.collect(con, load_targets(), "2026-10", lang=lang)  # type: ignore[arg-type]
    finally:
        con.close()
    blank = tmp_path / "blank.png"
    from PIL import Image

    Image.new("RGB", (16, 9), "white").save(blank)
    charts_by_key = {k: briefing.ChartFile(k, k, blank, blank) for k in ["summary", *data.card["target_id"]]}
    prs = Presentation(str(briefing.write_deck(data, charts_by_key, tmp_path / "deck.pptx")))
    tables, wrapped = 0, 0
    for slide in prs.slides:
        for shape in slide.shapes:
            if not shape.has_table:
                continue
            tables += 1
            table = shape.table
            assert Emu(shape.top + sum(r.height for r in table.rows)).inches <= 7.0, (lang, shape.top)
            for i, row in enumerate(table.rows):
                needed = 0.0
                for j, cell in enumerate(row.cells):
                    run = cell.text_frame.paragraphs[0].runs[0] if cell.text_frame.paragraphs[0].runs else None
                    if run is None:
                        continue
                    size = run.font.size.pt
                    inner_w = Emu(table.columns[j].width - cell.margin_left - cell.margin_right).pt
                    lines = _lines(cell.text_frame.text, size, inner_w, bold=i == 0)
                    wrapped += lines > 1
                    needed = max(needed, lines * size * LINE_EM + Emu(cell.margin_top + cell.margin_bottom).pt)
                assert Emu(row.height).pt >= needed, (lang, i, [c.text_frame.text for c in row.cells])
    appendix = len(data.appendix_pages())
    assert tables == 1 + 1 + appendix  # summary, gaps, the appendix slides
    if lang == "en":
        assert wrapped > 20 and appendix > -(-len(data.card) // briefing.APPENDIX_ROWS)


def test_the_briefing_page_counts_the_appendix_slides_the_deck_gets(demo_db: Path) -> None:
    """pages/briefing.py's slide count uses appendix_page_count, which must agree with the deck."""
    con = db.connect(demo_db, read_only=True)
    try:
        for lang in LANGS:
            data = briefing.collect(con, load_targets(), "2026-10", lang=lang)  # type: ignore[arg-type]
            counted = briefing.appendix_page_count(data.card, lang, data.bureau_names)  # type: ignore[arg-type]
            assert counted == len(data.appendix_pages()), lang
    finally:
        con.close()
