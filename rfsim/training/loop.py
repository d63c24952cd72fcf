"""The training loop: epochs of training, validation and test, with resumable state.

A run lives in one folder::

    config.json        resolved TrainConfig and the network configuration
    log.csv            one row per epoch (row 0 evaluates the initial network)
    init.npz/.json     initial parameters
    best.npz/.json     parameters with the lowest validation loss so far
    state.npz/.json    parameters and optimizer state after the last finished epoch
    summary.json       final report

Epoch 0 evaluates the untrained network; each epoch e >= 1 trains once over
the training split with learning rate lr * (1 - (e - 1)/epochs) (the linear
decay of the authors' scripts), then validates and tests. The best checkpoint is
the one with the lowest validation loss, the latest on ties, as in the authors'
scripts. All randomness derives from ``TrainConfig.seed``: the initialisation,
the validation split, the pruning mask and one generator per epoch for the
shuffling, so a resumed run continues to the identical result.
"""

import csv
import io
import json
import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rfsim.errors import RFSimError
from rfsim.training.checkpoint import (
    atomic_save_npz,
    atomic_write_json,
    atomic_write_text,
    load_checkpoint,
    save_checkpoint,
)
from rfsim.training.evaluate import accuracy_counts, evaluate_dataset, make_net_config, training_targets
from rfsim.training.presets import TrainConfig

LOG_COLUMNS = (
    "epoch", "lr", "train_loss", "train_accuracy", "valid_loss", "valid_accuracy",
    "test_loss", "test_accuracy", "test_sop", "test_sop_per_step", "seconds",
)

# Streams of numpy.random.SeedSequence([seed, stream]) for each random draw of a run.
_INIT_STREAM, _MASK_STREAM, _SHUFFLE_STREAM, _OMEGA_STREAM = 1, 2, 3, 4


class TrainingDiverged(RFSimError):
    """The loss or a parameter became NaN or inf during training."""


@dataclass(frozen=True)
class TrainSummary:
    """Final report of a run (also written to ``summary.json``).

    Attributes
    ----------
    run_dir : pathlib.Path
        Folder of the run.
    status : str
        'completed', 'time-limit' when ``max_minutes`` stopped the run early, or
        'diverged' when the loss or a parameter became NaN or inf.
    epochs_done : int
        Training epochs finished.
    best_epoch : int
        Epoch of the lowest validation loss (0 is the initial network).
    test_accuracy, test_loss, test_sop : float
        Test accuracy [%], loss and SOP (hidden spikes per sequence) of the best checkpoint.
    n_parameters : int
        Number of trainable scalars.
    wall_seconds : float
        Wall time of this process's part of the run [s].
    epochs_to_95, epochs_to_98, epochs_to_100 : int or None
        First epoch whose test accuracy reaches 95 %, 98 % and 100 % of the
        best checkpoint's test accuracy (the convergence measure of Higuchi et al., ICML 2024).
    """

    run_dir: Path
    status: str
    epochs_done: int
    best_epoch: int
    test_accuracy: float
    test_loss: float
    test_sop: float
    n_parameters: int
    wall_seconds: float
    epochs_to_95: int | None
    epochs_to_98: int | None
    epochs_to_100: int | None

    def to_dict(self):
        """Return the summary as a JSON-ready dict."""
        values = dict(self.__dict__)
        values["run_dir"] = str(self.run_dir)
        return values


def epochs_to_fraction(test_accuracies, final_accuracy, fraction):
    """Return the first epoch whose accuracy reaches ``fraction`` of ``final_accuracy``, or None."""
    for epoch, accuracy in enumerate(test_accuracies):
        if accuracy >= fraction * final_accuracy:
            return epoch
    return None


def _report(callback, event, **info):
    if callback is not None:
        callback(event, info)


def _epoch_rng(seed, epoch):
    return np.random.default_rng([seed, _SHUFFLE_STREAM, epoch])


