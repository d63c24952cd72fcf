"""Parameter analyses of trained RSNNs: omega against damping, dataset spectra, spike rasters.

The RF-type hidden neurons of ``rfsim.network`` read their raw parameters through
abs(): omega = |omega_raw| [rad/s] and b' = |b_offset_raw| [1/s]. At q = 0 (no
recent spike) each neuron's damping b_c [1/s] is

* BRF:  b_c = p(omega) - b',  p(omega) = (-1 + sqrt(1 - (dt_p*omega)**2)) / dt_p,
* RF:   b_c = -b',
* BHRF: b_c = (dt_p/2)*omega**2 + b' (harmonic form, where b > 0 decays),

with dt_p the time step of the divergence boundary (``RSNNConfig.p_dt``, equal to
the network's dt unless ``boundary_dt`` is set). The Euler-discretised RF and
BRF neurons converge for b_lower(omega) <= b_c <= p(omega), where
b_lower = (-1 - sqrt(1 - (dt*omega)**2)) / dt is the lower root; the BHRF neuron
(semi-implicit update) converges for 0 <= b_c <= (1 - (dt*omega)**2/4)/dt
(``rfsim.analysis.boundary``).

``omega_b_scatter`` places the neurons of an initial and a trained network in
this (omega, b_c) plane with the boundary curves and histograms of omega, as in
Figure 5 (bottom row) of Higuchi, Kairat, Bohte and Otte, "Balanced
Resonate-and-Fire Neurons" (ICML 2024). ``dominant_frequencies`` finds the
strongest angular frequencies in a dataset's power spectrum, and
``omega_from_spectrum`` draws initial omegas from them. ``hidden_raster`` records
the hidden spikes of one sequence with the neurons sorted by omega (tau_mem for
ALIF), as in Figure 6 of the same paper.
"""

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rfsim.errors import RFSimError

RF_FAMILY = ("brf", "rf", "bhrf")
"""Hidden models that have omega and b_offset."""

DEFAULT_RELATIVE_PROMINENCE = 0.05
"""Default peak prominence of ``dominant_frequencies``, as a fraction of the largest non-DC power."""


# --- omega against b_c -----------------------------------------------------------------


@dataclass(frozen=True)
class NeuronPoints:
    """The hidden neurons of one network in the (omega, b_c) plane.

    Attributes
    ----------
    omega : ndarray, shape (H,)
        |omega_raw| [rad/s].
    b_offset : ndarray, shape (H,)
        |b_offset_raw| [1/s].
    b_c : ndarray, shape (H,)
        Damping at q = 0 [1/s] (module docstring); NaN for a BRF neuron with
        omega > 1/dt_p, where p(omega) has no real value.
    inside : ndarray of bool, shape (H,)
        Whether the neuron's free response converges (b_lower <= b_c <= b_upper
        at its omega, with omega within the model's limit).
    """

    omega: np.ndarray
    b_offset: np.ndarray
    b_c: np.ndarray
    inside: np.ndarray

    @property
    def n_outside(self):
        """Number of neurons outside the convergence region."""
        return int(np.count_nonzero(~self.inside))


@dataclass(frozen=True)
class OmegaScatter:
    """Initial and trained neurons in the (omega, b_c) plane, with boundary curves and histograms.

    Attributes
    ----------
    model : str
        ``'brf'``, ``'rf'`` or ``'bhrf'``.
    dt, p_dt : float
        Time step of the neurons and of the divergence boundary [s].
    trained : NeuronPoints
        Neurons of the trained network.
    init : NeuronPoints or None
        Neurons of the initial network, when one was given.
    grid_omega : ndarray
        Angular frequencies [rad/s] of the boundary curves, up to the model's limit
        (1/dt for RF and BRF, 2/dt for BHRF) or a little beyond the largest omega.
    grid_b_upper, grid_b_lower : ndarray
        Upper and lower root of the convergence region [1/s] on ``grid_omega``. For
        RF and BRF the upper root is the divergence boundary p(omega).
    grid_b_zero : ndarray
        Damping at b' = 0 [1/s] on ``grid_omega``: p(omega) (BRF), 0 (RF),
        (dt_p/2)*omega**2 (BHRF).
    hist_edges : ndarray
        Shared bin edges [rad/s] of the omega histograms.
    hist_trained, hist_init : ndarray of int
        Neuron counts per bin (``hist_init`` is None without an initial network).
    trained_label, init_label : str
        Names of the two networks for tables and legends.
    """

    model: str
    dt: float
    p_dt: float
    trained: NeuronPoints
    init: NeuronPoints | None
    grid_omega: np.ndarray
    grid_b_upper: np.ndarray
    grid_b_lower: np.ndarray
    grid_b_zero: np.ndarray
    hist_edges: np.ndarray
    hist_trained: np.ndarray
    hist_init: np.ndarray | None
    trained_label: str = "trained"
    init_label: str = "initial"


