"""Tests of rfsim.analysis.parameters: omega/b_c scatter, dataset spectra, spectral omega draws, rasters."""

import math

import numpy as np
import pytest
from hypothesis import example, assume, given
from hypothesis import strategies as st

from rfsim.analysis import parameters as analysis
from rfsim.errors import RFSimError

DT = 0.01


def _p(omega, dt=DT):
    # The divergence boundary written out: p(omega) = (-1 + sqrt(1 - (dt*omega)^2)) / dt.
    return (-1.0 + math.sqrt(1.0 - (dt * omega) ** 2)) / dt


# --- omega against b_c -----------------------------------------------------------------------


def test_brf_points_match_hand_computed_b_c():
    params = {"hidden.omega": np.array([3.0, 10.0, 50.0]), "hidden.b_offset": np.array([0.5, 1.0, 250.0])}
    points = analysis.neuron_points("brf", params, DT)

    expected = [_p(3.0) - 0.5, _p(10.0) - 1.0, _p(50.0) - 250.0]
    np.testing.assert_allclose(points.b_c, expected, rtol=1e-14, atol=0)
    # b_offset = 250 1/s exceeds 2*sqrt(1 - 0.5^2)/dt = 173.2 1/s, so the third neuron diverges.
    assert points.inside.tolist() == [True, True, False]
    assert points.n_outside == 1


def test_points_use_absolute_raw_parameters():
    positive = {"hidden.omega": np.array([4.0, 20.0]), "hidden.b_offset": np.array([0.3, 2.0])}
    negative = {"hidden.omega": np.array([-4.0, 20.0]), "hidden.b_offset": np.array([0.3, -2.0])}
    for model in ("brf", "rf", "bhrf"):
        a = analysis.neuron_points(model, positive, DT)
        b = analysis.neuron_points(model, negative, DT)
        np.testing.assert_array_equal(b.omega, [4.0, 20.0])
        np.testing.assert_array_equal(b.b_offset, [0.3, 2.0])
        np.testing.assert_array_equal(a.b_c, b.b_c)


def test_rf_and_bhrf_damping_conventions():
    params = {"hidden.omega": np.array([5.0, 30.0]), "hidden.b_offset": np.array([0.2, 1.5])}
    rf = analysis.neuron_points("rf", params, DT)
    np.testing.assert_array_equal(rf.b_c, [-0.2, -1.5])
    bhrf = analysis.neuron_points("bhrf", params, DT)
    # BHRF damping of the engine: (dt/2)*omega^2 + b_offset, converging for 0 <= b <= (1 - (dt*omega)^2/4)/dt.
    np.testing.assert_allclose(bhrf.b_c, [0.005 * 25 + 0.2, 0.005 * 900 + 1.5], rtol=1e-14)
    assert bhrf.inside.all()


def test_brf_omega_above_limit_is_outside():
    params = {"hidden.omega": np.array([50.0, 150.0]), "hidden.b_offset": np.array([1.0, 1.0])}
    points = analysis.neuron_points("brf", params, DT)
    # p(omega) has no real value for omega*dt > 1.
    assert math.isnan(points.b_c[1])
    assert points.inside.tolist() == [True, False]


def test_p_dt_changes_only_the_boundary_term():
    params = {"hidden.omega": np.array([40.0]), "hidden.b_offset": np.array([1.0])}
    points = analysis.neuron_points("brf", params, 0.005, p_dt=0.01)
    np.testing.assert_allclose(points.b_c, [_p(40.0, 0.01) - 1.0], rtol=1e-14)


@given(omega=st.floats(0.01, 100.0), b_offset=st.floats(0.0, 250.0))
@example(omega=100.0, b_offset=1.0733091699128973e-83)
def test_brf_inside_matches_offset_interval(omega, b_offset):
    """A BRF neuron lies in the region exactly when 0 <= b_offset <= 2*sqrt(1 - (dt*omega)^2)/dt.

    b_c = p(omega) - b_offset >= (-1 - r)/dt is the same as b_offset <= p(omega) + (1 + r)/dt = 2r/dt,
    and b_c <= p(omega) is the same as b_offset >= 0.
    """
    limit = 2.0 * math.sqrt(1.0 - (DT * omega) ** 2) / DT
    assume(abs(b_offset - limit) > 1e-9 * limit)  # rounding decides the boundary itself
    points = analysis.neuron_points("brf", {"hidden.omega": np.array([omega]),
                                            "hidden.b_offset": np.array([b_offset])}, DT)
    assert bool(points.inside[0]) == (b_offset <= limit)


