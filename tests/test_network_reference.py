"""The autograd NumPy reference of the networks against the authors' implementation.

The golden files in ``tests/data/golden`` are traces from the authors' public PyTorch
implementation (AdaptiveAILab/brf-neurons, commit 5d45b0e): parameters, inputs, every
hidden state, the output membrane, the summed loss and its BPTT gradients, in float64
(and one float32 copy of the BRF case).
"""

import json
from pathlib import Path
from types import SimpleNamespace

import autograd
import autograd.numpy as anp
import numpy as np
import pytest
from scipy import integrate

from rfsim.errors import RFSimError
from rfsim.network import reference

GOLDEN = Path(__file__).parent / "data" / "golden"

# file -> (model, hidden and output bias, loss)
NETWORK_CASES = {
    "brf_rsnn": ("brf", False, "sequence"),
    "brf_rsnn_label_last": ("brf", False, "label-last"),
    "vrf_rsnn": ("rf", False, "sequence"),
    "bhrf_rsnn": ("bhrf", False, "sequence"),
    "alif_rsnn": ("alif", True, "sequence"),
}


def make_config(model="brf", **overrides):
    """Build a configuration with the attribute names of ``RSNNConfig``."""
    fields = dict(model=model, n_in=3, n_hidden=8, n_out=4, dt=0.01, rf_reset="none",
                  hidden_bias=False, output_bias=False, surrogate="reference",
                  loss="sequence", loss_offset=0, dtype="float64")
    fields.update(overrides)
    return SimpleNamespace(**fields)


def load_golden(name):
    """Load a golden file and the configuration, parameters and targets that produced it."""
    data = np.load(GOLDEN / f"{name}.npz")
    model, bias, loss = NETWORK_CASES[name.replace("_float32", "")]
    meta = json.loads(str(data["meta_json"]))
    assert meta["sub_seq_length"] == 0
    # The ALIF file records dt = 1 (its unit step); the RF-type files use 0.01 s.
    config = make_config(model, dt=meta["dt"], hidden_bias=bias, output_bias=bias, loss=loss)
    params = {key: data[key] for key in data.files if key.startswith(("hidden.", "out."))}
    targets = data["target_last"] if loss == "label-last" else data["targets"]
    return data, config, params, targets


def max_relative_error(actual, expected):
    """Max abs difference relative to the largest entry of ``expected``."""
    return np.abs(actual - expected).max() / np.abs(expected).max()


# --- surrogate and spike function ------------------------------------------------------


def test_surrogate_matches_golden_grid():
    data = np.load(GOLDEN / "surrogate.npz")
    s = data["x"]
    np.testing.assert_allclose(reference.surrogate_reference(s), data["dfdx"], rtol=0, atol=1e-15)
    np.testing.assert_allclose(reference.surrogate_reference(s), data["dfdx_fgi"], rtol=0, atol=1e-15)


def test_spike_forward_is_strict_step():
    data = np.load(GOLDEN / "surrogate.npz")
    for name, spike in reference.SPIKE_FUNCTIONS.items():
        np.testing.assert_array_equal(spike(data["x"]), data["step"], err_msg=name)
    assert reference.SPIKE_FUNCTIONS["reference"](np.array([0.0]))[0] == 0.0


@pytest.mark.parametrize("name", list(reference.SURROGATES))
def test_spike_derivative_is_surrogate(name):
    s = np.linspace(-4.0, 4.0, 161)
    spike = reference.SPIKE_FUNCTIONS[name]
    derivative = autograd.grad(lambda s_: anp.sum(spike(s_) * 2.0))(s)
    np.testing.assert_allclose(derivative, 2.0 * reference.SURROGATES[name](s), rtol=1e-15, atol=0)


def test_reference_surrogate_landmarks():
    # g(0) = 0.5 (1.15 / (0.5 sqrt(2 pi)) - 0.30 / (3 sqrt(2 pi))) and the integral is
    # 0.5 (1.15 - 0.30) because both Gaussians are normalised.
    g0 = 0.5 * (1.15 / (0.5 * np.sqrt(2 * np.pi)) - 0.30 / (3.0 * np.sqrt(2 * np.pi)))
    assert reference.surrogate_reference(0.0) == pytest.approx(g0, rel=1e-15)
    assert reference.surrogate_reference(0.0) == pytest.approx(0.4388365, abs=1e-7)
    integral, _ = integrate.quad(reference.surrogate_reference, -60, 60, limit=200)
    assert integral == pytest.approx(0.425, rel=1e-10)
    assert reference.surrogate_reference(1.26) > 0.0
    assert reference.surrogate_reference(1.28) < 0.0