def _check_finite(name, value, epoch, batch, run_dir, last_epoch):
    if np.all(np.isfinite(value)):
        return
    raise TrainingDiverged(
        f"{name} became NaN or inf at epoch {epoch}, batch {batch}; training stopped. The last good state "
        f"(after epoch {last_epoch}) is in {run_dir / 'state.npz'} and the best checkpoint in "
        f"{run_dir / 'best.npz'}. Lower the learning rate (--lr) or enable gradient clipping (--grad-clip)."
    )


class Trainer:
    """One training run in ``run_dir``; create it fresh or resume it from its state files.

    Parameters
    ----------
    config : TrainConfig
        Resolved settings. Ignored when resuming, where the run's saved configuration is used.
    run_dir : str or Path
        Folder of the run.
    task : rfsim.data.TaskData, optional
        Data to train on; loaded from ``config`` when omitted.
    resume : bool
        Continue the run saved in ``run_dir`` instead of starting a new one.
    """

    def __init__(self, config, run_dir, *, task=None, resume=False):
        self.run_dir = Path(run_dir)
        if resume:
            config = self._read_saved_config()
        elif (self.run_dir / "state.json").exists():
            raise RFSimError(
                f"run folder {str(self.run_dir)!r} already contains a run; resume it with --resume "
                "or choose another --out folder"
            )
        self.config = config
        self.task = task if task is not None else load_task_for(config)
        self.net_config = make_net_config(config, self.task)
        self.mask = self._make_mask()

        if resume:
            self._load_state()
        else:
            self._start()

    # -- set-up -----------------------------------------------------------------

    def _read_saved_config(self):
        path = self.run_dir / "config.json"
        if not path.is_file():
            raise RFSimError(f"cannot resume: {str(path)!r} not found; give the folder of an earlier rfsim train run")
        saved = json.loads(path.read_text(encoding="utf-8"))["train"]
        for name in ("omega_range", "b_offset_range", "tau_out", "tau_mem", "tau_adp"):
            saved[name] = tuple(saved[name])
        return TrainConfig(**saved)

    def _make_mask(self):
        from rfsim.network import make_pruning_mask

        if self.config.pruning == 0.0:
            return None
        rng = np.random.default_rng([self.config.seed, _MASK_STREAM])
        return make_pruning_mask(self.config.n_hidden, self.config.pruning, rng)

    def _start(self):
        from rfsim.network import init_params

        config = self.config
        rng = np.random.default_rng([config.seed, _INIT_STREAM])
        ranges = dict(omega_range=config.omega_range, b_offset_range=config.b_offset_range,
                      tau_out=config.tau_out, tau_mem=config.tau_mem, tau_adp=config.tau_adp)
        self.params = init_params(self.net_config, rng, **ranges)
        spectrum = self._init_omega_from_spectrum()
        self.optimizer = make_optimizer(config, self.params)
        self.epochs_done = 0
        self.best_epoch = None
        self.best_valid_loss = math.inf
        self.rows = []

        self.run_dir.mkdir(parents=True, exist_ok=True)
        saved = {"train": config.to_dict(), "network": self.net_config.__dict__, "task": self._task_metadata()}
        if spectrum is not None:
            saved["omega_init_peaks"] = {"omega": spectrum.peak_omega, "power": spectrum.peak_power}
        atomic_write_json(self.run_dir / "config.json", saved)
        save_checkpoint(self.run_dir / "init.npz", self._params_with_mask(), self.checkpoint_metadata(epoch=0))

    def _init_omega_from_spectrum(self):
        """Replace the uniform omegas by draws around the training set's spectral peaks, if configured."""
        if self.config.omega_init != "spectrum":
            return None
        from rfsim.analysis.parameters import spectrum_omega_init

        rng = np.random.default_rng([self.config.seed, _OMEGA_STREAM])
        # The upper bound of omega_range caps the search: at omega = 1/dt the derivative of
        # p(omega) is infinite, so the first update would turn omega into NaN.
        omega, spectrum = spectrum_omega_init(self.task.train, self.config.n_hidden, rng, dt=self.config.dt,
                                              omega_max=self.config.omega_range[1])
        self.params["hidden.omega"] = omega.astype(self.params["hidden.omega"].dtype)
        return spectrum

    def _load_state(self):
        state_path = self.run_dir / "state.npz"
        checkpoint = load_checkpoint(state_path)
        info = checkpoint.metadata["state"]
        self.params = {name: value for name, value in checkpoint.params.items() if name != "hidden.linear.mask"}

        self.optimizer = make_optimizer(self.config, self.params)
        with np.load(self.run_dir / "optimizer.npz", allow_pickle=False) as archive:
            self.optimizer.load_state_dict({name: archive[name] for name in archive.files})

        self.epochs_done = info["epochs_done"]
        self.best_epoch = info["best_epoch"]
        self.best_valid_loss = info["best_valid_loss"]
        self.rows = read_log(self.run_dir)[: self.epochs_done + 1]

    def _params_with_mask(self):
        """Return the parameters plus, for a pruned network, the mask under the authors' key."""
        if self.mask is None:
            return self.params
        full = np.ones((self.config.n_hidden, self.net_config.n_in + self.config.n_hidden))
        full[:, self.net_config.n_in:] = self.mask
        return {**self.params, "hidden.linear.mask": full}

    def _task_metadata(self):
        task = self.task
        metadata = {
            "name": task.name, "n_inputs": task.n_inputs, "n_classes": task.n_classes,
            "n_steps": task.n_steps, "sizes": {name: len(part) for name, part in task.splits.items()},
            "source_files": task.metadata.get("source_files"),
        }
        if task.permutation is not None:
            metadata["permutation"] = [int(index) for index in task.permutation]
        return metadata

    def checkpoint_metadata(self, epoch):
        """Return the sidecar metadata of a checkpoint taken after ``epoch``."""
        net = self.net_config
        return {
            "model": net.model, "n_in": net.n_in, "n_hidden": net.n_hidden, "n_out": net.n_out, "dt": net.dt,
            "task": self.config.task, "epoch": epoch, "seed": self.config.seed,
            "network": net.__dict__, "train": self.config.to_dict(), "dataset": self._task_metadata(),
        }

    # -- the loop ---------------------------------------------------------------

    def run(self, *, callback=None, max_minutes=None):
        """Train until ``config.epochs`` are done or ``max_minutes`` have passed.

        Parameters
        ----------
        callback : callable, optional
            Called as ``callback(event, info)`` with event 'epoch_start',
            'batch', 'epoch' or 'stop' and a dict of values; the library never prints.
        max_minutes : float, optional
            Wall-time budget. The run stops cleanly between batches once it is
            exceeded, keeping the state of the last finished epoch, so
            ``resume`` continues to the identical result.

        Returns
        -------
        TrainSummary
        """
        started = time.perf_counter()
        deadline = None if max_minutes is None else started + 60.0 * max_minutes
        status = "completed"

        if not self.rows:
            self._finish_epoch(0, lr=0.0, train_loss=math.nan, train_accuracy=math.nan,
                               seconds=0.0, callback=callback)

        try:
            while self.epochs_done < self.config.epochs:
                finished = self._train_epoch(self.epochs_done + 1, deadline, callback)
                if not finished:
                    status = "time-limit"
                    break
        except TrainingDiverged:
            # The summary of the epochs before the failure is kept, then the error goes on to the caller.
            self._write_summary("diverged", started, callback)
            raise
        return self._write_summary(status, started, callback)

    def _write_summary(self, status, started, callback):
        summary = self._summary(status, time.perf_counter() - started)
        atomic_write_json(self.run_dir / "summary.json", summary.to_dict())
        _report(callback, "stop", summary=summary)
        return summary

    def _train_epoch(self, epoch, deadline, callback):
        config = self.config
        lr = config.lr * (1.0 - (epoch - 1) / config.epochs) if config.lr_schedule == "linear" else config.lr
        self.optimizer.lr = lr
        started = time.perf_counter()
        n_batches = math.ceil(len(self.task.train) / config.batch_size)
        _report(callback, "epoch_start", epoch=epoch, n_batches=n_batches, lr=lr)

        from rfsim.data import batches

        loss_total, correct, total = 0.0, 0, 0
        dtype = np.float32 if config.dtype == "float32" else np.float64
        train_batches = batches(self.task.train, config.batch_size, rng=_epoch_rng(config.seed, epoch), dtype=dtype)
        for index, (x, labels) in enumerate(train_batches):
            if deadline is not None and time.perf_counter() > deadline:
                return False

            result = self._train_batch(x, training_targets(self.net_config, labels, x.shape[0]), epoch, index)
            _check_finite("the training loss", result.loss_reported, epoch, index, self.run_dir, epoch - 1)

            batch_correct, batch_total = accuracy_counts(
                result.outputs, labels, self.task.train.per_step_labels, self.net_config.loss == "label-last",
                self.net_config.loss_offset)
            loss_total += result.loss_reported
            correct += batch_correct
            total += batch_total
            _report(callback, "batch", epoch=epoch, batch=index + 1, n_batches=n_batches,
                    loss=loss_total / (index + 1), accuracy=100.0 * correct / max(total, 1))

        self._finish_epoch(epoch, lr=lr, train_loss=loss_total / n_batches, train_accuracy=100.0 * correct / total,
                           seconds=time.perf_counter() - started, callback=callback)
        return True

    def _train_batch(self, x, targets, epoch, index):
        from rfsim.network import train_step_tbptt, value_and_grad

        config = self.config

        def apply_update(grads):
            self._apply_update(grads, epoch, index)

        if config.tbptt_window is not None:
            return train_step_tbptt(self.net_config, self.params, x, targets, config.tbptt_window, apply_update,
                                    mask=self.mask)
        result, grads = value_and_grad(self.net_config, self.params, x, targets, mask=self.mask)
        apply_update(grads)
        return result

    def _apply_update(self, grads, epoch, index):
        """Take one optimizer step; raise ``TrainingDiverged`` if a parameter became NaN or inf.

        The check follows every step, so truncated BPTT stops at the window that diverged
        instead of passing NaN parameters to the next window.
        """
        from rfsim.network.optim import clip_grad_norm

        if self.config.grad_clip is not None:
            clip_grad_norm(grads, self.config.grad_clip)
        self.optimizer.step(self.params, grads)
        for name, value in self.params.items():
            _check_finite(f"parameter {name}", value, epoch, index, self.run_dir, epoch - 1)

    def _finish_epoch(self, epoch, *, lr, train_loss, train_accuracy, seconds, callback):
        valid = evaluate_dataset(self.net_config, self.params, self.task.valid, self.config, mask=self.mask)
        test = evaluate_dataset(self.net_config, self.params, self.task.test, self.config, mask=self.mask)

        row = {
            "epoch": epoch, "lr": lr, "train_loss": train_loss, "train_accuracy": train_accuracy,
            "valid_loss": valid.loss, "valid_accuracy": valid.accuracy, "test_loss": test.loss,
            "test_accuracy": test.accuracy, "test_sop": test.sop, "test_sop_per_step": test.sop_per_step,
            "seconds": seconds,
        }
        self.rows.append(row)
        self.epochs_done = epoch

        if valid.loss <= self.best_valid_loss:
            self.best_valid_loss = valid.loss
            self.best_epoch = epoch
            save_checkpoint(self.run_dir / "best.npz", self._params_with_mask(), self.checkpoint_metadata(epoch))
        self._save_state()
        _report(callback, "epoch", **row)

    def _save_state(self):
        # The log and optimizer go first and state.json last: state.json names the
        # epoch that every other file already covers.
        atomic_write_text(self.run_dir / "log.csv", _format_log(self.rows))
        atomic_save_npz(self.run_dir / "optimizer.npz", self.optimizer.state_dict())
        metadata = self.checkpoint_metadata(self.epochs_done)
        metadata["state"] = {
            "epochs_done": self.epochs_done, "best_epoch": self.best_epoch,
            "best_valid_loss": self.best_valid_loss,
        }
        save_checkpoint(self.run_dir / "state.npz", self._params_with_mask(), metadata)

    def _summary(self, status, wall_seconds):
        best = self.rows[self.best_epoch]
        accuracies = [row["test_accuracy"] for row in self.rows]
        final = best["test_accuracy"]
        return TrainSummary(
            run_dir=self.run_dir, status=status, epochs_done=self.epochs_done, best_epoch=self.best_epoch,
            test_accuracy=final, test_loss=best["test_loss"], test_sop=best["test_sop"],
            n_parameters=int(sum(value.size for value in self.params.values())), wall_seconds=wall_seconds,
            epochs_to_95=epochs_to_fraction(accuracies, final, 0.95),
            epochs_to_98=epochs_to_fraction(accuracies, final, 0.98),
            epochs_to_100=epochs_to_fraction(accuracies, final, 1.0),
        )


