"""The book's plotting style and small plotting helpers (shrinkage, posterior predictive check).

Example
-------
>>> set_style()
>>> import matplotlib as mpl
>>> mpl.rcParams["figure.dpi"]
110.0
"""

from __future__ import annotations

import arviz as az
import matplotlib as mpl
import seaborn as sns

from helpers.sampling import CI_PROB

#: Colours for the promo levels, used in every season-pass figure.
PROMO_PALETTE: dict[str, str] = {"NoBundle": "#4C72B0", "Bundle": "#DD8452"}
#: Colours for the channels.
CHANNEL_PALETTE: dict[str, str] = {"Mail": "#55A868", "Park": "#8172B3", "Email": "#C44E52"}


def set_style() -> None:
    """Set one style for matplotlib, seaborn and ArviZ figures in the book.

    seaborn's "whitegrid" theme with a colour-blind-safe palette, readable
    font sizes, figures at 110 dpi, ArviZ's matching style, and 89% intervals
    for ArviZ summaries and plots (``stats.ci_prob``). Tables are left alone: they show numbers
    as the code rounds them.

    Example
    -------
    >>> set_style()
    >>> import arviz as az
    >>> az.rcParams["stats.ci_prob"]
    0.89
    """
    az.style.use("arviz-variat")
    sns.set_theme(context="notebook", style="whitegrid", palette="colorblind")
    mpl.rcParams.update(
        {
            "figure.figsize": (7.0, 4.0),
            "figure.dpi": 110,
            "figure.constrained_layout.use": True,
            "savefig.dpi": 110,
            "savefig.bbox": "tight",
            "axes.titlesize": 13,
            "axes.labelsize": 12,
            "xtick.labelsize": 11,
            "ytick.labelsize": 11,
            "legend.fontsize": 11,
            "axes.spines.top": False,
            "axes.spines.right": False,
        }
    )
    az.rcParams["stats.ci_prob"] = CI_PROB
    az.rcParams["stats.ci_kind"] = "eti"


def plot_shrinkage(
    no_pooling,
    partial_pooling,
    group_size,
    population_mean: float,
    truth=None,
    ax=None,
    label: str = "take rate",
):
    """Plot each group's partial-pooling estimate against its no-pooling estimate.

    Points are sized by group size. On the diagonal nothing is shrunk; the
    horizontal line is the population mean (the typical group) every group is pulled toward. Small
    groups (small points) move furthest from the diagonal. With ``truth``, each
    group's true value is a small black dot straight above or below its point,
    joined to it by a thin line: the line's length is the partial-pooling error,
    and the dot's distance from the diagonal is the no-pooling error.

    Parameters
    ----------
    no_pooling, partial_pooling, group_size
        One value per group (arrays or Series of equal length).
    population_mean
        The estimated population mean, on the same scale.
    truth
        Optional true values per group (for simulated data).
    ax
        Matplotlib axes to draw on; a new figure if None.
    label
        What the values are, for the axis labels.

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    ValueError
        If the per-group inputs differ in length or a group size is not positive.

    Example
    -------
    >>> ax = plot_shrinkage([0.1, 0.5, 0.9], [0.3, 0.5, 0.6], [5, 50, 500], 0.5)
    >>> ax.get_xlabel()
    'no pooling: take rate'
    """
    import matplotlib.pyplot as plt
    import numpy as np

    x = np.asarray(no_pooling, dtype=float)
    y = np.asarray(partial_pooling, dtype=float)
    size = np.asarray(group_size, dtype=float)
    if not (x.shape == y.shape == size.shape) or x.ndim != 1:
        raise ValueError(
            "no_pooling, partial_pooling and group_size need one value per group; "
            f"got shapes {x.shape}, {y.shape}, {size.shape}"
        )
    if (size <= 0).any():
        raise ValueError("group_size must be positive for every group")
    if ax is None:
        _, ax = plt.subplots(figsize=(6.5, 5.5))
    area = 20 + 280 * size / size.max()
    lo, hi = min(x.min(), y.min()), max(x.max(), y.max())
    pad = 0.05 * (hi - lo or 1.0)
    ax.plot([lo - pad, hi + pad], [lo - pad, hi + pad], color="0.6", ls=":", label="no shrinkage")
    ax.axhline(population_mean, color="k", lw=1, ls="--", label="population mean (typical group)")
    ax.scatter(x, y, s=area, alpha=0.6, edgecolor="k", lw=0.5, label="group (size = contacts)")
    if truth is not None:
        t = np.asarray(truth, dtype=float)
        if t.shape != x.shape:
            raise ValueError(f"truth needs one value per group; got shape {t.shape}")
        ax.vlines(x, y, t, color="k", lw=0.8, alpha=0.7, zorder=3)
        ax.scatter(x, t, s=12, color="k", zorder=4, label="true value (line: error)")
    ax.set(xlabel=f"no pooling: {label}", ylabel=f"partial pooling: {label}")
    ax.legend(loc="upper left", fontsize=9)
    return ax


