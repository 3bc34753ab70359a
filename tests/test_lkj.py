"""correlated_effects_model: formula parsing, refusals, model structure, and recovery of truth."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pymc as pm
import pytest

from helpers.data import aggregate_binomial, load_season_pass
from helpers.diagnostics import check_convergence
from helpers.models import ParsedFormula, correlated_effects_model, parse_formula
from helpers.sampling import sample_kwargs
from helpers.simulate import simulate_correlated_stores


def gaussian_groups(n_groups=60, per_group=5, corr=-0.6, seed=5, noise=1.0):
    """y = (1 + a_g) + (0.5 + b_g) x + Normal(0, noise), with corr(a_g, b_g) = corr.

    Few observations per group: the regime where the non-centered form samples well.
    """
    rng = np.random.default_rng(seed)
    sd = np.array([1.0, 0.5])
    cov = np.outer(sd, sd) * np.array([[1, corr], [corr, 1]])
    ab = rng.multivariate_normal([0, 0], cov, size=n_groups)
    g = np.repeat(np.arange(n_groups), per_group)
    x = rng.normal(size=g.size)
    y = 1 + ab[g, 0] + (0.5 + ab[g, 1]) * x + rng.normal(0, noise, g.size)
    return pd.DataFrame({"g": [f"g{i:02d}" for i in g], "x": x, "y": y})


@pytest.fixture(scope="module")
def counts():
    return aggregate_binomial(load_season_pass())


# --- parsing ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("formula", "expected"),
    [
        ("y ~ 1 + x + (1 + x | g)", ParsedFormula("y", None, "1 + x", "1 + x", "g")),
        ("p(bought, n) ~ 0 + (1 + promo | channel)",
         ParsedFormula("bought", "n", "0", "1 + promo", "channel")),
        ("y ~ (1 + x | g)", ParsedFormula("y", None, "1", "1 + x", "g")),
        ("y ~ (1 + x | g) + x", ParsedFormula("y", None, "x", "1 + x", "g")),
    ],
)
def test_parse_formula(formula, expected):
    assert parse_formula(formula) == expected


@pytest.mark.parametrize(
    ("formula", "message"),
    [
        ("y ~ 1 + (1 | a) + (1 | b)", "2 grouping terms"),
        ("y ~ 1 + (1 + x | a/b)", "nested"),
        ("y ~ 1 + (1 + x || g)", r"'\|\|'"),
        ("y ~ 1 + (1 + x | a:b)", "single column name"),
        ("y ~ 1 + x", "no grouping term"),
        ("y ~ x ~ z", "exactly one '~'"),
        ("p(y) ~ (1 + x | g)", "p\\(successes, trials\\)"),
        ("log(y) ~ (1 + x | g)", "column name"),
    ],
)
def test_unsupported_formulas_are_refused(formula, message):
    with pytest.raises(ValueError, match=message):
        parse_formula(formula)


# --- model structure ----------------------------------------------------------------------------


def test_season_pass_model_structure(counts):
    model = correlated_effects_model(
        "p(bought, n) ~ 0 + (1 + promo | channel)", counts, family="binomial"
    )
    assert model.coords["channel"] == ("Mail", "Park", "Email")
    assert model.coords["effect"] == ("Intercept", "promo[Bundle]")
    assert "common" not in model.coords and "b" not in model.named_vars
    dims = model.named_vars_to_dims
    assert dims["r_channel"] == ("channel", "effect")
    assert dims["cor_channel"] == ("effect", "effect_bis")
    assert dims["sd_channel"] == ("effect",)


def test_gaussian_model_structure():
    data = gaussian_groups(n_groups=5, per_group=4)
    model = correlated_effects_model("y ~ 1 + x + (1 + x | g)", data)
    assert model.coords["common"] == ("Intercept", "x")
    assert model.coords["g"] == tuple(f"g{i:02d}" for i in range(5))
    assert {"b", "sigma", "sd_g", "cor_g", "r_g", "y"} <= set(model.named_vars)


def test_categorical_coding_matches_bambi(counts):
    """Ordered categoricals keep their reference level; unordered ones are alphabetical."""
    unordered = counts.astype({"promo": str, "channel": str})
    model = correlated_effects_model(
        "p(bought, n) ~ 1 + channel + (1 + promo | channel)", unordered, family="binomial"
    )
    assert model.coords["effect"] == ("Intercept", "promo[NoBundle]")
    assert model.coords["common"] == ("Intercept", "channel[Mail]", "channel[Park]")
    assert model.coords["channel"] == ("Email", "Mail", "Park")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"family": "poisson"}, "family must be one of"),
        ({"family": "gaussian"}, "expects a numeric response"),
        ({"eta": 0}, "eta must be positive"),
        ({"sd_scale": -1}, "sd_scale must be positive"),
    ],
)
def test_bad_arguments(counts, kwargs, message):
    kwargs = {"family": "binomial", **kwargs}
    with pytest.raises(ValueError, match=message):
        correlated_effects_model("p(bought, n) ~ 0 + (1 + promo | channel)", counts, **kwargs)


def test_bad_data(counts):
    with pytest.raises(ValueError, match="fewer than two group-level effects"):
        correlated_effects_model("p(bought, n) ~ 1 + (1 | channel)", counts, family="binomial")
    with pytest.raises(ValueError, match=r"\['segment'\] not in the data"):
        correlated_effects_model("p(bought, n) ~ (1 + promo | segment)", counts, family="binomial")
    with pytest.raises(ValueError, match="fewer than two levels"):
        correlated_effects_model("p(bought, n) ~ (1 + promo | channel)",
                                 counts[counts["channel"] == "Mail"], family="binomial")
    with pytest.raises(ValueError, match="bought <= n"):
        correlated_effects_model("p(bought, n) ~ (1 + promo | channel)",
                                 counts.assign(bought=counts["n"] + 1), family="binomial")
    data = gaussian_groups(n_groups=3, per_group=3)
    with pytest.raises(ValueError, match="must be 0/1"):
        correlated_effects_model("y ~ (1 + x | g)", data, family="bernoulli")
    data.loc[0, "x"] = np.nan
    with pytest.raises(ValueError, match="missing values"):
        correlated_effects_model("y ~ (1 + x | g)", data)


# --- recovery of a known correlation (slow) -------------------------------------------------------


@pytest.mark.slow
def test_gaussian_recovers_a_negative_correlation():
    data = gaussian_groups(corr=-0.6)
    with correlated_effects_model("y ~ 1 + x + (1 + x | g)", data, eta=2.0):
        idata = pm.sample(**sample_kwargs(target_accept=0.9))
    summary = check_convergence(idata, var_names=["b", "sd_g", "cor_g", "sigma"])
    cor = summary.loc["cor_g[Intercept, x]"]
    assert cor["eti89_lb"] < -0.6 < cor["eti89_ub"]
    assert cor["mean"] < 0
    assert summary.loc["sd_g[Intercept]", "eti89_lb"] < 1.0 < summary.loc["sd_g[Intercept]", "eti89_ub"]
    assert summary.loc["sd_g[x]", "eti89_lb"] < 0.5 < summary.loc["sd_g[x]", "eti89_ub"]
    assert summary.loc["sigma", "eti89_lb"] < 1.0 < summary.loc["sigma", "eti89_ub"]


@pytest.mark.slow
def test_binomial_recovers_correlated_store_effects():
    sim = simulate_correlated_stores(n_stores=60, contacts=100, corr=-0.6, seed=1)
    model = correlated_effects_model(
        "p(bought, n) ~ 1 + promo + (1 + promo | store)", sim.data, family="binomial"
    )
    with model:
        idata = pm.sample(**sample_kwargs(target_accept=0.9, draws=2000))
    summary = check_convergence(idata, var_names=["b", "sd_store", "cor_store"])
    cor = summary.loc["cor_store[Intercept, promo[Bundle]]"]
    assert cor["eti89_lb"] < -0.6 < cor["eti89_ub"]
    r = idata["posterior"]["r_store"].mean(("chain", "draw"))
    b = idata["posterior"]["b"].mean(("chain", "draw"))
    slope = (r.sel(effect="promo[Bundle]") + b.sel(common="promo[Bundle]")).to_numpy()
    assert np.corrcoef(slope, sim.truth["slope"])[0, 1] > 0.7


@pytest.mark.parametrize("eta", [0.5, 1.0, 2.0, 4.0])
def test_lkj_correlation_matches_its_closed_form(eta):
    """For a 2 x 2 LKJ(eta) correlation, (rho + 1) / 2 ~ Beta(eta, eta) (the chapter's figure)."""
    from scipy import stats

    chol = pm.draw(pm.LKJCorr.dist(n=2, eta=eta), draws=20_000, random_seed=1)
    rho = (chol @ chol.transpose(0, 2, 1))[:, 0, 1]
    assert stats.kstest((rho + 1) / 2, stats.beta(eta, eta).cdf).pvalue > 0.001


@pytest.mark.parametrize("eta", [1.0, 3.0])
def test_model_correlation_prior_is_lkj(counts, eta):
    """The model's cor_<group> deterministic, drawn from the prior, follows LKJ(eta)."""
    from scipy import stats

    model = correlated_effects_model(
        "p(bought, n) ~ 0 + (1 + promo | channel)", counts, family="binomial", eta=eta
    )
    with model:
        prior = pm.sample_prior_predictive(draws=4000, random_seed=2)
    cor = prior["prior"]["cor_channel"].sel(effect="Intercept", effect_bis="promo[Bundle]")
    rho = cor.values.ravel()
    assert stats.kstest((rho + 1) / 2, stats.beta(eta, eta).cdf).pvalue > 0.001
    diag = prior["prior"]["cor_channel"].sel(effect="Intercept", effect_bis="Intercept")
    assert np.allclose(diag, 1.0)
    sd = prior["prior"]["sd_channel"].values.ravel()
    assert stats.kstest(sd, stats.halfnorm(scale=1.0).cdf).pvalue > 0.001


@pytest.mark.slow
def test_season_pass_lkj_model_matches_brms_single_bar(counts):
    """Like with like: the helper's `0 + (1 + promo | channel)` with LKJ(1) and half-normal(1) sds is
    brms's `|` model. Its channel values agree with the published fit within Monte Carlo error
    (ours, and brms's taken as at most sd / sqrt(2,000)) plus the published rounding."""
    from helpers.published import (
        BRMS_VARYING_INTERCEPT,
        BRMS_VARYING_SLOPE,
        PUBLISHED_DECIMALS,
        agreement_tolerance,
    )

    model = correlated_effects_model(
        "p(bought, n) ~ 0 + (1 + promo | channel)", counts, family="binomial", eta=1.0, sd_scale=1.0
    )
    with model:
        idata = pm.sample(**sample_kwargs(target_accept=0.95))
    summary = check_convergence(idata, var_names=["sd_channel", "cor_channel", "r_channel"])
    published = {f"r_channel[{c}, Intercept]": v for c, v in BRMS_VARYING_INTERCEPT.items()}
    published |= {f"r_channel[{c}, promo[Bundle]]": v for c, v in BRMS_VARYING_SLOPE.items()}
    for name, value in published.items():
        row = summary.loc[name]
        tolerance = agreement_tolerance(row["mcse_mean"], row["sd"], PUBLISHED_DECIMALS)
        assert abs(row["mean"] - value) <= tolerance, (name, row["mean"], value, tolerance)
    # With three channels the correlation is moved by the data (the prior puts half its mass
    # below zero) but its interval is wide.
    cor = idata["posterior"]["cor_channel"].sel(effect="Intercept", effect_bis="promo[Bundle]")
    assert (cor < 0).mean() > 0.9
    assert cor.quantile(0.945) - cor.quantile(0.055) > 0.5
