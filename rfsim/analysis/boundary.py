"""Convergence regions of the discretised RF and harmonic RF neurons.

Every model here has linear subthreshold dynamics x_t = A x_{t-1} + B I_t with a
2x2 transition matrix A that depends on the damping b [1/s], the angular
frequency omega [rad/s] and the time step dt [s]. The free response does not
grow exactly when the spectral radius of A is <= 1. This module gives, for
each model and integration scheme, the interval of b where that holds.
"The paper" below is Higuchi, Kairat, Bohte and Otte, "Balanced
Resonate-and-Fire Neurons" (ICML 2024), and "the implementation" is the
authors' public PyTorch code (AdaptiveAILab/brf-neurons).

RF and BRF neurons, du/dt = (b + i*omega)*u + I (b < 0 decays)
    Explicit Euler multiplies u by lambda = 1 + dt*(b + i*omega) per step. The
    real form of A is [[1 + dt*b, -dt*omega], [dt*omega, 1 + dt*b]] with the
    complex pair lambda, conj(lambda). With r = sqrt(1 - (dt*omega)**2),
    |lambda| <= 1 exactly when

        b_lower = (-1 - r)/dt  <=  b  <=  (-1 + r)/dt = p(omega) = b_upper.

    The upper root p(omega) is the divergence boundary of the BRF neuron, where
    the oscillation neither grows nor decays (sustained oscillation). Below the
    lower root the Euler step overshoots: 1 + dt*b < -r, so a very strong
    damping diverges too. No b works when omega*dt > 1, so omega <= 1/dt. The
    BRF neuron sets b = p(omega) - b_offset and converges exactly for
    0 <= b_offset <= 2*r/dt (``rfsim.stability``).

    The exact exponential step multiplies u by exp(dt*(b + i*omega)), of modulus
    exp(b*dt), so it converges exactly when b <= 0, for every omega.

Harmonic RF and BHRF neurons, d^2v/dt^2 + 2*b*dv/dt + omega^2*v = I, u = dv/dt
    Here b > 0 decays. ``bhrf_boundary`` derives the region from the trace and
    determinant of A (its Notes). With w = omega*dt:

    * Paper's order (explicit Euler): b in [dt*omega**2/2, (1 + w**2/4)/dt].
      det = 1 exactly at b = dt*omega**2/2, the paper's omega**2/200 at
      dt = 0.01 s, so this order yields p_h(omega) = dt*omega**2/2.
    * Implementation's order (v first, then u with the new v):
      b in [0, (1 - w**2/4)/dt], with det = 1 - 2*b*dt. The sustained
      oscillation is at b = 0, so the authors' hard-coded 0.005*omega**2 already
      damps it, to |eigenvalue| = sqrt(1 - w**2) per step at b_offset = 0.

    Both intervals are non-empty only for omega <= 2/dt.

Each region also records b_critical, the damping at which the eigenvalues turn
from a complex pair into two real ones (omega for the paper's order,
omega - dt*omega**2/2 for the implementation's order, none for the RF).
"""

import warnings
from dataclasses import dataclass

import numpy as np

from rfsim.errors import DivergenceWarning, RFSimError
from rfsim.neurons.hrf import p_h_omega
from rfsim.stability import b_offset_interval, check_dt, check_omega, p_omega

MODELS = ("rf", "brf", "hrf", "bhrf")
"""Neuron models known to the analyses."""

RF_SCHEMES = ("euler", "exact")
"""Integration schemes of the RF and BRF neurons."""

HARMONIC_ORDERS = ("implementation", "paper")
"""Update orders of the harmonic neurons (see the module docstring)."""

HARMONIC_BOUNDARIES = ("implementation", "sustained")
"""Choices of p_h(omega) for the BHRF neuron: dt*omega**2/2, or the sustained damping of the order."""

DAMPING_SIGNS = ("implementation", "paper")
"""BHRF damping b = p_h + b_offset + q (implementation) or p_h - b_offset - q (paper)."""


