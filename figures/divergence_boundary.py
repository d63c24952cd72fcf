"""The divergence boundary p(omega) and the convergence region of the RF/BRF neuron for several dt.

Regenerates the paper's divergence-boundary figure (Higuchi, Kairat, Bohte and
Otte, "Balanced Resonate-and-Fire Neurons", ICML 2024). The Euler-discretised RF
neuron du/dt = (b + i omega) u + I converges for b_lower <= b <= p(omega) with

    p(omega) = (-1 + sqrt(1 - (dt omega)^2)) / dt,  b_lower = (-1 - sqrt(1 - (dt omega)^2)) / dt,

and for no b beyond omega = 1/dt (``rfsim.analysis.boundary``).

Left panel: the convergence region in the (omega, b) plane, one colour per dt,
from ``rfsim.analysis.plots.boundary_figure``. Right panel: a zoom on the upper
root at small omega, where trained neurons sit. It draws p(omega) for each dt,
the BRF damping b = p(omega) - b_offset at q = 0 for a few values of b_offset,
and, with ``--checkpoint``, the initial and trained neurons of an RF or BRF
network at their damping b_c (``rfsim.analysis.parameters.omega_b_scatter``).

Examples::

    python figures/divergence_boundary.py --out boundary.png
    python figures/divergence_boundary.py --out boundary.png --checkpoint runs/ecg-brf-seed0
"""

import sys

import numpy as np
from matplotlib.gridspec import GridSpec

from _common import make_parser, number_list, run_label, run_main, write_figure

DEFAULT_DT = (0.002, 0.01, 0.02)
"""Time steps [s] of the default curves (those of ``rfsim boundary``)."""


def parse_args(argv=None):
    parser = make_parser(__doc__)
    parser.add_argument("--dt", type=number_list(), default=list(DEFAULT_DT), metavar="LIST",
                        help="comma-separated time steps [s], one region each (default 0.002,0.01,0.02)")
    parser.add_argument("--points", type=int, default=400, help="grid points per curve (default 400)")
    parser.add_argument("--b-offset", type=number_list(), default=[0.1, 1.0], metavar="LIST",
                        help="b_offset values [1/s] of the BRF damping curves in the zoom (default 0.1,1, the "
                             "bounds of the ECG initialisation)")
    parser.add_argument("--brf-dt", type=float, default=None,
                        help="time step [s] of the BRF damping curves (default: the checkpoint's dt, else 0.01)")
    parser.add_argument("--zoom-omega", type=float, default=None,
                        help="largest omega [rad/s] of the zoom (default 30, or 1.2 x the largest neuron omega "
                             "with --checkpoint)")
    parser.add_argument("--checkpoint", default=None, metavar="PATH",
                        help="run folder or checkpoint .npz of an RF or BRF network whose neurons to draw in the "
                             "zoom (the run's init.npz is drawn too when present)")
    parser.add_argument("--init", default=None, metavar="FILE",
                        help="initial checkpoint to compare with (default: init.npz beside the checkpoint)")
    args = parser.parse_args(argv)
    if args.points < 2:
        parser.error(f"--points must be at least 2, got {args.points}")
    if args.zoom_omega is not None and not args.zoom_omega > 0:
        parser.error(f"--zoom-omega must be a positive angular frequency in rad/s, got {args.zoom_omega}")
    if args.init is not None and args.checkpoint is None:
        parser.error("--init compares with a trained network; give it with --checkpoint")
    return args


def load_neurons(checkpoint, init, brf_dt):
    """Return the ``OmegaScatter`` of an RF or BRF checkpoint and the time step [s] of its neurons."""
    from rfsim.analysis.parameters import omega_b_scatter
    from rfsim.errors import RFSimError

    scatter = omega_b_scatter(checkpoint, init)
    if scatter.model not in ("brf", "rf"):
        raise RFSimError(f"the checkpoint contains a {scatter.model} network; this figure shows the RF/BRF region "
                         "only (use figures/parameters.py for BHRF networks)")
    if brf_dt is not None and brf_dt != scatter.p_dt:
        raise RFSimError(f"--brf-dt {brf_dt:g} s differs from the checkpoint's boundary time step "
                         f"{scatter.p_dt:g} s; leave out --brf-dt")
    return scatter, scatter.p_dt