def make_optimizer(config, params):
    """Create the optimizer that ``config.optimizer`` names, with learning rate ``config.lr``."""
    from rfsim.network import optim

    classes = {"adam": optim.Adam, "radam": optim.RAdam, "rmsprop": optim.RMSprop}
    return classes[config.optimizer](params, lr=config.lr)


def load_task_for(config, **options):
    """Load the task data that a ``TrainConfig`` names, with its seed and sequence limits.

    ``options`` go to ``rfsim.data.load_task``, for example the ``permutation``
    of a PS-MNIST checkpoint.
    """
    from rfsim.data import load_task

    task = load_task(config.task, data_dir=config.data_dir, seed=config.seed,
                     valid_fraction=config.valid_fraction, **options)
    return limit_task(task, config.limit_train, config.limit_eval)


def limit_task(task, limit_train, limit_eval):
    """Keep only the first ``limit_train`` training and ``limit_eval`` validation and test sequences."""
    import dataclasses

    changes = {}
    if limit_train is not None and limit_train < len(task.train):
        changes["train"] = task.train.subset(np.arange(limit_train))
    if limit_eval is not None:
        for name in ("valid", "test"):
            part = getattr(task, name)
            if limit_eval < len(part):
                changes[name] = part.subset(np.arange(limit_eval))
    return dataclasses.replace(task, **changes) if changes else task


