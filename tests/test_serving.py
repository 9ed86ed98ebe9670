"""Serving BI tools: the README's analyst queries on the DuckDB snapshot and, through a real
PostgreSQL server, with real clients (psql, psycopg, SQLAlchemy + pandas); what `bi_reader` may
not do; atomic reloads under a reader; the Dagster asset that loads a release.

A module fixture starts a real cluster (Debian's postgresql) in a temporary folder on a free
port, never data/postgres nor 54320, and stops it at the end.
"""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import duckdb
import pandas as pd
import psycopg
import pytest
import sqlalchemy
import yaml
from dagster import DagsterInstance

from observatoire.publish import snapshot as publisher
from observatoire.serving.load import load_release, served_release
from observatoire.serving.postgres import (
    DATABASE,
    ENV_BI_PASSWORD,
    ENV_DIR,
    ENV_DSN,
    READER,
    Endpoint,
)
from observatoire.spec import PROJECT_ROOT
from orchestration.runner import refresh
from orchestration.serving import POSTGRES_KEY
from tests.conftest import waves_seed
from tests.orchestration_support import settings_in

BI_PASSWORD = "given-at-first-start-0123"


def readme_queries() -> list[str]:
    """Every ```sql block of the README's "For an analyst" section."""
    text = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## For an analyst", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sql\n(.*?)```", section, flags=re.S)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def snapshot(shipped_warehouse, tmp_path_factory) -> Path:
    return publisher.publish(shipped_warehouse, tmp_path_factory.mktemp("published"),
                             run_id="release-a").snapshot


@pytest.fixture(scope="module")
def manifest(shipped_warehouse) -> Path:
    return shipped_warehouse.parent / "target" / "manifest.json"  # tests/conftest.py build()


@pytest.fixture(scope="module")
def server():
    """A real PostgreSQL cluster, initialised and started as `make serve` does."""
    # Not under pytest's tmp (mode 0700): as root the server runs as a system user that must
    # traverse the folder.
    home = Path(tempfile.mkdtemp(prefix="observatoire-pg-test-"))
    home.chmod(0o711)
    endpoint = Endpoint.from_env(default_root=home / "pg", port=_free_port(), dsn=None)
    saved = os.environ.get(ENV_BI_PASSWORD)
    os.environ[ENV_BI_PASSWORD] = BI_PASSWORD
    try:
        endpoint.start()
    finally:
        os.environ.pop(ENV_BI_PASSWORD)
        if saved is not None:
            os.environ[ENV_BI_PASSWORD] = saved
    try:
        yield endpoint
    finally:
        endpoint.stop()
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="module")
def served(server, snapshot, manifest):
    return load_release(snapshot, server.conninfo(), manifest=manifest)


def _reader(server: Endpoint, password: str | None = None) -> psycopg.Connection:
    return psycopg.connect(host="127.0.0.1", port=server.port, dbname=DATABASE, user=READER,
                           password=password or server.password(READER), autocommit=True,
                           connect_timeout=10)


def _duckdb_rows(snapshot: Path, query: str) -> list[tuple]:
    with duckdb.connect(str(snapshot), read_only=True) as con:
        return con.execute(query).fetchall()


