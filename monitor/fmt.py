"""Numbers and months the way Chinese officials read them: 1.5万套, 2025年3月, 30%.

The one vocabulary of the monitor: pages, charts, deck, PDF, workbook, record tables and tests format
months, figures (with the milestone rule), percentages and statuses through these functions.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, overload

import numpy as np
import pandas as pd

from monitor import i18n
from monitor.style import STATUS_ICONS, STATUS_ORDER

if TYPE_CHECKING:
    from monitor.targets import Target

# Milestones (value_type flag) are reported 1 = done, 0 = not yet; their unit in targets.yaml is this.
FLAG_UNIT = "是否完成"


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


_MONTH_ABBR = ("", "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def month_span(year: int, first: int, last: int, lang: i18n.Lang) -> str:
    """Months ``first``..``last`` (1-12) of one year: 2025年1—3月 / Jan–Mar 2025, one month as month_zh
    and month_en write it; "" when ``last`` is before ``first`` (a year not yet begun)."""
    if last < first:
        return ""
    if lang == "zh":
        return f"{year}年{first}月" if last == first else f"{year}年{first}—{last}月"
    return f"{_MONTH_ABBR[first]} {year}" if last == first else f"{_MONTH_ABBR[first]}–{_MONTH_ABBR[last]} {year}"


def date_zh(value: dt.date | pd.Timestamp | str) -> str:
    ts = pd.Timestamp(value)
    return f"{ts.year}年{ts.month}月{ts.day}日"


# Units of counts and amounts (value_type count or amount in targets.yaml): a figure in one of them is
# shown whole, a rate or a ratio (%, 个/千人) to one decimal; tests/test_export_text.py checks that every
# KPI of targets.yaml agrees with its value_type. Cards, tables, charts and sentences all round here.
WHOLE_UNITS_ZH = frozenset({"人", "人次", "个", "家", "户", "张", "场", "套", "条", "对", "所", "元"})
WHOLE_VALUE_TYPES = ("count", "amount")


@overload
def round_half_up(values: float, digits: int = 0) -> float: ...
@overload
def round_half_up(values: np.ndarray, digits: int = 0) -> np.ndarray: ...
def round_half_up(values: float | np.ndarray, digits: int = 0) -> float | np.ndarray:
    """Round half away from zero, as people round (5,564.5 -> 5,565, 31.25% -> 31.3%), not Python's
    round-half-to-even (0.5 -> 0, 2.5 -> 2). NaN stays NaN."""
    scale = 10.0**digits
    # the product carries binary noise (2.675 * 100 = 267.49999…): 6 decimals of it are dropped first
    scaled = np.round(np.abs(np.asarray(values, dtype=float)) * scale, 6)
    out = np.sign(values) * np.floor(scaled + 0.5) / scale + 0.0  # + 0.0: no "-0" for -0.4
    return float(out) if np.ndim(out) == 0 else out


def is_whole_unit(unit_zh: str) -> bool:
    """Whether figures in this (Chinese) unit are counts or amounts, shown as whole numbers."""
    return unit_zh in WHOLE_UNITS_ZH


def shown_value(value: float, unit_zh: str) -> float:
    """The figure as every view shows it: whole for counts and amounts, else to one decimal (half up)."""
    return round_half_up(value, 0 if is_whole_unit(unit_zh) else 1)


def _trim(x: float, digits: int) -> str:
    text = f"{round_half_up(x, digits):,.{digits}f}"
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


def _missing(value: object) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)) or pd.isna(value)  # type: ignore[arg-type]


def month(value: object, lang: i18n.Lang) -> str:
    """2025年3月 / Mar 2025."""
    return month_zh(value) if lang == "zh" else month_en(value)  # type: ignore[arg-type]


def figure(value: object, unit_zh: str, unit_en: str, lang: i18n.Lang) -> str:
    """One figure in its unit as every view shows it: 1.5万套, 30%, 15,000 units; a milestone reads
    已完成 / 未完成 (done / not done); a missing figure —."""
    if _missing(value):
        return "—"
    x = float(value)  # type: ignore[arg-type]
    if unit_zh == FLAG_UNIT:
        done = x >= 1
        return ("已完成" if done else "未完成") if lang == "zh" else ("done" if done else "not done")
    x = shown_value(x, unit_zh)  # the rule the sentences use (monitor.progress.reasons): 5,564.7张 -> 5,565张
    return number_zh(x, unit_zh) if lang == "zh" else number_en(x, unit_en)


def percent(share: object) -> str:
    """A share (0.7583) as a whole percentage: 76%, half up (0.125 -> 13%); a missing one —."""
    if _missing(share):
        return "—"
    return f"{round_half_up(float(share) * 100):.0f}%"  # type: ignore[arg-type]


def status(status_id: str, lang: i18n.Lang) -> str:
    """The status word with its symbol (▼ 明显滞后): colour is never the only carrier of meaning."""
    return f"{STATUS_ICONS[status_id]} {i18n.status_label(status_id, lang)}"


def commitment_state(state_id: str, lang: i18n.Lang) -> str:
    """已落实 / 推进中 / 未报送 (monitor.commitments.STATES): a commitment's state, never a target status
    (it has no deadline, so it cannot be behind)."""
    return i18n.t(f"commitment_{state_id}", lang)


# Between the two ends of a range (28%—32% / 28%–32%): reasons and target terms alike.
RANGE_DASH: dict[str, str] = {"zh": "—", "en": "–"}

# "Needs attention first": the order of statuses in every list, tile row and deck (worst first).
ATTENTION_RANK: dict[str, int] = {s: i for i, s in enumerate(STATUS_ORDER)}


# How a target moved since last month (monitor.progress.changes): ↑ better or newly achieved, ↓ worse,
# ★ judged for the first time, nothing when unchanged. Arrows, not the triangles ▲ ▼ that mark the
# statuses 需关注 and 明显滞后 (monitor.style.STATUS_ICONS): "▼ 明显滞后 ↓" reads as worse, not twice behind.
DIRECTION_MARKS: dict[str, str] = {"worse": "↓", "better": "↑", "achieved": "↑", "new": "★", "same": ""}


def direction_mark(direction: str) -> str:
    """The arrow of a change since last month (monitor.progress.changes.direction): ↑, ↓, ★ or ""."""
    return DIRECTION_MARKS[direction]


def direction_text(direction: str, lang: i18n.Lang) -> str:
    """The arrow and the word (↓ 变差 / ↓ worse); "" when unchanged."""
    if direction == "same":
        return ""
    return f"{direction_mark(direction)} {i18n.t(f'change_{direction}', lang)}"


# What targets.yaml may assume (Target.assumed), in the order every view lists them.
ASSUMED_ITEMS = ("baseline", "deadline", "tolerance", "reading", "milestones")


def assumed_mark(lang: i18n.Lang) -> str:
    """The mark written right after an assumed figure: （假设，待确认） / " (assumed, to be confirmed)".

    One wording on the target detail, the deck, the PDF and the workbook, so a reader learns it once."""
    text = i18n.t("assumed", lang)
    return f"（{text}）" if lang == "zh" else f" ({text})"


def marked(text: str, item: str, assumed: Iterable[str], lang: i18n.Lang, confirmed: Iterable[str] = ()) -> str:
    """``text`` followed by the assumed mark when ``item`` (baseline, deadline, …) is assumed, or by
    （已确认） when the lead bureau has confirmed or corrected it in the app (Target.confirmed)."""
    if item in set(assumed):
        return text + assumed_mark(lang)
    if item in set(confirmed):
        word = i18n.t("confirmed", lang)
        return f"{text}（{word}）" if lang == "zh" else f"{text} ({word})"
    return text


def assumed_items(assumed: Iterable[str], lang: i18n.Lang) -> str:
    """The assumed items named in policy-reading order: 基线、期限 / baseline, deadline ("" if none)."""
    chosen = set(assumed)
    names = [i18n.t(f"assumed_{item}", lang) for item in ASSUMED_ITEMS if item in chosen]
    return ("、" if lang == "zh" else ", ").join(names)


def assumed_caption(assumed: Iterable[str], lang: i18n.Lang) -> str:
    """本目标的基线、期限为假设值，待责任单位确认; "" when nothing is assumed."""
    items = assumed_items(assumed, lang)
    return i18n.t("assumed_caption", lang, items=items) if items else ""


def target_terms(target: Target, unit_zh: str, unit_en: str, lang: i18n.Lang) -> list[tuple[str, str]]:
    """The terms of a target a reader must know are assumed or not: baseline, deadline, the 左右 range
    and the milestones, each (label, text) with the assumed mark where targets.yaml assumes it.

    The target detail, the deck slide and the PDF page list exactly these, so the mark sits beside the
    same figure everywhere."""
    assumed, done = target.assumed, target.confirmed
    terms: list[tuple[str, str]] = []
    if target.baseline is not None:
        value, since = figure(target.baseline.value, unit_zh, unit_en, lang), month(target.baseline.date, lang)
        base = f"{value}（{since}）" if lang == "zh" else f"{value} ({since})"
        terms.append((i18n.t("baseline", lang), marked(base, "baseline", assumed, lang, done)))
    terms.append((i18n.t("col_deadline", lang), marked(month(target.deadline, lang), "deadline", assumed, lang, done)))
    if target.tolerance is not None:
        low = figure(target.value - target.tolerance, unit_zh, unit_en, lang)
        high = figure(target.value + target.tolerance, unit_zh, unit_en, lang)
        span = f"{low}{RANGE_DASH[lang]}{high}"
        terms.append((i18n.t("goal_range", lang), marked(span, "tolerance", assumed, lang, done)))
    if target.milestones:
        steps = " · ".join(
            f"{month(m.date, lang)}{'：' if lang == 'zh' else ': '}{figure(m.value, unit_zh, unit_en, lang)}"
            for m in target.milestones
        )
        terms.append((i18n.t("milestones_label", lang), marked(steps, "milestones", assumed, lang, done)))
    return terms