def _check_rf_family(model, caller):
    if model not in RF_FAMILY:
        raise RFSimError(f"{caller} needs an RF-type network (one of {', '.join(RF_FAMILY)}) with omega and "
                         f"b_offset, got model={model!r}; ALIF neurons have tau_mem instead")


def _omega_limit(model, dt):
    """Largest omega [rad/s] with a non-empty convergence region: 1/dt (RF, BRF) or 2/dt (BHRF)."""
    return 2.0 / dt if model == "bhrf" else 1.0 / dt


def _damping_at_zero_offset(model, omega, p_dt):
    """Damping [1/s] at b' = 0 and q = 0; NaN where a BRF omega exceeds 1/p_dt."""
    from rfsim.analysis.boundary import harmonic_boundary_damping
    from rfsim.stability import p_omega

    omega = np.asarray(omega, dtype=float)
    if model == "rf":
        return np.zeros_like(omega)
    if model == "bhrf":
        return harmonic_boundary_damping(omega, p_dt, "implementation", "implementation")
    base = np.full_like(omega, np.nan)
    valid = omega * p_dt <= 1.0
    if valid.any():
        base[valid] = p_omega(omega[valid], p_dt)
    return base


def _region(model, omega, dt):
    """Return (b_lower, b_upper) [1/s] of the model's convergence region at each omega (within its limit)."""
    from rfsim.analysis.boundary import bhrf_boundary, rf_boundary

    if model == "bhrf":
        region = bhrf_boundary(omega, dt, "implementation")
    else:
        region = rf_boundary(omega, dt, "euler")
    return region.b_lower, region.b_upper


def neuron_points(model, params, dt, p_dt=None):
    """Place the hidden neurons of one parameter set in the (omega, b_c) plane.

    Parameters
    ----------
    model : {'brf', 'rf', 'bhrf'}
        Hidden neuron model.
    params : dict of str to ndarray
        Raw parameters with ``hidden.omega`` and ``hidden.b_offset`` (signs allowed:
        the network uses their absolute values).
    dt : float
        Time step of the neurons [s].
    p_dt : float, optional
        Time step inside p(omega) and the BHRF damping [s]; ``dt`` by default.

    Returns
    -------
    NeuronPoints
    """
    from rfsim.stability import check_dt

    _check_rf_family(model, "neuron_points")
    check_dt(dt)
    p_dt = dt if p_dt is None else p_dt
    check_dt(p_dt)
    for key in ("hidden.omega", "hidden.b_offset"):
        if key not in params:
            raise RFSimError(f"params lacks {key!r}, which an RF-type network has; give the parameters of a "
                             f"{model} checkpoint")
    omega = np.abs(np.asarray(params["hidden.omega"], dtype=float))
    b_offset = np.abs(np.asarray(params["hidden.b_offset"], dtype=float))
    if omega.shape != b_offset.shape or omega.ndim != 1:
        raise RFSimError(f"hidden.omega and hidden.b_offset must be vectors of one length, got shapes "
                         f"{omega.shape} and {b_offset.shape}")
    if not (np.all(np.isfinite(omega)) and np.all(np.isfinite(b_offset))):
        raise RFSimError("hidden.omega and hidden.b_offset must be finite")

    sign = 1.0 if model == "bhrf" else -1.0
    b_c = _damping_at_zero_offset(model, omega, p_dt) + sign * b_offset

    # Only omegas in (0, limit] have a convergence region; the others are outside.
    inside = np.zeros(omega.shape, dtype=bool)
    valid = (omega > 0) & (omega <= _omega_limit(model, dt)) & np.isfinite(b_c)
    if valid.any() and model == "brf" and p_dt == dt:
        # Decide on b_offset itself: through b_c = p(omega) - b_offset, an offset far
        # below one ulp of p(omega) would round away and count as inside at omega = 1/dt.
        from rfsim.stability import b_offset_interval

        _, high = b_offset_interval(omega[valid], dt)
        inside[valid] = b_offset[valid] <= high
    elif valid.any():
        lower, upper = _region(model, omega[valid], dt)
        inside[valid] = (b_c[valid] >= lower) & (b_c[valid] <= upper)
    return NeuronPoints(omega=omega, b_offset=b_offset, b_c=b_c, inside=inside)


