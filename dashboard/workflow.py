"""The monthly loop's reads and writes for the pages (issues 13 and 14): confirmations and district
quotas (monitor.target_settings), review (monitor.review), explanations and notes (monitor.explanations).

The same pattern as dashboard.data, whose connection and data version it uses: a public function reads
the version and calls a cached private function keyed by it; writes go through the monitor modules,
which hold the process's writer and check every role on the server.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from dashboard import data
from monitor import actions, explanations, review, target_settings
from monitor.auth import User
from monitor.targets import TargetsConfig

# -- what the lead bureau confirmed of the assumptions, and district quotas (monitor.target_settings)


def targets_in_force() -> TargetsConfig:
    """targets.yaml with the baselines and deadlines in force and confirmed items marked: what the
    pages show beside a figure (the engine reads the same settings from the warehouse)."""
    return _targets_in_force(data.version())


@st.cache_resource(show_spinner=False, max_entries=4)
def _targets_in_force(v: str) -> TargetsConfig:
    return target_settings.effective(data.config(), data.con())


def setting_history(target_id: str) -> pd.DataFrame:
    """Every confirmation, correction and quota change of one target, newest first."""
    return _setting_history(data.version(), target_id)


@st.cache_data(show_spinner=False)
def _setting_history(v: str, target_id: str) -> pd.DataFrame:
    return target_settings.history(data.con(), target_id)


def quota_targets() -> list[str]:
    """Ids of the targets with district quotas in force (the districts page names them)."""
    return _quota_targets(data.version())


@st.cache_data(show_spinner=False)
def _quota_targets(v: str) -> list[str]:
    settings = target_settings.in_force(data.con())
    return sorted(set(settings.loc[settings["field"] == "quota", "target_id"]))


def confirm(user: User, target_id: str, item: str, reason: str) -> int:
    return target_settings.confirm(data.con(), data.config(), user, target_id, item, reason)


def correct_baseline(user: User, target_id: str, value: float, since: dt.date, reason: str) -> int:
    return target_settings.correct_baseline(data.con(), data.config(), user, target_id, value, since, reason)


def correct_deadline(user: User, target_id: str, deadline: dt.date, reason: str) -> int:
    return target_settings.correct_deadline(data.con(), data.config(), user, target_id, deadline, reason)


def set_quotas(user: User, target_id: str, wanted: dict[str, float | None], reason: str) -> list[int]:
    return target_settings.set_quotas(data.con(), data.config(), user, target_id, wanted, reason)


# -- 审核: a bureau's approver reviews its reporters' submissions (monitor.review; pages/review.py)


def review_queue(bureau_id: str, status: str) -> pd.DataFrame:
    """A bureau's accepted submissions in one review state (pending, returned), newest first."""
    return _review_queue(data.version(), bureau_id, status)


@st.cache_data(show_spinner=False)
def _review_queue(v: str, bureau_id: str, status: str) -> pd.DataFrame:
    return review.submissions(data.con(), bureau_id, status)


def review_figures(submission_id: int) -> pd.DataFrame:
    """The figures a submission would change, beside the approved figure in force (review.figures)."""
    return _review_figures(data.version(), submission_id)


@st.cache_data(show_spinner=False)
def _review_figures(v: str, submission_id: int) -> pd.DataFrame:
    return review.figures(data.con(), submission_id)


def submission_months(submission_id: int) -> list[dt.date]:
    """The months a submission holds figures for (the reporter's list of returned submissions)."""
    return _submission_months(data.version(), submission_id)


@st.cache_data(show_spinner=False)
def _submission_months(v: str, submission_id: int) -> list[dt.date]:
    return review.periods(data.con(), submission_id)


def returned_open(bureau_id: str) -> int:
    """Returned submissions the bureau has not answered with a new one yet (a reporter's open item)."""
    return _returned_open(data.version(), bureau_id)


@st.cache_data(show_spinner=False)
def _returned_open(v: str, bureau_id: str) -> int:
    return review.returned_open(data.con(), bureau_id)


def approval_required(bureau_id: str) -> bool:
    """Not cached: an admin's switch does not change the data version, and the read is one row."""
    return review.approval_required(data.con(), bureau_id)


def approve(user: User, submission_id: int) -> None:
    review.approve(data.con(), user, submission_id)


def return_submission(user: User, submission_id: int, comment: str) -> None:
    review.return_submission(data.con(), user, submission_id, comment)


def set_approval_required(user: User, bureau_id: str, required: bool) -> None:
    review.set_approval_required(data.con(), user, bureau_id, required)


# -- 情况说明 and 备注 (monitor.explanations)


def explanation_history(target_id: str) -> pd.DataFrame:
    """A target's explanation in force for each month, newest month first (with how many versions)."""
    return _explanation_history(data.version(), target_id)


@st.cache_data(show_spinner=False)
def _explanation_history(v: str, target_id: str) -> pd.DataFrame:
    return explanations.history(data.con(), target_id)


def latest_explanations(target_ids: tuple[str, ...], period: dt.date) -> pd.DataFrame:
    """Per target, the explanation in force for the month or the newest before it."""
    return _latest_explanations(data.version(), target_ids, period)


@st.cache_data(show_spinner=False)
def _latest_explanations(v: str, target_ids: tuple[str, ...], period: dt.date) -> pd.DataFrame:
    return explanations.latest(data.con(), list(target_ids), period)


def figure_notes(kpi_id: str, period: dt.date) -> pd.DataFrame:
    """The 备注 of a KPI's current figures for the month (one per district)."""
    return _figure_notes(data.version(), kpi_id, period)


@st.cache_data(show_spinner=False)
def _figure_notes(v: str, kpi_id: str, period: dt.date) -> pd.DataFrame:
    return explanations.figure_notes(data.con(), [kpi_id], period)


def required_explanations(bureau_id: str, period: dt.date) -> list[explanations.Required]:
    """The bureau's targets that need an explanation for the month and have none (status as of the
    month on the figures in the warehouse now: before the report being submitted)."""
    return explanations.required(data.con(), data.config(), bureau_id, period, data.scorecard(period))


def save_explanation(
    user: User, target_id: str, period: dt.date, progress_text: str, problems: str, next_steps: str
) -> int:
    """Append the explanation (monitor.explanations.save checks who and what); its version."""
    return explanations.save(data.con(), data.config(), user, target_id, period, progress_text, problems, next_steps)


# -- what the overview's grids show beside each status (issue 17): read once a page, not twice a grid


def follow_up(as_of: dt.date) -> pd.DataFrame:
    """Per target of targets.yaml (the index), what the overview shows beside its status: the 督办
    actions not closed (open_actions, overdue_actions, overdue judged on data.today()) and the
    explanation in force for as_of or the newest before it (monitor.explanations.COLUMNS but
    target_id; NaN where the target has none).

    Keyed by the audit version: every action step is audited, and the data version does not see actions."""
    return _follow_up(data.audit_version(), as_of, data.today())


@st.cache_data(show_spinner=False)
def _follow_up(v: str, as_of: dt.date, day: dt.date) -> pd.DataFrame:
    cursor = data.con()
    ids = [t.id for t in data.config().targets]
    counts = actions.counts(cursor, ids, today=day)
    frame = explanations.latest(cursor, ids, as_of).set_index("target_id").reindex(pd.Index(ids, name="target_id"))
    frame["open_actions"] = [counts.get(t, (0, 0))[0] for t in ids]
    frame["overdue_actions"] = [counts.get(t, (0, 0))[1] for t in ids]
    return frame
