"""`python -m etl migrate`: a warehouse copied to another backend is the same warehouse, table by table.

Without PostgreSQL these tests copy DuckDB file -> DuckDB file; with MONITOR_TEST_PG (an admin URL such
as postgresql://monitor@127.0.0.1:55433/postgres) they also copy a demo warehouse DuckDB -> PostgreSQL ->
DuckDB and rebuild a PostgreSQL warehouse, each in databases of their own (mig_…), dropped afterwards.

The DuckDB files here are named *.db, not *.duckdb: conftest's PostgreSQL mode turns every *.duckdb
under pytest's temporary directory into a PostgreSQL database, and these tests choose each side's
backend themselves.
"""

from __future__ import annotations

import contextlib
import csv as csvlib
import datetime as dt
import io
import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from etl import migrate
from etl.__main__ import main as etl_main
from etl.load import load_bytes
from etl.rebuild import RebuildError, rebuild_warehouse
from monitor import auth, db
from monitor.backend import PostgresUrl
from monitor.targets import TargetsConfig
from tests.conftest import TODAY

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN = os.environ.get("MONITOR_TEST_PG")
needs_pg = pytest.mark.skipif(not PG_ADMIN, reason="needs MONITOR_TEST_PG (a PostgreSQL admin URL)")

RENTAL = "rental_housing_units"
TABLES = [
    "action_steps", "actions", "audit_log", "bureau_review", "bureaus", "districts", "entry_drafts",
    "explanations", "kpis", "load_warnings", "meta", "observation_notes", "observations", "rejected_rows",
    "schema_version", "sessions", "submissions", "target_settings", "targets", "users",
]  # fmt: skip
CURRENT = "select kpi_id, district_id, period, value, revision, submission_id from current_observations order by all"


def csv(rows: list[tuple[str, str, str, object]]) -> bytes:
    return ("指标编码,旗区,报送期,数值\n" + "".join(f"{k},{d},{p},{v}\n" for k, d, p, v in rows)).encode()


def rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple]:
    return con.execute(sql).fetchall()


def count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    return int(db.scalar(con, f"select count(*) from {table}"))  # type: ignore[arg-type]


