"""python -m monitor: the monitor's figures without the dashboard, for scripts, checks and cron jobs.

    python -m monitor scorecard --as-of 2025-09 [--db FILE] [--format table|csv|json] [--district 东胜区]
    python -m monitor briefing --as-of 2026-10 --out DIR [--section 三(二)] [--bureau housing] [--target a,b] [--full]
    python -m monitor users add|list|disable|enable|reset-password ...

--db and --targets (targets.yaml) go before or after the subcommand, as in `python -m etl` (monitor.cli).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import sys
from collections.abc import Sequence
from pathlib import Path

import duckdb
import pandas as pd

from monitor import cli, commitments, db, export_safe, progress, target_settings, users_cli
from monitor.targets import DEFAULT_TARGETS, TargetsConfig, TargetsError, load_targets

# The scorecard fields the command line prints, in this order, in every format.
SCORECARD_FIELDS: tuple[str, ...] = (
    "target_id", "kpi_id", "name_zh", "unit", "deadline", "comparator", "target_value", "baseline_value",
    "actual", "as_of", "expected", "progress", "forecast", "forecast_low", "forecast_high", "status",
    "reason_zh", "reason_en",
)  # fmt: skip
_NUMERIC = (
    "target_value", "baseline_value", "actual", "expected", "progress", "forecast", "forecast_low", "forecast_high",
)  # fmt: skip


def _month(text: str) -> dt.date:
    try:
        return dt.datetime.strptime(text, "%Y-%m").date()
    except ValueError:
        raise argparse.ArgumentTypeError(f"月份应为 YYYY-MM / month as YYYY-MM: {text!r}") from None


def _load_cfg(path: str | None) -> TargetsConfig | None:
    """targets.yaml supplies the thresholds and district aliases; without the file the defaults apply."""
    p = Path(path) if path else DEFAULT_TARGETS
    if not p.exists():
        if path:
            raise TargetsError([f"{p}: 文件不存在 / not found"])
        return None
    return load_targets(p)


def _open(path: str | None, cfg: TargetsConfig | None) -> duckdb.DuckDBPyConnection:
    """Read-only when the warehouse exists (several reports can run together); otherwise create it
    with the reference tables, so the scorecard lists every target as 数据缺失. While the app or a
    load holds the file this raises db.WarehouseBusy (DuckDB lets one process open it). PostgreSQL
    is shared by every process, so there it is simply opened (and migrated if new)."""
    p = db.db_path(path)
    if isinstance(p, db.PostgresUrl):
        return db.open_warehouse(p, cfg) if cfg is not None else db.connect(p)
    if p.exists():
        return db.connect(p, read_only=True)
    if cfg is None:
        return db.connect(p)
    return db.open_warehouse(p, cfg)


def _number(value: object) -> float | None:
    if value is None:
        return None
    x = float(value)  # type: ignore[arg-type]
    return None if math.isnan(x) else x


def _plain(x: float) -> str:
    """12,345.6 rather than 1.23e+04 in the table."""
    return f"{x:,.2f}".rstrip("0").rstrip(".")


def _year_record(year: dict[str, object]) -> dict[str, object]:
    """One calendar year of a yearly target, its numbers as plain JSON numbers (null when none)."""
    return {
        "year": int(year["year"]),  # type: ignore[call-overload]
        "target": _number(year["target"]),
        "actual": _number(year["actual"]),
        "status": year["status"],
    }


def json_records(card: pd.DataFrame, cfg: TargetsConfig | None) -> list[dict[str, object]]:
    """The JSON scorecard: the printed fields, then per target ``years`` (annual targets, flow caps
    and floors: every calendar year from the start to the deadline, also those without figures, as
    year, target, actual or null, status or null; null for other targets) and ``assumed`` (what
    targets.yaml assumes, Target.assumed; [] when none or without targets.yaml)."""
    assumed = {t.id: list(t.assumed) for t in cfg.targets} if cfg is not None else {}
    out = []
    for record, years, target_id in zip(
        scorecard_records(card), card["calendar_years"].tolist(), card["target_id"].tolist(), strict=True
    ):
        record["years"] = [_year_record(y) for y in years] if isinstance(years, list) else None
        record["assumed"] = assumed.get(target_id, [])
        out.append(record)
    return out


def scorecard_records(card: pd.DataFrame) -> list[dict[str, object]]:
    """The printed fields as plain JSON-able values: numbers as numbers, null for NaN, ISO dates."""
    records = []
    for r in card.to_dict("records"):
        rec: dict[str, object] = {
            "target_id": r["target_id"],
            "kpi_id": r["kpi_id"],
            "name_zh": r["name_zh"],
            "unit": r["unit_zh"],
            "deadline": pd.Timestamp(r["deadline"]).strftime("%Y-%m-%d"),
            "comparator": r["comparator"],
            "as_of": pd.Timestamp(r["as_of"]).strftime("%Y-%m"),
            "status": r["status"],
            "reason_zh": r["reason_zh"],
            "reason_en": r["reason_en"],
        }
        rec.update({k: _number(r[k]) for k in _NUMERIC})
        records.append({k: rec[k] for k in SCORECARD_FIELDS})
    return records


def _cmd_scorecard(args: argparse.Namespace) -> int:
    cfg = _load_cfg(args.targets)
    con = _open(args.db, cfg)
    try:
        district = progress.resolve_district(con, args.district, cfg) if args.district else None
        card = progress.scorecard(con, args.as_of, district=district, cfg=cfg)
        if cfg is not None:
            cfg = target_settings.effective(cfg, con)  # ``assumed`` lists what is still unconfirmed
    finally:
        con.close()
    if args.format == "json":
        json.dump(json_records(card, cfg), sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
        return 0
    records = scorecard_records(card)
    if args.format == "csv":
        # opened in Excel: no text cell may act as a formula (numbers stay numbers)
        export_safe.safe_frame(pd.DataFrame(records, columns=list(SCORECARD_FIELDS))).to_csv(sys.stdout, index=False)
    else:
        frame = pd.DataFrame(records, columns=list(SCORECARD_FIELDS))
        with pd.option_context("display.width", 250, "display.max_columns", None, "display.max_colwidth", 120):
            sys.stdout.write(frame.to_string(index=False, float_format=_plain) + "\n")
    return 0


def _cmd_commitments(args: argparse.Namespace) -> int:
    """The policy's commitments without a milestone, with their state and evidence as of a month: JSON
    (a list, like the scorecard) or a table. Always the whole city's."""
    cfg = _load_cfg(args.targets) or load_targets()
    con = _open(args.db, cfg)
    try:
        pledged = commitments.commitment_states(con, cfg, args.as_of)
    finally:
        con.close()
    records = commitments.json_records(pledged)
    if args.format == "json":
        json.dump(records, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
        return 0
    frame = pd.DataFrame(records)
    with pd.option_context("display.width", 250, "display.max_columns", None, "display.max_colwidth", 80):
        sys.stdout.write(frame.to_string(index=False) + "\n")
    return 0


def _cmd_briefing(args: argparse.Namespace) -> int:
    """Write the meeting briefing (deck, PDF, workbook, charts) and print the files written."""
    from monitor import briefing  # the browser stack is imported only for this command

    cfg = _load_cfg(args.targets) or load_targets()
    con = _open(args.db, cfg)
    try:
        result = briefing.build_briefing(
            con, cfg, args.as_of, args.out, sections=cli.split_ids(args.section), bureaus=cli.split_ids(args.bureau),
            targets=cli.split_ids(args.target), lang=args.lang, full=args.full,
            progress=lambda i, n, label: print(f"[{i}/{n}] {label}", file=sys.stderr, flush=True),
        )  # fmt: skip
    except briefing.BriefingError as exc:
        print(f"错误 / error: {exc}", file=sys.stderr)
        return 2
    finally:
        con.close()
    for path in result.paths:
        print(path)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = cli.program("python -m monitor", "0477 监测：目标进展 / progress monitor")
    sub = parser.add_subparsers(dest="command", required=True)
    sc = cli.subcommand(sub, "scorecard", help="每项目标的进展与状态 / every target's status")
    sc.add_argument("--as-of", required=True, type=_month, help="month of the data, YYYY-MM (its figures included)")
    sc.add_argument("--format", choices=("table", "csv", "json"), default="table")
    sc.add_argument("--district", default=None, help="旗区 id 或中文名 / district id or name (default: whole city)")
    sc.set_defaults(func=_cmd_scorecard)
    cm = cli.subcommand(sub, "commitments", help="无量化节点的承诺事项 / commitments without a milestone")
    cm.add_argument("--as-of", required=True, type=_month, help="month of the data, YYYY-MM (its figures included)")
    cm.add_argument("--format", choices=("table", "json"), default="table")
    cm.set_defaults(func=_cmd_commitments)
    br = cli.subcommand(
        sub, "briefing", help="会议简报：PPT、PDF、Excel 与图表 / meeting briefing: deck, PDF, workbook"
    )
    br.add_argument("--as-of", required=True, type=_month, help="month of the data, YYYY-MM (its figures included)")
    br.add_argument("--out", required=True, help="output directory (created)")
    br.add_argument("--section", action="append", help="政策条目，如 三(二)；可重复或逗号分隔 / policy section")
    br.add_argument("--bureau", action="append", help="牵头单位 id；可重复或逗号分隔 / lead bureau id")
    br.add_argument(
        "--target", action="append", metavar="ID", help="目标 id；可重复或逗号分隔 / target id; repeatable or a,b"
    )
    br.add_argument("--lang", choices=("zh", "en"), default="zh")
    br.add_argument(
        "--full", action="store_true", help="每项目标一页（默认：重点简报）/ a slide per target (default: exceptions)"
    )
    br.set_defaults(func=_cmd_briefing)
    users_cli.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except db.WarehouseBusy as exc:  # the app or a load holds the file: say what to do, not DuckDB's text
        print(exc, file=sys.stderr)
        return 2
    except (TargetsError, ValueError, KeyError, duckdb.Error) as exc:
        print(f"错误 / error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
