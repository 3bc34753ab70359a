"""The plotting style (one call, figures only: tables are left alone) and the shrinkage plot."""

from __future__ import annotations

import arviz as az
import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from helpers import sampling
from helpers.plotting import plot_predictive_check, plot_shrinkage, set_style


@pytest.fixture
def axes():
    """A fresh axes, closed after the test."""
    figure, ax = plt.subplots()
    yield ax
    plt.close(figure)


def test_set_style_sets_matplotlib_and_arviz():
    mpl.rcParams["figure.dpi"] = 50
    az.rcParams["stats.ci_prob"] = 0.94
    set_style()
    assert mpl.rcParams["figure.dpi"] == 110
    assert az.rcParams["stats.ci_prob"] == sampling.CI_PROB == 0.89
    assert az.rcParams["stats.ci_kind"] == "eti"
    assert mpl.rcParams["axes.labelsize"] >= 11


def test_set_style_leaves_pandas_options_alone():
    """Tables show numbers as the code rounds them: no display.float_format, no precision."""
    before = pd.describe_option("", _print_desc=False)
    set_style()
    assert pd.describe_option("", _print_desc=False) == before
    assert pd.get_option("display.float_format") is None


def test_shrinkage_plot_draws_one_point_per_group_sized_by_group(axes):
    returned = plot_shrinkage(
        pd.Series([0.1, 0.5, 0.9]), [0.3, 0.5, 0.6], [5, 50, 500], 0.5, ax=axes, label="log odds"
    )
    assert returned is axes
    (points,) = axes.collections
    np.testing.assert_allclose(points.get_offsets(), [[0.1, 0.3], [0.5, 0.5], [0.9, 0.6]])
    sizes = points.get_sizes()
    assert sizes[0] < sizes[1] < sizes[2]  # small groups, small points
    diagonal, mean = axes.lines
    assert np.allclose(diagonal.get_xdata(), diagonal.get_ydata())  # no shrinkage on the diagonal
    assert set(mean.get_ydata()) == {0.5}  # the population mean
    assert axes.get_xlabel() == "no pooling: log odds"
    assert axes.get_ylabel() == "partial pooling: log odds"
    assert axes.get_legend() is not None


def test_shrinkage_plot_shows_the_truth_and_each_error(axes):
    plot_shrinkage([0.1, 0.9], [0.3, 0.6], [5, 500], 0.5, truth=[0.2, 0.8], ax=axes)
    points, lines, truth = axes.collections
    np.testing.assert_allclose(truth.get_offsets(), [[0.1, 0.2], [0.9, 0.8]])
    # One vertical segment per group, from the partial-pooling estimate to the truth.
    np.testing.assert_allclose(
        [segment[:, 1] for segment in lines.get_segments()], [[0.3, 0.2], [0.6, 0.8]]
    )
    assert "true value (line: error)" in [text.get_text() for text in axes.get_legend().texts]


def test_shrinkage_plot_makes_its_own_figure():
    ax = plot_shrinkage([0.1, 0.5], [0.3, 0.5], [5, 50], 0.4)
    try:
        assert tuple(ax.figure.get_size_inches()) == (6.5, 5.5)
    finally:
        plt.close(ax.figure)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"partial_pooling": [0.3, 0.5]},
            r"one value per group; got shapes \(3,\), \(2,\), \(3,\)",
        ),
        ({"group_size": [5, 0, 500]}, "group_size must be positive"),
        ({"truth": [0.2, 0.8]}, r"truth needs one value per group; got shape \(2,\)"),
        (
            {
                "no_pooling": [[0.1, 0.5, 0.9]],
                "partial_pooling": [[0.3, 0.5, 0.6]],
                "group_size": [[5, 50, 500]],
            },
            "one value per group",
        ),
    ],
)
def test_shrinkage_plot_refuses_mismatched_inputs(axes, kwargs, message):
    arguments = {
        "no_pooling": [0.1, 0.5, 0.9],
        "partial_pooling": [0.3, 0.5, 0.6],
        "group_size": [5, 50, 500],
        "population_mean": 0.5,
        "ax": axes,
        **kwargs,
    }
    with pytest.raises(ValueError, match=message):
        plot_shrinkage(**arguments)


def test_predictive_check_flags_the_group_outside_its_interval(axes):
    rng = np.random.default_rng(1)
    draws = rng.binomial([100, 1000, 20], [0.1, 0.5, 0.3], size=(4000, 3))
    table = plot_predictive_check([12, 620, 6], draws, ["a", "b", "c"], ax=axes, label="buyers")
    assert table.index.tolist() == ["a", "b", "c"]
    assert table["inside"].tolist() == [True, False, True]
    assert table.loc["b", "tail"] == 1.0  # 620 is above every draw of Binomial(1000, 0.5)
    assert table.loc["a", "lower"] < 10 < table.loc["a", "upper"]
    assert axes.get_xlabel() == "buyers"
    assert [t.get_text() for t in axes.get_yticklabels()] == ["a", "b", "c"]


def test_predictive_check_names_bad_shapes():
    with pytest.raises(ValueError, match="predicted must be"):
        plot_predictive_check([1, 2], np.zeros((10, 3)), ["a", "b"])
    with pytest.raises(ValueError, match="prob"):
        plot_predictive_check([1], np.zeros((10, 1)), ["a"], prob=1.5)
