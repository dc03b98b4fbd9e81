"""A deterministic, clearly labelled synthetic dataset (演示数据), loaded through the real upload path.

Every bureau's monthly report is written as a file (xlsx, or csv in GBK / UTF-8 with BOM for a few
bureaus, as real bureaus send them) and then loaded with etl.load, so the demo exercises the same
reading, validation, revisions and archive as production. The mix is deliberate: some targets are
achieved, some on track, some behind; two bureaus stopped reporting, three report late.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from etl.load import LoadResult, load_bytes
from etl.template import template_rows, write_template
from monitor import db, explanations, progress, reporting, review
from monitor.auth import User
from monitor.demo_state import accounts_for, approver_account, demo_loader
from monitor.demo_state import non_demo_content as non_demo_content  # `etl demo` asks it (re-export)
from monitor.targets import CITY, Kpi, Target, TargetsConfig

DEMO_FLAG = "demo"
# Pace relative to the planned line: >1 ahead (achieved early), ~1 on track, <1 behind.
PACES = (1.35, 1.08, 1.02, 0.9, 0.62)
# Share of a city total carried by each reporting unit (sums to 1). The four units of the
# 9,500-unit housing target carry ~65%, as the policy's split implies.
WEIGHTS = {
    "dongsheng": 0.24,
    "kangbashi": 0.14,
    "ejin_horo": 0.15,
    "gaoxin": 0.12,
    "dalad": 0.08,
    "jungar": 0.10,
    "otog_front": 0.03,
    "otog": 0.05,
    "hanggin": 0.03,
    "uxin": 0.06,
}
STOPPED = ("agriculture", "market_regulation")  # no report in the last three months -> 数据缺失
LATE = ("education", "health", "civil_affairs")  # report after the due day
CSV_GBK = ("commerce", "transport")
CSV_BOM = ("hrss",)
# aggregation "all" (市、旗区政务服务中心): the city's and most districts' centres open in the last four
# months before the deadline; these open this many months after it, so the city flag waits for them.
LATE_CENTRES = {"hanggin": 2, "otog_front": 4}


@dataclass(frozen=True)
class DemoPlan:
    start: dt.date
    until: dt.date  # last month reported (first day)


def _seed(*parts: str) -> int:
    return int(hashlib.sha256("|".join(parts).encode()).hexdigest()[:8], 16)


def months(start: dt.date, until: dt.date) -> list[dt.date]:
    return [p.date() for p in pd.date_range(start, until, freq="MS")]


def _months_between(a: dt.date, b: dt.date) -> float:
    return (b.year - a.year) * 12 + (b.month - a.month) + (b.day - a.day) / 30.0


def _primary_target(cfg: TargetsConfig, kpi: Kpi) -> Target | None:
    for t in cfg.targets:
        if t.kpi == kpi.id:
            return t
    return None


def city_series(cfg: TargetsConfig, kpi: Kpi, periods: list[dt.date]) -> np.ndarray:
    """The city-level monthly figure in the KPI's reporting form (increment, cumulative or level)."""
    rng = np.random.default_rng(_seed("city", kpi.id))
    n = len(periods)
    target = _primary_target(cfg, kpi)
    pace = PACES[_seed("pace", kpi.id) % len(PACES)]
    noise = rng.normal(1.0, 0.12, n).clip(0.6, 1.4)
    elapsed = np.array([_months_between(cfg.policy.start, p) + 1 for p in periods])
    if target is None and kpi.value_type == "flag":  # a commitment's flag: in place after some months
        return (elapsed >= 3 + _seed("commitment", kpi.id) % 36).astype(float)
    if target is None:  # activity indicator: people served or yuan paid each month
        base = 50 + _seed("size", kpi.id) % 400
        if kpi.value_type == "amount":
            base *= 1000
        flow = np.round(base * noise * (1 + elapsed / 36))
        return flow if kpi.reporting == "increment" else np.cumsum(flow)
    if target.kind == "milestone":
        done_after = 4 + _seed("ms", target.id) % 30  # months after the start; some never in range
        return (elapsed >= done_after).astype(float)
    if target.kind == "floor":  # a minimum every year: hovering around it, some months below
        # a share cannot pass 100% (全部面向…供应: at 100% or just below it)
        return np.round(np.minimum(target.value + 0.5 + rng.normal(0, 1.2, n), 100.0), 1)
    baseline = target.baseline.value if target.baseline else 0.0
    span = max(1.0, _months_between(target.start or cfg.policy.start, target.deadline))
    if target.kind == "cap" and kpi.reporting == "increment":
        pace = 0.8 if pace < 1.05 else 1.07  # some caps comfortably below, some about to be exceeded
        return np.round(target.value / 12 * pace * noise)
    if target.kind in ("annual",) or (kpi.reporting == "increment" and target.kind != "cumulative"):
        flow = target.value / 12 * pace * noise
        return np.round(flow)
    if kpi.reporting == "increment":  # cumulative target, monthly new units
        flow = (target.value - baseline) / span * pace * noise
        return np.round(flow)
    # level (stock or ratio) or cumulative-to-date: baseline plus progress along the line
    share = (elapsed / span * pace).clip(0, None)
    if target.kind == "stock" and kpi.value_type == "count" and target.value <= 10:
        # a handful of things (5 colleges with an institute): whole steps up, never beyond the target
        return np.minimum(np.floor(baseline + (target.value - baseline) * share), target.value)
    level = baseline + (target.value - baseline) * share * rng.normal(1.0, 0.015, n).clip(0.97, 1.03)
    if kpi.reporting == "cumulative":
        level = np.maximum.accumulate(level)
    if kpi.value_type == "ratio":
        level = np.round(level.clip(0, 100), 1)
        if target.comparator == "<=":
            level = np.round(target.value - 6 + rng.normal(0, 0.8, n), 1)
    else:
        level = np.round(level)
    return level


