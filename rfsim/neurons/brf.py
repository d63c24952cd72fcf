"""Balanced resonate-and-fire (BRF) neuron (Higuchi, Kairat, Bohte, Otte, ICML 2024).

The BRF neuron is an Euler-discretised RF neuron (``rfsim.neurons.rf``) whose
damping and threshold follow a refractory variable q. With time step dt [s],
angular frequency omega [rad/s], offset b_offset >= 0 [1/s], base threshold
theta_c and decay gamma, step t computes::

    p(omega) = (-1 + sqrt(1 - (dt*omega)**2)) / dt      divergence boundary
    b_t      = p(omega) - b_offset - q_{t-1}             damping
    u_t      = u_{t-1} + dt*((b_t + i*omega)*u_{t-1} + I_t)
    theta_t  = theta_c + q_{t-1}                         threshold
    z_t      = H(Re u_t - theta_t)
    q_t      = gamma*q_{t-1} + z_t

with H(s) = 1 for s > 0, else 0, and all states zero before t = 0. There is no
reset of u: the previous q raises the threshold (refractory period) and deepens
the damping (smooth reset) in the same step. gamma does not depend on dt.
Defaults: theta_c = 1, gamma = 0.9, dt = 0.01 s.

p(omega) is the largest damping at which the Euler step does not diverge, so
with b_offset = 0 and q = 0 the free oscillation neither grows nor decays.
This module always evaluates p(omega) with the simulation's own dt. The authors'
implementation hard-codes dt = 0.01 s inside p(omega) while using its own dt in
the update, so the two agree only at dt = 0.01 s.

Ablation switches (each removes one mechanism)::

    use_boundary=False      p(omega) is replaced by 0, so b_t = -b_offset - q_{t-1}
    use_refractory=False    theta_t = theta_c (q leaves the threshold)
    use_smooth_reset=False  b_t = p(omega) - b_offset (q leaves the damping)

With all three off the neuron is a plain RF neuron without reset, with
constant damping b = -b_offset and threshold theta_c (q is still computed and
recorded but acts nowhere).

The authors' implementation is their public PyTorch code, AdaptiveAILab/brf-neurons
at commit 5d45b0e.
"""

import numpy as np

from rfsim._numba import njit, njit_parallel, prange
from rfsim.neurons.rf import heaviside, rf_euler_update

ABLATIONS = {
    "all": (True, True, True),
    "no_boundary": (False, True, True),
    "refractory_only": (False, True, False),
    "smooth_reset_only": (False, False, True),
    "none": (False, False, False),
}
"""Switch settings (use_boundary, use_refractory, use_smooth_reset) of the ablation variants:
the full BRF, BRF without the divergence boundary, RF with only the refractory period, RF
with only the smooth reset, and the plain RF without reset."""


@njit
def brf_damping(q, p, b_offset, use_boundary, use_smooth_reset):
    """Return the damping b_t [1/s] for the previous refractory value ``q``.

    ``p`` is p(omega) [1/s]; the switches are those of ``brf_step``.
    """
    b = (p if use_boundary else 0.0) - b_offset
    if use_smooth_reset:
        b = b - q
    return b


@njit
def brf_step(u, v, q, I, omega, p, b_offset, dt, theta_c, gamma, use_boundary, use_refractory, use_smooth_reset):
    """Advance one BRF neuron by one step.

    Parameters
    ----------
    u, v : float
        Real and imaginary part of the membrane after the previous step.
    q : float
        Refractory variable after the previous step.
    I : float
        Input current of this step.
    omega : float
        Angular frequency [rad/s].
    p : float
        Divergence boundary p(omega) [1/s] for this omega and dt (precomputed,
        for example with ``rfsim.stability.p_omega``).
    b_offset : float
        Damping offset [1/s].
    dt : float
        Time step [s].
    theta_c : float
        Base threshold.
    gamma : float
        Decay factor of q per step.
    use_boundary, use_refractory, use_smooth_reset : bool
        Ablation switches, defined in the module docstring.

    Returns
    -------
    u, v, q, z : float
        Membrane, refractory variable and spike (0.0 or 1.0) after the step.
    """
    # Damping from the previous q, then the Euler update.
    b = brf_damping(q, p, b_offset, use_boundary, use_smooth_reset)
    u_new, v_new = rf_euler_update(u, v, I, omega, b, dt)

    # Threshold raised by the previous q, evaluated as (u - theta_c) - q like the
    # authors' implementation.
    s = u_new - theta_c
    if use_refractory:
        s = s - q
    z = heaviside(s)

    # Refractory variable: decays by gamma, jumps by 1 per spike.
    q_new = gamma * q + z
    return u_new, v_new, q_new, z


