"""情况说明 in the app (issue 14), with AppTest against a copy of the demo warehouse: the upload page's
tab saves an explanation and shows its version; a month's report cannot be submitted while an
explanation it requires is missing (the exact message), and can once written; the target detail
shows the history by month and the notes of the month's figures; the overview shows the explanation
beside the status. Expected values are read from the warehouse, not from the page.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pandas as pd

from etl.demo import DEMO_EXPLANATIONS
from etl.notes import store
from monitor import db, explanations, fmt, i18n
from monitor.auth import User
from monitor.targets import load_targets
from tests.test_app_pages import (  # noqa: F401  (_harness: the AppTest fixture, autouse here too)
    AS_OF,
    KNOWN_TARGET,
    _harness,
    assert_clean,
    button,
    counts,
    frames,
    open_page,
)

HOUSING_REPORTER = User("housing", "住建局填报员", "reporter", "housing", True)
TRANSPORT_REPORTER = User("transport", "交通局填报员", "reporter", "transport", True)
CSV = "text/csv"


@contextmanager
def warehouse(path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """The test's copy of the demo warehouse (the app in this process shares the database)."""
    con = db.connect(path)
    try:
        yield con
    finally:
        con.close()


def no_exception(at) -> None:
    """The upload page may show other errors (a returned submission of the demo): only exceptions count."""
    assert not at.exception, [e.value for e in at.exception]


def missing_message(name: str, status: str) -> str:
    return (
        f"2026年10月“{fmt.plain(name)}”的情况说明未填写（目标状态为{i18n.status_label(status)}），"
        "请先在“情况说明”页签填写后再提交报表"
    )


def test_the_tab_saves_an_explanation_and_shows_its_version(app_db: Path) -> None:
    at = open_page("housing", "upload")
    at.selectbox(key="expl_period_zh").select(AS_OF).run()
    no_exception(at)
    stem = f"expl_{KNOWN_TARGET}_2026-10"
    at.text_area(key=f"{stem}_progress").input("1-10月累计筹建1.02万套")
    at.text_area(key=f"{stem}_problems").input("**部分项目** [用地](http://x) 未落实")
    at.button(key=f"{stem}_save").click().run()
    no_exception(at)
    assert not [e.value for e in at.error if "情况说明" in e.value]
    with warehouse(app_db) as con:
        stored = explanations.latest(con, [KNOWN_TARGET], AS_OF)
    assert stored[["progress", "problems", "next_steps", "user_name", "bureau_id"]].values.tolist() == [
        ["1-10月累计筹建1.02万套", "**部分项目** [用地](http://x) 未落实", "", "housing", "housing"]
    ]
    version = int(stored.at[0, "explanation_id"])
    assert f"已保存情况说明（版本{version}）" in [s.value for s in at.success]

    # a reporter of another bureau sees only its own targets: no form for this one
    other = open_page("transport", "upload")
    other.selectbox(key="expl_period_zh").select(AS_OF).run()
    no_exception(other)
    assert not [t for t in other.text_area if t.key.startswith(f"expl_{KNOWN_TARGET}_")]


def test_a_required_explanation_blocks_the_months_report_until_written(app_db: Path) -> None:
    cfg = load_targets()
    with warehouse(app_db) as con:
        required = explanations.required(con, cfg, "transport", AS_OF)
        kpi, district, value = con.execute(
            """
            select c.kpi_id, c.district_id, c.value
            from current_observations as c join kpis as k using (kpi_id)
            where k.lead_bureau = 'transport' and c.period = ? and k.aggregation = 'city'
            order by c.kpi_id limit 1
            """,
            [AS_OF],
        ).fetchall()[0]
    # the demo's transport targets as of 2026-10: one at risk, one off track, neither explained
    assert sorted(r.status for r in required) == ["at_risk", "off_track"]
    names = {t.id: t.name_zh for t in cfg.targets}
    expected = [missing_message(names[r.target_id], r.status) for r in required]

    # the month's report again, its figure unchanged (so no reason is asked)
    city = cfg.district_by_id[district].name_zh
    report = f"指标编码,旗区,报送期,数值\n{kpi},{city},2026-10,{value:g}\n".encode()
    before = counts(app_db)
    at = open_page("transport", "upload")
    at.file_uploader(key="up_file").upload("transport_2026-10.csv", report, CSV).run()
    no_exception(at)
    assert not at.error
    button(at, "确认导入").click().run()
    assert [e.value for e in at.error] == expected
    assert counts(app_db) == before  # nothing submitted

    # the tab marks both as required
    at.selectbox(key="expl_period_zh").select(AS_OF).run()
    marks = [w.value for w in at.warning if w.value.startswith("必填")]
    assert sorted(marks) == sorted(f"必填：目标状态为{i18n.status_label(r.status)}" for r in required)

    # one written: the other still blocks, and is the only message
    with warehouse(app_db) as con:
        explanations.save(con, cfg, TRANSPORT_REPORTER, required[0].target_id, AS_OF, "已协调", "", "")
    button(at, "确认导入").click().run()
    assert [e.value for e in at.error] == expected[1:]
    with warehouse(app_db) as con:
        explanations.save(con, cfg, TRANSPORT_REPORTER, required[1].target_id, AS_OF, "", "进度偏慢", "加快推进")
    button(at, "确认导入").click().run()
    no_exception(at)
    assert not at.error
    assert any("已导入" in s.value for s in at.success), [s.value for s in at.success]
    assert counts(app_db)["accepted"] == before["accepted"] + 1


