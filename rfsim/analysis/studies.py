"""Training studies: accuracy and sparsity against recurrent pruning, and the BRF mechanism ablation.

A study trains one run per setting and seed, each in its own folder below ``out_dir``.
It tabulates the best checkpoint of every run, the one of the lowest validation loss:
test loss, test accuracy [%], SOP (hidden spikes per test sequence) and synaptic
operations per test sequence. Synaptic operations count each hidden spike times its
fan-out, the non-zero recurrent weights after the pruning mask plus the non-zero
readout weights (``rfsim.analysis.sparsity``).

* Pruning (``pruning_study``): ``TrainConfig.pruning`` = p, the probability that each
  recurrent weight is removed by the fixed mask drawn from the run's seed before
  training. p = 0 is the unpruned network. Folders ``p<p>-seed<seed>``.
* BRF mechanism ablation (``ablation_study``), with the variants of
  ``rfsim.neurons.brf.ABLATIONS`` (BRF damping b_t = p(omega) - b' - q_{t-1},
  threshold theta + q_{t-1}):

  ==================  ==========================  ===========================  ==========================
  variant             divergence boundary p(w)    refractory period (q in      smooth reset (q in the
                                                  the threshold)               damping)
  ==================  ==========================  ===========================  ==========================
  all                 yes                         yes                          yes
  no-boundary         no: p(omega) replaced by 0  yes                          yes
  refractory-only     no                          yes                          no
  smooth-reset-only   no                          no                           yes
  none                no                          no                           no (plain RF, no reset)
  ==================  ==========================  ===========================  ==========================

  Folders ``<variant>-seed<seed>``. Every variant trains the ``brf`` model with the
  ``TrainConfig`` switches ``brf_boundary``, ``brf_refractory`` and ``brf_smooth_reset``.

Studies are resumable: a run whose ``summary.json`` reports a completed training is
read back instead of trained again, an interrupted run (``state.json`` without
``summary.json``) is resumed, and the sparsity of a finished run is cached in its
``study_sparsity.json``. A folder that contains a run with other settings raises
``RFSimError`` rather than being mixed into the table.
"""

import csv
import io
import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rfsim.errors import RFSimError

ABLATION_VARIANTS = {
    "all": (True, True, True),
    "no-boundary": (False, True, True),
    "refractory-only": (False, True, False),
    "smooth-reset-only": (False, False, True),
    "none": (False, False, False),
}
"""Switches (brf_boundary, brf_refractory, brf_smooth_reset) of each ablation variant (module docstring)."""

ABLATION_FIELDS = ("brf_boundary", "brf_refractory", "brf_smooth_reset")
"""``TrainConfig`` fields that the ablation variants set."""

SPARSITY_FILE = "study_sparsity.json"
"""File in each run folder that caches the sparsity of its best checkpoint."""

_RESERVED = {"pruning", "seed", "task", "model", *ABLATION_FIELDS}


@dataclass(frozen=True)
class StudyRun:
    """Outcome of one run of a study.

    Attributes
    ----------
    setting : str
        Pruning probability (as text, such as ``'0.25'``) or ablation variant.
    value : float
        Pruning probability p, or the variant's index in the study for an ablation.
    seed : int
        Seed of the run.
    run_dir : pathlib.Path
        Run folder.
    status : str
        ``'trained'`` (by this call), ``'resumed'`` (continued from an interrupted
        run) or ``'finished'`` (read back from an earlier call).
    best_epoch, epochs_done : int
        Epoch of the best checkpoint and training epochs finished.
    test_accuracy, test_loss : float
        Test accuracy [%] and loss of the best checkpoint.
    sop : float
        Hidden spikes per test sequence of the best checkpoint.
    sop_per_step : float
        SOP / T.
    synaptic_ops : float
        Hidden spikes times their fan-out, per test sequence.
    recurrent_weights : int
        Recurrent weights that the pruning mask keeps (H^2 without pruning).
    wall_seconds : float
        Training wall time recorded in the run's summary [s].
    """

    setting: str
    value: float
    seed: int
    run_dir: Path
    status: str
    best_epoch: int
    epochs_done: int
    test_accuracy: float
    test_loss: float
    sop: float
    sop_per_step: float
    synaptic_ops: float
    recurrent_weights: int
    wall_seconds: float

    def to_dict(self):
        """Return the run as a JSON-ready dict."""
        values = dict(self.__dict__)
        values["run_dir"] = str(self.run_dir)
        return values


METRICS = ("test_accuracy", "test_loss", "sop", "sop_per_step", "synaptic_ops", "recurrent_weights")
"""Columns of a study table that are averaged over seeds."""


