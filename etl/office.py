"""Workbooks other than xlsx (issue 18): .xls (and WPS .et, BIFF8 underneath), .xlsb and .ods, recognised by
their content whatever their name, checked before calamine reads them, then read by calamine like xlsx.

calamine trusts these files as it trusts an xlsx: it builds every sheet at once (xls and ods are
parsed whole when the workbook is opened), allocates each sheet's rectangle from its first to its
farthest cell, and returns formulas' cached values and hidden rows as data. So each format is
scanned first, cheaply and without building it:

- xls: the OLE2 container is walked here (etl/office_xls.py) and the BIFF records of every sheet
  read: FORMULA records, hidden rows (ROW fDyZero) and columns (COLINFO fHidden), hidden sheets
  (BOUNDSHEET), the farthest cell of each sheet, the shared-string text the cells would copy, a
  password (FILEPASS) and macros.
- ods: a zip, guarded like an xlsx (sizes, ratio, a DTD); content.xml is streamed: table:formula,
  rows and columns with table:visibility collapse/filter (or in a hidden group), sheets whose style
  has table:display="false", the farthest cell with its repeats, and the text repeats would copy.
- xlsb: a zip, guarded like an xlsx; its BIFF12 records are walked as calamine walks them
  (etl/office_xlsb.py), so that nothing calamine would panic on reaches it: formulas, hidden rows,
  columns and sheets, the dimension, the farthest cell, percent formats, the shared text copied.

A file of a kind that is not read (Numbers, Word, PDF, a password-protected workbook) gets a
message naming the kind and saying what to do; only a file of a read kind that cannot be parsed is
"corrupt", naming the format.
"""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import python_calamine

from etl.errors import FileRejected, Problem, column_letter
from etl.xlsx_guard import MAX_XLSX_RATIO, MAX_XLSX_TEXT, MAX_XLSX_UNCOMPRESSED, percent_text, too_much_text
from etl.xlsx_sheet import FORMULA, HIDDEN_COLUMN, HIDDEN_ROW, MAX_COLUMNS, MAX_LISTED, MAX_XLSX_CELLS

OLE_MAGIC = bytes.fromhex("d0cf11e0a1b11ae1")
ZIP_MAGIC = b"PK\x03\x04"
ODS_MIME = b"application/vnd.oasis.opendocument.spreadsheet"

SAVE_AS_ZH = "请在 Excel/WPS 中另存为 .xlsx 后上传"
SAVE_AS_EN = "open it in Excel or WPS, save it as .xlsx and upload that"
ENCRYPTED = (
    "文件设有打开密码，无法读取；请在 Excel/WPS 中取消密码，另存为 .xlsx 后上传",
    "the file is password-protected; remove the password in Excel or WPS, save it as .xlsx and upload that",
)
MACRO_SHEET = (
    "文件含有宏，请在 Excel/WPS 中另存为不含宏的 .xlsx 工作簿后重新上传",
    "the workbook contains macros; save it as a macro-free .xlsx workbook and upload that",
)

