"""A synthetic province-scale programme, shared by bench_scorecard.py and bench_pages.py.

``programme()`` returns a targets.yaml document (a dict that monitor.targets.parse_targets accepts);
``build()`` loads its reference tables with db.sync_reference (so an app started on the same yaml
does not reload them) and generates the monthly figures with DuckDB's range()/random(), straight
into the tables: one accepted submission per bureau and month, every reporting unit reporting every
KPI every month from 2016-01, plus 1% revisions (one correction submission per bureau), a few
rejected rows and load warnings.

KPI j has the class KINDS[j % 6] (how it is reported follows from it); the targets of a KPI share
its class, except that the flows (cumulative, annual, cap: increments) alternate between a KPI's
targets. Target i sits on KPI i % kpis; its deadline falls between 2024 and 2030 and its value is set
around where the synthetic trend leads, so every status occurs. KPIs with j % 25 = 0 stop reporting
three months before the end (no_data); the units with d % 37 = 36 never report the KPIs with
j % 7 = 0 (no_data in the heat map). One in five targets on a district-level KPI is scoped to the
first five units.

With kpis = targets, bureaus = 1, activity = 0 and city_kpis = False (bench_scorecard's defaults)
this is the warehouse shape bench_scorecard always measured (6.6 million figures for 500 targets,
110 units, 120 months): one KPI per target, every KPI summed over the units.
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path
from typing import Any

import yaml

from monitor import db
from monitor.targets import TargetsConfig, parse_targets

KINDS = ("cumulative", "stock", "annual", "ratio", "cap", "milestone")
FLOWS = ("cumulative", "annual", "cap")
SECTIONS = ("一", "二", "三(一)", "三(二)", "四", "五", "六", "七")
FIRST_MONTH = dt.date(2016, 1, 1)  # month 0 of the synthetic figures
TARGET_START = 84  # 2023-01: the targets' start and baseline month (also the policy's start)
TARGET_START_DATE = dt.date(2023, 1, 1)
UNIT_KINDS = ("district", "banner", "zone")


def _month_end(m: int) -> dt.date:
    """Last day of month m (0 = 2016-01)."""
    y, mo = divmod(m + 1, 12)
    return dt.date(FIRST_MONTH.year + y, mo + 1, 1) - dt.timedelta(days=1)


def unit_ids(units: int) -> list[str]:
    return [f"u{d:03d}" for d in range(units)]


def programme(
    targets: int = 500,
    units: int = 110,
    *,
    kpis: int | None = None,
    bureaus: int = 1,
    activity: int = 0,
    city_kpis: bool = False,
    seed: int = 477,
) -> dict[str, Any]:
    """A targets.yaml document: ``targets`` targets on ``kpis`` KPIs (default one each), ``activity``
    more KPIs without a target, ``units`` reporting units plus the city, ``bureaus`` lead bureaus.
    ``city_kpis``: ratio and milestone KPIs are reported for the whole city only (aggregation city)."""
    n_kpis = kpis or targets
    rng = random.Random(seed)
    bureau_ids = ["bench"] if bureaus == 1 else [f"b{b:02d}" for b in range(1, bureaus + 1)]
    bureau_list = [
        {"id": b, "name_zh": f"基准测试局{i + 1:02d}", "name_en": f"Benchmark bureau {i + 1:02d}"}
        for i, b in enumerate(bureau_ids)
    ]
    districts: list[dict[str, Any]] = [
        {"id": "city", "name_zh": "全市", "name_en": "Whole city", "kind": "city", "aliases": ["合计"]}
    ]
    districts += [
        {"id": u, "name_zh": f"单位{d:03d}", "name_en": f"Unit {d:03d}", "kind": UNIT_KINDS[d % 3]}
        for d, u in enumerate(unit_ids(units))
    ]

    def kpi(j: int, cls: str, is_activity: bool) -> dict[str, Any]:
        ratio, flag = cls == "ratio", cls == "milestone"
        unit_zh = "分" if ratio else "是否完成" if flag else "元" if is_activity else "个"
        unit_en = "points" if ratio else "done" if flag else "yuan" if is_activity else "items"
        entry: dict[str, Any] = {
            "id": f"k{j:03d}",
            "section": SECTIONS[j % len(SECTIONS)],
            "name_zh": f"基准指标{j:03d}（{'活动' if is_activity else cls}）新市民服务事项",
            "name_en": f"Benchmark KPI {j:03d} ({'activity' if is_activity else cls})",
            "unit_zh": unit_zh,
            "unit_en": unit_en,
            "value_type": "ratio" if ratio else "flag" if flag else "amount" if is_activity else "count",
            "reporting": "level" if cls in ("stock", "ratio", "milestone") else "increment",
            "aggregation": "city" if city_kpis and (ratio or flag) else "sum",
            "lead": bureau_ids[j % len(bureau_ids)],
            "source": f"基准指标{j:03d}的政策原文",
        }
        if len(bureau_ids) > 2 and j % 4 == 0:
            entry["co"] = [bureau_ids[(j + 3) % len(bureau_ids)]]
        if is_activity:
            entry["activity"] = True
        return entry

    kpi_list = [kpi(j, KINDS[j % 6], False) for j in range(n_kpis)]
    kpi_list += [kpi(j, "cumulative", True) for j in range(n_kpis, n_kpis + activity)]

    target_list = []
    scoped_units = unit_ids(units)[:5]
    for i in range(targets):
        j = i % n_kpis
        k = kpi_list[j]
        cls = KINDS[j % 6]
        kind = FLOWS[(FLOWS.index(cls) + i // n_kpis) % 3] if cls in FLOWS else cls
        city_level = k["aggregation"] == "city"
        scoped = i % 5 == 4 and not city_level
        n = 1 if city_level else 5 if scoped else units
        m_deadline = 100 + 13 * (i % 7)
        factor = 0.8 + 0.5 * rng.random()
        per_unit = {
            "cumulative": 50 * (m_deadline - TARGET_START) * factor,
            "stock": (1010 + 8 * m_deadline) * (0.94 + 0.1 * factor),
            "annual": 600 * factor,
            "ratio": min(100, 42.5 + 0.4 * m_deadline) * (0.9 + 0.1 * factor),
            "cap": 600 * (0.15 + factor),
            "milestone": 1.0,
        }[kind]
        value = per_unit if kind == "milestone" else per_unit * n
        base = {"stock": 1010 + 8 * TARGET_START, "ratio": 76}.get(kind, 0) * n
        start = TARGET_START_DATE
        target: dict[str, Any] = {
            "id": f"t{i:03d}",
            "kpi": k["id"],
            "section": k["section"],
            "name_zh": f"目标{i:03d}：{k['name_zh']}达到预期水平",
            "name_en": f"Target {i:03d}: {k['name_en']} reaches the planned level",
            "kind": kind,
            "comparator": "<=" if kind == "cap" else "~" if kind == "ratio" else ">=",
            "value": round(value, 4),
            "deadline": _month_end(m_deadline - 1),
            "start": start,
            "baseline": {"value": float(base), "date": start},
            "scope": scoped_units if scoped else "city",
            "source": f"目标{i:03d}的政策原文",
        }
        if kind == "ratio":
            target["tolerance"] = 2.0 * n
        target_list.append(target)

    return {
        "version": 1,
        "policy": {"title": "基准测试：省级规模合成方案", "issued": dt.date(2022, 12, 20), "start": TARGET_START_DATE},
        "bureaus": bureau_list,
        "districts": districts,
        "kpis": kpi_list,
        "targets": target_list,
    }


def write_yaml(raw: dict[str, Any], path: Path) -> Path:
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False, width=200), encoding="utf-8")
    return path


# $months is substituted; everything else comes from the reference tables.
_FIGURES_SQL = """
create temp table bureau_ix as
select bureau_id, (row_number() over (order by bureau_id) - 1)::integer as b from bureaus;
create temp table unit_ix as
select district_id, case when kind = 'city' then 0 else sort_order - 1 end as d, kind = 'city' as is_city
from districts;
insert into submissions
select
    b.b * $months + m + 1, b.bureau_id, 'bench_' || b.bureau_id,
    -- due on the 10th of the next month: submitted on its 4th..15th, so some arrive late
    (date '2016-01-01' + to_months((m + 1)::integer) + to_days((3 + (b.b * 7 + m) % 12)::integer))::timestamp
        + interval 9 hour,
    printf('%s_%s.xlsx', b.bureau_id, strftime(date '2016-01-01' + to_months(m::integer), '%Y%m')),
    md5(b.bureau_id || m), 40000, 0, 0, 0, 0, 'accepted', null, null, 0, 0, 'approved', null, null, null
