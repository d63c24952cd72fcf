"""Tests of training presets and configuration resolution."""

import json

import pytest

from rfsim.errors import RFSimError
from rfsim.training.presets import TASKS, preset, resolve_config


def test_ecg_brf_preset_matches_authors_script():
    config = resolve_config("ecg", "brf")
    assert config.n_hidden == 36
    assert config.batch_size == 16
    assert config.epochs == 400
    assert config.lr == 0.1
    assert config.omega_range == (3.0, 5.0)
    assert config.tau_out == (20.0, 1.0)
    assert config.grad_clip is None


def test_ecg_alif_preset_uses_offset_and_batch_64():
    config = resolve_config("ecg", "alif")
    assert config.loss_offset == 10
    assert config.batch_size == 64
    assert config.lr == 0.05
    assert config.tau_adp == (7.0, 0.2)


def test_smnist_alif_uses_tbptt():
    assert resolve_config("smnist", "alif").tbptt_window == 50
    assert resolve_config("smnist", "brf").loss == "label-last"


@pytest.mark.parametrize("task", TASKS)
@pytest.mark.parametrize("model", ["brf", "rf", "bhrf", "alif"])
def test_every_preset_resolves(task, model):
    config = resolve_config(task, model)
    assert config.task == task
    assert config.model == model


def test_overrides_win_over_file_and_preset(tmp_path):
    path = tmp_path / "run.toml"
    path.write_text('epochs = 7\nlr = 0.02\nomega_range = [4.0, 6.0]\n')
    config = resolve_config("ecg", "brf", overrides={"lr": 0.03, "batch_size": None}, config_file=path)
    assert config.epochs == 7
    assert config.lr == 0.03
    assert config.batch_size == 16
    assert config.omega_range == (4.0, 6.0)


def test_json_file_may_set_task(tmp_path):
    path = tmp_path / "run.json"
    path.write_text(json.dumps({"task": "shd", "epochs": 2}))
    config = resolve_config(config_file=path)
    assert config.task == "shd"
    assert config.n_hidden == 128
    assert config.epochs == 2


def test_unknown_setting_is_named(tmp_path):
    with pytest.raises(RFSimError, match="unknown setting.*hiden"):
        resolve_config("ecg", "brf", overrides={"hiden": 3})


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"lr": 0.0}, "lr must be positive"),
        ({"epochs": 0}, "epochs must be a positive integer"),
        ({"optimizer": "sgd"}, "invalid optimizer='sgd'"),
        ({"pruning": 1.0}, "pruning must be a probability"),
        ({"omega_range": (50.0, 150.0)}, "exceeds 1/dt"),
        ({"omega_range": (5.0, 3.0)}, "low <= high"),
        ({"loss_offset": -1}, "loss_offset"),
    ],
)
def test_invalid_values_are_rejected(overrides, message):
    with pytest.raises(RFSimError, match=message):
        resolve_config("ecg", "brf", overrides=overrides)


def test_unknown_task_and_bad_file(tmp_path):
    with pytest.raises(RFSimError, match="unknown task"):
        preset("cifar", "brf")
    bad = tmp_path / "run.yaml"
    bad.write_text("epochs: 3")
    with pytest.raises(RFSimError, match=".toml or .json"):
        resolve_config(config_file=bad)
    broken = tmp_path / "run.toml"
    broken.write_text("epochs = = 3")
    with pytest.raises(RFSimError, match="invalid config file"):
        resolve_config(config_file=broken)
