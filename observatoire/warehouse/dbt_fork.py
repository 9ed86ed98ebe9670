"""dbt commands forked from a process that has already imported dbt (tests, benchmark).

Every dbt command pays ~2.5–4.5 s of CPU to import dbt, its adapter, our plugin and what the
Python models use before it reads the project; the test suite runs dozens of them. When
OBSERVATOIRE_DBT_FORK is set (tests/conftest.py sets it), each process that runs dbt starts one
helper (`python -m observatoire.warehouse.dbt_fork`) that imports all that once, then forks a
child for each command. The child moves to the command's folder and environment, takes the
caller's standard input and output, runs dbt's command line and exits: a command still runs in
a process of its own, so DuckDB's one-writer rule and the release of the warehouse file at the
end are as with a subprocess. Only the imports are shared.

Two kinds of callers use the helper:
- `run_dbt` (observatoire/warehouse/dbt_runner.py), which captures dbt's output in a file;
- dagster-dbt, which starts "dbt" as a subprocess and reads its standard output: under the
  tests its dbt executable is `dbt_forked.sh`, a small client (`client()`) that hands its own
  standard input, output and error to the helper, forwards SIGINT and SIGTERM to the child and
  exits with the child's exit status.

Protocol, on the helper's UNIX socket (one connection per command; commands run side by
side): the caller sends an 8-byte
length with its three file descriptors (SCM_RIGHTS), then the request, JSON {args, cwd, env};
the helper answers one line with the child's pid, then one line with its exit status. The child
kills itself if the caller's connection closes before it ends (the caller was killed), as dbt
would die with a subprocess's process group. The helper ends when its standard input closes
(its owner ended).
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import json
import os
import selectors
import signal
import socket
import struct
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
ENV_SOCKET = "OBSERVATOIRE_DBT_FORK_SOCKET"  # the helper of the process that runs dbt
ENV_PYTHON = "OBSERVATOIRE_DBT_FORK_PYTHON"  # the Python that runs the client script
# The client as an executable, for dagster-dbt (its `dbt_executable`).
CLIENT_SCRIPT = Path(__file__).with_name("dbt_forked.sh")
_HEADER = struct.Struct("!Q")


def _child(connection: socket.socket, request: dict, fds: list[int]) -> None:
    """In the forked child: run one dbt command, then exit with its code (never returns)."""
    code = 1
    try:
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
            os.close(fd)
        # the caller's standard output, line by line (dagster-dbt reads dbt's events as they come)
        sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
        threading.Thread(target=_die_with_caller, args=(connection,), daemon=True).start()
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


def _die_with_caller(connection: socket.socket) -> None:
    """Kill this child once the caller's end of the connection closes: the caller never sends
    anything after its request, so a read returns only when the caller is gone."""
    try:
        connection.recv(1)
    finally:
        os.kill(os.getpid(), signal.SIGKILL)


def _receive(connection: socket.socket) -> tuple[dict, list[int]]:
    header, fds, _, _ = socket.recv_fds(connection, _HEADER.size, 3)
    if len(header) != _HEADER.size:
        raise ConnectionError("the caller closed its connection before its request")
    (size,) = _HEADER.unpack(header)
    body = bytearray()
    while len(body) < size:
        chunk = connection.recv(size - len(body))
        if not chunk:
            raise ConnectionError("the caller closed its connection mid-request")
        body += chunk
    return json.loads(body), fds


def _start(connection: socket.socket, closing: list[int]) -> int:
    """One request: fork its child and tell the caller the child's pid; returns the pid."""
    request, fds = _receive(connection)
    pid = os.fork()
    if pid == 0:
        for fd in closing:  # the helper's own (listener, wake-up pipe, other connections)
            os.close(fd)
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        _child(connection, request, fds)
    for fd in fds:
        os.close(fd)
    with contextlib.suppress(OSError):  # the caller is gone: the child sees it and ends
        connection.sendall(f"{pid}\n".encode())
    return pid


def serve(path: str) -> None:
    """The helper's loop: import dbt once, then one forked child per request. Commands run side
    by side (a test's dbt and the dbt of a subprocess it waits for): a child's exit status is
    sent when SIGCHLD says it ended."""
    for module in PRELOAD:
        __import__(module)
    # No cyclic garbage collection in the children: a dbt command is short-lived and its memory
    # goes back when it exits, and its collections cost ~2 s of a 14 s build of the shipped
    # files (measured: docs/benchmarks.md, "Test suite").
    gc.disable()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen()
    wake_read, wake_write = os.pipe()
    os.set_blocking(wake_write, False)
    signal.set_wakeup_fd(wake_write)
    signal.signal(signal.SIGCHLD, lambda *_: None)  # wakes the select below (wake-up fd)
    running: dict[int, socket.socket] = {}
    events = selectors.DefaultSelector()
    events.register(listener, selectors.EVENT_READ)
    events.register(sys.stdin, selectors.EVENT_READ)
    events.register(wake_read, selectors.EVENT_READ)
    print("ready", flush=True)
    while True:
        for key, _ in events.select():
            if key.fileobj is sys.stdin:
                if not sys.stdin.readline():  # the owner ended
                    return
            elif key.fileobj is listener:
                connection, _ = listener.accept()
                try:
                    # the child keeps only its own connection and the caller's streams
                    helper_fds = [listener.fileno(), wake_read, wake_write, events.fileno(),
                                  *(c.fileno() for c in running.values())]
                    running[_start(connection, helper_fds)] = connection
                except (OSError, ValueError) as error:
                    connection.close()
                    print(f"dbt helper: request dropped: {error}", file=sys.stderr, flush=True)
            else:
                os.read(wake_read, 512)
        for pid in list(running):
            ended, status = os.waitpid(pid, os.WNOHANG)
            if ended:
                with running.pop(pid) as connection, contextlib.suppress(OSError):
                    connection.sendall(f"{os.waitstatus_to_exitcode(status)}\n".encode())


