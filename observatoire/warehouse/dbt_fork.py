"""dbt commands forked from a process that has already imported dbt (tests, benchmark).

Every dbt command pays ~2.5 s of CPU to import dbt, its adapter and our plugin before it reads
the project; the test suite runs dozens of them. When OBSERVATOIRE_DBT_FORK is set
(tests/conftest.py sets it), `run_dbt` hands its commands to one helper process per caller
(`python -m observatoire.warehouse.dbt_fork`) that imports all that once, then forks a child for
each command. The child moves to the command's folder and environment, runs dbt's command line
and exits, so a command still runs in a process of its own: DuckDB's one-writer rule and the
release of the warehouse file at the end are as with a subprocess. Only the imports are shared.

Protocol (one command at a time): the caller writes one JSON line {args, cwd, env, output}; the
helper answers with the child's exit code on one line; dbt's stdout and stderr are in `output`.
The helper ends when its stdin closes (the caller ended).
"""

from __future__ import annotations

import atexit
import gc
import json
import os
import subprocess
import sys
import tempfile
import threading
import traceback
from pathlib import Path

# Imported once by the helper: dbt's command line and what its commands load next (the
# DuckDB adapter, our plugin, what the Python models and the plugin's t quantiles import).
PRELOAD = ("dbt.cli.main", "dbt.adapters.duckdb", "dbt.adapters.duckdb.impl",
           "dbt.adapters.duckdb.plugins", "observatoire.warehouse.dbt_plugin", "pandas",
           "scipy.stats", "observatoire.statistics.poll_weights",
           "observatoire.statistics.linearisation")


def _child(request: dict) -> None:
    """In the forked child: run one dbt command, then exit with its code (never returns)."""
    code = 1
    try:
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        output = os.open(request["output"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(output, 1)
        os.dup2(output, 2)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        from dbt.cli.main import cli

        try:
            cli.main(args=request["args"], prog_name="dbt")  # standalone: ends in SystemExit
            code = 0
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else int(exit_.code is not None)
    except BaseException:  # the child reports anything, then exits
        traceback.print_exc()
    finally:
        try:  # what a normal exit does: dbt-duckdb closes the warehouse in an atexit handler
            atexit._run_exitfuncs()
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def serve() -> None:
    """The helper's loop: import dbt once, then one forked child per request line."""
    for module in PRELOAD:
        __import__(module)
    # No cyclic garbage collection in the children: a dbt command is short-lived and its memory
    # goes back when it exits, and its collections cost ~2 s of a 14 s build of the shipped
    # files (measured: docs/benchmarks.md, "Test suite").
    gc.disable()
    print("ready", flush=True)
    for line in sys.stdin:
        pid = os.fork()
        if pid == 0:
            _child(json.loads(line))
        _, status = os.waitpid(pid, 0)
        print(os.waitstatus_to_exitcode(status), flush=True)


class WarmDbt:
    """A caller's helper process, started on first use, one command at a time."""

    def __init__(self) -> None:
        self._process: subprocess.Popen | None = None
        self._lock = threading.Lock()

    def _helper(self, env: dict[str, str]) -> subprocess.Popen:
        if self._process is None or self._process.poll() is not None:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "observatoire.warehouse.dbt_fork"], env=env,
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
            atexit.register(self.close)
            assert self._process.stdout is not None
            if self._process.stdout.readline().strip() != "ready":
                raise RuntimeError("the dbt helper process did not start (its error is above)")
        return self._process

    def close(self) -> None:
        """End the helper (it ends when its stdin closes) and wait for it."""
        with self._lock:
            if self._process is not None and self._process.poll() is None:
                assert self._process.stdin is not None
                self._process.stdin.close()
                self._process.wait(timeout=30)
            self._process = None

    def run(self, args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
        """Run `dbt <args>` in a forked child; its output (stdout and stderr) as stdout."""
        with self._lock, tempfile.TemporaryDirectory(prefix="dbt-fork-") as folder:
            output = Path(folder) / "output.txt"
            helper = self._helper(env)
            assert helper.stdin is not None and helper.stdout is not None
            request = {"args": args, "cwd": str(cwd), "env": env, "output": str(output)}
            helper.stdin.write(json.dumps(request) + "\n")
            helper.stdin.flush()
            answer = helper.stdout.readline().strip()
            if not answer:
                raise RuntimeError("the dbt helper process ended (its error is above)")
            text = output.read_text(encoding="utf-8", errors="replace")
            return subprocess.CompletedProcess(["dbt", *args], int(answer), stdout=text,
                                               stderr="")


if __name__ == "__main__":
    serve()
