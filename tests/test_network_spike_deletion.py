"""Spike deletion in the network forward pass: ``spike_keep`` in the engine and the NumPy reference.

A deleted spike still acts on the neuron that emitted it (its q, reset or ALIF
adaptation) but reaches neither the next step's recurrent drive nor the readout.
So with every spike deleted, the hidden states are those of the same network with
its recurrent block set to zero, and the outputs those of a readout without spikes.
"""

import numpy as np
import pytest

from rfsim.network import RSNNConfig, forward, init_params
from rfsim.network import reference

MODEL_VARIANTS = [("brf", "none"), ("rf", "none"), ("rf", "hard"), ("bhrf", "none"), ("alif", "none")]


def variant_id(variant):
    model, reset = variant
    return model if reset == "none" else f"{model}-{reset}"


def make_case(model, reset="none", seed=0, n_steps=40, batch=3, **overrides):
    """Return a small network with an output bias, and an input that makes its neurons spike."""
    fields = dict(model=model, n_in=3, n_hidden=6, n_out=3, rf_reset=reset, output_bias=True, dtype="float64")
    fields.update(overrides)
    config = RSNNConfig(**fields)
    rng = np.random.default_rng(seed)
    params = init_params(config, rng)
    params["out.linear.bias"] = rng.normal(0.0, 0.5, config.n_out)
    scale = 0.3 if model == "alif" else 150.0
    x = scale * rng.choice([0.0, 1.0], size=(n_steps, batch, config.n_in), p=[0.6, 0.4])
    return config, params, x


def without_recurrence(params, config):
    """Return the parameters with the recurrent block of ``hidden.linear.weight`` set to zero."""
    changed = dict(params)
    weight = params["hidden.linear.weight"].copy()
    weight[:, config.n_in:] = 0.0
    changed["hidden.linear.weight"] = weight
    return changed


def silent_readout(params, config, n_steps, batch):
    """Return o_t = alpha o_{t-1} + (1 - alpha) b_o from o = 0: the readout of a network without spikes."""
    alpha = np.exp(-1.0 / np.abs(params["out.tau_mem"]))
    out = np.zeros((n_steps, batch, config.n_out))
    previous = np.zeros((batch, config.n_out))
    for t in range(n_steps):
        previous = alpha * previous + (1.0 - alpha) * params["out.linear.bias"]
        out[t] = previous
    return out


# --- NumPy reference ---


@pytest.mark.parametrize("variant", MODEL_VARIANTS, ids=variant_id)
def test_reference_keep_all_is_identity(variant):
    config, params, x = make_case(*variant, seed=1)
    plain = reference.reference_forward(config, params, x)
    kept = reference.reference_forward(config, params, x, spike_keep=np.ones(x.shape[:2] + (6,), np.uint8))
    assert plain["spike_count"] > 0
    for name, value in plain.items():
        np.testing.assert_array_equal(kept[name], value, err_msg=name)


@pytest.mark.parametrize("variant", MODEL_VARIANTS, ids=variant_id)
def test_reference_keep_none_silences_network(variant):
    config, params, x = make_case(*variant, seed=2)
    deleted = reference.reference_forward(config, params, x, spike_keep=np.zeros(x.shape[:2] + (6,), bool))
    isolated = reference.reference_forward(config, without_recurrence(params, config), x)

    assert deleted["spike_count"] == 0
    assert not deleted["z"].any()
    # The neurons still fire; only their spikes are not delivered.
    assert isolated["spike_count"] > 0
    for name in reference.STATE_NAMES[config.model]:
        np.testing.assert_array_equal(deleted[name], isolated[name], err_msg=name)
    np.testing.assert_allclose(deleted["out"], silent_readout(params, config, *x.shape[:2]), rtol=1e-15, atol=0)


def test_reference_rejects_bad_keep_shape():
    from rfsim.errors import RFSimError

    config, params, x = make_case("brf")
    with pytest.raises(RFSimError, match=r"spike_keep must have shape \(T, B, n_hidden\) = \(40, 3, 6\)"):
        reference.reference_forward(config, params, x, spike_keep=np.ones((40, 3, 5)))


