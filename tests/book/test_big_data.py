"""The big-data chapter's claims, checked outside the build: the aggregation code of its cells
(DuckDB and Spark give the same table as pandas) and the sufficient-statistics identities."""

from __future__ import annotations

import time
from pathlib import Path

import bambi as bmb
import duckdb
import jupytext
import numpy as np
import pandas as pd
import pytest
from scipy import special

from helpers.data import aggregate_binomial
from helpers.simulate import simulate_contacts

BOOK = Path(__file__).resolve().parents[2] / "book"


def tagged_cell(tag: str) -> str:
    """The source of the big-data chapter's one code cell tagged ``tag``."""
    cells = [
        cell
        for cell in jupytext.read(BOOK / "big_data.md").cells
        if cell.cell_type == "code" and tag in cell.metadata.get("tags", [])
    ]
    assert len(cells) == 1, f"book/big_data.md should have one code cell tagged {tag!r}"
    return cells[0].source


@pytest.fixture(scope="module")
def contacts(tmp_path_factory):
    """Contacts written to Parquet in several files, and the same rows in memory."""
    import helpers.simulate as simulate

    folder = tmp_path_factory.mktemp("contacts")
    chunk, simulate.CHUNK_ROWS = simulate.CHUNK_ROWS, 20_000  # several files
    try:
        on_disk = simulate_contacts(n_rows=60_000, n_stores=300, seed=8, folder=folder)
        in_memory = simulate_contacts(n_rows=60_000, n_stores=300, seed=8)
    finally:
        simulate.CHUNK_ROWS = chunk
    assert len(list(folder.glob("part-*.parquet"))) == 3
    return on_disk, in_memory.data


def run_cell(tag: str, folder: Path) -> dict:
    """Run the chapter's cell tagged ``tag`` with the names it uses from earlier cells."""
    namespace = {
        "folder": folder,
        "n_rows": 60_000,
        "duckdb": duckdb,
        "pd": pd,
        "time": time,
        "spark_ready": True,
    }
    exec(compile(tagged_cell(tag), f"<book/big_data.md, cell tagged {tag}>", "exec"), namespace)
    return namespace


def expected_counts(rows: pd.DataFrame) -> pd.DataFrame:
    """Counts per store, channel and promo by the book's pandas helper, as the query returns
    them: observed patterns only, sorted as SQL sorts (by text)."""
    keys = ["store", "channel", "promo"]
    counts = aggregate_binomial(
        rows.astype({"channel": str, "promo": str}), by=keys, outcome="bought"
    )
    counts = counts[counts["n"] > 0][[*keys, "n", "bought"]]
    return counts.sort_values(keys, ignore_index=True)


def test_duckdb_cell_gives_pandas_counts(contacts):
    on_disk, rows = contacts
    counts = run_cell("aggregate-duckdb", on_disk.data)["counts"]
    assert list(counts.columns) == ["store", "channel", "promo", "n", "bought"]
    pd.testing.assert_frame_equal(counts, expected_counts(rows), check_dtype=False)
    assert counts["n"].sum() == 60_000


@pytest.mark.slow
def test_spark_cell_gives_duckdbs_table(contacts):
    """The chapter's Spark code (local mode) returns exactly DuckDB's table. `make test` installs
    Spark (`make spark`): this test does not skip when it is missing, it fails."""
    import shutil

    assert shutil.which("java"), "Spark needs Java: run `make spark`"
    try:
        import pyspark  # noqa: F401
    except ImportError as error:  # pragma: no cover - a setup problem, said plainly
        raise AssertionError("pyspark is missing: run `make spark`") from error
    on_disk, _ = contacts
    duck = run_cell("aggregate-duckdb", on_disk.data)["counts"]
    spark = run_cell("aggregate-spark", on_disk.data)["spark_counts"]
    pd.testing.assert_frame_equal(spark, duck, check_dtype=False)


def log_binomial_coefficients(n: np.ndarray, k: np.ndarray) -> np.ndarray:
    return special.gammaln(n + 1) - special.gammaln(k + 1) - special.gammaln(n - k + 1)


