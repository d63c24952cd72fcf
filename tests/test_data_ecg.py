"""Tests of the QTDB ECG loader on the published files and on .mat files written here.

The published files are read from RFSIM_DATA_DIR (CI sets it to the shared data
folder); those tests are skipped only when the files are absent.
"""

import os
import shutil
from pathlib import Path

import numpy as np
import pytest
import scipy.io

from rfsim.data import batches, fetch_task_files, load_ecg, load_task, read_qtdb, summarize_task
from rfsim.errors import DataError

REPO_ROOT = Path(__file__).resolve().parents[1]


def shared_data_dir() -> Path | None:
    """Return the data folder from RFSIM_DATA_DIR, or ../shared/data next to the repository."""
    value = os.environ.get("RFSIM_DATA_DIR")
    return Path(value) if value else REPO_ROOT.parent / "shared" / "data"


@pytest.fixture(scope="module")
def ecg_data_dir():
    folder = shared_data_dir()
    if not all((folder / "ecg" / name).is_file() for name in ("QTDB_train.mat", "QTDB_test.mat")):
        pytest.skip(f"QTDB files not found in {folder}/ecg; set RFSIM_DATA_DIR to a folder with ecg/QTDB_*.mat")
    return folder


@pytest.fixture(scope="module")
def ecg_task(ecg_data_dir):
    return load_ecg(data_dir=ecg_data_dir, seed=0)


@pytest.fixture(autouse=True)
def isolated_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("RFSIM_CACHE_DIR", str(tmp_path / "cache"))


def write_qtdb_like(path, n_sequences=3, n_steps=6, rng_seed=0, **overrides):
    """Write a small .mat file in the published QTDB layout; overrides replace or drop keys."""
    rng = np.random.default_rng(rng_seed)
    x = np.zeros((n_sequences, n_steps, 4), dtype=np.int16)
    x[:, :-1, 0] = rng.random((n_sequences, n_steps - 1)) < 0.3
    x[:, :-1, 3] = rng.random((n_sequences, n_steps - 1)) < 0.3
    x[:, -1, 0] = -1
    y = np.zeros((n_sequences, n_steps, 6), dtype=np.uint8)
    classes = rng.integers(0, 6, size=(n_sequences, n_steps))
    np.put_along_axis(y, classes[..., None], 1, axis=2)
    y[0, 1] = 0  # one all-zero row
    contents = {"x": x, "y": y, "t": np.tile(np.arange(n_steps, dtype=np.uint16), (n_sequences, 1))}
    for key, value in overrides.items():
        if value is None:
            contents.pop(key)
        else:
            contents[key] = value
    scipy.io.savemat(path, contents)
    return x, y


def test_published_split_sizes(ecg_task):
    assert (len(ecg_task.train), len(ecg_task.valid), len(ecg_task.test)) == (557, 61, 141)


def test_published_shapes_and_dtypes(ecg_task):
    for part in (ecg_task.train, ecg_task.valid, ecg_task.test):
        assert part.x.shape[1:] == (1300, 4)
        assert part.x.dtype == np.uint8
        assert part.y.shape == (len(part), 1300)
        assert part.per_step_labels
        assert set(np.unique(part.x)) <= {0, 1}
    assert ecg_task.n_inputs == 4
    assert ecg_task.n_classes == 6
    assert ecg_task.n_steps == 1300
    assert ecg_task.batch_size == 16
    assert ecg_task.eval_batch_size == 141
    assert not ecg_task.label_last


def test_published_class_counts(ecg_task):
    # Counts over all 1300 steps of the 141 test recordings, zero rows counted as class 0.
    expected_test = [43175, 10135, 9835, 9056, 55849, 55250]
    assert ecg_task.test.class_counts().tolist() == expected_test
    train_and_valid = ecg_task.train.class_counts() + ecg_task.valid.class_counts()
    assert train_and_valid.tolist() == [166171, 49448, 46481, 35742, 242613, 262945]


def test_published_zero_label_rows(ecg_task):
    # 8.2 % of training and 10.4 % of test steps have an all-zero one-hot row.
    assert ecg_task.metadata["zero_label_steps"] == {"train_file": 65697, "test_file": 19034}
    assert ecg_task.test.metadata["zero_label_fraction"] == pytest.approx(19034 / (141 * 1300), abs=1e-12)


def test_published_events_per_channel(ecg_task):
    events = ecg_task.test.x.sum(axis=(0, 1), dtype=np.int64)
    assert events.tolist() == [15968, 12650, 14923, 14356]


def test_published_channel_pairs_exclusive(ecg_task):
    x = ecg_task.test.x
    assert not np.any(x[..., 0] & x[..., 1])
    assert not np.any(x[..., 2] & x[..., 3])


def test_split_deterministic_and_disjoint(ecg_data_dir, ecg_task):
    again = load_ecg(data_dir=ecg_data_dir, seed=0)
    assert np.array_equal(again.valid.metadata["indices"], ecg_task.valid.metadata["indices"])
    assert np.array_equal(again.train.x, ecg_task.train.x)
    train_indices = set(ecg_task.train.metadata["indices"].tolist())
    valid_indices = set(ecg_task.valid.metadata["indices"].tolist())
    assert train_indices.isdisjoint(valid_indices)
    assert train_indices | valid_indices == set(range(618))


def test_split_depends_on_seed(ecg_data_dir, ecg_task):
    other = load_ecg(data_dir=ecg_data_dir, seed=1)
    assert not np.array_equal(other.valid.metadata["indices"], ecg_task.valid.metadata["indices"])


