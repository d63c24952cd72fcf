"""Raster plot of the hidden spikes of one sequence, neurons sorted by omega.

Regenerates Figure 6 of Higuchi, Kairat, Bohte and Otte, "Balanced
Resonate-and-Fire Neurons" (ICML 2024): the hidden spikes of a trained network
on one test sequence, one row per neuron, sorted by angular frequency omega
(by membrane time constant tau_mem for ALIF). Above the raster the input of the
sequence is drawn as spike ticks, and below it the readout o_t of each class
with a note comparing its argmax with the label. The analysis is
``rfsim.analysis.parameters.hidden_raster`` and the figure
``rfsim.analysis.plots_network.raster_figure``; the checkpoint's task data is
loaded as its training run split it.

Example::

    python figures/raster.py runs/ecg-brf-seed0/best.npz --out raster.png --sample 0
"""

import sys

from _common import add_data_options, checkpoint_file, make_parser, run_label, run_main, write_figure

SPLITS = ("test", "valid", "train")
"""Dataset splits a sequence can be taken from."""


def parse_args(argv=None):
    parser = make_parser(__doc__)
    parser.add_argument("checkpoint", metavar="CHECKPOINT",
                        help="trained checkpoint .npz (its .json sidecar beside it) or a run folder (its best.npz)")
    parser.add_argument("--split", choices=SPLITS, default="test", help="split of the sequence (default test)")
    parser.add_argument("--sample", type=int, default=0, help="index of the sequence in the split (default 0)")
    parser.add_argument("--no-input", dest="show_input", action="store_false", help="leave out the input panel")
    parser.add_argument("--no-output", dest="show_output", action="store_false",
                        help="leave out the readout panel")
    add_data_options(parser)
    args = parser.parse_args(argv)
    if args.sample < 0:
        parser.error(f"--sample must be a non-negative sequence index, got {args.sample}")
    return args


def build_figure(raster, show_input=True, show_output=True, title=None):
    """Build the raster figure of a ``SpikeRaster``."""
    from rfsim.analysis.plots_network import raster_figure

    return raster_figure(raster, show_input=show_input, show_output=show_output, title=title)


def _main(argv):
    from rfsim.analysis.parameters import hidden_raster

    args = parse_args(argv)
    path = checkpoint_file(args.checkpoint)
    raster = hidden_raster(path, args.split, args.sample, task=args.task, data_dir=args.data_dir)
    n_steps, n_hidden = raster.spikes.shape
    print(f"{run_label(path)}: {raster.spike_count} hidden spikes of {n_hidden} {raster.model.upper()} neurons in "
          f"{n_steps} steps ({args.split} sequence {args.sample})")
    title = f"{run_label(path)} ({raster.model.upper()}), {args.split} sequence {args.sample}"
    write_figure(build_figure(raster, args.show_input, args.show_output, title), args.out)
    return 0


def main(argv=None):
    """Run the script with command-line arguments ``argv`` (default ``sys.argv[1:]``); return the exit status."""
    return run_main(_main, argv)


if __name__ == "__main__":
    sys.exit(main())
