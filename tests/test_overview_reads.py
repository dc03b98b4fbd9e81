"""The overview's warm rerun (issue 17's aim: under 300 ms at city scale): the 督办 counts and the
explanations beside each status are read once a rerun for the whole page, whatever the number of
grids, and still show what the warehouse holds (exact texts, fresh after an action is opened or
closed); the status is drawn by the grid in its colour, without a pandas Styler.

AppTest against a copy of the demo warehouse (see `app_db` in conftest), as tests/test_app_pages.py.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from dashboard import action_views, workflow
from monitor import actions, db, explanations, fmt, queries
from monitor.auth import User
from monitor.style import STATUS_COLORS, STATUS_ORDER
from monitor.targets import load_targets
from tests.conftest import TODAY
from tests.test_app_pages import (  # noqa: F401  (_harness: the AppTest fixture, autouse here too)
    AS_OF,
    KNOWN_TARGET,
    LANGS,
    T,
    _harness,
    assert_clean,
    frames,
    open_page,
)

LEADER = User("leader", "领导", "leader", None, True)
HOUSING_REPORTER = User("housing", "住建局填报员", "reporter", "housing", True)


@contextmanager
def warehouse(path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """The test's copy of the demo warehouse (the app in this process shares the database)."""
    con = db.connect(path)
    try:
        yield con
    finally:
        con.close()


def scorecard_grids(at: Any) -> list[Any]:
    """The scorecard's grids, grouped by deadline (ov_table_…) or by section (ov_section_…)."""
    return [d for d in at.dataframe if str(d.key or "").startswith(("ov_table_", "ov_section_"))]


def counting(monkeypatch: pytest.MonkeyPatch, calls: dict[str, int], name: str, owner: object, attr: str) -> None:
    """Replace owner.attr by the same function counting its calls in calls[name]."""
    original: Callable[..., Any] = getattr(owner, attr)

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls[name] += 1
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, attr, counted)


