"""Convert a warehouse file written by DuckDB 2.x into one DuckDB 1.4 LTS opens (one-off, original kept).

The pin moved from duckdb 2.0.1 to 1.4.4 (the line whose postgres extension ships in a wheel), and
1.4 cannot read 2.x's storage format ("version number 999"). scripts/upgrade-duckdb2.sh drives three
steps, each a sub-command of this file:

- ``check FILE`` (project venv): refuses (exit 2, a message in Chinese and English) when FILE is
  missing, held by another program, already readable by 1.4, not a DuckDB file, or when the backup
  name is taken; nothing is changed then.
- ``export FILE WORK`` (a throw-away venv with duckdb 2.0.1, this file run by path with ``python -I``,
  so only the standard library and duckdb may be imported at module level): EXPORT DATABASE of FILE
  opened read-only, plus WORK/manifest.json with what 2.0.1 itself counts: rows per table, each
  sequence's next number, the views, and the SHA-256 of FILE (and its WAL).
- ``install FILE WORK`` (project venv): IMPORT DATABASE into FILE.upgrading without the views (1.4
  creates them before the tables they read and fails; monitor.db.connect makes ours on every open),
  checks each sequence continues after its table's highest id, checks every table against the export
  (rows and an order-independent checksum), opens the file with monitor.db.connect (migrations),
  then, if FILE was not touched meanwhile, renames FILE to FILE.duckdb2-backup (its WAL beside it)
  and the new file into place.
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import json
import os
import re
import sys
from pathlib import Path

import duckdb

BACKUP_SUFFIX = ".duckdb2-backup"
WORK_SUFFIX = ".upgrading"
# the project's DuckDB reports a file of a storage version it cannot read with this text
_TOO_NEW = "Trying to read a database file with version number"
_VIEW = re.compile(r"^\s*CREATE\s+(?:OR\s+REPLACE\s+)?VIEW\s+", re.IGNORECASE)
_COPY = re.compile(r"^COPY\s+(.+?)\s+FROM\s+'((?:[^']|'')*)'", re.IGNORECASE)


class Refused(Exception):
    """Nothing was changed, and the message says why and what to do (exit 2)."""


def _missing(path: Path) -> str:
    return f"找不到数据库文件：{path}\nNo such warehouse file: {path}"


def _held(path: Path) -> str:
    return (
        f"数据库文件正被另一个程序使用：{path}。请先停止应用（以及正在运行的命令行导入、简报），再运行本脚本。\n"
        f"The warehouse file is in use by another program: {path}. Stop the app (and any command-line "
        "load or briefing) first, then run this script again."
    )


def _current(path: Path) -> str:
    return (
        f"数据库文件已可由本版本（DuckDB 1.4 LTS）直接打开，无需转换：{path}\n"
        f"The warehouse file already opens with this version (DuckDB 1.4 LTS); nothing to convert: {path}"
    )


def _backup_taken(backup: Path) -> str:
    return (
        f"备份文件已存在：{backup}。为免覆盖已有备份，请先将其移走或改名，再运行本脚本。\n"
        f"The backup file already exists: {backup}. Move or rename it first, then run this script again."
    )


def _not_duckdb(path: Path, error: str) -> str:
    return (
        f"无法识别的数据库文件，未做任何改动：{path}（{error}）\n"
        f"Not a warehouse file this script can convert; nothing changed: {path} ({error})"
    )


def _changed(path: Path) -> str:
    return (
        f"转换期间数据库文件被修改（可能有旧版本的应用仍在运行）：原文件未替换，仍可由旧版本使用：{path}。"
        "请停止所有使用该文件的程序后重新运行本脚本。\n"
        f"The warehouse file changed during the conversion (an old app may still be running); it was not "
        f"replaced: {path}. Stop every program using it and run this script again."
    )


def backup_path(path: Path) -> Path:
    return path.with_name(path.name + BACKUP_SUFFIX)


def work_path(path: Path) -> Path:
    return path.with_name(path.name + WORK_SUFFIX)


def wal_path(path: Path) -> Path:
    """DuckDB keeps a file's write-ahead log beside it, named after it."""
    return path.with_name(path.name + ".wal")


