"""Numba kernels and scalar steps against the plain NumPy references, for every option.

"The paper" is Higuchi et al., "Balanced Resonate-and-Fire Neurons" (ICML 2024).
"""

import itertools

import numpy as np
import pytest

from rfsim.neurons import simulate
from rfsim.neurons.alif import ALIF_BETA, ALIF_RESET_CODES, ALIF_THETA_0, alif_reference, alif_step, li_reference
from rfsim.neurons.brf import brf_block, brf_kernel, brf_reference, brf_step
from rfsim.neurons.hrf import (
    ORDER_CODES,
    SIGN_CODES,
    p_h_omega,
    bhrf_reference,
    bhrf_step,
    hrf_reference,
    hrf_step,
)
from rfsim.neurons.rf import NEURON_BLOCK, RESET_CODES, rf_exact_decay, rf_exact_step, rf_reference, rf_step
from rfsim.stability import p_omega

TOLERANCE = 1e-12  # relative to the largest |value| of the trajectory (and at least absolute)
DT = 0.01
OMEGA = np.array([5.0, 20.0, 45.0, 80.0])
# Inside the Euler RF's convergence interval [-p, -p + 2r/dt] and BRF's [0, 2r/dt] alike.
B_OFFSET = -p_omega(OMEGA, DT) + 0.5


def sparse_input(n_steps, n_neurons, amplitude, seed=3):
    """Return signed input spikes on about 20 % of the steps."""
    rng = np.random.default_rng(seed)
    mask = rng.random((n_steps, n_neurons)) < 0.2
    return np.where(mask, rng.choice([-1.0, 1.0], (n_steps, n_neurons)), 0.0) * amplitude


def assert_close(actual, expected):
    scale = max(1.0, float(np.max(np.abs(expected))))
    assert np.max(np.abs(actual - expected)) <= TOLERANCE * scale


@pytest.mark.parametrize(
    "scheme, reset, spike_on", list(itertools.product(["euler", "exact"], ["none", "soft", "hard"], ["real", "imag"]))
)
def test_rf_kernel_matches_reference(scheme, reset, spike_on):
    current = sparse_input(400, 4, 150.0)
    trace = simulate("rf", current, omega=OMEGA, b_offset=B_OFFSET, dt=DT, reset=reset, spike_on=spike_on, scheme=scheme)
    u, z = rf_reference(current, OMEGA, -B_OFFSET, DT, 1.0, reset, spike_on, scheme)

    assert z.sum() > 10
    assert_close(trace.u, u)
    np.testing.assert_array_equal(trace.z, z)
    np.testing.assert_array_equal(trace.b, np.broadcast_to(-B_OFFSET, z.shape))


@pytest.mark.parametrize("switches", list(itertools.product([True, False], repeat=3)))
def test_brf_kernel_matches_reference(switches):
    use_boundary, use_refractory, use_smooth_reset = switches
    current = sparse_input(400, 4, 150.0)
    options = dict(use_boundary=use_boundary, use_refractory=use_refractory, use_smooth_reset=use_smooth_reset)
    trace = simulate("brf", current, omega=OMEGA, b_offset=B_OFFSET, dt=DT, gamma=0.9, **options)
    u, q, z, b = brf_reference(current, OMEGA, B_OFFSET, DT, 1.0, 0.9, **options)

    assert z.sum() > 10
    assert_close(trace.u, u)
    assert_close(trace.q, q)
    assert_close(trace.b, b)
    np.testing.assert_array_equal(trace.z, z)


@pytest.mark.parametrize("order", ["implementation", "paper"])
def test_hrf_kernel_matches_reference(order):
    current = sparse_input(400, 4, 300.0)
    # Above dt*omega^2/2, where the paper's order starts to diverge.
    damping = DT * OMEGA**2 / 2 + np.array([0.5, 1.0, 4.0, 20.0])
    trace = simulate("hrf", current, omega=OMEGA, b_offset=damping, dt=DT, order=order)
    u, v, z = hrf_reference(current, OMEGA, damping, DT, 1.0, order)

    assert z.sum() > 10
    assert_close(trace.u, u)
    assert_close(trace.v, v)
    np.testing.assert_array_equal(trace.z, z)