def _load_params(path):
    """Load a checkpoint's raw parameters and sidecar without its task data."""
    from rfsim.training.checkpoint import load_checkpoint

    checkpoint = load_checkpoint(path)
    params = {key: value for key, value in checkpoint.params.items() if key != "hidden.linear.mask"}
    return params, checkpoint.metadata


def _time_steps(metadata):
    """Return (dt, p_dt) [s] recorded in a checkpoint sidecar."""
    network = metadata.get("network", {})
    dt = float(network.get("dt", metadata.get("dt", 0.01)))
    boundary_dt = network.get("boundary_dt")
    return dt, dt if boundary_dt is None else float(boundary_dt)


def resolve_checkpoint_pair(checkpoint, init=None):
    """Return the paths of a trained and an initial checkpoint.

    Parameters
    ----------
    checkpoint : str or Path
        A checkpoint ``.npz``, or a run folder of ``rfsim train`` (then its
        ``best.npz`` is the trained network).
    init : str or Path, optional
        Initial checkpoint. By default a run folder's ``init.npz``, or the
        ``init.npz`` beside a checkpoint file when it exists.

    Returns
    -------
    trained : Path
    init : Path or None
    """
    path = Path(checkpoint)
    if path.is_dir():
        trained = path / "best.npz"
        if not trained.is_file():
            raise RFSimError(f"run folder {str(path)!r} has no best.npz; give a folder written by rfsim train "
                             "or a checkpoint file")
    else:
        trained = path
    if init is not None:
        return trained, Path(init)
    sibling = trained.parent / "init.npz"
    if sibling.is_file() and sibling.resolve() != trained.resolve():
        return trained, sibling
    return trained, None


def omega_b_scatter(checkpoint, init=None, *, n_grid=400, n_bins=30):
    """Compare the initial and trained neurons in the (omega, b_c) plane.

    Parameters
    ----------
    checkpoint : str or Path
        Trained checkpoint ``.npz`` or run folder (``resolve_checkpoint_pair``).
    init : str or Path, optional
        Initial checkpoint; by default the run's ``init.npz`` when it exists.
    n_grid : int
        Points of the boundary curves.
    n_bins : int
        Bins of the omega histograms, shared by both networks.

    Returns
    -------
    OmegaScatter

    Raises
    ------
    RFSimError
        For a missing or unreadable checkpoint, an ALIF network, or an initial
        checkpoint whose model, size or time step differs from the trained one.
    """
    trained_path, init_path = resolve_checkpoint_pair(checkpoint, init)
    params, metadata = _load_params(trained_path)
    model = metadata["model"]
    _check_rf_family(model, "omega_b_scatter")
    dt, p_dt = _time_steps(metadata)

    init_params = None
    if init_path is not None:
        init_params, init_metadata = _load_params(init_path)
        for key in ("model", "n_hidden"):
            if init_metadata[key] != metadata[key]:
                raise RFSimError(f"the initial checkpoint {init_path.name} has {key}={init_metadata[key]!r}, the "
                                 f"trained one {metadata[key]!r}; give the init.npz of the same run")
        if _time_steps(init_metadata) != (dt, p_dt):
            raise RFSimError(f"the initial checkpoint {init_path.name} uses dt={_time_steps(init_metadata)[0]:g} s, "
                             f"the trained one dt={dt:g} s; give the init.npz of the same run")
    return scatter_from_params(model, params, dt, init_params=init_params, p_dt=p_dt, n_grid=n_grid, n_bins=n_bins,
                               trained_label=_label(trained_path),
                               init_label=_label(init_path) if init_path is not None else "initial")


def _label(path):
    return f"{path.parent.name}/{path.stem}"


