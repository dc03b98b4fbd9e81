"""Rows of a normalised report by their KPI's and district's places in the configuration.

etl.validate's rules ask of every row what its KPI is (a count? led by this bureau? cumulative?) and
whether another row repeats its (KPI, district, period). On a million rows, asking it of the ids
(Python strings) cost more than all the rules: a merge with the KPI table, object comparisons, a
three-column duplicate search. Here the same questions are asked of integers: each row's place in
cfg.kpis / cfg.districts (normalise finds them while it looks the ids up; -1 for none). The rows
handed to SQL are built here too, as Arrow, which DuckDB scans in parallel.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa


def per_kpi(values: list[object], missing: object, kpi_pos: np.ndarray, dtype: type = bool) -> np.ndarray:
    """One value per row from one per KPI: kpi_pos indexes cfg.kpis, -1 (no such KPI) takes `missing`."""
    return np.array([*values, missing], dtype=dtype)[kpi_pos]


def per_place(values: list[bool], places: np.ndarray) -> np.ndarray:
    """A per-district (or per-KPI) flag for each row by its place; False for a row without one."""
    return np.array([*values, False], dtype=bool)[places]


def positions(ids: pd.Series, known: list[str]) -> np.ndarray:
    """Each row's place in `known` (-1 when absent or NaN), hashed as Python strings: an Arrow-backed
    index would first turn the million objects into Arrow text."""
    return pd.Index(known, dtype=object).get_indexer(ids.to_numpy(dtype=object))


def sql_rows(frame: pd.DataFrame) -> pa.Table:
    """row, kpi_id, district_id, period, value of checked rows as Arrow, for SQL (see Checked.rows)."""
    return pa.table(
        {
            "row": pa.array(frame["row"].to_numpy(dtype=np.int64)),
            "kpi_id": pa.array(frame["kpi_id"].to_numpy(dtype=object), type=pa.string()),
            "district_id": pa.array(frame["district_id"].to_numpy(dtype=object), type=pa.string()),
            "period": pa.array(frame["period"].to_numpy(dtype="datetime64[s]")),
            "value": pa.array(frame["value"].to_numpy(dtype=np.float64)),
        }
    )


def coded_rows(
    frame: pd.DataFrame, kpi_pos: np.ndarray, kpi_ids: list[str], d_pos: np.ndarray, d_ids: list[str]
) -> pa.Table:
    """`sql_rows` from the KPI and district positions already found (no million-string conversion)."""
    return pa.table(
        {
            "row": pa.array(frame["row"].to_numpy(dtype=np.int64)),
            "kpi_id": pa.array(kpi_ids, type=pa.string()).take(pa.array(kpi_pos)),
            "district_id": pa.array(d_ids, type=pa.string()).take(pa.array(d_pos)),
            "period": pa.array(frame["period"].to_numpy(dtype="datetime64[s]")),
            "value": pa.array(frame["value"].to_numpy(dtype=np.float64)),
        }
    )


def repeated(f: pd.DataFrame, keyed: np.ndarray, kpi_pos: np.ndarray, d_pos: np.ndarray) -> np.ndarray:
    """Rows among `keyed` whose (KPI, district, period) another keyed row repeats, as a mask. The KPI
    and district are compared by their places in the configuration (integers, not a million strings);
    a frame with ids outside it is compared by the ids themselves."""
    out = np.zeros(len(f), dtype=bool)
    at = np.flatnonzero(keyed)
    kpis, districts = kpi_pos[at], d_pos[at]
    if at.size and (kpis >= 0).all() and (districts >= 0).all():
        # one integer per (KPI, district, period): KPI place, district place, and the period's rank
        # among the file's distinct periods
        period_codes, periods = pd.factorize(f["period"].to_numpy(dtype="datetime64[s]")[at].view(np.int64))
        n_districts = int(districts.max()) + 1
        key = (kpis.astype(np.int64) * n_districts + districts) * len(periods) + period_codes
        out[at] = pd.Series(key).duplicated(keep=False).to_numpy(dtype=bool)
    else:
        out[at] = f[["kpi_id", "district_id", "period"]].take(at).duplicated(keep=False).to_numpy(dtype=bool)
    return out
