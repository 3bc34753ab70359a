"""The sampling defaults: one place for draws, chains, seed and sampler, every refusal, and the
configuration call that quiets the samplers and sets PyTensor up."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
import pytensor
import pytest
from conftest import ROOT

from helpers import sampling


def test_sample_kwargs_defaults_live_in_one_place():
    kwargs = sampling.sample_kwargs()
    assert kwargs["draws"] == sampling.DRAWS and kwargs["tune"] == sampling.TUNE
    assert kwargs["chains"] == sampling.CHAINS >= 4
    assert kwargs["random_seed"] == sampling.SEED
    assert kwargs["progressbar"] is sampling.progressbar_default()  # off in tests: conftest.py


def test_a_progress_bar_unless_the_book_is_being_built(monkeypatch):
    monkeypatch.delenv("BOOK_BUILD", raising=False)
    assert sampling.progressbar_default() is True
    assert sampling.sample_kwargs()["progressbar"] is True  # a learner's Jupyter, Colab, script
    for unset in ("", "0"):
        monkeypatch.setenv("BOOK_BUILD", unset)
        assert sampling.sample_kwargs()["progressbar"] is True
    monkeypatch.setenv("BOOK_BUILD", "1")  # the build (the Makefile's BUILD_ENV)
    assert sampling.progressbar_default() is False
    assert sampling.sample_kwargs()["progressbar"] is False


@pytest.mark.parametrize("flag", [None, "1"])
def test_an_explicit_progressbar_wins(monkeypatch, flag):
    if flag is None:
        monkeypatch.delenv("BOOK_BUILD", raising=False)
    else:
        monkeypatch.setenv("BOOK_BUILD", flag)
    assert sampling.sample_kwargs(progressbar=False)["progressbar"] is False
    assert sampling.sample_kwargs(progressbar=True)["progressbar"] is True


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


#: A chapter in miniature: the setup cell's configuration call, then one fit. 200 draws and 200
#: tuning steps: fewer make PyMC warn on stderr (under 100 draws, or an ESS under 100 per chain),
#: which the build would refuse whatever the progress bar does.
NOTEBOOK_CELL = """
import numpy as np, pandas as pd, bambi as bmb
import helpers
from helpers import sampling
helpers.configure()
rng = np.random.default_rng(0)
data = pd.DataFrame({"x": rng.normal(size=30)})
data["y"] = 1 + 0.5 * data["x"] + rng.normal(size=30)
idata = sampling.fit(bmb.Model("y ~ x", data), draws=200, tune=200)
print(dict(idata["posterior"].sizes))
"""


def run_in_kernel(book_build: str | None, tmp: Path) -> list[dict]:
    """Run :data:`NOTEBOOK_CELL` in a fresh Jupyter kernel (``BOOK_BUILD`` as given, or unset;
    its temporary files in ``tmp``) and return the cell's outputs, as a notebook stores them."""
    import nbformat
    from nbclient import NotebookClient

    # A learner's kernel: no BOOK_BUILD, and none of the variables with which NumPyro turns its
    # bars off by itself (CI, which CI machines set; pytest-xdist's worker name).
    hidden = ("BOOK_BUILD", "CI", "PYTEST_XDIST_WORKER")
    env = {k: v for k, v in os.environ.items() if k not in hidden}
    env["TMPDIR"] = str(tmp)  # PyTensor leaves its JAX sources there
    if book_build is not None:
        env["BOOK_BUILD"] = book_build
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(NOTEBOOK_CELL)])
    client = NotebookClient(nb, timeout=120, kernel_name="python3")
    client.execute(env=env, cwd=str(ROOT))
    return nb.cells[0].outputs


def stream(outputs: list[dict], name: str) -> str:
    return "".join(o["text"] for o in outputs if o["output_type"] == "stream" and o["name"] == name)


@pytest.mark.slow
def test_a_learners_kernel_shows_progress_and_the_builds_kernel_stays_quiet(tmp_path):
    """In a real Jupyter kernel, NumPyro's progress bars are tqdm text on stderr (ipywidgets is
    not installed, so no widget): one bar per chain, ``Running chain 0: 100%|...| 400/400``.
    With ``BOOK_BUILD=1`` the cell writes nothing to stderr, which the strict build requires."""
    learner = run_in_kernel(None, tmp_path)
    build = run_in_kernel("1", tmp_path)
    fitted = "{'chain': 4, 'draw': 200}"
    assert fitted in stream(learner, "stdout") and fitted in stream(build, "stdout")
    progress = stream(learner, "stderr")
    for chain in range(sampling.CHAINS):
        assert f"Running chain {chain}: 100%" in progress
    assert "| 400/400 [" in progress  # tuning + draws, each chain

    assert stream(build, "stderr") == ""
    assert [o["output_type"] for o in build] == ["stream"]  # stdout only: no widget, no display
