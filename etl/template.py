"""The monthly report template a bureau downloads: one row per KPI and district, in Chinese."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import duckdb
import pandas as pd
import xlsxwriter

from monitor.fmt import month_zh
from monitor.targets import CITY, TargetsConfig

HEADER = ["指标编码", "指标名称", "旗区", "报送期", "数值", "单位", "报送口径", "上月数值（参考）", "备注"]

RULE_ZH = {
    "increment": "填本月新增数（不是累计数）",
    "cumulative": "填自2024年7月以来的累计数，不得小于上月",
    "level": "填月末实有数",
}
RULE_ZH_RATIO = "填月末比率，0–100，可带%"
RULE_ZH_FLAG = "已完成填1，未完成填0"


def rule_zh(value_type: str, reporting: str) -> str:
    if value_type == "ratio":
        return RULE_ZH_RATIO
    if value_type == "flag":
        return RULE_ZH_FLAG
    return RULE_ZH[reporting]


def template_rows(
    cfg: TargetsConfig, bureau_id: str, period: dt.date, con: duckdb.DuckDBPyConnection | None = None
) -> pd.DataFrame:
    """The rows of the template: every KPI the bureau reports, for every unit it reports for (a
    "sum" KPI the 10 districts, a "city" KPI 全市, an "all" KPI 全市 for the city's own centre and
    then the 10 districts)."""
    units = cfg.reporting_districts()
    city = cfg.district_by_id[CITY]
    reported_by = {"sum": units, "all": [city, *units]}
    rows = []
    for k in cfg.kpis_of_bureau(bureau_id):
        for d in reported_by.get(k.aggregation, [city]):
            rows.append(
                {
                    "kpi_id": k.id,
                    "指标编码": k.id,
                    "指标名称": k.name_zh,
                    "district_id": d.id,
                    "旗区": d.name_zh,
                    "报送期": f"{period:%Y-%m}",
                    "数值": None,
                    "单位": k.unit_zh,
                    "报送口径": rule_zh(k.value_type, k.reporting),
                }
            )
    frame = pd.DataFrame(rows)
    frame["上月数值（参考）"] = None
    frame["备注"] = ""
    if con is not None and not frame.empty:
        prev = (pd.Timestamp(period) - pd.DateOffset(months=1)).date()
        last = con.execute("select kpi_id, district_id, value from current_observations where period = ?", [prev]).df()
        if not last.empty:
            merged = frame.merge(last, on=["kpi_id", "district_id"], how="left")
            frame["上月数值（参考）"] = merged["value"].to_numpy()
    return frame


def write_template(
    cfg: TargetsConfig,
    bureau_id: str,
    period: dt.date,
    out: Path | io.BytesIO,
    con: duckdb.DuckDBPyConnection | None = None,
    values: list[float | None] | None = None,
) -> int:
    """Write the xlsx; `values` fills the 数值 column (used by the demo). Returns the number of rows."""
    frame = template_rows(cfg, bureau_id, period, con)
    if values is not None:
        frame["数值"] = values
    book = xlsxwriter.Workbook(str(out) if isinstance(out, Path) else out, {"in_memory": True})
    head = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "font_name": "SimSun"})
    locked_fmt = book.add_format({"bg_color": "#F2F2F2", "border": 1})
    input_fmt = book.add_format({"bg_color": "#FFF2CC", "border": 1, "num_format": "#,##0.##"})
    ws = book.add_worksheet("报送数据")
    widths = [26, 30, 12, 10, 14, 8, 34, 16, 20]
    for j, (title, w) in enumerate(zip(HEADER, widths, strict=True)):
        ws.write(0, j, title, head)
        ws.set_column(j, j, w)
    for i, row in enumerate(frame.itertuples(index=False), start=1):
        rec = row._asdict() if hasattr(row, "_asdict") else dict(zip(frame.columns, row, strict=True))
        values_row = [
            rec["指标编码"], rec["指标名称"], rec["旗区"], rec["报送期"], frame["数值"].iat[i - 1],
            rec["单位"], rec["报送口径"], frame["上月数值（参考）"].iat[i - 1], "",
        ]  # fmt: skip
        for j, v in enumerate(values_row):
            fmt = input_fmt if j in (4, 8) else locked_fmt
            if v is None or (isinstance(v, float) and pd.isna(v)):
                ws.write_blank(i, j, None, fmt)
            elif isinstance(v, (int, float)):
                ws.write_number(i, j, float(v), fmt)
            else:
                ws.write_string(i, j, str(v), fmt)
    ws.freeze_panes(1, 0)
    info = book.add_worksheet("填报说明")
    bureau = cfg.bureau_by_id[bureau_id]
    lines = [
        f"{bureau.name_zh} {month_zh(period)} 服务暖城“新市民”0477系列措施 月度数据报送模板",
        f"请于次月{cfg.reporting.due_day}日前报送。只需填写黄色的“数值”列，其他列请勿修改。",
        "数值可填 1234、1,234、1.5万；比率可填 30 或 30%。请直接填写数值，不要使用公式。",
        "“报送口径”说明该指标填本月新增数、累计数还是月末实有数。",
        "旗区按旗区填写；只报全市的指标填“全市”。",
    ]
    if any(k.aggregation == "all" for k in cfg.kpis_of_bureau(bureau_id)):
        lines.append("市、旗区各填一行的指标（如政务服务中心落户专窗）：“全市”一行填市本级，各旗区行填本旗区。")
    info.set_column(0, 0, 100)
    for i, line in enumerate(lines):
        info.write_string(i, 0, line)
    book.close()
    return len(frame)
