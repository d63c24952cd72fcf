"""Parameter initialisation of an RSNN, following the authors' PyTorch constructors.

Parameters are stored raw, under the keys of the authors' state dicts:

==========================  ===============  ==============================================
key                         shape            initialisation
==========================  ===============  ==============================================
``hidden.linear.weight``    (h, m + h)       Xavier-uniform, bound sqrt(6 / (m + h + h))
``hidden.linear.bias``      (h,)             U(-1/sqrt(m + h), 1/sqrt(m + h)) (``hidden_bias``)
``hidden.omega``            (h,)             U(omega_range) [rad/s] (BRF, RF, BHRF)
``hidden.b_offset``         (h,)             U(b_offset_range) [1/s] (BRF, RF, BHRF)
``hidden.tau_mem``          (h,)             N(tau_mem) [steps] (ALIF)
``hidden.tau_adp``          (h,)             N(tau_adp) [steps] (ALIF)
``out.linear.weight``       (C, h)           Xavier-uniform, bound sqrt(6 / (h + C))
``out.linear.bias``         (C,)             0 (``output_bias``)
``out.tau_mem``             (C,)             N(tau_out) [steps]
==========================  ===============  ==============================================

The hidden bias keeps PyTorch's default ``Linear`` initialisation, as in the authors'
ALIF scripts; the readout (a leaky integrator) sets its bias to 0. The networks use
|omega|, |b_offset| and |tau|, so negative raw draws (possible for the normal taus)
are valid parameters.
"""

import math

import numpy as np

from rfsim.errors import RFSimError


def parameter_shapes(config):
    """Return the parameters' state-dict keys and shapes for ``config``, in a fixed order."""
    n_in, n_hidden, n_out = config.n_in, config.n_hidden, config.n_out
    shapes = {"hidden.linear.weight": (n_hidden, n_in + n_hidden)}
    if config.hidden_bias:
        shapes["hidden.linear.bias"] = (n_hidden,)
    if config.model == "alif":
        shapes["hidden.tau_mem"] = (n_hidden,)
        shapes["hidden.tau_adp"] = (n_hidden,)
    else:
        shapes["hidden.omega"] = (n_hidden,)
        shapes["hidden.b_offset"] = (n_hidden,)
    shapes["out.linear.weight"] = (n_out, n_hidden)
    if config.output_bias:
        shapes["out.linear.bias"] = (n_out,)
    shapes["out.tau_mem"] = (n_out,)
    return shapes


