"""The landing on disk: canonical files (landing root, `seeds/`), archived versions and the
landing manifest (state root, `data/landing/`).

Every write is atomic (a hidden temporary file in the same folder, then os.replace) and a
landing's writes are undone together if one fails (what they replace is kept aside as a
hidden hard link, or copy, until all succeeded). Landings into one root are serialised by an
exclusive lock on the root folder itself (no lock file is left behind). Files are hashed and
copied in chunks, never read whole.
"""

from __future__ import annotations

import csv
import fcntl
import hashlib
import io
import os
import shutil
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from observatoire.landing.limits import CHUNK_BYTES

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


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK_BYTES), b""):
            digest.update(chunk)
    return digest.hexdigest()


def csv_bytes(header: list[str], rows: Iterable[Sequence[str]]) -> bytes:
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


def _write_atomic(path: Path, data: bytes | Path) -> None:
    """Write `data` (bytes, or the content of a file) to path atomically."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")  # not *.csv: never globbed by dbt
    try:
        if isinstance(data, Path):
            _link_or_copy(data, tmp)
        else:
            with open(tmp, "wb") as handle:
                handle.write(data)
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _link_or_copy(source: Path, dest: Path) -> None:
    """dest holds source's content: a hard link (same file system), else a copy."""
    try:
        os.link(source, dest)
    except OSError:
        shutil.copyfile(source, dest)


def commit(root: Path, writes: list[tuple[Path, bytes | Path]]) -> None:
    """Write every (path, bytes or file to copy) atomically, in order; on failure restore what
    was there. Missing folders under root are created (and removed again on failure)."""
    undo: list[tuple[Path, Path | None]] = []  # (path, what it held, kept aside)
    created: list[Path] = []
    try:
        for path, data in writes:
            for folder in reversed([path.parent, *path.parent.parents]):
                if folder.is_relative_to(root) and not folder.exists():
                    folder.mkdir()
                    created.append(folder)
            kept = None
            if path.exists():
                kept = path.with_name(f".{path.name}.{os.getpid()}.previous")
                _link_or_copy(path, kept)
            undo.append((path, kept))
            _write_atomic(path, data)  # a failed atomic write leaves the old file in place
    except BaseException:
        for path, kept in reversed(undo):
            try:
                if kept is None:
                    path.unlink(missing_ok=True)
                elif path.exists() and path.samefile(kept):  # not replaced (rename would
                    kept.unlink()  # do nothing: both names are links to one file)
                else:
                    kept.replace(path)
            except OSError:  # keep restoring the others; the first error is raised below
                continue
        for folder in reversed(created):
            if not any(folder.iterdir()):
                folder.rmdir()
        raise
    for _, kept in undo:
        if kept is not None:
            kept.unlink(missing_ok=True)
