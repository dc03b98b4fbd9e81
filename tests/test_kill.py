"""A load killed with SIGKILL inside its transaction leaves the warehouse readable and without partial
rows, and the next load (of the same file) succeeds.

A child process opens the warehouse and loads a 300,000-row report (a synthetic config: the conftest
config plus 1,100 KPIs of the housing bureau, the idea of bench/bench_load.py). It prints a marker
from inside the open transaction and holds there, so the kill surely lands in it:

- during_insert: the connection is wrapped so that the marker is printed just before the
  `insert into observations` of the 300,000 rows, which then runs (and sleeps after): the kill
  lands in the middle of the insert, or right after it, uncommitted either way;
- before_commit: monitor.db.audit, the last statement of the transaction, prints the marker after
  the observations, the submission and the audit row are written, and sleeps before the commit.

The parent kills the child on the marker, reopens the file (DuckDB replays or discards its WAL) and
expects exactly the state before the kill.

A small load is also killed (the child SIGKILLs itself) right after its commit, right before it, and
after a whole upload (a killed app); `rebuild` on the file and WAL left behind must then reproduce
current_observations and the submissions exactly as DuckDB recovers them, including the killed load's
submission when it committed (its archive sidecar is written before the commit).
"""

from __future__ import annotations

import copy
import datetime as dt
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from etl.archive import sha256
from etl.load import load_bytes
from monitor import db
from monitor.targets import TargetsConfig, parse_targets
from tests.conftest import DISTRICTS, TARGETS_DICT, TODAY, take_snapshot

ROOT = Path(__file__).resolve().parent.parent
N_KPIS = 1_100  # x 10 reporting units x 28 months (2024-07..2026-10) = 308,000 distinct keys
BIG_ROWS = 300_000
MARKER = "IN_TRANSACTION"

CHILD = f"""
import sys, time
from pathlib import Path

from etl.load import load_bytes
from monitor import db
from tests.conftest import TODAY
from tests.test_kill import kill_config

path, report, where = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
con = db.connect(path)
real_audit = db.audit


def audit_then_hold(*args, **kwargs):
    real_audit(*args, **kwargs)
    print("{MARKER}", flush=True)
    time.sleep(600)


class InsertThenHold:
    def __init__(self, con):
        self._con = con

    def __getattr__(self, name):
        return getattr(self._con, name)

    def execute(self, sql, *args):
        if sql.lstrip().startswith("insert into observations"):
            print("{MARKER}", flush=True)
            result = self._con.execute(sql, *args)
            time.sleep(600)
            return result
        return self._con.execute(sql, *args)


if where == "before_commit":
    db.audit = audit_then_hold
else:
    con = InsertThenHold(con)
data = report.read_bytes()
load_bytes("big.csv", data, kill_config(), "housing", "killed", con, archive=path.parent / "archive", today=TODAY)
print("FINISHED", flush=True)  # never reached: the parent kills on the marker
"""


def kill_config() -> TargetsConfig:
    raw: dict[str, Any] = copy.deepcopy(TARGETS_DICT)
    raw["kpis"] += [
        {
            "id": f"kill_kpi_{i:04d}",
            "section": "测试",
            "name_zh": f"合成指标{i:04d}",
            "name_en": f"Synthetic KPI {i:04d}",
            "unit_zh": "人",
            "unit_en": "people",
            "value_type": "count",
            "reporting": "increment",
            "aggregation": "sum",
            "lead": "housing",
            "source": "合成（测试）",
        }
        for i in range(N_KPIS)
    ]
    return parse_targets(raw)


