"""Properties of the BPTT engine: truncation, event-driven path, pruning, determinism, memory.

The gradients themselves are checked against the authors' traces
(``test_network_golden.py``) and against autograd (``test_network_autograd.py``).
"""

import dataclasses
import threading
import tracemalloc

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rfsim.errors import RFSimError
from rfsim.network import (
    RSNNConfig,
    estimate_memory_bytes,
    forward,
    init_params,
    make_pruning_mask,
    release_scratch,
    train_step_tbptt,
    value_and_grad,
)

VARIANTS = [("brf", "none"), ("rf", "none"), ("rf", "soft"), ("rf", "hard"), ("bhrf", "none"), ("alif", "none")]
INPUT_SCALE = {"brf": 150.0, "rf": 30.0, "bhrf": 300.0, "alif": 5.0}


def make_case(model="brf", reset="none", n_steps=40, batch=6, seed=0, **overrides):
    """A small network with sparse signed input that makes a few percent of neurons spike."""
    fields = dict(model=model, rf_reset=reset, n_in=3, n_hidden=7, n_out=3, hidden_bias=model == "alif",
                  dtype="float64")
    fields.update(overrides)
    config = RSNNConfig(**fields)
    rng = np.random.default_rng(seed)
    params = init_params(config, rng)
    pattern = rng.choice([-1.0, 0.0, 1.0], size=(n_steps, batch, config.n_in), p=[0.15, 0.7, 0.15])
    x = INPUT_SCALE[model] * pattern
    if config.loss == "sequence":
        targets = rng.integers(0, config.n_out, (n_steps, batch))
    else:
        targets = rng.integers(0, config.n_out, batch)
    return config, params, x, targets


def assert_grads_identical(grads, expected):
    assert set(grads) == set(expected)
    for key in expected:
        np.testing.assert_array_equal(grads[key], expected[key], err_msg=key)


def assert_same_bits(result, grads, expected, expected_grads):
    """Check that two value_and_grad calls returned the same loss, outputs and gradients, bit for bit."""
    assert result.loss_sum == expected.loss_sum
    np.testing.assert_array_equal(result.outputs, expected.outputs)
    assert_grads_identical(grads, expected_grads)


@pytest.mark.parametrize("model,reset", VARIANTS)
def test_case_spikes_but_not_saturated(model, reset):
    # The other tests are only meaningful if the networks spike sometimes.
    config, params, x, _ = make_case(model, reset)
    result = forward(config, params, x)
    rate = result.spike_count / (x.shape[0] * x.shape[1] * config.n_hidden)
    assert 0.01 < rate < 0.5


@pytest.mark.parametrize("model,reset", VARIANTS)
def test_tbptt_full_window_equals_bptt(model, reset):
    config, params, x, targets = make_case(model, reset, loss_offset=3)
    full, full_grads = value_and_grad(config, params, x, targets)
    for window in (x.shape[0], x.shape[0] + 5):
        truncated, grads = value_and_grad(config, params, x, targets, tbptt_window=window)
        assert truncated.loss_sum == full.loss_sum
        assert_grads_identical(grads, full_grads)


@pytest.mark.parametrize("model,reset", VARIANTS)
def test_tbptt_changes_gradient_not_values(model, reset):
    # Truncation cuts gradients at window starts; the forward values are unchanged.
    config, params, x, targets = make_case(model, reset)
    full, full_grads = value_and_grad(config, params, x, targets)
    truncated, grads = value_and_grad(config, params, x, targets, tbptt_window=7)
    assert truncated.loss_sum == full.loss_sum
    assert truncated.spike_count == full.spike_count
    np.testing.assert_array_equal(truncated.outputs, full.outputs)
    assert not np.allclose(grads["hidden.linear.weight"], full_grads["hidden.linear.weight"], rtol=1e-6, atol=0)


@pytest.mark.parametrize("model,reset", VARIANTS)
def test_event_driven_equals_dense(model, reset):
    config, params, x, targets = make_case(model, reset, output_bias=True)
    event, event_grads = value_and_grad(dataclasses.replace(config, event_driven=True), params, x, targets)
    dense, dense_grads = value_and_grad(dataclasses.replace(config, event_driven=False), params, x, targets)
    assert event.loss_sum == dense.loss_sum
    assert event.spike_count == dense.spike_count
    np.testing.assert_array_equal(event.outputs, dense.outputs)
    assert_grads_identical(event_grads, dense_grads)


