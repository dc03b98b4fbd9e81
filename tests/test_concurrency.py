"""Two reporters at the same moment both land completely; an error mid-load leaves nothing half-written."""

from __future__ import annotations

import io
import threading

import pytest

from etl.load import load_bytes
from etl.template import template_rows, write_template
from monitor import db
from tests.conftest import TODAY


def _report(cfg, bureau: str, month) -> tuple[bytes, int]:
    n = len(template_rows(cfg, bureau, month))
    buf = io.BytesIO()
    write_template(cfg, bureau, month, buf, values=[float(i + 1) for i in range(n)])
    return buf.getvalue(), n


def test_two_uploads_in_parallel_threads_both_complete(cfg, warehouse) -> None:
    import datetime as dt

    month = dt.date(2025, 3, 1)
    files = {b: _report(cfg, b, month) for b in ("housing", "hrss")}
    assert all(n > 0 for _, n in files.values())
    results = {}
    start = threading.Barrier(len(files))

    def upload(bureau: str) -> None:
        cursor = db.cursor(warehouse.con)  # each session works on its own cursor of the shared connection
        start.wait()
        data, _ = files[bureau]
        results[bureau] = load_bytes(
            f"{bureau}.xlsx", data, cfg, bureau, f"user_{bureau}", cursor, archive=warehouse.archive, today=TODAY
        )

    threads = [threading.Thread(target=upload, args=(b,)) for b in files]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert {b: (r.outcome, r.rows_loaded) for b, r in results.items()} == {
        b: ("accepted", n) for b, (_, n) in files.items()
    }
    total = sum(n for _, n in files.values())
    assert db.scalar(warehouse.con, "select count(*) from observations") == total
    assert db.scalar(warehouse.con, "select count(*) from submissions where outcome = 'accepted'") == 2
    ids = {r.submission_id for r in results.values()}
    assert len(ids) == 2


def test_error_mid_load_leaves_nothing_half_written(cfg, warehouse, snapshot, monkeypatch) -> None:
    import datetime as dt

    data, n = _report(cfg, "housing", dt.date(2025, 3, 1))
    before = snapshot(warehouse.con)

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full")

    # the audit entry is the last statement of the load transaction: fail there
    monkeypatch.setattr("etl.load.db.audit", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        load_bytes("h.xlsx", data, cfg, "housing", "u", warehouse.con, archive=warehouse.archive, today=TODAY)
    monkeypatch.undo()
    assert snapshot(warehouse.con) == before
    # the next load succeeds completely
    res = load_bytes("h.xlsx", data, cfg, "housing", "u", warehouse.con, archive=warehouse.archive, today=TODAY)
    assert (res.outcome, res.rows_loaded) == ("accepted", n)
