"""Tests of SHD binning on small HDF5 files that the tests write in the published layout."""

import sys

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rfsim.data import bin_spike_events, load_shd, load_task, read_shd
from rfsim.errors import DataError, RFSimError

h5py = pytest.importorskip("h5py", reason="h5py is the optional dependency of the SHD loader")


@pytest.fixture(autouse=True)
def isolated_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("RFSIM_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("RFSIM_DATA_DIR", raising=False)


def write_shd(path, times, units, labels, time_dtype=np.float32):
    """Write an HDF5 file with vlen spikes/times, vlen uint16 spikes/units and labels."""
    with h5py.File(path, "w") as handle:
        spikes = handle.create_group("spikes")
        time_data = spikes.create_dataset("times", (len(times),), dtype=h5py.vlen_dtype(np.dtype(time_dtype)))
        unit_data = spikes.create_dataset("units", (len(units),), dtype=h5py.vlen_dtype(np.dtype(np.uint16)))
        for index, (spike_times, spike_units) in enumerate(zip(times, units)):
            time_data[index] = np.asarray(spike_times, dtype=time_dtype)
            unit_data[index] = np.asarray(spike_units, dtype=np.uint16)
        handle.create_dataset("labels", data=np.asarray(labels, dtype=np.uint8))


def random_recordings(n, seed, max_time=1.2, max_spikes=400):
    rng = np.random.default_rng(seed)
    times, units = [], []
    for _ in range(n):
        count = int(rng.integers(0, max_spikes))
        times.append(np.sort(rng.uniform(0.0, max_time, count)).astype(np.float32))
        units.append(rng.integers(0, 700, count).astype(np.uint16))
    labels = rng.integers(0, 20, n)
    return times, units, labels


def reference_readout(times, units, dt=4e-3, n_steps=250):
    """Direct transcription of the reference preprocessing's per-bin loop (binary, unit 0 dropped)."""
    image = np.zeros((n_steps, 700))
    times = np.asarray(times)
    units = np.asarray(units).astype(np.int64)
    for i in range(n_steps):
        selected = np.argwhere(times <= i * dt).flatten()
        values = units[selected]
        values = values[values > 0]
        image[i, 700 - values] = 1
        times = np.delete(times, selected)
        units = np.delete(units, selected)
    return image


def test_count_binning_conserves_spikes(tmp_path):
    times, units, labels = random_recordings(12, seed=0)
    path = tmp_path / "shd_small.h5"
    write_shd(path, times, units, labels)
    dataset = read_shd(path)
    n_spikes = sum(len(t) for t in times)
    late = sum(int((t.astype(np.float64) >= 1.0).sum()) for t in times)
    assert dataset.x.shape == (12, 250, 700)
    assert dataset.x.dtype == np.uint8
    assert dataset.metadata["n_spikes"] == n_spikes
    assert dataset.metadata["n_late_spikes"] == late
    assert late > 0
    assert dataset.metadata["n_spikes_binned"] + dataset.metadata["n_late_spikes"] == n_spikes
    assert int(dataset.x.sum(dtype=np.int64)) == n_spikes - late
    assert np.array_equal(dataset.y, labels)


def test_count_binning_per_channel_and_bin(tmp_path):
    # Hand-placed spikes: bin k contains k*4 ms <= t < (k+1)*4 ms.
    times = [np.array([0.0, 0.001, 0.0039, 0.0041, 0.5, 0.999, 1.0, 1.3], dtype=np.float64)]
    units = [np.array([5, 5, 5, 6, 699, 0, 1, 2], dtype=np.uint16)]
    x, late = bin_spike_events(times, units)
    assert x[0, 0, 5] == 3
    assert x[0, 1, 6] == 1
    assert x[0, 125, 699] == 1
    assert x[0, 249, 0] == 1
    assert late.tolist() == [2]
    assert int(x.sum()) == 6


def test_late_spikes_moved_to_last_bin():
    times = [np.array([0.1, 1.0, 1.5]), np.array([0.2])]
    units = [np.array([3, 4, 4]), np.array([9])]
    x, late = bin_spike_events(times, units, late_spikes="last")
    assert late.tolist() == [2, 0]
    assert x[0, 249, 4] == 2
    assert int(x.sum()) == 4


def test_zero_padding_of_short_recordings():
    times = [np.array([0.0, 0.01]), np.array([], dtype=np.float64)]
    units = [np.array([1, 2]), np.array([], dtype=np.uint16)]
    x, late = bin_spike_events(times, units)
    assert int(x[0, 3:].sum()) == 0
    assert int(x[1].sum()) == 0
    assert late.tolist() == [0, 0]


def test_custom_bin_width():
    times = [np.array([0.0, 0.0095, 0.0105, 0.049])]
    units = [np.array([0, 0, 0, 0])]
    x, late = bin_spike_events(times, units, dt=0.01, n_steps=5)
    assert x[0, :, 0].tolist() == [2, 1, 0, 0, 1]
    assert late.tolist() == [0]


def test_reference_binning_matches_loop(tmp_path):
    times, units, labels = random_recordings(4, seed=1, max_time=1.1, max_spikes=300)
    path = tmp_path / "shd_reference.h5"
    write_shd(path, times, units, labels)
    dataset = read_shd(path, binning="reference")
    for index in range(4):
        expected = reference_readout(times[index], units[index])
        assert np.array_equal(dataset.x[index], expected.astype(np.uint8)), index
    assert int(dataset.x[..., 0].sum()) == 0


@pytest.mark.parametrize("time_dtype", [np.float16, np.float32, np.float64])
def test_reference_binning_at_bin_edges(time_dtype):
    # Times on and next to every bin edge i * 4 ms, in the stored dtype. Rounding of the
    # edge decides the bin there, so the result is compared with the reference loop.
    edges = (np.arange(0, 250) * 4e-3).astype(time_dtype)
    times = np.concatenate([edges, np.nextafter(edges, time_dtype(2)), np.nextafter(edges, time_dtype(-1))])
    times = np.sort(np.clip(times, 0, None)).astype(time_dtype)
    units = (np.arange(times.size) % 699 + 1).astype(np.uint16)
    x, _ = bin_spike_events([times], [units], binning="reference")
    assert np.array_equal(x[0], reference_readout(times, units).astype(np.uint8))


def test_reference_binning_edges():
    # Bin i contains (i-1)*dt < t <= i*dt: t = 0 goes to bin 0, t = 4 ms to bin 1 (edge
    # included), t = 4.1 ms to bin 2. Units are mirrored to 700 - unit, unit 0 dropped.
    times = [np.array([0.0, 0.004, 0.0041, 0.002, 0.997], dtype=np.float64)]
    units = [np.array([1, 2, 3, 0, 5])]
    x, late = bin_spike_events(times, units, binning="reference")
    assert x[0, 0, 699] == 1
    assert x[0, 1, 698] == 1
    assert x[0, 2, 697] == 1
    assert int(x.sum()) == 3
    assert late.tolist() == [1]


def test_reference_binning_is_binary():
    times = [np.array([0.001, 0.002, 0.003])]
    units = [np.array([7, 7, 7])]
    x, _ = bin_spike_events(times, units, binning="reference")
    assert x[0, 1, 693] == 1
    assert int(x.sum()) == 1


@given(
    spikes=st.lists(st.tuples(st.floats(0.0, 1.5, allow_nan=False), st.integers(0, 699)), max_size=200),
    late_spikes=st.sampled_from(["drop", "last"]),
)
def test_count_binning_conservation_property(spikes, late_spikes):
    """Theorem: every spike is either in a bin or counted as late; with 'last' all are binned."""
    times = [np.array([t for t, _ in spikes], dtype=np.float64)]
    units = [np.array([u for _, u in spikes], dtype=np.int64)]
    x, late = bin_spike_events(times, units, late_spikes=late_spikes)
    n_late = sum(1 for t, _ in spikes if np.floor(t / 4e-3) >= 250)
    assert late.tolist() == [n_late]
    binned = int(x.sum(dtype=np.int64))
    assert binned == (len(spikes) if late_spikes == "last" else len(spikes) - n_late)
    per_channel = np.bincount(units[0], minlength=700) if spikes else np.zeros(700, dtype=int)
    if late_spikes == "last":
        assert np.array_equal(x[0].sum(axis=0, dtype=np.int64), per_channel)


def test_load_shd_splits(tmp_path):
    folder = tmp_path / "shd"
    folder.mkdir()
    train = random_recordings(30, seed=2, max_spikes=50)
    test = random_recordings(10, seed=3, max_spikes=50)
    write_shd(folder / "shd_train.h5", *train)
    write_shd(folder / "shd_test.h5", *test)
    task = load_shd(data_dir=tmp_path, seed=0)
    assert (len(task.train), len(task.valid), len(task.test)) == (27, 3, 10)
    assert task.n_inputs == 700
    assert task.n_classes == 20
    assert task.n_steps == 250
    assert task.batch_size == 32
    assert not task.per_step_labels
    assert all(source["verified"] == "unregistered" for source in task.metadata["source_files"])
    again = load_task("shd", data_dir=tmp_path, seed=0)
    assert np.array_equal(again.valid.metadata["indices"], task.valid.metadata["indices"])
    assert task.metadata["train_file_n_spikes"] == sum(len(t) for t in train[0])


@pytest.mark.parametrize(
    ("layout", "expected"),
    [
        ("no_labels", "missing HDF5 dataset 'labels'"),
        ("short_labels", "must have the same length"),
        ("bad_label", "labels must lie in"),
        ("negative_time", "negative or non-finite"),
    ],
)
def test_layout_rejected(tmp_path, layout, expected):
    times, units, labels = random_recordings(3, seed=4, max_spikes=20)
    path = tmp_path / "broken.h5"
    if layout == "short_labels":
        labels = labels[:2]
    if layout == "bad_label":
        labels = np.array([0, 1, 25])
    if layout == "negative_time":
        times[1] = np.array([-0.1, 0.2], dtype=np.float32)
        units[1] = np.array([1, 2], dtype=np.uint16)
    write_shd(path, times, units, labels)
    if layout == "no_labels":
        with h5py.File(path, "a") as handle:
            del handle["labels"]
    with pytest.raises(DataError, match=expected):
        read_shd(path)


def test_not_hdf5_rejected(tmp_path):
    path = tmp_path / "shd_fake.h5"
    path.write_bytes(b"not an hdf5 file" * 10)
    with pytest.raises(DataError, match="not a readable HDF5 file"):
        read_shd(path)


def test_missing_h5py_message(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "h5py", None)
    with pytest.raises(DataError, match="pip install h5py"):
        read_shd(tmp_path / "shd_train.h5")
    with pytest.raises(DataError, match="pip install h5py"):
        load_shd(data_dir=tmp_path)


def test_missing_files_message(tmp_path):
    with pytest.raises(DataError, match="https://zenkelab.org/datasets/shd_train.h5.gz"):
        load_shd(data_dir=tmp_path)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"dt": 0.0}, "dt"),
        ({"n_steps": 0}, "n_steps"),
        ({"binning": "rate"}, "binning"),
        ({"late_spikes": "keep"}, "late_spikes"),
        ({"binning": "reference", "late_spikes": "last"}, "reference"),
    ],
)
def test_invalid_options_rejected(kwargs, message):
    with pytest.raises(RFSimError, match=message):
        bin_spike_events([np.array([0.1])], [np.array([1])], **kwargs)


def test_invalid_events_rejected():
    with pytest.raises(RFSimError, match="units must lie"):
        bin_spike_events([np.array([0.1])], [np.array([700])])
    with pytest.raises(RFSimError, match="finite"):
        bin_spike_events([np.array([np.nan])], [np.array([1])])
    with pytest.raises(RFSimError, match="same number"):
        bin_spike_events([np.array([0.1])], [])
