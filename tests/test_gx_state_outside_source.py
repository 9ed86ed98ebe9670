"""A refresh writes nothing into the Great Expectations configuration (`expectations/`).

A clone of the committed project runs the whole refresh (`observatoire run`, as `make run`
does); afterwards `git status` shows nothing changed or added under `expectations/` (or
`seeds/`), and the run's GX state is under `data/gx/`.
"""

from __future__ import annotations

import os
import subprocess
import sys

from observatoire.spec import PROJECT_ROOT


def _git(*args: str, cwd) -> str:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True,
                          check=True).stdout


def test_refresh_leaves_expectations_untouched(tmp_path):
    clone = tmp_path / "clone"
    _git("clone", "--quiet", "--no-hardlinks", str(PROJECT_ROOT), str(clone), cwd=tmp_path)
    env = {**os.environ, "PYTHONPATH": str(clone), "DAGSTER_HOME": str(clone / "data" / "dh"),
           "OBSERVATOIRE_VENDOR_DIR": str(PROJECT_ROOT / "vendor")}
    run = subprocess.run([sys.executable, "-m", "observatoire.cli", "run", "--quiet"], cwd=clone,
                         env=env, capture_output=True, text=True, timeout=1800, check=False)
    assert run.returncode == 0, run.stderr[-3000:]
    assert _git("status", "--porcelain", "--untracked-files=all", "--", "expectations", "seeds",
                cwd=clone) == ""
    state = clone / "data" / "gx"
    assert (state / "great_expectations.yml").is_file()
    names = {p.name for p in (state / "validation_definitions").glob("*.json")}
    assert "responses__pro_2024_accepted.json" in names
    assert len(list((state / "uncommitted" / "validations").rglob("*.json"))) == len(names)
