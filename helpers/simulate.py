"""Simulators with known truth, so chapters can check what a model recovers.

Example
-------
>>> sim = simulate_grouped_binomial(n_groups=5, seed=1)
>>> list(sim.data.columns)
['store', 'bought', 'n']
>>> list(sim.truth.columns)
['store', 'n', 'log_odds', 'p']
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special


@dataclass(frozen=True)
class GroupedBinomial:
    """Simulated binomial counts per group, with the truth that generated them.

    Attributes
    ----------
    data
        One row per group: ``store`` (ordered categorical), ``bought`` and ``n``.
    truth
        One row per group: ``store``, ``n``, the true ``log_odds`` and take rate ``p``.
    mu, sigma
        Population mean and between-group sd of the true log-odds.
    """

    data: pd.DataFrame
    truth: pd.DataFrame
    mu: float
    sigma: float


def _check_whole(name: str, value: int, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be a whole number >= {minimum}, got {value!r}")


def simulate_grouped_binomial(
    n_groups: int = 40,
    min_size: int = 5,
    max_size: int = 500,
    mu: float = -0.5,
    sigma: float = 0.6,
    seed: int = 1,
    sizes: list[int] | np.ndarray | None = None,
) -> GroupedBinomial:
    """Simulate take rates for many stores of very different sizes.

    Each store's true log-odds is drawn from Normal(``mu``, ``sigma``); its number of
    contacts is log-uniform between ``min_size`` and ``max_size`` (many small stores,
    few large ones) unless ``sizes`` gives them; ``bought`` is Binomial(n, p).

    Raises
    ------
    ValueError
        Naming the bad parameter: ``n_groups`` < 1, ``min_size`` < 1,
        ``max_size`` < ``min_size``, ``sigma`` < 0, a non-finite ``mu``, or
        ``sizes`` of the wrong length or with a size < 1.

    Example
    -------
    >>> sim = simulate_grouped_binomial(n_groups=3, sizes=[10, 20, 30], seed=2)
    >>> sim.data["n"].tolist()
    [10, 20, 30]
    >>> bool((sim.data["bought"] <= sim.data["n"]).all())
    True
    """
    _check_whole("n_groups", n_groups, 1)
    _check_whole("min_size", min_size, 1)
    _check_whole("max_size", max_size, min_size)
    if not math.isfinite(mu):
        raise ValueError(f"mu must be a finite number, got {mu!r}")
    if not (math.isfinite(sigma) and sigma >= 0):
        raise ValueError(f"sigma must be a finite number >= 0, got {sigma!r}")
    rng = np.random.default_rng(seed)
    if sizes is None:
        n = np.round(np.exp(rng.uniform(np.log(min_size), np.log(max_size), n_groups)))
    else:
        n = np.asarray(sizes)
        if n.shape != (n_groups,):
            raise ValueError(f"sizes must have one entry per group ({n_groups}), got {n.shape}")
        if (n < 1).any() or not np.all(np.mod(n, 1) == 0):
            raise ValueError("sizes must be whole numbers >= 1")
    n = n.astype("int64")
    log_odds = rng.normal(mu, sigma, n_groups)
    p = special.expit(log_odds)
    bought = rng.binomial(n, p)
    labels = [f"S{i + 1:02d}" for i in range(n_groups)]
    store = pd.Categorical(labels, categories=labels, ordered=True)
    data = pd.DataFrame({"store": store, "bought": bought.astype("int64"), "n": n})
    truth = pd.DataFrame({"store": store, "n": n, "log_odds": log_odds, "p": p})
    return GroupedBinomial(data=data, truth=truth, mu=float(mu), sigma=float(sigma))


@dataclass(frozen=True)
class CorrelatedStores:
    """Simulated bundle offers in many stores, with correlated store intercepts and slopes.

    Attributes
    ----------
    data
        One row per store and offer: ``store``, ``promo`` (ordered: NoBundle, Bundle),
        ``bought``, ``n``.
    truth
        One row per store: its true ``intercept`` (log-odds without the bundle) and ``slope``
        (the bundle's log odds ratio).
    mean, sd
        Population means and sds of (intercept, slope).
    corr
        Correlation between a store's intercept and slope.
    """

    data: pd.DataFrame
    truth: pd.DataFrame
    mean: tuple[float, float]
    sd: tuple[float, float]
    corr: float


def simulate_correlated_stores(
    n_stores: int = 60,
    contacts: int = 100,
    mean: tuple[float, float] = (-0.5, 0.4),
    sd: tuple[float, float] = (0.8, 0.5),
    corr: float = -0.6,
    seed: int = 1,
) -> CorrelatedStores:
    """Simulate a bundle offer in many stores whose baseline and bundle effect are correlated.

    Each store's (intercept, slope) on the log-odds scale is drawn from a bivariate normal
    with the given means, sds and correlation; each store makes ``contacts`` offers of each
    kind, and ``bought`` is Binomial. A negative ``corr`` means stores that sell well without
    the bundle gain less from it.

    Raises
    ------
    ValueError
        Naming the bad parameter: ``n_stores`` < 2, ``contacts`` < 1, an sd <= 0,
        ``corr`` outside (-1, 1), or non-finite means.

    Example
    -------
    >>> sim = simulate_correlated_stores(n_stores=3, contacts=10, seed=2)
    >>> sim.data.shape, list(sim.truth.columns)
    ((6, 4), ['store', 'intercept', 'slope'])
    """
    _check_whole("n_stores", n_stores, 2)
    _check_whole("contacts", contacts, 1)
    if len(mean) != 2 or not all(math.isfinite(m) for m in mean):
        raise ValueError(f"mean must be two finite numbers (intercept, slope), got {mean!r}")
    if len(sd) != 2 or not all(math.isfinite(s) and s > 0 for s in sd):
        raise ValueError(f"sd must be two positive numbers (intercept, slope), got {sd!r}")
    if not (math.isfinite(corr) and -1 < corr < 1):
        raise ValueError(f"corr must lie strictly between -1 and 1, got {corr!r}")
    rng = np.random.default_rng(seed)
    cov = np.array([[sd[0] ** 2, corr * sd[0] * sd[1]], [corr * sd[0] * sd[1], sd[1] ** 2]])
    effects = rng.multivariate_normal(np.asarray(mean, dtype=float), cov, size=n_stores)
    labels = [f"S{i + 1:02d}" for i in range(n_stores)]
    store = pd.Categorical(labels, categories=labels, ordered=True)
    promo_levels = ["NoBundle", "Bundle"]
    bundle = np.tile([0, 1], n_stores)
    log_odds = effects[np.repeat(np.arange(n_stores), 2), 0] + bundle * effects[
        np.repeat(np.arange(n_stores), 2), 1
    ]
    n = np.full(2 * n_stores, contacts, dtype="int64")
    data = pd.DataFrame(
        {
            "store": pd.Categorical(np.repeat(labels, 2), categories=labels, ordered=True),
            "promo": pd.Categorical(
                np.array(promo_levels)[bundle], categories=promo_levels, ordered=True
            ),
            "bought": rng.binomial(n, special.expit(log_odds)).astype("int64"),
            "n": n,
        }
    )
    truth = pd.DataFrame({"store": store, "intercept": effects[:, 0], "slope": effects[:, 1]})
    return CorrelatedStores(
        data=data, truth=truth, mean=tuple(map(float, mean)), sd=tuple(map(float, sd)),
        corr=float(corr),
    )


@dataclass(frozen=True)
class ElasticityParams:
    """Parameters of the price-elasticity data-generating process (after Orduz).

    Per region j: median income ~ Gamma(mean ``income_mean``, sd ``income_sd``) + ``income_shift``;
    intercept ~ Normal(``intercept_base`` + ``intercept_income`` * income, ``region_sd``);
    elasticity ~ Normal(``slope_base`` + ``slope_income`` * income, ``region_sd``).
    Stores per region ~ NegativeBinomial(``stores_mu``, ``stores_alpha``) + ``min_stores``; time
    steps per store ~ NegativeBinomial(``steps_mu``, ``steps_alpha``) + ``min_steps``; prices ~
    Gamma(mean ``price_mean``, sd ``price_sd``); log quantity = intercept + elasticity * log price
    + Normal(0, ``noise_sd``). Quantity is in thousands of units.

    Every field is checked when the object is made; a bad value raises ``ValueError`` naming it.

    Example
    -------
    >>> ElasticityParams(n_regions=3).n_regions
    3
    """

    n_regions: int = 9
    stores_mu: float = 10.0
    stores_alpha: float = 3.0
    min_stores: int = 2
    steps_mu: float = 20.0
    steps_alpha: float = 5.0
    min_steps: int = 2
    income_mean: float = 5.0
    income_sd: float = 2.0
    income_shift: float = 1.0
    intercept_base: float = 1.0
    intercept_income: float = 0.3
    slope_base: float = -0.1
    slope_income: float = -0.6
    region_sd: float = 0.02
    price_mean: float = 1.5
    price_sd: float = 0.25
    noise_sd: float = 0.3

    def __post_init__(self) -> None:
        _check_whole("n_regions", self.n_regions, 1)
        _check_whole("min_stores", self.min_stores, 1)
        _check_whole("min_steps", self.min_steps, 1)
        positive = {"stores_mu", "stores_alpha", "steps_mu", "steps_alpha", "income_mean",
                    "income_sd", "region_sd", "price_mean", "price_sd", "noise_sd"}
        finite = {"income_shift", "intercept_base", "intercept_income", "slope_base",
                  "slope_income"}
        for name in sorted(positive | finite):
            value = getattr(self, name)
            kind = "a positive" if name in positive else "a finite"
            if not (isinstance(value, (int, float)) and math.isfinite(value)
                    and (value > 0 or name in finite)):
                raise ValueError(f"{name} must be {kind} number, got {value!r}")


@dataclass(frozen=True)
class ElasticitySim:
    """Simulated sales of one SKU: the data, the true region parameters and the settings.

    Attributes
    ----------
    data
        One row per store and time step: ``region`` (ordered categorical), ``store``, ``time``,
        ``median_income``, ``price``, ``quantity`` (thousands), ``log_price``, ``log_quantity``.
    truth
        One row per region: ``region``, ``median_income``, true ``intercept`` and ``elasticity``,
        and the number of ``stores`` and ``observations``.
    params
        The :class:`ElasticityParams` used.
    """

    data: pd.DataFrame
    truth: pd.DataFrame
    params: ElasticityParams


def _gamma(rng: np.random.Generator, mean: float, sd: float, size) -> np.ndarray:
    """Gamma draws parameterised by mean and sd."""
    return rng.gamma(shape=(mean / sd) ** 2, scale=sd**2 / mean, size=size)


def _neg_binomial(rng: np.random.Generator, mu: float, alpha: float, size) -> np.ndarray:
    """Negative binomial draws with mean mu and dispersion alpha (variance mu + mu^2 / alpha)."""
    return rng.negative_binomial(alpha, alpha / (alpha + mu), size=size)


def simulate_elasticities(
    params: ElasticityParams | None = None, seed: int = 42
) -> ElasticitySim:
    """Simulate one SKU sold in many stores across regions with income-driven elasticities.

    Example
    -------
    >>> sim = simulate_elasticities(seed=1)
    >>> len(sim.truth), sorted(sim.data.columns)[:3]
    (9, ['log_price', 'log_quantity', 'median_income'])
    >>> bool((sim.truth["elasticity"] < 0).all())
    True
    """
    p = params if params is not None else ElasticityParams()
    rng = np.random.default_rng(seed)
    regions = [f"R{j + 1}" for j in range(p.n_regions)]
    income = _gamma(rng, p.income_mean, p.income_sd, p.n_regions) + p.income_shift
    intercept = rng.normal(p.intercept_base + p.intercept_income * income, p.region_sd)
    elasticity = rng.normal(p.slope_base + p.slope_income * income, p.region_sd)
    n_stores = _neg_binomial(rng, p.stores_mu, p.stores_alpha, p.n_regions) + p.min_stores
    frames = []
    for j, region in enumerate(regions):
        steps = _neg_binomial(rng, p.steps_mu, p.steps_alpha, n_stores[j]) + p.min_steps
        for s, n_steps in enumerate(steps):
            price = _gamma(rng, p.price_mean, p.price_sd, n_steps)
            log_q = intercept[j] + elasticity[j] * np.log(price) + rng.normal(
                0, p.noise_sd, n_steps
            )
            frames.append(pd.DataFrame({
                "region": region, "store": f"{region}-S{s + 1:02d}",
                "time": np.arange(n_steps), "median_income": income[j],
                "price": price, "quantity": np.exp(log_q),
                "log_price": np.log(price), "log_quantity": log_q,
            }))
    data = pd.concat(frames, ignore_index=True)
    data["region"] = pd.Categorical(data["region"], categories=regions, ordered=True)
    counts = data.groupby("region", observed=False).agg(
        stores=("store", "nunique"), observations=("store", "size")
    )
    truth = pd.DataFrame({
        "region": pd.Categorical(regions, categories=regions, ordered=True),
        "median_income": income, "intercept": intercept, "elasticity": elasticity,
        "stores": counts["stores"].to_numpy(), "observations": counts["observations"].to_numpy(),
    })
    return ElasticitySim(data=data, truth=truth, params=p)
