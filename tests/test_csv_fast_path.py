"""The csv fast path (etl.csv_fast, pyarrow) reads exactly what the pandas path reads, or steps aside.

A user relies on two things here: a valid report loads the same figures, row numbers and preview
whichever parser read it, and a broken report gets the same message, word for word, as before the fast
path existed. Each test runs the same bytes twice: as shipped (fast path first) and with the fast path
switched off (pandas' C parser only, the reader before issue 17), and compares.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

import duckdb
import pandas as pd
import pytest

import etl.read
from etl import csv_fast
from etl.errors import FileRejected
from etl.load import check_bytes, load_bytes
from etl.read import RawTable, read_report
from monitor import db
from monitor.targets import TargetsConfig
from tests.conftest import TODAY, Warehouse

RENTAL = "rental_housing_units"
HEADER = "指标编码,旗区,报送期,数值,备注"
DISTRICTS = ["东胜区", "康巴什区", "达拉特旗", "准格尔旗", "鄂托克前旗", "鄂托克旗", "杭锦旗", "乌审旗", "高新区"]
CORPUS = Path(__file__).parent / "bad_inputs"


def _rows(values: Callable[[int], str] = str) -> list[str]:
    """54 valid rows: the nine districts over 2025-01..2025-06, value i typed by `values`."""
    months = [f"2025-{m:02d}" for m in range(1, 7)]
    return [f"{RENTAL},{d},{m},{values(i)}," for i, (m, d) in enumerate((m, d) for m in months for d in DISTRICTS)]


def _csv(lines: list[str], end: str = "\n") -> str:
    return end.join(lines) + end


# name -> (bytes, whether the fast path must take it)
VALID: dict[str, tuple[bytes, bool]] = {
    "plain.csv": (_csv([HEADER, *_rows()]).encode(), True),
    "bom_crlf.csv": (b"\xef\xbb\xbf" + _csv([HEADER, *_rows()], "\r\n").encode(), True),
    "gbk_tabs.csv": (_csv([HEADER.replace(",", "\t")] + [r.replace(",", "\t") for r in _rows()]).encode("gbk"), True),
    "gb18030_comma.csv": (_csv([HEADER, *_rows()]).encode("gb18030"), True),
    "title_padded.csv": (_csv(["2025年上半年保障性租赁住房报送表,,,,", HEADER, *_rows()]).encode(), True),
    "two_titles_padded.csv": (_csv(["报送表,,,,", "单位：套,,,,", HEADER, *_rows()]).encode(), True),
    # a title of one cell above a wider header: pandas takes its width from the header (fallback)
    "title_one_cell.csv": (_csv(["2025年上半年保障性租赁住房报送表", HEADER, *_rows()]).encode(), False),
    "quoted.csv": (
        _csv(
            [HEADER]
            + [
                f'"{RENTAL}","{d}",{m},"{v}","{note}"'
                for d, m, v, note in (
                    ("东胜区", "2025-01", "1,234", "含3月漏报"),
                    ("康巴什区", "2025-01", "12,345.0", 'a ""quoted"" word'),
                    ("达拉特旗", "2025-01", "7", "two\nlines"),
                    ("准格尔旗", "2025-01", "8", ""),
                    ("杭锦旗", "2025-01", "1,000,000", "comma, inside"),
                )
            ]
        ).encode(),
        True,
    ),
    "cr_only.csv": (_csv([HEADER, *_rows()], "\r").encode(), True),
    "trailing_empty_lines.csv": ((_csv([HEADER, *_rows()]) + "\n\n\n").encode(), True),
    "blank_lines_inside.csv": (_csv([HEADER, *_rows()[:10], "", ",,,,", *_rows()[10:]]).encode(), True),
    "no_final_newline.csv": ("\n".join([HEADER, *_rows()]).encode(), True),
    "fullwidth_and_units.csv": (
        _csv([HEADER, *_rows(lambda i: ["１２３", "1.5万", "2.76万", "120套", "０", " 45 "][i % 6])]).encode(),
        True,
    ),
    "spaces_around_cells.csv": (
        _csv([" 指标编码 , 旗区 ,报送期,数值,备注", *[r.replace(",", " , ", 1) for r in _rows()]]).encode(),
        True,
    ),
}


@pytest.fixture
def pandas_only(monkeypatch: pytest.MonkeyPatch) -> Callable[[], None]:
    """Switch the fast path off (pandas' C parser reads every file), as a function to call mid-test."""
    return lambda: monkeypatch.setattr(etl.read, "read_fast", lambda *args: None)


@pytest.fixture
def fast_taken(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Whether each read_fast call returned a frame (so a test knows the fast path really read the file)."""
    taken: list[bool] = []

    def spy(*args: object) -> pd.DataFrame | None:
        frame = csv_fast.read_fast(*args)  # type: ignore[arg-type]
        taken.append(frame is not None)
        return frame

    monkeypatch.setattr(etl.read, "read_fast", spy)
    return taken


def _same_raw(fast: RawTable, slow: RawTable) -> None:
    assert fast.header == slow.header
    assert (fast.header_row, fast.kind, fast.encoding) == (slow.header_row, slow.kind, slow.encoding)
    pd.testing.assert_frame_equal(fast.cells, slow.cells, check_exact=True)
    pd.testing.assert_series_equal(fast.rows, slow.rows, check_exact=True)


@pytest.mark.parametrize("name", sorted(VALID))
def test_valid_variant_reads_the_same_table_either_way(
    name: str, fast_taken: list[bool], pandas_only: Callable[[], None]
) -> None:
    data, fast_expected = VALID[name]
    fast = read_report(name, data)
    assert fast_taken == [fast_expected]
    pandas_only()
    slow = read_report(name, data)
    _same_raw(fast, slow)
    assert len(fast.cells) == (5 if name == "quoted.csv" else 54)


def _loaded(con: duckdb.DuckDBPyConnection) -> list[tuple[object, ...]]:
    return (
        db.cursor(con)
        .execute(
            "select kpi_id, district_id, period, value, revision, source_row from observations order by source_row"
        )
        .fetchall()
    )


@pytest.mark.parametrize("name", ["bom_crlf.csv", "gbk_tabs.csv", "blank_lines_inside.csv", "fullwidth_and_units.csv"])
def test_valid_variant_loads_the_same_figures_either_way(
    name: str, warehouse: Warehouse, cfg: TargetsConfig, tmp_path: Path, pandas_only: Callable[[], None]
) -> None:
    data = VALID[name][0]
    fast = load_bytes(name, data, cfg, "housing", "tester", warehouse.con, archive=None, today=TODAY)
    fast_rows = _loaded(warehouse.con)
    pandas_only()
    con = db.connect(tmp_path / "pandas_only.duckdb")
    try:
        db.load_reference(con, cfg)
        slow = load_bytes(name, data, cfg, "housing", "tester", con, archive=None, today=TODAY)
        slow_rows = _loaded(con)
    finally:
        con.close()
    assert fast.outcome == slow.outcome == "accepted"
    assert (fast.rows_total, fast.rows_loaded, fast.rows_skipped, fast.periods) == (
        slow.rows_total,
        slow.rows_loaded,
        slow.rows_skipped,
        slow.periods,
    )
    assert fast.summary_zh() == slow.summary_zh()
    assert fast_rows == slow_rows
    assert len(fast_rows) == 54


def test_blank_lines_keep_the_row_numbers_the_user_sees(warehouse: Warehouse, cfg: TargetsConfig) -> None:
    """Two blank lines after the tenth figure: the eleventh figure is on line 14 of the file."""
    data = VALID["blank_lines_inside.csv"][0]
    load_bytes("b.csv", data, cfg, "housing", "tester", warehouse.con, archive=None, today=TODAY)
    rows = [r[5] for r in _loaded(warehouse.con)]
    assert rows[:11] == [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 14]


def test_quoted_values_load_as_typed(warehouse: Warehouse, cfg: TargetsConfig) -> None:
    data = VALID["quoted.csv"][0]
    res = load_bytes("q.csv", data, cfg, "housing", "tester", warehouse.con, archive=None, today=TODAY)
    assert res.outcome == "accepted"
    values = [r[3] for r in _loaded(warehouse.con)]
    assert values == [1234.0, 12345.0, 7.0, 8.0, 1_000_000.0]
    notes = db.cursor(warehouse.con).execute("select note from observation_notes").fetchall()
    assert sorted(n[0] for n in notes) == sorted(['a "quoted" word', "comma, inside", "two\nlines", "含3月漏报"])


def _messages(
    data: bytes, name: str, cfg: TargetsConfig, con: duckdb.DuckDBPyConnection
) -> tuple[list[str], list[str]]:
    checked = check_bytes(name, data, cfg, "housing", con, today=TODAY)
    return [p.zh() for p in checked.problems], [p.en() for p in checked.problems]


HOSTILE = sorted(p.name for p in CORPUS.glob("*.csv"))
BUILT: dict[str, bytes] = {
    "ragged_below_title.csv": _csv(["报送表,,,,", HEADER, *_rows()[:3], _rows()[3] + ",extra"]).encode(),
    "quote_open_at_end.csv": _csv([HEADER, *_rows()[:3], f'{RENTAL},东胜区,2025-09,"5,']).encode(),
    "quote_inside_cell.csv": _csv([HEADER, *_rows()[:3], f'{RENTAL},东"胜区,2025-09,5,']).encode(),
    "text_after_quote.csv": _csv([HEADER, *_rows()[:3], f'{RENTAL},"东胜"区,2025-09,5,']).encode(),
    "short_line.csv": _csv([HEADER, *_rows()[:3], f"{RENTAL},东胜区"]).encode(),
    "late_nul.csv": _csv([HEADER, *_rows(), f"{RENTAL},东胜区,2025-09,7\x008,"]).encode(),
    "whitespace_line.csv": _csv([HEADER, *_rows()[:3], "   ", *_rows()[3:6]]).encode(),
    "header_only_crlf.csv": _csv([HEADER], "\r\n").encode(),
    "only_newlines.csv": b"\n\n\n",
    "duplicate_rows.csv": _csv([HEADER, *_rows()[:3], _rows()[1]]).encode(),
}


@pytest.mark.parametrize("name", HOSTILE + sorted(BUILT))
def test_refused_file_gets_the_same_message_either_way(
    name: str, warehouse: Warehouse, cfg: TargetsConfig, pandas_only: Callable[[], None]
) -> None:
    data = BUILT[name] if name in BUILT else (CORPUS / name).read_bytes()
    fast = _messages(data, name, cfg, warehouse.con)
    pandas_only()
    assert fast == _messages(data, name, cfg, warehouse.con)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        (
            "ragged_below_title.csv",
            "第6行：csv 格式错误：这一行有6列，多于表头（第2行）的5列（含逗号的内容请用英文双引号括起来）",
        ),
        ("quote_open_at_end.csv", '第5行：csv 格式错误：英文双引号（"）不成对，从这一行起的内容无法读取'),
        ("duplicate_rows.csv", "第5行：指标、旗区、报送期与第3行重复"),
    ],
)
def test_broken_files_keep_their_exact_message(
    name: str, message: str, warehouse: Warehouse, cfg: TargetsConfig
) -> None:
    zh, _ = _messages(BUILT[name], name, cfg, warehouse.con)
    assert f"{name} {message}" in zh


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ('a,"b,c",d\n', True),
        ('"",x\n', True),
        ('a,"say ""hi""",d\n', True),
        ('a,"two\nlines",d\n', True),
        ('a,"b"\r\n', True),
        ('a,"b"', True),
        ('a,"b\n', False),  # open at the end of the file
        ('a,b"c,d\n', False),  # a quote inside an unquoted cell
        ('a,"b"c,d\n', False),  # text after the closing quote
        ('a, "b",d\n', False),  # a space before the opening quote: the quote is inside the cell
        ('x",\n,"y\n', False),  # a literal quote, then one opened and never closed
    ],
)
def test_quote_check_takes_only_well_formed_quoting(text: str, ok: bool) -> None:
    assert csv_fast.quotes_well_formed(text.encode(), 0, ",") is ok


