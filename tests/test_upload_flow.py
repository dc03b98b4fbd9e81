"""The upload flow a clerk and an auditor rely on (issue 11, H4):

* a re-upload that changes reported figures lists every change and needs a reason (page and CLI);
* months are offered up to last month only;
* an all-invalid file stores its first 1,000 problems and their exact total, no cell over 200 chars;
* every user-supplied string is shown as text (monitor.fmt.plain), never as a link or an image;
* every downloaded csv is neutralised against formula injection (monitor.export_safe).

ETL and CLI tests use the small config of conftest; page tests use AppTest against a copy of the
demo warehouse (helpers and the AppTest harness come from test_app_pages).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import streamlit.testing.v1.app_test as app_test_module
import yaml
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage

from etl.__main__ import main as etl_main
from etl.findings import MAX_VALUE_CHARS as MAX_STORED_TEXT
from etl.load import MAX_STORED_PROBLEMS, load_bytes
from monitor import db, explanations, export_safe, fmt
from monitor.__main__ import main as monitor_main
from monitor.auth import User
from monitor.targets import load_targets
from tests.conftest import TODAY, Warehouse, take_snapshot
from tests.test_app_pages import (  # noqa: F401  (_harness: the AppTest fixture, autouse here too)
    _harness,
    assert_clean,
    button,
    counts,
    frames,
    open_page,
)

HEADER = "指标编码,旗区,报送期,数值"
EVIL_NAME = "[核对](https:evil.example) ![x](https:evil.example?t.png) 报表.csv"
CHANGE_REQUIRED = "本文件修改了已报送的数值，请先填写修改原因。"


def report(*rows: str) -> bytes:
    return ("\n".join([HEADER, *rows]) + "\n").encode("utf-8")


def last_month() -> dt.date:
    return (dt.date.today().replace(day=1) - dt.timedelta(days=1)).replace(day=1)


# -- monitor.fmt.plain ---------------------------------------------------------------------------------

_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")  # CommonMark: a backslash before ASCII punctuation


def test_plain_escapes_a_markdown_link_and_image_in_a_file_name() -> None:
    shown = fmt.plain(EVIL_NAME)
    assert shown == r"\[核对\]\(https\:evil\.example\) \!\[x\]\(https\:evil\.example?t\.png\) 报表\.csv"
    # every character that could open a link, an image or HTML is escaped ...
    assert not re.search(r"(?<!\\)[\[\]()!<>]", shown)
    # ... and Markdown shows exactly what the user typed
    assert _ESCAPE.sub(r"\1", shown) == EVIL_NAME


@pytest.mark.parametrize(
    "typed",
    [
        "<img src=https://evil.example/x.png>",
        "**粗体** _斜体_ `代码`",
        "# 标题",
        "a&#91;b",
        ":red[红字] $x$",
        "张三\n# 标题",
    ],
)
def test_plain_shows_html_emphasis_headings_and_entities_as_typed(typed: str) -> None:
    shown = fmt.plain(typed)
    assert "\n" not in shown  # one line: a break could start a heading or a list
    assert _ESCAPE.sub(r"\1", shown) == typed.replace("\n", " ")


# -- monitor.export_safe ----------------------------------------------------------------------------------


def test_safe_csv_quotes_formula_text_and_keeps_negative_numbers() -> None:
    frame = pd.DataFrame(
        {
            "行": pd.array([2, 3, 4, 5, 6, 7], dtype="Int64"),
            "数值": ['=HYPERLINK("http://evil.example","点击")', "+1", "-2", "@SUM(A1)", "\t=1", "正常"],
            "差额": [-5.0, -1.5, 0.0, 3.0, float("nan"), -7.0],
        }
    )
    read = list(csv.reader(io.StringIO(export_safe.safe_csv(frame).decode("utf-8-sig"))))
    assert read[0] == ["行", "数值", "差额"]
    assert [r[1] for r in read[1:]] == [
        '\'=HYPERLINK("http://evil.example","点击")', "'+1", "'-2", "'@SUM(A1)", "'\t=1", "正常",
    ]  # fmt: skip
    assert [r[0] for r in read[1:]] == ["2", "3", "4", "5", "6", "7"]
    assert [r[2] for r in read[1:]] == ["-5.0", "-1.5", "0.0", "3.0", "", "-7.0"]  # numbers stay numbers


def test_scorecard_csv_neutralises_text_cells(
    tmp_path: Path, cfg_dict: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    cfg_dict["targets"][0]["name_zh"] = '=HYPERLINK("http://evil.example","进展")'
    targets = tmp_path / "targets.yaml"
    targets.write_text(yaml.safe_dump(cfg_dict, allow_unicode=True), encoding="utf-8")
    path = tmp_path / "w.duckdb"
    assert etl_main(["--db", str(path), "--targets", str(targets), "template", "--bureau", "housing",
                     "--period", "2025-03", "--out", str(tmp_path / "t.xlsx")]) == 0  # fmt: skip
    capsys.readouterr()
    status = monitor_main(["scorecard", "--db", str(path), "--targets", str(targets), "--as-of", "2025-03",
                           "--format", "csv"])  # fmt: skip
    assert status == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    first = next(r for r in rows if r["target_id"] == "rental_15k")
    assert first["name_zh"] == '\'=HYPERLINK("http://evil.example","进展")'
    assert first["target_value"] == "15000.0"  # a number, not text


# -- re-upload of a reported month: changes and a reason (load_bytes and CLI) ---------------------------


def _first_load(warehouse: Warehouse, cfg: Any) -> None:
    first = report("rental_housing_units,东胜区,2025-03,100", "rental_housing_units,康巴什区,2025-03,50")
    res = load_bytes("3月.csv", first, cfg, "housing", "clerk", warehouse.con, archive=None, today=TODAY)
    assert res.outcome == "accepted", [p.zh() for p in res.problems]


def test_dry_run_lists_every_reported_figure_the_file_changes(warehouse: Warehouse, cfg: Any) -> None:
    _first_load(warehouse, cfg)
    again = report(
        "rental_housing_units,东胜区,2025-03,120",  # changed
        "rental_housing_units,康巴什区,2025-03,50",  # unchanged
        "rental_housing_units,达拉特旗,2025-03,7",  # new: not a change
    )
    before = take_snapshot(warehouse.con)
    res = load_bytes("3月.csv", again, cfg, "housing", "clerk", warehouse.con, archive=None, today=TODAY,
                     dry_run=True)  # fmt: skip
    assert res.outcome == "checked"
    assert res.changes is not None
    assert [tuple(r) for r in res.changes.itertuples(index=False)] == [
        ("rental_housing_units", "dongsheng", pd.Timestamp("2025-03-01"), 100.0, 120.0)
    ]
    assert take_snapshot(warehouse.con) == before


def test_load_without_a_reason_is_refused_when_it_changes_reported_figures(warehouse: Warehouse, cfg: Any) -> None:
    _first_load(warehouse, cfg)
    again = report("rental_housing_units,东胜区,2025-03,120")
    before = take_snapshot(warehouse.con)
    res = load_bytes("3月.csv", again, cfg, "housing", "clerk", warehouse.con, archive=None, today=TODAY,
                     require_reason=True)  # fmt: skip
    assert (res.outcome, res.ok, len(res.changes)) == ("needs_reason", False, 1)
    assert res.summary_zh() == "3月.csv：本文件将修改1个已报送的数值，须说明修改原因后才能导入，数据库未做任何更改"
    assert take_snapshot(warehouse.con) == before


def _cli_setup(tmp_path: Path, cfg_dict: dict[str, Any]) -> tuple[Path, Path]:
    targets = tmp_path / "targets.yaml"
    targets.write_text(yaml.safe_dump(cfg_dict, allow_unicode=True), encoding="utf-8")
    return tmp_path / "w.duckdb", targets


def _cli_load(path: Path, targets: Path, file: Path, *extra: str) -> int:
    return etl_main(["--db", str(path), "--targets", str(targets), "load", str(file), "--bureau", "housing",
                     "--user", "clerk", *extra])  # fmt: skip


def _db_state(path: Path) -> dict[str, Any]:
    con = db.connect(path)
    try:
        return take_snapshot(con)
    finally:
        con.close()


def test_cli_load_that_revises_a_month_needs_reason(
    tmp_path: Path, cfg_dict: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    path, targets = _cli_setup(tmp_path, cfg_dict)
    first = tmp_path / "3月.csv"
    first.write_bytes(report("rental_housing_units,东胜区,2025-03,100", "rental_housing_units,康巴什区,2025-03,50"))
    assert _cli_load(path, targets, first) == 0  # new figures only: no reason needed
    revised = tmp_path / "3月更正.csv"
    revised.write_bytes(report("rental_housing_units,东胜区,2025-03,120", "rental_housing_units,康巴什区,2025-03,50"))
    before = _db_state(path)
    capsys.readouterr()

    assert _cli_load(path, targets, revised) == 1
    assert capsys.readouterr().out.splitlines() == [
        "3月更正.csv：本文件将修改1个已报送的数值：",
        "  保障性租赁住房筹建套数 · 东胜区 · 2025年3月：100套 → 120套",
        '3月更正.csv：未导入，数据库未做任何更改。请用 --reason "修改原因" 说明原因后重新导入。',
    ]
    assert _db_state(path) == before  # nothing loaded, nothing logged

    assert _cli_load(path, targets, revised, "--reason", "  ") == 1  # a blank reason is no reason
    assert _db_state(path) == before

    assert _cli_load(path, targets, revised, "--reason", "按项目台账复核更正") == 0
    assert "修订1条" in capsys.readouterr().out
    con = db.connect(path)
    try:
        assert con.execute(
            "select value, revision from current_observations where district_id = 'dongsheng'"
        ).fetchall() == [(120.0, 2)]
        assert con.execute(
            "select reason from submissions where outcome = 'accepted' order by submission_id desc limit 1"
        ).fetchall() == [("按项目台账复核更正",)]
        assert con.execute("select action from audit_log order by event_id desc limit 1").fetchall() == [("revision",)]
    finally:
        con.close()


def test_cli_check_lists_the_changes_and_says_a_reason_is_needed(
    tmp_path: Path, cfg_dict: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    path, targets = _cli_setup(tmp_path, cfg_dict)
    first = tmp_path / "3月.csv"
    first.write_bytes(report("rental_housing_units,东胜区,2025-03,100"))
    assert _cli_load(path, targets, first) == 0
    revised = tmp_path / "3月更正.csv"
    revised.write_bytes(report("rental_housing_units,东胜区,2025-03,1.5万"))
    capsys.readouterr()
    status = etl_main(["--db", str(path), "--targets", str(targets), "check", str(revised), "--bureau", "housing"])
    assert status == 0
    out = capsys.readouterr().out.splitlines()
    assert out[:2] == [
        "3月更正.csv：本文件将修改1个已报送的数值：",
        "  保障性租赁住房筹建套数 · 东胜区 · 2025年3月：100套 → 1.5万套",
    ]
    assert out[-1] == '导入时须用 --reason "修改原因" 说明原因。'


# -- an all-invalid file: first 1,000 problems and the total --------------------------------------------


def test_all_invalid_file_stores_first_1000_problems_and_exact_total(warehouse: Warehouse, cfg: Any) -> None:
    n = 200_000
    # one problem per row (an unknown KPI code), the first code 5,000 characters long
    rows = ["K" * 5000 + ",东胜区,2025-03,1"] + [f"no_such_kpi_{i},东胜区,2025-03,1" for i in range(1, n)]
    data = report(*rows)
    before = take_snapshot(warehouse.con)
    res = load_bytes("全错.csv", data, cfg, "housing", "clerk", warehouse.con, archive=None, today=TODAY)
    assert res.outcome == "rejected"
    assert res.problems_total == n
    con = warehouse.con
    stored, longest = con.execute(
        """
        select count(*), max(greatest(length(value), length(file_name), length(reason_zh), length(reason_en),
                                      length(coalesce(column_name, ''))))
        from rejected_rows where submission_id = ?
        """,
        [res.submission_id],
    ).fetchone()
    assert stored == MAX_STORED_PROBLEMS == 1000
    assert longest <= MAX_STORED_TEXT == 200
    # the stored counts are exact, though only the first problems are kept
    assert con.execute(
        "select problems_total, rows_rejected, outcome from submissions where submission_id = ?", [res.submission_id]
    ).fetchone() == (n, n, "rejected")
    after = take_snapshot(con)
    assert after["observations"] == before["observations"] and after["current"] == before["current"]


# -- the upload page (AppTest on the demo warehouse) ------------------------------------------------------


@pytest.fixture
def downloads(monkeypatch: pytest.MonkeyPatch) -> dict[str, bytes]:
    """Every file the page offers for download in a run: {file name the user gets: bytes}."""
    got: dict[str, bytes] = {}

    class Recording(MemoryMediaFileStorage):
        def load_and_get_id(self, path_or_data, mimetype, kind, filename=None):  # type: ignore[no-untyped-def]
            if isinstance(path_or_data, bytes) and filename:
                got[filename] = path_or_data
            return super().load_and_get_id(path_or_data, mimetype, kind, filename)

    monkeypatch.setattr(app_test_module, "MemoryMediaFileStorage", Recording)
    return got


def _current(path: Path, kpi: str, district: str, period: dt.date) -> float:
    con = db.connect(path)
    try:
        return float(
            db.scalar(
                con,
                "select value from current_observations where kpi_id = ? and district_id = ? and period = ?",
                [kpi, district, period],
            )
        )
    finally:
        con.close()


def test_reupload_lists_every_change_and_loads_only_with_a_reason(app_db: Path) -> None:
    kpi, period = "rental_housing_units", dt.date(2026, 9, 1)
    old = _current(app_db, kpi, "kangbashi", period)
    same = _current(app_db, kpi, "dongsheng", period)
    data = report(f"{kpi},康巴什区,2026-09,{old + 7:g}", f"{kpi},东胜区,2026-09,{same:g}")
    before = counts(app_db)

    at = open_page("housing", "upload")
    at.file_uploader(key="up_file").upload("住建局_2026年9月.csv", data, "text/csv").run()
    assert_clean(at)
    assert "本文件将修改1个已报送的数值（见下表），导入前请填写修改原因。" in [w.value for w in at.warning]
    changes = next(f for f in frames(at) if "原数值" in f.columns)
    unit = "套"
    assert changes.values.tolist() == [
        ["保障性租赁住房筹建套数", "康巴什区", "2026年9月", fmt.number_zh(old, unit), fmt.number_zh(old + 7, unit)]
    ]
    assert [t.label for t in at.text_area if t.label == "修改原因（必填）"] == ["修改原因（必填）"]

    button(at, "确认导入").click().run()  # no reason: refused, nothing loaded
    assert [e.value for e in at.error] == [CHANGE_REQUIRED]
    assert counts(app_db) == before

    [reason_box] = [t for t in at.text_area if t.label == "修改原因（必填）"]
    reason_box.input("   ").run()
    button(at, "确认导入").click().run()  # a blank reason is no reason
    assert [e.value for e in at.error] == [CHANGE_REQUIRED]
    assert counts(app_db) == before

    [reason_box] = [t for t in at.text_area if t.label == "修改原因（必填）"]
    reason_box.input("按项目台账复核更正").run()
    button(at, "确认导入").click().run()
    assert_clean(at)
    assert any("已导入" in s.value and "修订1条" in s.value for s in at.success), [s.value for s in at.success]
    con = db.connect(app_db)
    try:
        assert con.execute(
            """
            select o.revision, o.value, s.reason from observations o join submissions s using (submission_id)
            where o.kpi_id = ? and o.district_id = 'kangbashi' and o.period = ? order by o.revision
            """,
            [kpi, period],
        ).fetchall() == [(1, old, None), (2, old + 7, "按项目台账复核更正")]
        assert con.execute("select action from audit_log order by event_id desc limit 1").fetchall() == [("revision",)]
    finally:
        con.close()


def test_new_figures_load_without_a_reason(app_db: Path) -> None:
    con = db.connect(app_db)
    try:  # a bureau that stopped reporting (the demo's 农牧局 / 市场监管局): last month is not reported
        kpi, bureau = con.execute(
            """
            select k.kpi_id, k.lead_bureau from kpis k
            where k.aggregation = 'sum' and k.reporting = 'increment' and k.value_type = 'count'
              and not exists (select 1 from observations o where o.kpi_id = k.kpi_id and o.period = ?)
            order by k.kpi_id limit 1
            """,
            [dt.date(2026, 10, 1)],
        ).fetchone()
    finally:
        con.close()
    con = db.connect(app_db)
    try:  # the month's explanations the bureau owes first (issue 14: required while a target is behind)
        cfg, month = load_targets(), dt.date(2026, 10, 1)
        admin = User("admin", "管理员", "admin", None, True)
        for owed in explanations.required(con, cfg, bureau, month):
            explanations.save(con, cfg, admin, owed.target_id, month, "按计划推进", "", "")
    finally:
        con.close()
    before = counts(app_db)
    at = open_page(bureau, "upload")
    at.file_uploader(key="up_file").upload("新数据.csv", report(f"{kpi},东胜区,2026-10,3"), "text/csv").run()
    assert_clean(at)
    assert not [t for t in at.text_area if t.label == "修改原因（必填）"]
    assert not [w for w in at.warning if "已报送的数值" in w.value]
    button(at, "确认导入").click().run()
    assert_clean(at)
    assert any("已导入" in s.value and "新增1条" in s.value for s in at.success), [s.value for s in at.success]
    assert counts(app_db)["observations"] == before["observations"] + 1


def test_months_offered_run_from_policy_start_to_last_month(app_db: Path) -> None:
    at = open_page("housing", "upload")
    for key in ("up_template_period_zh", "up_fix_period_zh"):
        options = at.selectbox(key=key).options
        assert options[0] == fmt.month_zh(last_month()), key
        assert options[-1] == "2024年7月", key
    assert at.selectbox(key="up_template_period_zh").value == last_month()


def read_only(at: Any) -> list[pd.DataFrame]:
    """The page's tables without the 在线填报 grid (an editor, drawn first on the upload page)."""
    return [d.value for d in at.dataframe if d.editing_mode == "read_only"]


