"""Command-line interface of rfsim (console script ``rfsim``).

This module defines the command group ``cli`` and the helpers the commands share.
The commands themselves live in ``rfsim.commands``, one module per topic, and
register on ``cli`` when imported. Each command is a thin layer over library
calls: it parses options, calls the library, and prints or writes the result.
Commands raise ``click.BadParameter`` or ``click.ClickException`` for invalid
input, so the exit status is non-zero.
"""

import logging
import sys
import warnings

import click

from rfsim import __version__
from rfsim.errors import RFSimError

logger = logging.getLogger("rfsim")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="rfsim")
@click.option("-v", "--verbose", count=True, help="Print more log messages (repeat for debug output).")
@click.option("-q", "--quiet", count=True, help="Print fewer log messages (repeat to silence warnings).")
@click.pass_context
def cli(ctx, verbose, quiet):
    """Simulate, train and analyse resonate-and-fire spiking neurons."""
    level = logging.INFO - 10 * verbose + 10 * quiet
    logging.basicConfig(level=max(logging.DEBUG, min(level, logging.CRITICAL)), format="%(levelname)s: %(message)s")

    # Python warnings go through the log as one line each (no source line), so -qq silences them too.
    original_format = warnings.formatwarning
    warnings.formatwarning = _one_line_warning
    logging.captureWarnings(True)
    ctx.call_on_close(lambda: (logging.captureWarnings(False), setattr(warnings, "formatwarning", original_format)))


def _one_line_warning(message, category, filename, lineno, line=None):
    """Format a warning as 'Category: message' for the log."""
    return f"{category.__name__}: {message}"


def show_progress(requested):
    """Return whether to draw a progress bar: when requested and standard error is a terminal."""
    return requested and sys.stderr.isatty()


data_dir_option = click.option("--data-dir", type=click.Path(file_okay=False), default=None,
                               help="Folder with local dataset files (overrides RFSIM_DATA_DIR).")
"""The ``--data-dir`` option of every command that reads a dataset."""


def task_option(help_text):
    """Return the ``--task`` option of a command that reads a dataset: a task name, default None."""
    from rfsim.training.presets import TASKS

    return click.option("--task", type=click.Choice(list(TASKS)), default=None, help=help_text)


def split_option(help_text="Dataset split."):
    """Return the ``--split`` option of a command that reads a dataset: test (default), valid or train."""
    return click.option("--split", type=click.Choice(["test", "valid", "train"]), default="test", show_default=True,
                        help=help_text)


def fail_on_rfsim_error(function):
    """Turn an ``RFSimError`` raised by the library into a CLI error with exit status 1.

    The library names settings by their Python names (``n_hidden``, ``dt``), so the
    message gets the command-line option of each setting it names, for example
    "(set with --dt; set n_hidden with --hidden)".
    """
    import functools

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except RFSimError as error:
            message = str(error)
            raise click.ClickException(message + _option_hints(message)) from error

    return wrapper


def _option_hints(message):
    """Return " (set with --OPTION; set NAME with --OPTION)" for the options of the command that ``message`` names."""
    import re

    context = click.get_current_context(silent=True)
    if context is None:
        return ""
    same, renamed = [], []
    for param in context.command.params:
        if not isinstance(param, click.Option) or not param.name:
            continue
        flag = max(param.opts, key=len)
        named = re.search(rf"(?<![\w.-]){re.escape(param.name)}(?![\w(-])", message)
        if flag in message or not named:
            continue
        if flag.lstrip("-").replace("-", "_") == param.name:
            same.append(flag)
        else:
            renamed.append(f"set {param.name} with {flag}")
    parts = ([f"set with {', '.join(same)}"] if same else []) + renamed
    return f" ({'; '.join(parts)})" if parts else ""


def pair_option(name, help_text):
    """Return a click option that takes two floats, such as a range or a (mean, std) pair."""
    return click.option(name, type=float, nargs=2, default=None, metavar="A B", help=help_text)


def log_caught_warnings(caught):
    """Log each distinct warning recorded by ``warnings.catch_warnings(record=True)`` once."""
    for message in dict.fromkeys(str(warning.message) for warning in caught):
        logger.warning("%s", message)


def check_output_paths(out_path, out_suffixes, plot_path):
    """Reject an --out file or --plot figure of unknown format before any work is done."""
    check_suffix(out_path, out_suffixes, "--out")
    check_figure_suffix(plot_path)


def parse_number_list(text, param_hint, kind=float):
    """Parse a comma-separated list of numbers such as 0,0.1,0.2."""
    items = [item.strip() for item in text.split(",") if item.strip()]
    if not items:
        raise click.BadParameter(f"the list is empty; give comma-separated values such as 0,0.1,0.2, got {text!r}",
                                 param_hint=param_hint)
    try:
        return [kind(item) for item in items]
    except ValueError:
        expected = "integers such as 0,1,2" if kind is int else "numbers such as 0,0.1,0.2"
        raise click.BadParameter(f"expected comma-separated {expected}, got {text!r}", param_hint=param_hint) from None


def check_figure_suffix(plot_path):
    """Reject a figure file name whose format matplotlib does not know, before any work is done."""
    import os

    from matplotlib.figure import Figure

    if plot_path is None:
        return
    formats = Figure().canvas.get_supported_filetypes()
    if os.path.splitext(plot_path)[1].lstrip(".").lower() not in formats:
        raise click.BadParameter(f"unknown figure format of {plot_path!r}; use one of "
                                 f"{', '.join('.' + name for name in sorted(formats))}", param_hint="--plot")


def check_suffix(path, suffixes, param_hint):
    """Reject a file name that does not end in one of ``suffixes`` (such as ".csv"), before any work is done."""
    import os

    if path is not None and os.path.splitext(path)[1].lower() not in suffixes:
        raise click.BadParameter(f"the file must end in {' or '.join(suffixes)}, got {path!r}", param_hint=param_hint)


# The command modules register their commands on ``cli`` when imported, so they come last.
from rfsim.commands import (  # noqa: E402,F401
    data,
    landscape,
    neuron,
    parameters,
    robustness,
    spectral,
    studies,
    training,
)


def main():
    """Run the ``rfsim`` command group."""
    cli(prog_name="rfsim")


if __name__ == "__main__":
    main()
