"""Tests of the frequency-response sweep in ``rfsim.analysis.response``.

The Numba sweep is compared with a NumPy reference built from the neurons'
reference simulations, with the exact linear closed form, and with the periodic
sum of the impulse response (the transfer function sampled at the drive's
harmonics). Then the physics: the peak lies near omega and approaches it as dt
shrinks, and spike drives show sub-harmonic peaks. Hand-made curves check the
peak rules: prominence, plateaus, non-finite points and the edge maximum.
Durations are short and grids coarse to keep the tests fast.
"""

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rfsim.analysis._response_kernels import INPUT_CODES, MODEL_CODES, response_sweep_reference
from rfsim.analysis.response import (
    analyse_peak,
    drive_spike_steps,
    frequency_grid,
    frequency_response,
    half_power_band,
    linear_frequency_response,
    load_omegas,
    save_response_csv,
    spread_omegas,
    subharmonic_peaks,
)
from rfsim.analysis.transfer import (
    effective_resonance,
    neuron_state_space,
    periodic_response_from_transfer,
    periodic_spike_response,
)
from rfsim.errors import DataError, DivergenceWarning, RFSimError
from rfsim.stability import p_omega

MODELS = ("rf", "brf", "hrf", "bhrf")
COARSE_GRID = frequency_grid(2.0, 40.0, 1.9)


# --- kernel against references ---


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("drive", ["spikes", "sine"])
def test_sweep_matches_numpy_reference(model, drive):
    # A strong drive makes the neurons spike, so threshold and q are compared too.
    dt, duration = 0.002, 1.0
    amplitude = 4.0 / dt if drive == "spikes" else 60.0
    omega = np.array([8.0, 21.0])
    b_offset = np.array([3.0, 6.0])
    result = frequency_response(omega, b_offset=b_offset, dt=dt, duration=duration, drive_omega=COARSE_GRID,
                                model=model, input=drive, amplitude=amplitude)
    assert result.output_spikes.sum() > 0

    period_steps = 2 * np.pi / (COARSE_GRID * dt)
    mean_abs, spikes = response_sweep_reference(
        MODEL_CODES[model], omega, b_offset, dt, period_steps, COARSE_GRID * dt, result.n_steps, amplitude,
        INPUT_CODES[drive], 1.0, 0.9, "implementation", "implementation", "implementation",
    )
    np.testing.assert_array_equal(result.output_spikes, spikes)
    np.testing.assert_allclose(result.response, mean_abs, rtol=1e-12)


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("drive", ["spikes", "sine"])
def test_subthreshold_sweep_equals_linear_closed_form(model, drive):
    # Without output spikes the neuron is linear, so mean |u| is the closed form up to rounding
    # (about 1e-13 relative after 2000 steps; 1e-10 leaves room for other dt and grids).
    settings = dict(b_offset=2.0, dt=0.005, duration=10.0, drive_omega=COARSE_GRID, model=model, input=drive)
    result = frequency_response([12.0, 25.0], **settings)
    assert np.all(result.subthreshold)
    linear = linear_frequency_response([12.0, 25.0], **settings)
    np.testing.assert_allclose(result.response, linear, rtol=1e-10)


def test_spiking_sweep_departs_from_linear_form():
    # With output spikes, q deepens the damping, so the BRF response falls below the linear one.
    settings = dict(b_offset=0.5, dt=0.002, duration=2.0, drive_omega=np.array([9.9, 10.0, 10.1]), input="spikes",
                    amplitude=2.0 / 0.002)
    result = frequency_response(10.0, **settings)
    assert np.all(result.output_spikes > 0)
    linear = linear_frequency_response(10.0, **settings)
    assert np.all(result.response < 0.9 * linear)


