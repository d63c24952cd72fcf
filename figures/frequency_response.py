"""Frequency response of single RF-type neurons: mean |u| against the drive's angular frequency.

Regenerates the paper's frequency-response figure (Higuchi, Kairat, Bohte and
Otte, "Balanced Resonate-and-Fire Neurons", ICML 2024): an RF-type neuron is a
band-pass filter whose response peaks near its own angular frequency omega.
Each neuron starts from rest and receives one input spike per period
2*pi/omega_drive for ``--duration`` seconds; the response is the mean of |u|
over all steps, u being Re u for RF and BRF (``rfsim.analysis.response``). One
panel per time step dt, one colour per neuron omega. Solid lines are simulated
with threshold and refractory dynamics, and dashed lines are the exact response
of the linear (never spiking) neuron, ``linear_frequency_response``. The two
agree wherever the neuron stays below threshold, and crosses mark drive
frequencies at which it spiked.

The default grid (0.5 to 40 rad/s in steps of 0.25, 10 s per frequency) keeps
the run to a few seconds. The library's default sweep is finer: 0.1 to 100
rad/s in steps of 0.1, 20 s per frequency.

Example::

    python figures/frequency_response.py --out response.png --omega 5,10,20 --dt 0.01,0.001
"""

import sys

import numpy as np
from matplotlib.figure import Figure

from _common import make_parser, number_list, run_main, write_figure


def parse_args(argv=None):
    parser = make_parser(__doc__)
    parser.add_argument("--omega", type=number_list(), default=[5.0, 10.0, 20.0], metavar="LIST",
                        help="comma-separated neuron angular frequencies [rad/s] (default 5,10,20)")
    parser.add_argument("--dt", type=number_list(), default=[0.01, 0.001], metavar="LIST",
                        help="comma-separated time steps [s], one panel each (default 0.01,0.001)")
    parser.add_argument("--model", choices=("brf", "rf", "bhrf", "hrf"), default="brf",
                        help="neuron model (default brf)")
    parser.add_argument("--b-offset", type=float, default=1.0, help="damping offset [1/s] (default 1)")
    parser.add_argument("--duration", type=float, default=10.0, help="simulated time per drive frequency [s] "
                                                                       "(default 10)")
    parser.add_argument("--freq-min", type=float, default=0.5, help="lowest drive frequency [rad/s] (default 0.5)")
    parser.add_argument("--freq-max", type=float, default=40.0, help="highest drive frequency [rad/s] (default 40)")
    parser.add_argument("--freq-step", type=float, default=0.25, help="drive frequency step [rad/s] (default 0.25)")
    parser.add_argument("--input", choices=("spikes", "sine"), default="spikes",
                        help="drive: one input spike per period, or a sine (default spikes)")
    parser.add_argument("--amplitude", type=float, default=None,
                        help="current per input spike (default 0.1/dt, so u jumps by 0.1) or peak of the sine "
                             "(default 0.1)")
    parser.add_argument("--no-linear", dest="linear", action="store_false",
                        help="leave out the closed-form curves of the linear neuron")
    parser.add_argument("--log", action="store_true", help="draw the response on a logarithmic axis")
    return parser.parse_args(argv)


def compute_responses(args):
    """Return one (FrequencyResponse, linear response or None) pair per time step of ``args.dt``."""
    from rfsim.analysis.response import frequency_grid, frequency_response, linear_frequency_response

    grid = frequency_grid(args.freq_min, args.freq_max, args.freq_step)
    omega = np.asarray(args.omega, dtype=float)
    results = []
    for dt in args.dt:
        settings = dict(b_offset=args.b_offset, dt=dt, duration=args.duration, drive_omega=grid, model=args.model,
                        input=args.input, amplitude=args.amplitude)
        result = frequency_response(omega, **settings)
        linear = linear_frequency_response(omega, **settings) if args.linear else None
        results.append((result, linear))
    return results


def build_figure(results, log_scale=False):
    """Build one panel per time step: simulated (solid) and closed-form (dashed) response of each neuron."""
    n_panels = len(results)
    figure = Figure(figsize=(5.6 * n_panels + 0.4, 4.6), layout="constrained")
    panels = figure.subplots(1, n_panels, sharey=True, squeeze=False)[0]
    for axes, (result, linear) in zip(panels, results):
        for i, omega in enumerate(result.omega):
            color = f"C{i % 10}"
            axes.plot(result.drive_omega, result.response[i], color=color, linewidth=1.4,
                      label=f"omega = {omega:g} rad/s")
            if linear is not None:
                axes.plot(result.drive_omega, linear[i], color="k", linewidth=0.9, linestyle="--",
                          label="linear neuron, closed form" if i == 0 else None)
            spiking = result.output_spikes[i] > 0
            if spiking.any():
                axes.plot(result.drive_omega[spiking], result.response[i, spiking], linestyle="none", marker="x",
                          markersize=4, color=color, label="neuron spiked (not linear)" if i == 0 else None)
            axes.axvline(omega, color=color, linestyle=":", linewidth=0.8)
        if log_scale:
            axes.set_yscale("log")
        drive = "spike" if result.input == "spikes" else "sine"
        axes.set_title(f"dt = {result.dt:g} s, {drive} drive, {result.duration:g} s per frequency",
                       fontsize="medium")
        axes.set_xlabel("drive angular frequency omega_drive [rad/s]")
        axes.legend(loc="upper right", fontsize="x-small")
    panels[0].set_ylabel("response: mean |u| (threshold 1)")
    first = results[0][0]
    figure.suptitle(f"{first.model.upper()} frequency response, b_offset = {first.b_offset[0]:g} 1/s")
    return figure


def _main(argv):
    args = parse_args(argv)
    results = compute_responses(args)
    for result, _ in results:
        peaks = ", ".join(f"{peak.omega:g} -> {peak.peak_omega_interpolated:.4g}" for peak in result.peaks)
        print(f"dt = {result.dt:g} s: response peaks (omega -> peak drive frequency, rad/s): {peaks}")
    write_figure(build_figure(results, args.log), args.out)
    return 0


def main(argv=None):
    """Run the script with command-line arguments ``argv`` (default ``sys.argv[1:]``); return the exit status."""
    return run_main(_main, argv)


if __name__ == "__main__":
    sys.exit(main())
