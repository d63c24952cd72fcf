"""Command-line interface of rfsim (console script ``rfsim``).

Each command is a thin layer over library calls: it parses options, calls the
library, and prints or writes the result. Commands raise ``click.BadParameter``
or ``click.ClickException`` for invalid input, so the exit status is non-zero.
"""

import logging
import sys
import warnings

import click

from rfsim import __version__
from rfsim.errors import RFSimError

logger = logging.getLogger("rfsim")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="rfsim")
@click.option("-v", "--verbose", count=True, help="Print more log messages (repeat for debug output).")
@click.option("-q", "--quiet", count=True, help="Print fewer log messages (repeat to silence warnings).")
@click.pass_context
def cli(ctx, verbose, quiet):
    """Simulate, train and analyse resonate-and-fire spiking neurons."""
    level = logging.INFO - 10 * verbose + 10 * quiet
    logging.basicConfig(level=max(logging.DEBUG, min(level, logging.CRITICAL)), format="%(levelname)s: %(message)s")

    # Python warnings go through the log as one line each (no source line), so -qq silences them too.
    original_format = warnings.formatwarning
    warnings.formatwarning = _one_line_warning
    logging.captureWarnings(True)
    ctx.call_on_close(lambda: (logging.captureWarnings(False), setattr(warnings, "formatwarning", original_format)))


def _one_line_warning(message, category, filename, lineno, line=None):
    """Format a warning as 'Category: message' for the log."""
    return f"{category.__name__}: {message}"


def show_progress(requested):
    """Return whether to draw a progress bar: when requested and standard error is a terminal."""
    return requested and sys.stderr.isatty()


data_dir_option = click.option("--data-dir", type=click.Path(file_okay=False), default=None,
                               help="Folder with local dataset files (overrides RFSIM_DATA_DIR).")
"""The ``--data-dir`` option of every command that reads a dataset."""


def fail_on_rfsim_error(function):
    """Turn an ``RFSimError`` raised by the library into a CLI error with exit status 1.

    The library names settings by their Python names (``n_hidden``, ``dt``), so the
    message gets the command-line option of each setting it names, for example
    "(set with --dt; set n_hidden with --hidden)".
    """
    import functools

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except RFSimError as error:
            message = str(error)
            raise click.ClickException(message + _option_hints(message)) from error

    return wrapper


def _option_hints(message):
    """Return " (set with --OPTION; set NAME with --OPTION)" for the options of the command that ``message`` names."""
    import re

    context = click.get_current_context(silent=True)
    if context is None:
        return ""
    same, renamed = [], []
    for param in context.command.params:
        if not isinstance(param, click.Option) or not param.name:
            continue
        flag = max(param.opts, key=len)
        named = re.search(rf"(?<![\w.-]){re.escape(param.name)}(?![\w(-])", message)
        if flag in message or not named:
            continue
        if flag.lstrip("-").replace("-", "_") == param.name:
            same.append(flag)
        else:
            renamed.append(f"set {param.name} with {flag}")
    parts = ([f"set with {', '.join(same)}"] if same else []) + renamed
    return f" ({'; '.join(parts)})" if parts else ""


# Commands are registered below, one section per topic.


# --- training and evaluation ---


def _pair(name, help_text):
    """Return a click option that takes two floats, such as a range or a (mean, std) pair."""
    return click.option(name, type=float, nargs=2, default=None, metavar="A B", help=help_text)


class _ProgressReporter:
    """Turn training callbacks into a tqdm progress bar and one log line per epoch."""

    def __init__(self, show_bar):
        self.show_bar = show_bar
        self.bar = None

    def __call__(self, event, info):
        from tqdm import tqdm

        if event == "epoch_start" and self.show_bar:
            self.bar = tqdm(total=info["n_batches"], desc=f"epoch {info['epoch']}", leave=False, unit="batch")
        elif event == "batch" and self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix(loss=f"{info['loss']:.4f}", acc=f"{info['accuracy']:.2f}%")
        elif event == "epoch":
            if self.bar is not None:
                self.bar.close()
                self.bar = None
            logger.info(
                "epoch %d  train loss %.5f acc %.2f%%  valid loss %.5f acc %.2f%%  test loss %.5f acc %.2f%%  "
                "SOP %.1f (%.3f per step)  %.1f s",
                info["epoch"], info["train_loss"], info["train_accuracy"], info["valid_loss"],
                info["valid_accuracy"], info["test_loss"], info["test_accuracy"], info["test_sop"],
                info["test_sop_per_step"], info["seconds"],
            )


@cli.command()
@click.option("--task", type=click.Choice(["ecg", "smnist", "psmnist", "shd", "synthetic"]), default=None,
              help="Task to train on (default: ecg, or the config file's task).")
@click.option("--model", type=click.Choice(["brf", "rf", "bhrf", "alif"]), default=None,
              help="Hidden neuron model (default: brf, or the config file's model).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default=None,
              help="Run folder for the log, checkpoints and summary (default: runs/TASK-MODEL-seedSEED).")
@click.option("--config", "config_file", type=click.Path(dir_okay=False), default=None,
              help="TOML or JSON file of settings that override the preset.")
@click.option("--resume", "resume_dir", type=click.Path(file_okay=False), default=None,
              help="Continue the interrupted run in this folder (its saved settings are used).")
@click.option("--max-minutes", type=float, default=None, help="Stop cleanly after this many minutes of wall time.")
@data_dir_option
@click.option("--seed", type=int, default=None, help="Seed of every random draw; equal seeds give identical runs.")
@click.option("--epochs", type=int, default=None, help="Training epochs.")
@click.option("--hidden", "n_hidden", type=int, default=None, help="Number of hidden neurons.")
@click.option("--batch-size", type=int, default=None, help="Training sequences per batch.")
@click.option("--eval-batch-size", type=int, default=None, help="Sequences per batch during evaluation.")
@click.option("--optimizer", type=click.Choice(["adam", "radam", "rmsprop"]), default=None, help="Optimizer.")
@click.option("--lr", type=float, default=None, help="Initial learning rate.")
@click.option("--lr-schedule", type=click.Choice(["linear", "constant"]), default=None,
              help="'linear' decays the learning rate to zero over the epochs.")
