"""Simulators with known truth, so chapters can check what a model recovers.

Every simulator checks its parameters before it simulates and raises ``ValueError`` naming the
bad one: a value of the wrong kind, a request for more than :data:`MAX_ROWS` rows (refused before
anything is allocated, with the memory it would need), or values that would make an output
overflow, underflow to 0 or break a documented property (such as spend > 0). The checks take
every normal draw to lie within 9 sds and every Gamma draw within its 1e-18 and 1 - 1e-18
quantiles.

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
from scipy import special, stats

#: Most rows a simulator makes (each float column of 10 million rows takes 80 MB); larger
#: requests are refused before anything is allocated, with the memory they would need.
MAX_ROWS: int = 10_000_000

#: Largest number of contacts (trials) per row: numpy's binomial draws need int64 counts.
MAX_COUNT: int = 10**18

# Bounds the parameter checks keep outputs within: doubles overflow past 1.8e308 and lose
# precision below 2.2e-308; a normal draw beyond _Z sds, or a Gamma draw beyond its _TAIL
# quantiles, has a chance below 1e-18.
_HUGE, _TINY = 1e300, 1e-300
_Z = 9.0
_TAIL = 1e-18


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


def _check_whole(name: str, value: int, minimum: int, maximum: int | None = None) -> None:
    """Raise ``ValueError`` naming ``name`` unless ``value`` is a whole number in range."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum \
            or (maximum is not None and value > maximum):
        upper = "" if maximum is None else f" and <= {maximum:.0e}"
        raise ValueError(f"{name} must be a whole number >= {minimum}{upper}, got {value!r}")


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


def _check_bound(what: str, parts: dict[str, float], limit: float = _HUGE, why: str = "",
                 fix: str = "use values of ordinary size") -> None:
    """Raise ``ValueError`` unless the sum of ``parts`` (bounds on the sizes of the pieces of an
    output, keyed by the parameters behind them) stays below ``limit``; name the largest piece."""
    total = sum(parts.values())
    if total < limit:  # False for inf and nan too
        return
    culprit = max(parts, key=lambda k: parts[k] if not math.isnan(parts[k]) else math.inf)
    pieces = ", ".join(f"{name} {value:.3g}" for name, value in parts.items())
    raise ValueError(
        f"{what} could reach about {total:.3g}, beyond the limit {limit:.3g}{why}, mostly "
        f"because of {culprit} (parts: {pieces}): {fix}"
    )


def _gamma_range(mean_name: str, sd_name: str, mean: float, sd: float) -> tuple[float, float]:
    """The range of Gamma(mean, sd) draws (the 1e-18 and 1 - 1e-18 quantiles).

    Raises ``ValueError`` naming both parameters unless it lies within [1e-300, 1e300]: the draws
    are then positive and finite, and so are their logs.
    """
    shape, scale = (mean / sd) * (mean / sd), sd * (sd / mean)
    low = high = math.nan
    if 0 < shape < _HUGE and 0 < scale < _HUGE:
        low = float(stats.gamma.ppf(_TAIL, shape, scale=scale))
        high = float(stats.gamma.isf(_TAIL, shape, scale=scale))
    if not (low > _TINY and high < _HUGE):
        spread = f"draws from {low:.3g} to {high:.3g}" if low == low else "draws"
        raise ValueError(
            f"{mean_name}={mean!r} with {sd_name}={sd!r} give a Gamma (shape (mean / sd)^2 = "
            f"{shape:.3g}, scale sd^2 / mean = {scale:.3g}) with {spread} outside "
            f"[{_TINY:.0e}, {_HUGE:.0e}]: they would underflow to 0 or overflow; keep {sd_name} "
            f"below about 4 times {mean_name}, both of ordinary size"
        )
    return low, high


