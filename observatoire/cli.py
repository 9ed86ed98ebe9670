"""`observatoire` command line: the same steps the Dagster graph runs, for a terminal.

    observatoire run            refresh every landed wave through Dagster (in process): build,
                                check, publish the BI snapshot and the auditor's report
    observatoire synth --wave Y regenerate a wave's synthetic respondent files
    observatoire dev            start the Dagster UI (dagster dev)
    observatoire land FILE --instrument pro --wave Y
                                land a received file (docs/landing.md)
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from observatoire import spec
from observatoire.warehouse.dbt_runner import dbt_env


def _step(title: str):
    print(f"\n==> {title}", flush=True)
    return time.perf_counter()


def _dagster_home() -> Path:
    """DAGSTER_HOME (default data/dagster_home), with a dagster.yaml turning telemetry off."""
    from orchestration.runner import ensure_dagster_home

    home = os.environ.setdefault("DAGSTER_HOME", str(spec.PROJECT_ROOT / "data" / "dagster_home"))
    return ensure_dagster_home(Path(home))


def cmd_run(args: argparse.Namespace) -> int:
    """Materialise the whole graph for the landed waves through Dagster, in this process."""
    import contextlib
    import io

    dbt_env()
    say = (lambda *_: None) if args.quiet else (lambda text: print(text, flush=True))
    started = time.perf_counter()
    say("==> loading the Dagster definitions (dbt parse if the manifest is stale)")
    from dagster import DagsterInstance

    from orchestration.definitions import defs
    from orchestration.runner import refresh

    settings = defs.resources["settings"]
    home = _dagster_home()
    say(f"    done in {time.perf_counter() - started:.1f} s (Dagster instance {home})")
    say(f"==> refresh of wave(s) {', '.join(args.wave) if args.wave else 'all landed'}: "
        f"landed files -> dbt build -> Great Expectations -> publish -> auditor's report")
    output = contextlib.redirect_stdout(io.StringIO()) if args.quiet else contextlib.nullcontext()
    with DagsterInstance.get() as instance, output:
        result = refresh(args.wave or None, instance=instance, settings=settings, progress=say,
                         rebuild=args.rebuild, full_refresh=args.full_refresh)
    if not result.success:
        print(f"\nrefresh FAILED (run {result.run_id}) at: {', '.join(result.failures)}\n"
              + "".join(f"  {error}\n" for error in result.errors) +
              f"the published snapshot {result.snapshot} was left untouched", file=sys.stderr)
        return 1
    say(f"\nrefresh of wave(s) {', '.join(result.waves)} done in {result.seconds:.1f} s "
        f"(run {result.run_id})")
    print(f"warehouse:          {settings.paths.warehouse}")
    print(f"published snapshot: {result.snapshot}")
    print(f"published parquet:  {settings.paths.published / 'parquet'}")
    print(f"auditor's report:   {result.report_index}")
    print(f"barometer site:     {settings.paths.site / 'index.html'}")
    print(f"data catalog:       {result.report_index.parent / 'catalog' / 'index.html'}")
    return 0


def cmd_dev(args: argparse.Namespace) -> int:
    """`dagster dev` on the project's code location, with a persistent DAGSTER_HOME."""
    from dagster import DagsterInstance

    from orchestration.partitions import sync_waves
    from orchestration.resources import ObservatoireSettings

    dbt_env()
    home = _dagster_home()
    with DagsterInstance.get() as instance:  # wave partitions visible before the first sensor tick
        sync_waves(instance, ObservatoireSettings.from_env().paths.landing)
    bin_dir = Path(sys.executable).parent
    os.environ["PATH"] = f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"
    print(f"Dagster UI on http://{args.host}:{args.port} (DAGSTER_HOME={home})", flush=True)
    return subprocess.call([str(bin_dir / "dagster"), "dev", "-h", args.host, "-p", str(args.port)],
                           cwd=spec.PROJECT_ROOT)


def _forward(module: str, argv: list[str]) -> int:
    """Hand the remaining arguments to a module's own command line."""
    import importlib

    return importlib.import_module(module).main(argv)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="observatoire", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="build everything from the landed/shipped files")
    run.add_argument("--quiet", action="store_true")
    run.add_argument("--wave", action="append", help="only this wave (repeatable)")
    run.add_argument("--rebuild", action="store_true",
                     help="recompute the figures of the selected waves even if already built")
    run.add_argument("--full-refresh", action="store_true",
                     help="rebuild every table from the landed files (after an upgrade that "
                          "changed a table's columns)")
    run.set_defaults(func=cmd_run)
    dev = sub.add_parser("dev", help="Dagster UI")
    dev.add_argument("--host", default="127.0.0.1")
    dev.add_argument("--port", type=int, default=3000)
    dev.set_defaults(func=cmd_dev)
    synth = sub.add_parser("synth", help="regenerate synthetic respondent files", add_help=False)
    synth.add_argument("rest", nargs=argparse.REMAINDER)
    synth.set_defaults(forward="observatoire.synthetic")
    land = sub.add_parser("land", help="land a received file (see docs/landing.md)",
                          add_help=False)
    land.add_argument("rest", nargs=argparse.REMAINDER)
    land.set_defaults(forward="observatoire.landing.__main__")
    args, extra = parser.parse_known_args(argv)
    if getattr(args, "forward", None):
        return _forward(args.forward, args.rest + extra)
    if extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