@dataclass(frozen=True)
class StudyTable:
    """All runs of a study, one per setting and seed.

    Attributes
    ----------
    study : str
        ``'pruning'`` or ``'ablation'``.
    task, model : str
        Task and hidden neuron model.
    settings : tuple of str
        The settings in the order given.
    values : tuple of float
        Pruning probability of each setting (ablation: its index).
    seeds : tuple of int
    runs : tuple of StudyRun
        In the order setting-major, seed-minor.
    out_dir : pathlib.Path
        Folder that contains the run folders.
    """

    study: str
    task: str
    model: str
    settings: tuple
    values: tuple
    seeds: tuple
    runs: tuple
    out_dir: Path

    def runs_of(self, setting):
        """Return the runs of one setting, in seed order."""
        return [run for run in self.runs if run.setting == setting]

    def summary(self, metric):
        """Return (mean, std) over seeds of a metric for every setting, each of shape (S,).

        The std is the sample standard deviation (ddof 1), 0 for a single seed.
        """
        means, stds = [], []
        for setting in self.settings:
            values = np.array([getattr(run, metric) for run in self.runs_of(setting)], dtype=float)
            means.append(values.mean())
            stds.append(values.std(ddof=1) if values.size > 1 else 0.0)
        return np.array(means), np.array(stds)

    def lines(self):
        """Return a Markdown table: one row per setting with mean +- std over the seeds."""
        label = "pruning p" if self.study == "pruning" else "BRF variant"
        n_seeds = len(self.seeds)
        spread = "mean +- std (ddof 1) over seeds" if n_seeds > 1 else "one seed, so no std is given"
        lines = [f"{self.study} study: {self.model} on {self.task}, {n_seeds} seed(s) "
                 f"({', '.join(str(seed) for seed in self.seeds)}), best checkpoint (lowest validation loss) "
                 f"of each run on the test split, {spread}",
                 "SOP = hidden spikes per test sequence; synaptic ops = hidden spikes times their fan-out "
                 "(non-zero recurrent weights after the mask + non-zero readout weights) per test sequence",
                 "",
                 f"| {label} | test accuracy [%] | test loss | SOP | synaptic ops | recurrent weights |",
                 "|---|---|---|---|---|---|"]
        columns = [self.summary(metric) for metric in METRICS if metric != "sop_per_step"]
        for index, setting in enumerate(self.settings):
            cells = [setting]
            for (means, stds), digits in zip(columns, (".2f", ".4g", ".5g", ".5g", ".5g")):
                cell = f"{means[index]:{digits}}"
                if n_seeds > 1:
                    cell += f" +- {stds[index]:{digits}}"
                cells.append(cell)
            lines.append("| " + " | ".join(cells) + " |")
        return lines


# --- running a study ---------------------------------------------------------------------


def ablation_settings(variant):
    """Return the ``TrainConfig`` switches of an ablation variant, or an empty dict for None."""
    if variant is None:
        return {}
    check_variants([variant])
    return dict(zip(ABLATION_FIELDS, ABLATION_VARIANTS[variant]))


def _check_seeds(seeds):
    seeds = list(np.atleast_1d(seeds)) if np.size(seeds) else []
    if not seeds:
        raise RFSimError("the list of seeds is empty; give at least one seed, such as 0")
    for seed in seeds:
        if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise RFSimError(f"seeds must be non-negative integers, got {seed!r}")
    if len(set(int(seed) for seed in seeds)) != len(seeds):
        raise RFSimError(f"the seeds must differ from each other, got {[int(seed) for seed in seeds]}")
    return tuple(int(seed) for seed in seeds)


def _check_overrides(overrides):
    overrides = dict(overrides or {})
    reserved = sorted(set(overrides) & _RESERVED)
    if reserved:
        raise RFSimError(f"the study sets {', '.join(reserved)} itself; remove them from the overrides")
    return overrides


def check_probabilities(probabilities):
    """Validate pruning probabilities (each in [0, 1), no repeats) and return them as floats."""
    values = [float(p) for p in np.atleast_1d(probabilities)] if np.size(probabilities) else []
    if not values:
        raise RFSimError("the list of pruning probabilities is empty; give at least one, such as 0,0.25,0.5")
    for p in values:
        if not math.isfinite(p) or not 0.0 <= p < 1.0:
            raise RFSimError(f"a pruning probability must lie in [0, 1), got {p!r}; p = 1 would remove every "
                             "recurrent weight")
    if len(set(values)) != len(values):
        raise RFSimError(f"the pruning probabilities must differ from each other, got {values}")
    return tuple(values)


