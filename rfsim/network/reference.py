"""Plain NumPy reference of the recurrent spiking networks, differentiable by autograd.

This module is the slow, readable twin of the Numba BPTT engine: one loop over time,
vectorised over the batch, written with ``autograd.numpy`` so that ``autograd.grad``
differentiates the whole network. The spike function is a Heaviside step whose
derivative is replaced by a surrogate, so the gradients are the surrogate gradients
that back-propagation through time computes. The engine's hand-written backward pass
is tested against these gradients, and these against the traces of the authors'
public PyTorch implementation (AdaptiveAILab/brf-neurons).

Equations
---------
All states are zero before t = 0, H(s) = 1 if s > 0 else 0 (strict), and |.| marks
where the authors' implementation takes an absolute value of a raw parameter.
The RF-type neurons use the time step dt [s] (0.01 s in every published run). The
ALIF neuron and the leaky-integrator readout use a unit time step. The constants
theta = 1, gamma = 0.9, theta_0 = 0.01, beta = 1.8 and dt_p = dt are the defaults of
the configuration attributes ``theta``, ``gamma``, ``alif_theta``, ``alif_beta`` and
``boundary_dt``.

Wiring (every model)::

    I_t = W [x_t ; z_{t-1}] + b_h                      hidden drive, W of shape (H, n_in + H)
    o_t = alpha_o o_{t-1} + (1 - alpha_o)(W_o z_t + b_o),    alpha_o = exp(-1 / |tau_out|)

BRF (balanced RF), with omega = |omega_raw|, b' = |b_offset_raw|::

    p(omega) = (-1 + sqrt(1 - (dt_p omega)^2)) / dt_p
    b_t = p(omega) - b' - q_{t-1}
    u_t = u_{t-1} + b_t u_{t-1} dt - omega v_{t-1} dt + I_t dt
    v_t = v_{t-1} + omega u_{t-1} dt + b_t v_{t-1} dt
    z_t = H(u_t - theta - q_{t-1})
    q_t = gamma q_{t-1} + z_t

The BRF ablation switches of the configuration (``brf_boundary``, ``brf_refractory``,
``brf_smooth_reset``, all True by default) each remove one mechanism: without the
boundary p(omega) is replaced by 0, without the refractory period q_{t-1} leaves the
threshold (z_t = H(u_t - theta)), and without the smooth reset q_{t-1} leaves the
damping (b_t = p(omega) - b'). q_t is still computed.

RF, with the constant damping b = -|b_offset_raw| and no refractory variable::

    u_t, v_t as for the BRF with b_t = b,      z_t = H(u_t - theta)
    reset 'none': nothing else
    reset 'soft': u_t <- u_t - z_t theta
    reset 'hard': u_t <- u_t (1 - z_t), v_t <- v_t (1 - z_t)

BHRF (balanced harmonic RF), with omega = |omega_raw|, b' = |b_offset_raw|::

    b_t = (dt_p / 2) omega^2 + b' + q_{t-1}
    v_t = v_{t-1} + u_{t-1} dt
    u_t = u_{t-1} + I_t dt - 2 b_t u_{t-1} dt - omega^2 v_t dt     (the new v_t)
    z_t = H(u_t - theta - q_{t-1})
    q_t = gamma q_{t-1} + z_t

ALIF, with alpha = exp(-1 / |tau_mem|), rho = exp(-1 / |tau_adp|)::

    a_t = rho a_{t-1} + (1 - rho) z_{t-1}
    theta_t = theta_0 + beta a_t
    u~_t = alpha u_{t-1} + (1 - alpha) I_t
    z_t = H(u~_t - theta_t)
    u_t = u~_t - z_t theta_t

Losses, with p_t = softmax(o_t) and the loss offset k (``loss_offset``):

* ``'sequence'``: L = sum_{t >= k} mean_b -log p_t[b, y_tb], targets (T, B) int;
  reported L / (T - k); one prediction per step t >= k.
* ``'label-last'``: L = mean_b -log p_{T-1}[b, y_b], targets (B,) int (or (T, B), whose
  last row is used); reported L; the prediction is the argmax of o_{T-1}.
* ``'cross-entropy'``: L = sum_{t >= k} mean_b -sum_c y_bc log p_t[b, c]; reported
  L / (T - k). Targets (B,) int use the same class at every step and predict once per
  sequence from the output averaged over t >= k; (T, B) int targets act as for
  ``'sequence'``; (B, C) float targets are soft class weights (an all-zero row adds
  nothing) and predictions are compared with their argmax.

The differentiated quantity is always the sum L, not the reported value.

Notes
-----
Where the authors' implementation differs from the paper (Higuchi, Kairat, Bohté,
Otte, "Balanced Resonate-and-Fire Neurons", ICML 2024), this module follows the
implementation: the BHRF damping adds b' and q (the paper's algorithm subtracts them),
and the default surrogate uses normalised Gaussians times 0.5 (``surrogate='paper'``
selects the printed one). The authors' code evaluates p(omega) and the BHRF damping
with dt_p = 0.01 whatever its dt, which ``boundary_dt=0.01`` reproduces at any dt; the
default dt_p = dt agrees with it at dt = 0.01 s.

Everything is computed in float64, whatever ``config.dtype`` is, so the reference is
the accurate side of every comparison.
"""

