"""Tests of the convergence regions in ``rfsim.analysis.boundary``.

Closed forms first (the roots of |lambda| = 1 and of det = 1), then hypothesis
properties over the whole valid range of dt and omega, then the neurons' own
kernel as an independent check that the free response does not grow. The
"paper" order and sign are those of Higuchi et al., "Balanced Resonate-and-Fire
Neurons" (ICML 2024), and "implementation" those of the authors' PyTorch code.
"""

import warnings

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from rfsim.analysis.boundary import (
    bhrf_boundary,
    boundary_curves,
    check_neuron_b_offset,
    harmonic_boundary_damping,
    neuron_damping,
    rf_boundary,
    save_boundary_csv,
)
from rfsim.analysis.transfer import harmonic_state_space, rf_state_space
from rfsim.errors import DivergenceWarning, RFSimError
from rfsim.neurons.brf import brf_step
from rfsim.neurons.hrf import harmonic_transition_matrix
from rfsim.stability import b_offset_interval, p_omega

EPS = np.finfo(float).eps

dt_values = st.floats(min_value=1e-4, max_value=0.1, exclude_min=True)
unit_fraction = st.floats(min_value=0.0, max_value=1.0, exclude_min=True)
fraction = st.floats(min_value=0.0, max_value=1.0)


def _omega_in_range(fraction_of_max, dt, factor=1.0):
    """Return omega = fraction*factor/dt, lowered by rounding steps until omega*dt <= factor."""
    omega = fraction_of_max * factor / dt
    while omega * dt > factor:
        omega = np.nextafter(omega, 0.0)
    return omega


def _euler_modulus(omega, b_offset, dt):
    return abs(1.0 + dt * (p_omega(omega, dt) - b_offset + 1j * omega))


def _spectral_radius(matrix):
    return float(np.max(np.abs(np.linalg.eigvals(matrix))))


# --- closed forms ---


def test_rf_roots_at_dt_001():
    # r = sqrt(1 - 0.1**2) at omega = 10 rad/s, dt = 0.01 s.
    region = rf_boundary(10.0, 0.01)
    r = np.sqrt(0.99)
    assert region.b_upper[0] == pytest.approx((-1.0 + r) / 0.01, rel=1e-14)
    assert region.b_lower[0] == pytest.approx((-1.0 - r) / 0.01, rel=1e-14)
    assert region.b_sustained[0] == region.b_upper[0]
    assert region.omega_max == pytest.approx(100.0, rel=1e-15)
    assert np.isnan(region.b_critical[0])


def test_rf_roots_meet_at_omega_max():
    region = rf_boundary(100.0, 0.01)
    assert region.b_lower[0] == pytest.approx(-100.0, rel=1e-14)
    assert region.b_upper[0] == pytest.approx(-100.0, rel=1e-14)


def test_rf_exact_scheme_region_is_b_nonpositive():
    region = rf_boundary([1.0, 1e4], 0.01, scheme="exact")
    assert np.all(region.b_upper == 0.0)
    assert np.all(region.b_lower == -np.inf)
    assert region.omega_max == np.inf
    assert np.all(region.contains(-1e6))
    assert not np.any(region.contains(1e-9))


def test_harmonic_paper_order_roots():
    # Paper order: b in [dt*omega^2/2, (1 + (omega*dt)^2/4)/dt], b_critical = omega.
    region = bhrf_boundary(30.0, 0.01, order="paper")
    assert region.b_lower[0] == pytest.approx(0.5 * 0.01 * 900.0, rel=1e-14)
    assert region.b_upper[0] == pytest.approx((1.0 + 0.09 / 4.0) / 0.01, rel=1e-14)
    assert region.b_critical[0] == 30.0
    assert region.omega_max == pytest.approx(200.0, rel=1e-15)


