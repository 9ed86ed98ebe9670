"""Landing one large received CSV: wall time and peak memory of `observatoire land`, beside the
time DuckDB's `read_csv` takes to read the same file.

For each size, a respondent file of the professional survey (bench/scale.py, with its injected
defects: one faulty row per thousand) is landed by `python -m observatoire.landing` in its own
process into a fresh landing root; a second process reads the same file with DuckDB
(`create table ... as select * from read_csv(<file>)`: every column parsed and stored).
Each process is measured from outside: wall time, its peak RSS from the kernel (`os.wait4`
rusage, `ru_maxrss`), and the peak of the summed RSS of it and its descendants (the landing's
worker processes), sampled from /proc every 50 ms. Results are merged into
docs/benchmarks/landing.json (same label and size replaced) and printed as a Markdown table.

    python bench/landing.py                                   # ~50 MB and ~200 MB
    python bench/landing.py --respondents 350000 --label before --code /tmp/checkout_before

`--code` lands with another checkout's code (PYTHONPATH), to measure before/after on the same
generated files, the same day.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))

from bench import scale  # noqa: E402
from bench.run import machine, markdown_table, write_results  # noqa: E402

OUT = BENCH.parent / "docs" / "benchmarks" / "landing.json"
WAVE = scale.FIRST_WAVE
SIZES = "350000,1400000"  # ~50 MB and ~200 MB
READ_CSV = """
import sys, time, duckdb
con = duckdb.connect()
con.execute("set enable_progress_bar = false")
started = time.perf_counter()
con.execute("create table received as select * from read_csv(?)", [sys.argv[1]])
rows = con.execute("select count(*) from received").fetchone()[0]
print(rows, time.perf_counter() - started)
"""


def tree_rss(pid: int) -> int:
    """Resident bytes of a process and all its descendants now (/proc; 0 once it is gone)."""
    total, pending = 0, [pid]
    while pending:
        current = pending.pop()
        try:
            with open(f"/proc/{current}/statm") as handle:
                total += int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
            for task in Path(f"/proc/{current}/task").iterdir():
                pending += [int(child) for child in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError, ValueError):
            continue
    return total


def run_measured(command: list[str], env: dict[str, str], cwd: Path = BENCH.parent
                 ) -> tuple[float, int, int, str]:
    """(wall seconds, peak RSS bytes, peak RSS of the process tree, stdout) of one child
    process: its own peak RSS read from the kernel when it is reaped (os.wait4), and the
    largest sum of the RSS of it and its descendants (worker processes), sampled every 50 ms
    from /proc; fails if the child fails."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        child = subprocess.Popen(command, env=env, cwd=cwd, stdout=out, stderr=err, text=True)
        peak_tree = 0
        done = threading.Event()

        def sample() -> None:
            nonlocal peak_tree
            while not done.wait(0.05):
                peak_tree = max(peak_tree, tree_rss(child.pid))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - started
        done.set()
        sampler.join()
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if child.returncode != 0:
            raise RuntimeError(f"{' '.join(command[:4])} failed:\n{out.read()}\n{err.read()}")
        peak = usage.ru_maxrss * 1024  # ru_maxrss: KiB on Linux
        return seconds, peak, max(peak_tree, peak), out.read()


def land_once(source: Path, codebook: Path, work: Path, code: Path) -> dict:
    shutil.rmtree(work, ignore_errors=True)
    (work / "landing").mkdir(parents=True)
    command = [sys.executable, "-m", "observatoire.landing", str(source), "--instrument",
               scale.SURVEY, "--wave", str(WAVE), "--landing-root", str(work / "landing"),
               "--state-root", str(work / "state"), "--codebook", str(codebook),
               "--warehouse", str(work / "absent.duckdb")]
    seconds, peak, tree, out = run_measured(command, {**os.environ, "PYTHONPATH": str(code)},
                                            code)
    counts = re.search(r"rows: (\d+) in = (\d+) loaded \+ (\d+) to quarantine", out)
    with open(work / "state" / "landing_manifest.csv", encoding="utf-8") as handle:
        header, row = handle.read().splitlines()[:2]
    manifest = dict(zip(header.split(","), row.split(","), strict=False))
    shutil.rmtree(work, ignore_errors=True)
    return {"seconds": round(seconds, 2), "peak_rss_bytes": peak, "peak_tree_rss_bytes": tree,
            "rows_in": int(counts[1]) if counts else None,
            "rows_quarantined": int(counts[3]) if counts else None,
            "landed_sha256": manifest.get("sha256"), "landed_bytes": manifest.get("size_bytes")}


