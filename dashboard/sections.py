"""The policy's own structure on the pages: sections in the policy's order with their headings, the
commitments with no number and no date each section makes, and the activity indicators (monthly
figures with no target) each section collects.

Shared by the overview (grouped by section) and the target detail (the target's section), so both
name a section and show its indicators the same way."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from dashboard import data, ui
from dashboard.ui import T
from monitor import commitments as commitment_list
from monitor import fmt


def codes() -> list[str]:
    """Every section of the policy in its order (一, 二(一) … 四(七)), with or without targets."""
    return data.config().section_codes()


def label(code: str) -> str:
    """三(二) 提供优质的住房保障服务 in the session's language."""
    return data.config().section_label(code, ui.lang())


def activity(as_of: dt.date, code: str, figures: pd.DataFrame | None = None) -> pd.DataFrame:
    """The activity indicators of one section as the pages show them: name, newest month, that
    month's city figure and the total since the policy start, each in its unit (— when not reported).
    figures: data.activity_figures(as_of) when the caller has read it once for every section."""
    rows = data.activity_figures(as_of) if figures is None else figures
    rows = rows[rows["section"] == code]
    lang = ui.lang()
    units = list(zip(rows["unit_zh"], rows["unit_en"], strict=True))
    return pd.DataFrame(
        {
            T("col_indicator"): list(rows[f"name_{lang}"]),
            T("col_latest_month"): ["—" if pd.isna(p) else ui.month(p) for p in rows["latest_period"]],
            T("col_latest_figure"): [
                ui.number(None if pd.isna(v) else v, uz, ue)
                for v, (uz, ue) in zip(rows["latest_value"], units, strict=True)
            ],
            T("col_total_since", start=ui.month(data.config().policy.start)): [
                ui.number(None if pd.isna(v) else v, uz, ue) for v, (uz, ue) in zip(rows["total"], units, strict=True)
            ],
        }
    )


def commitments(as_of: dt.date, code: str, states: pd.DataFrame | None = None) -> pd.DataFrame:
    """The commitments of one section with no number and no date (暖商保, 绿色通道 …): name, state
    (已落实 / 推进中 / 未报送, never a target status), lead bureau and the figures showing it is
    delivered, each with its month. Empty when the section has none. states:
    data.commitment_states(as_of) when the caller has read it once for every section."""
    rows = data.commitment_states(as_of) if states is None else states
    rows = rows[rows["section"] == code]
    lang = ui.lang()
    bureaus = data.config().bureau_by_id
    return pd.DataFrame(
        {
            T("col_commitment"): list(rows[f"name_{lang}"]),
            T("col_commitment_state"): [fmt.commitment_state(s, lang) for s in rows["state"]],
            T("col_bureau"): [
                bureaus[b].name_zh if lang == "zh" else bureaus[b].name_en.removeprefix("Municipal ")
                for b in rows["lead"]
            ],
            T("col_evidence"): [commitment_list.evidence_text(e, lang) for e in rows["evidence"]],
        }
    )
