"""Group effects from Bambi posteriors: plain group dimensions, totals, levels, clear errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from helpers.effects import group_effects, group_sd

CHANNELS = ["Email", "Mail", "Park"]


def bambi_like_posterior() -> xr.Dataset:
    """What Bambi returns for ``p(bought, n) ~ 1 + promo + (1 + promo | channel)``: 2 chains,
    3 draws, the group terms on Bambi's internal dimensions."""
    rng = np.random.default_rng(0)
    return xr.Dataset(
        {
            "Intercept": (("chain", "draw"), rng.normal(size=(2, 3))),
            "promo": (("chain", "draw", "promo_dim"), rng.normal(size=(2, 3, 1))),
            "1|channel": (("chain", "draw", "channel__factor_dim"), rng.normal(size=(2, 3, 3))),
            "1|channel_sigma": (("chain", "draw"), rng.gamma(2.0, size=(2, 3))),
            "promo|channel": (
                ("chain", "draw", "channel__factor_dim", "promo__expr_dim"),
                rng.normal(size=(2, 3, 3, 1)),
            ),
            "promo|channel_sigma": (
                ("chain", "draw", "promo__expr_dim"),
                rng.gamma(2.0, size=(2, 3, 1)),
            ),
        },
        coords={
            "promo_dim": ["Bundle"],
            "channel__factor_dim": CHANNELS,
            "promo__expr_dim": ["Bundle"],
        },
    )


def test_intercepts_get_a_dimension_named_after_the_group():
    post = bambi_like_posterior()
    intercepts = group_effects(post, "1", "channel")
    assert intercepts.dims == ("chain", "draw", "channel")
    assert intercepts["channel"].values.tolist() == CHANNELS
    expected = post["1|channel"].sel(channel__factor_dim="Mail").values
    np.testing.assert_array_equal(intercepts.sel(channel="Mail").values, expected)


def test_slopes_of_a_categorical_predictor_pick_its_level():
    post = bambi_like_posterior()
    slopes = group_effects(post, "promo", "channel", level="Bundle")
    assert slopes.dims == ("chain", "draw", "channel")
    expected = post["promo|channel"].sel(channel__factor_dim="Email", promo__expr_dim="Bundle")
    np.testing.assert_array_equal(slopes.sel(channel="Email").values, expected.values)
    # One non-reference level: it may be left out.
    xr.testing.assert_equal(group_effects(post, "promo", "channel"), slopes)


def test_population_adds_the_common_coefficient():
    post = bambi_like_posterior()
    total = group_effects(post, "1", "channel", population=True)
    np.testing.assert_allclose(
        total.sel(channel="Park").values,
        post["Intercept"].values + post["1|channel"].sel(channel__factor_dim="Park").values,
    )
    slope = group_effects(post, "promo", "channel", level="Bundle", population=True)
    np.testing.assert_allclose(
        slope.sel(channel="Park").values,
        post["promo"].sel(promo_dim="Bundle").values
        + post["promo|channel"].sel(channel__factor_dim="Park", promo__expr_dim="Bundle").values,
    )
    assert slope.dims == ("chain", "draw", "channel")


def test_numeric_slopes_and_stacked_draws_and_whole_fits():
    post = xr.Dataset(
        {
            "x": (("chain", "draw"), np.ones((1, 2))),
            "x|region": (("chain", "draw", "region__factor_dim"), np.arange(6.0).reshape(1, 2, 3)),
        },
        coords={"region__factor_dim": ["R1", "R2", "R3"]},
    )
    np.testing.assert_array_equal(
        group_effects(post, "x", "region", population=True).sel(region="R3").values, [[3.0, 6.0]]
    )
    stacked = post.stack(sample=("chain", "draw"))
    assert group_effects(stacked, "x", "region").dims == ("region", "sample")
    whole = xr.DataTree.from_dict({"posterior": post})
    xr.testing.assert_equal(group_effects(whole, "x", "region"), group_effects(post, "x", "region"))


def test_group_sd_picks_the_level_of_a_categorical_term():
    post = bambi_like_posterior()
    sd = group_sd(post, "promo", "channel", level="Bundle")
    assert sd.dims == ("chain", "draw")
    np.testing.assert_array_equal(sd.values, post["promo|channel_sigma"].values[..., 0])
    assert group_sd(post, "1", "channel").dims == ("chain", "draw")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"term": "1", "group": "chanel"}, r"group 'chanel'.*groups are \['channel'\]"),
        (
            {"term": "price", "group": "channel"},
            r"term 'price'.*price\|channel.*terms of group 'channel' are \['1', 'promo'\]",
        ),
        (
            {"term": "promo", "group": "channel", "level": "NoBundle"},
            r"level 'NoBundle': term 'promo' has levels \['Bundle'\]",
        ),
        (
            {"term": "1", "group": "channel", "level": "Bundle"},
            r"level 'Bundle': term '1' is not categorical",
        ),
    ],
)
def test_bad_term_group_or_level_is_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        group_effects(bambi_like_posterior(), **kwargs)
    with pytest.raises(ValueError, match=message):
        group_sd(bambi_like_posterior(), **kwargs)


def test_several_levels_need_one_named():
    post = bambi_like_posterior()
    two = post["promo|channel"].values.repeat(2, axis=-1)
    post = (
        post.drop_vars(["promo|channel", "promo|channel_sigma", "promo__expr_dim"])
        .assign(
            {"promo|channel": (("chain", "draw", "channel__factor_dim", "promo__expr_dim"), two)}
        )
        .assign_coords(promo__expr_dim=["Bundle", "Coupon"])
    )
    with pytest.raises(ValueError, match=r"level: term 'promo' has levels \['Bundle', 'Coupon'\]"):
        group_effects(post, "promo", "channel")
    assert group_effects(post, "promo", "channel", level="Coupon").dims == (
        "chain",
        "draw",
        "channel",
    )


def test_population_without_the_common_coefficient_is_refused():
    post = bambi_like_posterior().drop_vars("Intercept")  # as in 0 + (1 + promo | channel)
    with pytest.raises(ValueError, match=r"population: .* no population-level 'Intercept'"):
        group_effects(post, "1", "channel", population=True)
    assert group_effects(post, "1", "channel").dims == ("chain", "draw", "channel")


@pytest.mark.slow
def test_dimension_names_are_the_installed_bambis():
    """The hand-built posteriors above use Bambi's internal names: check them on a real model's
    prior draws (same variables and dimensions as a posterior, without sampling)."""
    import bambi as bmb

    rng = np.random.default_rng(0)
    data = pd.DataFrame(
        {
            "channel": np.repeat(CHANNELS, 4),
            "promo": np.tile(["NoBundle", "Bundle"], 6),
            "y": rng.normal(size=12),
        }
    )
    model = bmb.Model("y ~ 1 + promo + (1 + promo | channel)", data)
    model.build()
    prior = model.prior_predictive(draws=5, random_seed=1)["prior"]
    slopes = group_effects(prior, "promo", "channel", level="NoBundle", population=True)
    assert slopes.dims == ("chain", "draw", "channel")
    assert sorted(slopes["channel"].values.tolist()) == CHANNELS
    assert group_sd(prior, "promo", "channel").dims == ("chain", "draw")