# kinds that are recognised but not read: (zh, en) names for the message
NOT_READ: dict[str, tuple[str, str]] = {
    "numbers": ("Apple Numbers 表格", "an Apple Numbers spreadsheet"),
    "docx": ("Word 文档", "a Word document"),
    "doc": ("Word/WPS 文字文档", "a Word or WPS Writer document"),
    "pptx": ("PowerPoint 演示文稿", "a PowerPoint presentation"),
    "ppt": ("PowerPoint/WPS 演示文稿", "a PowerPoint or WPS presentation"),
    "odt": ("OpenDocument 文字文档", "an OpenDocument text document"),
    "odf": ("OpenDocument 文档（不是电子表格）", "an OpenDocument file that is not a spreadsheet"),
    "pdf": ("PDF 文件", "a PDF file"),
    "rtf": ("RTF 文字文档", "an RTF document"),
    "html": ("网页（HTML）或 XML 格式的表格", "an HTML or XML page"),
    "biff_old": ("Excel 95 或更早版本的工作簿", "a workbook from Excel 95 or older"),
    "ole": ("Office 复合文档（但不是 Excel 工作簿）", "an Office compound document, not an Excel workbook"),
}
# extensions of kinds not read, when the content says nothing (e.g. an empty or odd file)
_SUFFIX_KIND = {
    ".numbers": "numbers",
    ".docx": "docx",
    ".doc": "doc",
    ".wps": "doc",
    ".pptx": "pptx",
    ".ppt": "ppt",
    ".dps": "ppt",
    ".odt": "odt",
    ".pdf": "pdf",
    ".rtf": "rtf",
    ".html": "html",
    ".htm": "html",
}
XLS_SUFFIXES = (".xls", ".et", ".xlt", ".ett")
ODS_SUFFIXES = (".ods", ".ots")
XLSB_SUFFIXES = (".xlsb",)
ACCEPTED_TYPES = ["xlsx", "xls", "et", "xlsb", "ods", "csv"]  # what the upload widget lets a user pick


def corrupt(fmt: str) -> tuple[str, str]:
    return f"文件已损坏或不是有效的 {fmt} 文件", f"the file is corrupt or not a valid {fmt}"


def not_read(file_name: str, kind: str) -> FileRejected:
    zh, en = NOT_READ[kind]
    return FileRejected.whole(file_name, f"文件是{zh}，无法读取；{SAVE_AS_ZH}", f"the file is {en}; {SAVE_AS_EN}")


def unsupported(file_name: str, suffix: str) -> FileRejected:
    return FileRejected.whole(
        file_name,
        f"不支持的文件类型“{suffix}”，{SAVE_AS_ZH}（也可上传 xls、xlsb、ods 或 csv）",
        f"unsupported file type {suffix!r}; {SAVE_AS_EN} (xls, xlsb, ods and csv are read too)",
    )


# ---------------------------------------------------------------- what the file is


