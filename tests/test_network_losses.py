"""Losses, reported values and accuracy counts; the engine's loss against the NumPy definition."""

import dataclasses

import numpy as np
import pytest
from scipy.special import log_softmax

from rfsim.errors import RFSimError
from rfsim.network import RSNNConfig, accuracy_counts, forward, init_params, loss_and_metrics, value_and_grad


def make_case(loss, loss_offset=0, seed=0, n_steps=30, batch=5):
    config = RSNNConfig(model="brf", n_in=2, n_hidden=6, n_out=4, loss=loss, loss_offset=loss_offset,
                        output_bias=True, dtype="float64")
    rng = np.random.default_rng(seed)
    params = init_params(config, rng)
    params["out.linear.bias"] = rng.normal(0.0, 0.5, 4)
    x = 150.0 * rng.choice([-1.0, 0.0, 1.0], size=(n_steps, batch, 2), p=[0.2, 0.6, 0.2])
    return config, params, x, rng


def test_sequence_loss_definition():
    config, params, x, rng = make_case("sequence", loss_offset=4)
    targets = rng.integers(0, 4, (30, 5))
    outputs = forward(config, params, x).outputs
    log_probs = log_softmax(outputs, axis=2)
    # Sum over t >= 4 of the batch mean of -log p[target].
    expected = sum(-log_probs[t, np.arange(5), targets[t]].mean() for t in range(4, 30))
    result = loss_and_metrics(config, outputs, targets)
    assert result.loss_sum == pytest.approx(expected, rel=1e-14)
    assert result.loss_reported == pytest.approx(expected / 26, rel=1e-14)
    engine, _ = value_and_grad(config, params, x, targets)
    assert engine.loss_sum == pytest.approx(expected, rel=1e-13)
    assert engine.loss_reported == pytest.approx(expected / 26, rel=1e-13)


def test_label_last_loss_definition():
    config, params, x, rng = make_case("label-last", loss_offset=0)
    targets = rng.integers(0, 4, 5)
    outputs = forward(config, params, x).outputs
    expected = -log_softmax(outputs[-1], axis=1)[np.arange(5), targets].mean()
    result = loss_and_metrics(config, outputs, targets)
    assert result.loss_sum == pytest.approx(expected, rel=1e-14)
    assert result.loss_reported == result.loss_sum
    per_step = np.tile(targets, (30, 1))
    assert loss_and_metrics(config, outputs, per_step).loss_sum == result.loss_sum


def test_cross_entropy_forms_agree():
    # (B,) labels, (T, B) repeated labels and one-hot (B, C) rows define the same loss.
    config, params, x, rng = make_case("cross-entropy", loss_offset=3)
    labels = rng.integers(0, 4, 5)
    repeated = np.tile(labels, (30, 1))
    one_hot = np.eye(4)[labels]
    results = [value_and_grad(config, params, x, targets) for targets in (labels, repeated, one_hot)]
    for result, grads in results[1:]:
        assert result.loss_sum == pytest.approx(results[0][0].loss_sum, rel=1e-13)
        for key in grads:
            scale = np.abs(results[0][1][key]).max()
            np.testing.assert_allclose(grads[key], results[0][1][key], rtol=0, atol=1e-12 * scale, err_msg=key)


def test_soft_cross_entropy_definition():
    config, params, x, rng = make_case("cross-entropy", loss_offset=2)
    soft = rng.random((5, 4))
    soft[1] = 0.0  # an all-zero row contributes nothing
    outputs = forward(config, params, x).outputs
    log_probs = log_softmax(outputs, axis=2)
    expected = sum(-(soft * log_probs[t]).sum(axis=1).mean() for t in range(2, 30))
    result, _ = value_and_grad(config, params, x, soft)
    assert result.loss_sum == pytest.approx(expected, rel=1e-13)
    assert loss_and_metrics(config, outputs, soft).loss_sum == pytest.approx(expected, rel=1e-14)


