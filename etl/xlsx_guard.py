"""Inspect an xlsx package before calamine reads any of it: refuse what could crash the process or
load figures the user cannot see, and find the %-formatted cells calamine reports as bare fractions.

calamine trusts the file. It allocates the whole rectangle from A1 to the farthest cell (one cell at
XFD1048576 asks for 17 billion cells and aborts the process), copies a shared string into every cell
that refers to it, returns formulas' cached values and hidden rows as data, and gives no number
formats. So every part is found the way Excel finds it, through the package relationships
(_rels/.rels -> the workbook -> its sheets, shared strings and styles), wherever it is stored, and
checked here; any other part holding sheet XML gets the checks that keep the process alive too.

Where calamine looks for a part by a fixed name (xl/workbook.xml, xl/sharedStrings.xml) or resolves a
sheet target in its own way, a package whose relationships say otherwise is refused: both must read
the same bytes, or a check here would inspect one part while calamine loads another.
"""

from __future__ import annotations

import io
import posixpath
import re
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np

from etl.errors import FileRejected, Problem
from etl.xlsx_sheet import (
    MAX_LISTED,
    VALUE,
    check_extent,
    formula_problems,
    formula_refs,
    hidden_problems,
    percent_cells,
    sheet_data,
)

# An xlsx is a zip: refuse archives that would inflate far beyond any real report (zip bombs).
# A 100,000-row report is 23 MB of sheet XML; every part is read whole, one at a time.
MAX_XLSX_UNCOMPRESSED = 100 * 1024 * 1024
MAX_XLSX_RATIO = 200
# Bytes of shared-string text the first sheet would copy into its cells (calamine clones the string
# for every cell that refers to it: one 32,767-character string in 1,000,000 cells is 32 GB).
MAX_XLSX_TEXT = 64 * 1024 * 1024

CORRUPT = ("文件已损坏或不是有效的 xlsx 文件", "the file is corrupt or not a valid xlsx")
NONSTANDARD = (
    "xlsx 文件内部结构不标准，请用 Excel 或 WPS 打开后“另存为” .xlsx 工作簿再上传",
    "the xlsx package is laid out in a non-standard way; open it in Excel or WPS and save it as .xlsx",
)
MACRO = (
    "文件含有宏，请在 Excel 中“另存为”不含宏的 .xlsx 工作簿（Excel 工作簿）后重新上传",
    "the workbook contains macros; save it as a macro-free .xlsx workbook and upload that",
)
EXTERNAL = (
    "工作簿含有外部链接（引用了其他文件的数据），请在 Excel 中“数据—编辑链接—断开链接”后重新上传",
    "the workbook links to other files; break the links (Data > Edit Links > Break Link) and upload again",
)

_MAIN_WORKBOOK = "xl/workbook.xml"  # the only workbook part calamine reads
_SHARED_STRINGS = "xl/sharedStrings.xml"  # calamine reads this name, whatever the relationships say
_MACRO_SUFFIXES = (".xlsm", ".xltm", ".xlam")
_DTD = re.compile(rb"<!(?:doctype|entity)", re.IGNORECASE)
MAX_PARTS = 10_000  # sheets, and relationships of one part
MAX_STYLES = 65_536  # cell formats and number formats: Excel's own limit is 64,000
_SHARED_CELL = re.compile(rb'<(?:[\w.-]+:)?c\s[^>]*?\st\s*=\s*["\']s["\'][^>]*>\s*<(?:[\w.-]+:)?v>\s*([0-9]{1,10})')
_SI = re.compile(rb"<(?:[\w.-]+:)?si[\s>/]")


@dataclass(frozen=True)
class Rel:
    rid: str
    kind: str  # the last segment of the relationship type: "worksheet", "sharedStrings", ...
    target: str  # the part name inside the zip (OPC-resolved), or the raw target of an external one
    raw: str  # Target as written
    external: bool


@dataclass
class XlsxFacts:
    """What read.py needs besides calamine's values."""

    first_sheet: str  # the name of the sheet that is loaded (calamine must agree)
    percent_cells: set[tuple[int, int]] = field(default_factory=set)  # (row, column), 0-based


def _reject(file_name: str, message: tuple[str, str]) -> FileRejected:
    return FileRejected.whole(file_name, *message)


