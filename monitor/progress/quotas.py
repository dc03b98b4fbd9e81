"""A district's share of a count or amount target: its quota (任务分解), what the text sets, or an equal split.

One rule, applied in this order for a target whose districts add up to it (docs/progress.md, "District
targets"):

1. A district with a quota in force (set in the app by the lead bureau, monitor.target_settings) has it.
   A part of a target (``part_of``: 其中…9500套 of the 1.5万套) uses its parent's quotas: a district has
   one task for one KPI.
2. A part the text sets inside the target: its districts without a quota share what is left of the
   part's value equally.
3. The districts left share what is left of the target equally (never below 0).

Every district row of the scorecard says which rule gave its share, so nobody takes an equal split for
a decision.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from monitor import fmt


@dataclass(frozen=True)
class Allotment:
    """One district's target value and the note saying where it comes from (both languages)."""

    value: float
    note_zh: str
    note_en: str


@dataclass(frozen=True)
class Part:
    """A part the text sets inside a target: its value over some of the target's districts."""

    value: float
    districts: tuple[str, ...]


def allot(
    value: float,
    districts: Sequence[str],
    quotas: Mapping[str, float],
    parts: Sequence[Part],
    units: tuple[str, str],
    *,
    whole_city: bool,
    is_part: bool,
) -> dict[str, Allotment]:
    """Each district's target value for a target of ``value`` over ``districts`` (see the module rule)."""
    unit_zh, unit_en = units
    out: dict[str, Allotment] = {}
    for district in districts:
        if district in quotas:
            quota = quotas[district]
            out[district] = Allotment(
                quota,
                f"（旗区任务分解：{fmt.number_zh(quota, unit_zh)}）",
                f" (district quota: {fmt.number_en(quota, unit_en)})",
            )
    for part in () if is_part else parts:
        members = [d for d in part.districts if d in districts]
        open_members = [d for d in members if d not in out]
        if not open_members:
            continue
        left = max(part.value - sum(out[d].value for d in members if d in out), 0.0)
        zh, en = fmt.number_zh(part.value, unit_zh), fmt.number_en(part.value, unit_en)
        n_members, n_open = len(members), len(open_members)
        if n_open == n_members:
            note = (
                f"（旗区目标：政策规定其中{n_members}个旗区共{zh}，在{n_open}个旗区间均分）",
                f" (district target: the {en} the policy sets for {n_members} districts, split equally over {n_open})",
            )
        else:
            note = (
                f"（旗区目标：政策规定其中{n_members}个旗区共{zh}，减去已分解任务后在其余{n_open}个旗区间均分）",
                f" (district target: the {en} the policy sets for {n_members} districts, less their quotas, split"
                f" equally over the other {n_open})",
            )
        for district in open_members:
            out[district] = Allotment(left / n_open, *note)
    rest = [d for d in districts if d not in out]
    if not rest:
        return out
    left = max(value - sum(a.value for a in out.values()), 0.0)
    n_rest = len(rest)
    if len(out) == 0:
        whole = "全市目标" if whole_city else "本目标"
        note = (
            f"（旗区目标按{whole}在{n_rest}个旗区间均分）",
            f" (district target: an equal 1/{n_rest} share of the whole target)",
        )
    elif any(d in quotas for d in out) and any(d not in quotas for d in out):
        note = (
            f"（旗区目标：全市目标减去政策单列部分和已分解任务后，在其余{n_rest}个旗区间均分）",
            f" (district target: what is left after the policy's part and the quotas, split equally over the other"
            f" {n_rest})",
        )
    elif any(d not in quotas for d in out):
        note = (
            f"（旗区目标：全市目标减去政策单列部分后，在其余{n_rest}个旗区间均分）",
            f" (district target: what the policy leaves after the part it sets, split equally over the other {n_rest})",
        )
    else:
        note = (
            f"（旗区目标：未设任务分解，目标减去已分解任务后在其余{n_rest}个旗区间均分）",
            f" (district target: no quota set; what is left after the quotas, split equally over the other {n_rest})",
        )
    for district in rest:
        out[district] = Allotment(left / n_rest, *note)
    return out
