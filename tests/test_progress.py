"""The progress engine on hand-computed cases: every kind and every status, with exact figures.

The targets are built here (never the real targets.yaml): months run from the policy start
2024-07-01, so a deadline of 2027-06-30 is exactly 36 months away and the planned line of a
3,600-unit target rises by 100 units a month. Observations are inserted directly.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import math
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest
import yaml

from monitor import db, progress
from monitor.__main__ import main
from monitor.progress import STATUS_LABELS, STATUSES, scorecard, series
from monitor.targets import TargetsConfig, parse_targets


def _kpi(
    id: str, unit_zh: str, unit_en: str, value_type: str, reporting: str, aggregation: str, lead: str
) -> dict[str, Any]:
    return {
        "id": id,
        "section": "测试",
        "name_zh": id,
        "name_en": id,
        "unit_zh": unit_zh,
        "unit_en": unit_en,
        "value_type": value_type,
        "reporting": reporting,
        "aggregation": aggregation,
        "lead": lead,
        "source": id,
    }


def _target(id: str, kpi: str, kind: str, comparator: str, value: float, deadline: dt.date, **extra: Any) -> dict:
    return {
        "id": id,
        "kpi": kpi,
        "section": "测试",
        "name_zh": f"{id}目标",
        "name_en": f"{id} target",
        "kind": kind,
        "comparator": comparator,
        "value": value,
        "deadline": deadline,
        "source": id,
        **extra,
    }


BASE = {"value": 0, "date": dt.date(2024, 7, 1)}
CONFIG: dict[str, Any] = {
    "version": 1,
    "policy": {"title": "测试政策", "issued": dt.date(2024, 7, 15), "start": dt.date(2024, 7, 1)},
    "thresholds": {"at_risk": 0.85, "stale_months": 2, "trend_months": 9},
    "bureaus": [
        {"id": "housing", "name_zh": "住建局", "name_en": "Housing"},
        {"id": "hrss", "name_zh": "人社局", "name_en": "HRSS"},
        {"id": "transport", "name_zh": "交通局", "name_en": "Transport"},
    ],
    "districts": [
        {"id": "city", "name_zh": "全市", "name_en": "Whole city", "kind": "city"},
        {"id": "dongsheng", "name_zh": "东胜区", "name_en": "Dongsheng", "kind": "district"},
        {"id": "kangbashi", "name_zh": "康巴什区", "name_en": "Kangbashi", "kind": "district"},
        {"id": "dalad", "name_zh": "达拉特旗", "name_en": "Dalad Banner", "kind": "banner", "aliases": ["达旗"]},
    ],
    "kpis": [
        _kpi("rental_units", "套", "units", "count", "increment", "sum", "housing"),
        _kpi("apartments", "套", "flats", "count", "cumulative", "sum", "housing"),
        _kpi("retail_firms", "家", "firms", "count", "level", "sum", "housing"),
        _kpi("bus_coverage", "%", "%", "ratio", "level", "city", "transport"),
        _kpi("jobs_new", "人", "people", "count", "increment", "sum", "hrss"),
        _kpi("bus_cards", "张", "cards", "count", "increment", "sum", "transport"),
        _kpi("rent_share", "%", "%", "ratio", "level", "city", "housing"),
        _kpi("retention", "%", "%", "ratio", "level", "city", "hrss"),
        _kpi("portal_online", "是否完成", "done", "flag", "level", "city", "hrss"),
    ],
    "targets": [
        _target("rental_3600", "rental_units", "cumulative", ">=", 3600, dt.date(2027, 6, 30), baseline=BASE),
        _target(
            "apartments_500",
            "apartments",
            "cumulative",
            ">=",
            500,
            dt.date(2025, 6, 30),
            baseline=BASE,
            scope=["dongsheng", "kangbashi"],
        ),
        _target(
            "retail_600",
            "retail_firms",
            "stock",
            ">=",
            600,
            dt.date(2025, 12, 31),
            baseline={"value": 520, "date": dt.date(2024, 7, 1)},
        ),
        _target(
            "bus_100",
            "bus_coverage",
            "ratio",
            ">=",
            100,
            dt.date(2027, 6, 30),
            baseline={"value": 80, "date": dt.date(2024, 7, 1)},
        ),
        _target("jobs_1200_yearly", "jobs_new", "annual", ">=", 1200, dt.date(2026, 12, 31), start=dt.date(2024, 1, 1)),
        _target("cards_cap_1200", "bus_cards", "cap", "<=", 1200, dt.date(2026, 12, 31), start=dt.date(2025, 1, 1)),
        _target(
            "rent_cap_70",
            "rent_share",
            "cap",
            "<=",
            70,
            dt.date(2026, 12, 31),
            baseline={"value": 68, "date": dt.date(2024, 7, 1)},
        ),
        _target(
            "retention_30",
            "retention",
            "ratio",
            "~",
            30,
            dt.date(2026, 12, 31),
            tolerance=2,
            baseline={"value": 22, "date": dt.date(2024, 7, 1)},
        ),
        _target("portal", "portal_online", "milestone", ">=", 1, dt.date(2024, 12, 31), baseline=BASE),
    ],
}


@pytest.fixture
def tcfg() -> TargetsConfig:
    return parse_targets(copy.deepcopy(CONFIG))


@pytest.fixture
def wh(tmp_path: Path, tcfg: TargetsConfig) -> Iterator[tuple[duckdb.DuckDBPyConnection, Path]]:
    path = tmp_path / "warehouse.duckdb"
    con = db.connect(path)
    db.load_reference(con, tcfg)
    try:
        yield con, path
    finally:
        con.close()


@pytest.fixture
def con(wh: tuple[duckdb.DuckDBPyConnection, Path]) -> duckdb.DuckDBPyConnection:
    return wh[0]


_submission = iter(range(1, 10**6))


def months(first: str, last: str) -> list[dt.date]:
    return [p.date() for p in pd.date_range(f"{first}-01", f"{last}-01", freq="MS")]


def put(
    con: duckdb.DuckDBPyConnection, kpi: str, district: str, periods: list[dt.date], values: Any, revision: int = 1
) -> None:
    """Insert one figure per month (values: a constant, a list, or a function of the month's position)."""
    if callable(values):
        values = [values(i) for i in range(len(periods))]
    elif not isinstance(values, list):
        values = [values] * len(periods)
    sub = next(_submission)
    con.executemany(
        "insert into observations values (?, ?, ?, ?, ?, ?, ?, now())",
        [
            [kpi, district, p, float(v), revision, sub, i + 2]
            for i, (p, v) in enumerate(zip(periods, values, strict=True))
        ],
    )


def row(card: pd.DataFrame, target_id: str, district_id: str | None = None) -> pd.Series:
    sel = card[card["target_id"] == target_id]
    if district_id is not None:
        sel = sel[sel["district_id"] == district_id]
    assert len(sel) == 1, sel
    return sel.iloc[0]


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text + "-01")