@pytest.mark.slow
def test_bernoulli_rows_and_binomial_counts_differ_by_the_log_binomial_constant(contacts):
    """At random parameter points, log p(rows) - log p(counts) = -sum log C(n, k) exactly, for a
    model with a varying slope too (not only the chapter's varying intercept)."""
    _, rows = contacts
    rows = rows[rows["store"] <= 30].copy()
    rows["store"] = pd.Categorical(rows["store"])
    counts = aggregate_binomial(rows, by=["store", "channel", "promo"], outcome="bought")
    rhs = "channel + promo + (1 + promo | store)"
    # Bambi's defaults depend on the data frame (centring, prior scales): the same priors and
    # no centring make the two the same model.
    priors = {
        "Intercept": bmb.Prior("Normal", mu=0, sigma=1.5),
        "common": bmb.Prior("Normal", mu=0, sigma=1),
        "group_specific": bmb.Prior("Normal", mu=0, sigma=bmb.Prior("HalfNormal", sigma=1)),
    }
    options = {"priors": priors, "center_predictors": False}
    per_row = bmb.Model(f"bought ~ {rhs}", rows, family="bernoulli", **options)
    per_count = bmb.Model(f"p(bought, n) ~ {rhs}", counts, family="binomial", **options)
    per_row.build()
    per_count.build()
    start = per_row.backend.model.initial_point()
    assert start.keys() == per_count.backend.model.initial_point().keys()
    logp_row = per_row.backend.model.compile_logp()
    logp_count = per_count.backend.model.compile_logp()
    constant = -log_binomial_coefficients(counts["n"], counts["bought"]).sum()
    rng = np.random.default_rng(0)
    for _ in range(10):
        point = {name: rng.normal(0, 2, size=np.shape(v)) for name, v in start.items()}
        assert logp_row(point) - logp_count(point) == pytest.approx(constant, abs=1e-4)


def test_store_model_is_the_binomial_likelihood_without_its_constant(contacts):
    """The chapter's ``store_model`` (its ``model-definition`` cell, which the cost-curve benchmark
    also fits): at random parameter values, its likelihood term is the binomial log pmf of every
    pattern minus log C(n, k), on the -1/2 +1/2 coding, in both parametrisations."""
    from scipy import stats

    from tools.benchmarks.models import chapter_namespace

    store_model = chapter_namespace("big_data")["store_model"]
    counts = aggregate_binomial(
        contacts[1], by=["store", "channel", "promo"], outcome="bought"
    ).query("n > 0")
    rng = np.random.default_rng(3)
    for centred in (True, False):
        model = store_model(counts, centred=centred)
        stores = model.coords["store"]
        assert list(stores) == sorted(counts["store"].unique())
        assert list(model.coords["channel"]) == ["Park", "Email"]
        effects = rng.normal([-1, 0.4], [0.5, 0.3], size=(len(stores), 2))
        shifts = rng.normal(size=2)
        point = model.initial_point()
        point["beta_channel"] = shifts
        if centred:
            point["store_effects"] = effects
        else:  # store_effects = mu + sigma * z, with mu = 0 and sigma = 1 (log sigma = 0)
            point["mu"], point["sigma_log__"] = np.zeros(2), np.zeros(2)
            point["z"] = effects
        term = model.compile_logp(vars=model.potentials)(point)
        row = counts["store"].map(dict(zip(stores, range(len(stores))))).to_numpy()
        eta = (
            effects[row, 0]
            + np.where(counts["promo"] == "Bundle", 0.5, -0.5) * effects[row, 1]
            + np.select([counts["channel"] == "Park", counts["channel"] == "Email"], shifts, 0.0)
        )
        n, k = counts["n"].to_numpy(), counts["bought"].to_numpy()
        expected = stats.binom.logpmf(k, n, special.expit(eta)) - log_binomial_coefficients(n, k)
        assert float(term) == pytest.approx(expected.sum(), rel=1e-10)
