"""The thin layer between the pages and the warehouse: one cached connection, cached queries.

Pages never see the data version. Each public function reads it (max submission id, observation
count, targets fingerprint) and calls a cached private function keyed by it, so a new submission
invalidates the caches without a timer. Writes go through monitor.db.writing(), the process's one
writer; what a file or a correction means is etl's (etl.load, etl.correct).
"""

from __future__ import annotations

import datetime as dt
import io
from typing import TYPE_CHECKING

import duckdb
import pandas as pd
import streamlit as st

from etl.correct import correction_report
from etl.load import LoadResult, load_bytes
from monitor import (
    commitments,
    db,
    i18n,
    progress,
    queries,
    reminders,
    reporting,
    review,
    tables,
)
from monitor.auth import User
from monitor.progress import changes as month_changes
from monitor.targets import TargetsConfig, load_targets

if TYPE_CHECKING:
    import plotly.graph_objects as go


@st.cache_resource(show_spinner=False)
def config() -> TargetsConfig:
    return load_targets()


@st.cache_resource(show_spinner=False)
def _connection(path: str) -> duckdb.DuckDBPyConnection:
    """The app's one connection. While a command-line load or rebuild holds the file, every page
    says so and stops (nothing is cached, so the next rerun tries again)."""
    try:
        return db.open_warehouse(path, config())
    except db.WarehouseBusy as exc:  # a file held by another process, or PostgreSQL unreachable
        st.error(str(exc).replace("\n", "\n\n"), icon=":material/lock:")
        st.stop()


def con() -> duckdb.DuckDBPyConnection:
    """A cursor on the one shared connection (cursors are safe to use from several sessions).

    Leadership sees approved figures; a leader who chose to include those pending approval gets a
    cursor that shows them (the views read the cursor's include_pending variable, monitor/schema.py)."""
    cursor = db.cursor(_connection(str(db.db_path())))
    if including_pending():
        cursor.execute("set variable include_pending = true")
    return cursor


def including_pending() -> bool:
    """The session's choice (leaders and admins only, labelled on every page: dashboard/pending.py)."""
    return bool(st.session_state.get("include_pending", False))


def version() -> str:
    """The data version the caches of dashboard.workflow are keyed by (the same as this module's)."""
    return _version()


# session_state: the data version read in this run, with what it depends on (see new_run)
_RUN_VERSION = "_data_version_of_run"


def new_run() -> None:
    """Called by app.py at the start of every run. The data version keys every cached read, so a
    page asks for it about ten times a run; it is read from the warehouse once per run (on PostgreSQL
    each read is a round trip), and again after any write of this process (db.write_generation) or a
    change of the pending choice. A write by another process shows from the next run on."""
    st.session_state[_RUN_VERSION] = None


def _version() -> str:
    """The data version, and whether pending figures are in: every cached read is keyed by both."""
    depends_on = (db.write_generation(), including_pending())
    remembered = st.session_state.get(_RUN_VERSION)
    if remembered is not None and remembered[0] == depends_on:
        return remembered[1]
    found = queries.data_version(con()) + (":pending" if including_pending() else "")
    if _RUN_VERSION in st.session_state:  # only inside a run app.py started (never stale across runs)
        st.session_state[_RUN_VERSION] = (depends_on, found)
    return found


def pending_figures() -> int:
    """Figures waiting for their bureau's approval (the count beside the leader's choice)."""
    return _pending_figures(_version())


@st.cache_data(show_spinner=False)
def _pending_figures(v: str) -> int:
    return review.pending_figures(con())


def audit_version() -> str:
    """The key of reads that change with actions, accounts and sign-ins (every one of them is audited)."""
    return _audit_version()


def _audit_version() -> str:
    """The data version plus the newest audit event: the key of what changes with accounts and
    sign-ins (the audit log, whether everything is still demo), which the data version does not see."""
    return f"{_version()}:{queries.audit_version(con())}"


# -- reads: public function (no version) -> cached private function keyed by the version


def months() -> list[dt.date]:
    return _months(_version())


@st.cache_data(show_spinner=False)
def _months(v: str) -> list[dt.date]:
    return queries.months_with_data(con())


def today() -> dt.date:
    """The day the app judges on: which months are due (a function, so tests can pin the day)."""
    return dt.date.today()


def due_month() -> dt.date:
    """The newest month whose reports are due today (its due day, reporting.due_day of the next
    month, is over): the month every bureau can be held to."""
    return reporting.latest_due_month(today(), config().reporting.due_day)


def default_month() -> dt.date | None:
    """The as-of month a session starts on: the newest month with figures whose reports are due, not
    the newest figure anywhere (one early report must not move everyone's view)."""
    return reporting.default_month(months(), due_month())


