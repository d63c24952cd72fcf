"""Tests of the training loop on the synthetic task: logging, checkpoints, resume, NaN stop."""

import json

import numpy as np
import pytest

from rfsim.errors import RFSimError
from rfsim.training import loop
from rfsim.training.checkpoint import load_checkpoint
from rfsim.training.loop import Trainer, TrainingDiverged, epochs_to_fraction, resume, train
from rfsim.training.presets import resolve_config
from rfsim.training.runs import evaluate_checkpoint


def _config(**overrides):
    settings = dict(epochs=3, n_hidden=12, batch_size=8, limit_train=32, limit_eval=16, seed=3)
    settings.update(overrides)
    return resolve_config("synthetic", "brf", overrides=settings)


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("run")
    summary = train(_config(), run_dir)
    return run_dir, summary


def test_run_writes_log_and_checkpoints(finished_run):
    run_dir, summary = finished_run
    log = loop.read_log(run_dir / "log.csv")
    assert [row["epoch"] for row in log] == [0, 1, 2, 3]
    assert np.isnan(log[0]["train_loss"])
    for name in ("best.npz", "best.json", "init.npz", "state.npz", "optimizer.npz", "summary.json", "config.json"):
        assert (run_dir / name).is_file(), name
    assert summary.status == "completed"
    assert summary.epochs_done == 3


def test_training_lowers_the_loss(finished_run):
    run_dir, _ = finished_run
    log = loop.read_log(run_dir / "log.csv")
    assert log[3]["train_loss"] < log[1]["train_loss"]
    assert log[3]["valid_loss"] < log[0]["valid_loss"]


def test_summary_points_at_best_epoch(finished_run):
    run_dir, summary = finished_run
    log = loop.read_log(run_dir / "log.csv")
    best = min(range(len(log)), key=lambda epoch: (log[epoch]["valid_loss"], -epoch))
    assert summary.best_epoch == best
    assert summary.test_accuracy == log[best]["test_accuracy"]
    assert summary.test_sop == log[best]["test_sop"]
    saved = json.loads((run_dir / "summary.json").read_text())
    assert saved["best_epoch"] == best
    assert saved["n_parameters"] == summary.n_parameters


def test_best_checkpoint_evaluates_to_logged_figures(finished_run):
    run_dir, summary = finished_run
    result = evaluate_checkpoint(run_dir / "best.npz")
    assert result.accuracy == pytest.approx(summary.test_accuracy, abs=1e-12)
    assert result.loss == pytest.approx(summary.test_loss, rel=1e-12)
    assert result.sop == pytest.approx(summary.test_sop, rel=1e-12)


def test_same_seed_gives_identical_bits(finished_run, tmp_path):
    run_dir, _ = finished_run
    train(_config(), tmp_path / "again")
    first = load_checkpoint(run_dir / "state.npz").params
    second = load_checkpoint(tmp_path / "again" / "state.npz").params
    for name in first:
        assert np.array_equal(first[name], second[name]), name


def test_resume_reaches_identical_result(finished_run, tmp_path):
    run_dir, _ = finished_run

    class Interrupt(Exception):
        pass

    def stop_in_epoch_three(event, info):
        if event == "batch" and info["epoch"] == 3:
            raise Interrupt

    with pytest.raises(Interrupt):
        train(_config(), tmp_path / "cut", callback=stop_in_epoch_three)
    saved = json.loads((tmp_path / "cut" / "state.json").read_text())
    assert saved["state"]["epochs_done"] == 2

    summary = resume(tmp_path / "cut")
    assert summary.epochs_done == 3
    expected = load_checkpoint(run_dir / "state.npz").params
    resumed = load_checkpoint(tmp_path / "cut" / "state.npz").params
    for name in expected:
        assert np.array_equal(expected[name], resumed[name]), name
    assert loop.read_log(tmp_path / "cut" / "log.csv")[1:] != []


def test_time_limit_stops_cleanly(tmp_path):
    summary = train(_config(), tmp_path / "quick", max_minutes=0.0)
    assert summary.status == "time-limit"
    assert summary.epochs_done == 0
    assert (tmp_path / "quick" / "best.npz").is_file()


def test_nan_loss_stops_and_keeps_last_good_state(tmp_path, monkeypatch):
    import rfsim.network as network

    real = network.value_and_grad
    calls = {"count": 0}

    def poisoned(*args, **kwargs):
        result, grads = real(*args, **kwargs)
        calls["count"] += 1
        if calls["count"] > 5:
            grads = {name: np.full_like(value, np.nan) for name, value in grads.items()}
        return result, grads

    monkeypatch.setattr(network, "value_and_grad", poisoned)
    with pytest.raises(TrainingDiverged, match="NaN or inf at epoch 2"):
        train(_config(), tmp_path / "nan")
    state = load_checkpoint(tmp_path / "nan" / "state.npz")
    assert state.metadata["state"]["epochs_done"] == 1
    for value in state.params.values():
        assert np.all(np.isfinite(value))

    # The summary records the failure and the epochs that finished before it.
    summary = json.loads((tmp_path / "nan" / "summary.json").read_text())
    assert summary["status"] == "diverged"
    assert summary["epochs_done"] == 1