def test_alif_points_raise():
    with pytest.raises(RFSimError, match="ALIF"):
        analysis.neuron_points("alif", {"hidden.tau_mem": np.ones(3)}, DT)


def test_scatter_of_run_folder(synthetic_runs):
    from rfsim.training.checkpoint import load_checkpoint

    run = synthetic_runs["brf"]
    scatter = analysis.omega_b_scatter(run)
    trained = load_checkpoint(run / "best.npz").params
    initial = load_checkpoint(run / "init.npz").params

    np.testing.assert_array_equal(scatter.trained.omega, np.abs(trained["hidden.omega"]))
    np.testing.assert_array_equal(scatter.init.omega, np.abs(initial["hidden.omega"]))
    expected = [_p(w) - abs(b) for w, b in zip(np.abs(trained["hidden.omega"]), trained["hidden.b_offset"])]
    np.testing.assert_allclose(scatter.trained.b_c, expected, rtol=1e-12, atol=1e-12)
    assert scatter.hist_trained.sum() == 12
    assert scatter.hist_init.sum() == 12
    # The upper curve is p(omega) and the lower root (-1 - r)/dt.
    w = scatter.grid_omega[-1]
    assert scatter.grid_b_upper[-1] == pytest.approx(_p(w), rel=1e-12)
    assert scatter.grid_b_lower[-1] == pytest.approx((-1.0 - math.sqrt(1.0 - (DT * w) ** 2)) / DT, rel=1e-12)


def test_scatter_of_checkpoint_without_init(synthetic_runs, tmp_path):
    import shutil

    for suffix in (".npz", ".json"):
        shutil.copy(synthetic_runs["rf"] / f"best{suffix}", tmp_path / f"best{suffix}")
    scatter = analysis.omega_b_scatter(tmp_path / "best.npz")
    assert scatter.init is None
    assert scatter.hist_init is None
    assert scatter.model == "rf"


def test_scatter_rejects_mismatched_init(synthetic_runs):
    with pytest.raises(RFSimError, match="model"):
        analysis.omega_b_scatter(synthetic_runs["brf"] / "best.npz", init=synthetic_runs["rf"] / "init.npz")


def test_scatter_rejects_alif_run(synthetic_runs):
    with pytest.raises(RFSimError, match="ALIF"):
        analysis.omega_b_scatter(synthetic_runs["alif"])


def test_scatter_missing_checkpoint(tmp_path):
    with pytest.raises(RFSimError, match="not found"):
        analysis.omega_b_scatter(tmp_path / "missing.npz")
    with pytest.raises(RFSimError, match="best.npz"):
        analysis.omega_b_scatter(tmp_path)


# --- spectrum and dominant frequencies --------------------------------------------------------


def test_power_spectrum_of_one_sine_bin():
    # A sine exactly on bin k has |rfft|^2 = (T/2)^2 at k and 0 elsewhere (besides rounding).
    n_steps, k = 200, 7
    t = np.arange(n_steps)
    x = np.sin(2 * np.pi * k * t / n_steps)[None, :, None]
    omega, power = analysis.power_spectrum(x, dt=DT)
    assert omega[k] == pytest.approx(2 * np.pi * k / (n_steps * DT), rel=1e-14)
    assert power[k] == pytest.approx((n_steps / 2) ** 2, rel=1e-12)
    assert np.max(np.delete(power, k)) < 1e-18 * n_steps**2


