"""Evaluate saved checkpoints on the task they were trained on, or on another one that fits."""

import dataclasses
from dataclasses import dataclass

import numpy as np

from rfsim.errors import RFSimError
from rfsim.training.checkpoint import check_params_fit, expected_shapes, load_checkpoint
from rfsim.training.evaluate import evaluate_dataset, make_net_config
from rfsim.training.loop import load_task_for
from rfsim.training.presets import TrainConfig, resolve_config

SPLITS = ("train", "valid", "test")


def config_from_metadata(metadata, task=None, data_dir=None):
    """Rebuild the ``TrainConfig`` of a checkpoint from its sidecar.

    A sidecar without a ``train`` entry (for example one written by a script
    that converted a checkpoint of the authors' implementation) gets the preset
    of its task and model, with the sizes and dt the sidecar records.
    """
    if "train" in metadata:
        saved = dict(metadata["train"])
        for name in ("omega_range", "b_offset_range", "tau_out", "tau_mem", "tau_adp"):
            saved[name] = tuple(saved[name])
        config = TrainConfig(**saved)
    else:
        if "task" not in metadata and task is None:
            raise RFSimError("the checkpoint records no task; name one with --task")
        config = resolve_config(metadata.get("task", task), metadata["model"],
                                overrides={"n_hidden": metadata["n_hidden"], "dt": metadata.get("dt", 0.01)})

    changes = {}
    if task is not None:
        changes["task"] = task
    if data_dir is not None:
        changes["data_dir"] = data_dir
    return dataclasses.replace(config, **changes) if changes else config


def check_task_fits(metadata, task_data):
    """Raise ``RFSimError`` if a checkpoint's input or output size differs from the task's."""
    if metadata["n_in"] != task_data.n_inputs or metadata["n_out"] != task_data.n_classes:
        raise RFSimError(
            f"the checkpoint's network has {metadata['n_in']} inputs and {metadata['n_out']} outputs, but task "
            f"{task_data.name!r} has {task_data.n_inputs} input channels and {task_data.n_classes} classes; "
            "evaluate it on the task it was trained on"
        )

    saved = metadata.get("dataset", {}).get("permutation")
    if saved is not None and task_data.permutation is not None:
        if not np.array_equal(np.asarray(saved), task_data.permutation):
            raise RFSimError("the checkpoint's time-step permutation differs from the task's; "
                             "evaluate with the seed the checkpoint was trained with")


def split_mask(params, n_in):
    """Separate the authors' ``hidden.linear.mask`` entry (H, in + H) from the parameters.

    Returns
    -------
    params : dict
        The parameters without the mask.
    mask : ndarray or None
        The recurrent block (H, H) of the mask, or None when the checkpoint has none.
    """
    params = dict(params)
    full = params.pop("hidden.linear.mask", None)
    if full is None:
        return params, None
    if np.any(full[:, :n_in] != 1):
        raise RFSimError("the checkpoint's mask removes input weights; rfsim prunes recurrent weights only")
    return params, np.ascontiguousarray(full[:, n_in:], dtype=float)


@dataclass(frozen=True)
class PreparedCheckpoint:
    """A checkpoint with everything needed to run its network on a task.

    Attributes
    ----------
    checkpoint : rfsim.training.checkpoint.Checkpoint
        The loaded files.
    config : TrainConfig
        Training configuration rebuilt from the sidecar (task and data folder overridden if given).
    task_data : rfsim.data.TaskData
        The task's splits, rebuilt with the checkpoint's seed (and PS-MNIST permutation).
    net_config : rfsim.network.RSNNConfig
        Engine configuration, with the neuron constants the sidecar records.
    params : dict of str to ndarray
        Parameters without the pruning mask.
    mask : ndarray or None
        Recurrent pruning mask (H, H), or None.
    """

    checkpoint: object
    config: TrainConfig
    task_data: object
    net_config: object
    params: dict
    mask: object


NEURON_CONSTANTS = ("theta", "gamma", "alif_theta", "alif_beta", "boundary_dt")
"""Engine settings that a sidecar's ``network`` entry records and loading restores."""


def prepare_checkpoint(path, *, task=None, data_dir=None, limits=None):
    """Load a checkpoint, rebuild its task data and network configuration, and check that they fit.

    ``limits`` (optional) replaces the sequence limits that the training run used, as
    a dict with the keys ``limit_train`` and ``limit_eval`` (None: the whole split).

    Raises
    ------
    RFSimError
        If a file is missing or unreadable, a parameter does not fit the network,
        or the task's input or output size differs from the network's.
    """
    checkpoint = load_checkpoint(path)
    metadata = checkpoint.metadata
    config = config_from_metadata(metadata, task=task, data_dir=None if data_dir is None else str(data_dir))
    if limits:
        config = dataclasses.replace(config, **limits)

    options = {}
    permutation = metadata.get("dataset", {}).get("permutation")
    if permutation is not None and config.task == "psmnist":
        options["permutation"] = np.asarray(permutation, dtype=np.int64)
    task_data = load_task_for(config, **options)
    check_task_fits(metadata, task_data)

    net_config = make_net_config(config, task_data)
    recorded = metadata.get("network", {})
    constants = {name: recorded[name] for name in NEURON_CONSTANTS if name in recorded}
    if constants:
        net_config = dataclasses.replace(net_config, **constants)

    shapes = expected_shapes(config.model, net_config.n_in, net_config.n_hidden, net_config.n_out,
                             hidden_bias=net_config.hidden_bias, output_bias=net_config.output_bias)
    check_params_fit(checkpoint.params, shapes, source=f"checkpoint {checkpoint.path.name}")
    params, mask = split_mask(checkpoint.params, net_config.n_in)
    return PreparedCheckpoint(checkpoint=checkpoint, config=config, task_data=task_data, net_config=net_config,
                              params=params, mask=mask)


def evaluate_checkpoint(path, *, task=None, split="test", data_dir=None, keep_predictions=False, limit="run"):
    """Evaluate a checkpoint on one split of a task.

    Parameters
    ----------
    path : str or Path
        Checkpoint ``.npz`` with its ``.json`` sidecar.
    task : str, optional
        Task name; defaults to the checkpoint's task.
    split : {'test', 'valid', 'train'}
        Split to evaluate, rebuilt with the checkpoint's seed.
    data_dir : str, optional
        Folder with local dataset files.
    keep_predictions : bool
        Return the predicted classes too.
    limit : 'run', int or None
        Sequences of the split to evaluate: 'run' (default) keeps the limit of the
        training run (``limit_train`` or ``limit_eval``), so the figures match those
        the run logged; an int N takes the first N sequences, and None the whole split.

    Returns
    -------
    rfsim.training.evaluate.EvalResult
    """
    if split not in SPLITS:
        raise RFSimError(f"invalid split {split!r}; choose one of {', '.join(SPLITS)}")
    limits = None
    if limit != "run":
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, (int, np.integer)) or limit < 1):
            raise RFSimError(f"limit must be 'run', a positive number of sequences or None, got {limit!r}")
        limits = {"limit_train" if split == "train" else "limit_eval": limit}
    prepared = prepare_checkpoint(path, task=task, data_dir=data_dir, limits=limits)
    return evaluate_dataset(prepared.net_config, prepared.params, getattr(prepared.task_data, split),
                            prepared.config, mask=prepared.mask, keep_predictions=keep_predictions)
