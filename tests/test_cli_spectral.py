"""Tests of ``rfsim spectral`` through click's CliRunner, on the synthetic checkpoints."""

import csv

import numpy as np
import pytest
from click.testing import CliRunner

from rfsim.cli import cli


def _run(*arguments):
    return CliRunner().invoke(cli, ["spectral", *map(str, arguments)])


@pytest.fixture(scope="module")
def checkpoints(synthetic_runs):
    return {model: synthetic_runs[model] / "best.npz" for model in ("brf", "rf", "alif")}


def test_single_checkpoint_summary(checkpoints):
    result = _run("--checkpoint", checkpoints["brf"], "--steps", 80, "--refractory-steps", 0,
                  "--refractory-steps", 4)
    assert result.exit_code == 0, result.output
    assert "brf/best: brf, 12 hidden neurons, dt = 0.01 s" in result.output
    assert "q = 0 " in result.output
    assert "q = 1 " in result.output
    assert "q = 0.6561" in result.output
    assert "no neuron has b_offset + q outside its convergence interval" in result.output
    assert "whole network along test sequence 0 (80 steps, Jacobian decomposed at every step" in result.output
    table = result.output.split("random vectors):\n")[1].splitlines()
    assert table[0].split()[:4] == ["checkpoint", "model", "H", "T"]
    assert table[1].split()[:4] == ["brf/best", "brf", "12", "80"]


def test_comparison_table_three_models(checkpoints, tmp_path):
    figure = tmp_path / "spectra.png"
    table_path = tmp_path / "spectra.csv"
    result = _run("--checkpoint", checkpoints["brf"], "--checkpoint", checkpoints["rf"], "--checkpoint",
                  checkpoints["alif"], "--steps", 60, "--stride", 5, "--lag", 1, "--lag", 20, "--vectors", 4,
                  "--plot", figure, "--out", table_path)
    assert result.exit_code == 0, result.output
    rows = result.output.split("random vectors):\n")[1].splitlines()
    assert [row.split()[0] for row in rows[1:4]] == ["brf/best", "rf/best", "alif/best"]
    assert "|g| @20" in rows[0]
    assert "every 5th step" in result.output
    assert figure.stat().st_size > 10_000
    with open(table_path, newline="", encoding="utf-8") as handle:
        records = list(csv.DictReader(handle))
    steps = {row["index"] for row in records if row["checkpoint"] == "rf/best" and row["table"] == "step"
             and row["quantity"] == "spectral_radius"}
    assert steps == {str(t) for t in range(0, 60, 5)}
    assert {row["index"] for row in records if row["quantity"] == "gradient_ratio"} == {"1", "20"}


def test_rf_neurons_flagged(checkpoints):
    # The RF damping -b_offset is not tied to p(omega), so a small b_offset leaves the region.
    # The command lists each such neuron with its interval.
    from rfsim.analysis._checkpoints import load_analysis_checkpoint
    from rfsim.analysis.spectral import hidden_neuron_spectra

    checkpoint = load_analysis_checkpoint(checkpoints["rf"])
    flagged = hidden_neuron_spectra(checkpoint.net_config, checkpoint.params).flagged_neurons()
    result = _run("--checkpoint", checkpoints["rf"], "--steps", 20)
    assert result.exit_code == 0, result.output
    if flagged.size:
        assert f"flagged neurons ({flagged.size})" in result.output
    else:
        assert "no neuron has b_offset outside" in result.output


def test_npz_output(checkpoints, tmp_path):
    path = tmp_path / "spectra.npz"
    result = _run("--checkpoint", checkpoints["alif"], "--steps", 30, "--seed", 2, "--out", path)
    assert result.exit_code == 0, result.output
    with np.load(path) as arrays:
        assert arrays["0/network/gradient_norm"].shape == (30,)
        assert arrays["0/network/singular_values"].shape == (30, 36)
        assert arrays["names"][0] == "alif/best"


def test_same_seed_same_output(checkpoints):
    first = _run("--checkpoint", checkpoints["brf"], "--steps", 40, "--seed", 7)
    second = _run("--checkpoint", checkpoints["brf"], "--steps", 40, "--seed", 7)
    assert first.exit_code == 0, first.output
    assert first.output == second.output


@pytest.mark.parametrize("arguments,message", [
    (["--steps", 0], "--steps"),
    (["--stride", 0], "--stride"),
    (["--vectors", 0], "--vectors"),
    (["--sample", -1], "--sample"),
    (["--refractory-steps", -2], "--refractory-steps"),
    (["--lag", -1], "--lag"),
    (["--out", "table.txt"], "must end in .csv"),
    (["--plot", "figure.xyz"], "unknown figure format 'xyz'"),
    (["--sample", 999], "sample 999 is outside split 'test'"),
    (["--split", "dev"], "Invalid value for '--split'"),
])
def test_bad_input_rejected(checkpoints, arguments, message):
    result = _run("--checkpoint", checkpoints["brf"], *arguments)
    assert result.exit_code != 0
    assert message in result.output


def test_missing_checkpoint_rejected(tmp_path):
    result = _run("--checkpoint", tmp_path / "missing.npz")
    assert result.exit_code != 0
    assert "missing.npz" in result.output
    assert "not found" in result.output


def test_checkpoint_option_required():
    result = _run()
    assert result.exit_code != 0
    assert "Missing option '--checkpoint'" in result.output


def _blas_threads_after_command_setup(environment):
    """Run the spectral command's BLAS set-up in a fresh interpreter; return the variable it leaves."""
    import os
    import subprocess
    import sys

    script = ("import os, sys\n"
              "from rfsim.commands.spectral import _single_threaded_blas\n"
              "assert 'numpy' not in sys.modules\n"
              "_single_threaded_blas()\n"
              "print(os.environ.get('OPENBLAS_NUM_THREADS'))\n")
    env = {key: value for key, value in os.environ.items() if key != "OPENBLAS_NUM_THREADS"}
    env.update(environment)
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def test_spectral_asks_for_one_blas_thread():
    assert _blas_threads_after_command_setup({}) == "1"


def test_spectral_keeps_the_users_blas_threads():
    assert _blas_threads_after_command_setup({"OPENBLAS_NUM_THREADS": "3"}) == "3"
