"""Command ``rfsim spectral``: spectral radii of checkpoints."""

import click

from rfsim.cli import cli, data_dir_option, fail_on_rfsim_error, logger, split_option, task_option
from rfsim.errors import RFSimError


def _single_threaded_blas():
    """Ask OpenBLAS for one thread, unless the user set ``OPENBLAS_NUM_THREADS`` or NumPy is loaded already.

    ``rfsim spectral`` solves one small eigenvalue problem per time step, and a
    threaded BLAS makes each of them slower. OpenBLAS reads the variable when NumPy
    loads it, so this must run before the first NumPy import.
    """
    import os
    import sys

    if "numpy" not in sys.modules:
        os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


def _check_spectral_options(n_steps, stride, n_vectors, sample, seed, refractory_steps, lags, out_path, plot_path):
    """Raise ``click.BadParameter`` for the first invalid option of ``rfsim spectral``."""
    import os

    from matplotlib.figure import Figure

    from rfsim.analysis.spectral import check_output_path

    for value, name, least in ((n_steps, "--steps", 1), (stride, "--stride", 1), (n_vectors, "--vectors", 1),
                               (sample, "--sample", 0), (seed, "--seed", 0)):
        if value is not None and value < least:
            raise click.BadParameter(f"must be at least {least}, got {value}", param_hint=name)
    for value, name in [(k, "--refractory-steps") for k in refractory_steps] + [(k, "--lag") for k in lags]:
        if value < 0:
            raise click.BadParameter(f"must be a non-negative number of steps, got {value}", param_hint=name)
    if out_path is not None:
        try:
            check_output_path(out_path)
        except RFSimError as error:
            raise click.BadParameter(str(error), param_hint="--out") from error
    if plot_path is not None:
        suffix = os.path.splitext(plot_path)[1].lstrip(".").lower()
        formats = Figure().canvas.get_supported_filetypes()
        if suffix not in formats:
            raise click.BadParameter(f"unknown figure format {suffix or 'none'!r} of {plot_path!r}; use one of "
                                     f"{', '.join('.' + name for name in sorted(formats))}", param_hint="--plot")


@cli.command()
@click.option("--checkpoint", "checkpoint_paths", type=click.Path(dir_okay=False), multiple=True, required=True,
              help="Checkpoint .npz written by rfsim train; repeat to compare several (for example BRF, RF, ALIF).")
@task_option("Task whose sequence drives the networks (default: each checkpoint's own task).")
@split_option("Dataset split of the sequence.")
@click.option("--sample", type=int, default=0, show_default=True, help="Index of the sequence in the split.")
@click.option("--steps", "n_steps", type=int, default=None,
              help="Analyse only the first N time steps of the sequence (default: all).")
@click.option("--stride", type=int, default=1, show_default=True,
              help="Decompose the whole-network Jacobian at every N-th step only; the gradient covers every step.")
@click.option("--refractory-steps", type=int, multiple=True,
              help="Also evaluate each neuron K steps after a spike, with q = gamma^K; repeatable "
                   "(default 0: the step right after the spike, q = 1).")
@click.option("--vectors", "n_vectors", type=int, default=16, show_default=True,
              help="Random unit vectors propagated backwards through the network.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the random vectors.")
@click.option("--lag", "lags", type=int, multiple=True,
              help="Lag [steps] of a gradient-ratio column; repeatable (default 10, 100 and 500).")
@data_dir_option
@click.option("--out", "out_path", type=click.Path(dir_okay=False), default=None,
              help="Write every result to this file: .csv (long table) or .npz (all arrays).")
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False), default=None,
              help="Write a figure of the per-neuron radii, rho(J_t) and the gradient norm against lag "
                   "(.png, .pdf, .svg).")
@fail_on_rfsim_error
def spectral(checkpoint_paths, task, split, sample, n_steps, stride, refractory_steps, n_vectors, seed, lags, data_dir,
             out_path, plot_path):
    """Print the spectral radius of the state-transition map of trained networks.

    Per neuron: the one-step Jacobian of the membrane at rest (q = 0) and after a
    spike, with every neuron outside its convergence region listed. Whole network:
    the Jacobian of the hidden state along one sequence, its spectral radius per
    step, and how a back-propagated gradient decays with the time lag. Several
    checkpoints are compared in one table.
    """
    _single_threaded_blas()
    from rfsim.analysis.spectral import (
        DEFAULT_LAGS,
        format_comparison,
        format_neuron_summary,
        save_spectral_reports,
        spectral_report,
        summarize_spectra,
    )

    _check_spectral_options(n_steps, stride, n_vectors, sample, seed, refractory_steps, lags, out_path, plot_path)
    lags = lags or DEFAULT_LAGS
    reports = []
    for path in checkpoint_paths:
        logger.info("analysing %s", path)
        report = spectral_report(path, task=task, split=split, sample=sample, n_steps=n_steps, data_dir=data_dir,
                                 refractory_steps=refractory_steps or (0,), n_vectors=n_vectors, rng=seed,
                                 stride=stride)
        if report.network.replay_error > 0:
            logger.warning("%s: the recomputed states differ from the engine's record by up to %.3g",
                           report.name, report.network.replay_error)
        click.echo(format_neuron_summary(report))
        click.echo("")
        reports.append(report)

    network = reports[0].network
    decomposed = "every step" if stride == 1 else f"every {stride}th step"
    click.echo(f"whole network along {split} sequence {sample} ({network.n_steps} steps, Jacobian decomposed at "
               f"{decomposed}, {n_vectors} random vectors):")
    click.echo(format_comparison([summarize_spectra(report, lags) for report in reports]))

    if out_path is not None:
        save_spectral_reports(reports, out_path, lags)
        click.echo(f"results written to {out_path}")
    if plot_path is not None:
        from rfsim.analysis.plots_network import save_figure, spectral_figure

        save_figure(spectral_figure(reports), plot_path)
        click.echo(f"figure written to {plot_path}")