@pytest.mark.filterwarnings("ignore::rfsim.errors.DivergenceWarning")
def test_diverged_tbptt_run_stops_as_diverged(tmp_path):
    """A window whose update makes a parameter NaN stops the run before the next window reads it."""
    with pytest.raises(TrainingDiverged, match="parameter .* became NaN or inf at epoch 1, batch 0"):
        train(_config(epochs=2, lr=1e3, tbptt_window=10), tmp_path / "tbptt")
    summary = json.loads((tmp_path / "tbptt" / "summary.json").read_text())
    assert summary["status"] == "diverged"
    assert summary["epochs_done"] == 0


def test_existing_run_folder_is_not_overwritten(finished_run):
    run_dir, _ = finished_run
    with pytest.raises(RFSimError, match="already contains a run"):
        Trainer(_config(), run_dir)


def test_resume_without_run_is_rejected(tmp_path):
    with pytest.raises(RFSimError, match="cannot resume"):
        resume(tmp_path)


def test_epochs_to_fraction():
    accuracies = [10.0, 50.0, 80.0, 95.0, 100.0]
    assert epochs_to_fraction(accuracies, 100.0, 0.95) == 3
    assert epochs_to_fraction(accuracies, 100.0, 1.0) == 4
    assert epochs_to_fraction(accuracies, 200.0, 1.0) is None


def test_spectrum_init_places_omega_near_input_peaks(tmp_path):
    import json

    config = _config(epochs=1, omega_init="spectrum")
    train(config, tmp_path / "spec")
    omega = load_checkpoint(tmp_path / "spec" / "init.npz").params["hidden.omega"]
    peaks = np.asarray(json.loads((tmp_path / "spec" / "config.json").read_text())["omega_init_peaks"]["omega"])
    assert peaks.size >= 1
    # Each omega is drawn as peak * (1 + 0.05 e), e ~ N(0, 1): within 30 % of some peak.
    nearest = np.min(np.abs(omega[:, None] / peaks[None, :] - 1.0), axis=1)
    assert np.all(nearest < 0.3)


def test_spectrum_init_rejected_for_alif():
    with pytest.raises(RFSimError, match="RF-family"):
        resolve_config("synthetic", "alif", overrides={"omega_init": "spectrum"})


@pytest.mark.parametrize(
    "overrides",
    [
        {"optimizer": "radam"},
        {"optimizer": "rmsprop", "lr": 0.01},
        {"lr_schedule": "constant", "grad_clip": 0.5},
        {"tbptt_window": 50},
        {"dtype": "float32"},
        {"pruning": 0.5},
        {"loss": "label-last"},
        {"loss": "cross-entropy", "loss_offset": 20},
        {"surrogate": "fast-sigmoid"},
        {"model": "bhrf"},
        {"model": "rf", "rf_reset": "soft"},
        {"model": "alif", "hidden_bias": True, "output_bias": True},
        {"brf_refractory": False},
    ],
    ids=lambda overrides: ",".join(f"{key}={value}" for key, value in overrides.items()),
)
def test_training_options_run_and_resume(tmp_path, overrides):
    settings = dict(epochs=2, n_hidden=8, batch_size=8, limit_train=16, limit_eval=8, seed=4)
    settings.update(overrides)
    model = settings.pop("model", "brf")
    config = resolve_config("synthetic", model, overrides=settings)
    summary = train(config, tmp_path / "run")
    assert summary.epochs_done == 2

    state = load_checkpoint(tmp_path / "run" / "state.npz")
    for name, value in state.params.items():
        assert np.all(np.isfinite(value)), name
    if config.pruning:
        # Pruned weights get a zero gradient, so Adam leaves them at their initial values.
        n_in = state.metadata["n_in"]
        pruned = state.params["hidden.linear.mask"][:, n_in:] == 0
        initial = load_checkpoint(tmp_path / "run" / "init.npz").params["hidden.linear.weight"][:, n_in:]
        assert pruned.any()
        assert np.array_equal(state.params["hidden.linear.weight"][:, n_in:][pruned], initial[pruned])
    if config.dtype == "float32":
        assert state.params["hidden.linear.weight"].dtype == np.float32

    evaluated = evaluate_checkpoint(tmp_path / "run" / "best.npz")
    assert evaluated.accuracy == pytest.approx(summary.test_accuracy, abs=1e-9)
