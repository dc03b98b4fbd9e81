"""The two targets the policy implies without writing a number (issue 13), read from targets.yaml and
judged on hand-computed cases through the real ETL (a bureau's csv, load_bytes):

* 三(二) "全部面向本行政区域内供职无房“新市民”、青年人等群体供应": every affordable rental unit let goes to
  them, a floor of 100% (不低于100%) on the share of the units let so far, due with the 1.5万 target
  (2027-07-31, assumed);
* 四(四) "支持“两本三专”实现“一校一研究院”建设": each of the five colleges has its own research
  institute, a stock of 5 from an assumed 0 in 2024-07, due with the same sentence's "3年内" (2027-07-31).

Both entries are taken from the repository's targets.yaml and added to the config of conftest.py.
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
import yaml

from etl.load import load_bytes
from monitor import db
from monitor.progress import scorecard
from monitor.targets import DEFAULT_TARGETS, TargetsConfig, load_targets, parse_targets
from tests.conftest import DEMO_AS_OF, TARGETS_DICT, TODAY

SHARE, SHARE_TARGET = "rental_housing_newcomer_share", "rental_housing_newcomer_share_100"
INSTITUTES, INSTITUTES_TARGET = "college_research_institutes", "college_institutes_5_3y"
POLICY_TEXT = (Path(__file__).resolve().parents[1] / "docs" / "policy" / "ordos-0477-measures.zh.txt").read_text(
    encoding="utf-8"
)


def _real(kind: str, entry_id: str) -> dict[str, Any]:
    raw = yaml.safe_load(DEFAULT_TARGETS.read_text(encoding="utf-8"))
    return {**next(e for e in raw[kind] if e["id"] == entry_id), "section": "测试"}


def _config() -> dict[str, Any]:
    raw = copy.deepcopy(TARGETS_DICT)
    raw["bureaus"].append({"id": "education", "name_zh": "市教育体育局", "name_en": "Municipal Education Bureau"})
    raw["kpis"] += [_real("kpis", SHARE), _real("kpis", INSTITUTES)]
    raw["targets"] += [_real("targets", SHARE_TARGET), _real("targets", INSTITUTES_TARGET)]
    return raw


@pytest.fixture
def icfg() -> TargetsConfig:
    return parse_targets(_config())


@pytest.fixture
def con(tmp_path: Path, icfg: TargetsConfig) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = db.connect(tmp_path / "warehouse.duckdb")
    db.load_reference(connection, icfg)
    try:
        yield connection
    finally:
        connection.close()


def report(
    con: duckdb.DuckDBPyConnection,
    cfg: TargetsConfig,
    bureau: str,
    kpi: str,
    figures: dict[str, float],
    today: dt.date = TODAY,
) -> None:
    """One csv per month, as the bureau sends them: the city row of ``kpi`` for each month given."""
    for month, value in figures.items():
        data = f"指标编码,旗区,报送期,数值\n{kpi},全市,{month},{value:g}\n".encode()
        result = load_bytes(f"{bureau}_{month}.csv", data, cfg, bureau, "zhang_san", con, archive=None, today=today)
        assert result.outcome == "accepted", [p.zh() for p in result.problems]


def judged(con: duckdb.DuckDBPyConnection, cfg: TargetsConfig, month: str, target_id: str) -> pd.Series:
    card = scorecard(con, dt.date.fromisoformat(f"{month}-01"), cfg=cfg)
    return card[card["target_id"] == target_id].iloc[0]


def months(first: str, last: str) -> list[str]:
    return [p.strftime("%Y-%m") for p in pd.date_range(f"{first}-01", f"{last}-01", freq="MS")]


# -- how targets.yaml reads the two sentences -----------------------------------------------------------


def test_both_implied_targets_are_read_from_their_sentences_with_what_is_assumed() -> None:
    cfg = load_targets()
    targets = {t.id: t for t in cfg.targets}
    share, institutes = targets[SHARE_TARGET], targets[INSTITUTES_TARGET]
    assert (share.kpi, share.section, share.kind, share.comparator, share.value) == (
        SHARE,
        "三(二)",
        "floor",
        ">=",
        100,
    )
    assert (share.deadline, share.baseline, share.assumed) == (dt.date(2027, 7, 31), None, ["deadline", "reading"])
    # the same deadline as the 1.5万 units of the same sentence
    assert share.deadline == targets["rental_housing_15k"].deadline
    assert (institutes.kpi, institutes.section, institutes.kind, institutes.comparator, institutes.value) == (
        INSTITUTES, "四(四)", "stock", ">=", 5,
    )  # fmt: skip
    assert (institutes.baseline.value, institutes.baseline.date) == (0, dt.date(2024, 7, 1))
    assert (institutes.deadline, institutes.assumed) == (dt.date(2027, 7, 31), ["baseline", "deadline"])
    for target in (share, institutes):
        assert target.source in POLICY_TEXT
        assert "隐含目标" in target.note and "假设" in target.note
    kpis = cfg.kpi_by_id
    # lead: the bureau each paragraph names (（责任单位：市住房和城乡建设局） / （责任单位：市教育体育局）)
    read = {k: (kpis[k].lead, kpis[k].value_type, kpis[k].reporting, kpis[k].aggregation) for k in (SHARE, INSTITUTES)}
    assert read == {SHARE: ("housing", "ratio", "level", "city"), INSTITUTES: ("education", "count", "level", "city")}
    # each sits in its section in the policy's order: after 9500套, and before the 博士点 of the next clause
    ids = [t.id for t in cfg.targets]
    assert ids.index(SHARE_TARGET) == ids.index("rental_housing_9500_core") + 1
    assert ids.index(INSTITUTES_TARGET) == ids.index("doctoral_programme_1_3y") - 1


# -- 全部面向“新市民”、青年人: a floor of 100% ----------------------------------------------------------------


def test_a_share_below_100_percent_is_off_track_whatever_its_trend(
    con: duckdb.DuckDBPyConnection, icfg: TargetsConfig
) -> None:
    """98.5% in September and October 2026: below the floor, so behind (the floor rule: below it is
    off track before the deadline), even though the trend is flat."""
    report(con, icfg, "housing", SHARE, {"2026-09": 98.5, "2026-10": 98.5})
    row = judged(con, icfg, "2026-10", SHARE_TARGET)
    assert (row["status"], row["actual"], row["target_value"]) == ("off_track", 98.5, 100)
    assert row["reason_zh"] == "截至2026年10月为98.5%，低于要求（每年不低于100%）"


def test_every_unit_let_to_new_residents_is_on_track_before_the_deadline_and_achieved_at_it(
    con: duckdb.DuckDBPyConnection, icfg: TargetsConfig
) -> None:
    report(con, icfg, "housing", SHARE, {"2026-09": 100, "2026-10": 100})
    row = judged(con, icfg, "2026-10", SHARE_TARGET)
    assert (row["status"], row["actual"], row["forecast"]) == ("on_track", 100, 100)
    # the deadline month (2027-07, reported in August 2027) at 100%: achieved
    report(con, icfg, "housing", SHARE, {"2027-06": 100, "2027-07": 100}, today=dt.date(2027, 8, 15))
    assert judged(con, icfg, "2027-07", SHARE_TARGET)["status"] == "achieved"


def test_a_share_below_100_percent_after_the_deadline_is_overdue(
    con: duckdb.DuckDBPyConnection, icfg: TargetsConfig
) -> None:
    """100% in the deadline month (achieved), then 99.2% in August 2027: below the floor once the
    deadline has passed is overdue (a floor is judged on its latest figure within the deadline year)."""
    report(con, icfg, "housing", SHARE, {"2027-07": 100, "2027-08": 99.2}, today=dt.date(2027, 9, 15))
    assert judged(con, icfg, "2027-07", SHARE_TARGET)["status"] == "achieved"
    row = judged(con, icfg, "2027-08", SHARE_TARGET)
    assert (row["status"], row["actual"]) == ("overdue", 99.2)
    assert row["reason_en"] == "As of Aug 2027: 99.2%, below the requirement (at least 100% every year)"


# -- 一校一研究院: 5 colleges, a stock from 0 ------------------------------------------------------------


def test_three_of_five_institutes_in_june_2026_is_judged_on_the_plan_and_the_trend(
    con: duckdb.DuckDBPyConnection, icfg: TargetsConfig
) -> None:
    """0 institutes until 2025-03, 1 from 2025-04, 2 from 2025-10, 3 from 2026-04; as of 2026-06:

    plan: 0 in 2024-07 to 5 at the end of July 2027 (37 months); 24 months gone: 5 × 24 / 37 = 3.24.
    trend (2025-10 … 2026-06, nine months: six 2s, then three 3s): of the 36 pairwise slopes 18 are 0 and
    18 positive, the smallest 1/8, so the median slope is (0 + 1/8) / 2 = 1/16 a month. Intercept: the
    median of y − x/16 over x = 0…8 is 2 − 5/16 = 1.6875, …, the fifth of nine sorted: 1.9375; the line
    at x = 8 is 2.4375, and 13 months later (2027-07) 2.4375 + 13/16 = 3.25.
    (3.25 − 0) / (5 − 0) = 65% of the way < 85%: off track."""
    figures = {m: 0.0 for m in months("2024-07", "2025-03")}
    figures |= {m: 1.0 for m in months("2025-04", "2025-09")}
    figures |= {m: 2.0 for m in months("2025-10", "2026-03")}
    figures |= {m: 3.0 for m in months("2026-04", "2026-06")}
    report(con, icfg, "education", INSTITUTES, figures)
    row = judged(con, icfg, "2026-06", INSTITUTES_TARGET)
    assert row["actual"] == 3
    assert row["expected"] == pytest.approx(5 * 24 / 37)
    assert row["forecast"] == pytest.approx(3.25)
    assert row["progress"] == pytest.approx(0.6)
    assert row["status"] == "off_track"
    assert row["reason_zh"] == "截至2026年6月为3所，按计划应达3所；按近9个月趋势预计2027年7月达3所（目标5所）"


# -- the demo shows both judged --------------------------------------------------------------------------


def test_the_demo_reports_plausible_figures_for_both(demo_db: Path) -> None:
    con = db.connect(demo_db, read_only=True)
    try:
        card = scorecard(con, DEMO_AS_OF, cfg=load_targets())
    finally:
        con.close()
    rows = card.set_index("target_id").loc[[SHARE_TARGET, INSTITUTES_TARGET]]
    assert "no_data" not in set(rows["status"])
    assert 95 <= rows.loc[SHARE_TARGET, "actual"] <= 100
    assert rows.loc[INSTITUTES_TARGET, "actual"] in {0, 1, 2, 3, 4, 5}