@pytest.mark.parametrize("model", MODELS)
def test_integer_period_drive_equals_periodic_sum(model):
    """A drive with exactly N steps per period puts its spikes at 0, N, 2N, ...

    The sweep then equals the geometric partial sums of the periodic closed form
    (tight tolerance). The steady state of that closed form is the inverse DFT of
    the transfer function at the drive's harmonics.
    """
    dt, omega, b_offset = 0.001, 10.0, 1.5
    periods = np.array([97, 314, 628, 1000])
    drive = 2 * np.pi / (periods * dt)
    n_steps = 5000
    result = frequency_response(omega, b_offset=b_offset, dt=dt, duration=n_steps * dt, drive_omega=drive,
                                model=model)
    assert np.all(result.subthreshold)
    system = neuron_state_space(model, omega, b_offset, dt)

    for j, period in enumerate(periods):
        np.testing.assert_array_equal(drive_spike_steps(drive[j], dt, n_steps), np.arange(0, n_steps, period))
        closed = periodic_spike_response(system, period, amplitude=result.amplitude, n_steps=n_steps)
        assert result.response[0, j] == pytest.approx(closed.mean_abs_u, rel=1e-11)

        steady = periodic_spike_response(system, period, amplitude=result.amplitude).u
        via_transfer = periodic_response_from_transfer(system, period, amplitude=result.amplitude)
        # The inverse FFT of up to 1000 harmonics rounds to a few 1e-12 of the peak.
        np.testing.assert_allclose(via_transfer, steady, rtol=0, atol=1e-10 * np.max(np.abs(steady)))


# --- physics of the response curve ---


def test_default_sweep_peaks_near_omega():
    # The paper's protocol at its defaults: 1000 frequencies, 20 s at dt = 0.001 s.
    result = frequency_response(10.0)
    assert result.drive_omega.size == 1000
    assert result.n_steps == 20_000
    assert np.all(result.subthreshold)
    peak = result.peaks[0]
    assert abs(peak.peak_omega - 10.0) <= 0.3
    assert peak.band.low_in_grid and peak.band.high_in_grid
    assert peak.band.low < 10.0 < peak.band.high


def test_omega_10_peak_is_grid_maximum():
    # The resonance is the global maximum here, so the peak and its band are those
    # of the plain grid maximum, and no grid end exceeds it.
    peak = frequency_response(10.0).peaks[0]
    assert peak.peak_omega == pytest.approx(10.1, abs=1e-9)
    assert peak.peak_omega_interpolated == pytest.approx(10.122, abs=1e-3)
    assert peak.band.low == pytest.approx(9.149, abs=1e-3)
    assert peak.band.high == pytest.approx(11.532, abs=1e-3)
    assert np.isnan(peak.edge_maximum_omega)
    assert np.isnan(peak.edge_maximum_response)


def test_spike_drive_peak_below_rising_edge():
    """At omega = 5 rad/s, mean |u| peaks near 5.4 rad/s and then rises again to the grid end.

    A faster spike drive delivers more spikes per second, so the response at
    100 rad/s (about 0.067) exceeds the resonance (about 0.051). The settings are
    the defaults of ``rfsim response``. The peak must be the resonance, with the
    grid end reported as the edge maximum.
    """
    result = frequency_response(5.0, b_offset=1.0, dt=0.001, duration=20.0,
                                drive_omega=frequency_grid(0.1, 100.0, 0.1), model="brf", input="spikes",
                                amplitude=None, theta=1.0, gamma=0.9)
    assert np.all(result.subthreshold)
    peak = result.peaks[0]
    assert 5.0 <= peak.peak_omega <= 6.0
    assert peak.peak_omega_interpolated == pytest.approx(peak.peak_omega, abs=0.1)
    assert peak.peak_response == pytest.approx(0.0515, abs=2e-3)
    assert peak.edge_maximum_omega == pytest.approx(100.0, abs=1e-9)
    assert peak.edge_maximum_response > peak.peak_response
    assert peak.edge_maximum_response == pytest.approx(float(result.response[0, -1]), abs=0.0)

    # The band closes where the response first falls below peak/sqrt(2), before the rise.
    assert peak.band.low_in_grid and peak.band.high_in_grid
    assert 3.5 < peak.band.low < peak.peak_omega
    assert peak.peak_omega < peak.band.high < 10.0
    sub = {s.k: s.omega for s in peak.subharmonics}
    assert sub[2] == pytest.approx(peak.peak_omega / 2, abs=0.2)


