"""Command ``rfsim robustness``: perturbation sweeps of a checkpoint."""

import click

from rfsim.cli import (
    check_figure_suffix,
    check_suffix,
    cli,
    data_dir_option,
    fail_on_rfsim_error,
    parse_number_list,
    show_progress,
    split_option,
    task_option,
)
from rfsim.errors import RFSimError


def _sweep_progress(show):
    """Return a ``progress(done, total)`` callback that draws a tqdm bar, or None."""
    if not show:
        return None
    from tqdm import tqdm

    bar = {}

    def update(done, total):
        if "bar" not in bar:
            bar["bar"] = tqdm(total=total, desc="evaluations", unit="eval", leave=False)
        bar["bar"].update(1)
        if done == total:
            bar["bar"].close()

    return update


@cli.command()
@click.option("--checkpoint", "checkpoint_path", type=click.Path(dir_okay=False), required=True,
              help="Trained checkpoint .npz (its .json sidecar beside it).")
@click.option("--kind", type=click.Choice(["quantize", "input-noise", "spike-deletion", "weight-noise"]),
              required=True, help="Perturbation: fixed-point weights, Gaussian input noise, deleted hidden spikes "
                                  "or Gaussian weight noise.")
@click.option("--levels", "levels_text", required=True,
              help="Comma-separated levels: fractional bits (quantize), noise std (input-noise, weight-noise) or "
                   "deletion probability in [0, 1] (spike-deletion), such as 0,0.1,0.2.")
@click.option("--repeats", type=int, default=5, show_default=True,
              help="Repetitions per level with independent draws (quantize is deterministic and uses 1).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of every random draw.")
@split_option()
@click.option("--subset", type=int, default=None,
              help="Evaluate only N sequences of the split: the first N, or a random draw with --subset-seed.")
@click.option("--subset-seed", type=int, default=None, help="Draw the --subset sequences at random with this seed.")
@click.option("--parameters", type=click.Choice(["weights", "all"]), default="weights", show_default=True,
              help="Parameters that quantize and weight-noise perturb: weights and biases, or also omega, "
                   "b_offset and the time constants.")
@click.option("--relative/--absolute", "relative", default=True, show_default=True,
              help="weight-noise: the level multiplies the std of each trained weight array, or is the noise std.")
@click.option("--clip/--no-clip", "clip_inputs", default=False, show_default=True,
              help="input-noise: clip the noisy input to the range of the clean inputs ([0, 1] for spikes).")
@task_option("Task to evaluate on (default: the checkpoint's task).")
@data_dir_option
@click.option("--out", "out_path", type=click.Path(dir_okay=False), default=None,
              help="Write every repetition, the means and stds to this .csv or .npz file.")
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False), default=None,
              help="Write accuracy and SOP against the level to this figure (.png, .pdf, .svg).")
@click.option("--progress/--no-progress", default=True,
              help="Show a progress bar over the evaluations (on a terminal only).")
@fail_on_rfsim_error
def robustness(checkpoint_path, kind, levels_text, repeats, seed, split, subset, subset_seed, parameters, relative,
               clip_inputs, task, data_dir, out_path, plot_path, progress):
    """Print the accuracy and SOP of a trained network under a perturbation swept over its level.

    Each level is evaluated --repeats times with independent draws (the same
    draws at every level), and the table shows the mean and std over them.
    """
    from rfsim.analysis.robustness import check_levels, robustness_sweep, save_robustness

    levels = parse_number_list(levels_text, "--levels")
    try:
        check_levels(kind, levels)
    except RFSimError as error:
        raise click.BadParameter(str(error), param_hint="--levels") from error
    if repeats < 1:
        raise click.BadParameter(f"must be at least 1, got {repeats}", param_hint="--repeats")
    if seed < 0:
        raise click.BadParameter(f"must be a non-negative integer, got {seed}", param_hint="--seed")
    if subset is not None and subset < 1:
        raise click.BadParameter(f"the subset must contain at least one sequence, got {subset}",
                                 param_hint="--subset")
    if subset_seed is not None and subset is None:
        raise click.UsageError("--subset-seed draws a random subset; give its size with --subset N")
    check_suffix(out_path, (".csv", ".npz"), "--out")
    check_figure_suffix(plot_path)

    sweep = robustness_sweep(checkpoint_path, kind, levels, repeats=repeats, seed=seed, split=split, subset=subset,
                             subset_seed=subset_seed, parameters=parameters,
                             noise_scale="relative" if relative else "absolute", clip_inputs=clip_inputs, task=task,
                             data_dir=data_dir, progress=_sweep_progress(show_progress(progress)))
    for line in sweep.lines():
        click.echo(line)
    click.echo(f"evaluated {sweep.levels.size * sweep.repeats + 1} networks in {sweep.seconds:.2f} s")
    if out_path is not None:
        save_robustness(sweep, out_path)
        click.echo(f"results written to {out_path}")
    if plot_path is not None:
        from rfsim.analysis.plots_network import robustness_figure, save_figure

        save_figure(robustness_figure(sweep), plot_path)
        click.echo(f"figure written to {plot_path}")