def _zip_kind(data: bytes) -> str:
    """ods, xlsb, xlsx, or a kind not read; "xlsx" for a zip that is nothing known (xlsx_guard calls it corrupt)."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        names = {n.lower() for n in zf.namelist()}
        mime = b""
        if "mimetype" in names:
            info = next(i for i in zf.infolist() if i.filename.lower() == "mimetype")
            with zf.open(info) as fh:
                mime = fh.read(100).strip()
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, RuntimeError, NotImplementedError, ValueError):
        return "xlsx"  # a broken zip: the xlsx reader's "corrupt", as before
    if mime == ODS_MIME or mime.startswith(ODS_MIME + b"-template"):
        return "ods"
    if mime.startswith(b"application/vnd.oasis.opendocument.text"):
        return "odt"
    if mime.startswith(b"application/vnd.oasis.opendocument"):
        return "odf"
    if "xl/workbook.bin" in names:
        return "xlsb"
    if "word/document.xml" in names:
        return "docx"
    if "ppt/presentation.xml" in names:
        return "pptx"
    if "index/document.iwa" in names or any(n.startswith("index/") and n.endswith(".iwa") for n in names):
        return "numbers"
    return "xlsx"


def sniff(file_name: str, data: bytes) -> str | None:
    """The kind by content: "xlsx", "xls", "xlsb", "ods" (read), a key of NOT_READ (raises), None if unknown."""
    from etl.office_xls import ole_kind  # office_xls imports this module: imported when first used

    kind: str | None = None
    if data[:8] == OLE_MAGIC:
        kind = ole_kind(file_name, data)
        if kind == "encrypted":
            raise FileRejected.whole(file_name, *ENCRYPTED)
    elif data[:4] == ZIP_MAGIC:
        kind = _zip_kind(data)
        if kind == "xlsx" and Path(file_name).suffix.lower() in XLSB_SUFFIXES and b"xl/workbook.xml" not in data:
            kind = "xlsb"  # a broken zip named .xlsb (no xlsx part named in it): a corrupt xlsb
    elif data[:5] == b"%PDF-":
        kind = "pdf"
    elif data[:5] == b"{\\rtf":
        kind = "rtf"
    elif Path(file_name).suffix.lower() in XLS_SUFFIXES and re.match(rb"\s*<", data[:512].lstrip(b"\xef\xbb\xbf")):
        kind = "html"  # "xls" exports of many web systems are an HTML table
    if kind in NOT_READ:
        raise not_read(file_name, kind)
    return kind


def by_suffix(file_name: str) -> str | None:
    """For content nothing recognised: the kind its extension claims (then read, and found corrupt)."""
    suffix = Path(file_name).suffix.lower()
    if suffix in XLS_SUFFIXES:
        return "xls"
    if suffix in ODS_SUFFIXES:
        return "ods"
    if suffix in XLSB_SUFFIXES:
        return "xlsb"
    if suffix in _SUFFIX_KIND:
        raise not_read(file_name, _SUFFIX_KIND[suffix])
    return None


# ---------------------------------------------------------------- facts of the scan


@dataclass
class SheetScan:
    """What one sheet holds, found without building it. Rows and columns 0-based."""

    name: str
    hidden: bool = False
    height: int = 0  # rows to the farthest non-empty cell
    width: int = 0
    cells: int = 0  # cells calamine collects (after repeats)
    formulas: list[str] = field(default_factory=list)  # "D7"
    value_rows: set[int] = field(default_factory=set)
    value_cols: set[int] = field(default_factory=set)
    hidden_rows: set[int] = field(default_factory=set)
    hidden_cols: set[int] = field(default_factory=set)
    has_values: bool = False
    percent_cells: set[tuple[int, int]] = field(default_factory=set)
    scanned: int = 0  # xls: bytes of the stream its records took


def check_size(file_name: str, sheets: list[SheetScan]) -> None:
    """Refuse a sheet, or all sheets together (calamine builds every sheet of an xls or ods when it
    opens the workbook), that would make calamine allocate more than MAX_XLSX_CELLS cells. Called as
    each sheet is scanned, so the scan's own sets stay as small as the cells allowed."""
    total = 0
    for sheet in sheets:
        if sheet.width > MAX_COLUMNS:
            raise FileRejected.whole(
                file_name,
                f"列数过多（{sheet.width} 列），请使用模板",
                f"too many columns ({sheet.width}); use the template",
            )
        if sheet.height * sheet.width > MAX_XLSX_CELLS:
            raise FileRejected.whole(
                file_name,
                f"行数过多（{sheet.height} 行 × {sheet.width} 列），请删除多余的行后再上传",
                f"too many rows ({sheet.height} rows x {sheet.width} columns); delete the unused rows",
            )
        total += max(sheet.height * sheet.width, sheet.cells)
    if total > MAX_XLSX_CELLS:
        raise FileRejected.whole(
            file_name,
            f"单元格过多（{total} 个），请删除多余的内容后再上传",
            f"too many cells ({total}); delete the unused content",
        )