def rental_on_line(con: duckdb.DuckDBPyConnection) -> None:
    """60 + 40 units a month from July 2024: the city is exactly on the 100-a-month line; dalad never reports."""
    put(con, "rental_units", "dongsheng", months("2024-07", "2025-06"), 60)
    put(con, "rental_units", "kangbashi", months("2024-07", "2025-06"), 40)


REQUIRED_COLUMNS = [
    "target_id",
    "kpi_id",
    "section",
    "name_zh",
    "name_en",
    "unit_zh",
    "unit_en",
    "kind",
    "comparator",
    "deadline",
    "target_value",
    "tolerance",
    "baseline_value",
    "actual",
    "as_of",
    "latest_period",
    "expected",
    "progress",
    "time_elapsed",
    "forecast",
    "forecast_low",
    "forecast_high",
    "status",
    "reason_zh",
    "reason_en",
    "lead_bureau",
    "co_bureaus",
    "district_id",
    "years",
]


# ------------------------------------------------------------------------------------------ cumulative


def test_cumulative_target_exactly_on_its_line_is_on_track(con: duckdb.DuckDBPyConnection, tcfg: TargetsConfig) -> None:
    rental_on_line(con)
    r = row(scorecard(con, d("2025-06"), cfg=tcfg), "rental_3600")
    assert r["district_id"] == "city" and r["is_aggregate"]
    assert r["actual"] == pytest.approx(1200)
    assert r["expected"] == pytest.approx(1200)  # 3600 * 12 / 36
    assert r["progress"] == pytest.approx(1 / 3)
    assert r["time_elapsed"] == pytest.approx(1 / 3)
    assert r["forecast"] == pytest.approx(3600)  # 1200 + 100 * 24
    assert r["forecast_low"] == pytest.approx(3600)
    assert r["forecast_high"] == pytest.approx(3600)
    assert r["status"] == "on_track"
    assert r["latest_period"] == dt.date(2025, 6, 1)
    assert r["as_of"] == dt.date(2025, 6, 1)
    assert r["deadline"] == dt.date(2027, 6, 30)
    assert r["n_reports"] == 2
    assert r["years"] is None
    assert (
        r["reason_zh"]
        == "截至2025年6月累计完成1,200套，按计划应达1,200套；按近9个月趋势预计2027年6月达3,600套（目标3,600套）"
    )
    assert r["reason_en"] == (
        "As of Jun 2025: 1,200 units to date against 1,200 units planned; "
        "the 9-month trend projects 3,600 units by Jun 2027 (target 3,600 units)"
    )


