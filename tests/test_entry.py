"""在线填报, the module (etl.entry): the grid a bureau fills is the template's rows, the report it becomes
loads through the ETL like an upload (same figures, same messages on the right grid row, empty cells
not reported), a draft outlives the connection, and a rebuild replays a grid submission exactly.

Uses the small config of conftest: housing leads two "sum" KPIs (rental_housing_units, increment;
talent_apartments, cumulative) reported by the 10 districts; transport one "city" ratio.
"""

from __future__ import annotations

import copy
import csv
import datetime as dt
import io
from pathlib import Path
from typing import Any

import pandas as pd

from etl import entry
from etl.load import LoadResult, load_bytes
from etl.rebuild import rebuild_warehouse
from etl.template import HEADER, template_rows
from monitor import db
from monitor.targets import TargetsConfig, parse_targets
from tests.conftest import DISTRICTS, TARGETS_DICT, TODAY, Warehouse

OCTOBER, SEPTEMBER = dt.date(2026, 10, 1), dt.date(2026, 9, 1)
RENTAL, TALENT = "rental_housing_units", "talent_apartments"
UNITS = [d["id"] for d in DISTRICTS if d["id"] != "city"]  # the 10 reporting units, in targets order
NOT_A_NUMBER = "不是有效数字（可填 1234、1,234、1.5万 或 30%）"
EMPTY_FILE = "文件中没有填写任何数值（数值列全部为空）"


def load(w: Warehouse, cfg: TargetsConfig, name: str, data: bytes, **kw: Any) -> LoadResult:
    return load_bytes(name, data, cfg, "housing", "zhang_san", w.con, archive=w.archive, today=TODAY, **kw)


def upload(rows: list[tuple[str, str, str, object]]) -> bytes:
    return ("指标编码,旗区,报送期,数值\n" + "".join(f"{k},{d},{p},{v}\n" for k, d, p, v in rows)).encode()


def typed(frame: pd.DataFrame, cells: dict[tuple[str, str], tuple[str | None, str | None]]) -> pd.DataFrame:
    """The grid with values and notes typed into the rows named by (kpi_id, district_id)."""
    out = frame.copy()
    for (kpi, district), (value, note) in cells.items():
        at = out.index[(out["kpi_id"] == kpi) & (out["district_id"] == district)][0]
        out.loc[at, entry.VALUE] = value
        out.loc[at, entry.NOTE] = note
    return out


def current(con: Any) -> dict[tuple[str, str, str], float]:
    found = con.execute("select kpi_id, district_id, strftime(period, '%Y-%m'), value from current_observations")
    return {(k, d, p): v for k, d, p, v in found.fetchall()}


