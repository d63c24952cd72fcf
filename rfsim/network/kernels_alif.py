"""Numba step kernels of the adaptive LIF (ALIF) hidden neuron: forward and adjoint.

With alpha = exp(-1/|tau_mem|), rho = exp(-1/|tau_adp|) and a unit time step, one
step of the authors' ALIF cell reads, in their evaluation order::

    a_t     = a_{t-1} rho + z_{t-1} (1 - rho)           adaptation from the previous spike
    theta_t = theta_0 + a_t beta                        (theta_0 = 0.01, beta = 1.8)
    u~_t    = u_{t-1} alpha + I_t (1 - alpha)
    z_t     = H(u~_t - theta_t)
    u_t     = u~_t - z_t theta_t                        soft reset within the same step

The gradient flows through the reset term z_t theta_t into both factors, and through
a_t into the threshold. State slots: ``U_TILDE`` (u~_t), ``U`` (u_t after the reset),
``A`` (a_t) and ``DRIVE`` (I_t, which the derivative with respect to alpha needs).
Adjoint slots: ``U_BAR`` (of u_t), ``A_BAR`` (of a_t) and ``Z_CARRY``, the part of
dL/dz_{t-1} that comes through a_t, (1 - rho) dL/da_t. ``cell`` rows are alpha,
1 - alpha, rho, 1 - rho; ``cell_grad`` accumulates dL/dalpha and dL/drho.
"""

from rfsim._numba import njit_kernel
from rfsim.network.kernels_common import ALIF_BETA, ALIF_THETA, ONE, ZERO
from rfsim.surrogate import surrogate_params, surrogate_value

U_TILDE, U, A, DRIVE = 0, 1, 2, 3
"""State slots of the ALIF neuron."""

U_BAR, A_BAR, Z_CARRY = 0, 1, 2
"""Adjoint slots of the ALIF neuron."""


@njit_kernel
def alif_forward_row(drive, prev, z_prev, new, z_new, cell, consts):
    """Advance one sequence's ALIF neurons by one step; return the number of spikes."""
    theta_0, beta, one, zero = consts[ALIF_THETA], consts[ALIF_BETA], consts[ONE], consts[ZERO]
    alpha, one_minus_alpha, rho, one_minus_rho = cell[0], cell[1], cell[2], cell[3]
    n_spikes = 0
    for i in range(drive.shape[0]):
        # Threshold adaptation driven by the previous spike.
        z_before = one if z_prev[i] != 0 else zero
        a = prev[A, i] * rho[i] + z_before * one_minus_rho[i]
        theta = theta_0 + a * beta

        # Leaky integration with a unit time step.
        u_tilde = prev[U, i] * alpha[i] + drive[i] * one_minus_alpha[i]

        # Spike and soft reset by the current threshold (branch-free, so it vectorises).
        spike = u_tilde - theta > 0
        z_new[i] = spike
        new[U, i] = u_tilde - (one if spike else zero) * theta
        n_spikes += spike
        new[U_TILDE, i] = u_tilde
        new[A, i] = a
        new[DRIVE, i] = drive[i]
    return n_spikes


@njit_kernel(error_model="numpy")
def alif_backward_row(zbar, prev, z_prev, new, z_new, adj, drive_bar, cell, cell_grad, consts, surrogate):
    """Back-propagate one ALIF step of one sequence.

    ``zbar`` is the adjoint of z_t from the readout and the next step's drive;
    ``surrogate`` is the integer code of the surrogate derivative g.
    """
    theta_0, beta, one, zero = consts[ALIF_THETA], consts[ALIF_BETA], consts[ONE], consts[ZERO]
    alpha, one_minus_alpha, rho, one_minus_rho = cell[0], cell[1], cell[2], cell[3]
    params = surrogate_params(surrogate, consts)
    for i in range(zbar.shape[0]):
        theta = theta_0 + new[A, i] * beta
        z = one if z_new[i] != 0 else zero
        u_bar = adj[U_BAR, i]

        # Soft reset u_t = u~_t - z_t theta_t: both factors receive a gradient.
        z_bar = (zbar[i] + adj[Z_CARRY, i]) - u_bar * theta
        theta_bar = -(u_bar * z)

        # Spike z_t = H(u~_t - theta_t).
        s_bar = z_bar * surrogate_value(new[U_TILDE, i] - theta, params)
        u_tilde_bar = u_bar + s_bar
        theta_bar = theta_bar - s_bar
        a_bar = adj[A_BAR, i] + theta_bar * beta

        # Leaky integration u~_t = u_{t-1} alpha + I_t (1 - alpha).
        drive_bar[i] = u_tilde_bar * one_minus_alpha[i]
        cell_grad[0, i] += u_tilde_bar * (prev[U, i] - new[DRIVE, i])
        adj[U_BAR, i] = u_tilde_bar * alpha[i]

        # Adaptation a_t = a_{t-1} rho + z_{t-1} (1 - rho).
        z_before = one if z_prev[i] != 0 else zero
        cell_grad[1, i] += a_bar * (prev[A, i] - z_before)
        adj[Z_CARRY, i] = a_bar * one_minus_rho[i]
        adj[A_BAR, i] = a_bar * rho[i]
