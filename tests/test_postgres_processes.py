"""Several processes on one PostgreSQL warehouse at once (issue 17): two app servers with signed-in
sessions, a command-line load, the monthly briefing, a scorecard, and two loads from threads of this
process, all together. Every one succeeds (no lock error), every figure of every loaded file is current
exactly once with its value, each submission has its audit row and its own number.

Needs MONITOR_TEST_PG (an admin URL such as postgresql://monitor@127.0.0.1:55433/postgres); the test
makes its own database (mig_…) from a DuckDB demo warehouse and drops it afterwards.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from websockets.sync.client import ClientConnection, connect

from etl import migrate
from etl.__main__ import main as etl_main
from etl.demo import encode_report, months, report_frame, unit_values
from etl.load import LoadResult, load_bytes
from etl.template import template_rows
from monitor import db
from monitor.backend import PostgresUrl
from monitor.targets import TargetsConfig, load_targets

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN = os.environ.get("MONITOR_TEST_PG")
pytestmark = pytest.mark.skipif(not PG_ADMIN, reason="needs MONITOR_TEST_PG (a PostgreSQL admin URL)")

DEMO_UNTIL = dt.date(2025, 1, 1)
NEW_MONTH = dt.date(2025, 2, 1)  # the month every concurrent load reports: nothing of it is loaded yet
CLI_BUREAU = "housing"
THREAD_BUREAUS = ("hrss", "transport")
START_TIMEOUT_S = 90
SCRIPT_FINISHED_EARLY_FOR_RERUN = 2  # ForwardMsg.script_finished: st.rerun() after signing in


def psql(*statements: str) -> None:
    assert PG_ADMIN
    args = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", PG_ADMIN]
    for statement in statements:
        args += ["-c", statement]
    done = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


@dataclass
class Report:
    bureau: str
    name: str
    data: bytes
    figures: dict[tuple[str, str], float]  # (kpi, district) -> value, for NEW_MONTH


def new_month_report(cfg: TargetsConfig, bureau: str) -> Report:
    """The bureau's NEW_MONTH report as the demo would write it, and the figures it holds (read from the
    template rows and the values put in them, not through the loader under test)."""
    periods = months(cfg.policy.start, NEW_MONTH)
    series: dict[tuple[str, str], dict[dt.date, float]] = {}
    for kpi in cfg.kpis:
        if kpi.lead == bureau:
            for unit, values in unit_values(cfg, kpi, periods).items():
                series[(kpi.id, unit)] = dict(zip(periods, values.tolist(), strict=True))
    values = report_frame(cfg, bureau, NEW_MONTH, series)
    name, data = encode_report(cfg, bureau, NEW_MONTH, values)
    rows = template_rows(cfg, bureau, NEW_MONTH)
    figures = {(r.kpi_id, r.district_id): float(v) for r, v in zip(rows.itertuples(), values, strict=True)}
    return Report(bureau, name, data, figures)


@pytest.fixture
def demo_pg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[PostgresUrl]:
    """A fresh PostgreSQL database holding the demo up to 2025-01 (built as a DuckDB file, then migrated);
    MONITOR_ARCHIVE points at its archive for this process and every process it starts."""
    assert PG_ADMIN
    archive = tmp_path / "pg_archive"
    monkeypatch.setenv("MONITOR_ARCHIVE", str(archive))
    file = tmp_path / "demo" / "demo.db"  # *.db: conftest's PostgreSQL mode leaves it a DuckDB file
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = etl_main(["--db", str(file), "demo", "--until", f"{DEMO_UNTIL:%Y-%m}"])
    assert status == 0, err.getvalue()[-3000:]
    name = f"mig_{uuid.uuid4().hex[:12]}"
    psql(f"create database {name}")
    url = PostgresUrl(PG_ADMIN).with_dbname(name)
    try:
        report = migrate.migrate(file, url)
        assert all(check.equal for check in report.tables)
        yield url
    finally:
        psql(f"drop database if exists {name} with (force)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class App:
    proc: subprocess.Popen[bytes]
    port: int
    log: Path


def start_app(url: PostgresUrl, log: Path) -> App:
    port = free_port()
    env = {**os.environ, "MONITOR_DB": str(url), "PYTHONUNBUFFERED": "1"}
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                str(ROOT / ".venv" / "bin" / "streamlit"), "run", "app.py",
                "--server.port", str(port), "--server.address", "127.0.0.1", "--server.headless", "true",
                "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
            ],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    return App(proc, port, log)


def wait_healthy(app: App) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        assert app.proc.poll() is None, app.log.read_text(errors="replace")[-3000:]
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{app.port}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        assert time.monotonic() < deadline, f"app on :{app.port} not healthy after {START_TIMEOUT_S} s"
        time.sleep(0.5)


def _run_script(ws: ClientConnection, widgets: list[tuple[str, str, object]]) -> list[tuple[str, Any]]:
    """One rerun of the session's script, as the browser asks for it; the elements it drew."""
    msg = BackMsg()
    msg.rerun_script.query_string = ""
    msg.rerun_script.page_script_hash = ""
    for widget_id, kind, value in widgets:
        state = msg.rerun_script.widget_states.widgets.add()
        state.id = widget_id
        setattr(state, kind, value)
    ws.send(msg.SerializeToString())
    elements: list[tuple[str, Any]] = []
    while True:
        forward = ForwardMsg()
        forward.ParseFromString(ws.recv(timeout=180))
        kind = forward.WhichOneof("type")
        if kind == "delta" and forward.delta.WhichOneof("type") == "new_element":
            element = forward.delta.new_element
            name = element.WhichOneof("type") or ""
            elements.append((name, getattr(element, name) if name else None))
        if kind == "script_finished" and forward.script_finished != SCRIPT_FINISHED_EARLY_FOR_RERUN:
            return elements


