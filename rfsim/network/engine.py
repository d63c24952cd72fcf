"""Hand-written BPTT engine for recurrent spiking networks (forward, backward, truncated BPTT).

Network (all models)::

    I_t = W [x_t ; z_{t-1}] + b_h          W of shape (h, m + h), optional bias b_h
    hidden neuron step (BRF, RF, BHRF or ALIF) -> spikes z_t, state
    o_t = alpha_o o_{t-1} + (1 - alpha_o)(W_o z_t + b_o),   alpha_o = exp(-1 / |tau_out|)

with every state zero before t = 0. The neuron equations are stated in
``rfsim.network.kernels_rf`` and ``rfsim.network.kernels_alif``, the losses in
``rfsim.network.losses``, the surrogate derivatives in ``rfsim.surrogate``. The
gradient is the exact reverse-mode derivative of the same floating-point graph that
the authors' PyTorch implementation (AdaptiveAILab/brf-neurons) differentiates: through
the recurrent spikes (surrogate), through q into threshold and damping, through
p(omega) into omega, through the ALIF reset z_t theta_t into both factors, through the
readout, and through |.| with sign(raw) (0 at 0). An optional 0/1 pruning mask
multiplies W in the forward pass and the gradient of W, so pruned weights get a zero
gradient. (The authors' masked layer instead zeroes the weights in place before each
forward pass, which leaves their gradient nonzero.)

Notes
-----
* p(omega) = (-1 + sqrt(1 - (dt_p omega)^2)) / dt_p and the BHRF damping
  (dt_p / 2) omega^2 use dt_p = ``config.boundary_dt`` or, by default, ``config.dt``.
  The authors' implementation hard-codes 0.01 in both; the two agree at dt = 0.01 s.
* Memory: the sequences are processed in groups of 4, each group on one thread, and
  only the groups running at the same time keep their trajectories. A call with window
  length T_w (T, or ``tbptt_window``), batch B and h hidden neurons needs about
  n_threads x 4 x (T_w + 1) x (n_stored x 8 + 5) x h bytes of trajectory in float64
  (n_stored = 2 for RF, BRF and BHRF, 4 for ALIF; the 5 bytes are the spike and its
  entry in the step's list of spiking neurons; the refractory variable q of the BRF
  and BHRF is stored every 16 steps and replayed from the spikes in between, with the
  same bits), plus min(ceil(B/4), 64) x (h^2 + (m + 3 + C) h) x 8 bytes of per-group
  gradient buffers, plus per-step inputs, outputs, losses and labels (about
  T x B x ((m + 2 C) x 8 + 41) bytes). So it grows linearly in T_w, as h^2 through the
  gradient buffers, and in B only through the per-step arrays and the gradient
  buffers: S-MNIST (T = 784, B = 256, h = 256) with the per-step loss is estimated at
  124 MB on 2 threads (71 MB in float32), and tracemalloc measured 96 MB (55 MB) at
  the peak of such a call. ``estimate_memory_bytes`` returns the estimate, an upper
  bound. A call whose estimate exceeds ``config.memory_limit`` raises ``RFSimError``
  and suggests the longest ``tbptt_window`` that fits. There is no
  checkpoint-and-recompute mode.
* Scratch reuse: the trajectory and gradient buffers that a call allocates stay
  allocated in the calling thread (one set for calls with a backward sweep, one for
  forward passes). The next call of the same or smaller sizes reuses them and so
  writes into memory that is already mapped instead of taking a page fault per
  4 kB. A call that needs larger buffers replaces them. ``release_scratch`` frees
  them.
* Parallelism and determinism: each group of sequences accumulates its own gradient
  buffer and the buffers are summed in group order, so results are identical bit for
  bit from run to run and for any number of threads.
* float32 (the default dtype): states, parameters, gradients and the surrogate
  derivative are float32, as in the authors' float32 runs; the loss and the softmax
  are evaluated in float64 and rounded. On the authors' float32 trace the engine
  agrees to 1e-5 relative (states and gradients), as does their own float32 run with
  their float64 one. ``dtype='float64'`` agrees with their float64 traces to 1e-9.
"""

import contextlib
import math
import threading
import warnings
from dataclasses import dataclass

import numba
import numpy as np

from rfsim.errors import DivergenceWarning, RFSimError
from rfsim.network import kernels_bptt as kb
from rfsim.network.init import parameter_shapes
from rfsim.network.kernels_common import (
    ALIF_BETA,
    ALIF_THETA,
    DT,
    GAMMA,
    N_CONSTS,
    ONE,
    REFRACTORY,
    SMOOTH_RESET,
    THETA,
    TWO_DT,
    ZERO,
)
from rfsim.network.kernels_rf import RESET_HARD, RESET_NONE, RESET_SOFT
from rfsim.network.losses import (
    EncodedTargets,
    LossResult,
    accuracy_counts,
    default_per_step,
    encode_targets,
    loss_and_metrics,
    loss_steps,
    loss_sum_from_step_losses,
    reported_loss,
)
from rfsim.surrogate import surrogate_code

__all__ = [
    "ForwardResult", "LossResult", "accuracy_counts", "estimate_memory_bytes", "forward", "loss_and_metrics",
    "release_scratch", "train_step_tbptt", "value_and_grad",
]

MODEL_CODES = {"brf": kb.MODEL_BRF, "rf": kb.MODEL_RF, "bhrf": kb.MODEL_BHRF, "alif": kb.MODEL_ALIF}
RESET_CODES = {"none": RESET_NONE, "soft": RESET_SOFT, "hard": RESET_HARD}

