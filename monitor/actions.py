"""督办 follow-up actions: a leader asks a target's bureau to act by a date; the bureau answers.

A leader (or an administrator) opens an action on a target for its lead or a co-responsible bureau:
what is asked and a due date. The bureau's reporters and approvers record measures and progress and ask
to close; the leader closes it, or reopens a closed one, always with a comment. An action not closed
whose due date has passed is overdue.

Every rule is checked here, on the server, whatever a page shows: the pages only draw. Steps are
appended to action_steps (never updated) and each is audited in the same transaction. The state of an
action is that of its newest state-changing step (open, request_close, close, reopen); a response
records progress without changing the state, so a bureau's later note does not withdraw its request.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd

from monitor import db, i18n
from monitor.auth import User
from monitor.targets import TargetsConfig

MAX_TEXT = 500
OPEN, CLOSE_REQUESTED, CLOSED = "open", "close_requested", "closed"
STATES = (OPEN, CLOSE_REQUESTED, CLOSED)
# step kinds, in action_steps.kind
OPENED, RESPONSE, CLOSE_REQUEST, CLOSING, REOPENING = "open", "respond", "request_close", "close", "reopen"
STEP_KINDS = (OPENED, RESPONSE, CLOSE_REQUEST, CLOSING, REOPENING)
_LEADERS = ("leader", "admin")
_BUREAU_ROLES = ("reporter", "approver")

COLUMNS = [
    "action_id", "target_id", "bureau_id", "asked", "due_date", "state", "overdue", "latest_note",
    "opened_by", "opened_at",
]  # fmt: skip
HISTORY_COLUMNS = ["step_id", "kind", "note", "user_name", "step_at"]


class ActionError(i18n.CatalogueError):
    """A refused 督办 step; the text is in the i18n catalogue (key and params)."""


def _text(value: str, required_key: str) -> str:
    """The typed text, trimmed: 1 to MAX_TEXT characters."""
    text = value.strip()
    if not text:
        raise ActionError(required_key)
    if len(text) > MAX_TEXT:
        raise ActionError("fa_text_too_long", max=MAX_TEXT, length=len(text))
    return text


def _require_leader(user: User) -> None:
    if user.role not in _LEADERS or not user.active:
        raise ActionError("fa_leaders_only")


def responsible_bureaus(cfg: TargetsConfig, target_id: str) -> list[str]:
    """The bureaus an action on the target may be given to: its KPI's lead bureau, then the co-bureaus."""
    target = next((t for t in cfg.targets if t.id == target_id), None)
    if target is None:
        raise ActionError("fa_unknown_target", target=target_id)
    kpi = cfg.kpi_by_id[target.kpi]
    return [kpi.lead, *[b for b in kpi.co if b != kpi.lead]]


def _state(con: duckdb.DuckDBPyConnection, action_id: int) -> tuple[str, str]:
    """The action's (bureau, state); an unknown action is refused."""
    row = db.one(
        con,
        f"""
        select a.bureau_id, (
            select s.kind from action_steps as s
            where s.action_id = a.action_id and s.kind in ('{OPENED}', '{CLOSE_REQUEST}', '{CLOSING}', '{REOPENING}')
            order by s.step_id desc limit 1
        )
        from actions as a where a.action_id = ?
        """,  # kinds are constants
        [action_id],
    )
    if row is None:
        raise ActionError("fa_unknown", action=action_id)
    return str(row[0]), _STATE_OF_KIND.get(str(row[1]), OPEN)


_STATE_OF_KIND = {OPENED: OPEN, REOPENING: OPEN, CLOSE_REQUEST: CLOSE_REQUESTED, CLOSING: CLOSED}


def _add_step(con: duckdb.DuckDBPyConnection, user: User, action_id: int, kind: str, note: str) -> None:
    """Append one step and its audit row (the caller holds the transaction)."""
    con.execute(
        "insert into action_steps values (?, ?, ?, ?, ?, now())",
        [db.next_id(con, "action_step_seq"), action_id, kind, note, user.user_name],
    )
    db.audit(con, user.user_name, f"action_{kind}", {"action_id": action_id, "note": note})


def open_action(
    con: duckdb.DuckDBPyConnection,
    cfg: TargetsConfig,
    leader: User,
    target_id: str,
    bureau_id: str,
    asked: str,
    due_date: dt.date,
    *,
    today: dt.date | None = None,
) -> int:
    """A leader asks a responsible bureau to act on a target by a date; returns the new action's id."""
    _require_leader(leader)
    bureaus = responsible_bureaus(cfg, target_id)
    if bureau_id not in bureaus:
        raise ActionError("fa_bureau_not_responsible", bureau=bureau_id, target=target_id)
    text = _text(asked, "fa_asked_required")
    day = today or dt.date.today()
    if due_date < day:
        raise ActionError("fa_due_in_past", due=due_date.isoformat(), today=day.isoformat())
    with db.transaction(con):
        action_id = db.next_id(con, "action_seq")
        con.execute(
            "insert into actions values (?, ?, ?, ?, ?, ?, now())",
            [action_id, target_id, bureau_id, text, due_date, leader.user_name],
        )
        con.execute(
            "insert into action_steps values (?, ?, ?, ?, ?, now())",
            [db.next_id(con, "action_step_seq"), action_id, OPENED, text, leader.user_name],
        )
        db.audit(
            con,
            leader.user_name,
            "action_open",
            {"action_id": action_id, "target": target_id, "bureau": bureau_id, "asked": text, "due": due_date},
        )
    return action_id


