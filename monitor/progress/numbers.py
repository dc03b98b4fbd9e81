"""Column-wise texts of the scorecard's reasons: fmt.number_zh / fmt.number_en for a whole column of
figures at once (text for text the same), and texts carried as codes among distinct texts.

A province-scale scorecard writes tens of thousands of figures into its reasons; fmt rounds one
figure at a time through numpy (a few microseconds of overhead each, most of the sentence cost).
Here the rounding (fmt.round_half_up, the same function) runs once over the column and only the
final ``format`` is per figure. tests/test_progress_numbers.py pins equality with fmt on edge values.
The same figure, month or target name recurs over thousands of rows: ``Column`` keeps each distinct
text once, and ``joined`` joins pieces made only of such texts once per distinct combination.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd

from monitor import fmt
from monitor.i18n import Lang


def _trimmed(values: np.ndarray, digits: np.ndarray) -> np.ndarray:
    """fmt._trim for every value: round half up to ``digits`` (0, 1 or 2), thousands separators,
    trailing zeros dropped."""
    out = np.empty(len(values), dtype=object)
    levels = np.unique(digits).tolist()
    for d in levels:
        rows = np.flatnonzero(digits == d) if len(levels) > 1 else slice(None)
        rounded = fmt.round_half_up(values[rows], int(d)).tolist()
        texts = list(map(format, rounded, itertools.repeat(f",.{d}f")))
        if d:
            texts = [text.rstrip("0").rstrip(".") if "." in text else text for text in texts]
        out[rows] = texts
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
        out[known] = _trimmed(value, np.ones(len(value), dtype=np.int64)) + "%"
        return out
    whole_digits = np.where(_is_integer(value), 0, 1).astype(np.int64)
    if lang == "zh":
        size = np.abs(value)
        yi, wan = size >= 100_000_000, (size >= 10_000) & (size < 100_000_000)
        scaled = np.where(yi, value / 100_000_000, np.where(wan, value / 10_000, value))
        digits = np.where(yi | wan, 2, whole_digits).astype(np.int64)
        suffix = np.where(yi, "亿", np.where(wan, "万", "")).astype(object)
        texts = _trimmed(scaled, digits) + suffix + unit
    else:
        # f"{number} {unit}".strip(): a number has no spaces at its ends, so only the unit's end is stripped
        named = np.where(value == 1, f" {fmt.singular(unit)}".rstrip(), f" {unit}".rstrip()).astype(object)
        texts = _trimmed(value, whole_digits) + named
    out[known] = texts
    return out


@dataclass(frozen=True)
class Column:
    """A text for every row given as its code among distinct texts: the row's text is texts[code]."""

    codes: np.ndarray
    texts: np.ndarray

    def by_row(self) -> np.ndarray:
        return self.texts[self.codes]


Part = str | np.ndarray | Column  # a str is the same in every row


def first_rows(codes: np.ndarray) -> np.ndarray:
    """Where each code first occurs, for codes numbered in order of first occurrence (pd.factorize)."""
    if not len(codes):
        return np.array([], dtype=np.int64)
    seen_before = np.maximum.accumulate(codes)
    return np.flatnonzero(np.concatenate([[True], codes[1:] > seen_before[:-1]]))


def joined(*parts: Part) -> np.ndarray:
    """The parts joined row by row (at least one part is not a str). Made of ``Column`` and str
    only: once per distinct combination of codes. Else one new string per row, where adding object
    arrays would make one per piece."""
    coded = [part for part in parts if isinstance(part, Column)]
    if all(isinstance(part, str | Column) for part in parts):
        combination = np.zeros(len(coded[0].codes), dtype=np.int64)
        for part in coded:
            combination, _ = pd.factorize(combination * len(part.texts) + part.codes)
        first = first_rows(combination)
        firsts = (part.texts[part.codes[first]] if isinstance(part, Column) else part for part in parts)
        return _joined_by_row(*firsts)[combination]
    return _joined_by_row(*(part.by_row() if isinstance(part, Column) else part for part in parts))