def test_harmonic_implementation_order_roots():
    # Implementation order: b in [0, (1 - (omega*dt)^2/4)/dt], b_critical = omega - dt*omega^2/2.
    region = bhrf_boundary(30.0, 0.01, order="implementation")
    assert region.b_lower[0] == 0.0
    assert region.b_upper[0] == pytest.approx((1.0 - 0.09 / 4.0) / 0.01, rel=1e-14)
    assert region.b_critical[0] == pytest.approx(30.0 - 0.5 * 0.01 * 900.0, rel=1e-14)


def test_paper_order_has_det_one_at_p_h():
    # Only the paper's order has det = 1 at b = dt*omega^2/2; the implementation's has det = 1 - (omega*dt)^2.
    omega, dt = 40.0, 0.01
    b = 0.5 * dt * omega**2
    paper = harmonic_state_space(omega, b, dt, "paper").A
    implementation = harmonic_state_space(omega, b, dt, "implementation").A
    assert np.linalg.det(paper) == pytest.approx(1.0, abs=8 * EPS)
    assert np.linalg.det(implementation) == pytest.approx(1.0 - (omega * dt) ** 2, abs=8 * EPS)
    assert _spectral_radius(implementation) == pytest.approx(np.sqrt(1.0 - (omega * dt) ** 2), rel=1e-14)


def test_harmonic_matrix_matches_neurons_module():
    for order in ("implementation", "paper"):
        ours = harmonic_state_space(25.0, 3.0, 0.01, order).A
        theirs = harmonic_transition_matrix(25.0, 3.0, 0.01, order)
        np.testing.assert_array_equal(ours, theirs)


def test_harmonic_boundary_damping_choices():
    assert harmonic_boundary_damping(10.0, 0.01)[0] == pytest.approx(0.5, rel=1e-15)
    assert harmonic_boundary_damping(10.0, 0.01, "implementation", "sustained")[0] == 0.0
    assert harmonic_boundary_damping(10.0, 0.01, "paper", "sustained")[0] == pytest.approx(0.5, rel=1e-15)
    with pytest.raises(RFSimError, match="boundary"):
        harmonic_boundary_damping(10.0, 0.01, boundary="other")


# --- hypothesis properties: RF and BRF (explicit Euler) ---


@given(dt=dt_values, omega_fraction=unit_fraction, position=fraction)
def test_brf_modulus_at_most_one_inside(dt, omega_fraction, position):
    """For 0 <= b_offset <= 2r/dt, |1 + dt*(p(omega) - b_offset + i*omega)| <= 1.

    Tolerance 8 machine epsilons: |lambda|^2 = (1 + dt*b)^2 + (dt*omega)^2 is
    formed from a handful of rounded operations of magnitude <= 1.
    """
    omega = _omega_in_range(omega_fraction, dt)
    _, high = b_offset_interval(omega, dt)
    assert _euler_modulus(omega, position * high, dt) <= 1.0 + 8 * EPS


@given(dt=dt_values, omega_fraction=unit_fraction)
def test_brf_modulus_is_one_at_both_roots(dt, omega_fraction):
    """At b_offset = 0 and b_offset = 2r/dt the modulus |lambda| equals 1 (to 8 epsilons)."""
    omega = _omega_in_range(omega_fraction, dt)
    low, high = b_offset_interval(omega, dt)
    assert abs(_euler_modulus(omega, low, dt) - 1.0) <= 8 * EPS
    assert abs(_euler_modulus(omega, high, dt) - 1.0) <= 8 * EPS


@given(dt=dt_values, omega_fraction=unit_fraction)
def test_brf_modulus_exceeds_one_outside(dt, omega_fraction):
    """Outside [0, 2r/dt] the modulus exceeds 1, also for a very large b_offset (Euler overshoot).

    With b_offset = -delta or 2r/dt + delta, |lambda|^2 - 1 = 2*r*dt*delta + (dt*delta)^2,
    which is >= 1e-8 for delta = 1e-4/dt, far above rounding.
    """
    omega = _omega_in_range(omega_fraction, dt)
    _, high = b_offset_interval(omega, dt)
    delta = 1e-4 / dt
    assert _euler_modulus(omega, -delta, dt) > 1.0
    assert _euler_modulus(omega, high + delta, dt) > 1.0
    assert _euler_modulus(omega, 10.0 * high + 1.0 / dt, dt) > 1.0


