"""A correction as the ETL sees it: a one-row report (指标编码, 旗区, 报送期, 数值) that goes through the
same read → validate → load path as any upload, with a required reason (etl.load keeps the old figure
as a revision). Built here, not in the page, so the file a correction makes is the ETL's to define.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd


def correction_report(kpi_id: str, district_id: str, period: dt.date, value: float) -> tuple[str, bytes]:
    """(file name, utf-8 csv) of the one-row report that sets kpi_id for district_id in period to value.

    The value is written with every digit, never an exponent: f"{value:g}" turned 1234567.5 into
    "1.23457e+06" (rejected) and 123456.7 into "123457" (silently rounded)."""
    text = np.format_float_positional(float(value), trim="-")
    frame = pd.DataFrame({"指标编码": [kpi_id], "旗区": [district_id], "报送期": [f"{period:%Y-%m}"], "数值": [text]})
    name = f"更正_{kpi_id}_{district_id}_{period:%Y%m}.csv"
    return name, frame.to_csv(index=False).encode("utf-8")