import autograd
import autograd.numpy as anp
import numpy as np
from autograd.extend import defvjp, primitive
from autograd.scipy.special import logsumexp

from rfsim.errors import RFSimError
from rfsim.network.init import parameter_shapes

MODELS = ("brf", "rf", "bhrf", "alif")
RF_RESETS = ("none", "soft", "hard")
LOSSES = ("sequence", "label-last", "cross-entropy")

CONSTANT_DEFAULTS = {"theta": 1.0, "gamma": 0.9, "alif_theta": 0.01, "alif_beta": 1.8, "boundary_dt": None,
                     "brf_boundary": True, "brf_refractory": True, "brf_smooth_reset": True}
"""Neuron constants read from the configuration, with the authors' values for a config without them.

theta: spike threshold of the RF-type neurons. gamma: per-step decay of the refractory
variable q, independent of dt. alif_theta, alif_beta: base threshold and adaptation
strength of the ALIF neuron. boundary_dt: time step [s] inside p(omega) and the BHRF
damping, None for dt. brf_boundary, brf_refractory, brf_smooth_reset: the BRF ablation
switches (module docstring).
"""


# --- surrogate derivatives ------------------------------------------------------------


def _normal_pdf(s, sigma):
    """Normalised Gaussian density N(s; 0, sigma)."""
    return np.exp(-0.5 * (s / sigma) ** 2) / (sigma * np.sqrt(2.0 * np.pi))


def surrogate_reference(s):
    """Evaluate the authors' implementation's surrogate 0.5 [1.15 N(s;0,0.5) - 0.30 N(s;0,3)].

    Normalised Gaussians: peak 0.4388 at s = 0, integral 0.425, negative for |s| > 1.27.
    """
    s = np.asarray(s, dtype=float)
    return 0.5 * (1.15 * _normal_pdf(s, 0.5) - 0.30 * _normal_pdf(s, 3.0))


def surrogate_paper(s):
    """Evaluate the surrogate printed in the BRF paper, (1 + h) g(s; 0.5) - 2 h g(s; 3), h = 0.15.

    g(s; sigma) = exp(-s^2 / (2 sigma^2)) is an unnormalised Gaussian, so the peak is
    1.15 - 0.30 = 0.85 at s = 0.
    """
    s = np.asarray(s, dtype=float)
    h = 0.15
    sigma = 0.5
    return (1.0 + h) * np.exp(-0.5 * (s / sigma) ** 2) - 2.0 * h * np.exp(-0.5 * (s / (6.0 * sigma)) ** 2)


def surrogate_fast_sigmoid(s):
    """Evaluate the fast-sigmoid surrogate 1 / (1 + k |s|)^2 with k = 10."""
    s = np.asarray(s, dtype=float)
    return 1.0 / (1.0 + 10.0 * np.abs(s)) ** 2


def surrogate_triangle(s):
    """Evaluate the triangle surrogate max(0, 1 - |s|)."""
    s = np.asarray(s, dtype=float)
    return np.maximum(0.0, 1.0 - np.abs(s))


