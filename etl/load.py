"""Load a checked report into the warehouse in one transaction, logged in the submissions table.

- The raw file is archived by sha256; the identical file again is a no-op and says so.
- A figure that differs from the current one for its (KPI, district, month) becomes a new
  revision; the earlier one stays. An unchanged figure adds nothing.
- A rejected file records the submission and its rejected rows, and changes no observation.
"""

from __future__ import annotations

import datetime as dt
import logging
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa

from etl.archive import archive_file, safe_name, sha256, write_manifest
from etl.errors import FileRejected, Problem
from etl.findings import clip
from etl.normalise import Normalised, normalise
from etl.notes import store as store_notes
from etl.read import DEFAULT_MAX_MB, read_report
from etl.row_places import sql_rows
from etl.validate import Checked, validate
from monitor import db
from monitor.targets import TargetsConfig

log = logging.getLogger(__name__)


@dataclass
class LoadResult:
    outcome: str  # accepted | rejected | duplicate | checked
    file_name: str
    sha256: str
    submission_id: int | None = None
    rows_total: int = 0
    rows_loaded: int = 0  # new figures and revisions
    rows_revised: int = 0  # of which revisions of an earlier figure
    rows_unchanged: int = 0
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    duplicate_of: int | None = None  # duplicate: the submission with the same bytes; accepted: reloaded
    periods: list[str] = field(default_factory=list)
    typed_rows: pd.DataFrame | None = None  # dry run of a clean file: row, kpi_id, district_id, period, value, note
    # problems found in all; `problems` keeps only the first few (an all-invalid file has millions)
    problems_total: int = 0
    rows_skipped: int = 0  # rows with an empty value cell: "not reported this month", not loaded
    rows_bad: int = 0  # rows with at least one problem, counted exactly (problems may be cut short)
    # figures the file would change: kpi_id, district_id, period, old_value, new_value (dry run and load)
    changes: pd.DataFrame | None = None

    @property
    def ok(self) -> bool:
        return self.outcome in ("accepted", "duplicate", "checked")

    def _found_zh(self) -> str:
        total = max(self.problems_total, len(self.problems))
        return f"{total}个问题" + (f"（仅列出前{len(self.problems)}个）" if total > len(self.problems) else "")

    def _found_en(self) -> str:
        total = max(self.problems_total, len(self.problems))
        listed = f" (only the first {len(self.problems)} listed)" if total > len(self.problems) else ""
        return f"{total} problem(s){listed}"

    def _skipped_zh(self) -> str:
        return f"（其中{self.rows_skipped}行数值为空，视为本月未报送，未导入）" if self.rows_skipped else ""

    def _skipped_en(self) -> str:
        return (
            f" ({self.rows_skipped} with an empty value: not reported this month, not loaded)"
            if self.rows_skipped
            else ""
        )

    def _n_changes(self) -> int:
        return 0 if self.changes is None else len(self.changes)

    def summary_zh(self) -> str:
        if self.outcome == "duplicate":
            return f"{self.file_name}：与第{self.duplicate_of}号报送的文件完全相同，未做任何更改"
        if self.outcome == "rejected":
            return f"{self.file_name}：发现{self._found_zh()}，文件未导入，数据库未做任何更改"
        if self.outcome == "needs_reason":
            return (
                f"{self.file_name}：本文件将修改{self._n_changes()}个已报送的数值，须说明修改原因后才能导入，"
                "数据库未做任何更改"
            )
        if self.outcome == "checked":
            restore = (
                f"（与第{self.duplicate_of}号报送的文件相同，其后数据已有更正，导入将恢复本文件的数值）"
                if self.duplicate_of
                else ""
            )
            return f"{self.file_name}：校验通过，共{self.rows_total}行{self._skipped_zh()}，可以导入{restore}"
        again = (
            f"与第{self.duplicate_of}号报送的文件相同，但其后数据已有更正，已按本文件重新导入。"
            if self.duplicate_of
            else ""
        )
        return (
            f"{self.file_name}：{again}已导入（报送编号{self.submission_id}），共{self.rows_total}行{self._skipped_zh()}，"
            f"新增{self.rows_loaded - self.rows_revised}条、修订{self.rows_revised}条、未变化{self.rows_unchanged}条"
            + (f"，{len(self.warnings)}条提示请核实" if self.warnings else "")
        )

    def summary_en(self) -> str:
        if self.outcome == "duplicate":
            return f"{self.file_name}: identical to submission #{self.duplicate_of}; nothing changed"
        if self.outcome == "rejected":
            return f"{self.file_name}: {self._found_en()}; not loaded, nothing changed"
        if self.outcome == "needs_reason":
            return (
                f"{self.file_name}: changes {self._n_changes()} figure(s) already reported; give a reason to load it."
                " Nothing changed"
            )
        if self.outcome == "checked":
            restore = (
                f" (same file as submission #{self.duplicate_of}; figures were corrected since, loading restores"
                " the file's figures)"
                if self.duplicate_of
                else ""
            )
            return f"{self.file_name}: valid, {self.rows_total} rows{self._skipped_en()}, ready to load{restore}"
        again = (
            f"same file as submission #{self.duplicate_of}, but figures were corrected since; reloaded. "
            if self.duplicate_of
            else ""
        )
        return (
            f"{self.file_name}: {again}loaded as submission #{self.submission_id}, {self.rows_total} rows"
            f"{self._skipped_en()}: "
            f"{self.rows_loaded - self.rows_revised} new, {self.rows_revised} revised, {self.rows_unchanged} unchanged"
            + (f", {len(self.warnings)} warning(s)" if self.warnings else "")
        )


