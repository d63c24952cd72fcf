"""Sequence datasets in memory and the batch iterator that feeds the network engine.

A :class:`Dataset` stores N sequences of T steps with C input channels, sample-major
(N, T, C), in a compact dtype (uint8 spike counts or float32 pixel values). The engine
consumes time-major batches: inputs (T, B, C) and targets (T, B) for per-step labels or
(B,) for one label per sequence. :func:`batches` converts between the two layouts.
"""

from __future__ import annotations

import types
from dataclasses import dataclass, field
from typing import Any, Iterator, Mapping

import numpy as np

from rfsim.errors import RFSimError, RFSimWarning

__all__ = ["Dataset", "IncompleteDataWarning", "SequenceDataset", "TaskData", "as_rng", "batches"]


class IncompleteDataWarning(RFSimWarning):
    """Only part of a data set is available, so the loader built its splits from that part."""


def as_rng(rng: np.random.Generator | int | None, *, default_seed: int = 0) -> np.random.Generator:
    """Turn a seed or generator into a ``numpy.random.Generator``.

    ``None`` gives a generator seeded with ``default_seed``, so results stay
    reproducible when the caller passes no randomness at all.
    """
    if rng is None:
        return np.random.default_rng(default_seed)
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool):
        if rng < 0:
            raise RFSimError(f"seed must be a non-negative integer, got {rng}")
        return np.random.default_rng(int(rng))
    raise RFSimError(f"rng must be a numpy.random.Generator, an integer seed or None, got {type(rng).__name__}")


def _readonly_view(array: np.ndarray) -> np.ndarray:
    view = array.view()
    view.flags.writeable = False
    return view