SURROGATES = {
    "reference": surrogate_reference,
    "paper": surrogate_paper,
    "fast-sigmoid": surrogate_fast_sigmoid,
    "triangle": surrogate_triangle,
}
"""Surrogate derivative dz/ds of the spike z = H(s), by the name ``RSNNConfig.surrogate`` uses."""


# --- the spike function ---------------------------------------------------------------


def _make_spike_function(surrogate):
    """Build z = H(s) as an autograd primitive whose derivative is ``surrogate(s)``."""

    @primitive
    def spike(s):
        return (s > 0.0).astype(np.float64)

    defvjp(spike, lambda z, s: lambda g: g * surrogate(s))
    return spike


SPIKE_FUNCTIONS = {name: _make_spike_function(fn) for name, fn in SURROGATES.items()}


@primitive
def stop_gradient(value):
    """Return ``value`` unchanged and block its gradient (the ``detach`` of truncated BPTT)."""
    return value


defvjp(stop_gradient, lambda ans, value: lambda g: anp.zeros_like(g))


# --- configuration and parameters -----------------------------------------------------


def _check_config(config):
    """Raise ``RFSimError`` unless ``config`` names a model, reset, surrogate and loss known here."""
    if config.model not in MODELS:
        raise RFSimError(f"config.model must be one of {MODELS}, got {config.model!r}")
    if config.rf_reset not in RF_RESETS:
        raise RFSimError(f"config.rf_reset must be one of {RF_RESETS}, got {config.rf_reset!r}")
    if config.model != "rf" and config.rf_reset != "none":
        raise RFSimError(
            f"config.rf_reset applies to the 'rf' model only, got rf_reset={config.rf_reset!r} "
            f"for model={config.model!r}; use rf_reset='none'"
        )
    if config.surrogate not in SURROGATES:
        raise RFSimError(f"config.surrogate must be one of {tuple(SURROGATES)}, got {config.surrogate!r}")
    if config.loss not in LOSSES:
        raise RFSimError(f"config.loss must be one of {LOSSES}, got {config.loss!r}")
    if not np.isfinite(config.dt) or config.dt <= 0:
        raise RFSimError(f"config.dt must be a finite positive time step in seconds, got {config.dt!r}")


def _constants(config):
    """Return the neuron constants of ``config`` (``CONSTANT_DEFAULTS`` where it has none)."""
    constants = {name: getattr(config, name, default) for name, default in CONSTANT_DEFAULTS.items()}
    if constants["boundary_dt"] is None:
        constants["boundary_dt"] = config.dt
    return constants


def _trainable_parameters(config, params):
    """Pick the trainable parameters out of ``params`` as float64 arrays, checking their shapes."""
    selected = {}
    for key, shape in parameter_shapes(config).items():
        if key not in params:
            raise RFSimError(f"params is missing {key!r} (shape {shape}) required by this configuration")
        value = np.asarray(params[key], dtype=np.float64)
        if value.shape != shape:
            raise RFSimError(f"params[{key!r}] must have shape {shape}, got {value.shape}")
        selected[key] = value
    return selected


