"""Tests of rfsim.analysis.spectral: per-neuron closed forms, whole-network Jacobians and reports."""

import dataclasses

import autograd
import autograd.numpy as anp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.special import ndtr

from rfsim.analysis import spectral
from rfsim.analysis._checkpoints import load_analysis_checkpoint, select_sequences
from rfsim.analysis.boundary import bhrf_boundary, rf_boundary
from rfsim.analysis.spectral import (
    STATE_NAMES,
    check_output_path,
    format_comparison,
    format_neuron_summary,
    hidden_neuron_spectra,
    network_jacobians,
    network_spectra,
    neuron_spectra,
    readout_spectra,
    refractory_values,
    save_spectral_reports,
    spectral_report,
    summarize_spectra,
)
from rfsim.errors import RFSimError
from rfsim.network import RSNNConfig, init_params
from rfsim.network import reference as ref
from rfsim.neurons.hrf import harmonic_transition_matrix
from rfsim.stability import b_offset_interval

EPS = np.finfo(float).eps


# --- per-neuron closed forms ----------------------------------------------------------------


def test_rf_family_eigenvalues_closed_form():
    # Euler multiplies u by lambda = 1 + dt (b + i omega); the real 2x2 form has lambda and conj(lambda).
    dt = 0.01
    omega = np.array([0.5, 3.0, 40.0, 99.0])
    b_offset = np.array([0.0, 0.7, 5.0, 150.0])
    q = np.array([0.0, 1.0, 0.3])
    for model in ("rf", "brf"):
        result = neuron_spectra(model, omega=omega, b_offset=b_offset, dt=dt, q=q)
        p = (-1.0 + np.sqrt(1.0 - (dt * omega) ** 2)) / dt
        for row, q_value in enumerate(q):
            damping = -b_offset if model == "rf" else p - b_offset - q_value
            expected = 1.0 + dt * (damping + 1j * omega)
            eigenvalues = result.eigenvalues[row]
            upper = eigenvalues[np.arange(omega.size), np.argmax(eigenvalues.imag, axis=1)]
            assert np.allclose(upper, expected, rtol=8 * EPS, atol=0), model
            assert np.allclose(result.spectral_radius[row], np.abs(expected), rtol=8 * EPS, atol=0), model
            assert np.allclose(result.damping[row], damping, rtol=8 * EPS, atol=1e-13), model


def test_harmonic_eigenvalues_characteristic_polynomial():
    # Roots of mu^2 - T mu + D with x = b dt, w = omega dt: implementation T = 2 - 2x - w^2,
    # D = 1 - 2x; paper T = 2 - 2x, D = 1 - 2x + w^2.
    dt = 0.01
    omega = np.array([1.0, 20.0, 150.0, 199.0])
    b_offset = np.array([0.0, 0.4, 3.0, 60.0])
    for order in ("implementation", "paper"):
        result = neuron_spectra("bhrf", omega=omega, b_offset=b_offset, dt=dt, q=[0.0, 1.0], order=order)
        for row, q_value in enumerate((0.0, 1.0)):
            damping = 0.5 * dt * omega**2 + b_offset + q_value
            x, w = damping * dt, omega * dt
            trace = 2.0 - 2.0 * x - (w**2 if order == "implementation" else 0.0)
            det = 1.0 - 2.0 * x + (0.0 if order == "implementation" else w**2)
            for i in range(omega.size):
                roots = np.sort_complex(np.roots([1.0, -trace[i], det[i]]))
                assert np.allclose(np.sort_complex(result.eigenvalues[row, i]), roots, rtol=1e-12, atol=1e-12)
                matrix = harmonic_transition_matrix(omega[i], damping[i], dt, order)
                assert np.allclose(result.jacobians[row, i], matrix, rtol=0, atol=1e-15)


@pytest.mark.parametrize("model", ["rf", "brf", "hrf", "bhrf"])
def test_jacobian_matches_state_space(model):
    # At q = 0 the per-neuron Jacobian is the transition matrix A of the single-neuron analysis.
    from rfsim.analysis.transfer import neuron_state_space

    omega = np.array([2.0, 35.0, 90.0])
    b_offset = np.array([0.1, 1.5, 20.0])
    result = neuron_spectra(model, omega=omega, b_offset=b_offset, dt=0.01)
    for i in range(omega.size):
        system = neuron_state_space(model, omega[i], b_offset[i], 0.01)
        assert np.allclose(result.jacobians[0, i], system.A, rtol=1e-14, atol=1e-15), (model, i)


def test_harmonic_paper_damping_sign():
    # damping_sign='paper' subtracts b_offset and q from p_h = dt omega^2 / 2.
    result = neuron_spectra("bhrf", omega=[30.0], b_offset=[0.2], dt=0.01, q=[0.5], damping_sign="paper")
    assert result.damping[0, 0] == pytest.approx(0.5 * 0.01 * 900.0 - 0.7, rel=1e-15)


