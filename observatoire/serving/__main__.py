"""`python -m observatoire.serving start|stop|status|load` (`make serve`, `make serve-stop`).

    start   initialise the cluster under data/postgres/ on first use, start it, serve the
            published snapshot if it is not served yet, print the connection settings
    stop    stop the server
    status  running or not, and the served release
    load    load the published snapshot (or --snapshot FILE) into the served schema now
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from observatoire.serving.load import load_release, served_release
from observatoire.serving.postgres import (
    DATABASE,
    ENV_DSN,
    HOST,
    READER,
    SERVED_SCHEMA,
    Endpoint,
    ServingError,
)


def _published_snapshot() -> Path:
    from observatoire.publish import snapshot as publisher
    from orchestration.resources import ObservatoireSettings

    return publisher.snapshot_path(ObservatoireSettings.from_env().paths.published)


def _manifest() -> Path | None:
    from orchestration.dbt_models import dbt_project  # parses the dbt project if stale

    return dbt_project.manifest_path


def _settings(endpoint: Endpoint) -> str:
    if endpoint.dsn:
        return f"serving the server of {ENV_DSN}"
    return (f"PostgreSQL for BI tools: host {HOST}, port {endpoint.port}, database {DATABASE}, "
            f"schema {SERVED_SCHEMA}, role {READER}, password in "
            f"{endpoint.password_file(READER)}")


def _load(endpoint: Endpoint, snapshot: Path) -> None:
    result = load_release(snapshot, endpoint.conninfo(), manifest=_manifest())
    print(f"served release published at {result.published_at} (run {result.run_id}): "
          f"{len(result.tables)} tables")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m observatoire.serving",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["start", "stop", "status", "load"])
    parser.add_argument("--snapshot", type=Path, help="snapshot to load (default: published)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    endpoint = Endpoint.from_env()
    snapshot = args.snapshot or _published_snapshot()
    try:
        if args.command == "start":
            if not endpoint.dsn:  # a server of the user's own is not ours to start
                endpoint.start()
            served = served_release(endpoint.conninfo())
            if snapshot.exists() and (served is None or str(served["published_at"])
                                      != _published_at(snapshot)):
                _load(endpoint, snapshot)
            elif not snapshot.exists():
                print(f"no published snapshot yet ({snapshot}): `make run` publishes one and "
                      "loads it here while the server runs")
            print(_settings(endpoint))
        elif args.command == "stop":
            print("stopped" if endpoint.stop() else "not running")
        elif args.command == "status":
            if not endpoint.is_configured():
                print("not running (make serve)")
                return 3
            print(_settings(endpoint))
            print(f"served release: {served_release(endpoint.conninfo())}")
        else:
            if not endpoint.is_configured():
                print("no server running and no DSN given: make serve", file=sys.stderr)
                return 3
            _load(endpoint, snapshot)
    except ServingError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


def _published_at(snapshot: Path) -> str:
    from observatoire.publish import snapshot as publisher

    return str(publisher.snapshot_info(snapshot)["published_at"])


if __name__ == "__main__":
    sys.exit(main())
