"""Harmonic resonate-and-fire neurons: HRF and balanced HRF (BHRF).

The harmonic RF neuron is a damped harmonic oscillator driven by the input,
d^2v/dt^2 + 2*b*dv/dt + omega^2*v = I, written with the velocity-like variable
u = dv/dt, which receives the input and is compared with the threshold, and the
position-like variable v. Damping b [1/s] is positive for a decaying oscillation
(the opposite sign convention to the RF neuron's b). With time step dt [s]:

* ``order="implementation"`` (the authors' implementation, semi-implicit:
  v first from the previous u, then u with the new v)::

      v_t = v_{t-1} + dt*u_{t-1}
      u_t = u_{t-1} + dt*(-2*b*u_{t-1} - omega**2*v_t + I_t)

* ``order="paper"`` (the paper's equations, explicit Euler: both right-hand
  sides at t-1)::

      u_t = u_{t-1} + dt*(-2*b*u_{t-1} - omega**2*v_{t-1} + I_t)
      v_t = v_{t-1} + dt*u_{t-1}

The two orders give different neurons. The floating-point order of the u update
follows the authors' implementation: ((u + I*dt) - (b*u)*(2*dt)) - (omega**2*v)*dt.

Transition matrices of the free dynamics acting on (u, v)::

    implementation: [[1 - 2*b*dt - (omega*dt)**2, -omega**2*dt], [dt, 1]],  det = 1 - 2*b*dt
    paper:          [[1 - 2*b*dt,                 -omega**2*dt], [dt, 1]],  det = 1 - 2*b*dt + (omega*dt)**2

While the eigenvalues are a complex pair (omega*dt < 2 near the boundary),
|eigenvalue|**2 = det, so the oscillation is sustained (|eigenvalue| = 1) at
b = dt*omega**2/2 in the paper's order and at b = 0 in the implementation's
order (``harmonic_sustained_damping``).

HRF: constant damping b, spike z_t = H(u_t - theta), no reset.

BHRF: damping and threshold follow a refractory variable q, as in the BRF::

    b_t     = p_h(omega) + b_offset + q_{t-1}      (damping_sign="implementation")
    b_t     = p_h(omega) - b_offset - q_{t-1}      (damping_sign="paper")
    z_t     = H(u_t - theta_c - q_{t-1})
    q_t     = gamma*q_{t-1} + z_t

The paper writes the second form with p_h(omega) = omega**2/200 for dt = 0.01 s.
Read literally, a positive b_offset or q lowers the damping below the sustained
value and the neuron diverges. The authors' implementation adds both terms, so
they deepen the damping as the smooth reset intends; that is the default.

p_h(omega) (option ``boundary``):

* ``"implementation"`` (default): p_h = dt*omega**2/2 in either order. The
  authors' implementation hard-codes 0.005*omega**2, which equals dt*omega**2/2
  only for dt = 0.01 s; this module always uses the simulation's own dt. In
  the paper's order this is exactly the sustained-oscillation damping. In the
  implementation's order (the default order) the sustained damping is 0, so
  the default BHRF has |eigenvalue| = sqrt(1 - (omega*dt)**2) < 1 (for
  omega*dt < 1) already at b_offset = q = 0.
* ``"sustained"``: p_h = ``harmonic_sustained_damping(omega, dt, order)``, the
  damping at which the chosen order keeps |eigenvalue| = 1.

Sources: "the paper" is Higuchi, Kairat, Bohte, Otte, "Balanced Resonate-and-Fire
Neurons", ICML 2024; "the authors' implementation" is their public PyTorch code,
AdaptiveAILab/brf-neurons at commit 5d45b0e.
"""

import numpy as np

from rfsim._numba import njit, njit_parallel, prange
from rfsim.errors import RFSimError
from rfsim.neurons.rf import heaviside

ORDER_IMPLEMENTATION = 0
ORDER_PAPER = 1
ORDER_CODES = {"implementation": ORDER_IMPLEMENTATION, "paper": ORDER_PAPER}
"""Integer code of each update order name."""

SIGN_IMPLEMENTATION = 0
SIGN_PAPER = 1
SIGN_CODES = {"implementation": SIGN_IMPLEMENTATION, "paper": SIGN_PAPER}
"""Integer code of each BHRF damping sign name."""

