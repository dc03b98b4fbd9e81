"""Numbers and months the way Chinese officials read them: 1.5万套, 2025年3月, 30%."""

from __future__ import annotations

import datetime as dt
import math
import re

import pandas as pd


def month_zh(value: dt.date | pd.Timestamp | str | None) -> str:
    """2025-03-01 -> 2025年3月."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    ts = pd.Timestamp(value)
    return f"{ts.year}年{ts.month}月"


def month_en(value: dt.date | pd.Timestamp | str | None) -> str:
    """2025-03-01 -> Mar 2025."""
    if value is None:
        return "—"
    return pd.Timestamp(value).strftime("%b %Y")


def date_zh(value: dt.date | pd.Timestamp | str) -> str:
    ts = pd.Timestamp(value)
    return f"{ts.year}年{ts.month}月{ts.day}日"


def _trim(x: float, digits: int) -> str:
    text = f"{x:,.{digits}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def number_zh(value: float | None, unit: str = "", *, digits: int = 2) -> str:
    """15000 -> 1.5万; 6210 -> 6,210; 123456789 -> 1.23亿; 30 with unit % -> 30%."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    a = abs(value)
    if unit == "%":
        return f"{_trim(value, 1)}%"
    if a >= 100_000_000:
        text = _trim(value / 100_000_000, digits) + "亿"
    elif a >= 10_000:
        text = _trim(value / 10_000, digits) + "万"
    else:
        text = _trim(value, 0 if float(value).is_integer() else 1)
    return text + unit


def number_en(value: float | None, unit: str = "", *, digits: int = 1) -> str:
    """15000 -> 15,000; 1_250_000 -> 1.25 m."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if unit == "%":
        return f"{_trim(value, 1)}%"
    text = _trim(value, 0 if float(value).is_integer() else digits)
    if value == 1:
        unit = singular(unit)
    return f"{text} {unit}".strip()


IRREGULAR = {"people": "person", "children": "child"}


def singular(unit: str) -> str:
    """The unit after the number 1: 1 programme, 1 specialty, 1 place per 1,000 people.

    Units in targets.yaml are a plural noun, maybe followed by a qualifier: only that noun changes."""
    noun, space, rest = unit.partition(" ")
    if noun in IRREGULAR:
        noun = IRREGULAR[noun]
    elif noun.endswith("ies"):
        noun = noun[:-3] + "y"
    elif noun.endswith(("sses", "shes", "ches", "xes")):
        noun = noun[:-2]
    elif noun.endswith("s") and not noun.endswith("ss"):
        noun = noun[:-1]
    return noun + space + rest


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~$:&=])")
_LINE_BREAK = re.compile(r"\r\n|[\r\n\v\f\x85\u2028\u2029]")


def plain(text: object) -> str:
    """Text a user typed or uploaded (a file name, a user name, a note), safe to put inside a message
    that Streamlit renders as Markdown: every Markdown and HTML character is escaped, so
    `[x](http://…)` or `![x](…)` shows as typed and never becomes a link or an outside image fetch."""
    # a line break would start a new Markdown block (a heading, a list, a code block): one line only
    return _LINE_BREAK.sub(" ", _MARKDOWN_SPECIAL.sub(r"\\\1", str(text)))