@given(dt=dt_values, b_offset_scaled=st.floats(min_value=1e-6, max_value=1e3))
def test_brf_diverges_at_omega_max_for_positive_offset(dt, b_offset_scaled):
    """At omega = 1/dt, r = 0, so |lambda|^2 = 1 + (dt*b_offset)^2 > 1 for every b_offset > 0."""
    omega = 1.0 / dt
    assume(omega * dt == 1.0)
    b_offset = b_offset_scaled / dt
    assert _euler_modulus(omega, b_offset, dt) > 1.0


@given(dt=dt_values, omega_fraction=unit_fraction, position=fraction)
def test_brf_spectral_radius_matches_modulus_rule(dt, omega_fraction, position):
    """The real matrix [[1 + dt*b, -dt*omega], [dt*omega, 1 + dt*b]] has spectral radius <= 1
    exactly for 0 <= b_offset <= 2r/dt, = 1 at both ends, > 1 outside.

    Tolerance 16 epsilons for the LAPACK eigenvalues of a matrix of norm <= 1.
    """
    omega = _omega_in_range(omega_fraction, dt)
    p = p_omega(omega, dt)
    _, high = b_offset_interval(omega, dt)

    def radius(b_offset):
        return _spectral_radius(rf_state_space(omega, p - b_offset, dt).A)

    assert radius(position * high) <= 1.0 + 16 * EPS
    assert abs(radius(0.0) - 1.0) <= 16 * EPS
    assert abs(radius(high) - 1.0) <= 16 * EPS
    assert radius(-1e-4 / dt) > 1.0
    assert radius(high + 1e-4 / dt) > 1.0


@given(dt=dt_values, omega_fraction=unit_fraction, position=fraction)
def test_brf_free_response_never_grows(dt, omega_fraction, position):
    """Inside the region the free response |u_n| of the neurons' BRF step is non-increasing.

    |u_{n+1}| = |lambda|*|u_n| with |lambda| <= 1, so each step may exceed the
    previous magnitude by rounding only (allowed: 8 epsilons relative). The
    threshold is set out of reach so q stays 0 and the step is linear.
    """
    omega = _omega_in_range(omega_fraction, dt)
    p = p_omega(omega, dt)
    _, high = b_offset_interval(omega, dt)
    b_offset = position * high

    u, v, q = 0.0, 0.0, 0.0
    magnitudes = []
    for n in range(40):
        current = 1.0 / dt if n == 0 else 0.0
        u, v, q, z = brf_step(u, v, q, current, omega, p, b_offset, dt, 1e300, 0.9, True, True, True)
        assert z == 0.0
        magnitudes.append(np.hypot(u, v))
    magnitudes = np.array(magnitudes)
    assert np.all(magnitudes[1:] <= magnitudes[:-1] * (1.0 + 8 * EPS))


@given(dt=dt_values, omega=st.floats(min_value=1e-3, max_value=1e6), b_dt=st.floats(min_value=-50.0, max_value=50.0))
def test_exact_scheme_converges_iff_b_nonpositive(dt, omega, b_dt):
    """The exact step has spectral radius exp(b*dt), which is <= 1 exactly when b <= 0."""
    b = b_dt / dt
    radius = _spectral_radius(rf_state_space(omega, b, dt, scheme="exact").A)
    assert radius == pytest.approx(np.exp(b * dt), rel=16 * EPS)
    assert bool(rf_boundary(omega, dt, scheme="exact").contains(b)[0]) == (b <= 0.0)


# --- hypothesis properties: harmonic neurons ---


