"""The warehouse: the one module that owns DuckDB (connect, schema, migrations, reference data).

It never imports streamlit, so the ETL, the command line, the benchmarks and the app share it.
Observations are append-only: a corrected figure is a new revision, the old one stays.
The warehouse is a DuckDB file or, for several processes at once, a PostgreSQL database driven
through DuckDB (monitor.backend); callers see one connection type and one SQL dialect either way.
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

from monitor import backend
from monitor.backend import DEFAULT_DB, Location, PostgresUrl, archive_dir, describe
from monitor.schema import MIGRATIONS, POSTGRES_ONLY, SCHEMA_VERSION, SEQUENCES, VIEWS
from monitor.targets import TargetsConfig

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["DEFAULT_DB", "Location", "PostgresUrl", "archive_dir", "describe"]


def db_path(cli_value: str | os.PathLike[str] | None = None) -> Location:
    """--db wins, then MONITOR_DB, then [warehouse] url in .streamlit/secrets.toml, then
    data/warehouse.duckdb. A postgresql:// URL selects PostgreSQL, anything else is a DuckDB file."""
    return backend.configured_location(cli_value)


def is_postgres(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether this connection's warehouse is the attached PostgreSQL database."""
    row = one(con, "select count(*) from duckdb_databases() where database_name = ?", [backend.PG_CATALOG])
    return bool(row and row[0])


class WarehouseBusy(Exception):
    """Another process holds the warehouse file (DuckDB lets one process open it read-write).

    Also the base of the other reasons a warehouse cannot be opened now (PostgreSQL unreachable, a file
    from a newer DuckDB), so every front end that catches it shows a message, never a traceback.

    The one message for every front end: the CLI prints it and exits 2, the app shows it instead of
    a traceback. DuckDB's own text names the file and the other process's PID; users need what to do.
    """

    message_zh = (
        "数据库正被另一个程序使用（正在运行的应用，或正在执行的命令行导入、重建）。"
        "同一时间只能有一个程序打开数据库：应用运行时，请在应用内上传报表、导出简报、管理账号；"
        "如需使用命令行，请先停止应用，或等命令执行完毕后再试。"
        "需要应用与命令行同时运行时，请改用 PostgreSQL 数据库（见 README“Deployment”一节）。"
    )
    message_en = (
        "The warehouse is in use by another program (the running app, or a command-line load or rebuild). "
        "Only one program can open it at a time: while the app runs, upload reports, export briefings and "
        "manage accounts in the app; to use the command line, stop the app first, or try again when the "
        "command has finished. To run the app and the command line together, use a PostgreSQL warehouse "
        "(README, Deployment)."
    )

    def __init__(self) -> None:
        super().__init__(self.message())

    @classmethod
    def message(cls) -> str:
        return f"{cls.message_zh}\n{cls.message_en}"


class WarehouseUnavailable(WarehouseBusy):
    """The PostgreSQL warehouse cannot be reached (server down, wrong URL or password).

    A WarehouseBusy, so every front end that already says what to do instead of a traceback does so here.
    """

    def __init__(self, location: PostgresUrl) -> None:
        self.location = location
        Exception.__init__(self, self.message_for(location))

    @staticmethod
    def message_for(location: PostgresUrl) -> str:
        where = location.display
        return (
            f"无法连接数据库 {where}：请确认 PostgreSQL 服务正在运行、地址和账号正确，或联系信息中心。\n"
            f"Cannot reach the warehouse {where}: check that the PostgreSQL server is running and the "
            "address and account are right, or ask the IT department."
        )


class WarehouseTooNew(WarehouseBusy):
    """The file was written by DuckDB 2.x; this version reads it through DuckDB 1.4 LTS (the line the
    PostgreSQL extension exists for) and cannot open a newer storage format. A one-off conversion
    keeps every row: scripts/upgrade-duckdb2.sh."""

    def __init__(self, path: Path) -> None:
        self.path = path
        Exception.__init__(self, self.message_for(path))

    @staticmethod
    def message_for(path: Path) -> str:
        return (
            f"数据库文件 {path} 由较新版本的 DuckDB（2.x）创建，本版本使用 DuckDB 1.4 LTS："
            f"请先运行 scripts/upgrade-duckdb2.sh {path} 转换（一次性，原文件保留）。\n"
            f"The warehouse file {path} was written by a newer DuckDB (2.x) and this version uses DuckDB 1.4 LTS: "
            f"run scripts/upgrade-duckdb2.sh {path} once to convert it (the original file is kept)."
        )


def _is_too_new(exc: duckdb.Error) -> bool:
    return isinstance(exc, duckdb.IOException) and "created with an newer version of DuckDB" in str(exc)


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


class _Writer:
    """A re-entrant lock that counts how often it was let go: ``generation`` moves on after every
    write of this process, so a reader that remembered the data version can tell it may be stale."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self.generation = 0

    def __enter__(self) -> _Writer:
        self._lock.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.generation += 1
        self._lock.release()


# The one writer of this process (as Datasette's Database.execute_write_fn): DuckDB lets one process
# hold the file, and inside it concurrent writers on cursors of one connection conflict on update
# ("TransactionException: Conflict on update"). Re-entrant: a load inside writing() may audit.
_WRITER = _Writer()


@contextmanager
def writing() -> Iterator[None]:
    """Hold the process's writer: every write (loads, corrections, accounts, sign-ins, audit) runs in it."""
    with _WRITER:
        yield


def write_generation() -> int:
    """How many times this process's writer has been let go (see _Writer): changes after every write."""
    return _WRITER.generation


def connect(path: Location | str | None = None, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open (and create or migrate) the warehouse.

    Raises WarehouseBusy when another process holds the file (WarehouseUnavailable when PostgreSQL
    cannot be reached). A file created here, its WAL and a data directory created here are readable
    by their owner only.
    """
    p = db_path(path)
    if isinstance(p, PostgresUrl):
        return _connect_postgres(p, read_only=read_only)
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
        if _is_too_new(exc):
            raise WarehouseTooNew(p) from None
        raise
    if created:
        p.chmod(0o600)
    if not read_only:
        with _WRITER:
            migrate(con)
    return con


def _connect_postgres(url: PostgresUrl, *, read_only: bool) -> duckdb.DuckDBPyConnection:
    try:
        con = backend.attach_postgres(url)
    except duckdb.IOException as exc:  # libpq's "connection refused" / "authentication failed"
        raise WarehouseUnavailable(url) from exc
    if read_only:
        create_views(con)
    else:
        with _WRITER:
            migrate(con)
    return con


def cursor(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """A cursor of the shared connection (one per app session or thread), searching the same warehouse."""
    cur = con.cursor()
    # asked on the new cursor, never on the shared connection: sessions make cursors from several threads
    # at once, and queries on one DuckDB connection from several threads race (and can crash)
    if is_postgres(cur):
        backend.use_search_path(cur)
    return cur


def next_id(con: duckdb.DuckDBPyConnection, sequence: str) -> int:
    """The next number of one of the schema's sequences (submissions, audit rows, actions, …).

    DuckDB cannot create or advance sequences inside an attached PostgreSQL database, so there the
    number comes from PostgreSQL's own nextval, which every process shares."""
    if sequence not in SEQUENCES:
        raise ValueError(f"unknown sequence {sequence!r}")
    if is_postgres(con):
        return int(backend.pg_scalar(con, f"select nextval('{sequence}')"))  # type: ignore[arg-type]
    return int(scalar(con, "select nextval(?)", [sequence]))  # type: ignore[arg-type]


def one_where_stored(con: duckdb.DuckDBPyConnection, sql: str) -> tuple | None:
    """First row of a constant query written in SQL both engines read, run where the rows are.

    On PostgreSQL it runs inside PostgreSQL: count(*) over observations there reads an index or the
    table in place, while DuckDB's scanner would first copy every row over the connection (over a
    second at province scale, and the data version is asked on every rerun)."""
    if is_postgres(con):
        rows = backend.pg_rows(con, sql)
        return rows[0] if rows else None
    return one(con, sql)


def one(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> tuple | None:
    """First row of a query, fully fetched (duckdb 2 keeps a half-read result open and then
    refuses other work on the connection, e.g. register())."""
    rows = con.execute(sql, params or []).fetchall()
    return rows[0] if rows else None


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> object:
    row = one(con, sql, params)
    return row[0] if row else None


def migrate(con: duckdb.DuckDBPyConnection) -> int:
    """Bring the schema to SCHEMA_VERSION; safe to call on every connect, from several processes at once
    on PostgreSQL (the version is read again under the writer lock, so each migration runs once)."""
    postgres = is_postgres(con)
    if postgres:
        # tables go to PostgreSQL: while migrating, it alone is searched (by default new tables would
        # land in the first schema of the search path, DuckDB's in-memory one)
        con.execute(f"use {backend.PG_CATALOG}")
    try:
        _migrate_tables(con, postgres=postgres)
    finally:
        if postgres:
            backend.use_search_path(con)
    create_views(con)
    return SCHEMA_VERSION


def _migrate_tables(con: duckdb.DuckDBPyConnection, *, postgres: bool) -> None:
    create = "create table if not exists schema_version (version integer not null, applied_at timestamp)"
    if postgres:
        with transaction(con):  # two processes starting on an empty database: one creates, one waits
            con.execute(create)
    else:
        con.execute(create)
    current = int(scalar(con, "select coalesce(max(version), 0) from schema_version") or 0)
    if current < SCHEMA_VERSION:
        with transaction(con):
            current = int(scalar(con, "select coalesce(max(version), 0) from schema_version") or 0)
            for version in range(current, SCHEMA_VERSION):
                _run_migration(con, MIGRATIONS[version], postgres=postgres)
                con.execute("insert into schema_version values (?, now())", [version + 1])


def _run_migration(con: duckdb.DuckDBPyConnection, script: str, *, postgres: bool) -> None:
    """One migration script. DuckDB cannot create sequences or indexes in an attached PostgreSQL
    database, so there those statements go to PostgreSQL itself, in the same transaction. A script
    marked POSTGRES_ONLY does nothing on a DuckDB file."""
    if not postgres:
        if not script.lstrip().startswith(POSTGRES_ONLY):
            con.execute(script)
        return
    for part in script.split(";"):
        statement = "\n".join(line for line in part.splitlines() if not line.strip().startswith("--")).strip()
        if not statement:
            continue
        if statement.startswith(("create sequence", "create index")):
            backend.pg_execute(con, statement)
        else:
            con.execute(statement)


def create_views(con: duckdb.DuckDBPyConnection) -> None:
    """The views every reader uses. On PostgreSQL they live in this process's in-memory DuckDB catalog
    (first on the search path), since they use DuckDB functions, and are made again on every connect."""
    con.execute(VIEWS)


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """One unit of work, holding the writer: commit on success, roll back on any error (then re-raise)."""
    with _WRITER:
        con.execute("begin transaction")
        if is_postgres(con):  # the writer across processes: held until this transaction ends
            # DuckDB opens PostgreSQL transactions REPEATABLE READ, whose snapshot is taken by the first
            # statement, i.e. before the lock below waits for another process's commit: the work would then
            # read stale rows and fail to update the ones that process changed ("could not serialize
            # access"). Read committed, set before any snapshot, lets each statement see that commit.
            backend.pg_execute(con, "set transaction isolation level read committed")
            backend.pg_execute(con, f"select pg_advisory_xact_lock({backend.WRITER_LOCK_KEY})")
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
            "insert into audit_log values (?, now(), ?, ?, ?)",
            [next_id(con, "audit_seq"), user, action, json.dumps(detail, ensure_ascii=False, default=str)],
        )


def load_reference(con: duckdb.DuckDBPyConnection, cfg: TargetsConfig, *, user: str = "system") -> None:
    """Replace bureaus, districts, KPIs and targets with those of targets.yaml (one transaction)."""
    with transaction(con):
        _replace_reference(con, cfg, user=user)


def _replace_reference(con: duckdb.DuckDBPyConnection, cfg: TargetsConfig, *, user: str) -> None:
    """The reference tables' rows from targets.yaml; the caller holds the transaction."""
    start = cfg.policy.start
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


def open_warehouse(path: Location | str | None = None, cfg: TargetsConfig | None = None) -> duckdb.DuckDBPyConnection:
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
        with transaction(con):
            # read again under the writer lock: another process (PostgreSQL) may have reloaded meanwhile
            if get_meta(con, "targets_fingerprint") == fingerprint:
                return False
            _replace_reference(con, cfg, user=user)
            set_meta(con, "targets_fingerprint", fingerprint)
    return True
