"""Record tables read as users read them: names for ids, 2026年10月 for periods, words for codes,
headers in the user's language, and no warehouse column name left on screen."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pandas as pd
import pytest

from etl.load import load_bytes
from monitor import i18n, queries, tables
from monitor.targets import TargetsConfig
from tests.conftest import TODAY, Warehouse

ROOT = Path(__file__).resolve().parents[1]
RENTAL = "rental_housing_units"


def _names(cfg: TargetsConfig, lang: i18n.Lang) -> dict[str, dict[str, str]]:
    pick = "name_zh" if lang == "zh" else "name_en"
    return {
        "bureau_id": {b.id: getattr(b, pick) for b in cfg.bureaus},
        "district_id": {d.id: getattr(d, pick) for d in cfg.districts},
        "kpi_id": {k.id: getattr(k, pick) for k in cfg.kpis},
    }


def _csv(rows: list[tuple[str, str, float]]) -> bytes:
    body = "".join(f"{RENTAL},东胜区,{p},{v}\n" for p, _, v in rows)
    return ("指标编码,旗区,报送期,数值\n" + body).encode()


@pytest.fixture
def with_warning(warehouse: Warehouse, cfg: TargetsConfig) -> Warehouse:
    """Six months of history, then a jump far outside it (a warning) and a file with a text figure."""
    history = _csv([(f"2025-{m:02d}", "", 100 + m) for m in range(1, 7)])
    for name, data in (("history.csv", history), ("jump.csv", _csv([("2025-07", "", 5000)]))):
        res = load_bytes(name, data, cfg, "housing", "zhang", warehouse.con, archive=warehouse.archive, today=TODAY)
        assert res.outcome == "accepted", res.problems
    bad = "指标编码,旗区,报送期,数值\n".encode()
    bad += f"{RENTAL},东胜区,2025-08,约一百\n".encode()
    res = load_bytes("bad.csv", bad, cfg, "housing", "zhang", warehouse.con, archive=warehouse.archive, today=TODAY)
    assert res.outcome == "rejected"
    return warehouse


def test_warning_names_the_kpi_district_and_month_in_chinese(with_warning: Warehouse, cfg: TargetsConfig) -> None:
    shown = tables.localise(queries.load_warnings(with_warning.con), "zh", _names(cfg, "zh"))
    assert list(shown.columns) == ["提交时间", "责任单位", "文件", "行", "指标", "旗区", "月份", "数值", "提示"]
    row = shown.iloc[0]
    kpi = cfg.kpi_by_id[RENTAL]
    assert (row["责任单位"], row["文件"], row["行"]) == ("市住房和城乡建设局", "jump.csv", 2)
    assert (row["指标"], row["旗区"], row["月份"], row["数值"]) == (kpi.name_zh, "东胜区", "2025年7月", 5000.0)
    assert row["提示"] == "数值明显偏离该指标历史水平（历史中位数 103.5），请核实"
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", row["提交时间"])


def test_warning_in_english_keeps_the_english_message(with_warning: Warehouse, cfg: TargetsConfig) -> None:
    shown = tables.localise(queries.load_warnings(with_warning.con), "en", _names(cfg, "en"))
    assert list(shown.columns) == [
        "Submitted at",
        "Bureau",
        "File",
        "Row",
        "KPI",
        "District",
        "Month",
        "Value",
        "Warning",
    ]
    row = shown.iloc[0]
    assert (row["KPI"], row["District"], row["Month"]) == (
        cfg.kpi_by_id[RENTAL].name_en,
        "Dongsheng",
        "Jul 2025",
    )
    assert "median" in row["Warning"] and "历史" not in row["Warning"]


def test_rejected_row_shows_the_problem_in_the_users_language(with_warning: Warehouse, cfg: TargetsConfig) -> None:
    shown = tables.localise(queries.rejected_rows(with_warning.con), "zh", _names(cfg, "zh"))
    assert list(shown.columns) == ["提交时间", "责任单位", "账号", "文件", "行", "列", "数值", "问题"]
    row = shown.iloc[0]
    assert (row["文件"], row["行"], row["列"], row["数值"]) == ("bad.csv", 2, "D（数值）", "约一百")
    assert "不是有效数字" in row["问题"]


def test_submissions_show_outcome_words_and_why_a_file_was_rejected(
    with_warning: Warehouse, cfg: TargetsConfig
) -> None:
    shown = tables.localise(queries.submissions(with_warning.con, "housing"), "zh", _names(cfg, "zh"))
    assert list(shown["结果"]) == ["已拒绝", "已导入", "已导入"]
    assert list(shown["文件"]) == ["bad.csv", "jump.csv", "history.csv"]
    assert list(shown["说明"]) == ["不是有效数字（可填 1234、1,234、1.5万 或 30%）", "", ""]
    en = tables.localise(queries.submissions(with_warning.con, "housing"), "en", _names(cfg, "en"))
    assert list(en["Outcome"]) == ["Rejected", "Accepted", "Accepted"]
    assert list(en["Reason"]) == ["not a number", "", ""]


def test_a_correction_reason_shows_as_typed_in_both_languages(warehouse: Warehouse, cfg: TargetsConfig) -> None:
    for name, value, reason in (("a.csv", 120, None), ("b.csv", 132, "补录漏报项目")):
        res = load_bytes(
            name, _csv([("2025-03", "", value)]), cfg, "housing", "zhang", warehouse.con,
            archive=warehouse.archive, today=TODAY, reason=reason,
        )  # fmt: skip
        assert res.outcome == "accepted"
    for lang, column in (("zh", "说明"), ("en", "Reason")):
        shown = tables.localise(queries.submissions(warehouse.con), lang, _names(cfg, lang))
        assert list(shown[column]) == ["补录漏报项目", ""]
    revs = tables.localise(queries.kpi_revisions(warehouse.con, RENTAL), "zh", _names(cfg, "zh"))
    assert list(revs[["旗区", "月份", "版本", "数值", "说明"]].itertuples(index=False, name=None)) == [
        ("东胜区", "2025年3月", 1, 120.0, ""),
        ("东胜区", "2025年3月", 2, 132.0, "补录漏报项目"),
    ]


def test_every_audit_action_the_code_writes_has_a_word_in_both_languages() -> None:
    """A new audit action without a catalogue entry would show up as a raw code in the audit log."""
    written: set[str] = set()
    for path in [*ROOT.glob("monitor/*.py"), *ROOT.glob("etl/*.py")]:
        text = path.read_text(encoding="utf-8")
        written |= set(re.findall(r"audit\(\s*[\w.()]+,\s*[\w.\"]+,\s*\"(\w+)\"", text))
        written |= set(re.findall(r"\"(upload_\w+|revision|user_(?:en|dis)able)\"", text))
    assert {"sign_in", "upload_duplicate", "targets_reload", "user_disable", "revision"} <= written
    missing = sorted(a for a in written if f"act_{a}" not in i18n.CATALOGUE)
    assert missing == []


def test_audit_log_actions_read_as_words_and_unknown_ones_stay_visible(cfg: TargetsConfig) -> None:
    frame = pd.DataFrame(
        {
            "event_id": [2, 1],
            "logged_at": [pd.Timestamp("2026-11-05 14:30:59"), pd.Timestamp("2026-11-05 09:01:00")],
            "user_name": ["zhang", "admin"],
            "action": ["upload_accepted", "future_action"],
            "detail": ['{"file": "a.csv"}', "{}"],
        }
    )
    shown = tables.localise(frame, "zh", _names(cfg, "zh"))
    assert list(shown.columns) == ["序号", "时间", "账号", "操作", "详情"]
    assert list(shown["操作"]) == ["上报已导入", "future_action"]
    assert list(shown["时间"]) == ["2026-11-05 14:30", "2026-11-05 09:01"]
    assert list(shown["详情"]) == ['{"file": "a.csv"}', ""]


def test_unknown_id_is_shown_as_it_is_and_missing_one_as_a_dash(cfg: TargetsConfig) -> None:
    frame = pd.DataFrame(
        {"bureau_id": ["housing", "old_bureau", None], "period": [dt.date(2026, 3, 1), None, dt.date(2025, 12, 1)]}
    )
    shown = tables.localise(frame, "zh", _names(cfg, "zh"))
    assert list(shown["责任单位"]) == ["市住房和城乡建设局", "old_bureau", "—"]
    assert list(shown["月份"]) == ["2026年3月", "—", "2025年12月"]


def test_late_reports_show_due_day_and_first_sent_time(cfg: TargetsConfig) -> None:
    frame = pd.DataFrame(
        {
            "bureau_id": ["housing"],
            "period": [dt.date(2026, 9, 1)],
            "due_date": [dt.date(2026, 10, 10)],
            "first_submitted_at": [pd.Timestamp("2026-10-14 16:05:00")],
        }
    )
    zh = tables.localise(frame, "zh", _names(cfg, "zh")).iloc[0].to_dict()
    assert zh == {
        "责任单位": "市住房和城乡建设局",
        "月份": "2026年9月",
        "应报日期": "2026年10月10日",
        "首次报送时间": "2026-10-14 16:05",
    }
    en = tables.localise(frame, "en", _names(cfg, "en")).iloc[0].to_dict()
    assert en["Due"] == "10 Oct 2026" and en["Month"] == "Sep 2026"


@pytest.mark.parametrize(
    "query", ["load_warnings", "rejected_rows", "submissions", "audit_log", "kpi_submissions", "kpi_revisions"]
)
def test_no_record_query_column_is_left_without_a_header(warehouse: Warehouse, query: str) -> None:
    frame = getattr(queries, query)(warehouse.con, *([RENTAL] if query.startswith("kpi_") else []))
    frame = frame.drop(columns=["sha256"], errors="ignore")  # the page drops it
    bilingual = {f"{base}_{lang}" for base in tables.BILINGUAL for lang in ("zh", "en")}
    assert set(frame.columns) - set(tables.COLUMN_KEYS) - bilingual == set()


def test_reporting_status_reads_ticks_and_dates(cfg: TargetsConfig) -> None:
    frame = pd.DataFrame(
        {
            "period": [dt.date(2026, 10, 1), dt.date(2026, 9, 1)],
            "received": [False, True],
            "on_time": [False, True],
            "due_date": [pd.Timestamp("2026-11-10"), pd.Timestamp("2026-10-10")],
            "first_submitted_at": [pd.NaT, pd.Timestamp("2026-10-08 09:12:40")],
        }
    )
    shown = tables.localise(frame, "zh", _names(cfg, "zh"))
    assert shown.to_dict("records") == [
        {"月份": "2026年10月", "已报": "✘", "按时": "✘", "应报日期": "2026年11月10日", "首次报送时间": "—"},
        {
            "月份": "2026年9月",
            "已报": "✔",
            "按时": "✔",
            "应报日期": "2026年10月10日",
            "首次报送时间": "2026-10-08 09:12",
        },
    ]
