"""The policy's targets, loaded from targets.yaml and validated before anything uses them.

A wrong targets.yaml would silently mis-judge a target, so every entry is checked on load and
every problem is reported with the entry it belongs to (e.g. ``targets[12] (id=housing_15k)``).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

if TYPE_CHECKING:
    import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_TARGETS = ROOT / "targets.yaml"

CITY = "city"  # district_id of the whole city (全市)

# The official order of the 10 reporting units (东胜区, 康巴什区, 达拉特旗, 准格尔旗, 鄂托克前旗, 鄂托克旗,
# 杭锦旗, 乌审旗, 伊金霍洛旗, 高新区): every list of districts that is not ranked follows it, the city
# first. targets.yaml lists its districts in this order (checked on load), so its sort_order agrees.
DISTRICT_ORDER: tuple[str, ...] = (
    "dongsheng", "kangbashi", "dalad", "jungar", "otog_front", "otog", "hanggin", "uxin", "ejin_horo", "gaoxin",
)  # fmt: skip


def district_position(district_id: str) -> int:
    """Where a district stands in the official order: the city first (-1), then DISTRICT_ORDER, then
    any unknown id (after all known ones, so a stray id never jumps ahead of 东胜区)."""
    if district_id == CITY:
        return -1
    try:
        return DISTRICT_ORDER.index(district_id)
    except ValueError:
        return len(DISTRICT_ORDER)


def in_district_order(district_ids: Iterable[str]) -> list[str]:
    """The ids in the official order (stable for unknown ids): the order of every unranked list."""
    return sorted(district_ids, key=district_position)


def district_sort_key(column: pd.Series) -> pd.Series:
    """``frame.sort_values("district_id", key=district_sort_key, kind="stable")``: official order."""
    return column.map(district_position)


# floor: a minimum every calendar year from the start to the deadline must keep (不低于), on a level.
Kind = Literal["cumulative", "stock", "annual", "ratio", "cap", "floor", "milestone"]
Comparator = Literal[">=", "<=", "~"]
# How a bureau reports a KPI each month:
#   increment  - the new amount in that month (people placed in March)
#   cumulative - the running total since the policy began (units raised to date)
#   level      - the state at month end (firms above the size threshold, a coverage ratio)
Reporting = Literal["increment", "cumulative", "level"]
# sum: districts report, the city is their sum. city: only a city-wide figure (ratios, city bodies).
# all: a flag every unit must meet (市、旗区政务服务中心): the city reports its own row, each district
# its own, and the city figure is 1 only when the city and every district in scope report 1 that month.
Aggregation = Literal["sum", "city", "all"]
# count/amount are non-negative; ratio is a percentage 0-100; flag is 1 (done) or 0 (not yet).
ValueType = Literal["count", "amount", "ratio", "flag"]


class TargetsError(ValueError):
    """targets.yaml is unusable; the message lists every problem with the entry it belongs to."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("targets.yaml 校验失败 / invalid:\n" + "\n".join(f"- {p}" for p in problems))


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Bureau(_Model):
    id: str
    name_zh: str
    name_en: str


class District(_Model):
    id: str
    name_zh: str
    name_en: str
    kind: Literal["district", "banner", "zone", "city"]
    aliases: list[str] = Field(default_factory=list)


class Section(_Model):
    """A numbered item of the policy (一, 二(一) … 四(七)) with its heading as the text gives it.

    The order of targets.yaml `sections:` is the policy's order: codes do not sort by Unicode
    (三(七) would come before 三(三)), so every list of sections follows this order instead."""

    code: str
    heading_zh: str
    heading_en: str

    def label(self, lang: Literal["zh", "en"]) -> str:
        """三(二) 提供优质的住房保障服务 / 三(二) Quality housing support (the code as the text writes it)."""
        return f"{self.code} {self.heading_zh if lang == 'zh' else self.heading_en}"


class Kpi(_Model):
    """A figure bureaus report monthly. Activity KPIs (no target) track people served or money paid."""

    id: str
    section: str
    name_zh: str
    name_en: str
    unit_zh: str
    unit_en: str
    value_type: ValueType
    reporting: Reporting
    aggregation: Aggregation
    lead: str
    co: list[str] = Field(default_factory=list)
    activity: bool = False
    source: str


def _as_date(v: object) -> object:
    """YAML gives dates as datetime.date; "2025", "2025年底" or a bare number is a mistake."""
    if v is None or isinstance(v, dt.date):
        return v
    if isinstance(v, str):
        try:
            return dt.date.fromisoformat(v)
        except ValueError as exc:
            raise ValueError(f"不是日期 (YYYY-MM-DD): {v!r}") from exc
    raise ValueError(f"不是日期 (YYYY-MM-DD): {v!r}")