BOUNDARIES = ("implementation", "sustained")
"""Names of the choices of p_h(omega) for the BHRF neuron."""


@njit
def hrf_update(u, v, I, omega, b, dt, order):
    """Advance (u, v) of a harmonic neuron by one step; return (u, v).

    ``order`` is ``ORDER_IMPLEMENTATION`` or ``ORDER_PAPER``; ``b`` [1/s] is the
    (positive) damping of this step.
    """
    omega_sq = omega * omega
    v_new = v + u * dt
    if order == ORDER_IMPLEMENTATION:
        u_new = ((u + I * dt) - (b * u) * (2.0 * dt)) - (omega_sq * v_new) * dt
    else:
        u_new = ((u + I * dt) - (b * u) * (2.0 * dt)) - (omega_sq * v) * dt
    return u_new, v_new


@njit
def hrf_step(u, v, I, omega, b, dt, theta, order):
    """Advance one HRF neuron (constant damping, no reset) by one step.

    Parameters
    ----------
    u, v : float
        Velocity-like and position-like variable after the previous step.
    I : float
        Input current of this step.
    omega : float
        Angular frequency [rad/s].
    b : float
        Damping [1/s], positive for a decaying oscillation.
    dt : float
        Time step [s].
    theta : float
        Threshold on u.
    order : int
        ``ORDER_IMPLEMENTATION`` or ``ORDER_PAPER``.

    Returns
    -------
    u, v, z : float
        State after the step and the spike (0.0 or 1.0).
    """
    u, v = hrf_update(u, v, I, omega, b, dt, order)
    return u, v, heaviside(u - theta)


@njit
def bhrf_damping(q, p_h, b_offset, damping_sign):
    """Return the BHRF damping b_t [1/s] for the previous refractory value ``q``."""
    if damping_sign == SIGN_PAPER:
        return (p_h - b_offset) - q
    return (p_h + b_offset) + q


@njit
def bhrf_step(u, v, q, I, omega, p_h, b_offset, dt, theta_c, gamma, order, damping_sign):
    """Advance one BHRF neuron by one step.

    Parameters
    ----------
    u, v : float
        Velocity-like and position-like variable after the previous step.
    q : float
        Refractory variable after the previous step.
    I : float
        Input current of this step.
    omega : float
        Angular frequency [rad/s].
    p_h : float
        Boundary damping p_h(omega) [1/s], precomputed (``p_h_omega``).
    b_offset : float
        Damping offset [1/s].
    dt : float
        Time step [s].
    theta_c : float
        Base threshold.
    gamma : float
        Decay factor of q per step.
    order : int
        ``ORDER_IMPLEMENTATION`` or ``ORDER_PAPER``.
    damping_sign : int
        ``SIGN_IMPLEMENTATION`` (b = p_h + b_offset + q) or ``SIGN_PAPER``
        (b = p_h - b_offset - q).

    Returns
    -------
    u, v, q, z : float
        State, refractory variable and spike (0.0 or 1.0) after the step.
    """
    # Damping from the previous q, then the harmonic update.
    b = bhrf_damping(q, p_h, b_offset, damping_sign)
    u_new, v_new = hrf_update(u, v, I, omega, b, dt, order)

    # Threshold raised by the previous q, then the refractory update.
    z = heaviside((u_new - theta_c) - q)
    q_new = gamma * q + z
    return u_new, v_new, q_new, z


def harmonic_transition_matrix(omega, b, dt, order="implementation"):
    """Return the 2x2 matrix that maps (u, v) to the next free (u, v).

    Parameters
    ----------
    omega : float
        Angular frequency [rad/s].
    b : float
        Damping [1/s].
    dt : float
        Time step [s].
    order : {"implementation", "paper"}

    Returns
    -------
    ndarray, shape (2, 2)
    """
    if order not in ORDER_CODES:
        raise RFSimError(f"order must be 'implementation' or 'paper', got {order!r}")
    a11 = 1.0 - 2.0 * b * dt
    if order == "implementation":
        a11 -= (omega * dt) ** 2
    return np.array([[a11, -omega**2 * dt], [dt, 1.0]])