def test_revision_that_lowers_the_latest_month_turns_on_track_into_at_risk(
    con: duckdb.DuckDBPyConnection, tcfg: TargetsConfig
) -> None:
    rental_on_line(con)
    put(con, "rental_units", "dongsheng", [d("2025-06")], 0, revision=2)  # June corrected from 60 to 0
    r = row(scorecard(con, d("2025-06"), cfg=tcfg), "rental_3600")
    assert r["actual"] == pytest.approx(1140)
    # Theil–Sen ignores the one low month: 28 of the 36 pairwise slopes are 100 -> median 100
    assert r["forecast"] == pytest.approx(1140 + 100 * 24)
    # the 10th percentile falls between the slopes 85 and 88 of pairs ending in the corrected month
    assert r["forecast_low"] == pytest.approx(1140 + 86.5 * 24)
    assert r["forecast_high"] == pytest.approx(3540)
    assert r["status"] == "at_risk"  # 3540 / 3600 = 98% >= 85%
    # the earlier figure stays in the warehouse; only the current revision counts
    assert (
        db.scalar(con, "select count(*) from observations where kpi_id = 'rental_units' and period = '2025-06-01'") == 3
    )


def test_missing_month_counts_as_nothing_and_bends_the_trend(
    con: duckdb.DuckDBPyConnection, tcfg: TargetsConfig
) -> None:
    for district, v in (("dongsheng", 60), ("kangbashi", 40)):
        put(con, "rental_units", district, [p for p in months("2024-07", "2025-06") if p != d("2025-02")], v)
    r = row(scorecard(con, d("2025-06"), cfg=tcfg), "rental_3600")
    assert r["actual"] == pytest.approx(1100)
    assert r["latest_period"] == dt.date(2025, 6, 1)
    # 8 points in the window; the median of the 28 pairwise slopes is 100 - 100/7
    assert r["forecast"] == pytest.approx(1100 + 24 * 600 / 7)
    assert r["status"] == "at_risk"  # 3157 / 3600 = 88%
    assert r["trend_months"] == 9


def test_district_that_never_reported_is_no_data_and_districts_get_an_equal_share(
    con: duckdb.DuckDBPyConnection, tcfg: TargetsConfig
) -> None:
    rental_on_line(con)
    card = scorecard(con, d("2025-06"), cfg=tcfg, all_units=True)
    units = card[card["target_id"] == "rental_3600"]
    assert list(units["district_id"]) == ["city", "dongsheng", "kangbashi", "dalad"]
    dalad = row(units, "rental_3600", "dalad")
    assert dalad["status"] == "no_data"
    assert math.isnan(dalad["actual"])
    assert dalad["latest_period"] is None
    assert dalad["reason_zh"] == "截至2025年6月无数据（目标1,200套）"
    dongsheng = row(units, "rental_3600", "dongsheng")
    assert dongsheng["target_value"] == pytest.approx(1200)  # 3600 split over 3 districts
    assert dongsheng["target_share"] == pytest.approx(1 / 3)
    assert dongsheng["actual"] == pytest.approx(720)
    assert dongsheng["expected"] == pytest.approx(400)
    assert dongsheng["forecast"] == pytest.approx(720 + 60 * 24)
    assert dongsheng["status"] == "on_track"
    assert dongsheng["reason_zh"].endswith("（旗区目标按全市目标在3个旗区间均分）")
    kangbashi = row(units, "rental_3600", "kangbashi")
    assert kangbashi["forecast"] == pytest.approx(480 + 40 * 24)
    assert kangbashi["status"] == "on_track"


def test_cumulative_reports_over_a_scope_of_districts_ignore_other_districts_and_go_overdue(
    con: duckdb.DuckDBPyConnection, tcfg: TargetsConfig
) -> None:
    put(con, "apartments", "dongsheng", months("2024-07", "2025-09"), lambda i: 10 * (i + 1))
    put(con, "apartments", "kangbashi", months("2024-07", "2025-09"), lambda i: 5 * (i + 1))
    put(con, "apartments", "dalad", months("2024-07", "2025-09"), 1000)  # not in scope
    early = row(scorecard(con, d("2025-03"), cfg=tcfg), "apartments_500")
    assert early["district_id"] == progress.SCOPE
    assert early["actual"] == pytest.approx(135)  # latest running totals 90 + 45
    assert early["expected"] == pytest.approx(375)  # 500 * 9 / 12
    assert early["forecast"] == pytest.approx(135 + 15 * 3)
    assert early["status"] == "off_track"  # 180 / 500 = 36%
    late = row(scorecard(con, d("2025-09"), cfg=tcfg), "apartments_500")
    assert late["actual"] == pytest.approx(225)
    assert late["status"] == "overdue"
    assert late["reason_zh"] == "截至2025年9月累计完成225套，截止2025年6月未完成目标500套"


