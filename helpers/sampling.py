"""The book's sampling defaults, in one place.

Every chapter fits through :func:`fit` (Bambi models) or :func:`sample_kwargs`
(PyMC models), so draws, chains, the seed and the sampler are set here and
nowhere else. Importing this module also quiets the INFO chatter of PyMC and
Bambi ("Initializing NUTS...", "Sampling 4 chains..."): built pages show results;
warnings still show. It also stops PyTensor's search for a system BLAS (see below).

Example
-------
>>> kwargs = sample_kwargs(draws=500)
>>> kwargs["draws"], kwargs["chains"], kwargs["random_seed"] == SEED
(500, 4, True)
"""

from __future__ import annotations

import logging
import os
from typing import Any

import pytensor

#: Seed for every fit, so the same build gives the same numbers.
SEED: int = 20261121
#: Posterior draws per chain kept after tuning.
DRAWS: int = 1000
#: Tuning (warm-up) iterations per chain.
TUNE: int = 1000
#: Number of chains: 4, so r_hat can compare chains.
CHAINS: int = 4
#: Chains run one after another: for the book's small models, measured on 2 cores, parallel
#: chains saved nothing once compiled (2.8 s vs 2.9 s) and fork() warns in a threaded kernel.
CORES: int = 1
#: NUTS implementation used by Bambi's ``fit`` ("pymc" or "nutpie").
SAMPLER: str = "pymc"
#: Probability mass of the credible intervals the book reports (89%, as in the sources).
CI_PROB: float = 0.89

for _name in ("pymc", "bambi", "pymc.sampling", "pymc.stats"):
    logging.getLogger(_name).setLevel(logging.WARNING)

# A pip-installed PyTensor searches for a system BLAS the first time a model needs a matrix
# product (the LKJ prior does), finds none and warns on every page. No BLAS would be used
# either way, and the book's matrices are tiny: skip the search unless the reader configured it.
if "blas__ldflags" not in os.environ.get("PYTENSOR_FLAGS", ""):
    pytensor.config.blas__ldflags = ""


def sample_kwargs(**overrides: Any) -> dict[str, Any]:
    """Return the book's keyword arguments for ``pm.sample`` / ``bmb.Model.fit``.

    Overrides replace defaults (e.g. ``target_accept=0.95``); unknown names are
    passed through to the sampler.

    Example
    -------
    >>> sample_kwargs(target_accept=0.95)["target_accept"]
    0.95
    """
    kwargs: dict[str, Any] = {
        "draws": DRAWS,
        "tune": TUNE,
        "chains": CHAINS,
        "cores": CORES,
        "random_seed": SEED,
        "progressbar": False,
    }
    kwargs.update(overrides)
    for key in ("draws", "tune", "chains"):
        if not isinstance(kwargs[key], int) or kwargs[key] < (2 if key == "chains" else 1):
            raise ValueError(f"{key} must be a positive whole number (chains >= 2), got {kwargs[key]!r}")
    return kwargs


def fit(model, **overrides: Any):
    """Fit a Bambi model with the book's defaults and return its DataTree.

    Pass the result to :func:`helpers.diagnostics.check_convergence` before using it.

    Example (as in the chapters)::

        model = bmb.Model("p(bought, n) ~ 1 + promo", counts, family="binomial")
        idata = fit(model, target_accept=0.95)
        check_convergence(idata)
    """
    kwargs = sample_kwargs(**overrides)
    kwargs.setdefault("inference_method", SAMPLER)
    return model.fit(**kwargs)
