"""correlated_effects_model: formula parsing, refusals, model structure, and recovery of truth."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd
import pymc as pm
import pytest

from helpers.data import aggregate_binomial, load_season_pass
from helpers.diagnostics import check_convergence, summarize
from helpers.lkj import (
    GroupTerm,
    ParsedFormula,
    PriorDataConflictWarning,
    correlated_effects_model,
    model_priors,
    parse_formula,
    predict,
)
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


def term(effects, group, correlated=True):
    return GroupTerm(effects, group, correlated)


@pytest.mark.parametrize(
    ("formula", "expected"),
    [
        ("y ~ 1 + x + (1 + x | g)", ParsedFormula("y", None, "1 + x", (term("1 + x", "g"),))),
        (
            "p(bought, n) ~ 0 + (1 + promo | channel)",
            ParsedFormula("bought", "n", "0", (term("1 + promo", "channel"),)),
        ),
        ("y ~ (1 + x | g)", ParsedFormula("y", None, "1", (term("1 + x", "g"),))),
        ("y ~ (1 + x | g) + x", ParsedFormula("y", None, "x", (term("1 + x", "g"),))),
        (
            "y ~ x + (1 + x | g) + (1 | h)",
            ParsedFormula("y", None, "x", (term("1 + x", "g"), term("1", "h"))),
        ),
        ("y ~ x + (1 | a/b)", ParsedFormula("y", None, "x", (term("1", "a"), term("1", "a:b")))),
        ("y ~ x + (1 + x || g)", ParsedFormula("y", None, "x", (term("1 + x", "g", False),))),
        (
            "y ~ x + (1 | a:b) + (1 | a)",
            ParsedFormula("y", None, "x", (term("1", "a:b"), term("1", "a"))),
        ),
        (
            "y ~ x + (1 | a/b) + (1 | b)",
            ParsedFormula("y", None, "x", (term("1", "a"), term("1", "a:b"), term("1", "b"))),
        ),
        (
            "y ~ x + (1 | a / b / c)",
            ParsedFormula("y", None, "x", (term("1", "a"), term("1", "a:b"), term("1", "a:b:c"))),
        ),
    ],
)
def test_parse_formula(formula, expected):
    assert parse_formula(formula) == expected


@pytest.mark.parametrize(
    ("formula", "message"),
    [
        ("y ~ 1 + (1 | g) + (0 + x | g)", r"\['g'\] appear in more than one term.*\(1 \+ x \| g\)"),
        ("y ~ 1 + (1 + x | gr(g, by = h))", "column names joined by ':'"),
        ("y ~ 1 + (1 + x | a/b:c)", "mixes ':' and '/'"),
        ("y ~ 1 + (| g)", "names no effects"),
        ("y ~ 1 + x", "no grouping term.*Bambi"),
        ("y ~ x ~ z", "exactly one '~'"),
        ("p(y) ~ (1 + x | g)", "p\\(successes, trials\\)"),
        ("log(y) ~ (1 + x | g)", "column name.*log_y"),
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
        ({"eta": 0}, "eta must be a finite positive number"),
        ({"sd_scale": -1}, "sd_scale must be a finite positive number"),
        ({"common_scale": float("inf")}, "common_scale must be a finite positive"),
        ({"sigma_scale": 0}, "sigma_scale must be a finite positive"),
        ({"centered": ["store"]}, r"centered names \['store'\]"),
    ],
)
def test_bad_arguments(counts, kwargs, message):
    kwargs = {"family": "binomial", **kwargs}
    with pytest.raises(ValueError, match=message):
        correlated_effects_model("p(bought, n) ~ 0 + (1 + promo | channel)", counts, **kwargs)


def test_bad_data(counts):
    with pytest.raises(ValueError, match=r"\['segment'\] not in the data"):
        correlated_effects_model("p(bought, n) ~ (1 + promo | segment)", counts, family="binomial")
    with pytest.raises(ValueError, match="fewer than two levels"):
        correlated_effects_model(
            "p(bought, n) ~ (1 + promo | channel)",
            counts[counts["channel"] == "Mail"],
            family="binomial",
        )
    with pytest.raises(ValueError, match="'bought' exceeds 'n' in rows"):
        correlated_effects_model(
            "p(bought, n) ~ (1 + promo | channel)",
            counts.assign(bought=counts["n"] + 1),
            family="binomial",
        )
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
        # 0.9 left one chain stuck (r_hat 1.15) on an Intel machine where an AMD one mixed; 0.95
        # mixed for data seeds 5 to 8 with 5 rows per group (and seeds 5, 6 with 10).
        idata = pm.sample(**sample_kwargs(target_accept=0.95))
    summary = check_convergence(idata, var_names=["b", "sd_g", "cor_g", "sigma"])
    cor = summary.loc["cor_g[Intercept, x]"]
    assert cor["eti89_lb"] < -0.6 < cor["eti89_ub"]
    assert cor["mean"] < 0
    assert (
        summary.loc["sd_g[Intercept]", "eti89_lb"]
        < 1.0
        < summary.loc["sd_g[Intercept]", "eti89_ub"]
    )
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
        "p(bought, n) ~ 0 + (1 + promo | channel)",
        counts,
        family="binomial",
        eta=eta,
        sd_scale=1.0,
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


# --- default priors: Bambi's, on the data's scale ---------------------------------------------------


def mixed_data(n=200, seed=1):
    rng = np.random.default_rng(seed)
    data = pd.DataFrame(
        {
            "g": rng.choice(list("abcdef"), n),
            "h": rng.choice(list("uvw"), n),
            "x": rng.normal(5, 3, n),
            "w": rng.gamma(2, 10, n),
            "c": pd.Categorical(rng.choice(list("PQR"), n)),
        }
    )
    data["y"] = 300 + 20 * data["x"] + rng.normal(0, 30, n)
    data["yb"] = (rng.random(n) < 0.4).astype(int)
    return data


@pytest.mark.parametrize(("family", "response"), [("gaussian", "y"), ("bernoulli", "yb")])
def test_default_priors_are_bambis(family, response):
    """Every default prior scale equals the one Bambi 0.21 gives the same formula and data."""
    import bambi as bmb

    data = mixed_data()
    rhs = "1 + x + c + w + (1 + x | g) + (1 | h)"
    bambi_model = bmb.Model(f"{response} ~ {rhs}", data, family=family)
    bambi_model.build()
    mu = bambi_model.parameters[bambi_model.family.likelihood.parent]
    priors = model_priors(f"{response} ~ {rhs}", data, family=family)
    assert priors.centred
    assert priors.intercept == pytest.approx(
        (float(mu.intercept_term.prior.args["mu"]), float(mu.intercept_term.prior.args["sigma"]))
    )
    for name, bambi_term in mu.common_terms.items():
        columns = [c for c in priors.common if c == name or c.startswith(f"{name}[")]
        sigmas = np.atleast_1d(bambi_term.prior.args["sigma"])
        assert [priors.common[c][1] for c in columns] == pytest.approx(list(sigmas)), name
    group_terms = mu.group_specific_terms
    assert priors.group_sd["g"]["Intercept"] == pytest.approx(
        float(group_terms["1|g"].prior.args["sigma"].args["sigma"])
    )
    assert priors.group_sd["g"]["x"] == pytest.approx(
        float(group_terms["x|g"].prior.args["sigma"].args["sigma"])
    )
    assert priors.group_sd["h"]["Intercept"] == pytest.approx(
        float(group_terms["1|h"].prior.args["sigma"].args["sigma"])
    )
    if family == "gaussian":
        sigma = bambi_model.parameters["sigma"].prior
        assert priors.sigma[0] == "HalfStudentT"
        assert priors.sigma[1:] == pytest.approx(
            (float(sigma.args["nu"]), float(sigma.args["sigma"]))
        )
    else:
        assert priors.sigma is None


def test_default_priors_scale_with_the_data():
    """Multiplying the response by 1000 multiplies every gaussian prior scale by 1000."""
    data = mixed_data()
    formula = "y ~ 1 + x + (1 + x | g)"
    small = model_priors(formula, data)
    big = model_priors(formula, data.assign(y=1000 * data["y"]))
    assert big.intercept == pytest.approx((1000 * small.intercept[0], 1000 * small.intercept[1]))
    assert big.common["x"][1] == pytest.approx(1000 * small.common["x"][1])
    assert big.group_sd["g"]["x"] == pytest.approx(1000 * small.group_sd["g"]["x"])
    assert big.sigma[2] == pytest.approx(1000 * small.sigma[2])


def test_explicit_scales_give_the_unit_priors(counts):
    priors = model_priors(
        "p(bought, n) ~ 1 + promo + (1 + promo | channel)",
        counts,
        family="binomial",
        eta=2.0,
        sd_scale=1.0,
        common_scale=1.0,
    )
    assert not priors.centred and priors.intercept is None
    assert priors.common == {"Intercept": (0.0, 1.0), "promo[Bundle]": (0.0, 1.0)}
    assert priors.group_sd == {"channel": {"Intercept": 1.0, "promo[Bundle]": 1.0}}
    table = priors.table()
    assert table.loc["b[Intercept]", "prior"] == "Normal(0, 1)"
    assert table.loc["cor_channel", "prior"] == "LKJ(2)"
    assert "HalfNormal(1)" in str(priors)
    model = correlated_effects_model(
        "p(bought, n) ~ 1 + promo + (1 + promo | channel)",
        counts,
        family="binomial",
        sd_scale=1.0,
        common_scale=1.0,
    )
    assert "Intercept" not in model.named_vars and "b" in model.free_RVs[-1].name


def test_sigma_scale_gives_a_half_normal():
    data = mixed_data()
    # y's sd is about 64, so HalfNormal(2) on sigma is a prior-data conflict (see below).
    with pytest.warns(PriorDataConflictWarning, match="sigma_scale"):
        priors = model_priors("y ~ 1 + x + (1 | g)", data, sigma_scale=2.0)
    assert priors.sigma == ("HalfNormal", 2.0)
    assert priors.table().loc["sigma", "prior"] == "HalfNormal(2)"


def test_constant_columns_are_refused():
    data = mixed_data().assign(k=1.0)
    with pytest.raises(ValueError, match=r"\['k'\] of the design are constant"):
        model_priors("y ~ 1 + k + (1 | g)", data)
    with pytest.raises(ValueError, match="response 'y' is constant"):
        model_priors("y ~ 1 + x + (1 | g)", data.assign(y=3.0))


def test_centred_intercept_prior_is_on_the_centred_design():
    """With data-scaled defaults the sampler's Intercept is the centred one; b is on the data's scale."""
    data = mixed_data()
    model = correlated_effects_model("y ~ 1 + x + (1 | g)", data)
    assert {"Intercept", "beta", "b"} <= set(model.named_vars)
    assert model.named_vars_to_dims["b"] == ("common",)
    with model:
        prior = pm.sample_prior_predictive(draws=2000, random_seed=3)["prior"]
    b = prior["b"]
    centred = prior["Intercept"]
    expected = centred - prior["beta"].sel(slope="x") * data["x"].mean()
    np.testing.assert_allclose(b.sel(common="Intercept"), expected, rtol=1e-6)
    priors = model_priors("y ~ 1 + x + (1 | g)", data)
    assert float(centred.mean()) == pytest.approx(priors.intercept[0], rel=0.05)
    assert float(centred.std()) == pytest.approx(priors.intercept[1], rel=0.05)


# --- several grouping terms ------------------------------------------------------------------------


def test_crossed_nested_and_uncorrelated_structure():
    data = mixed_data()
    crossed = correlated_effects_model("y ~ 1 + x + (1 + x | g) + (1 | h)", data)
    dims = crossed.named_vars_to_dims
    assert dims["r_g"] == ("g", "effect_g") and dims["cor_g"] == ("effect_g", "effect_g_bis")
    assert dims["r_h"] == ("h", "effect_h") and "cor_h" not in crossed.named_vars
    assert crossed.coords["effect_h"] == ("Intercept",)

    uncorrelated = correlated_effects_model("y ~ 1 + x + (1 + x || g)", data)
    assert "cor_g" not in uncorrelated.named_vars and "chol_g" not in uncorrelated.named_vars
    assert uncorrelated.named_vars_to_dims["sd_g"] == ("effect",)

    nested_data = data.assign(b=data["h"])  # labels u, v, w repeat inside every g
    nested = correlated_effects_model("y ~ 1 + x + (1 | g/b)", nested_data)
    combos = nested_data["g"] + ":" + nested_data["b"]
    assert nested.coords["g:b"] == tuple(sorted(combos.unique()))
    assert len(nested.coords["g:b"]) > len(nested.coords["b"] if "b" in nested.coords else ())
    assert {"sd_g", "sd_g:b", "r_g", "r_g:b"} <= set(nested.named_vars)

    centred = correlated_effects_model(
        "y ~ 1 + x + (1 + x | g) + (1 | h)", data, centered=["g", "h"]
    )
    assert "z_g" not in centred.named_vars and "z_h" not in centred.named_vars
    assert centred.named_vars_to_dims["r_g"] == ("g", "effect_g")
    # g, first in the formula, takes the mean b[Intercept], b[x]; h's intercepts, the column
    # already taken, are deviations around 0.
    assert centred.named_vars_to_dims["coef_g"] == ("g", "effect_g")
    assert "coef_h" not in centred.named_vars and centred["r_h"] in centred.free_RVs


@pytest.mark.parametrize("common_scale", [None, 1.0])
def test_centred_effects_are_drawn_around_the_common_coefficients(common_scale):
    """Hierarchical centring, exactly: given the groups' own effects coef_g, the data do not
    depend on the common coefficients they share (b moves only coef_g's prior), while in the
    non-centered model the same move changes the fit; and r_g is coef_g minus b."""
    data = mixed_data()
    if common_scale is not None:  # unit-scale priors want a standardized response
        data["y"] = (data["y"] - data["y"].mean()) / data["y"].std()
    formula = "y ~ 1 + x + (1 + x | g)"
    scale = {"common_scale": common_scale}
    # What the sampler draws for the common part: the centred design's Intercept and beta, or b.
    moved = "Intercept" if common_scale is None else "b"
    changes = {}
    for centered in ("g", ()):
        model = correlated_effects_model(formula, data, centered=centered, **scale)
        point = model.initial_point(random_seed=3)
        data_logp = model.compile_fn(
            model.datalogp, inputs=model.value_vars, on_unused_input="ignore"
        )
        shifted = {**point, moved: point[moved] + 2 * data["y"].std()}
        if "beta" in point:  # the slope, shared too
            shifted["beta"] = point["beta"] + 1.0
        changes[bool(centered)] = data_logp(shifted) - data_logp(point)
        if centered:
            # At the point's values (not fresh prior draws): the variables as functions of
            # the value variables.
            outputs = model.replace_rvs_by_values([model["r_g"], model["coef_g"], model["b"]])
            r, coef, b = model.compile_fn(
                outputs, inputs=model.value_vars, on_unused_input="ignore"
            )(point)
            np.testing.assert_allclose(coef, point["coef_g"])
            np.testing.assert_allclose(r, coef - b[None, :], atol=1e-12)
            assert model["coef_g"] in model.free_RVs and model["r_g"] not in model.free_RVs
    assert changes[True] == pytest.approx(0.0, abs=1e-6)
    assert abs(changes[False]) > 1.0


@pytest.mark.slow
def test_centred_form_samples_groups_with_plenty_of_data():
    """1,000 contacts of each offer per store, each store's effects pinned by its own data: the
    centred form (centered="store") passes the gate on every variable, its stores' own effects
    and sds recover the truth, and it samples the population mean b better than the
    non-centered form, in which b and the stores' deviations trade off."""
    sim = simulate_correlated_stores(n_stores=100, contacts=1_000, corr=-0.6, seed=2)
    data = sim.data.assign(bundle=np.where(sim.data["promo"] == "Bundle", 0.5, -0.5))
    formula = "p(bought, n) ~ 1 + bundle + (1 + bundle | store)"
    fits = {}
    for centered in ("store", ()):
        with correlated_effects_model(formula, data, family="binomial", centered=centered):
            fits[bool(centered)] = pm.sample(**sample_kwargs())
    idata = fits[True]
    summary = check_convergence(idata)  # every variable, b and the 200 store effects included
    ess = {
        key: summarize(fit, var_names=["b"])[["ess_bulk", "ess_tail"]].min().min()
        for key, fit in fits.items()
    }
    assert ess[True] > ess[False], ess
    # The truth on the -1/2, +1/2 coding: intercept = no-bundle log-odds + slope / 2.
    truth = np.column_stack([sim.truth["intercept"] + sim.truth["slope"] / 2, sim.truth["slope"]])
    coef = idata["posterior"]["coef_store"]
    low = coef.quantile(0.055, dim=("chain", "draw")).to_numpy()
    high = coef.quantile(0.945, dim=("chain", "draw")).to_numpy()
    coverage = ((low <= truth) & (truth <= high)).mean(axis=0)
    assert (coverage > 0.8).all(), coverage
    for i, effect in enumerate(["Intercept", "bundle"]):
        row = summary.loc[f"sd_store[{effect}]"]
        assert row["eti89_lb"] < truth[:, i].std() < row["eti89_ub"]
        row = summary.loc[f"b[{effect}]"]
        assert row["eti89_lb"] < truth[:, i].mean() < row["eti89_ub"]


# --- predictions ---------------------------------------------------------------------------------


def prior_as_posterior(model, draws=500, seed=4):
    with model:
        prior = pm.sample_prior_predictive(draws=draws, random_seed=seed)
    import xarray as xr

    return xr.DataTree.from_dict({"posterior": prior["prior"].to_dataset()})


@pytest.mark.parametrize("family", ["gaussian", "binomial"])
def test_existing_group_predictions_are_the_models_fitted_values(family):
    """On the training rows, predict's mean gives the model's own log-likelihood, draw by draw."""
    from scipy import stats

    data = mixed_data()
    if family == "gaussian":
        formula = "y ~ 1 + x + c + (1 + x | g) + (1 | h)"
    else:
        data = data.assign(n=10, k=np.random.default_rng(2).binomial(10, 0.3, len(data)))
        formula = "p(k, n) ~ 1 + x + c + (1 + x | g) + (1 | h)"
    # Unit-scale priors for the binomial model, so that prior draws keep p away from 0 and 1.
    scales = {} if family == "gaussian" else {"common_scale": 1.0, "sd_scale": 0.5}
    model = correlated_effects_model(formula, data, family=family, **scales)
    idata = prior_as_posterior(model, draws=50)
    mean = predict(idata, formula, data, family=family).to_numpy()
    with model:
        loglik = pm.compute_log_likelihood(idata, progressbar=False)["log_likelihood"]
    observed = loglik[model.observed_RVs[0].name].to_numpy()
    if family == "gaussian":
        sigma = idata["posterior"]["sigma"].to_numpy()[..., None]
        expected = stats.norm.logpdf(data["y"].to_numpy(), mean, sigma)
    else:
        expected = stats.binom.logpmf(data["k"].to_numpy(), 10, mean)
    np.testing.assert_allclose(observed, expected, rtol=1e-6, atol=1e-8)


def test_new_group_predictions_have_the_population_spread():
    """A new group's effects are Normal(0, covariance) per draw: standardised, they are N(0, 1)."""
    from scipy import stats

    data = mixed_data()
    formula = "y ~ 1 + x + (1 + x | g)"
    idata = prior_as_posterior(correlated_effects_model(formula, data), draws=4000)
    new = pd.DataFrame({"g": ["new", "new"], "x": [0.0, 4.0]})
    mean = predict(idata, formula, data, new, sample_new_groups=True, random_seed=5)
    post = idata["posterior"]
    common = post["b"].sel(common="Intercept") + post["b"].sel(common="x") * new["x"].to_numpy()[1]
    sd, cor = post["sd_g"].to_numpy(), post["cor_g"].to_numpy()[..., 0, 1]
    row = np.array([1.0, 4.0])
    var = (
        (row[0] * sd[..., 0]) ** 2
        + (row[1] * sd[..., 1]) ** 2
        + 2 * row[0] * row[1] * cor * sd[..., 0] * sd[..., 1]
    )
    standardised = ((mean.isel(obs=1) - common).to_numpy() / np.sqrt(var)).ravel()
    assert stats.kstest(standardised, "norm").pvalue > 0.001
    # Both rows share the same new group: their group effects differ only through x.
    intercept_part = (mean.isel(obs=0) - post["b"].sel(common="Intercept")).to_numpy()
    assert stats.kstest((intercept_part / sd[..., 0]).ravel(), "norm").pvalue > 0.001


def test_predict_errors_and_kinds():
    data = mixed_data()
    formula = "y ~ 1 + x + c + (1 | g)"
    idata = prior_as_posterior(correlated_effects_model(formula, data), draws=20)
    new = pd.DataFrame({"g": ["a", "zz"], "x": [0.0, 1.0], "c": ["P", "Q"]})
    with pytest.raises(
        ValueError,
        match=r"\['zz'\] of 'g' were not in the training data.*"
        "sample_new_groups=True",
    ):
        predict(idata, formula, data, new)
    with pytest.raises(ValueError, match="cannot evaluate.*levels \\(S\\)"):
        predict(idata, formula, data, new.assign(c=["P", "S"]), sample_new_groups=True)
    with pytest.raises(ValueError, match=r"\['g'\].*not in new_data"):
        predict(idata, formula, data, new.drop(columns="g"))
    with pytest.raises(ValueError, match="kind must be"):
        predict(idata, formula, data, new, kind="link")
    fewer = data[data["g"].astype(str) != "a"].assign(g=lambda d: d["g"].astype(str))
    with pytest.raises(ValueError, match="levels of 'g' in `data` differ.*same data frame"):
        predict(idata, formula, fewer, new, sample_new_groups=True)
    draws = predict(
        idata, formula, data, new, kind="response", sample_new_groups=True, random_seed=1
    )
    assert draws.name == "y" and draws.dims == ("chain", "draw", "obs") and draws.sizes["obs"] == 2
    mean = predict(idata, formula, data, new, sample_new_groups=True, random_seed=1)
    assert mean.name == "mu"
    again = predict(idata, formula, data, new, sample_new_groups=True, random_seed=1)
    np.testing.assert_array_equal(mean, again)


# --- defaults on any scale, crossed, nested and || against truth and Bambi (slow) -----------------

REACTION_FORMULA = "reaction ~ 1 + days + (1 + days | subject) + (1 | stimulus)"
REACTION_VARS = ["b", "sd_subject", "cor_subject", "sd_stimulus", "sigma"]


def fit_reactions(y_scale, x_scale, seed):
    from helpers.simulate import simulate_reaction_times

    sim = simulate_reaction_times(
        n_subjects=30, n_days=10, n_stimuli=30, y_scale=y_scale, x_scale=x_scale, seed=seed
    )
    with correlated_effects_model(REACTION_FORMULA, sim.data):
        idata = pm.sample(**sample_kwargs(target_accept=0.95, draws=2000))
    return sim, idata, check_convergence(idata, var_names=REACTION_VARS)


SCALES = [(1e-3, 24.0), (1.0, 1.0), (1e3, 1 / 7), (1e5, 1e3)]


@pytest.fixture(scope="module")
def reaction_fits():
    return {(y, x, seed): fit_reactions(y, x, seed) for y, x in SCALES for seed in (1, 2)}


@pytest.mark.slow
def test_default_priors_recover_truth_on_any_scale(reaction_fits):
    """Responses around 1e-3 to 1e5 and predictors in hours, days, weeks or 1/1000 days: the
    default priors pass the gate and their 89% intervals cover the truth about 89% of the time."""
    names = {
        "b[Intercept]": "intercept",
        "b[days]": "slope",
        "sd_subject[Intercept]": "sd_intercept",
        "sd_subject[days]": "sd_slope",
        "sd_stimulus[Intercept]": "sd_stimulus",
        "sigma": "sigma",
        "cor_subject[Intercept, days]": "corr",
    }
    covered = []
    for sim, _idata, summary in reaction_fits.values():
        for row, param in names.items():
            truth = getattr(sim.params, param)
            covered.append(summary.loc[row, "eti89_lb"] <= truth <= summary.loc[row, "eti89_ub"])
        # the population intercept and slope in every fit (unit-scale priors got these wrong):
        # within three posterior sds, as an 89% interval misses one time in nine
        for row, param in [("b[Intercept]", "intercept"), ("b[days]", "slope")]:
            gap = abs(summary.loc[row, "mean"] - getattr(sim.params, param))
            assert gap < 3 * summary.loc[row, "sd"]
    assert np.mean(covered) >= 0.75, np.mean(covered)


@pytest.mark.slow
def test_same_posterior_on_every_scale(reaction_fits):
    """Bambi's default priors scale with the data, so rescaled data give the same posterior in
    the data's units: posterior means, divided by the scales, agree within Monte Carlo error."""
    for seed in (1, 2):
        base_sim, _, base = reaction_fits[(1.0, 1.0, seed)]
        for y_scale, x_scale in SCALES:
            _, _, summary = reaction_fits[(y_scale, x_scale, seed)]
            units = {
                "b[Intercept]": y_scale,
                "b[days]": y_scale / x_scale,
                "sd_subject[Intercept]": y_scale,
                "sd_subject[days]": y_scale / x_scale,
                "sigma": y_scale,
                "sd_stimulus[Intercept]": y_scale,
            }
            for row, unit in units.items():
                mean, mcse = summary.loc[row, "mean"] / unit, summary.loc[row, "mcse_mean"] / unit
                gap = abs(mean - base.loc[row, "mean"])
                assert gap <= 4 * np.hypot(mcse, base.loc[row, "mcse_mean"]) + 1e-9, (row, y_scale)


@pytest.mark.slow
def test_new_subject_predictions_from_a_fit(reaction_fits):
    """A new subject on day 9: its spread is the population's (sd of intercept + 9 * slope)."""
    sim, idata, _ = reaction_fits[(1.0, 1.0, 1)]
    stimulus = str(sim.data["stimulus"].iloc[0])
    new = pd.DataFrame({"subject": ["new"], "stimulus": [stimulus], "days": [9.0]})
    mean = predict(idata, REACTION_FORMULA, sim.data, new, sample_new_groups=True, random_seed=1)
    post = idata["posterior"]
    sd = post["sd_subject"]
    cor = post["cor_subject"].sel(effect_subject="Intercept", effect_subject_bis="days")
    implied = np.sqrt(
        sd.sel(effect_subject="Intercept") ** 2
        + 81 * sd.sel(effect_subject="days") ** 2
        + 18 * cor * sd.prod("effect_subject")
    )
    known = (
        post["b"].sel(common="Intercept")
        + 9 * post["b"].sel(common="days")
        + post["r_stimulus"].sel(stimulus=stimulus, effect_stimulus="Intercept")
    )
    from scipy import stats

    assert (
        stats.kstest(((mean.isel(obs=0) - known) / implied).to_numpy().ravel(), "norm").pvalue
        > 0.001
    )
    existing = predict(idata, REACTION_FORMULA, sim.data, sim.data.iloc[:10])
    assert (
        float(np.abs(existing.mean(("chain", "draw")) - sim.data["reaction"].iloc[:10]).mean())
        < 2 * sim.params.sigma
    )


@pytest.mark.slow
def test_nested_groups_recover_truth():
    """(1 | region/store) with store labels that repeat in every region: both sds recovered."""
    rng = np.random.default_rng(11)
    n_region, n_store, per_store = 12, 6, 8
    region_effect = rng.normal(0, 40, n_region)
    store_effect = rng.normal(0, 20, (n_region, n_store))
    region = np.repeat(np.arange(n_region), n_store * per_store)
    store = np.tile(np.repeat(np.arange(n_store), per_store), n_region)
    price = rng.uniform(2, 8, region.size)
    sales = (
        500
        - 30 * price
        + region_effect[region]
        + store_effect[region, store]
        + rng.normal(0, 10, region.size)
    )
    data = pd.DataFrame(
        {
            "region": [f"R{r}" for r in region],
            "store": [f"s{s}" for s in store],
            "price": price,
            "sales": sales,
        }
    )
    formula = "sales ~ 1 + price + (1 | region/store)"
    model = correlated_effects_model(formula, data)
    assert len(model.coords["region:store"]) == n_region * n_store
    with model:
        idata = pm.sample(**sample_kwargs(target_accept=0.95))
    summary = check_convergence(idata, var_names=["b", "sd_region", "sd_region:store", "sigma"])
    for row, truth in {
        "b[price]": -30,
        "sd_region[Intercept]": 40,
        "sd_region:store[Intercept]": 20,
        "sigma": 10,
    }.items():
        # one fit: within three posterior sds (an 89% interval misses one time in nine)
        assert abs(summary.loc[row, "mean"] - truth) < 3 * summary.loc[row, "sd"], row
    assert summary.loc["sd_region:store[Intercept]", "eti89_lb"] > 10  # stores do vary


@pytest.mark.slow
def test_uncorrelated_terms_match_bambi():
    """Same formula, same (default) priors: the helper's (1 + x || g) is Bambi's (1 + x | g)."""
    import bambi as bmb

    from helpers.sampling import fit

    data = gaussian_groups(n_groups=30, per_group=6, corr=0.0, seed=8)
    data["y"] = 200 + 40 * data["y"]
    ours = correlated_effects_model("y ~ 1 + x + (1 + x || g)", data)
    with ours:
        ours_idata = pm.sample(**sample_kwargs(target_accept=0.95))
    ours_summary = check_convergence(ours_idata, var_names=["b", "sd_g", "sigma"])
    bambi_idata = fit(bmb.Model("y ~ 1 + x + (1 + x | g)", data), target_accept=0.95)
    bambi_summary = check_convergence(
        bambi_idata, var_names=["Intercept", "x", "1|g_sigma", "x|g_sigma", "sigma"]
    )
    pairs = {
        "b[Intercept]": "Intercept",
        "b[x]": "x",
        "sd_g[Intercept]": "1|g_sigma",
        "sd_g[x]": "x|g_sigma",
        "sigma": "sigma",
    }
    for ours_row, bambi_row in pairs.items():
        a, b = ours_summary.loc[ours_row], bambi_summary.loc[bambi_row]
        assert abs(a["mean"] - b["mean"]) <= 4 * np.hypot(a["mcse_mean"], b["mcse_mean"]), ours_row
        assert abs(a["sd"] - b["sd"]) <= 0.1 * b["sd"], ours_row


# --- bad input (issue 17) -------------------------------------------------------------------------


@pytest.mark.parametrize("eta", [float("inf"), float("nan"), -1.0])
def test_eta_must_be_finite_and_positive(counts, eta):
    with pytest.raises(ValueError, match="eta must be a finite positive number"):
        correlated_effects_model(
            "p(bought, n) ~ 0 + (1 + promo | channel)", counts, family="binomial", eta=eta
        )


@pytest.mark.parametrize("eta", [1e308, 1e20, 1e-300])
def test_eta_outside_its_range_is_refused(counts, eta):
    """Huge eta gave a NaN log density (1e308) or a wrong one (above ~1e12); tiny eta fails."""
    with pytest.raises(ValueError, match=r"eta must lie between 1e-08 and 1e\+08.*\|\| g"):
        model_priors("p(bought, n) ~ 0 + (1 + promo | channel)", counts, family="binomial", eta=eta)


def test_binomial_counts_are_whole_numbers_within_the_trials(counts):
    formula = "p(bought, n) ~ (1 + promo | channel)"
    fractional = counts.astype({"bought": float})
    fractional.loc[fractional.index[2], "bought"] = 1.5
    # the one check of binomial counts, helpers.data.validate_counts, naming column and rows
    with pytest.raises(
        ValueError,
        match=r"column 'bought' must hold whole numbers of contacts, "
        rf"but rows \[{fractional.index[2]}\] do not \(1.5\)",
    ):
        correlated_effects_model(formula, fractional, family="binomial")
    with pytest.raises(ValueError, match="column 'n' must hold whole numbers of contacts"):
        correlated_effects_model(formula, counts.assign(n=counts["n"] + 0.5), family="binomial")
    with pytest.raises(
        ValueError,
        match=r"'bought' exceeds 'n' in rows \[0, 1, 2, 3, 4\] and "
        r"\d+ more: successes cannot outnumber trials",
    ):
        correlated_effects_model(formula, counts.assign(bought=counts["n"] + 1), family="binomial")
    with pytest.raises(ValueError, match=r"column 'bought' has negative counts in rows \[0\]"):
        correlated_effects_model(
            formula,
            counts.assign(bought=lambda d: d["bought"].where(d.index != 0, -1)),
            family="binomial",
        )
    with pytest.raises(ValueError, match="column 'n' must hold numeric counts, got dtype"):
        correlated_effects_model(
            formula, counts.assign(n=counts["n"].astype(str)), family="binomial"
        )


def test_untrusted_formula_code_is_not_run(tmp_path):
    """Formulas are code in formulae: the helper refuses a call before formulae evaluates it."""
    target = tmp_path / "FILE"
    data = mixed_data()
    formula = f'y ~ x + (1 + x | g) + helpers.sampling.os.system("touch {target}")'
    for call in (correlated_effects_model, model_priors):
        with pytest.raises(
            ValueError, match="attribute access.*helpers.sampling.*formulas are evaluated as code"
        ):
            call(formula, data)
    with pytest.raises(ValueError, match="attribute access"):
        predict(None, formula, data)
    assert not target.exists()


@pytest.mark.parametrize(
    ("formula", "message"),
    [
        ("y ~ x + (1 | g) + __import__('os').system('ls')", "the name '__import__' is not allowed"),
        ("y ~ x + (1 | g) + eval(x)", r"unknown function eval\(\)"),
        ("y ~ np.log(x) + (1 | g)", r"attribute access \('np.log\(x\)'\)"),
        ("y ~ x + (1 + x.real | g)", "attribute access"),
        ("y ~ x + (1 | g) + I(lambda: 1)", "the name 'lambda' is not allowed"),
        ("y ~ x + (1 | g) + (x)(x)", "only the transforms can be called"),
        ("y ~ x + (1 | g) + {x}", "'{' .* is not allowed"),
        ("y ~ x + (1 | g) + x[0]", "'\\[' .* is not allowed"),
        ("y ~ x + (1 | g) + C(x, levels=['a'])", "',' .* is not allowed"),
        ("y ~ `x y` + (1 | g)", "a string or quoted name"),
    ],
)
def test_formulas_allow_only_columns_numbers_operators_and_transforms(formula, message):
    with pytest.raises(ValueError, match=message):
        parse_formula(formula)


def test_allowed_transforms_build_and_predict():
    data = mixed_data().assign(w=lambda d: d["w"] + 1)
    formula = "y ~ log(w) + exp(x / 10) + center(x) + I(x ** 2) + C(h) + (1 | g)"
    model = correlated_effects_model(formula, data)
    assert model.coords["common"][:5] == (
        "Intercept",
        "log(w)",
        "exp(x / 10)",
        "center(x)",
        "I(x ** 2)",
    )
    assert model_priors("y ~ scale(x) + standardize(w) + (1 | g)", data).common.keys() == {
        "scale(x)",
        "standardize(w)",
    }
    idata = prior_as_posterior(model, draws=5)
    assert predict(idata, formula, data, data.head(3)).sizes["obs"] == 3


@pytest.mark.parametrize(
    ("formula", "message"),
    [
        ("y ~ (x + (1 | g)", r"unbalanced parentheses.*1 '\(' never closed"),
        ("y ~ x) + (1 | g)", r"unbalanced parentheses.*the '\)' after 'y ~ x' closes nothing"),
        ("y ~ x + (1 | g))", "unbalanced parentheses"),
    ],
)
def test_unbalanced_parentheses_are_refused_first(formula, message):
    with pytest.raises(ValueError, match=message):
        correlated_effects_model(formula, mixed_data())


def test_missing_columns_are_named_with_the_available_ones():
    data = mixed_data()
    with pytest.raises(ValueError, match=r"\['v'\] not in the data.*columns: \['g', 'h', 'x'"):
        correlated_effects_model("y ~ x + v + (1 | g)", data)
    with pytest.raises(ValueError, match=r"\['v'\] not in the data"):
        model_priors("y ~ x + (1 + v | g)", data)
    formula = "y ~ 1 + x + (1 | g)"
    idata = prior_as_posterior(correlated_effects_model(formula, data), draws=5)
    with pytest.raises(ValueError, match=r"\['x'\] not in new_data; its columns: \['g'\]"):
        predict(idata, formula, data, pd.DataFrame({"g": ["a"]}))


@pytest.mark.parametrize(
    ("response", "message"),
    [
        (lambda y: y.astype(str), "gaussian response 'y' must be numeric, got dtype"),
        (lambda y: y + 0j, "gaussian response 'y' must be numeric"),
        (
            lambda y: y.where(y.index > 0, np.inf),
            r"gaussian response 'y' is infinite in row\(s\) \[0\]",
        ),
    ],
)
def test_non_numeric_or_infinite_response_is_refused(response, message):
    data = mixed_data()
    with pytest.raises(ValueError, match=message):
        correlated_effects_model("y ~ x + (1 | g)", data.assign(y=response(data["y"])))


def test_group_column_of_mixed_types_is_refused():
    data = mixed_data()
    mixed = data.assign(g=[1, "a"] * (len(data) // 2))
    with pytest.raises(
        ValueError,
        match=r"grouping column 'g' mixes values of types "
        r"\['number', 'str'\].*astype\(str\)",
    ):
        correlated_effects_model("y ~ x + (1 | g)", mixed)
    with pytest.raises(ValueError, match="grouping column 'g' mixes"):
        correlated_effects_model("y ~ x + (1 | g:h)", mixed)
    with pytest.raises(ValueError, match="predictor column 'h' mixes"):
        correlated_effects_model("y ~ x + h + (1 | g)", data.assign(h=[1, "a"] * (len(data) // 2)))


# --- prior-data conflict (issue 17) ---------------------------------------------------------------


def test_unit_scale_priors_on_data_in_the_hundreds_warn():
    """Reaction times (mean ~ 300 ms, sd ~ 50): Normal(0, 1) on the intercept and HalfNormal(1) on
    sigma cannot reach them; the fit would give an intercept near 3 and pass the gate."""
    from helpers.simulate import simulate_reaction_times

    data = simulate_reaction_times(seed=1).data
    formula = "reaction ~ 1 + days + (1 + days | subject)"
    with pytest.warns(PriorDataConflictWarning) as record:
        correlated_effects_model(formula, data, common_scale=1.0, sd_scale=1.0, sigma_scale=1.0)
    messages = [str(w.message) for w in record]
    assert any(
        re.search(
            r"'reaction' has mean .* prior sds from the intercept's prior "
            r"b\[Intercept\] ~ Normal\(0, 1\), set by common_scale.*Leave "
            r"common_scale unset",
            m,
        )
        for m in messages
    ), messages
    assert any(
        re.search(
            r"'reaction' has sd .* times the scale of sigma's prior HalfNormal\(1\)"
            r".*Leave sigma_scale unset",
            m,
        )
        for m in messages
    ), messages
    # Without a common intercept the group-level intercepts must carry the mean.
    with pytest.warns(
        PriorDataConflictWarning,
        match=r"group-level intercepts r_subject "
        r"\(mean 0, sd_subject\[Intercept\] ~ "
        r"HalfNormal\(1\)\), set by sd_scale",
    ):
        model_priors("reaction ~ 0 + days + (1 + days | subject)", data, sd_scale=1.0)


def test_no_conflict_warning_for_defaults_standardized_data_or_the_chapters():
    """Defaults are data-scaled; unit scales suit standardized data and log-odds; the chapters'
    explicit priors (elasticities, correlated_effects) must not warn (it would fail the build)."""
    from helpers.simulate import simulate_reaction_times
    from tools.benchmarks.models import elasticity_sales

    data = simulate_reaction_times(seed=1).data
    standardized = data.assign(
        reaction=(data["reaction"] - data["reaction"].mean()) / data["reaction"].std()
    )
    sales = elasticity_sales()  # the chapter's, centred as it centres
    stores = simulate_correlated_stores(n_stores=60, contacts=100, corr=-0.6, seed=1).data
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        model_priors("reaction ~ 1 + days + (1 + days | subject)", data)
        model_priors(
            "reaction ~ 1 + days + (1 + days | subject)",
            standardized,
            common_scale=1.0,
            sd_scale=1.0,
            sigma_scale=1.0,
        )
        model_priors(
            "log_quantity ~ 1 + log_price_c + income_c + income_c:log_price_c"
            " + (1 + log_price_c | region)",
            sales,
            eta=2.0,
            sd_scale=0.1,
            common_scale=3.0,
            sigma_scale=1.0,
        )
        model_priors(
            "p(bought, n) ~ 1 + promo + (1 + promo | store)",
            stores,
            family="binomial",
            common_scale=1.0,
            sd_scale=1.0,
        )


def test_a_categorical_group_with_an_unused_level_builds_without_warnings():
    """Issue 17: pandas warned (Pandas4Warning, a DeprecationWarning) when a categorical group
    column had a category no row uses; the unused level is simply not a group."""
    import warnings

    data = gaussian_groups(n_groups=6, per_group=4)
    levels = sorted(data["g"].unique())
    data["g"] = pd.Categorical(data["g"], categories=[*levels, "unused"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = correlated_effects_model("y ~ 1 + x + (1 + x | g)", data)
    assert list(model.coords["g"]) == levels
