"""The convergence gate every fitted model in the book passes through, per-row
log-likelihoods for LOO on aggregated data, and a short report of the warnings a step raised.

Example
-------
>>> import numpy as np, arviz as az
>>> rng = np.random.default_rng(0)
>>> idata = az.from_dict({"posterior": {"mu": rng.normal(size=(4, 1000))},
...                       "sample_stats": {"diverging": np.zeros((4, 1000), dtype=bool)}})
>>> table = check_convergence(idata)
>>> list(table.index)
['mu']
"""

from __future__ import annotations

import re
import textwrap
import warnings
from collections import Counter
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager

import arviz as az
import numpy as np
import pandas as pd
import xarray as xr

#: Thresholds of the gate: r_hat at most this ...
MAX_RHAT: float = 1.01
#: ... and bulk and tail ESS at least this, with zero divergences.
MIN_ESS: float = 400


#: Where the book shows a failing fit and its fix; every gate failure points there.
SEE_THE_BOOK: str = (
    "See the chapter 'Varying intercepts and partial pooling' (book/partial_pooling.md), "
    "section 'Divergences, funnels and the non-centered parameterization'."
)
#: What to try next, by the kind of check that failed: "non-finite" draws, "mixing" (low ESS or
#: high r_hat) and "divergences". :func:`gate_advice` puts them together.
ADVICE: dict[str, str] = {
    "non-finite": (
        "the model overflows. Look at the priors (too wide for the link function?) and the "
        "scale of the predictors (standardise them)."
    ),
    "mixing": (
        "run longer chains, e.g. fit(model, draws=2000, tune=2000) (Bambi) or "
        "pm.sample(**sample_kwargs(draws=2000, tune=2000)) (PyMC). If the ESS hardly grows, "
        "the sampler cannot explore the posterior: reparameterize (see the book, below)."
    ),
    "divergences": (
        "raise target_accept from 0.8 to 0.95 or 0.99, e.g. fit(model, target_accept=0.95) or "
        "pm.sample(**sample_kwargs(target_accept=0.95)). If they remain, try the other "
        "parameterization (non-centered or centered: Bambi's noncentered=True/False) or "
        "tighter priors on the group standard deviations."
    ),
}


class ConvergenceError(RuntimeError):
    """Raised when a fit fails the convergence gate; the message lists every problem, unrounded,
    then what to try next (:func:`gate_advice`)."""


def gate_advice(failed: Collection[str], width: int = 78) -> str:
    """What to try next when the checks in ``failed`` ("non-finite", "ess", "r_hat",
    "divergences") failed: one item per kind (:data:`ADVICE`), then :data:`SEE_THE_BOOK`.

    Example
    -------
    >>> print(gate_advice({"ess", "r_hat"}))
    What to try next:
      - Low ESS and high r_hat: run longer chains, e.g. fit(model, draws=2000,
        tune=2000) (Bambi) or pm.sample(**sample_kwargs(draws=2000, tune=2000))
        (PyMC). If the ESS hardly grows, the sampler cannot explore the posterior:
        reparameterize (see the book, below).
    See the chapter 'Varying intercepts and partial pooling'
    (book/partial_pooling.md), section 'Divergences, funnels and the non-centered
    parameterization'.
    """
    mixing = " and ".join(
        name for key, name in (("ess", "low ESS"), ("r_hat", "high r_hat")) if key in failed
    )
    headings = {
        "non-finite": "Non-finite draws" if "non-finite" in failed else "",
        "mixing": mixing[:1].upper() + mixing[1:],
        "divergences": "Divergences" if "divergences" in failed else "",
    }
    items = [
        textwrap.fill(
            f"{heading}: {ADVICE[key]}", width, initial_indent="  - ", subsequent_indent="    "
        )
        for key, heading in headings.items()
        if heading
    ]
    return "\n".join(["What to try next:", *items, textwrap.fill(SEE_THE_BOOK, width)])


def _beyond(value: float, limit: float, above: bool, decimals: int) -> str:
    """``value`` to ``decimals`` places, or more if rounding would put it on the limit.

    Example
    -------
    >>> _beyond(399.6, 400, above=False, decimals=1), _beyond(399.96, 400, False, 1)
    ('399.6', '399.96')
    """
    for places in range(decimals, 16):
        text = f"{value:.{places}f}"
        if (float(text) > limit) if above else (float(text) < limit):
            return text
    return repr(value)  # NaN, or as close as a float gets


