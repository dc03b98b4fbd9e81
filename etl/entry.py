"""在线填报: a bureau's month as a grid, and the report file it becomes (like etl.correct, the file is
the ETL's to define; the page is dashboard/entry_form.py).

The grid has the template's rows exactly (etl.template.template_rows: every KPI the bureau leads, for
the units it reports for) and is never loaded on its own: `to_report` writes it as a csv with the
template's columns, and that file goes through the same read → validate → load path as an upload.
So the checks and their Chinese messages are the ETL's, the file is archived like an upload, and
`python -m etl rebuild` replays a grid submission as it replays any file. Problems name rows of
that file; `problems_by_row` maps them back to grid rows.

A draft (one per bureau and month, in entry_drafts) keeps the editable cells only, the value and the
note as typed, so a half-filled month survives a reload and a sign-out.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd

from etl.errors import Problem
from etl.load import LoadResult
from etl.template import HEADER, template_rows
from monitor import db
from monitor.targets import TargetsConfig

VALUE, NOTE, LAST = "数值", "备注", "上月数值（参考）"
EDITABLE = (VALUE, NOTE)
# the generated csv has its header on line 1, so grid row i (0-based) is line i + 2 of the file
FIRST_DATA_LINE = 2
KEYS = ["kpi_id", "district_id"]


def rule(value_type: str, reporting: str) -> str:
    """Which reporting rule a row follows, as the template words it (etl.template.rule_zh): a ratio or
    a flag by its type, any other KPI by its basis (increment, cumulative, level)."""
    return value_type if value_type in ("ratio", "flag") else reporting


def figure_text(value: float) -> str:
    """A figure as a cell holds it: every digit, no exponent (1234567.5, not 1.23457e+06)."""
    return np.format_float_positional(float(value), trim="-")


def cell(value: object) -> str:
    """An editable cell as text, "" when empty (an empty value cell means "not reported")."""
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return ""
    return str(value).strip()


def _reported(con: duckdb.DuckDBPyConnection, kpi_ids: list[str], periods: list[dt.date]) -> pd.DataFrame:
    """The figures the bureau has submitted (approved or pending, not returned): the grid shows what
    it already sent, which is also what a new report is compared with (etl.load._changes)."""
    return con.execute(
        """
        select kpi_id, district_id, period, value
        from current_reported_observations
        where list_contains(?, kpi_id) and list_contains(?, period)
        """,
        [kpi_ids, periods],
    ).df()


def _notes(con: duckdb.DuckDBPyConnection, kpi_ids: list[str], period: dt.date) -> pd.DataFrame:
    """The newest note of each figure of the month among submissions not returned (a figure sent again
    unchanged may carry a new note: etl.notes)."""
    return con.execute(
        """
        select kpi_id, district_id, arg_max(n.note, n.submission_id) as note
        from observation_notes as n
        join submissions as s using (submission_id)
        where s.outcome = 'accepted' and s.review_status <> 'returned'
          and list_contains(?, n.kpi_id) and n.period = ?
        group by kpi_id, district_id
        """,
        [kpi_ids, period],
    ).df()


def grid(con: duckdb.DuckDBPyConnection, cfg: TargetsConfig, bureau_id: str, period: dt.date) -> pd.DataFrame:
    """The month's grid: the template's rows and columns (etl.template.HEADER) plus kpi_id,
    district_id and rule. 数值 and 备注 hold what the bureau already submitted for the month (text,
    "" where nothing was); 上月数值（参考） is last month's figure as submitted, for reference only."""
    frame = template_rows(cfg, bureau_id, period)  # without con: last month is read below, as submitted
    columns = [*KEYS, "rule", *HEADER]
    if frame.empty:
        return pd.DataFrame(columns=columns)
    frame["rule"] = [rule(cfg.kpi_by_id[k].value_type, cfg.kpi_by_id[k].reporting) for k in frame["kpi_id"]]
    previous = (pd.Timestamp(period) - pd.DateOffset(months=1)).date()
    kpi_ids = sorted(set(frame["kpi_id"]))
    reported = _reported(con, kpi_ids, [previous, period])
    reported["period"] = pd.to_datetime(reported["period"]).dt.date
    by_month = {month: reported[reported["period"] == month].set_index(KEYS)["value"] for month in (previous, period)}
    at = pd.MultiIndex.from_frame(frame[KEYS])
    frame[LAST] = by_month[previous].reindex(at).to_numpy(dtype="float64")
    this_month = by_month[period].reindex(at)
    frame[VALUE] = pd.array([None if pd.isna(v) else figure_text(v) for v in this_month], dtype="string")
    notes = _notes(con, kpi_ids, period).set_index(KEYS)["note"].reindex(at)
    frame[NOTE] = pd.array([None if pd.isna(n) else str(n) for n in notes], dtype="string")
    return frame[columns].reset_index(drop=True)


def fill_from_last_month(frame: pd.DataFrame) -> pd.DataFrame:
    """按上月数值填充: last month's figure copied into every empty value cell (a cell already typed, or
    a row without a figure last month, is left as it is)."""
    out = frame.copy()
    empty = out[VALUE].map(cell) == ""
    has_last = out[LAST].notna()
    copied = [figure_text(v) for v in out.loc[empty & has_last, LAST]]
    out[VALUE] = out[VALUE].astype("string")
    out.loc[empty & has_last, VALUE] = copied
    return out


