"""What the lead bureau confirms or corrects of targets.yaml's assumptions, and district quotas (任务分解).

targets.yaml stays the reading of the policy text; what a bureau decides later is data: every change is
a new row of ``target_settings`` (its ``setting_id`` is its version), with who, when and why, and an
audit event. The engine reads the settings in force through the ``effective_targets`` and
``current_target_settings`` views (monitor/schema.py); the pages, the briefing and the command line read
``effective(cfg, con)``, the same targets with the confirmed values, so they cannot disagree.

Only an assumed item can be confirmed or corrected: what the text states is not the bureau's to change.
Every role check is here, on the server; the page only hides what a user may not do.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import duckdb
import pandas as pd

from monitor import db, fmt, i18n
from monitor.auth import User
from monitor.targets import Target, TargetsConfig

Field = Literal["baseline", "deadline", "tolerance", "reading", "milestones"]
CORRECTABLE: tuple[str, ...] = ("baseline", "deadline")
MAX_REASON = 500
LATEST_DEADLINE = dt.date(2035, 12, 31)

_HISTORY_COLUMNS = [
    "setting_id", "target_id", "field", "district_id", "value", "value_date", "action", "reason", "user_name",
    "set_at",
]  # fmt: skip


class SettingError(i18n.CatalogueError):
    """A refused confirmation, correction or quota; the text is in the i18n catalogue (key, params)."""


@dataclass(frozen=True)
class Change:
    """One setting to write: what, for which district (quotas), the new value, and the action."""

    field: str
    action: Literal["confirm", "correct", "set", "clear"]
    district_id: str | None = None
    value: float | None = None
    value_date: dt.date | None = None


def may_decide(user: User, target: Target, cfg: TargetsConfig) -> bool:
    """The lead bureau's reporters and the admins decide a target's assumptions and quotas."""
    lead = cfg.kpi_by_id[target.kpi].lead
    return user.active and (user.role == "admin" or (user.role == "reporter" and user.bureau_id == lead))


def _target(cfg: TargetsConfig, target_id: str) -> Target:
    found = next((t for t in cfg.targets if t.id == target_id), None)
    if found is None:
        raise SettingError("setting_unknown_target", target=target_id)
    return found


def _check_reason(reason: str) -> str:
    text = reason.strip()
    if not text:
        raise SettingError("setting_reason_required")
    if len(text) > MAX_REASON:
        raise SettingError("setting_reason_too_long", max=MAX_REASON, length=len(text))
    return text


def _item(field: str) -> dict[str, str]:
    """An assumed item named in both languages (基线 / baseline) for a message."""
    known = field in fmt.ASSUMED_ITEMS
    return {f"item_{lang}": i18n.t(f"assumed_{field}", lang) if known else field for lang in ("zh", "en")}


def _allowed(user: User, target: Target, cfg: TargetsConfig) -> None:
    if not may_decide(user, target, cfg):
        bureau = cfg.bureau_by_id[cfg.kpi_by_id[target.kpi].lead]
        raise SettingError("setting_not_allowed", bureau_zh=bureau.name_zh, bureau_en=bureau.name_en)


def _write(con: duckdb.DuckDBPyConnection, user: User, target_id: str, changes: list[Change], reason: str) -> list[int]:
    """All changes of one decision in one transaction, with one audit event naming them."""
    ids: list[int] = []
    with db.transaction(con):
        for change in changes:
            setting_id = db.next_id(con, "target_setting_seq")
            con.execute(
                "insert into target_settings values (?, ?, ?, ?, ?, ?, ?, ?, ?, now())",
                [
                    setting_id, target_id, change.field, change.district_id, change.value, change.value_date,
                    change.action, reason, user.user_name,
                ],
            )  # fmt: skip
            ids.append(setting_id)
        db.audit(
            con,
            user.user_name,
            "target_setting",
            {
                "target": target_id,
                "reason": reason,
                "changes": [_described(change) for change in changes],
                "versions": ids,
            },
        )
    return ids


def _described(change: Change) -> dict[str, object]:
    return {
        "field": change.field,
        "action": change.action,
        "district": change.district_id,
        "value": change.value,
        "date": change.value_date,
    }


def in_force(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Every setting in force (current_target_settings), one row per (target, field, district)."""
    columns = ", ".join(_HISTORY_COLUMNS)  # constants
    rows = con.execute(f"select {columns} from current_target_settings order by setting_id").fetchall()
    return pd.DataFrame(rows, columns=_HISTORY_COLUMNS)