def scatter_from_params(model, params, dt, *, init_params=None, p_dt=None, n_grid=400, n_bins=30,
                        trained_label="trained", init_label="initial"):
    """Build an ``OmegaScatter`` from raw parameter dicts (see ``omega_b_scatter``)."""
    for name, value in (("n_grid", n_grid), ("n_bins", n_bins)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 2:
            raise RFSimError(f"{name} must be an integer >= 2, got {name}={value!r}")
    p_dt = dt if p_dt is None else p_dt
    trained = neuron_points(model, params, dt, p_dt)
    initial = neuron_points(model, init_params, dt, p_dt) if init_params is not None else None

    # The curves run to the model's omega limit, or just past the largest neuron if that is lower.
    limit = _omega_limit(model, dt)
    omegas = trained.omega if initial is None else np.concatenate([trained.omega, initial.omega])
    top = min(limit, 1.2 * float(omegas.max())) if omegas.max() > 0 else limit
    grid = np.linspace(top / n_grid, top, n_grid)
    lower, upper = _region(model, grid, dt)
    zero = _damping_at_zero_offset(model, grid, p_dt)

    edges = np.histogram_bin_edges(omegas, bins=n_bins)
    return OmegaScatter(
        model=model, dt=float(dt), p_dt=float(p_dt), trained=trained, init=initial, grid_omega=grid,
        grid_b_upper=upper, grid_b_lower=lower, grid_b_zero=zero, hist_edges=edges,
        hist_trained=np.histogram(trained.omega, bins=edges)[0],
        hist_init=None if initial is None else np.histogram(initial.omega, bins=edges)[0],
        trained_label=trained_label, init_label=init_label,
    )


# --- dominant frequencies of a dataset ------------------------------------------------------


@dataclass(frozen=True)
class DatasetSpectrum:
    """Mean power spectrum of a dataset's inputs and its dominant angular frequencies.

    Attributes
    ----------
    omega : ndarray, shape (K,)
        Angular frequency of each real-FFT bin [rad/s], 2*pi*k/(n_fft*dt); bin 0 is DC.
    power : ndarray, shape (K,)
        Mean over sequences and channels of |rfft(x)|**2 [input unit squared].
    peak_omega : ndarray
        Dominant angular frequencies [rad/s], strongest first.
    peak_power, peak_prominence : ndarray
        Power and prominence of each peak (units of ``power``).
    peak_bin : ndarray of int
        FFT bin of each peak.
    weights : ndarray
        ``peak_power`` normalised to sum to 1 (empty without peaks).
    dt : float
        Time step that converts bins to rad/s [s].
    n_steps, n_fft : int
        Sequence length T and FFT length (>= T; zero padding refines the bins).
    n_sequences, n_channels : int
        Sequences and input channels averaged over.
    omega_max : float
        Largest angular frequency searched for peaks [rad/s].
    prominence : float
        Absolute prominence threshold the peaks passed (units of ``power``).
    relative_prominence : float
        The same threshold as a fraction of the largest non-DC power searched.
    """

    omega: np.ndarray
    power: np.ndarray
    peak_omega: np.ndarray
    peak_power: np.ndarray
    peak_prominence: np.ndarray
    peak_bin: np.ndarray
    weights: np.ndarray
    dt: float
    n_steps: int
    n_fft: int
    n_sequences: int
    n_channels: int
    omega_max: float
    prominence: float
    relative_prominence: float

    @property
    def bin_width(self):
        """Spacing of the FFT bins [rad/s]."""
        return 2.0 * np.pi / (self.n_fft * self.dt)


def power_spectrum(x, dt=0.01, n_fft=None, chunk=256):
    """Return the mean power spectrum of sequences x of shape (N, T, C).

    Parameters
    ----------
    x : array_like, shape (N, T, C)
        Sample-major inputs, as ``rfsim.data.Dataset.x``.
    dt : float
        Time step [s] of the network that reads x (0.01 s for the RF neurons of the engine).
    n_fft : int, optional
        FFT length (>= T; T by default).
    chunk : int
        Sequences transformed at once, which bounds the memory used.

    Returns
    -------
    omega : ndarray
        Angular frequency of each bin [rad/s].
    power : ndarray
        Mean over sequences and channels of |rfft(x)|**2.
    """
    from rfsim.stability import check_dt

    check_dt(dt)
    x = np.asarray(x)
    if x.ndim != 3 or min(x.shape) < 1:
        raise RFSimError(f"x must have shape (N, T, C) with N, T, C >= 1, got shape {x.shape}")
    n_sequences, n_steps, n_channels = x.shape
    if n_steps < 4:
        raise RFSimError(f"a spectrum needs at least 4 time steps, got T={n_steps}")
    n_fft = n_steps if n_fft is None else n_fft
    if isinstance(n_fft, bool) or not isinstance(n_fft, (int, np.integer)) or n_fft < n_steps:
        raise RFSimError(f"n_fft must be an integer >= the sequence length T={n_steps}, got n_fft={n_fft!r}")

    total = np.zeros(n_fft // 2 + 1)
    for start in range(0, n_sequences, chunk):
        block = np.asarray(x[start:start + chunk], dtype=np.float64)
        spectrum = np.fft.rfft(block, n=n_fft, axis=1)
        total += np.sum(spectrum.real**2 + spectrum.imag**2, axis=(0, 2))
    omega = 2.0 * np.pi * np.fft.rfftfreq(n_fft, d=dt)
    return omega, total / (n_sequences * n_channels)


def dominant_frequencies(dataset, n=5, dt=0.01, *, prominence=DEFAULT_RELATIVE_PROMINENCE, omega_max=None,
                         n_fft=None):
    """Find the dominant angular frequencies of a dataset from its mean power spectrum.

    Parameters
    ----------
    dataset : rfsim.data.Dataset or array_like of shape (N, T, C)
        Input sequences.
    n : int
        Largest number of peaks to return (the strongest ones).
    dt : float
        Time step [s] that converts FFT bins to rad/s: the step of the RF neurons
        reading the data (0.01 s in the engine).
    prominence : float
        Peak prominence threshold, as a fraction of the largest non-DC power
        below ``omega_max`` (``scipy.signal.find_peaks``). The default 0.05 keeps
        peaks that stand out by at least 5 % of the strongest bin.
    omega_max : float, optional
        Largest angular frequency searched [rad/s]; by default the Nyquist
        frequency pi/dt. Use 1/dt for BRF neurons, whose omega cannot exceed it.
    n_fft : int, optional
        FFT length (>= T); zero padding interpolates the spectrum between bins.

    Returns
    -------
    DatasetSpectrum

    Notes
    -----
    The spectrum is the plain periodogram |rfft|**2 of each input channel of
    each sequence, without a window, averaged over sequences and channels. The
    DC bin is excluded from the peak search. Peaks are local maxima, so the
    lowest non-DC bin and the last bin searched are never reported. Regular
    spike trains have harmonics at multiples of their rate, which appear as
    peaks of their own.
    """
    from scipy.signal import find_peaks

    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise RFSimError(f"n must be a positive number of peaks, got n={n!r}")
    if not (np.isfinite(prominence) and 0.0 <= prominence < 1.0):
        raise RFSimError(f"prominence must be a fraction in [0, 1) of the largest power, got {prominence!r}")
    x = dataset.x if hasattr(dataset, "x") else dataset
    omega, power = power_spectrum(x, dt, n_fft)
    nyquist = float(omega[-1])
    if omega_max is None:
        omega_max = nyquist
    if not (np.isfinite(omega_max) and omega_max > omega[1]):
        raise RFSimError(f"omega_max must exceed the first FFT bin {omega[1]:.4g} rad/s, got omega_max={omega_max!r}")
    omega_max = min(float(omega_max), nyquist)

    # Search bins 1..stop-1: DC excluded, nothing above omega_max.
    stop = int(np.searchsorted(omega, omega_max, side="right"))
    searched = power[1:stop]
    threshold = prominence * float(searched.max()) if searched.size else 0.0
    found, properties = find_peaks(searched, prominence=threshold)
    bins = found + 1
    order = np.argsort(-power[bins], kind="stable")[:n]
    bins = bins[order]
    peak_power = power[bins]
    total = peak_power.sum()
    return DatasetSpectrum(
        omega=omega, power=power, peak_omega=omega[bins], peak_power=peak_power,
        peak_prominence=properties["prominences"][order], peak_bin=bins,
        weights=peak_power / total if total > 0 else np.zeros_like(peak_power), dt=float(dt),
        n_steps=int(x.shape[1]), n_fft=int(n_fft or x.shape[1]), n_sequences=int(x.shape[0]),
        n_channels=int(x.shape[2]), omega_max=omega_max, prominence=threshold,
        relative_prominence=float(prominence),
    )


@dataclass(frozen=True)
class PeakMatch:
    """Neurons assigned to the nearest dominant frequency.

    Attributes
    ----------
    nearest : ndarray of int, shape (H,)
        Index of the nearest peak for each neuron.
    distance : ndarray, shape (H,)
        |omega - nearest peak| [rad/s].
    counts : ndarray of int
        Neurons per peak.
    """

    nearest: np.ndarray
    distance: np.ndarray
    counts: np.ndarray


def match_to_peaks(omega, peak_omega):
    """Assign each angular frequency [rad/s] to the nearest peak [rad/s]."""
    omega = np.abs(np.asarray(omega, dtype=float))
    peaks = np.asarray(peak_omega, dtype=float)
    if peaks.ndim != 1 or peaks.size == 0:
        raise RFSimError("peak_omega is empty: the spectrum has no peak to compare with")
    gaps = np.abs(omega[:, None] - peaks[None, :])
    nearest = np.argmin(gaps, axis=1)
    return PeakMatch(nearest=nearest, distance=gaps[np.arange(omega.size), nearest],
                     counts=np.bincount(nearest, minlength=peaks.size))


def omega_from_spectrum(freqs, weights, n_hidden, rng, *, dt=0.01, jitter=0.05, omega_max=None):
    """Draw initial angular frequencies of hidden neurons from dominant frequencies.

    Each neuron picks peak k with probability weights[k] / sum(weights) and gets
    omega = freqs[k] * (1 + jitter * e) with e ~ N(0, 1), clipped to
    [1e-6 * omega_max, omega_max], so every omega is positive and at most
    ``omega_max``.

    Parameters
    ----------
    freqs : array_like
        Dominant angular frequencies [rad/s] (``DatasetSpectrum.peak_omega``).
    weights : array_like
        Non-negative weight of each frequency (``DatasetSpectrum.peak_power``);
        only their ratios matter.
    n_hidden : int
        Number of neurons.
    rng : numpy.random.Generator
        The only source of randomness.
    dt : float
        Time step of the neurons [s].
    jitter : float
        Relative standard deviation of the spread around each frequency (>= 0).
    omega_max : float, optional
        Largest omega [rad/s]; 1/dt by default, the limit of the BRF neuron.

    Returns
    -------
    ndarray of float64, shape (n_hidden,)
        Angular frequencies [rad/s] for ``hidden.omega``.

    Raises
    ------
    RFSimError
        For empty, non-finite or non-positive frequencies, a frequency above
        ``omega_max``, negative weights or weights summing to 0, a bad count,
        jitter or rng.
    """
    from rfsim.stability import check_dt

    check_dt(dt)
    if not isinstance(rng, np.random.Generator):
        raise RFSimError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}; "
                         "use numpy.random.default_rng(seed)")
    if isinstance(n_hidden, bool) or not isinstance(n_hidden, (int, np.integer)) or n_hidden < 1:
        raise RFSimError(f"n_hidden must be a positive integer, got n_hidden={n_hidden!r}")
    if not (np.isfinite(jitter) and jitter >= 0):
        raise RFSimError(f"jitter must be a finite relative spread >= 0, got jitter={jitter!r}")
    omega_max = 1.0 / dt if omega_max is None else float(omega_max)
    if not (np.isfinite(omega_max) and omega_max > 0):
        raise RFSimError(f"omega_max must be a positive angular frequency in rad/s, got omega_max={omega_max!r}")

    freqs = np.asarray(freqs, dtype=float)
    weights = np.asarray(weights, dtype=float)
    if freqs.ndim != 1 or freqs.size == 0:
        raise RFSimError("freqs is empty: give at least one dominant angular frequency in rad/s")
    if weights.shape != freqs.shape:
        raise RFSimError(f"weights must have one entry per frequency, got {weights.size} weights for "
                         f"{freqs.size} frequencies")
    if not np.all(np.isfinite(freqs)) or np.any(freqs <= 0):
        raise RFSimError(f"freqs must be finite positive angular frequencies in rad/s, got {freqs.tolist()}")
    if np.any(freqs > omega_max):
        raise RFSimError(f"frequency {freqs.max():g} rad/s exceeds omega_max = {omega_max:g} rad/s (1/dt for "
                         "BRF neurons); search the spectrum only up to omega_max")
    if not np.all(np.isfinite(weights)) or np.any(weights < 0) or weights.sum() <= 0:
        raise RFSimError(f"weights must be finite, non-negative and not all zero, got {weights.tolist()}")

    picks = rng.choice(freqs.size, size=int(n_hidden), p=weights / weights.sum())
    omega = freqs[picks] * (1.0 + jitter * rng.standard_normal(int(n_hidden)))
    return np.clip(omega, 1e-6 * omega_max, omega_max)


