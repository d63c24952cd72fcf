"""Simulate single neurons of any rfsim model: ``simulate`` and ``save_trace``.

``simulate`` validates its arguments, allocates the outputs, runs the model's
Numba kernel and returns a ``Trace``. The model equations are stated in the
modules ``rf``, ``brf``, ``hrf`` and ``alif`` of this package. The parameter
``b_offset`` [1/s] always deepens the damping when it grows:

=========  ==========================================================================
model      damping used in step t
=========  ==========================================================================
``rf``     b = -b_offset (constant; the authors' vanilla RF)
``brf``    b_t = p(omega) - b_offset - q_{t-1} (switches in ``rfsim.neurons.brf``)
``hrf``    b = b_offset (constant, positive damping of the harmonic form)
``bhrf``   b_t = p_h(omega) + b_offset + q_{t-1} (or the paper's signs)
``alif``   none (unit time step; tau_mem and tau_adp in steps)
``li``     none (leaky integrator, tau_mem in steps, never spikes)
=========  ==========================================================================

"The paper" is Higuchi et al., "Balanced Resonate-and-Fire Neurons" (ICML 2024), and
"the authors' implementation" is its public PyTorch code, AdaptiveAILab/brf-neurons.
"""

import dataclasses
import json
import os
import warnings

import numpy as np

from rfsim.errors import DivergenceWarning, RFSimError
from rfsim.neurons.alif import (
    ALIF_BETA,
    ALIF_RESET_CODES,
    ALIF_THETA_0,
    alif_block,
    alif_kernel,
    decay_factor,
    li_block,
    li_kernel,
)
from rfsim.neurons.brf import brf_block, brf_kernel
from rfsim.neurons.hrf import (
    BOUNDARIES,
    ORDER_CODES,
    SIGN_CODES,
    bhrf_block,
    bhrf_kernel,
    harmonic_spectral_radius,
    hrf_block,
    hrf_kernel,
    p_h_omega,
)
from rfsim.neurons.rf import NEURON_BLOCK, RESET_CODES, SCHEME_CODES, neuron_block_size, rf_block, rf_kernel
from rfsim.stability import b_offset_interval, check_b_offset, check_dt, check_omega, p_omega

MODELS = ("rf", "brf", "hrf", "bhrf", "alif", "li")
"""Names of the models that ``simulate`` accepts."""

RF_FAMILY = ("rf", "brf")
"""Models whose membrane u is complex."""

HARMONIC = ("hrf", "bhrf")
"""Models with a velocity-like u and a position-like v."""

SPIKE_ON = ("real", "imag")
"""Names of the RF membrane parts that the threshold can act on."""

SPECTRAL_RADIUS_SLACK = 1e-12
"""Relative rounding slack allowed above |eigenvalue| = 1 before a harmonic neuron counts as divergent."""


@dataclasses.dataclass(frozen=True)
class Trace:
    """Result of ``simulate``: the state of every neuron after every step.

    Arrays have shape (T,) for a 1-D input and (T, N) for N neurons. Step n is
    at time t[n] = n*dt; every state is recorded after the step.

    Attributes
    ----------
    model : str
        Model name.
    dt : float
        Time step [s].
    t : ndarray, shape (T,)
        Time of each step [s].
    I : ndarray
        Input current.
    u : ndarray
        Membrane: complex u = Re u + i*Im u for ``rf``/``brf`` (after the reset);
        the velocity-like variable for ``hrf``/``bhrf``; the membrane after the
        reset for ``alif``; the integrator output for ``li``.
    v : ndarray or None
        Im u for ``rf``/``brf``; the position-like variable for ``hrf``/``bhrf``;
        None otherwise.
    q : ndarray or None
        Refractory variable for ``brf``/``bhrf``, None otherwise.
    a : ndarray or None
        Threshold adaptation for ``alif``, None otherwise.
    z : ndarray
        Spikes (0.0 or 1.0); all zero for ``li``.
    b : ndarray or None
        Damping used in each step [1/s] (see the module table), None for
        ``alif`` and ``li``.
    threshold : ndarray or None
        Threshold used in each step, None for ``li``.
    spike_times : ndarray or tuple of ndarray
        Spike times [s]: one array for a 1-D input, a tuple with one array per
        neuron otherwise.
    parameters : dict
        The model parameters and options used, as plain Python values.
    """

    model: str
    dt: float
    t: np.ndarray
    I: np.ndarray
    u: np.ndarray
    v: np.ndarray | None
    q: np.ndarray | None
    a: np.ndarray | None
    z: np.ndarray
    b: np.ndarray | None
    threshold: np.ndarray | None
    spike_times: np.ndarray | tuple
    parameters: dict


