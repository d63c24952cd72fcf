"""Frequency response of single neurons under a periodic drive.

Protocol: a neuron with angular frequency omega [rad/s], offset b_offset [1/s]
and time step dt [s] starts from a zero state. For ``duration`` seconds it
receives positive input spikes in phase with a test angular frequency
omega_drive, one spike per period 2*pi/omega_drive. Spike k arrives at step rint(k*P) with
P = 2*pi/(omega_drive*dt), the step nearest to its time 2*pi*k/omega_drive, so
the first spike is at t = 0. The response is the mean of |u| over all steps,
where u is the real part of the membrane (RF, BRF) or the velocity-like
variable that receives the input (HRF, BHRF). A sweep repeats this for every
omega_drive on a grid (default 0.1 to 100 rad/s in steps of 0.1 rad/s, 1000
frequencies). The optional sine drive uses I_n = amplitude*sin(omega_drive*n*dt).

The neurons keep their threshold, refractory variable q and all other dynamics,
so a strong drive makes them spike and leaves the linear regime. The default
amplitude keeps the default neuron subthreshold: each input spike has the
current 0.1/dt, so u jumps by 0.1 (a tenth of the threshold), and the sine has
the peak current 0.1. For BRF with omega = 10 rad/s, b_offset = 1/s,
dt = 0.001 s the steady-state peak of u at resonance is then about
0.1/(1 - exp(-1.05*2*pi/10)) = 0.2, far below the threshold 1. A weaker damping
(smaller b_offset) raises that peak as 1/(1 - exp(b*2*pi/omega)), and the
result's ``output_spikes`` counts the spikes so that a caller can see where the
neuron left the linear regime. ``linear_frequency_response`` gives the exact
response of the linear (never spiking) system under the same drive, for
comparison; ``rfsim.analysis.transfer`` relates it to the transfer function.

Peak analysis: the peak is the resonance, the interior local maximum of the
response with the largest prominence. A local maximum is a grid point, or a
plateau of equal values, strictly above the nearest finite points on both
sides, and non-finite points are skipped. Its prominence is its height above
the higher of its cols, where the col on one side is the lowest response
between it and the first higher response on that side. A side without a higher
response has no col, and a maximum without any col is measured down to the
lowest response, so a global maximum inside the grid is always the peak.
Prominence rather than height decides because mean |u| under a spike drive
rises again towards the top of the grid, since a faster drive delivers more
spikes per second. That rising part carries ripples, mostly about
2*pi/duration rad/s apart because the number of input spikes in the duration
is a whole number, and their tops can exceed the resonance. A curve without an
interior local maximum falls back to its global maximum. A single-point peak
is refined by a parabola through it and its neighbours, a plateau by its
centre. ``ResponsePeak.edge_maximum_omega`` names a grid end whose response
exceeds the peak.

The -3 dB band is the contiguous range around the peak where the response
stays >= peak/sqrt(2), its edges interpolated linearly, so a response that
rises again beyond the first drop below that level does not widen it.
Sub-harmonic peaks are local maxima near peak/k, k = 2, 3, ..., which a spike
drive produces because its k-th harmonic then meets the resonance.
"""

from dataclasses import dataclass, field

import numpy as np

from rfsim.analysis._response_kernels import INPUT_CODES, MODEL_CODES, response_sweep
from rfsim.analysis.boundary import (
    DAMPING_SIGNS,
    HARMONIC_BOUNDARIES,
    HARMONIC_ORDERS,
    MODELS,
    check_neuron_b_offset,
    neuron_damping,
)
from rfsim.analysis.transfer import (
    harmonic_state_space,
    rf_state_space,
    sine_response,
    spike_train_response,
)
from rfsim.errors import DataError, RFSimError
from rfsim.neurons.drive import count_steps
from rfsim.neurons.hrf import ORDER_CODES, SIGN_CODES
from rfsim.stability import check_dt

INPUTS = ("spikes", "sine")
"""Drive kinds of the frequency response."""

DEFAULT_SPIKE_CHARGE = 0.1
"""Jump of u per input spike with the default amplitude (amplitude = 0.1/dt)."""

DEFAULT_SINE_AMPLITUDE = 0.1
"""Default peak current of the sine drive."""


