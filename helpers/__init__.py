"""Helpers for the book "Bayesian multilevel models in Python": what chapters and learners import.

Importing the package or any of its modules changes nothing global. A chapter's setup cell makes
the one configuration call, :func:`configure`.

Example
-------
>>> import helpers
>>> helpers.configure()
"""

from __future__ import annotations


def configure() -> None:
    """Set the book up: figure style (:func:`helpers.plotting.set_style`) and sampling
    (:func:`helpers.sampling.configure_sampling`: quiet samplers, PyTensor's linker and BLAS).

    Call it once, in a chapter's setup cell.
    """
    from helpers.plotting import set_style
    from helpers.sampling import configure_sampling

    configure_sampling()
    set_style()
