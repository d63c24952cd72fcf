"""Datasets of rfsim: fetching with checksums, loaders, spike encoders and a synthetic task.

Every loader returns a :class:`TaskData` whose splits are :class:`Dataset` objects
holding sample-major arrays (N, T, C); :func:`batches` turns them into the time-major
(T, B, C) batches the network engine consumes. :func:`load_task` loads any task by name.
Data files are looked up in ``RFSIM_DATA_DIR`` (or a ``data_dir`` argument), then in
the download cache, and downloaded with pooch as a last resort (see
:mod:`rfsim.data.fetch`).
"""

from rfsim.data.dataset import Dataset, IncompleteDataWarning, SequenceDataset, TaskData, batches
from rfsim.data.ecg import load_ecg, read_qtdb
from rfsim.data.encoding import level_crossing_encode
from rfsim.data.fetch import REGISTRY, FetchedFile, MissingDataError, RemoteFile, fetch_file
from rfsim.data.mnist import draw_permutation, load_mnist_task, read_idx, read_mnist_pair
from rfsim.data.shd import bin_spike_events, load_shd, read_shd
from rfsim.data.synthetic import class_frequencies, load_frequency_task, make_frequency_dataset
from rfsim.data.tasks import TASK_FILES, TASKS, fetch_task_files, load_task, summarize_task

__all__ = [
    "REGISTRY",
    "TASKS",
    "TASK_FILES",
    "Dataset",
    "FetchedFile",
    "IncompleteDataWarning",
    "MissingDataError",
    "RemoteFile",
    "SequenceDataset",
    "TaskData",
    "batches",
    "bin_spike_events",
    "class_frequencies",
    "draw_permutation",
    "fetch_file",
    "fetch_task_files",
    "level_crossing_encode",
    "load_ecg",
    "load_frequency_task",
    "load_mnist_task",
    "load_shd",
    "load_task",
    "make_frequency_dataset",
    "read_idx",
    "read_mnist_pair",
    "read_qtdb",
    "read_shd",
    "summarize_task",
]
