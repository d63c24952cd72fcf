"""Tests of the post-training robustness sweeps on the session's synthetic checkpoints."""

import numpy as np
import pytest

from rfsim.analysis._checkpoints import load_analysis_checkpoint
from rfsim.analysis.robustness import (
    MAX_BITS,
    check_levels,
    evaluate_perturbed,
    perturbed_keys,
    quantize_params,
    robustness_sweep,
    save_robustness,
    weight_noise_params,
    weight_scales,
)
from rfsim.errors import RFSimError
from rfsim.training.evaluate import evaluate_dataset


@pytest.fixture(scope="module")
def brf(synthetic_runs):
    return load_analysis_checkpoint(synthetic_runs["brf"] / "best.npz")


@pytest.fixture(scope="module")
def alif(synthetic_runs):
    return load_analysis_checkpoint(synthetic_runs["alif"] / "best.npz")


def _same_metrics(first, second):
    """Assert that two PerturbedMetrics are equal bit for bit."""
    assert first.loss == second.loss
    assert first.accuracy == second.accuracy
    assert first.sop == second.sop
    assert first.synaptic_ops == second.synaptic_ops
    np.testing.assert_array_equal(first.spikes_per_neuron, second.spikes_per_neuron)


# --- parameter perturbations ---


def test_perturbed_keys_weights_and_all(brf, alif):
    assert perturbed_keys(brf.params, "weights") == ["hidden.linear.weight", "out.linear.weight"]
    assert perturbed_keys(brf.params, "all") == sorted(brf.params)
    assert "hidden.omega" in perturbed_keys(brf.params, "all")
    # The ALIF checkpoint of the synthetic preset has no biases either; tau_* only with 'all'.
    assert "hidden.tau_adp" not in perturbed_keys(alif.params, "weights")
    assert "hidden.tau_adp" in perturbed_keys(alif.params, "all")
    with pytest.raises(RFSimError, match="parameters='biases'"):
        perturbed_keys(brf.params, "biases")


def test_quantize_zero_bits_gives_integers(brf):
    rounded = quantize_params(brf.params, 0)
    for key in ("hidden.linear.weight", "out.linear.weight"):
        np.testing.assert_array_equal(rounded[key], np.round(rounded[key]))
        # Rounding to the nearest integer moves each entry by at most 1/2.
        assert np.max(np.abs(rounded[key] - brf.params[key])) <= 0.5
    assert rounded["hidden.omega"] is brf.params["hidden.omega"]


def test_quantize_grid_and_error_bound(brf):
    for bits in (1, 3, 8, 32):
        rounded = quantize_params(brf.params, bits, "all")
        for key, value in rounded.items():
            scaled = value * 2.0**bits
            np.testing.assert_array_equal(scaled, np.round(scaled), err_msg=f"{key} at {bits} bits")
            # Nearest multiple of 2^-bits: the error is at most half a grid step.
            assert np.max(np.abs(value - brf.params[key])) <= 2.0 ** -(bits + 1), (key, bits)


def test_quantize_rejects_bad_bits(brf):
    for bits in (-1, 1.5, MAX_BITS + 1, True):
        with pytest.raises(RFSimError, match="fractional bits"):
            quantize_params(brf.params, bits)


def test_weight_scales_relative_and_absolute(brf):
    scales = weight_scales(brf.params, "weights", "relative")
    assert set(scales) == {"hidden.linear.weight", "out.linear.weight"}
    assert scales["out.linear.weight"] == pytest.approx(np.std(brf.params["out.linear.weight"]), rel=1e-15)
    absolute = weight_scales(brf.params, "all", "absolute")
    assert set(absolute) == set(brf.params)
    assert all(value == 1.0 for value in absolute.values())


def test_weight_scales_skip_pruned_entries(brf):
    weight = brf.params["hidden.linear.weight"]
    n_hidden = weight.shape[0]
    n_in = weight.shape[1] - n_hidden
    mask = np.ones((n_hidden, n_hidden))
    mask[:, ::2] = 0.0
    expected = np.std(np.concatenate([weight[:, :n_in].ravel(), weight[:, n_in:][:, 1::2].ravel()]))
    scales = weight_scales(brf.params, "weights", "relative", mask)
    assert scales["hidden.linear.weight"] == pytest.approx(expected, rel=1e-14)