class Baseline(_Model):
    value: float
    date: dt.date

    _date = field_validator("date", mode="before")(classmethod(lambda cls, v: _as_date(v)))


class Milestone(_Model):
    date: dt.date
    value: float

    _date = field_validator("date", mode="before")(classmethod(lambda cls, v: _as_date(v)))


class Target(_Model):
    id: str
    kpi: str
    section: str
    name_zh: str
    name_en: str
    kind: Kind
    comparator: Comparator
    value: float
    tolerance: float | None = None  # for "~" (左右): met within value ± tolerance, same unit as value
    deadline: dt.date
    start: dt.date | None = None  # start of the target period; default: the policy's start
    baseline: Baseline | None = None
    scope: Literal["city"] | list[str] = "city"
    milestones: list[Milestone] = Field(default_factory=list)
    source: str
    note: str | None = None
    # What the policy text does not say and this file assumes until the lead bureau confirms it:
    # shown as 假设，待确认 beside the figure (target detail, deck, workbook).
    assumed: list[Literal["baseline", "deadline", "tolerance", "reading", "milestones"]] = Field(default_factory=list)
    # A target the text sets inside another one ("其中…筹建9500套以上" of the 1.5万套): same KPI, a part
    # of its scope. The parent's district split gives these districts this value first (docs/progress.md).
    part_of: str | None = None
    # Filled from the warehouse, never written in targets.yaml: the assumed items the lead bureau has
    # confirmed or corrected in the app (monitor.target_settings.effective); shown as 已确认.
    confirmed: list[str] = Field(default_factory=list)

    @field_validator("deadline", "start", mode="before")
    @classmethod
    def _strict_date(cls, v: object) -> object:
        return _as_date(v)


class Commitment(_Model):
    """A commitment of the policy with no number and no date (暖商保, 绿色通道, 人才驿站 …).

    It has no deadline, so nothing about it can be behind: monitor.commitments reads its state
    (已落实 / 推进中 / 未报送) from ``kpis``, the monthly figures showing it is delivered — at most one
    flag (1 once the service is in place) and any activity figures."""

    id: str
    section: str
    name_zh: str
    name_en: str
    lead: str
    co: list[str] = Field(default_factory=list)
    kpis: list[str] = Field(default_factory=list)
    source: str
    note: str | None = None


class Thresholds(_Model):
    at_risk: float = 0.85  # forecast reaches >= 85% of the remaining distance -> at_risk, below -> off_track
    stale_months: int = 2  # no figure in the last N reporting months -> no_data
    trend_months: int = 9  # window of the Theil-Sen slope


class ReportingRules(_Model):
    """When a month's report is due and how large an upload may be (targets.yaml `reporting:`)."""

    due_day: int = 10  # a month's report is due on this day of the following month
    max_upload_mb: float = 20.0


class Policy(_Model):
    title: str
    issued: dt.date
    start: dt.date  # first reportable month (first day)


class TargetsConfig(_Model):
    version: int
    policy: Policy
    thresholds: Thresholds = Thresholds()
    reporting: ReportingRules = ReportingRules()
    sections: list[Section] = Field(default_factory=list)  # policy order; empty: codes as first used
    bureaus: list[Bureau]
    districts: list[District]
    kpis: list[Kpi]
    targets: list[Target]
    commitments: list[Commitment] = Field(default_factory=list)  # no number, no date (monitor.commitments)

    @property
    def kpi_by_id(self) -> dict[str, Kpi]:
        return {k.id: k for k in self.kpis}

    @property
    def bureau_by_id(self) -> dict[str, Bureau]:
        return {b.id: b for b in self.bureaus}

    @property
    def district_by_id(self) -> dict[str, District]:
        return {d.id: d for d in self.districts}

    def section_codes(self) -> list[str]:
        """Every section in the policy's order: the `sections:` block, then any code only KPIs,
        targets or commitments use (a config without the block), in the order they first appear."""
        codes = [s.code for s in self.sections]
        for item in [*self.kpis, *self.targets, *self.commitments]:
            if item.section not in codes:
                codes.append(item.section)
        return codes

    def section_label(self, code: str, lang: Literal["zh", "en"]) -> str:
        """三(二) 提供优质的住房保障服务; a code without a heading stays as it is."""
        found = next((s for s in self.sections if s.code == code), None)
        return found.label(lang) if found else code

    def reporting_districts(self) -> list[District]:
        """The 10 reporting units (7 banners, 2 districts, 高新区), without the city."""
        return [d for d in self.districts if d.kind != "city"]

    def kpis_of_bureau(self, bureau_id: str) -> list[Kpi]:
        """KPIs a bureau reports: the lead bureau submits, co-responsible bureaus only help."""
        return [k for k in self.kpis if k.lead == bureau_id]