def is_held(path: Path) -> bool:
    """Whether another process holds DuckDB's lock on the file (an fcntl lock over the whole file:
    exclusive for a writer, shared for a reader). Testing for it takes and drops our own lock."""
    try:
        fd, wanted = os.open(path, os.O_RDWR), fcntl.LOCK_EX
    except PermissionError:  # a file we may only read: a writer's lock is still seen
        fd, wanted = os.open(path, os.O_RDONLY), fcntl.LOCK_SH
    try:
        fcntl.lockf(fd, wanted | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)  # releases the lock, if taken
    return False


def fingerprint(path: Path) -> dict[str, str | None]:
    """SHA-256 of the file and of its WAL (None when there is none): compared before the swap, so a
    write by a program that opened the file after the export is never lost."""

    def digest(file: Path) -> str | None:
        if not file.exists():
            return None
        sha = hashlib.sha256()
        with file.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                sha.update(chunk)
        return sha.hexdigest()

    return {"file": digest(path), "wal": digest(wal_path(path))}


def check(path: Path) -> None:
    """Refuse (Refused) unless FILE needs and allows a conversion; changes nothing."""
    if not path.is_file():
        raise Refused(_missing(path))
    if is_held(path):
        raise Refused(_held(path))
    try:
        duckdb.connect(str(path), read_only=True).close()
    except duckdb.Error as exc:
        if _TOO_NEW not in str(exc):
            raise Refused(_not_duckdb(path, str(exc).splitlines()[0])) from None
    else:
        raise Refused(_current(path))
    if backup_path(path).exists():
        raise Refused(_backup_taken(backup_path(path)))


def _literal(text: str) -> str:
    """A path as an SQL string literal (EXPORT/IMPORT DATABASE take no bound parameters)."""
    return "'" + text.replace("'", "''") + "'"


def export(path: Path, work: Path) -> dict[str, object]:
    """Under duckdb 2.x: EXPORT DATABASE (parquet) of FILE opened read-only, and the manifest."""
    before = fingerprint(path)
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.IOException as exc:
        if "Could not set lock" in str(exc):
            raise Refused(_held(path)) from None
        raise
    try:
        tables = con.execute(
            "select schema_name, table_name from duckdb_tables() "
            "where database_name = current_database() and not temporary order by all"
        ).fetchall()
        rows = {
            f"{schema}.{table}": con.execute(f'select count(*) from "{schema}"."{table}"').fetchone()[0]
            for schema, table in tables
        }
        sequences = {
            name: (start if last is None else last + step)
            for name, start, last, step in con.execute(
                "select sequence_name, start_value, last_value, increment_by from duckdb_sequences() "
                "where database_name = current_database()"
            ).fetchall()
        }
        views = [
            name
            for (name,) in con.execute(
                "select view_name from duckdb_views() where database_name = current_database() and not internal"
            ).fetchall()
        ]
        con.execute(f"export database {_literal(str(work / 'export'))} (format parquet)")
    finally:
        con.close()
    if fingerprint(path) != before:
        raise Refused(_changed(path))
    manifest = {
        "duckdb": duckdb.__version__,
        "rows": rows,
        "sequences": sequences,
        "views": views,
        "fingerprint": before,
    }
    (work / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"  已用 DuckDB {duckdb.__version__} 只读打开并导出：{len(rows)} 张表，{sum(rows.values())} 行")
    return manifest


class Failed(Exception):
    """The new file did not match the export; it was deleted and FILE left as it was (exit 1)."""


def _without_views(export_dir: Path) -> int:
    """Remove the CREATE VIEW statements from the export's schema.sql: DuckDB 1.4 runs them before the
    CREATE TABLEs they read ("Table with name current_observations does not exist"). Returns how many."""
    schema = export_dir / "schema.sql"
    statements = [part for part in schema.read_text(encoding="utf-8").split(";\n") if part.strip()]
    kept = [part for part in statements if not _VIEW.match(part)]
    schema.write_text("".join(f"{part};\n" for part in kept), encoding="utf-8")
    return len(statements) - len(kept)


