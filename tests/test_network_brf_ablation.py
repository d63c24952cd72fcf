"""BRF ablation switches of the network: engine against the autograd reference, and their definitions.

The switches remove one BRF mechanism each (``RSNNConfig``): the divergence boundary
(p(omega) replaced by 0), the refractory period (q_{t-1} in the threshold) and the
smooth reset (q_{t-1} in the damping). With all three off the BRF neuron is the plain
RF neuron without reset, and a one-neuron network must follow the single-neuron
simulator's ablation variants (``rfsim.neurons.brf.ABLATIONS``) step for step.
"""

import itertools

import numpy as np
import pytest

from rfsim.errors import RFSimError
from rfsim.network import RSNNConfig, forward, init_params, value_and_grad
from rfsim.network import reference

GRADIENT_RTOL = 1e-9
SWITCHES = list(itertools.product([True, False], repeat=3))


def switch_id(switches):
    names = ("boundary", "refractory", "smooth")
    return "-".join(name if on else f"no_{name}" for name, on in zip(names, switches))


def make_config(switches=(True, True, True), **overrides):
    boundary, refractory, smooth = switches
    fields = dict(model="brf", n_in=3, n_hidden=5, n_out=3, loss="sequence", loss_offset=3, dtype="float64",
                  brf_boundary=boundary, brf_refractory=refractory, brf_smooth_reset=smooth)
    fields.update(overrides)
    return RSNNConfig(**fields)


def make_network(config, seed, n_steps=32, batch=2):
    """Return parameters, an input that makes 3-20 % of neuron-steps spike, and per-step targets."""
    rng = np.random.default_rng(seed)
    params = init_params(config, rng)
    pattern = rng.choice([-1.0, 0.0, 1.0], size=(n_steps, batch, config.n_in), p=[0.15, 0.7, 0.15])
    targets = rng.integers(0, config.n_out, (n_steps, batch))
    rates = {scale: reference.reference_forward(config, params, scale * pattern)["z"].mean()
             for scale in (5, 10, 20, 50, 100, 200, 500, 1000)}
    scale = min(rates, key=lambda value: abs(rates[value] - 0.1))
    assert 0.03 <= rates[scale] <= 0.2, rates
    return params, scale * pattern, targets


@pytest.mark.parametrize("switches", SWITCHES, ids=switch_id)
def test_ablation_gradient_matches_autograd(switches):
    config = make_config(switches)
    params, x, targets = make_network(config, seed=31)
    expected_loss, expected_grads = reference.reference_value_and_grad(config, params, x, targets)
    states = reference.reference_forward(config, params, x)

    result, grads = value_and_grad(config, params, x, targets)

    assert result.loss_sum == pytest.approx(expected_loss, rel=1e-12, abs=0)
    assert result.spike_count == states["spike_count"]
    np.testing.assert_allclose(result.outputs, states["out"], rtol=0, atol=1e-12)
    for key, expected in expected_grads.items():
        scale = np.abs(expected).max()
        error = np.abs(grads[key] - expected).max()
        assert error <= GRADIENT_RTOL * scale, (
            f"{key}: max |engine - autograd| = {error:.3e}, largest |autograd| = {scale:.3e}")


@pytest.mark.parametrize("switches", SWITCHES, ids=switch_id)
def test_ablation_recorded_states_match_reference(switches):
    config = make_config(switches, event_driven=False)
    params, x, _ = make_network(config, seed=32)
    expected = reference.reference_forward(config, params, x)
    result = forward(config, params, x, record=True)
    np.testing.assert_array_equal(result.states["z"], expected["z"])
    for name in ("u", "v", "q"):
        np.testing.assert_allclose(result.states[name], expected[name], rtol=0, atol=1e-11, err_msg=name)


def test_boundary_off_gives_no_omega_gradient_through_p():
    """Without the boundary omega acts only through the rotation, so the engine's omega
    gradient must equal the RF network's, whose damping has no omega in it."""
    config = make_config((False, False, False))
    params, x, targets = make_network(config, seed=33)
    rf_config = RSNNConfig(model="rf", n_in=3, n_hidden=5, n_out=3, loss="sequence", loss_offset=3, dtype="float64")
    _, grads = value_and_grad(config, params, x, targets)
    _, rf_grads = value_and_grad(rf_config, params, x, targets)
    np.testing.assert_array_equal(grads["hidden.omega"], rf_grads["hidden.omega"])


def test_all_switches_off_is_plain_rf():
    """With every mechanism removed, b_t = -b' and the threshold is theta: the RF neuron without reset."""
    config = make_config((False, False, False))
    params, x, targets = make_network(config, seed=34)
    rf_config = RSNNConfig(model="rf", n_in=3, n_hidden=5, n_out=3, loss="sequence", loss_offset=3, dtype="float64")
    brf = forward(config, params, x, record=True)
    rf = forward(rf_config, params, x, record=True)
    np.testing.assert_array_equal(brf.states["z"], rf.states["z"])
    np.testing.assert_array_equal(brf.states["u"], rf.states["u"])
    np.testing.assert_array_equal(brf.states["v"], rf.states["v"])
    np.testing.assert_array_equal(brf.outputs, rf.outputs)
    brf_result, brf_grads = value_and_grad(config, params, x, targets)
    rf_result, rf_grads = value_and_grad(rf_config, params, x, targets)
    assert brf_result.loss_sum == rf_result.loss_sum
    for key in rf_grads:
        np.testing.assert_allclose(brf_grads[key], rf_grads[key], rtol=1e-12, atol=1e-300, err_msg=key)


@pytest.mark.parametrize("variant", ["all", "no_boundary", "refractory_only", "smooth_reset_only", "none"])
def test_one_neuron_network_follows_single_neuron(variant):
    """A network with one neuron, input weight 1 and no recurrence is the single BRF neuron driven by x."""
    from rfsim.neurons import simulate
    from rfsim.neurons.brf import ABLATIONS

    boundary, refractory, smooth = ABLATIONS[variant]
    config = RSNNConfig(model="brf", n_in=1, n_hidden=1, n_out=2, dtype="float64", brf_boundary=boundary, brf_refractory=refractory,
                        brf_smooth_reset=smooth)
    params = {"hidden.linear.weight": np.array([[1.0, 0.0]]), "hidden.omega": np.array([10.0]),
              "hidden.b_offset": np.array([1.0]), "out.linear.weight": np.ones((2, 1)),
              "out.tau_mem": np.array([20.0, 20.0])}
    drive = np.zeros(300)
    drive[[20, 60, 61, 100, 140, 141, 142, 200]] = 120.0

    trace = simulate("brf", drive, omega=10.0, b_offset=1.0, dt=0.01, use_boundary=boundary,
                     use_refractory=refractory, use_smooth_reset=smooth, allow_divergent=True)
    result = forward(config, params, drive[:, None, None], record=True)
    assert trace.z.sum() > 0
    np.testing.assert_array_equal(result.states["z"][:, 0, 0], trace.z)
    np.testing.assert_allclose(result.states["u"][:, 0, 0], trace.u.real, rtol=0, atol=1e-12)
    np.testing.assert_allclose(result.states["q"][:, 0, 0], trace.q, rtol=0, atol=1e-12)


def test_switches_only_for_brf():
    with pytest.raises(RFSimError, match="brf_refractory=False applies to the 'brf' model only"):
        RSNNConfig(model="rf", n_in=1, n_hidden=2, n_out=2, brf_refractory=False)
    with pytest.raises(RFSimError, match="brf_boundary must be True or False"):
        RSNNConfig(model="brf", n_in=1, n_hidden=2, n_out=2, brf_boundary=0)