from bureau_ix as b, range($months) t(m);
insert into submissions
select
    (select count(*) from bureau_ix) * $months + b.b + 1, b.bureau_id, 'bench_' || b.bureau_id,
    (date '2016-01-01' + to_months($months) + to_days(20))::timestamp,
    printf('%s_更正.csv', b.bureau_id), md5(b.bureau_id || 'fix'), 4000, 0, 0, 0, 0, 'accepted',
    '更正：基准测试', null, 0, 0, 'approved', null, null, null
from bureau_ix as b;
insert into observations
select
    k.kpi_id,
    u.district_id,
    (date '2016-01-01' + to_months(m::integer))::date,
    case
        when k.value_type = 'ratio' then least(100, 40 + 0.4 * m + 5 * random())
        when k.value_type = 'flag' then (m > 100 + u.d % 30)::integer
        when k.reporting = 'level' then 1000 + 8 * m + 20 * random()
        when k.value_type = 'amount' then 5000 * random()
        else 100 * random()
    end,
    1, b.b * $months + m + 1, u.d + 2, now()
from kpis as k
join bureau_ix as b on b.bureau_id = k.lead_bureau
join unit_ix as u on u.is_city = (k.aggregation = 'city'),
range($months) t(m)
where not (k.sort_order % 25 = 0 and m >= $months - 3)
  and not (k.sort_order % 7 = 0 and u.d % 37 = 36);
