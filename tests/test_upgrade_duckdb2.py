"""scripts/upgrade-duckdb2.sh: a warehouse file written by DuckDB 2.0.1 (every installation before the
pin moved to DuckDB 1.4 LTS) becomes one this version opens, with every row, the same scorecard and
sequences that continue; the original stays as FILE.duckdb2-backup. It refuses, changing nothing,
when the file is missing, in use, already readable or its backup name is taken.

The fixture tests/fixtures/warehouse-duckdb2.duckdb.gz was written by duckdb 2.0.1
(tests/fixtures/make_warehouse_duckdb2.py: the demo's reference data, accounts and audit log, four
bureaus' figures, one 督办 action); warehouse-duckdb2.scorecard.json holds the scorecard that the
code of the 2.0.1 pin computed on it, for the whole city and for 东胜区, as of 2026-10.
The conversion installs duckdb==2.0.1 from the package registry; without it those tests are skipped.
"""

from __future__ import annotations

import fcntl
import gzip
import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from etl import upgrade_duckdb2 as upgrade
from monitor import db
from monitor.schema import SCHEMA_VERSION, SEQUENCES

pytestmark = pytest.mark.duckdb_file

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "upgrade-duckdb2.sh"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
TRUTH = json.loads((FIXTURES / "warehouse-duckdb2.scorecard.json").read_text(encoding="utf-8"))

# what duckdb 2.0.1 counted in the fixture (make_warehouse_duckdb2.py: 4 bureaus' 115 submissions)
ROWS = {
    "action_steps": 2,
    "actions": 1,
    "audit_log": 518,  # the last one (a sign-in) in the WAL only
    "bureau_review": 0,
    "bureaus": 24,
    "districts": 11,
    "entry_drafts": 0,
    "explanations": 4,
    "kpis": 114,
    "load_warnings": 0,
    "meta": 2,
    "observation_notes": 3,
    "observations": 2664,
    "rejected_rows": 0,
    "schema_version": 7,
    "sessions": 1,  # in the WAL only
    "submissions": 115,
    "target_settings": 0,
    "targets": 66,
    "users": 36,
}


def unpack_fixture(target: Path) -> Path:
    """The fixture and its write-ahead log (target.wal), which holds the last sign-in only."""
    for packed_name, unpacked in (
        ("warehouse-duckdb2.duckdb.gz", target),
        ("warehouse-duckdb2.duckdb.wal.gz", wal(target)),
    ):
        with gzip.open(FIXTURES / packed_name) as packed, unpacked.open("wb") as out:
            shutil.copyfileobj(packed, out)
    return target


def wal(path: Path) -> Path:
    return path.with_name(path.name + ".wal")


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run_script(*args: str | Path, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(SCRIPT), *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=600, check=False
    )


def table_rows(path: Path) -> dict[str, int]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        names = [name for (name,) in con.execute("select table_name from duckdb_tables() order by 1").fetchall()]
        return {name: con.execute(f"select count(*) from {name}").fetchone()[0] for name in names}
    finally:
        con.close()


@pytest.fixture(scope="module")
def upgraded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str, subprocess.CompletedProcess[str]]]:
    """The fixture converted once by the script (its pip step takes a while): (file, original's and its
    WAL's sha, run)."""
    path = unpack_fixture(tmp_path_factory.mktemp("upgrade") / "warehouse.duckdb")
    original = sha256(path) + sha256(wal(path))
    result = run_script(path.name, cwd=path.parent)  # a relative path, as a user types it
    if result.returncode == 3:
        pytest.skip("duckdb==2.0.1 cannot be installed: the package registry is not reachable")
    assert result.returncode == 0, result.stdout + result.stderr
    yield path, original, result


def test_every_table_keeps_exactly_its_rows(upgraded: tuple[Path, str, subprocess.CompletedProcess[str]]) -> None:
    path, _, result = upgraded
    assert table_rows(path) == ROWS | {"schema_version": SCHEMA_VERSION}
    assert "  observations：2664 行，与导出一致" in result.stdout.splitlines()
    assert "  已用 DuckDB 2.0.1 只读打开并导出：20 张表，3568 行" in result.stdout.splitlines()


