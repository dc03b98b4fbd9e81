"""Hostile and unusual xlsx packages (issue 11), and title rows in csv and xlsx.

Every file is built here at run time from a small valid workbook (openpyxl, via
tests/bad_inputs/make_corpus.py) whose parts are then moved, renamed or rewritten the way a hostile
insider would: a sheet stored outside xl/worksheets/ with a cell at XFD1048576 (calamine would ask
for 512 GB and abort the process), namespaced formulas, external links, macros, hidden rows, columns
and sheets, relationships that point nowhere or outside the package. Each goes through
etl.load.load_bytes into a warehouse that already holds figures and is checked with
tests/test_bad_inputs.load_and_check: the exact messages, no observation changed, one rejected
submission recorded, nothing archived, at most 64 MB of Python allocations. One worst case runs in a
subprocess to show the process survives it under 1 GB of RSS.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
import xlsxwriter

from etl.load import load_bytes
from monitor.targets import TargetsConfig
from tests.bad_inputs import make_corpus
from tests.conftest import TODAY, Warehouse
from tests.test_bad_inputs import Case, load_and_check, rejected

ROOT = Path(__file__).resolve().parent.parent
RENTAL = "rental_housing_units"
CORRUPT = "文件已损坏或不是有效的 xlsx 文件"
NONSTANDARD = "xlsx 文件内部结构不标准，请用 Excel 或 WPS 打开后“另存为” .xlsx 工作簿再上传"
FORMULA = "单元格含有公式，请改为直接填写数值（复制后“选择性粘贴—数值”）"
MACRO = "文件含有宏，请在 Excel 中“另存为”不含宏的 .xlsx 工作簿（Excel 工作簿）后重新上传"
EXTERNAL = "工作簿含有外部链接（引用了其他文件的数据），请在 Excel 中“数据—编辑链接—断开链接”后重新上传"
HIDDEN_ROW = "此行被隐藏，请取消隐藏或删除后重新上传"
HIDDEN_COLUMN = "此列被隐藏，请取消隐藏或删除后重新上传"
SHEET_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"

HEADER = make_corpus.ZH_HEADER
Parts = dict[str, bytes]


# ---------------------------------------------------------------- building packages


def base_parts(rows_xml: bytes | None = None) -> Parts:
    """The parts of a valid one-sheet workbook: header and one good row (东胜区 2025-03: 5 units)."""
    src = zipfile.ZipFile(io.BytesIO(make_corpus.xlsx([make_corpus.ZH_HEADER])))
    parts = {name: src.read(name) for name in src.namelist()}
    parts["xl/worksheets/sheet1.xml"] = make_corpus.sheet_xml(rows_xml or make_corpus.good_rows_xml())
    return parts


def build(parts: Parts) -> bytes:
    return make_corpus.zip_of(parts)


def move_sheet(parts: Parts, path: str, target: str) -> Parts:
    """Store the sheet at `path`, with the workbook relationship and the content types to match."""
    parts = dict(parts)
    parts[path] = parts.pop("xl/worksheets/sheet1.xml")
    parts["xl/_rels/workbook.xml.rels"] = parts["xl/_rels/workbook.xml.rels"].replace(
        b'Target="/xl/worksheets/sheet1.xml"', f'Target="{target}"'.encode()
    )
    parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(
        b'PartName="/xl/worksheets/sheet1.xml"', f'PartName="/{path}"'.encode()
    )
    return parts


def add_relationship(parts: Parts, rid: str, kind: str, target: str, mode: str = "") -> None:
    rel = f'<Relationship Type="{REL_NS}/{kind}" Target="{target}" Id="{rid}"{mode}/>'
    parts["xl/_rels/workbook.xml.rels"] = parts["xl/_rels/workbook.xml.rels"].replace(
        b"</Relationships>", rel.encode() + b"</Relationships>"
    )


def add_sheet(parts: Parts, name: str, rows_xml: bytes, state: str = "") -> None:
    """A second sheet (sheet2.xml, relationship rId9) after the first, with `state` if given."""
    parts["xl/worksheets/sheet2.xml"] = make_corpus.sheet_xml(rows_xml)
    add_relationship(parts, "rId9", "worksheet", "/xl/worksheets/sheet2.xml")
    state_attr = f' state="{state}"' if state else ""
    parts["xl/workbook.xml"] = parts["xl/workbook.xml"].replace(
        b"</sheets>", f'<sheet xmlns:r="{REL_NS}" name="{name}" sheetId="2"{state_attr} r:id="rId9"/></sheets>'.encode()
    )
    parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(
        b"</Types>", f'<Override PartName="/xl/worksheets/sheet2.xml" ContentType="{SHEET_TYPE}"/></Types>'.encode()
    )


def with_styles(parts: Parts, num_fmts: str, xfs: list[int]) -> Parts:
    """cellXfs with the given numFmtIds (xf 0 is always General), custom formats as given."""
    cell_xfs = "".join(f'<xf numFmtId="{i}" fontId="0" fillId="0" borderId="0" xfId="0"/>' for i in [0, *xfs])
    styles = (
        f'<styleSheet xmlns="{MAIN_NS}">{num_fmts}'
        '<fonts count="1"><font><sz val="11"/></font></fonts><fills count="1"><fill/></fills>'
        '<borders count="1"><border/></borders><cellStyleXfs count="1"><xf numFmtId="0"/></cellStyleXfs>'
        f'<cellXfs count="{len(xfs) + 1}">{cell_xfs}</cellXfs></styleSheet>'
    )
    parts = dict(parts)
    parts["xl/styles.xml"] = styles.encode()
    return parts


GOOD = make_corpus.good_rows_xml()
FAR = make_corpus.inline("XFD1048576", "x")


def row(number: int, cells: bytes, attrs: str = "") -> bytes:
    return f'<row r="{number}"{attrs}>'.encode() + cells + b"</row>"


def data_row(number: int, district: str, value: str, attrs: str = "") -> bytes:
    cells = (
        make_corpus.inline(f"A{number}", RENTAL)
        + make_corpus.inline(f"B{number}", district)
        + make_corpus.inline(f"C{number}", "2025-04")
        + f'<c r="D{number}"><v>{value}</v></c>'.encode()
    )
    return row(number, cells, attrs)


def moved_far_cell() -> bytes:
    return build(move_sheet(base_parts(GOOD + row(1048576, FAR)), "xl/foo/sheet1.xml", "foo/sheet1.xml"))


def moved_far_row() -> bytes:
    far = make_corpus.inline("E1048576", "x")
    return build(move_sheet(base_parts(GOOD + row(1048576, far)), "xl/foo/sheet1.xml", "foo/sheet1.xml"))


def outside_xl_far_cell() -> bytes:
    return build(move_sheet(base_parts(GOOD + row(1048576, FAR)), "data/s.xml", "/data/s.xml"))


def moved_formula() -> bytes:
    rows = GOOD.replace(b'<c r="D2"><v>5</v></c>', b'<c r="D2"><f>2+3</f><v>5</v></c>')
    return build(move_sheet(base_parts(rows), "xl/foo/sheet1.xml", "foo/sheet1.xml"))


def namespaced_formula() -> bytes:
    head = b"".join(
        f'<x:c r="{c}1" t="inlineStr"><x:is><x:t>{t}</x:t></x:is></x:c>'.encode()
        for c, t in zip("ABCD", make_corpus.ZH_HEADER, strict=True)
    )
    body = (
        f'<x:c r="A2" t="inlineStr"><x:is><x:t>{RENTAL}</x:t></x:is></x:c>'
        '<x:c r="B2" t="inlineStr"><x:is><x:t>东胜区</x:t></x:is></x:c>'
        '<x:c r="C2" t="inlineStr"><x:is><x:t>2025-03</x:t></x:is></x:c>'
        '<x:c r="D2"><x:f>SUM(1,4)</x:f><x:v>5</x:v></x:c>'
    ).encode()
    sheet = (
        f'<?xml version="1.0" encoding="UTF-8"?><x:worksheet xmlns:x="{MAIN_NS}"><x:sheetData>'.encode()
        + b'<x:row r="1">'
        + head
        + b'</x:row><x:row r="2">'
        + body
        + b"</x:row></x:sheetData></x:worksheet>"
    )
    parts = base_parts()
    parts["xl/worksheets/sheet1.xml"] = sheet
    return build(parts)


def formula_on_second_sheet() -> bytes:
    parts = base_parts()
    add_sheet(parts, "计算", row(2, b'<c r="B2"><f>1+1</f><v>2</v></c>'))
    return build(parts)


def validation_list_in_ext_lst() -> bytes:
    """A drop-down whose list lives on another sheet: Excel writes it as <xm:f> outside sheetData."""
    sheet = make_corpus.sheet_xml(GOOD).replace(
        b"</worksheet>",
        b'<extLst><ext uri="{CCE6A557-97BC-4b89-ADB6-D9C93CAAB3DF}" '
        b'xmlns:x14="http://schemas.microsoft.com/office/spreadsheetml/2009/9/main">'
        b'<x14:dataValidations count="1" xmlns:xm="http://schemas.microsoft.com/office/excel/2006/main">'
        b'<x14:dataValidation type="list"><x14:formula1><xm:f>Lists!$A$1:$A$11</xm:f></x14:formula1>'
        b"<xm:sqref>B2:B100</xm:sqref></x14:dataValidation></x14:dataValidations></ext></extLst></worksheet>",
    )
    parts = base_parts()
    parts["xl/worksheets/sheet1.xml"] = sheet
    return build(parts)


def external_link() -> bytes:
    parts = base_parts()
    parts["xl/externalLinks/externalLink1.xml"] = (
        f'<externalLink xmlns="{MAIN_NS}"><externalBook r:id="rId1" xmlns:r="{REL_NS}"/></externalLink>'.encode()
    )
    add_relationship(parts, "rId8", "externalLink", "externalLinks/externalLink1.xml")
    references = f'<externalReferences><externalReference xmlns:r="{REL_NS}" r:id="rId8"/></externalReferences>'
    parts["xl/workbook.xml"] = parts["xl/workbook.xml"].replace(
        b"<definedNames/>", references.encode() + b"<definedNames/>"
    )
    return build(parts)


def external_reference_only() -> bytes:
    """<externalReferences> in the workbook, the link part itself stored under another name."""
    parts = base_parts()
    parts["xl/links/l1.xml"] = f'<externalLink xmlns="{MAIN_NS}"/>'.encode()
    parts["xl/workbook.xml"] = parts["xl/workbook.xml"].replace(
        b"<definedNames/>", b"<externalReferences/><definedNames/>"
    )
    return build(parts)


def vba_project() -> bytes:
    parts = base_parts()
    parts["xl/vbaProject.bin"] = b"\xd0\xcf\x11\xe0" + b"\x00" * 508
    return build(parts)


def macro_content_type() -> bytes:
    parts = base_parts()
    parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(
        b"spreadsheetml.sheet.main+xml", b"ms-excel.sheet.macroEnabled.main+xml"
    )
    return build(parts)


def hidden_row_with_value() -> bytes:
    return build(base_parts(GOOD + data_row(3, "康巴什区", "9", ' hidden="1"')))


def hidden_rows_empty() -> bytes:
    """Formatting-only hidden rows (no value): nothing is hidden from the reader."""
    return build(base_parts(GOOD + row(3, b'<c r="A3" s="0"/>', ' hidden="1"') + row(4, b"", ' hidden="true"')))


def hidden_column_with_value() -> bytes:
    sheet = make_corpus.sheet_xml(GOOD).replace(
        b"<sheetData>", b'<cols><col min="4" max="4" width="9" hidden="1" customWidth="1"/></cols><sheetData>'
    )
    parts = base_parts()
    parts["xl/worksheets/sheet1.xml"] = sheet
    return build(parts)


def hidden_sheet(state: str) -> Callable[[], bytes]:
    def make() -> bytes:
        parts = base_parts()
        add_sheet(parts, "备用数据", data_row(2, "康巴什区", "700"), state)
        return build(parts)

    return make


def empty_hidden_sheet() -> bytes:
    parts = base_parts()
    add_sheet(parts, "格式", row(1, b'<c r="A1" s="0"/>'), "hidden")
    return build(parts)


def missing_sheet_part() -> bytes:
    parts = base_parts()
    del parts["xl/worksheets/sheet1.xml"]
    return build(parts)


def sheet_relationship_to_workbook() -> bytes:
    """A cycle: the sheet's relationship points back at the workbook part."""
    parts = base_parts()
    parts["xl/_rels/workbook.xml.rels"] = parts["xl/_rels/workbook.xml.rels"].replace(
        b'Target="/xl/worksheets/sheet1.xml"', b'Target="/xl/workbook.xml"'
    )
    return build(parts)