def test_peak_moves_toward_omega_as_dt_shrinks():
    """The peak lies above omega for the Euler step and approaches omega as dt decreases.

    The shift between dt values follows the Euler resonance atan2(dt*omega, 1 + dt*b)/dt,
    so the peak distance to omega must decrease strictly from dt = 0.01 s to 0.001 s
    to 0.0001 s; the remaining offset at small dt (about 0.06 rad/s here) comes from
    the mean-|u| measure of the continuous-time neuron.
    """
    omega, b_offset = 10.0, 0.3
    grid = frequency_grid(9.7, 10.4, 0.01)
    peaks = {}
    for dt in (0.01, 0.001, 0.0001):
        result = frequency_response(omega, b_offset=b_offset, dt=dt, duration=10.0, drive_omega=grid)
        assert np.all(result.subthreshold)
        peaks[dt] = result.peaks[0].peak_omega_interpolated
    distances = [abs(peaks[dt] - omega) for dt in (0.01, 0.001, 0.0001)]
    assert distances[0] > distances[1] > distances[2]
    assert distances[0] < 0.15
    assert all(peak > omega for peak in peaks.values())

    # The peak moves by as much as the Euler resonance does (within 5 mrad/s).
    def resonance(dt):
        return effective_resonance(omega, p_omega(omega, dt) - b_offset, dt)

    assert peaks[0.01] - peaks[0.001] == pytest.approx(resonance(0.01) - resonance(0.001), abs=5e-3)


def test_spike_drive_shows_subharmonic_peaks():
    # Driving at omega/k puts the k-th harmonic of the spike train on the resonance.
    result = frequency_response(10.0, duration=10.0, drive_omega=frequency_grid(1.0, 14.0, 0.1))
    found = {sub.k: sub.omega for sub in result.peaks[0].subharmonics}
    for k in (2, 3, 4):
        assert found[k] == pytest.approx(10.0 / k, abs=0.2)


def test_sine_drive_has_no_half_frequency_peak():
    # A sine has no harmonics, so nothing resonates at omega/2.
    result = frequency_response(10.0, duration=10.0, input="sine", drive_omega=frequency_grid(1.0, 14.0, 0.1))
    assert 2 not in {sub.k for sub in result.peaks[0].subharmonics}
    assert result.peaks[0].peak_omega == pytest.approx(10.0, abs=0.15)


# --- peak analysis on synthetic curves ---


def test_half_power_band_of_lorentzian():
    # response = 1/sqrt(1 + ((w - 10)/g)^2) falls to 1/sqrt(2) exactly at w = 10 -+ g.
    w = np.linspace(5.0, 15.0, 2001)
    response = 1.0 / np.sqrt(1.0 + ((w - 10.0) / 0.8) ** 2)
    peak = analyse_peak(w, response, omega=10.0)
    assert peak.peak_omega == pytest.approx(10.0, abs=1e-12)
    assert peak.peak_omega_interpolated == pytest.approx(10.0, abs=1e-9)
    assert peak.band.low == pytest.approx(9.2, abs=1e-5)
    assert peak.band.high == pytest.approx(10.8, abs=1e-5)
    assert peak.band.width == pytest.approx(1.6, abs=2e-5)


def test_half_power_band_edge_outside_grid():
    w = np.linspace(9.5, 12.0, 26)
    response = 1.0 / np.sqrt(1.0 + ((w - 10.0) / 0.8) ** 2)
    band = half_power_band(w, response, int(np.argmax(response)))
    assert not band.low_in_grid
    assert np.isnan(band.low)
    assert band.high_in_grid
    assert band.high == pytest.approx(10.8, abs=2e-3)
    assert np.isnan(band.width)


def test_parabolic_peak_between_grid_points():
    w = np.arange(0.0, 20.0, 1.0)
    response = -((w - 7.3) ** 2)
    assert analyse_peak(w, response).peak_omega_interpolated == pytest.approx(7.3, abs=1e-12)


def test_subharmonic_peaks_of_synthetic_curve():
    w = np.linspace(0.5, 12.0, 231)
    response = sum(np.exp(-(((w - 10.0 / k) / 0.1) ** 2)) / k for k in (1, 2, 3))
    peaks = subharmonic_peaks(w, response, 10.0, max_order=5)
    assert [peak.k for peak in peaks] == [2, 3]
    assert peaks[0].omega == pytest.approx(5.0, abs=0.05)
    assert peaks[1].omega == pytest.approx(10.0 / 3.0, abs=0.05)


def test_analyse_peak_without_finite_values():
    peak = analyse_peak(np.array([1.0, 2.0]), np.array([np.nan, np.inf]))
    assert np.isnan(peak.peak_omega)
    assert peak.subharmonics == ()
    assert np.isnan(peak.edge_maximum_omega)
    assert np.isnan(peak.edge_maximum_response)