def init_params(config, rng, *, omega_range=(15.0, 50.0), b_offset_range=(0.1, 1.0),
                tau_out=(20.0, 5.0), tau_mem=(20.0, 5.0), tau_adp=(20.0, 5.0)):
    """Draw initial parameters for the network ``config`` describes.

    Parameters
    ----------
    config : RSNNConfig
        Model, sizes, biases and dtype.
    rng : numpy.random.Generator
        The only source of randomness.
    omega_range : (float, float)
        Bounds of the uniform angular frequency [rad/s] (RF, BRF, BHRF). The
        authors' scripts: S-MNIST (15, 50), PS-MNIST (15, 85), ECG (3, 5), SHD (5, 10).
    b_offset_range : (float, float)
        Bounds of the uniform damping offset [1/s] (RF, BRF, BHRF).
    tau_out, tau_mem, tau_adp : (float, float)
        Mean and standard deviation [steps] of the normal readout, ALIF membrane
        and ALIF adaptation time constants.

    Returns
    -------
    dict of str to ndarray
        Raw parameters in ``config.dtype`` under the keys of ``parameter_shapes``.

    Raises
    ------
    RFSimError
        If ``rng`` is not a Generator, a range is reversed or not finite, a standard
        deviation is negative, or a BRF/BHRF omega could exceed 1/dt (where p(omega)
        has no real value).
    """
    if not isinstance(rng, np.random.Generator):
        raise RFSimError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}; "
                         "use numpy.random.default_rng(seed)")
    n_in, n_hidden, n_out = config.n_in, config.n_hidden, config.n_out
    dtype = config.np_dtype
    params = {}

    bound = math.sqrt(6.0 / ((n_in + n_hidden) + n_hidden))
    params["hidden.linear.weight"] = rng.uniform(-bound, bound, (n_hidden, n_in + n_hidden))
    if config.hidden_bias:
        bias_bound = 1.0 / math.sqrt(n_in + n_hidden)
        params["hidden.linear.bias"] = rng.uniform(-bias_bound, bias_bound, n_hidden)

    if config.model == "alif":
        params["hidden.tau_mem"] = _normal(rng, "tau_mem", tau_mem, n_hidden)
        params["hidden.tau_adp"] = _normal(rng, "tau_adp", tau_adp, n_hidden)
    else:
        low, high = _check_range("omega_range", omega_range, "rad/s")
        if config.model == "brf" and high * config.p_dt > 1.0:
            raise RFSimError(
                f"omega_range upper bound {high:g} rad/s exceeds 1/dt = {1.0 / config.p_dt:g} rad/s, where "
                "p(omega) = (-1 + sqrt(1 - (dt*omega)^2))/dt has no real value; lower the bound"
            )
        params["hidden.omega"] = rng.uniform(low, high, n_hidden)
        low, high = _check_range("b_offset_range", b_offset_range, "1/s")
        params["hidden.b_offset"] = rng.uniform(low, high, n_hidden)

    bound = math.sqrt(6.0 / (n_hidden + n_out))
    params["out.linear.weight"] = rng.uniform(-bound, bound, (n_out, n_hidden))
    if config.output_bias:
        params["out.linear.bias"] = np.zeros(n_out)
    params["out.tau_mem"] = _normal(rng, "tau_out", tau_out, n_out)

    return {key: np.ascontiguousarray(value, dtype=dtype) for key, value in params.items()}


def make_pruning_mask(n_hidden, p, rng):
    """Draw a fixed random 0/1 pruning mask for the recurrent block of the hidden weights.

    Each recurrent connection (self-connections included) is removed independently
    with probability ``p``, as the authors' masked layer does (kept where a uniform
    draw exceeds ``p``). The engine multiplies the mask into the recurrent block of
    ``hidden.linear.weight`` in the forward pass and into its gradient, so pruned
    weights have no effect and a zero gradient.

    Parameters
    ----------
    n_hidden : int
        Number of hidden neurons h.
    p : float
        Pruning probability in [0, 1].
    rng : numpy.random.Generator

    Returns
    -------
    ndarray, shape (n_hidden, n_hidden), float64
        1.0 for kept and 0.0 for pruned connections; entry [i, j] gates j -> i.
    """
    if isinstance(n_hidden, bool) or not isinstance(n_hidden, (int, np.integer)) or n_hidden < 1:
        raise RFSimError(f"n_hidden must be a positive integer, got n_hidden={n_hidden!r}")
    if not (isinstance(p, (int, float, np.floating)) and 0.0 <= p <= 1.0):
        raise RFSimError(f"pruning probability p must lie in [0, 1], got p={p!r}")
    if not isinstance(rng, np.random.Generator):
        raise RFSimError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    return (rng.random((n_hidden, n_hidden)) > p).astype(np.float64)


def _check_range(name, value, unit):
    try:
        low, high = (float(bound) for bound in value)
    except (TypeError, ValueError):
        raise RFSimError(f"{name} must be a pair (low, high) in {unit}, got {value!r}") from None
    if not (math.isfinite(low) and math.isfinite(high) and low <= high):
        raise RFSimError(f"{name} must be finite with low <= high [{unit}], got {value!r}")
    return low, high


def _normal(rng, name, value, size):
    try:
        mean, std = (float(item) for item in value)
    except (TypeError, ValueError):
        raise RFSimError(f"{name} must be a pair (mean, std) in steps, got {value!r}") from None
    if not (math.isfinite(mean) and math.isfinite(std) and std >= 0):
        raise RFSimError(f"{name} must have a finite mean and a finite std >= 0 [steps], got {value!r}")
    return rng.normal(mean, std, size)