@click.option("--grad-clip", type=float, default=None, help="Maximum total gradient norm.")
@_pair("--omega-range", "Bounds of the uniform initial omega [rad/s].")
@_pair("--b-offset-range", "Bounds of the uniform initial b_offset [1/s].")
@_pair("--tau-out", "Mean and std of the normal initial readout time constant [time steps].")
@_pair("--tau-mem", "Mean and std of the normal initial ALIF membrane time constant [time steps].")
@_pair("--tau-adp", "Mean and std of the normal initial ALIF adaptation time constant [time steps].")
@click.option("--loss", type=click.Choice(["sequence", "label-last", "cross-entropy"]), default=None,
              help="Loss type.")
@click.option("--loss-offset", type=int, default=None, help="Initial time steps that loss and accuracy skip.")
@click.option("--tbptt", "tbptt_window", type=int, default=None,
              help="Truncated-BPTT window in time steps, with an optimizer step per window.")
@click.option("--hidden-bias/--no-hidden-bias", default=None, help="Give the hidden layer a bias.")
@click.option("--output-bias/--no-output-bias", default=None, help="Give the output layer a bias.")
@click.option("--dt", type=float, default=None, help="Time step of the RF-family neurons [s].")
@click.option("--surrogate", type=click.Choice(["reference", "paper", "fast-sigmoid", "triangle"]), default=None,
              help="Surrogate derivative of the spike function.")
@click.option("--rf-reset", type=click.Choice(["none", "soft", "hard"]), default=None, help="Reset of the RF model.")
@click.option("--pruning", type=float, default=None, help="Probability of removing each recurrent weight.")
@click.option("--dtype", type=click.Choice(["float64", "float32"]), default=None, help="Floating-point precision.")
@click.option("--valid-fraction", type=float, default=None, help="Fraction of training sequences for validation.")
@click.option("--limit-train", type=int, default=None, help="Train on only the first N training sequences.")
@click.option("--limit-eval", type=int, default=None, help="Validate and test on only the first N sequences.")
@click.option("--omega-init", type=click.Choice(["uniform", "spectrum"]), default=None,
              help="Draw initial omegas from --omega-range, or around the training inputs' spectral peaks.")
@click.option("--brf-ablation", type=click.Choice(["all", "no-boundary", "refractory-only", "smooth-reset-only",
                                                   "none"]), default=None,
              help="BRF variant: all mechanisms (default), no divergence boundary, q only in the threshold "
                   "(refractory-only), q only in the damping (smooth-reset-only), or none (plain RF).")
@click.option("--progress/--no-progress", default=True, help="Show a progress bar for each epoch (on a terminal only).")
@click.option("--show-config", is_flag=True,
              help="Print the resolved settings (preset, --config file and options) as JSON and exit without training.")
@fail_on_rfsim_error
def train(task, model, out_dir, config_file, resume_dir, max_minutes, data_dir, progress, show_config, **settings):
    """Train a recurrent spiking network on a task with the authors' settings.

    The preset of (TASK, MODEL) comes first, then the --config file (a flat
    TOML or JSON table of settings, or the config.json of an earlier run),
    then the options given. The run folder receives config.json (the
    settings), log.csv (one row per epoch), init.npz (the untrained network),
    best.npz (lowest validation loss), state.npz and optimizer.npz (for
    --resume) and summary.json; init.npz, best.npz and state.npz each have a
    .json sidecar.
    """
    import json

    from rfsim.analysis.studies import ablation_settings
    from rfsim.training.loop import Trainer
    from rfsim.training.presets import resolve_config

    settings.update(ablation_settings(settings.pop("brf_ablation")))
    reporter = _ProgressReporter(show_progress(progress))
    if resume_dir is not None:
        given = [name for name, value in settings.items() if value is not None] + (["--task"] if task else [])
        if given or model or config_file:
            raise click.UsageError("--resume continues with the run's saved settings; give no other settings")
        trainer = Trainer(None, resume_dir, resume=True)
        if show_config:
            click.echo(json.dumps(trainer.config.to_dict(), indent=2, sort_keys=True))
            return
    else:
        settings["data_dir"] = data_dir
        config = resolve_config(task or "ecg", model or "brf", overrides=settings, config_file=config_file)
        if show_config:
            click.echo(json.dumps(config.to_dict(), indent=2, sort_keys=True))
            return
        run_dir = out_dir or f"runs/{config.task}-{config.model}-seed{config.seed}"
        trainer = Trainer(config, run_dir)

    logger.info("training %s on %s in %s", trainer.config.model, trainer.config.task, trainer.run_dir)
    try:
        summary = trainer.run(callback=reporter, max_minutes=max_minutes)
    except KeyboardInterrupt:
        raise click.ClickException(_interrupted_message(trainer)) from None

    click.echo(f"status: {summary.status} after {summary.epochs_done} epochs ({summary.wall_seconds:.1f} s)")
    click.echo(f"best epoch: {summary.best_epoch} (lowest validation loss)")
    click.echo(f"test accuracy: {summary.test_accuracy:.2f} %  test loss: {summary.test_loss:.5f}  "
               f"SOP: {summary.test_sop:.1f} spikes per sequence")
    click.echo(f"epochs to 95/98/100 % of final accuracy: "
               f"{summary.epochs_to_95}/{summary.epochs_to_98}/{summary.epochs_to_100}")
    click.echo(f"checkpoint: {trainer.run_dir / 'best.npz'}")


def _interrupted_message(trainer):
    """Return the message for a training run stopped with Ctrl-C: what is saved and how to continue."""
    state = trainer.run_dir / "state.npz"
    if not state.exists():
        return "training interrupted before its first epoch finished; start it again with a new --out folder"
    return (f"training interrupted; the state after epoch {trainer.epochs_done} is saved in {state}. "
            f"Continue the run with: rfsim train --resume {trainer.run_dir}")


@cli.command()
@click.option("--checkpoint", "checkpoint_path", type=click.Path(), required=True,
              help="Checkpoint .npz written by rfsim train (its .json sidecar beside it), or a run folder "
                   "(its best.npz).")
@click.option("--task", type=click.Choice(["ecg", "smnist", "psmnist", "shd", "synthetic"]), default=None,
              help="Task to evaluate on (default: the checkpoint's task).")
