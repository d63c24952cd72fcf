"""Tests of ``rfsim robustness`` and ``rfsim study`` through click's CliRunner."""

import numpy as np
import pytest
from click.testing import CliRunner

from rfsim.cli import cli
from rfsim.training.runs import evaluate_checkpoint


def _invoke(args):
    return CliRunner().invoke(cli, args, catch_exceptions=False)


@pytest.fixture(scope="module")
def checkpoint(synthetic_runs):
    return str(synthetic_runs["brf"] / "best.npz")


def _robustness(checkpoint, *args):
    return _invoke(["robustness", "--no-progress", "--checkpoint", checkpoint, *args])


def test_robustness_prints_table(checkpoint, tmp_path):
    out, plot = tmp_path / "sweep.csv", tmp_path / "sweep.png"
    result = _robustness(checkpoint, "--kind", "weight-noise", "--levels", "0,0.2", "--repeats", "2", "--seed", "4",
                         "--out", str(out), "--plot", str(plot))
    assert result.exit_code == 0, result.output
    evaluated = evaluate_checkpoint(checkpoint)
    assert "weight-noise sweep of" in result.output
    assert "2 repetition(s) per level, seed 4" in result.output
    assert f"unperturbed: loss {evaluated.loss:.6g}, accuracy {evaluated.accuracy:.2f} %" in result.output
    assert "evaluated 5 networks in" in result.output
    assert out.stat().st_size > 0
    assert plot.stat().st_size > 0