@pytest.mark.parametrize("model,reset", VARIANTS)
def test_pruned_weights_get_zero_gradient(model, reset):
    config, params, x, targets = make_case(model, reset)
    mask = make_pruning_mask(config.n_hidden, 0.5, np.random.default_rng(3))
    assert 0 < mask.sum() < mask.size
    _, grads = value_and_grad(config, params, x, targets, mask=mask)
    recurrent = grads["hidden.linear.weight"][:, config.n_in:]
    assert np.all(recurrent[mask == 0] == 0.0)
    assert np.any(recurrent[mask == 1] != 0.0)


def test_pruning_mask_acts_as_zero_weights():
    # Masking equals zeroing the pruned weights, except for the pruned weights' gradient.
    config, params, x, targets = make_case("brf")
    mask = make_pruning_mask(config.n_hidden, 0.4, np.random.default_rng(4))
    zeroed = dict(params)
    zeroed["hidden.linear.weight"] = params["hidden.linear.weight"].copy()
    zeroed["hidden.linear.weight"][:, config.n_in:] *= mask

    masked, masked_grads = value_and_grad(config, params, x, targets, mask=mask)
    plain, plain_grads = value_and_grad(config, zeroed, x, targets)
    assert masked.loss_sum == plain.loss_sum
    np.testing.assert_array_equal(masked.outputs, plain.outputs)
    kept = np.ones_like(params["hidden.linear.weight"])
    kept[:, config.n_in:] = mask
    np.testing.assert_array_equal(masked_grads["hidden.linear.weight"], plain_grads["hidden.linear.weight"] * kept)


def test_full_and_recurrent_masks_agree():
    config, params, x, targets = make_case("bhrf")
    mask = make_pruning_mask(config.n_hidden, 0.3, np.random.default_rng(5))
    full = np.ones((config.n_hidden, config.n_in + config.n_hidden))
    full[:, config.n_in:] = mask
    _, grads_recurrent = value_and_grad(config, params, x, targets, mask=mask)
    _, grads_full = value_and_grad(config, params, x, targets, mask=full)
    assert_grads_identical(grads_recurrent, grads_full)


@pytest.mark.parametrize("model,reset", VARIANTS)
def test_two_runs_identical_bits(model, reset):
    config, params, x, targets = make_case(model, reset, batch=9)
    first, first_grads = value_and_grad(config, params, x, targets)
    second, second_grads = value_and_grad(config, params, x, targets)
    assert_same_bits(second, second_grads, first, first_grads)


@pytest.mark.parametrize("model", ["brf", "alif"])
def test_thread_count_does_not_change_bits(model):
    config, params, x, targets = make_case(model, batch=13)
    one, one_grads = value_and_grad(dataclasses.replace(config, n_threads=1), params, x, targets)
    two, two_grads = value_and_grad(dataclasses.replace(config, n_threads=2), params, x, targets)
    assert_same_bits(two, two_grads, one, one_grads)


def test_scratch_reuse_keeps_bits():
    # The engine reuses the buffers of its last call. Calls of other sizes in between, a
    # forward pass and a repeated call must all give the bits of a fresh start.
    config, params, x, targets = make_case("brf", batch=9)
    release_scratch()
    fresh, fresh_grads = value_and_grad(config, params, x, targets)

    value_and_grad(*make_case("brf", n_steps=25, batch=5, seed=1))
    forward(config, params, x)
    again, again_grads = value_and_grad(config, params, x, targets)
    reused, reused_grads = value_and_grad(config, params, x, targets)

    assert_same_bits(again, again_grads, fresh, fresh_grads)
    assert_same_bits(reused, reused_grads, fresh, fresh_grads)


