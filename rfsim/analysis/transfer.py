"""Transfer functions and closed-form drive responses of the subthreshold neuron.

Below threshold (no spike, so q = 0) every model is a linear time-invariant
system in the state x = (u, v)::

    x_t = A x_{t-1} + B I_t,    u_t = C x_t,    B = (dt, 0),  C = (1, 0),

with the 2x2 matrix A of ``rfsim.analysis.boundary`` (the input enters u in the
same step, scaled by dt). For the Euler RF and BRF neuron the complex membrane
u + i*v obeys the one-pole recursion z_t = lambda*z_{t-1} + dt*I_t with
lambda = 1 + dt*(b + i*omega), so its transfer function is

    H(z) = dt / (1 - lambda*z**-1) = dt*z / (z - lambda).

The form dt / (z - lambda) is the same filter delayed by one step and has the
same magnitude on the unit circle. With scipy.signal conventions (coefficients
in powers of z**-1) the numerator is [dt] and the denominator [1, -lambda].
Evaluated at z = exp(i*w*dt) it is the steady-state complex gain at the angular
frequency w [rad/s]. The real part u alone has the transfer function
H_u(w) = (H(w) + conj(H(-w))) / 2 = C (I - A exp(-i*w*dt))^-1 B.

Impulse response. If A has distinct eigenvalues mu_k, Sylvester's formula gives
h[n] = C A^n B = sum_k r_k mu_k**n with residues
r_1 = C (A - mu_2) B / (mu_1 - mu_2) and r_2 = -C (A - mu_1) B / (mu_1 - mu_2).

Periodic spike drive and the transfer function. A train of input spikes of
height a every N steps (spikes at n = 0, N, 2N, ...) drives u, in the steady
state, to the periodic sum of the impulse response::

    u_m = a * sum_j h[m + j*N] = a * sum_k r_k mu_k**m / (1 - mu_k**N),

where m = 0 ... N-1 counts the steps since the last input spike. Its discrete
Fourier coefficients are the transfer function sampled at the harmonics of the
drive, u_m = a * IDFT_j(H_u(2*pi*j/(N*dt)))[m], so every harmonic j*Omega of the
spike train is weighted by H_u(j*Omega). The fundamental (j = 1) is the gain at
the drive frequency Omega = 2*pi/(N*dt); the harmonics j >= 2 are why a spike
drive at omega/j also excites the resonance (sub-harmonic peaks). The mean |u|
over a period is the mean of |u_m| above, so it depends on all harmonics, not
only on |H_u(Omega)|. From a zero state the finite sequence is the geometric
partial sum u_n = a * sum_k r_k mu_k**m (1 - mu_k**(N*(J+1))) / (1 - mu_k**N)
with n = J*N + m, which ``periodic_spike_response`` evaluates when given n_steps.

Sine drive. For I_n = a*sin(Omega*n*dt) the steady state is
u_n = a*|H_u(Omega)|*sin(Omega*n*dt + arg H_u(Omega)), and its time average of
|u| tends to (2/pi)*a*|H_u(Omega)| when the sampled phases spread evenly.
"""

from typing import NamedTuple

import numpy as np

from rfsim.analysis.boundary import neuron_damping
from rfsim.errors import RFSimError
from rfsim.stability import check_dt


def euler_factor(omega, b, dt):
    """Return lambda = 1 + dt*(b + i*omega), the Euler RF step's free factor (complex).

    Parameters
    ----------
    omega : float or array_like
        Angular frequency [rad/s].
    b : float or array_like
        Damping [1/s] (negative for a decaying oscillation).
    dt : float
        Time step [s].
    """
    return 1.0 + dt * (np.asarray(b, dtype=float) + 1j * np.asarray(omega, dtype=float))


