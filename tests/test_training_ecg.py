"""A short ECG training run on the real QT database (needs RFSIM_DATA_DIR or a download)."""

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from rfsim.cli import cli
from rfsim.training import loop


@pytest.fixture(scope="module")
def ecg_run(tmp_path_factory):
    folder = os.environ.get("RFSIM_DATA_DIR")
    if not folder or not (Path(folder) / "ecg" / "QTDB_train.mat").is_file():
        pytest.skip("RFSIM_DATA_DIR with ecg/QTDB_train.mat is not set")
    run_dir = tmp_path_factory.mktemp("ecg") / "run"
    result = CliRunner().invoke(cli, [
        "train", "--task", "ecg", "--epochs", "3", "--limit-train", "64", "--limit-eval", "32",
        "--seed", "1", "--out", str(run_dir), "--no-progress",
    ])
    assert result.exit_code == 0, result.output
    return run_dir, result.output


def test_ecg_loss_falls(ecg_run):
    run_dir, _ = ecg_run
    log = loop.read_log(run_dir / "log.csv")
    assert len(log) == 4
    assert log[3]["train_loss"] < log[1]["train_loss"]
    assert log[3]["test_loss"] < log[0]["test_loss"]


def test_ecg_checkpoint_round_trips_through_evaluate(ecg_run):
    run_dir, output = ecg_run
    result = CliRunner().invoke(cli, ["evaluate", "--checkpoint", str(run_dir / "best.npz")])
    assert result.exit_code == 0, result.output
    accuracy_line = next(line for line in output.splitlines() if line.startswith("test accuracy:"))
    logged = float(accuracy_line.split()[2])
    evaluated = float(next(line for line in result.output.splitlines() if "accuracy" in line).split()[2])
    assert evaluated == pytest.approx(logged, abs=0.005)


def test_ecg_sidecar_records_dataset_checksums(ecg_run):
    import json

    run_dir, _ = ecg_run
    sidecar = json.loads((run_dir / "best.json").read_text())
    digests = {entry["sha256"] for entry in sidecar["dataset"]["source_files"]}
    assert "72d1a10c96f1540880447e07256835d66da419c0b34f3dff495731a7928c5bc7" in digests
    assert "916f11e21679a5b61988305bbb7cd1e6df8b34f1ed4a157a7a4e295d400ef232" in digests
    assert sidecar["model"] == "brf"
    assert sidecar["n_in"] == 4
    assert sidecar["n_out"] == 6