insert into observations
select o.kpi_id, o.district_id, o.period, o.value * 0.9, 2,
       (select count(*) from bureau_ix) * $months + b.b + 1, 0, now()
from (select * from observations using sample 1 percent (bernoulli, 7)) as o
join kpis as k using (kpi_id)
join bureau_ix as b on b.bureau_id = k.lead_bureau;
update submissions as s set rows_total = n, rows_loaded = n
from (select submission_id, count(*)::integer as n from observations group by submission_id) as c
where s.submission_id = c.submission_id;
insert into load_warnings
select submission_id, 2 + i % 40, null, null, null, 1e6 + i, printf('数值异常偏大（第%d行）', i),
       printf('unusually large value (row %d)', i)
from (select submission_id, row_number() over () as i from submissions limit 300);
insert into submissions
select (select max(submission_id) from submissions) + b.b + 1, b.bureau_id, 'bench_' || b.bureau_id,
       (date '2016-01-01' + to_months($months) + to_days(5))::timestamp,
       printf('%s_bad.xlsx', b.bureau_id), md5(b.bureau_id || 'bad'), 2000, 20, 0, 0, 20, 'rejected',
       null, null, 20, 0, 'approved', null, null, null
from bureau_ix as b;
insert into rejected_rows
select s.submission_id, s.file_name, 2 + r, '数值', 'abc', '数值不是数字', 'value is not a number'
from submissions as s, range(20) t(r)
where s.outcome = 'rejected';
"""


def build(path: Path, cfg: TargetsConfig | dict[str, Any], months: int = 120, *, seed: float = 0.477) -> None:
    """Create the warehouse at ``path``: reference tables from ``cfg`` (with the targets fingerprint,
    as the app would leave them), then the synthetic figures up to month ``months`` - 1."""
    if not isinstance(cfg, TargetsConfig):
        cfg = parse_targets(cfg)
    con = db.connect(path)
    try:
        db.sync_reference(con, cfg, user="bench")
        con.execute(f"select setseed({seed})")
        con.execute(_FIGURES_SQL.replace("$months", str(int(months))))
        # the next real submission (an upload from the app) must not reuse a synthetic id
        next_id = int(db.scalar(con, "select max(submission_id) + 1 from submissions") or 1)
        con.execute(f"create or replace sequence submission_seq start {next_id}")
        con.execute("checkpoint")
    finally:
        con.close()
