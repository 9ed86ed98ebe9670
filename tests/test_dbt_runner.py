"""`run_dbt` gives the same outcome whether dbt runs as a subprocess (the CLI, a user) or in a
child forked from a helper that imported dbt once (OBSERVATOIRE_DBT_FORK, the tests): same
output, same failure, the environment of each command, and the warehouse released at the end.
So does dagster-dbt's forked dbt executable (`dbt_forked.sh`), which also dies with its caller."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import time

import duckdb
import pytest

from observatoire.conventions import ENV_DBT_FORK, ENV_WAREHOUSE
from observatoire.spec import PROJECT_ROOT
from observatoire.warehouse import dbt_fork
from tests.conftest import dbt_in, project_copy

MODES = {"subprocess": {ENV_DBT_FORK: ""}, "forked": {ENV_DBT_FORK: "1"}}


def _dbt(parsed_project, tmp_path, mode: str):
    """(run_dbt in `mode` on a copy of the parsed project, the copy's warehouse)."""
    project, warehouse = project_copy(parsed_project, tmp_path)

    def dbt(*args: str, **env: str):
        return dbt_in(project, warehouse, list(args), capture=True, env={**MODES[mode], **env})
    return dbt, warehouse


@pytest.mark.parametrize("mode", list(MODES))
def test_same_outcome_as_a_subprocess(mode, parsed_project, tmp_path):
    dbt, warehouse = _dbt(parsed_project, tmp_path, mode)

    with pytest.raises(RuntimeError, match="no_such_macro"):
        dbt("run-operation", "no_such_macro")

    # dbt's output; the warehouse is closed when the command ends: this process may write to it
    with open(PROJECT_ROOT / "seeds" / "crosswalk.csv", newline="", encoding="utf-8") as handle:
        rows = len(list(csv.reader(handle))) - 1
    seeded = dbt("seed", "--select", "crosswalk")
    assert seeded.returncode == 0
    assert "OK loaded seed file config.crosswalk" in seeded.stdout
    assert "Completed successfully" in seeded.stdout
    with duckdb.connect(str(warehouse)) as con:  # read-write: no other process holds it
        assert con.execute("select count(*) from config.crosswalk").fetchone() == (rows,)
        con.execute("create table written_after (x int)")
    assert not warehouse.with_suffix(".duckdb.wal").exists()


def test_forked_commands_each_run_with_their_own_environment(parsed_project, tmp_path):
    dbt, _ = _dbt(parsed_project, tmp_path, "forked")
    for value in ("first", "second"):  # one helper process forks both commands
        shown = dbt("show", "--quiet", "--output", "json", "--inline",
                    "select '{{ env_var(\"OBSERVATOIRE_PROBE\") }}' as probe",
                    OBSERVATOIRE_PROBE=value)
        assert json.loads(shown.stdout[shown.stdout.index("{"):])["show"] == [{"probe": value}]


def test_dagster_client_runs_dbt_on_its_streams_and_dies_with_its_caller(parsed_project,
                                                                         tmp_path):
    """`dbt_forked.sh`, dagster-dbt's dbt executable under the tests: dbt's output on the
    client's own standard output, dbt's exit status as its own, commands side by side, and a
    client killed midway (a refresh killed with its process group) takes its forked dbt with
    it."""
    project, warehouse = project_copy(parsed_project, tmp_path)
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "DBT_PROFILES_DIR": str(PROJECT_ROOT),
           ENV_WAREHOUSE: str(warehouse), **dbt_fork.WARM.socket_env()}
    client = [str(dbt_fork.CLIENT_SCRIPT)]
    where = ["--project-dir", str(project), "--target-path", str(warehouse.parent / "target"),
             "--log-path", str(tmp_path / "logs")]

    failed = subprocess.run([*client, "run-operation", "no_such_macro", *where], env=env,
                            cwd=project, capture_output=True, text=True, timeout=120)
    assert failed.returncode != 0 and "no_such_macro" in failed.stdout

    # a query that never ends (it reads a named pipe nobody writes, without using the CPU), its
    # client killed once dbt runs it
    log = tmp_path / "logs" / "dbt.log"
    log.unlink()
    pipe = tmp_path / "never_written"
    os.mkfifo(pipe)
    endless = f"select count(*) from read_csv('{pipe}')"
    running = subprocess.Popen([*client, "show", "--inline", endless, *where], env=env,
                               cwd=project, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while "inline_query" not in (log.read_text(errors="ignore") if log.exists() else ""):
        assert time.time() < deadline and running.poll() is None, "dbt show never started"
        time.sleep(0.2)
    # meanwhile another command runs beside it, and its output is the client's
    listed = subprocess.run([*client, "ls", "--quiet", "--resource-type", "model", "--select",
                             "fct_indicator", "--output", "name", *where], env=env, cwd=project,
                            capture_output=True, text=True, timeout=120)
    assert (listed.returncode, listed.stdout.split()) == (0, ["fct_indicator"]), listed.stderr
    assert running.poll() is None  # still running
    running.kill()
    running.wait()
    deadline, error = time.time() + 30, None
    while time.time() < deadline:  # the child released the warehouse: it is gone
        try:
            with duckdb.connect(str(warehouse)) as con:
                con.execute("create table written_after (x int)")
            break
        except duckdb.IOException as lock:
            error = lock
            time.sleep(0.5)
    else:
        pytest.fail(f"the forked dbt outlived its killed client: {error}")
