"""Read a bureau report (xlsx or csv) into a table of strings, keeping the row numbers Excel shows.

Everything is read as text: the normalise step owns every conversion, so a number typed as
"1.5万" in a csv and a number stored as 15000.0 in an xlsx go through the same rules.
File-level problems (size, encoding, corrupt or hostile files, formula cells) raise FileRejected.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import python_calamine

from etl.errors import FileRejected, Problem

DEFAULT_MAX_MB = 20.0
# An xlsx is a zip: refuse archives that would inflate far beyond any real report (zip bombs).
MAX_XLSX_UNCOMPRESSED = 400 * 1024 * 1024
MAX_XLSX_RATIO = 200
MAX_COLUMNS = 200
# calamine allocates the whole rectangle from A1 to the farthest cell before returning anything: one
# cell at XFD1048576 in a 5 KB file asks for 17 billion cells and aborts the process (no exception).
# A million rows of 4 columns (Excel's limit) stays below this; it costs calamine about 400 MB.
MAX_XLSX_CELLS = 5_000_000
HEADER_SEARCH_ROWS = 10


@dataclass
class RawTable:
    """Cells as text. rows[i] is the Excel/line number of data row i; header[j] is column j's title."""

    file_name: str
    header: list[str]
    cells: pd.DataFrame  # columns 0..n-1 as strings ("" for empty)
    rows: pd.Series  # Excel row numbers, int
    header_row: int
    kind: str  # "xlsx" or "csv"
    encoding: str | None = None
    notes: list[str] = field(default_factory=list)


def column_letter(idx: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA: the column names users see in Excel."""
    letters = ""
    idx += 1
    while idx:
        idx, rem = divmod(idx - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def detect_kind(file_name: str, data: bytes) -> str:
    """By content first (an xlsx is a zip), by extension second."""
    if data[:4] == b"PK\x03\x04":
        return "xlsx"
    suffix = Path(file_name).suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return "xlsx"
    if suffix in (".csv", ".txt", ""):
        return "csv"
    raise FileRejected(
        [
            Problem.file(
                file_name,
                f"不支持的文件类型“{suffix}”，请上传 xlsx 或 csv",
                f"unsupported file type {suffix!r}; upload xlsx or csv",
            )
        ]
    )


def decode_text(file_name: str, data: bytes) -> tuple[str, str]:
    """UTF-8 (with or without BOM) first, then GB18030 (a superset of GBK/GB2312)."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        # Excel's "Unicode text" export: a text file, but not in an encoding this reader takes
        raise FileRejected(
            [
                Problem.file(
                    file_name,
                    "文件为 UTF-16 编码，请另存为 UTF-8 或 GBK 编码的 csv",
                    "the file is UTF-16 encoded; save it as UTF-8 or GBK csv",
                )
            ]
        )
    if b"\x00" in data[:65536]:
        raise FileRejected(
            [
                Problem.file(
                    file_name, "文件含有二进制内容，不是文本格式的 csv", "file contains binary data; not a text csv"
                )
            ]
        )
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="strict"), "utf-8-sig"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030"), "gb18030"
    except UnicodeDecodeError as exc:
        raise FileRejected(
            [
                Problem.file(
                    file_name,
                    f"无法识别文件编码（第{exc.start + 1}字节），请另存为 UTF-8 或 GBK 编码的 csv",
                    f"cannot decode the file (byte {exc.start + 1}); save it as UTF-8 or GBK csv",
                )
            ]
        ) from None


def _too_many_columns(file_name: str, width: int) -> FileRejected:
    zh, en = f"列数过多（{width} 列），请使用模板", f"too many columns ({width}); use the template"
    return FileRejected([Problem.file(file_name, zh, en)])


