#!/bin/sh
# dbt's command line, run in a child forked from the dbt helper of the process that started this
# script (observatoire/warehouse/dbt_fork.py, `client`): dagster-dbt's dbt executable when
# OBSERVATOIRE_DBT_FORK is set (the tests). The helper's starter sets both variables.
exec "${OBSERVATOIRE_DBT_FORK_PYTHON:?set by the dbt helper}" -m observatoire.warehouse.dbt_fork client "$@"
