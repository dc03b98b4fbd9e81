"""One end-to-end run in a real browser: `streamlit run app.py` on a copy of the demo warehouse,
driven with Playwright and the system Chromium (/usr/bin/chromium; no browser is ever downloaded).

A reporter downloads the template for 2026-10, fills it with openpyxl (one distinctive figure for
the rental housing units of 东胜区), uploads it, sees the figures it changes, gives the reason it is
asked for and loads it; uploads a bad file and sees the row error; uploads a file named like a
Markdown link and image and sees the name as typed. On 在线填报 the reporter types another figure into
the grid (the rental housing units of 康巴什区, a cell of the canvas grid reached with the keyboard),
checks it (one figure changed, the reason asked for), gives the reason and submits; on 情况说明 writes
进展情况 / 存在问题 / 下步措施 for the target both figures feed and saves them; signs out. The bureau's
approver (审核人员) signs in, sees the open item and both submissions among the pending ones on 数据审核,
approves them, signs out (until then they are pending and leadership does not see them). The leader
signs in, sees how many figures still wait for review (the demo's own pending submission), picks an
earlier as-of month, switches to English (the month must stay picked, also after further reruns) and
back, opens the overview and a target's detail, then the detail of the target the reports changed (the
new figure, its status and the month's 进展情况 and 存在问题 in the 情况说明 table), then 简报导出: one
target, generate, download the deck and open it with python-pptx. Last, the leader opens a follow-up action (督办) on an
off-track target of the transport bureau and signs out; that bureau's reporter signs in and sees it
first thing: the open item "1项督办事项待办" and the action in the list under it. No Streamlit exception box, no
browser console error and no request to any host but this machine may appear. Screenshots go to
test-artifacts/ (git-ignored).

What the leader must see after the upload and the grid are approved is worked out twice, outside the
server (which holds the write lock on its warehouse): the figure as the scorecard before them plus what
they change, read from the never-modified demo warehouse the server's copy was taken from; the status
from the scorecard of another copy of it with the same file loaded and the same grid submitted
(etl.entry, the grid's own path). The two figures must agree.

Every navigation goes through the sidebar links: page.goto() would start a new Streamlit session,
which is signed out.
"""

from __future__ import annotations

import io
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import openpyxl
import pytest
from pptx import Presentation

from tests.browser_server import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, running_app
from tests.conftest import DEMO_AS_OF

sync_api = pytest.importorskip("playwright.sync_api")

TIMEOUT_MS = 30_000
BRIEFING_TIMEOUT_MS = 120_000  # the first briefing starts a headless Chromium for the charts

# The upload's distinctive figure: 2026-10 rental housing units raised in 东胜区 (about 100 a month in
# the demo data). It lifts the city's running total past the target's 15,000, so both the figure and
# the status on the leader's pages change.
RENTAL_TARGET = "rental_housing_15k"
# 督办: an off-track target in the demo (明显滞后 as of 2026-10) led by the transport bureau (demo reporter
# account "transport"); the leader opens an action on it, the bureau's reporter sees it on sign-in
ACTION_TARGET = "三年内公交出行分担率提升至30%"
ACTION_ASKED = "请于月底前报送提升公交分担率的整改措施"
RENTAL_KPI = "rental_housing_units"
RENTAL_DISTRICT = "东胜区"
RENTAL_VALUE = 3210
# The grid's figure: the same KPI in another district, over the upload's figure for it (last month's, 77
# in the demo data), so the leader's figure holds both reports.
GRID_DISTRICT = "康巴什区"
GRID_VALUE = 456
GRID_VALUE_COLUMN = 6  # the editor's columns: 序号, 指标, 旗区, 单位, 报送口径, 上月数值（参考）, 本月数值, …
# short: the detail's table lists only the columns in view in its accessible copy
EXPLANATION = {"progress": "康巴什区新项目交付", "problems": "房源与需求不匹配", "next_steps": "按旗区核对房源"}
# A file name with a Markdown link and image: shown as text, it must never make the browser fetch.
EVIL_NAME = "[核对](https:evil.example) ![x](https:evil.example?t.png) 报表.csv"
LOCAL_HOSTS = {"127.0.0.1", "localhost"}

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs the system Chromium at /usr/bin/chromium")


