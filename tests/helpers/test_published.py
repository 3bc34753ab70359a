"""The published brms results and the tolerance the book compares its fits with."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers.published import BRMS_MIN_ESS, agreement_tolerance


def test_tolerance_is_four_combined_monte_carlo_errors_plus_rounding():
    mcse, sd = 0.01, 0.5
    expected = 4 * np.sqrt(mcse**2 + sd**2 / BRMS_MIN_ESS) + 0.005
    assert agreement_tolerance(mcse, sd, decimals=2) == pytest.approx(expected)
    # More published decimals, less rounding slack; more brms draws, less Monte Carlo slack.
    assert agreement_tolerance(mcse, sd, 3) < agreement_tolerance(mcse, sd, 2)
    assert agreement_tolerance(mcse, sd, 2, brms_ess=20000) < agreement_tolerance(mcse, sd, 2)


def test_tolerance_keeps_a_series_index():
    mcse = pd.Series([0.01, 0.02], index=["a", "b"])
    result = agreement_tolerance(mcse, pd.Series([0.5, 0.5], index=["a", "b"]), 3)
    assert list(result.index) == ["a", "b"] and result["b"] > result["a"]


@pytest.mark.parametrize("kwargs", [{"decimals": -1}, {"brms_ess": 0}])
def test_tolerance_refuses_bad_settings(kwargs):
    with pytest.raises(ValueError, match="decimals must be >= 0 and brms_ess > 0"):
        agreement_tolerance(0.01, 0.5, **{"decimals": 2, **kwargs})