def effective_resonance(omega, b, dt):
    """Return the angular frequency [rad/s] at which the Euler RF step rotates.

    One step turns u by the angle of lambda = 1 + dt*(b + i*omega), so the free
    oscillation of the discrete neuron has the angular frequency
    atan2(dt*omega, 1 + dt*b) / dt. It tends to omega as dt -> 0 and exceeds
    omega for the BRF neuron (for b_offset = 0 it is asin(dt*omega)/dt).

    Parameters
    ----------
    omega : float or array_like
        Angular frequency [rad/s].
    b : float or array_like
        Damping [1/s].
    dt : float
        Time step [s].

    Returns
    -------
    float or ndarray
        Effective resonance frequency [rad/s].
    """
    check_dt(dt)
    result = np.arctan2(dt * np.asarray(omega, dtype=float), 1.0 + dt * np.asarray(b, dtype=float)) / dt
    return result if np.ndim(result) else float(result)


def transfer_coefficients(omega, b, dt):
    """Return (numerator, denominator) of the Euler RF transfer function in powers of z**-1.

    H(z) = dt / (1 - lambda*z**-1), so numerator = [dt] and
    denominator = [1, -lambda] (complex), ready for ``scipy.signal.freqz``
    (with ``fs = 2*pi/dt`` to get frequencies in rad/s) or ``scipy.signal.dlti``.
    """
    check_dt(dt)
    lam = complex(euler_factor(omega, b, dt))
    return np.array([dt]), np.array([1.0, -lam])


def _frequency_grid(w, dt):
    """Return the angular frequencies [rad/s] for ``w``: a count on [0, pi/dt) or explicit values."""
    if np.ndim(w) == 0 and isinstance(w, (int, np.integer)):
        if w < 1:
            raise RFSimError(f"w must be a positive count of frequencies, got w={w!r}")
        return np.arange(w) * (np.pi / dt / w)
    w = np.atleast_1d(np.asarray(w, dtype=float))
    if not np.all(np.isfinite(w)):
        raise RFSimError("w must contain finite angular frequencies in rad/s")
    return w


def transfer_function(omega, b, dt, w=512):
    """Evaluate the Euler RF transfer function H = dt / (1 - lambda*exp(-i*w*dt)).

    This is the complex gain from the input current to the complex membrane
    u + i*v below threshold (module docstring). It equals ``scipy.signal.freqz``
    of ``transfer_coefficients`` at the normalised frequencies w*dt.

    Parameters
    ----------
    omega : float
        Angular frequency of the neuron [rad/s].
    b : float
        Damping [1/s].
    dt : float
        Time step [s].
    w : int or array_like, optional
        Angular frequencies [rad/s], or a count of frequencies evenly spaced on
        [0, pi/dt) as ``freqz`` does (default 512).

    Returns
    -------
    w : ndarray
        Angular frequencies [rad/s].
    h : ndarray of complex
        Transfer function [s] (u per unit input current per unit time).
    """
    check_dt(dt)
    w = _frequency_grid(w, dt)
    lam = euler_factor(omega, b, dt)
    return w, dt / (1.0 - lam * np.exp(-1j * w * dt))


class StateSpace(NamedTuple):
    """Linear subthreshold dynamics x_t = A x_{t-1} + B I_t, u_t = C x_t of one neuron.

    Attributes
    ----------
    A : ndarray, shape (2, 2)
        Transition matrix of (u, v).
    B : ndarray, shape (2,)
        Input vector (dt, 0) [s].
    C : ndarray, shape (2,)
        Output vector (1, 0): the observed u.
    dt : float
        Time step [s].
    """

    A: np.ndarray
    B: np.ndarray
    C: np.ndarray
    dt: float


def rf_state_space(omega, b, dt, scheme="euler"):
    """Return the ``StateSpace`` of an RF or BRF neuron with damping ``b`` [1/s].

    Euler: A = [[1 + dt*b, -dt*omega], [dt*omega, 1 + dt*b]]. Exact:
    A = exp(b*dt) * [[cos(omega*dt), -sin(omega*dt)], [sin(omega*dt), cos(omega*dt)]].
    """
    check_dt(dt)
    if scheme == "exact":
        scale = np.exp(b * dt)
        c, s = scale * np.cos(omega * dt), scale * np.sin(omega * dt)
    elif scheme == "euler":
        c, s = 1.0 + dt * b, dt * omega
    else:
        raise RFSimError(f"scheme must be 'euler' or 'exact', got scheme={scheme!r}")
    A = np.array([[c, -s], [s, c]], dtype=float)
    return StateSpace(A=A, B=np.array([dt, 0.0]), C=np.array([1.0, 0.0]), dt=float(dt))


