"""Adaptive leaky integrate-and-fire (ALIF) neuron and leaky-integrator (LI) readout.

Both use a unit time step: the time constants tau_mem and tau_adp are counted
in steps, as in the authors' implementation, and dt does not appear. With
alpha = exp(-1/|tau_mem|), rho = exp(-1/|tau_adp|), base threshold theta_0 = 0.01
and adaptation strength beta = 1.8 (the ALIF of Yin et al., 2021, used as the
paper's baseline), step t computes::

    a_t      = rho*a_{t-1} + (1 - rho)*z_{t-1}       adaptation (previous spike)
    theta_t  = theta_0 + beta*a_t                    adaptive threshold

and then, with ``reset="implementation"`` (default, the authors' code)::

    u~_t     = alpha*u_{t-1} + (1 - alpha)*I_t
    z_t      = H(u~_t - theta_t)
    u_t      = u~_t - z_t*theta_t                    soft reset in the same step

or, with ``reset="next_step"`` (Yin et al., 2021: the reset enters the next
membrane update, outside the leak, with the new threshold)::

    u_t      = alpha*u_{t-1} + (1 - alpha)*I_t - theta_t*z_{t-1}
    z_t      = H(u_t - theta_t)

H(s) = 1 for s > 0, else 0; all states are zero before t = 0. The recorded u is
u_t (after the reset in the default form).

LI readout: o_t = alpha*o_{t-1} + (1 - alpha)*I_t with alpha = exp(-1/|tau|).

The authors' implementation is the public PyTorch code of Higuchi et al., "Balanced
Resonate-and-Fire Neurons" (ICML 2024), AdaptiveAILab/brf-neurons at commit 5d45b0e.
"""

import numpy as np

from rfsim._numba import njit, njit_parallel, prange
from rfsim.neurons.rf import heaviside

ALIF_THETA_0 = 0.01
"""Base threshold of the ALIF neuron (Yin et al., 2021)."""

ALIF_BETA = 1.8
"""Adaptation strength of the ALIF threshold (Yin et al., 2021)."""

RESET_IMPLEMENTATION = 0
RESET_NEXT_STEP = 1
ALIF_RESET_CODES = {"implementation": RESET_IMPLEMENTATION, "next_step": RESET_NEXT_STEP}
"""Integer code of each ALIF reset name."""


def decay_factor(tau):
    """Return exp(-1/|tau|) for a time constant ``tau`` counted in steps."""
    return np.exp(-1.0 / np.abs(np.asarray(tau, dtype=float)))


@njit
def alif_step(u, a, z_prev, I, alpha, rho, theta_0, beta, reset):
    """Advance one ALIF neuron by one step.

    Parameters
    ----------
    u : float
        Membrane after the previous step.
    a : float
        Threshold adaptation after the previous step.
    z_prev : float
        Spike of the previous step.
    I : float
        Input current of this step.
    alpha, rho : float
        Membrane and adaptation decay per step, exp(-1/|tau|).
    theta_0, beta : float
        Base threshold and adaptation strength.
    reset : int
        ``RESET_IMPLEMENTATION`` or ``RESET_NEXT_STEP``.

    Returns
    -------
    u, a, z : float
        Membrane, adaptation and spike (0.0 or 1.0) after the step.
    """
    # Adaptive threshold from the previous spike.
    a_new = rho * a + (1.0 - rho) * z_prev
    theta = theta_0 + beta * a_new

    # Leaky integration, spike and soft reset.
    if reset == RESET_NEXT_STEP:
        u_new = alpha * u + (1.0 - alpha) * I - theta * z_prev
        z = heaviside(u_new - theta)
    else:
        u_new = alpha * u + (1.0 - alpha) * I
        z = heaviside(u_new - theta)
        u_new = u_new - z * theta
    return u_new, a_new, z


@njit
def li_step(o, I, alpha):
    """Advance one leaky integrator by one step: return alpha*o + (1 - alpha)*I."""
    return alpha * o + (1.0 - alpha) * I