INTEGER_GRID = np.arange(1.0, 9.0)
"""Drive frequencies 1, 2, ..., 8 rad/s of the hand-made curves."""


def test_peak_interior_not_rising_edge():
    response = np.array([0.2, 0.5, 1.0, 0.6, 0.4, 0.7, 1.2, 2.0])
    peak = analyse_peak(INTEGER_GRID, response)
    assert peak.peak_omega == 3.0
    assert peak.peak_response == 1.0
    assert peak.edge_maximum_omega == 8.0
    assert peak.edge_maximum_response == 2.0
    assert 2.0 < peak.peak_omega_interpolated < 4.0

    # The band ends at the first drop below 1/sqrt(2) on each side, although the response rises again.
    level = 1.0 / np.sqrt(2.0)
    assert peak.band.high_in_grid
    assert peak.band.high == pytest.approx(3.0 + (1.0 - level) / 0.4, abs=1e-12)
    assert peak.band.low == pytest.approx(3.0 - (1.0 - level) / 0.5, abs=1e-12)


def test_peak_largest_of_two_maxima():
    peak = analyse_peak(INTEGER_GRID[:5], np.array([0.1, 0.8, 0.3, 1.0, 0.2]))
    assert peak.peak_omega == 4.0
    assert np.isnan(peak.edge_maximum_omega)
    assert np.isnan(peak.edge_maximum_response)


def test_peak_ignores_ripple_on_rising_edge():
    # The ripple tops at 1.1 and 1.5 stand higher than the resonance at 1.0, but each
    # falls by only 0.05 before the response climbs on, while the resonance falls by 0.7.
    w = np.arange(1.0, 11.0)
    response = np.array([0.1, 0.5, 1.0, 0.5, 0.3, 1.1, 1.05, 1.5, 1.45, 2.0])
    peak = analyse_peak(w, response)
    assert peak.peak_omega == 3.0
    assert peak.edge_maximum_omega == 10.0


def test_peak_at_centre_of_plateau():
    odd = analyse_peak(INTEGER_GRID[:7], np.array([0.1, 0.4, 0.9, 0.9, 0.9, 0.3, 0.2]))
    assert odd.peak_omega == 4.0
    assert odd.peak_omega_interpolated == pytest.approx(4.0, abs=1e-12)
    assert odd.band.low == pytest.approx(2.0 + (0.9 / np.sqrt(2.0) - 0.4) / 0.5, abs=1e-12)

    even = analyse_peak(INTEGER_GRID[:4], np.array([0.1, 0.9, 0.9, 0.2]))
    assert even.peak_omega == 2.0
    assert even.peak_omega_interpolated == pytest.approx(2.5, abs=1e-12)

    # A plateau that rises again afterwards is a shoulder, not a maximum.
    shoulder = analyse_peak(INTEGER_GRID[:5], np.array([0.1, 0.5, 0.5, 1.0, 0.2]))
    assert shoulder.peak_omega == 4.0


def test_peak_falls_back_to_global_maximum():
    rising = analyse_peak(INTEGER_GRID[:4], np.array([0.1, 0.2, 0.4, 0.8]))
    assert rising.peak_omega == 4.0
    assert rising.peak_omega_interpolated == 4.0
    assert np.isnan(rising.edge_maximum_omega)

    falling = analyse_peak(INTEGER_GRID[:4], np.array([0.8, 0.4, 0.2, 0.1]))
    assert falling.peak_omega == 1.0
    assert np.isnan(falling.edge_maximum_omega)

    # A plateau that reaches the grid end is no interior maximum, and equal values do not exceed the peak.
    flat_end = analyse_peak(INTEGER_GRID[:4], np.array([0.1, 0.5, 1.0, 1.0]))
    assert flat_end.peak_omega == 3.0
    assert np.isnan(flat_end.edge_maximum_omega)


