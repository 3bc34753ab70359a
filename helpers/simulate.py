"""Simulators with known truth, so chapters can check what a model recovers.

Every simulator returns a ``<Thing>Sim`` with the same three attributes:

- ``data``: the rows a model sees;
- ``truth``: one row per group with its true values (per store, region, market or subject);
- ``params``: the population parameters, a frozen dataclass (``sim.params.sigma``).

:class:`ReactionTimesSim`, whose subjects and stimuli are crossed, also has ``stimulus_truth``.
:func:`simulate_contacts` makes one row per contact and can stream any number of them to a
folder of Parquet files instead of memory; its ``data`` is then that folder's path.

Every simulator checks its parameters before it simulates and raises ``ValueError`` naming the
bad one: a value of the wrong kind or outside its range, or a request for more than
:data:`MAX_ROWS` rows (refused before anything is allocated, with the memory it would need). It
then checks what it drew: if an output would overflow, underflow to 0 or break a documented
property (such as spend > 0), the ``ValueError`` names the parameters behind its largest term.

Example
-------
>>> sim = simulate_grouped_binomial(n_groups=5, seed=1)
>>> list(sim.data.columns)
['store', 'bought', 'n']
>>> list(sim.truth.columns)
['store', 'n', 'log_odds', 'p']
>>> sim.params
GroupedBinomialParams(mu=-0.5, sigma=0.6)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from scipy import special

#: Most rows a simulator makes (each float column of 10 million rows takes 80 MB); larger
#: requests are refused before anything is allocated, with the memory they would need.
MAX_ROWS: int = 10_000_000

#: Largest number of contacts (trials) per row: numpy's binomial draws need int64 counts.
MAX_COUNT: int = 10**18

# Simulated values stay within these sizes: doubles overflow past 1.8e308 and lose precision
# below 2.2e-308.
_HUGE, _TINY = 1e300, 1e-300


def _obeys(value: object, interval: str, whole: bool = False) -> bool:
    """Whether ``value`` is a number (a whole one if ``whole``) in ``interval``, such as
    ``"(0,inf)"`` or ``"[1,1e18]"`` (brackets include the end, parentheses exclude it)."""
    kinds = (int, np.integer) if whole else (int, float, np.integer, np.floating)
    if isinstance(value, bool) or not isinstance(value, kinds):
        return False
    low, high = map(float, interval[1:-1].split(","))
    return (
        (low < value if interval[0] == "(" else low <= value)  # False for NaN
        and (value < high if interval[-1] == ")" else value <= high)
    )


def _check_fields(
    values: dict[str, object], rules: dict[str, str], parts: tuple[str, ...] = ()
) -> None:
    """Raise ``ValueError`` naming the first of ``values`` that breaks its rule in ``rules``.

    A rule is an interval the value must lie in (see :func:`_obeys`), followed by ``" whole"``
    if the value must be a whole number, or by ``" each"`` if it is a tuple of one number per
    name in ``parts``.
    """
    for name, rule in rules.items():
        interval, _, kind = rule.partition(" ")
        value = values[name]
        if kind == "each":
            ok = (
                isinstance(value, (tuple, list))
                and len(value) == len(parts)
                and all(_obeys(v, interval) for v in value)
            )
        else:
            ok = _obeys(value, interval, whole=kind == "whole")
        if ok:
            continue
        low, high = interval[1:-1].split(",")
        bounds = []
        if low != "-inf":
            bounds.append(f"{'>' if interval[0] == '(' else '>='} {float(low):g}")
        if high != "inf":
            bounds.append(f"{'<' if interval[-1] == ')' else '<='} {float(high):g}")
        wanted = " ".join(
            [f"a {'whole' if kind == 'whole' else 'finite'} number", " and ".join(bounds)]
        ).rstrip()
        if kind == "each":
            wanted = f"a tuple of {len(parts)} numbers ({', '.join(parts)}), each {wanted}"
        raise ValueError(f"{name} must be {wanted}, got {value!r}")


def _check_rows(request: str, rows: float, columns: int, fix: str) -> None:
    """Raise ``ValueError`` if ``request`` needs more than :data:`MAX_ROWS` rows.

    The message gives the memory the request would need (rows x columns x 8 bytes, roughly).
    """
    if rows > MAX_ROWS:
        raise ValueError(
            f"{request} asks for {rows:,.0f} rows x {columns} columns, about "
            f"{rows * columns * 8 / 1e9:,.1f} GB; the simulators make at most MAX_ROWS = "
            f"{MAX_ROWS:,} rows: {fix}"
        )


def _check_size(what: str, terms: dict[str, object], limit: float = _HUGE, why: str = "") -> None:
    """Raise ``ValueError`` unless ``what``, a sum of ``terms``, stays below ``limit`` in size.

    ``terms`` maps the parameters behind each term to its values (simulated, or a number); the
    sum of the terms' largest sizes must stay below ``limit`` (NaN never does). The message
    names the parameters of the largest term.
    """
    sizes = {name: float(np.max(np.abs(values))) for name, values in terms.items()}
    total = sum(sizes.values())
    if total < limit:  # False for inf and nan too
        return
    culprit = max(sizes, key=lambda name: math.inf if math.isnan(sizes[name]) else sizes[name])
    pieces = ", ".join(f"{name} {size:.3g}" for name, size in sizes.items())
    raise ValueError(
        f"{what} could reach about {total:.3g}, beyond the limit {limit:.3g}{why}, mostly "
        f"because of {culprit} (terms: {pieces}): use values of ordinary size"
    )


def _bivariate_normal(
    rng: np.random.Generator, mean, sd: tuple[float, float], corr: float, size: int
) -> np.ndarray:
    """``size`` draws of (intercept, slope), bivariate normal with sds ``sd`` and correlation
    ``corr``: shape (size, 2)."""
    cov = np.array([[sd[0] ** 2, corr * sd[0] * sd[1]], [corr * sd[0] * sd[1], sd[1] ** 2]])
    return rng.multivariate_normal(np.asarray(mean, dtype=float), cov, size=size)


@dataclass(frozen=True)
class GroupedBinomialParams:
    """Population of :func:`simulate_grouped_binomial`: the true log-odds are Normal(``mu``,
    ``sigma``).

    Example
    -------
    >>> GroupedBinomialParams(mu=-0.5, sigma=0.6).sigma
    0.6
    """

    mu: float
    sigma: float


@dataclass(frozen=True)
class GroupedBinomialSim:
    """Simulated binomial counts per group, with the truth that generated them.

    Attributes
    ----------
    data
        One row per group: ``store`` (ordered categorical), ``bought`` and ``n``.
    truth
        One row per group: ``store``, ``n``, the true ``log_odds`` and take rate ``p``.
    params
        The :class:`GroupedBinomialParams` (``mu``, ``sigma``).
    """

    data: pd.DataFrame
    truth: pd.DataFrame
    params: GroupedBinomialParams


def simulate_grouped_binomial(
    n_groups: int = 40,
    min_size: int = 5,
    max_size: int = 500,
    mu: float = -0.5,
    sigma: float = 0.6,
    seed: int = 1,
    sizes: list[int] | np.ndarray | None = None,
) -> GroupedBinomialSim:
    """Simulate take rates for many stores of very different sizes.

    Each store's true log-odds is drawn from Normal(``mu``, ``sigma``); its number of
    contacts is log-uniform between ``min_size`` and ``max_size`` (many small stores,
    few large ones) unless ``sizes`` gives them; ``bought`` is Binomial(n, p).

    Raises
    ------
    ValueError
        Naming the bad parameter: ``n_groups`` < 1 or more than :data:`MAX_ROWS`,
        ``min_size`` < 1, ``max_size`` < ``min_size`` or above :data:`MAX_COUNT`, ``sigma`` < 0,
        a non-finite ``mu``, ``mu`` and ``sigma`` so large that log-odds overflow, or ``sizes``
        of the wrong length or with a size < 1 or above :data:`MAX_COUNT`.

    Example
    -------
    >>> sim = simulate_grouped_binomial(n_groups=3, sizes=[10, 20, 30], seed=2)
    >>> sim.data["n"].tolist()
    [10, 20, 30]
    >>> bool((sim.data["bought"] <= sim.data["n"]).all())
    True
    """
    _check_fields(
        locals(),
        {
            "n_groups": "[1,inf) whole",
            "min_size": f"[1,{MAX_COUNT}] whole",
            "max_size": f"[{min_size},{MAX_COUNT}] whole",
            "mu": "(-inf,inf)",
            "sigma": "[0,inf)",
        },
    )
    _check_rows(f"n_groups={n_groups:,}", n_groups, 7, "simulate fewer groups")
    rng = np.random.default_rng(seed)
    if sizes is None:
        n = np.round(np.exp(rng.uniform(np.log(min_size), np.log(max_size), n_groups)))
    else:
        n = np.asarray(sizes)
        if n.shape != (n_groups,):
            raise ValueError(f"sizes must have one entry per group ({n_groups}), got {n.shape}")
        if (n < 1).any() or not np.all(np.mod(n, 1) == 0):
            raise ValueError("sizes must be whole numbers >= 1")
        if (n > MAX_COUNT).any():
            raise ValueError(f"sizes must be at most MAX_COUNT = {MAX_COUNT:.0e}, got {n.max()!r}")
    n = n.astype("int64")
    log_odds = rng.normal(mu, sigma, n_groups)
    _check_size("a true log-odds", {"mu": mu, "sigma": log_odds - mu})
    p = special.expit(log_odds)
    bought = rng.binomial(n, p)
    labels = [f"S{i + 1:02d}" for i in range(n_groups)]
    store = pd.Categorical(labels, categories=labels, ordered=True)
    data = pd.DataFrame({"store": store, "bought": bought.astype("int64"), "n": n})
    truth = pd.DataFrame({"store": store, "n": n, "log_odds": log_odds, "p": p})
    return GroupedBinomialSim(data, truth, GroupedBinomialParams(float(mu), float(sigma)))


@dataclass(frozen=True)
class CorrelatedStoresParams:
    """Population of :func:`simulate_correlated_stores`: a store's (intercept, slope) is
    bivariate normal with means ``mean``, sds ``sd`` and correlation ``corr``.

    Example
    -------
    >>> CorrelatedStoresParams(mean=(-0.5, 0.4), sd=(0.8, 0.5), corr=-0.6).corr
    -0.6
    """

    mean: tuple[float, float]
    sd: tuple[float, float]
    corr: float


@dataclass(frozen=True)
class CorrelatedStoresSim:
    """Simulated bundle offers in many stores, with correlated store intercepts and slopes.

    Attributes
    ----------
    data
        One row per store and offer: ``store``, ``promo`` (ordered: NoBundle, Bundle),
        ``bought``, ``n``.
    truth
        One row per store: its true ``intercept`` (log-odds without the bundle) and ``slope``
        (the bundle's log odds ratio).
    params
        The :class:`CorrelatedStoresParams` (``mean``, ``sd``, ``corr``).
    """

    data: pd.DataFrame
    truth: pd.DataFrame
    params: CorrelatedStoresParams


def simulate_correlated_stores(
    n_stores: int = 60,
    contacts: int = 100,
    mean: tuple[float, float] = (-0.5, 0.4),
    sd: tuple[float, float] = (0.8, 0.5),
    corr: float = -0.6,
    seed: int = 1,
) -> CorrelatedStoresSim:
    """Simulate a bundle offer in many stores whose baseline and bundle effect are correlated.

    Each store's (intercept, slope) on the log-odds scale is drawn from a bivariate normal
    with the given means, sds and correlation; each store makes ``contacts`` offers of each
    kind, and ``bought`` is Binomial. A negative ``corr`` means stores that sell well without
    the bundle gain less from it.

    Raises
    ------
    ValueError
        Naming the bad parameter: ``n_stores`` < 2 or more than :data:`MAX_ROWS` / 2,
        ``contacts`` < 1 or above :data:`MAX_COUNT`, an sd <= 0 or so large (>= 1e150) that its
        square overflows, ``corr`` outside (-1, 1), non-finite means, or means and sds so large
        that log-odds overflow.

    Example
    -------
    >>> sim = simulate_correlated_stores(n_stores=3, contacts=10, seed=2)
    >>> sim.data.shape, list(sim.truth.columns)
    ((6, 4), ['store', 'intercept', 'slope'])
    >>> sim.params.sd
    (0.8, 0.5)
    """
    _check_fields(
        locals(),
        {
            "n_stores": "[2,inf) whole",
            "contacts": f"[1,{MAX_COUNT}] whole",
            "mean": "(-inf,inf) each",
            "sd": "(0,1e150) each",
            "corr": "(-1,1)",
        },
        parts=("intercept", "slope"),
    )
    _check_rows(f"n_stores={n_stores:,}", 2 * n_stores, 4, "simulate fewer stores")
    rng = np.random.default_rng(seed)
    effects = _bivariate_normal(rng, mean, sd, corr, n_stores)
    _check_size(
        "a true log-odds",
        {"mean": np.abs(mean).sum(), "sd": np.abs(effects - mean).max(axis=0).sum()},
    )
    labels = [f"S{i + 1:02d}" for i in range(n_stores)]
    store = pd.Categorical(labels, categories=labels, ordered=True)
    promo_levels = ["NoBundle", "Bundle"]
    bundle = np.tile([0, 1], n_stores)
    log_odds = (
        effects[np.repeat(np.arange(n_stores), 2), 0]
        + bundle * effects[np.repeat(np.arange(n_stores), 2), 1]
    )
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
    params = CorrelatedStoresParams(tuple(map(float, mean)), tuple(map(float, sd)), float(corr))
    return CorrelatedStoresSim(data, truth, params)


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
    Besides each field's own range: the expected number of rows, ``n_regions`` x (``stores_mu`` +
    ``min_stores``) x (``steps_mu`` + ``min_steps``), is at most :data:`MAX_ROWS`, and numpy can
    draw both negative binomials. What the draws give is checked by :func:`simulate_elasticities`.

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
        positive = (
            "stores_mu",
            "stores_alpha",
            "steps_mu",
            "steps_alpha",
            "income_mean",
            "income_sd",
            "region_sd",
            "price_mean",
            "price_sd",
            "noise_sd",
        )
        _check_fields(
            vars(self),
            {
                "n_regions": "[1,inf) whole",
                "min_stores": "[1,inf) whole",
                "min_steps": "[1,inf) whole",
                **dict.fromkeys(positive, "(0,inf)"),
                **dict.fromkeys(
                    (
                        "income_shift",
                        "intercept_base",
                        "intercept_income",
                        "slope_base",
                        "slope_income",
                    ),
                    "(-inf,inf)",
                ),
            },
        )
        rows = (
            self.n_regions * (self.stores_mu + self.min_stores) * (self.steps_mu + self.min_steps)
        )
        _check_rows(
            f"n_regions={self.n_regions:,} x (stores_mu + min_stores) x (steps_mu + min_steps)",
            rows,
            8,
            "lower n_regions, stores_mu, min_stores, steps_mu or min_steps",
        )
        _check_neg_binomial("stores_mu", "stores_alpha", self.stores_mu, self.stores_alpha)
        _check_neg_binomial("steps_mu", "steps_alpha", self.steps_mu, self.steps_alpha)


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


def _check_neg_binomial(mu_name: str, alpha_name: str, mu: float, alpha: float) -> None:
    """Raise ``ValueError`` unless numpy can draw NegativeBinomial(mean ``mu``, dispersion
    ``alpha``) with that mean.

    numpy draws Poisson(Gamma(alpha, scale (1 - p) / p)) with p = alpha / (alpha + mu): for p
    below 1e-15 the Poisson rate can pass numpy's limit (about 1e18), and for p rounding to 1
    every draw is 0 (right only for a tiny ``mu``).
    """
    p = alpha / (alpha + mu)
    if p < 1e-15:
        raise ValueError(
            f"{alpha_name}={alpha!r} is too small for {mu_name}={mu!r}: numpy's negative "
            f"binomial sampler cannot draw it; use {alpha_name} >= {mu * 1e-15:.3g}"
        )
    if p == 1.0 and mu > 1e-12:
        raise ValueError(
            f"{alpha_name}={alpha!r} is so large next to {mu_name}={mu!r} that every draw would be "
            f"0 instead of averaging {mu_name}: use {alpha_name} <= {mu * 1e15:.3g}"
        )


def _gamma(
    rng: np.random.Generator, mean_name: str, sd_name: str, mean: float, sd: float, size
) -> np.ndarray:
    """Gamma draws parameterised by mean and sd (named ``mean_name`` and ``sd_name``).

    Raises ``ValueError`` naming both unless every draw lies within [1e-300, 1e300]: the draws
    are then positive and finite, and so are their logs.
    """

    def square(x: float) -> float:  # x ** 2, but inf where Python's ** raises OverflowError
        return x**2 if abs(x) < 1e154 else math.inf

    shape, scale = square(mean / sd), square(sd) / mean
    draws = rng.gamma(shape=shape, scale=scale, size=size)
    if not (np.all(draws >= _TINY) and np.all(draws <= _HUGE)):  # False for NaN too
        raise ValueError(
            f"{mean_name}={mean!r} with {sd_name}={sd!r} give a Gamma (shape (mean / sd)^2 = "
            f"{shape:.3g}, scale sd^2 / mean = {scale:.3g}) with draws from {np.min(draws):.3g} "
            f"to {np.max(draws):.3g}, outside [{_TINY:.0e}, {_HUGE:.0e}]: they underflow to 0 "
            f"or overflow; keep {sd_name} below about 4 times {mean_name}, both of ordinary size"
        )
    return draws


def _neg_binomial(rng: np.random.Generator, mu: float, alpha: float, size) -> np.ndarray:
    """Negative binomial draws with mean mu and dispersion alpha (variance mu + mu^2 / alpha)."""
    return rng.negative_binomial(alpha, alpha / (alpha + mu), size=size)


def simulate_elasticities(params: ElasticityParams | None = None, seed: int = 42) -> ElasticitySim:
    """Simulate one SKU sold in many stores across regions with income-driven elasticities.

    Raises
    ------
    ValueError
        When the numbers of stores and time steps drawn (random, and very spread out for a small
        ``stores_alpha`` or ``steps_alpha``) add up to more than :data:`MAX_ROWS` rows (checked
        before the rows are made); when incomes or prices drawn leave [1e-300, 1e300] (naming
        their mean and sd); or when a log quantity could pass +-700, so that the quantity would
        overflow or underflow to 0 (naming the parameters of its largest term). The parameters
        themselves are checked by :class:`ElasticityParams`.

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
    income = (
        _gamma(rng, "income_mean", "income_sd", p.income_mean, p.income_sd, p.n_regions)
        + p.income_shift
    )
    intercept = rng.normal(p.intercept_base + p.intercept_income * income, p.region_sd)
    elasticity = rng.normal(p.slope_base + p.slope_income * income, p.region_sd)
    n_stores = _neg_binomial(rng, p.stores_mu, p.stores_alpha, p.n_regions) + p.min_stores
    # The counts are random (very spread out for a small alpha): check the rows actually drawn
    # before making them.
    rows = int(n_stores.sum()) * p.min_steps
    fix = "raise stores_alpha and steps_alpha (less spread) or lower the means"
    _check_rows(
        f"seed {seed}'s draw of {int(n_stores.sum()):,} stores x min_steps={p.min_steps}",
        rows,
        8,
        fix,
    )
    frames = []
    for j, region in enumerate(regions):
        steps = _neg_binomial(rng, p.steps_mu, p.steps_alpha, n_stores[j]) + p.min_steps
        rows += int(steps.sum()) - p.min_steps * len(steps)
        _check_rows(f"seed {seed}'s draw of time steps (regions R1 to {region})", rows, 8, fix)
        for s, n_steps in enumerate(steps):
            price = _gamma(rng, "price_mean", "price_sd", p.price_mean, p.price_sd, n_steps)
            log_price = np.log(price)
            noise = rng.normal(0, p.noise_sd, n_steps)
            _check_size(
                "log quantity",
                {
                    "intercept_base, intercept_income, region_sd": intercept[j],
                    "slope_base, slope_income (times log price)": elasticity[j] * log_price,
                    "noise_sd": noise,
                },
                700.0,
                " (quantity = exp(log quantity) would overflow or underflow to 0)",
            )
            log_q = intercept[j] + elasticity[j] * log_price + noise
            frames.append(
                pd.DataFrame(
                    {
                        "region": region,
                        "store": f"{region}-S{s + 1:02d}",
                        "time": np.arange(n_steps),
                        "median_income": income[j],
                        "price": price,
                        "quantity": np.exp(log_q),
                        "log_price": log_price,
                        "log_quantity": log_q,
                    }
                )
            )
    data = pd.concat(frames, ignore_index=True)
    data["region"] = pd.Categorical(data["region"], categories=regions, ordered=True)
    counts = data.groupby("region", observed=False).agg(
        stores=("store", "nunique"), observations=("store", "size")
    )
    truth = pd.DataFrame(
        {
            "region": pd.Categorical(regions, categories=regions, ordered=True),
            "median_income": income,
            "intercept": intercept,
            "elasticity": elasticity,
            "stores": counts["stores"].to_numpy(),
            "observations": counts["observations"].to_numpy(),
        }
    )
    return ElasticitySim(data=data, truth=truth, params=p)


#: Media channels of the simulated panel, in the order of every per-channel tuple.
CHANNELS: tuple[str, str, str] = ("tv", "search", "social")


@dataclass(frozen=True)
class PanelParams:
    """Parameters of the multi-market weekly panel (after the DSAMbayes hierarchical example).

    Per market m and channel c: a spend level ``spend_means[c] * exp(spend_between * z[m, c] -
    spend_between**2 / 2)`` with z ~ Normal(0, 1), so levels have mean ``spend_means[c]``; weekly
    spend varies around the level by a log-normal factor with log-sd ``spend_within``. Market
    baselines are ``baseline + sum_c confounding[c] * z[m, c] + Normal(0, baseline_sd)``: a market
    that spends more (higher z) has a higher (``confounding`` > 0) or lower (< 0) baseline, the
    confounding the Mundlak correction removes. Market slopes are ``effects[c] + Normal(0,
    slope_sds[c])``. Weekly KPI = baseline + ``trend`` * years + ``season`` * sin(2 pi week / 52) +
    ``brand_effect`` * brand + sum_c slope[m, c] * spend[c] + Normal(0, ``noise_sd``), where the
    brand metric is a standardized AR(1) series (coefficient ``brand_ar``) per market.

    Units: KPI in thousands of units sold per week, spend in thousands of dollars per week, so an
    effect is the extra thousand units sold per extra thousand dollars. Every field is checked when
    the object is made; a bad value raises ``ValueError`` naming it. Besides each field's own
    range: ``n_markets`` x ``n_weeks`` is at most :data:`MAX_ROWS`. What the draws give (spend
    within [1e-300, 1e300], a KPI below 1e300) is checked by :func:`simulate_panel`.

    Example
    -------
    >>> PanelParams(n_markets=8).effects
    (0.8, 1.0, 0.5)
    """

    n_markets: int = 40
    n_weeks: int = 26
    effects: tuple[float, float, float] = (0.8, 1.0, 0.5)
    slope_sds: tuple[float, float, float] = (0.1, 0.2, 0.15)
    spend_means: tuple[float, float, float] = (5.0, 4.0, 4.0)
    spend_between: float = 0.6
    spend_within: float = 0.3
    confounding: tuple[float, float, float] = (0.5, 0.5, -4.0)
    baseline: float = 100.0
    baseline_sd: float = 1.0
    trend: float = 4.0
    season: float = 6.0
    brand_effect: float = 3.0
    brand_ar: float = 0.8
    noise_sd: float = 10.0

    def __post_init__(self) -> None:
        _check_fields(
            vars(self),
            {
                "n_markets": "[1,inf) whole",
                "n_weeks": "[2,inf) whole",
                "effects": "(-inf,inf) each",
                "slope_sds": "[0,inf) each",
                "spend_means": "(0,inf) each",
                "confounding": "(-inf,inf) each",
                # log-sds below 1e150 have finite squares
                "spend_between": "[0,1e150)",
                "spend_within": "[0,1e150)",
                "baseline_sd": "[0,inf)",
                "noise_sd": "(0,inf)",
                "baseline": "(-inf,inf)",
                "trend": "(-inf,inf)",
                "season": "(-inf,inf)",
                "brand_effect": "(-inf,inf)",
                "brand_ar": "(-1,1)",
            },
            parts=CHANNELS,
        )
        _check_rows(
            f"n_markets={self.n_markets:,} x n_weeks={self.n_weeks:,}",
            self.n_markets * self.n_weeks,
            9,
            "lower n_markets or n_weeks",
        )


@dataclass(frozen=True)
class PanelSim:
    """A simulated weekly multi-market panel: data, truth and settings.

    Attributes
    ----------
    data
        One row per market and week: ``market`` (ordered categorical), ``week``, ``trend``
        (years since the first week), ``season``, ``brand``, spend per channel (``tv``,
        ``search``, ``social``) and ``kpi``.
    truth
        One row per market: true ``baseline``, ``slope_<channel>`` and the market's average
        spend ``mean_<channel>``.
    params
        The :class:`PanelParams` used.
    """

    data: pd.DataFrame
    truth: pd.DataFrame
    params: PanelParams


def simulate_panel(params: PanelParams | None = None, seed: int = 7) -> PanelSim:
    """Simulate weekly KPI and media spend in many markets, with confounded market baselines.

    Raises
    ------
    ValueError
        When the spend drawn would leave [1e-300, 1e300] (against the documented spend > 0: a
        log-sd ``spend_between`` or ``spend_within`` beyond about 29 can make it underflow to 0),
        or the KPI could pass 1e300; naming the parameters of the largest term. The parameters
        themselves are checked by :class:`PanelParams`.

    Example
    -------
    >>> sim = simulate_panel(PanelParams(n_markets=5, n_weeks=10), seed=1)
    >>> sim.data.shape, list(sim.truth.columns)[:2]
    ((50, 9), ['market', 'baseline'])
    >>> bool((sim.data[list(CHANNELS)] > 0).all().all())
    True
    """
    p = params if params is not None else PanelParams()
    rng = np.random.default_rng(seed)
    n_m, n_w, n_c = p.n_markets, p.n_weeks, len(CHANNELS)
    labels = [f"M{m + 1:02d}" for m in range(n_m)]
    z = rng.normal(size=(n_m, n_c))
    between = p.spend_between * z - p.spend_between**2 / 2
    level = np.asarray(p.spend_means) * np.exp(between)
    confounded, market_noise = z @ np.asarray(p.confounding), rng.normal(0, p.baseline_sd, n_m)
    baseline = p.baseline + confounded + market_noise
    slopes = np.asarray(p.effects) + rng.normal(size=(n_m, n_c)) * np.asarray(p.slope_sds)
    within = p.spend_within * rng.normal(size=(n_m, n_w, n_c)) - p.spend_within**2 / 2
    _check_size(
        "|log(weekly spend)|",
        {
            "spend_means": np.log(p.spend_means),
            "spend_between": between,
            "spend_within": within,
        },
        -math.log(_TINY),
        " (spend would underflow to 0, against the documented spend > 0, or overflow)",
    )
    spend = level[:, None, :] * np.exp(within)
    shocks = rng.normal(size=(n_m, n_w))
    brand = np.empty((n_m, n_w))
    brand[:, 0] = shocks[:, 0]
    for t in range(1, n_w):
        brand[:, t] = p.brand_ar * brand[:, t - 1] + math.sqrt(1 - p.brand_ar**2) * shocks[:, t]
    week = np.arange(n_w)
    season = np.sin(2 * np.pi * week / 52)
    media = np.einsum("mwc,mc->mw", spend, slopes)
    noise = rng.normal(0, p.noise_sd, (n_m, n_w))
    _check_size(
        "the KPI",
        {
            "baseline": p.baseline,
            "confounding": confounded,
            "baseline_sd": market_noise,
            "trend": p.trend * week / 52,
            "season": p.season * season,
            "brand_effect": p.brand_effect * brand,
            "effects, slope_sds (times spend)": media,
            "noise_sd": noise,
        },
    )
    kpi = (
        baseline[:, None]
        + p.trend * week / 52
        + p.season * season
        + p.brand_effect * brand
        + media
        + noise
    )
    data = pd.DataFrame(
        {
            "market": pd.Categorical(np.repeat(labels, n_w), categories=labels, ordered=True),
            "week": np.tile(week, n_m),
            "trend": np.tile(week / 52, n_m),
            "season": np.tile(season, n_m),
            "brand": brand.ravel(),
            **{c: spend[:, :, i].ravel() for i, c in enumerate(CHANNELS)},
            "kpi": kpi.ravel(),
        }
    )
    truth = pd.DataFrame(
        {
            "market": pd.Categorical(labels, categories=labels, ordered=True),
            "baseline": baseline,
            **{f"slope_{c}": slopes[:, i] for i, c in enumerate(CHANNELS)},
            **{f"mean_{c}": spend[:, :, i].mean(axis=1) for i, c in enumerate(CHANNELS)},
        }
    )
    return PanelSim(data=data, truth=truth, params=p)


@dataclass(frozen=True)
class ReactionTimesParams:
    """Population of :func:`simulate_reaction_times`, in the data's units (``y_scale`` and
    ``x_scale`` applied): mean ``intercept`` and ``slope`` of the subjects' lines, their sds
    ``sd_intercept`` and ``sd_slope`` and correlation ``corr``, the sd of the stimulus offsets
    ``sd_stimulus`` and the noise sd ``sigma``.

    Example
    -------
    >>> simulate_reaction_times(n_subjects=3, n_days=2, seed=2, y_scale=2.0).params.sigma
    50.0
    """

    intercept: float
    slope: float
    sd_intercept: float
    sd_slope: float
    corr: float
    sd_stimulus: float
    sigma: float


@dataclass(frozen=True)
class ReactionTimesSim:
    """Simulated reaction times over days of sleep restriction, with the truth behind them.

    Attributes
    ----------
    data
        One row per test: ``subject`` and ``stimulus`` (its stimulus set) (ordered
        categoricals), ``days`` (days of restriction, times ``x_scale``) and ``reaction`` (in ms,
        times ``y_scale``).
    truth
        One row per subject: its true ``intercept`` and ``slope`` (population value plus its
        own deviation, in the data's units).
    stimulus_truth
        One row per stimulus set: its true ``offset`` (added latency).
    params
        The :class:`ReactionTimesParams`, in the data's units.
    """

    data: pd.DataFrame
    truth: pd.DataFrame
    stimulus_truth: pd.DataFrame
    params: ReactionTimesParams


def simulate_reaction_times(
    n_subjects: int = 18,
    n_days: int = 10,
    n_stimuli: int = 30,
    *,
    intercept: float = 250.0,
    slope: float = 10.0,
    sd_intercept: float = 25.0,
    sd_slope: float = 6.0,
    corr: float = 0.1,
    sd_stimulus: float = 15.0,
    sigma: float = 25.0,
    y_scale: float = 1.0,
    x_scale: float = 1.0,
    seed: int = 1,
) -> ReactionTimesSim:
    """Simulate a sleep-restriction study: reaction times by subject and day, with crossed stimuli.

    Each day's test uses one of ``n_stimuli`` stimulus sets, drawn at random; each set adds its
    own latency. Subject ``j`` on day ``t`` (0 to ``n_days - 1``), tested with stimulus set ``s``,
    has reaction time ``a_j + b_j t + d_s + Normal(0, sigma)`` with ``(a_j, b_j)`` bivariate
    normal (means ``intercept``, ``slope``; sds ``sd_intercept``, ``sd_slope``; correlation
    ``corr``) and stimulus offsets Normal(0, ``sd_stimulus``): subjects and stimuli are *crossed*.
    The defaults are on the scale of lme4's ``sleepstudy`` data (ms, days). ``y_scale``
    multiplies every response quantity and ``x_scale`` the predictor (so the slope per unit is
    ``slope * y_scale / x_scale``), to test models on other scales.

    Raises
    ------
    ValueError
        Naming the bad parameter: ``n_subjects`` or ``n_stimuli`` < 2, ``n_days`` < 2, more than
        :data:`MAX_ROWS` rows (``n_subjects`` x ``n_days``) or stimuli, an sd or scale <= 0,
        ``sd_intercept`` or ``sd_slope`` >= 1e150 (their squares overflow), ``corr`` outside
        (-1, 1), a non-finite mean, or values so large that reaction times, days or the reported
        parameters overflow.

    Example
    -------
    >>> sim = simulate_reaction_times(n_subjects=3, n_days=2, seed=2)
    >>> sim.data.shape, list(sim.data.columns)
    ((6, 4), ['subject', 'stimulus', 'days', 'reaction'])
    >>> sim.params.slope, list(sim.stimulus_truth.columns)
    (10.0, ['stimulus', 'offset'])
    """
    # sds below 1e150 have finite squares (variances)
    _check_fields(
        locals(),
        {
            "n_subjects": "[2,inf) whole",
            "n_days": "[2,inf) whole",
            "n_stimuli": "[2,inf) whole",
            "intercept": "(-inf,inf)",
            "slope": "(-inf,inf)",
            "sd_intercept": "(0,1e150)",
            "sd_slope": "(0,1e150)",
            "sd_stimulus": "(0,inf)",
            "sigma": "(0,inf)",
            "y_scale": "(0,inf)",
            "x_scale": "(0,inf)",
            "corr": "(-1,1)",
        },
    )
    _check_rows(
        f"n_subjects={n_subjects:,} x n_days={n_days:,}",
        n_subjects * n_days,
        4,
        "lower n_subjects or n_days",
    )
    _check_rows(f"n_stimuli={n_stimuli:,}", n_stimuli, 2, "lower n_stimuli")
    rng = np.random.default_rng(seed)
    effects = _bivariate_normal(rng, (intercept, slope), (sd_intercept, sd_slope), corr, n_subjects)
    offsets = rng.normal(0.0, sd_stimulus, size=n_stimuli)
    subject_labels = [f"P{i + 1:03d}" for i in range(n_subjects)]
    stimulus_labels = [f"S{i + 1:02d}" for i in range(n_stimuli)]
    subject = np.repeat(np.arange(n_subjects), n_days)
    days = np.tile(np.arange(n_days), n_subjects).astype(float)
    stimulus = rng.integers(n_stimuli, size=subject.size)
    noise = rng.normal(0.0, sigma, size=subject.size)
    with np.errstate(over="ignore"):  # an overflow is refused just below
        terms = {
            "intercept x y_scale": intercept * y_scale,
            "sd_intercept x y_scale": (effects[:, 0] - intercept) * y_scale,
            "slope x y_scale": slope * (n_days - 1) * y_scale,
            "sd_slope x y_scale": (effects[subject, 1] - slope) * days * y_scale,
            "sd_stimulus x y_scale": offsets * y_scale,
            "sigma x y_scale": noise * y_scale,
        }
    _check_size("a reaction time", terms)
    _check_size("days", {"x_scale": (n_days - 1) * x_scale})
    _check_size(
        "the slope in the data's units",
        {"x_scale (dividing slope and sd_slope)": (abs(slope) + sd_slope) * y_scale / x_scale},
    )
    reaction = effects[subject, 0] + effects[subject, 1] * days + offsets[stimulus] + noise
    data = pd.DataFrame(
        {
            "subject": pd.Categorical(
                np.array(subject_labels)[subject], categories=subject_labels, ordered=True
            ),
            "stimulus": pd.Categorical(
                np.array(stimulus_labels)[stimulus], categories=stimulus_labels, ordered=True
            ),
            "days": days * x_scale,
            "reaction": reaction * y_scale,
        }
    )
    truth = pd.DataFrame(
        {
            "subject": pd.Categorical(subject_labels, categories=subject_labels, ordered=True),
            "intercept": effects[:, 0] * y_scale,
            "slope": effects[:, 1] * y_scale / x_scale,
        }
    )
    stimulus_truth = pd.DataFrame(
        {
            "stimulus": pd.Categorical(stimulus_labels, categories=stimulus_labels, ordered=True),
            "offset": offsets * y_scale,
        }
    )
    params = ReactionTimesParams(
        intercept=intercept * y_scale,
        slope=slope * y_scale / x_scale,
        sd_intercept=sd_intercept * y_scale,
        sd_slope=sd_slope * y_scale / x_scale,
        corr=float(corr),
        sd_stimulus=sd_stimulus * y_scale,
        sigma=sigma * y_scale,
    )
    return ReactionTimesSim(data, truth, stimulus_truth, params)


@dataclass(frozen=True)
class ContactsParams:
    """Population of :func:`simulate_contacts`.

    A store's (intercept, bundle slope) on the log-odds scale is bivariate normal with means
    ``mean``, sds ``sd`` and correlation ``corr``; ``channel`` adds a fixed log-odds shift per
    channel (Mail, Park, Email; Mail is the reference, so its shift is 0), and ``channel_share``
    and ``bundle_share`` are how often each channel and the bundle are used. Store sizes vary:
    a store's share of the contacts is log-normal with sd ``size_sd``.

    Example
    -------
    >>> ContactsParams().channel
    (0.0, 1.0, -0.8)
    """

    mean: tuple[float, float] = (-1.0, 0.4)
    sd: tuple[float, float] = (0.5, 0.3)
    corr: float = -0.5
    channel: tuple[float, float, float] = (0.0, 1.0, -0.8)
    channel_share: tuple[float, float, float] = (0.4, 0.3, 0.3)
    bundle_share: float = 0.5
    size_sd: float = 0.5


@dataclass(frozen=True)
class ContactsSim:
    """Simulated season-pass contacts of a national operator: one row per contact.

    Attributes
    ----------
    data
        One row per contact: ``store`` (int32, 1 ... n_stores), ``channel`` (ordered: Mail,
        Park, Email), ``promo`` (ordered: NoBundle, Bundle) and ``bought`` (0 or 1, int8). A
        DataFrame, or, when :func:`simulate_contacts` was given a ``folder``, the ``Path`` of the
        folder of Parquet files holding the same rows.
    truth
        One row per store: ``store``, its number of contacts ``n``, its true ``intercept``
        (log-odds of buying by mail without the bundle) and ``slope`` (the bundle's log odds
        ratio).
    params
        The :class:`ContactsParams`.
    """

    data: pd.DataFrame | Path
    truth: pd.DataFrame
    params: ContactsParams


#: Rows simulated (and written, with a ``folder``) at a time by :func:`simulate_contacts`.
CHUNK_ROWS: int = 1_000_000
#: Levels of the contacts' ``channel`` and ``promo`` columns, in their (ordered) order.
CONTACT_CHANNELS: tuple[str, ...] = ("Mail", "Park", "Email")
CONTACT_PROMOS: tuple[str, ...] = ("NoBundle", "Bundle")


def simulate_contacts(
    n_rows: int = 1_000_000,
    n_stores: int = 1_000,
    params: ContactsParams | None = None,
    seed: int = 11,
    folder: str | Path | None = None,
) -> ContactsSim:
    """Simulate ``n_rows`` contacts in ``n_stores`` stores, one row (a Bernoulli trial) each.

    The rows are made :data:`CHUNK_ROWS` at a time, each chunk from its own seeded generator,
    so the same arguments give the same rows whether they are kept in memory (``folder`` None;
    at most :data:`MAX_ROWS` rows) or written to ``folder`` as Parquet files
    ``part-00000.parquet``, ``part-00001.parquet``, ... (any number of rows: memory stays at one
    chunk). Existing ``part-*.parquet`` files in ``folder`` are replaced.

    Raises
    ------
    ValueError
        Naming the bad parameter: ``n_rows`` or ``n_stores`` not a whole number >= 1 (or,
        without a ``folder``, more than :data:`MAX_ROWS` rows), an sd <= 0, ``corr`` outside
        (-1, 1), shares that are not positive or do not sum to 1, ``bundle_share`` outside
        (0, 1), or a ``size_sd`` < 0.

    Example
    -------
    >>> sim = simulate_contacts(n_rows=1_000, n_stores=20, seed=3)
    >>> sim.data.shape, list(sim.data.columns)
    ((1000, 4), ['store', 'channel', 'promo', 'bought'])
    >>> int(sim.truth["n"].sum()), list(sim.truth.columns)
    (1000, ['store', 'n', 'intercept', 'slope'])
    """
    params = params or ContactsParams()
    _check_fields(
        {"n_rows": n_rows, "n_stores": n_stores},
        {"n_rows": "[1,inf) whole", "n_stores": "[1,inf) whole"},
    )
    fields = {name: getattr(params, name) for name in ("mean", "sd", "corr", "size_sd")}
    _check_fields(
        fields,
        {"mean": "(-50,50) each", "sd": "(0,10) each", "corr": "(-1,1)", "size_sd": "[0,10]"},
        parts=("intercept", "slope"),
    )
    _check_fields(
        {"channel": params.channel, "channel_share": params.channel_share},
        {"channel": "(-50,50) each", "channel_share": "(0,1] each"},
        parts=CONTACT_CHANNELS,
    )
    _check_fields({"bundle_share": params.bundle_share}, {"bundle_share": "(0,1)"})
    if not math.isclose(sum(params.channel_share), 1.0, abs_tol=1e-9):
        raise ValueError(
            f"channel_share must sum to 1 (one share per channel {CONTACT_CHANNELS}), "
            f"got {params.channel_share!r}"
        )
    if folder is None:
        _check_rows(f"n_rows={n_rows:,}", n_rows, 4, "pass folder= to write them to Parquet")
    rng = np.random.default_rng(seed)
    effects = _bivariate_normal(rng, params.mean, params.sd, params.corr, n_stores)
    size = rng.lognormal(0.0, params.size_sd, size=n_stores)
    store_p = size / size.sum()
    shift = np.asarray(params.channel, dtype=float)

    if folder is not None:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("part-*.parquet"):
            old.unlink()
    counts = np.zeros(n_stores, dtype="int64")
    chunks = []
    for index, start in enumerate(range(0, n_rows, CHUNK_ROWS)):
        rows = min(CHUNK_ROWS, n_rows - start)
        chunk_rng = np.random.default_rng([seed, index])
        store = chunk_rng.choice(n_stores, size=rows, p=store_p)
        channel = chunk_rng.choice(len(CONTACT_CHANNELS), size=rows, p=params.channel_share)
        bundle = (chunk_rng.random(rows) < params.bundle_share).astype("int8")
        log_odds = effects[store, 0] + bundle * effects[store, 1] + shift[channel]
        bought = (chunk_rng.random(rows) < special.expit(log_odds)).astype("int8")
        counts += np.bincount(store, minlength=n_stores)
        chunk = pd.DataFrame(
            {
                "store": (store + 1).astype("int32"),
                "channel": pd.Categorical.from_codes(
                    channel, categories=list(CONTACT_CHANNELS), ordered=True
                ),
                "promo": pd.Categorical.from_codes(
                    bundle, categories=list(CONTACT_PROMOS), ordered=True
                ),
                "bought": bought,
            }
        )
        if folder is None:
            chunks.append(chunk)
        else:
            table = pa.Table.from_pandas(chunk, preserve_index=False)
            pq.write_table(table, folder / f"part-{index:05d}.parquet")
    data = folder if folder is not None else pd.concat(chunks, ignore_index=True)
    truth = pd.DataFrame(
        {
            "store": np.arange(1, n_stores + 1, dtype="int32"),
            "n": counts,
            "intercept": effects[:, 0],
            "slope": effects[:, 1],
        }
    )
    return ContactsSim(data, truth, params)
