"""Read the finished runs of a study folder written by ``rfsim study pruning`` or ``rfsim study ablation``.

A study folder contains one run folder per setting and seed: ``p<p>-seed<seed>``
for pruning and ``<variant>-seed<seed>`` for the BRF ablation, each with the
``config.json`` and ``summary.json`` of ``rfsim train``. rfsim's library builds a
``StudyTable`` only through ``pruning_study`` and ``ablation_study``, which read
a finished run back instead of training it again. This module recovers their
arguments (task, model, settings, seeds and the shared training settings) from
the run folders. It checks that every run of the requested grid is finished
before it calls them, so no figure script ever starts a training.
"""

import json
from pathlib import Path

from rfsim.errors import RFSimError

# NOTE: rfsim.analysis.studies has no read-only loader of a study folder; a
# load_study(out_dir) there would replace this module.

PER_RUN_KEYS = ("pruning", "seed", "brf_boundary", "brf_refractory", "brf_smooth_reset", "task", "model")
"""Training settings that a study sets per run; every other setting is shared by all runs."""

IGNORED_KEYS = ("data_dir", "eval_batch_size")
"""Settings that may differ between runs because they do not change the results."""


def add_study_options(parser):
    """Add the --seeds and --data-dir options that every study figure takes."""
    from _common import number_list

    parser.add_argument("--seeds", type=number_list(int), default=None, metavar="LIST",
                        help="comma-separated seeds to average over (default: all in the folder)")
    parser.add_argument("--data-dir", default=None, metavar="DIR",
                        help="folder with local dataset files, needed only when a run's cached sparsity is "
                             "missing (overrides RFSIM_DATA_DIR)")


def _read_json(path):
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise RFSimError(f"cannot read {str(path)!r}: {error}") from error


def read_runs(study_dir):
    """Return ``(folder, training settings)`` of every run folder in ``study_dir``, sorted by folder name.

    Raises
    ------
    RFSimError
        If the folder does not exist, contains no run, or contains a run whose
        ``summary.json`` does not report a completed training.
    """
    study_dir = Path(study_dir)
    if not study_dir.is_dir():
        raise RFSimError(f"study folder {str(study_dir)!r} not found; give the --out folder of rfsim study")
    runs = []
    for folder in sorted(study_dir.iterdir()):
        if not (folder / "config.json").is_file():
            continue
        summary_path = folder / "summary.json"
        status = _read_json(summary_path).get("status") if summary_path.is_file() else "missing summary.json"
        if status != "completed":
            raise RFSimError(f"run {str(folder)!r} is not finished (status: {status}); finish the study by running "
                             "the same rfsim study command again, or move that run out of the folder")
        runs.append((folder, _read_json(folder / "config.json").get("train", {})))
    if not runs:
        raise RFSimError(f"study folder {str(study_dir)!r} contains no run folder (none has a config.json); give the "
                         "--out folder of rfsim study")
    return runs


def shared_settings(runs):
    """Return the task, the model and the training settings shared by all runs (the study's overrides).

    Raises
    ------
    RFSimError
        If two runs differ in the task, the model or a shared setting.
    """
    first_folder, first = runs[0]
    shared = {key: value for key, value in first.items() if key not in PER_RUN_KEYS and key not in IGNORED_KEYS}
    for folder, settings in runs[1:]:
        for key in ("task", "model", *shared):
            if settings.get(key) != first.get(key):
                raise RFSimError(f"runs {first_folder.name} and {folder.name} differ in {key} "
                                 f"({first.get(key)!r} and {settings.get(key)!r}), so they belong to different "
                                 "studies; keep one study per folder")
    if first.get("data_dir") is not None:
        shared["data_dir"] = first["data_dir"]
    return first["task"], first["model"], shared


def check_complete(found, settings, seeds, name_of):
    """Raise unless every (setting, seed) pair has a run folder; ``found`` maps pairs to folders."""
    missing = [name_of(setting, seed) for setting in settings for seed in seeds if (setting, seed) not in found]
    if missing:
        raise RFSimError(f"the study lacks the runs {', '.join(missing)}; the figure needs every setting with every "
                         "seed, so finish them with rfsim study or choose settings and seeds that all exist "
                         "(--seeds and the setting option)")


def epochs_text(table):
    """Describe the training length of a table's runs, such as ``5 epochs per run``."""
    epochs = sorted({run.epochs_done for run in table.runs})
    if len(epochs) == 1:
        return f"{epochs[0]} epochs per run"
    return f"{epochs[0]} to {epochs[-1]} epochs per run"


def reject_training(event, info):
    """Study callback that stops the study before any run would start training."""
    if event == "run_start":
        raise RFSimError(f"run {info['run_dir']} would be trained; the figure scripts only read finished studies")
