"""The models the book fits, rebuilt for the benchmark.

One entry per model structure the chapters fit, with the chapter's data, formula, priors and
sampler settings. ``tests/tools/test_bench.py`` checks that every formula here still appears in its
chapter, so the benchmark cannot silently drift from the book.

The sampler settings are those the record in ``tools/benchmarks/results`` was measured with. Since then
the elasticity and media chapters start every chain from its own jittered point (no
``init="adapt_diag"``) and fit the correlated elasticity model at ``target_accept=0.99`` with
1,000 draws. Change the settings here together with a new record (``make bench``), never alone.

Each builder returns a :class:`Spec`: a function that fits the model (given extra ``pm.sample``
keywords) with a chosen NUTS implementation and returns its DataTree, and the variables whose ESS counts.

Example
-------
>>> spec = MODELS["season_baseline"]()
>>> idata = spec.fit(sampler="nutpie")          # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import bambi as bmb
import pymc as pm

from helpers.mundlak import add_group_means
from helpers.data import aggregate_binomial, load_season_pass
from helpers.lkj import correlated_effects_model
from helpers.sampling import SAMPLER, sample_kwargs
from helpers.sampling import fit as fit_bambi
from helpers.simulate import (
    CHANNELS,
    simulate_elasticities,
    simulate_grouped_binomial,
    simulate_panel,
    simulate_reaction_times,
)


@dataclass(frozen=True)
class Spec:
    """A model ready to fit: ``fit(sampler=SAMPLER, **sample_overrides) -> DataTree``.

    ``sampler`` is PyMC's ``nuts_sampler`` ("pymc", "nutpie", "numpyro"); the overrides replace
    the book's defaults from :func:`helpers.sampling.sample_kwargs`.
    """

    chapter: str
    formula: str
    fit: Callable[..., Any]
    var_names: list[str] | None = None


def _bambi(chapter: str, formula: str, data, settings: dict, var_names=None, **model_kwargs) -> Spec:
    def fit(sampler: str = SAMPLER, **overrides):
        model = bmb.Model(formula, data, **model_kwargs)
        return fit_bambi(model, **{**settings, **overrides, "nuts_sampler": sampler})

    return Spec(chapter, formula, fit, var_names)


def _pymc(chapter: str, formula: str, build: Callable[[], pm.Model], settings: dict,
          var_names: list[str], per_sampler: dict[str, dict] | None = None) -> Spec:
    """``per_sampler``: settings for one backend only, on top of ``settings``."""
    def fit(sampler: str = SAMPLER, **overrides):
        extra = (per_sampler or {}).get(sampler, {})
        with build():
            return pm.sample(**sample_kwargs(**{**settings, **extra, **overrides,
                                                "nuts_sampler": sampler}))

    return Spec(chapter, formula, fit, var_names)


def _season_counts():
    return aggregate_binomial(load_season_pass(), by=["promo", "channel"], outcome="bought_pass")


def _normal(scale: float) -> bmb.Prior:
    return bmb.Prior("Normal", mu=0, sigma=scale)


def _group(sd_prior: bmb.Prior) -> bmb.Prior:
    return bmb.Prior("Normal", mu=0, sigma=sd_prior)


def season_baseline() -> Spec:
    """Logistic regression on the six season-pass cells (chapter logistic_regression)."""
    return _bambi("logistic_regression", "p(bought, n) ~ 1 + promo", _season_counts(), {},
                  family="binomial", priors={"Intercept": _normal(1), "promo": _normal(1)})


def season_bernoulli() -> Spec:
    """The same model on the 3,156 contacts, one row each (chapter logistic_regression)."""
    return _bambi("logistic_regression", "bought_pass ~ 1 + promo", load_season_pass(), {},
                  family="bernoulli", priors={"Intercept": _normal(1), "promo": _normal(1)})


def season_interaction() -> Spec:
    """Bundle x channel interaction (chapter interactions)."""
    priors = {name: _normal(1) for name in ("Intercept", "promo", "channel", "promo:channel")}
    return _bambi("interactions", "p(bought, n) ~ promo * channel", _season_counts(), {},
                  family="binomial", priors=priors)


def season_varying() -> Spec:
    """Independent varying intercepts and bundle slopes by channel (chapter varying_slopes)."""
    half_normal = bmb.Prior("HalfNormal", sigma=1)
    return _bambi("varying_slopes", "p(bought, n) ~ 0 + (1 + promo | channel)", _season_counts(),
                  {"target_accept": 0.95}, family="binomial",
                  priors={"1|channel": _group(half_normal), "promo|channel": _group(half_normal)})


def season_lkj() -> Spec:
    """Correlated varying effects with an LKJ(1) prior, in PyMC (chapter correlated_effects)."""
    formula = "p(bought, n) ~ 0 + (1 + promo | channel)"
    counts = _season_counts()
    return _pymc("correlated_effects", formula,
                 lambda: correlated_effects_model(formula, counts, family="binomial",
                                                  eta=1.0, sd_scale=1.0),
                 {"target_accept": 0.95}, ["sd_channel", "cor_channel", "r_channel"])


def partial_pooling() -> Spec:
    """Varying intercepts for 40 simulated stores (chapter partial_pooling)."""
    data = simulate_grouped_binomial(n_groups=40, min_size=5, max_size=500, mu=-0.5, sigma=0.5,
                                     seed=1).data
    return _bambi("partial_pooling", "p(bought, n) ~ 1 + (1 | store)", data, {}, family="binomial",
                  priors={"Intercept": _normal(1.5),
                          "1|store": _group(bmb.Prior("HalfNormal", sigma=1))})


ELASTICITY_FORMULA = ("log_quantity ~ 1 + log_price_c + income_c"
                      " + income_c:log_price_c + (1 + log_price_c | region)")


def _sales():
    sim = simulate_elasticities(seed=42)
    sales = sim.data.copy()
    sales["log_price_c"] = sales["log_price"] - sales["log_price"].mean()
    sales["income_c"] = sales["median_income"] - sim.truth["median_income"].mean()
    return sales


def elasticity_no_pooling() -> Spec:
    """One price elasticity per region, no pooling (chapter elasticities)."""
    return _bambi("elasticities", "log_quantity ~ 0 + region + region:log_price_c", _sales(),
                  {"init": "adapt_diag"},
                  priors={"region": _normal(3), "region:log_price_c": _normal(3),
                          "sigma": bmb.Prior("HalfNormal", sigma=1)})


def elasticity_multilevel() -> Spec:
    """Varying intercepts and elasticities by region, income as a predictor (chapter elasticities)."""
    sd = bmb.Prior("HalfNormal", sigma=0.1)
    priors = {"Intercept": _normal(3), "log_price_c": _normal(3), "income_c": _normal(1),
              "income_c:log_price_c": _normal(1), "1|region": _group(sd),
              "log_price_c|region": _group(sd), "sigma": bmb.Prior("HalfNormal", sigma=1)}
    return _bambi("elasticities", ELASTICITY_FORMULA, _sales(),
                  {"target_accept": 0.95, "init": "adapt_diag"}, priors=priors)


def elasticity_correlated() -> Spec:
    """The multilevel model with correlated region effects (LKJ(2)), in PyMC (chapter elasticities)."""
    sales = _sales()
    return _pymc("elasticities", ELASTICITY_FORMULA,
                 lambda: correlated_effects_model(ELASTICITY_FORMULA, sales, family="gaussian",
                                                  eta=2.0, sd_scale=0.1, common_scale=3.0,
                                                  sigma_scale=1.0),
                 {"target_accept": 0.95, "init": "adapt_diag", "draws": 2000},
                 ["b", "sd_region", "cor_region", "r_region", "sigma"])


MEDIA = " + ".join(CHANNELS)
MEDIA_FORMULA = f"kpi ~ 1 + {MEDIA} + trend + season + brand + (1 + {MEDIA} | market)"


def _panel_priors(mundlak: bool) -> dict:
    priors = {channel: _normal(2) for channel in CHANNELS}
    priors["1|market"] = _group(bmb.Prior("HalfNormal", sigma=10))
    for channel in CHANNELS:
        priors[f"{channel}|market"] = _group(bmb.Prior("HalfNormal", sigma=0.5))
        if mundlak:
            priors[f"{channel}_mean"] = _normal(5)
    return priors


def media_uncorrected() -> Spec:
    """Random media slopes by market, no Mundlak terms (chapter media_panel)."""
    return _bambi("media_panel", MEDIA_FORMULA, simulate_panel(seed=7).data,
                  {"draws": 2000, "target_accept": 0.95, "init": "adapt_diag"},
                  priors=_panel_priors(mundlak=False))


def media_mundlak() -> Spec:
    """The same with the market means of spend added (Mundlak correction; chapter media_panel)."""
    data = add_group_means(simulate_panel(seed=7).data, "market", list(CHANNELS))
    formula = MEDIA_FORMULA.replace("brand +", "brand + tv_mean + search_mean + social_mean +")
    return _bambi("media_panel", formula, data,
                  {"draws": 2000, "target_accept": 0.95, "init": "adapt_diag"},
                  priors=_panel_priors(mundlak=True))


def own_data_crossed() -> Spec:
    """The "Your own data" model on 5,000 rows: 500 subjects x 10 days, 30 crossed stimulus sets.

    Two grouping terms, three group-level effects (a correlated subject intercept and slope, a
    stimulus intercept), the helper's default (data-scaled) priors; the page itself fits 180 rows.
    nutpie runs its 4 chains on both cores (``cores=2``) and keeps 1,500 draws per chain: with
    1,000, the smallest bulk ESS fell below the gate's 400 (346 in a trial run). NumPyro keeps the
    book's defaults (one core: its chains run one after another).
    """
    formula = "reaction ~ 1 + days + (1 + days | subject) + (1 | stimulus)"
    data = simulate_reaction_times(n_subjects=500, n_days=10, n_stimuli=30, seed=3).data
    return _pymc("own_data", formula, lambda: correlated_effects_model(formula, data),
                 {"target_accept": 0.95},
                 ["b", "sd_subject", "cor_subject", "sd_stimulus", "sigma"],
                 per_sampler={"nutpie": {"cores": 2, "draws": 1500}})


#: Every benchmarked model, in the book's order.
MODELS: dict[str, Callable[[], Spec]] = {
    "season_baseline": season_baseline,
    "season_bernoulli": season_bernoulli,
    "season_interaction": season_interaction,
    "season_varying": season_varying,
    "season_lkj": season_lkj,
    "partial_pooling": partial_pooling,
    "elasticity_no_pooling": elasticity_no_pooling,
    "elasticity_multilevel": elasticity_multilevel,
    "elasticity_correlated": elasticity_correlated,
    "media_uncorrected": media_uncorrected,
    "media_mundlak": media_mundlak,
    "own_data_crossed": own_data_crossed,
}