def _check_input(config, x, mask):
    """Return ``x`` and ``mask`` as float64 arrays after checking their shapes."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 3 or x.shape[2] != config.n_in:
        raise RFSimError(f"x must have shape (T, B, n_in={config.n_in}), got {x.shape}")
    if x.shape[0] < 1 or x.shape[1] < 1:
        raise RFSimError(f"x needs at least one time step and one sequence, got shape {x.shape}")
    if mask is not None:
        mask = np.asarray(mask, dtype=np.float64)
        n_in, n_hidden = config.n_in, config.n_hidden
        if mask.shape == (n_hidden, n_hidden):
            # A recurrent-only mask keeps every input weight.
            mask = np.concatenate([np.ones((n_hidden, n_in)), mask], axis=1)
        if mask.shape != (n_hidden, n_in + n_hidden):
            raise RFSimError(f"mask must have shape {(n_hidden, n_hidden)} (recurrent block) or "
                             f"{(n_hidden, n_in + n_hidden)} (the whole hidden.linear.weight), got {mask.shape}")
    return x, mask


# --- neuron steps ---------------------------------------------------------------------
# Each step takes the drive I_t (B, H), the previous state (a dict of (B, H) arrays),
# the neuron constants and the spike function, and returns z_t and the new state.


def p_omega_reference(omega, boundary_dt=0.01):
    """Divergence boundary p(omega) = (-1 + sqrt(1 - (dt_p omega)^2)) / dt_p [1/s].

    The default dt_p = 0.01 s is the value the authors' implementation hard-codes.
    """
    return (-1.0 + anp.sqrt(1.0 - (boundary_dt * omega) ** 2)) / boundary_dt


def _brf_step(drive, state, neuron, spike, dt):
    u, v, q = state["u"], state["v"], state["q"]
    omega = neuron["omega"]

    # Damping on the divergence boundary, deepened by the offset and the refractory q.
    b = neuron["p_omega"] - neuron["b_offset"]
    if neuron["smooth_reset"]:
        b = b - q

    # Explicit Euler of du/dt = (b + i omega) u + I, in the reference's evaluation order.
    u_new = ((u + (b * u) * dt) - (omega * v) * dt) + drive * dt
    v_new = (v + (omega * u) * dt) + (b * v) * dt

    # The threshold rises by q_{t-1}, and q jumps by one per spike and decays by gamma.
    s = u_new - neuron["theta"]
    if neuron["refractory"]:
        s = s - q
    z = spike(s)
    q_new = neuron["gamma"] * q + z
    return z, {"u": u_new, "v": v_new, "q": q_new}


def _rf_step(drive, state, neuron, spike, dt, reset):
    u, v = state["u"], state["v"]
    omega = neuron["omega"]
    b = neuron["b"]

    u_new = ((u + (b * u) * dt) - (omega * v) * dt) + drive * dt
    v_new = (v + (omega * u) * dt) + (b * v) * dt
    z = spike(u_new - neuron["theta"])

    if reset == "soft":
        u_new = u_new - z * neuron["theta"]
    elif reset == "hard":
        u_new = u_new * (1.0 - z)
        v_new = v_new * (1.0 - z)
    return z, {"u": u_new, "v": v_new}


def _bhrf_step(drive, state, neuron, spike, dt):
    u, v, q = state["u"], state["v"], state["q"]
    omega_sq = neuron["omega"] ** 2

    b = neuron["damping_factor"] * omega_sq + neuron["b_offset"] + q

    # Semi-implicit step: the position-like v first, then u with the new v.
    v_new = v + u * dt
    u_new = ((u + drive * dt) - (b * u) * (2.0 * dt)) - (omega_sq * v_new) * dt

    z = spike(u_new - neuron["theta"] - q)
    q_new = neuron["gamma"] * q + z
    return z, {"u": u_new, "v": v_new, "q": q_new}


def _alif_step(drive, state, neuron, spike, z_prev):
    u, a = state["u"], state["a"]
    alpha, rho = neuron["alpha"], neuron["rho"]

    # Threshold adaptation driven by the previous step's spike.
    a_new = rho * a + (1.0 - rho) * z_prev
    theta = neuron["alif_theta"] + neuron["alif_beta"] * a_new

    # Leaky integration, spike, and soft reset by the current threshold in the same step.
    u_leaky = alpha * u + (1.0 - alpha) * drive
    z = spike(u_leaky - theta)
    u_new = u_leaky - z * theta
    return z, {"u": u_new, "a": a_new}


STATE_NAMES = {"brf": ("u", "v", "q"), "rf": ("u", "v"), "bhrf": ("u", "v", "q"), "alif": ("u", "a")}
"""Hidden state variables recorded by ``reference_forward`` for each model."""


def _neuron_constants(config, params):
    """Apply abs() where the authors' implementation does and derive the per-neuron constants."""
    constants = _constants(config)
    if config.model == "alif":
        return {
            "alpha": anp.exp(-1.0 / anp.abs(params["hidden.tau_mem"])),
            "rho": anp.exp(-1.0 / anp.abs(params["hidden.tau_adp"])),
            "alif_theta": constants["alif_theta"],
            "alif_beta": constants["alif_beta"],
        }
    neuron = {
        "omega": anp.abs(params["hidden.omega"]),
        "theta": constants["theta"],
        "gamma": constants["gamma"],
    }
    b_offset = anp.abs(params["hidden.b_offset"])
    if config.model == "brf":
        neuron["b_offset"] = b_offset
        neuron["p_omega"] = p_omega_reference(neuron["omega"], constants["boundary_dt"])
        if not constants["brf_boundary"]:
            neuron["p_omega"] = 0.0
        neuron["refractory"] = constants["brf_refractory"]
        neuron["smooth_reset"] = constants["brf_smooth_reset"]
    elif config.model == "rf":
        neuron["b"] = -b_offset
    else:
        neuron["b_offset"] = b_offset
        neuron["damping_factor"] = constants["boundary_dt"] / 2.0
    return neuron


