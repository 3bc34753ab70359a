"""Put numbers computed in a chapter into its prose (myst-nb glue).

Example
-------
>>> import numpy as np
>>> glue("log_odds", np.float64(-0.1922))   # in a chapter; prose: {glue:text}`log_odds:.3f`
>>> as_builtin(np.int64(3156)), as_builtin(np.float64(0.5))
(3156, 0.5)
"""

from __future__ import annotations

from typing import Any

import numpy as np


def as_builtin(value: Any) -> Any:
    """Return a scalar NumPy value or 0-d array (NumPy or xarray) as a Python number.

    Anything else is returned unchanged. myst-nb formats glued numbers by parsing
    their ``repr``; ``np.float64(0.5)`` or an xarray ``DataArray`` does not parse
    as a number, ``0.5`` does.

    Example
    -------
    >>> import xarray as xr
    >>> as_builtin(np.array(2.5)), as_builtin(xr.DataArray(3.0)), as_builtin("text")
    (2.5, 3.0, 'text')
    """
    if isinstance(value, np.generic):
        return value.item()
    if getattr(value, "ndim", None) == 0 and hasattr(value, "item"):
        return value.item()
    return value


def glue(name: str, value: Any, display: bool = False) -> None:
    """Glue ``value`` under ``name`` for ``{glue:text}`name:.3f``` references in the prose.

    NumPy scalars are converted to Python numbers first so that format specs work.
    Outside a Jupyter kernel (e.g. in a plain script) this is a no-op apart from validation.
    Without myst-nb (a downloaded notebook in plain Jupyter or Colab, where the numbers are
    already written into the text) it only shows ``value`` when ``display`` is true.

    Raises
    ------
    ValueError
        If ``name`` is not a valid Python identifier (myst-nb's rule for glue keys).

    Example
    -------
    >>> glue("n_contacts", np.int64(3156))
    """
    if not name.isidentifier():
        raise ValueError(f"glue name {name!r} must be a valid Python identifier")
    try:
        from myst_nb import glue as _glue
    except ImportError:  # not building the book: nothing to glue into
        if display:
            try:
                from IPython.display import display as _display
            except ImportError:  # a plain Python script
                _display = print
            _display(as_builtin(value))
        return
    _glue(name, as_builtin(value), display=display)
