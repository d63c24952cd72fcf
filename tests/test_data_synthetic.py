"""Tests of the synthetic frequency task and of the Dataset / batches helpers."""

import json

import numpy as np
import pytest

from rfsim.data import (Dataset, TaskData, batches, class_frequencies, fetch_task_files, load_task,
                        make_frequency_dataset, summarize_task)
from rfsim.data.synthetic import load_frequency_task
from rfsim.errors import RFSimError


def test_same_seed_same_data():
    first = load_task("synthetic", seed=7)
    second = load_task("synthetic", seed=7)
    for split_name in ("train", "valid", "test"):
        assert np.array_equal(first.splits[split_name].x, second.splits[split_name].x)
        assert np.array_equal(first.splits[split_name].y, second.splits[split_name].y)


def test_different_seed_different_data():
    assert not np.array_equal(load_task("synthetic", seed=1).train.x, load_task("synthetic", seed=2).train.x)


def test_splits_drawn_independently():
    task = load_task("synthetic", seed=0, n_train=64, n_valid=64, n_test=64)
    assert not np.array_equal(task.train.x, task.valid.x)
    assert not np.array_equal(task.valid.x, task.test.x)


def test_default_shapes_and_layout():
    task = load_task("synthetic")
    assert task.train.x.shape == (512, 250, 4)
    assert task.train.x.dtype == np.float32
    assert task.train.y.shape == (512,)
    assert (len(task.valid), len(task.test)) == (128, 128)
    assert (task.n_inputs, task.n_classes, task.n_steps) == (4, 4, 250)
    assert not task.per_step_labels
    assert not task.label_last
    assert set(np.unique(task.train.x).tolist()) == {0.0, 100.0}


def test_sequence_labels_balanced():
    dataset = make_frequency_dataset(103, rng=0)
    counts = dataset.class_counts()
    assert counts.sum() == 103
    assert counts.max() - counts.min() <= 1


def test_step_labels_balanced_segments():
    dataset = make_frequency_dataset(30, labels="step", n_segments=4, n_steps=200, rng=0)
    assert dataset.per_step_labels
    assert dataset.y.shape == (30, 200)
    segment_classes = dataset.y[:, ::50]
    counts = np.bincount(segment_classes.ravel(), minlength=4)
    assert counts.max() - counts.min() <= 1
    # Labels are constant within each 50-step segment.
    assert np.all(dataset.y.reshape(30, 4, 50) == segment_classes[:, :, None])


def test_regular_spike_counts_match_frequency():
    # A jittered regular train at f Hz over T·dt seconds has about f·T·dt spikes per channel
    # (within one spike at the ends, plus rare merges or losses from jitter).
    frequencies = class_frequencies()
    dataset = make_frequency_dataset(200, kind="regular", rng=1)
    duration = dataset.n_steps * 0.01
    for k, frequency in enumerate(frequencies):
        counts = (dataset.x[dataset.y == k] > 0).sum(axis=1)
        assert np.all(np.abs(counts - frequency * duration) <= 2.0), frequency


def test_poisson_rate_matches_frequency():
    # Bernoulli trains: mean count = f·dt·T; with 50 sequences × 4 channels × 250 steps per
    # class the standard error of the mean rate is below 3 % of the lowest rate.
    frequencies = class_frequencies()
    dataset = make_frequency_dataset(200, kind="poisson", rng=2)
    for k, frequency in enumerate(frequencies):
        rate = (dataset.x[dataset.y == k] > 0).mean(dtype=np.float64) / 0.01
        assert rate == pytest.approx(frequency, rel=0.1)


def test_noise_adds_spikes():
    quiet = make_frequency_dataset(40, rng=3)
    noisy = make_frequency_dataset(40, rng=3, noise_rate=5.0)
    assert np.count_nonzero(noisy.x) > np.count_nonzero(quiet.x)


