"""Spectral radius of the state-transition map: per neuron and for a whole trained network.

Per neuron
----------
Below threshold each hidden neuron is a linear map of its membrane state over one
step. With omega = |omega_raw| [rad/s], b' = |b_offset_raw| [1/s], the refractory
variable q and the time step dt [s] (the absolute values are those the engine takes):

* RF and BRF, state (u, v): the real form of u <- (1 + dt (b + i omega)) u,
  J = [[1 + dt b, -dt omega], [dt omega, 1 + dt b]], eigenvalues 1 + dt b +- i dt omega,
  with b = -b' (RF) or b = p(omega) - b' - q (BRF), p(omega) = (-1 + sqrt(1 - (dt_p omega)^2)) / dt_p.
* HRF and BHRF, state (u, v), in the engine's order (v first, then u with the new v):
  J = [[1 - 2 b dt - (omega dt)^2, -omega^2 dt], [dt, 1]], with b = b' (HRF) or
  b = (dt_p / 2) omega^2 + b' + q (BHRF). ``order='paper'`` drops the (omega dt)^2 term
  (the explicit Euler step that Higuchi, Kairat, Bohte and Otte print in "Balanced
  Resonate-and-Fire Neurons", ICML 2024), and ``damping_sign='paper'`` uses their
  printed damping b = (dt_p / 2) omega^2 - b' - q.
* ALIF and the LI readout, state u: J = alpha = exp(-1 / |tau_mem|) (unit time step).
* BRF ablations (``RSNNConfig.brf_boundary``, ``brf_refractory``, ``brf_smooth_reset``):
  without the boundary p(omega) is replaced by 0, without the smooth reset q leaves the
  damping, and without the refractory period q leaves the threshold; the per-neuron and
  whole-network Jacobians change the same way.

Theorem (BRF). Let r = sqrt(1 - (dt omega)^2) and c = b' + q, with dt_p = dt. Then
1 + dt b = r - dt c and |lambda|^2 = (r - dt c)^2 + (dt omega)^2 = 1 + dt c (dt c - 2 r),
so the spectral radius is <= 1 exactly when 0 <= c <= 2 r / dt, the interval of
``rfsim.stability.b_offset_interval``, and > 1 outside it. A BRF neuron whose
b' + q lies outside the interval is flagged. The other RF-type models are flagged
when their damping lies outside the convergence region of ``rfsim.analysis.boundary``.

Whole network
-------------
The hidden state after step t is S_t = (u_t, v_t, q_t, z_t) for BRF and BHRF,
(u_t, v_t, z_t) for RF (after its reset) and (u_t, a_t, z_t) for ALIF, each an
H-vector. The spikes z_t belong to the state because the next drive
I_{t+1} = W_in x_{t+1} + W_rec z_t + b_h reads them. The step S_{t-1} -> S_t is
differentiated with the spike z_t = H(s_t) replaced by its surrogate derivative,
dz_t = g(s_t) ds_t, exactly as back-propagation through time does, so

    J_t = dS_t / dS_{t-1} = D_t + C_t W_rec E_z

where D_t holds one H x H diagonal block per pair of state variables (the neuron's
own dynamics), C_t = d S_t / d I_t stacks per-neuron coefficients, and E_z selects
z_{t-1}. The rows of z_t and q_t carry g(s_t) times the rows of s_t. J_0 maps the
zero state S_{-1}. The states come from ``rfsim.network.forward(..., record=True)``
in float64. Each step is recomputed from the recorded previous state in the
engine's evaluation order, and ``replay_error`` keeps the largest difference to
the record.

Back-propagation multiplies an adjoint by J_t^T at every step. Starting from unit
vectors w_{T-1} at the last step, w_{t-1} = J_t^T w_t, the norm ||w_{T-1-k}|| at
lag k shows whether a gradient keeps its magnitude over k steps. The loss profile
does the same for the exact adjoint dL_{T-1}/dS_t of the last step's loss
L_{T-1} = -log softmax(o_{T-1})[y], which also reaches z_t through the readout's leak.
"""

import dataclasses
from dataclasses import dataclass

import numpy as np

from rfsim.errors import RFSimError

NEURON_MODELS = ("rf", "brf", "hrf", "bhrf", "alif", "li")
"""Neuron models of the per-neuron Jacobian (``'li'`` is the leaky-integrator readout)."""

HARMONIC_ORDERS = ("implementation", "paper")
"""Update orders of the harmonic neurons: the engine's semi-implicit step or the printed explicit Euler step."""

DAMPING_SIGNS = ("implementation", "paper")
"""BHRF damping p_h + b' + q (the engine) or p_h - b' - q (as printed with the model)."""

STATE_NAMES = {"brf": ("u", "v", "q", "z"), "rf": ("u", "v", "z"), "bhrf": ("u", "v", "q", "z"),
               "alif": ("u", "a", "z")}
"""State variables of the whole-network Jacobian, in the order of its blocks."""

DEFAULT_LAGS = (10, 100, 500)
"""Lags [steps] at which summaries report the gradient-norm ratio."""

_MODELS_WITH_Q = ("brf", "bhrf")


# --- per-neuron Jacobians -----------------------------------------------------------------


@dataclass(frozen=True)
class NeuronSpectra:
    """One-step Jacobians of single neurons and their spectral radii.

    Arrays with a leading ``n_q`` axis hold one row per refractory value in ``q``.
    Models without a refractory variable (RF, HRF, ALIF, LI) give the same row for
    every q.

    Attributes
    ----------
    model : str
        One of ``NEURON_MODELS``.
    dt : float
        Time step [s] of the RF-type models (ALIF and LI use a unit step).
    q : ndarray, shape (n_q,)
        Refractory values the Jacobians are evaluated at.
    omega, b_offset : ndarray, shape (H,), or None
        Angular frequency [rad/s] and damping offset [1/s] (RF-type models).
    tau_mem : ndarray, shape (H,), or None
        Membrane time constant [steps] (ALIF, LI).
    damping : ndarray, shape (n_q, H), or None
        Damping b [1/s] entering the Jacobian (RF-type models; RF and BRF decay for
        b < 0, HRF and BHRF for b > 0).
    jacobians : ndarray, shape (n_q, H, k, k)
        The Jacobians, k = 2 for RF-type models and 1 for ALIF and LI.
    eigenvalues : ndarray of complex, shape (n_q, H, k)
    spectral_radius : ndarray, shape (n_q, H)
        Largest |eigenvalue|; > 1 means the free response grows.
    offset_low, offset_high : ndarray, shape (H,), or None
        Interval of c [1/s] in which the neuron converges, with c = b' + q (BRF,
        BHRF) or c = b' (RF, HRF); NaN where no c converges (omega above the
        model's omega_max). None for ALIF and LI, which always converge.
    outside_region : ndarray of bool, shape (n_q, H)
        Whether c lies outside [offset_low, offset_high] (always False for ALIF, LI).
    """

    model: str
    dt: float
    q: np.ndarray
    omega: np.ndarray | None
    b_offset: np.ndarray | None
    tau_mem: np.ndarray | None
    damping: np.ndarray | None
    jacobians: np.ndarray
    eigenvalues: np.ndarray
    spectral_radius: np.ndarray
    offset_low: np.ndarray | None
    offset_high: np.ndarray | None
    outside_region: np.ndarray

    @property
    def n_neurons(self):
        """Number of neurons H."""
        return self.spectral_radius.shape[1]

    @property
    def has_refractory(self):
        """Whether the Jacobian depends on q (BRF and BHRF)."""
        return self.model in _MODELS_WITH_Q

    def flagged_neurons(self):
        """Return the indices of the neurons outside the convergence region at any evaluated q."""
        return np.flatnonzero(self.outside_region.any(axis=0))