def _parquet_files(export_dir: Path) -> dict[str, Path]:
    """Each exported table ("schema.table", as in the manifest) and the parquet file load.sql copies it from."""
    files: dict[str, Path] = {}
    for line in (export_dir / "load.sql").read_text(encoding="utf-8").splitlines():
        match = _COPY.match(line)
        if match:
            name = match.group(1).replace('"', "")
            files[name if "." in name else f"main.{name}"] = Path(match.group(2).replace("''", "'"))
    return files


def _quoted(table: str) -> str:
    schema, name = table.split(".", 1)
    return f'"{schema}"."{name}"'


def table_summary(con: duckdb.DuckDBPyConnection, relation: str, params: list | None = None) -> tuple[int, int]:
    """(rows, checksum) of a table or a parquet file: the sum of a hash of every whole row, so row
    order does not matter but every value, and a duplicated row, does. Both sides are hashed by the
    same DuckDB, so the hash function is the same."""
    row = con.execute(
        f"select count(*), coalesce(sum(hash(t)::hugeint), 0) from {relation} as t", params or []
    ).fetchone()
    return int(row[0]), int(row[1])


def next_value(con: duckdb.DuckDBPyConnection, sequence: str) -> int:
    """The number nextval would return, read without advancing the sequence."""
    start, last, step = con.execute(
        "select start_value, last_value, increment_by from duckdb_sequences() where sequence_name = ?", [sequence]
    ).fetchone()
    return int(start if last is None else last + step)


def _continue_sequences(con: duckdb.DuckDBPyConnection, wanted_by_source: dict[str, int]) -> list[str]:
    """Make each sequence give next what 2.x would have given, and never a number its table already
    holds (max(id)+1 at least). A sequence whose export was wrong is made again with the right start:
    no column default uses them, so dropping one is safe."""
    from etl.migrate import SEQUENCE_IDS  # which table and id column each sequence numbers

    lines = []
    for sequence, source_next in sorted(wanted_by_source.items()):
        if not re.fullmatch(r"\w+", sequence):
            raise Failed(f"序列名无法识别 / unexpected sequence name: {sequence!r}")
        floor, note = 1, ""
        if sequence in SEQUENCE_IDS:
            table, key = SEQUENCE_IDS[sequence]
            top = con.execute(f"select max({key}) from {table}").fetchone()[0]
            floor = 1 if top is None else int(top) + 1
            note = f"（{table} 暂无记录）" if top is None else f"（{table} 最大编号 {top}）"
        wanted = max(int(source_next), floor)
        if next_value(con, sequence) != wanted:
            con.execute(f"drop sequence {sequence}")
            con.execute(f"create sequence {sequence} start {wanted}")
            note += "，已修正起始值"
        if next_value(con, sequence) != wanted:
            raise Failed(f"序列 {sequence} 的下一个编号应为 {wanted} / sequence {sequence} should continue at {wanted}")
        lines.append(f"  序列 {sequence}：下一个编号 {wanted}{note}")
    return lines


def _verify(con: duckdb.DuckDBPyConnection, rows_by_source: dict[str, int], files: dict[str, Path]) -> list[str]:
    """Every table of the new file against the export (rows and checksum) and 2.x's own row count."""
    tables = {
        f"{schema}.{name}"
        for schema, name in con.execute(
            "select schema_name, table_name from duckdb_tables() where database_name = current_database()"
        ).fetchall()
    }
    problems = (
        [f"表不一致 / tables differ: {sorted(tables ^ set(rows_by_source))}"] if tables != set(rows_by_source) else []
    )
    lines = []
    for table in sorted(rows_by_source):
        if table not in tables or table not in files:
            continue
        new_rows, new_sum = table_summary(con, _quoted(table))
        export_rows, export_sum = table_summary(con, "read_parquet(?)", [str(files[table])])
        if not new_rows == export_rows == rows_by_source[table] or new_sum != export_sum:
            problems.append(
                f"{table}: 原文件 {rows_by_source[table]} 行，导出 {export_rows} 行，新文件 {new_rows} 行"
                f"{'' if new_sum == export_sum else '，校验和不同'}"
            )
        lines.append(f"  {table.removeprefix('main.')}：{new_rows} 行，与导出一致")
    if problems:
        raise Failed("新文件与导出不一致，已删除新文件，原文件未改动：\n" + "\n".join(problems))
    return lines