def plot_predictive_check(
    observed,
    predicted,
    labels,
    ax=None,
    prob: float = CI_PROB,
    label: str = "value",
):
    """Plot each group's observed statistic against its posterior predictive interval.

    A posterior predictive check per group or cell: for every group, the central ``prob`` interval
    and the median of the statistic computed on replicated data (``predicted``), with the observed
    statistic as a black dot. A dot outside its bar is a group the model does not reproduce.

    Parameters
    ----------
    observed
        The observed statistic, one value per group (e.g. buyers per cell).
    predicted
        The same statistic on each posterior predictive draw, shape (draws, groups).
    labels
        One name per group, for the axis.
    ax
        Matplotlib axes to draw on; a new figure if None.
    prob
        Interval probability (the book's 89% by default).
    label
        What the statistic is, for the axis label.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``labels``: observed, lower, median, upper, inside (bool) and
        ``tail``: the share of predictive draws below the observed value (0.5 is central).

    Raises
    ------
    ValueError
        If ``predicted`` is not (draws, groups) with one column per observed value and label.

    Example
    -------
    >>> import numpy as np
    >>> draws = np.random.default_rng(0).poisson([10, 50], size=(1000, 2))
    >>> table = plot_predictive_check([11, 80], draws, ["small", "large"])
    >>> table["inside"].tolist()
    [True, False]
    """
    import matplotlib.pyplot as plt
    import numpy as np
    import pandas as pd

    obs = np.asarray(observed, dtype=float)
    draws = np.asarray(predicted, dtype=float)
    names = list(labels)
    if obs.ndim != 1 or draws.ndim != 2 or not (draws.shape[1] == obs.size == len(names)):
        raise ValueError(
            "predicted must be (draws, groups) with one column per observed value and label; "
            f"got predicted {draws.shape}, observed {obs.shape}, {len(names)} labels"
        )
    if not 0 < prob < 1:
        raise ValueError(f"prob must be between 0 and 1; got {prob}")
    lower, median, upper = np.quantile(draws, [(1 - prob) / 2, 0.5, (1 + prob) / 2], axis=0)
    table = pd.DataFrame(
        {
            "observed": obs,
            "lower": lower,
            "median": median,
            "upper": upper,
            "inside": (obs >= lower) & (obs <= upper),
            "tail": (draws < obs).mean(axis=0),
        },
        index=pd.Index(names, name="group"),
    )
    if ax is None:
        _, ax = plt.subplots(figsize=(7.0, 0.6 + 0.35 * len(names)))
    y = np.arange(len(names))
    ax.hlines(y, lower, upper, color="C0", lw=3, alpha=0.6, label=f"{prob:.0%} predictive interval")
    ax.plot(median, y, "|", color="C0", ms=10)
    ax.plot(obs, y, "o", color="k", ms=5, label="observed", zorder=3)
    ax.set_yticks(y, names)
    ax.invert_yaxis()
    ax.set_xlabel(label)
    ax.legend(loc="best", fontsize=9)
    return table
