"""The one way the real-browser tests start the app: `streamlit run app.py` on a copy of the demo
warehouse, on a free local port, its log kept and checked for tracebacks; and the system Chromium
they drive (/usr/bin/chromium through Playwright's executable_path: no browser is ever downloaded)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
START_TIMEOUT_S = 60


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running_app(app_db: Path, tmp_path: Path, log_name: str) -> Iterator[str]:
    """The app served on ``app_db``; yields its base URL. On the way out the server is stopped, its log
    copied to test-artifacts/<log_name> and required to hold no Python traceback."""
    port = free_port()
    log_path = tmp_path / log_name
    env = {**os.environ, "MONITOR_DB": str(app_db), "PYTHONUNBUFFERED": "1"}
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [
                sys.executable, "-m", "streamlit", "run", "app.py",
                "--server.port", str(port), "--server.address", "127.0.0.1",
                "--server.headless", "true", "--browser.gatherUsageStats", "false",
                "--server.fileWatcherType", "none",
            ],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("streamlit did not start:\n" + log_path.read_text(errors="replace"))
            time.sleep(0.3)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
        server_log = log_path.read_text(errors="replace")
        if ARTIFACTS.is_dir():
            shutil.copy(log_path, ARTIFACTS / log_name)
        assert "Traceback" not in server_log, server_log
