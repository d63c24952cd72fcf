"""Evaluation of a network on a dataset: loss, accuracy and spike operations (SOP).

Definitions, as in the authors' scripts:

* loss: the engine's reported loss (the summed per-step NLL divided by the
  number of scored steps; for label-last the NLL of the last step), averaged
  over the sequences of the split.
* accuracy [%]: per time step for tasks with per-step labels (ECG), scoring
  the steps t >= ``loss_offset``; per sequence otherwise, where the predicted
  class is the argmax of the last output (label-last) or of the output averaged
  over the scored steps.
* SOP: hidden spikes per sequence, counted over all time steps; SOP per step is
  SOP / T. Neither counts input events or weights spikes by fan-out.
"""

from dataclasses import dataclass

import numpy as np

from rfsim.errors import RFSimError


@dataclass(frozen=True)
class EvalResult:
    """Loss, accuracy and sparsity of a network on one dataset split.

    Attributes
    ----------
    loss : float
        Mean reported loss per sequence.
    accuracy : float
        Accuracy [%].
    sop : float
        Hidden spikes per sequence.
    sop_per_step : float
        Hidden spikes per sequence and time step.
    n_sequences : int
        Number of sequences evaluated.
    predictions : ndarray or None
        Predicted class per step (T, N) or per sequence (N,), when requested.
    """

    loss: float
    accuracy: float
    sop: float
    sop_per_step: float
    n_sequences: int
    predictions: np.ndarray | None = None


def make_net_config(config, task):
    """Build the engine's ``RSNNConfig`` for a ``TrainConfig`` and the task it trains on."""
    from rfsim.network import RSNNConfig

    if config.loss == "label-last" and task.per_step_labels:
        raise RFSimError(f"task {task.name!r} labels every time step, so loss='label-last' does not apply; "
                         "use loss='sequence'")
    return RSNNConfig(
        model=config.model, n_in=task.n_inputs, n_hidden=config.n_hidden, n_out=task.n_classes, dt=config.dt,
        rf_reset=config.rf_reset, hidden_bias=config.hidden_bias, output_bias=config.output_bias,
        surrogate=config.surrogate, loss=config.loss, loss_offset=config.loss_offset, dtype=config.dtype,
        brf_boundary=config.brf_boundary, brf_refractory=config.brf_refractory,
        brf_smooth_reset=config.brf_smooth_reset,
    )


def training_targets(net_config, labels, n_steps):
    """Return the targets the engine expects for a batch of labels.

    Per-step labels (T, B) pass through. Sequence labels (B,) pass through for
    a label-last loss and are repeated at every step otherwise, as the authors'
    scripts score the same label at each step.
    """
    if labels.ndim == 2 or net_config.loss == "label-last":
        return labels
    return np.ascontiguousarray(np.broadcast_to(labels, (n_steps, labels.shape[0])))


def predict(outputs, per_step_labels, label_last, loss_offset):
    """Return the predicted classes of a batch of outputs (T, B, C).

    Returns
    -------
    ndarray of int
        (T - loss_offset, B) per-step predictions, or (B,) per-sequence predictions.
    """
    scored = outputs[loss_offset:]
    if per_step_labels:
        return np.argmax(scored, axis=2)
    if label_last:
        return np.argmax(outputs[-1], axis=1)
    return np.argmax(scored.mean(axis=0), axis=1)


def accuracy_counts(outputs, labels, per_step_labels, label_last, loss_offset):
    """Return (correct, total) predictions of a batch; ties go to the first class."""
    predictions = predict(outputs, per_step_labels, label_last, loss_offset)
    truth = labels[loss_offset:] if per_step_labels else labels
    return int(np.count_nonzero(predictions == truth)), int(truth.size)


def evaluate_dataset(net_config, params, dataset, config, *, mask=None, keep_predictions=False):
    """Evaluate a network on every sequence of ``dataset``.

    Parameters
    ----------
    net_config : rfsim.network.RSNNConfig
        Network configuration.
    params : dict of str to ndarray
        Parameters under the authors' state-dict names.
    dataset : rfsim.data.Dataset
        Sequences to evaluate.
    config : TrainConfig
        Supplies ``eval_batch_size`` and ``dtype``.
    mask : ndarray, optional
        Recurrent pruning mask.
    keep_predictions : bool
        Return the predicted classes in ``EvalResult.predictions``.

    Returns
    -------
    EvalResult
    """
    from rfsim.data import batches
    from rfsim.network import forward, loss_and_metrics

    if len(dataset) == 0:
        raise RFSimError(f"dataset {dataset.name!r} is empty; there is nothing to evaluate")
    dtype = np.float32 if config.dtype == "float32" else np.float64
    label_last = net_config.loss == "label-last"

    loss_total, correct, total, spikes = 0.0, 0, 0, 0
    predictions = []
    for x, labels in batches(dataset, config.eval_batch_size, shuffle=False, dtype=dtype):
        n_steps, batch_size = x.shape[0], x.shape[1]
        result = forward(net_config, params, x, mask=mask)
        loss = loss_and_metrics(net_config, result.outputs, training_targets(net_config, labels, n_steps))

        loss_total += float(loss.loss_reported) * batch_size
        spikes += int(result.spike_count)
        batch_correct, batch_total = accuracy_counts(
            result.outputs, labels, dataset.per_step_labels, label_last, net_config.loss_offset)
        correct += batch_correct
        total += batch_total
        if keep_predictions:
            predictions.append(predict(result.outputs, dataset.per_step_labels, label_last, net_config.loss_offset))

    n_sequences = len(dataset)
    sop = spikes / n_sequences
    kept = np.concatenate(predictions, axis=-1) if keep_predictions else None
    return EvalResult(loss=loss_total / n_sequences, accuracy=100.0 * correct / total, sop=sop,
                      sop_per_step=sop / dataset.n_steps, n_sequences=n_sequences, predictions=kept)
