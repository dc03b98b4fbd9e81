"""Choosing the warehouse (DuckDB file or PostgreSQL URL) and the messages when it cannot be opened.

The PostgreSQL cases run when MONITOR_TEST_PG holds an admin URL (scripts/test.sh starts a server for them).
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from monitor import backend, db
from monitor.schema import SCHEMA_VERSION

PG_ADMIN = os.environ.get("MONITOR_TEST_PG")
needs_pg = pytest.mark.skipif(not PG_ADMIN, reason="MONITOR_TEST_PG (a PostgreSQL admin URL) is not set")


@pytest.fixture
def no_configured_warehouse(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No MONITOR_DB, and a secrets.toml of our own (absent until a test writes it)."""
    monkeypatch.delenv("MONITOR_DB", raising=False)
    monkeypatch.delenv("MONITOR_ARCHIVE", raising=False)
    secrets = tmp_path / "secrets.toml"
    monkeypatch.setattr(backend, "SECRETS_FILE", secrets)
    monkeypatch.setattr(backend.secrets_warehouse, "__defaults__", (secrets,))
    return secrets


def test_the_default_warehouse_is_the_duckdb_file_in_data(no_configured_warehouse: Path) -> None:
    assert db.db_path() == backend.ROOT / "data" / "warehouse.duckdb"
    assert db.archive_dir(db.db_path()) == backend.ROOT / "data" / "archive"


def test_a_postgresql_url_in_secrets_selects_postgresql_with_its_archive(no_configured_warehouse: Path) -> None:
    no_configured_warehouse.write_text(
        '[warehouse]\nurl = "postgresql://monitor:s3cret@db.intranet:5432/monitor0477"\narchive = "/srv/archive"\n',
        encoding="utf-8",
    )
    location = db.db_path()
    assert isinstance(location, db.PostgresUrl)
    assert location == "postgresql://monitor:s3cret@db.intranet:5432/monitor0477"
    assert db.archive_dir(location) == Path("/srv/archive")
    assert db.describe(location) == "postgresql://monitor:***@db.intranet:5432/monitor0477"


