"""Warehouse operations: `rebuild` keeps accounts and the audit log, the demo stays out of a real
warehouse, files are private to their owner, and a held warehouse gives one plain message.

Kills around a load's commit followed by a rebuild are in tests/test_kill.py.
"""

from __future__ import annotations

import contextlib
import os
import signal
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
import streamlit as st
import yaml
from streamlit.testing.v1 import AppTest

from etl.__main__ import main as etl_main
from etl.demo import demo_accounts, non_demo_content
from etl.load import load_bytes
from etl.rebuild import RebuildError, rebuild_warehouse
from monitor import auth, db, queries
from monitor.targets import TargetsConfig
from tests.conftest import TODAY, Warehouse, take_snapshot

ROOT = Path(__file__).resolve().parent.parent
RENTAL = "rental_housing_units"
BUSY = db.WarehouseBusy.message()
CURRENT = "select kpi_id, district_id, period, value, revision, submission_id from current_observations order by all"


def csv(rows: list[tuple[str, str, str, object]]) -> bytes:
    return ("指标编码,旗区,报送期,数值\n" + "".join(f"{k},{d},{p},{v}\n" for k, d, p, v in rows)).encode()


def load(w: Warehouse, cfg: TargetsConfig, name: str, data: bytes, user: str = "zhang_san", **kw: Any) -> Any:
    return load_bytes(name, data, cfg, "housing", user, w.con, archive=w.archive, today=TODAY, **kw)


def rows(con: Any, sql: str) -> list[tuple]:
    return con.execute(sql).fetchall()