def count_divergences(idata) -> int:
    """Return the number of divergent transitions after tuning (0 if the sampler records none).

    Example
    -------
    >>> import numpy as np, arviz as az
    >>> idata = az.from_dict({"posterior": {"mu": np.zeros((2, 5))},
    ...                       "sample_stats": {"diverging": np.eye(2, 5, dtype=bool)}})
    >>> count_divergences(idata)
    2
    """
    if "sample_stats" not in idata.children:
        return 0
    stats = idata["sample_stats"]
    if "diverging" not in stats.data_vars:
        return 0
    return int(np.asarray(stats["diverging"]).sum())


def posterior_names(idata, var_names: str | Sequence[str] | None = None) -> list[str]:
    """The posterior variables ``var_names`` picks: all for ``None``, ``[name]`` for one name.

    Raises
    ------
    ValueError
        If ``var_names`` is empty or names a variable the posterior does not have.

    Example
    -------
    >>> idata = az.from_dict({"posterior": {"mu": np.zeros((2, 5)), "sigma": np.ones((2, 5))}})
    >>> posterior_names(idata), posterior_names(idata, "mu")
    (['mu', 'sigma'], ['mu'])
    >>> posterior_names(idata, ["tau"])
    Traceback (most recent call last):
    ...
    ValueError: var_names: no posterior variable(s) ['tau']; the posterior has ['mu', 'sigma']
    """
    available = list(idata["posterior"].data_vars)
    if var_names is None:
        return available
    names = [var_names] if isinstance(var_names, str) else list(var_names)
    if not names:
        raise ValueError(
            "var_names is empty: name at least one posterior variable, "
            "or pass None to check them all"
        )
    unknown = [name for name in names if name not in available]
    if unknown:
        raise ValueError(
            f"var_names: no posterior variable(s) {unknown}; the posterior has {available}"
        )
    return names


def summarize(idata, var_names: str | Sequence[str] | None = None) -> pd.DataFrame:
    """``az.summary`` of the posterior, one row per scalar parameter, unrounded.

    ``var_names`` is checked by :func:`posterior_names`.

    Example
    -------
    >>> rng = np.random.default_rng(0)
    >>> idata = az.from_dict({"posterior": {"mu": rng.normal(size=(4, 500))}})
    >>> list(summarize(idata).index)
    ['mu']
    """
    names = posterior_names(idata, var_names)
    # PyMC's NumPyro path leaves JAX arrays in the posterior; ArviZ computes r_hat and ESS
    # about three times faster on NumPy arrays (38 s against 12 s for 2,000 store effects).
    posterior = idata["posterior"].to_dataset()[names]
    posterior = posterior.copy(data={k: np.asarray(v) for k, v in posterior.data_vars.items()})
    draws = xr.DataTree.from_dict({"posterior": posterior})
    # One variable at a time: ArviZ 1.3's az.summary mislabels the rows of a multi-dimensional
    # variable when another variable in the same call orders a shared dimension first.
    # Constant quantities make r_hat 0/0: silence that arithmetic warning (callers skip them).
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        return pd.concat([az.summary(draws, var_names=[name], round_to="none") for name in names])


#: Column names that hold an ESS ("ess_bulk", "min bulk ESS"): shown as whole numbers.
_ESS = re.compile(r"(^|[^a-z])ess([^a-z]|$)", re.IGNORECASE)


def rounded(table: pd.DataFrame | pd.Series, decimals: int = 3) -> pd.DataFrame | pd.Series:
    """A table as the book shows it: numbers to ``decimals``, ESS columns as whole numbers.

    The unrounded table stays for computing; this is for display only (pandas shows numbers as
    they are rounded, nothing global is set).

    Example
    -------
    >>> table = pd.DataFrame({"mean": [0.123456], "ess_bulk": [1115.1229], "r_hat": [1.00225]})
    >>> rounded(table)
        mean  ess_bulk  r_hat
    0  0.123      1115  1.002
    """
    if decimals < 0:
        raise ValueError(f"decimals must be >= 0, got {decimals}")
    shown = table.round(decimals)
    if isinstance(shown, pd.DataFrame):
        ess = [c for c in shown.columns if _ESS.search(str(c)) and shown[c].notna().all()]
        shown = shown.assign(**{c: table[c].round().astype(int) for c in ess})
    return shown


