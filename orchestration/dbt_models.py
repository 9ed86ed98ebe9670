"""Every dbt seed, model and test as Dagster assets and asset checks (dagster-dbt).

The manifest is prepared when the code location loads: `dagster dev` re-parses on each load
(`prepare_if_dev`); elsewhere (CLI, tests, a deployed code server) `dbt parse` runs only when
the manifest is missing or older than the dbt sources. Parsing never opens the warehouse.

Each run calls `dbt build` in a subprocess with its own target folder beside the warehouse, so
concurrent builds (tests, another developer) never share artefacts. The respondent-level tables
and `fct_indicator` are materialized 'incremental_by_wave' (macros/materializations/): a run
computes the landed waves not yet built, and recomputes the run's waves only when asked
(`rebuild_waves` run config); the other tables are rebuilt.
"""

import json
import os
import shutil
import sys
from collections.abc import Iterator, Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    DbtProject,
    dbt_assets,
)
from packaging import version
from pydantic import Field

from observatoire.conventions import LANDED_FILE
from observatoire.spec import PROJECT_ROOT
from observatoire.warehouse import dbt_fork, reuse
from observatoire.warehouse.dbt_runner import (
    DBT_SOURCE_SUFFIXES,
    DBT_SOURCES,
    dbt_env,
    test_waves_env,
)
from observatoire.warehouse.pseudonym import ENV_VAR as PSEUDONYM_ENV
from observatoire.warehouse.pseudonym import key_file
from orchestration.landing import PUBLISHED_FIGURES_KEY, instrument_key
from orchestration.partitions import instruments, landed_files, waves_partitions
from orchestration.resources import ObservatoireSettings

MANIFEST_TARGET = Path("target") / "dagster"
# dbt sources read by glob; in Dagster they are the per-instrument landed assets.
INSTRUMENT_SOURCES = {dg.AssetKey(["landed", "respondent_files"]),
                      dg.AssetKey(["landed", "codebooks"])}


def _venv_tools_on_path() -> None:
    """`make` runs .venv/bin/... without activating the venv: let subprocesses find `dbt`."""
    bin_dir = str(Path(sys.executable).parent)
    if shutil.which("dbt") is None and Path(bin_dir, "dbt").exists():
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")


dbt_env()
_venv_tools_on_path()
dbt_project = DbtProject(project_dir=PROJECT_ROOT, target_path=MANIFEST_TARGET,
                         profiles_dir=PROJECT_ROOT)


def _newest_source_mtime(root: Path) -> float:
    newest = 0.0
    for part in DBT_SOURCES:
        path = root / part
        files = path.rglob("*") if path.is_dir() else [path]
        for file in files:
            if file.suffix in DBT_SOURCE_SUFFIXES and file.is_file():
                newest = max(newest, file.stat().st_mtime)
    return newest


def prepare_manifest(project: DbtProject = dbt_project) -> Path:
    """Make sure `project.manifest_path` exists and is current; return it."""
    # Parse with the default warehouse path: dbt's partial parse is keyed on the rendered
    # profile, so the default refresh (make run, dagster dev) can reuse it.
    with ObservatoireSettings.from_env().dbt_environment():
        if project.preparer.using_dagster_dev():
            project.prepare_if_dev()
        elif (not project.manifest_path.exists()
              or project.manifest_path.stat().st_mtime < _newest_source_mtime(project.project_dir)):
            project.preparer.prepare(project)
    return project.manifest_path


class ObservatoireTranslator(DagsterDbtTranslator):
    """Asset groups by dbt layer; the glob sources become the per-instrument landed assets."""

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "seed":
            return "config"
        fqn = dbt_resource_props.get("fqn", [])
        return fqn[1] if len(fqn) > 2 else super().get_group_name(dbt_resource_props)

    def get_asset_spec(self, manifest, unique_id, project) -> dg.AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        if not any(dep.asset_key in INSTRUMENT_SOURCES for dep in spec.deps):
            return spec
        deps = [d for d in spec.deps if d.asset_key not in INSTRUMENT_SOURCES]
        deps += [instrument_key(i) for i in instruments()]
        return spec.replace_attributes(deps=deps)

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if (dbt_resource_props["resource_type"] == "source"
                and dbt_resource_props["name"] == "published_figures"):
            return PUBLISHED_FIGURES_KEY
        return super().get_asset_key(dbt_resource_props)


translator = ObservatoireTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))


