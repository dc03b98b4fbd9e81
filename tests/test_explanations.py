"""情况说明 and 备注 (issue 14): the notes a bureau writes beside its figures are stored with the
submission (csv and xlsx), a note over 500 characters is refused like any other cell; explanations
follow their rules (who, how long, not empty, append-only, required when behind), and reach the
briefing's workbook and deck.

All on the small config of conftest (housing leads rental_15k and talent_apartments_5k).
"""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from PIL import Image
from pptx import Presentation

from etl.load import load_bytes
from monitor import briefing, db, explanations, progress
from monitor.auth import User
from monitor.briefing.model import ChartFile
from monitor.explanations import ExplanationError
from monitor.targets import TargetsConfig
from tests.conftest import TODAY, Warehouse

HEADER = "指标编码,旗区,报送期,数值,备注"
HOUSING = "市住房和城乡建设局"
AS_OF = dt.date(2025, 6, 1)

REPORTER = User("zhang", "张三", "reporter", "housing", True)
OTHER_REPORTER = User("li", "李四", "reporter", "transport", True)
APPROVER = User("wang", "王五", "approver", "housing", True)
LEADER = User("boss", "领导", "leader", None, True)
ADMIN = User("admin", "管理员", "admin", None, True)


def csv_report(*rows: str) -> bytes:
    return ("\n".join([HEADER, *rows]) + "\n").encode("utf-8")


def load(warehouse: Warehouse, cfg: TargetsConfig, name: str, data: bytes, **kwargs: object):
    return load_bytes(name, data, cfg, "housing", "zhang", warehouse.con, archive=None, today=TODAY, **kwargs)  # type: ignore[arg-type]


def notes(warehouse: Warehouse) -> list[tuple]:
    return warehouse.con.execute(
        "select submission_id, kpi_id, district_id, period, note from observation_notes order by all"
    ).fetchall()


def behind_on_rental(warehouse: Warehouse, cfg: TargetsConfig) -> None:
    """100 units a month in 东胜区 from 2025-01 to 2025-06 (600 in all), the June figure with a note."""
    rows = [f"rental_housing_units,东胜区,2025-{m:02d},100," for m in range(1, 6)]
    rows.append("rental_housing_units,东胜区,2025-06,100,6月新开工2个项目")
    assert load(warehouse, cfg, "rental.csv", csv_report(*rows)).outcome == "accepted"


# -- 备注 ---------------------------------------------------------------------------------------------------


def test_a_csv_note_is_stored_with_its_figure_and_submission(warehouse: Warehouse, cfg: TargetsConfig) -> None:
    result = load(
        warehouse,
        cfg,
        "notes.csv",
        csv_report(
            "rental_housing_units,东胜区,2025-03,120,  含2月漏报的1个项目  ",
            "rental_housing_units,康巴什区,2025-03,80,",
            "rental_housing_units,达拉特旗,2025-03,,只有备注没有数值",  # not reported: nothing stored
        ),
    )
    assert result.outcome == "accepted" and result.rows_loaded == 2
    # one row per loaded figure with a note, trimmed, under the submission's id
    assert notes(warehouse) == [
        (result.submission_id, "rental_housing_units", "dongsheng", dt.date(2025, 3, 1), "含2月漏报的1个项目")
    ]
    shown = explanations.figure_notes(warehouse.con, ["rental_housing_units"], "2025-03")
    assert shown[["district_id", "note"]].values.tolist() == [["dongsheng", "含2月漏报的1个项目"]]


def test_a_note_is_text_never_parsed(warehouse: Warehouse, cfg: TargetsConfig) -> None:
    typed = "=SUM(A1) 1.5万 **粗体** [链接](http://x)"
    result = load(warehouse, cfg, "text.csv", csv_report(f'rental_housing_units,东胜区,2025-03,120,"{typed}"'))
    assert result.outcome == "accepted"
    assert [row[-1] for row in notes(warehouse)] == [typed]


def test_an_xlsx_note_column_is_stored(warehouse: Warehouse, cfg: TargetsConfig) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["指标编码", "旗区", "报送期", "数值", "备注"])
    sheet.append(["rental_housing_units", "东胜区", "2025-04", 90, "4月数据经区住建局复核"])
    sheet.append(["rental_housing_units", "乌审旗", "2025-04", 30, None])
    buffer = io.BytesIO()
    book.save(buffer)
    result = load(warehouse, cfg, "housing.xlsx", buffer.getvalue())
    assert result.outcome == "accepted", [p.zh() for p in result.problems]
    assert notes(warehouse) == [
        (result.submission_id, "rental_housing_units", "dongsheng", dt.date(2025, 4, 1), "4月数据经区住建局复核")
    ]