def big_report(n_rows: int) -> bytes:
    """n_rows distinct, valid (KPI, district, month) rows of the synthetic KPIs."""
    units = [d["name_zh"] for d in DISTRICTS if d["kind"] != "city"]
    # up to the last month that has ended on TODAY (2026-11-26): a month is reported from the 1st of the next
    months = pd.date_range("2024-07-01", "2026-10-01", freq="MS").strftime("%Y-%m").to_numpy()
    idx = np.arange(n_rows)
    kpi = idx // (len(units) * len(months))
    assert kpi.max() < N_KPIS
    frame = pd.DataFrame(
        {
            "指标编码": np.char.add("kill_kpi_", np.char.zfill(kpi.astype(str), 4)),
            "旗区": np.asarray(units, dtype=object)[idx % len(units)],
            "报送期": months[(idx // len(units)) % len(months)],
            "数值": np.random.default_rng(477).integers(0, 5_000, n_rows),
        }
    )
    return frame.to_csv(index=False).encode()


def small_report(rows: list[tuple[str, str, str, int]]) -> bytes:
    return ("指标编码,旗区,报送期,数值\n" + "".join(f"{k},{d},{p},{v}\n" for k, d, p, v in rows)).encode()


def kill_inside_the_load(path: Path, report: Path, where: str) -> None:
    """Run the child until it reports being inside the transaction, then SIGKILL it."""
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    log = path.with_name("child.stderr")
    with log.open("w") as err:
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(path), str(report), where],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
        )
    guard = threading.Timer(300, child.kill)  # a child that never reaches the marker cannot hang the suite
    guard.start()
    seen: list[str] = []
    try:
        assert child.stdout is not None
        for line in iter(child.stdout.readline, ""):
            if line.strip() == MARKER:
                os.kill(child.pid, signal.SIGKILL)
                break
            seen.append(line.strip())
        child.wait()
    finally:
        guard.cancel()
        if child.stdout:
            child.stdout.close()
    stderr = log.read_text()[-3000:]
    assert seen == [], (seen, stderr)  # nothing printed before the marker (and never FINISHED)
    assert child.returncode == -signal.SIGKILL, (child.returncode, stderr)


@pytest.mark.parametrize("where", ["during_insert", "before_commit"])
def test_sigkill_inside_the_load_transaction_leaves_no_partial_rows(tmp_path: Path, where: str) -> None:
    cfg = kill_config()
    path = tmp_path / "warehouse.duckdb"
    archive = db.archive_dir(path)
    con = db.connect(path)
    try:
        db.load_reference(con, cfg)
        first = small_report(
            [("rental_housing_units", "东胜区", "2025-03", 5), ("kill_kpi_0000", "东胜区", "2025-03", 7)]
        )
        res = load_bytes("first.csv", first, cfg, "housing", "tester", con, archive=archive, today=TODAY)
        assert res.outcome == "accepted"
        before = take_snapshot(con)
    finally:
        con.close()
    report = tmp_path / "big.csv"
    data = big_report(BIG_ROWS)
    report.write_bytes(data)

    kill_inside_the_load(path, report, where)

    con = db.connect(path)  # replays (or discards) the WAL the killed process left
    try:
        assert take_snapshot(con) == before
        assert db.scalar(con, "select count(*) from observations") == 2
        assert db.scalar(con, "select count(*) from submissions where sha256 = ?", [sha256(data)]) == 0
        assert db.scalar(con, "select count(*) from audit_log where user_name = 'killed'") == 0
        orphans = "select count(*) from observations where submission_id not in (select submission_id from submissions)"
        assert db.scalar(con, orphans) == 0
        con.execute("checkpoint")

        # the next loads succeed: a small file, then the very file that was being loaded
        second = small_report([("rental_housing_units", "康巴什区", "2025-03", 6)])
        res = load_bytes("second.csv", second, cfg, "housing", "tester", con, archive=archive, today=TODAY)
        assert (res.outcome, res.rows_loaded) == ("accepted", 1), [p.zh() for p in res.problems]
        res = load_bytes("big.csv", data, cfg, "housing", "tester", con, archive=archive, today=TODAY)
        assert res.outcome == "accepted", [p.zh() for p in res.problems[:5]]
        # one of its keys (kill_kpi_0000, 东胜区, 2025-03) came with first.csv: revised or unchanged
        assert res.rows_total == BIG_ROWS
        assert res.rows_loaded >= BIG_ROWS - 1
    finally:
        con.close()

    con = db.connect(path, read_only=True)
    try:
        assert db.scalar(con, "select count(*) from current_observations") == 3 + BIG_ROWS - 1
        assert db.scalar(con, "select count(*) from submissions where outcome = 'accepted'") == 3
        dupes = """
            select count(*) from (
                select kpi_id, district_id, period, revision from observations group by all having count(*) > 1
            )
        """
        assert db.scalar(con, dupes) == 0
    finally:
        con.close()


# -- kills around the commit of a small load, then `rebuild` -------------------------------------------

