"""Convergence speed of training runs: epochs to 95 %, 98 % and 100 % of the final accuracy.

A run's final accuracy is the test accuracy of its best epoch, the epoch with
the lowest validation loss (the latest one on ties), exactly as ``rfsim train``
chooses ``best.npz`` and reports in ``summary.json``. Epoch 0 is the untrained
network. The epochs to a fraction f are the first epoch whose test accuracy
reaches f times the final accuracy (``rfsim.training.loop.epochs_to_fraction``),
so epochs to 100 % is at most the best epoch. Table 2 of Higuchi et al.
(ICML 2024) reports these numbers as mean and standard deviation over seeds;
``convergence_table`` groups runs by settings from their ``config.json``
(the model by default) and does the same.
"""

import csv
import json
import math
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rfsim.errors import RFSimError, RFSimWarning

FRACTIONS = (0.95, 0.98, 1.0)
"""Fractions of the final accuracy that the table reports."""


@dataclass(frozen=True)
class RunConvergence:
    """Convergence of one run.

    Attributes
    ----------
    run : str
        Run folder (or log file) as given.
    group : str
        Group label, from the grouping settings in ``config.json``.
    settings : dict
        The run's training settings from ``config.json`` (empty without one).
    seed : int or None
        The run's seed.
    epochs : int
        Training epochs in the log (its last epoch).
    best_epoch : int
        Epoch of the lowest validation loss.
    final_accuracy : float
        Test accuracy of the best epoch [%].
    final_sop : float
        Test SOP of the best epoch (hidden spikes per sequence).
    epochs_to : dict of float to int or None
        First epoch reaching each fraction of ``final_accuracy``.
    """

    run: str
    group: str
    settings: dict
    seed: int | None
    epochs: int
    best_epoch: int
    final_accuracy: float
    final_sop: float
    epochs_to: dict


@dataclass(frozen=True)
class Statistic:
    """Mean, standard deviation (ddof from ``convergence_table``), min and max of values over runs."""

    mean: float
    std: float
    min: float
    max: float
    count: int


@dataclass(frozen=True)
class GroupConvergence:
    """Convergence of the runs in one group (seeds of one setting).

    Attributes
    ----------
    group : str
        Group label.
    runs : tuple of RunConvergence
    epochs_to : dict of float to Statistic
        Epochs to each fraction over the runs that reached it.
    final_accuracy, final_sop : Statistic
        Final test accuracy [%] and SOP over the runs.
    """

    group: str
    runs: tuple
    epochs_to: dict
    final_accuracy: Statistic
    final_sop: Statistic

    @property
    def seeds(self):
        """Seeds of the runs, in table order."""
        return [run.seed for run in self.runs]


@dataclass(frozen=True)
class ConvergenceTable:
    """Per-run and per-group convergence.

    Attributes
    ----------
    runs : tuple of RunConvergence
    groups : tuple of GroupConvergence
        In the order their first run appears.
    group_by : tuple of str
        Settings that define the groups.
    ddof : int
        Delta degrees of freedom of the standard deviations (1: sample std).
    """

    runs: tuple
    groups: tuple
    group_by: tuple
    ddof: int


def _read_run(source):
    """Return (log rows, training settings from config.json, label) of a run folder or a log.csv file."""
    from rfsim.training.loop import LOG_COLUMNS, read_log

    path = Path(source)
    log_path = path / "log.csv" if path.is_dir() else path
    if not log_path.is_file():
        raise RFSimError(f"{str(log_path)!r} not found; give a run folder of rfsim train or its log.csv")
    try:
        rows = read_log(log_path)
    except (OSError, ValueError, TypeError) as error:
        raise RFSimError(f"cannot read training log {str(log_path)!r}: {error}") from error
    if not rows:
        raise RFSimError(f"training log {str(log_path)!r} has no epochs")
    missing = [column for column in ("epoch", "valid_loss", "test_accuracy", "test_sop") if column not in rows[0]]
    if missing:
        raise RFSimError(f"training log {str(log_path)!r} lacks the columns {', '.join(missing)} "
                         f"(a log of rfsim train has {', '.join(LOG_COLUMNS)})")
    epochs = [row["epoch"] for row in rows]
    if epochs != list(range(len(rows))):
        raise RFSimError(f"training log {str(log_path)!r} must list epochs 0, 1, 2, ... in order, got {epochs[:6]}")

    folder = log_path.parent
    config = {}
    config_path = folder / "config.json"
    if config_path.is_file():
        try:
            config = json.loads(config_path.read_text(encoding="utf-8")).get("train", {})
        except (OSError, ValueError) as error:
            raise RFSimError(f"cannot read {str(config_path)!r}: {error}") from error
    return rows, config, str(source)