def frequency_grid(freq_min=0.1, freq_max=100.0, freq_step=0.1):
    """Return the drive angular frequencies freq_min, freq_min + freq_step, ... <= freq_max [rad/s].

    The end point is included when (freq_max - freq_min)/freq_step is an
    integer up to a relative rounding of 1e-9, so the default grid has 1000
    frequencies.

    Raises
    ------
    RFSimError
        If a bound is not finite or not positive, freq_step <= 0, or
        freq_min > freq_max (an empty grid).
    """
    for name, value in (("freq_min", freq_min), ("freq_max", freq_max), ("freq_step", freq_step)):
        if not np.isfinite(value):
            raise RFSimError(f"{name} must be finite, got {name}={value!r}")
    if freq_min <= 0:
        raise RFSimError(f"freq_min must be a positive angular frequency in rad/s, got freq_min={freq_min!r}")
    if freq_step <= 0:
        raise RFSimError(f"freq_step must be positive, got freq_step={freq_step!r}; the grid would be empty")
    if freq_min > freq_max:
        raise RFSimError(
            f"freq_min={freq_min:g} rad/s exceeds freq_max={freq_max:g} rad/s, so the frequency grid is empty; "
            "give freq_min <= freq_max"
        )
    count = int(np.floor((freq_max - freq_min) / freq_step * (1.0 + 1e-9))) + 1
    return freq_min + freq_step * np.arange(count)


def spread_omegas(omega, n_neurons):
    """Return ``n_neurons`` angular frequencies [rad/s] spaced logarithmically from omega/2 to 2*omega.

    The spacing is symmetric around ``omega`` on a log scale, so ``omega`` itself
    is included when ``n_neurons`` is odd; one neuron gets ``omega``.
    """
    if int(n_neurons) != n_neurons or n_neurons < 1:
        raise RFSimError(f"the number of neurons must be a positive integer, got {n_neurons!r}")
    if not np.isfinite(omega) or omega <= 0:
        raise RFSimError(f"omega must be a finite positive angular frequency in rad/s, got omega={omega!r}")
    if n_neurons == 1:
        return np.array([float(omega)])
    return omega * np.logspace(-1.0, 1.0, int(n_neurons), base=2.0)


def drive_spike_steps(drive_omega, dt, n_steps):
    """Return the steps of the input spikes of the spike drive at ``drive_omega`` [rad/s].

    Spike k falls on step rint(k*2*pi/(drive_omega*dt)), exactly as in the sweep kernel.
    """
    period = 2.0 * np.pi / (drive_omega * dt)
    steps = np.rint(np.arange(int(n_steps / period) + 2) * period).astype(np.int64)
    return steps[steps < n_steps]


@dataclass(frozen=True)
class HalfPowerBand:
    """Range around the peak where the response stays >= peak/sqrt(2) (the -3 dB band).

    Attributes
    ----------
    low, high : float
        Band edges [rad/s], linearly interpolated between grid points. An edge
        is NaN when the response stays >= peak/sqrt(2) up to the grid end on
        that side, so the edge lies outside the grid.
    low_in_grid, high_in_grid : bool
        Whether the response drops below peak/sqrt(2) inside the grid on that side.
    """

    low: float
    high: float
    low_in_grid: bool
    high_in_grid: bool

    @property
    def width(self):
        """Band width high - low [rad/s] (NaN if an edge lies outside the grid)."""
        return self.high - self.low


@dataclass(frozen=True)
class SubharmonicPeak:
    """Local maximum of the response near peak/k.

    Attributes
    ----------
    k : int
        Sub-harmonic order (2 for the peak near half the main peak frequency).
    omega : float
        Grid frequency of the local maximum [rad/s].
    response : float
        Response there (mean |u|).
    """

    k: int
    omega: float
    response: float