def test_amplitude_scales_inputs():
    unit = make_frequency_dataset(10, rng=4, amplitude=1.0)
    scaled = make_frequency_dataset(10, rng=4, amplitude=2.5)
    assert np.array_equal(scaled.x, unit.x * np.float32(2.5))
    assert set(np.unique(unit.x).tolist()) == {0.0, 1.0}


def test_count_classifier_learns_task():
    # Spike counts per channel identify the frequency, so a nearest-centroid rule on the
    # train split should classify the test split almost perfectly: the task is learnable.
    task = load_task("synthetic", seed=0)
    train_counts = (task.train.x > 0).sum(axis=1).astype(np.float64)
    test_counts = (task.test.x > 0).sum(axis=1).astype(np.float64)
    centroids = np.stack([train_counts[task.train.y == k].mean(axis=0) for k in range(task.n_classes)])
    distances = ((test_counts[:, None, :] - centroids[None]) ** 2).sum(axis=2)
    accuracy = (distances.argmin(axis=1) == task.test.y).mean()
    assert accuracy >= 0.95


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"frequencies": [5.0]}, "at least two"),
        ({"frequencies": [5.0, 5.0]}, "distinct"),
        ({"frequencies": [5.0, -1.0]}, "positive"),
        ({"frequencies": [5.0, 60.0]}, "two steps per period"),
        ({"kind": "burst"}, "kind"),
        ({"labels": "frame"}, "labels"),
        ({"n_channels": 0}, "n_channels"),
        ({"jitter": -0.1}, "jitter"),
        ({"noise_rate": 1000.0}, "noise_rate"),
        ({"amplitude": 0.0}, "amplitude"),
        ({"labels": "step", "n_segments": 300}, "n_segments"),
    ],
)
def test_invalid_options_rejected(kwargs, message):
    with pytest.raises(RFSimError, match=message):
        make_frequency_dataset(4, **kwargs)


def test_load_frequency_task_rejects_reserved_options():
    with pytest.raises(RFSimError, match="'rng' is set by load_frequency_task"):
        load_frequency_task(rng=0)


def test_load_task_valid_fraction():
    task = load_task("synthetic", seed=0, valid_fraction=0.2, n_train=40, n_valid=8, n_test=8)
    assert len(task.valid) == 8
    with pytest.raises(RFSimError, match="valid_fraction must lie in"):
        load_task("synthetic", valid_fraction=1.5)


def test_summary_is_json():
    summary = json.loads(json.dumps(summarize_task(load_task("synthetic", n_train=8, n_valid=4, n_test=4))))
    assert summary["splits"]["valid"]["n_sequences"] == 4
    assert summary["splits"]["train"]["class_counts"] == [2, 2, 2, 2]
    assert fetch_task_files("synthetic") == []


def test_unknown_task_rejected():
    with pytest.raises(RFSimError, match="unknown task 'cifar'"):
        load_task("cifar")


def small_dataset(per_step=False):
    x = np.arange(5 * 3 * 2, dtype=np.uint8).reshape(5, 3, 2)
    y = np.tile(np.arange(3, dtype=np.uint8), (5, 1)) if per_step else np.arange(5, dtype=np.uint8) % 3
    return Dataset(x, y, 3, "tiny", per_step)


def test_dataset_arrays_read_only():
    dataset = small_dataset()
    with pytest.raises(ValueError):
        dataset.x[0, 0, 0] = 1
    with pytest.raises(TypeError):
        dataset.metadata["extra"] = 1


def test_dataset_validation():
    x = np.zeros((4, 3, 2), dtype=np.uint8)
    with pytest.raises(RFSimError, match=r"y must have shape \(4,\)"):
        Dataset(x, np.zeros((4, 3), dtype=np.uint8), 2, "bad", False)
    with pytest.raises(RFSimError, match=r"labels must lie in \[0, 2\)"):
        Dataset(x, np.full(4, 2, dtype=np.uint8), 2, "bad", False)
    with pytest.raises(RFSimError, match="integer labels"):
        Dataset(x, np.zeros(4), 2, "bad", False)
    with pytest.raises(RFSimError, match=r"\(N, T, C\)"):
        Dataset(np.zeros((4, 3)), np.zeros(4, dtype=int), 2, "bad", False)


