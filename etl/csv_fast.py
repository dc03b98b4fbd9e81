"""The fast path of the csv reader: pyarrow's multi-threaded parser, for files it reads exactly as
pandas' C parser would.

etl.read._read_csv parses with pandas' C parser (every cell as text, every line a row, the exact
messages for ragged lines and broken quotes). A 1,000,000-row report spends most of its read there,
single-threaded. pyarrow's reader is several times faster, but differs on what is unusual: it accepts
a quote left open at the end of the file, splits a quoted line break unless told, and words its
errors its own way. So it is used only when the file holds nothing unusual, and `read_fast` returns
None (the caller then runs the pandas path, which produces today's frame or today's message) when:

- the file is empty, or holds a NUL byte anywhere;
- a double quote is anywhere but in a well-formed quoted field (opened at the start of a field,
  quotes inside doubled, closed before a separator, a line end or the end of the file);
- pyarrow refuses it (a line with a different number of fields, a cell over its block size, bad
  UTF-8), or finds another width than the one the caller computed.

Blank lines stay rows of empty cells, as with pandas (skip_blank_lines=False), so row numbers agree.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv

# the dtype pandas' read_csv(dtype=str) gives: Arrow-backed text whose missing value is NaN
TEXT = pd.StringDtype("pyarrow", na_value=np.nan)
QUOTE = ord('"')


def quotes_well_formed(data: bytes, start: int, delimiter: str) -> bool:
    """True when every double quote from `start` on opens, escapes (doubled) or closes a quoted
    field as RFC 4180 has it. A quote inside an unquoted cell, text after a closing quote, or a quote
    left open at the end of the file is read differently by the two parsers: False."""
    boundary = {ord(delimiter), ord("\n"), ord("\r")}
    positions = np.flatnonzero(np.frombuffer(data, dtype=np.uint8, offset=start) == QUOTE) + start
    end = len(data)
    i, count = 0, len(positions)
    while i < count:
        opening = int(positions[i])
        if opening > start and data[opening - 1] not in boundary:
            return False  # a quote inside an unquoted cell
        i += 1
        while True:
            if i >= count:
                return False  # open at the end of the file
            quote = int(positions[i])
            after = quote + 1
            if after < end and data[after] == QUOTE:
                i += 2  # a doubled quote inside the field
                continue
            if after < end and data[after] not in boundary:
                return False  # text after the closing quote
            i += 1
            break
    return True


def read_fast(data: bytes, start: int, delimiter: str, width: int) -> pd.DataFrame | None:
    """data[start:] (UTF-8) as pandas' C parser reads it with header=None, names=range(width) and
    dtype=str: columns 0..width-1 of text, "" for an empty cell. None when the file has anything the
    two parsers could read differently; the caller then uses pandas."""
    if width < 1 or len(data) <= start or data.find(b"\x00", start) >= 0:
        return None
    quoted = data.find(b'"', start) >= 0
    if quoted and not quotes_well_formed(data, start, delimiter):
        return None
    names = [f"c{j}" for j in range(width)]
    try:
        table = pa_csv.read_csv(
            pa.BufferReader(pa.py_buffer(data)[start:]),
            read_options=pa_csv.ReadOptions(column_names=names),
            parse_options=pa_csv.ParseOptions(delimiter=delimiter, ignore_empty_lines=False, newlines_in_values=quoted),
            convert_options=pa_csv.ConvertOptions(
                # large_string: what pandas' str dtype holds (a string column is cast, i.e. copied)
                column_types=dict.fromkeys(names, pa.large_string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except pa.ArrowException:  # any refusal (a ragged line, bad UTF-8, a cell over a block): pandas reads it
        return None
    if table.num_columns != width or table.num_rows == 0:
        return None
    return pd.DataFrame(
        {j: pd.Series(pd.arrays.ArrowStringArray(table.column(j), dtype=TEXT), copy=False) for j in range(width)}
    )
