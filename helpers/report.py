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
    """Return a NumPy scalar (or 0-d array) as the matching Python number; anything else unchanged.

    myst-nb formats glued numbers by parsing their ``repr``; ``np.float64(0.5)``
    does not parse as a number, ``0.5`` does.

    Example
    -------
    >>> as_builtin(np.array(2.5)), as_builtin("text")
    (2.5, 'text')
    """
    if isinstance(value, np.generic) or (isinstance(value, np.ndarray) and value.ndim == 0):
        return value.item()
    return value


def glue(name: str, value: Any, display: bool = False) -> None:
    """Glue ``value`` under ``name`` for ``{glue:text}`name:.3f``` references in the prose.

    NumPy scalars are converted to Python numbers first so that format specs work.
    Outside a Jupyter kernel (e.g. in a plain script) this is a no-op apart from validation.

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
    from myst_nb import glue as _glue

    _glue(name, as_builtin(value), display=display)