@click.option("--split", type=click.Choice(["test", "valid", "train"]), default="test", help="Dataset split.")
@data_dir_option
@click.option("--predictions", "predictions_path", type=click.Path(dir_okay=False), default=None,
              help="Write the predicted class of every step or sequence to this .npz file.")
@fail_on_rfsim_error
def evaluate(checkpoint_path, task, split, data_dir, predictions_path):
    """Print the loss, accuracy and SOP of a checkpoint on a dataset split."""
    from rfsim.training.runs import evaluate_checkpoint

    result = evaluate_checkpoint(checkpoint_path, task=task, split=split, data_dir=data_dir,
                                 keep_predictions=predictions_path is not None)
    click.echo(f"{split} loss: {result.loss:.6f}")
    click.echo(f"{split} accuracy: {result.accuracy:.4f} %")
    click.echo(f"SOP: {result.sop:.2f} spikes per sequence ({result.sop_per_step:.4f} per step)")
    if predictions_path is not None:
        from rfsim.training.checkpoint import atomic_save_npz

        atomic_save_npz(predictions_path, {"predictions": result.predictions})
        click.echo(f"predictions written to {predictions_path}")


# --- simulate ---


def _parse_spike_times(text):
    """Parse a comma-separated list of spike times [s]."""
    try:
        return [float(item) for item in text.split(",") if item.strip()]
    except ValueError:
        raise click.BadParameter(
            f"expected comma-separated times in seconds such as 0.1,0.5, got {text!r}", param_hint="--spike-times"
        ) from None


def _build_input(input_kind, freq, amplitude, t0, phase, spike_times, input_file, duration, dt):
    """Build the input current of ``rfsim simulate`` from exactly one input source."""
    import numpy as np

    from rfsim.neurons import drive

    sources = [name for name, given in (("--input", input_kind), ("--spike-times", spike_times),
                                        ("--input-file", input_file)) if given is not None]
    if len(sources) != 1:
        raise click.UsageError(
            "give exactly one input source: --input spikes|sine with --freq, --spike-times or --input-file"
            + (f" (got {', '.join(sources)})" if sources else "")
        )

    if input_file is not None:
        try:
            current = drive.load_input(input_file)
        except RFSimError as error:
            raise click.BadParameter(str(error), param_hint="--input-file") from error
        if current.ndim != 1:
            raise click.BadParameter(
                f"{input_file} contains {current.shape[1]} columns; rfsim simulate runs one neuron, give one column",
                param_hint="--input-file",
            )
        if duration is not None:
            n_steps = drive.count_steps(duration, dt)
            current = np.concatenate([current, np.zeros(max(0, n_steps - current.size))])[:n_steps]
        return current

    duration = 5.0 if duration is None else duration
    if spike_times is not None:
        return drive.spikes_at_times(_parse_spike_times(spike_times), duration, dt, amplitude)
    if freq is None:
        raise click.BadParameter(f"--input {input_kind} needs --freq, the angular frequency in rad/s",
                                 param_hint="--freq")
    if input_kind == "spikes":
        return drive.spike_train(freq, duration, dt, amplitude, t0)
    return drive.sine(freq, duration, dt, amplitude, phase)


@cli.command()
@click.option("--model", type=click.Choice(["rf", "brf", "hrf", "bhrf", "alif"]), default="brf", show_default=True,
              help="Neuron model.")
@click.option("--omega", type=float, default=10.0, show_default=True, help="Angular frequency [rad/s].")
@click.option("--b-offset", type=float, default=1.0, show_default=True,
              help="Damping offset [1/s]; RF damping is -b_offset, HRF damping is +b_offset.")
@click.option("--dt", type=float, default=0.01, show_default=True, help="Time step [s].")
@click.option("--duration", type=float, default=None,
              help="Simulated time [s] (default 5 s; with --input-file, pads or truncates the file).")
@click.option("--theta", type=float, default=None, help="Threshold (default 1, or 0.01 for ALIF).")
@click.option("--gamma", type=float, default=0.9, show_default=True, help="Decay of q per step (BRF, BHRF).")
@click.option("--reset", type=click.Choice(["none", "soft", "hard"]), default="none", show_default=True,
              help="Reset of the RF model.")
@click.option("--spike-on", type=click.Choice(["real", "imag"]), default="real", show_default=True,
              help="Part of the RF membrane compared with the threshold.")
@click.option("--scheme", type=click.Choice(["euler", "exact"]), default="euler", show_default=True,
              help="RF discretisation: explicit Euler or exact exponential.")
@click.option("--no-boundary", is_flag=True, help="BRF ablation: replace p(omega) by 0.")
@click.option("--no-refractory", is_flag=True, help="BRF ablation: remove q from the threshold.")
@click.option("--no-smooth-reset", is_flag=True, help="BRF ablation: remove q from the damping.")
@click.option("--order", type=click.Choice(["implementation", "paper"]), default="implementation", show_default=True,
              help="HRF/BHRF update order: authors' semi-implicit step or the paper's explicit Euler.")
@click.option("--damping-sign", type=click.Choice(["implementation", "paper"]), default="implementation",
              show_default=True, help="BHRF damping p_h + b_offset + q (implementation) or p_h - b_offset - q (paper).")
@click.option("--harmonic-boundary", type=click.Choice(["implementation", "sustained"]), default="implementation",
              show_default=True,
              help="BHRF p_h(omega): dt*omega^2/2, or the sustained-oscillation damping of the chosen order.")
@click.option("--tau-mem", type=float, default=20.0, show_default=True, help="ALIF membrane time constant [steps].")
@click.option("--tau-adp", type=float, default=20.0, show_default=True, help="ALIF adaptation time constant [steps].")
@click.option("--alif-reset", type=click.Choice(["implementation", "next_step"]), default="implementation",
              show_default=True, help="ALIF soft reset in the same step (authors' code) or the next (Yin et al.).")
@click.option("--input", "input_kind", type=click.Choice(["spikes", "sine"]), default=None,
              help="Generated input: in-phase spike train or sine at --freq.")
