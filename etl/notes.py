"""备注: the note a bureau writes beside a figure, kept with the submission that carried it.

The template's 备注 column (and the online grid) let a clerk say why a figure is what it is ("含3月漏报
项目"). A note is text: it is never parsed, only trimmed, checked for length (etl.validate refuses a note
over MAX_NOTE characters like any other cell problem) and stored in ``observation_notes``, one row per
accepted figure of the file that has one, with the submission's id. A figure sent again unchanged keeps
its note too: the note may be the news. Called from etl.load.load_bytes inside the load's transaction,
so a note never outlives a rolled-back load; ``rebuild`` replays the files and so the notes.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from monitor import db

MAX_NOTE = 500


def with_note(good: pd.DataFrame) -> pd.DataFrame:
    """The rows of a checked file that carry a note: kpi_id, district_id, period, note."""
    if "note" not in good.columns:
        return pd.DataFrame(columns=["kpi_id", "district_id", "period", "note"])
    noted = good[good["note"].fillna("").astype(str).str.strip() != ""]
    out = noted[["kpi_id", "district_id", "period", "note"]].copy()
    out["period"] = out["period"].astype("datetime64[s]")
    out["note"] = out["note"].astype(str).str.strip()
    return out


def store(con: duckdb.DuckDBPyConnection, submission_id: int, good: pd.DataFrame) -> int:
    """Insert the notes of an accepted file's figures under ``submission_id``; how many were stored.

    Runs inside the caller's transaction (etl.load): no transaction of its own."""
    noted = with_note(good)
    if noted.empty:
        return 0
    with db.registered(con, "incoming_notes", noted):
        con.execute(
            """
            insert into observation_notes
            select ?, kpi_id, district_id, period::date, note from incoming_notes
            """,
            [submission_id],
        )
    return len(noted)
