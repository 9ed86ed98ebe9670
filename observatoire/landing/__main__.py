"""`python -m observatoire.landing <file> --instrument pro --wave 2025 [--codebook path]
[--landing-root seeds] [--state-root data/landing]`: land one received file; exit code 0
landed or unchanged, 1 refused."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import duckdb

from observatoire import spec
from observatoire.conventions import landing_state_root
from observatoire.landing import LandingError, LandingResult, land, store
from observatoire.landing.built import NOT_BUILT, built_version


def _counts(counts: dict[str, int]) -> str:
    return (f"rows: {counts['rows_in']} in = {counts['rows_loaded']} loaded + "
            f"{counts['rows_quarantined']} to quarantine + {counts['rows_refused']} refused")


def _rebuild_step(result: LandingResult, root: Path, state: Path, warehouse: Path,
                  rebuild: str) -> str:
    """What to run after landing version N > 1, saying truly what the warehouse holds."""
    wave = f"{result.instrument} {result.wave}"
    try:
        built = built_version(warehouse, root, state, result.instrument, result.wave)
    except duckdb.Error as error:
        return (f"{rebuild}  (builds version {result.version}; {warehouse} could not be read "
                f"to tell which version it holds: {error})")
    if built is NOT_BUILT:
        return (f"make run  (builds version {result.version}; {warehouse} does not hold {wave}: "
                "never built; quarantined rows: marts.dq_quarantine)")
    if built == result.version:
        return f"nothing to build: {warehouse} already holds version {built} of {wave}"
    held = f"version {built}" if built else "a file matching no landed version"
    return (f"{rebuild}  ({warehouse} holds {wave} built from {held}; the rebuild replaces it "
            f"with version {result.version}; quarantined rows: marts.dq_quarantine)")


def _next_steps(result: LandingResult, root: Path, state: Path,
                warehouse: Path) -> list[str]:
    steps = []
    waves = root / "waves.csv" if (root / "waves.csv").exists() else spec.SEEDS / "waves.csv"
    if not any(r["survey"] == result.instrument and r["wave_year"] == str(result.wave)
               for r in spec.read_csv_rows(waves)):
        steps.append(f"add a row for {result.instrument} {result.wave} to {waves}")
    published = root / "published" / f"published_figures_{result.wave}.csv"
    if not published.exists():
        steps.append(f"add the wave's published figures as {published} (optional: without "
                     "it the wave is built and its figures are not reconciled)")
    rebuild = f".venv/bin/observatoire run --wave {result.wave} --rebuild"
    if result.version > 1:
        # past waves are immutable in the warehouse: a new version is only read on purpose
        return [*steps, _rebuild_step(result, root, state, warehouse, rebuild)]
    return [*steps, "make run  (builds the new wave; quarantined rows: marts.dq_quarantine)",
                    f"if the warehouse already holds {result.instrument} {result.wave} (e.g. from "
                    f"a synthetic file moved out of raw/): {rebuild}"]


def report(result: LandingResult, root: Path, state: Path, max_warnings: int,
           warehouse: Path = Path("data/warehouse.duckdb")) -> None:
    print(f"codebook: {result.codebook}")
    for note in result.notes:
        print(f"note: {note}")
    for skipped in result.skipped:
        print(f"warning: {skipped}")
    if result.warnings:
        print(f"warnings ({result.warnings_total}; landed unchanged, the warehouse quarantines "
              "these rows):")
        for issue in result.warnings[:max_warnings]:
            print(f"  {issue}")
        if result.warnings_total > max_warnings:
            print(f"  ... and {result.warnings_total - max_warnings} more")
    print(_counts(result.counts))
    if result.status == "unchanged":
        print(f"UNCHANGED {result.landed}: {result.message}")
        return
    print(f"LANDED version {result.version} -> {result.landed} ({result.status})")
    for path in result.archived:
        print(f"archived previous version -> {path}")
    manifest = state / store.MANIFEST
    shown = manifest.relative_to(Path.cwd()) if manifest.is_relative_to(Path.cwd()) else manifest
    print(f"manifest: {shown}")
    for step in _next_steps(result, root, state, warehouse):
        print(f"next: {step}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m observatoire.landing",
                                     description="Land a received respondent file (CSV, XLSX, "
                                     "SPSS .sav) as the canonical raw file of a wave.")
    parser.add_argument("file", type=Path, help="the received file")
    parser.add_argument("--instrument", required=True, help="e.g. pro or public")
    parser.add_argument("--wave", required=True, type=int, help="wave year, e.g. 2025")
    parser.add_argument("--codebook", type=Path, help="codebook to land with the file "
                        "(default: the one already at <landing-root>/codebooks/)")
    parser.add_argument("--landing-root", type=Path, default=Path("seeds"),
                        help="folder holding raw/ and codebooks/ (default: seeds)")
    parser.add_argument("--state-root", type=Path,
                        help="folder for the manifest and archive/ (default: data/landing "
                        "beside the landing root's folder)")
    parser.add_argument("--max-warnings", type=int, default=20, help="warnings listed (20)")
    parser.add_argument("--warehouse", type=Path, default=Path(os.environ.get(
        "OBSERVATOIRE_WAREHOUSE", "data/warehouse.duckdb")), help="built warehouse, read to "
        "say which version of the wave it holds (default: $OBSERVATOIRE_WAREHOUSE or "
        "data/warehouse.duckdb)")
    args = parser.parse_args(argv)
    print(f"landing {args.instrument} {args.wave}: {args.file} -> {args.landing_root}")
    try:
        state = args.state_root or landing_state_root(args.landing_root)
        result = land(args.file, args.instrument, args.wave, args.landing_root, args.codebook,
                      state_root=state)
    except LandingError as error:
        print(_counts(error.counts))
        print(f"REFUSED: nothing under {args.landing_root} was changed", file=sys.stderr)
        print(f"LandingError: {error}", file=sys.stderr)
        return 1
    print(f"read: {result.source_description}")
    report(result, args.landing_root, state, args.max_warnings, args.warehouse)
    return 0


if __name__ == "__main__":
    sys.exit(main())
