"""Sampling defaults, plotting style and glue: small helpers, checked directly."""

from __future__ import annotations

import sys

import arviz as az
import matplotlib as mpl
import numpy as np
import pandas as pd
import pytest
import xarray as xr

from helpers import sampling
from helpers.plotting import set_style
from helpers.glue import as_builtin, glue


def test_sample_kwargs_defaults_live_in_one_place():
    kwargs = sampling.sample_kwargs()
    assert kwargs["draws"] == sampling.DRAWS and kwargs["tune"] == sampling.TUNE
    assert kwargs["chains"] == sampling.CHAINS >= 4
    assert kwargs["random_seed"] == sampling.SEED
    assert kwargs["progressbar"] is False


def test_sample_kwargs_overrides_and_passes_extras():
    kwargs = sampling.sample_kwargs(draws=2000, target_accept=0.95)
    assert kwargs["draws"] == 2000 and kwargs["target_accept"] == 0.95


@pytest.mark.parametrize("bad", [{"draws": 0}, {"chains": 1}, {"tune": 2.5}, {"draws": "many"}])
def test_sample_kwargs_rejects_bad_values(bad):
    name = next(iter(bad))
    with pytest.raises(ValueError, match=name):
        sampling.sample_kwargs(**bad)


@pytest.mark.parametrize(("bad", "message"), [
    ({"cores": 0}, r"cores must be a positive whole number .* got 0"),
    ({"draws": True}, r"draws must be a positive whole number .*not a bool.* got True"),
    ({"chains": np.bool_(True)}, r"chains must be a positive whole number"),
    ({"init": None}, r"init must be one of 'auto', 'adapt_diag', 'jitter\+adapt_diag'.* got None"),
    ({"init": "jitter"}, r"init must be one of .* got 'jitter'"),
])
def test_sample_kwargs_refuses_the_issue_17_inputs(bad, message):
    """Regression (issue 17): these gave AttributeError, ZeroDivisionError later, or passed."""
    with pytest.raises(ValueError, match=message):
        sampling.sample_kwargs(**bad)


def test_sample_kwargs_accepts_numpy_integers_and_any_init_case():
    kwargs = sampling.sample_kwargs(draws=np.int64(500), chains=np.int32(2), cores=np.int64(2),
                                    init="JITTER+adapt_diag", nuts_sampler="numpyro")
    assert (kwargs["draws"], kwargs["chains"], kwargs["cores"]) == (500, 2, 2)
    assert sampling.sample_kwargs(cores=None)["cores"] is None  # PyMC picks, as pm.sample does
    assert type(kwargs["draws"]) is int
    assert kwargs["nuts"] == {"jitter": True}
    assert sampling.sample_kwargs(init="advi", nuts_sampler="pymc")["init"] == "advi"


def test_fit_uses_the_book_defaults():
    calls = {}

    class FakeModel:
        def fit(self, **kwargs):
            calls.update(kwargs)
            return "idata"

    assert sampling.fit(FakeModel(), target_accept=0.9) == "idata"
    assert calls["inference_method"] == sampling.SAMPLER
    assert calls["random_seed"] == sampling.SEED and calls["target_accept"] == 0.9


def test_set_style_sets_matplotlib_and_arviz():
    mpl.rcParams["figure.dpi"] = 50
    az.rcParams["stats.ci_prob"] = 0.94
    set_style()
    assert mpl.rcParams["figure.dpi"] == 110
    assert az.rcParams["stats.ci_prob"] == sampling.CI_PROB == 0.89
    assert mpl.rcParams["axes.labelsize"] >= 11
    float_format = pd.get_option("display.float_format")
    assert float_format(0.12345) == "0.123" and float_format(3.2e-6) == "3.2e-06"


def test_as_builtin_converts_numpy_scalars():
    assert type(as_builtin(np.float64(0.5))) is float
    assert type(as_builtin(np.int64(3))) is int
    assert type(as_builtin(np.array(1.5))) is float
    assert as_builtin([1, 2]) == [1, 2]
    assert type(as_builtin(xr.DataArray(np.float64(2.0)))) is float
    vector = xr.DataArray([1.0, 2.0])
    assert as_builtin(vector) is vector


def test_glue_rejects_bad_names():
    with pytest.raises(ValueError, match="'log odds'"):
        glue("log odds", 1.0)


def test_glue_works_without_myst_nb(monkeypatch, capsys):
    """A downloaded notebook runs where myst-nb is not installed (plain Jupyter, Colab)."""
    monkeypatch.setitem(sys.modules, "myst_nb", None)  # `import myst_nb` now raises ImportError
    glue("hidden", np.float64(0.25))
    glue("shown", np.float64(0.5), display=True)
    assert capsys.readouterr().out.strip() == "0.5"