# ---------------------------------------------------------------- the package


class _Package:
    """The zip, its parts looked up case-insensitively (as Excel and calamine do), each read whole."""

    def __init__(self, file_name: str, zf: zipfile.ZipFile) -> None:
        self.file_name = file_name
        self.zf = zf
        self.parts: dict[str, zipfile.ZipInfo] = {}
        for info in zf.infolist():
            key = info.filename.lower()
            if key in self.parts:  # two entries for one name: which one a reader takes is undefined
                raise _reject(file_name, CORRUPT)
            self.parts[key] = info
        self.read_names: set[str] = set()

    def has(self, name: str) -> bool:
        return name.lower() in self.parts

    def read(self, name: str) -> bytes:
        info = self.parts.get(name.lower())
        if info is None:
            raise _reject(self.file_name, CORRUPT)
        self.read_names.add(name.lower())
        # never read(-1): zipfile then inflates the whole stream in one call however small the size
        # the archive declares (a bomb that lies about its size); read(n) inflates at most n bytes
        with self.zf.open(info) as fh:
            return fh.read(info.file_size)

    def elements(self, name: str) -> Iterator[tuple[str, dict[str, str], str]]:
        """(tag, attributes, parent tag) of every element of a small XML part, local names, streamed:
        each element is dropped once it ends, so a part of millions of empty elements (within the
        inflated-size limit) costs no more memory than its depth."""
        data = self.read(name)
        if _DTD.search(data):
            raise _reject(self.file_name, CORRUPT)  # no OOXML part declares a DTD (entity expansion)
        stack: list[ET.Element] = []
        try:
            for event, elem in ET.iterparse(io.BytesIO(data), events=("start", "end")):
                if event == "start":
                    yield _local(elem.tag), dict(elem.attrib), _local(stack[-1].tag) if stack else ""
                    stack.append(elem)
                    continue
                stack.pop()
                elem.clear()
                if stack:
                    del stack[-1][-1]  # the element that just ended is its parent's last child
        except ET.ParseError:
            raise _reject(self.file_name, CORRUPT) from None

    def rels(self, source: str) -> list[Rel]:
        """The relationships of `source` ("" for the package itself), targets resolved per OPC."""
        folder, base = posixpath.split(source)
        rels_name = posixpath.join(folder, "_rels", base + ".rels")
        if not self.has(rels_name):
            return []
        found = []
        for tag, node, _ in self.elements(rels_name):
            if tag != "Relationship":
                continue
            raw, rid = node.get("Target", ""), node.get("Id", "")
            kind = node.get("Type", "").rstrip("/").rsplit("/", 1)[-1]
            if node.get("TargetMode", "").lower() == "external":
                found.append(Rel(rid, kind, raw, raw, True))
                continue
            path = raw[1:] if raw.startswith("/") else posixpath.normpath(posixpath.join(folder, raw))
            if path.startswith("../") or path in ("..", ".", ""):
                raise _reject(self.file_name, CORRUPT)  # points outside the package
            found.append(Rel(rid, kind, path, raw, False))
            if len(found) > MAX_PARTS:
                raise _reject(self.file_name, CORRUPT)
        return found


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _calamine_sheet_path(raw_target: str) -> str:
    """Where calamine looks for a sheet: "/x/y.xml" -> "x/y.xml", anything else under "xl/" as written."""
    return raw_target[1:] if raw_target.startswith("/") else "xl/" + raw_target


# ---------------------------------------------------------------- styles: which cells show a percentage


def _is_percent_format(code: str) -> bool:
    """A format whose first section (the one for positive numbers) holds an unquoted, unescaped %:
    Excel shows 0.85 as 85%. "0\\%" or '0"%"' show the digits unscaled, so they are not percent."""
    section = []
    quoted = escaped = bracket = False
    for ch in code:
        if escaped:
            escaped = False
        elif quoted:
            quoted = ch != '"'
        elif bracket:
            bracket = ch != "]"
        elif ch == '"':
            quoted = True
        elif ch == "\\":
            escaped = True
        elif ch == "[":
            bracket = True
        elif ch == ";":
            break
        else:
            section.append(ch)
    return "%" in section


