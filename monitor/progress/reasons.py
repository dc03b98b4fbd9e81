"""One sentence per judged unit, in Chinese and English, with the figures behind its status.

Every number, month and target name is formatted once per distinct value (a province-scale heat map
repeats the same targets, plans and months thousands of times) into a column of ``_Pieces``; each
kind of sentence is then joined for all its rows at once, by adding the columns (numpy object arrays
add element by element). The exact words are pinned by tests/test_progress.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from monitor import fmt
from monitor.i18n import Lang
from monitor.progress.figures import MemberCount
from monitor.progress.months import month_date
from monitor.progress.numbers import number_texts
from monitor.progress.plan import Plan

WHOLE = fmt.WHOLE_VALUE_TYPES  # value types shown as whole numbers (fmt.round_half_up, as the cards)
_MONTH_ABBR = ("", "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


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


def _shown(values: np.ndarray, value_type: np.ndarray) -> np.ndarray:
    """Counts and amounts are shown whole (a plan of 6,081.08 套 reads as 6,081套), others to 0.1, half
    up: fmt's rule, so a sentence and the card beside it show the same figure."""
    whole = np.isin(value_type, WHOLE)
    return np.where(whole, fmt.round_half_up(values), fmt.round_half_up(values, 1))


def _texts(values: np.ndarray, units: np.ndarray, lang: Lang) -> np.ndarray:
    """fmt.number_zh / number_en(value, unit) for every row, once per distinct (value, unit), column-wise."""
    out = np.empty(len(values), dtype=object)
    for unit in set(units.tolist()):
        idx = np.flatnonzero(units == unit)
        distinct, inverse = np.unique(values[idx].astype(float), return_inverse=True)
        out[idx] = number_texts(distinct, str(unit), lang)[inverse]
    return out


def _per_row(keys: np.ndarray, make: Callable[[object], str]) -> np.ndarray:
    """make(key) for every row, called once per distinct key (months, spans, counts)."""
    distinct, inverse = np.unique(keys, return_inverse=True)
    return np.array([make(k) for k in distinct.tolist()], dtype=object)[inverse]


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


