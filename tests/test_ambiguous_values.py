"""Ambiguous numbers and periods are refused with a message naming row and column, never guessed
(issue 11): a comma that does not group thousands, stacked 万/亿, a unit that contradicts the KPI, a
day the month does not have, a period typed as a decimal number, a month that has not ended. Also:
万/亿 scaled exactly, "-0" stored as 0, empty values skipped as "not reported", and an all-invalid
file keeping only its first 1,000 problems with the exact total.

Every hostile file is built here as bytes and loaded with etl.load.load_bytes into a warehouse that
already holds figures; a rejected one must leave every observation as it was.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
from collections.abc import Sequence
from typing import Any

import duckdb
import pandas as pd
import pytest
import xlsxwriter

from etl.load import LoadResult, load_bytes
from etl.normalise import PERIOD_BAD_DAY, PERIOD_OK, parse_periods
from monitor import db
from monitor.targets import TargetsConfig
from tests.conftest import TODAY, Warehouse, take_snapshot

RENTAL = "rental_housing_units"  # 套, count, by district, housing bureau
AMOUNT = "settlement_subsidy_yuan"  # 元, amount, by district, public security bureau
RATIO = "bus_coverage"  # %, ratio, city only, transport bureau
HEADER = ("指标编码", "旗区", "报送期", "数值")
UNITS = ("东胜区", "康巴什区", "达拉特旗", "准格尔旗", "鄂托克前旗", "鄂托克旗", "杭锦旗", "乌审旗", "高新区")

COMMA = "逗号用法不明确：千位分隔符应每三位一组；小数请用小数点（如 8.5）"
STACKED = "数量单位重复（如“3万万”），无法确定数值：“万”或“亿”只能写一个，或直接填写数字"
BAD_DAY = "报送期不是有效日期（该月没有这一天），请填写月份，如 2025-03 或 2025年3月"
DECIMAL_PERIOD = "报送期是一个小数，无法确定月份（Excel 会把 2026.10 存成 2026.1，即1月），请填写 2026-10 或 2026年10月"
NOTHING_REPORTED = "文件中没有填写任何数值（数值列全部为空）"
NOT_A_NUMBER = "不是有效数字（可填 1234、1,234、1.5万 或 30%）"


def csv_bytes(rows: Sequence[Sequence[object]], header: Sequence[str] = HEADER) -> bytes:
    """A real csv (cells with a comma are quoted, as Excel and WPS write them)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue().encode("utf-8")


def load(
    w: Warehouse, cfg: TargetsConfig, name: str, data: bytes, bureau: str = "housing", **kwargs: Any
) -> LoadResult:
    kwargs.setdefault("today", TODAY)
    return load_bytes(name, data, cfg, bureau, "zhang_san", w.con, archive=w.archive, **kwargs)


def current(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str, str], float]:
    rows = con.execute(
        "select kpi_id, district_id, strftime(period, '%Y-%m'), value from current_observations"
    ).fetchall()
    return {(k, d, p): v for k, d, p, v in rows}


def assert_rejected(
    w: Warehouse, cfg: TargetsConfig, name: str, data: bytes, expected: list[str], **kwargs: Any
) -> LoadResult:
    """Rejected with exactly these messages (zh, with row and column), and no observation changed."""
    before = take_snapshot(w.con)
    res = load(w, cfg, name, data, **kwargs)
    assert res.outcome == "rejected"
    assert [p.zh() for p in res.problems] == expected
    assert res.problems_total == len(expected)
    after = take_snapshot(w.con)
    assert after["observations"] == before["observations"]
    assert after["current"] == before["current"]
    assert after["rejected"] == before["rejected"] + 1
    assert after["accepted"] == before["accepted"]
    return res


def load_ok(w: Warehouse, cfg: TargetsConfig, name: str, data: bytes, **kwargs: Any) -> LoadResult:
    res = load(w, cfg, name, data, **kwargs)
    assert res.outcome == "accepted", [p.zh() for p in res.problems]
    return res


