"""Links and reload in a real browser: `streamlit run app.py` on a copy of the demo warehouse, driven with
Playwright and the system Chromium (/usr/bin/chromium; nothing is downloaded).

A leader opens a shared link to a target's detail while signed out: the sign-in page appears, in
Chinese, with no "Page not found" box and no English error text. After signing in the detail of that
target is shown for the month the link names. A reload (F5) keeps the user signed in on the same view,
through the session cookie. Signing out deletes the cookie: a reload then shows the sign-in page.
A copy of the old cookie, put back, is refused (the server ended its session). Screenshots go to
test-artifacts/ (git-ignored).

The server is warmed up with one request of "/" first: Streamlit answers the very first session of a
fresh process in its pages/-directory mode (this app keeps its page scripts in pages/), which knows
no /detail; docs/progress.md ("Links and sessions") says so.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser_server import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, running_app

sync_api = pytest.importorskip("playwright.sync_api")

TIMEOUT_MS = 30_000
TARGET = "rental_housing_15k"
TARGET_NAME = "三年内筹建保障性租赁住房1.5万套以上"
COOKIE = "ordos0477_session"
# English texts Streamlit itself shows when a page is unknown or the script fails
ENGLISH_ERRORS = ("Page not found", "does not seem to exist", "Traceback", "Error")


@pytest.fixture
def server(app_db: Path, tmp_path: Path) -> Iterator[str]:
    """`streamlit run app.py` on the copy of the demo warehouse; yields the base URL."""
    with running_app(app_db, tmp_path, "streamlit_links.log") as base:
        yield base


def test_deep_link_sign_in_reload_and_sign_out(server: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    console_errors: list[str] = []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1400, "height": 1000})
            page = context.new_page()
            page.set_default_timeout(TIMEOUT_MS)
            page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: console_errors.append(f"pageerror: {e}"))
            expect = sync_api.expect
            main = page.locator("[data-testid='stMain']")
            idle = page.locator("[data-testid='stApp'][data-test-script-state='notRunning']")

            def settle() -> None:
                page.wait_for_timeout(800)
                expect(idle).to_have_count(1)

            def shot(name: str) -> None:
                page.screenshot(path=str(ARTIFACTS / f"browser_links_{name}.png"), full_page=True)
                expect(page.locator("[data-testid='stException']")).to_have_count(0)

            def session_cookie() -> str | None:
                return next((c["value"] for c in context.cookies() if c["name"] == COOKIE), None)

            def shows_detail_of_the_target() -> None:
                expect(main.get_by_role("heading", name="指标详情")).to_be_visible()
                expect(main.get_by_role("combobox", name="选择目标")).to_have_value(f"三(二) · {TARGET_NAME}")
                expect(page.get_by_role("combobox", name="数据截至")).to_have_value("2026年9月")  # the link's, not 10月

            # warm-up: the first session of a fresh server (see the module docstring)
            page.goto(server + "/")
            expect(main.get_by_role("heading", name="暖城“新市民”0477系列措施监测")).to_be_visible()
            settle()
            context.clear_cookies()

            # -- a shared link, opened signed out
            page.goto(f"{server}/detail?target={TARGET}&month=2026-09")
            expect(main.get_by_role("heading", name="暖城“新市民”0477系列措施监测")).to_be_visible()
            settle()
            page.wait_for_timeout(1000)  # a "Page not found" box would arrive with the first run
            body = page.locator("body").inner_text()
            for text in ENGLISH_ERRORS:
                assert text not in body, text
            expect(page.get_by_role("dialog")).to_have_count(0)
            expect(page.get_by_label("账号")).to_be_editable()  # no modal box makes the form inert
            assert session_cookie() is None
            shot("01_sign_in_from_link")

            page.get_by_label("账号").fill("leader")
            page.get_by_label("密码").fill("leader-0477")
            page.get_by_role("button", name="登录", exact=True).click()
            settle()
            shows_detail_of_the_target()
            assert f"target={TARGET}" in page.url and "month=2026-09" in page.url
            token = session_cookie()
            assert token is not None and len(token) == 43
            [cookie] = [c for c in context.cookies() if c["name"] == COOKIE]
            assert (cookie["path"], cookie["sameSite"]) == ("/", "Strict")
            assert 0 < cookie["expires"] - time.time() <= 8 * 3600  # the absolute limit, 8 hours

            # -- F5: the same view, still signed in
            page.reload()
            settle()
            shows_detail_of_the_target()
            expect(page.get_by_role("button", name="退出登录")).to_be_visible()
            assert f"target={TARGET}" in page.url and "month=2026-09" in page.url
            assert session_cookie() == token
            shot("02_detail_after_reload")

            # -- sign out: the cookie goes, a reload shows the sign-in page
            page.get_by_role("button", name="退出登录").click()
            settle()
            expect(main.get_by_role("heading", name="暖城“新市民”0477系列措施监测")).to_be_visible()
            page.wait_for_timeout(500)
            assert session_cookie() is None
            page.reload()
            settle()
            expect(main.get_by_role("heading", name="暖城“新市民”0477系列措施监测")).to_be_visible()
            expect(page.get_by_role("button", name="退出登录")).to_have_count(0)
            shot("03_signed_out_after_reload")

            # a copy of the old cookie is worth nothing: the server ended its session
            context.add_cookies([{"name": COOKIE, "value": token, "url": server}])
            page.goto(f"{server}/detail?target={TARGET}")
            settle()
            expect(main.get_by_role("heading", name="暖城“新市民”0477系列措施监测")).to_be_visible()
            expect(page.get_by_role("button", name="退出登录")).to_have_count(0)
        finally:
            browser.close()
    # Streamlit's frontend first looks for its server under the page's own path (/detail/_stcore/…):
    # those two 404s are its base-path probe, every other console error fails the test
    assert [e for e in console_errors if "404" not in e] == [], console_errors