@dataclass(frozen=True)
class ConvergenceRegion:
    """Interval of damping b [1/s] in which a discrete neuron's free response does not grow.

    Attributes
    ----------
    family : str
        ``"rf"`` (complex RF form, also used by the BRF) or ``"harmonic"`` (HRF, BHRF).
    scheme : str
        ``"euler"`` or ``"exact"`` for the RF family; the update order
        ``"implementation"`` or ``"paper"`` for the harmonic family.
    dt : float
        Time step [s].
    omega : ndarray
        Angular frequencies [rad/s].
    b_lower, b_upper : ndarray
        Lower and upper root [1/s]: the spectral radius is <= 1 exactly for
        b_lower <= b <= b_upper, and equals 1 at both ends (-inf when there is
        no lower root).
    b_sustained : ndarray
        Damping [1/s] at which a complex eigenvalue pair lies on the unit circle
        and the oscillation neither grows nor decays (p(omega) for the RF family).
    b_critical : ndarray
        Damping [1/s] above which the eigenvalues are real (NaN for the RF family,
        whose eigenvalues are always complex for omega > 0).
    omega_max : float
        Largest angular frequency [rad/s] with a non-empty region (1/dt, 2/dt or inf).
    """

    family: str
    scheme: str
    dt: float
    omega: np.ndarray
    b_lower: np.ndarray
    b_upper: np.ndarray
    b_sustained: np.ndarray
    b_critical: np.ndarray
    omega_max: float

    def contains(self, b):
        """Return True where the damping ``b`` [1/s] lies in the closed region."""
        b = np.asarray(b, dtype=float)
        return (b >= self.b_lower) & (b <= self.b_upper)

    def offset_interval(self, base, sign):
        """Return the interval of b_offset [1/s] for a damping b = base + sign*b_offset.

        Parameters
        ----------
        base : float or ndarray
            Damping at b_offset = 0 [1/s], for example p(omega) for the BRF neuron.
        sign : {-1, +1}
            How b_offset enters the damping.

        Returns
        -------
        low, high : ndarray
            Interval ends [1/s]; low > high means no b_offset converges.
        """
        if sign not in (-1, 1):
            raise RFSimError(f"sign must be -1 or +1, got sign={sign!r}")
        low = (self.b_lower - base) * sign
        high = (self.b_upper - base) * sign
        if sign < 0:
            low, high = high, low
        # Adding 0.0 turns a signed zero from the sign flip into +0.0.
        return low + 0.0, high + 0.0


def _as_omega(omega, dt, omega_max_factor):
    """Validate dt and omega in (0, omega_max_factor/dt] and return omega as an array."""
    check_dt(dt)
    omega = np.atleast_1d(np.asarray(omega, dtype=float))
    if omega.size == 0:
        raise RFSimError("omega is empty: give at least one angular frequency in rad/s")
    bad = ~np.isfinite(omega) | (omega <= 0)
    if bad.any():
        raise RFSimError(
            f"omega must be a finite positive angular frequency in rad/s, got omega={float(omega[bad][0])!r}"
        )
    too_fast = omega * dt > omega_max_factor
    if too_fast.any():
        value = omega[too_fast][0]
        raise RFSimError(
            f"omega * dt must be <= {omega_max_factor:g} for a non-empty convergence region, got "
            f"omega={value:g} rad/s, dt={dt:g} s (omega*dt={value * dt:g}); lower omega below "
            f"{omega_max_factor / dt:g} rad/s or use a smaller dt"
        )
    return omega