def harmonic_sustained_damping(omega, dt, order="implementation"):
    """Return the damping [1/s] at which the free harmonic step keeps |eigenvalue| = 1.

    That is dt*omega**2/2 for the paper's explicit order and 0 for the
    implementation's semi-implicit order (where det = 1 - 2*b*dt). Valid while
    the eigenvalues are a complex pair, that is for omega*dt < 2.
    """
    if order not in ORDER_CODES:
        raise RFSimError(f"order must be 'implementation' or 'paper', got {order!r}")
    omega = np.asarray(omega, dtype=float)
    if order == "paper":
        result = 0.5 * dt * omega * omega
    else:
        result = np.zeros_like(omega)
    return result if result.ndim else float(result)


def p_h_omega(omega, dt, order="implementation", boundary="implementation"):
    """Return p_h(omega) [1/s] for the BHRF neuron (see the module docstring)."""
    if boundary not in BOUNDARIES:
        raise RFSimError(f"boundary must be one of {BOUNDARIES}, got {boundary!r}")
    omega = np.asarray(omega, dtype=float)
    if boundary == "sustained":
        return harmonic_sustained_damping(omega, dt, order)
    result = (0.5 * dt) * (omega * omega)
    return result if result.ndim else float(result)


def harmonic_spectral_radius(omega, b, dt, order="implementation"):
    """Return the largest |eigenvalue| of the free harmonic step (vectorised over omega, b)."""
    omega, b = np.broadcast_arrays(np.asarray(omega, dtype=float), np.asarray(b, dtype=float))
    radius = np.empty(omega.shape)
    for index in np.ndindex(omega.shape):
        matrix = harmonic_transition_matrix(omega[index], b[index], dt, order)
        radius[index] = np.max(np.abs(np.linalg.eigvals(matrix)))
    return radius if radius.ndim else float(radius)


@njit
def hrf_block(I, omega, b, dt, theta, order, u_out, v_out, z_out, start, stop):
    """Simulate neurons start, ..., stop - 1 of ``hrf_kernel`` in one thread.

    Takes the arguments of ``hrf_kernel`` followed by the neuron range.
    """
    n_steps = I.shape[0]
    u = np.zeros(stop - start)
    v = np.zeros(stop - start)
    for t in range(n_steps):
        for k in range(start, stop):
            i = k - start
            u[i], v[i], z = hrf_step(u[i], v[i], I[t, k], omega[k], b[k], dt, theta, order)
            u_out[t, k] = u[i]
            v_out[t, k] = v[i]
            z_out[t, k] = z


