"""The briefing export (monitor/briefing/, `python -m monitor briefing`, pages/briefing.py) against
the demo warehouse built from the real targets.yaml (session fixture `demo_db` in conftest).

One module-scoped run renders a few targets of different kinds through the real browser (system
Chromium via kaleido), as the full deck (one slide per target; the default exception-first pack is
tests/test_pack.py's); the tests read what it wrote the way a user's programs would: python-pptx for
the deck, Pillow for the PNGs, the raw bytes for the PDF, openpyxl for the workbook.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import shutil
import struct
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
import streamlit as st
import streamlit.testing.v1.app_test as app_test_module
from PIL import Image
from pptx import Presentation
from pptx.slide import Slide
from pptx.util import Inches
from streamlit.runtime.media_file_storage import MediaFileKind
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.runtime.pages_manager import PagesManager
from streamlit.runtime.scriptrunner import get_script_run_ctx
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import DownloadButton

from dashboard import ui
from monitor import briefing, db, i18n, progress, queries
from monitor.__main__ import main as monitor_main
from monitor.style import STATUS_ORDER
from monitor.targets import TargetsConfig, load_targets

ROOT = Path(__file__).resolve().parents[1]
AS_OF = dt.date(2026, 10, 1)
# a cumulative count, a milestone and an annual target: three chart shapes
TARGETS = ["rental_housing_15k", "policy_zone_online_done", "job_fairs_150_yearly"]
INJECTION = "=cmd|' /C calc'!A0"
SOURCE = "数据来源：各责任单位月报"

pytestmark = pytest.mark.skipif(
    not Path("/usr/bin/chromium").exists() and not shutil.which("chromium"),
    reason="needs the system Chromium",
)


@dataclass
class Built:
    result: briefing.BriefingResult
    card: pd.DataFrame  # the expected scorecard rows of TARGETS, in policy order
    cfg: TargetsConfig
    calls: list[tuple[int, int, str]]


@pytest.fixture(scope="module")
def built(demo_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Built:
    cfg = load_targets()
    out = tmp_path_factory.mktemp("briefing")
    calls: list[tuple[int, int, str]] = []
    con = db.connect(demo_db, read_only=True)
    try:
        card = progress.scorecard(con, AS_OF, cfg=cfg)
        result = briefing.build_briefing(
            con, cfg, "2026-10", out, targets=TARGETS, full=True,
            progress=lambda i, n, label: calls.append((i, n, label)),
        )  # fmt: skip
    finally:
        con.close()
    return Built(result, card[card["target_id"].isin(TARGETS)].reset_index(drop=True), cfg, calls)


def texts(slide: Slide) -> str:
    return "\n".join(s.text_frame.text for s in slide.shapes if s.has_text_frame) + "\n".join(
        c.text_frame.text for s in slide.shapes if s.has_table for r in s.table.rows for c in r.cells
    )


# -- the run ------------------------------------------------------------------------------------------


def test_files_and_progress(built: Built) -> None:
    r = built.result
    assert r.target_ids == list(built.card["target_id"]) and sorted(r.target_ids) == sorted(TARGETS)
    for path in r.paths:
        assert path.is_file() and path.stat().st_size > 0 and path.is_relative_to(r.out_dir)
    assert len(r.charts) == len(TARGETS) + 1 and r.charts[0].key == "summary"
    # progress: once before the work (0), then once per chart and per file, to n
    n = len(TARGETS) + 1 + 3
    assert [c[0] for c in built.calls] == list(range(n + 1))
    assert {c[1] for c in built.calls} == {n}
    labels = [c[2] for c in built.calls]
    assert set(built.card["name_zh"]) <= set(labels) and {"PDF", "PowerPoint", "Excel"} <= set(labels)
    with zipfile.ZipFile(r.charts_zip) as zf:
        assert sorted(zf.namelist()) == sorted(f"charts/{p.name}" for c in r.charts for p in (c.png, c.svg))


def test_deck(built: Built) -> None:
    deck = Presentation(str(built.result.deck))
    slides = list(deck.slides)
    n = len(TARGETS)
    assert len(slides) == 1 + 1 + n + 1
    assert (deck.slide_width, deck.slide_height) == (Inches(13.333), Inches(7.5))

    cover = texts(slides[0])
    assert slides[0].shapes.title.text_frame.text == "服务暖城“新市民”0477系列措施 进展简报"
    assert "2026年10月" in cover and "演示数据" in cover  # the demo warehouse says so on the cover

    summary = slides[1]
    assert summary.shapes.title.text_frame.text == "总体进展"
    counts = built.card["status"].value_counts()
    body = texts(summary)
    for s in STATUS_ORDER:  # a tile per status: word and count (the count of the selected targets)
        assert f"{i18n.status_label(s)}\n{int(counts.get(s, 0))}" in body
    table = next(s.table for s in summary.shapes if s.has_table)
    assert len(table.rows) == 1 + n  # header + the worst ten (here all three), worst first
    rank = {s: i for i, s in enumerate(STATUS_ORDER)}
    shown = [table.cell(i, 2).text_frame.text for i in range(1, n + 1)]
    by_name = built.card.set_index("name_zh")
    assert [rank[by_name.at[name, "status"]] for name in shown] == sorted(rank[s] for s in built.card["status"])

    for slide, row in zip(slides[2:-1], built.card.to_dict("records"), strict=True):
        assert slide.shapes.title.text_frame.text == row["name_zh"]
        assert row["reason_zh"] in texts(slide)
        assert i18n.status_label(row["status"]) in texts(slide)
        pictures = [s for s in slide.shapes if s.shape_type == 13]
        assert len(pictures) == 1 and pictures[0].image.size == (1760, 990)  # 200 dpi at 8.8 in

    assert slides[-1].shapes.title.text_frame.text == "责任单位缺报情况"

    # every run names the CJK font as latin and as east-asian typeface
    runs = [r for s in slides for sh in s.shapes if sh.has_text_frame for p in sh.text_frame.paragraphs for r in p.runs]
    assert runs
    for run in runs:
        rpr = run._r.rPr
        typefaces = {el.tag.split("}")[1]: el.get("typeface") for el in rpr if el.tag.split("}")[1] in ("latin", "ea")}
        assert typefaces == {"latin": "Noto Sans CJK SC", "ea": "Noto Sans CJK SC"}, run.text


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_png_charts(built: Built) -> None:
    for chart in built.result.charts:
        expected = (912, 912) if chart.key == "summary" else (1760, 990)  # the slide's own pixel size
        assert png_size(chart.png) == expected
        with Image.open(chart.png) as img:
            assert img.size == expected
            rgb = img.convert("RGB")
            colours = rgb.getcolors(maxcolors=1 << 20)
            assert colours is not None and len(colours) > 50, "a blank or flat image"
            white = max(n for n, c in colours if c == (255, 255, 255))
            assert white / (expected[0] * expected[1]) < 0.97  # something is drawn


def test_svg_charts(built: Built) -> None:
    charts = {c.key: c for c in built.result.charts}
    for row in built.card.to_dict("records"):
        svg = charts[row["target_id"]].svg.read_text(encoding="utf-8")
        assert svg.startswith("<svg")
        assert row["name_zh"] in svg  # the title
        assert SOURCE in svg and "数据截至 2026年10月" in svg and f"单位：{row['unit_zh']}" in svg
        for s in STATUS_ORDER:  # the status legend: every word, each beside its colour
            assert i18n.status_label(s) in svg
    summary = charts["summary"].svg.read_text(encoding="utf-8")
    assert "目标状态分布" in summary and SOURCE in summary and "2026年10月" in summary


def test_pdf(built: Built) -> None:
    pdf = built.result.pdf.read_bytes()
    assert pdf.startswith(b"%PDF")
    pages = re.findall(rb"/Type\s*/Page(?![a-zA-Z])", pdf)
    assert len(pages) == len(TARGETS) + 3
    assert b"NotoSansCJKsc" in pdf  # the Chinese text is set in Noto Sans CJK (embedded), not boxes


def test_workbook(built: Built, demo_db: Path) -> None:
    wb = openpyxl.load_workbook(built.result.workbook)
    assert wb.sheetnames == ["计分卡", "分旗区", "报送情况", "承诺事项", "情况说明", "督办事项"]  # issues 13, 14, 15
    ws = wb["计分卡"]
    assert ws.freeze_panes == "A2"
    header = [c.value for c in ws[1]]
    assert header[:3] == ["条目", "目标", "牵头单位"] and "状态" in header and "说明" in header
    rows = {r[header.index("目标编码")]: dict(zip(header, r, strict=True)) for r in ws.iter_rows(2, values_only=True)}
    assert set(rows) == set(TARGETS)
    known = built.card.set_index("target_id").loc["rental_housing_15k"]
    rental = rows["rental_housing_15k"]
    assert rental["目标值"] == 15000
    assert rental["状态"] == i18n.status_label(known["status"])
    assert rental["最新实际"] == pytest.approx(known["actual"])
    assert rental["完成进度"] == pytest.approx(known["progress"])
    assert rental["说明"] == known["reason_zh"]
    progress_cell = ws.cell(row=2, column=header.index("完成进度") + 1)
    assert progress_cell.number_format == "0%"

    districts = wb["分旗区"]
    d_rows = list(districts.iter_rows(2, values_only=True))
    assert d_rows and {r[9] for r in d_rows} <= set(TARGETS)

    # reporting: expected / received per bureau as queries.reporting_status counts them
    con = db.connect(demo_db, read_only=True)
    try:
        status = queries.reporting_status(con, built.cfg.policy.start, AS_OF, built.cfg.reporting.due_day)
        names = queries.reference(con, "bureaus").set_index("bureau_id")["name_zh"]
    finally:
        con.close()
    leads = set(built.card["lead_bureau"])
    status = status[status["bureau_id"].isin(leads)]
    rep = wb["报送情况"]
    got = {r[0]: r for r in rep.iter_rows(2, values_only=True)}
    assert set(got) == {names[b] for b in leads}
    for bureau_id, part in status.groupby("bureau_id"):
        row = got[names[bureau_id]]
        assert row[1:4] == (len(part), int(part["received"].sum()), int(part["on_time"].sum()))


# -- formula injection ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("正常推进", "正常推进"),
        ("1.5万套", "1.5万套"),
        (None, ""),
        (float("nan"), ""),
        (12, "12"),
    ],
)
def test_safe_cell(value: object, expected: str) -> None:
    assert briefing.safe_cell(value) == expected


def test_workbook_neutralises_formulas(built: Built, tmp_path: Path) -> None:
    """Text from uploads (a reason quoting a figure, a name) can never run as a formula."""
    card = built.card.copy()
    card.loc[0, "reason_zh"] = INJECTION
    card.loc[1, "name_zh"] = '+HYPERLINK("http://x")'
    card.loc[2, "section"] = "-1+2"
    units = card.assign(district_id="@dongsheng", is_aggregate=False)
    months = pd.DataFrame({"bureau_id": ["housing"], "period": [AS_OF], "received": [False], "on_time": [False]})
    reporting = briefing.reporting_summary(months, {"housing": INJECTION}, "zh")
    path = briefing.write_workbook(
        tmp_path / "x.xlsx", card, units, reporting, bureau_names={card.loc[0, "lead_bureau"]: INJECTION},
        district_names={},
    )  # fmt: skip
    wb = openpyxl.load_workbook(path)
    cells = [c for ws in wb for row in ws.iter_rows() for c in row if c.value is not None]
    assert all(c.data_type != "f" for c in cells)
    dangerous = [c for c in cells if isinstance(c.value, str) and c.value.lstrip("'")[:1] in ("=", "+", "-", "@")]
    assert len(dangerous) >= 6  # reason, name, section, two bureau names, district id
    for c in dangerous:
        assert c.value.startswith("'") and c.data_type == "s", (c.coordinate, c.value)
    scorecard = wb["计分卡"]
    assert scorecard.cell(row=2, column=12).value == "'" + INJECTION
    assert wb["报送情况"].cell(row=2, column=1).value == "'" + INJECTION
    # and in the file itself: no formula element anywhere
    with zipfile.ZipFile(path) as zf:
        for name in zf.namelist():
            if name.startswith("xl/worksheets/"):
                assert b"<f>" not in zf.read(name) and b"<f " not in zf.read(name)


# -- selection -----------------------------------------------------------------------------------------


def test_select_targets(built: Built, demo_db: Path) -> None:
    con = db.connect(demo_db, read_only=True)
    try:
        card = progress.scorecard(con, AS_OF, cfg=built.cfg)
    finally:
        con.close()
    by_section = briefing.select_targets(card, sections=["三(二)"])
    assert set(by_section["target_id"]) == set(card.loc[card["section"] == "三(二)", "target_id"])
    assert "rental_housing_15k" in set(by_section["target_id"])
    both = briefing.select_targets(card, sections=["三(二)"], bureaus=["housing"])
    assert set(both["lead_bureau"]) == {"housing"} and set(both["section"]) == {"三(二)"}
    assert len(briefing.select_targets(card)) == len(card)  # no filter: every target
    with pytest.raises(briefing.BriefingError, match="nope"):
        briefing.select_targets(card, targets=["rental_housing_15k", "nope"])
    with pytest.raises(briefing.BriefingError):
        briefing.select_targets(card, sections=["三(二)"], bureaus=["education"])  # nothing left


def test_month_ranges() -> None:
    months = [dt.date(2025, m, 1) for m in (3, 4, 5, 9)] + [dt.date(2026, 1, 1)]
    assert briefing._month_ranges(months, "zh") == "2025年3月–2025年5月、2025年9月、2026年1月"
    assert briefing._month_ranges([], "zh") == ""


def test_bad_browser_path_is_a_clear_error(demo_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A wrong $BROWSER_PATH is reported as such (choreographer would only suggest a download)."""
    monkeypatch.setenv("BROWSER_PATH", str(tmp_path / "no-chromium"))
    con = db.connect(demo_db, read_only=True)
    try:
        with pytest.raises(briefing.BriefingError, match="BROWSER_PATH"):
            briefing.build_briefing(con, load_targets(), "2026-10", tmp_path / "out", targets=TARGETS[:1])
    finally:
        con.close()