@pytest.fixture
def seeded(warehouse: Warehouse, cfg: TargetsConfig) -> Warehouse:
    """A warehouse that already holds figures, so "unchanged" means something."""
    load_ok(
        warehouse, cfg, "seed.csv", csv_bytes([(RENTAL, "东胜区", "2025-01", 100), (RENTAL, "康巴什区", "2025-01", 50)])
    )
    load_ok(warehouse, cfg, "seed_ratio.csv", csv_bytes([(RATIO, "全市", "2025-01", 80)]), bureau="transport")
    return warehouse


# ---------------------------------------------------------------- 1. commas


def test_decimal_comma_in_a_ratio_is_rejected_not_read_as_85(seeded: Warehouse, cfg: TargetsConfig) -> None:
    assert_rejected(
        seeded, cfg, "ratio.csv", csv_bytes([(RATIO, "全市", "2025-03", "8,5")]),
        [f"ratio.csv 第2行 D列（数值） 值“8,5”：{COMMA}"],
        bureau="transport",
    )  # fmt: skip


def test_decimal_comma_in_a_count_is_rejected_not_read_as_15(seeded: Warehouse, cfg: TargetsConfig) -> None:
    res = assert_rejected(
        seeded, cfg, "count.csv", csv_bytes([(RENTAL, "东胜区", "2025-03", "1,5")]),
        [f"count.csv 第2行 D列（数值） 值“1,5”：{COMMA}"],
    )  # fmt: skip
    assert res.problems[0].en() == (
        "count.csv, row 2, column D（数值） value '1,5': ambiguous comma: a thousands separator groups exactly"
        " three digits; write decimals with a point (e.g. 8.5)"
    )


def test_full_width_decimal_comma_is_rejected_not_read_as_25(seeded: Warehouse, cfg: TargetsConfig) -> None:
    assert_rejected(
        seeded, cfg, "fw.csv", csv_bytes([(RENTAL, "东胜区", "2025-03", "2，5")]),
        [f"fw.csv 第2行 D列（数值） 值“2，5”：{COMMA}"],
    )  # fmt: skip


def test_commas_not_grouping_three_digits_are_rejected(seeded: Warehouse, cfg: TargetsConfig) -> None:
    assert_rejected(
        seeded, cfg, "groups.csv",
        csv_bytes([(RENTAL, "东胜区", "2025-03", "12,34"), (RENTAL, "康巴什区", "2025-03", "1,2345")]),
        [f"groups.csv 第2行 D列（数值） 值“12,34”：{COMMA}", f"groups.csv 第3行 D列（数值） 值“1,2345”：{COMMA}"],
    )  # fmt: skip


def test_thousands_separators_grouping_three_digits_load(seeded: Warehouse, cfg: TargetsConfig) -> None:
    rows = [
        (AMOUNT, "东胜区", "2025-03", "1,234"),
        (AMOUNT, "康巴什区", "2025-03", "12,345,678"),
        (AMOUNT, "达拉特旗", "2025-03", "1,234.5"),
        (AMOUNT, "准格尔旗", "2025-03", "１，２３４"),
    ]
    load_ok(seeded, cfg, "amounts.csv", csv_bytes(rows), bureau="public_security")
    got = {k: v for k, v in current(seeded.con).items() if k[0] == AMOUNT}
    assert got == {
        (AMOUNT, "dongsheng", "2025-03"): 1234.0,
        (AMOUNT, "kangbashi", "2025-03"): 12345678.0,
        (AMOUNT, "dalad", "2025-03"): 1234.5,
        (AMOUNT, "jungar", "2025-03"): 1234.0,
    }


# ---------------------------------------------------------------- 2. stacked units


def test_stacked_wan_is_rejected_not_read_as_30000(seeded: Warehouse, cfg: TargetsConfig) -> None:
    assert_rejected(
        seeded, cfg, "wanwan.csv", csv_bytes([(RENTAL, "东胜区", "2025-03", "3万万")]),
        [f"wanwan.csv 第2行 D列（数值） 值“3万万”：{STACKED}"],
    )  # fmt: skip


