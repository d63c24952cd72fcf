"""One entry point, :func:`load_task`, for every task that rfsim can train on."""

from __future__ import annotations

import os

from typing import Any

import numpy as np

from rfsim.data.dataset import TaskData
from rfsim.data.ecg import load_ecg
from rfsim.data.fetch import Downloader, FetchedFile, fetch_file
from rfsim.data.mnist import load_mnist_task
from rfsim.data.shd import load_shd
from rfsim.data.synthetic import load_frequency_task
from rfsim.errors import RFSimError

__all__ = ["TASKS", "TASK_FILES", "fetch_task_files", "load_task", "summarize_task"]

TASKS = {
    "synthetic": "spike trains classified by frequency (no download): 4 inputs, 4 classes, 250 steps",
    "ecg": "QT database ECG, per-step waveform labels: 4 inputs, 6 classes, 1300 steps",
    "smnist": "sequential MNIST, label on the last step: 1 input, 10 classes, 784 steps",
    "psmnist": "permuted sequential MNIST, label at every step: 1 input, 10 classes, 784 steps",
    "shd": "Spiking Heidelberg Digits (needs h5py): 700 inputs, 20 classes, 250 steps of 4 ms",
}
"""Task names accepted by :func:`load_task`, with a one-line description."""

TASK_FILES = {
    "synthetic": (),
    "ecg": ("QTDB_train.mat", "QTDB_test.mat"),
    "smnist": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
               "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
    "psmnist": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
    "shd": ("shd_train.h5", "shd_test.h5"),
}
"""Registered data files of each task (keys of :data:`rfsim.data.fetch.REGISTRY`)."""


def load_task(
    name: str,
    *,
    data_dir: str | os.PathLike | None = None,
    seed: int = 0,
    valid_size: int | float = 0.1,
    valid_fraction: float | None = None,
    **options,
) -> TaskData:
    """Load a task's train, validation and test splits.

    Parameters
    ----------
    name : str
        One of :data:`TASKS`: ``"synthetic"``, ``"ecg"``, ``"smnist"``, ``"psmnist"``, ``"shd"``.
    data_dir : path-like, optional
        Local data folder (the CLI's ``--data-dir``); overrides ``RFSIM_DATA_DIR``.
        Ignored by ``"synthetic"``.
    seed : int
        Seed of the train/validation split (and of the PS-MNIST permutation and
        the synthetic data).
    valid_size : int or float
        Validation sequences, a count or a fraction of the training file rounded
        down (0.1 gives 61 for ECG, 6000 for MNIST, 815 for SHD). Ignored by
        ``"synthetic"``, whose split sizes are ``n_train``, ``n_valid`` and ``n_test``.
    valid_fraction : float, optional
        The validation fraction in (0, 1), as a training configuration stores it;
        replaces ``valid_size`` when given.
    **options
        Task-specific keywords: ``download`` and ``downloader`` for the file-based
        tasks; ``test_size`` and ``permutation`` for MNIST; ``dt``, ``n_steps``,
        ``binning`` and ``late_spikes`` for SHD; those of
        :func:`rfsim.data.synthetic.load_frequency_task` for ``"synthetic"``.

    Returns
    -------
    TaskData
    """
    if valid_fraction is not None:
        if isinstance(valid_fraction, bool) or not isinstance(valid_fraction, (float, int)) \
                or not 0.0 < valid_fraction < 1.0:
            raise RFSimError(f"valid_fraction must lie in (0, 1), got {valid_fraction!r}")
        valid_size = float(valid_fraction)
    if name == "synthetic":
        return load_frequency_task(seed=seed, **options)
    if name == "ecg":
        return load_ecg(data_dir=data_dir, seed=seed, valid_size=valid_size, **options)
    if name in ("smnist", "psmnist"):
        # stacklevel 3 points a missing-training-files warning at the caller of load_task.
        return load_mnist_task(name, data_dir=data_dir, seed=seed, valid_size=valid_size, _stacklevel=3, **options)
    if name == "shd":
        return load_shd(data_dir=data_dir, seed=seed, valid_size=valid_size, **options)
    raise RFSimError(f"unknown task {name!r}; choose one of {', '.join(TASKS)}")


def fetch_task_files(
    name: str,
    *,
    data_dir: str | os.PathLike | None = None,
    download: bool | None = None,
    downloader: Downloader | None = None,
) -> list[FetchedFile]:
    """Find or download every data file of a task and verify it, without loading it.

    Unlike the MNIST loader, which falls back to the t10k files, this requires all
    files of the task. Arguments are those of :func:`rfsim.data.fetch.fetch_file`.

    Raises
    ------
    MissingDataError, DataError
        For the first file that is missing or fails its checksum.
    """
    if name not in TASKS:
        raise RFSimError(f"unknown task {name!r}; choose one of {', '.join(TASKS)}")
    return [fetch_file(file_name, data_dir=data_dir, download=download, downloader=downloader)
            for file_name in TASK_FILES[name]]


def summarize_task(task: TaskData) -> dict[str, Any]:
    """Describe a loaded task as a JSON-compatible dict: sizes, shapes, class counts, sources."""
    summary: dict[str, Any] = {
        "name": task.name,
        "n_inputs": task.n_inputs,
        "n_classes": task.n_classes,
        "n_steps": task.n_steps,
        "per_step_labels": task.per_step_labels,
        "label_last": task.label_last,
        "batch_size": task.batch_size,
        "eval_batch_size": task.eval_batch_size,
        "batch_size_note": ("the loader's default batch sizes; rfsim train uses those of its preset or options "
                            "(rfsim train --show-config prints them)"),
        "splits": {},
    }
    for split_name, part in task.splits.items():
        summary["splits"][split_name] = {
            "n_sequences": len(part),
            "x_dtype": str(part.x.dtype),
            "class_counts": part.class_counts().tolist(),
            "mean_input": float(np.mean(part.x, dtype=np.float64)) if part.x.size else 0.0,
        }
    for key in ("seed", "test_split_only", "source_files", "notes"):
        if key in task.metadata:
            summary[key] = task.metadata[key]
    return summary
