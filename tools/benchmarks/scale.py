"""Cost curves for the big-data chapter (``make bench-scale``): ``results/scale.csv``.

Time and peak memory from a folder of Parquet contacts to a posterior, and how good that
posterior is, for

- ``rows-bambi``: every contact a row, Bambi's Bernoulli model (pandas reads the Parquet), the
  book's NUTS settings;
- ``counts-nuts``: DuckDB aggregates the Parquet, then the chapter's model of the counts
  (``store_model`` in its cell tagged ``model-definition``, centred store effects) is sampled
  with the book's NUTS settings; ``counts-nuts-nc``: the same with non-centred store effects;
- ``counts-advi`` and ``counts-advi-nc``: the same counts and models, mean-field ADVI (PyMC's
  ``pm.fit``, 50,000 iterations), 4,000 draws from the approximation.

Each point runs in a fresh process (``scale.py worker ...``); the Parquet files are simulated
once per (rows, groups) before any timing. A method whose point exceeds its time cap
(``--time-cap``; ``LONG_CAP`` times that for the methods in ``LONG``) is not run at points with as
many rows and stores or more (the record says so: status ``capped``).

Usage::

    python tools/benchmarks/scale.py --quick      # a tiny grid, for the tests
    python tools/benchmarks/scale.py               # the record (long: run on a quiet machine)
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RESULTS = Path(__file__).resolve().parent / "results"

COLUMNS = [
    "rows",
    "groups",
    "method",
    "seconds",
    "aggregate_s",
    "fit_s",
    "peak_memory_mb",
    "min_ess",
    "divergences",
    "max_r_hat",
    "sd_error",
    "sd_error_bundle",
    "coverage",
    "status",
]
METHODS = (
    "rows-bambi",
    "counts-nuts",
    "counts-nuts-lean",
    "counts-nuts-nc",
    "counts-advi",
    "counts-advi-nc",
)
#: ``counts-nuts-lean``: a quarter of the draws and half the tuning (4 chains of 500 tuning steps
#: and 250 draws, against the book's 1,000 and 1,000), to see whether fewer draws still reach the
#: gate at the largest point.
LEAN = {"tune": 500, "draws": 250}
#: Methods whose time matters at the largest point (the chapter's answer to "what do 10^4 stores
#: cost with NUTS"): they get ``LONG_CAP`` times the time cap.
LONG, LONG_CAP = ("counts-nuts", "counts-nuts-lean"), 3

#: (rows, groups, methods) of the record: rows at 100 stores (10^2 or more contacts per store);
#: stores at 10^7 rows (10^3 or more contacts per store); and 10 contacts per store, where the
#: chapter's argument says the centred model should struggle.
GRID = [
    *[(rows, 100, ("rows-bambi",)) for rows in (10**4, 3 * 10**4, 10**5, 3 * 10**5)],
    *[(rows, 100, ("counts-nuts",)) for rows in (10**4, 10**5, 10**6, 10**7, 10**8)],
    (10**7, 1_000, ("counts-nuts", "counts-advi")),
    (10**7, 10_000, ("counts-nuts", "counts-nuts-lean", "counts-advi")),
    (10**4, 1_000, ("counts-nuts-nc", "counts-advi-nc", "counts-nuts")),
]
QUICK = [(2_000, 10, METHODS)]
#: ADVI's iterations: the record's, and the quick grid's (which only checks that it runs).
ADVI_ITERATIONS, QUICK_ADVI_ITERATIONS = 50_000, 2_000

QUERY = """
SELECT store, channel, promo, count(*) AS n, sum(bought)::BIGINT AS bought
FROM read_parquet('{folder}/*.parquet')
GROUP BY store, channel, promo
ORDER BY store, channel, promo
"""


def worker(
    method: str, folder: str, truth_file: str, advi_iterations: str = str(ADVI_ITERATIONS)
) -> dict:
    """One point, in this process: returns the measurements (printed as JSON by ``main``)."""
    import duckdb
    import numpy as np
    import pandas as pd
    import pymc as pm

    import helpers
    from helpers.diagnostics import count_divergences, summarize
    from helpers.sampling import SEED, fit, sample_kwargs
    from tools.benchmarks.models import chapter_namespace

    helpers.configure()
    store_model = chapter_namespace("big_data")["store_model"]
    truth = pd.read_csv(truth_file).set_index("store")
    start = time.perf_counter()
    if method == "rows-bambi":
        import bambi as bmb

        rows = pd.read_parquet(folder)
        rows["store"] = pd.Categorical(rows["store"])
        aggregate_s = 0.0
        model = bmb.Model(
            "bought ~ channel + promo + (1 + promo | store)", rows, family="bernoulli"
        )
        idata = fit(model)
    else:
        counts = duckdb.sql(QUERY.format(folder=folder)).df()
        aggregate_s = time.perf_counter() - start
        with store_model(counts, centred=not method.endswith("-nc")):
            if method.startswith("counts-nuts"):
                idata = pm.sample(**sample_kwargs(**(LEAN if method.endswith("-lean") else {})))
            else:
                approx = pm.fit(
                    n=int(advi_iterations), method="advi", random_seed=SEED, progressbar=False
                )
                idata = approx.sample(4_000, random_seed=SEED)
    seconds = time.perf_counter() - start
    summary = summarize(idata)
    # Each sd against the realised sd of these stores' true effects (what the data can tell):
    # Bambi's intercept is the 0/1 coding's (mail, no bundle); the chapter's is the -1/2 +1/2
    # coding's (the average over the two offers).
    intercept = truth["intercept"] + (0.0 if method == "rows-bambi" else 0.5) * truth["slope"]
    post = idata["posterior"]
    if method == "rows-bambi":
        sds = [float(post[name].mean()) for name in ("1|store_sigma", "promo|store_sigma")]
    else:
        sds = post["sigma"].mean(("chain", "draw")).sel(effect=["intercept", "bundle"]).values
    sd_error = sds[0] / float(intercept.std()) - 1
    sd_error_bundle = sds[1] / float(truth["slope"].std()) - 1
    coverage = np.nan
    if "store_effects" in idata["posterior"]:
        post = idata["posterior"]["store_effects"]
        bounds = post.quantile([0.055, 0.945], dim=("chain", "draw"))
        stores = post["store"].values
        true = np.column_stack([intercept.loc[stores], truth.loc[stores, "slope"]])
        inside = (bounds.sel(quantile=0.055).values <= true) & (
            true <= bounds.sel(quantile=0.945).values
        )
        coverage = float(inside.mean())
    is_nuts = "sample_stats" in idata and "diverging" in idata["sample_stats"]
    return {
        "seconds": seconds,
        "aggregate_s": aggregate_s,
        "fit_s": seconds - aggregate_s,
        "peak_memory_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "min_ess": float(summary[["ess_bulk", "ess_tail"]].min().min()) if is_nuts else np.nan,
        "divergences": count_divergences(idata) if is_nuts else np.nan,
        "max_r_hat": float(summary["r_hat"].max()) if is_nuts else np.nan,
        "sd_error": sd_error,
        "sd_error_bundle": sd_error_bundle,
        "coverage": coverage,
    }


def drive(grid, out: Path, time_cap: float, advi_iterations: int = ADVI_ITERATIONS) -> list[dict]:
    """Simulate each point's Parquet once, run its methods in fresh processes, write ``out``."""
    from helpers.simulate import simulate_contacts
    from tools.benchmarks import bench

    capped: dict[str, list[tuple[int, int]]] = {}
    records = []
    with tempfile.TemporaryDirectory(prefix="bmm-scale-") as tmp:
        for rows, groups, methods in grid:
            folder = Path(tmp) / f"{rows}_{groups}"
            sim = simulate_contacts(n_rows=rows, n_stores=groups, seed=11, folder=folder)
            truth_file = folder.with_suffix(".csv")
            sim.truth.to_csv(truth_file, index=False)
            for method in methods:
                record = {"rows": rows, "groups": groups, "method": method}
                if any(rows >= r and groups >= g for r, g in capped.get(method, [])):
                    records.append({**record, "status": "capped"})
                    continue
                cap = time_cap * (LONG_CAP if method in LONG else 1)
                try:
                    proc = subprocess.run(
                        [
                            sys.executable,
                            __file__,
                            "worker",
                            method,
                            str(folder),
                            str(truth_file),
                            str(advi_iterations),
                        ],
                        capture_output=True,
                        text=True,
                        timeout=cap,
                        cwd=ROOT,
                        env={**os.environ, "PYTHONPATH": str(ROOT)},
                    )
                except subprocess.TimeoutExpired:
                    capped.setdefault(method, []).append((rows, groups))
                    records.append({**record, "status": f"over {cap:.0f} s"})
                    continue
                if proc.returncode != 0:
                    raise RuntimeError(proc.stderr[-3000:])
                result = json.loads(proc.stdout.strip().splitlines()[-1])
                records.append({**record, **result, "status": "ok"})
                print(records[-1], flush=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(records)
    machine = bench.machine(packages=("duckdb", "pyarrow"))
    out.with_name(f"{out.stem}_machine.json").write_text(json.dumps(machine, indent=2) + "\n")
    return records


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    sys.path.insert(0, str(ROOT))
    if argv and argv[0] == "worker":
        print(json.dumps(worker(*argv[1:5])))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a tiny grid (the tests)")
    parser.add_argument("--out", type=Path, default=RESULTS / "scale.csv")
    parser.add_argument("--time-cap", type=float, default=600.0)
    args = parser.parse_args(argv)
    if args.quick:
        drive(QUICK, args.out, args.time_cap, QUICK_ADVI_ITERATIONS)
    else:
        drive(GRID, args.out, args.time_cap)


if __name__ == "__main__":
    main()