def month_shares() -> pd.DataFrame:
    """Per month from the policy start to the newest month with figures: bureaus expected to report,
    bureaus that have, and the share (reporting.by_month); empty while there are no figures."""
    found = months()
    if not found:
        return pd.DataFrame(columns=["expected", "received", "share"])
    return reporting.by_month(reporting_status(max(found)))


def holds_demo_data() -> bool:
    return _holds_demo_data(_version())


@st.cache_data(show_spinner=False)
def _holds_demo_data(v: str) -> bool:
    return queries.holds_demo_data(con())


def is_demo() -> bool:
    """Keyed by the audit version: adding an account or resetting a password ends the demo state."""
    return _is_demo(_audit_version())


@st.cache_data(show_spinner=False)
def _is_demo(v: str) -> bool:
    return queries.is_demo(con())


def reference(table: str) -> pd.DataFrame:
    return _reference(_version(), table)


@st.cache_data(show_spinner=False)
def _reference(v: str, table: str) -> pd.DataFrame:
    return queries.reference(con(), table)


@st.cache_data(show_spinner=False)
def _id_names(v: str, lang: i18n.Lang) -> dict[str, dict[str, str]]:
    """{bureau_id | district_id | kpi_id: {id: name in lang}} for the record tables."""
    out: dict[str, dict[str, str]] = {}
    for table, column in (("bureaus", "bureau_id"), ("districts", "district_id"), ("kpis", "kpi_id")):
        ref = queries.reference(con(), table)
        out[column] = dict(zip(ref[column], ref[f"name_{lang}"], strict=True))
    return out


def records(frame: pd.DataFrame, lang: i18n.Lang) -> pd.DataFrame:
    """A record table (submissions, warnings, rejected rows, audit log) with names and headers in lang."""
    return tables.localise(frame, lang, _id_names(_version(), lang))


def scorecard(as_of: dt.date, district: str | None = None, all_units: bool = False) -> pd.DataFrame:
    return _scorecard(_version(), as_of, district, all_units)


@st.cache_data(show_spinner=False)
def _scorecard(v: str, as_of: dt.date, district: str | None = None, all_units: bool = False) -> pd.DataFrame:
    return progress.scorecard(con(), as_of, district=district, cfg=config(), all_units=all_units)


def changes(as_of: dt.date) -> pd.DataFrame:
    """Every target judged for as_of and the month before (monitor.progress.changes.changes)."""
    return _changes(_version(), as_of)


@st.cache_data(show_spinner=False)
def _changes(v: str, as_of: dt.date) -> pd.DataFrame:
    return month_changes.changes(con(), as_of, config())


def change_totals(as_of: dt.date) -> dict[str, int]:
    """The counts of the 本月变化 panel (monitor.progress.changes.totals)."""
    return _change_totals(_version(), as_of)


@st.cache_data(show_spinner=False)
def _change_totals(v: str, as_of: dt.date) -> dict[str, int]:
    return month_changes.totals(con(), as_of, config(), _changes(v, as_of))


def target_units(as_of: dt.date, target_id: str) -> pd.DataFrame:
    """One target's rows of the all-units scorecard, its aggregate left out (the detail page)."""
    return _target_units(_version(), as_of, target_id)


@st.cache_data(show_spinner=False)
def _target_units(v: str, as_of: dt.date, target_id: str) -> pd.DataFrame:
    """A few hundred rows to copy out of the cache on a rerun instead of the whole all-units frame."""
    units = _scorecard(v, as_of, None, True)  # the key of scorecard(as_of, all_units=True)
    return units[(units["target_id"] == target_id) & (units["district_id"] != "city")]


def series(target_id: str, as_of: dt.date, district: str | None = None) -> pd.DataFrame:
    return _series(_version(), target_id, as_of, district)


@st.cache_data(show_spinner=False)
def _series(v: str, target_id: str, as_of: dt.date, district: str | None = None) -> pd.DataFrame:
    return progress.series(con(), target_id, as_of, district=district)


@st.cache_data(show_spinner=False)
def _unit_series(v: str, kpi_id: str, as_of: dt.date) -> pd.DataFrame:
    return queries.unit_series(con(), kpi_id, as_of)


def unit_bars(kpi_id: str, as_of: dt.date, unit_ids: tuple[str, ...], lang: i18n.Lang) -> go.Figure:
    """The detail page's bars: each unit's monthly figure of a KPI (a cached figure, see _unit_bars)."""
    return _unit_bars(_version(), kpi_id, as_of, unit_ids, lang)


