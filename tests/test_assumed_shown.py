"""Issue 13: every value targets.yaml assumes (Target.assumed) reads 假设，待确认 beside its figure on the
target detail, on the deck slide and PDF page of the target, and in the workbook's scorecard.

The briefing tests use the small config of conftest with assumptions added in a test-local copy; the
page test uses the demo warehouse with the real targets.yaml, its one target's assumptions set here, so
the tests do not depend on which assumptions targets.yaml currently records.
"""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from PIL import Image
from pptx import Presentation

from dashboard import data
from monitor import briefing, db, fmt
from monitor.briefing.model import ChartFile
from monitor.targets import TargetsConfig, load_targets, parse_targets
from tests.test_app_pages import KNOWN_TARGET, _harness, assert_clean, open_page  # noqa: F401 (autouse fixture)

MARK_ZH = "（假设，待确认）"
CAPTION_ZH = "本目标的基线、期限为假设值，待责任单位确认"
AS_OF = dt.date(2026, 10, 1)
ASSUMED_ID = "rental_15k"  # baseline 0 since 2024-07, deadline 2027-07: both assumed here
PLAIN_ID = "talent_apartments_5k"  # nothing assumed: no mark may appear on its slide or row


def test_the_mark_reads_the_same_in_every_view() -> None:
    assert fmt.assumed_mark("zh") == MARK_ZH
    assert fmt.assumed_mark("en") == " (assumed, to be confirmed)"
    assert fmt.assumed_caption(["deadline", "baseline"], "zh") == CAPTION_ZH  # listed in a fixed order
    assert fmt.assumed_caption([], "zh") == ""
    assert fmt.assumed_items(["milestones", "tolerance", "reading"], "zh") == "左右范围、计数口径、阶段节点"


@pytest.fixture
def assumed_cfg(cfg_dict: dict[str, Any]) -> TargetsConfig:
    raw = copy.deepcopy(cfg_dict)
    by_id = {t["id"]: t for t in raw["targets"]}
    by_id[ASSUMED_ID]["assumed"] = ["baseline", "deadline"]
    bus = by_id["bus_coverage_100"]  # a 左右 target with an assumed range and assumed milestones
    bus |= {"comparator": "~", "value": 95, "tolerance": 3, "assumed": ["tolerance", "milestones"]}
    bus["milestones"] = [{"date": dt.date(2025, 12, 31), "value": 90}]
    return parse_targets(raw)


def test_target_terms_mark_each_assumed_figure(assumed_cfg: TargetsConfig) -> None:
    targets = {t.id: t for t in assumed_cfg.targets}
    assert fmt.target_terms(targets[ASSUMED_ID], "套", "units", "zh") == [
        ("基线", "0套（2024年7月）（假设，待确认）"),
        ("截止", "2027年7月（假设，待确认）"),
    ]
    assert fmt.target_terms(targets["bus_coverage_100"], "%", "%", "zh") == [
        ("基线", "80%（2024年7月）"),  # the baseline is not assumed for this one: no mark
        ("截止", "2027年7月"),
        ("左右范围", "92%—98%（假设，待确认）"),
        ("阶段节点", "2025年12月：90%（假设，待确认）"),
    ]
    assert fmt.target_terms(targets[ASSUMED_ID], "套", "units", "en")[1] == (
        "Deadline",
        "Jul 2027 (assumed, to be confirmed)",
    )


# -- deck, PDF page, workbook -------------------------------------------------------------------------


@pytest.fixture
def collected(tmp_path: Path, assumed_cfg: TargetsConfig) -> briefing.BriefingData:
    con = db.connect(tmp_path / "w.duckdb")
    try:
        db.load_reference(con, assumed_cfg)
        # the full deck: a slide for every target, whatever its status (issue 15's default pack has fewer)
        return briefing.collect(con, assumed_cfg, AS_OF, targets=[ASSUMED_ID, PLAIN_ID, "bus_coverage_100"], full=True)
    finally:
        con.close()


def _charts(tmp_path: Path, keys: list[str]) -> dict[str, ChartFile]:
    png = tmp_path / "chart.png"
    Image.new("RGB", (320, 180), "white").save(png)
    return {k: ChartFile(k, k, png, tmp_path / "chart.svg") for k in keys}


def _slide_texts(deck_path: Path) -> dict[str, str]:
    """Each target slide's text, by its title."""
    deck = Presentation(str(deck_path))
    out = {}
    for slide in list(deck.slides)[2:-1]:
        out[slide.shapes.title.text_frame.text] = "\n".join(s.text_frame.text for s in slide.shapes if s.has_text_frame)
    return out