def _read_csv(file_name: str, data: bytes) -> tuple[list[list[str]], int, str]:
    text, encoding = decode_text(file_name, data)
    first_line = text[: text.find("\n")] if "\n" in text else text
    delimiter = "\t" if first_line.count("\t") > first_line.count(",") else ","
    # the parser takes its width from the first line: 100,000 columns there cost pandas a minute and
    # gigabytes before the width check below the parse could refuse the file
    try:
        width = len(next(csv.reader([first_line], delimiter=delimiter), []))
    except csv.Error:
        width = 0
    if width > MAX_COLUMNS:
        raise _too_many_columns(file_name, width)
    # UTF-8 (checked above) goes to the parser as bytes: a StringIO copy of a large file costs
    # ~4 bytes per character and twice the parse time. GB18030 is decoded by Python (pandas' C
    # reader would need a codec wrapper anyway).
    source: io.BytesIO | io.StringIO
    if encoding.startswith("utf-8"):
        source = io.BytesIO(data[3:] if encoding == "utf-8-sig" else data)
    else:
        source = io.StringIO(text)
    del text
    # The pyarrow-free C parser with dtype=str keeps every cell as typed.
    try:
        frame = pd.read_csv(
            source,
            encoding="utf-8",
            sep=delimiter,
            header=None,
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            skip_blank_lines=False,
            engine="c",
            quoting=csv.QUOTE_MINIMAL,
        )
    except pd.errors.EmptyDataError:
        raise FileRejected([Problem.file(file_name, "文件为空", "the file is empty")]) from None
    except pd.errors.ParserError as exc:
        raise FileRejected([_parser_problem(file_name, str(exc))]) from None
    return frame, 0, encoding


def _parser_problem(file_name: str, message: str) -> Problem:
    """pandas' tokenizer errors, in words and at the line a user can find (the raw text otherwise)."""
    if quote := re.search(r"EOF inside string starting at row (\d+)", message):  # 0-based row
        return Problem(
            file_name,
            int(quote.group(1)) + 1,
            None,
            None,
            'csv 格式错误：英文双引号（"）不成对，从这一行起的内容无法读取',
            "malformed csv: a double quote opened on this line is never closed",
        )
    if extra := re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", message):  # 1-based line
        expected, line, saw = (int(g) for g in extra.groups())
        return Problem(
            file_name,
            line,
            None,
            None,
            f"csv 格式错误：这一行有{saw}列，多于第一行的{expected}列（含逗号的内容请用英文双引号括起来）",
            f"malformed csv: {saw} fields on this line, {expected} on the first (quote text holding commas)",
        )
    return Problem.file(file_name, f"csv 格式错误：{message}", f"malformed csv: {message}")


# Sheet XML as Excel, WPS, LibreOffice, openpyxl and xlsxwriter write it: every cell is <c r="B7"
# and every row <row r="7". Anything else (a cell without r= is placed after the previous one, a
# prefixed tag, r = 'b7') takes the slow path, which replays calamine's placement rules.
_NOT_CANONICAL = re.compile(
    rb'<(?:[\w.-]+:(?:c|row)[\s>/]|c(?:[\t\r\n>/]| (?!r="[A-Z]{1,3}[0-9]{1,7}"))'
    rb'|row(?:[\t\r\n>/]| (?!r="[0-9]{1,7}")))'
)
_FAR_COLUMN = re.compile(rb'r="((?:[H-Z][A-Z]|G[S-Z]|[A-Z]{3,})[A-Z]*)[0-9]')  # beyond column GR (200)
_COLUMN = re.compile(rb'r="([A-Z]{1,2})[0-9]')
_TAG = re.compile(rb"<(/?)(?:[\w.-]+:)?(c|row)(?=[\s/>])([^>]*)>")
_R_ATTR = re.compile(rb'(?:^|\s)r\s*=\s*["\']([^"\']*)')
_REF = re.compile(rb"\s*([A-Za-z]*)([0-9]*)\s*")


def _column_number(letters: bytes) -> int:
    """b"A" -> 1, b"GR" -> 200 (the inverse of column_letter, 1-based)."""
    n = 0
    for ch in letters.upper():
        n = n * 26 + ch - 64
    return n


def _replayed_extent(xml: bytes) -> tuple[int, int]:
    """(rows, columns) by calamine's rules: a cell or row without r= follows the previous one."""
    row = col = height = width = 0
    for closing, name, attrs in _TAG.findall(xml):
        if closing:
            if name == b"row":
                row, col = row + 1, 0
            continue
        r = _R_ATTR.search(attrs)
        ref = _REF.fullmatch(r.group(1)) if r else None
        if r and (ref is None or not ref.group(2) or (name == b"row") == bool(ref.group(1))):
            raise zipfile.BadZipFile("unreadable reference")  # calamine cannot place it either
        if name == b"row":
            row = int(ref.group(2)) - 1 if ref else row
            if attrs.endswith(b"/"):  # <row r="9"/>: as if closed at once
                row, col = row + 1, 0
            continue
        if ref:
            row_at, col = int(ref.group(2)) - 1, _column_number(ref.group(1)) - 1
        else:
            row_at = row
        height, width, col = max(height, row_at + 1), max(width, col + 1), col + 1
    return height, width


