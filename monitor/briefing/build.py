"""One briefing run: read the data, render every chart in one browser session, then print the PDF
while the deck and the workbook are written; zip the charts.

Overlaps what can overlap on two cores: the browser starts while the data is read; each chart is
built (in a worker thread) while the previous ones render; the PDF prints while the deck and the
workbook are written. One run at a time per process (two browsers would fight for two cores).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import tempfile
import threading
import time
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import duckdb

from monitor import target_settings
from monitor.briefing import browser as chromium
from monitor.briefing.data import collect
from monitor.briefing.figures import ChartJob, compact_png, summary_job, target_job
from monitor.briefing.model import BriefingError, BriefingResult, ChartFile, ProgressCallback
from monitor.briefing.pack import write_deck
from monitor.briefing.pdf import briefing_html
from monitor.briefing.workbook import write_workbook
from monitor.i18n import Lang
from monitor.targets import TargetsConfig

_log = logging.getLogger(__name__)

# one lock per process: two exports at once would start two browsers on a two-core machine
_BROWSER_LOCK = threading.Lock()


def _zip_charts(chart_files: list[ChartFile], path: Path) -> Path:
    """PNG (slides) and SVG (print shops, vector) of every chart; PNGs are stored, not deflated again."""
    with zipfile.ZipFile(path, "w") as zf:
        for c in chart_files:
            zf.write(c.png, f"charts/{c.png.name}", compress_type=zipfile.ZIP_STORED)
            zf.write(c.svg, f"charts/{c.svg.name}", compress_type=zipfile.ZIP_DEFLATED)
    return path


async def _build(
    con: duckdb.DuckDBPyConnection,
    cfg: TargetsConfig,
    as_of: dt.date | str,
    out: Path,
    filters: dict[str, Iterable[str] | str | None],
    lang: Lang,
    progress_cb: ProgressCallback | None,
    full: bool,
) -> BriefingResult:
    """The whole run in one browser session (see the module docstring for what overlaps)."""
    started = time.perf_counter()
    timings: dict[str, float] = {}
    chart_dir = out / "charts"
    chart_dir.mkdir(parents=True, exist_ok=True)
    browser = chromium.open_browser()
    opening = asyncio.create_task(browser.open())
    tasks: list[asyncio.Task[tuple[ChartJob, bytes]]] = []
    try:
        data = await asyncio.to_thread(collect, con, cfg, as_of, lang=lang, full=full, **filters)  # type: ignore[arg-type]
        timings["collect_s"] = time.perf_counter() - started
        slide_rows = data.slide_rows()  # the targets with a slide: only they need a chart
        total, done = len(slide_rows) + 1 + 3, 0  # the charts, then the PDF, the deck and the workbook (with the zip)

        def step(label: str) -> None:
            nonlocal done
            done += 1
            if progress_cb is not None:
                progress_cb(done, total, label)

        if progress_cb is not None:
            progress_cb(0, total, data.t("brief_started"))
        work_tab: asyncio.Task[Any] | None = None

        async def render(job: ChartJob) -> tuple[ChartJob, bytes]:
            nonlocal work_tab
            await opening
            if work_tab is None:  # one plain tab (not a kaleido render tab) rasterises every PNG
                work_tab = asyncio.create_task(browser.create_tab("about:blank"))
            svg = await browser.calc_fig(job.fig, opts={"format": "svg", "width": job.width, "height": job.height})
            png = await asyncio.wait_for(chromium.rasterise(await work_tab, svg, job), chromium.RENDER_TIMEOUT_S)
            job.svg.write_bytes(svg)
            job.png.write_bytes(await asyncio.to_thread(compact_png, png))
            return job, svg

        jobs = [await asyncio.to_thread(summary_job, data, chart_dir)]
        tasks.append(asyncio.create_task(render(jobs[0])))
        for position, row in enumerate(slide_rows.to_dict("records"), start=1):
            # built one at a time in a worker thread (the connection is never used by two threads at once)
            job = await asyncio.to_thread(target_job, con, cfg, data, position, row, chart_dir)
            jobs.append(job)
            tasks.append(asyncio.create_task(render(job)))
        timings["figures_built_at_s"] = time.perf_counter() - started
        await opening
        timings["browser_ready_at_s"] = time.perf_counter() - started
        svgs: dict[str, bytes] = {}
        for finished in asyncio.as_completed(tasks):
            job, svg = await finished
            svgs[job.key] = svg
            step(job.title)
        if work_tab is not None:
            await browser.close_tab(await work_tab)
        timings["charts_s"] = time.perf_counter() - started - timings["browser_ready_at_s"]

        files_started = time.perf_counter()
        stem = f"briefing_{data.as_of:%Y-%m}" + ("" if lang == "zh" else "_en")
        deck, pdf, workbook, zipped = (out / f"{stem}{ext}" for ext in (".pptx", ".pdf", ".xlsx", "_charts.zip"))
        chart_files = [ChartFile(j.key, j.title, j.png, j.svg) for j in jobs]

        async def print_pdf() -> None:
            with tempfile.TemporaryDirectory(prefix="briefing-") as tmp:
                page = Path(tmp) / "briefing.html"
                page.write_text(briefing_html(data, svgs), encoding="utf-8")
                pdf.write_bytes(await asyncio.wait_for(chromium.print_pdf(browser, page), 2 * chromium.PDF_TIMEOUT_S))
            timings["pdf_s"] = time.perf_counter() - files_started
            step("PDF")

        async def make_deck() -> None:
            await asyncio.to_thread(write_deck, data, {c.key: c for c in chart_files}, deck)
            timings["deck_s"] = time.perf_counter() - files_started
            step("PowerPoint")

        async def make_workbook() -> None:
            def write() -> None:
                write_workbook(
                    workbook, data.card, data.units, data.reporting, lang=lang, bureau_names=data.bureau_names,
                    district_names=data.district_names, as_of=data.as_of,
                    assumed={tid: list(t.assumed) for tid, t in data.targets.items()},
                    commitments=data.commitments, actions=data.actions,
                )  # fmt: skip
                _zip_charts(chart_files, zipped)

            await asyncio.to_thread(write)
            timings["workbook_s"] = time.perf_counter() - files_started
            step("Excel")

        await asyncio.gather(print_pdf(), make_deck(), make_workbook())
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(opening, *tasks, return_exceptions=True)
        await chromium.close_quietly(browser)
    timings["total_s"] = time.perf_counter() - started
    return BriefingResult(
        out_dir=out, as_of=data.as_of, lang=lang, target_ids=list(data.card["target_id"]), charts=chart_files,
        deck=deck, pdf=pdf, workbook=workbook, charts_zip=zipped, timings=timings, full=full,
    )  # fmt: skip


def build_briefing(
    con: duckdb.DuckDBPyConnection,
    cfg: TargetsConfig,
    as_of: dt.date | str,
    out_dir: Path | str,
    *,
    sections: Iterable[str] | str | None = None,
    bureaus: Iterable[str] | str | None = None,
    targets: Iterable[str] | str | None = None,
    lang: Lang = "zh",
    progress: ProgressCallback | None = None,
    full: bool = False,
) -> BriefingResult:
    """Write the briefing for the targets matching every filter (all targets without filters).

    ``sections`` are policy sections ("三(二)"), ``bureaus`` lead bureau ids, ``targets`` target ids.
    The deck and the PDF are the exception-first pack (monitor.briefing.pack), or with ``full`` one
    slide per target; charts are rendered for the targets with a slide only.
    ``progress(i, n, label)`` is called with i = 0 once the data is read, then after each chart and
    each file (i = 1..n), from the calling thread (unless an event loop already runs there).
    Any failure is raised as BriefingError (the cause chained); the browser is always closed. Files
    go into ``out_dir`` (created): briefing_<YYYY-MM>[_en].pptx/.pdf/.xlsx,
    briefing_<YYYY-MM>[_en]_charts.zip and charts/."""
    if lang not in ("zh", "en"):
        raise BriefingError(f"lang must be zh or en, not {lang!r}")
    filters = {"sections": sections, "bureaus": bureaus, "targets": targets}
    cfg = target_settings.effective(cfg, con)  # the baselines and deadlines in force, confirmed items marked
    with _BROWSER_LOCK:
        try:
            return chromium.run_sync(_build(con, cfg, as_of, Path(out_dir), filters, lang, progress, full))
        except BriefingError:
            raise
        except Exception as exc:
            # a browser that would not start or a render that failed: one error type for the page and
            # the command line to report; the cause stays chained (and logged) for whoever debugs it
            _log.exception("briefing failed")
            raise BriefingError(f"{type(exc).__name__}: {exc}") from exc