@click.option("--freq", type=float, default=None, help="Angular frequency of the generated input [rad/s].")
@click.option("--amplitude", type=float, default=100.0, show_default=True,
              help="Input current per spike, or peak of the sine (an RF membrane moves by amplitude*dt).")
@click.option("--t0", type=float, default=0.0, show_default=True, help="Time of the first drive spike [s].")
@click.option("--phase", type=float, default=0.0, show_default=True, help="Phase of the sine at t = 0 [rad].")
@click.option("--spike-times", type=str, default=None, help="Input spikes at these comma-separated times [s].")
@click.option("--input-file", type=click.Path(dir_okay=False), default=None,
              help="Input current from a CSV (one column), NPY or NPZ file, one value per step.")
@click.option("--allow-divergent", is_flag=True, help="Simulate divergent parameters with a warning instead of failing.")
@click.option("--out", "out_path", type=click.Path(dir_okay=False), default=None,
              help="Write the traces to this .csv or .npz file.")
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False), default=None,
              help="Write a figure of input, membrane, q and spikes to this file (.png, .pdf, .svg).")
@fail_on_rfsim_error
def simulate(model, omega, b_offset, dt, duration, theta, gamma, reset, spike_on, scheme, no_boundary,
             no_refractory, no_smooth_reset, order, damping_sign, harmonic_boundary, tau_mem, tau_adp, alif_reset,
             input_kind, freq, amplitude, t0, phase, spike_times, input_file, allow_divergent, out_path, plot_path):
    """Simulate one neuron and print its spike count, first spikes and max |u|."""
    import warnings

    import numpy as np

    from rfsim.errors import DivergenceWarning
    from rfsim.neurons import save_trace
    from rfsim.neurons import simulate as simulate_neuron

    _check_output_paths(out_path, (".csv", ".npz"), plot_path)
    if not np.isfinite(dt) or dt <= 0:
        raise click.BadParameter(f"dt must be a finite positive time step in seconds, got {dt!r}", param_hint="--dt")
    current = _build_input(input_kind, freq, amplitude, t0, phase, spike_times, input_file, duration, dt)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DivergenceWarning)
        trace = simulate_neuron(
            model, current, omega=omega, b_offset=b_offset, dt=dt, theta=theta, gamma=gamma, reset=reset,
            spike_on=spike_on, scheme=scheme, use_boundary=not no_boundary, use_refractory=not no_refractory,
            use_smooth_reset=not no_smooth_reset, order=order, damping_sign=damping_sign,
            boundary=harmonic_boundary, tau_mem=tau_mem, tau_adp=tau_adp, alif_reset=alif_reset,
            allow_divergent=allow_divergent,
        )
    for warning in caught:
        logger.warning("%s", warning.message)

    first = ", ".join(f"{time:g}" for time in trace.spike_times[:10])
    more = " ..." if trace.spike_times.size > 10 else ""
    click.echo(f"model: {model}, {trace.t.size} steps of dt={dt:g} s")
    click.echo(f"spikes: {trace.spike_times.size}")
    click.echo(f"first spike times [s]: {first or 'none'}{more}")
    click.echo(f"max |u|: {np.max(np.abs(trace.u)):.6g}")

    if out_path is not None:
        save_trace(trace, out_path)
        click.echo(f"traces written to {out_path}")
    if plot_path is not None:
        from rfsim.neurons.plot import plot_trace, save_figure

        save_figure(plot_trace(trace), plot_path)
        click.echo(f"figure written to {plot_path}")


# --- response and boundary ---


def _log_caught_warnings(caught):
    """Log each distinct warning recorded by ``warnings.catch_warnings(record=True)`` once."""
    for message in dict.fromkeys(str(warning.message) for warning in caught):
        logger.warning("%s", message)


@cli.command()
@click.option("--dt", "dt_values", type=float, multiple=True,
              help="Time step [s]; repeat for a family of curves (default 0.002, 0.01 and 0.02).")
@click.option("--model", type=click.Choice(["rf", "bhrf"]), default="rf", show_default=True,
              help="rf: the RF/BRF neuron (b < 0 decays); bhrf: the harmonic HRF/BHRF neuron (b > 0 decays).")
@click.option("--scheme", type=click.Choice(["euler", "exact"]), default="euler", show_default=True,
              help="RF integration scheme: explicit Euler or exact exponential (b <= 0).")
@click.option("--order", type=click.Choice(["implementation", "paper"]), default="implementation",
              show_default=True, help="Harmonic update order: authors' semi-implicit step or the paper's explicit Euler.")
@click.option("--omega", "table_omegas", type=float, multiple=True,
              help="Angular frequency [rad/s] of a table row; repeatable (default 1/4, 1/2, 3/4 and all of omega_max).")
@click.option("--points", "n_omega", type=int, default=400, show_default=True, help="Grid points per curve.")
@click.option("--out", "out_path", type=click.Path(dir_okay=False), default=None,
              help="Write the curves to this CSV file.")
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False), default=None,
              help="Write a figure of the curves to this file (.png, .pdf, .svg).")
