"""targets.yaml: every entry quotes the policy, loads with the expected content, and bad edits are
reported with the entry they belong to."""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path

import pytest
import yaml

from monitor.targets import DEFAULT_TARGETS, TargetsConfig, TargetsError, load_targets, parse_targets

REPO = Path(__file__).resolve().parents[1]
POLICY = REPO / "docs" / "policy" / "ordos-0477-measures.zh.txt"


@pytest.fixture(scope="module")
def cfg() -> TargetsConfig:
    return load_targets()


@pytest.fixture
def raw() -> dict:
    """targets.yaml as plain data, fresh for each test so it can be mutated."""
    return yaml.safe_load(DEFAULT_TARGETS.read_text(encoding="utf-8"))


def _index(items: list[dict], entry_id: str) -> int:
    return next(i for i, item in enumerate(items) if item["id"] == entry_id)


def _problems(raw: dict) -> list[str]:
    with pytest.raises(TargetsError) as info:
        parse_targets(raw)
    message = str(info.value)
    for problem in info.value.problems:
        assert f"- {problem}" in message.splitlines()
    return info.value.problems


def test_every_target_and_kpi_quotes_a_sentence_of_the_policy(cfg: TargetsConfig) -> None:
    text = POLICY.read_text(encoding="utf-8")
    entries = [("kpi", k.id, k.source) for k in cfg.kpis] + [("target", t.id, t.source) for t in cfg.targets]
    empty = [(kind, ident) for kind, ident, source in entries if not source]
    missing = [(kind, ident, source) for kind, ident, source in entries if source not in text]
    assert empty == []
    assert missing == []


def test_targets_yaml_loads_with_expected_counts(cfg: TargetsConfig) -> None:
    assert len(cfg.bureaus) == 24
    assert len(cfg.districts) == 11
    assert len(cfg.reporting_districts()) == 10
    # + 15 flags of commitments without a milestone and the 2 KPIs of the implied targets (issue 13)
    assert len(cfg.kpis) == 114
    assert sum(k.activity for k in cfg.kpis) == 36
    assert len(cfg.targets) == 66
    assert len(cfg.commitments) == 19
    kinds = {kind: sum(t.kind == kind for t in cfg.targets) for kind in ("cumulative", "stock", "annual")}
    # 年均1万 is 5万 over five years; "打造/建成/创建N个" count new ones from 0; 一校一研究院: 5 colleges (issue 13)
    assert kinds == {"cumulative": 22, "stock": 5, "annual": 6}
    kinds = {kind: sum(t.kind == kind for t in cfg.targets) for kind in ("ratio", "cap", "floor", "milestone")}
    # 不低于30% and 全部面向新市民、青年人供应 (100%): floors (issue 13)
    assert kinds == {"ratio": 16, "cap": 2, "floor": 2, "milestone": 13}

    targets = {t.id: t for t in cfg.targets}
    housing = targets["rental_housing_15k"]
    assert (housing.value, housing.deadline, housing.comparator) == (15000, dt.date(2027, 7, 31), ">=")
    core = targets["rental_housing_9500_core"]
    assert (core.value, core.scope) == (9500, ["dongsheng", "kangbashi", "ejin_horo", "gaoxin"])

    talent = [t for t in cfg.targets if t.kpi == "talents_new"]
    assert [(t.value, t.deadline) for t in talent] == [
        (50000, dt.date(2025, 12, 31)),
        (100000, dt.date(2030, 12, 31)),
    ]

    card = targets["new_citizen_cards_cap_5000_yearly"]
    assert (card.kind, card.comparator, card.value) == ("cap", "<=", 5000)
    assert cfg.kpi_by_id[card.kpi].reporting == "increment"

    students = [t for t in cfg.targets if t.kpi == "university_enrolment"]
    assert [(t.comparator, t.value, t.deadline) for t in students] == [
        ("~", 30000, dt.date(2026, 12, 31)),
        ("~", 40000, dt.date(2030, 12, 31)),
    ]
    assert all(t.tolerance for t in students)


def test_targets_follow_the_conventions_the_progress_engine_relies_on(cfg: TargetsConfig) -> None:
    kpis = cfg.kpi_by_id
    wrong = []
    for t in cfg.targets:
        k = kpis[t.kpi]
        if isinstance(t.scope, list) and k.aggregation != "sum":
            wrong.append((t.id, "district scope needs a sum kpi"))
        if t.kind in ("cumulative", "annual") and k.reporting != "increment":
            wrong.append((t.id, "counted kinds need increment reporting"))
        if t.kind in ("stock", "ratio") and k.reporting != "level":
            wrong.append((t.id, "levels need level reporting"))
        if (t.kind == "milestone") != (k.value_type == "flag"):
            wrong.append((t.id, "milestone <-> flag kpi"))
        if t.kind == "ratio" and k.value_type != "ratio":
            wrong.append((t.id, "ratio target needs a ratio kpi"))
        if t.kind in ("cumulative", "stock", "ratio", "milestone") and t.baseline is None:
            wrong.append((t.id, "baseline missing"))
        if t.start and t.start >= t.deadline:
            wrong.append((t.id, "start after deadline"))
    ids = [k.id for k in cfg.kpis] + [t.id for t in cfg.targets]
    assert wrong == []
    assert len(ids) == len(set(ids))


def test_unknown_kind_is_a_clear_error_naming_the_entry(raw: dict) -> None:
    i = _index(raw["targets"], "rental_housing_15k")
    raw["targets"][i]["kind"] = "monthly"
    assert _problems(raw) == [
        f"targets[{i}] (id=rental_housing_15k): kind: 取值 'monthly' 无效，"
        "应为 'cumulative', 'stock', 'annual', 'ratio', 'cap', 'floor' or 'milestone'"
    ]


def test_deadline_that_is_not_a_date_is_an_error(raw: dict) -> None:
    i = _index(raw["targets"], "talents_50k_2025")
    raw["targets"][i]["deadline"] = "2025年底"
    assert _problems(raw) == [
        f"targets[{i}] (id=talents_50k_2025): deadline: Value error, 不是日期 (YYYY-MM-DD): '2025年底'"
    ]


def test_duplicate_id_is_an_error(raw: dict) -> None:
    raw["targets"].append(copy.deepcopy(raw["targets"][_index(raw["targets"], "bus_mode_share_30")]))
    last = len(raw["targets"]) - 1
    assert _problems(raw) == [f"targets[{last}] (id=bus_mode_share_30): 重复的 id / duplicate id"]


def test_unknown_bureau_is_an_error(raw: dict) -> None:
    i = _index(raw["kpis"], "rental_housing_units")
    raw["kpis"][i]["co"] = ["finance", "housing_bureau"]
    assert _problems(raw) == [f"kpis[{i}] (id=rental_housing_units): 未知责任单位 / unknown bureau 'housing_bureau'"]


def test_unknown_district_in_scope_is_an_error(raw: dict) -> None:
    i = _index(raw["targets"], "rental_housing_9500_core")
    raw["targets"][i]["scope"] = ["dongsheng", "kangbashi", "ejin_horo", "高新区"]
    assert _problems(raw) == [f"targets[{i}] (id=rental_housing_9500_core): 未知旗区 / unknown district '高新区'"]