@pytest.mark.parametrize("dtype,batch,window", [("float32", 9, None), ("float64", 300, None), ("float64", 9, 7)])
def test_scratch_stale_values_never_read(dtype, batch, window):
    # Kept buffers filled with NaN and with spike entries of 1 change no bit of the next
    # call: every entry a call reads, it writes first. 300 sequences run in two rounds of
    # groups, and window 7 cuts 40 steps into unequal truncated-BPTT windows.
    from rfsim.network import engine

    config, params, x, targets = make_case("brf", batch=batch, n_hidden=4 if batch > 64 else 7, dtype=dtype)
    release_scratch()
    fresh, fresh_grads = value_and_grad(config, params, x, targets, tbptt_window=window)
    fresh_forward = forward(config, params, x, record=True)

    for slot in ("backward", "forward"):
        scratch = getattr(engine._scratch, slot)
        for array in [*scratch.buffers.values(), *scratch.grads.values()]:
            array.fill(np.nan if np.issubdtype(array.dtype, np.floating) else 1)
    again, again_grads = value_and_grad(config, params, x, targets, tbptt_window=window)
    again_forward = forward(config, params, x, record=True)

    assert_same_bits(again, again_grads, fresh, fresh_grads)
    assert again_forward.spike_count == fresh_forward.spike_count
    for name, states in fresh_forward.states.items():
        np.testing.assert_array_equal(again_forward.states[name], states, err_msg=name)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("model", ["brf", "bhrf"])
def test_replay_q_row_gives_forward_bits(model, dtype):
    # The backward sweep replays q_t = gamma q_{t-1} + z_t from the stored spikes instead
    # of storing q. Its gradients keep their bits only if every replayed q is the float
    # that the forward step computed, which a gradient check to 1e-9 would not notice.
    from rfsim.network import engine
    from rfsim.network.kernels_rf import replay_q_row

    config, params, x, _ = make_case(model, dtype=dtype, gamma=0.87)
    states = forward(config, params, x, record=True).states
    assert states["z"].sum() > 0
    consts = engine._constants(config)

    n_steps, batch = x.shape[:2]
    for b in range(batch):
        q = np.zeros(config.n_hidden, config.np_dtype)
        for t in range(n_steps):
            replayed = np.empty_like(q)
            replay_q_row(q, np.ascontiguousarray(states["z"][t, b]), replayed, consts)
            np.testing.assert_array_equal(replayed.view(np.uint8), states["q"][t, b].view(np.uint8),
                                          err_msg=f"step {t}, sequence {b}")
            q = replayed


def test_scratch_kept_per_thread_and_released():
    from rfsim.network import engine

    config, params, x, targets = make_case("brf", batch=9)
    release_scratch()
    expected, _ = value_and_grad(config, params, x, targets)
    kept_buffers = engine._scratch.backward.buffers
    value_and_grad(config, params, x, targets)
    assert engine._scratch.backward.buffers is kept_buffers

    # A shorter window and a smaller batch reuse the buffers.
    value_and_grad(config, params, x[:10, :3], targets[:10, :3] if targets.ndim == 2 else targets[:3])
    assert engine._scratch.backward.buffers is kept_buffers
    # A longer window replaces them with buffers of that call's own sizes (3 groups of 4).
    longer = np.concatenate([x, x])
    value_and_grad(config, params, longer, np.concatenate([targets, targets]) if targets.ndim == 2 else targets)
    n_workers = min(engine._thread_count(config), 3)
    assert engine._scratch.backward.sizes == (n_workers, longer.shape[0], 3)
    kept_buffers = engine._scratch.backward.buffers

    # A forward pass keeps two steps whatever its length, so a longer one reuses them.
    forward(config, params, x)
    kept_forward = engine._scratch.forward.buffers
    forward(config, params, longer)
    assert engine._scratch.forward.buffers is kept_forward

    # Another thread starts without buffers and keeps its own.
    seen = {}

    def run_in_thread():
        seen["before"] = getattr(engine._scratch, "backward", None)
        seen["result"], _ = value_and_grad(config, params, x, targets)
        seen["after"] = engine._scratch.backward.buffers

    thread = threading.Thread(target=run_in_thread)
    thread.start()
    thread.join()
    assert seen["before"] is None
    assert seen["after"] is not kept_buffers
    assert seen["result"].loss_sum == expected.loss_sum
    assert engine._scratch.backward.buffers is kept_buffers

    release_scratch()
    assert getattr(engine._scratch, "backward", None) is None