def test_monitor_db_wins_over_secrets_and_the_command_line_wins_over_both(
    no_configured_warehouse: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    no_configured_warehouse.write_text('[warehouse]\nurl = "postgresql://a@h/one"\n', encoding="utf-8")
    monkeypatch.setenv("MONITOR_DB", "postgresql://a@h/two")
    assert db.db_path() == "postgresql://a@h/two"
    assert db.db_path("/tmp/x.duckdb") == Path("/tmp/x.duckdb")


def test_a_path_is_a_duckdb_file_and_its_archive_sits_beside_it(no_configured_warehouse: Path) -> None:
    location = db.db_path("/srv/monitor/w.duckdb")
    assert location == Path("/srv/monitor/w.duckdb")
    assert db.archive_dir(location) == Path("/srv/monitor/archive")


def test_monitor_archive_sets_the_postgresql_archive(
    no_configured_warehouse: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MONITOR_ARCHIVE", "/mnt/shared/archive")
    assert db.archive_dir(db.db_path("postgresql://a@h/db")) == Path("/mnt/shared/archive")


def test_an_unreachable_postgresql_is_a_message_without_the_password() -> None:
    with pytest.raises(db.WarehouseBusy) as caught:
        db.connect("postgresql://monitor:s3cret@127.0.0.1:1/monitor0477")
    assert isinstance(caught.value, db.WarehouseUnavailable)
    assert str(caught.value) == (
        "无法连接数据库 postgresql://monitor:***@127.0.0.1:1/monitor0477："
        "请确认 PostgreSQL 服务正在运行、地址和账号正确，或联系信息中心。\n"
        "Cannot reach the warehouse postgresql://monitor:***@127.0.0.1:1/monitor0477: check that the PostgreSQL "
        "server is running and the address and account are right, or ask the IT department."
    )


def test_next_id_takes_only_the_schemas_sequences(tmp_path: Path) -> None:
    con = db.connect(tmp_path / "w.duckdb")
    try:
        assert [db.next_id(con, "audit_seq"), db.next_id(con, "audit_seq")] == [1, 2]
        with pytest.raises(ValueError, match="unknown sequence 'x; drop table users'"):
            db.next_id(con, "x; drop table users")
    finally:
        con.close()


def test_the_postgres_extension_ships_in_the_wheel() -> None:
    path = backend.extension_file()
    assert path.name == "postgres_scanner.duckdb_extension"
    assert f"v{duckdb.__version__}" in path.parts


# -- against PostgreSQL -------------------------------------------------------------------------------


@pytest.fixture
def pg_url() -> Iterator[db.PostgresUrl]:
    """A fresh, empty database on the test server, dropped afterwards."""
    assert PG_ADMIN
    admin = db.PostgresUrl(PG_ADMIN)
    name = f"tb_{uuid.uuid4().hex[:12]}"
    control = backend.attach_postgres(admin)
    try:
        backend.pg_execute(
            control, f"create database {name}", in_transaction=False
        )  # a generated identifier, not user input
        yield admin.with_dbname(name)
    finally:
        backend.pg_execute(control, f"drop database if exists {name} with (force)", in_transaction=False)
        control.close()


@needs_pg
def test_three_processes_starting_on_an_empty_database_create_the_schema_once(pg_url: db.PostgresUrl) -> None:
    """Three app processes started together: migrations wait for each other's lock, none fails."""
    code = "import sys; from monitor import db; db.connect(sys.argv[1]).close()"
    procs = [
        subprocess.Popen([sys.executable, "-c", code, str(pg_url)], cwd=backend.ROOT, stderr=subprocess.PIPE, text=True)
        for _ in range(3)
    ]
    results = [(proc.wait(timeout=120), proc.stderr.read() if proc.stderr else "") for proc in procs]
    assert results == [(0, "")] * 3
    con = db.connect(pg_url)
    try:
        versions = con.execute("select version from schema_version order by version").fetchall()
        assert versions == [(v,) for v in range(1, SCHEMA_VERSION + 1)]
    finally:
        con.close()


@needs_pg
def test_ids_come_from_postgresql_sequences_shared_by_every_connection(pg_url: db.PostgresUrl) -> None:
    first, second = db.connect(pg_url), db.connect(pg_url)
    try:
        ids = [
            db.next_id(first, "submission_seq"),
            db.next_id(second, "submission_seq"),
            db.next_id(first, "submission_seq"),
        ]
        assert ids == [1, 2, 3]
    finally:
        first.close()
        second.close()


@needs_pg
def test_a_cursor_sees_the_views_and_its_own_include_pending_choice(pg_url: db.PostgresUrl) -> None:
    con = db.connect(pg_url)
    try:
        plain, pending = db.cursor(con), db.cursor(con)
        pending.execute("set variable include_pending = true")
        assert db.scalar(plain, "select count(*) from current_observations") == 0
        assert db.scalar(pending, "select coalesce(getvariable('include_pending'), false)") is True
        assert db.scalar(plain, "select coalesce(getvariable('include_pending'), false)") is False
    finally:
        con.close()


@needs_pg
def test_a_rolled_back_transaction_leaves_postgresql_unchanged(pg_url: db.PostgresUrl) -> None:
    con = db.connect(pg_url)
    try:
        with pytest.raises(RuntimeError), db.transaction(con):
            db.audit(con, "tester", "probe", {})
            raise RuntimeError("stop")
        assert db.scalar(con, "select count(*) from audit_log where action = 'probe'") == 0
    finally:
        con.close()


@needs_pg
def test_the_later_revisions_index_exists_on_postgresql_only(pg_url: db.PostgresUrl, tmp_path: Path) -> None:
    """Migration 8 is PostgreSQL only: there the scorecard finds later revisions through the partial index;
    a DuckDB file records the version and has no index."""
    con = db.connect(pg_url)
    try:
        rows = backend.pg_rows(con, "select indexdef from pg_indexes where indexname = 'observations_later_revisions'")
        assert rows == [("CREATE INDEX observations_later_revisions ON public.observations USING btree (revision) "
                         "WHERE (revision <> 1)",)]  # fmt: skip
    finally:
        con.close()
    file_con = db.connect(tmp_path / "w.duckdb")
    try:
        assert db.scalar(file_con, "select max(version) from schema_version") == SCHEMA_VERSION == 8
        assert db.scalar(file_con, "select count(*) from duckdb_indexes() where table_name = 'observations'") == 0
    finally:
        file_con.close()
