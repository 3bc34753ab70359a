"""The Mundlak (correlated random effects, CRE) correction: group means as predictors.

A multilevel model assumes each group's intercept is unrelated to its predictors. When groups
that spend more also sell more for other reasons, that assumption fails and the population
slopes mix the within-group effect (what changing spend in a market does) with the
between-group difference (what high-spend markets are like). Adding each predictor's group mean
as a population-level predictor (Mundlak, 1978) lets the means take the between-group part, so
the slopes keep only the within-group variation.

:func:`add_group_means` adds the means and turns the known pitfalls into errors and warnings,
each saying why and what to do.

Example
-------
>>> import pandas as pd
>>> frame = pd.DataFrame({"market": list("aabbccdd"), "tv": [1, 3, 2, 2, 5, 7, 0, 2]})
>>> add_group_means(frame, "market", ["tv"], few_observations=2)["tv_mean"].tolist()
[2.0, 2.0, 2.0, 2.0, 6.0, 6.0, 1.0, 1.0]
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

#: Fewest groups the helper accepts: with fewer, a between-group sd is barely estimable.
MIN_GROUPS: int = 4
#: Groups with fewer rows than this trigger a :class:`FewObservationsWarning`.
FEW_OBSERVATIONS: int = 10


class FewObservationsWarning(UserWarning):
    """Some groups have so few rows that their means are noisy and group-level sds mix badly."""


def add_group_means(
    frame: pd.DataFrame,
    group: str,
    columns: Sequence[str],
    suffix: str = "_mean",
    min_groups: int = MIN_GROUPS,
    few_observations: int = FEW_OBSERVATIONS,
) -> pd.DataFrame:
    """Return a copy of ``frame`` with each column's group mean added as ``<column><suffix>``.

    Refuses (``ValueError``) when the correction cannot work: fewer than ``min_groups`` groups;
    as many CRE variables as groups or more; a column whose group mean is the same in every
    group (collinear with the intercept); a column that never varies within a group (no
    within-group effect to estimate). Also refuses missing or non-numeric columns, missing or
    infinite values and names that already exist. Warns (:class:`FewObservationsWarning`) when
    a group has fewer than ``few_observations`` rows.

    Example
    -------
    >>> frame = pd.DataFrame({"g": list("aabbccdd"), "x": [1.0, 2, 3, 4, 5, 6, 7, 9]})
    >>> add_group_means(frame, "g", ["x"], few_observations=2)["x_mean"].tolist()[-2:]
    [8.0, 8.0]
    >>> add_group_means(frame.iloc[:6], "g", ["x"])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: only 3 groups in 'g' (a, b, c); the Mundlak correction needs at least 4: ...
    """
    columns = list(columns)
    for name in [group, *columns]:
        if name not in frame.columns:
            raise ValueError(f"column {name!r} is not in the frame; it has {list(frame.columns)}")
    if not columns:
        raise ValueError("columns is empty: name at least one predictor whose group mean to add")
    if len(set(columns)) != len(columns) or group in columns:
        raise ValueError(
            f"columns must be distinct and must not include the group {group!r}, got {columns}"
        )
    if frame[group].isna().any():
        raise ValueError(f"group column {group!r} has missing values; drop or label those rows")
    for name in columns:
        if not pd.api.types.is_numeric_dtype(frame[name]) or pd.api.types.is_bool_dtype(
            frame[name]
        ):
            raise ValueError(f"column {name!r} must be numeric, got dtype {frame[name].dtype}")
        if frame[name].isna().any():
            raise ValueError(f"column {name!r} has missing values; a group mean would hide them")
        n_infinite = int((~np.isfinite(frame[name].to_numpy(dtype=float))).sum())
        if n_infinite:
            raise ValueError(
                f"column {name!r} has {n_infinite} infinite value(s) (inf or -inf) in {len(frame)} "
                f"rows; a group mean would be infinite too. Fix or drop those rows first."
            )
        if f"{name}{suffix}" in frame.columns:
            raise ValueError(f"column {name + suffix!r} already exists; pass another suffix")

    grouped = frame.groupby(group, observed=True, sort=True)
    sizes = grouped.size()
    n_groups = len(sizes)
    if n_groups < min_groups:
        shown = ", ".join(map(str, sizes.index[:5]))
        raise ValueError(
            f"only {n_groups} groups in {group!r} ({shown}); the Mundlak correction needs at "
            f"least {min_groups}: with so few groups the between-group sd is barely estimated "
            f"and the group means are nearly collinear with the intercept. Add groups, or model "
            f"the groups as population-level effects (e.g. '0 + {group}' in the formula) "
            f"instead of group-specific ones."
        )
    if len(columns) >= n_groups:
        raise ValueError(
            f"{len(columns)} CRE variables but only {n_groups} groups in {group!r}: the group "
            f"means and the intercept need more groups than means, or they reproduce every "
            f"group's level exactly and leave nothing for the group intercepts. Keep only the "
            f"predictors you suspect of confounding, or add groups."
        )
    means = grouped[columns].mean()
    for name in columns:
        spread = float(np.ptp(means[name].to_numpy()))
        if spread <= 1e-12 * (1.0 + float(np.abs(means[name]).max())):
            raise ValueError(
                f"column {name!r} has the same mean ({means[name].iloc[0]:g}) in every group of "
                f"{group!r}: its group mean is a constant, collinear with the intercept. Drop "
                f"{name!r} from the CRE variables; a predictor that does not differ between "
                f"groups cannot be confounded with the group baselines."
            )
        within = frame[name] - grouped[name].transform("mean")
        if float(np.abs(within).max()) <= 1e-12 * (1.0 + float(np.abs(frame[name]).max())):
            raise ValueError(
                f"column {name!r} never varies within a group of {group!r}: it is a group-level "
                f"predictor with no within-group effect to protect. Use it as a population-level "
                f"predictor without a group mean."
            )
    few = sizes[sizes < few_observations]
    if len(few):
        listed = ", ".join(f"{g!r} ({n})" for g, n in few.head(5).items())
        more = f" and {len(few) - 5} more" if len(few) > 5 else ""
        warnings.warn(
            f"{len(few)} of {n_groups} groups in {group!r} have fewer than {few_observations} "
            f"rows: {listed}{more}. Their means are noisy and the group-level sds may mix "
            f"badly; check r_hat and ESS of the group sds first.",
            FewObservationsWarning,
            stacklevel=2,
        )
    out = frame.copy()
    for name in columns:
        out[f"{name}{suffix}"] = grouped[name].transform("mean")
    return out
