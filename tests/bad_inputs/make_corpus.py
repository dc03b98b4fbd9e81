"""Write the committed half of the bad-input corpus: small broken or hostile report files.

    .venv/bin/python tests/bad_inputs/make_corpus.py     # (re)writes every file in tests/bad_inputs/

Deterministic: the same bytes on every run (fixed random seeds, and xlsx files re-zipped with fixed
timestamps), so `git status` shows no change after a rerun and tests/test_bad_inputs.py can check
that the committed files are exactly what this script writes. Every file stays under 50 KB; the big
ones (a 60 MB csv, zip bombs, 100,000 columns, a 1 MB cell) are built by the test at run time.

The files are written for the small config of tests/conftest.py (bureau "housing", TODAY 2026-11-26).
What the ETL answers for each one is in the table of tests/test_bad_inputs.py.
"""

from __future__ import annotations

import importlib.util
import io
import random
import re
import struct
import sys
import types
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path

import openpyxl

HERE = Path(__file__).resolve().parent
ZH_HEADER = ("指标编码", "旗区", "报送期", "数值")
RENTAL = "rental_housing_units"
INJECTIONS = ("=cmd|' /C calc'!A0", "<script>alert(1)</script>", "'; drop table observations; --")
FIXED_TIME = (2025, 1, 1, 0, 0, 0)


# ---------------------------------------------------------------- building blocks


def csv_text(rows: Sequence[Sequence[object]], header: Sequence[str] = ZH_HEADER) -> str:
    return "\n".join(",".join(str(c) for c in r) for r in [header, *rows]) + "\n"


def normalise_zip(data: bytes) -> bytes:
    """The same archive with fixed entry timestamps and document dates (openpyxl stamps "now")."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                body = re.sub(rb"(<dcterms:(created|modified)[^>]*>)[^<]*", rb"\g<1>2025-01-01T00:00:00Z", body)
            z.writestr(zipfile.ZipInfo(info.filename, FIXED_TIME), body, zipfile.ZIP_DEFLATED)
    return out.getvalue()


def xlsx(rows: Sequence[Sequence[object]], setup: Callable[[openpyxl.Workbook], None] | None = None) -> bytes:
    """Rows appended to the first sheet (a str starting with '=' becomes a formula), then setup(book)."""
    book = openpyxl.Workbook()
    for r in rows:
        book.active.append(list(r))
    if setup:
        setup(book)
    buf = io.BytesIO()
    book.save(buf)
    return normalise_zip(buf.getvalue())


def zip_of(entries: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, body in entries.items():
            z.writestr(zipfile.ZipInfo(name, FIXED_TIME), body, zipfile.ZIP_DEFLATED)
    return out.getvalue()


def replace_entry(data: bytes, name: str, body: bytes) -> bytes:
    src = zipfile.ZipFile(io.BytesIO(data))
    return zip_of({i.filename: (body if i.filename == name else src.read(i.filename)) for i in src.infolist()})


def patch_central_directory(data: bytes, name: str, offset: int, fmt: str, value: int) -> bytes:
    """Overwrite one field of `name`'s central-directory record (offset from the PK\\1\\2 signature)."""
    raw = bytearray(data)
    pos = raw.find(b"PK\x01\x02")
    while pos >= 0:
        n = struct.unpack_from("<H", raw, pos + 28)[0]
        if raw[pos + 46 : pos + 46 + n] == name.encode():
            struct.pack_into(fmt, raw, pos + offset, value)
        pos = raw.find(b"PK\x01\x02", pos + 4)
    return bytes(raw)


def sheet_xml(rows_xml: bytes) -> bytes:
    return (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
        + rows_xml
        + b"</sheetData></worksheet>"
    )


def inline(ref: str | None, text: str) -> bytes:
    r = f' r="{ref}"' if ref else ""
    return f'<c{r} t="inlineStr"><is><t>{text}</t></is></c>'.encode()


def good_rows_xml() -> bytes:
    """Header and one good row, with the cell references Excel writes."""
    head = b"".join(inline(f"{c}1", t) for c, t in zip("ABCD", ZH_HEADER, strict=True))
    body = inline("A2", RENTAL) + inline("B2", "东胜区") + inline("C2", "2025-03") + b'<c r="D2"><v>5</v></c>'
    return b'<row r="1">' + head + b'</row><row r="2">' + body + b"</row>"