def test_the_original_is_kept_unchanged_as_backup(upgraded: tuple[Path, str, subprocess.CompletedProcess[str]]) -> None:
    path, original, result = upgraded
    backup = path.with_name("warehouse.duckdb.duckdb2-backup")
    assert sha256(backup) + sha256(wal(backup)) == original  # the backup opens with 2.x as the original did
    assert f"  原文件已改名保留：{backup}" in result.stdout.splitlines()
    assert f"  原日志文件（WAL）已改名保留：{wal(backup)}" in result.stdout.splitlines()
    assert sorted(p.name for p in path.parent.iterdir()) == [
        "warehouse.duckdb",
        "warehouse.duckdb.duckdb2-backup",
        "warehouse.duckdb.duckdb2-backup.wal",
    ]
    assert path.stat().st_mode & 0o777 == backup.stat().st_mode & 0o777


def scorecard(path: Path, *district: str) -> dict[str, dict[str, object]]:
    extra = ["--district", *district] if district else []
    command = [
        sys.executable,
        "-m",
        "monitor",
        "scorecard",
        "--db",
        str(path),
        "--as-of",
        "2026-10",
        "--format",
        "json",
    ]
    result = subprocess.run([*command, *extra], cwd=ROOT, capture_output=True, text=True, timeout=300, check=True)
    return {r["target_id"]: {"status": r["status"], "actual": r["actual"]} for r in json.loads(result.stdout)}


def test_scorecard_is_the_one_duckdb_2_computed(upgraded: tuple[Path, str, subprocess.CompletedProcess[str]]) -> None:
    path, _, _ = upgraded
    city = scorecard(path)
    assert city == TRUTH["scorecard"]["city"]
    assert scorecard(path, "dongsheng") == TRUTH["scorecard"]["dongsheng"]
    # by hand from the fixture: housing's returned correction (submission 475) does not count
    assert city["rental_housing_15k"] == {"status": "on_track", "actual": 12383.0}
    assert city["talents_50k_2025"] == {"status": "overdue", "actual": 48036.0}
    assert city["soe_graduate_share_30"] == {"status": "off_track", "actual": 29.5}
    assert sum(row["status"] == "no_data" for row in city.values()) == 57


def test_sequences_continue_after_the_highest_id(
    upgraded: tuple[Path, str, subprocess.CompletedProcess[str]], tmp_path: Path
) -> None:
    path, _, result = upgraded
    copy = tmp_path / "copy.duckdb"
    shutil.copy(path, copy)  # next_id advances the sequence: not on the shared file
    con = db.connect(copy)
    try:
        numbers = {name: db.next_id(con, name) for name in sorted(SEQUENCES)}
    finally:
        con.close()
    assert numbers == {
        "action_seq": 2,
        "action_step_seq": 3,
        "audit_seq": 519,
        "explanation_seq": 5,
        "submission_seq": 476,
        "target_setting_seq": 1,
    }
    assert "  序列 submission_seq：下一个编号 476（submissions 最大编号 475）" in result.stdout.splitlines()


def test_a_second_run_refuses_the_converted_file(upgraded: tuple[Path, str, subprocess.CompletedProcess[str]]) -> None:
    path, _, _ = upgraded
    before = sha256(path)
    result = run_script(path)
    assert (result.returncode, result.stderr.strip()) == (2, upgrade._current(path))
    assert sha256(path) == before


# --- refusals: checked before anything is installed, so they need no registry -----------------------


def test_refuses_a_missing_file(tmp_path: Path) -> None:
    result = run_script(tmp_path / "nowhere.duckdb")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"找不到数据库文件：{tmp_path / 'nowhere.duckdb'}\nNo such warehouse file: {tmp_path / 'nowhere.duckdb'}"
    )
    assert result.stdout == ""


def test_refuses_without_a_file_argument() -> None:
    result = run_script()
    assert (result.returncode, result.stderr.strip()) == (
        2,
        "用法 / usage: scripts/upgrade-duckdb2.sh <数据库文件 / warehouse file>",
    )


