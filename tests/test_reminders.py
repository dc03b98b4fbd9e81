"""催报: which reports of the current reporting month are missing or late, the exact notice text, and the
webhook push (a real HTTP server on 127.0.0.1 in a thread; nothing leaves the machine).

The warehouse state is built by hand from the conftest config (due day 10, policy start 2024-07), with
today pinned to 2026-11-26, so the reporting month is 2026-10 (due 2026-11-10):

    gov_services     nothing for October                           -> missing (新市民政策专区上线)
    housing          rental units on 11-14, talent apartments none  -> late, incomplete (人才公寓累计筹集套数)
    hrss             new jobs on 11-12                              -> late, complete (no reminder needed)
    public_security  nothing for October                           -> missing (both subsidy KPIs)
    transport        bus coverage on 11-05                          -> on time, not listed
"""

from __future__ import annotations

import datetime as dt
import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from etl.load import load_bytes
from monitor import reminders
from monitor.auth import User
from monitor.targets import TargetsConfig
from tests.conftest import TODAY, Warehouse

OCTOBER = dt.date(2026, 10, 1)
DISTRICT_NAMES = [
    "东胜区",
    "康巴什区",
    "达拉特旗",
    "准格尔旗",
    "鄂托克前旗",
    "鄂托克旗",
    "杭锦旗",
    "乌审旗",
    "伊金霍洛旗",
    "高新区",
]


def _load(w: Warehouse, cfg: TargetsConfig, bureau: str, rows: list[tuple[str, str, float]], when: dt.datetime) -> None:
    """One accepted CSV report of October figures (kpi, district name, value), submitted at `when`."""
    lines = ["指标编码,旗区,报送期,数值"] + [f"{kpi},{district},2026-10,{value:g}" for kpi, district, value in rows]
    result = load_bytes(
        f"{bureau}_{when:%Y%m%d}.csv", "\n".join(lines).encode("utf-8"), cfg, bureau, bureau, w.con,
        archive=w.archive, today=when.date(), submitted_at=when,
    )  # fmt: skip
    assert result.ok, [p.zh() for p in result.problems]


@pytest.fixture
def october(warehouse: Warehouse, cfg: TargetsConfig) -> Warehouse:
    _load(warehouse, cfg, "transport", [("bus_coverage", "全市", 91.5)], dt.datetime(2026, 11, 5, 9, 30))
    _load(warehouse, cfg, "hrss", [("jobs_new", d, 120) for d in DISTRICT_NAMES], dt.datetime(2026, 11, 12, 10))
    _load(
        warehouse, cfg, "housing", [("rental_housing_units", d, 40) for d in DISTRICT_NAMES],
        dt.datetime(2026, 11, 14, 16, 5),
    )  # fmt: skip
    return warehouse


def _admin() -> User:
    return User("admin", "管理员", "admin", None, True)


# -- which reports are open


def test_missing_reports_come_first_then_late_ones_in_bureau_order(october: Warehouse, cfg: TargetsConfig) -> None:
    found = reminders.open_reports(october.con, cfg, TODAY)
    assert [(i.bureau_id, reminders.state(i, "zh")) for i in found] == [
        ("gov_services", "未报送"),
        ("public_security", "未报送"),
        ("housing", "逾期报送，未报送完整"),
        ("hrss", "逾期报送"),
    ]
    assert {i.period for i in found} == {OCTOBER}
    assert {i.due_date for i in found} == {dt.date(2026, 11, 10)}
    by_id = {i.bureau_id: i for i in found}
    assert by_id["housing"].first_submitted_at == dt.datetime(2026, 11, 14, 16, 5)
    assert by_id["hrss"].first_submitted_at == dt.datetime(2026, 11, 12, 10)
    assert by_id["gov_services"].first_submitted_at is None
    assert "transport" not in by_id  # in by 11-05: on time and complete


def test_the_missing_kpis_are_the_bureaus_own_without_an_october_figure(october: Warehouse, cfg: TargetsConfig) -> None:
    found = {i.bureau_id: i for i in reminders.open_reports(october.con, cfg, TODAY)}
    assert reminders.kpi_list(found["public_security"], "zh") == "一次性落户补助发放金额、一次性落户补助发放人数"
    assert reminders.kpi_list(found["gov_services"], "zh") == "新市民政策专区上线"
    assert reminders.kpi_list(found["housing"], "zh") == "人才公寓累计筹集套数"  # rental units came, late
    assert found["hrss"].missing_kpis == ()
    assert [i.bureau_id for i in found.values() if i.needs_reminder] == ["gov_services", "public_security", "housing"]
    # finance is only a co-bureau of the subsidy: it owes no report
    assert "finance" not in found


