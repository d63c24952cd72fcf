"""Command ``rfsim landscape``: loss landscapes of a checkpoint."""

import click

from rfsim.cli import (
    check_output_paths,
    cli,
    data_dir_option,
    fail_on_rfsim_error,
    log_caught_warnings,
    show_progress,
    split_option,
    task_option,
)
from rfsim.errors import RFSimError


def _landscape_progress(show):
    """Return a ``progress(stage, done, total)`` callback that draws one tqdm bar per stage, or None."""
    if not show:
        return None
    from tqdm import tqdm

    bars = {}

    def update(stage, done, total):
        if stage not in bars:
            bars[stage] = tqdm(total=total, desc=stage, unit="point", leave=False)
        bars[stage].update(1)
        if done == total:
            bars[stage].close()

    return update


def _grid_extremes(grid, values):
    """Describe the minimum and maximum of finite grid values with their (alpha, beta) coordinates."""
    import numpy as np

    if not np.isfinite(values).any():
        return "no finite value"
    masked = np.where(np.isfinite(values), values, np.nan)
    low = np.unravel_index(np.nanargmin(masked), values.shape)
    high = np.unravel_index(np.nanargmax(masked), values.shape)
    return (f"min {values[low]:.6g} at (alpha, beta) = ({grid.alpha[low[0]]:g}, {grid.beta[low[1]]:g}), "
            f"max {values[high]:.6g} at ({grid.alpha[high[0]]:g}, {grid.beta[high[1]]:g})")


def _echo_curve(curve, start_path, checkpoint_path):
    """Print the summary of a 1-D interpolation."""
    import numpy as np

    click.echo(f"interpolation from {start_path} (a = 0) to {checkpoint_path} (a = 1): {curve.alpha.size} points, "
               f"a from {curve.alpha[0]:g} to {curve.alpha[-1]:g}")
    click.echo(f"loss at a = 0: {curve.value_at(0.0):.6g} (accuracy {curve.value_at(0.0, 'accuracy'):.2f} %), "
               f"at a = 1: {curve.value_at(1.0):.6g} (accuracy {curve.value_at(1.0, 'accuracy'):.2f} %)")
    finite = np.isfinite(curve.loss)
    if finite.any():
        masked = np.where(finite, curve.loss, np.nan)
        low, high = np.nanargmin(masked), np.nanargmax(masked)
        click.echo(f"loss along the curve: min {curve.loss[low]:.6g} at a = {curve.alpha[low]:g}, "
                   f"max {curve.loss[high]:.6g} at a = {curve.alpha[high]:g}")
    inside = (curve.alpha >= 0.0) & (curve.alpha <= 1.0)
    rises = np.diff(curve.loss[inside])
    if rises.size and np.all(np.isfinite(rises)) and np.all(rises <= 0):
        click.echo("the loss decreases monotonically from a = 0 to a = 1")
    elif rises.size and np.all(np.isfinite(rises)):
        k = int(np.argmax(rises))
        a_inside = curve.alpha[inside]
        click.echo(f"the loss is not monotone from a = 0 to a = 1: largest rise {rises[k]:.6g} between "
                   f"a = {a_inside[k]:g} and a = {a_inside[k + 1]:g}")
    if not finite.all():
        click.echo(f"non-finite loss at {int(np.count_nonzero(~finite))} of {curve.alpha.size} points")
    click.echo(f"evaluated {curve.alpha.size} points in {curve.seconds:.2f} s "
               f"({curve.seconds / curve.alpha.size:.3g} s per point, {curve.workers} worker(s))")


def _check_landscape_suffixes(out_path, save_directions_path, plot_path):
    """Reject output file names whose format is unknown before the landscape is evaluated."""
    import os

    check_output_paths(out_path, (".csv", ".npz"), plot_path)
    if save_directions_path is not None and os.path.splitext(save_directions_path)[1] != ".npz":
        raise click.BadParameter(f"the directions file must end in .npz, got {save_directions_path!r}",
                                 param_hint="--save-directions")


def _option_value(name, given, stored):
    """Return the stored setting of a directions file, rejecting a different value given on the command line."""
    if given is not None and given != stored:
        raise click.UsageError(f"{name} {given} differs from the directions file's {stored}; omit {name} "
                               "when reusing directions, or draw new ones without --directions")
    return stored


@cli.command()
@click.option("--checkpoint", "checkpoint_path", type=click.Path(dir_okay=False), required=True,
              help="Trained checkpoint .npz (its .json sidecar beside it): the centre of the grid.")
