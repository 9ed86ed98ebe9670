"""Command line for the synthetic respondent files: one per instrument of a wave.

    python -m observatoire.synthetic --wave 2024 [--instrument pro] [--steps N] [--seed S]

Reads `seeds/codebooks/<instrument>_<wave>.csv`, the wave's published figures
`seeds/published/published_figures_<wave>.csv` and `seeds/waves.csv`, and writes
`seeds/raw/<instrument>_<wave>__synthetic.csv`. Deterministic for a given seed.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

import pandas as pd

from observatoire import spec
from observatoire.conventions import landing_state_root
from observatoire.statistics import poll_weights
from observatoire.synthetic import generator


def wave_rows(wave: int, seeds: Path) -> dict[str, dict[str, str]]:
    return {r["survey"]: r for r in spec.read_csv_rows(seeds / "waves.csv")
            if int(r["wave_year"]) == wave}


def synthesise(wave: int, instrument: str, *, seeds: Path = spec.SEEDS, seed: int | None = None,
               steps: int = 1_000_000, out_dir: Path | None = None, log=print) -> list:
    """Generate one instrument's synthetic file; returns the targets left unmet."""
    meta = wave_rows(wave, seeds)[instrument]
    weights_fn = None
    if meta["is_weighted"].lower() == "true":
        margins = poll_weights.load_margins(instrument, seeds)

        def weights_fn(respondents):
            frame = pd.DataFrame([{k: v for k, v in r.items() if isinstance(v, str)}
                                  for r in respondents])
            result = poll_weights.weigh(frame, margins)
            log(f"  raking: {result.iterations} iterations, design effect "
                f"{result.design_effect:.3f}")
            return [float(w) for w in result.weights]

    out = (out_dir or seeds / "raw") / f"{instrument}_{wave}__synthetic.csv"
    # written beside the file, then swapped in: a failed generation leaves the previous
    # version in place (and no archive copy); dbt reads only raw/*.csv
    partial = out.with_name(f".{out.name}.partial")
    unmet = generator.generate(
        seeds / "codebooks" / f"{instrument}_{wave}.csv",
        seeds / "published" / f"published_figures_{wave}.csv",
        partial,
        seed=seed if seed is not None else wave * 10 + sum(map(ord, instrument)),
        fieldwork=(date.fromisoformat(meta["fieldwork_start"]),
                   date.fromisoformat(meta["fieldwork_end"])),
        seeds=seeds, weights_fn=weights_fn, max_steps=steps, log=log,
    )
    for target, value in unmet:
        log(f"  UNMET {target.indicator_id} {target.segment_type}={target.segment_value}: "
            f"target {target.value} [{target.low:g}, {target.high:g}], got {value:.3f}")
    same = out.exists() and out.read_bytes() == partial.read_bytes()
    previous = archive_previous(out, seeds) if out_dir is None and not same else None
    partial.replace(out)
    log(f"wrote {out}")
    if previous is not None:
        log(f"previous version archived -> {previous}")
    if out_dir is None and previous is not None:
        log(rebuild_hint(wave, instrument))
    return unmet


def archive_previous(out: Path, seeds: Path) -> Path | None:
    """Keep the file about to be replaced as `archive/<name>__v<N>.csv` in the landing's state
    root (`data/landing/` for `seeds/`), as the landing keeps earlier versions of a landed
    file: runtime state, never read by dbt, not in the tracked tree."""
    if not out.exists():
        return None
    folder = landing_state_root(seeds) / "archive"
    folder.mkdir(parents=True, exist_ok=True)
    version = 1 + len(list(folder.glob(f"{out.stem}__v*.csv")))
    target = folder / f"{out.stem}__v{version}.csv"
    target.write_bytes(out.read_bytes())
    return target


def rebuild_hint(wave: int, instrument: str) -> str:
    """What to run so that a warehouse already holding the wave reads the new file: past
    waves are immutable, a run does not recompute them unless asked to."""
    command = f".venv/bin/observatoire run --wave {wave} --rebuild"
    try:
        import duckdb

        from orchestration.resources import ObservatoireSettings

        path = ObservatoireSettings.from_env().paths.warehouse
        if not path.exists():
            return f"next: make run (no warehouse yet at {path})"
        with duckdb.connect(str(path), read_only=True) as con:
            row = con.execute("select count(*) from marts.dim_respondent where wave_year = ? "
                              "and survey = ?", [wave, instrument]).fetchone()
        held = row[0] if row else 0
        if not held:
            return "next: make run (the warehouse does not hold this wave yet)"
        return (f"next: {command}  (the warehouse holds {held} {instrument} {wave} respondents "
                "from the previous file; `make run` alone keeps them)")
    except Exception as error:
        return f"next: {command}  if the warehouse already holds the wave ({error})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wave", type=int, required=True)
    parser.add_argument("--instrument", action="append")
    parser.add_argument("--seed", type=int)
    parser.add_argument("--steps", type=int, default=1_000_000)
    parser.add_argument("--seeds-dir", type=Path, default=spec.SEEDS)
    args = parser.parse_args(argv)
    instruments = args.instrument or sorted(wave_rows(args.wave, args.seeds_dir))
    unmet = []
    for instrument in instruments:
        unmet += synthesise(args.wave, instrument, seeds=args.seeds_dir, seed=args.seed,
                            steps=args.steps)
    return 1 if unmet else 0


if __name__ == "__main__":
    sys.exit(main())