def target_outside_package() -> bytes:
    return build(move_sheet(base_parts(), "xl/worksheets/sheet1.xml", "../../etc/sheet1.xml"))


def target_with_dot_dot() -> bytes:
    """OPC resolves worksheets/../foo/s.xml to xl/foo/s.xml; calamine looks the name up as written."""
    return build(move_sheet(base_parts(GOOD + row(1048576, FAR)), "xl/foo/s.xml", "worksheets/../foo/s.xml"))


def no_office_document() -> bytes:
    parts = base_parts()
    parts["_rels/.rels"] = parts["_rels/.rels"].replace(b"/officeDocument", b"/somethingElse")
    return build(parts)


def workbook_moved() -> bytes:
    parts = base_parts()
    parts["wb/book.xml"] = parts.pop("xl/workbook.xml")
    parts["wb/_rels/book.xml.rels"] = parts.pop("xl/_rels/workbook.xml.rels")
    parts["_rels/.rels"] = parts["_rels/.rels"].replace(b'Target="xl/workbook.xml"', b'Target="wb/book.xml"')
    return build(parts)


def duplicate_entry() -> bytes:
    """Two zip entries named xl/worksheets/sheet1.xml: which one a reader takes is undefined."""
    data = io.BytesIO(build(base_parts()))
    with zipfile.ZipFile(data, "a") as z, pytest.warns(UserWarning):
        z.writestr("xl/worksheets/sheet1.xml", make_corpus.sheet_xml(GOOD + row(1048576, FAR)))
    return data.getvalue()