def history(con: duckdb.DuckDBPyConnection, target_id: str) -> pd.DataFrame:
    """Every change ever made to one target's settings, newest first (the version history)."""
    rows = con.execute(
        f"select {', '.join(_HISTORY_COLUMNS)} from target_settings where target_id = ? order by setting_id desc",
        [target_id],
    ).fetchall()
    return pd.DataFrame(rows, columns=_HISTORY_COLUMNS)


def effective(cfg: TargetsConfig, con: duckdb.DuckDBPyConnection) -> TargetsConfig:
    """targets.yaml's targets with the baselines and deadlines in force, and each confirmed or corrected
    item moved from ``assumed`` to ``confirmed``: what every page, deck and workbook shows."""
    settings = in_force(con)
    settings = settings[settings["district_id"].isna()]
    if settings.empty:
        return cfg
    by_target: dict[str, pd.DataFrame] = dict(tuple(settings.groupby("target_id")))
    targets = []
    for target in cfg.targets:
        rows = by_target.get(target.id)
        if rows is None:
            targets.append(target)
            continue
        # only items targets.yaml still assumes: a value the text states is never overridden
        decided = {
            str(f): r
            for f, r in zip(rows["field"], rows.itertuples(index=False), strict=True)
            if str(f) in target.assumed
        }
        update: dict[str, object] = {
            "assumed": [item for item in target.assumed if item not in decided],
            "confirmed": [item for item in target.assumed if item in decided],
        }
        if "baseline" in decided and target.baseline is not None:
            row = decided["baseline"]
            update["baseline"] = target.baseline.model_copy(update={"value": float(row.value), "date": row.value_date})
        if "deadline" in decided:
            update["deadline"] = decided["deadline"].value_date
        targets.append(target.model_copy(update=update))
    return cfg.model_copy(update={"targets": targets})


def confirm(
    con: duckdb.DuckDBPyConnection, cfg: TargetsConfig, user: User, target_id: str, field: str, reason: str
) -> int:
    """Confirm an assumed item as targets.yaml (or an earlier correction) reads it; returns its version."""
    target = _target(cfg, target_id)
    _allowed(user, target, cfg)
    reason = _check_reason(reason)
    current = _target(effective(cfg, con), target_id)
    if field not in target.assumed:
        raise SettingError("setting_not_assumed", **_item(field))
    change = Change(field=field, action="confirm")
    if field == "baseline" and current.baseline is not None:
        change = Change(field, "confirm", value=current.baseline.value, value_date=current.baseline.date)
    elif field == "deadline":
        change = Change(field, "confirm", value_date=current.deadline)
    return _write(con, user, target_id, [change], reason)[0]


def _number(value: float, target: Target, cfg: TargetsConfig) -> float:
    """A baseline or quota the bureau typed: finite, not negative, a percentage at most 100, a flag 0 or 1."""
    value_type = cfg.kpi_by_id[target.kpi].value_type
    if not math.isfinite(value) or value < 0:
        raise SettingError("setting_value_negative")
    if value_type == "ratio" and value > 100:
        raise SettingError("setting_ratio_range")
    if value_type == "flag" and value not in (0, 1):
        raise SettingError("setting_flag_range")
    return float(value)


def correct_baseline(
    con: duckdb.DuckDBPyConnection,
    cfg: TargetsConfig,
    user: User,
    target_id: str,
    value: float,
    since: dt.date,
    reason: str,
) -> int:
    """Replace an assumed baseline (value and the month it was counted at); returns its version."""
    target = _target(cfg, target_id)
    _allowed(user, target, cfg)
    reason = _check_reason(reason)
    if "baseline" not in target.assumed or target.baseline is None:
        raise SettingError("setting_not_assumed", **_item("baseline"))
    current = _target(effective(cfg, con), target_id)
    if since > current.deadline:
        raise SettingError("setting_baseline_after_deadline")
    change = Change("baseline", "correct", value=_number(value, target, cfg), value_date=since)
    return _write(con, user, target_id, [change], reason)[0]


