"""Which targets are judged, for which units, and which reported figures feed each unit.

This is the one place that reads scope and aggregation: the scorecard and the chart lines
(``series``) both take their units and member districts from here, so they cannot disagree about
what a target's aggregate or a district row adds up.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections import namedtuple
from collections.abc import Sequence
from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd

from monitor.progress.months import position
from monitor.progress.quotas import Allotment, Part, allot
from monitor.targets import CITY, TargetsConfig

# district_id of the aggregate of a target scoped to a list of districts (a city-scoped target's
# aggregate is CITY). Such a row is the sum over the listed districts, not the city figure.
SCOPE = "scope"

# How the judged figure is built from the reports (see docs/progress.md), the ``mode`` of a target:
#   total - cumulative targets: running total since the baseline (or the reported cumulative)
#   level - stock, ratio and level-reported annual/cap targets: the latest level
#   ytd   - annual and cap targets on flows: the calendar year's total so far
#   flag  - milestones: the latest 0/1

_TARGET_COLUMNS = (
    "target_id", "kpi_id", "section", "name_zh", "name_en", "kind", "comparator", "target_value",
    "tolerance", "deadline", "start_date", "baseline_value", "baseline_date", "scope", "milestones_json",
    "sort_order", "unit_zh", "unit_en", "value_type", "reporting", "aggregation", "lead_bureau", "co_bureaus",
    "part_of",
)  # fmt: skip
_TargetRow = namedtuple("_TargetRow", _TARGET_COLUMNS)  # one fetched target, as _derive reads it


@dataclass(frozen=True)
class Units:
    """``frame``: one row per judged unit, in display order (``unit`` = its position; ``target_row``
    = its target's row in the targets table; ``unit_id``; ``is_aggregate``; ``share`` of the target);
    ``members``: the (kpi, district) figures summed into each unit (``unit``, ``kpi_id``,
    ``district_id``, ``first_month`` counted, ``single`` = the unit has one member)."""

    frame: pd.DataFrame
    members: pd.DataFrame

    def districts(self, unit: int) -> list[str]:
        """The district ids whose figures are summed into one unit (CITY for a city-reported KPI)."""
        rows = self.members["unit"].to_numpy(dtype=np.int64) == unit
        return [str(d) for d in self.members["district_id"].to_numpy(dtype=object)[rows]]


def load_targets(con: duckdb.DuckDBPyConnection, target_ids: Sequence[str] | None) -> pd.DataFrame:
    """The targets with their KPI's fields and the parameters every rule derives from them."""
    where, params = "", []
    if target_ids is not None:
        where, params = "where t.target_id in (select unnest(?::varchar[]))", [list(target_ids)]
    rows = con.execute(
        f"""
        select
            t.target_id, t.kpi_id, t.section, t.name_zh, t.name_en, t.kind, t.comparator, t.target_value,
            t.tolerance, t.deadline, t.start_date, t.baseline_value, t.baseline_date, t.scope,
            t.milestones_json, t.sort_order, k.unit_zh, k.unit_en, k.value_type, k.reporting,
            k.aggregation, k.lead_bureau, k.co_bureaus, t.part_of
        from effective_targets as t
        join kpis as k using (kpi_id)
        {where}
        order by t.sort_order
        """,
        params,
    ).fetchall()
    targets = pd.DataFrame(rows, columns=list(_TARGET_COLUMNS))
    if targets.empty:
        return targets
    # Derived parameters, one loop over targets (a few hundred at most), over the fetched rows: reading
    # them back out of the frame's arrow-backed columns costs more than the rules themselves.
    derived = [_derive(_TargetRow._make(row)) for row in rows]
    targets = pd.concat([targets, pd.DataFrame(derived)], axis=1)
    quotas, parts = _district_settings(con)
    root = targets["part_of"].fillna(targets["target_id"]).tolist()
    targets["quotas"] = [quotas.get(r, {}) for r in root]
    targets["parts"] = [parts.get(t, []) for t in targets["target_id"].tolist()]
    return targets


def _district_settings(
    con: duckdb.DuckDBPyConnection,
) -> tuple[dict[str, dict[str, float]], dict[str, list[Part]]]:
    """The quotas in force per target, and the parts the text sets inside each target (quotas.py)."""
    quotas: dict[str, dict[str, float]] = {}
    rows = con.execute(
        "select target_id, district_id, value from current_target_settings where field = 'quota'"
    ).fetchall()
    for target_id, district_id, value in rows:
        quotas.setdefault(str(target_id), {})[str(district_id)] = float(value)
    parts: dict[str, list[Part]] = {}
    rows = con.execute(
        "select part_of, target_value, scope from targets where part_of is not null order by sort_order"
    ).fetchall()
    for parent, value, scope in rows:
        parts.setdefault(str(parent), []).append(Part(float(value), tuple(scope)))
    return quotas, parts


def _derive(target: object) -> dict[str, object]:
    """How one target is judged: its mode, the month axis positions of baseline and deadline, the
    first month whose figures count, and its milestones on the month axis."""
    kind, reporting = target.kind, target.reporting  # type: ignore[attr-defined]
    increments = reporting == "increment"
    if kind == "cumulative":
        mode = "total"
    elif kind == "milestone":
        mode = "flag"
    elif kind in ("annual", "cap") and reporting != "level":
        mode = "ytd"
    else:
        mode = "level"
    baseline_date = target.baseline_date or target.start_date  # type: ignore[attr-defined]
    baseline_pos = position(baseline_date)
    deadline_pos = position(target.deadline)  # type: ignore[attr-defined]
    baseline_value = target.baseline_value  # type: ignore[attr-defined]
    milestones = json.loads(target.milestones_json or "[]")  # type: ignore[attr-defined]
    return {
        "mode": mode,
        "increments": increments,
        "yearly": kind in ("annual", "floor") or mode == "ytd",  # a floor holds in every calendar year
        "baseline_raw": 0.0 if baseline_value is None or math.isnan(baseline_value) else float(baseline_value),
        "baseline_pos": baseline_pos,
        "deadline_pos": max(deadline_pos, baseline_pos + 1e-9),
        "deadline_month": math.ceil(deadline_pos) - 1,  # last month whose figures count for the deadline
        # increments count from the baseline month on; flows judged per year and levels need no cut
        "first_month": math.ceil(baseline_pos) if increments and mode in ("total", "level", "flag") else 0,
        "start_year": target.start_date.year,  # type: ignore[attr-defined]
        # flows judged per calendar year: the months of the first year before the start (2024: 6)
        "start_offset": target.start_date.month - 1 if kind == "annual" or mode == "ytd" else 0,  # type: ignore[attr-defined]
        "deadline_year": target.deadline.year,  # type: ignore[attr-defined]
        "milestones": sorted((position(dt.date.fromisoformat(m["date"])), float(m["value"])) for m in milestones),
    }


def reporting_districts(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The reporting units (every district but the city itself), in their display order."""
    rows = con.execute("select district_id from districts where kind <> 'city' order by sort_order").fetchall()
    return [r[0] for r in rows]


def resolve_district(con: duckdb.DuckDBPyConnection, name: str, cfg: TargetsConfig | None = None) -> str:
    """A district id from its id, Chinese or English name (or an alias in targets.yaml)."""
    rows = con.execute("select district_id, name_zh, name_en from districts").fetchall()
    wanted = name.strip()
    for district_id, name_zh, name_en in rows:
        if wanted in (district_id, name_zh, name_en):
            return str(district_id)
    if cfg is not None:
        for d in cfg.districts:
            if wanted in d.aliases:
                return d.id
    known = "、".join(f"{r[1]}({r[0]})" for r in rows)
    raise ValueError(f"未知旗区 / unknown district {name!r}；可选：{known}")


def judged_units(targets: pd.DataFrame, reporting: list[str], district: str | None, all_units: bool) -> Units:
    """Which units each target is judged for, and the (kpi, district) rows that feed each unit.

    A district's share of a count or amount target is an equal split over the districts in scope:
    targets.yaml carries no district quotas, and an equal split is the assumption that is easiest to
    see through (it is named in the reason). Ratios and flags are standards every district must meet."""
    known = set(reporting)
    scope = [reporting if list(s) == [CITY] else [d for d in s if d in known] for s in targets["scope"]]
    # districts as codes: positions in ``reporting``, then CITY and SCOPE (the aggregates' ids);
    # each distinct scope is coded once (a province has hundreds of targets but few scopes)
    place = {d: i for i, d in enumerate(reporting)}
    city_code, scope_code = len(reporting), len(reporting) + 1
    coded: dict[int, np.ndarray] = {}  # by the scope list's identity: every city-wide target shares one
    for districts in scope:
        if id(districts) not in coded:
            coded[id(districts)] = np.array([place[d] for d in districts], dtype=np.int64)
    scope_codes = [coded[id(districts)] for districts in scope]
    names = np.array([*reporting, CITY, SCOPE], dtype=object)
    n_scope = np.array([len(s) for s in scope], dtype=np.int64)
    n_targets = len(targets)
    every_target = np.arange(n_targets, dtype=np.int64)
    aggregation = targets["aggregation"].tolist()
    row_parts: list[np.ndarray] = []
    code_parts: list[np.ndarray] = []
    order_parts: list[np.ndarray] = []
    member_units: list[np.ndarray] = []
    member_codes: list[np.ndarray] = []
    if district is None:  # the aggregates, units 0 .. n_targets - 1 for now
        row_parts.append(every_target)
        city_wide = np.array([list(s) == [CITY] for s in targets["scope"]], dtype=bool)
        code_parts.append(np.where(city_wide, city_code, scope_code))
        order_parts.append(np.full(n_targets, -1, dtype=np.int64))
        # aggregation "all": the city's own row beside every district in scope (figures.py takes the minimum)
        members = [
            np.array([city_code]) if a == "city" else np.r_[city_code, codes] if a == "all" else codes
            for a, codes in zip(aggregation, scope_codes, strict=True)
        ]
        member_units.append(np.repeat(every_target, [len(m) for m in members]))
        member_codes.append(np.concatenate(members).astype(np.int64) if members else np.array([], dtype=np.int64))
    if district is not None or all_units:
        per_target = np.where(targets["aggregation"].isin(["sum", "all"]).to_numpy(), n_scope, 0)
        rows = np.repeat(every_target, per_target)
        wanted = [codes for codes, n in zip(scope_codes, per_target.tolist(), strict=True) if n]
        order = np.concatenate(wanted) if wanted else np.array([], dtype=np.int64)
        if district is not None:
            keep = order == place.get(district, -1)
            rows, order = rows[keep], order[keep]
        offset = sum(len(x) for x in row_parts)
        row_parts.append(rows)
        code_parts.append(order)
        order_parts.append(order)
        member_units.append(np.arange(offset, offset + len(rows), dtype=np.int64))
        member_codes.append(order)
    target_row = np.concatenate(row_parts) if row_parts else np.array([], dtype=np.int64)
    unit_code = np.concatenate(code_parts) if code_parts else np.array([], dtype=np.int64)
    order = np.concatenate(order_parts) if order_parts else np.array([], dtype=np.int64)
    unit_id = names[unit_code]
    is_aggregate = order < 0
    split = (
        targets["value_type"].isin(["count", "amount"]).to_numpy()[target_row]
        & (targets["aggregation"].to_numpy()[target_row] == "sum")
        & ~is_aggregate
    )
    share, note_zh, note_en = _shares(targets, scope, target_row, unit_id, split)
    # rows in display order (target, then aggregate first and districts in their order); unit follows it
    sort = np.lexsort((order, target_row))
    rank = np.empty_like(sort)
    rank[sort] = np.arange(len(sort))
    frame = pd.DataFrame(
        {
            "unit": np.arange(len(sort), dtype=np.int64),
            "target_row": target_row[sort],
            "unit_id": _texts(names, unit_code[sort]),
            "is_aggregate": is_aggregate[sort],
            "share": share[sort],
            "share_note_zh": note_zh[sort],
            "share_note_en": note_en[sort],
        }
    )
    unit_of_member = rank[np.concatenate(member_units)] if member_units else np.array([], dtype=np.int64)
    row_of_member = frame["target_row"].to_numpy()[unit_of_member]
    members_frame = pd.DataFrame(
        {
            "unit": unit_of_member,
            "kpi_id": _texts(targets["kpi_id"].to_numpy(dtype=object), row_of_member),
            "district_id": _texts(
                names, np.concatenate(member_codes) if member_codes else np.array([], dtype=np.int64)
            ),
            "first_month": targets["first_month"].to_numpy(dtype=np.int64)[row_of_member],
            # a unit fed by one district needs no summing: most units of a heat map
            "single": np.bincount(unit_of_member, minlength=len(frame))[unit_of_member] == 1,
        }
    )
    return Units(frame, members_frame)


def _texts(values: np.ndarray, at: np.ndarray) -> pd.api.extensions.ExtensionArray | np.ndarray:
    """``values[at]`` (Python strings) as the column the frame constructor would make of them, taken
    from the few distinct values at once: converting tens of thousands of strings one by one is a
    large part of a province's cost. An empty column stays object, as the constructor leaves it."""
    if len(at) == 0:
        return np.array([], dtype=object)
    return pd.Series(values).array.take(at)


def _shares(
    targets: pd.DataFrame, scope: list[list[str]], target_row: np.ndarray, unit_id: np.ndarray, split: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each unit's share of its target and the note naming where a district's share comes from
    (quotas.allot; "" for aggregates and for standards every district meets, share 1)."""
    share = np.ones(len(target_row), dtype=float)
    note_zh = np.full(len(target_row), "", dtype=object)
    note_en = np.full(len(target_row), "", dtype=object)
    split_units = np.flatnonzero(split)
    # plain Python lists: a province heat map has tens of thousands of district rows
    rows, ids = target_row[split_units].tolist(), unit_id[split_units].tolist()
    values = targets["target_value"].astype(float).tolist()
    quotas, parts = targets["quotas"].tolist(), targets["parts"].tolist()
    units_zh, units_en = targets["unit_zh"].tolist(), targets["unit_en"].tolist()
    scopes, part_of = targets["scope"].tolist(), targets["part_of"].tolist()
    allotted: dict[int, dict[str, Allotment]] = {
        row: allot(
            values[row],
            scope[row],
            quotas[row],
            parts[row],
            (str(units_zh[row]), str(units_en[row])),
            whole_city=list(scopes[row]) == [CITY],
            is_part=isinstance(part_of[row], str),
        )
        for row in dict.fromkeys(rows)  # each target once, in the order of its first unit
    }
    picked = [allotted[row][str(district)] for row, district in zip(rows, ids, strict=True)]
    # the arrays' own dtypes convert the lists: floats to float64, the notes stay the same str objects
    share[split_units] = [
        allotment.value / values[row] if values[row] else 0.0 for allotment, row in zip(picked, rows, strict=True)
    ]
    note_zh[split_units] = [allotment.note_zh for allotment in picked]
    note_en[split_units] = [allotment.note_en for allotment in picked]
    return share, note_zh, note_en
