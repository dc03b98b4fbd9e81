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


@pytest.mark.parametrize(
    ("first", "last", "zh", "en"),
    [
        (1, 3, "2025年1—3月", "Jan–Mar 2025"),
        (7, 7, "2025年7月", "Jul 2025"),  # one month reads as month_zh / month_en write it
        (1, 12, "2025年1—12月", "Jan–Dec 2025"),
        (1, 0, "", ""),  # the judged year has not begun: no span
    ],
)
def test_month_span(first: int, last: int, zh: str, en: str) -> None:
    assert (fmt.month_span(2025, first, last, "zh"), fmt.month_span(2025, first, last, "en")) == (zh, en)
    if first == last:
        assert (zh, en) == (fmt.month_zh(dt.date(2025, first, 1)), fmt.month_en(dt.date(2025, first, 1)))


def test_date_zh() -> None:
    assert fmt.date_zh(dt.date(2026, 11, 10)) == "2026年11月10日"
