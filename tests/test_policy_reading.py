"""How the policy's words are judged (issue 13), one hand-computed case each: "左右" above its range,
a minimum every year ("不低于"), an average over five years ("年均"), and a milestone inside a sentence
("到2025年…5万人，到2030年…10万人").

Targets are built here as the policy reads (never the real targets.yaml); months run from the policy
start 2024-07-01, observations are inserted directly, as in tests/test_progress.py.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from monitor import db
from monitor.progress import scorecard, series
from monitor.targets import TargetsConfig, TargetsError, load_targets, parse_targets
from tests.test_progress import _kpi, _target, d, months, put, row

CONFIG: dict[str, Any] = {
    "version": 1,
    "policy": {"title": "测试政策", "issued": dt.date(2024, 7, 15), "start": dt.date(2024, 7, 1)},
    "thresholds": {"at_risk": 0.85, "stale_months": 2, "trend_months": 9},
    "bureaus": [
        {"id": "hrss", "name_zh": "人社局", "name_en": "HRSS"},
        {"id": "sasac", "name_zh": "国资委", "name_en": "SASAC"},
        {"id": "education", "name_zh": "教体局", "name_en": "Education"},
    ],
    "districts": [
        {"id": "city", "name_zh": "全市", "name_en": "Whole city", "kind": "city"},
        {"id": "dongsheng", "name_zh": "东胜区", "name_en": "Dongsheng", "kind": "district"},
        {"id": "kangbashi", "name_zh": "康巴什区", "name_en": "Kangbashi", "kind": "district"},
    ],
    "kpis": [
        _kpi("retention", "%", "%", "ratio", "level", "city", "hrss"),
        _kpi("students", "人", "students", "count", "level", "city", "education"),
        _kpi("soe_share", "%", "%", "ratio", "level", "city", "sasac"),
        _kpi("youth_outside", "人", "people", "count", "increment", "sum", "hrss"),
        _kpi("talents", "人", "people", "count", "increment", "sum", "hrss"),
        _kpi("jobs_new", "人", "people", "count", "increment", "sum", "hrss"),
        _kpi("cards", "张", "cards", "count", "increment", "sum", "hrss"),
    ],
    "targets": [
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
        _target(
            "students_40k",
            "students",
            "stock",
            "~",
            40000,
            dt.date(2030, 12, 31),
            tolerance=2000,
            baseline={"value": 25000, "date": dt.date(2024, 7, 1)},
        ),
        _target("soe_share_30", "soe_share", "floor", ">=", 30, dt.date(2027, 12, 31)),
        _target(
            "youth_outside_avg_10k",
            "youth_outside",
            "cumulative",
            ">=",
            50000,
            dt.date(2029, 6, 30),
            baseline={"value": 0, "date": dt.date(2024, 7, 1)},
        ),
        _target(
            "talents_100k",
            "talents",
            "cumulative",
            ">=",
            100000,
            dt.date(2030, 12, 31),
            baseline={"value": 0, "date": dt.date(2024, 7, 1)},
            milestones=[{"date": dt.date(2025, 12, 31), "value": 50000}],
        ),
        # "每年" from the policy's start (no `start`): 2024 has 6 months in force
        _target("jobs_1200_yearly", "jobs_new", "annual", ">=", 1200, dt.date(2026, 12, 31)),
        _target("cards_cap_1200", "cards", "cap", "<=", 1200, dt.date(2026, 12, 31)),
    ],
}


@pytest.fixture
def pcfg() -> TargetsConfig:
    return parse_targets(copy.deepcopy(CONFIG))


@pytest.fixture
def con(tmp_path: Path, pcfg: TargetsConfig) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = db.connect(tmp_path / "warehouse.duckdb")
    db.load_reference(connection, pcfg)
    try:
        yield connection
    finally:
        connection.close()


# ------------------------------------------------------------------------------------------ 左右


def test_about_target_above_its_range_is_achieved_and_says_it_is_above(
    con: duckdb.DuckDBPyConnection, pcfg: TargetsConfig
) -> None:
    put(con, "retention", "city", months("2024-07", "2026-09"), 32.1)
    r = row(scorecard(con, d("2026-09"), cfg=pcfg), "retention_30")
    assert r["status"] == "achieved"  # before issue 13: off_track, 32.1 is outside 30 ± 2
    assert r["reason_zh"] == "截至2026年9月为32.1%，高于目标区间（28%—32%）"
    assert r["reason_en"] == "As of Sep 2026: 32.1%, above the target range (28%–32%)"


def test_about_target_above_its_range_after_the_deadline_stays_achieved(
    con: duckdb.DuckDBPyConnection, pcfg: TargetsConfig
) -> None:
    put(con, "retention", "city", months("2024-07", "2026-12"), 35)
    r = row(scorecard(con, d("2027-01"), cfg=pcfg), "retention_30")
    assert r["status"] == "achieved"
    assert r["reason_zh"] == "截至2027年1月为35%，高于目标区间（28%—32%）"


def test_about_target_inside_its_range_is_achieved_within_it(
    con: duckdb.DuckDBPyConnection, pcfg: TargetsConfig
) -> None:
    put(con, "retention", "city", months("2024-07", "2026-09"), 30.5)
    r = row(scorecard(con, d("2026-09"), cfg=pcfg), "retention_30")
    assert r["status"] == "achieved"
    assert r["reason_zh"] == "截至2026年9月为30.5%，在目标30%左右（±2%）范围内"


def test_about_count_target_above_its_range_names_the_range_in_its_unit(
    con: duckdb.DuckDBPyConnection, pcfg: TargetsConfig
) -> None:
    put(con, "students", "city", months("2024-07", "2026-09"), 42500)
    r = row(scorecard(con, d("2026-09"), cfg=pcfg), "students_40k")
    assert r["status"] == "achieved"
    assert r["reason_zh"] == "截至2026年9月为4.25万人，高于目标区间（3.8万人—4.2万人）"
    assert r["reason_en"] == "As of Sep 2026: 42,500 students, above the target range (38,000 students–42,000 students)"


def test_about_target_below_its_range_heading_above_it_is_on_track(
    con: duckdb.DuckDBPyConnection, pcfg: TargetsConfig
) -> None:
    # 20% rising 0.5 a month: 25.5% in June 2025, 25.5 + 0.5 * 18 = 34.5% by December 2026
    put(con, "retention", "city", months("2024-07", "2025-06"), lambda i: 20 + 0.5 * i)
    r = row(scorecard(con, d("2025-06"), cfg=pcfg), "retention_30")
    assert r["forecast"] == pytest.approx(34.5)
    assert r["status"] == "on_track"  # before issue 13: off_track, the forecast overshoots 32
    assert r["reason_zh"] == (
        "截至2025年6月为25.5%，按计划应达25.2%；按近9个月趋势预计2026年12月达34.5%（目标30%左右（±2%））"
    )


def test_about_target_below_its_range_at_the_deadline_is_overdue(
    con: duckdb.DuckDBPyConnection, pcfg: TargetsConfig
) -> None:
    put(con, "retention", "city", months("2024-07", "2026-12"), 27.9)
    r = row(scorecard(con, d("2027-01"), cfg=pcfg), "retention_30")
    assert r["status"] == "overdue"
    assert r["reason_zh"] == "截至2027年1月为27.9%，截止2026年12月未完成目标30%左右（±2%）"


# ------------------------------------------------------------------------------------------ 不低于 (floor)


def _soe_2024_2025(con: duckdb.DuckDBPyConnection) -> None:
    """31% through 2024 (met), 29% through 2025 (missed)."""
    put(con, "soe_share", "city", months("2024-07", "2024-12"), 31)
    put(con, "soe_share", "city", months("2025-01", "2025-12"), 29)


def test_floor_below_its_minimum_is_off_track_whatever_the_trend(
    con: duckdb.DuckDBPyConnection, pcfg: TargetsConfig
) -> None:
    _soe_2024_2025(con)
    put(con, "soe_share", "city", months("2026-01", "2026-09"), 27.8)
    r = row(scorecard(con, d("2026-09"), cfg=pcfg), "soe_share_30")
    assert r["expected"] == pytest.approx(30)  # the minimum itself, no line from an assumed baseline
    assert r["status"] == "off_track"
    assert r["years"] == [
        {"year": 2024, "actual": 31.0, "target": 30.0, "met": True},
        {"year": 2025, "actual": 29.0, "target": 30.0, "met": False},
    ]
    assert r["reason_zh"] == "截至2026年9月为27.8%，低于要求（每年不低于30%）；2025年29%（未达标）"
    assert r["reason_en"] == (
        "As of Sep 2026: 27.8%, below the requirement (at least 30% every year); 2025: 29% (missed)"
    )


def test_floor_in_its_first_half_year_is_judged_from_the_policy_start(
    con: duckdb.DuckDBPyConnection, pcfg: TargetsConfig
) -> None:
    put(con, "soe_share", "city", months("2024-07", "2024-10"), 27.8)
    r = row(scorecard(con, d("2024-10"), cfg=pcfg), "soe_share_30")
    assert r["status"] == "off_track"
    assert r["reason_zh"] == "截至2024年10月为27.8%，低于要求（每年不低于30%）"


def test_floor_kept_is_on_track_and_falling_towards_it_is_at_risk(
    con: duckdb.DuckDBPyConnection, pcfg: TargetsConfig
) -> None:
    _soe_2024_2025(con)
    put(con, "soe_share", "city", months("2026-01", "2026-09"), 31)
    r = row(scorecard(con, d("2026-09"), cfg=pcfg), "soe_share_30")
    assert r["status"] == "on_track"
    assert r["reason_zh"] == "截至2026年9月为31%，符合要求（每年不低于30%）；2025年29%（未达标）"

    # 34% in January falling 0.5 a month: 30% in September, 28.5% projected for December
    put(con, "soe_share", "city", months("2026-01", "2026-09"), lambda i: 34 - 0.5 * i, revision=2)
    r = row(scorecard(con, d("2026-09"), cfg=pcfg), "soe_share_30")
    assert r["forecast"] == pytest.approx(28.5)
    assert r["status"] == "at_risk"
    assert r["reason_zh"] == (
        "截至2026年9月为30%，符合要求；按近9个月趋势预计年末为28.5%（每年不低于30%）；2025年29%（未达标）"
    )


def test_floor_kept_to_its_deadline_is_achieved_and_missed_at_it_is_overdue(
    con: duckdb.DuckDBPyConnection, pcfg: TargetsConfig
) -> None:
    put(con, "soe_share", "city", months("2024-07", "2027-12"), 30)
    assert row(scorecard(con, d("2027-12"), cfg=pcfg), "soe_share_30")["status"] == "achieved"
    put(con, "soe_share", "city", [d("2027-12")], 29.9, revision=2)
    r = row(scorecard(con, d("2028-01"), cfg=pcfg), "soe_share_30")
    assert r["status"] == "overdue"
    assert r["reason_zh"] == "截至2028年1月为29.9%，低于要求（每年不低于30%）；2027年29.9%（未达标）"


def test_floor_with_a_baseline_or_another_comparator_is_refused() -> None:
    bad = copy.deepcopy(CONFIG)
    floor = next(t for t in bad["targets"] if t["id"] == "soe_share_30")
    floor["baseline"] = {"value": 25, "date": dt.date(2024, 7, 1)}
    with pytest.raises(TargetsError) as err:
        parse_targets(bad)
    assert err.value.problems == [
        "targets[2] (id=soe_share_30): floor（每年不低于）目标的 comparator 应为 >=，且不设基线"
    ]


# ------------------------------------------------------------------------------------------ 年均 over five years


def test_yearly_average_is_judged_on_the_total_against_ten_thousand_a_year_gone(
    con: duckdb.DuckDBPyConnection, pcfg: TargetsConfig
) -> None:
    # 900 a month from July 2024: 15 months = 13,500 against 10,000 x 1.25 years = 12,500
    put(con, "youth_outside", "dongsheng", months("2024-07", "2025-09"), 900)
    card = scorecard(con, d("2025-09"), cfg=pcfg)
    r = row(card, "youth_outside_avg_10k")
    assert r["actual"] == pytest.approx(13500)  # 2024 H2 counts
    assert r["expected"] == pytest.approx(12500)
    assert r["forecast"] == pytest.approx(13500 + 900 * 45)  # 45 months to June 2029
    assert r["status"] == "on_track"
    assert r["reason_zh"] == (
        "截至2025年9月累计完成1.35万人，按计划应达1.25万人；按近9个月趋势预计2029年6月达5.4万人（目标5万人）"
    )
    assert row(scorecard(con, d("2024-12"), cfg=pcfg), "youth_outside_avg_10k")["expected"] == pytest.approx(5000)


def test_yearly_average_in_the_short_last_year_is_not_held_to_a_full_year(
    con: duckdb.DuckDBPyConnection, pcfg: TargetsConfig
) -> None:
    # 50,000 in the five years (60 months to June 2029), nothing in 2029 itself: the average is met
    put(con, "youth_outside", "dongsheng", months("2024-07", "2029-06"), lambda i: 1000 if i < 50 else 0)
    r = row(scorecard(con, d("2029-06"), cfg=pcfg), "youth_outside_avg_10k")
    assert r["actual"] == pytest.approx(50000)
    assert r["status"] == "achieved"
    assert r["reason_zh"] == "截至2029年6月累计完成5万人，已达到目标5万人"


# ------------------------------------------------------------------------------- 5万 by 2025 on the way to 10万


def test_milestone_of_the_same_sentence_bends_the_plan_towards_2030(
    con: duckdb.DuckDBPyConnection, pcfg: TargetsConfig
) -> None:
    put(con, "talents", "dongsheng", months("2024-07", "2025-09"), 2800)
    r = row(scorecard(con, d("2025-09"), cfg=pcfg), "talents_100k")
    assert r["expected"] == pytest.approx(50000 * 15 / 18)  # 18 months to 5万 at the end of 2025
    assert r["status"] == "on_track"
    assert r["reason_zh"] == (
        "截至2025年9月累计完成4.2万人，按计划应达4.17万人；按近9个月趋势预计2030年12月达21.84万人（目标10万人）"
    )
    line = series(con, "talents_100k", d("2025-09"), cfg=pcfg).set_index("period")["expected"]
    assert line[d("2025-12")] == pytest.approx(50000)
    assert line[d("2026-12")] == pytest.approx(60000)  # then 50,000 over 60 months


# ------------------------------------------------------------------------------------------ 2024 H2


def test_yearly_target_is_judged_in_2024_on_its_six_months_in_force(
    con: duckdb.DuckDBPyConnection, pcfg: TargetsConfig
) -> None:
    put(con, "jobs_new", "dongsheng", months("2024-07", "2024-10"), 100)
    r = row(scorecard(con, d("2024-10"), cfg=pcfg), "jobs_1200_yearly")
    assert r["actual"] == pytest.approx(400)
    assert r["target_value"] == pytest.approx(600)  # 1,200 x 6/12
    assert r["expected"] == pytest.approx(400)  # 1,200 x 4/12: July to October
    assert r["time_elapsed"] == pytest.approx(4 / 6)
    assert r["forecast"] == pytest.approx(600)  # 400 + 100 x 2
    assert r["status"] == "on_track"
    assert (
        r["reason_zh"] == "2024年7—10月累计400人，按进度应达400人；按近4个月趋势预计全年600人（2024年7—12月目标600人）"
    )
    assert r["reason_en"] == (
        "Jul–Oct 2024: 400 people against 400 people planned; the 4-month trend projects 600 people for the year "
        "(target 600 people for Jul–Dec 2024)"
    )


def test_the_prorated_first_year_is_listed_and_the_next_year_asks_the_full_target(
    con: duckdb.DuckDBPyConnection, pcfg: TargetsConfig
) -> None:
    put(con, "jobs_new", "dongsheng", months("2024-07", "2025-03"), 100)
    r = row(scorecard(con, d("2025-03"), cfg=pcfg), "jobs_1200_yearly")
    assert r["years"] == [{"year": 2024, "actual": 600.0, "target": 600.0, "met": True}]
    assert r["target_value"] == pytest.approx(1200)
    assert r["status"] == "on_track"
    assert r["reason_zh"] == (
        "2025年1—3月累计300人，按进度应达300人；按近9个月趋势预计全年1,200人（年度目标1,200人）；2024年600人（达标）"
    )
    line = series(con, "jobs_1200_yearly", d("2025-03"), cfg=pcfg).set_index("period")["expected"]
    assert [line[d(m)] for m in ("2024-07", "2024-12", "2025-01")] == pytest.approx([100, 600, 100])


def test_yearly_cap_in_2024_allows_half_the_year(con: duckdb.DuckDBPyConnection, pcfg: TargetsConfig) -> None:
    put(con, "cards", "dongsheng", months("2024-07", "2024-10"), 110)
    r = row(scorecard(con, d("2024-10"), cfg=pcfg), "cards_cap_1200")
    assert r["expected"] == pytest.approx(400)  # the allowance of July to October
    assert r["forecast"] == pytest.approx(660)  # 10% above the 600 of 2024: at risk
    assert r["status"] == "at_risk"
    assert (
        r["reason_zh"]
        == "2024年7—10月累计440张，按限额进度为400张；按近4个月趋势预计全年660张（2024年7—12月上限600张）"
    )


# ------------------------------------------------------------------------------------------ targets.yaml


def test_the_real_targets_read_the_three_sentences_as_written() -> None:
    targets = {t.id: t for t in load_targets().targets}
    soe = targets["soe_graduate_share_30"]
    assert (soe.kind, soe.comparator, soe.value, soe.baseline) == ("floor", ">=", 30, None)
    youth = targets["youth_from_outside_10k_yearly"]
    assert (youth.kind, youth.value, youth.deadline) == ("cumulative", 50000, dt.date(2029, 6, 30))
    assert youth.baseline is not None and youth.baseline.date == dt.date(2024, 7, 1)
    talents = targets["talents_100k_2030"]
    assert [(m.date, m.value) for m in talents.milestones] == [(dt.date(2025, 12, 31), 50000)]
    yearly = [t for t in targets.values() if t.kind in ("annual", "cap")]
    assert [t.id for t in yearly if t.start is not None] == []  # every "每年" applies from the policy's start
