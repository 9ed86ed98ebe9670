"""Benchmark: what a data engineer waits for, `observatoire run` on the shipped data.

The whole command (`python -m observatoire.cli run`, a new process each time, as `make run`
runs it) into a temporary data folder, with a landing folder holding a copy of the shipped
files:

  first    the first shipped wave alone, into an empty warehouse (a first refresh);
  second   the next shipped wave landed beside it (all but its stated changes): that wave is
           built, tested and validated (the first is immutable and was checked when built);
  warm     the same command again, nothing changed;
  pinned   the wave's stated changes landed: they pin figures of earlier waves, whose
           provenance must then be recomputed, so, as the failed check says, `--rebuild`
           (every wave's figures recomputed and revalidated).

Each step's seconds come from the command's own progress lines. Results are printed and
written to docs/benchmarks/refresh.json (docs/benchmarks.md, "A refresh of the shipped data").

    python bench/refresh.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))

from observatoire.conventions import (  # noqa: E402
    ENV_LANDING_ROOT,
    ENV_PUBLISHED_DIR,
    ENV_REPORT_DIR,
    ENV_SITE_DIR,
    ENV_WAREHOUSE,
    LANDED_FILE,
    TELEMETRY_OFF_ENV,
)

RESULTS = ROOT / "docs" / "benchmarks" / "refresh.json"
STEP = re.compile(r"^==> (\S+)$")
DONE = re.compile(r"^\s+ok in ([\d.]+) s$")
LANDED_FOLDERS = ("raw", "codebooks", "published")


def shipped_waves() -> list[str]:
    return sorted({m["wave"] for p in (ROOT / "seeds" / "raw").glob("*.csv")
                   if (m := LANDED_FILE.match(p.name))})


def landing_copy(dest: Path, waves: list[str], without: str = "") -> Path:
    """A landing folder with the shipped files of `waves` (the configuration seeds too), less
    the files whose name starts with `without`."""
    shutil.rmtree(dest, ignore_errors=True)
    shutil.copytree(ROOT / "seeds", dest)
    for folder in LANDED_FOLDERS:
        for path in (dest / folder).glob("*.csv"):
            if not any(f"_{wave}" in path.name for wave in waves) or (
                    without and path.name.startswith(without)):
                path.unlink()
    return dest


def run(data: Path, landing: Path, *extra: str) -> dict:
    """One `observatoire run` into `data`; its wall time and the seconds of each step."""
    env = {**os.environ, **TELEMETRY_OFF_ENV, "PYTHONPATH": str(ROOT),
           "DBT_PROFILES_DIR": str(ROOT), "DAGSTER_HOME": str(data / "dagster_home"),
           "OBSERVATOIRE_PSEUDONYM_KEY": "bench-key-not-secret",
           ENV_LANDING_ROOT: str(landing), ENV_WAREHOUSE: str(data / "warehouse.duckdb"),
           ENV_PUBLISHED_DIR: str(data / "published"), ENV_REPORT_DIR: str(data / "reports"),
           ENV_SITE_DIR: str(data / "site")}
    (data / "dagster_home").mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "observatoire.cli", "run", *extra], cwd=ROOT,
                          env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"observatoire run {' '.join(extra)} failed:\n{done.stdout[-3000:]}\n"
                         f"{done.stderr[-3000:]}")
    steps: dict[str, float] = {}
    current = None
    for line in done.stdout.splitlines():
        if match := STEP.match(line):
            current = match[1]
        elif (match := DONE.match(line)) and current:
            steps[current] = float(match[1])
    return {"seconds": seconds, "steps": steps}


def measure(repeats: int) -> dict:
    waves = shipped_waves()
    if len(waves) < 2:
        raise SystemExit("the shipped data holds one wave: nothing to add")
    first_waves, added = waves[:-1], waves[-1]
    samples: dict[str, list[dict]] = {"first": [], "second": [], "warm": [], "pinned": []}
    for _ in range(repeats):
        with tempfile.TemporaryDirectory(prefix="bench-refresh-") as tmp:
            data, landing = Path(tmp) / "data", Path(tmp) / "seeds"
            landing_copy(landing, first_waves)
            samples["first"].append(run(data, landing))
            landing_copy(landing, waves, without=f"published_changes_{added}")
            samples["second"].append(run(data, landing))
            samples["warm"].append(run(data, landing))
            landing_copy(landing, waves)
            samples["pinned"].append(run(data, landing, "--rebuild"))
            print("  repeat: " + ", ".join(f"{k} {v[-1]['seconds']:.1f} s"
                                          for k, v in samples.items()), flush=True)
    median = {k: statistics.median(s["seconds"] for s in v) for k, v in samples.items()}
    return {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "load_average": os.getloadavg(),
        "repeats": repeats,
        "waves": {"first": first_waves, "added": added},
        "median_seconds": median,
        "second_over_first": median["second"] / median["first"],
        "samples": samples,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--label", default="current")
    args = parser.parse_args(argv)
    result = {"label": args.label, **measure(args.repeats)}
    previous = json.loads(RESULTS.read_text()) if RESULTS.is_file() else []
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps([*previous, result], indent=1) + "\n")
    for name, seconds in result["median_seconds"].items():
        print(f"{name:8s} {seconds:6.1f} s  " + ", ".join(
            f"{k} {v:.1f}" for k, v in result["samples"][name][-1]["steps"].items()))
    print(f"second / first = {result['second_over_first']:.2f}; load {result['load_average']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
