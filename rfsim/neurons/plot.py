"""Figures of single-neuron traces (matplotlib object-oriented API, no pyplot state)."""

import os

import numpy as np
from matplotlib.figure import Figure

from rfsim.errors import RFSimError


def _column(array, neuron):
    if array is None:
        return None
    return array if array.ndim == 1 else array[:, neuron]


def plot_trace(trace, neuron=0):
    """Build a figure of a ``Trace``: input, membrane, refractory or adaptation variable, spikes.

    The panels, from top to bottom, show the input current I(t), the membrane
    with the threshold used in each step, q(t) for BRF/BHRF or a(t) for ALIF,
    and the spike times. The membrane panel plots Re u and Im u for RF/BRF,
    u and v for HRF/BHRF, and u for ALIF/LI. Models without q or a get no
    third panel.

    Parameters
    ----------
    trace : Trace
        Result of ``rfsim.neurons.simulate``.
    neuron : int, optional
        Neuron to show when the trace contains several.

    Returns
    -------
    matplotlib.figure.Figure
    """
    n_neurons = 1 if trace.z.ndim == 1 else trace.z.shape[1]
    if not 0 <= neuron < n_neurons:
        raise RFSimError(f"neuron must lie in [0, {n_neurons - 1}] for this trace, got neuron={neuron!r}")
    u = _column(trace.u, neuron)
    z = _column(trace.z, neuron)
    threshold = _column(trace.threshold, neuron)
    slow = _column(trace.q if trace.q is not None else trace.a, neuron)

    n_panels = 4 if slow is not None else 3
    figure = Figure(figsize=(8.0, 1.8 * n_panels + 0.6), layout="constrained")
    axes = figure.subplots(n_panels, 1, sharex=True)
    t = trace.t

    axes[0].plot(t, _column(trace.I, neuron), color="tab:gray", linewidth=0.8)
    axes[0].set_ylabel("input I")
    axes[0].set_title(f"{trace.model.upper()} neuron")

    membrane = axes[1]
    if np.iscomplexobj(u):
        membrane.plot(t, u.real, label="Re u", linewidth=0.9)
        membrane.plot(t, u.imag, label="Im u", linewidth=0.9, alpha=0.7)
    else:
        membrane.plot(t, u, label="u", linewidth=0.9)
        if trace.v is not None:
            membrane.plot(t, _column(trace.v, neuron), label="v", linewidth=0.9, alpha=0.7)
    if threshold is not None:
        membrane.plot(t, threshold, label="threshold", color="black", linestyle="--", linewidth=0.8)
    membrane.set_ylabel("membrane u")
    membrane.legend(loc="upper right", fontsize="small")

    if slow is not None:
        name = "refractory q" if trace.q is not None else "adaptation a"
        axes[2].plot(t, slow, color="tab:red", linewidth=0.9)
        axes[2].set_ylabel(name)

    spikes = axes[-1]
    spike_times = t[z > 0]
    spikes.vlines(spike_times, 0.0, 1.0, color="black", linewidth=1.0)
    spikes.set_ylim(0.0, 1.2)
    spikes.set_yticks([])
    spikes.set_ylabel(f"spikes ({spike_times.size})")
    spikes.set_xlabel("time t [s]")
    spikes.set_xlim(t[0], t[-1] if t.size > 1 else t[0] + trace.dt)
    return figure


def save_figure(figure, path, dpi=150):
    """Write a figure to ``path`` (format from the suffix, for example .png, .pdf, .svg).

    Raises
    ------
    RFSimError
        If the format is unknown or the file cannot be written.
    """
    path = os.fspath(path)
    try:
        figure.savefig(path, dpi=dpi)
    except (OSError, ValueError) as error:
        raise RFSimError(f"failed to write figure {path}: {error}") from error
