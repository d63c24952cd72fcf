"""Surrogate derivatives of the spike function z = H(s).

A spiking neuron emits z = H(s) with the strict Heaviside step H(s) = 1 if s > 0
else 0, where s is the distance of the membrane from its threshold (u - 1 - q for
BRF and BHRF, u - 1 for RF, u~ - theta_t for ALIF). Back-propagation replaces the
derivative of H, which is zero almost everywhere, by a surrogate g(s) = dz/ds.
Four surrogates are available, each under the name that ``RSNNConfig.surrogate``
takes:

``'reference'`` (default)
    The double Gaussian exactly as the authors' implementation (AdaptiveAILab/brf-neurons,
    ``StepDoubleGaussianGrad``) computes it, with *normalised* Gaussians
    N(s; 0, sigma) = exp(-s^2 / (2 sigma^2)) / (sigma sqrt(2 pi)) and an overall factor 0.5::

        g(s) = 0.5 [1.15 N(s; 0, 0.5) - 0.30 N(s; 0, 3)]

    Peak g(0) = 0.4388, g < 0 for |s| > 1.2699, integral 0.425. Every published
    result of the BRF paper was trained with this function.
``'paper'``
    The equation printed in the BRF paper (Higuchi, Kairat, Bohté, Otte, ICML 2024),
    with *unnormalised* Gaussians g(s; sigma) = exp(-s^2 / (2 sigma^2)), h = 0.15,
    sigma = 0.5::

        g(s) = (1 + h) g(s; sigma) - 2 h g(s; 6 sigma)

    Peak 0.85 at s = 0. It differs from ``'reference'`` in scale and in shape: the
    negative lobe weighs about 26 % of the positive one here, 4 % there.
``'fast-sigmoid'``
    g(s) = 1 / (1 + k |s|)^2 with slope k = 10, the derivative of the fast sigmoid
    s / (1 + k |s|) up to a factor; peak 1, never zero.
``'triangle'``
    g(s) = max(0, 1 - |s|), the piecewise-linear surrogate of the authors' LIF cell;
    exactly zero for |s| >= 1.

The Numba scalar ``surrogate_derivative`` takes an integer code (``SURROGATE_CODES``)
and is what the engine's kernels call; ``surrogate_grad`` is its vectorised NumPy
twin, written from the equations above.
"""

import math

import numpy as np

from rfsim._numba import njit
from rfsim.errors import RFSimError

SURROGATES = ("reference", "paper", "fast-sigmoid", "triangle")
"""Names of the surrogate derivatives, in the order of their integer codes."""

SURROGATE_CODES = {name: code for code, name in enumerate(SURROGATES)}
"""Integer code of each surrogate name, as passed to ``surrogate_derivative``."""

FAST_SIGMOID_SLOPE = 10.0
"""Slope k of the fast-sigmoid surrogate 1 / (1 + k |s|)^2."""

# The authors' constants: weight p of the wide Gaussian, width ratio 6, narrow width
# 0.5 and overall factor 0.5. (1 + p) and 2 p are formed as their code forms them, so
# the float64 values agree bit for bit.
_P = 0.15
_SIGMA_NARROW = 0.5
_SIGMA_WIDE = 6.0 * 0.5
_GAMMA = 0.5
_NARROW_WEIGHT = 1.0 + _P
_WIDE_WEIGHT = 2.0 * _P
_NARROW_NORM = 1.0 / (_SIGMA_NARROW * math.sqrt(2.0 * math.pi))
_WIDE_NORM = 1.0 / (_SIGMA_WIDE * math.sqrt(2.0 * math.pi))
_NARROW_TWO_VAR = 2.0 * _SIGMA_NARROW**2
_WIDE_TWO_VAR = 2.0 * _SIGMA_WIDE**2


def surrogate_code(name):
    """Return the integer code of surrogate ``name``, raising ``RFSimError`` for an unknown name."""
    if name not in SURROGATE_CODES:
        raise RFSimError(f"surrogate must be one of {SURROGATES}, got {name!r}")
    return SURROGATE_CODES[name]


@njit
def surrogate_derivative(code, s):
    """Return g(s) [float64] of the surrogate with integer ``code`` (see the module docstring)."""
    s = float(s)
    if code == 0:
        narrow = _NARROW_NORM * math.exp(-(s * s) / _NARROW_TWO_VAR)
        wide = _WIDE_NORM * math.exp(-(s * s) / _WIDE_TWO_VAR)
        return (_NARROW_WEIGHT * narrow - _WIDE_WEIGHT * wide) * _GAMMA
    if code == 1:
        narrow = math.exp(-(s * s) / _NARROW_TWO_VAR)
        wide = math.exp(-(s * s) / _WIDE_TWO_VAR)
        return _NARROW_WEIGHT * narrow - _WIDE_WEIGHT * wide
    if code == 2:
        denominator = 1.0 + FAST_SIGMOID_SLOPE * abs(s)
        return 1.0 / (denominator * denominator)
    return max(0.0, 1.0 - abs(s))


def heaviside(s):
    """Return the spike H(s): 1.0 where s > 0 (strictly), else 0.0, in the dtype of ``s``."""
    s = np.asarray(s)
    dtype = s.dtype if np.issubdtype(s.dtype, np.floating) else np.float64
    return (s > 0).astype(dtype)


def surrogate_grad(s, name="reference"):
    """Evaluate the surrogate derivative g(s) = dz/ds on an array, in float64.

    Parameters
    ----------
    s : array_like
        Distance of the membrane from the threshold (dimensionless).
    name : str, optional
        One of ``SURROGATES``; see the module docstring for each formula.

    Returns
    -------
    ndarray
        g(s), same shape as ``s``, float64.

    Raises
    ------
    RFSimError
        If ``name`` is not a known surrogate.
    """
    surrogate_code(name)
    s = np.asarray(s, dtype=np.float64)
    if name == "reference":
        narrow = _NARROW_NORM * np.exp(-(s * s) / _NARROW_TWO_VAR)
        wide = _WIDE_NORM * np.exp(-(s * s) / _WIDE_TWO_VAR)
        return (_NARROW_WEIGHT * narrow - _WIDE_WEIGHT * wide) * _GAMMA
    if name == "paper":
        return _NARROW_WEIGHT * np.exp(-(s * s) / _NARROW_TWO_VAR) - _WIDE_WEIGHT * np.exp(-(s * s) / _WIDE_TWO_VAR)
    if name == "fast-sigmoid":
        return 1.0 / (1.0 + FAST_SIGMOID_SLOPE * np.abs(s)) ** 2
    return np.maximum(0.0, 1.0 - np.abs(s))