@pytest.mark.filterwarnings("ignore::rfsim.errors.DivergenceWarning")
@pytest.mark.parametrize(
    "order, damping_sign, boundary",
    list(itertools.product(["implementation", "paper"], ["implementation", "paper"], ["implementation", "sustained"])),
)
def test_bhrf_kernel_matches_reference(order, damping_sign, boundary):
    # The paper's damping sign makes the neuron diverge, so those runs are short.
    n_steps = 400 if damping_sign == "implementation" else 150
    current = sparse_input(n_steps, 4, 300.0)
    damping = np.array([0.1, 0.5, 1.0, 3.0])
    options = dict(order=order, damping_sign=damping_sign, boundary=boundary)
    trace = simulate("bhrf", current, omega=OMEGA, b_offset=damping, dt=DT, allow_divergent=True, **options)
    u, v, q, z, b = bhrf_reference(current, OMEGA, damping, DT, 1.0, 0.9, **options)

    assert z.sum() > 10
    assert_close(trace.u, u)
    assert_close(trace.v, v)
    assert_close(trace.q, q)
    assert_close(trace.b, b)
    np.testing.assert_array_equal(trace.z, z)


@pytest.mark.parametrize("alif_reset", ["implementation", "next_step"])
def test_alif_kernel_matches_reference(alif_reset):
    current = sparse_input(400, 4, 2.0)
    tau_mem = np.array([5.0, 20.0, -20.0, 40.0])
    tau_adp = np.array([7.0, 20.0, 30.0, -3.0])
    trace = simulate("alif", current, tau_mem=tau_mem, tau_adp=tau_adp, alif_reset=alif_reset)
    u, a, z, theta = alif_reference(current, tau_mem, tau_adp, reset=alif_reset)

    assert z.sum() > 10
    assert_close(trace.u, u)
    assert_close(trace.a, a)
    assert_close(trace.threshold, theta)
    np.testing.assert_array_equal(trace.z, z)


def test_li_kernel_matches_reference():
    current = sparse_input(400, 3, 1.0)
    tau = np.array([2.0, 20.0, -7.0])
    trace = simulate("li", current, tau_mem=tau)
    assert_close(trace.u, li_reference(current, tau))


