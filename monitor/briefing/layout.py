"""Page geometry and text measuring shared by the charts, the deck and the PDF: a title is broken and
sized by the same rule wherever it is printed (plotly never wraps a title, PowerPoint cannot be asked
how wide a text will be)."""

from __future__ import annotations

import math

from monitor.text_width import char_em as _em

SLIDE_W_IN, SLIDE_H_IN = 13.333, 7.5  # 16:9, the deck's slides and the PDF's pages

# One line of Noto Sans CJK at 100% spacing is 1.448 em tall: ascent 1.160 em + descent 0.288 em (the
# font's hhea metrics, the same in every weight), the height PowerPoint and Chromium give it. A text
# frame shorter than its lines cuts the descenders of g, p, y off the last line, or, with PowerPoint's
# shrink-on-overflow, squeezes the line spacing until they collide.
LINE_EM = 1.448
TITLE_INSET_IN = 0.05  # a slide title's top and bottom inset (PowerPoint's default)
TITLE_SIDE_INSET_IN = 0.1  # its left and right inset (PowerPoint's default)
BOLD_WIDTH = 1.05  # bold runs a little wider than text_em's regular estimate
MIN_TITLE_PT = 16.0


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


def title_pt(text: str, base: float, width_in: float = SLIDE_W_IN - 1.0) -> float:
    """Font size for a slide title: ``base`` when it fits one line, else a size that fits two lines
    (long English target names), never below 16 pt. The deck and the PDF use the same rule."""
    em = sum(_em(c) for c in text) * BOLD_WIDTH
    width_pt = width_in * 72
    if em * base <= width_pt:
        return base
    return max(MIN_TITLE_PT, min(base * 0.8, math.floor(2 * width_pt / em)))


def title_lines(text: str, pt: float, width_in: float) -> int:
    """How many lines a bold title breaks into at ``pt`` in a text width of ``width_in`` (breaking
    at spaces as PowerPoint does, so a long last word can push a line over)."""
    max_em = width_in * 72 / (pt * BOLD_WIDTH)
    return len(wrap_title(text, max_em, max_lines=8))


def slide_title(text: str, base: float, frame_w_in: float = SLIDE_W_IN - 1.0) -> tuple[float, int]:
    """Font size and line count of a slide title in a frame ``frame_w_in`` wide: title_pt's size
    (one line, else two), made smaller while the words still break into three lines, never below
    MIN_TITLE_PT."""
    width_in = frame_w_in - 2 * TITLE_SIDE_INSET_IN
    pt = title_pt(text, base, width_in)
    while title_lines(text, pt, width_in) > 2 and pt > MIN_TITLE_PT:
        pt = max(MIN_TITLE_PT, pt - 0.5)
    return pt, title_lines(text, pt, width_in)


def title_height_in(lines: int, pt: float) -> float:
    """The frame height (in) that holds ``lines`` lines at ``pt`` with 100% spacing and the insets:
    LINE_EM per line, so the last line's descenders stay inside the frame, plus 1 pt for the rounding
    of inches to the file's EMUs and of the renderer's glyph boxes."""
    return (lines * pt * LINE_EM + 1) / 72 + 2 * TITLE_INSET_IN


# Tables on slides (deck._table): PowerPoint grows a row whose text wraps past its height, so a table
# of long English names runs off the slide bottom, and LibreOffice cuts the last line instead. Rows
# are therefore sized from their wrapped lines, and a table is fitted (smaller type, or split over
# slides) before it is drawn.
CELL_INSET_IN = 0.06  # a table cell's left and right margin
CELL_PAD_IN = 0.03  # its top and bottom margin
CELL_SAFETY = 1.06  # text_em's Latin widths are averages: wrap a little early rather than under-count a line
TABLE_BOTTOM_IN = 6.95  # the footer starts at 7.05 in
APPENDIX_WIDTHS = (0.8, 4.7, 1.5, 1.6, 1.5, 2.2)  # section, target, status, figure, target value, bureau
APPENDIX_PT = 11.0
APPENDIX_TOP_IN = 1.15
APPENDIX_MIN_ROW_IN = 0.3


def cell_lines(text: str, pt: float, width_in: float, *, bold: bool = False) -> int:
    """How many lines a cell's text wraps into at ``pt`` in a column ``width_in`` wide (breaking as
    wrap_title does: at spaces in Latin text, anywhere in Chinese)."""
    usable_pt = (width_in - 2 * CELL_INSET_IN) * 72
    latin = any(ch.isascii() and ch.isalpha() for ch in str(text))  # Chinese characters are exactly 1 em
    max_em = usable_pt / (pt * (CELL_SAFETY if latin else 1.0) * (BOLD_WIDTH if bold else 1.0))
    return max(1, len(wrap_title(str(text), max_em, max_lines=50)))


def row_height_in(cells: list[str], widths: tuple[float, ...] | list[float], pt: float, *, bold: bool = False,
                  minimum: float = 0.0) -> float:  # fmt: skip
    """The height (in) a table row needs: its tallest cell's lines at 100% spacing plus the margins."""
    lines = max((cell_lines(c, pt, w, bold=bold) for c, w in zip(cells, widths, strict=False)), default=1)
    return max(minimum, (lines * pt * LINE_EM + 1) / 72 + 2 * CELL_PAD_IN)


def table_height_in(
    header: list[str], rows: list[list[str]], widths: tuple[float, ...] | list[float], pt: float, minimum: float
) -> float:
    return row_height_in(header, widths, pt, bold=True, minimum=minimum) + sum(
        row_height_in(r, widths, pt, minimum=minimum) for r in rows
    )


def fitted_pt(
    header: list[str], rows: list[list[str]], widths: tuple[float, ...] | list[float], pt: float, top_in: float,
    minimum: float, smallest: float = 7.0,
) -> float:  # fmt: skip
    """The largest size from ``pt`` down to ``smallest`` (half points) at which the table ends above
    the footer; ``smallest`` when none does."""
    while pt > smallest and top_in + table_height_in(header, rows, widths, pt, minimum) > TABLE_BOTTOM_IN:
        pt -= 0.5
    return pt


def paginate(header: list[str], rows: list[list[str]], max_rows: int) -> list[list[list[str]]]:
    """The appendix split over slides: at most ``max_rows`` rows a slide, and fewer when long names
    wrap (English), so that no slide's table runs into the footer."""
    budget = (
        TABLE_BOTTOM_IN
        - APPENDIX_TOP_IN
        - row_height_in(header, APPENDIX_WIDTHS, APPENDIX_PT, bold=True, minimum=APPENDIX_MIN_ROW_IN)
    )
    pages: list[list[list[str]]] = [[]]
    used = 0.0
    for row in rows:
        height = row_height_in(row, APPENDIX_WIDTHS, APPENDIX_PT, minimum=APPENDIX_MIN_ROW_IN)
        if pages[-1] and (used + height > budget or len(pages[-1]) >= max_rows):
            pages.append([])
            used = 0.0
        pages[-1].append(row)
        used += height
    return pages