def every_centre(cfg: TargetsConfig, kpi: Kpi, periods: list[dt.date]) -> dict[str, np.ndarray]:
    """An "all" KPI: each unit's own flag (the city's centre on the city row), 1 from its opening month."""
    target = _primary_target(cfg, kpi)
    due = target.deadline if target is not None else cfg.policy.start
    due_month = due.year * 12 + due.month - 1
    month = np.array([p.year * 12 + p.month - 1 for p in periods])
    out: dict[str, np.ndarray] = {}
    for unit in [CITY, *(d.id for d in cfg.reporting_districts())]:
        opened = due_month + LATE_CENTRES.get(unit, -(_seed("centre", kpi.id, unit) % 4))
        out[unit] = (month >= opened).astype(float)
    return out


def unit_values(cfg: TargetsConfig, kpi: Kpi, periods: list[dt.date]) -> dict[str, np.ndarray]:
    """Split the city figure across reporting units (sum KPIs), keep it at city level, or give every
    unit its own flag (all KPIs)."""
    if kpi.aggregation == "all":
        return every_centre(cfg, kpi, periods)
    city = city_series(cfg, kpi, periods)
    if kpi.aggregation == "city" or kpi.value_type in ("ratio", "flag"):
        return {CITY: city}
    out: dict[str, np.ndarray] = {}
    for d in cfg.reporting_districts():
        w = WEIGHTS.get(d.id, 0.05)
        if kpi.reporting == "increment":
            # split the running total, then difference it: small monthly counts (1-2 schools a month)
            # still reach every district over time instead of rounding to 0 everywhere
            running = np.floor(np.cumsum(city) * w + 0.5)
            out[d.id] = np.diff(running, prepend=0.0)
        else:
            out[d.id] = np.floor(city * w + 0.5)
    return out


def report_frame(cfg: TargetsConfig, bureau_id: str, period: dt.date, series: dict) -> list[float | None]:
    """Values in template row order for one bureau and month."""
    rows = template_rows(cfg, bureau_id, period)
    return [float(series[(r.kpi_id, r.district_id)][period]) for r in rows.itertuples()]


def submission_time(cfg: TargetsConfig, bureau_id: str, period: dt.date) -> dt.datetime:
    """Due on the due day of the next month; late bureaus come 3-12 days after it."""
    nxt = (pd.Timestamp(period) + pd.DateOffset(months=1)).date()
    rng = np.random.default_rng(_seed("when", bureau_id, period.isoformat()))
    if bureau_id in LATE:
        day = cfg.reporting.due_day + 3 + int(rng.integers(0, 10))
    else:
        day = int(rng.integers(3, cfg.reporting.due_day + 1))
    return dt.datetime(nxt.year, nxt.month, min(day, 28), 9 + int(rng.integers(0, 8)), int(rng.integers(0, 60)))