def leader_overview(app: App) -> tuple[list[str], list[str]]:
    """Sign in as the demo leader through the app's form; (the overview's texts, exceptions shown). The
    app reads the accounts, the scorecard and the figures from PostgreSQL while everything else runs."""
    url = f"ws://127.0.0.1:{app.port}/_stcore/stream"
    with connect(url, subprotocols=["streamlit"], max_size=None) as ws:  # type: ignore[list-item]
        form = _run_script(ws, [])
        widgets = [str(e.id) for kind, e in form if kind in ("text_input", "button")]
        user = next(w for w in widgets if w.endswith("-sign_in_user"))
        password = next(w for w in widgets if w.endswith("-sign_in_password"))
        submit = next(w for w in widgets if "FormSubmitter:sign_in" in w)
        page = _run_script(
            ws,
            [
                (user, "string_value", "leader"),
                (password, "string_value", "leader-0477"),
                (submit, "trigger_value", True),
            ],
        )
    texts = [str(e.body) for kind, e in page if kind in ("heading", "markdown", "alert")]
    return texts, [str(e) for kind, e in page if kind == "exception"]


def thread_load(url: PostgresUrl, cfg: TargetsConfig, report: Report) -> LoadResult:
    """A load from a thread of this process, on a connection of its own (as an app session's upload)."""
    con = db.connect(url)
    try:
        return load_bytes(
            report.name, report.data, cfg, report.bureau, f"{report.bureau}_reporter", con, archive=db.archive_dir(url)
        )
    finally:
        con.close()