def test_large_batch_runs_in_rounds():
    # More than 64 groups of 4 sequences: the gradient buffers are summed round by round,
    # and the result must still equal the sum of the gradients of two halves.
    config, params, x, targets = make_case("rf", n_steps=12, batch=300, n_hidden=4)
    result, grads = value_and_grad(config, params, x, targets)
    half = 148
    first, first_grads = value_and_grad(config, params, x[:, :half], targets[:, :half])
    second, second_grads = value_and_grad(config, params, x[:, half:], targets[:, half:])
    # The loss is a mean over the batch: L = (half L_1 + (B - half) L_2) / B.
    batch = x.shape[1]
    expected_loss = (half * first.loss_sum + (batch - half) * second.loss_sum) / batch
    assert result.loss_sum == pytest.approx(expected_loss, rel=1e-13)
    assert result.spike_count == first.spike_count + second.spike_count
    for key in grads:
        expected = (half * first_grads[key] + (batch - half) * second_grads[key]) / batch
        np.testing.assert_allclose(grads[key], expected, rtol=1e-12, atol=1e-14 * np.abs(expected).max(),
                                   err_msg=key)


def test_sequence_independent_of_batch_neighbours():
    # A sequence's outputs do not depend on the other sequences of the batch.
    config, params, x, _ = make_case("brf", batch=7)
    together = forward(config, params, x).outputs
    for b in (0, 3, 6):
        alone = forward(config, params, x[:, b:b + 1]).outputs
        np.testing.assert_array_equal(alone[:, 0], together[:, b])


@pytest.mark.parametrize("model,reset", VARIANTS)
def test_forward_matches_value_and_grad(model, reset):
    config, params, x, targets = make_case(model, reset)
    recorded = forward(config, params, x, record=True)
    result, _ = value_and_grad(config, params, x, targets)
    np.testing.assert_array_equal(recorded.outputs, result.outputs)
    assert recorded.spike_count == result.spike_count
    assert recorded.states["z"].sum() == recorded.spike_count
    np.testing.assert_array_equal(recorded.states["out"], recorded.outputs)


def test_single_brf_neuron_golden():
    # One BRF neuron with input weight 1 and no recurrence, driven by the stored current:
    # the authors' trace, bit for bit (the drive is I_t * 1.0 exactly).
    from pathlib import Path

    data = np.load(Path(__file__).parent / "data" / "golden" / "brf_single_neuron.npz")
    config = RSNNConfig(model="brf", n_in=1, n_hidden=1, n_out=2, dt=float(data["dt"]), dtype="float64")
    params = {
        "hidden.linear.weight": np.array([[1.0, 0.0]]),
        "hidden.omega": np.array([float(data["omega"])]),
        "hidden.b_offset": np.array([float(data["b_offset"])]),
        "out.linear.weight": np.zeros((2, 1)),
        "out.tau_mem": np.array([20.0, 20.0]),
    }
    result = forward(config, params, data["I"][:, None, None], record=True)
    for state in ("z", "u", "v", "q"):
        np.testing.assert_array_equal(result.states[state][:, 0, 0], data[state], err_msg=state)


def test_train_step_full_window_is_bptt():
    config, params, x, targets = make_case("brf")
    calls = []
    result = train_step_tbptt(config, params, x, targets, x.shape[0], calls.append)
    expected, expected_grads = value_and_grad(config, params, x, targets)
    assert len(calls) == 1
    assert result.loss_sum == expected.loss_sum
    assert_grads_identical(calls[0], expected_grads)


def test_train_step_window_gradients_sum():
    config, params, x, targets = make_case("alif", loss_offset=2)
    calls = []
    train_step_tbptt(config, params, x, targets, 9, calls.append)
    assert len(calls) == 5  # windows [0, 9), [9, 18), [18, 27), [27, 36), [36, 40)
    _, expected = value_and_grad(config, params, x, targets, tbptt_window=9)
    for key in expected:
        total = sum(call[key] for call in calls)
        np.testing.assert_allclose(total, expected[key], rtol=0, atol=1e-12 * np.abs(expected[key]).max(),
                                   err_msg=key)