@pytest.fixture
def server(app_db: Path, tmp_path: Path) -> Iterator[str]:
    """`streamlit run app.py` on the copy of the demo warehouse; yields the base URL."""
    with running_app(app_db, tmp_path, "streamlit.log") as base:
        yield base


def _fill(template: bytes, bad_row: int | None = None, overrides: dict[tuple[str, str], float] | None = None) -> bytes:
    """Fill 数值 with last month's figure (the reference column), as a bureau clerk would in Excel;
    `overrides` puts other figures in, by (指标编码, 旗区)."""
    book = openpyxl.load_workbook(io.BytesIO(template))
    sheet = book["报送数据"]
    header = [c.value for c in sheet[1]]
    value_col, ref_col = header.index("数值") + 1, header.index("上月数值（参考）") + 1
    kpi_col, unit_col = header.index("指标编码") + 1, header.index("旗区") + 1
    for r in range(2, sheet.max_row + 1):
        sheet.cell(r, value_col).value = sheet.cell(r, ref_col).value
        key = (sheet.cell(r, kpi_col).value, sheet.cell(r, unit_col).value)
        if overrides and key in overrides:
            sheet.cell(r, value_col).value = overrides[key]
    if overrides:
        filled = {(sheet.cell(r, kpi_col).value, sheet.cell(r, unit_col).value) for r in range(2, sheet.max_row + 1)}
        assert set(overrides) <= filled, f"not in the template: {set(overrides) - filled}"
    if bad_row is not None:
        sheet.cell(bad_row + 1, value_col).value = "约一百"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.fixture(scope="module")
def known(demo_db: Path) -> dict[str, str]:
    """A target the reporter's upload does not touch (another bureau's), with what its detail page
    must show, from the scorecard in Chinese."""
    import datetime as dt

    from monitor import db, fmt, i18n, progress

    con = db.connect(demo_db, read_only=True)
    try:
        card = progress.scorecard(con, dt.date(2026, 10, 1))
    finally:
        con.close()
    pick = card[(card["lead_bureau"] != "housing") & card["actual"].notna() & (card["kind"] == "cumulative")]
    row = pick.iloc[0]
    return {
        "name": row["name_zh"],
        "actual": fmt.number_zh(row["actual"], row["unit_zh"]),
        "status": i18n.status_label(row["status"]),
    }


def _filled_rows(data: bytes) -> list[dict[str, object]]:
    """The rows of a filled template as the clerk sees them (header -> cell value)."""
    sheet = openpyxl.load_workbook(io.BytesIO(data), read_only=True)["报送数据"]
    rows = sheet.iter_rows(values_only=True)
    header = next(rows)
    return [dict(zip(header, row, strict=True)) for row in rows if any(v is not None for v in row)]