def test_stacked_yi_wan_and_wan_yi_and_stack_with_a_unit_are_rejected(seeded: Warehouse, cfg: TargetsConfig) -> None:
    rows = [
        (RENTAL, "东胜区", "2025-03", "2亿万"),
        (RENTAL, "康巴什区", "2025-03", "3万亿"),
        (RENTAL, "达拉特旗", "2025-03", "1.5万万套"),
    ]
    assert_rejected(
        seeded, cfg, "stacks.csv", csv_bytes(rows),
        [
            f"stacks.csv 第2行 D列（数值） 值“2亿万”：{STACKED}",
            f"stacks.csv 第3行 D列（数值） 值“3万亿”：{STACKED}",
            f"stacks.csv 第4行 D列（数值） 值“1.5万万套”：{STACKED}",
        ],
    )  # fmt: skip


# ---------------------------------------------------------------- 3. a unit that contradicts the KPI


def test_unit_of_another_kpi_is_rejected(seeded: Warehouse, cfg: TargetsConfig) -> None:
    res = assert_rejected(
        seeded, cfg, "yuan.csv",
        csv_bytes([(RENTAL, "东胜区", "2025-03", "5元"), (RENTAL, "康巴什区", "2025-03", "120套")]),
        ["yuan.csv 第2行 D列（数值） 值“5元”：单位“元”与该指标的单位“套”不符"],
    )  # fmt: skip
    assert res.problems[0].reason_en == "the unit “元” does not match this KPI's unit “套”"


def test_units_are_checked_per_row_against_each_rows_kpi(seeded: Warehouse, cfg: TargetsConfig) -> None:
    # the same text "5人" is right for the people KPI and wrong for the amount KPI of the same bureau
    rows = [
        ("settlement_subsidy_people", "东胜区", "2025-03", "5人"),
        (AMOUNT, "东胜区", "2025-03", "5人"),
        (AMOUNT, "康巴什区", "2025-03", "1.5万元"),
    ]
    assert_rejected(
        seeded, cfg, "mixed.csv", csv_bytes(rows),
        ["mixed.csv 第3行 D列（数值） 值“5人”：单位“人”与该指标的单位“元”不符"],
        bureau="public_security",
    )  # fmt: skip


def test_the_kpis_own_unit_and_a_percentage_for_a_ratio_load(seeded: Warehouse, cfg: TargetsConfig) -> None:
    load_ok(
        seeded,
        cfg,
        "own.csv",
        csv_bytes([(RENTAL, "东胜区", "2025-03", "120套"), (RENTAL, "康巴什区", "2025-03", "1.5万套")]),
    )
    load_ok(seeded, cfg, "pct.csv", csv_bytes([(RATIO, "全市", "2025-03", "30%")]), bureau="transport")
    got = current(seeded.con)
    assert (got[(RENTAL, "dongsheng", "2025-03")], got[(RENTAL, "kangbashi", "2025-03")]) == (120.0, 15000.0)
    assert got[(RATIO, "city", "2025-03")] == 30.0


# ---------------------------------------------------------------- 4. exact 万/亿 scaling

FIFTY = [f"2.{h}万" for h in range(50, 100)]  # 2.50万 .. 2.99万