@fail_on_rfsim_error
def boundary(dt_values, model, scheme, order, table_omegas, n_omega, out_path, plot_path):
    """Print and draw the convergence region in the damping b against omega."""
    import numpy as np

    from rfsim.analysis.boundary import bhrf_boundary, boundary_curves, neuron_damping, rf_boundary

    _check_output_paths(out_path, (".csv",), plot_path)
    dt_values = dt_values or (0.002, 0.01, 0.02)
    curve_scheme = order if model == "bhrf" else scheme
    regions = boundary_curves(dt_values, model=model, scheme=curve_scheme, n_omega=n_omega)
    offset_model = "bhrf" if model == "bhrf" else "brf"
    option = {"order": order} if model == "bhrf" else {"scheme": scheme}

    if model == "bhrf":
        click.echo(f"harmonic (HRF/BHRF) neuron, {order} update order: converges for b_lower <= b <= b_upper")
        click.echo("b_offset range: BHRF with b = dt*omega^2/2 + b_offset")
    else:
        click.echo(f"RF/BRF neuron, {scheme} scheme: converges for b_lower <= b <= b_upper")
        boundary_name = "p(omega)" if scheme == "euler" else "0 (the boundary of the exact step)"
        click.echo(f"b_offset range: BRF with b = {boundary_name} - b_offset")
    header = f"{'dt [s]':>8}  {'omega [rad/s]':>13}  {'b_lower [1/s]':>14}  {'b_upper [1/s]':>14}  b_offset range [1/s]"
    click.echo(header)

    for omega in table_omegas:
        if not np.isfinite(omega) or omega <= 0:
            raise click.BadParameter(f"omega must be a finite positive angular frequency in rad/s, got {omega!r}",
                                     param_hint="--omega")

    for region in regions:
        # By default the rows sit at 1/4, 1/2, 3/4 and the end of the curve's omega grid.
        n = region.omega.size
        omegas = list(table_omegas) or [region.omega[max(n * k // 4 - 1, 0)] for k in (1, 2, 3, 4)]
        for omega in omegas:
            if omega > region.omega_max:
                click.echo(f"{region.dt:>8g}  {omega:>13g}  no convergent b: omega exceeds omega_max = "
                           f"{region.omega_max:g} rad/s")
                continue
            point = bhrf_boundary(omega, region.dt, order) if model == "bhrf" else rf_boundary(omega, region.dt, scheme)
            low, high = neuron_damping(offset_model, omega, region.dt, **option).offset_interval()
            click.echo(f"{region.dt:>8g}  {omega:>13g}  {point.b_lower[0]:>14.6g}  {point.b_upper[0]:>14.6g}  "
                       f"[{float(np.ravel(low)[0]):.6g}, {float(np.ravel(high)[0]):.6g}]")

    if out_path is not None:
        from rfsim.analysis.boundary import save_boundary_csv

        save_boundary_csv(regions, out_path)
        click.echo(f"curves written to {out_path}")
    if plot_path is not None:
        from rfsim.analysis.plots import boundary_figure, save_figure

        save_figure(boundary_figure(regions), plot_path)
        click.echo(f"figure written to {plot_path}")


def _format_band(band, grid_min, grid_max, peak=None):
    """Describe a -3 dB band, saying when an edge lies outside the grid or is never reached.

    With ``peak`` given, an edge on the side of a grid end whose response exceeds the
    peak (``peak.edge_maximum_omega``) is reported as never reached, because the
    response rises again before it falls by 3 dB.
    """
    rises_low = peak is not None and peak.edge_maximum_omega == grid_min and not band.low_in_grid
    rises_high = peak is not None and peak.edge_maximum_omega == grid_max and not band.high_in_grid
    rising = "the response rises again before it falls by 3 dB"
    low = f"{band.low:.4g} rad/s" if band.low_in_grid else f"below {grid_min:g} rad/s (edge outside the grid)"
    high = f"{band.high:.4g} rad/s" if band.high_in_grid else f"above {grid_max:g} rad/s (edge outside the grid)"
    if rises_high:
        return f"from {low}, no upper edge ({rising})"
    if rises_low:
        return f"up to {high}, no lower edge ({rising})"
    width = f", width {band.width:.4g} rad/s" if band.low_in_grid and band.high_in_grid else ""
    return f"{low} to {high}{width}"


@cli.command()
@click.option("--omega", "omegas", type=float, multiple=True,
              help="Angular frequency of a neuron [rad/s]; repeat for several neurons.")
@click.option("--omega-file", type=click.Path(dir_okay=False), default=None,
              help="Read the neurons' angular frequencies [rad/s] from a text file, one per line.")
@click.option("--neurons", "n_neurons", type=int, default=1, show_default=True,
              help="With one --omega: simulate N neurons spaced logarithmically from omega/2 to 2*omega.")
@click.option("--model", type=click.Choice(["rf", "brf", "hrf", "bhrf"]), default="brf", show_default=True,
              help="Neuron model.")
@click.option("--b-offset", type=float, default=1.0, show_default=True,
              help="Damping offset [1/s]; RF damping is -b_offset, HRF damping is +b_offset.")
@click.option("--dt", type=float, default=0.001, show_default=True, help="Time step [s].")
@click.option("--duration", type=float, default=20.0, show_default=True, help="Simulated time per drive frequency [s].")
@click.option("--freq-min", type=float, default=0.1, show_default=True, help="Lowest drive frequency [rad/s].")
@click.option("--freq-max", type=float, default=100.0, show_default=True, help="Highest drive frequency [rad/s].")
@click.option("--freq-step", type=float, default=0.1, show_default=True, help="Drive frequency step [rad/s].")
@click.option("--input", "input_kind", type=click.Choice(["spikes", "sine"]), default="spikes", show_default=True,
              help="Drive: one input spike per period, or a sine.")
@click.option("--amplitude", type=float, default=None,
              help="Input current per spike (default 0.1/dt, so u jumps by 0.1) or peak of the sine (default 0.1).")
@click.option("--theta", type=float, default=1.0, show_default=True, help="Threshold (base threshold of BRF, BHRF).")
@click.option("--gamma", type=float, default=0.9, show_default=True, help="Decay of q per step (BRF, BHRF).")
@click.option("--order", type=click.Choice(["implementation", "paper"]), default="implementation",
              show_default=True, help="HRF/BHRF update order: authors' semi-implicit step or the paper's explicit Euler.")
@click.option("--damping-sign", type=click.Choice(["implementation", "paper"]), default="implementation",
              show_default=True, help="BHRF damping p_h + b_offset + q (implementation) or p_h - b_offset - q (paper).")
@click.option("--harmonic-boundary", type=click.Choice(["implementation", "sustained"]), default="implementation",
              show_default=True,
              help="BHRF p_h(omega): dt*omega^2/2, or the sustained-oscillation damping of the chosen order.")
@click.option("--allow-divergent", is_flag=True, help="Simulate divergent parameters with a warning instead of failing.")
@click.option("--linear", "with_linear", is_flag=True,
              help="Also compute the exact response of the linear (never spiking) neuron for the CSV and figure.")
@click.option("--out", "out_path", type=click.Path(dir_okay=False), default=None,
              help="Write the response curves to this CSV file.")
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False), default=None,
              help="Write a figure of the response curves to this file (.png, .pdf, .svg).")
@fail_on_rfsim_error
def response(omegas, omega_file, n_neurons, model, b_offset, dt, duration, freq_min, freq_max, freq_step, input_kind,
             amplitude, theta, gamma, order, damping_sign, harmonic_boundary, allow_divergent, with_linear, out_path,
             plot_path):
    """Sweep the drive frequency and print each neuron's peak, gain and -3 dB band."""
    import warnings

    import numpy as np

    from rfsim.analysis import response as analysis
    from rfsim.analysis.transfer import neuron_state_space, oscillation_frequency
    from rfsim.errors import DivergenceWarning

    _check_output_paths(out_path, (".csv",), plot_path)

    omega_values = list(omegas)
    if omega_file is not None:
        try:
            omega_values.extend(analysis.load_omegas(omega_file))
        except RFSimError as error:
            raise click.BadParameter(str(error), param_hint="--omega-file") from error
    if not omega_values:
        raise click.UsageError("give the neuron's angular frequency with --omega (rad/s) or --omega-file")
    if n_neurons < 1:
        raise click.BadParameter(f"the number of neurons must be at least 1, got {n_neurons}", param_hint="--neurons")
    if n_neurons != 1:
        if len(omega_values) != 1:
            raise click.UsageError("--neurons spreads neurons around one omega; give a single --omega with it")
        omega_values = analysis.spread_omegas(omega_values[0], n_neurons)

    grid = analysis.frequency_grid(freq_min, freq_max, freq_step)
    settings = dict(b_offset=b_offset, dt=dt, duration=duration, drive_omega=grid, model=model, input=input_kind,
                    amplitude=amplitude, order=order, boundary=harmonic_boundary, damping_sign=damping_sign,
                    allow_divergent=allow_divergent)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DivergenceWarning)
        result = analysis.frequency_response(np.array(omega_values, dtype=float), theta=theta, gamma=gamma,
                                             **settings)
        linear = None
        if with_linear:
            linear = analysis.linear_frequency_response(result.omega, **settings)
    _log_caught_warnings(caught)

    unit = "u jumps by {:g} per input spike".format(result.amplitude * dt) if input_kind == "spikes" else "peak current"
    click.echo(f"{model.upper()} neuron, b_offset = {b_offset:g} 1/s, dt = {dt:g} s, {duration:g} s per frequency "
               f"({result.n_steps} steps)")
    click.echo(f"{input_kind} drive, amplitude {result.amplitude:g} ({unit}); {grid.size} drive frequencies "
               f"from {grid[0]:g} to {grid[-1]:g} rad/s")

    for i, peak in enumerate(result.peaks):
        click.echo(f"omega = {peak.omega:g} rad/s")
        if not np.isfinite(peak.peak_omega):
            click.echo("  no finite response: the neuron diverged at every drive frequency")
            continue
        system = neuron_state_space(model, peak.omega, result.b_offset[i], dt, order=order,
                                    boundary=harmonic_boundary, damping_sign=damping_sign)
        click.echo(f"  peak: {peak.peak_omega:.4g} rad/s (parabolic fit {peak.peak_omega_interpolated:.5g} rad/s); "
                   f"discrete resonance of the step: {oscillation_frequency(system):.5g} rad/s")
        click.echo(f"  response at the peak: mean |u| = {peak.peak_response:.5g} "
                   f"(gain {peak.peak_response / result.amplitude:.5g} per unit amplitude)")
        click.echo(f"  -3 dB band: {_format_band(peak.band, grid[0], grid[-1], peak)}")
        if np.isfinite(peak.edge_maximum_omega):
            click.echo(f"  note: the response at the grid edge, {peak.edge_maximum_omega:g} rad/s, is larger "
                       f"(mean |u| = {peak.edge_maximum_response:.5g}); a spike drive at a higher frequency "
                       "delivers more spikes per second, so the peak above is the resonance, the most "
                       "prominent interior maximum")
        if peak.subharmonics:
            listed = ", ".join(f"{sub.omega:.4g} rad/s (k={sub.k})" for sub in peak.subharmonics)
            click.echo(f"  sub-harmonic peaks: {listed}")
        spiking = int(np.count_nonzero(result.output_spikes[i]))
        if spiking:
            click.echo(f"  output spikes at {spiking} of {grid.size} drive frequencies (up to "
                       f"{int(result.output_spikes[i].max())}); the response is not linear there")
        else:
            click.echo("  no output spikes: the neuron stayed subthreshold at every drive frequency")

    if out_path is not None:
        analysis.save_response_csv(result, out_path, linear=linear)
        click.echo(f"response written to {out_path}")
    if plot_path is not None:
        from rfsim.analysis.plots import response_figure, save_figure

        save_figure(response_figure(result, linear=linear), plot_path)
        click.echo(f"figure written to {plot_path}")