@njit
def brf_block(
    I, omega, p, b_offset, dt, theta_c, gamma, use_boundary, use_refractory, use_smooth_reset, u_out, v_out,
    q_out, z_out, b_out, start, stop
):
    """Simulate neurons start, ..., stop - 1 of ``brf_kernel`` in one thread.

    Takes the arguments of ``brf_kernel`` followed by the neuron range.
    """
    n_steps = I.shape[0]
    u = np.zeros(stop - start)
    v = np.zeros(stop - start)
    q = np.zeros(stop - start)
    for t in range(n_steps):
        for k in range(start, stop):
            i = k - start
            b_out[t, k] = brf_damping(q[i], p[k], b_offset[k], use_boundary, use_smooth_reset)
            u[i], v[i], q[i], z = brf_step(
                u[i], v[i], q[i], I[t, k], omega[k], p[k], b_offset[k], dt, theta_c, gamma,
                use_boundary, use_refractory, use_smooth_reset,
            )
            u_out[t, k] = u[i]
            v_out[t, k] = v[i]
            q_out[t, k] = q[i]
            z_out[t, k] = z


@njit_parallel
def brf_kernel(
    I, omega, p, b_offset, dt, theta_c, gamma, use_boundary, use_refractory, use_smooth_reset,
    u_out, v_out, q_out, z_out, b_out, block_size,
):
    """Simulate N independent BRF neurons for T steps from a zero state.

    Parameters
    ----------
    I : ndarray, shape (T, N)
        Input current.
    omega, p, b_offset : ndarray, shape (N,)
        Angular frequency [rad/s], p(omega) [1/s] and offset [1/s] per neuron.
    dt, theta_c, gamma : float
        As in ``brf_step``.
    use_boundary, use_refractory, use_smooth_reset : bool
        Ablation switches.
    u_out, v_out, q_out, z_out, b_out : ndarray, shape (T, N)
        Filled with Re u, Im u, q and z after each step, and the damping b_t used in it.
    block_size : int
        Neurons per parallel task, for example ``neuron_block_size(N)``.
    """
    n_neurons = I.shape[1]
    for block in prange((n_neurons + block_size - 1) // block_size):
        start = block * block_size
        brf_block(
            I, omega, p, b_offset, dt, theta_c, gamma, use_boundary, use_refractory, use_smooth_reset, u_out,
            v_out, q_out, z_out, b_out, start, min(start + block_size, n_neurons)
        )


def brf_reference(
    I, omega, b_offset, dt, theta_c=1.0, gamma=0.9, use_boundary=True, use_refractory=True, use_smooth_reset=True
):
    """Simulate BRF neurons with plain NumPy complex arithmetic (the test reference).

    Parameters
    ----------
    I : ndarray, shape (T, N)
        Input current.
    omega, b_offset : array_like, shape (N,)
        Angular frequency [rad/s] and offset [1/s].
    dt, theta_c, gamma, use_boundary, use_refractory, use_smooth_reset
        As in ``brf_step``.

    Returns
    -------
    u : ndarray of complex, shape (T, N)
    q, z, b : ndarray, shape (T, N)
        Refractory variable, spikes and the damping used in each step [1/s].
    """
    I = np.asarray(I, dtype=float)
    omega = np.asarray(omega, dtype=float)
    b_offset = np.asarray(b_offset, dtype=float)
    p = (-1.0 + np.sqrt(1.0 - (dt * omega) ** 2)) / dt if use_boundary else np.zeros_like(omega)

    u = np.zeros(I.shape[1], dtype=complex)
    q = np.zeros(I.shape[1])
    u_all = np.zeros(I.shape, dtype=complex)
    q_all, z_all, b_all = np.zeros(I.shape), np.zeros(I.shape), np.zeros(I.shape)
    for t in range(I.shape[0]):
        # Damping and threshold from the previous q.
        b = p - b_offset - (q if use_smooth_reset else 0.0)
        theta = theta_c + (q if use_refractory else 0.0)

        # Euler step of du/dt = (b + i*omega)*u + I, then spike and q update.
        u = u + dt * ((b + 1j * omega) * u + I[t])
        z = (u.real - theta > 0).astype(float)
        q = gamma * q + z

        u_all[t], q_all[t], z_all[t], b_all[t] = u, q, z, b
    return u_all, q_all, z_all, b_all
