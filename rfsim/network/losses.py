"""Losses and accuracy of an RSNN's output membrane, as the authors' training scripts define them.

With o_t (B, C) the readout membrane at step t, p_t = softmax(o_t) over the classes,
B sequences and the loss offset k (``RSNNConfig.loss_offset``, the authors'
``sub_seq_length``):

``'sequence'`` (ECG; targets (T, B) int, a class per step)
    L = sum_{t >= k} (1/B) sum_b -log p_t[b, y_{t,b}]. This is a *sum over time of
    batch means*; its gradient is what the engine returns. Reported: L / (T - k).
``'label-last'`` (S-MNIST; targets (B,) int)
    L = (1/B) sum_b -log p_{T-1}[b, y_b], the last step only, reported as L.
    Targets of shape (T, B) are accepted and their last row is used.
``'cross-entropy'`` (PS-MNIST, SHD; one class distribution per sequence)
    L = sum_{t >= k} (1/B) sum_b -sum_c y_{b,c} log p_t[b, c], reported as L / (T - k).
    Targets may be (B,) int, so y is one-hot and L is the NLL of ``'sequence'`` with the
    same class at every step. They may be (T, B) int, a class per step, which is the
    ``'sequence'`` loss. Or they are (B, C) float, a soft or one-hot class distribution
    per sequence. Soft rows need not sum to 1, and an all-zero row contributes nothing
    (the authors' ECG loss instead takes the argmax of an all-zero one-hot row, class 0).

Accuracy (``accuracy_counts``) picks classes with argmax, ties to the first index:
per step for every (t >= k, b) against the step's class (ECG), or once per sequence
from the output averaged over the steps t >= k (PS-MNIST, SHD) or from the last step
(label-last, S-MNIST).
"""

from dataclasses import dataclass

import numpy as np
from scipy.special import logsumexp

from rfsim.errors import RFSimError


@dataclass(frozen=True)
class LossResult:
    """Loss, accuracy counts and spikes of one batch.

    Attributes
    ----------
    loss_sum : float
        The differentiated quantity L (see the docstring of ``rfsim.network.losses``).
    loss_reported : float
        The value the authors' scripts print: L / (T - loss_offset), or L for label-last.
    spike_count : int or None
        Hidden spikes summed over steps, sequences and neurons (all steps, including
        those before the loss offset); None when computed from outputs alone.
    outputs : ndarray, shape (T, B, C)
        Readout membrane at every step.
    n_correct, n_total : int
        Correct and counted predictions (see ``accuracy_counts``).
    """

    loss_sum: float
    loss_reported: float
    spike_count: int | None
    outputs: np.ndarray
    n_correct: int
    n_total: int

    @property
    def accuracy(self):
        """Share of correct predictions in percent."""
        return 100.0 * self.n_correct / self.n_total if self.n_total else float("nan")


@dataclass(frozen=True)
class EncodedTargets:
    """Targets in the form the kernels read.

    ``labels`` is (T, B) or (1, B) int64, a class per step or per sequence. ``soft`` is
    (B, C) float64 class distributions, or a (1, 1) placeholder unless ``use_soft``.
    ``per_step`` states whether the classes vary by step, and ``loss_steps`` is the number
    of steps in L.
    """

    labels: np.ndarray
    soft: np.ndarray
    use_soft: bool
    per_step: bool
    loss_steps: int


def encode_targets(config, targets, n_steps, batch):
    """Check ``targets`` against the loss of ``config`` and return them as ``EncodedTargets``.

    Raises
    ------
    RFSimError
        If the shape, dtype or class range does not fit the loss, or the loss offset
        leaves no step to score.
    """
    targets = np.asarray(targets)
    n_out = config.n_out
    if config.loss != "label-last" and not 0 <= config.loss_offset < n_steps:
        raise RFSimError(f"loss_offset={config.loss_offset} leaves no step to score in a sequence of T={n_steps} "
                         f"steps; use loss_offset < {n_steps}")

    if config.loss == "cross-entropy" and np.issubdtype(targets.dtype, np.floating):
        if targets.shape != (batch, n_out):
            raise RFSimError(f"soft cross-entropy targets must have shape (B, n_out) = {(batch, n_out)}, "
                             f"got {targets.shape}")
        bad = ~np.isfinite(targets) | (targets < 0)
        if bad.any():
            index = tuple(int(i) for i in np.argwhere(bad)[0])
            raise RFSimError(f"soft cross-entropy targets must be finite and non-negative class weights, got "
                             f"{targets[index]} at (sequence, class) {index}")
        soft = np.ascontiguousarray(targets, dtype=np.float64)
        return EncodedTargets(np.zeros((1, batch), np.int64), soft, True, False, n_steps - config.loss_offset)

    if not np.issubdtype(targets.dtype, np.integer):
        raise RFSimError(f"targets for loss={config.loss!r} must hold integer class indices, got dtype "
                         f"{targets.dtype}; for one-hot targets pass their argmax over the class axis, or use "
                         "loss='cross-entropy' with (B, n_out) class weights")
    allowed = {"sequence": [(n_steps, batch)], "label-last": [(batch,), (n_steps, batch)],
               "cross-entropy": [(batch,), (n_steps, batch)]}[config.loss]
    if targets.shape not in allowed:
        raise RFSimError(f"targets for loss={config.loss!r} must have shape "
                         f"{' or '.join(str(shape) for shape in allowed)}, got {targets.shape}")
    if targets.size and (targets.min() < 0 or targets.max() >= n_out):
        raise RFSimError(f"targets must be class indices in [0, {n_out}), got values from "
                         f"{targets.min()} to {targets.max()}")

    if config.loss == "label-last":
        labels = targets[-1] if targets.ndim == 2 else targets
        return EncodedTargets(np.ascontiguousarray(labels[None, :], np.int64), np.zeros((1, 1)), False, False, 1)
    per_step = targets.ndim == 2
    labels = targets if per_step else targets[None, :]
    return EncodedTargets(np.ascontiguousarray(labels, np.int64), np.zeros((1, 1)), False, per_step,
                          n_steps - config.loss_offset)


