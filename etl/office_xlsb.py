"""The .xlsb side of etl/office.py: the Excel binary workbook's zip guarded, and its BIFF12 records
scanned as calamine will read them, before calamine reads a byte.

calamine parses an xlsb in its own way and panics (an uncatchable PanicException, not an error) on
fields it indexes without checking: a sheet relationship that is missing, a record shorter than the
fields it reads, a shared-string index past the table. Its workbook and styles loops also read record
types without skipping their bodies, so what it finds can differ from a walk by the specification.
So each part is walked here the way calamine walks it (_Records: the same reads, the same reused
buffer) and whatever would make it panic is "corrupt". What the checks need is collected on the way:

- workbook.bin: every sheet (BrtBundleSh: name, hsState hidden/very hidden, its part); a defined name
  or external reference (BrtName, BrtExternSheet: calamine parses their formulas unchecked) is refused.
- styles.bin: the number format of each cell format (BrtFmt, BrtXF), for the cells shown as percent.
- sharedStrings.bin: the length of each string, for the text the cells would copy.
- each worksheet: BrtWsDim (checked to lie in the grid; calamine reserves at most 100,000 cells from
  it, so a big one costs nothing), hidden columns (BrtColInfo fHidden), hidden rows (BrtRowHdr
  fDyZero), every cell's position (the farthest decides the rectangle calamine builds), formulas
  (BrtFmlaString/Num/Bool/Error), the shared strings used.
"""

from __future__ import annotations

import io
import re
import struct
import xml.etree.ElementTree as ET
import zipfile

from etl.errors import FileRejected, column_letter
from etl.office import MACRO_SHEET, SheetScan, check_size, corrupt
from etl.xlsx_guard import (
    MAX_PARTS,
    MAX_XLSX_RATIO,
    MAX_XLSX_TEXT,
    MAX_XLSX_UNCOMPRESSED,
    _is_percent_format,
    too_much_text,
)
from etl.xlsx_sheet import MAX_COLUMNS, MAX_LISTED, MAX_XLSX_CELLS

NAMES = (
    "工作簿含有定义的名称或外部引用，无法读取；请在 Excel/WPS 中另存为 .xlsx 后上传",
    "the workbook has defined names or external references, which are not read; "
    "open it in Excel or WPS, save it as .xlsx and upload that",
)

_WORKBOOK, _RELS = "xl/workbook.bin", "xl/_rels/workbook.bin.rels"
_STYLES, _STRINGS = "xl/styles.bin", "xl/sharedStrings.bin"
_SHEET_KINDS = ("worksheets", "chartsheets", "dialogsheets")  # calamine refuses any other folder
# after the sheets, calamine reads the workbook until one of these (BrtCalcProp, BrtEndBook, ...)
_AFTER_NAMES = {0x009D, 0x0225, 0x018D, 0x0180, 0x009A, 0x0252, 0x0229, 0x009B, 0x0084}
_NAME, _EXTERN_SHEET = 0x0027, 0x016A
_ROW_HDR, _END_SHEET_DATA, _COL_INFO, _FMLA_ERROR = 0x0000, 0x0092, 0x003C, 0x000B
# cell records calamine reads, and the bytes it indexes in each (it panics on a shorter one)
_CELL_SIZE = {0x02: 12, 0x03: 9, 0x04: 9, 0x05: 16, 0x06: 12, 0x07: 12, 0x08: 12, 0x09: 16, 0x0A: 9}
_FORMULAS = {0x08, 0x09, 0x0A, _FMLA_ERROR}
_ERRORS = {0x00, 0x07, 0x0F, 0x17, 0x1D, 0x24, 0x2A, 0x2B}  # BrtCellError codes calamine knows
_MAX_ROW = 0x100000  # calamine stops reading a sheet at a row header past this
_PLAIN = re.compile(r"[A-Za-z0-9_./-]{1,255}")  # relationship ids and targets calamine and we read alike
_DTD = re.compile(rb"<!(?:doctype|entity)", re.IGNORECASE)
_PREFIXED = re.compile(rb"<[\w.-]+:Relationship[\s/>]")  # calamine matches the unprefixed name only


class _Broken(Exception):
    """The package or a record does not parse, or would make calamine panic: a corrupt xlsb."""


class _Names(Exception):
    """The workbook defines names or external references."""