def rf_boundary(omega, dt, scheme="euler"):
    """Return the convergence region in b of the RF and BRF neurons.

    Parameters
    ----------
    omega : float or array_like
        Angular frequency [rad/s]; in (0, 1/dt] for the Euler scheme.
    dt : float
        Time step [s].
    scheme : {"euler", "exact"}
        Explicit Euler (the authors' implementation) or the exact exponential step.

    Returns
    -------
    ConvergenceRegion
        Euler: b in [(-1 - r)/dt, (-1 + r)/dt] with r = sqrt(1 - (dt*omega)**2),
        omega_max = 1/dt. Exact: b in [-inf, 0], omega_max = inf.

    Raises
    ------
    RFSimError
        For an unknown scheme, dt <= 0, or omega outside the valid range.

    Examples
    --------
    >>> region = rf_boundary([10.0, 100.0], dt=0.01)
    >>> region.b_upper.round(4).tolist(), region.b_lower.round(4).tolist()
    ([-0.5013, -100.0], [-199.4987, -100.0])
    """
    if scheme not in RF_SCHEMES:
        raise RFSimError(f"scheme must be one of {RF_SCHEMES}, got scheme={scheme!r}")

    if scheme == "exact":
        omega = _as_omega(omega, dt, np.inf)
        zero = np.zeros_like(omega)
        return ConvergenceRegion(
            family="rf", scheme=scheme, dt=float(dt), omega=omega, b_lower=np.full_like(omega, -np.inf),
            b_upper=zero, b_sustained=zero.copy(), b_critical=np.full_like(omega, np.nan), omega_max=np.inf,
        )

    omega = np.atleast_1d(np.asarray(omega, dtype=float))
    check_omega(omega, dt)
    r = np.sqrt(1.0 - (dt * omega) ** 2)
    upper = p_omega(omega, dt)
    return ConvergenceRegion(
        family="rf", scheme=scheme, dt=float(dt), omega=omega, b_lower=(-1.0 - r) / dt, b_upper=upper,
        b_sustained=upper.copy(), b_critical=np.full_like(omega, np.nan), omega_max=1.0 / dt,
    )


def bhrf_boundary(omega, dt, order="implementation"):
    """Return the convergence region in b of the harmonic (HRF, BHRF) neurons.

    With x = b*dt and w = omega*dt (derivation in the Notes):

    * ``order="paper"`` (explicit Euler): b in [dt*omega**2/2, (1 + w**2/4)/dt].
      det = 1 at b = dt*omega**2/2, which is the paper's p_h(omega).
    * ``order="implementation"`` (v first, then u with the new v):
      b in [0, (1 - w**2/4)/dt]. det = 1 - 2*b*dt is 1 only at b = 0.

    At the lower root the complex eigenvalue pair lies on the unit circle
    (sustained oscillation). At the upper root one real eigenvalue is -1 (the
    step overshoots), so a very strong damping diverges too.

    Parameters
    ----------
    omega : float or array_like
        Angular frequency [rad/s], in (0, 2/dt].
    dt : float
        Time step [s].
    order : {"implementation", "paper"}
        Update order of the harmonic step.

    Returns
    -------
    ConvergenceRegion
        With family ``"harmonic"``, scheme = order and omega_max = 2/dt.

    Raises
    ------
    RFSimError
        For an unknown order, dt <= 0, or omega outside (0, 2/dt].

    Notes
    -----
    The free step maps (u, v) by a 2x2 matrix A with trace T and determinant D.
    Both eigenvalues lie in the closed unit disk exactly when |D| <= 1 and
    |T| <= 1 + D (the Jury conditions).

    Paper's order, u_t = u + dt*(-2*b*u - omega**2*v), v_t = v + dt*u:
    A = [[1 - 2x, -omega**2*dt], [dt, 1]], D = 1 - 2x + w**2, T = 2 - 2x.
    D <= 1 gives x >= w**2/2, and -T <= 1 + D gives x <= 1 + w**2/4.
    T <= 1 + D always holds, and D >= -1 follows from the second bound. The
    discriminant T**2 - 4D = 4*(x**2 - w**2) is negative for b < omega, so the
    eigenvalues are a complex pair with |eigenvalue|**2 = D there. Hence
    |eigenvalue| = 1 (det = 1) exactly at b = dt*omega**2/2, which lies below
    omega for w < 2. At x = 1 + w**2/4 the polynomial mu**2 - T*mu + D vanishes
    at mu = -1, a real eigenvalue (overshoot).

    Implementation's order, v_t = v + dt*u, then u_t = u + dt*(-2*b*u - omega**2*v_t):
    substituting v_t gives A = [[1 - 2x - w**2, -omega**2*dt], [dt, 1]],
    D = 1 - 2x and T = 2 - 2x - w**2. D <= 1 gives x >= 0, and -T <= 1 + D gives
    x <= 1 - w**2/4. The discriminant vanishes at b = omega - dt*omega**2/2
    (``b_critical``), below which the pair is complex with |eigenvalue|**2 = D.
    So det = 1 and the sustained oscillation occur at b = 0, not at
    dt*omega**2/2, where |eigenvalue| = sqrt(1 - w**2) instead. The other
    semi-implicit order (u first with the old v, then v with the new u) has the
    same T and D.

    In each order the lower root lies below the upper root exactly when w <= 2, so
    omega <= 2/dt; at w = 2 the region is one point with a double eigenvalue -1.

    Examples
    --------
    >>> region = bhrf_boundary(10.0, dt=0.01, order="paper")
    >>> round(float(region.b_sustained[0]), 12), round(float(region.b_upper[0]), 12)
    (0.5, 100.25)
    """
    if order not in HARMONIC_ORDERS:
        raise RFSimError(f"order must be one of {HARMONIC_ORDERS}, got order={order!r}")
    omega = _as_omega(omega, dt, 2.0)
    w_sq = (omega * dt) ** 2

    if order == "paper":
        lower = 0.5 * dt * omega**2
        upper = (1.0 + 0.25 * w_sq) / dt
        critical = omega.copy()
    else:
        lower = np.zeros_like(omega)
        upper = (1.0 - 0.25 * w_sq) / dt
        critical = omega - 0.5 * dt * omega**2

    return ConvergenceRegion(
        family="harmonic", scheme=order, dt=float(dt), omega=omega, b_lower=lower, b_upper=upper,
        b_sustained=lower.copy(), b_critical=critical, omega_max=2.0 / dt,
    )