def entity_expansion() -> bytes:
    """A billion-laughs DTD in the workbook part: no OOXML part declares a DTD."""
    parts = base_parts()
    laughs = b'<!DOCTYPE workbook [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
    parts["xl/workbook.xml"] = laughs + parts["xl/workbook.xml"].replace(b'name="Sheet"', b'name="&b;"')
    return build(parts)


LONG_STRING = "长" * 30_000


def shared_string_amplifier() -> tuple[bytes, int]:
    """One 30,000-character shared string referred to by 3,000 cells: calamine copies it into each."""
    sst = f'<sst xmlns="{MAIN_NS}" count="1" uniqueCount="1"><si><t>{LONG_STRING}</t></si></sst>'.encode()
    cells = b"".join(row(i, f'<c r="E{i}" t="s"><v>0</v></c>'.encode()) for i in range(3, 3003))
    parts = base_parts(GOOD + cells)
    parts["xl/sharedStrings.xml"] = sst
    add_relationship(parts, "rId7", "sharedStrings", "sharedStrings.xml")
    total = 3000 * (len(sst) - sst.index(b"<si>"))
    return build(parts), total


REJECTED: dict[str, tuple[Callable[[], bytes], Case]] = {
    # the 5 KB file that aborted the process (exit 134): the sheet part moved out of xl/worksheets/
    "moved_far_cell.xlsx": (moved_far_cell, rejected("moved_far_cell.xlsx：列数过多（16384 列），请使用模板")),
    "moved_far_row.xlsx": (
        moved_far_row,
        rejected("moved_far_row.xlsx：行数过多（1048576 行 × 5 列），请删除多余的行后再上传"),
    ),
    "outside_xl_far_cell.xlsx": (
        outside_xl_far_cell,
        rejected("outside_xl_far_cell.xlsx：列数过多（16384 列），请使用模板"),
    ),
    "moved_formula.xlsx": (moved_formula, rejected(f"moved_formula.xlsx 第2行 D列 值“D2”：{FORMULA}")),
    "namespaced_formula.xlsx": (
        namespaced_formula,
        rejected(f"namespaced_formula.xlsx 第2行 D列 值“D2”：{FORMULA}"),
    ),
    "formula_second_sheet.xlsx": (
        formula_on_second_sheet,
        rejected(f"formula_second_sheet.xlsx 值“计算!B2”：{FORMULA}"),
    ),
    "external_link.xlsx": (external_link, rejected(f"external_link.xlsx：{EXTERNAL}")),
    "external_reference.xlsx": (external_reference_only, rejected(f"external_reference.xlsx：{EXTERNAL}")),
    "vba_project.xlsx": (vba_project, rejected(f"vba_project.xlsx：{MACRO}")),
    "macro_content_type.xlsx": (macro_content_type, rejected(f"macro_content_type.xlsx：{MACRO}")),
    "clean_but_named.xlsm": (lambda: build(base_parts()), rejected(f"clean_but_named.xlsm：{MACRO}")),
    "hidden_row.xlsx": (hidden_row_with_value, rejected(f"hidden_row.xlsx 第3行：{HIDDEN_ROW}")),
    "hidden_column.xlsx": (hidden_column_with_value, rejected(f"hidden_column.xlsx D列：{HIDDEN_COLUMN}")),
    "hidden_sheet.xlsx": (
        hidden_sheet("hidden"),
        rejected("hidden_sheet.xlsx：工作表“备用数据”被隐藏，请取消隐藏或删除后重新上传"),
    ),
    "very_hidden_sheet.xlsx": (
        hidden_sheet("veryHidden"),
        rejected("very_hidden_sheet.xlsx：工作表“备用数据”被隐藏，请取消隐藏或删除后重新上传"),
    ),
    "missing_sheet_part.xlsx": (missing_sheet_part, rejected(f"missing_sheet_part.xlsx：{CORRUPT}")),
    "sheet_is_workbook.xlsx": (sheet_relationship_to_workbook, rejected(f"sheet_is_workbook.xlsx：{CORRUPT}")),
    "target_outside.xlsx": (target_outside_package, rejected(f"target_outside.xlsx：{CORRUPT}")),
    "target_dot_dot.xlsx": (target_with_dot_dot, rejected(f"target_dot_dot.xlsx：{NONSTANDARD}")),
    "no_office_document.xlsx": (no_office_document, rejected(f"no_office_document.xlsx：{CORRUPT}")),
    "workbook_moved.xlsx": (workbook_moved, rejected(f"workbook_moved.xlsx：{NONSTANDARD}")),
    "duplicate_entry.xlsx": (duplicate_entry, rejected(f"duplicate_entry.xlsx：{CORRUPT}")),
    "entity_expansion.xlsx": (entity_expansion, rejected(f"entity_expansion.xlsx：{CORRUPT}")),
}


