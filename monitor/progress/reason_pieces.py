"""The pieces every reason sentence is made of (reasons.py): the inputs of one scorecard, the target's
goal in words, the months and spans, the figures as texts, each made once per distinct value and only
for the rows whose sentence names it (a silent unit's sentence has no forecast).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from monitor import fmt, i18n
from monitor.progress.members import MemberCount
from monitor.progress.months import month_date
from monitor.progress.numbers import Column, Distinct, NumberColumns, first_rows, joined, made, made_both
from monitor.progress.plan import Plan

WHOLE = fmt.WHOLE_VALUE_TYPES  # value types shown as whole numbers (fmt.round_half_up, as the cards)


@dataclass(frozen=True)
class ReasonInputs:
    """What a reason says, for every judged unit (one entry per unit): the status, the figures, how
    the target is counted (``plan``), its unit, the judged year (``year``, ``months_in``), the trend's
    length, whether the row is an aggregate (else where its district share comes from), the complete
    years of yearly targets and the target's row (``target_row``: its name is formatted once)."""

    status: np.ndarray
    plan: Plan
    actual: np.ndarray
    expected: np.ndarray
    forecast: np.ndarray
    unit_zh: np.ndarray
    unit_en: np.ndarray
    value_type: np.ndarray
    latest: np.ndarray
    trend_months: np.ndarray
    year: np.ndarray
    months_in: np.ndarray
    year_offset: np.ndarray  # months of the judged year before a yearly target started (its first year)
    is_aggregate: np.ndarray
    share_note_zh: np.ndarray  # where a district's share comes from (quotas.allot); "" otherwise
    share_note_en: np.ndarray
    years: list[list[dict[str, object]] | None]
    target_row: np.ndarray
    # aggregates of an ``all`` KPI (every centre must open), by row: how many members reported done
    every_member: dict[int, MemberCount] = field(default_factory=dict)


Texts = tuple[np.ndarray, np.ndarray]  # (zh, en) sentences or parts of them, one entry per row chosen


def shown_values(values: np.ndarray, value_type: np.ndarray) -> np.ndarray:
    """Counts and amounts are shown whole (a plan of 6,081.08 套 reads as 6,081套), others to 0.1, half
    up: fmt's rule, so a sentence and the card beside it show the same figure."""
    return _rounded(values, np.isin(value_type, WHOLE))


def _rounded(values: np.ndarray, whole: np.ndarray) -> np.ndarray:
    """shown_values, with the rows shown whole already known."""
    return np.where(whole, fmt.round_half_up(values), fmt.round_half_up(values, 1))


@dataclass(frozen=True)
class _Names:
    """How every row's target is named, as its code among distinct (zh, en) names (a target's name is
    the same for thousands of rows)."""

    codes: np.ndarray
    zh: np.ndarray
    en: np.ndarray

    def at(self, rows: np.ndarray) -> tuple[Column, Column]:
        codes = self.codes[rows]
        return Column(codes, self.zh), Column(codes, self.en)

    def renamed(self, rows: np.ndarray, names: tuple[Column, Column]) -> _Names:
        """These names with the rows ``rows`` now named ``names``."""
        zh, en = names
        codes = self.codes.copy()
        codes[rows] = len(self.zh) + zh.codes
        return _Names(codes, np.concatenate([self.zh, zh.texts]), np.concatenate([self.en, en.texts]))

    def around(self, rows: np.ndarray, zh_before: str, zh_after: str, en_before: str, en_after: str) -> Texts:
        """zh_before + name + zh_after (en alike) for every row of ``rows``."""
        zh, en = self.at(rows)
        return joined(zh_before, zh, zh_after), joined(en_before, en, en_after)


def _goal(kind: str, mode: str, comparator: str, target_zh: str, tolerance_zh: str, target_en: str,
          tolerance_en: str) -> tuple[str, str]:  # fmt: skip
    """How the target itself is named in a reason: 目标1.5万套, 年度上限5,000张, 目标30%左右（±2%）."""
    if comparator == "~":
        return f"目标{target_zh}左右（±{tolerance_zh}）", f"target about {target_en} ± {tolerance_en}"
    if kind == "floor":
        return f"每年不低于{target_zh}", f"at least {target_en} every year"
    if kind == "cap":
        if mode == "ytd":
            return f"年度上限{target_zh}", f"annual cap {target_en}"
        return f"上限{target_zh}", f"cap {target_en}"
    if kind == "annual":
        return f"年度目标{target_zh}", f"annual target {target_en}"
    return f"目标{target_zh}", f"target {target_en}"


