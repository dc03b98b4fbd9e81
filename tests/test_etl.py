"""The bureau-report ETL: reading any accepted layout, every rejection with its exact message,
warnings, revisions and no-op re-uploads, rebuild from the archive, and the `python -m etl` CLI.

All tests use the small config of conftest.py (never the real targets.yaml) and today=2026-11-26.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import duckdb
import openpyxl
import pytest
import yaml

from etl.__main__ import main as etl_main
from etl.errors import Problem
from etl.load import LoadResult, load_bytes
from etl.read import read_report
from etl.rebuild import rebuild
from etl.template import HEADER, write_template
from monitor import db
from monitor.targets import TargetsConfig
from tests.conftest import TODAY, Warehouse

Snapshot = Callable[[duckdb.DuckDBPyConnection], dict[str, Any]]
ZH_HEADER = ("指标编码", "旗区", "报送期", "数值")
EN_HEADER = ("kpi", "district", "period", "value")
RENTAL = "rental_housing_units"
TALENT = "talent_apartments"


# ---------------------------------------------------------------- helpers


def csv_bytes(rows: Sequence[Sequence[object]], header: Sequence[str] = ZH_HEADER, encoding: str = "utf-8") -> bytes:
    lines = [",".join(header)] + [",".join(str(c) for c in r) for r in rows]
    return ("\n".join(lines) + "\n").encode(encoding)


def xlsx_bytes(rows: Sequence[Sequence[object]]) -> bytes:
    """Every row as given (title rows, header, data); strings starting with '=' become formulas."""
    book = openpyxl.Workbook()
    ws = book.active
    for r in rows:
        ws.append(list(r))
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def load(
    w: Warehouse, cfg: TargetsConfig, name: str, data: bytes, bureau: str = "housing", **kwargs: Any
) -> LoadResult:
    return load_bytes(name, data, cfg, bureau, "zhang_san", w.con, archive=w.archive, today=TODAY, **kwargs)


def current(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str, str], float]:
    rows = con.execute(
        "select kpi_id, district_id, strftime(period, '%Y-%m'), value from current_observations"
    ).fetchall()
    return {(k, d, p): v for k, d, p, v in rows}


def tuples(problems: list[Problem]) -> list[tuple[int | None, str | None, str]]:
    return [(p.row, p.column, p.reason_zh) for p in problems]


def load_ok(w: Warehouse, cfg: TargetsConfig, name: str, data: bytes, bureau: str = "housing") -> LoadResult:
    res = load(w, cfg, name, data, bureau)
    assert res.outcome == "accepted", [p.zh() for p in res.problems]
    return res


def assert_rejected(
    w: Warehouse,
    cfg: TargetsConfig,
    snapshot: Snapshot,
    name: str,
    data: bytes,
    expected: list[str],
    bureau: str = "housing",
    **kwargs: Any,
) -> LoadResult:
    """The file is rejected with exactly these messages, recorded as a rejected submission, and no
    observation changes."""
    before = snapshot(w.con)
    res = load(w, cfg, name, data, bureau, **kwargs)
    assert res.outcome == "rejected"
    assert [p.zh() for p in res.problems] == expected
    assert res.summary_zh() == f"{name}：发现{len(expected)}个问题，文件未导入，数据库未做任何更改"
    after = snapshot(w.con)
    assert after["observations"] == before["observations"]
    assert after["current"] == before["current"]
    assert after["rejected"] == before["rejected"] + 1
    assert after["accepted"] == before["accepted"]
    assert after["rejected_rows"] == before["rejected_rows"] + len(expected)
    stored = w.con.execute(
        "select reason_zh from rejected_rows where submission_id = ? order by row_number nulls first, column_name",
        [res.submission_id],
    ).fetchall()
    assert sorted(r[0] for r in stored) == sorted(p.reason_zh for p in res.problems)
    outcome = db.one(w.con, "select outcome, reason from submissions where submission_id = ?", [res.submission_id])
    assert outcome == ("rejected", res.problems[0].reason_zh)
    return res


@pytest.fixture
def seeded(warehouse: Warehouse, cfg: TargetsConfig) -> Warehouse:
    """A warehouse that already holds figures, so "unchanged" means something."""
    load_ok(
        warehouse,
        cfg,
        "housing_2025-01.csv",
        csv_bytes(
            [
                (RENTAL, "东胜区", "2025-01", 100),
                (RENTAL, "康巴什区", "2025-01", 50),
                (TALENT, "东胜区", "2025-01", 1000),
                (TALENT, "东胜区", "2025-02", 1200),
            ]
        ),
    )
    return warehouse


# ---------------------------------------------------------------- normalisation


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "gbk"])
def test_csv_is_read_in_utf8_with_or_without_bom_and_in_gbk(
    warehouse: Warehouse, cfg: TargetsConfig, encoding: str
) -> None:
    data = csv_bytes(
        [(RENTAL, "东胜区", "2025年3月", "120套"), (RENTAL, "鄂托克前旗", "2025-03", 7)], encoding=encoding
    )
    assert read_report("r.csv", data).encoding == ("gb18030" if encoding in ("gb18030", "gbk") else encoding)
    load_ok(warehouse, cfg, "r.csv", data)
    assert current(warehouse.con) == {(RENTAL, "dongsheng", "2025-03"): 120.0, (RENTAL, "otog_front", "2025-03"): 7.0}


@pytest.mark.parametrize(
    "header", [ZH_HEADER, EN_HEADER, ("KPI", "District", "Period", "Value"), ("指标代码", "地区", "月份", "本月数值")]
)
def test_headers_in_chinese_or_english_are_recognised(
    warehouse: Warehouse, cfg: TargetsConfig, header: tuple[str, ...]
) -> None:
    load_ok(warehouse, cfg, "r.csv", csv_bytes([(RENTAL, "东胜区", "2025-03", 5)], header=header))
    assert current(warehouse.con) == {(RENTAL, "dongsheng", "2025-03"): 5.0}


def test_columns_may_come_in_any_order_with_extra_columns(warehouse: Warehouse, cfg: TargetsConfig) -> None:
    data = csv_bytes([("x", 9, "2025-03", "东胜区", RENTAL)], header=("备注", "数值", "报送期", "旗区", "指标编码"))
    load_ok(warehouse, cfg, "r.csv", data)
    assert current(warehouse.con) == {(RENTAL, "dongsheng", "2025-03"): 9.0}


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("１２３", 123.0),  # full-width digits from a Chinese IME
        ('"12,345"', 12345.0),  # thousands separator (quoted in csv)
        ("1.5万", 15000.0),
        ("２万", 20000.0),
        ("120套", 120.0),  # trailing unit of the KPI
        (" 42 ", 42.0),
    ],
)
def test_numbers_written_the_chinese_way_are_understood(
    warehouse: Warehouse, cfg: TargetsConfig, typed: str, expected: float
) -> None:
    load_ok(warehouse, cfg, "r.csv", csv_bytes([(RENTAL, "东胜区", "2025-03", typed)]))
    assert current(warehouse.con) == {(RENTAL, "dongsheng", "2025-03"): expected}


@pytest.mark.parametrize(("typed", "expected"), [("30%", 30.0), ("30", 30.0), ("３０．５％", 30.5), ("99.9%", 99.9)])
def test_percent_sign_on_a_ratio_is_dropped(
    warehouse: Warehouse, cfg: TargetsConfig, typed: str, expected: float
) -> None:
    load_ok(warehouse, cfg, "r.csv", csv_bytes([("bus_coverage", "全市", "2025-03", typed)]), bureau="transport")
    assert current(warehouse.con) == {("bus_coverage", "city", "2025-03"): expected}


@pytest.mark.parametrize("period", ["2025-03", "2025年3月", "2025年03月", "202503", "2025/3", "2025-03-01"])
def test_periods_in_common_spellings_mean_the_same_month(warehouse: Warehouse, cfg: TargetsConfig, period: str) -> None:
    load_ok(warehouse, cfg, "r.csv", csv_bytes([(RENTAL, "东胜区", period, 5)]))
    assert current(warehouse.con) == {(RENTAL, "dongsheng", "2025-03"): 5.0}


def test_xlsx_period_as_excel_date_or_serial_number(warehouse: Warehouse, cfg: TargetsConfig) -> None:
    data = xlsx_bytes(
        [
            ZH_HEADER,
            (RENTAL, "东胜区", dt.datetime(2025, 3, 1), 5),
            (RENTAL, "康巴什区", dt.date(2025, 3, 15), 6),
            (RENTAL, "达拉特旗", 45717, 7),  # Excel serial day of 2025-03-01
            (RENTAL, "准格尔旗", 45717.0, 8.0),
        ]
    )
    load_ok(warehouse, cfg, "r.xlsx", data)
    assert current(warehouse.con) == {
        (RENTAL, "dongsheng", "2025-03"): 5.0,
        (RENTAL, "kangbashi", "2025-03"): 6.0,
        (RENTAL, "dalad", "2025-03"): 7.0,
        (RENTAL, "jungar", "2025-03"): 8.0,
    }


def test_district_by_chinese_name_id_english_name_or_alias(warehouse: Warehouse, cfg: TargetsConfig) -> None:
    data = csv_bytes(
        [
            (RENTAL, "东胜区", "2025-03", 1),
            (RENTAL, "kangbashi", "2025-03", 2),
            (RENTAL, "高新技术产业开发区", "2025-03", 3),
            (RENTAL, "Ejin Horo Banner", "2025-03", 4),
            (RENTAL, " 乌审旗 ", "2025-03", 5),
        ]
    )
    load_ok(warehouse, cfg, "r.csv", data)
    assert current(warehouse.con) == {
        (RENTAL, "dongsheng", "2025-03"): 1.0,
        (RENTAL, "kangbashi", "2025-03"): 2.0,
        (RENTAL, "gaoxin", "2025-03"): 3.0,
        (RENTAL, "ejin_horo", "2025-03"): 4.0,
        (RENTAL, "uxin", "2025-03"): 5.0,
    }


def test_city_alias_is_the_city(warehouse: Warehouse, cfg: TargetsConfig) -> None:
    load_ok(warehouse, cfg, "r.csv", csv_bytes([("bus_coverage", "合计", "2025-03", 88)]), bureau="transport")
    assert current(warehouse.con) == {("bus_coverage", "city", "2025-03"): 88.0}


def test_kpi_by_code_or_by_name(warehouse: Warehouse, cfg: TargetsConfig) -> None:
    by_name = csv_bytes(
        [("保障性租赁住房筹建套数", "东胜区", "2025-03", 5)], header=("指标名称", "旗区", "报送期", "数值")
    )
    load_ok(warehouse, cfg, "by_name.csv", by_name)
    # both columns, as in the template: an empty code falls back to the name beside it
    both = csv_bytes(
        [
            (RENTAL, "保障性租赁住房筹建套数", "康巴什区", "2025-03", 6),
            ("", "保障性租赁住房筹建套数", "达拉特旗", "2025-03", 7),
        ],
        header=("指标编码", "指标名称", "旗区", "报送期", "数值"),
    )
    load_ok(warehouse, cfg, "both.csv", both)
    assert current(warehouse.con) == {
        (RENTAL, "dongsheng", "2025-03"): 5.0,
        (RENTAL, "kangbashi", "2025-03"): 6.0,
        (RENTAL, "dalad", "2025-03"): 7.0,
    }


def test_title_row_above_header_in_xlsx_keeps_excel_row_numbers(warehouse: Warehouse, cfg: TargetsConfig) -> None:
    data = xlsx_bytes(
        [
            ("市住建局 2025年3月 新市民0477措施数据报送",),
            (),
            ZH_HEADER,
            (RENTAL, "东胜区", "2025-03", 5),
            (),  # a blank row in the middle is skipped
            (RENTAL, "康巴什区", "2025-03", "1.5万"),
        ]
    )
    load_ok(warehouse, cfg, "r.xlsx", data)
    rows = warehouse.con.execute(
        "select district_id, value, source_row from observations order by source_row"
    ).fetchall()
    assert rows == [("dongsheng", 5.0, 4), ("kangbashi", 15000.0, 6)]


def test_title_row_in_xlsx_then_bad_cell_is_reported_at_its_excel_row(
    warehouse: Warehouse, cfg: TargetsConfig, snapshot: Snapshot
) -> None:
    data = xlsx_bytes(
        [("报送表",), ZH_HEADER, (RENTAL, "东胜区", "2025-03", 5), (RENTAL, "康巴什区", "2025-03", "约五十")]
    )
    assert_rejected(
        warehouse, cfg, snapshot, "r.xlsx", data,
        ["r.xlsx 第4行 D列（数值） 值“约五十”：不是有效数字（可填 1234、1,234、1.5万 或 30%）"],
    )  # fmt: skip


def test_template_filled_in_loads(warehouse: Warehouse, cfg: TargetsConfig) -> None:
    buf = io.BytesIO()
    n = write_template(cfg, "housing", dt.date(2025, 3, 1), buf, values=[float(i) for i in range(20)])
    assert n == 20
    res = load_ok(warehouse, cfg, "housing_2025-03.xlsx", buf.getvalue())
    assert (res.rows_total, res.rows_loaded, res.periods) == (20, 20, ["2025-03"])
    assert current(warehouse.con)[(RENTAL, "dongsheng", "2025-03")] == 0.0
    assert current(warehouse.con)[(TALENT, "gaoxin", "2025-03")] == 19.0


# ---------------------------------------------------------------- rejections


def test_unknown_kpi_is_rejected(seeded: Warehouse, cfg: TargetsConfig, snapshot: Snapshot) -> None:
    assert_rejected(
        seeded, cfg, snapshot, "bad.csv", csv_bytes([("rental_units_x", "东胜区", "2025-03", 5)]),
        ["bad.csv 第2行 A列（指标编码） 值“rental_units_x”：未知指标，请使用模板中的指标编码"],
    )  # fmt: skip


def test_unknown_district_is_rejected(seeded: Warehouse, cfg: TargetsConfig, snapshot: Snapshot) -> None:
    assert_rejected(
        seeded, cfg, snapshot, "bad.csv", csv_bytes([(RENTAL, "东胜旗", "2025-03", 5)]),
        ["bad.csv 第2行 B列（旗区） 值“东胜旗”：未知旗区，应为7旗2区、高新区或“全市”"],
    )  # fmt: skip


def test_kpi_of_another_bureau_is_rejected(seeded: Warehouse, cfg: TargetsConfig, snapshot: Snapshot) -> None:
    assert_rejected(
        seeded, cfg, snapshot, "bad.csv", csv_bytes([("bus_coverage", "全市", "2025-03", 50)]),
        ["bad.csv 第2行 A列（指标编码） 值“bus_coverage”：该指标不属于本单位报送（责任单位：市交通运输局）"],
    )  # fmt: skip


def test_co_responsible_bureau_cannot_report_the_kpi(
    warehouse: Warehouse, cfg: TargetsConfig, snapshot: Snapshot
) -> None:
    assert_rejected(
        warehouse, cfg, snapshot, "bad.csv", csv_bytes([("settlement_subsidy_yuan", "东胜区", "2025-03", 1000)]),
        ["bad.csv 第2行 A列（指标编码） 值“settlement_subsidy_yuan”：该指标不属于本单位报送（责任单位：市公安局）"],
        bureau="finance",
    )  # fmt: skip


def test_text_in_a_number_cell_is_rejected(seeded: Warehouse, cfg: TargetsConfig, snapshot: Snapshot) -> None:
    assert_rejected(
        seeded, cfg, snapshot, "bad.csv",
        csv_bytes([(RENTAL, "东胜区", "2025-03", "待统计"), (RENTAL, "康巴什区", "2025-03", "1e3")]),
        [
            "bad.csv 第2行 D列（数值） 值“待统计”：不是有效数字（可填 1234、1,234、1.5万 或 30%）",
            "bad.csv 第3行 D列（数值） 值“1e3”：不是有效数字（可填 1234、1,234、1.5万 或 30%）",
        ],
    )  # fmt: skip


def test_file_whose_only_value_is_empty_is_rejected(seeded: Warehouse, cfg: TargetsConfig, snapshot: Snapshot) -> None:
    # an empty value means "not reported this month" (skipped); a file with nothing else reports nothing
    assert_rejected(
        seeded, cfg, snapshot, "bad.csv", csv_bytes([(RENTAL, "东胜区", "2025-03", "")]),
        ["bad.csv：文件中没有填写任何数值（数值列全部为空）"],
    )  # fmt: skip


def test_negative_count_is_rejected(seeded: Warehouse, cfg: TargetsConfig, snapshot: Snapshot) -> None:
    assert_rejected(
        seeded, cfg, snapshot, "bad.csv", csv_bytes([(RENTAL, "东胜区", "2025-03", -3)]),
        ["bad.csv 第2行 D列（数值） 值“-3”：数值不能为负数"],
    )  # fmt: skip


def test_ratio_over_100_is_rejected(warehouse: Warehouse, cfg: TargetsConfig, snapshot: Snapshot) -> None:
    assert_rejected(
        warehouse, cfg, snapshot, "bad.csv", csv_bytes([("bus_coverage", "全市", "2025-03", "100.5%")]),
        ["bad.csv 第2行 D列（数值） 值“100.5%”：比率应在0到100之间（单位：%）"],
        bureau="transport",
    )  # fmt: skip


def test_month_not_yet_ended_is_rejected(seeded: Warehouse, cfg: TargetsConfig, snapshot: Snapshot) -> None:
    # today is 2026-11-26: October has ended and is reportable; November (current) and December are not
    load_ok(seeded, cfg, "oct.csv", csv_bytes([(RENTAL, "东胜区", "2026-10", 5)]))
    assert_rejected(
        seeded, cfg, snapshot, "bad.csv",
        csv_bytes([(RENTAL, "东胜区", "2026-11", 5), (RENTAL, "东胜区", "2026-12", 5)]),
        [
            "bad.csv 第2行 C列（报送期） 值“2026-11”：2026年11月尚未结束，12月1日起方可报送",
            "bad.csv 第3行 C列（报送期） 值“2026-12”：2026年12月尚未结束，2027年1月1日起方可报送",
        ],
    )  # fmt: skip


def test_period_before_the_policy_is_rejected(seeded: Warehouse, cfg: TargetsConfig, snapshot: Snapshot) -> None:
    load_ok(seeded, cfg, "jul.csv", csv_bytes([(RENTAL, "东胜区", "2024-07", 5)]))
    assert_rejected(
        seeded, cfg, snapshot, "bad.csv", csv_bytes([(RENTAL, "东胜区", "2024年6月", 5)]),
        ["bad.csv 第2行 C列（报送期） 值“2024年6月”：报送期早于政策实施（2024年7月）"],
    )  # fmt: skip


@pytest.mark.parametrize("period", ["2025-13", "3月", "2025", "下月"])
def test_unrecognised_period_is_rejected(
    seeded: Warehouse, cfg: TargetsConfig, snapshot: Snapshot, period: str
) -> None:
    assert_rejected(
        seeded, cfg, snapshot, "bad.csv", csv_bytes([(RENTAL, "东胜区", period, 5)]),
        [f"bad.csv 第2行 C列（报送期） 值“{period}”：无法识别的报送期，应为 2025-03、2025年3月 或 202503"],
    )  # fmt: skip


def test_one_bad_period_among_good_ones_is_reported(seeded: Warehouse, cfg: TargetsConfig, snapshot: Snapshot) -> None:
    # regression: a single unparseable month among valid ones used to raise inside pandas
    data = csv_bytes(
        [(RENTAL, "东胜区", "2025-03", 5), (RENTAL, "康巴什区", "2025-13", 5), (RENTAL, "达拉特旗", "2025-00", 5)]
    )
    reason = "无法识别的报送期，应为 2025-03、2025年3月 或 202503"
    assert_rejected(
        seeded, cfg, snapshot, "bad.csv", data,
        [f"bad.csv 第3行 C列（报送期） 值“2025-13”：{reason}", f"bad.csv 第4行 C列（报送期） 值“2025-00”：{reason}"],
    )  # fmt: skip


def test_cumulative_figure_below_an_earlier_month_in_the_warehouse_is_rejected(
    seeded: Warehouse, cfg: TargetsConfig, snapshot: Snapshot
) -> None:
    # the warehouse holds 1000 (Jan) and 1200 (Feb) for 东胜区
    assert_rejected(
        seeded, cfg, snapshot, "bad.csv", csv_bytes([(TALENT, "东胜区", "2025-03", 1150)]),
        ["bad.csv 第2行 D列（数值） 值“1150”：累计数不应下降：低于2025年2月的1200"],
    )  # fmt: skip


def test_cumulative_figure_above_a_later_month_in_the_warehouse_is_rejected(
    seeded: Warehouse, cfg: TargetsConfig, snapshot: Snapshot
) -> None:
    # a late report for December may not exceed what January already says
    assert_rejected(
        seeded, cfg, snapshot, "bad.csv", csv_bytes([(TALENT, "东胜区", "2024-12", 1100)]),
        ["bad.csv 第2行 D列（数值） 值“1100”：累计数不应下降：高于2025年1月已报送的1000"],
    )  # fmt: skip


def test_cumulative_figure_that_falls_within_the_same_file_is_rejected(
    warehouse: Warehouse, cfg: TargetsConfig, snapshot: Snapshot
) -> None:
    data = csv_bytes(
        [
            (TALENT, "康巴什区", "2025-02", 90),  # rows out of order: the file is sorted by month first
            (TALENT, "康巴什区", "2025-01", 100),
            (TALENT, "东胜区", "2025-01", 10),
            (TALENT, "东胜区", "2025-02", 10),  # flat is fine
        ]
    )
    assert_rejected(
        warehouse, cfg, snapshot, "bad.csv", data,
        ["bad.csv 第2行 D列（数值） 值“90”：累计数不应下降：低于2025年1月的100"],
    )  # fmt: skip


def test_cumulative_revision_that_repairs_the_series_is_accepted(seeded: Warehouse, cfg: TargetsConfig) -> None:
    # Feb corrected down to 1100 and March 1150 in the same file: the series no longer falls
    res = load_ok(
        seeded, cfg, "fix.csv", csv_bytes([(TALENT, "东胜区", "2025-02", 1100), (TALENT, "东胜区", "2025-03", 1150)])
    )
    assert (res.rows_loaded, res.rows_revised) == (2, 1)
    assert current(seeded.con)[(TALENT, "dongsheng", "2025-02")] == 1100.0


def test_duplicate_rows_are_rejected_naming_both_rows(
    seeded: Warehouse, cfg: TargetsConfig, snapshot: Snapshot
) -> None:
    data = csv_bytes(
        [(RENTAL, "东胜区", "2025-03", 5), (RENTAL, "康巴什区", "2025-03", 6), (RENTAL, "dongsheng", "2025年3月", 7)]
    )
    assert_rejected(
        seeded, cfg, snapshot, "bad.csv", data,
        ["bad.csv 第2行：指标、旗区、报送期与第4行重复", "bad.csv 第4行：指标、旗区、报送期与第2行重复"],
    )  # fmt: skip


def test_three_copies_of_a_row_each_name_another(seeded: Warehouse, cfg: TargetsConfig, snapshot: Snapshot) -> None:
    data = csv_bytes([(RENTAL, "东胜区", "2025-03", 5)] * 3)
    assert_rejected(
        seeded, cfg, snapshot, "bad.csv", data,
        [
            "bad.csv 第2行：指标、旗区、报送期与第3行重复",
            "bad.csv 第3行：指标、旗区、报送期与第2行重复",
            "bad.csv 第4行：指标、旗区、报送期与第2行重复",
        ],
    )  # fmt: skip


def test_empty_file_is_rejected(seeded: Warehouse, cfg: TargetsConfig, snapshot: Snapshot) -> None:
    assert_rejected(seeded, cfg, snapshot, "empty.csv", b"", ["empty.csv：文件为空"])
    assert_rejected(seeded, cfg, snapshot, "empty.xlsx", b"", ["empty.xlsx：文件为空"])


@pytest.mark.parametrize("data", [csv_bytes([]), "\ufeff指标编码,旗区,报送期,数值\n,,,\n\n".encode()])
def test_header_only_file_is_rejected(seeded: Warehouse, cfg: TargetsConfig, snapshot: Snapshot, data: bytes) -> None:
    assert_rejected(seeded, cfg, snapshot, "head.csv", data, ["head.csv：文件没有数据行（只有表头）"])


def test_header_only_xlsx_is_rejected(seeded: Warehouse, cfg: TargetsConfig, snapshot: Snapshot) -> None:
    assert_rejected(
        seeded, cfg, snapshot, "head.xlsx", xlsx_bytes([ZH_HEADER]), ["head.xlsx：文件没有数据行（只有表头）"]
    )


def test_empty_xlsx_workbook_is_rejected(seeded: Warehouse, cfg: TargetsConfig, snapshot: Snapshot) -> None:
    assert_rejected(seeded, cfg, snapshot, "blank.xlsx", xlsx_bytes([]), ["blank.xlsx：文件没有数据行"])


def test_corrupt_xlsx_is_rejected(seeded: Warehouse, cfg: TargetsConfig, snapshot: Snapshot) -> None:
    real = xlsx_bytes([ZH_HEADER, (RENTAL, "东胜区", "2025-03", 5)])
    for cut in (len(real) // 2, len(real) - 30, 10):
        assert_rejected(
            seeded, cfg, snapshot, "broken.xlsx", real[:cut], ["broken.xlsx：文件已损坏或不是有效的 xlsx 文件"]
        )


def test_file_over_the_size_limit_is_rejected(seeded: Warehouse, cfg: TargetsConfig, snapshot: Snapshot) -> None:
    data = csv_bytes([(RENTAL, "东胜区", "2025-03", 5)] * 100)  # ~3.5 KB against a ~1 KB limit
    assert len(data) > 1048.576
    assert_rejected(
        seeded, cfg, snapshot, "big.csv", data, ["big.csv：文件大小 0.0 MB，超过上限 0.001 MB"], max_mb=0.001
    )


def test_formula_cells_are_rejected_naming_the_cell(seeded: Warehouse, cfg: TargetsConfig, snapshot: Snapshot) -> None:
    data = xlsx_bytes(
        [
            ZH_HEADER,
            (RENTAL, "东胜区", "2025-03", 5),
            (RENTAL, "康巴什区", "2025-03", "=1+1"),
            (RENTAL, "达拉特旗", "2025-03", "=D2*2"),
        ]
    )
    reason = "单元格含有公式，请改为直接填写数值（复制后“选择性粘贴—数值”）"
    res = assert_rejected(
        seeded, cfg, snapshot, "formula.xlsx", data,
        [f"formula.xlsx 第3行 D列 值“D3”：{reason}", f"formula.xlsx 第4行 D列 值“D4”：{reason}"],
    )  # fmt: skip
    assert tuples(res.problems) == [(3, "D", reason), (4, "D", reason)]


def test_file_in_an_unknown_encoding_is_rejected(seeded: Warehouse, cfg: TargetsConfig, snapshot: Snapshot) -> None:
    # \x81\x30 opens a 4-byte GB18030 sequence and \xff cannot continue it; it is not UTF-8 either
    head = b"kpi,district,period,value\nrental_housing_units,"
    data = head + b"\x81\x30\xff\xfe,2025-03,5\n"
    for codec in ("utf-8", "gb18030", "gbk"):
        with pytest.raises(UnicodeDecodeError):
            data.decode(codec)
    assert len(head) == 47
    assert_rejected(
        seeded, cfg, snapshot, "latin.csv", data,
        ["latin.csv：无法识别文件编码（第48字节），请另存为 UTF-8 或 GBK 编码的 csv"],
    )  # fmt: skip


def test_binary_junk_named_csv_is_rejected(seeded: Warehouse, cfg: TargetsConfig, snapshot: Snapshot) -> None:
    data = b"\x7fELF\x02\x01\x01\x00\x00\x00" + bytes(range(256)) * 4
    assert_rejected(seeded, cfg, snapshot, "report.csv", data, ["report.csv：文件含有二进制内容，不是文本格式的 csv"])


def test_unsupported_file_type_is_rejected(seeded: Warehouse, cfg: TargetsConfig, snapshot: Snapshot) -> None:
    assert_rejected(
        seeded, cfg, snapshot, "report.docx", b"not a report",
        ["report.docx：文件是Word 文档，无法读取；请在 Excel/WPS 中另存为 .xlsx 后上传"],
    )  # fmt: skip


def test_missing_required_column_is_rejected(seeded: Warehouse, cfg: TargetsConfig, snapshot: Snapshot) -> None:
    assert_rejected(
        seeded, cfg, snapshot, "bad.csv",
        csv_bytes([(RENTAL, "东胜区", 5)], header=("指标编码", "旗区", "数值")),
        ["bad.csv 第1行：缺少必需的列：报送期（表头应为：指标编码、旗区、报送期、数值）"],
    )  # fmt: skip


def test_several_missing_columns_are_named_together(seeded: Warehouse, cfg: TargetsConfig, snapshot: Snapshot) -> None:
    assert_rejected(
        seeded, cfg, snapshot, "bad.csv",
        csv_bytes([("2025-03", 5)], header=("报送期", "数值")),
        ["bad.csv 第1行：缺少必需的列：指标编码、旗区（表头应为：指标编码、旗区、报送期、数值）"],
    )  # fmt: skip


def test_city_row_for_a_sum_kpi_is_rejected(seeded: Warehouse, cfg: TargetsConfig, snapshot: Snapshot) -> None:
    assert_rejected(
        seeded, cfg, snapshot, "bad.csv", csv_bytes([(RENTAL, "全市", "2025-03", 500)]),
        ["bad.csv 第2行 B列（旗区） 值“全市”：该指标按旗区填报，全市合计由系统汇总，请勿填写全市"],
    )  # fmt: skip


def test_district_row_for_a_city_only_kpi_is_rejected(
    warehouse: Warehouse, cfg: TargetsConfig, snapshot: Snapshot
) -> None:
    assert_rejected(
        warehouse, cfg, snapshot, "bad.csv", csv_bytes([("bus_coverage", "东胜区", "2025-03", 50)]),
        ["bad.csv 第2行 B列（旗区） 值“东胜区”：该指标只填报全市数据，旗区请填“全市”"],
        bureau="transport",
    )  # fmt: skip


def test_milestone_other_than_0_or_1_is_rejected(warehouse: Warehouse, cfg: TargetsConfig, snapshot: Snapshot) -> None:
    reason = "完成情况只能填 1（已完成）或 0（未完成）"
    assert_rejected(
        warehouse, cfg, snapshot, "bad.csv",
        csv_bytes([("portal_online", "全市", "2025-03", 2), ("portal_online", "全市", "2025-04", 0.5)]),
        [f"bad.csv 第2行 D列（数值） 值“2”：{reason}", f"bad.csv 第3行 D列（数值） 值“0.5”：{reason}"],
        bureau="gov_services",
    )  # fmt: skip


def test_milestone_done_or_not_is_accepted(warehouse: Warehouse, cfg: TargetsConfig) -> None:
    data = csv_bytes([("portal_online", "全市", "2025-03", 0), ("portal_online", "全市", "2025-04", 1)])
    load_ok(warehouse, cfg, "ok.csv", data, bureau="gov_services")
    assert current(warehouse.con) == {
        ("portal_online", "city", "2025-03"): 0.0,
        ("portal_online", "city", "2025-04"): 1.0,
    }


def test_percent_on_a_count_kpi_is_rejected(seeded: Warehouse, cfg: TargetsConfig, snapshot: Snapshot) -> None:
    assert_rejected(
        seeded, cfg, snapshot, "bad.csv", csv_bytes([(RENTAL, "东胜区", "2025-03", "30%")]),
        ["bad.csv 第2行 D列（数值） 值“30%”：该指标不是比率，不能填写百分数"],
    )  # fmt: skip


def test_non_integer_count_is_rejected(seeded: Warehouse, cfg: TargetsConfig, snapshot: Snapshot) -> None:
    assert_rejected(
        seeded, cfg, snapshot, "bad.csv", csv_bytes([(RENTAL, "东胜区", "2025-03", 12.5)]),
        ["bad.csv 第2行 D列（数值） 值“12.5”：该指标为计数，应为整数"],
    )  # fmt: skip


def test_amount_may_have_decimals(warehouse: Warehouse, cfg: TargetsConfig) -> None:
    load_ok(
        warehouse, cfg, "ok.csv", csv_bytes([("settlement_subsidy_yuan", "东胜区", "2025-03", "1.25万")]),
        bureau="public_security",
    )  # fmt: skip
    assert current(warehouse.con) == {("settlement_subsidy_yuan", "dongsheng", "2025-03"): 12500.0}


def test_every_problem_is_reported_not_just_the_first(
    seeded: Warehouse, cfg: TargetsConfig, snapshot: Snapshot
) -> None:
    data = csv_bytes(
        [
            ("no_such_kpi", "东胜区", "2025-03", 5),
            (RENTAL, "东胜区", "2025-03", 5),  # fine
            (RENTAL, "火星", "2026-12", "abc"),
            (RENTAL, "康巴什区", "2025-03", -1),
        ],
        header=EN_HEADER,
    )
    res = assert_rejected(
        seeded, cfg, snapshot, "bad.csv", data,
        [
            "bad.csv 第2行 A列（kpi） 值“no_such_kpi”：未知指标，请使用模板中的指标编码",
            "bad.csv 第4行 B列（district） 值“火星”：未知旗区，应为7旗2区、高新区或“全市”",
            "bad.csv 第4行 C列（period） 值“2026-12”：2026年12月尚未结束，2027年1月1日起方可报送",
            "bad.csv 第4行 D列（value） 值“abc”：不是有效数字（可填 1234、1,234、1.5万 或 30%）",
            "bad.csv 第5行 D列（value） 值“-1”：数值不能为负数",
        ],
    )  # fmt: skip
    assert {p.row for p in res.problems} == {2, 4, 5}
    assert (
        db.scalar(seeded.con, "select rows_rejected from submissions where submission_id = ?", [res.submission_id]) == 3
    )
    assert (
        res.problems[0].en()
        == "bad.csv, row 2, column A（kpi） value 'no_such_kpi': unknown KPI; use the codes in the template"
    )


def test_rejected_rows_are_stored_with_row_column_and_value(
    seeded: Warehouse, cfg: TargetsConfig, snapshot: Snapshot
) -> None:
    res = assert_rejected(
        seeded, cfg, snapshot, "bad.csv", csv_bytes([(RENTAL, "东胜区", "2025-03", -3)]),
        ["bad.csv 第2行 D列（数值） 值“-3”：数值不能为负数"],
    )  # fmt: skip
    rows = seeded.con.execute(
        "select file_name, row_number, column_name, value, reason_zh, reason_en from rejected_rows "
        "where submission_id = ?",
        [res.submission_id],
    ).fetchall()
    assert rows == [("bad.csv", 2, "D（数值）", "-3", "数值不能为负数", "value cannot be negative")]


def test_unknown_bureau_is_rejected(warehouse: Warehouse, cfg: TargetsConfig, snapshot: Snapshot) -> None:
    assert_rejected(
        warehouse, cfg, snapshot, "r.csv", csv_bytes([(RENTAL, "东胜区", "2025-03", 5)]),
        ["r.csv：未知责任单位“nobody”"], bureau="nobody",
    )  # fmt: skip


# ---------------------------------------------------------------- warnings


def test_jump_far_outside_history_is_a_warning_and_the_file_loads(warehouse: Warehouse, cfg: TargetsConfig) -> None:
    history = csv_bytes([(RENTAL, "东胜区", f"2025-{m:02d}", 100 + m) for m in range(1, 7)])
    load_ok(warehouse, cfg, "history.csv", history)
    res = load_ok(
        warehouse, cfg, "jump.csv", csv_bytes([(RENTAL, "东胜区", "2025-07", 5000), (RENTAL, "东胜区", "2025-08", 110)])
    )
    assert res.problems == []
    assert [w.zh() for w in res.warnings] == [
        "jump.csv 第2行 D列（数值） 值“5000”：数值明显偏离该指标历史水平（历史中位数 103.5），请核实"
    ]
    assert res.summary_zh() == "jump.csv：已导入（报送编号2），共2行，新增2条、修订0条、未变化0条，1条提示请核实"
    assert current(warehouse.con)[(RENTAL, "dongsheng", "2025-07")] == 5000.0
    stored = warehouse.con.execute(
        "select submission_id, row_number, kpi_id, district_id, period, value, message_zh from load_warnings"
    ).fetchall()
    assert stored == [
        (
            2,
            2,
            RENTAL,
            "dongsheng",
            dt.date(2025, 7, 1),
            5000.0,
            "数值明显偏离该指标历史水平（历史中位数 103.5），请核实",
        )
    ]


def test_no_jump_warning_without_enough_history(warehouse: Warehouse, cfg: TargetsConfig) -> None:
    load_ok(warehouse, cfg, "h.csv", csv_bytes([(RENTAL, "东胜区", "2025-01", 1), (RENTAL, "东胜区", "2025-02", 1)]))
    res = load_ok(warehouse, cfg, "j.csv", csv_bytes([(RENTAL, "东胜区", "2025-03", 90000)]))
    assert res.warnings == []


# ---------------------------------------------------------------- load: revisions, no-ops, archive, audit


def test_reupload_of_same_file_is_a_noop(seeded: Warehouse, cfg: TargetsConfig, snapshot: Snapshot) -> None:
    data = csv_bytes([(RENTAL, "东胜区", "2025-03", 5)])
    first = load_ok(seeded, cfg, "r.csv", data)
    before = snapshot(seeded.con)
    again = load(seeded, cfg, "r_copy.csv", data)
    assert again.outcome == "duplicate"
    assert again.ok
    assert again.duplicate_of == first.submission_id == 2
    assert again.summary_zh() == "r_copy.csv：与第2号报送的文件完全相同，未做任何更改"
    after = snapshot(seeded.con)
    assert after["observations"] == before["observations"]
    assert after["submissions"] == before["submissions"]
    assert after["audit_log"] == before["audit_log"] + 1
    assert db.one(seeded.con, "select action from audit_log order by event_id desc limit 1") == ("upload_duplicate",)


def test_reupload_after_a_correction_restores_the_files_figures(warehouse: Warehouse, cfg: TargetsConfig) -> None:
    """A clerk corrected a month, then found the correction wrong and sends the original file again:
    its figures come back (as a new revision), where an identical file used to be refused as a no-op."""
    data = csv_bytes([(RENTAL, "东胜区", "2025-03", 5), (RENTAL, "康巴什区", "2025-03", 8)])
    first = load_ok(warehouse, cfg, "r.csv", data)
    fix = load(warehouse, cfg, "fix.csv", csv_bytes([(RENTAL, "东胜区", "2025-03", 7)]), reason="补录漏报项目")
    assert fix.outcome == "accepted"
    preview = load(warehouse, cfg, "r.csv", data, dry_run=True)
    assert preview.summary_zh() == (
        "r.csv：校验通过，共2行，可以导入（与第1号报送的文件相同，其后数据已有更正，导入将恢复本文件的数值）"
    )
    again = load(warehouse, cfg, "r.csv", data)
    assert (again.outcome, again.duplicate_of, again.submission_id) == ("accepted", first.submission_id, 3)
    assert (again.rows_loaded, again.rows_revised, again.rows_unchanged) == (1, 1, 1)
    assert again.summary_zh() == (
        "r.csv：与第1号报送的文件相同，但其后数据已有更正，已按本文件重新导入。"
        "已导入（报送编号3），共2行，新增0条、修订1条、未变化1条"
    )
    assert again.summary_en() == (
        "r.csv: same file as submission #1, but figures were corrected since; reloaded. "
        "loaded as submission #3, 2 rows: 0 new, 1 revised, 1 unchanged"
    )
    assert current(warehouse.con)[(RENTAL, "dongsheng", "2025-03")] == 5.0
    revisions = warehouse.con.execute(
        "select revision, value, submission_id from observations where district_id = 'dongsheng' order by revision"
    ).fetchall()
    assert revisions == [(1, 5.0, 1), (2, 7.0, 2), (3, 5.0, 3)]

    # now the file matches the warehouse again: a third copy is the usual no-op
    third = load(warehouse, cfg, "r.csv", data)
    assert (third.outcome, third.duplicate_of) == ("duplicate", first.submission_id)

    # and the archive replays the same history
    query = "select kpi_id, district_id, period, value, revision, submission_id from observations order by all"
    before = warehouse.con.execute(query).fetchall()
    warehouse.con.close()
    assert rebuild(warehouse.path, cfg) == 3
    con = db.connect(warehouse.path, read_only=True)
    try:
        assert con.execute(query).fetchall() == before
    finally:
        con.close()


def test_same_file_from_another_bureau_is_not_a_duplicate(warehouse: Warehouse, cfg: TargetsConfig) -> None:
    data = csv_bytes([(RENTAL, "东胜区", "2025-03", 5)])
    load_ok(warehouse, cfg, "r.csv", data)
    other = load(warehouse, cfg, "r.csv", data, bureau="transport")
    assert other.outcome == "rejected"  # checked on its own: transport does not report housing


def test_reupload_of_a_rejected_file_is_checked_again(
    seeded: Warehouse, cfg: TargetsConfig, snapshot: Snapshot
) -> None:
    data = csv_bytes([(RENTAL, "东胜区", "2025-03", -1)])
    expected = ["bad.csv 第2行 D列（数值） 值“-1”：数值不能为负数"]
    assert_rejected(seeded, cfg, snapshot, "bad.csv", data, expected)
    assert_rejected(seeded, cfg, snapshot, "bad.csv", data, expected)


def test_new_figure_for_reported_month_becomes_revision_and_keeps_old(seeded: Warehouse, cfg: TargetsConfig) -> None:
    res = load_ok(seeded, cfg, "fix.csv", csv_bytes([(RENTAL, "东胜区", "2025-01", 112)]))
    assert (res.rows_loaded, res.rows_revised, res.rows_unchanged) == (1, 1, 0)
    assert res.summary_zh() == "fix.csv：已导入（报送编号2），共1行，新增0条、修订1条、未变化0条"
    rows = seeded.con.execute(
        """
        select value, revision, submission_id from observations
        where kpi_id = ? and district_id = 'dongsheng' and period = '2025-01-01' order by revision
        """,
        [RENTAL],
    ).fetchall()
    assert rows == [(100.0, 1, 1), (112.0, 2, 2)]
    assert current(seeded.con)[(RENTAL, "dongsheng", "2025-01")] == 112.0
    assert db.one(
        seeded.con,
        "select value, revision from current_observations where kpi_id = ? and district_id = 'dongsheng' "
        "and period = '2025-01-01'",
        [RENTAL],
    ) == (112.0, 2)
    # a third figure is revision 3; the city total follows the latest
    load_ok(seeded, cfg, "fix2.csv", csv_bytes([(RENTAL, "东胜区", "2025-01", 120)]))
    assert db.scalar(seeded.con, "select max(revision) from observations where kpi_id = ?", [RENTAL]) == 3
    city = db.scalar(seeded.con, "select value from city_values where kpi_id = ? and period = '2025-01-01'", [RENTAL])
    assert city == 170.0  # 120 (东胜区, latest) + 50 (康巴什区)


def test_unchanged_figure_adds_no_row(seeded: Warehouse, cfg: TargetsConfig, snapshot: Snapshot) -> None:
    before = snapshot(seeded.con)
    # the same figures in a different file (other layout, other spelling): nothing new
    data = csv_bytes([("dongsheng", "2025年1月", "１００", RENTAL), ("康巴什区", "202501", "50", RENTAL)],
                     header=("旗区", "报送期", "数值", "指标编码"))  # fmt: skip
    res = load_ok(seeded, cfg, "same.csv", data)
    assert (res.rows_loaded, res.rows_revised, res.rows_unchanged) == (0, 0, 2)
    assert res.summary_zh() == "same.csv：已导入（报送编号2），共2行，新增0条、修订0条、未变化2条"
    after = snapshot(seeded.con)
    assert after["observations"] == before["observations"]
    assert after["accepted"] == before["accepted"] + 1


def test_mixed_file_counts_new_revised_and_unchanged(seeded: Warehouse, cfg: TargetsConfig) -> None:
    data = csv_bytes(
        [(RENTAL, "东胜区", "2025-01", 100), (RENTAL, "康巴什区", "2025-01", 55), (RENTAL, "东胜区", "2025-02", 9)]
    )
    res = load_ok(seeded, cfg, "mix.csv", data)
    assert (res.rows_total, res.rows_loaded, res.rows_revised, res.rows_unchanged) == (3, 2, 1, 1)
    assert res.periods == ["2025-01", "2025-02"]
    row = db.one(
        seeded.con,
        "select rows_total, rows_loaded, rows_unchanged, rows_rejected from submissions where submission_id = ?",
        [res.submission_id],
    )
    assert row == (3, 2, 1, 0)


def test_submissions_table_records_user_file_sha256_rows_and_outcome(warehouse: Warehouse, cfg: TargetsConfig) -> None:
    import hashlib

    data = csv_bytes([(RENTAL, "东胜区", "2025-03", 5), (RENTAL, "康巴什区", "2025-03", 6)])
    when = dt.datetime(2025, 4, 8, 9, 30)
    res = load(warehouse, cfg, "housing_202503.csv", data, submitted_at=when)
    bad = load(warehouse, cfg, "bad.csv", csv_bytes([(RENTAL, "东胜区", "2025-03", "x")]), submitted_at=when)
    rows = warehouse.con.execute(
        """
        select submission_id, bureau_id, user_name, submitted_at, file_name, sha256, file_bytes,
               rows_total, rows_loaded, rows_unchanged, rows_rejected, outcome, reason, archive_name
        from submissions order by submission_id
        """
    ).fetchall()
    digest = hashlib.sha256(data).hexdigest()
    bad_digest = hashlib.sha256(csv_bytes([(RENTAL, "东胜区", "2025-03", "x")])).hexdigest()
    assert res.sha256 == digest
    assert rows == [
        (1, "housing", "zhang_san", when, "housing_202503.csv", digest, len(data), 2, 2, 0, 0, "accepted", None,
         f"{digest}.csv"),
        (2, "housing", "zhang_san", when, "bad.csv", bad_digest, len(csv_bytes([(RENTAL, "东胜区", "2025-03", "x")])),
         1, 0, 0, 1, "rejected", "不是有效数字（可填 1234、1,234、1.5万 或 30%）", None),
    ]  # fmt: skip
    assert bad.submission_id == 2


def test_archive_holds_accepted_file_by_sha256_with_manifest(warehouse: Warehouse, cfg: TargetsConfig) -> None:
    data = xlsx_bytes([ZH_HEADER, (RENTAL, "东胜区", "2025-03", 5)])
    res = load_ok(warehouse, cfg, "housing.xlsx", data)
    stored = warehouse.archive / f"{res.sha256}.xlsx"
    assert stored.read_bytes() == data
    manifest = json.loads((warehouse.archive / f"{res.sha256}.{res.submission_id}.json").read_text(encoding="utf-8"))
    assert manifest["file_name"] == "housing.xlsx"
    assert manifest["bureau_id"] == "housing"
    assert manifest["user"] == "zhang_san"
    assert manifest["archive_name"] == stored.name
    assert manifest["today"] == TODAY.isoformat()
    assert not list(warehouse.archive.glob("*.tmp"))


def test_rejected_file_is_not_archived(warehouse: Warehouse, cfg: TargetsConfig) -> None:
    load(warehouse, cfg, "bad.csv", csv_bytes([(RENTAL, "东胜区", "2025-03", "x")]))
    assert not warehouse.archive.exists() or not list(warehouse.archive.iterdir())


def test_audit_log_records_accepted_and_rejected_uploads(warehouse: Warehouse, cfg: TargetsConfig) -> None:
    ok = load_ok(warehouse, cfg, "ok.csv", csv_bytes([(RENTAL, "东胜区", "2025-03", 5)]))
    bad = load(warehouse, cfg, "bad.csv", csv_bytes([(RENTAL, "东胜区", "2025-03", "x"), ("x", "y", "z", 1)]))
    rows = warehouse.con.execute(
        "select user_name, action, detail from audit_log where action like 'upload%' order by event_id"
    ).fetchall()
    assert [(u, a) for u, a, _ in rows] == [("zhang_san", "upload_accepted"), ("zhang_san", "upload_rejected")]
    accepted, rejected = json.loads(rows[0][2]), json.loads(rows[1][2])
    assert accepted == {
        "submission_id": ok.submission_id, "bureau": "housing", "file": "ok.csv", "sha256": ok.sha256,
            "rows": 1, "loaded": 1, "revised": 0, "reason": None, "review": "approved",
    }  # fmt: skip
    assert rejected == {
        "submission_id": bad.submission_id, "bureau": "housing", "file": "bad.csv", "problems": len(bad.problems),
    }  # fmt: skip
    assert len(bad.problems) == 4  # value of row 2; KPI, district and period of row 3


def test_path_traversal_file_name_is_stored_as_base_name(warehouse: Warehouse, cfg: TargetsConfig) -> None:
    res = load_ok(warehouse, cfg, "../../etc/passwd.csv", csv_bytes([(RENTAL, "东胜区", "2025-03", 5)]))
    assert res.file_name == "passwd.csv"
    assert db.scalar(warehouse.con, "select file_name from submissions") == "passwd.csv"
    assert (warehouse.archive / f"{res.sha256}.csv").exists()
    assert [p.parent for p in warehouse.archive.parent.rglob("*.csv")] == [warehouse.archive]
    bad = load(warehouse, cfg, "..\\..\\windows\\evil.csv", b"")
    assert bad.file_name == "evil.csv"
    assert [p.zh() for p in bad.problems] == ["evil.csv：文件为空"]


def test_dry_run_checks_without_writing(seeded: Warehouse, cfg: TargetsConfig, snapshot: Snapshot) -> None:
    before = snapshot(seeded.con)
    res = load(seeded, cfg, "r.csv", csv_bytes([(RENTAL, "东胜区", "2025-03", 5)]), dry_run=True)
    assert res.outcome == "checked"
    assert res.summary_zh() == "r.csv：校验通过，共1行，可以导入"
    assert snapshot(seeded.con) == before


def test_dry_run_of_a_file_already_loaded_says_so_and_writes_nothing(
    seeded: Warehouse, cfg: TargetsConfig, snapshot: Snapshot
) -> None:
    data = csv_bytes([(RENTAL, "东胜区", "2025-03", 5)])
    first = load_ok(seeded, cfg, "r.csv", data)
    before = snapshot(seeded.con)
    res = load(seeded, cfg, "r.csv", data, dry_run=True)
    assert (res.outcome, res.duplicate_of, res.ok) == ("duplicate", first.submission_id, True)
    assert res.summary_zh() == "r.csv：与第2号报送的文件完全相同，未做任何更改"
    assert snapshot(seeded.con) == before  # not even an audit row: a preview is not an upload


@pytest.mark.duckdb_file
def test_rebuild_reproduces_current_values(warehouse: Warehouse, cfg: TargetsConfig) -> None:
    load_ok(
        warehouse, cfg, "a.csv", csv_bytes([(RENTAL, "东胜区", "2025-01", 10), (RENTAL, "康巴什区", "2025-01", 20)])
    )
    load_ok(warehouse, cfg, "b.xlsx", xlsx_bytes([("标题",), ZH_HEADER, (TALENT, "东胜区", "2025-01", 100)]))
    load_ok(warehouse, cfg, "c.csv", csv_bytes([(TALENT, "东胜区", "2025-02", 150), (RENTAL, "东胜区", "2025-01", 11)]))
    load_ok(warehouse, cfg, "d.csv", csv_bytes([("bus_coverage", "全市", "2025-02", "81.5%")]), bureau="transport")
    load(warehouse, cfg, "bad.csv", csv_bytes([(RENTAL, "全市", "2025-01", 1)]))  # rejected: not replayed
    # the first figures again, in another order (so another file): 东胜区 goes back to 10 as revision 3
    load_ok(
        warehouse, cfg, "a2.csv", csv_bytes([(RENTAL, "康巴什区", "2025-01", 20), (RENTAL, "东胜区", "2025-01", 10)])
    )
    query = "select kpi_id, district_id, period, value, revision from current_observations order by all"
    all_rows = "select kpi_id, district_id, period, value, revision from observations order by all"
    before, before_all = warehouse.con.execute(query).fetchall(), warehouse.con.execute(all_rows).fetchall()
    assert len(before) == 5
    warehouse.con.close()
    replayed = rebuild(warehouse.path, cfg)
    assert replayed == 5  # a, b, c, d and a2; the rejected file is not archived
    con = db.connect(warehouse.path)
    try:
        assert con.execute(query).fetchall() == before
        assert con.execute(all_rows).fetchall() == before_all
        assert db.scalar(con, "select count(*) from submissions where outcome = 'accepted'") == 5
        assert db.one(con, "select action from audit_log order by event_id desc limit 1") == ("rebuild",)
    finally:
        con.close()


# ---------------------------------------------------------------- command line


@pytest.fixture
def cli(tmp_path: Path, cfg_dict: dict[str, Any]) -> Callable[..., int]:
    targets = tmp_path / "targets.yaml"
    targets.write_text(yaml.safe_dump(cfg_dict, allow_unicode=True, sort_keys=False), encoding="utf-8")

    def run(*args: str, db_name: str = "cli.duckdb") -> int:
        return etl_main(["--db", str(tmp_path / db_name), "--targets", str(targets), *args])

    return run


def test_cli_template_writes_one_row_per_kpi_and_district(
    cli: Callable[..., int], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "housing_2025-03.xlsx"
    assert cli("template", "--bureau", "housing", "--period", "2025-03", "--out", str(out)) == 0
    assert capsys.readouterr().out.strip() == f"已生成模板 {out}（20行）"
    book = openpyxl.load_workbook(out)
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    assert list(rows[0]) == HEADER
    assert list(rows[0]) == [
        "指标编码",
        "指标名称",
        "旗区",
        "报送期",
        "数值",
        "单位",
        "报送口径",
        "上月数值（参考）",
        "备注",
    ]
    body = rows[1:]
    assert len(body) == 2 * 10
    districts = [
        "东胜区",
        "康巴什区",
        "达拉特旗",
        "准格尔旗",
        "鄂托克前旗",
        "鄂托克旗",
        "杭锦旗",
        "乌审旗",
        "伊金霍洛旗",
        "高新区",
    ]
    assert [(r[0], r[2]) for r in body] == [(k, d) for k in (RENTAL, TALENT) for d in districts]
    assert {r[3] for r in body} == {"2025-03"}
    assert body[0][1] == "保障性租赁住房筹建套数"
    assert body[0][5] == "套"
    assert body[0][6] == "填本月新增数（不是累计数）"
    assert body[10][6] == "填自2024年7月以来的累计数，不得小于上月"
    assert book.sheetnames == ["报送数据", "填报说明"]


def test_cli_template_for_city_only_kpi_has_one_city_row(
    cli: Callable[..., int], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "t.xlsx"
    assert cli("template", "--bureau", "transport", "--period", "2025-03", "--out", str(out)) == 0
    rows = list(openpyxl.load_workbook(out).worksheets[0].iter_rows(values_only=True))
    assert [(r[0], r[2], r[6]) for r in rows[1:]] == [("bus_coverage", "全市", "填月末比率，0–100，可带%")]


def test_cli_template_unknown_bureau_is_a_usage_error(
    cli: Callable[..., int], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli("template", "--bureau", "nobody", "--period", "2025-03", "--out", str(tmp_path / "t.xlsx")) == 2
    assert capsys.readouterr().err.strip() == "未知责任单位：nobody"


def test_cli_check_prints_every_problem_and_exits_1(
    cli: Callable[..., int], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_bytes(
        csv_bytes(
            [("x", "东胜区", "2025-03", 5), (RENTAL, "东胜区", "2025-03", -1), (RENTAL, "康巴什区", "2025-03", "1.5")]
        )
    )
    assert cli("check", str(bad), "--bureau", "housing") == 1
    assert capsys.readouterr().out.splitlines() == [
        "bad.csv 第2行 A列（指标编码） 值“x”：未知指标，请使用模板中的指标编码",
        "bad.csv 第3行 D列（数值） 值“-1”：数值不能为负数",
        "bad.csv 第4行 D列（数值） 值“1.5”：该指标为计数，应为整数",
        "bad.csv：发现3个问题，文件未导入，数据库未做任何更改",
    ]
    con = db.connect(tmp_path / "cli.duckdb", read_only=True)
    try:  # a check writes nothing
        assert db.scalar(con, "select count(*) from submissions") == 0
    finally:
        con.close()


def test_cli_check_good_file_exits_0(
    cli: Callable[..., int], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = tmp_path / "good.csv"
    good.write_bytes(csv_bytes([(RENTAL, "东胜区", "2025-03", 5)]))
    assert cli("check", str(good), "--bureau", "housing") == 0
    assert capsys.readouterr().out.strip() == "good.csv：校验通过，共1行，可以导入"


def test_cli_load_exits_0_with_summary_line(
    cli: Callable[..., int], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    f = tmp_path / "housing_202503.csv"
    f.write_bytes(csv_bytes([(RENTAL, "东胜区", "2025-03", 5), (RENTAL, "康巴什区", "2025-03", 6)], encoding="gb18030"))
    assert cli("load", str(f), "--bureau", "housing", "--user", "li_si") == 0
    assert (
        capsys.readouterr().out.strip() == "housing_202503.csv：已导入（报送编号1），共2行，新增2条、修订0条、未变化0条"
    )
    assert cli("load", str(f), "--bureau", "housing", "--user", "li_si") == 0
    assert capsys.readouterr().out.strip() == "housing_202503.csv：与第1号报送的文件完全相同，未做任何更改"
    con = db.connect(tmp_path / "cli.duckdb", read_only=True)
    try:
        assert db.one(con, "select user_name, outcome from submissions") == ("li_si", "accepted")
    finally:
        con.close()
    assert (tmp_path / "archive").is_dir()


def test_cli_load_bad_file_exits_1(cli: Callable[..., int], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "big.csv"
    f.write_bytes(csv_bytes([(RENTAL, "东胜区", "2025-03", 5)] * 100))
    assert cli("load", str(f), "--bureau", "housing", "--user", "li_si", "--max-mb", "0.001") == 1
    assert capsys.readouterr().out.splitlines() == [
        "big.csv：文件大小 0.0 MB，超过上限 0.001 MB",
        "big.csv：发现1个问题，文件未导入，数据库未做任何更改",
    ]


def test_cli_missing_file_is_a_usage_error(
    cli: Callable[..., int], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli("check", str(tmp_path / "nope.csv"), "--bureau", "housing") == 2
    assert capsys.readouterr().err.strip() == f"找不到文件：{tmp_path / 'nope.csv'}"


def test_cli_bad_targets_file_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "targets.yaml"
    bad.write_text("version: [", encoding="utf-8")
    assert etl_main(["--db", str(tmp_path / "w.duckdb"), "--targets", str(bad), "rebuild"]) == 2
    assert "targets.yaml: YAML 语法错误" in capsys.readouterr().err


def test_cli_demo_is_deterministic_and_marked_as_demo(
    cli: Callable[..., int], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli("demo", "--until", "2025-03", db_name="one/demo.duckdb") == 0
    out1 = capsys.readouterr().out.strip()
    assert cli("demo", "--until", "2025-03", db_name="two/demo.duckdb") == 0
    out2 = capsys.readouterr().out.strip()
    assert out1 == out2.replace("/two/", "/one/")
    assert out1.startswith("演示数据（合成，非真实数据）已导入：")
    query = """
        select kpi_id, district_id, period, value, revision, submission_id, source_row
        from current_observations order by all
    """
    results = []
    for name in ("one", "two"):
        con = db.connect(tmp_path / name / "demo.duckdb", read_only=True)
        try:
            results.append(con.execute(query).fetchall())
            assert db.get_meta(con, "dataset") == "demo"
            periods = db.one(con, "select min(period), max(period) from observations")
            assert periods == (dt.date(2024, 7, 1), dt.date(2025, 3, 1))
            assert db.scalar(con, "select count(*) from submissions where outcome <> 'accepted'") == 0
            # the demo's correction of an earlier month is a revision beside the original
            assert db.scalar(con, "select count(*) from observations where revision > 1") == 1
            kpis = {r[0] for r in con.execute("select distinct kpi_id from observations").fetchall()}
            assert kpis == {RENTAL, TALENT, "bus_coverage", "portal_online", "settlement_subsidy_yuan",
                            "settlement_subsidy_people", "jobs_new"}  # fmt: skip
        finally:
            con.close()
    assert results[0] == results[1]
    assert len(results[0]) > 0
    # reports are written beside the warehouse as real bureaus would send them
    assert sorted(p.suffix for p in (tmp_path / "one" / "demo_reports").rglob("*.*")) != []
    assert cli("demo", "--until", "2025-03", "--if-empty", db_name="one/demo.duckdb") == 0
    assert capsys.readouterr().out.strip() == "数据库已有数据，跳过演示数据。"


@pytest.mark.duckdb_file
def test_cli_rebuild_replays_the_archive(
    cli: Callable[..., int], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    f = tmp_path / "r.csv"
    f.write_bytes(csv_bytes([(RENTAL, "东胜区", "2025-03", 5)]))
    assert cli("load", str(f), "--bureau", "housing", "--user", "li_si") == 0
    capsys.readouterr()
    assert cli("rebuild") == 0
    assert capsys.readouterr().out.strip() == f"已从归档重建数据库：重放1个文件 -> {tmp_path / 'cli.duckdb'}"
    con = db.connect(tmp_path / "cli.duckdb", read_only=True)
    try:
        assert current(con) == {(RENTAL, "dongsheng", "2025-03"): 5.0}
    finally:
        con.close()
