"""Rebuild the warehouse from targets.yaml and the archive of accepted uploads.

The archive holds each accepted file under its sha256 plus a JSON sidecar (bureau, user, time),
written before the load commits; replaying them in their original order reproduces every current
value and every revision, under the original submission numbers. What the archive cannot hold is
copied from the old warehouse: accounts (hashes, states, session epochs), the audit log (then a
"rebuild" event is added), rejected submissions with their rows, and meta such as the demo flag.

The old warehouse is the authority on what was committed:
- opened read-write first, so DuckDB replays the WAL a killed load or app left, then checkpointed,
  so no WAL of the old file is left beside the swapped-in one;
- only sidecars of submissions it holds as accepted are replayed; a sidecar whose load never
  committed (killed between writing it and the commit) is moved to archive/uncommitted/;
- an accepted submission without an archived file stops the rebuild (it would be lost) unless
  `allow_missing` is given.

When the old warehouse cannot be opened at all (missing, or damaged beyond what DuckDB can read),
every sidecar in the archive is replayed (a load killed before its commit would then come back),
accounts and the audit log cannot be kept, and an unreadable file is set aside as
`<name>.unreadable-<time>` (with its WAL) rather than deleted.

On PostgreSQL (several processes share the database, so there is no file to swap) the fresh warehouse is
built as a DuckDB file in a temporary directory by the same steps, then copied over the database's
content in one transaction by etl.migrate's copier: concurrent readers see the old warehouse or the new
one, never a mix. The copy first checks, under the writer lock every process takes, that nothing the
rebuild read from the old warehouse changed meanwhile (a load, an account, a decision); otherwise it
stops and changes nothing.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from etl.load import load_bytes
from etl.migrate import copy_connections, table_checksum, table_columns
from monitor import db
from monitor.targets import TargetsConfig


class RebuildError(Exception):
    """The rebuild stopped before swapping anything in; the old warehouse is untouched."""

    def __init__(self, zh: str, en: str) -> None:
        super().__init__(f"{zh}\n{en}")
        self.zh, self.en = zh, en


@dataclass
class _Kept:
    """What the archive cannot reproduce, read from the old warehouse."""

    accepted: dict[int, tuple[str, dt.datetime]]  # submission_id -> (sha256, submitted_at), accepted only
    next_submission: int
    users: pd.DataFrame
    audit: pd.DataFrame
    rejected: pd.DataFrame
    rejected_rows: pd.DataFrame
    meta: dict[str, str]
    # decisions made in the app, not in any file: reviews of accepted submissions, and the tables below
    reviews: pd.DataFrame = field(default_factory=pd.DataFrame)
    decisions: dict[str, pd.DataFrame] = field(default_factory=dict)


# Tables of decisions taken in the app (no archived file reproduces them), copied as they are, with the
# sequence each numbers its rows by.
_DECISION_TABLES: dict[str, str | None] = {
    "target_settings": "target_setting_seq",
    "bureau_review": None,
    "explanations": "explanation_seq",
    "entry_drafts": None,
    "actions": "action_seq",
    "action_steps": "action_step_seq",
}
_ID_COLUMNS = {
    "target_setting_seq": "setting_id",
    "explanation_seq": "explanation_id",
    "action_seq": "action_id",
    "action_step_seq": "step_id",
}


@dataclass
class RebuildReport:
    replayed: int
    accounts: int = 0
    audit_events: int = 0
    uncommitted: list[str] = field(default_factory=list)  # sidecars moved to archive/uncommitted
    missing: list[str] = field(default_factory=list)  # accepted submissions without an archived file
    set_aside: Path | None = None  # the unreadable old warehouse, kept under this name
    old_readable: bool = True

    def notes_zh(self) -> list[str]:
        notes = []
        if self.old_readable:
            notes.append(f"已保留{self.accounts}个账号和{self.audit_events}条审计日志")
        else:
            notes.append("原数据库无法打开：已重放归档中的全部文件，账号和审计日志无法保留")
        if self.set_aside:
            notes.append(f"原数据库文件已另存为 {self.set_aside.name}")
        if self.uncommitted:
            notes.append(f"{len(self.uncommitted)}个未提交的导入记录已移至 archive/uncommitted/")
        if self.missing:
            notes.append(f"{len(self.missing)}份已导入的报送没有归档文件，未能重建：" + "、".join(self.missing))
        return notes


def wal_path(path: Path) -> Path:
    return path.with_name(path.name + ".wal")


def manifest(archive: Path) -> list[dict]:
    """Every sidecar in the archive, in submission order (the order the loads committed)."""
    entries = [
        {**json.loads(p.read_text(encoding="utf-8")), "_sidecar": p.name} for p in sorted(archive.glob("*.json"))
    ]
    ids = [e["submission_id"] for e in entries]
    if len(ids) != len(set(ids)):
        # only without the old warehouse: an uncommitted sidecar may share its number with a later load
        return sorted(entries, key=lambda e: (e["submitted_at"], e["submission_id"]))
    return sorted(entries, key=lambda e: e["submission_id"])


def _open_old(path: Path) -> tuple[duckdb.DuckDBPyConnection | None, bool]:
    """(connection, opened read-write). Read-write replays and can checkpoint a WAL left by a killed
    process; read-only is the fallback for a file that can be read but not written. WarehouseBusy
    (the app or another command holds it) propagates: rebuilding under a running app would lose its work."""
    if not path.exists():
        return None, False
    try:
        return db.connect(path), True
    except db.WarehouseBusy:
        raise
    except duckdb.Error:
        pass
    try:
        return db.connect(path, read_only=True), False
    except db.WarehouseBusy:
        raise
    except duckdb.Error:
        return None, False


def _read_old(con: duckdb.DuckDBPyConnection) -> _Kept:
    accepted = {
        sid: (sha, at)
        for sid, sha, at in con.execute(
            "select submission_id, sha256, submitted_at from submissions where outcome = 'accepted'"
        ).fetchall()
    }
    last = db.scalar(con, "select coalesce(max(submission_id), 0) from submissions")
    rejected_ids = "select submission_id from submissions where outcome <> 'accepted'"
    return _Kept(
        accepted=accepted,
        next_submission=int(last or 0) + 1,  # type: ignore[arg-type]
        users=con.execute("select * from users order by user_name").df(),
        audit=con.execute("select * from audit_log order by event_id").df(),
        rejected=con.execute(f"select * from submissions where submission_id in ({rejected_ids})").df(),
        rejected_rows=con.execute(f"select * from rejected_rows where submission_id in ({rejected_ids})").df(),
        meta=dict(con.execute("select key, value from meta").fetchall()),
        reviews=_optional(
            con,
            "select submission_id, review_status, reviewed_by, reviewed_at, review_comment "
            "from submissions where outcome = 'accepted'",
        ),
        decisions={table: _optional(con, f"select * from {table}") for table in _DECISION_TABLES},
    )


def _optional(con: duckdb.DuckDBPyConnection, sql: str) -> pd.DataFrame:
    """A query on a table or column a warehouse opened read-only at an older schema may lack: empty then."""
    try:
        return con.execute(sql).df()
    except (duckdb.CatalogException, duckdb.BinderException):
        return pd.DataFrame()


def _committed(entries: list[dict], kept: _Kept) -> tuple[list[dict], list[dict]]:
    """(sidecars of submissions the old warehouse holds as accepted, in its order; the others).

    A sidecar matches by its number and file hash; failing that by file hash and submission time,
    under the warehouse's number (a warehouse rebuilt before numbers were kept renumbered them)."""
    by_content = {(sha, at): sid for sid, (sha, at) in kept.accepted.items()}
    committed: dict[int, dict] = {}
    others = []
    for e in entries:
        sid = int(e["submission_id"])
        if kept.accepted.get(sid, ("",))[0] == e["sha256"] and sid not in committed:
            committed[sid] = e
            continue
        match = by_content.get((e["sha256"], dt.datetime.fromisoformat(e["submitted_at"])))
        if match is not None and match not in committed:
            committed[match] = {**e, "submission_id": match}
        else:
            others.append(e)
    return [committed[sid] for sid in sorted(committed)], others


