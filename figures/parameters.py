"""Neuron parameters before and after training: omega against the damping b_c, and omega histograms.

Regenerates Figure 5 (bottom row) of Higuchi, Kairat, Bohte and Otte, "Balanced
Resonate-and-Fire Neurons" (ICML 2024) for one run of ``rfsim train``. Left: each
hidden neuron of the initial (grey) and the trained (blue) network in the
(omega, b_c) plane, b_c being its damping at q = 0 (p(omega) - b_offset for BRF,
-b_offset for RF), with the divergence boundary p(omega) and the convergence
region. Right: histograms of omega before and after training. With
``--spectrum`` a third panel shows the mean power spectrum of the task's inputs
with its dominant angular frequencies against the learned omegas, which needs
the task's data. The analyses are ``rfsim.analysis.parameters.omega_b_scatter`` and
``dominant_frequencies``, the figure is ``omega_scatter_figure``.

Example::

    python figures/parameters.py runs/ecg-brf-seed0 --out parameters.png
"""

import sys

from _common import add_data_options, make_parser, run_label, run_main, write_figure

SPLITS = ("test", "valid", "train")
"""Dataset splits the spectrum can be computed on."""


def parse_args(argv=None):
    parser = make_parser(__doc__)
    parser.add_argument("run", metavar="RUN_DIR",
                        help="run folder of rfsim train (its best.npz and init.npz) or a trained checkpoint .npz")
    parser.add_argument("--init", default=None, metavar="FILE",
                        help="initial checkpoint to compare with (default: init.npz beside the checkpoint)")
    parser.add_argument("--bins", type=int, default=30, help="bins of the omega histograms (default 30)")
    parser.add_argument("--spectrum", action="store_true",
                        help="add the input spectrum of the task's data with its dominant frequencies")
    parser.add_argument("--split", choices=SPLITS, default="test", help="split of the spectrum (default test)")
    parser.add_argument("--peaks", type=int, default=5, help="largest number of dominant frequencies (default 5)")
    parser.add_argument("--prominence", type=float, default=0.05,
                        help="smallest peak prominence, as a fraction of the largest non-DC power (default 0.05)")
    add_data_options(parser)
    args = parser.parse_args(argv)
    if args.bins < 2:
        parser.error(f"--bins must be at least 2, got {args.bins}")
    if args.peaks < 1:
        parser.error(f"--peaks must be at least 1, got {args.peaks}")
    if not 0.0 <= args.prominence < 1.0:
        parser.error(f"--prominence is a fraction in [0, 1) of the largest power, got {args.prominence}")
    return args


def compute(args):
    """Return the ``OmegaScatter`` of the run and, with ``--spectrum``, the ``DatasetSpectrum`` of its task."""
    from rfsim.analysis._checkpoints import load_analysis_checkpoint
    from rfsim.analysis.parameters import dominant_frequencies, omega_b_scatter, resolve_checkpoint_pair

    trained, init = resolve_checkpoint_pair(args.run, args.init)
    scatter = omega_b_scatter(trained, init, n_bins=args.bins)
    spectrum = None
    if args.spectrum:
        loaded = load_analysis_checkpoint(trained, task=args.task, data_dir=args.data_dir)
        net = loaded.net_config
        # BRF neurons cannot exceed omega = 1/dt, so their peaks are searched only up to it.
        omega_max = 1.0 / net.p_dt if net.model == "brf" else None
        spectrum = dominant_frequencies(getattr(loaded.task, args.split), n=args.peaks, dt=net.dt,
                                        prominence=args.prominence, omega_max=omega_max)
    return scatter, spectrum


def build_figure(scatter, spectrum=None, title=None):
    """Build the scatter and histogram panels (and the spectrum panel when given)."""
    from rfsim.analysis.plots_network import omega_scatter_figure

    return omega_scatter_figure(scatter, spectrum, title=title)


def _main(argv):
    args = parse_args(argv)
    scatter, spectrum = compute(args)
    for name, points in (("initial", scatter.init), ("trained", scatter.trained)):
        if points is not None:
            print(f"{name}: omega from {points.omega.min():.4g} to {points.omega.max():.4g} rad/s, "
                  f"{points.n_outside} of {points.omega.size} neurons outside the convergence region")
    if spectrum is not None:
        print("dominant angular frequencies of the input [rad/s]: "
              + ", ".join(f"{omega:.4g}" for omega in spectrum.peak_omega))
    title = f"{run_label(args.run)}: {scatter.model.upper()} neurons before and after training"
    write_figure(build_figure(scatter, spectrum, title), args.out)
    return 0


def main(argv=None):
    """Run the script with command-line arguments ``argv`` (default ``sys.argv[1:]``); return the exit status."""
    return run_main(_main, argv)


if __name__ == "__main__":
    sys.exit(main())
