"""Closed-form solutions of the single-neuron models."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rfsim.neurons import simulate
from rfsim.neurons.alif import ALIF_BETA, ALIF_THETA_0
from rfsim.neurons.hrf import (
    p_h_omega,
    harmonic_spectral_radius,
    harmonic_sustained_damping,
    harmonic_transition_matrix,
)
from rfsim.stability import b_offset_interval, p_omega

EPS = np.finfo(float).eps
NEVER = 1e300  # a threshold no trajectory here reaches, so no spike or reset interferes


def impulse(n_steps, n_neurons=1, amplitude=1.0):
    current = np.zeros((n_steps, n_neurons))
    current[0] = amplitude
    return current


@pytest.mark.filterwarnings("ignore::rfsim.errors.DivergenceWarning")
@pytest.mark.parametrize(
    "omega, b_offset", [(10.0, 1.0), (40.0, 9.0), (99.0, 90.0), (5.0, 0.5), (40.0, 3.0)]
)
def test_rf_impulse_response_is_geometric(omega, b_offset):
    # u after step n (n = 0, 1, ...) is dt * lambda**n with lambda = 1 + dt*(b + i*omega):
    # the impulse puts dt*I on u at step 0, then each free Euler step multiplies by lambda.
    # The last case has |lambda| > 1 (divergent), and the closed form applies all the same.
    dt, n_steps = 0.01, 400
    trace = simulate(
        "rf", impulse(n_steps)[:, 0], omega=omega, b_offset=b_offset, dt=dt, theta=NEVER, allow_divergent=True
    )
    lam = 1.0 + dt * (-b_offset + 1j * omega)
    expected = dt * lam ** np.arange(n_steps)

    relative = np.abs(trace.u - expected) / np.abs(expected)
    # Each step adds a few roundings; the bound grows linearly with n.
    assert np.max(relative / (np.arange(n_steps) + 1)) < 8 * EPS


def test_rf_impulse_response_many_neurons():
    dt, n_steps = 0.01, 300
    omega = np.array([3.0, 17.0, 60.0, 95.0])
    b_offset = np.array([0.2, 2.0, 25.0, 80.0])
    trace = simulate("rf", impulse(n_steps, 4), omega=omega, b_offset=b_offset, dt=dt, theta=NEVER)
    lam = 1.0 + dt * (-b_offset + 1j * omega)
    expected = dt * lam[None, :] ** np.arange(n_steps)[:, None]

    assert trace.u.shape == (n_steps, 4)
    assert np.max(np.abs(trace.u - expected) / np.abs(expected)) < 8 * n_steps * EPS


@pytest.mark.parametrize("omega, b_offset", [(10.0, 1.0), (150.0, 2.0), (30.0, 0.0)])
def test_rf_exact_scheme_impulse_response(omega, b_offset):
    # Exact scheme: u_n = dt * exp(n*dt*(b + i*omega)), so |u_n| = dt*exp(-b_offset*n*dt).
    # omega = 150 rad/s is beyond the Euler limit 1/dt but valid for the exact scheme.
    dt, n_steps = 0.01, 400
    trace = simulate(
        "rf", impulse(n_steps)[:, 0], omega=omega, b_offset=b_offset, dt=dt, theta=NEVER, scheme="exact"
    )
    n = np.arange(n_steps)
    expected = dt * np.exp(n * dt * (-b_offset + 1j * omega))

    assert np.max(np.abs(trace.u - expected) / np.abs(expected)) < 8 * n_steps * EPS
    assert np.max(np.abs(np.abs(trace.u) - dt * np.exp(-b_offset * n * dt)) / np.abs(expected)) < 8 * n_steps * EPS


def test_rf_exact_scheme_without_damping_keeps_magnitude():
    # b = 0 gives |exp(i*omega*dt)| = 1: the free oscillation neither grows nor decays.
    trace = simulate("rf", impulse(2000)[:, 0], omega=20.0, b_offset=0.0, theta=NEVER, scheme="exact")
    assert np.max(np.abs(np.abs(trace.u) / 0.01 - 1.0)) < 1e-12


def test_brf_without_offset_sits_on_boundary():
    # With b_offset = 0 and no spike (q = 0), b = p(omega) and |1 + dt*(p + i*omega)| = 1,
    # so the Euler free response keeps |u| = dt*I up to rounding.
    trace = simulate("brf", impulse(3000)[:, 0], omega=50.0, b_offset=0.0, theta=NEVER)
    assert np.max(np.abs(np.abs(trace.u) / 0.01 - 1.0)) < 1e-12


@pytest.mark.parametrize("omega", [1.0, 10.0, 50.0, 99.0, 150.0, 199.0])
def test_bhrf_paper_order_sustains_oscillation(omega):
    # Paper order (explicit Euler): M = [[1 - 2*b*dt, -omega^2*dt], [dt, 1]], det = 1 - 2*b*dt + (omega*dt)^2.
    # With b = p_h(omega) = dt*omega^2/2, det = 1, and the eigenvalues are a complex pair
    # (omega*dt < 2), so both have modulus 1.
    dt = 0.01
    p_h = p_h_omega(omega, dt, order="paper")
    assert p_h == pytest.approx(dt * omega**2 / 2, rel=EPS)

    eigenvalues = np.linalg.eigvals(harmonic_transition_matrix(omega, p_h, dt, "paper"))
    assert np.max(np.abs(eigenvalues.imag)) > 0
    assert np.max(np.abs(np.abs(eigenvalues) - 1.0)) < 1e-12


@pytest.mark.parametrize("omega", [1.0, 10.0, 50.0, 99.0])
def test_bhrf_implementation_order_is_damped_at_p_h(omega):
    # Implementation order: det = 1 - 2*b*dt, so b = dt*omega^2/2 gives a complex pair with
    # |eigenvalue| = sqrt(1 - (omega*dt)^2) < 1 (for omega*dt < 1), and only b = 0 sustains
    # the oscillation.
    dt = 0.01
    p_h = p_h_omega(omega, dt)
    damped = np.abs(np.linalg.eigvals(harmonic_transition_matrix(omega, p_h, dt, "implementation")))
    sustained = np.abs(np.linalg.eigvals(harmonic_transition_matrix(omega, 0.0, dt, "implementation")))

    assert np.max(np.abs(damped - np.sqrt(1.0 - (omega * dt) ** 2))) < 1e-12
    assert np.max(np.abs(sustained - 1.0)) < 1e-12
    assert harmonic_sustained_damping(omega, dt, "implementation") == 0.0
    assert p_h_omega(omega, dt, order="implementation", boundary="sustained") == 0.0


@pytest.mark.parametrize("order", ["implementation", "paper"])
def test_bhrf_free_response_follows_transition_matrix(order):
    # After an impulse I_0, the state is (u_0, v_0) = (dt*I_0, 0) in both orders, and the
    # free dynamics apply the transition matrix: (u_n, v_n) = M**n (u_0, v_0).
    dt, omega, b_offset, n_steps = 0.01, 30.0, 0.4, 300
    trace = simulate("bhrf", impulse(n_steps)[:, 0], omega=omega, b_offset=b_offset, dt=dt, theta=NEVER, order=order)
    matrix = harmonic_transition_matrix(omega, dt * omega**2 / 2 + b_offset, dt, order)

    state = np.array([dt, 0.0])
    expected = np.empty((n_steps, 2))
    for n in range(n_steps):
        expected[n] = state
        state = matrix @ state
    assert np.max(np.abs(trace.u - expected[:, 0])) < 1e-13
    assert np.max(np.abs(trace.v - expected[:, 1])) < 1e-13


@pytest.mark.parametrize("order", ["implementation", "paper"])
def test_bhrf_sustained_boundary_keeps_amplitude(order):
    # With boundary="sustained" and b_offset = 0 the free step has |eigenvalue| = 1 in either
    # order, so the state neither grows nor decays: its modulus in the eigenbasis stays dt.
    dt, omega, n_steps = 0.01, 40.0, 4000
    trace = simulate(
        "bhrf", impulse(n_steps)[:, 0], omega=omega, b_offset=0.0, dt=dt, theta=NEVER, order=order,
        boundary="sustained",
    )
    matrix = harmonic_transition_matrix(omega, harmonic_sustained_damping(omega, dt, order), dt, order)
    assert np.max(np.abs(harmonic_spectral_radius(omega, harmonic_sustained_damping(omega, dt, order), dt, order)
                         - 1.0)) < 1e-12

    eigenvalues, vectors = np.linalg.eig(matrix)
    coordinates = np.linalg.solve(vectors, np.stack([trace.u, trace.v]))
    modulus = np.abs(coordinates[0])
    assert np.max(np.abs(modulus / modulus[0] - 1.0)) < 1e-10


def test_li_impulse_response_decays_by_alpha():
    # o_n = (1 - alpha)*alpha**n after an impulse at step 0, alpha = exp(-1/|tau|).
    tau = np.array([5.0, 20.0, -20.0])
    trace = simulate("li", impulse(200, 3), tau_mem=tau)
    alpha = np.exp(-1.0 / np.abs(tau))
    expected = (1.0 - alpha)[None, :] * alpha[None, :] ** np.arange(200)[:, None]
    assert np.max(np.abs(trace.u - expected) / expected) < 200 * 4 * EPS
    assert np.all(trace.z == 0.0)


def test_alif_subthreshold_impulse_decays_by_alpha():
    # Without spikes, u_n = (1 - alpha)*alpha**n*I_0 and a stays 0.
    tau_mem = 15.0
    trace = simulate("alif", impulse(150)[:, 0], tau_mem=tau_mem, tau_adp=30.0, theta=NEVER)
    alpha = np.exp(-1.0 / tau_mem)
    expected = (1.0 - alpha) * alpha ** np.arange(150)
    assert np.max(np.abs(trace.u - expected) / expected) < 150 * 4 * EPS
    assert np.all(trace.a == 0.0)
    assert np.all(trace.z == 0.0)


def test_alif_single_spike_adaptation_and_reset():
    # One spike at step 0 (u~_0 = (1 - alpha)*I_0 > theta_0). In the implementation's
    # reset, u_0 = u~_0 - theta_0; afterwards u_n = u_0*alpha**n, a_n = (1 - rho)*rho**(n-1)
    # and theta_n = theta_0 + beta*a_n stays above u_n, so no further spike occurs.
    tau_mem, tau_adp, n_steps = 20.0, 20.0, 120
    alpha, rho = np.exp(-1.0 / tau_mem), np.exp(-1.0 / tau_adp)
    trace = simulate("alif", impulse(n_steps)[:, 0], tau_mem=tau_mem, tau_adp=tau_adp)
    n = np.arange(n_steps)

    assert np.flatnonzero(trace.z).tolist() == [0]
    u_0 = (1.0 - alpha) - ALIF_THETA_0
    assert np.max(np.abs(trace.u - u_0 * alpha**n)) < 1e-15
    expected_a = np.where(n == 0, 0.0, (1.0 - rho) * rho ** np.maximum(n - 1, 0))
    assert np.max(np.abs(trace.a - expected_a)) < 1e-15
    assert np.max(np.abs(trace.threshold - (ALIF_THETA_0 + ALIF_BETA * expected_a))) < 1e-15


def test_alif_next_step_reset_closed_form():
    # Yin et al. reset: no reset at the spiking step (u_0 = (1 - alpha)*I_0), then
    # u_1 = alpha*u_0 - theta_1 with theta_1 = theta_0 + beta*(1 - rho).
    tau_mem, tau_adp = 20.0, 10.0
    alpha, rho = np.exp(-1.0 / tau_mem), np.exp(-1.0 / tau_adp)
    trace = simulate("alif", impulse(50)[:, 0], tau_mem=tau_mem, tau_adp=tau_adp, alif_reset="next_step")
    theta_1 = ALIF_THETA_0 + ALIF_BETA * (1.0 - rho)

    assert trace.z[0] == 1.0
    assert trace.u[0] == pytest.approx(1.0 - alpha, rel=4 * EPS)
    assert trace.u[1] == pytest.approx(alpha * (1.0 - alpha) - theta_1, rel=16 * EPS)
    assert np.flatnonzero(trace.z).tolist() == [0]


@settings(max_examples=60)
@given(omega=st.floats(0.5, 100.0), fraction=st.floats(0.0, 1.0), n_steps=st.integers(1, 300))
def test_rf_impulse_response_property(omega, fraction, n_steps):
    """Theorem: the Euler RF's impulse response is u_n = dt*(1 + dt*(b + i*omega))**n.

    b = -b_offset is drawn from the whole convergence interval [p, p - 2r/dt].
    """
    dt = 0.01
    low = -p_omega(omega, dt)
    b_offset = low + fraction * b_offset_interval(omega, dt)[1]
    trace = simulate("rf", impulse(n_steps)[:, 0], omega=omega, b_offset=b_offset, dt=dt, theta=NEVER)
    lam = 1.0 + dt * (-b_offset + 1j * omega)
    expected = dt * lam ** np.arange(n_steps)
    # Each step rounds terms of size |u|*(1 + |b|*dt + omega*dt) into a result of size
    # |lambda*u|, so its relative error is a few eps times their ratio; n steps add up.
    per_step = (1.0 + b_offset * dt + omega * dt) / np.abs(lam)
    # A fast decay reaches subnormal numbers, which carry fewer significant bits.
    normal = np.abs(expected) > 1e-290
    relative = np.abs(trace.u - expected)[normal] / np.abs(expected)[normal]
    assert np.max(relative) < 8 * n_steps * per_step * EPS