# -- command line -----------------------------------------------------------------------------------------


def test_cli(demo_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "cli"
    code = monitor_main(
        ["briefing", "--as-of", "2026-10", "--out", str(out), "--target", "rental_housing_15k", "--lang", "en",
         "--db", str(demo_db), "--full"]
    )  # fmt: skip
    captured = capsys.readouterr()
    assert code == 0, captured.err
    printed = [Path(line) for line in captured.out.splitlines()]
    assert printed[0] == out / "briefing_2026-10_en.pptx" and all(p.is_file() for p in printed)
    assert len(printed) == 4 + 2 * 2  # deck, PDF, workbook, zip; PNG + SVG of the summary and the target
    deck = Presentation(str(printed[0]))
    assert len(deck.slides) == 4
    assert "Oct 2026" in texts(deck.slides[0])
    assert "[5/5] " in captured.err  # progress on stderr, files on stdout

    # without --full, the exception-first pack: an on-track target gets no slide, only an appendix row
    pack = tmp_path / "pack"
    code = monitor_main(
        ["briefing", "--as-of", "2026-10", "--out", str(pack), "--target", "rental_housing_15k", "--db", str(demo_db)]
    )  # fmt: skip
    captured = capsys.readouterr()
    assert code == 0, captured.err
    printed = [Path(line) for line in captured.out.splitlines()]
    assert len(printed) == 4 + 2  # deck, PDF, workbook, zip; PNG + SVG of the summary chart only
    deck = Presentation(str(printed[0]))
    assert [s.shapes.title.text_frame.text for s in deck.slides][1:] == [
        "总体进展",
        "责任单位缺报情况",
        "附表：全部目标",
    ]

    assert (
        monitor_main(["briefing", "--as-of", "2026-10", "--out", str(out), "--target", "nope", "--db", str(demo_db)])
        == 2
    )
    assert "nope" in capsys.readouterr().err


# -- the page ------------------------------------------------------------------------------------------------

_stored: dict[str, bytes] = {}


class _RecordingStorage(MemoryMediaFileStorage):
    """The AppTest media storage, remembering what each download button would serve (by file id)."""

    def load_and_get_id(
        self, path_or_data: str | bytes, mimetype: str, kind: MediaFileKind, filename: str | None = None
    ) -> str:
        file_id = super().load_and_get_id(path_or_data, mimetype, kind, filename)
        _stored[file_id] = self.get_file(file_id).content
        return file_id


class _NavigationPagesManager(PagesManager):
    """As in test_app_pages: keep the pages/-directory mode off so switch_page runs app.py."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        PagesManager.uses_pages_directory = False


@pytest.fixture
def page(app_db: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[AppTest]:
    """The briefing page as the demo leader, through app.py's navigation."""
    st.cache_data.clear()
    st.cache_resource.clear()
    _stored.clear()
    monkeypatch.setattr(app_test_module, "PagesManager", _NavigationPagesManager)
    monkeypatch.setattr(app_test_module, "MemoryMediaFileStorage", _RecordingStorage)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    in_run = ui.lang

    def lang() -> i18n.Lang:  # format_func runs outside the script when AppTest reads options
        return "zh" if get_script_run_ctx() is None else in_run()

    monkeypatch.setattr(ui, "lang", lang)
    now = dt.datetime.now()
    at.session_state["user_name"] = "leader"
    at.session_state["signed_in_at"] = now
    at.session_state["last_seen"] = now
    at.run()
    at.switch_page("pages/briefing.py").run()
    assert not at.exception, [e.value for e in at.exception]
    yield at
    st.cache_data.clear()
    st.cache_resource.clear()


def served(button: DownloadButton) -> bytes:
    return _stored[Path(button.proto.url).stem]


def test_page_generates_and_offers_downloads(page: AppTest) -> None:
    at = page
    assert [t.value for t in at.title] == ["简报导出"]
    assert not at.get("download_button")
    at.multiselect(key="br_targets_zh").set_value(TARGETS[:2]).run()
    # the default pack: neither target (on track, achieved) needs attention; cover, summary, gaps, appendix
    assert any(c.value == "将包含2项目标，其中0项需关注；PPT共4页。" for c in at.caption)
    at.radio(key="br_pack").set_value("full").run()
    assert any(c.value == "将包含2项目标，PPT共5页。" for c in at.caption)
    at.button(key="br_generate").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]

    buttons = {b.key: b for b in at.get("download_button")}
    assert set(buttons) == {"br_download_pptx", "br_download_pdf", "br_download_xlsx", "br_download_zip"}
    assert [b.label for b in at.get("download_button")] == ["下载PPT", "下载PDF", "下载Excel", "下载图表（PNG/SVG）"]
    deck = Presentation(io.BytesIO(served(buttons["br_download_pptx"])))
    assert len(deck.slides) == 2 + 3
    names = set(pd.Series([s.shapes.title.text_frame.text for s in list(deck.slides)[2:4]]))
    assert len(names) == 2
    assert served(buttons["br_download_pdf"]).startswith(b"%PDF")
    book = openpyxl.load_workbook(io.BytesIO(served(buttons["br_download_xlsx"])))
    assert book.sheetnames == ["计分卡", "分旗区", "报送情况", "承诺事项", "情况说明", "督办事项"]  # issues 13, 14, 15
    with zipfile.ZipFile(io.BytesIO(served(buttons["br_download_zip"]))) as zf:
        assert len(zf.namelist()) == 2 * 3

    # the files survive the next rerun (session state), and say when the filters changed since
    at.multiselect(key="br_targets_zh").set_value(TARGETS[:1]).run()
    assert len(at.get("download_button")) == 4
    assert at.warning and any("筛选条件" in w.value for w in at.warning)