def relations(manifest: Mapping[str, Any]) -> dict[dg.AssetKey, str]:
    """`schema.table` of each dbt table (models and seeds materialised as tables)."""
    found = {}
    for node in manifest["nodes"].values():
        materialized = node.get("config", {}).get("materialized")
        if node["resource_type"] == "seed" or materialized in {"table", "incremental_by_wave"}:
            found[translator.get_asset_key(node)] = f"{node['schema']}.{node['alias']}"
    return found


def _row_counts(warehouse: Path, tables: dict[dg.AssetKey, str]) -> dict[dg.AssetKey, int]:
    """Row counts, read-only, once dbt (the only writer) has exited."""
    counts = {}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for key, relation in tables.items():
            try:
                counts[key] = con.execute(f"select count(*) from {relation}").fetchone()[0]
            except duckdb.Error:
                continue  # not built in this run (dbt skipped it after a failure)
    return counts


PARTIAL_PARSE = "partial_parse.msgpack"


def saved_parse(settings: ObservatoireSettings) -> Path:
    """The dbt parse a command of this deployment starts from: the last successful build's
    (kept beside its run folders: same --vars, e.g. a landing folder of its own), else the code
    location's manifest's (parsed with no --vars). dbt checks that it fits (vars, profile,
    versions) and re-parses only the files changed since, or everything if it does not fit."""
    last = settings.paths.dbt_runs / PARTIAL_PARSE
    return last if last.is_file() else dbt_project.manifest_path.parent / PARTIAL_PARSE


def _run_target(settings: ObservatoireSettings, run_id: str) -> Path:
    """A fresh target folder for this run, seeded with the saved parse (`saved_parse`)."""
    target = settings.paths.dbt_runs / run_id
    target.mkdir(parents=True, exist_ok=True)
    partial = saved_parse(settings)
    if partial.exists() and not (target / PARTIAL_PARSE).exists():
        shutil.copy(partial, target / PARTIAL_PARSE)
    return target


def _keep_parse(settings: ObservatoireSettings, target: Path) -> None:
    """Keep a successful build's parse for the next command (`saved_parse`), replaced
    atomically (a reader copies the previous one or this one)."""
    parse = target / PARTIAL_PARSE
    if parse.is_file():
        kept = settings.paths.dbt_runs / f".{PARTIAL_PARSE}.{target.name}"
        shutil.copy(parse, kept)
        kept.replace(settings.paths.dbt_runs / PARTIAL_PARSE)


class ObservatoireDbtCli(DbtCliResource):
    """dagster-dbt's dbt resource, minus two start-up costs paid before every dbt command:
    - the in-process dbt adapter, which serves dagster-dbt's row-count and column-metadata
      helpers that we do not use (row counts are read from the warehouse after the build,
      `_row_counts`); opening it imports and configures dbt-duckdb in the Dagster process.
      dagster-dbt already runs without it when it cannot open it;
    - `dbt --version` run in a subprocess to learn the version of the venv's dbt,
      which is the installed dbt-core package.
    Together ~5 s of the shipped refresh (docs/benchmarks.md)."""

    def _initialize_dbt_core_adapter(self, args):
        return None

    def cli(self, args, **kwargs):
        """dagster-dbt's `cli`; when the dbt executable is the forked-dbt client (the tests,
        OBSERVATOIRE_DBT_FORK), this process's dbt helper is started first and the client is
        told where it listens (observatoire/warehouse/dbt_fork.py)."""
        if Path(self.dbt_executable) == dbt_fork.CLIENT_SCRIPT:
            dbt_fork.WARM.socket_env()  # sets them in os.environ, which dagster-dbt passes on
        return super().cli(args, **kwargs)

    @property
    def _cli_version(self) -> version.Version:
        return version.parse(metadata.version("dbt-core"))


class DbtBuildConfig(dg.Config):
    """Run options (launchpad in the UI, `observatoire run --rebuild` on the command line)."""

    rebuild_waves: bool = Field(
        default=False,
        description="Recompute fct_indicator for the run's waves even if already built (past "
                    "waves are immutable by default: dbt var `rebuild_waves`).")
    full_refresh: bool = Field(default=False, description="dbt build --full-refresh")


def build_env(config: DbtBuildConfig, waves: list[str]) -> dict[str, str]:
    """Environment of `dbt build` whose tests of the models incremental by wave read `waves`
    (none given on a full refresh: every wave)."""
    return test_waves_env([] if config.full_refresh else waves)