def test_weight_noise_statistics():
    """The added noise of array k is N(0, (level s_k)^2): check mean and std on 40 000 entries."""
    params = {"hidden.linear.weight": np.zeros((200, 200)), "out.linear.weight": np.zeros((10, 200))}
    scales = {"hidden.linear.weight": 0.5, "out.linear.weight": 2.0}
    noisy = weight_noise_params(params, 0.3, np.random.default_rng(5), scales)
    added = noisy["hidden.linear.weight"] / 0.15
    # Standard errors for n = 40 000 unit normals: 0.005 for the mean, 0.0035 for the std; 5 sigma each.
    assert abs(added.mean()) < 0.025
    assert abs(added.std() - 1.0) < 0.018
    readout = noisy["out.linear.weight"] / 0.6
    # n = 2000: standard error of the std 0.016; 5 sigma.
    assert abs(readout.std() - 1.0) < 0.08
    assert params["hidden.linear.weight"].max() == 0.0


def test_weight_noise_scales_linearly_with_level(brf):
    """Equal draws at every level: the perturbation at 2 lambda is twice the one at lambda."""
    scales = weight_scales(brf.params)
    key = "hidden.linear.weight"
    small = weight_noise_params(brf.params, 0.1, np.random.default_rng([3, 2, 0]), scales)[key] - brf.params[key]
    large = weight_noise_params(brf.params, 0.2, np.random.default_rng([3, 2, 0]), scales)[key] - brf.params[key]
    np.testing.assert_allclose(large, 2.0 * small, rtol=1e-12, atol=1e-15)


# --- level checks ---


@pytest.mark.parametrize("kind, levels, message", [
    ("blur", [0.1], "unknown perturbation kind 'blur'"),
    ("input-noise", [], "the list of levels is empty"),
    ("weight-noise", [0.1, -0.2], "must not be negative, got -0.2"),
    ("spike-deletion", [0.5, 1.5], r"probability must lie in \[0, 1\], got p = 1.5"),
    ("quantize", [-1], "must not be negative, got -1"),
    ("quantize", [2.5], "fractional bits must be an integer"),
    ("input-noise", [np.nan], "finite"),
])
def test_check_levels_rejects(kind, levels, message):
    with pytest.raises(RFSimError, match=message):
        check_levels(kind, levels)


def test_check_levels_accepts_edges():
    np.testing.assert_array_equal(check_levels("spike-deletion", [0, 1]), [0.0, 1.0])
    np.testing.assert_array_equal(check_levels("quantize", [0, MAX_BITS]), [0.0, MAX_BITS])


# --- sweeps ---


def test_unperturbed_matches_evaluate_dataset(brf):
    dataset = brf.task.test
    expected = evaluate_dataset(brf.net_config, brf.params, dataset, brf.config, mask=brf.mask)
    got = evaluate_perturbed(brf.net_config, brf.params, dataset, brf.config, mask=brf.mask,
                             batch_size=brf.config.eval_batch_size)
    assert got.accuracy == expected.accuracy
    assert got.sop == expected.sop
    assert got.sop_per_step == expected.sop_per_step
    # Same batches, same order of summation.
    assert got.loss == expected.loss


def test_batch_size_changes_no_count(brf):
    dataset = brf.task.test
    whole = evaluate_perturbed(brf.net_config, brf.params, dataset, brf.config, input_noise=(0.5, (1, 1, 0), None, None))
    split = evaluate_perturbed(brf.net_config, brf.params, dataset, brf.config, input_noise=(0.5, (1, 1, 0), None, None),
                               batch_size=3)
    assert split.accuracy == whole.accuracy
    np.testing.assert_array_equal(split.spikes_per_neuron, whole.spikes_per_neuron)
    assert split.loss == pytest.approx(whole.loss, rel=1e-12)


def test_quantize_32_bits_leaves_accuracy(brf):
    """32 fractional bits move each weight by at most 2^-33 (1.2e-10).

    No membrane of this data lies that close to the threshold, so every spike and
    prediction is unchanged. On other data a spike could flip where u - theta is
    within about 1e-10 of zero.
    """
    sweep = robustness_sweep(brf, "quantize", [32], repeats=4)
    assert sweep.repeats == 1
    assert sweep.accuracy.shape == (1, 1)
    assert sweep.accuracy[0, 0] == sweep.baseline.accuracy
    assert sweep.sop[0, 0] == sweep.baseline.sop
    assert sweep.loss[0, 0] == pytest.approx(sweep.baseline.loss, rel=1e-8)


