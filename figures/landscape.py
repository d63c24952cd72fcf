"""Loss landscape of a trained checkpoint: surface and contour of a 2-D slice, and the line from init.

Regenerates the loss-landscape view that Higuchi, Bohte and Otte use to explain
the fast convergence of BRF networks ("Understanding the Convergence in Balanced
Resonate-and-Fire Neurons", arXiv:2406.00389, 2024). The loss is evaluated on
the plane theta* + alpha d1 + beta d2 through the trained parameters theta*.
The seeded random directions d1, d2 are rescaled to the norm of each trained
weight row (filter normalisation of Li et al., 2018). The figure draws the
slice as a 3-D surface and as filled contours. When the run's
initial checkpoint exists (or ``--interpolate-from`` names one), a third panel
shows the loss along the straight line (1 - a) theta_0 + a theta*. The analysis
is ``rfsim.analysis.landscape.network_landscape`` and the figure
``rfsim.analysis.plots_network.landscape_figure``.

The defaults are small so that the figure takes seconds: an 11 x 11 grid over
[-1, 1]^2 evaluated on the first 64 sequences of the test split (121 network
evaluations; about 10 s for the 4-36-6 ECG network on one core), and 21 points
on the interpolation line. ``rfsim landscape`` defaults to a 21 x 21 grid on the
whole split; ``--grid 21 --subset 0`` reproduces that here.

Example::

    python figures/landscape.py runs/ecg-brf-seed0/best.npz --out landscape.png
"""

import sys
import warnings

from _common import (add_data_options, checkpoint_file, init_checkpoint, make_parser, run_label, run_main,
                     write_figure)

SPLITS = ("test", "valid", "train")
"""Dataset splits the landscape can be evaluated on."""


def parse_args(argv=None):
    parser = make_parser(__doc__)
    parser.add_argument("checkpoint", metavar="CHECKPOINT",
                        help="trained checkpoint .npz (its .json sidecar beside it) or a run folder (its best.npz)")
    parser.add_argument("--grid", type=int, default=11,
                        help="points per axis, odd and at least 3 (GRID x GRID evaluations; default 11)")
    parser.add_argument("--span", type=float, default=1.0,
                        help="alpha and beta run from -SPAN to SPAN, in multiples of the directions (default 1)")
    parser.add_argument("--plane", choices=("weights", "omega-b"), default="weights",
                        help="weights: random directions in all parameters; omega-b: omega against b_offset "
                             "(RF-family models) (default weights)")
    parser.add_argument("--vectors", choices=("filter", "elementwise", "exclude"), default="filter",
                        help="per-neuron vectors (omega, b_offset, tau, biases): normalise each as one filter, "
                             "scale each entry to its trained magnitude, or keep them fixed (default filter)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random directions (default 0)")
    parser.add_argument("--directions", default=None, metavar="FILE",
                        help="reuse directions saved by rfsim landscape --save-directions (their plane, vectors "
                             "and seed apply)")
    parser.add_argument("--split", choices=SPLITS, default="test", help="dataset split (default test)")
    parser.add_argument("--subset", type=int, default=64,
                        help="evaluate the first N sequences of the split; 0 evaluates all (default 64)")
    parser.add_argument("--subset-seed", type=int, default=None,
                        help="draw the --subset sequences at random with this seed instead of taking the first")
    parser.add_argument("--interpolate-from", default=None, metavar="FILE",
                        help="start checkpoint (a = 0) of the interpolation (default: init.npz beside the "
                             "checkpoint, when it exists)")
    parser.add_argument("--no-interpolation", dest="interpolate", action="store_false",
                        help="leave out the interpolation panel")
    parser.add_argument("--interpolation-points", type=int, default=21,
                        help="points on the interpolation line from a = 0 to a = 1 (default 21)")
    parser.add_argument("--metric", choices=("loss", "accuracy", "sop"), default="loss",
                        help="value drawn (default loss)")
    parser.add_argument("--workers", type=int, default=1,
                        help="grid points evaluated at the same time (default 1)")
    add_data_options(parser)
    args = parser.parse_args(argv)
    if args.subset < 0:
        parser.error(f"--subset must be a number of sequences, or 0 for all, got {args.subset}")
    if args.subset_seed is not None and args.subset == 0:
        parser.error("--subset-seed draws a random subset; give its size with --subset N")
    if args.interpolate_from is not None and not args.interpolate:
        parser.error("--interpolate-from and --no-interpolation contradict each other; give one of them")
    return args


def compute(args):
    """Evaluate the landscape of ``args.checkpoint``; return the ``NetworkLandscape``."""
    from rfsim.analysis.landscape import network_landscape
    from rfsim.errors import RFSimWarning

    path = checkpoint_file(args.checkpoint)
    start = None
    if args.interpolate:
        start = args.interpolate_from if args.interpolate_from is not None else init_checkpoint(args.checkpoint)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", RFSimWarning)
        result = network_landscape(
            path, grid=args.grid, span=args.span, plane=args.plane, vectors=args.vectors, seed=args.seed,
            directions=args.directions, split=args.split, subset=args.subset or None,
            subset_seed=args.subset_seed, interpolate_from=start, interpolation_points=args.interpolation_points,
            task=args.task, data_dir=args.data_dir, workers=args.workers)
    for message in dict.fromkeys(str(warning.message) for warning in caught):
        print(f"warning: {message}", file=sys.stderr)
    return result


def build_figure(result, metric="loss"):
    """Build the surface, contour and interpolation panels of a ``NetworkLandscape``."""
    from rfsim.analysis.landscape import axis_labels
    from rfsim.analysis.plots_network import landscape_figure

    chosen = "the whole split" if result.subset is None else f"{result.n_sequences} sequences"
    title = (f"{run_label(result.checkpoint)} ({result.model.upper()}), {result.split} split, {chosen}; "
             f"plane {result.directions.plane}, vectors {result.directions.vectors}")
    figure = landscape_figure(result.grid, result.curve, metric=metric, axis_labels=axis_labels(result.directions),
                              title=title)
    # Wider gaps keep the colour-bar label apart from the y label of the interpolation panel.
    figure.get_layout_engine().set(wspace=0.08)
    return figure


def _main(argv):
    args = parse_args(argv)
    result = compute(args)
    grid = result.grid
    print(f"{run_label(result.checkpoint)}: loss {result.checkpoint_metrics.loss:.5g} at the centre; "
          f"{grid.alpha.size} x {grid.beta.size} grid evaluated in {grid.seconds:.1f} s")
    if result.curve is not None:
        print(f"interpolation from {result.start_checkpoint}: {result.curve.alpha.size} points in "
              f"{result.curve.seconds:.1f} s")
    write_figure(build_figure(result, args.metric), args.out)
    return 0


def main(argv=None):
    """Run the script with command-line arguments ``argv`` (default ``sys.argv[1:]``); return the exit status."""
    return run_main(_main, argv)


if __name__ == "__main__":
    sys.exit(main())