def _as_text(value) -> str:
    """A DuckDB value as psql --csv prints it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, float):
        return repr(value)
    return str(value)


# --- the published DuckDB snapshot works as documented ---------------------------------------

def test_readme_queries_run_on_the_duckdb_snapshot(snapshot, shipped_warehouse):
    queries = readme_queries()
    assert len(queries) == 3
    share, waves, reconciliation = (_duckdb_rows(snapshot, q) for q in queries)
    # independent expectations: the build warehouse's own rows, and the seeds
    expected = dict(_duckdb_rows(
        shipped_warehouse, "select segment_value, value from marts.fct_indicator "
        "where wave_year = 2024 and indicator_id = 'ai_tried' and segment_type = 'profession'"))
    assert [r[0] for r in share] == sorted(expected)
    for segment, pct, *_ in share:
        if expected[segment] is not None:
            assert abs(float(pct) - 100 * expected[segment]) <= 0.05 + 1e-9
    # every wave of the waves seed, landed with as many rows as its file holds
    landed = {}
    for path in (PROJECT_ROOT / "seeds" / "raw").glob("*.csv"):
        survey, year = path.name.split("__")[0].removesuffix(".csv").split("_")
        with open(path, encoding="utf-8", newline="") as f:
            landed[(int(year), survey)] = sum(1 for _ in csv.DictReader(f))
    assert {(r[0], r[1], r[4]) for r in waves} == {(*k, n) for k, n in landed.items()}
    printed = 0
    for path in (PROJECT_ROOT / "seeds" / "published").glob("published_figures_*.csv"):
        with open(path, encoding="utf-8") as f:
            printed += sum(1 for _ in csv.DictReader(f))
    assert sum(r[2] for r in reconciliation) == printed


# --- real clients on the PostgreSQL endpoint --------------------------------------------------

def test_psql_as_bi_reader_gets_the_same_rows_as_duckdb(server, served, snapshot):
    env = {**os.environ, "PGPASSWORD": server.password(READER), "PGCONNECT_TIMEOUT": "10"}
    for query in readme_queries():
        proc = subprocess.run(
            ["psql", "--csv", "-X", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1",
             "-p", str(server.port), "-U", READER, "-d", DATABASE, "-c", query],
            capture_output=True, text=True, env=env, timeout=60, check=False)
        assert proc.returncode == 0, proc.stderr
        rows = list(csv.reader(io.StringIO(proc.stdout)))[1:]
        expected = [[_as_text(v) for v in row] for row in _duckdb_rows(snapshot, query)]
        assert expected and rows == expected, query


def test_bi_reader_password_is_the_one_given_at_first_start(server):
    assert server.password(READER) == BI_PASSWORD
    assert server.password_file(READER).stat().st_mode & 0o777 == 0o600
    with _reader(server, BI_PASSWORD) as con:
        assert con.execute("select current_user").fetchone() == (READER,)


def test_psycopg_and_sqlalchemy_pandas_read_fct_indicator(server, served, snapshot):
    with duckdb.connect(str(snapshot), read_only=True) as con:
        expected = con.execute("select * from fct_indicator").df()
    with _reader(server) as con:
        assert con.execute("select count(*) from fct_indicator").fetchone() == (len(expected),)
    url = sqlalchemy.engine.URL.create(
        "postgresql+psycopg", username=READER, password=server.password(READER),
        host="127.0.0.1", port=server.port, database=DATABASE)
    engine = sqlalchemy.create_engine(url)
    try:
        frame = pd.read_sql("select * from fct_indicator", engine)
    finally:
        engine.dispose()
    keys = ["wave_year", "survey", "indicator_id", "segment_type", "segment_value"]
    pd.testing.assert_frame_equal(
        frame.sort_values(keys).reset_index(drop=True),
        expected.sort_values(keys).reset_index(drop=True), check_dtype=False)


def test_comments_carry_the_dbt_descriptions(server, served):
    spec = yaml.safe_load((PROJECT_ROOT / "models/marts/_marts__models.yml").read_text("utf-8"))
    model = next(m for m in spec["models"] if m["name"] == "fct_indicator")
    with _reader(server) as con:
        table = con.execute("select obj_description('fct_indicator'::regclass)").fetchone()[0]
        columns = dict(con.execute(
            "select a.attname, col_description(a.attrelid, a.attnum) from pg_attribute a "
            "where a.attrelid = 'fct_indicator'::regclass and a.attnum > 0").fetchall())
    blocks = dict(re.findall(r"{%\s*docs\s+(\w+)\s*%}(.*?){%\s*enddocs\s*%}", "".join(
        p.read_text("utf-8") for p in (PROJECT_ROOT / "models").rglob("*.md")), flags=re.S))

    def text(description: str) -> str:  # `{{ doc('name') }}` is the shared block's text
        shared = re.fullmatch(r"{{\s*doc\('(\w+)'\)\s*}}", description.strip())
        return (blocks[shared[1]] if shared else description).strip()

    assert table == text(model["description"])
    assert columns == {c["name"]: text(c["description"]) for c in model["columns"]}
    # every table dbt built is described (GX's quality tables, when present, are not dbt's)
    assert served.commented_columns > len(columns)
    assert not [t for t in served.undocumented if not t.startswith("quality.")]


def test_bi_reader_sees_only_the_published_tables(server, served, snapshot):
    tables = publisher.snapshot_info(snapshot)["tables"]
    with _reader(server) as con:
        visible = {r[0] for r in con.execute(
            "select table_schema || '.' || table_name from information_schema.tables "
            "where table_schema not in ('pg_catalog', 'information_schema')").fetchall()}
        columns = {r[0] for r in con.execute(
            "select column_name from information_schema.columns "
            "where table_schema = 'published'").fetchall()}
    assert visible == {f"published.{t.split('.')[1]}" for t in tables} | {"published.snapshot"}
    assert not columns & publisher.RESPONDENT_COLUMNS
    assert "dim_respondent" not in {v.split(".")[1] for v in visible}
    assert set(served.tables) == {v.split(".")[1] for v in visible}


REFUSED = [
    "insert into fct_indicator (wave_year) values (2099)",
    "delete from dim_wave",
    "create table published.mine (x int)",
    "create table public.mine (x int)",
    "create temporary table mine (x int)",
    "create schema mine",
    "copy (select 1) to program 'id'",
    "select pg_read_file('/etc/passwd')",
    "select * from pg_authid",
]


@pytest.mark.parametrize("statement", REFUSED)
def test_bi_reader_cannot_write_create_or_reach_the_server(server, served, statement):
    with _reader(server) as con:
        # The role's sessions are read-only by default; a tool may turn that off, so the
        # privileges are what must refuse.
        con.execute("set default_transaction_read_only = off")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            con.execute(statement)
        assert con.execute("select count(*) from dim_wave").fetchone() == (len(waves_seed()),)


def test_bi_reader_sessions_are_read_only_by_default(server, served):
    with _reader(server) as con:
        # an idle open transaction would hold back the next release's swap
        assert con.execute("show idle_in_transaction_session_timeout").fetchone() == ("10min",)
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            con.execute("insert into fct_indicator (wave_year) values (2099)")


def test_wrong_password_is_refused(server, served):
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        _reader(server, "not-the-password").close()
    env = {**os.environ, "PGPASSWORD": "not-the-password"}
    proc = subprocess.run(["psql", "-X", "-h", "127.0.0.1", "-p", str(server.port), "-U", READER,
                           "-d", DATABASE, "-c", "select 1"], capture_output=True, text=True,
                          env=env, timeout=60, check=False)
    assert proc.returncode == 2 and "password authentication failed" in proc.stderr


def _listening(port: int) -> set[str]:
    """Local addresses listening on TCP `port` (/proc/net/tcp and tcp6, state 0A)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:
                found.add(address)
    return found


