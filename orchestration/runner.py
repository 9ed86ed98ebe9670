"""One-shot refreshes through Dagster, in process: the CLI (`observatoire run`) and tests launch
the same `refresh` job the schedule, the sensor and the UI launch.
"""

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg

from observatoire.conventions import DAGSTER_YAML
from orchestration.partitions import known_waves, sync_waves
from orchestration.resources import ObservatoireSettings

# A run over a range of wave partitions is asked for with Dagster's documented run tags (the
# ones a backfill of a range sets); the package exports no public constant for them.
ASSET_PARTITION_RANGE_START_TAG = "dagster/asset_partition_range_start"
ASSET_PARTITION_RANGE_END_TAG = "dagster/asset_partition_range_end"


def ensure_dagster_home(home: Path) -> Path:
    """Create DAGSTER_HOME with a dagster.yaml (telemetry off) if it has none."""
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text(DAGSTER_YAML, encoding="utf-8")
    return home


@dataclass
class RefreshResult:
    success: bool
    run_id: str
    waves: list[str]
    settings: ObservatoireSettings
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0
    # why it failed: the description of each failed blocking check (GX names suite, survey,
    # wave, batch, expectation and unexpected count)
    errors: list[str] = field(default_factory=list)

    @property
    def snapshot(self) -> Path:
        return self.settings.paths.published / "observatoire.duckdb"

    @property
    def report_index(self) -> Path:
        return self.settings.paths.report / "index.html"


def _step_printer(progress: Callable[[str], None]):
    started: dict[str, float] = {}

    def on_event(entry) -> None:
        event = entry.dagster_event
        if event is None:
            return
        step = event.step_key or ""
        kind = event.event_type
        if kind == dg.DagsterEventType.STEP_START:
            started[step] = time.perf_counter()
            progress(f"==> {step}")
        elif kind == dg.DagsterEventType.STEP_SUCCESS:
            seconds = time.perf_counter() - started.get(step, time.perf_counter())
            progress(f"    ok in {seconds:.1f} s")
        elif kind == dg.DagsterEventType.STEP_FAILURE:
            error = event.step_failure_data.error
            progress(f"    FAILED: {error.message.strip() if error else 'see the run log'}")
        elif kind == dg.DagsterEventType.STEP_SKIPPED:
            progress(f"==> {step}: skipped (an upstream step or blocking check failed)")
        elif kind == dg.DagsterEventType.ASSET_CHECK_EVALUATION:
            data = event.asset_check_evaluation_data
            if not data.passed:
                progress(f"    check failed: {data.asset_check_key.to_user_string()}")

    return on_event


def definitions_with(settings: ObservatoireSettings | None = None) -> dg.Definitions:
    """The code location's definitions, with other settings (tests, another landing folder)."""
    from orchestration.definitions import defs

    if settings is None:
        return defs
    return dg.Definitions(
        assets=defs.assets, asset_checks=defs.asset_checks, jobs=defs.jobs,
        schedules=defs.schedules, sensors=defs.sensors, executor=defs.executor,
        resources={**defs.resources, "settings": settings},
    )


def _root_message(error) -> str:
    """The first line of the innermost cause of a step's error (the op's own exception)."""
    while error.cause is not None:
        error = error.cause
    return error.message.strip().splitlines()[0] if error.message.strip() else error.cls_name


def refresh(waves: list[str] | None = None, *, instance: dg.DagsterInstance,
            settings: ObservatoireSettings | None = None,
            progress: Callable[[str], None] | None = None,
            assets: list[dg.AssetKey] | None = None, rebuild: bool = False,
            full_refresh: bool = False) -> RefreshResult:
    """Run the `refresh` job in process for `waves` (default: every landed wave) in one run.

    Several waves go in one run over a partition range (one dbt build), like a single-run
    backfill from the UI. `assets` restricts the run to some assets (and their checks), as
    "Materialize selected" does in the UI. `rebuild` recomputes the figures of `waves` even if
    already built (past waves are immutable by default); `full_refresh` rebuilds every table
    from the landed files (after an upgrade that changed a table's columns).
    """
    from orchestration.dbt_models import DbtBuildConfig, observatoire_dbt, reusable_build
    from orchestration.jobs import REFRESH_JOB
    from orchestration.quality_checks import REVALIDATE_TAG

    defs = definitions_with(settings)
    settings = defs.resources["settings"]
    sync_waves(instance, settings.paths.landing)
    keys = known_waves(instance)
    waves = sorted(waves or keys, key=keys.index)
    if not waves:
        raise ValueError(f"no wave landed in {settings.paths.landing / 'raw'}")
    unknown = [w for w in waves if w not in keys]
    if unknown:
        raise ValueError(f"waves {unknown} have no respondent file in {settings.paths.landing}")
    if len(waves) == 1:
        partition = {"partition_key": waves[0], "tags": {}}
    else:
        partition = {"partition_key": None, "tags": {ASSET_PARTITION_RANGE_START_TAG: waves[0],
                                                     ASSET_PARTITION_RANGE_END_TAG: waves[-1]}}
    run_id = str(uuid.uuid4())
    if progress:
        instance.add_event_listener(run_id, _step_printer(progress))
    started = time.perf_counter()
    job = defs.resolve_job_def(REFRESH_JOB)
    reused_run = None if assets else reusable_build(
        settings, DbtBuildConfig(rebuild_waves=rebuild, full_refresh=full_refresh), waves)
    if reused_run:
        # Nothing for dbt to rebuild or re-test: the run leaves its assets out (their
        # materializations and checks stand from that run) and runs everything downstream.
        if progress:
            progress(f"==> dbt build: project, landed files and code unchanged since run "
                     f"{reused_run}: its tables and tests stand (--rebuild to recompute)")
        graph = defs.resolve_asset_graph()
        job = job.get_subset(
            asset_selection=set(graph.get_all_asset_keys()) - set(observatoire_dbt.keys),
            asset_check_selection=set(graph.asset_check_keys) - set(observatoire_dbt.check_keys))
    result = job.execute_in_process(
        instance=instance,
        run_id=run_id,
        partition_key=partition["partition_key"],
        tags={**partition["tags"], "observatoire/trigger": "cli",
              **({REVALIDATE_TAG: "true"} if rebuild or full_refresh else {})},
        asset_selection=assets,
        raise_on_error=False,
        run_config={
            "loggers": {"console": {"config": {"log_level": "ERROR"}}},
            **({"ops": {"observatoire_dbt": {"config": {"rebuild_waves": rebuild,
                                                        "full_refresh": full_refresh}}}}
               if rebuild or full_refresh else {}),
        },
    )
    failures = [e.step_key or "" for e in result.all_events
                if e.event_type in (dg.DagsterEventType.STEP_FAILURE,
                                    dg.DagsterEventType.STEP_SKIPPED)]
    errors = [f"{e.asset_check_evaluation_data.asset_check_key.name}: "
              f"{e.asset_check_evaluation_data.description}"
              for e in result.all_events
              if e.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION
              and not e.asset_check_evaluation_data.passed
              and e.asset_check_evaluation_data.description]
    errors += [f"{e.step_key}: {_root_message(e.step_failure_data.error)}"
               for e in result.all_events
               if e.event_type == dg.DagsterEventType.STEP_FAILURE and e.step_failure_data.error]
    return RefreshResult(success=result.success and not failures, run_id=run_id, waves=waves,
                         settings=settings, failures=failures,
                         seconds=time.perf_counter() - started, errors=errors)