def test_alif_and_li_alpha():
    tau = np.array([1.0, 5.0, 20.0, 300.0])
    for model in ("alif", "li"):
        result = neuron_spectra(model, tau_mem=tau, q=[0.0, 1.0])
        assert result.jacobians.shape == (2, 4, 1, 1)
        assert np.array_equal(result.spectral_radius[0], np.exp(-1.0 / tau))
        assert np.array_equal(result.spectral_radius[1], result.spectral_radius[0])
        assert not result.outside_region.any()
        assert result.offset_high is None


def test_refractory_values_powers_of_gamma():
    assert np.array_equal(refractory_values(0.9, [0, 1, 3]), [1.0, 0.9, 0.9**3])
    with pytest.raises(RFSimError, match="non-negative integers"):
        refractory_values(0.9, [-1])
    with pytest.raises(RFSimError, match="gamma"):
        refractory_values(1.0, [0])


def test_brf_interval_matches_stability():
    omega = np.array([0.0, 1.0, 50.0, 99.9, 100.0])
    result = neuron_spectra("brf", omega=omega, b_offset=np.ones(5), dt=0.01)
    low, high = b_offset_interval(np.where(omega == 0, 1e-300, omega), 0.01)
    assert np.array_equal(result.offset_low, low)
    assert np.array_equal(result.offset_high, high)
    assert result.offset_high[0] == pytest.approx(200.0, rel=1e-15)


def test_offset_interval_with_boundary_dt():
    # With dt_p != dt, b = p_{dt_p}(omega) - c must lie in the Euler region of dt.
    dt, dt_p, omega = 0.005, 0.01, np.array([10.0, 80.0])
    result = neuron_spectra("brf", omega=omega, b_offset=[0.0, 0.0], dt=dt, boundary_dt=dt_p)
    region = rf_boundary(omega, dt)
    p = (-1.0 + np.sqrt(1.0 - (dt_p * omega) ** 2)) / dt_p
    assert np.allclose(result.offset_low, p - region.b_upper, rtol=1e-12, atol=1e-12)
    assert np.allclose(result.offset_high, p - region.b_lower, rtol=1e-12, atol=1e-12)


def test_omega_beyond_limit_is_flagged():
    # omega dt > 1 leaves no convergent b for the RF family, and p(omega) has no real value.
    result = neuron_spectra("brf", omega=[150.0], b_offset=[1.0], dt=0.01)
    assert np.isnan(result.offset_high[0])
    assert result.outside_region[0, 0]
    assert np.isnan(result.spectral_radius[0, 0])


def test_neuron_spectra_rejects_bad_input():
    with pytest.raises(RFSimError, match="model must be one of"):
        neuron_spectra("lif", omega=[1.0], b_offset=[1.0])
    with pytest.raises(RFSimError, match="omega must be >= 0"):
        neuron_spectra("brf", omega=[-1.0], b_offset=[1.0])
    with pytest.raises(RFSimError, match="b_offset has 2 values"):
        neuron_spectra("brf", omega=[1.0], b_offset=[1.0, 2.0])
    with pytest.raises(RFSimError, match="dt must be"):
        neuron_spectra("brf", omega=[1.0], b_offset=[1.0], dt=0.0)
    with pytest.raises(RFSimError, match="tau_mem must be positive"):
        neuron_spectra("alif", tau_mem=[0.0])
    with pytest.raises(RFSimError, match="b_offset must be finite"):
        neuron_spectra("rf", omega=[1.0], b_offset=[np.nan])
    with pytest.raises(RFSimError, match="omega is required"):
        neuron_spectra("bhrf", b_offset=[1.0])


# --- property: the BRF convergence theorem ----------------------------------------------------


@st.composite
def brf_point(draw, inside):
    """Draw (dt, omega, b_offset, q) with c = b_offset + q at a fraction s of the interval [0, 2r/dt]."""
    dt = draw(st.floats(1e-4, 0.1))
    w = draw(st.floats(1e-3, 0.999))
    if inside:
        s = draw(st.floats(0.0, 1.0))
    else:
        s = draw(st.one_of(st.floats(-1.0, -1e-6), st.floats(1.0 + 1e-6, 2.0)))
    share = draw(st.floats(0.0, 1.0))
    omega = w / dt
    r = np.sqrt(1.0 - (dt * omega) ** 2)
    c = s * 2.0 * r / dt
    q = share * c if c > 0 else 0.0
    return dt, omega, c - q, q