# --- data ---


@cli.group()
def data():
    """Find, download and inspect the datasets of the training tasks."""


@data.command("fetch")
@click.argument("task", type=click.Choice(["ecg", "smnist", "psmnist", "shd"]))
@data_dir_option
@click.option("--download/--no-download", default=None,
              help="Allow or forbid downloading missing files (default: download unless a data folder is set).")
@fail_on_rfsim_error
def data_fetch(task, data_dir, download):
    """Find or download every file of TASK and verify its SHA-256.

    Every file is tried, so one run lists all the files that are present and all that
    are missing. The exit status is 1 when a file is missing or fails its check.
    """
    from rfsim.data import TASK_FILES, MissingDataError
    from rfsim.data.fetch import fetch_file

    missing = []
    for file_name in TASK_FILES[task]:
        try:
            fetched = fetch_file(file_name, data_dir=data_dir, download=download)
        except MissingDataError as error:
            missing.append((file_name, str(error)))
            continue
        status = "verified" if fetched.verified else "no registered checksum"
        click.echo(f"{fetched.path}  sha256 {fetched.sha256}  ({status}, from {fetched.origin})")
    if not missing:
        return

    for file_name, _ in missing:
        click.echo(f"{file_name}  missing")
    note = ""
    if task in ("smnist", "psmnist") and all(name.startswith("train-") for name, _ in missing):
        note = (" Training still runs: it splits the 10,000 t10k test images into train, validation and "
                "test sets, with a warning that the accuracies are not comparable to published ones.")
    raise click.ClickException(f"{len(missing)} of {len(TASK_FILES[task])} files of task {task} are missing."
                               f"{note} First missing file: {missing[0][1]}")