def _check_choice(name, value, choices):
    if value not in choices:
        raise RFSimError(f"{name} must be one of {', '.join(map(repr, choices))}, got {name}={value!r}")


def _check_finite(name, value):
    array = np.asarray(value, dtype=float)
    bad = ~np.isfinite(array)
    if bad.any():
        raise RFSimError(f"{name} must be finite, got {name}={float(array.flat[np.flatnonzero(bad)[0]])!r}")


def _as_input(I):
    """Validate the input current; return it as a float64 (T, N) array and whether it was 1-D."""
    if np.iscomplexobj(I):
        raise RFSimError("I must be a real input current; got complex values")
    try:
        current = np.asarray(I, dtype=float)
    except (TypeError, ValueError) as error:
        raise RFSimError(f"I must be an array of numbers with shape (T,) or (T, N): {error}") from error

    if current.ndim not in (1, 2):
        raise RFSimError(f"I must have shape (T,) for one neuron or (T, N) for N neurons, got shape {current.shape}")
    if current.shape[0] == 0 or current.size == 0:
        raise RFSimError(f"I must hold at least one step and one neuron, got shape {current.shape}")
    if not np.all(np.isfinite(current)):
        index = np.argwhere(~np.isfinite(current))[0]
        raise RFSimError(
            f"I contains a non-finite value {float(current[tuple(index)])!r} at index {tuple(int(i) for i in index)}; "
            "every input value must be finite"
        )

    single = current.ndim == 1
    return np.ascontiguousarray(current.reshape(current.shape[0], -1)), single


def _per_neuron(name, value, n_neurons):
    """Broadcast a scalar or per-neuron parameter to a float64 array of shape (N,)."""
    array = np.asarray(value, dtype=float)
    if array.ndim == 0:
        array = np.full(n_neurons, float(array))
    elif array.shape != (n_neurons,):
        raise RFSimError(
            f"{name} must be a scalar or have shape ({n_neurons},) for {n_neurons} neurons, got shape {array.shape}"
        )
    _check_finite(name, array)
    return np.ascontiguousarray(array)


def _check_positive_omega(omega):
    bad = omega <= 0
    if bad.any():
        value = float(omega[np.flatnonzero(bad)[0]])
        raise RFSimError(f"omega must be a finite positive angular frequency in rad/s, got omega={value!r}")


def _rf_divergence(omega, b_offset, dt, scheme):
    """Return a message if the RF neuron with b = -b_offset diverges, else None."""
    if scheme == "exact":
        bad = b_offset < 0
        if not bad.any():
            return None
        value = b_offset[np.flatnonzero(bad)[0]]
        return (
            f"b_offset={value:g} 1/s gives the damping b = -b_offset > 0, and the exact-exponential RF "
            "diverges for every b > 0; choose b_offset >= 0"
        )

    # |1 + dt*(b + i*omega)| <= 1 with b = -b_offset exactly for b_offset in [-p, -p + 2r/dt].
    low = -p_omega(omega, dt)
    high = low + b_offset_interval(omega, dt)[1]
    bad = (b_offset < low) | (b_offset > high)
    if not bad.any():
        return None
    k = np.flatnonzero(bad)[0]
    return (
        f"b_offset={b_offset[k]:g} 1/s gives the constant damping b = -b_offset, and the Euler RF at "
        f"omega={omega[k]:g} rad/s, dt={dt:g} s converges only for b_offset in [{low[k]:g}, {high[k]:g}] 1/s "
        "(|1 + dt*(b + i*omega)| <= 1), so the neuron diverges; choose b_offset inside that interval "
        "or use the exact scheme (scheme='exact')"
    )