def correct_deadline(
    con: duckdb.DuckDBPyConnection, cfg: TargetsConfig, user: User, target_id: str, deadline: dt.date, reason: str
) -> int:
    """Replace an assumed deadline by the last day of a month; returns its version."""
    target = _target(cfg, target_id)
    _allowed(user, target, cfg)
    reason = _check_reason(reason)
    if "deadline" not in target.assumed:
        raise SettingError("setting_not_assumed", **_item("deadline"))
    if (deadline + dt.timedelta(days=1)).day != 1:
        raise SettingError("setting_deadline_month_end")  # deadlines are month ends: 截至某月底
    current = _target(effective(cfg, con), target_id)
    earliest = current.baseline.date if current.baseline is not None else cfg.policy.issued
    if not (max(earliest, cfg.policy.issued) <= deadline <= LATEST_DEADLINE):
        raise SettingError("setting_deadline_range", latest=LATEST_DEADLINE.year)
    return _write(con, user, target_id, [Change("deadline", "correct", value_date=deadline)], reason)[0]


def splittable(target: Target, cfg: TargetsConfig) -> bool:
    """A count or amount the districts add up to, over more than one district, and not itself a part
    (a part's districts take their quotas from its parent): the targets quotas can be set for."""
    kpi = cfg.kpi_by_id[target.kpi]
    scope = cfg_scope(target, cfg)
    return kpi.value_type in ("count", "amount") and kpi.aggregation == "sum" and len(scope) > 1 and not target.part_of


def cfg_scope(target: Target, cfg: TargetsConfig) -> list[str]:
    """The reporting districts in a target's scope, in their official order."""
    districts = [d.id for d in cfg.reporting_districts()]
    return districts if target.scope == "city" else [d for d in districts if d in target.scope]


def quotas(con: duckdb.DuckDBPyConnection, target_id: str) -> dict[str, float]:
    """The quotas in force for one target: district id -> its value."""
    rows = con.execute(
        "select district_id, value from current_target_settings where target_id = ? and field = 'quota'",
        [target_id],
    ).fetchall()
    return {str(d): float(v) for d, v in rows}


def set_quotas(
    con: duckdb.DuckDBPyConnection,
    cfg: TargetsConfig,
    user: User,
    target_id: str,
    wanted: Mapping[str, float | None],
    reason: str,
) -> list[int]:
    """Set, change or withdraw (None) district quotas of a target in one decision; returns the versions.

    Refused when the quotas of every district add up to less than the target, or those of a part's
    districts to less than the part (the text's 9,500 for four districts): a split must deliver the target."""
    target = _target(cfg, target_id)
    _allowed(user, target, cfg)
    if not splittable(target, cfg):
        raise SettingError("setting_not_splittable")
    reason = _check_reason(reason)
    scope = cfg_scope(target, cfg)
    current = quotas(con, target_id)
    after = dict(current)
    changes: list[Change] = []
    for district_id, value in wanted.items():
        if district_id not in scope:
            raise SettingError("setting_unknown_district", district=district_id)
        if value is None:
            if district_id in current:
                changes.append(Change("quota", "clear", district_id=district_id))
                after.pop(district_id)
            continue
        value = _number(float(value), target, cfg)
        if current.get(district_id) != value:
            changes.append(Change("quota", "set", district_id=district_id, value=value))
        after[district_id] = value
    if not changes:
        raise SettingError("setting_nothing_changed")
    kpi = cfg.kpi_by_id[target.kpi]
    units = (kpi.unit_zh, kpi.unit_en)
    whole = "whole_target" if target.scope == "city" else "this_target"
    _check_total(after, scope, target.value, (i18n.t(whole, "zh"), i18n.t(whole, "en")), units)
    for part in (t for t in cfg.targets if t.part_of == target.id):
        part_scope = cfg_scope(part, cfg)
        names = ("、".join(cfg.district_by_id[d].name_zh for d in part_scope),
                 ", ".join(cfg.district_by_id[d].name_en for d in part_scope))  # fmt: skip
        _check_total(after, part_scope, part.value, names, units)
    return _write(con, user, target_id, changes, reason)


def _check_total(
    after: Mapping[str, float], scope: list[str], goal: float, what: tuple[str, str], units: tuple[str, str]
) -> None:
    """Refuse quotas that, once every district of ``scope`` has one, add up to less than ``goal``."""
    if all(d in after for d in scope):
        total = sum(after[d] for d in scope)
        if total < goal:
            raise SettingError(
                "setting_quota_short",
                what_zh=what[0],
                what_en=what[1],
                total_zh=fmt.figure(total, *units, "zh"),
                total_en=fmt.figure(total, *units, "en"),
                goal_zh=fmt.figure(goal, *units, "zh"),
                goal_en=fmt.figure(goal, *units, "en"),
            )
