"""Input generators and input files."""

import numpy as np
import pytest

from rfsim.errors import DataError, RFSimError
from rfsim.neurons import simulate
from rfsim.neurons.drive import (
    count_steps,
    euler_oscillation_frequency,
    load_input,
    sine,
    spike_train,
    spikes_at_times,
)
from rfsim.stability import p_omega


def test_count_steps_rounds():
    assert count_steps(5.0, 0.01) == 500
    assert count_steps(0.0149, 0.01) == 1


@pytest.mark.parametrize("duration", [0.0, -1.0, np.nan, 0.004])
def test_count_steps_rejects_empty_duration(duration):
    with pytest.raises(RFSimError, match="duration"):
        count_steps(duration, 0.01)


def test_spike_train_one_spike_per_period():
    omega_drive, dt = 10.0, 0.01
    current = spike_train(omega_drive, 5.0, dt, amplitude=80.0, t0=0.4)
    steps = np.flatnonzero(current)
    expected = np.rint((0.4 + 2 * np.pi / omega_drive * np.arange(8)) / dt).astype(int)
    np.testing.assert_array_equal(steps, expected)
    np.testing.assert_array_equal(current[steps], np.full(8, 80.0))
    assert current.shape == (500,)


def test_in_phase_train_reproduces_golden_pulses():
    # The golden trace's pulses (steps 40, 102, 164, 226, 288) are one discrete Euler period
    # apart, the period of euler_oscillation_frequency at b = p(omega) - b_offset.
    omega_drive = euler_oscillation_frequency(10.0, p_omega(10.0, 0.01) - 1.0, 0.01)
    assert 2 * np.pi / omega_drive / 0.01 == pytest.approx(62.1, abs=0.05)
    current = spike_train(omega_drive, 3.0, 0.01, amplitude=80.0, t0=0.4)
    assert np.flatnonzero(current).tolist() == [40, 102, 164, 226, 288]


def test_in_phase_train_excites_resonant_neuron_most():
    # A neuron driven at its own frequency builds up more than one driven off resonance.
    resonant = simulate("brf", spike_train(10.0, 5.0, 0.01, 30.0), omega=10.0, b_offset=1.0, theta=1e300)
    detuned = simulate("brf", spike_train(14.0, 5.0, 0.01, 30.0), omega=10.0, b_offset=1.0, theta=1e300)
    assert np.max(resonant.u.real) > 1.5 * np.max(detuned.u.real)


def test_spikes_at_times_rounds_and_adds():
    current = spikes_at_times([0.1, 0.5, 0.5, 0.104], 1.0, 0.01, amplitude=2.0)
    assert current[10] == 4.0
    assert current[50] == 4.0
    assert current.sum() == 8.0


@pytest.mark.parametrize("times", [[-0.1], [1.0], [np.nan]])
def test_spikes_at_times_rejects_outside_interval(times):
    with pytest.raises(RFSimError, match="outside the simulated interval"):
        spikes_at_times(times, 1.0, 0.01)


def test_sine_values():
    current = sine(3.0, 2.0, 0.01, amplitude=5.0, phase=0.25)
    n = np.arange(200)
    np.testing.assert_allclose(current, 5.0 * np.sin(3.0 * 0.01 * n + 0.25), rtol=0, atol=1e-14)


@pytest.mark.parametrize("freq", [0.0, -2.0, np.inf])
def test_generators_reject_bad_frequency(freq):
    with pytest.raises(RFSimError, match="drive frequency"):
        sine(freq, 1.0, 0.01)
    with pytest.raises(RFSimError, match="drive frequency"):
        spike_train(freq, 1.0, 0.01)


def test_load_input_csv_with_header(tmp_path):
    path = tmp_path / "input.csv"
    path.write_text("I\n0\n1.5\n# comment\n\n-2\n", encoding="utf-8")
    np.testing.assert_array_equal(load_input(path), [0.0, 1.5, -2.0])


def test_load_input_csv_many_columns(tmp_path):
    path = tmp_path / "input.csv"
    path.write_text("1,2\n3,4\n", encoding="utf-8")
    assert load_input(path).shape == (2, 2)


def test_load_input_npy_and_npz(tmp_path):
    data = np.arange(5.0)
    np.save(tmp_path / "a.npy", data)
    np.savez(tmp_path / "b.npz", I=data, other=np.zeros(2))
    np.savez(tmp_path / "c.npz", current=data)
    np.testing.assert_array_equal(load_input(tmp_path / "a.npy"), data)
    np.testing.assert_array_equal(load_input(tmp_path / "b.npz"), data)
    np.testing.assert_array_equal(load_input(tmp_path / "c.npz"), data)


@pytest.mark.parametrize(
    "name, content, pattern",
    [
        ("bad.csv", "1\nx\n", "invalid number .* at line 2"),
        ("empty.csv", "\n", "contains no numbers"),
        ("ragged.csv", "1,2\n3\n", "rows of different lengths"),
        ("nan.csv", "1\nnan\n", "NaN or inf"),
        ("input.json", "[1, 2]", "unknown input file type"),
        ("broken.npy", "not an array", "failed to read input file"),
    ],
)
def test_load_input_rejects_bad_files(tmp_path, name, content, pattern):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(DataError, match=pattern):
        load_input(path)


def test_load_input_npz_without_key(tmp_path):
    np.savez(tmp_path / "two.npz", a=np.zeros(2), b=np.zeros(2))
    with pytest.raises(DataError, match="under the key 'I'"):
        load_input(tmp_path / "two.npz")


def test_load_input_missing_file(tmp_path):
    with pytest.raises(DataError, match="input file not found"):
        load_input(tmp_path / "missing.csv")