def check_variants(variants):
    """Validate ablation variant names (no repeats) and return them as a tuple."""
    variants = list(variants)
    if not variants:
        raise RFSimError(f"the list of variants is empty; choose from {', '.join(ABLATION_VARIANTS)}")
    for variant in variants:
        if variant not in ABLATION_VARIANTS:
            raise RFSimError(f"unknown BRF ablation variant {variant!r}; choose from {', '.join(ABLATION_VARIANTS)}")
    if len(set(variants)) != len(variants):
        raise RFSimError(f"the variants must differ from each other, got {variants}")
    return tuple(variants)


def pruning_study(task, model, probabilities, seeds, out_dir, overrides=None, *, config_file=None, callback=None,
                  train_callback=None):
    """Train one run per pruning probability and seed and tabulate their best checkpoints.

    Parameters
    ----------
    task, model : str
        Task and hidden neuron model (``rfsim.training.presets``).
    probabilities : sequence of float
        Pruning probabilities p in [0, 1).
    seeds : sequence of int
        Seeds; each (p, seed) pair is one run.
    out_dir : str or Path
        Folder of the study; run folders ``p<p>-seed<seed>`` are created in it.
    overrides : dict, optional
        ``TrainConfig`` settings applied to every run (for example ``epochs``,
        ``n_hidden``, ``data_dir``); ``pruning`` and ``seed`` are set by the study.
    config_file : str or Path, optional
        TOML or JSON file of settings, applied before ``overrides``.
    callback : callable, optional
        Called as ``callback(event, info)`` with event ``'run_start'``, ``'run_done'`` or
        ``'run_skipped'`` and a dict with the setting, seed and run folder.
    train_callback : callable, optional
        Passed to the training loop of each run (see ``rfsim.training.loop.Trainer.run``).

    Returns
    -------
    StudyTable
    """
    probabilities = check_probabilities(probabilities)
    settings = [(f"{p:g}", p, {"pruning": p}) for p in probabilities]
    return _run_study("pruning", task, model, settings, seeds, out_dir, overrides, config_file, callback,
                      train_callback)


def ablation_study(task, variants, seeds, out_dir, overrides=None, *, config_file=None, callback=None,
                   train_callback=None):
    """Train one BRF run per ablation variant and seed and tabulate their best checkpoints.

    Parameters
    ----------
    task : str
    variants : sequence of str
        Names from ``ABLATION_VARIANTS`` (module docstring).
    seeds, out_dir, overrides, config_file, callback, train_callback
        As for ``pruning_study``; run folders are ``<variant>-seed<seed>``.

    Returns
    -------
    StudyTable
    """
    variants = check_variants(variants)
    settings = [(name, float(index), ablation_settings(name)) for index, name in enumerate(variants)]
    return _run_study("ablation", task, "brf", settings, seeds, out_dir, overrides, config_file, callback,
                      train_callback)


def _run_study(study, task, model, settings, seeds, out_dir, overrides, config_file, callback, train_callback):
    from rfsim.training.presets import resolve_config

    seeds = _check_seeds(seeds)
    overrides = _check_overrides(overrides)
    out_dir = Path(out_dir)

    # Resolve every configuration first, so an invalid setting fails before any training.
    plan = []
    for name, value, changes in settings:
        for seed in seeds:
            config = resolve_config(task, model, overrides={**overrides, **changes, "seed": seed},
                                    config_file=config_file)
            plan.append((name, value, seed, config, out_dir / f"{_folder_prefix(study, name)}-seed{seed}"))

    runs = []
    for name, value, seed, config, run_dir in plan:
        runs.append(_run_one(name, value, seed, config, run_dir, callback, train_callback))
    return StudyTable(study=study, task=plan[0][3].task, model=model, settings=tuple(s[0] for s in settings),
                      values=tuple(s[1] for s in settings), seeds=seeds, runs=tuple(runs), out_dir=out_dir)


def _folder_prefix(study, name):
    return f"p{name}" if study == "pruning" else name


def _report(callback, event, **info):
    if callback is not None:
        callback(event, info)