def test_refuses_a_file_duckdb_1_4_already_reads(tmp_path: Path) -> None:
    path = tmp_path / "warehouse.duckdb"
    db.connect(path).close()
    before = sha256(path)
    result = run_script(path)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"数据库文件已可由本版本（DuckDB 1.4 LTS）直接打开，无需转换：{path}\n"
        f"The warehouse file already opens with this version (DuckDB 1.4 LTS); nothing to convert: {path}"
    )
    assert sha256(path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["warehouse.duckdb"]


def test_refuses_a_file_the_running_app_holds(tmp_path: Path) -> None:
    path = tmp_path / "warehouse.duckdb"
    con = db.connect(path)  # DuckDB's own lock, as the app holds it
    try:
        result = run_script(path)
    finally:
        con.close()
    assert result.returncode == 2
    assert result.stderr.strip() == upgrade._held(path)
    assert result.stderr.startswith(f"数据库文件正被另一个程序使用：{path}。请先停止应用")


def test_refuses_a_2_x_file_an_old_app_still_holds(tmp_path: Path) -> None:
    """DuckDB 2.0.1 holds its file with the same fcntl lock; this process takes it as the old app would."""
    path = unpack_fixture(tmp_path / "warehouse.duckdb")
    with path.open("r+b") as held:
        fcntl.lockf(held, fcntl.LOCK_EX)
        result = run_script(path)
    assert (result.returncode, result.stderr.strip()) == (2, upgrade._held(path))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["warehouse.duckdb", "warehouse.duckdb.wal"]


def test_refuses_to_overwrite_an_earlier_backup(tmp_path: Path) -> None:
    path = unpack_fixture(tmp_path / "warehouse.duckdb")
    backup = tmp_path / "warehouse.duckdb.duckdb2-backup"
    backup.write_bytes(b"an earlier backup")
    result = run_script(path)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"备份文件已存在：{backup}。为免覆盖已有备份，请先将其移走或改名，再运行本脚本。\n"
        f"The backup file already exists: {backup}. Move or rename it first, then run this script again."
    )
    assert backup.read_bytes() == b"an earlier backup"


def test_refuses_a_file_that_is_no_warehouse(tmp_path: Path) -> None:
    path = tmp_path / "notes.duckdb"
    path.write_text("监测报表说明\n" * 1000, encoding="utf-8")
    result = run_script(path)
    assert result.returncode == 2
    assert result.stderr.startswith(f"无法识别的数据库文件，未做任何改动：{path}（")
    assert path.read_text(encoding="utf-8") == "监测报表说明\n" * 1000


# --- the steps that need no DuckDB 2.x ---------------------------------------------------------------


def test_a_sequence_exported_behind_its_table_continues_after_the_highest_id() -> None:
    """An export whose START is behind the table would hand out an id twice: the sequence is made again."""
    con = duckdb.connect()
    con.execute("create table submissions (submission_id integer primary key)")
    con.execute("insert into submissions select range from range(1, 10)")  # ids 1..9
    con.execute("create sequence submission_seq start 4")
    con.execute("create table audit_log (event_id bigint primary key)")
    con.execute("create sequence audit_seq start 12")  # ahead of an empty table: kept
    lines = upgrade._continue_sequences(con, {"submission_seq": 4, "audit_seq": 12})
    assert upgrade.next_value(con, "submission_seq") == 10
    assert con.execute("select nextval('submission_seq')").fetchone()[0] == 10
    assert upgrade.next_value(con, "audit_seq") == 12
    assert lines == [
        "  序列 audit_seq：下一个编号 12（audit_log 暂无记录）",
        "  序列 submission_seq：下一个编号 10（submissions 最大编号 9），已修正起始值",
    ]


def test_views_are_taken_out_of_the_export_schema(tmp_path: Path) -> None:
    (tmp_path / "schema.sql").write_text(
        "CREATE SEQUENCE audit_seq START 3;\nCREATE TABLE kpis(kpi_id VARCHAR);\n"
        "CREATE VIEW city_values AS SELECT * FROM current_observations;\n"
        "CREATE VIEW current_observations AS SELECT kpi_id FROM kpis;\n\n",
        encoding="utf-8",
    )
    assert upgrade._without_views(tmp_path) == 2
    assert (tmp_path / "schema.sql").read_text(encoding="utf-8") == (
        "CREATE SEQUENCE audit_seq START 3;\nCREATE TABLE kpis(kpi_id VARCHAR);\n"
    )


def test_the_file_is_not_replaced_when_it_changed_after_the_export(tmp_path: Path) -> None:
    path = tmp_path / "warehouse.duckdb"
    path.write_bytes(b"as exported")
    exported = upgrade.fingerprint(path)
    path.write_bytes(b"an old app wrote after the export")
    target = tmp_path / "warehouse.duckdb.upgrading"
    target.write_bytes(b"converted")
    with pytest.raises(upgrade.Refused) as refused:
        upgrade._swap(path, target, exported)
    assert str(refused.value).startswith(
        f"转换期间数据库文件被修改（可能有旧版本的应用仍在运行）：原文件未替换，仍可由旧版本使用：{path}。"
    )
    assert path.read_bytes() == b"an old app wrote after the export"
    assert not (tmp_path / "warehouse.duckdb.duckdb2-backup").exists()


def test_the_script_runs_as_a_command() -> None:
    assert os.access(SCRIPT, os.X_OK)
    assert SCRIPT.read_text(encoding="utf-8").startswith("#!/usr/bin/env bash\n")
