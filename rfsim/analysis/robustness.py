"""Post-training robustness of a trained RSNN: quantised weights, noisy inputs and weights, deleted spikes.

``robustness_sweep`` perturbs a trained network at each of several levels, evaluates
it ``repeats`` times per level on one split (or a fixed subset of it) and reports
loss, accuracy, SOP and synaptic operations per level and repetition. The measures
are those of ``rfsim.training.evaluate`` (loss, accuracy) and
``rfsim.analysis.sparsity`` (SOP = hidden spikes per sequence, synaptic operations =
hidden spikes times their fan-out, counted on the perturbed weights).

Perturbations, with level lambda:

* ``quantize``: lambda = b fractional bits, an integer from 0 to ``MAX_BITS``. Every
  perturbed parameter w becomes round(w 2^b) / 2^b, the nearest multiple of 2^-b
  (ties go to the even multiple). This is fixed point with b fractional bits and an
  unbounded integer part: large values are not clipped. It is deterministic, so each
  level is evaluated once.
* ``input-noise``: x_t + lambda n_t with n_t ~ N(0, 1), independent for every
  sequence, step and input channel. For spike inputs (ECG level-crossing spikes,
  SHD spike counts) this turns the binary input into a real-valued input current:
  silent steps receive noise too, so every step drives the hidden layer through
  the input weights. With ``clip_inputs`` the noisy input is clipped to the range
  [min, max] of the clean inputs of the evaluated sequences ([0, 1] for ECG).
* ``weight-noise``: w + lambda s_k n with n ~ N(0, 1) for every entry of parameter
  array k. With ``noise_scale='relative'`` (default) s_k is the standard deviation
  (ddof 0) of the trained entries of that array that the network uses, pruned
  recurrent weights excluded. So lambda is the noise-to-weight ratio of every
  matrix, and an array whose entries are all equal gets no noise. With
  ``'absolute'`` s_k = 1 and lambda is the noise std itself.
* ``spike-deletion``: each hidden spike is deleted independently with probability
  p = lambda in [0, 1] before it reaches the recurrent drive of the next step and
  the readout. The neuron that fired still sees its own spike (its refractory
  variable q, its reset or its ALIF adaptation), so a deletion models a failed
  transmission, not a missed threshold crossing. SOP and synaptic operations count
  the delivered spikes only. p = 0 is the unperturbed network and p = 1 a network
  whose hidden layer sends no spike at all.

The parameters that ``quantize`` and ``weight-noise`` perturb are chosen by
``parameters``:

* ``'weights'`` (default): ``hidden.linear.weight``, ``out.linear.weight`` and the
  biases ``hidden.linear.bias`` and ``out.linear.bias`` where the network has them.
* ``'all'``: every trained parameter, also ``hidden.omega`` and ``hidden.b_offset``
  (RF family), ``hidden.tau_mem`` and ``hidden.tau_adp`` (ALIF) and ``out.tau_mem``.
  They are perturbed as stored (raw); the network uses their absolute values.

Pruned recurrent weights stay pruned, because the engine multiplies the perturbed
weight by the pruning mask.

Randomness: repetition r uses the same draws at every level. The weight noise of
repetition r comes from ``numpy.random.default_rng([seed, stream, r])``, and the
input noise or deletion draws of sequence i from ``default_rng([seed, stream, r, i])``,
with i the sequence's index in the split. The result therefore depends neither on the
batch size nor on which other sequences are evaluated, the perturbation grows along
one direction as lambda grows, and the (step, neuron) slots deleted at p are a subset
of those deleted at any p' > p.
"""

import csv
import io
import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rfsim.errors import RFSimError

KINDS = ("quantize", "input-noise", "weight-noise", "spike-deletion")
"""Perturbations that ``robustness_sweep`` applies."""

PARAMETER_SETS = ("weights", "all")
"""Choices of the parameters that ``quantize`` and ``weight-noise`` perturb."""

NOISE_SCALES = ("relative", "absolute")
"""Meaning of the weight-noise level: times each array's std, or the std itself."""

