"""Numba step kernels of the RF-type hidden neurons (BRF, RF, BHRF): forward and adjoint.

Each ``*_forward_row`` advances the H neurons of one sequence by one step; each
``*_backward_row`` is the exact adjoint of that step (reverse-mode derivative of the
same floating-point graph, with the surrogate g(s) in place of dH/ds). The equations,
with omega = |omega_raw|, b' = |b_offset_raw| and the previous states on the right:

BRF::

    b_t = p(omega) - b' - q_{t-1}                          (b_base = p(omega) - b')
    u_t = ((u + (b_t u) dt) - (omega v) dt) + I_t dt
    v_t = (v + (omega u) dt) + (b_t v) dt
    z_t = H((u_t - theta) - q_{t-1}),   q_t = gamma q_{t-1} + z_t

The BRF ablation switches remove q_{t-1} from the damping (no smooth reset) or from
the threshold (no refractory period) by multiplying it with 0.0, which changes no
bit of the remaining terms; without the boundary the engine passes b_base = -b'.

RF (constant b = -b'), with an optional reset after the spike::

    u~_t, v~_t as u_t, v_t of the BRF with b_t = b,   z_t = H(u~_t - theta)
    'none': u_t = u~_t                 'soft': u_t = u~_t - z_t theta
    'hard': u_t = u~_t (1 - z_t), v_t = v~_t (1 - z_t)

BHRF (semi-implicit: v first, then u with the new v)::

    b_t = (omega^2 (dt_p / 2) + b') + q_{t-1}              (b_base = omega^2 (dt_p / 2) + b')
    v_t = v + u dt
    u_t = ((u + I_t dt) - (b_t u)(2 dt)) - (omega^2 v_t) dt
    z_t = H((u_t - theta) - q_{t-1}),   q_t = gamma q_{t-1} + z_t

The parenthesisation is the evaluation order of the authors' implementation, so the
float64 states agree with theirs bit for bit given the same drive I_t.

Layouts: ``prev`` and ``new`` are the (2, H) rows of u and v before and after the step
(slots ``U, V``; for the RF the stored u and v are the pre-reset u~, v~, and the
post-reset values are recomputed from them and the spike with the same arithmetic).
The BRF and BHRF take q_{t-1} and q_t as separate rows ``q_prev`` and ``q_new``: the
engine stores u and v at every step but replays q from the stored spikes in the
backward sweep (``replay_q_row``), with the arithmetic of the forward step. So the
replayed q has the same bits, and two float rows per step are stored instead of three.
``adj`` holds the adjoints of the post-step state (slots ``U_BAR, V_BAR, Q_BAR``) and is
overwritten with the adjoints of the pre-step state. ``cell_grad`` accumulates the
per-neuron derivatives with respect to (omega, b_t) for BRF and RF and (omega^2, b_t)
for BHRF; the engine turns them into raw-parameter gradients.
"""

from rfsim._numba import njit_kernel
from rfsim.network.kernels_common import DT, GAMMA, ONE, REFRACTORY, SMOOTH_RESET, THETA, TWO_DT, ZERO
from rfsim.surrogate import surrogate_params, surrogate_value

U, V, Q = 0, 1, 2
"""State slots of the RF-type neurons (RF: u~ and v~ before the reset). Rows ``U`` and ``V``
are stored at every step; slot ``Q`` exists only in the state carried between windows."""

U_BAR, V_BAR, Q_BAR = 0, 1, 2
"""Adjoint slots of the RF-type neurons."""

RESET_NONE, RESET_SOFT, RESET_HARD = 0, 1, 2
"""Integer codes of ``RSNNConfig.rf_reset``."""


@njit_kernel
def brf_forward_row(drive, prev, q_prev, new, q_new, z_new, cell, consts):
    """Advance one sequence's BRF neurons by one step; return the number of spikes."""
    dt, theta, gamma = consts[DT], consts[THETA], consts[GAMMA]
    refractory, smooth_reset = consts[REFRACTORY], consts[SMOOTH_RESET]
    one, zero = consts[ONE], consts[ZERO]
    omega, b_base = cell[0], cell[1]
    n_spikes = 0
    for i in range(drive.shape[0]):
        u, v, q = prev[U, i], prev[V, i], q_prev[i]

        # Damping on the divergence boundary, deepened by the offset and q_{t-1}.
        b = b_base[i] - q * smooth_reset

        # Explicit Euler step of du/dt = (b + i omega) u + I from the previous u and v.
        new[U, i] = ((u + (b * u) * dt) - (omega[i] * v) * dt) + drive[i] * dt
        new[V, i] = (v + (omega[i] * u) * dt) + (b * v) * dt

        # Threshold raised by q_{t-1}; q jumps by one per spike (branch-free, so it vectorises).
        spike = (new[U, i] - theta) - q * refractory > 0
        z_new[i] = spike
        q_new[i] = q * gamma + (one if spike else zero)
        n_spikes += spike
    return n_spikes


