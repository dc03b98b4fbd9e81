"""The one command-line grammar of `python -m etl` and `python -m monitor`.

Both programs take the same shared options, before or after the subcommand (`python -m etl demo --db X`
is `python -m etl --db X demo`), and every subcommand's --help lists them:

    --db FILE        the warehouse (default: $MONITOR_DB, then data/warehouse.duckdb)
    --targets FILE   targets.yaml (default: the repository's)

--targets is always the file. Target ids are `briefing --target ID` (repeatable, comma-separated): a
different name, never an abbreviation of this one (abbreviations are off in every parser).
"""

from __future__ import annotations

import argparse

DB_HELP = (
    "warehouse: a DuckDB file or postgresql://user@host:port/db "
    "(default: $MONITOR_DB, [warehouse] url in .streamlit/secrets.toml, or data/warehouse.duckdb)"
)
TARGETS_HELP = "targets.yaml (default: the repository's)"


def _add_shared(parser: argparse.ArgumentParser, default: object) -> None:
    parser.add_argument("--db", default=default, metavar="FILE|URL", help=DB_HELP)
    parser.add_argument("--targets", default=default, metavar="FILE", help=TARGETS_HELP)
    # briefing's old name for the same file, kept for one release (hidden; the file, never ids)
    parser.add_argument("--config", dest="targets", default=default, metavar="FILE", help=argparse.SUPPRESS)


def _shared_after() -> argparse.ArgumentParser:
    """The shared options of a subcommand. Unset, they leave no attribute (SUPPRESS), so a value given
    before the subcommand is not overwritten by the subcommand's default; given after, they win."""
    parent = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    _add_shared(parent, argparse.SUPPRESS)
    return parent


def program(prog: str, description: str) -> argparse.ArgumentParser:
    """The top-level parser, with the shared options (None when not given anywhere)."""
    parser = argparse.ArgumentParser(prog=prog, description=description, allow_abbrev=False)
    _add_shared(parser, None)
    return parser


def subcommand(sub: argparse._SubParsersAction, name: str, **kwargs: object) -> argparse.ArgumentParser:
    """A subcommand that also accepts (and documents in its --help) the shared options."""
    return sub.add_parser(name, parents=[_shared_after()], allow_abbrev=False, **kwargs)


def split_ids(values: list[str] | None) -> list[str] | None:
    """`--target a,b --target c` -> [a, b, c]; None when not given (or only empty)."""
    if not values:
        return None
    return [v.strip() for chunk in values for v in chunk.split(",") if v.strip()] or None
