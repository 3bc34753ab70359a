"""The cost-curve benchmark of the big-data chapter (tools/benchmarks/scale.py): its driver runs
every method end to end, and its committed record (results/scale.csv) is whole.

No test times anything: the targets are read from the record by the chapter and the Performance
page, which say whether each is met.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT

from tools.benchmarks import scale

RECORD = ROOT / "tools" / "benchmarks" / "results" / "scale.csv"
NUMBERS = [c for c in scale.COLUMNS if c not in ("rows", "groups", "method", "status")]


@pytest.fixture(scope="module")
def record() -> pd.DataFrame:
    return pd.read_csv(RECORD)


@pytest.mark.slow
def test_quick_grid_runs_every_method_end_to_end(tmp_path):
    """``make bench-scale BENCH_FLAGS=--quick``'s script, for real: Parquet written, each method in
    a fresh process, one complete row per method."""
    out = tmp_path / "scale.csv"
    subprocess.run(
        [sys.executable, "tools/benchmarks/scale.py", "--quick", "--out", str(out)],
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=900,
    )
    runs = pd.read_csv(out)
    assert list(runs.columns) == scale.COLUMNS
    assert list(runs["method"]) == list(scale.METHODS)
    assert (runs["status"] == "ok").all()
    assert (runs[["rows", "groups"]] == [2_000, 10]).all().all()
    assert (runs["seconds"] >= runs["fit_s"]).all() and (runs["fit_s"] > 0).all()
    assert runs["peak_memory_mb"].between(50, 8_000).all()
    nuts = runs["method"].str.contains("nuts|bambi")
    assert runs.loc[nuts, ["min_ess", "divergences", "max_r_hat"]].notna().all().all()
    assert runs.loc[~nuts, ["min_ess", "divergences", "max_r_hat"]].isna().all().all()
    # Every method of the counts estimates both sds and covers some store effects.
    counts = runs[runs["method"] != "rows-bambi"]
    assert counts[["sd_error", "sd_error_bundle"]].gt(-1).all().all()
    assert counts["coverage"].between(0, 1).all()


def test_record_has_every_point_of_the_grid_once(record):
    assert list(record.columns) == scale.COLUMNS
    expected = [(rows, groups, m) for rows, groups, methods in scale.GRID for m in methods]
    assert list(record[["rows", "groups", "method"]].itertuples(index=False, name=None)) == [
        tuple(point) for point in expected
    ]


def test_record_status_is_ok_or_says_why_not(record):
    """A point over its time cap has no numbers; a capped point has a smaller one over the cap."""
    ok = record["status"] == "ok"
    assert record.loc[ok, ["seconds", "fit_s", "peak_memory_mb"]].notna().all().all()
    assert record.loc[~ok, NUMBERS].isna().all().all()
    assert record.loc[~ok, "status"].str.fullmatch(r"over \d+ s|capped").all()
    over = record[record["status"].str.startswith("over")]
    for point in record[record["status"] == "capped"].itertuples():
        smaller = over[
            (over["method"] == point.method)
            & (over["rows"] <= point.rows)
            & (over["groups"] <= point.groups)
        ]
        assert len(smaller), point


def test_record_counts_fits_with_a_thousand_contacts_per_store_pass_the_gate(record):
    """The chapter's centred model, where it is meant to be used, reaches a checked posterior
    with the book's settings (the lean settings need not: they are there to find out)."""
    centred = record[
        (record["method"] == "counts-nuts")
        & (record["rows"] // record["groups"] >= 1_000)
        & (record["status"] == "ok")
    ]
    assert len(centred) >= 4
    # Up to the largest point, 10^4 stores at 10^7 rows (the chapter's "passed the gate").
    assert {(10**7, 10_000), (10**8, 100)} <= set(zip(centred["rows"], centred["groups"]))
    assert (centred["max_r_hat"] <= 1.01).all(), centred
    assert (centred["min_ess"] >= 400).all(), centred
    assert (centred["divergences"] == 0).all(), centred


def test_record_aggregation_is_part_of_the_time_and_bambi_never_aggregates(record):
    ok = record[record["status"] == "ok"]
    assert np.allclose(ok["seconds"], ok["aggregate_s"] + ok["fit_s"])
    assert (ok.loc[ok["method"] == "rows-bambi", "aggregate_s"] == 0).all()
    assert (ok.loc[ok["method"] != "rows-bambi", "aggregate_s"] > 0).all()
