"""Tests of the IDX reader and the S-MNIST / PS-MNIST loaders.

Small IDX files are written by the tests. The t10k files are read from
RFSIM_DATA_DIR (CI sets it to the shared data folder); those tests are skipped only
when the files are absent.
"""

import gzip
import hashlib
import os
import struct
import warnings
from pathlib import Path

import numpy as np
import pytest

from rfsim.data import (IncompleteDataWarning, MissingDataError, batches, fetch_task_files, load_mnist_task,
                        load_task, read_idx, read_mnist_pair)
from rfsim.data.fetch import REGISTRY, RemoteFile
from rfsim.errors import DataError, RFSimError

REPO_ROOT = Path(__file__).resolve().parents[1]
T10K_FILES = ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")


def shared_data_dir() -> Path:
    """Return the data folder from RFSIM_DATA_DIR, or ../shared/data next to the repository."""
    value = os.environ.get("RFSIM_DATA_DIR")
    return Path(value) if value else REPO_ROOT.parent / "shared" / "data"


@pytest.fixture(scope="module")
def mnist_data_dir():
    folder = shared_data_dir()
    if not all((folder / "mnist" / name).is_file() for name in T10K_FILES):
        pytest.skip(f"MNIST t10k files not found in {folder}/mnist; set RFSIM_DATA_DIR to a folder with mnist/*.gz")
    return folder


@pytest.fixture(autouse=True)
def isolated_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("RFSIM_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("RFSIM_DATA_DIR", raising=False)


def idx_bytes(array: np.ndarray, type_code: int = 0x08) -> bytes:
    """Serialise an array as IDX: magic 0 0 type ndim, big-endian uint32 dims, big-endian values."""
    big_endian = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}[type_code]
    header = bytes([0, 0, type_code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(big_endian).tobytes()


def write_mnist_pair(folder: Path, prefix: str, images: np.ndarray, labels: np.ndarray) -> tuple[Path, Path]:
    images_path = folder / f"{prefix}-images-idx3-ubyte.gz"
    labels_path = folder / f"{prefix}-labels-idx1-ubyte.gz"
    images_path.write_bytes(gzip.compress(idx_bytes(images), mtime=0))
    labels_path.write_bytes(gzip.compress(idx_bytes(labels), mtime=0))
    return images_path, labels_path


def tiny_mnist(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    labels = (np.arange(n) % 10).astype(np.uint8)
    return images, labels


def register_tiny_files(monkeypatch, folder: Path) -> None:
    """Register the SHA-256 of the tiny files written in ``folder``, in place of the real MNIST digests."""
    for path in sorted(folder.glob("*.gz")):
        entry = REGISTRY[path.name]
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        monkeypatch.setitem(REGISTRY, path.name, RemoteFile(path.name, entry.task, entry.urls, (digest,)))


def test_read_idx_plain_and_gzip(tmp_path):
    array = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    plain = tmp_path / "plain-idx3-ubyte"
    plain.write_bytes(idx_bytes(array))
    compressed = tmp_path / "compressed-idx3-ubyte.gz"
    compressed.write_bytes(gzip.compress(idx_bytes(array)))
    assert np.array_equal(read_idx(plain), array)
    assert np.array_equal(read_idx(compressed), array)


@pytest.mark.parametrize(("type_code", "dtype"), [(0x09, np.int8), (0x0B, np.int16), (0x0C, np.int32),
                                                  (0x0D, np.float32), (0x0E, np.float64)])
def test_read_idx_other_types(tmp_path, type_code, dtype):
    array = (np.arange(6).reshape(3, 2) - 2).astype(dtype)
    path = tmp_path / "typed.idx"
    path.write_bytes(idx_bytes(array, type_code))
    result = read_idx(path)
    assert result.dtype == np.dtype(dtype)
    assert result.dtype.isnative
    assert np.array_equal(result, array)


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda data: b"\x01" + data[1:], "first two bytes must be zero"),
        (lambda data: data[:2] + b"\x07" + data[3:], "unknown IDX type code 0x07"),
        (lambda data: data[:3] + b"\x00" + data[4:], "0 dimensions"),
        (lambda data: data[:-1], "payload has 23 bytes"),
        (lambda data: data + b"\x00", "payload has 25 bytes"),
        (lambda data: data[:10], "truncated IDX header"),
        (lambda data: data[:3], "too short"),
    ],
)
def test_read_idx_corrupt_rejected(tmp_path, mutate, expected):
    data = idx_bytes(np.zeros((2, 3, 4), dtype=np.uint8))
    path = tmp_path / "broken-idx3-ubyte"
    path.write_bytes(mutate(data))
    with pytest.raises(DataError, match=expected) as caught:
        read_idx(path)
    assert "broken-idx3-ubyte" in str(caught.value)


