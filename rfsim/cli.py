"""Command-line interface of rfsim (console script ``rfsim``).

Each command is a thin layer over library calls: it parses options, calls the
library, and prints or writes the result. Commands raise ``click.BadParameter``
or ``click.ClickException`` for invalid input, so the exit status is non-zero.
"""

import logging

import click

from rfsim import __version__
from rfsim.errors import RFSimError

logger = logging.getLogger("rfsim")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="rfsim")
@click.option("-v", "--verbose", count=True, help="Print more log messages (repeat for debug output).")
@click.option("-q", "--quiet", count=True, help="Print fewer log messages (repeat to silence warnings).")
def cli(verbose, quiet):
    """Simulate, train and analyse resonate-and-fire spiking neurons."""
    level = logging.INFO - 10 * verbose + 10 * quiet
    logging.basicConfig(level=max(logging.DEBUG, min(level, logging.CRITICAL)), format="%(levelname)s: %(message)s")


def fail_on_rfsim_error(function):
    """Turn an ``RFSimError`` raised by the library into a CLI error with exit status 1."""
    import functools

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except RFSimError as error:
            raise click.ClickException(str(error)) from error

    return wrapper


# Commands are registered below, one section per topic.


def main():
    """Run the ``rfsim`` command group."""
    cli(prog_name="rfsim")


if __name__ == "__main__":
    main()
