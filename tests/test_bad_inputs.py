"""Broken and hostile uploads (issue 7): each is refused with a clear message, or loaded where it is a
valid report, and the warehouse stays whole either way.

tests/bad_inputs/ holds the small files, written by tests/bad_inputs/make_corpus.py (checked below to
be exactly its output); the big ones (60 MB, zip bombs, 100,000 columns, a 1 MB cell) are built here
into tmp_path at run time and never committed. Every case is loaded with etl.load.load_bytes into a
warehouse that already holds figures, and checked for:

- the outcome and the exact messages of EXPECTED (an accepted case says why loading it is right);
- a rejected file: no observation changed, a rejected submission recorded with its problems, nothing
  archived; an accepted one: only its own rows added, the raw file archived inside the archive dir;
- every table and view still there (the injection strings are data, never SQL);
- at most 64 MB of Python allocations during the load (tracemalloc): a zip bomb is refused from the
  sizes in its directory, never inflated (zipfile's read() would show up here as hundreds of MB).

A handful also go through `python -m etl check` (etl.__main__.main, in process): exit 1, messages printed.
"""

from __future__ import annotations

import io
import tracemalloc
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
import xlsxwriter

from etl.load import LoadResult, load_bytes
from monitor import db
from monitor.targets import TargetsConfig
from tests.bad_inputs import make_corpus
from tests.conftest import TODAY, Warehouse, take_snapshot

CORPUS = Path(__file__).resolve().parent / "bad_inputs"
RENTAL = "rental_housing_units"
MB = 1024 * 1024
PEAK_LIMIT = 64 * MB

NOT_A_NUMBER = "不是有效数字（可填 1234、1,234、1.5万 或 30%）"
UNKNOWN_DISTRICT = "未知旗区，应为7旗2区、高新区或“全市”"
UNKNOWN_KPI = "未知指标，请使用模板中的指标编码"
CORRUPT = "文件已损坏或不是有效的 xlsx 文件"
BINARY = "文件含有二进制内容，不是文本格式的 csv"
FORMULA = "单元格含有公式，请改为直接填写数值（复制后“选择性粘贴—数值”）"
OUT_OF_RANGE = "数值超出合理范围"
NOT_ENDED = "{}尚未结束，{}起方可报送"  # a month is reported from the 1st of the next month on
BEFORE = "报送期早于政策实施（2024年7月）"
MISSING = "缺少必需的列：{}（表头应为：指标编码、旗区、报送期、数值）"
ENCRYPTED = "文件设有打开密码，无法读取；请在 Excel/WPS 中取消密码，另存为 .xlsx 后上传"
SAVE_AS = "无法读取；请在 Excel/WPS 中另存为 .xlsx 后上传"
HIDDEN_ROW = "此行被隐藏，请取消隐藏或删除后重新上传"
INJECTIONS = make_corpus.INJECTIONS


@dataclass(frozen=True)
class Case:
    outcome: str  # "rejected" or "accepted"
    problems: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    why: str = ""  # an accepted case: why loading the file is the right answer


def rejected(*problems: str) -> Case:
    return Case("rejected", problems)


# ---------------------------------------------------------------- expected answers, committed files

