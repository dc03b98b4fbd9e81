"""Check every normalised row; count every problem (never stop at the first) and every warning.

Rules are boolean masks over the whole table, so a million rows cost one pass per rule. A hostile
file can break every rule on every row: the masks give the exact count, and Problem objects are built
only for the first MAX_PROBLEMS rows (an all-invalid 19 MB csv once made millions of them).

Rows with an empty value cell are "not reported this month" (the bureau's template lists every KPI,
and a clerk without a figure leaves it blank): they are skipped, not refused. Such a row is checked
only for its KPI (blank, unknown or another bureau's), so the template's own blank rows pass and a
stray row still gets a message; its district and period are not checked, since nothing is loaded
from it. A file in which every row is skipped is refused: it reports nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from etl.errors import Problem
from etl.findings import MAX_PROBLEMS, Found
from etl.history_checks import cumulative_falls, jumps
from etl.normalise import (
    NUMBER_COMMA,
    NUMBER_OK,
    NUMBER_STACKED,
    PERIOD_BAD_DAY,
    PERIOD_DECIMAL,
    PERIOD_OK,
    Normalised,
)
from etl.notes import MAX_NOTE
from etl.row_places import coded_rows, per_kpi, per_place, positions, repeated, sql_rows
from monitor.fmt import month_zh
from monitor.targets import CITY, TargetsConfig

# No figure of this policy comes near a trillion (the largest are sums of money in yuan); beyond it a
# value is a typo or a hostile file (a count of 1e20, or 400 typed nines, which parse as inf).
MAX_VALUE = 1e12

EMPTY_FILE_ZH = "文件中没有填写任何数值（数值列全部为空）"
EMPTY_FILE_EN = "the file reports no figure (the value column is empty on every row)"


@dataclass
class Checked:
    problems: list[Problem]
    warnings: list[Problem]
    frame: pd.DataFrame | None  # rows that passed, with kpi_id, district_id, period, value, row
    problems_total: int = 0  # all problems found; `problems` may keep only the first ones
    skipped: int = 0  # rows with an empty value cell: not reported this month
    rows_bad: int = 0  # rows with at least one problem (exact, however many problems are kept)
    rows_total: int = 0  # data rows read from the file
    # `frame`'s row, kpi_id, district_id, period, value as Arrow, for SQL (etl.load): DuckDB scans Arrow
    # text in parallel, a column of Python strings one object at a time; None when not built
    rows: pa.Table | None = None

    @classmethod
    def refused(cls, problems: list[Problem]) -> Checked:
        """A file refused as a whole (unreadable, unknown bureau): no row was checked."""
        return cls(problems, [], None, problems_total=len(problems))


def _blank(s: pd.Series) -> pd.Series:
    """Empty or only spaces. A column already in pandas' Arrow-backed text dtype is trimmed as it is:
    converting a million cells to the nullable "string" dtype went through Python objects."""
    text = s.fillna("")
    if not (isinstance(text.dtype, pd.StringDtype) and text.dtype.storage == pd.StringDtype().storage):
        text = text.astype("string")
    return (text.str.strip() == "").astype(bool)


def _blank_where(s: pd.Series, candidates: np.ndarray) -> np.ndarray:
    """`_blank(s)` as a mask, trimming only the `candidates` rows: the caller knows no other row can be
    blank (a blank cell never parses), and a valid million-row file has no candidate at all."""
    out = np.zeros(len(s), dtype=bool)
    at = np.flatnonzero(candidates)
    if at.size:
        out[at] = _blank(s.take(at)).to_numpy(dtype=bool)
    return out


def _reportable_from(month: pd.Timestamp) -> tuple[str, str]:
    """The day a month may first be reported (the 1st of the next month), as "12月1日" / "2026-12-01"."""
    following = month + pd.offsets.MonthBegin(1)
    zh = f"{following.month}月1日" if following.year == month.year else f"{following.year}年{following.month}月1日"
    return zh, f"{following:%Y-%m-%d}"


def _value_rules(
    found: Found,
    f: pd.DataFrame,
    values: np.ndarray,
    v_na: np.ndarray,
    checked: np.ndarray,
    kpi_ok: np.ndarray,
    cfg: TargetsConfig,
    kpi_pos: np.ndarray,
) -> None:
    """The rules a figure obeys by its KPI's value type, registered in this order (a row breaking two
    lists them in it). NaN compares False, as in pandas; a row without a KPI has no value type."""
    types = [k.value_type for k in cfg.kpis]
    is_ratio = per_kpi([t == "ratio" for t in types], False, kpi_pos)
    is_flag = per_kpi([t == "flag" for t in types], False, kpi_pos)
    is_count = per_kpi([t == "count" for t in types], False, kpi_pos)
    not_negative = per_kpi([t in ("count", "amount", "ratio", "flag") for t in types], False, kpi_pos)
    found.same((values < 0) & not_negative, "value", "value_raw", "数值不能为负数", "value cannot be negative")
    found.same(
        is_ratio & (values > 100), "value", "value_raw", "比率应在0到100之间（单位：%）", "a ratio must be 0-100 (%)"
    )
    found.same(
        is_flag & ~v_na & ~((values == 0.0) | (values == 1.0)),
        "value",
        "value_raw",
        "完成情况只能填 1（已完成）或 0（未完成）",
        "a milestone is 1 (done) or 0 (not yet)",
    )
    found.same(
        checked & f["pct"].to_numpy(dtype=bool) & kpi_ok & ~is_ratio,
        "value",
        "value_raw",
        "该指标不是比率，不能填写百分数",
        "this KPI is not a ratio; a percentage is not allowed",
    )
    found.same(
        # a flag that is not 0/1 already has its own message above
        is_count & ~v_na & (values != np.floor(values)),
        "value",
        "value_raw",
        "该指标为计数，应为整数",
        "this KPI is a count; use a whole number",
    )


def validate(
    n: Normalised,
    cfg: TargetsConfig,
    bureau_id: str,
    con: duckdb.DuckDBPyConnection,
    *,
    today: dt.date | None = None,
) -> Checked:
    f = n.frame
    today = today or dt.date.today()
    found = Found(n)
    # Each row's KPI attributes by the KPI's place in cfg.kpis (-1: none), as numpy masks: a merge of
    # the million-row frame with the KPI table and object comparisons on it cost more than all the rules
    kpi_ids = [k.id for k in cfg.kpis]
    kpi_pos = n.kpi_pos if n.kpi_pos is not None else positions(f["kpi_id"], kpi_ids)
    bureau_names = {b.id: b.name_zh for b in cfg.bureaus}
    bureau_en = {b.id: b.name_en for b in cfg.bureaus}

    # -- KPI (every row, skipped or not)
    # an empty code is fine when normalise found the KPI by the name typed beside it
    # normalise's positions are -1 exactly where it found no KPI
    kpi_na = kpi_pos < 0 if n.kpi_pos is not None else f["kpi_id"].isna().to_numpy(dtype=bool)
    kpi_blank = _blank_where(f["kpi_raw"], kpi_na)
    kpi_unknown = kpi_na & ~kpi_blank
    found.same(kpi_blank, "kpi", "kpi_raw", "指标编码为空", "KPI is empty")
    found.same(
        kpi_unknown, "kpi", "kpi_raw", "未知指标，请使用模板中的指标编码", "unknown KPI; use the codes in the template"
    )
    kpi_ok = ~kpi_na
    # a KPI id outside cfg.kpis has no lead (as the merge with the KPI table had it: NaN != bureau)
    foreign = kpi_ok & per_kpi([k.lead != bureau_id for k in cfg.kpis], True, kpi_pos)

    def lead(pos: np.ndarray) -> list[str]:  # for the kept rows only
        return [cfg.kpis[i].lead if i >= 0 else np.nan for i in kpi_pos[pos]]

    found.per_row(
        foreign,
        "kpi",
        "kpi_raw",
        lambda pos: [f"该指标不属于本单位报送（责任单位：{bureau_names.get(b, '')}）" for b in lead(pos)],
        lambda pos: [
            f"this KPI is not reported by your bureau (reported by {bureau_en.get(b, '')})" for b in lead(pos)
        ],
    )

    # -- rows with an empty value: not reported this month; nothing below applies to them
    v = f["value"]
    v_na = v.isna().to_numpy(dtype=bool)
    v_blank = _blank_where(f["value_raw"], v_na)  # a blank cell is never a number
    kpi_problem = kpi_blank | kpi_unknown | foreign
    skipped = v_blank & ~kpi_problem
    if len(f) and v_blank.all():
        found.file_problems.append(Problem.file(n.file_name, EMPTY_FILE_ZH, EMPTY_FILE_EN))
    checked = ~v_blank

    # -- district
    district_ids = [d.id for d in cfg.districts]
    d_pos = n.district_pos if n.district_pos is not None else positions(f["district_id"], district_ids)
    d_na = d_pos < 0 if n.district_pos is not None else f["district_id"].isna().to_numpy(dtype=bool)
    d_blank = _blank_where(f["district_raw"], d_na) & checked  # no district is named by blanks
    d_unknown = d_na & ~d_blank & checked
    found.same(d_blank, "district", "district_raw", "旗区为空", "district is empty")
    found.same(
        d_unknown,
        "district",
        "district_raw",
        "未知旗区，应为7旗2区、高新区或“全市”",
        "unknown district; use one of the 7 banners, 2 districts, the High-tech Zone or 全市",
    )
    d_ok = ~d_na
    is_city = (
        per_place([d.id == CITY for d in cfg.districts], d_pos)
        if n.district_pos is not None
        else ((f["district_id"] == CITY).to_numpy(dtype=bool))
    )
    # an "all" KPI (every centre must open) takes both: 全市 for the city's own unit, and each district
    found.same(
        checked & kpi_ok & d_ok & per_kpi([k.aggregation == "sum" for k in cfg.kpis], False, kpi_pos) & is_city,
        "district",
        "district_raw",
        "该指标按旗区填报，全市合计由系统汇总，请勿填写全市",
        "this KPI is reported by district; the city total is computed, do not report it",
    )
    found.same(
        checked & kpi_ok & d_ok & per_kpi([k.aggregation == "city" for k in cfg.kpis], False, kpi_pos) & ~is_city,
        "district",
        "district_raw",
        "该指标只填报全市数据，旗区请填“全市”",
        "this KPI is reported for the whole city only; use 全市",
    )

    # -- period
    period = f["period"]
    p_issue = f["period_issue"].to_numpy()
    p_na = period.isna().to_numpy(dtype=bool)
    p_blank = _blank_where(f["period_raw"], p_na) & checked  # a blank cell is never a month
    found.same(p_blank, "period", "period_raw", "报送期为空", "period is empty")
    found.same(
        checked & (p_issue == PERIOD_BAD_DAY),
        "period",
        "period_raw",
        "报送期不是有效日期（该月没有这一天），请填写月份，如 2025-03 或 2025年3月",
        "the period is not a valid date (the month has no such day); write the month, e.g. 2025-03",
    )
    found.same(
        checked & (p_issue == PERIOD_DECIMAL),
        "period",
        "period_raw",
        "报送期是一个小数，无法确定月份（Excel 会把 2026.10 存成 2026.1，即1月），请填写 2026-10 或 2026年10月",
        "the period is a decimal number, so the month is ambiguous (Excel stores 2026.10 as 2026.1, January);"
        " write 2026-10 or 2026年10月",
    )
    found.same(
        checked & p_na & ~p_blank & (p_issue == PERIOD_OK),
        "period",
        "period_raw",
        "无法识别的报送期，应为 2025-03、2025年3月 或 202503",
        "unrecognised period; use 2025-03, 2025年3月 or 202503",
    )
    start = pd.Timestamp(cfg.policy.start).replace(day=1)
    this_month = pd.Timestamp(today.replace(day=1))
    found.same(
        checked & (period < start),
        "period",
        "period_raw",
        f"报送期早于政策实施（{month_zh(start)}）",
        f"period is before the policy began ({start:%Y-%m})",
    )
    # a month is reported once it has ended: from the 1st of the following month on

    def months(pos: np.ndarray) -> list[pd.Timestamp]:
        return [pd.Timestamp(m) for m in period.take(pos)]

    found.per_row(
        checked & (period >= this_month),
        "period",
        "period_raw",
        lambda pos: [f"{month_zh(m)}尚未结束，{_reportable_from(pd.Timestamp(m))[0]}起方可报送" for m in months(pos)],
        lambda pos: [
            f"{pd.Timestamp(m):%Y-%m} has not ended; it can be reported from {_reportable_from(pd.Timestamp(m))[1]}"
            for m in months(pos)
        ],
    )

    # -- value
    v_issue = f["value_issue"].to_numpy()
    found.same(
        checked & (v_issue == NUMBER_COMMA),
        "value",
        "value_raw",
        "逗号用法不明确：千位分隔符应每三位一组；小数请用小数点（如 8.5）",
        "ambiguous comma: a thousands separator groups exactly three digits; write decimals with a point (e.g. 8.5)",
    )
    found.same(
        checked & (v_issue == NUMBER_STACKED),
        "value",
        "value_raw",
        "数量单位重复（如“3万万”），无法确定数值：“万”或“亿”只能写一个，或直接填写数字",
        "stacked units (such as 3万万) make the figure ambiguous: write one 万 or 亿, or the plain number",
    )
    found.same(
        checked & v_na & (v_issue == NUMBER_OK),
        "value",
        "value_raw",
        "不是有效数字（可填 1234、1,234、1.5万 或 30%）",
        "not a number",
    )
    typed_unit = f["value_unit"]
    if typed_unit.notna().any():  # the usual file types no unit at all
        kpi_unit = per_kpi([k.unit_zh for k in cfg.kpis], np.nan, kpi_pos, object)
        typed = typed_unit.to_numpy(dtype=object)
        found.per_row(
            checked & kpi_ok & ~v_na & typed_unit.notna().to_numpy(dtype=bool) & (typed != kpi_unit),
            "value",
            "value_raw",
            lambda pos: [f"单位“{u}”与该指标的单位“{k}”不符" for u, k in zip(typed[pos], kpi_unit[pos], strict=True)],
            lambda pos: [
                f"the unit “{u}” does not match this KPI's unit “{k}”"
                for u, k in zip(typed[pos], kpi_unit[pos], strict=True)
            ],
        )
    values = v.to_numpy(dtype=np.float64)
    with np.errstate(invalid="ignore"):
        found.same(
            ~v_na & ~(np.abs(values) <= MAX_VALUE),
            "value",
            "value_raw",
            "数值超出合理范围",
            "value is beyond any plausible figure",
        )
        _value_rules(found, f, values, v_na, checked, kpi_ok, cfg, kpi_pos)

    # -- 备注: text, never parsed; only its length is checked (rows that report a figure: a note
    # without a figure is not stored)
    if "note" in n.columns:  # the file has a 备注 column (a file without one has no note to check)
        note_length = f["note"].fillna("").astype("string").str.len().fillna(0).to_numpy(dtype=np.int64)
        found.per_row(
            checked & (note_length > MAX_NOTE),
            "note",
            "note",
            lambda pos: [f"备注不能超过{MAX_NOTE}个字符（当前{int(n)}个字符）" for n in note_length[pos]],
            lambda pos: [f"a note is at most {MAX_NOTE} characters (this one has {int(n)})" for n in note_length[pos]],
        )

    # -- duplicates within the file (skipped rows report nothing, so they repeat nothing)
    keyed = checked & kpi_ok & d_ok & ~p_na
    dup = f.loc[repeated(f, keyed, kpi_pos, d_pos), ["kpi_id", "district_id", "period", "row"]]
    if not dup.empty:
        by_key = dup.groupby(["kpi_id", "district_id", "period"])["row"]
        first = by_key.transform("min")
        second = by_key.transform(lambda s: s.nsmallest(2).iloc[-1])
        other = pd.Series(first.where(dup["row"] != first, second).to_numpy(), index=dup.index)
        dup_mask = np.zeros(len(f), dtype=bool)
        dup_mask[dup.index.to_numpy()] = True
        found.add(
            dup_mask,
            lambda pos: [
                Problem(
                    n.file_name,
                    int(f["row"].iat[i]),
                    None,
                    None,
                    f"指标、旗区、报送期与第{int(other[i])}行重复",
                    f"KPI, district and period repeat row {int(other[i])}",
                )
                for i in pos
            ],
        )

    good_mask = ~found.bad(len(f)) & checked
    # a clean file (the usual case) keeps its frame: taking a million rows of every column costs
    good = f if good_mask.all() else f[good_mask]
    # the good rows' KPI and district positions: every one is known (kpi_ok, d_ok) unless the frame
    # holds ids outside the configuration, which only sql_rows can convert
    good_kpi, good_d = kpi_pos[good_mask], d_pos[good_mask]
    coded = (good_kpi >= 0).all() and (good_d >= 0).all()
    rows = coded_rows(good, good_kpi, kpi_ids, good_d, district_ids) if coded else sql_rows(good)
    cumulative = per_kpi([k.reporting == "cumulative" for k in cfg.kpis], False, good_kpi)
    cumulative_falls(found, rows, cumulative, con)
    warnings = jumps(n, rows, ~cumulative, con)
    passed = good_mask & ~found.bad(len(f))
    # only a fall found above changes the rows
    same = np.array_equal(passed, good_mask)
    return Checked(
        found.first(MAX_PROBLEMS),
        warnings,
        good if same else f[passed],
        problems_total=found.total(),
        skipped=int(skipped.sum()),
        rows_bad=int(found.bad(len(f)).sum()),
        rows_total=len(f),
        rows=rows if same else None,
    )