def harmonic_boundary_damping(omega, dt, order="implementation", boundary="implementation"):
    """Return the BHRF damping p_h(omega) [1/s] added to b_offset.

    ``boundary="implementation"`` gives dt*omega**2/2 (the authors' hard-coded
    0.005*omega**2 generalised to any dt); ``"sustained"`` gives the
    sustained-oscillation damping of the order (``bhrf_boundary(...).b_sustained``).
    """
    if boundary not in HARMONIC_BOUNDARIES:
        raise RFSimError(f"boundary must be one of {HARMONIC_BOUNDARIES}, got boundary={boundary!r}")
    if order not in HARMONIC_ORDERS:
        raise RFSimError(f"order must be one of {HARMONIC_ORDERS}, got order={order!r}")
    # The BHRF model's own definition, so that analysis and simulation use one p_h.
    return np.atleast_1d(np.asarray(p_h_omega(omega, dt, order, boundary), dtype=float))


@dataclass(frozen=True)
class NeuronDamping:
    """Subthreshold damping of one model as a function of b_offset: b = base + sign*b_offset.

    Attributes
    ----------
    model : str
        ``"rf"``, ``"brf"``, ``"hrf"`` or ``"bhrf"``.
    region : ConvergenceRegion
        Convergence region of the model's integration scheme.
    base : ndarray
        Damping at b_offset = 0 and q = 0 [1/s]: 0 (RF, HRF), p(omega) (BRF) or p_h(omega) (BHRF).
    sign : int
        -1 where b_offset lowers b (RF, BRF, BHRF with the paper's sign), +1 otherwise.
    """

    model: str
    region: ConvergenceRegion
    base: np.ndarray
    sign: int

    def damping(self, b_offset):
        """Return the damping b [1/s] for ``b_offset`` [1/s] at q = 0."""
        return self.base + self.sign * np.asarray(b_offset, dtype=float)

    def offset_interval(self):
        """Return (low, high), the b_offset interval [1/s] in which the model converges."""
        if self.model == "brf" and self.region.scheme == "euler":
            # Exactly [0, 2r/dt], without the rounding of b_upper - b_lower.
            return b_offset_interval(self.region.omega, self.region.dt)
        return self.region.offset_interval(self.base, self.sign)


