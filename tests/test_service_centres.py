"""市、旗区政务服务中心开设“新市民”落户专窗: a flag every centre must meet (``aggregation: all``).

The city's own centre reports on the 全市 row, each of the 10 旗区 centres on its own row; the city is
done in a month only when all 11 reported 1 for that month (a centre that did not report is not done).
Every figure goes through the real ETL (a bureau's csv, load_bytes) into the config of conftest.py plus
this one KPI and its milestone, due 2024-12 (so 2025-01 is past the deadline, 2024-10 is within its
last three months and 2024-09 before them).
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest

from etl.load import load_bytes
from etl.template import template_rows
from monitor import db
from monitor.progress import scorecard, series
from monitor.targets import TargetsConfig, TargetsError, parse_targets
from tests.conftest import DISTRICTS, TARGETS_DICT, TODAY

KPI = "settlement_window_open"
TARGET = "settlement_window_open_done"
BUREAU = "public_security"
# the 11 centres as a bureau writes them: 全市 first, then the districts in targets.yaml order
CENTRES = [d["name_zh"] for d in DISTRICTS]
IDS = {d["name_zh"]: d["id"] for d in DISTRICTS}


def _config() -> dict[str, Any]:
    raw = copy.deepcopy(TARGETS_DICT)
    raw["kpis"].append(
        {
            "id": KPI,
            "section": "测试",
            "name_zh": "市、旗区政务服务中心开设“新市民”落户专窗",
            "name_en": "registration windows open",
            "unit_zh": "是否完成",
            "unit_en": "done (1/0)",
            "value_type": "flag",
            "reporting": "level",
            "aggregation": "all",
            "lead": BUREAU,
            "source": "市、旗区政务服务中心开设“新市民”落户专窗",
        }
    )
    raw["targets"].append(
        {
            "id": TARGET,
            "kpi": KPI,
            "section": "测试",
            "name_zh": "市、旗区政务服务中心开设“新市民”落户专窗",
            "name_en": "Open registration windows at every service centre",
            "kind": "milestone",
            "comparator": ">=",
            "value": 1,
            "deadline": dt.date(2024, 12, 31),
            "baseline": {"value": 0, "date": dt.date(2024, 7, 1)},
            "source": "市、旗区政务服务中心开设“新市民”落户专窗",
        }
    )
    return raw


@pytest.fixture
def ccfg() -> TargetsConfig:
    return parse_targets(_config())


@pytest.fixture
def con(tmp_path: Path, ccfg: TargetsConfig) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = db.connect(tmp_path / "warehouse.duckdb")
    db.load_reference(connection, ccfg)
    try:
        yield connection
    finally:
        connection.close()


def report(con: duckdb.DuckDBPyConnection, cfg: TargetsConfig, month: str, flags: dict[str, int]) -> None:
    """One monthly csv of 市公安局 with a row per centre in ``flags`` (全市 or a district's name)."""
    lines = ["指标编码,旗区,报送期,数值", *(f"{KPI},{centre},{month},{flag}" for centre, flag in flags.items())]
    data = ("\n".join(lines) + "\n").encode("utf-8")
    result = load_bytes(f"公安局_{month}.csv", data, cfg, BUREAU, "zhang_san", con, archive=None, today=TODAY)
    assert result.outcome == "accepted", [p.zh() for p in result.problems]


def every_centre(flag: int, **exceptions: int) -> dict[str, int]:
    """All 11 centres with ``flag``, except those named (by district id) with their own flag."""
    return {c: exceptions.get(IDS[c], flag) for c in CENTRES}


def row(card: pd.DataFrame, district_id: str) -> pd.Series:
    found = card[(card["target_id"] == TARGET) & (card["district_id"] == district_id)]
    assert len(found) == 1, found
    return found.iloc[0]


def month(text: str) -> dt.date:
    return dt.date.fromisoformat(f"{text}-01")


def test_city_is_achieved_in_the_month_all_eleven_centres_report_open(
    con: duckdb.DuckDBPyConnection, ccfg: TargetsConfig
) -> None:
    report(con, ccfg, "2024-12", every_centre(1))
    city = row(scorecard(con, month("2024-12"), cfg=ccfg), "city")
    assert (city["status"], city["actual"], city["n_reports"]) == ("achieved", 1.0, 11)
    assert city["reason_zh"] == "截至2024年12月已完成（截止2024年12月）"


def test_one_centre_reporting_not_open_leaves_the_city_overdue_naming_the_count(
    con: duckdb.DuckDBPyConnection, ccfg: TargetsConfig
) -> None:
    report(con, ccfg, "2025-01", every_centre(1, hanggin=0))
    city = row(scorecard(con, month("2025-01"), cfg=ccfg), "city")
    assert (city["status"], city["actual"], city["n_reports"]) == ("overdue", 0.0, 11)
    assert city["reason_zh"] == (
        "截至2025年1月仍未完成，已过截止时间2024年12月；11个单位中10个已报完成（杭锦旗未报完成）"
    )
    assert city["reason_en"] == (
        "As of Jan 2025: still not done, due Dec 2024; 10 of 11 units report done (not reported done: Hanggin Banner)"
    )


def test_a_centre_that_does_not_report_is_not_open(con: duckdb.DuckDBPyConnection, ccfg: TargetsConfig) -> None:
    flags = every_centre(1)
    del flags["杭锦旗"], flags["全市"]  # the city's own centre and 杭锦旗 send nothing this month
    report(con, ccfg, "2025-01", flags)
    city = row(scorecard(con, month("2025-01"), cfg=ccfg), "city")
    assert (city["status"], city["actual"], city["n_reports"]) == ("overdue", 0.0, 9)
    assert city["reason_zh"].endswith("；11个单位中9个已报完成（市本级、杭锦旗未报完成）")


def test_a_centre_silent_in_the_latest_month_leaves_the_city_not_done(
    con: duckdb.DuckDBPyConnection, ccfg: TargetsConfig
) -> None:
    """The city is judged on its latest month: all 11 open in November, 杭锦旗 silent in December."""
    report(con, ccfg, "2024-11", every_centre(1))
    flags = every_centre(1)
    del flags["杭锦旗"]
    report(con, ccfg, "2024-12", flags)
    assert row(scorecard(con, month("2024-11"), cfg=ccfg), "city")["status"] == "achieved"
    city = row(scorecard(con, month("2024-12"), cfg=ccfg), "city")
    assert (city["status"], city["actual"], city["n_reports"]) == ("at_risk", 0.0, 10)
    assert city["reason_zh"] == "截至2024年12月尚未完成，截止时间2024年12月；11个单位中10个已报完成（杭锦旗未报完成）"


def test_before_the_last_three_months_the_city_is_on_track_and_names_the_count(
    con: duckdb.DuckDBPyConnection, ccfg: TargetsConfig
) -> None:
    report(con, ccfg, "2024-09", {"全市": 1, "东胜区": 1, "康巴什区": 0})
    city = row(scorecard(con, month("2024-09"), cfg=ccfg), "city")
    assert (city["status"], city["n_reports"]) == ("on_track", 3)
    assert city["reason_zh"] == (
        "截至2024年9月尚未完成，截止时间2024年12月；11个单位中2个已报完成"
        "（康巴什区、达拉特旗、准格尔旗、鄂托克前旗、鄂托克旗、杭锦旗、乌审旗、伊金霍洛旗、高新区未报完成）"
    )


def test_a_district_that_reported_open_is_achieved_while_the_city_is_not(
    con: duckdb.DuckDBPyConnection, ccfg: TargetsConfig
) -> None:
    report(con, ccfg, "2025-01", every_centre(1, hanggin=0))
    card = scorecard(con, month("2025-01"), cfg=ccfg, all_units=True)
    mine = card[card["target_id"] == TARGET]
    assert mine["district_id"].tolist() == ["city", *(d["id"] for d in DISTRICTS[1:])]
    assert mine["target_share"].tolist() == [1.0] * 11  # a flag is a standard each centre meets in full
    dongsheng, hanggin = row(card, "dongsheng"), row(card, "hanggin")
    assert (dongsheng["status"], dongsheng["reason_zh"]) == ("achieved", "截至2025年1月已完成（截止2024年12月）")
    assert (hanggin["status"], hanggin["reason_zh"]) == ("overdue", "截至2025年1月仍未完成，已过截止时间2024年12月")
    assert row(card, "city")["status"] == "overdue"
    only = scorecard(con, month("2025-01"), cfg=ccfg, district="东胜区")
    assert only[only["target_id"] == TARGET]["status"].tolist() == ["achieved"]


def test_chart_of_the_city_shows_1_only_from_the_month_all_eleven_reported_1(
    con: duckdb.DuckDBPyConnection, ccfg: TargetsConfig
) -> None:
    report(con, ccfg, "2024-10", every_centre(0, city=1, dongsheng=1))
    november = every_centre(1)
    del november["杭锦旗"]
    report(con, ccfg, "2024-11", november)
    report(con, ccfg, "2024-12", every_centre(1))
    line = series(con, TARGET, month("2024-12"), cfg=ccfg).dropna(subset=["actual"])
    assert [(p.isoformat()[:7], v) for p, v in zip(line["period"], line["actual"], strict=True)] == [
        ("2024-10", 0.0),
        ("2024-11", 0.0),
        ("2024-12", 1.0),
    ]
    for as_of, status in (("2024-10", "at_risk"), ("2024-11", "at_risk"), ("2024-12", "achieved")):
        assert row(scorecard(con, month(as_of), cfg=ccfg), "city")["status"] == status
    district_line = series(con, TARGET, month("2024-12"), cfg=ccfg, district="dongsheng").dropna(subset=["actual"])
    assert district_line["actual"].tolist() == [1.0, 1.0, 1.0]
    city_values = con.execute(
        "select strftime(period, '%Y-%m'), value, n_reports from city_values where kpi_id = ? order by period", [KPI]
    ).fetchall()
    assert city_values == [("2024-10", 0.0, 11), ("2024-11", 0.0, 10), ("2024-12", 1.0, 11)]


def test_template_lists_the_city_row_and_the_ten_districts(ccfg: TargetsConfig) -> None:
    rows = template_rows(ccfg, BUREAU, dt.date(2025, 1, 1))
    mine = rows[rows["kpi_id"] == KPI]
    assert mine["旗区"].tolist() == CENTRES
    assert len(mine) == 11


def test_city_and_district_rows_are_both_accepted(con: duckdb.DuckDBPyConnection, ccfg: TargetsConfig) -> None:
    report(con, ccfg, "2025-01", {"全市": 1, "东胜区": 1})
    assert con.execute(
        "select district_id, value from current_observations where kpi_id = ? order by district_id", [KPI]
    ).fetchall() == [("city", 1.0), ("dongsheng", 1.0)]


def test_aggregation_all_is_refused_on_a_kpi_that_is_not_a_flag() -> None:
    raw = _config()
    raw["kpis"][-1]["value_type"] = "count"
    with pytest.raises(TargetsError) as refused:
        parse_targets(raw)
    assert refused.value.problems == [
        f"kpis[{len(raw['kpis']) - 1}] (id={KPI}): aggregation all 只用于 flag 指标 / all needs a flag kpi"
    ]
