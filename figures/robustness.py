"""Accuracy and SOP of trained networks against the level of a post-training perturbation.

Regenerates the robustness study of Higuchi, Kairat, Bohte and Otte, "Balanced
Resonate-and-Fire Neurons" (ICML 2024, appendix): a trained network is
perturbed after training and evaluated again, for each level of one
perturbation (``--kind``):

* ``quantize``: weights and biases rounded to multiples of 2^-b for b fractional bits;
* ``input-noise``: Gaussian noise of the given std added to every input value;
* ``weight-noise``: Gaussian noise on the weights, the level times the std of each trained array;
* ``spike-deletion``: each hidden spike deleted with probability p before it reaches its targets.

Each level is repeated ``--repeats`` times with independent draws, seeded
(``rfsim.analysis.robustness.robustness_sweep``). With one CHECKPOINT the
figure is ``rfsim.analysis.plots_network.robustness_figure``: accuracy and SOP
with the mean +- std over repetitions, single repetitions as dots and the
unperturbed network dashed. With several checkpoints (for example BRF, RF and
ALIF) their means +- std share the two panels, one colour each.

The defaults are small: 3 repetitions on the first 64 test sequences; ``--subset 0``
evaluates the whole split.

Example::

    python figures/robustness.py runs/ecg-brf-seed0 runs/ecg-alif-seed0 --kind spike-deletion --out deletion.png
"""

import sys

import numpy as np
from matplotlib.figure import Figure

from _common import add_data_options, checkpoint_file, make_parser, number_list, run_label, run_main, write_figure

KINDS = ("quantize", "input-noise", "weight-noise", "spike-deletion")
"""Perturbations of ``rfsim.analysis.robustness``."""

DEFAULT_LEVELS = {
    "quantize": [2, 3, 4, 6, 8, 12, 16],
    "input-noise": [0.0, 0.1, 0.2, 0.3, 0.5],
    "weight-noise": [0.0, 0.05, 0.1, 0.2, 0.4],
    "spike-deletion": [0.0, 0.05, 0.1, 0.2, 0.4],
}
"""Levels swept when ``--levels`` is not given."""


def parse_args(argv=None):
    parser = make_parser(__doc__)
    parser.add_argument("checkpoints", nargs="+", metavar="CHECKPOINT",
                        help="trained checkpoint .npz files (their .json sidecars beside them) or run folders "
                             "(their best.npz)")
    parser.add_argument("--kind", choices=KINDS, required=True, help="perturbation to sweep")
    parser.add_argument("--levels", type=number_list(), default=None, metavar="LIST",
                        help="comma-separated levels: fractional bits (quantize), noise std (input-noise, "
                             "weight-noise) or deletion probability (spike-deletion); defaults per kind: "
                             + "; ".join(f"{kind} {','.join(f'{level:g}' for level in levels)}"
                                         for kind, levels in DEFAULT_LEVELS.items()))
    parser.add_argument("--repeats", type=int, default=3,
                        help="repetitions per level with independent draws (quantize uses 1) (default 3)")
    parser.add_argument("--seed", type=int, default=0, help="seed of every random draw (default 0)")
    parser.add_argument("--split", choices=("test", "valid", "train"), default="test",
                        help="dataset split (default test)")
    parser.add_argument("--subset", type=int, default=64,
                        help="evaluate the first N sequences of the split; 0 evaluates all (default 64)")
    parser.add_argument("--parameters", choices=("weights", "all"), default="weights",
                        help="parameters that quantize and weight-noise perturb: weights and biases, or also "
                             "omega, b_offset and the time constants (default weights)")
    parser.add_argument("--absolute", dest="noise_scale", action="store_const", const="absolute",
                        default="relative",
                        help="weight-noise: the level is the noise std itself, not a multiple of each array's std")
    parser.add_argument("--clip", action="store_true",
                        help="input-noise: clip the noisy input to the range of the clean inputs")
    add_data_options(parser)
    args = parser.parse_args(argv)
    if args.levels is None:
        args.levels = DEFAULT_LEVELS[args.kind]
    if args.repeats < 1:
        parser.error(f"--repeats must be at least 1, got {args.repeats}")
    if args.seed < 0:
        parser.error(f"--seed must be a non-negative integer, got {args.seed}")
    if args.subset < 0:
        parser.error(f"--subset must be a number of sequences, or 0 for all, got {args.subset}")
    return args


def compute(args):
    """Run the sweep for each checkpoint; return the list of ``RobustnessSweep`` results."""
    from rfsim.analysis.robustness import check_levels, robustness_sweep

    check_levels(args.kind, args.levels)
    sweeps = []
    for checkpoint in args.checkpoints:
        sweeps.append(robustness_sweep(
            checkpoint_file(checkpoint), args.kind, args.levels, repeats=args.repeats, seed=args.seed,
            split=args.split, subset=args.subset or None, parameters=args.parameters,
            noise_scale=args.noise_scale, clip_inputs=args.clip, task=args.task, data_dir=args.data_dir))
    return sweeps


def _comparison_figure(sweeps):
    """Draw accuracy and SOP against the level for several sweeps, one colour per checkpoint."""
    figure = Figure(figsize=(11.0, 4.4), layout="constrained")
    accuracy_axes, sop_axes = figure.subplots(1, 2)
    panels = ((accuracy_axes, "accuracy", "accuracy [%]"),
              (sop_axes, "sop", "SOP [delivered hidden spikes per sequence]"))
    for index, sweep in enumerate(sweeps):
        color = f"C{index % 10}"
        order = np.argsort(sweep.levels, kind="stable")
        label = f"{run_label(sweep.checkpoint)} ({sweep.model.upper()})"
        for axes, metric, _ in panels:
            axes.errorbar(sweep.levels[order], sweep.mean(metric)[order], yerr=sweep.std(metric)[order],
                          marker="o", markersize=4, color=color, capsize=3, label=label)
            axes.axhline(getattr(sweep.baseline, metric), color=color, linestyle="--", linewidth=0.9)
    for axes, _, ylabel in panels:
        axes.set_xlabel(sweeps[0].level_label)
        axes.set_ylabel(ylabel)
    accuracy_axes.legend(fontsize="small")
    first = sweeps[0]
    figure.suptitle(f"{first.kind}: mean +- std (ddof 1) over {first.repeats} repetition(s), {first.split} split, "
                    f"{first.n_sequences} sequences; dashed: unperturbed")
    return figure


def build_figure(sweeps):
    """Build the library's sweep figure for one checkpoint, or the comparison figure for several."""
    from rfsim.analysis.plots_network import robustness_figure

    if len(sweeps) == 1:
        sweep = sweeps[0]
        return robustness_figure(sweep, title=f"{sweep.kind}: {run_label(sweep.checkpoint)} "
                                              f"({sweep.model.upper()}), {sweep.split} split, "
                                              f"{sweep.n_sequences} sequences")
    return _comparison_figure(sweeps)


def _main(argv):
    args = parse_args(argv)
    sweeps = compute(args)
    for sweep in sweeps:
        print("\n".join(sweep.lines()))
    write_figure(build_figure(sweeps), args.out)
    return 0


def main(argv=None):
    """Run the script with command-line arguments ``argv`` (default ``sys.argv[1:]``); return the exit status."""
    return run_main(_main, argv)


if __name__ == "__main__":
    sys.exit(main())
