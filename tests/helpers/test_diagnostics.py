"""The convergence gate: passes good fits, fails loudly on each kind of bad one; per-row
log-likelihoods for LOO on aggregated data; the warnings report."""

from __future__ import annotations

import re
import warnings

import arviz as az
import numpy as np
import pandas as pd
import pytest
from conftest import ROOT

from helpers.diagnostics import (
    SEE_THE_BOOK,
    ConvergenceError,
    check_convergence,
    count_divergences,
    per_row_log_likelihood,
    report_warnings,
    rounded,
)

rng = np.random.default_rng(1)


def make_idata(posterior: dict, diverging: np.ndarray | None = None, coords=None, dims=None):
    chains, draws = next(iter(posterior.values())).shape[:2]
    if diverging is None:
        diverging = np.zeros((chains, draws), dtype=bool)
    return az.from_dict(
        {"posterior": posterior, "sample_stats": {"diverging": diverging}}, coords=coords, dims=dims
    )


def good(shape=(4, 1000)):
    return rng.normal(size=shape)


def test_good_fit_passes_and_returns_summary():
    idata = make_idata({"mu": good(), "sigma": np.exp(good())})
    table = check_convergence(idata)
    assert list(table.index) == ["mu", "sigma"]
    for col in ("mean", "sd", "ess_bulk", "ess_tail", "r_hat"):
        assert col in table.columns
    assert table.attrs["divergences"] == 0
    assert table["r_hat"].dtype == float


def test_summary_reports_89_percent_intervals():
    table = check_convergence(make_idata({"mu": good()}))
    assert any("89" in col for col in table.columns)


def test_high_rhat_names_the_parameter():
    stuck = good()
    stuck[0] += 3.0  # one chain elsewhere
    idata = make_idata({"mu": good(), "theta": stuck})
    with pytest.raises(ConvergenceError, match=r"theta: r_hat = \d\.\d{4} > 1.01\n") as err:
        check_convergence(idata)
    assert "mu:" not in str(err.value)
    assert "- Low ESS and high r_hat: run longer chains" in flat(err)  # one item for both


def test_low_ess_names_bulk_and_tail():
    walk = np.cumsum(good(), axis=1) * 0.05  # a random walk: strongly autocorrelated
    with pytest.raises(ConvergenceError, match="walk: ess_bulk = .* < 400") as err:
        check_convergence(make_idata({"walk": walk}))
    assert "walk: ess_tail" in str(err.value)


def flat(err: pytest.ExceptionInfo) -> str:
    """The error's message on one line (the advice is wrapped)."""
    return " ".join(str(err.value).split())


def test_the_message_shows_the_unrounded_diagnostic_then_what_to_try():
    """Regression (issue 32): an ESS of 399.8 was shown as "ess_tail = 400 < 400"."""
    draws = np.random.default_rng(329).normal(size=(4, 100))  # independent: ESS near 400
    with pytest.raises(ConvergenceError) as err:
        check_convergence(make_idata({"mu": draws}))
    lines = str(err.value).splitlines()
    assert lines[:3] == [
        "the fit failed the convergence gate:",
        "  - mu: ess_tail = 399.8 < 400",  # the only failed check (bulk ESS 453.5, r_hat 1.0086)
        "What to try next:",
    ]
    message = flat(err)
    assert "- Low ESS: run longer chains, e.g. fit(model, draws=2000, tune=2000) (Bambi)" in message
    assert "pm.sample(**sample_kwargs(draws=2000, tune=2000)) (PyMC)" in message
    assert "target_accept" not in message and "Non-finite" not in message  # only what failed
    assert message.endswith(SEE_THE_BOOK)


def test_the_book_section_the_message_points_to_exists():
    title, section = re.findall(r"'([^']+)'", SEE_THE_BOOK)
    path = re.search(r"\((book/\w+\.md)\)", SEE_THE_BOOK).group(1)
    text = (ROOT / path).read_text()
    assert f"\n# {title}\n" in text and f"\n## {section}\n" in text


@pytest.mark.slow
def test_a_real_short_fit_fails_with_the_numbers_and_the_advice(monkeypatch, tmp_path):
    import tempfile

    import bambi as bmb

    from helpers.sampling import fit

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # PyTensor's JAX sources go there
    local = np.random.default_rng(0)
    data = pd.DataFrame({"x": local.normal(size=30)})
    data["y"] = 1 + 0.5 * data["x"] + local.normal(size=30)
    idata = fit(bmb.Model("y ~ x", data), draws=50, tune=50)  # 200 draws: too few for ESS 400
    with pytest.raises(ConvergenceError) as err:
        check_convergence(idata)
    assert re.search(r"\n  - \w+: ess_(bulk|tail) = \d+\.\d < 400\n", str(err.value))
    assert "run longer chains, e.g. fit(model, draws=2000, tune=2000)" in flat(err)
    assert flat(err).endswith(SEE_THE_BOOK)