@st.cache_resource(show_spinner=False, max_entries=64)
def _unit_bars(v: str, kpi_id: str, as_of: dt.date, unit_ids: tuple[str, ...], lang: i18n.Lang) -> go.Figure:
    """plotly express takes ~0.2 s for 110 units, too long to redo on every rerun. A resource (no
    copy per rerun): the figure is only read afterwards (st.plotly_chart serialises a copy of it),
    never changed."""
    import plotly.express as px  # plotly only when a page draws (not on the first page's import)

    from monitor import charts

    unit_rows = _unit_series(v, kpi_id, as_of)
    unit_rows = unit_rows[unit_rows["district_id"].isin(unit_ids)]
    districts = _reference(v, "districts").set_index("district_id")[f"name_{lang}"]
    bars = px.bar(
        unit_rows.assign(district=unit_rows["district_id"].map(districts)),
        x="period",
        y="value",
        color="district",
        labels={
            "period": i18n.t("month", lang),
            "value": i18n.t("value", lang),
            "district": i18n.t("col_district", lang),
        },
    )
    tick_values, tick_texts = charts.month_ticks(list(unit_rows["period"]), lang)
    bars.update_xaxes(tickvals=tick_values, ticktext=tick_texts)
    return charts.base_layout(bars, i18n.t("by_district", lang), height=380)


def activity_figures(as_of: dt.date) -> pd.DataFrame:
    """Every activity KPI's newest city figure up to as_of and its total since the policy start."""
    return _activity_figures(_version(), as_of)


@st.cache_data(show_spinner=False)
def _activity_figures(v: str, as_of: dt.date) -> pd.DataFrame:
    return queries.activity_figures(con(), config().policy.start, as_of)


def commitment_states(as_of: dt.date) -> pd.DataFrame:
    """Every commitment without a milestone with its state as of the month and its evidence
    (monitor.commitments)."""
    return _commitment_states(_version(), as_of)


@st.cache_data(show_spinner=False)
def _commitment_states(v: str, as_of: dt.date) -> pd.DataFrame:
    return commitments.commitment_states(con(), config(), as_of)


def kpi_submissions(kpi_id: str) -> pd.DataFrame:
    return _kpi_submissions(_version(), kpi_id)


@st.cache_data(show_spinner=False)
def _kpi_submissions(v: str, kpi_id: str) -> pd.DataFrame:
    return queries.kpi_submissions(con(), kpi_id)


def kpi_revisions(kpi_id: str) -> pd.DataFrame:
    return _kpi_revisions(_version(), kpi_id)


@st.cache_data(show_spinner=False)
def _kpi_revisions(v: str, kpi_id: str) -> pd.DataFrame:
    return queries.kpi_revisions(con(), kpi_id)


def reporting_status(as_of: dt.date) -> pd.DataFrame:
    return _reporting_status(_version(), as_of)


@st.cache_data(show_spinner=False)
def _reporting_status(v: str, as_of: dt.date) -> pd.DataFrame:
    cfg = config()
    return queries.reporting_status(con(), cfg.policy.start, as_of, cfg.reporting.due_day)


def open_reports() -> list[reminders.OpenReport]:
    """The current reporting month's missing and late reports by bureau, with the KPIs still missing
    (monitor.reminders): the 催报 list, the admin's notice and a reporter's open items."""
    return _open_reports(_version(), today())


@st.cache_data(show_spinner=False)
def _open_reports(v: str, day: dt.date) -> list[reminders.OpenReport]:
    return reminders.open_reports(con(), config(), day)


def template(bureau_id: str, period: dt.date) -> tuple[bytes, int]:
    """The upload page's xlsx template and its row count."""
    return _template(_version(), bureau_id, period)


@st.cache_data(show_spinner=False, max_entries=64)
def _template(v: str, bureau_id: str, period: dt.date) -> tuple[bytes, int]:
    """Rebuilt only when the data changes (a bureau's template at province scale is ~1,500 rows:
    ~0.1 s to write on every rerun)."""
    from etl.template import write_template

    buf = io.BytesIO()
    rows = write_template(config(), bureau_id, period, buf, con())
    return buf.getvalue(), rows


def rejected_rows(bureau_id: str | None = None) -> pd.DataFrame:
    return _rejected_rows(_version(), bureau_id)


@st.cache_data(show_spinner=False)
def _rejected_rows(v: str, bureau_id: str | None = None) -> pd.DataFrame:
    return queries.rejected_rows(con(), bureau_id)


def load_warnings() -> pd.DataFrame:
    return _load_warnings(_version())


@st.cache_data(show_spinner=False)
def _load_warnings(v: str) -> pd.DataFrame:
    return queries.load_warnings(con())


