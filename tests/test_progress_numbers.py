"""The column-wise figure texts of the scorecard's reasons (monitor.progress.numbers) are fmt's, text
for text: a sentence must show the same 1.5万套 / 6,081 / 30.5% as the card beside it."""

from __future__ import annotations

import numpy as np
import pytest

from monitor import fmt
from monitor.progress.numbers import number_texts

EDGES = [
    0.0, -0.0, 0.4, -0.4, 0.5, 1.0, 1.5, 2.5, 2.675, 9.95, 9999.4, 9999.5, 9999.95, 10_000.0, 15_000.0,
    15_555.0, 99_994.9, 99_995.0, 99_999_999.0, 99_999_999.5, 100_000_000.0, 123_456_789.0, 1_250_000.0,
    6_081.08, 6_210.0, 5_564.5, 31.25, -15_000.0, -1.0, -123_456_789.0, 1e15, 0.05, 0.049999, 1 / 3,
    float("inf"), float("-inf"), float("nan"),
]  # fmt: skip
UNITS = ["人", "套", "%", "个/千人", "", "people", "places per 1,000 people", "programmes", "是否完成"]


def _values() -> np.ndarray:
    rng = np.random.default_rng(477)
    random = np.concatenate(
        [
            rng.uniform(-1e9, 1e9, 400),
            rng.uniform(0, 20_000, 400),
            np.round(rng.uniform(0, 200_000, 400), 1),
            np.round(rng.uniform(0, 100, 400), 2),
            rng.integers(0, 50_000, 400).astype(float),
        ]
    )
    return np.concatenate([np.array(EDGES), random])


@pytest.mark.parametrize("unit", UNITS)
def test_chinese_texts_equal_fmt_number_zh_for_every_value(unit: str) -> None:
    values = _values()
    expected = [fmt.number_zh(v, unit) for v in values.tolist()]
    assert number_texts(values, unit, "zh").tolist() == expected


@pytest.mark.parametrize("unit", UNITS)
def test_english_texts_equal_fmt_number_en_for_every_value(unit: str) -> None:
    values = _values()
    expected = [fmt.number_en(v, unit) for v in values.tolist()]
    assert number_texts(values, unit, "en").tolist() == expected


def test_hand_computed_texts_round_half_up_and_name_the_unit_once() -> None:
    values = np.array([15_000.0, 6_081.08, 5_564.5, 123_456_789.0, 1.0, float("nan")])
    assert number_texts(values, "套", "zh").tolist() == ["1.5万套", "6,081.1套", "5,564.5套", "1.23亿套", "1套", "—"]
    assert number_texts(values, "people", "en").tolist() == [
        "15,000 people", "6,081.1 people", "5,564.5 people", "123,456,789 people", "1 person", "—",
    ]  # fmt: skip
    assert number_texts(np.array([31.25, 30.0]), "%", "zh").tolist() == ["31.3%", "30%"]


def test_an_empty_column_gives_no_texts() -> None:
    assert number_texts(np.array([]), "人", "zh").tolist() == []
