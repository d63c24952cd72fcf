"""Test accuracy and sparsity against the recurrent pruning probability p.

Regenerates Figure 7 of Higuchi, Kairat, Bohte and Otte, "Balanced
Resonate-and-Fire Neurons" (ICML 2024) from a study folder written by

    rfsim study pruning --task ecg --model brf --probabilities 0,0.25,0.5,0.75 --seeds 0,1,2 --out STUDY_DIR

Before training, each recurrent weight of a run is removed with probability p by
a fixed mask drawn from the run's seed. Every run is scored by its best
checkpoint (lowest validation loss): test accuracy [%], SOP (hidden spikes per
test sequence) and synaptic operations (hidden spikes times their fan-out) per
test sequence (``rfsim.analysis.studies``). With one STUDY_DIR the figure is
``rfsim.analysis.plots_network.study_figure``: the mean over seeds with error
bars of one sample standard deviation, single seeds as faint dots. With several
study folders (for example one per model) their means +- std share the panels,
one colour per study.

Only finished runs are read; a folder with an unfinished or missing run raises
an error instead of training it.

Example::

    python figures/pruning.py runs/pruning-brf --out pruning.png
"""

import sys

import numpy as np
from matplotlib.figure import Figure

import _studies
from _common import make_parser, number_list, run_main, write_figure

PANELS = (("test_accuracy", "test accuracy [%]"), ("sop", "SOP [hidden spikes per test sequence]"),
          ("synaptic_ops", "synaptic operations per test sequence"))
"""Metrics of the study table drawn, with their axis labels."""


def parse_args(argv=None):
    parser = make_parser(__doc__)
    parser.add_argument("studies", nargs="+", metavar="STUDY_DIR",
                        help="folders written by rfsim study pruning --out (one per model or setting)")
    parser.add_argument("--probabilities", type=number_list(), default=None, metavar="LIST",
                        help="comma-separated pruning probabilities to draw (default: all in the folder)")
    _studies.add_study_options(parser)
    return parser.parse_args(argv)


def load_pruning_table(study_dir, probabilities=None, seeds=None, data_dir=None):
    """Return the ``StudyTable`` of the finished pruning study in ``study_dir``.

    Parameters
    ----------
    study_dir : str or Path
        Folder of ``rfsim study pruning``.
    probabilities, seeds : sequence, optional
        Settings and seeds to include (default: all found).
    data_dir : str, optional
        Dataset folder, used only to measure a run's sparsity again when its cache is stale.
    """
    from rfsim.analysis.studies import load_study

    return load_study(study_dir, "pruning", probabilities, seeds, data_dir=data_dir)


def _comparison_figure(tables):
    """Draw the mean +- std over seeds of several pruning studies against p, one colour per study."""
    figure = Figure(figsize=(14.0, 4.2), layout="constrained")
    axes_row = figure.subplots(1, len(PANELS))
    for index, table in enumerate(tables):
        color = f"C{index % 10}"
        x = np.asarray(table.values)
        order = np.argsort(x)
        label = (f"{table.model.upper()} ({table.out_dir.name}, {len(table.seeds)} seed(s), "
                 f"{_studies.epochs_text(table)})")
        for axes, (metric, _) in zip(axes_row, PANELS):
            means, stds = table.summary(metric)
            axes.errorbar(x[order], means[order], yerr=stds[order], marker="o", color=color, capsize=3, label=label)
    for axes, (_, ylabel) in zip(axes_row, PANELS):
        axes.set_xlabel("recurrent pruning probability p")
        axes.set_ylabel(ylabel)
    axes_row[0].legend(fontsize="small")
    figure.suptitle(f"pruning study on {tables[0].task}: mean +- std (ddof 1) over seeds of the best checkpoints")
    return figure


def build_figure(tables):
    """Build the library's study figure for one table, or the comparison figure for several."""
    from rfsim.analysis.plots_network import study_figure

    if len(tables) == 1:
        table = tables[0]
        return study_figure(table, title=f"pruning study: {table.model.upper()} on {table.task}, "
                                         f"{_studies.epochs_text(table)}; mean +- std (ddof 1) over "
                                         f"{len(table.seeds)} seed(s), dots: single seeds")
    return _comparison_figure(tables)


def _main(argv):
    args = parse_args(argv)
    tables = [load_pruning_table(study, args.probabilities, args.seeds, args.data_dir) for study in args.studies]
    for table in tables:
        print("\n".join(table.lines()))
    write_figure(build_figure(tables), args.out)
    return 0


def main(argv=None):
    """Run the script with command-line arguments ``argv`` (default ``sys.argv[1:]``); return the exit status."""
    return run_main(_main, argv)


if __name__ == "__main__":
    sys.exit(main())
