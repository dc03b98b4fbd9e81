"""One sentence per judged unit, in Chinese and English, with the figures behind its status.

A province-scale heat map repeats the same targets, plans and months thousands of times, so every
number, month and target name is formatted once per distinct value, and only for the rows whose
sentence names it (a silent unit's sentence has no forecast). A text is carried as its code among
distinct texts (``Column``): pieces made of such texts only (a target's name after fixed words,
a month and a target) are joined once per distinct combination; the rest is joined for all its
rows at once, one new string per row (``joined``), not one per added piece. The exact words are
pinned by tests/test_progress.py.
"""

from __future__ import annotations

import operator
from collections.abc import Callable

import numpy as np

from monitor import fmt
from monitor.progress.numbers import Column, Distinct, joined, made
from monitor.progress.reason_pieces import Pieces, ReasonInputs, Texts, pieces, shown_values


def _last_years(p: Pieces, inputs: ReasonInputs, rows: np.ndarray) -> Texts:
    """Last year's result (annual targets), said after the verdict; "" for other rows."""
    count = len(rows)
    last_zh, last_en = np.full(count, "", dtype=object), np.full(count, "", dtype=object)
    listed = list(map(inputs.years.__getitem__, rows.tolist()))
    at = np.flatnonzero(np.fromiter(map(bool, listed), dtype=bool, count=count))
    if len(at):
        last = [listed[n][-1] for n in at.tolist()]  # type: ignore[index]
        actual, year, met = (list(map(operator.itemgetter(name), last)) for name in ("actual", "year", "met"))
        shown = shown_values(np.array(actual, dtype=float), inputs.value_type[rows[at]])
        year_text = made(np.array(year), str)
        met_codes = np.array(met, dtype=bool).astype(np.int64)
        met_zh = Column(met_codes, np.array(["（未达标）", "（达标）"], dtype=object))
        met_en = Column(met_codes, np.array([" (missed)", " (met)"], dtype=object))
        shown_distinct = Distinct.of(shown)
        shown_zh, shown_en = (of_lang.column(shown_distinct, rows[at]) for of_lang in p.numbers)
        last_zh[at] = joined("；", year_text, "年", shown_zh, met_zh)
        last_en[at] = joined("; ", year_text, ": ", shown_en, met_en)
    return last_zh, last_en


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


def _no_figures(p: Pieces, rows: np.ndarray) -> Texts:
    before_en = "No figures reported up to " + p.as_of_en + " ("
    return p.goal.around(rows, "截至" + p.as_of_zh + "无数据（", "）", before_en, ")")


def _silent(p: Pieces, rows: np.ndarray) -> Texts:
    (latest_zh, latest_en), silent = p.months(p.latest, rows), p.whole(p.months_silent, rows)
    goal_zh, goal_en = p.goal.at(rows)
    return (
        joined("最近数据为", latest_zh, "，截至" + p.as_of_zh + "已连续", silent, "个月未报送（", goal_zh, "）"),
        joined("Last figure ", latest_en, "; nothing reported for ", silent, " months up to " + p.as_of_en + " (",
               goal_en, ")"),
    )  # fmt: skip


def _milestone_done(p: Pieces, rows: np.ndarray) -> Texts:
    due_zh, due_en = p.months(p.deadline, rows)
    return (
        joined("截至" + p.as_of_zh + "已完成（截止", due_zh, "）"),
        joined("As of " + p.as_of_en + ": done (due ", due_en, ")"),
    )


def _milestone_overdue(p: Pieces, rows: np.ndarray) -> Texts:
    due_zh, due_en = p.months(p.deadline, rows)
    return (
        joined("截至" + p.as_of_zh + "仍未完成，已过截止时间", due_zh),
        joined("As of " + p.as_of_en + ": still not done, due ", due_en),
    )


def _milestone_open(p: Pieces, rows: np.ndarray) -> Texts:
    due_zh, due_en = p.months(p.deadline, rows)
    return (
        joined("截至" + p.as_of_zh + "尚未完成，截止时间", due_zh),
        joined("As of " + p.as_of_en + ": not yet done, due ", due_en),
    )


def _opening(p: Pieces, mode: np.ndarray, rows: np.ndarray) -> Texts:
    """What was done: this year so far, to date, or the level now."""
    mode = mode[rows]

    def year_not_begun(r: np.ndarray) -> Texts:
        year = p.whole(p.year, r)
        zh = joined(year, "年起按年考核，尚未开始")
        return zh, joined("Judged by calendar year from ", year, ", not started yet")

    def year_so_far(r: np.ndarray) -> Texts:
        (span_zh, span_en), (actual_zh, actual_en) = p.spans(r), p.texts(p.actual, r)
        return joined(span_zh, "累计", actual_zh), joined(span_en, ": ", actual_en)

    def to_date(r: np.ndarray) -> Texts:
        return p.around(p.actual, r, "截至" + p.as_of_zh + "累计完成", "", "As of " + p.as_of_en + ": ", " to date")

    def level(r: np.ndarray) -> Texts:
        return p.around(p.actual, r, "截至" + p.as_of_zh + "为", "", "As of " + p.as_of_en + ": ", "")

    return _first_match(
        rows,
        [
            (p.year_not_begun[rows], year_not_begun),
            (mode == "ytd", year_so_far),
            (mode == "total", to_date),
            (np.ones(len(rows), dtype=bool), level),
        ],
    )


