"""Tests of ``rfsim landscape`` through click's CliRunner on the session's synthetic checkpoints."""

import numpy as np
import pytest
from click.testing import CliRunner

from rfsim.cli import cli
from rfsim.training.runs import evaluate_checkpoint


def _invoke(args):
    return CliRunner().invoke(cli, ["landscape", "--no-progress", *args], catch_exceptions=False)


@pytest.fixture(scope="module")
def brf_run(synthetic_runs):
    return synthetic_runs["brf"]


@pytest.fixture(scope="module")
def first_run(brf_run, tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli_landscape")
    outputs = dict(directions=folder / "directions.npz", table=folder / "landscape.npz", csv=folder / "landscape.csv",
                   plot=folder / "landscape.png")
    result = _invoke(["--checkpoint", str(brf_run / "best.npz"), "--grid", "3", "--span", "0.5", "--seed", "7",
                      "--interpolate-from", str(brf_run / "init.npz"), "--interpolation-points", "3",
                      "--save-directions", str(outputs["directions"]), "--out", str(outputs["table"]),
                      "--plot", str(outputs["plot"]), "--workers", "2"])
    return result, outputs


def test_landscape_prints_summary(brf_run, first_run):
    result, _ = first_run
    assert result.exit_code == 0, result.output
    evaluated = evaluate_checkpoint(brf_run / "best.npz")
    assert f"loss at the centre (alpha = beta = 0): {evaluated.loss:.6g}" in result.output
    assert "grid: 3 x 3 points, alpha and beta from -0.5 to 0.5, plane weights, vectors filter, directions seed 7" \
        in result.output
    assert "loss over the grid: min" in result.output
    assert "BRF neurons outside the convergence region (q = 0):" in result.output
    assert "interpolation from" in result.output
    assert f"at a = 1: {evaluated.loss:.6g}" in result.output


def test_landscape_writes_files(first_run):
    result, outputs = first_run
    assert result.exit_code == 0, result.output
    for name in ("directions", "table", "plot"):
        assert outputs[name].stat().st_size > 0, name
    with np.load(outputs["table"]) as stored:
        assert stored["grid_loss"].shape == (3, 3)
        assert stored["curve_loss"].shape == (3,)
        assert int(stored["seed"]) == 7


def test_landscape_reuses_directions(brf_run, first_run, tmp_path):
    _, outputs = first_run
    again = tmp_path / "again.npz"
    result = _invoke(["--checkpoint", str(brf_run / "best.npz"), "--grid", "3", "--span", "0.5",
                      "--directions", str(outputs["directions"]), "--out", str(again)])
    assert result.exit_code == 0, result.output
    assert "directions seed 7" in result.output
    with np.load(outputs["table"]) as first, np.load(again) as second:
        np.testing.assert_array_equal(first["grid_loss"], second["grid_loss"])


def test_landscape_csv_and_subset(brf_run, tmp_path):
    table = tmp_path / "landscape.csv"
    result = _invoke(["--checkpoint", str(brf_run / "best.npz"), "--grid", "3", "--plane", "omega-b",
                      "--subset", "4", "--subset-seed", "2", "--out", str(table)])
    assert result.exit_code == 0, result.output
    assert "4 sequences drawn with seed 2" in result.output
    assert "plane omega-b" in result.output
    assert table.read_text().count("\ngrid,") == 9


def test_landscape_interpolation_only(brf_run):
    result = _invoke(["--checkpoint", str(brf_run / "best.npz"), "--interpolation-only",
                      "--interpolate-from", str(brf_run / "init.npz"), "--interpolation-points", "2"])
    assert result.exit_code == 0, result.output
    assert "grid:" not in result.output
    assert "interpolation from" in result.output


@pytest.mark.parametrize("args, message", [
    (["--grid", "4"], "odd number of points"),
    (["--grid", "1"], "odd number of points"),
    (["--span", "0"], "span must be a finite positive"),
    (["--span", "-1"], "span must be a finite positive"),
    (["--workers", "0"], "workers must be a positive"),
    (["--subset", "0"], "at least one sequence"),
    (["--subset", "100000"], "subset must be a number of sequences"),
    (["--subset-seed", "3"], "give its size with --subset"),
    (["--out", "landscape.txt"], "must end in .csv or .npz"),
    (["--plot", "landscape.xyz"], "unknown figure format"),
    (["--save-directions", "directions.txt"], "must end in .npz"),
    (["--interpolation-only"], "needs the start checkpoint"),
    (["--directions", "absent.npz"], "not found"),
])
def test_landscape_rejects_bad_input(brf_run, args, message):
    result = CliRunner().invoke(cli, ["landscape", "--no-progress", "--checkpoint", str(brf_run / "best.npz"),
                                      "--grid", "3", *args])
    assert result.exit_code != 0
    assert message in result.output


def test_landscape_rejects_bad_interpolation_range(brf_run):
    result = CliRunner().invoke(cli, ["landscape", "--checkpoint", str(brf_run / "best.npz"), "--grid", "3",
                                      "--interpolate-from", str(brf_run / "init.npz"),
                                      "--interpolation-range", "0.2", "1.0"])
    assert result.exit_code != 0
    assert "must contain [0, 1]" in result.output


def test_landscape_rejects_omega_b_for_alif(synthetic_runs):
    result = CliRunner().invoke(cli, ["landscape", "--no-progress", "--checkpoint",
                                      str(synthetic_runs["alif"] / "best.npz"), "--grid", "3", "--plane", "omega-b"])
    assert result.exit_code != 0
    assert "RF-family" in result.output


def test_landscape_rejects_directions_of_other_model(synthetic_runs, tmp_path):
    directions = tmp_path / "alif.npz"
    saved = _invoke(["--checkpoint", str(synthetic_runs["alif"] / "best.npz"), "--grid", "3", "--subset", "2",
                     "--save-directions", str(directions)])
    assert saved.exit_code == 0, saved.output
    result = CliRunner().invoke(cli, ["landscape", "--no-progress", "--checkpoint",
                                      str(synthetic_runs["brf"] / "best.npz"), "--grid", "3",
                                      "--directions", str(directions)])
    assert result.exit_code != 0
    assert "another model" in result.output


def test_landscape_rejects_conflicting_plane(brf_run, first_run):
    _, outputs = first_run
    result = CliRunner().invoke(cli, ["landscape", "--checkpoint", str(brf_run / "best.npz"), "--grid", "3",
                                      "--directions", str(outputs["directions"]), "--plane", "omega-b"])
    assert result.exit_code != 0
    assert "differs from the directions file's weights" in result.output
