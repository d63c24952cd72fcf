"""Figures of the network analyses (matplotlib object-oriented API).

Each ``*_figure`` function builds and returns a ``matplotlib.figure.Figure``
without touching pyplot state; ``save_figure`` writes one to a file.
"""

import numpy as np
from matplotlib.figure import Figure

from rfsim.errors import RFSimError
from rfsim.neurons.plot import save_figure

__all__ = ["landscape_figure", "omega_scatter_figure", "raster_figure", "save_figure", "spectral_figure",
           "spectrum_figure"]


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


# --- parameter analysis ---


def _draw_omega_b(axes, scatter):
    """Draw the neurons in the (omega, b_c) plane with the convergence region."""
    grid = scatter.grid_omega
    points = [points for points in (scatter.init, scatter.trained) if points is not None]
    b_values = np.concatenate([points.b_c[np.isfinite(points.b_c)] for points in points] + [scatter.grid_b_zero])
    top = max(float(np.nanmax(b_values)), float(np.nanmax(scatter.grid_b_upper)))
    bottom = float(np.nanmin(b_values))
    margin = 0.1 * max(top - bottom, 1.0)
    # The lower root lies far below the neurons (about -2/dt); it is drawn where it enters the view.
    floor = bottom - margin

    upper_name = "divergence boundary p(omega)" if scatter.model in ("brf", "rf") else "upper root"
    axes.fill_between(grid, np.maximum(scatter.grid_b_lower, floor - margin), scatter.grid_b_upper, color="C2",
                      alpha=0.12, linewidth=0, label="convergent region")
    axes.plot(grid, scatter.grid_b_upper, color="C2", linewidth=1.4, label=upper_name)
    lower_name = "lower root"
    if np.nanmax(scatter.grid_b_lower) < floor:
        lower_name += f" (below the view, {np.nanmax(scatter.grid_b_lower):.4g} 1/s and lower)"
    axes.plot(grid, scatter.grid_b_lower, color="C2", linewidth=1.2, linestyle="--", label=lower_name)
    if scatter.model == "bhrf":
        axes.plot(grid, scatter.grid_b_zero, color="0.4", linewidth=1.0, linestyle=":",
                  label="b' = 0: (dt/2) omega^2")
    if scatter.init is not None:
        axes.scatter(scatter.init.omega, scatter.init.b_c, s=14, color="0.55", marker="o",
                     label=f"{scatter.init_label} ({scatter.init.omega.size} neurons)")
    axes.scatter(scatter.trained.omega, scatter.trained.b_c, s=16, color="C0", marker="o",
                 label=f"{scatter.trained_label} ({scatter.trained.n_outside} outside the region)")
    axes.set_ylim(floor, top + margin)
    axes.set_xlim(0.0, float(grid[-1]))
    axes.set_xlabel("omega [rad/s]")
    axes.set_ylabel("b_c at q = 0 [1/s]")
    axes.set_title(f"{scatter.model.upper()} neurons, dt = {scatter.dt:g} s")
    axes.legend(loc="lower left", fontsize="x-small")


def _draw_omega_histograms(axes, scatter, spectrum=None):
    """Draw step histograms of omega before and after training, with the dataset's peaks."""
    edges = scatter.hist_edges
    if scatter.hist_init is not None:
        axes.stairs(scatter.hist_init, edges, color="0.55", linewidth=1.4, label=scatter.init_label)
    axes.stairs(scatter.hist_trained, edges, color="C0", linewidth=1.6, label=scatter.trained_label)
    if spectrum is not None:
        for index, peak in enumerate(spectrum.peak_omega):
            axes.axvline(peak, color="C3", linestyle=":", linewidth=1.0,
                         label="dominant frequencies of the data" if index == 0 else None)
    axes.set_xlabel("omega [rad/s]")
    axes.set_ylabel("neurons per bin")
    axes.set_title("omega before and after training")
    axes.legend(loc="upper right", fontsize="x-small")


