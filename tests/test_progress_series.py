"""A target's chart shows the figure the scorecard judges: for every target of the real targets.yaml
(every kind and reporting rule) and every month it was reported, the chart's ``actual`` at that month
equals the scorecard's ``actual`` as of that month, for the aggregate and for a district."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from monitor import db, progress
from tests.conftest import DEMO_AS_OF

DISTRICT = "dongsheng"


@pytest.fixture(scope="module")
def demo(demo_db: Path) -> duckdb.DuckDBPyConnection:
    con = db.connect(demo_db, read_only=True)
    yield con
    con.close()


def _judged_each_month(con: duckdb.DuckDBPyConnection, district: str | None) -> pd.DataFrame:
    """The scorecard's judged figure of every target as of every month it was reported in."""
    cards = []
    for month in pd.date_range("2024-07-01", DEMO_AS_OF, freq="MS"):
        card = progress.scorecard(con, month.date(), district=district)
        cards.append(card[card["latest_period"] == month.date()])
    judged = pd.concat(cards)
    years = dict(con.execute("select target_id, [year(start_date), year(deadline)] from targets").fetchall())
    # an annual target is judged on one calendar year within its start..deadline: before and after
    # those years the scorecard judges its first or last year, the chart the month's own year
    within = [
        years[t][0] <= month.year <= years[t][1] for t, month in zip(judged["target_id"], judged["as_of"], strict=True)
    ]
    return judged[within]


@pytest.mark.parametrize(
    ("district", "kinds"),
    [(None, {"cumulative", "annual", "stock", "milestone"}), (DISTRICT, {"cumulative", "annual", "stock"})],
    ids=["aggregate", "district"],
)
def test_chart_actual_is_the_scorecards_judged_figure_of_each_month(
    demo: duckdb.DuckDBPyConnection, district: str | None, kinds: set[str]
) -> None:
    judged = _judged_each_month(demo, district)
    assert kinds <= set(judged["kind"]), set(judged["kind"])  # every rule is exercised
    assert len(judged) > 300
    compared = 0
    for target_id, rows in judged.groupby("target_id"):
        chart = progress.series(demo, str(target_id), DEMO_AS_OF, district=district).set_index("period")
        for as_of, actual in zip(rows["as_of"], rows["actual"], strict=True):
            assert chart.loc[as_of, "actual"] == pytest.approx(actual, rel=1e-12, abs=1e-9), (target_id, as_of)
            compared += 1
    assert compared == len(judged)


def test_chart_sums_the_same_districts_as_the_scorecard(demo: duckdb.DuckDBPyConnection) -> None:
    """A target scoped to the whole city is the sum of every district: its chart at as_of is the sum of
    the districts' charts, and the scorecard's aggregate is that same sum."""
    card = progress.scorecard(demo, DEMO_AS_OF, all_units=True)
    aggregate = card[card["is_aggregate"] & (card["kind"] == "cumulative") & card["actual"].notna()]
    summed = aggregate[aggregate["district_id"] == "city"].iloc[0]
    districts = card[(card["target_id"] == summed["target_id"]) & ~card["is_aggregate"]]
    assert len(districts) > 1
    total = sum(
        progress.series(demo, summed["target_id"], DEMO_AS_OF, district=d)
        .set_index("period")["actual"]
        .dropna()
        .iloc[-1]
        for d in districts["district_id"]
    )
    assert total == pytest.approx(summed["actual"])
    assert summed["actual"] == pytest.approx(districts["actual"].sum())


def test_unknown_target_is_a_key_error_naming_it(demo: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(KeyError, match="no_such_target"):
        progress.series(demo, "no_such_target", dt.date(2026, 10, 1))