def _after_reports(demo_db: Path, filled: bytes, work: Path) -> dict[str, str]:
    """What the leader's detail page must show for RENTAL_TARGET as of DEMO_AS_OF once `filled` (the
    housing bureau's 2026-10 report) and then the grid with GRID_VALUE for GRID_DISTRICT are loaded
    into the server's copy of the demo warehouse; also where that grid row is and what 检查 says."""
    import pandas as pd

    from etl import entry
    from etl.load import load_bytes
    from monitor import db, fmt, i18n, progress
    from monitor.targets import load_targets

    cfg = load_targets()
    unit = cfg.kpi_by_id[RENTAL_KPI]
    mine = [r for r in _filled_rows(filled) if r["指标编码"] == RENTAL_KPI and r["数值"] is not None]
    assert mine and {r["报送期"] for r in mine} == {f"{DEMO_AS_OF:%Y-%m}"}, mine
    assert any(r["旗区"] == RENTAL_DISTRICT and r["数值"] == RENTAL_VALUE for r in mine), mine
    figures = {str(r["旗区"]): float(r["数值"]) for r in mine}  # type: ignore[arg-type]
    assert GRID_DISTRICT != RENTAL_DISTRICT and figures.get(GRID_DISTRICT) not in (None, GRID_VALUE), figures
    upload_figure = figures[GRID_DISTRICT]
    figures[GRID_DISTRICT] = float(GRID_VALUE)  # the grid's revision is newer than the upload's

    # 1. the figure: the scorecard before the reports, plus new minus current figure of every district
    con = db.connect(demo_db, read_only=True)  # never modified; the server's warehouse is a copy of it
    try:
        before = progress.scorecard(con, DEMO_AS_OF, cfg=cfg).set_index("target_id").loc[RENTAL_TARGET]
        unit_ids = dict(con.execute("select name_zh, district_id from districts").fetchall())
        current = dict(
            con.execute(
                "select district_id, value from current_observations where kpi_id = ? and period = ?",
                [RENTAL_KPI, DEMO_AS_OF],
            ).fetchall()
        )
    finally:
        con.close()
    assert before["kind"] == "cumulative" and before["district_id"] == "city", before
    delta = sum(value - current.get(unit_ids[district], 0.0) for district, value in figures.items())
    actual = float(before["actual"]) + delta

    # 2. the status: the scorecard of another copy of the warehouse with the same file loaded and the
    # same grid submitted (approved at once: the copy has the figures the server has after approval)
    copy = work / "expected" / demo_db.name
    copy.parent.mkdir()
    for f in demo_db.parent.glob(demo_db.name + "*"):
        shutil.copy2(f, copy.parent / f.name)
    con = db.connect(copy)
    try:
        result = load_bytes("housing_report.xlsx", filled, cfg, "housing", "test", con, archive=None)
        assert result.outcome == "accepted", result.problems
        grid = entry.grid(con, cfg, "housing", DEMO_AS_OF)
        at = grid.index[(grid["kpi_id"] == RENTAL_KPI) & (grid["旗区"] == GRID_DISTRICT)]
        assert len(at) == 1, grid
        grid_row = int(at[0])
        assert grid.at[grid_row, entry.VALUE] == entry.figure_text(upload_figure), grid.iloc[grid_row]
        filled_cells = int((grid[entry.VALUE].map(entry.cell) != "").sum())
        grid.loc[grid_row, entry.VALUE] = str(GRID_VALUE)
        name, report = entry.to_report(grid, "housing", DEMO_AS_OF)
        result = load_bytes(name, report, cfg, "housing", "test", con, archive=None, reason="grid")
        assert result.outcome == "accepted", result.problems
        after = progress.scorecard(con, DEMO_AS_OF, cfg=cfg).set_index("target_id").loc[RENTAL_TARGET]
    finally:
        con.close()
    assert after["actual"] == pytest.approx(actual), (after["actual"], actual)
    assert pd.Timestamp(after["latest_period"]) == pd.Timestamp(DEMO_AS_OF), after["latest_period"]

    out = {
        "name": str(after["name_zh"]),
        "actual": fmt.number_zh(actual, str(after["unit_zh"])),
        "status": i18n.status_label(str(after["status"])),
        "before_actual": fmt.number_zh(float(before["actual"]), str(before["unit_zh"])),
        "before_status": i18n.status_label(str(before["status"])),
        "grid_row": str(grid_row),
        "grid_check": f"检查通过：{filled_cells}行已填写，{len(grid) - filled_cells}行为空（视为本月未报送）。",
        "grid_cell": entry.figure_text(upload_figure),
        "kpi_name": unit.name_zh,
        # the change as the check lists it (monitor.tables.changes)
        "grid_old": fmt.figure(upload_figure, unit.unit_zh, unit.unit_en, "zh"),
        "grid_new": fmt.figure(float(GRID_VALUE), unit.unit_zh, unit.unit_en, "zh"),
    }
    # the figures are chosen so the leader's page changes: both the figure and the status
    assert out["actual"] != out["before_actual"] and out["status"] != out["before_status"], out
    return out