def check_bytes(
    file_name: str,
    data: bytes,
    cfg: TargetsConfig,
    bureau_id: str,
    con: duckdb.DuckDBPyConnection,
    *,
    today: dt.date | None = None,
    max_mb: float = DEFAULT_MAX_MB,
) -> Checked:
    """read -> normalise -> validate. `problems` keeps the first ones only (findings.MAX_PROBLEMS) and
    `problems_total` counts them all; skipped rows have an empty value (not reported this month) and
    are not in the good rows."""
    parsed = _parse(file_name, data, cfg, bureau_id, max_mb)
    if isinstance(parsed, Checked):
        return parsed
    return validate(parsed, cfg, bureau_id, con, today=today)


def _parse(file_name: str, data: bytes, cfg: TargetsConfig, bureau_id: str, max_mb: float) -> Normalised | Checked:
    """read -> normalise: the costly part, which needs no warehouse (so a load does it before it takes
    the writer); a refused file comes back as its Checked."""
    if bureau_id not in cfg.bureau_by_id:
        return Checked.refused([Problem.file(file_name, f"未知责任单位“{bureau_id}”", f"unknown bureau {bureau_id!r}")])
    try:
        return normalise(read_report(file_name, data, max_mb=max_mb), cfg)
    except FileRejected as exc:
        return Checked.refused(exc.problems)


def _already_loaded(con: duckdb.DuckDBPyConnection, digest: str, bureau_id: str) -> int | None:
    found = db.scalar(
        con,
        """
        select min(submission_id) from submissions
        where sha256 = ? and bureau_id = ? and outcome = 'accepted'
        """,
        [digest, bureau_id],
    )
    return None if found is None else int(found)


def _changes_nothing(con: duckdb.DuckDBPyConnection, rows: pa.Table | None) -> bool:
    """True when every figure of the file (`rows`: its good rows as Arrow) is the current figure:
    loading it again would change nothing."""
    if rows is None:
        return False
    with db.registered(con, "incoming_again", rows):
        differing = db.scalar(
            con,
            """
            with incoming as (
                select kpi_id, district_id, period::date as period, value from incoming_again
            )
            select count(*)
            from incoming as i
            left join current_reported_observations as c using (kpi_id, district_id, period)
            where c.value is null or c.value <> i.value
            """,
        )
    return differing == 0


def _changes(con: duckdb.DuckDBPyConnection, good: pd.DataFrame | None, rows: pa.Table | None) -> pd.DataFrame:
    """Every figure of the file that would replace a different figure already reported: kpi_id,
    district_id, period, old_value, new_value. A re-upload that revises a month must say so before the
    commit and carry a reason, like the correction form; new figures are not changes. `rows` are the
    good rows as Arrow (etl.row_places.sql_rows)."""
    columns = ["kpi_id", "district_id", "period", "old_value", "new_value"]
    if good is None or good.empty or rows is None:
        return pd.DataFrame(columns=columns)
    with db.registered(con, "incoming_changes", rows):
        return con.execute(
            """
            with incoming as (
                select kpi_id, district_id, period::date as period, value from incoming_changes
            )
            select i.kpi_id, i.district_id, i.period, c.value as old_value, i.value as new_value
            from incoming as i
            join current_reported_observations as c using (kpi_id, district_id, period)
            where c.value <> i.value
            order by i.period, i.kpi_id, i.district_id
            """
        ).df()[columns]


def _warning_rows(sid: int, warnings: list[Problem], good: pd.DataFrame) -> list[list[object]]:
    """Each warning with the KPI, district and month of its row, so the quality page can name them."""
    by_row = good.set_index("row")[["kpi_id", "district_id", "period", "value"]]
    rows: list[list[object]] = []
    for w in warnings:
        if w.row is not None and w.row in by_row.index:
            kpi, district, period, value = by_row.loc[w.row]
            rows.append(
                [sid, w.row, kpi, district, pd.Timestamp(period).date(), float(value), w.reason_zh, w.reason_en]
            )
        else:
            rows.append([sid, w.row, None, None, None, None, w.reason_zh, w.reason_en])
    return rows