def _check_extent(file_name: str, xml: bytes) -> None:
    """Refuse a sheet whose farthest cell would make calamine allocate more than MAX_XLSX_CELLS.
    Regex scans only for the usual sheet; its width is worked out only past 25,000 rows."""
    if _NOT_CANONICAL.search(xml):
        height, width = _replayed_extent(xml)
    elif _FAR_COLUMN.search(xml):
        height, width = 0, max(_column_number(m.group(1)) for m in _FAR_COLUMN.finditer(xml))
    else:
        digits = next((k for k in range(7, 4, -1) if re.search(rb'r="[A-Z]*[0-9]{%d}"' % k, xml)), 0)
        height = max(map(int, re.findall(rb'r="[A-Z]*([0-9]{%d})"' % digits, xml))) if digits else 0
        if height * MAX_COLUMNS <= MAX_XLSX_CELLS:
            return
        width = max(map(_column_number, set(_COLUMN.findall(xml))), default=1)
    if width > MAX_COLUMNS:
        raise _too_many_columns(file_name, width)
    if height * width > MAX_XLSX_CELLS:
        raise FileRejected(
            [
                Problem.file(
                    file_name,
                    f"行数过多（{height} 行 × {width} 列），请删除多余的行后再上传",
                    f"too many rows ({height} rows x {width} columns); delete the unused rows",
                )
            ]
        )


def _formula_cells(file_name: str, zf: zipfile.ZipFile) -> list[str]:
    """Cell references holding a formula (<f> in the sheet XML); calamine would return cached values.
    Each sheet's extent is checked on the way (see _check_extent)."""
    found: list[str] = []
    for info in zf.infolist():
        name = info.filename
        if not (name.startswith("xl/worksheets/") and name.endswith(".xml")):
            continue
        # never read(-1): zipfile then inflates the whole stream in one call however small the size
        # the archive declares (a bomb that lies about its size); read(n) inflates at most n bytes
        with zf.open(info) as fh:
            xml = fh.read(info.file_size)
        _check_extent(file_name, xml)
        for match in re.finditer(rb"<f[\s>/]", xml):
            # the cell the <f> sits in (a <c> without attributes has no reference: "?")
            start = max(xml.rfind(b"<c ", 0, match.start()), xml.rfind(b"<c>", 0, match.start()))
            ref = re.search(rb'r="([A-Z]+\d+)"', xml[start : match.start()])
            found.append(ref.group(1).decode() if ref else "?")
            if len(found) >= 20:
                return found
    return found


def _check_zip(file_name: str, data: bytes) -> list[str]:
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise FileRejected(
            [Problem.file(file_name, "文件已损坏或不是有效的 xlsx 文件", "the file is corrupt or not a valid xlsx")]
        ) from None
    total = sum(i.file_size for i in infos)
    packed = max(1, sum(i.compress_size for i in infos))
    if total > MAX_XLSX_UNCOMPRESSED or total / packed > MAX_XLSX_RATIO:
        raise FileRejected(
            [
                Problem.file(
                    file_name,
                    f"xlsx 解压后体积异常（{total / 1048576:.0f} MB，压缩比 {total / packed:.0f}:1），拒绝处理",
                    f"xlsx inflates abnormally ({total / 1048576:.0f} MB, ratio {total / packed:.0f}:1); refused",
                )
            ]
        )
    if "xl/workbook.xml" not in zf.namelist():
        raise FileRejected(
            [Problem.file(file_name, "文件已损坏或不是有效的 xlsx 文件", "the file is corrupt or not a valid xlsx")]
        )
    try:
        return _formula_cells(file_name, zf)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, RuntimeError, NotImplementedError):
        # a bad CRC, a broken deflate stream, an encrypted or unknown-method entry: corrupt, not a crash
        raise FileRejected(
            [Problem.file(file_name, "文件已损坏或不是有效的 xlsx 文件", "the file is corrupt or not a valid xlsx")]
        ) from None


def _cell_text(v: object) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(v)
    if isinstance(v, dt.datetime):
        return v.date().isoformat()
    if isinstance(v, dt.date):
        return v.isoformat()
    return str(v)


