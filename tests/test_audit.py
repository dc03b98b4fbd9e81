"""A correction is a revision with its reason on record: in submissions and in the audit log."""

from __future__ import annotations

import json

from etl.load import load_bytes
from monitor import db
from tests.conftest import TODAY


def _csv(value: int) -> bytes:
    return f"指标编码,旗区,报送期,数值\nrental_housing_units,东胜区,2025-03,{value}\n".encode()


def test_correction_with_reason_is_audited_as_revision_and_keeps_old_value(cfg, warehouse) -> None:
    first = load_bytes(
        "a.csv", _csv(120), cfg, "housing", "zhang", warehouse.con, archive=warehouse.archive, today=TODAY
    )
    fixed = load_bytes(
        "b.csv", _csv(132), cfg, "housing", "zhang", warehouse.con, archive=warehouse.archive, today=TODAY,
        reason="补录漏报项目",
    )  # fmt: skip
    assert (first.outcome, fixed.outcome, fixed.rows_revised) == ("accepted", "accepted", 1)
    rows = warehouse.con.execute(
        "select revision, value from observations where district_id = 'dongsheng' order by revision"
    ).fetchall()
    assert rows == [(1, 120.0), (2, 132.0)]
    assert db.scalar(
        warehouse.con, "select reason from submissions where submission_id = ?", [fixed.submission_id]
    ) == ("补录漏报项目")
    action, detail = db.one(warehouse.con, "select action, detail from audit_log order by event_id desc limit 1")
    assert action == "revision"
    assert json.loads(detail)["reason"] == "补录漏报项目"
    assert json.loads(detail)["revised"] == 1
