"""On the target detail: the lead bureau confirms or corrects what targets.yaml assumes and sets district
quotas (任务分解), each with a reason; everyone sees the version history.

UI only: the rules, the role check and the write are monitor.target_settings' (through dashboard.data);
a refused decision shows its message and changes nothing.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from dashboard import data, ui, workflow
from dashboard.ui import T
from monitor import fmt, target_settings
from monitor.auth import User
from monitor.target_settings import SettingError
from monitor.targets import Target

_MONTHS = list(range(1, 13))


def _month_end(year: int, month: int) -> dt.date:
    first_next = dt.date(year + (month == 12), month % 12 + 1, 1)
    return first_next - dt.timedelta(days=1)


def _report(action: object) -> None:
    """Run a decision; show its version or the refusal (the message is ours, shown as text)."""
    try:
        versions = action() if callable(action) else action
    except SettingError as exc:
        st.error(fmt.plain(exc.text(ui.lang())))
        return
    shown = versions if isinstance(versions, list) else [versions]
    # rerun so the marks, terms and history above the form show the decision; the message survives it
    st.session_state["_decision_saved"] = T("setting_saved", versions="、".join(f"v{v}" for v in shown))
    st.rerun()


def _assumption_form(user: User, target: Target, item: str, unit_zh: str, unit_en: str) -> None:
    """One assumed item: confirm it as it stands, or (baseline, deadline) correct it."""
    with st.form(f"decide_{target.id}_{item}", clear_on_submit=False, border=True):
        terms = dict(fmt.target_terms(target, unit_zh, unit_en, ui.lang()))
        label = {"deadline": T("col_deadline"), "tolerance": T("goal_range"), "milestones": T("milestones_label")}
        now = terms.get(label.get(item, T("baseline")), "") if item != "reading" else (target.note or "")
        st.markdown(f"**{fmt.plain(T('assumed_' + item))}**")
        st.caption(fmt.plain(T("setting_now", value=now)))
        choices = ["confirm", "correct"] if item in target_settings.CORRECTABLE else ["confirm"]
        action = st.radio(T("setting_action"), choices, format_func=lambda c: T(f"setting_{c}"), horizontal=True)
        value, since, deadline = None, None, None
        if item == "baseline" and target.baseline is not None:
            value = st.number_input(
                T("setting_new_baseline", unit=unit_zh if ui.lang() == "zh" else unit_en),
                min_value=0.0,
                value=float(target.baseline.value),
            )
            since = ui.month_select(T("setting_baseline_month"), _baseline_months(target), f"since_{target.id}")
        if item == "deadline":
            left, right = st.columns(2)
            year = left.selectbox(T("setting_year"), list(range(2024, 2036)), index=target.deadline.year - 2024)
            month = right.selectbox(T("setting_month"), _MONTHS, index=target.deadline.month - 1)
            deadline = _month_end(int(year), int(month))
        reason = st.text_area(T("setting_reason"), max_chars=target_settings.MAX_REASON)
        if not st.form_submit_button(T("setting_submit")):
            return
    if action == "confirm":
        _report(lambda: workflow.confirm(user, target.id, item, reason))
    elif item == "baseline":
        _report(lambda: workflow.correct_baseline(user, target.id, float(value or 0), since, reason))
    else:
        _report(lambda: workflow.correct_deadline(user, target.id, deadline, reason))


def _baseline_months(target: Target) -> list[dt.date]:
    """The months a baseline may be counted at: from 2023 to the deadline, the current one first."""
    months = pd.date_range("2023-01-01", target.deadline, freq="MS").date.tolist()
    current = target.baseline.date.replace(day=1) if target.baseline is not None else months[0]
    return [current, *[m for m in reversed(months) if m != current]]


def _quota_form(user: User, target: Target, units: pd.DataFrame, unit_zh: str, unit_en: str) -> None:
    """District quotas as a table: the district target in force and where it comes from; a blank
    quota means none (the rule of quotas.allot gives that district its share)."""
    cfg = data.config()
    lang = ui.lang()
    scope = target_settings.cfg_scope(target, cfg)
    current = dict(zip(units["district_id"], units["target_value"], strict=True)) if not units.empty else {}
    notes = dict(zip(units["district_id"], units[f"reason_{lang}"], strict=True)) if not units.empty else {}
    quotas = _quotas(target.id)
    frame = pd.DataFrame(
        {
            "district_id": scope,
            T("col_district"): [getattr(cfg.district_by_id[d], f"name_{lang}") for d in scope],
            T("quota_in_force"): [ui.number(current.get(d), unit_zh, unit_en) for d in scope],
            T("quota_basis"): [_basis(notes.get(d, "")) for d in scope],
            T("quota_value"): [quotas.get(d) for d in scope],
        }
    )
    with st.form(f"quotas_{target.id}", border=True):
        st.markdown(f"**{T('quota_title')}**")
        st.caption(T("quota_help"))
        edited = st.data_editor(
            frame,
            column_config={
                "district_id": None,
                T("quota_value"): st.column_config.NumberColumn(T("quota_value"), min_value=0.0, step=1.0),
            },
            disabled=[T("col_district"), T("quota_in_force"), T("quota_basis")],
            hide_index=True,
            placeholder="",  # a district without a quota shows an empty cell, not "None"
            key=f"quota_editor_{target.id}",
        )
        reason = st.text_area(
            T("setting_reason"), max_chars=target_settings.MAX_REASON, key=f"quota_reason_{target.id}"
        )
        if not st.form_submit_button(T("setting_submit")):
            return
    wanted = {
        str(d): None if pd.isna(v) else float(v)
        for d, v in zip(edited["district_id"], edited[T("quota_value")], strict=True)
        if not (pd.isna(v) and d not in quotas)
    }
    _report(lambda: workflow.set_quotas(user, target.id, wanted, reason))


def _quotas(target_id: str) -> dict[str, float]:
    """The quotas in force (the newest row per district, unless withdrawn), from the history."""
    history = workflow.setting_history(target_id)
    latest = history[history["field"] == "quota"].drop_duplicates("district_id")
    kept = latest[latest["action"] != "clear"]
    return {str(d): float(v) for d, v in zip(kept["district_id"], kept["value"], strict=True)}


def _basis(reason: str) -> str:
    """The note of a district's reason (the part in brackets at the end), e.g. 旗区任务分解：2,400套."""
    start = max(reason.rfind("（"), reason.rfind(" ("))
    return reason[start:].strip(" （()）") if start >= 0 else ""


