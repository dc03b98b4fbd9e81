"""A scratch PostgreSQL database for a benchmark: created, filled from a DuckDB warehouse, dropped.

    with scratch_database("postgresql://monitor@127.0.0.1:55433/postgres", built_file, "scorecard") as url:
        ...  # measure against url

The database is named perf_<purpose>_<pid> (benchmarks only touch databases of their own prefix) and
filled with etl.migrate.copy_warehouse, which verifies every table, then vacuumed and analysed as after
any restore; it is dropped afterwards, also
when the measurement fails. CREATE/DROP DATABASE cannot run inside a transaction, hence psql (the
PostgreSQL client beside the server) rather than DuckDB's postgres_execute.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from monitor import db

PREFIX = "perf_"


def _psql(admin_url: str, sql: str) -> None:
    subprocess.run(["psql", admin_url, "-v", "ON_ERROR_STOP=1", "-qc", sql], check=True, capture_output=True)


def database_url(admin_url: str, name: str) -> str:
    """The admin URL with another database name (same host, port, user)."""
    return str(db.db_path(admin_url).with_dbname(name))  # type: ignore[union-attr]


@contextmanager
def scratch_database(admin_url: str, source: Path, purpose: str, prefix: str = PREFIX) -> Iterator[str]:
    """URL of a new database <prefix><purpose>_<pid> holding a copy of the warehouse file ``source``
    (``prefix``: perf_ unless the caller was given its own, e.g. a helper's on a shared server)."""
    name = f"{prefix}{purpose}_{os.getpid()}"
    if not re.fullmatch(r"[a-z0-9_]+", name):
        raise ValueError(f"not a plain database name: {name!r}")
    _psql(admin_url, f"create database {name}")
    try:
        from etl import migrate

        start = time.perf_counter()
        url = database_url(admin_url, name)
        migrate.copy_warehouse(source, db.db_path(url))
        print(f"pg_copy_s={time.perf_counter() - start:.1f}")
        # What an operator runs after a restore (README, Deployment): otherwise the first minutes of a
        # freshly filled table are measured, with autovacuum working through it beside the benchmark.
        start = time.perf_counter()
        _psql(url, "vacuum (analyze) ")
        print(f"pg_vacuum_s={time.perf_counter() - start:.1f}")
        yield url
    finally:
        _psql(admin_url, f"drop database if exists {name} with (force)")