def test_figures_equal_the_current_observations_view_whatever_the_revisions(
    con: duckdb.DuckDBPyConnection, tcfg: TargetsConfig
) -> None:
    """The engine reads corrections as differences instead of ranking every row; it must agree with
    the current_observations view: several revisions, a month first loaded as a later revision,
    a correction of the latest month and of an earlier year."""
    rng = random.Random(477)
    for district in ("dongsheng", "kangbashi", "dalad"):
        periods = months("2024-07", "2025-06")
        put(con, "rental_units", district, periods[:-1], [rng.randint(0, 90) for _ in periods[:-1]])
        put(con, "retail_firms", district, periods, [rng.randint(100, 300) for _ in periods])
        for revision in (2, 3):
            # never the last month: it gets its own revision below, and two rows of one revision would tie
            picked = rng.sample(periods[:-1], 4)
            put(con, "rental_units", district, picked, [rng.randint(0, 90) for _ in picked], revision=revision)
            put(con, "retail_firms", district, picked, [rng.randint(100, 300) for _ in picked], revision=revision)
        put(con, "rental_units", district, [periods[-1]], rng.randint(0, 90), revision=3)  # only a revision 3
        put(con, "retail_firms", district, [periods[-1]], rng.randint(100, 300), revision=2)
    card = scorecard(con, d("2025-06"), cfg=tcfg, all_units=True)
    sums = dict(
        con.execute(
            "select district_id, sum(value) from current_observations where kpi_id = 'rental_units' group by all"
        ).fetchall()
    )
    levels = dict(
        con.execute(
            """
            select district_id, value from current_observations
            where kpi_id = 'retail_firms' and period = '2025-06-01'
            """
        ).fetchall()
    )
    for district in ("dongsheng", "kangbashi", "dalad"):
        assert row(card, "rental_3600", district)["actual"] == pytest.approx(sums[district])
        assert row(card, "retail_600", district)["actual"] == pytest.approx(levels[district])
        assert row(card, "rental_3600", district)["n_reports"] == 1
    assert row(card, "rental_3600", "city")["actual"] == pytest.approx(sum(sums.values()))
    assert row(card, "retail_600", "city")["actual"] == pytest.approx(sum(levels.values()))
    assert row(card, "retail_600", "city")["n_reports"] == 3
    window = con.execute(
        """
        select period, sum(value) from city_values
        where kpi_id = 'retail_firms' and period >= '2024-10-01' group by all order by period
        """
    ).fetchall()
    s = series(con, "retail_600", d("2025-06"), cfg=tcfg).set_index("period")
    assert [s.loc[p, "actual"] for p, _ in window] == pytest.approx([v for _, v in window])


# ------------------------------------------------------------------------------------------ stock, ratio


def test_stock_target_achieved_early(con: duckdb.DuckDBPyConnection, tcfg: TargetsConfig) -> None:
    put(con, "retail_firms", "dongsheng", months("2024-07", "2025-03"), lambda i: 280 + i * 2.5)
    put(con, "retail_firms", "kangbashi", months("2024-07", "2025-03"), 200)
    put(con, "retail_firms", "dalad", months("2024-07", "2025-03"), 105)
    r = row(scorecard(con, d("2025-03"), cfg=tcfg), "retail_600")
    assert r["actual"] == pytest.approx(605)
    assert r["expected"] == pytest.approx(560)  # 520 + 80 * 9 / 18
    assert r["progress"] == pytest.approx(85 / 80)
    assert r["status"] == "achieved"
    assert r["reason_zh"] == "截至2025年3月为605家，已达到目标600家"
    assert r["reason_en"] == "As of Mar 2025: 605 firms, target 600 firms reached"


@pytest.mark.parametrize(("step", "status", "forecast"), [(0.5, "at_risk", 98.0), (0.4, "off_track", 94.4)])
def test_ratio_judged_on_the_share_of_the_distance_its_trend_covers(
    con: duckdb.DuckDBPyConnection, tcfg: TargetsConfig, step: float, status: str, forecast: float
) -> None:
    put(con, "bus_coverage", "city", months("2024-07", "2025-06"), lambda i: 80 + step * (i + 1))
    r = row(scorecard(con, d("2025-06"), cfg=tcfg), "bus_100")
    assert r["actual"] == pytest.approx(80 + 12 * step)
    assert r["expected"] == pytest.approx(80 + 20 * 12 / 36)
    assert r["forecast"] == pytest.approx(forecast)  # fitted line at June + step * 24
    assert r["status"] == status


