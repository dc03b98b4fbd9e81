"""The two checks of a file's good rows against what the warehouse already holds (file and warehouse
together, in SQL): a cumulative figure may not fall, and a figure far outside its own history is
flagged. validate() calls them after the row-by-row rules; the rows come as one Arrow table
(etl.row_places.sql_rows)."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from etl.errors import Problem
from etl.findings import Found
from etl.normalise import Normalised
from monitor import db
from monitor.fmt import month_zh

# A figure is flagged (not rejected) when it sits this many robust deviations from its history.
JUMP_Z = 6.0
JUMP_MIN_HISTORY = 3


def cumulative_falls(found: Found, good_rows: pa.Table, cumulative: np.ndarray, con: duckdb.DuckDBPyConnection) -> None:
    """A cumulative-to-date figure may not fall below an earlier month (file and warehouse together).
    `good_rows` are the good rows as Arrow (row_places.sql_rows), `cumulative` marks those of cumulative KPIs."""
    if not cumulative.any():
        return
    cum = good_rows.filter(pa.array(cumulative))
    with db.registered(con, "incoming_cum", cum):
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
        ).df()
    if rows.empty:
        return
    # rows are unique in a file: each falling row back to its frame position
    position = pd.Series(np.arange(len(found.n.frame)), index=found.n.frame["row"].to_numpy())
    falls = rows.set_index(position.loc[rows["row"].to_numpy()].to_numpy())
    mask = np.zeros(len(found.n.frame), dtype=bool)
    mask[falls.index.to_numpy()] = True
    label = found.n.columns.get("value")

    def build(pos: np.ndarray) -> list[Problem]:
        out = []
        for r, v, pv, p, nv, np_ in falls.loc[pos].itertuples(index=False):
            if pd.notna(pv) and v < pv:
                zh = f"累计数不应下降：低于{month_zh(p)}的{pv:g}"
                en = f"a cumulative figure cannot fall: below {pv:g} reported for {pd.Timestamp(p):%Y-%m}"
            else:  # an earlier month above a later month already in the warehouse
                zh = f"累计数不应下降：高于{month_zh(np_)}已报送的{nv:g}"
                en = f"a cumulative figure cannot fall: above {nv:g} already reported for {pd.Timestamp(np_):%Y-%m}"
            out.append(Problem(found.n.file_name, int(r), label, f"{v:g}", zh, en))
        return out

    found.add(mask, build)


def jumps(n: Normalised, rows: pa.Table, flow: np.ndarray, con: duckdb.DuckDBPyConnection) -> list[Problem]:
    """Warn on figures far outside the KPI's own history for that district (robust z-score). `rows`
    are the good rows as Arrow (row_places.sql_rows), `flow` marks those of KPIs not reported cumulatively."""
    # cumulative series grow by design; their check is cumulative_falls
    if not flow.any():
        return []
    flows = rows if flow.all() else rows.filter(pa.array(flow))
    with db.registered(con, "incoming_jump", flows):
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
