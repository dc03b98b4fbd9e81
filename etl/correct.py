"""A correction as the ETL sees it: a one-row report (指标编码, 旗区, 报送期, 数值) that goes through the
same read → validate → load path as any upload, with a required reason (etl.load keeps the old figure
as a revision). Built here, not in the page, so the file a correction makes is the ETL's to define.

The clerk never sees that file: the form speaks in fields and figures. So what can be said before the
load is said here, in the form's own words (CorrectionRefused: "“数值”须为整数（单位：套）"), and the
figure history the form shows comes from here too.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import numpy as np
import pandas as pd

from monitor import fmt, i18n
from monitor.targets import Kpi

VALUE_FIELD = "value"  # the catalogue key of the form's 数值 field, which the messages name


class CorrectionRefused(i18n.CatalogueError):
    """A correction refused before anything is written; the text names the form's field and the
    KPI's unit in the reader's language (text(lang))."""

    def __init__(self, key: str, kpi: Kpi) -> None:
        self.kpi = kpi  # before the base class, which formats the text once
        super().__init__(key)

    def text(self, lang: i18n.Lang) -> str:
        unit = self.kpi.unit_zh if lang == "zh" else self.kpi.unit_en
        return i18n.t(self.key, lang, field=i18n.t(VALUE_FIELD, lang), unit=unit)

    def __str__(self) -> str:
        return self.text("zh")


def is_count(kpi: Kpi) -> bool:
    """Counts (套, 人, 个 …; value_type count in targets.yaml) are whole numbers; amounts in 元 and
    ratios may carry decimals (a milestone's 0 or 1 is checked by the load, with its own words)."""
    return kpi.value_type == "count"


def checked_value(kpi: Kpi, value: float | None) -> float:
    """The figure to write, or CorrectionRefused: empty, or a decimal for a count (12.5套 is a typing
    mistake; rounding it silently would store a figure nobody typed)."""
    if value is None:
        raise CorrectionRefused("fix_value_required", kpi)
    if is_count(kpi) and not float(value).is_integer():
        raise CorrectionRefused("fix_integer", kpi)
    return float(value)


def exact_figure(value: float, kpi: Kpi, lang: i18n.Lang) -> str:
    """A figure as typed, every digit, with its unit: 127套, 1,234,567.5元, 85.5%, 127 units. The form
    compares figures digit by digit, so the rounded 1.5万套 of the other views would hide a change."""
    if kpi.value_type == "flag":
        return fmt.figure(value, kpi.unit_zh, kpi.unit_en, lang)
    number = float(value)
    text = f"{int(number):,}" if number.is_integer() else f"{number:,}"
    unit = kpi.unit_zh if lang == "zh" else kpi.unit_en
    if lang == "zh" or unit == "%":
        return f"{text}{unit}"
    return f"{text} {fmt.singular(unit) if number == 1 else unit}"


def figure_history(con: duckdb.DuckDBPyConnection, kpi_id: str, district_id: str, period: dt.date) -> pd.DataFrame:
    """Every figure reported for one KPI, unit and month, oldest first: revision, value, submitted_at,
    user_name, reason, review_status. A returned submission's figure never counted: left out, as in
    current_reported_observations, so the last row is the figure a correction is compared with."""
    return con.execute(
        """
        select o.revision, o.value, s.submitted_at, s.user_name, s.reason, s.review_status
        from observations as o
        join submissions as s using (submission_id)
        where o.kpi_id = ? and o.district_id = ? and o.period = ? and s.review_status <> 'returned'
        order by o.revision
        """,
        [kpi_id, district_id, period],
    ).df()


def correction_report(kpi_id: str, district_id: str, period: dt.date, value: float) -> tuple[str, bytes]:
    """(file name, utf-8 csv) of the one-row report that sets kpi_id for district_id in period to value.

    The value is written with every digit, never an exponent: f"{value:g}" turned 1234567.5 into
    "1.23457e+06" (rejected) and 123456.7 into "123457" (silently rounded)."""
    text = np.format_float_positional(float(value), trim="-")
    frame = pd.DataFrame({"指标编码": [kpi_id], "旗区": [district_id], "报送期": [f"{period:%Y-%m}"], "数值": [text]})
    name = f"更正_{kpi_id}_{district_id}_{period:%Y%m}.csv"
    return name, frame.to_csv(index=False).encode("utf-8")
