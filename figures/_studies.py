"""Options and captions shared by the figure scripts of ``rfsim study pruning`` and ``rfsim study ablation``.

The scripts read a finished study folder with ``rfsim.analysis.studies.load_study``,
which raises an error instead of training a missing or unfinished run.
"""


def add_study_options(parser):
    """Add the --seeds and --data-dir options that every study figure takes."""
    from _common import number_list

    parser.add_argument("--seeds", type=number_list(int), default=None, metavar="LIST",
                        help="comma-separated seeds to average over (default: all in the folder)")
    parser.add_argument("--data-dir", default=None, metavar="DIR",
                        help="folder with local dataset files, needed only when a run's cached sparsity is "
                             "missing (overrides RFSIM_DATA_DIR)")


def epochs_text(table):
    """Describe the training length of a table's runs, such as ``5 epochs per run``."""
    epochs = sorted({run.epochs_done for run in table.runs})
    if len(epochs) == 1:
        return f"{epochs[0]} epoch per run" if epochs[0] == 1 else f"{epochs[0]} epochs per run"
    return f"{epochs[0]} to {epochs[-1]} epochs per run"