# --- forward --------------------------------------------------------------------------


def _simulate(config, params, x, mask, tbptt_window=None, spike_keep=None):
    """Run the network over all steps and return the records as lists of (B, ...) arrays.

    With ``spike_keep`` (T, B, H) the recurrent drive and the readout receive the
    delivered spikes z_t * keep_t, and ``'z'`` records them; the neuron's own
    update (q, reset, ALIF adaptation) uses the emitted spikes.
    """
    n_steps, batch, _ = x.shape
    n_hidden, n_out = config.n_hidden, config.n_out
    spike = SPIKE_FUNCTIONS[config.surrogate]

    weight = params["hidden.linear.weight"]
    if mask is not None:
        weight = weight * mask
    hidden_bias = params.get("hidden.linear.bias", 0.0)
    out_weight = params["out.linear.weight"]
    out_bias = params.get("out.linear.bias", 0.0)
    alpha_out = anp.exp(-1.0 / anp.abs(params["out.tau_mem"]))
    neuron = _neuron_constants(config, params)

    names = STATE_NAMES[config.model]
    state = {name: np.zeros((batch, n_hidden)) for name in names}
    z = np.zeros((batch, n_hidden))
    sent = z
    out = np.zeros((batch, n_out))
    records = {name: [] for name in ("z", "out") + names}

    for t in range(n_steps):
        if tbptt_window is not None and t > 0 and t % tbptt_window == 0:
            # Truncated BPTT: the carried state is a constant for the next window.
            state = {name: stop_gradient(value) for name, value in state.items()}
            z = stop_gradient(z)
            sent = stop_gradient(sent)
            out = stop_gradient(out)

        drive = anp.dot(anp.concatenate([x[t], sent], axis=1), weight.T) + hidden_bias

        if config.model == "brf":
            z, state = _brf_step(drive, state, neuron, spike, config.dt)
        elif config.model == "rf":
            z, state = _rf_step(drive, state, neuron, spike, config.dt, config.rf_reset)
        elif config.model == "bhrf":
            z, state = _bhrf_step(drive, state, neuron, spike, config.dt)
        else:
            z, state = _alif_step(drive, state, neuron, spike, z)
        sent = z if spike_keep is None else z * spike_keep[t]

        # Leaky-integrator readout of the same step's spikes (unit time step).
        out = alpha_out * out + (1.0 - alpha_out) * (anp.dot(sent, out_weight.T) + out_bias)

        records["z"].append(sent)
        records["out"].append(out)
        for name in names:
            records[name].append(state[name])
    return records


