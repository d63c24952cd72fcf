"""Tests of the transfer functions and closed-form drive responses in ``rfsim.analysis.transfer``.

The closed forms are checked against scipy.signal, against each other (the
periodic sum of the impulse response against the inverse DFT of the transfer
function) and against the neurons' own simulation (``rfsim.neurons.simulate``).
"""

import numpy as np
import pytest
import scipy.signal
from hypothesis import given
from hypothesis import strategies as st

from rfsim.analysis.transfer import (
    StateSpace,
    effective_resonance,
    euler_factor,
    harmonic_state_space,
    impulse_modes,
    impulse_response,
    neuron_state_space,
    oscillation_frequency,
    periodic_response_from_transfer,
    periodic_spike_response,
    rf_state_space,
    sine_response,
    sine_steady_state,
    spike_train_response,
    state_space_transfer,
    transfer_coefficients,
    transfer_function,
)
from rfsim.errors import RFSimError
from rfsim.neurons import simulate
from rfsim.neurons.drive import sine, spike_train

SYSTEMS = {
    "brf": dict(model="brf", omega=10.0, b_offset=1.0, dt=0.001),
    "rf": dict(model="rf", omega=20.0, b_offset=5.0, dt=0.01),
    "hrf-paper": dict(model="hrf", omega=15.0, b_offset=3.0, dt=0.01, order="paper"),
    "bhrf": dict(model="bhrf", omega=12.0, b_offset=0.5, dt=0.002),
}
"""Subthreshold neurons of every model, each a convergent linear system."""


def _simulate_u(spec, current):
    """Return u of one neuron of ``spec`` driven by ``current``, with the threshold out of reach."""
    options = {key: value for key, value in spec.items() if key in ("order",)}
    trace = simulate(spec["model"], current, omega=spec["omega"], b_offset=spec["b_offset"], dt=spec["dt"],
                     theta=1e300, **options)
    return np.real(trace.u)


def _system(spec):
    options = {key: value for key, value in spec.items() if key in ("order",)}
    return neuron_state_space(spec["model"], spec["omega"], spec["b_offset"], spec["dt"], **options)


def test_transfer_function_matches_freqz():
    omega, b, dt = 10.0, -1.5, 0.01
    numerator, denominator = transfer_coefficients(omega, b, dt)
    w = np.linspace(0.1, 300.0, 257)
    _, expected = scipy.signal.freqz(numerator, denominator, worN=w, fs=2 * np.pi / dt)
    w_out, h = transfer_function(omega, b, dt, w)
    np.testing.assert_array_equal(w_out, w)
    np.testing.assert_allclose(h, expected, rtol=1e-13)


def test_transfer_function_count_grid():
    w, h = transfer_function(10.0, -1.0, 0.01, 8)
    np.testing.assert_allclose(w, np.arange(8) * np.pi / 0.01 / 8, rtol=1e-15)
    assert h.shape == (8,)
    with pytest.raises(RFSimError, match="positive count"):
        transfer_function(10.0, -1.0, 0.01, 0)


def test_transfer_peak_at_effective_resonance():
    # |H| = dt/|1 - lambda*exp(-i*w*dt)| is largest where w*dt equals the angle of lambda.
    omega, b, dt = 30.0, -0.8, 0.01
    resonance = effective_resonance(omega, b, dt)
    assert resonance == pytest.approx(np.angle(euler_factor(omega, b, dt)) / dt, rel=1e-15)
    w = resonance + np.linspace(-0.5, 0.5, 2001)
    _, h = transfer_function(omega, b, dt, w)
    assert w[np.argmax(np.abs(h))] == pytest.approx(resonance, abs=5e-4)


def test_effective_resonance_tends_to_omega():
    # atan2(dt*omega, 1 + dt*b)/dt = omega + O(dt) for fixed omega and b.
    errors = [abs(effective_resonance(10.0, -1.0, dt) - 10.0) for dt in (0.01, 0.001, 0.0001)]
    assert errors[0] > errors[1] > errors[2]
    assert errors[2] < 1e-3


