"""Run Great Expectations 1.x suites on pandas DataFrames.

Why pandas: GX 1.x's SQL datasources go through SQLAlchemy dialects it knows (Postgres,
Snowflake, SQLite, ...); DuckDB is not one of them, so ``add_sql`` on a ``duckdb:///`` URL
fails or misbehaves. The warehouse therefore reads a table into a DataFrame (``con.sql(...).df()``)
and validates it through a pandas datasource -> dataframe asset -> whole-dataframe batch
definition -> persisted validation definition. Each run stores its result in the context's
validation results store (run name = the batch label, e.g. a survey wave), so Data Docs list it.

Layout: the suites are configuration, versioned in ``expectations/gx/expectations/`` (GX's
suite format, no ids; wave-dependent bounds are ``$PARAMETER``s given at validation time) with
the custom expectations in ``expectations/gx/plugins/``. Everything a run produces lives in a
GX *file* context under the run's data folder (``get_context(data_dir)`` ->
``<data_dir>/gx/``): its ``great_expectations.yml``, the suites loaded from configuration at
each run, the data assets, batch and validation definitions per wave, results and default
docs. A refresh therefore never writes into ``expectations/``. Analytics are off
(``GX_ANALYTICS_ENABLED=false`` plus ``analytics_enabled: false`` in the config).

Offline Data Docs: `observatoire.quality.data_docs`.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import sys
from pathlib import Path

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

import great_expectations as gx
import great_expectations.exceptions as gx_exc
import pandas as pd
from great_expectations.core.run_identifier import RunIdentifier
from great_expectations.data_context.types.base import ProgressBarsConfig

log = logging.getLogger(__name__)

DATASOURCE_NAME = "observatoire_pandas"
# cdnjs / bootstrapcdn library names that differ from the npm package name.



SUITES_DIR = Path(__file__).parents[2] / "expectations" / "gx" / "expectations"
PLUGINS_DIR = Path(__file__).parents[2] / "expectations" / "gx" / "plugins"
PLUGIN_MODULE = "observatoire_expectations"


def load_plugins():
    """Import the project's custom expectations (GX registers them on import)."""
    if str(PLUGINS_DIR) not in sys.path:
        sys.path.insert(0, str(PLUGINS_DIR))
    import importlib

    return importlib.import_module(PLUGIN_MODULE)


def configured_suites(suites_dir: Path = SUITES_DIR) -> list:
    """The suites of ``expectations/gx/expectations/*.json`` as GX suites (not yet stored)."""
    from great_expectations.expectations.expectation_configuration import (
        ExpectationConfiguration,
    )

    load_plugins()
    suites = []
    for path in sorted(Path(suites_dir).glob("*.json")):
        spec = json.loads(path.read_text(encoding="utf-8"))
        expectations = [ExpectationConfiguration(type=e["type"], kwargs=e.get("kwargs", {}),
                                                 meta=e.get("meta") or {}).to_domain_obj()
                        for e in spec["expectations"]]
        suites.append(gx.ExpectationSuite(name=spec["name"], expectations=expectations,
                                          meta=spec.get("meta") or {}))
    return suites


def get_context(data_dir: Path, *, load_suites: bool = True):
    """The GX file context of a run, at ``<data_dir>/gx/`` (created on first use), with the
    configured suites (re)loaded from ``expectations/`` unless ``load_suites`` is false.

    Analytics and progress bars are off; the plugins folder is the project's, so Data Docs use
    its custom styles. Nothing is written outside ``data_dir``.
    """
    root = Path(data_dir)
    root.mkdir(parents=True, exist_ok=True)
    load_plugins()
    context = gx.get_context(mode="file", project_root_dir=root)
    bars = context.variables.progress_bars
    bars_on = bars is None or (bars.get("globally") if isinstance(bars, dict) else bars.globally)
    if (context.variables.analytics_enabled is not False or bars_on is not False
            or context.variables.plugins_directory != str(PLUGINS_DIR)):
        context.variables.analytics_enabled = False
        context.variables.progress_bars = ProgressBarsConfig(globally=False)  # quiet CI logs
        context.variables.plugins_directory = str(PLUGINS_DIR)
        context.variables.save()
    if load_suites:
        for suite in configured_suites():
            context.suites.add_or_update(suite)
    return context


def _get_or_add(getter, adder, name):
    try:
        return getter(name)
    except (KeyError, LookupError, ValueError, gx_exc.DataContextError):
        return adder(name)


def run_suite(context, suite_name: str, df: pd.DataFrame, batch_label: str, *,
              parameters: dict | None = None, expectations: list | None = None) -> list[dict]:
    """Validate ``df`` against suite ``suite_name`` with suite ``parameters``.

    The suite is the one stored in the context (loaded from configuration by ``get_context``),
    or, when ``expectations`` are given, replaced by them. Goes through a pandas datasource, a
    dataframe asset named after the suite, a whole-dataframe batch definition and a persisted
    validation definition ``<suite>__<batch_label>``; the run is stored with run name
    ``batch_label`` so Data Docs show it. Safe to call repeatedly.
    Returns one dict per expectation: suite, expectation_type, column, kwargs_json, meta,
    success, observed_value, unexpected_count, element_count.
    """
    if expectations is not None:
        fresh = [e.copy(deep=True, update={"id": None}) for e in expectations]
        context.suites.add_or_update(gx.ExpectationSuite(name=suite_name, expectations=fresh))
    suite = context.suites.get(suite_name)

    ds = _get_or_add(context.data_sources.get, context.data_sources.add_pandas, DATASOURCE_NAME)
    asset = _get_or_add(ds.get_asset, ds.add_dataframe_asset, suite_name)
    batch_def = _get_or_add(asset.get_batch_definition,
                            asset.add_batch_definition_whole_dataframe, batch_label)
    vd = context.validation_definitions.add_or_update(
        gx.ValidationDefinition(name=f"{suite_name}__{batch_label}", data=batch_def, suite=suite)
    )
    # explicit run_time: otherwise GX parses a run_name like "2024" as the run's date
    run_id = RunIdentifier(run_name=batch_label, run_time=dt.datetime.now(dt.UTC))
    result = vd.run(batch_parameters={"dataframe": df}, result_format="SUMMARY", run_id=run_id,
                    expectation_parameters=parameters or {})

    order = {e.id: i for i, e in enumerate(suite.expectations)}  # report in input order
    rows = []
    for r in sorted(result.results, key=lambda r: order.get(r.expectation_config.id, 0)):
        cfg = r.expectation_config
        if r.exception_info and r.exception_info.get("raised_exception"):
            raise RuntimeError(f"GX suite {suite_name} ({batch_label}): {cfg.type} raised "
                               f"{r.exception_info.get('exception_message')}")
        kwargs = {k: v for k, v in cfg.kwargs.items() if k != "batch_id"}
        res = r.result or {}
        observed = res.get("observed_value")
        unexpected = res.get("unexpected_count")
        rows.append({
            "suite": suite_name,
            "expectation_type": cfg.type,
            "column": kwargs.get("column"),
            "kwargs_json": json.dumps(kwargs, sort_keys=True, default=str),
            "meta": dict(cfg.meta or {}),
            "success": bool(r.success),
            "observed_value": None if observed is None else str(observed),
            "unexpected_count": None if unexpected is None else int(unexpected),
            "element_count": int(res.get("element_count", len(df))),
        })
    return rows