def test_data_stale_for_three_months_is_no_data(con: duckdb.DuckDBPyConnection, tcfg: TargetsConfig) -> None:
    put(con, "bus_coverage", "city", months("2024-07", "2025-03"), lambda i: 80 + 0.5 * (i + 1))
    assert row(scorecard(con, d("2025-04"), cfg=tcfg), "bus_100")["status"] == "at_risk"  # 1 month late: judged
    assert row(scorecard(con, d("2025-05"), cfg=tcfg), "bus_100")["status"] == "no_data"  # none in Apr-May
    r = row(scorecard(con, d("2025-06"), cfg=tcfg), "bus_100")
    assert r["status"] == "no_data"
    assert r["actual"] == pytest.approx(84.5)  # still shown
    assert r["latest_period"] == dt.date(2025, 3, 1)
    assert r["reason_zh"] == "最近数据为2025年3月，截至2025年6月已连续3个月未报送（目标100%）"
    assert r["reason_en"] == "Last figure Mar 2025; nothing reported for 3 months up to Jun 2025 (target 100%)"


def test_thresholds_come_from_the_targets_config(con: duckdb.DuckDBPyConnection) -> None:
    raw = copy.deepcopy(CONFIG)
    raw["thresholds"] = {"at_risk": 0.95, "stale_months": 4, "trend_months": 9}
    strict = parse_targets(raw)
    put(con, "bus_coverage", "city", months("2024-07", "2025-03"), lambda i: 80 + 0.5 * (i + 1))
    r = row(scorecard(con, d("2025-06"), cfg=strict), "bus_100")  # 3 months without figures: judged
    assert r["forecast"] == pytest.approx(98)  # 86 fitted for June + 0.5 * 24
    assert r["status"] == "off_track"  # 90% of the distance, below 95%
    assert row(scorecard(con, d("2025-06")), "bus_100")["status"] == "no_data"  # defaults without cfg


def test_kpi_reported_only_at_city_level_uses_the_city_row_and_has_no_district_rows(
    con: duckdb.DuckDBPyConnection, tcfg: TargetsConfig
) -> None:
    put(con, "bus_coverage", "city", months("2024-07", "2025-06"), lambda i: 80 + 0.5 * (i + 1))
    put(con, "bus_coverage", "dongsheng", months("2024-07", "2025-06"), 10)  # stray district rows: ignored
    rental_on_line(con)
    card = scorecard(con, d("2025-06"), cfg=tcfg, all_units=True)
    bus = card[card["target_id"] == "bus_100"]
    assert list(bus["district_id"]) == ["city"]
    assert bus.iloc[0]["actual"] == pytest.approx(86)
    east = scorecard(con, d("2025-06"), cfg=tcfg, district="东胜区")
    assert "bus_100" not in set(east["target_id"])
    assert set(east["district_id"]) == {"dongsheng"}
    assert row(east, "rental_3600")["actual"] == pytest.approx(720)
    assert row(scorecard(con, d("2025-06"), cfg=tcfg, district="达旗"), "rental_3600")["status"] == "no_data"


# ------------------------------------------------------------------------------------------ annual, caps


def test_annual_flow_behind_in_october_but_met_the_year_before(
    con: duckdb.DuckDBPyConnection, tcfg: TargetsConfig
) -> None:
    put(con, "jobs_new", "dongsheng", months("2024-01", "2024-12"), 110)
    put(con, "jobs_new", "dongsheng", months("2025-01", "2025-10"), 90)
    r = row(scorecard(con, d("2025-10"), cfg=tcfg), "jobs_1200_yearly")
    assert r["actual"] == pytest.approx(900)
    assert r["expected"] == pytest.approx(1000)  # 1200 * 10 / 12
    assert r["progress"] == pytest.approx(0.75)
    assert r["time_elapsed"] == pytest.approx(10 / 12)
    assert r["forecast"] == pytest.approx(1080)  # 900 + 90 * 2
    assert r["status"] == "at_risk"  # 1080 / 1200 = 90%
    assert r["baseline_value"] == 0
    assert r["years"] == [{"year": 2024, "actual": 1320.0, "target": 1200.0, "met": True}]
    assert r["reason_zh"] == (
        "2025年1—10月累计900人，按进度应达1,000人；按近9个月趋势预计全年1,080人（年度目标1,200人）；2024年1,320人（达标）"
    )
    assert r["reason_en"] == (
        "Jan–Oct 2025: 900 people against 1,000 people planned; the 9-month trend projects 1,080 people for the year "
        "(annual target 1,200 people); 2024: 1,320 people (met)"
    )


def test_annual_target_met_within_the_year_is_achieved_and_after_the_deadline_judged_on_its_last_year(
    con: duckdb.DuckDBPyConnection, tcfg: TargetsConfig
) -> None:
    put(con, "jobs_new", "dongsheng", months("2024-01", "2026-12"), 100)
    assert row(scorecard(con, d("2026-12"), cfg=tcfg), "jobs_1200_yearly")["status"] == "achieved"
    assert row(scorecard(con, d("2026-11"), cfg=tcfg), "jobs_1200_yearly")["status"] == "on_track"  # 1100 + 100
    put(con, "jobs_new", "dongsheng", [d("2026-12")], 0, revision=2)
    after = row(scorecard(con, d("2027-03"), cfg=tcfg), "jobs_1200_yearly")
    assert after["actual"] == pytest.approx(1100)
    assert after["status"] == "overdue"
    assert [(y["year"], y["actual"], y["met"]) for y in after["years"]] == [
        (2024, 1200.0, True),
        (2025, 1200.0, True),
        (2026, 1100.0, False),
    ]


