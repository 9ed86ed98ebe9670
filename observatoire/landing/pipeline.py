"""`land()`: read, validate, normalise and store one received file (see the package docstring)."""

from __future__ import annotations

import os
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from observatoire import spec
from observatoire.conventions import landing_state_root
from observatoire.landing import store
from observatoire.landing.issues import Issue, refuse
from observatoire.landing.readers import describe, read_table
from observatoire.landing.validate import (
    WAVE_COLUMNS,
    canonical_columns,
    canonical_rows,
    check_file_name,
    check_rows,
    check_value_labels,
    map_columns,
    row_issues,
)

INSTRUMENT = re.compile(r"^[a-z]+$")


@dataclass
class LandingResult:
    status: str  # landed | landed_with_warnings | unchanged
    instrument: str
    wave: int
    version: int
    source: Path
    landed: Path
    codebook: Path
    source_description: str
    rows_in: int
    rows_loaded: int
    rows_quarantined: int
    rows_refused: int = 0
    warnings: list[Issue] = field(default_factory=list)
    archived: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # blank rows: nothing to load, named
    message: str = ""

    @property
    def counts(self) -> dict[str, int]:
        return {"rows_in": self.rows_in, "rows_loaded": self.rows_loaded,
                "rows_quarantined": self.rows_quarantined, "rows_refused": self.rows_refused}


def _load_codebook(root: Path, instrument: str, wave: int, given: Path | None,
                   source: str) -> tuple[spec.Codebook, bytes]:
    path = given if given is not None else store.codebook_path(root, instrument, wave)
    if not path.is_file():
        if given is not None:
            raise refuse(path.name, None, None, f"no such codebook: {path}")
        raise refuse(source, None, None, f"no codebook for {instrument} {wave}: pass --codebook "
                     f"<file> or put it at {path}")
    try:
        codebook = spec.load_codebook(path)
    except (ValueError, KeyError, UnicodeDecodeError) as error:
        raise refuse(path.name, None, None, f"unreadable codebook ({type(error).__name__}: "
                     f"{error}); it must be a UTF-8 CSV in the format of "
                     "seeds/codebooks/") from None
    if codebook.instrument != instrument or codebook.wave_year != wave:
        raise refuse(path.name, 1, "instrument/wave_year", f"the codebook is for "
                     f"{codebook.instrument} {codebook.wave_year}, not {instrument} {wave}")
    return codebook, path.read_bytes()


def _rows(numbers: list[int]) -> str:
    shown = ", ".join(str(n) for n in numbers[:20])
    more = f" and {len(numbers) - 20} more" if len(numbers) > 20 else ""
    return f"row{'s' if len(numbers) > 1 else ''} {shown}{more}"


def blank_rows_warning(name: str, numbers: list[int]) -> str:
    """The warning for skipped blank rows, naming them (rows of the received file)."""
    return (f"{name}: {len(numbers)} blank row(s) skipped ({_rows(numbers)}: no cell holds a "
            "value); the other rows keep their row numbers in source_row")


def _check_crosswalk(root: Path) -> None:
    """The crosswalk the warehouse will apply (the landing root's, else the project's) follows
    the same rule as the generator's (spec.crosswalk_problems)."""
    path = root / "crosswalk.csv"
    path = path if path.exists() else spec.SEEDS / "crosswalk.csv"
    if path.exists():
        for row_no, reason in spec.crosswalk_problems(spec.read_csv_rows(path)):
            raise refuse(path.name, row_no, "option_key", reason)


def _summary(issues: list[Issue]) -> str:
    if not issues:
        return "no problem found"
    kinds = Counter("duplicate id" if i.column == "respondent_id" else
                    "value label" if i.row == "value labels" else "invalid code" for i in issues)
    listed = ", ".join(f"{n} {kind}(s)" for kind, n in kinds.items())
    return f"{len(issues)} warning(s) for the warehouse's quarantine: {listed}; first: {issues[0]}"


def land(source: Path | str, instrument: str, wave: int, landing_root: Path | str = "seeds",
         codebook: Path | str | None = None, now: datetime | None = None,
         state_root: Path | str | None = None) -> LandingResult:
    """Land one received file; raise LandingError (and change nothing) when it is refused.
    The landed file and its codebook go under `landing_root` (raw/, codebooks/); the manifest
    and the archived versions under `state_root` (default: conventions.landing_state_root,
    `data/landing/` for `seeds/`)."""
    source, root = Path(source), Path(landing_root)
    state = Path(state_root) if state_root is not None else landing_state_root(root)
    wave = _check_request(source, instrument, wave, root)
    book, book_bytes = _load_codebook(root, instrument, wave,
                                      Path(codebook) if codebook is not None else None,
                                      source.name)
    _check_crosswalk(root)
    result, data = _normalise(source, instrument, wave, root, book)
    with store.locked(root):
        _refuse_other_files(root, result)
        manifest = store.read_manifest(state)
        current = store.current_row(manifest, instrument, wave)
        previous = int(current["version"]) if current else int(result.landed.exists())
        book_changed = (not result.codebook.exists()
                        or result.codebook.read_bytes() != book_bytes)
        if not book_changed and _same_content(result, data, current, previous):
            return result
        result.version = previous + 1
        writes = _archive(result, state, previous, book_changed)
        writes += [(result.landed, data)] + ([(result.codebook, book_bytes)] if book_changed
                                            else [])
        row = _manifest_row(result, state, data, book_bytes, now)
        writes.append((state / store.MANIFEST, store.manifest_bytes([*manifest, row])))
        store.commit(Path(os.path.commonpath([root.resolve(), state.resolve()])), writes)
    return result