def test_deck_slide_marks_the_assumed_baseline_and_deadline(tmp_path: Path, collected: briefing.BriefingData) -> None:
    keys = ["summary", *collected.card["target_id"]]
    path = briefing.write_deck(collected, _charts(tmp_path, keys), tmp_path / "deck.pptx")
    slides = _slide_texts(path)
    names = dict(zip(collected.card["target_id"], collected.card["name_zh"], strict=True))

    assumed = slides[names[ASSUMED_ID]]
    assert "截止：2027年7月（假设，待确认）" in assumed
    assert "基线：0套（2024年7月）（假设，待确认）" in assumed
    assert CAPTION_ZH in assumed

    bus = slides[names["bus_coverage_100"]]
    assert "左右范围：92%—98%（假设，待确认）" in bus and "阶段节点：2025年12月：90%（假设，待确认）" in bus
    assert "截止：2027年7月" in bus and "截止：2027年7月（" not in bus
    assert "本目标的左右范围、阶段节点为假设值，待责任单位确认" in bus

    assert "假设" not in slides[names[PLAIN_ID]]


def test_pdf_page_marks_the_same_figures(collected: briefing.BriefingData) -> None:
    svgs = {key: b"<svg xmlns='http://www.w3.org/2000/svg'/>" for key in ["summary", *collected.card["target_id"]]}
    page = briefing.briefing_html(collected, svgs)
    assert "截止：2027年7月（假设，待确认）" in page
    assert '<div class="term">基线：0套（2024年7月）（假设，待确认）</div>' in page
    assert f'<div class="assumed">{CAPTION_ZH}</div>' in page
    assert page.count(MARK_ZH) == 2 + 2  # rental: baseline and deadline; bus: range and milestones


def test_workbook_lists_the_assumed_items_per_target(tmp_path: Path, collected: briefing.BriefingData) -> None:
    path = briefing.write_workbook(
        tmp_path / "book.xlsx",
        collected.card,
        collected.units,
        collected.reporting,
        assumed={tid: list(t.assumed) for tid, t in collected.targets.items()},
    )
    ws = openpyxl.load_workbook(path)["计分卡"]
    header = [c.value for c in ws[1]]
    column = header.index("假设，待确认")  # before the 备注 column of issue 14
    rows = {r[header.index("目标编码")]: r[column] for r in ws.iter_rows(2, values_only=True)}
    assert rows == {ASSUMED_ID: "基线、期限", "bus_coverage_100": "左右范围、阶段节点", PLAIN_ID: None}


# -- the target detail page ----------------------------------------------------------------------------


def _with_assumed(cfg: TargetsConfig, target_id: str, assumed: list[str]) -> TargetsConfig:
    """The config with only ``target_id`` assuming ``assumed`` (whatever targets.yaml records)."""
    targets = [t.model_copy(update={"assumed": assumed if t.id == target_id else []}) for t in cfg.targets]
    return cfg.model_copy(update={"targets": targets})


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_detail_page_marks_assumed_baseline_and_deadline(
    app_db: Path, monkeypatch: pytest.MonkeyPatch, lang: str
) -> None:
    cfg = _with_assumed(load_targets(), KNOWN_TARGET, ["baseline", "deadline"])
    monkeypatch.setattr(data, "config", lambda: cfg)
    at = open_page("leader", "target_detail", lang, target=KNOWN_TARGET)
    assert_clean(at)
    target = next(t for t in cfg.targets if t.id == KNOWN_TARGET)
    unit = {"zh": "套", "en": "units"}[lang]
    mark = fmt.assumed_mark(lang)  # type: ignore[arg-type]
    shown = [m.value for m in at.markdown]
    colon = "：" if lang == "zh" else ": "
    deadline = fmt.month(target.deadline, lang)  # type: ignore[arg-type]
    assert f"{'截止' if lang == 'zh' else 'Deadline'}{colon}{deadline}{mark}" in shown
    since = fmt.month(target.baseline.date, lang)  # type: ignore[arg-type, union-attr]
    value = fmt.figure(target.baseline.value, "套", "units", lang)  # type: ignore[arg-type, union-attr]
    baseline = f"{value}（{since}）" if lang == "zh" else f"{value} ({since})"
    assert f"{'基线' if lang == 'zh' else 'Baseline'}{colon}{baseline}{mark}" in shown
    assert unit in value
    captions = [c.value for c in at.caption]
    expected = (
        CAPTION_ZH if lang == "zh" else "This target's baseline, deadline: assumed, to be confirmed by the lead bureau"
    )
    assert expected in captions
    goal = next(m for m in at.metric if m.label == ("目标值" if lang == "zh" else "Target value"))
    assert goal.proto.help == f"{deadline}{mark}"


def test_detail_page_without_assumptions_shows_no_mark(app_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = _with_assumed(load_targets(), KNOWN_TARGET, [])
    monkeypatch.setattr(data, "config", lambda: cfg)
    at = open_page("leader", "target_detail", "zh", target=KNOWN_TARGET)
    assert_clean(at)
    texts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    assert any(t.startswith("截止：") for t in texts)
    assert not any("假设" in t for t in texts)