@pytest.mark.parametrize(
    ("per_month", "as_of", "actual", "forecast", "status"),
    [
        (110, "2025-10", 1100, 1320, "at_risk"),  # 1320 is 10% above the cap: less than 1/0.85 - 1
        (50, "2025-10", 500, 600, "on_track"),
        (150, "2025-06", 900, 1800, "off_track"),  # far above
        (110, "2025-12", 1320, 1320, "off_track"),  # already exceeded
        (50, "2025-12", 600, 600, "achieved"),  # the year is over within the cap
    ],
)
def test_cap_about_to_be_exceeded(
    con: duckdb.DuckDBPyConnection,
    tcfg: TargetsConfig,
    per_month: int,
    as_of: str,
    actual: float,
    forecast: float,
    status: str,
) -> None:
    put(con, "bus_cards", "dongsheng", months("2025-01", as_of), per_month)
    r = row(scorecard(con, d(as_of), cfg=tcfg), "cards_cap_1200")
    assert r["actual"] == pytest.approx(actual)
    assert r["forecast"] == pytest.approx(forecast)
    assert r["expected"] == pytest.approx(1200 * d(as_of).month / 12)
    assert r["progress"] == pytest.approx(actual / 1200)
    assert r["status"] == status
    assert r["years"] == []


def test_cap_about_to_be_exceeded_says_so(con: duckdb.DuckDBPyConnection, tcfg: TargetsConfig) -> None:
    put(con, "bus_cards", "dongsheng", months("2025-01", "2025-10"), 110)
    r = row(scorecard(con, d("2025-10"), cfg=tcfg), "cards_cap_1200")
    assert (
        r["reason_zh"]
        == "2025年1—10月累计1,100张，按限额进度为1,000张；按近9个月趋势预计全年1,320张（年度上限1,200张）"
    )


def test_cap_before_its_first_year_is_judged_on_that_year_at_the_current_pace(
    con: duckdb.DuckDBPyConnection, tcfg: TargetsConfig
) -> None:
    put(con, "bus_cards", "dongsheng", months("2024-02", "2024-10"), 110)  # cards counted from 2025
    r = row(scorecard(con, d("2024-10"), cfg=tcfg), "cards_cap_1200")
    assert (r["actual"], r["expected"], r["time_elapsed"]) == (0, 0, 0)
    assert r["forecast"] == pytest.approx(110 * 12)
    assert r["status"] == "at_risk"
    assert r["reason_zh"] == "2025年起按年考核，尚未开始；按近9个月趋势预计全年1,320张（年度上限1,200张）"
    s = series(con, "cards_cap_1200", d("2024-10"), cfg=tcfg).set_index("period")
    assert s.loc[dt.date(2024, 10, 1), "expected"] == 0
    assert s.loc[dt.date(2025, 1, 1), "forecast"] == pytest.approx(110)
    assert s.loc[dt.date(2025, 12, 1), "forecast"] == pytest.approx(1320)


def test_level_cap_under_the_cap_is_on_track_until_its_deadline(
    con: duckdb.DuckDBPyConnection, tcfg: TargetsConfig
) -> None:
    put(con, "rent_share", "city", months("2024-07", "2026-12"), 68)
    r = row(scorecard(con, d("2025-06"), cfg=tcfg), "rent_cap_70")
    assert (r["actual"], r["expected"], r["forecast"], r["status"]) == (68, 70, 68, "on_track")
    assert r["reason_zh"] == "截至2025年6月为68%；按近9个月趋势预计2026年12月达68%（上限70%）"
    assert row(scorecard(con, d("2026-12"), cfg=tcfg), "rent_cap_70")["status"] == "achieved"
    put(con, "rent_share", "city", [d("2026-12")], 71, revision=2)
    assert row(scorecard(con, d("2026-12"), cfg=tcfg), "rent_cap_70")["status"] == "off_track"
    assert row(scorecard(con, d("2027-01"), cfg=tcfg), "rent_cap_70")["status"] == "overdue"


# ------------------------------------------------------------------------------------------ 左右, milestones


def test_approximate_target_inside_tolerance_is_achieved(con: duckdb.DuckDBPyConnection, tcfg: TargetsConfig) -> None:
    put(con, "retention", "city", months("2024-07", "2025-06"), 29)
    r = row(scorecard(con, d("2025-06"), cfg=tcfg), "retention_30")
    assert r["status"] == "achieved"
    assert r["tolerance"] == 2
    assert r["expected"] == pytest.approx(22 + 8 * 12 / 30)
    assert r["reason_zh"] == "截至2025年6月为29%，在目标30%左右（±2%）范围内"


