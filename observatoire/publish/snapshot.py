"""Publish the warehouse for BI tools: a read-only DuckDB snapshot and Parquet files, swapped in.

`publish(warehouse, published_dir)` copies the aggregate marts and reports (never a
respondent-level table) from the build warehouse into a new DuckDB file beside the published
one, checks it, exports it to Parquet, then swaps both in:

- `observatoire.duckdb` is replaced with `os.replace` (an atomic rename on POSIX). A reader that
  already has the file open keeps the old inode, so it sees the previous snapshot until it
  reconnects; a run that fails before the rename leaves the published file untouched;
- `parquet/` is a symbolic link to a versioned folder `.parquet-<stamp>/`; the link is replaced
  atomically too, and the previous folder is kept for readers still listing it.

Only one publisher at a time (an exclusive `flock` on `.publish.lock`). No DuckDB connection is
held outside these functions.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import logging
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from fnmatch import fnmatch
from pathlib import Path

import duckdb

log = logging.getLogger(__name__)

SNAPSHOT_NAME = "observatoire.duckdb"
PARQUET_NAME = "parquet"
LOCK_NAME = ".publish.lock"

# Aggregate tables BI tools need; the build fails if one is missing.
REQUIRED_TABLES = (
    "marts.fct_indicator",
    "marts.dim_wave",
    "marts.dim_question",
    "marts.dim_answer_option",
    "reports.rpt_published_reconciliation",
)
# Published when they exist: trends, quality results and every report table.
OPTIONAL_PATTERNS = ("marts.fct_indicator_trend", "marts.dq_*", "quality.dq_*", "reports.*")
# Respondent-level tables never leave the build warehouse, whatever their columns.
NEVER_PUBLISHED = (
    "marts.dim_respondent", "marts.fct_response", "marts.bridge_respondent_profession",
)
RESPONDENT_COLUMNS = frozenset({"respondent_key", "respondent_id"})
META_TABLE = "meta.snapshot"


class PublishError(RuntimeError):
    """The snapshot could not be built or failed its checks; nothing was swapped in."""


@dataclass
class PublishResult:
    snapshot: Path
    parquet_dir: Path
    tables: dict[str, int]  # "schema.table" -> rows
    excluded: list[str] = field(default_factory=list)  # respondent-level tables left out
    waves: list[int] = field(default_factory=list)
    published_at: str = ""


def snapshot_path(published_dir: Path) -> Path:
    return Path(published_dir) / SNAPSHOT_NAME


def parquet_path(published_dir: Path) -> Path:
    return Path(published_dir) / PARQUET_NAME


def _columns(con, schema: str, table: str, catalog: str) -> set[str]:
    rows = con.execute(
        "select column_name from information_schema.columns "
        "where table_catalog = ? and table_schema = ? and table_name = ?",
        [catalog, schema, table]).fetchall()
    return {r[0].lower() for r in rows}


def select_tables(con, catalog: str = "wh") -> tuple[list[str], list[str]]:
    """Tables of the attached warehouse `catalog` to publish, and those excluded.

    Required tables must exist and be aggregate; optional ones (quality tables) are taken when
    present, unless they are respondent-level (a name in NEVER_PUBLISHED or a respondent column).
    """
    existing = [f"{s}.{t}" for s, t in con.execute(
        "select table_schema, table_name from information_schema.tables "
        "where table_catalog = ? and table_type = 'BASE TABLE' order by 1, 2",
        [catalog]).fetchall()]
    missing = [t for t in REQUIRED_TABLES if t not in existing]
    if missing:
        raise PublishError(f"the warehouse lacks tables BI needs: {', '.join(missing)}")
    chosen, excluded = [], []
    for name in existing:
        wanted = name in REQUIRED_TABLES or any(fnmatch(name, p) for p in OPTIONAL_PATTERNS)
        if not wanted:
            continue
        schema, table = name.split(".")
        if name in NEVER_PUBLISHED or _columns(con, schema, table, catalog) & RESPONDENT_COLUMNS:
            if name in REQUIRED_TABLES:
                raise PublishError(f"{name} carries respondent-level columns; refusing to publish")
            excluded.append(name)
            continue
        chosen.append(name)
    return chosen, excluded


def check_snapshot(path: Path) -> dict[str, int]:
    """Open a snapshot read-only, check it holds no respondent-level data; return row counts."""
    with duckdb.connect(str(path), read_only=True) as con:
        catalog = con.execute("select current_database()").fetchone()[0]
        tables = [f"{s}.{t}" for s, t in con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_catalog = ? and table_schema <> 'meta' "
            "and table_type = 'BASE TABLE' order by 1, 2", [catalog]).fetchall()]
        leaks = [t for t in tables if t in NEVER_PUBLISHED
                 or _columns(con, *t.split("."), catalog=catalog) & RESPONDENT_COLUMNS]
        if leaks:
            raise PublishError(f"respondent-level tables in the snapshot: {', '.join(leaks)}")
        missing = [t for t in REQUIRED_TABLES if t not in tables]
        if missing:
            raise PublishError(f"snapshot lacks {', '.join(missing)}")
        return {t: con.execute(f"select count(*) from {t}").fetchone()[0] for t in tables}


def snapshot_info(path: Path) -> dict:
    """The snapshot's own description (published_at, run_id, waves), read-only."""
    with duckdb.connect(str(path), read_only=True) as con:
        cols = [c[0] for c in con.execute(f"describe {META_TABLE}").fetchall()]
        return dict(zip(cols, con.execute(f"select * from {META_TABLE}").fetchone(), strict=True))


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def swap_file(tmp: Path, dest: Path) -> None:
    """Atomically replace dest by tmp (same folder), durably."""
    os.replace(tmp, dest)
    _fsync_dir(dest.parent)