def test_the_target_detail_shows_the_history_and_the_months_notes(app_db: Path) -> None:
    cfg = load_targets()
    kpi = next(t.kpi for t in cfg.targets if t.id == KNOWN_TARGET)
    with warehouse(app_db) as con:
        explanations.save(con, cfg, HOUSING_REPORTER, KNOWN_TARGET, "2026-09", "9月：开工3个项目", "", "")
        explanations.save(con, cfg, HOUSING_REPORTER, KNOWN_TARGET, "2026-10", "10月初稿", "", "")
        explanations.save(
            con, cfg, HOUSING_REPORTER, KNOWN_TARGET, "2026-10", "10月：累计1万套", "资金<缺口>", "11月验收"
        )
        # a note on the October figure leadership sees (the submission that set it)
        submission = con.execute(
            "select submission_id from current_observations where kpi_id = ? and district_id = 'dongsheng'"
            " and period = ?",
            [kpi, AS_OF],
        ).fetchall()[0][0]
        note = pd.DataFrame(
            {"kpi_id": [kpi], "district_id": ["dongsheng"], "period": [pd.Timestamp(AS_OF)], "note": ["含# 标题样文字"]}
        )
        store(con, submission, note)
        saved_at = explanations.history(con, KNOWN_TARGET)["saved_at"].dt.strftime("%Y-%m-%d %H:%M").tolist()

    at = open_page("leader", "target_detail", target=KNOWN_TARGET)
    assert_clean(at)
    assert "情况说明" in [s.value for s in at.subheader]
    [history] = [f for f in frames(at) if "进展情况" in f.columns]
    assert list(history.columns) == ["月份", "进展情况", "存在问题", "下步措施", "填写人", "保存时间"]
    assert history.values.tolist() == [
        ["2026年10月", "10月：累计1万套", "资金<缺口>", "11月验收", "housing", saved_at[0]],
        ["2026年9月", "9月：开工3个项目", "", "", "housing", saved_at[1]],
    ]
    assert "2026年10月数据备注" in [c.value for c in at.caption]
    [shown] = [f for f in frames(at) if "备注" in f.columns]
    assert shown.values.tolist() == [["东胜区", "2026年10月", "含# 标题样文字"]]


def test_the_overview_shows_the_explanation_beside_the_status(app_db: Path) -> None:
    cfg = load_targets()
    long_text = "全市已筹建保障性租赁住房" + "项目进展顺利" * 12
    with warehouse(app_db) as con:
        explanations.save(con, cfg, HOUSING_REPORTER, KNOWN_TARGET, AS_OF, long_text, "", "")
        other = next(t.id for t in cfg.targets if cfg.kpi_by_id[t.kpi].lead == "housing" and t.id != KNOWN_TARGET)
        explanations.save(con, cfg, HOUSING_REPORTER, other, "2026-09", "", "9月：审批偏慢", "")
    at = open_page("leader", "overview")
    assert_clean(at)
    shown = pd.concat(frames(at), ignore_index=True).set_index("目标")
    columns = list(shown.columns)
    assert columns.index("情况说明") == columns.index("状态") + 1  # right beside the status
    names = {t.id: t.name_zh for t in cfg.targets}
    assert shown.at[names[KNOWN_TARGET], "情况说明"] == long_text[:59] + "…"  # cut to 60 characters
    # an explanation of an earlier month says which month it is; its first text is shown
    assert shown.at[names[other], "情况说明"] == "2026年9月：9月：审批偏慢"
    # the rest are empty but for the demo's own explanations of targets needing attention (etl/demo.py)
    assert (shown["情况说明"] == "").sum() == len(shown) - 2 - DEMO_EXPLANATIONS


def test_the_tab_reads_in_english(app_db: Path) -> None:
    at = open_page("housing", "upload", "en")
    no_exception(at)
    at.selectbox(key="expl_period_en").select(AS_OF).run()  # the month widget is keyed by language
    labels = {t.label for t in at.text_area}
    assert {i18n.t(f"expl_{f}", "en") for f in explanations.FIELDS} <= labels
    assert "Save explanation" in [b.label for b in at.button]