def test_subset_and_split():
    dataset = small_dataset()
    part = dataset.subset([4, 0])
    assert np.array_equal(part.x, dataset.x[[4, 0]])
    assert part.metadata["indices"].tolist() == [4, 0]
    first, second = dataset.split(2, rng=0)
    assert (len(first), len(second)) == (3, 2)
    assert sorted(first.metadata["indices"].tolist() + second.metadata["indices"].tolist()) == list(range(5))
    again_first, _ = dataset.split(2, rng=0)
    assert np.array_equal(again_first.x, first.x)
    assert len(dataset.split(0.5, rng=0)[1]) == 2  # int(0.5 * 5) = 2
    with pytest.raises(RFSimError, match="fraction"):
        dataset.split(1.5)
    with pytest.raises(RFSimError, match="lie in"):
        dataset.subset([5])


def test_batches_layout_and_coverage():
    dataset = small_dataset()
    seen = []
    for x, targets in batches(dataset, 2, rng=0):
        assert x.shape[0] == 3
        assert x.shape[2] == 2
        assert x.dtype == np.float64
        assert x.flags.c_contiguous
        assert targets.dtype == np.int64
        for column in range(x.shape[1]):
            index = int(x[0, column, 0]) // 6
            seen.append(index)
            assert np.array_equal(x[:, column, :], dataset.x[index])
            assert targets[column] == dataset.y[index]
    assert sorted(seen) == list(range(5))


def test_batches_per_step_targets():
    dataset = small_dataset(per_step=True)
    x, targets = next(batches(dataset, 5, shuffle=False, dtype=np.float32))
    assert x.dtype == np.float32
    assert targets.shape == (3, 5)
    assert np.array_equal(targets, dataset.y.T)


def test_batches_deterministic_and_drop_last():
    dataset = small_dataset()
    first = [targets.tolist() for _, targets in batches(dataset, 2, rng=3)]
    second = [targets.tolist() for _, targets in batches(dataset, 2, rng=3)]
    assert first == second
    assert [len(t) for t in first] == [2, 2, 1]
    assert [len(t) for _, t in batches(dataset, 2, rng=3, drop_last=True)] == [2, 2]
    in_order = [t.tolist() for _, t in batches(dataset, 5, shuffle=False)]
    assert in_order == [dataset.y.tolist()]


def test_batches_generator_advances_between_epochs():
    dataset = make_frequency_dataset(64, rng=0)
    generator = np.random.default_rng(11)
    epoch_one = np.concatenate([t for _, t in batches(dataset, 16, rng=generator)])
    epoch_two = np.concatenate([t for _, t in batches(dataset, 16, rng=generator)])
    assert not np.array_equal(epoch_one, epoch_two)
    replay = np.random.default_rng(11)
    assert np.array_equal(np.concatenate([t for _, t in batches(dataset, 16, rng=replay)]), epoch_one)


def test_batches_invalid_arguments():
    dataset = small_dataset()
    with pytest.raises(RFSimError, match="batch_size"):
        next(batches(dataset, 0))
    with pytest.raises(RFSimError, match="floating-point"):
        next(batches(dataset, 2, dtype=np.int32))
    with pytest.raises(RFSimError, match="rng"):
        next(batches(dataset, 2, rng="seed"))


def test_task_data_checks_split_shapes():
    dataset = small_dataset()
    other = Dataset(np.zeros((2, 4, 2), dtype=np.uint8), np.zeros(2, dtype=np.uint8), 3, "other", False)
    with pytest.raises(RFSimError, match="split 'valid'"):
        TaskData("tiny", dataset, other, dataset, 2, 3, 3, False, False, 2, 2)
