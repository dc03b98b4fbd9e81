"""The warehouse: the one module that owns DuckDB (connect, schema, migrations, reference data).

It never imports streamlit, so the ETL, the command line, the benchmarks and the app share it.
Observations are append-only: a corrected figure is a new revision, the old one stays.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from monitor.schema import MIGRATIONS, SCHEMA_VERSION, VIEWS
from monitor.targets import ROOT, TargetsConfig

if TYPE_CHECKING:
    import pandas as pd

DEFAULT_DB = ROOT / "data" / "warehouse.duckdb"


def db_path(cli_value: str | os.PathLike[str] | None = None) -> Path:
    """--db wins, then the MONITOR_DB environment variable, then data/warehouse.duckdb."""
    if cli_value:
        return Path(cli_value)
    env = os.environ.get("MONITOR_DB")
    return Path(env) if env else DEFAULT_DB


def archive_dir(path: Path) -> Path:
    """Accepted raw files are archived beside the warehouse, by sha256 (rejected ones are not kept)."""
    return path.parent / "archive"


class WarehouseBusy(Exception):
    """Another process holds the warehouse file (DuckDB lets one process open it read-write).

    The one message for every front end: the CLI prints it and exits 2, the app shows it instead of
    a traceback. DuckDB's own text names the file and the other process's PID; users need what to do.
    """

    message_zh = (
        "数据库正被另一个程序使用（正在运行的应用，或正在执行的命令行导入、重建）。"
        "同一时间只能有一个程序打开数据库：应用运行时，请在应用内上传报表、导出简报、管理账号；"
        "如需使用命令行，请先停止应用，或等命令执行完毕后再试。"
    )
    message_en = (
        "The warehouse is in use by another program (the running app, or a command-line load or rebuild). "
        "Only one program can open it at a time: while the app runs, upload reports, export briefings and "
        "manage accounts in the app; to use the command line, stop the app first, or try again when the "
        "command has finished."
    )

    def __init__(self) -> None:
        super().__init__(self.message())

    @classmethod
    def message(cls) -> str:
        return f"{cls.message_zh}\n{cls.message_en}"


def _is_lock_conflict(exc: duckdb.Error) -> bool:
    return isinstance(exc, duckdb.IOException) and "Could not set lock" in str(exc)


def private_umask() -> None:
    """Make every file this process creates from now on owner-only (at least 0600 / 0700).

    DuckDB creates the warehouse and, after each checkpoint, a new WAL itself with mode 0666 minus
    the umask, so the process umask is the only way to keep the WAL private. It only ever tightens.
    """
    current = os.umask(0o077)
    os.umask(current | 0o077)


def private_dir(path: Path) -> Path:
    """Create a directory (and missing parents) readable by its owner only; an existing one is kept as is."""
    if not path.is_dir():
        private_umask()
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        path.chmod(0o700)
    return path


def write_private(target: Path, data: bytes) -> None:
    """Write a file durably and owner-only: a temporary file (0600) in the same directory, fsync,
    rename over the target, fsync the directory. A crash leaves the old target or the new one,
    never half a file (and at worst a stray *.tmp, which nothing reads)."""
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


# The one writer of this process (as Datasette's Database.execute_write_fn): DuckDB lets one process
# hold the file, and inside it concurrent writers on cursors of one connection conflict on update
# ("TransactionException: Conflict on update"). Re-entrant: a load inside writing() may audit.
_WRITER = threading.RLock()


@contextmanager
def writing() -> Iterator[None]:
    """Hold the process's writer: every write (loads, corrections, accounts, sign-ins, audit) runs in it."""
    with _WRITER:
        yield