def test_paper_surrogate_landmarks():
    # Unnormalised Gaussians: peak (1 + h) - 2h = 0.85, integral
    # sqrt(2 pi) ((1 + h) 0.5 - 2h 3) = sqrt(2 pi) (0.575 - 0.9).
    assert reference.surrogate_paper(0.0) == pytest.approx(0.85, rel=1e-15)
    integral, _ = integrate.quad(reference.surrogate_paper, -60, 60, limit=200)
    assert integral == pytest.approx(np.sqrt(2 * np.pi) * (0.575 - 0.9), rel=1e-10)


def test_abs_derivative_zero_at_zero():
    # torch's sign(0) = 0 makes d|w|/dw vanish at w = 0; autograd must agree.
    derivative = autograd.grad(lambda w: anp.sum(anp.abs(w) * 3.0))(np.array([0.0, -2.0, 5.0]))
    np.testing.assert_array_equal(derivative, [0.0, -3.0, 3.0])


# --- golden network traces -------------------------------------------------------------


@pytest.mark.parametrize("name", list(NETWORK_CASES))
def test_forward_matches_golden(name):
    data, config, params, _ = load_golden(name)
    result = reference.reference_forward(config, params, data["x"])

    np.testing.assert_array_equal(result["z"], data["z"])
    assert result["spike_count"] == float(data["total_spikes"])
    for key in reference.STATE_NAMES[config.model]:
        # Same operations in the same order as the reference; only libm and BLAS rounding differ.
        np.testing.assert_allclose(result[key], data[key], rtol=0, atol=1e-13, err_msg=key)
    np.testing.assert_allclose(result["out"], data["out"], rtol=0, atol=1e-15)


@pytest.mark.parametrize("name", list(NETWORK_CASES))
def test_loss_matches_golden(name):
    data, config, params, targets = load_golden(name)
    loss_sum = reference.reference_loss(config, params, data["x"], targets)
    assert loss_sum == pytest.approx(float(data["loss_sum"]), rel=1e-13)

    outputs = reference.reference_forward(config, params, data["x"])["out"]
    metrics = reference.reference_metrics(config, outputs, targets)
    assert metrics["loss_sum"] == pytest.approx(float(data["loss_sum"]), rel=1e-13)
    assert metrics["loss_reported"] == pytest.approx(float(data["loss_mean"]), rel=1e-13)


@pytest.mark.parametrize("name", list(NETWORK_CASES))
def test_gradient_matches_golden(name):
    data, config, params, targets = load_golden(name)
    loss_sum, grads = reference.reference_value_and_grad(config, params, data["x"], targets)

    assert loss_sum == pytest.approx(float(data["loss_sum"]), rel=1e-13)
    assert set(grads) == set(params)
    for key, value in grads.items():
        assert value.shape == params[key].shape
        assert max_relative_error(value, data[f"grad/{key}"]) < 1e-9, key


def test_float32_golden_within_float32_rounding():
    # The float32 trace runs the same network in float32 arithmetic, so it differs from
    # this float64 reference by accumulated float32 rounding (eps 1.2e-7) over 60 steps of a
    # recurrence whose states reach a few units: the authors' float64 and float32 runs
    # differ by 3.9e-6 in u and 1.7e-6 relative in the gradients. The bounds below are
    # about three times those, and the spikes must be identical.
    data, config, params, targets = load_golden("brf_rsnn_float32")
    assert data["u"].dtype == np.float32
    result = reference.reference_forward(config, params, data["x"])

    np.testing.assert_array_equal(result["z"], data["z"])
    assert result["spike_count"] == float(data["total_spikes"])
    for key in ("u", "v", "q"):
        np.testing.assert_allclose(result[key], data[key], rtol=0, atol=1.5e-5, err_msg=key)
    np.testing.assert_allclose(result["out"], data["out"], rtol=0, atol=1e-6)

    loss_sum, grads = reference.reference_value_and_grad(config, params, data["x"], targets)
    assert loss_sum == pytest.approx(float(data["loss_sum"]), rel=1e-6)
    for key, value in grads.items():
        assert max_relative_error(value, data[f"grad/{key}"]) < 5e-6, key


