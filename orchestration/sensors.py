"""Landing sensor: a run for each wave whose files are new or changed since the last tick.

The cursor maps each landed file to its sha256 (with size and mtime, to avoid re-hashing
unchanged files), so a file triggers once; touching a file without changing it triggers
nothing. Files modified less than `settle_seconds` ago are left for the next tick (still being
copied). A wave without a respondent file yet (its codebook usually lands first) waits: its
files stay out of the cursor, and the wave runs once its respondent file lands. New wave keys
are registered in the same tick as their run. On the very first tick (no cursor), waves
already published in this instance are taken as the baseline.
"""

import hashlib
import json
import time

import dagster as dg

from observatoire.warehouse.reuse import file_digest
from orchestration.jobs import refresh_job
from orchestration.partitions import known_waves, landed_files, waves_partitions
from orchestration.publish import SNAPSHOT_KEY
from orchestration.resources import ObservatoireSettings


def scan(settings: ObservatoireSettings, previous: dict, now: float) -> tuple[dict, dict]:
    """(state of every settled landed file, {wave: changed file names})."""
    state: dict = {}
    changed: dict[str, list[str]] = {}
    files = landed_files(settings.paths.landing)
    buildable = {wave for path, wave in files if path.parent.name == "raw"}
    for path, wave in files:
        if wave not in buildable:
            continue  # nothing to build before a respondent file: seen again on a later tick
        stat = path.stat()
        name = str(path.relative_to(settings.paths.landing))
        old = previous.get(name)
        if now - stat.st_mtime < settings.settle_seconds:
            if old:
                state[name] = old  # still being written: decide on a later tick
            continue
        if old and old["size"] == stat.st_size and old["mtime"] == stat.st_mtime:
            digest = old["sha256"]
        else:
            digest = file_digest(path)
        state[name] = {"sha256": digest, "size": stat.st_size, "mtime": stat.st_mtime,
                       "wave": wave}
        if not old or old["sha256"] != digest:
            changed.setdefault(wave, []).append(name)
    return state, changed


@dg.sensor(
    job=refresh_job,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Starts a refresh of a wave when one of its files lands or changes "
                "(<landing_root>/raw, codebooks, published).",
)
def landing_sensor(context: dg.SensorEvaluationContext, settings: ObservatoireSettings):
    previous = json.loads(context.cursor) if context.cursor else {}
    state, changed = scan(settings, previous, time.time())
    if not context.cursor:
        published = context.instance.get_materialized_partitions(SNAPSHOT_KEY)
        changed = {w: f for w, f in changed.items() if w not in published}
    known = set(known_waves(context.instance))
    new_waves = sorted(w for w in changed if w not in known)
    requests = []
    for wave, files in sorted(changed.items()):
        digest = hashlib.sha256("".join(  # content and time: A -> B -> A still triggers
            f"{state[f]['sha256']}{state[f]['mtime']}" for f in sorted(files)).encode()
        ).hexdigest()[:16]
        requests.append(dg.RunRequest(
            run_key=f"landing-{wave}-{digest}", partition_key=wave,
            tags={"observatoire/trigger": "landing", "observatoire/files": ",".join(files)[:200]}))
        context.log.info(f"wave {wave}: new or changed {files}")
    return dg.SensorResult(
        run_requests=requests,
        cursor=json.dumps(state, sort_keys=True),
        dynamic_partitions_requests=[waves_partitions.build_add_request(new_waves)]
        if new_waves else [],
    )
