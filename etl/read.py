"""Read a bureau report (xlsx or csv) into a table of strings, keeping the row numbers Excel shows.

Everything is read as text: the normalise step owns every conversion, so a number typed as
"1.5万" in a csv and a number stored as 15000.0 in an xlsx go through the same rules.
File-level problems (size, encoding, corrupt or hostile files, formula cells) raise FileRejected.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import math
import re
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import python_calamine

from etl import office
from etl.csv_fast import read_fast
from etl.errors import FileRejected, Problem
from etl.xlsx_guard import CORRUPT, NONSTANDARD, XlsxFacts, inspect_xlsx, percent_text
from etl.xlsx_sheet import MAX_COLUMNS, too_many_columns

DEFAULT_MAX_MB = 20.0
HEADER_SEARCH_ROWS = 10


@dataclass
class RawTable:
    """Cells as text. rows[i] is the Excel/line number of data row i; header[j] is column j's title."""

    file_name: str
    header: list[str]
    cells: pd.DataFrame  # columns 0..n-1 as strings ("" for empty)
    rows: pd.Series  # Excel row numbers, int
    header_row: int
    kind: str  # "xlsx", "xls", "ods" or "csv"
    encoding: str | None = None
    notes: list[str] = field(default_factory=list)


def detect_kind(file_name: str, data: bytes) -> str:
    """By content first (an xlsx or ods is a zip, an xls an OLE2 file: see etl.office.sniff), by
    extension second; a kind that is not read is refused by name (a PDF, a Word file, a Numbers file)."""
    kind = office.sniff(file_name, data) or office.by_suffix(file_name)
    if kind is not None:
        return kind
    suffix = Path(file_name).suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return "xlsx"
    if suffix in (".csv", ".txt", ""):
        return "csv"
    raise office.unsupported(file_name, suffix)