def test_train_step_updates_between_windows():
    # Plain gradient descent applied per window: the second window must run with the
    # parameters updated by the first, so its outputs differ from a run without updates.
    config, params, x, targets = make_case("brf")
    params = {key: value.copy() for key, value in params.items()}
    frozen = {key: value.copy() for key, value in params.items()}

    def sgd(grads):
        for key, grad in grads.items():
            params[key] -= 0.05 * grad

    result = train_step_tbptt(config, params, x, targets, 20, sgd)
    untouched = forward(config, frozen, x).outputs
    np.testing.assert_array_equal(result.outputs[:20], untouched[:20])
    assert not np.array_equal(result.outputs[20:], untouched[20:])
    assert any(not np.array_equal(params[key], frozen[key]) for key in params)


def test_train_step_label_last_updates_once():
    config, params, x, targets = make_case("brf", loss="label-last")
    calls = []
    result = train_step_tbptt(config, params, x, targets, 15, calls.append)
    assert len(calls) == 1  # only the last window scores a step
    expected, _ = value_and_grad(config, params, x, targets)
    assert result.loss_sum == pytest.approx(expected.loss_sum, rel=1e-13)


def test_float32_dtype_throughout():
    config, params, x, targets = make_case("bhrf", dtype="float32")
    result, grads = value_and_grad(config, params, x, targets)
    assert result.outputs.dtype == np.float32
    for key, grad in grads.items():
        assert grad.dtype == np.float32, key
    config64 = dataclasses.replace(config, dtype="float64")
    params64 = {key: value.astype(np.float64) for key, value in params.items()}
    result64, _ = value_and_grad(config64, params64, x, targets)
    assert result.loss_sum == pytest.approx(result64.loss_sum, rel=1e-4)


def test_memory_estimate_scales():
    config = RSNNConfig(model="brf", n_in=1, n_hidden=256, n_out=10, loss="label-last", n_threads=2,
                         dtype="float64")
    smnist = estimate_memory_bytes(config, 784, 256)
    assert smnist < 1.5e9
    assert estimate_memory_bytes(config, 1568, 256) > 1.8 * smnist - 2e8
    assert estimate_memory_bytes(config, 784, 256, tbptt_window=50) < smnist
    assert estimate_memory_bytes(config, 784, 256, record=True) > 784 * 256 * 256 * 8 * 3


MEMORY_CALLS = ["value_and_grad", "tbptt", "label-last with mask", "soft cross-entropy", "int32 targets",
                "forward", "forward record", "forward bool spike_keep", "forward int64 spike_keep"]