def with_sheet(rows_xml: bytes) -> bytes:
    """A valid workbook (from openpyxl) whose first sheet XML is replaced."""
    return replace_entry(xlsx([ZH_HEADER]), "xl/worksheets/sheet1.xml", sheet_xml(rows_xml))


def cfb(streams: dict[str, bytes]) -> bytes:
    """A minimal OLE2 compound file (the container of .xls and of password-protected .xlsx): 512-byte
    sectors, one FAT sector, every stream padded to 4096 bytes so that no mini stream is needed."""
    end, free, fat_mark = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD
    sectors: list[bytes] = []
    fat: list[int] = []
    starts, sizes = [], []
    for body in streams.values():
        body = body.ljust(max(4096, -(-len(body) // 512) * 512), b"\0")
        first = len(sectors)
        starts.append(first)
        sizes.append(len(body))
        for i in range(len(body) // 512):
            sectors.append(body[i * 512 : (i + 1) * 512])
            fat.append(first + i + 1)
        fat[-1] = end

    def entry(name: str, kind: int, child: int, right: int, start: int, size: int) -> bytes:
        raw = name.encode("utf-16-le") + b"\0\0"
        return (
            raw.ljust(64, b"\0")
            + struct.pack("<HBB", len(raw), kind, 1)  # name length, type (5 root, 2 stream), black
            + struct.pack("<III", free, right, child)  # left sibling, right sibling, child
            + b"\0" * 16  # CLSID
            + struct.pack("<I", 0)  # state bits
            + b"\0" * 16  # creation and modification times
            + struct.pack("<IQ", start, size)
        )

    names = list(streams)
    # the children of the root as a chain of right siblings, in CFB order (shorter names first)
    order = sorted(range(len(names)), key=lambda i: (len(names[i]), names[i].upper()))
    entries = [entry("Root Entry", 5, order[0] + 1, free, end, 0)]
    for i, name in enumerate(names):
        nxt = order.index(i) + 1
        right = order[nxt] + 1 if nxt < len(order) else free
        entries.append(entry(name, 2, free, right, starts[i], sizes[i]))
    directory = b"".join(entries).ljust(-(-len(entries) // 4) * 512, b"\0")
    dir_start = len(sectors)
    for i in range(len(directory) // 512):
        sectors.append(directory[i * 512 : (i + 1) * 512])
        fat.append(dir_start + i + 1)
    fat[-1] = end
    fat_sector = len(sectors)
    fat.append(fat_mark)
    sectors.append(struct.pack(f"<{len(fat)}I", *fat).ljust(512, b"\xff"))
    header = (
        bytes.fromhex("d0cf11e0a1b11ae1")
        + b"\0" * 16
        + struct.pack("<HHHHH", 0x003E, 0x0003, 0xFFFE, 9, 6)
        + b"\0" * 6
        + struct.pack("<IIIIIIIII", 0, 1, dir_start, 0, 4096, end, 0, end, 0)
        + struct.pack("<I", fat_sector)
        + struct.pack("<108I", *([free] * 108))
    )
    assert len(header) == 512
    return header + b"".join(sectors)


def biff_record(kind: int, body: bytes) -> bytes:
    return struct.pack("<HH", kind, len(body)) + body


def xls_workbook() -> bytes:
    """An Excel 97-2003 workbook stream: globals BOF, one BOUNDSHEET, EOF; then the sheet's BOF/EOF."""
    globals_ = biff_record(0x0809, struct.pack("<HHHHII", 0x0600, 0x0005, 0x0DBB, 0x07CC, 0, 0x0006))
    sheet_name = "Sheet1".encode("latin-1")
    bound = struct.pack("<IBBBB", 0, 0, 0, len(sheet_name), 0) + sheet_name
    globals_len = len(globals_) + len(biff_record(0x0085, bound)) + len(biff_record(0x000A, b""))
    bound = struct.pack("<IBBBB", globals_len, 0, 0, len(sheet_name), 0) + sheet_name
    sheet = biff_record(0x0809, struct.pack("<HHHHII", 0x0600, 0x0010, 0x0DBB, 0x07CC, 0, 0x0006))
    return globals_ + biff_record(0x0085, bound) + biff_record(0x000A, b"") + sheet + biff_record(0x000A, b"")


# ---------------------------------------------------------------- the corpus


def corpus() -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    good = csv_text([(RENTAL, "东胜区", "2025-03", 5)])

    # -- empty, header only, encodings
    files["empty.csv"] = b""
    files["bom_only.csv"] = b"\xef\xbb\xbf"
    files["header_only.csv"] = csv_text([]).encode()
    files["utf16_bom.csv"] = good.encode("utf-16")  # BOM FF FE, then UTF-16-LE
    files["utf16le_no_bom.csv"] = good.encode("utf-16-le")
    # Japanese and traditional-Chinese encodings whose bytes happen to decode as GB18030, into other
    # characters: the district lookup rejects the row, quoting what it read
    files["shift_jis.csv"] = csv_text(
        [(RENTAL, "東勝区", "2025-03", 5)], ("kpi", "district", "period", "value")
    ).encode("shift_jis")
    files["big5.csv"] = csv_text([(RENTAL, "東勝區", "2025-03", 5)], ("kpi", "district", "period", "value")).encode(
        "big5"
    )
    files["latin1.csv"] = csv_text(
        [(RENTAL, "Dongsheng", "2025-03", 5), (RENTAL, "Kängbashi", "2025-03", 6)],
        ("kpi", "district", "period", "value"),
    ).encode("latin-1")
    # half-width katakana in Shift-JIS: single bytes 0xA1-0xDF followed by ASCII, invalid in GB18030
    files["shift_jis_halfwidth.csv"] = csv_text(
        [(RENTAL, "ﾄｳｼｮｳ", "2025-03", 5)], ("kpi", "district", "period", "value")
    ).encode("shift_jis")
    rnd = random.Random(477)
    files["binary_junk.csv"] = bytes(rnd.randrange(256) for _ in range(4096))
    files["binary_junk_no_nul.csv"] = bytes(rnd.randrange(0x80, 0x100) for _ in range(4096))
    files["elf_named.csv"] = b"\x7fELF\x02\x01\x01\x00" + bytes(rnd.randrange(256) for _ in range(2048))

    # -- csv structure
    files["mismatched_quote.csv"] = (
        csv_text([]) + f'{RENTAL},"东胜区,2025-03,5\n{RENTAL},康巴什区,2025-03,6\n'
    ).encode()
    files["semicolon.csv"] = good.replace(",", ";").encode()
    files["duplicate_header.csv"] = csv_text([(RENTAL, "东胜区", "2025-03", 5, 6)], (*ZH_HEADER, "数值")).encode()
    files["duplicate_header_alias.csv"] = csv_text(
        [(RENTAL, "东胜区", "2025-03", 5, 6)], (*ZH_HEADER, "本月数值")
    ).encode()
    files["old_mac_line_endings.csv"] = good.replace("\n", "\r").encode()
    files["control_chars.csv"] = csv_text(
        [(RENTAL, "东胜区\x1a", "2025-03", 5), (RENTAL, "康巴什区", "2025-03\x07", 6)]
    ).encode()

    # -- values
    files["values_not_numbers.csv"] = csv_text(
        [(RENTAL, d, "2025-03", v) for d, v in zip(
            ("东胜区", "康巴什区", "达拉特旗", "准格尔旗", "鄂托克前旗", "鄂托克旗", "杭锦旗", "乌审旗"),
            ("NaN", "inf", "-inf", "1e309", "1e5", "0x10", "1_000", "=1+1"),
            strict=True,
        )]
    ).encode()  # fmt: skip
    files["values_absurd.csv"] = csv_text(
        [
            (RENTAL, "东胜区", "2025-03", "100000000000000000000"),  # 1e20 typed out
            (RENTAL, "康巴什区", "2025-03", "9" * 400),  # parses as inf
            (RENTAL, "达拉特旗", "2025-03", "1000000000001"),  # just over 1e12
            (RENTAL, "准格尔旗", "2025-03", "999999999999"),  # just under: fine
        ]
    ).encode()
    files["values_negative.csv"] = csv_text(
        [
            (RENTAL, "东胜区", "2025-03", -5),
            (RENTAL, "康巴什区", "2025-03", "-0.0001"),
            (RENTAL, "达拉特旗", "2025-03", "－3"),
        ]
    ).encode()
    # a plausible figure far above this district's history (500, 520, 510 seeded by the test): loads, with a warning
    files["suspicious_jump.csv"] = csv_text([(RENTAL, "伊金霍洛旗", "2025-06", 90000)]).encode()
    # 1,234 typed without quotes: one field too many on that line
    files["extra_fields.csv"] = csv_text(
        [(RENTAL, "东胜区", "2025-03", 5), (RENTAL, "康巴什区", "2025-03", "1,234")]
    ).encode()

    # -- periods, KPIs
    files["future_period.csv"] = csv_text([(RENTAL, "东胜区", "2026-12", 5), (RENTAL, "东胜区", "2099-01", 5)]).encode()
    files["before_policy.csv"] = csv_text([(RENTAL, "东胜区", "2024-06", 5), (RENTAL, "东胜区", "1999-12", 5)]).encode()
    files["other_bureau_kpi.csv"] = csv_text(
        [("bus_coverage", "全市", "2025-03", 90), ("jobs_new", "东胜区", "2025-03", 10)]
    ).encode()

    # -- injection strings: rejected as unknown KPI / district (stored as inert text), or ignored in 备注
    files["injection_kpi.csv"] = csv_text([(s, "东胜区", "2025-03", 5) for s in INJECTIONS]).encode()
    files["injection_district.csv"] = csv_text([(RENTAL, s, "2025-03", 5) for s in INJECTIONS]).encode()
    files["injection_note.csv"] = csv_text(
        [
            (RENTAL, d, "2025-03", 5, f'"{s}"')
            for d, s in zip(("东胜区", "康巴什区", "达拉特旗"), INJECTIONS, strict=True)
        ],
        (*ZH_HEADER, "备注"),
    ).encode()

    # -- xlsx: broken containers
    good_xlsx = xlsx([ZH_HEADER, (RENTAL, "东胜区", "2025-03", 5)])
    files["zero_bytes.xlsx"] = b""
    files["truncated.xlsx"] = good_xlsx[: len(good_xlsx) // 2]
    files["random_zip.xlsx"] = zip_of({"random.bin": bytes(random.Random(1).randrange(256) for _ in range(2048))})
    files["zip_named.csv"] = zip_of({"report.txt": good.encode()})
    files["ods_renamed.xlsx"] = zip_of(
        {
            "mimetype": b"application/vnd.oasis.opendocument.spreadsheet",
            "META-INF/manifest.xml": b'<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:'
            b'xmlns:manifest:1.0"/>',
            "content.xml": b'<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:'
            b'xmlns:office:1.0"/>',
        }
    )
    files["xls_renamed.xlsx"] = cfb({"Workbook": xls_workbook()})
    # what Excel writes for "Encrypt with password": an OLE2 container, not a zip
    files["password_protected.xlsx"] = cfb(
        {"EncryptionInfo": b"\x04\x00\x04\x00\x40\x00\x00\x00" + b"\0" * 64, "EncryptedPackage": b"\0" * 4096}
    )
    files["bad_crc.xlsx"] = patch_central_directory(good_xlsx, "xl/worksheets/sheet1.xml", 16, "<I", 0x12345678)
    files["encrypted_entry.xlsx"] = patch_central_directory(good_xlsx, "xl/worksheets/sheet1.xml", 8, "<H", 1)
    files["unknown_compression.xlsx"] = patch_central_directory(good_xlsx, "xl/worksheets/sheet1.xml", 10, "<H", 99)

    # -- xlsx: content
    files["header_only.xlsx"] = xlsx([ZH_HEADER])
    files["formula.xlsx"] = xlsx(
        [ZH_HEADER, (RENTAL, "东胜区", "2025-03", "=1+1"), (RENTAL, "康巴什区", "2025-03", INJECTIONS[0])]
    )

    def as_text(book: openpyxl.Workbook) -> None:
        for row in book.active.iter_rows(min_row=2):
            for cell in row:
                if isinstance(cell.value, str) and cell.value.startswith("="):
                    cell.data_type = "s"  # kept as the text typed, not a formula

    files["injection_text_cells.xlsx"] = xlsx(
        [ZH_HEADER, *((s, "东胜区", "2025-03", 5) for s in INJECTIONS), (RENTAL, INJECTIONS[0], "2025-03", 5)], as_text
    )

    def merge_header(book: openpyxl.Workbook) -> None:
        book.active.merge_cells("C1:D1")  # 报送期 spans C and D: D1 (数值) is emptied

    files["merged_header.xlsx"] = xlsx([ZH_HEADER, (RENTAL, "东胜区", "2025-03", 5)], merge_header)

    def merged_title(book: openpyxl.Workbook) -> None:
        ws = book.active
        ws.insert_rows(1)
        ws["A1"] = "市住房和城乡建设局 2025年3月报送"
        ws.merge_cells("A1:D1")

    files["merged_title.xlsx"] = xlsx([ZH_HEADER, (RENTAL, "东胜区", "2025-03", 5)], merged_title)

    def data_on_second_sheet(book: openpyxl.Workbook) -> None:
        ws = book.create_sheet("报送数据")
        ws.append(list(ZH_HEADER))
        ws.append([RENTAL, "东胜区", "2025-03", 5])

    files["second_sheet_only.xlsx"] = xlsx([], data_on_second_sheet)
    files["numbers_out_of_range.xlsx"] = xlsx(
        [
            ZH_HEADER,
            (RENTAL, "东胜区", "2025-03", 1e20),
            (RENTAL, "康巴什区", "2025-03", 2e12),
            (RENTAL, "达拉特旗", "2025-03", 1e-7),
        ]
    )
    files["nan_inf.xlsx"] = xlsx(
        [ZH_HEADER, (RENTAL, "东胜区", "2025-03", float("nan")), (RENTAL, "康巴什区", "2025-03", float("inf"))]
    )

    # -- xlsx: sparse-sheet bombs (calamine allocates A1 to the farthest cell at once)
    far = inline("XFD1048576", "x")
    files["far_cell.xlsx"] = with_sheet(good_rows_xml() + b'<row r="1048576">' + far + b"</row>")
    files["far_row.xlsx"] = with_sheet(good_rows_xml() + b'<row r="1048576">' + inline("E1048576", "x") + b"</row>")
    # cells without r= are placed after the previous one: 150 of them on row 1,048,576
    files["cells_without_ref.xlsx"] = with_sheet(
        good_rows_xml() + b'<row r="1048576">' + inline(None, "x") * 150 + b"</row>"
    )
    files["overflowing_ref.xlsx"] = with_sheet(
        good_rows_xml() + b'<row r="3">' + inline("ZZZZZZZ99999999999", "x") + b"</row>"
    )
    files["formula_without_ref.xlsx"] = with_sheet(good_rows_xml() + b"<row><c><f>1+1</f><v>2</v></c></row>")
    files.update(office_corpus())
    return files


# ---------------------------------------------------------------- issue 18: xls, ods, other kinds

OFFICE = HERE.parent / "fixtures" / "office"  # saved by LibreOffice (make_office_fixtures.sh)


def patch_ods(content: Callable[[bytes], bytes]) -> bytes:
    """The LibreOffice ods of the filled template with content.xml rewritten (thumbnail left out)."""
    src = zipfile.ZipFile(OFFICE / "filled.ods")
    entries = {}
    for info in src.infolist():
        if info.filename.startswith("Thumbnails/"):
            continue
        body = src.read(info.filename)
        entries[info.filename] = content(body) if info.filename == "content.xml" else body
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name, body in entries.items():  # mimetype first and stored, as ODF requires
            method = zipfile.ZIP_STORED if name == "mimetype" else zipfile.ZIP_DEFLATED
            z.writestr(zipfile.ZipInfo(name, FIXED_TIME), body, method)
    return out.getvalue()


def first_table_row(extra: bytes) -> Callable[[bytes], bytes]:
    """Insert `extra` (rows) as the first rows of the first sheet."""

    def patch(xml: bytes) -> bytes:
        at = xml.index(b"<table:table-row", xml.index(b"<table:table "))
        return xml[:at] + extra + xml[at:]

    return patch


def office_corpus() -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    xls = (OFFICE / "filled.xls").read_bytes()
    # saved by LibreOffice from a sheet with a formula in E3, row 4 hidden and a hidden sheet with a figure
    files["hostile.xls"] = (OFFICE / "hostile.xls").read_bytes()
    files["hostile.ods"] = (OFFICE / "hostile.ods").read_bytes()
    files["hostile.xlsb"] = (OFFICE / "hostile.xlsb").read_bytes()  # by our own writer: make_xlsb.py
    # extensions that lie, and WPS's .et: read by content
    files["xls_named.xlsx"] = xls
    files["ods_named.xls"] = patch_ods(lambda xml: xml)
    files["wps_sheet.et"] = xls
    # the first sheet's table style says display="false": the sheet with the figures is hidden
    files["ods_hidden_first_sheet.ods"] = patch_ods(
        lambda xml: xml.replace(b'table:display="true"', b'table:display="false"', 1)
    )
    files["ods_dtd.ods"] = patch_ods(
        lambda xml: xml.replace(
            b"?>", b'?>\n<!DOCTYPE office:document-content [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;">]>', 1
        )
    )
    # one figure repeated over 1,048,000 rows: calamine would build 1,048,000 x 9 cells
    files["ods_repeated_rows.ods"] = patch_ods(
        first_table_row(
            b'<table:table-row table:number-rows-repeated="1048000"><table:table-cell office:value-type="float"'
            b' office:value="1" table:number-columns-repeated="9"/></table:table-row>'
        )
    )
    # 60 KB of text in one cell, repeated over 4 columns and 300 rows: 72 MB of copies from 3 KB
    files["ods_repeated_text.ods"] = patch_ods(
        first_table_row(
            b'<table:table-row table:number-rows-repeated="300"><table:table-cell office:value-type="string"'
            b' table:number-columns-repeated="4"><text:p>' + "东".encode() * 20_000 + b"</text:p>"
            b"</table:table-cell></table:table-row>"
        )
    )
    # one cell of the first sheet moved to row 65,536, column GR (200): calamine would build 13 million cells
    label = xls.index(b"\xfd\x00\x0a\x00")
    files["xls_far_cell.xls"] = xls[: label + 4] + struct.pack("<HH", 65535, 199) + xls[label + 8 :]
    # an RK cell (E3) made a MULBLANK of two formatted empty cells at row 65,536: calamine skips blank
    # cells, so this costs nothing and the file loads (the figure of E3 is simply not there)
    rk = xls.index(b"\x7e\x02\x0a\x00")
    files["xls_far_blank.xls"] = xls[:rk] + struct.pack("<7H", 0x00BE, 10, 65535, 198, 15, 15, 199) + xls[rk + 14 :]
    files["xls_truncated.xls"] = xls[:4096]
    files["xls_random_after_magic.xls"] = xls[:8] + bytes(random.Random(18).randrange(256) for _ in range(4088))
    # LibreOffice 7.4 headless writes no password: a FILEPASS record (what Excel writes first in an
    # encrypted workbook) takes the place of WRITEACCESS, as the same number of bytes
    writeaccess = xls.index(b"\x5c\x00\x70\x00")
    files["xls_encrypted.xls"] = xls[:writeaccess] + b"\x2f\x00" + xls[writeaccess + 2 :]
    # other kinds: named by what they are, never "corrupt"
    files["numbers_like.numbers"] = zip_of({"Index/Document.iwa": b"\0" * 64, "Metadata/Properties.plist": b"<plist/>"})
    files["docx_named.xlsx"] = zip_of(
        {"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>", "_rels/.rels": b"<Relationships/>"}
    )
    files["xlsb_like.xlsb"] = zip_of(
        {"[Content_Types].xml": b"<Types/>", "xl/workbook.bin": b"\x83\x01\x00", "_rels/.rels": b"<Relationships/>"}
    )
    # hostile xlsb: no office suite here writes xlsb, so they come from our own writer (make_xlsb.py)
    files.update(make_xlsb().bad_inputs())
    files["wps_text.wps"] = cfb({"WordDocument": b"\xec\xa5" + b"\0" * 510})
    files["pdf_named.xls"] = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"
    files["html_named.xls"] = "<html><body><table><tr><td>指标编码</td></tr></table></body></html>".encode()
    return files


def make_xlsb() -> types.ModuleType:
    """tests/fixtures/office/make_xlsb.py, loaded by path: this script also runs outside the package."""
    if "make_xlsb" not in sys.modules:
        spec = importlib.util.spec_from_file_location("make_xlsb", OFFICE / "make_xlsb.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules["make_xlsb"] = module  # dataclasses look their module up there
        spec.loader.exec_module(module)
    return sys.modules["make_xlsb"]


def main(argv: list[str] | None = None) -> int:
    out = Path(argv[0]) if argv else HERE
    out.mkdir(parents=True, exist_ok=True)
    files = corpus()
    for name, data in files.items():
        assert len(data) < 50_000, (name, len(data))
        (out / name).write_bytes(data)
    print(f"{len(files)} files written to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
