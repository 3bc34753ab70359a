"""The book's plotting style and small plotting helpers.

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
import pandas as pd
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
    for ArviZ summaries and plots (``stats.ci_prob``); pandas tables show 3 decimals.

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
    pd.set_option("display.precision", 3)
    az.rcParams["stats.ci_prob"] = CI_PROB
    az.rcParams["stats.ci_kind"] = "eti"