@given(dt=dt_values, omega_fraction=st.floats(min_value=1e-6, max_value=1.0, exclude_max=True))
def test_paper_order_sustains_oscillation_at_p_h(dt, omega_fraction):
    """Paper order, b = p_h = dt*omega^2/2, omega*dt < 2: det = 1 and the complex pair has |mu| = 1.

    det is exact to 4 epsilons (one rounding of 1 - (omega*dt)^2 and of the
    product), the LAPACK radius to 16 epsilons.
    """
    omega = _omega_in_range(omega_fraction, dt, factor=2.0)
    matrix = harmonic_state_space(omega, 0.5 * dt * omega**2, dt, "paper").A
    eigenvalues = np.linalg.eigvals(matrix)
    assert np.all(np.abs(eigenvalues.imag) > 0)
    assert abs(np.linalg.det(matrix) - 1.0) <= 16 * EPS
    assert abs(np.max(np.abs(eigenvalues)) - 1.0) <= 16 * EPS


@given(dt=dt_values, omega_fraction=st.floats(min_value=0.0, max_value=0.95, exclude_min=True),
       position=fraction, order=st.sampled_from(["implementation", "paper"]))
def test_harmonic_radius_follows_region(dt, omega_fraction, position, order):
    """Both orders: spectral radius <= 1 for b in [b_lower, b_upper], > 1 just outside.

    omega*dt <= 1.9 keeps the eigenvalues at the upper root apart (at omega*dt = 2
    they merge into a double root at -1, where eigenvalues lose half their digits).
    """
    omega = _omega_in_range(omega_fraction, dt, factor=2.0)
    region = bhrf_boundary(omega, dt, order)
    low, high = region.b_lower[0], region.b_upper[0]

    def radius(b):
        return _spectral_radius(harmonic_state_space(omega, b, dt, order).A)

    assert radius(low + position * (high - low)) <= 1.0 + 16 * EPS
    assert radius(low - 1e-3 / dt) > 1.0
    assert radius(high + 1e-3 / dt) > 1.0


@given(dt=dt_values, omega_fraction=st.floats(min_value=0.0, max_value=1.0, exclude_min=True, exclude_max=True),
       order=st.sampled_from(["implementation", "paper"]))
def test_harmonic_upper_root_has_eigenvalue_minus_one(dt, omega_fraction, order):
    """At b_upper the characteristic polynomial mu^2 - T*mu + D vanishes at mu = -1 and |D| <= 1.

    Checked on T and D directly (tolerance 8 epsilons times 1 + |T| + |D|),
    because the numerical eigenvalues near the double root at omega*dt = 2 are
    ill-conditioned.
    """
    omega = _omega_in_range(omega_fraction, dt, factor=2.0)
    matrix = harmonic_state_space(omega, bhrf_boundary(omega, dt, order).b_upper[0], dt, order).A
    trace = matrix[0, 0] + matrix[1, 1]
    det = matrix[0, 0] * matrix[1, 1] - matrix[0, 1] * matrix[1, 0]
    assert abs(1.0 + trace + det) <= 8 * EPS * (1.0 + abs(trace) + abs(det))
    assert abs(det) <= 1.0 + 8 * EPS


# --- model damping, offset intervals and checks ---


def test_offset_intervals_per_model():
    omega, dt = 10.0, 0.001
    r = np.sqrt(1.0 - (omega * dt) ** 2)
    low, high = neuron_damping("brf", omega, dt).offset_interval()
    assert (low[0], high[0]) == (0.0, pytest.approx(2 * r / dt, rel=1e-15))

    # RF: b = -b_offset must lie in [(-1 - r)/dt, (-1 + r)/dt].
    low, high = neuron_damping("rf", omega, dt).offset_interval()
    assert low[0] == pytest.approx((1.0 - r) / dt, rel=1e-9)
    assert high[0] == pytest.approx((1.0 + r) / dt, rel=1e-12)

    # HRF: b = b_offset in [0, (1 - (omega*dt)^2/4)/dt] (implementation order).
    low, high = neuron_damping("hrf", omega, dt).offset_interval()
    assert low[0] == 0.0
    assert high[0] == pytest.approx((1.0 - 0.25 * (omega * dt) ** 2) / dt, rel=1e-15)

    # BHRF: b = dt*omega^2/2 + b_offset, so the interval shifts down by p_h.
    low, high = neuron_damping("bhrf", omega, dt).offset_interval()
    assert low[0] == pytest.approx(-0.5 * dt * omega**2, rel=1e-15)

    # BHRF with the paper's sign and order: b = p_h - b_offset <= p_h, so b_offset <= 0.
    low, high = neuron_damping("bhrf", omega, dt, order="paper", damping_sign="paper").offset_interval()
    assert high[0] == pytest.approx(0.0, abs=1e-12)


