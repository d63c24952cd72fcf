"""Figures of the network analyses (matplotlib object-oriented API).

Each ``*_figure`` function builds and returns a ``matplotlib.figure.Figure``
without touching pyplot state; ``save_figure`` writes one to a file.
"""

import numpy as np
from matplotlib.figure import Figure

from rfsim.errors import RFSimError
from rfsim.neurons.plot import save_figure

__all__ = ["landscape_figure", "save_figure"]


# --- loss landscape ---


_METRIC_LABELS = {
    "loss": "loss (NLL per scored step)",
    "accuracy": "accuracy [%]",
    "sop": "SOP [hidden spikes per sequence]",
}


def landscape_figure(grid=None, curve=None, *, metric="loss", axis_labels=None, title=None):
    """Build a figure of a loss landscape: surface and contour of a 2-D slice, and a 1-D interpolation.

    Parameters
    ----------
    grid : LandscapeGrid, optional
        2-D slice (``rfsim.analysis.landscape.landscape_2d``); drawn as a 3-D surface
        and a filled contour plot with the centre (the checkpoint) marked.
    curve : InterpolationCurve, optional
        1-D interpolation (``interpolate_1d``); drawn against a with the two
        checkpoints (a = 0 and a = 1) marked.
    metric : {'loss', 'accuracy', 'sop'}
        Value to draw.
    axis_labels : (str, str), optional
        Labels of the alpha and beta axes (``rfsim.analysis.landscape.axis_labels``).
    title : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure

    Notes
    -----
    Points where the network diverged (NaN or inf) are left blank.
    """
    if grid is None and curve is None:
        raise RFSimError("nothing to plot: give a 2-D grid, an interpolation curve or both")
    if metric not in _METRIC_LABELS:
        raise RFSimError(f"metric must be one of {', '.join(_METRIC_LABELS)}, got metric={metric!r}")
    alpha_label, beta_label = axis_labels or ("alpha", "beta")
    value_label = _METRIC_LABELS[metric]

    n_panels = 0
    if grid is not None:
        n_panels += 2
    if curve is not None:
        n_panels += 1
    figure = Figure(figsize=(5.2 * n_panels, 4.6), layout="constrained")
    panel = 1
    if grid is not None:
        values = np.ma.masked_invalid(getattr(grid, metric))
        if values.count() == 0:
            raise RFSimError(f"every grid point has a non-finite {metric}; there is no surface to draw")
        beta_mesh, alpha_mesh = np.meshgrid(grid.beta, grid.alpha)

        surface = figure.add_subplot(1, n_panels, panel, projection="3d")
        surface.plot_surface(alpha_mesh, beta_mesh, values.filled(np.nan), cmap="viridis", linewidth=0,
                             antialiased=True)
        surface.set_xlabel(alpha_label, fontsize="small")
        surface.set_ylabel(beta_label, fontsize="small")
        surface.set_zlabel(value_label, fontsize="small")
        surface.set_title(f"{metric} surface")

        contour = figure.add_subplot(1, n_panels, panel + 1)
        filled = contour.contourf(alpha_mesh, beta_mesh, values, levels=20, cmap="viridis")
        contour.contour(alpha_mesh, beta_mesh, values, levels=filled.levels, colors="k", linewidths=0.4)
        figure.colorbar(filled, ax=contour, label=value_label)
        contour.plot([0.0], [0.0], marker="x", color="red", markersize=9, linestyle="none", label="checkpoint")
        contour.set_xlabel(alpha_label)
        contour.set_ylabel(beta_label)
        contour.set_aspect("equal", adjustable="box")
        contour.legend(loc="upper right", fontsize="small")
        contour.set_title(f"{metric} contours")
        panel += 2

    if curve is not None:
        axes = figure.add_subplot(1, n_panels, panel)
        values = np.ma.masked_invalid(getattr(curve, metric))
        axes.plot(curve.alpha, values, marker="o", markersize=3, color="C0")
        for a, name in ((0.0, "start (a = 0)"), (1.0, "trained (a = 1)")):
            axes.axvline(a, color="0.5", linestyle=":", linewidth=1.0)
            axes.annotate(name, (a, 1.0), xycoords=("data", "axes fraction"), rotation=90, fontsize="small",
                          ha="right", va="top")
        axes.set_xlabel("interpolation coefficient a: (1 - a) start + a trained")
        axes.set_ylabel(value_label)
        axes.set_title(f"{metric} along the interpolation")

    if title is not None:
        figure.suptitle(title)
    return figure