def loss_steps(config, n_steps):
    """Return the steps t that the loss of ``config`` scores in a sequence of ``n_steps``."""
    if config.loss == "label-last":
        return np.array([n_steps - 1])
    return np.arange(config.loss_offset, n_steps)


def loss_sum_from_step_losses(config, step_losses):
    """Return L from per-(t, b) losses (T, B): the sum over scored steps of the batch means."""
    n_steps, batch = step_losses.shape
    means = step_losses[loss_steps(config, n_steps)].sum(axis=1) / batch
    return float(means.sum())


def reported_loss(config, loss_sum, n_steps):
    """Return the value the authors' scripts report for the summed loss ``loss_sum``."""
    if config.loss == "label-last":
        return loss_sum
    return loss_sum / (n_steps - config.loss_offset)


def step_losses_numpy(config, outputs, encoded):
    """Evaluate -sum_c y_c log softmax(o_t)_c for every (t, b) in NumPy (zero where unscored)."""
    n_steps, batch, _ = outputs.shape
    outputs = np.asarray(outputs, dtype=np.float64)
    log_probs = outputs - logsumexp(outputs, axis=2, keepdims=True)
    losses = np.zeros((n_steps, batch))
    rows = np.arange(batch)
    for t in loss_steps(config, n_steps):
        if encoded.use_soft:
            losses[t] = -(encoded.soft * log_probs[t]).sum(axis=1)
        else:
            labels = encoded.labels[t if encoded.per_step else 0]
            losses[t] = -log_probs[t, rows, labels]
    return losses


def accuracy_counts(config, outputs, targets, per_step=True):
    """Count correct class predictions of a batch (argmax, ties to the first class).

    Parameters
    ----------
    config : RSNNConfig
        Its ``loss`` and ``loss_offset`` k select the scored steps.
    outputs : ndarray, shape (T, B, C)
        Readout membrane at every step.
    targets : ndarray
        As for the loss of ``config`` (see the docstring of ``rfsim.network.losses``).
    per_step : bool, optional
        True: one prediction per step t >= k and sequence, against that step's class
        (a per-sequence class counts at every step), as ECG accuracy is counted.
        False: one prediction per sequence, argmax of the output averaged over the
        steps t >= k, against the sequence's class (the last step's class for per-step
        targets). Label-last always uses one prediction per sequence from the last step.

    Returns
    -------
    n_correct, n_total : int
    """
    outputs = np.asarray(outputs)
    if outputs.ndim != 3 or outputs.shape[2] != config.n_out:
        raise RFSimError(f"outputs must have shape (T, B, n_out={config.n_out}), got {outputs.shape}")
    n_steps, batch, _ = outputs.shape
    encoded = encode_targets(config, targets, n_steps, batch)
    if encoded.use_soft:
        sequence_labels = np.argmax(encoded.soft, axis=1)
    else:
        sequence_labels = encoded.labels[-1]

    if config.loss == "label-last":
        predicted = np.argmax(outputs[n_steps - 1], axis=1)
        return int(np.count_nonzero(predicted == sequence_labels)), batch

    scored = outputs[config.loss_offset:]
    if per_step:
        predicted = np.argmax(scored, axis=2)
        labels = encoded.labels[config.loss_offset:] if encoded.per_step else sequence_labels[None, :]
        return int(np.count_nonzero(predicted == labels)), int(predicted.size)
    predicted = np.argmax(scored.mean(axis=0), axis=1)
    return int(np.count_nonzero(predicted == sequence_labels)), batch


def default_per_step(config, targets):
    """Return whether accuracy is counted per step by default, which it is for per-step integer targets."""
    targets = np.asarray(targets)
    return config.loss != "label-last" and targets.ndim == 2 and np.issubdtype(targets.dtype, np.integer)


def loss_and_metrics(config, outputs, targets, *, spike_count=None):
    """Evaluate the loss and the accuracy counts of given outputs, without a gradient.

    Parameters
    ----------
    config : RSNNConfig
    outputs : ndarray, shape (T, B, C)
        Readout membrane at every step, e.g. ``forward(...).outputs``.
    targets : ndarray
        As for the loss of ``config`` (see the docstring of ``rfsim.network.losses``).
    spike_count : int, optional
        Stored in the result as given.

    Returns
    -------
    LossResult
        Accuracy is counted per step for per-step integer targets and once per sequence
        otherwise (``accuracy_counts``).
    """
    outputs = np.asarray(outputs)
    if outputs.ndim != 3 or outputs.shape[2] != config.n_out:
        raise RFSimError(f"outputs must have shape (T, B, n_out={config.n_out}), got {outputs.shape}")
    n_steps, batch, _ = outputs.shape
    encoded = encode_targets(config, targets, n_steps, batch)
    loss_sum = loss_sum_from_step_losses(config, step_losses_numpy(config, outputs, encoded))
    n_correct, n_total = accuracy_counts(config, outputs, targets, per_step=default_per_step(config, targets))
    return LossResult(loss_sum, reported_loss(config, loss_sum, n_steps), spike_count, outputs, n_correct, n_total)