def _goals(
    inputs: ReasonInputs, numbers: tuple[NumberColumns, NumberColumns], target: np.ndarray, tolerance: np.ndarray
) -> _Names:
    """How each row's target is named: once per target and share (aggregate, district)."""
    plan = inputs.plan
    # districts of one target may have different shares (quotas, the policy's parts): one text per value
    target_codes, _ = pd.factorize(target)
    tolerance_codes, _ = pd.factorize(tolerance)
    key = (inputs.target_row.astype(np.int64) * (len(target) + 1) + target_codes + 1) * (len(target) + 1)
    codes, _ = pd.factorize(key + tolerance_codes + 1)
    first = first_rows(codes)
    zh, en = numbers
    target_first, tolerance_first = Distinct.of(target[first]), Distinct.of(tolerance[first])
    texts = [
        of_lang.texts(values, first).tolist()
        for values, of_lang in ((target_first, zh), (tolerance_first, zh), (target_first, en), (tolerance_first, en))
    ]
    goals = [
        _goal(plan.kind[i], plan.mode[i], plan.comparator[i], *(column[n] for column in texts))
        for n, i in enumerate(first.tolist())
    ]
    return _Names(
        codes.astype(np.int64),
        np.array([zh for zh, _ in goals], dtype=object),
        np.array([en for _, en in goals], dtype=object),
    )


def _span_key(year: np.ndarray, first: np.ndarray, last: np.ndarray) -> np.ndarray:
    """The months first..last of a year as one number: (2024, 7, 10) -> 20240710."""
    return year.astype(np.int64) * 10000 + first.astype(np.int64) * 100 + last.astype(np.int64)


