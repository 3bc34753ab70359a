"""Glue: numbers reach the prose as Python numbers, with or without myst-nb."""

from __future__ import annotations

import sys
from types import SimpleNamespace

import numpy as np
import pytest
import xarray as xr

from helpers.glue import as_builtin, glue


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


def test_glue_hands_myst_nb_a_python_number(monkeypatch):
    glued = []
    fake = SimpleNamespace(glue=lambda name, value, display: glued.append((name, value, display)))
    monkeypatch.setitem(sys.modules, "myst_nb", fake)
    glue("log_odds", np.float64(-0.1922))
    glue("n_contacts", np.int64(3156), display=True)
    assert glued == [("log_odds", -0.1922, False), ("n_contacts", 3156, True)]
    assert [type(value) for _, value, _ in glued] == [float, int]


def test_glue_works_without_myst_nb(monkeypatch, capsys):
    """A downloaded notebook runs where myst-nb is not installed (plain Jupyter, Colab)."""
    monkeypatch.setitem(sys.modules, "myst_nb", None)  # `import myst_nb` now raises ImportError
    glue("hidden", np.float64(0.25))
    glue("shown", np.float64(0.5), display=True)
    assert capsys.readouterr().out.strip() == "0.5"


def test_glue_prints_in_a_plain_script(monkeypatch, capsys):
    """Neither myst-nb nor IPython: a displayed value is printed."""
    monkeypatch.setitem(sys.modules, "myst_nb", None)
    monkeypatch.setitem(sys.modules, "IPython.display", None)
    glue("shown", np.int64(7), display=True)
    assert capsys.readouterr().out == "7\n"