def test_peak_skips_non_finite_points():
    # The nearest finite points are the neighbours, for the maximum and for the parabola.
    response = np.array([0.5, 0.8, np.nan, 1.0, np.inf, 0.4, 0.2])
    peak = analyse_peak(INTEGER_GRID[:7], response)
    assert peak.peak_omega == 4.0
    # Vertex of the parabola through (2, 0.8), (4, 1.0), (6, 0.4).
    assert peak.peak_omega_interpolated == pytest.approx(3.5, abs=1e-12)

    # A plateau split by NaN, and grid ends that are not finite.
    split = analyse_peak(INTEGER_GRID[:5], np.array([0.1, 0.9, np.nan, 0.9, 0.2]))
    assert split.peak_omega == 2.0
    assert split.peak_omega_interpolated == pytest.approx(3.0, abs=1e-12)

    ends = analyse_peak(INTEGER_GRID[:6], np.array([np.nan, 0.2, 1.0, 0.3, 3.0, np.nan]))
    assert ends.peak_omega == 3.0
    assert ends.edge_maximum_omega == 5.0
    assert ends.edge_maximum_response == 3.0


@given(st.lists(st.sampled_from([0.0, 1.0, 2.0, 3.0, np.nan]), min_size=1, max_size=25))
def test_peak_or_edge_is_global_maximum(values):
    """For any curve with a finite point, the peak or the reported edge is the global maximum.

    Besides, the peak lies on an interior local maximum whenever the curve has
    one: a run of equal finite values whose nearest finite points on both sides
    are lower.
    """
    response = np.array(values)
    finite = response[np.isfinite(response)]
    if finite.size == 0:
        return
    peak = analyse_peak(np.arange(1.0, response.size + 1.0), response)
    if np.isnan(peak.edge_maximum_response):
        assert peak.peak_response == finite.max()
    else:
        assert peak.edge_maximum_response == finite.max()
        assert peak.peak_response < finite.max()

    levels = finite[np.r_[True, np.diff(finite) != 0]]
    has_interior = np.any((levels[1:-1] > levels[:-2]) & (levels[1:-1] > levels[2:]))
    if has_interior:
        position = int(np.searchsorted(np.flatnonzero(np.isfinite(response)), int(peak.peak_omega) - 1))
        left, right = finite[:position][::-1], finite[position + 1:]
        lower_left = left[left != peak.peak_response]
        lower_right = right[right != peak.peak_response]
        assert lower_left.size > 0
        assert lower_left[0] < peak.peak_response
        assert lower_right.size > 0
        assert lower_right[0] < peak.peak_response


# --- grids, inputs and validation ---


def test_default_grid():
    grid = frequency_grid()
    assert grid.size == 1000
    assert grid[0] == 0.1
    assert grid[-1] == pytest.approx(100.0, rel=1e-12)
    assert frequency_grid(5.0, 5.0, 1.0).tolist() == [5.0]


@pytest.mark.parametrize(
    "arguments, message",
    [
        ((10.0, 5.0, 0.1), "exceeds freq_max"),
        ((0.1, 100.0, 0.0), "freq_step must be positive"),
        ((0.1, 100.0, -0.1), "freq_step must be positive"),
        ((0.0, 100.0, 0.1), "freq_min must be a positive"),
        ((np.nan, 100.0, 0.1), "freq_min must be finite"),
        ((0.1, np.inf, 0.1), "freq_max must be finite"),
    ],
)
def test_frequency_grid_rejects_empty_or_invalid(arguments, message):
    with pytest.raises(RFSimError, match=message):
        frequency_grid(*arguments)


@pytest.mark.parametrize(
    "overrides, message",
    [
        (dict(omega=0.0), "omega must be a finite positive"),
        (dict(omega=-3.0), "omega must be a finite positive"),
        (dict(omega=200.0, dt=0.01), r"omega \* dt must be <= 1"),
        (dict(omega=250.0, dt=0.01, model="bhrf"), r"omega \* dt must be <= 2"),
        (dict(dt=0.0), "dt must be"),
        (dict(dt=-0.001), "dt must be"),
        (dict(b_offset=-1.0), "outside the convergence interval"),
        (dict(b_offset=1e5), "outside the convergence interval"),
        (dict(b_offset=[1.0, 2.0, 3.0]), "one value per neuron"),
        (dict(duration=0.0), "duration"),
        (dict(drive_omega=[]), "empty"),
        (dict(drive_omega=[-1.0]), "finite and positive"),
        (dict(drive_omega=[4000.0]), "Nyquist"),
        (dict(amplitude=np.nan), "amplitude"),
        (dict(model="lif"), "model"),
        (dict(input="square"), "input"),
        (dict(order="other"), "order"),
        (dict(theta=np.inf), "theta"),
    ],
)
def test_frequency_response_rejects_invalid_input(overrides, message):
    arguments = dict(omega=10.0, duration=0.1, drive_omega=[5.0, 10.0])
    arguments.update(overrides)
    with pytest.raises(RFSimError, match=message):
        frequency_response(**arguments)


