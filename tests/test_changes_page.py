"""本月变化 on the overview and the print view (打印版), with AppTest against the demo warehouse
(2026-10 against 2026-09). Expected values come from the engine (monitor.progress.changes) run on the
same warehouse without the app; one transition is checked by hand against the demo's figures."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from dashboard import page_table
from monitor import db, fmt, i18n
from monitor.progress import scorecard
from monitor.progress.changes import changes, totals
from monitor.style import STATUS_ORDER
from monitor.targets import TargetsConfig, load_targets
from tests.test_app_pages import (  # noqa: F401  (_harness: the AppTest fixture, autouse here too)
    AS_OF,
    NO_ACCESS,
    ROOT,
    _current,
    _harness,
    assert_clean,
    frames,
    open_page,
)

SEPTEMBER = dt.date(2026, 9, 1)


@dataclass
class Engine:
    cfg: TargetsConfig
    moved: pd.DataFrame
    counts: dict[str, int]
    card: pd.DataFrame

    def name(self, target_id: str) -> str:
        return str(self.card.set_index("target_id").at[target_id, "name_zh"])


@pytest.fixture(scope="module")
def engine(demo_db: Path) -> Engine:
    cfg = load_targets()
    con = db.connect(demo_db, read_only=True)
    try:
        moved = changes(con, AS_OF, cfg)
        return Engine(cfg, moved, totals(con, AS_OF, cfg, moved), scorecard(con, AS_OF, cfg=cfg))
    finally:
        con.close()


def test_the_overview_opens_with_the_counts_of_the_engine(app_db: Path, engine: Engine) -> None:
    at = open_page("leader", "overview")
    assert_clean(at)
    texts = [m.value for m in at.markdown]
    tiles = [i for i, text in enumerate(texts) if "明显滞后<" in text]
    assert texts.index("#### 本月变化") < tiles[0]  # the panel opens the page, above the status tiles
    assert "2026年10月较2026年9月" in [c.value for c in at.caption]
    counts = engine.counts
    line = (
        f"**变差 {counts['worse']} · 好转 {counts['better']} · 新完成 {counts['achieved']} · "
        f"新报数据 {counts['new_figures']} · 修订 {counts['revisions']}**"
    )
    assert line in [m.value for m in at.markdown]
    moved = engine.moved
    assert counts["worse"] == (moved["direction"] == "worse").sum()
    assert counts["better"] == (moved["direction"] == "better").sum()
    assert counts["achieved"] == (moved["direction"] == "achieved").sum()
    assert counts["new_figures"] > 0


def test_the_change_list_names_every_moved_target_with_both_statuses(app_db: Path, engine: Engine) -> None:
    at = open_page("leader", "overview")
    [shown] = [t.value for t in at.table]
    assert list(shown.columns) == ["变化", "目标", "上月状态", "本月状态", "说明", "牵头单位"]
    moved = engine.moved[engine.moved["direction"] != "same"]
    assert len(shown) == len(moved) > 0
    by_name = shown.set_index("目标")
    for target_id, prev, now, direction in zip(
        moved["target_id"], moved["status_prev"], moved["status_now"], moved["direction"], strict=True
    ):
        row = by_name.loc[fmt.plain(engine.name(target_id))]
        assert row["变化"] == fmt.plain(fmt.direction_text(direction, "zh"))
        assert row["上月状态"] == fmt.plain(fmt.status(prev, "zh"))
        assert row["本月状态"] == fmt.plain(fmt.status(now, "zh"))
    # worse first
    order = list(shown["变化"])
    if "↓ 变差" in order:
        assert order[0] == "↓ 变差"


def test_tiles_say_last_months_count_and_the_arrows_of_the_targets_that_came_in(app_db: Path, engine: Engine) -> None:
    at = open_page("leader", "overview")
    moved = engine.moved
    tiles = {}
    for m in at.markdown:
        for s in STATUS_ORDER:
            if f">{fmt.status(s, 'zh')}<" in m.value:
                tiles[s] = m.value
    assert set(tiles) == set(STATUS_ORDER)
    for status, html in tiles.items():
        prev = int((moved["status_prev"] == status).sum())
        came = moved[(moved["status_now"] == status) & (moved["direction"] != "same")]
        marks: dict[str, int] = {}
        for direction in came["direction"]:
            marks[fmt.direction_mark(direction)] = marks.get(fmt.direction_mark(direction), 0) + 1
        expected = f"上月 {prev}" + ("".join(f" · {' '.join(f'{k}{n}' for k, n in marks.items())}" if marks else ""))
        assert f">{expected}<" in html, (status, html)
        # the count is still the last bare number of the tile
        now = int((engine.card["status"] == status).sum())
        assert int(re.findall(r">\s*(\d+)\s*<", html)[-1]) == now


def test_each_row_of_the_scorecard_carries_its_arrow_and_open_actions(app_db: Path, engine: Engine) -> None:
    at = open_page("leader", "overview")
    shown = pd.concat([f for f in frames(at) if "目标" in f.columns], ignore_index=True).set_index("目标")
    assert list(shown.columns[:2]) == ["变化", "状态"]
    assert "督办" in shown.columns  # dashboard/action_views.py is installed this round
    for target_id, direction in zip(engine.moved["target_id"], engine.moved["direction"], strict=True):
        assert shown.at[engine.name(target_id), "变化"] == fmt.direction_mark(direction)


def test_the_print_view_lists_the_targets_needing_attention(app_db: Path, engine: Engine) -> None:
    at = open_page("leader", "print_view")
    assert_clean(at)
    # the print page's own HTML (app.py also draws dashboard/style.css as an html element)
    [page] = [h.value for h in at.get("html") if "@page" in h.value]
    assert "@page { size: A4 landscape" in page
    assert "2026年10月推进情况一页纸" in page
    card = engine.card.merge(engine.moved[["target_id", "direction"]], on="target_id")
    needing = card[card["status"].isin(["off_track", "overdue", "at_risk"]) | card["direction"].eq("worse")]
    assert f"需关注的目标（{len(needing)}项）" in page
    for name in needing["name_zh"]:
        assert f"<td>{name}</td>" in page.replace("&#34;", '"').replace("&#39;", "'")
    on_track = card[(card["status"] == "on_track") & card["direction"].ne("worse")]
    assert f"<td>{on_track['name_zh'].iloc[0]}</td>" not in page
    # off track first, in the status counts' order
    first = page.index(
        f"<td>{needing.sort_values('status', key=lambda s: s.map(fmt.ATTENTION_RANK))['name_zh'].iloc[0]}"
    )
    assert first < page.index("</tbody>")
    for status in STATUS_ORDER:
        assert fmt.status(status, "zh") in page
    assert f"新报数据 {engine.counts['new_figures']}" in page
    assert "<th>督办</th>" in page


def test_the_print_view_is_for_leaders_and_admins(app_db: Path) -> None:
    assert not page_table.may_open("reporter", "print") and not page_table.may_open("approver", "print")
    # the page file run on its own (as a fresh server's first request may) refuses a bureau reporter
    at = AppTest.from_file(str(ROOT / "pages" / "print_view.py"), default_timeout=60)
    _current["at"] = at
    now = dt.datetime.now()
    at.session_state["user_name"] = "housing"
    at.session_state["signed_in_at"] = now
    at.session_state["last_seen"] = now
    at.run()
    assert [e.value for e in at.error] == ["无权访问此页面。"]  # in the reader's language only
    assert not at.get("html")
    at = open_page("admin", "print_view", "en")
    assert_clean(at)
    [page] = [h.value for h in at.get("html") if "@page" in h.value]
    assert "Progress on one page, Oct 2026" in page
    assert i18n.t("print_attention", "en", n=0).split("(")[0] in page


def test_teachers_fall_behind_when_october_is_not_reported(app_db: Path, demo_db: Path, engine: Engine) -> None:
    """Checked by hand: teachers recruited in 2026 (年度目标1,700人), reported Jan–Sep, October missing.

    January to September sum to 123+128+131+105+148+131+148+122+135 = 1,171. The plan is 1,700 x 9/12 =
    1,275 in September and 1,700 x 10/12 = 1,416.7 in October; the at-risk line is 85% x 1,700 = 1,445.
    With no October figure the year's forecast drops below it (a missing month counts as nothing): at
    risk in September, off track in October, worse, and no new figure for October."""
    con = db.connect(demo_db, read_only=True)
    try:
        sums = con.execute(
            "select count(*), sum(value) from city_values where kpi_id = ? and period between ? and ?",
            ["teachers_recruited", dt.date(2026, 1, 1), AS_OF],
        ).fetchone()
        before = scorecard(con, SEPTEMBER, cfg=engine.cfg).set_index("target_id").loc["teachers_1700_yearly"]
    finally:
        con.close()
    assert sums == (9, 1171)
    now = engine.card.set_index("target_id").loc["teachers_1700_yearly"]
    assert (before["actual"], before["expected"]) == (1171, 1275)
    assert now["actual"] == 1171 and now["expected"] == pytest.approx(1700 * 10 / 12)
    assert now["forecast"] < 0.85 * 1700 <= before["forecast"]
    row = engine.moved.set_index("target_id").loc["teachers_1700_yearly"]
    assert (row["status_prev"], row["status_now"], row["direction"], row["new_figures"]) == (
        "at_risk",
        "off_track",
        "worse",
        0,
    )
    at = open_page("leader", "overview")
    [shown] = [t.value for t in at.table]
    line = shown.set_index("目标").loc[fmt.plain(engine.name("teachers_1700_yearly"))]
    assert (line["变化"], line["上月状态"], line["本月状态"]) == ("↓ 变差", "▲ 需关注", "▼ 明显滞后")
