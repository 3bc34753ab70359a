"""Published results the book compares its own fits with.

Herther, "Multi-level Modeling in RStan and brms (and the Mysteries of Log-Odds)":
brms, 4 chains x 10,000 iterations, Normal(0, 1) priors on intercept and slopes, binomial
likelihood on the six aggregated season-pass rows. Values are posterior means as
published, rounded to two decimals; the names are Bambi's names for the same coefficients.

Example
-------
>>> BRMS_BASELINE["promo[Bundle]"]
0.39
>>> sorted(BRMS_INTERACTION)[:2]
['Intercept', 'channel[Email]']
"""

from __future__ import annotations

import numpy as np

#: How many decimals the published values carry (their rounding error is half a unit of the last).
PUBLISHED_DECIMALS: int = 2

#: ``bought_pass | trials(n) ~ 1 + promo``: posterior means.
BRMS_BASELINE: dict[str, float] = {
    "Intercept": -0.19,
    "promo[Bundle]": 0.39,
}

#: ... and their posterior standard deviations.
BRMS_BASELINE_SD: dict[str, float] = {
    "Intercept": 0.05,
    "promo[Bundle]": 0.07,
}

#: ``bought_pass | trials(n) ~ promo * channel``: posterior means.
BRMS_INTERACTION: dict[str, float] = {
    "Intercept": 0.22,
    "promo[Bundle]": -0.82,
    "channel[Park]": 1.51,
    "channel[Email]": -2.93,
    "promo:channel[Bundle, Park]": 0.14,
    "promo:channel[Bundle, Email]": 2.63,
}

#: brms's names for the same coefficients, for side-by-side tables.
BRMS_NAMES: dict[str, str] = {
    "Intercept": "Intercept",
    "promo[Bundle]": "promoBundle",
    "channel[Park]": "channelPark",
    "channel[Email]": "channelEmail",
    "promo:channel[Bundle, Park]": "promoBundle:channelPark",
    "promo:channel[Bundle, Email]": "promoBundle:channelEmail",
}

#: Predicted take rate of a Bundle offer, interaction model (Herther): via Email and via Park.
BRMS_INTERACTION_BUNDLE_RATE: dict[str, float] = {"Email": 0.29, "Park": 0.74}

#: ``bought_pass | trials(n) ~ 0 + (1 + promo | channel)``, half-normal(1) group sds, LKJ(1) on
#: their correlation (brms's default), adapt_delta 0.95: channel-level intercepts (log-odds
#: without the bundle) ...
BRMS_VARYING_INTERCEPT: dict[str, float] = {"Mail": 0.25, "Park": 1.75, "Email": -2.82}
#: ... and channel-level bundle slopes (log odds ratios).
BRMS_VARYING_SLOPE: dict[str, float] = {"Mail": -0.86, "Park": -0.70, "Email": 1.98}
#: Predicted take rate of a Bundle offer, multilevel model (Herther): via Email and via Park.
BRMS_VARYING_BUNDLE_RATE: dict[str, float] = {"Email": 0.30, "Park": 0.74}

#: The other version of the source fits the same model *without* the correlation,
#: ``bought_pass | trials(n) ~ 0 + (1 + promo || channel)`` (same priors, adapt_delta 0.95):
#: the brms twin of Bambi's ``(1 + promo | channel)``. Posterior means, three decimals.
#: Channel-level intercepts ...
BRMS_UNCORRELATED_INTERCEPT: dict[str, float] = {"Mail": 0.252, "Park": 1.735, "Email": -2.800}
#: ... channel-level bundle slopes ...
BRMS_UNCORRELATED_SLOPE: dict[str, float] = {"Mail": -0.866, "Park": -0.677, "Email": 1.954}
#: ... and the group-level sds (Bambi's names), with their published 95% intervals.
BRMS_UNCORRELATED_SD: dict[str, float] = {"1|channel_sigma": 1.647, "promo|channel_sigma": 1.297}
BRMS_UNCORRELATED_SD_95: dict[str, tuple[float, float]] = {
    "1|channel_sigma": (0.97, 2.67),
    "promo|channel_sigma": (0.69, 2.28),
}
#: Decimals of the ``||`` model's published means.
UNCORRELATED_DECIMALS: int = 3


#: Bijmolt, van Heerde and Pieters (2005), meta-analysis of price elasticities: the mean of
#: 1,851 estimates from 81 studies (the elasticities chapter's reference point for its priors).
BIJMOLT_MEAN_ELASTICITY: float = -2.62
BIJMOLT_N_ESTIMATES: int = 1851
BIJMOLT_N_STUDIES: int = 81

#: The effective sample size brms's published means are taken to have, at least: 4 chains of
#: 5,000 post-warmup draws give 20,000 draws; 2,000 effective ones is a safe floor, so brms's
#: Monte Carlo error is at most the posterior sd / sqrt(2,000).
BRMS_MIN_ESS: float = 2000


def agreement_tolerance(
    mcse, sd, decimals: int = PUBLISHED_DECIMALS, brms_ess: float = BRMS_MIN_ESS
):
    """How far one of our posterior means may sit from a published brms mean and still agree.

    Four combined Monte Carlo standard errors (ours, ``mcse``, and brms's, at most
    ``sd / sqrt(brms_ess)``) plus half a unit of the published value's last decimal. Works on
    numbers, arrays and pandas Series alike.

    Example
    -------
    >>> round(float(agreement_tolerance(0.003, 0.2, decimals=2)), 4)
    0.0265
    """
    if decimals < 0 or brms_ess <= 0:
        raise ValueError(f"decimals must be >= 0 and brms_ess > 0; got {decimals}, {brms_ess}")
    return 4 * np.hypot(mcse, np.asarray(sd) / np.sqrt(brms_ess)) + 0.5 * 10.0**-decimals