MAX_BITS = 64
"""Largest number of fractional bits; float64 keeps 52 bits of mantissa, so more change nothing near 1."""

LEVEL_LABELS = {
    "quantize": "fractional bits b (weights rounded to multiples of 2^-b)",
    "input-noise": "input noise std",
    "weight-noise": "weight noise std",
    "spike-deletion": "spike deletion probability p",
}
"""Axis label of the level of each kind (weight noise adds its scale, see ``RobustnessSweep.level_label``)."""

RECORD_BUDGET_BYTES = 256 * 2**20
"""Memory that one recorded forward pass may use; it caps the evaluation batch size.

S-MNIST (T = 784, 256 hidden neurons) then runs 18 sequences per pass, at least four groups
of four for the engine's threads."""

_WEIGHT_KEYS = ("hidden.linear.weight", "hidden.linear.bias", "out.linear.weight", "out.linear.bias")
_STREAMS = {"quantize": 0, "input-noise": 1, "weight-noise": 2, "spike-deletion": 3}


# --- perturbations of the parameters ----------------------------------------------------


def perturbed_keys(params, parameters="weights"):
    """Return the state-dict keys that ``quantize`` and ``weight-noise`` change, in sorted order.

    Parameters
    ----------
    params : dict of str to ndarray
        Raw parameters.
    parameters : {'weights', 'all'}
        See the module docstring.
    """
    if parameters not in PARAMETER_SETS:
        raise RFSimError(f"invalid parameters={parameters!r}; choose one of {', '.join(PARAMETER_SETS)}")
    if parameters == "all":
        return sorted(params)
    return sorted(key for key in params if key in _WEIGHT_KEYS)


def quantize_params(params, bits, parameters="weights"):
    """Round parameters to the fixed-point grid with ``bits`` fractional bits.

    Parameters
    ----------
    params : dict of str to ndarray
        Raw parameters (not modified).
    bits : int
        Fractional bits b, from 0 to ``MAX_BITS``: values become multiples of 2^-b.
    parameters : {'weights', 'all'}
        Which parameters to round (module docstring).

    Returns
    -------
    dict of str to ndarray
        New parameters; the keys that are not rounded share the input arrays.
    """
    bits = _check_bits(bits)
    rounded = dict(params)
    for key in perturbed_keys(params, parameters):
        value = np.asarray(params[key])
        # ldexp scales by an exact power of two, so only np.round changes the value.
        rounded[key] = np.ldexp(np.round(np.ldexp(value, bits)), -bits).astype(value.dtype)
    return rounded


def weight_scales(params, parameters="weights", noise_scale="relative", mask=None):
    """Return the noise scale s_k of every perturbed parameter array (module docstring).

    Parameters
    ----------
    params : dict of str to ndarray
        Raw trained parameters.
    parameters : {'weights', 'all'}
    noise_scale : {'relative', 'absolute'}
    mask : ndarray, optional
        Recurrent pruning mask (H, H); pruned entries of ``hidden.linear.weight`` do
        not enter its standard deviation.

    Returns
    -------
    dict of str to float
    """
    if noise_scale not in NOISE_SCALES:
        raise RFSimError(f"invalid noise_scale={noise_scale!r}; choose one of {', '.join(NOISE_SCALES)}")
    scales = {}
    for key in perturbed_keys(params, parameters):
        value = np.asarray(params[key], dtype=np.float64)
        if noise_scale == "absolute":
            scales[key] = 1.0
            continue
        used = value
        if key == "hidden.linear.weight" and mask is not None:
            n_hidden = value.shape[0]
            keep = np.ones(value.shape, dtype=bool)
            keep[:, value.shape[1] - n_hidden:] = np.asarray(mask) != 0
            used = value[keep]
        scales[key] = float(np.std(used)) if used.size else 0.0
    return scales


