"""Commitments without a milestone: what the policy promises with no number and no date (暖商保,
落户“绿色通道”, 人才驿站, “互联网+婚姻”登记, 15分钟托育服务圈 …), and whether each is delivered.

A commitment has no deadline, so nothing about it can be behind and it never gets a target status.
As of a month it is in one of three states (docs/progress.md, "Commitments without a milestone"):

    in_place      已落实  its flag KPI (``*_in_place``) has a recent city figure of 1
    in_progress   推进中  something recent is reported for it, but no flag of 1 (flag 0, or only
                          activity figures such as people served)
    not_reported  未报送  nothing reported for it in the last ``thresholds.stale_months`` months up
                          to the as-of month (the targets' staleness rule)

"Recent" is the targets' rule: a figure for month m counts as of month a when a - m < stale_months
(stale_months 2: as of 2026-10, figures for 2026-09 and 2026-10). A flag of 1 is not kept once
reporting stops, unlike a milestone that was met: a service has to stay in place, so a bureau that
falls silent reads 未报送. The evidence is each KPI's latest city figure up to the as-of month.

No streamlit: the overview, the briefing workbook and ``python -m monitor scorecard --format json``
call the same function.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb
import pandas as pd

from monitor import fmt, i18n
from monitor.i18n import Lang
from monitor.progress.months import month_index, month_start
from monitor.targets import Commitment, TargetsConfig

# Best first, as every list shows them.
STATES: tuple[str, ...] = ("in_place", "in_progress", "not_reported")

COLUMNS = [
    "commitment_id", "section", "name_zh", "name_en", "lead", "co", "source", "state", "latest_period", "evidence",
]  # fmt: skip


@dataclass(frozen=True)
class Evidence:
    """One KPI's latest whole-city figure up to the as-of month (period and value None: never reported)."""

    kpi_id: str
    name_zh: str
    name_en: str
    unit_zh: str
    unit_en: str
    is_flag: bool
    period: dt.date | None
    value: float | None

    def text(self, lang: Lang) -> str:
        """“暖商保”参保个体工商户：1,234户（2026年7月） / …: 1,234 businesses (Jul 2026); 尚无数据 when none."""
        name = self.name_zh if lang == "zh" else self.name_en
        if self.period is None:
            said = i18n.t("commitment_no_figure", lang)
            return f"{name}：{said}" if lang == "zh" else f"{name}: {said}"
        figure = fmt.figure(self.value, self.unit_zh, self.unit_en, lang)
        month = fmt.month(self.period, lang)
        return f"{name}：{figure}（{month}）" if lang == "zh" else f"{name}: {figure} ({month})"


def latest_city_figures(con: duckdb.DuckDBPyConnection, kpi_ids: list[str], as_of: dt.date) -> pd.DataFrame:
    """kpi_id, period, value: each KPI's newest whole-city figure (city_values: the sum of the districts
    or the reported city row) for a month up to as_of, current revision only."""
    if not kpi_ids:
        return pd.DataFrame(columns=["kpi_id", "period", "value"])
    return con.execute(
        """
        select kpi_id, max(period) as period, arg_max(value, period) as value
        from city_values
        where kpi_id in (select unnest(?::varchar[])) and period <= ?
        group by kpi_id
        """,
        [kpi_ids, month_start(as_of)],
    ).df()


def state_of(evidence: list[Evidence], as_of: dt.date, stale_months: int) -> str:
    """The rule of the module docstring for one commitment's figures."""
    as_of_month = month_index(month_start(as_of))
    fresh = [e for e in evidence if e.period is not None and as_of_month - month_index(e.period) < stale_months]
    if not fresh:
        return "not_reported"
    if any(e.is_flag and e.value is not None and e.value >= 1 for e in fresh):
        return "in_place"
    return "in_progress"


def _evidence(commitment: Commitment, cfg: TargetsConfig, figures: dict[str, tuple[dt.date, float]]) -> list[Evidence]:
    """One Evidence per KPI the commitment names, in its order; a KPI never reported stays in the list
    (尚无数据): a reader must see what is missing, not a shorter list."""
    kpis = cfg.kpi_by_id
    out = []
    for kpi_id in commitment.kpis:
        kpi = kpis[kpi_id]
        period, value = figures.get(kpi_id, (None, None))
        out.append(
            Evidence(
                kpi_id, kpi.name_zh, kpi.name_en, kpi.unit_zh, kpi.unit_en, kpi.value_type == "flag", period, value
            )
        )
    return out


def commitment_states(con: duckdb.DuckDBPyConnection, cfg: TargetsConfig, as_of: dt.date | str) -> pd.DataFrame:
    """One row per commitment of targets.yaml, in its (the policy's) order: ids, names, bureaus, the
    state as of the month and ``evidence`` (a list of Evidence, one per KPI it names)."""
    as_of = month_start(as_of)
    wanted = list(dict.fromkeys(k for c in cfg.commitments for k in c.kpis))
    found = latest_city_figures(con, wanted, as_of)
    figures = {
        str(row.kpi_id): (pd.Timestamp(row.period).date(), float(row.value)) for row in found.itertuples(index=False)
    }
    rows = []
    for c in cfg.commitments:
        evidence = _evidence(c, cfg, figures)
        periods = [e.period for e in evidence if e.period is not None]
        rows.append(
            {
                "commitment_id": c.id,
                "section": c.section,
                "name_zh": c.name_zh,
                "name_en": c.name_en,
                "lead": c.lead,
                "co": list(c.co),
                "source": c.source,
                "state": state_of(evidence, as_of, cfg.thresholds.stale_months),
                "latest_period": max(periods) if periods else None,
                "evidence": evidence,
            }
        )
    return pd.DataFrame(rows, columns=COLUMNS)


def evidence_text(evidence: list[Evidence], lang: Lang) -> str:
    """Every figure of a commitment on one line, 「；」/「; 」 between them (— when it names no KPI)."""
    return ("；" if lang == "zh" else "; ").join(e.text(lang) for e in evidence) or "—"


def json_records(frame: pd.DataFrame) -> list[dict[str, object]]:
    """The commitments as plain JSON values: months as YYYY-MM, a missing figure null."""
    out = []
    for row in frame.to_dict("records"):
        out.append(
            {
                "commitment_id": row["commitment_id"],
                "section": row["section"],
                "name_zh": row["name_zh"],
                "name_en": row["name_en"],
                "lead": row["lead"],
                "co": list(row["co"]),
                "state": row["state"],
                "state_zh": fmt.commitment_state(row["state"], "zh"),
                "state_en": fmt.commitment_state(row["state"], "en"),
                "latest_period": None if row["latest_period"] is None else row["latest_period"].strftime("%Y-%m"),
                "evidence": [
                    {
                        "kpi_id": e.kpi_id,
                        "period": None if e.period is None else e.period.strftime("%Y-%m"),
                        "value": e.value,
                    }
                    for e in row["evidence"]
                ],
                "source": row["source"],
            }
        )
    return out
