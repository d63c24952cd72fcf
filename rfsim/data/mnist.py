"""Sequential MNIST (S-MNIST) and permuted sequential MNIST (PS-MNIST).

Each 28 x 28 image becomes a sequence of T = 784 steps with one input channel: the
pixels in row-major order, scaled to [0, 1] as ``float32(pixel) / 255`` (as the
reference's ``ToTensor`` does). PS-MNIST reorders the steps of every image with one
fixed permutation drawn from a seed: ``x'[t] = x[permutation[t]]``. Both tasks label
each sequence with its digit. The reference scores S-MNIST on the last step only
(``label_last``) and PS-MNIST at every step.

The images come in the IDX format (optionally gzip-compressed), which
:func:`read_idx` parses and checks: a 4-byte magic number ``0x00 0x00 <type> <ndim>``,
``ndim`` big-endian uint32 dimensions, then the values in row-major order.
"""

from __future__ import annotations

import gzip
import os
import warnings
import zlib
from pathlib import Path

import numpy as np

from rfsim.data.dataset import Dataset, IncompleteDataWarning, TaskData, as_rng
from rfsim.data.fetch import Downloader, FetchedFile, MissingDataError, fetch_file
from rfsim.errors import DataError, RFSimError

__all__ = [
    "MNIST_BATCH_SIZE",
    "MNIST_N_STEPS",
    "draw_permutation",
    "load_mnist_task",
    "read_idx",
    "read_mnist_pair",
]

MNIST_N_STEPS = 784
"""Sequence length: 28 x 28 pixels, one per step."""

MNIST_BATCH_SIZE = 256
"""Training batch size of the reference S-MNIST and PS-MNIST scripts."""

# IDX type byte -> big-endian NumPy dtype.
_IDX_DTYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_GZIP_MAGIC = b"\x1f\x8b"