@njit
def alif_block(I, alpha, rho, theta_0, beta, reset, u_out, a_out, z_out, start, stop):
    """Simulate neurons start, ..., stop - 1 of ``alif_kernel`` in one thread.

    Takes the arguments of ``alif_kernel`` followed by the neuron range.
    """
    n_steps = I.shape[0]
    u = np.zeros(stop - start)
    a = np.zeros(stop - start)
    z = np.zeros(stop - start)
    for t in range(n_steps):
        for k in range(start, stop):
            i = k - start
            u[i], a[i], z[i] = alif_step(u[i], a[i], z[i], I[t, k], alpha[k], rho[k], theta_0, beta, reset)
            u_out[t, k] = u[i]
            a_out[t, k] = a[i]
            z_out[t, k] = z[i]


@njit_parallel
def alif_kernel(I, alpha, rho, theta_0, beta, reset, u_out, a_out, z_out, block_size):
    """Simulate N independent ALIF neurons for T steps from a zero state.

    Parameters
    ----------
    I : ndarray, shape (T, N)
        Input current.
    alpha, rho : ndarray, shape (N,)
        Membrane and adaptation decay per step.
    theta_0, beta : float
        Base threshold and adaptation strength.
    reset : int
        Reset code.
    u_out, a_out, z_out : ndarray, shape (T, N)
        Filled with u, a and z after each step.
    block_size : int
        Neurons per parallel task, for example ``neuron_block_size(N)``.
    """
    n_neurons = I.shape[1]
    for block in prange((n_neurons + block_size - 1) // block_size):
        start = block * block_size
        alif_block(
            I, alpha, rho, theta_0, beta, reset, u_out, a_out, z_out, start, min(start + block_size, n_neurons)
        )


@njit
def li_block(I, alpha, o_out, start, stop):
    """Simulate neurons start, ..., stop - 1 of ``li_kernel`` in one thread.

    Takes the arguments of ``li_kernel`` followed by the neuron range.
    """
    n_steps = I.shape[0]
    o = np.zeros(stop - start)
    for t in range(n_steps):
        for k in range(start, stop):
            o[k - start] = li_step(o[k - start], I[t, k], alpha[k])
            o_out[t, k] = o[k - start]


@njit_parallel
def li_kernel(I, alpha, o_out, block_size):
    """Run N independent leaky integrators for T steps from zero; fill ``o_out`` (T, N).

    ``block_size`` is the number of neurons per parallel task, for example
    ``neuron_block_size(N)``.
    """
    n_neurons = I.shape[1]
    for block in prange((n_neurons + block_size - 1) // block_size):
        start = block * block_size
        li_block(I, alpha, o_out, start, min(start + block_size, n_neurons))


def alif_reference(I, tau_mem, tau_adp, theta_0=ALIF_THETA_0, beta=ALIF_BETA, reset="implementation"):
    """Simulate ALIF neurons with plain NumPy (the test reference).

    Returns
    -------
    u, a, z, theta : ndarray, shape (T, N)
        Membrane, adaptation, spikes and the threshold theta_t of each step.
    """
    I = np.asarray(I, dtype=float)
    alpha = np.exp(-1.0 / np.abs(np.asarray(tau_mem, dtype=float)))
    rho = np.exp(-1.0 / np.abs(np.asarray(tau_adp, dtype=float)))
    u, a, z = np.zeros(I.shape[1]), np.zeros(I.shape[1]), np.zeros(I.shape[1])
    u_all, a_all, z_all, theta_all = (np.zeros(I.shape) for _ in range(4))
    for t in range(I.shape[0]):
        a = rho * a + (1 - rho) * z
        theta = theta_0 + beta * a
        if reset == "next_step":
            u = alpha * u + (1 - alpha) * I[t] - theta * z
            z = (u - theta > 0).astype(float)
        else:
            u = alpha * u + (1 - alpha) * I[t]
            z = (u - theta > 0).astype(float)
            u = u - z * theta
        u_all[t], a_all[t], z_all[t], theta_all[t] = u, a, z, theta
    return u_all, a_all, z_all, theta_all


def li_reference(I, tau):
    """Run leaky integrators with plain NumPy; return o, shape (T, N)."""
    I = np.asarray(I, dtype=float)
    alpha = np.exp(-1.0 / np.abs(np.asarray(tau, dtype=float)))
    o = np.zeros(I.shape[1])
    o_all = np.zeros(I.shape)
    for t in range(I.shape[0]):
        o = alpha * o + (1 - alpha) * I[t]
        o_all[t] = o
    return o_all