def _open_with_app(target: Path) -> int:
    """Open the new file as the app does (migrations, our views) and read every view once."""
    from monitor import db
    from monitor.schema import SCHEMA_VERSION, VIEWS

    con = db.connect(target)
    try:
        for view in re.findall(r"create or replace view (\w+)", VIEWS):
            db.scalar(con, f"select count(*) from {view}")
        version = int(db.scalar(con, "select max(version) from schema_version") or 0)
    finally:
        con.close()
    if version != SCHEMA_VERSION:
        raise Failed(
            f"数据库结构版本为 {version}，应为 {SCHEMA_VERSION} / schema version {version}, want {SCHEMA_VERSION}"
        )
    return version


def _swap(path: Path, target: Path, fingerprint_before: dict[str, str | None]) -> list[str]:
    """FILE -> FILE.duckdb2-backup (its WAL beside it, so the backup opens with 2.x as it was), new file
    -> FILE. Only when no program holds FILE and it is byte for byte what was exported."""
    if is_held(path):
        raise Refused(_held(path))
    if fingerprint(path) != fingerprint_before:
        raise Refused(_changed(path))
    backup = backup_path(path)
    if backup.exists():
        raise Refused(_backup_taken(backup))
    lines = [f"  原文件已改名保留：{backup}"]
    os.rename(path, backup)
    had_wal = wal_path(path).exists()
    try:
        if had_wal:
            os.rename(wal_path(path), wal_path(backup))
            lines.append(f"  原日志文件（WAL）已改名保留：{wal_path(backup)}")
        os.rename(target, path)
    except OSError:  # put the original back under its name: FILE is never left missing
        if had_wal and wal_path(backup).exists():
            os.rename(wal_path(backup), wal_path(path))
        os.rename(backup, path)
        raise
    if wal_path(target).exists():
        os.rename(wal_path(target), wal_path(path))
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
    lines.append(f"  新文件已就位：{path}")
    return lines


def install(path: Path, work: Path) -> None:
    """Under the project's DuckDB: import the export into FILE.upgrading, check it, swap it in."""
    manifest = json.loads((work / "manifest.json").read_text(encoding="utf-8"))
    export_dir = work / "export"
    target = work_path(path)
    for stale in (target, wal_path(target)):  # left by an interrupted run of this script
        stale.unlink(missing_ok=True)
    dropped = _without_views(export_dir)
    from monitor.schema import VIEWS

    foreign = sorted(set(manifest["views"]) - set(re.findall(r"create or replace view (\w+)", VIEWS)))
    try:
        con = duckdb.connect(str(target))
        try:
            con.execute(f"import database {_literal(str(export_dir))}")
            lines = _continue_sequences(con, manifest["sequences"])
            lines += _verify(con, manifest["rows"], _parquet_files(export_dir))
            con.execute("checkpoint")
        finally:
            con.close()
        original = path.stat()
        target.chmod(original.st_mode & 0o777)
        if os.geteuid() == 0:  # run as root for a service account: the app must still own its file
            os.chown(target, original.st_uid, original.st_gid)
        version = _open_with_app(target)
        lines.append(f"  已用本系统打开新文件：视图已重建，数据库结构版本 {version}")
        lines += _swap(path, target, manifest["fingerprint"])
    except BaseException:
        for leftover in (target, wal_path(target)):
            leftover.unlink(missing_ok=True)
        raise
    print(f"  已用 DuckDB {duckdb.__version__} 导入（先去掉 {dropped} 个视图，打开时由本系统重建）")
    if foreign:
        print(f"  注意：以下视图不是本系统创建的，未转换：{', '.join(foreign)}")
    print("\n".join(lines))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="etl/upgrade_duckdb2.py", description=__doc__.splitlines()[0])
    parser.add_argument("step", choices=("check", "export", "install"))
    parser.add_argument("file", type=Path)
    parser.add_argument("work", type=Path, nargs="?")
    args = parser.parse_args(argv)
    path = args.file.absolute()
    try:
        if args.step == "check":
            check(path)
        elif args.work is None:
            parser.error(f"{args.step} needs the work directory")
        elif args.step == "export":
            export(path, args.work)
        else:
            install(path, args.work)
    except Refused as exc:
        print(exc, file=sys.stderr)
        return 2
    except Failed as exc:
        print(exc, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