def run_memory_call(kind, model, dtype):
    """Run one engine call of ``kind`` twice (the first compiles), the second under tracemalloc.

    Returns the traced peak [bytes] of the second call, with no scratch kept from the first,
    and the matching ``estimate_memory_bytes``.
    """
    loss = {"label-last with mask": "label-last", "soft cross-entropy": "cross-entropy"}.get(kind, "sequence")
    # With spike deletion the (T, B, h) mask is the largest array, so the sizes are larger there.
    sizes = dict(n_steps=300, batch=13, n_hidden=128) if kind.endswith("spike_keep") else dict(
        n_steps=120, batch=9, n_hidden=24)
    config, params, x, targets = make_case(model, dtype=dtype, loss=loss, n_threads=2, **sizes)
    rng = np.random.default_rng(1)
    options = {}
    if kind == "tbptt":
        options["tbptt_window"] = 50
    if kind == "label-last with mask":
        options["mask"] = make_pruning_mask(config.n_hidden, 0.5, rng)
    if kind == "soft cross-entropy":
        targets = rng.random((9, config.n_out))
    if kind == "int32 targets":
        targets = targets.astype(np.int32)
    keep = None
    if kind.endswith("spike_keep"):
        keep = rng.random((x.shape[0], x.shape[1], config.n_hidden)) < 0.8
        keep = keep if kind.startswith("forward bool") else keep.astype(np.int64)

    def call():
        if kind.startswith("forward"):
            forward(config, params, x, record=kind == "forward record", spike_keep=keep)
        else:
            value_and_grad(config, params, x, targets, **options)

    call()
    release_scratch()
    tracemalloc.start()
    try:
        start = tracemalloc.get_traced_memory()[0]
        call()
        peak = tracemalloc.get_traced_memory()[1] - start
    finally:
        tracemalloc.stop()
        release_scratch()
    estimate = estimate_memory_bytes(config, x.shape[0], x.shape[1], tbptt_window=options.get("tbptt_window"),
                                     record=kind == "forward record", backward=not kind.startswith("forward"),
                                     spike_keep=keep is not None)
    return peak, estimate


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("kind", MEMORY_CALLS)
@pytest.mark.parametrize("model", ["brf", "rf", "bhrf", "alif"])
def test_memory_estimate_bounds_traced_peak(model, kind, dtype):
    peak, estimate = run_memory_call(kind, model, dtype)
    assert peak <= estimate, f"{kind}: traced peak {peak} bytes above the estimate {estimate}"
    assert peak > 0.25 * estimate, f"{kind}: estimate {estimate} bytes is loose against the traced peak {peak}"


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.uint8, np.int32])
@pytest.mark.parametrize("shape", [(1,), (3, 5), (256, 272), (2, 7, 13)])
def test_aligned_arrays_start_a_cache_line(shape, dtype):
    from rfsim.network import kernels_bptt as kb

    out = kb.aligned_empty(shape, dtype)
    assert out.shape == shape
    assert out.dtype == dtype
    assert out.flags.c_contiguous
    assert out.ctypes.data % kb.LINE_BYTES == 0
    values = np.arange(np.prod(shape)).reshape(shape).astype(dtype)
    copy = kb.aligned_copy(values)
    assert copy.ctypes.data % kb.LINE_BYTES == 0
    np.testing.assert_array_equal(copy, values)


def test_padded_width_rounds_up_to_whole_lines():
    from rfsim.network import kernels_bptt as kb

    assert [kb.padded_width(n, 4) for n in (1, 16, 17, 32, 266)] == [16, 16, 32, 32, 272]
    assert [kb.padded_width(n, 8) for n in (1, 8, 9, 266)] == [8, 8, 16, 272]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_prepared_weights_padded_and_aligned(dtype):
    from rfsim.network import engine
    from rfsim.network import kernels_bptt as kb

    config, params, _, _ = make_case("brf", n_hidden=9, n_out=4, dtype=dtype)
    raw = {key: value.astype(dtype) for key, value in params.items()}
    prepared = engine._prepare(config, raw, None)
    w_ext_t = prepared.w_ext_t
    # h + C = 13 columns round up to 16: one float32 line or two float64 lines.
    assert w_ext_t.shape == (9, 16)
    assert w_ext_t.dtype == dtype
    assert all(w_ext_t[j].ctypes.data % kb.LINE_BYTES == 0 for j in range(9))
    np.testing.assert_array_equal(w_ext_t[:, :9], raw["hidden.linear.weight"][:, 3:].T)
    np.testing.assert_array_equal(w_ext_t[:, 9:13], raw["out.linear.weight"].T)
    assert not w_ext_t[:, 13:].any()
    for name in ("w_in_t", "w_rec", "w_out"):
        assert getattr(prepared, name).ctypes.data % kb.LINE_BYTES == 0, name


def test_serial_kernels_skip_reference_counting():
    # Array views in the per-step kernels must not touch shared reference counts.
    from rfsim import _numba
    from rfsim.network import kernels_bptt, kernels_common, kernels_rf

    assert _numba._HAS_NRT_OPTION
    for kernel in (kernels_bptt._run_group, kernels_bptt._readout_adjoint_step, kernels_common.recurrent_adjoint,
                   kernels_common.scatter_add_spike_rows, kernels_rf.brf_backward_row):
        assert kernel.targetoptions.get("_nrt") is False, kernel.__name__