def _read_xlsx(file_name: str, data: bytes) -> list[list[str]]:
    formulas = _check_zip(file_name, data)
    if formulas:
        raise FileRejected(
            [
                Problem(
                    file_name=file_name,
                    row=int(cell.group(2)) if cell else None,
                    column=cell.group(1) if cell else None,
                    value=ref if cell else None,  # "?": a formula cell without a readable reference
                    reason_zh="单元格含有公式，请改为直接填写数值（复制后“选择性粘贴—数值”）",
                    reason_en="cell holds a formula; enter the value itself (paste as values)",
                )
                for ref, cell in ((ref, re.fullmatch(r"([A-Z]+)(\d+)", ref)) for ref in formulas)
            ]
        )
    try:
        book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
        sheet = book.get_sheet_by_index(0)
        values = sheet.to_python(skip_empty_area=False)
    except (python_calamine.CalamineError, ValueError, OSError) as exc:
        raise FileRejected([Problem.file(file_name, f"无法读取 xlsx：{exc}", f"cannot read the xlsx: {exc}")]) from None
    if len(book.sheet_names) > 1 and not any(v not in (None, "") for row in values for v in row):
        first = book.sheet_names[0]
        raise FileRejected(
            [
                Problem.file(
                    file_name,
                    f"第一个工作表“{first}”是空的，请把报送数据放在第一个工作表",
                    f"the first sheet {first!r} is empty; put the report on the first sheet",
                )
            ]
        )
    # most cells are already text: skip the type dispatch for them (a 100,000-row sheet has 500,000 cells)
    return [[v if type(v) is str else _cell_text(v) for v in row] for row in values]


_HEADER_WORDS = {
    "指标编码",
    "指标代码",
    "指标名称",
    "kpi",
    "kpi_id",
    "数值",
    "value",
    "旗区",
    "district",
    "报送期",
    "period",
}


def _find_header(rows: list[list[str]]) -> int:
    """The first of the top rows that names at least two known columns (a title row may sit above)."""
    for i, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        names = {c.strip().lower() for c in row if c}
        if len(names & _HEADER_WORDS) >= 2:
            return i
    return 0


def read_report(file_name: str, data: bytes, *, max_mb: float = DEFAULT_MAX_MB) -> RawTable:
    """Parse the raw bytes of an upload. file_name is only used for messages and type detection."""
    if len(data) == 0:
        raise FileRejected([Problem.file(file_name, "文件为空", "the file is empty")])
    if len(data) > max_mb * 1024 * 1024:
        raise FileRejected(
            [
                Problem.file(
                    file_name,
                    f"文件大小 {len(data) / 1048576:.1f} MB，超过上限 {max_mb:g} MB",
                    f"file is {len(data) / 1048576:.1f} MB, over the {max_mb:g} MB limit",
                )
            ]
        )
    kind = detect_kind(file_name, data)
    encoding = None
    if kind == "csv":
        frame, _, encoding = _read_csv(file_name, data)
        if frame.shape[1] > MAX_COLUMNS:
            raise FileRejected(
                [
                    Problem.file(
                        file_name,
                        f"列数过多（{frame.shape[1]} 列），请使用模板",
                        f"too many columns ({frame.shape[1]}); use the template",
                    )
                ]
            )
        head_rows = frame.head(HEADER_SEARCH_ROWS).to_numpy().tolist()
        h = _find_header(head_rows)
        header = [str(c).strip() for c in frame.iloc[h].tolist()]
        body = frame.iloc[h + 1 :].reset_index(drop=True)
        body.columns = range(body.shape[1])
        rows = pd.Series(range(h + 2, h + 2 + len(body)), dtype="int64")
    else:
        grid = _read_xlsx(file_name, data)
        width = max((len(r) for r in grid), default=0)
        if width > MAX_COLUMNS:
            raise FileRejected(
                [
                    Problem.file(
                        file_name,
                        f"列数过多（{width} 列），请使用模板",
                        f"too many columns ({width}); use the template",
                    )
                ]
            )
        h = _find_header(grid)
        header = [c.strip() for c in (grid[h] if grid else [])]
        body = pd.DataFrame([r + [""] * (width - len(r)) for r in grid[h + 1 :]], columns=range(width), dtype=str)
        rows = pd.Series(range(h + 2, h + 2 + len(body)), dtype="int64")
    header = header + [""] * (body.shape[1] - len(header))
    if not any(header):
        raise FileRejected([Problem.file(file_name, "文件没有数据行", "the file has no data rows")])
    # Rows that are entirely blank are dropped (Excel often keeps formatted empty rows).
    blank = (body.apply(lambda s: s.str.strip()) == "").all(axis=1)
    body = body[~blank].reset_index(drop=True)
    rows = rows[~blank.to_numpy()].reset_index(drop=True)
    if body.empty:
        raise FileRejected(
            [Problem.file(file_name, "文件没有数据行（只有表头）", "the file has a header but no data rows")]
        )
    return RawTable(file_name, header, body, rows, h + 1, kind, encoding)