@task_option("Task to evaluate on (default: the checkpoint's task).")
@split_option()
@data_dir_option
@click.option("--grid", "grid_points", type=int, default=21, show_default=True,
              help="Points per axis, odd and at least 3 (GRID x GRID evaluations).")
@click.option("--span", type=float, default=1.0, show_default=True,
              help="alpha and beta run from -SPAN to SPAN, in multiples of the filter-normalised directions.")
@click.option("--plane", type=click.Choice(["weights", "omega-b"]), default=None,
              help="weights: random directions in all parameters; omega-b: omega against b_offset "
                   "(RF-family models). Default: weights.")
@click.option("--vectors", type=click.Choice(["filter", "elementwise", "exclude"]), default=None,
              help="Per-neuron vectors (omega, b_offset, tau, biases): filter normalises each vector as one "
                   "filter, elementwise scales each entry to its trained magnitude, exclude keeps them fixed. "
                   "Default: filter.")
@click.option("--seed", type=int, default=None, help="Seed of the random directions (default 0).")
@click.option("--subset", type=int, default=None,
              help="Evaluate only N sequences of the split: the first N, or a random draw with --subset-seed.")
@click.option("--subset-seed", type=int, default=None, help="Draw the --subset sequences at random with this seed.")
@click.option("--directions", "directions_path", type=click.Path(dir_okay=False), default=None,
              help="Reuse the directions saved in this .npz file (its plane, vectors and seed apply).")
@click.option("--save-directions", "save_directions_path", type=click.Path(dir_okay=False), default=None,
              help="Write the directions to this .npz file, for recomputing the same plot with --directions.")
@click.option("--interpolate-from", "start_path", type=click.Path(dir_okay=False), default=None,
              help="Also evaluate the line from this checkpoint (a = 0, usually init.npz) to --checkpoint (a = 1).")
@click.option("--interpolation-points", type=int, default=21, show_default=True,
              help="Evenly spaced points of the interpolation (0 and 1 are always included).")
@click.option("--interpolation-range", type=float, nargs=2, default=(0.0, 1.0), show_default=True,
              metavar="START STOP", help="Range of a; values outside [0, 1] extrapolate beyond the checkpoints.")
@click.option("--interpolation-only", is_flag=True, help="Skip the 2-D grid (needs --interpolate-from).")
@click.option("--workers", type=int, default=1, show_default=True,
              help="Grid points evaluated at the same time; the Numba threads are shared among them.")
@click.option("--out", "out_path", type=click.Path(dir_okay=False), default=None,
              help="Write the grid and curve with their settings to this .csv or .npz file.")
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False), default=None,
              help="Write the surface, contour and interpolation figure to this file (.png, .pdf, .svg).")
@click.option("--plot-metric", type=click.Choice(["loss", "accuracy", "sop"]), default="loss", show_default=True,
              help="Value drawn in the figure.")
@click.option("--progress/--no-progress", default=True,
              help="Show a progress bar over the grid points (on a terminal only).")