def test_check_neuron_b_offset_rejects_and_warns():
    brf = neuron_damping("brf", 10.0, 0.01)
    check_neuron_b_offset(brf, 1.0)
    with pytest.raises(RFSimError, match=r"b_offset=-0\.1"):
        check_neuron_b_offset(brf, -0.1)
    with pytest.raises(RFSimError, match="b_offset=1000"):
        check_neuron_b_offset(brf, 1000.0)
    with pytest.warns(DivergenceWarning, match="diverges"):
        check_neuron_b_offset(brf, 1000.0, allow_divergent=True)
    with pytest.raises(RFSimError, match="finite"):
        check_neuron_b_offset(brf, np.nan)

    rf = neuron_damping("rf", 10.0, 0.001)
    with pytest.raises(RFSimError, match="rf neuron"):
        check_neuron_b_offset(rf, 0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_neuron_b_offset(rf, 1.0)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: rf_boundary(0.0, 0.01), "omega must be a finite positive"),
        (lambda: rf_boundary(150.0, 0.01), r"omega \* dt must be <= 1"),
        (lambda: rf_boundary(10.0, 0.0), "dt must be"),
        (lambda: rf_boundary(10.0, 0.01, scheme="rk4"), "scheme"),
        (lambda: bhrf_boundary(250.0, 0.01), r"omega \* dt must be <= 2"),
        (lambda: bhrf_boundary(10.0, 0.01, order="other"), "order"),
        (lambda: bhrf_boundary([], 0.01), "empty"),
        (lambda: neuron_damping("alif", 10.0, 0.01), "model"),
        (lambda: boundary_curves([], "rf"), "empty"),
        (lambda: boundary_curves([0.01], "rf", n_omega=1), "n_omega"),
        (lambda: boundary_curves([0.01], "hrf"), "model"),
        (lambda: boundary_curves([-0.01], "rf"), "dt must be"),
    ],
)
def test_invalid_arguments_raise(call, message):
    with pytest.raises(RFSimError, match=message):
        call()


def test_boundary_curves_cover_valid_range():
    regions = boundary_curves([0.03, 0.01], "rf", n_omega=50)
    assert [region.dt for region in regions] == [0.03, 0.01]
    for region in regions:
        assert region.omega.size == 50
        assert region.omega[-1] * region.dt <= 1.0
        assert region.omega[-1] == pytest.approx(1.0 / region.dt, rel=1e-12)
    harmonic = boundary_curves([0.01], "bhrf", scheme="paper", n_omega=20)[0]
    assert harmonic.omega[-1] == pytest.approx(200.0, rel=1e-12)


def test_save_boundary_csv_round_trip(tmp_path):
    path = tmp_path / "curves.csv"
    regions = boundary_curves([0.01, 0.02], "rf", n_omega=10)
    save_boundary_csv(regions, path)
    table = np.genfromtxt(path, delimiter=",", names=True, dtype=None, encoding="utf-8")
    assert table.size == 20
    np.testing.assert_allclose(table["b_upper"][:10], regions[0].b_upper, rtol=1e-15)
    np.testing.assert_allclose(table["b_offset_high"][:10], 2 * np.sqrt(1 - (0.01 * regions[0].omega) ** 2) / 0.01,
                               rtol=1e-12)
    with pytest.raises(RFSimError, match="failed to write"):
        save_boundary_csv(regions, tmp_path / "missing" / "curves.csv")
