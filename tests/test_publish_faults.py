"""A publisher that dies at any step leaves a whole snapshot (old or new) and a clean next run.

Each case runs `observatoire.publish.snapshot.publish` in a child process that kills itself
(`os._exit`, no cleanup code runs, as with SIGKILL or a power cut) at one step: before and
after building, checking and exporting the snapshot, before and after the swap of the DuckDB
file, and before, inside and after the swap of the Parquet link. Then the published folder
must hold a snapshot that opens and is entirely the old one or entirely the new one, a
Parquet link pointing to a complete export, and the next publish must succeed and leave no
leftover (temporary files, links, unlinked exports).
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from observatoire.publish import snapshot as publisher
from observatoire.spec import PROJECT_ROOT

CRASH = """
import os, sys
from pathlib import Path
from observatoire.publish import snapshot as p

target, when, nth = sys.argv[3], sys.argv[4], int(sys.argv[5])
owner = os if target in ("symlink", "replace") else p
original = getattr(owner, target)
calls = []

def crashing(*args, **kwargs):
    calls.append(1)
    if when == "before" and len(calls) == nth:
        os._exit(9)
    out = original(*args, **kwargs)
    if when == "after" and len(calls) == nth:
        os._exit(9)
    return out

setattr(owner, target, crashing)
p.publish(Path(sys.argv[1]), Path(sys.argv[2]), run_id="crashed")
os._exit(0)
"""

# (function patched, before/after, which call) -> which version is published afterwards:
# (DuckDB file, Parquet link)
CASES = {
    ("build_snapshot", "before", 1): ("old", "old"),
    ("build_snapshot", "after", 1): ("old", "old"),
    ("check_snapshot", "after", 1): ("old", "old"),
    ("export_parquet", "after", 1): ("old", "old"),
    ("swap_file", "before", 1): ("old", "old"),  # the new export is renamed, not linked
    ("_fsync_dir", "before", 1): ("new", "old"),  # file renamed over, not yet synced
    ("swap_dir", "before", 1): ("new", "old"),
    ("symlink", "after", 1): ("new", "old"),  # the new link exists, not renamed over
    ("_fsync_dir", "before", 2): ("new", "new"),  # link swapped, old exports not removed
    ("swap_dir", "after", 1): ("new", "new"),  # lock still held by the dying process
}


def _publish(warehouse: Path, published: Path, run_id: str) -> None:
    publisher.publish(warehouse, published, run_id=run_id)


def _state(published: Path) -> tuple[str, str, set[str]]:
    """(run id inside the snapshot, Parquet link target, Parquet files there)."""
    snapshot = published / publisher.SNAPSHOT_NAME
    run_id = publisher.snapshot_info(snapshot)["run_id"]
    publisher.check_snapshot(snapshot)  # opens, every published table readable
    target = str((published / publisher.PARQUET_NAME).readlink())
    files = {p.name for p in (published / target).iterdir()}
    return run_id, target, files


def _leftovers(published: Path, previous: str) -> list[str]:
    """Entries a finished publish should not leave: anything but the snapshot, the link, the
    lock file, the linked export and the `previous` export (kept for readers listing it)."""
    current = str((published / publisher.PARQUET_NAME).readlink())
    allowed = {publisher.SNAPSHOT_NAME, publisher.PARQUET_NAME, publisher.LOCK_NAME, current,
               previous}
    return sorted(p.name for p in published.iterdir() if p.name not in allowed)


@pytest.fixture(scope="module")
def first(shipped_warehouse, tmp_path_factory):
    """A folder published once (run `old`), as a template copied by each case."""
    published = tmp_path_factory.mktemp("published") / "published"
    _publish(shipped_warehouse, published, "old")
    return published


@pytest.mark.parametrize(("target", "when", "nth"), list(CASES))
def test_crash_leaves_a_whole_snapshot_and_a_clean_next_run(
        shipped_warehouse, first, tmp_path, target, when, nth):
    published = tmp_path / "published"
    subprocess.run(["cp", "-a", str(first), str(published)], check=True)
    old_run, old_target, parquet_files = _state(published)
    assert old_run == "old"

    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    child = subprocess.run([sys.executable, "-c", CRASH, str(shipped_warehouse), str(published),
                            target, when, str(nth)], env=env, capture_output=True, text=True,
                           timeout=300, check=False)
    assert child.returncode == 9, child.stderr[-2000:]

    run_id, link, files = _state(published)
    expected_db, expected_parquet = CASES[(target, when, nth)]
    assert run_id == {"old": "old", "new": "crashed"}[expected_db]
    assert (link == old_target) == (expected_parquet == "old")
    assert files == parquet_files  # a complete export, old or new

    _publish(shipped_warehouse, published, "next")
    run_id, next_link, files = _state(published)
    assert run_id == "next" and files == parquet_files and next_link not in (old_target, link)
    assert _leftovers(published, previous=link) == []


def test_stale_lock_of_a_killed_publisher_does_not_block(shipped_warehouse, first, tmp_path):
    """A publisher killed while holding the lock leaves the lock file; the OS released the
    lock, so the next publish proceeds at once."""
    published = tmp_path / "published"
    subprocess.run(["cp", "-a", str(first), str(published)], check=True)
    holder = subprocess.Popen([sys.executable, "-c", (
        "import fcntl, sys, time\n"
        f"h = open({str(published / publisher.LOCK_NAME)!r}, 'w')\n"
        "fcntl.flock(h, fcntl.LOCK_EX)\nprint('locked', flush=True)\ntime.sleep(600)\n")],
        stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "locked"
    # held: a second locker must wait
    with open(published / publisher.LOCK_NAME) as handle, pytest.raises(BlockingIOError):
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    holder.kill()
    holder.wait(timeout=30)
    assert (published / publisher.LOCK_NAME).exists()
    previous = str((published / publisher.PARQUET_NAME).readlink())
    started = time.monotonic()
    _publish(shipped_warehouse, published, "after_stale_lock")
    assert time.monotonic() - started < 120
    assert _state(published)[0] == "after_stale_lock"
    assert _leftovers(published, previous) == []