@dataclass(frozen=True)
class ResponsePeak:
    """Peak analysis of one response curve.

    Attributes
    ----------
    omega : float
        The neuron's angular frequency [rad/s].
    peak_omega : float
        Drive frequency of the resonance [rad/s]: the grid point of the most
        prominent interior local maximum (the middle point of a plateau, the
        lower one of the two middle points for an even count), or of the
        global maximum when the curve has no interior local maximum. NaN if no
        response is finite.
    peak_response : float
        Response at the peak (mean |u|).
    peak_omega_interpolated : float
        Refined peak frequency [rad/s]: the vertex of the parabola through the
        peak and its nearest finite neighbours, the centre of a plateau, or the
        grid value when the curve has no interior local maximum.
    band : HalfPowerBand
        The -3 dB band around the peak.
    subharmonics : tuple of SubharmonicPeak
        Local maxima near peak_omega/k, k = 2, 3, ..., where present.
    edge_maximum_omega : float
        Drive frequency [rad/s] of the grid end (first or last finite point)
        whose response exceeds peak_response, the higher end if both do. NaN
        when neither end exceeds the peak. A spike drive sets it when its
        response rises again towards the top of the grid.
    edge_maximum_response : float
        Response at ``edge_maximum_omega`` (mean |u|), NaN when that is NaN.
    """

    omega: float
    peak_omega: float
    peak_response: float
    peak_omega_interpolated: float
    band: HalfPowerBand
    subharmonics: tuple
    edge_maximum_omega: float = np.nan
    edge_maximum_response: float = np.nan


@dataclass(frozen=True)
class FrequencyResponse:
    """Result of ``frequency_response``.

    Attributes
    ----------
    model : str
        Neuron model.
    omega : ndarray, shape (N,)
        Angular frequency of each neuron [rad/s].
    b_offset : ndarray, shape (N,)
        Damping offset of each neuron [1/s].
    dt : float
        Time step [s].
    duration : float
        Simulated time per drive frequency [s].
    n_steps : int
        Steps per drive frequency.
    input : str
        ``"spikes"`` or ``"sine"``.
    amplitude : float
        Input current of each spike, or peak current of the sine.
    drive_omega : ndarray, shape (F,)
        Drive angular frequencies [rad/s].
    response : ndarray, shape (N, F)
        Mean |u| over the sequence.
    output_spikes : ndarray, shape (N, F)
        Number of output spikes of the neuron.
    peaks : tuple of ResponsePeak
        Peak analysis per neuron.
    options : dict
        Further model options (theta, gamma, order, damping_sign, boundary).
    """

    model: str
    omega: np.ndarray
    b_offset: np.ndarray
    dt: float
    duration: float
    n_steps: int
    input: str
    amplitude: float
    drive_omega: np.ndarray
    response: np.ndarray
    output_spikes: np.ndarray
    peaks: tuple
    options: dict = field(default_factory=dict)

    @property
    def subthreshold(self):
        """Boolean (N, F) array: True where the neuron never spiked, so the response is linear."""
        return self.output_spikes == 0


def _check_choice(name, value, choices):
    if value not in choices:
        raise RFSimError(f"{name} must be one of {', '.join(map(repr, choices))}, got {name}={value!r}")


def _prepare(model, omega, b_offset, dt, duration, drive_omega, input, amplitude, order, boundary, damping_sign,
             allow_divergent):
    """Validate the sweep arguments; return (damping, omega, b_offset, n_steps, drive_omega, amplitude)."""
    _check_choice("model", model, MODELS)
    _check_choice("input", input, INPUTS)
    _check_choice("order", order, HARMONIC_ORDERS)
    _check_choice("boundary", boundary, HARMONIC_BOUNDARIES)
    _check_choice("damping_sign", damping_sign, DAMPING_SIGNS)
    check_dt(dt)
    n_steps = count_steps(duration, dt)

    drive_omega = np.atleast_1d(np.asarray(drive_omega, dtype=float))
    if drive_omega.ndim != 1 or drive_omega.size == 0:
        raise RFSimError("the drive frequency grid is empty; give at least one angular frequency in rad/s")
    bad = ~np.isfinite(drive_omega) | (drive_omega <= 0)
    if bad.any():
        raise RFSimError(
            f"drive frequencies must be finite and positive in rad/s, got {float(drive_omega[bad][0])!r}"
        )
    too_fast = drive_omega * dt >= np.pi
    if too_fast.any():
        raise RFSimError(
            f"drive frequency {drive_omega[too_fast][0]:g} rad/s is at or above the Nyquist frequency "
            f"pi/dt = {np.pi / dt:g} rad/s of dt={dt:g} s, so fewer than two steps fall in one period; "
            "lower the maximum drive frequency or use a smaller dt"
        )

    damping = neuron_damping(model, omega, dt, order=order, boundary=boundary, damping_sign=damping_sign)
    omega = damping.region.omega
    b_offset = np.asarray(b_offset, dtype=float)
    if b_offset.ndim > 1 or (b_offset.ndim == 1 and b_offset.size not in (1, omega.size)):
        raise RFSimError(
            f"b_offset must be a scalar or have one value per neuron ({omega.size}), got shape {b_offset.shape}"
        )
    b_offset = np.ascontiguousarray(np.broadcast_to(b_offset, omega.shape), dtype=float)
    check_neuron_b_offset(damping, b_offset, allow_divergent=allow_divergent)

    if amplitude is None:
        amplitude = DEFAULT_SPIKE_CHARGE / dt if input == "spikes" else DEFAULT_SINE_AMPLITUDE
    if not np.isfinite(amplitude):
        raise RFSimError(f"amplitude must be finite, got amplitude={amplitude!r}")
    return damping, omega, b_offset, n_steps, drive_omega, float(amplitude)


