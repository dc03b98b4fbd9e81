"""The one headless Chromium a briefing run uses, driven through kaleido.

Starting a browser costs a second or two, rendering a chart a fraction of that, so every chart of a
run goes through ONE kaleido session. Kaleido renders each chart as SVG; the PNG is drawn from that
SVG on a canvas in a second tab of the same browser (what plotly's own PNG export does), and
kaleido's reload after every figure is thinned out (``kaleido_class``): together a 20-target run
takes about a third of the naive time. The PDF is printed by the same browser (Page.printToPDF), so
Chinese text is laid out by the same engine and fonts (Noto Sans CJK, installed system-wide) as the
charts. The browser is the system Chromium: nothing is ever downloaded (the intranet has no
internet), and MathJax is switched off for the same reason.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import os
import shutil
import threading
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

from monitor.briefing.figures import ChartJob
from monitor.briefing.layout import SLIDE_H_IN, SLIDE_W_IN
from monitor.briefing.model import BriefingError

Result = TypeVar("Result")

RENDER_TABS = 1  # kaleido render tabs: one, plus the rasterising tab, is fastest on two cores (bench)
RENDER_TIMEOUT_S = 90.0
RELOAD_EVERY = 16  # kaleido page reloads: one per this many figures instead of one per figure
PDF_TIMEOUT_S = 60.0


def browser_path() -> str:
    """The Chromium kaleido drives: $BROWSER_PATH when set (and then it must be right), else the
    system Chromium on PATH. choreographer would prefer a copy it downloaded itself; resolving the
    path here means no downloaded copy is ever used (nothing is downloaded on the intranet) and a
    missing browser fails with a clear message instead of a download hint."""
    explicit = os.environ.get("BROWSER_PATH")
    if explicit:
        if Path(explicit).is_file() and os.access(explicit, os.X_OK):
            return explicit
        raise BriefingError(f"BROWSER_PATH={explicit!r} 不是可执行文件 / is not an executable")
    for candidate in (
        shutil.which("chromium"),
        shutil.which("chromium-browser"),
        shutil.which("google-chrome"),
        "/usr/bin/chromium",
    ):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    raise BriefingError("未找到 Chromium（apt install chromium，或设置 BROWSER_PATH） / Chromium not found")


def open_browser() -> Any:
    """A kaleido session on the system Chromium (not yet started: ``await browser.open()``)."""
    return kaleido_class()(n=RENDER_TABS, path=browser_path(), mathjax=False, timeout=RENDER_TIMEOUT_S)


async def _wait_loaded(tab: Any, url: str, timeout: float) -> None:
    """Wait until ``url`` (not the tab's first about:blank) is loaded and its fonts are ready."""
    expression = """
        new Promise((resolve) => {
            const ready = () => document.fonts.ready.then(() => resolve(window.location.href));
            if (document.readyState === 'complete') { ready(); } else { window.addEventListener('load', ready); }
        })
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = await tab.send_command(
            "Runtime.evaluate", params={"expression": expression, "awaitPromise": True, "returnByValue": True}
        )
        if response.get("result", {}).get("result", {}).get("value") == url:
            return
        await asyncio.sleep(0.05)  # still the blank page, or the context changed under us: ask again
    raise BriefingError(f"PDF page did not load within {timeout:.0f} s")


async def print_pdf(browser: Any, html_file: Path) -> bytes:
    """Print an HTML file to PDF in a tab of the running browser (no second Chromium)."""
    url = html_file.resolve().as_uri()
    tab = await browser.create_tab(url)  # a plain choreographer tab, not one of kaleido's render tabs
    try:
        await _wait_loaded(tab, url, PDF_TIMEOUT_S)
        response = await tab.send_command(
            "Page.printToPDF",
            params={
                "printBackground": True,
                "preferCSSPageSize": True,
                "paperWidth": SLIDE_W_IN,
                "paperHeight": SLIDE_H_IN,
                "marginTop": 0,
                "marginBottom": 0,
                "marginLeft": 0,
                "marginRight": 0,
            },
        )
        if "error" in response:
            raise BriefingError(f"printToPDF: {response['error']}")
        return base64.b64decode(response["result"]["data"])
    finally:
        await browser.close_tab(tab)


# Rasterise an SVG at a scale on a canvas and return the PNG as base64: what Plotly.toImage does for
# format="png" (SVG -> image -> canvas), done in one long-lived tab instead of a fresh render.
_RASTERISE_JS = """
(async (svg, width, height, scale) => {
    const img = new Image();
    img.src = 'data:image/svg+xml;base64,' + svg;
    await img.decode();
    const canvas = document.createElement('canvas');
    canvas.width = Math.round(width * scale);
    canvas.height = Math.round(height * scale);
    const ctx = canvas.getContext('2d');
    ctx.fillStyle = '#ffffff';
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.drawImage(img, 0, 0, canvas.width, canvas.height);
    return canvas.toDataURL('image/png').slice('data:image/png;base64,'.length);
})(SVG, WIDTH, HEIGHT, SCALE)
"""


async def rasterise(tab: Any, svg: bytes, job: ChartJob) -> bytes:
    """The PNG of a chart from kaleido's SVG of it, in the same browser.

    Kaleido reloads plotly.js in its tab after every figure (about 0.15 s); asking it for an SVG and
    a PNG of each chart doubles that. The PNG is instead drawn from the SVG in one tab that is never
    reloaded: the same pixels plotly would produce (its PNG export draws its SVG on a canvas too)."""
    expression = (
        _RASTERISE_JS.replace("SVG", json.dumps(base64.b64encode(svg).decode("ascii")))
        .replace("WIDTH", str(job.width))
        .replace("HEIGHT", str(job.height))
        .replace("SCALE", repr(float(job.scale)))
    )
    response = await tab.send_command(
        "Runtime.evaluate", params={"expression": expression, "awaitPromise": True, "returnByValue": True}
    )
    result = response.get("result", {})
    if "error" in response or "exceptionDetails" in result:
        raise BriefingError(f"PNG of {job.key}: {response.get('error') or result['exceptionDetails']}")
    return base64.b64decode(result["result"]["value"])


class _QuietBye(logging.Filter):
    """choreographer closes its pipe by writing a "{bye}" sentinel into it; when that arrives glued to
    the browser's last message it logs a JSON error with a traceback and ignores it. Harmless at
    close, so it is kept out of the logs while the browser closes (and only then)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "JSONError decoding message" not in record.getMessage()


async def close_quietly(browser: Any) -> None:
    """Close the browser, best effort: the run's own error, if any, matters more than a close error."""
    quiet = _QuietBye()
    logging.getLogger("choreographer.channels.pipe").addFilter(quiet)
    try:
        with contextlib.suppress(Exception):
            await browser.close()
    finally:
        logging.getLogger("choreographer.channels.pipe").removeFilter(quiet)


def kaleido_class() -> type:
    """kaleido.Kaleido, minus most of its reloads.

    Kaleido 1.5 reloads its page (and so re-parses the 3.5 MB plotly.js) in a tab after every figure,
    which is about two thirds of the time per chart here. Its render script purges the plot after
    each figure, and the SVGs come out identical with or without the reload (checked on the demo
    charts), so this subclass reloads only every RELOAD_EVERY figures, to bound whatever a long run
    leaves behind. It overrides a private method of the pinned kaleido version only; with any other
    version (or if the method is gone) the stock class is used: slower, never wrong."""
    from importlib.metadata import version

    import kaleido

    if version("kaleido") != "1.5.0" or not hasattr(kaleido.Kaleido, "_return_kaleido_tab"):
        return kaleido.Kaleido

    class _Kaleido(kaleido.Kaleido):
        _renders = 0

        async def _return_kaleido_tab(self, tab: Any) -> None:
            self._renders += 1
            if self._renders % RELOAD_EVERY == 0:
                await super()._return_kaleido_tab(tab)
            else:
                await self.tabs_ready.put(tab)

    return _Kaleido


def run_sync(coro: Coroutine[Any, Any, Result]) -> Result:
    """Run a coroutine from sync code: asyncio.run, or a helper thread when a loop is already running
    in this thread (a notebook, an async caller)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = asyncio.run(coro)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            box["error"] = exc

    thread = threading.Thread(target=target, name="briefing-render")
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box["value"]