MAX_GROUPS_PER_CALL = 64
"""Groups whose gradient buffers exist at the same time; larger batches run in rounds."""


@dataclass(frozen=True)
class ForwardResult:
    """Output of ``forward``.

    Attributes
    ----------
    outputs : ndarray, shape (T, B, C)
        Readout membrane o_t.
    spike_count : int
        Hidden spikes summed over all steps, sequences and neurons (the delivered ones
        with ``spike_keep``).
    states : dict of str to ndarray or None
        Only with ``record=True``. ``'z'`` holds the spikes (T, B, H) as 0.0/1.0 (the
        delivered ones with ``spike_keep``) and ``'out'`` the readout (T, B, C). The
        model's states after each step, each (T, B, H), are ``'u'``, ``'v'``, ``'q'`` for
        BRF and BHRF, ``'u'``, ``'v'`` after the reset for RF, and ``'u'`` after the reset
        and ``'a'`` for ALIF.
    """

    outputs: np.ndarray
    spike_count: int
    states: dict | None = None


@dataclass(frozen=True)
class _Prepared:
    """Parameters in the kernels' layouts and dtype, derived from the raw parameters."""

    w_in_t: np.ndarray
    w_rec: np.ndarray
    bias_h: np.ndarray
    cell: np.ndarray  # per-neuron constants, tiled once per row of a group (n_cell, 4 h)
    w_out: np.ndarray
    w_ext_t: np.ndarray  # [W_rec^T | W_o^T | 0] (h, h + C rounded up to cache lines): one pass for both sums
    bias_o: np.ndarray
    alpha_o: np.ndarray
    one_minus_alpha_o: np.ndarray
    consts: np.ndarray
    mask: np.ndarray | None


@dataclass
class _Results:
    """Per-step results in the kernels' layouts (see ``kernels_bptt.run_window``), padded to whole groups."""

    outputs: np.ndarray
    losses: np.ndarray
    spikes: np.ndarray
    record: np.ndarray
    record_z: np.ndarray

    @classmethod
    def allocate(cls, config, n_steps, batch, record):
        n_groups = math.ceil(batch / kb.GROUP_SIZE)
        dtype = config.np_dtype
        if record:
            names = kb.STATE_NAMES[MODEL_CODES[config.model]]
            record_states = np.zeros((len(names), n_groups, n_steps, kb.GROUP_SIZE, config.n_hidden), dtype)
            record_z = np.zeros((n_groups, n_steps, kb.GROUP_SIZE, config.n_hidden), dtype)
        else:
            record_states = np.zeros((1, 1, 1, 1, 1), dtype)
            record_z = np.zeros((1, 1, 1, 1), dtype)
        padded = n_groups * kb.GROUP_SIZE
        return cls(
            outputs=np.zeros((n_steps, padded, config.n_out), dtype),
            losses=np.zeros((n_steps, padded)),
            spikes=np.zeros(n_groups, np.int64),
            record=record_states,
            record_z=record_z,
        )

    @staticmethod
    def unpadded(array, batch):
        """Return a (T, padded B, ...) array without its padding rows, contiguous."""
        return np.ascontiguousarray(array[:, :batch])

    @staticmethod
    def batch_major(array, batch):
        """Turn a (n_groups, T, 4, ...) array into (T, B, ...), group by group without a padded copy."""
        n_groups, n_steps = array.shape[:2]
        merged = np.empty((n_steps, batch) + array.shape[3:], array.dtype)
        for group in range(n_groups):
            first = group * kb.GROUP_SIZE
            rows = min(kb.GROUP_SIZE, batch - first)
            merged[:, first:first + rows] = array[group, :, :rows]
        return merged


@dataclass
class _CarriedState:
    """State at a window boundary, in the kernels' layouts (B leading)."""

    hidden: np.ndarray
    z: np.ndarray
    out: np.ndarray


# --- checks and preparation --------------------------------------------------------------


def _check_params(config, params):
    """Return the raw parameters as contiguous arrays of the config's dtype, checking keys and shapes."""
    if not isinstance(params, dict):
        raise RFSimError(f"params must be a dict of state-dict keys to arrays, got {type(params).__name__}")
    shapes = parameter_shapes(config)
    unknown = sorted(set(params) - set(shapes), key=str)
    if unknown:
        missing = sorted(set(shapes) - set(params))
        raise RFSimError(f"params has keys {unknown} that model={config.model!r} with hidden_bias="
                         f"{config.hidden_bias}, output_bias={config.output_bias} does not use"
                         + (f", and lacks {missing}" if missing else "") + f"; expected only {sorted(shapes)}")

    checked = {}
    for key, shape in shapes.items():
        if key not in params:
            raise RFSimError(f"params is missing {key!r} (shape {shape}) that model={config.model!r} with "
                             f"hidden_bias={config.hidden_bias}, output_bias={config.output_bias} needs")
        value = np.ascontiguousarray(params[key], dtype=config.np_dtype)
        if value.shape != shape:
            raise RFSimError(f"params[{key!r}] must have shape {shape}, got {value.shape}")
        _check_finite(f"params[{key!r}] in {config.dtype}", value, "restore the parameters from a checkpoint")
        checked[key] = value
    return checked