def file_name(bureau_id: str, period: dt.date) -> str:
    return f"在线填报_{bureau_id}_{period:%Y%m}.csv"


def to_report(frame: pd.DataFrame, bureau_id: str, period: dt.date) -> tuple[str, bytes]:
    """(file name, utf-8 csv) of the grid as a report with the template's columns, one line per grid
    row in grid order (so a problem on line i + 2 is grid row i). An empty value cell stays empty:
    the ETL skips the row as not reported."""
    out = pd.DataFrame(
        {
            "指标编码": frame["指标编码"].astype(str),
            "指标名称": frame["指标名称"].astype(str),
            "旗区": frame["旗区"].astype(str),
            "报送期": f"{period:%Y-%m}",
            VALUE: frame[VALUE].map(cell),
            "单位": frame["单位"].astype(str),
            "报送口径": frame["报送口径"].astype(str),
            LAST: [("" if pd.isna(v) else figure_text(v)) for v in frame[LAST]],
            NOTE: frame[NOTE].map(cell),
        },
        columns=HEADER,
    )
    return file_name(bureau_id, period), out.to_csv(index=False, lineterminator="\n").encode("utf-8")


def problems_by_row(
    result: LoadResult, frame: pd.DataFrame, *, warnings: bool = False
) -> dict[int | None, list[Problem]]:
    """The ETL's problems (or warnings) of a report made by `to_report`, by grid row (0-based
    position in `frame`); None collects those on no grid row (the file as a whole, e.g. every value
    empty)."""
    found = result.warnings if warnings else result.problems
    out: dict[int | None, list[Problem]] = {}
    for problem in found:
        position = None if problem.row is None else problem.row - FIRST_DATA_LINE
        if position is not None and not 0 <= position < len(frame):
            position = None
        out.setdefault(position, []).append(problem)
    return out


# -- drafts -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Draft:
    """A saved grid: who saved it and when, and the value and note typed in each row."""

    user_name: str
    saved_at: dt.datetime
    cells: dict[tuple[str, str], tuple[str, str]]  # (kpi_id, district_id) -> (value, note)

    def apply(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The grid with the draft's cells in place of the submitted ones (see with_cells)."""
        return with_cells(frame, self.cells)


def cells_of(frame: pd.DataFrame) -> dict[tuple[str, str], tuple[str, str]]:
    """The editable cells of every row: (kpi_id, district_id) -> (value, note) as typed, "" when empty."""
    return {
        (k, d): (cell(v), cell(n))
        for k, d, v, n in zip(frame["kpi_id"], frame["district_id"], frame[VALUE], frame[NOTE], strict=True)
    }


def with_cells(frame: pd.DataFrame, cells: dict[tuple[str, str], tuple[str, str]]) -> pd.DataFrame:
    """The grid with these cells in place. A row the cells do not name (a KPI added to targets.yaml
    since they were kept) keeps its own; a cell of a row no longer in the grid is dropped."""
    out = frame.copy()
    values, notes = list(out[VALUE]), list(out[NOTE])
    for i, key in enumerate(zip(out["kpi_id"], out["district_id"], strict=True)):
        if key in cells:
            value, note = cells[key]
            values[i], notes[i] = value or None, note or None
    out[VALUE] = pd.array(values, dtype="string")
    out[NOTE] = pd.array(notes, dtype="string")
    return out


def draft_cells(frame: pd.DataFrame) -> str:
    """The editable cells of every row as JSON (ids, value and note as typed; no names or figures)."""
    cells = [{"kpi_id": k, "district_id": d, "value": v, "note": n} for (k, d), (v, n) in cells_of(frame).items()]
    return json.dumps(cells, ensure_ascii=False)


def save_draft(
    con: duckdb.DuckDBPyConnection, bureau_id: str, period: dt.date, user: str, frame: pd.DataFrame
) -> dt.datetime:
    """Keep the grid's cells as the bureau's draft of the month (replacing an earlier one); when."""
    saved_at = dt.datetime.now().replace(microsecond=0)
    with db.transaction(con):
        con.execute(
            "insert or replace into entry_drafts values (?, ?, ?, ?, ?)",
            [bureau_id, period, user, saved_at, draft_cells(frame)],
        )
    return saved_at


def load_draft(con: duckdb.DuckDBPyConnection, bureau_id: str, period: dt.date) -> Draft | None:
    found = db.one(
        con,
        "select user_name, saved_at, cells_json from entry_drafts where bureau_id = ? and period = ?",
        [bureau_id, period],
    )
    if found is None:
        return None
    cells = {(c["kpi_id"], c["district_id"]): (c["value"], c["note"]) for c in json.loads(found[2])}
    return Draft(found[0], found[1], cells)


def drop_draft(con: duckdb.DuckDBPyConnection, bureau_id: str, period: dt.date) -> None:
    with db.transaction(con):
        con.execute("delete from entry_drafts where bureau_id = ? and period = ?", [bureau_id, period])