def test_actions_and_explanations_are_read_once_a_rerun_whatever_the_number_of_grids(
    app_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = {"page": 0, "counts": 0, "latest": 0, "per_grid": 0}
    counting(monkeypatch, calls, "page", workflow, "follow_up")
    counting(monkeypatch, calls, "counts", actions, "counts")
    counting(monkeypatch, calls, "latest", explanations, "latest")
    # the per-grid reads the overview made before (a query, or a cache lookup with its version query, a grid)
    counting(monkeypatch, calls, "per_grid", workflow, "latest_explanations")
    counting(monkeypatch, calls, "per_grid", action_views, "count_column")

    at = open_page("leader", "overview")  # two runs: the landing page, then the overview
    assert_clean(at)
    by_deadline = len(scorecard_grids(at))
    assert by_deadline > 1
    # the warehouse is asked once for all targets, on the first run; every later run is a cache hit
    assert calls == {"page": 2, "counts": 1, "latest": 1, "per_grid": 0}

    calls.update(dict.fromkeys(calls, 0))
    at.radio(key="ov_group_zh").set_value("section").run()  # one grid a section of the policy
    assert_clean(at)
    by_section = len(scorecard_grids(at))
    assert by_section > by_deadline
    assert calls == {"page": 1, "counts": 0, "latest": 0, "per_grid": 0}

    calls.update(dict.fromkeys(calls, 0))
    st.cache_data.clear()  # a cold cache: still one query of each for every grid of the page
    at.run()
    assert_clean(at)
    assert len(scorecard_grids(at)) == by_section
    assert calls == {"page": 1, "counts": 1, "latest": 1, "per_grid": 0}


def test_the_action_column_counts_open_and_overdue_actions_and_follows_a_closing(app_db: Path) -> None:
    """Hand-made: two actions on the rental housing target, one due before the app's day (2026-11-26),
    and one on another housing target already closed. Closing an action while the page is open shows
    on the next rerun (the read is keyed by the audit log, which records every step)."""
    cfg = load_targets()
    other = next(t.id for t in cfg.targets if cfg.kpi_by_id[t.kpi].lead == "housing" and t.id != KNOWN_TARGET)
    with warehouse(app_db) as con:
        assert actions.counts(con, today=TODAY) == {}  # the demo opens no action
        early = dt.date(2026, 11, 1)  # opened on 1 November, due on the 20th: overdue by the 26th
        late_id = actions.open_action(
            con, cfg, LEADER, KNOWN_TARGET, "housing", "月底前报送进度", dt.date(2026, 11, 20), today=early
        )
        actions.open_action(con, cfg, LEADER, KNOWN_TARGET, "housing", "加快筹集", dt.date(2026, 12, 31), today=TODAY)
        closed_id = actions.open_action(
            con, cfg, LEADER, other, "housing", "核实数据", dt.date(2026, 12, 31), today=TODAY
        )
        actions.close(con, LEADER, closed_id, "已核实")

    names = {t.id: t.name_zh for t in cfg.targets}
    at = open_page("leader", "overview")
    assert_clean(at)
    shown = pd.concat(frames(at), ignore_index=True).drop_duplicates("目标").set_index("目标")
    assert shown.at[names[KNOWN_TARGET], "督办"] == "2项（1项逾期）"
    assert shown.at[names[other], "督办"] == ""  # closed: not counted
    assert (shown["督办"] != "").sum() == 1

    with warehouse(app_db) as con:
        actions.close(con, LEADER, late_id, "已报送")
    at.run()
    assert_clean(at)
    shown = pd.concat(frames(at), ignore_index=True).drop_duplicates("目标").set_index("目标")
    assert shown.at[names[KNOWN_TARGET], "督办"] == "1项"


def test_an_explanation_saved_while_the_page_is_open_shows_on_the_next_rerun(app_db: Path) -> None:
    at = open_page("leader", "overview")
    assert_clean(at)
    cfg = load_targets()
    name = next(t.name_zh for t in cfg.targets if t.id == KNOWN_TARGET)
    with warehouse(app_db) as con:
        explanations.save(con, cfg, HOUSING_REPORTER, KNOWN_TARGET, AS_OF, "本月新开工3个项目", "", "")
    at.run()
    assert_clean(at)
    shown = pd.concat(frames(at), ignore_index=True).set_index("目标")
    assert shown.at[name, "情况说明"] == "本月新开工3个项目"


@pytest.mark.parametrize("lang", LANGS)
def test_the_status_is_drawn_in_its_colour_from_plain_text_cells(app_db: Path, lang: str) -> None:
    """Each status word on its colour (monitor.style.STATUS_COLORS), drawn by the grid: the cells hold
    the status text itself, so the grid's data and its csv download read 逾期未完成, not a list."""
    at = open_page("leader", "overview", lang)
    assert_clean(at)
    grids = scorecard_grids(at)
    assert grids
    expected = [{"value": fmt.status(s, lang), "color": STATUS_COLORS[s]} for s in STATUS_ORDER]
    for grid in grids:
        config = json.loads(grid.proto.columns)[T("col_status", lang)]
        assert config["type_config"]["type"] == "multiselect"
        assert [{"value": o["value"], "color": o["color"]} for o in config["type_config"]["options"]] == expected
        assert config["width"] == 98
        assert not grid.proto.arrow_data.HasField("styler")  # no pandas Styler: the grid draws the colour
        words = set(grid.value[T("col_status", lang)])
        assert words <= {fmt.status(s, lang) for s in STATUS_ORDER}
        assert all("," not in w for w in words)  # a comma would split a cell into two labels


def test_the_data_version_is_read_once_a_rerun_and_again_after_a_write(
    app_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = {"version": 0}
    counting(monkeypatch, calls, "version", queries, "data_version")
    at = open_page("leader", "overview")
    assert_clean(at)
    calls["version"] = 0
    at.run()  # a warm rerun: about ten cached reads, each keyed by the data version
    assert_clean(at)
    assert calls["version"] == 1


def _version_twice_write_then_again() -> None:
    """A run (AppTest script): the version read twice, a write of this process, the version again."""
    import streamlit as st

    from dashboard import data as app_data
    from monitor import db

    app_data.con()  # the process's connection, opened (and migrated: a write) once before any run
    app_data.new_run()
    versions = [app_data.version(), app_data.version()]
    with db.transaction(app_data.con()) as con:  # a write of this process (a form saved in this run)
        con.execute("update meta set value = value where key = 'dataset'")
    versions.append(app_data.version())
    st.text(str(len(set(versions))))


def test_a_write_in_the_run_makes_the_next_read_ask_the_warehouse_again(
    app_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = {"version": 0}
    counting(monkeypatch, calls, "version", queries, "data_version")
    at = AppTest.from_function(_version_twice_write_then_again, default_timeout=60).run()
    assert not at.exception
    assert [x.value for x in at.text] == ["1"]  # the same version throughout: nothing it counts changed
    assert calls["version"] == 2  # read once for the first two, again after the write
    at.run()
    assert calls["version"] == 4  # a new run reads it again
