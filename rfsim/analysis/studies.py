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
``RFSimError`` rather than being mixed into the table. ``load_study`` reads a finished
study folder back into its table without ever starting a training.
"""

import csv
import io
import json
import math
import re
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

_IGNORED_SETTINGS = {"data_dir", "eval_batch_size"}
"""Settings that may differ between the runs of one study because they do not change the results."""


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
    different = sorted(key for key in expected if key not in _IGNORED_SETTINGS
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


# --- reading a finished study ------------------------------------------------------------

_ABLATION_FOLDER = re.compile(r"^(?P<variant>.+)-seed(?P<seed>\d+)$")
"""Name of an ablation run folder: ``<variant>-seed<seed>``."""

_SUMMARY_KEYS = ("best_epoch", "epochs_done", "test_accuracy", "test_loss", "wall_seconds")
"""Entries of a run's ``summary.json`` that a study table reads."""

_PRUNING_FOLDER = re.compile(r"^p[0-9.e+-]+-seed\d+$")
"""Name of a pruning run folder: ``p<p>-seed<seed>``, p written with ``:g``."""


def load_study(out_dir, study, settings=None, seeds=None, *, data_dir=None):
    """Read a finished pruning or ablation study folder back into its ``StudyTable``, without training.

    The task, the model and the settings shared by all runs (the study's overrides)
    are recovered from the runs' ``config.json``, and the table is built as
    ``pruning_study`` or ``ablation_study`` builds it.

    Parameters
    ----------
    out_dir : str or Path
        Folder of ``pruning_study`` or ``ablation_study`` (``rfsim study ... --out``).
    study : {'pruning', 'ablation'}
        Kind of study the folder must contain.
    settings : sequence, optional
        Pruning probabilities or ablation variants to include, in this order (default:
        every one found, probabilities ascending and variants in the order of
        ``ABLATION_VARIANTS``).
    seeds : sequence of int, optional
        Seeds to include (default: every one found).
    data_dir : str or Path, optional
        Dataset folder, used only to measure a run's sparsity again when its cache is stale.

    Returns
    -------
    StudyTable

    Raises
    ------
    RFSimError
        If the folder contains no run, runs of different tasks, models or shared
        settings, or a run folder named otherwise than its settings, or if a requested
        (setting, seed) run is missing or unfinished. Unfinished runs outside the
        requested settings and seeds are allowed, so a study still in training can
        be drawn in part.
    """
    if study not in ("pruning", "ablation"):
        raise RFSimError(f"study must be 'pruning' or 'ablation', got {study!r}")
    runs = _run_folders(out_dir)
    task, model, overrides = _shared_settings(runs)
    if data_dir is not None:
        overrides["data_dir"] = str(data_dir)

    _check_study_kind(runs, study, out_dir)
    if study == "pruning":
        found = _pruning_runs(runs)
        settings = sorted({p for p, _ in found}) if settings is None else list(check_probabilities(settings))
    else:
        if model != "brf":
            raise RFSimError(f"the study in {str(out_dir)!r} trained {model} networks; an ablation study trains brf")
        found = _ablation_runs(runs)
        if settings is None:
            settings = [name for name in ABLATION_VARIANTS if any(variant == name for variant, _ in found)]
        settings = list(check_variants([settings] if isinstance(settings, str) else settings))
    seeds = sorted({seed for _, seed in found}) if seeds is None else list(_check_seeds(seeds))

    missing = [_run_folder_name(study, setting, seed) for setting in settings for seed in seeds
               if (setting, seed) not in found]
    if missing:
        raise RFSimError(f"the study lacks the runs {', '.join(missing)}; a table needs every setting with every "
                         "seed, so finish them with rfsim study or choose settings and seeds that all exist")
    for setting in settings:
        for seed in seeds:
            _check_finished(found[(setting, seed)])
    if study == "pruning":
        return pruning_study(task, model, settings, seeds, out_dir, overrides, callback=_reject_training)
    return ablation_study(task, settings, seeds, out_dir, overrides, callback=_reject_training)


def _run_folder_name(study, setting, seed):
    name = f"{setting:g}" if study == "pruning" else setting
    return f"{_folder_prefix(study, name)}-seed{seed}"


def _run_folders(out_dir):
    """Return ``(folder, training settings)`` of each run folder in ``out_dir`` (one with a ``config.json``), sorted."""
    out_dir = Path(out_dir)
    if not out_dir.is_dir():
        raise RFSimError(f"study folder {str(out_dir)!r} not found; give the --out folder of rfsim study")
    runs = []
    for folder in sorted(out_dir.iterdir()):
        if not (folder / "config.json").is_file():
            continue
        settings = _read_json(folder / "config.json").get("train", {})
        missing = [name for name in ("task", "model", "seed") if name not in settings]
        if missing:
            raise RFSimError(f"run {str(folder)!r} lacks {', '.join(missing)} in its config.json, so rfsim train did "
                             "not write it as it is; move it out of the study folder")
        runs.append((folder, settings))
    if not runs:
        raise RFSimError(f"study folder {str(out_dir)!r} contains no run folder (none has a config.json); give the "
                         "--out folder of rfsim study")
    return runs