class _Records:
    """calamine's RecordIter over one part: the same reads, and its buffer reused as it reuses it (a
    record shorter than the last keeps the last one's tail, which calamine may read)."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.at = 0
        self.buf = bytearray()

    def _byte(self) -> int:
        if self.at >= len(self.data):
            raise _Broken  # calamine: an I/O error, the workbook is not read
        self.at += 1
        return self.data[self.at - 1]

    def read_type(self) -> int:
        first = self._byte()
        if first & 0x80:
            return (first & 0x7F) + ((self._byte() & 0x7F) << 7)
        return first

    def fill(self) -> int:
        byte = self._byte()
        size = byte & 0x7F
        for shift in (7, 14, 21):
            if not byte & 0x80:
                break
            byte = self._byte()
            size += (byte & 0x7F) << shift
        if self.at + size > len(self.data):
            raise _Broken
        if len(self.buf) < size:
            self.buf = bytearray(size)
        self.buf[:size] = self.data[self.at : self.at + size]
        self.at += size
        return size

    def skip_to(self, wanted: int, blocks: dict[int, int | None], seen: list[bytes] | None = None) -> int:
        """calamine's next_skip_blocks: records up to `wanted`, a block start..end skipped whole; the
        bodies of BrtColInfo records passed on the way are kept in `seen`."""
        while True:
            kind = self.read_type()
            size = self.fill()
            if kind == wanted:
                return size
            if seen is not None and kind == _COL_INFO:
                seen.append(bytes(self.buf[:size]))
            end = blocks.get(kind)
            if end is not None:
                while (kind := self.read_type()) != end:
                    size = self.fill()
                    if seen is not None and kind == _COL_INFO:
                        seen.append(bytes(self.buf[:size]))
                self.fill()


def _u32(buf: bytes | bytearray, at: int) -> int:
    if at < 0 or at + 4 > len(buf):
        raise _Broken  # calamine slices without checking: a panic
    return int.from_bytes(buf[at : at + 4], "little")


def _wide_str(buf: bytes | bytearray) -> str:
    """calamine's wide_str: a 32-bit count of UTF-16 units then the text (shorter than 4 bytes: a panic)."""
    count = _u32(buf, 0)
    if len(buf) < 4 + 2 * count:
        raise _Broken
    return bytes(buf[4 : 4 + 2 * count]).decode("utf-16-le", "replace")


def scan_xlsb(file_name: str, data: bytes) -> list[SheetScan]:
    """Every sheet of the workbook, scanned; FileRejected for what calamine must not read."""
    try:
        return _scan(file_name, data)
    except _Names:
        raise FileRejected.whole(file_name, *NAMES) from None
    except (_Broken, struct.error, IndexError, ValueError, ET.ParseError, LookupError):
        raise FileRejected.whole(file_name, *corrupt("xlsb")) from None


def _scan(file_name: str, data: bytes) -> list[SheetScan]:
    zf = zipfile.ZipFile(io.BytesIO(data))
    infos = zf.infolist()
    lower = [i.filename.lower() for i in infos]
    if len(set(lower)) != len(lower) or len(infos) > MAX_PARTS:
        raise _Broken
    if "xl/workbook.xml" in lower:
        raise _Broken  # calamine would read it as the xlsx it also is, not the parts scanned here
    total = sum(i.file_size for i in infos)
    packed = max(1, sum(i.compress_size for i in infos))
    if total > MAX_XLSX_UNCOMPRESSED or total / packed > MAX_XLSX_RATIO:
        raise FileRejected.whole(
            file_name,
            f"xlsb 解压后体积异常（{total / 1048576:.0f} MB，压缩比 {total / packed:.0f}:1），拒绝处理",
            f"xlsb inflates abnormally ({total / 1048576:.0f} MB, ratio {total / packed:.0f}:1); refused",
        )
    if "xl/vbaproject.bin" in lower:
        raise FileRejected.whole(file_name, *MACRO_SHEET)
    parts = {i.filename: i for i in infos}  # calamine looks parts up by their exact name

    def read(name: str) -> bytes | None:
        info = parts.get(name)
        if info is None:
            return None
        with zf.open(info) as fh:  # read(n): a member lying about its size inflates no further
            body = fh.read(info.file_size)
            if fh.read(1):
                raise _Broken
        return body

    strings = _shared_strings(read(_STRINGS))
    percent_xfs = _styles(read(_STYLES))
    workbook = read(_WORKBOOK)
    if workbook is None:
        raise _Broken
    sheets: list[SheetScan] = []
    text = 0
    bound = _workbook(workbook, _relationships(read(_RELS)))
    if not bound or len({name for name, _, _ in bound}) != len(bound):
        raise _Broken  # calamine finds a sheet by name: two of one name would load the first twice
    for name, state, path in bound:
        sheet = SheetScan(name, hidden=state != 0)
        sheets.append(sheet)
        if path.split("/")[1] != "worksheets":
            continue  # a chart or dialog sheet: no cells
        body = read(path)
        if body is None:
            raise _Broken
        text += _scan_sheet(file_name, body, sheets, strings, percent_xfs if len(sheets) == 1 else [])
        check_size(file_name, sheets)
        if text > MAX_XLSX_TEXT:
            raise too_much_text(file_name, text)
    return sheets


