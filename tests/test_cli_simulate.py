"""The ``rfsim simulate`` command through click's CliRunner."""

import json

import numpy as np
import pytest
from click.testing import CliRunner

from rfsim.cli import cli


def invoke(*args):
    return CliRunner().invoke(cli, ["simulate", *args])


def test_spike_train_summary():
    result = invoke("--model", "brf", "--omega", "10", "--input", "spikes", "--freq", "10", "--amplitude", "80",
                    "--duration", "3")
    assert result.exit_code == 0, result.output
    assert "300 steps of dt=0.01 s" in result.output
    assert "spikes: 4" in result.output
    assert "first spike times [s]: 0.63, 1.26, 1.88, 2.51" in result.output
    assert "max |u|:" in result.output


def test_spike_times_match_golden_pulses():
    result = invoke("--spike-times", "0.4,1.02,1.64,2.26,2.88", "--amplitude", "80", "--duration", "5")
    assert result.exit_code == 0, result.output
    assert "spikes: 4" in result.output
    assert "first spike times [s]: 1.02, 1.64, 2.26, 2.88" in result.output


@pytest.mark.parametrize("model", ["rf", "brf", "hrf", "bhrf", "alif"])
def test_every_model_runs_with_sine(model):
    result = invoke("--model", model, "--input", "sine", "--freq", "10", "--amplitude", "200", "--duration", "2")
    assert result.exit_code == 0, result.output
    assert "spikes:" in result.output


def test_out_csv_and_plot_written(tmp_path):
    out = tmp_path / "trace.csv"
    figure = tmp_path / "trace.png"
    result = invoke("--input", "spikes", "--freq", "10", "--out", str(out), "--plot", str(figure))
    assert result.exit_code == 0, result.output
    data = np.loadtxt(out, delimiter=",", skiprows=1)
    assert data.shape == (500, 8)
    assert figure.stat().st_size > 10_000
    with open(figure, "rb") as handle:
        assert handle.read(8) == b"\x89PNG\r\n\x1a\n"


def test_out_npz_holds_options(tmp_path):
    out = tmp_path / "trace.npz"
    result = invoke("--model", "rf", "--reset", "soft", "--scheme", "exact", "--input", "spikes", "--freq", "10",
                    "--out", str(out))
    assert result.exit_code == 0, result.output
    with np.load(out) as stored:
        meta = json.loads(str(stored["meta_json"]))
        assert stored["u"].dtype == complex
    assert meta["reset"] == "soft"
    assert meta["scheme"] == "exact"


def test_input_file_csv(tmp_path):
    path = tmp_path / "input.csv"
    path.write_text("\n".join(["0"] * 40 + ["80"] + ["0"] * 61 + ["80"] + ["0"] * 20), encoding="utf-8")
    result = invoke("--input-file", str(path))
    assert result.exit_code == 0, result.output
    assert "123 steps" in result.output
    assert "spikes: 1" in result.output


def test_input_file_padded_to_duration(tmp_path):
    path = tmp_path / "input.npy"
    np.save(path, np.ones(10))
    result = invoke("--input-file", str(path), "--duration", "1")
    assert result.exit_code == 0, result.output
    assert "100 steps" in result.output


def test_brf_ablation_flags():
    full = invoke("--input", "spikes", "--freq", "10", "--amplitude", "120")
    plain = invoke("--input", "spikes", "--freq", "10", "--amplitude", "120", "--no-boundary", "--no-refractory",
                   "--no-smooth-reset")
    assert full.exit_code == 0, full.output
    assert plain.exit_code == 0, plain.output
    assert full.output != plain.output


def test_rejects_omega_beyond_one_over_dt():
    result = invoke("--omega", "150", "--input", "spikes", "--freq", "10")
    assert result.exit_code != 0
    assert "omega * dt must be <= 1" in result.output


@pytest.mark.parametrize("dt", ["0", "-0.01"])
def test_rejects_non_positive_dt(dt):
    result = invoke("--dt", dt, "--input", "spikes", "--freq", "10")
    assert result.exit_code != 0
    assert "dt must be a finite positive time step" in result.output


def test_rejects_missing_input_file(tmp_path):
    result = invoke("--input-file", str(tmp_path / "missing.csv"))
    assert result.exit_code != 0
    assert "input file not found" in result.output


def test_rejects_unreadable_input_file(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("1\nabc\n", encoding="utf-8")
    result = invoke("--input-file", str(path))
    assert result.exit_code != 0
    assert "invalid number" in result.output


def test_rejects_multi_column_input_file(tmp_path):
    path = tmp_path / "two.csv"
    path.write_text("1,2\n3,4\n", encoding="utf-8")
    result = invoke("--input-file", str(path))
    assert result.exit_code != 0
    assert "one column" in result.output


def test_divergent_b_offset_fails_without_flag():
    result = invoke("--b-offset", "250", "--input", "spikes", "--freq", "10")
    assert result.exit_code != 0
    assert "diverges" in result.output


def test_divergent_b_offset_runs_with_flag():
    result = invoke("--b-offset", "250", "--input", "spikes", "--freq", "10", "--duration", "1", "--allow-divergent")
    assert result.exit_code == 0, result.output
    assert "spikes:" in result.output


@pytest.mark.parametrize(
    "args, pattern",
    [
        ((), "give exactly one input source"),
        (("--input", "spikes", "--spike-times", "0.1"), "got --input, --spike-times"),
        (("--input", "sine"), "needs --freq"),
        (("--spike-times", "0.1,abc"), "comma-separated times"),
        (("--spike-times", "7.0", "--duration", "1"), "outside the simulated interval"),
        (("--input", "spikes", "--freq", "-1"), "drive frequency"),
        (("--input", "spikes", "--freq", "10", "--out", "trace.txt"), "must end in .csv or .npz"),
        (("--input", "spikes", "--freq", "10", "--plot", "trace.xyz"), "unknown figure format"),
    ],
)
def test_rejects_bad_input_options(args, pattern, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = invoke(*args)
    assert result.exit_code != 0
    assert pattern in result.output


def test_divergence_error_names_the_options():
    result = CliRunner().invoke(cli, ["simulate", "--omega", "150", "--input", "spikes", "--freq", "5"])
    assert result.exit_code == 1
    assert "lower omega below 100 rad/s or use a smaller dt (set with --omega, --dt)" in result.output

    result = CliRunner().invoke(cli, ["simulate", "--model", "rf", "--omega", "10", "--b-offset", "-5",
                                      "--input", "spikes", "--freq", "5"])
    assert result.exit_code == 1
    assert "--scheme" in result.output
    assert "--allow-divergent" in result.output