def _draw_spectrum(axes, spectrum, omega=None, omega_label="learned omega"):
    """Draw a dataset's power spectrum with its peaks and, on a second axis, a histogram of omega."""
    in_range = (spectrum.omega > 0) & (spectrum.omega <= spectrum.omega_max)
    axes.semilogy(spectrum.omega[in_range], spectrum.power[in_range], color="0.3", linewidth=1.0, label="power")
    axes.semilogy(spectrum.peak_omega, spectrum.peak_power, linestyle="none", marker="v", color="C3",
                  label="dominant frequencies")
    axes.set_xlabel("angular frequency [rad/s]")
    axes.set_ylabel("mean |rfft(x)|^2 per channel")
    axes.set_title(f"input spectrum (dt = {spectrum.dt:g} s, {spectrum.n_sequences} sequences)")
    handles, labels = axes.get_legend_handles_labels()
    if omega is not None and np.size(omega):
        counts = axes.twinx()
        top = spectrum.omega_max
        edges = np.linspace(0.0, top, 41)
        counts.hist(np.clip(omega, 0.0, top), bins=edges, color="C0", alpha=0.35, label=omega_label)
        counts.set_ylabel("neurons per bin")
        extra_handles, extra_labels = counts.get_legend_handles_labels()
        handles, labels = handles + extra_handles, labels + extra_labels
    axes.legend(handles, labels, loc="upper right", fontsize="x-small")


def omega_scatter_figure(scatter, spectrum=None, title=None):
    """Build the parameter figure: omega against b_c, histograms of omega and the input spectrum.

    Parameters
    ----------
    scatter : OmegaScatter
        From ``rfsim.analysis.parameters.omega_b_scatter``.
    spectrum : DatasetSpectrum, optional
        From ``dominant_frequencies``; adds its peaks to the histograms and a third
        panel with the spectrum and the learned omega.
    title : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
    """
    n_panels = 3 if spectrum is not None else 2
    figure = Figure(figsize=(5.0 * n_panels, 4.4), layout="constrained")
    _draw_omega_b(figure.add_subplot(1, n_panels, 1), scatter)
    _draw_omega_histograms(figure.add_subplot(1, n_panels, 2), scatter, spectrum)
    if spectrum is not None:
        _draw_spectrum(figure.add_subplot(1, n_panels, 3), spectrum, scatter.trained.omega)
    if title is not None:
        figure.suptitle(title)
    return figure


def spectrum_figure(spectrum, omega=None, omega_label="learned omega", title=None):
    """Build a figure of a dataset's power spectrum, its peaks and an optional histogram of omega [rad/s]."""
    figure = Figure(figsize=(6.4, 4.4), layout="constrained")
    _draw_spectrum(figure.add_subplot(), spectrum, omega, omega_label)
    if title is not None:
        figure.suptitle(title)
    return figure


