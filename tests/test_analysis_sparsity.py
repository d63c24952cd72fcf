"""Tests of rfsim.analysis.sparsity: spike counts, firing rate and synaptic operations."""

import numpy as np
import pytest

from rfsim.analysis.sparsity import fan_outs, sparsity_measures, sparsity_report
from rfsim.errors import RFSimError
from rfsim.network import RSNNConfig, forward


def _tiny_network():
    """Return a BRF network of 2 inputs, 4 hidden neurons and 2 outputs with zeros in its weights."""
    config = RSNNConfig(model="brf", n_in=2, n_hidden=4, n_out=2)
    weight = np.array([
        # inputs     recurrent (column j is the weight j -> row i)
        [4.0, 0.0, 0.0, 0.5, -0.3, 0.0],
        [3.0, 2.5, 0.2, 0.0, 0.0, 0.0],
        [0.0, 5.0, 0.4, -0.6, 0.0, 0.7],
        [2.0, 3.0, 0.0, 0.0, 0.0, 0.2],
    ])
    params = {
        "hidden.linear.weight": weight,
        "hidden.omega": np.array([5.0, 8.0, 12.0, 20.0]),
        "hidden.b_offset": np.array([0.5, 0.3, 0.2, 0.1]),
        "out.linear.weight": np.array([[1.0, 0.0, 0.5, 0.0], [0.0, 0.0, -1.0, 2.0]]),
        "out.tau_mem": np.array([20.0, 20.0]),
    }
    # Pruning removes 2 -> 0 (entry [0, 2]) and 0 -> 2 (entry [2, 0]).
    mask = np.ones((4, 4))
    mask[0, 2] = 0.0
    mask[2, 0] = 0.0
    return config, params, mask


def _inputs(n_sequences=5, n_steps=120, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.random((n_sequences, n_steps, 2)) < 0.3) * 100.0


def test_fan_outs_of_tiny_network():
    config, params, mask = _tiny_network()
    recurrent, readout, inputs = fan_outs(config, params, mask)
    # Recurrent block columns after the mask: column 0 {0.2, 0.4->pruned}, column 1 {0.5, -0.6},
    # column 2 {-0.3->pruned}, column 3 {0.7, 0.2}.
    assert recurrent.tolist() == [1, 2, 0, 2]
    assert readout.tolist() == [1, 0, 2, 1]
    assert inputs.tolist() == [3, 3]
    unmasked, _, _ = fan_outs(config, params)
    assert unmasked.tolist() == [2, 2, 1, 2]


def test_synaptic_ops_match_hand_count():
    config, params, mask = _tiny_network()
    x = _inputs()
    report = sparsity_measures(config, params, x, mask=mask)

    recorded = forward(config, params, np.ascontiguousarray(x.transpose(1, 0, 2)), mask=mask, record=True)
    z = recorded.states["z"]
    assert z.sum() > 50, "the tiny network must spike for the count to mean anything"

    # Count by hand: every spike of neuron j adds one operation per non-zero masked weight leaving j.
    weight = params["hidden.linear.weight"]
    recurrent_ops = readout_ops = input_ops = 0
    n_steps, n_sequences, n_hidden = z.shape
    for t in range(n_steps):
        for b in range(n_sequences):
            for j in range(n_hidden):
                if z[t, b, j]:
                    for i in range(n_hidden):
                        if weight[i, 2 + j] * mask[i, j] != 0:
                            recurrent_ops += 1
                    for k in range(2):
                        if params["out.linear.weight"][k, j] != 0:
                            readout_ops += 1
            for c in range(2):
                if x[b, t, c] != 0:
                    for i in range(n_hidden):
                        if weight[i, c] != 0:
                            input_ops += 1
    assert report.recurrent_synaptic_ops == pytest.approx(recurrent_ops / n_sequences, rel=1e-15)
    assert report.readout_synaptic_ops == pytest.approx(readout_ops / n_sequences, rel=1e-15)
    assert report.synaptic_ops == pytest.approx((recurrent_ops + readout_ops) / n_sequences, rel=1e-15)
    assert report.input_synaptic_ops == pytest.approx(input_ops / n_sequences, rel=1e-15)
    assert report.input_events == pytest.approx(np.count_nonzero(x) / n_sequences, rel=1e-15)


def test_sop_equals_forward_spike_count():
    config, params, mask = _tiny_network()
    x = _inputs(n_sequences=7, n_steps=90, seed=4)
    report = sparsity_measures(config, params, x, mask=mask, batch_size=3)
    result = forward(config, params, np.ascontiguousarray(x.transpose(1, 0, 2)), mask=mask)

    assert report.hidden_spikes == result.spike_count
    assert report.sop == pytest.approx(result.spike_count / 7, rel=1e-15)
    assert report.sop_per_step == pytest.approx(result.spike_count / (7 * 90), rel=1e-15)
    assert report.firing_rate == pytest.approx(result.spike_count / (7 * 90 * 4), rel=1e-15)
    assert report.spikes_per_neuron.sum() == result.spike_count


def test_batch_size_does_not_change_the_counts():
    config, params, mask = _tiny_network()
    x = _inputs(n_sequences=6)
    single = sparsity_measures(config, params, x, mask=mask, batch_size=1)
    all_at_once = sparsity_measures(config, params, x, mask=mask)
    np.testing.assert_array_equal(single.spikes_per_neuron, all_at_once.spikes_per_neuron)
    assert single.synaptic_ops == all_at_once.synaptic_ops


def test_silent_network_has_zero_measures():
    config, params, _ = _tiny_network()
    report = sparsity_measures(config, params, np.zeros((2, 30, 2)))
    assert report.sop == 0.0
    assert report.synaptic_ops == 0.0
    assert report.input_events == 0.0


def test_report_lines_state_definitions():
    config, params, mask = _tiny_network()
    text = "\n".join(sparsity_measures(config, params, _inputs(), mask=mask, name="tiny").lines())
    assert "SOP =" in text
    assert "over all steps / 5 sequences" in text
    assert "(SOP / T)" in text
    assert "(spikes / (N T H))" in text
    assert "fan-out" in text
    assert "Hz at dt = 0.01 s" in text


def test_sparsity_report_matches_evaluation(synthetic_runs):
    from rfsim.training.runs import evaluate_checkpoint

    path = synthetic_runs["brf"] / "best.npz"
    report = sparsity_report(path, "test")
    evaluation = evaluate_checkpoint(path, split="test")
    assert report.sop == pytest.approx(evaluation.sop, rel=1e-12)
    assert report.sop_per_step == pytest.approx(evaluation.sop_per_step, rel=1e-12)
    assert report.n_sequences == evaluation.n_sequences
    assert report.dataset == "synthetic/test"

    limited = sparsity_report(path, "test", max_sequences=3)
    assert limited.n_sequences == 3


def test_sparsity_rejects_bad_input(synthetic_runs):
    config, params, _ = _tiny_network()
    with pytest.raises(RFSimError, match="input channels"):
        sparsity_measures(config, params, np.zeros((2, 10, 3)))
    with pytest.raises(RFSimError, match="batch_size"):
        sparsity_measures(config, params, np.zeros((2, 10, 2)), batch_size=0)
    with pytest.raises(RFSimError, match="mask"):
        fan_outs(config, params, np.ones((3, 3)))
    with pytest.raises(RFSimError, match="split"):
        sparsity_report(synthetic_runs["brf"] / "best.npz", "holdout")
    with pytest.raises(RFSimError, match="max_sequences"):
        sparsity_report(synthetic_runs["brf"] / "best.npz", "test", max_sequences=0)