def _check_request(source: Path, instrument: str, wave: int, root: Path) -> int:
    """The wave as an int, once the instrument, the wave and the landing root are valid."""
    if not INSTRUMENT.match(instrument):
        raise refuse(source.name, None, None, f"instrument {instrument!r} must be lowercase "
                     "letters only (it names the landed file <instrument>_<wave>.csv)")
    if not 1900 <= int(wave) <= 2999:
        raise refuse(source.name, None, None, f"wave {wave!r} is not a 4-digit year")
    if not root.is_dir():
        raise refuse(source.name, None, None, f"landing root {root} is not a folder")
    return int(wave)


def _normalise(source: Path, instrument: str, wave: int, root: Path,
               book: spec.Codebook) -> tuple[LandingResult, bytes]:
    """Read and check the received file against the codebook: the result to report (version
    still 1) and the canonical file's bytes."""
    table = read_table(source, set(canonical_columns(book)) | WAVE_COLUMNS)
    check_file_name(source.name, wave, len(table.rows))
    if not table.rows:
        blank = f" ({_rows(table.blank_rows)} blank)" if table.blank_rows else ""
        raise refuse(source.name, None, None, f"the file has a header and no data rows{blank}")
    positions = map_columns(table, book)
    check_rows(table, positions, wave)
    label_warnings = check_value_labels(table, book)
    rows = canonical_rows(table, positions, book)
    issues = row_issues(source.name, rows, book)
    flagged = {i.row for i in issues}
    result = LandingResult(
        "landed_with_warnings" if issues else "landed", instrument, wave, 1, source,
        store.raw_path(root, instrument, wave), store.codebook_path(root, instrument, wave),
        describe(table), len(rows), len(rows) - len(flagged), len(flagged),
        warnings=label_warnings + issues, notes=table.notes, message=_summary(issues))
    if table.blank_rows:  # recorded in the manifest's message too
        result.skipped.append(blank_rows_warning(source.name, table.blank_rows))
        result.message = f"{result.skipped[-1]}; {result.message}"
    return result, store.csv_bytes(canonical_columns(book), rows)


def _refuse_other_files(root: Path, result: LandingResult) -> None:
    """Refuse when raw/ holds another file of the same instrument and wave: dbt reads them all."""
    instrument, wave = result.instrument, result.wave
    others = [p for p in sorted((root / "raw").glob(f"{instrument}_{wave}*.csv"))
              if p != result.landed and (m := spec.RAW_NAME.match(p.name))
              and (m["instrument"], m["wave"]) == (instrument, str(wave))]
    if others:
        raise refuse(result.source.name, None, None, f"{others[0]} already holds {instrument} "
                     f"{wave} and dbt reads every file in raw/: move it out of raw/ "
                     "before landing", result.rows_in)


def _same_content(result: LandingResult, data: bytes, current: dict | None,
                  previous: int) -> bool:
    """True (and the result says `unchanged`) when the landed file already holds `data`."""
    if not result.landed.exists() or store.sha256_bytes(result.landed.read_bytes()) != \
            store.sha256_bytes(data):
        return False
    result.status, result.version = "unchanged", max(previous, 1)
    same = "the same file" if current and current["source_sha256"] == \
        store.sha256_bytes(result.source.read_bytes()) else "the same content"
    when = f" landed at {current['landed_at']}" if current else ""
    result.message = f"{same} as version {result.version}{when}: nothing to do"
    return True


def _archive(result: LandingResult, state: Path, previous: int,
             book_changed: bool) -> list[tuple[Path, bytes]]:
    """Writes that archive the version replaced (and its codebook when it changes)."""
    writes = []
    if result.landed.exists():
        result.archived.append(store.archive_path(state, result.instrument, result.wave,
                                                  previous))
        writes.append((result.archived[-1], result.landed.read_bytes()))
    if book_changed and result.codebook.exists():
        result.archived.append(store.archive_path(state, result.instrument, result.wave,
                                                  previous, True))
        writes.append((result.archived[-1], result.codebook.read_bytes()))
    for path in result.archived:
        if path.exists():
            raise refuse(result.source.name, None, None, f"{path} already exists: the archive "
                         "is never overwritten; check the manifest", result.rows_in)
    return writes


def _manifest_row(result: LandingResult, state: Path, data: bytes, book_bytes: bytes,
                  now: datetime | None) -> dict[str, object]:
    source_bytes = result.source.read_bytes()
    return {
        "landed_at": (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "instrument": result.instrument, "wave": result.wave, "version": result.version,
        "status": result.status, "file_name": result.landed.name,
        "sha256": store.sha256_bytes(data), "size_bytes": len(data), "rows": result.rows_in,
        **result.counts,
        "source_file": result.source.name, "source_format": result.source_description,
        "source_sha256": store.sha256_bytes(source_bytes),
        "source_size_bytes": len(source_bytes),
        "codebook_sha256": store.sha256_bytes(book_bytes),
        "archived_previous": " ".join(str(p.relative_to(state)) for p in result.archived),
        "message": result.message,
    }
