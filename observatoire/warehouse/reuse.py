"""A step is done once per content of what it reads: fingerprints of a step's inputs, recorded
in the warehouse beside the results they produced.

A refresh whose landed files, configuration and code are unchanged reuses the last results of
the dbt build and of the Great Expectations suites instead of recomputing them (a wave is
checked once); a changed file, a changed rule or `--rebuild` / `--full-refresh` runs the step
again. The record lives in the warehouse (`reuse.step_fingerprint`), so a new or replaced
warehouse has none and every step runs.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable
from pathlib import Path

import duckdb

TABLE = "reuse.step_fingerprint"
BUILD_STEP = "dbt_build"  # the step that writes the warehouse (orchestration/dbt_models.py)
CHUNK = 1 << 20


def digest(parts: Iterable[bytes | str]) -> str:
    """sha256 of a sequence of parts (each length-prefixed: ('ab', 'c') != ('a', 'bc'))."""
    sha = hashlib.sha256()
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        sha.update(len(data).to_bytes(8, "big"))
        sha.update(data)
    return sha.hexdigest()


def file_digest(path: Path) -> str:
    """sha256 of a file's bytes, read by chunks (landed files can be large)."""
    sha = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            sha.update(chunk)
    return sha.hexdigest()


def files_under(root: Path, parts: Iterable[str], suffixes: set[str] | None = None) -> list[Path]:
    """The files of `parts` (files or folders, relative to `root`), sorted; folders are read
    recursively, skipping caches."""
    found: list[Path] = []
    for part in parts:
        path = Path(root) / part
        if path.is_file():
            found.append(path)
        elif path.is_dir():
            found += [f for f in path.rglob("*") if f.is_file() and "__pycache__" not in f.parts
                      and (suffixes is None or f.suffix in suffixes)]
    return sorted(set(found))


def files_digest(files: Iterable[Path], root: Path) -> str:
    """One digest of several files: their paths relative to `root` and their contents."""
    parts: list[str] = []
    for file in sorted(files):
        parts += [str(Path(file).resolve().relative_to(Path(root).resolve()))
                  if Path(file).resolve().is_relative_to(Path(root).resolve()) else str(file),
                  file_digest(file)]
    return digest(parts)


def value_digest(value) -> str:
    """Digest of a JSON-serialisable value (settings, arguments, versions)."""
    return digest([json.dumps(value, sort_keys=True, default=str)])


def recorded(warehouse: Path, step: str) -> tuple[str, str] | None:
    """(fingerprint, run id) recorded for `step` in the warehouse, if any."""
    if not Path(warehouse).exists():
        return None
    try:
        with duckdb.connect(str(warehouse), read_only=True) as con:
            row = con.execute(f"select fingerprint, run_id from {TABLE} where step = ?",
                              [step]).fetchone()
    except duckdb.CatalogException:
        return None  # no record yet
    return (row[0], row[1]) if row else None


def record(warehouse: Path, step: str, fingerprint: str, run_id: str) -> None:
    """Record that `step` succeeded for `fingerprint` in run `run_id` (replaces its last)."""
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema if not exists reuse")
        con.execute(f"create table if not exists {TABLE} (step varchar primary key, "
                    "fingerprint varchar not null, run_id varchar, recorded_at timestamp)")
        con.execute(f"insert or replace into {TABLE} values (?, ?, ?, ?)",
                    [step, fingerprint, run_id, dt.datetime.now(dt.UTC).replace(tzinfo=None)])


def forget(warehouse: Path, prefix: str = "") -> None:
    """Drop the records of the steps whose name starts with `prefix` (all by default)."""
    if not Path(warehouse).exists():
        return
    with duckdb.connect(str(warehouse)) as con:
        try:
            con.execute(f"delete from {TABLE} where starts_with(step, ?)", [prefix])
        except duckdb.CatalogException:
            return


def warehouse_state(warehouse: Path) -> str | None:
    """A digest of every step recorded in the warehouse, standing for its content when its last
    build was recorded (a build by hand records nothing: None, nothing can be reused)."""
    if recorded(warehouse, BUILD_STEP) is None:
        return None
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(f"select step, fingerprint, run_id from {TABLE} order by step")
        return digest(str(row) for row in rows.fetchall())
