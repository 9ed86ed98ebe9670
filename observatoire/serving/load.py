"""Load a published DuckDB snapshot into PostgreSQL, atomically, with the dbt descriptions.

What is served is what the snapshot holds: its tables (`meta.snapshot.tables`, chosen by
`observatoire.publish.snapshot`, never respondent-level) plus `snapshot` (when and from which
run), under their short names in one schema, `published`.

1. The release is copied (COPY) into a fresh schema `release_<stamp>`, commented (table and
   column descriptions from the dbt manifest, which BI tools show) and analysed; nobody reads it.
2. One short transaction swaps it in: ACCESS EXCLUSIVE locks on the served tables, taken with
   NOWAIT and retried (a swap that waited while holding some of them could deadlock with a
   reader locking the same tables in another order), `published` renamed away, the release
   renamed to `published`, USAGE and SELECT granted to `bi_reader`, the old schema dropped.
   A reader statement that started before holds its locks and finishes on the old release; one
   that starts during the swap waits for it, then PostgreSQL looks the names up again and finds
   the new release. Every statement sees one whole release, never an empty or missing table.

A failed load drops its release schema and leaves the served one untouched. One loader at a
time (an advisory lock).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import psycopg
from psycopg import sql

from observatoire.publish import snapshot as publisher
from observatoire.serving.postgres import READER, SERVED_SCHEMA

log = logging.getLogger(__name__)

INFO_TABLE = "snapshot"  # meta.snapshot, served under its short name
INFO_DOC = ("The published release: when it was published, by which run, its waves and tables. "
            "/ La version publiée : date, exécution, vagues et tables.", {
                "published_at": "When the snapshot was published (UTC).",
                "run_id": "Dagster run that published it.",
                "waves": "Waves (years) it holds.",
                "tables": "Tables it holds, as named in the warehouse (schema.table).",
                "source_warehouse": "The build warehouse it was copied from.",
            })
LOCK_KEY = 0x0B5E_77A1  # pg_advisory_lock key of the loader
BATCH_ROWS = 10_000

# DuckDB type -> PostgreSQL type; DECIMAL(p,s) and lists (`T[]`) are handled in pg_type.
TYPES = {
    "BOOLEAN": "boolean", "TINYINT": "smallint", "SMALLINT": "smallint", "INTEGER": "integer",
    "BIGINT": "bigint", "UTINYINT": "smallint", "USMALLINT": "integer", "UINTEGER": "bigint",
    "UBIGINT": "numeric(20, 0)", "HUGEINT": "numeric(38, 0)", "FLOAT": "real",
    "DOUBLE": "double precision", "VARCHAR": "text", "DATE": "date", "TIME": "time",
    "TIMESTAMP": "timestamp", "TIMESTAMP WITH TIME ZONE": "timestamptz", "UUID": "uuid",
    "INTERVAL": "interval", "JSON": "jsonb", "BLOB": "bytea",
}


class LoadError(RuntimeError):
    """The release could not be loaded; the served schema is untouched."""


@dataclass
class LoadResult:
    schema: str
    release: str  # the schema it was loaded into before the swap
    tables: dict[str, int]  # served table -> rows
    published_at: str = ""
    run_id: str = ""
    swap_attempts: int = 0
    commented_columns: int = 0
    undocumented: list[str] = field(default_factory=list)


def pg_type(duckdb_type: str) -> str:
    """The PostgreSQL type of a DuckDB column type."""
    name = duckdb_type.strip().upper()
    if name.endswith("[]"):
        return pg_type(name[:-2]) + "[]"
    decimal = re.fullmatch(r"DECIMAL\((\d+),\s*(\d+)\)", name)
    if decimal:
        return f"numeric({decimal[1]}, {decimal[2]})"
    if name not in TYPES:
        raise LoadError(f"no PostgreSQL type for DuckDB type {duckdb_type}")
    return TYPES[name]


def dbt_docs(manifest: Path | None) -> dict[str, tuple[str, dict[str, str]]]:
    """{"schema.table": (description, {column: description})} of the dbt models, seeds and
    sources (doc blocks are already rendered in the manifest)."""
    if manifest is None or not Path(manifest).exists():
        return {}
    data = json.loads(Path(manifest).read_text(encoding="utf-8"))
    nodes = [n for n in data["nodes"].values()
             if n["resource_type"] in {"model", "seed", "snapshot"}]
    relations = [(f"{n['schema']}.{n['alias']}", n) for n in nodes]
    relations += [(f"{s['schema']}.{s.get('identifier') or s['name']}", s)
                  for s in data.get("sources", {}).values()]
    return {name: (n.get("description") or "", {
        c: d.get("description") or "" for c, d in n.get("columns", {}).items()})
        for name, n in relations}


def _one(row: tuple | None) -> tuple:
    """The row of a query that always returns one (a one-row metadata table)."""
    if row is None:
        raise ValueError("expected one row, got none")
    return row


def _release_tables(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    """(relation in the snapshot, served name) of every table the snapshot publishes."""
    (tables,) = _one(con.execute(f"select tables from {publisher.META_TABLE}").fetchone())
    return [*zip(tables, publisher.short_names(tables), strict=True),
            (publisher.META_TABLE, INFO_TABLE)]


def _copy_table(src: duckdb.DuckDBPyConnection, cur: psycopg.Cursor, relation: str,
                target: sql.Composable) -> tuple[list[str], int]:
    columns = src.execute(f"describe {relation}").fetchall()
    names = [c[0] for c in columns]
    cur.execute(sql.SQL("create table {} ({})").format(target, sql.SQL(", ").join(
        sql.SQL("{} {}").format(sql.Identifier(c[0]), sql.SQL(pg_type(c[1])))
        for c in columns)))
    rows = 0
    result = src.execute(f"select * from {relation}")
    with cur.copy(sql.SQL("copy {} ({}) from stdin").format(
            target, sql.SQL(", ").join(map(sql.Identifier, names)))) as copy:
        while batch := result.fetchmany(BATCH_ROWS):
            for row in batch:
                copy.write_row(row)
            rows += len(batch)
    return names, rows


def _comment(cur: psycopg.Cursor, target: sql.Composable, names: list[str],
             doc: tuple[str, dict[str, str]]) -> int:
    description, column_docs = doc
    if description:
        cur.execute(sql.SQL("comment on table {} is {}").format(
            target, sql.Literal(description.strip())))
    commented = 0
    for name in names:
        if column_docs.get(name):
            cur.execute(sql.SQL("comment on column {}.{} is {}").format(
                target, sql.Identifier(name), sql.Literal(column_docs[name].strip())))
            commented += 1
    return commented


def _stage(snapshot: Path, con: psycopg.Connection, release: str,
           docs: dict[str, tuple[str, dict[str, str]]]) -> LoadResult:
    """Copy the snapshot into the schema `release` and commit it (not yet served)."""
    result = LoadResult(schema=SERVED_SCHEMA, release=release, tables={})
    with duckdb.connect(str(snapshot), read_only=True) as src, con.cursor() as cur:
        info = dict(zip([c[0] for c in src.execute(f"describe {publisher.META_TABLE}").fetchall()],
                        _one(src.execute(f"select * from {publisher.META_TABLE}").fetchone()),
                        strict=True))
        result.published_at, result.run_id = str(info["published_at"]), str(info["run_id"])
        cur.execute(sql.SQL("create schema {}").format(sql.Identifier(release)))
        for relation, name in _release_tables(src):
            target = sql.Identifier(release, name)
            names, rows = _copy_table(src, cur, relation, target)
            doc = INFO_DOC if name == INFO_TABLE else docs.get(relation)
            if doc is None:
                result.undocumented.append(relation)
            else:
                result.commented_columns += _comment(cur, target, names, doc)
            cur.execute(sql.SQL("analyze {}").format(target))
            result.tables[name] = rows
    con.commit()
    return result


def _role_exists(con: psycopg.Connection, role: str) -> bool:
    return con.execute("select 1 from pg_roles where rolname = %s", [role]).fetchone() is not None


def _swap(con: psycopg.Connection, release: str, reader: str, timeout: float) -> int:
    """Serve `release` in place of SERVED_SCHEMA in one transaction; returns the attempts."""
    retired = f"retired_{release.removeprefix('release_')}"
    deadline = time.monotonic() + timeout
    attempt = 0
    while True:
        attempt += 1
        try:
            with con.transaction():
                served = [r[0] for r in con.execute(
                    "select tablename from pg_tables where schemaname = %s order by 1",
                    [SERVED_SCHEMA]).fetchall()]
                if served:
                    con.execute(sql.SQL("lock table {} in access exclusive mode nowait").format(
                        sql.SQL(", ").join(sql.Identifier(SERVED_SCHEMA, t) for t in served)))
                if con.execute("select 1 from pg_namespace where nspname = %s",
                               [SERVED_SCHEMA]).fetchone():
                    con.execute(sql.SQL("alter schema {} rename to {}").format(
                        sql.Identifier(SERVED_SCHEMA), sql.Identifier(retired)))
                con.execute(sql.SQL("alter schema {} rename to {}").format(
                    sql.Identifier(release), sql.Identifier(SERVED_SCHEMA)))
                if _role_exists(con, reader):
                    con.execute(sql.SQL("grant usage on schema {} to {}").format(
                        sql.Identifier(SERVED_SCHEMA), sql.Identifier(reader)))
                    con.execute(sql.SQL("grant select on all tables in schema {} to {}").format(
                        sql.Identifier(SERVED_SCHEMA), sql.Identifier(reader)))
                else:
                    log.warning("no role %s on this server: nobody else may read %s yet",
                                reader, SERVED_SCHEMA)
                con.execute(sql.SQL("drop schema if exists {} cascade").format(
                    sql.Identifier(retired)))
            return attempt
        except psycopg.errors.LockNotAvailable:
            if time.monotonic() > deadline:
                raise LoadError(f"readers kept the served tables busy for {timeout:.0f} s; "
                                "the previous release is still served") from None
            time.sleep(min(0.01 * attempt, 0.5))


def load_release(snapshot: Path, conninfo: str, *, manifest: Path | None = None,
                 reader: str = READER, swap_timeout: float = 120.0) -> LoadResult:
    """Load the published `snapshot` into PostgreSQL (`conninfo`: the owner) and serve it.

    Raises LoadError (the served release untouched) if a step fails.
    """
    snapshot = Path(snapshot)
    if not snapshot.exists():
        raise LoadError(f"no published snapshot at {snapshot}")
    publisher.check_snapshot(snapshot)  # aggregate tables only, or nothing is loaded
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d%H%M%S")
    release = f"release_{stamp}_{uuid.uuid4().hex[:6]}"
    docs = dbt_docs(manifest)
    with psycopg.connect(conninfo) as con:
        con.execute("select pg_advisory_lock(%s)", [LOCK_KEY])
        con.commit()
        try:
            _drop_leftovers(con)
            try:
                result = _stage(snapshot, con, release, docs)
                result.swap_attempts = _swap(con, release, reader, swap_timeout)
            except BaseException:
                con.rollback()
                con.execute(sql.SQL("drop schema if exists {} cascade").format(
                    sql.Identifier(release)))
                con.commit()
                raise
        finally:
            con.execute("select pg_advisory_unlock(%s)", [LOCK_KEY])
            con.commit()
    log.info("served %s (%d tables) in %s", snapshot, len(result.tables), SERVED_SCHEMA)
    return result


def _drop_leftovers(con: psycopg.Connection) -> None:
    """Schemas of loads that died (we hold the loader lock, so none is running)."""
    for (schema,) in con.execute(
            "select nspname from pg_namespace where nspname ~ '^(release|retired)_[0-9]'"
            ).fetchall():
        con.execute(sql.SQL("drop schema {} cascade").format(sql.Identifier(schema)))
    con.commit()


def served_release(conninfo: str) -> dict | None:
    """The served release's `snapshot` row (published_at, run_id, ...), or None."""
    with psycopg.connect(conninfo) as con:
        if not con.execute("select 1 from pg_tables where schemaname = %s and tablename = %s",
                           [SERVED_SCHEMA, INFO_TABLE]).fetchone():
            return None
        cur = con.execute(sql.SQL("select * from {}").format(
            sql.Identifier(SERVED_SCHEMA, INFO_TABLE)))
        return dict(zip([c.name for c in cur.description or []], _one(cur.fetchone()),
                        strict=True))