@njit_kernel(error_model="numpy")
def brf_backward_row(zbar, prev, q_prev, new, adj, drive_bar, cell, cell_grad, consts, surrogate):
    """Back-propagate one BRF step of one sequence (see the module docstring for the layouts).

    ``zbar`` is the adjoint of z_t from the readout and the next step's drive;
    ``surrogate`` is the integer code of the surrogate derivative g.
    """
    dt, theta, gamma = consts[DT], consts[THETA], consts[GAMMA]
    refractory, smooth_reset = consts[REFRACTORY], consts[SMOOTH_RESET]
    one = consts[ONE]
    omega, b_base = cell[0], cell[1]
    params = surrogate_params(surrogate, consts)
    for i in range(zbar.shape[0]):
        u, v, q = prev[U, i], prev[V, i], q_prev[i]

        # Spike: q_t = gamma q_{t-1} + z_t adds q_t's adjoint to z_t's; s_t passes it on.
        z_bar = zbar[i] + adj[Q_BAR, i]
        s_bar = z_bar * surrogate_value((new[U, i] - theta) - q * refractory, params)
        u_bar = adj[U_BAR, i] + s_bar
        v_bar = adj[V_BAR, i]
        q_bar = adj[Q_BAR, i] * gamma - s_bar * refractory

        # Euler step: adjoints of b_t, omega, I_t and the previous u, v.
        b = b_base[i] - q * smooth_reset
        decay = one + b * dt
        rotation = omega[i] * dt
        b_bar = (u_bar * u + v_bar * v) * dt
        cell_grad[0, i] += (v_bar * u - u_bar * v) * dt
        cell_grad[1, i] += b_bar
        drive_bar[i] = u_bar * dt
        adj[U_BAR, i] = u_bar * decay + v_bar * rotation
        adj[V_BAR, i] = v_bar * decay - u_bar * rotation

        # Damping b_t = p(omega) - b' - q_{t-1}.
        adj[Q_BAR, i] = q_bar - b_bar * smooth_reset


@njit_kernel
def replay_q_row(q_prev, z_new, q_new, consts):
    """Write q_t = gamma q_{t-1} + z_t of the BRF and BHRF from q_{t-1} and the spikes z_t.

    The arithmetic is that of ``brf_forward_row`` and ``bhrf_forward_row``, so the
    result has the bits the forward step computed.
    """
    gamma, one, zero = consts[GAMMA], consts[ONE], consts[ZERO]
    for i in range(q_new.shape[0]):
        q_new[i] = q_prev[i] * gamma + (one if z_new[i] != 0 else zero)


@njit_kernel
def rf_after_reset(u_tilde, v_tilde, spiked, reset, theta, one, zero):
    """Return the post-reset (u, v) of an RF neuron from its pre-reset values and spike.

    ``theta``, ``one`` and ``zero`` are the threshold, 1 and 0 in the working dtype.
    """
    z = one if spiked else zero
    if reset == RESET_SOFT:
        return u_tilde - z * theta, v_tilde
    if reset == RESET_HARD:
        keep = one - z
        return u_tilde * keep, v_tilde * keep
    return u_tilde, v_tilde


@njit_kernel
def rf_forward_row(drive, prev, z_prev, new, z_new, cell, consts, reset):
    """Advance one sequence's RF neurons by one step; return the number of spikes."""
    dt, theta, one, zero = consts[DT], consts[THETA], consts[ONE], consts[ZERO]
    omega, b = cell[0], cell[1]
    n_spikes = 0
    for i in range(drive.shape[0]):
        u, v = rf_after_reset(prev[U, i], prev[V, i], z_prev[i] != 0, reset, theta, one, zero)

        # Explicit Euler step with the constant damping b = -b'.
        new[U, i] = ((u + (b[i] * u) * dt) - (omega[i] * v) * dt) + drive[i] * dt
        new[V, i] = (v + (omega[i] * u) * dt) + (b[i] * v) * dt

        # Fixed threshold; the reset is applied when the state is next read.
        spike = new[U, i] - theta > 0
        z_new[i] = spike
        n_spikes += spike
    return n_spikes