def _harmonic_divergence(omega, b, dt, order):
    """Return a message if the free harmonic step with damping b diverges, else None."""
    radius = np.atleast_1d(harmonic_spectral_radius(omega, b, dt, order))
    bad = radius > 1.0 + SPECTRAL_RADIUS_SLACK
    if not bad.any():
        return None
    k = np.flatnonzero(bad)[0]
    return (
        f"the harmonic neuron at omega={omega[k]:g} rad/s, dt={dt:g} s with damping b={b[k]:g} 1/s "
        f"({order} order) has a free-step eigenvalue of modulus {radius[k]:.6g} > 1, so it diverges; "
        "increase the damping (b_offset) or lower omega*dt"
    )


def _spike_times(z, dt):
    """Return one array of spike times [s] per neuron of a (T, N) spike array."""
    neurons, steps = np.nonzero(z.T)
    counts = np.bincount(neurons, minlength=z.shape[1])
    return tuple(np.split(steps * dt, np.cumsum(counts)[:-1]))


def _previous(q):
    """Return q shifted by one step (q_{t-1}, zero at t = 0)."""
    shifted = np.zeros_like(q)
    shifted[1:] = q[:-1]
    return shifted


def _launch(kernel, block, n_neurons, *args):
    """Run a many-neuron kernel, or its one-thread block function when one block covers all neurons.

    A single block gains nothing from the thread pool, and on a busy machine
    the pool's idle threads only slow the working one down.
    """
    if n_neurons <= NEURON_BLOCK:
        block(*args, 0, n_neurons)
    else:
        kernel(*args, neuron_block_size(n_neurons))


def _run_rf(current, omega, b_offset, dt, theta, options):
    b = -b_offset
    # The kernel writes Re u and Im u straight into the complex trace.
    u = np.zeros(current.shape, dtype=complex)
    z = np.zeros(current.shape)
    _launch(
        rf_kernel, rf_block, current.shape[1],
        current, omega, b, dt, theta, RESET_CODES[options["reset"]], options["spike_on"] == "imag",
        SCHEME_CODES[options["scheme"]], u.real, u.imag, z,
    )
    b = np.broadcast_to(b, z.shape).copy()
    return dict(u=u, v=u.imag, z=z, b=b, threshold=np.full(z.shape, theta))


def _run_brf(current, omega, b_offset, dt, theta, gamma, options):
    use_boundary, use_refractory, use_smooth_reset = (
        options["use_boundary"], options["use_refractory"], options["use_smooth_reset"]
    )
    p = np.atleast_1d(p_omega(omega, dt)) if use_boundary else np.zeros_like(omega)
    u = np.zeros(current.shape, dtype=complex)
    q, z, b = (np.zeros(current.shape) for _ in range(3))
    _launch(
        brf_kernel, brf_block, current.shape[1],
        current, omega, p, b_offset, dt, theta, gamma, use_boundary, use_refractory, use_smooth_reset,
        u.real, u.imag, q, z, b,
    )
    threshold = theta + (_previous(q) if use_refractory else np.zeros_like(q))
    return dict(u=u, v=u.imag, q=q, z=z, b=b, threshold=threshold)


def _run_hrf(current, omega, b_offset, dt, theta, options):
    u, v, z = (np.zeros(current.shape) for _ in range(3))
    _launch(
        hrf_kernel, hrf_block, current.shape[1],
        current, omega, b_offset, dt, theta, ORDER_CODES[options["order"]], u, v, z,
    )
    return dict(u=u, v=v, z=z, b=np.broadcast_to(b_offset, z.shape).copy(), threshold=np.full(z.shape, theta))


def _run_bhrf(current, omega, p_h, b_offset, dt, theta, gamma, options):
    u, v, q, z, b = (np.zeros(current.shape) for _ in range(5))
    _launch(
        bhrf_kernel, bhrf_block, current.shape[1],
        current, omega, p_h, b_offset, dt, theta, gamma, ORDER_CODES[options["order"]],
        SIGN_CODES[options["damping_sign"]], u, v, q, z, b,
    )
    return dict(u=u, v=v, q=q, z=z, b=b, threshold=theta + _previous(q))


