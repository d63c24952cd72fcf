"""Command-line plumbing shared by the figure scripts in this folder.

Each script parses its options with ``argparse``, calls rfsim's library, builds
one ``matplotlib.figure.Figure`` with the object-oriented API and writes it with
``rfsim.neurons.plot.save_figure``. The format follows the suffix of ``--out``
(.png, .pdf, .svg, ...). This module contains the parts they share: the ``--out``
option, number-list parsing, checkpoint paths and the error handling of ``main``.
"""

import argparse
import os
import sys
from pathlib import Path

from rfsim.errors import RFSimError

TASKS = ("ecg", "smnist", "psmnist", "shd", "synthetic")
"""Task names that ``--task`` accepts (those of ``rfsim train``)."""


def figure_formats():
    """Return the file suffixes (without the dot) that matplotlib can write."""
    from matplotlib.figure import Figure

    return sorted(Figure().canvas.get_supported_filetypes())


def figure_path(text):
    """Parse ``--out``: a file name whose suffix names a figure format matplotlib can write."""
    suffix = os.path.splitext(text)[1].lstrip(".").lower()
    formats = figure_formats()
    if suffix not in formats:
        raise argparse.ArgumentTypeError(
            f"unknown figure format {suffix or 'none'!r} of {text!r}; end the file name in one of "
            f"{', '.join('.' + name for name in formats)}")
    return text


def number_list(kind=float):
    """Return an argparse type that parses comma-separated numbers such as ``0,0.1,0.2``."""

    def parse(text):
        items = [item.strip() for item in text.split(",") if item.strip()]
        if not items:
            raise argparse.ArgumentTypeError(f"the list is empty; give comma-separated values, got {text!r}")
        try:
            return [kind(item) for item in items]
        except ValueError:
            expected = "integers such as 0,1,2" if kind is int else "numbers such as 0,0.1,0.2"
            raise argparse.ArgumentTypeError(f"expected comma-separated {expected}, got {text!r}") from None

    parse.__name__ = f"{kind.__name__} list"
    return parse


def make_parser(description):
    """Return an ``ArgumentParser`` with the module docstring as help and the required ``--out`` option."""
    parser = argparse.ArgumentParser(description=description,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=figure_path, required=True, metavar="FILE",
                        help="figure file to write; the suffix sets the format (.png, .pdf, .svg)")
    return parser


def add_data_options(parser):
    """Add ``--task`` and ``--data-dir``, which choose the data a checkpoint is evaluated on."""
    parser.add_argument("--task", choices=TASKS, default=None,
                        help="task to evaluate on (default: the checkpoint's own task)")
    parser.add_argument("--data-dir", default=None, metavar="DIR",
                        help="folder with local dataset files (overrides RFSIM_DATA_DIR)")


def checkpoint_file(path):
    """Return the checkpoint ``.npz`` of ``path``: the file itself, or ``best.npz`` of a run folder."""
    from rfsim.analysis.parameters import resolve_checkpoint_pair

    trained, _ = resolve_checkpoint_pair(path)
    return trained


def init_checkpoint(path):
    """Return the initial checkpoint beside ``path`` (a run folder or a checkpoint), or None."""
    from rfsim.analysis.parameters import resolve_checkpoint_pair

    _, init = resolve_checkpoint_pair(path)
    return init


def run_label(path):
    """Return a short label of a run folder or checkpoint: ``<folder>`` or ``<folder>/<file stem>``."""
    path = Path(path)
    return path.name if path.is_dir() else f"{path.parent.name}/{path.stem}"


def write_figure(figure, path):
    """Write ``figure`` to ``path`` and print where it went."""
    from rfsim.neurons.plot import save_figure

    save_figure(figure, path)
    print(f"figure written to {path}")


def run_main(function, argv):
    """Call ``function(argv)`` and turn an ``RFSimError`` into a message on stderr and exit status 1."""
    try:
        return function(argv)
    except RFSimError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
