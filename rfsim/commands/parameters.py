"""Commands ``rfsim parameters`` and ``rfsim convergence``."""

import click

from rfsim.cli import cli, data_dir_option, fail_on_rfsim_error, split_option, task_option


def _summary_row(name, unit, values):
    """Format min, median and max of a parameter vector."""
    import numpy as np

    values = np.asarray(values, dtype=float)
    return (f"{name} [{unit}]: min {np.nanmin(values):.4g}, median {np.nanmedian(values):.4g}, "
            f"max {np.nanmax(values):.4g}")


def _echo_scatter(scatter):
    """Print the (omega, b_c) comparison of the initial and trained neurons."""
    boundary = {"brf": "b_c = p(omega) - b_offset", "rf": "b_c = -b_offset",
                "bhrf": "b_c = (dt/2) omega^2 + b_offset"}[scatter.model]
    region = ("b_lower(omega) <= b_c <= p(omega), b_lower = (-1 - sqrt(1 - (dt omega)^2))/dt"
              if scatter.model != "bhrf" else "0 <= b_c <= (1 - (dt omega)^2/4)/dt")
    click.echo(f"damping at q = 0: {boundary} (omega = |omega_raw|, b_offset = |b_offset_raw|); "
               f"the neuron converges for {region}")
    for name, points in (("initial", scatter.init), ("trained", scatter.trained)):
        if points is None:
            continue
        label = scatter.init_label if name == "initial" else scatter.trained_label
        click.echo(f"{name} ({label}):")
        click.echo("  " + _summary_row("omega", "rad/s", points.omega))
        click.echo("  " + _summary_row("b_offset", "1/s", points.b_offset))
        click.echo("  " + _summary_row("b_c", "1/s", points.b_c))
        click.echo(f"  neurons outside the convergence region: {points.n_outside} of {points.omega.size}")


def _echo_spectrum(spectrum, scatter):
    """Print the dominant frequencies of the data and how the neurons' omegas sit around them."""
    import numpy as np

    from rfsim.analysis.parameters import match_to_peaks

    click.echo(f"dominant angular frequencies of the input: peaks of the mean |rfft(x)|^2 over "
               f"{spectrum.n_sequences} sequences and {spectrum.n_channels} channels (T = {spectrum.n_steps} steps, "
               f"dt = {spectrum.dt:g} s, bins of {spectrum.bin_width:.4g} rad/s, DC excluded, searched up to "
               f"{spectrum.omega_max:.4g} rad/s, prominence >= {100 * spectrum.relative_prominence:g} % of the largest "
               "power)")
    if spectrum.peak_omega.size == 0:
        click.echo("  no peak found; lower --prominence to accept weaker peaks")
        return
    networks = [] if scatter is None else [(name, points) for name, points in
                                           (("initial", scatter.init), ("trained", scatter.trained))
                                           if points is not None]
    matches = {name: match_to_peaks(points.omega, spectrum.peak_omega) for name, points in networks}
    header = f"  {'rank':>4}  {'omega [rad/s]':>13}  {'f [Hz]':>8}  {'share of peak power':>19}"
    header += "".join(f"  {name + ' neurons nearest':>24}" for name in matches)
    click.echo(header)
    for rank, (omega, weight) in enumerate(zip(spectrum.peak_omega, spectrum.weights)):
        row = f"  {rank + 1:>4}  {omega:>13.4g}  {omega / (2 * np.pi):>8.4g}  {100 * weight:>18.1f}%"
        row += "".join(f"  {int(match.counts[rank]):>24}" for match in matches.values())
        click.echo(row)
    for name, match in matches.items():
        click.echo(f"  {name} neurons: median |omega - nearest peak| = {np.median(match.distance):.4g} rad/s")


@cli.command()
@click.option("--checkpoint", "checkpoint_path", type=click.Path(), required=True,
              help="Trained checkpoint .npz (its .json sidecar beside it) or a run folder (its best.npz).")
@click.option("--init", "init_path", type=click.Path(dir_okay=False), default=None,
              help="Initial checkpoint to compare with (default: the init.npz beside the checkpoint, if present).")
@task_option("Task whose data is analysed (default: the checkpoint's task).")
@split_option("Dataset split for the spectrum, the sparsity measures and the raster.")
@data_dir_option
@click.option("--peaks", "n_peaks", type=int, default=5, show_default=True,
              help="Largest number of dominant frequencies to report.")
@click.option("--prominence", type=float, default=0.05, show_default=True,
              help="Smallest peak prominence, as a fraction of the largest non-DC power.")
@click.option("--limit", "max_sequences", type=int, default=None,
              help="Use only the first N sequences of the split.")
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False), default=None,
              help="Write the omega/b_c scatter, omega histograms and spectrum to this figure (.png, .pdf, .svg).")
@click.option("--out", "out_path", type=click.Path(dir_okay=False), default=None,
              help="Write per-neuron parameters and spike counts (.csv) or every array (.npz) to this file.")