@fail_on_rfsim_error
def landscape(checkpoint_path, task, split, data_dir, grid_points, span, plane, vectors, seed, subset, subset_seed,
              directions_path, save_directions_path, start_path, interpolation_points, interpolation_range,
              interpolation_only, workers, out_path, plot_path, plot_metric, progress):
    """Print the loss landscape of a checkpoint on a 2-D slice and along an interpolation.

    The slice is theta* + alpha d1 + beta d2 around the trained parameters
    theta*, with seeded random directions d1, d2 rescaled to the norm of each
    trained weight row (filter normalisation).
    """
    import warnings

    import numpy as np

    from rfsim.analysis import landscape as analysis
    from rfsim.errors import RFSimWarning

    with_grid = not interpolation_only
    checks = (("--grid", analysis.check_grid_size, grid_points), ("--span", analysis.check_span, span),
              ("--workers", analysis.check_workers, workers))
    for hint, check, value in checks:
        try:
            check(value)
        except RFSimError as error:
            raise click.BadParameter(str(error), param_hint=hint) from error
    if subset is not None and subset < 1:
        raise click.BadParameter(f"the subset must contain at least one sequence, got {subset}",
                                 param_hint="--subset")
    if subset_seed is not None and subset is None:
        raise click.UsageError("--subset-seed draws a random subset; give its size with --subset N")
    if interpolation_only and start_path is None:
        raise click.UsageError("--interpolation-only needs the start checkpoint of the line: "
                               "--interpolate-from FILE")
    if interpolation_only and (save_directions_path is not None or directions_path is not None):
        raise click.UsageError("--directions and --save-directions apply to the 2-D grid, which "
                               "--interpolation-only skips")
    _check_landscape_suffixes(out_path, save_directions_path, plot_path)
    if start_path is not None:
        try:
            analysis.interpolation_coordinates(interpolation_points, *interpolation_range)
        except RFSimError as error:
            raise click.BadParameter(str(error), param_hint="--interpolation-points/--interpolation-range") from error

    directions = None
    if directions_path is not None:
        try:
            directions = analysis.load_directions(directions_path)
        except RFSimError as error:
            raise click.BadParameter(str(error), param_hint="--directions") from error
        plane = _option_value("--plane", plane, directions.plane)
        vectors = _option_value("--vectors", vectors, directions.vectors)
        seed = _option_value("--seed", seed, directions.seed)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", RFSimWarning)
        result = analysis.network_landscape(
            checkpoint_path, grid=grid_points, span=span, plane=plane or "weights", vectors=vectors or "filter",
            seed=0 if seed is None else seed, directions=directions, split=split, subset=subset,
            subset_seed=subset_seed, interpolate_from=start_path, interpolation_points=interpolation_points,
            interpolation_range=interpolation_range, with_grid=with_grid, task=task, data_dir=data_dir,
            workers=workers, progress=_landscape_progress(show_progress(progress)))
    log_caught_warnings(caught)

    if result.subset is None:
        chosen = f"all {result.n_sequences} sequences"
    elif result.subset_seed is None:
        chosen = f"the first {result.n_sequences} sequences"
    else:
        chosen = f"{result.n_sequences} sequences drawn with seed {result.subset_seed}"
    reference = result.checkpoint_metrics
    click.echo(f"checkpoint: {result.checkpoint} ({result.model}), {result.split} split, {chosen}")
    click.echo(f"checkpoint loss: {reference.loss:.6g}, accuracy {reference.accuracy:.2f} %, "
               f"SOP {reference.sop:.1f} spikes per sequence")

    grid = result.grid
    if grid is not None:
        found = result.directions
        seed_text = "unknown" if found.seed is None else found.seed
        click.echo(f"grid: {grid.alpha.size} x {grid.beta.size} points, alpha and beta from {-result.span:g} to "
                   f"{result.span:g}, plane {found.plane}, vectors {found.vectors}, directions seed {seed_text}")
        centre = grid.centre_index
        click.echo(f"loss at the centre (alpha = beta = 0): {grid.centre_loss:.6g} "
                   f"(accuracy {grid.accuracy[centre]:.2f} %)")
        click.echo(f"loss over the grid: {_grid_extremes(grid, grid.loss)}")
        click.echo(f"accuracy over the grid [%]: {_grid_extremes(grid, grid.accuracy)}")
        diverged = int(np.count_nonzero(~np.isfinite(grid.loss)))
        if diverged:
            click.echo(f"non-finite loss at {diverged} of {grid.loss.size} points (the network diverged there)")
        outside = result.grid_outside
        if outside is not None and not outside.any():
            click.echo("BRF neurons outside the convergence region (q = 0): none at any grid point")
        elif outside is not None:
            worst = np.unravel_index(np.argmax(outside), outside.shape)
            click.echo(f"BRF neurons outside the convergence region (q = 0): {outside[centre]} at the centre, "
                       f"max {outside[worst]} at ({grid.alpha[worst[0]]:g}, {grid.beta[worst[1]]:g}), "
                       f"some outside at {np.count_nonzero(outside)} of {outside.size} points")
        click.echo(f"evaluated {grid.loss.size} points in {grid.seconds:.2f} s "
                   f"({grid.seconds / grid.loss.size:.3g} s per point, {grid.workers} worker(s))")
    if result.curve is not None:
        _echo_curve(result.curve, start_path, checkpoint_path)
        if result.curve_outside is not None:
            click.echo(f"BRF neurons outside the convergence region (q = 0) along the curve: "
                       f"max {int(result.curve_outside.max())}")

    if save_directions_path is not None:
        analysis.save_directions(result.directions, save_directions_path)
        click.echo(f"directions written to {save_directions_path}")
    if out_path is not None:
        analysis.save_landscape(result, out_path)
        click.echo(f"landscape written to {out_path}")
    if plot_path is not None:
        from rfsim.analysis.plots_network import landscape_figure, save_figure

        figure = landscape_figure(grid, result.curve, metric=plot_metric,
                                  axis_labels=analysis.axis_labels(result.directions),
                                  title=f"{result.model} checkpoint {result.checkpoint}, {result.split} split")
        save_figure(figure, plot_path)
        click.echo(f"figure written to {plot_path}")
