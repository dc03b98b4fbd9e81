"""Where the warehouse lives: a DuckDB file (the default) or a PostgreSQL database several processes share.

Only monitor.db uses this module. Both backends are driven through DuckDB, so every query, view and
migration is written once, in DuckDB's SQL: against PostgreSQL the connection is an in-memory DuckDB
with the database ATTACHed (DuckDB's postgres extension, shipped inside the `duckdb-ext-postgres`
wheel, so no download is needed on an intranet machine). docs/warehouse.md says why this and not a
second SQL dialect through psycopg.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import tomllib
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import duckdb

from monitor.targets import ROOT

DEFAULT_DB = ROOT / "data" / "warehouse.duckdb"
SECRETS_FILE = ROOT / ".streamlit" / "secrets.toml"

# The attached PostgreSQL database's name inside DuckDB. Views live in DuckDB's own in-memory catalog
# (they use DuckDB functions such as getvariable), tables in PostgreSQL's schema public; every
# connection and cursor searches both, views first.
PG_CATALOG = "wh"
SEARCH_PATH = f"memory.main,{PG_CATALOG}.public"

# One key for PostgreSQL's transaction-scoped advisory lock: the cross-process counterpart of
# monitor.db's in-process writer, so writes from several app processes and the CLI never interleave.
WRITER_LOCK_KEY = 477_2024

URL_SCHEMES = ("postgresql://", "postgres://")


class PostgresUrl(str):
    """A PostgreSQL connection URL (postgresql://user:password@host:port/dbname?sslmode=…).

    A str, so it travels wherever a warehouse location does (the CLI's --db, MONITOR_DB, cache keys).
    """

    @property
    def display(self) -> str:
        """The URL with its password replaced by ***: for messages and logs."""
        parts = urlsplit(self)
        if parts.password is None:
            return str(self)
        host = parts.hostname or ""
        netloc = f"{parts.username}:***@{host}" + (f":{parts.port}" if parts.port else "")
        return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))

    @property
    def dbname(self) -> str:
        return urlsplit(self).path.lstrip("/")

    def with_dbname(self, name: str) -> PostgresUrl:
        parts = urlsplit(self)
        return PostgresUrl(urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment)))


Location = Path | PostgresUrl


def is_url(value: str) -> bool:
    return value.startswith(URL_SCHEMES)


def parse_location(value: str | os.PathLike[str]) -> Location:
    """A postgresql:// URL selects PostgreSQL; anything else is a DuckDB file path."""
    if isinstance(value, PostgresUrl | Path):
        return value
    text = os.fspath(value)
    return PostgresUrl(text) if is_url(text) else Path(text)


def secrets_warehouse(secrets_file: Path = SECRETS_FILE) -> dict[str, str]:
    """The [warehouse] section of .streamlit/secrets.toml (url, archive), or {} when there is none.

    Read here with tomllib rather than st.secrets because the CLI, the ETL and the benchmarks, which
    never import streamlit, must find the same warehouse as the app.
    """
    if not secrets_file.is_file():
        return {}
    with secrets_file.open("rb") as fh:
        section = tomllib.load(fh).get("warehouse", {})
    return {str(key): str(value) for key, value in section.items()} if isinstance(section, dict) else {}


def configured_location(cli_value: str | os.PathLike[str] | None = None) -> Location:
    """--db wins, then MONITOR_DB, then [warehouse] url in secrets.toml, then data/warehouse.duckdb."""
    if cli_value:
        return parse_location(cli_value)
    env = os.environ.get("MONITOR_DB")
    if env:
        return parse_location(env)
    url = secrets_warehouse().get("url")
    if url:
        return parse_location(url)
    return DEFAULT_DB


def archive_dir(location: Location) -> Path:
    """Accepted raw files are archived by sha256 (rejected ones are not kept).

    Beside a DuckDB file; for PostgreSQL in MONITOR_ARCHIVE, [warehouse] archive, or data/archive. Every
    app process and the CLI must see the same directory (a shared mount when they run on several hosts).
    """
    if isinstance(location, Path):
        return location.parent / "archive"
    configured = os.environ.get("MONITOR_ARCHIVE") or secrets_warehouse().get("archive")
    return Path(configured) if configured else ROOT / "data" / "archive"


def describe(location: Location) -> str:
    """The location for a message: the file path, or the URL without its password."""
    return location.display if isinstance(location, PostgresUrl) else str(location)


@functools.cache
def extension_file() -> Path:
    """The postgres extension inside the duckdb-ext-postgres wheel, for this DuckDB version and platform."""
    spec = importlib.util.find_spec("duckdb_ext")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("duckdb-ext-postgres is not installed (pip install -r requirements.txt)")
    probe = duckdb.connect()  # its own: the module-level default connection is not safe across threads
    try:
        platform = probe.execute("pragma platform").fetchall()[0][0]
    finally:
        probe.close()
    version = f"v{duckdb.__version__}"
    for base in spec.submodule_search_locations:
        candidate = Path(base) / "extensions" / version / str(platform) / "postgres_scanner.duckdb_extension"
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"duckdb-ext-postgres has no postgres extension for DuckDB {version} on {platform}")


def _literal(text: str) -> str:
    """A SQL string literal. ATTACH takes no bound parameters; the URL comes from the operator's
    configuration (never from a page), and doubling quotes keeps it one literal whatever it holds."""
    return "'" + text.replace("'", "''") + "'"


def attach_postgres(url: PostgresUrl) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with the PostgreSQL database attached and searched after DuckDB's own views."""
    con = duckdb.connect()
    con.execute(f"load {_literal(str(extension_file()))}")
    con.execute(f"attach {_literal(str(url))} as {PG_CATALOG} (type postgres)")
    use_search_path(con)
    return con


def use_search_path(con: duckdb.DuckDBPyConnection) -> None:
    """DuckDB keeps the search path per connection and per cursor, so each cursor needs it too."""
    con.execute(f"set search_path = {_literal(SEARCH_PATH)}")


def pg_execute(con: duckdb.DuckDBPyConnection, sql: str, *, in_transaction: bool = True) -> None:
    """Run PostgreSQL's own SQL on the attached database, inside the connection's open transaction
    (in_transaction=False for what PostgreSQL refuses there: CREATE / DROP DATABASE).
    Only constant statements from this package reach here (sequences, advisory locks)."""
    use = "true" if in_transaction else "false"
    con.execute(f"call postgres_execute({_literal(PG_CATALOG)}, ?, use_transaction := {use})", [sql])


def pg_relation() -> str:
    """A table expression for DuckDB SQL: the rows of a PostgreSQL query run inside PostgreSQL, the
    query (constant SQL only) bound to its one ``?``. For reads PostgreSQL answers from an index."""
    return f"postgres_query({_literal(PG_CATALOG)}, ?)"


def pg_rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple]:
    """Rows of a PostgreSQL query run inside PostgreSQL (constant SQL only): for aggregates such as
    count(*) that would otherwise copy a whole table into DuckDB first."""
    return con.execute(f"select * from postgres_query({_literal(PG_CATALOG)}, ?)", [sql]).fetchall()


def pg_scalar(con: duckdb.DuckDBPyConnection, sql: str) -> object:
    """First value of a PostgreSQL query (constant SQL only), e.g. nextval of a sequence."""
    rows = con.execute(f"select * from postgres_query({_literal(PG_CATALOG)}, ?)", [sql]).fetchall()
    return rows[0][0] if rows else None