@pytest.mark.parametrize("loss,offset", [("sequence", 5), ("label-last", 0), ("cross-entropy", 4)])
def test_readout_gradient_matches_central_differences(loss, offset):
    # The readout parameters reach the loss only through the output membrane, not through
    # any spike. So while no spike flips, the loss is smooth in them and the engine's
    # gradient is the true derivative. Central differences agree to O(eps^2) + rounding.
    config, params, x, rng = make_case(loss, loss_offset=offset, seed=3)
    targets = rng.integers(0, 4, (30, 5)) if loss == "sequence" else rng.random((5, 4)) if loss == "cross-entropy" \
        else rng.integers(0, 4, 5)
    result, grads = value_and_grad(config, params, x, targets)
    assert result.spike_count > 0
    readout = ["out.linear.weight", "out.linear.bias", "out.tau_mem"]
    for _ in range(3):
        direction = {key: rng.normal(size=params[key].shape) for key in readout}
        eps = 1e-6
        losses = []
        for sign in (1.0, -1.0):
            shifted = dict(params, **{key: params[key] + sign * eps * direction[key] for key in readout})
            losses.append(value_and_grad(config, shifted, x, targets)[0])
        assert losses[0].spike_count == losses[1].spike_count == result.spike_count
        numeric = (losses[0].loss_sum - losses[1].loss_sum) / (2 * eps)
        analytic = sum((grads[key] * direction[key]).sum() for key in readout)
        assert numeric == pytest.approx(analytic, rel=1e-6, abs=1e-9)


def test_hidden_gradient_zero_where_triangle_surrogate_vanishes():
    # Without input the membrane stays at 0, so s = u - 1 - q = -1 at every step and
    # the triangle surrogate max(0, 1 - |s|) is exactly 0: no hidden parameter can
    # change the loss, and the engine must return exactly zero for all of them.
    config, params, _, rng = make_case("sequence")
    config = dataclasses.replace(config, surrogate="triangle")
    x = np.zeros((20, 3, 2))
    targets = rng.integers(0, 4, (20, 3))
    _, grads = value_and_grad(config, params, x, targets)
    for key in ("hidden.linear.weight", "hidden.omega", "hidden.b_offset"):
        np.testing.assert_array_equal(grads[key], 0.0, err_msg=key)
    assert np.abs(grads["out.linear.bias"]).max() > 0


def test_accuracy_counts_rules():
    config = RSNNConfig(model="brf", n_in=1, n_hidden=2, n_out=3, loss="sequence", loss_offset=1, dtype="float64")
    outputs = np.zeros((3, 2, 3))
    outputs[1, 0] = [0.0, 2.0, 2.0]  # tie between classes 1 and 2 goes to class 1
    outputs[2, 0] = [5.0, 0.0, 0.0]
    outputs[1, 1] = [0.0, 0.0, 1.0]
    outputs[2, 1] = [0.0, 0.0, 0.0]  # all equal: class 0
    targets = np.array([[2, 2], [1, 2], [0, 1]])
    # Per step, t >= 1: (1, 0) right, (1, 1) right, (2, 0) right, (2, 1) wrong.
    assert accuracy_counts(config, outputs, targets) == (3, 4)
    # Per sequence from the mean over t >= 1: means [2.5, 1, 1] -> 0 and [0, 0, 0.5] -> 2,
    # against the last step's classes 0 and 1.
    assert accuracy_counts(config, outputs, targets, per_step=False) == (1, 2)


def test_accuracy_label_last_uses_last_step():
    config = RSNNConfig(model="brf", n_in=1, n_hidden=2, n_out=3, loss="label-last", dtype="float64")
    outputs = np.zeros((4, 2, 3))
    outputs[-1, 0, 2] = 1.0
    outputs[0, 1, 1] = 9.0
    assert accuracy_counts(config, outputs, np.array([2, 1])) == (1, 2)


@pytest.mark.parametrize("loss,targets,message", [
    ("sequence", np.zeros(5, int), "shape"),
    ("sequence", np.zeros((30, 5)), "integer class indices, got dtype float64; for one-hot targets pass their argmax"),
    ("label-last", np.full(5, 4), "class indices"),
    ("cross-entropy", np.zeros((5, 3)), "soft"),
    ("cross-entropy", -np.ones((5, 4)), r"non-negative class weights, got -1.0 at \(sequence, class\) \(0, 0\)"),
    ("cross-entropy", np.full((5, 4), np.nan), r"finite and non-negative class weights, got nan"),
])
def test_bad_targets_raise(loss, targets, message):
    config, params, x, _ = make_case(loss)
    with pytest.raises(RFSimError, match=message):
        value_and_grad(config, params, x, targets)


def test_offset_beyond_sequence_raises():
    config, params, x, rng = make_case("sequence", loss_offset=30)
    with pytest.raises(RFSimError, match="loss_offset"):
        value_and_grad(config, params, x, rng.integers(0, 4, (30, 5)))