def spectrum_omega_init(dataset, n_hidden, rng, *, dt=0.01, n_peaks=5, prominence=DEFAULT_RELATIVE_PROMINENCE,
                        jitter=0.05, omega_max=None):
    """Draw initial omegas [rad/s] from the dominant frequencies of a training set.

    Combines ``dominant_frequencies`` (searched up to ``omega_max``, 1/dt by
    default) and ``omega_from_spectrum``, weighting the peaks by their power.

    Returns
    -------
    omega : ndarray, shape (n_hidden,)
        Angular frequencies [rad/s] for ``hidden.omega``.
    spectrum : DatasetSpectrum
        The spectrum and peaks they were drawn from.

    Raises
    ------
    RFSimError
        If the spectrum has no peak below ``omega_max`` (give a different
        initialisation, or a lower ``prominence``).
    """
    omega_max = 1.0 / dt if omega_max is None else omega_max
    spectrum = dominant_frequencies(dataset, n=n_peaks, dt=dt, prominence=prominence, omega_max=omega_max)
    if spectrum.peak_omega.size == 0:
        raise RFSimError(f"the dataset spectrum has no peak below {omega_max:g} rad/s with prominence "
                         f"{prominence:g}; lower the prominence or initialise omega from a uniform range")
    omega = omega_from_spectrum(spectrum.peak_omega, spectrum.peak_power, n_hidden, rng, dt=dt, jitter=jitter,
                                omega_max=omega_max)
    return omega, spectrum