@pytest.fixture
def targets_yaml(tmp_path: Path, cfg_dict: dict[str, Any]) -> Path:
    p = tmp_path / "targets.yaml"
    p.write_text(yaml.safe_dump(cfg_dict, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return p


# -- rebuild ------------------------------------------------------------------------------------------


@pytest.mark.duckdb_file
def test_rebuild_keeps_accounts_audit_log_and_rejected_submissions_then_logs_the_rebuild(
    warehouse: Warehouse, cfg: TargetsConfig
) -> None:
    con = warehouse.con
    auth.add_user(con, "leader_wang", "wang-secret-1", "leader")
    auth.add_user(con, "zhangsan", "zhang-secret-1", "reporter", bureau_id="housing")
    auth.add_user(con, "lisi", "lisi-secret-1", "reporter", bureau_id="transport")
    auth.set_active(con, "lisi", False)  # disabled: session epoch 1
    auth.reset_password(con, "zhangsan", "zhang-secret-2")  # session epoch 1, new hash
    with pytest.raises(auth.AuthError):
        auth.sign_in(con, "leader_wang", "wrong-password")  # failed_count 1
    assert load(warehouse, cfg, "a.csv", csv([(RENTAL, "东胜区", "2025-03", 5)])).ok
    assert load(warehouse, cfg, "bad.csv", csv([(RENTAL, "全市", "2025-03", 1)])).outcome == "rejected"
    assert load(warehouse, cfg, "b.csv", csv([(RENTAL, "东胜区", "2025-03", 6)])).ok  # revision 2
    users = rows(con, "select * from users order by user_name")
    audit = rows(con, "select * from audit_log order by event_id")
    submissions = rows(con, "select * exclude (submitted_at) from submissions order by submission_id")
    rejected = rows(con, "select * from rejected_rows order by all")
    current = rows(con, CURRENT)
    assert [u[0] for u in users] == ["leader_wang", "lisi", "zhangsan"]
    assert [s[0] for s in submissions] == [1, 2, 3] and len(rejected) == 1
    con.close()

    report = rebuild_warehouse(warehouse.path, cfg)

    assert (report.replayed, report.accounts, report.audit_events) == (2, 3, len(audit))
    assert report.notes_zh() == [f"已保留3个账号和{len(audit)}条审计日志"]
    con = db.connect(warehouse.path)
    try:
        assert rows(con, "select * from users order by user_name") == users  # hashes, states, epochs
        after = rows(con, "select * from audit_log order by event_id")
        assert after[:-1] == audit
        last = after[-1]
        assert (last[0], last[2], last[3]) == (audit[-1][0] + 1, "system", "rebuild")
        assert last[4] == '{"files": 2, "accounts": 3, "old_readable": true}'
        assert rows(con, "select * exclude (submitted_at) from submissions order by submission_id") == submissions
        assert rows(con, "select * from rejected_rows order by all") == rejected
        assert rows(con, CURRENT) == current
        # the kept accounts still sign in, and numbering goes on after the old warehouse's
        assert auth.sign_in(con, "zhangsan", "zhang-secret-2").user_name == "zhangsan"
        res = load_bytes(
            "c.csv", csv([(RENTAL, "东胜区", "2025-04", 1)]), cfg, "housing", "zhangsan", con,
            archive=warehouse.archive, today=TODAY,
        )  # fmt: skip
        assert res.submission_id == 4
    finally:
        con.close()


@pytest.mark.duckdb_file
def test_leftover_rebuild_file_from_an_interrupted_rebuild_is_harmless(
    warehouse: Warehouse, cfg: TargetsConfig
) -> None:
    assert load(warehouse, cfg, "a.csv", csv([(RENTAL, "东胜区", "2025-03", 5)])).ok
    current = rows(warehouse.con, CURRENT)
    warehouse.con.close()
    fresh = warehouse.path.with_name(warehouse.path.name + ".rebuild")
    fresh.write_bytes(b"half a rebuild")
    fresh.with_name(fresh.name + ".wal").write_bytes(b"its WAL")

    assert rebuild_warehouse(warehouse.path, cfg).replayed == 1

    assert not fresh.exists() and not fresh.with_name(fresh.name + ".wal").exists()
    con = db.connect(warehouse.path, read_only=True)
    try:
        assert rows(con, CURRENT) == current
    finally:
        con.close()


@pytest.mark.duckdb_file
def test_rebuild_refuses_when_an_accepted_submission_has_no_archived_file(
    warehouse: Warehouse, cfg: TargetsConfig, targets_yaml: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert load(warehouse, cfg, "a.csv", csv([(RENTAL, "东胜区", "2025-03", 5)])).ok
    unarchived = load_bytes(
        "b.csv", csv([(RENTAL, "东胜区", "2025-04", 6)]), cfg, "housing", "x", warehouse.con, archive=None, today=TODAY
    )
    assert unarchived.submission_id == 2
    before = take_snapshot(warehouse.con)
    warehouse.con.close()

    with pytest.raises(RebuildError) as info:
        rebuild_warehouse(warehouse.path, cfg)
    assert info.value.zh == (
        "第2号报送已导入，但归档中没有它的文件，重建会丢失这些数据；"
        "数据库未做任何更改（确认要丢弃它们时加 --allow-missing）"
    )
    assert etl_main(["--db", str(warehouse.path), "--targets", str(targets_yaml), "rebuild"]) == 1
    assert "第2号报送已导入，但归档中没有它的文件" in capsys.readouterr().err
    con = db.connect(warehouse.path)
    try:
        assert take_snapshot(con) == before
    finally:
        con.close()
    report = rebuild_warehouse(warehouse.path, cfg, allow_missing=True)
    assert (report.replayed, report.missing) == (1, ["2"])


@pytest.mark.duckdb_file
def test_rebuild_of_an_unreadable_warehouse_sets_it_aside_and_replays_the_archive(
    warehouse: Warehouse, cfg: TargetsConfig
) -> None:
    assert load(warehouse, cfg, "a.csv", csv([(RENTAL, "东胜区", "2025-03", 5)])).ok
    current = rows(warehouse.con, CURRENT)
    warehouse.con.close()
    warehouse.path.write_bytes(b"not a DuckDB file at all")

    report = rebuild_warehouse(warehouse.path, cfg)

    assert (report.replayed, report.old_readable) == (1, False)
    assert report.set_aside is not None and report.set_aside.read_bytes() == b"not a DuckDB file at all"
    assert report.notes_zh()[0] == "原数据库无法打开：已重放归档中的全部文件，账号和审计日志无法保留"
    con = db.connect(warehouse.path, read_only=True)
    try:
        assert rows(con, CURRENT) == current
    finally:
        con.close()


@pytest.mark.duckdb_file
def test_rebuild_matches_sidecars_of_a_renumbered_warehouse_by_file_and_time(
    warehouse: Warehouse, cfg: TargetsConfig
) -> None:
    """A warehouse rebuilt by the earlier rebuild numbered its submissions afresh: the sidecars still
    carry the first numbers, so they are matched by file hash and submission time instead."""
    assert load(warehouse, cfg, "a.csv", csv([(RENTAL, "东胜区", "2025-03", 5)])).ok
    assert load(warehouse, cfg, "b.csv", csv([(RENTAL, "东胜区", "2025-03", 6)])).ok
    for table in ("observations", "submissions"):
        warehouse.con.execute(f"update {table} set submission_id = submission_id + 10")
    current = rows(warehouse.con, CURRENT)
    assert [r[-1] for r in current] == [12]
    warehouse.con.close()

    report = rebuild_warehouse(warehouse.path, cfg)

    assert (report.replayed, report.missing, report.uncommitted) == (2, [], [])
    con = db.connect(warehouse.path, read_only=True)
    try:
        assert rows(con, CURRENT) == current
        assert rows(con, "select submission_id, file_name from submissions order by 1") == [
            (11, "a.csv"),
            (12, "b.csv"),
        ]
    finally:
        con.close()


def test_a_load_that_rolls_back_removes_its_sidecar(
    warehouse: Warehouse, cfg: TargetsConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert load(warehouse, cfg, "a.csv", csv([(RENTAL, "东胜区", "2025-03", 5)])).ok
    before = take_snapshot(warehouse.con)
    sidecars = sorted(p.name for p in warehouse.archive.glob("*.json"))

    def failing_audit(*args: object, **kwargs: object) -> None:  # the last statement before the commit
        raise duckdb.IOException("No space left on device")

    monkeypatch.setattr(db, "audit", failing_audit)
    with pytest.raises(duckdb.IOException):
        load(warehouse, cfg, "b.csv", csv([(RENTAL, "东胜区", "2025-04", 6)]))
    monkeypatch.undo()
    assert take_snapshot(warehouse.con) == before
    assert sorted(p.name for p in warehouse.archive.glob("*.json")) == sidecars  # none for b.csv
    warehouse.con.close()
    assert rebuild_warehouse(warehouse.path, cfg).replayed == 1


# -- demo guard -----------------------------------------------------------------------------------------


def demo_cli(targets_yaml: Path, path: Path, *extra: str) -> int:
    return etl_main(["--db", str(path), "--targets", str(targets_yaml), "demo", "--until", "2024-12", *extra])


REFUSAL = (
    "数据库中已有非演示的账号（{a}个）或报送（{s}份），不能导入演示数据：演示数据只能导入空数据库或演示数据库。"
    "请用 --db 指定一个新的数据库文件。\n"
    "The warehouse holds {a} account(s) and {s} submission(s) that are not demo data; the demo dataset loads only "
    "into an empty or demo warehouse. Use --db with a new file.\n"
)


@pytest.mark.parametrize("content", ["account", "submission", "demo_named_account"])
def test_demo_refuses_a_warehouse_with_real_accounts_or_submissions(
    warehouse: Warehouse, cfg: TargetsConfig, targets_yaml: Path, capsys: pytest.CaptureFixture[str], content: str
) -> None:
    if content == "account":
        auth.add_user(warehouse.con, "zhangsan", "zhang-secret-1", "reporter", bureau_id="housing")
    elif content == "demo_named_account":  # a real admin who happens to be called admin
        auth.add_user(warehouse.con, "admin", "a-real-secret", "admin")
    else:
        assert load(warehouse, cfg, "a.csv", csv([(RENTAL, "东胜区", "2025-03", 5)])).ok
    before = take_snapshot(warehouse.con)
    users = rows(warehouse.con, "select user_name from users order by all")
    warehouse.con.close()
    # the command line reloads targets.yaml from its file (one targets_reload event); nothing else may change
    assert demo_cli(targets_yaml, warehouse.path, "--if-empty") == 0
    capsys.readouterr()
    before["audit_log"] += 1

    assert demo_cli(targets_yaml, warehouse.path) == 2
    out = capsys.readouterr()
    a, s = (0, 1) if content == "submission" else (1, 0)
    assert (out.out, out.err) == ("", REFUSAL.format(a=a, s=s))
    # --if-empty (scripts/run.sh) skips quietly instead, so the app still starts
    assert demo_cli(targets_yaml, warehouse.path, "--if-empty") == 0
    assert capsys.readouterr().out == "数据库已有数据，跳过演示数据。\n"
    con = db.connect(warehouse.path, read_only=True)
    try:
        assert take_snapshot(con) == before
        assert rows(con, "select user_name from users order by all") == users
        assert db.get_meta(con, "dataset") is None
        assert not queries.is_demo(con)
    finally:
        con.close()


def test_demo_passwords_are_listed_only_while_everything_is_demo(
    tmp_path: Path, cfg: TargetsConfig, targets_yaml: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "demo" / "w.duckdb"
    assert demo_cli(targets_yaml, path, "--if-empty") == 0  # an empty warehouse: run.sh loads the demo
    assert capsys.readouterr().out.startswith("演示数据（合成，非真实数据）已导入：")
    con = db.connect(path)
    try:
        assert db.get_meta(con, "dataset") == "demo"
        names = sorted(u for u, *_ in demo_accounts(cfg))
        assert rows(con, "select user_name from users order by all") == [(n,) for n in names]
        assert (queries.is_demo(con), non_demo_content(con)) == (True, (0, 0))
        # a demo reporter uploading in the demo keeps it a demo
        up = csv([(RENTAL, "东胜区", "2025-01", 3)])
        assert load_bytes("up.csv", up, cfg, "housing", "housing", con, archive=db.archive_dir(path), today=TODAY).ok
        assert queries.is_demo(con)
        auth.reset_password(con, "admin", "now-a-real-one")  # no longer the published password
        assert (queries.is_demo(con), non_demo_content(con)) == (False, (1, 0))
    finally:
        con.close()
    assert demo_cli(targets_yaml, path) == 2
    assert capsys.readouterr().err == REFUSAL.format(a=1, s=0)

    other = tmp_path / "demo2" / "w.duckdb"
    assert demo_cli(targets_yaml, other) == 0
    con = db.connect(other)
    try:
        real = csv([(RENTAL, "东胜区", "2025-01", 3)])
        assert load_bytes(
            "real.csv", real, cfg, "housing", "zhangsan", con, archive=db.archive_dir(other), today=TODAY
        ).ok
        assert (queries.is_demo(con), non_demo_content(con)) == (False, (0, 1))
    finally:
        con.close()


# -- file permissions -----------------------------------------------------------------------------------


@contextlib.contextmanager
def usual_umask() -> Iterator[None]:
    """022 as on a fresh login, so the test fails unless the warehouse code makes its files private."""
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def mode(p: Path) -> int:
    return stat.S_IMODE(os.stat(p).st_mode)


@pytest.mark.duckdb_file
def test_warehouse_wal_and_archive_are_readable_by_their_owner_only(tmp_path: Path, cfg: TargetsConfig) -> None:
    path = tmp_path / "data" / "w.duckdb"
    data = csv([(RENTAL, "东胜区", "2025-03", 5)])
    with usual_umask():
        con = db.connect(path)
        try:
            db.load_reference(con, cfg)
            res = load_bytes("a.csv", data, cfg, "housing", "x", con, archive=db.archive_dir(path), today=TODAY)
            wal = path.with_name(path.name + ".wal")
            assert wal.exists()  # committed, not yet checkpointed
            archive = db.archive_dir(path)
            assert {p.name: mode(p) for p in [path.parent, path, wal, archive, *archive.iterdir()]} == {
                "data": 0o700,
                "w.duckdb": 0o600,
                "w.duckdb.wal": 0o600,
                "archive": 0o700,
                f"{res.sha256}.csv": 0o600,
                f"{res.sha256}.1.json": 0o600,
            }
        finally:
            con.close()
        rebuild_warehouse(path, cfg)
        assert mode(path) == 0o600
        con = db.connect(path)
        try:
            con.execute("insert into meta values ('probe', 'x')")
            assert mode(path.with_name(path.name + ".wal")) == 0o600
        finally:
            con.close()


# -- lock conflicts -------------------------------------------------------------------------------------

HOLD = """
import sys, time
from monitor import db
con = db.connect(sys.argv[1])
print("HOLDING", flush=True)
time.sleep(600)
"""


@contextlib.contextmanager
def held(path: Path) -> Iterator[None]:
    """Another process holds the warehouse read-write, as the running app or a long load does."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(path)], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "HOLDING"
        yield
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        if child.stdout:
            child.stdout.close()


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.duckdb_file
def test_commands_on_a_held_warehouse_exit_2_with_one_plain_message(
    warehouse: Warehouse, cfg: TargetsConfig, targets_yaml: Path, tmp_path: Path
) -> None:
    assert load(warehouse, cfg, "a.csv", csv([(RENTAL, "东胜区", "2025-03", 5)])).ok
    before = take_snapshot(warehouse.con)
    warehouse.con.close()
    report = tmp_path / "b.csv"
    report.write_bytes(csv([(RENTAL, "东胜区", "2025-04", 6)]))
    path = str(warehouse.path)
    with held(warehouse.path):
        runs = {
            "scorecard": run_cli("monitor", "scorecard", "--as-of", "2025-03", "--db", path),
            "load": run_cli(
                "etl",
                "--db",
                path,
                "--targets",
                str(targets_yaml),
                "load",
                str(report),
                "--bureau",
                "housing",
                "--user",
                "x",
            ),
            "rebuild": run_cli("etl", "--db", path, "--targets", str(targets_yaml), "rebuild"),
        }
    for name, run in runs.items():
        assert (run.returncode, run.stdout, run.stderr) == (2, "", BUSY + "\n"), name
    assert path not in BUSY and "PID" not in BUSY
    assert BUSY.startswith("数据库正被另一个程序使用（正在运行的应用，或正在执行的命令行导入、重建）。")
    con = db.connect(warehouse.path, read_only=True)
    try:
        assert take_snapshot(con) == before
    finally:
        con.close()


@pytest.mark.duckdb_file
def test_app_started_while_the_warehouse_is_held_shows_the_message_not_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "w.duckdb"
    db.connect(path).close()
    monkeypatch.setenv("MONITOR_DB", str(path))
    st.cache_resource.clear()
    st.cache_data.clear()
    try:
        with held(path):
            at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
            assert not at.exception, [e.value for e in at.exception]
            assert [e.value for e in at.error] == [f"{db.WarehouseBusy.message_zh}\n\n{db.WarehouseBusy.message_en}"]
        # once the other process is done, the next run opens the warehouse (nothing was cached)
        at.run()
        assert not at.exception and not at.error
    finally:
        st.cache_resource.clear()
        st.cache_data.clear()