def _restart_sequence(con: duckdb.DuckDBPyConnection, name: str, start: int) -> None:
    """DuckDB has no setval: recreate the sequence. DDL takes no bound values, so `start` is an int
    by construction and `name` one of the two constant sequence names."""
    assert name in ("submission_seq", "audit_seq", *_ID_COLUMNS)
    con.execute(f"drop sequence if exists {name}")
    con.execute(f"create sequence {name} start {int(start)}")


def _insert_frame(con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame) -> None:
    if frame.empty:
        return
    with db.registered(con, "kept_frame", frame):
        con.execute(f"insert into {table} by name select * from kept_frame")  # table: a constant below


def _replay(
    con: duckdb.DuckDBPyConnection,
    cfg: TargetsConfig,
    archive: Path,
    entries: list[dict],
    progress: Callable[[int, int, str], None] | None,
) -> None:
    used = 0  # highest submission number so far: numbers only move forward
    for i, entry in enumerate(entries):
        sid = int(entry["submission_id"])
        if sid > used:
            _restart_sequence(con, "submission_seq", sid)  # the original number, as audit and sidecars say
        try:
            data = (archive / entry["archive_name"]).read_bytes()
        except OSError as exc:
            raise RebuildError(
                f"归档文件缺失：{entry['archive_name']}（{entry['file_name']}，第{sid}号报送）",
                f"archived file missing: {entry['archive_name']} ({entry['file_name']}, submission {sid})",
            ) from exc
        res = load_bytes(
            entry["file_name"],
            data,
            cfg,
            entry["bureau_id"],
            entry["user"],
            con,
            archive=None,
            today=dt.date.fromisoformat(entry["today"]),
            submitted_at=dt.datetime.fromisoformat(entry["submitted_at"]),
            reason=entry.get("reason"),
            review_status=entry.get("review_status", "approved"),
        )
        if not res.ok:
            first = res.problems[0] if res.problems else None
            raise RebuildError(
                f"归档文件 {entry['file_name']} 已无法导入：{first.zh() if first else res.outcome}",
                f"archived file {entry['file_name']} no longer loads: {first.en() if first else res.outcome}",
            )
        used = max(used, res.submission_id or 0)
        # replayed with archive=None (the file is archived already): record where, as the first load did
        con.execute(
            "update submissions set archive_name = ? where submission_id = ?",
            [entry["archive_name"], res.submission_id],
        )
        if progress:
            progress(i + 1, len(entries), entry["file_name"])