def test_single_brf_neuron_matches_golden():
    # One BRF neuron with input weight 1 and no recurrent weight receives I_t directly.
    data = np.load(GOLDEN / "brf_single_neuron.npz")
    config = make_config("brf", n_in=1, n_hidden=1, n_out=1)
    params = {
        "hidden.linear.weight": np.array([[1.0, 0.0]]),
        "hidden.omega": np.array([float(data["omega"])]),
        "hidden.b_offset": np.array([float(data["b_offset"])]),
        "out.linear.weight": np.array([[1.0]]),
        "out.tau_mem": np.array([20.0]),
    }
    assert reference.p_omega_reference(float(data["omega"])) == float(data["p_omega"])

    result = reference.reference_forward(config, params, data["I"][:, None, None])
    for key in ("u", "v", "q", "z"):
        # Same operations in the same order as the reference: bit-identical.
        np.testing.assert_array_equal(result[key][:, 0, 0], data[key], err_msg=key)
    np.testing.assert_array_equal(np.flatnonzero(result["z"][:, 0, 0]), [102, 164, 226, 288])


# --- options beyond the golden cases ---------------------------------------------------


def random_network(config, rng, scale=1.0):
    """Random parameters and a sparse signed input for ``config``."""
    shapes = reference.parameter_shapes(config)
    params = {key: rng.normal(0.0, 0.5, shape) for key, shape in shapes.items()}
    if config.model == "alif":
        params["hidden.tau_mem"] = rng.normal(20.0, 5.0, shapes["hidden.tau_mem"])
        params["hidden.tau_adp"] = rng.normal(20.0, 5.0, shapes["hidden.tau_adp"])
    else:
        params["hidden.omega"] = rng.uniform(15.0, 50.0, shapes["hidden.omega"])
        params["hidden.b_offset"] = rng.uniform(0.1, 1.0, shapes["hidden.b_offset"])
    params["out.tau_mem"] = rng.normal(20.0, 5.0, shapes["out.tau_mem"])
    x = scale * rng.choice([-1.0, 0.0, 1.0], size=(30, 2, config.n_in), p=[0.1, 0.8, 0.1])
    return params, x


def test_rf_soft_reset_subtracts_threshold():
    rng = np.random.default_rng(3)
    config = make_config("rf", rf_reset="soft")
    params, x = random_network(config, rng, scale=150.0)
    free = reference.reference_forward(make_config("rf"), params, x[:1])
    result = reference.reference_forward(config, params, x)
    assert result["z"].sum() > 0

    # Re-run one step from each recorded state without reset and compare.
    np.testing.assert_array_equal(free["u"][0] - free["z"][0], result["u"][0])
    spiking = result["z"] == 1.0
    pre_reset = result["u"] + result["z"]
    assert np.all(pre_reset[spiking] > 1.0)


def test_rf_hard_reset_zeroes_state():
    rng = np.random.default_rng(4)
    config = make_config("rf", rf_reset="hard")
    params, x = random_network(config, rng, scale=150.0)
    result = reference.reference_forward(config, params, x)
    spiking = result["z"] == 1.0
    assert spiking.sum() > 0
    np.testing.assert_array_equal(result["u"][spiking], 0.0)
    np.testing.assert_array_equal(result["v"][spiking], 0.0)


def test_cross_entropy_equals_sequence_with_repeated_labels():
    rng = np.random.default_rng(5)
    config = make_config("brf", loss="cross-entropy", loss_offset=4)
    params, x = random_network(config, rng, scale=200.0)
    labels = rng.integers(0, config.n_out, x.shape[1])
    repeated = np.tile(labels, (x.shape[0], 1))
    sequence = make_config("brf", loss="sequence", loss_offset=4)

    value, grads = reference.reference_value_and_grad(config, params, x, labels)
    expected_value, expected_grads = reference.reference_value_and_grad(sequence, params, x, repeated)
    assert value == pytest.approx(expected_value, rel=1e-15)
    for key in grads:
        np.testing.assert_allclose(grads[key], expected_grads[key], rtol=1e-14, atol=0, err_msg=key)