def test_a_dry_run_returns_the_notes_in_typed_rows(warehouse: Warehouse, cfg: TargetsConfig) -> None:
    data = csv_report("rental_housing_units,东胜区,2025-03,120,含漏报项目", "rental_housing_units,康巴什区,2025-03,80,")
    preview = load(warehouse, cfg, "preview.csv", data, dry_run=True)
    assert preview.outcome == "checked"
    assert preview.typed_rows is not None
    assert preview.typed_rows[["row", "note"]].values.tolist() == [[2, "含漏报项目"], [3, ""]]
    assert notes(warehouse) == []  # a dry run writes nothing


def test_a_file_without_a_note_column_has_empty_notes(warehouse: Warehouse, cfg: TargetsConfig) -> None:
    data = "指标编码,旗区,报送期,数值\nrental_housing_units,东胜区,2025-03,120\n".encode()
    preview = load(warehouse, cfg, "plain.csv", data, dry_run=True)
    assert preview.typed_rows is not None and preview.typed_rows["note"].tolist() == [""]
    assert load(warehouse, cfg, "plain.csv", data).outcome == "accepted"
    assert notes(warehouse) == []


def test_a_501_character_note_is_refused_with_its_row_and_column(
    warehouse: Warehouse, cfg: TargetsConfig, snapshot
) -> None:
    before = snapshot(warehouse.con)
    result = load(
        warehouse,
        cfg,
        "long.csv",
        csv_report(
            "rental_housing_units,东胜区,2025-03,120," + "注" * 500,
            "rental_housing_units,康巴什区,2025-03,80," + "长" * 501,
        ),
    )
    assert result.outcome == "rejected"
    [problem] = result.problems
    assert (problem.row, problem.column) == (3, "E（备注）")
    assert problem.reason_zh == "备注不能超过500个字符（当前501个字符）"
    assert problem.zh().startswith("long.csv 第3行 E列（备注） 值“长")
    after = snapshot(warehouse.con)
    # no figure and no note: only the rejected submission and its row are recorded
    assert after["observations"] == before["observations"] and after["current"] == before["current"]
    assert notes(warehouse) == []
    assert (after["rejected"], after["rejected_rows"]) == (before["rejected"] + 1, before["rejected_rows"] + 1)


# -- explanation rules ---------------------------------------------------------------------------------


def saved(warehouse: Warehouse, cfg: TargetsConfig, user: User = REPORTER, month: str = "2025-06", **texts: str) -> int:
    words = {"progress_text": "已开工6个项目", "problems": "", "next_steps": ""} | texts
    return explanations.save(
        warehouse.con, cfg, user, "rental_15k", month, words["progress_text"], words["problems"], words["next_steps"]
    )


@pytest.mark.parametrize("user", [OTHER_REPORTER, APPROVER, LEADER], ids=["other bureau", "approver", "leader"])
def test_only_the_lead_bureaus_reporters_and_admins_write(warehouse: Warehouse, cfg: TargetsConfig, user: User) -> None:
    with pytest.raises(ExplanationError) as refused:
        saved(warehouse, cfg, user)
    assert refused.value.text("zh") == f"只有{HOUSING}的填报人员或管理员可以填写该目标的情况说明"
    assert db.scalar(warehouse.con, "select count(*) from explanations") == 0
    assert saved(warehouse, cfg, REPORTER) > 0 and saved(warehouse, cfg, ADMIN) > 0


def test_a_disabled_reporter_cannot_write(warehouse: Warehouse, cfg: TargetsConfig) -> None:
    with pytest.raises(ExplanationError):
        saved(warehouse, cfg, User("zhang", "张三", "reporter", "housing", False))


@pytest.mark.parametrize("field", ["progress_text", "problems", "next_steps"])
def test_each_text_is_at_most_500_characters(warehouse: Warehouse, cfg: TargetsConfig, field: str) -> None:
    label = {"progress_text": "进展情况", "problems": "存在问题", "next_steps": "下步措施"}[field]
    with pytest.raises(ExplanationError) as refused:
        saved(warehouse, cfg, **{field: "字" * 501})
    assert refused.value.text("zh") == f"{label}不能超过500个字符（当前501个字符）"
    saved(warehouse, cfg, **{field: "字" * 500})
    stored = explanations.latest(warehouse.con, ["rental_15k"], "2025-06")
    column = "progress" if field == "progress_text" else field
    assert len(stored.at[0, column]) == 500


