"""Settings of a refresh as a typed resource: where files land, where the warehouse is built,
where the snapshot and the auditor's report are published.

Defaults come from the environment (so the CLI, `dagster dev` and tests agree) and fall back to
the project's `seeds/` and `data/` folders. Relative paths are relative to the project root.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg

from observatoire import conventions
from observatoire.conventions import PROJECT_ROOT, TELEMETRY_OFF_ENV

ENV_WAREHOUSE = conventions.ENV_WAREHOUSE
ENV_LANDING = conventions.ENV_LANDING_ROOT
ENV_PUBLISHED = conventions.ENV_PUBLISHED_DIR
ENV_REPORT = conventions.ENV_REPORT_DIR
ENV_SITE = conventions.ENV_SITE_DIR


@dataclass(frozen=True)
class RefreshPaths:
    """Where a refresh reads and writes (ObservatoireSettings.paths)."""

    root: Path  # the project root, and the Great Expectations project's
    landing: Path  # landed files: raw/, codebooks/, published/
    warehouse: Path  # the DuckDB file dbt writes
    published: Path  # the published snapshot for BI
    report: Path  # the auditor's report
    site: Path  # the barometer site

    @property
    def dbt_runs(self) -> Path:
        """Per-run dbt target folders, beside the warehouse (never shared with another build)."""
        return self.warehouse.parent / "dbt_runs"


class ObservatoireSettings(dg.ConfigurableResource):
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

    @property
    def paths(self) -> RefreshPaths:
        """Every path of the refresh, absolute: relative settings are under `project_root`."""
        root = Path(self.project_root)

        def resolve(value: str) -> Path:
            return root / value if not Path(value).is_absolute() else Path(value)

        return RefreshPaths(root=root, landing=resolve(self.landing_root),
                            warehouse=resolve(self.warehouse),
                            published=resolve(self.published_dir),
                            report=resolve(self.report_dir), site=resolve(self.site_dir))

    def dbt_vars(self) -> dict:
        """dbt --vars for this refresh (only what differs from dbt_project.yml)."""
        if self.paths.landing.resolve() == (PROJECT_ROOT / "seeds").resolve():
            return {}
        return {"landing_root": str(self.paths.landing)}

    @contextmanager
    def dbt_environment(self, extra: dict[str, str] | None = None):
        """Environment of a dbt subprocess (warehouse, plugin path, no telemetry, `extra`)."""
        python_path = [str(PROJECT_ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
        wanted = {
            ENV_WAREHOUSE: str(self.paths.warehouse),
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
