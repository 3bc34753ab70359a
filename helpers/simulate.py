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
