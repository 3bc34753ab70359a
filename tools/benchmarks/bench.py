"""Time to a first posterior, for every model the book fits, on every sampler backend.

Each measurement runs in a fresh Python process (``python tools/benchmarks/bench.py worker ...``):

- **cold**: an empty compile cache (a new PyTensor ``base_compiledir``, Numba and JAX caches in
  a new temporary folder), as on a fresh laptop or CI machine;
- **warm**: the compile cache filled by the first cold run of the same model and backend,
  as when a reader runs a chapter the second time.

Recorded per run: import time (PyMC, Bambi, the book's helpers), time to posterior (from
building the model to the returned DataTree: compilation, tuning, sampling, post-processing),
sampling time alone (as the sampler reports it), minimum bulk and tail ESS, bulk ESS per second
of sampling, divergences and the largest r_hat. The driver repeats each cell, writes every run to
``results/runs.csv``, and the minimum and median per model, backend and cache state to
``results/summary.csv`` and ``results/summary.md`` (with the machine's cores and versions).

Usage::

    python tools/benchmarks/bench.py                        # everything (about an hour on 2 cores)
    python tools/benchmarks/bench.py --models season_baseline --backends pymc-cvm --reps 1
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RESULTS = Path(__file__).resolve().parent / "results"

#: Backend -> (pm.sample's nuts_sampler, PyTensor linker). "auto" is PyTensor's default (Numba).
BACKENDS: dict[str, tuple[str, str]] = {
    "pymc-default": ("pymc", "auto"),
    "pymc-cvm": ("pymc", "cvm"),
    "nutpie": ("nutpie", "auto"),
    "numpyro": ("numpyro", "auto"),
}

#: The backend that runs the book's own setup, for each sampler ``helpers.sampling.SAMPLER`` may
#: name: PyMC's sampler runs with the book's linker (cvm); NumPyro and nutpie compile the model
#: themselves.
BOOK_BACKENDS: dict[str, str] = {"numpyro": "numpyro", "pymc": "pymc-cvm", "nutpie": "nutpie"}

METRICS = [
    "import_s",
    "time_to_posterior_s",
    "sampling_s",
    "min_ess_bulk",
    "min_ess_tail",
    "ess_bulk_per_s",
    "divergences",
    "max_r_hat",
]


def book_backend() -> str:
    """The backend the book samples with: the one of :data:`BOOK_BACKENDS` for
    ``helpers.sampling.SAMPLER`` (imported here, not at the top: a worker times its imports).

    Example
    -------
    >>> book_backend() in BACKENDS
    True
    """
    from helpers.sampling import SAMPLER

    return BOOK_BACKENDS[SAMPLER]


def cache_env(cache_dir: Path, linker: str) -> dict[str, str]:
    """Environment for a worker whose compile caches all live under ``cache_dir``.

    Example
    -------
    >>> cache_env(Path("/tmp/c"), "cvm")["PYTENSOR_FLAGS"]
    'base_compiledir=/tmp/c/pytensor,linker=cvm'
    """
    env = dict(os.environ)
    env["PYTENSOR_FLAGS"] = f"base_compiledir={cache_dir / 'pytensor'},linker={linker}"
    env["NUMBA_CACHE_DIR"] = str(cache_dir / "numba")
    env["JAX_COMPILATION_CACHE_DIR"] = str(cache_dir / "jax")
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


def worker(model: str, backend: str) -> dict:
    """Fit one model once in this process and return the measurements (run by the driver)."""
    start = time.perf_counter()
    import numpy as np

    import helpers
    from helpers.diagnostics import count_divergences, summarize
    from tools.benchmarks.models import MODELS

    import_s = time.perf_counter() - start
    helpers.configure()  # as every chapter's setup cell; the linker in PYTENSOR_FLAGS still wins

    nuts_sampler = BACKENDS[backend][0]
    spec = MODELS[model]()
    start = time.perf_counter()
    idata = spec.fit(sampler=nuts_sampler)
    time_to_posterior = time.perf_counter() - start

    summary = summarize(idata, spec.var_names)
    summary = summary[summary["sd"] > 0]  # constant entries (a correlation's diagonal) have no ESS
    sampling_s = float(idata.posterior.attrs.get("sampling_time", np.nan))
    min_ess_bulk = float(summary["ess_bulk"].min())
    return {
        "import_s": import_s,
        "time_to_posterior_s": time_to_posterior,
        "sampling_s": sampling_s,
        "min_ess_bulk": min_ess_bulk,
        "min_ess_tail": float(summary["ess_tail"].min()),
        "ess_bulk_per_s": min_ess_bulk / sampling_s if sampling_s > 0 else np.nan,
        "divergences": count_divergences(idata),
        "max_r_hat": float(summary["r_hat"].max()),
    }


def run_worker(model: str, backend: str, cache_dir: Path, timeout: float = 900) -> dict:
    """Run :func:`worker` in a fresh process with its caches in ``cache_dir``."""
    linker = BACKENDS[backend][1]
    proc = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "worker", model, backend],
        env=cache_env(cache_dir, linker),
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
    )
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.strip().splitlines()[-15:])
        raise RuntimeError(f"{model} on {backend} failed:\n{tail}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def available(backend: str) -> bool:
    """Whether the packages a backend needs are installed."""
    from importlib.util import find_spec

    needs = {"nutpie": ["nutpie"], "numpyro": ["numpyro", "jax"]}.get(backend, [])
    return all(find_spec(name) is not None for name in needs)


def machine(packages: tuple[str, ...] = ()) -> dict[str, str]:
    """Cores, CPU, Python and the versions that matter (and of ``packages``), for the results'
    header."""
    from importlib.metadata import PackageNotFoundError, version

    info = {
        "cores": str(os.cpu_count()),
        "cpu": platform.processor() or platform.machine(),
        "python": platform.python_version(),
    }
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    for package in [
        "pymc",
        "pytensor",
        "bambi",
        "arviz",
        "nutpie",
        "numba",
        "numpyro",
        "jax",
        *packages,
    ]:
        try:
            info[package] = version(package)
        except PackageNotFoundError:
            info[package] = "not installed"
    return info


def summarize(runs):
    """Minimum and median of every metric per model, backend and cache state."""
    import pandas as pd

    grouped = runs.groupby(["model", "backend", "cache"], sort=False)[METRICS]
    summary = pd.concat({"min": grouped.min(), "median": grouped.median()}, axis=1)
    summary.columns = [f"{metric}_{stat}" for stat, metric in summary.columns]
    summary.insert(0, "runs", grouped.size())
    return summary.reset_index()


def markdown_table(summary, info: dict[str, str], reps: int) -> str:
    """The summary as the markdown table the book's appendix shows."""
    runs = summary.groupby("model", sort=False)["runs"].min()
    fewer = "".join(f" ({model}: {n})" for model, n in runs.items() if n < reps)
    elsewhere = "".join(
        f" {key.removeprefix('cpu_')} was measured on another machine ({cpu})."
        for key, cpu in info.items()
        if key.startswith("cpu_")
    )
    lines = [
        f"Machine: {info['cores']} cores ({info['cpu']}), Python {info['python']}; "
        + ", ".join(
            f"{k} {v}"
            for k, v in info.items()
            if k not in ("cores", "python") and not k.startswith("cpu")
        )
        + f". {reps} runs per cell{fewer}, each in a fresh process; minimum (median) in seconds."
        + elsewhere,
        "",
        "| model | backend | cold: to posterior | warm: to posterior | warm: sampling "
        "| min bulk ESS | bulk ESS/s | divergences |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for (model, backend), rows in summary.groupby(["model", "backend"], sort=False):
        by_cache = rows.set_index("cache")

        def cell(cache: str, metric: str, digits: int = 1, by_cache=by_cache) -> str:
            if cache not in by_cache.index:
                return "-"
            row = by_cache.loc[cache]
            return f"{row[f'{metric}_min']:.{digits}f} ({row[f'{metric}_median']:.{digits}f})"

        warm = by_cache.loc["warm"] if "warm" in by_cache.index else by_cache.iloc[0]
        lines.append(
            f"| {model} | {backend} | {cell('cold', 'time_to_posterior_s')} "
            f"| {cell('warm', 'time_to_posterior_s')} | {cell('warm', 'sampling_s')} "
            f"| {warm['min_ess_bulk_median']:.0f} | {warm['ess_bulk_per_s_median']:.0f} "
            f"| {warm['divergences_median']:.0f} |"
        )
    return "\n".join(lines) + "\n"


def drive(
    models: list[str], backends: list[str], reps: int, out: Path, append: bool = False
) -> None:
    """Run every cell ``reps`` times cold and warm; write runs.csv, summary.csv, summary.md.

    With ``append``, runs already in ``out/runs.csv`` for other models or backends are kept; if
    this machine's CPU is not the record's, ``machine.json`` keeps the record's and names this one
    as ``cpu_<model>`` for each model measured here.
    """
    import pandas as pd

    out.mkdir(parents=True, exist_ok=True)
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        for backend in backends:
            if not available(backend):
                print(f"skip {backend}: not installed", flush=True)
                continue
            for model in models:
                # The first cold run fills the cache every warm run then reuses.
                warm_dir = Path(tmp) / f"warm-{backend}-{model}"
                for rep in range(reps):
                    cold_dir = warm_dir if rep == 0 else Path(tmp) / f"cold-{backend}-{model}-{rep}"
                    for cache, cache_dir in [("cold", cold_dir), ("warm", warm_dir)]:
                        result = run_worker(model, backend, cache_dir)
                        rows.append(
                            {
                                "model": model,
                                "backend": backend,
                                "cache": cache,
                                "rep": rep,
                                **result,
                            }
                        )
                        print(
                            f"{model:24s} {backend:13s} {cache} rep {rep}: "
                            f"{result['time_to_posterior_s']:6.1f} s to posterior, "
                            f"sampling {result['sampling_s']:5.1f} s, "
                            f"min bulk ESS {result['min_ess_bulk']:.0f}",
                            flush=True,
                        )
                    if cold_dir != warm_dir:
                        shutil.rmtree(cold_dir, ignore_errors=True)
    runs = pd.DataFrame(rows)
    if append and (out / "runs.csv").exists():
        old = pd.read_csv(out / "runs.csv")
        redone = old.set_index(["model", "backend"]).index.isin(
            runs.set_index(["model", "backend"]).index
        )
        runs = pd.concat([old[~redone], runs], ignore_index=True)
        reps = int(runs.groupby(["model", "backend", "cache"]).size().max())
    from tools.benchmarks.models import MODELS

    rank = {name: i for i, name in enumerate(MODELS)}
    runs = runs.sort_values("model", key=lambda m: m.map(rank), kind="stable")
    info = machine()
    if append and (out / "machine.json").exists():
        # Appended runs from another CPU: keep the record's machine, name the other one per model.
        recorded = json.loads((out / "machine.json").read_text())
        if recorded.get("cpu") != info["cpu"]:
            info = {**recorded, **{f"cpu_{model}": info["cpu"] for model in models}}
    runs.to_csv(out / "runs.csv", index=False, float_format="%.4g")
    summary = summarize(runs)
    summary.to_csv(out / "summary.csv", index=False, float_format="%.4g")
    (out / "machine.json").write_text(json.dumps(info, indent=2) + "\n")
    (out / "summary.md").write_text(markdown_table(summary, info, reps))
    print((out / "summary.md").read_text())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command")
    one = sub.add_parser("worker", help="fit one model in this process and print JSON")
    one.add_argument("model")
    one.add_argument("backend", choices=list(BACKENDS))
    parser.add_argument("--models", nargs="+", default=None, help="default: every model")
    parser.add_argument("--backends", nargs="+", default=list(BACKENDS), choices=list(BACKENDS))
    parser.add_argument("--reps", type=int, default=3, help="repetitions per cell (default 3)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument(
        "--append",
        action="store_true",
        help="keep earlier runs of other models and backends in OUT/runs.csv",
    )
    args = parser.parse_args(argv)
    if args.command == "worker":
        print(json.dumps(worker(args.model, args.backend)))
        return
    sys.path.insert(0, str(ROOT))
    from tools.benchmarks.models import MODELS

    models = args.models or list(MODELS)
    unknown = sorted(set(models) - set(MODELS))
    if unknown:
        parser.error(f"unknown model(s) {unknown}; choose from {list(MODELS)}")
    drive(models, args.backends, args.reps, args.out, args.append)


if __name__ == "__main__":
    main()