def test_scalar_steps_drive_the_kernels():
    # The kernels call these scalar steps, so a Python loop over them reproduces
    # the kernel bit for bit, one model at a time.
    current = sparse_input(200, 1, 150.0)[:, 0]
    omega, b_offset = 20.0, 3.0
    p = p_omega(omega, DT)
    p_h = p_h_omega(omega, DT)
    alpha, rho = np.exp(-1.0 / 20.0), np.exp(-1.0 / 10.0)
    decay_re, decay_im = rf_exact_decay(omega, -b_offset, DT)
    states = {name: np.zeros(4) for name in ("rf", "exact", "brf", "hrf", "bhrf", "alif")}
    recorded = {name: [] for name in states}

    for value in current:
        s = states["rf"]
        s[0], s[1], s[2] = rf_step(s[0], s[1], value, omega, -b_offset, DT, 1.0, RESET_CODES["soft"], False)
        s = states["exact"]
        s[0], s[1], s[2] = rf_exact_step(s[0], s[1], value, decay_re, decay_im, DT, 1.0, RESET_CODES["hard"], True)
        s = states["brf"]
        s[0], s[1], s[2], s[3] = brf_step(s[0], s[1], s[2], value, omega, p, b_offset, DT, 1.0, 0.9, True, True, True)
        s = states["hrf"]
        s[0], s[1], s[2] = hrf_step(s[0], s[1], value, omega, b_offset, DT, 1.0, ORDER_CODES["paper"])
        s = states["bhrf"]
        s[0], s[1], s[2], s[3] = bhrf_step(
            s[0], s[1], s[2], value, omega, p_h, b_offset, DT, 1.0, 0.9,
            ORDER_CODES["implementation"], SIGN_CODES["implementation"],
        )
        s = states["alif"]
        s[0], s[1], s[2] = alif_step(
            s[0], s[1], s[2], value / 50.0, alpha, rho, ALIF_THETA_0, ALIF_BETA, ALIF_RESET_CODES["implementation"]
        )
        for name in states:
            recorded[name].append(states[name].copy())
    recorded = {name: np.array(rows) for name, rows in recorded.items()}

    rf = simulate("rf", current, omega=omega, b_offset=b_offset, reset="soft")
    exact = simulate("rf", current, omega=omega, b_offset=b_offset, reset="hard", spike_on="imag", scheme="exact")
    brf = simulate("brf", current, omega=omega, b_offset=b_offset)
    hrf = simulate("hrf", current, omega=omega, b_offset=b_offset, order="paper")
    bhrf = simulate("bhrf", current, omega=omega, b_offset=b_offset)
    alif = simulate("alif", current / 50.0, tau_mem=20.0, tau_adp=10.0)

    np.testing.assert_array_equal(recorded["rf"][:, :3], np.column_stack([rf.u.real, rf.u.imag, rf.z]))
    np.testing.assert_array_equal(recorded["exact"][:, :3], np.column_stack([exact.u.real, exact.u.imag, exact.z]))
    np.testing.assert_array_equal(recorded["brf"], np.column_stack([brf.u.real, brf.u.imag, brf.q, brf.z]))
    np.testing.assert_array_equal(recorded["hrf"][:, :3], np.column_stack([hrf.u, hrf.v, hrf.z]))
    np.testing.assert_array_equal(recorded["bhrf"], np.column_stack([bhrf.u, bhrf.v, bhrf.q, bhrf.z]))
    np.testing.assert_array_equal(recorded["alif"][:, :3], np.column_stack([alif.u, alif.a, alif.z]))
    assert all(recorded[name][:, 2 if name in ("rf", "exact", "hrf", "alif") else 3].sum() > 0 for name in recorded)


@pytest.mark.parametrize("model", ["rf", "brf", "hrf", "bhrf", "alif", "li"])
def test_parallel_kernel_equals_block_function(model):
    # More neurons than one block, so simulate() runs the parallel kernel over several
    # blocks, the last one partial; each neuron rerun alone goes through the one-thread
    # block function. Both call the same scalar step, so the results are bit-identical.
    n_neurons = 3 * NEURON_BLOCK + 5
    rng = np.random.default_rng(11)
    current = sparse_input(150, n_neurons, 150.0 if model != "alif" else 2.0)
    omega = rng.uniform(5.0, 60.0, n_neurons)
    kwargs = dict(omega=omega, b_offset=-p_omega(omega, DT) + 0.5 + DT * omega**2)
    if model in ("alif", "li"):
        kwargs = dict(tau_mem=rng.uniform(5.0, 30.0, n_neurons))
    many = simulate(model, current, **kwargs)

    for k in range(n_neurons):
        single_kwargs = {name: value[k] for name, value in kwargs.items()}
        single = simulate(model, current[:, k], **single_kwargs)
        np.testing.assert_array_equal(many.u[:, k], single.u)
        np.testing.assert_array_equal(many.z[:, k], single.z)
    assert model == "li" or many.z.sum() > 0


@pytest.mark.parametrize("block_size", [1, 7, 64, 100, 500])
def test_brf_kernel_any_block_size(block_size):
    # Every neuron is simulated exactly once whatever the block size, including a last
    # partial block and a single block larger than N.
    n_neurons = 130
    current = sparse_input(100, n_neurons, 150.0)
    omega = np.linspace(5.0, 60.0, n_neurons)
    b_offset = -p_omega(omega, DT) + 0.5
    p = p_omega(omega, DT)
    expected = [np.zeros((100, n_neurons)) for _ in range(5)]
    brf_block(current, omega, p, b_offset, DT, 1.0, 0.9, True, True, True, *expected, 0, n_neurons)
    actual = [np.full((100, n_neurons), np.nan) for _ in range(5)]
    brf_kernel(current, omega, p, b_offset, DT, 1.0, 0.9, True, True, True, *actual, block_size)
    for got, want in zip(actual, expected):
        np.testing.assert_array_equal(got, want)