def audit_log() -> pd.DataFrame:
    """Keyed by the audit version: sign-ins and account changes do not change the data version."""
    return _audit_log(_audit_version())


@st.cache_data(show_spinner=False)
def _audit_log(v: str) -> pd.DataFrame:
    return queries.audit_log(con())


def submissions(bureau_id: str | None = None) -> pd.DataFrame:
    return _submissions(_version(), bureau_id)


@st.cache_data(show_spinner=False)
def _submissions(v: str, bureau_id: str | None = None) -> pd.DataFrame:
    return queries.submissions(con(), bureau_id)


# -- writes: each one transaction, serialised where it is written (etl.load, monitor.auth and
# monitor.db take db.writing(), the process's one writer): no lock of the UI's own


def check_upload(file_name: str, data: bytes, bureau_id: str) -> LoadResult:
    """Dry run: every problem and warning, and the typed rows to show, nothing written."""
    return _check_upload(_version(), file_name, data, bureau_id)


@st.cache_data(show_spinner=False, max_entries=4)
def _check_upload(v: str, file_name: str, data: bytes, bureau_id: str) -> LoadResult:
    """Cached per data version (whether the file is a duplicate depends on the warehouse), so a
    rerun does not read a 20 MB file again."""
    cfg = config()
    return load_bytes(
        file_name, data, cfg, bureau_id, "preview", con(), archive=None, dry_run=True,
        max_mb=cfg.reporting.max_upload_mb,
    )  # fmt: skip


def submit(
    file_name: str, data: bytes, bureau_id: str, user: User, *, key: str, reason: str | None = None
) -> LoadResult:
    """Load once per file per session: a rerun of the page does not submit the same bytes twice.

    A file that changes figures already reported loads only with a reason (outcome "needs_reason"
    otherwise, nothing written, not remembered: the clerk may add the reason and try again). A
    reporter's submission waits for the bureau's approver where the bureau requires approval."""
    done = st.session_state.setdefault("_submitted", {})
    if key in done:
        return done[key]
    cfg = config()
    path = db.db_path()
    cursor = con()
    result = load_bytes(
        file_name, data, cfg, bureau_id, user.user_name, cursor, archive=db.archive_dir(path),
        max_mb=cfg.reporting.max_upload_mb, reason=reason, require_reason=True,
        review_status=review.status_on_submit(cursor, user, bureau_id),
    )  # fmt: skip
    if result.outcome != "needs_reason":
        done[key] = result
    return result


def correct(
    bureau_id: str, user: User, kpi_id: str, district_id: str, period: dt.date, value: float, reason: str
) -> LoadResult:
    """A correction is a one-row report with a required reason; the old figure stays as a revision."""
    name, data = correction_report(kpi_id, district_id, period, value)
    return submit(name, data, bureau_id, user, key=f"fix:{name}:{value}:{reason}", reason=reason)


def reload_targets(user: str) -> bool:
    """Re-read targets.yaml (validated first: an invalid file changes nothing) and refresh the caches."""
    fresh = load_targets()
    changed = db.sync_reference(con(), fresh, user=user)
    config.clear()
    st.cache_data.clear()
    return changed


# -- helper "admin-lang" (issue 16): the audit log as sentences, the correction form's figures


def audit_entries(lang: i18n.Lang) -> pd.DataFrame:
    """The audit log as audit_log() gives it, its 详情 as a sentence in lang (monitor.audit_text);
    keyed by the audit version like audit_log, so a new sign-in or account change shows at once."""
    return _audit_entries(_audit_version(), lang)


@st.cache_data(show_spinner=False)
def _audit_entries(v: str, lang: i18n.Lang) -> pd.DataFrame:
    from monitor import audit_text

    cfg = config()
    names = audit_text.Names(
        lang, {b.id: i18n.name(b, lang) for b in cfg.bureaus}, {t.id: i18n.name(t, lang) for t in cfg.targets}
    )
    log = _audit_log(v).copy()
    log["detail"] = [audit_text.sentence(a, d, names) for a, d in zip(log["action"], log["detail"], strict=True)]
    return records(log, lang)


def figure_history(kpi_id: str, district_id: str, period: dt.date) -> pd.DataFrame:
    """Every figure the bureau reported for one KPI, unit and month, oldest first (etl.correct)."""
    return _figure_history(_version(), kpi_id, district_id, period)


@st.cache_data(show_spinner=False)
def _figure_history(v: str, kpi_id: str, district_id: str, period: dt.date) -> pd.DataFrame:
    from etl.correct import figure_history as history

    return history(con(), kpi_id, district_id, period)