def built_pairs(warehouse: Path) -> set[tuple[str, int]]:
    """(survey, wave) pairs the warehouse holds figures for (the last table built by wave)."""
    if not warehouse.exists():
        return set()
    try:
        with duckdb.connect(str(warehouse), read_only=True) as con:
            return set(con.execute(
                "select distinct survey, wave_year from marts.fct_indicator").fetchall())
    except duckdb.CatalogException:
        return set()


def waves_to_test(settings: ObservatoireSettings, config: DbtBuildConfig,
                  run_waves: list[str]) -> list[str]:
    """The waves whose rows this build computes, hence tests: the landed waves not built yet
    (whichever waves the run was asked for: dbt builds every landed wave it lacks), plus the
    run's waves when they are rebuilt. With nothing new to build (a change of the models or of
    the configuration), the run's waves. A built wave is immutable: its tests passed when it was
    built (docs/architecture.md, "A wave is checked once")."""
    landed = {(m["instrument"], int(m["wave"])) for path in
              (settings.paths.landing / "raw").glob("*.csv")
              if (m := LANDED_FILE.match(path.name))}
    new = {str(wave) for _, wave in landed - built_pairs(settings.paths.warehouse)}
    waves = new | (set(run_waves) if config.rebuild_waves else set())
    return sorted(waves or run_waves)


DBT_STEP = reuse.BUILD_STEP
# The Python the dbt models and the plugin import: a change there changes what dbt computes.
DBT_PYTHON = ("observatoire/warehouse", "observatoire/statistics", "observatoire/spec.py",
              "observatoire/conventions.py")


def build_fingerprint(settings: ObservatoireSettings, args: list[str]) -> str:
    """What a `dbt build` reads: the dbt project, the landed files, the Python of the models,
    the pseudonymisation key, the arguments and the versions of dbt."""
    files = reuse.files_under(PROJECT_ROOT, DBT_SOURCES + DBT_PYTHON, DBT_SOURCE_SUFFIXES)
    files += [path for path, _ in landed_files(settings.paths.landing)]
    key = os.environ.get(PSEUDONYM_ENV, "")
    key_digest = reuse.digest([key]) if key else (
        reuse.file_digest(key_file()) if key_file().exists() else "")
    return reuse.digest([
        reuse.files_digest(files, PROJECT_ROOT), key_digest,
        reuse.value_digest({"args": args, "dbt": [metadata.version("dbt-core"),
                                                  metadata.version("dbt-duckdb")]})])


def reusable_build(settings: ObservatoireSettings, config: DbtBuildConfig,
                   waves: list[str], fingerprint: str | None = None) -> str | None:
    """The run id of the last successful build if a build of `waves` would read the same
    inputs (nothing to rebuild, nothing to re-test), else None. `fingerprint`: the build's,
    when the caller has it already (it reads every landed file)."""
    if config.full_refresh or config.rebuild_waves:
        return None
    previous = reuse.recorded(settings.paths.warehouse, DBT_STEP)
    if previous is None:
        return None
    fingerprint = fingerprint or build_fingerprint(settings, build_args(settings, config, waves))
    return previous[1] if previous[0] == fingerprint else None


def _reused_build(context: dg.AssetExecutionContext, run_id: str) -> Iterator[Any]:
    """The events of a build whose inputs are those of the successful build of `run_id`.

    Nothing is rebuilt, so nothing is re-reported: the tables and their dbt tests keep the
    materializations and check results of that run. Only the tables the rest of the run reads
    (marts and reports: the Great Expectations check, the publish stage) are reported, "as they
    stand", so that their consumers run (Dagster skips the consumers of an output not yielded).
    Each event costs Dagster's instance several database commits."""
    assets = context.assets_def
    graph = context.job_def.asset_layer.asset_graph
    own = set(assets.keys)
    outputs = context.op_execution_context.selected_output_names
    selected = {assets.keys_by_output_name[n]: n for n in outputs
                if n in assets.keys_by_output_name}  # the others are the checks' outputs
    consumed = {k for k in selected if graph.has(k) and graph.get(k).child_keys - own}
    done: set[dg.AssetKey] = set()
    while len(done) < len(consumed):  # in dependency order, as Dagster requires
        ready = sorted((k for k in consumed if k not in done
                        and not (assets.asset_deps.get(k, set()) & (consumed - done))), key=str)
        for key in ready:
            yield dg.Output(None, output_name=selected[key], metadata={
                "reused_from_run": run_id,
                "reason": "dbt project, landed files and code unchanged since that run"})
        done.update(ready)