@pytest.fixture
def seeded(warehouse: Warehouse, cfg: TargetsConfig) -> Warehouse:
    """Figures already loaded, so "unchanged" means something."""
    data = make_corpus.csv_text([(RENTAL, "伊金霍洛旗", f"2025-0{m}", v) for m, v in ((1, 500), (2, 520))]).encode()
    res = load_bytes("seed.csv", data, cfg, "housing", "seed", warehouse.con, archive=warehouse.archive, today=TODAY)
    assert res.outcome == "accepted", [p.zh() for p in res.problems]
    return warehouse


@pytest.mark.parametrize("name", list(REJECTED))
def test_hostile_package_is_refused_and_the_warehouse_is_unchanged(
    seeded: Warehouse, cfg: TargetsConfig, name: str
) -> None:
    build_file, case = REJECTED[name]
    load_and_check(seeded, cfg, name, build_file(), case)


def test_shared_string_copied_into_thousands_of_cells_is_refused(seeded: Warehouse, cfg: TargetsConfig) -> None:
    data, total = shared_string_amplifier()
    assert total > 64 * 1024 * 1024  # 3,000 copies of 90 KB of XML
    message = f"amplifier.xlsx：单元格文字总量过大（约 {total / 1048576:.0f} MB），请删除多余的内容后再上传"
    load_and_check(seeded, cfg, "amplifier.xlsx", data, rejected(message))


