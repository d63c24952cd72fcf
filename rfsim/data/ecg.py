"""QT database ECG task: per-step waveform classification from level-crossing spikes.

The files ``QTDB_train.mat`` (618 recordings) and ``QTDB_test.mat`` (141) were
prepared by Yin et al. (2021) and are used unchanged by the authors' BRF code. Each
contains

* ``x``: int16 (N, 1301, 4). Two ECG leads, each encoded into an up-event and a
  down-event channel (see :mod:`rfsim.data.encoding`). The channel pairs (0, 1)
  and (2, 3) never fire at the same step, which identifies them as the two leads.
  The files do not record which channel of a pair is the up channel. The last step
  is padding and contains the end marker -1 in channel 0.
* ``y``: uint8 (N, 1301, 6), a one-hot waveform class per step (six classes).
  Some rows are all zero: 8.2 % of the training steps and 10.4 % of the test steps.
* ``t`` (N, 1301) step indices and ``max_i`` (N, 1) sequence lengths (all 1301),
  which rfsim checks but does not use.

Conventions of the reference implementation that rfsim follows: the last step is
dropped (T = 1300); the class of a step is the argmax of its one-hot row, so an
all-zero row counts as class 0 (argmax picks the first index on ties); 10 % of the
training recordings, ``int(0.1 * 618) = 61``, form the validation split. The
reference draws that split from PyTorch's unseeded global generator, so rfsim
draws it from ``seed`` instead and cannot reproduce the authors' exact split.
"""

from __future__ import annotations

import os
import zlib
from pathlib import Path

import numpy as np

from rfsim.data.dataset import Dataset, TaskData
from rfsim.data.fetch import Downloader, FetchedFile, fetch_file
from rfsim.errors import DataError

__all__ = ["ECG_BATCH_SIZE", "ECG_N_CLASSES", "ECG_N_INPUTS", "load_ecg", "read_qtdb"]

ECG_N_INPUTS = 4
"""Input channels: up and down events of two leads."""

ECG_N_CLASSES = 6
"""Waveform classes labelled per step."""

ECG_BATCH_SIZE = 16
"""Training batch size of the published ECG BRF model."""


def _load_mat(path: Path) -> dict:
    import scipy.io
    from scipy.io.matlab import MatReadError

    # scipy's reader fails on malformed input with many exception types: MatReadError
    # for truncated files, IndexError or ValueError for other bytes, zlib.error for a
    # damaged compressed variable, NotImplementedError for MATLAB v7.3 (HDF5) files.
    read_errors = (MatReadError, ValueError, TypeError, IndexError, KeyError, OSError, EOFError,
                   NotImplementedError, zlib.error)
    try:
        return scipy.io.loadmat(str(path))
    except read_errors as error:
        raise DataError(f"{path}: not a readable MATLAB v5 file ({type(error).__name__}: {error})") from error


def _check_integer_array(path: Path, key: str, array: np.ndarray) -> None:
    if array.dtype.kind not in "iub":
        raise DataError(
            f"{path}: '{key}' must hold integers (int16 events / uint8 one-hot in the published files), "
            f"got dtype {array.dtype}"
        )


def _check_values(path: Path, key: str, array: np.ndarray, allowed: tuple[int, ...], where: str) -> None:
    values = np.unique(array)
    unexpected = np.setdiff1d(values, np.asarray(allowed))
    if unexpected.size:
        first_values = ", ".join(str(value) for value in unexpected[:5])
        raise DataError(f"{path}: '{key}' {where} must be in {set(allowed)}, found {first_values}")