def _check_finite(name, values, fix):
    """Raise ``RFSimError`` naming the first NaN or infinite entry of ``values``, if there is one."""
    bad = ~np.isfinite(values)
    if not bad.any():
        return
    index = _first_index(bad)
    raise RFSimError(f"{name} contains {int(bad.sum())} NaN or infinite value(s), the first {values[index]} at "
                     f"index {index}; {fix}")


def _first_index(flags):
    """Return the index tuple of the first True entry of the boolean array ``flags``, in C order."""
    return tuple(int(i) for i in np.argwhere(flags)[0])


def _check_x(config, x):
    x = np.asarray(x)
    if x.ndim != 3 or x.shape[2] != config.n_in:
        raise RFSimError(f"x must have shape (T, B, n_in={config.n_in}), got {x.shape}")
    if x.shape[0] < 1 or x.shape[1] < 1:
        raise RFSimError(f"x needs at least one time step and one sequence, got shape {x.shape}")
    x = np.ascontiguousarray(x, dtype=config.np_dtype)
    _check_finite(f"x in {config.dtype}", x, f"replace or drop the non-finite inputs (values beyond the range of "
                  f"{config.dtype} become infinite)")
    return x


def _check_mask(config, mask):
    """Return the mask as a full (h, m + h) 0/1 array of the config's dtype, or None."""
    if mask is None:
        return None
    mask = np.asarray(mask, dtype=config.np_dtype)
    n_in, n_hidden = config.n_in, config.n_hidden
    if mask.shape == (n_hidden, n_hidden):
        full = np.ones((n_hidden, n_in + n_hidden), config.np_dtype)
        full[:, n_in:] = mask
        mask = full
    elif mask.shape != (n_hidden, n_in + n_hidden):
        raise RFSimError(f"mask must have shape (n_hidden, n_hidden) = {(n_hidden, n_hidden)} for the recurrent "
                         f"block or {(n_hidden, n_in + n_hidden)} for the whole hidden weight, got {mask.shape}")
    bad = (mask != 0) & (mask != 1)
    if bad.any():
        index = _first_index(bad)
        raise RFSimError(f"mask must contain only 0 and 1, got {mask[index]} at index {index} of the full "
                         "(n_hidden, n_in + n_hidden) mask; pass a 0/1 or boolean array")
    return mask


def _check_keep(config, spike_keep, n_steps, batch):
    """Return the spike deletion mask as a (T, B, h) uint8 array of 0 and 1, or a dummy when it is None."""
    if spike_keep is None:
        return _NO_KEEP
    keep = np.asarray(spike_keep)
    expected = (n_steps, batch, config.n_hidden)
    if keep.shape != expected:
        raise RFSimError(f"spike_keep must have shape (T, B, n_hidden) = {expected}, got {keep.shape}")
    if keep.dtype == np.bool_:
        # A view, not a copy: numpy stores True and False as the bytes 1 and 0.
        return np.ascontiguousarray(keep).view(np.uint8)
    if not np.issubdtype(keep.dtype, np.integer):
        raise RFSimError(f"spike_keep must be a boolean array or contain only the integers 0 and 1, "
                         f"got dtype {keep.dtype}")
    if keep.size and (keep.min() < 0 or keep.max() > 1):
        raise RFSimError(f"spike_keep must be a boolean array or contain only the integers 0 and 1, got values "
                         f"from {keep.min()} to {keep.max()}")
    return np.ascontiguousarray(keep, dtype=np.uint8)


_NO_KEEP = np.zeros((1, 1, 1), np.uint8)


def _check_window(window, name="tbptt_window"):
    if isinstance(window, bool) or not isinstance(window, (int, np.integer)) or window < 1:
        raise RFSimError(f"{name} must be a positive integer number of steps, got {window!r}")
    return int(window)


def _constants(config):
    """Return the kernels' scalar constants in the config's dtype (indices in ``kernels_common``)."""
    consts = np.zeros(N_CONSTS, config.np_dtype)
    consts[DT] = config.dt
    consts[TWO_DT] = 2.0 * config.dt
    consts[THETA] = config.theta
    consts[GAMMA] = config.gamma
    consts[ALIF_THETA] = config.alif_theta
    consts[ALIF_BETA] = config.alif_beta
    consts[ONE] = 1.0
    consts[ZERO] = 0.0
    consts[REFRACTORY] = 1.0 if config.brf_refractory else 0.0
    consts[SMOOTH_RESET] = 1.0 if config.brf_smooth_reset else 0.0
    return consts


def _p_omega(omega, dt_p):
    """Divergence boundary p(omega) [1/s], in the authors' evaluation order (NaN for omega > 1/dt_p)."""
    with np.errstate(invalid="ignore"):
        return (-1.0 + np.sqrt(1.0 - np.square(dt_p * omega))) / dt_p


def _cell_constants(config, raw):
    """Return the per-neuron constant rows the cell kernels read (see the kernel modules)."""
    if config.model == "alif":
        alpha = np.exp(-1.0 / np.abs(raw["hidden.tau_mem"]))
        rho = np.exp(-1.0 / np.abs(raw["hidden.tau_adp"]))
        return np.ascontiguousarray(np.stack([alpha, 1.0 - alpha, rho, 1.0 - rho]))
    omega = np.abs(raw["hidden.omega"])
    b_offset = np.abs(raw["hidden.b_offset"])
    if config.model == "brf":
        if config.brf_boundary and np.any(omega * config.p_dt > 1.0):
            warnings.warn(
                f"|omega| = {omega.max():g} rad/s exceeds 1/dt = {1.0 / config.p_dt:g} rad/s, where p(omega) has no "
                "real value: those neurons' states and gradients are NaN, as in the authors' implementation",
                DivergenceWarning, stacklevel=4)
        boundary = _p_omega(omega, config.p_dt) if config.brf_boundary else np.zeros_like(omega)
        rows = [omega, boundary - b_offset]
    elif config.model == "rf":
        rows = [omega, -b_offset]
    else:
        omega_sq = np.square(omega)
        rows = [omega_sq, omega_sq * (config.p_dt / 2.0) + b_offset]
    return np.ascontiguousarray(np.stack(rows))