def test_reporter_and_leader_in_the_browser(known: dict[str, str], demo_db: Path, tmp_path: Path, server: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    console_errors: list[str] = []
    failed_requests: list[str] = []
    requests: list[str] = []  # every URL the browser asked for: all must stay on this machine

    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
            page = context.new_page()
            page.set_default_timeout(TIMEOUT_MS)
            page.on(
                "console",
                lambda m: console_errors.append(f"{m.text} @ {m.location.get('url')}") if m.type == "error" else None,
            )
            page.on("pageerror", lambda e: console_errors.append(f"pageerror: {e}"))
            page.on("requestfailed", lambda r: failed_requests.append(f"{r.url}: {r.failure}"))
            context.on("request", lambda r: requests.append(r.url))
            expect = sync_api.expect
            main = page.locator("[data-testid='stMain']")
            sidebar = page.locator("[data-testid='stSidebar']")

            idle = page.locator("[data-testid='stApp'][data-test-script-state='notRunning']")

            def settle() -> None:
                """Let a rerun that a click may just have started finish (a download button reruns
                the page too; its redraw can land after the next click)."""
                page.wait_for_timeout(500)
                expect(idle).to_have_count(1)

            def shot(name: str) -> None:
                """A picture of the page, which must not carry a Streamlit exception box."""
                page.screenshot(path=str(ARTIFACTS / f"browser_{name}.png"), full_page=True)
                expect(page.locator("[data-testid='stException']")).to_have_count(0)

            def sign_in(user: str, password: str) -> None:
                page.get_by_label("账号").fill(user)
                page.get_by_label("密码").fill(password)
                page.get_by_role("button", name="登录", exact=True).click()
                expect(main.get_by_role("heading", name="总览")).to_be_visible()
                settle()

            def nav(path: str) -> None:
                """Follow the sidebar link to `path` ("/" is the overview)."""
                selector = f"a[href='{server}/']" if path == "/" else f"a[href$='{path}']"
                link = sidebar.locator(f"[data-testid='stSidebarNav'] {selector}")
                expect(link).to_have_count(1)
                link.click()
                settle()

            # -- the reporter of the housing bureau
            page.goto(server + "/")
            expect(main.get_by_role("heading", name="暖城“新市民”0477系列措施监测")).to_be_visible()
            shot("01_sign_in")
            sign_in("housing", "housing-0477")
            nav("/upload")
            expect(main.get_by_role("heading", name="数据上报")).to_be_visible()
            # the template month: 2026-10, the last month of the demo data (the default is last month)
            template_tab = main.get_by_role("tab", name="下载模板")  # the page opens on 在线填报
            template_tab.click()
            expect(template_tab).to_have_attribute("aria-selected", "true")
            settle()  # a tab switch reruns the page (only the open tab's content runs)
            template_month = main.get_by_role("combobox")  # the template tab's (the others are hidden)
            expect(template_month).to_have_count(1)
            month_label = f"{DEMO_AS_OF.year}年{DEMO_AS_OF.month}月"
            if template_month.input_value() != month_label:
                template_month.click()
                page.get_by_role("option", name=month_label, exact=True).click()
                expect(template_month).to_have_value(month_label)
                settle()
            with page.expect_download() as download:
                main.get_by_role("button", name=re.compile(r"下载模板（\d+行）")).click()
            template = Path(download.value.path()).read_bytes()
            assert download.value.suggested_filename == f"housing_{DEMO_AS_OF:%Y-%m}.xlsx"
            assert template[:2] == b"PK"  # an xlsx
            filled = _fill(template, overrides={(RENTAL_KPI, RENTAL_DISTRICT): RENTAL_VALUE})
            expected = _after_reports(demo_db, filled, tmp_path)
            shot("02_upload_page")

            settle()
            upload_tab = main.get_by_role("tab", name="上传月报")
            upload_tab.click()
            expect(upload_tab).to_have_attribute("aria-selected", "true")
            settle()  # a tab switch reruns the page (only the open tab's content runs)
            file_input = main.locator("input[type='file']")
            file_input.set_input_files(
                files=[{"name": "housing_report.xlsx", "mimeType": "application/octet-stream", "buffer": filled}]
            )
            expect(main.get_by_text("校验通过")).to_be_visible()
            # the month is reported already: the changes are listed and a reason is required
            expect(main.get_by_text(re.compile(r"本文件将修改\d+个已报送的数值"))).to_be_visible()
            main.get_by_role("button", name="确认导入").click()
            expect(main.get_by_text("本文件修改了已报送的数值，请先填写修改原因。")).to_be_visible()
            settle()
            reason = main.get_by_label("修改原因（必填）")
            reason.fill("按10月台账复核")
            reason.press("Control+Enter")  # commit the text before the click
            settle()
            main.get_by_role("button", name="确认导入").click()
            loaded = main.locator("[data-testid='stAlertContentSuccess']").filter(has_text="已导入")
            expect(loaded).to_be_visible()
            found = re.search(r"报送编号(\d+)", loaded.inner_text())
            assert found, loaded.inner_text()
            upload_sid = found.group(1)
            shot("03_loaded")

            file_input.set_input_files(
                files=[
                    {
                        "name": "housing_bad.xlsx",
                        "mimeType": "application/octet-stream",
                        "buffer": _fill(template, bad_row=3),
                    }
                ]
            )
            expect(main.get_by_text("文件有1个问题，未导入")).to_be_visible()
            with page.expect_download() as problems:
                main.get_by_role("button", name="下载问题清单").click()
            settle()
            problem_csv = Path(problems.value.path()).read_bytes().decode("utf-8-sig")
            assert "不是有效数字" in problem_csv and "约一百" in problem_csv
            expect(main.get_by_text("不是有效数字").first).to_be_attached()  # the grid's accessible table
            shot("04_rejected")

            # a file name with a Markdown link and image is shown as typed: no link, no image, no fetch
            same_figure = (
                f"指标编码,旗区,报送期,数值\n{RENTAL_KPI},{RENTAL_DISTRICT},{DEMO_AS_OF:%Y-%m},{RENTAL_VALUE}\n"
            )
            file_input.set_input_files(
                files=[{"name": EVIL_NAME, "mimeType": "text/csv", "buffer": same_figure.encode("utf-8")}]
            )
            checked = main.locator("[data-testid='stAlertContentSuccess']").filter(has_text="校验通过")
            expect(checked).to_contain_text(EVIL_NAME)
            expect(main.locator("a[href*='evil']")).to_have_count(0)
            expect(page.locator("img[src*='evil']")).to_have_count(0)
            settle()
            shot("04b_markdown_file_name")

            # 在线填报: the grid shows the month as submitted (the upload's figures); one figure typed in
            entry_tab = main.get_by_role("tab", name="在线填报")
            entry_tab.click()
            expect(entry_tab).to_have_attribute("aria-selected", "true")
            settle()  # a tab switch reruns the page (only the open tab's content runs)
            panel = main.get_by_role("tabpanel")  # the open tab's (the others are hidden)
            expect(panel).to_have_count(1)
            entry_month = panel.get_by_role("combobox")
            expect(entry_month).to_have_count(1)
            if entry_month.input_value() != month_label:
                entry_month.click()
                page.get_by_role("option", name=month_label, exact=True).click()
                expect(entry_month).to_have_value(month_label)
                settle()
            canvas = panel.locator("[class*='st-key-entry_editor_'] [data-testid='data-grid-canvas']")
            expect(canvas).to_have_count(1)
            # the grid's accessible table (inside the canvas) names the cell and says whether it is selected
            grid_row = int(expected["grid_row"])
            value_cell = canvas.locator(f"tr[aria-rowindex='{grid_row + 2}'] td").nth(GRID_VALUE_COLUMN)
            expect(value_cell).to_have_text(expected["grid_cell"])  # the upload's figure, pending
            # a click on the first data cell (below the header row), then the keyboard to the cell. The grid
            # in view and the page at rest first (the spot is measured), and a mouse click at the spot: the
            # grid's scroller lies over its canvas. Focusing the accessible cell does not select it.
            canvas.scroll_into_view_if_needed()
            settle()
            # the grid may still be laying out on a busy machine: measure, click and walk again until the
            # cell is selected (at most three tries), then type
            for attempt in range(3):
                page.wait_for_timeout(500 * (attempt + 1))
                box = canvas.bounding_box()
                assert box is not None
                page.mouse.click(box["x"] + 20, box["y"] + 52)
                page.wait_for_timeout(300)
                for _ in range(grid_row):
                    page.keyboard.press("ArrowDown")
                for _ in range(GRID_VALUE_COLUMN):
                    page.keyboard.press("ArrowRight")
                if value_cell.get_attribute("aria-selected") == "true":
                    break
            expect(value_cell).to_have_attribute("aria-selected", "true")
            page.keyboard.type(str(GRID_VALUE), delay=100)  # the first key opens the cell's editor
            page.keyboard.press("Enter")
            settle()
            expect(value_cell).to_have_text(str(GRID_VALUE))
            panel.get_by_role("button", name="检查", exact=True).click()
            settle()
            expect(panel.get_by_text(expected["grid_check"])).to_be_visible()
            # exactly the typed cell changed: 康巴什区, from the upload's figure to the grid's
            expect(panel.get_by_text("本文件将修改1个已报送的数值")).to_be_visible()
            # the change table's row, in its accessible copy (the grid shows the new figure without a unit)
            change = panel.locator("tr").filter(has=page.get_by_text(expected["grid_new"], exact=True))
            expect(change).to_have_count(1)
            expect(change.locator("td")).to_have_text(
                [expected["kpi_name"], GRID_DISTRICT, month_label, expected["grid_old"], expected["grid_new"]]
            )
            grid_reason = panel.get_by_label("修改原因（必填）")
            grid_reason.fill("康巴什区10月集中新建项目交付，按台账更正")
            grid_reason.press("Control+Enter")
            settle()
            panel.get_by_role("button", name="提交", exact=True).click()
            submitted = panel.locator("[data-testid='stAlertContentSuccess']").filter(has_text="已导入")
            expect(submitted).to_be_visible()
            expect(submitted).to_contain_text("已提交，待本单位审核人员审核后生效。")
            found = re.search(r"报送编号(\d+)", submitted.inner_text())
            assert found, submitted.inner_text()
            grid_sid = found.group(1)
            assert grid_sid != upload_sid
            settle()
            shot("04c_grid_submitted")

            # 情况说明 of the target both figures feed, for the same month
            explain_tab = main.get_by_role("tab", name="情况说明")
            explain_tab.click()
            expect(explain_tab).to_have_attribute("aria-selected", "true")
            explain_month = panel.get_by_role("combobox")
            expect(explain_month).to_have_count(1)
            if explain_month.input_value() != month_label:
                explain_month.click()
                page.get_by_role("option", name=month_label, exact=True).click()
                expect(explain_month).to_have_value(month_label)
                settle()
            stem = f"expl_{RENTAL_TARGET}_{DEMO_AS_OF:%Y-%m}"
            expect(panel.get_by_role("heading", name=expected["name"])).to_be_visible()
            for field, text in EXPLANATION.items():
                panel.locator(f".st-key-{stem}_{field} textarea").fill(text)
            panel.locator(f".st-key-{stem}_save button").click()
            expect(panel.get_by_text(re.compile(r"^已保存情况说明（版本\d+）$"))).to_be_visible()
            settle()
            shot("04d_explanation_saved")

            sidebar.get_by_role("button", name="退出登录").click()
            expect(page.get_by_label("账号")).to_be_visible()

            # -- the housing bureau's approver: the upload and the grid wait for review, beside the demo's
            # pending submission
            sign_in("housing_approver", "housing_approver-0477")
            expect(main.get_by_text("3项待审核")).to_be_visible()  # the open item on the landing page
            expect(sidebar.locator("a[href$='/upload']")).to_have_count(0)  # approvers do not submit
            nav("/review")
            expect(main.get_by_role("heading", name="数据审核")).to_be_visible()
            expect(main.get_by_role("heading", name="待审核的报送（3）")).to_be_visible()
            expect(main.get_by_text(f"第{upload_sid}号报送")).to_be_visible()
            expect(main.get_by_text(f"第{grid_sid}号报送")).to_be_visible()
            shot("04e_review")
            main.locator(f".st-key-rv_approve_{upload_sid} button").click()
            expect(main.get_by_text(f"第{upload_sid}号报送已审核通过，数据已计入。")).to_be_visible()
            expect(main.get_by_role("heading", name="待审核的报送（2）")).to_be_visible()
            settle()
            main.locator(f".st-key-rv_approve_{grid_sid} button").click()
            expect(main.get_by_text(f"第{grid_sid}号报送已审核通过，数据已计入。")).to_be_visible()
            expect(main.get_by_role("heading", name="待审核的报送（1）")).to_be_visible()
            settle()
            shot("04f_approved")
            sidebar.get_by_role("button", name="退出登录").click()
            expect(page.get_by_label("账号")).to_be_visible()

            # -- the leader
            sign_in("leader", "leader-0477")
            # the demo's own pending submission (2 figures) is still out of the leader's figures, and said so
            expect(sidebar.get_by_text("另有2项数据待审核，未计入")).to_be_visible()
            expect(sidebar.locator("a[href$='/upload']")).to_have_count(0)  # not a reporter's page
            # the as-of month chosen in one language stays chosen in the other, across reruns
            as_of = sidebar.get_by_role("combobox")
            caption = main.locator("[data-testid='stCaptionContainer']").first
            expect(as_of).to_have_value("2026年10月")
            as_of.click()
            page.get_by_role("option", name="2026年8月", exact=True).click()
            expect(caption).to_contain_text("数据截至 2026年8月")
            sidebar.get_by_role("radio", name="English").click()
            expect(main.get_by_role("heading", name="Overview")).to_be_visible()
            expect(main.get_by_text("On track").first).to_be_visible()
            expect(caption).to_contain_text("As of Aug 2026")
            expect(as_of).to_have_value("Aug 2026")
            nav("/districts")  # any rerun: the month used to fall back to the latest here
            expect(main.get_by_role("heading", name="Districts")).to_be_visible()
            nav("/")
            expect(main.get_by_role("heading", name="Overview")).to_be_visible()
            expect(caption).to_contain_text("As of Aug 2026")
            expect(as_of).to_have_value("Aug 2026")
            shot("05_overview_en")
            sidebar.get_by_role("radio", name="中文").click()
            expect(main.get_by_role("heading", name="总览")).to_be_visible()
            expect(as_of).to_have_value("2026年8月")
            as_of.click()
            page.get_by_role("option", name="2026年10月", exact=True).click()
            expect(caption).to_contain_text("数据截至 2026年10月")

            nav("/detail")
            expect(main.get_by_role("heading", name="指标详情")).to_be_visible()
            main.locator("[data-testid='stSelectbox']").first.click()
            page.keyboard.type(known["name"][:8])  # the option list is virtual: filter it first
            page.get_by_role("option", name=re.compile(re.escape(known["name"]))).click()
            metrics = main.locator("[data-testid='stMetric']")
            expect(metrics.filter(has_text="最新实际")).to_contain_text(known["actual"])
            expect(metrics.filter(has_text="状态")).to_contain_text(known["status"])
            page.wait_for_timeout(1000)  # let the charts settle before the picture
            shot("06_detail")

            # the reporter's upload and grid: the new figure, its status and the explanation
            pick_target = main.get_by_role("combobox", name="选择目标")
            pick_target.click()
            page.keyboard.type(expected["name"][:8])
            page.get_by_role("option", name=re.compile(re.escape(expected["name"]))).click()
            expect(pick_target).to_have_value(re.compile(re.escape(expected["name"]) + "$"))
            expect(metrics.filter(has_text="最新实际")).to_contain_text(expected["actual"])
            expect(metrics.filter(has_text="状态")).to_contain_text(expected["status"])
            expect(main.get_by_role("heading", name="情况说明").first).to_be_visible()
            # the month's row of the 情况说明 table, in its accessible copy. That copy holds only the columns in
            # the grid's view (月份, 进展情况, 存在问题 at this window size; 下步措施 onwards lie to the right)
            explained = main.locator("tr").filter(has=page.get_by_text(EXPLANATION["progress"], exact=True))
            expect(explained).to_have_count(1)
            for column, text in enumerate((month_label, EXPLANATION["progress"], EXPLANATION["problems"])):
                expect(explained.locator("td").nth(column)).to_have_text(text)
            settle()
            page.wait_for_timeout(1000)
            shot("07_detail_uploaded")

            # the briefing of that one target: generate, download the deck
            nav("/briefing")
            expect(main.get_by_role("heading", name="简报导出")).to_be_visible()
            expect(main.get_by_role("button", name="下载PPT")).to_have_count(0)  # nothing generated yet
            # the full deck (one slide per target): the default pack would put an on-track target in the appendix
            main.get_by_text("完整简报（每项目标一页）", exact=True).click()  # the label: the input is hidden
            expect(main.get_by_role("radio", name="完整简报（每项目标一页）")).to_be_checked()
            settle()
            main.get_by_role("combobox", name=re.compile("^目标")).click()
            page.keyboard.type(expected["name"][:8])
            page.get_by_role("option", name=re.compile(re.escape(expected["name"]))).click()
            page.keyboard.press("Escape")
            expect(main.get_by_text("将包含1项目标，PPT共4页。")).to_be_visible()
            settle()
            main.get_by_role("button", name="生成简报").click()
            deck_button = main.get_by_role("button", name="下载PPT")
            expect(deck_button).to_be_visible(timeout=BRIEFING_TIMEOUT_MS)
            expect(main.get_by_text(re.compile(r"简报已生成（1项目标"))).to_be_visible()
            for label in ("下载PDF", "下载Excel", "下载图表（PNG/SVG）"):
                expect(main.get_by_role("button", name=label)).to_be_visible()
            settle()
            shot("08_briefing")
            with page.expect_download() as deck_download:
                deck_button.click()
            settle()
            assert deck_download.value.suggested_filename.endswith(".pptx"), deck_download.value.suggested_filename
            deck = Presentation(deck_download.value.path())
            assert len(deck.slides) >= 4
            deck_text = "\n".join(
                shape.text_frame.text for slide in deck.slides for shape in slide.shapes if shape.has_text_frame
            )
            for text in (expected["name"], expected["actual"], expected["status"]):
                assert text in deck_text, (text, deck_text)

            nav("/")
            expect(main.get_by_role("heading", name="总览")).to_be_visible()
            shot("09_overview")

            # 督办: the leader opens a follow-up action on an off-track target of the transport bureau
            nav("/detail")
            pick_target = main.get_by_role("combobox", name="选择目标")
            pick_target.click()
            page.keyboard.type(ACTION_TARGET[:8])
            page.get_by_role("option", name=re.compile(re.escape(ACTION_TARGET))).click()
            expect(metrics.filter(has_text="状态")).to_contain_text("明显滞后")
            expect(main.get_by_text("暂无督办事项。")).to_be_visible()
            # the rerun of the pick must be over: a field filled during it is redrawn empty
            settle()
            asked = main.get_by_label("督办要求（最多500字）")
            asked.fill(ACTION_ASKED)
            expect(asked).to_have_value(ACTION_ASKED)
            main.get_by_role("button", name="交办", exact=True).click()
            expect(main.get_by_text(re.compile(r"已交办第\d+号督办事项。"))).to_be_visible()
            settle()
            shot("10_action_opened")
            sidebar.get_by_role("button", name="退出登录").click()
            expect(page.get_by_label("账号")).to_be_visible()

            # -- the transport bureau's reporter sees it on signing in, first thing
            sign_in("transport", "transport-0477")
            expect(main.get_by_text("1项督办事项待办")).to_be_visible()
            mine = main.locator("tr").filter(has=page.get_by_text(ACTION_ASKED, exact=True))
            expect(mine).to_have_count(1)
            shot("11_bureau_sees_action")
        finally:
            browser.close()

    assert not console_errors, console_errors + failed_requests
    outside = [
        u for u in requests if urlsplit(u).scheme not in ("data", "blob") and urlsplit(u).hostname not in LOCAL_HOSTS
    ]
    assert not outside, outside