def _entry(kind: str, idx: int, raw: object) -> str:
    ident = raw.get("id") if isinstance(raw, dict) else None
    return f"{kind}[{idx}]" + (f" (id={ident})" if ident else "")


def _pydantic_problems(exc: ValidationError, raw: dict) -> list[str]:
    problems = []
    for err in exc.errors():
        loc = list(err["loc"])
        where = "targets.yaml"
        if len(loc) >= 2 and isinstance(loc[1], int) and isinstance(raw.get(loc[0]), list):
            items = raw[loc[0]]
            where = _entry(str(loc[0]), loc[1], items[loc[1]] if loc[1] < len(items) else None)
            loc = loc[2:]
        field = ".".join(str(p) for p in loc) or "(entry)"
        msg = err["msg"]
        if err["type"] == "literal_error":
            msg = f"取值 {err.get('input')!r} 无效，应为 {err['ctx']['expected']}"
        problems.append(f"{where}: {field}: {msg}")
    return problems


def _cross_check(cfg: TargetsConfig) -> list[str]:
    problems: list[str] = []
    for kind, items in (
        ("bureaus", cfg.bureaus),
        ("districts", cfg.districts),
        ("kpis", cfg.kpis),
        ("targets", cfg.targets),
    ):
        seen: set[str] = set()
        for i, item in enumerate(items):
            if item.id in seen:
                problems.append(f"{kind}[{i}] (id={item.id}): 重复的 id / duplicate id")
            seen.add(item.id)
    codes = [s.code for s in cfg.sections]
    for i, code in enumerate(codes):
        if code in codes[:i]:
            problems.append(f"sections[{i}] (code={code}): 重复的条目 / duplicate section")
    if codes:
        for kind, items in (("kpis", cfg.kpis), ("targets", cfg.targets)):
            for i, item in enumerate(items):
                if item.section not in codes:
                    problems.append(f"{kind}[{i}] (id={item.id}): 未知政策条目 / unknown section {item.section!r}")
    bureaus = cfg.bureau_by_id
    districts = {d.id for d in cfg.districts if d.kind != "city"}
    if not any(d.kind == "city" and d.id == CITY for d in cfg.districts):
        problems.append(f"districts: 缺少全市 (id={CITY}, kind=city)")
    listed = [d.id for d in cfg.districts if d.id in DISTRICT_ORDER]
    if listed != in_district_order(listed):
        problems.append("districts: 旗区顺序应为官方顺序 / districts must follow the official order (DISTRICT_ORDER)")
    kpis = cfg.kpi_by_id
    for i, k in enumerate(cfg.kpis):
        for b in [k.lead, *k.co]:
            if b not in bureaus:
                problems.append(f"kpis[{i}] (id={k.id}): 未知责任单位 / unknown bureau {b!r}")
        if k.aggregation == "all" and k.value_type != "flag":
            # "every unit has done it" (the minimum over the units) means something only for 0/1 flags
            problems.append(f"kpis[{i}] (id={k.id}): aggregation all 只用于 flag 指标 / all needs a flag kpi")
    for i, t in enumerate(cfg.targets):
        where = f"targets[{i}] (id={t.id})"
        kpi = kpis.get(t.kpi)
        if kpi is None:
            problems.append(f"{where}: 未知指标 / unknown kpi {t.kpi!r}")
        elif kpi.activity:
            problems.append(f"{where}: 指标 {t.kpi} 是无目标的活动指标 / activity kpi cannot carry a target")
        if t.comparator == "~" and not t.tolerance:
            problems.append(f"{where}: “~”（左右）目标需要 tolerance")
        if t.kind == "cap" and t.comparator != "<=":
            problems.append(f"{where}: cap 目标的 comparator 应为 <=")
        if t.kind == "floor":
            if t.comparator != ">=" or t.baseline is not None:
                problems.append(f"{where}: floor（每年不低于）目标的 comparator 应为 >=，且不设基线")
            if kpi is not None and kpi.reporting != "level":
                problems.append(f"{where}: floor 目标的指标应按 level 报送")
        if isinstance(t.scope, list):
            for d in t.scope:
                if d not in districts:
                    problems.append(f"{where}: 未知旗区 / unknown district {d!r}")
        if t.baseline and t.baseline.date > t.deadline:
            problems.append(f"{where}: 基线日期晚于截止日期")
        problems.extend(_assumed_problems(where, t))
        problems.extend(_part_problems(where, t, cfg))
    problems.extend(_commitment_problems(cfg))
    return problems


