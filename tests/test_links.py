"""Links: the page, the target, the month, the language and the overview's filters are the URL's query
parameters (dashboard/links.py), and a link opened signed out leads to its view after sign-in.

AppTest against a copy of the demo warehouse (conftest `app_db`), with the harness of
tests/test_app_pages.py (Streamlit's pages/-directory mode kept off, as on a live server after its
first run; format_func answered outside a run). Streamlit's "Page not found" box is a message to the
browser that AppTest does not keep, so the tests record every call of the function that sends it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit as st
import streamlit.commands.navigation as navigation_module
import streamlit.testing.v1.app_test as app_test_module
from streamlit.runtime.pages_manager import PagesManager
from streamlit.runtime.scriptrunner import get_script_run_ctx
from streamlit.testing.v1 import AppTest

from dashboard import data, ui
from monitor import i18n
from tests.conftest import TODAY

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "app.py"
KNOWN_TARGET = "rental_housing_15k"  # 三(二) 保障性租赁住房1.5万套
SEPTEMBER = dt.date(2026, 9, 1)
DEFAULT_MONTH = dt.date(2026, 10, 1)  # the newest month due on TODAY (2026-11-26)

_current: dict[str, AppTest] = {}


class _NavigationPagesManager(PagesManager):
    """Keep Streamlit's pages/-directory mode off, as on the live server after its first run."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        PagesManager.uses_pages_directory = False


