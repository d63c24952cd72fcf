"""Trace figures: panels, labels with units, and saving."""

import numpy as np
import pytest

from rfsim.errors import RFSimError
from rfsim.neurons import simulate
from rfsim.neurons.drive import spike_train
from rfsim.neurons.plot import plot_trace, save_figure

CURRENT = spike_train(10.0, 2.0, 0.01, amplitude=100.0)


@pytest.mark.parametrize("model, n_panels, slow_label", [
    ("brf", 4, "refractory q"), ("bhrf", 4, "refractory q"), ("alif", 4, "adaptation a"),
    ("rf", 3, None), ("hrf", 3, None), ("li", 3, None),
])
def test_plot_trace_panels(model, n_panels, slow_label):
    figure = plot_trace(simulate(model, CURRENT))
    axes = figure.get_axes()
    assert len(axes) == n_panels
    assert axes[-1].get_xlabel() == "time t [s]"
    assert axes[0].get_ylabel() == "input I"
    if slow_label is not None:
        assert axes[2].get_ylabel() == slow_label


def test_plot_trace_shows_spike_count():
    trace = simulate("brf", CURRENT)
    figure = plot_trace(trace)
    assert figure.get_axes()[-1].get_ylabel() == f"spikes ({int(trace.z.sum())})"


def test_plot_trace_picks_neuron():
    trace = simulate("rf", np.column_stack([CURRENT, 2 * CURRENT]))
    line = plot_trace(trace, neuron=1).get_axes()[1].get_lines()[0]
    np.testing.assert_array_equal(line.get_ydata(), trace.u[:, 1].real)
    with pytest.raises(RFSimError, match="neuron must lie in"):
        plot_trace(trace, neuron=2)


def test_save_figure_formats(tmp_path):
    figure = plot_trace(simulate("brf", CURRENT))
    save_figure(figure, tmp_path / "trace.svg")
    assert (tmp_path / "trace.svg").read_text(encoding="utf-8").lstrip().startswith("<?xml")
    with pytest.raises(RFSimError, match="failed to write figure"):
        save_figure(figure, tmp_path / "trace.unknown")