@dataclass(frozen=True)
class Dataset:
    """N labelled sequences, sample-major.

    Attributes
    ----------
    x : ndarray, shape (N, T, C)
        Inputs: uint8 spike counts or float32 values. Stored as a read-only view.
    y : ndarray, shape (N, T) or (N,)
        Integer class labels in ``[0, n_classes)``: one per step when
        ``per_step_labels`` is true, otherwise one per sequence.
    n_classes : int
        Number of classes.
    name : str
        Task and split, for example ``"ecg/train"``.
    per_step_labels : bool
        Whether ``y`` contains a label for every time step.
    metadata : Mapping
        Read-only provenance: source files with their SHA-256, notes, the
        permutation of a permuted task, the indices of a subset in its parent.
    """

    x: np.ndarray
    y: np.ndarray
    n_classes: int
    name: str
    per_step_labels: bool
    metadata: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        x = np.asarray(self.x)
        y = np.asarray(self.y)
        if x.ndim != 3:
            raise RFSimError(f"dataset {self.name!r}: x must have shape (N, T, C), got shape {x.shape}")
        n_sequences, n_steps, _ = x.shape
        expected_y_shape = (n_sequences, n_steps) if self.per_step_labels else (n_sequences,)
        if y.shape != expected_y_shape:
            raise RFSimError(
                f"dataset {self.name!r}: y must have shape {expected_y_shape} "
                f"(per_step_labels={self.per_step_labels}), got shape {y.shape}"
            )
        if not np.issubdtype(y.dtype, np.integer):
            raise RFSimError(f"dataset {self.name!r}: y must hold integer labels, got dtype {y.dtype}")
        if int(self.n_classes) < 1:
            raise RFSimError(f"dataset {self.name!r}: n_classes must be >= 1, got {self.n_classes}")
        if y.size and (y.min() < 0 or y.max() >= self.n_classes):
            raise RFSimError(
                f"dataset {self.name!r}: labels must lie in [0, {self.n_classes}), "
                f"got values from {y.min()} to {y.max()}"
            )
        object.__setattr__(self, "x", _readonly_view(x))
        object.__setattr__(self, "y", _readonly_view(y))
        object.__setattr__(self, "n_classes", int(self.n_classes))
        object.__setattr__(self, "metadata", types.MappingProxyType(dict(self.metadata)))

    def __len__(self) -> int:
        return self.x.shape[0]

    @property
    def n_sequences(self) -> int:
        """Number of sequences N."""
        return self.x.shape[0]

    @property
    def n_steps(self) -> int:
        """Number of time steps T per sequence."""
        return self.x.shape[1]

    @property
    def n_channels(self) -> int:
        """Number of input channels C."""
        return self.x.shape[2]

    def class_counts(self) -> np.ndarray:
        """Count labels per class over all sequences (and steps, for per-step labels)."""
        return np.bincount(self.y.ravel(), minlength=self.n_classes)

    def subset(self, indices, *, name: str | None = None) -> "Dataset":
        """Select sequences by index, in the given order.

        The new dataset's metadata keeps the parent's entries and stores the
        selected ``indices`` (into this dataset) under ``"indices"``.
        """
        index_array = np.asarray(indices)
        if index_array.dtype == bool:
            raise RFSimError("subset indices must be integers, not a boolean mask; use numpy.flatnonzero(mask)")
        if index_array.ndim != 1 or not np.issubdtype(index_array.dtype, np.integer):
            raise RFSimError(f"subset indices must be a 1-D integer array, got shape {index_array.shape}, "
                             f"dtype {index_array.dtype}")
        if index_array.size and (index_array.min() < 0 or index_array.max() >= len(self)):
            raise RFSimError(
                f"subset indices must lie in [0, {len(self)}) for dataset {self.name!r}, "
                f"got values from {index_array.min()} to {index_array.max()}"
            )
        metadata = dict(self.metadata)
        metadata["indices"] = index_array.astype(np.int64)
        return Dataset(
            x=self.x[index_array],
            y=self.y[index_array],
            n_classes=self.n_classes,
            name=self.name if name is None else name,
            per_step_labels=self.per_step_labels,
            metadata=metadata,
        )

    def split(
        self,
        size: int | float,
        *,
        rng: np.random.Generator | int | None = None,
        names: tuple[str, str] | None = None,
    ) -> tuple["Dataset", "Dataset"]:
        """Split into two disjoint random parts, the second with ``size`` sequences.

        Parameters
        ----------
        size : int or float
            Size of the second part: a count, or a fraction in (0, 1) that is
            turned into ``int(size * N)`` (rounded down, as the reference scripts do:
            ``int(0.1 * 618) = 61`` validation sequences for the ECG task).
        rng : Generator, int or None
            Source of the random permutation (None means seed 0).
        names : (str, str), optional
            Names of the two parts; by default ``"<name>/train"`` and ``"<name>/valid"``.

        Returns
        -------
        first, second : Dataset
            ``N - n`` and ``n`` sequences. Each part lists its indices into this
            dataset in ``metadata["indices"]``, in random order.
        """
        n_second = _split_count(size, len(self), self.name)
        permutation = as_rng(rng).permutation(len(self))
        first_indices = permutation[: len(self) - n_second]
        second_indices = permutation[len(self) - n_second:]
        if names is None:
            names = (f"{self.name}/train", f"{self.name}/valid")
        return self.subset(first_indices, name=names[0]), self.subset(second_indices, name=names[1])


SequenceDataset = Dataset
"""Alias of :class:`Dataset`."""


def _split_count(size: int | float, total: int, name: str) -> int:
    if isinstance(size, bool):
        raise RFSimError(f"split size must be a count or a fraction, got {size!r}")
    if isinstance(size, (int, np.integer)):
        count = int(size)
    elif isinstance(size, (float, np.floating)):
        if not 0.0 < size < 1.0:
            raise RFSimError(f"split fraction must lie in (0, 1), got {size}")
        count = int(size * total)
    else:
        raise RFSimError(f"split size must be an int or a float, got {type(size).__name__}")
    if not 0 <= count <= total:
        raise RFSimError(f"split size must lie in [0, {total}] for dataset {name!r}, got {count}")
    return count