def current(w: Warehouse, kpi: str, district: str, period: str) -> tuple[float, int] | None:
    return w.con.execute(
        """
        select o.value, o.source_row from current_observations c join observations o
          on o.kpi_id = c.kpi_id and o.district_id = c.district_id and o.period = c.period
         and o.revision = c.revision
        where c.kpi_id = ? and c.district_id = ? and c.period = ?
        """,
        [kpi, district, period],
    ).fetchone()


@pytest.mark.parametrize(
    ("name", "build_file"),
    [
        ("hidden_rows_empty.xlsx", hidden_rows_empty),
        ("empty_hidden_sheet.xlsx", empty_hidden_sheet),
        ("validation_list.xlsx", validation_list_in_ext_lst),
    ],
)
def test_harmless_structure_loads_the_visible_figure(
    seeded: Warehouse, cfg: TargetsConfig, name: str, build_file: Callable[[], bytes]
) -> None:
    """Formatting-only hidden rows, an empty hidden sheet and a drop-down list (an <xm:f> outside the
    cells) hide no figure: the file loads its one row."""
    res = load_and_check(seeded, cfg, name, build_file(), Case("accepted"))
    assert res.rows_loaded == 1
    assert current(seeded, RENTAL, "dongsheng", "2025-03-01") == (5.0, 2)


