"""Changes since last month (monitor.progress.changes) on hand-computed transitions.

A small warehouse loaded through the ETL (etl.load.load_bytes, with the submission dates given), so
revisions and review states are the real ones. Months: the chosen month is 2026-10 (AS_OF), the
previous one 2026-09; October's reporting window is November 2026.

    share_worse    cap ≤ 70%: 69, 68 (Sep), 71 (Oct)   on_track  -> off_track  worse    ↓  (August corrected)
    share_better   cap ≤ 70%: 68, 71 (Sep), 68 (Oct)   off_track -> on_track   better   ↑  (Sep corrected to 70 in Dec)
    portal_done    milestone: 0, 0 (Sep), 1 (Oct)      on_track  -> achieved   achieved ↑
    portal_same    milestone: 0, 0 (Sep), 0 (Oct)      on_track  -> on_track   same
    portal_new     milestone: only Oct 0               no_data   -> on_track   new      ★
    units_scope    cumulative units in dongsheng and kangbashi (dalad reports too, out of scope)
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import duckdb
import pytest

from etl.load import load_bytes
from monitor import db, fmt
from monitor.progress.changes import COLUMNS, changes, direction, reporting_window, totals
from monitor.targets import TargetsConfig, parse_targets

AS_OF = dt.date(2026, 10, 1)
DEADLINE = dt.date(2027, 12, 31)


def _kpi(kpi_id: str, unit: str, value_type: str, reporting: str, aggregation: str) -> dict[str, Any]:
    return {
        "id": kpi_id, "section": "测试", "name_zh": kpi_id, "name_en": kpi_id, "unit_zh": unit, "unit_en": unit,
        "value_type": value_type, "reporting": reporting, "aggregation": aggregation, "lead": "housing",
        "source": kpi_id,
    }  # fmt: skip


def _target(target_id: str, kpi: str, kind: str, comparator: str, value: float, **extra: Any) -> dict[str, Any]:
    return {
        "id": target_id, "kpi": kpi, "section": "测试", "name_zh": f"{target_id}目标", "name_en": target_id,
        "kind": kind, "comparator": comparator, "value": value, "deadline": DEADLINE, "source": target_id, **extra,
    }  # fmt: skip


CONFIG: dict[str, Any] = {
    "version": 1,
    "policy": {"title": "测试", "issued": dt.date(2024, 7, 15), "start": dt.date(2024, 7, 1)},
    "reporting": {"due_day": 10, "max_upload_mb": 20},
    "bureaus": [{"id": "housing", "name_zh": "市住房和城乡建设局", "name_en": "Housing"}],
    "districts": [
        {"id": "city", "name_zh": "全市", "name_en": "Whole city", "kind": "city"},
        {"id": "dongsheng", "name_zh": "东胜区", "name_en": "Dongsheng", "kind": "district"},
        {"id": "kangbashi", "name_zh": "康巴什区", "name_en": "Kangbashi", "kind": "district"},
        {"id": "dalad", "name_zh": "达拉特旗", "name_en": "Dalad Banner", "kind": "banner"},
    ],
    "kpis": [
        _kpi("share_a", "%", "ratio", "level", "city"),
        _kpi("share_b", "%", "ratio", "level", "city"),
        _kpi("flag_c", "是否完成", "flag", "level", "city"),
        _kpi("flag_d", "是否完成", "flag", "level", "city"),
        _kpi("flag_e", "是否完成", "flag", "level", "city"),
        _kpi("units", "套", "count", "increment", "sum"),
    ],
    "targets": [
        _target("share_worse", "share_a", "cap", "<=", 70),
        _target("share_better", "share_b", "cap", "<=", 70),
        _target("portal_done", "flag_c", "milestone", ">=", 1),
        _target("portal_same", "flag_d", "milestone", ">=", 1),
        _target("portal_new", "flag_e", "milestone", ">=", 1),
        _target(
            "units_scope",
            "units",
            "cumulative",
            ">=",
            1000,
            scope=["dongsheng", "kangbashi"],
            baseline={"value": 0, "date": dt.date(2024, 7, 1)},
        ),
    ],
}

HEADER = "指标编码,旗区,报送期,数值,备注\n"
NAMES = {"city": "全市", "dongsheng": "东胜区", "kangbashi": "康巴什区", "dalad": "达拉特旗"}


@pytest.fixture
def cfg() -> TargetsConfig:
    return parse_targets(CONFIG)


@pytest.fixture
def con(tmp_path: Path, cfg: TargetsConfig) -> duckdb.DuckDBPyConnection:
    connection = db.connect(tmp_path / "w.duckdb")
    db.load_reference(connection, cfg)
    yield connection
    connection.close()


def report(
    con: duckdb.DuckDBPyConnection,
    cfg: TargetsConfig,
    rows: list[tuple[str, str, str, float]],
    submitted: str,
    review_status: str = "approved",
) -> None:
    """One submission of the housing bureau, (kpi, district, YYYY-MM, value) rows, sent on `submitted`."""
    when = dt.datetime.fromisoformat(submitted)
    text = HEADER + "".join(f"{k},{NAMES[d]},{p},{v:g},\n" for k, d, p, v in rows)
    name = f"housing_{when:%Y%m%d%H%M%S}.csv"
    result = load_bytes(
        name, text.encode("utf-8"), cfg, "housing", "zhang_san", con, archive=None, today=when.date(),
        submitted_at=when, review_status=review_status,
    )  # fmt: skip
    assert result.ok, [p.zh() for p in result.problems]


def month_report(month: str, share_a: float, share_b: float, flags: dict[str, float], units: int) -> list:
    rows = [("share_a", "city", month, share_a), ("share_b", "city", month, share_b)]
    rows += [(kpi, "city", month, value) for kpi, value in flags.items()]
    rows += [("units", d, month, units) for d in ("dongsheng", "kangbashi", "dalad")]
    return rows


@pytest.fixture
def loaded(con: duckdb.DuckDBPyConnection, cfg: TargetsConfig) -> duckdb.DuckDBPyConnection:
    report(con, cfg, month_report("2026-08", 68, 68, {"flag_c": 0, "flag_d": 0}, 30), "2026-09-05T10:00")
    report(con, cfg, month_report("2026-09", 68, 71, {"flag_c": 0, "flag_d": 0}, 30), "2026-10-08T10:00")
    # in September's window: a correction of August, counted for September, not for October
    report(con, cfg, [("share_a", "city", "2026-08", 69)], "2026-10-20T10:00")
    report(con, cfg, month_report("2026-10", 71, 68, {"flag_c": 1, "flag_d": 0, "flag_e": 0}, 30), "2026-11-06T10:00")
    # in October's window: August and September corrected (dongsheng, and dalad outside the scope) ...
    fixes = [
        ("units", "dongsheng", "2026-08", 31),
        ("units", "dongsheng", "2026-09", 32),
        ("units", "dalad", "2026-09", 5),
    ]
    report(con, cfg, fixes, "2026-11-12T10:00")
    # ... August's share corrected twice (one figure revised), October's own figure corrected (new, not a revision)
    report(con, cfg, [("share_a", "city", "2026-08", 70), ("units", "kangbashi", "2026-10", 33)], "2026-11-15T10:00")
    report(con, cfg, [("share_a", "city", "2026-08", 69)], "2026-11-16T10:00")
    # not counted: a correction still pending review, and one made after the window (December)
    report(con, cfg, [("units", "kangbashi", "2026-09", 40)], "2026-11-20T10:00", review_status="pending")
    report(con, cfg, [("share_b", "city", "2026-09", 70)], "2026-12-02T10:00")
    return con


def rows_moved(frame: Any) -> dict[str, str]:
    return {t: d for t, d in zip(frame["target_id"], frame["direction"], strict=True) if d != "same"}


def by_target(frame: Any) -> dict[str, dict[str, Any]]:
    return frame.set_index("target_id").to_dict("index")


def test_each_transition_gets_its_direction_and_mark(loaded: duckdb.DuckDBPyConnection, cfg: TargetsConfig) -> None:
    frame = changes(loaded, AS_OF, cfg)
    assert list(frame.columns) == list(COLUMNS)
    assert list(frame["target_id"]) == [t.id for t in cfg.targets]  # targets.yaml order
    rows = by_target(frame)
    moves = {t: (r["status_prev"], r["status_now"], r["direction"]) for t, r in rows.items() if t != "units_scope"}
    assert moves == {
        "share_worse": ("on_track", "off_track", "worse"),  # 71% is over the 70% cap
        "share_better": ("off_track", "on_track", "better"),  # back to 68%, the trend flat
        "portal_done": ("on_track", "achieved", "achieved"),
        "portal_same": ("on_track", "on_track", "same"),
        "portal_new": ("no_data", "on_track", "new"),
    }
    marks = {t: fmt.direction_mark(r["direction"]) for t, r in rows.items() if t != "units_scope"}
    assert marks == {"share_worse": "↓", "share_better": "↑", "portal_done": "↑", "portal_same": "", "portal_new": "★"}
    assert fmt.direction_text("worse", "zh") == "↓ 变差"
    assert fmt.direction_text("achieved", "en") == "↑ newly achieved"
    assert fmt.direction_text("same", "zh") == ""
    # progress of a cap is the actual over the cap; of a milestone 0 or 1
    assert rows["share_worse"]["progress_prev"] == pytest.approx(68 / 70)
    assert rows["share_worse"]["progress_now"] == pytest.approx(71 / 70)
    assert (rows["portal_done"]["progress_prev"], rows["portal_done"]["progress_now"]) == (0, 1)
    # both months are judged on the figures as they stand now: September's 71% was corrected to 70% in
    # December, still off track (68 -> 70 climbs towards the cap), so last month reads 100% of the cap
    assert rows["share_better"]["progress_prev"] == pytest.approx(1.0)


def test_new_figures_are_october_figures_in_the_target_scope(
    loaded: duckdb.DuckDBPyConnection, cfg: TargetsConfig
) -> None:
    rows = by_target(changes(loaded, AS_OF, cfg))
    new = {t: r["new_figures"] for t, r in rows.items()}
    # the city row of each city KPI; units: dongsheng and kangbashi (kangbashi's October corrected, still one figure)
    assert new == {
        "share_worse": 1, "share_better": 1, "portal_done": 1, "portal_same": 1, "portal_new": 1, "units_scope": 2,
    }  # fmt: skip


def test_revisions_are_earlier_months_corrected_in_novembers_approved_submissions(
    loaded: duckdb.DuckDBPyConnection, cfg: TargetsConfig
) -> None:
    assert reporting_window(AS_OF) == (dt.date(2026, 11, 1), dt.date(2026, 12, 1))
    rows = by_target(changes(loaded, AS_OF, cfg))
    revised = {t: r["revisions"] for t, r in rows.items()}
    # share_a: August corrected twice in November = one figure; units: dongsheng August and September
    # (dalad is out of scope, kangbashi's September still pending, share_b's December correction later)
    assert revised == {
        "share_worse": 1, "share_better": 0, "portal_done": 0, "portal_same": 0, "portal_new": 0, "units_scope": 2,
    }  # fmt: skip
    # September's own window (October) holds the first correction of August's share
    september = by_target(changes(loaded, dt.date(2026, 9, 1), cfg))
    assert september["share_worse"]["revisions"] == 1
    assert september["units_scope"]["revisions"] == 0


def test_totals_count_targets_moved_and_each_figure_once(loaded: duckdb.DuckDBPyConnection, cfg: TargetsConfig) -> None:
    frame = changes(loaded, AS_OF, cfg)
    counts = totals(loaded, AS_OF, cfg, frame)
    assert rows_moved(frame) == {"share_worse": "worse", "share_better": "better", "portal_done": "achieved",
                                 "portal_new": "new"}  # fmt: skip
    # new: 5 city rows + units of dongsheng and kangbashi; revised: share_a August, units dongsheng Aug and Sep
    assert counts == {"worse": 1, "better": 1, "achieved": 1, "new_figures": 7, "revisions": 3}


def test_a_figure_serving_two_targets_is_counted_once_in_the_totals(
    con: duckdb.DuckDBPyConnection,
) -> None:
    both = dict(CONFIG, targets=[*CONFIG["targets"], _target("share_worse_2", "share_a", "cap", "<=", 75)])
    cfg = parse_targets(both)
    db.load_reference(con, cfg)
    report(con, cfg, month_report("2026-10", 71, 68, {}, 30), "2026-11-06T10:00")
    frame = changes(con, AS_OF, cfg)
    rows = by_target(frame)
    assert rows["share_worse"]["new_figures"] == rows["share_worse_2"]["new_figures"] == 1
    # share_a, share_b, units in dongsheng and kangbashi: 4 figures (dalad serves no target)
    assert totals(con, AS_OF, cfg, frame)["new_figures"] == 4


def test_direction_follows_the_attention_order() -> None:
    assert direction("on_track", "at_risk") == "worse"
    assert direction("overdue", "off_track") == "worse"  # off_track is listed first (worst)
    assert direction("at_risk", "on_track") == "better"
    assert direction("on_track", "no_data") == "worse"  # figures stopped
    assert direction("overdue", "no_data") == "worse"  # a silent bureau is never "better"
    assert direction("off_track", "no_data") == "worse"
    assert direction("off_track", "achieved") == "achieved"
    assert direction(None, "off_track") == "new"
    assert direction("no_data", "no_data") == "same"


def test_an_empty_warehouse_has_no_transitions_of_figures(con: duckdb.DuckDBPyConnection, cfg: TargetsConfig) -> None:
    frame = changes(con, AS_OF, cfg)
    assert set(frame["direction"]) == {"same"}  # no_data both months
    assert frame["new_figures"].sum() == 0 and frame["revisions"].sum() == 0