def build_args(settings: ObservatoireSettings, config: DbtBuildConfig,
               waves: list[str]) -> list[str]:
    """`dbt build` arguments for a run of `waves` (its environment: `build_env`)."""
    dbt_vars = settings.dbt_vars()
    if config.rebuild_waves:
        dbt_vars["rebuild_waves"] = [int(w) for w in waves]
    args = ["build"]
    if config.full_refresh:
        args.append("--full-refresh")
    if dbt_vars:
        args += ["--vars", json.dumps(dbt_vars)]
    return args


@dbt_assets(
    manifest=prepare_manifest(),
    project=dbt_project,
    dagster_dbt_translator=translator,
    partitions_def=waves_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    name="observatoire_dbt",
)
def observatoire_dbt(context: dg.AssetExecutionContext, dbt: DbtCliResource,
                     settings: ObservatoireSettings, config: DbtBuildConfig) -> Iterator[Any]:
    """`dbt build` (seeds, models, tests) into the warehouse; row counts added to each table."""
    settings.paths.warehouse.parent.mkdir(parents=True, exist_ok=True)
    args = build_args(settings, config, context.partition_keys)
    fingerprint = build_fingerprint(settings, args)  # landed files read once per run
    reused_run = reusable_build(settings, config, context.partition_keys, fingerprint)
    if reused_run:
        context.log.info(f"dbt build reused: its inputs are those of run {reused_run}")
        yield from _reused_build(context, reused_run)
        return
    reuse.forget(settings.paths.warehouse, DBT_STEP)  # recorded again only if this build succeeds
    target = _run_target(settings, context.run.run_id)
    tested = waves_to_test(settings, config, context.partition_keys)
    context.log.info(f"dbt {' '.join(args)} -> {settings.paths.warehouse} (target {target}); "
                     f"waves {context.partition_keys}; tests by wave on {tested}")
    with settings.dbt_environment(build_env(config, tested)):
        invocation = dbt.cli(args, context=context, target_path=target, raise_on_error=False)
    events = list(invocation.stream())  # dbt holds the write lock until it exits
    counts = _row_counts(settings.paths.warehouse, relations(invocation.manifest)) \
        if settings.paths.warehouse.exists() else {}
    for event in events:
        if isinstance(event, dg.Output):
            key = context.asset_key_for_output(event.output_name)
            if key in counts:
                event = event.with_metadata({**event.metadata, "dagster/row_count": counts[key],
                                             "waves": ", ".join(context.partition_keys)})
        yield event
    if not invocation.is_successful():
        raise RuntimeError(f"dbt build failed{_failure_summary(target)}; see the step log and "
                           f"{target}/dbt.log")
    if not context.is_subset:  # a partial build does not stand for the whole project
        reuse.record(settings.paths.warehouse, DBT_STEP, fingerprint, context.run.run_id)
    _keep_parse(settings, target)
    shutil.rmtree(target, ignore_errors=True)  # kept when the build failed, for its logs


SCHEMA_CHANGED = "out of sync"  # dbt's message when a model's columns differ from its table


def _failure_summary(target: Path) -> str:
    """The failed nodes of a dbt build (from its run_results.json), with the way out when a
    model's columns changed since the warehouse was built (an upgrade of the project)."""
    try:
        results = json.loads((target / "run_results.json").read_text())["results"]
    except (OSError, ValueError, KeyError):
        return ""
    failed = [r for r in results if r.get("status") in ("error", "fail")]
    if not failed:
        return ""
    names = ", ".join(r["unique_id"].split(".")[-1] for r in failed[:5])
    hint = ""
    if any(SCHEMA_CHANGED in (r.get("message") or "") for r in failed):
        hint = (" (the columns of a table changed since the warehouse was built: rebuild "
                "every wave with `observatoire run --full-refresh`)")
    return f" at {names}{hint}"


def layer_keys(layers: tuple[str, ...]) -> list[dg.AssetKey]:
    """Keys of the dbt models in the given layers (asset groups)."""
    return sorted((s.key for s in observatoire_dbt.specs if s.group_name in layers),
                  key=lambda k: k.to_user_string())


def model_key(name: str) -> dg.AssetKey:
    """Asset key of the dbt model `name`."""
    return next(s.key for s in observatoire_dbt.specs if s.key.path[-1] == name)