def run_convergence(source, group_by=("model",)):
    """Measure the convergence of one run from its ``log.csv`` (module docstring).

    Parameters
    ----------
    source : str or Path
        Run folder of ``rfsim train`` or its ``log.csv``; the ``config.json`` beside
        the log supplies the settings and the seed.
    group_by : sequence of str
        Training settings (keys of ``config.json``'s ``train`` entry) that label the group.

    Returns
    -------
    RunConvergence
    """
    from rfsim.training.loop import epochs_to_fraction

    rows, config, label = _read_run(source)
    valid_loss = np.array([row["valid_loss"] for row in rows])
    if np.all(np.isnan(valid_loss)):
        raise RFSimError(f"training log of {label!r} has no finite validation loss")
    # Lowest validation loss, the latest epoch on ties (as the training loop keeps best.npz).
    finite = np.where(np.isnan(valid_loss), np.inf, valid_loss)
    best_epoch = int(np.flatnonzero(finite == finite.min())[-1])

    accuracies = [row["test_accuracy"] for row in rows]
    final = accuracies[best_epoch]
    group = _group_label(config, group_by, label)
    return RunConvergence(
        run=label, group=group, settings=config, seed=config.get("seed"), epochs=rows[-1]["epoch"],
        best_epoch=best_epoch, final_accuracy=float(final), final_sop=float(rows[best_epoch]["test_sop"]),
        epochs_to={fraction: epochs_to_fraction(accuracies, final, fraction) for fraction in FRACTIONS},
    )


def _group_label(config, group_by, label):
    if not group_by:
        return label
    if not config:
        return "unknown (no config.json)"
    unknown = [key for key in group_by if key not in config]
    if unknown:
        raise RFSimError(f"cannot group by {', '.join(unknown)}: the run {label!r} has no such setting; "
                         f"choose from {', '.join(sorted(config))}")
    return " ".join(f"{key}={config[key]}" for key in group_by)


def _statistic(values, ddof):
    values = np.asarray([value for value in values if value is not None], dtype=float)
    if values.size == 0:
        return Statistic(mean=math.nan, std=math.nan, min=math.nan, max=math.nan, count=0)
    std = float(np.std(values, ddof=ddof)) if values.size > ddof else math.nan
    return Statistic(mean=float(values.mean()), std=std, min=float(values.min()), max=float(values.max()),
                     count=int(values.size))


def convergence_table(sources, group_by=("model",), ddof=1):
    """Measure the convergence of several runs, per run and per group of seeds.

    Parameters
    ----------
    sources : sequence of str or Path
        Run folders of ``rfsim train`` or their ``log.csv`` files.
    group_by : sequence of str
        Settings of ``config.json`` that define a group (the model by default);
        an empty sequence puts each run in a group of its own.
    ddof : int
        Delta degrees of freedom of the standard deviation: 1 (default) gives the
        sample standard deviation over seeds, 0 the population one. A group with
        at most ``ddof`` runs has a NaN standard deviation.

    Returns
    -------
    ConvergenceTable

    Warns
    -----
    RFSimWarning
        For a run without a trained epoch (its log holds only the untrained
        network, for example after a NaN stop) and for a group whose runs were
        trained on different tasks.
    """
    sources = list(sources)
    if not sources:
        raise RFSimError("give at least one run folder or log.csv file")
    if isinstance(group_by, str):
        group_by = (group_by,)
    if ddof not in (0, 1):
        raise RFSimError(f"ddof must be 0 (population) or 1 (sample standard deviation), got ddof={ddof!r}")
    runs = tuple(run_convergence(source, group_by) for source in sources)

    members = {}
    for run in runs:
        members.setdefault(run.group, []).append(run)
        if run.epochs == 0:
            warnings.warn(f"run {run.run!r} has no trained epoch; its values are those of the untrained network",
                          RFSimWarning, stacklevel=2)
    for name, items in members.items():
        tasks = sorted({str(run.settings.get("task")) for run in items if run.settings})
        if len(tasks) > 1 and "task" not in group_by:
            warnings.warn(f"group {name!r} mixes runs of the tasks {', '.join(tasks)}; add --group-by task "
                          "(group_by=('task', ...)) to separate them", RFSimWarning, stacklevel=2)
    groups = tuple(
        GroupConvergence(
            group=name, runs=tuple(items),
            epochs_to={fraction: _statistic([run.epochs_to[fraction] for run in items], ddof)
                       for fraction in FRACTIONS},
            final_accuracy=_statistic([run.final_accuracy for run in items], ddof),
            final_sop=_statistic([run.final_sop for run in items], ddof),
        )
        for name, items in members.items()
    )
    return ConvergenceTable(runs=runs, groups=groups, group_by=tuple(group_by), ddof=ddof)


def _mean_std(statistic, digits):
    if statistic.count == 0:
        return "n/a"
    if math.isnan(statistic.std):
        return f"{statistic.mean:.{digits}f}"
    return f"{statistic.mean:.{digits}f} ± {statistic.std:.{digits}f}"


