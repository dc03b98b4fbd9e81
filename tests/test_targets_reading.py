"""How targets.yaml reads the sentences the text leaves open (issue 13): one reading of "打造/建成/创建N个",
the hospitals as the text words them, and every assumption marked so the pages can show 假设，待确认."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

import duckdb
import pytest
import yaml

from monitor import db
from monitor.progress import scorecard
from monitor.targets import DEFAULT_TARGETS, TargetsConfig, TargetsError, load_targets, parse_targets
from tests.test_progress import d, months, put, row

# "打造/建成/创建N个": N new ones under the policy, counted from 0 at its start (targets.yaml conventions)
COUNT_READINGS = {
    "convenience_circles_100_2025": ("convenience_circles_new", 100, dt.date(2025, 12, 31)),
    "community_childcare_points_70_2026": ("community_childcare_points_new", 70, dt.date(2026, 12, 31)),
    "elderly_friendly_communities_10_2025": ("elderly_friendly_communities_new", 10, dt.date(2025, 12, 31)),
    "high_level_clusters_3_3y": ("high_level_clusters_new", 3, dt.date(2027, 7, 31)),
    "national_key_specialty_1_3y": ("national_key_specialties_new", 1, dt.date(2027, 7, 31)),
    "regional_key_specialties_6_3y": ("regional_key_specialties_new", 6, dt.date(2027, 7, 31)),
    "tcm_mongolian_specialties_9_3y": ("tcm_mongolian_specialties_new", 9, dt.date(2027, 7, 31)),
}


@pytest.fixture(scope="module")
def cfg() -> TargetsConfig:
    return load_targets()


@pytest.fixture
def raw() -> dict:
    return yaml.safe_load(DEFAULT_TARGETS.read_text(encoding="utf-8"))


def _problems(raw: dict) -> list[str]:
    with pytest.raises(TargetsError) as info:
        parse_targets(raw)
    return info.value.problems


def _index(raw: dict, target_id: str) -> int:
    return next(i for i, t in enumerate(raw["targets"]) if t["id"] == target_id)


# ------------------------------------------------------------------------------------------ one count reading


def test_every_count_to_build_is_read_as_new_ones_from_zero_and_marked_as_a_reading(cfg: TargetsConfig) -> None:
    targets = {t.id: t for t in cfg.targets}
    kpis = cfg.kpi_by_id
    read = {
        tid: (
            targets[tid].kpi,
            targets[tid].value,
            targets[tid].deadline,
            targets[tid].kind,
            targets[tid].baseline.value if targets[tid].baseline else None,
            kpis[targets[tid].kpi].reporting,
            "reading" in targets[tid].assumed,
        )
        for tid in COUNT_READINGS
    }
    assert read == {
        tid: (kpi, value, deadline, "cumulative", 0, "increment", True)
        for tid, (kpi, value, deadline) in COUNT_READINGS.items()
    }


def test_no_count_target_keeps_an_invented_existing_count(cfg: TargetsConfig) -> None:
    """Before: 100个便民生活圈 from an assumed 50, 70个托育点 from 25, 10个老年友好社区 from 6."""
    kpis = cfg.kpi_by_id
    stocks = sorted(t.id for t in cfg.targets if t.kind == "stock")
    assert stocks == [
        "college_institutes_5_3y",  # "一校一研究院": how many of the five colleges have one (issue 13)
        "logistics_firms_160_2025",  # "达到160家": a total, as the text says
        "retail_firms_600_2025",  # "达到600家"
        "university_enrolment_30k_2026",  # "规模达到3万人左右"
        "university_enrolment_40k_2030",
    ]
    counts_from_existing = [
        t.id
        for t in cfg.targets
        if kpis[t.kpi].value_type == "count" and t.baseline and t.baseline.value > 0 and t.kind != "stock"
    ]
    assert counts_from_existing == []
    assert {"convenience_circles", "community_childcare_points", "elderly_friendly_communities"} & set(kpis) == set()


def test_new_circles_reported_monthly_are_judged_from_zero_against_the_line_to_100(
    tmp_path: Path, cfg: TargetsConfig
) -> None:
    """5 new circles a month (东胜区 3, 康巴什区 2) for July 2024 - June 2025: 60 built, 100 × 12/18 = 66.7
    planned; 60 + 5 × 6 = 90 by December 2025 is 90% of the way (≥ 85%): at risk."""
    con: duckdb.DuckDBPyConnection = db.connect(tmp_path / "w.duckdb")
    try:
        db.load_reference(con, cfg)
        put(con, "convenience_circles_new", "dongsheng", months("2024-07", "2025-06"), 3)
        put(con, "convenience_circles_new", "kangbashi", months("2024-07", "2025-06"), 2)
        r = row(scorecard(con, d("2025-06"), cfg=cfg), "convenience_circles_100_2025")
    finally:
        con.close()
    assert r["baseline_value"] == 0
    assert r["actual"] == 60
    assert r["expected"] == pytest.approx(100 * 12 / 18)
    assert r["forecast"] == pytest.approx(90)
    assert r["progress"] == pytest.approx(0.6)
    assert r["status"] == "at_risk"
    assert r["reason_zh"] == "截至2025年6月累计完成60个，按计划应达67个；按近9个月趋势预计2025年12月达90个（目标100个）"


# ------------------------------------------------------------------------------------------ hospitals


def test_hospitals_are_named_as_the_text_words_them_with_date_and_completion_assumed(cfg: TargetsConfig) -> None:
    targets = {t.id: t for t in cfg.targets}
    hospitals = [targets["women_children_hospital_built"], targets["hepatobiliary_centre_built"]]
    assert [(t.name_zh, t.kind, t.deadline, t.assumed) for t in hospitals] == [
        ("推动市妇女儿童医院建设", "milestone", dt.date(2027, 7, 31), ["deadline", "reading"]),
        (
            "推动国家肝胆肿瘤精益化诊疗中心鄂尔多斯分中心建设",
            "milestone",
            dt.date(2027, 7, 31),
            ["deadline", "reading"],
        ),
    ]
    assert all("建成" not in t.name_zh for t in hospitals)
    assert all("完成标准和期限均为假设" in (t.note or "") for t in hospitals)


# ------------------------------------------------------------------------------------------ assumed


def test_every_target_whose_note_says_assumed_lists_what_is_assumed_and_no_other(cfg: TargetsConfig) -> None:
    says = {t.id for t in cfg.targets if "假设" in (t.note or "")}
    marked = {t.id for t in cfg.targets if t.assumed}
    assert says - marked == set()
    assert marked - says == set()
    assert len(marked) == 52  # + the two implied targets (issue 13)


def test_assumed_values_are_counted_per_kind(cfg: TargetsConfig) -> None:
    counted = Counter(field for t in cfg.targets for field in t.assumed)
    # 13 milestone dates + 9 ends of monitoring ("每年", 不低于, caps) + the 2 implied targets' dates; 21
    # existing levels + no institute at the policy start; 10 readings + the share read for 全部面向;
    # the widths of the three "左右"
    assert counted == {"deadline": 24, "baseline": 22, "reading": 11, "tolerance": 3}


def test_every_milestone_deadline_is_assumed(cfg: TargetsConfig) -> None:
    milestones = [t for t in cfg.targets if t.kind == "milestone"]
    assert len(milestones) == 13
    assert [t.id for t in milestones if "deadline" not in t.assumed] == []


def test_every_about_target_marks_its_tolerance(cfg: TargetsConfig) -> None:
    about = {t.id: t.assumed for t in cfg.targets if t.comparator == "~"}
    assert about == {
        "local_graduate_retention_30_2026": ["baseline", "tolerance"],
        "university_enrolment_30k_2026": ["baseline", "tolerance"],
        "university_enrolment_40k_2030": ["baseline", "tolerance"],
    }


def test_every_assumed_baseline_names_a_baseline_the_target_has(cfg: TargetsConfig) -> None:
    marked = [t for t in cfg.targets if "baseline" in t.assumed]
    assert [t.id for t in marked if t.baseline is None] == []
    # 0 is no assumption for a count of new ones (it starts at 0 by its reading), but it is one for a
    # stock: "no college had its institute in 2024-07" is an existing level the text does not give
    zero = [t.id for t in marked if t.baseline is not None and t.baseline.value == 0]
    assert zero == ["college_institutes_5_3y"]
    assert [cfg.kpi_by_id[t.kpi].reporting for t in cfg.targets if t.id in zero] == ["level"]


def test_assumed_baseline_on_a_target_without_one_is_an_error_naming_the_entry(raw: dict) -> None:
    i = _index(raw, "teachers_1700_yearly")
    raw["targets"][i]["assumed"] = ["deadline", "baseline"]
    where = f"targets[{i}] (id=teachers_1700_yearly)"
    assert _problems(raw) == [f"{where}: assumed 含 baseline，但目标没有 baseline / assumed baseline is not set"]


def test_assumed_tolerance_and_milestones_must_exist_and_not_repeat(raw: dict) -> None:
    i = _index(raw, "rental_housing_15k")
    raw["targets"][i]["assumed"] = ["tolerance", "milestones", "tolerance"]
    where = f"targets[{i}] (id=rental_housing_15k)"
    assert _problems(raw) == [
        f"{where}: assumed 有重复项 / duplicate entry in assumed",
        f"{where}: assumed 含 tolerance，但目标没有 tolerance / assumed tolerance is not set",
        f"{where}: assumed 含 milestones，但目标没有 milestones / assumed milestones is not set",
    ]


def test_unknown_assumed_field_is_refused(raw: dict) -> None:
    i = _index(raw, "rental_housing_15k")
    raw["targets"][i]["assumed"] = ["quota"]
    assert _problems(raw) == [
        f"targets[{i}] (id=rental_housing_15k): assumed.0: 取值 'quota' 无效，"
        "应为 'baseline', 'deadline', 'tolerance', 'reading' or 'milestones'"
    ]


# ------------------------------------------------------------------------------------------ 落户专窗


def test_registration_window_is_judged_per_centre(cfg: TargetsConfig) -> None:
    """市、旗区政务服务中心: every centre reports its own flag (aggregation all, tests/test_service_centres.py
    for the engine), the city done only when all 11 are, and the note says so."""
    target = next(t for t in cfg.targets if t.id == "settlement_window_open_done")
    kpi = cfg.kpi_by_id[target.kpi]
    assert (target.kind, target.scope, kpi.aggregation, target.assumed) == ("milestone", "city", "all", ["deadline"])
    assert "当月市中心和10个旗区中心均报1时全市才算完成，未报送的中心按未开设计" in (target.note or "")