@njit_parallel
def hrf_kernel(I, omega, b, dt, theta, order, u_out, v_out, z_out, block_size):
    """Simulate N independent HRF neurons for T steps from a zero state.

    Parameters
    ----------
    I : ndarray, shape (T, N)
        Input current.
    omega, b : ndarray, shape (N,)
        Angular frequency [rad/s] and damping [1/s] per neuron.
    dt, theta : float
        Time step [s] and threshold.
    order : int
        Update order code.
    u_out, v_out, z_out : ndarray, shape (T, N)
        Filled with u, v and z after each step.
    block_size : int
        Neurons per parallel task, for example ``neuron_block_size(N)``.
    """
    n_neurons = I.shape[1]
    for block in prange((n_neurons + block_size - 1) // block_size):
        start = block * block_size
        hrf_block(I, omega, b, dt, theta, order, u_out, v_out, z_out, start, min(start + block_size, n_neurons))


@njit
def bhrf_block(
    I, omega, p_h, b_offset, dt, theta_c, gamma, order, damping_sign, u_out, v_out, q_out, z_out, b_out, start,
    stop
):
    """Simulate neurons start, ..., stop - 1 of ``bhrf_kernel`` in one thread.

    Takes the arguments of ``bhrf_kernel`` followed by the neuron range.
    """
    n_steps = I.shape[0]
    u = np.zeros(stop - start)
    v = np.zeros(stop - start)
    q = np.zeros(stop - start)
    for t in range(n_steps):
        for k in range(start, stop):
            i = k - start
            b_out[t, k] = bhrf_damping(q[i], p_h[k], b_offset[k], damping_sign)
            u[i], v[i], q[i], z = bhrf_step(
                u[i], v[i], q[i], I[t, k], omega[k], p_h[k], b_offset[k], dt, theta_c, gamma, order, damping_sign
            )
            u_out[t, k] = u[i]
            v_out[t, k] = v[i]
            q_out[t, k] = q[i]
            z_out[t, k] = z


@njit_parallel
def bhrf_kernel(
    I, omega, p_h, b_offset, dt, theta_c, gamma, order, damping_sign, u_out, v_out, q_out, z_out, b_out,
    block_size,
):
    """Simulate N independent BHRF neurons for T steps from a zero state.

    Parameters
    ----------
    I : ndarray, shape (T, N)
        Input current.
    omega, p_h, b_offset : ndarray, shape (N,)
        Angular frequency [rad/s], p_h(omega) [1/s] and offset [1/s] per neuron.
    dt, theta_c, gamma : float
        As in ``bhrf_step``.
    order, damping_sign : int
        Update order and damping sign codes.
    u_out, v_out, q_out, z_out, b_out : ndarray, shape (T, N)
        Filled with u, v, q, z after each step and the damping b_t used in it.
    block_size : int
        Neurons per parallel task, for example ``neuron_block_size(N)``.
    """
    n_neurons = I.shape[1]
    for block in prange((n_neurons + block_size - 1) // block_size):
        start = block * block_size
        bhrf_block(
            I, omega, p_h, b_offset, dt, theta_c, gamma, order, damping_sign, u_out, v_out, q_out, z_out, b_out,
            start, min(start + block_size, n_neurons)
        )


def _harmonic_reference_update(u, v, I, omega, b, dt, order):
    """Advance (u, v) arrays by one harmonic step with the equations as written."""
    if order == "implementation":
        v_new = v + dt * u
        u_new = u + dt * (-2.0 * b * u - omega**2 * v_new + I)
    else:
        u_new = u + dt * (-2.0 * b * u - omega**2 * v + I)
        v_new = v + dt * u
    return u_new, v_new


def hrf_reference(I, omega, b, dt, theta=1.0, order="implementation"):
    """Simulate HRF neurons with plain NumPy (the test reference).

    Returns
    -------
    u, v, z : ndarray, shape (T, N)
    """
    I = np.asarray(I, dtype=float)
    omega = np.asarray(omega, dtype=float)
    b = np.asarray(b, dtype=float)
    u = np.zeros(I.shape[1])
    v = np.zeros(I.shape[1])
    u_all, v_all, z_all = np.zeros(I.shape), np.zeros(I.shape), np.zeros(I.shape)
    for t in range(I.shape[0]):
        u, v = _harmonic_reference_update(u, v, I[t], omega, b, dt, order)
        u_all[t], v_all[t] = u, v
        z_all[t] = (u - theta > 0).astype(float)
    return u_all, v_all, z_all


def bhrf_reference(
    I, omega, b_offset, dt, theta_c=1.0, gamma=0.9, order="implementation", damping_sign="implementation",
    boundary="implementation",
):
    """Simulate BHRF neurons with plain NumPy (the test reference).

    Returns
    -------
    u, v, q, z, b : ndarray, shape (T, N)
        State, refractory variable, spikes and the damping used in each step [1/s].
    """
    I = np.asarray(I, dtype=float)
    omega = np.asarray(omega, dtype=float)
    b_offset = np.asarray(b_offset, dtype=float)
    if boundary == "sustained":
        p_h = dt * omega**2 / 2 if order == "paper" else np.zeros_like(omega)
    else:
        p_h = dt * omega**2 / 2
    sign = -1.0 if damping_sign == "paper" else 1.0

    u, v, q = np.zeros(I.shape[1]), np.zeros(I.shape[1]), np.zeros(I.shape[1])
    u_all, v_all, q_all, z_all, b_all = (np.zeros(I.shape) for _ in range(5))
    for t in range(I.shape[0]):
        # Damping and threshold from the previous q.
        b = p_h + sign * (b_offset + q)
        theta = theta_c + q

        u, v = _harmonic_reference_update(u, v, I[t], omega, b, dt, order)
        z = (u - theta > 0).astype(float)
        q = gamma * q + z

        u_all[t], v_all[t], q_all[t], z_all[t], b_all[t] = u, v, q, z, b
    return u_all, v_all, q_all, z_all, b_all
