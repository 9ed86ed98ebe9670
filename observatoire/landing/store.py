"""The landing on disk: canonical files (landing root, `seeds/`), archived versions and the
landing manifest (state root, `data/landing/`).

Every write is atomic (a hidden temporary file in the same folder, then os.replace) and a
landing's writes are undone together if one fails. Landings into one root are serialised by
an exclusive lock on the root folder itself (no lock file is left behind).
"""

from __future__ import annotations

import csv
import fcntl
import hashlib
import io
import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

MANIFEST = "landing_manifest.csv"
MANIFEST_COLUMNS = [
    "landed_at", "instrument", "wave", "version", "status",
    "file_name", "sha256", "size_bytes", "rows",  # the landed canonical file
    "rows_in", "rows_loaded", "rows_quarantined", "rows_refused",  # rows_in = the other three
    "source_file", "source_format", "source_sha256", "source_size_bytes",  # the received file
    "codebook_sha256", "archived_previous", "message",
]


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def csv_bytes(header: list[str], rows: list[list[str]]) -> bytes:
    """UTF-8, comma, minimal quoting, `\\n` line ends: the canonical raw format."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def raw_path(root: Path, instrument: str, wave: int) -> Path:
    return root / "raw" / f"{instrument}_{wave}.csv"


def codebook_path(root: Path, instrument: str, wave: int) -> Path:
    return root / "codebooks" / f"{instrument}_{wave}.csv"


def archive_path(root: Path, instrument: str, wave: int, version: int,
                 codebook: bool = False) -> Path:
    folder = root / "archive" / ("codebooks" if codebook else "")
    return folder / f"{instrument}_{wave}__v{version}.csv"


def read_manifest(root: Path) -> list[dict[str, str]]:
    path = root / MANIFEST
    if not path.exists():
        return []
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def manifest_bytes(rows: Sequence[Mapping[str, object]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, MANIFEST_COLUMNS, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def current_row(manifest: list[dict[str, str]], instrument: str, wave: int) -> dict | None:
    rows = [r for r in manifest if r["instrument"] == instrument and r["wave"] == str(wave)]
    return max(rows, key=lambda r: int(r["version"])) if rows else None


@contextmanager
def locked(root: Path) -> Iterator[None]:
    """Exclusive lock on the landing root folder for the duration of one landing."""
    fd = os.open(root, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")  # not *.csv: never globbed by dbt
    try:
        with open(tmp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def commit(root: Path, writes: list[tuple[Path, bytes]]) -> None:
    """Write every (path, bytes) atomically, in order; on failure restore what was there.
    Missing folders under root are created (and removed again on failure)."""
    undo: list[tuple[Path, bytes | None]] = []
    created: list[Path] = []
    try:
        for path, data in writes:
            for folder in reversed([path.parent, *path.parent.parents]):
                if folder.is_relative_to(root) and not folder.exists():
                    folder.mkdir()
                    created.append(folder)
            previous = path.read_bytes() if path.exists() else None
            _write_atomic(path, data)  # a failed atomic write leaves the old file in place
            undo.append((path, previous))
    except BaseException:
        for path, previous in reversed(undo):
            try:
                if previous is None:
                    path.unlink(missing_ok=True)
                else:
                    _write_atomic(path, previous)
            except OSError:  # keep restoring the others; the first error is raised below
                continue
        for folder in reversed(created):
            if not any(folder.iterdir()):
                folder.rmdir()
        raise