def test_oscillation_frequency_of_each_model():
    for spec in SYSTEMS.values():
        system = _system(spec)
        eigenvalues = np.linalg.eigvals(system.A)
        expected = np.max(np.angle(eigenvalues)) / spec["dt"]
        assert oscillation_frequency(system) == pytest.approx(expected, rel=1e-12)
    overdamped = harmonic_state_space(10.0, 50.0, 0.001)
    assert np.isnan(oscillation_frequency(overdamped))
    brf = rf_state_space(10.0, -1.0, 0.01)
    assert oscillation_frequency(brf) == pytest.approx(effective_resonance(10.0, -1.0, 0.01), rel=1e-13)


@pytest.mark.parametrize("name", sorted(SYSTEMS))
def test_state_space_transfer_is_real_part(name):
    # H_u(w) is the DTFT of the impulse response h[n] = C A^n B (truncated where it has decayed).
    system = _system(SYSTEMS[name])
    h = impulse_response(system, 200_000)
    assert abs(h[-1]) < 1e-30
    w = np.array([0.0, 3.0, SYSTEMS[name]["omega"], 40.0])
    expected = np.exp(-1j * np.outer(w * system.dt, np.arange(h.size))) @ h
    _, transfer = state_space_transfer(system, w)
    # Absolute tolerance, because the harmonic models have H_u(0) = 0 (u is a velocity).
    np.testing.assert_allclose(transfer, expected, rtol=0, atol=1e-9 * np.max(np.abs(expected)))


def test_state_space_transfer_matches_complex_form():
    # For the Euler RF, H_u(w) = (H(w) + conj(H(-w)))/2.
    omega, b, dt = 10.0, -1.0, 0.01
    w = np.linspace(0.5, 50.0, 11)
    _, h_plus = transfer_function(omega, b, dt, w)
    _, h_minus = transfer_function(omega, b, dt, -w)
    _, h_u = state_space_transfer(rf_state_space(omega, b, dt), w)
    np.testing.assert_allclose(h_u, 0.5 * (h_plus + np.conj(h_minus)), rtol=1e-13)


@pytest.mark.parametrize("name", sorted(SYSTEMS))
def test_impulse_response_matches_simulation(name):
    spec = SYSTEMS[name]
    current = np.zeros(400)
    current[0] = 1.0
    expected = _simulate_u(spec, current)
    result = impulse_response(_system(spec), 400)
    np.testing.assert_allclose(result, expected, rtol=0, atol=1e-12 * np.max(np.abs(expected)))


@pytest.mark.parametrize("name", sorted(SYSTEMS))
def test_periodic_sum_equals_inverse_dft_of_transfer(name):
    """u_m = a*sum_k r_k mu_k^m/(1 - mu_k^N) equals a*IDFT(H_u at the drive harmonics)."""
    system = _system(SYSTEMS[name])
    for period in (3, 17, 250):
        direct = periodic_spike_response(system, period, amplitude=7.0).u
        via_transfer = periodic_response_from_transfer(system, period, amplitude=7.0)
        scale = np.max(np.abs(direct))
        np.testing.assert_allclose(via_transfer, direct, rtol=0, atol=1e-12 * scale)


@pytest.mark.parametrize("name", sorted(SYSTEMS))
def test_periodic_closed_form_matches_simulation(name):
    """From a zero state, the geometric partial sums equal the simulated u at every step."""
    spec = SYSTEMS[name]
    period, n_steps = 61, 3000
    current = np.zeros(n_steps)
    current[::period] = 50.0
    expected = _simulate_u(spec, current)
    closed = periodic_spike_response(_system(spec), period, amplitude=50.0, n_steps=n_steps)
    scale = np.max(np.abs(expected))
    np.testing.assert_allclose(closed.u, expected, rtol=0, atol=1e-12 * scale)
    assert closed.mean_abs_u == pytest.approx(np.mean(np.abs(expected)), rel=1e-11)


def test_steady_state_reached_by_simulation():
    # After many decay times the simulated period equals the steady-state closed form.
    spec = SYSTEMS["brf"]
    system = _system(spec)
    period = 628  # about one oscillation at omega = 10 rad/s, dt = 0.001 s
    n_steps = 40 * period  # 25 s, 26 decay times of |b| = 1.05 1/s
    current = np.zeros(n_steps)
    current[::period] = 100.0
    simulated = _simulate_u(spec, current)[-period:]
    steady = periodic_spike_response(system, period, amplitude=100.0)
    np.testing.assert_allclose(simulated, steady.u, rtol=0, atol=1e-9 * np.max(np.abs(steady.u)))