def test_kernels_stay_in_bounds():
    # Numba skips index checks unless NUMBA_BOUNDSCHECK is set, so an out-of-bounds read
    # (for example of a row padded to whole cache lines) would go unnoticed elsewhere.
    import os
    import subprocess
    import sys

    script = (
        "import numpy as np\n"
        "from rfsim.network import RSNNConfig, forward, init_params, value_and_grad\n"
        "for dtype in ('float32', 'float64'):\n"
        "    for event_driven in (True, False):\n"
        "        config = RSNNConfig(model='brf', n_in=2, n_hidden=5, n_out=3, dtype=dtype, loss='sequence',\n"
        "                            event_driven=event_driven)\n"
        "        rng = np.random.default_rng(0)\n"
        "        params = init_params(config, rng)\n"
        "        x = 150.0 * rng.choice([-1.0, 0.0, 1.0], size=(12, 6, 2), p=[0.2, 0.6, 0.2])\n"
        "        targets = rng.integers(0, 3, (12, 6))\n"
        "        value_and_grad(config, params, x, targets)\n"
        "        forward(config, params, x, record=True)\n"
        "        forward(config, params, x, spike_keep=rng.random((12, 6, 5)) < 0.5)\n"
    )
    env = dict(os.environ, NUMBA_BOUNDSCHECK="1", RFSIM_NUMBA_CACHE="0")
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]


def test_memory_limit_raises_with_advice():
    config, params, x, targets = make_case("brf", memory_limit_bytes=10_000)
    with pytest.raises(RFSimError, match=r"limit of 0.0 MiB \(10000 bytes\).*smaller batch or fewer steps \(even"):
        value_and_grad(config, params, x, targets)
    with pytest.raises(RFSimError, match="record fewer steps.*memory_limit_bytes"):
        forward(config, params, x, record=True)


@pytest.mark.parametrize("n_steps, batch", [(0, 4), (10, 0), (2.5, 4), (10, True)])
def test_memory_estimate_rejects_bad_sizes(n_steps, batch):
    config, _, _, _ = make_case("brf")
    with pytest.raises(RFSimError, match="must be a positive integer"):
        estimate_memory_bytes(config, n_steps, batch)


def test_memory_limit_suggests_fitting_window():
    config, params, x, targets = make_case("brf", n_steps=200)
    limit = estimate_memory_bytes(config, 200, x.shape[1], tbptt_window=60)
    config = dataclasses.replace(config, memory_limit_bytes=limit)
    for window in (None, 100):
        with pytest.raises(RFSimError, match=r"pass tbptt_window=60 or less"):
            value_and_grad(config, params, x, targets, tbptt_window=window)
    with pytest.raises(RFSimError, match=r"pass window=60 or less"):
        train_step_tbptt(config, params, x, targets, 100, lambda grads: None)

    value_and_grad(config, params, x, targets, tbptt_window=60)


def test_non_finite_input_or_parameter_raises():
    config, params, x, targets = make_case("brf")
    bad_x = x.copy()
    bad_x[5, 1, 2] = np.nan
    message = r"x in float64 contains 1 NaN or infinite value\(s\), the first nan at index \(5, 1, 2\)"
    with pytest.raises(RFSimError, match=message):
        value_and_grad(config, params, bad_x, targets)
    bad_x[5, 1, 2] = np.inf
    with pytest.raises(RFSimError, match="x in float64 contains 1 NaN"):
        forward(config, params, bad_x)
    config32 = dataclasses.replace(config, dtype="float32")
    large = x.copy()
    large[0, 0, 0] = 1e39
    with pytest.raises(RFSimError, match=r"x in float32 contains 1 NaN or infinite .*beyond the range of float32"), \
            np.errstate(over="ignore"):
        forward(config32, params, large)

    bad_params = dict(params, **{"hidden.omega": params["hidden.omega"].copy()})
    bad_params["hidden.omega"][3] = np.nan
    with pytest.raises(RFSimError, match=r"params\['hidden.omega'\] in float64 contains 1 NaN .* index \(3,\)"):
        value_and_grad(config, bad_params, x, targets)