def test_loss_offset_skips_early_steps():
    rng = np.random.default_rng(6)
    params, x = random_network(make_config("brf"), rng, scale=200.0)
    targets = rng.integers(0, 4, x.shape[:2])
    full = reference.reference_forward(make_config("brf"), params, x)["out"]
    metrics = reference.reference_metrics(make_config("brf", loss_offset=10), full, targets)
    tail = reference.reference_metrics(make_config("brf"), full[10:], targets[10:])
    assert metrics["loss_sum"] == pytest.approx(tail["loss_sum"], rel=1e-15)
    assert metrics["loss_reported"] == pytest.approx(tail["loss_sum"] / 20, rel=1e-15)
    assert metrics["n_total"] == 20 * 2


def test_all_ones_mask_changes_nothing():
    rng = np.random.default_rng(7)
    config = make_config("alif", hidden_bias=True)
    params, x = random_network(config, rng, scale=2.0)
    targets = rng.integers(0, 4, x.shape[:2])
    mask = np.ones_like(params["hidden.linear.weight"])
    plain = reference.reference_value_and_grad(config, params, x, targets)
    masked = reference.reference_value_and_grad(config, params, x, targets, mask=mask)
    assert masked[0] == plain[0]
    for key in plain[1]:
        np.testing.assert_array_equal(masked[1][key], plain[1][key])


def test_mask_zeroes_pruned_gradient():
    rng = np.random.default_rng(8)
    config = make_config("brf")
    params, x = random_network(config, rng, scale=200.0)
    targets = rng.integers(0, 4, x.shape[:2])
    mask = (rng.random(params["hidden.linear.weight"].shape) > 0.3).astype(float)
    loss_sum, grads = reference.reference_value_and_grad(config, params, x, targets, mask=mask)
    np.testing.assert_array_equal(grads["hidden.linear.weight"][mask == 0.0], 0.0)

    pruned = dict(params, **{"hidden.linear.weight": params["hidden.linear.weight"] * mask})
    assert reference.reference_loss(config, pruned, x, targets) == loss_sum


def test_tbptt_changes_gradient_not_loss():
    rng = np.random.default_rng(9)
    config = make_config("brf")
    params, x = random_network(config, rng, scale=200.0)
    targets = rng.integers(0, 4, x.shape[:2])
    full = reference.reference_value_and_grad(config, params, x, targets)
    long_window = reference.reference_value_and_grad(config, params, x, targets, tbptt_window=30)
    short_window = reference.reference_value_and_grad(config, params, x, targets, tbptt_window=7)

    assert short_window[0] == full[0]
    for key in full[1]:
        np.testing.assert_array_equal(long_window[1][key], full[1][key])
    difference = np.abs(short_window[1]["hidden.omega"] - full[1]["hidden.omega"]).max()
    assert difference > 1e-6 * np.abs(full[1]["hidden.omega"]).max()


def test_recurrent_mask_equals_full_mask():
    rng = np.random.default_rng(12)
    config = make_config("brf")
    params, x = random_network(config, rng, scale=200.0)
    recurrent = (rng.random((8, 8)) > 0.5).astype(float)
    full = np.concatenate([np.ones((8, 3)), recurrent], axis=1)
    by_block = reference.reference_forward(config, params, x, mask=recurrent)
    by_weight = reference.reference_forward(config, params, x, mask=full)
    np.testing.assert_array_equal(by_block["u"], by_weight["u"])


def test_one_hot_soft_targets_equal_class_targets():
    rng = np.random.default_rng(13)
    config = make_config("bhrf", loss="cross-entropy", loss_offset=2)
    params, x = random_network(config, rng, scale=300.0)
    labels = rng.integers(0, 4, 2)
    one_hot = np.eye(4)[labels]
    by_class = reference.reference_value_and_grad(config, params, x, labels)
    by_weight = reference.reference_value_and_grad(config, params, x, one_hot)
    assert by_weight[0] == pytest.approx(by_class[0], rel=1e-15)
    for key in by_class[1]:
        np.testing.assert_allclose(by_weight[1][key], by_class[1][key], rtol=1e-13, atol=0, err_msg=key)

    outputs = reference.reference_forward(config, params, x)["out"]
    assert reference.reference_metrics(config, outputs, one_hot) == reference.reference_metrics(config, outputs, labels)
    zero_row = one_hot.copy()
    zero_row[1] = 0.0
    half = reference.reference_loss(config, params, x, zero_row)
    assert half < by_class[0]


