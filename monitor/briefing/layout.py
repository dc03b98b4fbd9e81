"""Page geometry and text measuring shared by the charts, the deck and the PDF: a title is broken and
sized by the same rule wherever it is printed (plotly never wraps a title, PowerPoint cannot be asked
how wide a text will be)."""

from __future__ import annotations

import math

SLIDE_W_IN, SLIDE_H_IN = 13.333, 7.5  # 16:9, the deck's slides and the PDF's pages


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


def title_pt(text: str, base: float, width_in: float = SLIDE_W_IN - 1.0) -> float:
    """Font size for a slide title: ``base`` when it fits one line, else a size that fits two lines
    (long English target names), never below 16 pt. The deck and the PDF use the same rule."""
    em = sum(_em(c) for c in text) * 1.05  # bold runs a little wider
    width_pt = width_in * 72
    if em * base <= width_pt:
        return base
    return max(16.0, min(base * 0.8, math.floor(2 * width_pt / em)))
