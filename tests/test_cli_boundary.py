"""Tests of ``rfsim boundary`` through click's CliRunner."""

import csv

import numpy as np
import pytest
from click.testing import CliRunner

from rfsim.cli import cli


def _invoke(arguments):
    return CliRunner().invoke(cli, ["boundary", *arguments])


def _rows(output):
    """Return the numeric table rows of the output as lists of fields."""
    rows = []
    for line in output.splitlines():
        fields = line.split()
        try:
            float(fields[0])
        except (IndexError, ValueError):
            continue
        rows.append(fields)
    return rows


def test_default_family_table():
    result = _invoke([])
    assert result.exit_code == 0, result.output
    rows = _rows(result.output)
    assert {row[0] for row in rows} == {"0.002", "0.01", "0.02"}
    assert len(rows) == 12

    # At omega = omega_max = 1/dt both roots equal -1/dt.
    last = next(row for row in rows if row[0] == "0.01" and row[1] == "100")
    assert float(last[2]) == pytest.approx(-100.0, rel=1e-5)
    assert float(last[3]) == pytest.approx(-100.0, rel=1e-5)


def test_table_at_given_omegas():
    result = _invoke(["--dt", "0.01", "--omega", "10", "--omega", "150"])
    assert result.exit_code == 0, result.output
    row = _rows(result.output)[0]
    r = np.sqrt(0.99)
    assert float(row[2]) == pytest.approx((-1 - r) / 0.01, rel=1e-5)
    assert float(row[3]) == pytest.approx((-1 + r) / 0.01, rel=1e-5)
    assert "no convergent b: omega exceeds omega_max = 100 rad/s" in result.output


def test_harmonic_model_table():
    result = _invoke(["--model", "bhrf", "--order", "paper", "--dt", "0.01", "--omega", "10"])
    assert result.exit_code == 0, result.output
    row = _rows(result.output)[0]
    assert float(row[2]) == pytest.approx(0.5, rel=1e-12)
    assert float(row[3]) == pytest.approx(100.25, rel=1e-5)


def test_exact_scheme_table():
    result = _invoke(["--scheme", "exact", "--dt", "0.01", "--omega", "10"])
    assert result.exit_code == 0, result.output
    row = _rows(result.output)[0]
    assert row[2] == "-inf"
    assert float(row[3]) == 0.0


def test_out_and_plot_files(tmp_path):
    out, plot = tmp_path / "curves.csv", tmp_path / "curves.png"
    result = _invoke(["--dt", "0.002", "--dt", "0.01", "--dt", "0.02", "--points", "50", "--out", str(out),
                      "--plot", str(plot)])
    assert result.exit_code == 0, result.output
    with open(out, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 150
    for row in rows:
        dt, omega = float(row["dt"]), float(row["omega"])
        r = np.sqrt(1.0 - (dt * omega) ** 2)
        assert float(row["b_upper"]) == pytest.approx((-1 + r) / dt, rel=1e-9, abs=1e-9)
        assert float(row["b_lower"]) == pytest.approx((-1 - r) / dt, rel=1e-12)
    assert plot.read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["--dt", "0"], "dt must be a finite positive"),
        (["--dt", "-0.01"], "dt must be a finite positive"),
        (["--points", "1"], "n_omega must be at least 2"),
        (["--omega", "-1"], "omega must be a finite positive"),
        (["--omega", "0"], "omega must be a finite positive"),
        (["--model", "alif"], "Invalid value for '--model'"),
    ],
)
def test_invalid_input_fails_with_message(arguments, message):
    result = _invoke(arguments)
    assert result.exit_code != 0
    assert message in result.output


def test_unwritable_output_fails(tmp_path):
    result = _invoke(["--out", str(tmp_path / "missing" / "curves.csv")])
    assert result.exit_code != 0
    assert "failed to write boundary table" in result.output
    result = _invoke(["--plot", str(tmp_path / "missing" / "curves.png")])
    assert result.exit_code != 0
    assert "failed to write figure" in result.output


def test_too_few_points_names_the_option():
    result = _invoke(["--points", "1"])
    assert result.exit_code == 1
    assert "n_omega must be at least 2, got n_omega=1 (set n_omega with --points)" in result.output