# ---------------------------------------------------------------- %-formatted cells


def percent_workbook(fmt: str, value: float) -> bytes:
    buf = io.BytesIO()
    book = xlsxwriter.Workbook(buf, {"in_memory": True})
    sheet = book.add_worksheet("报送数据")
    sheet.write_row(0, 0, make_corpus.ZH_HEADER)
    sheet.write_row(1, 0, ["bus_coverage", "全市", "2025-03"])
    sheet.write_number(1, 3, value, book.add_format({"num_format": fmt}))
    book.close()
    return buf.getvalue()


@pytest.mark.parametrize(
    ("fmt", "value", "stored"),
    [
        pytest.param("0%", 0.85, 85.0, id="built-in 9"),
        pytest.param("0.00%", 0.8525, 85.25, id="built-in 10"),
        pytest.param("0.0%;[Red]-0.0%", 0.855, 85.5, id="custom"),
        pytest.param('0"%"', 85, 85.0, id="quoted percent sign: shown as typed"),
        pytest.param("0\\%", 85, 85.0, id="escaped percent sign: shown as typed"),
    ],
)
def test_percent_formatted_cell_is_read_as_the_percentage_shown(
    warehouse: Warehouse, cfg: TargetsConfig, fmt: str, value: float, stored: float
) -> None:
    res = load_bytes(
        "pct.xlsx", percent_workbook(fmt, value), cfg, "transport", "t", warehouse.con,
        archive=warehouse.archive, today=TODAY,
    )  # fmt: skip
    assert res.outcome == "accepted", [p.zh() for p in res.problems]
    assert current(warehouse, "bus_coverage", "city", "2025-03-01") == (stored, 2)


def test_percent_built_in_format_id_maps_through_the_styles_part(warehouse: Warehouse, cfg: TargetsConfig) -> None:
    """numFmtId 9 with no custom format in styles.xml (as Excel writes it), on cell style s="1"."""
    rows = GOOD.replace(b"rental_housing_units", b"bus_coverage").replace("东胜区".encode(), "全市".encode())
    rows = rows.replace(b'<c r="D2"><v>5</v></c>', b'<c r="D2" s="1"><v>0.85</v></c>')
    data = build(with_styles(base_parts(rows), "", [9]))
    res = load_bytes("p9.xlsx", data, cfg, "transport", "t", warehouse.con, archive=warehouse.archive, today=TODAY)
    assert res.outcome == "accepted", [p.zh() for p in res.problems]
    assert current(warehouse, "bus_coverage", "city", "2025-03-01") == (85.0, 2)


# ---------------------------------------------------------------- title rows


def test_single_cell_title_row_in_csv_is_accepted_with_excel_row_numbers(seeded: Warehouse, cfg: TargetsConfig) -> None:
    data = ("住建局2025年4月报表\n" + make_corpus.csv_text([(RENTAL, "东胜区", "2025-04", 7)])).encode()
    res = load_and_check(seeded, cfg, "title.csv", data, Case("accepted"))
    assert res.rows_loaded == 1
    assert current(seeded, RENTAL, "dongsheng", "2025-04-01") == (7.0, 3)


def test_single_cell_title_row_in_tab_separated_csv_is_accepted(seeded: Warehouse, cfg: TargetsConfig) -> None:
    text = "住建局报表\n" + "\t".join(make_corpus.ZH_HEADER) + "\n" + f"{RENTAL}\t东胜区\t2025-04\t7\n"
    res = load_and_check(seeded, cfg, "title.tsv.csv", text.encode("gb18030"), Case("accepted"))
    assert res.rows_loaded == 1


def test_ragged_line_below_a_title_and_header_is_refused_naming_the_header(
    seeded: Warehouse, cfg: TargetsConfig
) -> None:
    data = ("住建局报表\n" + make_corpus.csv_text([(RENTAL, "东胜区", "2025-04", "1,234")])).encode()
    message = "ragged.csv 第3行：csv 格式错误：这一行有5列，多于表头（第2行）的4列（含逗号的内容请用英文双引号括起来）"
    load_and_check(seeded, cfg, "ragged.csv", data, rejected(message))