def test_every_offending_element_of_a_vector_is_listed():
    values = good((4, 1000, 3))
    values[1, :, 2] += 4.0
    values[2, :, 0] -= 4.0
    idata = make_idata(
        {"b": values}, coords={"channel": ["Mail", "Park", "Email"]}, dims={"b": ["channel"]}
    )
    with pytest.raises(ConvergenceError) as err:
        check_convergence(idata)
    message = str(err.value)
    assert "b[Mail]" in message and "b[Email]" in message and "b[Park]" not in message


def test_divergences_fail_the_gate():
    diverging = np.zeros((4, 1000), dtype=bool)
    diverging[2, [5, 50, 500]] = True
    idata = make_idata({"mu": good()}, diverging=diverging)
    assert count_divergences(idata) == 3
    with pytest.raises(ConvergenceError, match="3 divergent transition") as err:
        check_convergence(idata)
    message = flat(err)
    assert "- Divergences: raise target_accept from 0.8 to 0.95 or 0.99" in message
    assert "e.g. fit(model, target_accept=0.95) or pm.sample(**sample_kwargs(" in message
    assert "other parameterization (non-centered or centered: Bambi's noncentered" in message
    assert "tighter priors on the group standard deviations" in message
    assert "run longer chains" not in message
    assert "section 'Divergences, funnels and the non-centered parameterization'" in message


def test_divergences_can_be_shown_on_purpose():
    diverging = np.zeros((4, 1000), dtype=bool)
    diverging[0, 0] = True
    table = check_convergence(make_idata({"mu": good()}, diverging), allow_divergences=True)
    assert table.attrs["divergences"] == 1


def test_var_names_restricts_the_check():
    stuck = good()
    stuck[0] += 3.0
    idata = make_idata({"mu": good(), "nuisance": stuck})
    assert list(check_convergence(idata, var_names=["mu"]).index) == ["mu"]


def test_one_chain_is_refused():
    with pytest.raises(ValueError, match="at least 2 chains"):
        check_convergence(make_idata({"mu": good((1, 1000))}))


def test_missing_posterior_is_refused():
    idata = az.from_dict({"prior": {"mu": good()}})
    with pytest.raises(ValueError, match="no 'posterior' group"):
        check_convergence(idata)


@pytest.mark.parametrize(
    ("kwargs", "message"), [({"max_rhat": 0.9}, "max_rhat"), ({"min_ess": 0}, "min_ess")]
)
def test_bad_thresholds(kwargs, message):
    with pytest.raises(ValueError, match=message):
        check_convergence(make_idata({"mu": good()}), **kwargs)


@pytest.mark.parametrize("bad", [np.inf, -np.inf, np.nan])
def test_non_finite_draws_fail_the_gate(bad):
    """Regression (issue 17): one inf draw left r_hat at 1.001 and passed the gate."""
    values = good((4, 1000, 2))
    values[1, 500, 0] = bad
    idata = make_idata({"mu": good(), "b": values}, coords={"g": ["x", "y"]}, dims={"b": ["g"]})
    with pytest.raises(ConvergenceError, match=r"b: 1 non-finite draw\(s\) \(inf or NaN\)") as err:
        check_convergence(idata)
    assert "mu:" not in str(err.value)
    assert "- Non-finite draws: the model overflows. Look at the priors" in flat(err)
    assert list(check_convergence(idata, var_names=["mu"]).index) == ["mu"]


def test_var_names_can_be_a_single_name():
    idata = make_idata({"mu": good(), "sigma": np.exp(good())})
    assert list(check_convergence(idata, var_names="mu").index) == ["mu"]


def test_empty_var_names_is_refused():
    with pytest.raises(ValueError, match="var_names is empty.*pass None"):
        check_convergence(make_idata({"mu": good()}), var_names=[])


def test_unknown_var_name_lists_the_available_ones():
    idata = make_idata({"mu": good(), "sigma": np.exp(good())})
    with pytest.raises(
        ValueError,
        match=r"var_names: no posterior variable\(s\) \['tau'\]; "
        r"the posterior has \['mu', 'sigma'\]",
    ):
        check_convergence(idata, var_names=["mu", "tau"])


def test_no_sample_stats_means_no_divergence_check():
    idata = az.from_dict({"posterior": {"mu": good()}})
    assert count_divergences(idata) == 0
    check_convergence(idata)


def test_constant_quantities_are_not_gated():
    """The unit diagonal of a correlation matrix has no r_hat; it must not fail the gate."""
    cor = np.ones((4, 1000, 2))
    cor[..., 1] = np.tanh(good())
    idata = make_idata({"cor": cor}, coords={"pair": ["diag", "off"]}, dims={"cor": ["pair"]})
    table = check_convergence(idata)
    assert list(table.index) == ["cor[diag]", "cor[off]"]


def test_rows_are_labelled_correctly_when_variables_share_a_dimension():
    """Regression: az.summary (ArviZ 1.3) mislabels b[g, effect] next to a[effect]."""
    values = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    b = values + 0.01 * rng.normal(size=(4, 1000, 3, 2))
    idata = make_idata(
        {"a": good((4, 1000, 2)), "b": b},
        coords={"g": ["x", "y", "z"], "effect": ["I", "S"]},
        dims={"a": ["effect"], "b": ["g", "effect"]},
    )
    table = check_convergence(idata)
    for (i, g), (j, e) in [((0, "x"), (1, "S")), ((1, "y"), (0, "I")), ((2, "z"), (1, "S"))]:
        assert table.loc[f"b[{g}, {e}]", "mean"] == pytest.approx(values[i, j], abs=0.01)