def _commitment_problems(cfg: TargetsConfig) -> list[str]:
    """A commitment names a section, bureaus and KPIs that exist, once; its state is read from at
    most one flag, so two flags (which one decides?) are refused."""
    problems: list[str] = []
    codes = {s.code for s in cfg.sections}
    bureaus, kpis = cfg.bureau_by_id, cfg.kpi_by_id
    seen: set[str] = set()
    for i, c in enumerate(cfg.commitments):
        where = f"commitments[{i}] (id={c.id})"
        if c.id in seen:
            problems.append(f"{where}: 重复的 id / duplicate id")
        seen.add(c.id)
        if codes and c.section not in codes:
            problems.append(f"{where}: 未知政策条目 / unknown section {c.section!r}")
        for b in [c.lead, *c.co]:
            if b not in bureaus:
                problems.append(f"{where}: 未知责任单位 / unknown bureau {b!r}")
        for k in c.kpis:
            if k not in kpis:
                problems.append(f"{where}: 未知指标 / unknown kpi {k!r}")
        if len(c.kpis) != len(set(c.kpis)):
            problems.append(f"{where}: kpis 有重复项 / duplicate entry in kpis")
        flags = [k for k in c.kpis if k in kpis and kpis[k].value_type == "flag"]
        if len(flags) > 1:
            problems.append(f"{where}: 最多一个完成标志指标 / at most one flag kpi: {', '.join(flags)}")
    return problems


def _part_problems(where: str, target: Target, cfg: TargetsConfig) -> list[str]:
    """A part must sit inside its parent: same KPI, a scope within the parent's, a value no larger."""
    if target.confirmed:
        return [f"{where}: confirmed 由应用内确认生成，不能写在 targets.yaml 中 / not a targets.yaml field"]
    if target.part_of is None:
        return []
    parent = next((t for t in cfg.targets if t.id == target.part_of), None)
    if parent is None:
        return [f"{where}: part_of 指向未知目标 / unknown target {target.part_of!r}"]
    problems: list[str] = []
    if parent.part_of is not None or parent.kpi != target.kpi or target.value > parent.value:
        problems.append(f"{where}: part_of 的目标须为同一指标、不嵌套、数值不小于本目标 / not a part of {parent.id}")
    if not isinstance(target.scope, list) or (isinstance(parent.scope, list) and set(target.scope) - set(parent.scope)):
        problems.append(f"{where}: part_of 目标的范围须为父目标范围内的旗区 / scope outside {parent.id}")
    return problems


def _assumed_problems(where: str, target: Target) -> list[str]:
    """An assumption the page shows as 假设，待确认 must name a value the target has: a marked
    baseline without a baseline would label nothing, and the reader would trust the figure."""
    problems: list[str] = []
    if len(set(target.assumed)) != len(target.assumed):
        problems.append(f"{where}: assumed 有重复项 / duplicate entry in assumed")
    present = {
        "baseline": target.baseline is not None,
        "tolerance": target.tolerance is not None,
        "milestones": bool(target.milestones),
    }
    for field in dict.fromkeys(target.assumed):
        if not present.get(field, True):
            problems.append(f"{where}: assumed 含 {field}，但目标没有 {field} / assumed {field} is not set")
    return problems


def parse_targets(raw: object) -> TargetsConfig:
    """Validate an already-parsed YAML document."""
    if not isinstance(raw, dict):
        raise TargetsError(["targets.yaml: 顶层应为映射 / top level must be a mapping"])
    try:
        cfg = TargetsConfig.model_validate(raw)
    except ValidationError as exc:
        raise TargetsError(_pydantic_problems(exc, raw)) from None
    problems = _cross_check(cfg)
    if problems:
        raise TargetsError(problems)
    return cfg


def targets_path() -> Path:
    """MONITOR_TARGETS overrides the repository's targets.yaml (benchmarks, other programmes)."""
    env = os.environ.get("MONITOR_TARGETS")
    return Path(env) if env else DEFAULT_TARGETS


def load_targets(path: Path | str | None = None) -> TargetsConfig:
    """Read and validate targets.yaml; raise TargetsError naming every bad entry."""
    text = Path(path or targets_path()).read_text(encoding="utf-8")
    try:
        # libyaml's safe loader when present: 4x faster on a province-size file, same safety
        raw = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as exc:
        raise TargetsError([f"targets.yaml: YAML 语法错误: {exc}"]) from None
    return parse_targets(raw)