@pytest.mark.parametrize(
    ("start", "step", "forecast", "status"),
    [
        (21.25, 0.25, 28.5, "on_track"),  # outside the band now, inside at the deadline
        (25.0, 0.0, 25.0, "off_track"),  # outside and flat: 3/8 of the distance
        (30.0, 0.5, 44.5, "achieved"),  # above the band now: above "about" is not behind (issue 13)
    ],
)
def test_approximate_target_outside_tolerance_is_judged_on_its_forecast_unless_above(
    con: duckdb.DuckDBPyConnection, tcfg: TargetsConfig, start: float, step: float, forecast: float, status: str
) -> None:
    put(con, "retention", "city", months("2024-07", "2025-06"), lambda i: start + step * i)
    r = row(scorecard(con, d("2025-06"), cfg=tcfg), "retention_30")
    assert r["actual"] == pytest.approx(start + step * 11)
    assert r["forecast"] == pytest.approx(forecast)
    assert r["status"] == status


@pytest.mark.parametrize(
    ("as_of", "status"),
    [("2024-08", "on_track"), ("2024-10", "at_risk"), ("2024-12", "at_risk"), ("2025-02", "overdue")],
)
def test_milestone_overdue_after_its_deadline_and_at_risk_in_its_last_three_months(
    con: duckdb.DuckDBPyConnection, tcfg: TargetsConfig, as_of: str, status: str
) -> None:
    put(con, "portal_online", "city", months("2024-07", "2025-02"), 0)
    r = row(scorecard(con, d(as_of), cfg=tcfg), "portal")
    assert r["status"] == status
    assert r["actual"] == 0
    assert r["expected"] == (1 if as_of >= "2024-12" else 0)
    assert math.isnan(r["forecast"])
    if status == "overdue":
        assert r["reason_zh"] == "截至2025年2月仍未完成，已过截止时间2024年12月"


def test_milestone_never_reported_names_its_deadline(con: duckdb.DuckDBPyConnection, tcfg: TargetsConfig) -> None:
    r = row(scorecard(con, d("2024-10"), cfg=tcfg), "portal")
    assert r["status"] == "no_data"
    assert r["reason_zh"] == "截至2024年10月无数据（截止时间2024年12月）"
    assert r["reason_en"] == "No figures reported up to Oct 2024 (due Dec 2024)"


def test_milestone_done_stays_achieved_when_reporting_stops(
    con: duckdb.DuckDBPyConnection, tcfg: TargetsConfig
) -> None:
    put(con, "portal_online", "city", months("2024-07", "2024-10"), [0, 0, 1, 1])
    assert row(scorecard(con, d("2024-10"), cfg=tcfg), "portal")["status"] == "achieved"
    assert row(scorecard(con, d("2026-01"), cfg=tcfg), "portal")["status"] == "achieved"


def test_nothing_reported_at_all_is_no_data_for_every_target(
    con: duckdb.DuckDBPyConnection, tcfg: TargetsConfig
) -> None:
    card = scorecard(con, d("2025-06"), cfg=tcfg)
    assert len(card) == len(CONFIG["targets"])
    assert set(card["status"]) == {"no_data"}
    assert list(card.columns) == list(progress.SCORECARD_COLUMNS)
    assert set(REQUIRED_COLUMNS) <= set(card.columns)
    assert list(card["target_id"]) == [t["id"] for t in CONFIG["targets"]]


def test_every_status_is_labelled_in_both_languages_worst_first() -> None:
    assert STATUSES == ("off_track", "overdue", "at_risk", "no_data", "on_track", "achieved")
    assert STATUS_LABELS["achieved"] == ("已完成", "Achieved")
    assert STATUS_LABELS["on_track"][0] == "正常推进"
    assert STATUS_LABELS["at_risk"][0] == "需关注"
    assert STATUS_LABELS["off_track"][0] == "明显滞后"
    assert STATUS_LABELS["overdue"][0] == "逾期未完成"
    assert STATUS_LABELS["no_data"][0] == "数据缺失"
    assert set(STATUS_LABELS) == set(STATUSES)


# ------------------------------------------------------------------------------------------ series


