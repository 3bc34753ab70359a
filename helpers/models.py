"""Models Bambi cannot express: correlated varying effects with an LKJ prior.

brms and lme4 read ``(1 + x | g)`` as group-level intercepts and slopes *with* a correlation;
Bambi 0.21 fits them independently. :func:`correlated_effects_model` builds the correlated
version as a PyMC model from the same formula string, with the design matrices made by
formulae (Bambi's formula engine), so a formula means the same columns in both.

Example
-------
>>> import numpy as np, pandas as pd
>>> rng = np.random.default_rng(0)
>>> df = pd.DataFrame({"g": np.repeat(list("abcd"), 5), "x": rng.normal(size=20)})
>>> df["y"] = df["x"] + rng.normal(size=20)
>>> model = correlated_effects_model("y ~ 1 + x + (1 + x | g)", df)
>>> model.coords["effect"], model.coords["g"]
(('Intercept', 'x'), ('a', 'b', 'c', 'd'))
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pymc as pm
from formulae import design_matrices

import helpers.sampling  # noqa: F401  (configures PyTensor and quiets sampler logs)

#: Families the helper supports, and the response each expects.
FAMILIES: dict[str, str] = {
    "gaussian": "a numeric response",
    "bernoulli": "a 0/1 response",
    "binomial": "p(successes, trials)",
}

_GROUP_TERM = re.compile(r"\(([^()|]*)\|([^()|]*)\)")
_PROPORTION = re.compile(r"^p\(\s*(\w+)\s*,\s*(\w+)\s*\)$")


@dataclass(frozen=True)
class ParsedFormula:
    """The parts of ``response ~ common + (effects | group)``."""

    response: str
    trials: str | None
    common: str
    effects: str
    group: str


def parse_formula(formula: str) -> ParsedFormula:
    """Split an lme4-style formula with exactly one grouping term into its parts.

    Raises
    ------
    ValueError
        For anything the helper cannot fit faithfully: no ``~``, no grouping term,
        two grouping terms or factors (``(1|a) + (1|b)``, ``(1|a:b)``), nested ``/``,
        uncorrelated ``||``, or a malformed ``p(successes, trials)`` response.

    Example
    -------
    >>> parse_formula("p(bought, n) ~ 0 + (1 + promo | channel)")
    ParsedFormula(response='bought', trials='n', common='0', effects='1 + promo', group='channel')
    """
    if formula.count("~") != 1:
        raise ValueError(f"formula needs exactly one '~': {formula!r}")
    if "||" in formula:
        raise ValueError(
            "'||' (uncorrelated group effects) is not supported: this helper fits correlated "
            "effects; use Bambi's '(1 + x | g)', which is already uncorrelated"
        )
    lhs, rhs = (part.strip() for part in formula.split("~"))
    groups = _GROUP_TERM.findall(rhs)
    if not groups:
        raise ValueError(f"no grouping term '(effects | group)' in {formula!r}")
    if len(groups) > 1:
        raise ValueError(
            f"{len(groups)} grouping terms in {formula!r}: the helper supports exactly one"
        )
    effects, group = (part.strip() for part in groups[0])
    if "/" in group:
        raise ValueError(f"nested grouping '{group}' ('/') is not supported")
    if ":" in group or not re.fullmatch(r"\w+", group):
        raise ValueError(
            f"grouping factor '{group}' must be a single column name "
            "(two grouping factors or interactions of factors are not supported)"
        )
    if not effects:
        raise ValueError(f"the grouping term in {formula!r} names no effects")
    common = _GROUP_TERM.sub("", rhs).strip()
    common = re.sub(r"^\+|\+$", "", re.sub(r"\+\s*\+", "+", common)).strip() or "1"
    proportion = _PROPORTION.match(lhs)
    if lhs.startswith("p(") and not proportion:
        raise ValueError(f"binomial response must read p(successes, trials), got {lhs!r}")
    if proportion:
        return ParsedFormula(proportion.group(1), proportion.group(2), common, effects, group)
    if not re.fullmatch(r"\w+", lhs):
        raise ValueError(f"response must be a column name or p(successes, trials), got {lhs!r}")
    return ParsedFormula(lhs, None, common, effects, group)


def _matrix(response: str, terms: str, data: pd.DataFrame) -> pd.DataFrame | None:
    """Common-effects design matrix of ``response ~ terms`` as a labelled frame (None if empty)."""
    common = design_matrices(f"{response} ~ {terms}", data).common
    if common is None:
        return None
    frame = common.as_dataframe()
    if len(frame) != len(data):
        raise ValueError(
            f"{len(data) - len(frame)} row(s) have missing values in '{terms}': drop or fill them"
        )
    return frame


def correlated_effects_model(
    formula: str,
    data: pd.DataFrame,
    family: str = "gaussian",
    *,
    eta: float = 1.0,
    sd_scale: float = 1.0,
    common_scale: float = 1.0,
    sigma_scale: float = 1.0,
) -> pm.Model:
    """Build a PyMC model with correlated group-level effects from an lme4-style formula.

    ``y ~ common + (effects | group)`` with an LKJ prior on the correlation of the group
    effects, in the non-centered form: each group's effects are ``L @ z`` with ``L`` the
    Cholesky factor of their covariance and ``z`` standard normal.

    Priors: Normal(0, ``common_scale``) on every common coefficient (intercept included),
    HalfNormal(``sd_scale``) on each group-level sd, LKJ(``eta``) on their correlation
    matrix and, for the gaussian family, HalfNormal(``sigma_scale``) on the residual sd.

    Variables, named as in brms's output:

    - ``b`` (dims ``common``): common (population-level) coefficients, if any;
    - ``sd_<group>`` (dims ``effect``): group-level sds;
    - ``cor_<group>`` (dims ``effect, effect_bis``): their correlation matrix;
    - ``r_<group>`` (dims ``<group>, effect``): each group's effects;
    - ``z_<group>``, ``chol_<group>``: the non-centered offsets and the Cholesky factor;
    - ``sigma`` (gaussian only); the observed variable is named after the response.

    Parameters
    ----------
    formula
        E.g. ``"y ~ 1 + x + (1 + x | g)"`` or ``"p(bought, n) ~ 0 + (1 + promo | channel)"``.
    data
        The data frame; categorical columns are coded as Bambi codes them (treatment coding,
        reference = first level).
    family
        ``"gaussian"``, ``"bernoulli"`` or ``"binomial"`` (with ``p(successes, trials)``).

    Raises
    ------
    ValueError
        For an unsupported formula (see :func:`parse_formula`), an unknown family, a family
        and response that do not match, a missing column, missing values, fewer than two
        group-level effects (nothing to correlate) or fewer than two groups, or a
        non-positive prior parameter.

    Example
    -------
    >>> from helpers.data import aggregate_binomial, load_season_pass
    >>> counts = aggregate_binomial(load_season_pass())
    >>> model = correlated_effects_model(
    ...     "p(bought, n) ~ 0 + (1 + promo | channel)", counts, family="binomial")
    >>> sorted(model.named_vars)
    ['bought', 'chol_channel', 'cor_channel', 'r_channel', 'sd_channel', 'z_channel']
    """
    if family not in FAMILIES:
        raise ValueError(f"family must be one of {sorted(FAMILIES)}, got {family!r}")
    for name, value in {"eta": eta, "sd_scale": sd_scale, "common_scale": common_scale,
                        "sigma_scale": sigma_scale}.items():
        if not value > 0:
            raise ValueError(f"{name} must be positive, got {value!r}")
    parsed = parse_formula(formula)
    if (family == "binomial") != (parsed.trials is not None):
        raise ValueError(
            f"family {family!r} expects {FAMILIES[family]}; the formula's response is "
            f"{formula.split('~')[0].strip()!r}"
        )
    needed = [parsed.response, parsed.group] + ([parsed.trials] if parsed.trials else [])
    missing = [col for col in needed if col not in data.columns]
    if missing:
        raise ValueError(f"column(s) {missing} not in the data; columns: {list(data.columns)}")
    if data[needed].isna().any().any():
        raise ValueError(f"missing values in {needed}: drop or fill them first")
    y = data[parsed.response].to_numpy()
    if family == "bernoulli" and not np.isin(y, [0, 1]).all():
        raise ValueError(f"bernoulli response {parsed.response!r} must be 0/1")
    if family == "binomial":
        trials = data[parsed.trials].to_numpy()
        if (y < 0).any() or (y > trials).any():
            raise ValueError(f"need 0 <= {parsed.response} <= {parsed.trials} in every row")

    common = None if parsed.common.strip() == "0" else _matrix(parsed.response, parsed.common, data)
    effects = _matrix(parsed.response, parsed.effects, data)
    if effects is None or effects.shape[1] < 2:
        raise ValueError(
            f"'({parsed.effects} | {parsed.group})' has fewer than two group-level effects: "
            "there is no correlation to estimate (use Bambi's '(1 | g)')"
        )
    group_values = data[parsed.group]
    if isinstance(group_values.dtype, pd.CategoricalDtype):
        levels = [lvl for lvl in group_values.cat.categories if (group_values == lvl).any()]
    else:
        levels = sorted(pd.unique(group_values))
    if len(levels) < 2:
        raise ValueError(f"grouping factor {parsed.group!r} has fewer than two levels")
    group_idx = pd.Categorical(group_values, categories=levels).codes
    k = effects.shape[1]
    g = parsed.group

    coords = {
        g: tuple(str(level) for level in levels),
        "effect": tuple(effects.columns),
        "effect_bis": tuple(effects.columns),
        "obs": tuple(range(len(data))),
    }
    if common is not None:
        coords["common"] = tuple(common.columns)
    with pm.Model(coords=coords) as model:
        packed = pm.LKJCholeskyCov(
            f"chol_{g}", n=k, eta=eta, sd_dist=pm.HalfNormal.dist(sd_scale, shape=k),
            compute_corr=False,
        )
        chol = pm.math.expand_packed_triangular(k, packed, lower=True)
        # Products written as elementwise sums: no BLAS call, so no BLAS warning or C build.
        cov = (chol[:, None, :] * chol[None, :, :]).sum(axis=-1)
        stds = pm.math.sqrt((chol**2).sum(axis=-1))
        pm.Deterministic(f"sd_{g}", stds, dims="effect")
        pm.Deterministic(f"cor_{g}", cov / (stds[:, None] * stds[None, :]),
                         dims=("effect", "effect_bis"))
        z = pm.Normal(f"z_{g}", 0.0, 1.0, dims=(g, "effect"))
        # r[j] = L @ z[j] for each group j, computed without a transpose (r_{g} is stored as
        # computed; a transposed view came back scrambled from the compiled function).
        r = pm.Deterministic(
            f"r_{g}", (z[:, None, :] * chol[None, :, :]).sum(axis=-1), dims=(g, "effect")
        )
        linear = (r[group_idx] * effects.to_numpy()).sum(axis=1)
        if common is not None:
            b = pm.Normal("b", 0.0, common_scale, dims="common")
            linear = linear + (common.to_numpy() * b[None, :]).sum(axis=1)
        if family == "gaussian":
            sigma = pm.HalfNormal("sigma", sigma_scale)
            pm.Normal(parsed.response, linear, sigma, observed=y, dims="obs")
        elif family == "bernoulli":
            pm.Bernoulli(parsed.response, logit_p=linear, observed=y, dims="obs")
        else:
            pm.Binomial(parsed.response, n=trials, logit_p=linear, observed=y, dims="obs")
    return model
