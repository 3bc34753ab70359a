"""Fits on the loader's output: reference levels (the Bambi trap) and the closed-form check."""

from __future__ import annotations

import bambi as bmb
import numpy as np
import pytest

from helpers.data import aggregate_binomial, load_season_pass
from helpers.diagnostics import check_convergence
from helpers.sampling import fit

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def counts():
    return aggregate_binomial(load_season_pass(), by=["promo", "channel"], outcome="bought_pass")


def test_reference_levels_are_nobundle_and_mail(counts):
    """An unordered categorical would make Bundle and Email the references (alphabetical order)."""
    model = bmb.Model("p(bought, n) ~ promo + channel", counts, family="binomial")
    idata = fit(model, draws=100, tune=100, chains=2)
    posterior = idata["posterior"]
    assert posterior["promo_dim"].values.tolist() == ["Bundle"]
    assert posterior["channel_dim"].values.tolist() == ["Park", "Email"]


def test_unordered_categoricals_would_flip_the_references(counts):
    unordered = counts.astype({"promo": "object", "channel": "object"})
    model = bmb.Model("p(bought, n) ~ promo + channel", unordered, family="binomial")
    model.build()
    terms = model.parameters["p"].common_terms
    assert terms["promo"].levels == ["NoBundle"]
    assert terms["channel"].levels == ["Mail", "Park"]


def test_baseline_model_recovers_the_hand_calculation(counts):
    """Intercept and bundle slope of `1 + promo` match the closed-form log-odds from counts."""
    by_promo = counts.groupby("promo", observed=True)[["bought", "n"]].sum().reset_index()
    model = bmb.Model(
        "p(bought, n) ~ 1 + promo",
        by_promo,
        family="binomial",
        priors={
            "Intercept": bmb.Prior("Normal", mu=0, sigma=1),
            "promo": bmb.Prior("Normal", mu=0, sigma=1),
        },
    )
    idata = fit(model)
    summary = check_convergence(idata)
    intercept = summary.loc["Intercept"]
    slope = summary.loc["promo[Bundle]"]
    # Closed form (maximum likelihood); the Normal(0, 1) priors move it by < 0.005 with these counts.
    assert intercept["mean"] == pytest.approx(np.log(670 / 812), abs=4 * intercept["mcse_mean"] + 0.01)
    assert slope["mean"] == pytest.approx(np.log((919 / 755) / (670 / 812)), abs=4 * slope["mcse_mean"] + 0.01)
    # Published brms posterior sds: 0.05 and 0.07.
    assert intercept["sd"] == pytest.approx(0.05, abs=0.01)
    assert slope["sd"] == pytest.approx(0.07, abs=0.01)