def test_peaks_of_known_sines_within_one_bin():
    n_steps = 1000
    t = np.arange(n_steps) * DT
    omegas = (7.3, 25.0, 61.7)  # rad/s, not on the bin grid (bins of 2*pi/10 s = 0.628 rad/s)
    amplitudes = (3.0, 2.0, 1.0)
    x = np.zeros((4, n_steps, 3))
    rng = np.random.default_rng(0)
    for channel, (omega, amplitude) in enumerate(zip(omegas, amplitudes)):
        for sequence in range(4):
            x[sequence, :, channel] = amplitude * np.sin(omega * t + rng.uniform(0, 2 * np.pi))

    spectrum = analysis.dominant_frequencies(x, n=3, dt=DT)
    assert spectrum.peak_omega.size == 3
    # Strongest first, each within one bin of its sine.
    for found, omega in zip(spectrum.peak_omega, omegas):
        assert abs(found - omega) <= spectrum.bin_width
    assert spectrum.weights.sum() == pytest.approx(1.0, abs=1e-12)
    assert spectrum.weights[0] > spectrum.weights[1] > spectrum.weights[2]


def test_peaks_of_sinusoidal_spike_trains():
    # Bernoulli spikes with rate 20 Hz * (1 + sin(omega t)) carry the modulation frequency omega.
    n_sequences, n_steps = 40, 1000
    t = np.arange(n_steps) * DT
    modulations = (12.0, 31.0)  # rad/s on channels 0 and 1
    rng = np.random.default_rng(3)
    x = np.zeros((n_sequences, n_steps, 2), dtype=np.uint8)
    for channel, omega in enumerate(modulations):
        rate = 20.0 * (1.0 + np.sin(omega * t))
        x[:, :, channel] = rng.random((n_sequences, n_steps)) < rate * DT

    spectrum = analysis.dominant_frequencies(x, n=2, dt=DT, prominence=0.2)
    found = np.sort(spectrum.peak_omega)
    assert found.size == 2
    for peak, omega in zip(found, modulations):
        assert abs(peak - omega) <= spectrum.bin_width


def test_dc_is_excluded_from_peaks():
    n_steps = 500
    t = np.arange(n_steps) * DT
    x = (100.0 + np.sin(20.0 * t))[None, :, None]
    spectrum = analysis.dominant_frequencies(x, n=1, dt=DT)
    assert spectrum.power[0] > 1e3 * spectrum.peak_power[0]
    assert abs(spectrum.peak_omega[0] - 20.0) <= spectrum.bin_width


def test_omega_max_limits_the_search():
    n_steps = 1000
    t = np.arange(n_steps) * DT
    x = (3.0 * np.sin(150.0 * t) + np.sin(40.0 * t))[None, :, None]
    unlimited = analysis.dominant_frequencies(x, n=1, dt=DT)
    limited = analysis.dominant_frequencies(x, n=1, dt=DT, omega_max=100.0)
    assert abs(unlimited.peak_omega[0] - 150.0) <= unlimited.bin_width
    assert abs(limited.peak_omega[0] - 40.0) <= limited.bin_width
    assert limited.omega_max == 100.0


def test_zero_padding_refines_the_grid():
    n_steps = 300
    t = np.arange(n_steps) * DT
    x = np.sin(17.3 * t)[None, :, None]
    padded = analysis.dominant_frequencies(x, n=1, dt=DT, n_fft=4 * n_steps)
    assert padded.bin_width == pytest.approx(2 * np.pi / (4 * n_steps * DT), rel=1e-14)
    assert abs(padded.peak_omega[0] - 17.3) <= padded.bin_width


def test_spectrum_rejects_bad_input():
    x = np.zeros((2, 50, 1))
    with pytest.raises(RFSimError, match="n must be"):
        analysis.dominant_frequencies(x, n=0)
    with pytest.raises(RFSimError, match="prominence"):
        analysis.dominant_frequencies(x, prominence=1.5)
    with pytest.raises(RFSimError, match="n_fft"):
        analysis.dominant_frequencies(x, n_fft=10)
    with pytest.raises(RFSimError, match="shape"):
        analysis.dominant_frequencies(np.zeros((50, 1)))
    with pytest.raises(RFSimError, match="dt"):
        analysis.dominant_frequencies(x, dt=0.0)


def test_match_to_peaks_counts_nearest():
    match = analysis.match_to_peaks([1.0, 2.9, 3.2, -9.0], [3.0, 10.0])
    assert match.nearest.tolist() == [0, 0, 0, 1]
    np.testing.assert_allclose(match.distance, [2.0, 0.1, 0.2, 1.0], atol=1e-12)
    assert match.counts.tolist() == [3, 1]