def _check_neg_binomial(mu_name: str, alpha_name: str, mu: float, alpha: float) -> None:
    """Raise ``ValueError`` unless numpy can draw NegativeBinomial(mean ``mu``, dispersion
    ``alpha``) with that mean: its Poisson rate, up to mu + 10 mu / sqrt(alpha), must stay below
    1e18, and p = alpha / (alpha + mu) must not round to 1 (every draw would be 0) unless ``mu``
    is so small (<= 1e-12) that draws of 0 are right."""
    if not mu * (1 + 10 / math.sqrt(alpha)) < 1e18:
        raise ValueError(
            f"{alpha_name}={alpha!r} is too small for {mu_name}={mu!r}: numpy's negative "
            f"binomial sampler cannot draw it; use {alpha_name} >= "
            f"{(10 * mu / (1e18 - mu)) ** 2:.3g}"
        )
    if alpha / (alpha + mu) == 1.0 and mu > 1e-12:
        raise ValueError(
            f"{alpha_name}={alpha!r} is so large next to {mu_name}={mu!r} that every draw would be "
            f"0 instead of averaging {mu_name}: use {alpha_name} <= {mu * 1e12:.3g}"
        )


def _check_number(name: str, value: float, bound: str = "") -> None:
    """Raise ``ValueError`` naming ``name`` unless ``value`` is finite and meets ``bound``.

    ``bound`` is "" (any finite number), ">= 0" or "> 0".
    """
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if ok and bound:
        ok = value >= 0 if bound == ">= 0" else value > 0
    if not ok:
        raise ValueError(f"{name} must be a finite number {bound}".rstrip() + f", got {value!r}")


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
    _check_whole("n_groups", n_groups, 1)
    _check_rows(f"n_groups={n_groups:,}", n_groups, 7, "simulate fewer groups")
    _check_whole("min_size", min_size, 1, MAX_COUNT)
    _check_whole("max_size", max_size, min_size, MAX_COUNT)
    if not math.isfinite(mu):
        raise ValueError(f"mu must be a finite number, got {mu!r}")
    if not (math.isfinite(sigma) and sigma >= 0):
        raise ValueError(f"sigma must be a finite number >= 0, got {sigma!r}")
    _check_bound("a true log-odds", {"mu": abs(mu), "sigma": _Z * sigma})
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
        Naming the bad parameter: ``n_stores`` < 2 or more than :data:`MAX_ROWS` / 2,
        ``contacts`` < 1 or above :data:`MAX_COUNT`, an sd <= 0, ``corr`` outside (-1, 1),
        non-finite means, or means and sds so large that log-odds overflow.

    Example
    -------
    >>> sim = simulate_correlated_stores(n_stores=3, contacts=10, seed=2)
    >>> sim.data.shape, list(sim.truth.columns)
    ((6, 4), ['store', 'intercept', 'slope'])
    """
    _check_whole("n_stores", n_stores, 2)
    _check_rows(f"n_stores={n_stores:,}", 2 * n_stores, 4, "simulate fewer stores")
    _check_whole("contacts", contacts, 1, MAX_COUNT)
    if len(mean) != 2 or not all(math.isfinite(m) for m in mean):
        raise ValueError(f"mean must be two finite numbers (intercept, slope), got {mean!r}")
    if len(sd) != 2 or not all(math.isfinite(s) and s > 0 for s in sd):
        raise ValueError(f"sd must be two positive numbers (intercept, slope), got {sd!r}")
    if not (math.isfinite(corr) and -1 < corr < 1):
        raise ValueError(f"corr must lie strictly between -1 and 1, got {corr!r}")
    _check_bound("a variance (sd squared)", {"sd": max(sd) * max(sd)})
    _check_bound("a true log-odds", {"mean": abs(mean[0]) + abs(mean[1]),
                                      "sd": _Z * (sd[0] + sd[1])})
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
    Besides each field's own range: the expected number of rows, ``n_regions`` x (``stores_mu`` +
    ``min_stores``) x (``steps_mu`` + ``min_steps``), is at most :data:`MAX_ROWS`; incomes and
    prices stay within [1e-300, 1e300] (so prices are > 0 and their logs finite); log quantities
    stay within +-700 (so quantities are finite and > 0).

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
            _check_number(name, getattr(self, name), "> 0" if name in positive else "")
        rows = (self.n_regions * (self.stores_mu + self.min_stores)
                * (self.steps_mu + self.min_steps))
        _check_rows(
            f"n_regions={self.n_regions:,} x (stores_mu + min_stores) x (steps_mu + min_steps)",
            rows, 8, "lower n_regions, stores_mu, min_stores, steps_mu or min_steps",
        )
        _check_neg_binomial("stores_mu", "stores_alpha", self.stores_mu, self.stores_alpha)
        _check_neg_binomial("steps_mu", "steps_alpha", self.steps_mu, self.steps_alpha)
        income = _gamma_range("income_mean", "income_sd", self.income_mean, self.income_sd)
        income = (income[0] + self.income_shift, income[1] + self.income_shift)
        log_price = tuple(map(math.log, _gamma_range("price_mean", "price_sd", self.price_mean,
                                                     self.price_sd)))
        region = _Z * self.region_sd
        intercept = max(abs(self.intercept_base + self.intercept_income * x) for x in income)
        slope = max(abs(self.slope_base + self.slope_income * x) for x in income) + region
        _check_bound(
            "log quantity", {
                "intercept_base + intercept_income x income (income_mean, income_sd, "
                "income_shift)": intercept + region,
                "(slope_base + slope_income x income) x log price (price_mean, price_sd)":
                    slope * max(map(abs, log_price)),
                "noise_sd": _Z * self.noise_sd,
            },
            700.0, " (quantity = exp(log quantity) would overflow or underflow to 0)",
        )


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

    Raises
    ------
    ValueError
        When the numbers of stores and time steps drawn (random, and very spread out for a small
        ``stores_alpha`` or ``steps_alpha``) add up to more than :data:`MAX_ROWS` rows; checked
        before the rows are made. The parameters themselves are checked by
        :class:`ElasticityParams`.

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
    # The counts are random (very spread out for a small alpha): check the rows actually drawn
    # before making them.
    rows = int(n_stores.sum()) * p.min_steps
    fix = "raise stores_alpha and steps_alpha (less spread) or lower the means"
    _check_rows(f"seed {seed}'s draw of {int(n_stores.sum()):,} stores x min_steps={p.min_steps}",
                rows, 8, fix)
    frames = []
    for j, region in enumerate(regions):
        steps = _neg_binomial(rng, p.steps_mu, p.steps_alpha, n_stores[j]) + p.min_steps
        rows += int(steps.sum()) - p.min_steps * len(steps)
        _check_rows(f"seed {seed}'s draw of time steps (regions R1 to {region})", rows, 8, fix)
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
    range: ``n_markets`` x ``n_weeks`` is at most :data:`MAX_ROWS`; weekly spend stays within
    [1e-300, 1e300] (so spend > 0 holds: a log-sd ``spend_between`` or ``spend_within`` beyond
    about 29 could make spend underflow to 0); the KPI stays below 1e300.

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
        _check_whole("n_markets", self.n_markets, 1)
        _check_whole("n_weeks", self.n_weeks, 2)
        for name in ("effects", "slope_sds", "spend_means", "confounding"):
            values = getattr(self, name)
            if not (isinstance(values, tuple) and len(values) == len(CHANNELS)
                    and all(isinstance(v, (int, float)) and math.isfinite(v) for v in values)):
                raise ValueError(
                    f"{name} must be a tuple of {len(CHANNELS)} finite numbers "
                    f"({', '.join(CHANNELS)}), got {values!r}"
                )
        if any(v < 0 for v in self.slope_sds):
            raise ValueError(f"slope_sds must be >= 0, got {self.slope_sds!r}")
        if any(v <= 0 for v in self.spend_means):
            raise ValueError(f"spend_means must be > 0, got {self.spend_means!r}")
        scalars = {"spend_between": ">= 0", "spend_within": ">= 0", "baseline_sd": ">= 0",
                   "noise_sd": "> 0", "baseline": "", "trend": "", "season": "",
                   "brand_effect": ""}
        for name, bound in scalars.items():
            _check_number(name, getattr(self, name), bound)
        if not (isinstance(self.brand_ar, (int, float)) and -1 < self.brand_ar < 1):
            raise ValueError(f"brand_ar must lie strictly between -1 and 1, got {self.brand_ar!r}")
        _check_rows(f"n_markets={self.n_markets:,} x n_weeks={self.n_weeks:,}",
                    self.n_markets * self.n_weeks, 9, "lower n_markets or n_weeks")
        # log spend = log(spend_means) + s z - s^2 / 2 for each log-sd s (spend_between and
        # spend_within); with |z| <= _Z that term lies within -(_Z s + s^2 / 2) and _Z s - s^2 / 2.
        between, within = self.spend_between, self.spend_within
        drops = {"spend_means": max(0.0, -math.log(min(self.spend_means))),
                 "spend_between": _Z * between + between * between / 2,
                 "spend_within": _Z * within + within * within / 2}
        _check_bound("-log(weekly spend)", drops, -math.log(_TINY),
                     " (spend would underflow to 0, against the documented spend > 0)",
                     "keep the log-sds spend_between and spend_within below about 29")
        top = max(self.spend_means) * math.exp(
            _Z * between - between * between / 2 + _Z * within - within * within / 2)
        _check_bound("weekly spend", {"spend_means": top})
        _check_bound("the KPI", {
            "baseline": abs(self.baseline),
            "confounding": _Z * sum(map(abs, self.confounding)),
            "baseline_sd": _Z * self.baseline_sd,
            "trend": abs(self.trend) * (self.n_weeks - 1) / 52,
            "season": abs(self.season),
            "brand_effect": abs(self.brand_effect) * _Z,  # the brand metric is standardized
            "effects": sum(map(abs, self.effects)) * top,
            "slope_sds": _Z * sum(self.slope_sds) * top,
            "noise_sd": _Z * self.noise_sd,
        })


@dataclass(frozen=True)
class PanelSim:
    """A simulated weekly multi-market panel: data, truth and settings.

    Attributes
    ----------
    data
        One row per market and week: ``market`` (ordered categorical), ``week``, ``trend``
        (years since the first week), ``season``, ``brand``, spend per channel (``tv``,
        ``search``, ``social``) and ``kpi``.
    markets
        One row per market: true ``baseline``, ``slope_<channel>`` and the market's average
        spend ``mean_<channel>``.
    params
        The :class:`PanelParams` used.
    """

    data: pd.DataFrame
    markets: pd.DataFrame
    params: PanelParams


def simulate_panel(params: PanelParams | None = None, seed: int = 7) -> PanelSim:
    """Simulate weekly KPI and media spend in many markets, with confounded market baselines.

    Example
    -------
    >>> sim = simulate_panel(PanelParams(n_markets=5, n_weeks=10), seed=1)
    >>> sim.data.shape, list(sim.markets.columns)[:2]
    ((50, 9), ['market', 'baseline'])
    >>> bool((sim.data[list(CHANNELS)] > 0).all().all())
    True
    """
    p = params if params is not None else PanelParams()
    rng = np.random.default_rng(seed)
    n_m, n_w, n_c = p.n_markets, p.n_weeks, len(CHANNELS)
    labels = [f"M{m + 1:02d}" for m in range(n_m)]
    z = rng.normal(size=(n_m, n_c))
    level = np.asarray(p.spend_means) * np.exp(p.spend_between * z - p.spend_between**2 / 2)
    baseline = p.baseline + z @ np.asarray(p.confounding) + rng.normal(0, p.baseline_sd, n_m)
    slopes = np.asarray(p.effects) + rng.normal(size=(n_m, n_c)) * np.asarray(p.slope_sds)
    spend = level[:, None, :] * np.exp(
        p.spend_within * rng.normal(size=(n_m, n_w, n_c)) - p.spend_within**2 / 2
    )
    shocks = rng.normal(size=(n_m, n_w))
    brand = np.empty((n_m, n_w))
    brand[:, 0] = shocks[:, 0]
    for t in range(1, n_w):
        brand[:, t] = p.brand_ar * brand[:, t - 1] + math.sqrt(1 - p.brand_ar**2) * shocks[:, t]
    week = np.arange(n_w)
    season = np.sin(2 * np.pi * week / 52)
    kpi = (
        baseline[:, None] + p.trend * week / 52 + p.season * season + p.brand_effect * brand
        + np.einsum("mwc,mc->mw", spend, slopes) + rng.normal(0, p.noise_sd, (n_m, n_w))
    )
    data = pd.DataFrame({
        "market": pd.Categorical(np.repeat(labels, n_w), categories=labels, ordered=True),
        "week": np.tile(week, n_m),
        "trend": np.tile(week / 52, n_m),
        "season": np.tile(season, n_m),
        "brand": brand.ravel(),
        **{c: spend[:, :, i].ravel() for i, c in enumerate(CHANNELS)},
        "kpi": kpi.ravel(),
    })
    markets = pd.DataFrame({
        "market": pd.Categorical(labels, categories=labels, ordered=True),
        "baseline": baseline,
        **{f"slope_{c}": slopes[:, i] for i, c in enumerate(CHANNELS)},
        **{f"mean_{c}": spend[:, :, i].mean(axis=1) for i, c in enumerate(CHANNELS)},
    })
    return PanelSim(data=data, markets=markets, params=p)


@dataclass(frozen=True)
class ReactionTimes:
    """Simulated reaction times over days of sleep restriction, with the truth behind them.

    Attributes
    ----------
    data
        One row per test: ``subject`` and ``stimulus`` (its stimulus set) (ordered categoricals), ``days`` (days of
        restriction, times ``x_scale``) and ``reaction`` (in ms, times ``y_scale``).
    subjects
        One row per subject: its true ``intercept`` and ``slope`` (population value plus its
        own deviation, in the data's units).
    stimuli
        One row per stimulus: its true ``offset`` (added latency).
    params
        The population values in the data's units: ``intercept``, ``slope``, ``sd_intercept``,
        ``sd_slope``, ``corr``, ``sd_stimulus``, ``sigma``.
    """

    data: pd.DataFrame
    subjects: pd.DataFrame
    stimuli: pd.DataFrame
    params: dict[str, float]


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
) -> ReactionTimes:
    """Simulate a sleep-restriction study: reaction times by subject and day, with crossed stimuli.

    Each day's test uses one of ``n_stimuli`` stimulus sets, drawn at random; each set adds its
    own latency. Subject ``j`` on day ``t`` (0 to ``n_days - 1``), tested with stimulus set ``s``, has
    reaction time ``a_j + b_j t + d_s + Normal(0, sigma)`` with ``(a_j, b_j)`` bivariate
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
        ``corr`` outside (-1, 1), a non-finite mean, or values so large that reaction times,
        days or the reported parameters overflow.

    Example
    -------
    >>> sim = simulate_reaction_times(n_subjects=3, n_days=2, seed=2)
    >>> sim.data.shape, list(sim.data.columns)
    ((6, 4), ['subject', 'stimulus', 'days', 'reaction'])
    >>> sim.params["slope"]
    10.0
    """
    _check_whole("n_subjects", n_subjects, 2)
    _check_whole("n_days", n_days, 2)
    _check_whole("n_stimuli", n_stimuli, 2)
    for name, value in {"intercept": intercept, "slope": slope}.items():
        _check_number(name, value)
    for name, value in {"sd_intercept": sd_intercept, "sd_slope": sd_slope,
                        "sd_stimulus": sd_stimulus, "sigma": sigma, "y_scale": y_scale,
                        "x_scale": x_scale}.items():
        _check_number(name, value, "> 0")
    _check_number("corr", corr)
    if not -1 < corr < 1:
        raise ValueError(f"corr must lie strictly between -1 and 1, got {corr!r}")
    _check_rows(f"n_subjects={n_subjects:,} x n_days={n_days:,}", n_subjects * n_days, 4,
                "lower n_subjects or n_days")
    _check_rows(f"n_stimuli={n_stimuli:,}", n_stimuli, 2, "lower n_stimuli")
    _check_bound("a variance (sd squared)", {"sd_intercept": sd_intercept * sd_intercept,
                                             "sd_slope": sd_slope * sd_slope})
    last_day = n_days - 1
    _check_bound("a reaction time", {
        "intercept x y_scale": abs(intercept) * y_scale,
        "sd_intercept x y_scale": _Z * sd_intercept * y_scale,
        "slope x y_scale": abs(slope) * last_day * y_scale,
        "sd_slope x y_scale": _Z * sd_slope * last_day * y_scale,
        "sd_stimulus x y_scale": _Z * sd_stimulus * y_scale,
        "sigma x y_scale": _Z * sigma * y_scale,
    })
    _check_bound("days", {"x_scale": last_day * x_scale})
    _check_bound("the slope in the data's units", {
        "x_scale (dividing slope and sd_slope)": (abs(slope) + sd_slope) * y_scale / x_scale})
    rng = np.random.default_rng(seed)
    cov = np.array([[sd_intercept**2, corr * sd_intercept * sd_slope],
                    [corr * sd_intercept * sd_slope, sd_slope**2]])
    effects = rng.multivariate_normal([intercept, slope], cov, size=n_subjects)
    offsets = rng.normal(0.0, sd_stimulus, size=n_stimuli)
    subject_labels = [f"P{i + 1:03d}" for i in range(n_subjects)]
    stimulus_labels = [f"S{i + 1:02d}" for i in range(n_stimuli)]
    subject = np.repeat(np.arange(n_subjects), n_days)
    days = np.tile(np.arange(n_days), n_subjects).astype(float)
    stimulus = rng.integers(n_stimuli, size=subject.size)
    reaction = (effects[subject, 0] + effects[subject, 1] * days + offsets[stimulus]
                + rng.normal(0.0, sigma, size=subject.size))
    data = pd.DataFrame({
        "subject": pd.Categorical(np.array(subject_labels)[subject], categories=subject_labels,
                                  ordered=True),
        "stimulus": pd.Categorical(np.array(stimulus_labels)[stimulus], categories=stimulus_labels,
                                 ordered=True),
        "days": days * x_scale,
        "reaction": reaction * y_scale,
    })
    subjects = pd.DataFrame({
        "subject": pd.Categorical(subject_labels, categories=subject_labels, ordered=True),
        "intercept": effects[:, 0] * y_scale,
        "slope": effects[:, 1] * y_scale / x_scale,
    })
    stimuli = pd.DataFrame({
        "stimulus": pd.Categorical(stimulus_labels, categories=stimulus_labels, ordered=True),
        "offset": offsets * y_scale,
    })
    params = {
        "intercept": intercept * y_scale, "slope": slope * y_scale / x_scale,
        "sd_intercept": sd_intercept * y_scale, "sd_slope": sd_slope * y_scale / x_scale,
        "corr": float(corr), "sd_stimulus": sd_stimulus * y_scale, "sigma": sigma * y_scale,
    }
    return ReactionTimes(data, subjects, stimuli, params)
