"""Scan the XML of one worksheet without building it: how far its cells reach, which hold formulas,
which sit in hidden rows or columns, which carry a given style. Regex over bytes for the usual layout
(every <c> and <row> with its r= reference); a Python walk that replays calamine's placement rules
for anything else, and for the rare sheet with hidden rows or columns.
"""

from __future__ import annotations

import heapq
import re
import zipfile
from collections.abc import Iterator

from etl.errors import FileRejected, Problem, column_letter

MAX_COLUMNS = 200
# Cells calamine would allocate (A1 to the farthest cell), and cell tags it would collect before
# placing them: 1,000,000 is 200,000 rows of 5 columns, 40 times a large bureau report. The worst
# such file (every cell 45 characters of text, at the 100 MB inflated limit) peaks near 0.6 GB RSS
# through load_bytes; tests/test_hostile_xlsx.py keeps it under 1 GB.
MAX_XLSX_CELLS = 1_000_000
MAX_LISTED = 20  # problems of one kind listed before the rest are left out

FORMULA = (
    "单元格含有公式，请改为直接填写数值（复制后“选择性粘贴—数值”）",
    "cell holds a formula; enter the value itself (paste as values)",
)
HIDDEN_ROW = ("此行被隐藏，请取消隐藏或删除后重新上传", "this row is hidden; unhide or delete it and upload again")
HIDDEN_COLUMN = (
    "此列被隐藏，请取消隐藏或删除后重新上传",
    "this column is hidden; unhide or delete it and upload again",
)


def too_many_columns(file_name: str, width: int) -> FileRejected:
    zh, en = f"列数过多（{width} 列），请使用模板", f"too many columns ({width}); use the template"
    return FileRejected.whole(file_name, zh, en)


# Sheet XML as Excel, WPS, LibreOffice, openpyxl and xlsxwriter write it: every cell is <c r="B7"
# and every row <row r="7". Anything else (a cell without r= is placed after the previous one, a
# prefixed tag, r = 'b7') takes the slow path, which replays calamine's placement rules.
NOT_CANONICAL = re.compile(
    rb'<(?:[\w.-]+:(?:c|row)[\s>/]|c(?:[\t\r\n>/]| (?!r="[A-Z]{1,3}[0-9]{1,7}"))'
    rb'|row(?:[\t\r\n>/]| (?!r="[0-9]{1,7}")))'
)
_FAR_COLUMN = re.compile(rb'r="((?:[H-Z][A-Z]|G[S-Z]|[A-Z]{3,})[A-Z]*)[0-9]')  # beyond column GR (200)
_COLUMN = re.compile(rb'r="([A-Z]{1,2})[0-9]')
_TAG = re.compile(rb"<(/?)(?:[\w.-]+:)?(c|row)(?=[\s/>])([^>]*)>")
_WALK = re.compile(rb"<(/?)(?:[\w.-]+:)?(c|row|v|t)(?=[\s/>])([^>]*)>")
CELL_TAG = re.compile(rb"<(?:[\w.-]+:)?c(?=[\s/>])")
_R_ATTR = re.compile(rb'(?:^|\s)r\s*=\s*["\']([^"\']*)')
_S_ATTR = re.compile(rb'(?:^|\s)s\s*=\s*["\']\s*([0-9]+)')
_REF = re.compile(rb"\s*([A-Za-z]*)([0-9]*)\s*")
# <f> and <x:f>, each with a literal start the regex engine can skip to (one pattern with an optional
# prefix tries every "<" of a 20 MB sheet and costs ten times as much)
_FORMULA = re.compile(rb"<f[\s>/]")
_PREFIXED_FORMULA = re.compile(rb":f[\s>/]")
_PREFIX_BEFORE = re.compile(rb"<[\w.-]+\Z")
_HIDDEN = re.compile(rb'(?:^|\s)hidden\s*=\s*["\']\s*(?:1|true)\s*["\']')
_HIDDEN_ROW = re.compile(rb'<(?:[\w.-]+:)?row\s[^>]*?\shidden\s*=\s*["\']\s*(?:1|true)\s*["\']')
_COL = re.compile(rb"<(?:[\w.-]+:)?col\s([^>]*)>")
_MIN = re.compile(rb'(?:^|\s)min\s*=\s*["\']\s*([0-9]{1,6})')
_MAX = re.compile(rb'(?:^|\s)max\s*=\s*["\']\s*([0-9]{1,6})')
VALUE = re.compile(rb"<(?:[\w.-]+:)?(?:v|t)(?:\s[^>]*[^/])?>[^<]")


def column_number(letters: bytes) -> int:
    """b"A" -> 1, b"GR" -> 200 (the inverse of errors.column_letter, 1-based)."""
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
            row_at, col = int(ref.group(2)) - 1, column_number(ref.group(1)) - 1
        else:
            row_at = row
        height, width, col = max(height, row_at + 1), max(width, col + 1), col + 1
    return height, width


