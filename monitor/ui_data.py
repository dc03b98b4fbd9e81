"""The thin layer between the app and the warehouse: one cached connection, cached queries.

Every cached query takes the data version (max submission id, observation count, targets
fingerprint), so a new submission invalidates the caches without a timer.
"""

from __future__ import annotations

import datetime as dt
import io
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import duckdb
import numpy as np
import pandas as pd
import streamlit as st

from etl.load import LoadResult, load_bytes
from monitor import db, i18n, progress, queries, tables
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
    except db.WarehouseBusy:
        st.error(f"{db.WarehouseBusy.message_zh}\n\n{db.WarehouseBusy.message_en}", icon=":material/lock:")
        st.stop()


def con() -> duckdb.DuckDBPyConnection:
    """A cursor on the one shared connection (cursors are safe to use from several sessions)."""
    return _connection(str(db.db_path())).cursor()


def version() -> str:
    return queries.data_version(con())


@st.cache_data(show_spinner=False)
def months(v: str) -> list[dt.date]:
    return queries.months_with_data(con())


@st.cache_data(show_spinner=False)
def holds_demo_data(v: str) -> bool:
    return queries.holds_demo_data(con())


def audit_version() -> str:
    """The data version plus the newest audit event: the key of what changes with accounts and
    sign-ins (the audit log, whether everything is still demo), which the data version does not see."""
    return f"{version()}:{queries.audit_version(con())}"


@st.cache_data(show_spinner=False)
def is_demo(v: str) -> bool:
    """Key it with audit_version(): adding an account or resetting a password ends the demo state."""
    return queries.is_demo(con())


@st.cache_data(show_spinner=False)
def reference(v: str, table: str) -> pd.DataFrame:
    return queries.reference(con(), table)


@st.cache_data(show_spinner=False)
def id_names(v: str, lang: i18n.Lang) -> dict[str, dict[str, str]]:
    """{bureau_id | district_id | kpi_id: {id: name in lang}} for the record tables."""
    out: dict[str, dict[str, str]] = {}
    for table, column in (("bureaus", "bureau_id"), ("districts", "district_id"), ("kpis", "kpi_id")):
        ref = queries.reference(con(), table)
        out[column] = dict(zip(ref[column], ref[f"name_{lang}"], strict=True))
    return out


def records(frame: pd.DataFrame, lang: i18n.Lang) -> pd.DataFrame:
    """A record table (submissions, warnings, rejected rows, audit log) with names and headers in lang."""
    return tables.localise(frame, lang, id_names(version(), lang))


@st.cache_data(show_spinner=False)
def scorecard(v: str, as_of: dt.date, district: str | None = None, all_units: bool = False) -> pd.DataFrame:
    return progress.scorecard(con(), as_of, district=district, cfg=config(), all_units=all_units)


@st.cache_data(show_spinner=False)
def target_units(v: str, as_of: dt.date, target_id: str) -> pd.DataFrame:
    """One target's rows of the all-units scorecard, its aggregate left out (the detail page): a few
    hundred rows to copy out of the cache on a rerun instead of the whole all-units frame."""
    units = scorecard(v, as_of, all_units=True)
    return units[(units["target_id"] == target_id) & (units["district_id"] != "city")]


@st.cache_data(show_spinner=False)
def series(v: str, target_id: str, as_of: dt.date, district: str | None = None) -> pd.DataFrame:
    return progress.series(con(), target_id, as_of, district=district)


@st.cache_data(show_spinner=False)
def unit_series(v: str, kpi_id: str, as_of: dt.date) -> pd.DataFrame:
    return queries.unit_series(con(), kpi_id, as_of)


@st.cache_resource(show_spinner=False, max_entries=64)
def unit_bars(v: str, kpi_id: str, as_of: dt.date, unit_ids: tuple[str, ...], lang: i18n.Lang) -> go.Figure:
    """The detail page's bars: each unit's monthly figure of a KPI. plotly express takes ~0.2 s for
    110 units, too long to redo on every rerun. A resource (no copy per rerun): the figure is only
    read afterwards (st.plotly_chart serialises a copy of it), never changed."""
    import plotly.express as px  # plotly only when a page draws (not on the first page's import)

    from monitor import charts

    unit_rows = unit_series(v, kpi_id, as_of)
    unit_rows = unit_rows[unit_rows["district_id"].isin(unit_ids)]
    districts = reference(v, "districts").set_index("district_id")[f"name_{lang}"]
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
    mv, mt = charts.month_ticks(list(unit_rows["period"]), lang)
    bars.update_xaxes(tickvals=mv, ticktext=mt)
    return charts.base_layout(bars, i18n.t("by_district", lang), height=380)