def test_series_gives_the_judged_line_the_plan_and_the_forecast_band(
    con: duckdb.DuckDBPyConnection, tcfg: TargetsConfig
) -> None:
    rental_on_line(con)
    s = series(con, "rental_3600", d("2025-06"), cfg=tcfg).set_index("period")
    assert s.index[0] == dt.date(2024, 7, 1) and s.index[-1] == dt.date(2027, 6, 1)
    assert s.loc[dt.date(2024, 7, 1), "actual"] == pytest.approx(100)
    assert s.loc[dt.date(2025, 6, 1), "actual"] == pytest.approx(1200)
    assert s.loc[dt.date(2025, 6, 1), "expected"] == pytest.approx(1200)
    assert s.loc[dt.date(2027, 6, 1), "expected"] == pytest.approx(3600)
    assert s.loc[dt.date(2025, 6, 1), "forecast"] == pytest.approx(1200)
    assert s.loc[dt.date(2027, 6, 1), "forecast"] == pytest.approx(3600)
    assert math.isnan(s.loc[dt.date(2025, 5, 1), "forecast"])
    assert math.isnan(s.loc[dt.date(2025, 7, 1), "actual"])
    east = series(con, "rental_3600", d("2025-06"), cfg=tcfg, district="dongsheng").set_index("period")
    assert east.loc[dt.date(2025, 6, 1), "actual"] == pytest.approx(720)
    assert east.loc[dt.date(2027, 6, 1), "expected"] == pytest.approx(1200)


def test_series_of_an_annual_target_restarts_each_january(con: duckdb.DuckDBPyConnection, tcfg: TargetsConfig) -> None:
    put(con, "jobs_new", "dongsheng", months("2024-01", "2025-10"), 100)
    s = series(con, "jobs_1200_yearly", d("2025-10"), cfg=tcfg).set_index("period")
    assert s.loc[dt.date(2024, 12, 1), "actual"] == pytest.approx(1200)
    assert s.loc[dt.date(2025, 1, 1), "actual"] == pytest.approx(100)
    assert s.loc[dt.date(2025, 1, 1), "expected"] == pytest.approx(100)
    assert s.loc[dt.date(2025, 12, 1), "forecast"] == pytest.approx(1200)
    assert s.index[-1] == dt.date(2026, 12, 1)


# ------------------------------------------------------------------------------------------ CLI


CLI_KEYS = [
    "target_id", "kpi_id", "name_zh", "unit", "deadline", "comparator", "target_value", "baseline_value", "actual",
    "as_of", "expected", "progress", "forecast", "forecast_low", "forecast_high", "status", "reason_zh", "reason_en",
]  # fmt: skip
NUMERIC = [
    "target_value",
    "baseline_value",
    "actual",
    "expected",
    "progress",
    "forecast",
    "forecast_low",
    "forecast_high",
]


def _targets_file(tmp_path: Path) -> Path:
    path = tmp_path / "targets.yaml"
    path.write_text(yaml.safe_dump(copy.deepcopy(CONFIG), allow_unicode=True), encoding="utf-8")
    return path


def test_cli_json_has_every_key_with_numbers_as_numbers(
    wh: tuple[duckdb.DuckDBPyConnection, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    con, path = wh
    rental_on_line(con)
    con.close()  # the command line opens the file read-only
    argv = [
        "scorecard",
        "--as-of",
        "2025-06",
        "--db",
        str(path),
        "--format",
        "json",
        "--targets",
        str(_targets_file(tmp_path)),
    ]
    assert main(argv) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["target_id"] for r in rows] == [t["id"] for t in CONFIG["targets"]]
    for r in rows:
        assert list(r) == [*CLI_KEYS, "years", "assumed"]  # JSON only (issue 13): calendar years, assumptions
        for key in NUMERIC:
            assert r[key] is None or (isinstance(r[key], int | float) and not isinstance(r[key], bool)), (key, r)
        assert r["status"] in STATUSES
    rental = rows[0]
    assert rental["deadline"] == "2027-06-30"
    assert rental["as_of"] == "2025-06"
    assert rental["unit"] == "套"
    assert rental["actual"] == 1200 and rental["forecast"] == 3600 and rental["status"] == "on_track"
    assert rows[1]["actual"] is None  # apartments: nothing reported -> null, not NaN


def test_cli_table_csv_and_district_by_chinese_name(
    wh: tuple[duckdb.DuckDBPyConnection, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    con, path = wh
    rental_on_line(con)
    con.close()
    targets = str(_targets_file(tmp_path))
    assert main(["scorecard", "--as-of", "2025-06", "--db", str(path), "--targets", targets]) == 0
    assert "rental_3600" in capsys.readouterr().out
    common = ["--db", str(path), "--targets", targets, "--format", "csv"]
    assert main(["scorecard", "--as-of", "2025-06", "--district", "东胜区", *common]) == 0
    csv = capsys.readouterr().out.splitlines()
    assert csv[0].split(",") == CLI_KEYS
    assert any(line.startswith("rental_3600,rental_units,") and ",720.0," in line for line in csv)
    assert main(["scorecard", "--as-of", "2025-06", "--district", "不存在", *common]) == 2
    assert "未知旗区" in capsys.readouterr().err