def test_server_listens_on_127_0_0_1_only(server, served):
    assert _listening(server.port) == {"0100007F"}  # 127.0.0.1, little-endian; no IPv6
    hba = (server.cluster / "pg_hba.conf").read_text()
    rules = [line.split() for line in hba.splitlines() if line and not line.startswith("#")]
    assert rules and all(rule[-1] == "scram-sha-256" for rule in rules)
    with psycopg.connect(server.conninfo("observatoire_admin", "postgres")) as con:
        assert con.execute("show password_encryption").fetchone() == ("scram-sha-256",)
        assert not con.execute("select count(*) from pg_authid where rolcanlogin and "
                               "rolpassword not like 'SCRAM-SHA-256$%'").fetchone()[0]


# --- atomic reloads ----------------------------------------------------------------------------

def _release_b(snapshot: Path, dest: Path) -> tuple:
    """A second release: half the figures and reconciliation rows, another run id."""
    shutil.copyfile(snapshot, dest)
    dest.chmod(0o644)
    with duckdb.connect(str(dest)) as con:
        con.execute("delete from marts.fct_indicator where indicator_id in (select distinct "
                    "indicator_id from marts.fct_indicator order by 1 limit 10)")
        con.execute("delete from reports.rpt_published_reconciliation where status = 'reproduced' "
                    "and indicator_id like 'a%'")
        con.execute("update meta.snapshot set run_id = 'release-b'")
        return con.execute(STATE.replace("snapshot", "meta.snapshot")
                           .replace("fct_indicator", "marts.fct_indicator")
                           .replace("rpt_published", "reports.rpt_published")).fetchone()