# --- raster of hidden spikes -------------------------------------------------------------


@dataclass(frozen=True)
class SpikeRaster:
    """Hidden spikes of one sequence, neurons sorted by omega (RF types) or tau_mem (ALIF).

    Attributes
    ----------
    spikes : ndarray of uint8, shape (T, H)
        Spikes z_t; column j is the neuron ``order[j]``.
    order : ndarray of int, shape (H,)
        Original indices of the neurons, in ascending ``sort_values``.
    sort_values : ndarray, shape (H,)
        |omega| [rad/s] or |tau_mem| [steps] of the sorted neurons.
    sort_by : str
        ``'omega'`` or ``'tau_mem'``.
    inputs : ndarray, shape (T, C)
        Input of the sequence.
    outputs : ndarray, shape (T, n_out)
        Readout membrane o_t.
    prediction : ndarray of int, shape (T,)
        argmax of the readout at each step.
    label : ndarray or int or None
        Label per step (T,), one label for the sequence, or None.
    model : str
        Hidden neuron model.
    dt : float
        Time step of the RF-type neurons [s] (ALIF uses unit steps).
    """

    spikes: np.ndarray
    order: np.ndarray
    sort_values: np.ndarray
    sort_by: str
    inputs: np.ndarray
    outputs: np.ndarray
    prediction: np.ndarray
    label: object
    model: str
    dt: float

    @property
    def spike_count(self):
        """Hidden spikes of the sequence, summed over steps and neurons."""
        return int(self.spikes.sum())


