"""Single-neuron steps against traces from the authors' public PyTorch implementation.

The traces (tests/data/golden/*.npz) were recorded from AdaptiveAILab/brf-neurons at
commit 5d45b0e in float64. The network files are replayed here with a minimal
recurrent loop, I_t = W [x_t; z_{t-1}] (+ bias), around this package's scalar steps,
so they check each model's default conventions (update order, damping sign, reset).
"""

import json
import pathlib

import numpy as np
import pytest

from rfsim.neurons import simulate
from rfsim.neurons.alif import ALIF_BETA, ALIF_THETA_0, alif_step, li_step
from rfsim.neurons.brf import brf_step
from rfsim.neurons.hrf import ORDER_IMPLEMENTATION, SIGN_IMPLEMENTATION, bhrf_step, p_h_omega
from rfsim.neurons.rf import RESET_NONE, rf_step
from rfsim.stability import p_omega

GOLDEN = pathlib.Path(__file__).parent / "data" / "golden"


def test_brf_single_neuron_is_bit_identical():
    golden = np.load(GOLDEN / "brf_single_neuron.npz")
    trace = simulate(
        "brf", golden["I"], omega=float(golden["omega"]), b_offset=float(golden["b_offset"]),
        dt=float(golden["dt"]), theta=float(golden["theta"]), gamma=float(golden["gamma"]),
    )

    np.testing.assert_array_equal(trace.u.real, golden["u"])
    np.testing.assert_array_equal(trace.v, golden["v"])
    np.testing.assert_array_equal(trace.q, golden["q"])
    np.testing.assert_array_equal(trace.b, golden["b"])
    np.testing.assert_array_equal(trace.z, golden["z"])
    assert np.flatnonzero(trace.z).tolist() == [102, 164, 226, 288]
    assert p_omega(10.0, 0.01) == float(golden["p_omega"])


def replay_network(golden, model):
    """Run the golden network with this package's scalar steps; return (u, second state, q, z, out)."""
    x = golden["x"]
    n_steps, batch, _ = x.shape
    weight = golden["hidden.linear.weight"]
    bias = golden["hidden.linear.bias"] if "hidden.linear.bias" in golden.files else np.zeros(weight.shape[0])
    out_weight = golden["out.linear.weight"]
    out_bias = golden["out.linear.bias"] if "out.linear.bias" in golden.files else np.zeros(out_weight.shape[0])
    out_alpha = np.exp(-1.0 / np.abs(golden["out.tau_mem"]))
    n_hidden = weight.shape[0]
    dt = 0.01

    if model == "alif":
        alpha = np.exp(-1.0 / np.abs(golden["hidden.tau_mem"]))
        rho = np.exp(-1.0 / np.abs(golden["hidden.tau_adp"]))
    else:
        omega = np.abs(golden["hidden.omega"])
        b_offset = np.abs(golden["hidden.b_offset"])
        p = p_omega(omega, dt)
        p_h = p_h_omega(omega, dt)

    state = np.zeros((3, batch, n_hidden))
    z = np.zeros((batch, n_hidden))
    out = np.zeros((batch, out_weight.shape[0]))
    u_all, second_all, q_all, z_all = (np.zeros((n_steps, batch, n_hidden)) for _ in range(4))
    out_all = np.zeros((n_steps, batch, out.shape[1]))

    for t in range(n_steps):
        current = np.concatenate([x[t], z], axis=1) @ weight.T + bias
        z_new = np.zeros_like(z)
        for b in range(batch):
            for k in range(n_hidden):
                u, second, q = state[:, b, k]
                if model == "brf":
                    u, second, q, spike = brf_step(
                        u, second, q, current[b, k], omega[k], p[k], b_offset[k], dt, 1.0, 0.9, True, True, True
                    )
                elif model == "vrf":
                    u, second, spike = rf_step(u, second, current[b, k], omega[k], -b_offset[k], dt, 1.0,
                                               RESET_NONE, False)
                elif model == "bhrf":
                    u, second, q, spike = bhrf_step(
                        u, second, q, current[b, k], omega[k], p_h[k], b_offset[k], dt, 1.0, 0.9,
                        ORDER_IMPLEMENTATION, SIGN_IMPLEMENTATION,
                    )
                else:
                    u, second, spike = alif_step(
                        u, second, z[b, k], current[b, k], alpha[k], rho[k], ALIF_THETA_0, ALIF_BETA, 0
                    )
                state[:, b, k] = u, second, q
                z_new[b, k] = spike
        z = z_new

        drive = z @ out_weight.T + out_bias
        out = np.array([[li_step(out[b, c], drive[b, c], out_alpha[c]) for c in range(out.shape[1])]
                        for b in range(batch)])
        u_all[t], second_all[t], q_all[t], z_all[t], out_all[t] = state[0], state[1], state[2], z, out
    return u_all, second_all, q_all, z_all, out_all


@pytest.mark.parametrize(
    "name, model, second_key",
    [("brf_rsnn", "brf", "v"), ("vrf_rsnn", "vrf", "v"), ("bhrf_rsnn", "bhrf", "v"), ("alif_rsnn", "alif", "a")],
)
def test_network_golden_replay(name, model, second_key):
    golden = np.load(GOLDEN / f"{name}.npz")
    assert json.loads(str(golden["meta_json"]))["dtype"] == "float64"
    u, second, q, z, out = replay_network(golden, model)

    # Identical spikes; states differ only by the rounding of the matrix product (~1e-15).
    np.testing.assert_array_equal(z, golden["z"])
    assert np.max(np.abs(u - golden["u"])) < 1e-12
    assert np.max(np.abs(second - golden[second_key])) < 1e-12
    assert np.max(np.abs(out - golden["out"])) < 1e-12
    if "q" in golden.files:
        assert np.max(np.abs(q - golden["q"])) < 1e-12
    assert z.sum() == float(golden["total_spikes"])
