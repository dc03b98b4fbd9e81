"""The policy's own structure in the app: sections with their headings in the policy's order, the
overview grouped by section (sections without targets included), the meaning of 0477, and the
activity indicators (monthly figures without a target) on their section and on the target detail.

App tests run against a copy of the demo warehouse (demo data up to 2026-10), driven as in
tests/test_app_pages.py; expected figures are read from the warehouse's observations directly."""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
import yaml
from streamlit.testing.v1.element_tree import Block

from monitor import db, fmt
from monitor.progress import scorecard
from monitor.targets import DEFAULT_TARGETS, TargetsError, load_targets, parse_targets
from tests.test_app_pages import (  # noqa: F401  (_harness: the app-test harness fixture, autouse)
    AS_OF,
    _harness,
    assert_clean,
    frames,
    open_page,
)

ROOT = Path(__file__).resolve().parents[1]
POLICY_TEXT = (ROOT / "docs" / "policy" / "ordos-0477-measures.zh.txt").read_text(encoding="utf-8")

# The policy's 19 numbered items as the filter lists them: code and heading, in the text's order.
SECTION_LABELS_ZH = [
    "一 实行“零门槛”落户政策",
    "二(一) “暖业”增加优质就业岗位",
    "二(二) “暖岗”大力支持稳岗扩岗",
    "二(三) “暖创”加大创业扶持力度",
    "二(四) “暖才”重点支持青年就业",
    "三(一) 提供优质的人力资源服务",
    "三(二) 提供优质的住房保障服务",
    "三(三) 提供优质的便民生活服务",
    "三(四) 提供优质的医疗保障服务",
    "三(五) 提供优质的公共出行服务",
    "三(六) 提供优质的婚姻登记服务",
    "三(七) 提供优质的政策咨询服务",
    "四(一) 求职无忧",
    "四(二) 安居无忧",
    "四(三) 生育无忧",
    "四(四) 教育无忧",
    "四(五) 医疗无忧",
    "四(六) 养老无忧",
    "四(七) 进城无忧",
]


@pytest.fixture(scope="module")
def card(demo_db: Path) -> pd.DataFrame:
    """The scorecard the overview shows, computed without the app."""
    con = db.connect(demo_db, read_only=True)
    try:
        return scorecard(con, AS_OF, cfg=load_targets())
    finally:
        con.close()


def latest_city_figure(path: Path, kpi_id: str, as_of: dt.date) -> tuple[dt.date, float, float]:
    """(newest month up to as_of, the city's figure that month, the total since 2024-07) of a KPI
    summed over districts, from the observations table itself (highest revision of each figure)."""
    con = db.connect(path, read_only=True)
    try:
        rows = con.execute(
            """
            select district_id, period, value, revision from observations
            where kpi_id = ? and period <= ? and district_id <> 'city'
            """,
            [kpi_id, as_of],
        ).df()
    finally:
        con.close()
    current = rows.sort_values("revision").groupby(["district_id", "period"]).tail(1)
    newest = current["period"].max()
    at_newest = current[current["period"] == newest]["value"].sum()
    return pd.Timestamp(newest).date(), float(at_newest), float(current["value"].sum())


def sections_drawn(at) -> dict[str, list]:
    """What the page draws under each subheader, in order: {subheader text: [elements]}."""
    drawn: dict[str, list] = {}
    current: list = []

    def walk(block) -> None:
        nonlocal current
        for node in block.children.values():
            if getattr(node, "type", None) == "subheader":
                current = drawn.setdefault(node.value, [])
            elif isinstance(node, Block):
                walk(node)
            else:
                current.append(node)

    walk(at.main)
    return drawn


def frames_under(at, heading: str) -> list[pd.DataFrame]:
    """The tables drawn under one subheader (a section's targets, then its activity indicators)."""
    return [e.value for e in sections_drawn(at)[heading] if e.type == "dataframe"]


def group_by_section(at, lang: str = "zh"):
    at.radio(key=f"ov_group_{lang}").set_value("section").run()
    assert_clean(at)
    return at


# -- targets.yaml: the sections block ------------------------------------------------------------------


