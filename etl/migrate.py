"""Copy a warehouse to another one: DuckDB file -> PostgreSQL, PostgreSQL -> DuckDB file, file -> file.

A city starts on the embedded file and moves to PostgreSQL when several processes must share the
warehouse (or back, for a laptop copy); `python -m etl migrate --to …` does it. Both backends are driven
through DuckDB (monitor.backend), so one copier serves every direction:

- every table of the source's catalog, in name order (the same order on both backends), is copied in
  bounded batches (Arrow record batches, registered on the target), so millions of observations never
  sit in memory at once;
- the copy is ONE transaction on the target, holding its writer (on PostgreSQL the advisory lock every
  process takes), so the target holds all of it or nothing, and no load slips in between the check
  that the target is empty and the copy;
- each sequence then continues after the highest copied id, so the next load gets submission max+1;
- after the commit every table is checked on both sides: row count and an order-independent checksum
  of every row's values (computed by DuckDB on each side, on the values as text, so timestamps,
  doubles and lists of either backend compare equal).

`etl rebuild` on PostgreSQL reuses the copier to swap a freshly rebuilt DuckDB file into the database
(etl/rebuild.py): then the target is not empty, and the caller's check says what may be replaced.
"""

from __future__ import annotations

import filecmp
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa

from monitor import backend, db
from monitor.schema import SEQUENCES

BATCH_ROWS = 100_000

# Tables a new warehouse already fills by itself (migrations, targets.yaml): their rows do not make a
# target "not empty", and the copy replaces them with the source's.
REFERENCE_TABLES = frozenset({"bureaus", "districts", "kpis", "targets", "meta", "schema_version"})
# The one audit event a new warehouse writes by itself (loading targets.yaml).
REFERENCE_AUDIT_ACTIONS = ("targets_reload",)

# Which table and id column each sequence numbers (monitor/schema.py): the sequence must continue
# after the highest id copied into that table.
SEQUENCE_IDS: dict[str, tuple[str, str]] = {
    "submission_seq": ("submissions", "submission_id"),
    "audit_seq": ("audit_log", "event_id"),
    "target_setting_seq": ("target_settings", "setting_id"),
    "explanation_seq": ("explanations", "explanation_id"),
    "action_seq": ("actions", "action_id"),
    "action_step_seq": ("action_steps", "step_id"),
}
if set(SEQUENCE_IDS) != SEQUENCES:  # a sequence added to the schema must be mapped here
    raise RuntimeError(f"etl.migrate.SEQUENCE_IDS does not cover {sorted(SEQUENCES ^ set(SEQUENCE_IDS))}")


class MigrateError(Exception):
    """The copy was refused or failed. `committed`: the target was written (the check after the commit
    failed); otherwise nothing was changed."""

    def __init__(self, zh: str, en: str, *, committed: bool = False) -> None:
        super().__init__(f"{zh}\n{en}")
        self.zh, self.en = zh, en
        self.committed = committed


class TargetNotEmpty(MigrateError):
    """The target holds data of its own: copying over it would mix two warehouses."""


class VerifyMismatch(MigrateError):
    """The copy committed, but a table reads back different on the target."""

    def __init__(self, zh: str, en: str, checks: list[TableCheck]) -> None:
        super().__init__(zh, en, committed=True)
        self.checks = checks


@dataclass(frozen=True)
class TableCheck:
    """One table after the copy: rows on each side, and whether count and checksum agree."""

    table: str
    source_rows: int
    target_rows: int
    equal: bool


@dataclass
class ArchivePlan:
    """Raw files (and sidecars) of the source archive the target archive lacks, and names that exist
    there with other content (never overwritten: a sha256-named file that differs is not ours to fix)."""

    source: Path
    target: Path
    to_copy: list[Path] = field(default_factory=list)  # relative paths
    present: int = 0
    conflicts: list[Path] = field(default_factory=list)


@dataclass
class MigrateReport:
    tables: list[TableCheck]
    target: str
    archive: ArchivePlan | None = None

    @property
    def rows(self) -> int:
        return sum(check.target_rows for check in self.tables)


# -- the catalog ---------------------------------------------------------------------------------------


def _ident(name: str) -> str:
    """A quoted SQL identifier: table and column names come from the catalog, never from a user."""
    return '"' + name.replace('"', '""') + '"'