def frequency_response(
    omega, b_offset=1.0, dt=0.001, duration=20.0, drive_omega=None, model="brf", input="spikes", amplitude=None,
    theta=1.0, gamma=0.9, order="implementation", boundary="implementation", damping_sign="implementation",
    allow_divergent=False, max_subharmonic=10,
):
    """Sweep the drive frequency and record each neuron's mean |u| (module docstring).

    Parameters
    ----------
    omega : float or array_like
        Angular frequency of each neuron [rad/s]: in (0, 1/dt] for RF and BRF,
        (0, 2/dt] for HRF and BHRF.
    b_offset : float or array_like, optional
        Damping offset [1/s], one value or one per neuron (default 1). It must
        keep the model inside its convergence region (``rfsim.analysis.boundary``).
    dt : float, optional
        Time step [s] (default 0.001).
    duration : float, optional
        Simulated time per drive frequency [s] (default 20).
    drive_omega : array_like, optional
        Drive angular frequencies [rad/s], each below the Nyquist frequency
        pi/dt; default ``frequency_grid()`` (0.1 to 100 rad/s, step 0.1).
    model : {"rf", "brf", "hrf", "bhrf"}, optional
        Neuron model (default ``"brf"``), with the damping of
        ``rfsim.analysis.boundary.neuron_damping``. RF and BRF use the explicit
        Euler step of the authors' implementation.
    input : {"spikes", "sine"}, optional
        Drive kind (default ``"spikes"``).
    amplitude : float, optional
        Input current of each spike (default 0.1/dt, so u jumps by 0.1 per
        spike) or peak current of the sine (default 0.1).
    theta : float, optional
        Threshold (base threshold of BRF and BHRF), default 1.
    gamma : float, optional
        Decay of the refractory variable q per step (BRF, BHRF), default 0.9.
    order : {"implementation", "paper"}, optional
        Harmonic update order (HRF, BHRF).
    boundary : {"implementation", "sustained"}, optional
        BHRF choice of p_h(omega).
    damping_sign : {"implementation", "paper"}, optional
        BHRF sign of b_offset and q in the damping.
    allow_divergent : bool, optional
        Simulate a divergent b_offset with a ``DivergenceWarning`` instead of
        raising; its response may be inf or NaN.
    max_subharmonic : int, optional
        Largest sub-harmonic order k searched near peak/k (default 10).

    Returns
    -------
    FrequencyResponse

    Raises
    ------
    RFSimError
        For invalid parameters, an empty or invalid frequency grid, or a
        divergent b_offset without ``allow_divergent``.

    Examples
    --------
    >>> result = frequency_response(10.0, drive_omega=frequency_grid(5.0, 15.0, 0.25))
    >>> peak = result.peaks[0]
    >>> round(peak.peak_omega_interpolated, 2), round(peak.band.low, 2), round(peak.band.high, 2)
    (10.15, 9.13, 11.56)
    """
    if drive_omega is None:
        drive_omega = frequency_grid()
    for name, value in (("theta", theta), ("gamma", gamma)):
        if not np.isfinite(value):
            raise RFSimError(f"{name} must be finite, got {name}={value!r}")
    damping, omega, b_offset, n_steps, drive_omega, amplitude = _prepare(
        model, omega, b_offset, dt, duration, drive_omega, input, amplitude, order, boundary, damping_sign,
        allow_divergent,
    )

    mean_abs = np.empty((omega.size, drive_omega.size))
    spikes = np.empty((omega.size, drive_omega.size))
    response_sweep(
        MODEL_CODES[model], np.ascontiguousarray(omega), np.ascontiguousarray(damping.base, dtype=float), b_offset,
        float(dt), 2.0 * np.pi / (drive_omega * dt), drive_omega * dt, n_steps, amplitude, INPUT_CODES[input],
        float(theta), float(gamma), ORDER_CODES[order], SIGN_CODES[damping_sign], mean_abs, spikes,
    )

    peaks = tuple(
        analyse_peak(drive_omega, mean_abs[i], omega=omega[i], max_subharmonic=max_subharmonic)
        for i in range(omega.size)
    )
    options = {"theta": float(theta), "gamma": float(gamma), "order": order, "boundary": boundary,
               "damping_sign": damping_sign}
    return FrequencyResponse(
        model=model, omega=omega, b_offset=b_offset, dt=float(dt), duration=float(duration), n_steps=n_steps,
        input=input, amplitude=amplitude, drive_omega=drive_omega, response=mean_abs, output_spikes=spikes,
        peaks=peaks, options=options,
    )


