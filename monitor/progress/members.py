"""The members of an ``aggregation: all`` aggregate (a flag every unit must meet): which KPIs are judged
on every member, and, for the reason of an aggregate not judged done, who has not reported done."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd

from monitor.progress.months import month_date
from monitor.progress.units import Units
from monitor.targets import CITY


def every_member_kpis(con: duckdb.DuckDBPyConnection) -> set[str]:
    """The KPIs of ``aggregation: all``: a unit fed by several members is done only when all are."""
    return {str(r[0]) for r in con.execute("select kpi_id from kpis where aggregation = 'all'").fetchall()}


def with_every_member(con: duckdb.DuckDBPyConnection, members: pd.DataFrame) -> pd.DataFrame:
    """The members with ``every_member`` (an aggregate of an ``all`` KPI: reduced by the minimum, not
    summed) and ``n_members`` (how many must report)."""
    unit = members["unit"].to_numpy(dtype=np.int64)
    n_members = np.bincount(unit, minlength=int(unit.max()) + 1 if len(unit) else 0)[unit]
    every_member = members["kpi_id"].isin(every_member_kpis(con)).to_numpy() & (n_members > 1)
    return members.assign(every_member=every_member, n_members=n_members.astype(np.int64))


@dataclass(frozen=True)
class MemberCount:
    """An ``all`` aggregate not judged done, in its last reported month: ``done`` of its ``total``
    members reported 1; ``missing_zh``/``missing_en`` name the others (silent or 0), city first."""

    done: int
    total: int
    missing_zh: tuple[str, ...]
    missing_en: tuple[str, ...]


# The city's own member of an ``all`` aggregate (its centre, body or office), beside the districts.
CITY_MEMBER = ("市本级", "city level")


def member_counts(con: duckdb.DuckDBPyConnection, units: Units, latest: np.ndarray) -> dict[int, MemberCount]:
    """For every aggregate of an ``all`` KPI with a figure (``latest`` >= 0, its last month), how many
    members reported 1 that month and which did not: the reason names them. Few units have one (one
    query each); every other unit is left out."""
    members = with_every_member(con, units.members)
    unit = members["unit"].to_numpy(dtype=np.int64)
    wanted = members[members["every_member"].to_numpy(dtype=bool) & (latest[unit] >= 0)]
    if wanted.empty:
        return {}
    rows = con.execute("select district_id, name_zh, name_en from districts").fetchall()
    names = {str(d): (str(zh), str(en)) for d, zh, en in rows}
    names[CITY] = CITY_MEMBER
    counts: dict[int, MemberCount] = {}
    for unit_no, group in wanted.groupby("unit", sort=True):
        districts = [str(d) for d in group["district_id"]]
        done = {
            str(d)
            for (d,) in con.execute(
                """
                select district_id from current_observations
                where kpi_id = ? and period = ? and value = 1 and district_id in (select unnest(?::varchar[]))
                """,
                [str(group["kpi_id"].iloc[0]), month_date(int(latest[int(unit_no)])), districts],
            ).fetchall()
        }
        missing = [d for d in districts if d not in done]
        counts[int(unit_no)] = MemberCount(
            done=len(districts) - len(missing),
            total=len(districts),
            missing_zh=tuple(names.get(d, (d, d))[0] for d in missing),
            missing_en=tuple(names.get(d, (d, d))[1] for d in missing),
        )
    return counts
