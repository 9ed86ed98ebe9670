"""`land()`: read, validate, normalise and store one received file (see the package docstring)."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from observatoire import spec
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
         codebook: Path | str | None = None, now: datetime | None = None) -> LandingResult:
    """Land one received file; raise LandingError (and change nothing) when it is refused."""
    source, root = Path(source), Path(landing_root)
    given = Path(codebook) if codebook is not None else None
    if not INSTRUMENT.match(instrument):
        raise refuse(source.name, None, None, f"instrument {instrument!r} must be lowercase "
                     "letters only (it names the landed file <instrument>_<wave>.csv)")
    if not 1900 <= int(wave) <= 2999:
        raise refuse(source.name, None, None, f"wave {wave!r} is not a 4-digit year")
    wave = int(wave)
    if not root.is_dir():
        raise refuse(source.name, None, None, f"landing root {root} is not a folder")
    book, book_bytes = _load_codebook(root, instrument, wave, given, source.name)
    _check_crosswalk(root)

    table = read_table(source, set(canonical_columns(book)) | WAVE_COLUMNS)
    check_file_name(source.name, wave, len(table.rows))
    if not table.rows:
        raise refuse(source.name, 1, None, "no data rows: the file holds a header only")
    positions = map_columns(table, book)
    check_rows(table, positions, wave)
    label_warnings = check_value_labels(table, book)
    rows = canonical_rows(table, positions, book)
    issues = row_issues(source.name, rows, book)
    flagged = {i.row for i in issues}
    data = store.csv_bytes(canonical_columns(book), rows)
    digest, source_bytes = store.sha256_bytes(data), source.read_bytes()
    target, book_target = store.raw_path(root, instrument, wave), store.codebook_path(
        root, instrument, wave)
    result = LandingResult(
        "landed_with_warnings" if issues else "landed", instrument, wave, 1, source, target,
        book_target, describe(table), len(rows), len(rows) - len(flagged), len(flagged),
        warnings=label_warnings + issues, notes=table.notes, message=_summary(issues))

    with store.locked(root):
        others = [p for p in sorted((root / "raw").glob(f"{instrument}_{wave}*.csv"))
                  if p != target and (m := spec.RAW_NAME.match(p.name))
                  and (m["instrument"], m["wave"]) == (instrument, str(wave))]
        if others:
            raise refuse(source.name, None, None, f"{others[0]} already holds {instrument} "
                         f"{wave} and dbt reads every file in raw/: move it out of raw/ "
                         "before landing", len(rows))
        manifest = store.read_manifest(root)
        current = store.current_row(manifest, instrument, wave)
        previous = int(current["version"]) if current else int(target.exists())
        book_changed = not book_target.exists() or book_target.read_bytes() != book_bytes
        if target.exists() and not book_changed and \
                store.sha256_bytes(target.read_bytes()) == digest:
            result.status, result.version = "unchanged", max(previous, 1)
            same = "the same file" if current and current["source_sha256"] == \
                store.sha256_bytes(source_bytes) else "the same content"
            when = f" landed at {current['landed_at']}" if current else ""
            result.message = f"{same} as version {result.version}{when}: nothing to do"
            return result

        result.version = previous + 1
        writes = []
        if target.exists():
            result.archived.append(store.archive_path(root, instrument, wave, previous))
            writes.append((result.archived[-1], target.read_bytes()))
        if book_changed and book_target.exists():
            result.archived.append(store.archive_path(root, instrument, wave, previous, True))
            writes.append((result.archived[-1], book_target.read_bytes()))
        for path in result.archived:
            if path.exists():
                raise refuse(source.name, None, None, f"{path} already exists: the archive is "
                             "never overwritten; check the manifest", len(rows))
        writes += [(target, data)] + ([(book_target, book_bytes)] if book_changed else [])
        landed_at = (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
        manifest.append({
            "landed_at": landed_at, "instrument": instrument, "wave": wave,
            "version": result.version, "status": result.status, "file_name": target.name,
            "sha256": digest, "size_bytes": len(data), "rows": len(rows), **result.counts,
            "source_file": source.name, "source_format": result.source_description,
            "source_sha256": store.sha256_bytes(source_bytes),
            "source_size_bytes": len(source_bytes),
            "codebook_sha256": store.sha256_bytes(book_bytes),
            "archived_previous": " ".join(str(p.relative_to(root)) for p in result.archived),
            "message": result.message,
        })
        writes.append((root / store.MANIFEST, store.manifest_bytes(manifest)))
        store.commit(root, writes)
    return result
