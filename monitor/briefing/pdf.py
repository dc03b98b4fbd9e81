"""The PDF: the deck's pages as one HTML page per slide (templates/briefing.html.j2), in the deck's
order (monitor.briefing.pack: exception first by default, or the full deck), printed by the
run's browser (monitor.briefing.browser.print_pdf) so Chinese text is set by the same engine and fonts
as the charts.

The template is rendered with autoescape: target names, reasons and bureau names come from uploads
and reference tables and are text, never markup. Nothing is marked safe: the charts go in as base64
data URIs (letters, digits, + / =), which escaping leaves as they are.
"""

from __future__ import annotations

import base64
import functools
from pathlib import Path
from typing import Any

import jinja2

from monitor import fmt, reminders
from monitor.briefing.deck import below_chart
from monitor.briefing.layout import title_pt
from monitor.briefing.model import BriefingData
from monitor.style import FONT_FAMILY, STATUS_COLORS, STATUS_ORDER

TEMPLATE_DIR = Path(__file__).with_name("templates")
TEMPLATE = "briefing.html.j2"


@functools.cache
def _template() -> jinja2.Template:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
        autoescape=True,
        undefined=jinja2.StrictUndefined,  # a misspelt name fails the run instead of printing nothing
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env.get_template(TEMPLATE)


def _data_uri(svg: bytes) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")


def briefing_html(data: BriefingData, svgs: dict[str, bytes]) -> str:
    """The printable pages, one per slide, self-contained (charts as data URIs, no URL is fetched).
    ``svgs`` maps a chart key (a target id, or "summary") to the chart kaleido rendered."""
    lang = data.lang
    counts = data.counts()
    tiles = [{"label": data.status_text(s), "count": counts[s], "colour": STATUS_COLORS[s]} for s in STATUS_ORDER]
    worst = [
        {
            "section": r["section"],
            "name": r[f"name_{lang}"],
            "bureau": data.bureau(r["lead_bureau"]),
            "progress": fmt.percent(r["progress"]),
            "status": data.status_text(r["status"]),
            "colour": STATUS_COLORS[r["status"]],
        }
        for r in data.worst().to_dict("records")
    ]
    targets: list[dict[str, Any]] = [
        {
            "name": row[f"name_{lang}"],
            "title_pt": title_pt(row[f"name_{lang}"], 24),
            "meta": data.meta(row),
            "chart": _data_uri(svgs[str(row["target_id"])]),
            "status": data.status_text(row["status"]),
            "colour": STATUS_COLORS[row["status"]],
            "figures": data.figures(row),
            "terms": data.terms(row),
            "assumed_note": data.assumed_note(row),
            "reason": row[f"reason_{lang}"],
            # the lead bureau's explanation and the open actions under the chart, as on the slide (text)
            "below": below_chart(data, row),
            "page": page,
        }
        for page, row in enumerate(data.slide_rows().to_dict("records"), start=3)
    ]
    gaps_page = len(targets) + 3
    appendix = [] if data.full else data.appendix_pages()
    appendix_header = [
        data.t(k) for k in ("col_section", "col_target", "col_status", "col_actual", "col_goal", "col_bureau")
    ]
    gap_header = [data.t("f_bureau"), *(data.t(k) for k in (
        "reminder_col_state", "reminder_col_due", "reminder_col_submitted", "reminder_col_kpis"))]  # fmt: skip
    month = data.month(data.as_of)
    gaps_intro = (
        data.t("reminders_title", month=month, due=reminders.day(data.gaps[0].due_date, lang)) if data.gaps else ""
    )
    worst_header = ["#"] + [
        data.t(k) for k in ("col_section", "col_target", "col_bureau", "col_progress", "col_status")
    ]
    return _template().render(
        data=data,
        lang_attr="zh-CN" if lang == "zh" else "en",
        font_family=FONT_FAMILY,
        cover_as_of=data.as_of_label.replace(" ", "") if lang == "zh" else data.as_of_label,
        generated=f"{data.generated_at:%Y-%m-%d %H:%M}",
        tiles=tiles,
        worst_header=worst_header,
        worst=worst,
        summary_chart=_data_uri(svgs["summary"]),
        changes_line=data.changes_line(),
        targets=targets,
        gap_header=gap_header,
        gaps=data.gap_rows(),
        gaps_intro=gaps_intro,
        gaps_none=data.t("reminders_none", month=month),
        gaps_page=gaps_page,
        appendix_header=appendix_header,
        appendix=appendix,
        appendix_title=data.t("pack_appendix_title"),
        marks_note=data.t("pack_marks_note") if data.changes is not None else "",
    )
