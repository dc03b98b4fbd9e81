"""`python -m etl`: template, check, load, demo, rebuild and migrate, for administrators and scripts.

--db and --targets go before or after the subcommand (monitor.cli, the grammar shared with
`python -m monitor`). Exit status: 0 success, 1 the file was rejected (every problem printed), 2 usage error.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import sys
import unicodedata
from pathlib import Path

import duckdb

from etl.load import LoadResult, load_bytes
from etl.migrate import MigrateError, TableCheck, VerifyMismatch, migrate
from etl.read import DEFAULT_MAX_MB
from monitor import cli, db
from monitor.tables import change_lines
from monitor.targets import TargetsConfig, TargetsError, load_targets


def _period(text: str) -> dt.date:
    try:
        return dt.datetime.strptime(text, "%Y-%m").date()
    except ValueError:
        raise argparse.ArgumentTypeError(f"报送期应为 YYYY-MM：{text!r}") from None


def _print_result(res: LoadResult) -> None:
    for p in res.problems:
        print(p.zh())
    for w in res.warnings:
        print("提示：" + w.zh())
    print(res.summary_zh())


def _report(res: LoadResult, cfg: TargetsConfig, cmd: str, reason: str | None) -> int:
    """Print the outcome; a file that changes reported figures lists every change first. Without
    --reason such a file is not loaded (exit 1), as the upload page asks for a reason."""
    changes = res.changes
    if changes is not None and len(changes) and res.outcome != "accepted":
        print(f"{res.file_name}：本文件将修改{len(changes)}个已报送的数值：")
        for line in change_lines(changes, cfg.kpi_by_id, cfg.district_by_id):
            print("  " + line)
    if res.outcome == "needs_reason":
        print(f'{res.file_name}：未导入，数据库未做任何更改。请用 --reason "修改原因" 说明原因后重新导入。')
        return 1
    _print_result(res)
    if cmd == "check" and changes is not None and len(changes) and res.ok and not reason:
        print('导入时须用 --reason "修改原因" 说明原因。')
    return 0 if res.ok else 1


def _demo_refusal(accounts: int, submissions: int) -> str:
    """Synthetic figures and published demo passwords must never mix with real data."""
    return (
        f"数据库中已有非演示的账号（{accounts}个）或报送（{submissions}份），不能导入演示数据："
        "演示数据只能导入空数据库或演示数据库。请用 --db 指定一个新的数据库文件。\n"
        f"The warehouse holds {accounts} account(s) and {submissions} submission(s) that are not demo data; "
        "the demo dataset loads only into an empty or demo warehouse. Use --db with a new file."
    )


def _bar(i: int, n: int, name: str) -> None:
    width = 30
    done = int(width * i / max(n, 1))
    sys.stderr.write(f"\r[{'#' * done}{'.' * (width - done)}] {i}/{n} {name[:40]:<40}")
    if i == n:
        sys.stderr.write("\n")
    sys.stderr.flush()


def build_parser() -> argparse.ArgumentParser:
    parser = cli.program("python -m etl", "0477 监测系统数据导入")
    sub = parser.add_subparsers(dest="cmd", required=True)
    t = cli.subcommand(sub, "template", help="write a bureau's monthly template (xlsx)")
    t.add_argument("--bureau", required=True)
    t.add_argument("--period", required=True, type=_period)
    t.add_argument("--out", required=True, type=Path)
    for name in ("check", "load"):
        c = cli.subcommand(sub, name, help=f"{name} a report file")
        c.add_argument("file", type=Path)
        c.add_argument("--bureau", required=True)
        c.add_argument("--max-mb", type=float, default=None, help=f"size limit (default {DEFAULT_MAX_MB:g})")
        c.add_argument("--reason", default=None, help="修改已报送数值的原因（修改时必填） / why figures change")
        if name == "load":
            c.add_argument("--user", required=True)
    d = cli.subcommand(sub, "demo", help="load the synthetic demo dataset")
    d.add_argument("--until", type=_period, default=None, help="last month (default: this month)")
    d.add_argument("--if-empty", action="store_true", help="do nothing when the warehouse has data")
    r = cli.subcommand(sub, "rebuild", help="rebuild the warehouse from targets.yaml and the upload archive")
    r.add_argument(
        "--allow-missing", action="store_true", help="rebuild even if accepted submissions have no archived file"
    )
    m = cli.subcommand(
        sub, "migrate", help="copy the warehouse (--db) into a new, empty one and check it table by table"
    )
    m.add_argument(
        "--to",
        required=True,
        metavar="URL_OR_FILE",
        help="目标数据库（须为空；PostgreSQL 数据库须已创建）：postgresql://… 或 DuckDB 文件 / "
        "the target, empty (a PostgreSQL database must exist): a postgresql:// URL or a DuckDB file",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING)

    try:
        cfg = load_targets(args.targets) if args.targets else load_targets()
    except TargetsError as exc:
        print(exc, file=sys.stderr)
        return 2
    path = db.db_path(args.db)

    if args.cmd == "migrate":
        return _migrate(path, db.db_path(args.to))
    if args.cmd == "rebuild":
        from etl.rebuild import RebuildError, rebuild_warehouse

        try:
            report = rebuild_warehouse(path, cfg, progress=_bar, allow_missing=args.allow_missing)
        except db.WarehouseBusy as exc:
            print(exc, file=sys.stderr)
            return 2
        except (RebuildError, MigrateError) as exc:  # MigrateError: PostgreSQL's copy-in did not check out
            print(f"重建失败 / rebuild failed:\n{exc}", file=sys.stderr)
            return 1
        print(f"已从归档重建数据库：重放{report.replayed}个文件 -> {db.describe(path)}")
        for note in report.notes_zh():
            print(note, file=sys.stderr)
        return 0

    try:
        con = db.open_warehouse(path, cfg)
    except db.WarehouseBusy as exc:  # DuckDB lets one process open the file: the app or another command
        print(exc, file=sys.stderr)
        return 2
    try:
        if args.cmd == "template":
            if args.bureau not in cfg.bureau_by_id:
                print(f"未知责任单位：{args.bureau}", file=sys.stderr)
                return 2
            from etl.template import write_template

            n = write_template(cfg, args.bureau, args.period, args.out, con)
            print(f"已生成模板 {args.out}（{n}行）")
            return 0
        if args.cmd in ("check", "load"):
            if not args.file.is_file():
                print(f"找不到文件：{args.file}", file=sys.stderr)
                return 2
            reason = (args.reason or "").strip() or None
            res = load_bytes(
                args.file.name,
                args.file.read_bytes(),
                cfg,
                args.bureau,
                getattr(args, "user", "cli"),
                con,
                archive=db.archive_dir(path),
                max_mb=args.max_mb or cfg.reporting.max_upload_mb,
                dry_run=args.cmd == "check",
                reason=reason,
                require_reason=True,
            )
            return _report(res, cfg, args.cmd, reason)
        if args.cmd == "demo":
            with db.writing():  # the check for foreign data and the demo's writes, with nothing between
                return _demo(cfg, con, path, args)
    finally:
        con.close()
    return 2


def _width(text: str) -> int:
    """Columns a terminal gives the text: a Chinese character takes two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _cells(cells: list[str], widths: list[int]) -> str:
    """The first cell left-aligned, the others right-aligned, by display width."""
    first, *rest = cells
    line = first + " " * (widths[0] - _width(first))
    return line + "".join(" " * (w - _width(c)) + c for c, w in zip(rest, widths[1:], strict=True))