def test_until_the_due_day_is_over_the_reporting_month_is_the_one_before(
    october: Warehouse, cfg: TargetsConfig
) -> None:
    """On 2026-11-10 October is not yet due: the reminders are about September, which nobody reported."""
    found = reminders.open_reports(october.con, cfg, dt.date(2026, 11, 10))
    assert [(i.bureau_id, i.period, i.due_date) for i in found] == [
        (b, dt.date(2026, 9, 1), dt.date(2026, 10, 10))
        for b in ("gov_services", "housing", "hrss", "public_security", "transport")
    ]
    assert reminders.kpi_list(found[1], "zh") == "保障性租赁住房筹建套数、人才公寓累计筹集套数"
    assert next(i.period for i in reminders.open_reports(october.con, cfg, dt.date(2026, 11, 11))) == OCTOBER


def test_an_empty_month_of_a_fully_reported_warehouse_lists_nothing(warehouse: Warehouse, cfg: TargetsConfig) -> None:
    """Before the policy start there is no month to owe."""
    assert reminders.open_reports(warehouse.con, cfg, dt.date(2024, 7, 20)) == []


# -- the words


def test_one_bureaus_notice_names_month_due_day_and_missing_kpis(october: Warehouse, cfg: TargetsConfig) -> None:
    found = {i.bureau_id: i for i in reminders.open_reports(october.con, cfg, TODAY)}
    assert reminders.notice(found["public_security"]) == (
        "【催报提醒】市公安局：2026年10月月报截至11月10日尚未报送，"
        "缺报指标：一次性落户补助发放金额、一次性落户补助发放人数。请尽快通过监测系统报送。"
    )
    assert reminders.notice(found["housing"]) == (
        "【催报提醒】市住房和城乡建设局：2026年10月月报截至11月10日未报送完整，"
        "缺报指标：人才公寓累计筹集套数。请尽快通过监测系统报送。"
    )
    assert reminders.notice(found["gov_services"], "en") == (
        "[Reporting reminder] Municipal Government Services Bureau: the Oct 2026 report was due by 10 Nov and has "
        "not been received. KPIs not reported: portal online. Please submit it through the monitoring system as "
        "soon as possible."
    )


def test_the_notice_for_all_names_every_bureau_behind_one_line_each(october: Warehouse, cfg: TargetsConfig) -> None:
    found = reminders.open_reports(october.con, cfg, TODAY)
    assert reminders.notice_all(found) == (
        "【催报提醒】2026年10月月报截至11月10日，以下单位尚有指标未报送：\n"
        "1. 市政务服务局，缺报指标：新市民政策专区上线\n"
        "2. 市公安局，缺报指标：一次性落户补助发放金额、一次性落户补助发放人数\n"
        "3. 市住房和城乡建设局，缺报指标：人才公寓累计筹集套数\n"
        "请尽快通过监测系统报送。"
    )  # hrss came late but complete: not reminded
    assert reminders.notice_all([i for i in found if i.bureau_id == "hrss"]) == ""


def test_a_reporters_open_item_says_month_and_due_day(october: Warehouse, cfg: TargetsConfig) -> None:
    found = {i.bureau_id: i for i in reminders.open_reports(october.con, cfg, TODAY)}
    assert reminders.open_item(found["gov_services"]) == "2026年10月月报未报送，截止11月10日"
    assert reminders.open_item(found["housing"]) == "2026年10月月报未报送完整（缺1项指标），截止11月10日"
    assert reminders.open_item(found["gov_services"], "en") == "Oct 2026 report not received, due 10 Nov"


def test_the_due_date_is_the_due_day_of_the_next_month(cfg: TargetsConfig) -> None:
    assert reminders.due_date(dt.date(2026, 12, 1), cfg) == dt.date(2027, 1, 10)
    assert reminders.full_date(dt.date(2026, 11, 10), "zh") == "2026年11月10日"
    assert reminders.full_date(dt.date(2026, 11, 10), "en") == "10 Nov 2026"


# -- the push: a real HTTP server on 127.0.0.1


@dataclass
class Endpoint:
    """What the local robot received and how it answers."""

    status: int = 200
    answer: bytes = b'{"errcode":0,"errmsg":"ok"}'
    delay: float = 0.0
    requests: list[dict] = field(default_factory=list)
    url: str = ""


@pytest.fixture
def endpoint() -> Iterator[Endpoint]:
    state = Endpoint()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            state.requests.append({"path": self.path, "content_type": self.headers.get("Content-Type"), "body": body})
            time.sleep(state.delay)
            self.send_response(state.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(state.answer)))
            self.end_headers()
            self.wfile.write(state.answer)

        def log_message(self, *args: object) -> None:  # keep the test output quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/cgi-bin/webhook/send?key=SECRET-TOKEN"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """A proxy in the environment must not carry the local test requests elsewhere."""
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)