def load_bytes(
    file_name: str,
    data: bytes,
    cfg: TargetsConfig,
    bureau_id: str,
    user: str,
    con: duckdb.DuckDBPyConnection,
    *,
    archive: Path | None,
    today: dt.date | None = None,
    submitted_at: dt.datetime | None = None,
    max_mb: float = DEFAULT_MAX_MB,
    dry_run: bool = False,
    reason: str | None = None,
    require_reason: bool = False,
    review_status: str = "approved",
) -> LoadResult:
    """Validate and, if clean, load. Every outcome except a dry run and a duplicate is logged.

    With `require_reason` (the upload page and the command line), a file that changes figures already
    reported and comes without a reason is not loaded: outcome "needs_reason", `changes` lists them,
    nothing is written. Replays (demo, rebuild) load as the file says.

    ``review_status`` "pending" holds the figures back from leadership until the bureau's approver
    approves them (monitor.review); the command line, replays and bureaus without approval load
    "approved"."""
    file_name = safe_name(file_name)
    digest = sha256(data)
    result = LoadResult("checked", file_name, digest)
    parsed = _parse(file_name, data, cfg, bureau_id, max_mb)
    # from the checks against the warehouse to the commit, no other write of this process runs
    with nullcontext() if dry_run else db.writing():
        dup = _already_loaded(con, digest, bureau_id)  # also on a dry run: the preview says so before loading
        checked = parsed if isinstance(parsed, Checked) else validate(parsed, cfg, bureau_id, con, today=today)
        good, problems, warnings, n_rows = checked.frame, checked.problems, checked.warnings, checked.rows_total
        # the good rows as Arrow, for every statement that reads them (built once; DuckDB scans Arrow
        # text in parallel, a pandas column of Python strings one object at a time)
        rows = checked.rows if checked.rows is not None or good is None else sql_rows(good)
        skipped = checked.skipped
        if dup is not None and not problems and _changes_nothing(con, rows):
            result.outcome, result.duplicate_of, result.rows_total = "duplicate", dup, n_rows
            if not dry_run:
                db.audit(con, user, "upload_duplicate", {"file": file_name, "sha256": digest, "same_as": dup})
            return result
        # the same bytes again after a later correction: the file's figures are restored, as a new
        # submission (a file that no longer passes today's checks is rejected with its problems)
        result.duplicate_of = dup
        result.rows_total, result.problems, result.warnings = n_rows, problems, warnings
        result.problems_total, result.rows_skipped = max(checked.problems_total, len(problems)), skipped
        result.rows_bad = checked.rows_bad
        if problems:
            result.outcome = "rejected"
        else:
            result.changes = _changes(con, good, rows)
        changes = result.changes
        if require_reason and not dry_run and changes is not None and len(changes) and not (reason or "").strip():
            result.outcome = "needs_reason"
            return result
        if dry_run:
            if good is not None and not problems:
                result.typed_rows = good[["row", "kpi_id", "district_id", "period", "value", "note"]]
            return result
        when = submitted_at or dt.datetime.now()
        if problems:
            _record_rejection(con, result, bureau_id, user, when, len(data))
            return result
        assert good is not None
        archive_name = archive_file(archive, digest, file_name, data) if archive else None
        sidecar: Path | None = None
        try:
            with db.registered(con, "incoming_rows", rows), db.transaction(con):
                sid = db.next_id(con, "submission_seq")
                # new revision where the figure differs from the current one; nothing where it is equal
                con.execute(
                    """
                    insert into observations
                    with incoming as (
                        select row, kpi_id, district_id, period::date as period, value from incoming_rows
                    ),
                    latest as (
                        select o.kpi_id, o.district_id, o.period, max(o.revision) as revision
                        from observations as o
                        join (select distinct kpi_id from incoming) using (kpi_id)
                        group by all
                    ),
                    current as (
                        select c.kpi_id, c.district_id, c.period, c.value
                        from current_reported_observations as c
                        join (select distinct kpi_id from incoming) using (kpi_id)
                    )
                    select
                        i.kpi_id, i.district_id, i.period, i.value,
                        coalesce(l.revision, 0) + 1 as revision,
                        ? as submission_id, i.row as source_row, now() as loaded_at
                    from incoming as i
                    left join latest as l using (kpi_id, district_id, period)
                    left join current as c using (kpi_id, district_id, period)
                    where c.value is null or c.value <> i.value
                    """,
                    [sid],
                )
                # the distinct dates, formatted here: strftime on every stored row cost more than the count
                stats = db.one(
                    con,
                    """
                    select count(*), count(*) filter (where revision > 1), list(distinct period)
                    from observations where submission_id = ?
                    """,
                    [sid],
                )
                loaded, revised = int(stats[0]), int(stats[1])
                periods = sorted({f"{day:%Y-%m}" for day in stats[2] or []})
                con.execute(
                    "insert into submissions values "
                    "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'accepted', ?, ?, 0, ?, ?, null, null, null)",
                    [
                        sid,
                        bureau_id,
                        user,
                        when,
                        file_name,
                        digest,
                        len(data),
                        n_rows,
                        loaded,
                        n_rows - skipped - loaded,
                        0,
                        reason,
                        archive_name,
                        result.rows_skipped,
                        review_status,
                    ],
                )
                if warnings:
                    con.executemany(
                        "insert into load_warnings values (?, ?, ?, ?, ?, ?, ?, ?)", _warning_rows(sid, warnings, good)
                    )
                store_notes(con, sid, good)  # the 备注 of the file's figures (etl.notes)
                if archive:
                    # written before the commit, so a kill right after the commit cannot lose this file from
                    # `rebuild`; a sidecar whose submission never committed is removed below or skipped there
                    sidecar = write_manifest(
                        archive,
                        {
                            "submission_id": sid,
                            "sha256": digest,
                            "archive_name": archive_name,
                            "file_name": file_name,
                            "bureau_id": bureau_id,
                            "user": user,
                            "submitted_at": when.isoformat(),
                            "today": (today or when.date()).isoformat(),
                            "reason": reason,
                            "review_status": review_status,
                        },
                    )
                db.audit(
                    con,
                    user,
                    "revision" if reason else "upload_accepted",
                    {"submission_id": sid, "bureau": bureau_id, "file": file_name, "sha256": digest, "rows": n_rows,
                     "loaded": loaded, "revised": revised, "reason": reason, "review": review_status},
                )  # fmt: skip
        except BaseException:
            if sidecar is not None:
                sidecar.unlink(missing_ok=True)  # rolled back: `rebuild` must not replay it
            raise
        result.outcome, result.submission_id = "accepted", sid
        result.rows_loaded, result.rows_revised, result.rows_unchanged = loaded, revised, n_rows - skipped - loaded
        result.periods = periods
        log.info("loaded %s as submission %s: %s rows, %s new or revised", file_name, sid, n_rows, loaded)
        return result