# --- engine ---


@pytest.mark.parametrize("event_driven", [True, False])
@pytest.mark.parametrize("variant", MODEL_VARIANTS, ids=variant_id)
def test_engine_keep_all_is_identity(variant, event_driven):
    config, params, x = make_case(*variant, seed=3, event_driven=event_driven)
    plain = forward(config, params, x, record=True)
    kept = forward(config, params, x, record=True, spike_keep=np.ones(x.shape[:2] + (6,), bool))
    assert plain.spike_count > 0
    assert kept.spike_count == plain.spike_count
    np.testing.assert_array_equal(kept.outputs, plain.outputs)
    for name, value in plain.states.items():
        np.testing.assert_array_equal(kept.states[name], value, err_msg=name)


@pytest.mark.parametrize("variant", MODEL_VARIANTS, ids=variant_id)
def test_engine_keep_none_silences_network(variant):
    config, params, x = make_case(*variant, seed=4, batch=5)
    deleted = forward(config, params, x, record=True, spike_keep=np.zeros(x.shape[:2] + (6,), np.uint8))
    isolated = forward(config, without_recurrence(params, config), x, record=True)

    assert deleted.spike_count == 0
    assert not deleted.states["z"].any()
    assert isolated.spike_count > 0
    for name in reference.STATE_NAMES[config.model]:
        np.testing.assert_array_equal(deleted.states[name], isolated.states[name], err_msg=name)
    # o_t of a readout without spikes, summed in the engine's order: equal to rounding.
    np.testing.assert_allclose(deleted.outputs, silent_readout(params, config, *x.shape[:2]), rtol=1e-15, atol=0)


@pytest.mark.parametrize("batch", [3, 6])
@pytest.mark.parametrize("variant", MODEL_VARIANTS, ids=variant_id)
def test_engine_random_deletion_matches_reference(variant, batch):
    """Half of the spikes deleted at random: spikes, states and outputs as in the NumPy reference."""
    config, params, x = make_case(*variant, seed=5, batch=batch)
    keep = np.random.default_rng(6).random(x.shape[:2] + (6,)) >= 0.5
    expected = reference.reference_forward(config, params, x, spike_keep=keep)
    result = forward(config, params, x, record=True, spike_keep=keep)

    emitted = reference.reference_forward(config, params, x)["spike_count"]
    assert 0 < result.spike_count < emitted
    assert result.spike_count == expected["spike_count"]
    np.testing.assert_array_equal(result.states["z"], expected["z"])
    for name in reference.STATE_NAMES[config.model]:
        np.testing.assert_allclose(result.states[name], expected[name], rtol=0, atol=1e-11, err_msg=name)
    np.testing.assert_allclose(result.outputs, expected["out"], rtol=0, atol=1e-12)


def test_engine_count_without_record():
    config, params, x = make_case("brf", seed=7)
    keep = np.random.default_rng(8).random(x.shape[:2] + (6,)) >= 0.3
    counted = forward(config, params, x, spike_keep=keep)
    recorded = forward(config, params, x, record=True, spike_keep=keep)
    assert counted.spike_count == recorded.spike_count
    assert counted.spike_count == int(recorded.states["z"].sum())
    np.testing.assert_array_equal(counted.outputs, recorded.outputs)


@pytest.mark.parametrize("keep, message", [
    (np.ones((40, 3, 5), bool), r"spike_keep must have shape \(T, B, n_hidden\) = \(40, 3, 6\)"),
    (np.full((40, 3, 6), 0.5), "boolean array or contain only the integers 0 and 1, got dtype float64"),
    (np.full((40, 3, 6), 2, np.int64), "only the integers 0 and 1, got values from 2 to 2"),
    (np.full((40, 3, 6), -1, np.int8), "only the integers 0 and 1, got values from -1 to -1"),
])
def test_engine_rejects_bad_keep(keep, message):
    from rfsim.errors import RFSimError

    config, params, x = make_case("brf")
    with pytest.raises(RFSimError, match=message):
        forward(config, params, x, spike_keep=keep)