def _percent_styles(pkg: _Package, styles: str | None) -> set[int]:
    """Indexes into cellXfs whose number format is a percentage (built-in 9 and 10, or custom)."""
    if styles is None or not pkg.has(styles):
        return set()
    percent_ids = {"9", "10"}
    custom = 0
    found: set[int] = set()
    xf_index = 0
    for tag, attrib, parent in pkg.elements(styles):
        if tag == "numFmt" and parent == "numFmts":
            custom += 1
            fmt_id = (attrib.get("numFmtId") or "").strip()
            if _is_percent_format(attrib.get("formatCode", "")):
                percent_ids.add(fmt_id)
            else:
                percent_ids.discard(fmt_id)  # a custom format may redefine a built-in id
        elif tag == "xf" and parent == "cellXfs":
            if (attrib.get("numFmtId") or "0").strip() in percent_ids:
                found.add(xf_index)
            xf_index += 1
        if custom > MAX_STYLES or xf_index > MAX_STYLES:
            raise _reject(pkg.file_name, CORRUPT)
    return found


def percent_text(value: float | int) -> str:
    """0.85 -> "85%" in decimal arithmetic (0.85 * 100 is 85.00000000000001 in binary floating point)."""
    scaled = (Decimal(repr(value)) * 100).normalize()
    return f"{scaled:f}%"


# ---------------------------------------------------------------- shared strings


def _check_shared_text(pkg: _Package, xml: bytes, cell_tags: int) -> None:
    """Refuse a first sheet whose shared-string cells would copy more than MAX_XLSX_TEXT bytes."""
    if not pkg.has(_SHARED_STRINGS):
        return
    sst = pkg.read(_SHARED_STRINGS)
    starts = np.fromiter((m.start() for m in _SI.finditer(sst)), dtype=np.int64)
    if starts.size == 0:
        return
    # the raw XML of an <si> is at least as long as its text in UTF-8 (and Python's str of it)
    lengths = np.diff(np.append(starts, len(sst)))
    if int(lengths.max()) * cell_tags <= MAX_XLSX_TEXT:
        return
    refs = np.fromiter((int(m.group(1)) for m in _SHARED_CELL.finditer(xml)), dtype=np.int64)
    refs = refs[refs < lengths.size]
    total = int(lengths[refs].sum())
    if total > MAX_XLSX_TEXT:
        raise too_much_text(pkg.file_name, total)


def too_much_text(file_name: str, total: int) -> FileRejected:
    """The refusal of a workbook whose cells would copy more than MAX_XLSX_TEXT bytes of text (every
    format: a short shared string repeated in a million cells is a few bytes in the file)."""
    return FileRejected.whole(
        file_name,
        f"单元格文字总量过大（约 {total / 1048576:.0f} MB），请删除多余的内容后再上传",
        f"the cells hold too much text (about {total / 1048576:.0f} MB); delete the unused content",
    )


# ---------------------------------------------------------------- the whole check


def _check_container(file_name: str, pkg: _Package) -> None:
    infos = list(pkg.parts.values())
    total = sum(i.file_size for i in infos)
    packed = max(1, sum(i.compress_size for i in infos))
    if total > MAX_XLSX_UNCOMPRESSED or total / packed > MAX_XLSX_RATIO:
        raise FileRejected.whole(
            file_name,
            f"xlsx 解压后体积异常（{total / 1048576:.0f} MB，压缩比 {total / packed:.0f}:1），拒绝处理",
            f"xlsx inflates abnormally ({total / 1048576:.0f} MB, ratio {total / packed:.0f}:1); refused",
        )
    names = list(pkg.parts)
    if any("vbaproject" in n or "/macrosheets/" in f"/{n}" for n in names):
        raise _reject(file_name, MACRO)
    if any("externallink" in n for n in names):
        raise _reject(file_name, EXTERNAL)
    if not pkg.has("[Content_Types].xml"):
        raise _reject(file_name, CORRUPT)
    types = pkg.read("[Content_Types].xml").lower()
    if b"macroenabled" in types or b"vbaproject" in types or b"macrosheet" in types:
        raise _reject(file_name, MACRO)
    if b"externallink" in types:
        raise _reject(file_name, EXTERNAL)


