"""Benchmark: the pipeline at scale, side by side with the practical limit of this machine.

For each size W×N (W waves of N professional-survey respondents, made by bench/scale.py
in canonical landing form, in a copy of the project under data/bench/), on the same inputs:

  (a) transform   `dbt build` of the whole project (seeds, every model up to fct_indicator and
                  beyond, tests) into a fresh warehouse. Landing is not timed: the scale
                  generator writes the files directly in canonical form;
  (b) refresh     (a) + Great Expectations (validate_wave for every wave) + publish
                  (observatoire.publish.snapshot.publish when present, else a plain copy);
  (c) reference   bench/reference.sql: ONE hand-written DuckDB script computing the same
                  fct_indicator rows straight from the raw CSV files;
  (d) pandas      bench/pandas_indicators.py: the same indicators in pandas;
  (e) +1 wave     `dbt build` after landing wave W+1 next to a warehouse holding W waves
                  (the respondent-level models and fct_indicator are incremental by wave),
                  run as the orchestrator runs the new wave's partition (environment
                  OBSERVATOIRE_TEST_WAVES: tests of models incremental by wave read that
                  wave), against building one wave alone.

Wall time is the median of the repeats; memory is the peak, over the step, of the summed RSS of
every process under this one (dbt and its threads, the step's Python process), sampled from
/proc every 50 ms. (a), (c) and (d) must give the same value and base_n (to 1e-9) for every
professional-survey indicator × segment of the catalogue, or the run fails (exit 1).

    python bench/run.py                       # smoke: 1x1000, one repeat
    python bench/run.py --full                # shipped, 1x1000, 10x10000, 10x100000
    python bench/run.py --sizes 10x10000 --repeats 3 --label mychange
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))

os.environ.setdefault("OBSERVATOIRE_PSEUDONYM_KEY", "bench-key-not-secret")

from bench import scale  # noqa: E402
from observatoire.warehouse.dbt_runner import run_dbt, test_waves_env  # noqa: E402

SMOKE_SIZES = ["1x1000"]
FULL_SIZES = ["shipped", "1x1000", "10x10000", "10x100000"]
BIG = 1_000_000  # respondents × waves from which one repeat is the default
TOLERANCE = 1e-9
PAGE = os.sysconf("SC_PAGE_SIZE")


# -- measuring --------------------------------------------------------------------------------

def _children(pid: int) -> list[int]:
    out: list[int] = []
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            out += [int(c) for c in (task / "children").read_text().split()]
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        pass
    return out


def _rss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm") as handle:
            return int(handle.read().split()[1]) * PAGE
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return 0


def tree_rss(root: int) -> int:
    """Summed RSS of every descendant of root (not root itself)."""
    total, todo = 0, _children(root)
    while todo:
        pid = todo.pop()
        total += _rss(pid)
        todo += _children(pid)
    return total


def descendants(root: int) -> list[int]:
    out, todo = [], _children(root)
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo += _children(pid)
    return out


class Sampler(threading.Thread):
    """Peak summed RSS of this process's descendants, sampled every `interval` seconds. Above
    `guard` bytes the descendants (processes this benchmark started) are killed: the machine
    is shared, and a build that needs more is a finding, not a reason to swap everyone out."""

    guard: int | None = None

    def __init__(self, interval: float = 0.05):
        super().__init__(daemon=True)
        self.interval = interval
        self.peak = 0
        self.killed = False
        self._halt = threading.Event()

    def run(self) -> None:
        me = os.getpid()
        while not self._halt.is_set():
            self.peak = max(self.peak, tree_rss(me))
            if self.guard and self.peak > self.guard and not self.killed:
                self.killed = True
                for pid in descendants(me):
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
            self._halt.wait(self.interval)

    def stop(self) -> int:
        self._halt.set()
        self.join()
        return self.peak


@dataclass
class Run:
    seconds: float
    peak_bytes: int
    output: str = ""


class GuardKilledError(RuntimeError):
    """A step went over the memory guard and was killed."""


def measure(fn) -> Run:
    """Wall time and peak child-tree RSS of fn() (which runs child processes)."""
    sampler = Sampler()
    sampler.start()
    started = time.perf_counter()
    try:
        output = fn()
    except Exception as error:
        seconds = time.perf_counter() - started
        peak = sampler.stop()
        if sampler.killed:
            raise GuardKilledError(f"killed after {seconds:.0f} s at {peak / 2**30:.1f} GiB "
                              f"(memory guard {Sampler.guard / 2**30:.0f} GiB)") from error
        raise
    seconds = time.perf_counter() - started
    peak = sampler.stop()
    return Run(seconds, peak, output if isinstance(output, str) else "")


def failure(error: Exception) -> str:
    """One line saying why a step failed (the memory guard, or dbt's first error line)."""
    if isinstance(error, GuardKilledError):
        return str(error)
    lines = [line.strip() for line in str(error).splitlines()]
    detail = next((line for line in lines if "Error:" in line and "Runtime Error" not in line),
                  lines[0] if lines else "failed")
    model = next((line.split("Runtime Error in model ")[1].split(" ")[0] for line in lines
                  if "Runtime Error in model " in line), "")
    return f"{model + ': ' if model else ''}{detail}"[:300]


def python_step(args: list[str]) -> str:
    result = subprocess.run([sys.executable, *args], cwd=ROOT, text=True, capture_output=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(args[:2])} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def summary(runs: list[Run]) -> dict:
    return {"median_seconds": statistics.median(r.seconds for r in runs),
            "seconds": [round(r.seconds, 3) for r in runs],
            "peak_rss_bytes": max(r.peak_bytes for r in runs)}


# -- the project copies -------------------------------------------------------------------------

@dataclass
class Size:
    label: str
    waves: int
    respondents: int  # per wave (shipped: the shipped files)

    @property
    def shipped(self) -> bool:
        return self.label == "shipped"

    @property
    def total(self) -> int:
        return self.waves * self.respondents


def parse_size(text: str) -> Size:
    if text == "shipped":
        return Size("shipped", 1, 794)
    waves, respondents = text.lower().split("x")
    return Size(text, int(waves), int(respondents))


def dbt_build(project: Path, env: dict[str, str] | None = None) -> str:
    return run_dbt(["build", "--quiet"], warehouse=project / "warehouse.duckdb",
                   project_dir=project, env=env, capture=True).stdout


def prepare(project: Path, log) -> None:
    """dbt parsed once, untimed (the pipeline parses before it builds, and later builds reuse
    dbt's partial parse), and the GX project folder created once as on a first run."""
    started = time.perf_counter()
    run_dbt(["parse", "--quiet"], warehouse=project / "warehouse.duckdb", project_dir=project,
            capture=True)
    log(f"  dbt parse (untimed warm-up) {time.perf_counter() - started:.1f} s")
    from observatoire.quality.gx_runner import get_context

    get_context(project)


def model_timings(project: Path, top: int = 12) -> dict:
    """Per-node execution times of the last dbt invocation (target/run_results.json)."""
    path = project / "target" / "run_results.json"
    if not path.exists():
        return {}
    results = json.loads(path.read_text())["results"]
    by_kind: dict[str, float] = {}
    for r in results:
        kind = r["unique_id"].split(".")[0]
        by_kind[kind] = by_kind.get(kind, 0.0) + r["execution_time"]
    slowest = sorted(results, key=lambda r: -r["execution_time"])[:top]
    return {"by_kind": {k: round(v, 2) for k, v in by_kind.items()},
            "slowest": [[r["unique_id"].split(".", 2)[-1], round(r["execution_time"], 2)]
                        for r in slowest],
            "models": {r["unique_id"].split(".")[-1]: round(r["execution_time"], 3)
                       for r in results if r["unique_id"].startswith("model.")},
            "tests": {r["unique_id"].split(".", 2)[-1]: round(r["execution_time"], 3)
                      for r in results if r["unique_id"].split(".")[0] in ("test", "unit_test")}}


# -- equality ---------------------------------------------------------------------------------

def compare(warehouse: Path, results: dict[str, Path]) -> dict:
    """Every professional-survey fct_indicator row against each other implementation: same
    keys, same base_n, values within TOLERANCE (both null when suppressed)."""
    import duckdb

    con = duckdb.connect()
    con.execute(f"attach '{warehouse}' as wh (read_only)")
    dbt_rows = con.execute("select count(*) from wh.marts.fct_indicator where survey = 'pro'"
                           ).fetchone()[0]
    out = {"dbt_rows": dbt_rows, "tolerance": TOLERANCE, "checked": True}
    for name, path in results.items():
        mismatches = con.execute(f"""
            select coalesce(d.wave_year, o.wave_year),
                coalesce(d.indicator_id, o.indicator_id),
                coalesce(d.segment_type, o.segment_type),
                coalesce(d.segment_value, o.segment_value),
                d.value, o.value, d.base_n, o.base_n
            from (select * from wh.marts.fct_indicator where survey = 'pro') as d
            full join read_parquet('{path}') as o
                using (wave_year, survey, indicator_id, segment_type, segment_value)
            where d.base_n is distinct from o.base_n
                or (d.value is null) <> (o.value is null)
                or abs(d.value - o.value) > {TOLERANCE}
            limit 20""").fetchall()
        rows, max_diff = con.execute(f"""
            select count(*), max(abs(d.value - o.value))
            from (select * from wh.marts.fct_indicator where survey = 'pro') as d
            inner join read_parquet('{path}') as o
                using (wave_year, survey, indicator_id, segment_type, segment_value)""").fetchone()
        out[name] = {"rows": rows, "max_abs_diff": max_diff or 0.0, "mismatches": len(mismatches),
                     "examples": [list(map(str, m)) for m in mismatches[:5]]}
    con.close()
    out["equal"] = all(out[n]["mismatches"] == 0 and out[n]["rows"] == dbt_rows for n in results)
    return out


def wave_rows(warehouse: Path) -> dict[int, int]:
    import duckdb

    with duckdb.connect(str(warehouse), read_only=True) as con:
        return dict(con.execute("select wave_year, count(*) from marts.fct_indicator "
                                "group by 1 order by 1").fetchall())


# -- one size -----------------------------------------------------------------------------------

def make_size_project(size: Size, project: Path, log) -> tuple[list[int], dict]:
    """The project copy of one size with its landed files; (its waves, what it cost)."""
    started = time.perf_counter()
    if size.shipped:
        scale.copy_project(project, keep_raw=True)
        waves = [2024]
    else:
        scale.make_project(project, size.waves, size.respondents, log=lambda *_: None)
        waves = scale.wave_years(size.waves)
    generated = time.perf_counter() - started
    raw_bytes = sum(p.stat().st_size for p in (project / "seeds" / "raw").glob("*.csv"))
    log(f"  landing written in {generated:.1f} s ({raw_bytes / 1e6:.1f} MB of CSV)")
    return waves, {"generator_seconds": round(generated, 2), "raw_bytes": raw_bytes}


def bench_refresh(project: Path, waves: list[int], repeats: int, log) -> tuple[dict, list[Run]]:
    """(a) dbt build into a fresh warehouse and (b) the same + GX + publish, `repeats` times:
    ({a, b, tail} or the failure, the (a) runs)."""
    warehouse, published = project / "warehouse.duckdb", project / "published"
    a_runs, tail_runs, tails = [], [], []
    try:
        for i in range(repeats):
            warehouse.unlink(missing_ok=True)
            a_runs.append(measure(lambda: dbt_build(project)))
            with contextlib.suppress(FileNotFoundError):  # kept for per-node profiles (--keep)
                shutil.copy2(project / "target" / "run_results.json",
                             project / "target" / "run_results_a.json")
            log(f"  (a) dbt build #{i + 1}: {a_runs[-1].seconds:.1f} s, "
                f"{a_runs[-1].peak_bytes / 2**20:.0f} MiB")
            tail_runs.append(measure(lambda: python_step(
                [str(BENCH / "steps.py"), "tail", "--warehouse", str(warehouse), "--project",
                 str(project), "--published", str(published), "--waves", *map(str, waves)])))
            tails.append(json.loads(tail_runs[-1].output.strip().splitlines()[-1]))
            log(f"      GX + publish #{i + 1}: {tail_runs[-1].seconds:.1f} s "
                f"(GX {tails[-1]['validate_seconds']:.1f} s, publish "
                f"{tails[-1]['publish_seconds']:.1f} s)")
    except (GuardKilledError, RuntimeError) as error:
        reason = failure(error)
        log(f"  (a) dbt build FAILED: {reason}")
        return {"a": {"failed": reason}, "b": {"failed": reason}}, a_runs
    return {
        "a": summary(a_runs),
        "b": summary([Run(a.seconds + t.seconds, max(a.peak_bytes, t.peak_bytes))
                      for a, t in zip(a_runs, tail_runs, strict=True)]),
        "tail": {
            "validate_seconds": statistics.median(t["validate_seconds"] for t in tails),
            "publish_seconds": statistics.median(t["publish_seconds"] for t in tails),
            "tail_seconds": statistics.median(r.seconds for r in tail_runs),
            "peak_rss_bytes": max(r.peak_bytes for r in tail_runs),
            "publish_method": tails[-1]["publish_method"],
            "waves_valid": all(w["success"] for w in tails[-1]["waves"].values()),
            "quarantined": sum(w["quarantined"] for w in tails[-1]["waves"].values()),
            "wave_seconds": {k: w.get("seconds") for k, w in tails[-1]["waves"].items()}},
    }, a_runs


def bench_others(project: Path, repeats: int, log) -> dict:
    """(c) the reference SQL and (d) pandas on the same raw files (results as Parquet beside
    the project: reference.parquet, pandas.parquet)."""
    ref_out, pd_out = project / "reference.parquet", project / "pandas.parquet"
    c_runs = [measure(lambda: python_step([str(BENCH / "steps.py"), "reference", "--landing",
                                           str(project / "seeds"), "--out", str(ref_out)]))
              for _ in range(repeats)]
    log(f"  (c) reference SQL: {statistics.median(r.seconds for r in c_runs):.2f} s, "
        f"{max(r.peak_bytes for r in c_runs) / 2**20:.0f} MiB")
    d_runs = [measure(lambda: python_step([str(BENCH / "pandas_indicators.py"), "--landing",
                                           str(project / "seeds"), "--out", str(pd_out)]))
              for _ in range(repeats)]
    log(f"  (d) pandas: {statistics.median(r.seconds for r in d_runs):.2f} s, "
        f"{max(r.peak_bytes for r in d_runs) / 2**20:.0f} MiB")
    return {"c": summary(c_runs), "d": summary(d_runs)}


def ratios(result: dict) -> dict[str, float]:
    """a/c, b/c, d/c and e/one_wave, where both sides were measured."""
    def seconds(key: str) -> float | None:
        return result.get(key, {}).get("median_seconds")

    c = seconds("c")
    found = {"a/c": seconds("a") and seconds("a") / c, "b/c": seconds("b") and seconds("b") / c,
             "d/c": seconds("d") / c,
             "e/one_wave": seconds("e") and seconds("one_wave") and
             seconds("e") / seconds("one_wave")}
    return {k: round(v, 2) for k, v in found.items() if v}


def bench_size(size: Size, root: Path, repeats: int, label: str, log,
               increment: bool = True) -> dict:
    """Every measure of one size (module docstring), in a project copy under root."""
    project = root / size.label
    log(f"\n== {size.label}: {size.waves} wave(s) × {size.respondents:,} respondents")
    waves, generated = make_size_project(size, project, log)
    prepare(project, log)
    result: dict = {
        "size": size.label, "variant": label, "waves": size.waves,
        "respondents_per_wave": size.respondents, "respondents_total": size.total,
        "repeats": repeats, **generated,
    }
    refresh, a_runs = bench_refresh(project, waves, repeats, log)
    result.update(refresh)
    result["a_models"] = model_timings(project)
    result.update(bench_others(project, repeats, log))
    if "failed" in result["a"]:
        result["equality"] = {"checked": False, "equal": None}
        return result
    warehouse = project / "warehouse.duckdb"
    equality = compare(warehouse, {"reference_sql": project / "reference.parquet",
                                   "pandas": project / "pandas.parquet"})
    result["equality"] = equality
    log(f"  equality on {equality['dbt_rows']} pro indicator rows: "
        f"{'OK' if equality['equal'] else 'MISMATCH'} (max |diff| reference "
        f"{equality['reference_sql']['max_abs_diff']:.1e}, pandas "
        f"{equality['pandas']['max_abs_diff']:.1e})")
    if increment and not size.shipped:  # (e) one more wave on top of W, against one wave alone
        try:
            result.update(bench_increment(size, project, waves, repeats, a_runs, log))
        except (GuardKilledError, RuntimeError) as error:
            reason = failure(error)
            log(f"  (e) FAILED: {reason}")
            result["e"] = {"failed": reason}
    result["ratios"] = ratios(result)
    log("  ratios: " + ", ".join(f"{k} = {v:.2f}" for k, v in result["ratios"].items()))
    return result


def bench_increment(size: Size, project: Path, waves: list[int], repeats: int,
                    a_runs: list[Run], log) -> dict:
    warehouse = project / "warehouse.duckdb"
    kept = project / "warehouse_w.duckdb"
    shutil.copy2(warehouse, kept)
    before = wave_rows(kept)
    extra_year = waves[-1] + 1
    spare = project / "spare"
    new_file = scale.write_wave(spare, extra_year, size.respondents)
    landed = project / "seeds" / "raw" / new_file.name
    shutil.copy2(spare / "codebooks" / f"pro_{extra_year}.csv",
                 project / "seeds" / "codebooks" / f"pro_{extra_year}.csv")
    scale.add_wave_row(project / "seeds", extra_year)
    e_runs = []
    for i in range(repeats):
        shutil.copy2(kept, warehouse)
        shutil.copy2(new_file, landed)
        try:
            # as the orchestrator runs the new wave's partition: its tests read that wave
            e_runs.append(measure(lambda: dbt_build(project, test_waves_env([extra_year]))))
        finally:
            landed.unlink()
        log(f"  (e) +1 wave on {size.waves} #{i + 1}: {e_runs[-1].seconds:.1f} s")
    after = wave_rows(warehouse)
    e_models = model_timings(project)
    if not after.get(extra_year) or any(after.get(w) != n for w, n in before.items()):
        raise RuntimeError(f"incremental build: rows per wave {before} -> {after}")

    if size.waves == 1:
        one_runs = a_runs
    else:  # one wave of the same size built alone, in its own copy
        one = project.parent / f"{project.name}-one-wave"
        scale.copy_project(one)
        shutil.copy2(project / "seeds" / "waves.csv", one / "seeds" / "waves.csv")
        first = sorted((project / "seeds" / "raw").glob("*.csv"))[0]
        shutil.copy2(first, one / "seeds" / "raw" / first.name)
        shutil.copy2(project / "seeds" / "codebooks" / f"pro_{waves[0]}.csv",
                     one / "seeds" / "codebooks" / f"pro_{waves[0]}.csv")
        run_dbt(["parse", "--quiet"], warehouse=one / "warehouse.duckdb", project_dir=one,
                capture=True)
        one_runs = []
        for i in range(repeats):
            (one / "warehouse.duckdb").unlink(missing_ok=True)
            one_runs.append(measure(lambda: dbt_build(one)))
            log(f"  one wave alone #{i + 1}: {one_runs[-1].seconds:.1f} s")
        shutil.rmtree(one, ignore_errors=True)
    return {"e": summary(e_runs), "one_wave": summary(one_runs), "e_models": e_models,
            "e_rows_per_wave": {str(k): v for k, v in after.items()}}


# -- report -------------------------------------------------------------------------------------

def machine() -> dict:
    cpu = next((line.split(":", 1)[1].strip()
                for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    mem = next(int(line.split()[1]) * 1024
               for line in Path("/proc/meminfo").read_text().splitlines()
               if line.startswith("MemTotal"))
    versions = {}
    for package in ("duckdb", "dbt-core", "dbt-duckdb", "pandas", "numpy", "pyarrow",
                    "great_expectations"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    versions["python"] = platform.python_version()
    return {"nproc": os.cpu_count(), "ram_bytes": mem, "cpu": cpu, "kernel": platform.release(),
            "date": dt.datetime.now().isoformat(timespec="seconds"), "versions": versions,
            "loadavg_start": os.getloadavg()}


def _cell(step: dict | None, digits: int = 1) -> str:
    if not step:
        return "—"
    if "failed" in step:
        return "killed (memory guard)" if "memory guard" in step["failed"] else "failed"
    return f"{step['median_seconds']:.{digits}f} s"


def table(results: list[dict]) -> str:
    head = ("| size | models | respondents | (a) dbt build | (b) refresh | (c) reference SQL | "
            "(d) pandas | (e) +1 wave | one wave | a/c | b/c | d/c | e/one | peak RSS a / b | "
            "equal |\n|" + "---|" * 15)
    lines = [head]
    for r in results:
        ratios = r.get("ratios", {})
        peaks = " / ".join(f"{r[k]['peak_rss_bytes'] / 2**30:.2f}" if "peak_rss_bytes" in r[k]
                           else "—" for k in ("a", "b"))
        equal = {True: "yes", False: "NO", None: "—"}[r["equality"].get("equal")]
        lines.append(
            f"| {r['size']} | {r['variant']} | {r['respondents_total']:,} "
            f"| {_cell(r.get('a'))} | {_cell(r.get('b'))} | {_cell(r.get('c'), 2)} "
            f"| {_cell(r.get('d'), 2)} | {_cell(r.get('e'))} | {_cell(r.get('one_wave'))} "
            + "".join(f"| {ratios[k]:.2f} " if k in ratios else "| — "
                      for k in ("a/c", "b/c", "d/c", "e/one_wave"))
            + f"| {peaks} GiB | {equal} |")
    return "\n".join(lines)


def model_table(results: list[dict], size: str, top: int = 14) -> str:
    """Seconds per model (dbt run_results.json of the last (a) build) for one size, across
    model variants: where the build time goes, and what each variant changed."""
    rows = {r["variant"]: r.get("a_models", {}).get("models", {}) for r in results
            if r["size"] == size}
    variants = [v for v in rows if rows[v]]
    if not variants:
        return ""
    names = sorted({m for v in variants for m in rows[v]},
                   key=lambda m: -max(rows[v].get(m, 0) for v in variants))[:top]
    lines = ["| model | " + " | ".join(variants) + " |", "|---|" + "---:|" * len(variants)]
    for name in names:
        lines.append(f"| {name} | " + " | ".join(
            f"{rows[v][name]:.1f}" if name in rows[v] else "—" for v in variants) + " |")
    kinds = {v: next((r.get("a_models", {}).get("by_kind", {}) for r in results
                      if r["size"] == size and r["variant"] == v), {}) for v in variants}
    for kind in ("model", "test", "unit_test", "seed"):
        lines.append(f"| *all {kind}s (sum)* | " + " | ".join(
            f"{kinds[v].get(kind, 0):.1f}" for v in variants) + " |")
    return "\n".join(lines)


def plot(results: list[dict], path: Path) -> None:
    """Time against respondents × waves: (a) and (b) for the first and the newest model
    variants, (c) and (d) from the newest measurement (same code whatever the models), and the
    targets 1.5 × (c) for (a) and 3 × (c) for (b)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scaled = [r for r in results if r["size"] != "shipped"]
    fig, ax = plt.subplots(figsize=(6.4, 4.4), dpi=90)
    variants = list(dict.fromkeys(r["variant"] for r in scaled))
    shown = list(dict.fromkeys([variants[0], variants[-1]])) if variants else []

    def points(variant: str, key: str, factor: float = 1.0) -> list[tuple[int, float]]:
        rows = sorted((r for r in scaled if r["variant"] == variant),
                      key=lambda r: r["respondents_total"])
        return [(r["respondents_total"], factor * r[key]["median_seconds"]) for r in rows
                if "median_seconds" in r.get(key, {})]

    def draw(found, fmt, label, **style):
        if found:
            ax.plot(*zip(*found, strict=True), fmt, label=label, **style)

    for variant in shown:
        faded = {"alpha": 0.45} if variant != variants[-1] else {}
        draw(points(variant, "a"), "o-", f"(a) dbt build — {variant} models", **faded)
        draw(points(variant, "b"), "s--", f"(b) whole refresh — {variant} models", **faded)
    if variants:
        newest = variants[-1]
        draw(points(newest, "c"), "^-", "(c) reference SQL")
        draw(points(newest, "d"), "v-", "(d) pandas")
        draw(points(newest, "c", 1.5), ":", "target for (a): 1.5 × (c)", color="grey")
        draw(points(newest, "c", 3.0), "-.", "target for (b): 3 × (c)", color="grey")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("respondents × waves")
    ax.set_ylabel("wall time (s, median)")
    ax.set_title("Benchmark (2 cores, 24 GiB)", fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


def write_results(path: Path, results) -> None:
    """A benchmark's results as JSON at `path` (its folder made if needed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=1, default=str))


def markdown_table(header: list[str], rows: list[list[str]], left: int = 0) -> str:
    """A Markdown table of ready-made cells: the first `left` columns aligned left, the others
    right (numbers)."""
    lines = ["| " + " | ".join(header) + " |",
             "|" + "".join("---|" if i < left else "---:|" for i in range(len(header)))]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def save(out: Path, results: list[dict]) -> list[dict]:
    """Results merged into the results file (same size and variant replaced)."""
    previous = json.loads(out.read_text()) if out.exists() else []
    done = {(r["size"], r["variant"]) for r in results}
    merged = [r for r in previous if (r["size"], r["variant"]) not in done] + results
    write_results(out, merged)
    return merged


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", help="comma-separated WxN (e.g. 1x1000,10x10000) or 'shipped'")
    parser.add_argument("--full", action="store_true", help=f"sizes {','.join(FULL_SIZES)}")
    parser.add_argument("--repeats", type=int,
                        help="runs per measure (default 3, 1 from 1,000,000 respondents × waves)")
    parser.add_argument("--label", default="current",
                        help="name of these results in the results file (default 'current'; "
                        "to keep a before/after side by side)")
    parser.add_argument("--memory-guard-gib", type=float, default=12.0,
                        help="kill a step whose process tree exceeds this RSS (0: no guard)")
    parser.add_argument("--root", type=Path, default=ROOT / "data" / "bench")
    parser.add_argument("--json", type=Path, help="results file (default <root>/results.json; "
                        "entries of the same size and variant are replaced)")
    parser.add_argument("--plot", type=Path, help="PNG of time against respondents × waves")
    parser.add_argument("--keep", action="store_true", help="keep the project copies")
    parser.add_argument("--skip-increment", action="store_true",
                        help="leave out (e) +1 wave and the one-wave build (a, b, c, d only)")
    parser.add_argument("--report", action="store_true",
                        help="only print the tables (and --plot) of the results file")
    args = parser.parse_args(argv)
    if args.report:
        results = json.loads((args.json or args.root / "results.json").read_text())
        print(table(results))
        for size in dict.fromkeys(r["size"] for r in results):
            print(f"\nseconds per dbt node, {size}:\n" + model_table(results, size))
        if args.plot:
            plot(results, args.plot)
        return 0

    sizes = [parse_size(s) for s in (args.sizes.split(",") if args.sizes
                                     else FULL_SIZES if args.full else SMOKE_SIZES)]
    Sampler.guard = int(args.memory_guard_gib * 2**30) or None
    out = args.json or args.root / "results.json"
    args.root.mkdir(parents=True, exist_ok=True)
    log = lambda text: print(text, flush=True)  # noqa: E731
    info = machine()
    log(f"machine: {info['nproc']} cores, {info['ram_bytes'] / 2**30:.0f} GiB, {info['cpu']}; "
        f"load average {info['loadavg_start'][0]:.2f}")

    results, failed = [], []
    for size in sizes:
        repeats = args.repeats or (1 if size.total >= BIG else 3)
        result = bench_size(size, args.root, repeats, args.label, log,
                            increment=not args.skip_increment)
        result["machine"] = info | {"loadavg_end": os.getloadavg()}
        results.append(result)
        if result["equality"].get("equal") is False:
            failed.append(size.label)
            log(json.dumps(result["equality"], indent=1))
        if not args.keep:
            shutil.rmtree(args.root / size.label, ignore_errors=True)
        merged = save(out, results)  # after every size: a long run keeps what it measured
    log("\n" + table(results))
    log(f"\nresults: {out}")
    if args.full and not args.plot:
        args.plot = args.root / "benchmark.png"
    if args.plot:
        plot(merged, args.plot)
        log(f"plot: {args.plot}")
    if failed:
        log(f"\nFAILED: (a), (c) and (d) differ for {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
