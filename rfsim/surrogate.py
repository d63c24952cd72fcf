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
and reproduces the authors' float64 values bit for bit. The engine's neuron kernels
call ``surrogate_value`` inside their loops over neurons instead: it is inlined,
branch-free and built on an exponential (``exp_float64``, ``exp_float32``) that the
compiler vectorises, within 1 ulp of ``math.exp`` in float64 and 2 ulp in float32.
``surrogate_derivative_row`` applies it to an array.
``surrogate_grad`` is the NumPy twin, written from the equations above.
"""

import math

import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic, overload

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
assert _WIDE_TWO_VAR == 36.0 * _NARROW_TWO_VAR  # the row version relies on exp(-2 s^2) = exp(-s^2/18)^36


def surrogate_code(name):
    """Return the integer code of surrogate ``name``, raising ``RFSimError`` for an unknown name."""
    if name not in SURROGATE_CODES:
        raise RFSimError(f"surrogate must be one of {SURROGATES}, got {name!r}")
    return SURROGATE_CODES[name]


@njit
def surrogate_derivative(code, s):
    """Return g(s) [float64] of the surrogate with integer ``code`` (see the module docstring)."""
    x = np.float64(s)
    if code == 0:
        narrow = _NARROW_NORM * math.exp(-(x * x) / _NARROW_TWO_VAR)
        wide = _WIDE_NORM * math.exp(-(x * x) / _WIDE_TWO_VAR)
        return (_NARROW_WEIGHT * narrow - _WIDE_WEIGHT * wide) * _GAMMA
    if code == 1:
        narrow = math.exp(-(x * x) / _NARROW_TWO_VAR)
        wide = math.exp(-(x * x) / _WIDE_TWO_VAR)
        return _NARROW_WEIGHT * narrow - _WIDE_WEIGHT * wide
    if code == 2:
        denominator = 1.0 + FAST_SIGMOID_SLOPE * abs(x)
        return 1.0 / (denominator * denominator)
    return max(0.0, 1.0 - abs(x))


_LOG2E = 1.4426950408889634
_LN2_HIGH = 6.93147180369123816490e-01
_LN2_LOW = 1.90821492927058770002e-10
_ROUNDING_SHIFT = 6755399441055744.0
_EXP_TAYLOR = tuple(1.0 / math.factorial(k) for k in range(13, -1, -1))
"""Taylor coefficients 1/k! of exp, k = 13 down to 0, for ``_horner``."""


@intrinsic
def _int64_as_float64(typingctx, value):
    """Reinterpret the bits of an int64 as a float64."""
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.DoubleType())

    return types.float64(types.int64), codegen


@intrinsic
def _pow2_float32(typingctx, n):
    """Return 2^n for a float32 ``n`` equal to an integer in [-126, 127], built from its bits in 32-bit integers."""
    def codegen(context, builder, signature, args):
        int32 = ir.IntType(32)
        exponent = builder.add(builder.fptosi(args[0], int32), ir.Constant(int32, 127))
        return builder.bitcast(builder.shl(exponent, ir.Constant(int32, 23)), ir.FloatType())

    return types.float32(types.float32), codegen


@intrinsic
def _fma(typingctx, a, b, c):
    """Return a b + c with one rounding (the fused multiply-add), in the float type of ``a``."""
    def codegen(context, builder, signature, args):
        float_type = context.get_value_type(signature.return_type)
        signature_type = ir.FunctionType(float_type, [float_type] * 3)
        function = builder.module.declare_intrinsic("llvm.fma", [float_type], signature_type)
        return builder.call(function, args)

    return a(a, a, a), codegen


@njit(inline="always")
def _horner(r, coefficients):
    """Return the polynomial with ``coefficients`` (highest degree first) at r, by Horner's rule with FMA steps."""
    p = coefficients[0]
    for k in range(1, len(coefficients)):
        p = _fma(p, r, coefficients[k])
    return p


@njit(inline="always")
def exp_float64(x):
    """Return exp(x) of a float64 by a branch-free method that vectorises inside loops.

    exp(x) = 2^n exp(r) with n = round(x / ln 2), r = x - n ln 2 (two-part ln 2, so r
    is exact) and a degree-13 Taylor polynomial for exp(r), |r| <= ln(2)/2, whose
    truncation error is below 1e-17 relative; 2^n is built from its bits. Arguments
    are clamped to [-708, 709], so results below 3.3e-308 are not subnormal but
    3.3e-308; NaN stays NaN. Max error: 1 ulp.
    """
    x = -708.0 if x < -708.0 else x
    x = 709.0 if x > 709.0 else x

    # n = round(x / ln 2) by the add-and-subtract trick, valid while |n| < 2^51.
    n = _fma(x, _LOG2E, _ROUNDING_SHIFT) - _ROUNDING_SHIFT
    r = _fma(-n, _LN2_LOW, _fma(-n, _LN2_HIGH, x))
    return _horner(r, _EXP_TAYLOR) * _int64_as_float64((np.int64(n) + 1023) << 52)


_F32_LOG2E = np.float32(_LOG2E)
_F32_LN2_HIGH = np.float32(0.693359375)
_F32_LN2_LOW = np.float32(-2.12194440e-4)
_F32_ROUNDING_SHIFT = np.float32(12582912.0)
_F32_EXP_LOW = np.float32(-80.0)
_F32_EXP_HIGH = np.float32(88.0)
_F32_TAYLOR = tuple(np.float32(1.0 / math.factorial(k)) for k in range(7, -1, -1))
"""Taylor coefficients 1/k! of exp in float32, k = 7 down to 0, for ``_horner``."""