def test_all_three_texts_empty_is_refused(warehouse: Warehouse, cfg: TargetsConfig) -> None:
    with pytest.raises(ExplanationError) as refused:
        saved(warehouse, cfg, progress_text="  ", problems="\n", next_steps="")
    assert refused.value.text("zh") == "请至少填写进展情况、存在问题、下步措施中的一项"


def test_explanations_are_append_only_and_the_newest_of_a_month_is_in_force(
    warehouse: Warehouse, cfg: TargetsConfig
) -> None:
    first = saved(warehouse, cfg, month="2025-05", progress_text="5月：完成选址")
    second = saved(warehouse, cfg, month="2025-06", progress_text="6月初稿")
    third = saved(warehouse, cfg, month="2025-06", progress_text="6月定稿", problems="资金未到位", next_steps="7月开工")
    assert first < second < third  # the id is the version
    assert db.scalar(warehouse.con, "select count(*) from explanations") == 3  # nothing overwritten

    june = explanations.latest(warehouse.con, ["rental_15k", "talent_apartments_5k"], "2025-06")
    assert june[
        ["target_id", "explanation_id", "progress", "problems", "next_steps", "bureau_id", "user_name"]
    ].values.tolist() == [["rental_15k", third, "6月定稿", "资金未到位", "7月开工", "housing", "zhang"]]
    # a month without its own explanation gets the newest before it; none before the first
    assert explanations.latest(warehouse.con, ["rental_15k"], "2025-09")["explanation_id"].tolist() == [third]
    assert explanations.latest(warehouse.con, ["rental_15k"], "2025-05")["progress"].tolist() == ["5月：完成选址"]
    assert explanations.latest(warehouse.con, ["rental_15k"], "2025-04").empty

    history = explanations.history(warehouse.con, "rental_15k")
    assert [(d.date(), p, v) for d, p, v in history[["period", "progress", "versions"]].itertuples(index=False)] == [
        (dt.date(2025, 6, 1), "6月定稿", 2),
        (dt.date(2025, 5, 1), "5月：完成选址", 1),
    ]
    audited = warehouse.con.execute(
        "select user_name, json_extract_string(detail, '$.target') from audit_log where action = 'explanation_save'"
    ).fetchall()
    assert audited == [("zhang", "rental_15k")] * 3