def check_convergence(
    idata,
    var_names: str | Sequence[str] | None = None,
    *,
    max_rhat: float = MAX_RHAT,
    min_ess: float = MIN_ESS,
    allow_divergences: bool = False,
) -> pd.DataFrame:
    """Pass a fit through the convergence gate, or raise listing every offending parameter.

    The gate: every draw finite (no inf or NaN), r_hat <= ``max_rhat``, bulk ESS and tail ESS
    >= ``min_ess`` for every scalar parameter, and no divergent transitions. Deterministics that
    are functions of other parameters are checked too unless ``var_names`` picks a subset;
    quantities that are constant across all draws (e.g. the unit diagonal of a correlation
    matrix) have no r_hat and are skipped.

    Parameters
    ----------
    idata
        The fitted result (an xarray DataTree with ``posterior`` and, for NUTS,
        ``sample_stats`` groups), as returned by Bambi's ``fit`` or ``pm.sample``.
    var_names
        Parameters to check (a name or a list of names); all posterior variables by default.
    allow_divergences
        Only for chapters that show a failing fit on purpose: report divergences
        in the returned table's ``attrs`` instead of raising.

    Returns
    -------
    pandas.DataFrame
        ``az.summary`` of the checked parameters (mean, sd, 89% interval, ESS,
        r_hat, MCSE), with ``attrs["divergences"]`` set.

    Raises
    ------
    ConvergenceError
        Listing each variable with non-finite draws, each parameter with its failing
        diagnostic, unrounded (``mu: ess_tail = 399.6 < 400``, ``mu: r_hat = 1.0123 > 1.01``),
        and the number of divergences; then advice on what to try for each kind of failure
        (:data:`ADVICE`) and where the book shows it (:data:`SEE_THE_BOOK`).
    ValueError
        If the result has no posterior, fewer than 2 chains, a bad threshold, or ``var_names``
        is empty or names a variable the posterior does not have.
    """
    if max_rhat < 1:
        raise ValueError(f"max_rhat must be >= 1, got {max_rhat}")
    if min_ess <= 0:
        raise ValueError(f"min_ess must be positive, got {min_ess}")
    if "posterior" not in idata.children:
        raise ValueError("the result has no 'posterior' group: was the model sampled?")
    n_chains = idata["posterior"].sizes.get("chain", 1)
    if n_chains < 2:
        raise ValueError(f"r_hat needs at least 2 chains; the posterior has {n_chains}")

    names = posterior_names(idata, var_names)
    problems: list[str] = []
    failed: set[str] = set()  # the kinds of check that failed, for gate_advice
    # A rank-based r_hat and ESS can look fine with an inf among the draws; the mean cannot.
    for name in names:
        bad = int((~np.isfinite(idata["posterior"][name])).sum())
        if bad:
            problems.append(f"{name}: {bad} non-finite draw(s) (inf or NaN)")
            failed.add("non-finite")
    summary = summarize(idata, names)
    # Quantities constant across all draws (the unit diagonal of a correlation matrix) have
    # no r_hat or ESS; they are reported but not gated.
    constant = summary["sd"] == 0
    for param, row in summary[~constant].iterrows():
        if not row["r_hat"] <= max_rhat:  # catches NaN too
            shown = _beyond(row["r_hat"], max_rhat, above=True, decimals=4)
            problems.append(f"{param}: r_hat = {shown} > {max_rhat:g}")
            failed.add("r_hat")
        for col in ("ess_bulk", "ess_tail"):
            if not row[col] >= min_ess:
                shown = _beyond(row[col], min_ess, above=False, decimals=1)
                problems.append(f"{param}: {col} = {shown} < {min_ess:g}")
                failed.add("ess")
    divergences = count_divergences(idata)
    if divergences and not allow_divergences:
        problems.append(f"{divergences} divergent transition(s) after tuning")
        failed.add("divergences")
    if problems:
        raise ConvergenceError(
            "the fit failed the convergence gate:\n  - "
            + "\n  - ".join(problems)
            + "\n"
            + gate_advice(failed)
        )
    summary.attrs["divergences"] = divergences
    return summary


