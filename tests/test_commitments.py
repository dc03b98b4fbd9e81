"""Commitments without a milestone (issue 13): what the policy promises with no number and no date
(暖商保, 落户“绿色通道”, 人才驿站 …) reads 已落实 / 推进中 / 未报送 as of a month, with the figures that
show it, on the overview, in the briefing workbook and in the JSON scorecard.

Hand-computed cases through the real ETL (a bureau's csv, load_bytes) on the config of conftest.py plus
one flag KPI and three commitments (stale_months 2: as of 2026-10 a figure for 2026-09 or 2026-10 is
needed):

    green_channel          the flag 落户事项办理“绿色通道”开通 only
    subsidy_paid           the activity figure 一次性落户补助发放人数 only (summed over districts)
    registration_services  both
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import openpyxl
import pandas as pd
import pytest
import yaml

from etl.load import load_bytes
from monitor import briefing, db, fmt
from monitor.__main__ import main as monitor_main
from monitor.commitments import Evidence, commitment_states, evidence_text
from monitor.targets import DEFAULT_TARGETS, TargetsConfig, TargetsError, load_targets, parse_targets
from tests.conftest import TARGETS_DICT, TODAY
from tests.test_app_pages import (  # noqa: F401  (_harness: the app-test harness fixture, autouse)
    _harness,
    open_page,
)
from tests.test_policy_structure import frames_under, group_by_section, sections_drawn

FLAG = "green_channel_in_place"
PEOPLE = "settlement_subsidy_people"  # an activity KPI of conftest's config, by district
BUREAU = "public_security"
POLICY_TEXT = (Path(__file__).resolve().parents[1] / "docs" / "policy" / "ordos-0477-measures.zh.txt").read_text(
    encoding="utf-8"
)


def _config() -> dict[str, Any]:
    raw = copy.deepcopy(TARGETS_DICT)
    raw["kpis"].append(
        {
            "id": FLAG,
            "section": "测试",
            "name_zh": "落户事项办理“绿色通道”开通",
            "name_en": "Fast lane open",
            "unit_zh": "是否完成",
            "unit_en": "done (1/0)",
            "value_type": "flag",
            "reporting": "level",
            "aggregation": "city",
            "lead": BUREAU,
            "source": "开通事项办理“绿色通道”",
        }
    )

    def commitment(ident: str, name_zh: str, kpis: list[str]) -> dict[str, Any]:
        return {
            "id": ident,
            "section": "测试",
            "name_zh": name_zh,
            "name_en": ident.replace("_", " "),
            "lead": BUREAU,
            "co": ["finance"],
            "kpis": kpis,
            "source": f"{name_zh}（测试）",
        }

    raw["commitments"] = [
        commitment("green_channel", "开通落户事项办理“绿色通道”", [FLAG]),
        commitment("subsidy_paid", "发放一次性落户补助", [PEOPLE]),
        commitment("registration_services", "落户专属服务", [FLAG, PEOPLE]),
    ]
    return raw


@pytest.fixture
def ccfg() -> TargetsConfig:
    return parse_targets(_config())


@pytest.fixture
def wh(tmp_path: Path, ccfg: TargetsConfig) -> Iterator[tuple[duckdb.DuckDBPyConnection, Path]]:
    path = tmp_path / "warehouse.duckdb"
    connection = db.connect(path)
    db.load_reference(connection, ccfg)
    try:
        yield connection, path
    finally:
        connection.close()


@pytest.fixture
def con(wh: tuple[duckdb.DuckDBPyConnection, Path]) -> duckdb.DuckDBPyConnection:
    return wh[0]


def report(con: duckdb.DuckDBPyConnection, cfg: TargetsConfig, month: str, rows: list[tuple[str, str, float]]) -> None:
    """One monthly csv of 市公安局: (kpi, 旗区 as the bureau writes it, value) rows for ``month``."""
    lines = ["指标编码,旗区,报送期,数值", *(f"{kpi},{unit},{month},{value:g}" for kpi, unit, value in rows)]
    data = ("\n".join(lines) + "\n").encode("utf-8")
    result = load_bytes(f"公安局_{month}.csv", data, cfg, BUREAU, "zhang_san", con, archive=None, today=TODAY)
    assert result.outcome == "accepted", [p.zh() for p in result.problems]


def states(con: duckdb.DuckDBPyConnection, cfg: TargetsConfig, month: str) -> dict[str, pd.Series]:
    frame = commitment_states(con, cfg, dt.date.fromisoformat(f"{month}-01"))
    return {r["commitment_id"]: r for _, r in frame.iterrows()}


# -- the state and its evidence -------------------------------------------------------------------------


def test_a_flag_reported_done_reads_in_place_with_its_figure_and_month(
    con: duckdb.DuckDBPyConnection, ccfg: TargetsConfig
) -> None:
    report(con, ccfg, "2026-09", [(FLAG, "全市", 1)])
    green = states(con, ccfg, "2026-10")["green_channel"]
    assert green["state"] == "in_place"
    assert green["evidence"] == [
        Evidence(
            FLAG,
            "落户事项办理“绿色通道”开通",
            "Fast lane open",
            "是否完成",
            "done (1/0)",
            True,
            dt.date(2026, 9, 1),
            1.0,
        )
    ]
    assert green["latest_period"] == dt.date(2026, 9, 1)
    assert evidence_text(green["evidence"], "zh") == "落户事项办理“绿色通道”开通：已完成（2026年9月）"
    assert evidence_text(green["evidence"], "en") == "Fast lane open: done (Sep 2026)"


def test_a_flag_reported_not_done_reads_in_progress(con: duckdb.DuckDBPyConnection, ccfg: TargetsConfig) -> None:
    report(con, ccfg, "2026-10", [(FLAG, "全市", 0)])
    green = states(con, ccfg, "2026-10")["green_channel"]
    assert green["state"] == "in_progress"
    assert evidence_text(green["evidence"], "zh") == "落户事项办理“绿色通道”开通：未完成（2026年10月）"


def test_nothing_reported_in_the_last_two_months_reads_not_reported_even_after_a_done_flag(
    con: duckdb.DuckDBPyConnection, ccfg: TargetsConfig
) -> None:
    """Done in August, nothing since: as of September the figure is one month old (in place); as of
    October two months (2026-09 and 2026-10 are missing): not reported. A service must stay in place,
    so, unlike a met milestone, a done flag is not kept once the bureau falls silent."""
    report(con, ccfg, "2026-08", [(FLAG, "全市", 1)])
    assert states(con, ccfg, "2026-09")["green_channel"]["state"] == "in_place"
    green = states(con, ccfg, "2026-10")["green_channel"]
    assert green["state"] == "not_reported"
    assert evidence_text(green["evidence"], "zh") == "落户事项办理“绿色通道”开通：已完成（2026年8月）"


def test_a_commitment_nobody_reported_reads_not_reported_with_no_figure(
    con: duckdb.DuckDBPyConnection, ccfg: TargetsConfig
) -> None:
    paid = states(con, ccfg, "2026-10")["subsidy_paid"]
    assert paid["state"] == "not_reported"
    assert paid["latest_period"] is None
    assert evidence_text(paid["evidence"], "zh") == "一次性落户补助发放人数：尚无数据"
    assert evidence_text(paid["evidence"], "en") == "settlement subsidy people: no figure yet"


def test_activity_figures_alone_read_in_progress_with_the_sum_of_the_districts(
    con: duckdb.DuckDBPyConnection, ccfg: TargetsConfig
) -> None:
    """120 in 东胜区 and 80 in 康巴什区 in October: the city figure is 200. Without a flag of 1 an ongoing
    service stays in progress, and so does one whose flag is old while its activity is recent."""
    report(con, ccfg, "2026-07", [(FLAG, "全市", 1)])
    report(con, ccfg, "2026-10", [(PEOPLE, "东胜区", 120), (PEOPLE, "康巴什区", 80)])
    found = states(con, ccfg, "2026-10")
    assert found["subsidy_paid"]["state"] == "in_progress"
    assert evidence_text(found["subsidy_paid"]["evidence"], "zh") == "一次性落户补助发放人数：200人（2026年10月）"
    both = found["registration_services"]
    assert both["state"] == "in_progress"
    assert both["latest_period"] == dt.date(2026, 10, 1)
    assert evidence_text(both["evidence"], "zh") == (
        "落户事项办理“绿色通道”开通：已完成（2026年7月）；一次性落户补助发放人数：200人（2026年10月）"
    )


def test_a_month_is_read_only_on_figures_up_to_it(con: duckdb.DuckDBPyConnection, ccfg: TargetsConfig) -> None:
    report(con, ccfg, "2026-08", [(FLAG, "全市", 0)])
    report(con, ccfg, "2026-10", [(FLAG, "全市", 1)])
    september = states(con, ccfg, "2026-09")["green_channel"]
    assert (september["state"], september["latest_period"]) == ("in_progress", dt.date(2026, 8, 1))
    assert states(con, ccfg, "2026-10")["green_channel"]["state"] == "in_place"


# -- targets.yaml ---------------------------------------------------------------------------------------


@pytest.fixture
def raw() -> dict:
    return yaml.safe_load(DEFAULT_TARGETS.read_text(encoding="utf-8"))


def _problems(raw: dict) -> list[str]:
    with pytest.raises(TargetsError) as info:
        parse_targets(raw)
    return info.value.problems


def _index(raw: dict, commitment_id: str) -> int:
    return next(i for i, c in enumerate(raw["commitments"]) if c["id"] == commitment_id)


def test_a_commitment_naming_an_unknown_bureau_is_refused_naming_the_entry(raw: dict) -> None:
    i = _index(raw, "nuanshangbao")
    raw["commitments"][i]["co"] = ["finance", "insurance_bureau"]
    assert _problems(raw) == [f"commitments[{i}] (id=nuanshangbao): 未知责任单位 / unknown bureau 'insurance_bureau'"]


def test_a_commitment_naming_an_unknown_kpi_or_section_or_two_flags_is_refused(raw: dict) -> None:
    i = _index(raw, "talent_stations")
    raw["commitments"][i]["kpis"] = ["talent_station_stay"]
    raw["commitments"][i]["section"] = "五(一)"
    assert _problems(raw) == [
        f"commitments[{i}] (id=talent_stations): 未知政策条目 / unknown section '五(一)'",
        f"commitments[{i}] (id=talent_stations): 未知指标 / unknown kpi 'talent_station_stay'",
    ]
    raw = yaml.safe_load(DEFAULT_TARGETS.read_text(encoding="utf-8"))
    j = _index(raw, "settlement_green_channel")
    raw["commitments"][j]["kpis"] = ["green_channel_in_place", "settlement_assisted_services_in_place"]
    assert _problems(raw) == [
        f"commitments[{j}] (id=settlement_green_channel): 最多一个完成标志指标 / at most one flag kpi: "
        "green_channel_in_place, settlement_assisted_services_in_place"
    ]


def test_a_duplicate_commitment_id_is_refused(raw: dict) -> None:
    raw["commitments"].append(copy.deepcopy(raw["commitments"][0]))
    last = len(raw["commitments"]) - 1
    assert _problems(raw) == [f"commitments[{last}] (id=open_urban_registration): 重复的 id / duplicate id"]


def test_every_commitment_quotes_the_policy_and_its_flag_is_reported_by_its_lead_bureau() -> None:
    cfg = load_targets()
    names = [c.name_zh for c in cfg.commitments]
    for wanted in (
        "全域创建国家义务教育优质均衡发展示范市",
        "实施“暖商保”项目",
        "开通落户事项办理“绿色通道”",
        "筹集建设一批人才驿站，为求职大学生提供短期免费入住",
        "探索推行“互联网+婚姻”登记模式",
        "定期发布人才需求目录",
        "打造城镇“一刻钟”就近养老服务圈",
        "着力打造15分钟托育服务圈",
        "鼓励和帮助重点企业在市内建设生活基地",
    ):
        assert wanted in names
    assert [c.id for c in cfg.commitments if c.source not in POLICY_TEXT] == []
    # in the policy's order
    positions = [POLICY_TEXT.index(c.source) for c in cfg.commitments]
    assert positions == sorted(positions)
    kpis = cfg.kpi_by_id
    flags = {c.id: [k for k in c.kpis if kpis[k].value_type == "flag"] for c in cfg.commitments}
    assert [c.id for c in cfg.commitments if not c.kpis] == []
    assert [c.id for c in cfg.commitments for k in flags[c.id] if kpis[k].lead != c.lead] == []
    assert flags["nuanshangbao"] == [] and cfg.commitments[3].kpis == ["nuanshangbao_businesses"]
    assert flags["talent_stations"] == [] and "talent_station_stays" in cfg.commitments[11].kpis
    # a flag of a commitment carries no target: nothing about it can be behind
    assert {t.kpi for t in cfg.targets} & {k for f in flags.values() for k in f} == set()


# -- where they are shown -------------------------------------------------------------------------------


def test_workbook_has_a_commitments_sheet_with_one_row_each(
    con: duckdb.DuckDBPyConnection, ccfg: TargetsConfig, tmp_path: Path
) -> None:
    report(con, ccfg, "2026-10", [(FLAG, "全市", 1), (PEOPLE, "东胜区", 120)])
    data = briefing.collect(con, ccfg, "2026-10")
    path = briefing.write_workbook(
        tmp_path / "b.xlsx", data.card, data.units, data.reporting, lang="zh",
        bureau_names=data.bureau_names, commitments=data.commitments,
    )  # fmt: skip
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["计分卡", "分旗区", "报送情况", "承诺事项", "情况说明"]
    rows = list(book["承诺事项"].iter_rows(values_only=True))
    assert rows == [
        ("条目", "承诺事项", "牵头单位", "落实情况", "监测依据（最新全市数据）", "政策原文", "事项编码"),
        (
            "测试", "开通落户事项办理“绿色通道”", "市公安局", "已落实",
            "落户事项办理“绿色通道”开通：已完成（2026年10月）", "开通落户事项办理“绿色通道”（测试）", "green_channel",
        ),
        (
            "测试", "发放一次性落户补助", "市公安局", "推进中", "一次性落户补助发放人数：120人（2026年10月）",
            "发放一次性落户补助（测试）", "subsidy_paid",
        ),
        (
            "测试", "落户专属服务", "市公安局", "已落实",
            "落户事项办理“绿色通道”开通：已完成（2026年10月）；一次性落户补助发放人数：120人（2026年10月）",
            "落户专属服务（测试）", "registration_services",
        ),
    ]  # fmt: skip
    # a briefing for the housing bureau's targets lists the commitments it leads: none
    housing = briefing.collect(con, ccfg, "2026-10", bureaus=["housing"])
    assert housing.commitments.empty


def test_commitments_command_prints_each_commitment_with_its_state_and_evidence(
    wh: tuple[duckdb.DuckDBPyConnection, Path], ccfg: TargetsConfig, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    connection, path = wh
    report(connection, ccfg, "2026-09", [(FLAG, "全市", 1)])
    report(connection, ccfg, "2026-10", [(PEOPLE, "东胜区", 120), (PEOPLE, "康巴什区", 80)])
    connection.close()  # the command line opens the file read-only
    targets = tmp_path / "targets.yaml"
    targets.write_text(yaml.safe_dump(_config(), allow_unicode=True), encoding="utf-8")
    argv = ["scorecard", "--as-of", "2026-10", "--db", str(path), "--format", "json", "--targets", str(targets)]
    assert monitor_main(argv) == 0
    # the scorecard stays a list of targets; the commitments have their own command
    assert [t["target_id"] for t in json.loads(capsys.readouterr().out)] == [t["id"] for t in TARGETS_DICT["targets"]]
    argv = ["commitments", "--as-of", "2026-10", "--db", str(path), "--format", "json", "--targets", str(targets)]
    assert monitor_main(argv) == 0
    document = {"commitments": json.loads(capsys.readouterr().out)}
    common = {"section": "测试", "lead": BUREAU, "co": ["finance"]}
    assert document["commitments"] == [
        {
            "commitment_id": "green_channel", "name_zh": "开通落户事项办理“绿色通道”", "name_en": "green channel",
            **common, "state": "in_place", "state_zh": "已落实", "state_en": "In place", "latest_period": "2026-09",
            "evidence": [{"kpi_id": FLAG, "period": "2026-09", "value": 1.0}],
            "source": "开通落户事项办理“绿色通道”（测试）",
        },
        {
            "commitment_id": "subsidy_paid", "name_zh": "发放一次性落户补助", "name_en": "subsidy paid",
            **common, "state": "in_progress", "state_zh": "推进中", "state_en": "In progress",
            "latest_period": "2026-10", "evidence": [{"kpi_id": PEOPLE, "period": "2026-10", "value": 200.0}],
            "source": "发放一次性落户补助（测试）",
        },
        {
            "commitment_id": "registration_services", "name_zh": "落户专属服务", "name_en": "registration services",
            **common, "state": "in_place", "state_zh": "已落实", "state_en": "In place", "latest_period": "2026-10",
            "evidence": [
                {"kpi_id": FLAG, "period": "2026-09", "value": 1.0},
                {"kpi_id": PEOPLE, "period": "2026-10", "value": 200.0},
            ],
            "source": "落户专属服务（测试）",
        },
    ]  # fmt: skip


def _latest_city_figure(path: Path, kpi_id: str, as_of: dt.date) -> tuple[dt.date, float]:
    """(newest month up to as_of, the sum of the districts' current figures that month) of a KPI."""
    connection = db.connect(path, read_only=True)
    try:
        rows = connection.execute(
            "select district_id, period, value, revision from observations where kpi_id = ? and period <= ?",
            [kpi_id, as_of],
        ).df()
    finally:
        connection.close()
    current = rows.sort_values("revision").groupby(["district_id", "period"]).tail(1)
    newest = current["period"].max()
    return pd.Timestamp(newest).date(), float(current.loc[current["period"] == newest, "value"].sum())


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_overview_by_section_lists_a_sections_commitments_after_its_targets(
    app_db: Path, demo_db: Path, lang: str
) -> None:
    """暖商保 (二(二)) is reported by 市场监管局, which stopped reporting three months before 2026-10 in
    the demo: 未报送, with the figure and month it last sent."""
    at = group_by_section(open_page("leader", "overview", lang), lang)
    heading = next(h for h in sections_drawn(at) if h.startswith("二(二) "))
    targets, commitments, _indicators = frames_under(at, heading)
    month, figure = _latest_city_figure(demo_db, "nuanshangbao_businesses", dt.date(2026, 10, 1))
    assert month == dt.date(2026, 7, 1)
    if lang == "zh":
        assert "目标" in targets.columns
        assert commitments.to_dict("records") == [
            {
                "承诺事项": "实施“暖商保”项目",
                "落实情况": "未报送",
                "牵头单位": "市市场监督管理局",
                "监测依据（最新全市数据）": f"“暖商保”参保个体工商户：{fmt.number_zh(figure, '户')}（2026年7月）",
            }
        ]
        assert "承诺事项（无量化目标和期限）" in [c.value for c in at.caption]
    else:
        assert commitments.to_dict("records") == [
            {
                "Commitment": "Nuanshangbao insurance for the self-employed",
                "State": "Not reported",
                "Lead bureau": "Market Regulation Administration",
                "Evidence (latest city figures)": (
                    "Self-employed businesses insured under the Nuanshangbao scheme: "
                    f"{fmt.number_en(figure, 'businesses')} (Jul 2026)"
                ),
            }
        ]
