"""Shared fixtures: a small targets config built in code (never the real targets.yaml), a warehouse
in a temporary directory, and a snapshot of everything a load can change.

    cfg        TargetsConfig parsed from TARGETS_DICT (see kpis below)
    cfg_dict   a deep copy of that dict (dump it to yaml for the command line)
    warehouse  Warehouse(con, path, archive) with the reference tables loaded
    snapshot   snapshot(con) -> dict of observations (every row) and row counts of the other tables
    TODAY      2026-11-26, passed as `today=` so "future month" checks do not depend on the clock

PostgreSQL mode: with MONITOR_TEST_PG=postgresql://monitor@127.0.0.1:PORT/postgres (an admin URL; the
server from `scripts/pg.sh start`), every DuckDB file under pytest's temporary directory that a test
opens through monitor.db is a fresh PostgreSQL database instead (PgWarehouses below), so the same tests
check both backends. Tests about the DuckDB file itself carry the `duckdb_file` marker and are skipped.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml

from etl.__main__ import main as etl_main
from monitor import db
from monitor.backend import PostgresUrl
from monitor.targets import TargetsConfig, parse_targets

TODAY = dt.date(2026, 11, 26)

# The 11 units exactly as in targets.yaml.
DISTRICTS: list[dict[str, Any]] = [
    {
        "id": "city",
        "name_zh": "全市",
        "name_en": "Whole city",
        "kind": "city",
        "aliases": ["鄂尔多斯市", "市本级", "合计"],
    },
    {"id": "dongsheng", "name_zh": "东胜区", "name_en": "Dongsheng", "kind": "district"},
    {"id": "kangbashi", "name_zh": "康巴什区", "name_en": "Kangbashi", "kind": "district"},
    {"id": "dalad", "name_zh": "达拉特旗", "name_en": "Dalad Banner", "kind": "banner"},
    {"id": "jungar", "name_zh": "准格尔旗", "name_en": "Jungar Banner", "kind": "banner"},
    {"id": "otog_front", "name_zh": "鄂托克前旗", "name_en": "Otog Front Banner", "kind": "banner"},
    {"id": "otog", "name_zh": "鄂托克旗", "name_en": "Otog Banner", "kind": "banner"},
    {"id": "hanggin", "name_zh": "杭锦旗", "name_en": "Hanggin Banner", "kind": "banner"},
    {"id": "uxin", "name_zh": "乌审旗", "name_en": "Uxin Banner", "kind": "banner"},
    {"id": "ejin_horo", "name_zh": "伊金霍洛旗", "name_en": "Ejin Horo Banner", "kind": "banner"},
    {
        "id": "gaoxin",
        "name_zh": "高新区",
        "name_en": "Ordos High-tech Zone",
        "kind": "zone",
        "aliases": ["鄂尔多斯高新技术产业开发区", "高新技术产业开发区"],
    },
]


def _kpi(
    id: str, name_zh: str, unit_zh: str, value_type: str, reporting: str, aggregation: str, lead: str, **extra: Any
) -> dict[str, Any]:
    return {
        "id": id,
        "section": "测试",
        "name_zh": name_zh,
        "name_en": id.replace("_", " "),
        "unit_zh": unit_zh,
        "unit_en": unit_zh,
        "value_type": value_type,
        "reporting": reporting,
        "aggregation": aggregation,
        "lead": lead,
        "source": f"{name_zh}（测试）",
        **extra,
    }


TARGETS_DICT: dict[str, Any] = {
    "version": 1,
    "policy": {"title": "服务暖城“新市民”0477系列措施", "issued": dt.date(2024, 7, 15), "start": dt.date(2024, 7, 1)},
    "reporting": {"due_day": 10, "max_upload_mb": 20},
    "bureaus": [
        {"id": "housing", "name_zh": "市住房和城乡建设局", "name_en": "Municipal Housing Bureau"},
        {"id": "transport", "name_zh": "市交通运输局", "name_en": "Municipal Transport Bureau"},
        {"id": "hrss", "name_zh": "市人力资源和社会保障局", "name_en": "Municipal HR and Social Security Bureau"},
        {"id": "public_security", "name_zh": "市公安局", "name_en": "Municipal Public Security Bureau"},
        {"id": "finance", "name_zh": "市财政局", "name_en": "Municipal Finance Bureau"},
        {"id": "gov_services", "name_zh": "市政务服务局", "name_en": "Municipal Government Services Bureau"},
    ],
    "districts": DISTRICTS,
    "kpis": [
        # increment count, districts report, the city is their sum
        _kpi("rental_housing_units", "保障性租赁住房筹建套数", "套", "count", "increment", "sum", "housing"),
        # cumulative-to-date count by district
        _kpi("talent_apartments", "人才公寓累计筹集套数", "套", "count", "cumulative", "sum", "housing"),
        # a level ratio reported for the whole city only
        _kpi("bus_coverage", "中心城区公交站点500米覆盖率", "%", "ratio", "level", "city", "transport"),
        # a milestone, done (1) or not (0), city only
        _kpi("portal_online", "新市民政策专区上线", "是否完成", "flag", "level", "city", "gov_services"),
        # money paid, by district
        _kpi(
            "settlement_subsidy_yuan",
            "一次性落户补助发放金额",
            "元",
            "amount",
            "increment",
            "sum",
            "public_security",
            co=["finance"],
            activity=True,
        ),
        # people, by district (a second KPI for the same bureau as the amount)
        _kpi(
            "settlement_subsidy_people",
            "一次性落户补助发放人数",
            "人",
            "count",
            "increment",
            "sum",
            "public_security",
            activity=True,
        ),
        _kpi("jobs_new", "城镇新增就业人数", "人", "count", "increment", "sum", "hrss"),
    ],
    "targets": [
        {
            "id": "rental_15k",
            "kpi": "rental_housing_units",
            "section": "测试",
            "name_zh": "三年内筹建保障性租赁住房1.5万套以上",
            "name_en": "15,000 rental units in three years",
            "kind": "cumulative",
            "comparator": ">=",
            "value": 15000,
            "deadline": dt.date(2027, 7, 31),
            "baseline": {"value": 0, "date": dt.date(2024, 7, 1)},
            "source": "筹建保障性租赁住房1.5万套以上",
        },
        {
            "id": "talent_apartments_5k",
            "kpi": "talent_apartments",
            "section": "测试",
            "name_zh": "人才公寓5000套",
            "name_en": "5,000 talent apartments",
            "kind": "cumulative",
            "comparator": ">=",
            "value": 5000,
            "deadline": dt.date(2026, 12, 31),
            "scope": ["dongsheng", "kangbashi"],
            "source": "人才公寓5000套",
        },
        {
            "id": "bus_coverage_100",
            "kpi": "bus_coverage",
            "section": "测试",
            "name_zh": "公交站点500米覆盖率达到100%",
            "name_en": "Bus stop coverage 100%",
            "kind": "ratio",
            "comparator": ">=",
            "value": 100,
            "deadline": dt.date(2027, 7, 31),
            "baseline": {"value": 80, "date": dt.date(2024, 7, 1)},
            "source": "公交站点500米覆盖率达到100%",
        },
        {
            "id": "portal_online_2024",
            "kpi": "portal_online",
            "section": "测试",
            "name_zh": "政策专区上线",
            "name_en": "Policy portal online",
            "kind": "milestone",
            "comparator": ">=",
            "value": 1,
            "deadline": dt.date(2024, 12, 31),
            "source": "政策专区上线",
        },
        {
            "id": "jobs_20k_yearly",
            "kpi": "jobs_new",
            "section": "测试",
            "name_zh": "每年新增就业2万人",
            "name_en": "20,000 new jobs a year",
            "kind": "annual",
            "comparator": ">=",
            "value": 20000,
            "deadline": dt.date(2027, 12, 31),
            "source": "每年新增就业2万人",
        },
    ],
}


# -- PostgreSQL mode (MONITOR_TEST_PG) ---------------------------------------------------------------------

PG_ENV = "MONITOR_TEST_PG"


def _psql() -> str:
    """psql from PATH, else the newest server package's (scripts/pg.sh installs the Debian package)."""
    found = shutil.which("psql")
    if found:
        return found
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/psql"), key=lambda p: int(p.parts[-3]))
    if not candidates:
        raise FileNotFoundError(f"{PG_ENV} is set but psql is not installed")
    return str(candidates[-1])