# --- per-row log-likelihood for LOO on aggregated data ------------------------------------------


def _cells_and_rows():
    import xarray as xr

    counts = pd.DataFrame({"g": ["a", "b"], "bought": [1, 2], "n": [2, 3]})
    rows = pd.DataFrame({"g": ["a", "a", "b", "b", "b"], "y": [1, 0, 1, 1, 0]})
    p = xr.DataArray(np.array([[[0.25, 0.6]] * 3] * 2), dims=("chain", "draw", "__obs__"))
    idata = az.from_dict({"posterior": {"mu": np.zeros((2, 3))}})
    return idata, p, counts, rows


def test_per_row_log_likelihood_is_the_bernoulli_log_likelihood():
    idata, p, counts, rows = _cells_and_rows()
    result = per_row_log_likelihood(idata, p, counts, rows, ["g"], "y")
    ll = result["log_likelihood"]["y"].isel(chain=0, draw=0).to_numpy()
    expected = np.log([0.25, 0.75, 0.6, 0.6, 0.4])
    assert np.allclose(ll, expected)
    # ... which sums, per cell, to the binomial log-likelihood minus log C(n, k).
    from scipy import stats

    binomial = stats.binom.logpmf([1, 2], [2, 3], [0.25, 0.6]) - np.log([2, 3])
    assert np.isclose(ll.sum(), binomial.sum())
    assert "log_likelihood" not in idata.children  # the fit itself is untouched


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda c, r: (c, r.assign(y=[1, 0, 2, 1, 0])), "must be 0/1"),
        (lambda c, r: (c, r.assign(g=["a", "a", "b", "b", "z"])), "not in counts"),
        (lambda c, r: (c.drop(columns="g"), r), "counts has no column"),
        (lambda c, r: (c, r.drop(columns="y")), "rows has no column"),
        (lambda c, r: (c.iloc[:1], r[r["g"] == "a"]), "cells along __obs__"),
    ],
)
def test_per_row_log_likelihood_refuses_bad_input(change, message):
    idata, p, counts, rows = _cells_and_rows()
    counts, rows = change(counts, rows)
    with pytest.raises(ValueError, match=message):
        per_row_log_likelihood(idata, p, counts, rows, ["g"], "y")


PARETO = (
    "Estimated shape parameter of Pareto distribution is greater than 0.70 for one or more "
    "samples. You should consider using a more robust model, this is because importance "
    "sampling is less likely to work well if the marginal posterior and LOO posterior are "
    "very different."
)


def test_report_prints_each_distinct_warning_once_with_its_count(capsys):
    with report_warnings() as caught:
        for _ in range(4):
            warnings.warn(PARETO, stacklevel=1)  # the same warning from the same line: each counts
        warnings.warn("Pareto k could not be computed.", RuntimeWarning, stacklevel=1)
    lines = capsys.readouterr().out.splitlines()
    assert len(caught) == 5
    assert lines[0] == "ArviZ warns (4 times): Estimated shape parameter of Pareto distribution is"
    assert lines[1] == "greater than 0.70 for one or more samples."
    assert lines[2] == "ArviZ warns (once): Pareto k could not be computed."
    assert max(map(len, lines)) <= 78


def test_report_is_silent_and_empty_without_warnings(capsys):
    with report_warnings("PyMC", width=40) as caught:
        pass
    assert caught == [] and capsys.readouterr().out == ""


def test_report_wraps_at_the_width_and_names_the_source(capsys):
    with report_warnings("PyMC", width=30):
        warnings.warn(PARETO, stacklevel=1)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("PyMC warns (once): ") and max(map(len, lines)) <= 30


def test_report_refuses_a_width_too_small_to_wrap():
    with pytest.raises(ValueError, match="width must be at least 20 columns, got 5"):
        with report_warnings(width=5):
            pass


def test_rounded_shows_three_decimals_and_whole_ess():
    table = pd.DataFrame(
        {"mean": [0.123456, -2.5], "ess_bulk": [1115.7, 400.2], "ess_tail": [np.nan, 500.0]},
        index=["a", "b"],
    )
    shown = rounded(table)
    assert shown["mean"].tolist() == [0.123, -2.5]
    assert shown["ess_bulk"].tolist() == [1116, 400] and shown["ess_bulk"].dtype.kind == "i"
    assert np.isnan(shown.loc["a", "ess_tail"])  # a missing ESS stays missing
    assert table.loc["a", "mean"] == 0.123456  # the input is not changed
    assert rounded(table["mean"], 1).tolist() == [0.1, -2.5]
    named = pd.DataFrame({"min bulk ESS": [92.6], "less": [0.12345]})
    assert rounded(named).iloc[0].tolist() == [93, 0.123]
    with pytest.raises(ValueError, match="decimals"):
        rounded(table, -1)
