"""One command-line grammar for `python -m etl` and `python -m monitor` (monitor.cli).

--db and --targets (the targets.yaml file) go before or after the subcommand with the same meaning in
both programs; briefing's target ids are --target, a different name; exit codes stay 0 / 1 / 2.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from etl.__main__ import build_parser as etl_parser
from etl.__main__ import main as etl_main
from monitor import cli, db
from monitor.__main__ import build_parser as monitor_parser
from monitor.__main__ import main as monitor_main

RENTAL = "rental_housing_units"


@pytest.fixture
def targets_file(tmp_path: Path, cfg_dict: dict[str, Any]) -> Path:
    """The test targets (2 housing KPIs, not the repository's 97): which file was read shows in the output."""
    path = tmp_path / "small_targets.yaml"
    path.write_text(yaml.safe_dump(cfg_dict, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def _report(tmp_path: Path, rows: list[tuple[str, str, str, object]], name: str = "housing.csv") -> Path:
    lines = ["指标编码,旗区,报送期,数值", *(",".join(str(cell) for cell in row) for row in rows)]
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _submissions(path: Path) -> list[tuple]:
    con = db.connect(path, read_only=True)
    try:
        return con.execute("select submission_id, bureau_id, user_name, outcome from submissions order by 1").fetchall()
    finally:
        con.close()


# -- both orders ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("shared_first", [True, False], ids=["options_first", "subcommand_first"])
def test_etl_load_takes_db_and_targets_before_or_after_the_subcommand(
    tmp_path: Path, targets_file: Path, shared_first: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    warehouse = tmp_path / "w.duckdb"
    report = _report(tmp_path, [(RENTAL, "东胜区", "2025-03", 5)])
    shared = ["--db", str(warehouse), "--targets", str(targets_file)]
    command = ["load", str(report), "--bureau", "housing", "--user", "li_si"]
    assert etl_main(shared + command if shared_first else command + shared) == 0
    assert capsys.readouterr().out.strip() == "housing.csv：已导入（报送编号1），共1行，新增1条、修订0条、未变化0条"
    assert _submissions(warehouse) == [(1, "housing", "li_si", "accepted")]


def test_etl_demo_accepts_db_after_the_subcommand(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The newcomer's `python -m etl demo --db X` (it used to stop with "unrecognized arguments")."""
    after, before = tmp_path / "after" / "w.duckdb", tmp_path / "before" / "w.duckdb"
    assert etl_main(["demo", "--until", "2024-08", "--db", str(after)]) == 0
    out_after = capsys.readouterr().out
    assert etl_main(["--db", str(before), "demo", "--until", "2024-08"]) == 0
    out_before = capsys.readouterr().out
    assert out_after.startswith("演示数据（合成，非真实数据）已导入：") and f"-> {after}\n" in out_after
    assert out_after.replace("/after/", "/before/") == out_before
    assert _submissions(after) == _submissions(before) and len(_submissions(after)) > 20
    assert (after.parent / "demo_reports").is_dir()  # beside the warehouse named after the subcommand


def test_etl_template_targets_file_after_the_subcommand_is_the_file_read(
    tmp_path: Path, targets_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "t.xlsx"
    command = ["template", "--bureau", "housing", "--period", "2025-03", "--out", str(out)]
    assert etl_main([*command, "--targets", str(targets_file), "--db", str(tmp_path / "w.duckdb")]) == 0
    # the small test file has 2 housing KPIs by 10 districts; the repository's targets.yaml has more
    assert capsys.readouterr().out.strip() == f"已生成模板 {out}（20行）"


def test_a_value_after_the_subcommand_wins_over_one_before(tmp_path: Path) -> None:
    args = etl_parser().parse_args(["--db", "first.duckdb", "demo", "--db", "second.duckdb"])
    assert args.db == "second.duckdb"
    args = monitor_parser().parse_args(["--db", "first.duckdb", "scorecard", "--as-of", "2025-03"])
    assert (args.db, args.targets) == ("first.duckdb", None)


@pytest.mark.parametrize("shared_first", [True, False], ids=["options_first", "subcommand_first"])
def test_monitor_scorecard_takes_db_and_targets_before_or_after_the_subcommand(
    tmp_path: Path, targets_file: Path, shared_first: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    warehouse = tmp_path / "w.duckdb"
    shared = ["--db", str(warehouse), "--targets", str(targets_file)]
    command = ["scorecard", "--as-of", "2025-03", "--format", "json"]
    assert monitor_main(shared + command if shared_first else command + shared) == 0
    records = json.loads(capsys.readouterr().out)
    # the small file's targets, each without data yet: the file given was read, the warehouse created
    assert [(r["target_id"], r["status"]) for r in records] == [
        ("rental_15k", "no_data"), ("talent_apartments_5k", "no_data"), ("bus_coverage_100", "no_data"),
        ("portal_online_2024", "no_data"), ("jobs_20k_yearly", "no_data"),
    ]  # fmt: skip
    assert warehouse.is_file()


@pytest.mark.parametrize(
    "argv",
    [
        ["users", "--db", "{db}", "add", "zhao", "--role", "leader", "--password", "pass-word-1"],
        ["users", "add", "zhao", "--role", "leader", "--password", "pass-word-1", "--db", "{db}"],
        ["--db", "{db}", "users", "add", "zhao", "--role", "leader", "--password", "pass-word-1"],
    ],
    ids=["after_users", "after_add", "before_users"],
)
def test_monitor_users_takes_db_anywhere_on_the_line(
    tmp_path: Path, argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    warehouse = tmp_path / "w.duckdb"
    assert monitor_main([str(warehouse) if a == "{db}" else a for a in argv]) == 0
    assert capsys.readouterr().out.strip() == "已新增用户 zhao（领导）"
    con = db.connect(warehouse, read_only=True)
    try:
        assert con.execute("select user_name, role from users").fetchall() == [("zhao", "leader")]
    finally:
        con.close()


# -- --help --------------------------------------------------------------------------------------------


def _subcommands(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every (nested) subcommand path of a parser: ("users", "add"), ("demo",), ..."""
    found: list[tuple[str, ...]] = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                found.append((*prefix, name))
                found.extend(_subcommands(child, (*prefix, name)))
    return found


@pytest.mark.parametrize(
    ("main", "commands"),
    [
        (etl_main, _subcommands(etl_parser())),
        (monitor_main, _subcommands(monitor_parser())),
    ],
    ids=["etl", "monitor"],
)
def test_every_subcommand_help_lists_db_and_the_targets_file(
    main: Callable[[list[str]], int], commands: list[tuple[str, ...]], capsys: pytest.CaptureFixture[str]
) -> None:
    assert len(commands) >= 5
    for command in commands:
        with pytest.raises(SystemExit) as exit_:
            main([*command, "--help"])
        assert exit_.value.code == 0, command
        text = capsys.readouterr().out
        flat = " ".join(text.split())  # argparse wraps the help text
        assert "--db FILE|URL" in text and "warehouse: a DuckDB file or postgresql://user@host:port/db" in flat, command
        assert "--targets FILE" in text and "targets.yaml" in text, command
        assert "--config" not in text, command  # the old spelling works but is not advertised


def test_both_programs_list_the_same_subcommands_as_before() -> None:
    assert _subcommands(etl_parser()) == [
        ("template",), ("check",), ("load",), ("demo",), ("rebuild",), ("migrate",),
    ]  # fmt: skip
    assert _subcommands(monitor_parser()) == [
        ("scorecard",), ("commitments",), ("briefing",), ("users",), ("users", "add"), ("users", "list"),
        ("users", "disable"), ("users", "enable"), ("users", "reset-password"),
    ]  # fmt: skip


# -- briefing: target ids are --target, the file is --targets ------------------------------------------


def test_briefing_target_ids_and_the_targets_file_have_different_names() -> None:
    args = monitor_parser().parse_args(
        ["briefing", "--as-of", "2026-10", "--out", "out", "--target", "rental_housing_15k,talent_apartments_2k",
         "--target", "bus_coverage_90", "--targets", "my_targets.yaml"]
    )  # fmt: skip
    assert cli.split_ids(args.target) == ["rental_housing_15k", "talent_apartments_2k", "bus_coverage_90"]
    assert args.targets == "my_targets.yaml"


def test_briefing_config_still_means_the_targets_file() -> None:
    args = monitor_parser().parse_args(["briefing", "--as-of", "2026-10", "--out", "o", "--config", "old.yaml"])
    assert (args.targets, args.target) == ("old.yaml", None)


def test_target_is_not_an_abbreviation_of_the_targets_file(capsys: pytest.CaptureFixture[str]) -> None:
    """argparse would read `scorecard --target x` as `--targets x` (a prefix): abbreviations are off."""
    with pytest.raises(SystemExit) as exit_:
        monitor_main(["scorecard", "--as-of", "2025-03", "--target", "rental_housing_15k"])
    assert exit_.value.code == 2
    assert "unrecognized arguments: --target rental_housing_15k" in capsys.readouterr().err


def test_briefing_with_a_missing_targets_file_is_a_usage_error_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nope.yaml"
    code = monitor_main(
        ["briefing", "--as-of", "2026-10", "--out", str(tmp_path / "out"), "--targets", str(missing),
         "--db", str(tmp_path / "w.duckdb")]
    )  # fmt: skip
    assert code == 2
    assert capsys.readouterr().err.splitlines() == [
        "错误 / error: targets.yaml 校验失败 / invalid:",
        f"- {missing}: 文件不存在 / not found",
    ]
    assert not (tmp_path / "out").exists()


# -- exit codes ------------------------------------------------------------------------------------------


def test_exit_codes_are_0_success_1_rejected_file_2_usage_error(
    tmp_path: Path, targets_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    warehouse = tmp_path / "w.duckdb"
    shared = ["--db", str(warehouse), "--targets", str(targets_file)]
    good = _report(tmp_path, [(RENTAL, "东胜区", "2025-03", 5)], "good.csv")
    bad = _report(tmp_path, [(RENTAL, "东胜区", "2025-03", -1)], "bad.csv")
    assert etl_main(["check", str(good), "--bureau", "housing", *shared]) == 0
    assert etl_main(["load", str(bad), "--bureau", "housing", "--user", "li_si", *shared]) == 1
    assert "bad.csv 第2行 D列（数值） 值“-1”：数值不能为负数" in capsys.readouterr().out
    assert etl_main(["check", str(tmp_path / "missing.csv"), "--bureau", "housing", *shared]) == 2
    with pytest.raises(SystemExit) as exit_:
        etl_main(["demo", "--no-such-option", *shared])
    assert exit_.value.code == 2
    with pytest.raises(SystemExit) as exit_:
        monitor_main(["scorecard", *shared])  # --as-of is required
    assert exit_.value.code == 2
    assert _submissions(warehouse) == [(1, "housing", "li_si", "rejected")]


def test_a_busy_warehouse_is_exit_2_for_either_order(
    tmp_path: Path, targets_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Another program holds the file (here: another process-level connection, as the app would)."""
    import subprocess
    import sys
    import time

    warehouse = tmp_path / "w.duckdb"
    db.connect(warehouse).close()
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('ok', flush=True);"
         " time.sleep(60)", str(warehouse)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ok"
        started = time.monotonic()
        for argv in (
            ["--db", str(warehouse), "demo", "--until", "2024-08"],
            ["demo", "--until", "2024-08", "--db", str(warehouse)],
        ):
            assert etl_main([*argv, "--targets", str(targets_file)]) == 2
            assert capsys.readouterr().err.strip() == db.WarehouseBusy.message()
        assert monitor_main(["users", "list", "--db", str(warehouse)]) == 2
        assert capsys.readouterr().err.strip() == db.WarehouseBusy.message()
        assert time.monotonic() - started < 30
    finally:
        holder.kill()
        holder.wait()
