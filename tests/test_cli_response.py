"""Tests of ``rfsim response`` through click's CliRunner."""

import csv
import logging

import pytest
from click.testing import CliRunner

from rfsim.cli import cli

FAST = ["--duration", "2", "--freq-min", "1", "--freq-max", "20", "--freq-step", "0.5"]
"""Options of a short sweep (40 frequencies, 2000 steps each)."""


def _invoke(arguments):
    return CliRunner().invoke(cli, ["response", *arguments])


def _peak_line(output):
    return next(line for line in output.splitlines() if line.strip().startswith("peak:"))


def test_default_sweep_reports_peak_near_omega():
    result = _invoke(["--omega", "10"])
    assert result.exit_code == 0, result.output
    peak = float(_peak_line(result.output).split()[1])
    assert abs(peak - 10.0) <= 0.3
    assert "1000 drive frequencies from 0.1 to 100 rad/s" in result.output
    assert "-3 dB band:" in result.output
    assert "response at the peak: mean |u| =" in result.output
    assert "sub-harmonic peaks:" in result.output
    assert "no output spikes" in result.output


@pytest.mark.parametrize("model", ["rf", "brf", "hrf", "bhrf"])
@pytest.mark.parametrize("drive", ["spikes", "sine"])
def test_each_model_and_drive(model, drive):
    result = _invoke(["--omega", "10", "--model", model, "--input", drive, *FAST])
    assert result.exit_code == 0, result.output
    assert f"{model.upper()} neuron" in result.output
    assert abs(float(_peak_line(result.output).split()[1]) - 10.0) <= 1.0


def test_band_edge_outside_grid_is_reported():
    result = _invoke(["--omega", "10", "--duration", "2", "--freq-min", "9.5", "--freq-max", "30"])
    assert result.exit_code == 0, result.output
    assert "below 9.5 rad/s (edge outside the grid)" in result.output


def test_out_and_plot_files(tmp_path):
    out, plot = tmp_path / "response.csv", tmp_path / "response.png"
    result = _invoke(["--omega", "10", "--omega", "20", *FAST, "--linear", "--out", str(out), "--plot", str(plot)])
    assert result.exit_code == 0, result.output
    with open(out, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 2 * 39
    assert set(rows[0]) == {"omega", "b_offset", "drive_omega", "response", "output_spikes", "linear_response"}
    assert {float(row["omega"]) for row in rows} == {10.0, 20.0}
    # No output spike, so the linear closed form equals the simulation.
    for row in rows:
        assert float(row["linear_response"]) == pytest.approx(float(row["response"]), rel=1e-10)
    assert plot.read_bytes()[:4] == b"\x89PNG"


def test_neurons_spread_around_omega():
    result = _invoke(["--omega", "10", "--neurons", "3", *FAST])
    assert result.exit_code == 0, result.output
    for omega in ("omega = 5 rad/s", "omega = 10 rad/s", "omega = 20 rad/s"):
        assert omega in result.output


def test_omega_file(tmp_path):
    path = tmp_path / "omegas.txt"
    path.write_text("8\n12\n")
    result = _invoke(["--omega-file", str(path), *FAST])
    assert result.exit_code == 0, result.output
    assert "omega = 8 rad/s" in result.output
    assert "omega = 12 rad/s" in result.output


def test_allow_divergent_runs_with_warning(caplog):
    with caplog.at_level(logging.WARNING, logger="rfsim"):
        result = _invoke(["--omega", "10", "--b-offset", "-1", "--allow-divergent", *FAST])
    assert result.exit_code == 0, result.output
    assert any("diverges" in record.getMessage() for record in caplog.records)


def test_spiking_neuron_is_reported():
    result = _invoke(["--omega", "10", "--b-offset", "0.2", "--amplitude", "1000", *FAST])
    assert result.exit_code == 0, result.output
    assert "output spikes at" in result.output


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["--omega", "0"], "omega must be a finite positive"),
        (["--omega", "-5"], "omega must be a finite positive"),
        (["--omega", "2000"], "omega * dt must be <= 1"),
        (["--omega", "10", "--dt", "0"], "dt must be a finite positive"),
        (["--omega", "10", "--dt", "-0.001"], "dt must be a finite positive"),
        (["--omega", "10", "--b-offset", "-1"], "outside the convergence interval"),
        (["--omega", "10", "--b-offset", "1e6"], "outside the convergence interval"),
        (["--omega", "10", "--freq-min", "10", "--freq-max", "5"], "frequency grid is empty"),
        (["--omega", "10", "--freq-step", "0"], "freq_step must be positive"),
        (["--omega", "10", "--freq-step", "-0.1"], "freq_step must be positive"),
        (["--omega", "10", "--dt", "0.1", "--freq-max", "100"], "Nyquist"),
        (["--omega", "10", "--duration", "0"], "duration"),
        (["--omega", "10", "--neurons", "0"], "at least 1"),
        (["--omega", "10", "--omega", "20", "--neurons", "3"], "single --omega"),
        ([], "--omega"),
        (["--omega-file", "no-such-file.txt"], "omega file not found"),
        (["--omega", "10", "--model", "lif"], "Invalid value for '--model'"),
    ],
)
def test_invalid_input_fails_with_message(arguments, message):
    result = _invoke(arguments + (["--duration", "0.5"] if "--duration" not in arguments else []))
    assert result.exit_code != 0
    assert message in result.output


def test_unreadable_omega_file_fails(tmp_path):
    path = tmp_path / "omegas.txt"
    path.write_text("5\nfast\n")
    result = _invoke(["--omega-file", str(path)])
    assert result.exit_code != 0
    assert "invalid angular frequency 'fast'" in result.output
    assert "line 2" in result.output


def test_unwritable_output_fails(tmp_path):
    result = _invoke(["--omega", "10", *FAST, "--out", str(tmp_path / "missing" / "response.csv")])
    assert result.exit_code != 0
    assert "failed to write response table" in result.output


def test_spike_drive_reports_resonance():
    # A faster spike drive delivers more spikes per second, so the response rises again at the grid's top.
    result = CliRunner().invoke(cli, ["response", "--omega", "5"])
    assert result.exit_code == 0, result.output
    assert "peak: 5.4 rad/s" in result.output
    assert "-3 dB band: 4.271 rad/s to 7.98 rad/s" in result.output
    assert "note: the response at the grid edge, 100 rad/s, is larger" in result.output

    result = CliRunner().invoke(cli, ["response", "--omega", "3"])
    assert result.exit_code == 0, result.output
    assert "no upper edge (the response rises again before it falls by 3 dB)" in result.output


def test_output_names_checked_before_the_sweep():
    result = CliRunner().invoke(cli, ["response", "--omega", "10", "--out", "response.txt"])
    assert result.exit_code == 2
    assert "must end in .csv" in result.output
    assert "peak:" not in result.output