def test_a_month_not_yet_begun_is_refused(warehouse: Warehouse, cfg: TargetsConfig) -> None:
    upcoming = (dt.date.today().replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    with pytest.raises(ExplanationError) as refused:
        saved(warehouse, cfg, month=upcoming.isoformat())
    assert "不能填写情况说明" in refused.value.text("zh")


def test_an_off_track_target_requires_an_explanation_for_its_month(warehouse: Warehouse, cfg: TargetsConfig) -> None:
    behind_on_rental(warehouse, cfg)
    # hand-computed: 600 units by June 2025 at 100 a month; the trend reaches about 600 + 100 x 25.5 = 3,150
    # by the deadline (July 2027), 21% of the way from 0 to 15,000 (< 85%): off track. The other housing
    # target (talent apartments) has no figure: no_data, nothing required.
    card = progress.scorecard(warehouse.con, AS_OF, cfg=cfg).set_index("target_id")
    assert card.at["rental_15k", "actual"] == 600
    assert card.at["rental_15k", "status"] == "off_track"
    assert card.at["talent_apartments_5k", "status"] == "no_data"

    required = explanations.required(warehouse.con, cfg, "housing", AS_OF)
    assert [(r.target_id, r.status) for r in required] == [("rental_15k", "off_track")]
    assert explanations.required(warehouse.con, cfg, "transport", AS_OF) == []  # another bureau's targets

    saved(warehouse, cfg, month="2025-05")  # last month's explanation does not answer for June
    assert [r.target_id for r in explanations.required(warehouse.con, cfg, "housing", AS_OF)] == ["rental_15k"]
    saved(warehouse, cfg, month="2025-06")
    assert explanations.required(warehouse.con, cfg, "housing", AS_OF) == []


# -- the briefing: workbook sheet and the target's slide ---------------------------------------------------


@pytest.fixture
def collected(warehouse: Warehouse, cfg: TargetsConfig) -> briefing.BriefingData:
    behind_on_rental(warehouse, cfg)
    saved(
        warehouse,
        cfg,
        month="2025-06",
        progress_text="6月新开工2个项目",
        problems="用地指标紧张",
        next_steps="7月协调用地",
    )
    # the full deck: a slide for every target, whatever its status (issue 15's default pack has fewer)
    return briefing.collect(warehouse.con, cfg, "2025-06", targets=["rental_15k", "talent_apartments_5k"], full=True)


def test_the_workbook_has_an_explanations_sheet_and_figure_notes(
    collected: briefing.BriefingData, tmp_path: Path
) -> None:
    path = briefing.write_workbook(
        tmp_path / "b.xlsx", collected.card, collected.units, collected.reporting,
        bureau_names=collected.bureau_names, district_names=collected.district_names, as_of=collected.as_of,
    )  # fmt: skip
    book = openpyxl.load_workbook(path)
    sheet = book["情况说明"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("目标", "月份", "进展情况", "存在问题", "下步措施", "牵头单位", "填写人", "保存时间", "目标编码")
    [row] = rows[1:]  # talent apartments has no explanation
    assert row[:7] == (
        "三年内筹建保障性租赁住房1.5万套以上",
        "2025年6月",
        "6月新开工2个项目",
        "用地指标紧张",
        "7月协调用地",
        HOUSING,
        "zhang",
    )
    assert dt.datetime.strptime(row[7], "%Y-%m-%d %H:%M").date() == dt.date.today()
    assert row[8] == "rental_15k"

    districts = list(book["分旗区"].iter_rows(values_only=True))
    header = districts[0]
    assert header[-1] == "备注"
    by_district = {(r[header.index("目标编码")], r[header.index("旗区编码")]): r[-1] for r in districts[1:]}
    assert by_district[("rental_15k", "dongsheng")] == "6月新开工2个项目"
    assert by_district[("rental_15k", "kangbashi")] in ("", None)


def _charts(tmp_path: Path, keys: list[str]) -> dict[str, ChartFile]:
    png = tmp_path / "chart.png"
    Image.new("RGB", (1600, 900), "white").save(png)
    return {key: ChartFile(key, key, png, png) for key in keys}


def test_the_targets_slide_carries_the_explanation(collected: briefing.BriefingData, tmp_path: Path) -> None:
    charts = _charts(tmp_path, ["summary", *collected.card["target_id"]])
    deck = Presentation(str(briefing.write_deck(collected, charts, tmp_path / "b.pptx")))
    slides = list(deck.slides)[2:4]  # after the cover and the summary, in card order
    order = list(collected.card["target_id"])
    rental = slides[order.index("rental_15k")]
    boxes = [s.text_frame.text for s in rental.shapes if s.has_text_frame]
    assert (
        "情况说明（2025年6月） · 市住房和城乡建设局\n"
        "进展情况：6月新开工2个项目\n存在问题：用地指标紧张\n下步措施：7月协调用地" in boxes
    )
    other = slides[order.index("talent_apartments_5k")]
    assert not any("情况说明" in s.text_frame.text for s in other.shapes if s.has_text_frame)


def test_a_long_explanation_is_cut_to_a_line_on_the_slide() -> None:
    row = {
        "expl_period": pd.Timestamp("2025-06-01"),
        "expl_progress": "进" * 80,
        "expl_problems": "",
        "expl_next_steps": None,
    }
    lines = explanations.briefing_lines(row, "zh", HOUSING, 56)
    assert lines == ["情况说明（2025年6月） · 市住房和城乡建设局", "进展情况：" + "进" * 55 + "…"]


def test_the_pdf_page_carries_the_explanation_as_text(warehouse: Warehouse, cfg: TargetsConfig) -> None:
    behind_on_rental(warehouse, cfg)
    saved(warehouse, cfg, month="2025-06", progress_text="<b>6月</b> & [开工](http://x)")
    data = briefing.collect(warehouse.con, cfg, "2025-06", targets=["rental_15k"], full=True)
    svgs = {key: b"<svg xmlns='http://www.w3.org/2000/svg'/>" for key in ["summary", "rental_15k"]}
    page = briefing.briefing_html(data, svgs)
    assert '<img class="chart short"' in page  # the chart gives room to the text below it
    assert "<div>情况说明（2025年6月） · 市住房和城乡建设局</div>" in page
    assert "<div>进展情况：&lt;b&gt;6月&lt;/b&gt; &amp; [开工](http://x)</div>" in page  # text, never markup