def _padded_columns(matrix):
    """Append zero columns up to whole cache lines per row (``kernels_bptt.padded_width``)."""
    width = kb.padded_width(matrix.shape[1], matrix.itemsize)
    return np.pad(matrix, ((0, 0), (0, width - matrix.shape[1])))


def _prepare(config, raw, mask):
    dtype = config.np_dtype
    weight = raw["hidden.linear.weight"]
    if mask is not None:
        weight = weight * mask
    n_in = config.n_in
    bias_h = raw.get("hidden.linear.bias", np.zeros(config.n_hidden, dtype))
    bias_o = raw.get("out.linear.bias", np.zeros(config.n_out, dtype))
    alpha_o = np.exp(-1.0 / np.abs(raw["out.tau_mem"]))
    w_rec = weight[:, n_in:]
    return _Prepared(
        w_in_t=kb.aligned_copy(weight[:, :n_in].T),
        w_rec=kb.aligned_copy(w_rec),
        bias_h=np.ascontiguousarray(bias_h),
        cell=np.ascontiguousarray(np.tile(_cell_constants(config, raw), (1, kb.GROUP_SIZE))),
        w_out=kb.aligned_copy(raw["out.linear.weight"]),
        w_ext_t=kb.aligned_copy(_padded_columns(np.concatenate([w_rec.T, raw["out.linear.weight"].T], axis=1))),
        bias_o=np.ascontiguousarray(bias_o),
        alpha_o=np.ascontiguousarray(alpha_o),
        one_minus_alpha_o=np.ascontiguousarray(1.0 - alpha_o),
        consts=_constants(config),
        mask=mask,
    )


def _zero_state(config, batch):
    n_slots = kb.N_SLOTS[MODEL_CODES[config.model]]
    return _CarriedState(
        hidden=np.zeros((batch, n_slots, config.n_hidden), config.np_dtype),
        z=np.zeros((batch, config.n_hidden), np.uint8),
        out=np.zeros((batch, config.n_out), config.np_dtype),
    )


# --- memory --------------------------------------------------------------------------------


def _thread_count(config):
    if config.n_threads is None:
        return numba.get_num_threads()
    return min(config.n_threads, numba.config.NUMBA_NUM_THREADS)


