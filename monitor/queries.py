"""Read models for the dashboard: plain functions of a DuckDB connection returning DataFrames.

No streamlit here (the app caches these in dashboard/data.py). SQL reads like small dbt models:
one CTE a step, every value bound with ?.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd

from monitor import db, demo_state


def data_version(con: duckdb.DuckDBPyConnection) -> str:
    """Changes whenever a submission lands or is approved or returned, targets are reloaded, a bureau
    confirms a target term or sets quotas, or an explanation is saved: the key of every cached query."""
    row = db.one_where_stored(
        con,
        """
        select
            coalesce((select max(submission_id) from submissions), 0) as last_submission,
            coalesce((select count(*) from observations), 0) as observations,
            coalesce((select value from meta where key = 'targets_fingerprint'), '') as targets,
            coalesce((select max(setting_id) from target_settings), 0) as last_setting,
            coalesce((select count(*) from submissions where review_status <> 'pending'), 0) as decided,
            coalesce((select max(explanation_id) from explanations), 0) as last_explanation
        """,
    )
    return ":".join(str(part) for part in row) if row else "0"


def holds_demo_data(con: duckdb.DuckDBPyConnection) -> bool:
    """The demo dataset was loaded: its figures are synthetic, so every page says so (even after a
    real account was added, when the demo passwords are no longer listed)."""
    return db.get_meta(con, "dataset") == "demo"


def is_demo(con: duckdb.DuckDBPyConnection) -> bool:
    """True only while everything in the warehouse is the demo's: the demo flag is set and every
    account and every submission is the demo's (monitor.demo_state.non_demo_content). The sign-in page
    lists the demo passwords on this, so one real account or upload hides them."""
    return holds_demo_data(con) and demo_state.non_demo_content(con) == (0, 0)


def months_with_data(con: duckdb.DuckDBPyConnection) -> list[dt.date]:
    # Every (kpi, district, month) of observations has a current revision, so its months are those of
    # current_observations; reading the table skips the view's window over every row (0.4 s for the
    # first page at province scale, 12 ms this way).
    rows = con.execute("select distinct period from observations order by period desc").fetchall()
    return [r[0] for r in rows]


def reference(con: duckdb.DuckDBPyConnection, table: str) -> pd.DataFrame:
    """bureaus, districts, kpis or targets, in targets.yaml order."""
    order = {"bureaus": "bureau_id", "districts": "sort_order", "kpis": "sort_order", "targets": "sort_order"}[table]
    return con.execute(f"select * from {table} order by {order}").df()  # identifiers from the constant map


def unit_series(con: duckdb.DuckDBPyConnection, kpi_id: str, as_of: dt.date) -> pd.DataFrame:
    """Every reporting unit's current monthly figure for a KPI up to as_of (and the city figure), the
    districts in the official order (targets.DISTRICT_ORDER, the districts table's sort_order): the
    detail page's bars and legend list them so."""
    return con.execute(
        """
        select u.district_id, u.period, u.value
        from unit_values u
        join districts d on d.district_id = u.district_id
        where u.kpi_id = ? and u.period <= ?
        order by d.sort_order, u.period
        """,
        [kpi_id, as_of],
    ).df()


def kpi_submissions(con: duckdb.DuckDBPyConnection, kpi_id: str) -> pd.DataFrame:
    """The submissions behind a KPI's figures, with every revision (old values stay visible)."""
    return con.execute(
        """
        with obs as (
            select * from observations where kpi_id = ?
        ),
        per_submission as (
            select
                submission_id,
                count(*) as figures,
                count(*) filter (where revision > 1) as revisions,
                min(period) as first_period,
                max(period) as last_period
            from obs
            group by submission_id
        )
        select
            s.submission_id, s.submitted_at, s.bureau_id, s.user_name, s.file_name,
            p.figures, p.revisions, p.first_period, p.last_period, s.sha256
        from per_submission as p
        join submissions as s using (submission_id)
        order by s.submitted_at desc
        """,
        [kpi_id],
    ).df()


def kpi_revisions(con: duckdb.DuckDBPyConnection, kpi_id: str) -> pd.DataFrame:
    """(district, month) pairs reported more than once: each revision with its submission."""
    return con.execute(
        """
        with revised as (
            select district_id, period
            from observations
            where kpi_id = ?
            group by district_id, period
            having count(*) > 1
        )
        select o.district_id, o.period, o.revision, o.value, o.submission_id, s.submitted_at, s.user_name, s.reason
        from observations as o
        join revised using (district_id, period)
        join submissions as s using (submission_id)
        where o.kpi_id = ?
        order by o.district_id, o.period, o.revision
        """,
        [kpi_id, kpi_id],
    ).df()


def reporting_status(con: duckdb.DuckDBPyConnection, start: dt.date, as_of: dt.date, due_day: int) -> pd.DataFrame:
    """DHIS2-style reporting rates: one row per bureau and month from the policy start to as_of.

    A bureau is expected to report every month for which it leads at least one KPI. A month counts
    as received when an accepted submission carried a figure for it, and on time when the first
    such submission came by `due_day` of the following month.
    """
    return con.execute(
        """
        with months as (
            select unnest(generate_series(?::date, ?::date, interval 1 month))::date as period
        ),
        reporters as (
            select distinct lead_bureau as bureau_id from kpis
        ),
        expected as (
            select r.bureau_id, m.period from reporters as r cross join months as m
        ),
        received as (
            select s.bureau_id, o.period, min(s.submitted_at) as first_submitted_at
            from observations as o
            join submissions as s using (submission_id)
            where s.outcome = 'accepted'
            group by s.bureau_id, o.period
        ),
        joined as (
            select
                e.bureau_id,
                e.period,
                r.first_submitted_at,
                (e.period + interval 1 month + (? - 1) * interval 1 day) as due_at
            from expected as e
            left join received as r using (bureau_id, period)
        )
        select
            bureau_id,
            period,
            first_submitted_at,
            due_at::date as due_date,
            first_submitted_at is not null as received,
            coalesce(first_submitted_at < due_at + interval 1 day, false) as on_time
        from joined
        order by bureau_id, period
        """,
        [start.replace(day=1), as_of.replace(day=1), due_day],
    ).df()


def rejected_rows(con: duckdb.DuckDBPyConnection, bureau_id: str | None = None, limit: int = 500) -> pd.DataFrame:
    """Rejected rows, newest first; of one bureau only when bureau_id is given (a reporter never sees
    what another bureau typed into its files)."""
    return con.execute(
        """
        select s.submitted_at, s.bureau_id, s.user_name, r.file_name, r.row_number, r.column_name,
               r.value, r.reason_zh, r.reason_en
        from rejected_rows as r
        join submissions as s using (submission_id)
        where ? is null or s.bureau_id = ?
        order by s.submitted_at desc, r.row_number
        limit ?
        """,
        [bureau_id, bureau_id, limit],
    ).df()


def load_warnings(con: duckdb.DuckDBPyConnection, limit: int = 500) -> pd.DataFrame:
    return con.execute(
        """
        select s.submitted_at, s.bureau_id, s.file_name, w.row_number, w.kpi_id, w.district_id, w.period,
               w.value, w.message_zh, w.message_en
        from load_warnings as w
        join submissions as s using (submission_id)
        order by s.submitted_at desc, w.row_number
        limit ?
        """,
        [limit],
    ).df()


def audit_log(con: duckdb.DuckDBPyConnection, limit: int = 500) -> pd.DataFrame:
    """The newest events, for administrators only (pages check the role before calling this)."""
    return con.execute(
        "select event_id, logged_at, user_name, action, detail from audit_log order by event_id desc limit ?",
        [limit],
    ).df()


def audit_version(con: duckdb.DuckDBPyConnection) -> int:
    """The newest event's id: part of the audit log's cache key, since sign-ins and account changes
    are logged without changing the data version."""
    row = db.one_where_stored(con, "select coalesce(max(event_id), 0) as last_event from audit_log")
    return int(row[0]) if row else 0


def submissions(con: duckdb.DuckDBPyConnection, bureau_id: str | None = None, limit: int = 500) -> pd.DataFrame:
    """A bureau's (or every) submission, newest first. note_zh / note_en: a correction's reason as
    typed, or why a file was rejected (its first problem, in both languages from rejected_rows)."""
    return con.execute(
        """
        with picked as (
            select * from submissions
            where ? is null or bureau_id = ?
        ),
        rejection as (
            select r.submission_id, r.reason_zh, min(r.reason_en) as reason_en
            from rejected_rows as r
            semi join picked using (submission_id)
            group by all
        )
        select
            s.submission_id, s.submitted_at, s.bureau_id, s.user_name, s.file_name, s.rows_total,
            s.rows_loaded, s.rows_unchanged, s.rows_rejected, s.outcome,
            s.reason as note_zh, coalesce(r.reason_en, s.reason) as note_en
        from picked as s
        left join rejection as r on r.submission_id = s.submission_id and r.reason_zh = s.reason
        order by s.submission_id desc
        limit ?
        """,
        [bureau_id, bureau_id, limit],
    ).df()


def activity_figures(con: duckdb.DuckDBPyConnection, start: dt.date, as_of: dt.date) -> pd.DataFrame:
    """Every activity KPI (no target: people served, yuan paid) with its newest whole-city monthly
    figure up to as_of, that figure's month, and the total since the policy start (summed only for
    KPIs reported as monthly increments, which all activity KPIs are today). A KPI nobody has
    reported yet has a row with empty figures, so a section still lists what it collects."""
    return con.execute(
        """
        with activity as (
            select kpi_id, section, name_zh, name_en, unit_zh, unit_en, reporting, sort_order
            from kpis
            where activity
        ),
        figures as (
            select c.kpi_id, c.period, c.value
            from city_values as c
            semi join activity using (kpi_id)
            where c.period between ? and ?
        ),
        newest as (
            select kpi_id, max(period) as latest_period from figures group by kpi_id
        ),
        totals as (
            select kpi_id, sum(value) as total from figures group by kpi_id
        )
        select
            a.kpi_id, a.section, a.name_zh, a.name_en, a.unit_zh, a.unit_en, a.reporting,
            n.latest_period, f.value as latest_value,
            case when a.reporting = 'increment' then t.total end as total
        from activity as a
        left join newest as n using (kpi_id)
        left join figures as f on f.kpi_id = a.kpi_id and f.period = n.latest_period
        left join totals as t on t.kpi_id = a.kpi_id
        order by a.sort_order
        """,
        [start.replace(day=1), as_of.replace(day=1)],
    ).df()
