"""Tests of ``rfsim train`` and ``rfsim evaluate`` through click's CliRunner."""

import json
import os
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from rfsim.cli import cli
from rfsim.training import loop

SMALL = ["--task", "synthetic", "--hidden", "10", "--epochs", "2", "--batch-size", "8",
         "--limit-train", "24", "--limit-eval", "16", "--no-progress"]


def _invoke(args):
    return CliRunner().invoke(cli, args, catch_exceptions=False)


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("cli") / "run"
    result = _invoke(["train", *SMALL, "--out", str(run_dir), "--seed", "5"])
    assert result.exit_code == 0, result.output
    return run_dir, result.output


def test_train_prints_summary(trained_run):
    run_dir, output = trained_run
    assert "status: completed after 2 epochs" in output
    assert "test accuracy:" in output
    assert str(run_dir / "best.npz") in output


def test_train_saves_resolved_config(trained_run):
    run_dir, _ = trained_run
    config = json.loads((run_dir / "config.json").read_text())
    assert config["train"]["n_hidden"] == 10
    assert config["train"]["seed"] == 5
    assert config["train"]["task"] == "synthetic"


def test_evaluate_reproduces_logged_test_figures(trained_run, tmp_path):
    run_dir, _ = trained_run
    summary = json.loads((run_dir / "summary.json").read_text())
    predictions = tmp_path / "pred.npz"
    result = _invoke(["evaluate", "--checkpoint", str(run_dir / "best.npz"), "--predictions", str(predictions)])
    assert result.exit_code == 0, result.output
    assert f"test accuracy: {summary['test_accuracy']:.4f} %" in result.output
    with np.load(predictions) as archive:
        assert archive["predictions"].shape == (16,)


def test_evaluate_limit_option(trained_run, tmp_path):
    run_dir, _ = trained_run
    checkpoint = str(run_dir / "best.npz")
    assert "test sequences: 16" in _invoke(["evaluate", "--checkpoint", checkpoint]).output

    predictions = tmp_path / "pred.npz"
    result = _invoke(["evaluate", "--checkpoint", checkpoint, "--limit", "5", "--predictions", str(predictions)])
    assert "test sequences: 5" in result.output
    with np.load(predictions) as archive:
        assert archive["predictions"].shape == (5,)

    whole = _invoke(["evaluate", "--checkpoint", checkpoint, "--limit", "0", "--split", "train"]).output
    assert int(whole.split("train sequences: ")[1].split()[0]) > 24


def test_evaluate_checkpoint_rejects_bad_limit(trained_run):
    from rfsim.errors import RFSimError
    from rfsim.training.runs import evaluate_checkpoint

    run_dir, _ = trained_run
    for limit in (0, -3, 2.5, "all"):
        with pytest.raises(RFSimError, match="limit must be 'run', a positive number of sequences or None"):
            evaluate_checkpoint(run_dir / "best.npz", limit=limit)


def test_evaluate_rejects_task_mismatch(trained_run):
    run_dir, _ = trained_run
    data_dir = os.environ.get("RFSIM_DATA_DIR")
    if not data_dir or not (Path(data_dir) / "ecg").is_dir():
        pytest.skip("RFSIM_DATA_DIR with the ECG files is not set")
    result = CliRunner().invoke(cli, ["evaluate", "--checkpoint", str(run_dir / "best.npz"), "--task", "ecg"])
    assert result.exit_code != 0
    assert "task 'ecg' has 4 input channels and 6 classes" in result.output


def test_evaluate_missing_checkpoint(tmp_path):
    result = CliRunner().invoke(cli, ["evaluate", "--checkpoint", str(tmp_path / "none.npz")])
    assert result.exit_code != 0
    assert "not found" in result.output


def test_train_config_file_and_override(tmp_path):
    config_file = tmp_path / "run.toml"
    config_file.write_text('task = "synthetic"\nepochs = 1\nn_hidden = 6\nlimit_train = 16\nlimit_eval = 8\n')
    result = _invoke(["train", "--config", str(config_file), "--lr", "0.02", "--out", str(tmp_path / "r"),
                      "--no-progress"])
    assert result.exit_code == 0, result.output
    saved = json.loads((tmp_path / "r" / "config.json").read_text())["train"]
    assert saved["lr"] == 0.02
    assert saved["n_hidden"] == 6
    assert saved["epochs"] == 1