def test_quantize_zero_bits_changes_network(brf):
    sweep = robustness_sweep(brf, "quantize", [0, 32], parameters="all")
    assert sweep.loss[0, 0] != sweep.loss[1, 0]


@pytest.mark.parametrize("kind", ["input-noise", "weight-noise", "spike-deletion"])
def test_noise_level_zero_is_identity(brf, kind):
    sweep = robustness_sweep(brf, kind, [0.0, 0.5], repeats=2, seed=3)
    for r in range(2):
        assert sweep.loss[0, r] == sweep.baseline.loss
        assert sweep.accuracy[0, r] == sweep.baseline.accuracy
        assert sweep.sop[0, r] == sweep.baseline.sop
        assert sweep.synaptic_ops[0, r] == sweep.baseline.synaptic_ops
    # The noisy level differs from the clean network, and between repetitions.
    assert sweep.loss[1, 0] != sweep.baseline.loss
    assert sweep.loss[1, 0] != sweep.loss[1, 1]


@pytest.mark.parametrize("kind", ["input-noise", "weight-noise", "spike-deletion"])
def test_sweep_reproducible_from_seed(brf, kind):
    first = robustness_sweep(brf, kind, [0.3], repeats=2, seed=9)
    again = robustness_sweep(brf, kind, [0.3], repeats=2, seed=9)
    other = robustness_sweep(brf, kind, [0.3], repeats=2, seed=10)
    for metric in ("loss", "accuracy", "sop", "synaptic_ops"):
        np.testing.assert_array_equal(getattr(first, metric), getattr(again, metric), err_msg=metric)
    assert not np.array_equal(first.loss, other.loss)


def test_subset_draws_follow_sequence_index(brf):
    """Sequence i gets the same input noise whether the whole split or a subset is evaluated."""
    whole = robustness_sweep(brf, "input-noise", [0.4], repeats=1, seed=2)
    first = robustness_sweep(brf, "input-noise", [0.4], repeats=1, seed=2, subset=4)
    assert first.n_sequences == 4
    np.testing.assert_array_equal(first.subset, np.arange(4))
    dataset = brf.task.test.subset(np.arange(4))
    direct = evaluate_perturbed(brf.net_config, brf.params, dataset, brf.config,
                                input_noise=(0.4, (2, 1, 0), None, None))
    assert first.loss[0, 0] == pytest.approx(direct.loss, rel=1e-12)
    assert first.sop[0, 0] == direct.sop
    assert whole.n_sequences == len(brf.task.test)


def test_input_clip_keeps_clean_range(brf, monkeypatch):
    """With clipping, the network only ever sees inputs inside the clean range."""
    import rfsim.network

    seen = []
    original = rfsim.network.forward

    def spy(config, params, x, **options):
        seen.append((float(x.min()), float(x.max())))
        return original(config, params, x, **options)

    monkeypatch.setattr(rfsim.network, "forward", spy)
    sweep = robustness_sweep(brf, "input-noise", [50.0], repeats=1, clip_inputs=True)
    low, high = sweep.input_range
    assert len(seen) >= 2
    for seen_low, seen_high in seen:
        assert seen_low >= low
        assert seen_high <= high
    seen.clear()
    robustness_sweep(brf, "input-noise", [50.0], repeats=1, clip_inputs=False)
    # Noise of std 50 leaves the clean range somewhere without clipping.
    assert min(item[0] for item in seen[1:]) < low


def test_sweep_rejects_bad_options(brf):
    with pytest.raises(RFSimError, match="repeats must be an integer >= 1"):
        robustness_sweep(brf, "input-noise", [0.1], repeats=0)
    with pytest.raises(RFSimError, match="seed must be an integer >= 0"):
        robustness_sweep(brf, "input-noise", [0.1], seed=-1)
    with pytest.raises(RFSimError, match="noise_scale"):
        robustness_sweep(brf, "weight-noise", [0.1], noise_scale="percent")
    with pytest.raises(RFSimError, match="invalid split"):
        robustness_sweep(brf, "input-noise", [0.1], split="dev")
    with pytest.raises(RFSimError, match="subset must be a number of sequences"):
        robustness_sweep(brf, "input-noise", [0.1], subset=10**6)


