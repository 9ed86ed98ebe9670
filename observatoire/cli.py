"""`observatoire` command line: the same steps the Dagster graph runs, for a terminal.

    observatoire run            build the warehouse from the shipped files (all waves)
    observatoire synth --wave Y regenerate a wave's synthetic respondent files
    observatoire dev            start the Dagster UI (dagster dev)
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

from observatoire import spec
from observatoire.dbt_runner import dbt_env, run_dbt


def _step(title: str):
    print(f"\n==> {title}", flush=True)
    return time.perf_counter()


def cmd_run(args: argparse.Namespace) -> int:
    started = _step("dbt build (seeds, models, tests) -> data/warehouse.duckdb")
    (spec.PROJECT_ROOT / "data").mkdir(exist_ok=True)
    run_dbt(["build", "--quiet"] if args.quiet else ["build"])
    print(f"    done in {time.perf_counter() - started:.1f} s")
    return 0


def cmd_dev(args: argparse.Namespace) -> int:
    dbt_env()
    home = os.environ.setdefault("DAGSTER_HOME", str(spec.PROJECT_ROOT / "data" / "dagster_home"))
    os.makedirs(home, exist_ok=True)
    return subprocess.call(["dagster", "dev", "-h", args.host, "-p", str(args.port)],
                           cwd=spec.PROJECT_ROOT)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="observatoire", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="build everything from the landed/shipped files")
    run.add_argument("--quiet", action="store_true")
    run.set_defaults(func=cmd_run)
    dev = sub.add_parser("dev", help="Dagster UI")
    dev.add_argument("--host", default="127.0.0.1")
    dev.add_argument("--port", type=int, default=3000)
    dev.set_defaults(func=cmd_dev)
    synth = sub.add_parser("synth", help="regenerate synthetic respondent files")
    synth.add_argument("rest", nargs=argparse.REMAINDER)
    synth.set_defaults(func=lambda a: __import__("observatoire.synth").synth.main(a.rest))
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