def reference_forward(config, params, x, mask=None, spike_keep=None):
    """Simulate the network on ``x`` and record every state.

    Parameters
    ----------
    config : RSNNConfig or any object with the same attributes
        Model, sizes, dt [s], RF reset, biases and surrogate (``loss`` is not used here).
    params : dict of str to ndarray
        Raw parameters under the authors' state-dict keys (see ``parameter_shapes``).
    x : ndarray, shape (T, B, n_in)
        Input at every step.
    mask : ndarray, optional
        0/1 pruning mask multiplied into ``hidden.linear.weight`` before the simulation,
        shape (n_hidden, n_in + n_hidden), or (n_hidden, n_hidden) for the recurrent block.
    spike_keep : ndarray, shape (T, B, H), optional
        0/1 spike deletion mask: a hidden spike z_t reaches the next step's recurrent
        drive and the readout only where keep_t is 1. The neuron that fired still
        sees its own spike (q, reset, ALIF adaptation).

    Returns
    -------
    dict of str to ndarray
        ``'z'``: hidden spikes (T, B, H), the delivered ones z_t * keep_t with ``spike_keep``.
        The model's states after each step (T, B, H): ``'u'``, ``'v'`` and ``'q'`` (BRF,
        BHRF), ``'u'`` and ``'v'`` after the reset (RF), ``'u'`` after the reset and ``'a'``
        (ALIF).
        ``'out'``: output membrane (T, B, n_out).
        ``'spike_count'``: total hidden spikes over all steps, sequences and neurons (int),
        the delivered ones with ``spike_keep``.
    """
    _check_config(config)
    x, mask = _check_input(config, x, mask)
    params = _trainable_parameters(config, params)
    if spike_keep is not None:
        spike_keep = (np.asarray(spike_keep) != 0).astype(np.float64)
        expected = x.shape[:2] + (config.n_hidden,)
        if spike_keep.shape != expected:
            raise RFSimError(f"spike_keep must have shape (T, B, n_hidden) = {expected}, got {spike_keep.shape}")
    records = _simulate(config, params, x, mask, spike_keep=spike_keep)
    result = {name: np.stack(values) for name, values in records.items()}
    result["spike_count"] = int(result["z"].sum())
    return result


# --- losses ---------------------------------------------------------------------------


def _check_targets(config, targets, n_steps, batch):
    """Return ``targets`` in a form the loss can use, after checking it against ``config.loss``.

    Integer targets come back as an int array; soft cross-entropy targets (B, n_out) as
    float64. Label-last targets of shape (T, B) are reduced to their last row.
    """
    targets = np.asarray(targets)
    if config.loss != "label-last" and not 0 <= config.loss_offset < n_steps:
        raise RFSimError(f"config.loss_offset must lie in [0, T={n_steps}), got {config.loss_offset}")

    if config.loss == "cross-entropy" and np.issubdtype(targets.dtype, np.floating):
        if targets.shape != (batch, config.n_out):
            raise RFSimError(f"soft cross-entropy targets must have shape (B, n_out) = {(batch, config.n_out)}, "
                             f"got {targets.shape}")
        if not np.all(np.isfinite(targets)) or (targets < 0).any():
            raise RFSimError("soft cross-entropy targets must be finite, non-negative class weights")
        return targets.astype(np.float64)

    if not np.issubdtype(targets.dtype, np.integer):
        raise RFSimError(f"targets must hold integer class indices, got dtype {targets.dtype}")
    allowed = [(n_steps, batch)] if config.loss == "sequence" else [(batch,), (n_steps, batch)]
    if targets.shape not in allowed:
        raise RFSimError(f"targets for loss={config.loss!r} must have shape "
                         f"{' or '.join(str(shape) for shape in allowed)}, got {targets.shape}")
    if targets.size and (targets.min() < 0 or targets.max() >= config.n_out):
        raise RFSimError(f"targets must be class indices in [0, {config.n_out}), got values "
                         f"from {targets.min()} to {targets.max()}")
    if config.loss == "label-last" and targets.ndim == 2:
        return targets[n_steps - 1]
    return targets


def _is_soft(targets):
    return np.issubdtype(targets.dtype, np.floating)


def _step_loss(out_t, targets_t):
    """Batch mean of -sum_c y_c log softmax(out_t)_c, for out_t (B, n_out).

    ``targets_t`` is a class per sequence (B,) int or class weights (B, n_out) float.
    """
    log_probs = out_t - logsumexp(out_t, axis=1, keepdims=True)
    if _is_soft(targets_t):
        return -anp.mean(anp.sum(targets_t * log_probs, axis=1))
    return -anp.mean(log_probs[np.arange(out_t.shape[0]), targets_t])


def _loss_from_outputs(config, outputs, targets):
    """Return the summed loss L from the list of per-step outputs (differentiable)."""
    n_steps = len(outputs)
    if config.loss == "label-last":
        return _step_loss(outputs[n_steps - 1], targets)

    per_step = targets.ndim == 2 and not _is_soft(targets)
    total = 0.0
    for t in range(config.loss_offset, n_steps):
        total = total + _step_loss(outputs[t], targets[t] if per_step else targets)
    return total