EXPECTED: dict[str, Case] = {
    # -- empty, encodings, binary
    "empty.csv": rejected("empty.csv：文件为空"),
    "bom_only.csv": rejected("bom_only.csv：文件为空"),
    "header_only.csv": rejected("header_only.csv：文件没有数据行（只有表头）"),
    "utf16_bom.csv": rejected("utf16_bom.csv：文件为 UTF-16 编码，请另存为 UTF-8 或 GBK 编码的 csv"),
    "utf16le_no_bom.csv": rejected(f"utf16le_no_bom.csv：{BINARY}"),  # NUL bytes, nothing says UTF-16
    # Shift-JIS / Big5 / Latin-1 bytes that decode as GB18030 into other characters: the row is
    # refused by the district lookup, quoting what was read (the ASCII KPI code still matches)
    "shift_jis.csv": rejected(f"shift_jis.csv 第2行 B列（district） 值“搶彑嬫”：{UNKNOWN_DISTRICT}"),
    "big5.csv": rejected(f"big5.csv 第2行 B列（district） 值“狥秤跋”：{UNKNOWN_DISTRICT}"),
    "latin1.csv": rejected(f"latin1.csv 第3行 B列（district） 值“K鋘gbashi”：{UNKNOWN_DISTRICT}"),
    # bytes that are neither UTF-8 nor GB18030: the file-level message names the first bad byte
    "shift_jis_halfwidth.csv": rejected(
        "shift_jis_halfwidth.csv：无法识别文件编码（第52字节），请另存为 UTF-8 或 GBK 编码的 csv"
    ),
    "binary_junk_no_nul.csv": rejected(
        "binary_junk_no_nul.csv：无法识别文件编码（第39字节），请另存为 UTF-8 或 GBK 编码的 csv"
    ),
    "binary_junk.csv": rejected(f"binary_junk.csv：{BINARY}"),
    "elf_named.csv": rejected(f"elf_named.csv：{BINARY}"),
    # -- csv structure
    "mismatched_quote.csv": rejected(
        'mismatched_quote.csv 第2行：csv 格式错误：英文双引号（"）不成对，从这一行起的内容无法读取'
    ),
    "extra_fields.csv": rejected(
        "extra_fields.csv 第3行：csv 格式错误：这一行有5列，多于第一行的4列（含逗号的内容请用英文双引号括起来）"
    ),
    "semicolon.csv": rejected("semicolon.csv 第1行：" + MISSING.format("指标编码、旗区、报送期、数值")),
    "duplicate_header.csv": rejected(
        "duplicate_header.csv 第1行：表头有多个数值列：D列“数值”、E列“数值”，请只保留一列"
    ),
    "duplicate_header_alias.csv": rejected(
        "duplicate_header_alias.csv 第1行：表头有多个数值列：D列“数值”、E列“本月数值”，请只保留一列"
    ),
    "old_mac_line_endings.csv": Case(
        "accepted", why="a valid report with CR-only line ends (classic Mac): the parser reads them as lines"
    ),
    "control_chars.csv": rejected(
        f"control_chars.csv 第2行 B列（旗区） 值“东胜区\x1a”：{UNKNOWN_DISTRICT}",
        "control_chars.csv 第3行 C列（报送期） 值“2025-03\x07”：无法识别的报送期，应为 2025-03、2025年3月 或 202503",
    ),
    # -- values
    "values_not_numbers.csv": rejected(
        *(
            f"values_not_numbers.csv 第{i}行 D列（数值） 值“{v}”：{NOT_A_NUMBER}"
            for i, v in enumerate(("NaN", "inf", "-inf", "1e309", "1e5", "0x10", "1_000", "=1+1"), start=2)
        )
    ),
    "values_absurd.csv": rejected(
        f"values_absurd.csv 第2行 D列（数值） 值“100000000000000000000”：{OUT_OF_RANGE}",
        f"values_absurd.csv 第3行 D列（数值） 值“{'9' * 199}…”：{OUT_OF_RANGE}",  # quoted up to 200 characters
        f"values_absurd.csv 第4行 D列（数值） 值“1000000000001”：{OUT_OF_RANGE}",
    ),
    "values_negative.csv": rejected(
        "values_negative.csv 第2行 D列（数值） 值“-5”：数值不能为负数",
        "values_negative.csv 第3行 D列（数值） 值“-0.0001”：数值不能为负数",
        "values_negative.csv 第3行 D列（数值） 值“-0.0001”：该指标为计数，应为整数",
        "values_negative.csv 第4行 D列（数值） 值“－3”：数值不能为负数",
    ),
    "suspicious_jump.csv": Case(
        "accepted",
        warnings=(
            "suspicious_jump.csv 第2行 D列（数值） 值“90000”：数值明显偏离该指标历史水平（历史中位数 510），请核实",
        ),
        why="90,000 units is absurd beside 500-520 a month, but a possible figure below the 1e12 cap: "
        "it loads and the bureau is asked to check it",
    ),
    # -- periods, KPIs
    "future_period.csv": rejected(
        f"future_period.csv 第2行 C列（报送期） 值“2026-12”：{NOT_ENDED.format('2026年12月', '2027年1月1日')}",
        f"future_period.csv 第3行 C列（报送期） 值“2099-01”：{NOT_ENDED.format('2099年1月', '2月1日')}",
    ),
    "before_policy.csv": rejected(
        f"before_policy.csv 第2行 C列（报送期） 值“2024-06”：{BEFORE}",
        f"before_policy.csv 第3行 C列（报送期） 值“1999-12”：{BEFORE}",
    ),
    "other_bureau_kpi.csv": rejected(
        "other_bureau_kpi.csv 第2行 A列（指标编码） 值“bus_coverage”：该指标不属于本单位报送（责任单位：市交通运输局）",
        "other_bureau_kpi.csv 第3行 A列（指标编码） 值“jobs_new”："
        "该指标不属于本单位报送（责任单位：市人力资源和社会保障局）",
    ),
    # -- injection strings: refused by the lookups and stored as the text typed
    "injection_kpi.csv": rejected(
        *(
            f"injection_kpi.csv 第{i}行 A列（指标编码） 值“{s}”：{UNKNOWN_KPI}"
            for i, s in enumerate(INJECTIONS, start=2)
        )
    ),
    "injection_district.csv": rejected(
        *(
            f"injection_district.csv 第{i}行 B列（旗区） 值“{s}”：{UNKNOWN_DISTRICT}"
            for i, s in enumerate(INJECTIONS, start=2)
        )
    ),
    "injection_note.csv": Case(
        "accepted",
        why="the figures are valid; 备注 is never stored or evaluated (the raw file is archived as bytes)",
    ),
    "injection_text_cells.xlsx": rejected(
        *(
            f"injection_text_cells.xlsx 第{i}行 A列（指标编码） 值“{s}”：{UNKNOWN_KPI}"
            for i, s in enumerate(INJECTIONS, start=2)
        ),
        f"injection_text_cells.xlsx 第5行 B列（旗区） 值“{INJECTIONS[0]}”：{UNKNOWN_DISTRICT}",
    ),
    # -- xlsx containers
    "zero_bytes.xlsx": rejected("zero_bytes.xlsx：文件为空"),
    "truncated.xlsx": rejected(f"truncated.xlsx：{CORRUPT}"),
    "random_zip.xlsx": rejected(f"random_zip.xlsx：{CORRUPT}"),
    "zip_named.csv": rejected(f"zip_named.csv：{CORRUPT}"),  # a zip is read as xlsx whatever its name
    # issue 18: read by content; an ods without a sheet is a corrupt ods, an xls with an empty sheet empty
    "ods_renamed.xlsx": rejected("ods_renamed.xlsx：文件已损坏或不是有效的 ods 文件"),
    "xls_renamed.xlsx": rejected("xls_renamed.xlsx：文件没有数据行"),
    "password_protected.xlsx": rejected(f"password_protected.xlsx：{ENCRYPTED}"),
    # these three raised out of read_report before (BadZipFile, RuntimeError, NotImplementedError)
    "bad_crc.xlsx": rejected(f"bad_crc.xlsx：{CORRUPT}"),
    "encrypted_entry.xlsx": rejected(f"encrypted_entry.xlsx：{CORRUPT}"),
    "unknown_compression.xlsx": rejected(f"unknown_compression.xlsx：{CORRUPT}"),
    # -- xlsx content
    "header_only.xlsx": rejected("header_only.xlsx：文件没有数据行（只有表头）"),
    "formula.xlsx": rejected(
        f"formula.xlsx 第2行 D列 值“D2”：{FORMULA}",
        f"formula.xlsx 第3行 D列 值“D3”：{FORMULA}",  # =cmd|' /C calc'!A0 typed as a formula
    ),
    "formula_without_ref.xlsx": rejected(f"formula_without_ref.xlsx：{FORMULA}"),  # raised ValueError before
    "merged_header.xlsx": rejected("merged_header.xlsx 第1行：" + MISSING.format("数值")),
    "merged_title.xlsx": Case(
        "accepted", why="a merged title row above the header is how many bureaus lay out a sheet; the header is found"
    ),
    "second_sheet_only.xlsx": rejected(
        "second_sheet_only.xlsx：第一个工作表“Sheet”是空的，请把报送数据放在第一个工作表"
    ),
    "numbers_out_of_range.xlsx": rejected(
        f"numbers_out_of_range.xlsx 第2行 D列（数值） 值“1e+20”：{NOT_A_NUMBER}",
        f"numbers_out_of_range.xlsx 第3行 D列（数值） 值“2000000000000”：{OUT_OF_RANGE}",
        f"numbers_out_of_range.xlsx 第4行 D列（数值） 值“1e-07”：{NOT_A_NUMBER}",
    ),
    # openpyxl writes NaN and inf as an empty <v></v>: the cells are empty, i.e. not reported, so the file
    # reports nothing
    "nan_inf.xlsx": rejected("nan_inf.xlsx：文件中没有填写任何数值（数值列全部为空）"),
    # -- sparse-sheet bombs: calamine would allocate A1 to the far cell (17 billion cells: the process aborts)
    "far_cell.xlsx": rejected("far_cell.xlsx：列数过多（16384 列），请使用模板"),
    "far_row.xlsx": rejected("far_row.xlsx：行数过多（1048576 行 × 5 列），请删除多余的行后再上传"),
    "cells_without_ref.xlsx": rejected(
        "cells_without_ref.xlsx：行数过多（1048576 行 × 150 列），请删除多余的行后再上传"
    ),
    "overflowing_ref.xlsx": rejected("overflowing_ref.xlsx：列数过多（8353082582 列），请使用模板"),  # was a panic
    # -- issue 18: xls and ods saved by LibreOffice (tests/fixtures/office), and other kinds
    **{
        f"hostile.{ext}": rejected(
            f"hostile.{ext} 第3行 E列 值“E3”：{FORMULA}",
            f"hostile.{ext} 第4行：{HIDDEN_ROW}",
            f"hostile.{ext} F列：此列被隐藏，请取消隐藏或删除后重新上传",
            f"hostile.{ext}：工作表“备用”被隐藏，请取消隐藏或删除后重新上传",
        )
        for ext in ("xls", "ods", "xlsb")
    },
    "xls_named.xlsx": Case("accepted", why="an xls named .xlsx is read as the xls it is"),
    "ods_named.xls": Case("accepted", why="an ods named .xls is read as the ods it is"),
    "wps_sheet.et": Case("accepted", why="WPS's .et is a BIFF8 workbook: read as xls"),
    "ods_hidden_first_sheet.ods": rejected(
        "ods_hidden_first_sheet.ods：工作表“报送数据”被隐藏，请取消隐藏或删除后重新上传"
    ),
    "ods_dtd.ods": rejected("ods_dtd.ods：文件已损坏或不是有效的 ods 文件"),
    "ods_repeated_rows.ods": rejected("ods_repeated_rows.ods：行数过多（1048000 行 × 9 列），请删除多余的行后再上传"),
    "ods_repeated_text.ods": rejected(
        "ods_repeated_text.ods：单元格文字总量过大（约 69 MB），请删除多余的内容后再上传"
    ),
    "xls_far_cell.xls": rejected("xls_far_cell.xls：行数过多（65536 行 × 200 列），请删除多余的行后再上传"),
    "xls_far_blank.xls": Case(
        "accepted", why="formatted empty cells far away (MULBLANK) are skipped by calamine: nothing to refuse"
    ),
    "xls_truncated.xls": rejected("xls_truncated.xls：文件已损坏或不是有效的 xls 文件"),
    "xls_random_after_magic.xls": rejected("xls_random_after_magic.xls：文件已损坏或不是有效的 xls 文件"),
    "xls_encrypted.xls": rejected(f"xls_encrypted.xls：{ENCRYPTED}"),
    "numbers_like.numbers": rejected(f"numbers_like.numbers：文件是Apple Numbers 表格，{SAVE_AS}"),
    "docx_named.xlsx": rejected(f"docx_named.xlsx：文件是Word 文档，{SAVE_AS}"),
    "xlsb_like.xlsb": rejected("xlsb_like.xlsb：文件已损坏或不是有效的 xlsb 文件"),  # a workbook.bin of one record
    # -- xlsb, from our own writer (tests/fixtures/office/make_xlsb.py): read since calamine 0.9.1 reads it
    "xlsb_formula.xlsb": rejected(f"xlsb_formula.xlsb 第2行 D列 值“D2”：{FORMULA}"),
    "xlsb_hidden_row.xlsb": rejected(f"xlsb_hidden_row.xlsb 第2行：{HIDDEN_ROW}"),
    "xlsb_hidden_column.xlsb": rejected("xlsb_hidden_column.xlsb D列：此列被隐藏，请取消隐藏或删除后重新上传"),
    "xlsb_hidden_first_sheet.xlsb": rejected(
        "xlsb_hidden_first_sheet.xlsb：工作表“报送数据”被隐藏，请取消隐藏或删除后重新上传"
    ),
    "xlsb_far_cell.xlsb": rejected("xlsb_far_cell.xlsb：列数过多（16384 列），请使用模板"),
    "xlsb_huge_dimension.xlsb": Case(
        "accepted", why="calamine reserves at most 100,000 cells from BrtWsDim: a whole-grid dimension is harmless"
    ),
    "xlsb_truncated.xlsb": rejected("xlsb_truncated.xlsb：文件已损坏或不是有效的 xlsb 文件"),
    "xlsb_garbled_sheet.xlsb": rejected("xlsb_garbled_sheet.xlsb：文件已损坏或不是有效的 xlsb 文件"),
    "wps_text.wps": rejected(f"wps_text.wps：文件是Word/WPS 文字文档，{SAVE_AS}"),
    "pdf_named.xls": rejected(f"pdf_named.xls：文件是PDF 文件，{SAVE_AS}"),
    "html_named.xls": rejected(f"html_named.xls：文件是网页（HTML）或 XML 格式的表格，{SAVE_AS}"),
}