def connect(path: Path | str | None = None, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open (and create or migrate) the warehouse.

    Raises WarehouseBusy when another process holds the file. A file created here, its WAL and a data
    directory created here are readable by their owner only.
    """
    p = db_path(path)
    private_umask()
    created = False
    if not read_only:
        private_dir(p.parent)
        created = not p.exists()
    try:
        con = duckdb.connect(str(p), read_only=read_only)
    except duckdb.Error as exc:
        if _is_lock_conflict(exc):
            raise WarehouseBusy() from None
        raise
    if created:
        p.chmod(0o600)
    if not read_only:
        with _WRITER:
            migrate(con)
    return con


def one(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> tuple | None:
    """First row of a query, fully fetched (duckdb 2 keeps a half-read result open and then
    refuses other work on the connection, e.g. register())."""
    rows = con.execute(sql, params or []).fetchall()
    return rows[0] if rows else None


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> object:
    row = one(con, sql, params)
    return row[0] if row else None


def migrate(con: duckdb.DuckDBPyConnection) -> int:
    """Bring the schema to SCHEMA_VERSION; safe to call on every connect."""
    con.execute("create table if not exists schema_version (version integer not null, applied_at timestamp)")
    current = int(scalar(con, "select coalesce(max(version), 0) from schema_version") or 0)
    for version in range(current, SCHEMA_VERSION):
        con.execute("begin transaction")
        con.execute(MIGRATIONS[version])
        con.execute("insert into schema_version values (?, now())", [version + 1])
        con.execute("commit")
    con.execute(VIEWS)
    return SCHEMA_VERSION


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """One unit of work, holding the writer: commit on success, roll back on any error (then re-raise)."""
    with _WRITER:
        con.execute("begin transaction")
        try:
            yield con
        except BaseException:
            con.execute("rollback")
            raise
        con.execute("commit")


@contextmanager
def registered(con: duckdb.DuckDBPyConnection, name: str, frame: pd.DataFrame) -> Iterator[str]:
    """A DataFrame visible to SQL as `name` for the duration of the block, unregistered afterwards
    (also on error): a view left behind would shadow the next one of that name on the connection."""
    con.register(name, frame)
    try:
        yield name
    finally:
        con.unregister(name)


def audit(con: duckdb.DuckDBPyConnection, user: str, action: str, detail: dict) -> None:
    """Append to the audit log (never updated or deleted from the app); a write, so under the writer."""
    with _WRITER:
        con.execute(
            "insert into audit_log values (nextval('audit_seq'), now(), ?, ?, ?)",
            [user, action, json.dumps(detail, ensure_ascii=False, default=str)],
        )


def load_reference(con: duckdb.DuckDBPyConnection, cfg: TargetsConfig, *, user: str = "system") -> None:
    """Replace bureaus, districts, KPIs and targets with those of targets.yaml (one transaction)."""
    start = cfg.policy.start
    with transaction(con):
        for table in ("targets", "kpis", "districts", "bureaus"):
            con.execute(f"delete from {table}")  # table names are constants
        con.executemany(
            "insert into bureaus values (?, ?, ?)",
            [[b.id, b.name_zh, b.name_en] for b in cfg.bureaus],
        )
        con.executemany(
            "insert into districts values (?, ?, ?, ?, ?)",
            [[d.id, d.name_zh, d.name_en, d.kind, i] for i, d in enumerate(cfg.districts)],
        )
        con.executemany(
            "insert into kpis values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                [
                    k.id, k.section, k.name_zh, k.name_en, k.unit_zh, k.unit_en, k.value_type,
                    k.reporting, k.aggregation, k.lead, list(k.co), k.activity, k.source, i,
                ]
                for i, k in enumerate(cfg.kpis)
            ],
        )  # fmt: skip
        con.executemany(
            "insert into targets values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                [
                    t.id, t.kpi, t.section, t.name_zh, t.name_en, t.kind, t.comparator, t.value,
                    t.tolerance, t.deadline, t.start or start,
                    t.baseline.value if t.baseline else None,
                    t.baseline.date if t.baseline else None,
                    ["city"] if t.scope == "city" else list(t.scope),
                    json.dumps([{"date": m.date.isoformat(), "value": m.value} for m in t.milestones]),
                    t.source, t.note, i, t.part_of, list(t.assumed),
                ]
                for i, t in enumerate(cfg.targets)
            ],
        )  # fmt: skip
        audit(con, user, "targets_reload", {"kpis": len(cfg.kpis), "targets": len(cfg.targets)})


def set_meta(con: duckdb.DuckDBPyConnection, key: str, value: str) -> None:
    with _WRITER:
        con.execute("insert or replace into meta values (?, ?)", [key, value])


def get_meta(con: duckdb.DuckDBPyConnection, key: str) -> str | None:
    value = scalar(con, "select value from meta where key = ?", [key])
    return None if value is None else str(value)


def is_empty(con: duckdb.DuckDBPyConnection) -> bool:
    """True when no observation has ever been loaded."""
    return scalar(con, "select count(*) from observations") == 0


def reference_fingerprint(cfg: TargetsConfig) -> str:
    return hashlib.sha256(cfg.model_dump_json().encode()).hexdigest()


def open_warehouse(path: Path | str | None = None, cfg: TargetsConfig | None = None) -> duckdb.DuckDBPyConnection:
    """Connect, migrate and make sure the reference tables reflect targets.yaml."""
    from monitor.targets import load_targets

    con = connect(path)
    cfg = cfg or load_targets()
    sync_reference(con, cfg)
    return con


def sync_reference(con: duckdb.DuckDBPyConnection, cfg: TargetsConfig, *, user: str = "system") -> bool:
    """Reload bureaus, KPIs and targets when targets.yaml changed since the last load. The check and
    the reload hold the writer together, so two sessions reloading at once load the tables once."""
    fingerprint = reference_fingerprint(cfg)
    with _WRITER:
        if get_meta(con, "targets_fingerprint") == fingerprint:
            return False
        load_reference(con, cfg, user=user)
        set_meta(con, "targets_fingerprint", fingerprint)
    return True