def test_divergent_offset_warns_when_allowed():
    with pytest.warns(DivergenceWarning, match="diverges"):
        result = frequency_response(10.0, b_offset=-5.0, dt=0.001, duration=1.0, drive_omega=[10.0],
                                    allow_divergent=True)
    # b = p(omega) + 5 > 0 grows u by exp(5*1) over 1 s, far above the bounded response.
    assert result.response[0, 0] > 1.0


def test_default_amplitude_per_drive():
    spikes = frequency_response(10.0, dt=0.002, duration=0.1, drive_omega=[10.0])
    sine = frequency_response(10.0, dt=0.002, duration=0.1, drive_omega=[10.0], input="sine")
    assert spikes.amplitude == pytest.approx(0.1 / 0.002, rel=1e-15)
    assert sine.amplitude == 0.1


def test_spread_omegas():
    omegas = spread_omegas(10.0, 5)
    np.testing.assert_allclose(omegas, [5.0, 10 / np.sqrt(2), 10.0, 10 * np.sqrt(2), 20.0], rtol=1e-14)
    assert spread_omegas(10.0, 1).tolist() == [10.0]
    with pytest.raises(RFSimError, match="positive integer"):
        spread_omegas(10.0, 0)


def test_load_omegas(tmp_path):
    path = tmp_path / "omegas.csv"
    path.write_text("omega\n# comment\n5\n10.5,ignored\n\n20\n")
    assert load_omegas(path).tolist() == [5.0, 10.5, 20.0]

    with pytest.raises(DataError, match="not found"):
        load_omegas(tmp_path / "missing.txt")
    bad = tmp_path / "bad.txt"
    bad.write_text("5\nten\n")
    with pytest.raises(DataError, match="line 2"):
        load_omegas(bad)
    empty = tmp_path / "empty.txt"
    empty.write_text("# nothing\n")
    with pytest.raises(DataError, match="no angular frequency"):
        load_omegas(empty)
    binary = tmp_path / "binary.txt"
    binary.write_bytes(b"\xff\xfe\x00\x81")
    with pytest.raises(DataError, match="failed to read"):
        load_omegas(binary)


def test_save_response_csv_round_trip(tmp_path):
    settings = dict(dt=0.002, duration=0.5, drive_omega=[5.0, 10.0, 15.0])
    result = frequency_response([8.0, 12.0], **settings)
    linear = linear_frequency_response([8.0, 12.0], **settings)
    path = tmp_path / "response.csv"
    save_response_csv(result, path, linear=linear)
    table = np.genfromtxt(path, delimiter=",", names=True)
    assert table.size == 6
    np.testing.assert_array_equal(table["omega"], [8.0] * 3 + [12.0] * 3)
    np.testing.assert_array_equal(table["response"], result.response.ravel())
    np.testing.assert_array_equal(table["linear_response"], linear.ravel())
    with pytest.raises(RFSimError, match="failed to write"):
        save_response_csv(result, tmp_path / "missing" / "response.csv")


def test_figures_have_labelled_axes(tmp_path):
    from rfsim.analysis.boundary import boundary_curves
    from rfsim.analysis.plots import boundary_figure, response_figure, save_figure

    result = frequency_response([8.0, 12.0], dt=0.002, duration=0.5, drive_omega=frequency_grid(2.0, 20.0, 1.0))
    figure = response_figure(result, linear=result.response)
    axes = figure.axes[0]
    assert "[rad/s]" in axes.get_xlabel()
    assert "mean |u|" in axes.get_ylabel()
    save_figure(figure, tmp_path / "response.png")
    assert (tmp_path / "response.png").read_bytes()[:4] == b"\x89PNG"

    figure = boundary_figure(boundary_curves([0.01, 0.02], "rf", n_omega=20))
    assert "[rad/s]" in figure.axes[0].get_xlabel()
    assert "[1/s]" in figure.axes[0].get_ylabel()
    with pytest.raises(RFSimError, match="empty"):
        boundary_figure([])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        boundary_figure(boundary_curves([0.01], "rf", scheme="exact", n_omega=20))
