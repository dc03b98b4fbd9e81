"""Turn a RawTable of text into typed columns: kpi_id, district_id, period, value.

Vectorised with pandas string methods (a 1,000,000-row report must load in seconds).
A cell that cannot be understood becomes NA here (with an issue code where the reason is specific:
an ambiguous comma, stacked units, an impossible day); validate.py turns each NA into a message.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import pandas as pd

from etl.errors import FileRejected, Problem, column_letter
from etl.read import RawTable
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
LABEL_ZH = {
    "kpi": "指标编码", "kpi_name": "指标名称", "district": "旗区", "period": "报送期", "value": "数值", "note": "备注",
}  # fmt: skip

# Full-width digits and signs (common when typing with a Chinese IME) -> ASCII.
# U+2212 is the typographic minus sign.
_FULLWIDTH = str.maketrans("０１２３４５６７８９．，－＋％　\u2212", "0123456789.,-+% -")


@dataclass
class Normalised:
    file_name: str
    # row, kpi_raw, district_raw, period_raw, value_raw, kpi_id, district_id, period, period_issue, value, pct,
    # value_issue, value_unit (see parse_numbers / parse_periods), note (the 备注 text, "" when absent)
    frame: pd.DataFrame
    columns: dict[str, str]  # field -> "E（数值）" label for messages
    # each row's KPI and district as its place in cfg.kpis / cfg.districts (-1: none, where kpi_id or
    # district_id is NaN): validate's per-KPI rules and duplicate check work on these integers, since
    # hashing a million Python strings again costs more than all the rules
    kpi_pos: np.ndarray | None = None
    district_pos: np.ndarray | None = None


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


# Why a number cell was refused (NUMBER_OK: parsed, or not a number at all); validate words the message.
NUMBER_OK, NUMBER_COMMA, NUMBER_STACKED = 0, 1, 2
# Why a period cell was refused (PERIOD_OK: parsed, or not recognised at all).
PERIOD_OK, PERIOD_BAD_DAY, PERIOD_DECIMAL = 0, 1, 2

_SCALE = {"万": Decimal(10_000), "亿": Decimal(100_000_000)}
_NUMBER = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)"
# a comma only ever groups thousands: "8,5" or "1,5" could be a decimal comma, and reading it as
# 85 or 15 would load a figure nobody reported
_GROUPED = r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d*)?"


@dataclass
class ParsedNumbers:
    """Distinct number texts parsed: value (NaN when refused), and what was typed besides the digits."""

    value: pd.Series  # float64
    pct: np.ndarray  # bool: typed with a trailing %
    issue: np.ndarray  # int8: NUMBER_OK / NUMBER_COMMA / NUMBER_STACKED
    unit: pd.Categorical  # the trailing unit typed ("套", "元"), NaN when none; validate compares it with the KPI's


def parse_numbers(s: pd.Series, units: list[str]) -> ParsedNumbers:
    """'1.5万', '12,345', '３０％', '120套' -> float. Unparseable or ambiguous -> NaN (with an issue code).

    万/亿 are scaled in decimal arithmetic on the text ("2.76万" is exactly 27600, never 27599.99…),
    on the distinct texts that carry them only; "-0" becomes 0.0 (a negative zero shows as "-0套")."""
    t = clean_text(s).str.replace(" ", "", regex=False)
    unit_names = sorted((u for u in units if u and u != "%"), key=len, reverse=True)
    if unit_names:
        pattern = "(" + "|".join(re.escape(u) for u in unit_names) + ")$"
        typed_unit = t.str.extract(pattern)[0]
        t = t.str.replace(pattern, "", regex=True)
    else:
        typed_unit = pd.Series(pd.NA, index=t.index, dtype="string")
    pct = t.str.endswith("%").fillna(False).to_numpy(dtype=bool)
    t = t.str.replace(r"%$", "", regex=True)
    # rstrip, not a regex: a lazy pattern backtracks quadratically over a cell of a million 万
    digits = t.str.rstrip("万亿")
    scale_len = (t.str.len() - digits.str.len()).fillna(0)
    scale = t.str[-1:]
    stacked = scale_len > 1
    has_comma = digits.str.contains(",", regex=False).fillna(False)
    grouped = digits.str.fullmatch(_GROUPED).fillna(False)
    digits = digits.str.replace(",", "", regex=False)
    # only plain decimal notation: "1e3", "inf" or "nan" typed into a report is a mistake
    number = digits.str.fullmatch(_NUMBER).fillna(False)
    comma_bad = has_comma & ~grouped
    ok = number & ~stacked & ~comma_bad
    num = pd.to_numeric(digits.where(ok), errors="coerce").astype("float64")
    scaled = ok & (scale_len == 1)
    if scaled.any():
        exact = [
            float(Decimal(text) * _SCALE[unit])
            for text, unit in zip(digits[scaled].tolist(), scale[scaled].tolist(), strict=True)
        ]
        num[scaled] = exact
    num = num.mask(num == 0, 0.0)  # -0.0 == 0: "-0" and "-0万" become 0.0
    # a specific reason only where the digits themselves are a number ("abc,def" is just not a number)
    issue = np.where(number & comma_bad, NUMBER_COMMA, np.where(number & stacked, NUMBER_STACKED, NUMBER_OK))
    unit_cat = pd.Categorical(typed_unit.astype(object).where(typed_unit.notna(), None), categories=unit_names)
    return ParsedNumbers(num, pct, issue.astype(np.int8), unit_cat)


_MONTH = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*月?(?:\s*[-/.]\s*(\d{1,2})\s*日?)?(?:[ T][\d:.]+)?$")


def parse_periods(s: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """2025-03, 2025/3, 2025年3月, 202503, 2025-03-01 (an Excel date), or an Excel serial day.

    Returns (first of the month or NaT, issue code). Refused with an issue code: a day the month does
    not have (2025-02-30), and a period typed as a decimal number (2026.10): an xlsx number cell 2026.10
    arrives as "2026.1", which cannot be told from January."""
    t = clean_text(s)
    decimal = t.str.fullmatch(r"\d{4}\.\d+").fillna(False)
    ym = t.where(~decimal).str.extract(_MONTH.pattern)
    compact = t.str.extract(r"^(\d{4})(\d{2})$")
    year = pd.to_numeric(ym[0].fillna(compact[0]), errors="coerce")
    month = pd.to_numeric(ym[1].fillna(compact[1]), errors="coerce")
    day = pd.to_numeric(ym[2], errors="coerce").astype("float64")
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
    bad_day = (day.notna() & stamp.notna() & ((day < 1) | (day > stamp.dt.days_in_month))).to_numpy(dtype=bool)
    stamp = stamp.mask(bad_day)
    issue = np.where(decimal.to_numpy(dtype=bool), PERIOD_DECIMAL, np.where(bad_day, PERIOD_BAD_DAY, PERIOD_OK))
    return stamp.astype("datetime64[s]"), issue.astype(np.int8)


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


def _ids(s: pd.Series, mapping: dict[str, str]) -> pd.Series:
    """The KPI or district ids of a column of names (NaN where unknown), looked up once per distinct
    text, as a numpy object column: DuckDB scans such a column as it is, while an Arrow-backed one is
    turned into a million Python strings each time the rows are handed to SQL (the jump check, the
    changes, the insert)."""
    return _ids_and_positions(s, mapping, {})[0]


def _ids_and_positions(s: pd.Series, mapping: dict[str, str], place: dict[str, int]) -> tuple[pd.Series, np.ndarray]:
    """`_ids`, and each row's id as its place in `place` (-1 where the id is NaN or not in it)."""
    codes, uniques = _distinct(s)
    distinct = lookup(uniques, mapping).to_numpy(dtype=object, na_value=np.nan)
    positions = np.array([place.get(i, -1) if isinstance(i, str) else -1 for i in distinct], dtype=np.int64)
    # explicitly object: pandas would infer str
    return pd.Series(distinct[codes], dtype=object), positions[codes]


