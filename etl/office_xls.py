"""The .xls side of etl/office.py: the OLE2 compound file walked by hand, and the BIFF8 records of
every sheet scanned, before calamine (which builds every sheet when it opens the workbook) reads it.

Only what the checks need is decoded: BOUNDSHEET (name, position, visibility, type), FILEPASS
(a password), SST (the length of each shared string), XF and FORMAT (which cells show a
percentage), and in each sheet the cell records (position, and whether a value or a FORMULA), ROW
(fDyZero: hidden) and COLINFO (fHidden). Every offset and chain is bounded: a loop or an index out of
range is "corrupt", never an endless walk.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np

from etl.errors import FileRejected, column_letter
from etl.office import ENCRYPTED, MACRO_SHEET, SheetScan, check_size, corrupt, not_read
from etl.xlsx_guard import MAX_XLSX_TEXT, _is_percent_format, too_much_text
from etl.xlsx_sheet import MAX_COLUMNS, MAX_LISTED

_END, _FREE = 0xFFFFFFFE, 0xFFFFFFFF
MAX_SHEETS = 10_000  # as for an xlsx (xlsx_guard.MAX_PARTS)


class _Broken(Exception):
    """The container or a record does not parse: the file is a corrupt xls."""


@dataclass(frozen=True)
class _Entry:
    name: str
    kind: int  # 1 storage, 2 stream, 5 root
    start: int
    size: int


class _Cfb:
    """An OLE2 compound file: the directory, and any stream read whole (bounded by the file's size)."""

    def __init__(self, data: bytes) -> None:
        if len(data) < 512 or data[:8] != bytes.fromhex("d0cf11e0a1b11ae1"):
            raise _Broken
        self.data = data
        shift, mini_shift = struct.unpack_from("<HH", data, 30)
        if shift not in (9, 12) or mini_shift != 6:
            raise _Broken
        self.size = 1 << shift
        self.count = (len(data) - 512) // self.size + 1  # sectors the file can hold (the last maybe partial)
        n_fat, dir_start = struct.unpack_from("<II", data, 44)
        self.cutoff, mini_fat_start, n_mini_fat, difat_start, _ = struct.unpack_from("<IIIII", data, 56)
        difat = list(struct.unpack_from("<109I", data, 76))
        sector, seen = difat_start, 0
        while sector not in (_END, _FREE) and seen <= self.count:  # DIFAT sectors: 127 entries and a next
            block = self._sector(sector)
            entries = struct.unpack_from(f"<{self.size // 4}I", block)
            difat += entries[:-1]
            sector, seen = entries[-1], seen + 1
        if seen > self.count or n_fat > self.count:
            raise _Broken
        fat_sectors = [s for s in difat[:n_fat] if s not in (_END, _FREE)]
        self.fat = np.frombuffer(b"".join(self._sector(s) for s in fat_sectors), dtype="<u4")
        directory = self._chain_bytes(dir_start, self.fat, self.size, None)
        self.entries: list[_Entry] = []
        for off in range(0, len(directory) - 127, 128):
            name_len, kind = struct.unpack_from("<HB", directory, off + 64)
            start, size = struct.unpack_from("<IQ", directory, off + 116)
            if shift == 9:
                size &= 0xFFFFFFFF  # version 3: the high half is undefined
            name = directory[off : off + min(name_len, 64)].decode("utf-16-le", "replace").rstrip("\0")
            self.entries.append(_Entry(name, kind, start, size))
        if not self.entries or self.entries[0].kind != 5:
            raise _Broken
        self.mini_fat_start, self.n_mini_fat = mini_fat_start, n_mini_fat

    def _sector(self, index: int) -> bytes:
        if index >= self.count:
            raise _Broken
        at = 512 + index * self.size
        return self.data[at : at + self.size].ljust(self.size, b"\0")

    def _chain_bytes(
        self, start: int, fat: np.ndarray, size: int, length: int | None, src: bytes | None = None
    ) -> bytes:
        """The sectors of a chain, in order; a loop or an index out of range is corrupt."""
        parts: list[bytes] = []
        sector = start
        limit = len(fat)
        while sector != _END:
            if sector >= limit or len(parts) > limit:
                raise _Broken
            if src is None:
                parts.append(self._sector(sector))
            else:
                parts.append(src[sector * size : (sector + 1) * size])
            if length is not None and len(parts) * size >= length:
                break
            sector = int(fat[sector])
        body = b"".join(parts)
        if length is not None and len(body) < length:
            raise _Broken
        return body if length is None else body[:length]

    def names(self) -> set[str]:
        return {e.name.lower() for e in self.entries[1:] if e.kind in (1, 2)}

    def stream(self, name: str) -> bytes | None:
        found = [e for e in self.entries[1:] if e.kind == 2 and e.name.lower() == name.lower()]
        if len(found) > 1:
            raise _Broken  # which one another reader takes is undefined
        if not found:
            return None
        entry = found[0]
        if entry.size > len(self.data):
            raise _Broken
        if entry.size >= self.cutoff:
            return self._chain_bytes(entry.start, self.fat, self.size, entry.size)
        root = self.entries[0]
        mini_fat = np.frombuffer(self._chain_bytes(self.mini_fat_start, self.fat, self.size, None), dtype="<u4")
        mini = self._chain_bytes(root.start, self.fat, self.size, min(root.size, len(self.data)))
        return self._chain_bytes(entry.start, mini_fat, 64, entry.size, mini)


def ole_kind(file_name: str, data: bytes) -> str:
    """What an OLE2 file holds: "xls", "encrypted" (an OOXML or xls with a password), or another kind."""
    try:
        names = _Cfb(data).names()
    except (_Broken, struct.error, IndexError, ValueError):
        return "xls"  # its magic says OLE2: read as xls, and found corrupt there
    if "encryptedpackage" in names or "encryptioninfo" in names:
        return "encrypted"
    if "workbook" in names or "book" in names:
        return "xls"
    if "worddocument" in names:
        return "doc"
    if "powerpoint document" in names:
        return "ppt"
    return "ole"


# ---------------------------------------------------------------- BIFF

_BOF, _EOF, _BOUNDSHEET, _FILEPASS, _SST, _CONTINUE = 0x0809, 0x000A, 0x0085, 0x002F, 0x00FC, 0x003C
_XF, _FORMAT, _ROW, _COLINFO, _DIMENSIONS = 0x00E0, 0x041E, 0x0208, 0x007D, 0x0200
_FORMULA, _LABELSST, _MULRK = 0x0006, 0x00FD, 0x00BD
_VALUES = {0x0203, 0x027E, _LABELSST, 0x0204, 0x00D6, 0x0205, _FORMULA}  # NUMBER RK LABELSST LABEL RSTRING BOOLERR
_OLD_BOF = (0x0009, 0x0209, 0x0409)  # BIFF2-4: calamine reads BIFF5 and BIFF8 only


def _records(stream: bytes, start: int):
    """(type, body, offset) from `start` to the end of the stream or the next EOF."""
    at, end = start, len(stream)
    while at + 4 <= end:
        kind, length = struct.unpack_from("<HH", stream, at)
        body = stream[at + 4 : at + 4 + length]
        if len(body) < length:
            raise _Broken
        yield kind, body, at
        at += 4 + length
        if kind == _EOF:
            return


def _sst_lengths(bodies: list[bytes]) -> list[int]:
    """Bytes (UTF-8, an upper bound of Python's str) of each shared string: SST and its CONTINUEs."""
    lengths: list[int] = []
    part, at = 0, 8  # cstTotal, cstUnique
    count = struct.unpack_from("<I", bodies[0], 4)[0]
    while len(lengths) < count:
        if at >= len(bodies[part]):
            part, at = part + 1, 0
            if part >= len(bodies):
                raise _Broken
            continue
        body = bodies[part]
        cch, flags = struct.unpack_from("<HB", body, at)
        at += 3
        runs = ext = 0
        if flags & 0x08:
            runs = struct.unpack_from("<H", body, at)[0]
            at += 2
        if flags & 0x04:
            ext = struct.unpack_from("<I", body, at)[0]
            at += 4
        wide, left = flags & 0x01, cch
        while left:  # the characters may continue in the next record, which restates the width
            room = (len(body) - at) >> wide
            take = min(room, left)
            left -= take
            at += take << wide
            if left:
                part += 1
                if part >= len(bodies) or not bodies[part]:
                    raise _Broken
                body, wide, at = bodies[part], bodies[part][0] & 0x01, 1
        lengths.append(cch * 3)
        skip = runs * 4 + ext
        while skip:
            room = len(body) - at
            take = min(room, skip)
            skip -= take
            at += take
            if skip:
                part += 1
                if part >= len(bodies):
                    raise _Broken
                body, at = bodies[part], 0
    return lengths


def scan_xls(file_name: str, data: bytes) -> list[SheetScan]:
    """Every sheet of the workbook, scanned; FileRejected for a password, macros, an old BIFF."""
    try:
        return _scan(file_name, data)
    except (_Broken, struct.error, IndexError, ValueError, UnicodeDecodeError, StopIteration):
        raise FileRejected.whole(file_name, *corrupt("xls")) from None


def _scan(file_name: str, data: bytes) -> list[SheetScan]:
    cfb = _Cfb(data)
    names = cfb.names()
    if "_vba_project_cur" in names or "_vba_project" in names:
        raise FileRejected.whole(file_name, *MACRO_SHEET)
    stream = cfb.stream("Workbook")
    if stream is None:
        stream = cfb.stream("Book")
    if stream is None or len(stream) < 8:
        raise _Broken
    kind, body, _ = next(_records(stream, 0))
    if kind in _OLD_BOF or (kind == _BOF and struct.unpack_from("<H", body, 0)[0] < 0x0600):
        raise not_read(file_name, "biff_old")  # Excel 95 or older: not scanned, so not read
    if kind != _BOF:
        raise _Broken
    bound: list[tuple[int, int, int, str]] = []  # position, state, type, name
    sst: list[bytes] = []
    formats: dict[int, bool] = {9: True, 10: True}
    xf_percent: list[bool] = []
    in_sst = False
    for kind, body, _ in _records(stream, 0):
        if kind == _FILEPASS:
            raise FileRejected.whole(file_name, *ENCRYPTED)
        if kind == _BOUNDSHEET:
            pos, state, sheet_type, cch, wide = struct.unpack_from("<IBBBB", body, 0)
            raw = body[8 : 8 + cch * (2 if wide & 1 else 1)]
            bound.append((pos, state & 0x03, sheet_type, raw.decode("utf-16-le" if wide & 1 else "latin-1")))
        elif kind == _SST:
            sst, in_sst = [body], True
            continue
        elif kind == _CONTINUE and in_sst:
            sst.append(body)
            continue
        elif kind == _FORMAT:
            ifmt, cch, wide = struct.unpack_from("<HHB", body, 0)
            code = body[5 : 5 + cch * (2 if wide & 1 else 1)].decode("utf-16-le" if wide & 1 else "latin-1")
            formats[ifmt] = _is_percent_format(code)
        elif kind == _XF:
            xf_percent.append(formats.get(struct.unpack_from("<H", body, 2)[0], False))
        in_sst = False
    if not bound:
        raise _Broken
    lengths = _sst_lengths(sst) if sst else []
    text = scanned = 0
    sheets: list[SheetScan] = []
    if len(bound) > MAX_SHEETS or len({pos for pos, _, _, _ in bound}) != len(bound):
        raise _Broken  # two sheets at one position: no writer does that
    for index, (pos, state, sheet_type, name) in enumerate(bound):
        if sheet_type in (1, 6):  # an Excel 4.0 macro sheet, a VB module
            raise FileRejected.whole(file_name, *MACRO_SHEET)
        sheet = SheetScan(name, hidden=state != 0)
        sheets.append(sheet)
        if sheet_type != 0:
            continue  # a chart sheet: no cells
        text += _scan_sheet(stream, pos, sheet, lengths, xf_percent if index == 0 else [])
        scanned += sheet.scanned
        if scanned > len(stream):
            raise _Broken  # substreams that overlap: each byte would be scanned once per sheet
        check_size(file_name, sheets)
        if text > MAX_XLSX_TEXT:
            raise too_much_text(file_name, text)
    return sheets


def _scan_sheet(stream: bytes, pos: int, sheet: SheetScan, lengths: list[int], xf_percent: list[bool]) -> int:
    """Fill `sheet` from the records of its substream; returns the shared-string bytes its cells copy."""
    records = _records(stream, pos)
    kind, _, _ = next(records)
    if kind != _BOF:
        raise _Broken
    text = 0
    cells = 0
    end = len(stream)
    for kind, body, at in records:
        if kind == _EOF:
            end = at + 4
        elif kind == _DIMENSIONS:
            # calamine reserves (last row - first row) x (last column - first column) cells from this
            # record before reading any cell: a first row past the last asks for terabytes
            first_row, last_row, first_col, last_col = struct.unpack_from("<IIHH", body, 0)
            if not (first_row <= last_row <= 65536 and first_col <= last_col <= 256):
                raise _Broken
            sheet.height, sheet.width = max(sheet.height, last_row), max(sheet.width, last_col)
        elif kind == _ROW:
            row, flags = struct.unpack_from("<H", body, 0)[0], struct.unpack_from("<H", body, 12)[0]
            if flags & 0x0020:
                sheet.hidden_rows.add(row)
        elif kind == _COLINFO:
            first, last, _, _, flags = struct.unpack_from("<HHHHH", body, 0)
            if flags & 0x0001:
                sheet.hidden_cols.update(range(first, min(last, MAX_COLUMNS) + 1))
        elif kind in _VALUES or kind == _MULRK:  # BLANK and MULBLANK (formatting only): calamine skips them
            row, col = struct.unpack_from("<HH", body, 0)
            span = 1
            if kind == _MULRK:
                span = (len(body) - 6) // 6
                if span < 1:
                    raise _Broken
            cells += span
            sheet.height = max(sheet.height, row + 1)
            sheet.width = max(sheet.width, col + span)
            sheet.has_values = True
            sheet.value_rows.add(row)
            sheet.value_cols.update(range(col, col + span))
            if kind == _FORMULA and len(sheet.formulas) < MAX_LISTED:
                sheet.formulas.append(f"{column_letter(col)}{row + 1}")
            elif kind == _LABELSST:
                index = struct.unpack_from("<I", body, 6)[0]
                text += lengths[index] if index < len(lengths) else 0
            if xf_percent:
                if kind == _MULRK:
                    for i in range(span):
                        xf = struct.unpack_from("<H", body, 4 + 6 * i)[0]
                        if xf < len(xf_percent) and xf_percent[xf]:
                            sheet.percent_cells.add((row, col + i))
                elif kind in (0x0203, 0x027E):  # NUMBER, RK
                    xf = struct.unpack_from("<H", body, 4)[0]
                    if xf < len(xf_percent) and xf_percent[xf]:
                        sheet.percent_cells.add((row, col))
    sheet.cells = cells
    sheet.scanned = end - pos
    return text