def swap_dir(new_dir: Path, link: Path, keep_previous: bool = True) -> None:
    """Point the symbolic link `link` at `new_dir` atomically (a new link renamed over it).

    A real folder found at `link` (older layout) is moved aside first. Versioned folders other
    than the new one and, if `keep_previous`, the one the link pointed to are removed.
    """
    parent = link.parent
    previous = None
    if link.is_symlink():
        previous = (parent / os.readlink(link)).resolve()
    elif link.exists():
        aside = parent / f".{link.name}-legacy-{uuid.uuid4().hex[:8]}"
        os.replace(link, aside)
        previous = aside
    tmp_link = parent / f".{link.name}.link-{uuid.uuid4().hex[:8]}"
    os.symlink(new_dir.name, tmp_link)
    os.replace(tmp_link, link)
    _fsync_dir(parent)
    keep = {new_dir.resolve()} | ({previous} if keep_previous and previous else set())
    for old in parent.glob(f".{link.name}-*"):
        if old.is_dir() and not old.is_symlink() and old.resolve() not in keep:
            shutil.rmtree(old, ignore_errors=True)


@contextmanager
def publish_lock(published_dir: Path) -> Iterator[None]:
    """Exclusive lock: one publisher at a time (released by the OS if the process dies)."""
    published_dir.mkdir(parents=True, exist_ok=True)
    with open(published_dir / LOCK_NAME, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _remove_leftovers(published_dir: Path) -> None:
    """Temporary files of publishers that died (we hold the lock, so none is running)."""
    for tmp in published_dir.glob(f".{SNAPSHOT_NAME}.*.tmp*"):
        tmp.unlink(missing_ok=True)
    for tmp in published_dir.glob(f".{PARQUET_NAME}-*.tmp"):
        shutil.rmtree(tmp, ignore_errors=True)
    for link in published_dir.glob(f".{PARQUET_NAME}.link-*"):  # died inside swap_dir
        link.unlink(missing_ok=True)


def build_snapshot(warehouse: Path, dest: Path, *, run_id: str = "",
                   published_at: str = "") -> tuple[list[str], list[str], list[int]]:
    """Copy the publishable tables of `warehouse` (opened read-only) into a new file `dest`."""
    if dest.exists():
        raise PublishError(f"{dest} already exists")
    with duckdb.connect(str(dest)) as con:
        con.execute(f"attach '{Path(warehouse)}' as wh (read_only)")
        try:
            tables, excluded = select_tables(con, "wh")
            for name in tables:
                schema, _ = name.split(".")
                con.execute(f"create schema if not exists {schema}")
                con.execute(f"create table {name} as select * from wh.{name}")
            waves = [r[0] for r in con.execute(
                "select distinct wave_year from marts.dim_wave order by 1").fetchall()]
        finally:
            con.execute("detach wh")
        # Analysts write `from fct_indicator`: a view per table in the default schema (names
        # are unique across schemas, see export_parquet), the tables stay in their layer.
        for name, short in zip(tables, short_names(tables), strict=True):
            con.execute(f"create view main.{short} as select * from {name}")
        con.execute("create schema meta")
        con.execute(
            f"create table {META_TABLE} as select ?::timestamp as published_at, "
            "?::varchar as run_id, ?::integer[] as waves, ?::varchar[] as tables, "
            "?::varchar as source_warehouse",
            [published_at, run_id, waves, tables, str(warehouse)])
        con.execute("checkpoint")
    return tables, excluded, waves


def short_names(tables: list[str]) -> list[str]:
    """Table names without their schema, as analysts use them (Parquet files, views in `main`,
    the PostgreSQL schema); raises if two published tables share one."""
    names = [t.split(".")[1] for t in tables]
    if len(set(names)) != len(names):
        raise PublishError(f"two published tables share a name: {names}")
    return names


def export_parquet(snapshot: Path, out_dir: Path, tables: list[str]) -> None:
    """One Parquet file per published table, `<table>.parquet`."""
    names = short_names(tables)
    out_dir.mkdir(parents=True)
    with duckdb.connect(str(snapshot), read_only=True) as con:
        for table, name in zip(tables, names, strict=True):
            target = out_dir / f"{name}.parquet"
            con.execute(f"copy {table} to '{target}' (format parquet)")


def publish(warehouse: Path, published_dir: Path, *, run_id: str = "") -> PublishResult:
    """Build, check and atomically swap in the published snapshot and its Parquet export.

    Raises (and leaves every published file untouched) if any step before the swap fails.
    """
    warehouse, published_dir = Path(warehouse), Path(published_dir)
    if not warehouse.exists():
        raise PublishError(f"no warehouse at {warehouse}")
    published_at = dt.datetime.now(dt.UTC).replace(tzinfo=None).isoformat(timespec="microseconds")
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]
    with publish_lock(published_dir):
        _remove_leftovers(published_dir)
        tmp_db = published_dir / f".{SNAPSHOT_NAME}.{stamp}.tmp"
        tmp_parquet = published_dir / f".{PARQUET_NAME}-{stamp}.tmp"
        try:
            tables, excluded, waves = build_snapshot(warehouse, tmp_db, run_id=run_id,
                                                     published_at=published_at)
            counts = check_snapshot(tmp_db)
            export_parquet(tmp_db, tmp_parquet, tables)
            os.chmod(tmp_db, 0o444)  # a snapshot: readers only
            final_parquet = published_dir / f".{PARQUET_NAME}-{stamp}"
            os.replace(tmp_parquet, final_parquet)
            swap_file(tmp_db, snapshot_path(published_dir))
        except BaseException:
            tmp_db.unlink(missing_ok=True)
            shutil.rmtree(tmp_parquet, ignore_errors=True)
            raise
        # The database is in; the Parquet export follows (a crash here leaves the previous
        # export in place, consistent with itself, until the next run).
        swap_dir(final_parquet, parquet_path(published_dir))
    log.info("published %d tables to %s", len(tables), published_dir)
    return PublishResult(snapshot=snapshot_path(published_dir),
                         parquet_dir=parquet_path(published_dir), tables=counts,
                         excluded=excluded, waves=waves, published_at=published_at)
