"""The book's sampling defaults, in one place.

Every chapter fits through :func:`fit` (Bambi models) or :func:`sample_kwargs`
(PyMC models), so draws, chains, the seed and the sampler are set here and
nowhere else. Chains start from dispersed (jittered) points, the samplers' default, so
that r_hat can catch a chain stuck where the others are not. Fits draw a progress bar, except
in the book's build (:func:`progressbar_default`). :func:`configure_sampling` (called
by :func:`helpers.configure`) quiets the INFO chatter of PyMC and Bambi and sets PyTensor up;
importing this module changes nothing.

Example
-------
>>> kwargs = sample_kwargs(draws=500)
>>> kwargs["draws"], kwargs["chains"], kwargs["random_seed"] == SEED
(500, 4, True)
"""

from __future__ import annotations

import logging
import numbers
import os
import warnings
from collections.abc import Mapping
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
#: NUTS implementation ("numpyro", "pymc" or "nutpie"): PyMC's NUTS run by NumPyro, the model's
#: log density compiled by JAX. Measured on 2 cores (``make bench``, appendix "Performance"):
#: the fastest first posterior on a cold compile cache for every model benchmarked, and the same
#: draws from the same seed with an empty or a full cache. (Once compiled, PyMC's own sampler is
#: faster on the smallest model and nutpie on the larger elasticity models.)
SAMPLER: str = "numpyro"
#: Linker for everything else PyTensor compiles (PyMC's own sampler, posterior predictive
#: draws): the C virtual machine, because with PyTensor's default ("auto", i.e. Numba) the first
#: run on an empty compile cache gives different draws from later runs (tests/book/test_determinism.py).
#: A linker set in ``PYTENSOR_FLAGS`` wins.
LINKER: str = "cvm"
#: Probability mass of the credible intervals the book reports (89%, as in the sources).
CI_PROB: float = 0.89
#: The ``init`` values ``pm.sample`` accepts (``pm.init_nuts``, PyMC 5+; any letter case).
INIT_METHODS: tuple[str, ...] = (
    "auto",
    "adapt_diag",
    "jitter+adapt_diag",
    "jitter+adapt_diag_grad",
    "adapt_full",
    "jitter+adapt_full",
    "advi+adapt_diag",
    "advi",
    "advi_map",
    "map",
    "jitter+map",
)


#: Environment variable the book's build sets (to ``1``) for every chapter's kernel; the test suite
#: sets it too (tests/conftest.py). While it is set, fits draw no progress bar: the build fails on
#: any output to stderr, where NumPyro's and PyMC's progress bars go.
BUILD_FLAG: str = "BOOK_BUILD"


def progressbar_default(environ: Mapping[str, str] | None = None) -> bool:
    """Whether fits draw a progress bar: yes, unless the book is being built.

    A learner running a chapter (Jupyter, Colab, a script) sees the sampler's progress; the
    build, which sets :data:`BUILD_FLAG` (``BOOK_BUILD=1``) for every chapter's kernel, stays
    quiet. The flag counts as set unless it is missing, empty or ``0``. ``environ`` is
    ``os.environ`` (read at each call) unless given. :func:`sample_kwargs` uses this as its
    default; ``sample_kwargs(progressbar=...)`` overrides it.

    Example
    -------
    >>> progressbar_default({}), progressbar_default({"BOOK_BUILD": "1"})
    (True, False)
    >>> progressbar_default({"BOOK_BUILD": "0"})
    True
    """
    environ = os.environ if environ is None else environ
    return environ.get(BUILD_FLAG, "").strip() in ("", "0")