@given(brf_point(inside=True))
def test_brf_radius_at_most_one_inside(point):
    """Theorem: with c = b_offset + q in [0, 2 sqrt(1 - (dt omega)^2)/dt], |1 + dt (b + i omega)| <= 1.

    |lambda|^2 = (r - dt c)^2 + (dt omega)^2 = 1 + dt c (dt c - 2 r) <= 1 for 0 <= dt c <= 2 r.
    Rounding in p(omega) and the 2x2 eigenvalues costs at most a few ulps of 1: 3 were observed
    at the interval ends, so 4 ulps are allowed.
    """
    dt, omega, b_offset, q = point
    result = neuron_spectra("brf", omega=[omega], b_offset=[b_offset], dt=dt, q=[q])
    assert result.spectral_radius[0, 0] <= 1.0 + 4 * EPS


@given(brf_point(inside=False))
def test_brf_radius_above_one_outside(point):
    """Theorem: outside the interval, |lambda|^2 - 1 = dt c (dt c - 2 r) > 0.

    At the smallest drawn distance (s = 1e-6 of the interval width) and r >= 0.0447,
    |lambda| - 1 is about 2 r^2 |s| >= 4e-9, far above rounding.
    """
    dt, omega, b_offset, q = point
    result = neuron_spectra("brf", omega=[omega], b_offset=[b_offset], dt=dt, q=[q])
    assert result.spectral_radius[0, 0] > 1.0
    assert result.outside_region[0, 0]


@given(st.floats(1e-3, 1.999), st.floats(-50.0, 300.0), st.floats(0.0, 2.0))
def test_bhrf_flag_matches_radius(w, b_offset, q):
    """Theorem: the harmonic step converges exactly inside the region of ``bhrf_boundary``.

    Away from the region's ends (1e-6 relative), the flag and rho > 1 agree.
    """
    dt = 0.01
    omega = w / dt
    result = neuron_spectra("bhrf", omega=[omega], b_offset=[b_offset], dt=dt, q=[q])
    region = bhrf_boundary(omega, dt)
    damping = result.damping[0, 0]
    width = region.b_upper[0] - region.b_lower[0]
    distance = min(abs(damping - region.b_lower[0]), abs(damping - region.b_upper[0]))
    if distance < 1e-6 * max(width, 1.0):
        return
    assert result.outside_region[0, 0] == (not region.contains(damping)[0])
    assert (result.spectral_radius[0, 0] > 1.0) == result.outside_region[0, 0]


# --- whole-network Jacobians ------------------------------------------------------------------


def _network(model, rf_reset="none", n_in=3, n_hidden=5, n_out=2, surrogate="reference", seed=0,
             zero_recurrent=False, hidden_bias=False, **switches):
    """Return a small random network and a 40-step input under which every model spikes."""
    config = RSNNConfig(model=model, n_in=n_in, n_hidden=n_hidden, n_out=n_out, rf_reset=rf_reset,
                        surrogate=surrogate, hidden_bias=hidden_bias, dtype="float64", **switches)
    rng = np.random.default_rng(seed)
    params = init_params(config, rng, omega_range=(5.0, 30.0))
    # u grows by I dt per step, so RF-type neurons need a drive of order 1/dt to reach the threshold.
    gain = 4.0 if model == "alif" else 150.0
    params["hidden.linear.weight"] = params["hidden.linear.weight"] * gain
    if zero_recurrent:
        params["hidden.linear.weight"][:, n_in:] = 0.0
    if hidden_bias:
        params["hidden.linear.bias"] = rng.normal(0.0, 0.5, n_hidden)
    x = (rng.random((40, n_in)) < 0.3).astype(float)
    return config, params, x


NETWORKS = [("brf", "none"), ("bhrf", "none"), ("rf", "none"), ("rf", "soft"), ("rf", "hard"), ("alif", "none")]


@pytest.mark.parametrize("model,reset", NETWORKS)
def test_replay_matches_engine(model, reset):
    # Recomputing each step in the engine's evaluation order reproduces the record bit for bit.
    config, params, x = _network(model, reset, hidden_bias=True)
    jacobians = network_jacobians(config, params, x)
    assert jacobians.replay_error == 0.0
    assert jacobians.spikes.sum() > 0


def _reference_step(config, params, x_t, mask=None):
    """Return S_{t-1} -> S_t built from the autograd reference's neuron steps."""
    names = STATE_NAMES[config.model]
    n_hidden = config.n_hidden
    weight = params["hidden.linear.weight"] if mask is None else params["hidden.linear.weight"] * mask
    bias = params.get("hidden.linear.bias", 0.0)
    neuron = ref._neuron_constants(config, params)
    spike = ref.SPIKE_FUNCTIONS[config.surrogate]

    def step(flat):
        blocks = {name: anp.reshape(flat[k * n_hidden:(k + 1) * n_hidden], (1, n_hidden))
                  for k, name in enumerate(names)}
        drive = anp.dot(anp.concatenate([x_t[None, :], blocks["z"]], axis=1), weight.T) + bias
        state = {name: blocks[name] for name in ref.STATE_NAMES[config.model]}
        if config.model == "brf":
            z, new = ref._brf_step(drive, state, neuron, spike, config.dt)
        elif config.model == "bhrf":
            z, new = ref._bhrf_step(drive, state, neuron, spike, config.dt)
        elif config.model == "rf":
            z, new = ref._rf_step(drive, state, neuron, spike, config.dt, config.rf_reset)
        else:
            z, new = ref._alif_step(drive, state, neuron, spike, blocks["z"])
        new["z"] = z
        return anp.concatenate([new[name][0] for name in names])

    return step