def linear_frequency_response(
    omega, b_offset=1.0, dt=0.001, duration=20.0, drive_omega=None, model="brf", input="spikes", amplitude=None,
    order="implementation", boundary="implementation", damping_sign="implementation", allow_divergent=False,
):
    """Return the exact mean |u| of the linear subthreshold neuron under the sweep's drive.

    The neuron never spikes here (q = 0), so u is a linear function of the
    input and ``rfsim.analysis.transfer`` gives it in closed form:
    ``spike_train_response`` for the spike drive (the impulse response summed
    over the drive's input spikes) and ``sine_response`` for the sine drive.
    Where ``frequency_response`` records no output spike, the two agree up to
    floating-point rounding.

    Parameters are those of ``frequency_response`` (threshold and refractory
    options do not apply).

    Returns
    -------
    ndarray, shape (N, F)
        Mean |u| for each neuron and drive frequency.
    """
    if drive_omega is None:
        drive_omega = frequency_grid()
    damping, omega, b_offset, n_steps, drive_omega, amplitude = _prepare(
        model, omega, b_offset, dt, duration, drive_omega, input, amplitude, order, boundary, damping_sign,
        allow_divergent,
    )

    result = np.empty((omega.size, drive_omega.size))
    for i in range(omega.size):
        b = float(damping.base[i] + damping.sign * b_offset[i])
        if model in ("rf", "brf"):
            system = rf_state_space(omega[i], b, dt)
        else:
            system = harmonic_state_space(omega[i], b, dt, order)
        for j, frequency in enumerate(drive_omega):
            if input == "spikes":
                u = spike_train_response(system, drive_spike_steps(frequency, dt, n_steps), n_steps, amplitude)
            else:
                u = sine_response(system, frequency, n_steps, amplitude)
            result[i, j] = np.mean(np.abs(u))
    return result


def half_power_band(drive_omega, response, peak_index):
    """Return the ``HalfPowerBand`` around ``response[peak_index]``.

    Walking outwards from the peak, the first grid point below peak/sqrt(2)
    on each side ends the band, and the edge is interpolated linearly between it
    and its inner neighbour. Non-finite responses count as outside the band.
    """
    drive_omega = np.asarray(drive_omega, dtype=float)
    response = np.asarray(response, dtype=float)
    level = response[peak_index] / np.sqrt(2.0)
    inside = np.isfinite(response) & (response >= level)

    edges = []
    for step in (-1, 1):
        i = peak_index
        while 0 <= i + step < response.size and inside[i + step]:
            i += step
        outer = i + step
        if not 0 <= outer < response.size:
            edges.append((np.nan, False))
            continue
        if not np.isfinite(response[outer]):
            edges.append((drive_omega[outer], True))
            continue
        fraction = (response[i] - level) / (response[i] - response[outer])
        edges.append((drive_omega[i] + fraction * (drive_omega[outer] - drive_omega[i]), True))

    (low, low_in_grid), (high, high_in_grid) = edges
    return HalfPowerBand(low=float(low), high=float(high), low_in_grid=low_in_grid, high_in_grid=high_in_grid)