def sheet_problems(file_name: str, sheets: list[SheetScan]) -> None:
    """Refuse the workbook as an xlsx would be: size first (raise at once), then formulas and hidden
    rows, columns and sheets, all listed."""
    check_size(file_name, sheets)
    formulas: list[Problem] = []
    problems: list[Problem] = []
    for index, sheet in enumerate(sheets):
        first = index == 0
        for ref in sheet.formulas[:MAX_LISTED]:
            if first:
                cell = re.fullmatch(r"([A-Z]+)(\d+)", ref)
                assert cell is not None
                formulas.append(Problem(file_name, int(cell.group(2)), cell.group(1), ref, *FORMULA))
            else:
                formulas.append(Problem(file_name, None, None, f"{sheet.name}!{ref}", *FORMULA))
        if sheet.hidden and sheet.has_values:
            problems.append(
                Problem.file(
                    file_name,
                    f"工作表“{sheet.name}”被隐藏，请取消隐藏或删除后重新上传",
                    f"sheet {sheet.name!r} is hidden; unhide or delete it and upload again",
                )
            )
        rows = sorted(sheet.hidden_rows & sheet.value_rows)[:MAX_LISTED]
        cols = sorted(sheet.hidden_cols & sheet.value_cols)[:MAX_LISTED]
        if first:
            problems += [Problem(file_name, r + 1, None, None, *HIDDEN_ROW) for r in rows]
            problems += [Problem(file_name, None, column_letter(c), None, *HIDDEN_COLUMN) for c in cols]
            continue
        problems += [
            Problem.file(
                file_name,
                f"工作表“{sheet.name}”的第{r + 1}行被隐藏，请取消隐藏或删除后重新上传",
                f"row {r + 1} of sheet {sheet.name!r} is hidden; unhide or delete it and upload again",
            )
            for r in rows
        ]
        problems += [
            Problem.file(
                file_name,
                f"工作表“{sheet.name}”的{column_letter(c)}列被隐藏，请取消隐藏或删除后重新上传",
                f"column {column_letter(c)} of sheet {sheet.name!r} is hidden; unhide or delete it and upload again",
            )
            for c in cols
        ]
    if formulas or problems:
        raise FileRejected(formulas + problems)


# ---------------------------------------------------------------- ods


_NS_TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
_NS_OFFICE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
_NS_STYLE = "urn:oasis:names:tc:opendocument:xmlns:style:1.0"
_T = f"{{{_NS_TABLE}}}"
_DTD = re.compile(rb"<!(?:doctype|entity)", re.IGNORECASE)
_CELL_TAGS = (_T + "table-cell", _T + "covered-table-cell")
_MAX_REPEAT = 1 << 40  # a repeat count beyond any sheet: read as "huge", never overflowing anything


def _repeat(node: ET.Element, attr: str) -> int:
    raw = (node.get(_T + attr) or "1").strip()
    if not raw.isdigit() or len(raw) > 13:
        return _MAX_REPEAT if raw.isdigit() else 1
    return max(1, int(raw))