@njit_kernel(error_model="numpy")
def rf_backward_row(zbar, prev, z_prev, new, z_new, adj, drive_bar, cell, cell_grad, consts, surrogate, reset):
    """Back-propagate one RF step of one sequence, including its reset."""
    dt, theta, one, zero = consts[DT], consts[THETA], consts[ONE], consts[ZERO]
    omega, b = cell[0], cell[1]
    params = surrogate_params(surrogate, consts)
    for i in range(zbar.shape[0]):
        u, v = rf_after_reset(prev[U, i], prev[V, i], z_prev[i] != 0, reset, theta, one, zero)
        u_bar, v_bar = adj[U_BAR, i], adj[V_BAR, i]
        z_bar = zbar[i]

        # Reset: the adjoint of the post-reset state reaches u~, v~ and the spike z_t.
        if reset == RESET_SOFT:
            z_bar = z_bar - u_bar * theta
        elif reset == RESET_HARD:
            z_bar = z_bar - (u_bar * new[U, i] + v_bar * new[V, i])
            if z_new[i] != 0:
                u_bar = zero
                v_bar = zero

        # Spike z_t = H(u~_t - theta).
        u_bar = u_bar + z_bar * surrogate_value(new[U, i] - theta, params)

        # Euler step: adjoints of b, omega, I_t and the previous post-reset u, v.
        decay = one + b[i] * dt
        rotation = omega[i] * dt
        cell_grad[0, i] += (v_bar * u - u_bar * v) * dt
        cell_grad[1, i] += (u_bar * u + v_bar * v) * dt
        drive_bar[i] = u_bar * dt
        adj[U_BAR, i] = u_bar * decay + v_bar * rotation
        adj[V_BAR, i] = v_bar * decay - u_bar * rotation


@njit_kernel
def bhrf_forward_row(drive, prev, q_prev, new, q_new, z_new, cell, consts):
    """Advance one sequence's BHRF neurons by one step; return the number of spikes."""
    dt, two_dt, theta, gamma = consts[DT], consts[TWO_DT], consts[THETA], consts[GAMMA]
    one, zero = consts[ONE], consts[ZERO]
    omega_sq, b_base = cell[0], cell[1]
    n_spikes = 0
    for i in range(drive.shape[0]):
        u, v, q = prev[U, i], prev[V, i], q_prev[i]

        # Damping deepened by the offset and q_{t-1}.
        b = b_base[i] + q

        # Semi-implicit step: position-like v from the previous u, then u with the new v.
        v_new = v + u * dt
        new[V, i] = v_new
        new[U, i] = ((u + drive[i] * dt) - (b * u) * two_dt) - (omega_sq[i] * v_new) * dt

        # Threshold raised by q_{t-1}; q jumps by one per spike.
        spike = (new[U, i] - theta) - q > 0
        z_new[i] = spike
        q_new[i] = q * gamma + (one if spike else zero)
        n_spikes += spike
    return n_spikes


@njit_kernel(error_model="numpy")
def bhrf_backward_row(zbar, prev, q_prev, new, adj, drive_bar, cell, cell_grad, consts, surrogate):
    """Back-propagate one BHRF step of one sequence."""
    dt, two_dt, theta, gamma = consts[DT], consts[TWO_DT], consts[THETA], consts[GAMMA]
    one = consts[ONE]
    omega_sq, b_base = cell[0], cell[1]
    params = surrogate_params(surrogate, consts)
    for i in range(zbar.shape[0]):
        u, q = prev[U, i], q_prev[i]

        # Spike, with q_t's adjoint added to z_t's.
        z_bar = zbar[i] + adj[Q_BAR, i]
        s_bar = z_bar * surrogate_value((new[U, i] - theta) - q, params)
        u_bar = adj[U_BAR, i] + s_bar
        q_bar = adj[Q_BAR, i] * gamma - s_bar

        # u_t = ((u + I dt) - (b u) 2dt) - (omega^2 v_t) dt: adjoints of I_t, b_t, omega^2, v_t.
        b = b_base[i] + q
        drive_bar[i] = u_bar * dt
        b_bar = -(u_bar * u) * two_dt
        cell_grad[0, i] += -(u_bar * new[V, i]) * dt
        cell_grad[1, i] += b_bar
        v_bar = adj[V_BAR, i] - (u_bar * omega_sq[i]) * dt

        # v_t = v + u dt: both reach the previous state.
        adj[U_BAR, i] = u_bar * (one - b * two_dt) + v_bar * dt
        adj[V_BAR, i] = v_bar

        # Damping b_t = omega^2 dt_p/2 + b' + q_{t-1}.
        adj[Q_BAR, i] = q_bar + b_bar