def test_train_resume_continues_run(tmp_path):
    run_dir = tmp_path / "r"
    first = _invoke(["train", *SMALL, "--out", str(run_dir), "--max-minutes", "0"])
    assert first.exit_code == 0, first.output
    assert "status: time-limit after 0 epochs" in first.output

    second = _invoke(["train", "--resume", str(run_dir), "--no-progress"])
    assert second.exit_code == 0, second.output
    assert "status: completed after 2 epochs" in second.output
    assert [row["epoch"] for row in loop.read_log(run_dir / "log.csv")] == [0, 1, 2]


def test_train_resume_rejects_other_settings(tmp_path):
    result = CliRunner().invoke(cli, ["train", "--resume", str(tmp_path), "--epochs", "3"])
    assert result.exit_code != 0
    assert "--resume continues with the run's saved settings" in result.output


@pytest.mark.parametrize(
    "args, message",
    [
        (["--lr", "-1"], "lr must be positive"),
        (["--omega-range", "50", "150"], "exceeds 1/dt"),
        (["--pruning", "1.5"], "pruning must be a probability"),
    ],
)
def test_train_rejects_bad_settings(tmp_path, args, message):
    result = CliRunner().invoke(cli, ["train", *SMALL, "--out", str(tmp_path / "r"), *args])
    assert result.exit_code != 0
    assert message in result.output


def test_train_existing_folder_is_rejected(trained_run):
    run_dir, _ = trained_run
    result = CliRunner().invoke(cli, ["train", *SMALL, "--out", str(run_dir)])
    assert result.exit_code != 0
    assert "already contains a run" in result.output


def test_train_config_from_earlier_run(trained_run, tmp_path):
    # A run's own config.json (settings under "train") repeats that run, here with one change.
    run_dir, _ = trained_run
    result = _invoke(["train", "--config", str(run_dir / "config.json"), "--epochs", "1", "--out",
                      str(tmp_path / "again"), "--no-progress"])
    assert result.exit_code == 0, result.output
    earlier = json.loads((run_dir / "config.json").read_text())["train"]
    again = json.loads((tmp_path / "again" / "config.json").read_text())["train"]
    assert again["epochs"] == 1
    assert {key: value for key, value in again.items() if key != "epochs"} == \
        {key: value for key, value in earlier.items() if key != "epochs"}


def test_train_interrupt_names_resume(tmp_path, monkeypatch):
    real = loop.Trainer._train_epoch

    def interrupted(self, epoch, deadline, callback):
        if epoch == 2:
            raise KeyboardInterrupt
        return real(self, epoch, deadline, callback)

    monkeypatch.setattr(loop.Trainer, "_train_epoch", interrupted)
    run_dir = tmp_path / "stopped"
    result = _invoke(["train", *SMALL, "--out", str(run_dir)])
    assert result.exit_code == 1
    assert "training interrupted; the state after epoch 1 is saved" in result.output
    assert f"rfsim train --resume {run_dir}" in result.output


def test_setting_errors_name_the_option(tmp_path):
    result = CliRunner().invoke(cli, ["train", "--task", "synthetic", "--hidden", "0", "--out", str(tmp_path / "r")])
    assert result.exit_code == 1
    assert "n_hidden must be a positive integer, got n_hidden=0 (set n_hidden with --hidden)" in result.output


def test_show_config_skips_training(tmp_path):
    result = CliRunner().invoke(cli, ["train", "--task", "ecg", "--lr", "0.05", "--show-config", "--out",
                                      str(tmp_path / "never")])
    assert result.exit_code == 0, result.output
    settings = json.loads(result.output)
    assert settings["task"] == "ecg"
    assert settings["lr"] == 0.05
    assert settings["n_hidden"] == 36
    assert not (tmp_path / "never").exists()