def _read_member(file_name: str, zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    # read(n), never read(-1): a member lying about its size inflates no further than it claims
    with zf.open(info) as fh:
        data = fh.read(info.file_size)
        if fh.read(1):
            raise FileRejected.whole(file_name, *corrupt("ods"))
    return data


def scan_ods(file_name: str, data: bytes) -> list[SheetScan]:
    """Check the package and stream content.xml; raise FileRejected for what calamine must not read."""
    zf = zipfile.ZipFile(io.BytesIO(data))
    infos = zf.infolist()
    names = [i.filename.lower() for i in infos]
    if len(set(names)) != len(names):
        raise FileRejected.whole(file_name, *corrupt("ods"))
    total = sum(i.file_size for i in infos)
    packed = max(1, sum(i.compress_size for i in infos))
    if total > MAX_XLSX_UNCOMPRESSED or total / packed > MAX_XLSX_RATIO:
        raise FileRejected.whole(
            file_name,
            f"ods 解压后体积异常（{total / 1048576:.0f} MB，压缩比 {total / packed:.0f}:1），拒绝处理",
            f"ods inflates abnormally ({total / 1048576:.0f} MB, ratio {total / packed:.0f}:1); refused",
        )
    if any(n.startswith(("basic/", "scripts/")) for n in names):
        raise FileRejected.whole(file_name, *MACRO_SHEET)
    content = next((i for i in infos if i.filename == "content.xml"), None)
    if content is None:
        raise FileRejected.whole(file_name, *corrupt("ods"))
    xml = _read_member(file_name, zf, content)
    if _DTD.search(xml):
        raise FileRejected.whole(file_name, *corrupt("ods"))  # no ODF part declares a DTD (entity expansion)
    sheets = _walk_content(file_name, xml)
    if not sheets:
        raise FileRejected.whole(file_name, *corrupt("ods"))
    return sheets


def _walk_content(file_name: str, xml: bytes) -> list[SheetScan]:
    """Stream the cells of every table as calamine places them (repeats expanded in arithmetic only)."""
    hidden_styles: set[str] = set()
    sheets: list[SheetScan] = []
    sheet: SheetScan | None = None
    row = col = 0
    row_repeat = 1
    row_hidden = False
    hidden_groups: list[bool] = []  # the row and column groups open, each hidden or not
    col_at = 0
    text_bytes = 0
    stack: list[ET.Element] = []
    style_name: str | None = None
    first = True
    cell_depth: int | None = None  # the depth of the open cell
    try:
        for event, elem in ET.iterparse(io.BytesIO(xml), events=("start", "end")):
            tag = elem.tag
            if event == "start":
                stack.append(elem)
                if tag == f"{{{_NS_STYLE}}}style":
                    style_name = elem.get(f"{{{_NS_STYLE}}}name")
                elif tag == f"{{{_NS_STYLE}}}table-properties" and style_name:
                    if (elem.get(_T + "display") or "").strip() == "false":
                        hidden_styles.add(style_name)
                elif tag == _T + "table":
                    if sheet is not None:  # a table inside a cell: calamine does not read it
                        raise FileRejected.whole(file_name, *corrupt("ods"))
                    name = elem.get(_T + "name") or ""
                    sheet = SheetScan(name, hidden=elem.get(_T + "style-name") in hidden_styles)
                    row = col_at = 0
                    first = not sheets
                    if len(sheets) > 10_000:
                        raise FileRejected.whole(file_name, *corrupt("ods"))
                elif sheet is None:
                    continue
                elif tag in (_T + "table-row-group", _T + "table-column-group"):
                    hidden_groups.append((elem.get(_T + "display") or "").strip() == "false")
                elif tag == _T + "table-column":
                    repeat = _repeat(elem, "number-columns-repeated")
                    if _hidden_visibility(elem) or any(hidden_groups):
                        sheet.hidden_cols.update(range(col_at, min(col_at + repeat, MAX_COLUMNS + 1)))
                    col_at = min(col_at + repeat, _MAX_REPEAT)
                elif tag in _CELL_TAGS:
                    cell_depth = len(stack)
                elif tag == _T + "table-row":
                    row_repeat = _repeat(elem, "number-rows-repeated")
                    row_hidden = _hidden_visibility(elem) or any(hidden_groups)
                    col = 0
                continue
            # end
            stack.pop()
            if tag in _CELL_TAGS and sheet is not None:
                repeat = _repeat(elem, "number-columns-repeated")
                text = "".join(elem.itertext())
                valued = elem.get(f"{{{_NS_OFFICE}}}value-type") is not None or text != ""
                if valued:
                    if elem.get(_T + "formula") is not None and len(sheet.formulas) < MAX_LISTED:
                        sheet.formulas.append(f"{column_letter(col)}{row + 1}")
                    cells = repeat * row_repeat
                    sheet.cells = min(sheet.cells + cells, _MAX_REPEAT)
                    text_bytes += len(text.encode()) * cells
                    if text_bytes > MAX_XLSX_TEXT:
                        raise too_much_text(file_name, text_bytes)
                    sheet.has_values = True
                    sheet.height = max(sheet.height, min(row + row_repeat, _MAX_REPEAT))
                    sheet.width = max(sheet.width, min(col + repeat, _MAX_REPEAT))
                    if sheet.width <= MAX_COLUMNS and sheet.height * sheet.width <= MAX_XLSX_CELLS:
                        sheet.value_rows.update(range(row, row + row_repeat))
                        sheet.value_cols.update(range(col, col + repeat))
                        if row_hidden:
                            sheet.hidden_rows.update(range(row, row + row_repeat))
                        if first and elem.get(f"{{{_NS_OFFICE}}}value-type") == "percentage":
                            sheet.percent_cells.update(
                                (r, c) for r in range(row, row + row_repeat) for c in range(col, col + repeat)
                            )
                    else:
                        check_size(file_name, [*sheets, sheet])  # raises: too many rows or columns
                col = min(col + repeat, _MAX_REPEAT)
            elif tag == _T + "table-row" and sheet is not None:
                row = min(row + row_repeat, _MAX_REPEAT)
                row_repeat, row_hidden = 1, any(hidden_groups)
            elif tag in (_T + "table-row-group", _T + "table-column-group") and sheet is not None:
                hidden_groups.pop()
            elif tag == _T + "table" and sheet is not None:
                sheets.append(sheet)
                check_size(file_name, sheets)
                sheet = None
            elif tag == f"{{{_NS_STYLE}}}style":
                style_name = None
            if cell_depth is not None and len(stack) >= cell_depth:
                continue  # inside a cell: kept until the cell ends, whose text is read then
            cell_depth = None
            elem.clear()
            if stack:
                parent = stack[-1]
                if len(parent):
                    del parent[-1]  # the element that just ended is its parent's last child
    except (ET.ParseError, LookupError):  # LookupError: an encoding Python does not know
        raise FileRejected.whole(file_name, *corrupt("ods")) from None
    return sheets


def _hidden_visibility(node: ET.Element) -> bool:
    return (node.get(_T + "visibility") or "visible").strip() in ("collapse", "filter")


# ---------------------------------------------------------------- reading


def read_values(file_name: str, data: bytes, kind: str) -> list[list[object]]:
    """The first sheet's cells as calamine gives them, after every check; percent cells as "85%"."""
    from etl.office_xls import scan_xls  # office_xls imports this module: imported when first used
    from etl.office_xlsb import scan_xlsb  # as does office_xlsb

    try:
        if kind == "xls":
            sheets = scan_xls(file_name, data)
        elif kind == "xlsb":
            sheets = scan_xlsb(file_name, data)
        else:
            sheets = scan_ods(file_name, data)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, RuntimeError, NotImplementedError, ValueError):
        raise FileRejected.whole(file_name, *corrupt(kind)) from None
    sheet_problems(file_name, sheets)
    try:
        book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
        names = book.sheet_names
        if not names or names[0] != sheets[0].name:  # calamine must load the sheet that was checked
            raise FileRejected.whole(file_name, *corrupt(kind))
        scanned = {s.name: s for s in sheets}
        flagged = False
        for meta in book.sheets_metadata:  # calamine's own reading of sheet visibility, as a second opinion
            sheet = scanned.get(meta.name)
            if sheet and not sheet.hidden and meta.visible != python_calamine.SheetVisibleEnum.Visible:
                sheet.hidden = flagged = True
        if flagged:
            sheet_problems(file_name, sheets)
        values = book.get_sheet_by_index(0).to_python(skip_empty_area=False)
    except python_calamine.PasswordError:
        raise FileRejected.whole(file_name, *ENCRYPTED) from None
    except (python_calamine.CalamineError, ValueError, OSError):
        # what calamine cannot parse after the scan found nothing wrong: a broken file of that kind
        raise FileRejected.whole(file_name, *corrupt(kind)) from None
    if len(names) > 1 and not any(v not in (None, "") for row in values for v in row):
        raise FileRejected.whole(
            file_name,
            f"第一个工作表“{names[0]}”是空的，请把报送数据放在第一个工作表",
            f"the first sheet {names[0]!r} is empty; put the report on the first sheet",
        )
    for row, col in sheets[0].percent_cells:
        if row < len(values) and col < len(values[row]):
            v = values[row][col]
            if type(v) in (float, int):
                values[row][col] = percent_text(v)
    return values
