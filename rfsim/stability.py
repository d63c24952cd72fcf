"""Divergence boundary of the Euler-discretised resonate-and-fire neuron.

The RF neuron du/dt = (b + i*omega)*u + I, integrated with explicit Euler at step
dt [s], advances its free response by the complex factor
lambda = 1 + dt*(b + i*omega) per step. The response converges exactly when
|lambda| <= 1, that is (1 + dt*b)**2 + (dt*omega)**2 <= 1. With
r = sqrt(1 - (dt*omega)**2) this holds for b between the two roots

    b_low  = (-1 - r) / dt      (below it, Euler overshoots and diverges)
    p(omega) = (-1 + r) / dt    (the divergence boundary of the BRF neuron)

and has no solution when omega*dt > 1, so omega <= 1/dt is an upper bound on
the angular frequency [rad/s]. The balanced RF neuron sets
b = p(omega) - b_offset, so it converges exactly when 0 <= b_offset <= 2*r/dt.

The functions here validate and evaluate these quantities for the models and the
command line; ``rfsim.analysis.boundary`` builds the curves and plots on them.
"""

import warnings

import numpy as np

from rfsim.errors import DivergenceWarning, RFSimError


def check_dt(dt):
    """Raise ``RFSimError`` unless ``dt`` is a finite positive time step [s]."""
    if not np.isfinite(dt) or dt <= 0:
        raise RFSimError(f"dt must be a finite positive time step in seconds, got dt={dt!r}")


def check_omega(omega, dt):
    """Raise ``RFSimError`` unless every omega lies in (0, 1/dt] rad/s.

    Parameters
    ----------
    omega : float or array_like
        Angular frequency [rad/s].
    dt : float
        Time step [s].
    """
    check_dt(dt)
    omega = np.asarray(omega, dtype=float)
    if omega.size == 0:
        raise RFSimError("omega is empty: give at least one angular frequency in rad/s")

    bad = ~np.isfinite(omega) | (omega <= 0)
    if bad.any():
        value = float(omega.flat[np.flatnonzero(bad)[0]])
        raise RFSimError(f"omega must be a finite positive angular frequency in rad/s, got omega={value!r}")

    too_fast = omega * dt > 1.0
    if too_fast.any():
        value = omega.flat[np.flatnonzero(too_fast)[0]]
        raise RFSimError(
            f"omega * dt must be <= 1 for a real divergence boundary, got omega={value:g} rad/s, "
            f"dt={dt:g} s (omega*dt={value * dt:g}); lower omega below {1.0 / dt:g} rad/s "
            "or use a smaller dt"
        )


def p_omega(omega, dt):
    """Evaluate the divergence boundary p(omega) = (-1 + sqrt(1 - (dt*omega)**2)) / dt.

    p(omega) is the largest damping b [1/s] for which the Euler-discretised RF
    neuron does not diverge. It always uses the simulation's own ``dt``; the
    authors' implementation hard-codes dt = 0.01 s here, which agrees only for
    that step.

    Parameters
    ----------
    omega : float or array_like
        Angular frequency [rad/s], in (0, 1/dt].
    dt : float
        Time step [s].

    Returns
    -------
    p : float or ndarray
        Divergence boundary [1/s], always <= 0.

    Raises
    ------
    RFSimError
        If ``dt`` <= 0 or an omega lies outside (0, 1/dt].
    """
    check_omega(omega, dt)
    omega = np.asarray(omega, dtype=float)
    p = (-1.0 + np.sqrt(1.0 - (dt * omega) ** 2)) / dt
    return p if p.ndim else float(p)


def b_offset_interval(omega, dt):
    """Return the interval of ``b_offset`` [1/s] in which the BRF neuron converges.

    With b = p(omega) - b_offset the free response converges exactly for
    0 <= b_offset <= 2*sqrt(1 - (dt*omega)**2)/dt; both ends give |lambda| = 1.

    Returns
    -------
    low, high : float or ndarray
        The two roots [1/s]: ``low`` is 0 and ``high`` is 2*r/dt.
    """
    check_omega(omega, dt)
    omega = np.asarray(omega, dtype=float)
    high = 2.0 * np.sqrt(1.0 - (dt * omega) ** 2) / dt
    low = np.zeros_like(high)
    if high.ndim == 0:
        return 0.0, float(high)
    return low, high


def check_b_offset(omega, b_offset, dt, allow_divergent=False):
    """Check that ``b_offset`` keeps the BRF neuron inside its convergence region.

    Parameters
    ----------
    omega, b_offset : float or array_like
        Angular frequency [rad/s] and damping offset [1/s].
    dt : float
        Time step [s].
    allow_divergent : bool, optional
        If True, a divergent ``b_offset`` gives a ``DivergenceWarning`` instead of an error.

    Raises
    ------
    RFSimError
        If ``b_offset`` is not finite, or lies outside [0, 2r/dt] and
        ``allow_divergent`` is False.
    """
    _, high = b_offset_interval(omega, dt)
    b_offset = np.asarray(b_offset, dtype=float)
    if not np.all(np.isfinite(b_offset)):
        raise RFSimError(f"b_offset must be finite, got b_offset={b_offset!r}")

    b_offset, high = np.broadcast_arrays(b_offset, high)
    outside = (b_offset < 0) | (b_offset > high)
    if not outside.any():
        return

    k = np.flatnonzero(outside)[0]
    value, limit = b_offset.flat[k], high.flat[k]
    message = (
        f"b_offset={value:g} 1/s lies outside the convergence interval [0, {limit:g}] 1/s "
        f"(0 <= b_offset <= 2*sqrt(1 - (dt*omega)^2)/dt) at dt={dt:g} s, so the neuron diverges"
    )
    if not allow_divergent:
        raise RFSimError(message + "; choose b_offset inside the interval or allow divergent parameters "
                                     "(allow_divergent=True)")
    warnings.warn(message, DivergenceWarning, stacklevel=3)