class PgWarehouses:
    """The PostgreSQL databases standing in for this session's DuckDB files.

    A warehouse file is only ever reached through monitor.db.connect, so the redirect happens there: the
    tests, the CLI and the app keep passing the Path around (db.archive_dir(path) stays the file's sibling
    'archive'), and connect() opens the database named after the path. The database is created on first
    use, dropped when the test that owns the path ends (or at the session's end), so every test starts
    from an empty warehouse exactly as with a new file.
    """

    def __init__(self, admin: PostgresUrl, basetemp: Path) -> None:
        self.admin = admin
        self.basetemp = basetemp.resolve()
        self.created: dict[str, Path] = {}  # database name -> the path it stands for
        self.psql = _psql()

    def applies(self, location: db.Location) -> bool:
        """A DuckDB file under pytest's temporary directory (the repository's own warehouse never)."""
        return (
            isinstance(location, Path)
            and location.name.endswith(".duckdb")
            and location.resolve().is_relative_to(self.basetemp)
        )

    @staticmethod
    def dbname(path: Path) -> str:
        return "t_" + hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:24]

    def run(self, *statements: str) -> None:
        """PostgreSQL statements through psql, each in its own transaction (CREATE/DROP DATABASE need that).
        Names come from dbname(): hex digits only, so they are safe inside the SQL."""
        args = [self.psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", str(self.admin)]
        for statement in statements:
            args += ["-c", statement]
        done = subprocess.run(args, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"psql failed: {done.stderr.strip()}")

    def url(self, path: Path, *, template: Path | None = None) -> PostgresUrl:
        """The database standing for `path`, created (empty, or as a copy of `template`'s) if need be."""
        name = self.dbname(path)
        if name not in self.created:
            create = f"create database {name}"
            statements = [f"drop database if exists {name} with (force)"]  # left by an aborted run
            if template is not None:
                source = self.dbname(template)
                # a template must have no other connection; the demo's are all closed, so this only
                # ends one a failed test left behind
                statements.append(
                    f"select pg_terminate_backend(pid) from pg_stat_activity where datname = '{source}' "
                    "and pid <> pg_backend_pid()"
                )
                create += f" template {source}"
            self.run(*statements, create)
            self.created[name] = path.resolve()
        return self.admin.with_dbname(name)

    def drop_under(self, directory: Path) -> None:
        """Drop the databases of the paths under `directory` (a finished test's tmp_path)."""
        root = directory.resolve()
        names = [name for name, path in self.created.items() if path.is_relative_to(root)]
        self.drop(names)

    def drop(self, names: list[str]) -> None:
        if names:
            self.run(*(f"drop database if exists {name} with (force)" for name in names))
            for name in names:
                del self.created[name]


PG: PgWarehouses | None = None  # set for the session when MONITOR_TEST_PG is


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """In PostgreSQL mode, skip the tests about the DuckDB file itself (the `duckdb_file` marker)."""
    if not os.environ.get(PG_ENV):
        return
    skip = pytest.mark.skip(reason=f"about the DuckDB file; {PG_ENV} runs the PostgreSQL backend")
    for item in items:
        if item.get_closest_marker("duckdb_file"):
            item.add_marker(skip)


@pytest.fixture(scope="session", autouse=True)
def _pg_mode(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PgWarehouses | None]:
    """With MONITOR_TEST_PG set, db.connect opens a PostgreSQL database wherever a test's DuckDB file was."""
    global PG
    admin = os.environ.get(PG_ENV)
    if not admin:
        yield None
        return
    if not db.backend.is_url(admin):
        raise pytest.UsageError(f"{PG_ENV} must be a postgresql:// URL, not {admin!r}")
    PG = PgWarehouses(PostgresUrl(admin), tmp_path_factory.getbasetemp())
    original = db.connect

    def connect(path: db.Location | str | None = None, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
        location = db.db_path(path)
        if PG is not None and PG.applies(location):
            location = PG.url(location)  # type: ignore[arg-type]
        return original(location, read_only=read_only)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(db, "connect", connect)
        try:
            yield PG
        finally:
            PG.drop(list(PG.created))
            PG = None


@pytest.fixture(autouse=True)
def _pg_drop_test_databases(request: pytest.FixtureRequest) -> Iterator[None]:
    """Each test's PostgreSQL databases go when it ends (as its tmp_path files would): a session makes
    hundreds, and each is a few megabytes and possibly an open connection."""
    yield
    tmp = request.node.funcargs.get("tmp_path") if hasattr(request.node, "funcargs") else None
    if PG is not None and isinstance(tmp, Path):
        PG.drop_under(tmp)


@pytest.fixture
def cfg_dict() -> dict[str, Any]:
    return copy.deepcopy(TARGETS_DICT)


@pytest.fixture
def cfg() -> TargetsConfig:
    return parse_targets(copy.deepcopy(TARGETS_DICT))


@pytest.fixture
def cli(tmp_path: Path, cfg_dict: dict[str, Any]) -> Callable[..., int]:
    """`python -m etl ARGS…` in this process against tmp_path/cli.duckdb and the test targets: the
    exit code (the printed lines are in capsys)."""
    targets = tmp_path / "targets.yaml"
    targets.write_text(yaml.safe_dump(cfg_dict, allow_unicode=True, sort_keys=False), encoding="utf-8")

    def run(*args: str) -> int:
        return etl_main(["--db", str(tmp_path / "cli.duckdb"), "--targets", str(targets), *args])

    return run


@dataclass
class Warehouse:
    con: duckdb.DuckDBPyConnection
    path: Path
    archive: Path


@pytest.fixture
def warehouse(tmp_path: Path, cfg: TargetsConfig) -> Iterator[Warehouse]:
    path = tmp_path / "warehouse.duckdb"
    con = db.connect(path)
    db.load_reference(con, cfg)
    try:
        yield Warehouse(con, path, tmp_path / "archive")
    finally:
        con.close()


def take_snapshot(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Everything a load may change: every observation row, and how many rows the log tables hold."""
    return {
        "observations": con.execute(
            """
            select kpi_id, district_id, period, value, revision, submission_id, source_row
            from observations order by all
            """
        ).fetchall(),
        "current": con.execute(
            "select kpi_id, district_id, period, value, revision from current_observations order by all"
        ).fetchall(),
        "submissions": db.scalar(con, "select count(*) from submissions"),
        "accepted": db.scalar(con, "select count(*) from submissions where outcome = 'accepted'"),
        "rejected": db.scalar(con, "select count(*) from submissions where outcome = 'rejected'"),
        "rejected_rows": db.scalar(con, "select count(*) from rejected_rows"),
        "load_warnings": db.scalar(con, "select count(*) from load_warnings"),
        "audit_log": db.scalar(con, "select count(*) from audit_log"),
    }


@pytest.fixture
def snapshot() -> Callable[[duckdb.DuckDBPyConnection], dict[str, Any]]:
    return take_snapshot


# -- the real targets.yaml with the demo dataset, for the app tests (AppTest and the browser) ----------

DEMO_UNTIL = "2026-10"
DEMO_AS_OF = dt.date(2026, 10, 1)


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One warehouse per test session: the real targets.yaml, the demo dataset up to 2026-10 and the
    demo accounts (leader/leader-0477, admin/admin-0477, each bureau id with f"{bureau}-0477").
    Built once (about 35 s) through the same entry point as `python -m etl demo`; never modified:
    tests take a copy with `app_db`."""
    import contextlib
    import io

    from etl.__main__ import main as etl_main

    path = tmp_path_factory.mktemp("demo") / "w.duckdb"
    out = io.StringIO()  # the progress bar and the account list; shown only if the build fails
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        status = etl_main(["--db", str(path), "demo", "--until", DEMO_UNTIL])
    assert status == 0, out.getvalue()[-5000:]
    return path


@pytest.fixture
def app_db(demo_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of the demo warehouse (and its upload archive); MONITOR_DB points at it."""
    target = tmp_path / "app" / demo_db.name
    target.parent.mkdir()
    if PG is not None:
        PG.url(target, template=demo_db)  # PostgreSQL copies the demo database as a template
    else:
        for f in demo_db.parent.glob(demo_db.name + "*"):  # the file and a WAL, if any
            shutil.copy2(f, target.parent / f.name)
    archive = db.archive_dir(demo_db)
    if archive.is_dir():
        shutil.copytree(archive, db.archive_dir(target))
    monkeypatch.setenv("MONITOR_DB", str(target))
    return target
