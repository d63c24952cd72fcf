"""Tests of the ``rfsim`` command group itself (version, help, verbosity)."""

import io
import logging
import sys
import warnings

import click
from click.testing import CliRunner

import rfsim
from rfsim.cli import cli, show_progress


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


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_bars_only_on_a_terminal(monkeypatch):
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    assert not show_progress(True)
    monkeypatch.setattr(sys, "stderr", _Terminal())
    assert show_progress(True)
    assert not show_progress(False)


def test_warnings_logged_on_one_line(monkeypatch, caplog):
    @click.command("emit-warning")
    def emit_warning():
        warnings.warn("something worth knowing", UserWarning)

    monkeypatch.setitem(cli.commands, "emit-warning", emit_warning)
    original_show, original_format = warnings.showwarning, warnings.formatwarning
    with caplog.at_level(logging.WARNING, logger="py.warnings"), warnings.catch_warnings():
        warnings.simplefilter("always")
        result = CliRunner().invoke(cli, ["emit-warning"])

        # The process's warning machinery is restored when the command ends.
        assert warnings.showwarning is original_show
        assert warnings.formatwarning is original_format
    assert result.exit_code == 0, result.output
    messages = [record.getMessage() for record in caplog.records if record.name == "py.warnings"]
    assert messages == ["UserWarning: something worth knowing"]