def subharmonic_peaks(drive_omega, response, peak_omega, max_order=10):
    """Find local maxima of the response near peak_omega/k for k = 2 ... max_order.

    The search window of order k is (peak_omega/(k + 1/2), peak_omega/(k - 1/2)),
    so windows of neighbouring orders do not overlap. A grid point is a local
    maximum if it exceeds its left neighbour and is not below its right
    neighbour. The largest local maximum in the window is reported. Orders whose window
    contains no local maximum, or lies outside the grid, are left out.

    Returns
    -------
    tuple of SubharmonicPeak
    """
    drive_omega = np.asarray(drive_omega, dtype=float)
    response = np.asarray(response, dtype=float)
    if not np.isfinite(peak_omega) or response.size < 3:
        return ()

    interior = np.zeros(response.size, dtype=bool)
    interior[1:-1] = (response[1:-1] > response[:-2]) & (response[1:-1] >= response[2:])
    interior &= np.isfinite(response)

    peaks = []
    for k in range(2, int(max_order) + 1):
        low, high = peak_omega / (k + 0.5), peak_omega / (k - 0.5)
        candidates = np.flatnonzero(interior & (drive_omega > low) & (drive_omega < high))
        if candidates.size == 0:
            continue
        best = candidates[np.argmax(response[candidates])]
        peaks.append(SubharmonicPeak(k=k, omega=float(drive_omega[best]), response=float(response[best])))
    return tuple(peaks)


def _parabola_vertex(x, y):
    """Return the abscissa of the vertex of the parabola through three points."""
    (x0, x1, x2), (y0, y1, y2) = x, y
    numerator = (x1 - x0) ** 2 * (y1 - y2) - (x1 - x2) ** 2 * (y1 - y0)
    denominator = (x1 - x0) * (y1 - y2) - (x1 - x2) * (y1 - y0)
    if denominator == 0:
        return x1
    return x1 - 0.5 * numerator / denominator


def _plateaus(response):
    """Group the finite points of ``response`` into runs of equal consecutive values.

    Non-finite points are skipped, so the finite points on either side of them
    are neighbours. Returns the value of each run and an array of the grid
    indices of its points, both in grid order.
    """
    indices = np.flatnonzero(np.isfinite(response))
    values = response[indices]
    starts = np.flatnonzero(np.diff(values) != 0) + 1
    return values[np.r_[0, starts]], np.split(indices, starts)


def _prominences(levels, candidates):
    """Return the prominence of each local maximum ``levels[j]``, j in ``candidates``.

    ``levels`` are run values with no two neighbours equal, and each candidate
    is strictly above both neighbours (module docstring for the definition).
    """
    prominences = np.empty(len(candidates))
    for position, j in enumerate(candidates):
        cols = []
        higher_left = np.flatnonzero(levels[:j] > levels[j])
        if higher_left.size:
            cols.append(levels[higher_left[-1] + 1:j].min())
        higher_right = np.flatnonzero(levels[j + 1:] > levels[j])
        if higher_right.size:
            cols.append(levels[j + 1:j + 1 + higher_right[0]].min())
        base = max(cols) if cols else levels.min()
        prominences[position] = levels[j] - base
    return prominences