def _shown_value(value: object, date: object, unit_zh: str, unit_en: str) -> str:
    """A setting's value as the pages show figures: a deadline as its month, a baseline or quota in its unit."""
    if pd.notna(value):
        return ui.number(float(value), unit_zh, unit_en)  # type: ignore[arg-type]
    return ui.month(date) if pd.notna(date) else ""


def history(target_id: str, unit_zh: str, unit_en: str) -> None:
    """The version history of a target's confirmations, corrections and quotas (shown as text)."""
    rows = workflow.setting_history(target_id)
    if rows.empty:
        return
    lang = ui.lang()
    names = {d.id: (d.name_zh if lang == "zh" else d.name_en) for d in data.config().districts}
    table = pd.DataFrame(
        {
            T("setting_version"): [f"v{v}" for v in rows["setting_id"]],
            T("setting_item"): [T(f"setting_field_{f}") for f in rows["field"]],
            T("col_district"): [names.get(d, "") if isinstance(d, str) else "" for d in rows["district_id"]],
            T("setting_action"): [T(f"setting_{a}") for a in rows["action"]],
            T("setting_value"): [
                _shown_value(v, d, unit_zh, unit_en) for v, d in zip(rows["value"], rows["value_date"], strict=True)
            ],
            T("setting_by"): rows["user_name"],
            T("setting_at"): [ts.strftime("%Y-%m-%d %H:%M") for ts in rows["set_at"]],
            T("setting_reason"): rows["reason"],
        }
    )
    with st.expander(T("setting_history", n=len(rows))):
        st.dataframe(table, hide_index=True, width="stretch")


def decide(user: User, target: Target, units: pd.DataFrame, unit_zh: str, unit_en: str) -> None:
    """The lead bureau's (or an admin's) forms; nothing for anyone else (the server checks again)."""
    cfg = data.config()
    yaml_target = next(t for t in cfg.targets if t.id == target.id)
    if not target_settings.may_decide(user, yaml_target, cfg):
        return
    open_items = [item for item in fmt.ASSUMED_ITEMS if item in yaml_target.assumed]
    quotas = target_settings.splittable(yaml_target, cfg)
    if not open_items and not quotas:
        return
    saved = st.session_state.pop("_decision_saved", None)
    with st.expander(T("decide_title"), expanded=saved is not None):
        if saved:
            st.success(saved)
        st.caption(T("decide_help"))
        for item in open_items:
            _assumption_form(user, target, item, unit_zh, unit_en)
        if quotas:
            _quota_form(user, target, units, unit_zh, unit_en)