def encode_report(cfg: TargetsConfig, bureau_id: str, period: dt.date, values: list[float | None]) -> tuple[str, bytes]:
    if bureau_id in CSV_GBK or bureau_id in CSV_BOM:
        frame = template_rows(cfg, bureau_id, period)[["指标编码", "指标名称", "旗区", "报送期", "数值", "单位"]]
        frame = frame.assign(数值=[f"{v:g}" for v in values], 报送期=f"{period.year}年{period.month}月")
        text = frame.to_csv(index=False)
        data = text.encode("gb18030") if bureau_id in CSV_GBK else b"\xef\xbb\xbf" + text.encode("utf-8")
        return f"{bureau_id}_{period:%Y%m}.csv", data
    buf = io.BytesIO()
    write_template(cfg, bureau_id, period, buf, values=values)
    return f"{bureau_id}_{period:%Y-%m}.xlsx", buf.getvalue()


def run_demo(
    cfg: TargetsConfig,
    con,
    *,
    archive: Path | None,
    reports_dir: Path | None,
    until: dt.date | None = None,
    progress: Callable[[int, int, str], None] | None = None,
) -> list[LoadResult]:
    """Write and load every bureau's monthly reports from the policy start to `until` (default: this month)."""
    today = dt.date.today()
    until = (until or today).replace(day=1)
    periods = months(cfg.policy.start, until)
    series: dict[tuple[str, str], dict[dt.date, float]] = {}
    for k in cfg.kpis:
        for unit, vals in unit_values(cfg, k, periods).items():
            series[(k.id, unit)] = dict(zip(periods, vals.tolist(), strict=True))
    bureaus = sorted({k.lead for k in cfg.kpis})
    jobs = []
    for period in periods:
        for b in bureaus:
            stopped = b in STOPPED and period > (pd.Timestamp(until) - pd.DateOffset(months=3)).date()
            if stopped:
                continue
            when = submission_time(cfg, b, period)
            if period == until and (b in LATE or when.date() > today):
                continue  # this month's late reporters have not sent yet
            jobs.append((period, b, when))
    db.set_meta(con, "dataset", DEMO_FLAG)
    results = []
    for i, (period, b, when) in enumerate(jobs):
        name, data = encode_report(cfg, b, period, report_frame(cfg, b, period, series))
        if reports_dir is not None:
            (reports_dir / b).mkdir(parents=True, exist_ok=True)
            (reports_dir / b / name).write_bytes(data)
        res = load_bytes(
            name, data, cfg, b, demo_loader(b), con, archive=archive, today=max(when.date(), period), submitted_at=when
        )
        if not res.ok:
            raise RuntimeError("demo report rejected: " + "; ".join(p.zh() for p in res.problems[:5]))
        results.append(res)
        if progress:
            progress(i + 1, len(jobs), name)
    _demo_revision(cfg, con, archive, until, series, results)
    _demo_review(cfg, con, archive, series, jobs, results)
    _demo_explanations(cfg, con, until)
    return results


# 情况说明 on first run: the lead bureaus of a few targets that need attention explain them for the
# latest month due (as the upload would require), so the detail, overview and deck show real content.
DEMO_EXPLANATIONS = 4
_EXPLAINED = (
    "{reason}",
    "项目前期手续办理周期较长，部分旗区资金到位滞后，进度低于计划。",
    "下月召开专题推进会，逐旗区、逐项目明确完成时限，每半月调度一次进度。",
)


def _demo_explanations(cfg: TargetsConfig, con, until: dt.date) -> None:
    """Explanations by the lead bureau's demo reporter for the first targets that need attention."""
    month = min(reporting.latest_due_month(dt.date.today(), cfg.reporting.due_day), until)
    card = progress.scorecard(con, month, cfg=cfg)
    attention = card[card["status"].isin(["off_track", "at_risk", "overdue"])]
    attention = attention[~attention["lead_bureau"].isin(STOPPED)].head(DEMO_EXPLANATIONS)
    for target_id, bureau, reason in zip(
        attention["target_id"], attention["lead_bureau"], attention["reason_zh"], strict=True
    ):
        writer = User(str(bureau), str(bureau), "reporter", str(bureau), True)
        texts = [text.format(reason=reason) for text in _EXPLAINED]
        explanations.save(con, cfg, writer, str(target_id), month, *texts)