def _too_many_rows(file_name: str, height: int, width: int) -> FileRejected:
    return FileRejected.whole(
        file_name,
        f"行数过多（{height} 行 × {width} 列），请删除多余的行后再上传",
        f"too many rows ({height} rows x {width} columns); delete the unused rows",
    )


def check_extent(file_name: str, xml: bytes) -> tuple[bool, int]:
    """Refuse a sheet whose farthest cell would make calamine allocate more than MAX_XLSX_CELLS, or
    that holds more cell tags than that (calamine keeps each one before placing it). Regex scans
    only for the usual sheet; its width is worked out only past 5,000 rows. Returns whether the sheet
    is in the usual form, and (an upper bound of) its number of cell tags."""
    canonical = NOT_CANONICAL.search(xml) is None
    if canonical:
        tags = xml.count(b"<c")  # with <col>, <cfRule>...: exact only when it matters
        if tags > MAX_XLSX_CELLS:
            tags = xml.count(b"<c ") + xml.count(b"<c>") + xml.count(b"<c/")
    else:
        tags = sum(1 for _ in CELL_TAG.finditer(xml))
    if not canonical:
        height, width = _replayed_extent(xml)
    elif _FAR_COLUMN.search(xml):
        height, width = 0, max(column_number(m.group(1)) for m in _FAR_COLUMN.finditer(xml))
    else:
        digits = next((k for k in range(7, 3, -1) if re.search(rb'r="[A-Z]*[0-9]{%d}"' % k, xml)), 0)
        pattern = re.compile(rb'r="[A-Z]*([0-9]{%d})"' % digits)
        height = max(int(m.group(1)) for m in pattern.finditer(xml)) if digits else 0
        width = MAX_COLUMNS
        allowed = MAX_XLSX_CELLS // max(height, 1)  # columns this many rows may have
        if allowed < 26 and not re.search(rb'r="(?:[%c-Z]|[A-Z]{2})' % (65 + allowed), xml):
            width = allowed  # one scan for a cell right of the allowed columns (the usual answer: none)
        elif allowed < MAX_COLUMNS:
            width = max(map(column_number, set(_COLUMN.findall(xml))), default=1)
    if width > MAX_COLUMNS:
        raise too_many_columns(file_name, width)
    if height * width > MAX_XLSX_CELLS:
        raise _too_many_rows(file_name, height, width)
    if tags > MAX_XLSX_CELLS:
        raise FileRejected.whole(
            file_name,
            f"单元格过多（{tags} 个），请删除多余的内容后再上传",
            f"too many cells ({tags}); delete the unused content",
        )
    return canonical, tags


def formula_refs(xml: bytes) -> list[str]:
    """Cell references holding a formula (<f> or <x:f>): calamine would return the cached values."""
    found: list[str] = []
    lo, hi = sheet_data(xml)
    plain = (m.start() for m in _FORMULA.finditer(xml, lo, hi))
    prefixed = (
        m.start()
        for m in _PREFIXED_FORMULA.finditer(xml, lo, hi)
        if _PREFIX_BEFORE.search(xml, max(lo, m.start() - 64), m.start())
    )
    for start in heapq.merge(plain, prefixed):
        window = xml[max(0, start - 4096) : start]
        opens = list(CELL_TAG.finditer(window))
        ref = None
        if opens:
            tag_end = window.find(b">", opens[-1].start())
            r = _R_ATTR.search(window[opens[-1].end() : tag_end if tag_end >= 0 else None])
            ref = r.group(1).decode("ascii", "replace").strip() if r else None
        found.append(ref if ref and re.fullmatch(r"[A-Z]{1,3}[0-9]{1,7}", ref) else "?")
        if len(found) >= MAX_LISTED:
            break
    return found


def _cells(xml: bytes) -> Iterator[tuple[int, int, bytes, bool, bool]]:
    """Every cell as calamine places it: (row, column) 0-based, its attributes, whether it holds a value
    (a non-empty <v> or inline <t>), and whether the <row> it sits in is hidden. Python speed: used
    only for a sheet with hidden rows or columns, or with %-formatted cells in an unusual layout."""
    row = col = 0
    row_hidden = False
    cell: list | None = None  # the open cell: [row, column, attributes, has value, row hidden]
    lo, hi = sheet_data(xml)
    for m in _WALK.finditer(xml, lo, hi):
        closing, name, attrs = m.groups()
        if name in (b"v", b"t"):
            if not closing and cell is not None and not attrs.endswith(b"/"):
                following = xml[m.end() : m.end() + 1]
                cell[3] = cell[3] or (following != b"" and following != b"<")
            continue
        if cell is not None:  # any row or cell tag ends the open cell
            yield cell[0], cell[1], cell[2], cell[3], cell[4]
            cell = None
        r = None if closing else _R_ATTR.search(attrs)
        ref = _REF.fullmatch(r.group(1)) if r else None
        if name == b"row":
            if closing:
                row, col, row_hidden = row + 1, 0, False
                continue
            if ref and ref.group(2):
                row = int(ref.group(2)) - 1
            row_hidden = _HIDDEN.search(attrs) is not None
            if attrs.endswith(b"/"):
                row, col, row_hidden = row + 1, 0, False
            continue
        if closing:
            continue
        if ref and ref.group(1) and ref.group(2):
            row_at, col_at = int(ref.group(2)) - 1, column_number(ref.group(1)) - 1
        else:
            row_at, col_at = row, col
        col = col_at + 1
        cell = [row_at, col_at, attrs, False, row_hidden]
        if attrs.endswith(b"/"):
            yield row_at, col_at, attrs, False, row_hidden
            cell = None
    if cell is not None:
        yield cell[0], cell[1], cell[2], cell[3], cell[4]


