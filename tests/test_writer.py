"""The warehouse's one writer (db.writing()): every write of the process, whoever makes it, is serialised.

The app's sessions share one connection, each on its own cursor; two of them writing at once met
DuckDB's "TransactionException: Conflict on update". Loads, sign-ins, audit entries, meta and reference
reloads all take the writer inside monitor.db / etl.load / monitor.auth, so no caller needs a lock.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from etl.load import load_bytes
from monitor import auth, db
from monitor.targets import TargetsConfig
from tests.conftest import TODAY, Warehouse

RENTAL = "rental_housing_units"
MONTHS = ["2025-01", "2025-02", "2025-03", "2025-04", "2025-05", "2025-06"]
SIGN_INS = 3  # right passwords per account; each account also gets 2 wrong ones (below the lock-out)
AUDITS = 15


def _month_report(month: str) -> bytes:
    lines = [
        "指标编码,旗区,报送期,数值",
        f"{RENTAL},东胜区,{month},{int(month[-2:]) * 10}",
        f"{RENTAL},康巴什区,{month},7",
    ]
    return ("\n".join(lines) + "\n").encode("utf-8")


def _run_together(jobs: list[Callable[[], None]]) -> None:
    """Start every job at the same moment on its own thread; re-raise the first one's exception here."""
    gate = threading.Barrier(len(jobs))

    def run(job: Callable[[], None]) -> None:
        gate.wait()
        job()

    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        for future in [pool.submit(run, job) for job in jobs]:
            future.result(timeout=120)


def test_loads_sign_ins_and_audits_on_cursors_of_one_connection_all_land(
    cfg: TargetsConfig, warehouse: Warehouse
) -> None:
    accounts = ["li", "wang", "zhao"]
    for name in accounts:
        auth.add_user(warehouse.con, name, f"{name}-password", "leader")
    before_audit = db.scalar(warehouse.con, "select count(*) from audit_log")

    def loader(months: list[str]) -> Callable[[], None]:
        def job() -> None:
            cursor = db.cursor(warehouse.con)  # each session works on its own cursor of the shared connection
            for month in months:
                res = load_bytes(f"{month}.csv", _month_report(month), cfg, "housing", "li", cursor,
                                 archive=warehouse.archive, today=TODAY)  # fmt: skip
                assert res.outcome == "accepted", res.problems

        return job

    def signer(name: str) -> Callable[[], None]:
        def job() -> None:
            cursor = db.cursor(warehouse.con)
            for attempt in range(SIGN_INS + 2):
                if attempt % 2:
                    with pytest.raises(auth.AuthError):
                        auth.sign_in(cursor, name, "wrong-password")
                else:
                    assert auth.sign_in(cursor, name, f"{name}-password").user_name == name

        return job

    def auditor(who: str) -> Callable[[], None]:
        def job() -> None:
            cursor = db.cursor(warehouse.con)
            for i in range(AUDITS):
                db.audit(cursor, who, "sign_out", {"n": i})
                db.set_meta(cursor, "last_audit", f"{who}:{i}")  # one row both replace: a conflict unserialised

        return job

    jobs = [loader(MONTHS[0::2]), loader(MONTHS[1::2])]
    jobs += [signer(name) for name in accounts] + [auditor("auditor_a"), auditor("auditor_b")]
    _run_together(jobs)

    con = warehouse.con
    assert db.scalar(con, "select count(*) from submissions where outcome = 'accepted'") == len(MONTHS)
    assert con.execute(
        "select strftime(period, '%Y-%m'), count(*) from observations group by 1 order by 1"
    ).fetchall() == [(month, 2) for month in MONTHS]
    events = con.execute(
        "select user_name, action, count(*) from audit_log where event_id > ? group by all order by all",
        [before_audit],
    ).fetchall()
    expected = [("auditor_a", "sign_out", AUDITS), ("auditor_b", "sign_out", AUDITS),
                ("li", "upload_accepted", len(MONTHS))]  # fmt: skip
    expected += [(name, action, n) for name in accounts for action, n in (("sign_in", 3), ("sign_in_failed", 2))]
    assert events == sorted(expected)
    # the last attempt of each account was right: its failure count is back to 0
    assert con.execute("select user_name, failed_count from users order by 1").fetchall() == [
        (name, 0) for name in sorted(accounts)
    ]
    assert db.get_meta(con, "last_audit") in (f"auditor_a:{AUDITS - 1}", f"auditor_b:{AUDITS - 1}")


def test_two_sessions_reloading_targets_at_once_reload_them_once(
    cfg: TargetsConfig, warehouse: Warehouse, tmp_path: Path
) -> None:
    """sync_reference checks the fingerprint and reloads under the writer: one `targets_reload`, no conflict."""
    db.set_meta(warehouse.con, "targets_fingerprint", "an older targets.yaml")
    before = db.scalar(warehouse.con, "select count(*) from audit_log where action = 'targets_reload'")
    reloaded: list[bool] = []
    jobs = [lambda: reloaded.append(db.sync_reference(db.cursor(warehouse.con), cfg, user="admin"))] * 4
    _run_together(jobs)
    assert sorted(reloaded) == [False, False, False, True]
    after = db.scalar(warehouse.con, "select count(*) from audit_log where action = 'targets_reload'")
    assert after == before + 1
    assert db.scalar(warehouse.con, "select count(*) from targets") == len(cfg.targets)


def test_the_writer_is_reentrant_so_a_load_inside_it_may_audit(cfg: TargetsConfig, warehouse: Warehouse) -> None:
    with db.writing():
        res = load_bytes("m.csv", _month_report("2025-03"), cfg, "housing", "li", warehouse.con,
                         archive=warehouse.archive, today=TODAY)  # fmt: skip
        db.audit(warehouse.con, "li", "sign_out", {})
    assert res.outcome == "accepted"
    actions = [a for (a,) in warehouse.con.execute("select action from audit_log order by event_id").fetchall()]
    assert actions[-2:] == ["upload_accepted", "sign_out"]


# -- db.registered ------------------------------------------------------------------------------------


def test_a_registered_frame_is_visible_inside_the_block_only(warehouse: Warehouse) -> None:
    frame = pd.DataFrame({"kpi_id": ["a", "b"], "value": [1.0, 2.5]})
    with db.registered(warehouse.con, "incoming_test", frame) as name:
        assert name == "incoming_test"
        assert warehouse.con.execute("select sum(value) from incoming_test").fetchall() == [(3.5,)]
    with pytest.raises(duckdb.CatalogException, match="incoming_test"):
        warehouse.con.execute("select * from incoming_test")


def test_a_registered_frame_is_unregistered_when_the_block_fails(warehouse: Warehouse) -> None:
    frame = pd.DataFrame({"value": [1.0]})
    with pytest.raises(duckdb.BinderException), db.registered(warehouse.con, "incoming_test", frame):
        warehouse.con.execute("select no_such_column from incoming_test")
    with pytest.raises(duckdb.CatalogException, match="incoming_test"):
        warehouse.con.execute("select * from incoming_test")
    # the same name is free for the next frame
    with db.registered(warehouse.con, "incoming_test", pd.DataFrame({"value": [4.0]})):
        assert warehouse.con.execute("select value from incoming_test").fetchall() == [(4.0,)]