def _shared_strings(data: bytes | None) -> list[int]:
    """The UTF-8 length of each shared string, read as calamine reads xl/sharedStrings.bin."""
    if data is None:
        return []
    records = _Records(data)
    records.skip_to(0x009F, {})  # BrtBeginSst
    count = _u32(records.buf, 4)
    lengths: list[int] = []
    for _ in range(count):  # each item takes bytes of the part: the loop ends with the data
        records.skip_to(0x0013, {0x0023: 0x0024})  # BrtSSTItem, skipping future records
        lengths.append(len(_wide_str(records.buf[1:]).encode()))
    return lengths


def _styles(data: bytes | None) -> list[bool]:
    """For each cell format (BrtXF), whether its number format shows a percentage; calamine reads
    xl/styles.bin by scanning record types for BrtBeginFmts and BrtBeginCellXFs, and so does this."""
    if data is None:
        return []
    records = _Records(data)
    percent: dict[int, bool] = {9: True, 10: True}  # the built-in 0% and 0.00%
    while True:
        kind = records.read_type()
        if kind == 0x0267:  # BrtBeginFmts
            records.fill()
            for _ in range(_u32(records.buf, 0)):
                records.skip_to(0x002C, {})  # BrtFmt: id, code
                if len(records.buf) < 2:
                    raise _Broken
                code = int.from_bytes(records.buf[0:2], "little")
                percent[code] = _is_percent_format(_wide_str(records.buf[2:]))
        elif kind == 0x0269:  # BrtBeginCellXFs
            records.fill()
            xfs: list[bool] = []
            for _ in range(_u32(records.buf, 0)):
                records.skip_to(0x002F, {})  # BrtXF: parent, number format, ...
                if len(records.buf) < 4:
                    raise _Broken
                xfs.append(percent.get(int.from_bytes(records.buf[2:4], "little"), False))
            return xfs
        records.buf = bytearray()  # calamine clears its buffer after each record type it looks at


def _relationships(data: bytes | None) -> dict[str, str]:
    """Id -> Target of xl/_rels/workbook.bin.rels, where both read it alike (else corrupt)."""
    if data is None:
        return {}
    if _DTD.search(data) or _PREFIXED.search(data) or b"&" in data:
        raise _Broken  # calamine neither expands entities nor matches a prefixed name: we would differ
    found: dict[str, str] = {}
    for _, elem in ET.iterparse(io.BytesIO(data)):
        if elem.tag.rsplit("}", 1)[-1] == "Relationship":
            rid, target = elem.get("Id"), elem.get("Target")
            if rid is not None and target is not None:
                if not (_PLAIN.fullmatch(rid) and _PLAIN.fullmatch(target)) or len(found) > MAX_PARTS:
                    raise _Broken
                found[rid] = target
        elem.clear()
    return found


def _workbook(data: bytes, rels: dict[str, str]) -> list[tuple[str, int, str]]:
    """(name, hsState, part) of each sheet calamine will list, read as it reads xl/workbook.bin."""
    records = _Records(data)
    sheets: list[tuple[str, int, str]] = []
    while True:
        kind = records.read_type()
        if kind == 0x0099:  # BrtWbProp: calamine reads its first byte (date 1904)
            if records.fill() < 1:
                raise _Broken
        elif kind == 0x009C:  # BrtBundleSh: hsState, iTabID, strRelID, strName
            size = records.fill()
            buf = records.buf
            if size < 12:
                raise _Broken
            rel_len = _u32(buf, 8)
            if rel_len != 0xFFFFFFFF:  # a sheet without a part: calamine skips it
                end = 12 + 2 * rel_len
                if end > size:
                    raise _Broken
                target = rels.get(bytes(buf[12:end]).decode("utf-16-le", "replace"))
                state = _u32(buf, 0)
                if target is None or state > 2:
                    raise _Broken
                path = f"xl/{target}"
                if path.split("/")[1] not in _SHEET_KINDS:
                    raise _Broken
                sheets.append((_wide_str(buf[end:size]), state, path))
                if len(sheets) > MAX_PARTS:
                    raise _Broken
        elif kind == 0x0090:  # BrtEndBundleShs
            break
        records.buf = bytearray()
    while True:  # then names, until a record calamine knows comes after them
        kind = records.read_type()
        if kind in (_NAME, _EXTERN_SHEET):
            raise _Names
        if kind in _AFTER_NAMES:
            return sheets