def configure_sampling() -> None:
    """Quiet the samplers' chatter and set PyTensor up as the book measured it.

    Sets PyMC's and Bambi's loggers to WARNING (no "Initializing NUTS..." on built pages;
    warnings still show), ignores tqdm's "IProgress not found" and rich's "install ipywidgets"
    warnings (a Jupyter kernel without ipywidgets draws NumPyro's progress bars as text, PyMC's
    own sampler draws none), stops PyTensor's search for a system BLAS (a pip-installed PyTensor
    finds none and warns on every page; the book's matrices are tiny) and sets the
    :data:`LINKER`. A ``blas__ldflags`` or ``linker`` in ``PYTENSOR_FLAGS`` wins. Nothing happens
    on import: chapters call this through :func:`helpers.configure`.

    Example
    -------
    >>> configure_sampling()
    >>> import logging, pytensor
    >>> logging.getLogger("pymc").level == logging.WARNING
    True
    """
    for name in ("pymc", "bambi", "pymc.sampling", "pymc.stats"):
        logging.getLogger(name).setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", message="IProgress not found")
    warnings.filterwarnings("ignore", message='install "ipywidgets" for Jupyter support')
    flags = os.environ.get("PYTENSOR_FLAGS", "")
    if "blas__ldflags" not in flags:
        pytensor.config.blas__ldflags = ""
    if "linker" not in flags:
        pytensor.config.linker = LINKER


def sample_kwargs(**overrides: Any) -> dict[str, Any]:
    """Return the book's keyword arguments for ``pm.sample``.

    Overrides replace defaults (e.g. ``target_accept=0.95``); unknown names are
    passed through to the sampler. A progress bar is drawn unless the book is being built
    (:func:`progressbar_default`); ``progressbar=False`` or ``True`` overrides that.
    ``nuts_sampler`` picks the NUTS implementation (default :data:`SAMPLER`). NumPyro ignores
    PyMC's ``init`` (and warns); its
    equivalent is whether chains start at jittered points, so ``init="adapt_diag"``
    (start every chain at the initial point) becomes ``nuts={"jitter": False}``. The book's
    chapters keep the default, dispersed starts: r_hat means little when every chain starts
    at the same point.

    Example
    -------
    >>> sample_kwargs(target_accept=0.95)["target_accept"]
    0.95
    >>> sample_kwargs(init="adapt_diag", nuts_sampler="numpyro")["nuts"]
    {'jitter': False}
    >>> import numpy as np
    >>> sample_kwargs(draws=np.int64(500))["draws"]  # NumPy integers are fine
    500

    Raises
    ------
    ValueError
        If ``draws``, ``tune``, ``cores`` (at least 1) or ``chains`` (at least 2) is not a whole
        number (a bool is not; ``cores=None`` lets PyMC choose), ``init`` is not one of
        :data:`INIT_METHODS`, or
        ``nuts_sampler`` is unknown.
    """
    kwargs: dict[str, Any] = {
        "draws": DRAWS,
        "tune": TUNE,
        "chains": CHAINS,
        "cores": CORES,
        "random_seed": SEED,
        "progressbar": progressbar_default(),
        "nuts_sampler": SAMPLER,
    }
    kwargs.update(overrides)
    for key, least in (("draws", 1), ("tune", 1), ("chains", 2), ("cores", 1)):
        value = kwargs[key]
        if key == "cores" and value is None:  # PyMC's own choice (its default)
            continue
        # numbers.Integral covers Python and NumPy integers; bool is an int, but never a count.
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < least:
            raise ValueError(
                f"{key} must be a positive whole number (at least {least}; an int, "
                f"not a bool or float), got {value!r}"
            )
        kwargs[key] = int(value)
    if "init" in kwargs and (
        not isinstance(kwargs["init"], str) or kwargs["init"].lower() not in INIT_METHODS
    ):
        raise ValueError(
            f"init must be one of {', '.join(map(repr, INIT_METHODS))} (PyMC's "
            f"initialisation methods); got {kwargs['init']!r}. Leave it out for the "
            f"book's default, 'auto' (jittered starts)."
        )
    if kwargs["nuts_sampler"] not in ("pymc", "numpyro", "nutpie", "blackjax"):
        raise ValueError(
            f"nuts_sampler must be 'pymc', 'numpyro', 'nutpie' or 'blackjax', "
            f"got {kwargs['nuts_sampler']!r}"
        )
    if kwargs["nuts_sampler"] in ("numpyro", "blackjax") and "init" in kwargs:
        init = kwargs.pop("init")
        nuts = dict(kwargs.get("nuts") or {})
        nuts.setdefault("jitter", init.lower() == "auto" or init.lower().startswith("jitter"))
        kwargs["nuts"] = nuts
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
    kwargs["inference_method"] = kwargs.pop("nuts_sampler")
    return model.fit(**kwargs)
