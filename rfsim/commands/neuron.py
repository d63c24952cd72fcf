"""Single-neuron commands: ``rfsim simulate``, ``rfsim boundary`` and ``rfsim response``."""

import click

from rfsim.cli import check_output_paths, cli, fail_on_rfsim_error, log_caught_warnings, logger
from rfsim.errors import RFSimError


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

    check_output_paths(out_path, (".csv", ".npz"), plot_path)
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

    check_output_paths(out_path, (".csv",), plot_path)
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

    check_output_paths(out_path, (".csv",), plot_path)

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
    log_caught_warnings(caught)

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