def test_two_apps_a_cli_load_a_briefing_a_scorecard_and_two_thread_loads_at_once(
    demo_pg: PostgresUrl, tmp_path: Path
) -> None:
    cfg = load_targets()
    reports = {b: new_month_report(cfg, b) for b in (CLI_BUREAU, *THREAD_BUREAUS)}
    cli_file = tmp_path / reports[CLI_BUREAU].name
    cli_file.write_bytes(reports[CLI_BUREAU].data)
    before = db.connect(demo_pg)
    last_sid = int(db.scalar(before, "select max(submission_id) from submissions"))  # type: ignore[arg-type]
    before.close()
    env = {**os.environ, "MONITOR_DB": str(demo_pg)}
    apps = [start_app(demo_pg, tmp_path / f"app{i}.log") for i in (1, 2)]
    try:
        for app in apps:
            wait_healthy(app)
        commands = {
            "load": [sys.executable, "-m", "etl", "load", str(cli_file), "--bureau", CLI_BUREAU, "--user", "张三"],
            "briefing": [
                sys.executable, "-m", "monitor", "briefing", "--as-of", f"{DEMO_UNTIL:%Y-%m}",
                "--out", str(tmp_path / "briefing"),
            ],
            "scorecard": [
                sys.executable, "-m", "monitor", "scorecard", "--as-of", f"{DEMO_UNTIL:%Y-%m}", "--format", "json",
            ],
        }  # fmt: skip
        procs = {
            name: subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            for name, cmd in commands.items()
        }
        with ThreadPoolExecutor(max_workers=4) as pool:  # a future re-raises its thread's exception here
            loads = {b: pool.submit(thread_load, demo_pg, cfg, reports[b]) for b in THREAD_BUREAUS}
            pages = [pool.submit(leader_overview, app) for app in apps]
            outputs = {name: proc.communicate(timeout=600) for name, proc in procs.items()}
            results = {b: future.result(timeout=600) for b, future in loads.items()}
            overviews = [future.result(timeout=600) for future in pages]
    finally:
        for app in apps:
            app.proc.terminate()
        for app in apps:
            try:
                app.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                app.proc.kill()
                app.proc.wait()

    for name, proc in procs.items():
        err = outputs[name][1].decode("utf-8", errors="replace")
        assert proc.returncode == 0, f"{name}: {err[-3000:]}"
        for lock_error in ("Could not set lock", "数据库正被另一个程序使用", "deadlock", "Conflict"):
            assert lock_error not in err, f"{name}: {err[-3000:]}"
    scorecard = json.loads(outputs["scorecard"][0])
    assert len(scorecard) == 66
    assert (tmp_path / "briefing" / f"briefing_{DEMO_UNTIL:%Y-%m}.pdf").is_file()
    assert {b: result.outcome for b, result in results.items()} == {b: "accepted" for b in THREAD_BUREAUS}
    for i, (texts, exceptions) in enumerate(overviews):
        assert exceptions == [], f"app {i}: {exceptions}"
        assert "总览" in texts, f"app {i}: {texts}"  # signed in: the leader's overview, not the form
        assert any("共66项目标" in text for text in texts), f"app {i}: {texts}"
    for app in apps:
        assert "Traceback" not in app.log.read_text(errors="replace"), app.log.read_text(errors="replace")[-3000:]

    con = db.connect(demo_pg)
    try:
        new = con.execute(
            "select submission_id, bureau_id, outcome, file_name from submissions where submission_id > ? "
            "order by submission_id",
            [last_sid],
        ).fetchall()
        assert sorted(row[1] for row in new) == sorted([CLI_BUREAU, *THREAD_BUREAUS])
        assert all(row[2] == "accepted" for row in new)
        ids = [row[0] for row in new]
        assert len(set(ids)) == 3 and ids == list(range(last_sid + 1, last_sid + 4))
        accepted = [
            json.loads(detail)
            for (detail,) in con.execute("select detail from audit_log where action = 'upload_accepted'").fetchall()
        ]
        for sid, bureau, _, file_name in new:
            audit = [entry for entry in accepted if entry["submission_id"] == sid]
            assert len(audit) == 1, f"submission {sid} ({bureau}, {file_name}) audit rows: {audit}"
            assert (audit[0]["bureau"], audit[0]["file"]) == (bureau, file_name)
            figures = reports[bureau].figures
            current = con.execute(
                "select kpi_id, district_id, value, submission_id from current_observations where period = ? "
                "and kpi_id in (select kpi_id from kpis where lead_bureau = ?)",
                [NEW_MONTH, bureau],
            ).fetchall()
            keys = [(kpi, district) for kpi, district, _, _ in current]
            assert len(keys) == len(set(keys)), f"{bureau}: a figure is current twice"
            assert {(kpi, district): value for kpi, district, value, _ in current} == figures
            assert {row[3] for row in current} == {sid}
    finally:
        con.close()