def per_row_log_likelihood(
    idata, p, counts: pd.DataFrame, rows: pd.DataFrame, by: Sequence[str], outcome: str
):
    """A copy of a binomial fit on ``counts`` whose ``log_likelihood`` group has one Bernoulli
    term per row of ``rows``: log p of the row's cell if ``outcome`` is 1, log(1 - p) if 0.

    That is the Bernoulli model's pointwise log-likelihood, so ``az.loo`` on the result leaves
    out one row (one contact) at a time instead of a whole cell.

    Parameters
    ----------
    idata
        The binomial fit (a DataTree with a ``posterior`` group).
    p
        Posterior draws of each cell's probability, dims (chain, draw, __obs__) in the row order
        of ``counts``, e.g. ``model.predict(idata, kind="response_params", inplace=False)``.
    counts, rows
        The aggregated cells and the individual rows; ``by`` names the columns that identify a
        cell in both, ``outcome`` the 0/1 column of ``rows``.

    Raises
    ------
    ValueError
        If a column is missing, the outcome is not 0/1, a row's cell is not in ``counts``, or
        ``p`` does not have one value per cell.

    Example
    -------
    >>> per_contact = per_row_log_likelihood(fit, p, counts, contacts,
    ...                                      ["promo", "channel"], "bought_pass")  # doctest: +SKIP
    >>> az.loo(per_contact)  # doctest: +SKIP
    """
    import xarray as xr

    for frame, name, columns in [(counts, "counts", list(by)), (rows, "rows", [*by, outcome])]:
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise ValueError(f"{name} has no column(s) {missing}")
    y = rows[outcome].to_numpy()
    if not np.isin(y, [0, 1]).all():
        raise ValueError(f"column {outcome!r} must be 0/1; found {sorted(set(y) - {0, 1})[:5]}")
    if p.sizes.get("__obs__") != len(counts):
        raise ValueError(
            f"p has {p.sizes.get('__obs__')} cells along __obs__, counts has {len(counts)} rows"
        )
    cell = pd.MultiIndex.from_frame(counts[list(by)]).get_indexer(
        pd.MultiIndex.from_frame(rows[list(by)])
    )
    if (cell < 0).any():
        unknown = rows.loc[cell < 0, list(by)].drop_duplicates().head(3).to_dict("records")
        raise ValueError(f"rows in cells that are not in counts: {unknown}")
    p_row = p.isel(__obs__=xr.DataArray(cell, dims="row")).drop_vars("__obs__", errors="ignore")
    bought = xr.DataArray(y, dims="row")
    per_row = idata.copy()
    per_row["log_likelihood"] = xr.Dataset(
        {outcome: xr.where(bought == 1, np.log(p_row), np.log1p(-p_row))}
    )
    return per_row


@contextmanager
def report_warnings(source: str = "ArviZ", width: int = 78) -> Iterator[list]:
    """Record every warning raised in the block; after it, print each distinct one once.

    Each distinct message is printed by its first sentence, with how often it was raised, wrapped
    to ``width`` columns: ``ArviZ warns (12 times): Estimated shape parameter of Pareto
    distribution is greater than 0.70 for one or more samples.`` Nothing is printed when nothing
    was raised. The block's warnings are recorded even if an earlier one was (every occurrence
    counts), and none of them reaches the usual warning display.

    Parameters
    ----------
    source
        Who warns, for the printed lines.
    width
        Column to wrap the printed lines at.

    Returns
    -------
    A context manager whose ``as`` target is the list of recorded warnings
    (``warnings.WarningMessage``; their ``message`` is the warning), filled when the block ends:
    ``assert not caught`` checks that nothing warned.

    Raises
    ------
    ValueError
        If ``width`` is too small to wrap a line (less than 20).

    Example
    -------
    >>> with report_warnings() as caught:
    ...     for _ in range(3):
    ...         warnings.warn("Estimated shape parameter of Pareto distribution is greater than "
    ...                       "0.70 for one or more samples. You should consider ...")
    ArviZ warns (3 times): Estimated shape parameter of Pareto distribution is
    greater than 0.70 for one or more samples.
    >>> len(caught), caught[0].category.__name__
    (3, 'UserWarning')
    """
    if width < 20:
        raise ValueError(f"width must be at least 20 columns, got {width}")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield caught
    counts = Counter(str(w.message).split(". ")[0].rstrip(".") for w in caught)
    for message, n in sorted(counts.items()):
        times = "once" if n == 1 else f"{n} times"
        print(textwrap.fill(f"{source} warns ({times}): {message}.", width))
