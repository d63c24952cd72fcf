"""Spike deletion in the network forward pass: ``spike_keep`` in the engine and the NumPy reference.

A deleted spike still acts on the neuron that emitted it (its q, reset or ALIF
adaptation) but reaches neither the next step's recurrent drive nor the readout.
So with every spike deleted, the hidden states are those of the same network with
its recurrent block set to zero, and the outputs those of a readout without spikes.
"""

import numpy as np
import pytest

from rfsim.network import RSNNConfig, init_params
from rfsim.network import reference

MODEL_VARIANTS = [("brf", "none"), ("rf", "none"), ("rf", "hard"), ("bhrf", "none"), ("alif", "none")]


def variant_id(variant):
    model, reset = variant
    return model if reset == "none" else f"{model}-{reset}"


def make_case(model, reset="none", seed=0, n_steps=40, batch=3, **overrides):
    """Return a small network with an output bias, and an input that makes its neurons spike."""
    config = RSNNConfig(model=model, n_in=3, n_hidden=6, n_out=3, rf_reset=reset, output_bias=True, **overrides)
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