@dataclass(frozen=True)
class TaskData:
    """The three splits of a task and how the reference scripts train on it.

    Attributes
    ----------
    name : str
        Task name (``"ecg"``, ``"smnist"``, ``"psmnist"``, ``"shd"``, ``"synthetic"``).
    train, valid, test : Dataset
        Disjoint splits.
    n_inputs, n_classes, n_steps : int
        Input channels C, classes and time steps T.
    per_step_labels : bool
        Targets are (T, B) per-step labels (ECG) instead of (B,) sequence labels.
    label_last : bool
        The loss uses only the last step's output (S-MNIST in the reference scripts).
        When false with sequence labels, the same label is scored at every step.
    batch_size : int
        Training batch size of the reference script (16 for ECG, 256 for
        S-MNIST and PS-MNIST, 32 for SHD).
    eval_batch_size : int
        Batch size for validation and test (the ECG script scores its 141 test
        sequences as one batch).
    layout : str
        Batch layout that :func:`batches` yields: ``"TBC"``, inputs (T, B, C).
    permutation : ndarray or None
        Time-step permutation of PS-MNIST (``x'[t] = x[permutation[t]]``), else None.
        Store it with a checkpoint to evaluate the same task again.
    metadata : Mapping
        Seed, split sizes, source files with SHA-256 and notes.
    """

    name: str
    train: Dataset
    valid: Dataset
    test: Dataset
    n_inputs: int
    n_classes: int
    n_steps: int
    per_step_labels: bool
    label_last: bool
    batch_size: int
    eval_batch_size: int
    layout: str = "TBC"
    permutation: np.ndarray | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        for split_name in ("train", "valid", "test"):
            part = getattr(self, split_name)
            if part.n_channels != self.n_inputs or part.n_steps != self.n_steps:
                raise RFSimError(
                    f"task {self.name!r}: split {split_name!r} has (T, C) = ({part.n_steps}, {part.n_channels}), "
                    f"expected ({self.n_steps}, {self.n_inputs})"
                )
        if self.permutation is not None:
            object.__setattr__(self, "permutation", _readonly_view(np.asarray(self.permutation)))
        object.__setattr__(self, "metadata", types.MappingProxyType(dict(self.metadata)))

    @property
    def splits(self) -> dict[str, Dataset]:
        """The three splits by name."""
        return {"train": self.train, "valid": self.valid, "test": self.test}


def batches(
    dataset: Dataset,
    batch_size: int,
    rng: np.random.Generator | int | None = None,
    shuffle: bool = True,
    drop_last: bool = False,
    dtype=np.float64,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Iterate over time-major mini-batches of a dataset.

    Parameters
    ----------
    dataset : Dataset
        Source of the sequences.
    batch_size : int
        Sequences per batch B (>= 1). The last batch is smaller unless ``drop_last``.
    rng : Generator, int or None
        Order of the sequences when ``shuffle`` is true. An integer seed or None
        (seed 0) gives the same order on every call. A Generator advances, so
        successive epochs drawn from one Generator differ but replay exactly.
    shuffle : bool
        Visit the sequences in random order; otherwise in dataset order.
    drop_last : bool
        Skip a final batch with fewer than ``batch_size`` sequences.
    dtype : numpy dtype
        Floating-point dtype of the inputs (float64 or float32).

    Yields
    ------
    x : ndarray, shape (T, B, C), C-contiguous, ``dtype``
        Inputs, time-major.
    targets : ndarray of int64, shape (T, B) or (B,)
        Per-step labels for a dataset with ``per_step_labels``, else one label per sequence.
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise RFSimError(f"batch_size must be a positive integer, got {batch_size!r}")
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise RFSimError(f"dtype must be a floating-point type such as float64 or float32, got {dtype}")
    n_sequences = len(dataset)
    order = as_rng(rng).permutation(n_sequences) if shuffle else np.arange(n_sequences)
    stop = n_sequences - n_sequences % batch_size if drop_last else n_sequences
    for start in range(0, stop, batch_size):
        indices = order[start:start + batch_size]
        x = np.ascontiguousarray(dataset.x[indices].transpose(1, 0, 2), dtype=dtype)
        labels = dataset.y[indices].astype(np.int64)
        targets = np.ascontiguousarray(labels.T) if dataset.per_step_labels else labels
        yield x, targets
