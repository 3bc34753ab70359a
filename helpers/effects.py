"""Each group's intercept or slope from a Bambi posterior, on a dimension named after the group.

Bambi stores a group-specific term such as ``(1 + promo | channel)`` as the variables ``1|channel``
and ``promo|channel``, on internal dimensions (``channel__factor_dim`` for the channels,
``promo__expr_dim`` for the levels of a categorical predictor). :func:`group_effects` returns one
such term with a plain ``channel`` dimension, optionally plus the population-level coefficient
(each group's total intercept or slope); :func:`group_sd` returns the term's between-group sd.

Example
-------
>>> import numpy as np, xarray as xr
>>> posterior = xr.Dataset(
...     {"Intercept": (("chain", "draw"), np.full((1, 2), -2.0)),
...      "1|channel": (("chain", "draw", "channel__factor_dim"), np.ones((1, 2, 3)))},
...     coords={"channel__factor_dim": ["Email", "Mail", "Park"]})
>>> effects = group_effects(posterior, "1", "channel", population=True)
>>> effects.dims, effects.sel(channel="Park").values.tolist()
(('chain', 'draw', 'channel'), [[-1.0, -1.0]])
"""

from __future__ import annotations

import xarray as xr

#: Suffixes of the variables Bambi adds beside a group-specific term (its sd, its z-scores).
_NOT_EFFECTS = ("_sigma", "_offset")


def _posterior(posterior):
    """The posterior group of a whole fit (a DataTree with a ``posterior`` child), or itself."""
    children = getattr(posterior, "children", {})
    return posterior["posterior"] if "posterior" in children else posterior


def _terms(posterior) -> dict[str, list[str]]:
    """Group -> the group-specific terms the posterior has for it, e.g. {"channel": ["1"]}."""
    terms: dict[str, list[str]] = {}
    for name in map(str, posterior.data_vars):
        if "|" in name and not name.endswith(_NOT_EFFECTS):
            term, group = name.split("|", 1)
            terms.setdefault(group, []).append(term)
    return terms


def _check(posterior, term: str, group: str) -> None:
    terms = _terms(posterior)
    if group not in terms:
        raise ValueError(
            f"group {group!r}: the posterior has no group-specific terms for it; "
            f"its groups are {sorted(terms)}"
        )
    if term not in terms[group]:
        raise ValueError(
            f"term {term!r}: the posterior has no {term}|{group}; the terms of "
            f"group {group!r} are {terms[group]} ('1' is the intercept)"
        )


def _pick_level(
    values: xr.DataArray, term: str, level: str | None
) -> tuple[xr.DataArray, str | None]:
    """Select ``level`` on a categorical term's level dimension (``<term>__expr_dim``); return
    the selection and the level chosen (None for a numeric predictor)."""
    dim = f"{term}__expr_dim"
    if dim not in values.dims:
        if level is not None:
            raise ValueError(
                f"level {level!r}: term {term!r} is not categorical, it has no "
                f"levels to choose from"
            )
        return values, None
    levels = [str(v) for v in values[dim].values]
    if level is None:
        if len(levels) > 1:
            raise ValueError(f"level: term {term!r} has levels {levels}; name one")
        level = levels[0]
    if level not in levels:
        raise ValueError(
            f"level {level!r}: term {term!r} has levels {levels} (the reference "
            f"level has no effect of its own)"
        )
    return values.sel({dim: level}, drop=True), level


def group_effects(
    posterior, term: str, group: str, *, level: str | None = None, population: bool = False
) -> xr.DataArray:
    """Draws of each group's effect for one group-specific term, on a dimension named ``group``.

    Parameters
    ----------
    posterior
        The posterior of a fitted Bambi model (``idata["posterior"]``, a DataTree node or a
        Dataset, possibly stacked), or the whole fit.
    term
        The term left of the bar: ``"1"`` for the intercepts, a predictor such as ``"promo"`` or
        ``"log_price_c"`` for its slopes.
    group
        The grouping factor right of the bar, e.g. ``"channel"``; it names the returned dimension.
    level
        For a categorical predictor, the level whose effect to return (e.g. ``"Bundle"``); may be
        left out when the predictor has one non-reference level.
    population
        Add the population-level coefficient (``Intercept`` for ``"1"``, otherwise the term's
        own): each group's total intercept or slope rather than its deviation from the mean.

    Returns
    -------
    xarray.DataArray
        The draws, with the group's levels on dimension ``group``.

    Raises
    ------
    ValueError
        If the posterior has no such group or term, ``level`` is missing, unknown or given for
        a numeric predictor, or ``population`` is asked for and the model has no population-level
        coefficient for the term.

    Example
    -------
    >>> import numpy as np, xarray as xr
    >>> posterior = xr.Dataset(
    ...     {"promo|store": (("chain", "draw", "store__factor_dim", "promo__expr_dim"),
    ...                      np.arange(4.0).reshape(1, 2, 2, 1))},
    ...     coords={"store__factor_dim": ["S1", "S2"], "promo__expr_dim": ["Bundle"]})
    >>> group_effects(posterior, "promo", "store", level="Bundle").sel(store="S2").values
    array([[1., 3.]])
    >>> group_effects(posterior, "price", "store")
    Traceback (most recent call last):
    ...
    ValueError: term 'price': the posterior has no price|store; the terms of group 'store' are \
['promo'] ('1' is the intercept)
    """
    posterior = _posterior(posterior)
    _check(posterior, term, group)
    values = posterior[f"{term}|{group}"].rename({f"{group}__factor_dim": group})
    values, level = _pick_level(values, term, level)
    if population:
        name = "Intercept" if term == "1" else term
        if name not in posterior.data_vars:
            raise ValueError(
                f"population: the posterior has no population-level {name!r} to "
                f"add to {term}|{group} (is the formula's {name} left out?)"
            )
        common = posterior[name]
        if f"{term}_dim" in common.dims:  # a categorical predictor's levels
            common = common.sel({f"{term}_dim": level}, drop=True)
        values = common + values
    return values


def group_sd(posterior, term: str, group: str, *, level: str | None = None) -> xr.DataArray:
    """Draws of the between-group sd of one group-specific term (Bambi's ``<term>|<group>_sigma``).

    Parameters and errors as in :func:`group_effects`.

    Example
    -------
    >>> import numpy as np, xarray as xr
    >>> posterior = xr.Dataset(
    ...     {"promo|channel": (("draw", "channel__factor_dim", "promo__expr_dim"),
    ...                        np.zeros((2, 3, 1))),
    ...      "promo|channel_sigma": (("draw", "promo__expr_dim"), [[0.5], [0.7]])},
    ...     coords={"promo__expr_dim": ["Bundle"]})
    >>> group_sd(posterior, "promo", "channel").values
    array([0.5, 0.7])
    """
    posterior = _posterior(posterior)
    _check(posterior, term, group)
    return _pick_level(posterior[f"{term}|{group}_sigma"], term, level)[0]