def raster_figure(raster, show_input=True, show_output=True, title=None):
    """Build a raster plot of the hidden spikes of one sequence, neurons sorted by omega or tau_mem.

    Parameters
    ----------
    raster : SpikeRaster
        From ``rfsim.analysis.parameters.hidden_raster``.
    show_input : bool
        Add a panel of the input above the raster.
    show_output : bool
        Add a panel of the readout below it, with the predicted class and the label.
    title : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
    """
    heights = ([1.0] if show_input else []) + [3.0] + ([1.2] if show_output else [])
    figure = Figure(figsize=(9.0, 1.6 * sum(heights) + 0.6), layout="constrained")
    panels = figure.subplots(len(heights), 1, sharex=True, squeeze=False, gridspec_kw={"height_ratios": heights})
    panels = list(panels[:, 0])
    n_steps, n_hidden = raster.spikes.shape
    steps = np.arange(n_steps)
    time_label = f"time step (dt = {raster.dt:g} s)" if raster.model != "alif" else "time step"

    if show_input:
        axes = panels.pop(0)
        for channel in range(raster.inputs.shape[1]):
            active = np.flatnonzero(raster.inputs[:, channel])
            axes.vlines(active, channel + 0.6, channel + 1.4, color="0.3", linewidth=0.6)
        axes.set_ylim(0.4, raster.inputs.shape[1] + 0.6)
        axes.set_ylabel("input\nchannel")

    axes = panels.pop(0)
    times, neurons = np.nonzero(raster.spikes)
    axes.scatter(times, neurons, s=2.0, marker="|", color="k", linewidths=0.6)
    axes.set_ylim(-0.5, n_hidden - 0.5)
    unit = "rad/s" if raster.sort_by == "omega" else "steps"
    ticks = np.unique(np.linspace(0, n_hidden - 1, min(n_hidden, 6)).round().astype(int))
    axes.set_yticks(ticks, [f"{raster.sort_values[tick]:.3g}" for tick in ticks])
    axes.set_ylabel(f"neurons by {raster.sort_by} [{unit}]")
    axes.set_title(f"hidden spikes of one sequence ({raster.spike_count} spikes, {n_hidden} {raster.model.upper()} "
                   "neurons)", fontsize="medium")

    if show_output:
        axes = panels.pop(0)
        for index in range(raster.outputs.shape[1]):
            axes.plot(steps, raster.outputs[:, index], linewidth=0.9, label=f"class {index}")
        axes.set_ylabel("readout o_t")
        label = raster.label
        if label is not None:
            if np.ndim(label) == 1:
                agree = 100.0 * np.mean(raster.prediction == np.asarray(label))
                note = f"argmax matches the label at {agree:.1f} % of steps"
            else:
                note = f"label {int(label)}, argmax of the mean readout {int(np.argmax(raster.outputs.mean(0)))}"
            axes.set_title(note, fontsize="small")
        axes.legend(loc="upper right", fontsize="xx-small", ncol=min(raster.outputs.shape[1], 6))
    axes.set_xlabel(time_label)
    if title is not None:
        figure.suptitle(title)
    return figure


# --- spectral radius ---


def spectral_figure(reports, title=None):
    """Build a figure comparing the spectra of one or more checkpoints (one colour each).

    Left: per-neuron spectral radius at q = 0, sorted. Middle: spectral radius of the
    whole-network Jacobian rho(J_t) at each decomposed step. Right: back-propagated
    gradient norm against the lag on a log scale, for random unit vectors (solid)
    and for the last step's loss (dashed). A dotted line marks radius 1 and norm 1.

    Parameters
    ----------
    reports : sequence of rfsim.analysis.spectral.SpectralReport
    title : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
    """
    reports = list(reports)
    if not reports:
        raise RFSimError("reports is empty: give at least one spectral report to plot")

    figure = Figure(figsize=(15.0, 4.4), layout="constrained")
    neurons, steps, lags = figure.subplots(1, 3)
    for index, report in enumerate(reports):
        color = f"C{index % 10}"
        label = f"{report.name} ({report.model.upper()})"
        radius = np.sort(report.hidden.spectral_radius[0])
        neurons.plot(np.arange(radius.size), radius, marker=".", color=color, linewidth=1.0, label=label)

        network = report.network
        steps.plot(network.steps, network.spectral_radius, color=color, linewidth=0.8, label=label)

        lag = np.arange(network.n_steps)
        lags.semilogy(lag, network.gradient_norm, color=color, linewidth=1.2, label=f"{label}: random vectors")
        if network.loss_gradient_norm is not None:
            lags.semilogy(lag, network.loss_gradient_norm, color=color, linewidth=1.0, linestyle="--",
                          label=f"{label}: last-step loss")

    for axes in (neurons, steps, lags):
        axes.axhline(1.0, color="0.4", linestyle=":", linewidth=0.9)
    neurons.set_xlabel("neuron (sorted by radius)")
    neurons.set_ylabel("spectral radius of the one-step Jacobian")
    neurons.set_title("per neuron, q = 0", fontsize="medium")
    steps.set_xlabel("time step t")
    steps.set_ylabel("spectral radius of J_t")
    steps.set_title("whole network along the sequence", fontsize="medium")
    lags.set_xlabel("lag k [steps]")
    lags.set_ylabel("gradient norm relative to lag 0")
    lags.set_title("back-propagated gradient", fontsize="medium")
    neurons.legend(fontsize="x-small")
    lags.legend(fontsize="xx-small")
    if title is not None:
        figure.suptitle(title)
    return figure


# --- robustness and training studies ---