def test_every_section_heading_is_quoted_from_the_policy_text_in_its_order() -> None:
    cfg = load_targets()
    labels = [cfg.section_label(code, "zh") for code in cfg.section_codes()]
    assert labels == SECTION_LABELS_ZH
    positions = [POLICY_TEXT.index(s.heading_zh) for s in cfg.sections]
    assert positions == sorted(positions)
    assert cfg.section_label("三(二)", "en") == "三(二) Quality housing support"


def test_a_kpi_naming_a_section_the_block_does_not_list_is_an_error() -> None:
    raw = yaml.safe_load(DEFAULT_TARGETS.read_text(encoding="utf-8"))
    broken = copy.deepcopy(raw)
    broken["kpis"][0]["section"] = "五(一)"
    with pytest.raises(TargetsError) as err:
        parse_targets(broken)
    assert err.value.problems == [f"kpis[0] (id={raw['kpis'][0]['id']}): 未知政策条目 / unknown section '五(一)'"]
    twice = copy.deepcopy(raw)
    twice["sections"].append(dict(twice["sections"][0]))
    with pytest.raises(TargetsError) as err:
        parse_targets(twice)
    assert err.value.problems == ["sections[19] (code=一): 重复的条目 / duplicate section"]


# -- the overview --------------------------------------------------------------------------------------


def test_section_filter_lists_all_19_sections_with_headings_in_policy_order(app_db: Path) -> None:
    at = open_page("leader", "overview")
    assert_clean(at)
    assert at.multiselect(key="ov_section_zh").options == SECTION_LABELS_ZH
    at = open_page("leader", "overview", "en")
    options = at.multiselect(key="ov_section_en").options
    assert options[6] == "三(二) Quality housing support"
    assert options[-1] == "四(七) Moving to town without worry"


def test_overview_explains_what_0477_means(app_db: Path) -> None:
    at = open_page("leader", "overview")
    [box] = [e for e in at.expander if e.label == "政策结构：“0477”的含义"]
    text = box.markdown[0].value
    assert "“0477”即各部分的措施数" in text
    assert "**0**：一、实行“零门槛”落户政策" in text
    assert "**4**：二、实行“四暖”就业政策——（一）暖业、（二）暖岗、（三）暖创、（四）暖才" in text
    assert "**7**：三、实行“七优”服务政策" in text
    assert "**7**：四、实行“七无忧”保障政策——求职、安居、生育、教育、医疗、养老、进城无忧" in text
    for part in (
        "一、实行“零门槛”落户政策",
        "二、实行“四暖”就业政策",
        "三、实行“七优”服务政策",
        "四、实行“七无忧”保障政策",
    ):
        assert part in POLICY_TEXT  # the explainer quotes the policy's own part headings
    at = open_page("leader", "overview", "en")
    assert "How the policy is built: what “0477” means" in [e.label for e in at.expander]


def test_grouped_by_section_every_section_is_listed_in_order_with_its_targets(app_db: Path, card: pd.DataFrame) -> None:
    at = group_by_section(open_page("leader", "overview"))
    heads = [h.value for h in at.subheader]
    counts = card["section"].value_counts()
    assert heads == [
        f"{label}（{counts[label.split(' ')[0]]}）" if label.split(" ")[0] in counts else label
        for label in SECTION_LABELS_ZH
    ]
    # every target exactly once, in the table of its own section
    housing = card.loc[card["section"] == "三(二)", "name_zh"]
    [table] = frames_under(at, f"三(二) 提供优质的住房保障服务（{len(housing)}）")
    assert sorted(table["目标"]) == sorted(housing)
    target_tables = [f for f in frames(at) if "目标" in f.columns]
    assert sum(len(f) for f in target_tables) == len(card)


def test_a_section_without_targets_is_listed_with_its_activity_indicators(app_db: Path, demo_db: Path) -> None:
    at = group_by_section(open_page("leader", "overview"))
    heads = [h.value for h in at.subheader]
    assert "三(四) 提供优质的医疗保障服务" in heads  # no "（n）": it has no target
    assert "本节无量化目标" in [c.value for c in at.caption]
    [indicators] = frames_under(at, "三(四) 提供优质的医疗保障服务")  # indicators, no target table
    assert list(indicators["指标"]) == [
        "高血压、糖尿病、过敏性鼻炎门诊报销人次",
        "高血压、糖尿病、过敏性鼻炎门诊报销金额",
        "产前检查和生育医疗费用医保支付人次",
        "产前检查和生育医疗费用医保支付金额",
    ]
    month, figure, total = latest_city_figure(demo_db, "chronic_outpatient_claims", AS_OF)
    first = indicators.iloc[0]
    assert first["最新月份"] == fmt.month(month, "zh")
    assert first["当月数值"] == fmt.figure(figure, "人次", "claims", "zh")
    assert first["2024年7月以来累计"] == fmt.figure(total, "人次", "claims", "zh")


