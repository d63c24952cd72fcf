"""Tests of ``rfsim parameters`` and ``rfsim convergence`` through click's CliRunner."""

import csv
import json

import numpy as np
from click.testing import CliRunner

from rfsim.cli import cli


def _invoke(args):
    return CliRunner().invoke(cli, [str(arg) for arg in args])


def test_parameters_on_brf_run(synthetic_runs, tmp_path):
    run = synthetic_runs["brf"]
    result = _invoke(["parameters", "--checkpoint", run, "--plot", tmp_path / "p.png", "--out", tmp_path / "p.csv",
                      "--raster", tmp_path / "r.png", "--sample", 1])
    assert result.exit_code == 0, result.output
    output = result.output
    assert "checkpoint: brf/best (BRF, 12 hidden neurons, dt = 0.01 s, task synthetic)" in output
    assert "b_c = p(omega) - b_offset" in output
    assert "initial (brf/init):" in output
    assert "neurons outside the convergence region:" in output
    assert "dominant angular frequencies of the input" in output
    assert "trained neurons nearest" in output
    assert "SOP =" in output
    assert "(SOP / T)" in output
    assert "synaptic operations =" in output
    assert "raster of test sequence 1" in output
    assert (tmp_path / "p.png").stat().st_size > 0
    assert (tmp_path / "r.png").stat().st_size > 0
    with open(tmp_path / "p.csv", newline="") as file:
        rows = list(csv.DictReader(file))
    assert len(rows) == 12
    assert {"omega_init", "b_c_trained", "spikes_per_sequence", "fan_out_recurrent"} <= set(rows[0])


def test_parameters_sop_matches_evaluate(synthetic_runs):
    checkpoint = synthetic_runs["rf"] / "best.npz"
    evaluated = _invoke(["evaluate", "--checkpoint", checkpoint])
    analysed = _invoke(["parameters", "--checkpoint", checkpoint])
    assert analysed.exit_code == 0, analysed.output
    sop_line = next(line for line in evaluated.output.splitlines() if line.startswith("SOP:"))
    sop = float(sop_line.split()[1])
    reported = next(line for line in analysed.output.splitlines() if "SOP =" in line)
    # rfsim evaluate prints two decimals, so the two agree to within half a unit of the second.
    assert abs(float(reported.split("SOP =")[1].split()[0]) - sop) <= 0.0051


def test_parameters_on_alif_run(synthetic_runs, tmp_path):
    result = _invoke(["parameters", "--checkpoint", synthetic_runs["alif"] / "best.npz", "--split", "valid",
                      "--plot", tmp_path / "a.png", "--out", tmp_path / "a.npz", "--raster", tmp_path / "r.png"])
    assert result.exit_code == 0, result.output
    assert "ALIF neurons have no omega: tau_mem [steps]" in result.output
    assert "neurons sorted by tau_mem" in result.output
    with np.load(tmp_path / "a.npz") as archive:
        assert "sparsity_spikes_per_neuron" in archive.files
        assert "scatter_trained_omega" not in archive.files


def test_parameters_limit_and_init(synthetic_runs):
    run = synthetic_runs["brf"]
    result = _invoke(["parameters", "--checkpoint", run / "best.npz", "--init", run / "init.npz", "--limit", 3,
                      "--peaks", 2])
    assert result.exit_code == 0, result.output
    assert "(3 sequences of T =" in result.output


def test_parameters_bad_input(synthetic_runs, tmp_path):
    run = synthetic_runs["brf"]
    cases = [
        (["--checkpoint", tmp_path / "missing.npz"], "not found"),
        (["--checkpoint", run, "--sample", 10_000], "sample 10000 is outside split 'test'"),
        (["--checkpoint", run, "--peaks", 0], "number of peaks must be at least 1"),
        (["--checkpoint", run, "--prominence", 2], "fraction in [0, 1)"),
        (["--checkpoint", run, "--limit", 0], "at least 1"),
        (["--checkpoint", run, "--out", tmp_path / "p.txt"], ".csv or .npz"),
        (["--checkpoint", run, "--init", synthetic_runs["rf"] / "init.npz"], "same run"),
        (["--checkpoint", run, "--split", "holdout"], "holdout"),
    ]
    for args, message in cases:
        result = _invoke(["parameters", *args])
        assert result.exit_code != 0, args
        assert message in result.output, (args, result.output)


def test_convergence_table_of_runs(synthetic_runs, tmp_path):
    runs = [synthetic_runs[model] for model in ("brf", "rf", "alif")]
    result = _invoke(["convergence", *runs, "--out", tmp_path / "table.json"])
    assert result.exit_code == 0, result.output
    for model in ("brf", "rf", "alif"):
        assert f"| model={model} | 1 | 11 |" in result.output
    assert "epochs to 95 %" in result.output
    assert "table written to" in result.output
    saved = json.loads((tmp_path / "table.json").read_text())
    assert len(saved["runs"]) == 3

    summary = json.loads((synthetic_runs["brf"] / "summary.json").read_text())
    row = next(line for line in result.output.splitlines() if line.startswith(f"| {synthetic_runs['brf']} "))
    assert f"| {summary['test_accuracy']:.2f} |" in row


def test_convergence_bad_input(synthetic_runs, tmp_path):
    missing = _invoke(["convergence", tmp_path / "missing"])
    assert missing.exit_code != 0
    assert "not found" in missing.output
    no_runs = _invoke(["convergence"])
    assert no_runs.exit_code != 0
    bad_key = _invoke(["convergence", synthetic_runs["brf"], "--group-by", "colour"])
    assert bad_key.exit_code != 0
    assert "cannot group by colour" in bad_key.output