def spike_raster(net_config, params, x, *, mask=None, label=None):
    """Run one sequence with ``record=True`` and sort its hidden spikes.

    Parameters
    ----------
    net_config : rfsim.network.RSNNConfig
    params : dict of str to ndarray
        Raw parameters.
    x : array_like, shape (T, C) or (T, 1, C)
        Input of one sequence.
    mask : ndarray, optional
        Recurrent pruning mask.
    label : array_like or int, optional
        Label of the sequence, stored with the raster.

    Returns
    -------
    SpikeRaster
    """
    from rfsim.network import forward

    x = np.asarray(x, dtype=net_config.np_dtype)
    if x.ndim == 2:
        x = x[:, None, :]
    if x.ndim != 3 or x.shape[1] != 1:
        raise RFSimError(f"x must be one sequence of shape (T, C) or (T, 1, C), got shape {x.shape}")
    result = forward(net_config, params, x, mask=mask, record=True)

    sort_by = "tau_mem" if net_config.model == "alif" else "omega"
    values = np.abs(np.asarray(params[f"hidden.{sort_by}"], dtype=float))
    order = np.argsort(values, kind="stable")
    spikes = result.states["z"][:, 0, :][:, order].astype(np.uint8)
    outputs = result.outputs[:, 0, :]
    return SpikeRaster(spikes=spikes, order=order, sort_values=values[order], sort_by=sort_by, inputs=x[:, 0, :],
                       outputs=outputs, prediction=np.argmax(outputs, axis=1), label=label, model=net_config.model,
                       dt=float(net_config.dt))


def hidden_raster(checkpoint, split="test", sample=0, *, task=None, data_dir=None):
    """Record the hidden spikes of one sequence of a checkpoint's task (``spike_raster``).

    Parameters
    ----------
    checkpoint : str, Path or rfsim.analysis._checkpoints.AnalysisCheckpoint
        Checkpoint ``.npz`` with its sidecar, or one already loaded.
    split : {'test', 'valid', 'train'}
    sample : int
        Index of the sequence in the split.
    task, data_dir : optional
        As for ``load_analysis_checkpoint``.

    Returns
    -------
    SpikeRaster
    """
    from rfsim.analysis._checkpoints import select_sequences

    loaded = _as_loaded(checkpoint, task, data_dir)
    if isinstance(sample, bool) or not isinstance(sample, (int, np.integer)):
        raise RFSimError(f"sample must be an integer sequence index, got sample={sample!r}")
    x, labels = select_sequences(loaded, split, samples=(int(sample),))
    label = labels[:, 0] if labels.ndim == 2 else int(labels[0])
    return spike_raster(loaded.net_config, loaded.params, x, mask=loaded.mask, label=label)