def test_unknown_parameter_key_raises():
    config, params, x, _ = make_case("brf")
    extra = dict(params, **{"hidden.linear.bias": np.zeros(config.n_hidden)})
    with pytest.raises(RFSimError, match=r"keys \['hidden.linear.bias'\] that model='brf' with hidden_bias=False"):
        forward(config, extra, x)
    misspelled = dict(params)
    misspelled["out.linear.weigth"] = misspelled.pop("out.linear.weight")
    misspelled[1] = np.zeros(2)
    with pytest.raises(RFSimError, match=r"keys \[1, 'out.linear.weigth'\] .* and lacks \['out.linear.weight'\]"):
        forward(config, misspelled, x)


@pytest.mark.parametrize("bad_x", [np.zeros((10, 2)), np.zeros((10, 2, 4)), np.zeros((0, 2, 3))])
def test_bad_input_shape_raises(bad_x):
    config, params, _, _ = make_case("brf")
    with pytest.raises(RFSimError, match="x"):
        forward(config, params, bad_x)


def test_missing_or_misshapen_parameter_raises():
    config, params, x, _ = make_case("brf")
    missing = {key: value for key, value in params.items() if key != "hidden.omega"}
    with pytest.raises(RFSimError, match="hidden.omega"):
        forward(config, missing, x)
    wrong = dict(params, **{"out.tau_mem": np.ones(5)})
    with pytest.raises(RFSimError, match="out.tau_mem"):
        forward(config, wrong, x)


def test_bad_mask_and_window_raise():
    config, params, x, targets = make_case("brf")
    with pytest.raises(RFSimError, match="mask"):
        forward(config, params, x, mask=np.ones((3, 3)))
    with pytest.raises(RFSimError, match=r"0 and 1, got 0.5 at index \(0, 3\)"):
        forward(config, params, x, mask=np.full((7, 7), 0.5))
    with pytest.raises(RFSimError, match="tbptt_window"):
        value_and_grad(config, params, x, targets, tbptt_window=0)
    with pytest.raises(RFSimError, match="tbptt_window must be a positive integer number of steps, got 10.0"):
        value_and_grad(config, params, x, targets, tbptt_window=10.0)
    with pytest.raises(RFSimError, match="apply_update"):
        train_step_tbptt(config, params, x, targets, 5, None)


@settings(max_examples=25)
@given(seed=st.integers(0, 2**16), extra=st.integers(0, 10), model=st.sampled_from(["brf", "rf", "bhrf", "alif"]))
def test_property_long_window_is_full_bptt(seed, extra, model):
    """Theorem: truncated BPTT with a window K >= T cuts nothing, so it is full BPTT bit for bit."""
    config, params, x, targets = make_case(model, n_steps=15, batch=3, seed=seed)
    full, full_grads = value_and_grad(config, params, x, targets)
    truncated, grads = value_and_grad(config, params, x, targets, tbptt_window=15 + extra)
    assert truncated.loss_sum == full.loss_sum
    assert_grads_identical(grads, full_grads)


@settings(max_examples=25)
@given(seed=st.integers(0, 2**16), split=st.integers(1, 8), model=st.sampled_from(["brf", "rf", "bhrf", "alif"]))
def test_property_batch_split_keeps_outputs(seed, split, model):
    """Theorem: sequences do not interact, so splitting the batch anywhere leaves every output unchanged."""
    config, params, x, _ = make_case(model, n_steps=12, batch=9, seed=seed)
    together = forward(config, params, x)
    first = forward(config, params, x[:, :split])
    second = forward(config, params, x[:, split:])
    np.testing.assert_array_equal(np.concatenate([first.outputs, second.outputs], axis=1), together.outputs)
    assert first.spike_count + second.spike_count == together.spike_count


def test_omega_beyond_boundary_warns():
    # p(omega) = (-1 + sqrt(1 - (dt omega)^2)) / dt has no real value for omega > 1/dt.
    from rfsim.errors import DivergenceWarning

    config, params, x, targets = make_case("brf")
    params = dict(params, **{"hidden.omega": params["hidden.omega"].copy()})
    params["hidden.omega"][0] = -150.0
    with pytest.warns(DivergenceWarning, match="1/dt"):
        _, grads = value_and_grad(config, params, x, targets)
    assert np.isnan(grads["hidden.omega"][0])
