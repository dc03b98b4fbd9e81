"""Issue 18, xlsb: an Excel binary workbook goes through the same read -> normalise -> validate -> load
path as xlsx, xls and ods, under the same rules and messages.

No office suite on this machine writes xlsb, so the fixtures come from our own writer
(tests/fixtures/office/make_xlsb.py, [MS-XLSB] record by record); filled.xlsb holds exactly the cells
calamine reads from the LibreOffice-saved filled.xlsx. Every hostile file must be refused with its
exact message before calamine reads it: calamine panics (an exception no `except Exception` catches)
on several malformed records, and builds the rectangle up to the farthest cell.
"""

from __future__ import annotations

import importlib.util
import io
import struct
import subprocess
import sys
import types
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from etl.errors import FileRejected
from etl.load import load_bytes
from etl.read import detect_kind, read_report
from monitor import db
from monitor.targets import TargetsConfig
from tests.conftest import TODAY, Warehouse, take_snapshot
from tests.test_office_formats import FIGURES, MARCH, figures

OFFICE = Path(__file__).resolve().parent / "fixtures" / "office"
FORMULA = "单元格含有公式，请改为直接填写数值（复制后“选择性粘贴—数值”）"
CORRUPT = "文件已损坏或不是有效的 xlsb 文件"


def _writer() -> types.ModuleType:
    if "make_xlsb" not in sys.modules:  # the same module object make_corpus.py loads
        spec = importlib.util.spec_from_file_location("make_xlsb", OFFICE / "make_xlsb.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules["make_xlsb"] = module
        spec.loader.exec_module(module)
    return sys.modules["make_xlsb"]


mx = _writer()
ROWS = [["指标编码", "旗区", "报送期", "数值"], ["rental_housing_units", "东胜区", "2025-03", 5.0]]


def load(warehouse: Warehouse, cfg: TargetsConfig, name: str, data: bytes, bureau: str = "housing") -> Any:
    return load_bytes(name, data, cfg, bureau, "clerk", warehouse.con, archive=warehouse.archive, today=TODAY)


def repacked(change: Callable[[dict[str, bytes]], None], sheets: list[Any] | None = None) -> bytes:
    """The parts of a small valid workbook, changed in place, zipped again."""
    parts = mx.package(sheets or [mx.Sheet("报送数据", ROWS)])
    change(parts)
    return mx.zipped(parts)


# ---------------------------------------------------------------- the valid workbook


def test_the_committed_xlsb_fixtures_are_what_the_writer_writes(tmp_path: Path) -> None:
    assert mx.main([str(tmp_path)]) == 0
    for name in ("filled.xlsb", "percent.xlsb", "hostile.xlsb"):
        assert (tmp_path / name).read_bytes() == (OFFICE / name).read_bytes(), name


def test_the_xlsb_loads_the_same_figures_as_the_xlsx(warehouse: Warehouse, cfg: TargetsConfig) -> None:
    res = load(warehouse, cfg, "住建局3月.xlsb", (OFFICE / "filled.xlsb").read_bytes())
    assert (res.outcome, [p.zh() for p in res.problems], res.rows_loaded) == ("accepted", [], 5)
    assert figures(warehouse.con) == FIGURES


def test_the_xlsb_reads_to_the_same_cells_as_the_xlsx_title_row_and_dates_included() -> None:
    xlsb = read_report("filled.xlsb", (OFFICE / "filled.xlsb").read_bytes())
    xlsx = read_report("filled.xlsx", (OFFICE / "filled.xlsx").read_bytes())
    assert (xlsb.kind, xlsb.header_row, xlsb.header) == ("xlsb", 2, xlsx.header)
    assert xlsb.cells.values.tolist() == xlsx.cells.values.tolist()
    assert xlsb.cells.iloc[1, 3] == "2025-03-01"  # 报送期 stored as an Excel date (serial 45717, format 14)
    assert list(xlsb.rows) == [3, 4, 5, 6, 7, 8, 9]


@pytest.mark.parametrize("named", ["report.xlsb", "report.xlsx", "report.xls", "report.ods", "report"])
def test_the_kind_is_read_from_the_content_whatever_the_name(named: str) -> None:
    assert detect_kind(named, (OFFICE / "filled.xlsb").read_bytes()) == "xlsb"


def test_an_xlsb_named_xlsx_still_loads_the_same_figures(warehouse: Warehouse, cfg: TargetsConfig) -> None:
    res = load(warehouse, cfg, "住建局3月.xlsx", (OFFICE / "filled.xlsb").read_bytes())
    assert (res.outcome, res.rows_loaded) == ("accepted", 5)
    assert figures(warehouse.con) == FIGURES


def test_a_cell_shown_as_a_percentage_is_read_as_typed(warehouse: Warehouse, cfg: TargetsConfig) -> None:
    """0.85 with the built-in format 0% and 0.857 with the custom 0.0%: loaded as 85 and 85.7."""
    res = load(warehouse, cfg, "percent.xlsb", (OFFICE / "percent.xlsb").read_bytes(), bureau="transport")
    assert (res.outcome, [p.zh() for p in res.problems]) == ("accepted", [])
    assert figures(warehouse.con) == [
        ("bus_coverage", "city", MARCH, 85.0),
        ("bus_coverage", "city", MARCH.replace(month=4), 85.7),
    ]


# ---------------------------------------------------------------- through the command line


# the `cli` fixture (python -m etl against a tmp warehouse) is in tests/conftest.py


def test_cli_check_and_load_read_the_xlsb(
    cli: Callable[..., int], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "住建局3月.xlsb"
    path.write_bytes((OFFICE / "filled.xlsb").read_bytes())
    empty = "（其中2行数值为空，视为本月未报送，未导入）"
    assert cli("check", str(path), "--bureau", "housing") == 0
    assert capsys.readouterr().out.splitlines() == [f"住建局3月.xlsb：校验通过，共7行{empty}，可以导入"]
    assert cli("load", str(path), "--bureau", "housing", "--user", "clerk") == 0
    assert capsys.readouterr().out.splitlines() == [
        f"住建局3月.xlsb：已导入（报送编号1），共7行{empty}，新增5条、修订0条、未变化0条"
    ]
    con = db.connect(tmp_path / "cli.duckdb", read_only=True)
    try:
        assert figures(con) == FIGURES
    finally:
        con.close()


def test_cli_check_refuses_the_hostile_xlsb_with_every_problem(
    cli: Callable[..., int], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "住建局.xlsb"  # a formula in E3, row 4 and column F hidden, a hidden sheet with a value
    path.write_bytes((OFFICE / "hostile.xlsb").read_bytes())
    assert cli("check", str(path), "--bureau", "housing") == 1
    assert capsys.readouterr().out.splitlines() == [
        f"住建局.xlsb 第3行 E列 值“E3”：{FORMULA}",
        "住建局.xlsb 第4行：此行被隐藏，请取消隐藏或删除后重新上传",
        "住建局.xlsb F列：此列被隐藏，请取消隐藏或删除后重新上传",
        "住建局.xlsb：工作表“备用”被隐藏，请取消隐藏或删除后重新上传",
        "住建局.xlsb：发现4个问题，文件未导入，数据库未做任何更改",
    ]


# ---------------------------------------------------------------- hostile workbooks


def _add_to_workbook(record: bytes) -> Callable[[dict[str, bytes]], None]:
    def change(parts: dict[str, bytes]) -> None:
        end = mx.record(mx.END_BUNDLE_SHS)
        parts["xl/workbook.bin"] = parts["xl/workbook.bin"].replace(end, end + record, 1)

    return change


def _rename_relationship(parts: dict[str, bytes]) -> None:
    parts["xl/_rels/workbook.bin.rels"] = parts["xl/_rels/workbook.bin.rels"].replace(b'"rId1"', b'"rId9"')


def _string_index_past_the_table(parts: dict[str, bytes]) -> None:
    isst = mx.record(mx.CELL_ISST, mx.cell_head(0, 0) + struct.pack("<I", 0))
    parts["xl/worksheets/sheet1.bin"] = parts["xl/worksheets/sheet1.bin"].replace(
        isst, mx.record(mx.CELL_ISST, mx.cell_head(0, 0) + struct.pack("<I", 10_000)), 1
    )


def _short_real(parts: dict[str, bytes]) -> None:  # a BrtCellReal of 8 bytes: calamine reads 16
    real = mx.record(mx.CELL_REAL, mx.cell_head(3, 0) + struct.pack("<d", 5.0))
    parts["xl/worksheets/sheet1.bin"] = parts["xl/worksheets/sheet1.bin"].replace(
        real, mx.record(mx.CELL_REAL, mx.cell_head(3, 0)), 1
    )


LONG = "东" * 32_767  # Excel's longest cell text, 98,301 bytes in UTF-8
BAD = mx.bad_inputs()  # the files make_corpus.py writes to tests/bad_inputs
HOSTILE: dict[str, tuple[Callable[[], bytes], str]] = {
    name: ((lambda name=name: BAD[name]), message)
    for name, message in {
        "xlsb_formula.xlsb": f"第2行 D列 值“D2”：{FORMULA}",
        "xlsb_hidden_row.xlsb": "第2行：此行被隐藏，请取消隐藏或删除后重新上传",
        "xlsb_hidden_column.xlsb": "D列：此列被隐藏，请取消隐藏或删除后重新上传",
        "xlsb_hidden_first_sheet.xlsb": "：工作表“报送数据”被隐藏，请取消隐藏或删除后重新上传",
        "xlsb_far_cell.xlsb": "：列数过多（16384 列），请使用模板",
        "xlsb_truncated.xlsb": f"：{CORRUPT}",
        "xlsb_garbled_sheet.xlsb": f"：{CORRUPT}",
    }.items()
}
HOSTILE.update(
    {
        # a sheet whose relationship is missing: calamine would panic looking it up
        "missing_relationship.xlsb": (lambda: repacked(_rename_relationship), f"：{CORRUPT}"),
        # a cell pointing past the shared-string table: calamine would panic indexing it
        "string_index.xlsb": (lambda: repacked(_string_index_past_the_table), f"：{CORRUPT}"),
        "short_record.xlsb": (lambda: repacked(_short_real), f"：{CORRUPT}"),
        # a defined name (print area, filter): calamine parses its formula without checking
        "defined_name.xlsb": (
            lambda: repacked(_add_to_workbook(mx.record(0x27, b"\0" * 16))),
            "：工作簿含有定义的名称或外部引用，无法读取；请在 Excel/WPS 中另存为 .xlsx 后上传",
        ),
        "macros.xlsb": (
            lambda: repacked(lambda parts: parts.update({"xl/vbaProject.bin": b"\0" * 512})),
            "：文件含有宏，请在 Excel/WPS 中另存为不含宏的 .xlsx 工作簿后重新上传",
        ),
        # an xlsx workbook part beside the binary one: calamine would read the xlsx, unchecked here
        "both_kinds.xlsb": (
            lambda: repacked(lambda parts: parts.update({"xl/workbook.xml": b"<workbook/>"})),
            f"：{CORRUPT}",
        ),
        "far_row.xlsb": (
            lambda: mx.xlsb([mx.Sheet("报送数据", ROWS, far_cells={(1048575, 3): 1.0})]),
            "：行数过多（1048576 行 × 4 列），请删除多余的行后再上传",
        ),
        # one 98 KB string in 700 cells: 66 MB of copies from a 2 KB file
        "text_bomb.xlsb": (
            lambda: mx.xlsb([mx.Sheet("报送数据", [*ROWS, *[[LONG]] * 700])]),
            "：单元格文字总量过大（约 66 MB），请删除多余的内容后再上传",
        ),
    }
)
BOMB = repacked(lambda parts: parts.update({"xl/media/image1.png": b"\0" * 30_000_000}))  # 30 MB of zeros
_INFOS = zipfile.ZipFile(io.BytesIO(BOMB)).infolist()
_RATIO = sum(i.file_size for i in _INFOS) / sum(i.compress_size for i in _INFOS)  # the archive's own sizes
HOSTILE["zip_bomb.xlsb"] = (lambda: BOMB, f"：xlsb 解压后体积异常（29 MB，压缩比 {_RATIO:.0f}:1），拒绝处理")


@pytest.mark.parametrize("name", list(HOSTILE))
def test_a_hostile_xlsb_is_refused_with_its_message_and_the_warehouse_is_unchanged(
    warehouse: Warehouse, cfg: TargetsConfig, name: str
) -> None:
    assert load(warehouse, cfg, "filled.xlsb", (OFFICE / "filled.xlsb").read_bytes()).outcome == "accepted"
    build, message = HOSTILE[name]
    before = take_snapshot(warehouse.con)
    res = load(warehouse, cfg, name, build())
    sep = "" if message.startswith("：") else " "
    assert (res.outcome, [p.zh() for p in res.problems]) == ("rejected", [f"{name}{sep}{message}"])
    after = take_snapshot(warehouse.con)
    assert (after["observations"], after["accepted"]) == (before["observations"], before["accepted"])
    assert after["rejected"] == before["rejected"] + 1


def test_a_dimension_of_the_whole_grid_costs_nothing_and_loads(warehouse: Warehouse, cfg: TargetsConfig) -> None:
    """calamine reserves at most 100,000 cells from BrtWsDim and builds the rectangle of the cells."""
    res = load(warehouse, cfg, "dim.xlsb", BAD["xlsb_huge_dimension.xlsb"])
    assert (res.outcome, res.rows_loaded) == ("accepted", 1)


def test_a_dimension_outside_the_grid_is_corrupt() -> None:
    data = mx.xlsb([mx.Sheet("报送数据", ROWS, dimension=(5, 1, 0, 3))])  # first row after the last
    with pytest.raises(FileRejected) as err:
        read_report("dim.xlsb", data)
    assert [p.zh() for p in err.value.problems] == [f"dim.xlsb：{CORRUPT}"]


def test_damaged_xlsb_are_refused_never_a_crash() -> None:
    """1,000 damaged copies (a part cut short, random bytes, 32-bit fields at extremes, the zip
    itself), read in a child process: a panic or an abort in calamine fails this test."""
    run = subprocess.run(
        [sys.executable, str(OFFICE / "mutate_xlsb.py"), "18", "1000"], capture_output=True, text=True, timeout=300
    )
    assert (run.returncode, run.stdout.splitlines()[:1]) == (0, ["crashes 0"]), run.stdout + run.stderr[-2000:]


def test_a_truncated_zip_named_xlsb_is_a_corrupt_xlsb() -> None:
    data = (OFFICE / "filled.xlsb").read_bytes()
    for cut in (10, 200, len(data) // 2, len(data) - 1):
        with pytest.raises(FileRejected) as err:
            read_report("报表.xlsb", data[:cut])
        assert [p.zh() for p in err.value.problems] == [f"报表.xlsb：{CORRUPT}"]


def test_the_writer_frames_parts_and_records_as_ms_xlsb_says() -> None:
    """The package holds exactly the parts [MS-XLSB] names, each record framed as BIFF12 says."""
    names = zipfile.ZipFile(io.BytesIO((OFFICE / "filled.xlsb").read_bytes())).namelist()
    assert names == [
        "[Content_Types].xml",
        "_rels/.rels",
        "xl/workbook.bin",
        "xl/_rels/workbook.bin.rels",
        "xl/worksheets/sheet1.bin",
        "xl/worksheets/sheet2.bin",
        "xl/styles.bin",
        "xl/sharedStrings.bin",
    ]
    assert mx.record(0x94, b"") == b"\x94\x01\x00"  # BrtWsDim: type 148 in two bytes, size 0
    assert mx.record(0x00, b"x" * 200) == b"\x00\xc8\x01" + b"x" * 200  # size 200 in two bytes