def run_etl(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = etl_main(list(argv))
    return status, out.getvalue(), err.getvalue()


def load(con: duckdb.DuckDBPyConnection, cfg: TargetsConfig, name: str, data: bytes, archive: Path | None) -> Any:
    return load_bytes(name, data, cfg, "housing", "zhang_san", con, archive=archive, today=TODAY)


def fill(con: duckdb.DuckDBPyConnection, cfg: TargetsConfig, archive: Path | None) -> None:
    """Two accepted files (the second revises a figure), one rejected file, two accounts."""
    auth.add_user(con, "leader_wang", "wang-secret-1", "leader")
    auth.add_user(con, "zhangsan", "zhang-secret-1", "reporter", bureau_id="housing")
    assert load(
        con, cfg, "a.csv", csv([(RENTAL, "东胜区", "2025-03", 5), (RENTAL, "康巴什区", "2025-03", 7)]), archive
    ).ok
    assert load(con, cfg, "bad.csv", csv([(RENTAL, "全市", "2025-03", 1)]), archive).outcome == "rejected"
    assert load(con, cfg, "b.csv", csv([(RENTAL, "东胜区", "2025-03", 6)]), archive).ok  # revision 2


def small_warehouse(path: Path, cfg: TargetsConfig, *, filled: bool) -> Path:
    con = db.connect(path)
    try:
        db.sync_reference(con, cfg)
        if filled:
            fill(con, cfg, db.archive_dir(path))
    finally:
        con.close()
    return path


def table_rows(location: db.Location) -> dict[str, list[tuple]]:
    """Every row of every table, sorted: compared across backends without the checksum under test."""
    con = db.connect(location)
    try:
        return {t: rows(con, f"select * from {migrate.qualified(con, t)} order by all") for t in TABLES}
    finally:
        con.close()


# -- DuckDB file -> DuckDB file ---------------------------------------------------------------------------


def test_a_copied_warehouse_has_every_table_equal_and_numbering_goes_on(tmp_path: Path, cfg: TargetsConfig) -> None:
    source = small_warehouse(tmp_path / "a" / "source.db", cfg, filled=True)
    target = tmp_path / "b" / "target.db"

    report = migrate.copy_warehouse(source, target)

    assert [check.table for check in report.tables] == TABLES
    assert all(check.equal for check in report.tables)
    by_table = {check.table: (check.source_rows, check.target_rows) for check in report.tables}
    assert by_table["observations"] == (3, 3)  # 5 and 7, then 6 as revision 2 of 东胜区
    assert by_table["submissions"] == (3, 3) and by_table["rejected_rows"] == (1, 1)
    assert by_table["users"] == (2, 2) and by_table["kpis"] == (7, 7) and by_table["targets"] == (5, 5)
    assert table_rows(target) == table_rows(source)
    con = db.connect(target)
    try:
        last_event = int(db.scalar(con, "select max(event_id) from audit_log"))  # type: ignore[arg-type]
        res = load(con, cfg, "c.csv", csv([(RENTAL, "东胜区", "2025-04", 1)]), db.archive_dir(target))
        assert res.submission_id == 4  # the source's 3 submissions, then the next number
        assert db.scalar(con, "select max(event_id) from audit_log") == last_event + 1
        assert db.next_id(con, "audit_seq") == last_event + 2
        assert auth.sign_in(con, "zhangsan", "zhang-secret-1").user_name == "zhangsan"  # hashes copied exactly
    finally:
        con.close()


def test_a_target_with_data_of_its_own_is_refused_by_name_and_left_unchanged(
    tmp_path: Path, cfg: TargetsConfig
) -> None:
    source = small_warehouse(tmp_path / "a" / "source.db", cfg, filled=True)
    target = tmp_path / "b" / "target.db"
    con = db.connect(target)
    db.sync_reference(con, cfg)
    assert load(con, cfg, "own.csv", csv([(RENTAL, "达拉特旗", "2025-01", 9)]), None).ok
    con.close()
    before = table_rows(target)

    with pytest.raises(migrate.TargetNotEmpty) as refused:
        migrate.copy_warehouse(source, target)

    assert refused.value.zh == (
        f"目标数据库 {target} 不是空的（audit_log 1行、observations 1行、submissions 1行），"
        "未做任何更改：只能复制到新建的空数据库。"
    )
    assert table_rows(target) == before


def test_a_copy_that_fails_halfway_leaves_the_target_as_it_was(
    tmp_path: Path, cfg: TargetsConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = small_warehouse(tmp_path / "a" / "source.db", cfg, filled=True)
    target = small_warehouse(tmp_path / "b" / "target.db", cfg, filled=False)
    before = table_rows(target)
    copied: list[str] = []
    real_copy = migrate._copy_table

    def copy_then_fail(source_con: Any, target_con: Any, table: str, columns: list[str]) -> None:
        if table == "submissions":  # audit_log, observations, users… are written by now
            raise duckdb.IOException("connection lost")
        real_copy(source_con, target_con, table, columns)
        copied.append(table)

    monkeypatch.setattr(migrate, "_copy_table", copy_then_fail)
    status, _, err = run_etl("--db", str(source), "migrate", "--to", str(target))

    assert status == 1
    assert "observations" in copied and "audit_log" in copied
    assert err.startswith("复制失败，目标数据库未做任何更改 / the copy failed, the target is unchanged:\n")
    assert table_rows(target) == before  # one transaction: nothing of the half copy is left
    monkeypatch.setattr(migrate, "_copy_table", real_copy)
    assert run_etl("--db", str(source), "migrate", "--to", str(target))[0] == 0  # still empty: copies now


def test_the_checksum_ignores_row_order_and_sees_any_changed_value() -> None:
    con = duckdb.connect()
    columns = ["id", "value", "stamp", "tags"]
    con.execute("create table a (id integer, value double, stamp timestamp, tags varchar[])")
    con.execute("create table b as select * from a")
    con.execute("create table c as select * from a")
    first = "(1, 0.1, timestamp '2025-03-01 10:00:00.000001', ['x', null])"
    same = "(2, 2.5, null, []), (2, 2.5, null, [])"  # a duplicate row must not cancel itself out
    con.execute(f"insert into a values {first}, {same}")
    con.execute(f"insert into b values {same}, {first}")
    con.execute(f"insert into c values (1, 0.1, timestamp '2025-03-01 10:00:00.000002', ['x', null]), {same}")

    assert migrate.table_checksum(con, "a", columns) == migrate.table_checksum(con, "b", columns)
    assert migrate.table_checksum(con, "a", columns)[0] == 3
    assert migrate.table_checksum(con, "c", columns) != migrate.table_checksum(con, "a", columns)  # 1 µs later
    con.execute("delete from b where id = 2")
    con.execute("insert into b values (2, 2.5, null, [])")
    assert migrate.table_checksum(con, "b", columns)[0] == 2
    assert migrate.table_checksum(con, "b", columns) != migrate.table_checksum(con, "a", columns)


def test_migrate_command_prints_each_table_the_summary_and_copies_the_archive(
    tmp_path: Path, cfg: TargetsConfig
) -> None:
    source = small_warehouse(tmp_path / "a" / "source.db", cfg, filled=True)
    target = tmp_path / "b" / "target.db"
    archived = sorted(p.name for p in db.archive_dir(source).iterdir())
    assert len(archived) == 4  # two accepted files and their sidecars (the rejected file is not kept)

    status, out, err = run_etl("--db", str(source), "migrate", "--to", str(target))

    assert status == 0, err
    lines = out.splitlines()
    assert lines[0] == f"源数据库：{source}"
    assert lines[1].split() == ["表", "源行数", "目标行数", "核对"]
    assert lines[2 + TABLES.index("observations")].split() == ["observations", "3", "3", "一致"]
    assert len(lines) == 2 + len(TABLES) + 2
    total = sum(len(r) for r in table_rows(source).values())
    assert lines[-2] == f"归档文件：复制4个，已有0个 -> {db.archive_dir(target)}"
    assert lines[-1] == f"已复制并逐表核对一致：20张表，{total:,}行 -> {target}"
    assert sorted(p.name for p in db.archive_dir(target).iterdir()) == archived
    assert all((db.archive_dir(target) / n).read_bytes() == (db.archive_dir(source) / n).read_bytes() for n in archived)


def test_a_table_that_reads_back_different_exits_1_and_says_the_copy_was_committed(
    tmp_path: Path, cfg: TargetsConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = small_warehouse(tmp_path / "a" / "source.db", cfg, filled=True)
    target = tmp_path / "b" / "target.db"
    real_checksum = migrate.table_checksum

    def target_users_differ(con: Any, table: str, columns: list[str]) -> tuple[int, int]:
        rows_, total = real_checksum(con, table, columns)
        on_target = migrate.data_schema(con)[0] == "target"
        return rows_, total + 1 if (on_target and table == "users") else total

    monkeypatch.setattr(migrate, "table_checksum", target_users_differ)
    status, out, err = run_etl("--db", str(source), "migrate", "--to", str(target))

    assert status == 1
    assert out.splitlines()[2 + TABLES.index("users")].split() == ["users", "2", "2", "不一致"]
    assert err.splitlines()[0] == (
        f"复制已提交到 {target}，但逐表核对不一致：users。"
        "核对在提交之后进行，目标数据库已写入：请勿使用它，删除后重新复制。"
    )
    assert "已复制并逐表核对一致" not in out


def test_an_archive_file_of_the_same_name_with_other_content_stops_the_migration_before_anything(
    tmp_path: Path, cfg: TargetsConfig
) -> None:
    source = small_warehouse(tmp_path / "a" / "source.db", cfg, filled=True)
    target = tmp_path / "b" / "target.db"
    name = sorted(p.name for p in db.archive_dir(source).glob("*.csv"))[0]
    db.private_dir(db.archive_dir(target))
    (db.archive_dir(target) / name).write_bytes(b"something else")

    status, _, err = run_etl("--db", str(source), "migrate", "--to", str(target))

    assert status == 2
    assert err.splitlines()[0] == (
        f"目标归档目录 {db.archive_dir(target)} 中已有同名但内容不同的文件：{name}。未做任何更改。"
    )
    assert not target.exists()
    assert [p.name for p in db.archive_dir(target).iterdir()] == [name]
    assert (db.archive_dir(target) / name).read_bytes() == b"something else"


def test_copying_a_warehouse_onto_itself_or_from_a_missing_file_is_refused(tmp_path: Path, cfg: TargetsConfig) -> None:
    source = small_warehouse(tmp_path / "a" / "source.db", cfg, filled=True)
    same = tmp_path / "a" / ".." / "a" / "source.db"
    with pytest.raises(migrate.MigrateError) as refused:
        migrate.copy_warehouse(source, same)
    assert refused.value.zh == f"源数据库和目标数据库相同：{same}"
    missing = tmp_path / "none.db"
    with pytest.raises(migrate.MigrateError) as refused:
        migrate.copy_warehouse(missing, tmp_path / "c.db")
    assert refused.value.zh == f"找不到源数据库：{missing}"
    assert not missing.exists() and not (tmp_path / "c.db").exists()


# -- PostgreSQL ------------------------------------------------------------------------------------------


def psql(admin: str, *statements: str) -> None:
    """CREATE/DROP DATABASE cannot run in a transaction, so not through DuckDB's postgres_execute."""
    args = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", admin]
    for statement in statements:
        args += ["-c", statement]
    done = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


@pytest.fixture
def pg_database() -> Iterator[Callable[[], PostgresUrl]]:
    """Makes empty databases named mig_<random> on the MONITOR_TEST_PG server; drops them afterwards."""
    assert PG_ADMIN
    made: list[str] = []

    def make() -> PostgresUrl:
        name = f"mig_{uuid.uuid4().hex[:12]}"
        psql(PG_ADMIN, f"create database {name}")
        made.append(name)
        return PostgresUrl(PG_ADMIN).with_dbname(name)

    try:
        yield make
    finally:
        if made:
            psql(PG_ADMIN, *(f"drop database if exists {name} with (force)" for name in made))


DEMO_UNTIL = "2025-01"


@pytest.fixture(scope="module")
def demo_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo dataset (real targets.yaml) up to 2025-01 in a DuckDB file: 113 reports, with a revision,
    a pending and a returned submission, explanations and the 36 demo accounts."""
    if not PG_ADMIN:
        pytest.skip("needs MONITOR_TEST_PG")
    path = tmp_path_factory.mktemp("migdemo") / "demo.db"
    status, out, err = run_etl("--db", str(path), "demo", "--until", DEMO_UNTIL)
    assert status == 0, (out + err)[-3000:]
    return path


def scorecard(location: db.Location) -> list[dict[str, str]]:
    """`python -m monitor scorecard` as an operator runs it, in its own process."""
    env = {k: v for k, v in os.environ.items() if k not in ("MONITOR_DB", "MONITOR_ARCHIVE")}
    done = subprocess.run(
        [sys.executable, "-m", "monitor", "scorecard", "--db", str(location), "--as-of", DEMO_UNTIL, "--format", "csv"],
        capture_output=True, text=True, cwd=ROOT, env=env, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return list(csvlib.DictReader(io.StringIO(done.stdout.lstrip("\ufeff"))))


@needs_pg
def test_demo_copied_duckdb_to_postgres_to_duckdb_is_the_same_warehouse_with_the_same_scorecard(
    demo_file: Path, pg_database: Callable[[], PostgresUrl], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = pg_database()
    monkeypatch.setenv("MONITOR_ARCHIVE", str(tmp_path / "pg_archive"))
    back = tmp_path / "back" / "back.db"

    status, out, err = run_etl("--db", str(demo_file), "migrate", "--to", str(url))
    assert status == 0, err
    status, out_back, err = run_etl("--db", str(url), "migrate", "--to", str(back))
    assert status == 0, err

    original = table_rows(demo_file)
    assert {t: len(r) for t, r in original.items() if t in ("observations", "submissions", "users")} == {
        "observations": 4143, "submissions": 113, "users": 36,
    }  # fmt: skip
    total = sum(len(r) for r in original.values())
    assert out.splitlines()[-1] == f"已复制并逐表核对一致：20张表，{total:,}行 -> {url.display}"
    assert out_back.splitlines()[-1] == f"已复制并逐表核对一致：20张表，{total:,}行 -> {back}"
    assert table_rows(url) == original
    assert table_rows(back) == original
    archived = sorted(p.name for p in db.archive_dir(demo_file).iterdir())
    assert len(archived) == 2 * 113  # each accepted file and its sidecar
    assert sorted(p.name for p in (tmp_path / "pg_archive").iterdir()) == archived
    assert sorted(p.name for p in db.archive_dir(back).iterdir()) == archived

    cards = [scorecard(location) for location in (demo_file, url, back)]
    statuses = [{row["target_id"]: row["status"] for row in card} for card in cards]
    assert statuses[1] == statuses[0] and statuses[2] == statuses[0]
    assert cards[1] == cards[0] and cards[2] == cards[0]  # every figure, reason and forecast too
    assert len(statuses[0]) == 66
    assert statuses[0]["settlement_window_open_done"] == "overdue"  # 9 of 11 units done, due 2024-12
    assert statuses[0]["talents_50k_2025"] == "off_track"  # 12,812 against 19,444 planned
    assert statuses[0]["talents_100k_2030"] == "on_track"


@needs_pg
def test_a_postgres_target_with_data_is_refused_and_left_unchanged_and_a_copy_numbers_on(
    tmp_path: Path, cfg: TargetsConfig, pg_database: Callable[[], PostgresUrl], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MONITOR_ARCHIVE", str(tmp_path / "pg_archive"))
    source = small_warehouse(tmp_path / "a" / "source.db", cfg, filled=True)
    url = pg_database()
    assert migrate.copy_warehouse(source, url).rows == sum(len(r) for r in table_rows(source).values())
    before = table_rows(url)

    other = small_warehouse(tmp_path / "b" / "other.db", cfg, filled=False)
    status, _, err = run_etl("--db", str(other), "migrate", "--to", str(url))

    assert status == 2
    assert err.splitlines()[0] == (
        f"目标数据库 {url.display} 不是空的（audit_log 5行、observations 3行、rejected_rows 1行、submissions 3行、"
        "users 2行），未做任何更改：只能复制到新建的空数据库。"
    )
    assert table_rows(url) == before
    con = db.connect(url)
    try:
        last_event = int(db.scalar(con, "select max(event_id) from audit_log"))  # type: ignore[arg-type]
        res = load(con, cfg, "c.csv", csv([(RENTAL, "东胜区", "2025-04", 1)]), db.archive_dir(url))
        assert res.ok and res.submission_id == 4
        assert db.scalar(con, "select max(event_id) from audit_log") == last_event + 1
    finally:
        con.close()


def _pg_filled(url: PostgresUrl, cfg: TargetsConfig) -> None:
    con = db.connect(url)
    try:
        db.sync_reference(con, cfg)
        fill(con, cfg, db.archive_dir(url))
    finally:
        con.close()


@needs_pg
def test_rebuild_on_postgres_replaces_the_content_and_keeps_accounts_audit_log_and_numbers(
    tmp_path: Path, cfg: TargetsConfig, pg_database: Callable[[], PostgresUrl], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MONITOR_ARCHIVE", str(tmp_path / "pg_archive"))
    url = pg_database()
    _pg_filled(url, cfg)
    before = table_rows(url)

    report = rebuild_warehouse(url, cfg)

    assert (report.replayed, report.accounts, report.audit_events) == (2, 2, len(before["audit_log"]))
    after = table_rows(url)
    for table in ("users", "rejected_rows", "load_warnings"):
        assert after[table] == before[table], table
    assert [row[:-1] for row in after["observations"]] == [row[:-1] for row in before["observations"]]  # loaded_at: now
    drop_time = "select * exclude (submitted_at) from submissions order by submission_id"
    con = db.connect(url)
    try:
        assert [row[0] for row in rows(con, drop_time)] == [1, 2, 3]
        audit = rows(con, "select * from audit_log order by event_id")
        assert audit[:-1] == sorted(before["audit_log"])
        assert (audit[-1][0], audit[-1][2], audit[-1][3]) == (audit[-2][0] + 1, "system", "rebuild")
        assert rows(con, CURRENT) == [
            (RENTAL, "dongsheng", dt.date(2025, 3, 1), 6.0, 2, 3),
            (RENTAL, "kangbashi", dt.date(2025, 3, 1), 7.0, 1, 1),
        ]
        res = load(con, cfg, "c.csv", csv([(RENTAL, "东胜区", "2025-04", 1)]), db.archive_dir(url))
        assert res.submission_id == 4
    finally:
        con.close()


@needs_pg
def test_rebuild_on_postgres_stops_and_changes_nothing_when_a_load_came_in_meanwhile(
    tmp_path: Path, cfg: TargetsConfig, pg_database: Callable[[], PostgresUrl], monkeypatch: pytest.MonkeyPatch
) -> None:
    import etl.rebuild

    monkeypatch.setenv("MONITOR_ARCHIVE", str(tmp_path / "pg_archive"))
    url = pg_database()
    _pg_filled(url, cfg)
    real_build = etl.rebuild._build

    def build_while_someone_loads(*args: Any) -> None:
        real_build(*args)
        other = db.connect(url)  # another process's load, committed while the fresh file was built
        try:
            assert load(other, cfg, "late.csv", csv([(RENTAL, "乌审旗", "2025-03", 4)]), db.archive_dir(url)).ok
        finally:
            other.close()

    monkeypatch.setattr(etl.rebuild, "_build", build_while_someone_loads)
    with pytest.raises(RebuildError) as stopped:
        rebuild_warehouse(url, cfg)

    assert stopped.value.zh == (
        "重建期间数据库有新的写入（submissions、audit_log），数据库未做任何更改；请稍后重新运行重建"
    )
    with_late = table_rows(url)
    assert len(with_late["submissions"]) == 4 and len(with_late["observations"]) == 4
    assert [row[3] for row in sorted(with_late["audit_log"])][-1] != "rebuild"