def _recorded_state(jacobians, config, params, x, t):
    """Return the flattened recorded state S_t (zeros for t = -1)."""
    from rfsim.network import forward

    if t < 0:
        return np.zeros(jacobians.size)
    states = forward(config, params, x[:, None, :], record=True).states
    return np.concatenate([states[name][t, 0] for name in jacobians.state_names])


@pytest.mark.parametrize("model,reset", NETWORKS)
def test_jacobian_matches_autograd_reference(model, reset):
    # The reference's spike primitive has the surrogate as its derivative, so autograd of its
    # one-step map is the same Jacobian that back-propagation uses.
    config, params, x = _network(model, reset, hidden_bias=True)
    jacobians = network_jacobians(config, params, x)
    active = np.flatnonzero(jacobians.spikes.sum(axis=1) > 0)
    steps = sorted({0, 1, int(active[0]), int(active[0]) + 1, int(active[-1]), x.shape[0] - 1})
    for t in steps:
        prev = _recorded_state(jacobians, config, params, x, t - 1)
        expected = autograd.jacobian(_reference_step(config, params, x[t]))(prev)
        scale = np.max(np.abs(expected))
        assert np.allclose(jacobians.dense(t), expected, rtol=1e-11, atol=1e-12 * scale), (model, reset, t)


BRF_ABLATIONS = [{"brf_boundary": False}, {"brf_refractory": False}, {"brf_smooth_reset": False},
                 {"brf_boundary": False, "brf_refractory": False, "brf_smooth_reset": False}]


@pytest.mark.parametrize("switches", BRF_ABLATIONS)
def test_ablated_brf_replay_and_autograd(switches):
    # The reference implements each switch on its own, so autograd checks the ablated Jacobian.
    config, params, x = _network("brf", hidden_bias=True, **switches)
    jacobians = network_jacobians(config, params, x)
    assert jacobians.replay_error == 0.0
    assert jacobians.spikes.sum() > 0

    active = np.flatnonzero(jacobians.spikes.sum(axis=1) > 0)
    for t in sorted({1, int(active[0]) + 1, int(active[-1])}):
        prev = _recorded_state(jacobians, config, params, x, t - 1)
        expected = autograd.jacobian(_reference_step(config, params, x[t]))(prev)
        scale = np.max(np.abs(expected))
        assert np.allclose(jacobians.dense(t), expected, rtol=1e-11, atol=1e-12 * scale), (switches, t)


def test_ablated_brf_neuron_spectra():
    omega, b_offset, q = np.array([10.0, 40.0, 90.0]), np.array([0.5, 2.0, 5.0]), (0.0, 1.0, 0.3)

    # Without the boundary: an RF neuron whose offset is b' + q.
    no_boundary = neuron_spectra("brf", omega=omega, b_offset=b_offset, q=q, brf_boundary=False)
    for k, value in enumerate(q):
        rf = neuron_spectra("rf", omega=omega, b_offset=b_offset + value)
        assert np.array_equal(no_boundary.jacobians[k], rf.jacobians[0])
        assert np.array_equal(no_boundary.outside_region[k], rf.outside_region[0])

    # Without the smooth reset: q leaves the damping, so every q gives the rest Jacobian.
    no_reset = neuron_spectra("brf", omega=omega, b_offset=b_offset, q=q, brf_smooth_reset=False)
    full = neuron_spectra("brf", omega=omega, b_offset=b_offset, q=(0.0,))
    for k in range(len(q)):
        assert np.array_equal(no_reset.jacobians[k], full.jacobians[0])
        assert np.array_equal(no_reset.spectral_radius[k], full.spectral_radius[0])


def test_jacobian_with_mask_matches_reference():
    config, params, x = _network("brf")
    mask = (np.random.default_rng(3).random((5, 5)) < 0.5).astype(float)
    jacobians = network_jacobians(config, params, x, mask=mask)
    assert np.array_equal(jacobians.w_rec, params["hidden.linear.weight"][:, 3:] * mask)
    full = np.concatenate([np.ones((5, 3)), mask], axis=1)
    t = int(np.flatnonzero(jacobians.spikes.sum(axis=1))[0]) + 1
    prev = np.concatenate([np.asarray(v) for v in _masked_record(config, params, x, mask, t - 1)])
    expected = autograd.jacobian(_reference_step(config, params, x[t], mask=full))(prev)
    assert np.allclose(jacobians.dense(t), expected, rtol=1e-11, atol=1e-12 * np.max(np.abs(expected)))


