"""Single resonate-and-fire neurons driven by the same input spikes, side by side.

Regenerates the paper's single-neuron comparison of the BRF and the RF neuron
(Higuchi, Kairat, Bohte and Otte, "Balanced Resonate-and-Fire Neurons", ICML
2024): one column per model, all driven by the same input spikes. The rows show
the input I(t); the real part of the membrane Re u with the threshold used in
each step (theta + q_{t-1} for BRF, so the refractory period shows as a raised
threshold) and the output spikes; and the damping b_t [1/s] used in each step
(p(omega) - b_offset - q_{t-1} for BRF, so the smooth reset shows as a dip;
the constant -b_offset for RF).

The default input repeats the single-neuron case of the authors' implementation:
omega = 10 rad/s, b_offset = 1/s, dt = 0.01 s and five input spikes of current
80 (each moves Re u by 80*dt = 0.8), one period of the BRF oscillation apart.
The BRF neuron responds to pulses 2 to 5 with one spike each. The RF neuron without
reset stays above threshold for several steps and fires bursts.

Example::

    python figures/single_neuron.py --out single_neuron.png
"""

import sys

import numpy as np
from matplotlib.figure import Figure

from _common import make_parser, number_list, run_main, write_figure

MODELS = ("brf", "rf", "bhrf", "hrf")
"""Models this figure can show: those with omega, b_offset and a damping b_t."""

DEFAULT_SPIKE_TIMES = (0.40, 1.02, 1.64, 2.26, 2.88)
"""Input spike times [s]: steps 40, 102, 164, 226 and 288 at dt = 0.01 s, 62 steps apart."""

MEMBRANE_NAMES = {"brf": "Re u", "rf": "Re u", "hrf": "u", "bhrf": "u"}
"""Name of the membrane part compared with the threshold, per model."""


def parse_args(argv=None):
    parser = make_parser(__doc__)
    parser.add_argument("--models", type=lambda text: [item.strip() for item in text.split(",") if item.strip()],
                        default=["brf", "rf"], metavar="LIST",
                        help=f"comma-separated models, one column each, from {', '.join(MODELS)} (default brf,rf)")
    parser.add_argument("--omega", type=float, default=10.0, help="angular frequency [rad/s] (default 10)")
    parser.add_argument("--b-offset", type=float, default=1.0,
                        help="damping offset [1/s]; the RF damping is -b_offset (default 1)")
    parser.add_argument("--dt", type=float, default=0.01, help="time step [s] (default 0.01)")
    parser.add_argument("--duration", type=float, default=5.0, help="simulated time [s] (default 5)")
    parser.add_argument("--spike-times", type=number_list(), default=None, metavar="LIST",
                        help="comma-separated input spike times [s] (default: those of 0.4,1.02,1.64,2.26,2.88 "
                             "that fall before --duration)")
    parser.add_argument("--amplitude", type=float, default=80.0,
                        help="input current of each spike; it moves the membrane by amplitude*dt (default 80)")
    parser.add_argument("--theta", type=float, default=1.0, help="threshold (BRF base threshold) (default 1)")
    parser.add_argument("--gamma", type=float, default=0.9, help="decay of q per step (BRF, BHRF) (default 0.9)")
    parser.add_argument("--rf-reset", choices=("none", "soft", "hard"), default="none",
                        help="reset of the RF neuron after a spike (default none, as in the authors' RF)")
    args = parser.parse_args(argv)
    unknown = [model for model in args.models if model not in MODELS]
    if unknown or not args.models:
        parser.error(f"--models must list models from {', '.join(MODELS)}, got {','.join(args.models)!r}")
    if args.spike_times is None:
        args.spike_times = [time for time in DEFAULT_SPIKE_TIMES if time < args.duration]
    return args


