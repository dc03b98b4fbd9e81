"""The briefing PDF's HTML (monitor/briefing/pdf.py + templates/briefing.html.j2), without a browser:
text from uploads is escaped, every page of the deck is there, in order."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest

from monitor import briefing, db
from monitor.targets import load_targets

TARGETS = ["rental_housing_15k", "policy_zone_online_done"]
MARKUP = '<img src=x onerror="alert(1)"> & 1<2'


@pytest.fixture(scope="module")
def data(demo_db: Path) -> briefing.BriefingData:
    con = db.connect(demo_db, read_only=True)
    try:
        collected = briefing.collect(con, load_targets(), "2026-10", targets=TARGETS)
    finally:
        con.close()
    # the full deck: a page for each target whatever its status (the default pack is tests/test_pack.py's)
    return dataclasses.replace(collected, generated_at=dt.datetime(2026, 11, 2, 9, 30), full=True)


def render(data: briefing.BriefingData) -> str:
    svgs = {key: b"<svg xmlns='http://www.w3.org/2000/svg'/>" for key in ["summary", *data.card["target_id"]]}
    return briefing.briefing_html(data, svgs)


def test_uploaded_text_is_escaped_never_markup(data: briefing.BriefingData) -> None:
    card = data.card.copy()
    card.loc[0, "reason_zh"] = MARKUP
    card.loc[1, "name_zh"] = MARKUP
    page = render(dataclasses.replace(data, card=card))
    assert MARKUP not in page and "<img src=x" not in page
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt; &amp; 1&lt;2" in page  # the reason and the name, as text


def test_one_page_per_slide_in_deck_order(data: briefing.BriefingData) -> None:
    page = render(data)
    assert page.count('<section class="slide') == len(TARGETS) + 3  # cover, summary, targets, missing reports
    positions = [page.index(data.card.at[i, "name_zh"] + "</h1>") for i in range(len(TARGETS))]
    assert positions == sorted(positions)
    assert '<div class="small">生成时间 2026-11-02 09:30</div>' in page  # the cover says when it was made
    assert page.count('src="data:image/svg+xml;base64,') == len(TARGETS) + 1  # every chart, inline
