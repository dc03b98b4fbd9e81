"""Check every normalised row; collect every problem (never stop at the first) and every warning.

Rules are boolean masks over the whole table, so a million rows cost one pass per rule.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd

from etl.errors import Problem
from etl.normalise import Normalised
from monitor.fmt import month_zh
from monitor.targets import CITY, TargetsConfig

# A figure is flagged (not rejected) when it sits this many robust deviations from its history.
JUMP_Z = 6.0
JUMP_MIN_HISTORY = 3
# No figure of this policy comes near a trillion (the largest are sums of money in yuan); beyond it a
# value is a typo or a hostile file (a count of 1e20, or 400 typed nines, which parse as inf).
MAX_VALUE = 1e12


@dataclass
class Checked:
    problems: list[Problem]
    warnings: list[Problem]
    frame: pd.DataFrame  # rows that passed, with kpi_id, district_id, period, value, row


def _problems(
    n: Normalised, mask: pd.Series | np.ndarray, field: str, raw_col: str | None, zh: str, en: str
) -> list[Problem]:
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():  # the usual case: no copy of a million-row frame per rule
        return []
    sub = n.frame.loc[mask]
    label = n.columns.get(field) or n.columns.get("kpi_name")
    values = sub[raw_col].tolist() if raw_col else [None] * len(sub)
    return [
        Problem(n.file_name, int(r), label, None if v is None else str(v), zh, en)
        for r, v in zip(sub["row"].tolist(), values, strict=True)
    ]


def _per_row(
    n: Normalised,
    mask: pd.Series,
    field: str,
    raw_col: str,
    zh: Callable[[pd.Index], pd.Series],
    en: Callable[[pd.Index], pd.Series],
) -> list[Problem]:
    """Like _problems, with a reason that differs per row (it quotes a name or a figure).
    zh/en build the reasons for the flagged rows only (never a million strings for a few problems)."""
    sub = n.frame.loc[np.asarray(mask, dtype=bool)]
    if sub.empty:
        return []
    return [
        Problem(n.file_name, int(r), n.columns.get(field), str(v), z, e)
        for r, v, z, e in zip(
            sub["row"].tolist(), sub[raw_col].tolist(), zh(sub.index).tolist(), en(sub.index).tolist(), strict=True
        )
    ]


def _blank(s: pd.Series) -> pd.Series:
    return s.fillna("").astype("string").str.strip() == ""


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
    problems: list[Problem] = []
    kpis = pd.DataFrame(
        [
            {
                "kpi_id": k.id,
                "value_type": k.value_type,
                "reporting": k.reporting,
                "aggregation": k.aggregation,
                "lead": k.lead,
            }
            for k in cfg.kpis
        ]
    )
    meta = f[["kpi_id"]].merge(kpis, on="kpi_id", how="left")
    bureau_names = {b.id: b.name_zh for b in cfg.bureaus}
    bureau_en = {b.id: b.name_en for b in cfg.bureaus}

    # -- KPI
    # an empty code is fine when normalise found the KPI by the name typed beside it
    kpi_blank = _blank(f["kpi_raw"]) & f["kpi_id"].isna()
    kpi_unknown = f["kpi_id"].isna() & ~kpi_blank
    problems += _problems(n, kpi_blank, "kpi", "kpi_raw", "指标编码为空", "KPI is empty")
    problems += _problems(
        n,
        kpi_unknown,
        "kpi",
        "kpi_raw",
        "未知指标，请使用模板中的指标编码",
        "unknown KPI; use the codes in the template",
    )
    kpi_ok = f["kpi_id"].notna()
    foreign = kpi_ok & (meta["lead"] != bureau_id)
    problems += _per_row(
        n,
        foreign,
        "kpi",
        "kpi_raw",
        lambda i: "该指标不属于本单位报送（责任单位：" + meta["lead"].loc[i].map(bureau_names).fillna("") + "）",
        lambda i: (
            "this KPI is not reported by your bureau (reported by "
            + meta["lead"].loc[i].map(bureau_en).fillna("")
            + ")"
        ),
    )

    # -- district
    d_blank = _blank(f["district_raw"])
    d_unknown = f["district_id"].isna() & ~d_blank
    problems += _problems(n, d_blank, "district", "district_raw", "旗区为空", "district is empty")
    problems += _problems(
        n,
        d_unknown,
        "district",
        "district_raw",
        "未知旗区，应为7旗2区、高新区或“全市”",
        "unknown district; use one of the 7 banners, 2 districts, the High-tech Zone or 全市",
    )
    d_ok = f["district_id"].notna()
    is_city = f["district_id"] == CITY
    problems += _problems(
        n,
        kpi_ok & d_ok & (meta["aggregation"] == "sum") & is_city,
        "district",
        "district_raw",
        "该指标按旗区填报，全市合计由系统汇总，请勿填写全市",
        "this KPI is reported by district; the city total is computed, do not report it",
    )
    problems += _problems(
        n,
        kpi_ok & d_ok & (meta["aggregation"] == "city") & ~is_city,
        "district",
        "district_raw",
        "该指标只填报全市数据，旗区请填“全市”",
        "this KPI is reported for the whole city only; use 全市",
    )

    # -- period
    p_blank = _blank(f["period_raw"])
    p_bad = f["period"].isna() & ~p_blank
    start = pd.Timestamp(cfg.policy.start).replace(day=1)
    this_month = pd.Timestamp(today.replace(day=1))
    problems += _problems(n, p_blank, "period", "period_raw", "报送期为空", "period is empty")
    problems += _problems(
        n,
        p_bad,
        "period",
        "period_raw",
        "无法识别的报送期，应为 2025-03、2025年3月 或 202503",
        "unrecognised period; use 2025-03, 2025年3月 or 202503",
    )
    problems += _problems(
        n,
        f["period"] < start,
        "period",
        "period_raw",
        f"报送期早于政策实施（{month_zh(start)}）",
        f"period is before the policy began ({start:%Y-%m})",
    )
    problems += _problems(
        n,
        f["period"] > this_month,
        "period",
        "period_raw",
        f"报送期晚于当前月份（{month_zh(this_month)}），不能填报未来月份",
        f"period is after the current month ({this_month:%Y-%m})",
    )

    # -- value
    v = f["value"]
    v_blank = _blank(f["value_raw"])
    v_bad = v.isna() & ~v_blank
    problems += _problems(n, v_blank, "value", "value_raw", "数值为空", "value is empty")
    problems += _problems(
        n, v_bad, "value", "value_raw", "不是有效数字（可填 1234、1,234、1.5万 或 30%）", "not a number"
    )
    problems += _problems(
        n,
        v.notna() & ~(v.abs() <= MAX_VALUE),
        "value",
        "value_raw",
        "数值超出合理范围",
        "value is beyond any plausible figure",
    )
    vt = meta["value_type"]
    problems += _problems(
        n,
        (v < 0) & vt.isin(["count", "amount", "ratio", "flag"]),
        "value",
        "value_raw",
        "数值不能为负数",
        "value cannot be negative",
    )
    problems += _problems(
        n,
        (vt == "ratio") & (v > 100),
        "value",
        "value_raw",
        "比率应在0到100之间（单位：%）",
        "a ratio must be 0-100 (%)",
    )
    problems += _problems(
        n,
        (vt == "flag") & v.notna() & ~v.isin([0.0, 1.0]),
        "value",
        "value_raw",
        "完成情况只能填 1（已完成）或 0（未完成）",
        "a milestone is 1 (done) or 0 (not yet)",
    )
    problems += _problems(
        n,
        f["pct"] & kpi_ok & (vt != "ratio"),
        "value",
        "value_raw",
        "该指标不是比率，不能填写百分数",
        "this KPI is not a ratio; a percentage is not allowed",
    )
    problems += _problems(
        n,
        # a flag that is not 0/1 already has its own message above
        (vt == "count") & v.notna() & (v != np.floor(v)),
        "value",
        "value_raw",
        "该指标为计数，应为整数",
        "this KPI is a count; use a whole number",
    )

    # -- duplicates within the file
    keyed = kpi_ok & d_ok & f["period"].notna()
    keys = f.loc[keyed, ["kpi_id", "district_id", "period", "row"]]
    dup = keys[keys.duplicated(["kpi_id", "district_id", "period"], keep=False)]
    if not dup.empty:
        first = dup.groupby(["kpi_id", "district_id", "period"])["row"].transform("min")
        second = dup.groupby(["kpi_id", "district_id", "period"])["row"].transform(lambda s: s.nsmallest(2).iloc[-1])
        other = first.where(dup["row"] != first, second)
        for r, o in zip(dup["row"].tolist(), other.tolist(), strict=True):
            problems.append(
                Problem(
                    n.file_name,
                    int(r),
                    None,
                    None,
                    f"指标、旗区、报送期与第{int(o)}行重复",
                    f"KPI, district and period repeat row {int(o)}",
                )
            )

    bad_rows = {p.row for p in problems if p.row is not None}
    good = f[~f["row"].isin(bad_rows)]
    problems += _cumulative_falls(n, good, meta.loc[good.index], con)
    warnings = _jumps(n, good, meta.loc[good.index], con)
    bad_rows = {p.row for p in problems if p.row is not None}
    problems.sort(key=lambda p: (p.row or 0, p.column or ""))
    return Checked(problems, warnings, f[~f["row"].isin(bad_rows)])


def _cumulative_falls(
    n: Normalised, good: pd.DataFrame, meta: pd.DataFrame, con: duckdb.DuckDBPyConnection
) -> list[Problem]:
    """A cumulative-to-date figure may not fall below an earlier month (file and warehouse together)."""
    cum = good[meta["reporting"] == "cumulative"][["row", "kpi_id", "district_id", "period", "value"]]
    if cum.empty:
        return []
    con.register("incoming_cum", cum)
    try:
        rows = con.execute(
            """
            with incoming as (
                select row, kpi_id, district_id, period::date as period, value from incoming_cum
            ),
            stored as (
                select null::bigint as row, c.kpi_id, c.district_id, c.period, c.value
                from current_observations as c
                join (select distinct kpi_id, district_id from incoming) using (kpi_id, district_id)
                where not exists (
                    select 1 from incoming as i
                    where i.kpi_id = c.kpi_id and i.district_id = c.district_id and i.period = c.period
                )
            ),
            series as (
                select * from incoming union all select * from stored
            ),
            ordered as (
                select
                    *,
                    lag(value) over w as prev_value,
                    lag(period) over w as prev_period,
                    lead(value) over w as next_value,
                    lead(period) over w as next_period,
                    lead(row) over w as next_row
                from series
                window w as (partition by kpi_id, district_id order by period)
            )
            select row, value, prev_value, prev_period, next_value, next_period
            from ordered
            where row is not null
              and (value < prev_value or (next_row is null and value > next_value))
            order by row
            """
        ).fetchall()
    finally:
        con.unregister("incoming_cum")
    label = n.columns.get("value")
    out = []
    for r, v, pv, p, nv, np_ in rows:
        if pv is not None and v < pv:
            zh = f"累计数不应下降：低于{month_zh(p)}的{pv:g}"
            en = f"a cumulative figure cannot fall: below {pv:g} reported for {p:%Y-%m}"
        else:  # an earlier month above a later month already in the warehouse
            zh = f"累计数不应下降：高于{month_zh(np_)}已报送的{nv:g}"
            en = f"a cumulative figure cannot fall: above {nv:g} already reported for {np_:%Y-%m}"
        out.append(Problem(n.file_name, int(r), label, f"{v:g}", zh, en))
    return out


def _jumps(n: Normalised, good: pd.DataFrame, meta: pd.DataFrame, con: duckdb.DuckDBPyConnection) -> list[Problem]:
    """Warn on figures far outside the KPI's own history for that district (robust z-score)."""
    # cumulative series grow by design; their check is _cumulative_falls
    flows = good[meta["reporting"] != "cumulative"][["row", "kpi_id", "district_id", "period", "value"]]
    if flows.empty:
        return []
    con.register("incoming_jump", flows)
    try:
        rows = con.execute(
            """
            with incoming as (
                select row, kpi_id, district_id, period::date as period, value from incoming_jump
            ),
            pairs as (
                select distinct kpi_id, district_id from incoming
            ),
            history as (
                select c.kpi_id, c.district_id, c.value
                from current_observations as c
                join pairs using (kpi_id, district_id)
            ),
            stats as (
                select kpi_id, district_id, count(*) as n, median(value) as med, mad(value) as mad
                from history
                group by kpi_id, district_id
            )
            select i.row, i.value, s.med
            from incoming as i
            join stats as s using (kpi_id, district_id)
            where s.n >= ?
              and abs(i.value - s.med) / (1.4826 * s.mad + 0.05 * abs(s.med) + 1) > ?
            order by i.row
            """,
            [JUMP_MIN_HISTORY, JUMP_Z],
        ).fetchall()
    finally:
        con.unregister("incoming_jump")
    label = n.columns.get("value")
    return [
        Problem(
            n.file_name,
            int(r),
            label,
            f"{v:g}",
            f"数值明显偏离该指标历史水平（历史中位数 {m:g}），请核实",
            f"value is far outside this KPI's history (median {m:g}); please check",
        )
        for r, v, m in rows
    ]