def _run_alif(current, tau_mem, tau_adp, theta, beta, alif_reset):
    alpha = np.ascontiguousarray(decay_factor(tau_mem))
    rho = np.ascontiguousarray(decay_factor(tau_adp))
    u, a, z = (np.zeros(current.shape) for _ in range(3))
    _launch(
        alif_kernel, alif_block, current.shape[1],
        current, alpha, rho, theta, beta, ALIF_RESET_CODES[alif_reset], u, a, z,
    )
    return dict(u=u, a=a, z=z, threshold=theta + beta * a)


def _run_li(current, tau_mem):
    o = np.zeros(current.shape)
    _launch(li_kernel, li_block, current.shape[1], current, np.ascontiguousarray(decay_factor(tau_mem)), o)
    return dict(u=o, z=np.zeros(current.shape))


def _per_neuron_time_constant(name, value, n_neurons):
    tau = _per_neuron(name, value, n_neurons)
    if np.any(tau == 0):
        raise RFSimError(f"{name} must be non-zero (a time constant in steps), got {name}=0")
    return tau


def _plain(value, single):
    """Convert a per-neuron parameter to a JSON-friendly value (a float for a single neuron)."""
    if single:
        return float(value[0])
    return np.asarray(value).tolist()


def simulate(
    model,
    I,
    *,
    omega=10.0,
    b_offset=1.0,
    dt=0.01,
    theta=None,
    gamma=0.9,
    reset="none",
    spike_on="real",
    scheme="euler",
    use_boundary=True,
    use_refractory=True,
    use_smooth_reset=True,
    order="implementation",
    damping_sign="implementation",
    boundary="implementation",
    tau_mem=20.0,
    tau_adp=20.0,
    beta=ALIF_BETA,
    alif_reset="implementation",
    allow_divergent=False,
):
    """Simulate one or many independent neurons of one model from a zero state.

    Parameters
    ----------
    model : {"rf", "brf", "hrf", "bhrf", "alif", "li"}
        Neuron model (module table above).
    I : array_like, shape (T,) or (T, N)
        Input current per step, for one neuron or for N independent neurons.
    omega : float or array_like (N,)
        Angular frequency [rad/s] (RF family and harmonic models).
    b_offset : float or array_like (N,)
        Damping offset [1/s] (RF family and harmonic models).
    dt : float
        Time step [s]. ALIF and LI use a unit step; dt only sets their time axis.
    theta : float, optional
        Threshold (base threshold theta_c for BRF/BHRF). Defaults to 1.0, or to
        0.01 for ALIF.
    gamma : float
        Decay factor of q per step (BRF, BHRF), in [0, 1].
    reset : {"none", "soft", "hard"}
        RF reset (``rfsim.neurons.rf``).
    spike_on : {"real", "imag"}
        Part of the RF membrane compared with the threshold.
    scheme : {"euler", "exact"}
        RF discretisation.
    use_boundary, use_refractory, use_smooth_reset : bool
        BRF ablation switches (``rfsim.neurons.brf``).
    order : {"implementation", "paper"}
        Harmonic update order (HRF, BHRF): the authors' semi-implicit order or
        the paper's explicit Euler (``rfsim.neurons.hrf``).
    damping_sign : {"implementation", "paper"}
        BHRF damping p_h + b_offset + q (implementation) or p_h - b_offset - q
        (the paper's literal equation).
    boundary : {"implementation", "sustained"}
        BHRF p_h(omega): dt*omega**2/2, or the sustained-oscillation damping
        of the chosen order.
    tau_mem, tau_adp : float or array_like (N,)
        ALIF membrane and adaptation time constants [steps]; ``tau_mem`` is
        also the LI time constant. Used through their absolute value, as in
        the authors' implementation.
    beta : float
        ALIF adaptation strength.
    alif_reset : {"implementation", "next_step"}
        ALIF soft reset in the same step (authors' code) or in the next
        membrane update (Yin et al., 2021).
    allow_divergent : bool
        If True, parameters for which the free dynamics diverge give a
        ``DivergenceWarning`` instead of an error.

    Returns
    -------
    Trace

    Raises
    ------
    RFSimError
        For an unknown model or option, a non-finite or badly shaped input or
        parameter, dt <= 0, omega <= 0, omega*dt > 1 where p(omega) or the Euler
        RF needs omega*dt <= 1, gamma outside [0, 1], a zero time constant, or
        divergent parameters without ``allow_divergent``. The divergence check
        uses q = 0; a growing q only deepens the damping.

    Examples
    --------
    >>> import numpy as np
    >>> from rfsim.neurons import simulate
    >>> I = np.zeros(500)
    >>> I[[40, 102, 164, 226, 288]] = 80.0
    >>> trace = simulate("brf", I, omega=10.0, b_offset=1.0, dt=0.01)
    >>> np.flatnonzero(trace.z).tolist()
    [102, 164, 226, 288]
    """
    _check_choice("model", model, MODELS)
    _check_choice("reset", reset, tuple(RESET_CODES))
    _check_choice("spike_on", spike_on, SPIKE_ON)
    _check_choice("scheme", scheme, tuple(SCHEME_CODES))
    _check_choice("order", order, tuple(ORDER_CODES))
    _check_choice("damping_sign", damping_sign, tuple(SIGN_CODES))
    _check_choice("boundary", boundary, BOUNDARIES)
    _check_choice("alif_reset", alif_reset, tuple(ALIF_RESET_CODES))
    check_dt(dt)
    dt = float(dt)
    if theta is None:
        theta = ALIF_THETA_0 if model == "alif" else 1.0
    _check_finite("theta", theta)
    _check_finite("beta", beta)
    _check_finite("gamma", gamma)
    if not 0.0 <= gamma <= 1.0:
        raise RFSimError(f"gamma must lie in [0, 1] (decay of q per step), got gamma={gamma!r}")
    theta, gamma, beta = float(theta), float(gamma), float(beta)

    current, single = _as_input(I)
    n_steps, n_neurons = current.shape
    parameters = {"model": model, "dt": dt, "theta": theta}
    options = dict(
        reset=reset, spike_on=spike_on, scheme=scheme, use_boundary=bool(use_boundary),
        use_refractory=bool(use_refractory), use_smooth_reset=bool(use_smooth_reset), order=order,
        damping_sign=damping_sign, boundary=boundary,
    )

    # Per-neuron parameters and the divergence check (at q = 0: a growing q only deepens the damping).
    message = None
    if model in RF_FAMILY or model in HARMONIC:
        omega = _per_neuron("omega", omega, n_neurons)
        b_offset = _per_neuron("b_offset", b_offset, n_neurons)
        parameters.update(omega=_plain(omega, single), b_offset=_plain(b_offset, single))
        _check_positive_omega(omega)
        if model == "brf" or (model == "rf" and scheme == "euler"):
            check_omega(omega, dt)
    if model == "rf":
        message = _rf_divergence(omega, b_offset, dt, scheme)
    elif model == "brf" and use_boundary:
        # Warns with stacklevel=3, which is the caller of this function.
        check_b_offset(omega, b_offset, dt, allow_divergent=allow_divergent)
    elif model == "brf":
        message = _rf_divergence(omega, b_offset, dt, "euler")
    elif model == "hrf":
        message = _harmonic_divergence(omega, b_offset, dt, order)
    elif model == "bhrf":
        p_h = np.ascontiguousarray(np.broadcast_to(p_h_omega(omega, dt, order, boundary), (n_neurons,)))
        sign = -1.0 if damping_sign == "paper" else 1.0
        message = _harmonic_divergence(omega, p_h + sign * b_offset, dt, order)
    else:
        tau_mem = _per_neuron_time_constant("tau_mem", tau_mem, n_neurons)
        parameters["tau_mem"] = _plain(tau_mem, single)
        if model == "alif":
            tau_adp = _per_neuron_time_constant("tau_adp", tau_adp, n_neurons)
            parameters.update(tau_adp=_plain(tau_adp, single), beta=beta, alif_reset=alif_reset)
    if message is not None:
        if not allow_divergent:
            raise RFSimError(message + ", or allow divergent parameters (allow_divergent=True)")
        warnings.warn(message, DivergenceWarning, stacklevel=2)

    # Run the model's kernel.
    if model == "rf":
        fields = _run_rf(current, omega, b_offset, dt, theta, options)
        parameters.update(reset=reset, spike_on=spike_on, scheme=scheme)
    elif model == "brf":
        fields = _run_brf(current, omega, b_offset, dt, theta, gamma, options)
        parameters.update(
            gamma=gamma, use_boundary=options["use_boundary"], use_refractory=options["use_refractory"],
            use_smooth_reset=options["use_smooth_reset"],
        )
    elif model == "hrf":
        fields = _run_hrf(current, omega, b_offset, dt, theta, options)
        parameters.update(order=order)
    elif model == "bhrf":
        fields = _run_bhrf(current, omega, p_h, b_offset, dt, theta, gamma, options)
        parameters.update(gamma=gamma, order=order, damping_sign=damping_sign, boundary=boundary)
    elif model == "alif":
        fields = _run_alif(current, tau_mem, tau_adp, theta, beta, alif_reset)
    else:
        fields = _run_li(current, tau_mem)

    # Assemble the trace, with (T,) arrays for a 1-D input.
    trace = {name: fields.get(name) for name in ("u", "v", "q", "a", "z", "b", "threshold")}
    spike_times = _spike_times(trace["z"], dt)
    if single:
        trace = {name: None if value is None else value[:, 0] for name, value in trace.items()}
        current, spike_times = current[:, 0], spike_times[0]
    return Trace(
        model=model, dt=dt, t=np.arange(n_steps) * dt, I=current, spike_times=spike_times, parameters=parameters,
        **trace,
    )


