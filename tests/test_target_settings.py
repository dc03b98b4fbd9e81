"""What the lead bureau decides in the app (monitor.target_settings) and how the engine uses it, on
hand-computed cases.

The targets are conftest's small config plus two targets of this file: ``rental_9500_core``, the
policy's part inside the 1.5万 (其中东胜区、康巴什区、伊金霍洛旗、高新区筹建9500套以上, ``part_of``), and
``circles_100``, a stock of 100 by 2026-06 from a baseline of 50 whose baseline and deadline are
assumed. Figures are inserted directly; months count from 2024-07-01 as in docs/progress.md, so the
1.5万's deadline 2027-07-31 is 37 months away and, as of 2025-09, 15 of them are gone.

The district used throughout reported 990 units by 2025-09: 90 a month for 2024-07..2024-12, then
50 a month for the 9 months of the trend window (slope 50), so with 22 months left (2025-09 ->
2027-07) its forecast is 990 + 50 × 22 = 2,090, whatever its district target is.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest
import yaml

from monitor import db, fmt, progress, queries
from monitor import target_settings as settings
from monitor.__main__ import main as monitor_main
from monitor.auth import User
from monitor.target_settings import SettingError
from monitor.targets import Target, TargetsConfig, parse_targets
from tests.conftest import TARGETS_DICT

HOUSING = User("housing_clerk", "住建局填报员", "reporter", "housing", True)
ADMIN = User("admin", "系统管理员", "admin", None, True)
LEADER = User("leader", "市领导", "leader", None, True)
TRANSPORT = User("transport_clerk", "交通局填报员", "reporter", "transport", True)
HOUSING_GONE = User("housing_old", "已停用填报员", "reporter", "housing", False)

AS_OF = dt.date(2025, 9, 1)
CIRCLES_AS_OF = dt.date(2025, 6, 1)
PART_DISTRICTS = ["dongsheng", "kangbashi", "ejin_horo", "gaoxin"]
OTHER_DISTRICTS = ["dalad", "jungar", "otog_front", "otog", "hanggin", "uxin"]
NOT_ALLOWED = "只有牵头单位（市住房和城乡建设局）的填报人员或系统管理员可以确认或修改本目标"
NOT_SPLITTABLE = "本目标不按旗区分解（比例、标志、仅全市数或政策单列的分项不设旗区任务）"
EQUAL_NOTE = "（旗区目标按全市目标在10个旗区间均分）"
PART_NOTE = "（旗区目标：政策规定其中4个旗区共9,500套，在4个旗区间均分）"
REST_NOTE = "（旗区目标：全市目标减去政策单列部分后，在其余6个旗区间均分）"
PART_SHORT = "东胜区、康巴什区、伊金霍洛旗、高新区的旗区任务合计9,000套，少于目标9,500套，未保存"

PART_TARGET: dict[str, Any] = {
    "id": "rental_9500_core",
    "kpi": "rental_housing_units",
    "section": "测试",
    "name_zh": "东胜区、康巴什区、伊金霍洛旗、高新区筹建9500套以上",
    "name_en": "9,500 units in four districts",
    "kind": "cumulative",
    "comparator": ">=",
    "value": 9500,
    "deadline": dt.date(2027, 7, 31),
    "baseline": {"value": 0, "date": dt.date(2024, 7, 1)},
    "scope": PART_DISTRICTS,
    "part_of": "rental_15k",
    "source": "其中东胜区、康巴什区、伊金霍洛旗、鄂尔多斯高新技术产业开发区筹建9500套以上",
}
CIRCLES_KPI: dict[str, Any] = {
    "id": "service_circles",
    "section": "测试",
    "name_zh": "便民生活圈数量",
    "name_en": "service circles",
    "unit_zh": "个",
    "unit_en": "circles",
    "value_type": "count",
    "reporting": "level",
    "aggregation": "city",
    "lead": "housing",
    "source": "便民生活圈（测试）",
}
CIRCLES_TARGET: dict[str, Any] = {
    "id": "circles_100",
    "kpi": "service_circles",
    "section": "测试",
    "name_zh": "便民生活圈达到100个",
    "name_en": "100 service circles",
    "kind": "stock",
    "comparator": ">=",
    "value": 100,
    "deadline": dt.date(2026, 6, 30),
    "baseline": {"value": 50, "date": dt.date(2024, 7, 1)},
    "assumed": ["baseline", "deadline"],
    "source": "便民生活圈100个",
    "note": "基线与期限为假设，待责任单位确认",
}


def _decided_dict() -> dict[str, Any]:
    raw = copy.deepcopy(TARGETS_DICT)
    raw["targets"].insert(1, copy.deepcopy(PART_TARGET))
    raw["kpis"].append(copy.deepcopy(CIRCLES_KPI))
    raw["targets"].append(copy.deepcopy(CIRCLES_TARGET))
    return raw


@pytest.fixture
def dcfg() -> TargetsConfig:
    return parse_targets(_decided_dict())


@pytest.fixture
def wh(tmp_path: Path, dcfg: TargetsConfig) -> Iterator[tuple[duckdb.DuckDBPyConnection, Path]]:
    path = tmp_path / "warehouse.duckdb"
    con = db.connect(path)
    db.load_reference(con, dcfg)
    try:
        yield con, path
    finally:
        con.close()


@pytest.fixture
def con(wh: tuple[duckdb.DuckDBPyConnection, Path]) -> duckdb.DuckDBPyConnection:
    return wh[0]


def _months(first: str, last: str) -> list[dt.date]:
    return [p.date() for p in pd.date_range(f"{first}-01", f"{last}-01", freq="MS")]


def _put(con: duckdb.DuckDBPyConnection, kpi: str, district: str, periods: list[dt.date], values: list[float]) -> None:
    con.executemany(
        "insert into observations values (?, ?, ?, ?, 1, 1, ?, now())",
        [[kpi, district, p, float(v), i + 2] for i, (p, v) in enumerate(zip(periods, values, strict=True))],
    )


def _report_990(con: duckdb.DuckDBPyConnection, district: str) -> None:
    """990 units by 2025-09: 6 × 90 then 9 × 50 (the trend window's slope is 50 a month)."""
    _put(con, "rental_housing_units", district, _months("2024-07", "2025-09"), [90.0] * 6 + [50.0] * 9)


def _circles(con: duckdb.DuckDBPyConnection) -> None:
    """The city's circles, 52 in 2024-07 and 2 more each month: 74 in 2025-06 (slope 2)."""
    _put(con, "service_circles", "city", _months("2024-07", "2025-06"), [52.0 + 2 * i for i in range(12)])


def _units(con: duckdb.DuckDBPyConnection, cfg: TargetsConfig, target_id: str) -> pd.DataFrame:
    card = progress.scorecard(con, AS_OF, cfg=cfg, all_units=True)
    return card[(card["target_id"] == target_id) & ~card["is_aggregate"]].set_index("district_id")


def _circles_row(con: duckdb.DuckDBPyConnection, cfg: TargetsConfig) -> pd.Series:
    card = progress.scorecard(con, CIRCLES_AS_OF, cfg=cfg)
    return card.set_index("target_id").loc["circles_100"]


def _stored(con: duckdb.DuckDBPyConnection) -> tuple[list[tuple], list[tuple]]:
    """Every setting row and every audit row: what a refusal must leave as it was."""
    return (
        con.execute("select * from target_settings order by setting_id").fetchall(),
        con.execute("select event_id, user_name, action, detail from audit_log order by event_id").fetchall(),
    )


def _scorecard_json(out: str) -> list[dict[str, Any]]:
    """The targets of `scorecard --format json` (its top-level shape is tests/test_cli.py's concern)."""
    document = json.loads(out)
    return document["targets"] if isinstance(document, dict) else document


def _target(cfg: TargetsConfig, target_id: str) -> Target:
    return next(t for t in cfg.targets if t.id == target_id)


# -- the district split ----------------------------------------------------------------------------------


def test_without_quotas_or_parts_each_of_ten_districts_gets_a_tenth_and_the_reason_says_so(
    warehouse: Any, cfg: TargetsConfig
) -> None:
    _report_990(warehouse.con, "dongsheng")
    units = _units(warehouse.con, cfg, "rental_15k")
    assert len(units) == 10
    assert units["target_value"].tolist() == pytest.approx([1500.0] * 10)
    dongsheng = units.loc["dongsheng"]
    assert dongsheng["expected"] == pytest.approx(1500 * 15 / 37)
    assert dongsheng["forecast"] == pytest.approx(2090)
    assert dongsheng["status"] == "on_track"  # 2,090 >= 1,500
    assert dongsheng["reason_zh"] == (
        "截至2025年9月累计完成990套，按计划应达608套；按近9个月趋势预计2027年7月达2,090套（目标1,500套）" + EQUAL_NOTE
    )
    assert dongsheng["reason_en"].endswith(" (district target: an equal 1/10 share of the whole target)")


def test_the_policys_part_gives_its_four_districts_9500_and_the_other_six_what_is_left(
    con: duckdb.DuckDBPyConnection, dcfg: TargetsConfig
) -> None:
    _report_990(con, "dongsheng")
    _report_990(con, "dalad")
    units = _units(con, dcfg, "rental_15k")
    assert units.loc[PART_DISTRICTS, "target_value"].tolist() == pytest.approx([2375.0] * 4)  # 9,500 / 4
    assert units.loc[OTHER_DISTRICTS, "target_value"].tolist() == pytest.approx([5500 / 6] * 6)  # 916.67
    dongsheng, dalad = units.loc["dongsheng"], units.loc["dalad"]
    # the same 990 units: behind a 2,375 share, done against 916.67
    assert dongsheng["expected"] == pytest.approx(2375 * 15 / 37)  # 962.84
    assert dongsheng["forecast"] == pytest.approx(2090)
    assert dongsheng["status"] == "at_risk"  # 2,090 / 2,375 = 88% >= 85%
    assert dongsheng["reason_zh"] == (
        "截至2025年9月累计完成990套，按计划应达963套；按近9个月趋势预计2027年7月达2,090套（目标2,375套）" + PART_NOTE
    )
    assert dalad["status"] == "achieved"
    assert dalad["reason_zh"] == "截至2025年9月累计完成990套，已达到目标917套" + REST_NOTE
    # the part itself is split over its own four districts
    part = _units(con, dcfg, "rental_9500_core")
    assert part["target_value"].tolist() == pytest.approx([2375.0] * 4)
    assert part.loc["dongsheng", "reason_zh"].endswith("（旗区目标按本目标在4个旗区间均分）")


def test_a_quota_replaces_the_share_and_withdrawing_it_restores_the_policys_split(
    con: duckdb.DuckDBPyConnection, dcfg: TargetsConfig
) -> None:
    _report_990(con, "dongsheng")
    assert settings.set_quotas(con, dcfg, HOUSING, "rental_15k", {"dongsheng": 3000}, "市政府专题会议纪要") == [1]
    units = _units(con, dcfg, "rental_15k")
    dongsheng = units.loc["dongsheng"]
    assert dongsheng["target_value"] == pytest.approx(3000)
    assert dongsheng["expected"] == pytest.approx(3000 * 15 / 37)  # 1,216.2
    assert dongsheng["status"] == "off_track"  # 2,090 / 3,000 = 70% < 85%
    assert dongsheng["reason_zh"] == (
        "截至2025年9月累计完成990套，按计划应达1,216套；按近9个月趋势预计2027年7月达2,090套（目标3,000套）"
        "（旗区任务分解：3,000套）"
    )
    others = ["kangbashi", "ejin_horo", "gaoxin"]
    assert units.loc[others, "target_value"].tolist() == pytest.approx([6500 / 3] * 3)
    _report_990(con, "kangbashi")
    assert (
        _units(con, dcfg, "rental_15k")
        .loc["kangbashi", "reason_zh"]
        .endswith("（旗区目标：政策规定其中4个旗区共9,500套，减去已分解任务后在其余3个旗区间均分）")
    )
    assert units.loc[OTHER_DISTRICTS, "target_value"].tolist() == pytest.approx([5500 / 6] * 6)
    # the part's own rows use the parent's quota: one district, one task for the KPI
    part = _units(con, dcfg, "rental_9500_core")
    assert part.loc["dongsheng", "target_value"] == pytest.approx(3000)
    assert part.loc[others, "target_value"].tolist() == pytest.approx([6500 / 3] * 3)

    assert settings.set_quotas(con, dcfg, HOUSING, "rental_15k", {"dongsheng": None}, "纪要撤回") == [2]
    units = _units(con, dcfg, "rental_15k")
    assert units.loc[PART_DISTRICTS, "target_value"].tolist() == pytest.approx([2375.0] * 4)
    assert units.loc["dongsheng", "status"] == "at_risk"
    assert units.loc["dongsheng", "reason_zh"].endswith(PART_NOTE)

    history = settings.history(con, "rental_15k")
    assert history[["setting_id", "field", "district_id", "action", "reason", "user_name"]].values.tolist() == [
        [2, "quota", "dongsheng", "clear", "纪要撤回", "housing_clerk"],
        [1, "quota", "dongsheng", "set", "市政府专题会议纪要", "housing_clerk"],
    ]
    assert history["value"].iloc[1] == 3000
    audit = con.execute(
        "select user_name, detail from audit_log where action = 'target_setting' order by event_id"
    ).fetchall()
    assert [user for user, _ in audit] == ["housing_clerk", "housing_clerk"]
    first = json.loads(audit[0][1])
    assert first["target"] == "rental_15k" and first["reason"] == "市政府专题会议纪要"
    assert first["versions"] == [1]
    assert first["changes"] == [
        {"field": "quota", "action": "set", "district": "dongsheng", "value": 3000.0, "date": None}
    ]
    assert json.loads(audit[1][1])["versions"] == [2]
    assert settings.in_force(con).empty


def test_quotas_for_every_part_district_leave_the_rest_of_the_city_to_the_other_six(
    con: duckdb.DuckDBPyConnection, dcfg: TargetsConfig
) -> None:
    """Four quotas of 3,000 (12,000, more than the part's 9,500): the six others share 15,000 − 12,000."""
    versions = settings.set_quotas(con, dcfg, ADMIN, "rental_15k", dict.fromkeys(PART_DISTRICTS, 3000), "分解方案")
    assert versions == [1, 2, 3, 4]
    units = _units(con, dcfg, "rental_15k")
    assert units.loc[OTHER_DISTRICTS, "target_value"].tolist() == pytest.approx([500.0] * 6)
    _report_990(con, "dalad")
    dalad = _units(con, dcfg, "rental_15k").loc["dalad"]
    assert dalad["reason_zh"].endswith("（旗区目标：未设任务分解，目标减去已分解任务后在其余6个旗区间均分）")


def test_quotas_that_exactly_deliver_the_target_and_the_part_are_saved(
    con: duckdb.DuckDBPyConnection, dcfg: TargetsConfig
) -> None:
    wanted = {**dict.fromkeys(PART_DISTRICTS, 2375.0), **dict.fromkeys(OTHER_DISTRICTS, 5500 / 6)}
    assert len(settings.set_quotas(con, dcfg, HOUSING, "rental_15k", wanted, "按政策比例分解")) == 10
    assert settings.quotas(con, "rental_15k") == pytest.approx(wanted)


# -- refusals: each leaves target_settings and audit_log as they were --------------------------------------

Refusal = Callable[[duckdb.DuckDBPyConnection, TargetsConfig], object]


def _quota(user: User, target_id: str, wanted: dict[str, float], reason: str = "会议") -> Refusal:
    return lambda c, g: settings.set_quotas(c, g, user, target_id, wanted, reason)


def _confirm(user: User, target_id: str, field: str, reason: str = "会议") -> Refusal:
    return lambda c, g: settings.confirm(c, g, user, target_id, field, reason)


def _deadline(user: User, deadline: dt.date) -> Refusal:
    return lambda c, g: settings.correct_deadline(c, g, user, "circles_100", deadline, "会议")


SHORT_CITY = {**dict.fromkeys(PART_DISTRICTS, 2500), **dict.fromkeys(OTHER_DISTRICTS, 800)}  # 10,000 + 4,800
REFUSALS: list[tuple[str, Refusal, str]] = [
    ("leader", _confirm(LEADER, "circles_100", "baseline"), NOT_ALLOWED),
    ("other_bureau", _quota(TRANSPORT, "rental_15k", {"dongsheng": 3000}), NOT_ALLOWED),
    ("disabled_account", _deadline(HOUSING_GONE, dt.date(2026, 12, 31)), NOT_ALLOWED),
    ("empty_reason", _confirm(HOUSING, "circles_100", "baseline", "   "), "请填写理由（如依据的文件或会议）"),
    ("reason_501", _quota(HOUSING, "rental_15k", {"dongsheng": 3000}, "依" * 501), "理由最多500个字，现为501个字"),
    ("negative_quota", _quota(HOUSING, "rental_15k", {"dongsheng": -1}), "数值不能为负数"),
    (
        "city_short",
        _quota(HOUSING, "rental_15k", SHORT_CITY),
        "全市目标的旗区任务合计1.48万套，少于目标1.5万套，未保存",
    ),
    ("part_short", _quota(HOUSING, "rental_15k", dict.fromkeys(PART_DISTRICTS, 2250)), PART_SHORT),
    ("quota_on_the_part", _quota(ADMIN, "rental_9500_core", {"dongsheng": 3000}), NOT_SPLITTABLE),
    ("quota_on_a_ratio", _quota(ADMIN, "bus_coverage_100", {"dongsheng": 90}), NOT_SPLITTABLE),
    (
        "not_assumed",
        _confirm(HOUSING, "rental_15k", "deadline"),
        "本目标的期限由政策原文确定，不是假设值，不能在此确认或修改",
    ),
    ("deadline_not_month_end", _deadline(HOUSING, dt.date(2026, 12, 30)), "期限应为某月的最后一天"),
]


@pytest.mark.parametrize(("refuse", "message"), [(r, m) for _, r, m in REFUSALS], ids=[i for i, _, _ in REFUSALS])
def test_a_refused_decision_says_why_and_writes_nothing(
    con: duckdb.DuckDBPyConnection, dcfg: TargetsConfig, refuse: Refusal, message: str
) -> None:
    settings.set_quotas(con, dcfg, HOUSING, "rental_15k", {"dalad": 900}, "已有的分解")  # something to keep
    before = _stored(con)
    version = queries.data_version(con)
    with pytest.raises(SettingError) as refused:
        refuse(con, dcfg)
    assert refused.value.text("zh") == message
    assert _stored(con) == before
    assert queries.data_version(con) == version


def test_the_fourth_part_quota_is_refused_when_the_four_fall_short_of_9500(
    con: duckdb.DuckDBPyConnection, dcfg: TargetsConfig
) -> None:
    """Three quotas alone are not checked (the fourth district takes what is left); the fourth is."""
    three = {"dongsheng": 2000, "kangbashi": 2000, "ejin_horo": 2000}
    assert settings.set_quotas(con, dcfg, HOUSING, "rental_15k", three, "第一批") == [1, 2, 3]
    assert _units(con, dcfg, "rental_15k").loc["gaoxin", "target_value"] == pytest.approx(3500)  # 9,500 − 6,000
    before = _stored(con)
    with pytest.raises(SettingError) as refused:
        settings.set_quotas(con, dcfg, HOUSING, "rental_15k", {"gaoxin": 3000}, "第二批")
    assert (
        refused.value.text("zh") == "东胜区、康巴什区、伊金霍洛旗、高新区的旗区任务合计9,000套，少于目标9,500套，未保存"
    )
    assert _stored(con) == before


def test_a_reason_of_exactly_500_characters_is_kept_whole(con: duckdb.DuckDBPyConnection, dcfg: TargetsConfig) -> None:
    reason = "据" * 500
    version = settings.confirm(con, dcfg, HOUSING, "circles_100", "baseline", reason)
    assert settings.history(con, "circles_100")["reason"].tolist() == [reason]
    assert version == 1


def test_only_the_lead_bureaus_active_reporters_and_admins_may_decide(dcfg: TargetsConfig) -> None:
    rental = _target(dcfg, "rental_15k")
    assert [settings.may_decide(u, rental, dcfg) for u in (HOUSING, ADMIN, LEADER, TRANSPORT, HOUSING_GONE)] == [
        True,
        True,
        False,
        False,
        False,
    ]
    assert [settings.splittable(_target(dcfg, t), dcfg) for t in ("rental_15k", "rental_9500_core")] == [True, False]
    assert [settings.splittable(_target(dcfg, t), dcfg) for t in ("bus_coverage_100", "circles_100")] == [False, False]
    assert settings.splittable(_target(dcfg, "talent_apartments_5k"), dcfg)  # two districts in scope


# -- corrections and confirmations drive the engine ------------------------------------------------------


def test_correcting_the_assumed_baseline_moves_the_plan(con: duckdb.DuckDBPyConnection, dcfg: TargetsConfig) -> None:
    _circles(con)
    before = _circles_row(con, dcfg)
    # 50 at 2024-07 to 100 at the end of 2026-06: 24 months, 12 gone by the end of 2025-06
    assert before["baseline_value"] == 50
    assert before["expected"] == pytest.approx(75)  # 50 + 50 × 12/24
    assert before["forecast"] == pytest.approx(98)  # 74 + 2 × 12 months left
    assert before["status"] == "at_risk"  # (98 − 50) / (100 − 50) = 96%

    assert settings.correct_baseline(con, dcfg, HOUSING, "circles_100", 60, dt.date(2024, 6, 1), "2024年6月普查") == 1
    after = _circles_row(con, dcfg)
    # 60 at the start of 2024-06: 25 months to the deadline, 13 gone by the end of 2025-06
    assert after["baseline_value"] == 60
    assert after["expected"] == pytest.approx(80.8)  # 60 + 40 × 13/25
    assert after["expected"] - before["expected"] == pytest.approx(5.8)
    assert after["status"] == "at_risk"  # (98 − 60) / 40 = 95%
    assert after["reason_zh"] == "截至2025年6月为74个，按计划应达81个；按近9个月趋势预计2026年6月达98个（目标100个）"
    terms = dict(fmt.target_terms(_target(settings.effective(dcfg, con), "circles_100"), "个", "circles", "zh"))
    assert terms["基线"] == "60个（2024年6月）（已确认）"


def test_correcting_the_assumed_deadline_moves_the_deadline_and_the_status(
    con: duckdb.DuckDBPyConnection, dcfg: TargetsConfig
) -> None:
    _circles(con)
    assert _circles_row(con, dcfg)["status"] == "at_risk"
    assert settings.correct_deadline(con, dcfg, HOUSING, "circles_100", dt.date(2026, 12, 31), "市政府会议") == 1
    after = _circles_row(con, dcfg)
    assert pd.Timestamp(after["deadline"]) == pd.Timestamp("2026-12-31")
    # 30 months from 2024-07 to the end of 2026-12, 12 gone; 18 months left at 2 a month
    assert after["expected"] == pytest.approx(50 + 50 * 12 / 30)  # 70
    assert after["forecast"] == pytest.approx(110)  # 74 + 2 × 18
    assert after["status"] == "on_track"
    assert after["reason_zh"] == "截至2025年6月为74个，按计划应达70个；按近9个月趋势预计2026年12月达110个（目标100个）"


def test_confirming_marks_the_item_confirmed_everywhere_and_changes_no_figure(
    wh: tuple[duckdb.DuckDBPyConnection, Path], dcfg: TargetsConfig, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    con, path = wh
    _circles(con)
    before = _circles_row(con, dcfg)
    target = _target(settings.effective(dcfg, con), "circles_100")
    assert (target.assumed, target.confirmed) == (["baseline", "deadline"], [])
    assert dict(fmt.target_terms(target, "个", "circles", "zh"))["截止"] == "2026年6月（假设，待确认）"

    assert settings.confirm(con, dcfg, HOUSING, "circles_100", "deadline", "市政府办公室函") == 1
    target = _target(settings.effective(dcfg, con), "circles_100")
    assert (target.assumed, target.confirmed) == (["baseline"], ["deadline"])
    assert target.deadline == dt.date(2026, 6, 30)
    terms = dict(fmt.target_terms(target, "个", "circles", "zh"))
    assert terms["截止"] == "2026年6月（已确认）"
    assert terms["基线"] == "50个（2024年7月）（假设，待确认）"
    assert dict(fmt.target_terms(target, "个", "circles", "en"))["Deadline"] == "Jun 2026 (confirmed)"
    after = _circles_row(con, dcfg)
    assert after[["deadline", "baseline_value", "expected", "status"]].tolist() == (
        before[["deadline", "baseline_value", "expected", "status"]].tolist()
    )

    # the command line lists what is still assumed
    targets_file = tmp_path / "targets.yaml"
    targets_file.write_text(yaml.safe_dump(_decided_dict(), allow_unicode=True, sort_keys=False), encoding="utf-8")
    con.close()
    argv = ["--db", str(path), "--targets", str(targets_file), "scorecard", "--as-of", "2025-06", "--format", "json"]
    assert monitor_main(argv) == 0
    records = {r["target_id"]: r for r in _scorecard_json(capsys.readouterr().out)}
    assert records["circles_100"]["assumed"] == ["baseline"]
    assert records["circles_100"]["deadline"] == "2026-06-30"
    assert records["rental_15k"]["assumed"] == []


def test_the_command_line_shows_a_corrected_deadline_and_baseline(
    wh: tuple[duckdb.DuckDBPyConnection, Path], dcfg: TargetsConfig, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    con, path = wh
    _circles(con)
    settings.correct_deadline(con, dcfg, HOUSING, "circles_100", dt.date(2026, 12, 31), "会议")
    settings.correct_baseline(con, dcfg, ADMIN, "circles_100", 60, dt.date(2024, 6, 1), "普查")
    targets_file = tmp_path / "targets.yaml"
    targets_file.write_text(yaml.safe_dump(_decided_dict(), allow_unicode=True, sort_keys=False), encoding="utf-8")
    con.close()
    argv = ["--db", str(path), "--targets", str(targets_file), "scorecard", "--as-of", "2025-06", "--format", "json"]
    assert monitor_main(argv) == 0
    circles = {r["target_id"]: r for r in _scorecard_json(capsys.readouterr().out)}["circles_100"]
    assert circles["assumed"] == []
    assert circles["deadline"] == "2026-12-31"
    assert circles["baseline_value"] == 60
    # 60 at the start of 2024-06 to 100 at the end of 2026-12: 31 months, 13 gone
    assert circles["expected"] == pytest.approx(60 + 40 * 13 / 31)
    assert circles["status"] == "on_track"


# -- versions ----------------------------------------------------------------------------------------------


def test_the_newest_of_two_changes_is_in_force_and_both_are_in_the_history(
    con: duckdb.DuckDBPyConnection, dcfg: TargetsConfig
) -> None:
    _circles(con)
    version_before = queries.data_version(con)
    first = settings.correct_deadline(con, dcfg, HOUSING, "circles_100", dt.date(2026, 12, 31), "第一次会议")
    assert queries.data_version(con) != version_before  # every cached page query is read again
    second = settings.correct_deadline(con, dcfg, ADMIN, "circles_100", dt.date(2026, 9, 30), "第二次会议")
    assert (first, second) == (1, 2)
    assert _target(settings.effective(dcfg, con), "circles_100").deadline == dt.date(2026, 9, 30)
    assert pd.Timestamp(_circles_row(con, dcfg)["deadline"]) == pd.Timestamp("2026-09-30")
    history = settings.history(con, "circles_100")
    assert history[["setting_id", "field", "value_date", "action", "reason", "user_name"]].values.tolist() == [
        [2, "deadline", dt.date(2026, 9, 30), "correct", "第二次会议", "admin"],
        [1, "deadline", dt.date(2026, 12, 31), "correct", "第一次会议", "housing_clerk"],
    ]
    in_force = settings.in_force(con)
    assert in_force[["setting_id", "target_id", "field"]].values.tolist() == [[2, "circles_100", "deadline"]]


def test_a_correction_stops_applying_once_targets_yaml_states_the_deadline(
    con: duckdb.DuckDBPyConnection, dcfg: TargetsConfig
) -> None:
    """The bureau corrected an assumed deadline; later the text is read to state 2027-06 (targets.yaml no
    longer assumes it and is reloaded). What the text states is not the bureau's to change, so the
    text's date is judged; the old correction must not silently override it without any mark."""
    _circles(con)
    settings.correct_deadline(con, dcfg, HOUSING, "circles_100", dt.date(2026, 12, 31), "会议")
    stated = _decided_dict()
    stated["targets"][-1].update(deadline=dt.date(2027, 6, 30), assumed=["baseline"])
    reread = parse_targets(stated)
    db.load_reference(con, reread)
    assert pd.Timestamp(_circles_row(con, reread)["deadline"]) == pd.Timestamp("2027-06-30")
    assert _target(settings.effective(reread, con), "circles_100").deadline == dt.date(2027, 6, 30)