def test_upload_page_lists_the_first_1000_problems_and_the_total(app_db: Path) -> None:
    rows = [f"no_such_kpi_{i},东胜区,2026-09,1" for i in range(1500)]
    before = counts(app_db)
    at = open_page("housing", "upload")
    at.file_uploader(key="up_file").upload("全错.csv", report(*rows), "text/csv").run()
    assert not at.exception
    assert [e.value for e in at.error] == [
        "发现1500个问题，文件未导入（仅列出前1000个），数据未做任何更改。请按下表修改后重新上传。"
    ]
    assert len(read_only(at)[0]) == 1000
    after = counts(app_db)
    assert after["observations"] == before["observations"]
    assert after["rejected_rows"] == before["rejected_rows"] + 1000


def test_a_hidden_row_column_and_sheet_in_an_xls_leave_column_and_value_blank_not_none(app_db: Path) -> None:
    before = counts(app_db)
    at = open_page("housing", "upload")
    hostile = (Path(__file__).parent / "fixtures" / "office" / "hostile.xls").read_bytes()
    at.file_uploader(key="up_file").upload("隐藏.xls", hostile, "application/vnd.ms-excel").run()
    assert not at.exception
    assert [e.value for e in at.error] == ["文件有4个问题，未导入，数据未做任何更改。请按下表修改后重新上传。"]
    shown = read_only(at)[0]
    assert shown["行"].tolist() == [3, 4, pd.NA, pd.NA]  # whole-column and whole-sheet problems have no row
    assert shown[["列", "数值", "问题"]].values.tolist() == [
        ["E", "E3", "单元格含有公式，请改为直接填写数值（复制后“选择性粘贴—数值”）"],
        ["", "", "此行被隐藏，请取消隐藏或删除后重新上传"],
        ["F", "", "此列被隐藏，请取消隐藏或删除后重新上传"],
        ["", "", "工作表“备用”被隐藏，请取消隐藏或删除后重新上传"],
    ]
    assert counts(app_db)["observations"] == before["observations"]