def test_sweep_summary_and_lines(brf):
    sweep = robustness_sweep(brf, "weight-noise", [0.0, 0.2], repeats=3, seed=1, noise_scale="absolute")
    np.testing.assert_allclose(sweep.mean("loss"), sweep.loss.mean(axis=1), rtol=0, atol=0)
    np.testing.assert_allclose(sweep.std("sop"), sweep.sop.std(axis=1, ddof=1), rtol=0, atol=0)
    assert sweep.std("sop")[0] == 0.0
    text = "\n".join(sweep.lines())
    assert "weight-noise sweep of" in text
    assert "absolute" in text
    assert "unperturbed: loss" in text
    assert len(sweep.lines()) == 5 + 2


def test_save_robustness_npz_and_csv(brf, tmp_path):
    sweep = robustness_sweep(brf, "weight-noise", [0.0, 0.2], repeats=2, seed=1, subset=5)
    save_robustness(sweep, tmp_path / "sweep.npz")
    with np.load(tmp_path / "sweep.npz") as stored:
        np.testing.assert_array_equal(stored["levels"], [0.0, 0.2])
        np.testing.assert_array_equal(stored["accuracy"], sweep.accuracy)
        np.testing.assert_array_equal(stored["sop_std"], sweep.std("sop"))
        assert float(stored["baseline_loss"]) == sweep.baseline.loss
        assert str(stored["kind"]) == "weight-noise"
        np.testing.assert_array_equal(stored["subset_indices"], np.arange(5))
        assert list(stored["scale_keys"]) == ["hidden.linear.weight", "out.linear.weight"]

    save_robustness(sweep, tmp_path / "sweep.csv")
    lines = (tmp_path / "sweep.csv").read_text().splitlines()
    rows = [line for line in lines if not line.startswith("#")]
    assert rows[0] == "row,level,repeat,loss,accuracy,sop,sop_per_step,synaptic_ops"
    # Baseline, 2 levels x 2 repeats, then a mean and a std row per level.
    assert len(rows) == 1 + 1 + 4 + 2 + 2
    assert rows[1].startswith("baseline,,,")
    with pytest.raises(RFSimError, match=r"\.csv or \.npz"):
        save_robustness(sweep, tmp_path / "sweep.txt")


def test_robustness_figure_builds(brf):
    from rfsim.analysis.plots_network import robustness_figure

    sweep = robustness_sweep(brf, "input-noise", [0.0, 0.3], repeats=2)
    figure = robustness_figure(sweep)
    assert len(figure.axes) == 2
    assert "input noise std" in figure.axes[0].get_xlabel()


# --- spike deletion ---


@pytest.mark.parametrize("model", ["brf", "alif"])
def test_spike_deletion_one_silences_network(synthetic_runs, model):
    """At p = 1 no spike is delivered: SOP 0, and the readout equals one with zero readout weights."""
    loaded = load_analysis_checkpoint(synthetic_runs[model] / "best.npz")
    sweep = robustness_sweep(loaded, "spike-deletion", [1.0], repeats=2, seed=5)
    assert sweep.baseline.sop > 0
    assert np.all(sweep.sop == 0.0)
    assert np.all(sweep.synaptic_ops == 0.0)

    silent = dict(loaded.params)
    silent["out.linear.weight"] = np.zeros_like(loaded.params["out.linear.weight"])
    expected = evaluate_perturbed(loaded.net_config, silent, loaded.task.test, loaded.config, mask=loaded.mask)
    for r in range(2):
        assert sweep.loss[0, r] == expected.loss
        assert sweep.accuracy[0, r] == expected.accuracy


def test_spike_deletion_zero_matches_evaluate(brf):
    sweep = robustness_sweep(brf, "spike-deletion", [0.0], repeats=1)
    expected = evaluate_dataset(brf.net_config, brf.params, brf.task.test, brf.config, mask=brf.mask)
    assert sweep.accuracy[0, 0] == expected.accuracy
    assert sweep.sop[0, 0] == expected.sop


def test_spike_deletion_half_removes_spikes(brf):
    sweep = robustness_sweep(brf, "spike-deletion", [0.5], repeats=3, seed=2)
    assert np.all(sweep.sop < sweep.baseline.sop)
    assert np.all(sweep.sop > 0)
    assert len(set(sweep.sop[0])) > 1