def data_schema(con: duckdb.DuckDBPyConnection) -> tuple[str, str]:
    """(catalog, schema) holding the warehouse's tables: PostgreSQL's public schema when attached, else
    the file's main schema. Names are qualified with it so DuckDB's in-memory views never get in the way."""
    if db.is_postgres(con):
        return backend.PG_CATALOG, "public"
    return str(db.scalar(con, "select current_database()")), "main"


def qualified(con: duckdb.DuckDBPyConnection, table: str) -> str:
    catalog, schema = data_schema(con)
    return f"{_ident(catalog)}.{_ident(schema)}.{_ident(table)}"


def list_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Every base table of the warehouse, by name: the same order whichever backend holds it."""
    catalog, schema = data_schema(con)
    rows = con.execute(
        "select table_name from duckdb_tables() where database_name = ? and schema_name = ? and not temporary",
        [catalog, schema],
    ).fetchall()
    return sorted(str(row[0]) for row in rows)


def table_columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    catalog, schema = data_schema(con)
    rows = con.execute(
        "select column_name from duckdb_columns() where database_name = ? and schema_name = ? and table_name = ? "
        "order by column_index",
        [catalog, schema, table],
    ).fetchall()
    return [str(row[0]) for row in rows]


def own_content(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Rows a warehouse holds beyond what a new one fills by itself, by table (tables with none left out)."""
    content: dict[str, int] = {}
    for table in list_tables(con):
        if table in REFERENCE_TABLES:
            continue
        sql = f"select count(*) from {qualified(con, table)}"
        params: list[object] = []
        if table == "audit_log":
            sql += " where action not in (" + ", ".join("?" for _ in REFERENCE_AUDIT_ACTIONS) + ")"
            params = list(REFERENCE_AUDIT_ACTIONS)
        rows = int(db.scalar(con, sql, params) or 0)  # type: ignore[arg-type]
        if rows:
            content[table] = rows
    return content


def table_checksum(con: duckdb.DuckDBPyConnection, table: str, columns: list[str]) -> tuple[int, int]:
    """(rows, checksum): the sum of a hash of each row's values as text, in the given column order.

    A sum, not an xor, so two identical rows do not cancel out; text, so a timestamp, double or list
    reads the same whichever backend stored it (both are read through the same DuckDB)."""
    values = ", ".join(f"{_ident(column)}::varchar" for column in columns)
    row = db.one(con, f"select count(*), coalesce(sum(hash([{values}])), 0)::varchar from {qualified(con, table)}")
    assert row is not None
    return int(row[0]), int(row[1])


# -- the copy ------------------------------------------------------------------------------------------


def _batches(con: duckdb.DuckDBPyConnection, table: str, columns: list[str]) -> Iterator[pa.Table]:
    """The table's rows in Arrow batches of BATCH_ROWS (bounded memory), read on `con` itself so they
    belong to its open transaction."""
    con.execute(f"select {', '.join(_ident(c) for c in columns)} from {qualified(con, table)}")
    reader = con.fetch_record_batch(BATCH_ROWS)
    try:
        for batch in reader:
            yield pa.Table.from_batches([batch])
    finally:
        reader.close()


