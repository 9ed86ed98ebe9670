"""Benchmark steps run in their own process by bench/run.py (so that wall time and the memory
of the process tree are the step's own). Each prints one JSON line with its inner timings.

    python bench/steps.py tail --warehouse W --project P --waves 2025 2026 --published D
    python bench/steps.py reference --landing P/seeds --out result.parquet
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))

from observatoire import conventions  # noqa: E402
from observatoire.publish.snapshot import publish  # noqa: E402


def tail(args: argparse.Namespace) -> dict:
    """The refresh after dbt: Great Expectations on every wave, then publish."""
    started = time.perf_counter()
    from observatoire.quality.validation import validate_wave

    imported = time.perf_counter()
    outcomes = {}
    for wave in args.waves:
        wave_started = time.perf_counter()
        report = validate_wave(args.warehouse, wave, project_root=args.project,
                               landing_root=args.project / "seeds", log=lambda *_: None,
                               **({"chunk_rows": args.chunk_rows} if args.chunk_rows else {}))
        outcomes[wave] = {"success": report.success, "blocking_failures": report.blocking_failures,
                          "quarantined": report.quarantined,
                        "seconds": round(time.perf_counter() - wave_started, 3)}
    validated = time.perf_counter()
    publish(args.warehouse, args.published)
    done = time.perf_counter()
    return {"import_seconds": imported - started, "validate_seconds": validated - started,
            "publish_seconds": done - validated,
            "publish_method": "observatoire.publish.snapshot.publish",
            "waves": outcomes}


def reference(args: argparse.Namespace) -> dict:
    """bench/reference.sql on the raw files, in a fresh in-memory DuckDB."""
    import duckdb

    started = time.perf_counter()
    con = duckdb.connect()
    con.execute("set enable_progress_bar = false")
    con.execute("set variable raw_glob = ?", [str(args.landing / "raw" / "pro_*.csv")])
    con.execute("set variable catalogue_path = ?",
                [str(args.landing / "indicator_catalogue.csv")])
    con.execute("set variable landed_file_pattern = ?", [conventions.LANDED_FILE_IN_PATH])
    con.execute((BENCH / "reference.sql").read_text())
    rows = con.execute("select count(*) from reference_indicator").fetchone()[0]
    sql_seconds = time.perf_counter() - started
    con.execute(f"copy reference_indicator to '{args.out}' (format parquet)")
    return {"sql_seconds": sql_seconds, "rows": rows}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="step", required=True)
    t = sub.add_parser("tail")
    t.add_argument("--warehouse", type=Path, required=True)
    t.add_argument("--project", type=Path, required=True)
    t.add_argument("--waves", type=int, nargs="+", required=True)
    t.add_argument("--published", type=Path, required=True)
    t.add_argument("--chunk-rows", type=int, help="rows per batch read from DuckDB for GX "
                   "(default observatoire.quality.validation.CHUNK_ROWS)")
    t.set_defaults(func=tail)
    r = sub.add_parser("reference")
    r.add_argument("--landing", type=Path, required=True)
    r.add_argument("--out", type=Path, required=True)
    r.set_defaults(func=reference)
    args = parser.parse_args(argv)
    print(json.dumps(args.func(args)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