def test_read_idx_corrupt_gzip_rejected(tmp_path):
    compressed = gzip.compress(idx_bytes(np.zeros((20, 28, 28), dtype=np.uint8)))
    path = tmp_path / "truncated-idx3-ubyte.gz"
    path.write_bytes(compressed[: len(compressed) // 2])
    with pytest.raises(DataError, match="corrupt gzip data"):
        read_idx(path)


def test_read_mnist_pair_checks(tmp_path):
    images, labels = tiny_mnist(5, seed=0)
    images_path, labels_path = write_mnist_pair(tmp_path, "ok", images, labels)
    read_images, read_labels = read_mnist_pair(images_path, labels_path)
    assert np.array_equal(read_images, images)
    assert np.array_equal(read_labels, labels)

    _, short_labels_path = write_mnist_pair(tmp_path, "short", images, labels[:4])
    with pytest.raises(DataError, match="contains 5 images but short-labels-idx1-ubyte.gz contains 4"):
        read_mnist_pair(images_path, short_labels_path)

    wrong_size_path, _ = write_mnist_pair(tmp_path, "small", np.zeros((5, 27, 28), np.uint8), labels)
    with pytest.raises(DataError, match=r"shape \(N, 28, 28\)"):
        read_mnist_pair(wrong_size_path, labels_path)

    _, bad_labels_path = write_mnist_pair(tmp_path, "eleven", images, np.full(5, 11, np.uint8))
    with pytest.raises(DataError, match="digits 0-9"):
        read_mnist_pair(images_path, bad_labels_path)


def test_t10k_only_warns_and_splits(mnist_data_dir):
    with pytest.warns(IncompleteDataWarning, match="t10k"):
        task = load_mnist_task("smnist", data_dir=mnist_data_dir, seed=0)
    assert task.metadata["test_split_only"] is True
    assert task.metadata["split_sizes"] == {"train": 7200, "valid": 800, "test": 2000}
    assert task.train.x.shape == (7200, 784, 1)
    assert task.train.x.dtype == np.float32
    assert task.train.y.shape == (7200,)
    assert task.label_last
    assert task.permutation is None
    assert task.batch_size == 256
    assert all(source["verified"] in ("sha256", "content") for source in task.metadata["source_files"])


def test_t10k_only_splits_partition_the_pool(mnist_data_dir):
    with pytest.warns(IncompleteDataWarning):
        task = load_mnist_task("smnist", data_dir=mnist_data_dir, seed=3)
    counts = task.train.class_counts() + task.valid.class_counts() + task.test.class_counts()
    # Class counts of the 10000 MNIST test images.
    assert counts.tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    pixel_sum = sum(float(part.x.sum(dtype=np.float64)) for part in task.splits.values())
    with pytest.warns(IncompleteDataWarning):
        other_seed = load_mnist_task("smnist", data_dir=mnist_data_dir, seed=4)
    assert sum(float(part.x.sum(dtype=np.float64)) for part in other_seed.splits.values()) == pytest.approx(
        pixel_sum, rel=1e-12
    )
    assert not np.array_equal(task.test.y, other_seed.test.y)


def test_pixels_scaled_like_reference(mnist_data_dir):
    with pytest.warns(IncompleteDataWarning):
        task = load_mnist_task("smnist", data_dir=mnist_data_dir, seed=0)
    images, _ = read_mnist_pair(*(mnist_data_dir / "mnist" / name for name in T10K_FILES))
    index = int(task.test.metadata["indices"][0])
    # The test split is drawn from the 10000 images; metadata indices refer to them.
    expected = images[index].reshape(784).astype(np.float32) / np.float32(255)
    assert np.array_equal(task.test.x[0, :, 0], expected)
    assert task.test.x.min() == 0.0
    assert task.test.x.max() == 1.0


def test_psmnist_permutation_applied(mnist_data_dir):
    with pytest.warns(IncompleteDataWarning):
        plain = load_mnist_task("smnist", data_dir=mnist_data_dir, seed=5)
    with pytest.warns(IncompleteDataWarning):
        permuted = load_task("psmnist", data_dir=mnist_data_dir, seed=5)
    permutation = permuted.permutation
    assert sorted(permutation.tolist()) == list(range(784))
    assert np.array_equal(permuted.test.x, plain.test.x[:, permutation])
    assert np.array_equal(permuted.test.metadata["permutation"], permutation)
    assert not permuted.label_last


def test_psmnist_permutation_reused(mnist_data_dir):
    permutation = np.arange(784)[::-1]
    with pytest.warns(IncompleteDataWarning):
        task = load_mnist_task("psmnist", data_dir=mnist_data_dir, seed=1, permutation=permutation)
    assert np.array_equal(task.permutation, permutation)
    with pytest.warns(IncompleteDataWarning):
        again = load_mnist_task("psmnist", data_dir=mnist_data_dir, seed=1)
    with pytest.warns(IncompleteDataWarning):
        same_seed = load_mnist_task("psmnist", data_dir=mnist_data_dir, seed=1)
    assert np.array_equal(again.permutation, same_seed.permutation)
    assert not np.array_equal(again.permutation, permutation)


def test_fetch_task_files_needs_training_files(mnist_data_dir):
    with pytest.raises(MissingDataError, match="train-images-idx3-ubyte.gz"):
        fetch_task_files("psmnist", data_dir=mnist_data_dir)


def test_warning_points_at_caller(mnist_data_dir):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        load_task("smnist", data_dir=mnist_data_dir)
    assert caught[0].filename == __file__


def test_full_training_files_used(tmp_path, monkeypatch):
    folder = tmp_path / "mnist"
    folder.mkdir()
    train_images, train_labels = tiny_mnist(50, seed=1)
    test_images, test_labels = tiny_mnist(20, seed=2)
    write_mnist_pair(folder, "train", train_images, train_labels)
    write_mnist_pair(folder, "t10k", test_images, test_labels)
    register_tiny_files(monkeypatch, folder)
    with warnings.catch_warnings():
        warnings.simplefilter("error", IncompleteDataWarning)
        task = load_mnist_task("psmnist", data_dir=tmp_path, seed=0)
    assert task.metadata["test_split_only"] is False
    assert task.metadata["split_sizes"] == {"train": 45, "valid": 5, "test": 20}
    assert len(task.metadata["source_files"]) == 4
    expected_test = test_images.reshape(20, 784)[:, task.permutation].astype(np.float32) / np.float32(255)
    assert np.array_equal(task.test.x[..., 0], expected_test)
    x, targets = next(batches(task.train, 8, rng=0, dtype=np.float32))
    assert x.shape == (784, 8, 1)
    assert targets.shape == (8,)


def test_tiny_file_fails_real_checksum(tmp_path):
    folder = tmp_path / "mnist"
    folder.mkdir()
    write_mnist_pair(folder, "t10k", *tiny_mnist(10, seed=0))
    with pytest.raises(DataError, match="8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6"):
        load_mnist_task("smnist", data_dir=tmp_path)


def test_invalid_options_rejected(tmp_path):
    with pytest.raises(RFSimError, match="task must be"):
        load_mnist_task("mnist", data_dir=tmp_path)
    with pytest.raises(RFSimError, match="only to task 'psmnist'"):
        load_mnist_task("smnist", data_dir=tmp_path, permutation=np.arange(784))
    with pytest.raises(RFSimError, match="exactly once"):
        load_mnist_task("psmnist", data_dir=tmp_path, permutation=np.zeros(784, dtype=int))