def _columns(trace):
    """Return the named (T,) or (T, N) arrays of a trace, in file order."""
    columns = {"t": trace.t, "I": trace.I}
    if trace.model in RF_FAMILY:
        columns.update(u_re=trace.u.real, u_im=trace.u.imag)
    else:
        columns["u"] = trace.u
        if trace.v is not None:
            columns["v"] = trace.v
    for name in ("q", "a", "z", "b", "threshold"):
        value = getattr(trace, name)
        if value is not None:
            columns[name] = value
    return columns


def save_trace(trace, path):
    """Write a ``Trace`` to a CSV or NPZ file, chosen by the suffix of ``path``.

    The CSV has a header line and one row per step. Its columns are t [s], I,
    the state (u_re and u_im for RF/BRF, u and v for HRF/BHRF, u for ALIF/LI),
    then q or a, z, b [1/s] and threshold where the model has them. With N
    neurons, each column except t is repeated with the suffix ``_k`` for neuron k. The NPZ
    contains the same arrays, u as complex for RF/BRF, the spike times of a
    single neuron as ``spike_times``, and ``meta_json``, a JSON string of the
    model and its parameters.

    Raises
    ------
    RFSimError
        If the suffix is neither ``.csv`` nor ``.npz``, or the file cannot be written.
    """
    path = os.fspath(path)
    suffix = os.path.splitext(path)[1].lower()
    if suffix not in (".csv", ".npz"):
        raise RFSimError(f"unknown output file type {suffix!r} of {path}; use .csv or .npz")
    columns = _columns(trace)

    try:
        if suffix == ".npz":
            arrays = {name: value for name, value in columns.items()}
            if trace.model in RF_FAMILY:
                arrays["u"] = trace.u
            if isinstance(trace.spike_times, np.ndarray):
                arrays["spike_times"] = trace.spike_times
            meta = json.dumps({"model": trace.model, **trace.parameters})
            np.savez(path, meta_json=np.array(meta), **arrays)
            return

        names, data = [], []
        for name, value in columns.items():
            if value.ndim == 1:
                names.append(name)
                data.append(value[:, None])
            else:
                names.extend(f"{name}_{k}" for k in range(value.shape[1]))
                data.append(value)
        np.savetxt(path, np.hstack(data), delimiter=",", header=",".join(names), comments="", fmt="%.17g")
    except OSError as error:
        raise RFSimError(f"failed to write trace file {path}: {error}") from error