def _run_one(name, value, seed, config, run_dir, callback, train_callback):
    from rfsim.training.loop import Trainer

    info = dict(setting=name, seed=seed, run_dir=run_dir)
    summary_path = run_dir / "summary.json"
    status = "trained"
    if (run_dir / "config.json").exists():
        _check_same_run(run_dir, config)
    if summary_path.exists() and _read_json(summary_path).get("status") == "completed":
        status = "finished"
        _report(callback, "run_skipped", **info)
    else:
        if (run_dir / "state.json").exists():
            status = "resumed"
            trainer = Trainer(None, run_dir, resume=True)
        else:
            trainer = Trainer(config, run_dir)
        _report(callback, "run_start", status=status, **info)
        trainer.run(callback=train_callback)

    summary = _read_json(summary_path)
    sparsity = _best_sparsity(run_dir)
    run = StudyRun(
        setting=name, value=float(value), seed=seed, run_dir=run_dir, status=status,
        best_epoch=int(summary["best_epoch"]), epochs_done=int(summary["epochs_done"]),
        test_accuracy=float(summary["test_accuracy"]), test_loss=float(summary["test_loss"]),
        sop=float(sparsity["sop"]), sop_per_step=float(sparsity["sop_per_step"]),
        synaptic_ops=float(sparsity["synaptic_ops"]), recurrent_weights=int(sparsity["recurrent_weights"]),
        wall_seconds=float(summary["wall_seconds"]),
    )
    if status != "finished":
        _report(callback, "run_done", run=run, **info)
    return run


def _read_json(path):
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise RFSimError(f"cannot read {str(path)!r}: {error}") from error


def _check_same_run(run_dir, config):
    """Raise unless the run saved in ``run_dir`` has the settings of ``config``."""
    from rfsim.training.presets import TrainConfig

    saved = _read_json(run_dir / "config.json").get("train", {})
    expected = config.to_dict()
    # A run saved before a setting existed used its default; the data folder and the
    # evaluation batch size do not change the results.
    defaults = TrainConfig().to_dict()
    ignored = {"data_dir", "eval_batch_size"}
    different = sorted(key for key in expected if key not in ignored
                       and saved.get(key, defaults[key]) != expected[key])
    if different:
        shown = ", ".join(f"{key}: saved {saved.get(key, defaults[key])!r}, study {expected[key]!r}"
                          for key in different)
        raise RFSimError(f"run folder {str(run_dir)!r} contains a run with other settings ({shown}); "
                         "use another --out folder or delete that run")


def _best_sparsity(run_dir):
    """Return the sparsity of a run's best checkpoint, cached in ``SPARSITY_FILE`` beside it."""
    from rfsim.analysis._checkpoints import load_analysis_checkpoint
    from rfsim.analysis.sparsity import sparsity_report
    from rfsim.training.checkpoint import atomic_write_json

    best = run_dir / "best.npz"
    cache = run_dir / SPARSITY_FILE
    stamp = best.stat().st_mtime_ns
    if cache.exists():
        cached = _read_json(cache)
        if cached.get("best_mtime_ns") == stamp:
            return cached

    loaded = load_analysis_checkpoint(best)
    report = sparsity_report(loaded, "test")
    n_hidden = loaded.net_config.n_hidden
    kept = n_hidden * n_hidden if loaded.mask is None else int(np.count_nonzero(loaded.mask))
    values = {"best_mtime_ns": stamp, "sop": report.sop, "sop_per_step": report.sop_per_step,
              "synaptic_ops": report.synaptic_ops, "recurrent_weights": kept,
              "n_sequences": report.n_sequences}
    atomic_write_json(cache, values)
    return values


# --- output files ------------------------------------------------------------------------


def save_study_table(table, path):
    """Write a ``StudyTable`` to a CSV, JSON or Markdown (.md) file, chosen by the suffix.

    CSV: one row per run with the columns of ``StudyRun`` (``run_dir`` last). JSON:
    the study's settings, every run and the mean and std over seeds of each metric
    per setting. Markdown: ``StudyTable.lines()``.
    """
    from rfsim.training.checkpoint import atomic_write_json, atomic_write_text

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".json", ".md"):
        raise RFSimError(f"the study table file must end in .csv, .json or .md, got {str(path)!r}")
    try:
        if suffix == ".md":
            atomic_write_text(path, "\n".join(table.lines()) + "\n")
        elif suffix == ".json":
            summary = {metric: dict(zip(("mean", "std"), (values.tolist() for values in table.summary(metric))))
                       for metric in METRICS}
            atomic_write_json(path, {
                "study": table.study, "task": table.task, "model": table.model, "settings": list(table.settings),
                "values": list(table.values), "seeds": list(table.seeds), "out_dir": str(table.out_dir),
                "runs": [run.to_dict() for run in table.runs], "summary": summary,
            })
        else:
            buffer = io.StringIO()
            columns = [name for name in StudyRun.__dataclass_fields__ if name != "run_dir"] + ["run_dir"]
            writer = csv.writer(buffer, lineterminator="\n")
            writer.writerow(columns)
            for run in table.runs:
                row = run.to_dict()
                writer.writerow([repr(row[name]) if isinstance(row[name], float) else row[name] for name in columns])
            atomic_write_text(path, buffer.getvalue())
    except OSError as error:
        raise RFSimError(f"failed to write the study table {str(path)!r}: {error}") from error
