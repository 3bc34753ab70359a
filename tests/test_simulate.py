"""The grouped-data simulator and the shrinkage plot: validation, reproducibility, truth."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
from scipy import special

from helpers.plotting import plot_shrinkage
from helpers.simulate import simulate_grouped_binomial


def test_same_seed_same_data_different_seed_different_data():
    a = simulate_grouped_binomial(seed=7)
    b = simulate_grouped_binomial(seed=7)
    c = simulate_grouped_binomial(seed=8)
    assert a.data.equals(b.data) and a.truth.equals(b.truth)
    assert not a.data.equals(c.data)


def test_shapes_sizes_and_truth():
    sim = simulate_grouped_binomial(n_groups=40, min_size=5, max_size=500, seed=1)
    assert len(sim.data) == len(sim.truth) == 40
    assert sim.data["n"].between(5, 500).all()
    assert (sim.data["bought"] <= sim.data["n"]).all() and (sim.data["bought"] >= 0).all()
    assert np.allclose(sim.truth["p"], special.expit(sim.truth["log_odds"]))
    assert sim.data["store"].cat.ordered
    assert list(sim.data["store"]) == list(sim.truth["store"])


def test_truth_follows_the_population():
    sim = simulate_grouped_binomial(n_groups=4000, mu=-0.5, sigma=0.5, seed=2)
    assert sim.truth["log_odds"].mean() == pytest.approx(-0.5, abs=0.03)
    assert sim.truth["log_odds"].std() == pytest.approx(0.5, abs=0.03)


def test_outcomes_follow_the_truth():
    sim = simulate_grouped_binomial(n_groups=3, sizes=[200_000] * 3, seed=3)
    share = sim.data["bought"] / sim.data["n"]
    assert np.allclose(share, sim.truth["p"], atol=0.005)


def test_sizes_are_log_uniform():
    sim = simulate_grouped_binomial(n_groups=4000, min_size=5, max_size=500, seed=4)
    log_n = np.log(sim.data["n"])
    assert np.median(log_n) == pytest.approx((np.log(5) + np.log(500)) / 2, abs=0.1)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_groups": 0}, "n_groups"),
        ({"n_groups": 2.5}, "n_groups"),
        ({"min_size": 0}, "min_size"),
        ({"min_size": 10, "max_size": 5}, "max_size"),
        ({"sigma": -1.0}, "sigma"),
        ({"sigma": float("nan")}, "sigma"),
        ({"mu": float("inf")}, "mu"),
        ({"n_groups": 3, "sizes": [10, 20]}, "sizes"),
        ({"n_groups": 2, "sizes": [10, 0]}, "sizes"),
    ],
)
def test_bad_parameters_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        simulate_grouped_binomial(**kwargs)


def test_shrinkage_plot_labels_and_points():
    ax = plot_shrinkage([0.1, 0.5, 0.9], [0.3, 0.5, 0.6], [5, 50, 500], 0.5, truth=[0.2, 0.5, 0.7])
    assert ax.get_xlabel() == "no pooling: take rate"
    assert ax.get_ylabel() == "partial pooling: take rate"
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "population mean" in labels and "true value" in labels


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (([0.1, 0.2], [0.1], [1, 2], 0.1), "one value per group"),
        (([0.1, 0.2], [0.1, 0.2], [1, 0], 0.1), "positive"),
    ],
)
def test_shrinkage_plot_rejects_bad_input(args, message):
    with pytest.raises(ValueError, match=message):
        plot_shrinkage(*args)


def test_shrinkage_plot_rejects_misshapen_truth():
    with pytest.raises(ValueError, match="truth"):
        plot_shrinkage([0.1, 0.2], [0.1, 0.2], [1, 2], 0.1, truth=[0.1])
