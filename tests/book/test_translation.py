"""The PyMC sketches of the translation appendix build, with finite log densities, on the book's data."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pymc as pm
import pytest

import helpers.sampling  # noqa: F401  (skips PyTensor's BLAS search, as in the chapters)
from helpers.data import aggregate_binomial, load_season_pass
from helpers.mundlak import add_group_means
from helpers.simulate import (
    CHANNELS,
    simulate_correlated_stores,
    simulate_grouped_binomial,
    simulate_panel,
)
from tools.benchmarks.models import elasticity_sales

PAGE = Path(__file__).resolve().parents[2] / "book" / "translation.md"
TAB = re.compile(r":::\{tab-item\} PyMC\n```python\n(.*?)```", re.S)


def _namespace() -> dict:
    counts = aggregate_binomial(load_season_pass(), by=["promo", "channel"], outcome="bought_pass")
    return {
        "np": np,
        "pd": pd,
        "pm": pm,
        "counts": counts,
        "stores": simulate_grouped_binomial(seed=1).data,
        "sales": elasticity_sales(),  # the chapter's, centred as it centres
        "panel_cre": add_group_means(simulate_panel(seed=7).data, "market", list(CHANNELS)),
    }


SKETCHES = TAB.findall(PAGE.read_text())


def test_every_model_section_has_a_pymc_sketch():
    assert len(SKETCHES) == PAGE.read_text().count(":::{tab-item} brms") >= 7


@pytest.mark.parametrize("index", range(len(SKETCHES)))
def test_pymc_sketch_builds_with_finite_log_density(index):
    namespace = _namespace()
    if "LKJCholeskyCov" in SKETCHES[index]:  # the LKJ sketch uses the correlated-stores data
        namespace["stores"] = simulate_correlated_stores(seed=1).data
    exec(SKETCHES[index], namespace)
    model = namespace["model"]
    logps = model.point_logps()
    assert all(np.isfinite(v) for v in logps.values()), logps
