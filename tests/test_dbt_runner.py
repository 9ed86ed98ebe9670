"""`run_dbt` gives the same outcome whether dbt runs as a subprocess (the CLI, a user) or in a
child forked from a helper that imported dbt once (OBSERVATOIRE_DBT_FORK, the tests): same
output, same failure, the environment of each command, and the warehouse released at the end."""

from __future__ import annotations

import csv
import json

import duckdb
import pytest

from observatoire.conventions import ENV_DBT_FORK
from observatoire.spec import PROJECT_ROOT
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

    listed = dbt("ls", "--quiet", "--resource-type", "model", "--select", "fct_indicator",
                 "--output", "name")
    assert listed.returncode == 0
    assert listed.stdout.split() == ["fct_indicator"]

    with pytest.raises(RuntimeError, match="no_such_macro"):
        dbt("run-operation", "no_such_macro")

    # the warehouse is closed when the command ends: this process may write to it at once
    with open(PROJECT_ROOT / "seeds" / "crosswalk.csv", newline="", encoding="utf-8") as handle:
        rows = len(list(csv.reader(handle))) - 1
    dbt("seed", "--quiet", "--select", "crosswalk")
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