def inspect_xlsx(file_name: str, zf: zipfile.ZipFile) -> XlsxFacts:
    """Check the package; raise FileRejected for anything calamine must not read. May raise zipfile,
    zlib or OSError exceptions for a broken archive (read.py turns those into "corrupt")."""
    if file_name.lower().endswith(_MACRO_SUFFIXES):
        raise _reject(file_name, MACRO)
    pkg = _Package(file_name, zf)
    _check_container(file_name, pkg)

    office = [r for r in pkg.rels("") if r.kind == "officeDocument" and not r.external]
    if len(office) != 1 or not pkg.has(office[0].target):
        raise _reject(file_name, CORRUPT)
    workbook = office[0].target
    if workbook.lower() != _MAIN_WORKBOOK:
        raise _reject(file_name, NONSTANDARD)
    rels = pkg.rels(workbook)
    sheet_nodes = []
    for tag, node, parent in pkg.elements(workbook):
        if tag == "externalReferences":
            raise _reject(file_name, EXTERNAL)
        if tag == "sheet" and parent == "sheets":
            sheet_nodes.append(node)
            if len(sheet_nodes) > MAX_PARTS:
                raise _reject(file_name, CORRUPT)
    kinds = {r.kind.lower() for r in rels}
    if kinds & {"externallink", "externallinkpath"}:
        raise _reject(file_name, EXTERNAL)
    if any("vba" in k or "macrosheet" in k for k in kinds):
        raise _reject(file_name, MACRO)
    for r in rels:
        if r.kind == "sharedStrings" and (r.external or r.target.lower() != _SHARED_STRINGS.lower()):
            raise _reject(file_name, NONSTANDARD)
    styles = next((r.target for r in rels if r.kind == "styles" and not r.external), None)
    by_id = {r.rid: r for r in rels}
    sheets = []
    for node in sheet_nodes:
        rid = next((v for k, v in node.items() if k.endswith("}id")), None)
        rel = by_id.get(rid or "")
        if rel is None or rel.external:
            raise _reject(file_name, CORRUPT)
        if _calamine_sheet_path(rel.raw).lower() != rel.target.lower():
            raise _reject(file_name, NONSTANDARD)
        if not pkg.has(rel.target):
            raise _reject(file_name, CORRUPT)
        sheets.append((node.get("name", ""), (node.get("state") or "visible").strip(), rel))
    if not sheets:
        raise _reject(file_name, CORRUPT)

    problems: list[Problem] = []
    formulas: list[Problem] = []
    facts = XlsxFacts(first_sheet=sheets[0][0])
    percent_styles = _percent_styles(pkg, styles)
    checked: set[str] = set()
    for index, (name, state, rel) in enumerate(sheets):
        key = rel.target.lower()
        xml = pkg.read(rel.target)
        if b"sheetData" not in xml:
            if rel.kind == "worksheet":  # e.g. a relationship pointing back at the workbook
                raise _reject(file_name, CORRUPT)
            continue  # a chart sheet: no cells
        first = index == 0
        if key not in checked:
            canonical, cell_tags = check_extent(file_name, xml)
            formulas += formula_problems(file_name, formula_refs(xml), name, first)
        checked.add(key)
        if state.lower() in ("hidden", "veryhidden") and VALUE.search(xml, *sheet_data(xml)):
            problems.append(
                Problem.file(
                    file_name,
                    f"工作表“{name}”被隐藏，请取消隐藏或删除后重新上传",
                    f"sheet {name!r} is hidden; unhide or delete it and upload again",
                )
            )
        problems += hidden_problems(file_name, xml, name, first)
        if first:
            _check_shared_text(pkg, xml, cell_tags)
            facts.percent_cells = percent_cells(xml, canonical, percent_styles)
        del xml
    # any other part holding sheet XML: whatever a reader might make of it must not crash the process
    for key, info in pkg.parts.items():
        if key in checked or key in pkg.read_names or key.endswith(".rels"):
            continue
        xml = pkg.read(info.filename)
        if b"sheetData" in xml:
            check_extent(file_name, xml)
            formulas += formula_problems(file_name, formula_refs(xml), info.filename, False)
        del xml
    if formulas or problems:
        raise FileRejected(formulas[:MAX_LISTED] + problems)
    return facts