def harmonic_state_space(omega, b, dt, order="implementation"):
    """Return the ``StateSpace`` of a harmonic (HRF, BHRF) neuron with damping ``b`` [1/s].

    Implementation's order: A = [[1 - 2*b*dt - (omega*dt)**2, -omega**2*dt], [dt, 1]].
    Paper's order: A = [[1 - 2*b*dt, -omega**2*dt], [dt, 1]].
    """
    check_dt(dt)
    a11 = 1.0 - 2.0 * b * dt
    if order == "implementation":
        a11 -= (omega * dt) ** 2
    elif order != "paper":
        raise RFSimError(f"order must be 'implementation' or 'paper', got order={order!r}")
    A = np.array([[a11, -(omega**2) * dt], [dt, 1.0]], dtype=float)
    return StateSpace(A=A, B=np.array([dt, 0.0]), C=np.array([1.0, 0.0]), dt=float(dt))


def neuron_state_space(model, omega, b_offset, dt, scheme="euler", order="implementation",
                       boundary="implementation", damping_sign="implementation"):
    """Return the subthreshold ``StateSpace`` of one neuron of ``model``.

    The damping follows ``rfsim.analysis.boundary.neuron_damping`` with q = 0;
    the options are those of that function. ``omega`` [rad/s] and
    ``b_offset`` [1/s] are scalars.
    """
    damping = neuron_damping(model, omega, dt, scheme=scheme, order=order, boundary=boundary,
                             damping_sign=damping_sign)
    b = float(damping.damping(b_offset)[0])
    if model in ("rf", "brf"):
        return rf_state_space(float(omega), b, dt, scheme)
    return harmonic_state_space(float(omega), b, dt, order)


def state_space_transfer(system, w=512):
    """Evaluate H_u(w) = C (I - A exp(-i*w*dt))^-1 B, the transfer function to u.

    Parameters
    ----------
    system : StateSpace
    w : int or array_like, optional
        Angular frequencies [rad/s], or a count evenly spaced on [0, pi/dt).

    Returns
    -------
    w : ndarray
        Angular frequencies [rad/s].
    h : ndarray of complex
        Transfer function from the input current to u [s].
    """
    w = _frequency_grid(w, system.dt)
    shift = np.exp(-1j * w * system.dt)
    (a11, a12), (a21, a22) = system.A

    # 2x2 inverse of M = I - A*shift, applied to B and read out by C.
    m11, m12 = 1.0 - a11 * shift, -a12 * shift
    m21, m22 = -a21 * shift, 1.0 - a22 * shift
    det = m11 * m22 - m12 * m21
    x1 = (m22 * system.B[0] - m12 * system.B[1]) / det
    x2 = (-m21 * system.B[0] + m11 * system.B[1]) / det
    return w, system.C[0] * x1 + system.C[1] * x2


def impulse_modes(system):
    """Return the eigenvalues mu and residues r with h[n] = C A^n B = sum_k r_k mu_k**n.

    Parameters
    ----------
    system : StateSpace

    Returns
    -------
    mu, residues : ndarray of complex, shape (2,)

    Raises
    ------
    RFSimError
        If A has a repeated eigenvalue (critical damping), where the modal form
        does not exist.
    """
    A, B, C = system.A, system.B, system.C
    trace = A[0, 0] + A[1, 1]
    det = A[0, 0] * A[1, 1] - A[0, 1] * A[1, 0]
    root = np.sqrt(complex(0.25 * trace * trace - det))
    mu = np.array([0.5 * trace + root, 0.5 * trace - root])
    gap = mu[0] - mu[1]
    # NOTE: near critical damping the residues grow like 1/gap and cancel, so the
    # closed forms built on them lose about log10(1/|gap|) digits there.
    if gap == 0:
        raise RFSimError(
            "the transition matrix has a repeated eigenvalue (critical damping), so the modal closed form "
            "does not exist; change b_offset slightly"
        )

    identity = np.eye(2)
    r1 = C @ (A - mu[1] * identity) @ B / gap
    r2 = -(C @ (A - mu[0] * identity) @ B) / gap
    return mu, np.array([r1, r2])