def neuron_damping(model, omega, dt, scheme="euler", order="implementation", boundary="implementation",
                   damping_sign="implementation"):
    """Describe how b_offset sets the subthreshold damping of ``model``.

    The models, with q the refractory variable (0 below threshold):

    * ``"rf"``: RF without reset, b = -b_offset (Euler or exact scheme).
    * ``"brf"``: b = p(omega) - b_offset - q (Euler or exact scheme).
    * ``"hrf"``: harmonic RF with constant damping b = b_offset.
    * ``"bhrf"``: b = p_h(omega) + b_offset + q (or p_h - b_offset - q with the
      paper's damping sign), with p_h from ``harmonic_boundary_damping``.

    Parameters
    ----------
    model : {"rf", "brf", "hrf", "bhrf"}
    omega : float or array_like
        Angular frequency [rad/s].
    dt : float
        Time step [s].
    scheme : {"euler", "exact"}
        RF and BRF integration scheme.
    order : {"implementation", "paper"}
        HRF and BHRF update order.
    boundary : {"implementation", "sustained"}
        BHRF choice of p_h(omega).
    damping_sign : {"implementation", "paper"}
        BHRF sign of b_offset and q in the damping.

    Returns
    -------
    NeuronDamping
    """
    if model not in MODELS:
        raise RFSimError(f"model must be one of {MODELS}, got model={model!r}")

    if model in ("rf", "brf"):
        region = rf_boundary(omega, dt, scheme)
        base = np.zeros_like(region.omega)
        if model == "brf":
            # The exact scheme converges for b <= 0, so its boundary is b = 0.
            base = region.b_sustained.copy()
        return NeuronDamping(model=model, region=region, base=base, sign=-1)

    region = bhrf_boundary(omega, dt, order)
    if model == "hrf":
        return NeuronDamping(model=model, region=region, base=np.zeros_like(region.omega), sign=1)

    if damping_sign not in DAMPING_SIGNS:
        raise RFSimError(f"damping_sign must be one of {DAMPING_SIGNS}, got damping_sign={damping_sign!r}")
    base = harmonic_boundary_damping(region.omega, dt, order, boundary)
    sign = -1 if damping_sign == "paper" else 1
    return NeuronDamping(model=model, region=region, base=base, sign=sign)


def check_neuron_b_offset(damping, b_offset, allow_divergent=False):
    """Check that ``b_offset`` keeps a neuron inside its convergence region.

    Parameters
    ----------
    damping : NeuronDamping
        The model's damping, from ``neuron_damping``.
    b_offset : float or array_like
        Damping offset [1/s], broadcast against the omegas of ``damping``.
    allow_divergent : bool, optional
        If True, a divergent ``b_offset`` gives a ``DivergenceWarning`` instead of an error.

    Raises
    ------
    RFSimError
        If ``b_offset`` is not finite, or lies outside the interval and
        ``allow_divergent`` is False.
    """
    region = damping.region
    b_offset = np.asarray(b_offset, dtype=float)
    if not np.all(np.isfinite(b_offset)):
        raise RFSimError(f"b_offset must be finite, got b_offset={b_offset.tolist()!r}")
    low, high = damping.offset_interval()
    b_offset, low, high, omega = np.broadcast_arrays(b_offset, low, high, region.omega)
    outside = (b_offset < low) | (b_offset > high)
    if not outside.any():
        return

    k = np.flatnonzero(outside)[0]
    message = (
        f"b_offset={b_offset.flat[k]:g} 1/s lies outside the convergence interval "
        f"[{low.flat[k]:g}, {high.flat[k]:g}] 1/s of the {damping.model} neuron at omega={omega.flat[k]:g} rad/s, "
        f"dt={region.dt:g} s ({region.scheme} scheme), so the neuron diverges"
    )
    if not allow_divergent:
        raise RFSimError(message + "; choose b_offset inside the interval or allow divergent parameters "
                                     "(allow_divergent=True)")
    # stacklevel=3 points at the caller of the public function that called this check.
    warnings.warn(message, DivergenceWarning, stacklevel=3)