def _plan_part(p: Pieces, kind: np.ndarray, rows: np.ndarray) -> Texts:
    """Against the plan so far (none for a level cap or a year not begun)."""

    def allowance(r: np.ndarray) -> Texts:
        return p.around(p.expected, r, "，按限额进度为", "", " against a pro-rata allowance of ", "")

    def pro_rata(r: np.ndarray) -> Texts:
        return p.around(p.expected, r, "，按进度应达", "", " against ", " planned")

    def planned(r: np.ndarray) -> Texts:
        return p.around(p.expected, r, "，按计划应达", "", " against ", " planned")

    none = p.level_cap[rows] | p.no_span[rows]
    return _first_match(
        rows, [(~none & (kind[rows] == "cap"), allowance), (~none & p.flow[rows], pro_rata), (~none, planned)]
    )


def _trend_part(p: Pieces, rows: np.ndarray, plan: Texts) -> Texts:
    """Where the trend leads: the year's total (flows judged per year) or the figure by the deadline;
    after ``plan`` (by row of ``rows``), joined in the same pass."""
    plan_zh, plan_en = np.empty(len(p.actual), dtype=object), np.empty(len(p.actual), dtype=object)
    plan_zh[rows], plan_en[rows] = plan

    def too_few(r: np.ndarray) -> Texts:
        goal_zh, goal_en = p.goal.at(r)
        return (
            joined(plan_zh[r], "；近期数据不足，无法测算趋势（", goal_zh, "）"),
            joined(plan_en[r], "; too few recent figures for a trend (", goal_en, ")"),
        )

    def the_year(r: np.ndarray) -> Texts:
        months, (forecast_zh, forecast_en) = p.whole(p.trend_months, r), p.texts(p.forecast, r)
        goal_zh, goal_en = p.goal.at(r)
        return (
            joined(plan_zh[r], "；按近", months, "个月趋势预计全年", forecast_zh, "（", goal_zh, "）"),
            joined(
                plan_en[r], "; the ", months, "-month trend projects ", forecast_en, " for the year (", goal_en, ")"
            ),
        )

    def by_deadline(r: np.ndarray) -> Texts:
        months, (forecast_zh, forecast_en) = p.whole(p.trend_months, r), p.texts(p.forecast, r)
        goal_zh, goal_en = p.goal.at(r)
        deadline_zh, deadline_en = p.months(p.deadline, r)
        return (
            joined(plan_zh[r], "；按近", months, "个月趋势预计", deadline_zh, "达", forecast_zh, "（", goal_zh, "）"),
            joined(plan_en[r], "; the ", months, "-month trend projects ", forecast_en, " by ", deadline_en, " (",
                   goal_en, ")"),
        )  # fmt: skip

    return _first_match(
        rows, [(p.no_trend[rows], too_few), (p.flow[rows], the_year), (np.ones(len(rows), dtype=bool), by_deadline)]
    )


def _outlook(p: Pieces, kind: np.ndarray, rows: np.ndarray) -> Texts:
    """A target still open: the plan so far, then where the trend leads."""
    return _trend_part(p, rows, _plan_part(p, kind, rows))


def _verdict(p: Pieces, inputs: ReasonInputs, rows: np.ndarray) -> Texts:
    """After the opening: achieved, overdue, already above a cap, or the outlook."""
    status, cap = inputs.status[rows], inputs.plan.kind[rows] == "cap"
    about, floor = inputs.plan.comparator[rows] == "~", inputs.plan.kind[rows] == "floor"

    def phrase(zh_before: str, zh_after: str, en_before: str, en_after: str) -> Callable[[np.ndarray], Texts]:
        return lambda r: p.goal.around(r, zh_before, zh_after, en_before, en_after)

    def missed(r: np.ndarray) -> Texts:
        (deadline_zh, deadline_en), (goal_zh, goal_en) = p.months(p.deadline, r), p.goal.at(r)
        return joined("，截止", deadline_zh, "未完成", goal_zh), joined(", ", goal_en, " missed at ", deadline_en)

    def above_range(r: np.ndarray) -> Texts:
        (low_zh, low_en), (high_zh, high_en) = p.texts(p.low, r), p.texts(p.high, r)
        return (
            joined("，高于目标区间（", low_zh, fmt.RANGE_DASH["zh"], high_zh, "）"),
            joined(", above the target range (", low_en, fmt.RANGE_DASH["en"], high_en, ")"),
        )

    def floor_falling(r: np.ndarray) -> Texts:
        months, (forecast_zh, forecast_en) = p.whole(p.trend_months, r), p.texts(p.forecast, r)
        goal_zh, goal_en = p.goal.at(r)
        return (
            joined("，符合要求；按近", months, "个月趋势预计年末为", forecast_zh, "（", goal_zh, "）"),
            joined(", meets the requirement; the ", months, "-month trend projects ", forecast_en,
                   " at the end of the year (", goal_en, ")"),
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


def _with_figures(p: Pieces, inputs: ReasonInputs, rows: np.ndarray) -> Texts:
    """A target judged on its figures: what was done, the verdict or the outlook, then last year's
    result and the district's share."""
    opening_zh, opening_en = _opening(p, inputs.plan.mode, rows)
    verdict_zh, verdict_en = _verdict(p, inputs, rows)
    last_zh, last_en = _last_years(p, inputs, rows)
    return (
        joined(opening_zh, verdict_zh, last_zh, inputs.share_note_zh[rows]),
        joined(opening_en, verdict_en, last_en, inputs.share_note_en[rows]),
    )


def reasons(inputs: ReasonInputs, as_of_month: int) -> tuple[list[str], list[str]]:
    """One sentence per row in each language (zh, en)."""
    p = pieces(inputs, as_of_month)
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