def csv_rows(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"))))


# -- the grid ------------------------------------------------------------------------------------------


def test_grid_rows_are_the_templates_kpis_by_the_ten_districts_for_a_sum_kpi(
    warehouse: Warehouse, cfg: TargetsConfig
) -> None:
    frame = entry.grid(warehouse.con, cfg, "housing", OCTOBER)
    assert list(zip(frame["kpi_id"], frame["district_id"], strict=True)) == [
        *((RENTAL, d) for d in UNITS),
        *((TALENT, d) for d in UNITS),
    ]
    template = template_rows(cfg, "housing", OCTOBER)
    for column in ["kpi_id", "district_id", "指标编码", "指标名称", "旗区", "报送期", "单位", "报送口径"]:
        assert list(frame[column]) == list(template[column]), column
    assert list(frame["旗区"][:3]) == ["东胜区", "康巴什区", "达拉特旗"]
    assert set(frame["报送口径"][:10]) == {"填本月新增数（不是累计数）"}
    assert set(frame["报送口径"][10:]) == {"填自2024年7月以来的累计数，不得小于上月"}
    assert list(frame["rule"].unique()) == ["increment", "cumulative"]
    assert frame[entry.VALUE].isna().all() and frame[entry.NOTE].isna().all()  # nothing reported yet


def test_grid_of_a_city_kpi_is_one_row_and_of_an_all_kpi_the_city_then_the_districts(tmp_path: Path) -> None:
    spec = copy.deepcopy(TARGETS_DICT)
    centre = dict(spec["kpis"][3], id="centre_window", name_zh="落户专窗", aggregation="all", lead="gov_services")
    spec["kpis"].append(centre)
    cfg = parse_targets(spec)
    con = db.connect(tmp_path / "w.duckdb")
    try:
        db.load_reference(con, cfg)
        transport = entry.grid(con, cfg, "transport", OCTOBER)
        services = entry.grid(con, cfg, "gov_services", OCTOBER)
    finally:
        con.close()
    assert list(zip(transport["kpi_id"], transport["旗区"], strict=True)) == [("bus_coverage", "全市")]
    assert list(transport["报送口径"]) == ["填月末比率，0–100，可带%"] and list(transport["rule"]) == ["ratio"]
    assert list(zip(services["kpi_id"], services["district_id"], strict=True)) == [
        ("portal_online", "city"),
        ("centre_window", "city"),
        *(("centre_window", d) for d in UNITS),
    ]
    assert list(services["rule"][:1]) == ["flag"]


def test_grid_shows_last_month_as_submitted_pending_included_and_this_months_figures_and_notes(
    warehouse: Warehouse, cfg: TargetsConfig
) -> None:
    assert load(
        warehouse, cfg, "sep.csv", upload([(RENTAL, "东胜区", "2026-09", 5), (TALENT, "康巴什区", "2026-09", 40)])
    ).ok
    # a pending report counts as submitted (the bureau sees what it sent), a returned one does not
    noted = f"指标编码,旗区,报送期,数值,备注\n{RENTAL},东胜区,2026-10,1234,含3月漏报项目\n"
    assert load(warehouse, cfg, "oct.csv", noted.encode(), review_status="pending").ok
    returned = load(warehouse, cfg, "back.csv", upload([(RENTAL, "达拉特旗", "2026-10", 9)]))
    warehouse.con.execute(
        "update submissions set review_status = 'returned' where submission_id = ?", [returned.submission_id]
    )

    frame = entry.grid(warehouse.con, cfg, "housing", OCTOBER).set_index(["kpi_id", "district_id"])

    assert frame.loc[(RENTAL, "dongsheng"), entry.LAST] == 5.0
    assert frame.loc[(TALENT, "kangbashi"), entry.LAST] == 40.0
    assert frame[entry.LAST].notna().sum() == 2
    assert frame.loc[(RENTAL, "dongsheng"), entry.VALUE] == "1234"  # as it would be typed, no ".0"
    assert frame.loc[(RENTAL, "dongsheng"), entry.NOTE] == "含3月漏报项目"
    assert pd.isna(frame.loc[(RENTAL, "dalad"), entry.VALUE])  # returned: not submitted
    assert frame[entry.VALUE].notna().sum() == 1


def test_fill_from_last_month_copies_last_months_figure_into_empty_cells_only(
    warehouse: Warehouse, cfg: TargetsConfig
) -> None:
    assert load(
        warehouse, cfg, "sep.csv", upload([(RENTAL, "东胜区", "2026-09", 5), (RENTAL, "康巴什区", "2026-09", 8)])
    ).ok
    frame = typed(entry.grid(warehouse.con, cfg, "housing", OCTOBER), {(RENTAL, "kangbashi"): ("11", None)})

    filled = entry.fill_from_last_month(frame)

    assert list(filled[entry.VALUE][:3]) == ["5", "11", pd.NA]  # copied, kept as typed, no figure last month
    assert filled[entry.VALUE].notna().sum() == 2


# -- the report it becomes ------------------------------------------------------------------------------


def test_report_has_the_template_columns_one_line_per_grid_row_and_the_note(
    warehouse: Warehouse, cfg: TargetsConfig
) -> None:
    frame = typed(entry.grid(warehouse.con, cfg, "housing", OCTOBER), {(RENTAL, "kangbashi"): ("1,234", "含漏报")})

    name, data = entry.to_report(frame, "housing", OCTOBER)

    assert name == "在线填报_housing_202610.csv"
    assert data.decode("utf-8").splitlines()[0] == ",".join(HEADER)
    lines = csv_rows(data)
    assert len(lines) == 20
    assert lines[1] == {
        "指标编码": RENTAL, "指标名称": "保障性租赁住房筹建套数", "旗区": "康巴什区", "报送期": "2026-10",
        "数值": "1,234", "单位": "套", "报送口径": "填本月新增数（不是累计数）", "上月数值（参考）": "",
        "备注": "含漏报",
    }  # fmt: skip
    assert [line["数值"] for line in lines].count("") == 19


def test_a_grid_report_loads_to_the_figures_typed_and_empty_cells_are_not_reported(
    warehouse: Warehouse, cfg: TargetsConfig
) -> None:
    assert load(warehouse, cfg, "sep.csv", upload([(RENTAL, "乌审旗", "2026-10", 3)])).ok
    frame = typed(
        entry.grid(warehouse.con, cfg, "housing", OCTOBER),
        {
            (RENTAL, "dongsheng"): ("12", "新开工2个项目"),
            (RENTAL, "kangbashi"): ("1.5万", None),
            (TALENT, "dalad"): ("1,234", None),
            (RENTAL, "uxin"): (None, None),  # emptied: not reported this month, the earlier figure stays
        },
    )
    name, data = entry.to_report(frame, "housing", OCTOBER)

    result = load(warehouse, cfg, name, data)

    assert (result.outcome, result.rows_total, result.rows_skipped, result.rows_loaded) == ("accepted", 20, 17, 3)
    assert current(warehouse.con) == {
        (RENTAL, "dongsheng", "2026-10"): 12.0,
        (RENTAL, "kangbashi", "2026-10"): 15000.0,
        (TALENT, "dalad", "2026-10"): 1234.0,
        (RENTAL, "uxin", "2026-10"): 3.0,
    }
    notes = warehouse.con.execute("select kpi_id, district_id, note from observation_notes").fetchall()
    assert notes == [(RENTAL, "dongsheng", "新开工2个项目")]


def test_text_in_a_number_cell_is_the_etls_message_on_its_grid_row(warehouse: Warehouse, cfg: TargetsConfig) -> None:
    frame = typed(
        entry.grid(warehouse.con, cfg, "housing", OCTOBER),
        {(RENTAL, "dongsheng"): ("12", None), (RENTAL, "dalad"): ("十二", None), (TALENT, "uxin"): ("-4", None)},
    )
    name, data = entry.to_report(frame, "housing", OCTOBER)

    result = load(warehouse, cfg, name, data, dry_run=True)
    by_row = entry.problems_by_row(result, frame)

    assert sorted(by_row) == [2, 17]  # 达拉特旗 is the grid's 3rd row, 乌审旗 of talent_apartments the 18th
    assert [(p.reason_zh, p.value) for p in by_row[2]] == [(NOT_A_NUMBER, "十二")]
    assert [p.reason_zh for p in by_row[17]] == ["数值不能为负数"]
    assert frame.loc[17, "旗区"] == "乌审旗" and frame.loc[17, "kpi_id"] == TALENT


def test_a_grid_with_every_value_empty_has_one_problem_on_no_row(warehouse: Warehouse, cfg: TargetsConfig) -> None:
    frame = entry.grid(warehouse.con, cfg, "housing", OCTOBER)
    name, data = entry.to_report(frame, "housing", OCTOBER)

    by_row = entry.problems_by_row(load(warehouse, cfg, name, data, dry_run=True), frame)

    assert {row: [p.reason_zh for p in found] for row, found in by_row.items()} == {None: [EMPTY_FILE]}


# -- drafts ---------------------------------------------------------------------------------------------


def test_a_draft_is_reloaded_on_a_new_connection_replaced_when_saved_again_and_dropped(
    warehouse: Warehouse, cfg: TargetsConfig
) -> None:
    assert load(warehouse, cfg, "oct.csv", upload([(RENTAL, "东胜区", "2026-10", 7)])).ok
    frame = typed(
        entry.grid(warehouse.con, cfg, "housing", OCTOBER),
        {(RENTAL, "dongsheng"): (None, None), (RENTAL, "kangbashi"): ("十二", "待核实")},
    )
    assert entry.load_draft(warehouse.con, "housing", OCTOBER) is None
    saved_at = entry.save_draft(warehouse.con, "housing", OCTOBER, "zhang_san", frame)
    warehouse.con.close()

    con = db.connect(warehouse.path)
    try:
        draft = entry.load_draft(con, "housing", OCTOBER)
        assert draft is not None
        assert (draft.user_name, draft.saved_at) == ("zhang_san", saved_at)
        restored = draft.apply(entry.grid(con, cfg, "housing", OCTOBER))
        # the draft's cells win over the submitted ones: 东胜区 emptied, 康巴什区 as typed, even if invalid
        assert list(restored[entry.VALUE][:3]) == [pd.NA, "十二", pd.NA]
        assert restored.loc[1, entry.NOTE] == "待核实"
        assert entry.load_draft(con, "housing", SEPTEMBER) is None  # one draft per bureau and month

        entry.save_draft(con, "housing", OCTOBER, "li_si", typed(restored, {(RENTAL, "kangbashi"): ("12", None)}))
        assert db.scalar(con, "select count(*) from entry_drafts") == 1
        again = entry.load_draft(con, "housing", OCTOBER)
        assert again is not None and again.user_name == "li_si"
        assert again.cells[(RENTAL, "kangbashi")] == ("12", "")

        entry.drop_draft(con, "housing", OCTOBER)
        assert entry.load_draft(con, "housing", OCTOBER) is None
    finally:
        con.close()


# -- rebuild --------------------------------------------------------------------------------------------

EVERY_ROW = (
    "select kpi_id, district_id, period, value, revision, submission_id, source_row from observations order by all"
)


def test_rebuild_replays_a_grid_submission_exactly(warehouse: Warehouse, cfg: TargetsConfig) -> None:
    grid = entry.grid(warehouse.con, cfg, "housing", OCTOBER)
    first = typed(grid, {(RENTAL, "dongsheng"): ("12", "新开工"), (TALENT, "dalad"): ("1.5万", None)})
    assert load(warehouse, cfg, *entry.to_report(first, "housing", OCTOBER)).outcome == "accepted"
    # the month revised from the grid again, with a reason
    second = typed(entry.grid(warehouse.con, cfg, "housing", OCTOBER), {(RENTAL, "dongsheng"): ("13", "补报1个")})
    assert load(warehouse, cfg, *entry.to_report(second, "housing", OCTOBER), reason="漏报").outcome == "accepted"
    con = warehouse.con
    observations = con.execute(EVERY_ROW).fetchall()
    notes = con.execute("select * from observation_notes order by all").fetchall()
    assert current(con)[(RENTAL, "dongsheng", "2026-10")] == 13.0 and len(observations) == 3
    con.close()

    report = rebuild_warehouse(warehouse.path, cfg)

    assert report.replayed == 2
    con = db.connect(warehouse.path, read_only=True)
    try:
        assert con.execute(EVERY_ROW).fetchall() == observations
        assert con.execute("select * from observation_notes order by all").fetchall() == notes
    finally:
        con.close()