def boundary_curves(dt_values, model="rf", scheme="euler", n_omega=400):
    """Compute the convergence region on an omega grid for several time steps.

    Parameters
    ----------
    dt_values : sequence of float
        Time steps [s].
    model : {"rf", "bhrf"}
        ``"rf"`` for the RF/BRF family, ``"bhrf"`` for the harmonic family.
    scheme : str
        ``"euler"`` or ``"exact"`` for ``"rf"``; the update order
        ``"implementation"`` or ``"paper"`` for ``"bhrf"``.
    n_omega : int
        Grid points per curve, evenly spaced on (0, omega_max]. The exact RF
        scheme has no omega_max and is evaluated on (0, 1/dt].

    Returns
    -------
    list of ConvergenceRegion
        One region per time step, in the given order.
    """
    dt_values = list(dt_values)
    if not dt_values:
        raise RFSimError("dt_values is empty: give at least one time step in seconds")
    if n_omega < 2:
        raise RFSimError(f"n_omega must be at least 2, got n_omega={n_omega!r}")
    if model not in ("rf", "bhrf"):
        raise RFSimError(f"model must be 'rf' or 'bhrf' for boundary curves, got model={model!r}")

    regions = []
    for dt in dt_values:
        check_dt(dt)
        factor = 2.0 if model == "bhrf" else 1.0
        omega = np.linspace(0.0, factor / dt, n_omega + 1)[1:]
        # Rounding can put factor/dt * dt just above factor, outside the valid range.
        while omega[-1] * dt > factor:
            omega[-1] = np.nextafter(omega[-1], 0.0)
        if model == "bhrf":
            regions.append(bhrf_boundary(omega, dt, order=scheme))
        else:
            regions.append(rf_boundary(omega, dt, scheme=scheme))
    return regions


def save_boundary_csv(regions, path, damping_model=None):
    """Write convergence regions to a CSV file, one row per (dt, omega).

    Columns: family, scheme, dt [s], omega [rad/s], b_lower, b_upper,
    b_sustained, b_critical [1/s], and b_offset_low, b_offset_high [1/s], the
    b_offset interval of ``damping_model`` (default ``"brf"`` for the RF family
    and ``"bhrf"`` for the harmonic family, with their default options).

    Raises
    ------
    RFSimError
        If the file cannot be written.
    """
    import csv
    import os

    path = os.fspath(path)
    header = ["family", "scheme", "dt", "omega", "b_lower", "b_upper", "b_sustained", "b_critical",
              "b_offset_low", "b_offset_high"]
    try:
        with open(path, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            for region in regions:
                model = damping_model or ("brf" if region.family == "rf" else "bhrf")
                option = {"scheme": region.scheme} if region.family == "rf" else {"order": region.scheme}
                low, high = neuron_damping(model, region.omega, region.dt, **option).offset_interval()
                low, high = np.broadcast_to(low, region.omega.shape), np.broadcast_to(high, region.omega.shape)
                for k in range(region.omega.size):
                    writer.writerow([
                        region.family, region.scheme, repr(region.dt), repr(float(region.omega[k])),
                        repr(float(region.b_lower[k])), repr(float(region.b_upper[k])),
                        repr(float(region.b_sustained[k])), repr(float(region.b_critical[k])),
                        repr(float(low[k])), repr(float(high[k])),
                    ])
    except OSError as error:
        raise RFSimError(f"failed to write boundary table {path}: {error}") from error