def impulse_response(system, n_steps):
    """Return h[n] = C A^n B for n = 0 ... n_steps-1, the response of u to a unit input at step 0."""
    mu, residues = impulse_modes(system)
    n = np.arange(n_steps)
    return np.real(residues @ np.power(mu[:, None], n[None, :]))


class PeriodicResponse(NamedTuple):
    """Response of u to input spikes of height ``amplitude`` every ``period_steps`` steps.

    Attributes
    ----------
    u : ndarray
        u at each step: one steady-state period (index = steps since the last
        input spike), or the whole sequence from a zero state.
    mean_abs_u : float
        Mean of |u| over ``u``.
    """

    u: np.ndarray
    mean_abs_u: float


def periodic_spike_response(system, period_steps, amplitude=1.0, n_steps=None):
    """Evaluate the closed form of u under a periodic input spike train.

    Input spikes of height ``amplitude`` arrive at steps 0, N, 2N, ... with
    N = ``period_steps``. Without ``n_steps`` the result is the steady-state
    period u_m = a * sum_k r_k mu_k**m / (1 - mu_k**N), m = 0 ... N-1, the periodic
    sum of the impulse response. With ``n_steps`` it is the sequence from a zero
    state, u_n = a * sum_k r_k mu_k**m (1 - mu_k**(N*(J+1))) / (1 - mu_k**N),
    n = J*N + m. See the module docstring for the link to the transfer function.

    Parameters
    ----------
    system : StateSpace
        A convergent system (spectral radius < 1 gives a unique steady state).
    period_steps : int
        Drive period N in steps, >= 1.
    amplitude : float
        Input current at each spike step (u jumps by amplitude*dt).
    n_steps : int, optional
        Length of the sequence from a zero state.

    Returns
    -------
    PeriodicResponse
    """
    if int(period_steps) != period_steps or period_steps < 1:
        raise RFSimError(f"period_steps must be a positive integer, got period_steps={period_steps!r}")
    period_steps = int(period_steps)
    mu, residues = impulse_modes(system)
    denominator = 1.0 - mu**period_steps
    if np.any(np.abs(denominator) == 0):
        raise RFSimError("an eigenvalue to the power period_steps equals 1, so the drive resonates without bound")

    if n_steps is None:
        m = np.arange(period_steps)
        growth = np.ones((2, period_steps))
    else:
        n = np.arange(int(n_steps))
        m = n % period_steps
        periods_so_far = n // period_steps + 1
        growth = 1.0 - np.power(mu[:, None], (period_steps * periods_so_far)[None, :])

    modes = np.power(mu[:, None], m[None, :]) * growth / denominator[:, None]
    u = amplitude * np.real(residues @ modes)
    return PeriodicResponse(u=u, mean_abs_u=float(np.mean(np.abs(u))))


def periodic_response_from_transfer(system, period_steps, amplitude=1.0):
    """Return the steady-state period of u from the transfer function at the drive's harmonics.

    u_m = a * IDFT_j(H_u(2*pi*j/(N*dt)))[m]: the inverse DFT of the transfer
    function sampled at the N harmonics of the spike train. It equals the
    periodic sum of ``periodic_spike_response`` (module docstring) and is
    computed independently of the impulse modes.
    """
    if int(period_steps) != period_steps or period_steps < 1:
        raise RFSimError(f"period_steps must be a positive integer, got period_steps={period_steps!r}")
    period_steps = int(period_steps)
    harmonics = 2.0 * np.pi * np.arange(period_steps) / (period_steps * system.dt)
    _, h = state_space_transfer(system, harmonics)
    return amplitude * np.real(np.fft.ifft(h))