@data.command("info")
@click.argument("task", type=click.Choice(["ecg", "smnist", "psmnist", "shd", "synthetic"]))
@data_dir_option
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the train/validation split.")
@fail_on_rfsim_error
def data_info(task, data_dir, seed):
    """Load TASK and print its sizes, class counts and source files as JSON."""
    import json

    from rfsim.data import load_task, summarize_task

    summary = summarize_task(load_task(task, data_dir=data_dir, seed=seed))
    click.echo(json.dumps(summary, indent=2, default=str))


# --- landscape ---


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

    _check_output_paths(out_path, (".csv", ".npz"), plot_path)
    if save_directions_path is not None and os.path.splitext(save_directions_path)[1] != ".npz":
        raise click.BadParameter(f"the directions file must end in .npz, got {save_directions_path!r}",
                                 param_hint="--save-directions")


def _check_output_paths(out_path, out_suffixes, plot_path):
    """Reject an --out file or --plot figure of unknown format before any work is done."""
    import os

    from matplotlib.figure import Figure

    if out_path is not None and os.path.splitext(out_path)[1].lower() not in out_suffixes:
        raise click.BadParameter(f"the output file must end in {' or '.join(out_suffixes)}, got {out_path!r}",
                                 param_hint="--out")
    if plot_path is not None:
        formats = Figure().canvas.get_supported_filetypes()
        if os.path.splitext(plot_path)[1].lstrip(".").lower() not in formats:
            raise click.BadParameter(f"unknown figure format of {plot_path!r}; use one of "
                                     f"{', '.join('.' + name for name in sorted(formats))}", param_hint="--plot")


def _option_value(name, given, stored):
    """Return the stored setting of a directions file, rejecting a different value given on the command line."""
    if given is not None and given != stored:
        raise click.UsageError(f"{name} {given} differs from the directions file's {stored}; omit {name} "
                               "when reusing directions, or draw new ones without --directions")
    return stored


@cli.command()
@click.option("--checkpoint", "checkpoint_path", type=click.Path(dir_okay=False), required=True,
              help="Trained checkpoint .npz (its .json sidecar beside it): the centre of the grid.")
@click.option("--task", type=click.Choice(["ecg", "smnist", "psmnist", "shd", "synthetic"]), default=None,
              help="Task to evaluate on (default: the checkpoint's task).")
@click.option("--split", type=click.Choice(["test", "valid", "train"]), default="test", show_default=True,
              help="Dataset split.")
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
    _log_caught_warnings(caught)

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


# --- parameter analysis ---


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
@click.option("--task", type=click.Choice(["ecg", "smnist", "psmnist", "shd", "synthetic"]), default=None,
              help="Task whose data is analysed (default: the checkpoint's task).")
@click.option("--split", type=click.Choice(["test", "valid", "train"]), default="test", show_default=True,
              help="Dataset split for the spectrum, the sparsity measures and the raster.")
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


# --- spectral ---


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
@click.option("--task", type=click.Choice(["ecg", "smnist", "psmnist", "shd", "synthetic"]), default=None,
              help="Task whose sequence drives the networks (default: each checkpoint's own task).")
@click.option("--split", type=click.Choice(["test", "valid", "train"]), default="test", show_default=True,
              help="Dataset split of the sequence.")
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


# --- robustness ---


def _parse_number_list(text, param_hint, kind=float):
    """Parse a comma-separated list of numbers such as 0,0.1,0.2."""
    items = [item.strip() for item in text.split(",") if item.strip()]
    if not items:
        raise click.BadParameter(f"the list is empty; give comma-separated values such as 0,0.1,0.2, got {text!r}",
                                 param_hint=param_hint)
    try:
        return [kind(item) for item in items]
    except ValueError:
        expected = "integers such as 0,1,2" if kind is int else "numbers such as 0,0.1,0.2"
        raise click.BadParameter(f"expected comma-separated {expected}, got {text!r}", param_hint=param_hint) from None


def _check_figure_suffix(plot_path):
    """Reject a figure file name whose format matplotlib does not know, before any work is done."""
    import os

    from matplotlib.figure import Figure

    if plot_path is None:
        return
    formats = Figure().canvas.get_supported_filetypes()
    if os.path.splitext(plot_path)[1].lstrip(".").lower() not in formats:
        raise click.BadParameter(f"unknown figure format of {plot_path!r}; use one of "
                                 f"{', '.join('.' + name for name in sorted(formats))}", param_hint="--plot")


def _check_suffix(path, suffixes, param_hint):
    import os

    if path is not None and os.path.splitext(path)[1].lower() not in suffixes:
        raise click.BadParameter(f"the file must end in {' or '.join(suffixes)}, got {path!r}", param_hint=param_hint)


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
@click.option("--split", type=click.Choice(["test", "valid", "train"]), default="test", show_default=True,
              help="Dataset split.")
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
@click.option("--task", type=click.Choice(["ecg", "smnist", "psmnist", "shd", "synthetic"]), default=None,
              help="Task to evaluate on (default: the checkpoint's task).")
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

    levels = _parse_number_list(levels_text, "--levels")
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
    _check_suffix(out_path, (".csv", ".npz"), "--out")
    _check_figure_suffix(plot_path)

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


@cli.group()
def study():
    """Train one run per setting and seed and tabulate accuracy and sparsity (pruning, BRF ablation)."""


def _parse_settings(pairs):
    """Parse --set KEY=VALUE pairs; a VALUE is read as JSON where it can be (numbers, lists, true/null)."""
    import json

    overrides = {}
    for pair in pairs:
        key, separator, text = pair.partition("=")
        if not separator or not key.strip():
            raise click.BadParameter(f"expected KEY=VALUE such as lr=0.05, got {pair!r}", param_hint="--set")
        try:
            value = json.loads(text)
        except ValueError:
            value = text
        overrides[key.strip()] = tuple(value) if isinstance(value, list) else value
    return overrides


