"""The Dagster code location: it loads, a wave partition runs in process, the schedule and the
sensor request the right waves, a Great Expectations failure blocks the publish step, and the
webserver serves the whole graph.

One refresh of wave 2024 (the session fixture `refreshed` of tests/conftest.py, shared with
test_publish.py) is shared by the tests that need a built warehouse; everything is written under
pytest's tmp folders, never under data/.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
from dagster import (
    AssetKey,
    AssetMaterialization,
    DagsterEventType,
    build_schedule_context,
    build_sensor_context,
    instance_for_test,
)

from observatoire.publish.snapshot import NEVER_PUBLISHED, RESPONDENT_COLUMNS
from observatoire.quality.gx_runner import configured_suites
from observatoire.spec import PROJECT_ROOT
from observatoire.warehouse.dbt_runner import run_dbt
from orchestration.dbt_models import dbt_project, saved_parse, translator
from orchestration.definitions import defs
from orchestration.jobs import REFRESH_JOB
from orchestration.publish import REPORT_KEY, SNAPSHOT_KEY
from orchestration.quality_checks import GX_CHECK_KEY
from orchestration.runner import ensure_dagster_home, refresh
from orchestration.schedules import DEFAULT_CRON, yearly_refresh
from orchestration.sensors import landing_sensor
from tests.conftest import waves_seed
from tests.orchestration_support import (
    FakeReport,
    published_state,
    settings_in,
)

PARIS = ZoneInfo("Europe/Paris")
REPO = defs.get_repository_def()


def _run_events(instance, run_id, event_type):
    return [r.event_log_entry.dagster_event
            for r in instance.get_records_for_run(run_id, of_type=event_type).records]


# --- the code location loads ----------------------------------------------------------------

def test_definitions_load_with_whole_graph():
    repo = defs.get_repository_def()
    graph = repo.asset_graph
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    manifest = json.loads(dbt_project.manifest_path.read_text())
    models = {translator.get_asset_key(n).to_user_string() for n in manifest["nodes"].values()
              if n["resource_type"] in ("model", "seed")}
    assert models <= keys, models - keys  # every dbt model and seed is an asset
    assert {"landed/pro", "landed/public", "landed/published_figures",
            "published/observatoire_snapshot", "published/auditor_report"} <= keys
    groups = {graph.get(k).group_name for k in graph.get_all_asset_keys()}
    assert {"landing", "config", "staging", "intermediate", "marts", "reports",
            "publish"} <= groups
    # dbt tests on a model are its asset checks, plus the blocking Great Expectations check
    # (a singular test spanning several models runs in `dbt build` without a check)
    generic = {n["name"] for n in manifest["nodes"].values()
               if n["resource_type"] == "test" and n.get("test_metadata")}
    check_keys = set(graph.asset_check_keys)
    assert generic <= {k.name for k in check_keys}
    assert GX_CHECK_KEY in check_keys
    assert graph.get_check_spec(GX_CHECK_KEY).blocking
    # staging reads the per-instrument landed assets; publish waits on the checked mart
    responses = graph.get(AssetKey(["staging", "stg_landed__responses"]))
    parents = {p.to_user_string() for p in responses.parent_keys}
    assert {"landed/pro", "landed/public"} <= parents
    assert GX_CHECK_KEY.asset_key in graph.get(SNAPSHOT_KEY).parent_keys
    assert not any(k in NEVER_PUBLISHED for k in keys if k.startswith("published"))
    assert repo.get_schedule_def("yearly_refresh").cron_schedule == DEFAULT_CRON
    assert repo.get_sensor_def("landing_sensor").job_name == REFRESH_JOB
    assert repo.get_job(REFRESH_JOB).partitions_def.name == "wave"


# --- an in-process run of one wave partition ------------------------------------------------

def test_one_wave_partition_run(refreshed):
    result, instance, settings = refreshed.result, refreshed.instance, refreshed.settings
    assert result.success, result.failures
    every_asset = defs.get_repository_def().asset_graph.get_all_asset_keys()
    for key in every_asset:
        event = instance.get_latest_materialization_event(key)
        assert event is not None, f"{key.to_user_string()} not materialised"
        assert event.asset_materialization.partition == "2024"
    meta = {k: instance.get_latest_materialization_event(k).asset_materialization.metadata
            for k in every_asset}
    assert meta[AssetKey(["landed", "pro"])]["dagster/row_count"].value == 794
    assert meta[AssetKey(["landed", "public"])]["dagster/row_count"].value == 1619
    with duckdb.connect(str(settings.paths.warehouse), read_only=True) as con:
        indicators = con.execute("select count(*) from marts.fct_indicator").fetchone()[0]
        gx_results = con.execute("select count(*) from quality.dq_validation_result "
                                 "where wave_year = 2024").fetchone()[0]
    # every configured expectation, on each of its batches, for both surveys: raw_file on the
    # landed file, three suites on landed and accepted data, three on accepted data only
    batches = {"raw_file": 1, "responses": 2, "respondents": 2, "item_nonresponse": 2,
               "weights": 1, "indicators": 1, "reconciliation": 1}
    per_survey = sum(len(s.expectations) * batches[s.name] for s in configured_suites())
    assert gx_results == 2 * per_survey == 62
    assert meta[AssetKey(["marts", "fct_indicator"])]["dagster/row_count"].value == indicators
    snapshot = meta[SNAPSHOT_KEY]
    assert snapshot["tables"].value["marts.fct_indicator"] == indicators
    assert snapshot["waves"].value == sorted({int(r["wave_year"]) for r in waves_seed()})
    assert "quality.dq_validation_result" in snapshot["tables"].value
    assert "quarantined" in snapshot
    assert Path(meta[REPORT_KEY]["index"].value).is_file()
    # the data catalog sits in the report folder, linked from its index
    assert (settings.paths.report / "catalog" / "index.html").is_file()
    assert 'href="catalog/index.html"' in (settings.paths.report / "index.html").read_text()
    # every dbt test and the GX suites ran and passed
    checks = _run_events(instance, result.run_id, DagsterEventType.ASSET_CHECK_EVALUATION)
    assert len(checks) == len(defs.get_repository_def().asset_graph.asset_check_keys)
    assert all(c.asset_check_evaluation_data.passed for c in checks)
    # the published snapshot holds no respondent-level data
    with duckdb.connect(str(result.snapshot), read_only=True) as con:
        columns = {r[0] for r in con.execute(
            "select column_name from information_schema.columns").fetchall()}
        tables = {f"{s}.{t}" for s, t in con.execute(
            "select table_schema, table_name from information_schema.tables").fetchall()}
    assert not columns & RESPONDENT_COLUMNS
    assert not tables & set(NEVER_PUBLISHED)


# --- a Great Expectations failure blocks the publish asset ----------------------------------

def test_gx_failure_blocks_publish(refreshed, monkeypatch):
    assert refreshed.result.success
    published = refreshed.settings.paths.published
    before = published_state(published)
    report_before = os.readlink(refreshed.settings.paths.report)
    failing = FakeReport(success=False, results=[{"expectation": "speeders", "success": False}],
                         blocking_failures=["speeders: 41 % of completes under a third of the "
                                            "median duration"], quarantined=12)
    monkeypatch.setattr("observatoire.quality.validation.validate_wave_once",
                        lambda *a, **k: (failing, False))
    # fct_response (rebuilt by dbt), its checks, then what depends on them
    result = refresh(["2024"], instance=refreshed.instance, settings=refreshed.settings,
                     assets=[GX_CHECK_KEY.asset_key, SNAPSHOT_KEY, REPORT_KEY])
    assert not result.success
    evaluations = [e.asset_check_evaluation_data for e in _run_events(
        refreshed.instance, result.run_id, DagsterEventType.ASSET_CHECK_EVALUATION)]
    gx = [e for e in evaluations if e.asset_check_key == GX_CHECK_KEY]
    assert len(gx) == 1 and not gx[0].passed
    # the check validates every wave the warehouse holds (the snapshot carries them all)
    assert gx[0].metadata["quarantined"].value == 12 * len({r["wave_year"] for r in waves_seed()})
    materialized = {e.asset_key for e in _run_events(
        refreshed.instance, result.run_id, DagsterEventType.ASSET_MATERIALIZATION)}
    assert GX_CHECK_KEY.asset_key in materialized  # dbt did run
    assert SNAPSHOT_KEY not in materialized and REPORT_KEY not in materialized
    assert published_state(published) == before
    assert os.readlink(refreshed.settings.paths.report) == report_before


# --- a wave is checked once: an unchanged refresh reuses the build and the checks -----------

def test_unchanged_refresh_reuses_the_build_and_the_checks(refreshed):
    settings, instance = refreshed.settings, refreshed.instance
    with duckdb.connect(str(settings.paths.warehouse), read_only=True) as con:
        validations = dict(con.execute("select wave_year, any_value(run_id) "
                                       "from quality.dq_validation_result group by 1").fetchall())
    again = refresh(["2024"], instance=instance, settings=settings)
    assert again.success, again.failures
    steps = {e.step_key for e in _run_events(instance, again.run_id, DagsterEventType.STEP_START)}
    assert "observatoire_dbt" not in steps  # nothing for dbt to rebuild or re-test
    assert {"marts__fct_response_great_expectations_suites",
            "published__observatoire_snapshot"} <= steps
    gx = [e.asset_check_evaluation_data for e in _run_events(
        instance, again.run_id, DagsterEventType.ASSET_CHECK_EVALUATION)
        if e.asset_check_evaluation_data.asset_check_key == GX_CHECK_KEY]
    assert len(gx) == 1 and gx[0].passed
    waves = gx[0].metadata["waves"].value
    assert waves and all(w["reused"] for w in waves.values())
    assert {int(w): v["validation_run"] for w, v in waves.items()} == validations
    # republished from the same warehouse, by this run
    assert again.snapshot is not None
    from observatoire.publish import snapshot as publisher
    assert publisher.snapshot_info(again.snapshot)["run_id"] == again.run_id


def test_next_dbt_command_starts_from_the_last_builds_parse(refreshed, tmp_path):
    """The refresh landed its files in a folder of its own (a dbt var the code location's
    manifest was not parsed with): the build's parse is kept, and the next dbt command with the
    same vars (the data catalog, the next build) re-parses nothing."""
    settings = refreshed.settings
    assert refreshed.result.success, refreshed.result.failures
    assert settings.dbt_vars()  # not the manifest's
    saved = saved_parse(settings)
    assert saved == settings.paths.dbt_runs / "partial_parse.msgpack"
    manifests = dbt_project.manifest_path.parent / saved.name
    outputs = {}
    for name, start in (("saved", saved), ("manifest", manifests)):
        target = tmp_path / name
        target.mkdir()
        shutil.copy(start, target / saved.name)
        with settings.dbt_environment():
            outputs[name] = run_dbt(["parse", "--target-path", str(target)], capture=True,
                                    dbt_vars=settings.dbt_vars()).stdout
    assert "Unable to do partial parsing" not in outputs["saved"]
    assert "Unable to do partial parsing" in outputs["manifest"]  # what it saves


def test_fingerprints_change_with_what_each_step_reads(refreshed, tmp_path):
    from observatoire.quality.validation import wave_fingerprint
    from orchestration.dbt_models import DbtBuildConfig, reusable_build

    settings = refreshed.settings
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(settings.paths.warehouse, warehouse)
    project = tmp_path / "project"
    shutil.copytree(Path(settings.project_root), project)
    landing = project / "seeds"

    def fingerprint() -> str:
        return wave_fingerprint(warehouse, 2024, project_root=project, landing_root=landing)

    unchanged = fingerprint()
    assert fingerprint() == unchanged
    with duckdb.connect(str(warehouse)) as con:  # one figure of the wave, by 1e-9
        con.execute("update marts.fct_indicator set value = value + 1e-9 where wave_year = 2024 "
                    "and indicator_id = (select min(indicator_id) from marts.fct_indicator "
                    "where wave_year = 2024)")
    changed_row = fingerprint()
    assert changed_row != unchanged
    rules = project / "seeds" / "quality_rules.csv"
    rules.write_text(rules.read_text().replace("0.25", "0.30", 1))
    assert fingerprint() != changed_row
    # the other wave's files do not touch this wave's fingerprint
    before = fingerprint()
    other = landing / "published" / "published_figures_2099.csv"
    other.write_text("indicator_id\n")
    assert fingerprint() == before

    # the dbt build: reusable as recorded, not with a changed landed file or when rebuilding
    assert reusable_build(settings, DbtBuildConfig(), ["2024"]) == refreshed.result.run_id
    assert reusable_build(settings, DbtBuildConfig(rebuild_waves=True), ["2024"]) is None
    raw = next((settings.paths.landing / "raw").glob("pro_2024*.csv"))
    landed = raw.read_bytes()
    try:
        raw.write_bytes(landed + b"\n")  # one more byte in a landed file
        assert reusable_build(settings, DbtBuildConfig(), ["2024"]) is None
    finally:
        raw.write_bytes(landed)
    assert reusable_build(settings, DbtBuildConfig(), ["2024"]) == refreshed.result.run_id


# --- the yearly schedule requests the latest wave only --------------------------------------

def _land(landing: Path, *names: str, content: str = "respondent_id\n1\n") -> None:
    for name in names:
        folder = ("published" if name.startswith("published_figures")
                  else "raw" if "__" in name else "codebooks")
        (landing / folder).mkdir(parents=True, exist_ok=True)
        (landing / folder / name).write_text(content, encoding="utf-8")


def test_schedule_requests_the_latest_wave(tmp_path):
    _land(tmp_path, "pro_2024__synthetic.csv", "public_2024__synthetic.csv",
          "public_2025__synthetic.csv")
    settings = settings_in(tmp_path, landing_root=str(tmp_path))
    with instance_for_test() as instance:  # a schedule context needs a persistent instance
        def tick(year):
            context = build_schedule_context(
                instance=instance, resources={"settings": settings}, repository_def=REPO,
                scheduled_execution_time=datetime(year, 7, 1, 6, tzinfo=PARIS))
            return yearly_refresh.evaluate_tick(context)

        data = tick(2025)
        assert [r.partition_key for r in data.run_requests] == ["2025"]
        assert data.run_requests[0].job_name in (None, REFRESH_JOB)
        assert instance.has_dynamic_partition("wave", "2025")  # registered for the run
        assert [r.partition_key for r in tick(2024).run_requests] == ["2024"]
        assert [r.partition_key for r in tick(2030).run_requests] == ["2025"]
        skipped = tick(2023)
        assert not skipped.run_requests and "no wave landed" in skipped.skip_message


# --- the landing sensor: one run per new file, none on the next tick ------------------------

def test_sensor_one_run_per_new_or_changed_file(tmp_path):
    landing = tmp_path / "landing"
    for folder in ("raw", "codebooks", "published"):  # the shipped 2025 wave lands below
        shutil.copytree(PROJECT_ROOT / "seeds" / folder, landing / folder,
                        ignore=shutil.ignore_patterns("*_2025*"))
    settings = settings_in(tmp_path, landing_root=str(landing), settle_seconds=5)
    old = time.time() - 60
    for path in landing.rglob("*.csv"):
        os.utime(path, (old, old))

    with instance_for_test() as instance:
        state = {"cursor": None}

        def tick():
            context = build_sensor_context(
                instance=instance, instance_ref=instance.get_ref(), cursor=state["cursor"],
                resources={"settings": settings}, definitions=defs)
            data = landing_sensor.evaluate_tick(context)
            for request in data.dynamic_partitions_requests or []:  # as the daemon does
                instance.add_dynamic_partitions(request.partitions_def_name,
                                                list(request.partition_keys))
            state["cursor"] = data.cursor
            return sorted(r.partition_key for r in data.run_requests)

        assert tick() == ["2024"]  # first tick: wave 2024 never published here
        assert tick() == []
        assert instance.has_dynamic_partition("wave", "2024")

        _land(landing, "pro_2025__synthetic.csv")  # a new file, still being copied
        assert tick() == []
        os.utime(landing / "raw" / "pro_2025__synthetic.csv", (old, old))
        assert tick() == ["2025"]
        assert instance.has_dynamic_partition("wave", "2025")
        assert tick() == []

        codebook = landing / "codebooks" / "pro_2024.csv"
        os.utime(codebook, (old + 1, old + 1))  # touched, same bytes: nothing to do
        assert tick() == []
        codebook.write_text(codebook.read_text(encoding="utf-8") + "\n", encoding="utf-8")
        os.utime(codebook, (old + 2, old + 2))
        assert tick() == ["2024"]  # changed content
        assert tick() == []

        _land(landing, "public_2026__synthetic.csv", "published_figures_2027.csv",
              "pro_2027.csv")
        for name in ("raw/public_2026__synthetic.csv", "published/published_figures_2027.csv",
                     "codebooks/pro_2027.csv"):
            os.utime(landing / name, (old, old))
        assert tick() == ["2026"]  # 2027 waits for its respondent file
        assert not instance.has_dynamic_partition("wave", "2027")
        _land(landing, "pro_2027__synthetic.csv", "public_2028__synthetic.csv")
        for name in ("raw/pro_2027__synthetic.csv", "raw/public_2028__synthetic.csv"):
            os.utime(landing / name, (old, old))
        assert tick() == ["2027", "2028"]  # one run per wave with new files
        assert tick() == []


def test_sensor_first_tick_skips_waves_already_published(tmp_path):
    landing = tmp_path / "landing"
    shutil.copytree(PROJECT_ROOT / "seeds" / "raw", landing / "raw",
                    ignore=shutil.ignore_patterns("*_2025*"))  # only 2024, published
    settings = settings_in(tmp_path, landing_root=str(landing), settle_seconds=0)
    with instance_for_test() as instance:
        instance.add_dynamic_partitions("wave", ["2024"])
        instance.report_runless_asset_event(AssetMaterialization(SNAPSHOT_KEY, partition="2024"))
        data = landing_sensor.evaluate_tick(build_sensor_context(
            instance=instance, resources={"settings": settings}, definitions=defs))
        assert data.run_requests == []
        assert len(json.loads(data.cursor)) == len(list(landing.rglob("*.csv")))


# --- the webserver serves the whole graph ---------------------------------------------------

def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


GRAPHQL = """{ repositoriesOrError { ... on RepositoryConnection { nodes {
  schedules { name cronSchedule } sensors { name } assetNodes { assetKey { path } } } } } }"""


def test_webserver_serves_the_graph(tmp_path):
    home = ensure_dagster_home(tmp_path / "dagster_home")
    port = _free_port()
    env = {**os.environ, "DAGSTER_HOME": str(home), "PYTHONPATH": str(PROJECT_ROOT),
           "OBSERVATOIRE_WAREHOUSE": str(tmp_path / "warehouse.duckdb"),
           "OBSERVATOIRE_PUBLISHED_DIR": str(tmp_path / "published"),
           "OBSERVATOIRE_REPORT_DIR": str(tmp_path / "report")}
    webserver = Path(sys.executable).parent / "dagster-webserver"
    process = subprocess.Popen(
        [str(webserver), "-m", "orchestration.definitions", "-h", "127.0.0.1", "-p", str(port)],
        cwd=PROJECT_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline, status = time.time() + 90, None
        while time.time() < deadline and status != 200:
            assert process.poll() is None, process.stderr.read().decode()[-2000:]
            try:
                with urllib.request.urlopen(base + "/server_info", timeout=5) as response:
                    status = response.status
            except OSError:
                time.sleep(1)
        assert status == 200, "the webserver did not answer within 90 s"
        with urllib.request.urlopen(base + "/", timeout=10) as response:
            assert response.status == 200
        request = urllib.request.Request(base + "/graphql", data=json.dumps(
            {"query": GRAPHQL}).encode(), headers={"Content-Type": "application/json"})
        deadline, nodes = time.time() + 60, []
        while time.time() < deadline and not nodes:  # the code location may still be loading
            with urllib.request.urlopen(request, timeout=30) as response:
                payload = json.load(response)
            nodes = (payload["data"]["repositoriesOrError"].get("nodes") or [])
            if not nodes:
                time.sleep(1)
        assert len(nodes) == 1, payload
        repo = nodes[0]
        assert [s["name"] for s in repo["schedules"]] == ["yearly_refresh"]
        assert [s["name"] for s in repo["sensors"]] == ["landing_sensor"]
        keys = {"/".join(a["assetKey"]["path"]) for a in repo["assetNodes"]}
        assert {"landed/pro", "marts/fct_indicator", "published/observatoire_snapshot",
                "published/auditor_report"} <= keys
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def test_build_args_scope_tests_and_rebuilds_to_the_run_waves():
    from observatoire.warehouse.dbt_runner import TEST_WAVES_ENV
    from orchestration.dbt_models import DbtBuildConfig, build_args, build_env
    from orchestration.resources import ObservatoireSettings

    settings = ObservatoireSettings.from_env()

    def dbt_vars(args):
        return json.loads(args[args.index("--vars") + 1]) if "--vars" in args else {}

    plain = DbtBuildConfig()
    # the run's waves reach the tests by environment, never as a var (a var that changes with
    # every run would make dbt re-parse the project)
    assert "test_waves" not in dbt_vars(build_args(settings, plain, ["2025"]))
    assert "rebuild_waves" not in dbt_vars(build_args(settings, plain, ["2025"]))
    assert build_env(plain, ["2025"]) == {TEST_WAVES_ENV: "2025"}
    rebuild = DbtBuildConfig(rebuild_waves=True)
    rebuilt = dbt_vars(build_args(settings, rebuild, ["2024", "2025"]))
    assert rebuilt["rebuild_waves"] == [2024, 2025]
    assert build_env(rebuild, ["2024", "2025"]) == {TEST_WAVES_ENV: "2024,2025"}
    full = DbtBuildConfig(full_refresh=True)
    assert "--full-refresh" in build_args(settings, full, ["2024"])
    assert build_env(full, ["2024"]) == {TEST_WAVES_ENV: ""}  # every test reads every wave


def test_a_new_wave_is_the_only_one_tested(tmp_path):
    from orchestration.dbt_models import DbtBuildConfig, waves_to_test

    settings = settings_in(tmp_path)
    raw = settings.paths.landing / "raw"
    for name in ("pro_2030__synthetic.csv", "public_2030__synthetic.csv", "pro_2031.csv"):
        (raw / name).write_text("respondent_id\n1\n")
    with duckdb.connect(str(settings.paths.warehouse)) as con:  # figures built for 2030 only
        con.execute("create schema marts")
        con.execute("create table marts.fct_indicator as select * from (values "
                    "('pro', 2030), ('public', 2030)) t(survey, wave_year)")
    shipped = sorted({p.name.split("_")[1][:4] for p in raw.glob("*.csv")} - {"2030", "2031"})
    # every landed wave but 2030 is new to this warehouse: those are the tested ones
    plain = DbtBuildConfig()
    assert waves_to_test(settings, plain, ["2031"]) == sorted([*shipped, "2031"])
    for name in raw.glob("*.csv"):
        if "_2030" not in name.name and "_2031" not in name.name:
            name.unlink()
    assert waves_to_test(settings, plain, ["2030", "2031"]) == ["2031"]
    # nothing new: the run's waves (the models or the configuration changed)
    (raw / "pro_2031.csv").unlink()
    assert waves_to_test(settings, plain, ["2030"]) == ["2030"]
    # rebuilt waves are tested again
    (raw / "pro_2031.csv").write_text("respondent_id\n1\n")
    assert waves_to_test(settings, DbtBuildConfig(rebuild_waves=True), ["2030"]) == ["2030",
                                                                                     "2031"]