# --- omega drawn from a spectrum -----------------------------------------------------------------


def test_omega_from_spectrum_is_reproducible():
    freqs, weights = [10.0, 30.0, 60.0], [1.0, 2.0, 1.0]
    a = analysis.omega_from_spectrum(freqs, weights, 50, np.random.default_rng(5))
    b = analysis.omega_from_spectrum(freqs, weights, 50, np.random.default_rng(5))
    c = analysis.omega_from_spectrum(freqs, weights, 50, np.random.default_rng(6))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert a.shape == (50,)
    assert a.dtype == np.float64


def test_omega_from_spectrum_proportions():
    n = 20000
    omega = analysis.omega_from_spectrum([10.0, 40.0], [3.0, 1.0], n, np.random.default_rng(1), jitter=0.0)
    assert set(np.unique(omega)) == {10.0, 40.0}
    # Binomial standard error sqrt(0.75 * 0.25 / 20000) = 0.003; the tolerance is 5 of them.
    assert np.mean(omega == 10.0) == pytest.approx(0.75, abs=0.015)


def test_omega_from_spectrum_jitter_and_range():
    omega = analysis.omega_from_spectrum([50.0], [1.0], 20000, np.random.default_rng(2), jitter=0.1)
    # Relative spread of 0.1; the sample std of 20000 draws lies within 3 % of it.
    assert np.std(omega / 50.0 - 1.0) == pytest.approx(0.1, rel=0.03)
    near_limit = analysis.omega_from_spectrum([99.0], [1.0], 5000, np.random.default_rng(2), jitter=0.5)
    assert near_limit.max() <= 1.0 / DT
    assert near_limit.min() > 0.0
    assert np.any(near_limit == 1.0 / DT)


def test_omega_from_spectrum_rejects_bad_input():
    rng = np.random.default_rng(0)
    with pytest.raises(RFSimError, match="exceeds omega_max"):
        analysis.omega_from_spectrum([150.0], [1.0], 4, rng)
    with pytest.raises(RFSimError, match="weights"):
        analysis.omega_from_spectrum([10.0, 20.0], [1.0, -1.0], 4, rng)
    with pytest.raises(RFSimError, match="weights"):
        analysis.omega_from_spectrum([10.0], [0.0], 4, rng)
    with pytest.raises(RFSimError, match="one entry per frequency"):
        analysis.omega_from_spectrum([10.0, 20.0], [1.0], 4, rng)
    with pytest.raises(RFSimError, match="empty"):
        analysis.omega_from_spectrum([], [], 4, rng)
    with pytest.raises(RFSimError, match="Generator"):
        analysis.omega_from_spectrum([10.0], [1.0], 4, 0)
    with pytest.raises(RFSimError, match="n_hidden"):
        analysis.omega_from_spectrum([10.0], [1.0], 0, rng)
    with pytest.raises(RFSimError, match="jitter"):
        analysis.omega_from_spectrum([10.0], [1.0], 4, rng, jitter=-0.1)


def test_spectrum_omega_init_on_synthetic_spikes():
    from rfsim.data import make_frequency_dataset

    # Regular spike trains at 3 and 7 Hz have fundamentals at 18.85 and 43.98 rad/s and harmonics at
    # their multiples, whose power grows with the rate squared; six peaks below 1/dt include both.
    dataset = make_frequency_dataset(64, frequencies=[3.0, 7.0], n_steps=400, jitter=0.02, rng=0)
    omega, spectrum = analysis.spectrum_omega_init(dataset, 200, np.random.default_rng(0), n_peaks=6, jitter=0.0)
    for fundamental in (2 * np.pi * 3.0, 2 * np.pi * 7.0):
        assert np.min(np.abs(spectrum.peak_omega - fundamental)) <= spectrum.bin_width
    assert set(np.unique(omega)) <= set(spectrum.peak_omega)
    assert omega.max() <= 1.0 / DT