def _masked_record(config, params, x, mask, t):
    from rfsim.network import forward

    states = forward(config, params, x[:, None, :], mask=mask, record=True).states
    return [states[name][t, 0] for name in STATE_NAMES[config.model]]


def _smooth_spike(s):
    """Antiderivative of the 'reference' surrogate: 0.5 [1.15 Phi(s / 0.5) - 0.30 Phi(s / 3)]."""
    return 0.5 * (1.15 * ndtr(s / 0.5) - 0.30 * ndtr(s / 3.0))


@pytest.mark.parametrize("model,reset", NETWORKS)
def test_jacobian_matches_finite_differences(model, reset):
    # With H replaced by the smooth function whose derivative is the surrogate, the step map is
    # differentiable and its central differences must equal the analytic blocks.
    config, params, x = _network(model, reset)
    names = STATE_NAMES[model]
    n_hidden = config.n_hidden
    raw = {key: np.asarray(value, dtype=float) for key, value in params.items()}
    cell = spectral._cell_constants(config, raw)
    weight = raw["hidden.linear.weight"]

    def smooth_step(flat, x_t):
        prev = {name: flat[k * n_hidden:(k + 1) * n_hidden] for k, name in enumerate(names)}
        drive = weight[:, :3] @ x_t + weight[:, 3:] @ prev["z"]
        _, s, _, _, _ = spectral._step_blocks(config, cell, prev, np.zeros(n_hidden), drive, config.surrogate)
        z = _smooth_spike(s)
        new, _, g, diagonal, recurrent = spectral._step_blocks(config, cell, prev, z, drive, config.surrogate)
        new["z"] = z
        return np.concatenate([new[name] for name in names]), diagonal, recurrent

    rng = np.random.default_rng(7)
    jacobians = network_jacobians(config, params, x)
    for t in (3, 12, 25):
        # A state near the record, with spikes between 0 and 1 so every reset term is exercised.
        prev = _recorded_state(jacobians, config, params, x, t - 1) + rng.normal(0.0, 0.3, jacobians.size)
        prev[names.index("z") * n_hidden:] = rng.random(n_hidden)
        _, diagonal, recurrent = smooth_step(prev, x[t])
        structured = dataclasses.replace(jacobians, diagonal=diagonal[None], recurrent=recurrent[None])
        analytic = structured.dense(0)

        step = 1e-6
        numeric = np.empty_like(analytic)
        for k in range(prev.size):
            delta = np.zeros(prev.size)
            delta[k] = step
            numeric[:, k] = (smooth_step(prev + delta, x[t])[0] - smooth_step(prev - delta, x[t])[0]) / (2 * step)
        # Central differences err by O(step^2 f''') + O(eps / step) ~ 1e-9 on O(1)-O(10) entries.
        assert np.allclose(analytic, numeric, rtol=1e-6, atol=1e-7), (model, reset, t)


@pytest.mark.parametrize("model", ["brf", "alif"])
def test_structured_products_match_dense(model):
    config, params, x = _network(model)
    jacobians = network_jacobians(config, params, x)
    rng = np.random.default_rng(1)
    vectors = rng.normal(size=(jacobians.size, 3))
    for t in (0, 10, 39):
        dense = jacobians.dense(t)
        assert np.allclose(jacobians.apply(t, vectors), dense @ vectors, rtol=1e-13, atol=1e-13)
        assert np.allclose(jacobians.apply_transpose(t, vectors), dense.T @ vectors, rtol=1e-13, atol=1e-13)
        assert np.allclose(jacobians.apply_transpose(t, vectors[:, 0]), dense.T @ vectors[:, 0], rtol=1e-13,
                           atol=1e-13)
    with pytest.raises(RFSimError, match="vectors must have shape"):
        jacobians.apply(0, np.ones(jacobians.size + 1))


def _neuron_major(dense, n_vars, n_hidden):
    """Reorder a var-major Jacobian to neuron-major blocks (n_hidden, n_vars, n_hidden, n_vars)."""
    return dense.reshape(n_vars, n_hidden, n_vars, n_hidden).transpose(1, 0, 3, 2)