def _as_loaded(checkpoint, task=None, data_dir=None):
    from rfsim.analysis._checkpoints import AnalysisCheckpoint, load_analysis_checkpoint

    if isinstance(checkpoint, AnalysisCheckpoint):
        return checkpoint
    return load_analysis_checkpoint(checkpoint, task=task, data_dir=data_dir)


# --- files -------------------------------------------------------------------------------


def save_parameter_analysis(path, *, scatter=None, spectrum=None, sparsity=None):
    """Write the parameter analyses to a CSV or NPZ file (format from the suffix).

    The ``.csv`` file has one row per hidden neuron: omega, b_offset, b_c and
    whether it converges, for the initial and the trained network, and the
    neuron's spikes per sequence and fan-out from ``sparsity``. The ``.npz``
    file stores every array of the three results, with the prefixes
    ``scatter_``, ``spectrum_`` and ``sparsity_``; the spectrum goes only there.

    Raises
    ------
    RFSimError
        For another suffix, no result at all, or a file that cannot be written.
    """
    path = Path(path)
    if scatter is None and spectrum is None and sparsity is None:
        raise RFSimError("nothing to write: give at least one of scatter, spectrum, sparsity")
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".npz"):
        raise RFSimError(f"output file must end in .csv or .npz, got {str(path)!r}")
    try:
        if suffix == ".npz":
            np.savez(path, **_npz_arrays(scatter, spectrum, sparsity))
        else:
            _write_neuron_csv(path, scatter, sparsity)
    except OSError as error:
        raise RFSimError(f"failed to write {str(path)!r}: {error}") from error


def _npz_arrays(scatter, spectrum, sparsity):
    arrays = {}
    if scatter is not None:
        arrays["scatter_dt"] = np.array(scatter.dt)
        for network_name, points in (("trained", scatter.trained), ("init", scatter.init)):
            if points is None:
                continue
            for field in ("omega", "b_offset", "b_c", "inside"):
                arrays[f"scatter_{network_name}_{field}"] = getattr(points, field)
        for field in ("grid_omega", "grid_b_upper", "grid_b_lower", "grid_b_zero", "hist_edges", "hist_trained"):
            arrays[f"scatter_{field}"] = getattr(scatter, field)
        if scatter.hist_init is not None:
            arrays["scatter_hist_init"] = scatter.hist_init
    if spectrum is not None:
        for field in ("omega", "power", "peak_omega", "peak_power", "peak_prominence", "peak_bin", "weights"):
            arrays[f"spectrum_{field}"] = getattr(spectrum, field)
        arrays["spectrum_dt"] = np.array(spectrum.dt)
    if sparsity is not None:
        for field in ("spikes_per_neuron", "fan_out_recurrent", "fan_out_readout", "fan_out_input",
                      "input_events_per_channel"):
            arrays[f"sparsity_{field}"] = getattr(sparsity, field)
        for field in ("sop", "sop_per_step", "firing_rate", "synaptic_ops", "input_synaptic_ops"):
            arrays[f"sparsity_{field}"] = np.array(getattr(sparsity, field))
    return arrays


def _write_neuron_csv(path, scatter, sparsity):
    columns = {}
    if scatter is not None:
        for network_name, points in (("init", scatter.init), ("trained", scatter.trained)):
            if points is None:
                continue
            columns[f"omega_{network_name}"] = points.omega
            columns[f"b_offset_{network_name}"] = points.b_offset
            columns[f"b_c_{network_name}"] = points.b_c
            columns[f"inside_{network_name}"] = points.inside.astype(int)
    if sparsity is not None:
        columns["spikes_per_sequence"] = sparsity.spikes_per_neuron / sparsity.n_sequences
        columns["fan_out_recurrent"] = sparsity.fan_out_recurrent
        columns["fan_out_readout"] = sparsity.fan_out_readout
    if not columns:
        raise RFSimError("the CSV file has one row per hidden neuron; give scatter or sparsity, or write .npz")
    n_rows = {len(values) for values in columns.values()}
    if len(n_rows) != 1:
        raise RFSimError("scatter and sparsity describe networks of different sizes")
    with open(path, "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["neuron", *columns])
        for index in range(n_rows.pop()):
            writer.writerow([index, *(_format_cell(values[index]) for values in columns.values())])


def _format_cell(value):
    if isinstance(value, (np.integer, int)):
        return int(value)
    return repr(float(value))