def test_an_activity_indicator_shows_its_latest_figure_and_month_on_its_section(
    app_db: Path, demo_db: Path, card: pd.DataFrame
) -> None:
    """暖商保 is reported by 市场监管局, which stopped reporting: its newest month is not the as-of
    month, and the section says which month the figure is from."""
    at = group_by_section(open_page("leader", "overview"))
    heading = next(h for h in sections_drawn(at) if h.startswith("二(二) “暖岗”大力支持稳岗扩岗（"))
    targets, commitments, indicators = frames_under(at, heading)  # commitments between them (issue 13)
    assert set(targets["目标"]) == set(card.loc[card["section"] == "二(二)", "name_zh"])
    assert list(commitments["承诺事项"]) == ["实施“暖商保”项目"]
    indicators = indicators.set_index("指标")
    month, figure, total = latest_city_figure(demo_db, "nuanshangbao_businesses", AS_OF)
    assert month < AS_OF
    row = indicators.loc["“暖商保”参保个体工商户"]
    assert row["最新月份"] == f"{month.year}年{month.month}月"
    assert row["当月数值"] == fmt.number_zh(figure, "户")
    assert row["2024年7月以来累计"] == fmt.number_zh(total, "户")
    assert len(indicators) == 7  # every activity indicator of 二(二)


def test_a_status_filter_hides_sections_without_matching_targets(app_db: Path, card: pd.DataFrame) -> None:
    at = group_by_section(open_page("leader", "overview"))
    at.multiselect(key="ov_status_zh").set_value(["achieved"]).run()
    assert_clean(at)
    achieved = card[card["status"] == "achieved"]
    wanted = [label for label in SECTION_LABELS_ZH if label.split(" ")[0] in set(achieved["section"])]
    assert [h.value.split("（")[0] for h in at.subheader] == wanted
    assert not [f for f in frames(at) if "最新月份" in f.columns]  # no activity table under a status filter


def test_grouping_by_section_survives_the_language_toggle(app_db: Path) -> None:
    at = group_by_section(open_page("leader", "overview"))
    at.segmented_control(key="lang_choice").set_value("English").run()
    assert_clean(at)
    assert at.radio(key="ov_group_en").value == "section"
    assert "三(四) Quality medical insurance" in [h.value for h in at.subheader]
    assert "This section sets no quantified target" in [c.value for c in at.caption]


# -- the target detail ---------------------------------------------------------------------------------


def test_target_detail_names_its_section_and_shows_the_sections_indicators(
    app_db: Path, demo_db: Path, card: pd.DataFrame
) -> None:
    target_id = card.loc[card["section"] == "二(二)", "target_id"].iloc[0]
    at = open_page("leader", "target_detail", target=target_id)
    assert_clean(at)
    assert "政策条目：二(二) “暖岗”大力支持稳岗扩岗" in [c.value for c in at.caption]
    [indicators] = frames_under(at, "本条目的活动指标")
    indicators = indicators.set_index("指标")
    month, figure, _ = latest_city_figure(demo_db, "job_expansion_subsidy_hires", AS_OF)
    assert indicators.loc["一次性扩岗补助覆盖招用人数", "最新月份"] == fmt.month(month, "zh")
    assert indicators.loc["一次性扩岗补助覆盖招用人数", "当月数值"] == fmt.number_zh(figure, "人")


def test_target_detail_of_a_section_without_indicators_shows_no_indicator_table(app_db: Path) -> None:
    at = open_page("leader", "target_detail", target="rental_housing_15k")
    assert_clean(at)
    assert "政策条目：三(二) 提供优质的住房保障服务" in [c.value for c in at.caption]
    assert "本条目的活动指标" not in sections_drawn(at)
    assert not [f for f in frames(at) if "最新月份" in f.columns]