def _carry_over(con: duckdb.DuckDBPyConnection, kept: _Kept) -> None:
    """Accounts, the audit log, rejected submissions and meta of the old warehouse, in one transaction."""
    with db.transaction(con):
        con.execute("delete from audit_log")  # the replay's own events: the old log is the history
        _insert_frame(con, "audit_log", kept.audit)
        _insert_frame(con, "users", kept.users)
        _insert_frame(con, "submissions", kept.rejected)
        _insert_frame(con, "rejected_rows", kept.rejected_rows)
        for key, value in kept.meta.items():
            if key != "targets_fingerprint":  # the fresh file's own, from this targets.yaml
                db.set_meta(con, key, value)
        for table in _DECISION_TABLES:
            _insert_frame(con, table, kept.decisions.get(table, pd.DataFrame()))
        if not kept.reviews.empty:
            with db.registered(con, "kept_reviews", kept.reviews):
                con.execute(
                    """
                    update submissions as s
                    set review_status = r.review_status, reviewed_by = r.reviewed_by,
                        reviewed_at = r.reviewed_at, review_comment = r.review_comment
                    from kept_reviews as r
                    where s.submission_id = r.submission_id
                    """
                )
    for sequence, column in _ID_COLUMNS.items():
        table = next(t for t, seq in _DECISION_TABLES.items() if seq == sequence)
        last = db.scalar(con, f"select coalesce(max({column}), 0) from {table}")  # constants above
        _restart_sequence(con, sequence, int(last or 0) + 1)  # type: ignore[arg-type]
    last_event = db.scalar(con, "select coalesce(max(event_id), 0) from audit_log")
    _restart_sequence(con, "audit_seq", int(last_event or 0) + 1)  # type: ignore[arg-type]
    last_sid = int(db.scalar(con, "select coalesce(max(submission_id), 0) from submissions") or 0)  # type: ignore[arg-type]
    _restart_sequence(con, "submission_seq", max(kept.next_submission, last_sid + 1))