def _joined_by_row(*parts: str | np.ndarray) -> np.ndarray:
    merged: list[str | np.ndarray] = []
    for part in parts:
        if isinstance(part, str) and merged and isinstance(merged[-1], str):
            merged[-1] += part
        elif not isinstance(part, str) or part:
            merged.append(part)
    if len(merged) <= 3:  # adding is quicker for a few pieces
        out = merged[0]
        for part in merged[1:]:
            out = out + part
        return out  # type: ignore[return-value]
    columns = [itertools.repeat(part) if isinstance(part, str) else part.tolist() for part in merged]
    return np.array(list(map("".join, zip(*columns, strict=False))), dtype=object)  # type: ignore[call-overload]


def made(keys: np.ndarray, make: Callable[[object], str]) -> Column:
    """make(key) for every row, called once per distinct key (months, spans, counts)."""
    codes, distinct = pd.factorize(keys, use_na_sentinel=False)
    return Column(codes, np.array([make(key) for key in distinct.tolist()], dtype=object))


def made_both(
    keys: np.ndarray, make_zh: Callable[[object], str], make_en: Callable[[object], str]
) -> tuple[Column, Column]:
    """(make_zh(key), make_en(key)) for every row, once per distinct key."""
    codes, distinct = pd.factorize(keys, use_na_sentinel=False)
    listed = distinct.tolist()
    zh = np.array([make_zh(key) for key in listed], dtype=object)
    en = np.array([make_en(key) for key in listed], dtype=object)
    return Column(codes, zh), Column(codes, en)


class Distinct(NamedTuple):
    """Figures as their codes among distinct figures: candidates[codes]; candidates[0] is NaN (—)."""

    codes: np.ndarray
    candidates: np.ndarray

    @classmethod
    def of(cls, values: np.ndarray) -> Distinct:
        codes, distinct = pd.factorize(np.asarray(values, dtype=float))  # NaN: code -1
        return cls(codes.astype(np.int64) + 1, np.concatenate([[np.nan], distinct]))


@dataclass(frozen=True)
class NumberColumns:
    """fmt.number_zh / number_en (numbers.number_texts) of chosen rows in their own unit, once per
    distinct (value, unit): the units are told apart once, not for every column."""

    lang: Lang
    unit_codes: np.ndarray  # by row: the row's unit in ``units``
    units: list[str]

    @classmethod
    def of(cls, units: np.ndarray, lang: Lang) -> NumberColumns:
        codes, distinct = pd.factorize(units, use_na_sentinel=False)
        return cls(lang, codes.astype(np.int64), [str(unit) for unit in distinct.tolist()])

    def column(self, values: np.ndarray | Distinct, rows: np.ndarray) -> Column:
        """The texts of ``values``, the figures of ``rows`` (in that order)."""
        value_codes, candidates = values if isinstance(values, Distinct) else Distinct.of(values)
        unit_codes = self.unit_codes[rows]
        if not len(rows) or (unit_codes == unit_codes[0]).all():  # one unit: a text per distinct value
            unit = self.units[unit_codes[0]] if len(rows) else ""
            return Column(value_codes, number_texts(candidates, unit, self.lang))
        count = len(self.units)
        pairs, keys = pd.factorize(value_codes * count + unit_codes)
        value_at, unit_at = np.divmod(np.asarray(keys, dtype=np.int64), count)
        texts = np.empty(len(keys), dtype=object)
        for code, unit in enumerate(self.units):
            at = unit_at == code
            if at.any():
                texts[at] = number_texts(candidates[value_at[at]], unit, self.lang)
        return Column(pairs, texts)

    def texts(self, values: np.ndarray | Distinct, rows: np.ndarray, before: str = "", after: str = "") -> np.ndarray:
        """column(values, rows) by row, each between ``before`` and ``after`` (added once per text)."""
        column = self.column(values, rows)
        texts = before + column.texts + after if before or after else column.texts
        return texts[column.codes]