def test_spectrum_omega_init_without_peak_raises():
    x = np.zeros((2, 100, 1))
    with pytest.raises(RFSimError, match="no peak"):
        analysis.spectrum_omega_init(x, 4, np.random.default_rng(0))


# --- raster ------------------------------------------------------------------------------


def test_raster_sorted_by_omega(synthetic_runs):
    from rfsim.analysis._checkpoints import load_analysis_checkpoint, select_sequences
    from rfsim.network import forward

    loaded = load_analysis_checkpoint(synthetic_runs["brf"] / "best.npz")
    raster = analysis.hidden_raster(loaded, "test", 2)
    x, labels = select_sequences(loaded, "test", samples=(2,))
    recorded = forward(loaded.net_config, loaded.params, x, mask=loaded.mask, record=True)

    omega = np.abs(loaded.params["hidden.omega"])
    assert raster.sort_by == "omega"
    assert np.all(np.diff(raster.sort_values) >= 0)
    np.testing.assert_array_equal(raster.sort_values, omega[raster.order])
    np.testing.assert_array_equal(raster.spikes, recorded.states["z"][:, 0, raster.order])
    assert raster.spike_count == recorded.spike_count
    assert raster.label == int(labels[0])
    np.testing.assert_array_equal(raster.prediction, np.argmax(recorded.outputs[:, 0], axis=1))


def test_raster_of_alif_sorted_by_tau_mem(synthetic_runs):
    raster = analysis.hidden_raster(synthetic_runs["alif"] / "best.npz", "valid", 0)
    assert raster.sort_by == "tau_mem"
    assert np.all(np.diff(raster.sort_values) >= 0)
    assert raster.spikes.shape[1] == 12


def test_raster_rejects_bad_sample(synthetic_runs):
    with pytest.raises(RFSimError, match="outside split"):
        analysis.hidden_raster(synthetic_runs["brf"] / "best.npz", "test", 10_000)
    with pytest.raises(RFSimError, match="integer"):
        analysis.hidden_raster(synthetic_runs["brf"] / "best.npz", "test", 1.5)


def test_raster_figures_build(synthetic_runs):
    from rfsim.analysis.plots_network import omega_scatter_figure, raster_figure, spectrum_figure

    raster = analysis.hidden_raster(synthetic_runs["brf"] / "best.npz", "test", 0)
    assert len(raster_figure(raster).axes) == 3
    assert len(raster_figure(raster, show_input=False, show_output=False).axes) == 1
    scatter = analysis.omega_b_scatter(synthetic_runs["brf"])
    spectrum = analysis.dominant_frequencies(np.sin(np.arange(300) * 0.2)[None, :, None])
    assert len(omega_scatter_figure(scatter).axes) == 2
    assert len(omega_scatter_figure(scatter, spectrum).axes) == 4  # the spectrum panel has a twin axis
    assert len(spectrum_figure(spectrum).axes) == 1


# --- files -------------------------------------------------------------------------------


def test_save_csv_and_npz(synthetic_runs, tmp_path):
    import csv

    scatter = analysis.omega_b_scatter(synthetic_runs["brf"])
    analysis.save_parameter_analysis(tmp_path / "p.csv", scatter=scatter)
    with open(tmp_path / "p.csv", newline="") as file:
        rows = list(csv.DictReader(file))
    assert len(rows) == 12
    assert float(rows[3]["b_c_trained"]) == scatter.trained.b_c[3]
    assert float(rows[3]["omega_init"]) == scatter.init.omega[3]

    spectrum = analysis.dominant_frequencies(np.sin(np.arange(300) * 0.2)[None, :, None])
    analysis.save_parameter_analysis(tmp_path / "p.npz", scatter=scatter, spectrum=spectrum)
    with np.load(tmp_path / "p.npz") as archive:
        np.testing.assert_array_equal(archive["scatter_trained_b_c"], scatter.trained.b_c)
        np.testing.assert_array_equal(archive["spectrum_power"], spectrum.power)

    with pytest.raises(RFSimError, match=".csv or .npz"):
        analysis.save_parameter_analysis(tmp_path / "p.txt", scatter=scatter)
    with pytest.raises(RFSimError, match="nothing to write"):
        analysis.save_parameter_analysis(tmp_path / "p.csv")