def sheet_data(xml: bytes) -> tuple[int, int]:
    """The byte span of <sheetData>: formulas and values elsewhere (data validation lists, conditional
    formats in extLst as <xm:f>) are not cells."""
    lo = xml.find(b"sheetData")
    hi = xml.rfind(b"sheetData")
    return (lo, hi) if lo >= 0 else (0, 0)


def _hidden_columns(xml: bytes) -> list[tuple[int, int]]:
    """(first, last) 0-based column ranges of <col hidden="1">."""
    spans = []
    for m in _COL.finditer(xml):
        attrs = m.group(1)
        if _HIDDEN.search(attrs):
            lo, hi = _MIN.search(attrs), _MAX.search(attrs)
            if lo:
                first = int(lo.group(1)) - 1
                spans.append((first, int(hi.group(1)) - 1 if hi else first))
    return spans


def hidden_problems(file_name: str, xml: bytes, sheet: str, first: bool) -> list[Problem]:
    """Hidden rows and columns that hold values: the reporter would not see what is loaded."""
    if b"hidden" not in xml:
        return []
    hidden_cols = _hidden_columns(xml)
    if not hidden_cols and not _HIDDEN_ROW.search(xml):
        return []
    hidden_rows: set[int] = set()
    value_rows: set[int] = set()
    value_cols: set[int] = set()
    for row, col, _, has_value, row_hidden in _cells(xml):
        if row_hidden:
            hidden_rows.add(row)
        if has_value:
            value_rows.add(row)
            value_cols.add(col)
    rows = sorted(hidden_rows & value_rows)[:MAX_LISTED]
    cols = sorted(c for c in value_cols if any(lo <= c <= hi for lo, hi in hidden_cols))[:MAX_LISTED]
    if first:
        return [Problem(file_name, r + 1, None, None, *HIDDEN_ROW) for r in rows] + [
            Problem(file_name, None, column_letter(c), None, *HIDDEN_COLUMN) for c in cols
        ]
    return [
        Problem.file(
            file_name,
            f"工作表“{sheet}”的第{r + 1}行被隐藏，请取消隐藏或删除后重新上传",
            f"row {r + 1} of sheet {sheet!r} is hidden; unhide or delete it and upload again",
        )
        for r in rows
    ] + [
        Problem.file(
            file_name,
            f"工作表“{sheet}”的{column_letter(c)}列被隐藏，请取消隐藏或删除后重新上传",
            f"column {column_letter(c)} of sheet {sheet!r} is hidden; unhide or delete it and upload again",
        )
        for c in cols
    ]


def formula_problems(file_name: str, refs: list[str], sheet: str, first: bool) -> list[Problem]:
    problems = []
    for ref in refs:
        cell = re.fullmatch(r"([A-Z]+)(\d+)", ref)
        if not first:  # a row number would point into the loaded sheet: name the sheet and the cell
            problems.append(Problem(file_name, None, None, f"{sheet}!{ref}", *FORMULA))
        else:  # "?": a formula cell without a readable reference
            problems.append(
                Problem(
                    file_name,
                    int(cell.group(2)) if cell else None,
                    cell.group(1) if cell else None,
                    ref if cell else None,
                    *FORMULA,
                )
            )
    return problems


def percent_cells(xml: bytes, canonical: bool, styles: set[int]) -> set[tuple[int, int]]:
    if not styles:
        return set()
    cells: set[tuple[int, int]] = set()
    if canonical:
        ids = b"|".join(str(i).encode() for i in sorted(styles))
        pattern = re.compile(rb'<c r="([A-Z]{1,3})([0-9]{1,7})"[^>]*?\ss="(?:%s)"' % ids)
        for m in pattern.finditer(xml):
            cells.add((int(m.group(2)) - 1, column_number(m.group(1)) - 1))
        return cells
    for row, col, attrs, _, _ in _cells(xml):
        s = _S_ATTR.search(attrs)
        if s and int(s.group(1)) in styles:
            cells.add((row, col))
    return cells
