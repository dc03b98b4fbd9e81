"""审核: a bureau's approver signs off its reporters' submissions before leadership sees the figures.

A submission loaded by a reporter of a bureau that requires approval is ``pending``: its figures are in
the warehouse (so the bureau sees them and a later upload is compared with them) but the views every
leadership page reads (visible_observations, current_observations) leave them out until an approver of
that bureau approves it; returned, they never count. An admin may switch approval off for a bureau;
then, and for admins' own loads, submissions are approved on submit.

Every rule is checked here, on the server: only an approver of the submission's bureau reviews it, never
their own submission, only a pending one, and a return needs a comment. Every step is audited.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd

from monitor import db, i18n
from monitor.auth import User

MAX_COMMENT = 500
PENDING, APPROVED, RETURNED = "pending", "approved", "returned"

_COLUMNS = [
    "submission_id", "bureau_id", "user_name", "submitted_at", "file_name", "rows_loaded", "reason",
    "review_status", "reviewed_by", "reviewed_at", "review_comment",
]  # fmt: skip


class ReviewError(i18n.CatalogueError):
    """A refused review step; the text is in the i18n catalogue (key and params)."""


def approval_required(con: duckdb.DuckDBPyConnection, bureau_id: str) -> bool:
    """On unless an admin switched it off for the bureau."""
    found = db.scalar(con, "select approval_required from bureau_review where bureau_id = ?", [bureau_id])
    return True if found is None else bool(found)


def status_of(con: duckdb.DuckDBPyConnection, submission_id: int | None) -> str | None:
    """approved | pending | returned for a submission (None when there is none)."""
    if submission_id is None:
        return None
    found = db.scalar(con, "select review_status from submissions where submission_id = ?", [submission_id])
    return None if found is None else str(found)


def status_on_submit(con: duckdb.DuckDBPyConnection, user: User, bureau_id: str) -> str:
    """A reporter's submission waits for approval where the bureau requires it; an admin's is approved."""
    return PENDING if user.role == "reporter" and approval_required(con, bureau_id) else APPROVED


def set_approval_required(con: duckdb.DuckDBPyConnection, user: User, bureau_id: str, required: bool) -> None:
    """An admin switches approval on or off for a bureau (pending submissions stay pending)."""
    if user.role != "admin" or not user.active:
        raise ReviewError("review_admin_only")
    if db.scalar(con, "select count(*) from bureaus where bureau_id = ?", [bureau_id]) == 0:
        raise ReviewError("review_unknown_bureau", bureau=bureau_id)
    with db.transaction(con):
        con.execute(
            "insert or replace into bureau_review values (?, ?, ?, now())", [bureau_id, required, user.user_name]
        )
        db.audit(con, user.user_name, "approval_setting", {"bureau": bureau_id, "required": required})


def submissions(con: duckdb.DuckDBPyConnection, bureau_id: str, status: str) -> pd.DataFrame:
    """A bureau's accepted submissions in one review state, newest first."""
    columns = ", ".join(_COLUMNS)  # constants
    rows = con.execute(
        f"""
        select {columns} from submissions
        where bureau_id = ? and outcome = 'accepted' and review_status = ?
        order by submission_id desc
        """,
        [bureau_id, status],
    ).fetchall()
    return pd.DataFrame(rows, columns=_COLUMNS)


def pending_figures(con: duckdb.DuckDBPyConnection) -> int:
    """How many figures (new or revised) wait for approval across all bureaus: the leader's count."""
    found = db.scalar(
        con,
        """
        select count(*)
        from observations as o
        semi join (select submission_id from submissions where review_status = 'pending') using (submission_id)
        """,
    )
    return int(found or 0)  # type: ignore[call-overload]


def _pending_submission(con: duckdb.DuckDBPyConnection, user: User, submission_id: int) -> tuple[str, str]:
    """Check that ``user`` may review the submission now; return its (bureau, submitter)."""
    row = db.one(
        con,
        "select bureau_id, user_name, review_status, outcome from submissions where submission_id = ?",
        [submission_id],
    )
    if row is None or row[3] != "accepted":
        raise ReviewError("review_unknown_submission", submission=submission_id)
    bureau_id, submitter, status = str(row[0]), str(row[1]), str(row[2])
    if user.role != "approver" or not user.active or user.bureau_id != bureau_id:
        raise ReviewError("review_not_approver")
    if submitter == user.user_name:
        raise ReviewError("review_own_submission")
    if status != PENDING:
        raise ReviewError("review_not_pending", submission=submission_id, status=i18n.t(f"review_{status}", "zh"))
    return bureau_id, submitter


