"""Tests of the ``rfsim`` command group itself (version, help, verbosity)."""

from click.testing import CliRunner

import rfsim
from rfsim.cli import cli


def test_version_option_prints_package_version():
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0
    assert rfsim.__version__ in result.output


def test_help_lists_options():
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    assert "--verbose" in result.output
    assert "--quiet" in result.output


def test_unknown_command_fails():
    result = CliRunner().invoke(cli, ["no-such-command"])
    assert result.exit_code != 0
