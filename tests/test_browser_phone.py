"""The overview, a target's detail and the districts page in a real browser, on a 390 x 844 phone and
on a 1366 x 900 screen (issue 16): `streamlit run app.py` on a copy of the demo warehouse, driven with
Playwright and the system Chromium (/usr/bin/chromium; no browser is ever downloaded). The server and
browser set-up follow tests/test_browser.py (copied, not imported).

On the phone (Playwright's iPhone 13: a phone's user agent, touch, 390 x 844): no page is wider than
the screen, the six status tiles take under a quarter of it, the scorecard is a one-column list with
status and reason whose names open their detail, the districts page shows the ranked list and not
the heat map, and the sidebar is closed after signing in and after a navigation. At 1366 px: every
scorecard grid shows all its columns and rows without scrolling inside, and choosing a row opens
that target's detail.
Screenshots go to test-artifacts/ (git-ignored).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser_server import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, running_app

sync_api = pytest.importorskip("playwright.sync_api")

TIMEOUT_MS = 30_000
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs the system Chromium at /usr/bin/chromium")

# how far the page reaches to the right, against the window (horizontal overflow of the page body)
PAGE_WIDTHS = "() => [document.documentElement.scrollWidth, window.innerWidth]"
# each scorecard grid's scroller (glide-data-grid's .dvn-scroller): [scrollWidth, clientWidth, scrollHeight,
# clientHeight]; a grid that scrolls inside has a scroll size over its client size
GRID_SCROLL = """() => [...document.querySelectorAll('[class*="st-key-ov_grid_"] [data-testid="stDataFrame"]')]
    .map(grid => grid.querySelector('.dvn-scroller'))
    .map(s => [s.scrollWidth, s.clientWidth, s.scrollHeight, s.clientHeight])"""


@pytest.fixture
def server(app_db: Path, tmp_path: Path) -> Iterator[str]:
    """`streamlit run app.py` on the copy of the demo warehouse; yields the base URL."""
    with running_app(app_db, tmp_path, "streamlit_phone.log") as base:
        yield base


class Browser:
    """One page of a browser context, signed in through the sign-in form, with the helpers of
    tests/test_browser.py: settle (wait for the rerun), nav (a sidebar link), shot (a screenshot)."""

    def __init__(self, page: Any, server: str) -> None:
        self.page = page
        self.server = server
        self.main = page.locator("[data-testid='stMain']")
        self.sidebar = page.locator("[data-testid='stSidebar']")
        self.idle = page.locator("[data-testid='stApp'][data-test-script-state='notRunning']")
        self.errors: list[str] = []
        page.set_default_timeout(TIMEOUT_MS)
        page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))

    def settle(self) -> None:
        self.page.wait_for_timeout(500)
        sync_api.expect(self.idle).to_have_count(1)

    def sign_in(self, user: str, password: str) -> None:
        self.page.goto(self.server + "/")
        self.page.get_by_label("账号").fill(user)
        self.page.get_by_label("密码").fill(password)
        self.page.get_by_role("button", name="登录", exact=True).click()
        sync_api.expect(self.main.get_by_role("heading", name="总览")).to_be_visible()
        self.settle()

    def nav(self, path: str) -> None:
        """Open the sidebar if it is closed (a phone), then follow its link to `path`."""
        link = self.sidebar.locator(f"[data-testid='stSidebarNav'] a[href$='{path}']")
        if self.sidebar.get_attribute("data-collapsed") == "true":
            self.page.locator("[data-testid='stExpandSidebarButton']").click()
            sync_api.expect(self.sidebar).to_have_attribute("data-collapsed", "false")
        link.click()
        self.settle()

    def shot(self, name: str) -> None:
        """The whole page (Streamlit scrolls inside its own main block, so the window grows to it
        for the picture), which must not carry a Streamlit exception box."""
        viewport = self.page.viewport_size
        tall = self.page.evaluate("() => document.querySelector('[data-testid=stMain]').scrollHeight")
        self.page.set_viewport_size({"width": viewport["width"], "height": max(viewport["height"], tall)})
        self.page.wait_for_timeout(800)
        self.page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
        self.page.set_viewport_size(viewport)
        self.page.wait_for_timeout(300)
        sync_api.expect(self.page.locator("[data-testid='stException']")).to_have_count(0)

    def page_fits(self) -> None:
        width, window = self.page.evaluate(PAGE_WIDTHS)
        assert width <= window, f"the page is {width} px wide in a {window} px window"


def test_the_phone_reads_the_overview_a_target_and_the_districts(server: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    expect = sync_api.expect
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            phone = {k: v for k, v in p.devices["iPhone 13"].items() if k != "default_browser_type"}
            context = browser.new_context(**{**phone, "viewport": PHONE})
            b = Browser(context.new_page(), server)
            b.sign_in("leader", "leader-0477")
            expect(b.sidebar).to_have_attribute("data-collapsed", "true")  # "auto": closed on a phone

            # the overview: compact tiles, then the targets as one column with status and reason
            b.page_fits()
            tiles = b.page.locator(".st-key-ov_tiles").bounding_box()
            assert tiles is not None and tiles["height"] < PHONE["height"] / 4, tiles
            expect(b.page.locator(".ov-tile")).to_have_count(6)
            lists = b.page.locator(".ov-list")
            expect(lists.first).to_be_visible()
            expect(b.page.locator("[class*='st-key-ov_grid_'] [data-testid='stDataFrame']").first).to_be_hidden()
            first = b.page.locator(".ov-item").first
            expect(first.locator(".ov-item-status")).to_be_visible()
            expect(first.locator(".ov-item-reason")).to_be_visible()
            assert b.page.locator(".ov-item").count() == 66  # every target of the demo, once
            b.shot("phone_overview_zh")

            # a target's name opens its detail (a link: the session cookie keeps the leader signed in)
            name_link = b.page.locator(".ov-item-name").nth(2)
            name, href = name_link.text_content(), name_link.get_attribute("href")
            assert name and href and href.startswith("detail?target="), (name, href)
            name_link.click()
            expect(b.main.get_by_role("heading", name="指标详情")).to_be_visible()
            b.settle()
            expect(b.main.get_by_text(name, exact=False).first).to_be_visible()
            assert href.removeprefix("detail?") in b.page.url, b.page.url
            expect(b.sidebar).to_have_attribute("data-collapsed", "true")
            b.page_fits()
            b.shot("phone_detail_zh")

            # the districts: the ranked list, the heat map left out
            b.nav("/districts")
            expect(b.main.get_by_role("heading", name="旗区对比")).to_be_visible()
            expect(b.sidebar).to_have_attribute("data-collapsed", "true")
            expect(b.main.get_by_text("按完成进度排序：", exact=False)).to_be_visible()
            expect(b.page.locator(".st-key-district_heatmap")).to_be_hidden()
            expect(b.main.get_by_text("手机屏幕放不下热力图", exact=False)).to_be_visible()
            expect(b.main.locator("[data-testid='stDataFrame']").first).to_be_visible()  # the league (first grid)
            b.page_fits()
            b.shot("phone_districts_zh")
            assert not b.errors, b.errors
        finally:
            browser.close()


def test_at_1366_px_every_grid_shows_its_columns_and_rows_and_a_row_opens_the_target(server: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    expect = sync_api.expect
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            b = Browser(browser.new_context(viewport=DESKTOP).new_page(), server)
            b.sign_in("leader", "leader-0477")
            expect(b.sidebar).to_have_attribute("data-collapsed", "false")
            grids = b.page.locator("[class*='st-key-ov_grid_'] [data-testid='stDataFrame']")
            expect(grids.first).to_be_visible()
            expect(b.page.locator(".ov-list").first).to_be_hidden()  # the phone's list, not here
            b.page_fits()
            scroll = b.page.evaluate(GRID_SCROLL)
            assert len(scroll) == 7  # the demo's groups: due 2024 … 2030, and the annual targets
            for scroll_width, client_width, scroll_height, client_height in scroll:
                assert scroll_width <= client_width  # no column hides off to the right
                assert scroll_height <= client_height  # every row shown: the wheel scrolls the page
            b.shot("desktop_overview_zh")

            # the row marker of the second row of the first grid (header 35 px, Chinese rows 70 px) opens that
            # target; which one it is, the group's phone list (in the page, hidden here) says
            second = b.page.locator("[class*='st-key-ov_list_'] .ov-item-name").nth(1)
            name, href = second.text_content(), second.get_attribute("href")
            assert name and href and href.startswith("detail?target="), (name, href)
            grids.first.scroll_into_view_if_needed()
            box = grids.first.bounding_box()
            assert box is not None
            b.page.mouse.click(box["x"] + 16, box["y"] + 35 + 70 + 35)
            expect(b.main.get_by_role("heading", name="指标详情")).to_be_visible()
            b.settle()
            expect(b.main.get_by_text(name, exact=False).first).to_be_visible()
            assert href.removeprefix("detail?") in b.page.url, b.page.url
            b.shot("desktop_detail_from_row_zh")
            assert not b.errors, b.errors
        finally:
            browser.close()
