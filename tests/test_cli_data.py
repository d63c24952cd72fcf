"""Tests of ``rfsim data fetch`` and ``rfsim data info``."""

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from rfsim.cli import cli


def _shared_data_dir():
    folder = os.environ.get("RFSIM_DATA_DIR")
    if not folder or not (Path(folder) / "ecg" / "QTDB_train.mat").is_file():
        pytest.skip("RFSIM_DATA_DIR with the ECG files is not set")
    return folder


def test_fetch_verifies_ecg_files():
    folder = _shared_data_dir()
    result = CliRunner().invoke(cli, ["data", "fetch", "ecg", "--data-dir", folder])
    assert result.exit_code == 0, result.output
    assert "72d1a10c96f1540880447e07256835d66da419c0b34f3dff495731a7928c5bc7  (verified" in result.output
    assert "QTDB_test.mat" in result.output


def test_fetch_missing_file_names_source(tmp_path, monkeypatch):
    monkeypatch.setenv("RFSIM_CACHE_DIR", str(tmp_path / "cache"))
    result = CliRunner().invoke(cli, ["data", "fetch", "ecg", "--data-dir", str(tmp_path), "--no-download"])
    assert result.exit_code != 0
    assert "QTDB_train.mat" in result.output
    assert "RFSIM_DATA_DIR" in result.output


def test_info_synthetic_prints_json():
    result = CliRunner().invoke(cli, ["data", "info", "synthetic", "--seed", "2"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["name"] == "synthetic"
    assert "rfsim train --show-config" in summary["batch_size_note"]
    assert set(summary["splits"]) == {"train", "valid", "test"}


def test_info_ecg_split_sizes():
    folder = _shared_data_dir()
    result = CliRunner().invoke(cli, ["data", "info", "ecg", "--data-dir", folder])
    assert result.exit_code == 0, result.output
    splits = json.loads(result.output)["splits"]
    assert splits["train"]["n_sequences"] == 557
    assert splits["valid"]["n_sequences"] == 61
    assert splits["test"]["n_sequences"] == 141


def test_fetch_lists_every_missing_file(tmp_path, monkeypatch):
    monkeypatch.setenv("RFSIM_CACHE_DIR", str(tmp_path / "cache"))
    result = CliRunner().invoke(cli, ["data", "fetch", "smnist", "--data-dir", str(tmp_path), "--no-download"])
    assert result.exit_code == 1
    assert "4 of 4 files of task smnist are missing" in result.output
    for name in ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz",
                 "t10k-labels-idx1-ubyte.gz"):
        assert f"{name}  missing" in result.output


def test_fetch_t10k_only_explains_fallback():
    folder = os.environ.get("RFSIM_DATA_DIR")
    if not folder or not (Path(folder) / "mnist" / "t10k-images-idx3-ubyte.gz").is_file() \
            or (Path(folder) / "mnist" / "train-images-idx3-ubyte.gz").is_file():
        pytest.skip("RFSIM_DATA_DIR with only the MNIST t10k files is not set")
    result = CliRunner().invoke(cli, ["data", "fetch", "smnist", "--data-dir", folder])
    assert result.exit_code == 1
    assert "t10k-images-idx3-ubyte.gz  sha256" in result.output
    assert "train-images-idx3-ubyte.gz  missing" in result.output
    assert "Training still runs" in result.output