def reference_loss(config, params, x, targets, mask=None, tbptt_window=None):
    """Return the summed loss L of the network on ``x`` (the quantity BPTT differentiates).

    See the module docstring for the three losses and the shapes of ``targets``.
    ``tbptt_window`` (steps) cuts the gradient between windows as truncated BPTT does;
    it changes no value, only what ``autograd.grad`` of this function returns.
    """
    _check_config(config)
    x, mask = _check_input(config, x, mask)
    targets = _check_targets(config, targets, x.shape[0], x.shape[1])
    params = _trainable_parameters(config, params)
    return _differentiable_loss(config, params, x, targets, mask, tbptt_window)


def _differentiable_loss(config, params, x, targets, mask, tbptt_window):
    records = _simulate(config, params, x, mask, tbptt_window)
    return _loss_from_outputs(config, records["out"], targets)


def reference_metrics(config, outputs, targets):
    """Compute the reported loss and the accuracy counts from the output membranes.

    Parameters
    ----------
    config : RSNNConfig or any object with the same attributes
    outputs : ndarray, shape (T, B, n_out)
        Output membrane at every step, for example ``reference_forward(...)['out']``.
    targets : ndarray
        As for ``reference_loss`` (see the module docstring).

    Returns
    -------
    dict
        ``'loss_sum'`` (L), ``'loss_reported'`` (L / (T - k), or L for label-last),
        ``'n_correct'`` and ``'n_total'``: correct and counted predictions, one per step
        t >= k for per-step integer targets, else one per sequence (from the last step
        for label-last, from the mean output over t >= k otherwise).
    """
    _check_config(config)
    outputs = np.asarray(outputs, dtype=np.float64)
    n_steps, batch, _ = outputs.shape
    targets = _check_targets(config, targets, n_steps, batch)
    loss_sum = float(_loss_from_outputs(config, list(outputs), targets))
    offset = config.loss_offset

    if config.loss == "label-last":
        predicted = outputs[n_steps - 1].argmax(axis=1)
        return {"loss_sum": loss_sum, "loss_reported": loss_sum,
                "n_correct": int((predicted == targets).sum()), "n_total": batch}

    loss_reported = loss_sum / (n_steps - offset)
    if targets.ndim == 2 and not _is_soft(targets):
        predicted = outputs[offset:].argmax(axis=2)
        n_correct = int((predicted == targets[offset:]).sum())
        return {"loss_sum": loss_sum, "loss_reported": loss_reported, "n_correct": n_correct,
                "n_total": int(predicted.size)}

    labels = targets.argmax(axis=1) if _is_soft(targets) else targets
    predicted = outputs[offset:].mean(axis=0).argmax(axis=1)
    return {"loss_sum": loss_sum, "loss_reported": loss_reported,
            "n_correct": int((predicted == labels).sum()), "n_total": batch}


def reference_value_and_grad(config, params, x, targets, mask=None, tbptt_window=None):
    """Return the summed loss L and its autograd gradient with respect to every parameter.

    Parameters are those of ``reference_loss``. With a ``mask`` the gradient of a pruned
    weight is zero, because the network uses ``weight * mask``. (The authors' masked layer
    instead zeroes the weight in place, which leaves that gradient nonzero; pass the masked
    weight with ``mask=None`` to get that gradient.)

    Returns
    -------
    loss_sum : float
    grads : dict of str to ndarray
        d(loss_sum)/d(parameter) under the same keys as the trainable parameters.
    """
    _check_config(config)
    x, mask = _check_input(config, x, mask)
    targets = _check_targets(config, targets, x.shape[0], x.shape[1])
    if tbptt_window is not None and (int(tbptt_window) != tbptt_window or tbptt_window < 1):
        raise RFSimError(f"tbptt_window must be a positive number of steps, got {tbptt_window!r}")
    params = _trainable_parameters(config, params)

    def loss_of(trainable):
        return _differentiable_loss(config, trainable, x, targets, mask, tbptt_window)

    loss_sum, grads = autograd.value_and_grad(loss_of)(params)
    return float(loss_sum), {key: np.asarray(value) for key, value in grads.items()}
