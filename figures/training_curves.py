"""Training curves of several runs: accuracy and loss against the epoch, mean +- std over seeds.

Regenerates the paper's convergence comparison of BRF, RF and ALIF networks on
ECG (Higuchi, Kairat, Bohte and Otte, "Balanced Resonate-and-Fire Neurons",
ICML 2024). Each RUN is a run folder of ``rfsim train`` or its ``log.csv``.
Runs are grouped by settings of their ``config.json``, the model by default, as
``rfsim convergence`` groups them (``rfsim.analysis.convergence``). Each group
is drawn as the mean over its runs with a band of one sample standard deviation
(ddof 1; no band for a single run). Epoch 0 is the untrained network. A group's
curve ends at the last epoch that all of its runs have reached, so runs still
in training shorten it.

Dotted vertical lines mark, per group, the mean epoch at which the test accuracy
first reaches 95 % of the final accuracy (``--mark``). The final accuracy is
the test accuracy of the epoch with the lowest validation loss, the checkpoint
that ``rfsim train`` keeps as best.npz.

Example::

    python figures/training_curves.py --out ecg_curves.png runs/ecg-brf-seed* runs/ecg-rf-seed* runs/ecg-alif-seed*
"""

import sys

import numpy as np
from matplotlib.figure import Figure

from _common import make_parser, number_list, run_main, write_figure

SPLITS = ("test", "valid", "train")
"""Splits whose columns the training log contains."""


def parse_args(argv=None):
    parser = make_parser(__doc__)
    parser.add_argument("runs", nargs="+", metavar="RUN", help="run folders of rfsim train or their log.csv files")
    parser.add_argument("--group-by", type=lambda text: tuple(item.strip() for item in text.split(",")
                                                              if item.strip()),
                        default=("model",), metavar="LIST",
                        help="comma-separated config.json settings that group runs; runs that differ only in "
                             "their seed form one group (default model)")
    parser.add_argument("--split", choices=SPLITS, default="test",
                        help="split whose accuracy and loss to draw (default test; train has no epoch 0)")
    parser.add_argument("--mark", type=number_list(), default=[0.95], metavar="LIST",
                        help="fractions of the final test accuracy whose first epoch is marked, from 0.95, 0.98 "
                             "and 1 (default 0.95)")
    parser.add_argument("--no-marks", dest="mark", action="store_const", const=[],
                        help="draw no epoch marks")
    parser.add_argument("--sop", action="store_true",
                        help="add a panel of the test SOP (hidden spikes per test sequence)")
    parser.add_argument("--log-loss", action="store_true", help="draw the loss on a logarithmic axis")
    parser.add_argument("--max-epoch", type=int, default=None, help="last epoch drawn (default: all)")
    args = parser.parse_args(argv)

    from rfsim.analysis.convergence import FRACTIONS

    unknown = [value for value in args.mark if value not in FRACTIONS]
    if unknown:
        parser.error(f"--mark takes fractions from {', '.join(f'{value:g}' for value in FRACTIONS)}, "
                     f"got {', '.join(f'{value:g}' for value in unknown)}")
    if args.max_epoch is not None and args.max_epoch < 1:
        parser.error(f"--max-epoch must be at least 1, got {args.max_epoch}")
    return args


def read_log(source):
    """Return the columns of a run's ``log.csv`` as float arrays, keyed by column name."""
    from rfsim.errors import RFSimError
    from rfsim.training.loop import read_log as read_rows

    rows = read_rows(source)
    if not rows:
        raise RFSimError(f"training log {str(source)!r} has no epochs")
    return {name: np.array([float(row[name]) for row in rows]) for name in rows[0]}


def group_label(group, group_by):
    """Return the legend name of a group: the model in capitals when runs are grouped by model alone."""
    if tuple(group_by) == ("model",) and group.runs[0].settings:
        return group.runs[0].settings["model"].upper()
    return group.group


def collect_curves(runs, group_by):
    """Group the runs and read their logs; return the ``ConvergenceTable`` and one dict of (R, E) arrays per group.

    E is the number of epochs that every run of the group has logged (epoch 0 included).
    """
    from rfsim.analysis.convergence import convergence_table

    table = convergence_table(runs, group_by=group_by)
    curves = []
    for group in table.groups:
        logs = [read_log(run.run) for run in group.runs]
        n_epochs = min(log["epoch"].size for log in logs)
        curves.append({name: np.stack([log[name][:n_epochs] for log in logs]) for name in logs[0]})
    return table, curves


def _draw_band(axes, epochs, values, color, label):
    """Draw the mean over runs with a band of one sample standard deviation."""
    mean = np.mean(values, axis=0)
    axes.plot(epochs, mean, color=color, linewidth=1.4, label=label)
    if values.shape[0] > 1:
        std = np.std(values, axis=0, ddof=1)
        axes.fill_between(epochs, mean - std, mean + std, color=color, alpha=0.2, linewidth=0)


def build_figure(table, curves, split="test", marks=(0.95,), with_sop=False, log_loss=False, max_epoch=None):
    """Build the figure: accuracy, loss and optionally SOP against the epoch, one colour per group."""
    panels = [("accuracy", f"{split} accuracy [%]"), ("loss", f"{split} loss (NLL per scored step)")]
    if with_sop:
        panels.append(("sop", "test SOP [hidden spikes per sequence]"))
    figure = Figure(figsize=(5.2 * len(panels) + 0.4, 4.4), layout="constrained")
    axes_row = figure.subplots(1, len(panels), sharex=True)

    for index, (group, curve) in enumerate(zip(table.groups, curves)):
        color = f"C{index % 10}"
        epochs = curve["epoch"][0]
        n_runs = curve["epoch"].shape[0]
        label = f"{group_label(group, table.group_by)} ({n_runs} run{'s' if n_runs > 1 else ''}, " \
                f"epochs 0-{int(epochs[-1])})"
        columns = {"accuracy": f"{split}_accuracy", "loss": f"{split}_loss", "sop": "test_sop"}
        for axes, (metric, _) in zip(axes_row, panels):
            _draw_band(axes, epochs, curve[columns[metric]], color, label)
        for fraction in marks:
            statistic = group.epochs_to[fraction]
            if statistic.count:
                axes_row[0].axvline(statistic.mean, color=color, linestyle=":", linewidth=1.0)

    for axes, (_, ylabel) in zip(axes_row, panels):
        axes.set_xlabel("epoch")
        axes.set_ylabel(ylabel)
        if max_epoch is not None:
            axes.set_xlim(0, max_epoch)
    if log_loss:
        axes_row[1].set_yscale("log")
    axes_row[0].legend(loc="lower right", fontsize="small")
    if marks:
        fractions = ", ".join(f"{100 * fraction:g} %" for fraction in marks)
        axes_row[0].set_title(f"dotted: mean first epoch at {fractions} of the final test accuracy",
                              fontsize="small")
    figure.suptitle("Training curves: mean +- std (ddof 1) over the runs of each group")
    return figure


def _main(argv):
    from rfsim.analysis.convergence import format_convergence_markdown

    args = parse_args(argv)
    table, curves = collect_curves(args.runs, args.group_by)
    print(format_convergence_markdown(table))
    figure = build_figure(table, curves, split=args.split, marks=args.mark, with_sop=args.sop,
                          log_loss=args.log_loss, max_epoch=args.max_epoch)
    write_figure(figure, args.out)
    return 0


def main(argv=None):
    """Run the script with command-line arguments ``argv`` (default ``sys.argv[1:]``); return the exit status."""
    return run_main(_main, argv)


if __name__ == "__main__":
    sys.exit(main())