def approve(con: duckdb.DuckDBPyConnection, user: User, submission_id: int) -> None:
    """Approve a pending submission: its figures reach leadership pages, the scorecard and the briefing."""
    with db.transaction(con):
        bureau_id, submitter = _pending_submission(con, user, submission_id)
        con.execute(
            "update submissions set review_status = ?, reviewed_by = ?, reviewed_at = now() where submission_id = ?",
            [APPROVED, user.user_name, submission_id],
        )
        detail = {"submission_id": submission_id, "bureau": bureau_id, "by": submitter}
        db.audit(con, user.user_name, "review_approve", detail)


def return_submission(con: duckdb.DuckDBPyConnection, user: User, submission_id: int, comment: str) -> None:
    """Return a pending submission to its reporter with a comment; its figures never count."""
    text = comment.strip()
    if not text:
        raise ReviewError("review_comment_required")
    if len(text) > MAX_COMMENT:
        raise ReviewError("review_comment_too_long", max=MAX_COMMENT, length=len(text))
    with db.transaction(con):
        bureau_id, submitter = _pending_submission(con, user, submission_id)
        con.execute(
            """
            update submissions set review_status = ?, reviewed_by = ?, reviewed_at = now(), review_comment = ?
            where submission_id = ?
            """,
            [RETURNED, user.user_name, text, submission_id],
        )
        db.audit(
            con,
            user.user_name,
            "review_return",
            {"submission_id": submission_id, "bureau": bureau_id, "by": submitter, "comment": text},
        )


def including_pending(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether this cursor shows pending figures (the leader's labelled choice): the briefing says so."""
    return bool(db.scalar(con, "select coalesce(getvariable('include_pending'), false)"))


def figures(con: duckdb.DuckDBPyConnection, submission_id: int) -> pd.DataFrame:
    """What approving a submission would change: each of its figures beside the approved figure in
    force for the same KPI, unit and month (None when the figure is new), with the bureau's note; by
    month, KPI and the districts' official order.

    The approved figure is read from approved submissions only, not from current_observations: on a
    cursor that includes pending figures that view would compare the submission with itself."""
    return con.execute(
        """
        with approved as (
            select o.kpi_id, o.district_id, o.period, o.value,
                   row_number() over (partition by o.kpi_id, o.district_id, o.period order by o.revision desc) as rn
            from observations as o
            anti join (select submission_id from submissions where review_status <> 'approved') using (submission_id)
        ),
        notes as (
            select kpi_id, district_id, period, string_agg(note, '；') as note
            from observation_notes where submission_id = ? group by all
        )
        select o.kpi_id, o.district_id, o.period, o.value, a.value as approved_value, n.note
        from observations as o
        left join approved as a
            on a.rn = 1 and a.kpi_id = o.kpi_id and a.district_id = o.district_id and a.period = o.period
        left join notes as n on n.kpi_id = o.kpi_id and n.district_id = o.district_id and n.period = o.period
        join districts as d on d.district_id = o.district_id  -- the official order (targets.DISTRICT_ORDER)
        where o.submission_id = ?
        order by o.period, o.kpi_id, d.sort_order
        """,
        [submission_id, submission_id],
    ).df()


def returned_open(con: duckdb.DuckDBPyConnection, bureau_id: str) -> int:
    """Returned submissions the bureau has not answered yet: returned after its newest submission that
    was approved or is pending (a reporter's open item, "1项被退回")."""
    found = db.scalar(
        con,
        """
        select count(*) from submissions
        where bureau_id = ? and outcome = 'accepted' and review_status = 'returned'
          and submission_id > (
              select coalesce(max(submission_id), 0) from submissions
              where bureau_id = ? and outcome = 'accepted' and review_status <> 'returned'
          )
        """,
        [bureau_id, bureau_id],
    )
    return int(found or 0)  # type: ignore[call-overload]


def periods(con: duckdb.DuckDBPyConnection, submission_id: int) -> list[dt.date]:
    """The months a submission holds figures for (the reporter's list of returned submissions)."""
    rows = con.execute(
        "select distinct period from observations where submission_id = ? order by period", [submission_id]
    ).fetchall()
    return [pd.Timestamp(r[0]).date() for r in rows]
