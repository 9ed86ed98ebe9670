"""Quality validation (Great Expectations) of ONE large generated wave: time and peak memory of
`observatoire.quality.validation.validate_wave`, for several batch sizes (`chunk_rows`), to show
that its memory is bounded by the batch, not by the wave.

    python bench/validation.py                          # 1 wave × 100,000 respondents
    python bench/validation.py --respondents 20000 --chunks 50000,250000

A project copy with one scale wave is built with dbt (untimed), then each batch size runs
validate_wave for that wave in its own process (bench/steps.py tail: validation, then a
publish of the small marts), measured like bench/run.py: peak RSS of the process tree, and the
time validate_wave itself took.
Results are merged into docs/benchmarks/validation.json and printed as a Markdown table.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))

from bench import scale  # noqa: E402
from bench.run import (  # noqa: E402
    dbt_build,
    machine,
    markdown_table,
    measure,
    python_step,
    write_results,
)
from observatoire.quality.validation import CHUNK_ROWS  # noqa: E402

OUT = BENCH.parent / "docs" / "benchmarks" / "validation.json"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--respondents", type=int, default=100_000)
    parser.add_argument("--chunks", default=f"50000,{CHUNK_ROWS},2000000",
                        help="comma-separated batch sizes (rows read from DuckDB per GX batch)")
    parser.add_argument("--root", type=Path, default=BENCH.parent / "data" / "bench")
    parser.add_argument("--json", type=Path, default=OUT)
    args = parser.parse_args(argv)

    project = args.root / f"validation-1x{args.respondents}"
    started = time.perf_counter()
    scale.make_project(project, 1, args.respondents, log=lambda *_: None)
    wave = scale.wave_years(1)[0]
    build = measure(lambda: dbt_build(project))
    print(f"1 wave × {args.respondents:,} respondents generated and built in "
          f"{time.perf_counter() - started:.0f} s (dbt build {build.seconds:.0f} s)", flush=True)
    cells = None
    import duckdb

    with duckdb.connect(str(project / "warehouse.duckdb"), read_only=True) as con:
        cells = con.execute("select count(*) from intermediate.int_responses_decoded").fetchone()[0]

    rows = []
    for chunk in [int(c) for c in args.chunks.split(",")]:
        step = [str(BENCH / "steps.py"), "tail", "--warehouse", str(project / "warehouse.duckdb"),
                "--project", str(project), "--published", str(project / "published"),
                "--waves", str(wave), "--chunk-rows", str(chunk)]
        run = measure(lambda step=step: python_step(step))
        inner = json.loads(run.output.strip().splitlines()[-1])
        outcome = inner["waves"][str(wave)]
        rows.append({"respondents": args.respondents, "answer_rows": cells, "chunk_rows": chunk,
                     "seconds": round(run.seconds, 2),
                     "validate_seconds": round(inner["validate_seconds"], 2),
                     "peak_rss_bytes": run.peak_bytes, "success": outcome["success"],
                     "quarantined": outcome["quarantined"]})
        print(f"  chunk_rows {chunk:>9,}: validate_wave {inner['validate_seconds']:.1f} s "
              f"(process {run.seconds:.1f} s), peak RSS {run.peak_bytes / 2**30:.2f} GiB, "
              f"quarantined {outcome['quarantined']}", flush=True)
    shutil.rmtree(project, ignore_errors=True)

    result = {"date": dt.datetime.now().isoformat(timespec="seconds"), "machine": machine(),
              "runs": rows}
    write_results(args.json, result)
    print("\n" + markdown_table(
        ["respondents", "answer rows", "chunk_rows", "validate_wave", "peak RSS"],
        [[f"{r['respondents']:,}", f"{r['answer_rows']:,}", f"{r['chunk_rows']:,}",
          f"{r['validate_seconds']:.1f} s", f"{r['peak_rss_bytes'] / 2**30:.2f} GiB"]
         for r in rows]))
    print(f"\nresults: {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
