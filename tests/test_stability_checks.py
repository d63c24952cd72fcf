"""Tests of the parameter checks in ``rfsim.stability``."""

import numpy as np
import pytest

from rfsim.errors import DivergenceWarning, RFSimError
from rfsim.stability import b_offset_interval, check_b_offset, check_omega, p_omega


def test_p_omega_matches_reference_value():
    # p(10) at dt = 0.01 s, as stored in the single-neuron golden trace.
    assert p_omega(10.0, 0.01) == pytest.approx(-0.5012562893380035, rel=1e-15)


def test_p_omega_at_upper_bound_is_minus_one_over_dt():
    assert p_omega(100.0, 0.01) == pytest.approx(-100.0, rel=1e-15)


@pytest.mark.parametrize("omega", [0.0, -1.0, np.nan, np.inf])
def test_check_omega_rejects_non_positive_or_non_finite(omega):
    with pytest.raises(RFSimError, match="omega"):
        check_omega(omega, 0.01)


def test_check_omega_rejects_omega_beyond_one_over_dt():
    with pytest.raises(RFSimError, match=r"omega \* dt must be <= 1"):
        p_omega(150.0, 0.01)


@pytest.mark.parametrize("dt", [0.0, -0.01, np.nan])
def test_check_dt_rejects_invalid_step(dt):
    with pytest.raises(RFSimError, match="dt"):
        p_omega(10.0, dt)


def test_b_offset_interval_upper_root():
    low, high = b_offset_interval(10.0, 0.01)
    assert low == 0.0
    assert high == pytest.approx(2.0 * np.sqrt(1.0 - 0.01) / 0.01, rel=1e-15)


def test_check_b_offset_rejects_or_warns_outside_interval():
    with pytest.raises(RFSimError, match="b_offset=-0.5"):
        check_b_offset(10.0, -0.5, 0.01)
    with pytest.raises(RFSimError, match="b_offset=500"):
        check_b_offset(10.0, 500.0, 0.01)
    with pytest.warns(DivergenceWarning):
        check_b_offset(10.0, 500.0, 0.01, allow_divergent=True)
    check_b_offset(10.0, 1.0, 0.01)
