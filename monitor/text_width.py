"""How wide a text prints, in em, without a font engine: the one measure charts, slides and the PDF
use to leave room for their labels and titles (plotly never wraps a title or widens a margin by
itself reliably, and PowerPoint cannot be asked how wide a text will be)."""

from __future__ import annotations

# Geometric shapes and dingbats (the status symbols ▼ ◆ ▲ ○ ● ✔): Noto Sans CJK draws them full width.
_FULL_WIDTH_SYMBOLS = (0x2190, 0x27BF)


def char_em(ch: str) -> float:
    """Rough advance width of a character in em: CJK, full-width forms and the status symbols are
    square, Latin capitals about 0.62, other Latin about 0.52 (Noto Sans at its average)."""
    code = ord(ch)
    if code >= 0x2E80 or ch in "“”‘’" or _FULL_WIDTH_SYMBOLS[0] <= code <= _FULL_WIDTH_SYMBOLS[1]:
        return 1.0
    return 0.62 if ch.isupper() or ch in "%@#&" else 0.52


def text_em(text: str) -> float:
    """The width of a one-line text in em (sum of char_em)."""
    return sum(char_em(ch) for ch in text)