@pytest.mark.parametrize("model", ["brf", "bhrf", "rf", "alif"])
def test_zero_recurrence_gives_neuron_blocks(model):
    # Without recurrent weights no neuron's state reaches another's: J_t is block-diagonal per
    # neuron. Where no neuron is near threshold (triangle surrogate: g = 0 for |s| >= 1) the
    # eigenvalues are the per-neuron ones plus gamma (q), rho (ALIF a) and 0 (z).
    config, params, _ = _network(model, surrogate="triangle", zero_recurrent=True, n_hidden=4)
    # A strong drive keeps most neurons far from threshold at many steps (10x for RF types, 100x for ALIF).
    params["hidden.linear.weight"] = params["hidden.linear.weight"] * (100.0 if model == "alif" else 10.0)
    x = np.zeros((60, 3))
    x[::20 if model == "alif" else 7] = 1.0
    jacobians = network_jacobians(config, params, x)
    n_vars, n_hidden = len(STATE_NAMES[model]), config.n_hidden
    from rfsim.network import forward

    states = forward(config, params, x[:, None, :], record=True).states
    quiet_steps = [t for t in range(x.shape[0]) if np.all(jacobians.surrogate[t] == 0.0)]
    assert len(quiet_steps) >= 10
    assert any(np.any(jacobians.surrogate[t] != 0.0) for t in range(x.shape[0]))

    spectra_q0 = hidden_neuron_spectra(config, params, q=[0.0])
    for t in range(x.shape[0]):
        blocks = _neuron_major(jacobians.dense(t), n_vars, n_hidden)
        off_diagonal = blocks.copy()
        off_diagonal[np.arange(n_hidden), :, np.arange(n_hidden), :] = 0.0
        assert np.all(off_diagonal == 0.0), t

        # The (u, v) block is the per-neuron Jacobian at q_{t-1}, near threshold or not.
        if model in ("brf", "bhrf"):
            q_prev = states["q"][t - 1, 0] if t > 0 else np.zeros(n_hidden)
            for i in range(n_hidden):
                single = neuron_spectra(model, omega=spectra_q0.omega[i:i + 1], b_offset=spectra_q0.b_offset[i:i + 1],
                                        q=[q_prev[i]])
                assert np.allclose(blocks[i, :2, i, :2], single.jacobians[0, 0], rtol=1e-14, atol=1e-15)

    for t in quiet_steps:
        blocks = _neuron_major(jacobians.dense(t), n_vars, n_hidden)
        for i in range(n_hidden):
            actual = np.sort_complex(np.linalg.eigvals(blocks[i, :, i, :]))
            if model == "alif":
                rho = np.exp(-1.0 / abs(params["hidden.tau_adp"][i]))
                expected = [spectra_q0.spectral_radius[0, i], rho, 0.0]
            else:
                q_prev = states["q"][t - 1, 0, i] if (model != "rf" and t > 0) else 0.0
                single = neuron_spectra(model, omega=spectra_q0.omega[i:i + 1],
                                        b_offset=spectra_q0.b_offset[i:i + 1], q=[q_prev])
                expected = list(single.eigenvalues[0, 0]) + [0.0] + ([config.gamma] if model != "rf" else [])
            assert np.allclose(actual, np.sort_complex(np.asarray(expected, dtype=complex)), rtol=1e-12,
                               atol=1e-12), (model, t, i)


def test_gradient_norms_match_dense_product():
    config, params, x = _network("brf")
    result = network_spectra(config, params, x[:12], n_vectors=3, rng=np.random.default_rng(5))
    jacobians = result.jacobians
    start = np.random.default_rng(5).standard_normal((jacobians.size, 3))
    start /= np.linalg.norm(start, axis=0)
    adjoint = start
    for lag in range(12):
        assert np.allclose(result.gradient_norms[:, lag], np.linalg.norm(adjoint, axis=0), rtol=1e-12)
        adjoint = jacobians.dense(11 - lag).T @ adjoint
    assert np.allclose(result.gradient_norm[0], 1.0, rtol=1e-14)
    assert np.allclose(result.gradient_norm, result.gradient_norms.mean(axis=0), rtol=0)


@pytest.mark.parametrize("model,reset", [("brf", "none"), ("rf", "hard"), ("alif", "none")])
def test_loss_adjoint_matches_autograd_input_gradient(model, reset):
    # dL_{T-1}/dx_t = W_in^T (sum_o C_t[o] * lambda_t[o]) with the adjoint lambda_t = dL_{T-1}/dS_t.
    config, params, x = _network(model, reset)
    n_steps, n_in, n_hidden = 25, 3, config.n_hidden
    x = x[:n_steps]
    target = 1
    jacobians = network_jacobians(config, params, x)
    injection = spectral.last_step_loss_adjoint(jacobians, params, target)
    adjoints = [None] * n_steps
    adjoints[-1] = injection(n_steps - 1)[:, 0]
    for t in range(n_steps - 1, 0, -1):
        adjoints[t - 1] = jacobians.apply_transpose(t, adjoints[t]) + injection(t - 1)[:, 0]
    w_in = params["hidden.linear.weight"][:, :n_in]
    ours = np.stack([w_in.T @ np.sum(jacobians.recurrent[t] * adjoints[t].reshape(-1, n_hidden), axis=0)
                     for t in range(n_steps)])

    trainable = {key: np.asarray(value, dtype=float) for key, value in params.items()}

    def last_loss(inputs):
        records = ref._simulate(config, trainable, inputs[:, None, :], None)
        return ref._step_loss(records["out"][-1], np.array([target]))

    expected = autograd.grad(last_loss)(x)
    assert np.allclose(ours, expected, rtol=1e-9, atol=1e-12 * np.max(np.abs(expected)))
    assert np.max(np.abs(expected[:-3])) > 0