def estimate_memory_bytes(config, n_steps, batch, *, tbptt_window=None, record=False, backward=True,
                          spike_keep=False):
    """Return an upper bound on the memory [bytes] one engine call allocates.

    The bound adds up the per-thread trajectory of one window, the per-group gradient
    buffers and these arrays:

    - the outputs and per-step losses, in the kernels' layout and the caller's;
    - the encoded targets and the arrays of the accuracy count;
    - the carried states and the input in the working dtype;
    - the prepared parameters, a pruning mask and the masked weight;
    - the gradient sums and their reordering for the caller;
    - with ``record``, the recorded trajectories in both layouts;
    - with ``spike_keep``, the deletion mask as uint8;
    - 64 KiB for small arrays and objects.

    Parts that live at different times count as if they lived together. The caller's
    own arrays (x, targets, params) are not included. A call reuses the trajectory and
    gradient buffers that an earlier call in the same thread left (see
    ``release_scratch``) when they are large enough, instead of allocating its own.
    The tests check the bound with tracemalloc against the peak of calls of every
    model and mode.

    Parameters
    ----------
    config : RSNNConfig
    n_steps, batch : int
        Sequence length T and batch size B.
    tbptt_window : int, optional
        Window length of truncated BPTT (the whole sequence by default).
    record : bool, optional
        Whether every state is recorded (``forward(..., record=True)``).
    backward : bool, optional
        False for a forward pass only, which keeps two steps per thread instead of a window.
    spike_keep : bool, optional
        Whether the call passes a spike deletion mask (``forward(..., spike_keep=...)``).

    Returns
    -------
    int
        Bytes; the bound grows linearly in the window length and in B, and as h^2.
    """
    for name, value in (("n_steps", n_steps), ("batch", batch)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise RFSimError(f"{name} must be a positive integer, got {value!r}")
    itemsize = config.np_dtype.itemsize
    n_in, n_hidden, n_out = config.n_in, config.n_hidden, config.n_out
    model = MODEL_CODES[config.model]
    window = n_steps if tbptt_window is None else min(_check_window(tbptt_window), n_steps)
    n_groups = math.ceil(batch / kb.GROUP_SIZE)
    n_workers = max(1, min(_thread_count(config), n_groups))
    padded = n_groups * kb.GROUP_SIZE

    total = n_workers * kb.worker_buffer_bytes(window, kb.N_STORED[model], model in kb.Q_MODELS, n_in, n_hidden,
                                                n_out, itemsize, backward)
    total += _parameter_bytes(config)
    total += n_steps * (padded + batch) * (n_out * itemsize + 8)
    total += 2 * batch * (kb.N_SLOTS[model] * n_hidden * itemsize + n_hidden + n_out * itemsize)
    total += n_steps * batch * n_in * itemsize
    if backward:
        group_bytes = kb.group_gradient_bytes(n_in, n_hidden, n_out, itemsize)
        total += (min(n_groups, MAX_GROUPS_PER_CALL) + 3) * group_bytes
        total += 2 * n_hidden * (n_in + n_hidden) * itemsize
        # Labels as int64 twice (loss and accuracy), the predicted classes and their comparison.
        label_rows = 1 if config.loss == "label-last" else max(n_steps, n_out)
        total += batch * label_rows * (3 * 8 + 1)
    if record:
        total += n_steps * (padded + batch) * n_hidden * itemsize * (len(kb.STATE_NAMES[model]) + 1)
    if spike_keep:
        total += n_steps * batch * n_hidden
    return int(total + _SMALL_ARRAY_BYTES)


_SMALL_ARRAY_BYTES = 64 * 2**10
"""Allowance of ``estimate_memory_bytes`` for the small arrays and objects of a call."""


def _parameter_bytes(config):
    """Return the bytes of the mask, the masked weight and the kernels' copies of the parameters."""
    itemsize = config.np_dtype.itemsize
    n_in, n_hidden, n_out = config.n_in, config.n_hidden, config.n_out
    weight = n_hidden * (n_in + n_hidden) * itemsize
    ext_width = kb.padded_width(n_hidden + n_out, itemsize)

    # Mask and masked weight; W_in^T and W_rec; W_o; [W_rec^T, W_o^T] before and after padding.
    total = 3 * weight + n_hidden * n_out * itemsize
    total += n_hidden * (n_hidden + n_out) * itemsize + 2 * n_hidden * ext_width * itemsize
    total += (kb.N_CELL[MODEL_CODES[config.model]] * kb.GROUP_SIZE * n_hidden + 4 * n_hidden + 5 * n_out) * itemsize
    return total + 8 * kb.LINE_BYTES


def _check_memory(config, n_steps, batch, tbptt_window, record, backward, window_name="tbptt_window",
                  spike_keep=False):
    limit = config.memory_limit
    if limit is None:
        return
    needed = estimate_memory_bytes(config, n_steps, batch, tbptt_window=tbptt_window, record=record,
                                   backward=backward, spike_keep=spike_keep)
    if needed <= limit:
        return

    if record or not backward:
        advice = "record fewer steps or a smaller batch" if record else "use fewer steps or a smaller batch"
    else:
        fitting = _largest_fitting_window(config, n_steps, batch, limit)
        if fitting is None:
            advice = "use a smaller batch or fewer steps (even a window of one step does not fit)"
        else:
            advice = (f"pass {window_name}={fitting} or less (truncated BPTT; memory grows linearly in the "
                      "window) or use a smaller batch")
    raise RFSimError(f"this call needs up to {needed / 2**20:.1f} MiB ({needed} bytes), more than the limit of "
                     f"{limit / 2**20:.1f} MiB ({limit} bytes) (T={n_steps}, B={batch}, "
                     f"n_hidden={config.n_hidden}); {advice}, or raise RSNNConfig.memory_limit_bytes")


def _largest_fitting_window(config, n_steps, batch, limit):
    """Return the longest truncated-BPTT window whose memory estimate is within ``limit``, or None."""
    def fits(window):
        return estimate_memory_bytes(config, n_steps, batch, tbptt_window=window) <= limit

    if not fits(1):
        return None
    low, high = 1, n_steps
    while low < high:
        middle = (low + high + 1) // 2
        if fits(middle):
            low = middle
        else:
            high = middle - 1
    return low


@contextlib.contextmanager
def _numba_threads(config):
    """Run the enclosed kernels with ``config.n_threads`` threads, if it is set."""
    if config.n_threads is None:
        yield
        return
    previous = numba.get_num_threads()
    numba.set_num_threads(_thread_count(config))
    try:
        yield
    finally:
        numba.set_num_threads(previous)


# --- running windows ---------------------------------------------------------------------


def _options(config, encoded, backward, record, n_steps, with_loss, use_keep):
    return np.array([
        MODEL_CODES[config.model], RESET_CODES[config.rf_reset], surrogate_code(config.surrogate),
        int(config.uses_event_driven), int(backward), int(record), int(config.loss == "label-last"),
        int(encoded.use_soft), int(config.hidden_bias), int(config.output_bias), n_steps, config.loss_offset,
        int(with_loss), int(use_keep),
    ], np.int64)


_scratch = threading.local()
"""The calling thread's ``_Scratch`` of its last engine calls, by slot "backward" or "forward"."""


@dataclass
class _Scratch:
    """Kernel buffers kept for the next call, with the sizes they hold: workers, steps and groups per round."""

    key: tuple
    sizes: tuple
    buffers: dict
    grads: dict


def release_scratch():
    """Free the scratch buffers that the engine keeps between calls in the calling thread.

    The engine keeps the trajectory and gradient buffers that its calls allocate: one
    set for calls with a backward sweep and one for forward passes. The next call of
    the same or smaller sizes (threads, window length, groups of 4 sequences up to
    64) reuses them and skips their allocation and first-touch page faults. A call
    that needs larger buffers frees the kept ones and allocates its own. So no call
    uses more than the larger of its own estimate and that of an earlier call.
    For S-MNIST (T = 784, B = 256, h = 256) on 2 threads they take about 41 MB in
    float32.
    """
    _scratch.__dict__.clear()


def _scratch_buffers(config, n_workers, n_window, n_round, backward):
    """Return the worker buffers and the per-group gradient buffers of a call, reusing the last call's.

    The buffers may hold more workers, steps or groups than the call needs: a spare
    worker finds no group to run. New buffers have the call's own sizes, so they
    stay within its memory estimate. The gradient buffers are uninitialised, because
    every group that runs writes its whole slot.
    """
    dtype = config.np_dtype
    n_in, n_hidden, n_out = config.n_in, config.n_hidden, config.n_out
    model = MODEL_CODES[config.model]
    slot = "backward" if backward else "forward"
    # A forward pass keeps two steps and no gradients, whatever its length and batch.
    n_round = n_round if backward else 0
    n_window = n_window if backward else 1
    key = (model, n_in, n_hidden, n_out, dtype.str)
    sizes = (n_workers, n_window, n_round)
    cached = getattr(_scratch, slot, None)
    if cached is not None and cached.key == key and all(have >= need for have, need in zip(cached.sizes, sizes)):
        return cached.buffers, cached.grads

    # Drop the old buffers before allocating the new ones, so both never coexist.
    setattr(_scratch, slot, None)
    buffers = kb.allocate_worker_buffers(n_workers, n_window, kb.N_STORED[model], model in kb.Q_MODELS, n_in,
                                         n_hidden, n_out, dtype, backward)
    grads = dict(
        g_w_in_t=np.empty((n_round, n_in, n_hidden), dtype),
        g_w_rec_t=np.empty((n_round, n_hidden, n_hidden), dtype),
        g_bias_h=np.empty((n_round, n_hidden), dtype),
        g_cell=np.empty((n_round, kb.N_CELL_GRAD, n_hidden), dtype),
        g_w_out_t=np.empty((n_round, n_hidden, n_out), dtype),
        g_bias_o=np.empty((n_round, n_out), dtype),
        g_alpha_o=np.empty((n_round, n_out), dtype),
    )
    setattr(_scratch, slot, _Scratch(key, sizes, buffers, grads))
    return buffers, grads


def _run_window(config, prepared, x, encoded, t_start, n_window, state, results, *, backward, with_loss=True,
                record=False, keep=_NO_KEEP):
    """Run one window over all groups; update ``state`` in place and return the summed raw gradients.

    Returns None without ``backward``, else a dict of the group-summed kernel gradients.
    """
    n_steps, batch, _ = x.shape
    n_groups = math.ceil(batch / kb.GROUP_SIZE)
    n_workers = max(1, min(_thread_count(config), n_groups))
    use_keep = keep is not _NO_KEEP
    assert not (use_keep and backward), "spike deletion is a forward-only option"
    options = _options(config, encoded, backward, record, n_steps, with_loss, use_keep)
    buffers, all_grads = _scratch_buffers(config, n_workers, n_window, min(n_groups, MAX_GROUPS_PER_CALL), backward)
    final = _zero_state(config, batch)

    sums = None
    for group_start in range(0, n_groups, MAX_GROUPS_PER_CALL):
        group_stop = min(group_start + MAX_GROUPS_PER_CALL, n_groups)
        n_round = group_stop - group_start if backward else 0
        grads = {name: value[:n_round] for name, value in all_grads.items()}
        kb.run_window(
            group_start, group_stop, options, t_start, n_window, x, encoded.labels, encoded.soft, 1.0 / batch,
            prepared.w_in_t, prepared.w_ext_t, prepared.w_rec, prepared.bias_h, prepared.cell, prepared.w_out,
            prepared.bias_o, prepared.alpha_o, prepared.one_minus_alpha_o, prepared.consts,
            state.hidden, state.z, state.out, final.hidden, final.z, final.out,
            results.outputs, results.losses, results.spikes, results.record, results.record_z, keep,
            buffers["hist"], buffers["q_rot"], buffers["q_saved"], buffers["q_replay"],
            buffers["z_hist"], buffers["z_sent"], buffers["spiked"], buffers["n_spiked"],
            buffers["out_hist"], buffers["d_hist"],
            buffers["probs"], buffers["drive"], buffers["ext"],
            buffers["adj"], buffers["d_bar"], buffers["drive_bar"], buffers["z_rec"], buffers["out_bar"],
            buffers["loss_bar"],
            buffers["acc_w_in_t"], buffers["acc_w_ext_t"], buffers["acc_bias_h"], buffers["acc_cell"],
            buffers["bar_ext"], buffers["acc_bias_o"], buffers["acc_alpha_o"],
            grads["g_w_in_t"], grads["g_w_rec_t"], grads["g_bias_h"], grads["g_cell"], grads["g_w_out_t"],
            grads["g_bias_o"], grads["g_alpha_o"], np.zeros(1, np.int64),
        )
        if backward:
            # Sum the groups in order: the result does not depend on the threads.
            round_sums = {name: value.sum(axis=0) for name, value in grads.items()}
            sums = round_sums if sums is None else {name: sums[name] + round_sums[name] for name in sums}

    state.hidden, state.z, state.out = final.hidden, final.z, final.out
    return sums


def _raw_gradients(config, raw, prepared, sums):
    """Turn the kernels' summed gradients into d(loss)/d(raw parameter) under the state-dict keys."""
    n_in = config.n_in
    weight_grad = np.concatenate([sums["g_w_in_t"].T, sums["g_w_rec_t"].T], axis=1)
    if prepared.mask is not None:
        weight_grad = weight_grad * prepared.mask
    grads = {"hidden.linear.weight": np.ascontiguousarray(weight_grad)}
    assert grads["hidden.linear.weight"].shape == (config.n_hidden, n_in + config.n_hidden)
    if config.hidden_bias:
        grads["hidden.linear.bias"] = sums["g_bias_h"]

    first, second = sums["g_cell"][0], sums["g_cell"][1]
    if config.model == "alif":
        # alpha = exp(-1/|tau|): dalpha/d|tau| = alpha / tau^2.
        for key, row, grad in (("hidden.tau_mem", 0, first), ("hidden.tau_adp", 2, second)):
            tau = np.abs(raw[key])
            grads[key] = grad * prepared.cell[row, :config.n_hidden] / np.square(tau) * np.sign(raw[key])
    else:
        omega_raw, b_offset_raw = raw["hidden.omega"], raw["hidden.b_offset"]
        omega = np.abs(omega_raw)
        if config.model == "brf":
            # b_t = p(omega) - |b_offset| - q, with dp/domega = -dt_p omega / sqrt(1 - (dt_p omega)^2).
            dt_p = config.p_dt
            with np.errstate(invalid="ignore", divide="ignore"):
                dp_domega = -(dt_p * omega) / np.sqrt(1.0 - np.square(dt_p * omega))
            omega_grad = first + second * dp_domega if config.brf_boundary else first
            grads["hidden.omega"] = omega_grad * np.sign(omega_raw)
            grads["hidden.b_offset"] = -second * np.sign(b_offset_raw)
        elif config.model == "rf":
            grads["hidden.omega"] = first * np.sign(omega_raw)
            grads["hidden.b_offset"] = -second * np.sign(b_offset_raw)
        else:
            # b_t = omega^2 dt_p/2 + |b_offset| + q and u_t uses omega^2.
            omega_sq_grad = first + second * (config.p_dt / 2.0)
            grads["hidden.omega"] = 2.0 * omega * omega_sq_grad * np.sign(omega_raw)
            grads["hidden.b_offset"] = second * np.sign(b_offset_raw)

    grads["out.linear.weight"] = np.ascontiguousarray(sums["g_w_out_t"].T)
    if config.output_bias:
        grads["out.linear.bias"] = sums["g_bias_o"]
    tau_out = np.abs(raw["out.tau_mem"])
    grads["out.tau_mem"] = sums["g_alpha_o"] * prepared.alpha_o / np.square(tau_out) * np.sign(raw["out.tau_mem"])

    dtype = config.np_dtype
    return {key: np.ascontiguousarray(grads[key], dtype=dtype) for key in parameter_shapes(config)}


def _windows(n_steps, window):
    """Return the (start, length) of each truncated-BPTT window: [0, K), [K, 2K), ..."""
    if window is None or window >= n_steps:
        return [(0, n_steps)]
    return [(start, min(window, n_steps - start)) for start in range(0, n_steps, window)]


def _loss_result(config, results, batch, targets):
    outputs = _Results.unpadded(results.outputs, batch)
    losses = _Results.unpadded(results.losses, batch)
    n_steps = outputs.shape[0]
    loss_sum = loss_sum_from_step_losses(config, losses)
    n_correct, n_total = accuracy_counts(config, outputs, targets, per_step=default_per_step(config, targets))
    return LossResult(loss_sum, reported_loss(config, loss_sum, n_steps), int(results.spikes.sum()), outputs,
                      n_correct, n_total)


# --- public API ----------------------------------------------------------------------------


def forward(config, params, x, *, mask=None, record=False, spike_keep=None):
    """Simulate the network on a batch without a gradient.

    Parameters
    ----------
    config : RSNNConfig
    params : dict of str to ndarray
        Raw parameters under the authors' state-dict keys (``init_params``).
    x : ndarray, shape (T, B, n_in)
        Input at every step (time-major, as the authors' code).
    mask : ndarray, optional
        0/1 pruning mask of shape (h, h) for the recurrent block of ``hidden.linear.weight``,
        or (h, m + h) for the whole weight.
    record : bool, optional
        Whether to return every state (memory T x B x h per state variable).
    spike_keep : ndarray, shape (T, B, h), optional
        Spike deletion mask, bool or 0/1 integers. A hidden spike z_t of sequence b
        and neuron j reaches the next step's recurrent drive and the readout only
        where ``spike_keep[t, b, j]`` is 1; elsewhere it is deleted in transit. The
        neuron that fired still counts its own spike (q of BRF and BHRF, the RF
        reset, the ALIF adaptation). ``spike_count`` and the recorded ``'z'`` then
        hold the delivered spikes z_t * keep_t. All ones is the unperturbed network
        bit for bit, and all zeros a hidden layer that sends nothing. Forward only:
        ``value_and_grad`` has no such option.

    Returns
    -------
    ForwardResult
    """
    raw = _check_params(config, params)
    x = _check_x(config, x)
    mask = _check_mask(config, mask)
    n_steps, batch, _ = x.shape
    keep = _check_keep(config, spike_keep, n_steps, batch)
    _check_memory(config, n_steps, batch, None, record, backward=False, spike_keep=keep is not _NO_KEEP)

    prepared = _prepare(config, raw, mask)
    encoded = EncodedTargets(np.zeros((1, batch), np.int64), np.zeros((1, 1)), False, False, 0)
    results = _Results.allocate(config, n_steps, batch, record)
    state = _zero_state(config, batch)
    with _numba_threads(config):
        _run_window(config, prepared, x, encoded, 0, n_steps, state, results, backward=False, with_loss=False,
                    record=record, keep=keep)

    outputs = _Results.unpadded(results.outputs, batch)
    states = None
    if record:
        states = {"z": _Results.batch_major(results.record_z, batch)}
        for index, name in enumerate(kb.STATE_NAMES[MODEL_CODES[config.model]]):
            states[name] = _Results.batch_major(results.record[index], batch)
        states["out"] = outputs
    return ForwardResult(outputs=outputs, spike_count=int(results.spikes.sum()), states=states)


def value_and_grad(config, params, x, targets, *, mask=None, tbptt_window=None):
    """Run the network forward and backward: return the loss and its gradient.

    Parameters
    ----------
    config : RSNNConfig
    params : dict of str to ndarray
        Raw parameters under the authors' state-dict keys.
    x : ndarray, shape (T, B, n_in)
        Input at every step.
    targets : ndarray
        (T, B) int for ``'sequence'``; (B,) int for ``'label-last'``; (B,) int, (T, B) int or
        (B, C) float for ``'cross-entropy'`` (see ``rfsim.network.losses``).
    mask : ndarray, optional
        0/1 pruning mask, (h, h) recurrent block or (h, m + h); pruned weights get a zero gradient.
    tbptt_window : int, optional
        Truncated BPTT with windows [0, K), [K, 2K), ...: the state is carried across
        windows, but no gradient flows through a window boundary (for any of u, v, q, a,
        z and o). The gradients of all windows are summed, without any update in between
        (``train_step_tbptt`` updates per window). K >= T is full BPTT, bit for bit.

    Returns
    -------
    result : LossResult
    grads : dict of str to ndarray
        d(result.loss_sum)/d(raw parameter), with the parameters' keys and shapes, in
        ``config.dtype``. Parameters of another dtype are cast to ``config.dtype`` first,
        so float64 parameters run in float32 under the default config.
    """
    raw = _check_params(config, params)
    x = _check_x(config, x)
    mask = _check_mask(config, mask)
    n_steps, batch, _ = x.shape
    encoded = encode_targets(config, targets, n_steps, batch)
    window = None if tbptt_window is None else _check_window(tbptt_window)
    _check_memory(config, n_steps, batch, window, False, backward=True)

    prepared = _prepare(config, raw, mask)
    results = _Results.allocate(config, n_steps, batch, record=False)
    state = _zero_state(config, batch)
    total = None
    with _numba_threads(config):
        for start, length in _windows(n_steps, window):
            sums = _run_window(config, prepared, x, encoded, start, length, state, results, backward=True)
            total = sums if total is None else {name: total[name] + sums[name] for name in total}

    grads = _raw_gradients(config, raw, prepared, total)
    return _loss_result(config, results, batch, targets), grads


def train_step_tbptt(config, params, x, targets, window, apply_update, *, mask=None):
    """Train on one batch with truncated BPTT and an optimizer step after every window.

    The windows are [0, K), [K, 2K), ... with K = ``window``. Each window runs forward from
    the carried state with the current parameters. It back-propagates its own loss terms
    (the steps of the window that the loss scores) without crossing the window start.
    Then it calls ``apply_update(grads)``, which must update ``params`` in place, for
    example by an optimizer step. A window that scores no step (before the loss offset, or not
    the last one for label-last) makes no update, like the authors' TBPTT model, which
    skips windows whose loss is zero. The authors' ALIF TBPTT script cuts after steps
    0, K, 2K, ... instead, so its first window is the single step 0.

    Parameters
    ----------
    config : RSNNConfig
    params : dict of str to ndarray
        Raw parameters under the authors' state-dict keys; ``apply_update`` changes them
        in place, and each window reads them again.
    x : ndarray, shape (T, B, n_in)
        Input at every step.
    targets : ndarray
        As for ``value_and_grad``.
    window : int
        Window length K >= 1 in steps; K >= T gives one update from full BPTT.
    apply_update : callable
        Called as ``apply_update(grads)`` after each window that scores a step, with
        ``grads`` the gradient dict of that window's loss (keys and shapes of
        ``params``), for example ``optimizer.step``.
    mask : ndarray, optional
        0/1 pruning mask, (h, h) recurrent block or (h, m + h).

    Returns
    -------
    LossResult
        Over the whole sequence; each window's loss is computed with the parameters
        of that window.
    """
    window = _check_window(window, "window")
    if not callable(apply_update):
        raise RFSimError(f"apply_update must be callable with the gradient dict, got {apply_update!r}")
    x = _check_x(config, x)
    mask = _check_mask(config, mask)
    n_steps, batch, _ = x.shape
    encoded = encode_targets(config, targets, n_steps, batch)
    _check_memory(config, n_steps, batch, window, False, backward=True, window_name="window")

    scored = set(loss_steps(config, n_steps).tolist())
    results = _Results.allocate(config, n_steps, batch, record=False)
    state = _zero_state(config, batch)
    for start, length in _windows(n_steps, window):
        raw = _check_params(config, params)
        prepared = _prepare(config, raw, mask)
        with _numba_threads(config):
            sums = _run_window(config, prepared, x, encoded, start, length, state, results, backward=True)
        if scored.intersection(range(start, start + length)):
            apply_update(_raw_gradients(config, raw, prepared, sums))
    return _loss_result(config, results, batch, targets)