def test_every_value_from_2_50_wan_to_2_99_wan_is_stored_exactly(warehouse: Warehouse, cfg: TargetsConfig) -> None:
    months = [f"2025-{m:02d}" for m in range(1, 7)]
    rows = [(RENTAL, UNITS[i % 9], months[i // 9], typed) for i, typed in enumerate(FIFTY)]
    res = load_ok(warehouse, cfg, "wan.csv", csv_bytes(rows))
    assert res.rows_loaded == 50
    stored = warehouse.con.execute(
        "select source_row, value from observations where submission_id = ? order by source_row", [res.submission_id]
    ).fetchall()
    # a count must be whole: binary floating point made 8 of these 27599.999… and rejected them
    assert stored == [(i + 2, float(25_000 + 100 * i)) for i in range(50)]
    assert all(v == int(v) for _, v in stored)


def test_yi_and_decimal_wan_are_scaled_exactly(warehouse: Warehouse, cfg: TargetsConfig) -> None:
    rows = [
        (AMOUNT, "东胜区", "2025-03", "2.76万"),
        (AMOUNT, "康巴什区", "2025-03", "0.07亿"),
        (AMOUNT, "达拉特旗", "2025-03", "1.2345万元"),
    ]
    load_ok(warehouse, cfg, "yi.csv", csv_bytes(rows), bureau="public_security")
    got = current(warehouse.con)
    assert got[(AMOUNT, "dongsheng", "2025-03")] == 27600.0
    assert got[(AMOUNT, "kangbashi", "2025-03")] == 7_000_000.0
    assert got[(AMOUNT, "dalad", "2025-03")] == 12345.0


# ---------------------------------------------------------------- 5. "-0"


def test_negative_zero_is_stored_as_zero(warehouse: Warehouse, cfg: TargetsConfig) -> None:
    typed = ["-0", "-0.0", "\u22120", "-0万", "－0"]  # ASCII, decimal, minus sign U+2212, with 万, full-width
    rows = [(RENTAL, UNITS[i], "2025-03", t) for i, t in enumerate(typed)]
    res = load_ok(warehouse, cfg, "zero.csv", csv_bytes(rows))
    assert res.rows_loaded == len(typed)
    values = [v for (v,) in warehouse.con.execute("select value from observations").fetchall()]
    assert values == [0.0] * len(typed)
    assert [math.copysign(1.0, v) for v in values] == [1.0] * len(typed)  # never -0.0 ("-0套" on screen)


# ---------------------------------------------------------------- 6. periods


def test_a_day_the_month_does_not_have_is_rejected(seeded: Warehouse, cfg: TargetsConfig) -> None:
    rows = [
        (RENTAL, "东胜区", "2025-02-30", 5),
        (RENTAL, "康巴什区", "2025/4/31", 5),
        (RENTAL, "达拉特旗", "2025-02-29", 5),  # 2025 is not a leap year
    ]
    assert_rejected(
        seeded, cfg, "day.csv", csv_bytes(rows),
        [
            f"day.csv 第2行 C列（报送期） 值“2025-02-30”：{BAD_DAY}",
            f"day.csv 第3行 C列（报送期） 值“2025/4/31”：{BAD_DAY}",
            f"day.csv 第4行 C列（报送期） 值“2025-02-29”：{BAD_DAY}",
        ],
    )  # fmt: skip


def test_period_typed_as_a_decimal_number_is_rejected(seeded: Warehouse, cfg: TargetsConfig) -> None:
    assert_rejected(
        seeded, cfg, "dec.csv", csv_bytes([(RENTAL, "东胜区", "2026.10", 5), (RENTAL, "康巴什区", "2026.1", 5)]),
        [
            f"dec.csv 第2行 C列（报送期） 值“2026.10”：{DECIMAL_PERIOD}",
            f"dec.csv 第3行 C列（报送期） 值“2026.1”：{DECIMAL_PERIOD}",
        ],
    )  # fmt: skip


def test_xlsx_number_cell_2026_10_is_rejected_not_read_as_january(seeded: Warehouse, cfg: TargetsConfig) -> None:
    # the number 2026.10 in a cell is 2026.1: loading it as January 2026 silently revised an earlier month
    load_ok(seeded, cfg, "jan.csv", csv_bytes([(RENTAL, "东胜区", "2026-01", 7)]))
    buf = io.BytesIO()
    book = xlsxwriter.Workbook(buf, {"in_memory": True})
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, HEADER)
    sheet.write_row(1, 0, [RENTAL, "东胜区"])
    sheet.write_number(1, 2, 2026.10)
    sheet.write_number(1, 3, 9)
    book.close()
    assert_rejected(
        seeded, cfg, "oct.xlsx", buf.getvalue(), [f"oct.xlsx 第2行 C列（报送期） 值“2026.1”：{DECIMAL_PERIOD}"]
    )
    assert current(seeded.con)[(RENTAL, "dongsheng", "2026-01")] == 7.0


def test_dates_and_excel_serial_days_still_load(warehouse: Warehouse, cfg: TargetsConfig) -> None:
    rows = [
        (RENTAL, "东胜区", "2025-02-28", 1),
        (RENTAL, "康巴什区", "2025/4/30", 2),
        (RENTAL, "达拉特旗", "45717", 3),  # Excel serial day of 2025-03-01
        (RENTAL, "准格尔旗", "2025-03-31 00:00:00", 4),  # an Excel date cell
    ]
    load_ok(warehouse, cfg, "dates.csv", csv_bytes(rows))
    assert current(warehouse.con) == {
        (RENTAL, "dongsheng", "2025-02"): 1.0,
        (RENTAL, "kangbashi", "2025-04"): 2.0,
        (RENTAL, "dalad", "2025-03"): 3.0,
        (RENTAL, "jungar", "2025-03"): 4.0,
    }
    # a leap day is a day (no leap year falls inside the reporting window, so checked on the parser)
    stamps, issues = parse_periods(pd.Series(["2024-02-29", "2025-02-29"], dtype="string"))
    assert stamps.tolist() == [pd.Timestamp("2024-02-01"), pd.NaT]
    assert issues.tolist() == [PERIOD_OK, PERIOD_BAD_DAY]


# ---------------------------------------------------------------- 7. a month that has not ended


def test_current_month_is_rejected_until_the_first_of_the_next(seeded: Warehouse, cfg: TargetsConfig) -> None:
    nov = csv_bytes([(RENTAL, "东胜区", "2026-11", 5)])
    res = assert_rejected(
        seeded, cfg, "nov.csv", nov, ["nov.csv 第2行 C列（报送期） 值“2026-11”：2026年11月尚未结束，12月1日起方可报送"],
        today=dt.date(2026, 11, 28),
    )  # fmt: skip
    assert res.problems[0].reason_en == "2026-11 has not ended; it can be reported from 2026-12-01"
    load_ok(seeded, cfg, "nov.csv", nov, today=dt.date(2026, 12, 1))
    assert current(seeded.con)[(RENTAL, "dongsheng", "2026-11")] == 5.0


def test_december_names_the_first_of_january_of_the_next_year(seeded: Warehouse, cfg: TargetsConfig) -> None:
    assert_rejected(
        seeded, cfg, "dec.csv", csv_bytes([(RENTAL, "东胜区", "2026年12月", 5)]),
        ["dec.csv 第2行 C列（报送期） 值“2026年12月”：2026年12月尚未结束，2027年1月1日起方可报送"],
        today=dt.date(2026, 12, 31),
    )  # fmt: skip


# ---------------------------------------------------------------- 8. empty values: not reported this month


def test_rows_with_an_empty_value_are_skipped_and_counted(seeded: Warehouse, cfg: TargetsConfig) -> None:
    rows = [
        (RENTAL, "东胜区", "2025-03", 5),
        (RENTAL, "康巴什区", "2025-03", ""),
        (RENTAL, "达拉特旗", "2025-03", "  "),
        (RENTAL, "准格尔旗", "2025-03", 7),
    ]
    data = csv_bytes(rows)
    checked = load(seeded, cfg, "part.csv", data, dry_run=True)
    assert checked.summary_zh() == "part.csv：校验通过，共4行（其中2行数值为空，视为本月未报送，未导入），可以导入"
    res = load_ok(seeded, cfg, "part.csv", data)
    assert (res.rows_total, res.rows_skipped, res.rows_loaded, res.rows_unchanged) == (4, 2, 2, 0)
    assert res.summary_zh() == (
        f"part.csv：已导入（报送编号{res.submission_id}），共4行（其中2行数值为空，视为本月未报送，未导入），"
        "新增2条、修订0条、未变化0条"
    )
    assert res.summary_en() == (
        f"part.csv: loaded as submission #{res.submission_id}, 4 rows (2 with an empty value: not reported this"
        " month, not loaded): 2 new, 0 revised, 0 unchanged"
    )
    got = {k: v for k, v in current(seeded.con).items() if k[2] == "2025-03"}
    assert got == {(RENTAL, "dongsheng", "2025-03"): 5.0, (RENTAL, "jungar", "2025-03"): 7.0}
    stored = db.one(
        seeded.con, "select rows_skipped, rows_unchanged from submissions where submission_id = ?", [res.submission_id]
    )
    assert stored == (2, 0)


def test_an_empty_value_row_is_checked_for_its_kpi_only(seeded: Warehouse, cfg: TargetsConfig) -> None:
    # a skipped row's district and period are not checked (nothing is loaded from it); its KPI is
    rows = [
        (RENTAL, "东胜区", "2025-03", 5),
        (RENTAL, "火星", "2025-13", ""),
        ("no_such_kpi", "东胜区", "2025-03", ""),
    ]
    assert_rejected(
        seeded,
        cfg,
        "kpi.csv",
        csv_bytes(rows),
        ["kpi.csv 第4行 A列（指标编码） 值“no_such_kpi”：未知指标，请使用模板中的指标编码"],
    )


def test_file_with_every_value_empty_is_rejected(seeded: Warehouse, cfg: TargetsConfig) -> None:
    rows = [(RENTAL, "东胜区", "2025-03", ""), (RENTAL, "康巴什区", "2025-03", "")]
    res = assert_rejected(seeded, cfg, "blank.csv", csv_bytes(rows), [f"blank.csv：{NOTHING_REPORTED}"])
    assert res.rows_skipped == 2


# ---------------------------------------------------------------- 9. bounded problems


def test_all_invalid_200k_rows_keep_the_first_1000_problems_and_the_exact_total(
    seeded: Warehouse, cfg: TargetsConfig
) -> None:
    n_rows = 200_000
    # three problems a row: unknown KPI (A), unknown district (B), not a number (D)
    data = ("\n".join([",".join(HEADER)] + ["no_such_kpi,火星,2025-03,abc"] * n_rows) + "\n").encode()
    before = take_snapshot(seeded.con)
    res = load(seeded, cfg, "all_bad.csv", data)
    assert res.outcome == "rejected"
    assert res.problems_total == 3 * n_rows
    assert len(res.problems) == 1000
    # the first by row: rows 2..334 with all three, then row 335 column A
    assert [(p.row, p.column) for p in res.problems[:3]] == [(2, "A（指标编码）"), (2, "B（旗区）"), (2, "D（数值）")]
    assert (res.problems[-1].row, res.problems[-1].column) == (335, "A（指标编码）")
    assert res.problems[5].zh() == f"all_bad.csv 第3行 D列（数值） 值“abc”：{NOT_A_NUMBER}"
    assert res.summary_zh() == "all_bad.csv：发现600000个问题（仅列出前1000个），文件未导入，数据库未做任何更改"
    assert (
        res.summary_en() == "all_bad.csv: 600000 problem(s) (only the first 1000 listed); not loaded, nothing changed"
    )
    after = take_snapshot(seeded.con)
    assert after["observations"] == before["observations"]
    stored = db.scalar(
        seeded.con, "select problems_total from submissions where submission_id = ?", [res.submission_id]
    )
    assert stored == 3 * n_rows


def test_a_long_value_is_quoted_up_to_200_characters(seeded: Warehouse, cfg: TargetsConfig) -> None:
    long = "9" * 150 + "x" * 5000
    res = assert_rejected(
        seeded, cfg, "long.csv", csv_bytes([(RENTAL, "东胜区", "2025-03", long)]),
        [f"long.csv 第2行 D列（数值） 值“{long[:199]}…”：{NOT_A_NUMBER}"],
    )  # fmt: skip
    assert len(res.problems[0].value or "") == 200
