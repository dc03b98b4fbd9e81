"""Files offered for download, safe to open in Excel or WPS: no cell can be read as a formula.

Text a user typed or uploaded ends up in exported files (a rejected value, a file name, a note).
A spreadsheet program reads a cell that starts with = + - @ (or a tab / line break, which it skips
before looking for one) as a formula, so `=HYPERLINK("http://…")` typed into a report would become
a live link in the problems list. The OWASP advice: prefix such text with a single quote. Only text
is touched; a negative number in a numeric column stays a number.
"""

from __future__ import annotations

import math

import pandas as pd

FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")


def safe_cell(value: object) -> str:
    """Text for a spreadsheet cell that can never be read as a formula ("" for a missing value)."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return ""
    text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of `frame` with every text cell neutralised and its headers too; numeric, boolean and
    date columns keep their values (a -5 stays the number -5)."""
    out = frame.copy()
    for column in out.columns:
        series = out[column]
        if pd.api.types.is_numeric_dtype(series) or pd.api.types.is_datetime64_any_dtype(series):
            continue
        # object columns may mix numbers and text: numbers stay numbers, text is neutralised
        out[column] = series.map(
            lambda cell: cell if _is_number(cell) else (safe_cell(cell) if cell is not None else cell),
            na_action="ignore",
        ).astype(object)
    out.columns = [safe_cell(c) for c in out.columns]
    return out


def _is_number(cell: object) -> bool:
    return isinstance(cell, int | float) and not isinstance(cell, bool)


def safe_csv(frame: pd.DataFrame) -> bytes:
    """The frame as a csv that Excel opens in Chinese (UTF-8 with BOM), every text cell neutralised."""
    return safe_frame(frame).to_csv(index=False).encode("utf-8-sig")
