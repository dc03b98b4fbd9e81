"""fmt.number_zh / fmt.number_en for a whole column of figures at once, text for text the same.

A province-scale scorecard writes tens of thousands of distinct figures into its reasons; fmt rounds
one figure at a time through numpy (a few microseconds of overhead each, most of the sentence cost).
Here the rounding (fmt.round_half_up, the same function) runs once over the column and only the
final ``format`` is per figure. tests/test_progress_numbers.py pins equality with fmt on edge values.
"""

from __future__ import annotations

import numpy as np

from monitor import fmt


def _trimmed(values: np.ndarray, digits: np.ndarray) -> list[str]:
    """fmt._trim for every value: round half up to ``digits`` (0, 1 or 2), thousands separators,
    trailing zeros dropped."""
    rounded = np.empty(len(values), dtype=float)
    for d in np.unique(digits).tolist():
        rows = digits == d
        rounded[rows] = fmt.round_half_up(values[rows], int(d))
    out = []
    for value, d in zip(rounded.tolist(), digits.tolist(), strict=True):
        text = f"{value:,.{d}f}"
        if "." in text:
            text = text.rstrip("0").rstrip(".")
        out.append(text)
    return out


def _is_integer(values: np.ndarray) -> np.ndarray:
    """float.is_integer() for every value (False for inf and NaN)."""
    with np.errstate(invalid="ignore"):
        return np.isfinite(values) & (values == np.floor(values))


def number_texts(values: np.ndarray, unit: str, lang: str) -> np.ndarray:
    """fmt.number_zh(value, unit) (lang "zh") or fmt.number_en(value, unit) (lang "en") for every
    value, as an object array; NaN gives "—" as there."""
    values = np.asarray(values, dtype=float)
    out = np.full(len(values), "—", dtype=object)
    known = ~np.isnan(values)
    if not known.any():
        return out
    value = values[known]
    if unit == "%":
        texts = np.array([t + "%" for t in _trimmed(value, np.ones(len(value), dtype=np.int64))], dtype=object)
        out[known] = texts
        return out
    whole_digits = np.where(_is_integer(value), 0, 1).astype(np.int64)
    if lang == "zh":
        size = np.abs(value)
        yi, wan = size >= 100_000_000, (size >= 10_000) & (size < 100_000_000)
        scaled = np.where(yi, value / 100_000_000, np.where(wan, value / 10_000, value))
        digits = np.where(yi | wan, 2, whole_digits).astype(np.int64)
        suffix = np.where(yi, "亿", np.where(wan, "万", "")).astype(object)
        texts = np.array(_trimmed(scaled, digits), dtype=object) + suffix + unit
    else:
        numbers = _trimmed(value, whole_digits)
        one = fmt.singular(unit)
        texts = np.array(
            [f"{n} {one if v == 1 else unit}".strip() for n, v in zip(numbers, value.tolist(), strict=True)],
            dtype=object,
        )
    out[known] = texts
    return out