def read_once(source: Path) -> dict:
    seconds, peak, _, out = run_measured([sys.executable, "-c", READ_CSV, str(source)],
                                         dict(os.environ))
    rows, inner = out.split()[-2:]
    return {"seconds": round(seconds, 2), "query_seconds": round(float(inner), 2),
            "peak_rss_bytes": peak, "rows": int(rows)}


def _gib(size: int | None) -> str:
    return "not measured" if size is None else f"{size / 2**30:.2f} GiB"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--respondents", default=SIZES,
                        help=f"comma-separated file sizes in respondents (default {SIZES})")
    parser.add_argument("--label", default="current", help="name of these results")
    parser.add_argument("--code", type=Path, default=BENCH.parent,
                        help="checkout whose landing code is run (default: this one)")
    parser.add_argument("--root", type=Path, default=BENCH.parent / "data" / "bench" / "landing")
    parser.add_argument("--json", type=Path, default=OUT)
    args = parser.parse_args(argv)
    info = machine()
    print(f"machine: {info['nproc']} cores; load average {info['loadavg_start'][0]:.2f}; "
          f"landing code: {args.code}", flush=True)
    spec = scale.load_spec()
    runs = []
    for n in [int(r) for r in args.respondents.split(",")]:
        folder = args.root / f"received-{n}"
        source = folder / "raw" / f"{scale.SURVEY}_{WAVE}__scale.csv"
        if not source.exists():  # deterministic: the same file for every label
            scale.write_wave(folder, WAVE, n, scale_spec=spec)
        codebook = folder / "codebooks" / f"{scale.SURVEY}_{WAVE}.csv"
        read = read_once(source)
        landing = land_once(source, codebook, args.root / "work", args.code)
        runs.append({"label": args.label, "respondents": n,
                     "file_bytes": source.stat().st_size, "landing": landing, "read_csv": read,
                     "ratio": round(landing["seconds"] / read["seconds"], 2),
                     "loadavg": os.getloadavg()})
        print(f"  {n:,} respondents ({source.stat().st_size / 1e6:.0f} MB): landing "
              f"{landing['seconds']:.1f} s, peak {landing['peak_rss_bytes'] / 2**30:.2f} GiB "
              f"(with its workers {landing['peak_tree_rss_bytes'] / 2**30:.2f} GiB); "
              f"read_csv {read['seconds']:.1f} s (query {read['query_seconds']:.1f} s), peak "
              f"{read['peak_rss_bytes'] / 2**30:.2f} GiB; landing / read_csv "
              f"{runs[-1]['ratio']:.2f}", flush=True)
    previous = json.loads(args.json.read_text()) if args.json.exists() else []
    done = {(r["label"], r["respondents"]) for r in runs}
    merged = [r for r in previous if (r["label"], r["respondents"]) not in done] + [
        {**r, "date": info["date"], "machine": info} for r in runs]
    write_results(args.json, merged)
    print("\n" + markdown_table(
        ["label", "respondents", "file", "landing", "peak RSS (with workers)", "read_csv",
         "landing / read_csv"],
        [[r["label"], f"{r['respondents']:,}", f"{r['file_bytes'] / 1e6:.0f} MB",
          f"{r['landing']['seconds']:.1f} s",
          f"{r['landing']['peak_rss_bytes'] / 2**30:.2f} GiB "
          f"({_gib(r['landing'].get('peak_tree_rss_bytes'))})",
          f"{r['read_csv']['seconds']:.1f} s", f"{r['ratio']:.2f}"] for r in merged],
        left=1))
    print(f"\nresults: {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