def test_network_spectra_reproducible():
    config, params, x = _network("brf")
    first = network_spectra(config, params, x, target=0, rng=3)
    second = network_spectra(config, params, x, target=0, rng=np.random.default_rng(3))
    other = network_spectra(config, params, x, target=0, rng=4)
    assert np.array_equal(first.gradient_norms, second.gradient_norms)
    assert np.array_equal(first.spectral_radius, second.spectral_radius)
    assert np.array_equal(first.loss_gradient_norm, second.loss_gradient_norm)
    assert not np.array_equal(first.gradient_norms, other.gradient_norms)
    # The loss profile is deterministic, so it does not depend on the random vectors.
    assert np.array_equal(first.loss_gradient_norm, other.loss_gradient_norm)


def test_network_spectra_shapes_and_stride():
    config, params, x = _network("bhrf")
    result = network_spectra(config, params, x, stride=7, n_vectors=2)
    n = 4 * config.n_hidden
    assert np.array_equal(result.steps, np.arange(0, 40, 7))
    assert result.spectral_radius.shape == (6,)
    assert result.singular_values.shape == (6, n)
    assert np.all(np.diff(result.singular_values, axis=1) <= 0)
    assert result.gradient_norms.shape == (2, 40)
    assert result.loss_gradient_norm is None
    dense = result.jacobians.dense(14)
    assert result.spectral_radius[2] == pytest.approx(np.max(np.abs(np.linalg.eigvals(dense))), rel=1e-12)
    assert result.gradient_ratio(10) == pytest.approx(result.gradient_norm[10], rel=0)
    assert np.isnan(result.gradient_ratio(40))


def test_network_spectra_rejects_bad_input():
    config, params, x = _network("brf")
    with pytest.raises(RFSimError, match="n_vectors must be a positive integer"):
        network_spectra(config, params, x, n_vectors=0)
    with pytest.raises(RFSimError, match="stride must be a positive integer"):
        network_spectra(config, params, x, stride=0)
    with pytest.raises(RFSimError, match="target must be a class index"):
        network_spectra(config, params, x, target=2)
    with pytest.raises(RFSimError, match="x must be one input sequence"):
        network_jacobians(config, params, np.zeros((10, 2, 3)))
    with pytest.raises(RFSimError, match="NaN or inf"):
        network_jacobians(config, params, np.full((10, 3), np.nan))


# --- checkpoints, reports and files -----------------------------------------------------------


def test_checkpoint_loader_and_sequences(synthetic_runs):
    checkpoint = load_analysis_checkpoint(synthetic_runs["brf"] / "best.npz")
    assert checkpoint.model == "brf"
    assert checkpoint.name == "brf/best"
    assert checkpoint.mask is None
    assert "hidden.linear.mask" not in checkpoint.params
    x, labels = select_sequences(checkpoint, "test", [0, 2], n_steps=30)
    assert x.shape == (30, 2, checkpoint.net_config.n_in)
    assert np.array_equal(x[:, 1], checkpoint.task.test.x[2, :30])
    with pytest.raises(RFSimError, match="invalid split"):
        select_sequences(checkpoint, "dev")
    with pytest.raises(RFSimError, match="sample 99 is outside split 'test'"):
        select_sequences(checkpoint, "test", [99])
    with pytest.raises(RFSimError, match="n_steps must be a positive"):
        select_sequences(checkpoint, "test", [0], n_steps=0)
    with pytest.raises(RFSimError, match="not found"):
        load_analysis_checkpoint(synthetic_runs["brf"] / "missing.npz")


def test_hidden_spectra_apply_abs(synthetic_runs):
    checkpoint = load_analysis_checkpoint(synthetic_runs["brf"] / "best.npz")
    params = dict(checkpoint.params)
    params["hidden.omega"] = -params["hidden.omega"]
    params["hidden.b_offset"] = -params["hidden.b_offset"]
    flipped = hidden_neuron_spectra(checkpoint.net_config, params)
    original = hidden_neuron_spectra(checkpoint.net_config, checkpoint.params)
    assert np.array_equal(flipped.spectral_radius, original.spectral_radius)
    assert np.array_equal(readout_spectra(params).spectral_radius,
                          np.exp(-1.0 / np.abs(params["out.tau_mem"]))[None])


@pytest.fixture(scope="module")
def reports(synthetic_runs):
    return [spectral_report(synthetic_runs[model] / "best.npz", n_steps=120, refractory_steps=(0, 3), n_vectors=4)
            for model in ("brf", "rf", "alif")]


