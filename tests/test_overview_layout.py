"""The overview as a leader reads it at 1366 px and on a phone, and the districts page's ranked list
(issue 16), with AppTest against a copy of the demo warehouse (see `app_db` in conftest).

What the browser draws (no sideways scrolling, the grid's height, the phone's layout) is checked in
tests/test_browser_phone.py; here: which columns a grid shows, in which order and how wide, that it
is drawn to show every row, that choosing a row opens that target's detail, the phone's list of
targets, and the districts ranked by progress with their figures computed without the app.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import streamlit as st

from monitor import db, fmt, progress
from monitor.targets import DISTRICT_ORDER, TargetsConfig, load_targets
from tests.test_app_pages import (  # noqa: F401  (_harness: the AppTest fixture, autouse here too)
    AS_OF,
    KNOWN_TARGET,
    LANGS,
    T,
    _harness,
    assert_clean,
    frames,
    open_page,
    titles,
)

# the shown columns and their widths in px (dashboard/overview_grid.py); the main column beside the
# sidebar of a 1366 px screen is 904 px wide, the selection's row marker takes about 32 px of it
FIRST_COLUMNS = ("change_col", "col_status", "col_target", "col_actual_goal", "col_progress", "col_reason")
OPTIONAL_COLUMNS = ("col_explanation", "change_col_actions")
WIDTHS = {
    "change_col": 44,
    "col_status": 98,
    "col_target": 160,
    "col_actual_goal": 100,
    "col_progress": 84,
    "col_reason": 210,
    "col_explanation": 96,
    "change_col_actions": 70,
}
MAIN_COLUMN_PX = 904
ROW_MARKER_PX = 32


class Expected:
    """The scorecard the overview must show, computed from the warehouse without the app."""

    def __init__(self, cfg: TargetsConfig, card: pd.DataFrame, units: pd.DataFrame) -> None:
        self.cfg, self.card, self.units = cfg, card, units

    def target(self, target_id: str) -> dict[str, Any]:
        return self.card.set_index("target_id").loc[target_id].to_dict()


@pytest.fixture(scope="module")
def expected(demo_db: Path) -> Expected:
    cfg = load_targets()
    con = db.connect(demo_db, read_only=True)
    try:
        card = progress.scorecard(con, AS_OF, cfg=cfg)
        units = progress.scorecard(con, AS_OF, cfg=cfg, all_units=True)
    finally:
        con.close()
    return Expected(cfg, card, units)


def target_grids(at: Any) -> list[Any]:
    """The scorecard grids (grouped by deadline), not the change panel or other tables."""
    return [d for d in at.dataframe if str(d.key or "").startswith("ov_table_")]


def group_of(row: dict[str, Any]) -> str:
    return "annual" if row["kind"] == "annual" else str(pd.Timestamp(row["deadline"]).year)


@pytest.mark.parametrize("lang", LANGS)
def test_each_grid_shows_status_target_figures_progress_and_reason_within_1366_px(
    app_db: Path, expected: Expected, lang: str
) -> None:
    at = open_page("leader", "overview", lang)
    assert_clean(at)
    grids = target_grids(at)
    groups = {group_of(r) for r in expected.card.to_dict("records")}
    assert sorted(g.key for g in grids) == sorted(f"ov_table_{g}" for g in groups)
    for grid in grids:
        frame = grid.value
        has = {k: frame[T(k, lang)].astype(str).str.strip().any() for k in OPTIONAL_COLUMNS}
        wanted = [T(k, lang) for k in FIRST_COLUMNS] + [T(k, lang) for k in OPTIONAL_COLUMNS if has[k]]
        assert list(grid.proto.column_order) == wanted, grid.key
        config = json.loads(grid.proto.columns)
        widths = {label: config[label]["width"] for label in wanted}
        assert widths == {T(k, lang): WIDTHS[k] for k in FIRST_COLUMNS + OPTIONAL_COLUMNS if T(k, lang) in wanted}
        assert sum(widths.values()) + ROW_MARKER_PX <= MAIN_COLUMN_PX
        assert config[T("col_progress", lang)]["type_config"]["type"] == "progress"
        # three lines of Chinese, four of English: the grid wraps text only in rows over 64 px
        assert grid.proto.row_height == {"zh": 70, "en": 80}[lang]
        # every other column is still in the grid's data (its column menu can show it)
        for key in ("col_bureau", "col_deadline", "col_elapsed", "col_forecast", "col_actual", "col_goal"):
            assert T(key, lang) in frame.columns

    shown = pd.concat(frames(at), ignore_index=True)
    known = expected.target(KNOWN_TARGET)
    row = shown[shown[T("col_target", lang)] == known[f"name_{lang}"]].iloc[0]
    uz, ue = known["unit_zh"], known["unit_en"]
    figures = f"{fmt.figure(known['actual'], uz, ue, lang)} / {fmt.figure(known['target_value'], uz, ue, lang)}"
    assert row[T("col_actual_goal", lang)] == figures
    assert row[T("col_reason", lang)] == known[f"reason_{lang}"]  # the whole reason, wrapped by the grid
    assert row[T("col_progress", lang)] == round(min(known["progress"], 1.5) * 100)


def test_the_figures_column_reads_actual_then_target_with_units(app_db: Path, expected: Expected) -> None:
    """A hand-read row: the demo's rental housing target is 15,000 套 (1.5万套 in Chinese figures)."""
    at = open_page("leader", "overview")
    shown = pd.concat(frames(at), ignore_index=True).set_index("目标")
    known = expected.target(KNOWN_TARGET)
    text = shown.at[known["name_zh"], "实际 / 目标"]
    assert text.endswith(" / 1.5万套"), text
    assert text == f"{fmt.figure(known['actual'], '套', 'units', 'zh')} / 1.5万套"


