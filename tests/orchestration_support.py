"""Helpers shared by test_orchestration.py, test_publish.py and the `refreshed` fixture of
conftest.py (not fixtures, not collected)."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from observatoire.spec import PROJECT_ROOT
from orchestration.resources import ObservatoireSettings


def settings_in(root: Path, **overrides) -> ObservatoireSettings:
    """Settings that build and publish under `root` (never the project's data/ folder).

    The landed files and rules live in a copy (`root/project`); the run's Great Expectations
    state goes beside the warehouse (`root/gx`), like everything else a run produces.
    """
    project = root / "project"
    if not project.exists():
        shutil.copytree(PROJECT_ROOT / "seeds", project / "seeds")
    values = {
        "project_root": str(project),
        "warehouse": str(root / "warehouse.duckdb"),
        "published_dir": str(root / "published"),
        "report_dir": str(root / "report"),
        "landing_root": "seeds",
    }
    values.update(overrides)
    return ObservatoireSettings.from_env(**values)


def file_sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def published_state(published_dir: Path) -> dict:
    """Bytes of the snapshot, target of the Parquet link and the folder's entries."""
    snapshot = published_dir / "observatoire.duckdb"
    return {
        "snapshot_sha256": file_sha256(snapshot),
        "snapshot_inode": snapshot.stat().st_ino,
        "parquet_target": os.readlink(published_dir / "parquet"),
        "entries": sorted(p.name for p in published_dir.iterdir()),
    }


@dataclass
class FakeReport:
    """What the GX check reads of observatoire.quality.validation.QualityReport."""

    success: bool
    results: list = field(default_factory=list)
    blocking_failures: list = field(default_factory=list)
    quarantined: int = 0
    run_id: str = "fake-validation"


def leftovers(published_dir: Path) -> list[str]:
    """Temporary files a publish left in the published folder."""
    return [p.name for p in published_dir.iterdir() if ".tmp" in p.name]


# A reader of the published snapshot, in its own process, until `stop` exists: `hold` keeps one
# connection open all along, `reconnect` opens one per query. It prints what it saw (JSON).
READER = r"""
import duckdb, json, pathlib, sys, time
path, ready, stop, mode = sys.argv[1:5]
seen, errors, queries, rows = [], [], 0, set()


def query(con):
    run_id = con.execute("select run_id from meta.snapshot").fetchone()[0]
    rows.add(con.execute("select count(*) from marts.fct_indicator").fetchone()[0])
    if not seen or seen[-1] != run_id:
        seen.append(run_id)


con = duckdb.connect(path, read_only=True) if mode == "hold" else None
pathlib.Path(ready).touch()
while not pathlib.Path(stop).exists():
    try:
        if mode == "hold":  # one connection held open all along
            query(con)
        else:  # a new connection for every query
            with duckdb.connect(path, read_only=True) as fresh:
                query(fresh)
        queries += 1
    except Exception as exc:  # any error fails the test
        errors.append(repr(exc))
    time.sleep(0.2)
if con is not None:
    con.close()
with duckdb.connect(path, read_only=True) as con:
    after = con.execute("select run_id from meta.snapshot").fetchone()[0]
print(json.dumps({"seen": seen, "errors": errors[:5], "queries": queries,
                  "rows": sorted(rows), "after": after}))
"""


def start_reader(path: Path, folder: Path, mode: str) -> subprocess.Popen:
    """A READER process on the snapshot `path`, once it is ready; it stops when
    `folder/stop` exists."""
    ready = folder / f"{mode}.ready"
    process = subprocess.Popen(
        [sys.executable, "-c", READER, str(path), str(ready), str(folder / "stop"), mode],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 30
    while not ready.exists():
        assert process.poll() is None and time.time() < deadline, process.stderr.read()
        time.sleep(0.05)
    return process
