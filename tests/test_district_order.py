"""Every list of districts that is not a ranking follows the official order (issue 16): 东胜区, 康巴什区,
达拉特旗, 准格尔旗, 鄂托克前旗, 鄂托克旗, 杭锦旗, 乌审旗, 伊金霍洛旗, 高新区 (monitor.targets.DISTRICT_ORDER).

The heat map's columns used to come out in pivot_table's sort order (by name: 东胜区, 乌审旗, 伊金霍洛旗,
…), and the detail page's district bars in id order (dalad, dongsheng, ejin_horo, …)."""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from monitor import charts, db, progress, queries, target_settings
from monitor.targets import DEFAULT_TARGETS, DISTRICT_ORDER, TargetsError, in_district_order, load_targets

OFFICIAL_ZH = [
    "东胜区",
    "康巴什区",
    "达拉特旗",
    "准格尔旗",
    "鄂托克前旗",
    "鄂托克旗",
    "杭锦旗",
    "乌审旗",
    "伊金霍洛旗",
    "高新区",
]
OFFICIAL_EN = [
    "Dongsheng", "Kangbashi", "Dalad Banner", "Jungar Banner", "Otog Front Banner", "Otog Banner", "Hanggin Banner",
    "Uxin Banner", "Ejin Horo Banner", "Ordos High-tech Zone",
]  # fmt: skip
AS_OF = dt.date(2026, 10, 1)


def test_the_order_constant_names_the_official_order() -> None:
    cfg = load_targets()
    assert [cfg.district_by_id[d].name_zh for d in DISTRICT_ORDER] == OFFICIAL_ZH
    assert [d.name_zh for d in cfg.reporting_districts()] == OFFICIAL_ZH


def test_unknown_and_city_ids_sort_around_the_official_order() -> None:
    assert in_district_order(["gaoxin", "nowhere", "uxin", "city", "dongsheng"]) == [
        "city", "dongsheng", "uxin", "gaoxin", "nowhere",
    ]  # fmt: skip


def test_targets_yaml_with_districts_out_of_order_is_refused(tmp_path: Path) -> None:
    raw: dict[str, Any] = yaml.safe_load(DEFAULT_TARGETS.read_text(encoding="utf-8"))
    swapped = copy.deepcopy(raw)
    districts = swapped["districts"]
    districts[1], districts[3] = districts[3], districts[1]  # 达拉特旗 before 东胜区
    path = tmp_path / "targets.yaml"
    path.write_text(yaml.safe_dump(swapped, allow_unicode=True, sort_keys=False), encoding="utf-8")
    with pytest.raises(TargetsError) as raised:
        load_targets(path)
    assert "districts: 旗区顺序应为官方顺序 / districts must follow the official order (DISTRICT_ORDER)" in str(
        raised.value
    )


@pytest.mark.parametrize(("lang", "names"), [("zh", OFFICIAL_ZH), ("en", OFFICIAL_EN)])
def test_heat_map_columns_follow_the_official_order_and_rows_the_frame(lang: str, names: list[str]) -> None:
    """Rows in a shuffled order, names that sort differently by character: the columns still come out
    official, the targets in the order the frame lists them (the policy's), the first on top."""
    cfg = load_targets()
    rows = []
    shuffled = ["uxin", "gaoxin", "dongsheng", "otog", "ejin_horo", "dalad", "kangbashi", "hanggin", "jungar",
                "otog_front"]  # fmt: skip
    for target, progress_share in (("乙目标", 0.5), ("甲目标", 0.9)):
        for district_id in shuffled:
            district = cfg.district_by_id[district_id]
            rows.append(
                {"target": target, "district_id": district_id, "district": getattr(district, f"name_{lang}"),
                 "progress": progress_share}
            )  # fmt: skip
    rows.append({"target": "乙目标", "district_id": "scope", "district": None, "progress": 0.7})  # a scope sum
    fig = charts.heatmap(pd.DataFrame(rows), lang, "各旗区目标完成进度")  # type: ignore[arg-type]
    heat = fig.data[0]
    assert list(heat.x) == names
    assert list(heat.y) == ["乙目标", "甲目标"]
    assert fig.layout.yaxis.autorange == "reversed"  # 乙目标, the frame's first, at the top
    assert list(fig.layout.xaxis.tickvals) == names  # every district labelled, none dropped for space


def test_target_district_rows_and_bars_follow_the_official_order(demo_db: Path) -> None:
    """The target detail's district table (the all-units scorecard's rows of a target), the workbook's
    分旗区 sheet (the same rows), the district bars (queries.unit_series) and the quota form
    (target_settings.cfg_scope) list the districts officially."""
    cfg = load_targets()
    con = db.connect(demo_db, read_only=True)
    try:
        units = progress.scorecard(con, AS_OF, cfg=cfg, all_units=True)
        rows = units[units["target_id"] == "rental_housing_15k"]
        assert list(rows["district_id"]) == ["city", *DISTRICT_ORDER]
        kpi = str(rows["kpi_id"].iloc[0])
        series = queries.unit_series(con, kpi, AS_OF)
        assert list(dict.fromkeys(series["district_id"])) == ["city", *DISTRICT_ORDER]
    finally:
        con.close()
    core = next(t for t in cfg.targets if t.id == "rental_housing_9500_core")
    assert target_settings.cfg_scope(core, cfg) == ["dongsheng", "kangbashi", "ejin_horo", "gaoxin"]
    whole = next(t for t in cfg.targets if t.id == "rental_housing_15k")
    assert target_settings.cfg_scope(whole, cfg) == list(DISTRICT_ORDER)
