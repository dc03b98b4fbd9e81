"""`python -m etl`: template, check, load, demo and rebuild, for administrators and scripts.

Exit status: 0 success, 1 the file was rejected (every problem printed), 2 usage error.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import sys
from pathlib import Path

import duckdb

from etl.load import LoadResult, load_bytes
from etl.read import DEFAULT_MAX_MB
from monitor import db
from monitor.targets import TargetsError, load_targets


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


def _bar(i: int, n: int, name: str) -> None:
    width = 30
    done = int(width * i / max(n, 1))
    sys.stderr.write(f"\r[{'#' * done}{'.' * (width - done)}] {i}/{n} {name[:40]:<40}")
    if i == n:
        sys.stderr.write("\n")
    sys.stderr.flush()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m etl", description="0477 监测系统数据导入")
    parser.add_argument("--db", help="warehouse file (default: $MONITOR_DB or data/warehouse.duckdb)")
    parser.add_argument("--targets", default=None, help="targets.yaml path")
    sub = parser.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("template", help="write a bureau's monthly template (xlsx)")
    t.add_argument("--bureau", required=True)
    t.add_argument("--period", required=True, type=_period)
    t.add_argument("--out", required=True, type=Path)
    for name in ("check", "load"):
        c = sub.add_parser(name, help=f"{name} a report file")
        c.add_argument("file", type=Path)
        c.add_argument("--bureau", required=True)
        c.add_argument("--max-mb", type=float, default=None, help=f"size limit (default {DEFAULT_MAX_MB:g})")
        if name == "load":
            c.add_argument("--user", required=True)
    d = sub.add_parser("demo", help="load the synthetic demo dataset")
    d.add_argument("--until", type=_period, default=None, help="last month (default: this month)")
    d.add_argument("--if-empty", action="store_true", help="do nothing when the warehouse has data")
    sub.add_parser("rebuild", help="rebuild the warehouse from targets.yaml and the upload archive")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)

    try:
        cfg = load_targets(args.targets) if args.targets else load_targets()
    except TargetsError as exc:
        print(exc, file=sys.stderr)
        return 2
    path = db.db_path(args.db)

    if args.cmd == "rebuild":
        from etl.rebuild import rebuild

        n = rebuild(path, cfg, progress=_bar)
        print(f"已从归档重建数据库：重放{n}个文件 -> {path}")
        return 0

    try:
        con = db.open_warehouse(path, cfg)
    except duckdb.IOException as exc:
        # DuckDB takes one writer process: the running app holds the file
        msg = f"无法打开数据库 {path}：文件正被其他进程（例如正在运行的应用）使用。请在应用内上传，或先停止应用。"
        print(f"{msg}\n{exc}", file=sys.stderr)
        return 2
    try:
        if args.cmd == "template":
            if args.bureau not in cfg.bureau_by_id:
                print(f"未知责任单位：{args.bureau}", file=sys.stderr)
                return 2
            n = __import__("etl.template", fromlist=["write_template"]).write_template(
                cfg, args.bureau, args.period, args.out, con
            )
            print(f"已生成模板 {args.out}（{n}行）")
            return 0
        if args.cmd in ("check", "load"):
            if not args.file.is_file():
                print(f"找不到文件：{args.file}", file=sys.stderr)
                return 2
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
            )
            _print_result(res)
            return 0 if res.ok else 1
        if args.cmd == "demo":
            from etl.demo import run_demo

            if args.if_empty and not db.is_empty(con):
                print("数据库已有数据，跳过演示数据。")
                return 0
            reports = path.parent / "demo_reports"
            results = run_demo(
                cfg, con, archive=db.archive_dir(path), reports_dir=reports, until=args.until, progress=_bar
            )
            rows = sum(r.rows_loaded for r in results)
            print(f"演示数据（合成，非真实数据）已导入：{len(results)}份报表，{rows}条数据 -> {path}")
            from etl.demo import create_demo_accounts

            accounts = create_demo_accounts(cfg, con)
            if accounts:
                print("演示账号（仅用于演示）：")
                for user, password, role, bureau in accounts:
                    print(
                        f"  {role:<8} {user:<20} {password}"
                        + (f"  ({cfg.bureau_by_id[bureau].name_zh})" if bureau else "")
                    )
            return 0
    finally:
        con.close()
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
