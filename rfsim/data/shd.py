"""Spiking Heidelberg Digits (SHD): spoken digits as spikes of 700 cochlear channels.

The HDF5 files (Cramer et al. 2020) hold, per recording i,

* ``spikes/times[i]``: spike times in seconds (variable-length float array),
* ``spikes/units[i]``: the channel of each spike, 0-699 (variable-length uint16),
* ``labels[i]``: the digit class, 0-19 (ten German and ten English words).

rfsim bins the spikes into ``n_steps`` steps of width ``dt`` (250 steps of 4 ms by
default, so the sequences cover [0, 1 s)). Recordings shorter than that are padded
with empty steps. Two binnings are available:

``binning="count"`` (default): bin k contains the spikes with k·dt <= t < (k+1)·dt,
computed as ``floor(t / dt)`` in float64, and each entry counts the spikes of that
channel in that bin. Every spike before ``n_steps · dt`` is kept, so the binned
counts plus the late spikes equal the spikes in the file. Spikes at or after
``n_steps · dt`` are dropped (``late_spikes="drop"``) or added to the last bin
(``late_spikes="last"``); the dataset's metadata counts them either way.

``binning="reference"``: the preprocessing of Yin et al. (2021), which the authors'
BRF scripts use. Bin i (i = 0 … n_steps-1) marks a channel with 1 when it has a spike
with (i-1)·dt < t <= i·dt, where ``i·dt`` is rounded to the dtype of the stored times,
so bin 0 contains only spikes at t <= 0. Entries are binary, so spikes that share a bin
and channel collapse into one. Unit u is written to channel 700 - u, and spikes of
unit 0 are dropped (so channel 0 stays empty). Spikes after (n_steps-1)·dt are dropped.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from rfsim._numba import njit
from rfsim.data.dataset import Dataset, TaskData
from rfsim.data.fetch import Downloader, fetch_file
from rfsim.errors import DataError, RFSimError

__all__ = ["SHD_BATCH_SIZE", "SHD_N_CHANNELS", "SHD_N_CLASSES", "bin_spike_events", "load_shd", "read_shd"]

SHD_N_CHANNELS = 700
"""Input channels of SHD."""

SHD_N_CLASSES = 20
"""Spoken digits 0-9 in German and English."""

SHD_BATCH_SIZE = 32
"""Training batch size of the reference SHD script."""

_H5PY_MISSING = (
    "reading SHD files needs the optional package h5py; install it with "
    "pip install h5py (or pip install 'rfsim[shd]')"
)


def _import_h5py():
    try:
        import h5py
    except ImportError as error:
        raise DataError(_H5PY_MISSING) from error
    return h5py


@njit
def _bin_count_kernel(bins, channels, offsets, n_steps, late_to_last, binary, counts):
    """Add one count per spike at counts[sequence, bin, channel] (uint8), or set it to 1 if ``binary``.

    Spikes with bin >= n_steps are skipped, or counted in the last bin when
    ``late_to_last``. Returns False if a count would exceed 255 (and stops there).
    """
    for sequence in range(offsets.shape[0] - 1):
        for spike in range(offsets[sequence], offsets[sequence + 1]):
            step = bins[spike]
            if step >= n_steps:
                if not late_to_last:
                    continue
                step = n_steps - 1
            channel = channels[spike]
            if binary:
                counts[sequence, step, channel] = 1
                continue
            if counts[sequence, step, channel] == 255:
                return False
            counts[sequence, step, channel] += 1
    return True


def bin_spike_events(
    times: list[np.ndarray],
    units: list[np.ndarray],
    *,
    dt: float = 4e-3,
    n_steps: int = 250,
    n_channels: int = SHD_N_CHANNELS,
    binning: str = "count",
    late_spikes: str = "drop",
) -> tuple[np.ndarray, np.ndarray]:
    """Bin per-sequence spike events into a dense (N, n_steps, n_channels) array.

    The two binnings are defined in the module docstring.

    Parameters
    ----------
    times : list of 1-D float arrays
        Spike times of each sequence [s], >= 0.
    units : list of 1-D integer arrays
        Channel of each spike, in [0, n_channels).
    dt : float
        Bin width [s].
    n_steps : int
        Number of bins T.
    n_channels : int
        Number of channels C.
    binning : {"count", "reference"}
        Spike counts per bin, or the binary binning of the reference preprocessing.
    late_spikes : {"drop", "last"}
        With ``"count"``: drop spikes at t >= n_steps·dt, or add them to the last bin.

    Returns
    -------
    x : ndarray of uint8, shape (N, n_steps, n_channels)
        Spike counts (``"count"``) or 0/1 (``"reference"``).
    late : ndarray of int64, shape (N,)
        Spikes per sequence that fall after the last bin (dropped, or moved to the
        last bin with ``late_spikes="last"``).

    Raises
    ------
    DataError
        If a count exceeds 255, the capacity of uint8 (a channel spiking faster
        than 255 times per bin); use a smaller ``dt``.
    """
    if len(times) != len(units):
        raise RFSimError(f"times and units must list the same number of sequences, got {len(times)} and {len(units)}")
    if not (np.isfinite(dt) and dt > 0):
        raise RFSimError(f"dt must be a positive bin width in seconds, got {dt}")
    if isinstance(n_steps, bool) or not isinstance(n_steps, (int, np.integer)) or n_steps < 1:
        raise RFSimError(f"n_steps must be a positive integer, got {n_steps!r}")
    if binning not in ("count", "reference"):
        raise RFSimError(f"binning must be 'count' or 'reference', got {binning!r}")
    if late_spikes not in ("drop", "last"):
        raise RFSimError(f"late_spikes must be 'drop' or 'last', got {late_spikes!r}")
    if binning == "reference" and late_spikes != "drop":
        raise RFSimError("binning='reference' drops late spikes; late_spikes='last' applies to binning='count' only")

    lengths = np.array([len(t) for t in times], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    for index, (spike_times, spike_units) in enumerate(zip(times, units)):
        if len(spike_times) != len(spike_units):
            raise RFSimError(f"sequence {index}: {len(spike_times)} spike times but {len(spike_units)} units")
    all_times = np.concatenate([np.asarray(t) for t in times]) if len(times) else np.zeros(0)
    all_units = (np.concatenate([np.asarray(u) for u in units]) if len(units) else np.zeros(0)).astype(np.int64)
    if all_times.size and not (np.all(np.isfinite(all_times)) and all_times.min() >= 0):
        raise RFSimError("spike times must be finite and >= 0 seconds")
    if all_units.size and (all_units.min() < 0 or all_units.max() >= n_channels):
        raise RFSimError(f"spike units must lie in [0, {n_channels}), got {all_units.min()} to {all_units.max()}")

    if binning == "count":
        bins = np.floor(all_times.astype(np.float64) / dt)
        bins = np.minimum(bins, n_steps).astype(np.int64)
        channels = all_units
    else:
        # Bin i ends at i*dt rounded to the stored dtype, as the reference compares
        # times <= i * dt in that dtype; searchsorted finds the first such i.
        time_dtype = all_times.dtype if np.issubdtype(all_times.dtype, np.floating) else np.float64
        edges = (np.arange(n_steps, dtype=np.float64) * dt).astype(time_dtype)
        bins = np.searchsorted(edges, all_times.astype(time_dtype), side="left").astype(np.int64)
        keep = all_units > 0
        bins = np.where(keep, bins, n_steps)
        channels = np.where(keep, n_channels - all_units, 0)

    counts = np.zeros((len(times), n_steps, n_channels), dtype=np.uint8)
    fits = _bin_count_kernel(bins, channels, offsets, n_steps, late_spikes == "last", binning == "reference", counts)
    if not fits:
        raise DataError(f"a channel has more than 255 spikes in one {dt * 1e3:g} ms bin, beyond the uint8 range; "
                        "use a smaller dt")

    # Late spikes per sequence; the reference binning's unit-0 spikes are dropped, not late.
    sequence_of_spike = np.repeat(np.arange(len(times)), lengths)
    late_mask = bins >= n_steps
    if binning == "reference":
        late_mask &= all_units > 0
    late = np.bincount(sequence_of_spike[late_mask], minlength=len(times)).astype(np.int64)
    return counts, late


def read_shd(
    path: str | os.PathLike,
    *,
    name: str = "shd",
    dt: float = 4e-3,
    n_steps: int = 250,
    binning: str = "count",
    late_spikes: str = "drop",
) -> Dataset:
    """Read an SHD HDF5 file, check its layout and bin its spikes.

    Parameters
    ----------
    path : path-like
        HDF5 file with ``spikes/times``, ``spikes/units`` and ``labels``.
    name : str
        Name of the returned dataset.
    dt, n_steps, binning, late_spikes
        See :func:`bin_spike_events`.

    Returns
    -------
    Dataset
        ``x`` uint8 (N, n_steps, 700), ``y`` uint8 (N,) labels 0-19. ``metadata``
        records ``n_spikes`` (in the file), ``n_spikes_binned``, ``n_late_spikes``,
        ``n_sequences_with_late_spikes``, ``max_time`` [s] and the binning.

    Raises
    ------
    DataError
        If h5py is missing, the file is not HDF5, or a dataset is missing or has
        the wrong length, a unit lies outside 0-699, a time is negative or not
        finite, or a label lies outside 0-19.
    """
    h5py = _import_h5py()
    path = Path(path)
    try:
        handle = h5py.File(path, "r")
    except OSError as error:
        raise DataError(f"{path}: not a readable HDF5 file ({error})") from error
    with handle:
        for key in ("spikes/times", "spikes/units", "labels"):
            if key not in handle:
                raise DataError(f"{path}: missing HDF5 dataset '{key}'; expected spikes/times, spikes/units, labels")
        times = [np.asarray(t) for t in handle["spikes/times"][()]]
        units = [np.asarray(u) for u in handle["spikes/units"][()]]
        labels = np.asarray(handle["labels"][()])

    if not (len(times) == len(units) == len(labels)):
        raise DataError(f"{path}: spikes/times ({len(times)}), spikes/units ({len(units)}) and labels "
                        f"({len(labels)}) must have the same length")
    if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer):
        raise DataError(f"{path}: labels must be a 1-D integer array, got {labels.dtype} of shape {labels.shape}")
    if labels.size and (labels.min() < 0 or labels.max() >= SHD_N_CLASSES):
        raise DataError(f"{path}: labels must lie in [0, {SHD_N_CLASSES}), got {labels.min()} to {labels.max()}")
    for index, (spike_times, spike_units) in enumerate(zip(times, units)):
        if spike_times.shape != spike_units.shape or spike_times.ndim != 1:
            raise DataError(f"{path}: recording {index} has {spike_times.shape} times but {spike_units.shape} units")
        if spike_units.size and (spike_units.min() < 0 or spike_units.max() >= SHD_N_CHANNELS):
            raise DataError(f"{path}: recording {index} has units outside [0, {SHD_N_CHANNELS})")
        if spike_times.size and not (np.all(np.isfinite(spike_times)) and spike_times.min() >= 0):
            raise DataError(f"{path}: recording {index} has negative or non-finite spike times")

    x, late = bin_spike_events(times, units, dt=dt, n_steps=n_steps, binning=binning, late_spikes=late_spikes)
    n_spikes = int(sum(len(t) for t in times))
    max_time = float(max((t.max() for t in times if t.size), default=0.0))
    metadata = {
        "binning": binning,
        "dt": dt,
        "n_steps": n_steps,
        "late_spikes": late_spikes,
        "n_spikes": n_spikes,
        "n_spikes_binned": int(x.sum(dtype=np.int64)),
        "n_late_spikes": int(late.sum()),
        "n_sequences_with_late_spikes": int((late > 0).sum()),
        "max_time": max_time,
    }
    return Dataset(x, labels.astype(np.uint8), SHD_N_CLASSES, name, False, metadata)


def load_shd(
    *,
    data_dir: str | os.PathLike | None = None,
    seed: int = 0,
    valid_size: int | float = 0.1,
    dt: float = 4e-3,
    n_steps: int = 250,
    binning: str = "count",
    late_spikes: str = "drop",
    download: bool | None = None,
    downloader: Downloader | None = None,
) -> TaskData:
    """Load the SHD task: 700 inputs, 20 classes, one label per sequence.

    The reference splits the 8156 training recordings 7341 / 815 (valid_size 0.1)
    and tests on 2264. Binning options are described in the module docstring.

    Parameters
    ----------
    data_dir : path-like, optional
        Local data folder with ``shd/shd_train.h5`` and ``shd/shd_test.h5``
        (decompressed; overrides ``RFSIM_DATA_DIR``).
    seed : int
        Seed of the train/validation split.
    valid_size : int or float
        Validation sequences: a count or a fraction, rounded down.
    dt, n_steps, binning, late_spikes
        See :func:`bin_spike_events`.
    download, downloader
        Passed to :func:`rfsim.data.fetch.fetch_file`.
    """
    _import_h5py()
    train_file = fetch_file("shd_train.h5", data_dir=data_dir, download=download, downloader=downloader)
    test_file = fetch_file("shd_test.h5", data_dir=data_dir, download=download, downloader=downloader)
    options = {"dt": dt, "n_steps": n_steps, "binning": binning, "late_spikes": late_spikes}
    full_train = read_shd(train_file.path, name="shd/train", **options)
    test = read_shd(test_file.path, name="shd/test", **options)
    train, valid = full_train.split(valid_size, rng=seed, names=("shd/train", "shd/valid"))
    return TaskData(
        name="shd",
        train=train,
        valid=valid,
        test=test,
        n_inputs=SHD_N_CHANNELS,
        n_classes=SHD_N_CLASSES,
        n_steps=n_steps,
        per_step_labels=False,
        label_last=False,
        batch_size=SHD_BATCH_SIZE,
        eval_batch_size=256,
        metadata={
            "seed": seed,
            "split_sizes": {"train": len(train), "valid": len(valid), "test": len(test)},
            "source_files": [train_file.as_metadata(), test_file.as_metadata()],
            **{f"train_file_{key}": value for key, value in full_train.metadata.items()},
            **{f"test_file_{key}": value for key, value in test.metadata.items()
               if key.startswith("n_") or key == "max_time"},
        },
    )
