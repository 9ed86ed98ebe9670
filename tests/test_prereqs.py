"""`make run` and `make test` stop with one line naming a missing prerequisite."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from observatoire.spec import PROJECT_ROOT

MAKE = "/usr/bin/make"


def _check(path_dirs: list[Path]) -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": os.pathsep.join(str(d) for d in path_dirs)}
    return subprocess.run([MAKE, "-s", "-C", str(PROJECT_ROOT), "check-prereqs"], env=env,
                          capture_output=True, text=True, timeout=60, check=False)


def _bin_with(tmp_path: Path, **tools: str) -> Path:
    """A PATH folder holding only the named tools (links to the real binaries)."""
    folder = tmp_path / "bin"
    folder.mkdir()
    for name, target in tools.items():
        (folder / name).symlink_to(target)
    return folder


def _first_line(proc: subprocess.CompletedProcess) -> str:
    return proc.stderr.splitlines()[0]


def test_missing_python_is_named(tmp_path):
    proc = _check([_bin_with(tmp_path)])
    assert proc.returncode == 2
    assert _first_line(proc) == "missing prerequisite: python3 (Python 3.11 or newer)"


def test_missing_npm_is_named(tmp_path):
    python = Path(sys.executable).resolve()
    proc = _check([_bin_with(tmp_path, python3=str(python))])
    assert proc.returncode == 2
    assert _first_line(proc) == ("missing prerequisite: npm (Node.js; apt-get install npm), "
                                 "for the offline Data Docs assets")


def test_all_prerequisites_present(tmp_path):
    python = Path(sys.executable).resolve()
    npm = subprocess.run(["which", "npm"], capture_output=True, text=True, check=True)
    proc = _check([_bin_with(tmp_path, python3=str(python), npm=npm.stdout.strip())])
    assert (proc.returncode, proc.stderr) == (0, "")