def _clear(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """Delete every row. On PostgreSQL PostgreSQL's own delete (one statement, MVCC: readers keep seeing
    the old rows until the commit), not TRUNCATE, which would show them an empty table."""
    if db.is_postgres(con):
        backend.pg_execute(con, f"delete from public.{_ident(table)}")
    else:
        con.execute(f"delete from {qualified(con, table)}")


def _copy_table(
    source: duckdb.DuckDBPyConnection, target: duckdb.DuckDBPyConnection, table: str, columns: list[str]
) -> None:
    _clear(target, table)
    names = ", ".join(_ident(c) for c in columns)
    for batch in _batches(source, table, columns):
        with db.registered(target, "migrate_batch", batch):  # type: ignore[arg-type]  # Arrow, not pandas
            target.execute(f"insert into {qualified(target, table)} ({names}) select {names} from migrate_batch")


def _restart_sequences(target: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Each sequence continues after the highest id now in its table. PostgreSQL: setval; DuckDB has
    none, so the sequence is dropped and created again (inside the same transaction)."""
    postgres = db.is_postgres(target)
    restarted: dict[str, int] = {}
    for sequence, (table, column) in sorted(SEQUENCE_IDS.items()):
        last = db.scalar(target, f"select coalesce(max({_ident(column)}), 0) from {qualified(target, table)}")
        start = int(last or 0) + 1  # type: ignore[arg-type]
        if postgres:  # constants: a name from SEQUENCES and an int
            backend.pg_execute(target, f"select setval('{sequence}', {start}, false)")
        else:
            target.execute(f"drop sequence if exists {sequence}")
            target.execute(f"create sequence {sequence} start {start}")
        restarted[sequence] = start
    return restarted


def _columns_of(
    source: duckdb.DuckDBPyConnection, target: duckdb.DuckDBPyConnection, target_name: str
) -> dict[str, list[str]]:
    """Each source table's columns; refused before anything is written when the target lacks one."""
    target_tables = set(list_tables(target))
    columns: dict[str, list[str]] = {}
    for table in list_tables(source):
        wanted = table_columns(source, table)
        have = set(table_columns(target, table)) if table in target_tables else set()
        lacking = [c for c in wanted if c not in have] if have else [table]
        if lacking:
            raise MigrateError(
                f"目标数据库 {target_name} 缺少表或列：{table}（{'、'.join(lacking)}），未做任何更改。"
                "请确认两边是同一版本的监测系统。",
                f"The target warehouse {target_name} lacks table or columns {table} ({', '.join(lacking)}); "
                "nothing was changed. Both sides must run the same version of the monitor.",
            )
        columns[table] = wanted
    return columns


def copy_connections(
    source: duckdb.DuckDBPyConnection,
    target: duckdb.DuckDBPyConnection,
    *,
    target_name: str,
    check: Callable[[duckdb.DuckDBPyConnection], None],
) -> list[TableCheck]:
    """Replace every table of `target` with `source`'s rows in one target transaction, then verify.

    `check` runs first inside that transaction, holding the target's writer: it raises to refuse (the
    migration's emptiness test, the rebuild's "nothing changed meanwhile"). The source is read inside
    a transaction of its own holding its writer, so a PostgreSQL source cannot change under the copy
    or between the copy and the verification."""
    for con in (source, target):  # DuckDB draws a progress bar on stdout for long scans: not in our output
        con.execute("set enable_progress_bar = false")
    with db.transaction(source):
        columns = _columns_of(source, target, target_name)
        with db.transaction(target):
            check(target)
            for table, names in columns.items():
                _copy_table(source, target, table, names)
            _restart_sequences(target)
        try:
            return verify(source, target, columns, target_name=target_name)
        except duckdb.Error as exc:
            raise MigrateError(
                f"复制已提交到 {target_name}，但核对时出错（{exc}）：请重新核对或删除后重新复制。",
                f"The copy was committed to {target_name}, but checking it failed ({exc}): check it again, "
                "or drop it and copy again.",
                committed=True,
            ) from exc


def verify(
    source: duckdb.DuckDBPyConnection,
    target: duckdb.DuckDBPyConnection,
    columns: dict[str, list[str]],
    *,
    target_name: str,
) -> list[TableCheck]:
    """Row count and checksum of every table on both sides, after the commit (what was written is what
    is read back). Raises VerifyMismatch naming the tables that differ."""
    checks = []
    reader = db.cursor(target)  # a fresh cursor: reads the committed state
    try:
        for table, names in columns.items():
            source_rows, source_sum = table_checksum(source, table, names)
            target_rows, target_sum = table_checksum(reader, table, names)
            equal = source_rows == target_rows and source_sum == target_sum
            checks.append(TableCheck(table, source_rows, target_rows, equal))
    finally:
        reader.close()
    differing = [c.table for c in checks if not c.equal]
    if differing:
        raise VerifyMismatch(
            f"复制已提交到 {target_name}，但逐表核对不一致：{'、'.join(differing)}。"
            "核对在提交之后进行，目标数据库已写入：请勿使用它，删除后重新复制。",
            f"The copy was committed to {target_name}, but these tables read back different: "
            f"{', '.join(differing)}. The check runs after the commit, so the target has been written: "
            "do not use it; drop it and copy again.",
            checks,
        )
    return checks


def require_empty(target_name: str) -> Callable[[duckdb.DuckDBPyConnection], None]:
    """The migration's check: a target holding submissions, observations, accounts or audit events of
    its own is refused (naming them), so two warehouses are never merged."""

    def check(target: duckdb.DuckDBPyConnection) -> None:
        content = own_content(target)
        if content:
            zh = "、".join(f"{table} {rows}行" for table, rows in content.items())
            en = ", ".join(f"{table}: {rows}" for table, rows in content.items())
            raise TargetNotEmpty(
                f"目标数据库 {target_name} 不是空的（{zh}），未做任何更改：只能复制到新建的空数据库。",
                f"The target warehouse {target_name} is not empty ({en}); nothing was changed: "
                "migrate copies only into a new, empty warehouse.",
            )

    return check


# -- warehouses and their archives ---------------------------------------------------------------------


def _same_place(source: db.Location, target: db.Location) -> bool:
    if isinstance(source, Path) and isinstance(target, Path):
        return source.resolve() == target.resolve()
    return db.describe(source) == db.describe(target)


@contextmanager
def _opened(source: db.Location, target: db.Location) -> Iterator[tuple[duckdb.DuckDBPyConnection, ...]]:
    """Both warehouses, each through db.connect (migrated to this version); a missing source file is
    refused rather than created empty."""
    if _same_place(source, target):
        raise MigrateError(
            f"源数据库和目标数据库相同：{db.describe(target)}",
            f"The source and the target are the same warehouse: {db.describe(target)}",
        )
    if isinstance(source, Path) and not source.is_file():
        raise MigrateError(f"找不到源数据库：{source}", f"source warehouse not found: {source}")
    source_con = db.connect(source)
    try:
        target_con = db.connect(target)
        try:
            yield source_con, target_con
        finally:
            target_con.close()
    finally:
        source_con.close()


def copy_warehouse(source: db.Location, target: db.Location) -> MigrateReport:
    """Copy every table of `source` into the empty warehouse `target` and verify it table by table.

    Raises TargetNotEmpty (nothing changed), MigrateError (refused, nothing changed), VerifyMismatch
    (committed, but different) and db.WarehouseBusy / WarehouseUnavailable from connecting."""
    name = db.describe(target)
    with _opened(source, target) as (source_con, target_con):
        checks = copy_connections(source_con, target_con, target_name=name, check=require_empty(name))
    return MigrateReport(tables=checks, target=name)


def plan_archive(source: Path, target: Path) -> ArchivePlan:
    """What copying the raw-file archive would do, before anything is written (same directory: nothing)."""
    plan = ArchivePlan(source=source, target=target)
    if not source.is_dir() or (target.exists() and source.resolve() == target.resolve()):
        return plan
    for path in sorted(p for p in source.rglob("*") if p.is_file()):
        relative = path.relative_to(source)
        existing = target / relative
        if not existing.exists():
            plan.to_copy.append(relative)
        elif filecmp.cmp(path, existing, shallow=False):
            plan.present += 1
        else:
            plan.conflicts.append(relative)
    return plan


def copy_archive(plan: ArchivePlan) -> int:
    """Copy the planned files, owner-only like every archive file; an existing file is never replaced."""
    for relative in plan.to_copy:
        destination = plan.target / relative
        db.private_dir(destination.parent)
        if not destination.exists():
            db.write_private(destination, (plan.source / relative).read_bytes())
    return len(plan.to_copy)


def archive_conflict_error(plan: ArchivePlan) -> MigrateError:
    names = "、".join(str(p) for p in plan.conflicts[:5]) + ("…" if len(plan.conflicts) > 5 else "")
    return MigrateError(
        f"目标归档目录 {plan.target} 中已有同名但内容不同的文件：{names}。未做任何更改。",
        f"The target archive {plan.target} holds files of the same name with other content: {names}. "
        "Nothing was changed.",
    )


def migrate(source: db.Location, target: db.Location) -> MigrateReport:
    """The `migrate` command: refuse an archive conflict first, copy and verify the warehouse, then
    copy the raw files its submissions name (only when the two archives are different directories)."""
    plan = plan_archive(db.archive_dir(source), db.archive_dir(target))
    if plan.conflicts:
        raise archive_conflict_error(plan)
    report = copy_warehouse(source, target)
    copy_archive(plan)
    report.archive = plan
    return report
