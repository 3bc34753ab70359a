"""The sampling defaults: one place for draws, chains, seed and sampler, every refusal, and the
configuration call that quiets the samplers and sets PyTensor up."""

from __future__ import annotations

import logging

import numpy as np
import pytensor
import pytest

from helpers import sampling


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


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"cores": 0}, r"cores must be a positive whole number .* got 0"),
        ({"draws": True}, r"draws must be a positive whole number .*not a bool.* got True"),
        ({"chains": np.bool_(True)}, r"chains must be a positive whole number"),
        (
            {"init": None},
            r"init must be one of 'auto', 'adapt_diag', 'jitter\+adapt_diag'.* got None",
        ),
        ({"init": "jitter"}, r"init must be one of .* got 'jitter'"),
    ],
)
def test_sample_kwargs_refuses_the_issue_17_inputs(bad, message):
    """Regression (issue 17): these gave AttributeError, ZeroDivisionError later, or passed."""
    with pytest.raises(ValueError, match=message):
        sampling.sample_kwargs(**bad)


def test_sample_kwargs_accepts_numpy_integers_and_any_init_case():
    kwargs = sampling.sample_kwargs(
        draws=np.int64(500),
        chains=np.int32(2),
        cores=np.int64(2),
        init="JITTER+adapt_diag",
        nuts_sampler="numpyro",
    )
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


@pytest.fixture
def restored_sampler_state():
    """Put back what :func:`configure_sampling` changes (the session is configured already)."""
    levels = {name: logging.getLogger(name).level for name in ("pymc", "bambi")}
    linker, ldflags = pytensor.config.linker, pytensor.config.blas__ldflags
    yield
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)
    pytensor.config.linker, pytensor.config.blas__ldflags = linker, ldflags


def test_configure_sampling_quiets_the_samplers_and_sets_the_linker(
    monkeypatch, restored_sampler_state
):
    monkeypatch.delenv("PYTENSOR_FLAGS", raising=False)
    logging.getLogger("pymc").setLevel(logging.INFO)
    logging.getLogger("bambi").setLevel(logging.INFO)
    pytensor.config.linker = "py"
    sampling.configure_sampling()
    assert logging.getLogger("pymc").level == logging.getLogger("bambi").level == logging.WARNING
    assert pytensor.config.linker == sampling.LINKER == "cvm"
    assert pytensor.config.blas__ldflags == ""


def test_a_linker_in_pytensor_flags_wins(monkeypatch, restored_sampler_state):
    monkeypatch.setenv("PYTENSOR_FLAGS", "linker=py,blas__ldflags=-lmyblas")
    pytensor.config.linker, pytensor.config.blas__ldflags = "py", "-lmyblas"
    sampling.configure_sampling()
    assert (pytensor.config.linker, pytensor.config.blas__ldflags) == ("py", "-lmyblas")