def _print_checks(checks: list[TableCheck]) -> None:
    """The per-table verification, one line a table, as an administrator reads it."""
    widths = [max([_width("表"), *(len(c.table) for c in checks)]) + 2, 14, 14, 8]
    print(_cells(["表", "源行数", "目标行数", "核对"], widths))
    for check in checks:
        verdict = "一致" if check.equal else "不一致"
        print(_cells([check.table, f"{check.source_rows:,}", f"{check.target_rows:,}", verdict], widths))


def _migrate(source: db.Location, target: db.Location) -> int:
    """Copy the warehouse into an empty one, verify it, copy the archive. Exit 0 when every table
    checks out, 1 when the copy failed or reads back different, 2 when refused (nothing changed)."""
    print(f"源数据库：{db.describe(source)}")
    try:
        report = migrate(source, target)
    except db.WarehouseBusy as exc:  # the file is held, or PostgreSQL cannot be reached
        print(exc, file=sys.stderr)
        return 2
    except VerifyMismatch as exc:
        _print_checks(exc.checks)
        print(exc, file=sys.stderr)
        return 1
    except MigrateError as exc:
        print(exc, file=sys.stderr)
        return 1 if exc.committed else 2
    except duckdb.Error as exc:  # raised inside the target's transaction: rolled back
        print(f"复制失败，目标数据库未做任何更改 / the copy failed, the target is unchanged:\n{exc}", file=sys.stderr)
        return 1
    _print_checks(report.tables)
    archive = report.archive
    if archive is not None and (archive.to_copy or archive.present):
        print(f"归档文件：复制{len(archive.to_copy)}个，已有{archive.present}个 -> {archive.target}")
    print(f"已复制并逐表核对一致：{len(report.tables)}张表，{report.rows:,}行 -> {report.target}")
    return 0


def _demo(cfg: TargetsConfig, con: duckdb.DuckDBPyConnection, path: Path, args: argparse.Namespace) -> int:
    """Load the demo dataset and its accounts, unless the warehouse holds anything the demo did not make."""
    from etl.demo import create_demo_accounts, non_demo_content, run_demo

    foreign_accounts, foreign_submissions = non_demo_content(con)
    if args.if_empty and (foreign_accounts or foreign_submissions or not db.is_empty(con)):
        print("数据库已有数据，跳过演示数据。")
        return 0
    if foreign_accounts or foreign_submissions:
        print(_demo_refusal(foreign_accounts, foreign_submissions), file=sys.stderr)
        return 2
    reports = db.archive_dir(path).parent / "demo_reports"
    results = run_demo(cfg, con, archive=db.archive_dir(path), reports_dir=reports, until=args.until, progress=_bar)
    rows = sum(r.rows_loaded for r in results)
    print(f"演示数据（合成，非真实数据）已导入：{len(results)}份报表，{rows}条数据 -> {db.describe(path)}")
    accounts = create_demo_accounts(cfg, con)
    if accounts:
        print("演示账号（仅用于演示）：")
        for user, password, role, bureau in accounts:
            print(f"  {role:<8} {user:<20} {password}" + (f"  ({cfg.bureau_by_id[bureau].name_zh})" if bureau else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