def test_ragged_line_below_a_title_wider_than_the_header_is_refused(seeded: Warehouse, cfg: TargetsConfig) -> None:
    """A title padded with more commas than the header has fields: the extra fields stay refused."""
    data = ("住建局报表,,,,,\n" + make_corpus.csv_text([(RENTAL, "东胜区", "2025-04", "1,234")])).encode()
    message = (
        "wide_title.csv 第3行：csv 格式错误：这一行有5列，多于表头（第2行）的4列（含逗号的内容请用英文双引号括起来）"
    )
    load_and_check(seeded, cfg, "wide_title.csv", data, rejected(message))


def test_single_cell_title_row_in_xlsx_is_accepted(seeded: Warehouse, cfg: TargetsConfig) -> None:
    data = make_corpus.xlsx([("住建局2025年4月报表",), make_corpus.ZH_HEADER, (RENTAL, "东胜区", "2025-04", 7)])
    res = load_and_check(seeded, cfg, "title.xlsx", data, Case("accepted"))
    assert res.rows_loaded == 1
    assert current(seeded, RENTAL, "dongsheng", "2025-04-01") == (7.0, 3)


# ---------------------------------------------------------------- the process survives


CHILD = """
import copy, json, resource, sys, tempfile
from pathlib import Path
from etl.load import load_bytes
from monitor import db
from monitor.targets import parse_targets
from tests.conftest import TARGETS_DICT, TODAY

cfg = parse_targets(copy.deepcopy(TARGETS_DICT))
tmp = Path(tempfile.mkdtemp(dir=sys.argv[2]))
con = db.connect(tmp / "w.duckdb")
db.load_reference(con, cfg)
data = Path(sys.argv[1]).read_bytes()
res = load_bytes(Path(sys.argv[1]).name, data, cfg, "housing", "t", con, archive=tmp / "a", today=TODAY)
print(json.dumps({
    "outcome": res.outcome,
    "first": res.problems[0].zh() if res.problems else "",
    "observations": db.scalar(con, "select count(*) from observations"),
    "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
}, ensure_ascii=False))
"""


def worst_allowed(path: Path) -> None:
    """200,000 rows x 5 columns of 45-character text (just under the 1,000,000-cell and 100 MB limits),
    streamed into the zip: every guard passes, calamine builds it all, validation refuses every row."""
    src = zipfile.ZipFile(io.BytesIO(build(base_parts(b""))))
    pad = "x" * 45
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            if info.filename != "xl/worksheets/sheet1.xml":
                z.writestr(info.filename, src.read(info.filename))
                continue
            entry = zipfile.ZipInfo(info.filename, make_corpus.FIXED_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            with z.open(entry, "w") as fh:
                fh.write(make_corpus.sheet_xml(b"").replace(b"</sheetData></worksheet>", b""))
                fh.write(row(1, b"".join(make_corpus.inline(f"{c}1", t) for c, t in zip("ABCD", HEADER, strict=True))))
                for i in range(2, 200_001):
                    fh.write(row(i, b"".join(make_corpus.inline(f"{c}{i}", f"{pad}{i}{c}") for c in "ABCDE")))
                fh.write(b"</sheetData></worksheet>")


def run_child(path: Path, tmp: Path) -> tuple[int, dict[str, object], str]:
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, str(path), str(tmp)],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    out = json.loads(proc.stdout.strip().splitlines()[-1]) if proc.returncode == 0 else {}
    return proc.returncode, out, proc.stderr[-2000:]


def test_the_process_survives_the_worst_files_under_1_gb(tmp_path: Path) -> None:
    far = tmp_path / "moved_far_cell.xlsx"
    far.write_bytes(moved_far_cell())
    assert far.stat().st_size < 5000
    status, out, err = run_child(far, tmp_path)
    assert status == 0, err  # was 134 (abort): calamine asked for 512 GB
    assert out["outcome"] == "rejected"
    assert out["first"] == "moved_far_cell.xlsx：列数过多（16384 列），请使用模板"

    worst = tmp_path / "worst_allowed.xlsx"
    worst_allowed(worst)
    assert worst.stat().st_size < 20 * 1024 * 1024
    status, out, err = run_child(worst, tmp_path)
    assert status == 0, err
    assert out["outcome"] == "rejected"
    assert out["observations"] == 0
    unknown = "未知指标，请使用模板中的指标编码"
    assert out["first"] == f"worst_allowed.xlsx 第2行 A列（指标编码） 值“{'x' * 45}2A”：{unknown}"
    assert out["peak_mb"] < 1024, f"peak RSS {out['peak_mb']:.0f} MB"