MAX_STORED_PROBLEMS = 1000  # an all-invalid file has millions; the first ones say what is wrong


def _record_rejection(
    con: duckdb.DuckDBPyConnection, result: LoadResult, bureau_id: str, user: str, when: dt.datetime, size: int
) -> None:
    """The rejected submission with its first MAX_STORED_PROBLEMS problems and their total, every text
    cell clipped to findings.MAX_VALUE_CHARS characters."""
    kept = result.problems[:MAX_STORED_PROBLEMS]
    total = max(result.problems_total, len(result.problems))
    with db.transaction(con):
        sid = db.next_id(con, "submission_seq")
        con.execute(
            "insert into submissions values "
            "(?, ?, ?, ?, ?, ?, ?, ?, 0, 0, ?, 'rejected', ?, null, ?, ?, 'approved', null, null, null)",
            [sid, bureau_id, user, when, clip(result.file_name), result.sha256, size, result.rows_total,
             result.rows_bad or result.rows_total, clip(kept[0].reason_zh), total, result.rows_skipped],
        )  # fmt: skip
        rejected = pd.DataFrame(
            {
                "submission_id": sid,
                "file_name": [clip(p.file_name) for p in kept],
                "row_number": pd.array([p.row for p in kept], dtype="Int64"),
                "column_name": pd.array([clip(p.column) for p in kept], dtype="string"),
                "value": pd.array([clip(p.value) for p in kept], dtype="string"),
                "reason_zh": [clip(p.reason_zh) for p in kept],
                "reason_en": [clip(p.reason_en) for p in kept],
            }
        )
        with db.registered(con, "rejected_frame", rejected):
            con.execute("insert into rejected_rows select * from rejected_frame")
        db.audit(
            con,
            user,
            "upload_rejected",
            {"submission_id": sid, "bureau": bureau_id, "file": result.file_name, "problems": total},
        )
    result.submission_id = sid


def load_file(
    path: Path | str,
    cfg: TargetsConfig,
    bureau_id: str,
    user: str,
    con: duckdb.DuckDBPyConnection,
    *,
    archive: Path | None,
    **kwargs: object,
) -> LoadResult:
    p = Path(path)
    return load_bytes(p.name, p.read_bytes(), cfg, bureau_id, user, con, archive=archive, **kwargs)  # type: ignore[arg-type]