def _span_months(key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(first, last) month of span keys; a span whose last month is before its first is none ("")."""
    return np.divmod(key % 10000, 100)


def _span(key: object, lang: i18n.Lang) -> str:
    year, rest = divmod(int(key), 10000)  # type: ignore[call-overload]
    first, last = divmod(rest, 100)
    return fmt.month_span(year, first, last, lang)


def _span_zh(key: object) -> str:
    return _span(key, "zh")


def _span_en(key: object) -> str:
    return _span(key, "en")


def _month_zh(month: object) -> str:
    """A month index as text, "" for none (-1)."""
    return fmt.month(month_date(month), "zh") if month >= 0 else ""  # type: ignore[arg-type, operator]


def _month_en(month: object) -> str:
    return fmt.month(month_date(month), "en") if month >= 0 else ""  # type: ignore[arg-type, operator]


@dataclass(frozen=True)
class Pieces:
    """The figures of every row's sentence and the facts that choose it; the texts of a figure, month
    or span are made for the rows whose sentence names it (``numbers``, ``months``, ``spans``)."""

    as_of_zh: str
    as_of_en: str
    numbers: tuple[NumberColumns, NumberColumns]  # (zh, en)
    actual: np.ndarray  # shown figures (shown)
    expected: np.ndarray
    forecast: np.ndarray
    low: np.ndarray  # 左右 targets: the range
    high: np.ndarray
    goal: _Names  # how the target is named; a milestone by its due month
    deadline: np.ndarray  # month indexes
    latest: np.ndarray
    span: np.ndarray  # the judged year's months so far (_span_key): 2025年1—3月; none before it begins
    year: np.ndarray  # the judged year
    trend_months: np.ndarray  # whole numbers
    months_silent: np.ndarray  # months since the last figure
    year_not_begun: np.ndarray  # bool: a yearly target whose first judged year has not begun
    no_span: np.ndarray  # bool: the judged year has not begun
    flow: np.ndarray  # bool: judged per year on flows, the forecast is for the year
    level_cap: np.ndarray  # bool: a cap on a level, no plan but the cap itself
    above_cap: np.ndarray  # bool
    above_range: np.ndarray  # bool: a 左右 target above its range
    below_floor: np.ndarray  # bool: a floor not kept
    no_trend: np.ndarray  # bool: fewer than two figures in the trend window

    def texts(self, values: np.ndarray, rows: np.ndarray) -> tuple[Column, Column]:
        """The (zh, en) texts of the figures ``values`` (one per row) of ``rows``."""
        zh, en = self.numbers
        distinct = Distinct.of(values[rows])
        return zh.column(distinct, rows), en.column(distinct, rows)

    def around(self, values: np.ndarray, rows: np.ndarray, zh_before: str, zh_after: str, en_before: str,
               en_after: str) -> Texts:  # fmt: skip
        """texts(values, rows) between the words given (added once per distinct text)."""
        zh, en = self.numbers
        distinct = Distinct.of(values[rows])
        return zh.texts(distinct, rows, zh_before, zh_after), en.texts(distinct, rows, en_before, en_after)

    def months(self, months: np.ndarray, rows: np.ndarray) -> tuple[Column, Column]:
        return made_both(months[rows], _month_zh, _month_en)

    def spans(self, rows: np.ndarray) -> tuple[Column, Column]:
        return made_both(self.span[rows], _span_zh, _span_en)

    def whole(self, values: np.ndarray, rows: np.ndarray) -> Column:
        """Whole numbers as text (months, years)."""
        return made(values[rows], str)


def pieces(inputs: ReasonInputs, as_of_month: int) -> Pieces:
    plan = inputs.plan
    whole = np.isin(inputs.value_type, WHOLE)
    actual, expected, forecast, target, tolerance = (
        _rounded(values.astype(float), whole)
        for values in (inputs.actual, inputs.expected, inputs.forecast, plan.target, plan.tolerance)
    )
    numbers = (NumberColumns.of(inputs.unit_zh, "zh"), NumberColumns.of(inputs.unit_en, "en"))
    goal = _goals(inputs, numbers, target, tolerance)
    about = plan.comparator == "~"
    low, high = (np.where(about, target + sign * tolerance, np.nan) for sign in (-1, 1))
    flag = np.flatnonzero(plan.mode == "flag")
    if len(flag):
        deadline_zh, deadline_en = made_both(plan.deadline_month[flag], _month_zh, _month_en)
        due_zh = Column(deadline_zh.codes, "截止时间" + deadline_zh.texts)
        goal = goal.renamed(flag, (due_zh, Column(deadline_en.codes, "due " + deadline_en.texts)))
    first = inputs.year_offset.astype(np.int64) + 1
    span = _span_key(inputs.year, first, inputs.months_in)
    prorated = np.flatnonzero(first > 1)
    if len(prorated):  # a first year in force for part of the year: its target names its months
        part = _span_key(inputs.year[prorated], first[prorated], np.full(len(prorated), 12))
        part_zh, part_en = made_both(part, _span_zh, _span_en)
        target_prorated = Distinct.of(target[prorated])
        target_zh, target_en = (of_lang.column(target_prorated, prorated) for of_lang in numbers)
        cap = plan.kind[prorated] == "cap"
        each = np.arange(len(prorated))
        goal = goal.renamed(
            prorated,
            (
                Column(each, joined(part_zh, np.where(cap, "上限", "目标").astype(object), target_zh)),
                Column(each, joined(np.where(cap, "cap ", "target ").astype(object), target_en, " for ", part_en)),
            ),
        )
    span_first, span_last = _span_months(span)
    no_span = span_last < span_first
    latest = inputs.latest.astype(np.int64)
    return Pieces(
        as_of_zh=fmt.month(month_date(as_of_month), "zh"),
        as_of_en=fmt.month(month_date(as_of_month), "en"),
        numbers=numbers,
        actual=actual,
        expected=expected,
        forecast=forecast,
        low=low,
        high=high,
        goal=goal,
        deadline=plan.deadline_month,
        latest=latest,
        span=span,
        year=inputs.year.astype(np.int64),
        trend_months=np.nan_to_num(inputs.trend_months.astype(float)).astype(np.int64),
        months_silent=(as_of_month - latest).astype(np.int64),
        year_not_begun=(plan.mode == "ytd") & no_span,
        no_span=no_span,
        flow=(plan.mode == "ytd") | (plan.kind == "annual"),
        level_cap=(plan.kind == "cap") & (plan.mode != "ytd"),
        above_cap=(plan.kind == "cap") & (actual > target),
        above_range=about & (inputs.actual > plan.target + plan.tolerance),
        below_floor=(plan.kind == "floor") & (inputs.actual < plan.target),
        no_trend=np.isnan(forecast),
    )
