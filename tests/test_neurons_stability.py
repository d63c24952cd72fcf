"""Divergence checks of simulate() against the convergence regions of rfsim.analysis.boundary.

The two are derived independently: simulate() checks the eigenvalues of the
transition matrix numerically, and the analysis module gives the interval ends
in closed form, so agreement at both ends of every interval checks both.
"""

import numpy as np
import pytest

from rfsim.analysis.boundary import bhrf_boundary, harmonic_boundary_damping, rf_boundary
from rfsim.errors import RFSimError
from rfsim.neurons import p_h_omega, simulate
from rfsim.neurons.hrf import harmonic_spectral_radius

OMEGAS = [2.0, 30.0, 80.0, 150.0]
IMPULSE = np.zeros(20)
IMPULSE[0] = 1.0


@pytest.mark.parametrize("order", ["implementation", "paper"])
@pytest.mark.parametrize("boundary", ["implementation", "sustained"])
def test_p_h_matches_analysis(order, boundary):
    neurons_p_h = p_h_omega(np.array(OMEGAS), 0.01, order, boundary)
    analysis_p_h = harmonic_boundary_damping(np.array(OMEGAS), 0.01, order, boundary)
    np.testing.assert_array_equal(neurons_p_h, analysis_p_h)


@pytest.mark.parametrize("order", ["implementation", "paper"])
@pytest.mark.parametrize("omega", OMEGAS)
def test_spectral_radius_is_one_at_interval_ends(order, omega):
    # Inside [b_lower, b_upper] the spectral radius is <= 1, just outside it is > 1.
    region = bhrf_boundary(omega, 0.01, order)
    lower, upper = float(region.b_lower[0]), float(region.b_upper[0])
    step = 1e-6
    assert harmonic_spectral_radius(omega, lower + step, 0.01, order) <= 1.0 + 1e-12
    assert harmonic_spectral_radius(omega, upper - step, 0.01, order) <= 1.0 + 1e-12
    assert harmonic_spectral_radius(omega, lower - step, 0.01, order) > 1.0
    assert harmonic_spectral_radius(omega, upper + step, 0.01, order) > 1.0


@pytest.mark.parametrize("omega", [2.0, 30.0, 80.0])
def test_rf_check_matches_analysis_interval(omega):
    # RF damping b = -b_offset, so b_offset converges in [-b_upper, -b_lower].
    region = rf_boundary(omega, 0.01)
    low, high = -float(region.b_upper[0]), -float(region.b_lower[0])
    simulate("rf", IMPULSE, omega=omega, b_offset=low + 1e-9)
    simulate("rf", IMPULSE, omega=omega, b_offset=high - 1e-9)
    with pytest.raises(RFSimError, match="diverges"):
        simulate("rf", IMPULSE, omega=omega, b_offset=low - 1e-6)
    with pytest.raises(RFSimError, match="diverges"):
        simulate("rf", IMPULSE, omega=omega, b_offset=high + 1e-6)


@pytest.mark.parametrize("order", ["implementation", "paper"])
def test_hrf_check_matches_analysis_interval(order):
    omega = 40.0
    region = bhrf_boundary(omega, 0.01, order)
    lower, upper = float(region.b_lower[0]), float(region.b_upper[0])
    simulate("hrf", IMPULSE, omega=omega, b_offset=lower + 1e-9, order=order)
    simulate("hrf", IMPULSE, omega=omega, b_offset=upper - 1e-9, order=order)
    with pytest.raises(RFSimError, match="diverges"):
        simulate("hrf", IMPULSE, omega=omega, b_offset=lower - 1e-6, order=order)
    with pytest.raises(RFSimError, match="diverges"):
        simulate("hrf", IMPULSE, omega=omega, b_offset=upper + 1e-6, order=order)
