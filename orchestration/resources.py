"""Settings of a refresh as a typed resource: where files land, where the warehouse is built,
where the snapshot and the auditor's report are published.

Defaults come from the environment (so the CLI, `dagster dev` and tests agree) and fall back to
the project's `seeds/` and `data/` folders. Relative paths are relative to the project root.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from dagster import ConfigurableResource

from observatoire import conventions
from observatoire.conventions import PROJECT_ROOT, TELEMETRY_OFF_ENV

ENV_WAREHOUSE = conventions.ENV_WAREHOUSE
ENV_LANDING = conventions.ENV_LANDING_ROOT
ENV_PUBLISHED = conventions.ENV_PUBLISHED_DIR
ENV_REPORT = conventions.ENV_REPORT_DIR
ENV_SITE = conventions.ENV_SITE_DIR


class ObservatoireSettings(ConfigurableResource):
    """Paths of one refresh (see module docstring)."""

    # Root of relative paths and of the Great Expectations project (`expectations/`, rules in
    # `seeds/quality_rules.csv`). The dbt project itself is always the package's.
    project_root: str = str(PROJECT_ROOT)
    landing_root: str = "seeds"
    warehouse: str = "data/warehouse.duckdb"
    published_dir: str = "data/published"
    report_dir: str = "data/reports"
    site_dir: str = "data/site"  # the public barometer site (observatoire/site)
    # Seconds a landed file must stay unmodified before the sensor reacts (file still copying).
    settle_seconds: float = 10.0

    @classmethod
    def from_env(cls, **overrides) -> ObservatoireSettings:
        """Settings from OBSERVATOIRE_* environment variables, then `overrides`."""
        env = {
            "warehouse": os.environ.get(ENV_WAREHOUSE),
            "landing_root": os.environ.get(ENV_LANDING),
            "published_dir": os.environ.get(ENV_PUBLISHED),
            "report_dir": os.environ.get(ENV_REPORT),
            "site_dir": os.environ.get(ENV_SITE),
        }
        values: dict[str, Any] = {k: v for k, v in env.items() if v}
        values.update({k: str(v) if isinstance(v, Path) else v for k, v in overrides.items()})
        return cls(**values)

    def _path(self, value: str) -> Path:
        path = Path(value)
        return path if path.is_absolute() else Path(self.project_root) / path

    @property
    def root(self) -> Path:
        return Path(self.project_root)

    @property
    def landing_path(self) -> Path:
        return self._path(self.landing_root)

    @property
    def warehouse_path(self) -> Path:
        return self._path(self.warehouse)

    @property
    def published_path(self) -> Path:
        return self._path(self.published_dir)

    @property
    def report_path(self) -> Path:
        return self._path(self.report_dir)

    @property
    def site_path(self) -> Path:
        return self._path(self.site_dir)

    @property
    def dbt_runs_path(self) -> Path:
        """Per-run dbt target folders, beside the warehouse (never shared with another build)."""
        return self.warehouse_path.parent / "dbt_runs"

    def dbt_vars(self) -> dict:
        """dbt --vars for this refresh (only what differs from dbt_project.yml)."""
        if self.landing_path.resolve() == (PROJECT_ROOT / "seeds").resolve():
            return {}
        return {"landing_root": str(self.landing_path)}

    @contextmanager
    def dbt_environment(self, extra: dict[str, str] | None = None):
        """Environment of a dbt subprocess (warehouse, plugin path, no telemetry, `extra`)."""
        python_path = [str(PROJECT_ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
        wanted = {
            ENV_WAREHOUSE: str(self.warehouse_path),
            # profiles.yml loads the dbt-duckdb plugin `observatoire.warehouse.dbt_plugin`
            "PYTHONPATH": os.pathsep.join(dict.fromkeys(python_path)),
            "DBT_PROFILES_DIR": str(PROJECT_ROOT),
            **TELEMETRY_OFF_ENV,
            **(extra or {}),
        }
        saved = {k: os.environ.get(k) for k in wanted}
        os.environ.update(wanted)
        try:
            yield
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
