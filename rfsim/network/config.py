"""Configuration of a recurrent spiking network (RSNN) for the BPTT engine.

An ``RSNNConfig`` fixes everything about a network except its parameter values:
the neuron model, the layer sizes, the time step, the RF reset, the biases, the
surrogate derivative, the loss and the floating-point type. It is validated once,
when it is built, so the engine's kernels never see an invalid option.
"""

import math
import os
from dataclasses import dataclass

import numpy as np

from rfsim.errors import RFSimError
from rfsim.surrogate import SURROGATES

MODELS = ("brf", "rf", "bhrf", "alif")
"""Hidden neuron models: balanced RF, RF, balanced harmonic RF and adaptive LIF."""

RF_RESETS = ("none", "soft", "hard")
"""Reset of the plain RF neuron after a spike (the published RF-NoR uses 'none')."""

LOSSES = ("sequence", "label-last", "cross-entropy")
"""Training losses; see ``rfsim.network.losses`` for their exact definitions."""

DTYPES = ("float64", "float32")
"""Floating-point types of states, parameters and gradients."""


@dataclass(frozen=True)
class RSNNConfig:
    """Structure and options of an RSNN: inputs -> recurrent hidden layer -> LI readout.

    Attributes
    ----------
    model : str
        Hidden neuron model, one of ``'brf'``, ``'rf'``, ``'bhrf'``, ``'alif'``.
    n_in, n_hidden, n_out : int
        Number of inputs m, hidden neurons h and output classes C.
    dt : float
        Time step of the RF-type neurons [s], 0.01 in every published experiment.
        ALIF neurons and the LI readout use a unit step and ignore it.
    rf_reset : str
        RF model only: ``'none'`` (the published RF-NoR), ``'soft'`` (u <- u - z*theta)
        or ``'hard'`` (u <- u*(1 - z), v <- v*(1 - z)).
    hidden_bias, output_bias : bool
        Whether the hidden drive and the readout have a bias (the authors' ALIF
        scripts use both; the published BRF and RF models use neither).
    surrogate : str
        Surrogate derivative of the spike, one of ``rfsim.surrogate.SURROGATES``;
        ``'reference'`` is the authors' implementation, ``'paper'`` the printed equation.
    loss : str
        ``'sequence'``, ``'label-last'`` or ``'cross-entropy'`` (see ``rfsim.network.losses``).
    loss_offset : int
        Number of initial steps that the loss and the accuracy skip (the authors'
        ``sub_seq_length``); it does not apply to ``'label-last'``.
    dtype : str
        ``'float32'`` (default) or ``'float64'`` for states, parameters and gradients.
        float32 is the default because it is the faster mode (about twice as fast on
        the S-MNIST network, ``benchmarks/bench_bptt.py``) and keeps every parity test
        at its float32 tolerance. Use ``'float64'`` for agreement with the authors'
        float64 traces to 1e-9 relative. The training presets
        (``rfsim.training.presets``) keep float64, in which the recorded results were
        trained.
    theta : float
        Spike threshold of the RF-type neurons (1 in the authors' implementation).
    gamma : float
        Per-step decay of the refractory variable q of BRF and BHRF neurons (0.9).
    alif_theta : float
        Base threshold of the ALIF neuron (0.01).
    alif_beta : float
        Threshold increase per unit of ALIF adaptation a (1.8).
    brf_boundary, brf_refractory, brf_smooth_reset : bool
        BRF ablation switches, all True (the published BRF) by default. Each removes one
        mechanism: ``brf_boundary=False`` replaces p(omega) by 0, so b_t = -b' - q_{t-1};
        ``brf_refractory=False`` takes q_{t-1} out of the threshold, z_t = H(u_t - theta);
        ``brf_smooth_reset=False`` takes q_{t-1} out of the damping, b_t = p(omega) - b'.
        q is still computed. With all three False the BRF network is the RF network
        without reset.
    boundary_dt : float or None
        Time step [s] used inside p(omega) = (-1 + sqrt(1 - (dt*omega)^2))/dt (BRF) and
        in the BHRF damping (dt/2)*omega^2. None (default) uses ``dt``. The authors'
        implementation always uses 0.01 s there, whatever its ``dt``; both agree at
        dt = 0.01 s, and ``boundary_dt=0.01`` reproduces it at any other ``dt``.
    event_driven : bool or None
        Whether the kernels skip zero inputs and silent neurons in the hidden drive,
        the readout and the weight gradients (True), or run the dense loops (False).
        Both give identical results for finite weights; None (default) means True.
    n_threads : int or None
        Number of Numba threads the engine uses; None uses ``numba.get_num_threads()``.
        Values above ``numba.config.NUMBA_NUM_THREADS`` (the size of Numba's thread
        pool, set by the environment variable of that name) are lowered to it.
        Results do not depend on it.
    memory_limit_bytes : int or None
        Largest memory the engine may allocate for one call (``estimate_memory_bytes``);
        beyond it the call raises ``RFSimError`` and suggests ``tbptt_window``. None
        (default) allows half of the physical memory, or no limit where it is unknown.
    """

    model: str
    n_in: int
    n_hidden: int
    n_out: int
    dt: float = 0.01
    rf_reset: str = "none"
    hidden_bias: bool = False
    output_bias: bool = False
    surrogate: str = "reference"
    loss: str = "sequence"
    loss_offset: int = 0
    dtype: str = "float32"
    theta: float = 1.0
    gamma: float = 0.9
    alif_theta: float = 0.01
    alif_beta: float = 1.8
    brf_boundary: bool = True
    brf_refractory: bool = True
    brf_smooth_reset: bool = True
    boundary_dt: float | None = None
    event_driven: bool | None = None
    n_threads: int | None = None
    memory_limit_bytes: int | None = None

    def __post_init__(self):
        _check_choice("model", self.model, MODELS)
        for name in ("n_in", "n_hidden", "n_out"):
            _check_positive_int(name, getattr(self, name))

        _check_positive_float("dt", self.dt, "a time step in seconds")
        _check_choice("rf_reset", self.rf_reset, RF_RESETS)
        if self.model != "rf" and self.rf_reset != "none":
            raise RFSimError(
                f"rf_reset={self.rf_reset!r} applies to the 'rf' model only, got model={self.model!r}; "
                "use rf_reset='none'"
            )
        for name in ("hidden_bias", "output_bias"):
            _check_bool(name, getattr(self, name))

        _check_choice("surrogate", self.surrogate, SURROGATES)
        _check_choice("loss", self.loss, LOSSES)
        if isinstance(self.loss_offset, bool) or not isinstance(self.loss_offset, (int, np.integer)) \
                or self.loss_offset < 0:
            raise RFSimError(f"loss_offset must be a non-negative number of steps, got {self.loss_offset!r}")
        _check_choice("dtype", self.dtype, DTYPES)

        _check_positive_float("theta", self.theta, "a spike threshold")
        if not (isinstance(self.gamma, (int, float)) and 0.0 <= self.gamma < 1.0):
            raise RFSimError(f"gamma must be a decay factor in [0, 1), got gamma={self.gamma!r}")
        _check_positive_float("alif_theta", self.alif_theta, "a base threshold")
        if not (isinstance(self.alif_beta, (int, float)) and math.isfinite(self.alif_beta)):
            raise RFSimError(f"alif_beta must be a finite number, got alif_beta={self.alif_beta!r}")
        for name in ("brf_boundary", "brf_refractory", "brf_smooth_reset"):
            _check_bool(name, getattr(self, name))
            if self.model != "brf" and not getattr(self, name):
                raise RFSimError(f"{name}=False applies to the 'brf' model only, got model={self.model!r}; "
                                 f"use {name}=True")
        if self.boundary_dt is not None:
            _check_positive_float("boundary_dt", self.boundary_dt, "a time step in seconds, or None to use dt")

        if self.event_driven is not None:
            _check_bool("event_driven", self.event_driven)
        if self.n_threads is not None:
            _check_positive_int("n_threads", self.n_threads)
        if self.memory_limit_bytes is not None:
            _check_positive_int("memory_limit_bytes", self.memory_limit_bytes)

    @property
    def np_dtype(self):
        """NumPy dtype of states, parameters and gradients."""
        return np.dtype(self.dtype)

    @property
    def p_dt(self):
        """Time step [s] used inside p(omega) and the BHRF damping (``boundary_dt`` or ``dt``)."""
        return self.dt if self.boundary_dt is None else self.boundary_dt

    @property
    def uses_event_driven(self):
        """Whether the kernels take the event-driven path (``event_driven`` with None read as True)."""
        return True if self.event_driven is None else self.event_driven

    @property
    def memory_limit(self):
        """Memory limit [bytes] of one engine call, or None for no limit."""
        if self.memory_limit_bytes is not None:
            return int(self.memory_limit_bytes)
        return _half_physical_memory()


def _half_physical_memory():
    """Return half the physical memory in bytes, or None where the platform does not report it."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2
    except (AttributeError, ValueError, OSError):
        return None


def _check_choice(name, value, choices):
    if value not in choices:
        raise RFSimError(f"{name} must be one of {choices}, got {name}={value!r}")


def _check_positive_int(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise RFSimError(f"{name} must be a positive integer, got {name}={value!r}")


def _check_positive_float(name, value, meaning):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)) \
            or not math.isfinite(value) or value <= 0:
        raise RFSimError(f"{name} must be {meaning} (finite and positive), got {name}={value!r}")


def _check_bool(name, value):
    if not isinstance(value, (bool, np.bool_)):
        raise RFSimError(f"{name} must be True or False, got {name}={value!r}")