def _demo_revision(cfg: TargetsConfig, con, archive: Path | None, until: dt.date, series: dict, results: list) -> None:
    """One correction of an earlier month, so the demo shows a revision kept beside the original."""
    kpi = next((k for k in cfg.kpis if k.id == "rental_housing_units"), None)
    if kpi is None:
        return
    period = (pd.Timestamp(until) - pd.DateOffset(months=4)).date()
    if period not in series[(kpi.id, "dongsheng")]:
        return  # a demo shorter than five months has no earlier month to correct
    old = series[(kpi.id, "dongsheng")][period]
    csv = f"指标编码,旗区,报送期,数值,备注\n{kpi.id},东胜区,{period:%Y-%m},{old + 12:g},更正：补录漏报项目\n"
    when = dt.datetime.combine(period, dt.time(10)) + dt.timedelta(days=75)
    res = load_bytes(
        f"{kpi.lead}_{period:%Y%m}_更正.csv", csv.encode("utf-8"), cfg, kpi.lead, demo_loader(kpi.lead), con,
        archive=archive, today=max(when.date(), period), submitted_at=when, reason="补录漏报项目",
    )  # fmt: skip
    results.append(res)


# 审核 on first run: the housing reporter's latest month has one submission waiting for the approver and
# one the approver returned with a comment (every other demo submission is approved on load).
REVIEW_BUREAU = "housing"
PENDING_EXTRA = {"dongsheng": 36, "kangbashi": 18}  # rental units added to the month's report, pending
RETURN_COMMENT = "东胜区发放户数与财政拨付清单不符，请核实后重新报送。"


def _demo_review(cfg: TargetsConfig, con, archive: Path | None, series: dict, jobs: list, results: list) -> None:
    """One pending and one returned submission of the housing reporter for its latest reported month,
    loaded and reviewed through the real path (etl.load with review_status, monitor.review)."""
    mine = [(period, when) for period, bureau, when in jobs if bureau == REVIEW_BUREAU]
    rental = "rental_housing_units"
    households = "rental_allowance_households"
    if not mine or rental not in cfg.kpi_by_id or households not in cfg.kpi_by_id:
        return
    latest, last_at = max(mine)
    names = {d.id: d.name_zh for d in cfg.districts}
    pending_rows = "".join(
        f"{rental},{names[unit]},{latest:%Y-%m},{series[(rental, unit)][latest] + extra:g},补录当月新开工项目\n"
        for unit, extra in PENDING_EXTRA.items()
    )
    # the clerk typed last month's figure: wrong, but within the KPI's history (no outlier warning)
    shown = series[(households, "dongsheng")]
    earlier = [p for p in shown if p < latest]
    wrong = shown[max(earlier)] if earlier and shown[max(earlier)] != shown[latest] else shown[latest] + 1
    reports = [
        (
            f"{REVIEW_BUREAU}_{latest:%Y%m}_补报.csv",
            "指标编码,旗区,报送期,数值,备注\n" + pending_rows,
            "补报当月新开工项目",
        ),
        (
            f"{REVIEW_BUREAU}_{latest:%Y%m}_更正.csv",
            f"指标编码,旗区,报送期,数值\n{households},东胜区,{latest:%Y-%m},{wrong:g}\n",
            "更正东胜区发放户数",
        ),
    ]
    loaded = []
    for day, (name, text, reason) in enumerate(reports, start=1):
        when = min(last_at + dt.timedelta(days=day), dt.datetime.now() - dt.timedelta(minutes=10 - day))
        res = load_bytes(
            name, text.encode("utf-8"), cfg, REVIEW_BUREAU, REVIEW_BUREAU, con, archive=archive,
            today=max(when.date(), latest), submitted_at=when, reason=reason, review_status=review.PENDING,
        )  # fmt: skip
        if not res.ok:
            raise RuntimeError("demo report rejected: " + "; ".join(p.zh() for p in res.problems[:5]))
        results.append(res)
        loaded.append(res)
    approver = User(approver_account(REVIEW_BUREAU), approver_account(REVIEW_BUREAU), "approver", REVIEW_BUREAU, True)
    review.return_submission(con, approver, int(loaded[-1].submission_id), RETURN_COMMENT)  # type: ignore[arg-type]


def demo_accounts(cfg: TargetsConfig) -> list[tuple[str, str, str, str | None]]:
    """(user, password, role, bureau): one per role and one per reporting bureau.

    Demo passwords follow a visible pattern on purpose (they are printed and shown on the sign-in
    page in demo mode only); real accounts are created with `python -m monitor users add`.
    """
    return accounts_for({k.lead for k in cfg.kpis})


def create_demo_accounts(cfg: TargetsConfig, con) -> list[tuple[str, str, str, str | None]]:
    from monitor import auth

    made = []
    for user, password, role, bureau in demo_accounts(cfg):
        if auth.get_user(con, user) is None:
            auth.add_user(con, user, password, role, bureau_id=bureau, by="demo")  # type: ignore[arg-type]
            made.append((user, password, role, bureau))
    return made