__all__ += ["robustness_figure", "study_figure"]


def robustness_figure(sweep, title=None):
    """Build a figure of a robustness sweep: accuracy and SOP against the perturbation level.

    Each panel shows the mean over the repetitions with error bars of one sample
    standard deviation, the single repetitions as faint dots, and the unperturbed
    network as a dashed line.

    Parameters
    ----------
    sweep : rfsim.analysis.robustness.RobustnessSweep
    title : str, optional
        Figure title; by default it names the kind, checkpoint and split.

    Returns
    -------
    matplotlib.figure.Figure
    """
    figure = Figure(figsize=(10.5, 4.2), layout="constrained")
    accuracy_axes, sop_axes = figure.subplots(1, 2)
    panels = ((accuracy_axes, "accuracy", "accuracy [%]"),
              (sop_axes, "sop", "SOP [delivered hidden spikes per sequence]"))
    order = np.argsort(sweep.levels, kind="stable")
    levels = sweep.levels[order]
    for axes, metric, label in panels:
        values = getattr(sweep, metric)[order]
        if sweep.repeats > 1:
            for r in range(sweep.repeats):
                axes.plot(levels, values[:, r], linestyle="none", marker=".", color="C0", alpha=0.3)
        axes.errorbar(levels, sweep.mean(metric)[order], yerr=sweep.std(metric)[order], marker="o", color="C0",
                      capsize=3, label=f"mean +- std over {sweep.repeats} repetition(s)")
        axes.axhline(getattr(sweep.baseline, metric), color="0.4", linestyle="--", linewidth=1.0,
                     label="unperturbed")
        axes.set_xlabel(sweep.level_label)
        axes.set_ylabel(label)
        axes.legend(fontsize="small")
    accuracy_axes.set_title("accuracy", fontsize="medium")
    sop_axes.set_title("sparsity", fontsize="medium")
    figure.suptitle(title or f"{sweep.kind}: {sweep.checkpoint} ({sweep.model.upper()}), {sweep.split} split, "
                             f"{sweep.n_sequences} sequences")
    return figure


def study_figure(table, title=None):
    """Build a figure of a training study: test accuracy, SOP and synaptic operations per setting.

    A pruning study is drawn against the pruning probability p: the mean over seeds
    with error bars of one sample standard deviation, and single seeds as faint dots.
    An ablation study is drawn as bars, one per BRF variant.

    Parameters
    ----------
    table : rfsim.analysis.studies.StudyTable
    title : str, optional
        Figure title; by default it names the study, model and task.

    Returns
    -------
    matplotlib.figure.Figure
    """
    panels = (("test_accuracy", "test accuracy [%]"), ("sop", "SOP [hidden spikes per test sequence]"),
              ("synaptic_ops", "synaptic operations per test sequence"))
    figure = Figure(figsize=(14.0, 4.2), layout="constrained")
    axes_row = figure.subplots(1, len(panels))
    positions = np.arange(len(table.settings))
    for axes, (metric, label) in zip(axes_row, panels):
        means, stds = table.summary(metric)
        if table.study == "pruning":
            x = np.asarray(table.values)
            for run in table.runs:
                axes.plot(run.value, getattr(run, metric), linestyle="none", marker=".", color="C0", alpha=0.3)
            order = np.argsort(x)
            axes.errorbar(x[order], means[order], yerr=stds[order], marker="o", color="C0", capsize=3)
            axes.set_xlabel("recurrent pruning probability p")
        else:
            axes.bar(positions, means, yerr=stds, color=[f"C{i % 10}" for i in positions], capsize=3)
            for index, setting in enumerate(table.settings):
                values = [getattr(run, metric) for run in table.runs_of(setting)]
                axes.plot(np.full(len(values), index), values, linestyle="none", marker=".", color="k", alpha=0.5)
            axes.set_xticks(positions)
            axes.set_xticklabels(table.settings, rotation=20, fontsize="small")
            axes.set_xlabel("BRF variant")
        axes.set_ylabel(label)
    figure.suptitle(title or f"{table.study} study: {table.model.upper()} on {table.task}, "
                             f"{len(table.seeds)} seed(s)")
    return figure