def test_page_status_filter_narrows_the_targets_and_the_pack(page: AppTest, demo_db: Path) -> None:
    at = page
    con = db.connect(demo_db, read_only=True)  # the page's warehouse is a copy of this one
    try:
        card = progress.scorecard(con, AS_OF, cfg=load_targets())
    finally:
        con.close()
    off_track = card[card["status"] == "off_track"]
    at.multiselect(key="br_status_zh").set_value(["off_track"]).run()
    assert not at.exception, [e.value for e in at.exception]
    assert len(at.multiselect(key="br_targets_zh").options) == len(off_track) > 0  # only off-track targets offered
    # every off-track target needs attention: cover, summary, one slide each, gaps, appendix
    n = len(off_track)
    slides = 2 + n + 1 + -(-n // briefing.APPENDIX_ROWS)
    assert any(c.value == f"将包含{n}项目标，其中{n}项需关注；PPT共{slides}页。" for c in at.caption)


def test_page_guards_itself(app_db: Path) -> None:
    """Run on its own, signed out (Streamlit's pages/-directory route), the page draws only the refusal."""
    st.cache_resource.clear()
    at = AppTest.from_file(str(ROOT / "pages" / "briefing.py"), default_timeout=60)
    at.run()
    assert any("无权访问此页面" in e.value for e in at.error)
    assert not at.title and not at.button and not at.get("download_button")
    st.cache_resource.clear()
