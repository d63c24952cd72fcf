"""Resonate-and-fire (RF) neuron of Izhikevich (2001).

The membrane is one complex number u = u_re + i*u_im obeying
du/dt = (b + i*omega)*u + I, with damping b [1/s] (negative for a decaying
oscillation), angular frequency omega [rad/s] and input current I. Two
discretisations with time step dt [s] are offered:

* ``scheme="euler"`` (explicit Euler, as in the authors' implementation)::

      u_t = u_{t-1} + dt*((b + i*omega)*u_{t-1} + I_t)

  In real arithmetic, and in the authors' order of floating-point operations,
  u_re <- ((u_re + (b*u_re)*dt) - (omega*u_im)*dt) + I*dt and
  u_im <- (u_im + (omega*u_re)*dt) + (b*u_im)*dt. The free response grows by
  lambda = 1 + dt*(b + i*omega) per step, so it converges only when
  |lambda| <= 1 (see ``rfsim.stability``).

* ``scheme="exact"`` (exact exponential of the homogeneous part)::

      u_t = exp(dt*(b + i*omega))*u_{t-1} + dt*I_t

  Here |lambda| = exp(b*dt), so the neuron converges exactly when b <= 0, for
  any omega. The input is integrated with the same dt*I_t term as the Euler
  scheme, so an impulse moves u by the same amount in both schemes.

Spike and reset, applied to the updated u of the same step::

    z_t = H(Re u_t - theta)          (or H(Im u_t - theta) with spike_on_imag)
    reset "none":  u_t unchanged
    reset "soft":  u_t <- u_t - (1 + i)*z_t*theta
    reset "hard":  u_t <- u_t with both parts multiplied by (1 - z_t)

H(s) = 1 for s > 0 and 0 otherwise (strict, as in the authors' implementation).
The hard reset multiplies the real and the imaginary part each by (1 - z_t),
so a spike sets u to 0. Read as a complex product, (1 - (1 + i)*z)*u would
instead rotate u by -90 degrees on a spike. The soft reset subtracts theta from
both parts, which is the same in either reading.

The RF without reset and with constant b = -b_offset is the authors' vanilla RF
("RF-NoR"). The recorded u is the value after the reset.

The scalar step functions ``rf_step`` and ``rf_exact_step`` are ``@njit`` so that
other kernels can call them. ``rf_kernel`` advances many neurons, and
``rf_reference`` is the plain NumPy version that the tests compare against.

The authors' implementation is the public PyTorch code of Higuchi et al. (ICML
2024), AdaptiveAILab/brf-neurons at commit 5d45b0e.
"""

import numpy as np
from numba import get_num_threads

from rfsim._numba import njit, njit_parallel, prange

RESET_NONE = 0
RESET_SOFT = 1
RESET_HARD = 2
RESET_CODES = {"none": RESET_NONE, "soft": RESET_SOFT, "hard": RESET_HARD}
"""Integer code of each reset name, as passed to the ``@njit`` functions."""

SCHEME_EULER = 0
SCHEME_EXACT = 1
SCHEME_CODES = {"euler": SCHEME_EULER, "exact": SCHEME_EXACT}
"""Integer code of each discretisation scheme name."""

NEURON_BLOCK = 64
"""Minimum number of neurons per parallel task in the many-neuron kernels.

The kernels' arrays have shape (T, N), so a task loops over time and, within a
step, over a contiguous block of neurons: each row access is then contiguous
instead of strided by N. Short blocks make every task sweep the whole (T, N)
arrays for a few bytes per row, so blocks are as long as possible: one per
thread, and never shorter than this.
"""


