"""The package boundaries a newcomer relies on: only dashboard/ imports Streamlit, imports run one way
(dashboard -> etl -> monitor), every page is declared once in the page table and guards itself with its
own key, and a correction is the ETL's one-row report with every digit."""

from __future__ import annotations

import ast
import datetime as dt
import re
from pathlib import Path

import pytest

from dashboard import page_table
from etl.correct import correction_report

ROOT = Path(__file__).resolve().parents[1]


def _imported(path: Path) -> set[str]:
    """Top-level package of every import in a file (lazy imports inside functions included)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [("monitor", {"streamlit", "dashboard", "etl"}), ("etl", {"streamlit", "dashboard"})],
)
def test_domain_packages_import_neither_streamlit_nor_the_packages_above_them(
    package: str, forbidden: set[str]
) -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(_imported(path) & forbidden)
        for path in sorted((ROOT / package).rglob("*.py"))
        if _imported(path) & forbidden
    }
    assert offenders == {}


def test_every_page_file_is_declared_once_and_requires_its_own_key() -> None:
    declared = [page.file for page in page_table.PAGES]
    assert len(set(declared)) == len(declared)
    on_disk = {f"pages/{p.name}" for p in (ROOT / "pages").glob("*.py")}
    assert on_disk == set(declared) | {page_table.SIGN_IN.file}
    for page in page_table.PAGES:
        text = (ROOT / page.file).read_text(encoding="utf-8")
        assert re.findall(r'session\.require\("(\w+)"\)', text) == [page.key], page.file


def test_roles_see_the_pages_they_saw_before_the_page_table() -> None:
    monitor = ["overview", "detail", "districts", "bureaus", "quality"]
    assert [p.key for p in page_table.allowed("leader")] == [*monitor, "briefing", "print"]
    assert [p.key for p in page_table.allowed("reporter")] == [*monitor, "upload", "briefing"]
    assert [p.key for p in page_table.allowed("approver")] == [*monitor, "review", "briefing"]
    assert [p.key for p in page_table.allowed("admin")] == [*monitor, "upload", "review", "briefing", "print", "admin"]
    assert not page_table.may_open("leader", "upload")
    assert not page_table.may_open("reporter", "admin")
    assert not page_table.may_open("reporter", "review")
    assert not page_table.may_open("approver", "upload")
    assert not page_table.may_open("admin", "sign_in")


@pytest.mark.parametrize(
    ("value", "written"), [(1234567.5, "1234567.5"), (123456.7, "123456.7"), (120.0, "120"), (0.25, "0.25")]
)
def test_a_correction_is_a_one_row_report_with_every_digit(value: float, written: str) -> None:
    name, data = correction_report("rental_housing_units", "dongsheng", dt.date(2026, 3, 1), value)
    assert name == "更正_rental_housing_units_dongsheng_202603.csv"
    assert data.decode("utf-8") == f"指标编码,旗区,报送期,数值\nrental_housing_units,dongsheng,2026-03,{written}\n"