@njit(inline="always")
def exp_float32(x):
    """Return exp(x) of a float32, computed in float32 by the method of ``exp_float64``.

    A float32 two-part ln 2 and a degree-7 Taylor polynomial (truncation error below
    6e-9 relative). Arguments are clamped above at 88, and exp(x) = 0 for x < -80
    (below 1.8e-35): then the products of the result with the surrogate's constants
    never fall into the subnormal range, whose arithmetic can be much slower than
    normal arithmetic on x86 processors. Max error: 2 ulp of float32. All of the
    arithmetic stays in float32, so a loop runs 16 entries per AVX-512 instruction.
    """
    flushed = x < _F32_EXP_LOW
    x = _F32_EXP_LOW if flushed else x
    x = _F32_EXP_HIGH if x > _F32_EXP_HIGH else x

    n = _fma(x, _F32_LOG2E, _F32_ROUNDING_SHIFT) - _F32_ROUNDING_SHIFT
    r = _fma(-n, _F32_LN2_LOW, _fma(-n, _F32_LN2_HIGH, x))
    value = _horner(r, _F32_TAYLOR)
    value = np.float32(0.0) if flushed else value

    return value * _pow2_float32(n)


@njit
def exp_row(values):
    """Replace every entry of the float64 array ``values`` by ``exp_float64`` of it, in place."""
    for i in range(values.shape[0]):
        values[i] = exp_float64(values[i])


@njit
def exp_row_float32(values):
    """Replace every entry of the float32 array ``values`` by ``exp_float32`` of it, in place."""
    for i in range(values.shape[0]):
        values[i] = exp_float32(values[i])


def gaussians(s):
    """Return (exp(-s^2 / (2 sigma_n^2)), exp(-s^2 / (2 sigma_w^2))) in the dtype of ``s``.

    Dispatched on the dtype of ``s`` inside Numba kernels (see the overload below).
    """
    raise NotImplementedError("gaussians runs only inside Numba-compiled code")


@njit(inline="always")
def _gaussians_float64(s):
    # One exponential: the narrow Gaussian is the 36th power of the wide one, exp(-2 s^2) = exp(-s^2/18)^36.
    wide = exp_float64(-(s * s) / _WIDE_TWO_VAR)
    power_4 = (wide * wide) * (wide * wide)
    power_32 = power_4 * power_4
    power_32 = power_32 * power_32
    power_32 = power_32 * power_32
    return power_32 * power_4, wide


_F32_NARROW_TWO_VAR = np.float32(_NARROW_TWO_VAR)
_F32_WIDE_TWO_VAR = np.float32(_WIDE_TWO_VAR)


@njit(inline="always")
def _gaussians_float32(s):
    # Two float32 exponentials: a 36th power would multiply the float32 rounding error by 36.
    square = s * s
    return exp_float32(-square / _F32_NARROW_TWO_VAR), exp_float32(-square / _F32_WIDE_TWO_VAR)


@overload(gaussians, inline="always", jit_options={"cache": True})
def _gaussians_overload(s):
    if s == types.float32:
        return lambda s: _gaussians_float32(s)
    return lambda s: _gaussians_float64(s)


@njit
def surrogate_params(code, like):
    """Return the constants of surrogate ``code`` for ``surrogate_value``, in the dtype of the array ``like``.

    The tuple is (kind, narrow weight, narrow norm, wide weight, wide norm, factor,
    fast-sigmoid slope, 1, 0), kind 0 for the two double Gaussians, 1 for the fast
    sigmoid and 2 for the triangle. The paper's double Gaussian takes norms and
    factor 1, which changes no bit of its value.
    """
    cast = like.dtype.type
    one = cast(1.0)
    kind = 0 if code <= 1 else code - 1
    narrow_norm, wide_norm, factor = (cast(_NARROW_NORM), cast(_WIDE_NORM), cast(_GAMMA)) if code == 0 else (one, one, one)
    return (kind, cast(_NARROW_WEIGHT), narrow_norm, cast(_WIDE_WEIGHT), wide_norm, factor, cast(FAST_SIGMOID_SLOPE),
            one, cast(0.0))


@njit(inline="always", error_model="numpy")
def surrogate_value(s, params):
    """Return g(s) of the surrogate described by ``params`` (from ``surrogate_params``), in the dtype of ``s``.

    Branch-free: every surrogate is evaluated and the one of ``params`` selected, so a
    loop over neurons that calls this vectorises. Double Gaussians in float64 form
    the narrow Gaussian as the 36th power of the wide one,
    exp(-2 s^2) = exp(-s^2/18)^36, with one exponential; they agree with
    ``surrogate_derivative`` to 1e-14 absolute (the relative error grows only near
    the zero crossings of g, where the two Gaussians cancel). In float32 they use two
    float32 exponentials and agree with the float64 values to 2e-7 absolute.
    """
    kind, narrow_weight, narrow_norm, wide_weight, wide_norm, factor, slope, one, zero = params
    narrow, wide = gaussians(s)
    double_gaussian = (narrow_weight * (narrow_norm * narrow) - wide_weight * (wide_norm * wide)) * factor
    denominator = one + slope * abs(s)
    fast_sigmoid = one / (denominator * denominator)
    triangle = one - abs(s)
    triangle = triangle if triangle > zero else zero
    other = fast_sigmoid if kind == 1 else triangle
    return double_gaussian if kind == 0 else other


@njit(error_model="numpy")
def surrogate_derivative_row(code, s, out):
    """Write g(s[i]) of the surrogate with integer ``code`` into ``out[i]`` for every i.

    ``out`` is float64 or float32, and g is evaluated in its dtype; see
    ``surrogate_value`` for the accuracy of each.
    """
    params = surrogate_params(code, out)
    cast = out.dtype.type
    for i in range(s.shape[0]):
        out[i] = surrogate_value(cast(s[i]), params)


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
