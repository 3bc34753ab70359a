"""The Mundlak helper: what it adds, every refusal and warning, and its message content."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from helpers.mundlak import FewObservationsWarning, add_group_means
from helpers.simulate import CHANNELS, PanelParams, simulate_panel


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    return simulate_panel(PanelParams(n_markets=6, n_weeks=12), seed=3).data


def test_adds_the_group_means_and_leaves_the_input_alone(panel):
    before = panel.copy()
    out = add_group_means(panel, "market", list(CHANNELS))
    pd.testing.assert_frame_equal(panel, before)
    assert list(out.columns) == list(panel.columns) + [f"{c}_mean" for c in CHANNELS]
    expected = panel.groupby("market", observed=True)["tv"].mean()
    assert np.allclose(out["tv_mean"], panel["market"].map(expected).astype(float))
    # Constant within a market, and the within part averages to zero in each market.
    assert (out.groupby("market", observed=True)["social_mean"].nunique() == 1).all()
    within = out["social"] - out["social_mean"]
    assert np.allclose(within.groupby(out["market"], observed=True).mean(), 0)


def test_suffix_is_used(panel):
    assert "tv_bar" in add_group_means(panel, "market", ["tv"], suffix="_bar").columns


def test_fewer_than_four_groups_is_refused(panel):
    three = panel[panel["market"].isin(["M01", "M02", "M03"])]
    with pytest.raises(ValueError, match=r"only 3 groups in 'market'.*at least 4") as info:
        add_group_means(three, "market", ["tv"])
    assert "0 + market" in str(info.value)  # says what to do instead


def test_as_many_cre_variables_as_groups_is_refused():
    frame = pd.DataFrame(
        {
            "g": np.repeat(list("abcd"), 12),
            **{f"x{i}": np.random.default_rng(i).normal(size=48) for i in range(4)},
        }
    )
    with pytest.raises(ValueError, match=r"4 CRE variables but only 4 groups in 'g'"):
        add_group_means(frame, "g", [f"x{i}" for i in range(4)])
    add_group_means(frame, "g", ["x0", "x1", "x2"])  # three means, four groups: fine


def test_a_mean_without_variance_across_groups_is_refused(panel):
    with pytest.raises(ValueError, match=r"'trend' has the same mean .* every group of 'market'"):
        add_group_means(panel, "market", ["tv", "trend"])


def test_a_column_that_never_varies_within_groups_is_refused(panel):
    frame = panel.assign(size=panel["market"].cat.codes.astype(float))
    with pytest.raises(ValueError, match=r"'size' never varies within a group"):
        add_group_means(frame, "market", ["size"])


def test_few_observations_warn_and_name_the_groups(panel):
    short = panel[panel["week"] < 5]
    with pytest.warns(
        FewObservationsWarning, match=r"6 of 6 groups .* fewer than 10 rows: 'M01' \(5\)"
    ):
        out = add_group_means(short, "market", ["tv"])
    assert "tv_mean" in out.columns
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        add_group_means(panel, "market", ["tv"])  # 12 rows per market: no warning
        add_group_means(short, "market", ["tv"], few_observations=5)


@pytest.mark.parametrize(
    ("change", "columns", "message"),
    [
        (lambda f: f, ["budget"], r"column 'budget' is not in the frame"),
        (lambda f: f, [], r"columns is empty"),
        (lambda f: f, ["tv", "tv"], r"must be distinct"),
        (lambda f: f, ["market"], r"must not include the group 'market'"),
        (lambda f: f.assign(tv=f["tv"].astype(str)), ["tv"], r"'tv' must be numeric"),
        (lambda f: f.assign(tv=f["tv"] > 3), ["tv"], r"'tv' must be numeric"),
        (lambda f: f.assign(tv=f["tv"].where(f["week"] > 0)), ["tv"], r"'tv' has missing values"),
        (lambda f: f.assign(tv_mean=1.0), ["tv"], r"'tv_mean' already exists"),
        (
            lambda f: f.assign(market=f["market"].where(f["week"] > 0)),
            ["tv"],
            r"group column 'market' has missing values",
        ),
    ],
)
def test_bad_inputs_are_named(panel, change, columns, message):
    with pytest.raises(ValueError, match=message):
        add_group_means(change(panel), "market", columns)


def test_infinite_values_are_refused_and_counted(panel):
    frame = panel.assign(tv=panel["tv"].where(panel["week"] > 0, np.inf))
    with pytest.raises(ValueError, match=r"column 'tv' has 6 infinite value\(s\) .* in 72 rows"):
        add_group_means(frame, "market", ["tv"])


def test_unused_group_level_is_not_a_group(panel):
    extra = panel.assign(market=panel["market"].cat.add_categories("M99"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = add_group_means(extra, "market", ["tv"])
    pd.testing.assert_series_equal(
        out["tv_mean"], add_group_means(panel, "market", ["tv"])["tv_mean"]
    )
    three = extra[extra["market"].isin(["M01", "M02", "M03"])]
    with pytest.raises(ValueError, match=r"only 3 groups in 'market'"):
        add_group_means(three, "market", ["tv"])


def test_missing_group_column_is_named(panel):
    with pytest.raises(ValueError, match=r"column 'region' is not in the frame"):
        add_group_means(panel, "region", ["tv"])