def neuron_block_size(n_neurons):
    """Return the neurons per parallel task: N split over Numba's threads, at least ``NEURON_BLOCK``."""
    threads = get_num_threads()
    return max(NEURON_BLOCK, -(-n_neurons // threads))


@njit
def heaviside(s):
    """Return 1.0 if s > 0 else 0.0 (the strict spike condition of every model)."""
    if s > 0.0:
        return 1.0
    return 0.0


@njit
def rf_euler_update(u, v, I, omega, b, dt):
    """Advance (Re u, Im u) = (u, v) by one explicit Euler step; return (u, v).

    The operations follow the authors' order, so the result is bit-identical to
    their implementation. ``b`` [1/s], ``omega`` [rad/s], ``dt`` [s].
    """
    u_new = ((u + (b * u) * dt) - (omega * v) * dt) + I * dt
    v_new = (v + (omega * u) * dt) + (b * v) * dt
    return u_new, v_new


@njit
def rf_spike_and_reset(u, v, theta, reset, spike_on_imag):
    """Apply the threshold and the reset to an updated state; return (u, v, z).

    ``reset`` is one of ``RESET_NONE``, ``RESET_SOFT``, ``RESET_HARD``; with
    ``spike_on_imag`` true the threshold acts on the imaginary part v.
    """
    if spike_on_imag:
        z = heaviside(v - theta)
    else:
        z = heaviside(u - theta)

    if reset == RESET_SOFT:
        u = u - z * theta
        v = v - z * theta
    elif reset == RESET_HARD:
        u = (1.0 - z) * u
        v = (1.0 - z) * v
    return u, v, z


@njit
def rf_step(u, v, I, omega, b, dt, theta, reset, spike_on_imag):
    """Advance one RF neuron by one explicit Euler step.

    Parameters
    ----------
    u, v : float
        Real and imaginary part of the membrane after the previous step.
    I : float
        Input current of this step.
    omega : float
        Angular frequency [rad/s].
    b : float
        Damping [1/s] (negative for a decaying oscillation).
    dt : float
        Time step [s].
    theta : float
        Firing threshold.
    reset : int
        ``RESET_NONE``, ``RESET_SOFT`` or ``RESET_HARD``.
    spike_on_imag : bool
        Threshold the imaginary part instead of the real part.

    Returns
    -------
    u, v, z : float
        Membrane after the step (after the reset) and the spike (0.0 or 1.0).
    """
    u, v = rf_euler_update(u, v, I, omega, b, dt)
    return rf_spike_and_reset(u, v, theta, reset, spike_on_imag)


@njit
def rf_exact_decay(omega, b, dt):
    """Return (Re, Im) of the exact one-step factor exp(dt*(b + i*omega))."""
    magnitude = np.exp(b * dt)
    return magnitude * np.cos(omega * dt), magnitude * np.sin(omega * dt)


@njit
def rf_exact_step(u, v, I, decay_re, decay_im, dt, theta, reset, spike_on_imag):
    """Advance one RF neuron by one exact-exponential step.

    The factor exp(dt*(b + i*omega)) is passed precomputed, as
    ``rf_exact_decay(omega, b, dt)`` returns it, so that a loop over time does not
    evaluate exp, cos and sin at every step.

    Parameters
    ----------
    u, v : float
        Real and imaginary part of the membrane after the previous step.
    I : float
        Input current of this step.
    decay_re, decay_im : float
        Real and imaginary part of exp(dt*(b + i*omega)).
    dt : float
        Time step [s]; the input enters as dt*I.
    theta, reset, spike_on_imag
        As in ``rf_step``.

    Returns
    -------
    u, v, z : float
        Membrane after the step (after the reset) and the spike (0.0 or 1.0).
    """
    u_new = (decay_re * u - decay_im * v) + I * dt
    v_new = decay_re * v + decay_im * u
    return rf_spike_and_reset(u_new, v_new, theta, reset, spike_on_imag)


@njit
def rf_block(I, omega, b, dt, theta, reset, spike_on_imag, scheme, u_out, v_out, z_out, start, stop):
    """Simulate neurons start, ..., stop - 1 of ``rf_kernel`` in one thread.

    Takes the arguments of ``rf_kernel`` followed by the neuron range.
    """
    n_steps = I.shape[0]
    u = np.zeros(stop - start)
    v = np.zeros(stop - start)
    decay_re = np.empty(stop - start)
    decay_im = np.empty(stop - start)
    for k in range(start, stop):
        decay_re[k - start], decay_im[k - start] = rf_exact_decay(omega[k], b[k], dt)

    for t in range(n_steps):
        for k in range(start, stop):
            i = k - start
            if scheme == SCHEME_EXACT:
                u[i], v[i], z = rf_exact_step(
                    u[i], v[i], I[t, k], decay_re[i], decay_im[i], dt, theta, reset, spike_on_imag
                )
            else:
                u[i], v[i], z = rf_step(u[i], v[i], I[t, k], omega[k], b[k], dt, theta, reset, spike_on_imag)
            u_out[t, k] = u[i]
            v_out[t, k] = v[i]
            z_out[t, k] = z


@njit_parallel
def rf_kernel(I, omega, b, dt, theta, reset, spike_on_imag, scheme, u_out, v_out, z_out, block_size):
    """Simulate N independent RF neurons for T steps from a zero state.

    Parameters
    ----------
    I : ndarray, shape (T, N)
        Input current.
    omega, b : ndarray, shape (N,)
        Angular frequency [rad/s] and damping [1/s] of each neuron.
    dt, theta : float
        Time step [s] and threshold.
    reset, scheme : int
        Reset code (``RESET_*``) and scheme code (``SCHEME_*``).
    spike_on_imag : bool
        Threshold the imaginary part.
    u_out, v_out, z_out : ndarray, shape (T, N)
        Filled with Re u, Im u (after the reset) and the spikes.
    block_size : int
        Neurons per parallel task, for example ``neuron_block_size(N)``.
    """
    n_neurons = I.shape[1]
    for block in prange((n_neurons + block_size - 1) // block_size):
        start = block * block_size
        stop = min(start + block_size, n_neurons)
        rf_block(I, omega, b, dt, theta, reset, spike_on_imag, scheme, u_out, v_out, z_out, start, stop)


def rf_reference(I, omega, b, dt, theta=1.0, reset="none", spike_on="real", scheme="euler"):
    """Simulate RF neurons with plain NumPy complex arithmetic (the test reference).

    Parameters
    ----------
    I : ndarray, shape (T, N)
        Input current.
    omega, b : array_like, shape (N,)
        Angular frequency [rad/s] and damping [1/s].
    dt : float
        Time step [s].
    theta : float
        Threshold.
    reset : {"none", "soft", "hard"}
    spike_on : {"real", "imag"}
    scheme : {"euler", "exact"}

    Returns
    -------
    u : ndarray of complex, shape (T, N)
        Membrane after each step (after the reset).
    z : ndarray, shape (T, N)
        Spikes.
    """
    I = np.asarray(I, dtype=float)
    omega = np.asarray(omega, dtype=float)
    b = np.asarray(b, dtype=float)
    u_all = np.zeros(I.shape, dtype=complex)
    z_all = np.zeros(I.shape)
    u = np.zeros(I.shape[1], dtype=complex)
    lam = np.exp(dt * (b + 1j * omega))

    for t in range(I.shape[0]):
        # Free rotation and decay plus the input, in the chosen scheme.
        if scheme == "exact":
            u = lam * u + dt * I[t]
        else:
            u = u + dt * ((b + 1j * omega) * u + I[t])

        # Threshold on the real (or imaginary) part.
        part = u.imag if spike_on == "imag" else u.real
        z = (part > theta).astype(float)

        # Reset both parts on a spike.
        if reset == "soft":
            u = u - (1 + 1j) * z * theta
        elif reset == "hard":
            u = (1 - z) * u

        u_all[t] = u
        z_all[t] = z
    return u_all, z_all