def test_robustness_quantize_uses_one_repetition(checkpoint, tmp_path):
    out = tmp_path / "quantize.npz"
    result = _robustness(checkpoint, "--kind", "quantize", "--levels", "0,8,32", "--parameters", "all",
                         "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "1 repetition(s) per level" in result.output
    assert "rounded to multiples of 2^-b" in result.output
    # One repetition has no spread, so the table shows no "+- 0.00".
    assert "one repetition, so no std is given" in result.output
    assert "+-" not in result.output
    with np.load(out) as stored:
        assert stored["accuracy"].shape == (3, 1)
        assert str(stored["parameters"]) == "all"


def test_robustness_spike_deletion(checkpoint):
    result = _robustness(checkpoint, "--kind", "spike-deletion", "--levels", "0,0.5,1", "--repeats", "2")
    assert result.exit_code == 0, result.output
    assert "level = probability p that a hidden spike is deleted" in result.output
    last = [line for line in result.output.splitlines() if line.strip().startswith("1 ")][0]
    assert "0.0 +- 0.0" in last


def test_robustness_input_noise_clip(checkpoint):
    result = _robustness(checkpoint, "--kind", "input-noise", "--levels", "0.5", "--repeats", "1", "--clip",
                         "--subset", "4")
    assert result.exit_code == 0, result.output
    assert "clipped to [0, 100]" in result.output
    assert "the first 4 sequences" in result.output


@pytest.mark.parametrize("args, message", [
    (["--kind", "blur", "--levels", "0"], "Invalid value for '--kind'"),
    (["--kind", "input-noise", "--levels", ""], "the list is empty"),
    (["--kind", "input-noise", "--levels", ",,"], "the list is empty"),
    (["--kind", "input-noise", "--levels", "0,a"], "expected comma-separated numbers"),
    (["--kind", "weight-noise", "--levels", "0,-0.1"], "levels must not be negative, got -0.1"),
    (["--kind", "spike-deletion", "--levels", "0.5,2"], r"probability must lie in [0, 1], got p = 2"),
    (["--kind", "quantize", "--levels", "-1"], "levels must not be negative, got -1"),
    (["--kind", "quantize", "--levels", "1.5"], "fractional bits must be an integer"),
    (["--kind", "input-noise", "--levels", "0.1", "--repeats", "0"], "Invalid value for --repeats: must be at least 1, got 0"),
    (["--kind", "input-noise", "--levels", "0.1", "--seed", "-2"], "Invalid value for --seed: must be a non-negative integer, got -2"),
    (["--kind", "input-noise", "--levels", "0.1", "--subset", "0"], "Invalid value for --subset: the subset must contain at least one sequence"),
    (["--kind", "input-noise", "--levels", "0.1", "--subset-seed", "3"], "give its size with --subset N"),
    (["--kind", "input-noise", "--levels", "0.1", "--out", "x.txt"], "must end in .csv or .npz"),
    (["--kind", "input-noise", "--levels", "0.1", "--plot", "x.nope"], "unknown figure format"),
])
def test_robustness_rejects_bad_input(checkpoint, args, message):
    result = _robustness(checkpoint, *args)
    assert result.exit_code != 0
    assert message in result.output


def test_robustness_missing_checkpoint(tmp_path):
    result = _robustness(str(tmp_path / "missing.npz"), "--kind", "input-noise", "--levels", "0.1")
    assert result.exit_code == 1
    assert "missing.npz" in result.output


TINY = ["--task", "synthetic", "--epochs", "1", "--hidden", "8", "--batch-size", "8", "--limit-train", "16",
        "--limit-eval", "8"]


def test_study_pruning_runs_and_resumes(tmp_path):
    out, table, plot = tmp_path / "study", tmp_path / "table.md", tmp_path / "study.png"
    args = ["study", "pruning", *TINY, "--probabilities", "0,0.5", "--seeds", "0", "--out", str(out),
            "--set", "dtype=\"float64\"", "--table", str(table), "--plot", str(plot)]
    result = _invoke(args)
    assert result.exit_code == 0, result.output
    assert "pruning study: brf on synthetic, 1 seed(s) (0)" in result.output
    assert "| 0.5 | " in result.output
    assert (out / "p0-seed0" / "best.npz").is_file()
    assert (out / "p0.5-seed0" / "best.npz").is_file()
    assert "| pruning p |" in table.read_text()
    assert plot.stat().st_size > 0

    stamp = (out / "p0.5-seed0" / "best.npz").stat().st_mtime_ns
    again = _invoke(args)
    assert again.exit_code == 0, again.output
    assert (out / "p0.5-seed0" / "best.npz").stat().st_mtime_ns == stamp
    assert again.output == result.output


@pytest.mark.parametrize("args, message", [
    (["--probabilities", "0,1"], r"must lie in [0, 1), got 1.0"),
    (["--probabilities", "x"], "expected comma-separated numbers"),
    (["--seeds", "0.5"], "expected comma-separated integers"),
    (["--set", "lr"], "expected KEY=VALUE"),
    (["--set", "pruning=0.2"], "the study sets pruning itself"),
    (["--table", "t.txt"], "must end in .csv or .json or .md"),
])
def test_study_pruning_rejects_bad_input(tmp_path, args, message):
    result = _invoke(["study", "pruning", *TINY, "--out", str(tmp_path / "study"), *args])
    assert result.exit_code != 0
    assert message in result.output


def test_study_ablation_rejects_unknown_variant(tmp_path):
    result = _invoke(["study", "ablation", *TINY, "--out", str(tmp_path / "study"), "--variants", "all,no-q"])
    assert result.exit_code != 0
    assert "unknown BRF ablation variant 'no-q'" in result.output


def test_study_ablation_runs(tmp_path):
    out, table = tmp_path / "study", tmp_path / "table.csv"
    result = _invoke(["study", "ablation", *TINY, "--variants", "all,none", "--seeds", "0,1", "--out", str(out),
                      "--table", str(table)])
    assert result.exit_code == 0, result.output
    assert "ablation study: brf on synthetic, 2 seed(s) (0, 1)" in result.output
    assert "| none | " in result.output
    assert len(table.read_text().splitlines()) == 1 + 4
    assert (out / "none-seed1" / "best.npz").is_file()


def test_train_brf_ablation_option(tmp_path):
    import json

    result = _invoke(["train", *TINY, "--brf-ablation", "no-boundary", "--out", str(tmp_path / "run"),
                      "--no-progress"])
    assert result.exit_code == 0, result.output
    saved = json.loads((tmp_path / "run" / "config.json").read_text())["train"]
    assert saved["brf_boundary"] is False
    assert saved["brf_refractory"] is True
    assert saved["brf_smooth_reset"] is True


def test_train_brf_ablation_rejects_rf(tmp_path):
    result = _invoke(["train", *TINY, "--model", "rf", "--brf-ablation", "none", "--out", str(tmp_path / "run")])
    assert result.exit_code == 1
    assert "applies to model 'brf' only" in result.output