def _bureau_step(con: duckdb.DuckDBPyConnection, user: User, action_id: int) -> str:
    """Check that ``user`` speaks for the action's bureau and the action is not closed; return its state."""
    bureau_id, state = _state(con, action_id)
    if user.role not in _BUREAU_ROLES or not user.active or user.bureau_id != bureau_id:
        raise ActionError("fa_not_bureau")
    if state == CLOSED:
        raise ActionError("fa_is_closed", action=action_id)
    return state


def respond(con: duckdb.DuckDBPyConnection, user: User, action_id: int, note: str) -> None:
    """The bureau records the measures taken and the progress made (the state does not change)."""
    text = _text(note, "fa_note_required")
    with db.transaction(con):
        _bureau_step(con, user, action_id)
        _add_step(con, user, action_id, RESPONSE, text)


def request_close(con: duckdb.DuckDBPyConnection, user: User, action_id: int, note: str) -> None:
    """The bureau says the action is done and asks the leader to close it."""
    text = _text(note, "fa_note_required")
    with db.transaction(con):
        if _bureau_step(con, user, action_id) == CLOSE_REQUESTED:
            raise ActionError("fa_already_requested", action=action_id)
        _add_step(con, user, action_id, CLOSE_REQUEST, text)


def close(con: duckdb.DuckDBPyConnection, leader: User, action_id: int, comment: str) -> None:
    """A leader closes an action (asked to or not), with a comment."""
    _require_leader(leader)
    text = _text(comment, "fa_comment_required")
    with db.transaction(con):
        if _state(con, action_id)[1] == CLOSED:
            raise ActionError("fa_is_closed", action=action_id)
        _add_step(con, leader, action_id, CLOSING, text)


def reopen(con: duckdb.DuckDBPyConnection, leader: User, action_id: int, comment: str) -> None:
    """A leader reopens a closed action, with a comment saying what is still missing."""
    _require_leader(leader)
    text = _text(comment, "fa_comment_required")
    with db.transaction(con):
        if _state(con, action_id)[1] != CLOSED:
            raise ActionError("fa_not_closed", action=action_id)
        _add_step(con, leader, action_id, REOPENING, text)


def actions(
    con: duckdb.DuckDBPyConnection,
    target_ids: list[str] | None = None,
    *,
    bureau_id: str | None = None,
    include_closed: bool = True,
    today: dt.date | None = None,
) -> pd.DataFrame:
    """Actions with their state, overdue flag and latest note (the newest step after opening: a
    response, a request or a leader's comment; None before any), overdue first, then by due date."""
    day = today or dt.date.today()
    rows = con.execute(
        f"""
        with state_steps as (
            select action_id, kind,
                   row_number() over (partition by action_id order by step_id desc) as rn
            from action_steps where kind in ('{OPENED}', '{CLOSE_REQUEST}', '{CLOSING}', '{REOPENING}')
        ),
        notes as (
            select action_id, note,
                   row_number() over (partition by action_id order by step_id desc) as rn
            from action_steps where kind <> '{OPENED}'
        ),
        judged as (
            select a.*,
                   case s.kind when '{CLOSE_REQUEST}' then '{CLOSE_REQUESTED}' when '{CLOSING}' then '{CLOSED}'
                        else '{OPEN}' end as state,
                   n.note as latest_note
            from actions as a
            left join state_steps as s on s.action_id = a.action_id and s.rn = 1
            left join notes as n on n.action_id = a.action_id and n.rn = 1
        )
        select action_id, target_id, bureau_id, asked, due_date, state,
               state <> '{CLOSED}' and due_date < ? as overdue,
               latest_note, opened_by, opened_at
        from judged
        where (? or state <> '{CLOSED}')
          and (? is null or bureau_id = ?)
          and (? is null or list_contains(?, target_id))
        order by state = '{CLOSED}', overdue desc, due_date, action_id
        """,  # states and kinds are constants
        [day, include_closed, bureau_id, bureau_id, target_ids, target_ids],
    ).fetchall()
    frame = pd.DataFrame(rows, columns=COLUMNS)
    frame["overdue"] = frame["overdue"].astype(bool)
    frame["due_date"] = [pd.Timestamp(v).date() for v in frame["due_date"]]
    return frame


def open_actions(
    con: duckdb.DuckDBPyConnection, target_ids: list[str] | None = None, *, today: dt.date | None = None
) -> pd.DataFrame:
    """Actions not closed (open or close requested), overdue first: the briefing's and overview's list.
    ``today`` pins the day overdue is judged on (tests); by default the real day."""
    return actions(con, target_ids, include_closed=False, today=today)


def history(con: duckdb.DuckDBPyConnection, action_id: int) -> pd.DataFrame:
    """Every step of an action, oldest first: who did what, when, with what text."""
    columns = ", ".join(HISTORY_COLUMNS)  # constants
    rows = con.execute(
        f"select {columns} from action_steps where action_id = ? order by step_id", [action_id]
    ).fetchall()
    return pd.DataFrame(rows, columns=HISTORY_COLUMNS)


def counts(
    con: duckdb.DuckDBPyConnection, target_ids: list[str] | None = None, *, today: dt.date | None = None
) -> dict[str, tuple[int, int]]:
    """Per target with actions not closed: (how many, how many of them overdue)."""
    found = open_actions(con, target_ids, today=today)
    grouped = found.groupby("target_id")["overdue"].agg(["count", "sum"])
    return {str(t): (int(r["count"]), int(r["sum"])) for t, r in grouped.iterrows()}


def count_text(open_count: int, overdue_count: int, lang: i18n.Lang) -> str:
    """2项（1项逾期）, 2项, or "" when there is no open action."""
    if open_count == 0:
        return ""
    if overdue_count == 0:
        return i18n.t("fa_count", lang, n=open_count)
    return i18n.t("fa_count_overdue", lang, n=open_count, overdue=overdue_count)
