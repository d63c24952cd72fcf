"""Single-neuron models of the resonate-and-fire family and the ALIF baseline.

Each model module states its equations once and provides three layers: scalar
``@njit`` step functions (callable from any Numba kernel), a many-neuron kernel
that calls those same steps, and a plain NumPy reference for the tests.

Scalar steps (all arguments floats unless noted; flags are ints or bools):

=================  ==========================================================================  ================
function           arguments                                                                    returns
=================  ==========================================================================  ================
``rf_step``        u, v, I, omega, b, dt, theta, reset, spike_on_imag                          (u, v, z)
``rf_exact_step``  u, v, I, decay_re, decay_im, dt, theta, reset, spike_on_imag                (u, v, z)
``brf_step``       u, v, q, I, omega, p, b_offset, dt, theta_c, gamma, use_boundary,            (u, v, q, z)
                   use_refractory, use_smooth_reset
``hrf_step``       u, v, I, omega, b, dt, theta, order                                          (u, v, z)
``bhrf_step``      u, v, q, I, omega, p_h, b_offset, dt, theta_c, gamma, order, damping_sign    (u, v, q, z)
``alif_step``      u, a, z_prev, I, alpha, rho, theta_0, beta, reset                            (u, a, z)
``li_step``        o, I, alpha                                                                  o
=================  ==========================================================================  ================

The public entry point is ``simulate(model, I, ...) -> Trace`` (``rfsim.neurons.simulate``);
input generators are in ``rfsim.neurons.drive``.

Integer codes: ``RESET_NONE``/``RESET_SOFT``/``RESET_HARD`` (RF), ``ORDER_IMPLEMENTATION``/
``ORDER_PAPER`` and ``SIGN_IMPLEMENTATION``/``SIGN_PAPER`` (HRF, BHRF),
``ALIF_RESET_IMPLEMENTATION``/``ALIF_RESET_NEXT_STEP`` (ALIF). ``rf_exact_decay(omega, b, dt)``
precomputes the factor of ``rf_exact_step``; ``rfsim.stability.p_omega`` and
``p_h_omega`` give p and p_h.
"""

from rfsim.neurons.alif import (
    ALIF_BETA,
    ALIF_THETA_0,
    RESET_IMPLEMENTATION as ALIF_RESET_IMPLEMENTATION,
    RESET_NEXT_STEP as ALIF_RESET_NEXT_STEP,
    alif_step,
    li_step,
)
from rfsim.neurons.brf import brf_damping, brf_step
from rfsim.neurons.hrf import (
    ORDER_IMPLEMENTATION,
    ORDER_PAPER,
    SIGN_IMPLEMENTATION,
    SIGN_PAPER,
    bhrf_damping,
    bhrf_step,
    hrf_step,
    p_h_omega,
)
from rfsim.neurons.rf import RESET_HARD, RESET_NONE, RESET_SOFT, rf_exact_decay, rf_exact_step, rf_step
from rfsim.neurons.simulate import MODELS, Trace, save_trace, simulate

__all__ = [
    "ALIF_BETA",
    "ALIF_RESET_IMPLEMENTATION",
    "ALIF_RESET_NEXT_STEP",
    "ALIF_THETA_0",
    "MODELS",
    "ORDER_IMPLEMENTATION",
    "ORDER_PAPER",
    "RESET_HARD",
    "RESET_NONE",
    "RESET_SOFT",
    "SIGN_IMPLEMENTATION",
    "SIGN_PAPER",
    "Trace",
    "alif_step",
    "bhrf_damping",
    "bhrf_step",
    "brf_damping",
    "brf_step",
    "hrf_step",
    "li_step",
    "p_h_omega",
    "rf_exact_decay",
    "rf_exact_step",
    "rf_step",
    "save_trace",
    "simulate",
]