def _outcome(name: str, data: bytes) -> object:
    try:
        frame, _, encoding = etl.read._read_csv(name, data)
    except FileRejected as exc:
        return [p.zh() for p in exc.problems]
    return frame, encoding


def _compare_both_ways(monkeypatch: pytest.MonkeyPatch, texts: list[str]) -> int:
    """Read each text with and without the fast path and compare; how many the fast path took."""
    taken: list[bool] = []

    def spy(*args: object) -> pd.DataFrame | None:
        frame = csv_fast.read_fast(*args)  # type: ignore[arg-type]
        taken.append(frame is not None)
        return frame

    for case, text in enumerate(texts):
        data = text.encode()
        with monkeypatch.context() as m:
            m.setattr(etl.read, "read_fast", spy)
            fast = _outcome("f.csv", data)
        with monkeypatch.context() as m:
            m.setattr(etl.read, "read_fast", lambda *args: None)
            slow = _outcome("f.csv", data)
        if isinstance(slow, tuple) and isinstance(fast, tuple):
            pd.testing.assert_frame_equal(fast[0], slow[0], check_exact=True, obj=f"case {case}: {text!r}")
            assert fast[1] == slow[1]
        else:
            assert fast == slow, f"case {case}: {text!r}"
    return sum(taken)


def test_random_small_files_read_the_same_either_way(monkeypatch: pytest.MonkeyPatch) -> None:
    """2,000 small files of commas, quotes, line ends, spaces and text: whenever the fast path takes
    one, its frame is the pandas frame; whenever pandas refuses one, the fast path has stepped aside
    and the message is pandas'."""
    rng = random.Random(17)
    alphabet = ["a", "东", "1", ",", ",", '"', '"', "\n", "\n", "\r\n", "\r", " ", "\t"]
    texts = ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 40))) for _ in range(2000)]
    assert _compare_both_ways(monkeypatch, texts) > 100  # the fast path was exercised, not only skipped


def test_random_tables_read_the_same_either_way(monkeypatch: pytest.MonkeyPatch) -> None:
    """1,500 small tables of quoted and unquoted cells (separators, doubled quotes and line breaks
    inside quotes; now and then a stray quote, a missing or extra cell, a blank line)."""
    rng = random.Random(18)
    cells = ["", "a", "东 1", " s ", '"x,y"', '"q""q"', '"l\nm"', '"r\r\ns"', '""', "1,5"]
    faults = ['a"b', '"open', '"c"d', ' "e"', "\t"]
    texts = []
    for _ in range(1500):
        width, end = rng.randint(1, 4), rng.choice(["\n", "\r\n", "\r"])
        lines = []
        for _ in range(rng.randint(1, 6)):
            row = [rng.choice(cells) for _ in range(width)]
            if rng.random() < 0.1:
                row[rng.randrange(width)] = rng.choice(faults)
            if rng.random() < 0.05:
                row = row[:-1] if rng.random() < 0.5 else [*row, "z"]
            lines.append("" if rng.random() < 0.05 else ",".join(row))
        texts.append(end.join(lines) + (end if rng.random() < 0.8 else ""))
    assert _compare_both_ways(monkeypatch, texts) > 400  # 532 with this seed