def _draw_zoom(axes, dt_values, brf_dt, b_offsets, zoom_omega, scatter, n_points):
    """Draw p(omega) per dt, the BRF damping curves and the neurons on omega in (0, zoom_omega]."""
    from rfsim.analysis.boundary import neuron_damping, rf_boundary

    minima = [0.0]
    regions = []
    for index, dt in enumerate(dt_values):
        top = min(zoom_omega, 1.0 / dt)
        omega = np.linspace(top / n_points, top, n_points)
        region = rf_boundary(omega, dt)
        regions.append(region)
        axes.plot(omega, region.b_upper, color=f"C{index % 10}", linewidth=1.4, label=f"p(omega), dt = {dt:g} s")
        minima.append(region.b_upper.min())

    top = min(zoom_omega, 1.0 / brf_dt)
    omega = np.linspace(top / n_points, top, n_points)
    damping = neuron_damping("brf", omega, brf_dt)
    for index, b_offset in enumerate(b_offsets):
        curve = damping.damping(b_offset)
        axes.plot(omega, curve, color="0.25", linewidth=1.0, linestyle=("--", ":", "-.")[index % 3],
                  label=f"BRF b = p(omega) - {b_offset:g} (dt = {brf_dt:g} s)")
        minima.append(curve.min())

    if scatter is not None:
        minima.extend(points.b_c[np.isfinite(points.b_c)].min() for points in (scatter.init, scatter.trained)
                     if points is not None and np.isfinite(points.b_c).any())
    # The lower roots lie near -2/dt, far below this view; the shading runs down to them.
    bottom = min(minima)
    margin = 0.08 * max(-bottom, 1e-3)
    for index, region in enumerate(regions):
        axes.fill_between(region.omega, region.b_lower, region.b_upper, color=f"C{index % 10}", alpha=0.08,
                          linewidth=0)
    axes.set_ylim(bottom - margin, margin)

    if scatter is not None:
        if scatter.init is not None:
            axes.scatter(scatter.init.omega, scatter.init.b_c, s=14, color="0.6", marker="o", zorder=3,
                         label=f"{scatter.init_label}: {scatter.init.omega.size} neurons")
        axes.scatter(scatter.trained.omega, scatter.trained.b_c, s=16, color="C3", marker="o", zorder=3,
                     label=f"{scatter.trained_label}: {scatter.trained.n_outside} outside the region")

    axes.set_xlim(0.0, zoom_omega)
    axes.set_xlabel("angular frequency omega [rad/s]")
    axes.set_ylabel("damping b at q = 0 [1/s]")
    model = "" if scatter is None else f", {scatter.model.upper()} neurons"
    axes.set_title(f"zoom near the boundary{model}", fontsize="medium")
    axes.axhline(0.0, color="0.5", linewidth=0.6)
    axes.legend(loc="lower left", fontsize="x-small")


def build_figure(dt_values, n_points, brf_dt, b_offsets, zoom_omega, scatter=None):
    """Build the two-panel figure: the regions for each dt and the zoom near p(omega)."""
    from rfsim.analysis.boundary import boundary_curves
    from rfsim.analysis.plots import boundary_figure

    regions = boundary_curves(dt_values, model="rf", scheme="euler", n_omega=n_points)
    figure = boundary_figure(regions, title="Convergence region of the Euler RF / BRF neuron")
    figure.set_size_inches(13.0, 5.0)
    # Move the library's single panel into the left half of a two-panel grid.
    grid = GridSpec(1, 2, figure=figure, width_ratios=(1.0, 1.0))
    region_axes = figure.axes[0]
    region_axes.set_subplotspec(grid[0])
    region_axes.set_title("convergence region b_lower <= b <= p(omega)", fontsize="medium")
    _draw_zoom(figure.add_subplot(grid[1]), dt_values, brf_dt, b_offsets, zoom_omega, scatter, n_points)
    figure.suptitle("Divergence boundary p(omega) of the Euler-discretised RF / BRF neuron")
    return figure


def _main(argv):
    args = parse_args(argv)
    scatter, brf_dt = None, args.brf_dt if args.brf_dt is not None else 0.01
    if args.checkpoint is not None:
        scatter, brf_dt = load_neurons(args.checkpoint, args.init, args.brf_dt)
        print(f"{run_label(args.checkpoint)}: {scatter.trained.omega.size} {scatter.model.upper()} neurons, "
              f"{scatter.trained.n_outside} outside the convergence region after training")

    zoom_omega = args.zoom_omega
    if zoom_omega is None:
        zoom_omega = 30.0 if scatter is None else 1.2 * float(scatter.trained.omega.max())
        if scatter is not None and scatter.init is not None:
            zoom_omega = max(zoom_omega, 1.2 * float(scatter.init.omega.max()))
    figure = build_figure(args.dt, args.points, brf_dt, args.b_offset, zoom_omega, scatter)
    write_figure(figure, args.out)
    return 0


def main(argv=None):
    """Run the script with command-line arguments ``argv`` (default ``sys.argv[1:]``); return the exit status."""
    return run_main(_main, argv)


if __name__ == "__main__":
    sys.exit(main())