@st.cache_data(show_spinner=False)
def kpi_submissions(v: str, kpi_id: str) -> pd.DataFrame:
    return queries.kpi_submissions(con(), kpi_id)


@st.cache_data(show_spinner=False)
def kpi_revisions(v: str, kpi_id: str) -> pd.DataFrame:
    return queries.kpi_revisions(con(), kpi_id)


@st.cache_data(show_spinner=False)
def reporting_status(v: str, as_of: dt.date) -> pd.DataFrame:
    cfg = config()
    return queries.reporting_status(con(), cfg.policy.start, as_of, cfg.reporting.due_day)


@st.cache_data(show_spinner=False, max_entries=64)
def template(v: str, bureau_id: str, period: dt.date) -> tuple[bytes, int]:
    """The upload page's xlsx template and its row count, rebuilt only when the data changes (a
    bureau's template at province scale is ~1,500 rows: ~0.1 s to write on every rerun)."""
    from etl.template import write_template

    buf = io.BytesIO()
    n = write_template(config(), bureau_id, period, buf, con())
    return buf.getvalue(), n


@st.cache_data(show_spinner=False)
def rejected_rows(v: str, bureau_id: str | None = None) -> pd.DataFrame:
    return queries.rejected_rows(con(), bureau_id)


@st.cache_data(show_spinner=False)
def load_warnings(v: str) -> pd.DataFrame:
    return queries.load_warnings(con())


@st.cache_data(show_spinner=False)
def audit_log(v: str) -> pd.DataFrame:
    return queries.audit_log(con())


@st.cache_data(show_spinner=False)
def submissions(v: str, bureau_id: str | None = None) -> pd.DataFrame:
    return queries.submissions(con(), bureau_id)


# -- writes: serialised in this process (one writer), each one transaction in etl.load

_write_lock = threading.Lock()


@st.cache_data(show_spinner=False, max_entries=4)
def check_upload(v: str, file_name: str, data: bytes, bureau_id: str) -> LoadResult:
    """Dry run: every problem and warning, and the typed rows to show, nothing written. Cached per
    data version (whether the file is a duplicate depends on the warehouse), so a rerun does not
    read a 20 MB file again."""
    cfg = config()
    return load_bytes(
        file_name, data, cfg, bureau_id, "preview", con(), archive=None, dry_run=True,
        max_mb=cfg.reporting.max_upload_mb,
    )  # fmt: skip


def submit(
    file_name: str, data: bytes, bureau_id: str, user: str, *, key: str, reason: str | None = None
) -> LoadResult:
    """Load once per file per session: a rerun of the page does not submit the same bytes twice.

    A file that changes figures already reported loads only with a reason (outcome "needs_reason"
    otherwise, nothing written, not remembered: the clerk may add the reason and try again)."""
    done = st.session_state.setdefault("_submitted", {})
    if key in done:
        return done[key]
    cfg = config()
    path = db.db_path()
    with _write_lock:
        result = load_bytes(
            file_name, data, cfg, bureau_id, user, con(), archive=db.archive_dir(path),
            max_mb=cfg.reporting.max_upload_mb, reason=reason, require_reason=True,
        )  # fmt: skip
    if result.outcome != "needs_reason":
        done[key] = result
    return result


def correct(
    bureau_id: str, user: str, kpi_id: str, district_id: str, period: dt.date, value: float, reason: str
) -> LoadResult:
    """A correction is a one-row report with a required reason; the old figure stays as a revision."""
    # every digit, never an exponent: f"{value:g}" turned 1234567.5 into "1.23457e+06" (rejected)
    # and 123456.7 into "123457" (silently rounded)
    text = np.format_float_positional(float(value), trim="-")
    frame = pd.DataFrame({"指标编码": [kpi_id], "旗区": [district_id], "报送期": [f"{period:%Y-%m}"], "数值": [text]})
    data = frame.to_csv(index=False).encode("utf-8")
    name = f"更正_{kpi_id}_{district_id}_{period:%Y%m}.csv"
    return submit(name, data, bureau_id, user, key=f"fix:{name}:{value}:{reason}", reason=reason)


@contextmanager
def writing() -> Iterator[None]:
    with _write_lock:
        yield


def reload_targets(user: str) -> bool:
    """Re-read targets.yaml (validated first: an invalid file changes nothing) and refresh the caches."""
    fresh = load_targets()
    with _write_lock:
        changed = db.sync_reference(con(), fresh, user=user)
    config.clear()
    st.cache_data.clear()
    return changed