def _study_options(function):
    """Add the options that every study command shares."""
    options = [
        click.option("--task", type=click.Choice(["ecg", "smnist", "psmnist", "shd", "synthetic"]), default="ecg",
                     show_default=True, help="Task to train on."),
        click.option("--seeds", "seeds_text", default="0", show_default=True,
                     help="Comma-separated seeds; each setting is trained once per seed."),
        click.option("--out", "out_dir", type=click.Path(file_okay=False), required=True,
                     help="Folder of the study: one run folder per setting and seed (finished runs are reused)."),
        click.option("--epochs", type=int, default=None, help="Training epochs (default: the task's preset)."),
        click.option("--hidden", "n_hidden", type=int, default=None, help="Number of hidden neurons."),
        click.option("--batch-size", type=int, default=None, help="Training sequences per batch."),
        click.option("--lr", type=float, default=None, help="Initial learning rate."),
        click.option("--limit-train", type=int, default=None, help="Train on only the first N training sequences."),
        click.option("--limit-eval", type=int, default=None, help="Validate and test on only the first N sequences."),
        click.option("--config", "config_file", type=click.Path(dir_okay=False), default=None,
                     help="TOML or JSON file of training settings that override the preset."),
        click.option("--set", "set_pairs", multiple=True, metavar="KEY=VALUE",
                     help="Any other training setting, such as --set dtype=float32 (repeatable)."),
        data_dir_option,
        click.option("--table", "table_path", type=click.Path(dir_okay=False), default=None,
                     help="Write the table to this .csv (one row per run), .json or .md file."),
        click.option("--plot", "plot_path", type=click.Path(dir_okay=False), default=None,
                     help="Write test accuracy, SOP and synaptic operations per setting to this figure."),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def _study_overrides(epochs, n_hidden, batch_size, lr, limit_train, limit_eval, set_pairs, data_dir):
    overrides = _parse_settings(set_pairs)
    named = dict(epochs=epochs, n_hidden=n_hidden, batch_size=batch_size, lr=lr, limit_train=limit_train,
                 limit_eval=limit_eval, data_dir=data_dir)
    overrides.update({key: value for key, value in named.items() if value is not None})
    return overrides


def _study_reporter(event, info):
    if event == "run_skipped":
        logger.info("%s seed %d: finished earlier in %s, reusing it", info["setting"], info["seed"], info["run_dir"])
    elif event == "run_start":
        action = "resuming" if info["status"] == "resumed" else "training"
        logger.info("%s seed %d: %s in %s", info["setting"], info["seed"], action, info["run_dir"])
    elif event == "run_done":
        run = info["run"]
        logger.info("%s seed %d: test accuracy %.2f %%, SOP %.1f (best epoch %d)", run.setting, run.seed,
                    run.test_accuracy, run.sop, run.best_epoch)


def _finish_study(table, table_path, plot_path):
    for line in table.lines():
        click.echo(line)
    if table_path is not None:
        from rfsim.analysis.studies import save_study_table

        save_study_table(table, table_path)
        click.echo(f"table written to {table_path}")
    if plot_path is not None:
        from rfsim.analysis.plots_network import save_figure, study_figure

        save_figure(study_figure(table), plot_path)
        click.echo(f"figure written to {plot_path}")


@study.command("pruning")
@click.option("--model", type=click.Choice(["brf", "rf", "bhrf", "alif"]), default="brf", show_default=True,
              help="Hidden neuron model.")
@click.option("--probabilities", "probabilities_text", default="0,0.25,0.5,0.75", show_default=True,
              help="Comma-separated recurrent pruning probabilities p in [0, 1).")
@_study_options
@fail_on_rfsim_error
def study_pruning(model, probabilities_text, task, seeds_text, out_dir, epochs, n_hidden, batch_size, lr, limit_train,
                  limit_eval, config_file, set_pairs, data_dir, table_path, plot_path):
    """Train with each recurrent pruning probability and seed; print accuracy and SOP against p."""
    from rfsim.analysis.studies import check_probabilities, pruning_study

    probabilities = _parse_number_list(probabilities_text, "--probabilities")
    try:
        check_probabilities(probabilities)
    except RFSimError as error:
        raise click.BadParameter(str(error), param_hint="--probabilities") from error
    seeds = _parse_number_list(seeds_text, "--seeds", int)
    _check_suffix(table_path, (".csv", ".json", ".md"), "--table")
    _check_figure_suffix(plot_path)

    overrides = _study_overrides(epochs, n_hidden, batch_size, lr, limit_train, limit_eval, set_pairs, data_dir)
    table = pruning_study(task, model, probabilities, seeds, out_dir, overrides, config_file=config_file,
                          callback=_study_reporter, train_callback=_ProgressReporter(False))
    _finish_study(table, table_path, plot_path)


@study.command("ablation")
@click.option("--variants", "variants_text", default="all,no-boundary,refractory-only,smooth-reset-only",
              show_default=True,
              help="Comma-separated BRF variants: all, no-boundary (p(omega) -> 0), refractory-only (q only in "
                   "the threshold), smooth-reset-only (q only in the damping), none (plain RF).")
@_study_options
@fail_on_rfsim_error
def study_ablation(variants_text, task, seeds_text, out_dir, epochs, n_hidden, batch_size, lr, limit_train,
                   limit_eval, config_file, set_pairs, data_dir, table_path, plot_path):
    """Train each BRF mechanism variant and seed; print accuracy and SOP per variant."""
    from rfsim.analysis.studies import ablation_study, check_variants

    variants = [item.strip() for item in variants_text.split(",") if item.strip()]
    try:
        check_variants(variants)
    except RFSimError as error:
        raise click.BadParameter(str(error), param_hint="--variants") from error
    seeds = _parse_number_list(seeds_text, "--seeds", int)
    _check_suffix(table_path, (".csv", ".json", ".md"), "--table")
    _check_figure_suffix(plot_path)

    overrides = _study_overrides(epochs, n_hidden, batch_size, lr, limit_train, limit_eval, set_pairs, data_dir)
    table = ablation_study(task, variants, seeds, out_dir, overrides, config_file=config_file,
                           callback=_study_reporter, train_callback=_ProgressReporter(False))
    _finish_study(table, table_path, plot_path)


def main():
    """Run the ``rfsim`` command group."""
    cli(prog_name="rfsim")


if __name__ == "__main__":
    main()