def test_metadata_records_checked_sources(ecg_task):
    sources = ecg_task.metadata["source_files"]
    assert [Path(source["path"]).name for source in sources] == ["QTDB_train.mat", "QTDB_test.mat"]
    assert sources[0]["sha256"] == "72d1a10c96f1540880447e07256835d66da419c0b34f3dff495731a7928c5bc7"
    assert all(source["verified"] == "sha256" for source in sources)


def test_load_task_ecg_batches(ecg_data_dir):
    task = load_task("ecg", data_dir=ecg_data_dir, seed=0, valid_fraction=0.1)
    assert len(task.valid) == 61
    x, targets = next(batches(task.train, 16, rng=0))
    assert x.shape == (1300, 16, 4)
    assert x.dtype == np.float64
    assert targets.shape == (1300, 16)
    assert targets.dtype == np.int64


def test_fetch_task_files_verifies(ecg_data_dir):
    fetched = fetch_task_files("ecg", data_dir=ecg_data_dir)
    assert [item.path.name for item in fetched] == ["QTDB_train.mat", "QTDB_test.mat"]
    assert [item.verified for item in fetched] == ["sha256", "sha256"]


def test_summary_counts(ecg_task):
    summary = summarize_task(ecg_task)
    assert summary["splits"]["test"]["n_sequences"] == 141
    assert summary["splits"]["test"]["class_counts"] == [43175, 10135, 9835, 9056, 55849, 55250]
    assert summary["n_steps"] == 1300


def test_corrupted_published_copy_rejected(ecg_data_dir, tmp_path):
    folder = tmp_path / "data"
    (folder / "ecg").mkdir(parents=True)
    shutil.copy(ecg_data_dir / "ecg" / "QTDB_test.mat", folder / "ecg" / "QTDB_test.mat")
    shutil.copy(ecg_data_dir / "ecg" / "QTDB_train.mat", folder / "ecg" / "QTDB_train.mat")
    target = folder / "ecg" / "QTDB_train.mat"
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0x01
    target.write_bytes(bytes(data))
    with pytest.raises(DataError, match="72d1a10c96f1540880447e07256835d66da419c0b34f3dff495731a7928c5bc7"):
        load_ecg(data_dir=folder)


def test_missing_file_message(tmp_path):
    with pytest.raises(DataError) as caught:
        load_ecg(data_dir=tmp_path)
    message = str(caught.value)
    assert "QTDB_train.mat" in message
    assert "https://raw.githubusercontent.com/byin-cwi/Efficient-spiking-networks/main/data/QTDB_train.mat" in message
    assert "RFSIM_DATA_DIR" in message


def test_read_small_file_layout(tmp_path):
    path = tmp_path / "small.mat"
    x, y = write_qtdb_like(path, n_sequences=3, n_steps=6)
    dataset = read_qtdb(path)
    assert dataset.x.shape == (3, 5, 4)
    assert np.array_equal(dataset.x, x[:, :-1].astype(np.uint8))
    assert np.array_equal(dataset.y, y[:, :-1].argmax(axis=2))
    assert dataset.y[0, 1] == 0
    assert dataset.metadata["zero_label_steps"] == 1


def test_read_keeps_last_step_on_request(tmp_path):
    path = tmp_path / "nopad.mat"
    x = np.zeros((2, 4, 4), dtype=np.int16)
    y = np.zeros((2, 4, 6), dtype=np.uint8)
    y[..., 2] = 1
    scipy.io.savemat(path, {"x": x, "y": y})
    dataset = read_qtdb(path, drop_last_step=False)
    assert dataset.n_steps == 4
    assert np.all(dataset.y == 2)


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"x": None}, "missing key"),
        ({"y": None}, "missing key"),
        ({"x": np.zeros((3, 6), dtype=np.int16)}, "3-D"),
        ({"x": np.zeros((3, 6, 5), dtype=np.int16)}, "4 channels"),
        ({"y": np.zeros((3, 6, 7), dtype=np.uint8)}, "6 classes"),
        ({"y": np.zeros((3, 5, 6), dtype=np.uint8)}, "differ in"),
        ({"x": np.zeros((3, 6, 4), dtype=np.float64)}, "must hold integers"),
        ({"x": np.full((3, 6, 4), 2, dtype=np.int16)}, "must be in"),
        ({"y": np.ones((3, 6, 6), dtype=np.uint8)}, "one-hot"),
        ({"t": np.zeros((3, 2), dtype=np.uint16)}, "'t' must have shape"),
    ],
)
def test_layout_rejected(tmp_path, overrides, expected):
    path = tmp_path / "bad.mat"
    write_qtdb_like(path, **overrides)
    with pytest.raises(DataError, match=expected) as caught:
        read_qtdb(path)
    assert str(path) in str(caught.value)


def test_end_marker_inside_sequence_rejected(tmp_path):
    path = tmp_path / "marker.mat"
    x = np.zeros((2, 5, 4), dtype=np.int16)
    x[0, 2, 0] = -1
    write_qtdb_like(path, n_sequences=2, n_steps=5, x=x)
    with pytest.raises(DataError, match="before the last step"):
        read_qtdb(path)


def test_not_a_mat_file_rejected(tmp_path):
    path = tmp_path / "garbage.mat"
    path.write_bytes(b"this is not a MATLAB file" * 20)
    with pytest.raises(DataError, match="not a readable MATLAB"):
        read_qtdb(path)