# ---------------------------------------------------------------- files built at run time


def big_csv(_: Path) -> bytes:
    row = f"{RENTAL},东胜区,2025-03,5\n".encode()
    data = "指标编码,旗区,报送期,数值\n".encode() + row * (60 * MB // len(row) + 1)
    return data[: 60 * MB]


def _streamed_xlsx(sheet_head: bytes, filler: bytes, count: int, sheet_tail: bytes) -> bytes:
    """A good openpyxl workbook whose first sheet is head + filler * count + tail, deflated as it is
    written (the hundreds of MB never exist in memory)."""
    src = zipfile.ZipFile(io.BytesIO(make_corpus.xlsx([make_corpus.ZH_HEADER])))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            if info.filename != "xl/worksheets/sheet1.xml":
                z.writestr(info.filename, src.read(info.filename))
                continue
            sheet = zipfile.ZipInfo(info.filename, make_corpus.FIXED_TIME)
            sheet.compress_type = zipfile.ZIP_DEFLATED
            with z.open(sheet, "w") as fh:
                fh.write(sheet_head)
                for _ in range(count):
                    fh.write(filler)
                fh.write(sheet_tail)
    return out.getvalue()


BOMB_HEAD = make_corpus.sheet_xml(make_corpus.good_rows_xml()).replace(b"</sheetData></worksheet>", b"")
BOMB_TAIL = b"</sheetData></worksheet>"


def zip_bomb(_: Path) -> bytes:
    """300 MB of sheet XML (blanks between the rows) in about 300 KB."""
    return _streamed_xlsx(BOMB_HEAD, b" " * MB, 300, BOMB_TAIL)


def lying_zip_bomb(_: Path) -> bytes:
    """The same bomb whose directory claims the sheet is 4,000 bytes (with the CRC of those 4,000):
    the size check passes, and zipfile's read() would inflate all 300 MB in one call."""
    data = zip_bomb(_)
    declared = 4000
    prefix = (BOMB_HEAD + b" " * declared)[:declared]
    data = make_corpus.patch_central_directory(data, "xl/worksheets/sheet1.xml", 16, "<I", zlib.crc32(prefix))
    return make_corpus.patch_central_directory(data, "xl/worksheets/sheet1.xml", 24, "<I", declared)


def wide_csv(_: Path) -> bytes:
    return (",".join(["指标编码", "旗区", "报送期", "数值"] + [f"c{i}" for i in range(100_000)]) + "\n").encode() + (
        f"{RENTAL},东胜区,2025-03,5" + ",x" * 100_000 + "\n"
    ).encode()


def wide_xlsx(tmp: Path) -> bytes:
    buf = io.BytesIO()
    book = xlsxwriter.Workbook(buf, {"in_memory": True})
    ws = book.add_worksheet()
    ws.write_row(0, 0, ["指标编码", "旗区", "报送期", "数值"] + [f"c{i}" for i in range(16_380)])
    ws.write_row(1, 0, [RENTAL, "东胜区", "2025-03", 5])
    book.close()
    return buf.getvalue()


LONG = "东" * 350_000  # 1,050,000 bytes in UTF-8


def long_cell(_: Path) -> bytes:
    return make_corpus.csv_text([(RENTAL, LONG, "2025-03", 5)]).encode()


LATE_ROWS = [
    (RENTAL, d, f"{y}-{m:02d}", i, "x" * 250)
    for i, (d, y, m) in enumerate(
        (d, y, m)
        for y in (2024, 2025, 2026)
        for m in range(1, 13)
        if "2024-07" <= f"{y}-{m:02d}" <= "2026-10"
        for d in ("东胜区", "康巴什区", "达拉特旗", "准格尔旗", "鄂托克前旗", "鄂托克旗", "杭锦旗", "乌审旗", "高新区")
    )
]


def late_nul(_: Path) -> bytes:
    """A NUL byte after the first 64 KB (where the binary sniffing looks): a row-level refusal."""
    rows = [*LATE_ROWS, (RENTAL, "东胜区", "2026-11", "7\x008", "")]
    data = make_corpus.csv_text(rows, (*make_corpus.ZH_HEADER, "备注")).encode()
    assert data.index(b"\x00") > 65536
    return data


def bomb_message(name: str, data: bytes) -> str:
    infos = zipfile.ZipFile(io.BytesIO(data)).infolist()
    total, packed = sum(i.file_size for i in infos), sum(i.compress_size for i in infos)
    assert total > 300 * MB and total / packed > 900
    return f"{name}：xlsx 解压后体积异常（{total / MB:.0f} MB，压缩比 {total / packed:.0f}:1），拒绝处理"


def ods_zip_bomb(_: Path) -> bytes:
    """The LibreOffice ods with 300 MB of blanks before its content.xml's sheets, deflated as written."""
    src = zipfile.ZipFile(make_corpus.OFFICE / "filled.ods")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename != "content.xml":
                z.writestr(info.filename, body, zipfile.ZIP_STORED if info.filename == "mimetype" else None)
                continue
            at = body.index(b"<office:body>")
            content = zipfile.ZipInfo("content.xml", make_corpus.FIXED_TIME)
            content.compress_type = zipfile.ZIP_DEFLATED
            with z.open(content, "w") as fh:
                fh.write(body[:at])
                for _ in range(300):
                    fh.write(b" " * MB)
                fh.write(body[at:])
    return out.getvalue()


def ods_bomb_message(name: str, data: bytes) -> str:
    infos = zipfile.ZipFile(io.BytesIO(data)).infolist()
    total, packed = sum(i.file_size for i in infos), sum(i.compress_size for i in infos)
    assert total > 300 * MB and total / packed > 200
    return f"{name}：ods 解压后体积异常（{total / MB:.0f} MB，压缩比 {total / packed:.0f}:1），拒绝处理"


# name -> (builder, expected answer given the bytes)
GENERATED: dict[str, tuple[Callable[[Path], bytes], Callable[[bytes], Case]]] = {
    "big_60mb.csv": (big_csv, lambda _: rejected("big_60mb.csv：文件大小 60.0 MB，超过上限 20 MB")),
    "zip_bomb.xlsx": (zip_bomb, lambda d: rejected(bomb_message("zip_bomb.xlsx", d))),
    "zip_bomb_lying.xlsx": (
        lying_zip_bomb,
        lambda _: rejected(
            "zip_bomb_lying.xlsx：无法读取 xlsx：I/O error: File is larger than its declared uncompressed size"
        ),
    ),
    "ods_zip_bomb.ods": (ods_zip_bomb, lambda d: rejected(ods_bomb_message("ods_zip_bomb.ods", d))),
    "wide_100k_columns.csv": (wide_csv, lambda _: rejected("wide_100k_columns.csv：列数过多（100004 列），请使用模板")),
    "wide_16384_columns.xlsx": (
        wide_xlsx,
        lambda _: rejected("wide_16384_columns.xlsx：列数过多（16384 列），请使用模板"),
    ),
    "long_cell_1mb.csv": (
        long_cell,
        lambda _: rejected(f"long_cell_1mb.csv 第2行 B列（旗区） 值“{LONG[:199]}…”：{UNKNOWN_DISTRICT}"),
    ),
    "late_nul.csv": (
        late_nul,
        lambda _: rejected(
            f"late_nul.csv 第{len(LATE_ROWS) + 2}行 C列（报送期） 值“2026-11”："
            + NOT_ENDED.format("2026年11月", "12月1日"),
            f"late_nul.csv 第{len(LATE_ROWS) + 2}行 D列（数值） 值“7\x008”：{NOT_A_NUMBER}",
        ),
    ),
}


# ---------------------------------------------------------------- helpers


@pytest.fixture
def seeded(warehouse: Warehouse, cfg: TargetsConfig) -> Warehouse:
    """Figures already loaded (so "unchanged" means something), with a history for the jump warning."""
    data = make_corpus.csv_text(
        [(RENTAL, "伊金霍洛旗", f"2025-0{m}", v) for m, v in ((1, 500), (2, 520), (3, 510))]
        + [("talent_apartments", "东胜区", "2025-01", 1000)]
    ).encode()
    res = load_bytes("seed.csv", data, cfg, "housing", "seed", warehouse.con, archive=warehouse.archive, today=TODAY)
    assert res.outcome == "accepted", [p.zh() for p in res.problems]
    return warehouse


def relations(con: duckdb.DuckDBPyConnection) -> list[str]:
    rows = con.execute(
        """
        select table_name from duckdb_tables() where not internal
        union all
        select view_name from duckdb_views() where not internal
        order by 1
        """
    ).fetchall()
    return [r[0] for r in rows]


def load_and_check(w: Warehouse, cfg: TargetsConfig, name: str, data: bytes, case: Case) -> LoadResult:
    """Load one upload and check the answer, the warehouse afterwards and the memory it took."""
    before, tables = take_snapshot(w.con), relations(w.con)
    archived = set(w.archive.glob("*")) if w.archive.exists() else set()
    tracemalloc.start()
    try:
        res = load_bytes(name, data, cfg, "housing", "tester", w.con, archive=w.archive, today=TODAY)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert (res.outcome, [p.zh() for p in res.problems]) == (case.outcome, list(case.problems))
    assert [x.zh() for x in res.warnings] == list(case.warnings)
    assert peak < PEAK_LIMIT, f"{name}: {peak / MB:.0f} MB of Python allocations"

    after = take_snapshot(w.con)
    assert relations(w.con) == tables
    assert db.scalar(w.con, "select count(*) from observations") == len(after["observations"])
    sub = db.one(
        w.con,
        "select file_name, outcome, reason, rows_loaded, archive_name from submissions where submission_id = ?",
        [res.submission_id],
    )
    if case.outcome == "rejected":
        assert after["observations"] == before["observations"]
        assert after["current"] == before["current"]
        assert (after["accepted"], after["rejected"]) == (before["accepted"], before["rejected"] + 1)
        assert after["rejected_rows"] == before["rejected_rows"] + len(case.problems)
        assert sub == (res.file_name, "rejected", res.problems[0].reason_zh, 0, None)
        stored = w.con.execute(
            "select row_number, value, reason_zh from rejected_rows where submission_id = ?", [res.submission_id]
        ).fetchall()
        # the cells as typed (injection strings included), kept as inert text
        key = repr
        assert sorted(stored, key=key) == sorted(((p.row, p.value, p.reason_zh) for p in res.problems), key=key)
        assert (set(w.archive.glob("*")) if w.archive.exists() else set()) == archived  # rejected: not archived
    else:
        assert after["accepted"] == before["accepted"] + 1
        added = set(after["observations"]) - set(before["observations"])
        assert len(added) == len(after["observations"]) - len(before["observations"]) == res.rows_loaded > 0
        assert sub is not None and sub[:2] == (res.file_name, "accepted")
        stored_file = w.archive / sub[4]
        assert stored_file.resolve().parent == w.archive.resolve()
        assert stored_file.read_bytes() == data
    return res


# ---------------------------------------------------------------- the corpus


def test_committed_corpus_is_what_make_corpus_writes(tmp_path: Path) -> None:
    assert make_corpus.main([str(tmp_path)]) == 0
    written = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    committed = {p.name: p.read_bytes() for p in CORPUS.iterdir() if p.is_file() and p.suffix != ".py"}
    assert committed == written
    assert len(committed) >= 30
    assert max(len(d) for d in committed.values()) < 50_000
    assert set(committed) == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_file(seeded: Warehouse, cfg: TargetsConfig, name: str) -> None:
    load_and_check(seeded, cfg, name, (CORPUS / name).read_bytes(), EXPECTED[name])


@pytest.mark.parametrize("name", list(GENERATED))
def test_generated_file(seeded: Warehouse, cfg: TargetsConfig, tmp_path: Path, name: str) -> None:
    build, expect = GENERATED[name]
    data = build(tmp_path)
    load_and_check(seeded, cfg, name, data, expect(data))


def test_injection_strings_are_stored_verbatim_and_the_tables_survive(seeded: Warehouse, cfg: TargetsConfig) -> None:
    for name in ("injection_kpi.csv", "injection_district.csv"):
        res = load_and_check(seeded, cfg, name, (CORPUS / name).read_bytes(), EXPECTED[name])
        values = seeded.con.execute(
            "select value from rejected_rows where submission_id = ? order by row_number", [res.submission_id]
        ).fetchall()
        assert [v[0] for v in values] == list(INJECTIONS)
    assert db.scalar(seeded.con, "select count(*) from observations") == 4  # the seed, untouched


# ---------------------------------------------------------------- hostile file names


VALID = make_corpus.csv_text([(RENTAL, "东胜区", "2025-03", 5)]).encode()


@pytest.mark.parametrize(
    ("upload_name", "stored", "case"),
    [
        pytest.param("../../etc/passwd.csv", "passwd.csv", Case("accepted"), id="unix-traversal"),
        pytest.param("/etc/cron.d/evil.csv", "evil.csv", Case("accepted"), id="absolute"),
        pytest.param("C:\\Users\\x\\..\\..\\boot.csv", "boot.csv", Case("accepted"), id="windows-path"),
        pytest.param(
            "..\\..\\win.ini",
            "win.ini",
            rejected(
                "win.ini：不支持的文件类型“.ini”，请在 Excel/WPS 中另存为 .xlsx 后上传"
                "（也可上传 xls、xlsb、ods 或 csv）"
            ),
            id="win-ini",
        ),
        pytest.param("evil\x00.csv", "evil_.csv", Case("accepted"), id="nul"),
        pytest.param("report\n第2行：伪造的消息.csv", "report_第2行：伪造的消息.csv", Case("accepted"), id="newline"),
        pytest.param("..", "upload", Case("accepted"), id="dot-dot"),
        pytest.param(
            "'; drop table submissions; --.csv", "'; drop table submissions; --.csv", Case("accepted"), id="sql"
        ),
        pytest.param("<script>alert(1)</script>.csv", "script>.csv", Case("accepted"), id="script"),
    ],
)
def test_hostile_file_name_stays_inside_the_archive(
    seeded: Warehouse, cfg: TargetsConfig, tmp_path: Path, upload_name: str, stored: str, case: Case
) -> None:
    res = load_and_check(seeded, cfg, upload_name, VALID, case)
    assert res.file_name == stored
    assert db.scalar(seeded.con, "select file_name from submissions where submission_id = ?", [res.submission_id]) == (
        stored
    )
    # nothing written outside the warehouse's directory, nor anywhere but the archive inside it
    outside = [p for p in tmp_path.rglob("*") if p.is_file() and not p.name.startswith("warehouse.duckdb")]
    assert all(p.resolve().parent == seeded.archive.resolve() for p in outside), outside


def test_a_file_name_cannot_forge_a_line_of_cli_output(seeded: Warehouse, cfg: TargetsConfig) -> None:
    res = load_bytes("a\nb.csv", b"", cfg, "housing", "t", seeded.con, archive=seeded.archive, today=TODAY)
    assert [p.zh() for p in res.problems] == ["a_b.csv：文件为空"]
    assert "\n" not in res.summary_zh()


# ---------------------------------------------------------------- through the command line


# the `cli` fixture (python -m etl against a tmp warehouse) is in tests/conftest.py


@pytest.mark.parametrize(
    "name",
    [
        "empty.csv",
        "binary_junk.csv",
        "utf16_bom.csv",
        "mismatched_quote.csv",
        "duplicate_header.csv",
        "formula.xlsx",
        "far_cell.xlsx",
        "password_protected.xlsx",
        "zip_bomb.xlsx",
        "hostile.xls",
        "hostile.ods",
        "xls_truncated.xls",
        "numbers_like.numbers",
        "ods_zip_bomb.ods",
    ],
)
def test_cli_check_refuses_with_the_message(
    cli: Callable[..., int], tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    if name in GENERATED:
        build, expect = GENERATED[name]
        data = build(tmp_path)
        case = expect(data)
    else:
        data, case = (CORPUS / name).read_bytes(), EXPECTED[name]
    path = tmp_path / "upload" / name
    path.parent.mkdir()
    path.write_bytes(data)
    assert cli("check", str(path), "--bureau", "housing") == 1
    summary = f"{name}：发现{len(case.problems)}个问题，文件未导入，数据库未做任何更改"
    assert capsys.readouterr().out.splitlines() == [*case.problems, summary]
    con = db.connect(tmp_path / "cli.duckdb", read_only=True)
    try:  # a check writes nothing
        assert db.scalar(con, "select count(*) from submissions") == 0
    finally:
        con.close()
