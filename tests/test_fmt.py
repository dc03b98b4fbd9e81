"""Numbers and months as Chinese officials read them (1.5万套, 2025年3月), and English for the toggle."""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd
import pytest

from monitor import fmt


@pytest.mark.parametrize(
    ("value", "unit", "shown"),
    [
        (15000, "套", "1.5万套"),
        (12383, "套", "1.24万套"),
        (6210, "个", "6,210个"),
        (9999, "", "9,999"),
        (10000, "人", "1万人"),
        (123456789, "元", "1.23亿元"),
        (200000000, "元", "2亿元"),
        (30, "%", "30%"),
        (32.14, "%", "32.1%"),
        (0, "个", "0个"),
        (2.5, "个", "2.5个"),
        (-12000, "人", "-1.2万人"),
        (None, "套", "—"),
        (math.nan, "套", "—"),
    ],
)
def test_number_zh(value: float | None, unit: str, shown: str) -> None:
    assert fmt.number_zh(value, unit) == shown


@pytest.mark.parametrize(
    ("value", "unit", "shown"),
    [
        (15000, "units", "15,000 units"),
        (1, "programmes", "1 programme"),
        (1, "specialties", "1 specialty"),
        (1, "businesses", "1 business"),
        (1, "people", "1 person"),
        (1, "children", "1 child"),
        (1, "child-terms", "1 child-term"),
        (1, "places per 1,000 people", "1 place per 1,000 people"),
        (2.5, "places per 1,000 people", "2.5 places per 1,000 people"),
        (1, "done (1/0)", "1 done (1/0)"),
        (2, "programmes", "2 programmes"),
        (0, "sites", "0 sites"),
        (25.8, "%", "25.8%"),
        (1.5, "yuan", "1.5 yuan"),
        (None, "units", "—"),
    ],
)
def test_number_en(value: float | None, unit: str, shown: str) -> None:
    assert fmt.number_en(value, unit) == shown


@pytest.mark.parametrize(
    ("value", "zh", "en"),
    [
        (dt.date(2025, 3, 1), "2025年3月", "Mar 2025"),
        (pd.Timestamp("2026-10-01"), "2026年10月", "Oct 2026"),
        ("2024-12-01", "2024年12月", "Dec 2024"),
        (None, "—", "—"),
    ],
)
def test_months(value: object, zh: str, en: str) -> None:
    assert (fmt.month_zh(value), fmt.month_en(value)) == (zh, en)


def test_date_zh() -> None:
    assert fmt.date_zh(dt.date(2026, 11, 10)) == "2026年11月10日"