def normalise(raw: RawTable, cfg: TargetsConfig) -> Normalised:
    cols = map_columns(raw)
    # the raw cells stay in pandas' (Arrow-backed) str dtype: turning a million cells into Python
    # objects and back costs more than all the checks together
    cells = raw.cells.reset_index(drop=True).astype("str")
    labels = {f: f"{column_letter(j)}（{raw.header[j] or LABEL_ZH.get(f, f)}）" for f, j in cols.items()}
    kpis = kpi_lookup(cfg)
    kpi_col = cols.get("kpi", cols.get("kpi_name"))
    kpi_raw = cells[kpi_col]
    kpi_place = {k.id: i for i, k in enumerate(cfg.kpis)}
    kpi_id, kpi_pos = _ids_and_positions(kpi_raw, kpis, kpi_place)
    if "kpi" in cols and "kpi_name" in cols:
        # an empty code cell falls back to the name typed beside it
        by_name = _ids(cells[cols["kpi_name"]], kpis)
        code_blank = _by_distinct(kpi_raw, lambda u: clean_text(u) == "")
        named = by_name.where(code_blank.fillna(False).astype(bool).to_numpy())
        kpi_id = pd.Series(np.where(kpi_id.isna(), named, kpi_id), dtype=object)
        kpi_pos = None  # rare (a template with both columns and blank codes): validate looks them up
    units = sorted({k.unit_zh for k in cfg.kpis})
    codes, uniques = _distinct(cells[cols["value"]])
    numbers = parse_numbers(uniques, units)
    period_codes, period_uniques = _distinct(cells[cols["period"]])
    period_u, period_issue_u = parse_periods(period_uniques)
    districts = district_lookup(cfg)
    district_place = {d.id: i for i, d in enumerate(cfg.districts)}
    district_id, district_pos = _ids_and_positions(cells[cols["district"]], districts, district_place)
    frame = pd.DataFrame(
        {
            "row": raw.rows.to_numpy(),
            "kpi_raw": kpi_raw.array,
            "district_raw": cells[cols["district"]].array,
            "period_raw": cells[cols["period"]].array,
            "value_raw": cells[cols["value"]].array,
            "kpi_id": kpi_id,
            "district_id": district_id,
            "period": period_u.to_numpy()[period_codes],
            "period_issue": period_issue_u[period_codes],
            "value": numbers.value.to_numpy(dtype=np.float64, na_value=np.nan)[codes],
            "pct": numbers.pct[codes],
            "value_issue": numbers.issue[codes],
            "value_unit": pd.Categorical.from_codes(numbers.unit.codes[codes], dtype=numbers.unit.dtype),
            # the 备注 as typed (ends trimmed), never parsed; "" without the column (etl.notes)
            "note": cells[cols["note"]].str.strip().array if "note" in cols else "",
        },
        copy=False,  # every column above is new (or the raw table's, never written to): no second copy
    )
    return Normalised(raw.file_name, frame, labels, kpi_pos, district_pos)
