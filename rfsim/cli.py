"""Command-line interface of rfsim (console script ``rfsim``).

Each command is a thin layer over library calls: it parses options, calls the
library, and prints or writes the result. Commands raise ``click.BadParameter``
or ``click.ClickException`` for invalid input, so the exit status is non-zero.
"""

import logging

import click

from rfsim import __version__
from rfsim.errors import RFSimError

logger = logging.getLogger("rfsim")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="rfsim")
@click.option("-v", "--verbose", count=True, help="Print more log messages (repeat for debug output).")
@click.option("-q", "--quiet", count=True, help="Print fewer log messages (repeat to silence warnings).")
def cli(verbose, quiet):
    """Simulate, train and analyse resonate-and-fire spiking neurons."""
    level = logging.INFO - 10 * verbose + 10 * quiet
    logging.basicConfig(level=max(logging.DEBUG, min(level, logging.CRITICAL)), format="%(levelname)s: %(message)s")


def fail_on_rfsim_error(function):
    """Turn an ``RFSimError`` raised by the library into a CLI error with exit status 1."""
    import functools

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except RFSimError as error:
            raise click.ClickException(str(error)) from error

    return wrapper


# Commands are registered below, one section per topic.


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


def main():
    """Run the ``rfsim`` command group."""
    cli(prog_name="rfsim")


if __name__ == "__main__":
    main()