def _check_finished(folder):
    """Raise unless the run in ``folder`` completed its training and has the files a study table reads."""
    summary_path = folder / "summary.json"
    summary = _read_json(summary_path) if summary_path.is_file() else {"status": "missing summary.json"}
    status = summary.get("status")
    if status == "diverged":
        raise RFSimError(f"run {str(folder)!r} diverged (its loss or a parameter became NaN or inf); train it again "
                         "with other settings, such as a lower learning rate, or move it out of the folder")
    if status != "completed":
        raise RFSimError(f"run {str(folder)!r} is not finished (status: {status}); finish the study by running the "
                         "same rfsim study command again, leave that setting or seed out, or move the run out of "
                         "the folder")
    missing = [f"{name} in summary.json" for name in _SUMMARY_KEYS if name not in summary]
    missing += [file for file in ("best.npz", "best.json") if not (folder / file).is_file()]
    if missing:
        raise RFSimError(f"run {str(folder)!r} lacks {', '.join(missing)}, so rfsim train did not write it as it "
                         "is; move it out of the study folder")


def _shared_settings(runs):
    """Return the task, the model and the training settings that all runs share (the study's overrides).

    A setting missing from a run's ``config.json`` (a run saved before the setting
    existed) counts as its ``TrainConfig`` default, as ``pruning_study`` counts it.
    """
    from rfsim.training.presets import TrainConfig

    defaults = TrainConfig().to_dict()
    keys = sorted({key for _, settings in runs for key in settings} - _RESERVED - _IGNORED_SETTINGS)
    first_folder, first = runs[0]
    for folder, settings in runs[1:]:
        for key in ("task", "model", *keys):
            value, first_value = settings.get(key, defaults.get(key)), first.get(key, defaults.get(key))
            if value != first_value:
                raise RFSimError(f"runs {first_folder.name} and {folder.name} differ in {key} ({first_value!r} and "
                                 f"{value!r}), so they belong to different studies; keep one study per folder")
    shared = {key: first.get(key, defaults.get(key)) for key in keys}
    if first.get("data_dir") is not None:
        shared["data_dir"] = first["data_dir"]
    return first["task"], first["model"], shared


def _check_study_kind(runs, study, out_dir):
    """Raise if every run folder is named as the runs of the other kind of study."""
    names = [folder.name for folder, _ in runs]
    if study == "pruning" and all(_ablation_variant(name) in ABLATION_VARIANTS for name in names):
        raise RFSimError(f"the folder {str(out_dir)!r} contains an ablation study, not a pruning study; read it "
                         "with study='ablation' (figures/ablation.py draws it)")
    if study == "ablation" and all(_PRUNING_FOLDER.match(name) for name in names):
        raise RFSimError(f"the folder {str(out_dir)!r} contains a pruning study, not an ablation study; read it "
                         "with study='pruning' (figures/pruning.py draws it)")


def _ablation_variant(folder_name):
    """Return the variant part of an ablation run folder's name, or None if the name has another form."""
    match = _ABLATION_FOLDER.match(folder_name)
    return match["variant"] if match else None


def _pruning_runs(runs):
    """Map (p, seed) to the run folder of a pruning study, checking each folder's name against its settings."""
    found = {}
    for folder, settings in runs:
        key = (float(settings.get("pruning", 0.0)), int(settings["seed"]))
        if folder.name != _run_folder_name("pruning", *key):
            raise RFSimError(f"run folder {folder.name} has pruning={key[0]:g}, seed={key[1]} in its config.json; "
                             "a pruning study names it p<p>-seed<seed>, so it is not part of one")
        found[key] = folder
    return found


def _ablation_runs(runs):
    """Map (variant, seed) to the run folder of an ablation study, checking each folder's name against its settings."""
    found = {}
    for folder, settings in runs:
        match = _ABLATION_FOLDER.match(folder.name)
        variant = match["variant"] if match else None
        if variant not in ABLATION_VARIANTS or int(match["seed"]) != int(settings["seed"]):
            raise RFSimError(f"run folder {folder.name} is not named <variant>-seed<seed> after its config.json "
                             f"(seed {settings['seed']}), with a variant from {', '.join(ABLATION_VARIANTS)}")
        switches = tuple(settings.get(field, True) for field in ABLATION_FIELDS)
        if switches != ABLATION_VARIANTS[variant]:
            raise RFSimError(f"run folder {folder.name} has the switches {dict(zip(ABLATION_FIELDS, switches))} "
                             f"in its config.json, which are not those of the variant {variant!r}")
        found[(variant, int(settings["seed"]))] = folder
    return found


def _reject_training(event, info):
    """Study callback that stops ``load_study`` before any run would start training."""
    if event == "run_start":
        raise RFSimError(f"run {info['run_dir']} would be trained; load_study only reads finished studies")


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