def test_label_last_takes_last_row_of_step_targets():
    data, config, params, _ = load_golden("brf_rsnn_label_last")
    from_rows = reference.reference_loss(config, params, data["x"], data["targets"])
    assert from_rows == pytest.approx(float(data["loss_sum"]), rel=1e-13)
    np.testing.assert_array_equal(data["targets"][-1], data["target_last"])


def test_boundary_dt_defaults_to_dt():
    # The authors' implementation evaluates p(omega) with dt_p = 0.01 s at any dt;
    # boundary_dt=0.01 reproduces that, and the default dt_p = dt differs from it.
    rng = np.random.default_rng(14)
    params, x = random_network(make_config("brf"), rng, scale=200.0)
    default = reference.reference_forward(make_config("brf", dt=0.005), params, x)
    authors = reference.reference_forward(make_config("brf", dt=0.005, boundary_dt=0.01), params, x)
    assert np.abs(default["u"] - authors["u"]).max() > 1e-6
    same_dt = reference.reference_forward(make_config("brf", dt=0.005, boundary_dt=0.005), params, x)
    np.testing.assert_array_equal(same_dt["u"], default["u"])


def test_constants_come_from_config():
    rng = np.random.default_rng(15)
    params, x = random_network(make_config("brf"), rng, scale=200.0)
    low = reference.reference_forward(make_config("brf", theta=0.5), params, x)
    high = reference.reference_forward(make_config("brf", theta=2.0), params, x)
    assert low["spike_count"] > high["spike_count"]
    slow = reference.reference_forward(make_config("brf", gamma=0.0), params, x)
    spiking = slow["z"][:-1] == 1.0
    np.testing.assert_array_equal(slow["q"][:-1][spiking], 1.0)


# --- input checks ----------------------------------------------------------------------


def test_rejects_invalid_configuration():
    rng = np.random.default_rng(10)
    params, x = random_network(make_config("brf"), rng)
    for overrides in (dict(model="lif"), dict(rf_reset="full"), dict(surrogate="sigmoid"),
                      dict(loss="mse"), dict(dt=0.0), dict(model="brf", rf_reset="soft")):
        config = make_config(**{"model": "brf", **overrides})
        with pytest.raises(RFSimError):
            reference.reference_forward(config, params, x)


def test_rejects_invalid_shapes_and_targets():
    rng = np.random.default_rng(11)
    config = make_config("brf")
    params, x = random_network(config, rng)
    targets = rng.integers(0, 4, x.shape[:2])
    with pytest.raises(RFSimError, match="x must have shape"):
        reference.reference_forward(config, params, x[:, :, :2])
    with pytest.raises(RFSimError, match="missing 'hidden.omega'"):
        reference.reference_forward(config, {k: v for k, v in params.items() if k != "hidden.omega"}, x)
    with pytest.raises(RFSimError, match="hidden.linear.weight"):
        reference.reference_forward(config, dict(params, **{"hidden.linear.weight": np.zeros((8, 3))}), x)
    with pytest.raises(RFSimError, match="mask"):
        reference.reference_forward(config, params, x, mask=np.ones((8, 3)))
    with pytest.raises(RFSimError, match="class indices"):
        reference.reference_loss(config, params, x, targets + 4)
    with pytest.raises(RFSimError, match="integer"):
        reference.reference_loss(config, params, x, targets.astype(float))
    with pytest.raises(RFSimError, match=r"shape \(2,\) or \(30, 2\)"):
        reference.reference_loss(make_config("brf", loss="label-last"), params, x, targets[:5])
    with pytest.raises(RFSimError, match=r"shape \(30, 2\)"):
        reference.reference_loss(config, params, x, targets[0])
    with pytest.raises(RFSimError, match="soft cross-entropy"):
        reference.reference_loss(make_config("brf", loss="cross-entropy"), params, x, np.ones((2, 3)))
    with pytest.raises(RFSimError, match="non-negative"):
        reference.reference_loss(make_config("brf", loss="cross-entropy"), params, x, -np.ones((2, 4)))
    with pytest.raises(RFSimError, match="loss_offset"):
        reference.reference_loss(make_config("brf", loss_offset=30), params, x, targets)
    with pytest.raises(RFSimError, match="tbptt_window"):
        reference.reference_value_and_grad(config, params, x, targets, tbptt_window=0)