def weight_noise_params(params, level, rng, scales):
    """Add Gaussian noise of std ``level * scales[key]`` to each parameter named in ``scales``.

    Parameters
    ----------
    params : dict of str to ndarray
        Raw parameters (not modified).
    level : float
        Noise level lambda >= 0.
    rng : numpy.random.Generator
        Source of the standard normal draws, taken in the sorted order of ``scales``.
    scales : dict of str to float
        Scale s_k of each perturbed array (``weight_scales``).

    Returns
    -------
    dict of str to ndarray
    """
    noisy = dict(params)
    for key in sorted(scales):
        value = np.asarray(params[key])
        draw = rng.standard_normal(value.shape)
        noisy[key] = (value + (level * scales[key]) * draw).astype(value.dtype)
    return noisy


# --- checks ------------------------------------------------------------------------------


def _check_bits(bits):
    if isinstance(bits, bool) or not isinstance(bits, (int, np.integer, float, np.floating)) \
            or not float(bits).is_integer() or not 0 <= bits <= MAX_BITS:
        raise RFSimError(f"the number of fractional bits must be an integer from 0 to {MAX_BITS}, got {bits!r}; "
                         "give levels such as 0,4,8,16")
    return int(bits)


def check_levels(kind, levels):
    """Validate the levels of a sweep and return them as a float64 array.

    Raises
    ------
    RFSimError
        For an unknown kind, no levels, a non-finite or negative level, a deletion
        probability above 1, or a bit count that is not an integer from 0 to ``MAX_BITS``.
    """
    if kind not in KINDS:
        raise RFSimError(f"unknown perturbation kind {kind!r}; choose one of {', '.join(KINDS)}")
    values = np.atleast_1d(np.asarray(levels, dtype=np.float64)) if np.size(levels) else np.zeros(0)
    if values.ndim != 1 or values.size == 0:
        raise RFSimError("the list of levels is empty; give at least one level, such as 0,0.1,0.2")
    for value in values:
        if not math.isfinite(value):
            raise RFSimError(f"every level must be a finite number, got {value!r}")
        if value < 0:
            raise RFSimError(f"levels must not be negative, got {value:g}; {kind} levels start at 0")
        if kind == "spike-deletion" and value > 1:
            raise RFSimError(f"a spike deletion probability must lie in [0, 1], got p = {value:g}")
        if kind == "quantize":
            _check_bits(value)
    return values


def _check_count(name, value, least):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < least:
        raise RFSimError(f"{name} must be an integer >= {least}, got {name}={value!r}")
    return int(value)


# --- evaluation ----------------------------------------------------------------------------


@dataclass(frozen=True)
class PerturbedMetrics:
    """Loss, accuracy and sparsity of one (possibly perturbed) network on a dataset.

    Attributes
    ----------
    loss : float
        Mean reported loss per sequence (as ``rfsim.training.evaluate.evaluate_dataset``).
    accuracy : float
        Accuracy [%].
    sop : float
        Delivered hidden spikes per sequence.
    sop_per_step : float
        SOP / T.
    synaptic_ops : float
        Per sequence: delivered hidden spikes times the fan-out of their neuron
        (non-zero recurrent weights after the mask plus non-zero readout weights).
    spikes_per_neuron : ndarray of int, shape (H,)
        Delivered spikes of each hidden neuron over all sequences.
    """

    loss: float
    accuracy: float
    sop: float
    sop_per_step: float
    synaptic_ops: float
    spikes_per_neuron: np.ndarray