def train(config, run_dir, *, task=None, callback=None, max_minutes=None):
    """Train a new run in ``run_dir`` and return its ``TrainSummary``."""
    return Trainer(config, run_dir, task=task).run(callback=callback, max_minutes=max_minutes)


def resume(run_dir, *, task=None, callback=None, max_minutes=None):
    """Continue the run saved in ``run_dir`` and return its ``TrainSummary``."""
    return Trainer(None, run_dir, task=task, resume=True).run(callback=callback, max_minutes=max_minutes)


def _format_log(rows):
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=LOG_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({key: repr(float(value)) if key != "epoch" else value for key, value in row.items()})
    return buffer.getvalue()


def read_log(path):
    """Read a run's ``log.csv`` (or the ``log.csv`` in a run folder) as a list of row dicts.

    ``epoch`` is an int and every other column a float; the first row (epoch 0)
    evaluates the initial network and has NaN training columns.

    Raises
    ------
    RFSimError
        If the file cannot be read or contains a value that is not a number.
    """
    path = Path(path)
    if path.is_dir():
        path = path / "log.csv"
    try:
        return _read_log_rows(path)
    except OSError as error:
        raise RFSimError(f"failed to read training log {str(path)!r}: {error}") from error
    except (KeyError, TypeError, ValueError) as error:
        raise RFSimError(f"invalid training log {str(path)!r}: {error}") from error


def _read_log_rows(path):
    with open(path, newline="", encoding="utf-8") as file:
        return [{key: int(value) if key == "epoch" else float(value) for key, value in row.items()}
                for row in csv.DictReader(file)]