def run(args: list[str], cwd: Path | str, env: dict[str, str], fds: tuple[int, int, int],
        on_pid=None) -> int:
    """`dbt <args>` in a child of the helper at env's ENV_SOCKET, with `fds` as its standard
    input, output and error; returns its exit status (-N: killed by signal N). `on_pid` is
    called with the child's pid once it runs."""
    body = json.dumps({"args": args, "cwd": str(cwd), "env": env}).encode()
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
        connection.connect(env[ENV_SOCKET])
        socket.send_fds(connection, [_HEADER.pack(len(body))], list(fds))
        connection.sendall(body)
        answers = connection.makefile("r", encoding="ascii")
        pid = answers.readline().strip()
        if not pid:
            raise RuntimeError("the dbt helper process dropped the command (its error is above)")
        if on_pid is not None:
            on_pid(int(pid))
        status = answers.readline().strip()
        if not status:
            raise RuntimeError("the dbt helper process ended (its error is above)")
        return int(status)


class WarmDbt:
    """This process's helper, started on first use."""

    def __init__(self) -> None:
        self._process: subprocess.Popen | None = None
        self._folder: tempfile.TemporaryDirectory | None = None
        self._socket = ""  # where the running helper listens
        self._lock = threading.Lock()

    def socket_env(self, env: dict[str, str] | None = None) -> dict[str, str]:
        """Start this process's helper if needed (with `env`, default this process's
        environment); the variables that lead a dbt command to it (ENV_SOCKET, ENV_PYTHON), also
        set in os.environ. Never a helper inherited from a parent process: the helper and its
        children are this process's descendants (the benchmark measures their memory; a killed
        process group takes them with it)."""
        env = env or dict(os.environ)
        with self._lock:
            if self._process is None or self._process.poll() is not None:
                self._folder = tempfile.TemporaryDirectory(prefix="dbt-fork-")
                self._socket = str(Path(self._folder.name) / "helper.sock")
                self._process = subprocess.Popen(
                    [sys.executable, "-m", "observatoire.warehouse.dbt_fork", self._socket],
                    env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                    text=True)
                atexit.register(self.close)
                assert self._process.stdout is not None
                if self._process.stdout.readline().strip() != "ready":
                    raise RuntimeError("the dbt helper process did not start (its error is above)")
            found = {ENV_SOCKET: self._socket, ENV_PYTHON: sys.executable}
            os.environ.update(found)  # dagster-dbt passes os.environ on to the client script
            return found

    def close(self) -> None:
        """End the helper (it ends when its stdin closes) and wait for it."""
        with self._lock:
            if self._process is not None and self._process.poll() is None:
                assert self._process.stdin is not None
                self._process.stdin.close()
                self._process.wait(timeout=30)
            self._process = None
            if self._folder is not None:
                self._folder.cleanup()
                self._folder = None

    def run(self, args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
        """Run `dbt <args>` in a forked child; its output (stdout and stderr) as stdout."""
        env = {**env, **self.socket_env(env)}
        with tempfile.TemporaryFile() as output, open(os.devnull, "rb") as nothing:
            code = run(args, cwd, env, (nothing.fileno(), output.fileno(), output.fileno()))
            output.seek(0)
            text = output.read().decode("utf-8", errors="replace")
        return subprocess.CompletedProcess(["dbt", *args], code, stdout=text, stderr="")


WARM = WarmDbt()  # this process's helper (run_dbt, and dagster-dbt through `ObservatoireDbtCli`)


def client(args: list[str]) -> int:
    """`dbt_forked.sh`: run `dbt <args>` in the helper of the process that started this one
    (ENV_SOCKET), on this process's standard streams; SIGINT and SIGTERM go to the child."""
    child: list[int] = []

    def forward(signum, _frame) -> None:
        if child:
            os.kill(child[0], signum)

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, forward)
    status = run(args, Path.cwd(), dict(os.environ), (0, 1, 2), on_pid=child.append)
    if status < 0:  # killed by a signal: end the same way
        signal.signal(-status, signal.SIG_DFL)
        os.kill(os.getpid(), -status)
    return status


if __name__ == "__main__":
    if sys.argv[1:2] == ["client"]:
        sys.exit(client(sys.argv[2:]))
    serve(sys.argv[1])