SMALL_CHILD = """
import os, signal, sys
from contextlib import contextmanager
from pathlib import Path

from etl.load import load_bytes
from monitor import db
from monitor.targets import parse_targets
from tests.conftest import TARGETS_DICT, TODAY

path, report, where = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
con = db.connect(path)
real_transaction, real_audit = db.transaction, db.audit


@contextmanager
def commit_then_die(con):
    with real_transaction(con) as inner:
        yield inner
    os.kill(os.getpid(), signal.SIGKILL)  # committed: nothing after the commit runs


def audit_then_die(*args, **kwargs):
    real_audit(*args, **kwargs)  # the last statement of the load's transaction
    os.kill(os.getpid(), signal.SIGKILL)  # everything written, nothing committed


if where == "after_commit":
    db.transaction = commit_then_die
elif where == "before_commit":
    db.audit = audit_then_die
cfg = parse_targets(TARGETS_DICT)
res = load_bytes("killed.csv", report.read_bytes(), cfg, "housing", "killed", con,
                 archive=path.parent / "archive", today=TODAY)
assert res.outcome == "accepted", res.problems
if where == "app_after_upload":  # the app: an upload went through, then the server was killed
    os.kill(os.getpid(), signal.SIGKILL)
print("FINISHED", flush=True)  # never reached
"""

CURRENT = "select kpi_id, district_id, period, value, revision, submission_id from current_observations order by all"
SUBMISSIONS = "select submission_id, sha256, outcome, user_name, file_name from submissions order by all"


def _state_of_a_copy(path: Path, into: Path) -> tuple[list[tuple], list[tuple]]:
    """current_observations and submissions as DuckDB recovers them from the file and WAL the killed
    process left (read from a copy, so the original stays exactly as the kill left it)."""
    into.mkdir()
    for f in path.parent.glob(path.name + "*"):
        (into / f.name).write_bytes(f.read_bytes())
    con = db.connect(into / path.name, read_only=True)
    try:
        return con.execute(CURRENT).fetchall(), con.execute(SUBMISSIONS).fetchall()
    finally:
        con.close()


@pytest.mark.parametrize("where", ["after_commit", "before_commit", "app_after_upload"])
def test_rebuild_after_a_sigkill_around_the_commit_reproduces_every_committed_submission(
    tmp_path: Path, cfg: TargetsConfig, where: str
) -> None:
    from etl.rebuild import rebuild_warehouse

    path = tmp_path / "warehouse.duckdb"
    archive = db.archive_dir(path)
    con = db.connect(path)
    try:
        db.load_reference(con, cfg)
        first = small_report([("rental_housing_units", "东胜区", "2025-03", 5)])
        second = small_report([("rental_housing_units", "东胜区", "2025-03", 7)])  # revision 2
        for name, data in (("first.csv", first), ("second.csv", second)):
            assert load_bytes(name, data, cfg, "housing", "tester", con, archive=archive, today=TODAY).ok
    finally:
        con.close()
    report = tmp_path / "killed.csv"
    killed = small_report(
        [("rental_housing_units", "康巴什区", "2025-04", 9), ("rental_housing_units", "东胜区", "2025-03", 8)]
    )
    report.write_bytes(killed)

    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    child = subprocess.run(
        [sys.executable, "-c", SMALL_CHILD, str(path), str(report), where],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert child.returncode == -signal.SIGKILL, child.stderr[-3000:]
    assert "FINISHED" not in child.stdout
    sidecar = archive / f"{sha256(killed)}.3.json"
    assert sidecar.exists()  # written before the commit, in every case
    committed = where != "before_commit"
    if committed:
        assert path.with_name(path.name + ".wal").exists()  # committed, never checkpointed

    current, submissions = _state_of_a_copy(path, tmp_path / "as_killed")
    # the kill landed where intended: the third submission committed, or not at all
    assert ((3, sha256(killed), "accepted", "killed", "killed.csv") in submissions) is committed
    assert (("rental_housing_units", "kangbashi", dt.date(2025, 4, 1), 9.0, 1, 3) in current) is committed

    report_ = rebuild_warehouse(path, cfg)

    assert report_.replayed == (3 if committed else 2)
    assert not path.with_name(path.name + ".wal").exists()
    assert not path.with_name(path.name + ".rebuild").exists()
    for read_only in (False, True):  # the swapped-in file opens, with no stale WAL beside it
        con = db.connect(path, read_only=read_only)
        try:
            assert con.execute(CURRENT).fetchall() == current
            assert con.execute(SUBMISSIONS).fetchall() == submissions
        finally:
            con.close()
    if committed:
        assert sidecar.exists() and report_.uncommitted == []
    else:  # the sidecar of the load that never committed is set aside, not replayed
        assert not sidecar.exists()
        assert (archive / "uncommitted" / sidecar.name).exists()
        assert report_.uncommitted == [sidecar.name]