def _goals(inputs: ReasonInputs, target: np.ndarray, tolerance: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """How each row's target is named: once per target and share (aggregate, district)."""
    plan, unit_zh, unit_en = inputs.plan, inputs.unit_zh, inputs.unit_en
    # districts of one target may have different shares (quotas, the policy's parts): one text per value
    codes, _ = pd.MultiIndex.from_arrays([inputs.target_row, target, tolerance]).factorize()
    _, first, inverse = np.unique(codes, return_index=True, return_inverse=True)
    texts = [
        _texts(values[first], units[first], lang).tolist()
        for values, units, lang in (
            (target, unit_zh, "zh"), (tolerance, unit_zh, "zh"), (target, unit_en, "en"), (tolerance, unit_en, "en"),
        )
    ]  # fmt: skip
    goals = [
        _goal(plan.kind[i], plan.mode[i], plan.comparator[i], *(column[n] for column in texts))
        for n, i in enumerate(first.tolist())
    ]
    goal_zh = np.array([zh for zh, _ in goals], dtype=object)[inverse]
    goal_en = np.array([en for _, en in goals], dtype=object)[inverse]
    return goal_zh, goal_en


def _span_key(year: np.ndarray, first: np.ndarray, last: np.ndarray) -> np.ndarray:
    """The months first..last of a year as one number: (2024, 7, 10) -> 20240710."""
    return year.astype(np.int64) * 10000 + first.astype(np.int64) * 100 + last.astype(np.int64)


def _span_zh(key: object) -> str:
    year, rest = divmod(int(key), 10000)  # type: ignore[call-overload]
    first, last = divmod(rest, 100)
    if last < first:
        return ""
    return f"{year}年{first}月" if last == first else f"{year}年{first}—{last}月"


def _span_en(key: object) -> str:
    year, rest = divmod(int(key), 10000)  # type: ignore[call-overload]
    first, last = divmod(rest, 100)
    if last < first:
        return ""
    return f"{_MONTH_ABBR[first]} {year}" if last == first else f"{_MONTH_ABBR[first]}–{_MONTH_ABBR[last]} {year}"


def _suffixes(inputs: ReasonInputs) -> tuple[np.ndarray, np.ndarray]:
    """What follows the sentence: last year's result (annual targets), the district's share."""
    count = len(inputs.status)
    suffix_zh, suffix_en = np.full(count, "", dtype=object), np.full(count, "", dtype=object)
    rows = [i for i, years in enumerate(inputs.years) if years]
    if rows:
        last = [inputs.years[i][-1] for i in rows]  # type: ignore[index]
        at = np.array(rows, dtype=np.int64)
        shown = _shown(np.array([float(y["actual"]) for y in last]), inputs.value_type[at])  # type: ignore[arg-type]
        year = np.array([str(y["year"]) for y in last], dtype=object)
        met = np.array([bool(y["met"]) for y in last])
        suffix_zh[at] = (
            "；" + year + "年" + _texts(shown, inputs.unit_zh[at], "zh")
            + np.where(met, "（达标）", "（未达标）").astype(object)
        )  # fmt: skip
        met_en = np.where(met, " (met)", " (missed)").astype(object)
        suffix_en[at] = "; " + year + ": " + _texts(shown, inputs.unit_en[at], "en") + met_en
    suffix_zh += inputs.share_note_zh
    suffix_en += inputs.share_note_en
    return suffix_zh, suffix_en


def _month_texts(months: np.ndarray, lang: Lang) -> np.ndarray:
    """A month index as text, "" for none (-1)."""
    return _per_row(months, lambda m: fmt.month(month_date(m), lang) if m >= 0 else "")  # type: ignore[arg-type]


def _whole_numbers(values: np.ndarray) -> np.ndarray:
    """Whole numbers as text (months, years), once per distinct value."""
    return _per_row(values.astype(np.int64), str)


@dataclass(frozen=True)
class _Pieces:
    """The formatted pieces of every row's sentence (object arrays of text, one entry per row; zh /
    en pairs), and the facts that choose the sentence."""

    as_of_zh: str
    as_of_en: str
    actual_zh: np.ndarray
    actual_en: np.ndarray
    expected_zh: np.ndarray
    expected_en: np.ndarray
    forecast_zh: np.ndarray
    forecast_en: np.ndarray
    goal_zh: np.ndarray  # how the target is named; a milestone by its due month
    goal_en: np.ndarray
    deadline_zh: np.ndarray
    deadline_en: np.ndarray
    latest_zh: np.ndarray
    latest_en: np.ndarray
    span_zh: np.ndarray  # the judged year's months so far: 2025年1—3月 / Jan–Mar 2025; "" before it begins
    span_en: np.ndarray
    year: np.ndarray  # the judged year, as text
    trend_months: np.ndarray  # as text
    months_silent: np.ndarray  # months since the last figure, as text
    suffix_zh: np.ndarray
    suffix_en: np.ndarray
    year_not_begun: np.ndarray  # bool: a yearly target whose first judged year has not begun
    flow: np.ndarray  # bool: judged per year on flows, the forecast is for the year
    level_cap: np.ndarray  # bool: a cap on a level, no plan but the cap itself
    above_cap: np.ndarray  # bool
    range_zh: np.ndarray  # 左右 targets: the range, 28%—32% / 28%–32%
    range_en: np.ndarray
    above_range: np.ndarray  # bool: a 左右 target above its range
    below_floor: np.ndarray  # bool: a floor not kept
    no_trend: np.ndarray  # bool: fewer than two figures in the trend window


def _pieces(inputs: ReasonInputs, as_of_month: int) -> _Pieces:
    plan, value_type = inputs.plan, inputs.value_type
    unit_zh, unit_en = inputs.unit_zh, inputs.unit_en
    actual, expected, forecast, target, tolerance = (
        _shown(values.astype(float), value_type)
        for values in (inputs.actual, inputs.expected, inputs.forecast, plan.target, plan.tolerance)
    )
    deadline_zh, deadline_en = _month_texts(plan.deadline_month, "zh"), _month_texts(plan.deadline_month, "en")
    goal_zh, goal_en = _goals(inputs, target, tolerance)
    about = plan.comparator == "~"
    low, high = (np.where(about, target + sign * tolerance, np.nan) for sign in (-1, 1))
    flag = plan.mode == "flag"
    goal_zh[flag] = "截止时间" + deadline_zh[flag]
    goal_en[flag] = "due " + deadline_en[flag]
    suffix_zh, suffix_en = _suffixes(inputs)
    first = inputs.year_offset.astype(np.int64) + 1
    span = _span_key(inputs.year, first, inputs.months_in)
    prorated = np.flatnonzero(first > 1)
    if len(prorated):  # a first year in force for part of the year: its target names its months
        part = _span_key(inputs.year[prorated], first[prorated], np.full(len(prorated), 12))
        target_zh = _texts(target[prorated], unit_zh[prorated], "zh")
        target_en = _texts(target[prorated], unit_en[prorated], "en")
        cap = plan.kind[prorated] == "cap"
        goal_zh[prorated] = _per_row(part, _span_zh) + np.where(cap, "上限", "目标").astype(object) + target_zh
        months_en = " for " + _per_row(part, _span_en)
        goal_en[prorated] = np.where(cap, "cap ", "target ").astype(object) + target_en + months_en
    latest = inputs.latest.astype(np.int64)
    span_zh = _per_row(span, _span_zh)
    return _Pieces(
        as_of_zh=fmt.month(month_date(as_of_month), "zh"),
        as_of_en=fmt.month(month_date(as_of_month), "en"),
        actual_zh=_texts(actual, unit_zh, "zh"),
        actual_en=_texts(actual, unit_en, "en"),
        expected_zh=_texts(expected, unit_zh, "zh"),
        expected_en=_texts(expected, unit_en, "en"),
        forecast_zh=_texts(forecast, unit_zh, "zh"),
        forecast_en=_texts(forecast, unit_en, "en"),
        goal_zh=goal_zh,
        goal_en=goal_en,
        deadline_zh=deadline_zh,
        deadline_en=deadline_en,
        latest_zh=_month_texts(latest, "zh"),
        latest_en=_month_texts(latest, "en"),
        span_zh=span_zh,
        span_en=_per_row(span, _span_en),
        year=_whole_numbers(inputs.year),
        trend_months=_whole_numbers(np.nan_to_num(inputs.trend_months.astype(float))),
        months_silent=_whole_numbers(as_of_month - latest),
        suffix_zh=suffix_zh,
        suffix_en=suffix_en,
        year_not_begun=(plan.mode == "ytd") & (span_zh == ""),
        flow=(plan.mode == "ytd") | (plan.kind == "annual"),
        level_cap=(plan.kind == "cap") & (plan.mode != "ytd"),
        above_cap=(plan.kind == "cap") & (actual > target),
        range_zh=_texts(low, unit_zh, "zh") + fmt.RANGE_DASH["zh"] + _texts(high, unit_zh, "zh"),
        range_en=_texts(low, unit_en, "en") + fmt.RANGE_DASH["en"] + _texts(high, unit_en, "en"),
        above_range=about & (inputs.actual > plan.target + plan.tolerance),
        below_floor=(plan.kind == "floor") & (inputs.actual < plan.target),
        no_trend=np.isnan(forecast),
    )


Texts = tuple[np.ndarray, np.ndarray]  # (zh, en) sentences or parts of them, one entry per row chosen
Rule = tuple[np.ndarray, Callable[[np.ndarray], Texts]]  # (which rows, how their text is made)


def _first_match(rows: np.ndarray, rules: list[Rule]) -> Texts:
    """Text for every row of ``rows`` from the first rule whose mask (over ``rows``) holds; "" where
    none does. Each rule's text is made only for the rows it wins."""
    zh, en = np.full(len(rows), "", dtype=object), np.full(len(rows), "", dtype=object)
    taken = np.zeros(len(rows), dtype=bool)
    for mask, make in rules:
        won = mask & ~taken
        if won.any():
            zh[won], en[won] = make(rows[won])
            taken |= won
    return zh, en


def _no_figures(p: _Pieces, rows: np.ndarray) -> Texts:
    goal_zh, goal_en = p.goal_zh[rows], p.goal_en[rows]
    return (
        "截至" + p.as_of_zh + "无数据（" + goal_zh + "）",
        "No figures reported up to " + p.as_of_en + " (" + goal_en + ")",
    )


def _silent(p: _Pieces, rows: np.ndarray) -> Texts:
    silent, goal_zh, goal_en = p.months_silent[rows], p.goal_zh[rows], p.goal_en[rows]
    return (
        "最近数据为" + p.latest_zh[rows] + "，截至" + p.as_of_zh + "已连续" + silent + "个月未报送（" + goal_zh + "）",
        "Last figure " + p.latest_en[rows] + "; nothing reported for " + silent + " months up to " + p.as_of_en
        + " (" + goal_en + ")",
    )  # fmt: skip


def _milestone_done(p: _Pieces, rows: np.ndarray) -> Texts:
    due_zh, due_en = p.deadline_zh[rows], p.deadline_en[rows]
    return "截至" + p.as_of_zh + "已完成（截止" + due_zh + "）", "As of " + p.as_of_en + ": done (due " + due_en + ")"


def _milestone_overdue(p: _Pieces, rows: np.ndarray) -> Texts:
    due_zh, due_en = p.deadline_zh[rows], p.deadline_en[rows]
    return (
        "截至" + p.as_of_zh + "仍未完成，已过截止时间" + due_zh,
        "As of " + p.as_of_en + ": still not done, due " + due_en,
    )


def _milestone_open(p: _Pieces, rows: np.ndarray) -> Texts:
    due_zh, due_en = p.deadline_zh[rows], p.deadline_en[rows]
    return "截至" + p.as_of_zh + "尚未完成，截止时间" + due_zh, "As of " + p.as_of_en + ": not yet done, due " + due_en


def _opening(p: _Pieces, mode: np.ndarray, rows: np.ndarray) -> Texts:
    """What was done: this year so far, to date, or the level now."""
    mode = mode[rows]

    def year_not_begun(r: np.ndarray) -> Texts:
        year = p.year[r]
        return year + "年起按年考核，尚未开始", "Judged by calendar year from " + year + ", not started yet"

    def year_so_far(r: np.ndarray) -> Texts:
        return p.span_zh[r] + "累计" + p.actual_zh[r], p.span_en[r] + ": " + p.actual_en[r]

    def to_date(r: np.ndarray) -> Texts:
        return "截至" + p.as_of_zh + "累计完成" + p.actual_zh[r], "As of " + p.as_of_en + ": " + p.actual_en[
            r
        ] + " to date"

    def level(r: np.ndarray) -> Texts:
        return "截至" + p.as_of_zh + "为" + p.actual_zh[r], "As of " + p.as_of_en + ": " + p.actual_en[r]

    return _first_match(
        rows,
        [
            (p.year_not_begun[rows], year_not_begun),
            (mode == "ytd", year_so_far),
            (mode == "total", to_date),
            (np.ones(len(rows), dtype=bool), level),
        ],
    )


def _plan_part(p: _Pieces, kind: np.ndarray, rows: np.ndarray) -> Texts:
    """Against the plan so far (none for a level cap or a year not begun)."""

    def allowance(r: np.ndarray) -> Texts:
        return "，按限额进度为" + p.expected_zh[r], " against a pro-rata allowance of " + p.expected_en[r]

    def pro_rata(r: np.ndarray) -> Texts:
        return "，按进度应达" + p.expected_zh[r], " against " + p.expected_en[r] + " planned"

    def planned(r: np.ndarray) -> Texts:
        return "，按计划应达" + p.expected_zh[r], " against " + p.expected_en[r] + " planned"

    none = p.level_cap[rows] | (p.span_zh[rows] == "")
    return _first_match(
        rows, [(~none & (kind[rows] == "cap"), allowance), (~none & p.flow[rows], pro_rata), (~none, planned)]
    )


def _trend_part(p: _Pieces, rows: np.ndarray) -> Texts:
    """Where the trend leads: the year's total (flows judged per year) or the figure by the deadline."""

    def too_few(r: np.ndarray) -> Texts:
        return "；近期数据不足，无法测算趋势（" + p.goal_zh[
            r
        ] + "）", "; too few recent figures for a trend (" + p.goal_en[r] + ")"

    def the_year(r: np.ndarray) -> Texts:
        months, goal_zh, goal_en = p.trend_months[r], p.goal_zh[r], p.goal_en[r]
        return (
            "；按近" + months + "个月趋势预计全年" + p.forecast_zh[r] + "（" + goal_zh + "）",
            "; the " + months + "-month trend projects " + p.forecast_en[r] + " for the year (" + goal_en + ")",
        )

    def by_deadline(r: np.ndarray) -> Texts:
        months, goal_zh, goal_en = p.trend_months[r], p.goal_zh[r], p.goal_en[r]
        return (
            "；按近" + months + "个月趋势预计" + p.deadline_zh[r] + "达" + p.forecast_zh[r] + "（" + goal_zh + "）",
            "; the " + months + "-month trend projects " + p.forecast_en[r] + " by " + p.deadline_en[r]
            + " (" + goal_en + ")",
        )  # fmt: skip

    return _first_match(
        rows, [(p.no_trend[rows], too_few), (p.flow[rows], the_year), (np.ones(len(rows), dtype=bool), by_deadline)]
    )


def _outlook(p: _Pieces, kind: np.ndarray, rows: np.ndarray) -> Texts:
    """A target still open: the plan so far, then where the trend leads."""
    plan_zh, plan_en = _plan_part(p, kind, rows)
    trend_zh, trend_en = _trend_part(p, rows)
    return plan_zh + trend_zh, plan_en + trend_en


def _verdict(p: _Pieces, inputs: ReasonInputs, rows: np.ndarray) -> Texts:
    """After the opening: achieved, overdue, already above a cap, or the outlook."""
    status, cap = inputs.status[rows], inputs.plan.kind[rows] == "cap"
    about, floor = inputs.plan.comparator[rows] == "~", inputs.plan.kind[rows] == "floor"

    def phrase(zh_before: str, zh_after: str, en_before: str, en_after: str) -> Callable[[np.ndarray], Texts]:
        return lambda r: (zh_before + p.goal_zh[r] + zh_after, en_before + p.goal_en[r] + en_after)

    def missed(r: np.ndarray) -> Texts:
        return (
            "，截止" + p.deadline_zh[r] + "未完成" + p.goal_zh[r],
            ", " + p.goal_en[r] + " missed at " + p.deadline_en[r],
        )

    def above_range(r: np.ndarray) -> Texts:
        return "，高于目标区间（" + p.range_zh[r] + "）", ", above the target range (" + p.range_en[r] + ")"

    def floor_falling(r: np.ndarray) -> Texts:
        months, goal_zh, goal_en = p.trend_months[r], p.goal_zh[r], p.goal_en[r]
        return (
            "，符合要求；按近" + months + "个月趋势预计年末为" + p.forecast_zh[r] + "（" + goal_zh + "）",
            ", meets the requirement; the " + months + "-month trend projects " + p.forecast_en[r]
            + " at the end of the year (" + goal_en + ")",
        )  # fmt: skip

    return _first_match(
        rows,
        [
            (floor & p.below_floor[rows], phrase("，低于要求（", "）", ", below the requirement (", ")")),
            (floor & (status == "at_risk"), floor_falling),
            (floor, phrase("，符合要求（", "）", ", meets the requirement (", ")")),
            ((status == "achieved") & about & p.above_range[rows], above_range),
            ((status == "achieved") & cap, phrase("，未超过", "", ", within the ", "")),
            ((status == "achieved") & about, phrase("，在", "范围内", ", within the ", "")),
            (status == "achieved", phrase("，已达到", "", ", ", " reached")),
            ((status == "overdue") & cap, phrase("，超过", "", ", above the ", "")),
            (status == "overdue", missed),
            (p.above_cap[rows], phrase("，已超过", "", ", already above the ", "")),
            (np.ones(len(rows), dtype=bool), lambda r: _outlook(p, inputs.plan.kind, r)),
        ],
    )


def _with_figures(p: _Pieces, inputs: ReasonInputs, rows: np.ndarray) -> Texts:
    """A target judged on its figures: what was done, the verdict or the outlook, then the suffix."""
    opening_zh, opening_en = _opening(p, inputs.plan.mode, rows)
    verdict_zh, verdict_en = _verdict(p, inputs, rows)
    return opening_zh + verdict_zh + p.suffix_zh[rows], opening_en + verdict_en + p.suffix_en[rows]


def reasons(inputs: ReasonInputs, as_of_month: int) -> tuple[list[str], list[str]]:
    """One sentence per row in each language (zh, en)."""
    p = _pieces(inputs, as_of_month)
    status, flag, latest = inputs.status, inputs.plan.mode == "flag", inputs.latest
    every = np.arange(len(status))
    zh, en = _first_match(
        every,
        [
            ((status == "no_data") & (latest < 0), lambda rows: _no_figures(p, rows)),
            (status == "no_data", lambda rows: _silent(p, rows)),
            (flag & (status == "achieved"), lambda rows: _milestone_done(p, rows)),
            (flag & (status == "overdue"), lambda rows: _milestone_overdue(p, rows)),
            (flag, lambda rows: _milestone_open(p, rows)),
            (np.ones(len(status), dtype=bool), lambda rows: _with_figures(p, inputs, rows)),
        ],
    )
    _name_members(inputs, zh, en)
    return zh.tolist(), en.tolist()


def _name_members(inputs: ReasonInputs, zh: np.ndarray, en: np.ndarray) -> None:
    """An ``all`` aggregate judged on figures and not done says how many of its units reported done and
    which did not (a silent one is not done): "11个单位中9个已报完成（达拉特旗、杭锦旗未报完成）"."""
    for row, count in inputs.every_member.items():
        if inputs.status[row] in ("achieved", "no_data"):
            continue
        zh[row] += f"；{count.total}个单位中{count.done}个已报完成"
        en[row] += f"; {count.done} of {count.total} units report done"
        if count.missing_zh:
            zh[row] += f"（{'、'.join(count.missing_zh)}未报完成）"
            en[row] += f" (not reported done: {', '.join(count.missing_en)})"
