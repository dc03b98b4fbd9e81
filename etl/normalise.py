"""Turn a RawTable of text into typed columns: kpi_id, district_id, period, value.

Vectorised with pandas string methods (a 1,000,000-row report must load in seconds).
A cell that cannot be understood becomes NA here; validate.py turns each NA into a message.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from etl.errors import FileRejected, Problem
from etl.read import RawTable, column_letter
from monitor.targets import TargetsConfig

# Column titles accepted for each field, Chinese or English (compared lower-case, spaces removed).
COLUMN_NAMES: dict[str, tuple[str, ...]] = {
    "kpi": ("指标编码", "指标代码", "指标id", "kpi", "kpi_id", "kpiid", "kpicode"),
    "kpi_name": ("指标名称", "指标", "kpiname", "kpi_name", "indicator"),
    "district": ("旗区", "地区", "区域", "旗区名称", "报送单位（旗区）", "district", "area", "region"),
    "period": ("报送期", "统计期", "月份", "期间", "统计月份", "报送月份", "period", "month"),
    "value": ("数值", "本期数值", "数据", "本月数值", "value", "amount"),
    "note": ("备注", "说明", "note", "notes", "remark"),
}
LABEL_ZH = {"kpi": "指标编码", "kpi_name": "指标名称", "district": "旗区", "period": "报送期", "value": "数值"}

# Full-width digits and signs (common when typing with a Chinese IME) -> ASCII.
_FULLWIDTH = str.maketrans("０１２３４５６７８９．，－＋％　", "0123456789.,-+% ")


@dataclass
class Normalised:
    file_name: str
    frame: pd.DataFrame  # row, kpi_raw, district_raw, period_raw, value_raw, kpi_id, district_id, period, value, pct
    columns: dict[str, str]  # field -> "E（数值）" label for messages


def _key(s: str) -> str:
    return s.strip().lower().replace(" ", "").replace("\u3000", "")


def map_columns(raw: RawTable) -> dict[str, int]:
    """Which column holds which field; a missing required column rejects the file."""
    wanted = {f: {_key(n) for n in names} for f, names in COLUMN_NAMES.items()}
    seen: dict[str, list[int]] = {}
    for j, title in enumerate(raw.header):
        k = _key(title)
        for f, names in wanted.items():
            if k in names:
                seen.setdefault(f, []).append(j)
    found = {f: js[0] for f, js in seen.items()}
    missing = [f for f in ("district", "period", "value") if f not in found]
    if "kpi" not in found and "kpi_name" not in found:
        missing.insert(0, "kpi")
    if missing:
        zh = "、".join(LABEL_ZH[f] for f in missing)
        raise FileRejected(
            [
                _header_problem(
                    raw,
                    f"缺少必需的列：{zh}（表头应为：指标编码、旗区、报送期、数值）",
                    f"missing required column(s): {', '.join(missing)} (header: kpi, district, period, value)",
                )
            ]
        )
    # two columns for one field (数值 twice, or 数值 and 本月数值): which one was meant cannot be told,
    # and taking the first would load the other column's figures silently
    repeated = {f: js for f, js in seen.items() if len(js) > 1 and f != "note"}
    if repeated:
        raise FileRejected(
            [
                _header_problem(
                    raw,
                    f"表头有多个{LABEL_ZH[f]}列："
                    + "、".join(f"{column_letter(j)}列“{raw.header[j]}”" for j in js)
                    + "，请只保留一列",
                    f"several {f} columns: "
                    + ", ".join(f"{column_letter(j)} {raw.header[j]!r}" for j in js)
                    + "; keep only one",
                )
                for f, js in repeated.items()
            ]
        )
    return found


def _header_problem(raw: RawTable, zh: str, en: str) -> Problem:
    """A problem with the header itself: named by the header's row, no column or value."""
    return Problem(raw.file_name, raw.header_row, None, None, zh, en)


def clean_text(s: pd.Series) -> pd.Series:
    return s.astype("string").str.translate(_FULLWIDTH).str.strip()


def parse_numbers(s: pd.Series, units: list[str]) -> tuple[pd.Series, pd.Series]:
    """'1.5万', '12,345', '３０％', '120套' -> float; returns (value, had_percent). Unparseable -> NA."""
    t = clean_text(s).str.replace(",", "", regex=False).str.replace(" ", "", regex=False)
    if units:
        pattern = "(?:" + "|".join(sorted((u for u in units if u and u != "%"), key=len, reverse=True)) + ")$"
        t = t.str.replace(pattern, "", regex=True)
    pct = t.str.endswith("%").fillna(False)
    t = t.str.rstrip("%")
    wan = t.str.endswith("万").fillna(False)
    yi = t.str.endswith("亿").fillna(False)
    t = t.str.rstrip("万亿")
    # Only plain decimal notation: "1e3", "inf" or "nan" typed into a report is a mistake.
    ok = t.str.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)").fillna(False)
    num = pd.to_numeric(t.where(ok), errors="coerce").astype("float64")
    num = num.where(~wan, num * 10_000).where(~yi, num * 100_000_000)
    return num, pct


