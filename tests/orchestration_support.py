"""Helpers shared by test_orchestration.py and test_publish.py (not fixtures, not collected)."""

from __future__ import annotations

import hashlib
import os
import shutil
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
