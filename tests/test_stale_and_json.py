"""Issue 13: a bureau that fell silent is shown as silent (milestones and every other target), a month
is judged only on the figures reported for it, and the JSON scorecard carries each calendar year of
yearly targets and what targets.yaml assumes.

Hand-computed cases on the small config of tests/test_progress.py (stale_months 2): the milestone
``portal`` is due in December 2024, ``apartments_500`` (a cumulative count over two districts) in June
2025, ``jobs_1200_yearly`` asks 1,200 people a year from 2024 to 2026, ``cards_cap_1200`` allows 1,200
cards a year in 2025 and 2026.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml

from monitor import db
from monitor.__main__ import main
from monitor.progress import scorecard
from monitor.targets import TargetsConfig, parse_targets
from tests.test_progress import CONFIG, d, months, put, row


def _config() -> dict[str, Any]:
    """CONFIG with two assumptions marked on rental_3600 and an annual target that starts with the
    policy in July 2024 (its first year asks 1,200 x 6 / 12 = 600)."""
    raw = copy.deepcopy(CONFIG)
    rental = next(t for t in raw["targets"] if t["id"] == "rental_3600")
    rental["assumed"] = ["baseline", "deadline"]
    raw["targets"].append(
        {
            "id": "jobs_from_july",
            "kpi": "jobs_new",
            "section": "测试",
            "name_zh": "jobs_from_july目标",
            "name_en": "jobs_from_july target",
            "kind": "annual",
            "comparator": ">=",
            "value": 1200,
            "deadline": dt.date(2026, 12, 31),
            "start": dt.date(2024, 7, 1),
            "source": "jobs_from_july",
        }
    )
    return raw


@pytest.fixture
def cfg13() -> TargetsConfig:
    return parse_targets(_config())


@pytest.fixture
def wh13(tmp_path: Path, cfg13: TargetsConfig) -> Iterator[tuple[duckdb.DuckDBPyConnection, Path]]:
    path = tmp_path / "warehouse.duckdb"
    con = db.connect(path)
    db.load_reference(con, cfg13)
    try:
        yield con, path
    finally:
        con.close()


@pytest.fixture
def con13(wh13: tuple[duckdb.DuckDBPyConnection, Path]) -> duckdb.DuckDBPyConnection:
    return wh13[0]


# ------------------------------------------------------------------------------------------ stale


def test_milestone_past_its_deadline_whose_bureau_fell_silent_is_no_data_naming_the_last_month(
    con13: duckdb.DuckDBPyConnection, cfg13: TargetsConfig
) -> None:
    put(con13, "portal_online", "city", months("2024-07", "2025-08"), 0)  # "not done" until August, then silence
    one_late = row(scorecard(con13, d("2025-09"), cfg=cfg13), "portal")  # 1 month without a figure: judged
    assert one_late["status"] == "overdue"
    assert one_late["reason_zh"] == "截至2025年9月仍未完成，已过截止时间2024年12月"
    silent = row(scorecard(con13, d("2025-10"), cfg=cfg13), "portal")  # 2 months: stale
    assert silent["status"] == "no_data"
    assert silent["actual"] == 0  # still shown
    assert silent["latest_period"] == dt.date(2025, 8, 1)
    assert silent["reason_zh"] == "最近数据为2025年8月，截至2025年10月已连续2个月未报送（截止时间2024年12月）"
    assert silent["reason_en"] == "Last figure Aug 2025; nothing reported for 2 months up to Oct 2025 (due Dec 2024)"


def test_cumulative_target_past_its_deadline_whose_bureau_fell_silent_is_no_data_not_overdue(
    con13: duckdb.DuckDBPyConnection, cfg13: TargetsConfig
) -> None:
    put(con13, "apartments", "dongsheng", months("2024-07", "2025-09"), lambda i: 10 * (i + 1))
    put(con13, "apartments", "kangbashi", months("2024-07", "2025-09"), lambda i: 5 * (i + 1))
    assert row(scorecard(con13, d("2025-10"), cfg=cfg13), "apartments_500")["status"] == "overdue"  # 225 < 500
    r = row(scorecard(con13, d("2025-12"), cfg=cfg13), "apartments_500")
    assert r["status"] == "no_data"
    assert r["actual"] == 225  # 150 + 75, the September running totals
    assert r["reason_zh"] == "最近数据为2025年9月，截至2025年12月已连续3个月未报送（目标500套）"


def test_yearly_target_judged_on_its_closed_last_year_is_not_stale_after_the_deadline(
    con13: duckdb.DuckDBPyConnection, cfg13: TargetsConfig
) -> None:
    # Figures after December 2026 do not count for a target that ends with 2026: nothing is missing.
    put(con13, "jobs_new", "dongsheng", months("2024-01", "2026-12"), 100)
    r = row(scorecard(con13, d("2027-06"), cfg=cfg13), "jobs_1200_yearly")
    assert r["actual"] == 1200
    assert r["status"] == "achieved"


def test_milestone_done_before_it_fell_silent_stays_achieved(
    con13: duckdb.DuckDBPyConnection, cfg13: TargetsConfig
) -> None:
    put(con13, "portal_online", "city", months("2024-07", "2024-11"), [0, 0, 0, 0, 1])
    r = row(scorecard(con13, d("2025-10"), cfg=cfg13), "portal")
    assert r["status"] == "achieved"
    assert r["reason_zh"] == "截至2025年10月已完成（截止2024年12月）"


# ------------------------------------------------------------------------------------------ the month judged


def test_month_is_judged_without_the_figures_of_later_months(
    con13: duckdb.DuckDBPyConnection, cfg13: TargetsConfig
) -> None:
    put(con13, "portal_online", "city", months("2024-07", "2024-11"), [0, 0, 0, 0, 1])  # done in November
    put(con13, "rental_units", "dongsheng", months("2024-07", "2025-06"), 100)
    put(con13, "rental_units", "dongsheng", [d("2025-07")], 5000)  # an early July figure
    put(con13, "rental_units", "dongsheng", [d("2025-08")], 7000, revision=2)  # and a later correction
    october = row(scorecard(con13, d("2024-10"), cfg=cfg13), "portal")
    assert (october["actual"], october["status"]) == (0, "at_risk")  # due in 3 months, not done yet
    assert october["latest_period"] == dt.date(2024, 10, 1)
    assert october["reason_zh"] == "截至2024年10月尚未完成，截止时间2024年12月"
    assert row(scorecard(con13, d("2024-11"), cfg=cfg13), "portal")["status"] == "achieved"
    june = row(scorecard(con13, d("2025-06"), cfg=cfg13), "rental_3600")
    assert june["actual"] == 1200  # 12 x 100, July's 5,000 not included
    assert june["latest_period"] == dt.date(2025, 6, 1)
    assert june["forecast"] == pytest.approx(3600)  # 1200 + 100 x 24
    assert june["status"] == "on_track"
    assert (
        june["reason_zh"]
        == "截至2025年6月累计完成1,200套，按计划应达1,200套；按近9个月趋势预计2027年6月达3,600套（目标3,600套）"
    )


# ------------------------------------------------------------------------------------------ JSON


def _json(wh: tuple[duckdb.DuckDBPyConnection, Path], tmp_path: Path, as_of: str, capsys: Any) -> dict[str, Any]:
    con, path = wh
    con.close()  # the command line opens the file read-only
    targets = tmp_path / "targets.yaml"
    targets.write_text(yaml.safe_dump(_config(), allow_unicode=True), encoding="utf-8")
    argv = ["scorecard", "--as-of", as_of, "--db", str(path), "--format", "json", "--targets", str(targets)]
    assert main(argv) == 0
    return {r["target_id"]: r for r in json.loads(capsys.readouterr().out)}


def test_json_lists_every_year_of_annual_targets_even_without_figures(
    wh13: tuple[duckdb.DuckDBPyConnection, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    put(wh13[0], "jobs_new", "dongsheng", months("2025-01", "2025-10"), 90)  # nothing in 2024
    rows = _json(wh13, tmp_path, "2025-10", capsys)
    # 900 of 1,000 planned; the trend (90 a month) projects 1,080 = 90% of 1,200: at risk
    assert rows["jobs_1200_yearly"]["status"] == "at_risk"
    assert rows["jobs_1200_yearly"]["years"] == [
        {"year": 2024, "target": 1200.0, "actual": None, "status": None},
        {"year": 2025, "target": 1200.0, "actual": 900.0, "status": "at_risk"},
        {"year": 2026, "target": 1200.0, "actual": None, "status": None},
    ]
    assert rows["jobs_from_july"]["years"] == [  # from July 2024: its first year asks 600
        {"year": 2024, "target": 600.0, "actual": None, "status": None},
        {"year": 2025, "target": 1200.0, "actual": 900.0, "status": "at_risk"},
        {"year": 2026, "target": 1200.0, "actual": None, "status": None},
    ]
    assert rows["rental_3600"]["years"] is None  # not judged by year
    assert rows["rent_cap_70"]["years"] is None  # a cap on a level, not a yearly allowance


def test_json_judges_each_complete_year_of_a_cap_on_its_own_figure(
    wh13: tuple[duckdb.DuckDBPyConnection, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    put(wh13[0], "bus_cards", "dongsheng", months("2025-01", "2025-12"), 110)  # 1,320 > 1,200
    put(wh13[0], "bus_cards", "dongsheng", months("2026-01", "2026-12"), 50)  # 600, within the cap
    cap = _json(wh13, tmp_path, "2026-12", capsys)["cards_cap_1200"]
    assert cap["status"] == "achieved"
    assert cap["years"] == [
        {"year": 2025, "target": 1200.0, "actual": 1320.0, "status": "overdue"},
        {"year": 2026, "target": 1200.0, "actual": 600.0, "status": "achieved"},
    ]


def test_json_carries_what_targets_yaml_assumes_and_an_empty_list_otherwise(
    wh13: tuple[duckdb.DuckDBPyConnection, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = _json(wh13, tmp_path, "2025-06", capsys)
    assert rows["rental_3600"]["assumed"] == ["baseline", "deadline"]
    assert rows["portal"]["assumed"] == []
    assert list(rows["portal"])[-2:] == ["years", "assumed"]


def test_table_and_csv_carry_neither_years_nor_assumptions(
    wh13: tuple[duckdb.DuckDBPyConnection, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    con, path = wh13
    con.close()
    targets = tmp_path / "targets.yaml"
    targets.write_text(yaml.safe_dump(_config(), allow_unicode=True), encoding="utf-8")
    common = ["scorecard", "--as-of", "2025-06", "--db", str(path), "--targets", str(targets)]
    assert main([*common, "--format", "csv"]) == 0
    header = capsys.readouterr().out.splitlines()[0].split(",")
    assert header[-3:] == ["status", "reason_zh", "reason_en"]
    assert "years" not in header and "assumed" not in header
    assert main(common) == 0
    assert "assumed" not in capsys.readouterr().out.splitlines()[0]