def parse_periods(s: pd.Series) -> pd.Series:
    """2025-03, 2025/3, 2025.03, 2025年3月, 202503, 2025-03-01 (an Excel date), or an Excel serial day."""
    t = clean_text(s)
    ym = t.str.extract(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*月?(?:\s*[-/.]\s*\d{1,2}\s*日?)?(?:[ T][\d:.]+)?$")
    compact = t.str.extract(r"^(\d{4})(\d{2})$")
    year = pd.to_numeric(ym[0].fillna(compact[0]), errors="coerce")
    month = pd.to_numeric(ym[1].fillna(compact[1]), errors="coerce")
    serial = pd.to_numeric(t.where(t.str.fullmatch(r"\d{5}(\.0+)?").fillna(False)), errors="coerce")
    from_serial = pd.Timestamp("1899-12-30") + pd.to_timedelta(serial, unit="D")
    year = year.fillna(from_serial.dt.year)
    month = month.fillna(from_serial.dt.month)
    valid = year.between(1900, 2200) & month.between(1, 12)
    # float64, not the nullable Int64 to_numeric may give: to_datetime cannot assemble from a masked
    # integer column holding NA (one bad period among good ones raised instead of becoming NaT)
    stamp = pd.to_datetime(
        pd.DataFrame(
            {"year": year.where(valid).astype("float64"), "month": month.where(valid).astype("float64"), "day": 1}
        ),
        errors="coerce",
    )
    return stamp.astype("datetime64[s]")


def lookup(s: pd.Series, mapping: dict[str, str]) -> pd.Series:
    keys = clean_text(s).str.lower().str.replace(r"\s+", "", regex=True)
    return keys.map(mapping).astype("string")


def kpi_lookup(cfg: TargetsConfig) -> dict[str, str]:
    out: dict[str, str] = {}
    for k in cfg.kpis:
        out[_key(k.id)] = k.id
        out[_key(k.name_zh)] = k.id
    return out


def district_lookup(cfg: TargetsConfig) -> dict[str, str]:
    out: dict[str, str] = {}
    for d in cfg.districts:
        for name in (d.id, d.name_zh, d.name_en, *d.aliases):
            out[_key(name)] = d.id
    return out


def _distinct(s: pd.Series) -> tuple[np.ndarray, pd.Series]:
    """(codes, distinct values) of a column: every parser here works cell by cell, so it runs on the
    distinct texts only and the result is spread back with `_spread`. A monthly report of a million
    rows holds a few thousand KPI codes, ten districts and a few months; this is what keeps the
    per-cell Python string work (translate, regex extract) from scaling with the row count."""
    codes, uniques = pd.factorize(s, use_na_sentinel=False)
    return codes, pd.Series(np.asarray(uniques, dtype=object), dtype="string")


def _spread(parsed: pd.Series, codes: np.ndarray) -> pd.api.extensions.ExtensionArray | np.ndarray:
    """The parsed distinct values taken back to one per row (text as pandas' default str dtype)."""
    if isinstance(parsed.dtype, pd.StringDtype):
        parsed = parsed.astype("str")
    return parsed.array.take(codes)


def _by_distinct(s: pd.Series, parse: Callable[[pd.Series], pd.Series]) -> pd.Series:
    codes, uniques = _distinct(s)
    return pd.Series(_spread(parse(uniques), codes))


def normalise(raw: RawTable, cfg: TargetsConfig) -> Normalised:
    cols = map_columns(raw)
    # the raw cells stay in pandas' (Arrow-backed) str dtype: turning a million cells into Python
    # objects and back costs more than all the checks together
    cells = raw.cells.reset_index(drop=True).astype("str")
    labels = {f: f"{column_letter(j)}（{raw.header[j] or LABEL_ZH.get(f, f)}）" for f, j in cols.items()}
    kpis = kpi_lookup(cfg)
    kpi_col = cols.get("kpi", cols.get("kpi_name"))
    kpi_raw = cells[kpi_col]
    kpi_id = _by_distinct(kpi_raw, lambda u: lookup(u, kpis))
    if "kpi" in cols and "kpi_name" in cols:
        # an empty code cell falls back to the name typed beside it
        by_name = _by_distinct(cells[cols["kpi_name"]], lambda u: lookup(u, kpis))
        code_blank = _by_distinct(kpi_raw, lambda u: clean_text(u) == "")
        kpi_id = kpi_id.fillna(by_name.where(code_blank.fillna(False).astype(bool)))
    units = sorted({k.unit_zh for k in cfg.kpis})
    codes, uniques = _distinct(cells[cols["value"]])
    value_u, pct_u = parse_numbers(uniques, units)
    districts = district_lookup(cfg)
    frame = pd.DataFrame(
        {
            "row": raw.rows.to_numpy(),
            "kpi_raw": kpi_raw.array,
            "district_raw": cells[cols["district"]].array,
            "period_raw": cells[cols["period"]].array,
            "value_raw": cells[cols["value"]].array,
            "kpi_id": kpi_id.array,
            "district_id": _by_distinct(cells[cols["district"]], lambda u: lookup(u, districts)).array,
            "period": _by_distinct(cells[cols["period"]], parse_periods).to_numpy(),
            "value": value_u.to_numpy(dtype=np.float64, na_value=np.nan)[codes],
            "pct": pct_u.to_numpy(dtype=bool)[codes],
        }
    )
    return Normalised(raw.file_name, frame, labels)
