"""The lead bureau's decisions on the pages (dashboard/decisions.py on the target detail, the caption of
the districts page), with AppTest against a copy of the demo warehouse (real targets.yaml).

``affordable_rent_cap_70`` (住建局) assumes its baseline and deadline and is a city ratio (no quotas):
its decision expander holds two forms, the baseline's first. The harness (signing in, the pages/
flag, the language outside a run) is tests/test_app_pages.py's, imported with its autouse fixture.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import Expander

from monitor import auth, db, fmt, i18n
from monitor import target_settings as settings
from monitor.targets import load_targets
from tests.test_app_pages import _harness, assert_clean, open_page  # noqa: F401 (_harness: autouse fixture)

ASSUMED_TARGET = "affordable_rent_cap_70"
DECIDE = "确认假设与任务分解（牵头单位）"
REASON_LABEL = "理由（必填，如依据的文件、会议）"
RENTAL = "rental_housing_15k"


def T(key: str, lang: str) -> str:
    return i18n.t(key, lang)  # type: ignore[arg-type]


def _expanders(at: AppTest) -> list[str]:
    return [e.label for e in at.expander]


def _decide(at: AppTest) -> Expander:
    found = [e for e in at.expander if e.label == DECIDE]
    assert len(found) == 1, _expanders(at)
    return found[0]


def _settings_rows(path: Path) -> list[tuple]:
    con = db.connect(path)  # the app holds it read-write: same configuration
    try:
        return con.execute(
            "select setting_id, target_id, field, action, reason, user_name from target_settings order by 1"
        ).fetchall()
    finally:
        con.close()


def _audit_actions(path: Path) -> list[str]:
    con = db.connect(path)  # the app holds it read-write: same configuration
    try:
        return [r[0] for r in con.execute("select action from audit_log order by event_id").fetchall()]
    finally:
        con.close()


def test_the_lead_bureaus_reporter_sees_the_decision_forms_and_a_leader_does_not(app_db: Path) -> None:
    reporter = open_page("housing", "target_detail", target=ASSUMED_TARGET)
    assert_clean(reporter)
    decide = _decide(reporter)
    # one form per assumed item: baseline, then deadline, each with its reason and its save button
    assert [t.label for t in decide.text_area] == [REASON_LABEL, REASON_LABEL]
    assert [b.label for b in decide.button] == ["保存", "保存"]

    leader = open_page("leader", "target_detail", target=ASSUMED_TARGET)
    assert_clean(leader)
    assert DECIDE not in _expanders(leader)
    assert REASON_LABEL not in [t.label for t in leader.text_area]  # (a leader's 督办 form is another one)


def test_another_bureaus_reporter_sees_no_decision_form(app_db: Path) -> None:
    """transport does not lead the rent cap (住建局 does): the page offers it nothing to decide."""
    at = open_page("transport", "target_detail", target=ASSUMED_TARGET)
    assert_clean(at)
    assert DECIDE not in _expanders(at)


def test_confirming_the_baseline_on_the_page_saves_version_1_and_the_history_lists_it(app_db: Path) -> None:
    at = open_page("housing", "target_detail", target=ASSUMED_TARGET)
    decide = _decide(at)
    assert not [e for e in _expanders(at) if e.startswith("确认与任务分解记录")]  # no history yet
    assert "基线：68%（2024年7月）（假设，待确认）" in [m.value for m in at.markdown]
    decide.text_area[0].input("2024年6月市场租金调查报告")
    decide.button[0].click().run()
    assert_clean(at)
    assert [s.value for s in at.success] == ["已保存（版本 v1），已记入审计日志"]
    assert _settings_rows(app_db) == [
        (1, ASSUMED_TARGET, "baseline", "confirm", "2024年6月市场租金调查报告", "housing")
    ]
    assert _audit_actions(app_db)[-1] == "target_setting"

    at.run()  # the next run of the page (any click) reads the new version
    assert_clean(at)
    history = [e for e in at.expander if e.label == "确认与任务分解记录（1条）"]
    assert len(history) == 1, _expanders(at)
    table = history[0].dataframe[0].value
    assert table[["版本", "事项", "操作", "操作人", "理由（必填，如依据的文件、会议）"]].values.tolist() == [
        ["v1", "基线", "确认", "housing", "2024年6月市场租金调查报告"]
    ]
    cfg = load_targets()
    target = next(t for t in cfg.targets if t.id == ASSUMED_TARGET)
    assert target.baseline is not None
    kpi = cfg.kpi_by_id[target.kpi]
    assert table["数值"].tolist() == [fmt.figure(target.baseline.value, kpi.unit_zh, kpi.unit_en, "zh")]
    # the baseline now reads 已确认; the deadline is still assumed
    shown = [m.value for m in at.markdown]
    assert "基线：68%（2024年7月）（已确认）" in shown
    assert "截止：2027年12月（假设，待确认）" in shown


def test_a_confirmation_without_a_reason_is_refused_on_the_page_and_saves_nothing(app_db: Path) -> None:
    at = open_page("housing", "target_detail", target=ASSUMED_TARGET)
    audit_before = _audit_actions(app_db)
    _decide(at).button[1].click().run()  # the deadline's form, reason left empty
    assert not at.exception
    assert [e.value for e in at.error] == ["请填写理由（如依据的文件或会议）"]
    assert not at.success
    assert _settings_rows(app_db) == []
    assert _audit_actions(app_db) == audit_before


def test_the_districts_caption_names_the_targets_with_quotas(app_db: Path) -> None:
    at = open_page("leader", "districts")
    assert_clean(at)
    assert "尚无目标设定任务分解。" in [c.value for c in at.caption]

    cfg = load_targets()
    con = db.connect(app_db)
    try:
        housing = auth.get_user(con, "housing")
        assert housing is not None
        assert settings.set_quotas(con, cfg, housing, RENTAL, {"dongsheng": 3000}, "市政府专题会议纪要") == [1]
    finally:
        con.close()
    at = open_page("leader", "districts")
    assert_clean(at)
    captions = [c.value for c in at.caption]
    # shown as text: fmt.plain escapes the "1." that markdown would read as a list number
    assert fmt.plain("已设定任务分解的目标：三年内筹建保障性租赁住房1.5万套以上") in captions
    assert "尚无目标设定任务分解。" not in captions


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_quota_form_shows_the_quota_in_force_and_where_each_district_target_comes_from(
    app_db: Path, lang: str
) -> None:
    cfg = load_targets()
    con = db.connect(app_db)
    try:
        housing = auth.get_user(con, "housing")
        assert housing is not None
        settings.set_quotas(con, cfg, housing, RENTAL, {"dongsheng": 3000}, "市政府专题会议纪要")
    finally:
        con.close()
    at = open_page("housing", "target_detail", lang, target=RENTAL)
    assert_clean(at)
    assert len(at.data_editor) == 1, "the quota editor"
    table = at.data_editor[0].value.set_index("district_id")
    in_force, basis, quota = (T(k, lang) for k in ("quota_in_force", "quota_basis", "quota_value"))
    assert table.loc["dongsheng", quota] == 3000
    assert table.loc["dongsheng", in_force] == fmt.figure(3000, "套", "units", lang)
    assert table.loc["dongsheng", basis] == {"zh": "旗区任务分解：3,000套", "en": "district quota: 3,000 units"}[lang]
    # the three other districts of the policy's 9,500 share what is left of it; no quota typed for them
    assert table.loc["kangbashi", in_force] == fmt.figure(6500 / 3, "套", "units", lang)
    assert pd.isna(table.loc["kangbashi", quota])
    assert (
        table.loc["kangbashi", basis]
        == {
            "zh": "旗区目标：政策规定其中4个旗区共9,500套，减去已分解任务后在其余3个旗区间均分",
            "en": "district target: the 9,500 units the policy sets for 4 districts, less their quotas, split equally"
            " over the other 3",
        }[lang]
    )