def _epoch_text(value):
    return "never" if value is None else str(value)


def format_convergence_markdown(table):
    """Return the per-group and per-run tables as GitHub-flavoured markdown text."""
    std_name = "sample std" if table.ddof == 1 else "population std"
    lines = [
        f"Convergence per group (mean ± {std_name} over runs; min-max in brackets). Final accuracy: test accuracy "
        "of the epoch with the lowest validation loss; epochs to X %: first epoch whose test accuracy reaches "
        "X % of the final accuracy (epoch 0 is the untrained network).",
        "",
        "| group | runs | seeds | epochs to 95 % | epochs to 98 % | epochs to 100 % | final accuracy [%] | "
        "SOP [spikes/sequence] |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for group in table.groups:
        epoch_cells = []
        for fraction in FRACTIONS:
            statistic = group.epochs_to[fraction]
            cell = _mean_std(statistic, 1)
            if statistic.count:
                cell += f" [{statistic.min:.0f}-{statistic.max:.0f}]"
            if statistic.count < len(group.runs):
                cell += f" ({len(group.runs) - statistic.count} never)"
            epoch_cells.append(cell)
        seeds = ", ".join("?" if seed is None else str(seed) for seed in group.seeds)
        lines.append(f"| {group.group} | {len(group.runs)} | {seeds} | {' | '.join(epoch_cells)} | "
                     f"{_mean_std(group.final_accuracy, 2)} | {_mean_std(group.final_sop, 1)} |")

    lines += [
        "",
        "Per run:",
        "",
        "| run | group | seed | epochs | best epoch | epochs to 95 % | epochs to 98 % | epochs to 100 % | "
        "final accuracy [%] | SOP |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for run in table.runs:
        reached = " | ".join(_epoch_text(run.epochs_to[fraction]) for fraction in FRACTIONS)
        lines.append(f"| {run.run} | {run.group} | {'?' if run.seed is None else run.seed} | {run.epochs} | "
                     f"{run.best_epoch} | {reached} | {run.final_accuracy:.2f} | {run.final_sop:.1f} |")
    return "\n".join(lines)


def save_convergence(table, path):
    """Write the table to a ``.csv`` file (one row per run, then one per group) or a ``.json`` file.

    Raises
    ------
    RFSimError
        For another suffix or a file that cannot be written.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".json"):
        raise RFSimError(f"output file must end in .csv or .json, got {str(path)!r}")
    try:
        if suffix == ".json":
            path.write_text(json.dumps(_table_dict(table), indent=2) + "\n", encoding="utf-8")
        else:
            _write_csv(table, path)
    except OSError as error:
        raise RFSimError(f"failed to write {str(path)!r}: {error}") from error


def _statistic_dict(statistic):
    return {name: (None if isinstance(value, float) and math.isnan(value) else value)
            for name, value in statistic.__dict__.items()}


def _table_dict(table):
    return {
        "group_by": list(table.group_by),
        "ddof": table.ddof,
        "runs": [{
            "run": run.run, "group": run.group, "seed": run.seed, "epochs": run.epochs, "best_epoch": run.best_epoch,
            "final_accuracy": run.final_accuracy, "final_sop": run.final_sop,
            **{f"epochs_to_{round(100 * fraction)}": run.epochs_to[fraction] for fraction in FRACTIONS},
        } for run in table.runs],
        "groups": [{
            "group": group.group, "runs": [run.run for run in group.runs], "seeds": group.seeds,
            "final_accuracy": _statistic_dict(group.final_accuracy), "final_sop": _statistic_dict(group.final_sop),
            **{f"epochs_to_{round(100 * fraction)}": _statistic_dict(group.epochs_to[fraction])
               for fraction in FRACTIONS},
        } for group in table.groups],
    }


def _write_csv(table, path):
    measures = [f"epochs_to_{round(100 * fraction)}" for fraction in FRACTIONS] + ["final_accuracy", "final_sop"]
    header = ["row", "group", "run", "seed", "n_runs", "best_epoch"]
    for measure in measures:
        header += [measure, f"{measure}_std", f"{measure}_min", f"{measure}_max"]
    with open(path, "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(header)
        for run in table.runs:
            values = [run.epochs_to[fraction] for fraction in FRACTIONS] + [run.final_accuracy, run.final_sop]
            row = ["run", run.group, run.run, run.seed, 1, run.best_epoch]
            for value in values:
                row += ["" if value is None else value, "", "", ""]
            writer.writerow(row)
        for group in table.groups:
            statistics = [group.epochs_to[fraction] for fraction in FRACTIONS] + [group.final_accuracy,
                                                                                  group.final_sop]
            row = ["group", group.group, "", "", len(group.runs), ""]
            for statistic in statistics:
                row += ["" if math.isnan(value) else repr(value)
                        for value in (statistic.mean, statistic.std, statistic.min, statistic.max)]
            writer.writerow(row)