def _locate_peak(drive_omega, response):
    """Return (grid index, refined frequency [rad/s]) of the resonance of a curve with a finite point.

    The resonance is the most prominent interior local maximum, or the global
    maximum if the curve has none (module docstring).
    """
    levels, runs = _plateaus(response)
    interior = np.flatnonzero((levels[1:-1] > levels[:-2]) & (levels[1:-1] > levels[2:])) + 1
    if interior.size == 0:
        index = int(np.argmax(np.where(np.isfinite(response), response, -np.inf)))
        return index, float(drive_omega[index])

    # NOTE: when the grid misses the resonance, a rippled response still has interior maxima, so
    # the most prominent ripple is reported as the peak. edge_maximum_omega flags a rising response.
    best = interior[np.argmax(_prominences(levels, interior))]
    members = runs[best]
    index = int(members[(members.size - 1) // 2])
    if members.size > 1:
        return index, float(0.5 * (drive_omega[members[0]] + drive_omega[members[-1]]))
    around = [runs[best - 1][-1], index, runs[best + 1][0]]
    return index, float(_parabola_vertex(drive_omega[around], response[around]))


def analyse_peak(drive_omega, response, omega=np.nan, max_subharmonic=10):
    """Find the resonance of one response curve, its -3 dB band and its sub-harmonics.

    The rules are those of the module docstring.

    Parameters
    ----------
    drive_omega : ndarray, shape (F,)
        Increasing drive frequencies [rad/s].
    response : ndarray, shape (F,)
        Response at each frequency.
    omega : float, optional
        The neuron's angular frequency [rad/s], stored in the result.
    max_subharmonic : int, optional
        Largest sub-harmonic order searched.

    Returns
    -------
    ResponsePeak
    """
    drive_omega = np.asarray(drive_omega, dtype=float)
    response = np.asarray(response, dtype=float)
    finite = np.flatnonzero(np.isfinite(response))
    if finite.size == 0:
        band = HalfPowerBand(low=np.nan, high=np.nan, low_in_grid=False, high_in_grid=False)
        return ResponsePeak(omega=float(omega), peak_omega=np.nan, peak_response=np.nan,
                            peak_omega_interpolated=np.nan, band=band, subharmonics=())

    index, interpolated = _locate_peak(drive_omega, response)
    peak_omega = float(drive_omega[index])
    peak_response = float(response[index])

    edge = max((finite[0], finite[-1]), key=lambda i: response[i])
    edge_omega, edge_response = np.nan, np.nan
    if response[edge] > peak_response:
        edge_omega, edge_response = float(drive_omega[edge]), float(response[edge])

    return ResponsePeak(
        omega=float(omega), peak_omega=peak_omega, peak_response=peak_response,
        peak_omega_interpolated=interpolated, band=half_power_band(drive_omega, response, index),
        subharmonics=subharmonic_peaks(drive_omega, response, peak_omega, max_subharmonic),
        edge_maximum_omega=edge_omega, edge_maximum_response=edge_response,
    )


def load_omegas(path):
    """Read angular frequencies [rad/s] from a text or CSV file, one number per line.

    Blank lines and lines starting with ``#`` are skipped, and a first line that
    is not a number is taken as a header. Only the first comma-separated field of
    a line is read.

    Raises
    ------
    DataError
        If the file is missing, unreadable, or contains no number or an invalid one.
    """
    import os

    path = os.fspath(path)
    if not os.path.isfile(path):
        raise DataError(f"omega file not found: {path}; give a text file with one angular frequency per line")
    values = []
    try:
        with open(path, encoding="utf-8") as handle:
            for line_number, line in enumerate(handle, start=1):
                text = line.split(",")[0].strip()
                if not text or text.startswith("#"):
                    continue
                try:
                    values.append(float(text))
                except ValueError:
                    if line_number == 1:
                        continue
                    raise DataError(
                        f"invalid angular frequency {text!r} in {path} at line {line_number}; "
                        "give one number in rad/s per line"
                    ) from None
    except (OSError, UnicodeDecodeError) as error:
        raise DataError(f"failed to read omega file {path}: {error}") from error
    if not values:
        raise DataError(f"omega file {path} contains no angular frequency; give one number in rad/s per line")
    return np.array(values)


def save_response_csv(result, path, linear=None):
    """Write a ``FrequencyResponse`` to a CSV file, one row per (neuron, drive frequency).

    Columns: omega [rad/s], b_offset [1/s], drive_omega [rad/s], response
    (mean |u|), output_spikes, and linear_response when ``linear`` (the
    ``linear_frequency_response`` array) is given.

    Raises
    ------
    RFSimError
        If the file cannot be written.
    """
    import csv
    import os

    path = os.fspath(path)
    header = ["omega", "b_offset", "drive_omega", "response", "output_spikes"]
    if linear is not None:
        header.append("linear_response")
    try:
        with open(path, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            for i in range(result.omega.size):
                for j in range(result.drive_omega.size):
                    row = [repr(float(result.omega[i])), repr(float(result.b_offset[i])),
                           repr(float(result.drive_omega[j])), repr(float(result.response[i, j])),
                           int(result.output_spikes[i, j])]
                    if linear is not None:
                        row.append(repr(float(linear[i, j])))
                    writer.writerow(row)
    except OSError as error:
        raise RFSimError(f"failed to write response table {path}: {error}") from error