def _build(
    fresh: Path,
    cfg: TargetsConfig,
    archive: Path,
    entries: list[dict],
    kept: _Kept | None,
    progress: Callable[[int, int, str], None] | None,
) -> None:
    con = db.connect(fresh)
    try:
        with db.writing():  # every write of this process holds the writer, a rebuild too
            db.sync_reference(con, cfg)
            _replay(con, cfg, archive, entries, progress)
            if kept is not None:
                _carry_over(con, kept)
            accounts = 0 if kept is None else len(kept.users)
            detail = {"files": len(entries), "accounts": accounts, "old_readable": kept is not None}
            db.audit(con, "system", "rebuild", detail)
            con.execute("checkpoint")  # the fresh file carries everything: no WAL of its own to move
    finally:
        con.close()


def _set_aside(path: Path) -> Path:
    """Keep an unreadable warehouse (and its WAL) under a new name instead of overwriting it."""
    stamp = dt.datetime.now().strftime("%Y%m%d%H%M%S")
    aside = path.with_name(f"{path.name}.unreadable-{stamp}")
    os.replace(path, aside)
    if wal_path(path).exists():
        os.replace(wal_path(path), wal_path(aside))
    return aside


def _move_uncommitted(archive: Path, entries: list[dict]) -> list[str]:
    if not entries:
        return []
    target = db.private_dir(archive / "uncommitted")
    names = []
    for e in entries:
        name = e["_sidecar"]
        if (archive / name).exists():
            os.replace(archive / name, target / name)
            names.append(name)
    return names


def _plan(archive: Path, kept: _Kept | None, *, allow_missing: bool) -> tuple[list[dict], list[dict], list[str]]:
    """(sidecars to replay, uncommitted sidecars, accepted submissions without an archived file).

    Raises RebuildError when an accepted submission has no file and `allow_missing` is not given."""
    entries = manifest(archive) if archive.is_dir() else []
    uncommitted: list[dict] = []
    missing: list[str] = []
    if kept is not None:
        entries, uncommitted = _committed(entries, kept)
        found = {int(e["submission_id"]) for e in entries}
        missing = [str(sid) for sid in sorted(kept.accepted) if sid not in found]
    if missing and not allow_missing:
        raise RebuildError(
            f"第{'、'.join(missing)}号报送已导入，但归档中没有它的文件，重建会丢失这些数据；"
            "数据库未做任何更改（确认要丢弃它们时加 --allow-missing）",
            f"submission(s) {', '.join(missing)} were accepted but have no archived file, so a rebuild "
            "would lose them; the warehouse is unchanged (add --allow-missing to drop them)",
        )
    return entries, uncommitted, missing