def test_every_grid_is_drawn_to_show_all_its_rows(
    app_db: Path, expected: Expected, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A group of more than ten targets shows them all: the grid is as tall as its rows (the page
    scrolls, not the grid), which st.dataframe does with height="content"."""
    drawn: dict[str, dict[str, Any]] = {}
    original = st.dataframe

    def spy(data: Any = None, *args: Any, **kwargs: Any) -> Any:
        drawn[str(kwargs.get("key"))] = {"rows": len(getattr(data, "data", data)), **kwargs}
        return original(data, *args, **kwargs)

    monkeypatch.setattr(st, "dataframe", spy)
    at = open_page("leader", "overview")
    assert_clean(at)
    grids = {k: v for k, v in drawn.items() if k.startswith("ov_table_")}
    sizes = expected.card.assign(group=[group_of(r) for r in expected.card.to_dict("records")])["group"]
    assert {k: v["rows"] for k, v in grids.items()} == {f"ov_table_{g}": n for g, n in sizes.value_counts().items()}
    assert max(v["rows"] for v in grids.values()) > 10  # the demo has a group the old grid cut at ten rows
    assert {v["height"] for v in grids.values()} == {"content"}


def test_choosing_a_row_opens_that_targets_detail_and_the_overview_stays_reachable(
    app_db: Path, expected: Expected
) -> None:
    known = expected.target(KNOWN_TARGET)
    at = open_page("leader", "overview")
    key = f"ov_table_{group_of(known)}"
    [grid] = [g for g in at.dataframe if g.key == key]
    position = list(grid.value["目标"]).index(known["name_zh"])
    assert position > 0  # not the first row: the row chosen, not a default, opens the detail
    at.session_state[key] = {"selection": {"rows": [position], "columns": [], "cells": []}}
    at.run()
    assert_clean(at)
    assert titles(at) == ["指标详情"]
    assert at.session_state["detail_target"] == KNOWN_TARGET  # the target the detail page shows
    assert at.query_params["target"] == KNOWN_TARGET
    # back on the overview the choice is gone: it does not send the leader to the detail again
    at.switch_page("pages/overview.py").run()
    assert_clean(at)
    assert titles(at) == ["总览"]


@pytest.mark.parametrize("lang", LANGS)
def test_the_phone_list_holds_every_target_with_status_figures_reason_and_a_link(
    app_db: Path, expected: Expected, lang: str
) -> None:
    at = open_page("leader", "overview", lang)
    lists = [html.unescape(h.proto.body) for h in at.get("html") if 'class="ov-list"' in h.proto.body]
    assert len(lists) == len(target_grids(at))
    items = [item for body in lists for item in body.split('<li class="ov-item"')[1:]]
    assert len(items) == len(expected.card)
    by_link = {re.search(r'href="detail\?target=([^"]+)"', item).group(1): item for item in items}  # type: ignore[union-attr]
    assert set(by_link) == set(expected.card["target_id"])
    known = expected.target(KNOWN_TARGET)
    item = by_link[KNOWN_TARGET]
    uz, ue = known["unit_zh"], known["unit_en"]
    assert f">{fmt.status(known['status'], lang)}</span>" in item
    assert f">{known[f'name_{lang}']}</a>" in item
    figures = f"{fmt.figure(known['actual'], uz, ue, lang)} / {fmt.figure(known['target_value'], uz, ue, lang)}"
    assert T("labelled", lang, label=T("col_actual_goal", lang), value=figures) in item
    assert f">{known[f'reason_{lang}']}</div>" in item


# -- the districts page ---------------------------------------------------------------------------------


def ten_districts(units: pd.DataFrame) -> pd.DataFrame:
    """Every district's part of the cumulative and annual targets: the ten districts, not the city nor
    the "scope" total of a target set for some districts only."""
    return units[units["district_id"].isin(DISTRICT_ORDER) & units["kind"].isin(["cumulative", "annual"])]


@pytest.mark.parametrize("lang", LANGS)
def test_districts_are_ranked_by_mean_progress_with_their_figures(app_db: Path, expected: Expected, lang: str) -> None:
    by_district = ten_districts(expected.units)
    at = open_page("leader", "districts", lang)
    assert_clean(at)
    assert T("league_ranked", lang) in [c.value for c in at.caption]
    assert T("heatmap_phone", lang) in [i.value for i in at.info]  # style.css shows it on a phone only
    shown = frames(at)[0]  # the league: the page's first table (then one district's targets)
    names = {d.id: getattr(d, f"name_{lang}") for d in expected.cfg.districts}

    means = by_district.groupby("district_id")["progress"].mean()
    good = by_district["status"].isin(["achieved", "on_track"]).groupby(by_district["district_id"]).sum()
    count = by_district.groupby("district_id").size()
    order = sorted(means.index, key=lambda d: (-means[d], DISTRICT_ORDER.index(d)))
    assert len(order) == 10
    assert list(shown[T("col_district", lang)]) == [names[d] for d in order]
    # 鄂托克前旗 and 杭锦旗 have the same mean in the demo: they share the 9th place, in the official order
    assert means["otog_front"] == pytest.approx(means["hanggin"])
    assert order[-2:] == ["otog_front", "hanggin"]
    assert list(shown[T("league_rank", lang)]) == [1, 2, 3, 4, 5, 6, 7, 8, 9, 9]
    assert list(shown[T("league_score", lang)]) == pytest.approx([min(means[d], 1.5) * 100 for d in order])
    assert list(shown[T("league_on_track", lang)]) == [f"{good[d]}/{count[d]}" for d in order]

    # one district by hand: the mean of its targets' progress
    first = order[0]
    rows = by_district[by_district["district_id"] == first]
    assert shown[T("league_score", lang)].iloc[0] == pytest.approx(min(sum(rows["progress"]) / len(rows), 1.5) * 100)