@click.option("--raster", "raster_path", type=click.Path(dir_okay=False), default=None,
              help="Write a raster plot of the hidden spikes of one sequence to this figure.")
@click.option("--sample", type=int, default=0, show_default=True, help="Index of the raster's sequence in the split.")
@fail_on_rfsim_error
def parameters(checkpoint_path, init_path, task, split, data_dir, n_peaks, prominence, max_sequences, plot_path,
               out_path, raster_path, sample):
    """Compare initial and trained neuron parameters, the data's spectrum and the network's sparsity."""
    from rfsim.analysis import parameters as analysis
    from rfsim.analysis._checkpoints import load_analysis_checkpoint
    from rfsim.analysis.sparsity import sparsity_report

    if n_peaks < 1:
        raise click.BadParameter(f"the number of peaks must be at least 1, got {n_peaks}", param_hint="--peaks")
    if not 0.0 <= prominence < 1.0:
        raise click.BadParameter(f"the prominence is a fraction in [0, 1) of the largest power, got {prominence}",
                                 param_hint="--prominence")
    if max_sequences is not None and max_sequences < 1:
        raise click.BadParameter(f"the number of sequences must be at least 1, got {max_sequences}",
                                 param_hint="--limit")

    trained_path, init_resolved = analysis.resolve_checkpoint_pair(checkpoint_path, init_path)
    loaded = load_analysis_checkpoint(trained_path, task=task, data_dir=data_dir)
    dataset = getattr(loaded.task, split)
    if sample < 0 or sample >= len(dataset):
        raise click.BadParameter(f"sample {sample} is outside split {split!r}, which has {len(dataset)} sequences; "
                                 f"choose an index from 0 to {len(dataset) - 1}", param_hint="--sample")
    if max_sequences is not None and max_sequences < len(dataset):
        import numpy as np

        dataset = dataset.subset(np.arange(max_sequences))

    net = loaded.net_config
    click.echo(f"checkpoint: {loaded.name} ({net.model.upper()}, {net.n_hidden} hidden neurons, dt = {net.dt:g} s, "
               f"task {loaded.config.task})")
    scatter = None
    if net.model == "alif":
        click.echo("ALIF neurons have no omega: " + _summary_row("tau_mem", "steps",
                                                                 abs(loaded.params["hidden.tau_mem"])))
    else:
        scatter = analysis.omega_b_scatter(trained_path, init_resolved)
        _echo_scatter(scatter)

    omega_max = 1.0 / net.p_dt if net.model == "brf" else None
    spectrum = analysis.dominant_frequencies(dataset, n=n_peaks, dt=net.dt, prominence=prominence,
                                             omega_max=omega_max)
    _echo_spectrum(spectrum, scatter)

    report = sparsity_report(loaded, split, max_sequences=max_sequences)
    for line in report.lines():
        click.echo(line)

    if out_path is not None:
        analysis.save_parameter_analysis(out_path, scatter=scatter, spectrum=spectrum, sparsity=report)
        click.echo(f"parameters written to {out_path}")
    if plot_path is not None:
        from rfsim.analysis.plots_network import omega_scatter_figure, save_figure, spectrum_figure

        if scatter is not None:
            figure = omega_scatter_figure(scatter, spectrum, title=loaded.name)
        else:
            figure = spectrum_figure(spectrum, title=loaded.name)
        save_figure(figure, plot_path)
        click.echo(f"figure written to {plot_path}")
    if raster_path is not None:
        from rfsim.analysis.plots_network import raster_figure, save_figure

        raster = analysis.hidden_raster(loaded, split, sample)
        save_figure(raster_figure(raster, title=f"{loaded.name}, {split} sequence {sample}"), raster_path)
        click.echo(f"raster of {split} sequence {sample} ({raster.spike_count} hidden spikes, neurons sorted by "
                   f"{raster.sort_by}) written to {raster_path}")


@cli.command()
@click.argument("runs", nargs=-1, required=True, type=click.Path())
@click.option("--group-by", multiple=True, default=("model",), show_default=True,
              help="Training setting of config.json that groups runs (repeatable): runs with equal values "
                   "of these settings form one group, whatever their other settings.")
@click.option("--population-std", is_flag=True,
              help="Use the population standard deviation (ddof 0) instead of the sample one (ddof 1).")
@click.option("--out", "out_path", type=click.Path(dir_okay=False), default=None,
              help="Write the table to this .csv or .json file.")
@fail_on_rfsim_error
def convergence(runs, group_by, population_std, out_path):
    """Print epochs to 95/98/100 % of the final accuracy for run folders or log.csv files (RUNS)."""
    from rfsim.analysis.convergence import convergence_table, format_convergence_markdown, save_convergence

    table = convergence_table(runs, group_by=group_by, ddof=0 if population_std else 1)
    click.echo(format_convergence_markdown(table))
    if out_path is not None:
        save_convergence(table, out_path)
        click.echo(f"table written to {out_path}")