def spike_train_response(system, spike_steps, n_steps, amplitude=1.0):
    """Evaluate u exactly for input spikes at arbitrary steps, from a zero state.

    Between input spikes each mode decays freely, and at a spike the modal
    amplitude s_k = mu**(n_k - n_{k-1}) * s_{k-1} + 1 (s_0 = 1), so
    u_n = a * Re(sum_k r_k mu_k**(n - n_last) s_last) with n_last the last
    input spike at or before n. The cost is one short loop over the input
    spikes and vectorised work over the steps.

    Parameters
    ----------
    system : StateSpace
    spike_steps : array_like of int
        Increasing step indices of the input spikes.
    n_steps : int
        Sequence length.
    amplitude : float
        Input current at each spike step.

    Returns
    -------
    ndarray, shape (n_steps,)
        u at each step.
    """
    spike_steps = np.asarray(spike_steps, dtype=np.int64)
    if spike_steps.size and np.any(np.diff(spike_steps) <= 0):
        raise RFSimError("spike_steps must be strictly increasing step indices")
    mu, residues = impulse_modes(system)
    u = np.zeros(int(n_steps))
    spike_steps = spike_steps[spike_steps < n_steps]
    if spike_steps.size == 0:
        return u

    # Powers mu**m for every gap m that occurs, so each step only looks one up.
    n = np.arange(spike_steps[0], n_steps)
    last = np.searchsorted(spike_steps, n, side="right") - 1
    since = n - spike_steps[last]
    gaps = np.diff(spike_steps)
    longest = max(int(since.max()), int(gaps.max()) if gaps.size else 0)
    powers = np.power(mu[None, :], np.arange(longest + 1, dtype=float)[:, None])

    # Modal amplitude right after each input spike.
    state = np.empty((spike_steps.size, 2), dtype=complex)
    state[0] = 1.0
    for k in range(1, spike_steps.size):
        state[k] = powers[gaps[k - 1]] * state[k - 1] + 1.0

    # Free decay from the last input spike up to each step.
    modes = powers[since] * state[last]
    u[spike_steps[0]:] = amplitude * np.real(modes @ residues)
    return u


def sine_response(system, drive_omega, n_steps, amplitude=1.0):
    """Evaluate u exactly for the input I_n = amplitude*sin(drive_omega*n*dt), from a zero state.

    With zeta = exp(i*drive_omega*dt), sin = (zeta**n - conj(zeta)**n)/(2i) and the
    geometric sum sum_{j<=n} mu**(n-j) zeta**j = (zeta**(n+1) - mu**(n+1))/(zeta - mu)
    give u_n in closed form for each mode.

    Parameters
    ----------
    system : StateSpace
    drive_omega : float
        Drive angular frequency [rad/s].
    n_steps : int
        Sequence length.
    amplitude : float
        Peak input current.

    Returns
    -------
    ndarray, shape (n_steps,)
    """
    mu, residues = impulse_modes(system)
    n1 = np.arange(1, int(n_steps) + 1, dtype=float)[:, None]
    total = np.zeros((int(n_steps), 2), dtype=complex)
    for zeta, sign in ((np.exp(1j * drive_omega * system.dt), 1.0), (np.exp(-1j * drive_omega * system.dt), -1.0)):
        gap = zeta - mu
        resonant = np.abs(gap) < 1e-300
        safe_gap = np.where(resonant, 1.0, gap)
        geometric = (zeta**n1 - np.power(mu, n1)) / safe_gap
        # zeta == mu: the sum of n+1 equal terms mu**n.
        geometric = np.where(resonant, n1 * np.power(mu, n1 - 1.0), geometric)
        total += sign * geometric
    return amplitude * np.real((total / 2j) @ residues)


def sine_steady_state(system, drive_omega, amplitude=1.0):
    """Return (peak |u|, mean |u|) of the steady state under a sine drive.

    Peak = amplitude*|H_u(drive_omega)|; the mean of |u| over evenly spread phases
    is (2/pi) times the peak.
    """
    _, h = state_space_transfer(system, np.atleast_1d(drive_omega))
    peak = amplitude * np.abs(h)
    peak = peak if np.ndim(drive_omega) else float(peak[0])
    return peak, 2.0 / np.pi * peak


def oscillation_frequency(system):
    """Return the angular frequency [rad/s] of the free oscillation of a discrete system.

    It is the angle of the eigenvalue of A with positive imaginary part divided
    by dt; for the Euler RF neuron this is ``effective_resonance``. NaN when
    both eigenvalues are real (an overdamped harmonic neuron).
    """
    eigenvalues = np.linalg.eigvals(system.A)
    upper = eigenvalues[np.argmax(eigenvalues.imag)]
    if upper.imag <= 0:
        return float("nan")
    return float(np.angle(upper) / system.dt)