def _record_batch_size(net_config, n_steps, eval_batch_size):
    """Sequences per forward pass so that the recorded states fit ``RECORD_BUDGET_BYTES``."""
    # The engine keeps up to 3 recorded states and the spikes, then copies them to (T, B, H).
    n_records = 2 * (3 + 1) + 1
    per_sequence = n_steps * net_config.n_hidden * net_config.np_dtype.itemsize * n_records
    return int(max(1, min(eval_batch_size, RECORD_BUDGET_BYTES // per_sequence)))


def evaluate_perturbed(net_config, params, dataset, config, *, mask=None, sequence_ids=None, input_noise=None,
                       spike_deletion=None, batch_size=None):
    """Evaluate a network on a dataset, optionally with noisy inputs or deleted hidden spikes.

    Parameters
    ----------
    net_config : rfsim.network.RSNNConfig
    params : dict of str to ndarray
        Raw parameters (already quantised or noisy, if the sweep perturbs them).
    dataset : rfsim.data.Dataset
    config : rfsim.training.presets.TrainConfig
        Supplies ``eval_batch_size``.
    mask : ndarray, optional
        Recurrent pruning mask.
    sequence_ids : ndarray of int, optional
        Index of each sequence in its split, which seeds its draws (default 0, 1, ...).
    input_noise : tuple, optional
        ``(level, seed_prefix, low, high)``: add level * N(0, 1) to the inputs, drawn for
        sequence i from ``default_rng([*seed_prefix, i])``, then clip to [low, high]
        (None for no clipping).
    spike_deletion : tuple, optional
        ``(p, seed_prefix)``: delete each hidden spike with probability p, with the
        uniform draws of sequence i from ``default_rng([*seed_prefix, i])``.
    batch_size : int, optional
        Sequences per forward pass (default: ``config.eval_batch_size``, capped so that
        the recorded spikes fit ``RECORD_BUDGET_BYTES``). It does not change the
        accuracy or the spike counts; the loss may change in the last bits.

    Returns
    -------
    PerturbedMetrics
    """
    from rfsim.analysis.sparsity import fan_outs
    from rfsim.data import batches
    from rfsim.network import forward, loss_and_metrics
    from rfsim.training.evaluate import accuracy_counts, training_targets

    n_sequences = len(dataset)
    if n_sequences == 0:
        raise RFSimError(f"dataset {dataset.name!r} is empty; there is nothing to evaluate")
    ids = np.arange(n_sequences) if sequence_ids is None else np.asarray(sequence_ids, dtype=np.int64)
    if ids.shape != (n_sequences,):
        raise RFSimError(f"sequence_ids must hold one index per sequence ({n_sequences}), got shape {ids.shape}")
    if batch_size is None:
        batch_size = _record_batch_size(net_config, dataset.n_steps, config.eval_batch_size)
    dtype = net_config.np_dtype
    label_last = net_config.loss == "label-last"

    loss_total, correct, total = 0.0, 0, 0
    spikes_per_neuron = np.zeros(net_config.n_hidden, dtype=np.int64)
    start = 0
    for x, labels in batches(dataset, batch_size, shuffle=False, dtype=dtype):
        n_steps, batch = x.shape[0], x.shape[1]
        batch_ids = ids[start:start + batch]
        start += batch
        if input_noise is not None:
            x = _noisy_inputs(x, batch_ids, *input_noise)
        options = {}
        if spike_deletion is not None:
            options["spike_keep"] = _kept_spikes(n_steps, net_config.n_hidden, batch_ids, *spike_deletion)

        result = forward(net_config, params, x, mask=mask, record=True, **options)
        loss = loss_and_metrics(net_config, result.outputs, training_targets(net_config, labels, n_steps))
        loss_total += float(loss.loss_reported) * batch
        batch_correct, batch_total = accuracy_counts(result.outputs, labels, dataset.per_step_labels, label_last,
                                                     net_config.loss_offset)
        correct += batch_correct
        total += batch_total
        spikes_per_neuron += result.states["z"].sum(axis=(0, 1)).astype(np.int64)

    fan_out_recurrent, fan_out_readout, _ = fan_outs(net_config, params, mask)
    sop = float(spikes_per_neuron.sum()) / n_sequences
    synaptic_ops = float(spikes_per_neuron @ (fan_out_recurrent + fan_out_readout)) / n_sequences
    return PerturbedMetrics(loss=loss_total / n_sequences, accuracy=100.0 * correct / total, sop=sop,
                            sop_per_step=sop / dataset.n_steps, synaptic_ops=synaptic_ops,
                            spikes_per_neuron=spikes_per_neuron)


def _noisy_inputs(x, batch_ids, level, seed_prefix, low, high):
    """Return x (T, B, C) plus level * N(0, 1), each sequence drawn from its own generator."""
    noisy = np.array(x, dtype=x.dtype, copy=True)
    n_steps, _, n_channels = x.shape
    for b, index in enumerate(batch_ids):
        draw = np.random.default_rng([*seed_prefix, int(index)]).standard_normal((n_steps, n_channels))
        noisy[:, b, :] = x[:, b, :] + level * draw
    if low is not None:
        np.clip(noisy, low, high, out=noisy)
    return noisy


def _kept_spikes(n_steps, n_hidden, batch_ids, p, seed_prefix):
    """Return a (T, B, H) uint8 array that is 1 where a hidden spike is delivered (uniform draw >= p)."""
    keep = np.empty((n_steps, len(batch_ids), n_hidden), dtype=np.uint8)
    for b, index in enumerate(batch_ids):
        draw = np.random.default_rng([*seed_prefix, int(index)]).random((n_steps, n_hidden))
        keep[:, b, :] = draw >= p
    return keep


# --- the sweep -------------------------------------------------------------------------------


@dataclass(frozen=True)
class RobustnessSweep:
    """Metrics of a network perturbed at several levels, with repetitions.

    Attributes
    ----------
    kind : str
        One of ``KINDS``.
    levels : ndarray, shape (L,)
        Perturbation levels, in the order given (bits for ``quantize``).
    loss, accuracy, sop, sop_per_step, synaptic_ops : ndarray, shape (L, R)
        Per level and repetition: mean loss per sequence, accuracy [%], delivered
        hidden spikes per sequence, SOP / T, and synaptic operations per sequence.
    baseline : PerturbedMetrics
        The unperturbed network on the same sequences.
    repeats : int
        Repetitions R per level (1 for ``quantize``).
    seed : int
        Seed of every draw (module docstring).
    parameters : str
        Parameters perturbed by ``quantize`` and ``weight-noise`` (``'weights'`` or ``'all'``).
    noise_scale : str
        ``'relative'`` or ``'absolute'`` weight noise.
    clip_inputs : bool
        Whether noisy inputs were clipped to the clean range.
    input_range : tuple of float
        (min, max) of the clean inputs of the evaluated sequences.
    scales : dict of str to float
        Weight-noise scale s_k per perturbed array (empty for other kinds).
    checkpoint, model, split : str
        Checkpoint file, hidden neuron model and dataset split.
    n_sequences, n_steps : int
        Sequences evaluated and their length T.
    subset : ndarray of int or None
        Indices of the evaluated sequences in the split, or None for the whole split.
    subset_seed : int or None
        Seed of a random subset, or None.
    seconds : float
        Wall time of the sweep [s].
    """

    kind: str
    levels: np.ndarray
    loss: np.ndarray
    accuracy: np.ndarray
    sop: np.ndarray
    sop_per_step: np.ndarray
    synaptic_ops: np.ndarray
    baseline: PerturbedMetrics
    repeats: int
    seed: int
    parameters: str
    noise_scale: str
    clip_inputs: bool
    input_range: tuple
    scales: dict
    checkpoint: str
    model: str
    split: str
    n_sequences: int
    n_steps: int
    subset: np.ndarray | None
    subset_seed: int | None
    seconds: float

    METRICS = ("loss", "accuracy", "sop", "sop_per_step", "synaptic_ops")

    def mean(self, metric="accuracy"):
        """Return the mean of a metric over the repetitions, shape (L,)."""
        return getattr(self, metric).mean(axis=1)

    def std(self, metric="accuracy"):
        """Return the sample standard deviation (ddof 1) over the repetitions, shape (L,); 0 for one repetition."""
        values = getattr(self, metric)
        if values.shape[1] < 2:
            return np.zeros(values.shape[0])
        return values.std(axis=1, ddof=1)

    @property
    def level_label(self):
        """Axis label of the levels, with the weight-noise scale."""
        if self.kind == "weight-noise":
            unit = "x std of each trained array" if self.noise_scale == "relative" else "absolute"
            return f"{LEVEL_LABELS[self.kind]} ({unit})"
        return LEVEL_LABELS[self.kind]

    def lines(self):
        """Return a text table of the sweep: one row per level with mean and std over the repetitions."""
        chosen = f"all {self.n_sequences} sequences" if self.subset is None else (
            f"the first {self.n_sequences} sequences" if self.subset_seed is None
            else f"{self.n_sequences} sequences drawn with seed {self.subset_seed}")
        lines = [f"{self.kind} sweep of {self.checkpoint} ({self.model}) on the {self.split} split, {chosen} "
                 f"of T = {self.n_steps} steps, {self.repeats} repetition(s) per level, seed {self.seed}"]
        lines.extend(self._setting_lines())
        base = self.baseline
        lines.append(f"unperturbed: loss {base.loss:.6g}, accuracy {base.accuracy:.2f} %, SOP {base.sop:.6g}, "
                     f"synaptic operations {base.synaptic_ops:.6g} per sequence")
        spread = ("mean +- std (ddof 1) over the repetitions" if self.repeats > 1
                  else "one repetition, so no std is given")
        lines.append("SOP = delivered hidden spikes per sequence; synaptic operations = delivered spikes times "
                     f"their fan-out (non-zero recurrent and readout weights), per sequence; {spread}")
        header = f"{'level':>10}  {'accuracy [%]':>17}  {'loss':>21}  {'SOP':>21}  {'synaptic ops':>21}"
        lines.append(header)
        for index, level in enumerate(self.levels):
            cells = [f"{level:>10g}"]
            for metric, width, digits in (("accuracy", 17, ".2f"), ("loss", 21, ".4f"), ("sop", 21, ".1f"),
                                          ("synaptic_ops", 21, ".0f")):
                mean = self.mean(metric)[index]
                cell = f"{mean:{digits}}"
                if self.repeats > 1:
                    cell += f" +- {self.std(metric)[index]:{digits}}"
                cells.append(f"{cell:>{width}}")
            lines.append("  ".join(cells))
        return lines

    def _setting_lines(self):
        perturbed = "weights and biases" if self.parameters == "weights" else "all parameters"
        if self.kind == "quantize":
            return [f"level = fractional bits b: {perturbed} rounded to multiples of 2^-b, integer part unbounded"]
        if self.kind == "weight-noise":
            scales = ", ".join(f"{key} {value:.4g}" for key, value in self.scales.items())
            meaning = "times the std of each trained array" if self.noise_scale == "relative" else "absolute"
            return [f"level = std of Gaussian noise on {perturbed}, {meaning} (scales: {scales})"]
        if self.kind == "input-noise":
            low, high = self.input_range
            clip = f", clipped to [{low:g}, {high:g}]" if self.clip_inputs else ", not clipped"
            return [f"level = std of Gaussian noise added to every input value{clip} "
                    f"(clean inputs range over [{low:g}, {high:g}])"]
        return ["level = probability p that a hidden spike is deleted before it reaches the recurrent drive and "
                "the readout (the neuron's own state still sees it)"]


def robustness_sweep(checkpoint, kind, levels, *, repeats=5, seed=0, split="test", subset=None, subset_seed=None,
                     parameters="weights", noise_scale="relative", clip_inputs=False, task=None, data_dir=None,
                     progress=None):
    """Perturb a trained network at each level and evaluate it (module docstring).

    Parameters
    ----------
    checkpoint : str, Path or rfsim.analysis._checkpoints.AnalysisCheckpoint
        Checkpoint ``.npz`` written by ``rfsim train`` (its sidecar beside it), or one
        already loaded.
    kind : {'quantize', 'input-noise', 'weight-noise', 'spike-deletion'}
    levels : sequence of float
        Perturbation levels: fractional bits (``quantize``), noise std
        (``input-noise``, ``weight-noise``) or deletion probability (``spike-deletion``).
    repeats : int
        Repetitions per level with independent draws; ``quantize`` always uses 1.
    seed : int
        Non-negative seed of every draw.
    split : {'test', 'valid', 'train'}
    subset : int, optional
        Evaluate only this many sequences of the split (the first ones, or a random
        draw with ``subset_seed``; see ``rfsim.analysis.landscape.select_subset``).
    subset_seed : int, optional
    parameters : {'weights', 'all'}
        Parameters that ``quantize`` and ``weight-noise`` perturb.
    noise_scale : {'relative', 'absolute'}
        Meaning of the ``weight-noise`` level.
    clip_inputs : bool
        Clip noisy inputs to the clean range (``input-noise`` only).
    task, data_dir : optional
        As for ``load_analysis_checkpoint``.
    progress : callable, optional
        Called as ``progress(done, total)`` after each evaluation.

    Returns
    -------
    RobustnessSweep
    """
    from rfsim.analysis._checkpoints import SPLITS, AnalysisCheckpoint, load_analysis_checkpoint
    from rfsim.analysis.landscape import select_subset

    levels = check_levels(kind, levels)
    repeats = 1 if kind == "quantize" else _check_count("repeats", repeats, 1)
    seed = _check_count("seed", seed, 0)
    if parameters not in PARAMETER_SETS:
        raise RFSimError(f"invalid parameters={parameters!r}; choose one of {', '.join(PARAMETER_SETS)}")
    if noise_scale not in NOISE_SCALES:
        raise RFSimError(f"invalid noise_scale={noise_scale!r}; choose one of {', '.join(NOISE_SCALES)}")
    if split not in SPLITS:
        raise RFSimError(f"invalid split {split!r}; choose one of {', '.join(SPLITS)}")

    loaded = checkpoint
    if not isinstance(checkpoint, AnalysisCheckpoint):
        loaded = load_analysis_checkpoint(checkpoint, task=task, data_dir=data_dir)
    dataset, indices = select_subset(getattr(loaded.task, split), subset, subset_seed)
    ids = np.arange(len(dataset)) if indices is None else indices
    clean = np.asarray(dataset.x)
    input_range = (float(clean.min()), float(clean.max()))
    scales = weight_scales(loaded.params, parameters, noise_scale, loaded.mask) if kind == "weight-noise" else {}

    started = time.perf_counter()
    batch_size = _record_batch_size(loaded.net_config, dataset.n_steps, loaded.config.eval_batch_size)

    def evaluate(params, **options):
        return evaluate_perturbed(loaded.net_config, params, dataset, loaded.config, mask=loaded.mask,
                                  sequence_ids=ids, batch_size=batch_size, **options)

    baseline = evaluate(loaded.params)
    shape = (levels.size, repeats)
    values = {metric: np.zeros(shape) for metric in RobustnessSweep.METRICS}
    stream = _STREAMS[kind]
    n_done = 0
    for r in range(repeats):
        for index, level in enumerate(levels):
            params, options = loaded.params, {}
            if kind == "quantize":
                params = quantize_params(loaded.params, int(level), parameters)
            elif kind == "weight-noise":
                rng = np.random.default_rng([seed, stream, r])
                params = weight_noise_params(loaded.params, level, rng, scales)
            elif kind == "input-noise":
                low, high = input_range if clip_inputs else (None, None)
                options["input_noise"] = (level, (seed, stream, r), low, high)
            else:
                options["spike_deletion"] = (level, (seed, stream, r))
            metrics = evaluate(params, **options)
            for metric in RobustnessSweep.METRICS:
                values[metric][index, r] = getattr(metrics, metric)
            n_done += 1
            if progress is not None:
                progress(n_done, levels.size * repeats)

    return RobustnessSweep(
        kind=kind, levels=levels, baseline=baseline, repeats=repeats, seed=seed, parameters=parameters,
        noise_scale=noise_scale, clip_inputs=bool(clip_inputs), input_range=input_range, scales=scales,
        checkpoint=str(loaded.path), model=loaded.model, split=split, n_sequences=len(dataset),
        n_steps=dataset.n_steps, subset=indices, subset_seed=subset_seed if subset is not None else None,
        seconds=time.perf_counter() - started, **values,
    )


# --- output files ------------------------------------------------------------------------------


def _settings(result):
    return {
        "kind": result.kind,
        "checkpoint": result.checkpoint,
        "model": result.model,
        "split": result.split,
        "n_sequences": result.n_sequences,
        "n_steps": result.n_steps,
        "subset_seed": -1 if result.subset_seed is None else result.subset_seed,
        "repeats": result.repeats,
        "seed": result.seed,
        "parameters": result.parameters,
        "noise_scale": result.noise_scale,
        "clip_inputs": int(result.clip_inputs),
        "input_min": result.input_range[0],
        "input_max": result.input_range[1],
    }


def save_robustness(result, path):
    """Write a ``RobustnessSweep`` to a CSV or NPZ file, chosen by the suffix.

    CSV: ``#`` comment lines with the settings and the weight-noise scales, then a
    table. Its columns are ``row`` (``baseline``, ``repeat``, ``mean`` or ``std``),
    ``level`` (empty for the baseline), ``repeat`` (empty for baseline, mean and
    std), ``loss``, ``accuracy`` [%], ``sop``, ``sop_per_step`` and ``synaptic_ops``
    (per sequence).

    NPZ: ``levels`` (L,); ``loss``, ``accuracy``, ``sop``, ``sop_per_step``,
    ``synaptic_ops`` (L, R); their ``*_mean`` and ``*_std`` (L,); ``baseline_*``
    scalars; ``scale_keys`` and ``scale_values`` for weight noise; ``subset_indices``
    for a subset; and the settings as scalar entries (``subset_seed`` is -1 when unset).
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".npz"):
        raise RFSimError(f"the robustness output file must end in .csv or .npz, got {str(path)!r}")
    if suffix == ".npz":
        _save_npz(result, path)
    else:
        _save_csv(result, path)


def _save_npz(result, path):
    from rfsim.training.checkpoint import save_npz_or_raise

    arrays = {name: np.array(value) for name, value in _settings(result).items()}
    arrays["levels"] = result.levels
    for metric in RobustnessSweep.METRICS:
        arrays[metric] = getattr(result, metric)
        arrays[f"{metric}_mean"] = result.mean(metric)
        arrays[f"{metric}_std"] = result.std(metric)
        arrays[f"baseline_{metric}"] = np.array(getattr(result.baseline, metric))
    arrays["scale_keys"] = np.array(list(result.scales), dtype=str)
    arrays["scale_values"] = np.array(list(result.scales.values()), dtype=np.float64)
    if result.subset is not None:
        arrays["subset_indices"] = np.asarray(result.subset, dtype=np.int64)
    save_npz_or_raise(path, arrays, "robustness results")


def _save_csv(result, path):
    from rfsim.training.checkpoint import atomic_write_text

    buffer = io.StringIO()
    for name, value in _settings(result).items():
        buffer.write(f"# {name}: {value}\n")
    for key, value in result.scales.items():
        buffer.write(f"# scale {key}: {value!r}\n")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["row", "level", "repeat", *RobustnessSweep.METRICS])
    writer.writerow(["baseline", "", "", *(repr(float(getattr(result.baseline, m))) for m in RobustnessSweep.METRICS)])
    for index, level in enumerate(result.levels):
        for r in range(result.repeats):
            writer.writerow(["repeat", repr(float(level)), r,
                             *(repr(float(getattr(result, m)[index, r])) for m in RobustnessSweep.METRICS)])
    for row, reduce in (("mean", result.mean), ("std", result.std)):
        for index, level in enumerate(result.levels):
            writer.writerow([row, repr(float(level)), "",
                             *(repr(float(reduce(m)[index])) for m in RobustnessSweep.METRICS)])
    try:
        atomic_write_text(path, buffer.getvalue())
    except OSError as error:
        raise RFSimError(f"failed to write robustness results {str(path)!r}: {error}") from error