def test_report_contents(reports):
    brf, rf, alif = reports
    assert np.allclose(brf.hidden.q, [0.0, 1.0, 0.9**3], rtol=1e-15)
    assert brf.network.n_steps == 120
    assert brf.network.replay_error == 0.0
    assert brf.network.loss_gradient_norm is not None
    assert alif.hidden.model == "alif"
    # The BRF neurons sit inside their region, so their radius is at most 1 (4 ulps for rounding).
    assert not brf.hidden.outside_region.any()
    assert np.all(brf.hidden.spectral_radius <= 1.0 + 4 * EPS)
    # Raising q deepens the BRF damping, so the radius shrinks after a spike.
    assert np.all(brf.hidden.spectral_radius[1] < brf.hidden.spectral_radius[0])
    # The flag agrees with rho > 1 for every RF neuron (RF trained without a boundary).
    assert np.array_equal(rf.hidden.outside_region[0], rf.hidden.spectral_radius[0] > 1.0)


def test_report_reproducible(synthetic_runs, reports):
    again = spectral_report(synthetic_runs["brf"] / "best.npz", n_steps=120, refractory_steps=(0, 3), n_vectors=4)
    assert np.array_equal(again.network.gradient_norms, reports[0].network.gradient_norms)
    assert np.array_equal(again.network.singular_values, reports[0].network.singular_values)


def test_summary_and_tables(reports):
    summaries = [summarize_spectra(report, lags=(1, 10, 500)) for report in reports]
    brf, rf, alif = summaries
    assert brf.median_radius == pytest.approx(np.median(reports[0].hidden.spectral_radius[0]), rel=0)
    assert brf.fraction_outside == 0.0
    assert np.isnan(alif.fraction_outside)
    assert rf.fraction_outside == pytest.approx(reports[1].hidden.outside_region[0].mean(), rel=0)
    assert brf.gradient_ratios[1] == pytest.approx(reports[0].network.gradient_norm[10], rel=0)
    assert np.isnan(brf.gradient_ratios[2])

    table = format_comparison(summaries)
    lines = table.splitlines()
    assert lines[1].startswith("brf/best")
    assert lines[3].startswith("alif/best")
    assert "|g| @500" in lines[0]
    assert "n/a" in lines[1]
    text = format_neuron_summary(reports[0])
    assert "q = 1" in text
    assert "no neuron has b_offset + q outside" in text
    alif_text = format_neuron_summary(reports[2])
    assert "(no q)" in alif_text
    assert "1x1 alpha" in alif_text
    if reports[1].hidden.flagged_neurons().size:
        assert "flagged neurons" in format_neuron_summary(reports[1])
    with pytest.raises(RFSimError, match="summaries is empty"):
        format_comparison([])


def test_save_csv_and_npz(reports, tmp_path):
    import csv

    save_spectral_reports(reports, tmp_path / "spectra.csv")
    with open(tmp_path / "spectra.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert {row["checkpoint"] for row in rows} == {"brf/best", "rf/best", "alif/best"}
    radius_rows = [row for row in rows if row["checkpoint"] == "brf/best" and row["table"] == "neuron"
                   and row["quantity"] == "spectral_radius" and row["index"] == "2"]
    assert [float(row["q"]) for row in radius_rows] == pytest.approx([0.0, 1.0, 0.729], rel=1e-12)
    assert float(radius_rows[0]["value"]) == reports[0].hidden.spectral_radius[0, 2]
    lag_rows = [row for row in rows if row["checkpoint"] == "alif/best" and row["table"] == "lag"
                and row["quantity"] == "gradient_norm"]
    assert len(lag_rows) == 120

    save_spectral_reports(reports, tmp_path / "spectra.npz")
    with np.load(tmp_path / "spectra.npz") as arrays:
        assert list(arrays["names"]) == ["brf/best", "rf/best", "alif/best"]
        assert np.array_equal(arrays["1/hidden/spectral_radius"], reports[1].hidden.spectral_radius)
        assert np.array_equal(arrays["2/network/gradient_norm"], reports[2].network.gradient_norm)

    with pytest.raises(RFSimError, match="must end in .csv"):
        save_spectral_reports(reports, tmp_path / "spectra.txt")
    assert check_output_path("a.NPZ") == ".npz"


def test_spectral_report_of_ablated_brf(tmp_path):
    from rfsim.analysis.spectral import spectral_report
    from rfsim.training.loop import train
    from rfsim.training.presets import resolve_config

    config = resolve_config("synthetic", "brf", overrides=dict(
        epochs=1, n_hidden=6, batch_size=8, limit_train=8, limit_eval=4, brf_refractory=False,
        brf_smooth_reset=False))
    train(config, tmp_path / "ablated")
    report = spectral_report(tmp_path / "ablated" / "best.npz", refractory_steps=(0, 2))
    assert report.network.replay_error == 0.0

    # Without the smooth reset the per-neuron Jacobian is the same at every q.
    radius = report.hidden.spectral_radius
    assert radius.shape[0] == 3
    assert np.array_equal(radius[1], radius[0])
    assert np.array_equal(radius[2], radius[0])
