"""Load a trained checkpoint together with its task, network configuration and mask.

Every network analysis (spectral radius, loss landscape, parameter and robustness
studies) starts from the same five things: the checkpoint's training
configuration, the task data it was trained on, the engine's ``RSNNConfig``, the
raw parameters and the optional recurrent pruning mask. ``load_analysis_checkpoint``
rebuilds them the way ``rfsim evaluate`` does (same seed, sequence limits and
PS-MNIST permutation, so the splits are the ones the training run scored), and
``select_sequences`` cuts time-major input batches out of one split.
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rfsim.errors import RFSimError

SPLITS = ("train", "valid", "test")
"""Dataset splits an analysis can read."""

@dataclass(frozen=True)
class AnalysisCheckpoint:
    """A checkpoint ready for analysis.

    Attributes
    ----------
    path : pathlib.Path
        The checkpoint ``.npz`` file.
    metadata : dict
        Its JSON sidecar.
    config : rfsim.training.presets.TrainConfig
        Training configuration rebuilt from the sidecar (with the task and
        data folder overrides applied).
    task : rfsim.data.TaskData
        The task's three splits, loaded with the checkpoint's seed and limits.
    net_config : rfsim.network.RSNNConfig
        Engine configuration of the network.
    params : dict of str to ndarray
        Raw parameters under the authors' state-dict keys, without any mask entry.
    mask : ndarray or None
        Recurrent pruning mask (n_hidden, n_hidden) of 0/1, or None when unpruned.
    """

    path: Path
    metadata: dict
    config: object
    task: object
    net_config: object
    params: dict
    mask: np.ndarray | None

    @property
    def model(self):
        """Hidden neuron model (``'brf'``, ``'rf'``, ``'bhrf'`` or ``'alif'``)."""
        return self.net_config.model

    @property
    def name(self):
        """Short label of the checkpoint: its run folder and file name, such as ``ecg-brf/best``."""
        return f"{self.path.parent.name}/{self.path.stem}"


def load_analysis_checkpoint(path, *, task=None, data_dir=None):
    """Load a checkpoint, its task data, its network configuration and its mask.

    Parameters
    ----------
    path : str or Path
        Checkpoint ``.npz`` written by ``rfsim train``, with its ``.json`` sidecar beside it.
    task : str, optional
        Task to load instead of the checkpoint's own; its input and output sizes must
        match the network.
    data_dir : str or Path, optional
        Folder with local dataset files (otherwise ``RFSIM_DATA_DIR`` and the download cache).

    Returns
    -------
    AnalysisCheckpoint

    Raises
    ------
    RFSimError
        If the checkpoint or its sidecar is missing or unreadable, its parameters do not
        fit its metadata, or the task does not fit the network.

    Notes
    -----
    The engine configuration comes from the training configuration, as for
    ``rfsim evaluate``. Where the sidecar records the network it was trained with
    (its ``network`` entry), the neuron constants theta, gamma, alif_theta,
    alif_beta and boundary_dt are taken from that record.
    """
    from rfsim.training.runs import prepare_checkpoint

    prepared = prepare_checkpoint(path, task=task, data_dir=data_dir)
    return AnalysisCheckpoint(path=prepared.checkpoint.path, metadata=prepared.checkpoint.metadata,
                              config=prepared.config, task=prepared.task_data, net_config=prepared.net_config,
                              params=prepared.params, mask=prepared.mask)


def select_sequences(checkpoint, split="test", samples=(0,), n_steps=None):
    """Return time-major inputs and labels of chosen sequences of one split.

    Parameters
    ----------
    checkpoint : AnalysisCheckpoint
    split : {'test', 'valid', 'train'}
        Dataset split.
    samples : sequence of int
        Indices of the sequences within the split.
    n_steps : int, optional
        Keep only the first ``n_steps`` time steps (all by default).

    Returns
    -------
    x : ndarray, shape (T, B, n_in)
        Inputs as float64, in the engine's layout.
    labels : ndarray
        Labels, (T, B) for per-step labels or (B,) for one label per sequence.

    Raises
    ------
    RFSimError
        For an unknown split, a sample index outside the split, or a step count that
        is not a positive integer.
    """
    if split not in SPLITS:
        raise RFSimError(f"invalid split {split!r}; choose one of {', '.join(SPLITS)}")
    dataset = getattr(checkpoint.task, split)
    indices = np.atleast_1d(np.asarray(samples))
    if indices.size == 0 or not np.issubdtype(indices.dtype, np.integer):
        raise RFSimError(f"samples must be one or more integer sequence indices, got {samples!r}")
    bad = (indices < 0) | (indices >= len(dataset))
    if bad.any():
        raise RFSimError(f"sample {int(indices[bad][0])} is outside split {split!r}, which has {len(dataset)} "
                         f"sequences; choose an index from 0 to {len(dataset) - 1}")

    total_steps = dataset.n_steps
    if n_steps is None:
        n_steps = total_steps
    if isinstance(n_steps, bool) or not isinstance(n_steps, (int, np.integer)) or n_steps < 1:
        raise RFSimError(f"n_steps must be a positive number of time steps, got {n_steps!r}")
    n_steps = min(int(n_steps), total_steps)

    x = np.ascontiguousarray(np.transpose(dataset.x[indices, :n_steps], (1, 0, 2)), dtype=np.float64)
    labels = dataset.y[indices]
    if dataset.per_step_labels:
        labels = np.ascontiguousarray(labels[:, :n_steps].T)
    return x, np.asarray(labels)
