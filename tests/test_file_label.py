"""Submissions the app writes itself are named by what they carry, never by their internal file name
(dashboard.review_views.file_label: the approver's queue, the reporter's pending and returned lists)."""

from __future__ import annotations

import pytest

from dashboard import review_views
from monitor import i18n


@pytest.mark.parametrize(
    ("file_name", "shown"),
    [
        ("更正_rental_housing_units_dongsheng_202609.csv", "更正：{kpi}，东胜区，2026年9月"),
        ("更正_rental_housing_units_otog_front_202610.csv", "更正：{kpi}，鄂托克前旗，2026年10月"),
        ("在线填报_housing_202610.csv", "在线填报：2026年10月"),
        # an uploaded file keeps the name the clerk gave it, also one that only looks generated
        ("住建局_2026年10月.xlsx", "住建局_2026年10月.xlsx"),
        ("更正_no_such_kpi_dongsheng_202609.csv", "更正_no_such_kpi_dongsheng_202609.csv"),
        ("更正_rental_housing_units_dongsheng_202613.csv", "更正_rental_housing_units_dongsheng_202613.csv"),
        ("在线填报_housing_202610.xlsx", "在线填报_housing_202610.xlsx"),
    ],
)
def test_generated_submissions_read_as_fields_and_month(file_name: str, shown: str) -> None:
    kpi = i18n.name(review_views.data.config().kpi_by_id["rental_housing_units"], "zh")
    assert review_views.file_label(file_name) == shown.format(kpi=kpi)
