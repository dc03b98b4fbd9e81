"""Issue 18: the bureau template filled in and saved by a real office suite (LibreOffice Calc 7.4,
headless: tests/fixtures/office/make_office_fixtures.sh) as xlsx, xls, WPS .et (BIFF8), ods, UTF-8
csv with text quoted and GBK csv loads to exactly the same figures, through load_bytes and through
`python -m etl check/load`; an extension that lies does not change what is read; a kind that is not
read is named, with what to do.

The hostile variants of the new formats (formulas, hidden rows and sheets, bombs, DTDs, truncated,
encrypted) are in the corpus of tests/test_bad_inputs.py.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from etl import office
from etl.load import load_bytes
from etl.read import detect_kind, read_report
from monitor import db
from monitor.targets import TargetsConfig
from tests.conftest import TODAY, Warehouse, take_snapshot
from tests.test_app_pages import T, _harness, open_page  # noqa: F401  (_harness: the autouse AppTest fixture)

OFFICE = Path(__file__).resolve().parent / "fixtures" / "office"
SAVED = ["filled.xlsx", "filled.xls", "filled.et", "filled.ods", "filled_utf8.csv", "filled_gbk.csv"]
MARCH = dt.date(2025, 3, 1)
# make_source.py: the 7 template rows, two left empty; 12345 typed with a thousands format, 1.5万 as
# text, 报送期 typed as text in some rows and an Excel date in others
FIGURES = [
    ("rental_housing_units", "dongsheng", MARCH, 120.0),
    ("rental_housing_units", "jungar", MARCH, 12345.0),
    ("rental_housing_units", "kangbashi", MARCH, 45.0),
    ("talent_apartments", "dongsheng", MARCH, 15000.0),
    ("talent_apartments", "kangbashi", MARCH, 830.0),
]
SAVE_AS = "无法读取；请在 Excel/WPS 中另存为 .xlsx 后上传"


def figures(con: Any) -> list[tuple[str, str, dt.date, float]]:
    return con.execute("select kpi_id, district_id, period, value from observations order by all").fetchall()


@pytest.mark.parametrize("name", SAVED)
def test_each_saved_format_loads_the_same_figures(warehouse: Warehouse, cfg: TargetsConfig, name: str) -> None:
    res = load_bytes(
        name,
        (OFFICE / name).read_bytes(),
        cfg,
        "housing",
        "clerk",
        warehouse.con,
        archive=warehouse.archive,
        today=TODAY,
    )
    assert (res.outcome, [p.zh() for p in res.problems]) == ("accepted", [])
    assert res.rows_loaded == 5
    assert figures(warehouse.con) == FIGURES


@pytest.mark.parametrize(
    ("name", "kind"),
    [("filled.xlsx", "xlsx"), ("filled.xls", "xls"), ("filled.et", "xls"), ("filled.ods", "ods")],
)
def test_the_kind_is_read_from_the_content(name: str, kind: str) -> None:
    data = (OFFICE / name).read_bytes()
    assert detect_kind(name, data) == kind
    for lie in ("report.xlsx", "report.xls", "report.ods", "report.csv", "report"):
        assert detect_kind(lie, data) == kind


@pytest.mark.parametrize(
    ("source", "named"),
    [("filled.xls", "住建局3月.xlsx"), ("filled.ods", "住建局3月.xls"), ("filled.xlsx", "住建局3月.ods")],
)
def test_a_lying_extension_still_loads_the_same_figures(
    warehouse: Warehouse, cfg: TargetsConfig, source: str, named: str
) -> None:
    data = (OFFICE / source).read_bytes()
    res = load_bytes(named, data, cfg, "housing", "clerk", warehouse.con, archive=warehouse.archive, today=TODAY)
    assert (res.outcome, res.rows_loaded) == ("accepted", 5)
    assert figures(warehouse.con) == FIGURES


def test_the_xls_keeps_the_title_row_and_excel_dates_as_xlsx_does() -> None:
    xls = read_report("filled.xls", (OFFICE / "filled.xls").read_bytes())
    xlsx = read_report("filled.xlsx", (OFFICE / "filled.xlsx").read_bytes())
    ods = read_report("filled.ods", (OFFICE / "filled.ods").read_bytes())
    assert xls.header_row == ods.header_row == xlsx.header_row == 2  # the merged title is row 1
    assert xls.cells.values.tolist() == ods.cells.values.tolist() == xlsx.cells.values.tolist()
    assert xls.cells.iloc[1, 3] == "2025-03-01"  # the 报送期 saved as an Excel date
    assert list(xls.rows) == [3, 4, 5, 6, 7, 8, 9]  # the rows Excel shows


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("report.docx", b"not a report", f"report.docx：文件是Word 文档，{SAVE_AS}"),
        ("report.numbers", b"", "report.numbers：文件为空"),
        ("报表.pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", f"报表.pdf：文件是PDF 文件，{SAVE_AS}"),
        ("报表.rtf", b"{\\rtf1\\ansi report}", f"报表.rtf：文件是RTF 文字文档，{SAVE_AS}"),
        (
            "report.ini",
            b"[x]\n",
            "report.ini：不支持的文件类型“.ini”，请在 Excel/WPS 中另存为 .xlsx 后上传"
            "（也可上传 xls、xlsb、ods 或 csv）",
        ),
        # a kind that is read, whose bytes are not that kind: corrupt, naming the format
        ("报表.xls", b"just some text, not a workbook", "报表.xls：文件已损坏或不是有效的 xls 文件"),
        ("报表.ods", b"just some text, not a workbook", "报表.ods：文件已损坏或不是有效的 ods 文件"),
        ("报表.xlsb", b"\x00" * 64, "报表.xlsb：文件已损坏或不是有效的 xlsb 文件"),
    ],
)
def test_a_kind_not_read_is_named_and_the_warehouse_is_unchanged(
    warehouse: Warehouse, cfg: TargetsConfig, name: str, data: bytes, message: str
) -> None:
    before = take_snapshot(warehouse.con)
    res = load_bytes(name, data, cfg, "housing", "clerk", warehouse.con, archive=warehouse.archive, today=TODAY)
    assert (res.outcome, [p.zh() for p in res.problems]) == ("rejected", [message])
    after = take_snapshot(warehouse.con)
    assert after["observations"] == before["observations"]
    assert after["rejected"] == before["rejected"] + 1


def test_the_english_message_says_what_to_do_too() -> None:
    with pytest.raises(office.FileRejected) as err:
        detect_kind("a.pdf", b"%PDF-1.4\n")
    assert [p.en() for p in err.value.problems] == [
        "a.pdf: the file is a PDF file; open it in Excel or WPS, save it as .xlsx and upload that"
    ]


# ---------------------------------------------------------------- through the command line


# the `cli` fixture (python -m etl against a tmp warehouse) is in tests/conftest.py


@pytest.mark.parametrize("name", SAVED)
def test_cli_check_and_load_read_each_saved_format(
    cli: Callable[..., int], tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    path = tmp_path / name
    path.write_bytes((OFFICE / name).read_bytes())
    assert cli("check", str(path), "--bureau", "housing") == 0
    empty = "（其中2行数值为空，视为本月未报送，未导入）"
    assert capsys.readouterr().out.splitlines() == [f"{name}：校验通过，共7行{empty}，可以导入"]
    assert cli("load", str(path), "--bureau", "housing", "--user", "clerk") == 0
    assert capsys.readouterr().out.splitlines() == [
        f"{name}：已导入（报送编号1），共7行{empty}，新增5条、修订0条、未变化0条"
    ]
    con = db.connect(tmp_path / "cli.duckdb", read_only=True)
    try:
        assert figures(con) == FIGURES
    finally:
        con.close()


def test_cli_check_refuses_a_hostile_xls_with_every_problem(
    cli: Callable[..., int], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "住建局.et"  # WPS's extension on an xls saved with a formula, hidden row, column, sheet
    path.write_bytes((OFFICE / "hostile.xls").read_bytes())
    assert cli("check", str(path), "--bureau", "housing") == 1
    assert capsys.readouterr().out.splitlines() == [
        "住建局.et 第3行 E列 值“E3”：单元格含有公式，请改为直接填写数值（复制后“选择性粘贴—数值”）",
        "住建局.et 第4行：此行被隐藏，请取消隐藏或删除后重新上传",
        "住建局.et F列：此列被隐藏，请取消隐藏或删除后重新上传",
        "住建局.et：工作表“备用”被隐藏，请取消隐藏或删除后重新上传",
        "住建局.et：发现4个问题，文件未导入，数据库未做任何更改",
    ]


@pytest.mark.parametrize("name", ["percent.xlsx", "percent.xls", "percent.ods"])
def test_a_cell_shown_as_a_percentage_is_read_as_typed(warehouse: Warehouse, cfg: TargetsConfig, name: str) -> None:
    """85% is stored as 0.85 in every format; the transport bureau's ratio is loaded as 85, as typed."""
    res = load_bytes(
        name,
        (OFFICE / name).read_bytes(),
        cfg,
        "transport",
        "clerk",
        warehouse.con,
        archive=warehouse.archive,
        today=TODAY,
    )
    assert (res.outcome, [p.zh() for p in res.problems]) == ("accepted", [])
    assert figures(warehouse.con) == [
        ("bus_coverage", "city", MARCH, 85.0),
        ("bus_coverage", "city", dt.date(2025, 4, 1), 85.7),
    ]


def test_damaged_xls_and_ods_are_refused_never_a_crash() -> None:
    """400 damaged copies (repeat counts of 10^15, extreme BIFF fields, broken XML, ...), read in a
    child process: an abort in calamine (a huge allocation) would kill pytest itself."""
    run = subprocess.run(
        [sys.executable, str(OFFICE / "mutate.py"), "18", "400"], capture_output=True, text=True, timeout=300
    )
    assert (run.returncode, run.stdout.splitlines()[:1]) == (0, ["crashes 0"]), run.stdout + run.stderr[-2000:]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_upload_widget_offers_the_office_formats_and_says_so(app_db: Path, lang: str) -> None:
    at = open_page("housing", "upload", lang)
    assert list(at.file_uploader(key="up_file").proto.type) == [".xlsx", ".xls", ".et", ".xlsb", ".ods", ".csv"]
    captions = [c.value for c in at.caption]
    assert T("up_rules_office", lang, mb=20) in captions
    assert T("up_drop_help_office", lang, mb=20) in captions
