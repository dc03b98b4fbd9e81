"""催报 on the pages, with AppTest against a copy of the demo warehouse (real targets.yaml, demo data up
to 2026-10, today pinned to 2026-11-26 by test_app_pages' harness, so the reporting month is October).

In the demo, October's reports of the three late bureaus (education, health, civil_affairs) have not
come yet and the two bureaus that stopped reporting (agriculture, market_regulation) sent nothing: five
missing reports, no late one. Every other bureau reported by 11-10.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboard import data
from monitor.targets import TargetsConfig, load_targets
from tests.test_app_pages import (  # the harness keeps every run going through app.py
    APP,
    ROOT,
    _current,
    _harness,  # noqa: F401 (an autouse fixture, active here once imported)
    assert_clean,
    open_page,
    start,
)

BEHIND = ("education", "health", "civil_affairs", "agriculture", "market_regulation")


@pytest.fixture(scope="module")
def cfg() -> TargetsConfig:
    return load_targets()


def _kpi_names(cfg: TargetsConfig, bureau: str) -> str:
    return "、".join(k.name_zh for k in cfg.kpis if k.lead == bureau)


def _bureau(cfg: TargetsConfig, bureau: str) -> str:
    return next(b.name_zh for b in cfg.bureaus if b.id == bureau)


def _admin_page(secrets: dict | None = None, lang: str = "zh") -> AppTest:
    """The admin page, signed in as admin, with `secrets` as .streamlit/secrets.toml would give them."""
    at = AppTest.from_file(str(APP), default_timeout=60)
    _current["at"] = at
    now = dt.datetime.now()
    at.session_state["user_name"] = "admin"
    at.session_state["signed_in_at"] = now
    at.session_state["last_seen"] = now
    at.session_state["lang_choice"] = "English" if lang == "en" else "中文"
    if secrets:
        at.secrets.update(secrets)
    at.run()
    at.switch_page("pages/admin.py").run()
    assert_clean(at)
    return at


def _push_buttons(at: AppTest) -> list:
    return [b for b in at.button if b.key == "rem_push"]


@pytest.fixture
def robot() -> Iterator[tuple[str, list[bytes]]]:
    """A local robot endpoint: its URL (with a token in the query) and the bodies it received."""
    received: list[bytes] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(self.rfile.read(int(self.headers.get("Content-Length", 0))))
            answer = b'{"errcode":0,"errmsg":"ok"}'
            self.send_response(200)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/send?key=TOKEN-123", received
    finally:
        server.shutdown()
        server.server_close()


def test_the_admin_sees_the_notice_for_all_and_for_one_late_bureau(app_db: Path, cfg: TargetsConfig) -> None:
    at = _admin_page()
    pick = at.selectbox(key="rem_pick")
    assert pick.value == "__all__"
    assert len(pick.options) == 1 + len(BEHIND)
    notice = at.code[0].value
    assert notice.startswith("【催报提醒】2026年10月月报截至11月10日，以下单位尚有指标未报送：\n1. ")
    for bureau in BEHIND:
        assert f"{_bureau(cfg, bureau)}，缺报指标：{_kpi_names(cfg, bureau)}\n" in notice
    assert notice.endswith("\n请尽快通过监测系统报送。")

    pick.set_value("education").run()
    assert_clean(at)
    assert [c.value for c in at.code] == [
        f"【催报提醒】市教育体育局：2026年10月月报截至11月10日尚未报送，缺报指标：{_kpi_names(cfg, 'education')}。"
        "请尽快通过监测系统报送。"
    ]
    assert _push_buttons(at) == []  # no secrets.toml: nothing can be sent
    assert any("未配置推送地址" in c.value for c in at.caption)


def test_the_notice_is_english_when_the_ui_is(app_db: Path, cfg: TargetsConfig) -> None:
    at = _admin_page(lang="en")
    at.selectbox(key="rem_pick").set_value("agriculture").run()
    names = ", ".join(k.name_en for k in cfg.kpis if k.lead == "agriculture")
    assert [c.value for c in at.code] == [
        "[Reporting reminder] Municipal Agriculture and Animal Husbandry Bureau: the Oct 2026 report was due by "
        f"10 Nov and has not been received. KPIs not reported: {names}. Please submit it through the monitoring "
        "system as soon as possible."
    ]


def test_with_a_webhook_the_admin_pushes_once_and_the_push_is_audited(
    app_db: Path, robot: tuple[str, list[bytes]], cfg: TargetsConfig
) -> None:
    url, received = robot
    at = _admin_page({"reminders": {"webhook_url": url}})
    at.selectbox(key="rem_pick").set_value("health").run()
    text = at.code[0].value
    assert any(c.value.startswith("推送到：127") for c in at.caption)  # the host, never the token
    assert not any("TOKEN-123" in c.value for c in at.caption)
    (push,) = _push_buttons(at)
    push.click().run()
    assert_clean(at)
    assert [s.value for s in at.success] == ["已推送（HTTP 200）。"]
    assert [json.loads(body) for body in received] == [{"msgtype": "text", "text": {"content": text}}]
    at.run()  # a rerun without a click sends nothing
    assert len(received) == 1
    # the app's own connection (the test process holds the file open through it)
    rows = data.con().execute("select user_name, detail from audit_log where action = 'reminder_push'").fetchall()
    assert [(user, json.loads(detail)) for user, detail in rows] == [
        ("admin", {"bureaus": ["health"], "month": "2026-10", "host": "127.0.0.1", "outcome": "ok", "status": 200})
    ]


@pytest.mark.parametrize("user", ["leader", "education"])
def test_a_leader_or_reporter_cannot_reach_the_reminders(app_db: Path, user: str) -> None:
    """Not in their navigation, and the admin page run on its own (by URL) draws nothing but the refusal."""
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        start(user).switch_page("pages/admin.py")
    at = AppTest.from_file(str(ROOT / "pages" / "admin.py"), default_timeout=60)
    _current["at"] = at
    now = dt.datetime.now()
    for key, value in {"user_name": user, "signed_in_at": now, "last_seen": now}.items():
        at.session_state[key] = value
    at.run()
    assert not at.exception
    assert [e.value for e in at.error] == ["无权访问此页面。"]  # in the reader's language only
    assert list(at.code) == [] and list(at.selectbox) == [] and list(at.button) == []


def test_a_reporter_behind_sees_its_open_item_first(app_db: Path) -> None:
    at = start("education")
    assert_clean(at)
    assert "2026年10月月报未报送，截止11月10日" in [w.value for w in at.warning]
    at_en = start("civil_affairs", "en")
    assert "Oct 2026 report not received, due 10 Nov" in [w.value for w in at_en.warning]


def test_a_reporter_whose_report_is_in_sees_no_open_item(app_db: Path) -> None:
    at = start("housing")
    assert_clean(at)
    assert not any("月报" in w.value for w in at.warning)
    leader = start("leader")
    assert not any("月报" in w.value for w in leader.warning)  # open items are a bureau's own


@pytest.mark.parametrize("page", ["data_quality", "bureaus"])
def test_the_quality_and_bureaus_pages_list_the_months_missing_reports_first(
    app_db: Path, cfg: TargetsConfig, page: str
) -> None:
    at = open_page("leader", page)
    assert_clean(at)
    assert at.subheader[0].value == "本期催报：2026年10月月报（截止11月10日）"
    (listing,) = [d.value for d in at.dataframe if "缺报指标" in d.value.columns]
    assert listing.to_dict("records") == [
        {
            "责任单位": _bureau(cfg, bureau),
            "报送月份": "2026年10月",
            "截止日期": "2026年11月10日",
            "情况": "未报送",
            "首次报送日期": "",
            "缺报指标": _kpi_names(cfg, bureau),
        }
        for bureau in sorted(BEHIND)  # bureau id order, as queries.reporting_status
    ]