@pytest.fixture(autouse=True)
def _harness(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    st.cache_data.clear()
    st.cache_resource.clear()
    monkeypatch.setattr(app_test_module, "PagesManager", _NavigationPagesManager)
    in_run = ui.lang

    def lang() -> i18n.Lang:
        at = _current.get("at")
        if get_script_run_ctx() is None and at is not None:
            return "en" if at.session_state["lang"] == "en" else "zh"
        return in_run()

    monkeypatch.setattr(ui, "lang", lang)
    monkeypatch.setattr(data, "today", lambda: TODAY)
    yield
    _current.clear()
    st.cache_data.clear()
    st.cache_resource.clear()


@pytest.fixture
def not_found(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every "Page not found" Streamlit would have sent to the browser (one entry per box)."""
    sent: list[str] = []
    original = navigation_module.send_page_not_found

    def record(ctx: object) -> None:
        sent.append("page_not_found")
        original(ctx)  # type: ignore[arg-type]

    monkeypatch.setattr(navigation_module, "send_page_not_found", record)
    return sent


def app(user: str | None = None) -> AppTest:
    """The app after its first run, `user` signed in (as the page tests do) or signed out."""
    at = AppTest.from_file(str(APP), default_timeout=60)
    _current["at"] = at
    if user is not None:
        now = dt.datetime.now()
        at.session_state["user_name"] = user
        at.session_state["signed_in_at"] = now
        at.session_state["last_seen"] = now
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def follow(at: AppTest, page: str, **params: str) -> AppTest:
    """Open pages/<page>.py with the given query parameters, as a link does."""
    at.query_params.clear()
    at.query_params.update(params)
    at.switch_page(f"pages/{page}.py").run()
    # A browser's next rerun asks for the page the last run finished on (the address bar follows
    # st.switch_page); AppTest would keep asking for the page switched to here.
    at._page_hash = ""
    return at


def sign_in(at: AppTest, user: str, password: str, lang: i18n.Lang = "zh") -> AppTest:
    at.text_input(key="sign_in_user").input(user)
    at.text_input(key="sign_in_password").input(password)
    [button] = [b for b in at.button if b.label == i18n.t("sign_in", lang)]
    return button.click().run()


def assert_clean(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def titles(at: AppTest) -> list[str]:
    return [t.value for t in at.title]


# -- query parameters select the view -------------------------------------------------------------------


def test_a_link_selects_target_month_and_language(app_db: Path) -> None:
    at = follow(app("leader"), "target_detail", target=KNOWN_TARGET, month="2026-09", lang="en")
    assert_clean(at)
    assert titles(at) == ["Target detail"]
    assert at.session_state["lang"] == "en"
    assert at.selectbox(key="detail_target_en").value == KNOWN_TARGET
    assert at.selectbox(key="as_of_choice_en").value == SEPTEMBER
    assert at.query_params == {"target": KNOWN_TARGET, "month": "2026-09", "lang": "en"}


def test_choices_are_written_back_into_the_link(app_db: Path) -> None:
    at = follow(app("leader"), "target_detail", target=KNOWN_TARGET)
    assert at.query_params == {"target": KNOWN_TARGET, "month": "2026-10", "lang": "zh"}
    at.selectbox(key="detail_target_zh").select_index(1).run()
    assert_clean(at)
    other = at.selectbox(key="detail_target_zh").value
    assert other != KNOWN_TARGET
    assert at.query_params["target"] == other
    at.selectbox(key="as_of_choice_zh").select(SEPTEMBER).run()
    assert_clean(at)
    assert at.query_params["month"] == "2026-09"
    assert at.query_params["target"] == other  # the target stays: only the month moved
    at.segmented_control(key="lang_choice").set_value("English").run()
    assert at.query_params == {"target": other, "month": "2026-09", "lang": "en"}
    assert at.selectbox(key="detail_target_en").value == other
    assert at.selectbox(key="as_of_choice_en").value == SEPTEMBER  # the month survives the toggle


def test_unknown_values_in_a_link_are_ignored_without_an_error(app_db: Path) -> None:
    at = follow(app("leader"), "target_detail", target="no_such_target", month="2099-01", lang="fr")
    assert_clean(at)
    assert titles(at) == ["指标详情"]  # Chinese: fr is no language of the app
    first = at.selectbox(key="detail_target_zh").value
    assert first != "no_such_target"
    assert at.selectbox(key="as_of_choice_zh").value == DEFAULT_MONTH
    # the address bar is corrected to what is shown
    assert at.query_params == {"target": first, "month": "2026-10", "lang": "zh"}


def test_overview_filters_come_from_the_link_and_are_shown_in_force(app_db: Path) -> None:
    at = follow(app("leader"), "overview", status="off_track,at_risk,bogus", bureau="housing")
    assert_clean(at)
    assert at.multiselect(key="ov_status_zh").value == ["off_track", "at_risk"]  # bogus dropped
    assert at.multiselect(key="ov_bureau_zh").value == ["housing"]
    assert at.multiselect(key="ov_section_zh").value == []
    # the filter box says two filters are in force from the first run on
    assert i18n.t("filters_active", "zh", n=2) in [e.label for e in at.expander]
    assert at.query_params["status"] == "off_track,at_risk"
    assert at.query_params["bureau"] == "housing"
    assert "section" not in at.query_params  # "all" is no parameter


def test_the_bureau_page_follows_its_link(app_db: Path) -> None:
    at = follow(app("leader"), "bureaus", bureau="transport")
    assert_clean(at)
    assert at.selectbox(key="bureau_pick_zh").value == "transport"
    assert at.query_params["bureau"] == "transport"


# -- a link opened signed out --------------------------------------------------------------------------


def test_a_link_opened_signed_out_shows_sign_in_then_its_view(app_db: Path, not_found: list[str]) -> None:
    at = follow(app(None), "target_detail", target=KNOWN_TARGET, month="2026-09")
    assert_clean(at)
    assert titles(at) == [i18n.t("app_title", "zh")]  # the sign-in page, not the detail
    assert not at.metric  # nothing of the detail is drawn for a stranger
    assert not_found == []
    assert at.query_params == {"lang": "zh"}  # the sign-in page's own address carries only the language
    sign_in(at, "leader", "leader-0477")
    assert_clean(at)
    assert titles(at) == ["指标详情"]
    assert at.selectbox(key="detail_target_zh").value == KNOWN_TARGET
    assert at.selectbox(key="as_of_choice_zh").value == SEPTEMBER
    assert at.query_params == {"target": KNOWN_TARGET, "month": "2026-09", "lang": "zh"}
    assert not_found == []


def test_a_signed_out_link_keeps_its_language_on_the_sign_in_page(app_db: Path, not_found: list[str]) -> None:
    at = follow(app(None), "overview", status="off_track", lang="en")
    assert_clean(at)
    assert titles(at) == ["Ordos New Residents 0477 Monitor"]
    sign_in(at, "leader", "leader-0477", "en")
    assert_clean(at)
    assert titles(at) == ["Overview"]
    assert at.multiselect(key="ov_status_en").value == ["off_track"]
    assert not_found == []


def test_a_link_to_a_page_the_role_may_not_open_lands_on_the_overview(app_db: Path, not_found: list[str]) -> None:
    at = follow(app(None), "admin")
    assert titles(at) == [i18n.t("app_title", "zh")]
    sign_in(at, "leader", "leader-0477")
    assert_clean(at)
    assert titles(at) == ["总览"]
    assert not_found == []


def test_after_sign_out_the_next_sign_in_starts_on_the_overview(app_db: Path) -> None:
    at = follow(app(None), "bureaus", bureau="transport")
    sign_in(at, "leader", "leader-0477")
    assert titles(at) == [i18n.t("nav_bureaus", "zh")]
    [button] = [b for b in at.button if b.label == "退出登录"]
    button.click().run()
    assert_clean(at)
    assert titles(at) == [i18n.t("app_title", "zh")]
    sign_in(at, "leader", "leader-0477")
    assert titles(at) == ["总览"]  # the page one signed out from is no request to go back to


def test_the_districts_page_follows_its_link_to_one_districts_targets(app_db: Path) -> None:
    """/districts?district=kangbashi: the one-district table lists 康巴什区's own figures against its
    share (the 9,500 core housing target: 9,500 over the four districts the text names, 2,375 each)."""
    from monitor import db, progress
    from monitor.targets import load_targets

    at = follow(app("leader"), "districts", district="kangbashi")
    assert_clean(at)
    assert at.selectbox(key="district_pick_zh").value == "kangbashi"
    assert at.query_params["district"] == "kangbashi"
    [own] = [d.value for d in at.dataframe if "实际 / 目标" in d.value.columns]
    con = db.connect(app_db)  # the same configuration as the app's connection in this process
    try:
        units = progress.scorecard(con, "2026-10", cfg=load_targets(), all_units=True)
    finally:
        con.close()
    mine = units[(units["district_id"] == "kangbashi") & units["kind"].isin(["cumulative", "annual"])]
    assert len(own) == len(mine) > 0
    core = own.set_index("目标").loc["东胜区、康巴什区、伊金霍洛旗、高新区筹建9500套以上"]
    actual = float(mine.set_index("target_id").at["rental_housing_9500_core", "actual"])
    assert core["实际 / 目标"] == f"{actual:,.0f}套 / 2,375套"
    # another district chosen in the page is written back into the link
    at.selectbox(key="district_pick_zh").set_value("dongsheng").run()
    assert at.query_params["district"] == "dongsheng"
