"""Figures of the convergence regions and frequency responses (matplotlib object-oriented API).

``boundary_figure`` and ``response_figure`` build and return a
``matplotlib.figure.Figure`` without touching pyplot state; ``save_figure``
writes one to a file.
"""

import numpy as np
from matplotlib.figure import Figure

from rfsim.errors import RFSimError
from rfsim.neurons.plot import save_figure

__all__ = ["boundary_figure", "response_figure", "save_figure"]


def boundary_figure(regions, title=None):
    """Build a figure of the convergence regions: b against omega, one colour per time step.

    For each region the upper root is a solid line, the lower root a dashed
    line, the convergent band between them is shaded, and a dotted vertical line
    marks omega_max. A lower root of -inf (exact RF scheme) is drawn at the
    lower edge of the axes.

    Parameters
    ----------
    regions : sequence of ConvergenceRegion
        As returned by ``rfsim.analysis.boundary.boundary_curves``.
    title : str, optional
        Figure title; by default it names the model family and scheme.

    Returns
    -------
    matplotlib.figure.Figure
    """
    regions = list(regions)
    if not regions:
        raise RFSimError("regions is empty: give at least one convergence region to plot")

    figure = Figure(figsize=(7.0, 4.8), layout="constrained")
    axes = figure.add_subplot()
    finite_lower = [np.min(region.b_lower[np.isfinite(region.b_lower)]) for region in regions
                    if np.isfinite(region.b_lower).any()]
    floor = min(finite_lower) if finite_lower else -max(1.0 / region.dt for region in regions)

    for index, region in enumerate(regions):
        color = f"C{index % 10}"
        lower = np.where(np.isfinite(region.b_lower), region.b_lower, floor)
        label = f"dt = {region.dt:g} s"
        axes.plot(region.omega, region.b_upper, color=color, linewidth=1.4, label=f"{label}: upper root")
        axes.plot(region.omega, lower, color=color, linewidth=1.2, linestyle="--", label=f"{label}: lower root")
        axes.fill_between(region.omega, lower, region.b_upper, color=color, alpha=0.15, linewidth=0)
        if np.isfinite(region.omega_max):
            axes.axvline(region.omega_max, color=color, linestyle=":", linewidth=1.0)

    family = regions[0].family
    if title is None:
        if family == "rf":
            title = f"Convergence region of the RF / BRF neuron ({regions[0].scheme} scheme)"
        else:
            title = f"Convergence region of the harmonic RF / BHRF neuron ({regions[0].scheme} update order)"
    axes.set_title(title)
    axes.set_xlabel("angular frequency omega [rad/s]")
    axes.set_ylabel("damping b [1/s]")
    axes.axhline(0.0, color="0.5", linewidth=0.6)
    axes.legend(fontsize="small", loc="best")
    return figure


def response_figure(result, linear=None, neurons=None):
    """Build a figure of frequency-response curves with their peaks and -3 dB bands.

    Parameters
    ----------
    result : FrequencyResponse
        As returned by ``rfsim.analysis.response.frequency_response``.
    linear : ndarray, shape (N, F), optional
        The linear closed form (``linear_frequency_response``), drawn dashed.
    neurons : sequence of int, optional
        Indices of the neurons to draw (default all).

    Returns
    -------
    matplotlib.figure.Figure
    """
    indices = range(result.omega.size) if neurons is None else list(neurons)
    figure = Figure(figsize=(7.5, 4.5), layout="constrained")
    axes = figure.add_subplot()

    for position, i in enumerate(indices):
        if not 0 <= i < result.omega.size:
            raise RFSimError(f"neuron index {i} is out of range for {result.omega.size} neurons")
        color = f"C{position % 10}"
        peak = result.peaks[i]
        axes.plot(result.drive_omega, result.response[i], color=color, linewidth=1.2,
                  label=f"omega = {result.omega[i]:g} rad/s")
        if linear is not None:
            axes.plot(result.drive_omega, linear[i], color=color, linewidth=1.0, linestyle="--",
                      label="linear closed form (dashed)" if position == 0 else None)
        if np.isfinite(peak.peak_omega):
            axes.plot([peak.peak_omega], [peak.peak_response], marker="o", color=color)
            band = peak.band
            low = band.low if band.low_in_grid else result.drive_omega[0]
            high = band.high if band.high_in_grid else result.drive_omega[-1]
            axes.axvspan(low, high, color=color, alpha=0.1, linewidth=0)
        for sub in peak.subharmonics:
            axes.plot([sub.omega], [sub.response], marker="v", color=color, markersize=5)
        axes.axvline(result.omega[i], color=color, linestyle=":", linewidth=0.8)

    axes.set_xlabel("drive angular frequency [rad/s]")
    axes.set_ylabel("response: mean |u| (dimensionless, threshold 1)")
    axes.set_title(
        f"{result.model.upper()} frequency response ({result.input} drive, dt = {result.dt:g} s, "
        f"{result.duration:g} s per frequency)"
    )
    axes.legend(fontsize="small", loc="best")
    return figure
