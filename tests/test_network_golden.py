"""The engine against traces from the authors' public PyTorch implementation.

The files in ``tests/data/golden`` were produced by AdaptiveAILab/brf-neurons at commit
5d45b0e (PyTorch 2.13, CPU): a 3-8-4 network, T = 60, B = 2, for BRF, RF without
reset, BHRF and ALIF (with biases), plus the BRF case with a label-last loss and in
float32. Each stores the raw parameters, the input, the targets, every state
trajectory, the output membrane, the summed loss, the spike count and the gradient
of the summed loss with respect to every parameter.

Tolerances: the states follow the authors' evaluation order, so they agree to a few
ulp; only the hidden drive W [x; z] is a matrix product whose summation order differs
(about 1e-15). Gradients are compared relative to each array's largest entry, at
1e-9 in float64. The float32 case is compared at 1e-5 relative: float32 rounding
(eps 6e-8) accumulates over 60 recurrent steps, and the authors' own float32 and
float64 gradients differ by up to 1.7e-6 relative.
"""

from pathlib import Path

import numpy as np
import pytest

from rfsim.network import RSNNConfig, forward, value_and_grad

GOLDEN = Path(__file__).parent / "data" / "golden"

CASES = {
    "brf_rsnn": dict(model="brf"),
    "vrf_rsnn": dict(model="rf"),
    "bhrf_rsnn": dict(model="bhrf"),
    "alif_rsnn": dict(model="alif", hidden_bias=True, output_bias=True),
    "brf_rsnn_label_last": dict(model="brf", loss="label-last"),
}

STATE_ATOL_FLOAT64 = 1e-12
GRADIENT_RTOL_FLOAT64 = 1e-9
FLOAT32_RTOL = 1e-5


def load_case(name, **overrides):
    data = np.load(GOLDEN / f"{name}.npz")
    keys = [key[len("grad/"):] for key in data.files if key.startswith("grad/")]
    fields = dict(n_in=3, n_hidden=8, n_out=4, dtype="float64")
    fields.update(overrides)
    config = RSNNConfig(**fields)
    params = {key: data[key] for key in keys}
    targets = data["target_last"] if "target_last" in data.files else data["targets"]
    return config, params, data, targets


def relative_error(actual, expected):
    return np.abs(actual - expected).max() / np.abs(expected).max()


@pytest.mark.parametrize("name", CASES)
def test_golden_trajectories(name):
    config, params, data, _ = load_case(name, **CASES[name])
    result = forward(config, params, data["x"], record=True)

    np.testing.assert_array_equal(result.states["z"], data["z"])
    assert result.spike_count == int(data["total_spikes"])
    for state in ("u", "v", "q", "a"):
        if state in data.files:
            np.testing.assert_allclose(result.states[state], data[state], rtol=0, atol=STATE_ATOL_FLOAT64,
                                       err_msg=state)
    np.testing.assert_allclose(result.outputs, data["out"], rtol=0, atol=STATE_ATOL_FLOAT64)


@pytest.mark.parametrize("name", CASES)
def test_golden_loss_and_gradients(name):
    config, params, data, targets = load_case(name, **CASES[name])
    result, grads = value_and_grad(config, params, data["x"], targets)

    assert result.loss_sum == pytest.approx(float(data["loss_sum"]), rel=1e-13, abs=0)
    assert result.loss_reported == pytest.approx(float(data["loss_mean"]), rel=1e-13, abs=0)
    assert result.spike_count == int(data["total_spikes"])
    np.testing.assert_allclose(result.outputs, data["out"], rtol=0, atol=STATE_ATOL_FLOAT64)

    assert set(grads) == set(params)
    for key in params:
        expected = data[f"grad/{key}"]
        assert grads[key].shape == expected.shape
        error = relative_error(grads[key], expected)
        assert error <= GRADIENT_RTOL_FLOAT64, f"{key}: relative error {error:.2e}"


def test_golden_float32_case():
    config, params, data, targets = load_case("brf_rsnn_float32", model="brf", dtype="float32")
    recorded = forward(config, params, data["x"], record=True)
    result, grads = value_and_grad(config, params, data["x"], targets)

    assert recorded.outputs.dtype == np.float32
    np.testing.assert_array_equal(recorded.states["z"], data["z"])
    for state in ("u", "v", "q", "out"):
        error = relative_error(recorded.states[state], data[state])
        assert error <= FLOAT32_RTOL, f"{state}: relative error {error:.2e}"
    assert result.loss_sum == pytest.approx(float(data["loss_sum"]), rel=FLOAT32_RTOL)
    assert result.spike_count == int(data["total_spikes"])
    for key in params:
        assert grads[key].dtype == np.float32
        error = relative_error(grads[key], data[f"grad/{key}"])
        assert error <= FLOAT32_RTOL, f"{key}: relative error {error:.2e}"


def test_golden_float32_close_to_float64():
    # The float64 engine on the float32-rounded parameters stays within float32
    # accuracy of the float32 engine: the float32 path adds no error of its own.
    config32, params, data, targets = load_case("brf_rsnn_float32", model="brf", dtype="float32")
    config64 = RSNNConfig(model="brf", n_in=3, n_hidden=8, n_out=4, dtype="float64")
    _, grads32 = value_and_grad(config32, params, data["x"], targets)
    _, grads64 = value_and_grad(config64, params, data["x"].astype(np.float64), targets)
    for key in params:
        error = relative_error(grads32[key].astype(np.float64), grads64[key])
        assert error <= FLOAT32_RTOL, f"{key}: relative error {error:.2e}"