@pytest.mark.parametrize("name", sorted(SYSTEMS))
def test_spike_train_response_matches_simulation(name):
    spec = SYSTEMS[name]
    rng = np.random.default_rng(3)
    n_steps = 2000
    steps = np.sort(rng.choice(n_steps, size=30, replace=False))
    current = np.zeros(n_steps)
    current[steps] = 20.0
    expected = _simulate_u(spec, current)
    result = spike_train_response(_system(spec), steps, n_steps, amplitude=20.0)
    np.testing.assert_allclose(result, expected, rtol=0, atol=1e-12 * np.max(np.abs(expected)))


def test_spike_train_response_edge_cases():
    system = _system(SYSTEMS["brf"])
    np.testing.assert_array_equal(spike_train_response(system, [], 10), np.zeros(10))
    np.testing.assert_array_equal(spike_train_response(system, [20], 10), np.zeros(10))
    with pytest.raises(RFSimError, match="increasing"):
        spike_train_response(system, [5, 5], 10)


def test_spike_drive_from_neurons_module_matches_closed_form():
    # The in-phase train of rfsim.neurons.drive at a drive frequency off the grid of integer periods.
    spec = SYSTEMS["bhrf"]
    current = spike_train(9.3, 3.0, spec["dt"], amplitude=40.0)
    steps = np.flatnonzero(current)
    expected = _simulate_u(spec, current)
    result = spike_train_response(_system(spec), steps, current.size, amplitude=40.0)
    np.testing.assert_allclose(result, expected, rtol=0, atol=1e-12 * np.max(np.abs(expected)))


@pytest.mark.parametrize("name", sorted(SYSTEMS))
def test_sine_response_matches_simulation(name):
    spec = SYSTEMS[name]
    current = sine(7.5, 4.0, spec["dt"], amplitude=3.0)
    expected = _simulate_u(spec, current)
    result = sine_response(_system(spec), 7.5, current.size, amplitude=3.0)
    np.testing.assert_allclose(result, expected, rtol=0, atol=1e-11 * np.max(np.abs(expected)))


def test_sine_steady_state_amplitude():
    # After the transient, |u| peaks at a*|H_u| and its mean over evenly spread phases is (2/pi)*a*|H_u|.
    system = _system(SYSTEMS["brf"])
    drive = 2 * np.pi / (1000 * system.dt)  # period of exactly 1000 steps
    u = sine_response(system, drive, 40_000, amplitude=2.0)[-1000:]
    peak, mean = sine_steady_state(system, drive, amplitude=2.0)
    assert np.max(np.abs(u)) == pytest.approx(peak, rel=1e-5)  # sampling misses the peak by < 1/1000 period
    assert np.mean(np.abs(u)) == pytest.approx(mean, rel=1e-5)


def test_repeated_eigenvalue_raises():
    # A = [[0.5, 0], [0, 0.5]] has the double eigenvalue 0.5.
    system = StateSpace(A=0.5 * np.eye(2), B=np.array([1.0, 0.0]), C=np.array([1.0, 0.0]), dt=1.0)
    with pytest.raises(RFSimError, match="repeated eigenvalue"):
        impulse_modes(system)


def test_periodic_response_rejects_bad_period():
    system = _system(SYSTEMS["brf"])
    with pytest.raises(RFSimError, match="period_steps"):
        periodic_spike_response(system, 0)
    with pytest.raises(RFSimError, match="period_steps"):
        periodic_response_from_transfer(system, 2.5)


@given(omega=st.floats(min_value=0.5, max_value=90.0), b_offset=st.floats(min_value=0.05, max_value=50.0),
       period=st.integers(min_value=2, max_value=400))
def test_periodic_sum_property(omega, b_offset, period):
    """For every convergent BRF (dt = 0.01 s) and integer period N, the periodic sum of the
    impulse response equals the inverse DFT of H_u sampled at the N drive harmonics
    (to 1e-10 of the largest |u|; both are exact up to rounding).
    """
    system = neuron_state_space("brf", omega, b_offset, 0.01)
    direct = periodic_spike_response(system, period).u
    via_transfer = periodic_response_from_transfer(system, period)
    np.testing.assert_allclose(via_transfer, direct, rtol=0, atol=1e-10 * np.max(np.abs(direct)))