def read_qtdb(
    path: str | os.PathLike,
    *,
    name: str = "ecg",
    drop_last_step: bool = True,
    n_inputs: int | None = ECG_N_INPUTS,
    n_classes: int | None = ECG_N_CLASSES,
) -> Dataset:
    """Read a QTDB ``.mat`` file in the layout of Yin et al. (2021) and check it.

    Parameters
    ----------
    path : path-like
        ``.mat`` file with ``x`` (N, T, C) integer events and ``y`` (N, T, K) one-hot labels.
    name : str
        Name of the returned dataset.
    drop_last_step : bool
        Drop the final padding step, which may hold the end marker -1 (T = 1301 -> 1300).
    n_inputs, n_classes : int or None
        Expected C and K (4 and 6 for the published files); None accepts any.

    Returns
    -------
    Dataset
        ``x`` uint8 (N, T', C) in {0, 1}; ``y`` uint8 (N, T') class per step, the
        argmax of the one-hot row with all-zero rows as class 0. ``metadata`` counts
        the all-zero rows (``"zero_label_steps"``).

    Raises
    ------
    DataError
        If the file is not a MAT file or any key, shape, dtype or value differs
        from the layout above. The message names the file and the problem.
    """
    path = Path(path)
    contents = _load_mat(path)
    missing = [key for key in ("x", "y") if key not in contents]
    if missing:
        found = sorted(key for key in contents if not key.startswith("__"))
        raise DataError(f"{path}: missing key(s) {missing}; expected 'x' and 'y', found {found}")
    x = contents["x"]
    y = contents["y"]

    if x.ndim != 3 or y.ndim != 3:
        raise DataError(f"{path}: 'x' and 'y' must be 3-D (N, T, channels), got shapes {x.shape} and {y.shape}")
    if x.shape[:2] != y.shape[:2]:
        raise DataError(f"{path}: 'x' {x.shape} and 'y' {y.shape} differ in (N, T)")
    if n_inputs is not None and x.shape[2] != n_inputs:
        raise DataError(f"{path}: 'x' must have {n_inputs} channels, got shape {x.shape}")
    if n_classes is not None and y.shape[2] != n_classes:
        raise DataError(f"{path}: 'y' must have {n_classes} classes, got shape {y.shape}")
    minimum_steps = 2 if drop_last_step else 1
    if x.shape[0] < 1 or x.shape[1] < minimum_steps:
        raise DataError(f"{path}: 'x' has no sequences or fewer than {minimum_steps} steps, shape {x.shape}")
    _check_integer_array(path, "x", x)
    _check_integer_array(path, "y", y)
    if "t" in contents and contents["t"].shape != x.shape[:2]:
        raise DataError(f"{path}: 't' must have shape {x.shape[:2]}, got {contents['t'].shape}")

    if drop_last_step:
        _check_values(path, "x", x[:, :-1], (0, 1), "before the last step")
        _check_values(path, "x", x[:, -1], (-1, 0, 1), "at the padding step")
        x = x[:, :-1]
        y = y[:, :-1]
    else:
        _check_values(path, "x", x, (0, 1), "")
    _check_values(path, "y", y, (0, 1), "")
    row_sums = y.sum(axis=2, dtype=np.int64)
    if row_sums.max() > 1:
        n_multi = int((row_sums > 1).sum())
        raise DataError(f"{path}: 'y' must be one-hot, but {n_multi} steps have more than one class set")

    # argmax returns the first maximum, so an all-zero row becomes class 0 (reference convention).
    labels = y.argmax(axis=2).astype(np.uint8)
    zero_rows = int((row_sums == 0).sum())
    metadata = {
        "zero_label_steps": zero_rows,
        "zero_label_fraction": zero_rows / row_sums.size,
        "dropped_last_step": drop_last_step,
        "notes": [
            "class = argmax of the one-hot target row; all-zero rows count as class 0",
        ],
    }
    return Dataset(
        x=x.astype(np.uint8),
        y=labels,
        n_classes=y.shape[2],
        name=name,
        per_step_labels=True,
        metadata=metadata,
    )


def _with_source(dataset: Dataset, fetched: FetchedFile, split_name: str) -> Dataset:
    metadata = dict(dataset.metadata)
    metadata["source_files"] = [fetched.as_metadata()]
    return Dataset(dataset.x, dataset.y, dataset.n_classes, f"ecg/{split_name}", True, metadata)


def load_ecg(
    *,
    data_dir: str | os.PathLike | None = None,
    seed: int = 0,
    valid_size: int | float = 0.1,
    download: bool | None = None,
    downloader: Downloader | None = None,
) -> TaskData:
    """Load the QTDB ECG task: 557 / 61 / 141 sequences of 1300 steps, 4 inputs, 6 classes.

    Parameters
    ----------
    data_dir : path-like, optional
        Local data folder holding ``ecg/QTDB_train.mat`` and ``ecg/QTDB_test.mat``
        (overrides ``RFSIM_DATA_DIR``); see :func:`rfsim.data.fetch.fetch_file`.
    seed : int
        Seed of the train/validation split.
    valid_size : int or float
        Validation sequences: a count, or a fraction of the 618 training
        recordings rounded down (0.1 gives 61).
    download, downloader
        Passed to :func:`rfsim.data.fetch.fetch_file`.

    Returns
    -------
    TaskData
        Per-step labels, batch size 16, test set scored as one batch.
    """
    train_file = fetch_file("QTDB_train.mat", data_dir=data_dir, download=download, downloader=downloader)
    test_file = fetch_file("QTDB_test.mat", data_dir=data_dir, download=download, downloader=downloader)
    full_train = _with_source(read_qtdb(train_file.path), train_file, "train")
    test = _with_source(read_qtdb(test_file.path), test_file, "test")
    train, valid = full_train.split(valid_size, rng=seed, names=("ecg/train", "ecg/valid"))
    return TaskData(
        name="ecg",
        train=train,
        valid=valid,
        test=test,
        n_inputs=ECG_N_INPUTS,
        n_classes=ECG_N_CLASSES,
        n_steps=full_train.n_steps,
        per_step_labels=True,
        label_last=False,
        batch_size=ECG_BATCH_SIZE,
        eval_batch_size=len(test),
        metadata={
            "seed": seed,
            "split_sizes": {"train": len(train), "valid": len(valid), "test": len(test)},
            "source_files": [train_file.as_metadata(), test_file.as_metadata()],
            "zero_label_steps": {
                "train_file": full_train.metadata["zero_label_steps"],
                "test_file": test.metadata["zero_label_steps"],
            },
            "notes": [
                "class = argmax of the one-hot target row; all-zero rows count as class 0",
                "validation split drawn from the seed; the reference used an unseeded split",
            ],
        },
    )