def test_problems_csv_download_is_neutralised(app_db: Path, downloads: dict[str, bytes]) -> None:
    formula = '=HYPERLINK("http://evil.example","点击核对")'
    data = report(f'rental_housing_units,东胜区,2026-09,"{formula.replace(chr(34), chr(34) * 2)}"')
    at = open_page("housing", "upload")
    at.file_uploader(key="up_file").upload("公式.csv", data, "text/csv").run()
    assert not at.exception
    assert read_only(at)[0]["数值"].tolist() == [formula]  # the table shows what was typed
    read = list(csv.DictReader(io.StringIO(downloads["rejected_公式.csv.csv"].decode("utf-8-sig"))))
    assert [(r["行"], r["数值"]) for r in read] == [("2", "'" + formula)]


def test_file_name_with_markdown_is_shown_as_text(app_db: Path) -> None:
    kpi, period = "rental_housing_units", dt.date(2026, 9, 1)
    same = _current(app_db, kpi, "dongsheng", period)
    at = open_page("housing", "upload")
    at.file_uploader(key="up_file").upload(EVIL_NAME, report(f"{kpi},东胜区,2026-09,{same:g}"), "text/csv").run()
    assert_clean(at)
    messages = [s.value for s in at.success]
    assert len(messages) == 1 and messages[0].startswith(fmt.plain(EVIL_NAME) + "：")
    assert "](" not in messages[0]  # no link or image syntax left for the Markdown renderer