STATE = ("select (select run_id from snapshot), (select count(*) from fct_indicator), "
         "(select count(*) from rpt_published_reconciliation), "
         "(select count(*) from fct_indicator f inner join dim_wave w "
         "on f.wave_year = w.wave_year and f.survey = w.survey)")


def test_reader_in_a_loop_during_reloads_sees_only_whole_releases(server, served, snapshot,
                                                                   manifest, tmp_path):
    release_a = _duckdb_rows(snapshot, STATE.replace("snapshot", "meta.snapshot"))[0]
    release_b = _release_b(snapshot, tmp_path / "b.duckdb")
    assert release_a[0] == "release-a" and release_a[1:] != release_b[1:]
    seen: dict[tuple, int] = {}
    errors: list[BaseException] = []
    stop = threading.Event()

    def read_in_a_loop():
        try:
            with _reader(server) as con:
                while not stop.is_set():
                    state = con.execute(STATE).fetchone()
                    seen[state] = seen.get(state, 0) + 1
        except BaseException as error:
            errors.append(error)

    reader = threading.Thread(target=read_in_a_loop)
    reader.start()
    try:
        time.sleep(0.2)
        for release in (tmp_path / "b.duckdb", snapshot, tmp_path / "b.duckdb", snapshot):
            load_release(release, server.conninfo(), manifest=manifest)
            time.sleep(0.2)
    finally:
        stop.set()
        reader.join(timeout=60)
    assert not errors, errors
    assert set(seen) == {release_a, release_b}, seen  # both, and nothing else
    assert served_release(server.conninfo())["run_id"] == "release-a"
    with psycopg.connect(server.conninfo()) as con:  # no release or retired schema is left
        assert not con.execute("select nspname from pg_namespace where nspname ~ "
                               "'^(release|retired)_'").fetchall()


# --- the Dagster asset -------------------------------------------------------------------------

def test_asset_loads_the_published_snapshot_when_the_server_runs(server, served, snapshot,
                                                                 tmp_path, monkeypatch):
    monkeypatch.delenv(ENV_DSN, raising=False)
    settings = settings_in(tmp_path, published_dir=str(snapshot.parent))
    monkeypatch.setenv(ENV_DIR, str(tmp_path / "nothing-here"))
    with DagsterInstance.ephemeral() as instance:
        idle = refresh(["2024"], instance=instance, settings=settings, assets=[POSTGRES_KEY])
        assert idle.success
        meta = instance.get_latest_materialization_event(POSTGRES_KEY).asset_materialization
        assert meta.metadata["served"].value is False
        monkeypatch.setenv(ENV_DIR, str(server.root))
        _release_b(snapshot, tmp_path / "b.duckdb")
        load_release(tmp_path / "b.duckdb", server.conninfo())
        assert served_release(server.conninfo())["run_id"] == "release-b"
        result = refresh(["2024"], instance=instance, settings=settings, assets=[POSTGRES_KEY])
        assert result.success, result.failures
        meta = instance.get_latest_materialization_event(POSTGRES_KEY).asset_materialization
    after = served_release(server.conninfo())
    assert meta.metadata["served"].value is True
    assert after["run_id"] == "release-a"  # the published snapshot, swapped in by the asset
    assert after["published_at"] == publisher.snapshot_info(snapshot)["published_at"]
    assert meta.metadata["tables"].value["fct_indicator"] == _duckdb_rows(
        snapshot, "select count(*) from fct_indicator")[0][0]


def test_asset_loads_into_the_server_of_a_dsn(server, served, snapshot, tmp_path, monkeypatch):
    """A server of the user's own (here the test's, through its owner DSN): loaded, none
    started."""
    _release_b(snapshot, tmp_path / "b.duckdb")
    load_release(tmp_path / "b.duckdb", server.conninfo())
    monkeypatch.setenv(ENV_DIR, str(tmp_path / "no-cluster"))
    monkeypatch.setenv(ENV_DSN, server.conninfo())
    settings = settings_in(tmp_path, published_dir=str(snapshot.parent))
    with DagsterInstance.ephemeral() as instance:
        result = refresh(["2024"], instance=instance, settings=settings, assets=[POSTGRES_KEY])
    assert result.success, result.failures
    assert served_release(server.conninfo())["run_id"] == "release-a"
    assert not (tmp_path / "no-cluster").exists()  # nothing initialised or started here