def _read_bytes(path: Path) -> bytes:
    try:
        with open(path, "rb") as stream:
            raw = stream.read()
        if raw[:2] == _GZIP_MAGIC:
            return gzip.decompress(raw)
        return raw
    except (EOFError, zlib.error, gzip.BadGzipFile) as error:
        raise DataError(f"{path.name}: corrupt gzip data ({error}); delete the file and fetch it again") from error


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (plain or gzip-compressed) into a native-endian array.

    Parameters
    ----------
    path : path-like
        IDX file, for example ``t10k-images-idx3-ubyte.gz``.

    Returns
    -------
    ndarray
        Array with the file's dimensions and dtype.

    Raises
    ------
    DataError
        Naming the file and the problem: corrupt gzip data, a wrong magic number,
        an unknown type code, a truncated header, or a payload whose size differs
        from the product of the dimensions.
    """
    path = Path(path)
    data = _read_bytes(path)
    if len(data) < 4:
        raise DataError(f"{path.name}: file too short for an IDX header ({len(data)} bytes)")
    if data[0] != 0 or data[1] != 0:
        raise DataError(
            f"{path.name}: invalid IDX magic number 0x{data[:4].hex()}: the first two bytes must be zero"
        )
    type_code, n_dims = data[2], data[3]
    if type_code not in _IDX_DTYPES:
        raise DataError(f"{path.name}: unknown IDX type code 0x{type_code:02x} in magic number 0x{data[:4].hex()}")
    if n_dims < 1:
        raise DataError(f"{path.name}: IDX magic number 0x{data[:4].hex()} declares 0 dimensions")
    header_size = 4 + 4 * n_dims
    if len(data) < header_size:
        raise DataError(f"{path.name}: truncated IDX header: {n_dims} dimensions need {header_size} bytes, "
                        f"file has {len(data)}")
    shape = tuple(int(size) for size in np.frombuffer(data, dtype=">u4", count=n_dims, offset=4))
    dtype = _IDX_DTYPES[type_code]
    expected_bytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    payload_bytes = len(data) - header_size
    if payload_bytes != expected_bytes:
        raise DataError(
            f"{path.name}: IDX payload has {payload_bytes} bytes, but dimensions {shape} of {dtype.name} "
            f"need {expected_bytes}"
        )
    values = np.frombuffer(data, dtype=dtype, offset=header_size).reshape(shape)
    return values.astype(dtype.newbyteorder("="))


def read_mnist_pair(images_path: str | os.PathLike, labels_path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """Read and check an MNIST image file and its label file.

    Returns
    -------
    images : ndarray of uint8, shape (N, 28, 28)
    labels : ndarray of uint8, shape (N,), digits 0-9

    Raises
    ------
    DataError
        If either file is not valid IDX, the images are not unsigned bytes of
        shape (N, 28, 28), the labels are not unsigned bytes of shape (N,) with
        values 0-9, or the two counts differ.
    """
    images_path, labels_path = Path(images_path), Path(labels_path)
    images = read_idx(images_path)
    labels = read_idx(labels_path)
    if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != (28, 28):
        raise DataError(
            f"{images_path.name}: MNIST images must be uint8 of shape (N, 28, 28), "
            f"got {images.dtype} of shape {images.shape}"
        )
    if labels.dtype != np.uint8 or labels.ndim != 1:
        raise DataError(
            f"{labels_path.name}: MNIST labels must be uint8 of shape (N,), got {labels.dtype} of shape {labels.shape}"
        )
    if labels.shape[0] != images.shape[0]:
        raise DataError(
            f"{images_path.name} contains {images.shape[0]} images but {labels_path.name} contains {labels.shape[0]} labels"
        )
    if labels.size and labels.max() > 9:
        raise DataError(f"{labels_path.name}: labels must be digits 0-9, found {labels.max()}")
    return images, labels


def draw_permutation(seed: int | np.random.Generator) -> np.ndarray:
    """Draw the PS-MNIST time-step permutation of the 784 steps from a seed."""
    return as_rng(seed).permutation(MNIST_N_STEPS).astype(np.int64)


def _check_permutation(permutation) -> np.ndarray:
    array = np.asarray(permutation)
    if array.shape != (MNIST_N_STEPS,) or not np.issubdtype(array.dtype, np.integer):
        raise RFSimError(f"permutation must be 784 integers, got dtype {array.dtype} with shape {array.shape}")
    if not np.array_equal(np.sort(array), np.arange(MNIST_N_STEPS)):
        raise RFSimError("permutation must contain each step index 0-783 exactly once")
    return array.astype(np.int64)


def _to_sequences(images: np.ndarray, permutation: np.ndarray | None) -> np.ndarray:
    # Row-major flattening, then float32(pixel) / 255 as in the reference.
    sequences = images.reshape(images.shape[0], MNIST_N_STEPS)
    if permutation is not None:
        sequences = sequences[:, permutation]
    return (sequences.astype(np.float32) / np.float32(255.0))[:, :, None]


def _make_dataset(images, labels, permutation, name, sources, notes) -> Dataset:
    metadata = {"source_files": sources, "notes": list(notes)}
    if permutation is not None:
        metadata["permutation"] = permutation
    return Dataset(_to_sequences(images, permutation), labels.astype(np.uint8), 10, name, False, metadata)


def _fetch_optional(name, data_dir, download, downloader) -> FetchedFile | None:
    try:
        return fetch_file(name, data_dir=data_dir, download=download, downloader=downloader)
    except MissingDataError:
        return None


def load_mnist_task(
    task: str = "smnist",
    *,
    data_dir: str | os.PathLike | None = None,
    seed: int = 0,
    valid_size: int | float = 0.1,
    test_size: int | float = 0.2,
    permutation=None,
    download: bool | None = None,
    downloader: Downloader | None = None,
    _stacklevel: int = 2,
) -> TaskData:
    """Load S-MNIST or PS-MNIST: 784 steps, 1 input channel, 10 classes, one label per sequence.

    Parameters
    ----------
    task : {"smnist", "psmnist"}
        Plain or permuted pixel order.
    data_dir : path-like, optional
        Local data folder with ``mnist/<IDX files>`` (overrides ``RFSIM_DATA_DIR``).
    seed : int
        Seed of the train/validation split. Also the seed of the PS-MNIST
        permutation when ``permutation`` is not given.
    valid_size : int or float
        Validation sequences: a count, or a fraction of the training sequences
        rounded down (0.1 gives 60000 -> 54000 / 6000, as in the reference).
    test_size : int or float
        Used only when the training files are missing. It sets the test sequences
        taken from the 10000 t10k images (0.2 gives 2000), and ``valid_size`` then
        splits the rest into train and validation.
    permutation : array of 784 ints, optional
        PS-MNIST step order to reuse, for example one stored with a checkpoint.
    download, downloader
        Passed to :func:`rfsim.data.fetch.fetch_file`.

    Returns
    -------
    TaskData
        ``permutation`` is the PS-MNIST order (None for S-MNIST).
        ``metadata["test_split_only"]`` is true when the splits come from the
        t10k files alone.

    Warns
    -----
    IncompleteDataWarning
        When only the t10k files are available, so all three splits are drawn from
        the 10000 test images and results are not comparable to published ones.
    """
    if task not in ("smnist", "psmnist"):
        raise RFSimError(f"task must be 'smnist' or 'psmnist', got {task!r}")
    if task == "psmnist":
        permutation = draw_permutation(seed) if permutation is None else _check_permutation(permutation)
    elif permutation is not None:
        raise RFSimError("permutation applies only to task 'psmnist'")

    test_images_file = fetch_file("t10k-images-idx3-ubyte.gz", data_dir=data_dir, download=download,
                                  downloader=downloader)
    test_labels_file = fetch_file("t10k-labels-idx1-ubyte.gz", data_dir=data_dir, download=download,
                                  downloader=downloader)
    train_images_file = _fetch_optional("train-images-idx3-ubyte.gz", data_dir, download, downloader)
    train_labels_file = _fetch_optional("train-labels-idx1-ubyte.gz", data_dir, download, downloader)
    test_images, test_labels = read_mnist_pair(test_images_file.path, test_labels_file.path)
    test_sources = [test_images_file.as_metadata(), test_labels_file.as_metadata()]
    notes = ["pixels scaled as float32(pixel) / 255, row-major, one pixel per step"]
    if permutation is not None:
        notes.append("steps reordered as x'[t] = x[permutation[t]]")

    test_split_only = train_images_file is None or train_labels_file is None
    if test_split_only:
        warnings.warn(
            "MNIST training files not found; train, validation and test splits are drawn from the "
            "10000 t10k test images only, so accuracies are not comparable to published results. "
            "Put train-images-idx3-ubyte.gz and train-labels-idx1-ubyte.gz next to the t10k files to fix this.",
            IncompleteDataWarning,
            stacklevel=_stacklevel,
        )
        notes.append("only the t10k files were available: all splits come from the 10000 test images")
        pool = _make_dataset(test_images, test_labels, permutation, f"{task}/t10k", test_sources, notes)
        remainder, test = pool.split(test_size, rng=np.random.default_rng([seed, 1]),
                                     names=(f"{task}/train+valid", f"{task}/test"))
        train, valid = remainder.split(valid_size, rng=seed, names=(f"{task}/train", f"{task}/valid"))
        sources = test_sources
    else:
        train_images, train_labels = read_mnist_pair(train_images_file.path, train_labels_file.path)
        train_sources = [train_images_file.as_metadata(), train_labels_file.as_metadata()]
        full_train = _make_dataset(train_images, train_labels, permutation, f"{task}/train", train_sources, notes)
        train, valid = full_train.split(valid_size, rng=seed, names=(f"{task}/train", f"{task}/valid"))
        test = _make_dataset(test_images, test_labels, permutation, f"{task}/test", test_sources, notes)
        sources = train_sources + test_sources

    return TaskData(
        name=task,
        train=train,
        valid=valid,
        test=test,
        n_inputs=1,
        n_classes=10,
        n_steps=MNIST_N_STEPS,
        per_step_labels=False,
        label_last=task == "smnist",
        batch_size=MNIST_BATCH_SIZE,
        eval_batch_size=MNIST_BATCH_SIZE,
        permutation=permutation,
        metadata={
            "seed": seed,
            "split_sizes": {"train": len(train), "valid": len(valid), "test": len(test)},
            "test_split_only": test_split_only,
            "source_files": sources,
            "notes": notes,
        },
    )
