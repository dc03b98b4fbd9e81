"""Every page of the Streamlit app, in both languages, with streamlit.testing.v1.AppTest against a
copy of the demo warehouse (real targets.yaml, demo data up to 2026-10; see `app_db` in conftest).

Expected figures are computed independently from the same warehouse (monitor.progress.scorecard,
monitor.queries) and compared with what the pages show.

Two adaptations of the test harness (not of the app), both in the autouse fixture `_harness`:

* AppTest resets Streamlit's "pages/ directory" flag before every run. Because this app keeps its
  page scripts in a folder named ``pages/``, AppTest would then serve ``switch_page("pages/x.py")``
  through Streamlit's old directory-based multipage mode and run the page file *without* app.py.
  The live server does that only until the first ``st.navigation`` call of the process; the
  fixture keeps the flag off so every run goes through app.py and its ``st.navigation``, as in
  the browser. (The direct route is tested on its own in `test_page_files_guard_themselves`.)
* AppTest formats selectbox / multiselect values with the widget's ``format_func`` outside the
  script run, where ``st.session_state`` is not available; ``ui.month`` and ``ui.status_text``
  read the language from it. Outside a run the fixture answers from the AppTest's session state.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
import streamlit as st
import streamlit.testing.v1.app_test as app_test_module
from streamlit.runtime.pages_manager import PagesManager
from streamlit.runtime.scriptrunner import get_script_run_ctx
from streamlit.testing.v1 import AppTest

from dashboard import data, ui
from etl.demo import PENDING_EXTRA, demo_accounts
from etl.template import template_rows, write_template
from monitor import auth, db, fmt, i18n, progress, queries
from monitor.style import STATUS_ORDER
from monitor.targets import TargetsConfig, load_targets
from tests.conftest import TODAY

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "app.py"
AS_OF = dt.date(2026, 10, 1)  # the last month of the demo data (conftest.DEMO_UNTIL)
LANGS = ("zh", "en")
KNOWN_TARGET = "rental_housing_15k"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
NO_ACCESS = "无权访问此页面"

_current: dict[str, AppTest] = {}


class _NavigationPagesManager(PagesManager):
    """Keep Streamlit's pages/-directory mode off, as on the live server after its first run."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        PagesManager.uses_pages_directory = False