def rebuild_warehouse(
    path: db.Location,
    cfg: TargetsConfig,
    *,
    progress: Callable[[int, int, str], None] | None = None,
    allow_missing: bool = False,
) -> RebuildReport:
    """Replay the archive into a fresh file, carry accounts and the audit log over, swap it in.

    Raises db.WarehouseBusy when another process holds the warehouse and RebuildError when the
    archive cannot reproduce it; either way nothing has been changed."""
    if isinstance(path, db.PostgresUrl):
        return _rebuild_postgres(path, cfg, progress=progress, allow_missing=allow_missing)
    archive = db.archive_dir(path)
    fresh = path.with_name(path.name + ".rebuild")
    for leftover in (fresh, wal_path(fresh)):  # from an interrupted rebuild: never swapped in, so garbage
        leftover.unlink(missing_ok=True)
    old, writable = _open_old(path)
    aside: Path | None = None
    try:
        try:
            kept = _read_old(old) if old is not None else None
        except duckdb.Error:  # opened, but its tables cannot be read: treated as unreadable
            kept = None
        entries, uncommitted, missing = _plan(archive, kept, allow_missing=allow_missing)
        try:
            _build(fresh, cfg, archive, entries, kept, progress)
        except BaseException:
            for leftover in (fresh, wal_path(fresh)):
                leftover.unlink(missing_ok=True)
            raise
        if old is not None and writable:
            old.execute("checkpoint")  # the old file's WAL (replayed on open) is folded in and removed
    finally:
        if old is not None:
            old.close()
    if path.exists() and (kept is None or not writable):
        aside = _set_aside(path)  # unreadable, or read-only with a WAL it could not fold in
    os.replace(fresh, path)
    wal_path(path).unlink(missing_ok=True)  # a WAL here belongs to no file we keep: never replay it
    report = RebuildReport(
        replayed=len(entries),
        accounts=0 if kept is None else len(kept.users),
        audit_events=0 if kept is None else len(kept.audit),
        uncommitted=_move_uncommitted(archive, uncommitted),
        missing=missing,
        set_aside=aside,
        old_readable=kept is not None,
    )
    return report


# What the rebuild reads from the old warehouse (or replays from the archive because of it): if any of
# these changed between reading and swapping, the new content would lose that change.
_WATCHED_TABLES = ("submissions", "users", "audit_log", "rejected_rows", "meta", *_DECISION_TABLES)


def _watched(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[int, int]]:
    return {table: table_checksum(con, table, table_columns(con, table)) for table in _WATCHED_TABLES}


def _unchanged_since(before: dict[str, tuple[int, int]]) -> Callable[[duckdb.DuckDBPyConnection], None]:
    """The copy's check on PostgreSQL, run under the writer lock right before the old rows are deleted."""

    def check(con: duckdb.DuckDBPyConnection) -> None:
        changed = [table for table, stamp in _watched(con).items() if stamp != before[table]]
        if changed:
            raise RebuildError(
                f"重建期间数据库有新的写入（{'、'.join(changed)}），数据库未做任何更改；请稍后重新运行重建",
                f"the warehouse was written to during the rebuild ({', '.join(changed)}); it is unchanged, "
                "run the rebuild again",
            )

    return check


def _rebuild_postgres(
    url: db.PostgresUrl,
    cfg: TargetsConfig,
    *,
    progress: Callable[[int, int, str], None] | None,
    allow_missing: bool,
) -> RebuildReport:
    """Build the fresh warehouse as a DuckDB file in a temporary directory (the same _build), then
    replace the database's content with it in one transaction. The database stays in service meanwhile:
    readers and writers of other processes go on until the final copy, which holds the writer lock."""
    archive = db.archive_dir(url)
    old = db.connect(url)  # WarehouseUnavailable when the server cannot be reached: nothing to rebuild into
    try:
        with db.transaction(old):  # what is kept and its stamp, read with no write in between
            kept = _read_old(old)
            before = _watched(old)
        entries, uncommitted, missing = _plan(archive, kept, allow_missing=allow_missing)
        with tempfile.TemporaryDirectory(prefix="monitor-rebuild-") as tmp:
            fresh = Path(tmp) / "rebuild.duckdb"
            _build(fresh, cfg, archive, entries, kept, progress)
            fresh_con = db.connect(fresh)
            try:
                copy_connections(fresh_con, old, target_name=db.describe(url), check=_unchanged_since(before))
            finally:
                fresh_con.close()
    finally:
        old.close()
    return RebuildReport(
        replayed=len(entries),
        accounts=len(kept.users),
        audit_events=len(kept.audit),
        uncommitted=_move_uncommitted(archive, uncommitted),
        missing=missing,
    )


def rebuild(
    path: Path,
    cfg: TargetsConfig,
    *,
    progress: Callable[[int, int, str], None] | None = None,
) -> int:
    """Replay the archive into a fresh file, then swap it in atomically. Returns files replayed."""
    return rebuild_warehouse(path, cfg, progress=progress).replayed