def decode_text(file_name: str, data: bytes) -> tuple[str, str]:
    """UTF-8 (with or without BOM) first, then GB18030 (a superset of GBK/GB2312)."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        # Excel's "Unicode text" export: a text file, but not in an encoding this reader takes
        raise FileRejected.whole(
            file_name,
            "文件为 UTF-16 编码，请另存为 UTF-8 或 GBK 编码的 csv",
            "the file is UTF-16 encoded; save it as UTF-8 or GBK csv",
        )
    if b"\x00" in data[:65536]:
        raise FileRejected.whole(
            file_name, "文件含有二进制内容，不是文本格式的 csv", "file contains binary data; not a text csv"
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
        raise FileRejected.whole(
            file_name,
            f"无法识别文件编码（第{exc.start + 1}字节），请另存为 UTF-8 或 GBK 编码的 csv",
            f"cannot decode the file (byte {exc.start + 1}); save it as UTF-8 or GBK csv",
        ) from None


_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)?")


def _lines(text: str) -> Iterator[str]:
    """The lines of `text` with their ends, lazily (only the first few are wanted of a 20 MB file)."""
    return (m.group(0) for m in _LINE.finditer(text) if m.group(0))


def _head_records(text: str, delimiter: str) -> list[list[str]]:
    """The first HEADER_SEARCH_ROWS records as the csv module reads them; a field over its size limit
    or a stray quote ends the list early (the parser below then reports the line)."""
    records: list[list[str]] = []
    try:
        for record in csv.reader(_lines(text), delimiter=delimiter):
            records.append(record)
            if len(records) >= HEADER_SEARCH_ROWS:
                break
    except csv.Error:
        pass
    return records


def _read_csv(file_name: str, data: bytes) -> tuple[pd.DataFrame, int, str]:
    text, encoding = decode_text(file_name, data)
    head = "".join(itertools.islice(_lines(text), HEADER_SEARCH_ROWS))
    delimiter = "\t" if head.count("\t") > head.count(",") else ","
    # The parser takes its width from the first line unless told: a title row of one cell above a
    # 5-column header would make every later line "too long". The width is that of the widest line
    # down to the header (a title may be a single cell or padded with commas); a line below the
    # header with more fields is still refused, since "1,234" unquoted splits a figure in two.
    # Wide lines are refused before the parse: 100,000 columns cost pandas a minute and gigabytes.
    records = _head_records(text, delimiter)
    widest = max((len(r) for r in records), default=0)
    if widest > MAX_COLUMNS:
        raise too_many_columns(file_name, widest)
    header_at = _find_header(records)
    width = max((len(r) for r in records[: header_at + 1]), default=0)
    header_width = len(records[header_at]) if records else 0
    # A well-formed file is read by pyarrow's multi-threaded parser (etl.csv_fast), which gives the
    # frame pandas would; anything unusual (a ragged line, a stray quote, a NUL) returns None and goes
    # to pandas below, so every message comes from the same code as before.
    if encoding.startswith("utf-8"):
        frame = read_fast(data, 3 if encoding == "utf-8-sig" else 0, delimiter, width)
    else:
        frame = read_fast(text.encode("utf-8"), 0, delimiter, width)
    if frame is None:
        frame = _read_csv_pandas(file_name, data, text, encoding, delimiter, width, header_at)
    del text
    if width > header_width:  # a title wider than the header: lines below may not use the extra fields
        extra = frame.iloc[header_at + 1 :, header_width:]
        used = (extra != "").to_numpy()
        if used.any():
            at = int(used.any(axis=1).argmax())
            fields = int(np.flatnonzero(used[at]).max()) + header_width + 1
            raise FileRejected([_ragged_problem(file_name, header_at + at + 2, fields, header_width, header_at + 1)])
    return frame, 0, encoding


def _read_csv_pandas(
    file_name: str, data: bytes, text: str, encoding: str, delimiter: str, width: int, header_at: int
) -> pd.DataFrame:
    """The file through pandas' C parser: the reader of every file the fast path does not take, and
    the source of the messages for ragged lines and broken quotes."""
    # UTF-8 (checked above) goes to the parser as bytes: a StringIO copy of a large file costs
    # ~4 bytes per character and twice the parse time. GB18030 is decoded by Python (pandas' C
    # reader would need a codec wrapper anyway).
    source: io.BytesIO | io.StringIO
    if encoding.startswith("utf-8"):
        source = io.BytesIO(data[3:] if encoding == "utf-8-sig" else data)
    else:
        source = io.StringIO(text)
    # The pyarrow-free C parser with dtype=str keeps every cell as typed.
    try:
        return pd.read_csv(
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
            # names: every line takes this width; index_col=False: a longer line is an error, never an index
            **({"names": range(width), "index_col": False} if width else {}),
        )
    except pd.errors.EmptyDataError:
        raise FileRejected.whole(file_name, "文件为空", "the file is empty") from None
    except pd.errors.ParserError as exc:
        raise FileRejected([_parser_problem(file_name, str(exc), header_at + 1)]) from None


def _blank_rows(body: pd.DataFrame) -> pd.Series:
    """Rows whose every cell is empty or spaces, as `(body.apply(lambda s: s.str.strip()) == "").all(axis=1)`
    has it, column by column on the rows still blank so far: in a filled report the first column
    already clears almost every row, and the whole-frame version took a quarter of a second."""
    blank = np.ones(len(body), dtype=bool)
    for column in body.columns:
        at = np.flatnonzero(blank)
        if not at.size:
            break
        cells = body[column] if at.size == len(body) else body[column].take(at)
        blank[at] = (cells.str.strip() == "").to_numpy(dtype=bool)
    return pd.Series(blank, index=body.index)


def _ragged_problem(file_name: str, line: int, fields: int, expected: int, header_line: int) -> Problem:
    """A line with more fields than the header: an unquoted comma has split a cell."""
    where_zh = "第一行" if header_line == 1 else f"表头（第{header_line}行）"
    where_en = "the first" if header_line == 1 else f"the header (line {header_line})"
    return Problem(
        file_name,
        line,
        None,
        None,
        f"csv 格式错误：这一行有{fields}列，多于{where_zh}的{expected}列（含逗号的内容请用英文双引号括起来）",
        f"malformed csv: {fields} fields on this line, {expected} on {where_en} (quote text holding commas)",
    )


def _parser_problem(file_name: str, message: str, header_line: int = 1) -> Problem:
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
        return _ragged_problem(file_name, line, saw, expected, header_line)
    return Problem.file(file_name, f"csv 格式错误：{message}", f"malformed csv: {message}")


def _inspect_zip(file_name: str, data: bytes) -> XlsxFacts:
    """Open the archive and run every package check of etl.xlsx_guard; a broken archive is "corrupt"."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        return inspect_xlsx(file_name, zf)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, RuntimeError, NotImplementedError, ValueError):
        # a bad CRC, a broken deflate stream, an encrypted or unknown-method entry: corrupt, not a crash
        raise FileRejected.whole(file_name, *CORRUPT) from None


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
    facts = _inspect_zip(file_name, data)
    try:
        book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
        if not book.sheet_names or book.sheet_names[0] != facts.first_sheet:
            # calamine would load another sheet than the one checked
            raise FileRejected.whole(file_name, *NONSTANDARD)
        sheet = book.get_sheet_by_index(0)
        values = sheet.to_python(skip_empty_area=False)
    except (python_calamine.CalamineError, ValueError, OSError) as exc:
        raise FileRejected.whole(file_name, f"无法读取 xlsx：{exc}", f"cannot read the xlsx: {exc}") from None
    if len(book.sheet_names) > 1 and not any(v not in (None, "") for row in values for v in row):
        first = book.sheet_names[0]
        raise FileRejected.whole(
            file_name,
            f"第一个工作表“{first}”是空的，请把报送数据放在第一个工作表",
            f"the first sheet {first!r} is empty; put the report on the first sheet",
        )
    # a number shown as 85% is stored as 0.85: read it as typed, so normalise sees the percent sign
    for row, col in facts.percent_cells:
        if row < len(values) and col < len(values[row]):
            v = values[row][col]
            if type(v) in (float, int) and math.isfinite(v):
                values[row][col] = percent_text(v)
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
        raise FileRejected.whole(file_name, "文件为空", "the file is empty")
    if len(data) > max_mb * 1024 * 1024:
        raise FileRejected.whole(
            file_name,
            f"文件大小 {len(data) / 1048576:.1f} MB，超过上限 {max_mb:g} MB",
            f"file is {len(data) / 1048576:.1f} MB, over the {max_mb:g} MB limit",
        )
    kind = detect_kind(file_name, data)
    encoding = None
    if kind == "csv":
        frame, _, encoding = _read_csv(file_name, data)
        if frame.shape[1] > MAX_COLUMNS:
            raise FileRejected.whole(
                file_name,
                f"列数过多（{frame.shape[1]} 列），请使用模板",
                f"too many columns ({frame.shape[1]}); use the template",
            )
        head_rows = frame.head(HEADER_SEARCH_ROWS).to_numpy().tolist()
        h = _find_header(head_rows)
        header = [str(c).strip() for c in frame.iloc[h].tolist()]
        body = frame.iloc[h + 1 :].reset_index(drop=True)
        body.columns = range(body.shape[1])
        rows = pd.Series(range(h + 2, h + 2 + len(body)), dtype="int64")
    else:
        if kind == "xlsx":
            grid = _read_xlsx(file_name, data)
        else:  # xls or ods (etl.office): the same rules from here on
            values = office.read_values(file_name, data, kind)
            grid = [[v if type(v) is str else _cell_text(v) for v in row] for row in values]
        width = max((len(r) for r in grid), default=0)
        if width > MAX_COLUMNS:
            raise FileRejected.whole(
                file_name, f"列数过多（{width} 列），请使用模板", f"too many columns ({width}); use the template"
            )
        h = _find_header(grid)
        header = [c.strip() for c in (grid[h] if grid else [])]
        body = pd.DataFrame([r + [""] * (width - len(r)) for r in grid[h + 1 :]], columns=range(width), dtype=str)
        rows = pd.Series(range(h + 2, h + 2 + len(body)), dtype="int64")
    header = header + [""] * (body.shape[1] - len(header))
    if not any(header):
        raise FileRejected.whole(file_name, "文件没有数据行", "the file has no data rows")
    # Rows that are entirely blank are dropped (Excel often keeps formatted empty rows).
    blank = _blank_rows(body)
    body = body[~blank].reset_index(drop=True)
    rows = rows[~blank.to_numpy()].reset_index(drop=True)
    if body.empty:
        raise FileRejected.whole(file_name, "文件没有数据行（只有表头）", "the file has a header but no data rows")
    return RawTable(file_name, header, body, rows, h + 1, kind, encoding)