def refractory_values(gamma, steps):
    """Return q = gamma^k, the refractory variable k steps after a single spike.

    A spike from rest sets q = 1 (k = 0); without further spikes q decays by gamma
    per step. The step after the spike is damped with that q.

    Parameters
    ----------
    gamma : float
        Decay of q per step, in [0, 1).
    steps : sequence of int
        Steps k >= 0 after the spike.

    Returns
    -------
    ndarray
        gamma^k for each k.
    """
    steps = np.asarray(steps)
    if steps.size and (not np.issubdtype(steps.dtype, np.integer) or (steps < 0).any()):
        raise RFSimError(f"refractory steps must be non-negative integers, got {steps.tolist()!r}")
    if not 0.0 <= gamma < 1.0:
        raise RFSimError(f"gamma must be a decay factor in [0, 1), got gamma={gamma!r}")
    return np.power(float(gamma), steps.astype(float))


def _as_neuron_array(name, value, n_neurons=None):
    """Return a finite 1-D float64 array, checking its length against ``n_neurons``."""
    if value is None:
        raise RFSimError(f"{name} is required for this model")
    array = np.atleast_1d(np.asarray(value, dtype=np.float64))
    if array.ndim != 1 or array.size == 0:
        raise RFSimError(f"{name} must be a non-empty 1-D array of per-neuron values, got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise RFSimError(f"{name} must be finite, got {name}={array.tolist()!r}")
    if n_neurons is not None and array.size != n_neurons:
        raise RFSimError(f"{name} has {array.size} values but omega has {n_neurons}; give one per neuron")
    return array


def rf_transition_matrix(omega, damping, dt):
    """Return the real 2x2 form of u <- (1 + dt (b + i omega)) u acting on (u, v).

    Parameters
    ----------
    omega, damping : array_like
        Angular frequency [rad/s] and damping b [1/s], broadcast together.
    dt : float
        Time step [s].

    Returns
    -------
    ndarray, shape (..., 2, 2)
    """
    omega, damping = np.broadcast_arrays(np.asarray(omega, dtype=float), np.asarray(damping, dtype=float))
    decay = 1.0 + damping * dt
    rotation = omega * dt
    return np.stack([np.stack([decay, -rotation], axis=-1), np.stack([rotation, decay], axis=-1)], axis=-2)


def harmonic_step_matrix(omega, damping, dt, order="implementation"):
    """Return the 2x2 matrix of the free harmonic step acting on (u, v).

    ``order='implementation'`` (the engine): v_t = v + u dt, then
    u_t = u - 2 b u dt - omega^2 v_t dt, so J = [[1 - 2 b dt - (omega dt)^2, -omega^2 dt], [dt, 1]].
    ``order='paper'`` (explicit Euler): J = [[1 - 2 b dt, -omega^2 dt], [dt, 1]].

    Returns
    -------
    ndarray, shape (..., 2, 2)
    """
    if order not in HARMONIC_ORDERS:
        raise RFSimError(f"order must be one of {HARMONIC_ORDERS}, got order={order!r}")
    omega, damping = np.broadcast_arrays(np.asarray(omega, dtype=float), np.asarray(damping, dtype=float))
    top_left = 1.0 - 2.0 * damping * dt
    if order == "implementation":
        top_left = top_left - (omega * dt) ** 2
    one = np.ones_like(omega)
    return np.stack([np.stack([top_left, -(omega**2) * dt], axis=-1), np.stack([dt * one, one], axis=-1)], axis=-2)


def _eigenvalues(matrices):
    """Return the eigenvalues (complex) of a stack of square matrices; NaN for non-finite matrices."""
    finite = np.all(np.isfinite(matrices), axis=(-2, -1))
    values = np.full(matrices.shape[:-1], np.nan + 0j)
    if finite.any():
        values[finite] = np.linalg.eigvals(matrices[finite])
    return values


def _offset_interval(model, omega, dt, dt_p, order, damping_sign):
    """Return (low, high) of c = b' + q (or b') for which the model converges; NaN where none does."""
    from rfsim.analysis.boundary import bhrf_boundary, rf_boundary
    from rfsim.stability import b_offset_interval, p_omega

    limit = 1.0 if model in ("rf", "brf") else 2.0
    valid = omega * dt <= limit
    low = np.full(omega.shape, np.nan)
    high = np.full(omega.shape, np.nan)
    if not valid.any():
        return low, high

    # omega = 0 is the limit of the smallest positive omega, whose (dt omega)^2 underflows to 0.
    w = np.where(omega[valid] == 0.0, np.finfo(float).tiny, omega[valid])
    if model == "brf" and dt_p == dt:
        low[valid], high[valid] = b_offset_interval(w, dt)
        return low, high
    if model in ("rf", "brf"):
        region = rf_boundary(w, dt)
        base = p_omega(np.minimum(w, 1.0 / dt_p), dt_p) if model == "brf" else np.zeros_like(w)
        if model == "brf":
            base = np.where(w * dt_p <= 1.0, base, np.nan)
        low[valid], high[valid] = region.offset_interval(base, -1)
        return low, high

    region = bhrf_boundary(w, dt, order)
    if model == "hrf":
        low[valid], high[valid] = region.offset_interval(np.zeros_like(w), 1)
        return low, high
    base = 0.5 * dt_p * w**2
    sign = -1 if damping_sign == "paper" else 1
    low[valid], high[valid] = region.offset_interval(base, sign)
    return low, high


def neuron_spectra(model, *, omega=None, b_offset=None, tau_mem=None, dt=0.01, q=(0.0,), boundary_dt=None,
                   order="implementation", damping_sign="implementation", brf_boundary=True, brf_smooth_reset=True):
    """Compute the one-step Jacobian of each neuron and its spectral radius.

    Parameters
    ----------
    model : {'rf', 'brf', 'hrf', 'bhrf', 'alif', 'li'}
        Neuron model (see the module docstring for each Jacobian).
    omega : array_like, optional
        Angular frequencies [rad/s], >= 0 (RF-type models).
    b_offset : array_like, optional
        Damping offsets [1/s], one per neuron (RF-type models). Any finite value is
        accepted, so regions can be explored beyond what the engine's abs() allows.
    tau_mem : array_like, optional
        Membrane time constants [steps], > 0 (ALIF, LI).
    dt : float, optional
        Time step [s] of the RF-type models.
    q : sequence of float, optional
        Refractory values to evaluate, for example ``(0, 1)`` for rest and the step
        after a spike (``refractory_values``).
    boundary_dt : float, optional
        Time step [s] inside p(omega) and the BHRF damping (``RSNNConfig.boundary_dt``);
        None uses ``dt``.
    order : {'implementation', 'paper'}, optional
        Update order of HRF and BHRF.
    damping_sign : {'implementation', 'paper'}, optional
        Sign of b' and q in the BHRF damping.
    brf_boundary, brf_smooth_reset : bool, optional
        BRF ablations as in ``RSNNConfig``: without the boundary the damping is
        b = -b' - q (p(omega) replaced by 0) and the convergence interval is that of
        an RF neuron; without the smooth reset q leaves the damping, b = p(omega) - b',
        so every q gives the same Jacobian and c = b'. Ignored for the other models.

    Returns
    -------
    NeuronSpectra

    Raises
    ------
    RFSimError
        For an unknown model or option, a missing or non-finite parameter, negative
        omega or tau_mem, or a non-positive dt.
    """
    if model not in NEURON_MODELS:
        raise RFSimError(f"model must be one of {NEURON_MODELS}, got model={model!r}")
    if not (np.isfinite(dt) and dt > 0):
        raise RFSimError(f"dt must be a finite positive time step in seconds, got dt={dt!r}")
    dt = float(dt)
    dt_p = dt if boundary_dt is None else float(boundary_dt)
    if not (np.isfinite(dt_p) and dt_p > 0):
        raise RFSimError(f"boundary_dt must be a finite positive time step in seconds or None, got {boundary_dt!r}")
    if order not in HARMONIC_ORDERS:
        raise RFSimError(f"order must be one of {HARMONIC_ORDERS}, got order={order!r}")
    if damping_sign not in DAMPING_SIGNS:
        raise RFSimError(f"damping_sign must be one of {DAMPING_SIGNS}, got damping_sign={damping_sign!r}")
    q = np.atleast_1d(np.asarray(q, dtype=np.float64))
    if q.ndim != 1 or q.size == 0 or not np.all(np.isfinite(q)):
        raise RFSimError(f"q must be one or more finite refractory values, got q={q.tolist()!r}")

    if model in ("alif", "li"):
        tau = _as_neuron_array("tau_mem", tau_mem)
        if (tau <= 0).any():
            raise RFSimError(f"tau_mem must be positive [steps], got tau_mem={float(tau[tau <= 0][0])!r}")
        alpha = np.exp(-1.0 / tau)
        jacobians = np.broadcast_to(alpha[None, :, None, None], (q.size, tau.size, 1, 1)).copy()
        eigenvalues = jacobians[..., 0].astype(complex)
        return NeuronSpectra(
            model=model, dt=dt, q=q, omega=None, b_offset=None, tau_mem=tau, damping=None, jacobians=jacobians,
            eigenvalues=eigenvalues, spectral_radius=np.abs(eigenvalues[..., 0]), offset_low=None,
            offset_high=None, outside_region=np.zeros((q.size, tau.size), bool),
        )

    omega = _as_neuron_array("omega", omega)
    if (omega < 0).any():
        raise RFSimError(f"omega must be >= 0 rad/s (the engine uses |omega|), got omega={float(omega[omega < 0][0])!r}")
    b_offset = _as_neuron_array("b_offset", b_offset, omega.size)

    # Offset c = b' + q of each (q, neuron); q enters only the balanced models' damping.
    q_in_damping = model in _MODELS_WITH_Q and (model != "brf" or bool(brf_smooth_reset))
    refractory = q[:, None] if q_in_damping else np.zeros((q.size, 1))
    offset = b_offset[None, :] + refractory
    with np.errstate(invalid="ignore"):
        if model == "rf":
            damping = -offset
        elif model == "brf":
            p = (-1.0 + np.sqrt(1.0 - np.square(dt_p * omega))) / dt_p if brf_boundary else np.zeros_like(omega)
            damping = p[None, :] - offset
        elif model == "hrf":
            damping = offset
        else:
            base = (0.5 * dt_p) * omega**2
            damping = base[None, :] - offset if damping_sign == "paper" else base[None, :] + offset

    if model in ("rf", "brf"):
        jacobians = rf_transition_matrix(omega[None, :], damping, dt)
    else:
        jacobians = harmonic_step_matrix(omega[None, :], damping, dt, order)
    eigenvalues = _eigenvalues(jacobians)
    radius = np.max(np.abs(eigenvalues), axis=-1)

    interval_model = "rf" if model == "brf" and not brf_boundary else model
    low, high = _offset_interval(interval_model, omega, dt, dt_p, order, damping_sign)
    with np.errstate(invalid="ignore"):
        inside = (offset >= low[None, :]) & (offset <= high[None, :])
    return NeuronSpectra(
        model=model, dt=dt, q=q, omega=omega, b_offset=b_offset, tau_mem=None, damping=damping,
        jacobians=jacobians, eigenvalues=eigenvalues, spectral_radius=radius, offset_low=low, offset_high=high,
        outside_region=~inside,
    )


def hidden_neuron_spectra(net_config, params, q=None):
    """Compute the per-neuron spectra of a network's hidden layer from its raw parameters.

    The engine's abs() is applied to omega, b_offset and tau_mem first, and a BRF
    network's ablation switches (``brf_boundary``, ``brf_smooth_reset``) are applied.

    Parameters
    ----------
    net_config : rfsim.network.RSNNConfig
    params : dict of str to ndarray
        Raw parameters under the authors' state-dict keys.
    q : sequence of float, optional
        Refractory values; default (0, 1), rest and the step after a spike.

    Returns
    -------
    NeuronSpectra
    """
    q = (0.0, 1.0) if q is None else q
    if net_config.model == "alif":
        return neuron_spectra("alif", tau_mem=np.abs(_param(params, "hidden.tau_mem")), q=q)
    return neuron_spectra(net_config.model, omega=np.abs(_param(params, "hidden.omega")),
                          b_offset=np.abs(_param(params, "hidden.b_offset")), dt=net_config.dt, q=q,
                          boundary_dt=net_config.boundary_dt, brf_boundary=net_config.brf_boundary,
                          brf_smooth_reset=net_config.brf_smooth_reset)


def readout_spectra(params):
    """Compute the 1x1 Jacobians alpha_o = exp(-1 / |tau_out|) of the leaky-integrator readout."""
    return neuron_spectra("li", tau_mem=np.abs(_param(params, "out.tau_mem")))


def _param(params, key):
    if key not in params:
        raise RFSimError(f"params is missing {key!r}; give the raw parameters of a trained network")
    return np.asarray(params[key], dtype=np.float64)


# --- whole-network Jacobians ----------------------------------------------------------------


@dataclass(frozen=True)
class StepJacobians:
    """Jacobians J_t = dS_t / dS_{t-1} of the hidden state of one sequence, in structured form.

    The dense J_t has n_vars x n_vars blocks of size H x H, ordered as ``state_names``
    (index ``k * H + i`` is variable k of neuron i):

        J_t[o, k] = diag(diagonal[t, o, k]) + (k is z) * diag(recurrent[t, o]) @ w_rec

    Attributes
    ----------
    model : str
        Hidden model, ``'brf'``, ``'rf'``, ``'bhrf'`` or ``'alif'``.
    state_names : tuple of str
        State variables in block order (``STATE_NAMES[model]``).
    diagonal : ndarray, shape (T, n_vars, n_vars, H)
        Per-neuron derivative of variable o after the step with respect to variable k before it.
    recurrent : ndarray, shape (T, n_vars, H)
        dS_t[o] / dI_t, the coefficient of the recurrent drive W_rec z_{t-1}.
    w_rec : ndarray, shape (H, H)
        Recurrent weights after the pruning mask (row: receiving neuron).
    surrogate : ndarray, shape (T, H)
        Surrogate derivative g(s_t) of every neuron at every step.
    spikes : ndarray, shape (T, H)
        Recorded spikes z_t (0.0 or 1.0).
    outputs : ndarray, shape (T, C)
        Recorded readout o_t.
    replay_error : float
        Largest absolute difference between the recorded states and the states
        recomputed here from the recorded previous state (0 when the arithmetic agrees).
    """

    model: str
    state_names: tuple
    diagonal: np.ndarray
    recurrent: np.ndarray
    w_rec: np.ndarray
    surrogate: np.ndarray
    spikes: np.ndarray
    outputs: np.ndarray
    replay_error: float

    @property
    def n_steps(self):
        """Number of steps T."""
        return self.diagonal.shape[0]

    @property
    def n_hidden(self):
        """Number of hidden neurons H."""
        return self.diagonal.shape[-1]

    @property
    def size(self):
        """Dimension n_vars x H of the state."""
        return len(self.state_names) * self.n_hidden

    def dense(self, t):
        """Return J_t as a dense (n, n) array."""
        n_vars, n_hidden = len(self.state_names), self.n_hidden
        z = self.state_names.index("z")
        blocks = np.zeros((n_vars, n_hidden, n_vars, n_hidden))
        for o in range(n_vars):
            for k in range(n_vars):
                blocks[o, :, k, :] = np.diag(self.diagonal[t, o, k])
            blocks[o, :, z, :] += self.recurrent[t, o][:, None] * self.w_rec
        return blocks.reshape(self.size, self.size)

    def apply(self, t, vectors):
        """Return J_t @ vectors for ``vectors`` of shape (n,) or (n, m)."""
        blocks, shape = self._blocks(vectors)
        z = self.state_names.index("z")
        recurrent_drive = self.w_rec @ blocks[z]
        result = np.einsum("okh,khm->ohm", self.diagonal[t], blocks)
        result += self.recurrent[t][:, :, None] * recurrent_drive[None]
        return result.reshape(shape)

    def apply_transpose(self, t, vectors):
        """Return J_t^T @ vectors for ``vectors`` of shape (n,) or (n, m) (one backward step)."""
        blocks, shape = self._blocks(vectors)
        z = self.state_names.index("z")
        result = np.einsum("okh,ohm->khm", self.diagonal[t], blocks)
        drive_adjoint = np.einsum("oh,ohm->hm", self.recurrent[t], blocks)
        result[z] += self.w_rec.T @ drive_adjoint
        return result.reshape(shape)

    def _blocks(self, vectors):
        vectors = np.asarray(vectors, dtype=np.float64)
        if vectors.shape[0] != self.size or vectors.ndim not in (1, 2):
            raise RFSimError(f"vectors must have shape ({self.size},) or ({self.size}, m), got {vectors.shape}")
        columns = 1 if vectors.ndim == 1 else vectors.shape[1]
        return vectors.reshape(len(self.state_names), self.n_hidden, columns), vectors.shape


@dataclass(frozen=True)
class _CellConstants:
    """Per-neuron constants of the hidden model, derived from the raw parameters as the engine does."""

    first: np.ndarray
    second: np.ndarray
    third: np.ndarray | None = None
    fourth: np.ndarray | None = None


def _cell_constants(config, params):
    """Return the per-neuron constants in the engine's evaluation order.

    BRF: omega, p(omega) - b' (0 - b' without the boundary). RF: omega, -b'. BHRF: omega^2, omega^2 (dt_p / 2) + b'.
    ALIF: alpha, 1 - alpha, rho, 1 - rho.
    """
    if config.model == "alif":
        alpha = np.exp(-1.0 / np.abs(params["hidden.tau_mem"]))
        rho = np.exp(-1.0 / np.abs(params["hidden.tau_adp"]))
        return _CellConstants(alpha, 1.0 - alpha, rho, 1.0 - rho)
    omega = np.abs(params["hidden.omega"])
    b_offset = np.abs(params["hidden.b_offset"])
    dt_p = config.p_dt
    if config.model == "brf":
        with np.errstate(invalid="ignore"):
            p = (-1.0 + np.sqrt(1.0 - np.square(dt_p * omega))) / dt_p
        if not config.brf_boundary:
            p = np.zeros_like(omega)
        return _CellConstants(omega, p - b_offset)
    if config.model == "rf":
        return _CellConstants(omega, -b_offset)
    omega_sq = np.square(omega)
    return _CellConstants(omega_sq, omega_sq * (dt_p / 2.0) + b_offset)


def _drive(x_t, z_prev, w_in_t, w_rec_t, bias):
    """Return I_t = W_in x_t + W_rec z_{t-1} + b_h, summed in the engine's order."""
    drive = np.zeros(w_in_t.shape[1])
    for k in np.flatnonzero(x_t):
        drive += w_in_t[k] * x_t[k]
    for j in np.flatnonzero(z_prev):
        drive += w_rec_t[j]
    if bias is not None:
        drive += bias
    return drive


def _step_blocks(config, cell, prev, spikes, drive, surrogate_name):
    """Recompute one step from the previous state and return it with its Jacobian blocks.

    ``prev`` maps each recorded state name to its (H,) values before the step and
    ``spikes`` is z_t. Returns (recomputed state dict, s_t, g(s_t), diagonal
    (n_vars, n_vars, H), recurrent (n_vars, H)).
    """
    from rfsim.surrogate import surrogate_grad

    names = STATE_NAMES[config.model]
    index = {name: k for k, name in enumerate(names)}
    n_hidden = drive.shape[0]
    diagonal = np.zeros((len(names), len(names), n_hidden))
    recurrent = np.zeros((len(names), n_hidden))
    dt, theta, gamma = config.dt, config.theta, config.gamma
    z = spikes

    if config.model in ("brf", "bhrf"):
        u, v, q = prev["u"], prev["v"], prev["q"]

        # The BRF ablations multiply q_{t-1} by 0.0 in the damping or the threshold, as the engine does.
        in_threshold, in_damping = 1.0, 1.0
        if config.model == "brf":
            in_threshold = 1.0 if config.brf_refractory else 0.0
            in_damping = 1.0 if config.brf_smooth_reset else 0.0
            omega = cell.first
            b = cell.second - q * in_damping
            u_new = ((u + (b * u) * dt) - (omega * v) * dt) + drive * dt
            v_new = (v + (omega * u) * dt) + (b * v) * dt

            # Rows of u_t and v_t: the 2x2 rotation, the damping's q_{t-1}, and dt I_t.
            d_u = {"u": 1.0 + b * dt, "v": -omega * dt, "q": -u * dt * in_damping}
            d_v = {"u": omega * dt, "v": 1.0 + b * dt, "q": -v * dt * in_damping}
            c_u, c_v = dt, 0.0
        else:
            omega_sq = cell.first
            b = cell.second + q
            v_new = v + u * dt
            u_new = ((u + drive * dt) - (b * u) * (2.0 * dt)) - (omega_sq * v_new) * dt

            # v_t = v + u dt first, then u_t reads the new v_t.
            d_v = {"u": np.full(n_hidden, dt), "v": np.ones(n_hidden), "q": np.zeros(n_hidden)}
            d_u = {"u": 1.0 - 2.0 * b * dt - omega_sq * dt * dt, "v": -omega_sq * dt, "q": -2.0 * u * dt}
            c_u, c_v = dt, 0.0

        # Spike z_t = H(s_t), s_t = u_t - theta - q_{t-1}: dz_t = g ds_t; q_t = gamma q_{t-1} + z_t.
        s = (u_new - theta) - q * in_threshold
        g = surrogate_grad(s, surrogate_name)
        d_s = {"u": d_u["u"], "v": d_u["v"], "q": d_u["q"] - in_threshold}
        for k in ("u", "v", "q"):
            diagonal[index["u"], index[k]] = d_u[k]
            diagonal[index["v"], index[k]] = d_v[k]
            diagonal[index["z"], index[k]] = g * d_s[k]
            diagonal[index["q"], index[k]] = g * d_s[k]
        diagonal[index["q"], index["q"]] += gamma
        recurrent[index["u"]] = c_u
        recurrent[index["v"]] = c_v
        recurrent[index["z"]] = g * dt
        recurrent[index["q"]] = g * dt
        recomputed = {"u": u_new, "v": v_new, "q": q * gamma + z}
        return recomputed, s, g, diagonal, recurrent

    if config.model == "rf":
        u, v = prev["u"], prev["v"]
        omega, b = cell.first, cell.second
        u_tilde = ((u + (b * u) * dt) - (omega * v) * dt) + drive * dt
        v_tilde = (v + (omega * u) * dt) + (b * v) * dt
        s = u_tilde - theta
        g = surrogate_grad(s, surrogate_name)

        # Reset after the spike: du_t = a_uu du~, dv_t = a_vv dv~ + a_vu du~ (dz = g du~).
        ones, zeros = np.ones(n_hidden), np.zeros(n_hidden)
        if config.rf_reset == "soft":
            a_uu, a_vv, a_vu = 1.0 - theta * g, ones, zeros
            u_new, v_new = u_tilde - z * theta, v_tilde
        elif config.rf_reset == "hard":
            a_uu, a_vv, a_vu = (1.0 - z) - u_tilde * g, 1.0 - z, -v_tilde * g
            u_new, v_new = u_tilde * (1.0 - z), v_tilde * (1.0 - z)
        else:
            a_uu, a_vv, a_vu = ones, ones, zeros
            u_new, v_new = u_tilde, v_tilde

        d_u_tilde = {"u": 1.0 + b * dt, "v": -omega * dt}
        d_v_tilde = {"u": omega * dt, "v": 1.0 + b * dt}
        for k in ("u", "v"):
            diagonal[index["u"], index[k]] = a_uu * d_u_tilde[k]
            diagonal[index["v"], index[k]] = a_vv * d_v_tilde[k] + a_vu * d_u_tilde[k]
            diagonal[index["z"], index[k]] = g * d_u_tilde[k]
        recurrent[index["u"]] = a_uu * dt
        recurrent[index["v"]] = a_vu * dt
        recurrent[index["z"]] = g * dt
        return {"u": u_new, "v": v_new}, s, g, diagonal, recurrent

    # ALIF: adaptation from z_{t-1}, leaky integration, spike, soft reset by theta_t.
    u, a, z_prev = prev["u"], prev["a"], prev["z"]
    alpha, one_minus_alpha, rho, one_minus_rho = cell.first, cell.second, cell.third, cell.fourth
    beta = config.alif_beta
    a_new = a * rho + z_prev * one_minus_rho
    threshold = config.alif_theta + a_new * beta
    u_tilde = u * alpha + drive * one_minus_alpha
    s = u_tilde - threshold
    g = surrogate_grad(s, surrogate_name)
    u_new = u_tilde - z * threshold

    # da_t; ds_t = du~_t - beta da_t; du_t = du~_t - theta_t dz_t - z_t beta da_t.
    d_a = {"a": rho, "z": one_minus_rho}
    d_s = {"u": alpha, "a": -beta * rho, "z": -beta * one_minus_rho}
    diagonal[index["a"], index["a"]] = d_a["a"]
    diagonal[index["a"], index["z"]] = d_a["z"]
    for k in ("u", "a", "z"):
        diagonal[index["z"], index[k]] = g * d_s[k]
    diagonal[index["u"], index["u"]] = alpha - threshold * g * alpha
    diagonal[index["u"], index["a"]] = (threshold * g - z) * beta * rho
    diagonal[index["u"], index["z"]] = (threshold * g - z) * beta * one_minus_rho
    recurrent[index["u"]] = one_minus_alpha * (1.0 - threshold * g)
    recurrent[index["z"]] = g * one_minus_alpha
    return {"u": u_new, "a": a_new}, s, g, diagonal, recurrent


def _as_sequence(config, x):
    """Return one input sequence as a (T, n_in) float64 array."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 3 and x.shape[1] == 1:
        x = x[:, 0]
    if x.ndim != 2 or x.shape[1] != config.n_in or x.shape[0] < 1:
        raise RFSimError(f"x must be one input sequence of shape (T, n_in={config.n_in}) or (T, 1, n_in) "
                         f"with T >= 1, got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise RFSimError("x contains NaN or inf; give a finite input sequence")
    return x


def network_jacobians(net_config, params, x, *, mask=None):
    """Compute the one-step Jacobians of the whole hidden state along one input sequence.

    Parameters
    ----------
    net_config : rfsim.network.RSNNConfig
        The network; it is run in float64 whatever its ``dtype``.
    params : dict of str to ndarray
        Raw parameters under the authors' state-dict keys.
    x : ndarray, shape (T, n_in) or (T, 1, n_in)
        One input sequence.
    mask : ndarray, optional
        Recurrent pruning mask, (H, H) or (H, n_in + H).

    Returns
    -------
    StepJacobians
        J_t for t = 0, ..., T - 1 (see the module docstring for the state and indexing).
    """
    from rfsim.network import forward

    config = dataclasses.replace(net_config, dtype="float64")
    x = _as_sequence(config, x)
    # forward() checks the parameters and the mask, so they can be used directly below.
    record = forward(config, params, x[:, None, :], mask=mask, record=True).states
    raw = {key: np.asarray(value, dtype=np.float64) for key, value in params.items()}

    weight = raw["hidden.linear.weight"].copy()
    if mask is not None:
        mask = np.asarray(mask, dtype=np.float64)
        if mask.shape == weight.shape:
            weight *= mask
        else:
            weight[:, config.n_in:] *= mask
    w_in_t = np.ascontiguousarray(weight[:, :config.n_in].T)
    w_rec = np.ascontiguousarray(weight[:, config.n_in:])
    w_rec_t = np.ascontiguousarray(w_rec.T)
    bias = raw.get("hidden.linear.bias")
    cell = _cell_constants(config, raw)

    names = STATE_NAMES[config.model]
    recorded = {name: record[name][:, 0] for name in names}
    n_steps, n_hidden = x.shape[0], config.n_hidden
    diagonal = np.zeros((n_steps, len(names), len(names), n_hidden))
    recurrent = np.zeros((n_steps, len(names), n_hidden))
    surrogate = np.zeros((n_steps, n_hidden))
    replay_error = 0.0

    prev = {name: np.zeros(n_hidden) for name in names}
    for t in range(n_steps):
        drive = _drive(x[t], prev["z"], w_in_t, w_rec_t, bias)
        spikes = recorded["z"][t]
        recomputed, _, g, diagonal[t], recurrent[t] = _step_blocks(config, cell, prev, spikes, drive,
                                                                     config.surrogate)
        surrogate[t] = g
        for name, value in recomputed.items():
            with np.errstate(invalid="ignore"):
                error = np.max(np.abs(value - recorded[name][t]))
            replay_error = max(replay_error, float(error))
        prev = {name: recorded[name][t] for name in names}

    return StepJacobians(model=config.model, state_names=names, diagonal=diagonal, recurrent=recurrent,
                         w_rec=w_rec, surrogate=surrogate, spikes=recorded["z"].copy(), outputs=record["out"][:, 0].copy(),
                         replay_error=replay_error)


@dataclass(frozen=True)
class NetworkSpectra:
    """Spectra of the whole-network Jacobians along one sequence and the gradient norm against lag.

    Attributes
    ----------
    model : str
    state_names : tuple of str
    steps : ndarray of int, shape (S,)
        Steps t whose Jacobian was decomposed (every ``stride``-th step from 0).
    spectral_radius : ndarray, shape (S,)
        rho(J_t), the largest |eigenvalue| of the Jacobian at each of ``steps``.
    singular_values : ndarray, shape (S, n)
        Singular values of J_t in descending order (their scale depends on the
        units of the state variables, which are not normalised).
    gradient_norm : ndarray, shape (T,)
        Mean over the random vectors of ||w_{T-1-k}|| at lag k = 0, ..., T - 1; 1 at lag 0.
    gradient_norms : ndarray, shape (n_vectors, T)
        The same for each random unit vector.
    loss_gradient_norm : ndarray, shape (T,), or None
        ||dL_{T-1}/dS_{T-1-k}|| / ||dL_{T-1}/dS_{T-1}|| for the loss of the last step,
        when a target was given (NaN if the lag-0 adjoint is zero).
    surrogate_mean : ndarray, shape (T,)
        Mean surrogate derivative g(s_t) over the neurons at each step.
    spike_rate : float
        Hidden spikes per neuron and step along the sequence.
    replay_error : float
        See ``StepJacobians``.
    jacobians : StepJacobians
    """

    model: str
    state_names: tuple
    steps: np.ndarray
    spectral_radius: np.ndarray
    singular_values: np.ndarray
    gradient_norm: np.ndarray
    gradient_norms: np.ndarray
    loss_gradient_norm: np.ndarray | None
    surrogate_mean: np.ndarray
    spike_rate: float
    replay_error: float
    jacobians: StepJacobians

    @property
    def n_steps(self):
        """Number of steps T of the sequence."""
        return self.gradient_norm.shape[0]

    def gradient_ratio(self, lag):
        """Return the mean gradient norm at ``lag`` steps relative to lag 0 (NaN when lag >= T)."""
        if lag < 0:
            raise RFSimError(f"lag must be >= 0 steps, got {lag!r}")
        return float(self.gradient_norm[lag]) if lag < self.n_steps else float("nan")


def _step_spectra(jacobians, steps, chunk):
    """Return the spectral radius and singular values of J_t at ``steps``, decomposing ``chunk`` at once."""
    size = jacobians.size
    radius = np.full(steps.size, np.nan)
    singular = np.full((steps.size, size), np.nan)
    for start in range(0, steps.size, chunk):
        stop = min(start + chunk, steps.size)
        dense = np.stack([jacobians.dense(t) for t in steps[start:stop]])
        finite = np.flatnonzero(np.all(np.isfinite(dense), axis=(1, 2)))
        if finite.size:
            radius[start + finite] = np.max(np.abs(np.linalg.eigvals(dense[finite])), axis=1)
            singular[start + finite] = np.linalg.svd(dense[finite], compute_uv=False)
    return radius, singular


def _backward_norms(jacobians, start_vectors, injection=None):
    """Propagate adjoints w_{t-1} = J_t^T w_t (+ injection(t - 1)) from the last step; return norms by lag."""
    n_steps = jacobians.n_steps
    norms = np.empty((start_vectors.shape[1], n_steps))
    adjoint = start_vectors
    for lag in range(n_steps):
        t = n_steps - 1 - lag
        norms[:, lag] = np.linalg.norm(adjoint, axis=0)
        if t > 0:
            adjoint = jacobians.apply_transpose(t, adjoint)
            if injection is not None:
                adjoint = adjoint + injection(t - 1)
    return norms


def last_step_loss_adjoint(jacobians, params, target):
    """Return a function t -> dL_{T-1}/dS_t through the readout only, for the loss of the last step.

    L_{T-1} = -log softmax(o_{T-1})[target]. The readout o_t = alpha_o o_{t-1} +
    (1 - alpha_o)(W_o z_t + b_o) reaches z_t with the factor alpha_o^(T-1-t) (1 - alpha_o),
    so the direct adjoint of z_t is W_o^T (alpha_o^(T-1-t) (1 - alpha_o) delta) with
    delta = softmax(o_{T-1}) - onehot(target). The other state variables get zero.

    Returns
    -------
    callable
        ``injection(t)`` -> ndarray of shape (n, 1).
    """
    n_steps = jacobians.n_steps
    z_start = jacobians.state_names.index("z") * jacobians.n_hidden
    alpha_o = np.exp(-1.0 / np.abs(_param(params, "out.tau_mem")))
    w_out = _param(params, "out.linear.weight")

    last = jacobians.outputs[-1]
    delta = np.exp(last - np.max(last))
    delta /= delta.sum()
    delta[target] -= 1.0

    def injection(t):
        vector = np.zeros((jacobians.size, 1))
        leak = alpha_o ** (n_steps - 1 - t) * (1.0 - alpha_o)
        vector[z_start:z_start + jacobians.n_hidden, 0] = w_out.T @ (leak * delta)
        return vector

    return injection


def _check_count(name, value, meaning):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise RFSimError(f"{name} must be a positive integer ({meaning}), got {name}={value!r}")
    return int(value)


def network_spectra(net_config, params, x, *, target=None, mask=None, n_vectors=16, rng=None, stride=1,
                    chunk=64):
    """Compute the whole-network Jacobian spectra and the gradient norm against time lag.

    Parameters
    ----------
    net_config : rfsim.network.RSNNConfig
    params : dict of str to ndarray
        Raw parameters under the authors' state-dict keys.
    x : ndarray, shape (T, n_in) or (T, 1, n_in)
        One input sequence.
    target : int, optional
        Class label of the last step; with it the result includes the loss profile.
    mask : ndarray, optional
        Recurrent pruning mask.
    n_vectors : int, optional
        Random unit vectors (uniform on the sphere of the n-dimensional state) that
        are propagated backwards.
    rng : numpy.random.Generator or int, optional
        Source of the random vectors (None means seed 0).
    stride : int, optional
        Decompose the Jacobian of every ``stride``-th step only. An eigendecomposition
        costs O(n^3) for n = n_vars x H, so long sequences of large networks need a
        stride; the gradient propagation always covers every step.
    chunk : int, optional
        Steps whose dense Jacobians are decomposed at once (memory chunk x n^2 x 8 bytes).

    Returns
    -------
    NetworkSpectra

    Notes
    -----
    The eigenvalues and singular values of the dense J_t dominate the cost. For the
    ECG network (H = 36, n = 144, T = 1300) ``rfsim spectral`` took 21 s on one core
    of a shared 2-core machine with OPENBLAS_NUM_THREADS=1. Without that setting,
    OpenBLAS threads competing with other processes made ``numpy.linalg.eigvals``
    about 9 times slower there.
    """
    from rfsim.data.dataset import as_rng

    n_vectors = _check_count("n_vectors", n_vectors, "random vectors")
    stride = _check_count("stride", stride, "steps between decomposed Jacobians")
    chunk = _check_count("chunk", chunk, "steps per decomposition batch")
    if target is not None and (isinstance(target, bool) or not isinstance(target, (int, np.integer))
                               or not 0 <= target < net_config.n_out):
        raise RFSimError(f"target must be a class index in [0, {net_config.n_out}), got {target!r}")
    rng = as_rng(rng)

    jacobians = network_jacobians(net_config, params, x, mask=mask)
    steps = np.arange(0, jacobians.n_steps, stride)
    radius, singular = _step_spectra(jacobians, steps, chunk)

    start = rng.standard_normal((jacobians.size, n_vectors))
    start /= np.linalg.norm(start, axis=0)
    norms = _backward_norms(jacobians, start)

    loss_norm = None
    if target is not None:
        injection = last_step_loss_adjoint(jacobians, params, int(target))
        loss_norms = _backward_norms(jacobians, injection(jacobians.n_steps - 1), injection)[0]
        loss_norm = loss_norms / loss_norms[0] if loss_norms[0] > 0 else np.full(jacobians.n_steps, np.nan)

    return NetworkSpectra(
        model=jacobians.model, state_names=jacobians.state_names, steps=steps, spectral_radius=radius,
        singular_values=singular, gradient_norm=norms.mean(axis=0), gradient_norms=norms,
        loss_gradient_norm=loss_norm, surrogate_mean=jacobians.surrogate.mean(axis=1),
        spike_rate=float(jacobians.spikes.mean()), replay_error=jacobians.replay_error, jacobians=jacobians,
    )


# --- checkpoints, summaries and files -------------------------------------------------------


@dataclass(frozen=True)
class SpectralReport:
    """Per-neuron and whole-network spectra of one checkpoint along one sequence.

    Attributes
    ----------
    name : str
        Short label of the checkpoint (run folder and file name).
    path : pathlib.Path
        The checkpoint file.
    model : str
        Hidden model.
    split : str
        Dataset split of the sequence.
    sample : int
        Index of the sequence in the split.
    hidden : NeuronSpectra
        Hidden neurons at q = 0 (first row) and at the refractory values after a spike.
    readout : NeuronSpectra
        The leaky-integrator readout (``'li'``).
    network : NetworkSpectra
        Whole-network Jacobians along the sequence.
    """

    name: str
    path: object
    model: str
    split: str
    sample: int
    hidden: NeuronSpectra
    readout: NeuronSpectra
    network: NetworkSpectra


def spectral_report(path, *, task=None, split="test", sample=0, n_steps=None, data_dir=None, refractory_steps=(0,),
                    n_vectors=16, rng=None, stride=1):
    """Analyse one checkpoint: per-neuron spectra and whole-network spectra on one sequence.

    Parameters
    ----------
    path : str or Path
        Checkpoint ``.npz`` written by ``rfsim train`` (its ``.json`` sidecar beside it).
    task : str, optional
        Task whose sequence drives the network (default: the checkpoint's task).
    split : {'test', 'valid', 'train'}
        Dataset split of the sequence.
    sample : int
        Index of the sequence within the split.
    n_steps : int, optional
        Analyse only the first ``n_steps`` steps of the sequence.
    data_dir : str or Path, optional
        Folder with local dataset files.
    refractory_steps : sequence of int
        Steps k after a single spike at which the per-neuron Jacobian is also
        evaluated, with q = gamma^k (k = 0 is the step right after the spike, q = 1).
    n_vectors : int
        Random unit vectors propagated backwards.
    rng : numpy.random.Generator or int, optional
        Source of the random vectors (None means seed 0).
    stride : int
        Decompose every ``stride``-th step's Jacobian (see ``network_spectra``).

    Returns
    -------
    SpectralReport
    """
    from rfsim.analysis._checkpoints import load_analysis_checkpoint, select_sequences

    if isinstance(sample, bool) or not isinstance(sample, (int, np.integer)):
        raise RFSimError(f"sample must be an integer sequence index, got {sample!r}")
    checkpoint = load_analysis_checkpoint(path, task=task, data_dir=data_dir)
    x, labels = select_sequences(checkpoint, split, [int(sample)], n_steps)
    target = int(labels[-1, 0]) if labels.ndim == 2 else int(labels[0])

    net_config = checkpoint.net_config
    q = np.concatenate([[0.0], refractory_values(net_config.gamma, refractory_steps)])
    hidden = hidden_neuron_spectra(net_config, checkpoint.params, q=q)
    readout = readout_spectra(checkpoint.params)
    network = network_spectra(net_config, checkpoint.params, x, target=target, mask=checkpoint.mask,
                              n_vectors=n_vectors, rng=rng, stride=stride)
    return SpectralReport(name=checkpoint.name, path=checkpoint.path, model=checkpoint.model, split=split,
                          sample=int(sample), hidden=hidden, readout=readout, network=network)


@dataclass(frozen=True)
class SpectralSummary:
    """One row of the comparison table of checkpoints.

    Attributes
    ----------
    name, model : str
    n_hidden, n_steps : int
    median_radius, max_radius : float
        Median and maximum per-neuron spectral radius at q = 0.
    fraction_outside : float
        Fraction of hidden neurons outside the convergence region at q = 0 (NaN for
        ALIF, whose Jacobian alpha always lies in [0, 1)).
    n_flagged : int
        Hidden neurons outside the region at any evaluated q.
    mean_network_radius, max_network_radius : float
        Mean and maximum of rho(J_t) over the decomposed steps.
    spike_rate : float
        Hidden spikes per neuron and step.
    lags : tuple of int
    gradient_ratios : tuple of float
        Mean random-vector gradient norm at each lag relative to lag 0 (NaN beyond T - 1).
    loss_gradient_ratios : tuple of float
        The same for the adjoint of the last step's loss.
    """

    name: str
    model: str
    n_hidden: int
    n_steps: int
    median_radius: float
    max_radius: float
    fraction_outside: float
    n_flagged: int
    mean_network_radius: float
    max_network_radius: float
    spike_rate: float
    lags: tuple
    gradient_ratios: tuple
    loss_gradient_ratios: tuple


def summarize_spectra(report, lags=DEFAULT_LAGS):
    """Reduce a ``SpectralReport`` to one ``SpectralSummary`` row."""
    lags = tuple(int(lag) for lag in lags)
    if any(lag < 0 for lag in lags):
        raise RFSimError(f"lags must be >= 0 steps, got {lags!r}")
    hidden, network = report.hidden, report.network
    at_rest = hidden.spectral_radius[0]
    fraction = float(hidden.outside_region[0].mean()) if hidden.offset_high is not None else float("nan")
    loss = network.loss_gradient_norm

    def at_lag(profile, lag):
        return float(profile[lag]) if profile is not None and lag < profile.shape[0] else float("nan")

    return SpectralSummary(
        name=report.name, model=report.model, n_hidden=hidden.n_neurons, n_steps=network.n_steps,
        median_radius=float(np.median(at_rest)), max_radius=float(np.max(at_rest)), fraction_outside=fraction,
        n_flagged=int(hidden.flagged_neurons().size), mean_network_radius=float(np.nanmean(network.spectral_radius)),
        max_network_radius=float(np.nanmax(network.spectral_radius)), spike_rate=network.spike_rate, lags=lags,
        gradient_ratios=tuple(at_lag(network.gradient_norm, lag) for lag in lags),
        loss_gradient_ratios=tuple(at_lag(loss, lag) for lag in lags),
    )


def _format_value(value, spec=".4g"):
    return "n/a" if value is None or not np.isfinite(value) else format(value, spec)


def format_neuron_summary(report):
    """Return the per-neuron summary of one report as printable lines (str).

    One line per evaluated q with the median and maximum spectral radius and the
    number of neurons outside the convergence region, the readout's alpha range,
    and one line per flagged neuron.
    """
    hidden = report.hidden
    lines = [f"{report.name}: {report.model}, {hidden.n_neurons} hidden neurons"
             + (f", dt = {hidden.dt:g} s" if hidden.omega is not None else "")]
    lines.append(f"  per-neuron spectral radius of the one-step Jacobian "
                 f"({'2x2 in (u, v)' if hidden.omega is not None else '1x1 alpha = exp(-1/|tau_mem|)'}):")
    rows = range(hidden.q.size) if hidden.has_refractory else range(1)
    for row in rows:
        label = f"q = {hidden.q[row]:<8.4g}" if hidden.has_refractory else "(no q)    "
        outside = "n/a" if hidden.offset_high is None else str(int(hidden.outside_region[row].sum()))
        lines.append(f"    {label} median {np.median(hidden.spectral_radius[row]):.6f}  "
                     f"max {np.max(hidden.spectral_radius[row]):.6f}  outside the region: {outside}")
    readout = report.readout.spectral_radius[0]
    lines.append(f"  readout (LI) alpha: min {readout.min():.6f}  max {readout.max():.6f}")

    if hidden.offset_high is None:
        return "\n".join(lines)
    flagged = hidden.flagged_neurons()
    if flagged.size == 0:
        what = "b_offset + q" if hidden.has_refractory else "b_offset"
        lines.append(f"  no neuron has {what} outside its convergence interval")
        return "\n".join(lines)
    lines.append(f"  flagged neurons ({flagged.size}): outside the convergence interval at some q")
    lines.append(f"    {'neuron':>6}  {'omega [rad/s]':>13}  {'b_offset [1/s]':>14}  {'q':>6}  "
                 f"{'interval [1/s]':>22}  {'radius':>8}")
    for i in flagged:
        # Without a refractory variable every q row is the same, so one line per neuron suffices.
        outside_rows = np.flatnonzero(hidden.outside_region[:, i]) if hidden.has_refractory else [0]
        for row in outside_rows:
            q_text = f"{hidden.q[row]:.3g}" if hidden.has_refractory else "-"
            interval = f"[{hidden.offset_low[i]:.4g}, {hidden.offset_high[i]:.4g}]"
            lines.append(f"    {i:>6}  {hidden.omega[i]:>13.5g}  {hidden.b_offset[i]:>14.5g}  "
                         f"{q_text:>6}  {interval:>22}  {hidden.spectral_radius[row, i]:>8.5f}")
    return "\n".join(lines)


def format_comparison(summaries):
    """Return the comparison table of one or more ``SpectralSummary`` rows as a str."""
    summaries = list(summaries)
    if not summaries:
        raise RFSimError("summaries is empty: give at least one checkpoint summary")
    lags = summaries[0].lags
    width = max(10, *(len(summary.name) for summary in summaries))
    header = (f"{'checkpoint':<{width}}  {'model':<5}  {'H':>4}  {'T':>5}  {'rho med':>8}  {'rho max':>8}  "
              f"{'outside':>7}  {'net rho':>8}  {'net max':>8}  {'spikes':>7}"
              + "".join(f"  {'|g| @' + str(lag):>9}" for lag in lags)
              + "".join(f"  {'loss @' + str(lag):>9}" for lag in lags))
    lines = [header]
    for summary in summaries:
        outside = "n/a" if not np.isfinite(summary.fraction_outside) else f"{100 * summary.fraction_outside:.1f}%"
        lines.append(
            f"{summary.name:<{width}}  {summary.model:<5}  {summary.n_hidden:>4}  {summary.n_steps:>5}  "
            f"{summary.median_radius:>8.5f}  {summary.max_radius:>8.5f}  {outside:>7}  "
            f"{summary.mean_network_radius:>8.5f}  {summary.max_network_radius:>8.5f}  {summary.spike_rate:>7.4f}"
            + "".join(f"  {_format_value(value, '.3e'):>9}" for value in summary.gradient_ratios)
            + "".join(f"  {_format_value(value, '.3e'):>9}" for value in summary.loss_gradient_ratios))
    lines.append("rho: per-neuron spectral radius at q = 0; outside: neurons outside the convergence region; "
                 "net rho: mean over steps of rho(J_t) of the whole network; spikes: per neuron and step; "
                 "|g| @ k: back-propagated norm of random unit vectors after k steps; loss @ k: the same for "
                 "the last step's loss gradient (both relative to lag 0).")
    return "\n".join(lines)


OUTPUT_SUFFIXES = (".csv", ".npz")
"""File types that ``save_spectral_reports`` writes."""


def check_output_path(path):
    """Raise ``RFSimError`` unless ``path`` ends in .csv or .npz."""
    import os

    suffix = os.path.splitext(os.fspath(path))[1].lower()
    if suffix not in OUTPUT_SUFFIXES:
        raise RFSimError(f"output file {os.fspath(path)!r} must end in .csv (long table) or .npz (all arrays), "
                         f"got suffix {suffix or 'none'!r}")
    return suffix


def _report_rows(report, summary):
    """Yield (table, index, q, quantity, value) rows of one report for the long CSV table."""
    hidden, network = report.hidden, report.network
    names = ("omega", "b_offset") if hidden.omega is not None else ("tau_mem",)
    for i in range(hidden.n_neurons):
        for name in names:
            yield "neuron", i, None, name, getattr(hidden, name)[i]
        if hidden.offset_high is not None:
            yield "neuron", i, None, "offset_low", hidden.offset_low[i]
            yield "neuron", i, None, "offset_high", hidden.offset_high[i]
        for row, q in enumerate(hidden.q):
            yield "neuron", i, q, "spectral_radius", hidden.spectral_radius[row, i]
            yield "neuron", i, q, "outside_region", int(hidden.outside_region[row, i])
    for c in range(report.readout.n_neurons):
        yield "readout", c, None, "tau_mem", report.readout.tau_mem[c]
        yield "readout", c, None, "spectral_radius", report.readout.spectral_radius[0, c]
    for k, t in enumerate(network.steps):
        yield "step", t, None, "spectral_radius", network.spectral_radius[k]
        yield "step", t, None, "sigma_max", network.singular_values[k, 0]
        yield "step", t, None, "sigma_min", network.singular_values[k, -1]
    for t in range(network.n_steps):
        yield "step", t, None, "surrogate_mean", network.surrogate_mean[t]
    for lag in range(network.n_steps):
        yield "lag", lag, None, "gradient_norm", network.gradient_norm[lag]
        if network.loss_gradient_norm is not None:
            yield "lag", lag, None, "loss_gradient_norm", network.loss_gradient_norm[lag]
    for field in dataclasses.fields(summary):
        value = getattr(summary, field.name)
        if field.name in ("name", "model", "lags", "gradient_ratios", "loss_gradient_ratios"):
            continue
        yield "summary", None, None, field.name, value
    for lag, ratio, loss in zip(summary.lags, summary.gradient_ratios, summary.loss_gradient_ratios):
        yield "summary", lag, None, "gradient_ratio", ratio
        yield "summary", lag, None, "loss_gradient_ratio", loss


def save_spectral_reports(reports, path, lags=DEFAULT_LAGS):
    """Write one or more ``SpectralReport`` to a CSV or NPZ file, chosen by the suffix.

    ``.csv``: a long table with the columns checkpoint, model, table, index, q,
    quantity, value. The ``table`` column names the part: ``neuron`` (index: the
    neuron, with q on the spectral radius and flag rows), ``readout``, ``step``
    (index: the step t), ``lag`` (index: the lag k) or ``summary`` (index: the lag
    of a gradient ratio).

    ``.npz``: every array, under keys ``"<k>/hidden/<attribute>"``,
    ``"<k>/readout/<attribute>"`` and ``"<k>/network/<attribute>"`` for the k-th
    report, plus ``names`` and ``models``.

    Raises
    ------
    RFSimError
        For another suffix, or if the file cannot be written.
    """
    import csv
    import os

    reports = list(reports)
    if not reports:
        raise RFSimError("reports is empty: give at least one spectral report to save")
    suffix = check_output_path(path)
    path = os.fspath(path)

    if suffix == ".npz":
        from rfsim.training.checkpoint import save_npz_or_raise

        arrays = {"names": np.array([report.name for report in reports]),
                  "models": np.array([report.model for report in reports])}
        for k, report in enumerate(reports):
            for part in ("hidden", "readout", "network"):
                spectra = getattr(report, part)
                for field in dataclasses.fields(spectra):
                    value = getattr(spectra, field.name)
                    if isinstance(value, np.ndarray):
                        arrays[f"{k}/{part}/{field.name}"] = value
        save_npz_or_raise(path, arrays, "spectral arrays")
        return

    try:
        with open(path, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["checkpoint", "model", "table", "index", "q", "quantity", "value"])
            for report in reports:
                summary = summarize_spectra(report, lags)
                for table, index, q, quantity, value in _report_rows(report, summary):
                    q_text = "" if q is None else repr(float(q))
                    index_text = "" if index is None else int(index)
                    value_text = int(value) if isinstance(value, (int, np.integer)) else repr(float(value))
                    writer.writerow([report.name, report.model, table, index_text, q_text, quantity, value_text])
    except OSError as error:
        raise RFSimError(f"failed to write spectral table {path}: {error}") from error