def _scan_sheet(
    file_name: str, data: bytes, sheets: list[SheetScan], strings: list[int], percent_xfs: list[bool]
) -> int:
    """Fill sheets[-1] from its part, read as calamine's cells reader reads it; returns the bytes of
    shared-string text its cells copy. The size limits are checked as cells are found, so the sets
    stay as small as the cells allowed."""
    sheet = sheets[-1]
    records = _Records(data)
    col_infos: list[bytes] = []
    records.skip_to(0x0094, {}, col_infos)  # BrtWsDim
    first_row, last_row, first_col, last_col = (_u32(records.buf, at) for at in (0, 4, 8, 12))
    if not (first_row <= last_row < _MAX_ROW and first_col <= last_col < 16384):
        raise _Broken  # calamine computes the dimension's size from these: it must be a range of the grid
    # BrtBeginSheetData, skipping the views, AutoFilter and column blocks
    records.skip_to(0x0091, {0x0085: 0x0086, 0x0025: 0x0026, 0x0186: 0x0187}, col_infos)
    for info in col_infos:
        if len(info) >= 18 and info[16] & 0x01:  # BrtColInfo: colFirst, colLast, width, format, fHidden
            first, last = _u32(info, 0), _u32(info, 4)
            sheet.hidden_cols.update(range(first, min(last, MAX_COLUMNS) + 1))
    row = text = 0
    while True:  # to BrtEndSheetData; the end of the part first is calamine's error: corrupt
        kind = records.read_type()
        records.buf = bytearray()  # the cells reader clears its buffer before each record
        size = records.fill()
        body = records.buf
        if kind == _ROW_HDR:
            row = _u32(body, 0)
            if row > _MAX_ROW:
                break  # calamine stops here: nothing after is read
            if size >= 12 and body[11] & 0x10:  # fDyZero
                sheet.hidden_rows.add(row)
            continue
        if kind == _END_SHEET_DATA:
            break
        if kind == _FMLA_ERROR:  # a formula calamine does not read as a value: refused all the same
            if len(sheet.formulas) < MAX_LISTED:
                sheet.formulas.append(f"{column_letter(_u32(body, 0))}{row + 1}")
            continue
        need = _CELL_SIZE.get(kind)
        if need is None:
            continue  # a blank (formatting only) or another record: calamine skips it
        if size < need:
            raise _Broken
        col = _u32(body, 0)
        if kind == 0x03 and body[8] not in _ERRORS:
            raise _Broken
        if kind in (0x06, 0x08):
            text += len(_wide_str(body[8:]).encode())
        elif kind == 0x07:
            index = _u32(body, 8)
            if index >= len(strings):
                raise _Broken  # calamine indexes its table without checking: a panic
            text += strings[index]
        sheet.cells += 1
        sheet.height = max(sheet.height, row + 1)
        sheet.width = max(sheet.width, col + 1)
        if sheet.width > MAX_COLUMNS or sheet.height * sheet.width > MAX_XLSX_CELLS or sheet.cells > MAX_XLSX_CELLS:
            check_size(file_name, sheets)  # raises: too many rows, columns or cells
        sheet.has_values = True
        sheet.value_rows.add(row)
        sheet.value_cols.add(col)
        if kind in _FORMULAS and len(sheet.formulas) < MAX_LISTED:
            sheet.formulas.append(f"{column_letter(col)}{row + 1}")
        elif kind in (0x02, 0x05) and percent_xfs:
            xf = _u32(body, 4) & 0xFFFFFF
            if xf < len(percent_xfs) and percent_xfs[xf]:
                sheet.percent_cells.add((row, col))
    return text