def simulate_models(args):
    """Simulate each model of ``args.models`` on the same input; return (input current, list of traces)."""
    from rfsim.neurons import simulate
    from rfsim.neurons.drive import spikes_at_times

    current = spikes_at_times(args.spike_times, args.duration, args.dt, amplitude=args.amplitude)
    traces = []
    for model in args.models:
        options = {"reset": args.rf_reset} if model == "rf" else {}
        traces.append(simulate(model, current, omega=args.omega, b_offset=args.b_offset, dt=args.dt,
                               theta=args.theta, gamma=args.gamma, **options))
    return current, traces


def _model_title(trace):
    model = trace.model
    if model == "brf":
        return "BRF: b_t = p(omega) - b_offset - q_{t-1}"
    if model == "rf":
        reset = trace.parameters["reset"]
        return f"RF: b = -b_offset, {'no' if reset == 'none' else reset} reset"
    if model == "bhrf":
        return "BHRF: b_t = p_h(omega) + b_offset + q_{t-1}"
    return "HRF: b = b_offset"


def build_figure(current, traces, amplitude, dt):
    """Build the figure: one column per trace; rows input, membrane with threshold and spikes, damping."""
    n_columns = len(traces)
    figure = Figure(figsize=(4.6 * n_columns + 0.6, 6.6), layout="constrained")
    axes = figure.subplots(3, n_columns, sharex=True, sharey="row", squeeze=False,
                           gridspec_kw={"height_ratios": (1.0, 2.2, 1.3)})
    t = traces[0].t
    input_steps = np.flatnonzero(current)

    for column, trace in enumerate(traces):
        drive, membrane, damping = axes[:, column]
        drive.vlines(t[input_steps], 0.0, current[input_steps], color="0.3", linewidth=1.2)
        drive.set_title(_model_title(trace), fontsize="medium")

        u = trace.u.real if np.iscomplexobj(trace.u) else trace.u
        name = MEMBRANE_NAMES[trace.model]
        membrane.plot(t, u, color="C0", linewidth=1.0, label=name)
        threshold_label = "threshold theta + q_{t-1}" if trace.q is not None else "threshold theta"
        membrane.plot(t, trace.threshold, color="k", linestyle="--", linewidth=0.9, label=threshold_label)
        spike_steps = np.flatnonzero(trace.z)
        membrane.plot(t[spike_steps], u[spike_steps], linestyle="none", marker="o", markersize=3, color="C3",
                      label=f"output spikes ({spike_steps.size})")
        membrane.legend(loc="lower left", fontsize="x-small")

        damping.plot(t, trace.b, color="C2", linewidth=1.0)
        damping.set_xlabel("time t [s]")

    axes[0, 0].set_ylabel("input I(t)")
    axes[0, 0].text(0.99, 0.93, f"each spike moves the membrane by {amplitude * dt:g}", transform=axes[0, 0].transAxes,
                    ha="right", va="top", fontsize="x-small")
    axes[1, 0].set_ylabel("membrane (dimensionless)")
    axes[2, 0].set_ylabel("damping b_t [1/s]")
    first = traces[0]
    figure.suptitle(f"Neurons driven by the same input: omega = {first.parameters['omega']:g} rad/s, "
                    f"b_offset = {first.parameters['b_offset']:g} 1/s, dt = {first.dt:g} s")
    return figure


def _main(argv):
    args = parse_args(argv)
    current, traces = simulate_models(args)
    for trace in traces:
        print(f"{trace.model}: {int(trace.z.sum())} output spikes at t = "
              f"{', '.join(f'{time:g}' for time in trace.spike_times[:12])}"
              f"{' ...' if trace.spike_times.size > 12 else ''} s")
    write_figure(build_figure(current, traces, args.amplitude, args.dt), args.out)
    return 0


def main(argv=None):
    """Run the script with command-line arguments ``argv`` (default ``sys.argv[1:]``); return the exit status."""
    return run_main(_main, argv)


if __name__ == "__main__":
    sys.exit(main())