@pytest.fixture(autouse=True)
def _harness(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    st.cache_data.clear()
    st.cache_resource.clear()  # a fresh connection to this test's warehouse copy
    monkeypatch.setattr(app_test_module, "PagesManager", _NavigationPagesManager)
    in_run = ui.lang

    def lang() -> i18n.Lang:
        at = _current.get("at")
        if get_script_run_ctx() is None and at is not None:
            return "en" if at.session_state["lang"] == "en" else "zh"
        return in_run()

    monkeypatch.setattr(ui, "lang", lang)
    # the default as-of month is the latest month whose reports are due on this day: 2026-10 (AS_OF)
    monkeypatch.setattr(data, "today", lambda: TODAY)
    yield
    _current.clear()
    st.cache_data.clear()
    st.cache_resource.clear()


# -- expected values, computed from the warehouse without the app ------------------------------------


@dataclass
class Expected:
    cfg: TargetsConfig
    card: pd.DataFrame
    rates: pd.DataFrame
    warnings: int
    rejected: int

    @property
    def counts(self) -> dict[str, int]:
        vc = self.card["status"].value_counts()
        return {s: int(vc.get(s, 0)) for s in STATUS_ORDER}

    def target(self, target_id: str) -> dict:
        return self.card.set_index("target_id").loc[target_id].to_dict()


@pytest.fixture(scope="module")
def expected(demo_db: Path) -> Expected:
    cfg = load_targets()
    con = db.connect(demo_db, read_only=True)
    try:
        return Expected(
            cfg=cfg,
            card=progress.scorecard(con, AS_OF, cfg=cfg),
            rates=queries.reporting_status(con, cfg.policy.start, AS_OF, cfg.reporting.due_day),
            warnings=len(queries.load_warnings(con)),
            rejected=len(queries.rejected_rows(con)),
        )
    finally:
        con.close()


def T(key: str, lang: str, **kwargs: object) -> str:
    return i18n.t(key, lang, **kwargs)  # type: ignore[arg-type]


# -- driving the app ----------------------------------------------------------------------------------


def start(user: str | None, lang: str = "zh") -> AppTest:
    """The app with `user` signed in (None: signed out) in `lang`, after its first run."""
    at = AppTest.from_file(str(APP), default_timeout=60)
    _current["at"] = at
    if user is not None:
        now = dt.datetime.now()
        at.session_state["user_name"] = user
        at.session_state["signed_in_at"] = now
        at.session_state["last_seen"] = now
    at.session_state["lang_choice"] = "English" if lang == "en" else "中文"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def open_page(user: str, page: str, lang: str = "zh", **query: str) -> AppTest:
    at = start(user, lang)
    at.query_params.update(query)
    at.switch_page(f"pages/{page}.py").run()
    return at


def titles(at: AppTest) -> list[str]:
    return [t.value for t in at.title]


def frames(at: AppTest) -> list[pd.DataFrame]:
    return [d.value for d in at.dataframe]


def metric(at: AppTest, label: str) -> str:
    found = [m.value for m in at.metric if m.label == label]
    assert len(found) == 1, (label, [m.label for m in at.metric])
    return found[0]


def button(at: AppTest, label: str):
    found = [b for b in at.button if b.label == label]
    assert len(found) == 1, (label, [b.label for b in at.button])
    return found[0]


def assert_clean(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


# -- every page, both languages ------------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_overview(app_db: Path, expected: Expected, lang: str) -> None:
    at = open_page("leader", "overview", lang)
    assert_clean(at)
    assert titles(at) == [T("nav_overview", lang)]
    assert T("demo_banner", lang) in [w.value for w in at.warning]
    card = expected.card
    assert any(T("targets_count", lang, n=len(card)) in c.value for c in at.caption)
    month = fmt.month(AS_OF, lang)
    assert any(f"{T('as_of', lang)} {month}" in c.value for c in at.caption)

    # one tile per status (HTML markdown: the status word, then its count)
    tiles = {}
    for m in at.markdown:
        for s in STATUS_ORDER:
            if f">{fmt.status(s, lang)}<" in m.value:
                tiles[s] = int(re.findall(r">\s*(\d+)\s*<", m.value)[-1])
    assert tiles == expected.counts
    assert expected.counts["achieved"] > 0 and expected.counts["on_track"] > 0

    # every target once, in tables grouped by deadline year
    shown = pd.concat(frames(at), ignore_index=True)
    assert len(shown) == len(card)
    assert sorted(shown[T("col_target", lang)]) == sorted(card[f"name_{lang}"])
    for s, n in expected.counts.items():
        assert (shown[T("col_status", lang)] == fmt.status(s, lang)).sum() == n
    known = expected.target(KNOWN_TARGET)
    row = shown[shown[T("col_target", lang)] == known[f"name_{lang}"]].iloc[0]
    assert row[T("col_status", lang)] == fmt.status(known["status"], lang)
    assert row[T("col_actual", lang)] == fmt.figure(known["actual"], known["unit_zh"], known["unit_en"], lang)
    assert row[T("col_goal", lang)] == fmt.figure(known["target_value"], known["unit_zh"], known["unit_en"], lang)
    # the lead bureau (KNOWN_TARGET: housing); English drops the "Municipal" every name starts with
    shown_bureau = {"zh": "市住房和城乡建设局", "en": "Housing and Urban-Rural Development Bureau"}[lang]
    assert row[T("col_bureau", lang)] == shown_bureau
    groups = [s.value for s in at.subheader]
    assert len(groups) == len(at.dataframe)
    assert T("due_by", lang, year=pd.Timestamp(known["deadline"]).year) in " ".join(groups)


def test_overview_status_filter(app_db: Path, expected: Expected) -> None:
    at = open_page("leader", "overview")
    tables_before = len(at.dataframe)
    at.multiselect(key="ov_status_zh").select("achieved").run()
    assert_clean(at)
    achieved = expected.card[expected.card["status"] == "achieved"]
    shown = pd.concat(frames(at), ignore_index=True)
    assert len(shown) == len(achieved) < len(expected.card)
    assert set(shown["状态"]) == {fmt.status("achieved", "zh")}
    assert sorted(shown["目标"]) == sorted(achieved["name_zh"])
    kinds = achieved["kind"].eq("annual")
    groups = set(pd.to_datetime(achieved.loc[~kinds, "deadline"]).dt.year) | ({"annual"} if kinds.any() else set())
    assert len(at.dataframe) == len(groups) < tables_before

    # a second status widens the selection again
    at.multiselect(key="ov_status_zh").select("off_track").run()
    shown = pd.concat(frames(at), ignore_index=True)
    assert len(shown) == expected.counts["achieved"] + expected.counts["off_track"]

    # filters that no target meets together: the "no match" note and no table
    card = expected.card
    never = sorted(set(card["lead_bureau"]) - set(achieved["lead_bureau"]))
    assert never, "every bureau has an achieved target in the demo data; choose another combination"
    at.multiselect(key="ov_status_zh").set_value(["achieved"])
    at.multiselect(key="ov_bureau_zh").set_value([never[0]]).run()
    assert_clean(at)
    assert not at.dataframe
    assert [i.value for i in at.info] == [T("no_match", "zh")]


@pytest.mark.parametrize("lang", LANGS)
def test_target_detail(app_db: Path, expected: Expected, lang: str) -> None:
    at = open_page("leader", "target_detail", lang, target=KNOWN_TARGET)
    assert_clean(at)
    assert titles(at) == [T("nav_detail", lang)]
    assert at.selectbox(key=f"detail_target_{lang}").value == KNOWN_TARGET
    known = expected.target(KNOWN_TARGET)
    uz, ue = known["unit_zh"], known["unit_en"]
    assert metric(at, T("col_actual", lang)) == fmt.figure(known["actual"], uz, ue, lang)
    assert metric(at, T("col_goal", lang)) == fmt.figure(known["target_value"], uz, ue, lang)
    assert metric(at, T("col_forecast", lang)) == fmt.figure(known["forecast"], uz, ue, lang)
    assert metric(at, T("col_status", lang)) == fmt.status(known["status"], lang)
    if lang == "zh":  # the example of the brief, spelled out
        assert metric(at, "最新实际") == fmt.number_zh(known["actual"], "套")
    assert known[f"reason_{lang}"] in [i.value for i in at.info]
    assert len(at.get("plotly_chart")) >= 2  # trajectory and the district bars
    assert at.query_params["target"] == KNOWN_TARGET
    lead = expected.cfg.bureau_by_id[known["lead_bureau"]]
    colon = "：" if lang == "zh" else ": "
    assert f"{T('lead', lang)}{colon}{getattr(lead, f'name_{lang}')}" in [m.value for m in at.markdown]


def test_target_detail_switch_target(app_db: Path, expected: Expected) -> None:
    at = open_page("leader", "target_detail")
    card = expected.card
    other = card[(card["target_id"] != KNOWN_TARGET) & card["actual"].notna()].iloc[0]
    at.selectbox(key="detail_target_zh").select(other["target_id"]).run()
    assert_clean(at)
    assert metric(at, "最新实际") == fmt.figure(other["actual"], other["unit_zh"], other["unit_en"], "zh")
    assert metric(at, "状态") == fmt.status(other["status"], "zh")
    assert at.query_params["target"] == other["target_id"]


@pytest.mark.parametrize("lang", LANGS)
def test_districts(app_db: Path, expected: Expected, lang: str) -> None:
    at = open_page("leader", "districts", lang)
    assert_clean(at)
    assert titles(at) == [T("nav_districts", lang)]
    assert at.get("plotly_chart"), "the heat map"
    league = frames(at)[0]
    names = {getattr(d, f"name_{lang}") for d in expected.cfg.districts if d.id != "city"}
    assert set(league[T("col_district", lang)]) <= names
    assert len(league) >= 5
    assert league[T("league_score", lang)].is_monotonic_decreasing


def _values(data: list[float] | dict[str, str]) -> list[float]:
    """A plotly trace's numbers: a list, or the typed array plotly 6+ sends ({"dtype", "bdata"})."""
    if isinstance(data, list):
        return data
    return np.frombuffer(base64.b64decode(data["bdata"]), dtype=data["dtype"]).tolist()


@pytest.mark.parametrize("lang", LANGS)
def test_bureaus(app_db: Path, expected: Expected, lang: str) -> None:
    at = open_page("leader", "bureaus", lang)
    assert_clean(at)
    assert titles(at) == [T("nav_bureaus", lang)]
    table = frames(at)[1]  # after the 催报 list (tests/test_reminders_pages.py)
    for s, n in expected.counts.items():  # each target counted once, under its lead bureau
        assert table[fmt.status(s, lang)].sum() == n
    rates = expected.rates
    assert table[T("expected_reports", lang)].sum() == len(rates)
    assert table[T("received_reports", lang)].sum() == int(rates["received"].sum())
    names = {getattr(b, f"name_{lang}") for b in expected.cfg.bureaus}
    assert set(table[T("f_bureau", lang)]) <= names

    # one bureau's months: the table newest first, the chart the share over the last 12 months
    bureau = at.selectbox(key=f"bureau_pick_{lang}").value
    mine = rates[rates["bureau_id"] == bureau].sort_values("period")
    months = frames(at)[2]
    keys = ("month", "received_reports", "on_time_reports", "tc_due_date", "tc_first_submitted_at")
    assert list(months.columns) == [T(k, lang) for k in keys]
    assert len(months) == len(mine)
    assert list(months[T("received_reports", lang)]) == ["✔" if r else "✘" for r in mine["received"][::-1]]
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    completeness, timeliness = (_values(trace["y"]) for trace in spec["data"])
    last12 = mine.tail(12)
    assert completeness[-1] == pytest.approx(last12["received"].mean())
    assert timeliness[-1] == pytest.approx(last12["on_time"].sum() / last12["received"].sum())  # as in the table


@pytest.mark.parametrize("lang", LANGS)
def test_data_quality(app_db: Path, expected: Expected, lang: str) -> None:
    at = open_page("leader", "data_quality", lang)
    assert_clean(at)
    assert titles(at) == [T("nav_quality", lang)]
    rates = expected.rates
    missing = int((~rates["received"]).sum())
    late = int((rates["received"] & ~rates["on_time"]).sum())
    assert missing > 0 and late > 0  # the demo has bureaus that stopped reporting and late ones
    assert metric(at, T("missing_reports", lang)) == str(missing)
    assert metric(at, T("late_list", lang)) == str(late)
    assert metric(at, T("outliers", lang)) == str(expected.warnings)
    assert metric(at, T("rejected", lang)) == str(expected.rejected)
    shown = frames(at)[1:]  # the 催报 list comes first (tests/test_reminders_pages.py)
    assert len(shown[0]) == missing
    # records read with names and headers in the user's language, never warehouse codes
    late_frame = shown[1]
    assert list(late_frame.columns) == [
        T(k, lang) for k in ("f_bureau", "month", "tc_due_date", "tc_first_submitted_at")
    ]
    assert len(late_frame) == late
    bureau_names = {getattr(b, f"name_{lang}") for b in expected.cfg.bureaus}
    assert set(late_frame[T("f_bureau", lang)]) <= bureau_names
    outliers = shown[2]
    assert len(outliers) == expected.warnings
    kpi_names = {getattr(k, f"name_{lang}") for k in expected.cfg.kpis}
    assert set(outliers[T("tc_kpi", lang)]) <= kpi_names
    assert T("tc_message", lang) in outliers.columns and "message_zh" not in outliers.columns
    # a leader has no history tab: the audit log is for administrators (more in tests/test_accounts.py)
    four = ("missing_reports", "late_list", "outliers", "rejected")
    assert [tab.label for tab in at.tabs] == [T(k, lang) for k in four]
    audit = frames(open_page("admin", "data_quality", lang))[-1]
    # the demo's newest 500 events: accounts created, monthly reports accepted, corrections, one returned
    # submission (targets loaded, the first event, is older than those)
    acts = {
        T(f"act_{a}", lang) for a in ("user_add", "upload_accepted", "revision", "review_return", "explanation_save")
    }
    assert set(audit[T("tc_action", lang)]) == acts


@pytest.mark.parametrize("lang", LANGS)
def test_upload_page(app_db: Path, expected: Expected, lang: str) -> None:
    at = open_page("housing", "upload", lang)
    assert_clean(at)
    assert titles(at) == [T("nav_upload", lang)]
    bureau = expected.cfg.bureau_by_id["housing"]
    assert any(getattr(bureau, f"name_{lang}") in c.value for c in at.caption)
    rows = len(template_rows(expected.cfg, "housing", AS_OF))
    assert [b.label for b in at.get("download_button")] == [T("up_download_template", lang, n=rows)]
    assert at.file_uploader(key="up_file").label == T("up_choose", lang)
    assert T("up_fix_submit", lang) in [b.label for b in at.button]


@pytest.mark.parametrize("lang", LANGS)
def test_admin_page(app_db: Path, expected: Expected, lang: str) -> None:
    at = open_page("admin", "admin", lang)
    assert_clean(at)
    assert titles(at) == [T("nav_admin", lang)]
    users = frames(at)[0]
    assert sorted(users[T("user_name", lang)]) == sorted(u for u, *_ in demo_accounts(expected.cfg))
    assert (users[T("role", lang)] == T("role_leader", lang)).sum() == 1
    assert T("adm_targets_help", lang, kpis=len(expected.cfg.kpis), targets=len(expected.cfg.targets)) in [
        m.value for m in at.markdown
    ]
    assert len(frames(at)[-1]) > 0  # the audit log


def test_language_switch_keeps_page_and_months(app_db: Path) -> None:
    """The month pickers (ui.month_select) keep the chosen month when the language changes; the
    widget key carries the language, the month is remembered under the plain key."""
    at = open_page("leader", "overview")
    at.selectbox(key="as_of_choice_zh").select(dt.date(2026, 8, 1)).run()
    assert any("数据截至 2026年8月" in c.value for c in at.caption)
    at.segmented_control(key="lang_choice").set_value("English").run()
    assert_clean(at)
    assert titles(at) == ["Overview"]
    assert at.session_state["lang"] == "en"
    assert any("As of Aug 2026" in c.value for c in at.caption)
    assert at.selectbox(key="as_of_choice_en").value == dt.date(2026, 8, 1)
    at.run()
    assert any("As of Aug 2026" in c.value for c in at.caption)
    at.segmented_control(key="lang_choice").set_value("中文").run()
    assert titles(at) == ["总览"]
    assert any("数据截至 2026年8月" in c.value for c in at.caption)


def test_language_switch_keeps_template_month(app_db: Path) -> None:
    at = open_page("housing", "upload")
    at.selectbox(key="up_template_period_zh").select(dt.date(2026, 8, 1)).run()
    at.segmented_control(key="lang_choice").set_value("English").run()
    assert_clean(at)
    assert at.selectbox(key="up_template_period_en").value == dt.date(2026, 8, 1)
    at.run()
    assert at.selectbox(key="up_template_period_en").value == dt.date(2026, 8, 1)


def test_language_switch_keeps_overview_filters(app_db: Path, expected: Expected) -> None:
    """A leader who filtered the scorecard to one bureau's off-track targets and switches to English
    still sees those targets, now named in English (the filters hold ids, not labels)."""
    card = expected.card
    off = card[card["status"] == "off_track"]
    bureau = off["lead_bureau"].value_counts().index[0]
    wanted = off[off["lead_bureau"] == bureau]
    at = open_page("leader", "overview")
    at.multiselect(key="ov_status_zh").set_value(["off_track"])
    at.multiselect(key="ov_bureau_zh").set_value([bureau]).run()
    assert sorted(pd.concat(frames(at))["目标"]) == sorted(wanted["name_zh"])
    assert [e.label for e in at.expander] == ["政策结构：“0477”的含义", "筛选（已启用2项）"]
    at.segmented_control(key="lang_choice").set_value("English").run()
    assert_clean(at)
    assert at.multiselect(key="ov_status_en").value == ["off_track"]
    assert at.multiselect(key="ov_bureau_en").value == [bureau]
    assert at.multiselect(key="ov_bureau_en").placeholder == "All"
    assert sorted(pd.concat(frames(at))["Target"]) == sorted(wanted["name_en"])
    assert [e.label for e in at.expander] == ["How the policy is built: what “0477” means", "Filters (2 in use)"]
    at.segmented_control(key="lang_choice").set_value("中文").run()
    assert sorted(pd.concat(frames(at))["目标"]) == sorted(wanted["name_zh"])
    assert at.multiselect(key="ov_bureau_zh").placeholder == "全部"


def test_correction_form_offers_only_the_city_for_a_city_level_kpi(app_db: Path, expected: Expected) -> None:
    cfg = expected.cfg
    city_kpi = next(k for k in cfg.kpis_of_bureau("housing") if k.aggregation == "city")
    at = open_page("housing", "upload")
    district_box = at.selectbox(key="up_fix_district_zh")
    assert "city" not in district_box.options and "东胜区" in district_box.options
    at.selectbox(key="up_fix_kpi_zh").select(city_kpi.id).run()
    assert at.selectbox(key="up_fix_district_zh").options == ["全市"]
    at.segmented_control(key="lang_choice").set_value("English").run()
    assert at.selectbox(key="up_fix_kpi_en").value == city_kpi.id
    assert city_kpi.name_en in at.selectbox(key="up_fix_kpi_en").options
    assert at.selectbox(key="up_fix_district_en").options == ["Whole city"]


# -- empty warehouse ------------------------------------------------------------------------------------


def test_empty_warehouse_shows_guidance(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "empty.duckdb"
    con = db.open_warehouse(path)
    try:
        auth.add_user(con, "boss", "boss-password", "admin")
    finally:
        con.close()
    monkeypatch.setenv("MONITOR_DB", str(path))
    at = start("boss")
    assert not at.exception
    assert f"**{T('empty_title', 'zh')}**" in at.info[0].value
    assert not at.dataframe
    assert not [s.key for s in at.selectbox if s.key and s.key.startswith("as_of_choice")]
    for page in ("target_detail", "districts", "bureaus", "data_quality"):
        at.switch_page(f"pages/{page}.py").run()
        assert not at.exception, page
        assert T("empty_title", "zh") in at.info[0].value, page
    for page, title in (("upload", "数据上报"), ("admin", "系统管理")):
        at.switch_page(f"pages/{page}.py").run()
        assert not at.exception, page
        assert titles(at) == [title]


# -- sign-in ---------------------------------------------------------------------------------------------


def sign_in(at: AppTest, user: str, password: str) -> AppTest:
    at.text_input(key="sign_in_user").input(user)
    at.text_input(key="sign_in_password").input(password)
    return button(at, "登录").click().run()


def test_sign_in(app_db: Path) -> None:
    at = start(None)
    assert_clean(at)
    assert titles(at) == [T("app_title", "zh")]
    assert "leader" in set(frames(at)[0]["账号"])  # demo accounts listed in demo mode
    sign_in(at, "leader", "leader-0477")
    assert_clean(at)
    assert at.session_state["user_name"] == "leader"
    assert titles(at) == ["总览"]
    assert "leader · 领导" in [c.value for c in at.caption]


def test_sign_in_wrong_password_and_lock_out(app_db: Path) -> None:
    at = start(None)
    for attempt in range(1, auth.MAX_FAILURES + 1):
        sign_in(at, "leader", f"wrong-{attempt}")
        assert not at.exception
        assert "user_name" not in at.session_state
        # one message for every refusal, the lock included: the form never says an account is locked
        assert "账号或密码错误" in at.error[0].value, (attempt, at.error[0].value)
    sign_in(at, "leader", "leader-0477")  # the right password does not help while locked
    assert "账号或密码错误" in at.error[0].value
    assert "user_name" not in at.session_state
    con = db.connect(app_db)
    try:
        locked = auth.get_user(con, "leader")
    finally:
        con.close()
    assert locked is not None and locked.locked() and locked.failed_count == auth.MAX_FAILURES
    sign_in(at, "nobody", "whatever-0477")
    assert "账号或密码错误" in at.error[0].value


def test_sign_out(app_db: Path) -> None:
    at = start("leader")
    button(at, "退出登录").click().run()
    assert "user_name" not in at.session_state
    assert titles(at) == [T("app_title", "zh")]


# -- roles -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("user", "allowed", "refused"),
    [
        ("leader", ("overview", "target_detail", "data_quality"), ("upload", "admin")),
        ("housing", ("overview", "upload"), ("admin",)),
        ("admin", ("overview", "upload", "admin"), ()),
    ],
)
def test_role_navigation(app_db: Path, user: str, allowed: tuple, refused: tuple) -> None:
    """A page outside the role is not in the navigation at all: AppTest cannot switch to it."""
    at = start(user)
    for page in allowed:
        at.switch_page(f"pages/{page}.py").run()
        assert_clean(at)
    for page in refused:
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            at.switch_page(f"pages/{page}.py")


@pytest.mark.parametrize(
    ("user", "page"),
    [("leader", "upload"), ("leader", "admin"), ("housing", "admin"), (None, "overview"), (None, "upload")],
)
def test_page_files_guard_themselves(app_db: Path, user: str | None, page: str) -> None:
    """A page script run on its own (as Streamlit's pages/-directory mode does for the first request
    of a fresh server) re-checks the role: nothing but the refusal is drawn."""
    at = AppTest.from_file(str(ROOT / "pages" / f"{page}.py"), default_timeout=60)
    _current["at"] = at
    if user:
        now = dt.datetime.now()
        at.session_state["user_name"] = user
        at.session_state["signed_in_at"] = now
        at.session_state["last_seen"] = now
    at.run()
    assert not at.exception
    assert [e.value for e in at.error] == ["无权访问此页面。"]  # one language: the reader's (Chinese by default)
    assert not at.title and not at.dataframe and not at.get("download_button")


# -- reporting: upload, rejection, correction ----------------------------------------------------------------


def filled_template(cfg: TargetsConfig, path: Path, period: dt.date, bad_row: int | None = None) -> bytes:
    """The template as a bureau downloads it, 数值 filled in with openpyxl from the reference column
    (last month's figure); `bad_row` (1-based data row) gets text instead of a number."""
    con = db.connect(path)
    try:
        buf = io.BytesIO()
        write_template(cfg, "housing", period, buf, con)
    finally:
        con.close()
    book = openpyxl.load_workbook(io.BytesIO(buf.getvalue()))
    sheet = book["报送数据"]
    header = [c.value for c in sheet[1]]
    value_col, ref_col = header.index("数值") + 1, header.index("上月数值（参考）") + 1
    for r in range(2, sheet.max_row + 1):
        ref = sheet.cell(r, ref_col).value
        assert ref is not None
        sheet.cell(r, value_col).value = ref
    if bad_row is not None:
        sheet.cell(bad_row + 1, value_col).value = "约一百"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def counts(path: Path) -> dict[str, int]:
    con = db.connect(path)
    try:
        return {
            "observations": int(db.scalar(con, "select count(*) from observations")),
            "accepted": int(db.scalar(con, "select count(*) from submissions where outcome = 'accepted'")),
            "rejected": int(db.scalar(con, "select count(*) from submissions where outcome = 'rejected'")),
            "rejected_rows": int(db.scalar(con, "select count(*) from rejected_rows")),
        }
    finally:
        con.close()


def test_upload_flow(app_db: Path, expected: Expected) -> None:
    cfg = expected.cfg
    data = filled_template(cfg, app_db, AS_OF)
    con = db.connect(app_db)
    try:
        current = con.execute(
            """
            select c.kpi_id, c.district_id, c.value from current_observations c join kpis k using (kpi_id)
            where k.lead_bureau = 'housing' and c.period = ?
            """,
            [AS_OF],
        ).df()
    finally:
        con.close()
    rows = len(pd.read_excel(io.BytesIO(data), sheet_name="报送数据", engine="openpyxl"))
    assert rows == len(template_rows(cfg, "housing", AS_OF)) == len(current)
    before = counts(app_db)

    at = open_page("housing", "upload")
    at.file_uploader(key="up_file").upload("housing_2026-10.xlsx", data, XLSX).run()
    assert_clean(at)
    assert any("校验通过" in s.value and f"共{rows}行" in s.value for s in at.success)
    preview = [f for f in frames(at) if "指标" in f.columns and "行" in f.columns]
    assert len(preview) == 1 and len(preview[0]) == rows
    # what will be loaded, read as the clerk reads it: names, 2026年10月, the figure
    assert list(preview[0].columns) == ["行", "指标", "旗区", "月份", "数值"]
    assert set(preview[0]["月份"]) == {"2026年10月"}
    housing_kpis = {k.name_zh for k in cfg.kpis_of_bureau("housing")}
    assert set(preview[0]["指标"]) == housing_kpis
    assert "东胜区" in set(preview[0]["旗区"])
    assert counts(app_db) == before  # the preview writes nothing

    # the month is reported already: every changed figure is listed, and a reason is required
    listed = next(f for f in frames(at) if "原数值" in f.columns)
    at.text_area(key=next(t.key for t in at.text_area if t.label == "修改原因（必填）")).input("按月报复核").run()
    button(at, "确认导入").click().run()
    assert_clean(at)
    done = [s.value for s in at.success if "已导入" in s.value]
    assert len(done) == 1, [s.value for s in at.success]
    after = counts(app_db)
    assert after["accepted"] == before["accepted"] + 1
    changed = after["observations"] - before["observations"]
    assert 0 < changed <= rows
    assert f"修订{changed}条" in done[0] and f"未变化{rows - changed}条" in done[0]
    assert len(listed) == changed

    con = db.connect(app_db)
    try:
        revisions = con.execute(
            """
            select o.revision, count(*) from observations o join kpis k using (kpi_id)
            where k.lead_bureau = 'housing' and o.period = ? group by 1 order by 1
            """,
            [AS_OF],
        ).fetchall()
    finally:
        con.close()
    assert revisions[0] == (1, rows)  # every first figure stays
    # later revisions: this upload's, and the demo's pending (2) and returned (1) 2026-10 figures (etl.demo)
    assert sum(n for r, n in revisions if r > 1) == changed + len(PENDING_EXTRA) + 1

    at.run()  # a rerun of the page does not load the same file again
    assert counts(app_db) == after
    # the file in the uploader is now the loaded one: the preview says so and offers no button
    sid = re.findall(r"报送编号(\d+)", done[0])[0]
    assert [i.value for i in at.info if "完全相同" in i.value] == [
        fmt.plain(f"housing_2026-10.xlsx：与第{sid}号报送的文件完全相同，未做任何更改")
    ]
    assert not [b for b in at.button if b.label == "确认导入"]
    history = next(f for f in frames(at) if "报送编号" in f.columns)
    newest = history.iloc[0]
    assert (newest["文件"], newest["账号"], newest["结果"]) == ("housing_2026-10.xlsx", "housing", "已导入")
    assert (newest["总行数"], newest["新增/修订"]) == (rows, changed)
    assert "责任单位" not in history.columns  # the bureau's own history
    status = next(f for f in frames(at) if "应报日期" in f.columns)
    october = status[status["月份"] == "2026年10月"].iloc[0]  # sent on time by the demo, then again here
    assert (october["已报"], october["按时"], october["应报日期"]) == ("✔", "✔", "2026年11月10日")
    assert re.fullmatch(r"2026-11-(0\d|10) \d\d:\d\d", october["首次报送时间"])

    # a bad file: text where a number belongs
    bad = filled_template(cfg, app_db, AS_OF, bad_row=3)
    at.file_uploader(key="up_file").set_value(("housing_bad.xlsx", bad, XLSX)).run()
    assert not at.exception
    assert [e.value for e in at.error] == [T("up_rejected", "zh", n=1)]
    problems = next(f for f in frames(at) if "问题" in f.columns)  # the 在线填报 grid is drawn first
    assert list(problems["行"]) == [4]  # the header is row 1
    assert "不是有效数字" in problems["问题"].iloc[0]
    assert problems["数值"].iloc[0] == "约一百"
    assert not [b for b in at.button if b.label == "确认导入"]
    rejected = counts(app_db)
    assert rejected["observations"] == after["observations"]
    assert rejected["rejected"] == after["rejected"] + 1
    assert rejected["rejected_rows"] == after["rejected_rows"] + 1


def fill_correction(at: AppTest, kpi: str, district: str, period: dt.date, value: float, reason: str) -> AppTest:
    at.selectbox(key="up_fix_kpi_zh").select(kpi).run()  # the districts offered follow the KPI
    [district_box] = [s for s in at.selectbox if s.label == "旗区"]
    district_box.select(district)
    at.selectbox(key="up_fix_period_zh").select(period)
    at.number_input(key="up_fix_value").set_value(value)
    at.text_area(key="up_fix_reason").input(reason)
    return button(at, "提交更正").click().run()


def history(path: Path, kpi: str, district: str, period: dt.date) -> list[tuple]:
    con = db.connect(path)
    try:
        return con.execute(
            """
            select o.revision, o.value, s.reason from observations o join submissions s using (submission_id)
            where o.kpi_id = ? and o.district_id = ? and o.period = ? order by o.revision
            """,
            [kpi, district, period],
        ).fetchall()
    finally:
        con.close()


def test_correction_keeps_the_old_value(app_db: Path) -> None:
    kpi, district, period = "rental_housing_units", "kangbashi", dt.date(2026, 9, 1)
    [(rev, old, _)] = history(app_db, kpi, district, period)
    assert rev == 1

    at = open_page("housing", "upload")
    fill_correction(at, kpi, district, period, old + 7, " ")  # a blank reason is refused
    assert [e.value for e in at.error] == ["请填写更正原因。"]
    assert len(history(app_db, kpi, district, period)) == 1

    fill_correction(at, kpi, district, period, old + 7, "补录漏报项目")
    assert_clean(at)
    said = f"已更正：保障性租赁住房筹建套数，康巴什区，2026年9月：{old:,.0f}套 → {old + 7:,.0f}套"
    assert [s.value for s in at.success] == [fmt.plain(said)]  # fields and figures, no file name
    assert history(app_db, kpi, district, period) == [(1, old, None), (2, old + 7, "补录漏报项目")]

    # the detail page shows both figures
    at.query_params["target"] = KNOWN_TARGET
    at.switch_page("pages/target_detail.py").run()
    assert_clean(at)
    revs = frames(at)[-1]
    mine = revs[(revs["旗区"] == "康巴什区") & (revs["月份"] == f"{period.year}年{period.month}月")]
    assert sorted(zip(mine["版本"], mine["数值"], mine["说明"], strict=True)) == [
        (1, old, ""),
        (2, old + 7, "补录漏报项目"),
    ]


@pytest.mark.parametrize("value", [1_234_567.5, 123_456.7])
def test_correction_keeps_every_digit(app_db: Path, value: float) -> None:
    """Amounts in 元 run to seven digits; a correction must carry the figure exactly (it was written
    with f"{value:g}": 1234567.5 became "1.23457e+06" and was rejected, 123456.7 became 123457)."""
    kpi, district, period = "rental_allowance_amount", "dongsheng", dt.date(2026, 9, 1)
    at = open_page("housing", "upload")
    fill_correction(at, kpi, district, period, value, "按财政拨付凭证更正")
    assert_clean(at)
    assert any(fmt.plain(f"→ {value:,}元") in s.value for s in at.success), [s.value for s in at.success]
    assert history(app_db, kpi, district, period)[-1][:2] == (2, value)
