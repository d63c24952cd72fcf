"""Recurrent spiking networks (RSNNs) of RF-type or ALIF neurons with a hand-written BPTT engine.

``RSNNConfig`` describes a network, ``init_params`` draws its parameters, ``forward``
simulates it, ``value_and_grad`` returns the loss and its exact gradient (full or
truncated BPTT), and ``train_step_tbptt`` trains on one batch with an update per
truncation window. ``rfsim.network.reference`` contains the slow NumPy/autograd twin
and ``rfsim.network.optim`` the optimizers.

The first engine call of a model and dtype in a fresh installation compiles its
Numba kernels, which took about 35 s on a 2-core machine. The compiled code is
cached on disk, so later calls and later Python processes skip that step.
"""

from rfsim.network.config import DTYPES, LOSSES, MODELS, RF_RESETS, RSNNConfig
from rfsim.network.engine import (
    ForwardResult,
    estimate_memory_bytes,
    forward,
    release_scratch,
    train_step_tbptt,
    value_and_grad,
)
from rfsim.network.init import init_params, make_pruning_mask, parameter_shapes
from rfsim.network.losses import LossResult, accuracy_counts, loss_and_metrics

__all__ = [
    "DTYPES", "LOSSES", "MODELS", "RF_RESETS", "RSNNConfig",
    "ForwardResult", "LossResult", "accuracy_counts", "estimate_memory_bytes", "forward",
    "init_params", "loss_and_metrics", "make_pruning_mask", "parameter_shapes", "release_scratch",
    "train_step_tbptt", "value_and_grad",
]