def test_the_robot_receives_the_notice_as_a_text_message(endpoint: Endpoint) -> None:
    text = "【催报提醒】市公安局：2026年10月月报截至11月10日尚未报送。"
    result = reminders.push(endpoint.url, text)
    assert result.ok
    assert result.text("zh") == "已推送（HTTP 200）。"
    assert len(endpoint.requests) == 1
    received = endpoint.requests[0]
    assert received["path"] == "/cgi-bin/webhook/send?key=SECRET-TOKEN"
    assert received["content_type"] == "application/json; charset=utf-8"
    assert json.loads(received["body"].decode("utf-8")) == {"msgtype": "text", "text": {"content": text}}


def test_an_endpoint_answering_500_is_asked_once_and_named(endpoint: Endpoint) -> None:
    endpoint.status, endpoint.answer = 500, b"internal error"
    result = reminders.push(endpoint.url, "x")
    assert not result.ok
    assert result.outcome == "http_error"
    assert result.text("zh") == "推送失败：接收地址返回 HTTP 500，未重试。请检查推送地址配置或稍后再试。"
    time.sleep(0.2)  # a retry, if there were one, would have arrived by now
    assert len(endpoint.requests) == 1


def test_a_redirect_is_not_followed(endpoint: Endpoint) -> None:
    endpoint.status = 302
    result = reminders.push(endpoint.url, "x")
    assert result.text("zh") == "推送失败：接收地址返回 HTTP 302，未重试。请检查推送地址配置或稍后再试。"
    assert len(endpoint.requests) == 1


def test_a_robot_refusing_with_an_errcode_is_a_failure(endpoint: Endpoint) -> None:
    endpoint.answer = b'{"errcode":93000,"errmsg":"invalid webhook url"}'
    result = reminders.push(endpoint.url, "x")
    assert (result.ok, result.outcome) == (False, "errcode")
    assert result.text("zh") == "推送失败：接收方返回错误码 93000，未重试。请检查机器人配置（密钥、关键词、IP白名单）。"


def test_a_closed_port_says_the_connection_was_refused() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # free once closed: nothing listens there
    result = reminders.push(f"http://127.0.0.1:{port}/send", "x")
    assert result.outcome == "refused"
    assert result.text("zh") == "推送失败：无法连接接收地址（连接被拒绝），未重试。请检查推送地址和网络。"


def test_a_slow_endpoint_times_out_after_the_timeout_once(endpoint: Endpoint) -> None:
    endpoint.delay = 2.0
    started = time.monotonic()
    result = reminders.push(endpoint.url, "x", timeout=0.5)
    assert time.monotonic() - started < 1.5
    assert result.outcome == "timeout"
    assert result.text("zh") == "推送失败：接收地址0.5秒内没有响应（超时），未重试。请稍后再试。"
    assert len(endpoint.requests) == 1
    assert reminders.PUSH_TIMEOUT_SECONDS == 5.0


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.org/x", "not a url", "http://"])
def test_only_an_http_url_is_ever_contacted(url: str) -> None:
    result = reminders.push(url, "x")
    assert result.outcome == "invalid_url"
    assert result.text("zh") == "推送失败：推送地址无效（须为 http:// 或 https:// 地址），未发送。"


def test_each_push_is_audited_with_the_host_but_never_the_token(october: Warehouse, endpoint: Endpoint) -> None:
    endpoint.status = 500
    result = reminders.send(october.con, _admin(), endpoint.url, "x", ["gov_services", "housing"], OCTOBER)
    assert result.outcome == "http_error"
    rows = october.con.execute(
        "select user_name, action, detail from audit_log where action = 'reminder_push'"
    ).fetchall()
    assert len(rows) == 1
    assert rows[0][:2] == ("admin", "reminder_push")
    assert json.loads(rows[0][2]) == {
        "bureaus": ["gov_services", "housing"], "month": "2026-10", "host": "127.0.0.1", "outcome": "http_error",
        "status": 500,
    }  # fmt: skip
    assert "SECRET-TOKEN" not in rows[0][2]


def test_only_an_administrator_may_send(october: Warehouse, endpoint: Endpoint) -> None:
    reporter = User("housing", "住建", "reporter", "housing", True)
    with pytest.raises(reminders.NotAllowed):
        reminders.send(october.con, reporter, endpoint.url, "x", ["housing"], OCTOBER)
    assert endpoint.requests == []
